"""What the answers are made of: a :class:`Race` (one election's tables), an :class:`Answer`,
the words for numbers, the caveats (how much rests on inferred geography, plausible ranges)
and the checks on a place (outside the election, too few votes to call).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from explorer.ask.ranking import rank, rounded
from explorer.ranges import round_probability


@dataclass
class Race:
    """One election as the answers see it.

    ``areas``: one row per area (``label``, ``total``, one column per candidate, honesty
    fields); ``precincts``: every result precinct from the returns with ``match`` (``none``
    for precincts without geometry), ``winner`` and ``total``; ``totals``: the district totals
    file, if any.
    """

    name: str
    title: str
    date: dt.date | None
    district: str
    candidates: list[str]
    areas: pd.DataFrame
    precincts: pd.DataFrame
    ledger: dict
    totals: pd.Series | None = None
    label: str = "name"
    area_kind: str = "neighbourhood"
    layer_title: str = "the neighbourhood layer"
    methods: str = ""

    @property
    def short(self) -> str:
        """How an answer names this election: "the primary", "the runoff", or its title."""
        title = self.title.lower()
        if "primary" in title:
            return "the primary"
        if "runoff" in title or "run-off" in title:
            return "the runoff"
        if "general" in title:
            return "the general election"
        return self.title

    @property
    def described(self) -> str:
        when = f", {self.date}" if self.date else ""
        return f"{self.title}{when} ({self.name})"

    def summary(self) -> pd.DataFrame:
        """Candidates by votes (from the returns, every precinct), with shares."""
        votes = self.precincts[self.candidates].sum().sort_values(ascending=False)
        return pd.DataFrame({"votes": votes, "share": votes / votes.sum()})


@dataclass
class Answer:
    """An answer: the parsed question, a headline, the numbers, caveats; ``str()`` reads well.

    ``refused`` is true when the honest answer is that the data cannot say (``reason``).
    """

    question: str
    intent: str | None
    election: str | None
    election_title: str = ""
    candidate: str | None = None
    place: str | None = None
    headline: str = ""
    notice: str = ""  # said first, e.g. "Partial returns: 21 of 195 precincts reporting"
    details: list[str] = field(default_factory=list)
    numbers: dict = field(default_factory=dict)
    table: pd.DataFrame | None = None
    caveats: list[str] = field(default_factory=list)
    refused: bool = False
    reason: str = ""
    parsed: dict = field(default_factory=dict)
    methods: str = ""

    def __str__(self) -> str:
        from explorer.outputs import format_frame

        lines = [self.notice] if self.notice else []
        lines += [self.headline, *self.details]
        if self.table is not None and len(self.table):
            lines += ["", format_frame(rounded(self.table), "table")]
        if self.election_title:
            lines += ["", f"Election: {self.election_title}."]
        lines += [f"How sure: {c}" for c in self.caveats]
        if self.methods and not self.refused:
            lines += ["", self.methods]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """Plain data for JSON: the parsed question, the answer, its numbers and rows."""
        from explorer.outputs import _plain

        rows = []
        if self.table is not None:
            frame = self.table.reset_index()
            rows = [{str(k): _plain(v) for k, v in r.items()} for r in frame.to_dict("records")]
        return {
            "question": self.question,
            "parsed": {
                **self.parsed,
                "intent": self.intent,
                "candidate": self.candidate,
                "place": self.place,
                "election": self.election,
            },
            "refused": self.refused,
            "reason": self.reason,
            "answer": self.headline,
            "notice": self.notice,
            "details": self.details,
            "numbers": {k: _plain(v) for k, v in self.numbers.items()},
            "rows": rows,
            "caveats": self.caveats,
            "election_title": self.election_title,
            "methods": self.methods,
        }


def pct(value: float) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value * 100:.1f}%"


def pts(value: float) -> str:
    return "n/a" if value is None or pd.isna(value) else f"{value * 100:+.1f} pts"


def count(value: float) -> str:
    """Whole votes with separators; a fraction of a vote (an apportioned estimate) as "<1"."""
    return "<1" if 0 < value < 0.5 else f"{value:,.0f}"


class Refusal(Exception):
    """Raised inside an answer when the honest reply is that the data cannot say."""


# --- uncertainty ---------------------------------------------------------------------------


def plausible(row: pd.Series) -> str:
    """ " (plausible 38-46%)" when the inference ranges are in the row, else ""."""
    low, high = row.get("share_low"), row.get("share_high")
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return ""
    text = f" (plausible {low * 100:.0f}-{high * 100:.0f}%"
    p_rank, rank = row.get("p_rank"), row.get("rank")
    if p_rank is not None and not pd.isna(p_rank):
        known = rank is not None and not pd.isna(rank)
        place = f"ranked {rank_words(int(rank))}" if known else "this rank"
        text += f"; {place} with probability {round_probability(p_rank):.2f}"
    return text + ")"


def rank_words(rank: int) -> str:
    """'first', 'second'... 'tenth', then '11th', '22nd', '23rd'."""
    words = [
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
        "ninth",
        "tenth",
    ]
    if 1 <= rank <= len(words):
        return words[rank - 1]
    suffix = "th" if 10 <= rank % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(rank % 10, "th")
    return f"{rank}{suffix}"


def area_caveat(race: Race, rows: pd.DataFrame) -> str:
    """How much of these areas' votes rests on inferred geography, and partial coverage."""
    total = rows["total"].sum()
    parts = []
    if race.area_kind == "precinct":
        match = race.areas.set_index(race.label).loc[rows.index, "match"].to_numpy()
        shares = {
            kind: float(rows.loc[match == kind, "total"].sum() / total) if total else 0.0
            for kind in ("inferred", "none")
        }
        shares["inferred"] += (
            float(rows.loc[match == "pooled", "total"].sum() / total) if total else 0.0
        )
        return (
            f"precinct figures are counted from the returns, not estimated; on the map, "
            f"{pct(shares['inferred'])} of these {count(total)} votes sit on inferred or pooled "
            f"geography and {pct(shares['none'])} have none."
        )
    if "inferred_share" in rows and total > 0:

        def share(column: str) -> float:
            if column not in rows:
                return 0.0
            return float((rows[column].astype(float).fillna(0.0) * rows["total"]).sum() / total)

        inferred, pooled = share("inferred_share"), share("pooled_share")
        parts.append(
            f"{pct(inferred + pooled)} of these {count(total)} votes rest on uncertain "
            f"geography ({pct(inferred)} inferred, {pct(pooled)} in pooled units drawn over "
            f"their neighbours' polygons); {race.area_kind} figures are apportioned estimates"
        )
    if "coverage" in rows:
        thin = rows[rows["coverage"] < 0.9]
        if len(thin):
            parts.append(
                "mapped precincts cover only "
                + ", ".join(f"{pct(c)} of {n}" for n, c in thin["coverage"].items())
                + " (the rest of the area lies outside the election's precincts)"
            )
    return "; ".join(parts) + "." if parts else ""


