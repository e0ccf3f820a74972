"""The maps as a reader sees them: real headless Chromium (network off) at a desktop, a
notebook and a phone size, for the margin, candidate, winner and neighbourhood views of
both CA-34 elections, the swing between them, and an own-files election (margin, winner),
with and without tiles.

Measured from the DOM: no two visible labels overlap; every precinct whose shape is wholly
or partly inferred carries the hatch; the district's box fills at least 80% of the
viewport's width or height at opening; title and legend cover at most 10% of the district
(sampled on a grid with ``elementsFromPoint``); a tooltip stays inside the viewport; no
console errors (pageerror, or any console error but the blocked tile requests of the
tiled pages). Screenshots go to ``maps/screenshots/`` (untracked) to be looked at."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from conftest import MIRROR, NEIGHBOURHOODS, PRECINCTS_2018, PRIMARY

import explorer
from explorer import render
from explorer.cli import main
from explorer.elections import Election

SIZES = [(1400, 1000), (1058, 635), (390, 844)]
SHOTS = Path(__file__).resolve().parents[1] / "maps" / "screenshots"


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


pytestmark = pytest.mark.skipif(
    not _chromium() and not os.environ.get("CI"),
    reason="Debian chromium not installed (.ci/run installs it)",
)

MEASURE = """() => {
  const visible = e => e.style.visibility === 'visible';
  const labels = [...document.querySelectorAll('.xl-label,.xl-route')].filter(visible)
    .map(e => e.getBoundingClientRect());
  let overlaps = 0;
  for (let i = 0; i < labels.length; i++) for (let j = i + 1; j < labels.length; j++) {
    const a = labels[i], b = labels[j];
    if (a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom) overlaps++;
  }
  const outline = [...document.querySelectorAll('path.xl-outline')].map(e => e.getBoundingClientRect());
  const box = {left: Math.min(...outline.map(r => r.left)), right: Math.max(...outline.map(r => r.right)),
    top: Math.min(...outline.map(r => r.top)), bottom: Math.max(...outline.map(r => r.bottom))};
  let inside = 0, covered = 0;
  for (let i = 0; i < 60; i++) for (let j = 0; j < 60; j++) {
    const x = box.left + (i + 0.5) * (box.right - box.left) / 60;
    const y = box.top + (j + 0.5) * (box.bottom - box.top) / 60;
    if (x < 0 || y < 0 || x > innerWidth || y > innerHeight) continue;
    const stack = document.elementsFromPoint(x, y);
    if (!stack.some(e => e.classList && e.classList.contains('xl-area'))) continue;
    inside++;
    if (stack[0].closest('.xl-title,.xl-legend')) covered++;
  }
  const title = document.querySelector('.xl-title').getBoundingClientRect();
  const control = document.querySelector('.leaflet-control-layers').getBoundingClientRect();
  const clash = title.left < control.right && control.left < title.right
    && title.top < control.bottom && control.top < title.bottom;
  const legend = document.querySelector('.xl-legend').getBoundingClientRect();
  const spill = [...document.querySelectorAll('.xl-title *,.xl-legend *')].filter(e => {
    const r = e.getBoundingClientRect();
    return r.width > 0 && r.right > (e.closest('.xl-legend') ? legend.right : title.right) + 1;
  }).length;
  const head = document.querySelector('.xl-title .xl-h');
  return {clash, spill, headTitle: head.title === head.textContent,
    labels: labels.length, overlaps, hatched: document.querySelectorAll('path.xl-inferred').length,
    fill: Math.max((Math.min(box.right, innerWidth) - Math.max(box.left, 0)) / innerWidth,
                   (Math.min(box.bottom, innerHeight) - Math.max(box.top, 0)) / innerHeight),
    covered: inside ? covered / inside : 1, inside};
}"""


#: (election, view options, tiles): both CA-34 elections in every view, an own-files
#: election, and the swing between the two; tiled pages too (tile requests are blocked,
#: so they must fail without any other console error)
PAGES = {
    "runoff-margin": ("ca34-2017-general", {"view": "margin"}, "light"),
    "runoff-candidate": ("ca34-2017-general", {"candidate": "Ahn"}, "none"),
    "runoff-winner": ("ca34-2017-general", {"view": "winner"}, "none"),
    "runoff-neighbourhood": ("ca34-2017-general", {"by": "neighbourhood"}, "light"),
    "primary-margin": ("ca34-2017-primary", {"view": "margin"}, "none"),
    "primary-candidate": ("ca34-2017-primary", {"candidate": "Ahn"}, "light"),
    "primary-winner": ("ca34-2017-primary", {"view": "winner"}, "light"),
    "primary-neighbourhood": ("ca34-2017-primary", {"by": "neighbourhood"}, "none"),
}


@pytest.fixture(scope="module")
def pages(tmp_path_factory, general, primary):
    """The pages, with the number of hatched shapes each should show."""
    from explorer.render import views

    out = tmp_path_factory.mktemp("browser")
    elections = {"ca34-2017-general": general, "ca34-2017-primary": primary}
    files, expected = {}, {}
    for name, (election, options, tiles) in PAGES.items():
        fmap, _, parts = views.build_map(elections[election], tiles=tiles, **options)
        files[name] = render.save_html(fmap, out / f"{name}.html")
        shown = parts["features"]
        expected[name] = int(render.inferred_mask(shown).sum()) if "match" in shown else 0
    # an own-files election through the CLI: the runoff returns on the precinct layer,
    # nothing else given (no neighbourhoods: margin and winner views)
    own_returns = MIRROR / general.spec.returns
    own_precincts = MIRROR / PRECINCTS_2018
    own_args = ["--returns", str(own_returns), "--precincts", str(own_precincts)]
    own_args += ["--precinct-id", "Precinct", "--crs", "EPSG:4326", "--title", "Own files"]
    own = Election.from_files(
        returns=own_returns, precincts=own_precincts, precinct_id="Precinct", crs="EPSG:4326"
    )
    shown = own.precincts[own.precincts["match"] != "none"]
    for view, tiles in (("margin", "osm"), ("winner", "none")):
        files[f"own-{view}"] = out / f"own-{view}.html"
        args = ["map", *own_args, f"--{view}", "--tiles", tiles, "-o", str(files[f"own-{view}"])]
        assert main(args) == 0
        expected[f"own-{view}"] = int(render.inferred_mask(shown).sum())
    # own files whose candidates have very long names (a headline and legend that must wrap)
    ids = shown.loc[shown["match"] == "exact", "precinct"].head(12)
    long = "Wolfeschlegelsteinhausenbergerdorff Hubert Blaine Jr., the Third of His Name"
    rows = ["county,precinct,office,district,party,candidate,votes"]
    for i, precinct in enumerate(ids):
        rows += [
            f'LA,{precinct},Mayor,,,"{long}",{5 + i}',
            f"LA,{precinct},Mayor,,,Ana Ruiz,{9 + i}",
        ]
    (out / "long.csv").write_text("\n".join(rows) + "\n")
    files["own-long"] = out / "own-long.html"
    args = ["map", "--returns", str(out / "long.csv"), "--precincts", str(own_precincts)]
    args += ["--precinct-id", "Precinct", "--crs", "EPSG:4326", "--tiles", "none"]
    assert main([*args, "-o", str(files["own-long"])]) == 0
    expected["own-long"] = 0
    # own files with layers of one's own: the primary by neighbourhood, with roads
    files["own-neighbourhood"] = out / "own-neighbourhood.html"
    args = ["map", "--returns", str(MIRROR / PRIMARY), "--precincts", str(own_precincts)]
    args += ["--precinct-id", "Precinct", "--crs", "EPSG:4326", "--title", "Own layers"]
    args += ["--neighbourhoods", str(MIRROR / NEIGHBOURHOODS), "--by", "neighbourhood"]
    args += ["--roads", str(MIRROR / general.spec.freeways.file), "--tiles", "light"]
    assert main([*args, "-o", str(files["own-neighbourhood"])]) == 0
    expected["own-neighbourhood"] = 0
    swing = explorer.compare(primary, general, "Ahn")
    files["swing"] = render.save_html(swing.map(by="neighbourhood", tiles="none"), out / "s.html")
    expected["swing"] = 0
    return files, expected


def _blocked_tile(message) -> bool:
    """A console error that only reports a tile request the test blocked (offline)."""
    url = (message.location or {}).get("url", "")
    return "Failed to load resource" in message.text and not url.startswith("file:")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_views_read_cleanly_at_each_size(pages, size):
    playwright = pytest.importorskip("playwright.sync_api")
    files, expected = pages
    SHOTS.mkdir(parents=True, exist_ok=True)
    width, height = size
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=_chromium(), args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(viewport={"width": width, "height": height}, offline=True)
        page = context.new_page()
        errors: list[str] = []
        blocked: list[str] = []
        page.on("pageerror", lambda e: errors.append(f"{current}: {e}"))

        def console(message):
            if message.type == "error":
                (blocked if _blocked_tile(message) else errors).append(f"{current}: {message.text}")

        page.on("console", console)
        page.route(re.compile(r"^(?!file:).*"), lambda route: route.abort())
        for name, path in files.items():
            current = name
            page.goto(path.as_uri())
            page.wait_for_selector("path.xl-area")
            page.wait_for_timeout(150)
            found = page.evaluate(MEASURE)
            page.screenshot(path=str(SHOTS / f"{name}-{width}x{height}.png"))
            where = f"{name} at {width}x{height}: {found}"
            assert found["overlaps"] == 0, where
            # the headline stays clear of the layer switch; nothing spills past its box;
            # a clipped headline reads in full on hover
            assert not found["clash"] and found["spill"] == 0 and found["headTitle"], where
            bare = name in (
                "own-margin",
                "own-winner",
                "own-long",
            )  # own files without layers: no names
            assert found["labels"] >= (0 if bare else 3), where
            assert found["hatched"] == expected[name], where
            assert found["fill"] >= 0.8, where
            assert found["covered"] <= 0.10, where
            # a tooltip near the right edge stays inside the viewport
            areas = page.locator("path.xl-area")
            boxes = [areas.nth(i).bounding_box() for i in range(min(areas.count(), 400))]
            boxes = [b for b in boxes if b and b["x"] + b["width"] < width - 4]
            rightmost = max(boxes, key=lambda b: b["x"] + b["width"] / 2)
            page.mouse.move(rightmost["x"] + rightmost["width"] / 2, rightmost["y"] + 2)
            tip = page.wait_for_selector(".leaflet-tooltip").bounding_box()
            assert tip["x"] >= 0 and tip["x"] + tip["width"] <= width, (where, tip)
            page.mouse.move(1, height - 1)
        assert errors == []
        assert blocked, "the tiled pages asked for tiles (blocked here): the check saw them"
        browser.close()
