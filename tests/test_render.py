"""Maps: compact self-contained HTML, and a real headless browser with the network off."""

from __future__ import annotations

import os
import re
import shutil

import numpy as np
import pytest
import shapely
from conftest import PRECINCTS_2018, ROOT

import explorer
from explorer import render
from explorer.cli import main
from explorer.elections import Election


def _data_blocks(html: str) -> list[str]:
    return re.findall(r"L\.geoJson\((\{.*?\}), \{", html)


def test_runoff_margin_map_is_compact_and_offline(tmp_path, capsys, general):
    target = tmp_path / "runoff.html"
    assert main(["map", "ca34-2017-general", "--tiles", "none", "-o", str(target)]) == 0
    html = target.read_text()
    assert target.stat().st_size < 500 * 1024
    assert not re.search(r"<script[^>]+src=", html)  # no CDN: Leaflet is inline
    assert not re.search(r"<link[^>]+stylesheet", html)
    mapped = int((general.precincts["match"] != "none").sum())
    assert html.count('"className":"xl-area"') == mapped
    assert "Two-way margin" in html and "inferred geography" in html
    assert "43,174 of 43,179 votes" in html
    assert "el.className = 'xl-route'" in html  # route labels: [lat, lon, text] as data
    for route in ("I-10", "I-5", "US-101", "SR-134", "I-710"):
        assert re.search(r'\[[\d.]+,-[\d.]+,"' + re.escape(route) + r'",', html)


def test_primary_winner_map_and_static_png(tmp_path, capsys):
    target = tmp_path / "primary.html"
    png = tmp_path / "primary.png"
    assert main(["map", "ca34-2017-primary", "--winner", "-o", str(target), "--png", str(png)]) == 0
    html = target.read_text()
    assert "Winner (paler = narrower win)" in html
    assert "Jimmy Gomez (" in html and "Robert Lee Ahn (" in html
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 50_000


def test_neighbourhood_view_has_honesty_fields(tmp_path, capsys):
    target = tmp_path / "hoods.html"
    assert main(["map", "ca34-2017-general", "--by", "neighbourhood", "-o", str(target)]) == 0
    html = target.read_text()
    assert "From exact precincts" in html and "Area covered by mapped precincts" in html
    assert "too few votes to call (under 100)" in html  # e.g. Pasadena, 4 votes, drawn grey
    assert html.count('"fillColor":"#d9d9d9"') >= 5
    assert "partly inferred (hatched)" not in html  # no inferred areas here
    assert "Koreatown" in html


def test_simplified_coverage_has_no_gaps_or_overlaps(general):
    mapped = general.precincts[general.precincts["match"] != "none"]
    geoms, valid = render.simplify_coverage(mapped, 15.0)
    assert valid
    assert len(geoms) == len(mapped)


def test_failed_map_leaves_previous_file_intact(tmp_path, capsys):
    target = tmp_path / "m.html"
    target.write_text("previous")
    assert main(["map", "ca34-2017-general", "--candidate", "Nobody", "-o", str(target)]) == 2
    assert target.read_text() == "previous"
    assert list(tmp_path.iterdir()) == [target]


HOSTILE = '<script>alert("x")</script> & "Q" O\'Neil'


@pytest.fixture
def hostile_election(tmp_path, general):
    """Real precinct polygons with returns naming a hostile candidate."""
    ids = general.precincts.loc[general.precincts["match"] == "exact", "precinct"].head(6)
    rows = ["county,precinct,office,district,party,candidate,votes"]
    for i, precinct in enumerate(ids):
        rows.append(f'LA,{precinct},Mayor,1,X,"{HOSTILE.replace(chr(34), chr(34) * 2)}",{10 + i}')
        rows.append(f"LA,{precinct},Mayor,1,Y,Plain Name,{5 + i}")
    returns = tmp_path / "hostile.csv"
    returns.write_text("\n".join(rows) + "\n")
    layer = general._path(PRECINCTS_2018)
    return Election.from_files(
        returns=returns,
        precincts=layer,
        precinct_id="Precinct",
        crs="EPSG:4326",
        office="Mayor",
        name="hostile",
    )