def race_caveat(race: Race) -> str:
    ledger = race.ledger
    return (
        f"counted from the returns of all {len(race.precincts)} precincts; no geography is "
        f"involved (for maps, {pct(ledger['inferred'] / ledger['votes'])} of the votes rest "
        "on inferred geography)."
        if ledger.get("votes")
        else "counted from the returns."
    )


# --- places --------------------------------------------------------------------------------


def place_row(
    race: Race, place: str, candidate: str, min_votes: float
) -> tuple[pd.Series, str, int]:
    """The ``rank`` row of ``place`` for ``candidate``, its status and the number ranked.

    Raises :class:`Refusal` when the place lies outside the election or has too few votes.
    """
    ranked, too_few = rank(race.areas, candidate, label=race.label, min_votes=min_votes)
    if place in ranked.index:
        return ranked.loc[place], "ranked", len(ranked)
    if race.area_kind == "precinct" and place in too_few.index:  # counted, not estimated
        return too_few.loc[place], "too few to rank", len(ranked)
    check_place(race, place, min_votes)
    if place in too_few.index and too_few.loc[place].get("why") == "coverage":
        # asked about by name: its figures, said to be from a sliver of it; not ranked
        return too_few.loc[place], "too little covered to rank", len(ranked)
    raise Refusal(f"{place} has no votes in {race.short}")  # not reached: check_place refuses


EDGE_COVERAGE = 0.25  # under this share of a place in the district's precincts: a sliver


def check_place(race: Race, place: str, min_votes: float) -> float:
    """The place's total votes; refuse when it is outside the election or too small."""
    rows = race.areas[race.areas[race.label] == place]
    total = float(rows["total"].sum()) if len(rows) else 0.0
    if race.area_kind == "precinct":
        if total <= 0:
            raise Refusal(f"Precinct {place} reported no votes in {race.short}.")
        return total
    if total < 0.5:
        raise Refusal(
            f"{place} is not in {race.district}: none of the votes of {race.short} fall there."
        )
    coverage = float(rows["coverage"].min()) if "coverage" in rows and len(rows) else np.nan
    if total < min_votes and coverage < EDGE_COVERAGE:
        raise Refusal(
            f"{place} is essentially outside {race.district} (about {count(total)} votes of "
            f"{race.short} apportioned from precincts on the edge; "
            + ("under 1%" if coverage < 0.01 else f"{coverage:.0%}")
            + f" of {place} lies in precincts of the district)."
        )
    if total < min_votes:
        raise Refusal(
            f"Only about {count(total)} of {race.district}'s votes in {race.short} fall in "
            f"{place}: too few to call (under {min_votes:,.0f})."
        )
    return total


def votes_in(race: Race, place: str | None) -> pd.Series:
    """Votes per candidate, most first, in a place (apportioned) or the race (returns)."""
    if place is None:
        return race.precincts[race.candidates].sum().astype(float).sort_values(ascending=False)
    row = race.areas[race.areas[race.label] == place].iloc[0]
    return row[race.candidates].astype(float).sort_values(ascending=False)


def called(race: Race, place: str) -> str:
    """A place as an answer names it ("precinct 9000010C" for a precinct)."""
    return f"precinct {place}" if race.area_kind == "precinct" else place


def where(race: Race, place: str | None) -> str:
    return f"in {called(race, place)}" if place else f"in {race.district}"


def about(race: Race, place: str | None) -> str:
    """ "about " for apportioned area figures (estimates); nothing for counts from returns."""
    return "about " if place and race.area_kind != "precinct" else ""


def precinct_view(race: Race) -> Race:
    """The race with its result precincts (every one, from the returns) as the areas."""
    areas = race.precincts.rename(columns={"precinct": "name"})
    areas["inferred_share"] = (areas["match"] == "inferred").astype(float)
    areas.attrs["candidates"] = list(race.candidates)
    return replace(
        race, areas=areas, label="name", area_kind="precinct", layer_title="the result precincts"
    )
