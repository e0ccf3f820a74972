"""Intent -> numbers and words, through the same tables as ``rank``, ``info`` and ``ledger``.

:func:`answer` turns a :class:`~explorer.ask.intents.Parsed` question into an
:class:`~explorer.ask.facts.Answer`: a headline, the numbers behind it, an optional table,
caveats and the methods note; one function per kind of question, listed in ``ANSWERS``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from explorer import names
from explorer.ask.facts import (
    Answer,
    Race,
    Refusal,
    about,
    area_caveat,
    called,
    check_place,
    count,
    pct,
    place_row,
    plausible,
    precinct_view,
    pts,
    race_caveat,
    votes_in,
    where,
)
from explorer.ask.intents import NEEDS_CANDIDATE, Parsed, kinds_help
from explorer.ask.ranking import MARGIN_MEANING, MIN_COVERAGE, MIN_VOTES, apart_lines, rank

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
            guess = names.best_candidate(parsed.unknown, race.candidates)
            hint = f" Did you mean {guess[0]}?" if guess and guess[1] >= names.SUGGEST_SCORE else ""
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


def _within_note(parsed: Parsed, place: str, race: Race) -> list[str]:
    typed = parsed.place_notes.get(place)
    if not typed:
        return []
    return [
        f"{typed.title()} is not an area of {race.layer_title}; it lies within {place}, "
        f"so this answer is for all of {place}."
    ]


def _winner(parsed: Parsed, race: Race, races, result: Answer, min_votes: float) -> None:
    place = parsed.place
    if place:
        total = check_place(race, place, min_votes)
    votes = votes_in(race, place)
    total = votes.sum()
    first, second = votes.index[0], votes.index[1] if len(votes) > 1 else None
    if total <= 0:
        raise Refusal(f"No votes were counted {where(race, place)} in {race.short}.")
    tie = second is not None and np.isclose(votes[first], votes[second])
    share = votes / total
    rest = ", ".join(f"{c} {pct(share[c])}" for c in votes.index[1:4])
    verb = "won" if len(race.candidates) == 2 or place else "got the most votes"
    if tie:
        result.headline = (
            f"{first} and {second} tied {where(race, place)} in {race.short} "
            f"({pct(share[first])} each)."
        )
    else:
        result.headline = (
            f"{first} {verb} {called(race, place) if place else race.district} in {race.short}"
            if verb == "won"
            else f"{first} got the most votes in {race.short} in {race.district}"
        ) + (
            f": {pct(share[first])} ({about(race, place)}{count(votes[first])} of "
            f"{about(race, place)}{count(total)} votes)" + (f", ahead of {rest}." if rest else ".")
        )
    if re.search(r"majority|(?:more|over) than half|over 50", parsed.text.lower()):
        has_majority = share[first] > 0.5
        result.details.append(
            f"{first} won a majority ({pct(share[first])})."
            if has_majority
            else f"No candidate won a majority: the leader, {first}, had {pct(share[first])}."
        )
    result.numbers = {
        "winner": "tie" if tie else first,
        "winner_share": float(share[first]),
        "winner_votes": float(votes[first]),
        "total": float(total),
        "runner_up": second,
        "runner_up_share": float(share[second]) if second else None,
    }
    if place:
        row, _, _ = place_row(race, place, first, min_votes)
        result.headline = result.headline.replace(
            f"{pct(share[first])} (", f"{pct(share[first])}{plausible(row)} (", 1
        )
        result.details += _within_note(parsed, place, race)
        result.caveats.append(area_caveat(race, row.to_frame().T))
    else:
        result.caveats.append(race_caveat(race))
    result.candidate = result.candidate or (None if tie else first)


def _yes_no(parsed: Parsed, race: Race, races, result: Answer, min_votes: float) -> None:
    candidate = parsed.candidate
    _winner(parsed, race, races, result, min_votes)
    won = result.numbers["winner"] == candidate
    asks_loss = re.search(r"\blos[et]\b", names.normalise(parsed.text)) is not None
    yes = won != asks_loss
    place = parsed.place or race.district
    mine = votes_in(race, parsed.place)
    share = mine[candidate] / mine.sum()
    result.candidate = candidate
    result.numbers.update({"answer": yes, "candidate_share": float(share)})
    if won:
        result.headline = f"{'Yes' if yes else 'No'}: " + result.headline
    else:
        result.headline = (
            f"{'Yes' if yes else 'No'}: {candidate} did not carry {place} in {race.short} "
            f"({pct(share)}{plausible_for(race, parsed.place, candidate, min_votes)}). "
            + result.headline
        )


def plausible_for(race: Race, place: str | None, candidate: str, min_votes: float) -> str:
    """The plausible range of a candidate's share in a place, when the ranges exist."""
    if not place:
        return ""
    row, _, _ = place_row(race, place, candidate, min_votes)
    return plausible(row)


