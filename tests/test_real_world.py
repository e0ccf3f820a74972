"""Files from the wild: every case in ../shared/cases/real-world with its right values, and
each kind of fault on further inputs made here.

The case inputs are read in place (never copied). Every test that maps checks that the
ledger reconciles to the parsed returns file.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer import apportion, join, loaders, render
from explorer.cli import main
from explorer.elections import Election
from explorer.errors import ExplorerError

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT.parent / "shared" / "cases" / "real-world"
HEADER = "county,precinct,office,district,party,candidate,votes"


def case(name: str) -> Path:
    folder = next(CASES.glob(name + "*"))
    assert (folder / "README.md").exists()
    return folder


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code: int, err: str, *fragments: str) -> str:
    assert code == 2, err
    lines = [line for line in err.splitlines() if not line.startswith("note:")]
    assert len(lines) == 1, err
    assert lines[0].startswith("explorer: error: ")
    assert "Traceback" not in err and "unexpected" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def own(returns, precincts, precinct_id, **options) -> Election:
    return Election.from_files(
        returns=returns, precincts=precincts, precinct_id=precinct_id, **options
    )


def reconciled(election: Election) -> pd.DataFrame:
    """The ledger, checked against the parsed returns file: every candidate's returns are
    the file's votes, and the classes add up to them."""
    ledger = election.ledger
    parsed = loaders.load_returns(
        election.spec.returns, office=election.spec.office, district=election.spec.district
    )
    by_candidate = parsed.groupby("candidate")["votes"].sum()
    candidates = election.candidates
    assert sorted(candidates) == sorted(by_candidate.index)
    assert (ledger.loc[candidates, "returns"] == by_candidate[candidates]).all()
    assert ledger.loc["total", "returns"] == parsed["votes"].sum()
    classes = [c for c in ("crosswalk", "exact", "base", "inferred", "unmapped") if c in ledger]
    rows = [*candidates, "total"]
    assert (ledger.loc[rows, classes].sum(axis=1) == ledger.loc[rows, "returns"]).all()
    return ledger


def returns_csv(path: Path, rows: list[str], header: str = HEADER, encoding="utf-8") -> Path:
    path.write_bytes(("\n".join([header, *rows]) + "\n").encode(encoding))
    return path


def grid(path: Path, ids, field: str = "PCT", crs="EPSG:4326", size=0.01) -> Path:
    boxes = [
        shapely.box(-118.3 + i * size, 34.0, -118.3 + (i + 1) * size, 34.0 + size)
        for i in range(len(ids))
    ]
    gpd.GeoDataFrame({field: list(ids)}, geometry=boxes, crs="EPSG:4326").to_crs(crs).to_file(path)
    return path


def rows_for(ids, votes=((10, 5),), names=("Ann Lee", "Bo Park")) -> list[str]:
    out = []
    for i, precinct in enumerate(ids):
        pair = votes[i % len(votes)]
        out += [f"LA,{precinct},Mayor,1,X,{names[0]},{pair[0]}"]
        out += [f"LA,{precinct},Mayor,1,Y,{names[1]},{pair[1]}"]
    return out


# =========================================================================== the cases


def test_case_01_total_rows_are_not_candidates():
    folder = case("01")
    e = own(folder / "returns.csv", folder / "precincts.geojson", "NAME")
    assert e.candidates == ["Mara Kell", "Jon Ortt"]
    summary = e.summary()
    assert summary.loc["Mara Kell", "votes"] == 1255 and summary.loc["Jon Ortt", "votes"] == 946
    assert round(summary.loc["Mara Kell", "share"] * 100, 1) == 57.0
    assert round(summary.loc["Jon Ortt", "share"] * 100, 1) == 43.0
    ledger = reconciled(e)
    assert ledger.loc["total", "returns"] == 2201 and ledger.loc["total", "exact"] == 2201
    assert ledger.loc["[total]", "returns"] == 2201  # the file's own total, on its own line
    winners = e.precincts.set_index("precinct")["winner"]
    assert (winners == "Mara Kell").sum() == 3 and winners["BAINBRIDGE 2"] == "Jon Ortt"


def test_case_01_info_through_the_cli(capsys):
    folder = case("01")
    code, out, err = run(
        capsys,
        "info",
        "--returns",
        folder / "returns.csv",
        "--precincts",
        folder / "precincts.geojson",
        "--precinct-id",
        "NAME",
    )
    assert code == 0 and "named 'Total' are not candidates" in err
    assert "Total votes: 2,201" in out and "57.02%" in out and "42.98%" in out
    assert "Mara Kell" in out and not re.search(r"^Total\s+\d", out, re.M)  # no 'Total' row
    assert "Also in the file, not candidates: total 2,201" in out
    assert "Office: State Senate  District: 51" in out


def test_case_03_county_wide_rows_stay_unmapped_and_names_never_base_match(capsys, tmp_path):
    folder = case("03")
    e = own(folder / "returns.csv", folder / "precincts.geojson", "PREC_NAME")
    ledger = reconciled(e)
    features = e.precincts.set_index("precinct")
    mapped = features[features["match"] != "none"]
    assert len(mapped) == 5 and set(mapped["match"]) == {"exact"}
    assert ledger.loc["total", "mapped"] == 1200 == ledger.loc["total", "exact"]
    county_wide = {"PROV", "TRANSFER", "ONE STOP", "ABSENTEE BY MAIL"}
    assert set(e.ledger_summary["county_wide"]) == county_wide
    assert (features.loc[sorted(county_wide), "match"] == "none").all()
    assert "AIRPORT" not in ",".join(features["members"])
    code, out, _ = run(
        capsys,
        "ledger",
        "--returns",
        folder / "returns.csv",
        "--precincts",
        folder / "precincts.geojson",
        "--precinct-id",
        "PREC_NAME",
        "--out-dir",
        tmp_path,
    )
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("Unmapped county-wide rows"))
    assert all(name in line for name in county_wide)
    assert "Unmapped precincts:" not in out


