"""Loaders on the real files, and their one-line errors on bad input."""

from __future__ import annotations

import shutil

import pytest
import shapely
from conftest import NEIGHBOURHOODS, PRECINCTS_2018, PRIMARY, RUNOFF, mirror_file

from explorer import loaders as load
from explorer.errors import ExplorerError


def test_runoff_returns_long_and_wide():
    long = load.load_returns(mirror_file(RUNOFF), office="U.S. House", district="34")
    assert long["precinct"].nunique() == 195
    assert "0850001A" in set(long["precinct"])  # leading zero kept
    wide = load.wide_returns(long)
    assert list(wide.columns) == ["Jimmy Gomez", "Robert Lee Ahn", "total"]
    assert wide["Jimmy Gomez"].sum() == 25569
    assert wide["Robert Lee Ahn"].sum() == 17610
    assert wide.loc["0850001A", "total"] == 337


def test_primary_returns_have_23_candidates_with_rows():
    long = load.load_returns(mirror_file(PRIMARY), office="U.S. House", district="34")
    assert long["candidate"].nunique() == 23
    assert long["votes"].sum() == 42308


def test_vote_method_columns_are_kept_as_votes():
    path = mirror_file(
        "openelections/openelections-data-ca/2017/20171205__ca__special__general__los_angeles__precinct.csv"
    )
    long = load.load_returns(path, office="State Assembly", district="51")
    assert long["votes"].sum() > 0


def test_precinct_layer_declared_lonlat():
    layer = load.load_precincts(mirror_file(PRECINCTS_2018), "Precinct", crs="EPSG:4326")
    assert len(layer) == 4357
    assert layer.crs.to_epsg() == 4326
    assert layer["precinct"].str.len().eq(8).all()


def test_general_2018_layer_repairs_three_polygons():
    path = mirror_file("datadesk/la-county-election-precincts-2018/topojson/general.topojson")
    layer = load.load_precincts(path, "Precinct", crs="EPSG:4326")
    assert len(layer) == 4728
    assert any("repaired 3 invalid" in n for n in layer.attrs["notes"])
    assert shapely.is_valid(layer.geometry.values).all()


def test_neighbourhoods_la_county_repaired():
    hoods = load.load_neighbourhoods(mirror_file(NEIGHBOURHOODS), where={"county": "los-angeles"})
    assert len(hoods) == 270
    assert {"Koreatown", "Boyle Heights", "Eagle Rock"} <= set(hoods["name"])
    assert hoods.is_valid.all()
    assert any("repaired" in n for n in hoods.attrs["notes"])


def test_all_53_districts_load():
    for number in (1, 34, 53):
        path = mirror_file(f"unitedstates/districts/cds/2012/CA-{number}/shape.geojson")
        district = load.load_district(path, f"CA-{number}")
        assert district.crs.to_epsg() == 4326 and district.to_crs(3310).area.iloc[0] > 1e8


def test_freeways_one_line_set_per_route_labelled():
    fwy = load.load_freeways(
        mirror_file("XuZiHan-010/dissertation_2024/data/roadway/los-angeles-county-freeways.shp"),
        mirror_file("iGISc/iGIScData/inst/extdata/CAfreeways.shp"),
    )
    assert fwy["route"].is_unique
    labels = dict(zip(fwy["route"], fwy["label"]))
    assert "Santa Monica Fwy" in labels["I-10"]
    assert labels["I-710"] == "I-710 Long Beach Fwy"
    assert labels["SR-134"] == "SR-134 Ventura Fwy"
    assert {"I-5", "US-101", "I-110", "SR-110", "SR-2", "SR-60"} <= set(fwy["route"])


def test_shapefile_missing_shx_names_it(tmp_path):
    for suffix in (".shp", ".dbf", ".prj"):
        shutil.copy(mirror_file(NEIGHBOURHOODS).with_suffix(suffix), tmp_path / f"n{suffix}")
    with pytest.raises(ExplorerError, match=r"n\.shp: shapefile is missing its \.shx"):
        load.read_layer(tmp_path / "n.shp")


