"""The dask backend gives exactly the local numbers, on the real LA layers and synthetic ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bench.synthetic import jittered_grid, voronoi_targets
from explorer import catalog, loaders
from explorer.apportion import apportion
from explorer.cli import main
from explorer.crs import to_equal_area

distributed = pytest.importorskip("distributed")

COMPARED = ["A", "B", "total", "coverage", "partial_share"]  # at least these, and every other


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local:
        yield local.scheduler_address


def assert_identical(local, remote, tolerance: float = 0.0):
    """Every output column (counts, total, shares, partial_share, coverage, winner...) and
    every attr (outside, overlap, unmapped, notes, method, crs...) of the two results
    equal: bit for bit, or numbers within ``tolerance`` (relative, of a vote)."""
    assert list(local.columns) == list(remote.columns)
    for column in COMPARED:
        assert column not in local or column in local.columns
    for column in local.columns:
        if column == local.geometry.name:
            assert local.geometry.geom_equals_exact(remote.geometry, 0).all()
            continue
        a, b = local[column], remote[column]
        if pd.api.types.is_numeric_dtype(a) and pd.api.types.is_float_dtype(a):
            if tolerance:
                assert np.allclose(a, b, rtol=tolerance, atol=tolerance, equal_nan=True), column
            else:
                assert np.array_equal(a.to_numpy(), b.to_numpy(), equal_nan=True), column
        else:
            assert a.equals(b), column
    assert set(local.attrs) == set(remote.attrs)
    for key, value in local.attrs.items():
        other = remote.attrs[key]
        if isinstance(value, pd.Series):
            if tolerance:
                assert np.allclose(value, other, rtol=tolerance, atol=tolerance), key
            else:
                assert value.equals(other), key
            assert (value.to_numpy() >= 0).all() and not np.signbit(value.to_numpy()).any(), key
        else:
            assert value == other, key


def test_dask_equals_local_on_the_la_county_layers(cluster, general):
    layer = loaders.load_precincts(
        catalog.local_path(general.spec.precincts.file), "Precinct", crs="EPSG:4326"
    )
    layer = to_equal_area(layer)
    rng = np.random.default_rng(7)
    layer["A"] = rng.integers(0, 900, len(layer))
    layer["B"] = rng.integers(0, 900, len(layer))
    hoods = general.neighbourhoods
    local = apportion(layer, hoods, ["A", "B"])
    remote = apportion(layer, hoods, ["A", "B"], backend="dask", scheduler=cluster, npartitions=6)
    assert_identical(local, remote)
    assert local["A"].sum() + local.attrs["outside"]["A"] == pytest.approx(layer["A"].sum())


@pytest.mark.parametrize("engine", ["geos", "numba"])
def test_dask_equals_local_on_synthetic_coverages(cluster, engine):
    sources = jittered_grid(6_000, seed=3)
    targets = voronoi_targets(300, seed=4)
    local = apportion(sources, targets, ["A", "B"], engine=engine)
    remote = apportion(
        sources,
        targets,
        ["A", "B"],
        engine=engine,
        backend="dask",
        scheduler=cluster,
        npartitions=5,
    )
    assert_identical(local, remote)
    assert abs(local.attrs["outside"]).max() < 1e-6  # the targets cover the sources


def test_dask_without_a_cluster_uses_local_threads():
    sources = jittered_grid(900, seed=5)
    targets = voronoi_targets(40, seed=6)
    assert_identical(
        apportion(sources, targets, ["A", "B"]),
        apportion(sources, targets, ["A", "B"], backend="dask", npartitions=3),
    )


def test_rank_on_a_dask_cluster_from_the_cli(cluster, capsys):
    assert main(["rank", "ca34-2017-general", "--candidate", "Ahn", "--format", "csv"]) == 0
    local = capsys.readouterr().out
    assert (
        main(
            [
                "rank",
                "ca34-2017-general",
                "--candidate",
                "Ahn",
                "--format",
                "csv",
                "--backend",
                "dask",
                "--scheduler",
                cluster,
            ]
        )
        == 0
    )
    assert capsys.readouterr().out == local


def test_unreachable_scheduler_is_one_line(capsys):
    code = main(
        [
            "rank",
            "ca34-2017-general",
            "--candidate",
            "Ahn",
            "--backend",
            "dask",
            "--scheduler",
            "tcp://127.0.0.1:9",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "cannot reach the dask scheduler" in err and err.count("\n") == 1


@pytest.mark.parametrize(
    ("encoding", "crs"), [("geoarrow", None), ("WKB", None), ("geoarrow", "EPSG:4326")]
)
def test_partitions_read_on_the_workers_give_the_local_numbers(cluster, tmp_path, encoding, crs):
    """A dask-geopandas frame from parquet: each partition is read by a worker (not sent
    in the graph), and the result equals the local one on the same rows, whether the
    files hold GeoArrow polygons (read straight into ring arrays), WKB (decoded by
    geopandas, as files from other tools are) or GeoArrow polygons in lon/lat (decoded
    and reprojected on the worker)."""
    dask_geopandas = pytest.importorskip("dask_geopandas")
    from bench.partitions import write_partitioned
    from explorer.distributed import parquet_files

    sources = jittered_grid(5_000, seed=8)
    sources["match"] = np.where(np.arange(len(sources)) % 3, "exact", "inferred")
    sources.loc[7, "geometry"] = None  # a source without geometry is unmapped, not lost
    targets = voronoi_targets(200, seed=9)
    if crs is not None:
        sources = sources.to_crs(crs)
    path = write_partitioned(sources, tmp_path, 12, encoding=encoding)
    frame = dask_geopandas.read_parquet(path)
    assert frame.npartitions == 12 and frame.spatial_partitions is not None
    assert (parquet_files(frame) is not None) == (encoding == "geoarrow")
    import cloudpickle

    def graph_bytes(ddf):
        return sum(len(cloudpickle.dumps(dict(part.dask))) for part in ddf.to_delayed())

    in_memory = dask_geopandas.from_geopandas(sources, npartitions=12)
    assert graph_bytes(frame) < 0.1 * graph_bytes(in_memory)  # file paths, not polygons
    local = apportion(frame.compute(), targets, ["A", "B"])
    remote = apportion(frame, targets, ["A", "B"], backend="dask", scheduler=cluster)
    assert_identical(local, remote)
    for name in ("exact_share", "inferred_share"):
        assert np.array_equal(local[name].to_numpy(), remote[name].to_numpy(), equal_nan=True)
    assert remote.attrs["unmapped"].equals(local.attrs["unmapped"])
    assert remote.attrs["unmapped"]["A"] == sources.loc[7, "A"]
    # overlapping targets: the votes counted twice are measured on the workers (union of
    # the targets) and summed in the local order, still identical
    doubled = pd.concat([targets, targets.iloc[:15]], ignore_index=True)
    local = apportion(frame.compute(), doubled, ["A", "B"])
    remote = apportion(frame, doubled, ["A", "B"], backend="dask", scheduler=cluster)
    assert_identical(local, remote)
    assert local.attrs["overlap"]["A"] > 0
    with pytest.raises(Exception, match="weights need the source layer in memory"):
        apportion(frame, targets, ["A"], backend="dask", scheduler=cluster, weights=targets)


def test_geoarrow_files_give_the_general_paths_terms_on_the_la_county_layer(
    cluster, general, tmp_path, monkeypatch
):
    """The LA County precincts (polygons and multipolygons, with holes) as GeoArrow files:
    each file's terms read straight from the Arrow buffers equal, float for float, those
    of the same file decoded by geopandas (source areas as ``shapely.area`` gives them,
    pairs, weights, overlap under doubled targets), and the cluster's result equals the
    local one."""
    dask_geopandas = pytest.importorskip("dask_geopandas")
    import geopandas as gpd
    import shapely

    from bench.partitions import write_partitioned
    from explorer import distributed

    layer = loaders.load_precincts(
        catalog.local_path(general.spec.precincts.file), "Precinct", crs="EPSG:4326"
    )
    layer = to_equal_area(layer)
    rng = np.random.default_rng(11)
    layer["A"] = rng.integers(0, 900, len(layer))
    layer["B"] = rng.integers(0, 900, len(layer))
    layer["match"] = np.where(np.arange(len(layer)) % 4, "exact", "pooled")
    kinds = set(shapely.get_type_id(layer.geometry.values))
    holes = shapely.get_num_interior_rings(shapely.get_parts(layer.geometry.values))
    assert kinds == {3, 6} and holes.max() > 0  # the real layer has both, and holes
    path = write_partitioned(layer, tmp_path, 4)
    frame = dask_geopandas.read_parquet(path)
    files = distributed.parquet_files(frame)
    assert files is not None and len(files) == 4
    hoods = general.neighbourhoods.to_crs(layer.crs).reset_index(drop=True)
    doubled = pd.concat([hoods, hoods.iloc[:10]], ignore_index=True)
    targets = gpd.GeoDataFrame(geometry=doubled.geometry.values, crs=layer.crs)

    def no_fallback(*args):
        raise AssertionError("the GeoArrow file took the general path")

    monkeypatch.setattr(distributed, "_general_file_pieces", no_fallback)
    overlap = 0.0
    for fs, file in files:
        fast = distributed._file_pieces(fs, file, targets, layer.crs, ["A", "B"], True)
        part = gpd.read_parquet(file)
        decoded = distributed._partition_pieces(part, targets, layer.crs, ["A", "B"], "numba", True)
        for key in ("target", "terms", "outside", "overlap", "unmapped"):
            assert np.array_equal(fast[key], decoded[key]), key
        overlap += decoded["overlap"][:, 0].sum()
        ragged = shapely.to_ragged_array(shapely.force_2d(part.geometry.values))[2]
        ring, polygon, geometry = ragged if len(ragged) == 3 else (*ragged, None)
        if geometry is None:
            geometry = np.arange(len(polygon))
        areas = distributed._compiled(distributed._geos_areas)(
            shapely.get_coordinates(part.geometry.values), ring, polygon, geometry
        )
        assert np.array_equal(areas, shapely.area(part.geometry.values))
    assert overlap > 0  # the doubled targets were measured on the fast path
    monkeypatch.undo()
    local = apportion(frame.compute(), hoods, ["A", "B"])
    remote = apportion(frame, hoods, ["A", "B"], backend="dask", scheduler=cluster)
    assert_identical(local, remote)


def test_box_pairs_are_the_spatial_index_pairs():
    """The compiled grid finds exactly the pairs a shapely STRtree box query finds, once
    each, with targets covering everything, tiny and empty ones among ordinary ones."""
    import shapely

    from explorer.distributed import _box_pairs, _compiled, _grid_side

    sources = jittered_grid(5_000, seed=12).geometry.values
    targets = np.concatenate(
        [
            voronoi_targets(300, seed=13).geometry.values,
            [shapely.box(-1e4, -1e4, 3e5, 3e5)] * 20,  # larger than the whole square
            [shapely.box(5e4, 5e4, 5e4 + 1, 5e4 + 1), shapely.Polygon()],
        ]
    )
    bounds = shapely.bounds(targets)
    for side in (_grid_side(bounds), 1, 40):
        left, right = _compiled(_box_pairs)(shapely.bounds(sources), bounds, side)
        expected = shapely.STRtree(targets).query(sources)
        found = set(zip(left.tolist(), right.tolist()))
        assert len(found) == len(left) and found == set(zip(*(a.tolist() for a in expected)))


@pytest.fixture(scope="module")
def ca34_in_albers(general):
    """The CA-34 runoff's joined precincts (real votes) in California Albers."""
    return general.precincts.to_crs("EPSG:3310")


