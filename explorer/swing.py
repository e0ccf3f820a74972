"""Primary-to-runoff comparison: how a candidate's share changed, by precinct and by area.

Precincts are matched across the two elections by their result precinct ID. Only precincts
with geometry in both joins are compared, and the votes that could not be compared are
counted (no vote is dropped silently). Neighbourhood figures compare the apportioned shares
of the two elections. This module sits on top, beside :mod:`explorer.elections`.
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
        """A diverging folium map of the swing."""
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


def swing_table(swing: Swing, by: str = "neighbourhood", min_votes: float = 100) -> pd.DataFrame:
    """Areas (or precincts) ordered by the change, largest gain first, in percentage points."""
    left_out: dict[str, list[str]] = {}
    if by.startswith("neigh"):
        areas = swing.areas[swing.areas["after_total"] > 0.5]
        enough = (areas["before_total"] >= min_votes) & (areas["after_total"] >= min_votes)
        covered = ~(areas["coverage"].to_numpy(dtype=float) < MIN_COVERAGE)  # as rank does
        frame = areas[enough & covered]
        left_out[f"too few votes (under {min_votes:,.0f} in either)"] = [
            f"{row['name']} ({row['before_total']:,.0f} then {row['after_total']:,.0f})"
            for _, row in areas[~enough].sort_values("after_total", ascending=False).iterrows()
        ]
        left_out[f"under {MIN_COVERAGE:.0%} of the area covered by mapped precincts"] = [
            f"{row['name']} ({row['coverage']:.0%} covered, {row['after_total']:,.0f} votes after)"
            for _, row in areas[enough & ~covered].iterrows()
        ]
        label = "name"
    else:
        frame = swing.precincts
        label = "precinct"
    # with two finalists the head-to-head share is the one figure compared (like with like)
    before, after, change, tag = ("before_share", "after_share", "change", "")
    if "h2h_change" in frame:
        before, after, change, tag = ("before_h2h", "after_h2h", "h2h_change", " h2h")
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


def _h2h_rows(row, first: str, second: str, name: str, rival: str) -> list[tuple[str, str]]:
    """Tooltip rows of the head-to-head share (of the two finalists' votes) in each election."""
    if pd.isna(row["h2h_change"]):
        return [
            (first, "no votes for either finalist" if pd.isna(row["before_h2h"]) else "-"),
            (second, "no votes for either finalist" if pd.isna(row["after_h2h"]) else "-"),
        ]
    return [
        (first, f"{row['before_h2h']:.1%} head to head"),
        (second, f"{row['after_h2h']:.1%} head to head"),
        ("Change", f"{row['h2h_change'] * 100:+.1f} pts (share of {name} + {rival} votes)"),
        ("Votes", f"{row['before_total']:,.0f} then {row['after_total']:,.0f}"),
    ]


def swing_map(
    swing: Swing,
    by: str = "precinct",
    tiles: str = "light",
    tolerance: float | None = None,
    min_votes: float = 100,
):
    """A diverging map of the change; returns the folium map and facts about it."""
    from explorer.render.views import choropleth_of

    return choropleth_of(swing_parts(swing, by, min_votes), tiles=tiles, tolerance=tolerance)


def swing_parts(swing: Swing, by: str = "precinct", min_votes: float = 100) -> dict:
    """What the swing map shows: features, styling, tooltips, title, headline, dek,
    credit line and context layers (as :func:`explorer.render.views.map_parts`)."""
    from explorer import join, render

    if by.startswith("neigh"):
        features = swing.areas[swing.areas["after_total"] > 0.5].reset_index(drop=True)
        too_few = (features["before_total"] < min_votes) | (features["after_total"] < min_votes)
        label = "name"
        layer_name = "Neighbourhood change (apportioned)"
    else:
        features = swing.precincts
        too_few = features["after_total"] < 1
        label = "precinct"
        layer_name = "Precinct change"
    h2h = "h2h_change" in features
    rival = swing.summary.get("rival")
    if h2h:
        styled = render.style_swing(
            features["h2h_change"],
            swing.candidate,
            f"Change in {swing.candidate}'s share of the votes for {swing.candidate} and "
            f"{rival}, percentage points",
        )
    else:
        styled = render.style_swing(features["change"], swing.candidate)
    styled = render.grey_out(styled, too_few, f"too few votes to compare (under {min_votes:,.0f})")
    if by.startswith("neigh"):  # as the margin map: areas mostly outside are dotted, not called
        from explorer.render.views import OUTSIDE_SHARE, clip_to_district

        features = clip_to_district(features, swing.after.outline)
        outside = (features["in_district"] < OUTSIDE_SHARE) | (
            features["coverage"].to_numpy(dtype=float) < MIN_COVERAGE
        )
        styled = render.grey_out(
            styled,
            outside & ~too_few,
            "mostly outside the district or its mapped precincts (dotted; shown only as clipped)",
            colour=render.OUTSIDE,
        )
    first, second = swing.before.spec.title, swing.after.spec.title
    tips = [
        render._tip(
            str(row[label]),
            [
                *(
                    _h2h_rows(row, first, second, swing.candidate, rival)
                    if h2h
                    else [
                        (first, f"{row['before_share']:.1%} of {row['before_total']:,.0f}"),
                        (second, f"{row['after_share']:.1%} of {row['after_total']:,.0f}"),
                        ("Change", f"{row['change'] * 100:+.1f} pts"),
                    ]
                ),
                *(
                    [("Turnout change", f"{row['turnout_change']:+.0%}")]
                    if pd.notna(row["turnout_change"])
                    else []
                ),
                *(
                    [("Area inside the district", f"{row['in_district']:.0%}")]
                    if "in_district" in row and pd.notna(row["in_district"])
                    else []
                ),
            ],
        )
        for _, row in features.iterrows()
    ]
    s = swing.summary
    title = f"{swing.candidate}: {s['before_share']:.1%} to {s['after_share']:.1%}"
    headline = title
    if h2h:  # a share of all votes in a wide field is not compared with a two-way share
        title = f"Change in {swing.candidate}'s share of the two finalists' votes"
        headline = (
            f"Head to head with {rival}, {swing.candidate} went from {s['before_h2h']:.1%} "
            f"to {s['after_h2h']:.1%}"
        )
    subtitle = (
        f"{swing.before.spec.title} to {swing.after.spec.title}. {s['compared_precincts']} "
        f"precincts compared; {s['not_compared_votes_after']:,} runoff votes lack geography in "
        f"one of the two elections. Runoff ledger: "
        f"{join.describe_ledger(swing.after.ledger_summary)}"
    )
    layers = render.MapLayers(
        swing.after.outline,
        swing.after.neighbourhoods,
        swing.after.freeways,
        votes=swing.precincts.assign(total=swing.precincts["after_total"]),
        min_label_votes=max(min_votes, 0.005 * float(swing.precincts["after_total"].sum())),
    )
    return {
        "features": features,
        "styled": styled,
        "tips": tips,
        "title": title,
        "subtitle": subtitle,
        "layers": layers,
        "layer_name": layer_name,
        "headline": headline,
        "dek": f"{swing.before.spec.title} to {swing.after.spec.title}",
        "credit": render.short_credits(swing.after.credits()),
    }
