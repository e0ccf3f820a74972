"""Primary-to-runoff comparison: how a candidate's share changed, by precinct and by area.

Precincts are matched across the two elections by their result precinct ID. Only precincts
with geometry in both joins are compared, and the votes that could not be compared are
counted (no vote is dropped silently). Neighbourhood figures compare the apportioned shares
of the two elections. This module sits on top, beside :mod:`explorer.elections`; it only
computes the change, and :mod:`explorer.render.swing_view` decides what its map shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from explorer.ask import find_candidate
from explorer.ask.ranking import MIN_COVERAGE
from explorer.elections import Election
from explorer.errors import ExplorerError


@dataclass
class Swing:
    """The change in one candidate's share from ``before`` to ``after``."""

    candidate: str
    before: Election
    after: Election
    precincts: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    summary: dict

    def map(
        self,
        by: str = "precinct",
        tiles: str = "light",
        tolerance: float | None = None,
        min_votes: float = 100,
    ):
        """A diverging folium map of the swing, ``by`` neighbourhood or precinct; areas
        under ``min_votes`` in either election are drawn in their own grey.

        Raises :class:`ExplorerError` for any other ``by`` or unknown ``tiles``."""
        fmap, _ = swing_map(self, by, tiles, tolerance, min_votes)
        return fmap

    def _repr_html_(self) -> str:
        from explorer.render import esc

        s = self.summary
        h2h = ""
        if s.get("rival"):
            h2h = (
                f" (head to head with {esc(s['rival'])}: {s['before_h2h']:.1%} to "
                f"{s['after_h2h']:.1%})"
            )
        return (
            f"<b>{esc(self.candidate)}</b>: {s['before_share']:.1%} in "
            f"{esc(self.before.spec.title)} to {s['after_share']:.1%} in "
            f"{esc(self.after.spec.title)}{h2h}; "
            f"{s['compared_precincts']} precincts compared, "
            f"{s['not_compared_votes_after']:,} runoff votes could not be compared."
        )


def _share(frame: pd.DataFrame, candidate: str) -> pd.Series:
    return frame[candidate] / frame["total"].replace(0, np.nan)


def compare(before: Election, after: Election, candidate: str) -> Swing:
    """Per-precinct and per-neighbourhood change in ``candidate``'s share."""
    name = find_candidate(candidate, after.candidates)
    if name not in before.candidates:
        name_before = find_candidate(candidate, before.candidates)
        if name_before != name:
            raise ExplorerError(f"{candidate!r} names different candidates in the two elections")
    first = before.precincts.set_index("precinct")
    second = after.precincts.set_index("precinct")
    mapped_first = first.index[first["match"] != "none"]
    mapped_second = second.index[second["match"] != "none"]
    common = mapped_second.intersection(mapped_first)
    swing = second.loc[common, ["match", "members", "geometry"]].copy()
    swing["before_votes"] = first.loc[common, name].to_numpy()
    swing["before_total"] = first.loc[common, "total"].to_numpy()
    swing["after_votes"] = second.loc[common, name].to_numpy()
    swing["after_total"] = second.loc[common, "total"].to_numpy()
    swing["before_match"] = first.loc[common, "match"].to_numpy()
    swing["before_share"] = swing["before_votes"] / swing["before_total"].replace(0, np.nan)
    swing["after_share"] = swing["after_votes"] / swing["after_total"].replace(0, np.nan)
    swing["change"] = swing["after_share"] - swing["before_share"]
    swing["turnout_change"] = swing["after_total"] / swing["before_total"].replace(0, np.nan) - 1
    rival = head_to_head_rival(before, after, name)
    if rival:  # share of the two finalists' votes in each election: like with like
        for when, frame in (("before", first), ("after", second)):
            mine, theirs = frame.loc[common, name], frame.loc[common, rival]
            swing[f"{when}_h2h"] = (mine / (mine + theirs).replace(0, np.nan)).to_numpy()
        swing["h2h_change"] = swing["after_h2h"] - swing["before_h2h"]
    swing = gpd.GeoDataFrame(swing.reset_index(), geometry="geometry", crs=second.crs)

    before_areas = before.areas("neighbourhood")
    after_areas = after.areas("neighbourhood")
    areas = after_areas[["name", "geometry"]].copy()
    areas["before_share"] = _share(before_areas, name).to_numpy()
    areas["after_share"] = _share(after_areas, name).to_numpy()
    areas["before_total"] = before_areas["total"].to_numpy()
    areas["after_total"] = after_areas["total"].to_numpy()
    areas["change"] = areas["after_share"] - areas["before_share"]
    areas["turnout_change"] = areas["after_total"] / areas["before_total"].replace(0, np.nan) - 1
    if rival:
        for when, frame in (("before", before_areas), ("after", after_areas)):
            mine, theirs = frame[name].to_numpy(), frame[rival].to_numpy()
            total = mine + theirs
            areas[f"{when}_h2h"] = np.divide(
                mine, total, out=np.full(len(mine), np.nan), where=total > 0
            )
        areas["h2h_change"] = areas["after_h2h"] - areas["before_h2h"]
    for column in ("exact_share", "inferred_share", "coverage"):
        areas[column] = after_areas[column].to_numpy()

    summary = {
        "before_share": float(first[name].sum() / first["total"].sum()),
        "after_share": float(second[name].sum() / second["total"].sum()),
        "compared_precincts": len(common),
        "compared_votes_after": int(swing["after_total"].sum()),
        "not_compared_votes_after": int(second["total"].sum() - swing["after_total"].sum()),
        "not_compared_votes_before": int(first["total"].sum() - swing["before_total"].sum()),
        "inferred_votes_after": int(swing.loc[swing["match"] == "inferred", "after_total"].sum()),
        "rival": rival,
    }
    if rival:
        for when, frame in (("before", first), ("after", second)):
            pair = frame[name].sum() + frame[rival].sum()
            summary[f"{when}_h2h"] = float(frame[name].sum() / pair) if pair else float("nan")
    return Swing(name, before, after, swing, areas, summary)