@pytest.mark.parametrize("n_parts", [1, 4])
def test_partial_share_of_parquet_partitions_equals_local_on_ca34(
    cluster, general, ca34_in_albers, tmp_path, n_parts
):
    """The joined CA-34 precincts written as GeoArrow partitions (with their ledger attrs:
    ``write_partitions`` leaves them out) and apportioned on the workers: every field and
    attr equals the local run with the same engine bit for bit, and the local default run
    (GEOS below 3,000 sources) within 1e-9 of a vote. The compiled kernel's dust pieces
    (1e-15 m2 for a precinct that only shares an edge with a neighbourhood) once made El
    Sereno 65% "partial" on the workers against 30% locally."""
    dask_geopandas = pytest.importorskip("dask_geopandas")
    from explorer.distributed import write_partitions

    columns = general.candidates
    path = write_partitions(ca34_in_albers, tmp_path, n_parts)
    frame = dask_geopandas.read_parquet(path)
    rows = frame.compute()
    hoods = general.neighbourhoods
    remote = apportion(frame, hoods, columns, backend="dask", scheduler=cluster)
    assert_identical(apportion(rows, hoods, columns, engine="numba"), remote)
    local = apportion(rows, hoods, columns)
    assert_identical(local, remote, tolerance=1e-9)
    partial = local.set_index("name")["partial_share"]
    assert partial["El Sereno"] == pytest.approx(0.2959, abs=1e-4)
    assert partial["East Hollywood"] == pytest.approx(0.6681, abs=1e-4)