def _candidate_numbers(race: Race, candidate: str, place: str | None, min_votes: float):
    """(row of numbers, position text) for a candidate in a place (via rank) or overall."""
    if place:
        row, status, n_ranked = place_row(race, place, candidate, min_votes)
        if status == "too little covered to rank":
            return row, (
                f"not ranked (only {row['coverage']:.0%} of its area is covered by mapped "
                f"precincts, under {MIN_COVERAGE:.0%})"
            )
        if status != "ranked":
            return row, f"not ranked (under {min_votes:,.0f} votes)"
        return row, f"ranked {int(row['rank'])} of {n_ranked} {race.area_kind}s for {candidate}"
    summary = race.summary()
    votes = summary["votes"]
    others = votes.drop(candidate)
    rival = others.index[0] if len(others) else ""
    total = votes.sum()
    row = pd.Series(
        {
            "votes": votes[candidate],
            "total": total,
            "share": votes[candidate] / total,
            "margin": (votes[candidate] - (others.iloc[0] if len(others) else 0)) / total,
            "rival": rival,
            "winner": votes.index[0],
        }
    )
    position = list(votes.index).index(candidate) + 1
    return row, f"finished {_nth(position)} of {len(votes)} candidates"


def _nth(n: int) -> str:
    words = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", 6: "sixth"}
    if n in words:
        return words[n]
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def _metric(parsed: Parsed, race: Race, races, result: Answer, min_votes: float) -> None:
    candidate, place = parsed.candidate, parsed.place
    if place:
        check_place(race, place, min_votes)
    if candidate is None:  # "what was the margin in Eagle Rock": the winner's
        candidate = votes_in(race, place).index[0]
        result.candidate = candidate
    row, position = _candidate_numbers(race, candidate, place, min_votes)
    share = f"{pct(row['share'])}{plausible(row)}"
    margin = f"{pts(row['margin'])} over {row['rival']}" if row["rival"] else "unopposed"
    there = where(race, place)
    a = about(race, place)
    if parsed.intent == "share":
        result.headline = f"{candidate} took {share} of the vote {there} in {race.short}."
    elif parsed.intent == "votes":
        result.headline = (
            f"{candidate} got {a}{count(row['votes'])} votes {there} in {race.short}, "
            f"{share} of {a}{count(row['total'])}."
        )
    elif parsed.intent == "margin":
        lead = "led" if row["margin"] > 0 else "trailed" if row["margin"] < 0 else "tied"
        result.headline = (
            f"{candidate}'s margin {there} in {race.short}: {margin} ({candidate} {share}; "
            f"{lead} the strongest other candidate)."
        )
    else:
        result.headline = (
            f"{candidate} took {share} {there} in {race.short} ({a}{count(row['votes'])} of "
            f"{a}{count(row['total'])} votes), {position}; margin {margin}; "
            f"winner there: {row['winner']}."
        )
    result.numbers = {
        k: (row[k] if isinstance(row[k], str) else float(row[k]))
        for k in (
            "votes",
            "total",
            "share",
            "margin",
            "rival",
            "winner",
            "rank",
            "share_low",
            "share_high",
            "p_rank",
        )
        if k in row and not (not isinstance(row[k], str) and pd.isna(row[k]))
    }
    result.numbers["margin_means"] = MARGIN_MEANING
    if place:
        result.details += _within_note(parsed, place, race)
        result.caveats.append(area_caveat(race, row.to_frame().T))
    else:
        result.caveats.append(race_caveat(race))


