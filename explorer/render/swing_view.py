"""Stage 5, render: what the swing map shows. :mod:`explorer.swing` computes the change
(per-precinct and per-area frames and a summary); this view picks the features, colours,
tooltips, headline, dek, credit line and context layers that draw it, as
:func:`explorer.render.views.map_parts` does for one election. It takes those frames and
plain values, never the analysis stage's own types, so imports flow one way."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    import geopandas as gpd

    from explorer.elections import Election


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


def swing_parts(
    precincts: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    summary: dict,
    candidate: str,
    before: Election,
    after: Election,
    by: str = "precinct",
    min_votes: float = 100,
    *,
    min_coverage: float,
) -> dict:
    """What the swing map shows: features, styling, tooltips, title, headline, dek,
    credit line and context layers (as :func:`explorer.render.views.map_parts`).

    ``precincts``, ``areas`` and ``summary`` are :func:`explorer.swing.compare`'s frames
    (shares 0-1, changes in shares, ``*_h2h`` columns when the later race has two
    finalists) and summary; ``before``/``after`` give the titles, and ``after`` the
    outline, context layers, ledger and credits. Areas and precincts under ``min_votes``
    in either election are greyed with a key of their own (as the table leaves them out); areas mostly outside the district, or under ``min_coverage`` of
    their area covered by mapped precincts, are dotted and not called.
    """
    from explorer import join, render
    from explorer.render.views import OUTSIDE_SHARE, clip_to_district, own_files, with_own_files

    if by.startswith("neigh"):
        features = areas[areas["after_total"] > 0.5].reset_index(drop=True)
        label = "name"
        layer_name = "Neighbourhood change (apportioned)"
    else:
        features = precincts
        label = "precinct"
        layer_name = "Precinct change"
    # the floor the table keeps: under it in either election, no colour of change
    too_few = (features["before_total"] < min_votes) | (features["after_total"] < min_votes)
    h2h = "h2h_change" in features
    rival = summary.get("rival")
    if h2h:
        styled = render.style_swing(
            features["h2h_change"],
            candidate,
            f"Change in {candidate}'s share of the votes for {candidate} and "
            f"{rival}, percentage points",
        )
    else:
        styled = render.style_swing(features["change"], candidate)
    styled = render.grey_out(styled, too_few, f"too few votes to compare (under {min_votes:,.0f})")
    if by.startswith("neigh"):  # as the margin map: areas mostly outside are dotted, not called
        features = clip_to_district(features, after.outline)
        outside = (features["in_district"] < OUTSIDE_SHARE) | (
            features["coverage"].to_numpy(dtype=float) < min_coverage
        )
        styled = render.grey_out(
            styled,
            outside & ~too_few,
            "mostly outside the district or its mapped precincts (dotted; shown only as clipped)",
            colour=render.OUTSIDE,
        )
    first, second = before.spec.title, after.spec.title
    tips = [
        render._tip(
            str(row[label]),
            [
                *(
                    _h2h_rows(row, first, second, candidate, rival)
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
            f"Too few votes to compare (under {min_votes:,.0f} in either election)" if few else "",
        )
        for (_, row), few in zip(features.iterrows(), too_few.to_numpy())
    ]
    s = summary
    title = f"{candidate}: {s['before_share']:.1%} to {s['after_share']:.1%}"
    headline = title
    if h2h:  # a share of all votes in a wide field is not compared with a two-way share
        title = f"Change in {candidate}'s share of the two finalists' votes"
        headline = (
            f"Head to head with {rival}, {candidate} went from {s['before_h2h']:.1%} "
            f"to {s['after_h2h']:.1%}"
        )
    subtitle = (
        f"{before.spec.title} to {after.spec.title}. {s['compared_precincts']} "
        f"precincts compared; {s['not_compared_votes_after']:,} runoff votes lack geography in "
        f"one of the two elections. Runoff ledger: "
        f"{join.describe_ledger(after.ledger_summary)}"
    )
    layers = render.MapLayers(
        after.outline,
        after.neighbourhoods,
        after.freeways,
        votes=precincts.assign(total=precincts["after_total"]),
        min_label_votes=max(min_votes, 0.005 * float(precincts["after_total"].sum())),
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
        "dek": f"{before.spec.title} to {after.spec.title}",
        "credit": with_own_files(
            render.short_credits(after.credits()), own_files(after, after.credits())
        ),
    }
