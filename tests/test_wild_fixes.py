"""Follow-ups to issue 12 found by a newcomer: each kind of file or option that was read
wrongly, crashed or gave a poor message. Inputs are small synthetic files made here (bad
input only); the real-world cases themselves are in ``test_real_world.py``."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from explorer import loaders
from explorer.cli import main
from explorer.elections import Election
from explorer.errors import ExplorerError

HEADER = "county,precinct,office,district,party,candidate,votes"


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code: int, err: str, *fragments: str) -> str:
    assert code == 2, err
    lines = [line for line in err.splitlines() if not line.startswith("note:")]
    assert len(lines) == 1, err
    assert "Traceback" not in err and "unexpected" not in err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


def returns_csv(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def grid(path: Path, ids, field: str = "PCT", extra: dict | None = None) -> Path:
    boxes = [
        shapely.box(-118.3 + i * 0.01, 34.0, -118.29 + i * 0.01, 34.01) for i in range(len(ids))
    ]
    data = {field: list(ids), **(extra or {})}
    gpd.GeoDataFrame(data, geometry=boxes, crs="EPSG:4326").to_file(path)
    return path


def rows_for(ids, votes=(10, 5), names=("Ann Lee", "Bo Park"), county="LA") -> list[str]:
    out = []
    for precinct in ids:
        out += [f"{county},{precinct},Mayor,1,X,{names[0]},{votes[0]}"]
        out += [f"{county},{precinct},Mayor,1,Y,{names[1]},{votes[1]}"]
    return out


def own(returns, precincts, **options) -> Election:
    return Election.from_files(returns=returns, precincts=precincts, precinct_id="PCT", **options)


# ====================================================== 1. pandas 3 without pyarrow


def test_returns_load_and_map_with_python_backed_strings(capsys, tmp_path):
    """Without pyarrow, pandas 3 stores strings in numpy arrays that ``to_numpy()`` hands
    out read-only; writing into them crashed the README's first command."""
    rows = rows_for(["101", "102"]) + ["LA,,Mayor,1,X,Ann Lee,3"]
    path = returns_csv(tmp_path / "r.csv", rows)
    layer = grid(tmp_path / "p.gpkg", ["101", "102"])
    with pd.option_context("mode.string_storage", "python"):
        long = loaders.load_returns(path)
        assert int(long["votes"].sum()) == 33
        assert loaders.BLANK_PRECINCT in set(long["precinct"])
        code, _, err = run(
            capsys,
            "map",
            "--returns",
            path,
            "--precincts",
            layer,
            "--precinct-id",
            "PCT",
            "--output",
            tmp_path / "m.html",
        )
    assert code == 0, err
    assert (tmp_path / "m.html").stat().st_size > 1000


# ====================================================== 2. votes that changed silently


@pytest.mark.parametrize("name", ["Total", "County Total", "TOTALS", "grand total"])
def test_a_total_row_that_does_not_add_up_is_never_a_place(tmp_path, name):
    rows = rows_for(["1", "2", "3"], votes=(7, 4))
    rows += [f"LA,{name},Mayor,1,X,Ann Lee,22", f"LA,{name},Mayor,1,Y,Bo Park,12"]
    long = loaders.load_returns(returns_csv(tmp_path / "r.csv", rows))
    assert name not in set(long["precinct"])
    assert long.groupby("candidate")["votes"].sum().to_dict() == {"Ann Lee": 21, "Bo Park": 12}
    note = next(n for n in long.attrs["notes"] if "differs" in n)
    assert "Ann Lee +1" in note and "Bo Park" not in note


def test_same_id_in_two_counties_is_not_a_duplicate(tmp_path):
    rows = rows_for(["101", "102"], county="Adams") + rows_for(["101"], county="Brown")
    with pytest.raises(ExplorerError, match=r"'101' is used by 2 counties \(Adams, Brown\)"):
        loaders.load_returns(returns_csv(tmp_path / "r.csv", rows))
    # several counties with distinct IDs still load, all rows kept
    rows = rows_for(["101"], county="Adams") + rows_for(["201"], county="Brown")
    assert loaders.load_returns(returns_csv(tmp_path / "s.csv", rows))["votes"].sum() == 30


