"""Stage 4, apportion: precinct vote counts onto any target polygons (neighbourhoods...).

Areal weighting, vectorised: a spatial index pairs sources with the targets they touch,
shapely 2 intersects the pairs as arrays, and a sparse source-by-target weight table moves
the counts. Areas are measured in an equal-area CRS. A source's weight in a target is the
share of the source's area (or, with a point weight layer, of its population) that falls in
the target; what falls outside every target is reported, so counts are conserved:

    sum over sources = sum over targets + outside.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from explorer.crs import equal_area_crs_for
from explorer.join import add_result_columns

PARTIAL_TOLERANCE = 1e-6


def intersection_pieces(
    sources: gpd.GeoDataFrame, targets: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source index, target index and piece geometry for every intersecting pair."""
    source_geoms = sources.geometry.values
    target_geoms = targets.geometry.values
    tree = shapely.STRtree(target_geoms)
    source_index, target_index = tree.query(source_geoms, predicate="intersects")
    # most sources lie wholly inside one target: their piece is the source itself, and a
    # prepared containment test is far cheaper than an overlay
    shapely.prepare(target_geoms)
    inside = shapely.contains(target_geoms[target_index], source_geoms[source_index])
    pieces = source_geoms[source_index].copy()
    cut = ~inside
    pieces[cut] = shapely.intersection(
        source_geoms[source_index[cut]], target_geoms[target_index[cut]]
    )
    return source_index, target_index, pieces


def area_table(sources: gpd.GeoDataFrame, targets: gpd.GeoDataFrame) -> sparse.csr_matrix:
    """Sparse sources-by-targets table of intersection areas (in the frames' CRS units,
    so pass equal-area frames), in float64."""
    source_index, target_index, pieces = intersection_pieces(sources, targets)
    return sparse.csr_matrix(
        (shapely.area(pieces), (source_index, target_index)),
        shape=(len(sources), len(targets)),
    )


def _point_weights(
    source_area: np.ndarray,
    pieces: np.ndarray,
    source_index: np.ndarray,
    sources: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
) -> tuple[np.ndarray, np.ndarray]:
    """Piece weights from weighted points: population in piece / population in source.

    Sources holding no weight fall back to area. Returns the weights and a per-source mask
    of which sources used points.
    """
    points = points.to_crs(sources.crs)
    point_geoms = points.geometry.values
    point_weight = points["weight"].to_numpy(dtype=float)
    in_piece = shapely.STRtree(pieces).query(point_geoms, predicate="intersects")
    piece_pop = np.bincount(in_piece[1], weights=point_weight[in_piece[0]], minlength=len(pieces))
    in_source = shapely.STRtree(sources.geometry.values).query(point_geoms, predicate="intersects")
    source_pop = np.bincount(
        in_source[1], weights=point_weight[in_source[0]], minlength=len(sources)
    )
    # a point on a shared edge counts once per polygon it touches: normalise per source
    uses_points = source_pop > 0
    area_weight = shapely.area(pieces) / source_area[source_index]
    with np.errstate(invalid="ignore", divide="ignore"):
        point_weight_piece = piece_pop / source_pop[source_index]
    weights = np.where(uses_points[source_index], point_weight_piece, area_weight)
    return weights, uses_points


def apportion(
    sources: gpd.GeoDataFrame,
    targets: gpd.GeoDataFrame,
    columns: list[str],
    *,
    target_id: str = "name",
    weights: gpd.GeoDataFrame | None = None,
    crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Move the count ``columns`` of ``sources`` onto ``targets``.

    Returns the targets (in their own CRS) with the apportioned counts and honesty fields:
    ``exact_share`` and ``inferred_share`` (share of the target's votes from sources of
    that ``match`` class, when the sources have one), ``partial_share`` (share from
    sources only partly inside this target) and ``coverage`` (fraction of the target's area
    covered by sources). ``attrs["outside"]`` holds the counts that fell in no target,
    ``attrs["method"]`` says how pieces were weighted.
    """
    area_crs = equal_area_crs_for(sources, crs)
    has_geometry = ~(sources.geometry.is_empty | sources.geometry.isna())
    mapped = sources[has_geometry]
    unmapped = sources.loc[~has_geometry, columns].sum()
    src = mapped.to_crs(area_crs).reset_index(drop=True)
    tgt = targets.to_crs(area_crs).reset_index(drop=True)
    source_index, target_index, pieces = intersection_pieces(src, tgt)
    source_area = shapely.area(src.geometry.values)
    piece_area = shapely.area(pieces)
    if weights is not None and len(weights):
        piece_weight, uses_points = _point_weights(source_area, pieces, source_index, src, weights)
        method = (
            f"dasymetric: weighted by {int(uses_points.sum())} of {len(src)} sources' point "
            f"weights; {int((~uses_points).sum())} sources without weight fell back to area"
        )
    else:
        piece_weight = piece_area / source_area[source_index]
        method = "areal weighting (share of each precinct's area, equal-area CRS)"
    matrix = sparse.csr_matrix(
        (piece_weight, (source_index, target_index)), shape=(len(src), len(tgt))
    )
    values = src[columns].to_numpy(dtype=float)
    moved = matrix.T @ values
    inside_share = np.asarray(matrix.sum(axis=1)).ravel()
    outside = values * (1.0 - inside_share)[:, None]

    result = targets.reset_index(drop=True).copy()
    for i, column in enumerate(columns):
        result[column] = moved[:, i]
    total_moved = matrix.T @ values.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if "match" in src.columns:
            for name in ("exact", "inferred"):
                is_class = (src["match"] == name).to_numpy()
                share = (matrix.T @ (values.sum(axis=1) * is_class)) / total_moved
                result[f"{name}_share"] = share
        partial = (inside_share < 1 - PARTIAL_TOLERANCE) | (
            np.bincount(source_index, minlength=len(src)) > 1
        )
        partial_votes = matrix.T @ (values.sum(axis=1) * partial)
        result["partial_share"] = partial_votes / total_moved
        covered = np.bincount(target_index, weights=piece_area, minlength=len(tgt))
        result["coverage"] = np.clip(covered / shapely.area(tgt.geometry.values), 0, 1)
    result = add_result_columns(result, list(columns))
    result.attrs = {
        **result.attrs,
        "outside": pd.Series(outside.sum(axis=0), index=columns),
        "unmapped": unmapped.astype(float),
        "method": method,
        "crs": str(area_crs),
        "target_id": target_id,
    }
    return result


def conservation_gap(sources: pd.DataFrame, result: pd.DataFrame, columns: list[str]) -> float:
    """Largest relative difference between source totals and targets + outside + unmapped
    (sources with no geometry)."""
    before = sources[columns].sum().to_numpy(dtype=float)
    after = (
        result[columns].sum().to_numpy(dtype=float)
        + result.attrs["outside"].to_numpy()
        + result.attrs["unmapped"].to_numpy()
    )
    scale = np.maximum(np.abs(before), 1.0)
    return float(np.max(np.abs(before - after) / scale)) if len(columns) else 0.0
