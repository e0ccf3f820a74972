"""Primary-to-runoff swing and the notebook-facing API, on the real CA-34 elections."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest

import explorer
from explorer.cli import main
from explorer.swing import swing_table


@pytest.fixture(scope="module")
def ahn_swing(primary, general):
    return explorer.compare(primary, general, candidate="Ahn")


def test_ahn_from_about_22_to_about_41_percent(ahn_swing):
    s = ahn_swing.summary
    assert ahn_swing.candidate == "Robert Lee Ahn"
    assert s["before_share"] == pytest.approx(9415 / 42308)
    assert s["after_share"] == pytest.approx(17610 / 43179)
    # every vote is either compared or counted as not comparable
    assert s["compared_votes_after"] + s["not_compared_votes_after"] == 43179
    assert s["compared_precincts"] == 161  # units (pooled ones as one) in both elections


def test_precinct_swing_matches_the_two_joins(ahn_swing, primary, general):
    table = ahn_swing.precincts.set_index("precinct")
    precinct = "0850001A"
    before = primary.precincts.set_index("precinct").loc[precinct]
    after = general.precincts.set_index("precinct").loc[precinct]
    expected = after["Robert Lee Ahn"] / after["total"] - before["Robert Lee Ahn"] / before["total"]
    assert table.loc[precinct, "change"] == pytest.approx(expected)


def test_neighbourhood_swing_table(ahn_swing):
    table = swing_table(ahn_swing, "neighbourhood")
    assert table["change pts"].is_monotonic_decreasing
    # two finalists: the table compares head-to-head shares (like with like), as the map does,
    # never the 24-way primary share with the two-way runoff share
    assert "before %" not in table
    assert table.loc["Koreatown", "before h2h %"] == pytest.approx(77.1, abs=0.05)
    assert table.loc["Koreatown", "after h2h %"] == pytest.approx(65.5, abs=0.05)
    assert table.loc["Koreatown", "change pts"] == pytest.approx(-11.7, abs=0.05)
    assert (table["change pts"] < 0).any() and (table["change pts"] > 0).any()
    assert (table["votes after"] >= 100).all()


def test_areas_mostly_outside_are_dotted_and_left_out_of_the_table(ahn_swing):
    from explorer import render
    from explorer.swing import swing_parts

    table = swing_table(ahn_swing, "neighbourhood")
    thin = ["East Los Angeles", "Echo Park", "East Hollywood", "Arlington Heights"]
    assert not set(thin) & set(table.index)  # as rank: under half the area covered
    said = " ".join(n for names in table.attrs["left_out"].values() for n in names)
    assert all(f"{name} (" in said for name in thin)
    parts = swing_parts(ahn_swing, "neighbourhood")
    fills = dict(zip(parts["features"]["name"], parts["styled"].fills))
    assert all(fills[name] == render.OUTSIDE for name in thin)
    assert fills["Koreatown"] != render.OUTSIDE
    assert any(c == render.OUTSIDE for c, _ in parts["styled"].legend)


def test_swing_tooltips_show_one_head_to_head_figure(ahn_swing):
    from explorer.swing import swing_parts

    parts = swing_parts(ahn_swing, "neighbourhood")
    tip = next(t for t in parts["tips"] if t[0] == "Koreatown")
    rows = dict(tip[1])
    assert rows["CA-34 special primary election"] == "77.1% head to head"
    assert rows["Change"].startswith("-11.7 pts")
    assert not any("ca34-2017" in label for label in rows)  # readable names, not keys
    assert "+16.9" not in str(tip)


def test_swing_command_writes_a_diverging_map(tmp_path, capsys):
    target = tmp_path / "swing.html"
    assert (
        main(
            [
                "swing",
                "ca34-2017-primary",
                "ca34-2017-general",
                "--candidate",
                "Ahn",
                "--by",
                "precinct",
                "-o",
                str(target),
                "--tiles",
                "none",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "22.3% of the vote in ca34-2017-primary, 40.8% in ca34-2017-general" in out
    assert "Head to head with Jimmy Gomez: 46.7% to 40.8% (-6.0 pts)" in out
    html = target.read_text()
    assert "Robert Lee Ahn gained 20-40 pts" in html
    assert html.count('"className":"xl-area"') == 161


def test_election_summary_for_notebooks(general):
    html = general._repr_html_()
    assert "CA-34 special general election (runoff)" in html and "2017-06-06" in html
    assert "25,569" in html and "17,610" in html
    assert "43,174 of 43,179 votes" in html


def test_from_files_on_files_the_catalog_does_not_know(tmp_path, general):
    precincts = general.precincts[general.precincts["match"] == "exact"].head(12)
    layer = precincts[["precinct", "geometry"]].rename(columns={"precinct": "PCT_ID"})
    layer.to_file(tmp_path / "mine.gpkg")
    rows = ["county,precinct,office,district,party,candidate,votes"]
    for _, row in precincts.iterrows():
        rows.append(f"LA,{row.precinct},Mayor,,,Ada,{row['Jimmy Gomez']}")
        rows.append(f"LA,{row.precinct},Mayor,,,Bea,{row['Robert Lee Ahn']}")
    (tmp_path / "mine.csv").write_text("\n".join(rows) + "\n")
    mine = explorer.Election.from_files(
        returns=tmp_path / "mine.csv",
        precincts=tmp_path / "mine.gpkg",
        precinct_id="PCT_ID",
        office="Mayor",
        name="mine",
    )
    assert mine.ledger.loc["total", "exact"] == precincts["total"].sum()
    assert mine.outline.to_crs(3310).area.iloc[0] == pytest.approx(
        precincts.to_crs(3310).union_all().area
    )
    assert mine.map(tiles="none") is not None


def test_from_files_with_any_road_layer(tmp_path, general):
    precincts = general.precincts[general.precincts["match"] == "exact"].head(5)
    layer = precincts[["precinct", "geometry"]]
    layer.to_file(tmp_path / "p.gpkg")
    roads = precincts.boundary.to_frame("geometry").assign(name=["Main St & <Co>"] * 5)
    roads.to_file(tmp_path / "roads.gpkg")
    rows = ["precinct,office,candidate,votes"]
    rows += [f"{p},Mayor,Ada,{i + 3}" for i, p in enumerate(precincts["precinct"])]
    rows += [f"{p},Mayor,Bea,{i + 1}" for i, p in enumerate(precincts["precinct"])]
    (tmp_path / "r.csv").write_text("\n".join(rows) + "\n")
    mine = explorer.Election.from_files(
        returns=tmp_path / "r.csv", precincts=tmp_path / "p.gpkg", freeways=tmp_path / "roads.gpkg"
    )
    assert mine.freeways["label"].tolist() == ["Main St & <Co>"]
    html = mine.map(tiles="none").get_root().render()
    assert "Main St &amp; &lt;Co&gt;" in html and "<Co>" not in html


def test_render_draws_the_swing_from_frames_without_the_analysis_stage(ahn_swing):
    """#15: swing.py computes, render decides what the map shows; render never imports
    the swing stage (nor the question parser) to do it."""
    import subprocess
    import sys

    from explorer.ask.ranking import MIN_COVERAGE
    from explorer.render import swing_view

    code = (
        "import sys, explorer.render.swing_view; "
        "print(sorted(m for m in sys.modules if m in ('explorer.swing', 'explorer.ask')))"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert loaded.stdout.strip() == "[]", loaded.stderr
    s = ahn_swing
    parts = swing_view.swing_parts(
        s.precincts,
        s.areas,
        s.summary,
        s.candidate,
        s.before,
        s.after,
        "precinct",
        min_coverage=MIN_COVERAGE,
    )
    assert (
        parts["headline"]
        == "Head to head with Jimmy Gomez, Robert Lee Ahn went from 46.7% to 40.8%"
    )
    assert len(parts["tips"]) == len(s.precincts) == 161


def _swing(capsys, *args) -> tuple[int, str, str]:
    code = main(["swing", "ca34-2017-primary", "ca34-2017-general", "--candidate", "Ahn", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_precinct_swing_keeps_the_votes_floor_in_table_and_map(ahn_swing):
    """The floor holds --by precinct as --by neighbourhood: precincts under it in either
    election are not ranked (listed apart, never a NaN row) and are drawn in their own grey."""
    from explorer.swing import swing_parts

    table = swing_table(ahn_swing, "precinct", min_votes=100)
    precincts = ahn_swing.precincts.set_index("precinct")
    assert table.notna().all().all()  # no NaN row (9002767A has no runoff votes)
    low = precincts[(precincts["before_total"] < 100) | (precincts["after_total"] < 100)]
    assert len(low) and not set(low.index) & set(table.index)
    assert len(table) + len(low) == len(precincts)
    said = " ".join(n for names in table.attrs["left_out"].values() for n in names)
    assert all(f"{p} (" in said for p in low.index)
    assert (table["votes after"] >= 100).all()
    parts = swing_parts(ahn_swing, "precinct", min_votes=100)
    fills = dict(zip(parts["features"]["precinct"], parts["styled"].fills))
    keys = dict((label, colour) for colour, label in parts["styled"].legend)
    grey = keys["too few votes to compare (under 100)"]
    assert all(fills[p] == grey for p in low.index)
    assert fills["0850001A"] != grey
    notes = {tip[0]: tip[2] for tip in parts["tips"]}
    assert notes["9003923A"].startswith("Too few votes to compare (under 100")
    assert notes["0850001A"] == ""
    # one swatch, one meaning: no second key in the same grey
    assert [label for colour, label in parts["styled"].legend if colour == grey] == [
        "too few votes to compare (under 100)"
    ]
    lower = swing_table(ahn_swing, "precinct", min_votes=50)
    assert len(lower) > len(table) and lower.notna().all().all()


def test_grey_out_keeps_one_meaning_per_swatch():
    from explorer import render

    styled = render.style_swing(pd.Series([0.1, float("nan"), 0.02, -0.3]), "A")
    assert (render.NO_DATA, "no votes cast") in styled.legend
    # every no-vote feature is under the floor: one key, the floor's
    folded = render.grey_out(styled, pd.Series([False, True, True, False]), "too few")
    greys = [label for colour, label in folded.legend if colour == render.NO_DATA]
    assert greys == ["too few"] and folded.fills[1] == folded.fills[2] == render.NO_DATA
    # a no-vote feature outside the mask keeps its key; the masked ones take another grey
    apart = render.grey_out(styled, pd.Series([False, False, True, False]), "too few")
    colours = dict((label, colour) for colour, label in apart.legend)
    assert colours["no votes cast"] == render.NO_DATA != colours["too few"]
    assert apart.fills[1] == render.NO_DATA and apart.fills[2] == colours["too few"]


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_swing_data_formats_print_only_the_data(tmp_path, capsys, fmt):
    code, out, err = _swing(capsys, "--by", "precinct", "-f", fmt, "-o", tmp_path / "s.html")
    assert code == 0, err
    if fmt == "json":
        data = json.loads(out)  # the whole of stdout parses
        assert data["candidate"] == "Robert Lee Ahn" and data["by"] == "precinct"
        assert all(row["votes after"] >= 100 for row in data["rows"])
        assert any("9002767A (" in n for names in data["left_out"].values() for n in names)
    else:
        rows = list(csv.DictReader(io.StringIO(out)))  # header and rows only
        assert rows and set(rows[0]) == {
            "precinct",
            "before h2h %",
            "after h2h %",
            "change pts",
            "votes after",
        }
        assert all(float(row["change pts"]) == float(row["change pts"]) for row in rows)
    assert (
        "Head to head with Jimmy Gomez" in err
        and "161 precincts matched between the two elections" in err
    )
    assert "Not in the table, too few votes" in err and "Wrote " in err


def test_swing_count_line_agrees_when_nothing_is_over_the_floor(tmp_path, capsys):
    """With every precinct under the floor the closing line does not claim 161 compared."""
    code, out, err = _swing(
        capsys, "--by", "precinct", "--min-votes", "1e9", "-o", tmp_path / "s.html"
    )
    assert code == 0, err
    text = out + err
    assert "No precinct can be compared" in text
    assert "precincts compared" not in text
    assert (
        "161 precincts matched between the two elections (precincts: none over the floor)" in text
    )


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--by", "county"], "unknown --by 'county'"),
        (["--tiles", "blah"], "unknown tiles 'blah'"),
        (["-f", "yaml"], "unknown format 'yaml'"),
    ],
)
def test_swing_refuses_bad_choices_before_any_work(tmp_path, capsys, args, fragment):
    code, out, err = _swing(capsys, *args, "-o", tmp_path / "s.html")
    assert code == 2 and out == ""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and fragment in lines[0], err
    assert not (tmp_path / "s.html").exists()


def test_swing_map_in_python_refuses_an_unknown_view(ahn_swing):
    from explorer.errors import ExplorerError

    with pytest.raises(ExplorerError, match="unknown --by 'county'"):
        ahn_swing.map(by="county")
    with pytest.raises(ExplorerError, match="unknown --by 'county'"):
        swing_table(ahn_swing, "county")


def test_print_swing_map_does_not_overwrite_the_tiled_one(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = _swing(capsys, "--by", "precinct", "--tiles", "none")
    assert code == 0, err
    name = "ca34-2017-primary-to-ca34-2017-general-robert-lee-ahn-print.html"
    assert f"Wrote maps/{name}" in out and (tmp_path / "maps" / name).exists()
    assert not (tmp_path / "maps" / name.replace("-print", "")).exists()


def test_swing_says_in_words_when_nothing_reaches_the_floor(tmp_path, capsys):
    code, out, err = _swing(capsys, "--min-votes", "100000", "-o", tmp_path / "s.html")
    assert code == 0, err
    assert "Empty DataFrame" not in out and "Index: []" not in out
    assert "No neighbourhood can be compared" in out and "lower --min-votes" in out
    code, out, err = _swing(
        capsys, "--by", "precinct", "--min-votes", "100000", "-o", tmp_path / "p.html"
    )
    assert (
        "Empty DataFrame" not in out
        and "No precinct can be compared: all 161 precincts are set apart below" in out
    )