def test_mixed_utf8_and_windows_1252_lines_are_one_candidate(tmp_path):
    raw = (
        HEADER.encode()
        + "\nLA,1,Mayor,1,X,José Muñoz,10\n".encode()
        + "LA,2,Mayor,1,X,José Muñoz,3\n".encode("cp1252")
        + b"LA,2,Mayor,1,Y,Bo,5\n"
    )
    (tmp_path / "r.csv").write_bytes(raw)
    long = loaders.load_returns(tmp_path / "r.csv")
    assert sorted(long["candidate"].unique()) == ["Bo", "José Muñoz"]
    assert long.groupby("candidate")["votes"].sum()["José Muñoz"] == 13
    assert any("Windows-1252" in n and "line(s) 3" in n for n in long.attrs["notes"])


@pytest.mark.parametrize(
    ("value", "says"),
    [("1.2E+03", "scientific notation"), ("1e3", "scientific notation"), ("+7", "leading '+'")],
)
def test_scientific_notation_and_plus_signs_are_refused(tmp_path, value, says):
    rows = ["LA,1,Mayor,1,X,Ann,4", f"LA,2,Mayor,1,X,Ann,{value}"]
    with pytest.raises(ExplorerError, match=rf"line 3 .*{re.escape(says)}"):
        loaders.load_returns(returns_csv(tmp_path / "r.csv", rows))


# ====================================================== 3. pseudo-candidates by family


def test_write_in_total_is_pseudo_only_beside_individual_write_ins(tmp_path):
    rows = rows_for(["1"]) + [
        "LA,1,Mayor,1,,Jo Doe (Write-In),2",
        "LA,1,Mayor,1,,Al Roe (Write-In),1",
        "LA,1,Mayor,1,,Write-In Totals,3",
    ]
    long = loaders.load_returns(returns_csv(tmp_path / "r.csv", rows))
    assert "Write-In Totals" not in set(long["candidate"])
    assert long["votes"].sum() == 10 + 5 + 3
    assert ("1", "write-in total", 3) in long.attrs["pseudo"]
    assert any("counted twice" in n or "twice" in n for n in long.attrs["notes"])
    alone = rows_for(["1"]) + ["LA,1,Mayor,1,,Write-In Totals,3"]
    long = loaders.load_returns(returns_csv(tmp_path / "s.csv", alone))
    assert long.groupby("candidate")["votes"].sum()["Write-In Totals"] == 3
    assert any("counted as votes" in n for n in long.attrs["notes"])


def test_the_pseudo_note_says_how_many_more(tmp_path):
    names = ["Total", "Ballots Cast", "Registered Voters", "Over Votes", "Under Votes", "Blank"]
    names += ["Precincts Reporting", "Exhausted Ballots"]
    rows = rows_for(["1"]) + [f"LA,1,Mayor,1,,{name},1" for name in names]
    long = loaders.load_returns(returns_csv(tmp_path / "r.csv", rows))
    assert long["votes"].sum() == 15
    assert any("and 3 more are not candidates" in n for n in long.attrs["notes"])


# ====================================================== 4. crashes on bad layers


def hoods(path: Path, names) -> Path:
    boxes = [
        shapely.box(-118.3 + i * 0.01, 34.0, -118.29 + i * 0.01, 34.01) for i in range(len(names))
    ]
    gpd.GeoDataFrame({"name": list(names)}, geometry=boxes, crs="EPSG:4326").to_file(path)
    return path


def test_neighbourhoods_sharing_a_name_are_merged_noted(capsys, tmp_path):
    ids = ["1", "2", "3"]
    returns = returns_csv(tmp_path / "r.csv", rows_for(ids))
    layer = grid(tmp_path / "p.gpkg", ids)
    areas = hoods(tmp_path / "n.geojson", ["West", "East", "West"])
    common = ["--returns", returns, "--precincts", layer, "--precinct-id", "PCT"]
    common += ["--neighbourhoods", areas, "--by", "neighbourhood"]
    code, out, err = run(capsys, "rank", *common, "--candidate", "Ann Lee", "--min-votes", "0")
    assert code == 0, err
    assert "polygons share 1 name(s) ('West')" in err
    assert out.count("West") >= 1 and "East" in out
    e = own(returns, layer, neighbourhoods=areas)
    merged = e.areas("neighbourhood")
    assert sorted(merged["name"]) == ["East", "West"]
    assert merged["Ann Lee"].sum() == pytest.approx(30)


