"""Answers across the areas: where a candidate was strongest or weakest (by share or
margin), which areas each candidate won, the closest areas, and the swing between two
elections of one contest."""

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
    check_place,
    count,
    pct,
    plausible,
    pts,
    where,
)
from explorer.ask.intents import Parsed
from explorer.ask.one_place import _nth, range_note
from explorer.ask.ranking import MIN_COVERAGE, apart_lines, rank


def _ranked(parsed: Parsed, race: Race, races, result: Answer, min_votes: float) -> None:
    candidate = parsed.candidate
    ranked, too_few = rank(race.areas, candidate, label=race.label, min_votes=min_votes)
    if not len(ranked):
        raise Refusal(f"No {race.area_kind} has {min_votes:,.0f} votes or more in {race.short}.")
    thin = bool((too_few.get("why", pd.Series(dtype=object)) == "coverage").any())
    intent = parsed.intent
    worst = intent in ("worst", "bottom")
    n = 1 if intent in ("best", "worst") else min(parsed.n or 5, len(ranked))
    kind = race.area_kind
    if parsed.order == "margin":
        _by_margin(candidate, ranked, too_few, n, race, result, min_votes)
        return
    rows = ranked.iloc[::-1].head(n) if worst else ranked.head(n)
    word = "weakest" if worst else "strongest"
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


def _by_margin(candidate, ranked, too_few, n, race: Race, result: Answer, min_votes: float):
    """The areas a candidate won by the widest margin over the strongest rival."""
    kind = race.area_kind
    won = ranked[ranked["margin"] > 0].sort_values("margin", ascending=False)
    if not len(won):
        raise Refusal(f"{candidate} won no {kind} with {min_votes:,.0f} votes or more.")
    rows = won.head(n)
    # a rank probability is that of the rank the reader sees: by share, so only where the
    # margin order is the share order (a two-way race), never beside a margin listing's
    # other order
    same_order = (rows["rank"].to_numpy() == np.arange(1, len(rows) + 1)).all()
    shown = rows if same_order else rows.drop(columns="p_rank", errors="ignore")
    result.headline = (
        f"The {len(rows)} {kind}s {candidate} won by the widest margin in {race.short} "
        "(share minus the strongest rival's): "
        + ", ".join(
            f"{p} (by {pts(r['margin'])[1:]} over {r['rival']}; {pct(r['share'])}{plausible(r)})"
            for p, r in shown.iterrows()
        )
        + "."
    )
    result.details.append(
        f"{candidate} won {len(won)} of {len(ranked)} {kind}s with at least {min_votes:,.0f} "
        "votes" + (f"; {len(too_few)} with fewer are not ranked." if len(too_few) else ".")
    )
    result.table = rows
    result.numbers = {"places": list(rows.index), "margins": [float(x) for x in rows["margin"]]}
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
        f"{candidate} beat their district-wide share ({pct(overall)}) in {len(above)} of the "
        f"{len(ranked)} {kind}s with at least {min_votes:,.0f} votes"
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
    if parsed.place is not None:
        _close_in(parsed.place, table.assign(gap=gap).sort_values("gap"), race, result, min_votes)
        return
    rows = table.assign(gap=gap).sort_values("gap").head(parsed.n or 5)
    result.headline = (
        f"Closest {race.area_kind}s in {race.short} (gap between the first two candidates): "
        + ", ".join(
            f"{p} ({r['winner']} by {pts(r['gap'])[1:]}"
            + (
                f"; {r['winner']} {pct(r[r['winner']] / r['total'])}{note}"
                if (note := range_note(race, p, r["winner"], min_votes))
                else ""
            )
            + ")"
            for p, r in rows.iterrows()
        )
        + "."
    )
    result.place = rows.index[0]
    result.table = rows[["total", "winner", "gap"]].rename(columns={"gap": "margin"})
    result.numbers = {"gaps": {p: float(g) for p, g in rows["gap"].items()}}
    result.details.append(
        f"Among {len(table)} {race.area_kind}s with at least {min_votes:,.0f} votes."
    )
    result.caveats.append(area_caveat(race, rows))


def _close_in(place: str, ordered: pd.DataFrame, race: Race, result: Answer, min_votes: float):
    """Was it close in one place: its gap between the first two, and where that gap ranks
    among the areas (closest first)."""
    check_place(race, place, min_votes)
    row = ordered.loc[place]
    position = int(np.flatnonzero(ordered.index == place)[0]) + 1
    n = len(ordered)
    closest = position <= max(3, int(np.ceil(n / 10)))  # in the closest tenth (at least 3)
    second = race.areas[race.areas[race.label] == place][race.candidates].sum()
    runner = second.sort_values(ascending=False).index[1]
    verdict = "Yes" if closest else "No" if position > n / 2 else "Not especially"
    result.headline = (
        f"{verdict}: {row['winner']} led {runner} by {pts(row['gap'])[1:]} in {place} "
        f"in {race.short}, the {'' if position == 1 else _nth(position) + ' '}closest of {n} "
        f"{race.area_kind}s with at least {min_votes:,.0f} votes ({row['winner']} "
        f"{pct(row[row['winner']] / row['total'])}"
        f"{range_note(race, place, str(row['winner']), min_votes)})."
    )
    result.place = place
    result.numbers = {"gap": float(row["gap"]), "position": position, "ranked": n,
                      "among_closest": bool(closest), "winner": str(row["winner"])}  # fmt: skip
    result.caveats.append(area_caveat(race, ordered.loc[[place]]))


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
    first = rows.index[0]
    ranges = [
        f"{r.short}{note}"
        for r in (before, race)
        if (note := range_note(r, first, candidate, min_votes))
    ]
    if ranges:
        result.details.append(
            f"{candidate}'s share of all votes in {first}, with its plausible range: "
            + "; ".join(ranges)
            + "."
        )
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
