"""The folium page: choropleth, context layers (neighbourhood names, freeway shields,
outline), headline, credit line, "sources and method", legend and layout, with Leaflet
inlined. Data reach the page as JSON read by small scripts of our own; see
:mod:`explorer.render`."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

import folium
import geopandas as gpd
import numpy as np
import shapely
from jinja2 import Template

from explorer.crs import equal_area_crs_for, to_lonlat
from explorer.errors import ExplorerError
from explorer.outputs import atomic_path, script_json
from explorer.render.layers import (
    MapLayers,
    _round,
    auto_tolerance,
    label_point,
    simplify_coverage,
    votes_in,
)
from explorer.render.literal import Literal, LiteralMacro, esc
from explorer.render.style import (
    INFERRED_DEFS,
    INFERRED_SWATCH,
    PATTERNS,
    Styled,
    inferred_mask,
    plain_patterns,
)
from explorer.render.tooltips import _intern_labels

TILES = {"light": "Esri.WorldGrayCanvas", "osm": "OpenStreetMap", "none": None}
#: what the layer switch calls each basemap
TILE_NAMES = {"light": "Grey street map", "osm": "Street map (OpenStreetMap)"}
#: above this many areas the map draws on a canvas instead of one SVG path per area
CANVAS_ABOVE = 5_000
#: above this many areas a folium page gets heavy (measured: see the README benchmarks)
HEAVY_MAP = 20_000


class CompactGeoJson(LiteralMacro):
    """GeoJSON drawn by a small inline script: styles and tooltips come from each feature's
    own properties, so nothing is written twice. ``s`` is a Leaflet path style; ``t`` is
    either pre-escaped tooltip HTML or a compact ``[title, rows, note]`` tip whose row
    labels may be indexes into ``labels`` (candidate names are written once). Every string
    is HTML-escaped in Python; the JSON (:func:`script_json`) is compact, inert inside a
    <script> element and never read as a template."""

    _template = Template(
        """{% macro script(this, kwargs) %}
var {{ this.get_name() }}_labels = {{ this.labels }};
function {{ this.get_name() }}_tip(t) {
  if (typeof t === 'string') { return t; }
  var labels = {{ this.get_name() }}_labels, html = '<b>' + t[0] + '</b><table>';
  for (var i = 0; i < t[1].length; i++) {
    var r = t[1][i];
    html += '<tr><th>' + (typeof r[0] === 'number' ? labels[r[0]] : r[0]) + '</th><td>'
      + r[1] + '</td></tr>';
  }
  html += '</table>';
  if (t[2]) { html += "<div class='n'>" + t[2] + '</div>'; }
  return html;
}
var {{ this.get_name() }}_hatched = [];
var {{ this.get_name() }} = L.geoJson({{ this.data }}, {
  interactive: {{ this.interactive }},
  style: function (f) { return f.properties.s || {}; },
  onEachFeature: function (f, layer) {
    if (f.properties.h) {
      {{ this.get_name() }}_hatched.push(L.geoJson(f, {interactive: false, style: {
        fillColor: 'url(#xl-inferred)', fillOpacity: 1, stroke: false, className: 'xl-inferred'
      }}));
    }
    if (f.properties.t) {
      layer.bindTooltip({{ this.get_name() }}_tip(f.properties.t),
        {sticky: true, direction: 'auto'});
    }
    {% if this.highlight %}
    layer.on('mouseover', function () { layer.setStyle({weight: 2.5, color: '#000'}); });
    layer.on('mouseout', function () { layer.setStyle(f.properties.s || {}); });
    {% endif %}
  }
}).addTo({{ this._parent.get_name() }});
{{ this.get_name() }}_hatched.forEach(function (h) { h.addTo({{ this._parent.get_name() }}); });
{% endmacro %}"""
    )

    def __init__(
        self,
        data: dict,
        *,
        interactive: bool = True,
        highlight: bool = False,
        labels: list[str] | None = None,
    ):
        super().__init__()
        self._name = "CompactGeoJson"
        self.data = script_json(data)
        self.labels = script_json(labels or [])
        self.interactive = "true" if interactive else "false"
        self.highlight = highlight


class TextLabels(LiteralMacro):
    """Non-interactive text labels at points, drawn by one small script from JSON
    ``[[lat, lon, text], ...]``. The text is set as the label's ``textContent``, so a
    name is shown as it is and never read as markup."""

    _template = Template(
        """{% macro script(this, kwargs) %}
{{ this.labels }}.forEach(function (p) {
  var el = document.createElement('{{ this.tag }}');
  el.className = '{{ this.css_class }}';
  el.textContent = p[2];
  el.dataset.p = p[3];
  el.dataset.g = p[4];
  L.marker([p[0], p[1]], {
    interactive: false,
    icon: L.divIcon({html: el, className: 'empty', iconSize: [0, 0]})
  }).addTo({{ this._parent.get_name() }});
});
{% endmacro %}"""
    )

    def __init__(self, labels: list[tuple], *, css_class: str, tag: str):
        """``labels``: ``(lat, lon, text[, priority, group])``; the page shows, at each
        zoom, labels by priority that overlap nothing shown already, one per group."""
        super().__init__()
        self._name = "TextLabels"
        self.labels = script_json(
            [
                [lat, lon, str(text), *rest, *[0, ""][len(rest) :]]
                for lat, lon, text, *rest in labels
            ]
        )
        self.css_class = css_class  # a constant of this module, not data
        self.tag = tag


class PageFrame(LiteralMacro):
    """Fits the district exactly (fractional zoom, padded below the title), collapses the
    layer switch on small screens, and fills the headline, credit line and "sources and
    method" text from JSON as ``textContent`` (never markup)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