def test_hostile_names_are_escaped_in_html(hostile_election, tmp_path):
    page = tmp_path / "hostile.html"
    render.save_html(hostile_election.map(tiles="none"), page)
    html = page.read_text()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp;" in html


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(
    not _chromium() and not os.environ.get("CI"),
    reason="Debian chromium not installed (.ci/run installs it)",
)
def test_map_in_headless_chromium_offline(tmp_path, general, hostile_election):
    playwright = pytest.importorskip("playwright.sync_api")
    page_file = tmp_path / "runoff.html"
    assert main(["map", "ca34-2017-general", "--tiles", "none", "-o", str(page_file)]) == 0
    hostile_file = tmp_path / "hostile.html"
    render.save_html(hostile_election.map(tiles="none"), hostile_file)
    shots = ROOT / "maps" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    mapped = int((general.precincts["match"] != "none").sum())
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=_chromium(),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        context = browser.new_context(viewport={"width": 1200, "height": 900}, offline=True)
        page = context.new_page()
        errors, remote, dialogs = [], [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.route(
            re.compile(r"^(?!file:).*"),
            lambda route: (remote.append(route.request.url), route.abort()),
        )
        page.goto(page_file.as_uri())
        page.wait_for_selector("path.xl-area")
        assert page.locator("path.xl-area").count() == mapped
        assert errors == [] and remote == []
        page.screenshot(path=str(shots / "ca34-2017-general-margin.png"))

        primary_file = tmp_path / "primary.html"
        assert (
            main(
                ["map", "ca34-2017-primary", "--winner", "--tiles", "none", "-o", str(primary_file)]
            )
            == 0
        )
        page.goto(primary_file.as_uri())
        page.wait_for_selector("path.xl-area")
        assert page.locator("path.xl-area").count() == mapped
        page.locator("path.xl-area").nth(20).hover(force=True)
        tip = page.wait_for_selector(".leaflet-tooltip").inner_text()
        assert "Match" in tip and "Total" in tip and tip.count("%") == 5  # top five candidates
        assert errors == [] and remote == []
        page.screenshot(path=str(shots / "ca34-2017-primary-winner.png"))

        page.goto(hostile_file.as_uri())
        page.wait_for_selector("path.xl-area")
        page.locator("path.xl-area").first.hover(force=True)
        tooltip = page.wait_for_selector(".leaflet-tooltip")
        text = tooltip.inner_text()
        assert '<script>alert("x")</script> & "Q" O\'Neil' in text
        assert dialogs == [] and errors == []
        page.screenshot(path=str(shots / "hostile-tooltip.png"))
        browser.close()
    assert (shots / "ca34-2017-general-margin.png").stat().st_size > 10_000


def test_county_wide_simplified_coverage_stays_gap_free(general):
    from explorer import catalog, loaders

    layer = loaders.load_precincts(
        catalog.local_path(general.spec.precincts.file), "Precinct", crs="EPSG:4326"
    )
    geoms, valid = render.simplify_coverage(layer, 40.0)
    assert len(geoms) == 4357
    assert valid
    assert not shapely.is_empty(geoms).any()


def test_published_files_are_world_readable(tmp_path, capsys):
    target = tmp_path / "m.html"
    assert main(["map", "ca34-2017-general", "--tiles", "none", "-o", str(target)]) == 0
    assert target.stat().st_mode & 0o044 == 0o044


def test_large_maps_switch_to_canvas_and_coarser_simplification(tmp_path):
    from bench.run import precinct_map
    from bench.synthetic import jittered_grid

    grid = jittered_grid(6_400, seed=9).assign(precinct=lambda f: f.index.astype(str))
    path, facts = precinct_map(grid, tmp_path / "grid.html")
    assert facts["canvas"] and facts["coverage_valid"] and facts["features"] == 6_400
    assert facts["tolerance"] == render.auto_tolerance(6_400) == 37.9
    assert "preferCanvas" in path.read_text()
    assert render.auto_tolerance(185) == 15.0


def test_margin_classes_come_from_the_data_and_none_holds_40_percent():
    runoff = explorer.load_election("ca34-2017-general")
    shown = runoff.precincts[runoff.precincts["match"] != "none"]
    edges = render.margin_edges(shown["margin"])
    assert edges != render.FIXED_MARGIN_EDGES and edges[-1] == 100
    assert all(e % 5 == 0 for e in edges)  # readable edges
    styled = render.style_margin(shown["margin"], *runoff.candidates[:2])
    largest = max(styled.fills.count(f) for f in set(styled.fills))
    assert largest / len(shown) <= 0.40
    # the fixed 10/20/40 edges put about half the precincts in one class
    fixed = np.histogram(shown["margin"] * 100, bins=[-100, -40, -20, -10, 0, 10, 20, 40, 100])[0]
    assert fixed.max() / len(shown) > 0.40


def test_notebook_tables_are_formatted_but_stay_numeric():
    runoff = explorer.load_election("ca34-2017-general")
    summary = runoff.summary()
    assert summary.loc["Jimmy Gomez", "votes"] == 25569 and summary["share"].dtype == float
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", summary._repr_html_())
    assert cells == ["25,569", "59.2%", "17,610", "40.8%"]
    ranked, _ = runoff.rank("Ahn")
    assert ranked["votes"].dtype == float  # the data: unrounded
    html = ranked._repr_html_()
    assert not re.search(r">\d+\.\d{3,}<", html)  # no raw floats such as 3117.632079
    # the formatting survives what a notebook does next; the data stays numeric
    for derived in (
        ranked.head(10),
        ranked.tail(3),
        ranked.sort_values("votes"),
        ranked.iloc[2:5],
        ranked[ranked["votes"] > 500],
    ):
        assert isinstance(derived, type(ranked)) and derived["votes"].dtype == float
        html = derived._repr_html_()
        assert not re.search(r">\d+\.\d{3,}<", html)
        assert re.search(r">\d+\.\d%<", html)  # shares as percentages


def test_version_flag(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"explorer {explorer.__version__}"


def test_palettes_match_matplotlib_colour_maps():
    matplotlib = pytest.importorskip("matplotlib")
    from explorer.render.style import BREWER, _palette

    for name in BREWER:
        for count in range(2, 13):
            cmap = matplotlib.colormaps[name].resampled(count)
            expected = [matplotlib.colors.to_hex(cmap(i)) for i in range(count)]
            assert _palette(name, count) == expected, (name, count)


def test_winner_map_is_shaded_by_the_lead_with_a_scale(general, primary, tmp_path):
    from explorer.render import views

    parts = primary.map_parts("winner")
    features, styled = parts["features"], parts["styled"]
    lead = views.winner_lead(features, primary.candidates)
    votes = features[primary.candidates].to_numpy(float)
    top = np.sort(votes, axis=1)
    i = int(np.nanargmax(lead.to_numpy()))
    assert lead.iloc[i] == pytest.approx((top[i, -1] - top[i, -2]) / votes[i].sum())
    # paler = narrower: each step of the lead has its opacity, the widest leads darkest
    for value, alpha in zip(lead.fillna(0), styled.opacity):
        step = int(np.searchsorted(render.style.LEAD_EDGES, value, side="right"))
        assert alpha == render.style.LEAD_OPACITY[step]
    assert len(set(styled.opacity)) >= 3
    assert [label for _, label in styled.steps] == ["under 10 pts", "10-20", "20-40", "40+ pts"]
    fmap, _, _ = views.build_map(primary, "winner", tiles="none")
    html = render.save_html(fmap, tmp_path / "w.html").read_text()
    assert "Shade: lead over the runner-up" in html and "40+ pts" in html
    png = tmp_path / "w.png"
    render.save_static(
        features, styled, png, title="t", credits="c", layers=parts["layers"], headline="h"
    )
    assert png.stat().st_size > 50_000


def test_outside_and_too_few_votes_have_their_own_keys(general, tmp_path):
    parts = general.map_parts("margin", by="neighbourhood")
    legend = dict((label.split(" (")[0], colour) for colour, label in parts["styled"].legend)
    too_few, outside = legend["too few votes to call"], legend["mostly outside the district"]
    assert too_few == render.NO_DATA and outside == render.OUTSIDE and too_few != outside
    assert render.OUTSIDE in parts["styled"].fills  # e.g. East Los Angeles, 24% inside
    fmap, _, _ = general.build_map("margin", by="neighbourhood", tiles="none")
    html = render.save_html(fmap, tmp_path / "n.html").read_text()
    assert "id='xl-outside'" in html and "radial-gradient" in html


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Robert Lee Ahn", "Ahn"),
        ("Robert Lee Ahn Jr.", "Ahn"),
        ("John Smith III", "Smith"),
        ("Martin Luther King, Jr.", "King"),
        ("Smith, John", "Smith"),
        ("Ana de la Cruz", "de la Cruz"),
        ("María José Núñez-O'Brien", "Núñez-O'Brien"),
        # the shape leaves the surname in doubt: the full name, never a wrong word
        (
            "Wolfeschlegelsteinhausenbergerdorff Hubert Blaine Jr., the Third of His Name",
            "Wolfeschlegelsteinhausenbergerdorff Hubert Blaine Jr., the Third of His Name",
        ),
        ("Cher", "Cher"),
    ],
)
def test_headline_surnames_handle_suffixes_and_commas(name, expected):
    from explorer.names import surname

    assert surname(name) == expected