def test_case_04_one_office_in_two_districts(capsys):
    folder = case("04")
    args = ["--returns", folder / "returns.csv", "--precincts", folder / "precincts.geojson"]
    args += ["--precinct-id", "PRECINCT"]
    code, _, err = run(capsys, "info", *args)
    one_line_error(code, err, "2 districts for this office (1, 2)", "--contest-district")
    e = own(folder / "returns.csv", folder / "precincts.geojson", "PRECINCT", contest_district="2")
    assert e.summary()["votes"].to_dict() == {"Owen Pratt": 664, "Lena Ford": 357}
    assert len(e.wide) == 2
    assert reconciled(e).loc["total", "exact"] == 1021


def test_case_05_parent_polygon_carries_its_sub_precincts():
    folder = case("05")
    e = own(folder / "returns.csv", folder / "precincts.geojson", "PRECINCT")
    ledger = reconciled(e)
    parent = e.precincts.set_index("precinct").loc["1-80"]
    assert parent["Ida Marsh"] == 350 and parent["Paul Grady"] == 350
    assert parent["winner"] == "tie"
    assert parent["parts"] == "1-80A,1-80B"
    assert ledger.loc["total", "unmapped"] == 0
    assert any("1-80 = 1-80A + 1-80B" in n for n in e.precincts.attrs["notes"])


@pytest.mark.parametrize("returns", ["returns-padded", "returns-plain", "returns-spreadsheet"])
@pytest.mark.parametrize("layer", ["precincts.shp", "precincts-float.geojson"])
def test_case_06_precinct_numbers_written_differently(returns, layer):
    folder = case("06")
    e = own(folder / f"{returns}.csv", folder / layer, "PCT")
    ledger = reconciled(e)
    assert (e.precincts["match"] == "exact").sum() == 4
    assert ledger.loc["total", "exact"] == 1250 and ledger.loc["total", "unmapped"] == 0
    if returns == "returns-padded":
        assert any("0101 -> 101" in n for n in e.precincts.attrs["notes"])


def test_case_08_geometry_collection_keeps_its_polygon(capsys, tmp_path):
    folder = case("08")
    e = own(folder / "returns.csv", folder / "precincts.geojson", "PRECINCT")
    ledger = reconciled(e)
    features = e.precincts.set_index("precinct")
    assert features.loc["0002", "match"] == "exact"
    assert features.loc["0002", "geometry"].geom_type == "Polygon"
    assert ledger.loc["total", "mapped"] == 43 == ledger.loc["total", "returns"]
    code, out, err = run(
        capsys,
        "map",
        "--returns",
        folder / "returns.csv",
        "--precincts",
        folder / "precincts.geojson",
        "--precinct-id",
        "PRECINCT",
        "-o",
        tmp_path / "m.html",
        "--tiles",
        "none",
    )
    assert code == 0 and "43 of 43 votes" in out
    assert "GeometryCollection" in err and "(0002)" in err


def test_case_09_windows_1252_names(capsys):
    folder = case("09")
    e = own(folder / "returns.csv", folder / "precincts.geojson", "PRECINCT")
    assert e.candidates == ["Siobhán O’Dwyer", "Renée Zapata – Write-in"]
    assert any("Windows-1252" in n for n in e.returns.attrs["notes"])
    reconciled(e)
    code, out, err = run(
        capsys,
        "rank",
        "--returns",
        folder / "returns.csv",
        "--precincts",
        folder / "precincts.geojson",
        "--precinct-id",
        "PRECINCT",
        "--candidate",
        "O’Dwyer",
        "--by",
        "precinct",
        "--min-votes",
        "1",
    )
    assert code == 0, err
    assert "ranked by Siobhán O’Dwyer's share" in out


def test_case_11_overlapping_neighbourhoods(capsys):
    folder = case("11")
    e = own(
        folder / "returns.csv",
        folder / "precincts.geojson",
        "PRECINCT",
        neighbourhoods=folder / "neighbourhoods.geojson",
    )
    reconciled(e)
    areas = e.areas("neighbourhood")
    assert areas["total"].sum() == pytest.approx(3000, rel=1e-4)
    assert areas.attrs["overlap"].sum() == pytest.approx(1000, rel=1e-4)
    assert areas.attrs["outside"].sum() == pytest.approx(0, abs=1e-6)
    assert apportion.conservation_gap(e.precincts, areas, e.candidates) < 1e-9
    note = e.methods_note(areas)
    assert "1,000 votes counted in more than one area" in note
    assert "- 0 mapped votes fall outside every area." in note
    code, out, _ = run(
        capsys,
        "rank",
        "--returns",
        folder / "returns.csv",
        "--precincts",
        folder / "precincts.geojson",
        "--precinct-id",
        "PRECINCT",
        "--neighbourhoods",
        folder / "neighbourhoods.geojson",
        "--candidate",
        "Ruiz",
    )
    assert code == 0 and "1,000 votes counted in more than one area" in out


