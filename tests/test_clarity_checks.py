"""Clarity ENR files that are damaged in the ways a newcomer found (review A of session 4):
a precinct listed twice under one choice, two choices sharing a key, a precinct missing
under one choice, elements without the attributes clarify reads, an error page saved in
place of the XML. Each is built from the real clarify sample through the mirror."""

from __future__ import annotations

import re

import pytest
from test_live import CLARITY

from explorer.cli import main
from explorer.errors import ExplorerError

BEVIN_A101 = '<Precinct name="A101" votes="36" />'


@pytest.fixture(scope="module")
def sample(general) -> str:
    from explorer import catalog

    return catalog.local_path(CLARITY).read_text()


def _bevin(text: str) -> tuple[int, int]:
    """Where Matt BEVIN's choice starts and ends in the sample."""
    start = text.index('text="Matt BEVIN"')
    return start, text.index("</Choice>", start)


def _edit_bevin(text: str, old: str, new: str) -> str:
    start, end = _bevin(text)
    assert old in text[start:end]
    return text[:start] + text[start:end].replace(old, new, 1) + text[end:]


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_precinct_listed_twice_with_other_votes_is_refused(sample, tmp_path):
    from explorer.clarity import load_clarity

    dup = _write(
        tmp_path,
        "dup.xml",
        _edit_bevin(sample, BEVIN_A101, BEVIN_A101 + '<Precinct name="A101" votes="5" />'),
    )
    with pytest.raises(ExplorerError) as error:
        load_clarity(dup)
    text = str(error.value)
    assert "precinct A101" in text and "'Matt BEVIN'" in text and "36, 5" in text


def test_a_precinct_listed_twice_alike_is_counted_once_with_a_note(sample, tmp_path):
    from explorer.clarity import load_clarity

    same = _write(tmp_path, "same.xml", _edit_bevin(sample, BEVIN_A101, BEVIN_A101 * 2))
    long = load_clarity(same)
    bevin = long[long.candidate == "Matt BEVIN"]
    assert int(bevin.votes.sum()) == 820  # the file's own total, not 856
    assert int(bevin.loc[bevin.precinct == "A101", "votes"].sum()) == 36
    assert any("listed twice" in n and "A101 under 'Matt BEVIN'" in n for n in long.attrs["notes"])


def test_two_choices_sharing_a_key_are_refused(sample, tmp_path):
    from explorer.clarity import load_clarity

    text = sample.replace(
        '<Choice key="5" text="Shawna STERLING"', '<Choice key="4" text="Shawna STERLING"'
    )
    assert text != sample
    with pytest.raises(ExplorerError) as error:
        load_clarity(_write(tmp_path, "key.xml", text))
    assert "'Chris PAYNE' and 'Shawna STERLING' share the key '4'" in str(error.value)


def test_a_precinct_missing_under_one_choice_is_not_a_complete_zero(sample, tmp_path):
    from explorer.clarity import load_clarity

    a102 = '<Precinct name="A102" votes="25" />'
    long = load_clarity(_write(tmp_path, "missing.xml", _edit_bevin(sample, a102, "")))
    state = long.attrs["reporting"]
    assert state.loc["A102", "status"] == "partial"  # not counted yet under one choice
    assert (state.drop(["A102"])["status"] == "reported").all()
    note = next(n for n in long.attrs["notes"] if "missing where" in n)
    assert "A102 under 'Matt BEVIN'" in note and "not as 0" in note


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        (BEVIN_A101, '<Precinct name="A101" />', "precinct 'A101'"),
        ('text="Matt BEVIN" totalVotes="820"', 'text="Matt BEVIN"', "choice 'Matt BEVIN' (line"),
    ],
)
def test_an_element_without_its_attribute_is_named(sample, tmp_path, capsys, old, new, says):
    edit = sample.replace if old.startswith("text=") else lambda a, b: _edit_bevin(sample, a, b)
    text = edit(old, new)
    bad = _write(tmp_path, "bad.xml", text)
    assert main(["info", "--returns", str(bad), "--precincts", "x.geojson"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "bad.xml" in err and says in err
    assert "contest 'US Senator - REPUBLICAN'" in err and "download it again" in err
    assert not re.search(r"\('\w+'\)|KeyError|index out of range", err)


def test_an_error_page_saved_as_the_xml_is_one_clear_line(tmp_path, capsys):
    page = _write(tmp_path, "detail.xml", "<html><body>502 Bad Gateway</body></html>")
    assert main(["info", "--returns", str(page), "--precincts", "x.geojson"]) == 2
    err = capsys.readouterr().err.strip()
    assert "root element is <html>" in err and "download detail.xml again" in err
    assert "index out of range" not in err