def _ranked(parsed: Parsed, race: Race, races, result: Answer, min_votes: float) -> None:
    candidate = parsed.candidate
    ranked, too_few = rank(race.areas, candidate, label=race.label, min_votes=min_votes)
    if not len(ranked):
        raise Refusal(f"No {race.area_kind} has {min_votes:,.0f} votes or more in {race.short}.")
    thin = bool((too_few.get("why", pd.Series(dtype=object)) == "coverage").any())
    intent = parsed.intent
    worst = intent in ("worst", "bottom")
    n = 1 if intent in ("best", "worst") else min(parsed.n or 5, len(ranked))
    rows = ranked.iloc[::-1].head(n) if worst else ranked.head(n)
    word = "weakest" if worst else "strongest"
    kind = race.area_kind
    if n == 1:
        place, row = rows.index[0], rows.iloc[0]
        nxt = (ranked.iloc[::-1] if worst else ranked).iloc[1:4]
        then = ", ".join(f"{p} ({pct(r['share'])})" for p, r in nxt.iterrows())
        result.headline = (
            f"{candidate} was {word} {where(race, place)} in {race.short}: {pct(row['share'])}"
            f"{plausible(row)} ({about(race, place)}{count(row['votes'])} of "
            f"{count(row['total'])} votes)" + (f"; then {then}." if then else ".")
        )
        result.place = place
    else:
        everything = parsed.n is not None and parsed.n >= len(ranked)
        lead = (
            f"All {n} {kind}s ranked by {candidate}'s share in {race.short}: "
            if everything
            else f"The {n} {kind}s where {candidate} was {word} in {race.short}: "
        )
        result.headline = (
            lead
            + ", ".join(f"{p} ({pct(r['share'])}{plausible(r)})" for p, r in rows.iterrows())
            + "."
        )
        if parsed.n and parsed.n > len(ranked) and parsed.n < 1000:
            result.details.append(
                f"Only {len(ranked)} {kind}s have {min_votes:,.0f} votes or more."
            )
    result.details.append(
        f"Ranked among {len(ranked)} {kind}s with at least {min_votes:,.0f} votes"
        + (f" and at least {MIN_COVERAGE:.0%} of their area covered" if thin else "")
        + (f"; {len(too_few)} others are not ranked." if len(too_few) else ".")
    )
    result.details.extend(apart_lines(too_few) if thin else [])
    result.table = rows
    result.numbers = {"places": list(rows.index), "shares": [float(s) for s in rows["share"]]}
    result.caveats.append(area_caveat(race, rows))


def _won(parsed: Parsed, race: Race, races, result: Answer, min_votes: float) -> None:
    candidate = parsed.candidate
    if candidate is None:
        _won_by_all(race, result, min_votes)
        return
    ranked, too_few = rank(race.areas, candidate, label=race.label, min_votes=min_votes)
    if not len(ranked):
        raise Refusal(f"No {race.area_kind} has {min_votes:,.0f} votes or more in {race.short}.")
    won = ranked[ranked["margin"] < 0] if parsed.lost else ranked[ranked["margin"] > 0]
    majority = re.search(
        r"majority|(?:more|over) than half|over half|above 50", parsed.text.lower()
    )
    if majority:
        won = ranked[ranked["share"] > 0.5]
    overall = race.summary().loc[candidate, "share"]
    above = ranked[ranked["share"] > overall]
    kind = race.area_kind
    result.headline = (
        ("Yes: " if parsed.lost and len(won) and re.match(r"(?i)did\b", parsed.text) else "")
        + ("No: " if parsed.lost and not len(won) and re.match(r"(?i)did\b", parsed.text) else "")
        + f"{candidate} "
        + ("lost" if parsed.lost else "won a majority in" if majority else "won")
        + f" {len(won)} of {len(ranked)} "
        f"{kind}s with at least "
        f"{min_votes:,.0f} votes in {race.short}"
        + (
            ": "
            + ", ".join(f"{p} ({pct(r['share'])}{plausible(r)})" for p, r in won.iterrows())
            + "."
            if len(won)
            else f"; the best was {ranked.index[0]} ({pct(ranked.iloc[0]['share'])})."
        )
    )
    result.details.append(
        f"{candidate} beat their district-wide share ({pct(overall)}) in {len(above)} of them"
        + (": " + ", ".join(above.index) + "." if len(above) else ".")
    )
    result.details.extend(apart_lines(too_few))
    result.table = won if len(won) else ranked.head(5)
    result.numbers = {
        "lost" if parsed.lost else "won": list(won.index),
        "ranked": len(ranked),
        "above_overall": list(above.index),
        "overall_share": float(overall),
    }
    result.caveats.append(area_caveat(race, won if len(won) else ranked))