def test_case_12_legend_labels_stay_apart_and_no_votes_has_a_key(capsys, tmp_path):
    folder = case("12")
    e = own(folder / "returns.csv", folder / "precincts.geojson", "PRECINCT")
    reconciled(e)
    for scheme in ("fixed", "quantiles", "fisherjenks", "naturalbreaks", "equalinterval"):
        parts = e.map_parts("candidate", "Cy Webb", scheme=scheme)
        labels = [label for _, label in parts["styled"].legend]
        assert len(labels) == len(set(labels)), (scheme, labels)
        assert "0-0%" not in labels and "1-1%" not in labels
        assert labels[-1] == "no votes cast"
    fixed = [label for _, label in e.map_parts("candidate", "Cy Webb")["styled"].legend]
    assert "0.0-0.5%" in fixed and "0.5-1.0%" in fixed
    code, _, err = run(
        capsys,
        "map",
        "--returns",
        folder / "returns.csv",
        "--precincts",
        folder / "precincts.geojson",
        "--precinct-id",
        "PRECINCT",
        "--candidate",
        "Webb",
        "--scheme",
        "quantiles",
        "-o",
        tmp_path / "m.html",
        "--tiles",
        "none",
    )
    assert code == 0, err
    page = (tmp_path / "m.html").read_text()
    assert "no votes cast" in page and "0.0-0.5%" in page
    # a library warning (mapclassify's fewer classes) is one note line, not a warning dump
    assert "Warning:" not in err and all(x.startswith("note:") for x in err.splitlines())


def test_case_17_vote_method_rows_fold_into_their_precinct():
    folder = case("17")
    e = own(folder / "returns.csv", folder / "precincts.geojson", "NAME")
    ledger = reconciled(e)
    features = e.precincts.set_index("precinct")
    assert len(features) == 4 and (features["winner"] == "Ava Quinn").all()
    assert features.loc["ALDAN EASTERN", "Ava Quinn"] == 575
    assert features.loc["ALDAN EASTERN", "Eli Stone"] == 307
    assert ledger.loc["total", "unmapped"] == 0
    assert any("folded 12 vote-method" in n for n in e.returns.attrs["notes"])


def test_case_g09_prj_that_lies_is_refused_with_the_fix(capsys, tmp_path):
    folder = case("g09")
    args = ["--returns", folder / "r.csv", "--precincts", folder / "pwrong3857.shp"]
    args += ["--precinct-id", "PCT", "--tiles", "none"]
    code, _, err = run(capsys, "map", *args, "-o", tmp_path / "m.html")
    one_line_error(code, err, "pwrong3857.shp", "longitude/latitude", "--crs EPSG:4326")
    assert not (tmp_path / "m.html").exists()
    code, out, _ = run(capsys, "map", *args, "-o", tmp_path / "m.html", "--crs", "EPSG:4326")
    assert code == 0 and "120 of 120 votes" in out
    e = own(folder / "r.csv", folder / "pwrong3857.shp", "PCT", crs="EPSG:4326")
    assert reconciled(e).loc["total", "exact"] == 120


@pytest.mark.parametrize("command", ["map", "ledger", "rank", "ask"])
def test_case_g17_nothing_matches_stops_with_examples(capsys, tmp_path, command):
    folder = case("g17")
    args = ["--returns", folder / "r.csv", "--precincts", folder / "pother.geojson"]
    args += ["--precinct-id", "PCT"]
    extra = {
        "map": ["-o", tmp_path / "m.html"],
        "ledger": ["--out-dir", tmp_path],
        "rank": ["--candidate", "Ann"],
        "ask": [],
    }[command]
    head = [command, "which neighbourhoods favoured Ann?"] if command == "ask" else [command]
    code, _, err = run(capsys, *head, *args, *extra)
    one_line_error(code, err, "0 of 6", "0850001A", "X0", "PCT")
    assert not list(tmp_path.iterdir())


def test_case_r04_thousands_separators(capsys, tmp_path):
    folder = case("r04")
    args = ["--returns", folder / "r.csv", "--precincts", folder / "p.geojson"]
    code, _, err = run(capsys, "info", *args, "--precinct-id", "PCT")
    one_line_error(code, err, "r.csv", "line 3", "'12,5'")
    good = returns_csv(tmp_path / "r.csv", ['LA,0850001A,Mayor,1,X,Ann Lee,"1,234"'])
    e = own(good, folder / "p.geojson", "PCT")
    assert e.summary().loc["Ann Lee", "votes"] == 1234
    assert any("thousands separators" in n for n in e.returns.attrs["notes"])
    assert reconciled(e).loc["total", "exact"] == 1234


@pytest.mark.parametrize("name", ["precinct", "match", "winner", "geometry"])
def test_case_r20_candidate_named_like_a_column(capsys, tmp_path, name):
    folder = case("r20")
    e = own(folder / f"{name}.csv", folder / "p.geojson", "PCT")
    ledger = reconciled(e)
    shown = f"{name} (candidate)"
    assert e.candidates == ["Ann Lee", shown]
    assert ledger.loc[shown, "returns"] == 21 == ledger.loc[shown, "exact"]
    features = e.precincts
    assert sorted(features["precinct"]) == ["0850001A", "0850061A", "9000053A"]
    assert (features["match"] == "exact").all() and (features["winner"] == "Ann Lee").all()
    assert features.geometry.geom_type.eq("Polygon").all()
    code, _, err = run(
        capsys,
        "map",
        "--returns",
        folder / f"{name}.csv",
        "--precincts",
        folder / "p.geojson",
        "--precinct-id",
        "PCT",
        "--candidate",
        name,
        "-o",
        tmp_path / "m.html",
        "--tiles",
        "none",
    )
    assert code == 0, err
    page = (tmp_path / "m.html").read_text()
    assert "Precinct 0850001A" in page and shown in page


