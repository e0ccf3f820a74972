"""Election night: partial returns in the ledger, info, maps and the ask-facing answer;
Clarity ENR snapshots; the watch loop on snapshots built from the real CA-34 runoff."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import NEIGHBOURHOODS, PRECINCTS_2018, RUNOFF

from explorer import live, loaders
from explorer.cli import main
from explorer.elections import Election

AD51_DEC = "openelections/openelections-data-ca/2017/20171205__ca__special__general__los_angeles__precinct.csv"
CD34 = "unitedstates/districts/cds/2012/CA-34/shape.geojson"


def runoff_table(general) -> pd.DataFrame:
    return pd.read_csv(general._path(RUNOFF), dtype=str, keep_default_na=False)


def night_snapshots(general, folder, batches=(21, 60, 120), seed=7) -> list:
    """CSV snapshots of the real CA-34 runoff as an election night might publish them:
    first a mail-like batch (a share of every precinct's ballots, election day blank), then
    precinct batches whose election-day count is in. The last snapshot is the real final
    count. The mail/election-day split is simulated (the file has no vote-method split):
    each candidate's precinct votes thinned at the rate of the first count reported that
    night (the projection's reference rates)."""
    from explorer.projection import REFERENCE_RACES

    rates = REFERENCE_RACES[0][2]
    table = runoff_table(general)
    votes = table["votes"].astype(int).to_numpy()
    rate = table["candidate"].map(rates).to_numpy(float)
    mail = np.random.default_rng(seed).binomial(votes, rate)
    precincts = table["precinct"].drop_duplicates().to_numpy()
    order = np.random.default_rng(seed).permutation(precincts)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for step, count in enumerate((0, *batches, len(precincts))):
        done = table["precinct"].isin(order[:count]).to_numpy()
        snap = table.drop(columns="votes").assign(
            mail=mail.astype(str),
            election_day=np.where(done, (votes - mail).astype(str), ""),
        )
        path = folder / f"snapshot-{step:02d}.csv"
        snap.to_csv(path, index=False)
        paths.append(path)
    return paths


def snapshot_election(general, path, neighbourhoods=None) -> Election:
    return Election.from_files(
        returns=path,
        precincts=general._path(PRECINCTS_2018),
        precinct_id="Precinct",
        crs="EPSG:4326",
        district=general._path(CD34),
        office="U.S. House",
        contest_district="34",
        name=path.stem,
        neighbourhoods=neighbourhoods,
    )


@pytest.fixture(scope="module")
def snapshots(general, tmp_path_factory):
    return night_snapshots(general, tmp_path_factory.mktemp("night"))


# --------------------------------------------------------------------------- partial state


def test_mail_only_snapshot_is_partial_everywhere(general, snapshots):
    night = snapshot_election(general, snapshots[0])
    state = night.precincts.attrs["reporting"]
    assert state["expected"] == 195 and state["reported"] == 0
    assert state["partial"] == 195 and state["methods"] == {"mail": 195}
    text = live.describe_reporting(state)
    assert text.startswith("0 of 195 precincts reporting (0.0%); counted so far: mail in 195")


def test_precinct_batch_counts_and_ledger_balance(general, snapshots):
    night = snapshot_election(general, snapshots[1])
    state = night.ledger_summary["reporting"]
    assert (state["reported"], state["expected"]) == (21, 195)
    assert state["methods"] == {"mail": 195, "election_day": 21}
    final = general.wide[general.candidates].sum()
    counted = night.ledger.loc[general.candidates, "returns"]
    assert (counted < final.to_numpy()).all()  # a partial count, every vote in the ledger
    assert int(night.ledger.loc["total", "returns"]) == state["votes_counted"]


def test_final_snapshot_matches_the_real_count(general, snapshots):
    night = snapshot_election(general, snapshots[-1])
    state = night.ledger_summary["reporting"]
    assert state["complete"] and state["reported"] == 195
    assert night.summary()["votes"].to_dict() == {"Jimmy Gomez": 25569, "Robert Lee Ahn": 17610}


def test_rows_missing_from_a_precinct_list_are_not_reporting(general, tmp_path):
    table = runoff_table(general)
    listed = table["precinct"].drop_duplicates().tolist()
    first = table[table["precinct"].isin(listed[:21])]
    path = tmp_path / "first.csv"
    first.to_csv(path, index=False)
    long = live.load_snapshot(path, office="U.S. House", expected=listed)
    state = long.attrs["reporting"]
    assert (state["status"] == "reported").sum() == 21
    assert (state["status"] == "none").sum() == 195 - 21
    wide = loaders.wide_returns(long)
    assert len(wide) == 195 and wide.loc[listed[-1], "total"] == 0


def test_percent_reporting_column_and_bad_flag(general, tmp_path, capsys):
    table = runoff_table(general)
    ids = table["precinct"].drop_duplicates()
    percent = pd.Series(np.where(np.arange(len(ids)) < 50, 100, 0), index=ids.to_numpy())
    snap = table.assign(percent_reporting=table["precinct"].map(percent).astype(str))
    snap.loc[snap["percent_reporting"] == "0", "votes"] = ""
    path = tmp_path / "pct.csv"
    snap.to_csv(path, index=False)
    state = live.load_snapshot(path).attrs["reporting"]
    assert state["status"].value_counts().to_dict() == {"none": 145, "reported": 50}
    bad = table.assign(reporting="maybe")
    bad.to_csv(path, index=False)
    assert main(["info", "--returns", str(path), "--precincts", str(path)]) == 2
    assert "reporting 'maybe' is not a yes/no value" in capsys.readouterr().err
    hole = table.copy()
    hole.loc[3, "votes"] = ""  # no reporting column: a blank count is an error, not "out"
    hole.to_csv(path, index=False)
    assert main(["info", "--returns", str(path), "--precincts", str(path)]) == 2
    assert "is not a whole number" in capsys.readouterr().err


def test_info_and_ledger_say_how_many_are_reporting(general, snapshots, capsys, tmp_path):
    args = [
        "--returns",
        str(snapshots[1]),
        "--precincts",
        str(general._path(PRECINCTS_2018)),
        "--precinct-id",
        "Precinct",
        "--crs",
        "EPSG:4326",
        "--office",
        "U.S. House",
    ]
    assert main(["info", *args]) == 0
    out = capsys.readouterr().out
    assert "Office: U.S. House  District: 34  Precincts reporting: 21" in out
    assert "21 of 195 precincts reporting (10.8%); counted so far: mail in 195" in out
    assert main(["ledger", *args, "--out-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "21 of 195 precincts reporting (10.8%)" in out


def test_map_hatches_precincts_with_nothing_counted(general, tmp_path):
    table = runoff_table(general)
    listed = table["precinct"].drop_duplicates().tolist()
    snap = table.assign(reporting=np.where(table["precinct"].isin(listed[:40]), "yes", "no"))
    snap.loc[snap["reporting"] == "no", "votes"] = ""
    path = tmp_path / "forty.csv"
    snap.to_csv(path, index=False)
    night = snapshot_election(general, path)
    features = night.precincts
    unreported = features[(features["status"] == "none") & (features["match"] != "none")]
    assert len(unreported) > 100
    page = tmp_path / "night.html"
    png = tmp_path / "night.png"
    fmap, _facts, parts = night.build_map(tiles="none")
    from explorer import render

    render.save_html(fmap, page)
    render.save_static(
        parts["features"], parts["styled"], png, title="t", credits="c", layers=parts["layers"]
    )
    html = page.read_text()
    assert html.count('"fillColor":"url(#xl-hatch)"') == len(unreported)
    assert "id='xl-hatch'" in html and "not reporting yet (nothing counted)" in html
    assert "40 of 195 precincts reporting (20.5%)" in html
    assert html.count("No votes counted yet.") == len(unreported)
    # nothing unreported is drawn as a zero: no margin colour on a hatched precinct
    fills = dict(zip(parts["features"]["precinct"], parts["styled"].fills))
    assert {fills[p] for p in unreported["precinct"]} == {"url(#xl-hatch)"}
    assert png.stat().st_size > 20_000


def test_ask_facing_answer_on_election_night(general, snapshots):
    night = snapshot_election(general, snapshots[1])
    text = night.reporting()
    assert text.startswith("21 of 195 precincts reporting (10.8%)")
    assert "Votes counted so far:" in text and "leads with" in text
    final = snapshot_election(general, snapshots[-1]).reporting()
    assert "Final count: 43,179. Jimmy Gomez won with 25,569 (59.2%)" in final
    hoods = general._path(NEIGHBOURHOODS)
    asked = snapshot_election(general, snapshots[1], neighbourhoods=hoods).ask(
        "which neighbourhoods favoured Ahn?"
    )
    assert str(asked).startswith("Partial returns: 21 of 195 precincts reporting")


def test_vote_method_columns_of_the_ad51_file(general):
    long = live.read_returns(general._path(AD51_DEC), office="State Assembly")
    state = long.attrs["reporting"]
    assert len(state) == 129 and (state["status"] == "reported").all()
    assert set(state["methods"]) == {"election_day,mail"}
    assert long.groupby("candidate")["votes"].sum().to_dict() == {
        "Luis Lopez": 9631,
        "Wendy Carrillo": 11100,
    }


def test_summary_json_is_plain(general, snapshots, tmp_path):
    night = snapshot_election(general, snapshots[2])
    state = live.publish(night, tmp_path, tiles="none")
    record = json.loads((tmp_path / "live-summary.json").read_text())
    assert record["reporting"]["reported"] == state["reporting"]["reported"] == 60
    assert (tmp_path / "live-map.html").stat().st_size > 10_000


# --------------------------------------------------------------------------- real-world rows

CASES = Path(__file__).resolve().parents[1].parent / "shared" / "cases" / "real-world"


@pytest.mark.parametrize(
    "case, file, encoding",
    [
        ("01-ny-total-candidate-rows", "returns.csv", "utf-8"),
        ("03-nc-pseudo-precincts-base-match", "returns.csv", "utf-8"),
        ("06-tx-precinct-id-number-styles", "returns-padded.csv", "utf-8"),
        ("09-cp1252-csv-smart-quotes", "returns.csv", "cp1252"),
        ("17-pa-delco-vote-method-rows", "returns.csv", "utf-8"),
        ("r20-candidate-named-like-a-column", "winner.csv", "utf-8"),
    ],
)
def test_a_complete_snapshot_reads_like_the_final_file(case, file, encoding, tmp_path):
    """The files from the wild with a reporting column added (every precinct in): the same
    rows, pseudo rows, county-wide rows and notes as the final file gives."""
    source = CASES / case / file
    final = loaders.load_returns(source)
    table = pd.read_csv(source, dtype=str, keep_default_na=False, encoding=encoding)
    path = tmp_path / file
    table.assign(reporting="1").to_csv(path, index=False, encoding=encoding)
    night = live.load_snapshot(path)

    def rows(long):
        return long.sort_values(["precinct", "candidate"]).reset_index(drop=True)

    pd.testing.assert_frame_equal(rows(night), rows(final))
    for key in ("pseudo", "county_wide", "office", "district"):
        assert night.attrs.get(key) == final.attrs.get(key), key
    notes = [n.replace(str(path), "FILE") for n in night.attrs["notes"]]
    assert notes == [n.replace(str(source), "FILE") for n in final.attrs["notes"]]
    state = night.attrs["reporting"]
    assert (state["status"] == "reported").all()
    assert set(state.index) == set(night["precinct"])


COUNTY_NIGHT = """county,precinct,office,district,party,candidate,votes,reporting
Chenango,0101,State Senate,51,REP,Mara Kell,412,1
Chenango,0101,State Senate,51,DEM,Siobhán O’Dwyer,198,1
Chenango,0101,State Senate,51,,Total Votes,610,1
Chenango,0101,State Senate,51,,Over Votes,2,1
Chenango,0101,State Senate,51,,Under Votes,11,1
Chenango,0101,State Senate,51,,Registered Voters,1500,1
Chenango,0102,State Senate,51,REP,Mara Kell,,0
Chenango,0102,State Senate,51,DEM,Siobhán O’Dwyer,,0
Chenango,0102,State Senate,51,,Registered Voters,1320,0
Chenango,0103,State Senate,51,REP,Mara Kell,100,0
Chenango,0103,State Senate,51,DEM,Siobhán O’Dwyer,90,0
Chenango,0103,State Senate,51,,Registered Voters,900,0
Chenango,PROVISIONAL,State Senate,51,REP,Mara Kell,5,1
Chenango,PROVISIONAL,State Senate,51,DEM,Siobhán O’Dwyer,3,1
Chenango,County Total,State Senate,51,REP,Mara Kell,517,1
Chenango,County Total,State Senate,51,DEM,Siobhán O’Dwyer,291,1
"""


def test_a_county_night_snapshot_goes_through_the_returns_repairs(tmp_path, capsys):
    """A county election-night file as they come: Windows-1252, zero-padded numeric IDs,
    Total / Over / Under / Registered rows, a provisional row and a county total line."""
    path = tmp_path / "night.csv"
    path.write_bytes(COUNTY_NIGHT.encode("cp1252"))
    long = live.load_snapshot(path)
    assert set(long["candidate"]) == {"Mara Kell", "Siobhán O’Dwyer"}
    assert long.groupby("candidate")["votes"].sum().to_dict() == {
        "Mara Kell": 517,
        "Siobhán O’Dwyer": 291,
    }
    assert set(long["precinct"]) == {"0101", "0102", "0103", "PROVISIONAL"}
    assert long.attrs["county_wide"] == ["PROVISIONAL"]
    kinds = {(p, kind): v for p, kind, v in long.attrs["pseudo"]}
    assert kinds[("0101", "total")] == 610 and kinds[("0102", "registered voters")] == 1320
    assert kinds[("0101", "over votes")] == 2 and kinds[("0101", "under votes")] == 11
    # a Registered Voters line filled before the count says nothing about the count
    status = long.attrs["reporting"]["status"].to_dict()
    assert status == {
        "0101": "reported",
        "0102": "none",
        "0103": "partial",
        "PROVISIONAL": "reported",
    }
    notes = " | ".join(long.attrs["notes"])
    assert "read as Windows-1252" in notes
    assert (
        "'Over Votes', 'Registered Voters', 'Total Votes', 'Under Votes' are not candidates"
        in notes
    )
    assert "dropped the row(s) of 'COUNTY TOTAL'" in notes
    # the CLI prints them as notes
    layer = grid_layer(["0101", "0102", "0103"], tmp_path / "grid.geojson")
    assert (
        main(["info", "--returns", str(path), "--precincts", str(layer), "--precinct-id", "name"])
        == 0
    )
    err = capsys.readouterr().err
    assert "note: " in err and "are not candidates; kept out of the results" in err
    assert "read as Windows-1252" in err


# --------------------------------------------------------------------------- Clarity ENR

CLARITY = "openelections/clarify/tests/data/precinct.xml"


def grid_layer(names, path):
    """A precinct layer of our own making for the Clarity sample (no geometry exists for
    it): one 1 km square per precinct name, in rows of six, near Greenup, KY."""
    import geopandas as gpd
    import shapely

    squares = [
        shapely.box(x, y, x + 1000, y + 1000)
        for i in range(len(names))
        for x, y in [((i % 6) * 1000, (i // 6) * 1000)]
    ]
    layer = gpd.GeoDataFrame({"name": names}, geometry=squares, crs="EPSG:3089")
    layer.to_file(path, driver="GeoJSON")
    return path


@pytest.fixture(scope="module")
def clarity_xml(general):
    from explorer import catalog

    return catalog.local_path(CLARITY)


def test_clarity_contest_must_be_named_when_several_match(clarity_xml):
    from explorer.clarity import load_clarity
    from explorer.errors import ExplorerError

    with pytest.raises(ExplorerError) as refused:
        load_clarity(clarity_xml, contest="no such contest anywhere")
    message = str(refused.value)
    assert "0 contests match 'no such contest anywhere'" in message
    assert "US Senator - REPUBLICAN" in message and "--office" in message
    chosen = load_clarity(clarity_xml, contest="us senator - republican")
    assert chosen["votes"].sum() > 0


def test_clarity_sample_reads_into_the_returns_model(clarity_xml):
    from explorer.clarity import load_clarity, precinct_names

    long = load_clarity(clarity_xml)
    assert long.groupby("candidate")["votes"].sum().to_dict() == {
        "Brad COPAS": 11,
        "Chris PAYNE": 48,
        "Matt BEVIN": 820,
        "Mitch McCONNELL": 1135,
        "Shawna STERLING": 46,
    }
    state = long.attrs["reporting"]
    assert len(state) == len(precinct_names(clarity_xml)) == 33
    assert (state["status"] == "reported").all()
    assert "says 32 of 32 precincts reported" in long.attrs["notes"][0]
    # 'AB' (absentee) is Clarity's county-wide batch, not a place: its votes are kept
    assert long.attrs["county_wide"] == ["AB"]
    assert long.loc[long["precinct"] == "AB", "votes"].sum() == 67
    assert "1 county-wide row group(s) are not places and stay unmapped (AB)" in " ".join(
        long.attrs["notes"]
    )


def test_clarity_sample_maps_through_returns(clarity_xml, tmp_path, capsys):
    from explorer.clarity import precinct_names

    layer = grid_layer(precinct_names(clarity_xml), tmp_path / "grid.geojson")
    target = tmp_path / "greenup.html"
    args = ["--returns", str(clarity_xml), "--precincts", str(layer), "--precinct-id", "name"]
    assert main(["map", *args, "-o", str(target), "--tiles", "none"]) == 0
    out = capsys.readouterr().out
    # the absentee batch 'AB' is no precinct (even with a square of its name in the
    # layer): its 67 votes are in the ledger as county-wide, not in "N of M"; the contest
    # itself says 32 of 32
    assert "32 areas" in out and "1,993 of 2,060 votes (96.7%) are mapped" in out
    assert "67 in 1 county-wide row group(s) (AB) belong to no place" in out
    assert "32 of 32 precincts reporting (100.0%)" in out  # the terminal says it too
    assert "votes of 1 county-wide row group (AB) counted, not precincts" in out
    html = target.read_text()
    assert "Winner (paler = narrower win)" in html and "Mitch McCONNELL (" in html
    assert "32 of 32 precincts reporting (100.0%)" in html
    assert main(["info", *args]) == 0
    out = capsys.readouterr().out
    assert "Mitch McCONNELL" in out
    # the contest, election and snapshot time of the XML are kept
    assert "[2014 Primary Election], 2014-05-20, snapshot 2014-05-20 20:19:21" in out
    assert "Office: US Senator - REPUBLICAN" in out


def test_clarity_own_totals_are_compared_with_its_precincts(clarity_xml, tmp_path, capsys):
    """A Clarity file states totalVotes per choice (and votes per vote type); where they
    differ from the sum of its precincts, info, ledger and watch say so, never silently."""
    import re

    from explorer.clarity import load_clarity, precinct_names

    real = load_clarity(clarity_xml)
    assert not any("own totals differ" in n for n in real.attrs["notes"])  # it adds up
    text = clarity_xml.read_text()
    # a total edited by 1,000, and a precinct value raised by 7 under unchanged totals
    edited = text.replace(
        'text="Mitch McCONNELL" totalVotes="1135"', 'text="Mitch McCONNELL" totalVotes="2135"'
    )
    bevin = edited.index('text="Matt BEVIN"')
    a101 = re.compile(r'<Precinct name="A101" votes="(\d+)" />').search(edited, bevin)
    raised = f'<Precinct name="A101" votes="{int(a101.group(1)) + 7}" />'
    edited = edited[: a101.start()] + raised + edited[a101.end() :]
    feed = tmp_path / "feed"
    feed.mkdir()
    snapshot = feed / "edited.xml"
    snapshot.write_text(edited)
    long = load_clarity(snapshot)
    said = [n for n in long.attrs["notes"] if "own totals differ" in n]
    assert len(said) == 1 and "for 2 choice(s)" in said[0]
    assert (
        "'Mitch McCONNELL' totalVotes 2,135 but the precincts add up to 1,135 "
        "(1,000 more in the file's total)" in said[0]
    )
    assert (
        "'Matt BEVIN' totalVotes 820 but the precincts add up to 827 (7 fewer in the "
        "file's total) (by vote type, stated v precincts: Election 820 v 827)" in said[0]
    )
    assert "the precinct figures are used" in said[0]
    assert long.groupby("candidate")["votes"].sum()["Matt BEVIN"] == 827
    layer = grid_layer(precinct_names(clarity_xml), tmp_path / "grid.geojson")
    args = ["--returns", str(snapshot), "--precincts", str(layer), "--precinct-id", "name"]
    for command in (["info"], ["ledger"], ["watch", str(feed), "--once", "--tiles", "none"]):
        extra = ["--out-dir", str(tmp_path / "live")] if command[0] == "watch" else []
        assert main([*command, *args, *extra]) == 0, command
        err = capsys.readouterr().err
        assert "note: " in err and "'Mitch McCONNELL' totalVotes 2,135" in err, command


@pytest.mark.parametrize("name", ["ABSENTEE", "Provisional", "ABS", "Early Voting"])
def test_clarity_pseudo_precincts_are_county_wide(clarity_xml, tmp_path, name):
    """The real file with its absentee batch 'AB' written as other counties write their
    non-geographic batches: each is county-wide, its votes kept, not a reporting precinct."""
    from explorer.clarity import load_clarity

    renamed = tmp_path / "renamed.xml"
    renamed.write_text(clarity_xml.read_text().replace('name="AB"', f'name="{name}"'))
    long = load_clarity(renamed)
    assert long.attrs["county_wide"] == [name.upper()]
    assert long["votes"].sum() == 2_060
    layer = grid_layer([f"{c}{n}" for c in "ABC" for n in range(101, 112)], tmp_path / "g.json")
    from explorer import Election

    night = Election.from_files(returns=renamed, precincts=layer, precinct_id="name")
    summary = night.ledger_summary
    assert summary["reporting"]["expected"] == 32
    assert summary["county_wide"] == [name.upper()] and summary["county_wide_votes"] == 67


def test_clarity_snapshot_with_precincts_still_out(clarity_xml, tmp_path, capsys):
    import re

    from explorer.clarity import precinct_names

    text = clarity_xml.read_text()
    out_now = ("B101", "B102", "C110")
    for name in out_now:  # as the XML reads before these precincts report
        text = text.replace(f'name="{name}" totalVoters', f'name="{name}" x="" totalVoters')
        text = re.sub(rf'(name="{name}" x=""[^/]*percentReporting=)"\d+"', r'\1"0"', text)
        text = re.sub(rf'(<Precinct name="{name}" votes=)"\d+"', r'\1"0"', text)
    snapshot = tmp_path / "early.xml"
    snapshot.write_text(text)
    layer = grid_layer(precinct_names(clarity_xml), tmp_path / "grid.geojson")
    target = tmp_path / "early.html"
    args = ["--returns", str(snapshot), "--precincts", str(layer), "--precinct-id", "name"]
    assert main(["map", *args, "-o", str(target), "--tiles", "none"]) == 0
    html = target.read_text()
    assert "29 of 32 precincts reporting (90.6%)" in html
    assert html.count('"fillColor":"url(#xl-hatch)"') == 3


# --------------------------------------------------------------------------- watch


def test_watch_plays_the_night_through(general, snapshots, tmp_path, capsys):
    folder = tmp_path / "feed"
    folder.mkdir()
    for i, path in enumerate(snapshots):  # land in order, as a county would publish them
        copy = folder / path.name
        copy.write_bytes(path.read_bytes())
        os.utime(copy, ns=(1_000_000_000 * (i + 1),) * 2)
    (folder / "snapshot-99.csv").write_bytes(snapshots[-1].read_bytes()[:-40])  # half-written
    os.utime(folder / "snapshot-99.csv", ns=(9_000_000_000,) * 2)
    out = tmp_path / "live"
    assert (
        main(
            [
                "watch",
                str(folder),
                "--election",
                "ca34-2017-general",
                "--once",
                "--out-dir",
                str(out),
                "--tiles",
                "none",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "[1] snapshot-00.csv: first snapshot: 0 of 195 precincts reporting" in text
    assert "[2] snapshot-01.csv: 21 precinct(s) newly reporting" in text
    assert "snapshot-99.csv could not be read" in text and "unfinished" in text
    assert f"{len(snapshots)} update(s) published" in text
    steps = sorted((out / "steps").glob("*-summary.json"))
    assert len(steps) == len(snapshots) == len(list((out / "steps").glob("*-map.html")))
    reported = [json.loads(p.read_text())["reporting"]["reported"] for p in steps]
    assert reported == [0, 21, 60, 120, 195]
    final = json.loads((out / "live-summary.json").read_text())
    assert final["votes"] == {"Jimmy Gomez": 25569, "Robert Lee Ahn": 17610}
    assert "Final count: 43,179" in (out / "live-summary.txt").read_text()
    assert not list(out.glob(".*.tmp"))  # nothing half-written left behind


def test_watch_waits_for_a_growing_file_and_retries_a_bad_one(general, snapshots, tmp_path):
    folder = tmp_path / "feed"
    folder.mkdir()
    target = folder / "latest.csv"
    target.write_bytes(snapshots[1].read_bytes()[:500])  # a file still being copied
    seen, messages = [], []

    def update(path, step):
        seen.append(step)
        return {
            "reporting_text": "x",
            "reported_precincts": [],
            "votes_counted": 0,
            "leader": "",
            "margin": float("nan"),
            "leader_of_margin": "",
        }

    polls = iter(range(100))

    def sleep(_):
        n = next(polls)
        if n == 2:  # the copy finishes
            target.write_bytes(snapshots[1].read_bytes())
            os.utime(target, ns=(5_000_000_000,) * 2)

    live.watch(folder, update, max_polls=6, report=messages.append, sleep=sleep)
    assert seen == [1]
    assert any("could not be read" in m for m in messages)


def test_watch_with_a_precinct_list_shows_missing_rows_as_not_reporting(general, tmp_path, capsys):
    table = runoff_table(general)
    listed = table["precinct"].drop_duplicates().tolist()
    folder = tmp_path / "feed"
    folder.mkdir()
    first = table[table["precinct"].isin(listed[:30])]  # a plain file naming 30 precincts
    first.to_csv(folder / "early.csv", index=False)
    out = tmp_path / "live"
    args = ["watch", str(folder), "--election", "ca34-2017-general", "--once"]
    args += ["--expected", str(general._path(RUNOFF)), "--out-dir", str(out), "--tiles", "none"]
    assert main(args) == 0
    assert "30 of 195 precincts reporting (15.4%)" in capsys.readouterr().out
    html = (out / "live-map.html").read_text()
    assert html.count('"fillColor":"url(#xl-hatch)"') > 100  # 165 out, less those unmapped


def test_partly_counted_precincts_are_paler_and_said_so(general, snapshots, tmp_path):
    night = snapshot_election(general, snapshots[1])
    _, _, parts = night.build_map(tiles="none")
    partly = (parts["features"]["status"] == "partial").to_numpy()
    opacity = np.asarray(parts["styled"].opacity)
    # most units are partly counted (pooled units count as one area since #13)
    assert partly.sum() > 0.75 * len(partly)
    assert (opacity[partly] < 0.5).all() and (opacity[~partly] > 0.5).all()
    assert any(note.startswith("Paler map areas (") for note in parts["notes"])
    key = f"paler: partly counted ({int(partly.sum()):,} map areas), the count so far"
    assert key in [label for _, label in parts["styled"].legend]  # a swatch, not just a note


def test_half_written_clarity_xml_is_one_line(clarity_xml, tmp_path, capsys):
    cut = tmp_path / "cut.xml"
    cut.write_bytes(clarity_xml.read_bytes()[:3000])
    assert main(["info", "--returns", str(cut), "--precincts", str(cut)]) == 2
    err = capsys.readouterr().err
    assert "not a readable Clarity ENR XML file" in err and len(err.strip().splitlines()) == 1


def test_watch_refuses_a_count_that_goes_backwards(general, snapshots, tmp_path, capsys):
    folder = tmp_path / "feed"
    folder.mkdir()
    for i, path in enumerate([snapshots[-1], snapshots[2]]):  # the final count, then less
        copy = folder / f"s{i}.csv"
        copy.write_bytes(path.read_bytes())
        os.utime(copy, ns=(1_000_000_000 * (i + 1),) * 2)
    out = tmp_path / "live"
    args = ["watch", str(folder), "--election", "ca34-2017-general", "--once"]
    args += ["--out-dir", str(out), "--tiles", "none"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "WARNING: snapshot s1.csv refused: " in text
    assert "precincts reported 195 -> 60" in text and "--allow-decrease" in text
    assert "1 update(s) published" in text
    assert "Final count: 43,179" in (out / "live-summary.txt").read_text()  # kept
    assert main([*args, "--allow-decrease"]) == 0
    text = capsys.readouterr().out
    assert "WARNING: the count went backwards (precincts reported 195 -> 60" in text
    assert "2 update(s) published" in text
    assert "WARNING: the count went backwards" in (out / "live-summary.txt").read_text()


def test_expected_list_flags_precincts_outside_it_and_keeps_its_size(general, tmp_path, capsys):
    table = runoff_table(general)
    listed = table["precinct"].drop_duplicates().tolist()
    part = table[table["precinct"].isin(listed[:40])]
    extra = part.head(2).assign(precinct="1234567Z")  # a precinct the list does not name
    path = tmp_path / "dropped.csv"
    pd.concat([part, extra]).to_csv(path, index=False)
    args = ["--returns", str(path), "--precincts", str(general._path(PRECINCTS_2018))]
    args += ["--precinct-id", "Precinct", "--crs", "EPSG:4326"]
    assert main(["info", *args]) == 0  # without the list the file reads as complete
    out = capsys.readouterr().out
    assert "of 195" not in out
    assert "Office: U.S. House  District: 34" in out  # named in the file: kept
    args += ["--expected", str(general._path(RUNOFF))]
    for command in (["info"], ["ledger", "--out-dir", str(tmp_path)]):
        assert main([*command, *args]) == 0
        out = capsys.readouterr().out
        assert "40 of 195 precincts reporting (20.5%)" in out
        assert "1 precinct not in the expected list (1234567Z" in out


def test_a_binary_snapshot_is_not_a_readable_csv(snapshots, tmp_path):
    garbage = tmp_path / "s05.csv"
    garbage.write_bytes(np.random.default_rng(5).bytes(4000) + b"\n")
    with pytest.raises(live.ExplorerError, match="not a readable CSV"):
        live.check_complete(garbage)
    live.check_complete(snapshots[1])  # a real snapshot passes
    accented = tmp_path / "latin.csv"
    accented.write_bytes("precinct,candidate,votes\n1,Jos\u00e9 Pe\u00f1a,3\n".encode("latin-1"))
    live.check_complete(accented)


def test_grid_layer_helper_maps_the_clarity_sample(clarity_xml, tmp_path, capsys):
    import geopandas as gpd

    grid = tmp_path / "grid.geojson"
    assert main(["grid-layer", str(clarity_xml), "-o", str(grid)]) == 0
    assert "32 squares" in capsys.readouterr().out  # none for the absentee batch 'AB'
    layer = gpd.read_file(grid)
    assert len(layer) == 32 and layer["note"].str.startswith("TEST GRID").all()
    assert "AB" not in set(layer["name"])
    args = ["--returns", str(clarity_xml), "--precincts", str(grid), "--precinct-id", "name"]
    assert main(["info", *args]) == 0
    assert "32 of 32 precincts reporting" in capsys.readouterr().out


# --------------------------------------------------------------------------- N of M counts
# result precincts in every command, never map areas (the breaker's defects of #18)


def test_watch_and_project_count_result_precincts_without_a_list(general, tmp_path, capsys):
    """An unchanged copy of the runoff is 195 of 195 (as `info` says), not its 164 map
    areas; a copy lacking rows is measured against the catalog election's precincts."""
    table = runoff_table(general)
    listed = table["precinct"].drop_duplicates().tolist()
    full = tmp_path / "full.csv"
    table.to_csv(full, index=False)
    half = tmp_path / "half.csv"
    table[table["precinct"].isin(listed[::2])].to_csv(half, index=False)
    for path, line in ((full, "195 of 195 precincts"), (half, "98 of 195 precincts")):
        args = ["watch", str(path), "--election", "ca34-2017-general", "--once"]
        assert main([*args, "--out-dir", str(tmp_path / path.stem), "--tiles", "none"]) == 0
        assert line in capsys.readouterr().out
    assert main(["project", str(half), "--runs", "2"]) == 0
    assert "98 of 195 precincts reporting" in capsys.readouterr().out


FINAL_WITH_PROVISIONAL = """precinct,office,party,candidate,votes
0101,State Senate,REP,Mara Kell,412
0101,State Senate,DEM,Ann Roe,198
0102,State Senate,REP,Mara Kell,120
0102,State Senate,DEM,Ann Roe,130
0103,State Senate,REP,Mara Kell,100
0103,State Senate,DEM,Ann Roe,90
PROVISIONAL,State Senate,REP,Mara Kell,5
PROVISIONAL,State Senate,DEM,Ann Roe,3
"""


def test_own_files_without_a_list_say_the_denominator_is_the_file(tmp_path, capsys):
    """Your own returns and layer, no --expected: M is the precincts in the file, said so;
    a PROVISIONAL row is a county-wide row, not a precinct (as with --expected)."""
    path = tmp_path / "final.csv"
    path.write_text(FINAL_WITH_PROVISIONAL, encoding="utf-8")
    layer = grid_layer(["0101", "0102", "0103"], tmp_path / "grid.geojson")
    args = ["--returns", str(path), "--precincts", str(layer), "--precinct-id", "name"]
    out_dir = tmp_path / "live"
    options = ["--once", "--out-dir", str(out_dir), "--tiles", "none"]
    assert main(["watch", str(path), *args, *options]) == 0
    out = capsys.readouterr().out
    assert "3 of 3 precincts reporting" in out and "precincts in this file" in out
    summary = json.loads((out_dir / "live-summary.json").read_text())
    assert summary["reporting"]["county_wide_rows"] == ["PROVISIONAL"]
    assert summary["reporting"]["expected"] == 3


def test_watch_and_project_print_the_repair_notes(general, tmp_path, capsys):
    """The repairs load_snapshot records reach the terminal as `note:` lines, as in info."""
    table = runoff_table(general)
    first = table.iloc[0]
    extra = pd.DataFrame(
        [
            {**first.to_dict(), "precinct": "TOTAL", "votes": "25569"},
            {**first.to_dict(), "candidate": "Over Votes", "votes": "3"},
        ]
    )
    path = tmp_path / "night.csv"
    pd.concat([table, extra]).to_csv(path, index=False)
    args = ["watch", str(path), "--election", "ca34-2017-general", "--once"]
    assert main([*args, "--out-dir", str(tmp_path / "live"), "--tiles", "none"]) == 0
    err = capsys.readouterr().err
    assert "note: " in err and "'Over Votes' are not candidates" in err
    assert "dropped the row(s) of 'TOTAL'" in err
    assert main(["project", str(path), "--runs", "2"]) == 0
    err = capsys.readouterr().err
    assert "'Over Votes' are not candidates" in err and "dropped the row(s) of 'TOTAL'" in err


MCCONNELL_A101 = '<Precinct name="A101" votes="22" />'


def clarity_with_a101(clarity_xml, tmp_path, value):
    """The real sample with McConnell's A101 vote value written as a county might."""
    text = clarity_xml.read_text()
    assert text.count(MCCONNELL_A101) == 1
    path = tmp_path / "a101.xml"
    path.write_text(text.replace(MCCONNELL_A101, f'<Precinct name="A101" votes="{value}" />'))
    return path


@pytest.mark.parametrize(
    ("value", "what"),
    [("22&lt;b&gt;x&lt;/b&gt;", "is not a whole number"), ("-22", "is negative")],
)
def test_a_bad_clarity_vote_value_is_one_line(clarity_xml, tmp_path, capsys, value, what):
    path = clarity_with_a101(clarity_xml, tmp_path, value)
    assert main(["grid-layer", str(path), "-o", str(tmp_path / "g.geojson")]) == 2
    err = capsys.readouterr().err
    assert "a101.xml" in err and "precinct A101, candidate Mitch McCONNELL" in err
    assert what in err and "Traceback" not in err and len(err.strip().splitlines()) <= 2


def test_clarity_thousands_separator_and_blank_vote_values(clarity_xml, tmp_path):
    from explorer.clarity import load_clarity

    grouped = load_clarity(clarity_with_a101(clarity_xml, tmp_path, "1,022"))
    assert grouped["votes"].sum() == 2_060 - 22 + 1_022  # as the CSV path reads '1,022'
    assert "read 1 vote value(s) written with thousands separators" in " ".join(
        grouped.attrs["notes"]
    )
    blank = load_clarity(clarity_with_a101(clarity_xml, tmp_path, ""))
    assert blank["votes"].sum() == 2_060 - 22
    assert blank.attrs["reporting"].loc["A101", "status"] != "reported"  # not counted yet
    assert (blank.attrs["reporting"]["status"] == "reported").sum() == 32
    assert "1 vote value(s) blank in 1 precinct(s) (A101)" in " ".join(blank.attrs["notes"])


def test_project_takes_expected_as_watch_does(general, tmp_path, capsys):
    table = runoff_table(general)
    listed = table["precinct"].drop_duplicates().tolist()
    (tmp_path / "list.txt").write_text("\n".join(listed[:100]) + "\n")
    path = tmp_path / "early.csv"
    table[table["precinct"].isin(listed[:40])].to_csv(path, index=False)
    assert (
        main(["project", str(path), "--runs", "2", "--expected", str(tmp_path / "list.txt")]) == 0
    )
    assert "40 of 100 precincts reporting (40.0%)" in capsys.readouterr().out


def test_project_names_a_clarity_contest_with_office(clarity_xml, capsys):
    """project's hint names an option project has, and --office chooses the contest (the
    sample then stops at the join: its precincts are not on the CA-34 layer)."""
    assert main(["project", str(clarity_xml), "--runs", "2", "--office", "no such contest"]) == 2
    err = capsys.readouterr().err
    assert "0 contests match 'no such contest'" in err and "--office" in err
    assert main(["project", str(clarity_xml), "--runs", "2", "--office", "us senator"]) == 2
    err = capsys.readouterr().err
    assert "contests match" not in err and "result precincts match a polygon ID" in err


def test_clarity_sub_precinct_is_noted_in_watch_as_in_map(clarity_xml, tmp_path, capsys):
    """'A101 AB' (a sub-precinct of A101 in the XML) goes onto A101's polygon with the
    note the CSV path prints, in watch as in map."""
    from explorer.clarity import precinct_names

    path = tmp_path / "sub.xml"
    path.write_text(clarity_xml.read_text().replace('name="A102"', 'name="A101 AB"'))
    names = [n for n in precinct_names(clarity_xml) if n not in ("A102", "AB")]
    layer = grid_layer(names, tmp_path / "grid.geojson")
    args = ["--returns", str(path), "--precincts", str(layer), "--precinct-id", "name"]
    options = ["--once", "--out-dir", str(tmp_path / "live"), "--tiles", "none"]
    assert main(["watch", str(path), *args, *options]) == 0
    err = capsys.readouterr().err
    assert (
        "1 polygon(s) carry the sum of their result sub-precincts (e.g. A101 = A101 + A101 AB)"
        in err
    )


def test_candidate_names_with_a_vote_method_fold_into_the_candidate(tmp_path):
    """'Mara Kell - Mail' rows are Mara Kell's mail votes, in a final file and a snapshot;
    'Lee Fox - Mail' names no candidate of the file and stays, noted."""
    text = FINAL_WITH_PROVISIONAL + (
        "0101,State Senate,REP,Mara Kell - Mail,50\n"
        "0102,State Senate,REP,Mara Kell - Mail,7\n"
        "0101,State Senate,IND,Lee Fox - Mail,4\n"
    )
    path = tmp_path / "final.csv"
    path.write_text(text, encoding="utf-8")
    for long in (loaders.load_returns(path), live.load_snapshot(path)):
        votes = long.groupby("candidate")["votes"].sum().to_dict()
        assert votes == {"Mara Kell": 637 + 57, "Ann Roe": 421, "Lee Fox - Mail": 4}
        notes = " | ".join(long.attrs["notes"])
        assert "folded 1 vote-method candidate name(s) into their candidates" in notes
        assert "'Lee Fox - Mail'); kept as candidates" in notes
