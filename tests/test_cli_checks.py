"""The command line checks what it is given before any work, and says what it leaves out:
every area in a rank CSV, the totals check on election night, Ctrl-C said, choices and
ranges refused up front, suffixes that would lie refused, options that would do nothing
refused, help that reads well."""

from __future__ import annotations

import io
import os

import pandas as pd
import pytest

import explorer
from explorer import outputs
from explorer.cli import app, main
from explorer.cli.common import ElectionSource

GENERAL = "ca34-2017-general"
SNAPSHOT = "snapshot.csv"  # never read: every use below is refused before any work


def run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def refused_up_front(capsys, monkeypatch, *args, says):
    """Exit 2 with one line naming ``says``, before any election is loaded."""

    def no_work(*_, **__):
        raise AssertionError("an election was loaded before the options were checked")

    monkeypatch.setattr(ElectionSource, "load", no_work)
    monkeypatch.setattr(explorer.cli.night, "load_election", no_work)
    code, _, err = run(capsys, *args)
    assert code == 2, err
    assert err.count("\n") == 1 and says in err, err
    assert "unexpected" not in err and "Traceback" not in err
    return err


# ====================================================== 1. rank CSV keeps every area


@pytest.mark.parametrize("by", ["neighbourhood", "precinct"])
def test_rank_csv_carries_the_areas_it_cannot_call(capsys, by):
    code, out, err = run(capsys, "rank", GENERAL, "--candidate", "Ahn", "--by", by, "-f", "csv")
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out))
    ranked, too_few = explorer.load_election(GENERAL).rank("Ahn", by=by)
    empty = too_few.attrs["no_votes"]
    assert len(table) == len(ranked) + len(too_few) + len(empty) and len(too_few) > 0
    assert (table["status"] == "ranked").sum() == len(ranked)
    apart = table[table["status"] != "ranked"]
    assert apart["rank"].isna().all()
    assert set(apart["status"]) <= {"too few votes", "too little covered", "no votes cast"}
    # the file's votes add up to the election's mapped votes: none lost silently
    mapped = explorer.load_election(GENERAL).ledger_summary["mapped"]
    assert table["total"].sum() == pytest.approx(mapped, abs=0.5)
    # and the votes it cannot carry (no geography) are said on stderr, stdout pure CSV
    assert "5 in 3 precinct(s) have no geography" in err
    assert "no geography" not in out


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_rank_names_the_precincts_where_no_vote_was_cast(capsys, fmt):
    """9002767A is in the returns with 0 votes for each candidate: every format names it."""
    args = ["rank", GENERAL, "--candidate", "Ahn", "--by", "precinct", "-f", fmt]
    code, out, err = run(capsys, *args)
    assert code == 0, err
    returns = explorer.load_election(GENERAL).wide
    zero = [str(p) for p in returns.index[returns.sum(axis=1, numeric_only=True) == 0]]
    assert "9002767A" in zero  # (the others are pooled into a unit, or have no geography)
    if fmt == "csv":
        table = pd.read_csv(io.StringIO(out)).set_index("name")
        assert table.loc["9002767A", "status"] == "no votes cast"
        assert table.loc["9002767A", "total"] == 0 and pd.isna(table.loc["9002767A", "rank"])
        assert len(table) == 161  # every precinct area, as swing counts them
    elif fmt == "json":
        assert outputs.json.loads(out)["no_votes"] == ["9002767A"]
    else:
        assert "No votes cast (1): 9002767A" in out


# ====================================================== 2. --expected keeps the totals


def test_expected_keeps_the_district_totals_check(capsys, tmp_path):
    election = explorer.load_election(GENERAL)
    listed = tmp_path / "all.txt"
    listed.write_text("\n".join(election.wide.index.astype(str)) + "\n")
    code, out, err = run(capsys, "info", GENERAL, "--expected", listed)
    assert code == 0, err
    assert "No district totals file" not in out
    assert "Check: precinct returns match the district totals for all 2 candidates." in out
    code, out, err = run(capsys, "ledger", GENERAL, "--expected", listed, "--out-dir", tmp_path)
    assert code == 0, err
    ledger = pd.read_csv(tmp_path / f"{GENERAL}-ledger.csv")
    assert {"district_totals", "difference"} <= set(ledger.columns)
    assert (ledger["difference"] == 0).all()


# ====================================================== 3. Ctrl-C


def test_ctrl_c_says_so_in_one_line(capsys, monkeypatch):
    def interrupted(*_, **__):
        raise KeyboardInterrupt

    monkeypatch.setattr(explorer.catalog, "datasets", interrupted)
    code, _, err = run(capsys, "list")
    assert code == 130
    assert err == "explorer: interrupted; no output was left half-written\n"


