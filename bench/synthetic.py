"""Synthetic precinct coverages with known vote counts, for scale benchmarks and tests.

A jittered grid: every interior vertex moves by up to a third of a cell, so cells are
irregular quadrilaterals that still tile the square exactly (shared vertices move together).
Built with shapely's vectorised constructors, so a million cells take seconds.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

CRS = "EPSG:3310"  # California Albers: metres, equal area
EXTENT = 200_000.0  # metres: a 200 km square, about the size of LA County


def jittered_grid(n: int, seed: int = 0, extent: float = EXTENT) -> gpd.GeoDataFrame:
    """About ``n`` quadrilateral cells tiling a square, with columns ``A`` and ``B`` (votes)."""
    side = max(1, int(np.sqrt(n) + 0.5))
    step = extent / side
    rng = np.random.default_rng(seed)
    xs, ys = np.meshgrid(np.arange(side + 1) * step, np.arange(side + 1) * step, indexing="ij")
    jitter = rng.uniform(-step / 3, step / 3, size=(2, side + 1, side + 1))
    jitter[:, [0, -1], :] = 0  # keep the outer edge straight
    jitter[:, :, [0, -1]] = 0
    xs, ys = xs + jitter[0], ys + jitter[1]
    i, j = np.meshgrid(np.arange(side), np.arange(side), indexing="ij")
    i, j = i.ravel(), j.ravel()
    corners = [(i, j), (i + 1, j), (i + 1, j + 1), (i, j + 1), (i, j)]
    rings = np.stack([np.stack([xs[a, b], ys[a, b]], axis=-1) for a, b in corners], axis=1)
    cells = shapely.polygons(rings)
    votes = rng.integers(0, 1_000, size=(2, len(cells)))
    return gpd.GeoDataFrame({"A": votes[0], "B": votes[1]}, geometry=cells, crs=CRS)


def voronoi_targets(n: int, seed: int = 1, extent: float = EXTENT) -> gpd.GeoDataFrame:
    """``n`` irregular target polygons (Voronoi cells) covering the same square."""
    rng = np.random.default_rng(seed)
    points = shapely.multipoints(rng.uniform(0, extent, size=(n, 2)))
    square = shapely.box(0, 0, extent, extent)
    cells = shapely.get_parts(shapely.voronoi_polygons(points, extend_to=square))
    cells = shapely.intersection(cells, square)
    return gpd.GeoDataFrame({"name": [f"t{k}" for k in range(len(cells))]}, geometry=cells, crs=CRS)
