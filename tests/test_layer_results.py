"""Results inside the layer: DRA's nested ``datasets`` and VEST-style flat columns, one file
or many as one layer, on the real 2020 VTDs (Dave's Redistricting, CC BY-SA 4.0)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest

from explorer.cli import main
from explorer.elections import Election
from explorer.errors import ExplorerError

VTD = "dra2020/vtd_data/2020_VTD/{}/Geojson_{}.v06.zip"
PRES = {"Biden": "E_20_PRES.Dem", "Trump": "E_20_PRES.Rep"}


@pytest.fixture(scope="module")
def small_states():
    election = Election.from_layer(
        [VTD.format(s, s) for s in ("DC", "DE", "VT")], votes=PRES, total="E_20_PRES.Total"
    )
    election.precincts  # noqa: B018 (load once for the module)
    return election


def test_nested_fields_give_the_certified_delaware_count(small_states):
    states = small_states.by_state()
    # Delaware certified 296,268 for Biden and 200,603 for Trump in 2020
    assert states.loc["DE", ["Biden", "Trump"]].tolist() == [296268, 200603]
    assert states.loc["DE", "precincts"] == 412


def test_total_beyond_the_candidates_is_other_and_the_ledger_balances(small_states):
    ledger = small_states.ledger
    assert list(ledger.index) == ["Biden", "Trump", "other", "total"]
    layer = small_states.layer
    expected_other = (
        layer["E_20_PRES.Total"] - layer["E_20_PRES.Dem"] - layer["E_20_PRES.Rep"]
    ).clip(lower=0)
    assert ledger.loc["other", "returns"] == expected_other.sum() > 0
    assert ledger.loc["total", "returns"] == ledger.loc["total", "mapped"]
    assert any("counted as 'other'" in n for n in small_states.precincts.attrs["notes"])


def test_state_summary_sums_to_the_precincts(small_states):
    states = small_states.by_state()
    assert list(states.index) == ["DC", "DE", "VT", "total"]
    assert states.loc["total", "total"] == small_states.precincts["total"].sum()
    assert states.loc["total", "precincts"] == len(small_states.precincts)
    assert "Dave's Redistricting (dra2020/vtd_data)" in small_states.credits()[0]


def test_vest_style_flat_columns_read_the_same(small_states, tmp_path):
    de = small_states.layer[small_states.layer["state"] == "DE"]
    flat = gpd.GeoDataFrame(
        {
            "GEOID20": de["precinct"],
            "G20PREDBID": de["E_20_PRES.Dem"],
            "G20PRERTRU": de["E_20_PRES.Rep"],
        },
        geometry=de.geometry.values,
        crs=de.crs,
    )
    path = tmp_path / "de_vest.gpkg"
    flat.to_file(path)
    vest = Election.from_layer(
        path, votes={"Biden": "G20PREDBID", "Trump": "G20PRERTRU"}, precinct_id="GEOID20"
    )
    assert vest.ledger.loc["Biden", "returns"] == 296268
    assert "other" not in vest.candidates


def test_ids_differing_only_in_case_are_different_vtds():
    """DRA's Mississippi file has 28059505-1B (Grace Baptist B) and 28059505-1b (Ocean
    Springs Civic Center B): two VTDs with their own votes, kept apart (74,954 VTDs in all,
    not 74,953)."""
    ms = Election.from_layer(VTD.format("MS", "MS"), votes=PRES, total="E_20_PRES.Total")
    assert len(ms.precincts) == 1834 and ms.precincts["precinct"].is_unique
    rows = ms.precincts.set_index("precinct")
    assert (rows.loc["28059505-1B", "Trump"], rows.loc["28059505-1B", "total"]) == (634, 936)
    assert (rows.loc["28059505-1B #2", "Trump"], rows.loc["28059505-1B #2", "total"]) == (28, 41)
    notes = ms.layer.attrs["notes"]
    assert any("letter case" in n and "28059505-1b as 28059505-1B #2" in n for n in notes)
    assert not any("summed" in n for n in notes)


def test_a_piece_sharing_its_id_is_merged_not_dropped(small_states, tmp_path):
    import json

    import shapely.geometry

    de = small_states.layer[small_states.layer["state"] == "DE"].reset_index(drop=True)
    touching = de.sindex.query(de.geometry.iloc[0], predicate="touches")
    pair = de.geometry.iloc[[0, int(touching[0])]]
    path, _ = _write_de(tmp_path, small_states, [5, 7], ids=["09-08", "09-08"])
    data = json.loads(path.read_text())
    for feature, geom in zip(data["features"], pair):
        feature["geometry"] = shapely.geometry.mapping(geom)
    path.write_text(json.dumps(data))
    merged = Election.from_layer(path, votes={"Biden": "Dem", "Trump": "Rep"})
    assert len(merged.precincts) == 1
    assert (merged.precincts["Biden"].iloc[0], merged.precincts["Trump"].iloc[0]) == (12, 20)
    assert any("summed" in n for n in merged.layer.attrs["notes"])


def test_a_file_without_the_contest_is_noted_and_kept():
    # Puerto Rico casts no vote for president: its features stay, with no votes, and say so
    both = Election.from_layer(
        [VTD.format("DC", "DC"), VTD.format("PR", "PR")], votes=PRES, total="E_20_PRES.Total"
    )
    assert both.by_state().loc["PR", "total"] == 0
    assert any(n.startswith("PR: no E_20_PRES.Dem") for n in both.precincts.attrs["notes"])
    with pytest.raises(ExplorerError, match="no field 'E_20_PRES.Dem'"):
        Election.from_layer(VTD.format("PR", "PR"), votes=PRES).layer  # noqa: B018


def test_cli_ledger_from_a_glob_of_zips(tmp_path, capsys, real_data):
    Election.from_layer(VTD.format("VT", "VT"), votes=PRES).layer  # noqa: B018 (fetch)
    pattern = str(real_data / "dra2020/vtd_data/2020_VTD/V*/Geojson_*.zip")
    code = main(
        [
            "ledger",
            "vt",
            "--precincts",
            pattern,
            "--votes",
            "Biden=E_20_PRES.Dem,Trump=E_20_PRES.Rep",
            "--total",
            "E_20_PRES.Total",
            "--out-dir",
            str(tmp_path),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "By state" in out
    states = (tmp_path / "vt-states.csv").read_text().splitlines()
    assert states[1].startswith("VT,242820,112704,")


def test_cli_bad_votes_and_unknown_field_fail_in_one_line(capsys):
    base = ["ledger", "x", "--precincts", VTD.format("DC", "DC")]
    assert main([*base, "--votes", "Biden"]) == 2
    assert "is not NAME=FIELD" in capsys.readouterr().err
    assert main([*base, "--votes", "Biden=E_20_PRES.Demm"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no field 'E_20_PRES.Demm'" in err[0]


def test_negative_votes_are_refused(small_states):
    frame = small_states.layer.copy()
    frame.loc[frame.index[0], "E_20_PRES.Dem"] = -5
    with pytest.raises(ExplorerError, match="negative"):
        Election.from_layer(frame, votes=PRES, precinct_id="precinct").wide  # noqa: B018


def test_votes_apportioned_onto_a_hex_grid_are_conserved(small_states):
    from explorer.apportion import hex_grid

    de = Election.from_layer(VTD.format("DE", "DE"), votes=PRES, total="E_20_PRES.Total")
    hexes = hex_grid(de.precincts, 10_000)
    assert hexes.crs.is_projected and hexes["name"].is_unique
    # 10 km hexagons: each has the area of a regular hexagon 10 km corner to corner
    assert hexes.area.round(-3).eq(round(3 * 3**0.5 / 2 * 5_000**2, -3)).all()
    areas = de.apportion(hexes, target_id="name")
    mapped = de.ledger.loc["total", "mapped"]
    assert abs(areas["total"].sum() + areas.attrs["outside"].sum() - mapped) < 1e-6 * mapped
    assert areas["total"].sum() > 0.999 * mapped  # the grid covers Delaware


def _write_de(tmp_path, small_states, dem_values, name="de.geojson", ids=None):
    """A few real Delaware VTDs as GeoJSON with the given ``Dem`` values (raw JSON, so that
    text and numbers can mix in one property, as in files from the wild)."""
    import json

    import shapely.geometry

    de = small_states.layer[small_states.layer["state"] == "DE"].head(len(dem_values))
    features = [
        {
            "type": "Feature",
            "properties": {"id": ids[i] if ids else pid, "Dem": value, "Rep": 10},
            "geometry": shapely.geometry.mapping(geom),
        }
        for i, (pid, geom, value) in enumerate(zip(de["precinct"], de.geometry, dem_values))
    ]
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path, list(de["precinct"])


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("12,5", "'12,5' is not a number"),
        ("abc", "'abc' is not a number"),
        (12.5, "12.5 is not a whole"),
        (1e20, "1e+20 is implausibly large for one feature"),
    ],
)
def test_a_vote_that_is_not_a_count_is_refused_naming_file_feature_field(
    small_states, tmp_path, capsys, value, why
):
    path, ids = _write_de(tmp_path, small_states, [748, value, 829])
    code = main(["ledger", "x", "--precincts", str(path), "--votes", "Biden=Dem,Trump=Rep"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert str(path) in err[0] and f"feature {ids[1]}: Dem {why}" in err[0]
    assert "UserWarning" not in err[0]


@pytest.mark.parametrize(
    ("value", "why"),
    [(True, "is true/false"), ("1e3", "is text that is not a plain whole number"), ("+5", "plain")],
)
def test_counts_in_a_frame_that_are_not_plain_counts_are_refused(value, why):
    # GDAL types a GeoJSON field itself (true -> 1, "1e3" -> 1000); a frame given to the
    # API keeps the values as written, and they are read as a returns file's are
    from explorer.layer_results import read_counts

    values = pd.Series([748, value, "829"], dtype=object)
    ids = pd.Series(["a", "b", "c"])
    with pytest.raises(ExplorerError, match=f"feature b: Dem .*{why}"):
        read_counts(values, ids, "Dem", "layer.geojson")
    assert list(read_counts(pd.Series([748, "829", None], dtype=object), ids, "Dem", "x")[:2]) == [
        748,
        829,
    ]


def test_a_text_field_as_votes_is_refused(small_states, tmp_path, capsys):
    path, _ = _write_de(tmp_path, small_states, [1, 2, 3])
    code = main(["ledger", "x", "--precincts", str(path), "--votes", "Biden=id"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "is not a number (2 more feature(s)" in err[0]


def test_only_a_truly_missing_vote_counts_zero_and_is_noted(small_states, tmp_path):
    path, _ = _write_de(tmp_path, small_states, [748, None, "829"])
    election = Election.from_layer(path, votes={"Biden": "Dem", "Trump": "Rep"})
    assert election.ledger.loc["Biden", "returns"] == 748 + 829
    notes = election.precincts.attrs["notes"]
    assert any("1 feature(s) have no value for Dem (missing); counted as 0" in n for n in notes)


def test_negative_vote_in_a_file_names_the_file(small_states, tmp_path):
    path, ids = _write_de(tmp_path, small_states, [748, -50])
    with pytest.raises(ExplorerError, match=f"{path.name}: feature {ids[1]}: Dem -50 is negative"):
        Election.from_layer(path, votes={"Biden": "Dem"}).wide  # noqa: B018


def test_distinct_precincts_sharing_an_id_are_refused(small_states, tmp_path, capsys):
    de = small_states.layer[small_states.layer["state"] == "DE"].to_crs(3857)
    far = de.geometry.centroid.distance(de.geometry.centroid.iloc[0]).sort_values()
    order = [far.index[0], far.index[-1]]  # the two VTDs furthest apart, named the same
    rows = small_states.layer.loc[order]
    path, _ = _write_de(tmp_path, small_states, [1, 2], ids=["09-08", "09-08"])
    import json

    import shapely.geometry

    data = json.loads(path.read_text())
    for feature, geom in zip(data["features"], rows.geometry):
        feature["geometry"] = shapely.geometry.mapping(geom)
    path.write_text(json.dumps(data))
    code = main(["ledger", "x", "--precincts", str(path), "--votes", "Biden=Dem"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "precinct ID 09-08 is on 2 features in 2 places" in err[0] and "km apart" in err[0]
    assert "--precinct-id" in err[0]


def test_a_vest_file_without_precinct_id_hints_at_the_option(small_states, tmp_path, capsys):
    path, _ = _write_de(tmp_path, small_states, [1, 2], ids=None)
    data = path.read_text().replace('"id"', '"GEOID20"')
    path.write_text(data)
    code = main(["ledger", "x", "--precincts", str(path), "--votes", "Biden=Dem"])
    err = capsys.readouterr().err
    assert code == 2 and "--precinct-id" in err and "GEOID20" in err


@pytest.mark.parametrize(
    ("votes", "why"),
    [
        ("Biden=E_20_PRES.Dem,Biden=E_20_PRES.Rep", "names candidate 'Biden' twice"),
        ("Biden=E_20_PRES.Dem,Trump=E_20_PRES.Dem", "gives field E_20_PRES.Dem to both"),
    ],
)
def test_votes_with_a_repeated_name_or_field_are_refused(capsys, votes, why):
    code = main(["ledger", "x", "--precincts", VTD.format("DC", "DC"), "--votes", votes])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and why in err[0]
    with pytest.raises(ExplorerError, match="counted twice"):
        twice = {"Biden": "E_20_PRES.Dem", "Joe": "E_20_PRES.Dem"}
        Election.from_layer(VTD.format("DC", "DC"), votes=twice).wide  # noqa: B018


def test_state_of_a_single_file_comes_from_a_state_field_or_stays_empty(small_states, tmp_path):
    de = small_states.layer[small_states.layer["state"] == "DE"]
    flat = gpd.GeoDataFrame(
        {"GEOID20": de["precinct"], "G20PREDBID": de["E_20_PRES.Dem"]},
        geometry=de.geometry.values,
        crs=de.crs,
    )
    flat.to_file(tmp_path / "vest.gpkg")
    flat.assign(STATEFP20="10").to_file(tmp_path / "vest_fp.gpkg")
    plain = Election.from_layer(
        tmp_path / "vest.gpkg", votes={"Biden": "G20PREDBID"}, precinct_id="GEOID20"
    )
    assert set(plain.layer["state"]) == {""}
    assert any("state left empty" in n for n in plain.layer.attrs["notes"])
    fp = Election.from_layer(
        tmp_path / "vest_fp.gpkg", votes={"Biden": "G20PREDBID"}, precinct_id="GEOID20"
    )
    assert fp.by_state().loc["10", "Biden"] == 296268
    assert any("read from the layer's STATEFP20" in n for n in fp.layer.attrs["notes"])
