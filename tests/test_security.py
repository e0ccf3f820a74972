"""Text from a file is data: it never becomes code, markup, a formula or terminal control.

A corpus of hostile strings rides through every text field (candidate names, precinct IDs,
office, returns file name, neighbourhood names, road names, election title) of the real
CA-34 files, rewritten into temporary copies, and through every command and the Python
API. Every output must show each string literally (in that output's escaping), evaluate
nothing, create no file outside the output folder, and, in headless Chromium with the
network off, fire no dialog and hold no injected element.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import matplotlib
import pandas as pd
import pytest
from conftest import MIRROR, NEIGHBOURHOODS, PRECINCTS_2018, PRIMARY, RUNOFF

import explorer
from explorer import catalog, elections, render
from explorer.cli import main
from explorer.outputs import (
    bidi_closed,
    csv_cell,
    format_frame,
    markdown_cell,
    page_text,
    script_json,
    slug,
    terminal,
    to_csv,
    write_text,
)

# Each evaluated form is distinctive: a49b, cLLLd, zqqz never occur in a safe output.
EVALUATED = ("a49b", "cLLLd", "zqqz", "uid=")
CORPUS = [
    "a{{7*7}}b",
    "{{ lipsum.__globals__.os.popen('touch PWNED').read() }}",
    "c{% for i in range(3) %}L{% endfor %}d",
    "zq{# hidden #}qz",
    "</script><script>window.pwned=1</script>",
    '<img src=x onerror="window.pwned=2;alert(2)">',
    "javascript:alert(3)",
    "\"dq\" 'sq' `bt` \u2018c\u2019 \u201cd\u201d",
    "r\u202elive\u202c",
    "\x1b[31mred\x1b[0m\x1b]0;title\x07",
    '=HYPERLINK("http://x","y")',
    "+1+1",
    "-2+3",
    "@SUM(1)",
    "tab\there",
    "cr\rhere",
    "nul\x00here",
    "$x^2$ $\\undefinedmacro$",
    "[md](javascript:alert(4)) | *em* www.x.com",
]
#: the returns reader refuses a file holding NUL (see the test below) and GeoPackage text
#: stops at it: every other string rides through the files
PAGE_CORPUS = [s for s in CORPUS if "\x00" not in s]
TITLE = " | ".join(PAGE_CORPUS)
OFFICE = "U.S. House {{7*7}} \x1b[2J\u202e"
RUNOFF_NAMES = {
    "Jimmy Gomez": "a{{7*7}}b " + CORPUS[5],
    "Robert Lee Ahn": '=HYPERLINK("http://x","y") \u202eRTL\x1b[31m',
}
FILE_STEM = "=cmd a{{7*7}}b <img src=x onerror=alert(5)> '\" $x^2$ \u202e\x1b[1m"
TERMINAL_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@dataclass
class Hostile:
    root: Path  # everything the tests write lives under here
    returns: Path  # runoff returns, hostile names, IDs, office; hostile file name
    primary: Path  # primary returns (24 candidates) with the same hostile IDs
    precincts: Path
    neighbourhoods: Path
    roads: Path
    runoff: explorer.Election
    before: explorer.Election

    def cli(self, returns: Path | None = None, title: bool = True) -> list[str]:
        args = [
            "--returns",
            returns or self.returns,
            "--precincts",
            self.precincts,
            "--precinct-id",
            "PCT",
            "--office",
            OFFICE,
            "--neighbourhoods",
            self.neighbourhoods,
            "--roads",
            self.roads,
        ]
        return [str(a) for a in args] + (["--title", TITLE] if title else [])


def _rewrite_returns(source: Path, target: Path, names: dict, ids: dict) -> None:
    with open(source, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with open(target, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            row["candidate"] = names.get(row["candidate"], row["candidate"])
            row["precinct"] = ids[row["precinct"]]
            row["office"] = OFFICE
            writer.writerow(row)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory, general) -> Hostile:
    """The real CA-34 returns and layers, every text field rewritten to the corpus."""
    root = tmp_path_factory.mktemp("hostile")
    inputs = root / "in"
    inputs.mkdir()
    with open(MIRROR / RUNOFF, encoding="utf-8") as handle:
        runoff_ids = {row["precinct"] for row in csv.DictReader(handle)}
    with open(MIRROR / PRIMARY, encoding="utf-8") as handle:
        primary_rows = list(csv.DictReader(handle))
    all_ids = sorted(runoff_ids | {row["precinct"] for row in primary_rows})
    # GeoPackage text stops at NUL: the NUL string rides in names that stay in CSV files
    ids = {
        p: f"{PAGE_CORPUS[i % len(PAGE_CORPUS)]}~{p}".replace("\r", " ")
        for i, p in enumerate(all_ids)
    }
    returns = inputs / f"{FILE_STEM}.csv"
    _rewrite_returns(MIRROR / RUNOFF, returns, RUNOFF_NAMES, ids)
    others = sorted({r["candidate"] for r in primary_rows} - set(RUNOFF_NAMES))
    names = dict(RUNOFF_NAMES)
    names.update({c: f"{PAGE_CORPUS[i % len(PAGE_CORPUS)]} {i}" for i, c in enumerate(others)})
    primary = inputs / "primary.csv"
    _rewrite_returns(MIRROR / PRIMARY, primary, names, ids)

    layer = explorer.loaders.load_precincts(MIRROR / PRECINCTS_2018, "Precinct", crs="EPSG:4326")
    layer = layer[layer["precinct"].isin(all_ids)].copy()
    layer["PCT"] = layer["precinct"].map(ids)
    layer[["PCT", "geometry"]].to_file(inputs / "p.gpkg")
    area = layer.union_all()

    hoods = gpd.read_file(MIRROR / NEIGHBOURHOODS)
    hoods = hoods[hoods["county"] == "los-angeles"]
    hoods = hoods[hoods.to_crs(4326).intersects(area)].reset_index(drop=True)
    hoods["name"] = [
        PAGE_CORPUS[i % len(PAGE_CORPUS)] + (f" {i}" if i >= len(PAGE_CORPUS) else "")
        for i in range(len(hoods))
    ]
    hoods[["name", "geometry"]].to_file(inputs / "n.gpkg")

    roads = general.freeways
    roads = roads[roads.intersects(area)].reset_index(drop=True)
    roads = gpd.GeoDataFrame(
        {"name": [PAGE_CORPUS[-1 - i] for i in range(len(roads))]},
        geometry=roads.geometry.values,
        crs=roads.crs,
    )
    roads.to_file(inputs / "rd.gpkg")
    common = {
        "precincts": inputs / "p.gpkg",
        "precinct_id": "PCT",
        "office": OFFICE,
        "neighbourhoods": inputs / "n.gpkg",
        "freeways": inputs / "rd.gpkg",
    }
    runoff = explorer.Election.from_files(returns=returns, name=FILE_STEM, title=TITLE, **common)
    before = explorer.Election.from_files(returns=primary, name=CORPUS[0], title=TITLE, **common)
    return Hostile(
        root,
        returns,
        primary,
        inputs / "p.gpkg",
        inputs / "n.gpkg",
        inputs / "rd.gpkg",
        runoff,
        before,
    )


def test_the_corpus_survives_loading(hostile):
    """The hostile strings reach every field intact (else the tests below prove nothing)."""
    runoff, before = hostile.runoff, hostile.before
    assert runoff.candidates == list(RUNOFF_NAMES.values())
    # the returns reader collapses runs of white space (tab, CR) in names, as it should
    collapsed = {" ".join(c.split()) for c in PAGE_CORPUS}
    assert collapsed <= {c.rsplit(" ", 1)[0] for c in before.candidates} | set(CORPUS[:1])
    mapped = runoff.precincts[runoff.precincts["match"] == "exact"]["precinct"]
    assert any("{{7*7}}" in p for p in mapped) and any("</SCRIPT>" in p for p in mapped)
    assert set(PAGE_CORPUS) <= set(runoff.neighbourhoods["name"]) | {
        n.rsplit(" ", 1)[0] for n in runoff.neighbourhoods["name"]
    }
    assert len(runoff.freeways) >= 5 and set(runoff.freeways["label"]) <= set(PAGE_CORPUS)
    assert runoff.spec.title == TITLE and runoff.name == FILE_STEM


# ------------------------------------------------------------------ helpers


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def assert_inert(text: str) -> None:
    """Nothing was evaluated: no template output, no command output. folium's element
    names end in a random 32-digit hex id, which can hold "a49b" by chance: left out."""
    text = re.sub(r"[0-9a-f]{32}", "", text)
    for evaluated in EVALUATED:
        assert evaluated not in text, evaluated


def assert_terminal_safe(*streams: str) -> None:
    for stream in streams:
        assert not TERMINAL_CONTROL.search(stream), TERMINAL_CONTROL.search(stream)
        assert_inert(stream)


def strings_in(value) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(strings_in(v) | strings_in(k) for k, v in value.items()), set())
    if isinstance(value, list):
        return set().union(*(strings_in(v) for v in value), set())
    return {value} if isinstance(value, str) else set()


def assert_csv_safe(text: str, expected: list[str], shown=lambda cell: cell) -> None:
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    for cell in cells:
        assert not cell.lstrip(" ").startswith(("=", "+", "@", "\t", "\r")), cell
        if cell.startswith("-"):
            float(cell)  # only numbers may start with a minus
    for value in expected:
        assert shown(csv_cell(value)) in cells, value


# ------------------------------------------------------------------ the reported exploit

RCE = "{{ lipsum.__globals__.os.popen(dict(id=1)|join).read() }}"  # runs `id`


def test_the_reported_exploit_runs_nothing(general, tmp_path, capsys):
    """The issue's case: a candidate named by a Jinja2 expression that runs `id`, with
    `{{7*7}}` in the title, through `explorer map` on real precinct polygons."""
    ids = general.precincts.loc[general.precincts["match"] == "exact", "precinct"].head(8)
    rows = ["county,precinct,office,district,party,candidate,votes"]
    for i, precinct in enumerate(ids):
        rows += [
            f"LA,{precinct},Mayor,1,X,{RCE},{10 + i}",
            f"LA,{precinct},Mayor,1,Y,a{{{{7*7}}}}b,9",
        ]
    returns = tmp_path / "r.csv"
    returns.write_text("\n".join(rows) + "\n")
    page = tmp_path / "out" / "m.html"
    page.parent.mkdir()  # an output's folder must exist (issue 12)
    code, _, err = run(
        capsys, "map", "--returns", returns, "--precincts", MIRROR / PRECINCTS_2018,
        "--precinct-id", "Precinct", "--crs", "EPSG:4326", "--title", "a{{7*7}}b",
        "--tiles", "none", "-o", page,
    )  # fmt: skip
    assert code == 0, err
    html = page.read_bytes().decode("utf-8")
    assert "uid=" not in html and "a49b" not in html  # neither ran
    assert page_text(RCE) in html and script_json(page_text(RCE))[1:-1] in html
    assert f"<div class='xl-title'>{page_text('a{{7*7}}b')}<small>" in html


# ------------------------------------------------------------------ the units


@pytest.mark.parametrize("value", CORPUS)
def test_each_output_kind_keeps_the_string_literal(value):
    page = page_text(value)
    assert not re.search(r"[<>\"'{}]", page)
    assert json.loads(script_json({"k": [value]})) == {"k": [value]}
    assert not re.search(r"[<>{}]", script_json(value)[1:-1])
    assert csv_cell(value).lstrip("'") == value
    assert not csv_cell(value).startswith(("=", "+", "-", "@", "\t", "\r"))
    md = markdown_cell(value)
    assert not re.search(r"(?<!\\)[|`\[\]()*<>]", md) and "\n" not in md and "\r" not in md
    shown = terminal(value)
    assert not TERMINAL_CONTROL.search(shown)
    name = slug(value)
    assert name and "/" not in name and "\x00" not in name and not name.startswith(".")


def test_an_rtl_override_cannot_flip_the_text_after_a_name():
    assert bidi_closed("\u202eAhn") == "\u202eAhn\u202c"
    assert bidi_closed("r\u202elive\u202c") == "r\u202elive\u202c"  # already closed
    assert bidi_closed("\u2067x") == "\u2067x\u2069"
    styled = render.style_margin(pd.Series([0.5, -0.5]), "\u202eAhn", "Gomez")
    assert all("\u202eAhn\u202c ahead by" in label for _, label in styled.legend[:4])
    assert page_text("\u202eAhn").endswith("\u202c")


def test_formula_prefixes_tab_and_carriage_return_are_defused():
    for value in ("=1+1", "+1", "-1", "@A1", "\tx", "\rx", "  =1"):
        assert csv_cell(value) == "'" + value
    assert csv_cell(-3) == -3 and csv_cell("a=b") == "a=b"


def test_terminal_escapes_stay_valid_json():
    text = json.dumps({"n": "\u202e\x9b"}, ensure_ascii=False)
    assert json.loads(terminal(text)) == {"n": "\u202e\x9b"}


def test_multiindex_labels_and_written_files_are_defused(tmp_path):
    # e.g. ei --format csv: a (group, candidate) index whose parts are each cells
    frame = pd.DataFrame(
        {"group": ["hispanic"], "candidate": ['=HYPERLINK("x") Ahn\u202e'], "mean": [0.5]}
    ).set_index(["group", "candidate"])
    text = to_csv(frame)
    assert "'=HYPERLINK" in text and '\n"=HYPERLINK' not in text
    # a text file written by the tool (ledger/rank CSV, live summary) is terminal-safe too
    target = write_text(tmp_path / "out.csv", text + "\x1b]0;title\x07\n")
    written = target.read_text(encoding="utf-8")
    assert "\x1b" not in written and "\u202e" not in written and "\x07" not in written
    assert "\\u202e" in written and "\\u001b" in written


def test_scatter_text_is_literal_and_its_name_slugged(hostile, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = hostile.cli(title=False)
    candidate = hostile.runoff.candidates[0]
    code, _, err = run(
        capsys, "scatter", "../../escaped", "--group", "asian", "--candidate", candidate, *args
    )
    assert code == 0, err
    written = files_under(tmp_path)
    assert len(written) == 1 and next(iter(written)).parent == tmp_path / "maps"
    assert not (tmp_path.parent.parent / "escaped-scatter-asian").exists()
    figure = hostile.runoff.scatter("asian", candidate)
    named = [t for t in figure.findobj(matplotlib.text.Text) if candidate in t.get_text()]
    assert named and not any(t.get_parse_math() for t in named)
    figure.savefig(io.BytesIO(), format="png")  # broken mathtext in a name would raise here


def test_markdown_keeps_liquid_and_math_literal():
    cell = markdown_cell("a{{7*7}}b {% raw %} $x^2$")
    assert "{" not in cell and "}" not in cell and "\\$x^2\\$" in cell


def test_names_never_steer_paths():
    for name in ("../../etc/passwd", "/abs", ".hidden", "a\x00b", "..", "", "{{7*7}}"):
        part = slug(name)
        assert part and "/" not in part and ".." not in part and not part.startswith(".")
    assert slug("CA-34 2017 General") == "ca-34-2017-general"


# ------------------------------------------------------------------ the commands


def test_cli_maps_all_views_and_png(hostile, capsys, monkeypatch):
    work = hostile.root / "maps-cli"
    work.mkdir()
    monkeypatch.chdir(work)
    before_run = files_under(hostile.root)
    runoff = hostile.runoff
    views = {
        "margin": [],
        "candidate": ["--candidate", "HYPERLINK"],
        "neighbourhoods": ["--by", "neighbourhood"],
    }
    pages = {}
    (work / "out").mkdir(exist_ok=True)  # an output's folder must exist (issue 12)
    for view, extra in views.items():
        target = work / "out" / f"{view}.html"
        png = ["--png", work / "out" / "margin.png"] if view == "margin" else []
        code, out, err = run(
            capsys, "map", *hostile.cli(), *extra, *png, "--tiles", "none", "-o", target
        )
        assert code == 0, err
        assert_terminal_safe(out, err)
        pages[view] = target.read_bytes().decode("utf-8")
    # the winner view of the 24-candidate primary, named by its hostile returns file
    code, out, err = run(
        capsys, "map", *hostile.cli(hostile.primary), "--winner", "--tiles", "none"
    )
    assert code == 0, err
    assert_terminal_safe(out, err)
    # no -o: the file name is a slug of the election name, inside ./maps
    written = files_under(hostile.root) - before_run
    assert all(p.is_relative_to(work / "out") or p.parent == work / "maps" for p in written)
    (default,) = (p for p in written if p.parent == work / "maps")
    assert default.name == "primary-winner-print.html"  # --tiles none: its own name
    pages["winner"] = default.read_bytes().decode("utf-8")
    png = work / "out" / "margin.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(work.rglob("PWNED")) and not Path("PWNED").exists()

    for view, html in pages.items():
        assert_inert(html)
        assert not re.search(r"\{\{|\{%|\{#", html), view  # nothing a template could read
        assert "<img" not in html and "window.pwned=1</script>" not in html
        assert html.count("<script") == html.count("</script>")
        assert f"<title>{page_text(TITLE)}</title>" in html
        assert f"<div class='xl-title'>{page_text(TITLE)}<small>" in html
    for name in runoff.candidates:
        assert page_text(name) in pages["margin"]  # legend title and labels
        assert script_json(page_text(name))[1:-1] in pages["margin"]  # tooltip labels
    spelling = runoff.returns.attrs.get("precinct_spelling", {})  # shown as the file has it
    for precinct, match in runoff.precincts.loc[
        runoff.precincts["match"] != "none", ["precinct", "match"]
    ].itertuples(index=False):
        title = "Pooled unit" if match == "pooled" else "Precinct"  # pooled: no --district too
        shown = spelling.get(precinct, precinct)
        assert script_json(page_text(f"{title} {shown}"))[1:-1] in pages["margin"]
    for hood in runoff.neighbourhoods["name"]:
        in_view = script_json(page_text(hood))[1:-1] in pages["neighbourhoods"]
        drawn = runoff.areas().query("total > 0.5")["name"]  # names only where votes are
        assert in_view or hood not in set(drawn)
    for road in runoff.freeways["label"]:
        assert script_json(road)[1:-1] in pages["margin"]  # labels, set as textContent
    winners = set(hostile.before.precincts["winner"].dropna()) - {"tie"}
    for name in winners:
        assert page_text(name) in pages["winner"]


def test_a_returns_file_holding_nul_is_refused_in_one_safe_line(hostile, tmp_path, capsys):
    returns = tmp_path / "nul.csv"
    text = hostile.returns.read_bytes().decode("utf-8")
    returns.write_bytes(text.replace("=HYPERLINK", "nul\x00here =HYPERLINK", 1).encode("utf-8"))
    code, out, err = run(capsys, "info", *hostile.cli(returns))
    assert code == 2 and len(err.splitlines()) == 1 and "NUL" in err, err
    assert_terminal_safe(out, err)


def test_cli_static_maps_draw_text_literally(hostile, tmp_path):
    parts = hostile.before.map_parts(view="winner")
    target = tmp_path / "print.svg"
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # keep text as <text> to read it
        render.save_static(
            parts["features"],
            parts["styled"],
            target,
            title=parts["title"],
            credits=parts["subtitle"],
            layers=parts["layers"],
        )
    svg = target.read_bytes().decode("utf-8")
    assert "$x^2$ $\\undefinedmacro$" in svg  # mathtext would drop the dollars (or fail)
    assert "a{{7*7}}b" in svg and "&lt;img src=x" in svg
    assert "<img" not in svg and "<script>" not in svg
    assert list(tmp_path.iterdir()) == [target]


def test_cli_ledger_rank_ask_info(hostile, capsys, monkeypatch):
    work = hostile.root / "tables-cli"
    work.mkdir()
    monkeypatch.chdir(work)
    before_run = files_under(hostile.root)
    out_dir = work / "out"
    runoff = hostile.runoff
    names = runoff.candidates

    # ledger, without --title: the name and title come from the hostile returns file name
    code, out, err = run(capsys, "ledger", *hostile.cli(title=False), "--out-dir", out_dir)
    assert code == 0, err
    assert_terminal_safe(out, err)
    stem = slug(FILE_STEM)
    ledger_csv = (out_dir / f"{stem}-ledger.csv").read_bytes().decode("utf-8")
    assert_csv_safe(ledger_csv, names, shown=terminal)  # files are terminal-safe too
    assert terminal(ledger_csv) == ledger_csv
    ledger_json = json.loads((out_dir / f"{stem}-ledger.json").read_bytes().decode("utf-8"))
    assert set(names) <= strings_in(ledger_json) and FILE_STEM in strings_in(ledger_json)
    unmapped = runoff.ledger_summary["unmapped_precincts"]
    assert set(unmapped) <= strings_in(ledger_json)
    assert terminal(FILE_STEM) in out and all(terminal(n) in out for n in names)
    assert terminal(", ".join(unmapped)) in out

    # rank, in every format, to the terminal and to a file
    ranked, too_few = runoff.rank("HYPERLINK", min_votes=1, min_coverage=0)
    hoods = set(ranked.index) | set(too_few.index)  # areas with votes
    assert len(hoods) >= len(PAGE_CORPUS)
    for fmt in ("table", "csv", "json", "markdown"):
        target = out_dir / f"rank.{fmt}"
        code, out, err = run(
            capsys, "rank", *hostile.cli(), "--candidate", "HYPERLINK", "-f", fmt,
            "--min-votes", 1, "--min-coverage", 0, "--out", target,
        )  # fmt: skip
        assert code == 0, err
        assert_terminal_safe(out, err)
        text = target.read_bytes().decode("utf-8")
        assert_inert(text)
        assert terminal(text) == text  # no raw control or bidi character in a written file
        if fmt == "csv":
            assert_csv_safe(text, list(ranked.index), shown=terminal)  # the ranked areas
        elif fmt == "json":
            data = json.loads(text)
            assert hoods <= strings_in(data) and names[1] in strings_in(data)
            assert out.startswith("wrote ")  # rank --out prints one line, not the table
        elif fmt == "markdown":
            assert "<" not in text and "](" not in text and "\x1b" not in text
            for hood in hoods:
                assert markdown_cell(hood) in text
            assert markdown_cell(TITLE) in text
        else:
            assert all(terminal(h)[:20] in text for h in hoods)
    code, out, err = run(
        capsys, "rank", *hostile.cli(), "--candidate", "a{{7*7}}b", "--by", "precinct",
        "-f", "csv", "--min-votes", 1,
    )  # fmt: skip
    assert code == 0, err
    by_precinct, _ = runoff.rank("a{{7*7}}b", by="precinct", min_votes=1)
    assert_csv_safe(out, list(by_precinct.index), shown=terminal)  # printed: made visible

    # ask: every question form, names from the data in the question and the answer
    place = "a{{7*7}}b"
    for question in (
        f"which neighbourhoods favoured {names[0]}?",
        f"where did {names[1]} win?",
        f"how did {names[0]} do in {place}?",
        f"who won {place}?",
    ):
        for fmt in ("table", "markdown"):
            code, out, err = run(capsys, "ask", question, *hostile.cli(), "-f", fmt)
            assert code == 0, err
            assert_terminal_safe(out, err)
            if fmt == "markdown":  # the prose around the table is escaped too
                assert "<" not in out and "](" not in out
            shown = markdown_cell if fmt == "markdown" else terminal
            assert shown(place) in out  # the place (or candidate), literally

    # info: title, office and candidate names
    code, out, err = run(capsys, "info", *hostile.cli())
    assert code == 0, err
    assert_terminal_safe(out, err)
    assert terminal(TITLE) in out and terminal(OFFICE) in out
    for name in names:
        assert terminal(name)[:30] in out

    # an error names a hostile candidate: one safe line
    code, out, err = run(capsys, "rank", *hostile.cli(), "--candidate", "\x1b[2Jnobody")
    assert code == 2 and len(err.splitlines()) == 1
    assert_terminal_safe(out, err)

    written = files_under(hostile.root) - before_run
    assert written and all(p.is_relative_to(out_dir) for p in written)
    assert not list(hostile.root.rglob("PWNED"))


def test_cli_swing(hostile, capsys, monkeypatch):
    from explorer.cli import analysis  # the swing command

    work = hostile.root / "swing-cli"
    work.mkdir()
    monkeypatch.chdir(work)
    chosen = {"../../up {{7*7}}": hostile.before, "\u202e..": hostile.runoff}
    monkeypatch.setattr(analysis, "load_election", lambda name, **_: chosen[name])
    before_run = files_under(hostile.root)
    for by in ("neighbourhood", "precinct"):
        for fmt in ("table", "csv", "json", "markdown"):
            code, out, err = run(
                capsys, "swing", *chosen, "--candidate", "HYPERLINK", "--by", by,
                "-f", fmt, "--tiles", "none", "--min-votes", 1,
            )  # fmt: skip
            assert code == 0, err
            assert_terminal_safe(out, err)
            if fmt == "markdown":
                assert "<img" not in out and "](" not in out
            elif fmt == "csv":
                assert_csv_safe(out, [])  # only the data on stdout, the prose on stderr
            elif fmt == "json":
                data = json.loads(out)
                assert hostile.runoff.candidates[1] in strings_in(data)
    written = files_under(hostile.root) - before_run
    # one map per --by, inside ./maps, named by slugs of the election and candidate names
    assert {p.relative_to(work).as_posix() for p in written} == {
        "maps/up-7-7-to-output-hyperlink-http-x-y-rtl-31m-print.html",
        "maps/up-7-7-to-output-hyperlink-http-x-y-rtl-31m-neighbourhoods-print.html",
    }
    for page in written:
        html = page.read_bytes().decode("utf-8")
        assert_inert(html)
        assert not re.search(r"\{\{|\{%|\{#", html) and "<img" not in html


def test_catalog_paths_must_stay_in_the_data_folder(tmp_path, monkeypatch, capsys):
    source = Path(catalog.config_file("elections.toml")).read_bytes().decode("utf-8")
    for bad in ("/etc/passwd", "../../secret.csv", "~/x.csv"):
        config = tmp_path / "elections.toml"
        config.write_text(
            source.replace(
                'returns = "openelections/openelections-data-ca/2017/20170606',
                f'returns = "{bad}" #',
                1,
            ),
            encoding="utf-8",
        )
        real = catalog.config_file
        monkeypatch.setattr(
            elections.catalog,
            "config_file",
            lambda name, config=config, real=real: (
                config if name == "elections.toml" else real(name)
            ),
        )
        code, _, err = run(capsys, "info", "ca34-2017-general")
        assert code == 2 and err.count("\n") == 1, err
        assert "would escape the data folder" in err and "elections.toml" in err
    bad_catalog = tmp_path / "catalog.toml"
    bad_catalog.write_text(
        '[[file]]\ndataset = "x"\npath = "a/../../b"\nurl = "https://x"\nsha256 = "'
        + "0" * 64
        + '"\n'
    )
    with pytest.raises(explorer.ExplorerError, match="escape the data folder"):
        catalog.read_catalog(bad_catalog)


# ------------------------------------------------------------------ the Python API


def test_python_api(hostile, tmp_path):
    runoff, before = hostile.runoff, hostile.before
    for election in (runoff, before):
        html = election._repr_html_()  # the notebook summary
        assert_inert(html)
        assert "<img" not in html and "{" not in html
        assert page_text(election.candidates[0]) in html
    ledger = runoff.ledger
    assert set(runoff.candidates) <= set(ledger.index)
    ranked, too_few = runoff.rank("HYPERLINK", min_votes=1)
    areas = runoff.areas()
    assert set(ranked.index) | set(too_few.index) == set(areas.loc[areas["total"] > 0, "name"])
    for fmt in ("csv", "json", "markdown", "table"):
        text = format_frame(ranked, fmt)
        assert_inert(text)
    answer = str(runoff.ask(f"which neighbourhoods favoured {runoff.candidates[0]}?"))
    assert_inert(answer)
    swing = explorer.compare(before, runoff, "HYPERLINK")
    assert "<img" not in swing._repr_html_()
    for fmap in (
        runoff.map(tiles="none"),
        before.map(view="winner", by="neighbourhood", tiles="none"),
        swing.map(tiles="none"),
        swing.map(by="neighbourhood", tiles="none"),
    ):
        page = fmap.get_root().render()
        assert_inert(page)
        assert not re.search(r"\{\{|\{%|\{#", page) and "<img" not in page
        assert_inert(fmap._repr_html_())  # the notebook view renders it again
        render.save_html(fmap, tmp_path / "api.html")
    assert list(tmp_path.iterdir()) == [tmp_path / "api.html"]
    assert not list(hostile.root.rglob("PWNED"))


# ------------------------------------------------------------------ a real browser


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    not _chromium() and not os.environ.get("CI"),
    reason="Debian chromium not installed (.ci/run installs it)",
)
def test_hostile_maps_in_headless_chromium(hostile, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    runoff, before = hostile.runoff, hostile.before
    swing = explorer.compare(before, runoff, "HYPERLINK")
    pages = {
        "margin": runoff.map(tiles="none"),
        "winner": before.map(view="winner", tiles="none"),
        "neighbourhoods": runoff.map(
            view="candidate", candidate="a{{7*7}}b", by="neighbourhood", tiles="none"
        ),
        "swing": swing.map(by="neighbourhood", tiles="none"),
    }
    files = {}
    for name, fmap in pages.items():
        files[name] = render.save_html(fmap, tmp_path / f"{name}.html")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=_chromium(),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        context = browser.new_context(viewport={"width": 1200, "height": 900}, offline=True)
        page = context.new_page()
        dialogs, errors, remote = [], [], []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route(
            re.compile(r"^(?!file:).*"),
            lambda route: (remote.append(route.request.url), route.abort()),
        )
        for name, path in files.items():
            page.goto(path.as_uri())
            page.wait_for_selector("path.xl-area")
            page.mouse.move(1, 1)
            page.locator("path.xl-area").nth(5).hover(force=True)
            tip = page.wait_for_selector(".leaflet-tooltip").inner_text()
            page.wait_for_timeout(200)  # let any injected handler (onerror) run
            found = page.evaluate(
                """() => ({
                    pwned: window.pwned === undefined ? null : window.pwned,
                    img: document.querySelectorAll('img').length,
                    handlers: document.querySelectorAll('[onerror],[onload],[onclick]').length,
                    links: document.querySelectorAll('a[href^="javascript"]').length,
                    injected: [...document.scripts].filter(s => s.text.trim().startsWith('window.pwned')).length,
                    title: document.title,
                    heading: document.querySelector('.xl-title').firstChild.textContent,
                    labels: [...document.querySelectorAll('.xl-label, .xl-route')].map(e => e.textContent),
                })"""
            )
            assert found["pwned"] is None and dialogs == [] and errors == [] and remote == [], name
            assert found["img"] == found["handlers"] == found["links"] == found["injected"] == 0
            expected_title = TITLE if name != "swing" else None
            if expected_title:
                # every string, literally (HTML parsing reads CR as a line break; the tab's
                # title collapses white space)
                assert found["heading"] == TITLE.replace("\r", "\n")
                assert (
                    found["title"].startswith("a{{7*7}}b | {{ lipsum")
                    and "<img src=x" in found["title"]
                )
            assert "a{{7*7}}b" in tip or "=HYPERLINK" in tip or "~" in tip, tip
            assert set(found["labels"]) >= set(runoff.freeways["label"]), name
            if name == "margin":
                assert runoff.candidates[0] in tip or runoff.candidates[1] in tip
        browser.close()
    assert not list(hostile.root.rglob("PWNED"))