def test_engines_agree_on_partial_share(general):
    """GEOS and the compiled kernel keep the same pieces (no dust pieces) on the real
    layers, so the honesty fields agree, not only the counts."""
    columns = general.candidates
    geos = apportion(general.precincts, general.neighbourhoods, columns, engine="geos")
    numba = apportion(general.precincts, general.neighbourhoods, columns, engine="numba")
    assert_identical(geos, numba, tolerance=1e-9)


def test_joined_precincts_write_to_partitions(general, tmp_path):
    """The README's first step: a joined layer (its attrs hold the ledger's tables) is
    written as partitions, and its votes all come back from the files."""
    dask_geopandas = pytest.importorskip("dask_geopandas")
    from explorer.distributed import write_partitions

    frame = dask_geopandas.read_parquet(write_partitions(general.precincts, tmp_path, 3))
    back = frame.compute()
    for column in general.candidates:
        assert back[column].sum() == general.precincts[column].sum()


def _bad_partitions(frame, tmp_path, damage):
    from explorer.distributed import write_partitions

    frame = frame.copy()
    damage(frame)
    return write_partitions(frame, tmp_path, 2)


@pytest.mark.parametrize(("value", "shown"), [(np.nan, "nan"), (-50, "-50"), (np.inf, "inf")])
def test_a_bad_count_is_refused_on_both_backends(
    cluster, general, ca34_in_albers, tmp_path, value, shown
):
    dask_geopandas = pytest.importorskip("dask_geopandas")
    from explorer.errors import ExplorerError

    sources = ca34_in_albers.copy()
    row = 10
    sources["Jimmy Gomez"] = sources["Jimmy Gomez"].astype(float)
    sources.loc[sources.index[row], "Jimmy Gomez"] = value
    precinct = sources["precinct"].iloc[row]
    hoods, columns = general.neighbourhoods, general.candidates
    with pytest.raises(ExplorerError) as local:
        apportion(sources, hoods, columns)
    message = str(local.value)
    assert "row 10" in message and precinct in message and "'Jimmy Gomez'" in message
    assert shown in message and "\n" not in message
    path = _bad_partitions(sources, tmp_path, lambda f: None)
    for kwargs in ({"scheduler": cluster}, {}):
        with pytest.raises(ExplorerError) as remote:
            apportion(dask_geopandas.read_parquet(path), hoods, columns, backend="dask", **kwargs)
        text = str(remote.value)
        assert precinct in text and "'Jimmy Gomez'" in text and shown in text
        assert ("part." in text or "partition" in text) and "\n" not in text