def _returns_only(votes: dict[str, int]):
    """Just what :func:`render.views.headline` reads: wide returns and a ledger summary."""
    import types

    import pandas as pd

    return types.SimpleNamespace(
        wide=pd.DataFrame([votes]), candidates=list(votes), ledger_summary={}
    )


def test_headline_never_names_a_suffix_and_separates_a_near_tie():
    from explorer.render.views import headline

    long = "Wolfeschlegelsteinhausenbergerdorff Hubert Blaine Jr., the Third of His Name"
    line = headline(_returns_only({"María José Núñez-O'Brien": 3655, long: 527}))
    assert line == f"Núñez-O'Brien beat {long} 87.4% to 12.6%"
    line = headline(_returns_only({"Ana Ruiz": 1126, "Bo Chen": 1125}))
    assert line == "Ruiz beat Chen 50.02% to 49.98% (by 1 vote)"
    assert headline(_returns_only({"Ana Ruiz": 5920, "Bo Chen": 4080})) == (
        "Ruiz beat Chen 59.2% to 40.8%"
    )


def test_tooltips_show_the_files_own_id_spelling_and_say_inferred_once(tmp_path, general):
    ids = general.precincts.loc[general.precincts["match"] == "exact", "precinct"].head(4)
    rows = ["county,precinct,office,district,party,candidate,votes"]
    for i, precinct in enumerate(ids):  # lower case in the file: compared in upper case
        rows.append(f"LA,{precinct.lower()},Mayor,1,X,Ana Ruiz,{10 + i}")
        rows.append(f"LA,{precinct.lower()},Mayor,1,Y,Bo Chen,{5 + i}")
    returns = tmp_path / "lower.csv"
    returns.write_text("\n".join(rows) + "\n")
    election = Election.from_files(
        returns=returns,
        precincts=general._path(PRECINCTS_2018),
        precinct_id="Precinct",
        crs="EPSG:4326",
        office="Mayor",
        name="lower",
    )
    titles = [t[0] for t in election.map_parts("margin")["tips"]]
    assert sorted(titles) == sorted(f"Precinct {p.lower()}" for p in ids)
    inferred = general.precincts[general.precincts["match"] == "inferred"]
    tips = render.precinct_tooltips(inferred, general.candidates)
    assert tips and all(
        str(t).count("inferred from neighbouring precinct numbers") == 1 for t in tips
    )


