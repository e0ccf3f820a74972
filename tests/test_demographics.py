"""Census demographics: the block-group reader, placing people into precincts and areas with
a population ledger, vintages, the non-overlapping group partition, maps and the scatter."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import zipfile

import pandas as pd
import pytest
from conftest import mirror_file

from explorer import demographics as demo
from explorer.cli import main
from explorer.errors import ExplorerError


@pytest.fixture(scope="module")
def block_groups(general):
    return general.block_groups


@pytest.fixture(scope="module")
def precinct_demographics(general):
    return general.demographics("precinct")


def test_block_groups_join_table_to_centres(block_groups):
    assert len(block_groups) == 25_607  # every California block group has a centre
    assert len(block_groups.attrs["unlocated"]) == 0
    assert block_groups.index.str.fullmatch(r"\d{12}").all()
    assert (block_groups.index.str[:5] == "06037").sum() == 6_591  # LA County
    # the table's statewide CVAP total, as DRA's reconciliation log states it
    log = mirror_file("dra2020/vtd_data/2020_VTD/CA/makecsv_demographic.log").read_text()
    logged = float(re.search(r"V_18_CVAP_Total;\s*(\d+);", log).group(1))
    assert block_groups["V_18_CVAP_Total"].sum() == logged


def test_vintage_closest_to_the_election(block_groups):
    assert demo.choose_vintage(block_groups, "cvap", dt.date(2017, 6, 6)).label == (
        "CVAP, ACS 5-year 2014-2018"
    )
    assert demo.choose_vintage(block_groups, "cvap", 2022).prefix == "V_22_CVAP"
    assert demo.choose_vintage(block_groups, "pop", dt.date(2017, 6, 6)).year == 2020
    assert demo.choose_vintage(block_groups, "cvap", None, year=2020).prefix == "V_20_CVAP"
    with pytest.raises(ExplorerError, match="available: 2018, 2019, 2020, 2022"):
        demo.choose_vintage(block_groups, "cvap", None, year=2017)


def test_precinct_demographics_conserve_people(general, block_groups, precinct_demographics):
    dem = precinct_demographics
    ledger = dem.attrs["ledger"]
    mapped = general.precincts[general.precincts["match"] != "none"]
    assert list(dem.index) == list(mapped["precinct"])
    # every person in play is either placed in a precinct or reported outside
    assert (ledger["placed"] + ledger["outside"] == ledger["in_play"]).all()
    assert dem["cvap_total"].sum() == ledger.loc["cvap_total", "placed"]
    # the people placed are exactly the block groups whose centres fall in a mapped precinct
    assert ledger.attrs["block_groups_placed"] == 457
    assert dem["cvap_total"].sum() == 385_405
    assert dem.attrs["vintages"]["cvap"] == "CVAP, ACS 5-year 2014-2018"
    assert "Dave's Redistricting (dra2020/vtd_data)" in dem.attrs["credit"]
    # CA-34 is a majority-Hispanic district with a large Asian American minority
    shares = dem[["cvap_hispanic", "cvap_asian"]].sum() / dem["cvap_total"].sum()
    assert 0.45 < shares["cvap_hispanic"] < 0.6 and 0.15 < shares["cvap_asian"] < 0.3


def test_outside_people_are_reported(general, block_groups):
    """Drop half the precincts: the people of the outline's other half are reported outside."""
    mapped = general.precincts[general.precincts["match"] != "none"]
    half = mapped.iloc[: len(mapped) // 2]
    dem = demo.area_demographics(block_groups, half, "precinct", within=general.outline)
    ledger = dem.attrs["ledger"]
    assert ledger.loc["cvap_total", "outside"] > 50_000
    assert ledger.loc["cvap_total", "placed"] + ledger.loc["cvap_total", "outside"] >= 384_000
    assert "fall outside every area" in demo.describe_population_ledger(ledger)


def test_neighbourhood_demographics_only_count_the_district(general, precinct_demographics):
    areas = general.demographics("neighbourhood")
    assert areas["cvap_total"].sum() == precinct_demographics["cvap_total"].sum()
    assert (
        areas.loc["Koreatown", "cvap_share_asian"] > areas.loc["Boyle Heights", "cvap_share_asian"]
    )


def test_partition_handles_overlap_honestly():
    frame = pd.DataFrame(
        {
            "cvap_total": [100.0, 100.0],
            "cvap_hispanic": [70.0, 40.0],
            "cvap_asian": [40.0, 20.0],  # first row: 10 people counted twice
        }
    )
    counts, facts = demo.group_partition(frame, ["Latino", "asian", "other"])
    assert list(counts.columns) == ["hispanic", "asian", "other"]
    assert counts.sum(axis=1).tolist() == pytest.approx([100.0, 100.0])
    assert counts.loc[1].tolist() == [40.0, 20.0, 40.0]
    assert facts["double_counted"] == 10.0
    with pytest.raises(ExplorerError, match="unknown group 'martian'"):
        demo.group_partition(frame, ["martian"])


def test_bad_table_names_the_row(tmp_path):
    bad = tmp_path / "demo.zip"
    with zipfile.ZipFile(bad, "w") as archive:
        archive.writestr("d.csv", "GEOID20,V_18_CVAP_Total\n060370001001,12\n6037,3\n")
    with pytest.raises(ExplorerError, match=r"row 3: GEOID20 '6037' is not 12 digits"):
        demo.read_block_group_table(bad)
    wrong = tmp_path / "centres.txt"
    wrong.write_text("STATEFP,COUNTYFP,TRACTCE\n06,037,000100\n")
    with pytest.raises(ExplorerError, match="missing column"):
        demo.read_centres(wrong)


def test_demographic_map_and_switchable_layer(tmp_path, capsys, general):
    target = tmp_path / "asian.html"
    assert (
        main(
            [
                "map",
                "ca34-2017-general",
                "--demographic",
                "asian",
                "--tiles",
                "none",
                "-o",
                str(target),
            ]
        )
        == 0
    )
    html = target.read_text()
    assert "Asian (alone or in combination): share of CVAP, ACS 5-year 2014-2018" in html
    assert (
        "Dave&#x27;s Redistricting (dra2020/vtd_data)" in html
        or "Dave's Redistricting (dra2020/vtd_data)" in html
    )
    results = tmp_path / "results.html"
    assert (
        main(
            [
                "map",
                "ca34-2017-general",
                "--demographic-layer",
                "latino",
                "--tiles",
                "none",
                "-o",
                str(results),
            ]
        )
        == 0
    )
    html = results.read_text()
    assert "Two-way margin" in html  # still the results map
    layers = html[html.index("overlays :") : html.index("L.control.layers(")]
    assert "Hispanic or Latino (any race): share of CVAP" in layers
    # every layer the control names is declared before the control is built
    control = html.index("L.control.layers(")
    for name in re.findall(r"(feature_group_\w+)", layers):
        assert html.index(f"var {name} = ") < control


def test_scatter_png(tmp_path, capsys):
    target = tmp_path / "scatter.png"
    assert (
        main(
            [
                "scatter",
                "ca34-2017-general",
                "--group",
                "asian",
                "--candidate",
                "Ahn",
                "-o",
                str(target),
            ]
        )
        == 0
    )
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and target.stat().st_size > 20_000


def test_scatter_marks_inferred_precincts(general):
    figure = general.scatter("latino", "Gomez")
    axis = figure.axes[0]
    drawn = [len(c.get_offsets()) for c in axis.collections]
    inferred = int((general.precincts["match"] == "inferred").sum())
    dem = general.demographics("precinct")
    with_cvap = general.precincts.set_index("precinct").join(dem, how="inner")
    with_cvap = with_cvap[with_cvap["cvap_total"] > 0]
    assert sum(drawn) == len(with_cvap)
    assert drawn[1] == int((with_cvap["match"] == "inferred").sum()) <= inferred
    # units since #13 (pooled precincts drawn as one area): 4 without CVAP, 7 before
    assert "4 precincts (800 votes) have no CVAP placed" in figure.texts[0].get_text()


@pytest.mark.skipif(
    not shutil.which("chromium") and not os.environ.get("CI"),
    reason="Debian chromium not installed (.ci/run installs it)",
)
def test_demographic_layer_switches_on_in_headless_chromium(tmp_path, capsys, general):
    playwright = pytest.importorskip("playwright.sync_api")
    page_file = tmp_path / "results.html"
    assert (
        main(
            [
                "map",
                "ca34-2017-general",
                "--demographic-layer",
                "asian",
                "--tiles",
                "none",
                "-o",
                str(page_file),
            ]
        )
        == 0
    )
    mapped = int((general.precincts["match"] != "none").sum())
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium"), args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_context(offline=True).new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(page_file.as_uri())
        page.wait_for_selector("path.xl-area")
        before = page.locator("path.leaflet-interactive").count()
        label = page.locator(
            ".leaflet-control-layers-overlays label", has_text="Asian (alone or in combination)"
        )
        assert label.count() == 1
        label.locator("input").check()
        page.wait_for_timeout(300)
        assert page.locator("path.leaflet-interactive").count() == before + mapped
        assert errors == []
        browser.close()


def test_demographic_map_keys_areas_without_cvap_as_such(general):
    from explorer import render
    from explorer.render.views import NO_POPULATION

    part = general.demographic_parts("asian")
    labels = [label for _, label in part["styled"].legend]
    blank = sum(f == render.NO_DATA for f in part["styled"].fills)
    assert blank > 0  # CA-34 has precincts where no block-group centre falls
    assert NO_POPULATION in labels and render.NO_VOTES not in labels
