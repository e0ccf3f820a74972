"""Each watch publish names its own snapshot and carries its notes; a test grid is marked
in its file and on every map drawn on it (review A of session 4). Built from the real
clarify sample through the mirror."""

from __future__ import annotations

import json

import pytest
from test_live import CLARITY

from explorer.cli import main


@pytest.fixture(scope="module")
def sample(general) -> str:
    from explorer import catalog

    return catalog.local_path(CLARITY).read_text()


def test_each_publish_names_its_snapshot_and_carries_its_notes(sample, tmp_path, capsys):
    feed = tmp_path / "snaps"
    feed.mkdir()
    (feed / "a1.xml").write_text(sample)
    edited = sample.replace(
        'text="Matt BEVIN" totalVotes="820"', 'text="Matt BEVIN" totalVotes="720"'
    )
    assert edited != sample
    (feed / "a2.xml").write_text(edited)
    grid = tmp_path / "grid.geojson"
    assert main(["grid-layer", str(feed / "a1.xml"), "-o", str(grid)]) == 0
    out = tmp_path / "out"
    args = ["--precincts", str(grid), "--precinct-id", "name", "--once", "--tiles", "none"]
    assert main(["watch", str(feed), *args, "--out-dir", str(out)]) == 0
    printed = capsys.readouterr()
    assert "totalVotes 720" in printed.err  # the terminal's note ...
    text = (out / "live-summary.txt").read_text()
    record = json.loads((out / "live-summary.json").read_text())
    page = (out / "live-map.html").read_text()
    assert text.splitlines()[0].endswith("a2") and "Snapshot: a2.xml" in text
    assert record["election"] == "a2" and record["snapshot"] == "a2.xml"
    assert "<title>TEST GRID: not real geography | a2</title>" in page
    # ... is in the summary and on the page too
    assert "totalVotes 720" in text and "totalVotes 720" in page
    assert any("totalVotes 720" in n for n in record["notes"])
    first = json.loads((out / "steps" / "001-summary.json").read_text())
    assert first["election"] == "a1" and not any("totalVotes" in n for n in first["notes"])


def test_grid_layer_is_marked_in_the_file_and_on_its_maps(sample, tmp_path, capsys):
    returns = tmp_path / "r.xml"
    returns.write_text(sample)
    grid = tmp_path / "grid.geojson"
    assert main(["grid-layer", str(returns), "-o", str(grid)]) == 0
    data = json.loads(grid.read_text())
    assert data["name"] == "grid"  # not the temporary file's name
    assert data["description"].startswith("TEST GRID: not real geography")
    page, svg = tmp_path / "m.html", tmp_path / "m.svg"
    args = ["--returns", str(returns), "--precincts", str(grid), "--precinct-id", "name"]
    assert main(["map", *args, "--tiles", "none", "-o", str(page), "--svg", str(svg)]) == 0
    assert "<title>TEST GRID: not real geography | r</title>" in page.read_text()
    assert "TEST GRID: not real geography | r" in svg.read_text()  # the print says so too