# =========================================================================== 1. pseudo-candidates


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Total", "total"),
        ("TOTAL VOTES", "total"),
        ("Total Votes Cast", "total"),
        ("Votes Cast", "total"),
        ("Ballots Cast", "ballots cast"),
        ("ballots  cast - total", "ballots cast"),
        ("Times Cast", "ballots cast"),
        ("Registered Voters", "registered voters"),
        ("Registered Voters - Total", "registered voters"),
        ("Over Votes", "over votes"),
        ("Overvotes", "over votes"),
        ("UNDER VOTES", "under votes"),
        ("Under-Votes", "under votes"),
        ("Blank", "blank"),
        ("Blank Votes", "blank"),
        ("Void", "void"),
        ("Times Over Voted", "over votes"),
        ("Number of Under Votes", "under votes"),
        ("Write-ins", None),
        ("Scattering", None),
        ("Total Wine Smith", None),
        ("Mara Blank", None),
        ("Contest Total", "total"),
        ("Precinct Totals", "total"),
        ("Precincts Reporting", "precincts reporting"),
        ("Number of Precincts", "precincts reporting"),
        ("Over/Under", "over and under votes"),
        ("Undervote/Overvote", "over and under votes"),
        ("Voter Turnout", "ballots cast"),
        ("Number of Voters", "ballots cast"),
        ("Exhausted Ballots", "exhausted ballots"),
        ("None of These Candidates", None),
        ("Uncommitted", None),
        ("Scatterings", None),
        ("Over Lee", None),
    ],
)
def test_pseudo_candidate_names(name, kind):
    assert loaders.pseudo_candidate(name) == kind


def test_pseudo_candidates_become_their_own_ledger_lines(tmp_path):
    ids = ["0001", "0002"]
    rows = rows_for(ids, votes=((10, 5), (3, 8)))
    for precinct, (registered, cast, under) in zip(ids, [(40, 16, 1), (30, 12, 1)]):
        rows += [
            f"LA,{precinct},Mayor,1,,Registered Voters,{registered}",
            f"LA,{precinct},Mayor,1,,Ballots Cast,{cast}",
            f"LA,{precinct},Mayor,1,,Under Votes,{under}",
            f"LA,{precinct},Mayor,1,,Write-ins,2",
        ]
    e = own(returns_csv(tmp_path / "r.csv", rows), grid(tmp_path / "p.gpkg", ["0001"]), "PCT")
    e.infer = False  # else 0002 (no polygon) is pooled with its numeric neighbour 0001
    assert e.candidates == ["Ann Lee", "Bo Park", "Write-ins"]  # write-ins are votes
    ledger = reconciled(e)
    assert ledger.loc["total", "returns"] == 10 + 5 + 3 + 8 + 4
    assert ledger.loc["[registered voters]", "returns"] == 70
    assert ledger.loc["[registered voters]", "exact"] == 40  # 0001 is mapped
    assert ledger.loc["[registered voters]", "unmapped"] == 30  # 0002 has no polygon
    assert ledger.loc["[ballots cast]", "returns"] == 28
    assert ledger.loc["[under votes]", "returns"] == 2
    assert set(e.precincts["winner"]) <= {"Ann Lee", "Bo Park"}


def test_only_pseudo_rows_is_refused(tmp_path):
    path = returns_csv(tmp_path / "r.csv", ["LA,1,Mayor,1,,Total,5", "LA,2,Mayor,1,,Total,6"])
    with pytest.raises(ExplorerError, match="no candidate rows"):
        loaders.load_returns(path)


# =========================================================================== 2. names v columns


@pytest.mark.parametrize(
    "name", ["members", "margin", "winner_share", "n_members", "name", "party", "coverage"]
)
def test_any_candidate_name_works(tmp_path, name):
    ids = ["0001", "0002", "0003"]
    rows = rows_for(ids, votes=((10, 5), (2, 9), (4, 4)), names=("Ann Lee", name))
    hoods = tmp_path / "n.geojson"
    gpd.GeoDataFrame(
        {"name": ["West", "East"]},
        geometry=[
            shapely.box(-118.3, 34.0, -118.285, 34.01),
            shapely.box(-118.285, 34.0, -118.27, 34.01),
        ],
        crs="EPSG:4326",
    ).to_file(hoods)
    e = own(
        returns_csv(tmp_path / "r.csv", rows),
        grid(tmp_path / "p.gpkg", ids),
        "PCT",
        neighbourhoods=hoods,
    )
    shown = f"{name} (candidate)"
    assert sorted(e.candidates) == sorted(["Ann Lee", shown])
    ledger = reconciled(e)
    assert ledger.loc[shown, "returns"] == 18
    areas = e.areas("neighbourhood")
    assert list(areas["name"]) == ["West", "East"]
    assert areas[shown].sum() + areas.attrs["outside"][shown] == pytest.approx(18)
    assert apportion.conservation_gap(e.precincts, areas, e.candidates) < 1e-9


def test_ledger_returns_come_from_the_parsed_file_and_catch_a_loss(tmp_path):
    ids = ["0001", "0002"]
    e = own(returns_csv(tmp_path / "r.csv", rows_for(ids)), grid(tmp_path / "p.gpkg", ids), "PCT")
    parsed = e.returns.groupby("candidate")["votes"].sum()
    lost = e.precincts.iloc[1:].copy()
    lost.attrs = dict(e.precincts.attrs)
    with pytest.raises(AssertionError, match="does not balance"):
        join.vote_ledger(lost, returns=parsed)


# =========================================================================== 3. the contest