(function () {
  var map = {{ this.map_name }}, text = {{ this.text }};
  var box = document.querySelector('.xl-title');
  if (box) {
    box.querySelector('.xl-h').textContent = text.headline;
    box.querySelector('.xl-h').title = text.headline;  // the full line on hover if clipped
    box.querySelector('.xl-credit').textContent = text.credit;
    var more = box.querySelector('.xl-more');
    text.more.forEach(function (line) {
      var p = document.createElement('p'); p.textContent = line; more.appendChild(p);
    });
  }
  var small = window.innerWidth < 700;
  {% if this.control_name %}
  var control = {{ this.control_name }};
  if (window.innerWidth < 1200) { control.collapse(); map.on('click', control.collapse, control); }
  {% endif %}
  map.options.zoomSnap = 0;
  map.options.zoomDelta = 0.5;
  function fit() {
    var top = box ? box.getBoundingClientRect().bottom
      - map.getContainer().getBoundingClientRect().top + 6 : 10;
    // on a wide screen the title holds the top-left corner only: the district may pass
    // beside it (the browser tests measure what it covers)
    if (!small && box && box.getBoundingClientRect().width < 0.6 * window.innerWidth) {
      top = Math.max(10, 0.4 * top);
    }
    var legend = document.querySelector('.xl-legend'), left = 10, bottom = 24;
    if (legend && !small) { left = legend.getBoundingClientRect().width + 16; }
    if (legend && small) { bottom = legend.getBoundingClientRect().height + 74; }
    map.fitBounds(text.bounds, {paddingTopLeft: [left, top], paddingBottomRight: [10, bottom],
      animate: false});
  }
  function declutter() {
    var boxes = [], groups = {};
    document.querySelectorAll('.xl-title,.xl-legend,.leaflet-control').forEach(function (e) {
      boxes.push(e.getBoundingClientRect());
    });
    var els = Array.prototype.slice.call(document.querySelectorAll('.xl-label,.xl-route'));
    els.sort(function (a, b) { return (+b.dataset.p) - (+a.dataset.p); });
    els.forEach(function (e) { e.style.visibility = 'hidden'; });
    els.forEach(function (e) {
      if (e.dataset.g && groups[e.dataset.g]) { return; }
      var r = e.getBoundingClientRect(), pad = 2;
      var hit = r.width === 0 || r.left < 0 || r.top < 0 || r.right > window.innerWidth
        || r.bottom > window.innerHeight || boxes.some(function (b) {
        return r.left - pad < b.right && b.left < r.right + pad
          && r.top - pad < b.bottom && b.top < r.bottom + pad;
      });
      if (!hit) {
        e.style.visibility = 'visible'; boxes.push(r);
        if (e.dataset.g) { groups[e.dataset.g] = true; }
      }
    });
  }
  fit();
  declutter();
  map.on('zoomend moveend overlayadd overlayremove', declutter);
  window.addEventListener('resize', function () { small = window.innerWidth < 700; fit(); });
})();
{% endmacro %}"""
    )

    def __init__(self, fmap, control, *, headline, credit, more, bounds):
        super().__init__()
        self._name = "PageFrame"
        self.map_name = fmap.get_name()
        self.control_name = control.get_name() if control is not None else ""
        self.text = script_json(
            {"headline": headline, "credit": credit, "more": list(more), "bounds": bounds}
        )


def title_box(title: str, dek: str) -> str:
    """The title box: title and dek as escaped text, with empty places for the headline,
    the credit line and the "Sources and method" text, which :class:`PageFrame` fills
    from JSON as ``textContent``."""
    return (
        f"<div class='xl-title'>{esc(title)}<small>{esc(dek)}</small>"
        "<strong class='xl-h'></strong><span class='xl-credit'></span>"
        "<details><summary>Sources and method</summary><div class='xl-more'></div>"
        "</details></div>"
    )


def _split_last_parens(text: str) -> tuple[str, str]:
    """``"name (note (inner))"`` -> ``("name", "note (inner)")``; no trailing group: (text, "")."""
    text = text.strip()
    if not text.endswith(")"):
        return text, ""
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(text[i], 0)
        if depth == 0:
            return text[:i].strip(), text[i + 1 : -1].strip()
    return text, ""


def _credit(credit: str) -> tuple[str, str]:
    """A catalog credit (``"Source (licence)"``, or a bare ``"none stated (c) Holder"``) as
    (source, licence in a reader's words; "" when there is none to say)."""
    name, licence = _split_last_parens(credit)
    if name.lower().startswith("none stated"):  # the whole line was the licence note
        name, licence = name[len("none stated") :].strip(), "none stated"
    name = re.sub(r"^\(c\)\s*|^©\s*", "", name).replace("; ", " and ")
    if licence.lower().startswith("none stated"):
        licence = "licence not stated"
    else:
        licence = _split_last_parens(licence)[0]  # "MIT (LA Times Data Desk)" -> "MIT"
    return name, licence


def credit_line(credits: list[str]) -> str:
    """One clean credit line for the page and the print: each source once, with its licence
    where the catalog states one ("Sources: OpenElections (public records); ...")."""
    parts = []
    for credit in credits:
        name, licence = _credit(credit)
        if not name:
            continue
        part = f"{name} ({licence})" if licence else name
        if part not in parts:
            parts.append(part)
    return "Sources: " + "; ".join(parts) + "." if parts else ""


def short_credits(credits: list[str]) -> str:
    """The one short credit line a page shows: each source's name once, without licences
    or provenance notes, which the "Sources and method" text gives in full
    (:func:`credit_line`)."""
    names = []
    for credit in credits:
        name = _credit(credit)[0]
        while name.endswith(")"):  # "Los Angeles County (via ...)" -> "Los Angeles County"
            name = _split_last_parens(name)[0]
        if name and name not in names:
            names.append(name)
    return "Sources: " + "; ".join(names) + "." if names else ""


def _feature_collection(geoms: np.ndarray, properties: list[dict]) -> dict:
    features = []
    for geom, props in zip(geoms, properties):
        features.append(
            {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}
        )
    return {"type": "FeatureCollection", "features": features}


def _legend_html(title: str, styled: Styled, extra: list[str], inferred: bool = True) -> str:
    """The key: one swatch per class (patterns as their CSS look-alike), the shading scale
    when there is one, the inferred-shape hatch, then notes. Labels are escaped; colours
    come from this package, never from data."""
    swatch = {fill: look for fill, (_, look, _) in PATTERNS.items()}
    swatches = "".join(
        f"<div class='k' title='{esc(label)}'><i style='background:{swatch.get(c, c)}'></i>"
        f"{esc(label)}</div>"
        for c, label in styled.legend
    )
    if styled.steps and styled.legend:
        colour = styled.legend[0][0]
        ramp = "".join(
            f"<span><i style='background:{colour};opacity:{alpha:g}'></i>{esc(label)}</span>"
            for alpha, label in styled.steps
        )
        swatches += f"<div class='xl-steps'><div>{esc(styled.steps_title)}</div>{ramp}</div>"
    notes = "".join(f"<div class='x'>{esc(e)}</div>" for e in extra)
    dashed = (
        f"<div><i style='background:{INFERRED_SWATCH};border:1px solid #999'></i>"
        "shape wholly or partly inferred (hatched)</div>"
        if inferred
        else ""
    )
    # long labels (long candidate names) take the legend's full width on a phone, one column
    wide = " xl-wide" if max((len(label) for _, label in styled.legend), default=0) > 40 else ""
    return f"<div class='xl-legend{wide}'><b>{esc(title)}</b>{swatches}{dashed}{notes}</div>"


PLAIN_BACKGROUND = "<style>.leaflet-container{background:#fff}</style>"
PAGE_CSS = """<style>
.xl-title{position:absolute;top:8px;left:54px;z-index:1000;background:#fffe;padding:6px 10px;
border-radius:4px;box-shadow:0 1px 4px #0004;font:12px/1.3 system-ui,sans-serif;max-width:min(520px,
calc(100% - 120px));display:flex;flex-direction:column;color:#444}
.xl-title .xl-h{order:-1;font-size:17px;line-height:1.2;color:#111}.xl-title .xl-h:empty{display:none}
.xl-title .xl-h{display:-webkit-box;-webkit-box-orient:vertical;-webkit-line-clamp:3;overflow:hidden;
overflow-wrap:anywhere}.xl-title small{overflow-wrap:anywhere}
.xl-legend .k{overflow-wrap:anywhere;display:-webkit-box;-webkit-box-orient:vertical;
-webkit-line-clamp:3;overflow:hidden}.xl-legend b{overflow-wrap:anywhere}
.xl-title small{color:#444;font-size:12px}.xl-credit{font-size:10px;color:#666;overflow-wrap:anywhere}
.xl-title details{font-size:11px;color:#333}.xl-title summary{cursor:pointer;color:#06c;font-size:10px}
.xl-more{max-height:40vh;overflow:auto}.xl-more p{margin:3px 0}
.leaflet-control-layers-toggle{background-image:none!important;width:auto!important;height:auto!important;
padding:4px 8px;font:13px system-ui,sans-serif;color:#222;text-decoration:none}
.leaflet-control-layers-toggle::before{content:"Layers"}
.xl-legend{position:absolute;bottom:48px;left:8px;z-index:1000;background:#fffe;padding:6px 8px;
border-radius:4px;font:12px/1.4 system-ui,sans-serif;box-shadow:0 1px 4px #0004;max-width:340px}
.xl-legend i{display:inline-block;width:14px;height:12px;margin-right:6px;vertical-align:middle}
.xl-legend .x{color:#444;font-size:11px;margin-top:4px}
.xl-legend i{box-shadow:inset 0 0 0 1px #0002}.xl-steps{margin-top:3px;font-size:11px;color:#333}
.xl-steps span{display:inline-block;margin-right:6px;white-space:nowrap}.xl-steps i{width:12px}
.leaflet-tooltip{white-space:normal;width:max-content;max-width:min(320px,46vw)}
.leaflet-tooltip table{border-collapse:collapse}.leaflet-tooltip th{text-align:left;padding-right:8px;
font-weight:normal;color:#555}.leaflet-tooltip .n{color:#a00;max-width:260px;white-space:normal}
.xl-label{font:600 11px system-ui,sans-serif;color:#222;white-space:nowrap;
text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff,0 0 4px #fff;transform:translate(-50%,-50%);
display:inline-block;visibility:hidden}.xl-route{font:bold 10px system-ui,sans-serif;background:#fff;
border:1px solid #c00;color:#c00;border-radius:3px;padding:0 2px;white-space:nowrap;display:inline-block;
transform:translate(-50%,-50%);visibility:hidden}
@media (max-width:700px){.xl-title{left:46px;max-width:calc(100% - 136px);padding:4px 6px}
.xl-title .xl-h{font-size:14px}.xl-legend{font-size:10px;line-height:1.25;left:6px;right:6px;
max-width:none;bottom:62px;column-count:2;column-gap:8px;padding:4px 6px}
.xl-legend b{column-span:all;display:block}.xl-legend div{break-inside:avoid}
.xl-legend i{width:10px;height:9px;margin-right:3px}.xl-legend .x{display:none}
.leaflet-control-scale{margin-bottom:20px!important}.xl-legend.xl-wide{column-count:1}
.xl-legend .k{-webkit-line-clamp:2}}
</style>"""


def _inline_leaflet(fmap: folium.Map) -> None:
    """Replace folium's CDN scripts and styles with an inlined Leaflet (works offline)."""
    static = resources.files("explorer") / "_static"
    fmap.default_js = []
    fmap.default_css = []
    script = (static / "leaflet.js").read_text(encoding="utf-8")
    style = (static / "leaflet.css").read_text(encoding="utf-8")
    header = fmap.get_root().header
    header.add_child(Literal(f"<style>{style}</style>"), name="leaflet_css_inline", index=0)
    header.add_child(Literal(f"<script>{script}</script>"), name="leaflet_js_inline", index=1)
    header.add_child(Literal(PAGE_CSS), name="explorer_css")


def _at(point) -> tuple[float, float]:
    return round(point.y, 5), round(point.x, 5)


def _context_layers(fmap: folium.Map, layers: MapLayers) -> None:
    outline = to_lonlat(layers.outline)
    shape = shapely.union_all(outline.geometry.values)
    area_crs = equal_area_crs_for(outline)
    near = gpd.GeoSeries([shape], crs="EPSG:4326").to_crs(area_crs).buffer(1500)
    near = near.to_crs("EPSG:4326").iloc[0]
    if layers.neighbourhoods is not None:
        hoods = to_lonlat(layers.neighbourhoods)
        hoods = hoods[hoods.intersects(shape)]
        group = folium.FeatureGroup(name="Neighbourhoods", show=True)
        clipped = shapely.intersection(hoods.geometry.values, near)
        geoms = _round(shapely.simplify(shapely.boundary(clipped), 0.0002))
        style = {"color": "#555", "weight": 1.2, "fill": False, "dashArray": "4 3"}
        data = _feature_collection(geoms, [{"s": style} for _ in range(len(hoods))])
        CompactGeoJson(data, interactive=False).add_to(group)
        labels = []
        inside = shapely.intersection(hoods.geometry.values, shape)
        if layers.votes is not None and "total" in layers.votes:
            counts = votes_in(hoods, layers.votes)
        else:
            counts = shapely.area(inside) / max(shapely.area(shape), 1e-12) * 1000
        for geom, name, count in zip(inside, hoods["name"], counts):
            if count < layers.min_label_votes or shapely.is_empty(geom):
                continue  # a place outside the district, or with too few votes to name
            labels.append((*_at(label_point(geom)), name, float(count), ""))
        TextLabels(labels, css_class="xl-label", tag="div").add_to(group)
        group.add_to(fmap)
    if layers.freeways is not None:
        roads = to_lonlat(layers.freeways)
        roads = roads[roads.intersects(near)].copy()
        roads["geometry"] = _round(
            shapely.simplify(shapely.intersection(roads.geometry.values, near), 0.00005)
        )
        group = folium.FeatureGroup(name="Freeways", show=True)
        style = {"color": "#c00", "weight": 2.2, "opacity": 0.75}
        data = _feature_collection(
            roads.geometry.values, [{"s": style, "t": esc(lbl)} for lbl in roads["label"]]
        )
        CompactGeoJson(data).add_to(group)
        labels = []
        for number, (geom, route) in enumerate(zip(roads.geometry.values, roads["route"])):
            parts = shapely.get_parts(geom)
            if not len(parts):
                continue
            longest = parts[np.argmax(shapely.length(parts))]
            # candidate places along the line; the page shows the first that hits nothing
            for rank, at in enumerate((0.5, 0.35, 0.65, 0.2, 0.8, 0.1, 0.9)):
                point = shapely.line_interpolate_point(longest, at, normalized=True)
                labels.append((*_at(point), route, 1e9 - rank, f"r{number}"))
        TextLabels(labels, css_class="xl-route", tag="span").add_to(group)
        group.add_to(fmap)
    district = folium.FeatureGroup(name="District outline", show=True)
    style = {"color": "#000", "weight": 2.5, "fill": False, "className": "xl-outline"}
    CompactGeoJson(
        _feature_collection(_round(outline.geometry.values), [{"s": style}] * len(outline)),
        interactive=False,
    ).add_to(district)
    district.add_to(fmap)


def choropleth(
    features: gpd.GeoDataFrame,
    styled: Styled,
    tips: list[str],
    *,
    title: str,
    subtitle: str,
    layers: MapLayers,
    layer_name: str,
    tiles: str = "light",
    tolerance: float | None = None,
    notes: list[str] | None = None,
    headline: str = "",
    dek: str = "",
    credit: str = "",
    file_notes: list[str] | None = None,
) -> tuple[folium.Map, dict]:
    """A folium map: the choropleth, context layers, legend, title and source line.

    ``headline`` states the result, ``dek`` the kind of map and its date, ``credit`` is one
    short sources line; the full ``subtitle`` (ledger, sources, licences) opens from a
    "Sources and method" disclosure. All of them are data, set as text in the page.

    Returns the map and facts about it (feature count, whether the simplified coverage
    stayed free of gaps and overlaps) for tests and benchmarks. ``file_notes`` (e.g. what
    was repaired or noted in the returns file) follow the notes under "Sources and method".
    """
    if tiles not in TILES:
        raise ExplorerError(f"unknown tiles {tiles!r}", hint="use light, osm or none")
    features = features.reset_index(drop=True)
    from explorer import large_map  # past Leaflet's per-feature limit: one canvas layer

    if len(features) > large_map.LARGE_ABOVE:
        return large_map.large_choropleth(
            features,
            styled,
            title=title,
            subtitle=subtitle,
            layers=layers,
            layer_name=layer_name,
            tiles=tiles,
            tolerance=tolerance,
            notes=notes,
            headline=headline,
            dek=dek,
            credit=credit,
            file_notes=file_notes,
        )
    if tolerance is None:
        tolerance = auto_tolerance(len(features))
    if len(features) > CANVAS_ABOVE:  # a canvas draws no patterns
        styled = plain_patterns(styled)
    geoms, coverage_ok = simplify_coverage(features, tolerance)
    inferred = inferred_mask(features)
    canvas = len(features) > CANVAS_ABOVE  # thousands of SVG paths make a page crawl
    properties = []
    opacity = styled.opacity or [0.75] * len(features)
    tips, labels = _intern_labels(tips)
    for fill, tip, alpha, hatch in zip(styled.fills, tips, opacity, inferred & (not canvas)):
        style = {
            "fillColor": fill,
            "fillOpacity": float(alpha),
            "color": "#fff",
            "weight": 0.5,
            "className": "xl-area",
        }
        properties.append({"s": style, "t": tip, **({"h": 1} if hatch else {})})
    data = _feature_collection(geoms, properties)
    bounds = to_lonlat(layers.outline).total_bounds
    fmap = folium.Map(
        tiles=None,
        control_scale=True,
        prefer_canvas=canvas,
        zoom_control=True,
        zoom_snap=0,
        zoom_delta=0.5,
    )
    if TILES[tiles]:
        folium.TileLayer(TILES[tiles], name=TILE_NAMES[tiles]).add_to(fmap)
    _inline_leaflet(fmap)
    if not TILES[tiles]:  # print-ready: white, not Leaflet's grey
        fmap.get_root().header.add_child(Literal(PLAIN_BACKGROUND), name="xl_plain")
    fit = [[float(bounds[1]), float(bounds[0])], [float(bounds[3]), float(bounds[2])]]
    fmap.fit_bounds(fit)  # replaced at load by PageFrame's exact, padded fit
    # Leaflet's layer control shows layer names as HTML, and folium renders them through a
    # template: escaped like all page text
    group = folium.FeatureGroup(name=esc(layer_name), show=True)
    CompactGeoJson(data, highlight=True, labels=labels).add_to(group)
    group.add_to(fmap)
    _context_layers(fmap, layers)
    control = folium.LayerControl(collapsed=False)
    control.add_to(fmap)
    root = fmap.get_root()
    root.title = esc(title)  # branca writes it as a value into <title>, unescaped
    # the headline, credit line and method text are filled from JSON as textContent
    root.html.add_child(Literal(title_box(title, dek)))
    more = [subtitle, *(notes or []), *(file_notes or [])]
    PageFrame(fmap, control, headline=headline, credit=credit, more=more, bounds=fit).add_to(fmap)
    legend = _legend_html(styled.legend_title, styled, (notes or [])[1:], bool(inferred.any()))
    root.html.add_child(Literal(legend))
    for fill, (defs, _, _) in PATTERNS.items():
        if fill in styled.fills:
            root.html.add_child(Literal(defs))
    if inferred.any():
        root.html.add_child(Literal(INFERRED_DEFS))
    facts = {
        "features": len(features),
        "coverage_valid": coverage_ok,
        "tolerance": tolerance,
        "canvas": canvas,
    }
    return fmap, facts


def save_html(fmap: folium.Map, target: str | Path) -> Path:
    """Write the map atomically as one self-contained HTML file."""
    with atomic_path(target) as temporary:
        fmap.save(str(temporary))
    return Path(target)


def add_overlay(
    fmap: folium.Map,
    features: gpd.GeoDataFrame,
    styled: Styled,
    tips: list,
    *,
    layer_name: str,
    tolerance: float | None = None,
    show: bool = False,
) -> folium.Map:
    """Add a second choropleth the reader can switch on in the layer control (hidden by
    default); data reach the page as escaped JSON, like the main layer."""
    features = features.reset_index(drop=True)
    geoms, _ = simplify_coverage(
        features, auto_tolerance(len(features)) if tolerance is None else tolerance
    )
    opacity = styled.opacity or [0.75] * len(features)
    tips, labels = _intern_labels(tips)
    properties = [
        {"s": {"fillColor": f, "fillOpacity": float(a), "color": "#fff", "weight": 0.5}, "t": t}
        for f, a, t in zip(styled.fills, opacity, tips)
    ]
    group = folium.FeatureGroup(name=esc(layer_name), show=show)  # shown as HTML, like all
    CompactGeoJson(_feature_collection(geoms, properties), highlight=True, labels=labels).add_to(
        group
    )
    group.add_to(fmap)
    # the layer control must come after every layer it lists (its script names them)
    for key, child in list(fmap._children.items()):
        if isinstance(child, folium.LayerControl):
            fmap._children.move_to_end(key)
    for key, child in list(fmap._children.items()):  # the frame script names the control
        if isinstance(child, PageFrame):
            fmap._children.move_to_end(key)
    return fmap