def test_neighbourhood_map_of_areas_sharing_edges_with_the_district(capsys, tmp_path):
    # clipping areas to the district leaves lines along shared edges: only polygons drawn
    ids = ["1", "2", "3"]
    returns = returns_csv(tmp_path / "r.csv", rows_for(ids))
    layer = grid(tmp_path / "p.gpkg", ids)
    areas = hoods(tmp_path / "n.geojson", ["West", "Middle", "East"])
    target = tmp_path / "hoods.html"
    code, _, err = run(
        capsys, "map", "--returns", returns, "--precincts", layer, "--precinct-id", "PCT",
        "--neighbourhoods", areas, "--by", "neighbourhood", "--min-votes", "0",
        "--output", target,
    )  # fmt: skip
    assert code == 0, err
    html = target.read_text(encoding="utf-8")
    assert all(name in html for name in ("West", "Middle", "East"))


def test_a_csv_given_as_the_precinct_layer(capsys, tmp_path):
    returns = returns_csv(tmp_path / "r.csv", rows_for(["1"]))
    code, _, err = run(
        capsys, "map", "--returns", returns, "--precincts", returns, "--precinct-id", "PCT"
    )
    one_line_error(code, err, "not a spatial layer", "r.csv")


# ====================================================== 6. file names


def test_candidate_view_and_winner_view_write_different_files(capsys, tmp_path, monkeypatch):
    ids = ["1", "2"]
    returns = returns_csv(tmp_path / "r.csv", rows_for(ids, names=("Winner", "Bo Park")))
    layer = grid(tmp_path / "p.gpkg", ids)
    monkeypatch.chdir(tmp_path)
    common = ["map", "--returns", returns, "--precincts", layer, "--precinct-id", "PCT"]
    assert run(capsys, *common, "--winner", "--tiles", "none")[0] == 0
    assert run(capsys, *common, "--candidate", "Winner", "--tiles", "none")[0] == 0
    written = sorted(p.name for p in (tmp_path / "maps").glob("*.html"))
    assert written == ["r-candidate-winner-print.html", "r-winner-print.html"]


# ====================================================== 5. parent and sub-precincts


@pytest.mark.parametrize("subs", [["7A", "7B"], ["7A"]])
def test_parent_polygon_carries_itself_and_its_sub_precincts(tmp_path, subs):
    returns = returns_csv(tmp_path / "r.csv", rows_for(["7", *subs, "8"]))
    e = own(returns, grid(tmp_path / "p.gpkg", ["7", "8"]))
    ledger = e.ledger
    assert ledger.loc["total", "unmapped"] == 0
    assert ledger.loc["total", "mapped"] == 15 * (len(subs) + 2)
    seven = e.precincts.set_index("precinct").loc["7"]
    assert seven["Ann Lee"] == 10 * (1 + len(subs))
    assert any(f"7 = 7 + {' + '.join(subs)}" in n for n in e.precincts.attrs["notes"])


# ====================================================== 6. options checked before any work


def own_args(tmp_path, ids=("1", "2")) -> list:
    returns = returns_csv(tmp_path / "r.csv", rows_for(list(ids)))
    layer = grid(tmp_path / "p.gpkg", list(ids))
    return ["--returns", returns, "--precincts", layer, "--precinct-id", "PCT"]


def test_unknown_scheme_is_refused_listing_the_schemes(capsys, tmp_path):
    code, _, err = run(capsys, "map", *own_args(tmp_path), "--scheme", "bogus")
    one_line_error(code, err, "unknown --scheme 'bogus'", "quantiles", "fisherjenks")
    assert not (tmp_path / "maps").exists()


@pytest.mark.parametrize("command", ["map", "rank"])
def test_an_output_in_a_missing_folder_is_refused(capsys, tmp_path, command):
    target = tmp_path / "nowhere" / "x.json"
    option = "--output" if command == "map" else "--out"
    extra = ["--candidate", "Ann Lee"] if command == "rank" else []
    code, _, err = run(capsys, command, *own_args(tmp_path), *extra, option, target)
    one_line_error(code, err, "does not exist", "nowhere")
    assert not (tmp_path / "nowhere").exists()