def test_districts_are_listed_and_chosen_by_number(tmp_path):
    rows = [f"LA,{p},House,{d},X,Cand {d},{5}" for p in ("1", "2") for d in ("01", "2", "3")]
    path = returns_csv(tmp_path / "r.csv", rows)
    with pytest.raises(ExplorerError, match=r"3 districts for this office \(1, 2, 3\)"):
        loaders.load_returns(path, office="house")
    long = loaders.load_returns(path, office="house", district="1")
    assert set(long["candidate"]) == {"Cand 01"}


def test_turnout_rows_written_as_offices_are_not_a_contest(tmp_path):
    rows = ["LA,1,Mayor,,X,Ann,5", "LA,1,Registered Voters,,,,40", "LA,1,Ballots Cast,,,,9"]
    long = loaders.load_returns(returns_csv(tmp_path / "r.csv", rows))
    assert long["candidate"].tolist() == ["Ann"]
    assert any("(not a contest)" in n for n in long.attrs["notes"])


def test_blank_district_beside_one_number_is_one_contest(tmp_path):
    rows = ["LA,1,Mayor,,X,Ann,5", "LA,2,Mayor,7,X,Ann,6"]
    long = loaders.load_returns(returns_csv(tmp_path / "r.csv", rows))
    assert long["votes"].sum() == 11


def test_blank_precinct_and_county_total_rows(tmp_path):
    rows = rows_for(["0001", "0002"], votes=((10, 5), (3, 8)))
    rows += ["LA,,Mayor,1,X,Ann Lee,4", "LA,,Mayor,1,Y,Bo Park,1"]  # county-wide, blank
    rows += ["LA,County Total,Mayor,1,X,Ann Lee,19", "LA,County Total,Mayor,1,Y,Bo Park,16"]
    rows += ["LA,Provisional 1,Mayor,1,X,Ann Lee,2", "LA,Provisional 1,Mayor,1,Y,Bo Park,2"]
    path = returns_csv(tmp_path / "r.csv", rows)
    long = loaders.load_returns(path)
    # the county total repeats the sum of every other row, so it is dropped
    assert long["votes"].sum() == 10 + 5 + 3 + 8 + 4 + 1 + 2 + 2
    assert set(long.attrs["county_wide"]) == {"(blank precinct)", "PROVISIONAL 1"}
    e = own(path, grid(tmp_path / "p.gpkg", ["0001", "0002", "PROVISIONAL 2"]), "PCT")
    ledger = reconciled(e)
    assert ledger.loc["total", "unmapped"] == 9
    assert set(e.ledger_summary["county_wide"]) == {"(blank precinct)", "PROVISIONAL 1"}


# =========================================================================== 4. matching IDs


@pytest.mark.parametrize(
    ("result_id", "layer_id"),
    [
        ("PCT 2", "2"),
        ("Precinct 0002", "2"),
        ("2", "0002"),
        ("0002", "2"),
        ("2.0", "2"),
        ("\u200b0002", "0002"),
        ("\ufeff0002", "0002"),
        ("00\u00a02", "00 2"),
        ("1-080A", "1-80A"),
    ],
)
def test_ids_compared_as_precinct_numbers(tmp_path, result_id, layer_id):
    path = returns_csv(tmp_path / "r.csv", rows_for([result_id, "0009"]))
    e = own(path, grid(tmp_path / "p.gpkg", [layer_id, "0009"]), "PCT")
    ledger = reconciled(e)
    assert ledger.loc["total", "exact"] == 30 and ledger.loc["total", "unmapped"] == 0


def test_letter_ids_never_share_a_base(tmp_path):
    ids = ["NORTH", "SOUTH", "PROV", "ABC"]
    path = returns_csv(tmp_path / "r.csv", rows_for(["NORTH", "SOUTH", "EAST", "WEST"]))
    e = own(path, grid(tmp_path / "p.gpkg", ids), "PCT")
    features = e.precincts.set_index("precinct")
    assert features.loc[["EAST", "WEST"], "match"].eq("none").all()
    assert "base" not in set(features["match"])
    assert join.base_number("AVERY CREEK") == "" and join.base_number("9000123B") == "9000123"


def test_a_single_sub_precinct_still_matches_by_base(tmp_path):
    path = returns_csv(tmp_path / "r.csv", rows_for(["12A", "13"]))
    e = own(path, grid(tmp_path / "p.gpkg", ["12", "13"]), "PCT")
    features = e.precincts.set_index("precinct")
    assert features.loc["12A", "match"] == "base"
    reconciled(e)


def test_duplicates_after_id_repair_follow_the_duplicate_rule(tmp_path):
    same = ["LA,101,Mayor,1,X,Ann Lee,4", "LA,101.0,Mayor,1,X,Ann Lee,4"]
    long = loaders.load_returns(returns_csv(tmp_path / "a.csv", same))
    assert long["votes"].sum() == 4
    differ = ["LA,101,Mayor,1,X,Ann Lee,4", "LA,101.0,Mayor,1,X,Ann Lee,5"]
    with pytest.raises(ExplorerError, match="conflicting duplicate rows"):
        loaders.load_returns(returns_csv(tmp_path / "b.csv", differ))
    padded = [
        "LA,0101,Mayor,1,X,Ann Lee,4",
        "LA,101,Mayor,1,X,Ann Lee,5",
        "LA,7,Mayor,1,X,Ann Lee,1",
    ]
    e = own(returns_csv(tmp_path / "c.csv", padded), grid(tmp_path / "p.gpkg", ["101", "7"]), "PCT")
    with pytest.raises(ExplorerError, match=r"conflicting duplicate rows .*line 2: 4, line 3: 5"):
        _ = e.returns
    same = ["LA,0101,Mayor,1,X,Ann Lee,4", "LA,101,Mayor,1,X,Ann Lee,4", "LA,7,Mayor,1,X,Ann Lee,1"]
    e = own(returns_csv(tmp_path / "d.csv", same), tmp_path / "p.gpkg", "PCT")
    assert reconciled(e).loc["total", "returns"] == 5
    assert any("repeat another written differently" in n for n in e.returns.attrs["notes"])


