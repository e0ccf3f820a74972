"""Stage 5, ask: ranked tables and questions in plain words.

``rank`` orders areas by a candidate's share and carries the honesty fields; ``ask`` turns a
question as a reporter types it into an intent and entities (:mod:`explorer.ask.parse`) and
answers it (:mod:`explorer.ask.answers`) through the same tables, with what the data cannot
say refused in words. The engine needs only the names of the areas (a neighbourhood layer,
or the precincts when there is none), so any election works, not only the catalog's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from explorer.ask.answers import Answer, Race, answer
from explorer.ask.intents import KINDS, Parsed, kinds_help
from explorer.ask.parse import Ballot, parse
from explorer.ask.ranking import MIN_VOTES, RANK_COLUMNS, rank, rounded
from explorer.errors import ExplorerError
from explorer.names import find_candidate, find_place

if TYPE_CHECKING:
    from explorer.elections import Election

__all__ = [
    "KINDS",
    "MIN_VOTES",
    "RANK_COLUMNS",
    "Answer",
    "Ballot",
    "Parsed",
    "Race",
    "answer",
    "ask",
    "ballot",
    "find_candidate",
    "find_place",
    "kinds_help",
    "parse",
    "race",
    "rank",
    "rounded",
]


def ballot(election: Election) -> Ballot:
    """What the parser needs to know of an election: name, title, date, candidates."""
    spec = election.spec
    return Ballot(spec.name, spec.title, spec.date, tuple(election.candidates))


def district_label(election: Election) -> str:
    """How answers name the contest's area: the boundary ID ("CA-34") or the contest."""
    spec = election.spec
    if spec.boundary_id and spec.boundary_id != "district":
        return spec.boundary_id
    if spec.office and spec.district:
        return f"{spec.office} district {spec.district}"
    return f"the area of {spec.title}"


def race(election: Election, min_votes: float = MIN_VOTES, **options) -> Race:
    """An election's numbers for the answers: areas by neighbourhood (or by precinct when the
    election has no neighbourhood layer), every result precinct, ledger, totals, methods."""
    spec = election.spec
    by = "neighbourhood" if spec.neighbourhoods is not None else "precinct"
    areas = election.areas(by, **options) if by == "neighbourhood" else election.areas(by)
    precincts = result_precincts(election)
    layer = spec.neighbourhoods
    return Race(
        name=spec.name,
        title=spec.title,
        date=spec.date,
        district=district_label(election),
        candidates=list(election.candidates),
        areas=areas.drop(columns="geometry"),
        precincts=precincts,
        ledger=election.ledger_summary,
        totals=election.totals,
        area_kind=by,
        layer_title=(layer.title or "the neighbourhood layer") if layer else "the precincts",
        methods=election.methods_note(areas, by),
    )


def result_precincts(election: Election) -> pd.DataFrame:
    """Every result precinct of the returns (``precinct``, candidates, ``total``, ``winner``)
    with the ``match`` class of the map unit that holds it (``none``: no geometry)."""
    from explorer.join import add_result_columns

    units = election.precincts
    held = units["results"] if "results" in units else units["precinct"]
    match = {
        result: kind
        for results, kind in zip(held.astype(str), units["match"])
        for result in results.split(",")
        if result
    }
    table = election.wide.rename_axis("precinct").reset_index()
    table["match"] = table["precinct"].map(match).fillna("none")
    return add_result_columns(table, list(election.candidates))


def place_names(election: Election) -> list[str]:
    """The names the ask engine can look places up by: the neighbourhood layer's, else the
    result precinct IDs."""
    if election.spec.neighbourhoods is not None:
        return election.neighbourhoods["name"].astype(str).tolist()
    return [str(p) for p in election.wide.index]


def ask(
    election: Election,
    question: str,
    *,
    others: list[Election] = (),
    min_votes: float = MIN_VOTES,
    **options,
) -> Answer:
    """Answer ``question`` about ``election`` (or, when the text names it, one of ``others``:
    other elections of the same contest, such as the primary before a runoff).

    ``options`` go to :meth:`explorer.elections.Election.apportion` (weights, backend).
    Returns an :class:`Answer`; a question the data cannot answer gives ``refused=True``
    with the reason, never an exception.
    """
    everyone = {e.name: e for e in [election, *others]}
    parsed = parse(
        question,
        [ballot(e) for e in everyone.values()],
        place_names(election),
        election.name,
        precincts=list(election.wide.index),
    )
    if parsed.intent == "group_support" and parsed.election in everyone:
        return group_support(everyone[parsed.election], parsed)
    wanted = [n for n in (parsed.election, parsed.other_election) if n in everyone]
    needs_data = parsed.intent not in (None, "unanswerable")
    races = {n: race(everyone[n], min_votes, **options) for n in wanted} if needs_data else {}
    for name in everyone:  # other ballots, for "ran in the primary instead"
        if name not in races and parsed.off_ballot and needs_data:
            races[name] = race(everyone[name], min_votes, **options)
    if not needs_data:
        races = {parsed.election: _described(everyone[parsed.election])}
    return answer(parsed, races, min_votes=min_votes)