def test_shapefile_missing_dbf_names_it(tmp_path):
    for suffix in (".shp", ".shx"):
        shutil.copy(mirror_file(NEIGHBOURHOODS).with_suffix(suffix), tmp_path / f"n{suffix}")
    with pytest.raises(ExplorerError, match=r"missing its \.dbf"):
        load.read_layer(tmp_path / "n.shp")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("county,precinct,office,district,party,candidate\nLA,1,X,1,D,A\n", "missing required"),
        (
            "precinct,office,district,candidate,votes\n0001,X,1,A,ten\n",
            "line 2 .*'ten' is not a whole",
        ),
        (
            "precinct,office,district,candidate,votes\n0001,X,1,A,5\n0002,X,1,A,-3\n",
            "line 3 .*negative",
        ),
        (
            "precinct,office,district,candidate,votes\n0001,X,1,A,5\n0001,X,1,A,6\n",
            "conflicting duplicate rows .*line 2: 5, line 3: 6",
        ),
        ("", "file is empty"),
    ],
)
def test_bad_returns_one_line_errors(tmp_path, text, message):
    path = tmp_path / "returns.csv"
    path.write_text(text)
    with pytest.raises(ExplorerError, match=message) as caught:
        load.load_returns(path, office="X", district="1")
    assert "\n" not in str(caught.value) and "returns.csv" in str(caught.value)


def test_messy_but_repairable_returns(tmp_path):
    text = (
        "\ufeffprecinct,office,district,candidate,votes\n"
        " 0001a ,X,01,Ann Lee,5\n\n"
        "0001A,X,1,ann  lee,5\n"
        "0002A,X,1,Ann Lee,7\n"
        "0002A,Y,1,Other Office,9\n"
    )
    path = tmp_path / "r.csv"
    path.write_text(text, encoding="utf-8")
    long = load.load_returns(path, office="X", district="1")
    assert long.to_dict("list") == {
        "precinct": ["0001A", "0002A"],
        "candidate": ["Ann Lee", "Ann Lee"],
        "party": ["", ""],
        "votes": [5, 7],
    } or (list(long["votes"]) == [5, 7] and set(long["candidate"]) == {"Ann Lee"})
    notes = " ".join(long.attrs["notes"])
    assert "duplicate" in notes and "spelling" in notes


def test_latin1_returns_are_read_and_noted(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(
        "precinct,office,district,candidate,votes\n1,X,1,Luis L\xf3pez,4\n".encode("latin-1")
    )
    long = load.load_returns(path, office="X", district="1")
    assert long["candidate"].iloc[0] == "Luis López"
    assert any("Latin-1" in n for n in long.attrs["notes"])


def test_several_offices_without_filter_asks_which(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("precinct,office,district,candidate,votes\n1,X,1,A,4\n1,Y,1,B,4\n")
    with pytest.raises(ExplorerError, match="2 offices .*--office"):
        load.load_returns(path)


def test_lonlat_declared_on_projected_coordinates_is_refused(tmp_path):
    import geopandas as gpd

    frame = gpd.GeoDataFrame(geometry=[shapely.box(-13e6, 4e6, -13e6 + 500, 4e6 + 500)])
    frame.to_file(tmp_path / "p.geojson", driver="GeoJSON")
    with pytest.raises(ExplorerError, match="not longitude/latitude"):
        load.read_layer(tmp_path / "p.geojson", crs="EPSG:4326")


def test_primary_totals_beside_the_returns(primary):
    """The primary's totals file names a candidate with no precinct rows: a 0-vote row."""
    table = load.with_totals(primary.summary(), primary.totals)
    assert len(table) == 24 and table["district_totals"].sum() == 42308
    assert table.loc['Michelle "Hope" Walker', ["votes", "district_totals"]].tolist() == [0, 0]
    assert load.totals_differences(table) == {}


def test_a_candidate_the_totals_file_lacks_is_named_in_the_mismatch(general):
    """Before, such a candidate made the check fail with a MISMATCH line naming nobody."""
    totals = general.totals.drop("Robert Lee Ahn")
    table = load.with_totals(general.summary(), totals)
    assert table["district_totals"].isna().tolist() == [False, True]
    assert load.totals_differences(table) == {"Robert Lee Ahn": 17610}
    fewer = general.totals - 1
    assert load.totals_differences(load.with_totals(general.summary(), fewer)) == {
        "Jimmy Gomez": 1,
        "Robert Lee Ahn": 1,
    }
