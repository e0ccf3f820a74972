"""Plausible ranges: how far inferred geography could move each area's figures.

An ensemble of plausible assignments. In each draw, every result precinct is, with
probability :func:`move_probability` (its class and the election's share of result
precincts without an exact ID), moved with its votes to another unit whose centre lies
within ``RADIUS_M[class]`` of its own unit's centre (picked uniformly); otherwise it stays.
The moves are applied as *changes* to the apportioned point estimate (areal weights).

Calibration (issue #13, measured with ``explorer backtest`` on simulated re-consolidations
of LA County's November 2018 layer around CA-34 and CA-40 at exact-match rates 55-95%, and
on the two real 2018 layers; ``python -m bench.backtest`` re-checks it):

* an ``exact`` precinct covers other ground as often as IDs change: its votes missed their
  true neighbourhood at about half the election's non-exact share (1-3% at 5% non-exact,
  13-26% at 36-45%), and those misses were short (75th percentile 0.3-0.9 km): it moves
  with probability ``EXACT_MOVE_PER_NON_EXACT`` x that share, within 1 km;
* ``pooled``, ``inferred`` and ``base`` precincts missed at the worst region's rates (pooled
  47-90% around CA-34, inferred 43-66%, base under 20%), by 75th percentiles of 1.5-7.8
  km: they move with those probabilities within 6, 5 and 1.5 km.

A misplacement pulls an area's figure towards its surroundings, and the ensemble, drawn
around the joined map, pulls it further the same way, while the truth lies on the *other*
side. So the ensemble measures how far the figure could be off, not in which direction:
each draw's distance from the point estimate is stretched by ``SPREAD`` and also taken the
other way (``point -/+ SPREAD * (draw - point)``), so the range is symmetric around the
figure the table prints. Without the mirror the ranges covered the truth in 63-65% of the
simulated cases around CA-34. ``SPREAD`` was fitted on the backtest: the smallest of 1,
1.25, 1.5, 1.75 and 2 with which simulated cases (seeds 0 and 1 around CA-34, CA-40 and
county-wide) and the two real layers all covered at least 90% was 1.5, but on held-out
draws (seeds 2-4 around CA-34, CA-37 and CA-28) two of nine cases then covered 88.9% and
89.5%; with 1.75 all nine did (92-100%), and so did six fresh cases (seeds 5-6 around
CA-29, CA-44 and CA-33: 91-100%). The price is width: at the flagship's exact-match
rate the ranges are 17-25 points wide on average, because the simulated errors are that
large (mean 1.5-5 points, maximum about 20).

Each area then has a ``share_low`` / ``share_high`` (the 5th and 95th percentiles of the
candidate's share over the draws, as fractions; in every draw all candidates' votes are
moved together, each clipped at zero, and the share is taken of their drawn sum, so the
shares of one draw add up and, in a two-candidate race, one range is 1 minus the other)
and each rank a ``p_rank`` (:func:`rank_probability`: share of draws in which the area
holds the rank it is shown at among the ranked areas, the list the reader sees; tied areas
share the ranks they span). :func:`central` and :func:`rank_probability` are the only
places these are computed: ``rank``, ``ask`` and the tooltips all read them.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from explorer.apportion import area_table
from explorer.crs import equal_area_crs_for

#: probability that a result precinct of this class sits elsewhere (backtest miss rates)
MOVE = {"pooled": 0.65, "inferred": 0.55, "base": 0.2}
#: an exact precinct's move probability per unit of the election's non-exact share
EXACT_MOVE_PER_NON_EXACT = 0.5
#: how far a misplaced precinct of this class may really be (metres, between unit centres)
RADIUS_M = {"exact": 1000.0, "base": 1500.0, "pooled": 6000.0, "inferred": 5000.0}
DRAWS = 200
LEVEL = 0.90
#: the ensemble's distances from the point estimate are stretched by this factor, the
#: smallest of 1, 1.25, 1.5, 1.75, 2 with which every backtest case covered >= 90%
SPREAD = 1.75
#: a true share within this of a range counts as covered (ranges are printed to 0.1 point)
TOLERANCE = 0.0005


def ensemble(
    features: gpd.GeoDataFrame,
    targets: gpd.GeoDataFrame,
    candidates: list[str],
    *,
    draws: int = DRAWS,
    move: dict | None = None,
    radius_m: dict | None = None,
    seed: int = 0,
) -> np.ndarray:
    """Changes in the apportioned votes, shape (draws, targets, candidates).

    ``features`` is a :func:`explorer.join.join_returns` result with its
    ``attrs["result_votes"]`` (one row per result precinct: ``unit`` row, ``klass``, votes)
    and ``targets`` the areas the votes were apportioned to, in the same row order.
    """
    results = features.attrs.get("result_votes")
    if move is None:
        move = move_probability(results)
    radius_m = dict(RADIUS_M) if radius_m is None else radius_m
    mapped = ~(features.geometry.is_empty | features.geometry.isna()).to_numpy()
    crs = equal_area_crs_for(features)
    units = features.to_crs(crs).reset_index(drop=True)
    weights = area_table(units[mapped], targets.to_crs(crs).reset_index(drop=True), "geos")
    weights = weights.toarray() / shapely.area(units.geometry.values[mapped])[:, None]
    row_of = np.full(len(units), -1)
    row_of[mapped] = np.arange(mapped.sum())
    out = np.zeros((draws, len(targets), len(candidates)))
    if results is None or not len(results):
        return out
    unit = row_of[results["unit"].to_numpy()]
    probability = results["klass"].map(move).fillna(0.0).to_numpy()
    movable = (unit >= 0) & (probability > 0)
    if not movable.any():
        return out
    centres = shapely.centroid(units.geometry.values[mapped])
    tree = shapely.STRtree(centres)
    votes = results[candidates].to_numpy(dtype=float)
    rng = np.random.default_rng(seed)
    radius = results["klass"].map(radius_m).fillna(max(radius_m.values())).to_numpy()
    options = {}
    for u, r in set(zip(unit[movable], radius[movable])):
        near = tree.query(centres[u], predicate="dwithin", distance=r)
        options[u, r] = near[near != u]
    base = weights[unit[movable]]
    moving_votes = votes[movable]
    keys = list(zip(unit[movable], radius[movable]))
    for d in range(draws):
        go = rng.random(movable.sum()) < probability[movable]
        for k in np.flatnonzero(go):
            choices = options[keys[k]]
            if not len(choices):
                continue
            target_row = choices[rng.integers(len(choices))]
            shift = weights[target_row] - base[k]
            out[d] += shift[:, None] * moving_votes[k][None, :]
    return out


def move_probability(results: pd.DataFrame | None) -> dict:
    """Per class, the probability that a result precinct sits elsewhere: ``MOVE`` for the
    inferred classes, and for ``exact`` ``EXACT_MOVE_PER_NON_EXACT`` times the share of
    ``results`` (``attrs["result_votes"]``, one row per result precinct with ``klass``)
    without an exact ID (county-wide rows, class ``none``, left out)."""
    move = dict(MOVE)
    if results is not None and len(results):
        placed = results["klass"] != "none"
        non_exact = float((results.loc[placed, "klass"] != "exact").mean()) if placed.any() else 0
        move["exact"] = EXACT_MOVE_PER_NON_EXACT * non_exact
    return move


def mirrored(draws: np.ndarray, point: np.ndarray) -> np.ndarray:
    """The draws' distances from the point estimate stretched by ``SPREAD``, and their
    mirror images about it (``point -/+ SPREAD * (draw - point)``), clipped to [0, 1]:
    shape (2 * draws, ...). The ensemble tells how far a figure could be off, not in which
    direction (see the module docstring)."""
    off = SPREAD * (draws - point)
    return np.clip(np.concatenate([point + off, point - off]), 0, 1)


def interval(draws: np.ndarray, point: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The central ``LEVEL`` of the mirrored ``draws`` (shares, shape (draws, areas)),
    always including ``point``: (low, high)."""
    return central(mirrored(draws, point), point)


