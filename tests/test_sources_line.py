"""File names in an own-files map's sources line and in terminal notes (review A of
session 4): backslashes are part of a Linux name, control and bidi characters show as
escapes, long names are cut in the middle keeping the extension, and math-like names do
not break the print's wrapping. The clarify sample (through the mirror) on a test grid."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from test_live import CLARITY

from explorer.cli import main
from explorer.outputs import file_label


@pytest.fixture(scope="module")
def sample(general):
    from explorer import catalog

    return catalog.local_path(CLARITY)


def _credit(page) -> str:
    return json.loads(re.search(r'"credit":("(?:[^"\\]|\\.)*")', page.read_text()).group(1))


def _map(tmp_path, returns, precincts, capsys):
    page, svg = tmp_path / "m.html", tmp_path / "m.svg"
    args = ["--returns", str(returns), "--precincts", str(precincts), "--precinct-id", "name"]
    code = main(["map", *args, "--tiles", "none", "-o", str(page), "--svg", str(svg)])
    printed = capsys.readouterr()
    assert code == 0, printed.err
    return page, svg, printed


def test_backslashes_and_math_in_names_are_credited_whole(sample, tmp_path, capsys):
    returns = tmp_path / "back\\slash.xml"
    shutil.copy(sample, returns)
    grid = tmp_path / "$\\frac{1}{2}$_%(x)s_{0}.geojson"
    assert main(["grid-layer", str(returns), "-o", str(grid)]) == 0
    page, svg, _ = _map(tmp_path, returns, grid, capsys)
    assert _credit(page) == "Sources: back\\slash.xml, $\\frac{1}{2}$_%(x)s_{0}.geojson."
    assert "back\\slash.xml" in svg.read_text()


def test_control_bidi_and_long_names_are_escaped_and_shortened(sample, tmp_path, capsys):
    returns = tmp_path / "rtl\u202egnp\nx.xml"
    shutil.copy(sample, returns)
    long = "n" * 160 + "_Bélair&x<y>_$$E=mc^2$$.geojson"
    grid = tmp_path / long
    assert main(["grid-layer", str(returns), "-o", str(grid)]) == 0
    capsys.readouterr()
    page, svg, printed = _map(tmp_path, returns, grid, capsys)
    credit = _credit(page)
    assert "\u202e" not in credit and "\n" not in credit
    assert "rtl\\u202egnp\\u000ax.xml" in credit
    shown = file_label(long)
    assert shown in credit and len(shown) <= 48 and shown.endswith("$$.geojson")
    assert shown.startswith("nnnn") and "…" in shown
    # every printed note is one line: a name's line break does not start a fake one
    assert all(line.startswith(("note:", "warning:")) for line in printed.err.splitlines())
    assert "rtl\\u202egnp\\u000ax.xml" in printed.err
    assert shown.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in svg.read_text()