def _won_by_all(race: Race, result: Answer, min_votes: float) -> None:
    """How many areas each candidate won (areas with at least ``min_votes``)."""
    first = race.candidates[0]
    ranked, too_few = rank(race.areas, first, label=race.label, min_votes=min_votes)
    if not len(ranked):
        raise Refusal(f"No {race.area_kind} has {min_votes:,.0f} votes or more in {race.short}.")
    winners = ranked["winner"].value_counts()
    kind = race.area_kind
    result.headline = (
        f"Of {len(ranked)} {kind}s with at least {min_votes:,.0f} votes in {race.short}: "
        + ", ".join(f"{c} won {n}" for c, n in winners.items())
        + "."
    )
    if len(too_few):
        result.details.append(
            f"{len(too_few)} {kind}s with fewer votes or too little of their area covered "
            "are not counted."
        )
    result.numbers = {"won": {str(c): int(n) for c, n in winners.items()}, "ranked": len(ranked)}
    result.candidate = str(winners.index[0]) if len(winners) else None
    result.caveats.append(area_caveat(race, ranked))


def _closest(parsed: Parsed, race: Race, races, result: Answer, min_votes: float) -> None:
    """Areas by the gap between their first and second candidates, closest first."""
    table = race.areas.set_index(race.label)
    table = table[table["total"] >= min_votes]
    if not len(table) or len(race.candidates) < 2:
        raise Refusal(f"No {race.area_kind} with {min_votes:,.0f} votes or more to compare.")
    votes = table[race.candidates].to_numpy(dtype=float)
    top_two = -np.sort(-votes, axis=1)[:, :2]
    gap = pd.Series((top_two[:, 0] - top_two[:, 1]) / table["total"], index=table.index)
    rows = table.assign(gap=gap).sort_values("gap").head(parsed.n or 5)
    result.headline = (
        f"Closest {race.area_kind}s in {race.short} (gap between the first two candidates): "
        + ", ".join(f"{p} ({r['winner']} by {pts(r['gap'])[1:]})" for p, r in rows.iterrows())
        + "."
    )
    result.place = rows.index[0]
    result.table = rows[["total", "winner", "gap"]].rename(columns={"gap": "margin"})
    result.numbers = {"gaps": {p: float(g) for p, g in rows["gap"].items()}}
    result.details.append(
        f"Among {len(table)} {race.area_kind}s with at least {min_votes:,.0f} votes."
    )
    result.caveats.append(area_caveat(race, rows))


