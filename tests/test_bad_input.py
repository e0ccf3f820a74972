"""Bad input through the command line: one line naming the file and the problem, a non-zero
exit, no traceback and no output file; or a safe repair that is reported."""

from __future__ import annotations

import shutil
import zipfile

import geopandas as gpd
import pytest
import shapely
from conftest import PRECINCTS_2018, mirror_file
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from explorer import catalog, loaders
from explorer.cli import main
from explorer.errors import ExplorerError

IDS = ["0850001A", "0850061A", "9000053A", "9000055A", "9000243A", "9000244A"]
HEADER = "county,precinct,office,district,party,candidate,votes"


@pytest.fixture(scope="module")
def real_polygons() -> gpd.GeoDataFrame:
    """Six real CA-34 precincts from the LA County June 2018 layer."""
    layer = loaders.load_precincts(mirror_file(PRECINCTS_2018), "Precinct", crs="EPSG:4326")
    chosen = layer[layer["precinct"].isin(IDS)].rename(columns={"precinct": "PCT"})
    assert len(chosen) == len(IDS)
    return chosen.reset_index(drop=True)


def returns_csv(path, rows=None, header=HEADER, encoding="utf-8"):
    rows = rows or [f"LA,{p},Mayor,1,X,Ann Lee,{10 + i}" for i, p in enumerate(IDS)] + [
        f"LA,{p},Mayor,1,Y,Bo Park,{5 + i}" for i, p in enumerate(IDS)
    ]
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode(encoding))
    return path


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def own(returns, precincts, *extra):
    return ["--returns", returns, "--precincts", precincts, "--precinct-id", "PCT", *extra]


def assert_one_line_error(code, err, *fragments):
    assert code == 2, err
    lines = [line for line in err.splitlines() if not line.startswith("note:")]
    assert len(lines) == 1, err
    assert lines[0].startswith("explorer: error: ")
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def ledger_of(capsys, tmp_path, frame: gpd.GeoDataFrame, *extra) -> tuple[int, str, str]:
    """Run `explorer ledger` on the default returns and this precinct layer."""
    frame.to_file(tmp_path / "p.gpkg")
    args = own(returns_csv(tmp_path / "r.csv"), tmp_path / "p.gpkg")
    return run(capsys, "ledger", *args, *extra, "--out-dir", tmp_path)


def map_fails(capsys, tmp_path, args, *fragments):
    target = tmp_path / "out.html"
    code, _, err = run(capsys, "map", *args, "-o", target, "--tiles", "none")
    assert_one_line_error(code, err, *fragments)
    assert not target.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.html")]


# ------------------------------------------------------------------- files


def test_empty_precinct_file(capsys, tmp_path):
    empty = tmp_path / "p.geojson"
    empty.write_bytes(b"")
    map_fails(
        capsys, tmp_path, own(returns_csv(tmp_path / "r.csv"), empty), "p.geojson", "file is empty"
    )


@pytest.mark.parametrize("missing", [".shx", ".dbf"])
def test_truncated_shapefile(capsys, tmp_path, real_polygons, missing):
    real_polygons.to_file(tmp_path / "p.shp")
    (tmp_path / f"p{missing}").unlink()
    map_fails(
        capsys,
        tmp_path,
        own(returns_csv(tmp_path / "r.csv"), tmp_path / "p.shp"),
        "p.shp",
        f"missing its {missing} file",
    )


def test_shapefile_without_prj_needs_crs(capsys, tmp_path, real_polygons):
    real_polygons.to_file(tmp_path / "p.shp")
    (tmp_path / "p.prj").unlink()
    args = own(returns_csv(tmp_path / "r.csv"), tmp_path / "p.shp")
    map_fails(capsys, tmp_path, args, "p.shp", "no coordinate reference system", "--crs")
    target = tmp_path / "ok.html"
    code, out, _ = run(capsys, "map", *args, "--crs", "EPSG:4326", "-o", target)
    assert code == 0 and target.exists() and "6 areas" in out


def test_geojson_whose_coordinates_are_not_lonlat(capsys, tmp_path, real_polygons):
    projected = real_polygons.to_crs("EPSG:3857").set_crs(None, allow_override=True)
    path = tmp_path / "p.geojson"
    path.write_text(projected.to_json())  # no crs member: readers assume lon/lat
    map_fails(
        capsys,
        tmp_path,
        own(returns_csv(tmp_path / "r.csv"), path),
        "p.geojson",
        "not longitude/latitude",
        "--crs",
    )


