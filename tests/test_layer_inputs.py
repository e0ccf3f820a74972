"""Bad input to results-inside-the-layer (synthetic files in tmp_path): several files read
as one layer must never double, move or misplace votes silently."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box

from explorer.errors import ExplorerError
from explorer.layer_results import read_results_layers


def _grid(ids, x0=-75.6, y0=39.0, d=0.01, **extra):
    shapes = [box(x0 + i * d, y0, x0 + (i + 1) * d, y0 + d) for i in range(len(ids))]
    votes = {"Dem": [10 * (i + 1) for i in range(len(ids))]}
    return gpd.GeoDataFrame({"GEOID20": ids, **votes, **extra}, geometry=shapes, crs=4326)


def _read(paths, **kw):
    return read_results_layers([Path(p) for p in paths], ["Dem"], precinct_id="GEOID20", **kw)


@pytest.mark.parametrize("second", ["copy/Geojson_DE.v06.zip", "Geojson_DE.v05.geojson"])
def test_one_states_file_read_twice_is_refused_naming_both(tmp_path, second):
    first = tmp_path / "Geojson_DE.v06.geojson"
    _grid(["1", "2", "3"]).to_file(first)
    other = tmp_path / second
    other.parent.mkdir(exist_ok=True)
    if other.suffix == ".zip":  # a byte-identical copy, zipped as DRA ships it
        shutil.make_archive(str(other.with_suffix("")), "zip", tmp_path, first.name)
    else:  # another version of the same state's file: same polygons, same IDs
        _grid(["1", "2", "3"]).to_file(other)

    with pytest.raises(ExplorerError) as error:
        _read(sorted([first, other], key=str))
    text = str(error.value)
    assert "read twice" in text and "narrow the glob" in text
    assert first.name in text and Path(second).name in text


def _no_crs_shapefile(frame, path):
    """``frame`` as a shapefile without a .prj: a file that states no CRS."""
    frame.to_file(path)
    path.with_suffix(".prj").unlink()
    return path


def test_crs_on_a_glob_applies_only_to_files_without_one(tmp_path):
    lonlat = tmp_path / "a_DE.geojson"
    _grid(["1", "2"]).to_file(lonlat)
    mercator = _no_crs_shapefile(_grid(["3", "4"], x0=-75.58).to_crs(3857), tmp_path / "b_DE.shp")
    bare = tmp_path / "c_DE.geojson"  # metres in GeoJSON with no crs member: read as 4326
    bare.write_text(_grid(["5"], x0=-75.56).to_crs(3857).to_json().replace('"crs"', '"unused"'))
    layer = _read([lonlat, mercator, bare], crs="EPSG:3857")
    assert len(layer) == 5
    west, south, east, north = layer.to_crs(4326).total_bounds
    assert -75.61 < west < east < -75.54 and 38.99 < south < north < 39.02
    assert any("kept its own CRS" in n for n in layer.attrs["notes"])


def test_a_stated_crs_its_coordinates_contradict_is_still_refused(tmp_path):
    lonlat = tmp_path / "a_DE.geojson"
    _grid(["1", "2"]).to_file(lonlat)
    wrong = _grid(["3", "4"], x0=-75.58).set_crs(3857, allow_override=True)
    wrong.to_file(tmp_path / "b_DE.shp")  # a .prj saying metres over lon/lat numbers
    with pytest.raises(ExplorerError, match="look like longitude/latitude"):
        _read([lonlat, tmp_path / "b_DE.shp"], crs="EPSG:3857")


def test_one_id_in_two_states_files_touching_is_never_merged(tmp_path):
    delaware, maryland = tmp_path / "Geojson_DE.v06.geojson", tmp_path / "Geojson_MD.v06.geojson"
    _grid(["001", "002"]).to_file(delaware)
    _grid(["001", "003"], y0=39.01).to_file(maryland)  # its 001 touches Delaware's 001
    with pytest.raises(ExplorerError) as error:
        _read([delaware, maryland])
    text = str(error.value)
    assert "precinct ID 001" in text and "DE and MD" in text and "--precinct-id" in text
    assert delaware.name in text and maryland.name in text


def test_state_comes_from_the_layers_field_or_dras_file_name_never_a_token(tmp_path):
    token = tmp_path / "Delaware_2020_OR_later.geojson"
    _grid(["1"]).to_file(token)
    field = tmp_path / "precincts_by_ID.geojson"
    _grid(["2"], x0=-75.5, STUSPS=["DE"]).to_file(field)
    dra = tmp_path / "Geojson_VT.v06.geojson"
    _grid(["3"], x0=-73.0, y0=44.0).to_file(dra)
    layer = _read([token, field, dra])
    assert layer.set_index("precinct")["state"].to_dict() == {"1": "", "2": "DE", "3": "VT"}
    notes = "\n".join(layer.attrs["notes"])
    assert "state read from the layer's STUSPS field: precincts_by_ID.geojson (DE)" in notes
    assert "state read from DRA's file name (Geojson_<ST>): Geojson_VT.v06.geojson (VT)" in notes
    assert "state left empty" in notes and "Delaware_2020_OR_later.geojson" in notes


def test_a_missing_precinct_id_suggests_id_like_unique_fields(tmp_path):
    path = tmp_path / "vest_DE.geojson"
    frame = _grid(["10001001", "10001002"], PRECINCT=["A", "A"])
    frame.assign(**{"Biden.Votes": [1, 2], "Bidén": [3, 4], "COUNTYFP": ["001", "003"]}).to_file(
        path
    )
    with pytest.raises(ExplorerError) as error:
        read_results_layers([path], ["Dem"])  # the default --precinct-id is "id"
    hint = error.value.hint
    assert "--precinct-id" in hint and "GEOID20" in hint
    assert "Biden" not in hint and "PRECINCT" not in hint  # PRECINCT repeats a value


def test_the_readmes_precinct_patterns_resolve_as_printed():
    import fnmatch
    import glob
    import re

    from explorer import catalog

    readme = (Path(__file__).parents[1] / "README.md").read_text()
    patterns = re.findall(r"--precincts '([^']*\*[^']*)'", readme)
    assert patterns
    known = [e.path for e in catalog.read_catalog()]
    for pattern in patterns:
        assert any(fnmatch.fnmatchcase(k, pattern) for k in known) or glob.glob(pattern), pattern