def _precincts(parsed: Parsed, race: Race, races, result: Answer, min_votes: float) -> None:
    table = race.precincts
    unmapped = table["match"] == "none"
    with_votes = table["total"] > 0
    counts = table.loc[with_votes, "winner"].value_counts()
    n = len(table)
    if parsed.candidate:
        c = parsed.candidate
        won = int(counts.get(c, 0))
        won_unmapped = int(((table["winner"] == c) & unmapped).sum())
        result.headline = (
            f"{c} won {won} of {n} precincts in {race.short} (most votes in the precinct)."
        )
        result.numbers = {"won": won, "precincts": n, "won_without_geometry": won_unmapped}
    else:
        result.headline = (
            f"{n} precincts reported in {race.short}: "
            + ", ".join(f"{w} won {k}" for w, k in counts.items() if w != "tie")
            + "."
        )
        result.numbers = {"precincts": n, **{str(k): int(v) for k, v in counts.items()}}
    ties = int(counts.get("tie", 0))
    empty = int((~with_votes).sum())
    result.details.append(
        f"Counted from the returns, including the {int(unmapped.sum())} precincts without "
        "geometry (not on any map)"
        + (
            f", of which {result.numbers['won_without_geometry']} went to {parsed.candidate}"
            if parsed.candidate
            else ""
        )
        + (f"; {ties} tied" if ties else "")
        + (f"; {empty} had no votes" if empty else "")
        + "."
    )
    result.numbers.update({"without_geometry": int(unmapped.sum()), "ties": ties, "empty": empty})
    result.caveats.append("counted from the returns; no geography is involved.")


def _total(parsed: Parsed, race: Race, races, result: Answer, min_votes: float) -> None:
    place = parsed.place
    if parsed.by == "area":  # which area had the most votes
        table = race.areas.set_index(race.label)
        fewest = re.search(r"fewest|lowest|least|smallest", parsed.text.lower()) is not None
        rows = table[table["total"] >= 0.5].sort_values("total", ascending=fewest).head(5)
        result.headline = (
            f"{race.area_kind.capitalize()}s with the {'fewest' if fewest else 'most'} votes in "
            f"{race.short}: "
            + ", ".join(f"{p} ({about(race, p)}{count(t)})" for p, t in rows["total"].items())
            + "."
        )
        result.table = rows[["total", "winner"]]
        result.place = rows.index[0]
        result.numbers = {"totals": {p: float(t) for p, t in rows["total"].items()}}
        result.caveats.append(area_caveat(race, rows))
        if re.search(r"\bturnout\b", parsed.text.lower()):
            result.details.append(
                "Turnout as a rate needs registered voters, which the returns do not carry; "
                "these are votes counted, which also follow how many people live there."
            )
        return
    if place:
        total = check_place(race, place, min_votes)
        row = race.areas[race.areas[race.label] == place]
        result.headline = (
            f"About {count(total)} votes were counted in {place} in {race.short} "
            f"(apportioned from precincts)."
        )
        result.details += _within_note(parsed, place, race)
        result.caveats.append(area_caveat(race, row.set_index(race.label)))
    else:
        total = float(race.precincts["total"].sum())
        result.headline = (
            f"{count(total)} votes were counted in {race.short} in {race.district}, "
            f"in {len(race.precincts)} precincts."
        )
        if race.totals is not None:
            agrees = int(race.totals.sum()) == int(total)
            result.details.append(
                f"The district totals file says {count(race.totals.sum())}"
                + (": they agree." if agrees else ": they DIFFER (see explorer info).")
            )
        result.caveats.append(race_caveat(race))
    if re.search(r"\bturnout\b", parsed.text.lower()):
        result.details.append(
            "Turnout as a rate needs registered voters, which the returns do not carry; "
            "this is the number of votes counted."
        )
    result.numbers = {"total": float(total)}


def _compare_places(parsed: Parsed, race: Race, races, result: Answer, min_votes: float) -> None:
    candidate = parsed.candidate
    pieces, values, refused = [], {}, []
    rows = []
    for place in parsed.places[:2]:
        try:
            check_place(race, place, min_votes)
        except Refusal as why:
            refused.append(str(why))
            continue
        if candidate:
            row, _, _ = place_row(race, place, candidate, min_votes)
            pieces.append(
                f"{place} {pct(row['share'])}{plausible(row)} (about "
                f"{count(row['votes'])} of {count(row['total'])} votes)"
            )
            values[place] = float(row["share"])
            rows.append(row.rename(place))
        else:
            votes = votes_in(race, place)
            pieces.append(
                f"{place}: {votes.index[0]} won with {pct(votes.iloc[0] / votes.sum())} "
                f"of about {count(votes.sum())} votes"
            )
            values[place] = float(votes.sum())
            rows.append(race.areas[race.areas[race.label] == place].set_index(race.label).iloc[0])
    if not values:
        raise Refusal(" ".join(refused))
    if candidate:
        if len(values) == 2:
            (a, va), (b, vb) = values.items()
            better = a if va >= vb else b
            lead = f"{candidate} was stronger in {better} in {race.short}"
            lead += f" ({pts(abs(va - vb))[1:]} apart): "
        else:
            lead = f"Only one of the two places can be called for {candidate} in {race.short}: "
        result.headline = lead + "; ".join(pieces) + "."
    else:
        result.headline = f"In {race.short}: " + "; ".join(pieces) + "."
    result.details += refused
    for place in values:
        result.details += _within_note(parsed, place, race)
    result.numbers = {"shares" if candidate else "totals": values}
    result.caveats.append(area_caveat(race, pd.DataFrame(rows)))


