"""Geometry a page or print draws: the coverage simplified with its topology kept, the
context layers (:class:`MapLayers`), and where names go (votes inside, label points)."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from explorer.crs import equal_area_crs_for

METRES_PER_DEGREE = 111_320.0  # of latitude, near enough everywhere
CONTEXT_DECIMALS = 5  # about 1 m, for lines drawn over the choropleth
COORDINATE_DECIMALS = (
    6  # about 0.1 m: coarser rounding can pinch thin precincts and break the coverage
)


def _round(geoms: np.ndarray, decimals: int = CONTEXT_DECIMALS) -> np.ndarray:
    return shapely.transform(geoms, lambda xy: np.round(xy, decimals))


def auto_tolerance(features: int) -> float:
    """Simplification in metres that keeps pages light as maps grow: 15 m up to 1,000
    areas, then growing with the square root of the count (about 31 m for LA County)."""
    return float(round(max(15.0, 15.0 * np.sqrt(features / 1_000)), 1))


def simplify_coverage(frame: gpd.GeoDataFrame, tolerance: float) -> tuple[np.ndarray, bool]:
    """Simplify a polygon coverage keeping shared edges shared (``tolerance`` in metres);
    return lon/lat geometries, rounded as coarsely as keeps the coverage free of gaps and overlaps
    (6 decimals, about 0.1 m; 7 where rounding pinches a thin sliver; else unrounded), and
    whether the result is a valid coverage."""
    # simplify where the map is drawn: a coverage simplified in metres and then reprojected
    # can lose its validity (the projection bends nearly touching edges across each other)
    lonlat = frame.geometry.to_crs("EPSG:4326").values
    if tolerance > 0:
        degrees = tolerance / METRES_PER_DEGREE  # along a meridian; stricter along parallels
        lonlat = shapely.coverage_simplify(lonlat, degrees, simplify_boundary=True)
    for decimals in (COORDINATE_DECIMALS, COORDINATE_DECIMALS + 1):
        rounded = shapely.make_valid(_round(lonlat, decimals))
        if shapely.coverage_is_valid(rounded):
            return rounded, True
    return lonlat, bool(shapely.coverage_is_valid(lonlat))


@dataclass
class MapLayers:
    """What goes on a map besides the choropleth."""

    outline: gpd.GeoDataFrame
    neighbourhoods: gpd.GeoDataFrame | None = None
    freeways: gpd.GeoDataFrame | None = None
    #: votes drawn on the map (features with a ``total``): names go only on areas with
    #: enough of them inside the district, the busiest first
    votes: gpd.GeoDataFrame | None = None
    min_label_votes: float = 100


def votes_in(areas: gpd.GeoDataFrame, votes: gpd.GeoDataFrame) -> np.ndarray:
    """Votes of ``votes`` (polygons with a ``total``) falling in each area, by share of
    area (equal-area CRS); an estimate used only to choose which names to show."""
    crs = equal_area_crs_for(votes)
    a = areas.geometry.to_crs(crs).values
    v = votes.geometry.to_crs(crs).values
    totals = votes["total"].to_numpy(dtype=float)
    own = shapely.area(v)
    tree = shapely.STRtree(v)
    left, right = tree.query(a, predicate="intersects")
    shared = shapely.area(shapely.intersection(a[left], v[right]))
    weight = np.divide(shared, own[right], out=np.zeros_like(shared), where=own[right] > 0)
    return np.bincount(left, weights=weight * totals[right], minlength=len(a))


def label_point(geom) -> shapely.Point:
    """A point well inside the largest part of a (clipped) polygon."""
    from shapely.ops import polylabel

    parts = shapely.get_parts(geom)
    parts = parts[shapely.area(parts) > 0] if len(parts) else parts
    if not len(parts):
        return shapely.point_on_surface(geom)
    largest = parts[np.argmax(shapely.area(parts))]
    try:
        return polylabel(largest, tolerance=0.0002)
    except Exception:  # a degenerate ring: any point inside will do
        return shapely.point_on_surface(largest)
