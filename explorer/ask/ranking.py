"""Ranked tables: areas ordered by one candidate's share, with the honesty fields.

The margin is the ranked candidate's: their share minus the strongest other candidate's
share in that area (``rival`` names that candidate), so it is positive exactly where the
candidate leads, in a two-way race and in a 24-way one alike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MIN_VOTES = 100

RANGE_COLUMNS = ["share_low", "share_high", "p_rank"]  # from the inference ensemble, if present
HONESTY_COLUMNS = ["exact_share", "inferred_share", "pooled_share", "partial_share", "coverage"]
RANK_COLUMNS = [
    "rank",
    "votes",
    "total",
    "share",
    *RANGE_COLUMNS,
    "margin",
    "rival",
    "winner",
    *HONESTY_COLUMNS,
]
MARGIN_MEANING = "the candidate's share minus the strongest other candidate's (rival)"


def area_candidates(areas: pd.DataFrame, candidate: str) -> list[str]:
    """The candidate columns of an area table (``attrs["candidates"]`` when present)."""
    known = areas.attrs.get("candidates")
    if known:
        return [c for c in known if c in areas]
    skip = {"total", "winner", "winner_share", "margin", *HONESTY_COLUMNS, *RANGE_COLUMNS}
    numeric = [c for c in areas.select_dtypes("number").columns if c not in skip]
    return numeric if candidate in numeric else [*numeric, candidate]


def margins(areas: pd.DataFrame, candidate: str) -> tuple[np.ndarray, np.ndarray]:
    """Per area: the candidate's share minus the strongest rival's (fractions), and the rival."""
    others = [c for c in area_candidates(areas, candidate) if c != candidate]
    total = areas["total"].to_numpy(dtype=float)
    mine = areas[candidate].to_numpy(dtype=float)
    if not others:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(total > 0, mine / total, np.nan), np.full(len(areas), "", object)
    rival_votes = areas[others].to_numpy(dtype=float)
    best = np.argmax(rival_votes, axis=1)
    strongest = rival_votes[np.arange(len(areas)), best]
    with np.errstate(invalid="ignore", divide="ignore"):
        margin = np.where(total > 0, (mine - strongest) / total, np.nan)
    return margin, np.array(others, dtype=object)[best]


def rank(
    areas: pd.DataFrame,
    candidate: str,
    *,
    label: str = "name",
    min_votes: float = MIN_VOTES,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Areas ranked by ``candidate``'s share, and apart, those with too few votes to call.

    ``areas`` has one row per area: ``label``, ``total`` and one vote column per candidate
    (as :func:`explorer.apportion.apportion` or the joined precincts give). Both tables carry
    the candidate's votes, the area's total, share (fraction), ``margin`` (fraction: the
    candidate's share minus the strongest other candidate's, named in ``rival``), winner
    and the honesty and range fields present in ``areas``. Areas with no votes are dropped.
    """
    table = pd.DataFrame(
        {
            label: areas[label].to_numpy(),
            "votes": areas[candidate].to_numpy(dtype=float),
            "total": areas["total"].to_numpy(dtype=float),
        }
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        table["share"] = table["votes"] / table["total"]
    table["margin"], table["rival"] = margins(areas, candidate)
    for column in ["winner", *HONESTY_COLUMNS, *RANGE_COLUMNS]:
        if column in areas:
            table[column] = areas[column].to_numpy()
    table = table[table["total"] > 0]
    enough = table["total"] >= min_votes
    ranked = table[enough].sort_values(["share", "votes"], ascending=False)
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    too_few = table[~enough].sort_values("total", ascending=False)
    columns = [label] + [c for c in RANK_COLUMNS if c in ranked]
    from explorer.ranges import add_ranges  # plausible ranges, when areas carry an ensemble

    ranked = add_ranges(ranked[columns].set_index(label), areas, candidate)
    too_few = too_few[[c for c in columns if c != "rank"]].set_index(label)
    ranked.attrs["margin"] = too_few.attrs["margin"] = MARGIN_MEANING
    return ranked, too_few


PERCENT_COLUMNS = ("share", "share_low", "share_high", *HONESTY_COLUMNS)


def rounded(table: pd.DataFrame) -> pd.DataFrame:
    """Votes to whole numbers, shares as percentages with one decimal, margin in points
    against the strongest rival, for display."""
    shown = table.copy()
    for column in ("votes", "total"):
        if column in shown:
            shown[column] = shown[column].round().astype("int64")
    percent = (*PERCENT_COLUMNS, "before_h2h", "after_h2h")
    for column in (*percent, "margin", "change"):
        if column in shown:
            shown[column] = (shown[column] * 100).round(1)
    if "p_rank" in shown:
        shown["p_rank"] = shown["p_rank"].round(2)
    names = {c: f"{c} %" for c in percent if c in shown}
    names.update({"margin": "margin pts v rival", "change": "change pts"})
    return shown.rename(columns=names)