def test_a_partition_without_a_count_column_is_one_line(cluster, general, ca34_in_albers, tmp_path):
    dask_geopandas = pytest.importorskip("dask_geopandas")
    from explorer.errors import ExplorerError

    path = tmp_path / "missing"
    path.mkdir()
    half = len(ca34_in_albers) // 2
    first = ca34_in_albers.iloc[:half].reset_index(drop=True)
    first.attrs = {}
    first.to_parquet(path / "part.0.parquet", geometry_encoding="geoarrow")
    rest = ca34_in_albers.iloc[half:].drop(columns=["Robert Lee Ahn"]).reset_index(drop=True)
    rest.attrs = {}
    rest.to_parquet(path / "part.1.parquet", geometry_encoding="geoarrow")
    with pytest.raises(ExplorerError, match=r"part\.1\.parquet: no column 'Robert Lee Ahn'"):
        apportion(
            dask_geopandas.read_parquet(path),
            general.neighbourhoods,
            general.candidates,
            backend="dask",
            scheduler=cluster,
        )


def test_sources_without_a_crs_are_one_line(general, ca34_in_albers):
    from explorer.errors import ExplorerError

    dask_geopandas = pytest.importorskip("dask_geopandas")
    bare = ca34_in_albers.set_crs(None, allow_override=True)
    bare.attrs = {}  # from_geopandas compares attrs, which hold tables
    frames = [(bare, "local"), (bare, "dask"), (dask_geopandas.from_geopandas(bare, 2), "dask")]
    for frame, backend in frames:
        with pytest.raises(ExplorerError, match="declares no coordinate reference system"):
            apportion(frame, general.neighbourhoods, general.candidates, backend=backend)


