"""Maps past Leaflet's per-feature limit: compact coverage encoding decoded in the page and
drawn on one canvas (real 2020 VTDs, Dave's Redistricting, CC BY-SA 4.0)."""

from __future__ import annotations

import base64
import json
import os
import sys

import numpy as np
import pytest
import shapely

from explorer import large_map, render
from explorer.elections import Election

VTD = "dra2020/vtd_data/2020_VTD/{}/Geojson_{}.v06.zip"
PRES = {"Biden": "E_20_PRES.Dem", "Trump": "E_20_PRES.Rep"}


def _decode(encoded: dict) -> np.ndarray:
    """The page's decoder, in Python: varints -> absolute grid points."""
    raw, values, v, shift = base64.b64decode(encoded["c"]), [], 0, 0
    for byte in raw:
        v |= (byte & 127) << shift
        if byte & 128:
            shift += 7
            continue
        values.append((v >> 1) ^ -(v & 1))
        v, shift = 0, 0
    deltas = np.array(values, dtype=np.int64).reshape(-1, 2)
    points, start, first = [], 0, np.zeros(2, dtype=np.int64)
    for length in encoded["r"]:
        ring = deltas[start : start + length].copy()
        first = first + ring[0]
        ring[0] = first
        points.append(np.cumsum(ring, axis=0))
        start += length
    return points


@pytest.fixture(scope="module")
def subset():
    """Michigan and Delaware: 5,217 VTDs, about the size CI can open in a browser."""
    election = Election.from_layer(
        [VTD.format(s, s) for s in ("DE", "MI")], votes=PRES, total="E_20_PRES.Total"
    )
    return election


def test_encoding_round_trips_to_the_quantised_rings(subset):
    geoms = subset.precincts.geometry.values[:300]
    encoded = large_map.encode_coverage(geoms, 10.0)
    rings = _decode(encoded)
    assert len(rings) == sum(encoded["f"]) == sum(len(shapely.get_rings(g)) for g in geoms)
    # every decoded point is within half a grid cell of the original ring (Web Mercator)
    first = shapely.get_rings(geoms[0])[0]
    lon, lat = np.asarray(first.coords)[:-1].T
    x = large_map.EARTH_RADIUS * np.radians(lon) / 10.0
    y = large_map.EARTH_RADIUS * np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) / 10.0
    kept = rings[0]
    distance = np.min(np.hypot(kept[:, None, 0] - x, kept[:, None, 1] - y), axis=1)
    assert distance.max() <= 0.71
    box = encoded["b"][:4]
    assert box == [kept[:, 0].min(), kept[:, 1].min(), kept[:, 0].max(), kept[:, 1].max()]


def test_page_data_cannot_close_the_script_or_open_a_template():
    text = large_map.page_json({"id": ["</script><b>{{ 7*7 }}</b>"], "n": [{"a": 1}]})
    assert "<" not in text and "{{" not in text and "}}" not in text.replace("1}]}", "")
    assert json.loads(text) == {"id": ["</script><b>{{ 7*7 }}</b>"], "n": [{"a": 1}]}


sys.path.insert(0, str(os.path.dirname(os.path.dirname(__file__))))
from bench.large_page import chromium, open_page  # noqa: E402


@pytest.mark.skipif(
    not chromium() and not os.environ.get("CI"),
    reason="Debian chromium not installed (.ci/run installs it)",
)
def test_five_thousand_vtds_open_and_show_a_tooltip_in_chromium(subset, tmp_path):
    pytest.importorskip("playwright.sync_api")
    parts = subset.map_parts("margin")
    features = parts["features"].copy()
    features.loc[0, "precinct"] = "<img src=x onerror=alert(1)>{{ 7*7 }}"
    features.attrs = dict(parts["features"].attrs)
    fmap, facts = large_map.large_choropleth(
        features,
        parts["styled"],
        title=parts["title"],
        subtitle=parts["subtitle"],
        layers=parts["layers"],
        layer_name="VTDs",
        tiles="none",
        headline=parts["headline"],
        dek=parts["dek"],
        credit=parts["credit"],
    )
    page = render.save_html(fmap, tmp_path / "subset.html")
    # framed like every map: headline, dek, one credit line, sources and method, legend
    text = page.read_text()
    assert "Sources and method" in text and "class='xl-credit'" in text and "xl-legend" in text
    assert render.esc(parts["dek"]) in text and parts["dek"]
    assert json.dumps(parts["headline"]) in text and json.dumps(parts["credit"]) in text
    assert facts["features"] == len(features) == 5217
    # Detroit, Michigan: a point inside one VTD
    detroit = shapely.Point(-83.05, 42.33)
    hit = features[features.contains(detroit)].iloc[0]
    opened = open_page(page, (42.33, -83.05))
    assert opened["errors"] == [] and opened["remote"] == []
    assert hit["precinct"] in opened["tip"] and "(MI)" in opened["tip"]
    assert f"{int(hit['Biden']):,}" in opened["tip"] and f"{int(hit['total']):,}" in opened["tip"]
    # a hostile ID reaches the page as text, never as markup or a template expression
    html = page.read_text()
    assert "<img src=x" not in html and "{{ 7*7 }}" not in html
    first = features.iloc[0].geometry.representative_point()
    opened = open_page(page, (first.y, first.x))
    assert "<img src=x onerror=alert(1)>{{ 7*7 }}" in opened["tip"]