def head_to_head_rival(before: Election, after: Election, name: str) -> str | None:
    """The other finalist when the later race is a two-way race both ran in, else None."""
    others = [c for c in after.candidates if c != name]
    if len(after.candidates) == 2 and len(others) == 1 and others[0] in before.candidates:
        return others[0]
    return None


#: the ``by`` names :func:`swing_table` and :func:`swing_map` take, and what each means
SWING_BY = {
    **dict.fromkeys(
        ("neighbourhood", "neighborhood", "neighbourhoods", "neighborhoods"), "neighbourhood"
    ),
    **dict.fromkeys(("precinct", "precincts"), "precinct"),
}


def check_by(by: str) -> str:
    """``by`` as ``"neighbourhood"`` or ``"precinct"``; any other name raises
    :class:`ExplorerError` (one line, before any work)."""
    if by not in SWING_BY:
        raise ExplorerError(
            f"unknown --by {by!r} for a swing", hint="use neighbourhood or precinct"
        )
    return SWING_BY[by]


def swing_table(swing: Swing, by: str = "neighbourhood", min_votes: float = 100) -> pd.DataFrame:
    """Areas (or precincts) ordered by the change, largest gain first, in percentage points.

    Areas and precincts under ``min_votes`` in either election, areas under
    :data:`MIN_COVERAGE` of their area covered by mapped precincts, and any left with no
    share to compare are not ranked: ``table.attrs["left_out"]`` lists them by reason
    (reason -> ``"name (votes then votes)"`` strings). The table may be empty."""
    by = check_by(by)
    left_out: dict[str, list[str]] = {}
    label = "name" if by == "neighbourhood" else "precinct"
    places = swing.precincts
    if by == "neighbourhood":
        places = swing.areas[swing.areas["after_total"] > 0.5]
    # with two finalists the head-to-head share is the one figure compared (like with like)
    before, after, change, tag = ("before_share", "after_share", "change", "")
    if "h2h_change" in places:
        before, after, change, tag = ("before_h2h", "after_h2h", "h2h_change", " h2h")
    enough = (places["before_total"] >= min_votes) & (places["after_total"] >= min_votes)
    covered = np.ones(len(places), dtype=bool)
    if by == "neighbourhood":
        covered = ~(places["coverage"].to_numpy(dtype=float) < MIN_COVERAGE)  # as rank does
    comparable = places[change].notna().to_numpy()
    frame = places[enough & covered & comparable]

    def votes(row) -> str:
        return f"{row[label]} ({row['before_total']:,.0f} then {row['after_total']:,.0f})"

    few = places[~enough].sort_values("after_total", ascending=False)
    left_out[f"too few votes (under {min_votes:,.0f} in either)"] = [
        votes(row) for _, row in few.iterrows()
    ]
    left_out[f"under {MIN_COVERAGE:.0%} of the area covered by mapped precincts"] = [
        f"{row[label]} ({row['coverage']:.0%} covered, {row['after_total']:,.0f} votes after)"
        for _, row in places[enough & ~covered].iterrows()
    ]
    what = "for either finalist " if tag else ""
    left_out[f"no votes {what}in one of the two elections"] = [
        votes(row) for _, row in places[enough & covered & ~comparable].iterrows()
    ]
    table = pd.DataFrame(
        {
            label: frame[label].to_numpy(),
            f"before{tag} %": (frame[before] * 100).round(1).to_numpy(),
            f"after{tag} %": (frame[after] * 100).round(1).to_numpy(),
            "change pts": (frame[change] * 100).round(1).to_numpy(),
            "votes after": frame["after_total"].round().astype("int64").to_numpy(),
        }
    )
    table = table.sort_values("change pts", ascending=False).set_index(label)
    table.attrs["left_out"] = {why: names for why, names in left_out.items() if names}
    return table


def swing_map(
    swing: Swing,
    by: str = "precinct",
    tiles: str = "light",
    tolerance: float | None = None,
    min_votes: float = 100,
):
    """A diverging map of the change; returns the folium map and facts about it (drawn by
    :mod:`explorer.render.swing_view`)."""
    from explorer.render import TILES
    from explorer.render.views import choropleth_of

    by = check_by(by)
    if tiles not in TILES:
        raise ExplorerError(f"unknown tiles {tiles!r}", hint="use " + ", ".join(TILES))
    return choropleth_of(swing_parts(swing, by, min_votes), tiles=tiles, tolerance=tolerance)


def swing_parts(swing: Swing, by: str = "precinct", min_votes: float = 100) -> dict:
    """What the swing map shows, as :func:`explorer.render.swing_view.swing_parts` decides
    it from this swing's frames and summary."""
    from explorer.render.swing_view import swing_parts as parts

    by = check_by(by)
    return parts(
        swing.precincts,
        swing.areas,
        swing.summary,
        swing.candidate,
        swing.before,
        swing.after,
        by,
        min_votes,
        min_coverage=MIN_COVERAGE,
    )