def test_a_bowtie_source_is_repaired_with_a_note_on_both_backends(
    cluster, general, ca34_in_albers, tmp_path
):
    """A self-intersecting precinct (its ring crossed into a bowtie) is repaired with
    make_valid, as the loaders repair layers, and named in ``attrs["notes"]``: its votes
    land in neighbourhoods, not "outside every area"."""
    dask_geopandas = pytest.importorskip("dask_geopandas")
    import shapely

    sources = ca34_in_albers.copy()
    row = int(np.flatnonzero(sources.geometry.notna() & ~sources.geometry.is_empty)[5])
    x0, y0, x1, y1 = sources.geometry.iloc[row].bounds
    bowtie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    sources.loc[sources.index[row], "geometry"] = bowtie
    assert not bowtie.is_valid
    precinct = sources["precinct"].iloc[row]
    hoods, columns = general.neighbourhoods, general.candidates
    local = apportion(sources, hoods, columns)
    assert any("make_valid" in n and precinct in n for n in local.attrs["notes"])
    votes = sources[columns].iloc[row].sum()
    assert votes > 0 and local.attrs["outside"].sum() < 1e-6 * votes
    path = _bad_partitions(sources, tmp_path, lambda f: None)
    remote = apportion(
        dask_geopandas.read_parquet(path), hoods, columns, backend="dask", scheduler=cluster
    )
    assert any("make_valid" in n and precinct in n for n in remote.attrs["notes"])
    assert remote.attrs["outside"].sum() < 1e-6 * votes
    for column in columns:
        assert remote[column].sum() == pytest.approx(local[column].sum(), rel=1e-12)