def test_one_clean_credit_line_for_page_and_print(general, tmp_path):
    line = render.credit_line(general.credits())
    assert line.startswith("Sources: OpenElections (public records); ")
    assert "none stated" not in line and "((" not in line and "))" not in line
    assert "(MIT);" in line and "(CC0)." in line
    assert "Los Angeles Times Mapping L.A. (licence not stated)" in line
    parts = general.map_parts("margin")
    assert parts["subtitle"].endswith(line)  # the full line: print and "Sources and method"
    # the page's line names each source once, without licences or provenance notes
    short = parts["credit"]
    assert short.startswith("Sources: OpenElections; ") and len(short) < len(line)
    assert "(" not in short and "licence" not in short


def test_print_text_the_font_lacks_is_said_once_or_drawn(general, tmp_path):
    import warnings

    parts = general.map_parts("margin")
    png = tmp_path / "cjk.png"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        render.save_static(
            parts["features"],
            parts["styled"],
            png,
            title="t",
            credits="c",
            layers=parts["layers"],
            headline="李小龙 (Bruce) Lee beat Ana Ruiz",
        )
    said = [str(w.message) for w in caught]
    assert not any("Glyph" in m for m in said)  # never one matplotlib line per character
    from matplotlib import font_manager, ft2font

    has_cjk = any(
        26446 in ft2font.FT2Font(f.fname).get_charmap()
        for f in font_manager.fontManager.ttflist
        if "last resort" not in f.name.lower()
    )
    lacking = [m for m in said if "no installed font has the characters" in m]
    assert lacking == ([] if has_cjk else lacking[:1]) and (has_cjk or len(lacking) == 1)
    if lacking:
        assert "李小龙 (Bruce) Lee beat Ana Ruiz" in lacking[0] and "cjk.png" in lacking[0]
    assert png.stat().st_size > 50_000


