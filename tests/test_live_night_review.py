"""Election-night defects a newcomer found (review C of session 4): a precinct list that is
not one (another CSV, a binary file), a Clarity precinct at percentReporting 0 holding
votes, blank over-/undervotes, a contest without text, a duplicate precinct spelled two
ways. Clarity files are built from the real clarify sample through the mirror."""

from __future__ import annotations

import pytest
from conftest import PRECINCTS_2018
from test_live import CLARITY, runoff_table

from explorer import live
from explorer.cli import main
from explorer.errors import ExplorerError


@pytest.fixture(scope="module")
def sample(general) -> str:
    from explorer import catalog

    return catalog.local_path(CLARITY).read_text()


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "text",
    ["pct_id,ward\n0850001A,W1\n0850012A,W1\n", "a,b,c\nZZZ1,ZZZ2,ZZZ3\n", "ZZZ1,ZZZ2\n"],
)
def test_a_csv_without_a_precinct_column_is_not_a_precinct_list(tmp_path, text):
    path = _write(tmp_path, "list.csv", text)
    with pytest.raises(ExplorerError) as error:
        live.read_precinct_list(path)
    said = str(error.value)
    assert str(path) in said and "'precinct' column" in said and "one precinct ID a line" in said
    assert "\n" not in said


def test_one_id_a_line_and_a_precinct_column_still_read(tmp_path):
    assert live.read_precinct_list(_write(tmp_path, "a.txt", "0850001A\n\n0850012A\n")) == [
        "0850001A",
        "0850012A",
    ]
    both = _write(tmp_path, "b.csv", "Precinct,ward\n0850001A,W1\n0850012A,W2\n")
    assert live.read_precinct_list(both) == ["0850001A", "0850012A"]


def test_a_binary_precinct_list_is_said_not_text(tmp_path):
    path = tmp_path / "bin.txt"
    path.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(9) + b"\x03\x00>\x00\x01" + bytes(180))
    with pytest.raises(ExplorerError) as error:
        live.read_precinct_list(path)
    assert "is not a text file" in str(error.value) and "UTF-16" not in str(error.value)


def test_a_rank_table_as_expected_list_is_refused_not_counted(general, tmp_path, capsys):
    table = runoff_table(general)
    path = tmp_path / "returns.csv"
    table.to_csv(path, index=False)
    rank = _write(tmp_path, "o.csv", "name,rank,status\nKoreatown,1,ranked\n")
    args = ["--returns", str(path), "--precincts", str(general._path(PRECINCTS_2018))]
    args += ["--precinct-id", "Precinct", "--crs", "EPSG:4326", "--expected", str(rank)]
    assert main(["info", *args]) == 2
    captured = capsys.readouterr()
    assert "precincts reporting" not in captured.out
    assert "'precinct' column" in captured.err and str(rank) in captured.err


def test_percent_reporting_zero_with_votes_is_partly_counted(sample, tmp_path):
    from explorer.clarity import load_clarity

    old = '<Precinct name="A103" totalVoters="0" ballotsCast="133" voterTurnout="0.00" '
    start = sample.index(old)
    end = sample.index("/>", start)
    edited = (
        sample[:start]
        + sample[start:end].replace('percentReporting="4"', 'percentReporting="0"')
        + sample[end:]
    )
    long = load_clarity(_write(tmp_path, "pctzero.xml", edited))
    assert long.attrs["reporting"].loc["A103", "status"] == "partial"
    votes = int(long.loc[long["precinct"] == "A103", "votes"].sum())
    assert votes > 0
    assert any(
        "percentReporting 0" in note and "A103" in note and f"{votes:,} vote" in note
        for note in long.attrs["notes"]
    )


def test_blank_undervotes_are_not_counted_yet_not_a_refusal(sample, tmp_path):
    from explorer.clarity import load_clarity

    start = sample.index('<VoteType name="Undervotes"')
    end = sample.index("</VoteType>", start)
    block = sample[start:end].replace(
        '<Precinct name="C101" votes="0" />', '<Precinct name="C101" votes="" />'
    )
    assert block != sample[start:end]
    long = load_clarity(_write(tmp_path, "blank.xml", sample[:start] + block + sample[end:]))
    assert long.attrs["reporting"].loc["C101", "status"] == "partial"
    assert any("blank" in note and "C101" in note for note in long.attrs["notes"])


def test_a_contest_without_text_is_refused_in_one_line(sample, tmp_path):
    from explorer.clarity import load_clarity

    edited = sample.replace(' text="US Senator - REPUBLICAN"', "", 1)
    with pytest.raises(ExplorerError) as error:
        load_clarity(_write(tmp_path, "notext.xml", edited))
    said = str(error.value)
    assert "no text attribute" in said and "<Contest>" in said and "None" not in said


def test_a_duplicate_spelled_differently_names_both_spellings(sample, tmp_path):
    from explorer.clarity import load_clarity

    start = sample.index('text="Matt BEVIN"')
    at = sample.index('<Precinct name="A101" votes="36" />', start)
    edited = sample[:at] + '<Precinct name="a101 " votes="5" />' + sample[at:]
    with pytest.raises(ExplorerError) as error:
        load_clarity(_write(tmp_path, "dup.xml", edited))
    assert "'A101' and 'a101 '" in str(error.value)


def test_listed_precincts_absent_from_layer_and_returns_are_their_own_kind(
    general, tmp_path, capsys
):
    ids = runoff_table(general)["precinct"].drop_duplicates().tolist()
    listed = _write(tmp_path, "list.txt", "\n".join([*ids, "0000000X", "=1+1"]) + "\n")
    args = ["ledger", "ca34-2017-general", "--expected", str(listed)]
    assert main([*args, "--out-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "2 listed precinct(s) with nothing counted are not in the layer (0000000X, =1+1)" in out
    assert "Listed precincts not in the layer, nothing counted yet: 0000000X, =1+1" in out
    assert "2 not in the layer: 0000000X, =1+1" in out and "hatched" not in out
    unmapped = next(line for line in out.splitlines() if line.startswith("Unmapped precincts"))
    assert "0000000X" not in unmapped and "=1+1" not in unmapped
