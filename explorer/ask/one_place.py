"""Answers about one place or the whole race: who won, yes or no, a candidate's share,
votes, margin or position, two places or two candidates compared, vote totals, the
candidates and the precincts; and the plausible-range and "lies within" notes they share."""

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
    pts,
    race_caveat,
    votes_in,
    where,
)
from explorer.ask.intents import Parsed
from explorer.ask.ranking import MARGIN_MEANING, MIN_COVERAGE


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


def range_note(race: Race, place: str, candidate: str, min_votes: float) -> str:
    """ " (plausible 38-46%)" for a candidate's share in a place when the ranked table has
    ranges; "" when it has none or the place is too small to rank."""
    try:
        row, _, _ = place_row(race, place, candidate, min_votes)
    except Refusal:
        return ""
    return plausible(row.drop(labels="p_rank", errors="ignore"))


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
    n_unmapped = int(unmapped.sum())
    unmapped_empty = int((unmapped & ~with_votes).sum())
    unmapped_tied = int((unmapped & with_votes & (table["winner"] == "tie")).sum())
    breakdown = []
    if parsed.candidate:
        breakdown.append(f"{result.numbers['won_without_geometry']} went to {parsed.candidate}")
    if unmapped_tied:
        breakdown.append(f"{unmapped_tied} tied")
    if unmapped_empty:
        breakdown.append(f"{unmapped_empty} had no votes")
    result.details.append(
        f"Counted from the returns, including the {n_unmapped} precincts without geometry "
        "(not on any map)"
        + (f", of which {', '.join(breakdown)}" if n_unmapped and breakdown else "")
        + ". Over all "
        + f"{n} precincts: {ties} tied, {empty} had no votes."
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
        ranges = [
            f"{p}: {r['winner']}{note}"
            for p, r in rows.iterrows()
            if r["winner"] in race.candidates
            and (note := range_note(race, p, r["winner"], min_votes))
        ]
        if ranges:
            result.details.append("Winner's share, with its plausible range: " + "; ".join(ranges))
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
    only = [] if race.totals is None else [c for c in race.totals.index if c not in race.candidates]
    on_ballot = n + len(only)
    result.headline = (
        f"{on_ballot} candidates were on the ballot of {race.short} in {race.district}"
        + (
            f" ({n} with precinct returns; {', '.join(only)} "
            + ("appears" if len(only) == 1 else "appear")
            + " only in the totals)."
            if only
            else "."
        )
    )
    summary = race.summary()
    result.details.append(
        "In order: " + ", ".join(f"{c} {pct(s)}" for c, s in summary["share"].items())
    )
    result.numbers = {
        "candidates": on_ballot,
        "with_returns": n,
        "totals_only": only,
        "names": list(summary.index),
    }
    result.caveats.append("counted from the returns; no geography is involved.")