def test_one_colour_means_one_margin_on_both_views_of_an_election(general, primary):
    for election in (general, primary):
        precincts = election.map_parts("margin")["styled"]
        areas = election.map_parts("margin", by="neighbourhood")["styled"]
        assert areas.legend[:8] == precincts.legend[:8]  # same colours, same ranges
        assert areas.legend_title.endswith("classes as on the precinct map")


def test_own_files_print_and_page_name_their_files_as_sources(tmp_path, general, monkeypatch):
    """Your own files carry no catalog credit; the print and the page still say where the
    data came from, naming the files (file names only, drawn as text, never markup)."""
    import matplotlib

    from explorer import outputs

    ids = general.precincts.loc[general.precincts["match"] == "exact", "precinct"].head(6)
    rows = ["county,precinct,office,district,party,candidate,votes"]
    for i, precinct in enumerate(ids):
        rows.append(f"LA,{precinct},Mayor,1,X,Ana Ruiz,{10 + i}")
        rows.append(f"LA,{precinct},Mayor,1,Y,Bo Chen,{5 + i}")
    folder = tmp_path / "my data"
    folder.mkdir()
    returns = folder / "<b>$x^2$ returns.csv"  # a name that would be markup or mathtext
    returns.write_text("\n".join(rows) + "\n")
    own = Election.from_files(
        returns=returns,
        precincts=general._path(PRECINCTS_2018),
        precinct_id="Precinct",
        crs="EPSG:4326",
        office="Mayor",
        name="own",
    )
    parts = own.map_parts("margin")
    line = "Sources: <b>$x^2$ returns.csv, primary.topojson."
    assert parts["credit"] == line and parts["subtitle"].endswith(" " + line)
    assert "my data" not in parts["subtitle"]  # names, never the user's folders
    monkeypatch.setitem(matplotlib.rcParams, "svg.fonttype", "none")  # text stays text
    svg = tmp_path / "own.svg"
    render.save_static(
        *(parts["features"], parts["styled"], svg),
        title=parts["title"],
        credits=parts["subtitle"],
        layers=parts["layers"],
        headline=parts["headline"],
        dek=parts["dek"],
    )
    drawn = re.sub(r"\s+", " ", svg.read_text())
    assert "Sources: &lt;b&gt;$x^2$ returns.csv, primary.topojson." in drawn
    page = tmp_path / "own.html"
    render.save_html(own.map(tiles="none"), page)
    html = page.read_text()
    assert f'"credit":{outputs.script_json(line)}' in html  # data, read as textContent
    assert "<b>$x^2$" not in html
    # a catalog election names its sources by their credits, never by file
    assert ".csv" not in general.map_parts("margin")["credit"]


def test_long_names_in_the_png_header_are_shortened_not_cut_off(general, tmp_path):
    """A 230-character file name in the subtitle (and a long headline) ends in "…" inside
    the print, as the footer's sources line does: no ink at the header's right edge."""
    from matplotlib import image

    parts = general.map_parts("margin")
    png = tmp_path / "long.png"
    long = "L" * 230 + ".csv"
    render.save_static(
        *(parts["features"], parts["styled"], png),
        title=parts["title"],
        credits=parts["subtitle"],
        layers=parts["layers"],
        headline="W" * 120,
        dek=f"TEST GRID: not real geography | {long}",
    )
    pixels = image.imread(png)[..., :3]
    header = pixels[:140]  # headline and subtitle: the top inch at 150 dpi, above the map
    assert header[:60].min() < 0.5 and header[80:].min() < 0.5  # both lines are drawn ...
    assert header[:, -12:].min() > 0.9  # ... and neither reaches the right edge