def test_ctrl_c_while_writing_leaves_no_file(capsys, monkeypatch, tmp_path):
    def interrupted(*_, **__):
        raise KeyboardInterrupt

    monkeypatch.setattr(outputs.os, "replace", interrupted)  # at the atomic rename
    code, _, err = run(capsys, "ledger", GENERAL, "--out-dir", tmp_path)
    assert code == 130 and "interrupted; no output was left half-written" in err
    assert os.listdir(tmp_path) == []  # neither the CSV nor a temporary file


# ====================================================== 4-6. refused before any work


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["ask", "who won?", "--format", "yaml"], "--format"),
        (["ei", GENERAL, "--format", "xml"], "--format"),
        (["rank", GENERAL, "--candidate", "Ahn", "--format", "xml"], "--format"),
        (["project", SNAPSHOT, "--format", "xml"], "--format"),
        (["map", GENERAL, "--tiles", "dark"], "--tiles"),
        (["rank", GENERAL, "--candidate", "Ahn", "--by", "county"], "--by"),
        (["rank", GENERAL, "--candidate", "Ahn", "--backend", "spark"], "--backend"),
        (["project", SNAPSHOT, "--runs", "-3"], "--runs"),
        (["watch", SNAPSHOT, "--max-updates", "0", "--once"], "--max-updates"),
        (["watch", SNAPSHOT, "--interval", "-1"], "--interval"),
        (["rank", GENERAL, "--backend", "dask", "--scheduler", "notanaddress"], "--scheduler"),
        (["rank", GENERAL, "--candidate", "Ahn", "--scheduler", "tcp://1.2.3.4:8786"], "dask"),
        (["ask", "who won?", "--scheduler", "tcp://1.2.3.4:8786"], "--backend dask"),
        (["info", GENERAL, "--crosswalk", "/nonexistent.csv"], "--crosswalk"),
    ],
)
def test_bad_choices_and_ranges_are_refused_up_front(capsys, monkeypatch, args, says):
    refused_up_front(capsys, monkeypatch, *args, says=says)


def test_a_data_dir_that_is_a_file_is_one_line(capsys, monkeypatch, tmp_path):
    some_file = tmp_path / "some_file"
    some_file.write_text("x")
    refused_up_front(capsys, monkeypatch, "fetch", "--data-dir", some_file, says="--data-dir")


# ====================================================== 7. suffixes


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["scatter", GENERAL, "--group", "asian", "--candidate", "Ahn", "-o", "a.jpg"], ".jpg"),
        (["scatter", GENERAL, "--group", "asian", "--candidate", "Ahn", "-o", "a.txt"], ".txt"),
        (["ei", GENERAL, "--plot", "p.jpg"], ".jpg"),
        (["grid-layer", SNAPSHOT, "-o", "g.shp"], ".shp"),
    ],
)
def test_a_suffix_that_would_lie_is_refused(capsys, monkeypatch, tmp_path, args, says):
    monkeypatch.chdir(tmp_path)
    refused_up_front(capsys, monkeypatch, *args, says=says)
    assert os.listdir(tmp_path) == []


def test_scatter_writes_the_format_its_suffix_names(capsys, tmp_path):
    target = tmp_path / "a.svg"
    args = ["scatter", GENERAL, "--group", "asian", "--candidate", "Ahn", "-o", target]
    code, _, err = run(capsys, *args)
    assert code == 0, err
    assert b"<svg" in target.read_bytes()[:400]


# ====================================================== 8. options that would do nothing


def test_a_given_out_dir_must_hang_off_an_existing_folder(capsys, tmp_path):
    nowhere = tmp_path / "nonexistent" / "dir"
    code, _, err = run(capsys, "ledger", GENERAL, "--out-dir", nowhere)
    assert code == 2 and err.count("\n") == 1 and "does not exist" in err
    assert not (tmp_path / "nonexistent").exists()


# ====================================================== 9. help


def test_the_command_list_has_one_sentence_per_command_without_hard_breaks():
    for info in app.registered_commands:
        assert info.short_help and "\n" not in info.short_help, info.name
        assert info.short_help.endswith(".") and ". " not in info.short_help


def test_help_shows_no_rest_markup_and_usage_errors_name_the_subcommand(capsys):
    assert main(["map", "--help"]) == 0
    assert "``" not in capsys.readouterr().out
    code, _, err = run(capsys, "info", "--bogus")
    assert code == 2 and "(see explorer info --help)" in err
