"""Ranked tables: areas ordered by one candidate's share, with the honesty fields.

The margin is the ranked candidate's: their share minus the strongest other candidate's
share in that area (``rival`` names that candidate), so it is positive exactly where the
candidate leads, in a two-way race and in a 24-way one alike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from explorer import outputs
from explorer.ranges import round_probability

MIN_VOTES = 100
#: areas whose mapped share of their area (``coverage``) is below this are not ranked: their
#: figure describes a sliver of the area (e.g. the edge of a district), not the area
MIN_COVERAGE = 0.5

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
    min_coverage: float = MIN_COVERAGE,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Areas ranked by ``candidate``'s share, and apart, those too small to call: fewer
    than ``min_votes`` votes, or less than ``min_coverage`` (fraction) of the area covered
    by mapped precincts (areas tables with a ``coverage`` column); the ``why`` column of the
    second table says which.

    ``areas`` has one row per area: ``label``, ``total`` and one vote column per candidate
    (as :func:`explorer.apportion.apportion` or the joined precincts give). Both tables carry
    the candidate's votes, the area's total, share (fraction), ``margin`` (fraction: the
    candidate's share minus the strongest other candidate's, named in ``rival``), winner
    and the honesty and range fields present in ``areas``. Areas with no votes at all are in
    neither table: those in the election (0 votes for every candidate; not areas no mapped
    precinct reaches, ``coverage`` 0) are named in ``too_few.attrs["no_votes"]``.
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
    voted = (table["total"] > 0).to_numpy()
    # no votes: in the returns with 0 for everyone; an area no mapped precinct reaches
    # (coverage 0, e.g. a neighbourhood outside the district) is not in the election at all
    outside = np.zeros(len(table), bool)
    if "coverage" in table:
        outside = table["coverage"].to_numpy(dtype=float) == 0
    no_votes = [str(n) for n in table.loc[~voted & ~outside, label]]
    table = table[voted]
    enough = (table["total"] >= min_votes).to_numpy()
    covered = np.ones(len(table), bool)
    if "coverage" in table:
        covered = ~(table["coverage"].to_numpy(dtype=float) < min_coverage)
    ranked = table[enough & covered].sort_values(["share", "votes"], ascending=False)
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    too_few = table[~(enough & covered)].copy()
    too_few["why"] = np.where(enough[~(enough & covered)], "coverage", "votes")
    too_few = too_few.sort_values("total", ascending=False)
    columns = [label] + [c for c in RANK_COLUMNS if c in ranked]
    from explorer.ranges import add_ranges  # plausible ranges, when areas carry an ensemble

    ranked = add_ranges(ranked[columns].set_index(label), areas, candidate)
    too_few = too_few[[c for c in columns if c != "rank"] + ["why"]].set_index(label)
    ranked.attrs["margin"] = too_few.attrs["margin"] = MARGIN_MEANING
    too_few.attrs.update(min_votes=min_votes, min_coverage=min_coverage, no_votes=no_votes)
    return ranked, too_few


def apart_lines(too_few: pd.DataFrame) -> list[str]:
    """The areas :func:`rank` set apart, as sentences: too few votes, too little covered."""
    min_votes = too_few.attrs.get("min_votes", MIN_VOTES)
    min_coverage = too_few.attrs.get("min_coverage", MIN_COVERAGE)
    why = too_few["why"] if "why" in too_few else pd.Series("votes", index=too_few.index)
    few, thin = too_few[why == "votes"], too_few[why == "coverage"]
    lines = []
    if len(few):
        lines.append(
            f"Too few votes to call (under {min_votes:,.0f}): "
            + ", ".join(f"{n} ({t:,.0f})" for n, t in few["total"].items())
        )
    if len(thin):
        lines.append(
            f"Too little of the area covered by mapped precincts to call (under "
            f"{min_coverage:.0%} of its area): "
            + ", ".join(
                f"{n} ({r['coverage']:.0%} covered, {r['total']:,.0f} votes)"
                for n, r in thin.iterrows()
            )
        )
    empty = too_few.attrs.get("no_votes", [])
    if empty:
        lines.append(f"No votes cast ({len(empty)}): " + ", ".join(empty))
    return lines


#: the ``status`` of a row of :func:`csv_rows`
STATUS = {"votes": "too few votes", "coverage": "too little covered"}
NO_VOTES = "no votes cast"


def csv_rows(ranked: pd.DataFrame, too_few: pd.DataFrame) -> pd.DataFrame:
    """Every area, for a CSV a data desk imports: the ranked rows (``status`` "ranked"),
    then the areas set apart with an empty ``rank`` and ``status`` "too few votes" or "too
    little covered", then the areas with no votes at all (``too_few.attrs["no_votes"]``,
    ``status`` "no votes cast", 0 votes), so the file's votes add up to the mapped votes and
    every area is in it (none left out silently)."""
    why = too_few["why"] if "why" in too_few else pd.Series("votes", index=too_few.index)
    apart = too_few.drop(columns=["why"], errors="ignore").assign(status=why.map(STATUS))
    names = too_few.attrs.get("no_votes", [])
    empty = pd.DataFrame(
        {"votes": 0.0, "total": 0.0, "status": NO_VOTES},
        index=pd.Index(names, name=too_few.index.name or ranked.index.name),
    )
    parts = [ranked.assign(status="ranked"), apart] + ([empty] if len(names) else [])
    rows = pd.concat(parts)
    if "rank" in rows:
        rows["rank"] = rows["rank"].astype("Int64")
    first = [c for c in ("rank", "status") if c in rows]
    return rows[first + [c for c in rows.columns if c not in first]]


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
        shown["p_rank"] = shown["p_rank"].map(round_probability)
    names = {c: f"{c} %" for c in percent if c in shown}
    names.update({"margin": "margin pts v rival", "change": "change pts"})
    return shown.rename(columns=names)


def rank_text(
    ranked: pd.DataFrame,
    too_few: pd.DataFrame,
    fmt: str = "table",
    *,
    title: str,
    election: str,
    candidate: str,
    by: str,
    methods: str,
    ledger: dict,
) -> str:
    """:func:`rank`'s two tables as text in ``fmt``: ``json`` (the ranked rows with the
    areas set apart, the ledger summary and the methods note), ``csv`` (:func:`csv_rows`:
    every area with a ``status``, whole votes), or ``table`` / ``markdown`` (a title line,
    the :func:`rounded` table, the :func:`apart_lines` and the methods note; names in the
    prose escaped for markdown)."""
    name = candidate
    if fmt == "json":
        return outputs.format_frame(
            ranked,
            "json",
            election=election,
            candidate=name,
            by=by,
            margin=f"{name}'s share minus the strongest other candidate's (rival), a fraction",
            too_few=outputs.json.loads(outputs.to_json_records(too_few))["rows"],
            no_votes=too_few.attrs.get("no_votes", []),
            ledger=ledger,
            methods=methods,
        )
    if fmt in ("csv",):
        return outputs.format_frame(outputs.whole_numbers(csv_rows(ranked, too_few)), "csv")
    prose = outputs.markdown_text if fmt == "markdown" else str  # names in the prose too
    return "\n".join(
        [
            prose(
                f"{title}: {by}s ranked by {name}'s share; margin = {name}'s "
                "share minus the strongest other candidate's (rival), in points"
            ),
            outputs.format_frame(rounded(ranked), fmt)
            if len(ranked)
            else prose(
                f"No {by} can be ranked: "
                + (
                    f"all {len(too_few)} {by}s are set apart below (too few votes or too "
                    "little of the area covered); lower --min-votes or --min-coverage to rank them"
                    if len(too_few)
                    else "none holds any of the election's mapped votes"
                )
                + "."
            ),
            *(prose("\n" + line) for line in apart_lines(too_few)),
            "",
            prose(methods),
        ]
    )