def test_zip_with_two_layers_asks_which(capsys, tmp_path, real_polygons):
    real_polygons.to_file(tmp_path / "a.shp")
    real_polygons.to_file(tmp_path / "b.shp")
    archive = tmp_path / "both.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for stem in ("a", "b"):
            for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                if (tmp_path / f"{stem}{suffix}").exists():
                    handle.write(tmp_path / f"{stem}{suffix}", f"{stem}{suffix}")
    args = own(returns_csv(tmp_path / "r.csv"), archive)
    map_fails(capsys, tmp_path, args, "both.zip", "2 layers", "--layer")
    target = tmp_path / "ok.html"
    code, out, _ = run(capsys, "map", *args, "--layer", "b", "-o", target)
    assert code == 0 and "6 areas" in out


def test_unreadable_attribute_encoding(capsys, tmp_path, real_polygons):
    frame = real_polygons.assign(note="Pena")
    frame.to_file(tmp_path / "p.shp")
    dbf = (tmp_path / "p.dbf").read_bytes()
    (tmp_path / "p.dbf").write_bytes(dbf.replace(b"Pena", b"Pe\xf1a"))
    (tmp_path / "p.cpg").write_text("UTF-8")
    map_fails(
        capsys,
        tmp_path,
        own(returns_csv(tmp_path / "r.csv"), tmp_path / "p.shp"),
        "p.shp",
        "not in a readable encoding",
        ".cpg",
    )


# ------------------------------------------------------------------- geometry


def test_self_intersecting_ring_is_repaired_and_counted(capsys, tmp_path, real_polygons):
    x0, y0, x1, y1 = real_polygons.total_bounds
    bowtie = shapely.Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    frame = real_polygons.copy()
    frame.loc[0, "geometry"] = bowtie
    code, _, err = ledger_of(capsys, tmp_path, frame)
    assert code == 0
    assert "repaired 1 invalid precinct polygons" in err


def test_empty_and_null_geometries_are_dropped_and_reported(capsys, tmp_path, real_polygons):
    frame = real_polygons.copy()
    frame.loc[1, "geometry"] = None
    frame.loc[2, "geometry"] = shapely.Polygon()
    # without inference (which now runs with no --district too, and would pool them with
    # their numeric neighbours) their votes stay in the ledger as unmapped
    code, out, err = ledger_of(capsys, tmp_path, frame, "--no-infer")
    assert code == 0
    assert "dropped 2 precinct polygons with empty or null geometry" in err
    lost = sorted(frame.loc[[1, 2], "PCT"])
    assert f"Unmapped precincts: {lost[0]}, {lost[1]}" in out  # their votes stay in the ledger


def test_lines_where_polygons_are_expected(capsys, tmp_path, real_polygons):
    lines = real_polygons.assign(geometry=real_polygons.boundary)
    lines.to_file(tmp_path / "p.gpkg")
    map_fails(
        capsys,
        tmp_path,
        own(returns_csv(tmp_path / "r.csv"), tmp_path / "p.gpkg"),
        "p.gpkg",
        "where polygons are expected",
    )


def test_duplicate_precinct_ids_are_dissolved_and_reported(capsys, tmp_path, real_polygons):
    frame = real_polygons.copy()
    lost = frame.loc[1, "PCT"]
    frame.loc[1, "PCT"] = frame.loc[0, "PCT"]
    code, out, err = ledger_of(capsys, tmp_path, frame, "--no-infer")  # else pooled
    assert code == 0
    assert "dissolved 1 duplicated precinct ID(s)" in err
    assert f"Unmapped precincts: {lost}" in out


# ------------------------------------------------------------------- returns