@pytest.mark.parametrize("suffix", [" - Mail", " (Provisional)", "-ABSENTEE", " / Election Day"])
def test_vote_method_rows_written_as_precincts(tmp_path, suffix):
    rows = rows_for(["WARD 1"], votes=((10, 5),)) + rows_for([f"WARD 1{suffix}"], votes=((7, 1),))
    long = loaders.load_returns(returns_csv(tmp_path / "r.csv", rows))
    assert list(long["precinct"].unique()) == ["WARD 1"]
    assert long.groupby("candidate")["votes"].sum().to_dict() == {"Ann Lee": 17, "Bo Park": 6}


def test_only_county_wide_rows_is_one_line(capsys, tmp_path):
    path = returns_csv(
        tmp_path / "r.csv", ["LA,PROV,Mayor,1,X,Ann,5", "LA,ABSENTEE,Mayor,1,X,Ann,2"]
    )
    args = ["--returns", path, "--precincts", grid(tmp_path / "p.gpkg", ["1"]), "--precinct-id"]
    code, _, err = run(capsys, "map", *args, "PCT", "-o", tmp_path / "m.html")
    one_line_error(code, err, "only county-wide")


def test_near_zero_matching_stops_at_any_size(tmp_path):
    ids = [f"{i:04d}" for i in range(1, 41)]
    path = returns_csv(tmp_path / "r.csv", rows_for(ids))
    layer = grid(tmp_path / "p.gpkg", ["0001"] + [f"Z{i}" for i in range(39)], size=0.001)
    with pytest.raises(ExplorerError, match=r"only 1 of 40 result precincts match.*field PCT"):
        _ = own(path, layer, "PCT").precincts


# =========================================================================== 5. counts


@pytest.mark.parametrize(
    ("value", "read"),
    [("1,234", 1234), ("12.0", 12), ("1,234,567", 1234567), (" 7 ", 7), ("0", 0)],
)
def test_counts_that_are_read(tmp_path, value, read):
    path = returns_csv(tmp_path / "r.csv", [f'LA,1,Mayor,1,X,Ann,"{value}"'])
    assert loaders.load_returns(path)["votes"].tolist() == [read]


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("12,5", "thousands separator"),
        ("1,2,3", "thousands separator"),
        ("1234,567", "thousands separator"),
        ("12.5", "not a whole number"),
        ("inf", "not a whole number"),
        ("NaN", "not a whole number"),
        ("", "not a whole number"),
        ("1e12", "scientific notation"),
        ("2000000000", "implausibly large"),
        ("-3", "negative"),
        ("0x10", "not a whole number"),
    ],
)
def test_counts_that_are_refused_with_their_line(tmp_path, value, says):
    rows = ["LA,1,Mayor,1,X,Ann,4", f'LA,2,Mayor,1,X,Ann,"{value}"']
    with pytest.raises(ExplorerError, match=rf"line 3 .*{says}"):
        loaders.load_returns(returns_csv(tmp_path / "r.csv", rows))


def test_vote_method_columns_with_blanks(tmp_path):
    header = "county,precinct,office,district,party,candidate,election_day,mail"
    rows = ["LA,1,Mayor,1,X,Ann,5,", "LA,1,Mayor,1,Y,Bo,,3", "LA,2,Mayor,1,X,Ann,,"]
    long = loaders.load_returns(returns_csv(tmp_path / "a.csv", rows, header))
    assert long["votes"].tolist() == [5, 3, 0]
    header += ",votes"
    rows = ["LA,1,Mayor,1,X,Ann,5,1,6", "LA,1,Mayor,1,Y,Bo,2,3,"]
    long = loaders.load_returns(returns_csv(tmp_path / "b.csv", rows, header))
    assert long["votes"].tolist() == [6, 5]


def test_sums_do_not_overflow(tmp_path):
    rows = [f"LA,{i},Mayor,1,X,Ann,999999999" for i in range(30)]
    long = loaders.load_returns(returns_csv(tmp_path / "r.csv", rows))
    assert loaders.wide_returns(long)["Ann"].sum() == 30 * 999_999_999


# =========================================================================== 6. text


def test_windows_1252_and_latin1_fallbacks(tmp_path):
    path = returns_csv(tmp_path / "r.csv", ["LA,1,Mayor,1,X,Renée – O’Neil,4"], encoding="cp1252")
    long = loaders.load_returns(path)
    assert long["candidate"].tolist() == ["Renée – O’Neil"]
    assert any("Windows-1252" in n for n in long.attrs["notes"])
    raw = (HEADER + "\nLA,1,Mayor,1,X,A\x81B,4\n").encode("latin-1")  # 0x81: not in cp1252
    (tmp_path / "l.csv").write_bytes(raw)
    assert loaders.load_returns(tmp_path / "l.csv")["candidate"].tolist() == ["A\x81B"]


def test_utf16_and_semicolons(tmp_path):
    text = HEADER.replace(",", ";") + "\nLA;1;Mayor;1;X;Zoë;4\n"
    (tmp_path / "r.csv").write_bytes(text.encode("utf-16"))
    assert loaders.load_returns(tmp_path / "r.csv")["candidate"].tolist() == ["Zoë"]