def central(shares: np.ndarray, point: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The central ``LEVEL`` of already mirrored ``shares`` (shape (draws, areas)), always
    including ``point`` (shape (areas,)): (low, high).
    The one place a plausible range is computed (rank tables, ``ask``, tooltips and the
    backtest all come here)."""
    tail = (1 - LEVEL) / 2 * 100
    with np.errstate(invalid="ignore"):
        low = np.nanpercentile(shares, tail, axis=0)
        high = np.nanpercentile(shares, 100 - tail, axis=0)
    return np.minimum(low, point), np.maximum(high, point)


def rank_probability(shares: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    """For each area of a ranked list, the share of draws in which it holds the rank it is
    shown at (``ranks``, 1 = the highest share) *among the areas of that list*.

    ``shares`` is (draws, areas) for exactly the areas the reader sees (the probability
    depends on the list: the same area ranked among other areas has another one). Areas
    tied in a draw (mirrored draws clipped at 0% or 100%) share the ranks they span, each
    holding each of them with equal chance, so no tie goes to whichever is listed first; a
    draw without a share (NaN) ranks last."""
    values = np.where(np.isnan(shares), -np.inf, shares)
    ranks = np.asarray(ranks)
    held = np.zeros(values.shape[1])
    for draw in values:
        ascending = np.sort(draw)
        above = len(draw) - np.searchsorted(ascending, draw, side="right")  # strictly higher
        tied = np.searchsorted(ascending, draw, side="right") - np.searchsorted(
            ascending, draw, side="left"
        )
        best, worst = above + 1, above + tied
        held += ((best <= ranks) & (ranks <= worst)) / tied
    return held / len(values) if len(values) else held


def attach(areas: gpd.GeoDataFrame, features: gpd.GeoDataFrame, candidates: list[str], **kw):
    """Store the ensemble on ``areas.attrs`` (``ensemble`` array and the area names it is
    keyed by), so that :func:`add_ranges` and the map tooltips can read it."""
    label = areas.attrs.get("target_id", "name")
    areas.attrs["ensemble"] = ensemble(features, areas, candidates, **kw)
    areas.attrs["ensemble_names"] = areas[label].to_numpy() if label in areas else None
    areas.attrs["ensemble_candidates"] = list(candidates)
    return areas


def share_draws(areas: pd.DataFrame, candidate: str, names: pd.Index) -> np.ndarray | None:
    """The candidate's share in each draw for the areas ``names``, mirrored about the
    point share (:func:`mirrored`): (2 * draws, len(names))."""
    changes = areas.attrs.get("ensemble")
    keyed = areas.attrs.get("ensemble_names")
    if changes is None or keyed is None:
        return None
    position = pd.Index(keyed).get_indexer(names)
    if (position < 0).any():
        return None
    c = areas.attrs["ensemble_candidates"].index(candidate)
    label = areas.attrs.get("target_id", "name")
    own = areas[label].to_numpy() if label in areas else areas.index.to_numpy()
    point = pd.DataFrame(
        {"votes": areas[candidate].to_numpy(), "total": areas["total"].to_numpy()},
        index=pd.Index(own),
    )
    if not point.index.is_unique or not pd.Index(names).isin(point.index).all():
        return None
    point = point.loc[names]
    every = list(areas.attrs["ensemble_candidates"])
    if not set(every) <= set(areas.columns):
        return None
    all_votes = pd.DataFrame(areas[every].to_numpy(dtype=float), index=pd.Index(own)).loc[names]
    # every candidate's votes in the same draw, each clipped at zero, and the total as their
    # sum (plus the votes of no listed candidate, which no draw moves): the shares of one
    # draw add up, so in a two-candidate race one range is exactly 1 minus the other
    drawn = np.clip(all_votes.to_numpy()[None, :, :] + changes[:, position, :], 0, None)
    rest = np.clip(point["total"].to_numpy() - all_votes.to_numpy().sum(axis=1), 0, None)
    total = drawn.sum(axis=2) + rest[None, :]
    point_total = all_votes.to_numpy().sum(axis=1) + rest
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, drawn[:, :, c] / np.where(total > 0, total, 1), np.nan)
        centre = np.where(point_total > 0, all_votes.to_numpy()[:, c] / point_total, np.nan)
    return mirrored(share, centre)


def add_ranges(ranked: pd.DataFrame, areas: pd.DataFrame, candidate: str) -> pd.DataFrame:
    """Add ``share_low``, ``share_high`` (fractions, the central ``LEVEL`` of the draws,
    always including the point share) and ``p_rank`` (probability that the area holds its
    rank) to a ranked table indexed by area name (``explorer.ask.rank`` output)."""
    shares = share_draws(areas, candidate, ranked.index)
    if shares is None or not len(ranked):
        return ranked
    ranked = ranked.copy()
    point = ranked["share"].to_numpy(dtype=float)
    ranked["share_low"], ranked["share_high"] = central(shares, point)
    ranked["p_rank"] = rank_probability(shares, ranked["rank"].to_numpy())
    return ranked


def plausible_text(areas: pd.DataFrame, candidate: str, name: str) -> str:
    """'(plausible 38-46%)' for one area, or '' when there is no ensemble."""
    shares = share_draws(areas, candidate, pd.Index([name]))
    if shares is None:
        return ""
    label = areas.attrs.get("target_id", "name")
    row = areas[areas[label] == name].iloc[0]
    if not row["total"] > 0:
        return ""  # no votes: no share to give a range to
    low, high = central(shares, np.array([row[candidate] / row["total"]]))
    return f"(plausible {low[0] * 100:.0f}-{high[0] * 100:.0f}%)"


def coverage(low: np.ndarray, high: np.ndarray, truth: np.ndarray) -> float:
    """Share of areas whose true share lies within [low, high], give or take
    ``TOLERANCE`` (half the 0.1-point precision tables print)."""
    inside = (truth >= low - TOLERANCE) & (truth <= high + TOLERANCE)
    return float(inside.mean()) if len(inside) else float("nan")
