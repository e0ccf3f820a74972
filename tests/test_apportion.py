"""Apportionment: conservation on real data and random coverages, agreement with tobler."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.apportion import apportion, area_table, conservation_gap
from explorer.crs import to_equal_area
from explorer.errors import ExplorerError


def test_runoff_onto_neighbourhoods_conserves_every_vote(general):
    result = general.apportion()
    columns = general.candidates
    assert conservation_gap(general.precincts, result, columns) < 1e-9
    total = result[columns].sum().sum() + result.attrs["outside"].sum()
    assert total + result.attrs["unmapped"].sum() == pytest.approx(43179, rel=1e-12)
    assert result.attrs["unmapped"].sum() == general.ledger.loc["total", "unmapped"]
    koreatown = result.set_index("name").loc["Koreatown"]
    assert koreatown["winner"] == "Robert Lee Ahn"
    assert 0 < koreatown["exact_share"] <= 1 and 0.9 < koreatown["coverage"] <= 1


def test_matches_tobler_area_interpolate(general):
    tobler = pytest.importorskip("tobler")
    from tobler.area_weighted import area_interpolate

    sources = to_equal_area(general.precincts[general.precincts["match"] != "none"])
    targets = general.neighbourhoods.to_crs(sources.crs)
    ours = apportion(sources, targets, general.candidates)
    # tobler keeps its area table in float32; given the same float64 table its arithmetic
    # must agree with ours to 1e-9, and its own table to float32 precision
    table = area_table(sources.reset_index(drop=True), targets.reset_index(drop=True))
    same_table = area_interpolate(
        sources, targets, extensive_variables=general.candidates, allocate_total=False, table=table
    )
    theirs = area_interpolate(
        sources, targets, extensive_variables=general.candidates, allocate_total=False
    )
    for column in general.candidates:
        a, b, c = ours[column].to_numpy(), same_table[column].to_numpy(), theirs[column].to_numpy()
        assert np.allclose(a, b, rtol=1e-9, atol=1e-9), column
        assert np.allclose(a, c, rtol=1e-6, atol=1e-4), column
    assert tobler.__version__


def test_point_weights_are_used_and_conserve(general):
    from explorer import loaders

    points = loaders.load_points(
        general._path(
            "sophiagavasheli/rural_health_DSPG/data/source/census/CenPop2020_Mean_TR.txt"
        ),
        weight_field="POPULATION",
        where={"statefp": "06", "countyfp": "037"},
    )
    assert 2000 < len(points) < 3000
    result = general.apportion(weights=points)
    assert result.attrs["method"].startswith("dasymetric")
    assert "point weights" in result.attrs["method"]
    assert conservation_gap(general.precincts, result, general.candidates) < 1e-9
    by_area = general.apportion()
    moved = np.abs(result["total"].to_numpy() - by_area["total"].to_numpy())
    assert moved.max() > 10  # the weights really move votes between neighbourhoods


def test_polygon_weights_follow_the_weight_not_the_area():
    square = gpd.GeoDataFrame(
        {"A": [100.0]}, geometry=[shapely.box(0, 0, 2000, 1000)], crs="EPSG:3310"
    )
    halves = gpd.GeoDataFrame(
        {"name": ["west", "east"]},
        geometry=[shapely.box(0, 0, 1000, 1000), shapely.box(1000, 0, 2000, 1000)],
        crs="EPSG:3310",
    )
    east_only = gpd.GeoDataFrame(
        {"weight": [10.0]}, geometry=[shapely.box(1000, 0, 2000, 1000)], crs="EPSG:3310"
    )
    result = apportion(square, halves, ["A"], weights=east_only).set_index("name")
    assert result.loc["east", "A"] == pytest.approx(100.0)
    assert result.loc["west", "A"] == pytest.approx(0.0)
    assert "polygon weights" in result.attrs["method"]
    nowhere = east_only.assign(geometry=[shapely.box(5000, 0, 6000, 1000)])
    fallback = apportion(square, halves, ["A"], weights=nowhere).set_index("name")
    assert fallback.loc["west", "A"] == pytest.approx(50.0)  # no weight: back to area
    assert "1 without weight fell back to area" in fallback.attrs["method"]


def random_coverage(seed: int, n: int) -> gpd.GeoDataFrame:
    rng = np.random.default_rng(seed)
    points = shapely.multipoints(rng.uniform(0, 10_000, size=(n, 2)))
    cells = shapely.get_parts(
        shapely.voronoi_polygons(points, extend_to=shapely.box(0, 0, 1e4, 1e4))
    )
    cells = shapely.intersection(cells, shapely.box(0, 0, 10_000, 10_000))
    return gpd.GeoDataFrame(geometry=cells, crs="EPSG:3310")


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_sources=st.integers(3, 60),
    n_targets=st.integers(1, 15),
    shift=st.floats(-3000, 3000),
)
def test_property_conservation_on_random_coverages(seed, n_sources, n_targets, shift):
    sources = random_coverage(seed, n_sources)
    rng = np.random.default_rng(seed + 1)
    sources["A"] = rng.integers(0, 1000, len(sources))
    sources["B"] = rng.integers(0, 1000, len(sources))
    targets = random_coverage(seed + 2, n_targets)
    targets["geometry"] = targets.translate(shift, 0)  # part of the sources fall outside
    targets["name"] = [f"t{i}" for i in range(len(targets))]
    result = apportion(sources, targets, ["A", "B"])
    assert conservation_gap(sources, result, ["A", "B"]) < 1e-9
    assert (result.attrs["outside"] >= -1e-6).all()
    if shift == 0:
        assert result.attrs["outside"].abs().max() < 1e-6


def test_compiled_areas_equal_geos_on_the_county_layers(general):
    from explorer import catalog, loaders
    from explorer.apportion import piece_areas

    layer = loaders.load_precincts(
        catalog.local_path(general.spec.precincts.file), "Precinct", crs="EPSG:4326"
    )
    sources = to_equal_area(layer)
    targets = general.neighbourhoods.to_crs(sources.crs)
    fast = piece_areas(sources, targets, engine="numba")
    slow = piece_areas(sources, targets, engine="geos")
    fast_table = dict(zip(zip(fast[0], fast[1]), fast[2]))
    slow_table = dict(zip(zip(slow[0], slow[1]), slow[2]))
    tiny = 1e-6  # m²: pairs that only touch may come out as a speck of area either way
    assert {k for k, v in fast_table.items() if v > tiny} == {
        k for k, v in slow_table.items() if v > tiny
    }
    for key, area in slow_table.items():
        assert abs(fast_table.get(key, 0.0) - area) <= 1e-9 * max(area, 1.0), key


def _polygon(rng, cx, cy, radius, holes: bool):
    angles = np.sort(rng.uniform(0, 2 * np.pi, rng.integers(3, 40)))
    radii = radius * rng.uniform(0.3, 1.0, len(angles))
    shell = np.column_stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)])
    poly = shapely.make_valid(shapely.Polygon(shell))
    if holes:
        poly = poly.difference(shapely.Point(cx, cy).buffer(radius * 0.2, quad_segs=3))
    return shapely.make_valid(poly)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 100_000), holes=st.booleans(), grid=st.booleans())
def test_property_compiled_areas_match_geos(seed, holes, grid):
    from explorer._overlay import intersection_areas

    rng = np.random.default_rng(seed)
    if grid:  # coincident and collinear edges, the degenerate case for clipping
        step = rng.choice([1.0, 0.5, 2.0])
        a = np.array([shapely.box(x, y, x + 1, y + 1) for x in range(4) for y in range(4)])
        b = np.array(
            [
                shapely.box(x, y, x + step, y + step)
                for x in np.arange(0, 4, step)
                for y in np.arange(0, 4, step)
            ]
        )
        if holes:
            a = np.array([shapely.MultiPolygon([g, shapely.box(10, 10, 11, 11)]) for g in a])
    else:
        a = np.array(
            [_polygon(rng, *rng.uniform(0, 100, 2), rng.uniform(5, 40), holes) for _ in range(6)]
        )
        b = np.array(
            [_polygon(rng, *rng.uniform(0, 100, 2), rng.uniform(5, 40), False) for _ in range(6)]
        )
    left, right = np.meshgrid(np.arange(len(a)), np.arange(len(b)), indexing="ij")
    left, right = left.ravel(), right.ravel()
    ours = intersection_areas(a, b, left, right)
    geos = shapely.area(shapely.intersection(a[left], b[right]))
    assert np.allclose(ours, geos, rtol=1e-9, atol=1e-9 * max(1.0, geos.max()))


def _scattered(rng, n, radius, holes):
    return [_polygon(rng, *rng.uniform(0, 100, 2), rng.uniform(*radius), holes) for _ in range(n)]


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 100_000), holes=st.booleans(), multi=st.booleans())
def test_property_small_inside_large_match_geos(seed, holes, multi):
    """Small polygons in, out of and across large ones (holes, several parts, long edges):
    the paths that skip clipping where a boundary misses the common box agree with GEOS."""
    from explorer._overlay import intersection_areas

    rng = np.random.default_rng(seed)
    small = np.array(_scattered(rng, 30, (0.5, 4.0), False))
    large = _scattered(rng, 3, (25.0, 60.0), holes)
    large.append(  # a long thin triangle: edges whose boxes meet many boxes they miss
        shapely.Polygon(
            [(0, 0), (100, rng.uniform(0, 100)), (rng.uniform(0, 100), 100)]
        ).normalize()
    )
    if multi:
        parts = [*shapely.get_parts(large[0]), shapely.box(200, 200, 210, 210)]
        large.append(shapely.MultiPolygon([p for p in parts if p.geom_type == "Polygon"]))
    large = np.array([shapely.make_valid(g) for g in large])
    for a, b in ((small, large), (large, small)):
        left, right = np.meshgrid(np.arange(len(a)), np.arange(len(b)), indexing="ij")
        left, right = left.ravel(), right.ravel()
        ours = intersection_areas(a, b, left, right)
        geos = shapely.area(shapely.intersection(a[left], b[right]))
        assert np.allclose(ours, geos, rtol=1e-9, atol=1e-9 * max(1.0, geos.max()))


def test_ring_arrays_equal_shapely_oriented_ragged_arrays():
    """The compiled orientation gives the arrays shapely.orient_polygons and
    to_ragged_array give (holes, several parts, clockwise input)."""
    from explorer._overlay import ring_arrays

    rng = np.random.default_rng(5)
    geoms = _scattered(rng, 40, (5.0, 30.0), True)
    geoms += [
        shapely.MultiPolygon([g, shapely.box(500, 500, 501, 501)])
        for g in geoms[:10]
        if g.geom_type == "Polygon"
    ]
    geoms += [shapely.Polygon(list(shapely.box(0, 0, 2, 1).exterior.coords)[::-1])]
    geoms = np.array([g for g in geoms if g.geom_type in ("Polygon", "MultiPolygon")])
    coords, ring_offsets, geom_offsets = ring_arrays(geoms)
    _, their_coords, offsets = shapely.to_ragged_array(
        shapely.orient_polygons(geoms, exterior_cw=False)
    )
    their_rings, polygon_offsets, multi_offsets = offsets
    assert np.array_equal(coords, their_coords)
    assert np.array_equal(ring_offsets, their_rings)
    assert np.array_equal(geom_offsets, polygon_offsets[multi_offsets])


def _two_squares():
    from shapely.geometry import box

    sources = gpd.GeoDataFrame(
        {"Biden": [10, 20], "Trump": [5, 5], "total": [15, 25]},
        geometry=[box(0, 0, 1000, 1000), box(1000, 0, 2000, 1000)],
        crs=3310,
    )
    targets = gpd.GeoDataFrame({"name": ["all"]}, geometry=[box(0, 0, 2000, 1000)], crs=3310)
    return sources, targets


@pytest.mark.parametrize("backend", ["local", "dask"])
def test_a_column_named_like_the_computed_total_is_refused(backend):
    sources, targets = _two_squares()
    with pytest.raises(ExplorerError, match="'total' is computed"):
        apportion(sources, targets, ["Biden", "Trump", "total"], backend=backend)


@pytest.mark.parametrize("backend", ["local", "dask"])
def test_an_unknown_column_is_one_error_naming_it_and_the_others(backend):
    sources, targets = _two_squares()
    with pytest.raises(ExplorerError) as error:
        apportion(sources, targets, ["Biden", "Nobody"], backend=backend)
    assert "'Nobody'" in str(error.value) and "Biden, Trump, total" in str(error.value)