def test_dbf_without_cpg_is_read_as_utf8(tmp_path):
    layer = gpd.GeoDataFrame(
        {"PCT": ["0001"], "note": ["Peña"]}, geometry=[shapely.box(0, 0, 1, 1)], crs="EPSG:4326"
    )
    layer.to_file(tmp_path / "p.shp", encoding="utf-8")
    (tmp_path / "p.cpg").unlink()
    dbf = bytearray((tmp_path / "p.dbf").read_bytes())
    dbf[29] = 0  # no code page declared
    (tmp_path / "p.dbf").write_bytes(bytes(dbf))
    frame = loaders.read_layer(tmp_path / "p.shp")
    assert frame["note"].tolist() == ["Peña"]
    assert any("as UTF-8 (no .cpg" in n for n in frame.attrs["notes"])
    records = bytes(dbf).replace("Peña".encode(), "O’Nei".encode("cp1252"))
    (tmp_path / "p.dbf").write_bytes(records)
    frame = loaders.read_layer(tmp_path / "p.shp")
    assert frame["note"].tolist() == ["O’Nei"]
    assert any("as Windows-1252 (no .cpg" in n for n in frame.attrs["notes"])


def test_duplicate_header_names_are_refused(tmp_path):
    path = returns_csv(tmp_path / "r.csv", ["LA,1,Mayor,1,X,Ann,4,5"], HEADER + ",Votes")
    with pytest.raises(ExplorerError, match="column 'votes' twice"):
        loaders.load_returns(path)


def test_line_numbers_after_quoted_multiline_fields(tmp_path):
    rows = ['"LA\nCounty\nof",1,Mayor,1,X,Ann,4', "", "LA,2,Mayor,1,X,Bo,many"]
    path = returns_csv(tmp_path / "r.csv", rows)
    with pytest.raises(ExplorerError, match="line 6 "):
        loaders.load_returns(path)


@pytest.mark.parametrize(
    ("row", "fields"), [("LA,2,Mayor,1,X,Bo", 6), ("LA,2,Mayor,1,X,Bo,4,9", 8)]
)
def test_rows_with_the_wrong_number_of_fields(tmp_path, row, fields):
    path = returns_csv(tmp_path / "r.csv", ["LA,1,Mayor,1,X,Ann,4", row])
    with pytest.raises(ExplorerError, match=f"line 3 has {fields} fields where the header has 7"):
        loaders.load_returns(path)
    trailing = returns_csv(tmp_path / "t.csv", ["LA,1,Mayor,1,X,Ann,4,,"])
    assert loaders.load_returns(trailing)["votes"].tolist() == [4]


# =========================================================================== 7. geometry


def test_zip_skips_macos_resource_forks(tmp_path):
    grid(tmp_path / "p.shp", ["0001", "0002"])
    archive = tmp_path / "p.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
            handle.write(tmp_path / f"p{suffix}", f"p{suffix}")
            handle.writestr(f"__MACOSX/._p{suffix}", b"\x00\x05\x16\x07junk")
        handle.writestr("._p.shp", b"\x00\x05\x16\x07junk")
    assert loaders._zip_layers(archive) == ["p.shp"]
    assert len(loaders.read_layer(archive)) == 2


def test_folder_with_several_layers_asks_for_one(tmp_path):
    folder = tmp_path / "layers"
    folder.mkdir()
    grid(folder / "a.shp", ["0001"])
    grid(folder / "b.shp", ["0001", "0002"])
    with pytest.raises(ExplorerError, match=r"folder holds 2 layers .*--layer"):
        loaders.read_layer(folder)
    assert len(loaders.read_layer(folder, layer="b")) == 2
    with pytest.raises(ExplorerError, match="no layer 'c'"):
        loaders.read_layer(folder, layer="c")


def test_metre_prj_on_degrees_and_degrees_on_metres(tmp_path):
    grid(tmp_path / "p.shp", ["0001", "0002"])
    (tmp_path / "p.prj").write_text(
        'PROJCS["NAD83 / California Albers",GEOGCS["NAD83",DATUM["North_American_Datum_1983",'
        'SPHEROID["GRS 1980",6378137,298.257222101]],PRIMEM["Greenwich",0],UNIT["degree",'
        '0.0174532925199433]],PROJECTION["Albers_Conic_Equal_Area"],PARAMETER["latitude_of_center",0],'
        'PARAMETER["longitude_of_center",-120],PARAMETER["standard_parallel_1",34],'
        'PARAMETER["standard_parallel_2",40.5],PARAMETER["false_easting",0],'
        'PARAMETER["false_northing",-4000000],UNIT["metre",1]]'
    )
    with pytest.raises(ExplorerError, match="look like longitude/latitude.*--crs EPSG:4326"):
        loaders.load_precincts(tmp_path / "p.shp", "PCT")
    assert len(loaders.load_precincts(tmp_path / "p.shp", "PCT", crs="EPSG:4326")) == 2
    metres = gpd.read_file(tmp_path / "p.shp").set_crs("EPSG:4326", allow_override=True)
    metres = metres.to_crs("EPSG:3310").set_crs("EPSG:4326", allow_override=True)
    metres.to_file(tmp_path / "m.gpkg")
    with pytest.raises(ExplorerError, match="not longitude/latitude"):
        loaders.load_precincts(tmp_path / "m.gpkg", "PCT")