@pytest.mark.parametrize(
    ("rows", "header", "fragments"),
    [
        (
            ["LA,0850001A,Mayor,1,X,Ann Lee"],
            "county,precinct,office,district,party,candidate",
            ["r.csv", "missing required column(s) votes"],
        ),
        (
            ["LA,0850001A,Mayor,1,X,Ann Lee,12", "LA,0850061A,Mayor,1,X,Ann Lee,twelve"],
            HEADER,
            ["r.csv", "line 3", "'twelve' is not a whole number"],
        ),
        (["LA,0850001A,Mayor,1,X,Ann Lee,-4"], HEADER, ["r.csv", "line 2", "is negative"]),
        (
            ["LA,0850001A,Mayor,1,X,Ann Lee,4", "LA,0850001A,Mayor,1,X,Ann Lee,5"],
            HEADER,
            ["r.csv", "conflicting duplicate rows", "line 2: 4, line 3: 5"],
        ),
    ],
)
def test_bad_returns(capsys, tmp_path, real_polygons, rows, header, fragments):
    real_polygons.to_file(tmp_path / "p.gpkg")
    path = returns_csv(tmp_path / "r.csv", rows, header)
    map_fails(capsys, tmp_path, own(path, tmp_path / "p.gpkg"), *fragments)


def test_several_offices_without_filter_asks_which(capsys, tmp_path, real_polygons):
    real_polygons.to_file(tmp_path / "p.gpkg")
    rows = ["LA,0850001A,Mayor,1,X,Ann Lee,4", "LA,0850001A,Council,1,X,Cy Diaz,4"]
    path = returns_csv(tmp_path / "r.csv", rows)
    map_fails(capsys, tmp_path, own(path, tmp_path / "p.gpkg"), "2 offices", "--office")
    code, out, _ = run(capsys, "info", *own(path, tmp_path / "p.gpkg"), "--office", "council")
    assert code == 0 and "Cy Diaz" in out and "Ann Lee" not in out


def test_messy_returns_are_repaired_and_reported(capsys, tmp_path, real_polygons):
    real_polygons.to_file(tmp_path / "p.gpkg")
    rows = [
        f"LA, {IDS[0].lower()} ,Mayor,1,X,Ann  Lee,10",  # stray spaces, lower case
        "",  # blank line
        f"LA,{IDS[1].lstrip('0')},Mayor,1,X,ann lee,11",  # lost leading zero, case
        f"LA,{IDS[2]},Mayor,1,Y,Peña Díaz,7",
        f"LA,{IDS[2]},Mayor,1,Y,Peña Díaz,7",  # exact duplicate row
    ]
    path = returns_csv(tmp_path / "r.csv", rows, "\ufeff" + HEADER)  # with a UTF-8 BOM
    code, out, err = run(capsys, "ledger", *own(path, tmp_path / "p.gpkg"), "--out-dir", tmp_path)
    assert code == 0, err
    assert "merged 1 candidate spelling" in err
    assert "dropped 1 exact duplicate row" in err
    assert "restored leading zeros on 1 result precinct ID" in err
    assert "Peña Díaz" in out
    assert out.split("Ann Lee", 1)[1].split()[0] == "21"  # 10 + 11, one candidate
    assert "Unmapped precincts" not in out  # every vote found its polygon


def test_latin1_returns_are_read_and_reported(capsys, tmp_path, real_polygons):
    real_polygons.to_file(tmp_path / "p.gpkg")
    rows = [f"LA,{IDS[0]},Mayor,1,X,Luis López,7"]
    path = returns_csv(tmp_path / "r.csv", rows, encoding="latin-1")
    code, out, err = run(capsys, "info", *own(path, tmp_path / "p.gpkg"))
    assert code == 0 and "read as Windows-1252 (a superset of Latin-1)" in err
    assert "Luis López" in out


def test_unknown_returns_file(capsys, tmp_path):
    code, _, err = run(
        capsys, "info", "--returns", tmp_path / "nope.csv", "--precincts", tmp_path / "nope.shp"
    )
    assert_one_line_error(code, err, "nope.csv", "file not found")


def test_returns_without_precincts(capsys, tmp_path):
    code, _, err = run(capsys, "info", "--returns", returns_csv(tmp_path / "r.csv"))
    assert_one_line_error(code, err, "needs both --returns and --precincts")


# ------------------------------------------------------------------- fuzzing


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=400) | st.text(max_size=400).map(lambda t: t.encode("utf-8")))
def test_fuzz_returns_parser_only_raises_explorer_errors(tmp_path, data):
    path = tmp_path / "fuzz.csv"
    path.write_bytes(HEADER.encode() + b"\n" + data)
    try:
        long = loaders.load_returns(path, office="Mayor")
    except ExplorerError as error:
        assert "\n" not in str(error)
    else:
        assert (long["votes"] >= 0).all() and long["precinct"].str.len().gt(0).all()