def test_rank_out_writes_the_file_and_says_so(capsys, tmp_path):
    target = tmp_path / "ranked.csv"
    args = [*own_args(tmp_path), "--candidate", "Ann Lee", "--by", "precinct", "--min-votes", "0"]
    code, out, err = run(capsys, "rank", *args, "--format", "csv", "--out", target)
    assert code == 0, err
    assert out.strip() == f"wrote {target}"
    table = pd.read_csv(target, dtype=str)
    assert set(table["votes"]) == {"10"}  # whole numbers, not 10.0
    assert set(table["total"]) == {"15"}


# ====================================================== 7. messages


def test_a_stray_footer_line_is_left_out_by_its_line(tmp_path):
    rows = rows_for(["1", "2"]) + ["", "Note: unofficial results,,,,,,"]
    long = loaders.load_returns(returns_csv(tmp_path / "r.csv", rows))
    assert long["votes"].sum() == 30
    assert any("line 7: 'Note: unofficial results'" in n for n in long.attrs["notes"])


def test_a_header_only_file_says_no_data_rows(tmp_path):
    with pytest.raises(ExplorerError, match="no data rows") as caught:
        loaders.load_returns(returns_csv(tmp_path / "r.csv", []))
    assert "None" not in str(caught.value)


@pytest.mark.parametrize(
    ("options", "says"),
    [
        ({"office": "Sheriff"}, "no rows for --office 'Sheriff'; the file holds offices: Mayor"),
        ({"district": "3"}, "no rows for --contest-district '3'; the file holds offices: Mayor"),
    ],
)
def test_a_contest_not_in_the_file_lists_what_is(tmp_path, options, says):
    with pytest.raises(ExplorerError) as caught:
        loaders.load_returns(returns_csv(tmp_path / "r.csv", rows_for(["1"])), **options)
    assert says in str(caught.value) and "None" not in str(caught.value)
    assert "districts: 1" in str(caught.value)


def test_district_written_in_words_matches_its_number(tmp_path):
    rows = [r.replace(",Mayor,1,", ",Senate,District 2,") for r in rows_for(["1"])]
    rows += [r.replace(",Mayor,1,", ",Senate,District 10,") for r in rows_for(["2"])]
    long = loaders.load_returns(returns_csv(tmp_path / "r.csv", rows), district="2")
    assert long["precinct"].tolist() == ["1", "1"]


def test_a_users_own_crs_is_named_as_the_cause(capsys, tmp_path):
    # `info` reads no geometry (#15); the commands that join the layer name the cause
    out = ["--out-dir", str(tmp_path / "ledger")]
    code, _, err = run(capsys, "ledger", *own_args(tmp_path), "--crs", "EPSG:3857", *out)
    one_line_error(code, err, "--crs EPSG:3857 given", "EPSG:4326")


def test_projected_coordinates_of_modest_size_do_not_suggest_web_mercator(tmp_path):
    frame = gpd.GeoDataFrame(
        {"PCT": ["1"]}, geometry=[shapely.box(160_000, -440_000, 161_000, -439_000)]
    )
    frame.to_file(tmp_path / "p.geojson")
    with pytest.raises(ExplorerError, match="not longitude/latitude") as caught:
        loaders.load_precincts(tmp_path / "p.geojson", "PCT", crs="EPSG:4326")
    assert "3857" not in str(caught.value)


def test_a_layer_given_as_returns_and_utf16_without_bom(tmp_path):
    grid(tmp_path / "p.geojson", ["1"])
    with pytest.raises(ExplorerError, match="is not a CSV .*GeoJSON"):
        loaders.load_returns(tmp_path / "p.geojson")
    text = HEADER + "\nLA,1,Mayor,1,X,Ann,4\n"
    (tmp_path / "u.csv").write_bytes(text.encode("utf-16-le"))
    with pytest.raises(ExplorerError, match="UTF-16 .* re-save it as a UTF-8 CSV"):
        loaders.load_returns(tmp_path / "u.csv")


def test_own_election_rank_by_neighbourhood_names_the_option(capsys, tmp_path):
    # (ask answers by precinct when no --neighbourhoods is given: see test_ask.py)
    extra = ["--candidate", "Ann Lee", "--by", "neighbourhood"]
    code, _, err = run(capsys, "rank", *own_args(tmp_path), *extra)
    one_line_error(code, err, "--neighbourhoods FILE")
