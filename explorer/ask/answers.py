"""Intent -> numbers and words, through the same tables as ``rank``, ``info`` and ``ledger``.

:func:`answer` turns a :class:`~explorer.ask.intents.Parsed` question into an
:class:`~explorer.ask.facts.Answer`: a headline, the numbers behind it, an optional table,
caveats and the methods note; one function per kind of question, listed in ``ANSWERS``
(those functions live in :mod:`explorer.ask.one_place` and :mod:`explorer.ask.across_areas`).
"""

from __future__ import annotations

import re

from explorer import names
from explorer.ask.across_areas import (
    _closest,
    _ranked,
    _swing,
    _won,
)
from explorer.ask.facts import (
    Answer,
    Race,
    Refusal,
    check_place,
    pct,
    precinct_view,
    votes_in,
)
from explorer.ask.intents import NEEDS_CANDIDATE, Parsed, kinds_help
from explorer.ask.one_place import (
    _candidates,
    _compare_candidates,
    _compare_places,
    _metric,
    _position,
    _precincts,
    _total,
    _winner,
    _yes_no,
)
from explorer.ask.ranking import MIN_VOTES

__all__ = ["ANSWERS", "Answer", "Race", "Refusal", "answer"]

# --- the answers ---------------------------------------------------------------------------


def answer(
    parsed: Parsed,
    races: dict[str, Race],
    *,
    min_votes: float = MIN_VOTES,
) -> Answer:
    """The answer to a parsed question, from the races it may be about (by election name)."""
    race = races.get(parsed.election or "")
    result = Answer(
        question=parsed.text,
        intent=parsed.intent,
        election=parsed.election,
        candidate=parsed.candidate,
        place=parsed.place,
        parsed=parsed.as_dict(),
    )
    if race is not None:
        how = "named in the question" if parsed.election_named else "the default"
        result.election_title = f"{race.described}, {how}"
        result.methods = race.methods
    try:
        if parsed.intent is None:
            shown = parsed.text[:200] + "..." if len(parsed.text) > 200 else parsed.text
            raise Refusal(
                f"cannot answer {shown!r}: I can't tell what is asked. Questions I can answer, "
                "with an example each:\n" + kinds_help()
            )
        if parsed.intent == "unanswerable":
            raise Refusal(
                f"The data can't answer that: {parsed.refusal} (missing: {parsed.missing_data})."
                + (_ei_pointer(parsed) if parsed.missing_data == "demographics" else "")
            )
        if race is None:
            raise Refusal(f"No election {parsed.election!r} is loaded.")
        if parsed.election_unknown and parsed.intent != "swing":
            raise Refusal(
                f"The question names {parsed.election_unknown!r}, but no such election of this "
                f"contest is loaded; loaded: {race.described}."
            )
        if parsed.by == "precinct" and race.area_kind != "precinct":
            race = precinct_view(race)
        if parsed.winner_ref:  # "the winner": whoever won the place or the race
            if parsed.place:
                check_place(race, parsed.place, min_votes)
            parsed.candidates = [votes_in(race, parsed.place).index[0]]
            result.candidate = parsed.candidate
        _check_entities(parsed, race, races, min_votes)
        ANSWERS[parsed.intent](parsed, race, races, result, min_votes)
    except Refusal as refusal:
        result.refused = True
        result.reason = str(refusal)
        result.headline = str(refusal)
    return result


def _ei_pointer(parsed: Parsed) -> str:
    """Where a group-support estimate can be had: ``explorer ei``, with its caveats."""
    from explorer.ask.parse import census_group

    group = census_group(parsed.text) or "GROUP"
    candidate = parsed.candidate.split()[-1] if parsed.candidate else "NAME"
    return (
        f" An estimate with its 95% interval and caveats: explorer ei {parsed.election} "
        f"--groups {group} --candidates {candidate} (ecological inference on census "
        "demographics; needs the ei extra)."
    )


def _check_entities(parsed: Parsed, race: Race, races: dict[str, Race], min_votes: float):
    for person in parsed.off_ballot:
        elsewhere = [r for r in races.values() if r is not race and person in r.candidates]
        text = f"{person} was not on the ballot of {race.short} ({race.name})."
        for other in elsewhere:
            share = other.summary().loc[person, "share"]
            text += f" {person} ran in {other.short} ({other.name}): {pct(share)} of the vote."
        raise Refusal(text)
    wanted = 2 if parsed.intent == "compare_candidates" else 1
    optional = parsed.intent in ("margin", "won", "precincts") and parsed.unknown
    needs = parsed.intent in NEEDS_CANDIDATE or parsed.intent == "compare_candidates" or optional
    if needs and len(parsed.candidates) < wanted:
        if parsed.unknown and not _looks_like_place(parsed):
            guesses = names.suggest_candidates(parsed.unknown, race.candidates)
            hint = f" Did you mean {' or '.join(guesses)}?" if guesses else ""
            raise Refusal(
                f"No candidate called {parsed.unknown.title()!r} was on the ballot of "
                f"{race.short} in {race.district}.{hint} Candidates: {', '.join(race.candidates)}."
            )
        raise Refusal("Which candidate? Candidates: " + ", ".join(race.candidates) + ".")
    if parsed.unknown and not parsed.places and _looks_like_place(parsed):
        voted = race.areas[race.areas["total"] >= 0.5] if len(race.areas) else race.areas
        close = names.suggest_places(parsed.unknown, voted[race.label].astype(str).tolist())
        where_not = (
            f". Did you mean {', '.join(close)}?"
            if close
            else f", so it is not in {race.district} as far as this data goes."
        )
        raise Refusal(f"{parsed.unknown.title()!r} is not a place in {race.layer_title}{where_not}")
    if parsed.intent in ("compare_places",) and len(parsed.places) < 2:
        raise Refusal("Compare which two places? Name both.")


def _looks_like_place(parsed: Parsed) -> bool:
    text = names.aliases().expand(parsed.text)
    first = parsed.unknown.split()[0]
    return (
        re.search(rf"\b(?:in|at|of|won|win|carry|carried|took|take)\s+(?:the\s+)?{first}\b", text)
        is not None
    )


ANSWERS = {
    "winner": _winner,
    "yes_no": _yes_no,
    "result": _metric,
    "share": _metric,
    "votes": _metric,
    "margin": _metric,
    "best": _ranked,
    "worst": _ranked,
    "top": _ranked,
    "bottom": _ranked,
    "won": _won,
    "precincts": _precincts,
    "total": _total,
    "compare_places": _compare_places,
    "compare_candidates": _compare_candidates,
    "position": _position,
    "candidates": _candidates,
    "swing": _swing,
    "closest": _closest,
}