TOML_PIECES = st.sampled_from(
    [
        "[[file]]\n",
        'dataset = "x"\n',
        'path = "a/b.csv"\n',
        'path = "../up.csv"\n',
        'url = "https://example.org/a"\n',
        f'sha256 = "{"a" * 64}"\n',
        'sha256 = "zz"\n',
        "bytes = 12\n",
        "bytes = 'many'\n",
        "= broken\n",
        "[file]\n",
        '"\\u0000"\n',
        "\n",
    ]
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pieces=st.lists(TOML_PIECES, max_size=12), noise=st.binary(max_size=40))
def test_fuzz_catalog_reader_only_raises_explorer_errors(tmp_path, pieces, noise):
    path = tmp_path / "catalog.toml"
    path.write_bytes("".join(pieces).encode() + noise)
    try:
        entries = catalog.read_catalog.__wrapped__(path)
    except ExplorerError as error:
        assert "\n" not in str(error)
    else:
        for entry in entries:
            assert ".." not in entry.path and len(entry.sha256) == 64


def test_interrupted_write_keeps_the_previous_file(tmp_path):
    from explorer.outputs import atomic_path

    target = tmp_path / "map.html"
    target.write_text("previous map")
    with pytest.raises(KeyboardInterrupt), atomic_path(target) as temporary:
        temporary.write_text("half a ma")
        raise KeyboardInterrupt
    assert target.read_text() == "previous map"
    assert list(tmp_path.iterdir()) == [target]


def test_mirror_copy_is_never_left_half_written(tmp_path, monkeypatch):
    entry = next(e for e in catalog.read_catalog() if e.dataset == "returns-20170606-totals")

    def broken_copy(source, destination):
        with open(destination, "wb") as handle:
            handle.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(shutil, "copyfile", broken_copy)
    with pytest.raises(OSError):
        catalog.fetch_file(entry, tmp_path, mirror_file("").parent / "mirror")
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


# ------------------------------------------------------------------- options and outputs
# (issue #12, kind 10: every option is checked before any work, and outputs fail in one line)


def _own_map(tmp_path, real_polygons, *extra):
    real_polygons.to_file(tmp_path / "p.gpkg")
    return ["map", *own(returns_csv(tmp_path / "r.csv"), tmp_path / "p.gpkg"), "--tiles", "none"]


def test_png_with_a_wrong_suffix_fails_before_the_html(capsys, tmp_path, real_polygons):
    args = _own_map(tmp_path, real_polygons)
    code, _, err = run(capsys, *args, "-o", tmp_path / "m.html", "--png", tmp_path / "m.jpg")
    assert_one_line_error(code, err, "m.jpg", ".png")
    assert not (tmp_path / "m.html").exists()


@pytest.mark.parametrize(
    ("extra", "fragments"),
    [
        (
            ["ca34-2017-general", "--returns", "r.csv", "--precincts", "p.gpkg"],
            ["catalog election"],
        ),
        (["--office", "Mayor"], ["--office", "your own election"]),
        (["ca34-2017-general", "--crs", "EPSG:4326"], ["--crs", "your own election"]),
        (["--returns", "r.csv"], ["needs both --returns and --precincts"]),
    ],
)
def test_own_election_options_need_their_files(capsys, tmp_path, real_polygons, extra, fragments):
    real_polygons.to_file(tmp_path / "p.gpkg")
    returns_csv(tmp_path / "r.csv")
    extra = [str(tmp_path / a) if a in ("r.csv", "p.gpkg") else a for a in extra]
    code, _, err = run(capsys, "ledger", *extra, "--out-dir", tmp_path / "out")
    assert_one_line_error(code, err, *fragments)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("option", "value"),
    [("--min-votes", "nan"), ("--min-votes", "-1"), ("--tolerance", "nan"), ("--tolerance", "-5")],
)
def test_counts_options_refuse_nan_and_negatives(capsys, tmp_path, real_polygons, option, value):
    args = _own_map(tmp_path, real_polygons)
    code, _, err = run(capsys, *args, "-o", tmp_path / "m.html", option, value)
    assert_one_line_error(code, err, option)
    assert not (tmp_path / "m.html").exists()