def test_all_empty_layer_and_nan_coordinates(tmp_path):
    empty = {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {"PCT": "1"}, "geometry": None}] * 2,
    }
    (tmp_path / "e.geojson").write_text(json.dumps(empty))
    with pytest.raises(ExplorerError, match="every feature of the layer has an empty"):
        loaders.load_precincts(tmp_path / "e.geojson", "PCT")
    frame = gpd.GeoDataFrame(
        {"PCT": ["1", "2"]},
        geometry=[shapely.box(0, 0, 1, 1), shapely.Polygon([(0, 0), (np.nan, 1), (1, 1)])],
        crs="EPSG:4326",
    )
    repaired = loaders.repair_polygons(frame, "precinct polygons", "p", "PCT")
    assert repaired["PCT"].tolist() == ["1"]
    assert any("NaN coordinates (2)" in n for n in repaired.attrs["notes"])
    with pytest.raises(ExplorerError, match="NaN geometry"):
        loaders.repair_polygons(frame.iloc[1:], "precinct polygons", "p", "PCT")


@pytest.mark.parametrize("option", ["--neighbourhoods", "--district", "--roads"])
def test_crs_for_every_layer_option(capsys, tmp_path, option):
    ids = ["0001", "0002"]
    path = returns_csv(tmp_path / "r.csv", rows_for(ids))
    grid(tmp_path / "p.gpkg", ids)
    box = shapely.box(-118.31, 33.99, -118.27, 34.02)
    shape = box.boundary if option == "--roads" else box
    layer = gpd.GeoDataFrame({"name": ["All"]}, geometry=[shape], crs="EPSG:4326")
    layer.to_crs("EPSG:3857").to_file(tmp_path / "t.shp")
    (tmp_path / "t.prj").unlink()  # metres, and no CRS declared
    crs_option = f"{option}-crs"
    args = ["--returns", path, "--precincts", tmp_path / "p.gpkg", "--precinct-id", "PCT"]
    args += [option, tmp_path / "t.shp"]
    if option == "--neighbourhoods":
        args = ["rank", *args, "--candidate", "Ann"]
    else:
        args = ["map", *args, "-o", tmp_path / "m.html", "--tiles", "none"]
    code, _, err = run(capsys, *args)
    one_line_error(code, err, "t.shp", "no coordinate reference system", crs_option)
    code, out, err = run(capsys, *args, crs_option, "EPSG:3857")
    assert code == 0, err
    if option == "--neighbourhoods":
        assert "All" in out and "30 votes" not in err


# =========================================================================== 8. targets


def test_outside_keeps_its_sign_and_overlap_is_counted():
    sources = gpd.GeoDataFrame(
        {"A": [100.0, 50.0]},
        geometry=[shapely.box(0, 0, 10, 10), shapely.box(10, 0, 20, 10)],
        crs="EPSG:3310",
    )
    half = gpd.GeoDataFrame({"name": ["h"]}, geometry=[shapely.box(0, 0, 10, 10)], crs="EPSG:3310")
    result = apportion.apportion(sources, half, ["A"])
    assert result.attrs["outside"]["A"] == pytest.approx(50.0)
    assert result.attrs["overlap"]["A"] == pytest.approx(0.0)
    stacked = gpd.GeoDataFrame(
        {"name": ["a", "b"]},
        geometry=[shapely.box(0, 0, 20, 10), shapely.box(5, 0, 15, 5)],
        crs="EPSG:3310",
    )
    result = apportion.apportion(sources, stacked, ["A"])
    assert result["A"].sum() == pytest.approx(150 + 25 + 12.5)
    assert result.attrs["overlap"]["A"] == pytest.approx(37.5)
    assert result.attrs["outside"]["A"] == pytest.approx(0.0)
    assert apportion.conservation_gap(sources, result, ["A"]) < 1e-12


# =========================================================================== 9. legends, notes


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.just((0, 1)),
            st.tuples(st.integers(0, 30), st.integers(100, 2_000)),
            st.tuples(st.integers(0, 10**6), st.integers(10**6, 10**9)),
            st.just((0, 0)),
        ),
        min_size=3,
        max_size=30,
    ),
    st.sampled_from(["fixed", "quantiles", "fisherjenks", "equalinterval"]),
)
def test_share_legend_labels_are_always_distinct(counts, scheme):
    values = pd.Series([v / t if t else np.nan for v, t in counts], dtype=float)
    if values.dropna().empty:
        return
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        styled = render.style_share(values, "X", scheme)
    labels = [label for _, label in styled.legend]
    assert len(labels) == len(set(labels))
    assert ("no votes cast" in labels) == bool(values.isna().any())
    for label in labels:
        if "-" in label and label != "no votes cast":
            low, high = label.rstrip("%").split("-")
            assert low != high, labels


def test_winner_and_margin_legends_key_the_no_vote_grey():
    styled = render.style_winner(pd.Series(["A", "", "tie"]), pd.Series([0.6, np.nan, 0.5]), ["A"])
    assert (render.NO_DATA, "no votes cast") in styled.legend
    margin = render.style_margin(pd.Series([0.2, np.nan]), "A", "B")
    assert margin.legend[-1] == (render.NO_DATA, "no votes cast")


def test_methods_note_for_your_own_files(capsys, tmp_path):
    ids = ["0001", "0002"]
    path = returns_csv(tmp_path / "r.csv", rows_for(ids))
    code, out, _ = run(
        capsys,
        "rank",
        "--returns",
        path,
        "--precincts",
        grid(tmp_path / "p.gpkg", ids),
        "--precinct-id",
        "PCT",
        "--candidate",
        "Ann",
        "--by",
        "precinct",
    )
    assert code == 0
    assert "None" not in out and "Returns: r, Mayor, district 1 (r.csv)" not in out
    assert "- Returns: r, Mayor (r.csv)." in out
    assert "- Sources: your files: r.csv, p.gpkg." in out
    code, out, _ = run(
        capsys,
        "info",
        "--returns",
        path,
        "--precincts",
        tmp_path / "p.gpkg",
        "--precinct-id",
        "PCT",
    )
    assert "Office: Mayor  District: 1" in out
