"""Plausible ranges: how far inferred geography could move each area's figures.

An ensemble of plausible assignments. In each draw, every result precinct whose place is
not fixed by its own ID (classes ``pooled``, ``inferred``, ``base``) is, with probability
``MOVE[class]``, moved with its votes to another unit whose centre lies within
``radius_m`` of its own unit's centre (picked uniformly); otherwise it stays. The moves
are applied as *changes* to the apportioned point estimate (areal weights), so the range
is centred on the figure the table prints, whatever weighting produced it.

The move probabilities are the measured miss rates of the backtest (share of such votes
that did not land in their true neighbourhood on LA County's 2018 layers, see
``explorer backtest``) and the radius is the 75th percentile of how far the misses were
from their true polygon (3.8 km); :func:`coverage` checks the ranges against a known truth.

Each area then has a ``share_low`` / ``share_high`` (the 5th and 95th percentiles of the
candidate's share over the draws, as fractions; in every draw all candidates' votes are
moved together, each clipped at zero, and the share is taken of their drawn sum, so the
shares of one draw add up and, in a two-candidate race, one range is 1 minus the other)
and each rank a ``p_rank`` (share of draws in which the area holds the same rank among the
ranked areas).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from explorer.apportion import area_table
from explorer.crs import equal_area_crs_for

#: probability that a result precinct of this class sits elsewhere (backtest miss rates)
MOVE = {"pooled": 0.5, "inferred": 0.3, "base": 0.15, "exact": 0.05}
RADIUS_M = 3800.0
DRAWS = 200
LEVEL = 0.90


def ensemble(
    features: gpd.GeoDataFrame,
    targets: gpd.GeoDataFrame,
    candidates: list[str],
    *,
    draws: int = DRAWS,
    move: dict | None = None,
    radius_m: float = RADIUS_M,
    seed: int = 0,
) -> np.ndarray:
    """Changes in the apportioned votes, shape (draws, targets, candidates).

    ``features`` is a :func:`explorer.join.join_returns` result with its
    ``attrs["result_votes"]`` (one row per result precinct: ``unit`` row, ``klass``, votes)
    and ``targets`` the areas the votes were apportioned to, in the same row order.
    """
    results = features.attrs.get("result_votes")
    if move is None:
        move = dict(MOVE)
        if results is not None and len(results):
            # the more IDs changed between the election and the layer, the likelier a
            # same-ID precinct covers other ground too: move it with the mismatch rate
            move["exact"] = max(MOVE["exact"], float((results["klass"] != "exact").mean()))
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
    options = {}
    for u in np.unique(unit[movable]):
        near = tree.query(centres[u], predicate="dwithin", distance=radius_m)
        options[u] = near[near != u]
    base = weights[unit[movable]]
    moving_votes = votes[movable]
    for d in range(draws):
        go = rng.random(movable.sum()) < probability[movable]
        for k in np.flatnonzero(go):
            choices = options[unit[movable][k]]
            if not len(choices):
                continue
            target_row = choices[rng.integers(len(choices))]
            shift = weights[target_row] - base[k]
            out[d] += shift[:, None] * moving_votes[k][None, :]
    return out


def attach(areas: gpd.GeoDataFrame, features: gpd.GeoDataFrame, candidates: list[str], **kw):
    """Store the ensemble on ``areas.attrs`` (``ensemble`` array and the area names it is
    keyed by), so that :func:`add_ranges` and the map tooltips can read it."""
    label = areas.attrs.get("target_id", "name")
    areas.attrs["ensemble"] = ensemble(features, areas, candidates, **kw)
    areas.attrs["ensemble_names"] = areas[label].to_numpy() if label in areas else None
    areas.attrs["ensemble_candidates"] = list(candidates)
    return areas


def share_draws(areas: pd.DataFrame, candidate: str, names: pd.Index) -> np.ndarray | None:
    """The candidate's share in each draw for the areas ``names``: (draws, len(names))."""
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
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, drawn[:, :, c] / np.where(total > 0, total, 1), np.nan)


def add_ranges(ranked: pd.DataFrame, areas: pd.DataFrame, candidate: str) -> pd.DataFrame:
    """Add ``share_low``, ``share_high`` (fractions, the central ``LEVEL`` of the draws,
    always including the point share) and ``p_rank`` (probability that the area holds its
    rank) to a ranked table indexed by area name (``explorer.ask.rank`` output)."""
    shares = share_draws(areas, candidate, ranked.index)
    if shares is None or not len(ranked):
        return ranked
    ranked = ranked.copy()
    tail = (1 - LEVEL) / 2 * 100
    low = np.nanpercentile(shares, tail, axis=0)
    high = np.nanpercentile(shares, 100 - tail, axis=0)
    point = ranked["share"].to_numpy(dtype=float)
    ranked["share_low"] = np.minimum(low, point)
    ranked["share_high"] = np.maximum(high, point)
    order = np.argsort(np.argsort(-shares, axis=1, kind="stable"), axis=1) + 1
    ranked["p_rank"] = (order == ranked["rank"].to_numpy()[None, :]).mean(axis=0)
    return ranked


def plausible_text(areas: pd.DataFrame, candidate: str, name: str) -> str:
    """'(plausible 38-46%)' for one area, or '' when there is no ensemble."""
    shares = share_draws(areas, candidate, pd.Index([name]))
    if shares is None:
        return ""
    tail = (1 - LEVEL) / 2 * 100
    low, high = np.nanpercentile(shares[:, 0], [tail, 100 - tail])
    label = areas.attrs.get("target_id", "name")
    row = areas[areas[label] == name].iloc[0]
    if row["total"] > 0:
        point = row[candidate] / row["total"]
        low, high = min(low, point), max(high, point)
    return f"(plausible {low * 100:.0f}-{high * 100:.0f}%)"


def coverage(low: np.ndarray, high: np.ndarray, truth: np.ndarray) -> float:
    """Share of areas whose true share lies within [low, high] (a small tolerance for
    rounding)."""
    inside = (truth >= low - 1e-9) & (truth <= high + 1e-9)
    return float(inside.mean()) if len(inside) else float("nan")