def _compare_candidates(parsed: Parsed, race: Race, races, result: Answer, min_votes: float):
    place = parsed.place
    if place:
        check_place(race, place, min_votes)
    votes = votes_in(race, place)
    total = votes.sum()
    a, b = parsed.candidates[:2]
    share_a, share_b = votes[a] / total, votes[b] / total
    ahead, behind = (a, b) if votes[a] >= votes[b] else (b, a)
    gap = abs(share_a - share_b)
    there = where(race, place)
    result.headline = (
        f"{there[0].upper()}{there[1:]} in {race.short}, {ahead} beat {behind} by "
        f"{pts(gap)[1:]} ({about(race, place)}{count(abs(votes[a] - votes[b]))} votes): "
        f"{a} {pct(share_a)} ({about(race, place)}{count(votes[a])} votes), "
        f"{b} {pct(share_b)} ({about(race, place)}{count(votes[b])})."
    )
    result.numbers = {
        "shares": {a: float(share_a), b: float(share_b)},
        "votes": {a: float(votes[a]), b: float(votes[b])},
        "ahead": ahead,
    }
    if place:
        row = race.areas[race.areas[race.label] == place].set_index(race.label)
        result.details += _within_note(parsed, place, race)
        result.caveats.append(area_caveat(race, row))
    else:
        result.caveats.append(race_caveat(race))


def _position(parsed: Parsed, race: Race, races, result: Answer, min_votes: float) -> None:
    place = parsed.place
    if place:
        check_place(race, place, min_votes)
    votes = votes_in(race, place)
    total = votes.sum()
    order = list(votes.index)
    there = f" in {place}" if place else ""
    if parsed.candidate and (
        parsed.ordinal is None or (parsed.intent == "position" and parsed.ordinal is None)
    ):
        c = parsed.candidate
        k = order.index(c) + 1
    else:
        k = parsed.ordinal or 1
        if k == -1:
            k = len(order)
        if k > len(order):
            raise Refusal(f"Only {len(order)} candidates were on the ballot of {race.short}.")
        c = order[k - 1]
    ahead = f", behind {order[k - 2]} ({pct(votes.iloc[k - 2] / total)})" if k > 1 else ""
    result.headline = (
        f"{c} finished {_nth(k)} of {len(order)}{there} in {race.short} with "
        f"{pct(votes[c] / total)} ({about(race, place)}{count(votes[c])} votes){ahead}."
    )
    result.candidate = c
    result.numbers = {
        "position": k,
        "candidate": c,
        "share": float(votes[c] / total),
        "votes": float(votes[c]),
        "of": len(order),
    }
    if place:
        row = race.areas[race.areas[race.label] == place].set_index(race.label)
        result.caveats.append(area_caveat(race, row))
    else:
        result.caveats.append(race_caveat(race))


def _candidates(parsed: Parsed, race: Race, races, result: Answer, min_votes: float) -> None:
    n = len(race.candidates)
    result.headline = f"{n} candidates were on the ballot of {race.short} in {race.district}."
    if race.totals is not None:
        only = [c for c in race.totals.index if c not in race.candidates]
        if only:
            result.details.append(
                f"The district totals file lists {len(race.totals)}: "
                + ", ".join(only)
                + " appear(s) only there, with no precinct votes."
            )
    summary = race.summary()
    result.details.append(
        "In order: " + ", ".join(f"{c} {pct(s)}" for c, s in summary["share"].items())
    )
    result.numbers = {"candidates": n, "names": list(summary.index)}
    result.caveats.append("counted from the returns; no geography is involved.")