@pytest.mark.parametrize("kind", ["folder", "device"])
def test_returns_must_be_a_regular_file(capsys, tmp_path, real_polygons, kind):
    real_polygons.to_file(tmp_path / "p.gpkg")
    returns = tmp_path if kind == "folder" else "/dev/zero"
    code, _, err = run(capsys, "info", *own(returns, tmp_path / "p.gpkg"))
    assert_one_line_error(code, err, "not a regular file")
    args = own(returns_csv(tmp_path / "r.csv"), "/dev/zero")
    code, _, err = run(capsys, "ledger", *args, "--out-dir", tmp_path)
    assert_one_line_error(code, err, "/dev/zero", "not a regular file")


@pytest.mark.parametrize("case", ["folder", "long", "unwritable"])
def test_outputs_that_cannot_be_written(capsys, tmp_path, real_polygons, case):
    args = _own_map(tmp_path, real_polygons)
    target = {
        "folder": tmp_path,
        "long": tmp_path / ("x" * 250 + ".html"),
        "unwritable": "/proc/explorer-test/m.html",  # read-only even for root
    }[case]
    fragment = {"folder": "existing folder", "long": "too long", "unwritable": "cannot write"}
    code, _, err = run(capsys, *args, "-o", target)
    assert_one_line_error(code, err, fragment[case])
    code, _, err = run(capsys, "ledger", *args[1:-2], "--out-dir", "/proc/explorer-test")
    assert_one_line_error(code, err, "cannot write")


def test_stale_temporary_files_of_a_killed_run_are_removed(capsys, tmp_path, real_polygons):
    args = _own_map(tmp_path, real_polygons)
    dead = tmp_path / ".m.html.999999999.k2j3.tmp"  # no such process
    old = tmp_path / ".m.html.abcd1234.tmp"  # an earlier version's name, no process id
    live = tmp_path / ".m.html.1.x8y9.tmp"  # process 1 is alive: another run's file
    for path in (dead, old, live):
        path.write_text("half a ma")
    code, _, err = run(capsys, *args, "-o", tmp_path / "m.html")
    assert code == 0, err
    assert not dead.exists() and not old.exists() and live.exists()


def test_questions_are_echoed_cut_to_200_characters(capsys):
    code, _, err = run(capsys, "ask", "tell me " + "x" * 5000)
    assert_one_line_error(code, err, "cannot answer 'tell me " + "x" * 192 + "...'")
    assert "x" * 193 not in err


def test_library_warnings_become_one_note_line(capsys, tmp_path, real_polygons):
    import warnings

    from explorer import cli

    def noisy():
        warnings.warn("something odd\nover two lines", UserWarning, stacklevel=1)
        warnings.warn("something odd\nover two lines", UserWarning, stacklevel=1)

    cli._WARNED.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = cli._warning_note
        noisy()
    err = capsys.readouterr().err
    assert err == "note: something odd over two lines (UserWarning)\n"


# ------------------------------------------------------------------- the cases, every command


CASES = __import__("pathlib").Path(__file__).resolve().parents[2] / "shared/cases/real-world"


@pytest.mark.parametrize(
    "folder", sorted(p.name for p in CASES.iterdir()) if CASES.is_dir() else []
)
def test_no_case_input_gives_a_traceback(capsys, tmp_path, folder):
    """Every returns file of every case against every layer beside it, with each field of
    the layer as the ID: a result or one line, never a traceback or an unexpected error."""
    import pyogrio

    directory = CASES / folder
    layers = [p for p in directory.iterdir() if p.suffix in (".geojson", ".shp")]
    for returns in sorted(directory.glob("*.csv")):
        for layer in layers:
            fields = [f for f in pyogrio.read_info(layer)["fields"]] or ["precinct"]
            for field in fields[:1]:
                args = ["--returns", returns, "--precincts", layer, "--precinct-id", field]
                code, _, err = run(capsys, "ledger", *args, "--out-dir", tmp_path)
                assert code in (0, 2), err
                assert "unexpected" not in err and "Traceback" not in err
                if code == 2:
                    assert_one_line_error(code, err)
