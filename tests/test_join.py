"""The join and the vote ledger, on the real CA-34 returns and on small synthetic layers."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer import join
from explorer.cli import main
from explorer.errors import ExplorerError


def test_runoff_ledger_balances_to_the_district_totals(general):
    ledger = general.ledger
    assert ledger.loc["Jimmy Gomez", "returns"] == 25569
    assert ledger.loc["Robert Lee Ahn", "returns"] == 17610
    assert (ledger["difference"] == 0).all()
    classes = ["exact", "base", "pooled", "inferred", "unmapped"]
    assert (ledger[classes].sum(axis=1) == ledger["returns"]).all()
    assert ledger.loc["total", "exact"] == 23782
    assert ledger.loc["total", "pooled"] == 12355
    assert ledger.loc["total", "unmapped"] == 5  # the three ballot groups only


def test_runoff_match_classes_on_real_ids(general):
    features = general.precincts.set_index("precinct")
    assert features["n_results"].sum() == 195  # every result precinct in one unit
    assert sorted(",".join(features["results"]).split(",")) == sorted(general.wide.index)
    assert (features["match"] == "exact").sum() == 103
    assert features.loc["0850001A", "match"] == "exact"
    assert features.loc["0850012A", "match"] == "base"
    assert "0850012C" in features.loc["0850012A", "members"].split(",")
    for ballot_group in ("9990401A", "9990402A", "9990403A"):
        assert features.loc[ballot_group, "match"] == "none"
    assert general.ledger_summary["unassigned_polygons"] == []
    assert features["reason"].str.len().gt(20).all()
    # an exact precinct that takes free polygons says so
    assert features.loc["0850001A", "absorbed"]
    assert "absorbed free polygon(s) 0850005A" in features.loc["0850001A", "reason"]


def test_runoff_pooled_units_are_local(general):
    """Pooled members share the prefix of their unit, and each unit is one connected
    place or pieces within 2 km of each other."""
    pooled = general.precincts[general.precincts["match"] == "pooled"]
    assert len(pooled) == 23
    for results in pooled["results"]:
        assert len({r[:3] for r in results.split(",")}) == 1
    area = pooled.to_crs("EPSG:3310")
    for geometry in area.geometry:
        parts = shapely.get_parts(geometry)
        assert all(shapely.distance(parts[0], part) < 2000 for part in parts)


def test_no_polygon_is_assigned_twice(general):
    members = ",".join(general.precincts["members"]).split(",")
    members = [m for m in members if m]
    assert len(members) == len(set(members))


def test_primary_ledger_and_winner_per_precinct(primary):
    ledger = primary.ledger
    assert len(ledger) == 25  # 24 candidates + total, Michelle "Hope" Walker with 0 votes
    assert (ledger["difference"] == 0).all()
    assert ledger.loc["total", "returns"] == 42308
    mapped = primary.precincts[primary.precincts["match"] != "none"]
    voted = mapped[mapped["total"] > 0]
    assert voted["winner"].isin(primary.candidates + ["tie"]).all()
    assert (mapped.loc[mapped["total"] == 0, "winner"] == "").all()  # zero-vote precincts
    assert {"Jimmy Gomez", "Robert Lee Ahn"} <= set(mapped["winner"])


def test_switching_inference_off_leaves_polygons_listed():
    import explorer

    plain = explorer.load("ca34-2017-general", infer=False)
    assert "inferred" not in set(plain.precincts["match"])
    assert "pooled" not in set(plain.precincts["match"])
    assert len(plain.ledger_summary["unassigned_polygons"]) == 89
    assert plain.ledger.loc["total", "exact"] == 27850


def test_ledger_command_writes_csv_and_json(tmp_path, capsys):
    assert main(["ledger", "ca34-2017-general", "--out-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "43,179" in out and "9990401A" in out
    table = pd.read_csv(tmp_path / "ca34-2017-general-ledger.csv", index_col=0)
    assert table.loc["total", "exact"] == 23782
    assert table.loc["total", "pooled"] == 12355
    assert (tmp_path / "ca34-2017-general-ledger.json").read_text().count('"candidate"') == 3


# ---------------------------------------------------------------- synthetic layers


def grid_layer(ids: list[str], columns: int = 3) -> gpd.GeoDataFrame:
    boxes = [
        shapely.box(
            i % columns * 1000,
            i // columns * 1000,
            i % columns * 1000 + 1000,
            i // columns * 1000 + 1000,
        )
        for i in range(len(ids))
    ]
    return gpd.GeoDataFrame({"precinct": ids}, geometry=boxes, crs="EPSG:3310")


def wide(rows: dict[str, tuple[int, int]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, index=["A", "B"]).T
    frame["total"] = frame.sum(axis=1)
    return frame


def test_synthetic_exact_base_inferred_none():
    layer = grid_layer(["0000100A", "0000200B", "0000300A", "0000305A", "0000400A", "0000500A"])
    returns = wide({"0000100A": (5, 1), "0000200A": (2, 2), "0000301A": (1, 3), "9990401A": (4, 0)})
    boundary = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 3000, 2000)], crs="EPSG:3310")
    features = join.join_returns(returns, layer, boundary).set_index("precinct")
    assert features.loc["0000100A", "match"] == "exact"
    assert features.loc["0000200A", "match"] == "base"
    assert features.loc["0000301A", "match"] == "inferred"
    assert features.loc["0000301A", "members"].startswith("0000300A")
    assert features.loc["9990401A", "match"] == "none"
    ledger = join.vote_ledger(features.reset_index().pipe(_attrs, features))
    assert ledger.loc["total", "unmapped"] == 4
    members = ",".join(features["members"]).split(",")
    assert sorted(m for m in members if m) == sorted(layer["precinct"])


def _attrs(new, old):
    new.attrs = old.attrs
    return new


def test_duplicate_polygon_ids_are_dissolved_and_reported():
    layer = grid_layer(["0000100A", "0000100A", "0000200A"])
    features = join.join_returns(wide({"0000100A": (1, 1), "0000200A": (1, 0)}), layer)
    assert any("dissolved 1 duplicated" in n for n in features.attrs["notes"])
    assert features.set_index("precinct").loc["0000100A", "geometry"].area == pytest.approx(2e6)


def test_lost_leading_zero_is_restored():
    layer = grid_layer(["0850001A", "0850002A"])
    features = join.join_returns(wide({"850001A": (3, 1)}), layer)
    assert features["precinct"].tolist() == ["0850001A"]
    assert features["match"].tolist() == ["exact"]


def test_crosswalk_overrides_matching(tmp_path):
    layer = grid_layer(["0000100A", "0000200A", "0000300A"])
    path = tmp_path / "cw.csv"
    path.write_text("result_precinct,layer_precinct\n0000100A,0000200A\n0000100A,0000300A\n")
    features = join.join_returns(
        wide({"0000100A": (1, 1)}), layer, crosswalk=join.read_crosswalk(str(path))
    )
    assert features["match"].tolist() == ["crosswalk"]
    assert features["members"].tolist() == ["0000200A,0000300A"]


def test_crosswalk_giving_a_polygon_twice_is_an_error(tmp_path):
    path = tmp_path / "cw.csv"
    path.write_text("result_precinct,layer_precinct\nA,P1\nB,P1\n")
    with pytest.raises(ExplorerError, match="more than one result precinct"):
        join.read_crosswalk(str(path))


@settings(max_examples=40, deadline=None)
@given(
    n_polygons=st.integers(2, 12),
    ids=st.lists(st.integers(0, 20), min_size=1, max_size=12, unique=True),
    votes=st.lists(st.tuples(st.integers(0, 500), st.integers(0, 500)), min_size=12, max_size=12),
    infer=st.booleans(),
)
def test_property_ledger_balances_and_no_polygon_twice(n_polygons, ids, votes, infer):
    layer = grid_layer([f"{100 + i:07d}A" for i in range(n_polygons)], columns=4)
    returns = wide({f"{100 + i:07d}{'AB'[i % 2]}": votes[k] for k, i in enumerate(ids)})
    boundary = gpd.GeoDataFrame(geometry=[layer.union_all()], crs=layer.crs)
    features = join.join_returns(returns, layer, boundary, infer=infer)
    ledger = join.vote_ledger(features)
    classes = [c for c in ("exact", "base", "pooled", "inferred", "unmapped") if c in ledger]
    assert (ledger[classes].sum(axis=1) == ledger["returns"]).all()
    assert ledger.loc["total", "returns"] == returns["total"].sum()
    members = [m for m in ",".join(features["members"]).split(",") if m]
    assert len(members) == len(set(members))
    if infer:
        assert set(members) | set(features.attrs["unassigned"]) == set(layer["precinct"]) or (
            features["match"].eq("none").all()
        )
    assert np.isfinite(features["total"]).all()


def test_runoff_outline_is_drawn_at_precinct_resolution(general):
    """The 2018 precinct layer nests in CA-34: the map's outline is the dissolved units,
    within 1% (symmetric difference) of the generalised published boundary."""
    outline = general.outline
    assert outline.attrs["difference"] < 0.01
    mapped = general.precincts[general.precincts["match"] != "none"].to_crs("EPSG:3310")
    assert outline.to_crs("EPSG:3310").area.iloc[0] == pytest.approx(mapped.union_all().area)
    assert outline["district"].iloc[0] == "CA-34"


@pytest.mark.parametrize(
    "options",
    [{}, {"infer": False}, {"method": "nearest-number"}],
    ids=["local", "no-inference", "nearest-number"],
)
def test_a_county_wide_row_never_takes_a_polygon_with_its_id(tmp_path, options):
    """A layer can carry a feature whose ID reads like a vote method (here PROVISIONAL):
    the returns' county-wide PROVISIONAL row must still stay unmapped, and the polygon is a
    free polygon like any other (absorbed by a neighbour or listed as unassigned), never
    silently held by a row that is not a place."""
    from explorer import loaders

    ids = ["0101", "0102", "PROVISIONAL"]
    boxes = [shapely.box(i * 1000, 0, i * 1000 + 1000, 1000) for i in range(3)]
    layer_file = tmp_path / "layer.geojson"
    gpd.GeoDataFrame({"PRECINCT": ids}, geometry=boxes, crs="EPSG:3310").to_crs(
        "EPSG:4326"
    ).to_file(layer_file)
    lines = ["county,precinct,office,district,party,candidate,votes"]
    for precinct, ann, bob in [("0101", 10, 20), ("0102", 30, 5), ("PROVISIONAL", 7, 8)]:
        lines += [
            f"Los Angeles,{precinct},U.S. House,34,DEM,Ann,{ann}",
            f"Los Angeles,{precinct},U.S. House,34,REP,Bob,{bob}",
        ]
    (tmp_path / "returns.csv").write_text("\n".join(lines) + "\n")
    returns = loaders.wide_returns(loaders.load_returns(tmp_path / "returns.csv"))
    assert returns.attrs["county_wide"] == ["PROVISIONAL"]
    layer = loaders.load_precincts(layer_file, id_field="PRECINCT")
    boundary = gpd.GeoDataFrame(geometry=[layer.union_all()], crs=layer.crs)

    features = join.join_returns(returns, layer, boundary, **options)
    row = features.set_index("precinct").loc["PROVISIONAL"]
    assert row["match"] == "none"
    assert row.geometry is None or row.geometry.is_empty
    assert join.vote_ledger(features).loc["total", "unmapped"] == 15
    members = ",".join(features["members"].fillna("")).split(",")
    assert ("PROVISIONAL" in members) != ("PROVISIONAL" in features.attrs["unassigned"])


def test_a_crosswalk_giving_a_county_wide_row_a_polygon_is_refused(tmp_path):
    layer = grid_layer(["0000100A", "0000200A"])
    returns = wide({"0000100A": (1, 1), "PROVISIONAL": (2, 2)})
    returns.attrs["county_wide"] = ["PROVISIONAL"]
    path = tmp_path / "cw.csv"
    path.write_text("result_precinct,layer_precinct\n0000100A,0000100A\nPROVISIONAL,0000200A\n")
    with pytest.raises(ExplorerError, match="line 3: result precinct PROVISIONAL is a county"):
        join.join_returns(returns, layer, crosswalk=join.read_crosswalk(str(path)))