def test_a_bowtie_target_is_repaired_with_a_note_on_both_backends(cluster, general, ca34_in_albers):
    """A self-intersecting neighbourhood (a bowtie) is repaired with make_valid and named
    in ``attrs["notes"]``, never a raw GEOSException; the votes still add up."""
    import shapely

    targets = general.neighbourhoods.copy()
    targets.attrs = {}
    row = int(np.flatnonzero(targets["name"] == "Koreatown")[0])
    x0, y0, x1, y1 = targets.geometry.iloc[row].bounds
    bowtie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    targets.loc[targets.index[row], "geometry"] = bowtie
    assert not bowtie.is_valid
    columns = general.candidates
    sent = ca34_in_albers[columns].sum()
    for options in ({}, {"backend": "dask", "scheduler": cluster}):
        result = apportion(ca34_in_albers, targets, columns, **options)
        notes = result.attrs["notes"]
        assert any("invalid target" in n and "'Koreatown'" in n for n in notes), notes
        got = result[columns].sum() + result.attrs["outside"] - result.attrs["overlap"]
        got += result.attrs["unmapped"]
        for column in columns:
            assert got[column] == pytest.approx(sent[column], rel=1e-9)
        assert result.loc[row, columns].sum() > 0  # Koreatown's repaired lobes get votes


def test_the_compiled_validity_screen_clears_only_valid_polygons(general):
    """The GeoArrow path screens rings for crossing edges and spikes before trusting them
    (GEOS checks whatever it flags): on the LA County precincts and a synthetic grid, every
    polygon it clears is valid by GEOS, and a bowtie, a spike and a ring crossing itself
    further along are flagged."""
    import shapely

    from explorer.distributed import _compiled, _maybe_invalid

    layer = loaders.load_precincts(
        catalog.local_path(general.spec.precincts.file), "Precinct", crs="EPSG:4326"
    )
    bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    spike = shapely.Polygon([(0, 0), (4, 0), (4, 4), (4, 6), (4, 4), (0, 4)])
    crossing = shapely.Polygon([(0, 0), (6, 0), (6, 1), (1, 1), (1, -1), (0, -1)])
    polygons = np.concatenate(
        [
            shapely.get_parts(layer.geometry.values),
            jittered_grid(2_000, seed=21).geometry.values,
            [bowtie, spike, crossing],
        ]
    )
    polygons = polygons[shapely.get_num_interior_rings(polygons) == 0]
    _, coords, (ring_offsets, part_offsets) = shapely.to_ragged_array(polygons)
    flagged = _compiled(_maybe_invalid)(
        coords, ring_offsets, part_offsets, np.arange(len(polygons) + 1)
    )
    assert flagged[-3:].all()
    assert shapely.is_valid(polygons[~flagged]).all()
    assert (~flagged).mean() > 0.9  # nearly all real polygons need no GEOS check


def test_an_invalid_source_inside_one_area_keeps_all_its_votes_there(general, ca34_in_albers):
    """Validity is checked only where it can change the result: a small bowtie well
    inside one neighbourhood moves all its votes there (no repair needed, nothing lost),
    while one across a neighbourhood border is repaired (the test above)."""
    import shapely

    sources = ca34_in_albers.copy()
    hoods = general.neighbourhoods.to_crs(sources.crs)
    row = int(np.flatnonzero(sources.geometry.notna() & ~sources.geometry.is_empty)[5])
    centre = shapely.point_on_surface(sources.geometry.iloc[row])
    home = hoods[hoods.contains(centre.buffer(200))]
    assert len(home) == 1  # a point 200 m inside one neighbourhood
    x, y = centre.x, centre.y
    bowtie = shapely.Polygon(
        [(x - 50, y - 50), (x + 50, y + 50), (x + 50, y - 40), (x - 50, y + 40)]
    )
    assert not bowtie.is_valid
    sources.loc[sources.index[row], "geometry"] = bowtie
    columns = general.candidates
    only = sources.iloc[[row]]
    moved = apportion(only, hoods, columns)
    votes = only[columns].to_numpy().sum()
    assert votes > 0
    name = home["name"].iloc[0]
    got = moved.set_index("name").loc[name, columns].to_numpy().sum()
    assert got == pytest.approx(votes, rel=1e-9)
    assert abs(moved.attrs["outside"].sum()) < 1e-6 * votes