def _swing(parsed: Parsed, race: Race, races, result: Answer, min_votes: float) -> None:
    before = races.get(parsed.other_election or "")
    if before is None:
        raise Refusal(
            f"A change needs a second election of the same contest; only {race.described} "
            "is loaded."
        )
    candidate = parsed.candidate
    finalists = list(race.summary().index[:2])
    if candidate not in finalists:
        raise Refusal(
            f"{candidate} was not one of the two finalists of {race.short} "
            f"({' and '.join(finalists)}): a head-to-head change needs one of them."
        )
    missing = [f for f in finalists if f not in before.candidates]
    if missing:
        raise Refusal(f"{', '.join(missing)} did not run in {before.short}.")
    rival = next(f for f in finalists if f != candidate)
    result.election_title += f"; compared with {before.described}"

    def head_to_head(frame: pd.DataFrame) -> pd.Series:
        pair = frame[candidate] + frame[rival]
        return frame[candidate] / pair.where(pair > 0)

    a, b = before.areas.set_index(before.label), race.areas.set_index(race.label)
    common = a.index.intersection(b.index)
    a, b = a.loc[common], b.loc[common]
    table = pd.DataFrame(
        {
            "before": head_to_head(a),
            "after": head_to_head(b),
            "before_total": a["total"],
            "total": b["total"],
            "inferred_share": b.get("inferred_share"),
        }
    )
    table["change"] = table["after"] - table["before"]
    enough = (table["before_total"] >= min_votes) & (table["total"] >= min_votes)
    table = table[enough].dropna(subset=["change"]).sort_values("change", ascending=False)
    overall_before = head_to_head(before.summary()["votes"].to_frame().T).iloc[0]
    overall_after = head_to_head(race.summary()["votes"].to_frame().T).iloc[0]
    lose = (
        re.search(
            r"\b(?:los[et]|drop\w*|fell|slip\w*|declin\w*|least|worse)\b",
            names.normalise(parsed.text),
        )
        is not None
    )
    result.details.append(
        f"Head to head: {candidate}'s share of the votes for {candidate} and {rival}, in "
        f"{before.short} and in {race.short}, so a many-way share is never compared with a "
        f"two-way one. District-wide: {pct(overall_before)} to {pct(overall_after)} "
        f"({pts(overall_after - overall_before)})."
    )
    if parsed.place:
        check_place(race, parsed.place, min_votes)
        check_place(before, parsed.place, min_votes)
        row = table.loc[parsed.place]
        result.headline = (
            f"In {parsed.place}, {candidate} went from {pct(row['before'])} head to head in "
            f"{before.short} to {pct(row['after'])} in {race.short} ({pts(row['change'])})."
        )
        rows = table.loc[[parsed.place]]
    else:
        n = parsed.n or 5
        rows = table.iloc[::-1].head(n) if lose else table.head(n)
        top = rows.index[0]
        verb = "lost most" if lose else "gained most"
        result.headline = (
            f"{candidate} {verb} head to head in {top}, from {pct(rows.iloc[0]['before'])} in "
            f"{before.short} to {pct(rows.iloc[0]['after'])} in {race.short} "
            f"({pts(rows.iloc[0]['change'])}); then "
            + ", ".join(f"{p} ({pts(r['change'])})" for p, r in rows.iloc[1:].iterrows())
            + "."
        )
        result.place = top
    shown = rows.rename(columns={"before": "before_h2h", "after": "after_h2h"})
    result.table = shown[["before_h2h", "after_h2h", "change", "total", "inferred_share"]]
    result.numbers = {
        "finalists": finalists,
        "before_election": before.name,
        "overall_before": float(overall_before),
        "overall_after": float(overall_after),
        "changes": {p: float(c) for p, c in rows["change"].items()},
    }
    result.caveats.append(area_caveat(race, rows))


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