def _described(election: Election) -> Race:
    """A race without numbers, for refusals that only need to name the election."""
    import pandas as pd

    spec = election.spec
    return Race(spec.name, spec.title, spec.date, district_label(election), [],
                pd.DataFrame(), pd.DataFrame(), {})  # fmt: skip


def _ei_refused(result: Answer, group: str, error: ExplorerError) -> Answer:
    """``result`` as a refusal: the returns alone can't say how a group voted and
    ecological inference could not run (PyEI missing, too few areas, a bad candidate...)."""
    result.refused = True
    result.reason = result.headline = (
        f"The returns alone can't say how {group} voters voted, and ecological "
        f"inference could not run: {error}."
    )
    return result


def group_support(election: Election, parsed: Parsed) -> Answer:
    """How a census group voted for a candidate, by ecological inference on the census
    demographics (:func:`explorer.ei.answer_group_support`): the estimate, its 95% credible
    interval, diagnostics and caveats. Refused, naming what is missing, without PyEI."""
    from explorer import ei

    spec = election.spec
    how = "named in the question" if parsed.election_named else "the default"
    result = Answer(
        question=parsed.text,
        intent=parsed.intent,
        election=spec.name,
        election_title=f"{_described(election).described}, {how}",
        candidate=parsed.candidate,
        parsed=parsed.as_dict(),
    )
    if parsed.candidate is None:
        return _group_support_all(election, parsed, result)
    try:
        if parsed.candidate not in election.candidates:
            raise ExplorerError(f"{parsed.candidate} was not on the ballot of {spec.title}")
        text, table = ei.answer_group_support(election, parsed.group, parsed.candidate)
    except ExplorerError as error:
        return _ei_refused(result, parsed.group, error)
    lines = text.splitlines()
    result.headline = lines[0]
    result.details = [line for line in lines[1:] if not line.startswith("Caveat: ")]
    result.caveats = [
        line.removeprefix("Caveat: ") for line in lines if line.startswith("Caveat: ")
    ]
    result.table = table.set_index("candidate")
    row = result.table.loc[parsed.candidate]
    result.numbers = {k: float(row[k]) for k in ("mean", "lower", "upper", "rhat", "ess")}
    result.numbers["group"] = str(row["group"])
    result.numbers["converged"] = not table.attrs.get("facts", {}).get("warnings")
    return result


def _group_support_all(election: Election, parsed: Parsed, result: Answer) -> Answer:
    """ "How did white voters vote" with no candidate: both finalists of a two-candidate race
    from one run, else ask which candidate."""
    from explorer import ei

    candidates = list(election.candidates)
    if len(candidates) != 2:
        result.refused = True
        result.reason = result.headline = (
            f"Which candidate? {election.spec.title} had {len(candidates)} candidates; ask how "
            f'{parsed.group} voters voted for one of them (e.g. "did {parsed.group} voters back '
            f'{election.summary().index[0]}?"). Candidates: {", ".join(candidates)}.'
        )
        return result
    try:
        ei.require()
        key = ei.demo.normalise_group(parsed.group)
        groups = [key, *[g for g in ("hispanic", "asian") if g != key]]
        run = ei.run(election, groups, candidates, progressbar=False)
        answers = [
            ei.answer_group_support(election, parsed.group, c, result=run) for c in candidates
        ]
    except ExplorerError as error:
        return _ei_refused(result, parsed.group, error)
    heads = [f"{c}: {text.splitlines()[0]}" for c, (text, _) in zip(candidates, answers)]
    result.headline = " ".join(heads)
    lines = answers[0][0].splitlines()[1:]
    result.details = [line for line in lines if not line.startswith("Caveat: ")]
    result.caveats = [
        line.removeprefix("Caveat: ") for line in lines if line.startswith("Caveat: ")
    ]
    result.table = answers[0][1].drop_duplicates("candidate").set_index("candidate")
    result.numbers = {
        str(c): {k: float(result.table.loc[c, k]) for k in ("mean", "lower", "upper")}
        for c in candidates
    }
    result.numbers["group"] = key
    result.numbers["converged"] = not run.warnings
    return result
