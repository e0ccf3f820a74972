"""Stage 5, render: interactive folium maps and static matplotlib maps.

Maps are compact and self-contained: Leaflet is inlined (no CDN), the precinct coverage is
simplified with its topology kept (shapely's coverage simplification, checked for gaps and
overlaps afterwards), coordinates are rounded to about a metre, and each feature carries
one pre-built, HTML-escaped tooltip.

Text from the data never becomes code, markup or a template. folium/branca render each
element's HTML and script as a Jinja2 template (a macro's output is compiled again as a
template), so nothing here hands data to them as template source: the page's data travels
as JSON read by small scripts of our own (:func:`explorer.outputs.script_json`), the title
and legend are literal HTML made with :func:`explorer.outputs.page_text`, and the elements
that carry them (:class:`Literal`, :class:`LiteralMacro`) are never compiled as templates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import folium
import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from explorer.crs import equal_area_crs_for, to_lonlat
from explorer.errors import ExplorerError
from explorer.outputs import atomic_path, bidi_closed, page_text, script_json, terminal

#: Okabe-Ito, a colour-blind-safe categorical palette (black left out).
CATEGORICAL = [
    "#E69F00",
    "#56B4E9",
    "#009E73",
    "#F0E442",
    "#0072B2",
    "#D55E00",
    "#CC79A7",
    "#999999",
]
NO_DATA = "#d9d9d9"
TILES = {"light": "Esri.WorldGrayCanvas", "osm": "OpenStreetMap", "none": None}
#: what the layer switch calls each basemap
TILE_NAMES = {"light": "Grey street map", "osm": "Street map (OpenStreetMap)"}
METRES_PER_DEGREE = 111_320.0  # of latitude, near enough everywhere
#: above this many areas the map draws on a canvas instead of one SVG path per area
CANVAS_ABOVE = 5_000
#: above this many areas a folium page gets heavy (measured: see the README benchmarks)
HEAVY_MAP = 20_000
CONTEXT_DECIMALS = 5  # about 1 m, for lines drawn over the choropleth
COORDINATE_DECIMALS = (
    6  # about 0.1 m: coarser rounding can pinch thin precincts and break the coverage
)


def esc(value) -> str:
    """Any value as inert page text: HTML-escaped (quotes too), braces as character
    references (see :func:`explorer.outputs.page_text`)."""
    return page_text(value)


class Literal(Element):
    """Page source that is used as it is: never compiled or rendered as a Jinja2 template
    (a plain branca ``Element(text)`` is). ``text`` must already be safe page source."""

    def __init__(self, text: str):
        super().__init__()
        self._name = "Literal"
        self.text = text

    def render(self, **kwargs) -> str:
        return self.text


class LiteralMacro(MacroElement):
    """A macro element whose rendered header/html/script go into the page as
    :class:`Literal` text. branca's ``MacroElement`` wraps each macro's output in a new
    ``Element(output)``, which compiles the output, data included, as a second template:
    that is how ``{{ ... }}`` in a name ran. Our macros are rendered once, with data only as
    values (JSON from :func:`script_json`)."""

    def render(self, **kwargs):
        figure = self.get_root()
        if not isinstance(figure, Figure):
            raise TypeError("this element can only be rendered inside a Figure")
        module = self._template.module.__dict__
        for part in ("header", "html", "script"):
            macro = module.get(part)
            if macro is not None:
                target = getattr(figure, part)
                target.add_child(Literal(str(macro(self, kwargs))), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


@dataclass
class Styled:
    """Fill colour and legend for a set of features."""

    fills: list[str]
    legend_title: str
    legend: list[tuple[str, str]]  # (colour, label)
    opacity: list[float] = field(default_factory=list)


def grey_out(styled: Styled, mask: pd.Series, label: str) -> Styled:
    """Draw the masked features in the no-data grey, with a legend entry saying why."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return styled
    fills = [NO_DATA if m else f for f, m in zip(styled.fills, mask)]
    return Styled(fills, styled.legend_title, [*styled.legend, (NO_DATA, label)], styled.opacity)


HATCH = "url(#xl-hatch)"
HATCH_DEFS = (
    "<svg width='0' height='0' style='position:absolute' aria-hidden='true'><defs>"
    "<pattern id='xl-hatch' width='6' height='6' patternUnits='userSpaceOnUse' "
    "patternTransform='rotate(45)'><rect width='6' height='6' fill='#fff'/>"
    "<line x1='0' y1='0' x2='0' y2='6' stroke='#777' stroke-width='2'/></pattern></defs></svg>"
)
HATCH_SWATCH = "repeating-linear-gradient(45deg,#777 0 2px,#fff 2px 5px)"
#: inferred geometry: thin dark lines the other way (-45 degrees) over the colour; no other
#: layer uses this pattern (unreported precincts are hatched +45 degrees on white)
INFERRED_HATCH = "url(#xl-inferred)"
INFERRED_DEFS = (
    "<svg width='0' height='0' style='position:absolute' aria-hidden='true'><defs>"
    "<pattern id='xl-inferred' width='5' height='5' patternUnits='userSpaceOnUse' "
    "patternTransform='rotate(-45)'><line x1='0' y1='0' x2='0' y2='5' stroke='#222' "
    "stroke-width='1.1' stroke-opacity='0.75'/></pattern></defs></svg>"
)
INFERRED_SWATCH = "repeating-linear-gradient(-45deg,#222 0 1px,transparent 1px 4px)"


def inferred_mask(features: pd.DataFrame) -> pd.Series:
    """Features whose geometry is wholly or partly inferred: inferred or pooled units, and
    exact/base precincts that absorbed inferred polygons."""
    mask = features.get("match", pd.Series("", index=features.index)).isin(["inferred", "pooled"])
    if "absorbed" in features:
        mask |= features["absorbed"].fillna(False).astype(bool)
    if "inferred_members" in features:
        mask |= features["inferred_members"].fillna("").astype(str).str.len() > 0
    return mask


def hatch_unreported(styled: Styled, mask: pd.Series, label: str) -> Styled:
    """Draw the masked features (precincts with nothing counted yet) hatched, with a
    legend key, so that no unreported precinct reads as a zero or as a result."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return styled
    fills = [HATCH if m else f for f, m in zip(styled.fills, mask)]
    opacity = list(styled.opacity) or [0.75] * len(fills)
    opacity = [1.0 if m else a for a, m in zip(opacity, mask)]
    return Styled(fills, styled.legend_title, [*styled.legend, (HATCH, label)], opacity)


def fade(styled: Styled, mask: pd.Series, factor: float = 0.5, label: str | None = None) -> Styled:
    """Paler fills for the masked features (precincts only partly counted); with ``label``
    a legend key too (a grey swatch at the paler opacity)."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return styled
    opacity = list(styled.opacity) or [0.75] * len(styled.fills)
    opacity = [round(a * factor, 2) if m else a for a, m in zip(opacity, mask)]
    legend = styled.legend
    if label:
        alpha = max(0, min(255, round(255 * 0.75 * factor)))
        legend = [*legend, (f"#555555{alpha:02x}", label)]
    return Styled(styled.fills, styled.legend_title, legend, opacity)


def _palette(name: str, count: int) -> list[str]:
    cmap = matplotlib.colormaps[name].resampled(count)
    return [matplotlib.colors.to_hex(cmap(i)) for i in range(count)]


def style_diverging(
    values: pd.Series,
    edges: list[float],
    negative: str | Callable[[str], str],
    positive: str | Callable[[str], str],
    title: str,
    palette: str = "PuOr",
) -> Styled:
    """Diverging colours centred on zero (PuOr by default, colour-blind safe). ``edges`` are the positive
    class edges in percentage points, e.g. [10, 20, 40, 100]; ``negative`` and ``positive``
    make the class labels from a range such as "10-20": functions, e.g.
    ``lambda r: f"{name} ahead by {r} pts"``, or strings in which ``{range}`` is replaced.
    Names are never put into a format string, so braces in them stay as they are."""
    upper = np.array(edges, dtype=float) / 100
    bins = np.concatenate([-upper[::-1], [0.0], upper])
    count = len(bins) - 1
    colours = _palette(palette, count)[::-1]  # index 0 = most negative
    clipped = np.clip(values.fillna(0).to_numpy(), bins[0], bins[-1])
    index = np.clip(np.searchsorted(bins, clipped, side="right") - 1, 0, count - 1)
    fills = [NO_DATA if pd.isna(v) else colours[i] for v, i in zip(values, index)]
    legend = []
    for i in range(count):
        low, high = abs(bins[i]) * 100, abs(bins[i + 1]) * 100
        template = negative if bins[i + 1] <= 0 else positive
        span = f"{min(low, high):.0f}-{max(low, high):.0f}"
        label = template(span) if callable(template) else template.replace("{range}", span)
        legend.append((colours[i], label))
    return _with_no_votes(Styled(fills, title, legend[::-1]), values)


FIXED_MARGIN_EDGES = [10, 20, 40, 100]


def margin_edges(values: pd.Series) -> list[float]:
    """Class edges (percentage points, symmetric about zero) chosen from the data: the
    quartiles of the absolute margin rounded to readable steps (5 points, 10 above 50), or
    the fixed 10/20/40 edges when those spread the areas better (a smaller largest class) or
    there are under 8 areas. Runoff precincts: 30/45/60, largest class 47 of 161 (29%)."""
    points = np.abs(pd.to_numeric(values, errors="coerce").dropna().to_numpy()) * 100
    if len(points) < 8:
        return FIXED_MARGIN_EDGES

    def nice(x: float) -> float:
        step = 10 if x > 50 else 5
        return float(max(step, round(x / step) * step))

    def worst(edges: list[float]) -> float:
        bins = np.concatenate([-np.array(edges[::-1]), [0], edges])
        signed = np.clip(pd.to_numeric(values, errors="coerce").dropna() * 100, -100, 100)
        counts = np.histogram(signed, bins=bins)[0]
        return counts.max() / max(counts.sum(), 1)

    edges = sorted({nice(q) for q in np.quantile(points, [0.25, 0.5, 0.75])} - {100.0})
    edges = [*edges, 100.0]
    best = min((FIXED_MARGIN_EDGES, edges), key=worst)  # the flatter of the two
    return [float(e) for e in best]


def style_margin(values: pd.Series, first: str, second: str) -> Styled:
    """Two-way margin: orange where the first candidate leads, purple where the second does;
    class edges from the data (:func:`margin_edges`)."""
    first, second = bidi_closed(first), bidi_closed(second)  # names cannot flip the figures
    return style_diverging(
        values,
        margin_edges(values),
        lambda span: f"{second} ahead by {span} pts",
        lambda span: f"{first} ahead by {span} pts",
        f"Two-way margin, percentage points ({first} v {second})",
    )


def style_swing(values: pd.Series, candidate: str, title: str | None = None) -> Styled:
    """Change in a candidate's share between two elections, in percentage points, in its
    own palette (pink-green: never read as a margin's purple-orange)."""
    candidate = bidi_closed(candidate)
    return style_diverging(
        values,
        [5, 10, 20, 40, 100],
        lambda span: f"{candidate} lost {span} pts",
        lambda span: f"{candidate} gained {span} pts",
        title or f"Change in {candidate}'s share of the vote, percentage points",
        palette="PiYG",
    )


NO_VOTES = "no votes cast"
#: the colour schemes ``--scheme`` takes
SCHEMES = ("fixed", "quantiles", "fisherjenks", "naturalbreaks", "equalinterval")

#: steps (shares) for the fixed scheme: the finest that keeps at most 8 classes
_SHARE_STEPS = (0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.2)


def _share_labels(lower: np.ndarray, upper: np.ndarray) -> list[str]:
    """'a-b%' labels with as few decimals as keep every label distinct and every class
    with a width its own two ends ('0.0-0.5%', not '0-0%'); the fixed bins come out
    exact ('0.5-1.0%'). A class of one value is labelled by it ('0.0%')."""
    edges = np.concatenate([lower, upper]) * 100
    formats = [f".{d}f" for d in range(12)]  # shares are counts over counts: 12 suffice
    for form in formats:

        def text(value: float, form: str = form) -> str:
            return format(value * 100, form)

        labels = [
            f"{text(lo)}%" if lo == hi else f"{text(lo)}-{text(hi)}%"
            for lo, hi in zip(lower, upper)
        ]
        apart = all(lo == hi or text(lo) != text(hi) for lo, hi in zip(lower, upper))
        exact = np.allclose(np.round(edges, int(form[1:-1])), edges, atol=1e-9)
        if len(set(labels)) == len(labels) and apart and (exact or form != ".0f"):
            return labels
    return labels


def _with_no_votes(styled: Styled, values: pd.Series) -> Styled:
    """Add a key entry for the grey features that have no value (no votes cast)."""
    if values.isna().any() and (NO_DATA, NO_VOTES) not in styled.legend:
        styled.legend.append((NO_DATA, NO_VOTES))
    return styled


def style_share(values: pd.Series, candidate: str, scheme: str = "fixed", k: int = 6) -> Styled:
    """Sequential colours for one candidate's share: fixed bins (10 points, finer for a
    candidate who polls little) or a mapclassify scheme (quantiles, fisherjenks,
    naturalbreaks, equalinterval). Class labels stay distinct; features with no votes are
    grey, with their own key entry."""
    clean = values.dropna().to_numpy()
    if scheme == "fixed" or len(np.unique(clean)) <= k:
        peak = float(clean.max()) if len(clean) else 1.0
        step = next((s for s in _SHARE_STEPS if peak <= 8 * s), 0.1)
        top = max(step, float(np.ceil(round(peak / step, 9)) * step)) if len(clean) else 1.0
        edges = np.round(np.linspace(0, top, round(top / step) + 1), 4)
        if len(edges) > 9:
            edges = np.round(np.linspace(0, top, 7), 4)
        upper = edges[1:]
    else:
        classifiers = ("quantiles", "fisherjenks", "naturalbreaks", "equalinterval")
        if scheme not in classifiers:
            raise ExplorerError(
                f"unknown scheme {scheme!r}", hint="use fixed, " + ", ".join(classifiers)
            )
        import mapclassify  # slow to import: only when its scheme is used

        classifier = {
            "quantiles": mapclassify.Quantiles,
            "fisherjenks": mapclassify.FisherJenks,
            "naturalbreaks": mapclassify.NaturalBreaks,
            "equalinterval": mapclassify.EqualInterval,
        }[scheme]
        # tied values give repeated (or float-near) bins: one class each
        upper = np.unique(np.round(np.asarray(classifier(clean, k=k).bins, float), 12))
    colours = _palette("YlGnBu", len(upper) + 1)[1:]
    index = np.clip(
        np.searchsorted(upper, values.fillna(0).to_numpy(), side="left"), 0, len(upper) - 1
    )
    fills = [NO_DATA if pd.isna(v) else colours[i] for v, i in zip(values, index)]
    lower = np.concatenate([[0.0], upper[:-1]])
    labels = _share_labels(lower, upper)
    legend = [(colours[i], labels[i]) for i in range(len(upper))][::-1]
    return _with_no_votes(
        Styled(fills, f"{bidi_closed(candidate)}: share of all votes, %", legend), values
    )


def style_winner(winners: pd.Series, winner_share: pd.Series, order: list[str]) -> Styled:
    """Categorical winner colours, shaded by the winner's share (darker = bigger win)."""
    present = [c for c in order if c in set(winners)]
    colour_of = {c: CATEGORICAL[i % len(CATEGORICAL)] for i, c in enumerate(present)}
    colour_of["tie"] = "#000000"
    fills = [colour_of.get(w, NO_DATA) for w in winners]
    share = winner_share.fillna(0).to_numpy()
    opacity = list(np.round(0.35 + 0.55 * np.clip((share - 0.2) / 0.5, 0, 1), 2))
    counts = winners.value_counts()
    legend = [(colour_of[c], f"{bidi_closed(c)} ({counts.get(c, 0)} won)") for c in present]
    if "tie" in counts and "tie" not in present:
        legend.append((colour_of["tie"], f"tie ({counts['tie']})"))
    if (winners.fillna("") == "").any():
        legend.append((NO_DATA, NO_VOTES))
    return Styled(fills, "Winner (paler = narrower win)", legend, opacity)


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
    if (legend && small) { bottom = legend.getBoundingClientRect().height + 56; }
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


def short_credits(credits: list[str]) -> str:
    """One short credit line: each source's name without its licence and notes."""
    names = []
    for credit in credits:
        if credit.lower().startswith("none stated"):  # a licence note, then the holder
            credit = credit.split(")", 1)[-1].strip()
        name = credit.split(" (")[0].split(";")[0].strip()
        if name and name not in names:
            names.append(name)
    return "Sources: " + ", ".join(names) + "." if names else ""


def _round(geoms: np.ndarray, decimals: int = CONTEXT_DECIMALS) -> np.ndarray:
    return shapely.transform(geoms, lambda xy: np.round(xy, decimals))


def auto_tolerance(features: int) -> float:
    """Simplification in metres that keeps pages light as maps grow: 15 m up to 1,000
    areas, then growing with the square root of the count (about 31 m for LA County)."""
    return float(round(max(15.0, 15.0 * np.sqrt(features / 1_000)), 1))


def simplify_coverage(frame: gpd.GeoDataFrame, tolerance: float) -> tuple[np.ndarray, bool]:
    """Simplify a polygon coverage keeping shared edges shared (``tolerance`` in metres);
    return lon/lat geometries, rounded as coarsely as keeps the coverage free of gaps and overlaps
    (6 decimals, about 0.1 m; 7 where rounding pinches a thin sliver; else unrounded), and
    whether the result is a valid coverage."""
    # simplify where the map is drawn: a coverage simplified in metres and then reprojected
    # can lose its validity (the projection bends nearly touching edges across each other)
    lonlat = frame.geometry.to_crs("EPSG:4326").values
    if tolerance > 0:
        degrees = tolerance / METRES_PER_DEGREE  # along a meridian; stricter along parallels
        lonlat = shapely.coverage_simplify(lonlat, degrees, simplify_boundary=True)
    for decimals in (COORDINATE_DECIMALS, COORDINATE_DECIMALS + 1):
        rounded = shapely.make_valid(_round(lonlat, decimals))
        if shapely.coverage_is_valid(rounded):
            return rounded, True
    return lonlat, bool(shapely.coverage_is_valid(lonlat))


def _feature_collection(geoms: np.ndarray, properties: list[dict]) -> dict:
    features = []
    for geom, props in zip(geoms, properties):
        features.append(
            {"type": "Feature", "properties": props, "geometry": shapely.geometry.mapping(geom)}
        )
    return {"type": "FeatureCollection", "features": features}


def _tip(title: str, rows: list[tuple[str, str]], note: str = "") -> list:
    """A tooltip as ``[title, [[label, value], ...], note]``, every string escaped."""
    return [esc(title), [[esc(k), esc(v)] for k, v in rows], esc(note)]


def _intern_labels(tips: list) -> tuple[list, list[str]]:
    """Replace row labels used more than once by indexes into a shared label list."""
    counts: dict[str, int] = {}
    for tip in tips:
        for label, _ in tip[1]:
            counts[label] = counts.get(label, 0) + 1
    shared = [label for label, n in counts.items() if n > 1]
    index = {label: i for i, label in enumerate(shared)}
    compact = [
        [tip[0], [[index.get(label, label), value] for label, value in tip[1]], tip[2]]
        for tip in tips
    ]
    return compact, shared


#: the join's match classes in a reader's words
MATCH_WORDS = {
    "exact": "Exact match",
    "base": "Matched by its base precinct number",
    "inferred": "Shape inferred from neighbouring precinct numbers",
    "pooled": "Pooled: reported together with neighbouring precincts",
}


def _margin_label(candidates: list[str]) -> str:
    if len(candidates) == 2:
        return "Margin"
    return "Margin, " + " v ".join(c.split()[-1] if c.split() else c for c in candidates[:2])


def two_way_margin(row, first: str, second: str) -> str:
    """The margin as the margin map colours it: "Gomez +18.4 pts" of the two's votes."""
    a, b = float(row.get(first, 0) or 0), float(row.get(second, 0) or 0)
    if a + b <= 0:
        return "no votes"
    points = (a - b) / (a + b) * 100
    if round(points, 1) == 0:
        return "tied"
    leader = first if points > 0 else second
    return f"{leader.split()[-1] if leader.split() else leader} +{abs(points):.1f} pts"


def precinct_tooltips(frame: pd.DataFrame, candidates: list[str], top: int = 5) -> list:
    """One escaped tooltip per precinct: ID, members, match class, votes, total, shares."""
    tips = []
    for _, row in frame.iterrows():
        total = row["total"]
        votes = row[candidates].astype(float).sort_values(ascending=False).head(top)
        if row.get("status") == "none":  # election night: nothing counted, not a zero
            rows = [("Status", "not reporting yet"), ("Polygons", row.get("members", ""))]
            tips.append(_tip(f"Precinct {row['precinct']}", rows, "No votes counted yet."))
            continue
        match = MATCH_WORDS.get(row["match"], str(row["match"]))
        if row.get("absorbed") is True or row.get("inferred_members"):
            match += "; includes shapes inferred from neighbouring precinct numbers"
        rows = [("Match", match), ("Polygons", row.get("members", ""))]
        if len(candidates) >= 2:
            rows.append((_margin_label(candidates), two_way_margin(row, *candidates[:2])))
        if row["match"] == "pooled":
            rows.insert(1, ("Result precincts", row.get("results", "")))
        if row.get("parts"):
            rows.append(("Results of", row["parts"]))
        if row.get("status") == "partial":
            rows.append(("Counted so far", str(row.get("methods", "")).replace(",", ", ")))
        rows += [(c, f"{v:,.0f} ({v / total:.1%})" if total else "0") for c, v in votes.items()]
        rows.append(("Total", f"{total:,.0f}"))
        note = ""
        if row.get("reason"):
            note = f"Why this geometry: {row['reason']}"
        elif row["match"] == "inferred":
            note = "Geometry inferred: no polygon carries this precinct's ID."
        elif row.get("inferred_members"):
            note = f"Includes inferred polygons: {row['inferred_members']}"
        title = "Pooled unit" if row["match"] == "pooled" else "Precinct"
        tips.append(_tip(f"{title} {row['precinct']}", rows, note))
    return tips


def area_tooltips(frame: pd.DataFrame, candidates: list[str], top: int = 5) -> list:
    """Tooltips for apportioned areas, with the honesty fields and, when the areas carry
    an ensemble (:mod:`explorer.ranges`), each share's plausible range."""
    from explorer.ranges import plausible_text

    tips = []
    for _, row in frame.iterrows():
        total = row["total"]
        votes = row[candidates].astype(float).sort_values(ascending=False).head(top)
        rows = [
            (c, f"{v:,.0f} ({v / total:.1%}) {plausible_text(frame, c, row['name'])}".strip())
            if total
            else (c, "0")
            for c, v in votes.items()
        ]
        if len(candidates) >= 2:
            rows.insert(0, (_margin_label(candidates), two_way_margin(row, *candidates[:2])))
        rows.append(("Total (estimated)", f"{total:,.0f}"))
        if "in_district" in row and pd.notna(row["in_district"]):
            rows.append(("Area inside the district", f"{row['in_district']:.0%}"))
        for key, label in (
            ("exact_share", "From exact precincts"),
            ("inferred_share", "From inferred geography"),
            ("pooled_share", "From pooled units"),
            ("partial_share", "From precincts partly inside"),
            ("coverage", "Area covered by mapped precincts"),
        ):
            if key in row and pd.notna(row[key]):
                rows.append((label, f"{row[key]:.0%}"))
        tips.append(_tip(row["name"], rows))
    return tips


def _legend_html(title: str, styled: Styled, extra: list[str], inferred: bool = True) -> str:
    swatches = "".join(
        f"<div><i style='background:{HATCH_SWATCH if c == HATCH else c}'></i>{esc(label)}</div>"
        for c, label in styled.legend
    )
    notes = "".join(f"<div class='x'>{esc(e)}</div>" for e in extra)
    dashed = (
        f"<div><i style='background:{INFERRED_SWATCH};border:1px solid #999'></i>"
        "shape wholly or partly inferred (hatched)</div>"
        if inferred
        else ""
    )
    return f"<div class='xl-legend'><b>{esc(title)}</b>{swatches}{dashed}{notes}</div>"


PAGE_CSS = """<style>
.xl-title{position:absolute;top:8px;left:54px;z-index:1000;background:#fffe;padding:6px 10px;
border-radius:4px;box-shadow:0 1px 4px #0004;font:12px/1.3 system-ui,sans-serif;max-width:min(520px,
calc(100% - 120px));display:flex;flex-direction:column;color:#444}
.xl-title .xl-h{order:-1;font-size:17px;line-height:1.2;color:#111}.xl-title .xl-h:empty{display:none}
.xl-title small{color:#444;font-size:12px}.xl-credit{font-size:10px;color:#666}
.xl-title details{font-size:11px;color:#333}.xl-title summary{cursor:pointer;color:#06c;font-size:10px}
.xl-more{max-height:40vh;overflow:auto}.xl-more p{margin:3px 0}
.leaflet-control-layers-toggle{background-image:none!important;width:auto!important;height:auto!important;
padding:4px 8px;font:13px system-ui,sans-serif;color:#222;text-decoration:none}
.leaflet-control-layers-toggle::before{content:"Layers"}
.xl-legend{position:absolute;bottom:48px;left:8px;z-index:1000;background:#fffe;padding:6px 8px;
border-radius:4px;font:12px/1.4 system-ui,sans-serif;box-shadow:0 1px 4px #0004;max-width:340px}
.xl-legend i{display:inline-block;width:14px;height:12px;margin-right:6px;vertical-align:middle}
.xl-legend .x{color:#444;font-size:11px;margin-top:4px}
.leaflet-tooltip{white-space:normal;width:max-content;max-width:min(320px,46vw)}
.leaflet-tooltip table{border-collapse:collapse}.leaflet-tooltip th{text-align:left;padding-right:8px;
font-weight:normal;color:#555}.leaflet-tooltip .n{color:#a00;max-width:260px;white-space:normal}
.xl-label{font:600 11px system-ui,sans-serif;color:#222;white-space:nowrap;
text-shadow:0 0 2px #fff,0 0 2px #fff,0 0 3px #fff,0 0 4px #fff;transform:translate(-50%,-50%);
display:inline-block;visibility:hidden}.xl-route{font:bold 10px system-ui,sans-serif;background:#fff;
border:1px solid #c00;color:#c00;border-radius:3px;padding:0 2px;white-space:nowrap;display:inline-block;
transform:translate(-50%,-50%);visibility:hidden}
@media (max-width:700px){.xl-title{left:46px;max-width:calc(100% - 100px);padding:4px 6px}
.xl-title .xl-h{font-size:14px}.xl-legend{font-size:10px;line-height:1.25;left:6px;right:6px;
max-width:none;bottom:44px;column-count:2;column-gap:8px;padding:4px 6px}
.xl-legend b{column-span:all;display:block}.xl-legend div{break-inside:avoid}
.xl-legend i{width:10px;height:9px;margin-right:3px}
.leaflet-control-scale{margin-bottom:2px!important}}
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


@dataclass
class MapLayers:
    """What goes on a map besides the choropleth."""

    outline: gpd.GeoDataFrame
    neighbourhoods: gpd.GeoDataFrame | None = None
    freeways: gpd.GeoDataFrame | None = None
    #: votes drawn on the map (features with a ``total``): names go only on areas with
    #: enough of them inside the district, the busiest first
    votes: gpd.GeoDataFrame | None = None
    min_label_votes: float = 100


def votes_in(areas: gpd.GeoDataFrame, votes: gpd.GeoDataFrame) -> np.ndarray:
    """Votes of ``votes`` (polygons with a ``total``) falling in each area, by share of
    area (equal-area CRS); an estimate used only to choose which names to show."""
    crs = equal_area_crs_for(votes)
    a = areas.geometry.to_crs(crs).values
    v = votes.geometry.to_crs(crs).values
    totals = votes["total"].to_numpy(dtype=float)
    own = shapely.area(v)
    tree = shapely.STRtree(v)
    left, right = tree.query(a, predicate="intersects")
    shared = shapely.area(shapely.intersection(a[left], v[right]))
    weight = np.divide(shared, own[right], out=np.zeros_like(shared), where=own[right] > 0)
    return np.bincount(left, weights=weight * totals[right], minlength=len(a))


def label_point(geom) -> shapely.Point:
    """A point well inside the largest part of a (clipped) polygon."""
    from shapely.ops import polylabel

    parts = shapely.get_parts(geom)
    parts = parts[shapely.area(parts) > 0] if len(parts) else parts
    if not len(parts):
        return shapely.point_on_surface(geom)
    largest = parts[np.argmax(shapely.area(parts))]
    try:
        return polylabel(largest, tolerance=0.0002)
    except Exception:  # a degenerate ring: any point inside will do
        return shapely.point_on_surface(largest)


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
) -> tuple[folium.Map, dict]:
    """A folium map: the choropleth, context layers, legend, title and source line.

    ``headline`` states the result, ``dek`` the kind of map and its date, ``credit`` is one
    short sources line; the full ``subtitle`` (ledger, sources, licences) opens from a
    "Sources and method" disclosure. All of them are data, set as text in the page.

    Returns the map and facts about it (feature count, whether the simplified coverage
    stayed free of gaps and overlaps) for tests and benchmarks.
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
        )
    if tolerance is None:
        tolerance = auto_tolerance(len(features))
    if len(features) > CANVAS_ABOVE and HATCH in styled.fills:  # a canvas draws no patterns
        plain = "#ffffff"
        styled = Styled(
            [plain if f == HATCH else f for f in styled.fills],
            styled.legend_title,
            [(plain if c == HATCH else c, label) for c, label in styled.legend],
            styled.opacity,
        )
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
    root.html.add_child(
        Literal(
            f"<div class='xl-title'>{esc(title)}<small>{esc(dek)}</small>"
            "<strong class='xl-h'></strong><span class='xl-credit'></span>"
            "<details><summary>Sources and method</summary><div class='xl-more'></div>"
            "</details></div>"
        )
    )
    more = [subtitle, *(notes or [])]
    PageFrame(fmap, control, headline=headline, credit=credit, more=more, bounds=fit).add_to(fmap)
    legend = _legend_html(styled.legend_title, styled, (notes or [])[1:], bool(inferred.any()))
    root.html.add_child(Literal(legend))
    if HATCH in styled.fills:
        root.html.add_child(Literal(HATCH_DEFS))
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


def _print_text(value) -> str:
    """Text for a static map: control and bidi-override characters shown as escapes."""
    return terminal(value).replace("\t", " ").replace("\n", " ")


def save_static(
    features: gpd.GeoDataFrame,
    styled: Styled,
    target: str | Path,
    *,
    title: str,
    credits: str,
    layers: MapLayers,
    headline: str = "",
    dek: str = "",
) -> Path:
    """A print map (PNG or SVG by the file suffix) with the same colours, legend and credits.

    Every text is drawn literally: matplotlib's mathtext is off for each (``$x^2$`` in a
    name stays dollars and a caret) and control characters are shown as escapes."""
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    suffix = Path(target).suffix.lower().lstrip(".")
    if suffix not in ("png", "svg", "pdf"):
        raise ExplorerError(
            f"cannot write a static map as .{suffix}", source=target, hint="use .png, .svg or .pdf"
        )
    from matplotlib import patheffects

    area_crs = equal_area_crs_for(features)
    outline = layers.outline.to_crs(area_crs)
    shape = outline.union_all()
    xmin, ymin, xmax, ymax = outline.total_bounds
    pad = 0.03 * max(xmax - xmin, ymax - ymin)
    # the figure takes the district's shape (1,600 px wide at 150 dpi), with room above
    # for the headline and below for the credits: no empty third
    width = 10.67
    aspect = (ymax - ymin + 2 * pad) / (xmax - xmin + 2 * pad)
    fig = plt.figure(figsize=(width, width * aspect + 1.7))
    top = 1 - 1.0 / (width * aspect + 1.7)
    bottom = 0.7 / (width * aspect + 1.7)
    ax = fig.add_axes((0, bottom, 1, top - bottom))
    frame = features.to_crs(area_crs)
    hatched = np.array([f == HATCH for f in styled.fills], dtype=bool)
    frame.plot(
        ax=ax,
        color=["#ffffff" if h else f for f, h in zip(styled.fills, hatched)],
        edgecolor="white",
        linewidth=0.3,
        alpha=np.asarray(styled.opacity) if styled.opacity else 0.85,
    )
    if hatched.any():
        frame[hatched].plot(ax=ax, facecolor="none", edgecolor="#777", hatch="///", linewidth=0)
    inferred = frame[inferred_mask(frame).to_numpy()]
    if len(inferred):
        inferred.plot(ax=ax, facecolor="none", edgecolor="#222", hatch="\\\\\\", linewidth=0)
    halo = [patheffects.withStroke(linewidth=2.5, foreground="white")]
    if layers.neighbourhoods is not None:
        hoods = layers.neighbourhoods.to_crs(area_crs)
        hoods = hoods[hoods.intersects(shape)]
        hoods.boundary.plot(ax=ax, color="#555", linewidth=0.6, linestyle=":")
        if layers.votes is not None and "total" in layers.votes:
            counts = votes_in(hoods, layers.votes)
        else:
            counts = np.full(len(hoods), np.inf)
        placed = []
        order = np.argsort(-counts)
        for i in order:
            geom, name = hoods.geometry.values[i], hoods["name"].values[i]
            inside = shapely.intersection(geom, shape)
            if counts[i] < layers.min_label_votes or shapely.is_empty(inside):
                continue
            p = label_point(inside)
            if any(
                abs(p.x - q.x) < 0.09 * (xmax - xmin) and abs(p.y - q.y) < 0.025 * (ymax - ymin)
                for q in placed
            ):
                continue  # the busier name keeps its place
            placed.append(p)
            ax.annotate(
                _print_text(name),
                (p.x, p.y),
                fontsize=8,
                ha="center",
                va="center",
                color="#222",
                fontweight="bold",
                path_effects=halo,
                parse_math=False,
            )
    if layers.freeways is not None:
        roads = layers.freeways.to_crs(area_crs)
        roads = roads[roads.intersects(shape.buffer(pad))]
        roads.plot(ax=ax, color="#c00", linewidth=1.2, alpha=0.8)
        for geom, route in zip(roads.geometry.values, roads["route"]):
            inside = shapely.intersection(geom, shape)
            parts = shapely.get_parts(inside)
            if not len(parts):
                continue
            longest = parts[np.argmax(shapely.length(parts))]
            p = shapely.line_interpolate_point(longest, 0.5, normalized=True)
            ax.annotate(
                _print_text(route),
                (p.x, p.y),
                fontsize=7,
                ha="center",
                va="center",
                color="#c00",
                fontweight="bold",
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "#c00", "lw": 0.8},
                parse_math=False,
            )
    outline.boundary.plot(ax=ax, color="black", linewidth=1.5)
    ax.set_xlim(xmin - pad, xmax + pad)
    ax.set_ylim(ymin - pad, ymax + pad)
    ax.set_axis_off()
    handles = [
        Patch(facecolor="white", edgecolor="#777", hatch="///")
        if c == HATCH
        else Patch(facecolor=c)
        for c, _ in styled.legend
    ]
    labels = [_print_text(label) for _, label in styled.legend]
    if len(inferred):
        handles.append(Patch(facecolor="white", edgecolor="#222", hatch="\\\\\\"))
        labels.append("shape wholly or partly inferred (hatched)")
    # the legend goes in the corner where it hides least of the district
    w, h = 0.42 * (xmax - xmin + 2 * pad), 0.4 * (ymax - ymin + 2 * pad)
    x0, y0, x1, y1 = xmin - pad, ymin - pad, xmax + pad, ymax + pad
    corners = {
        "lower left": shapely.box(x0, y0, x0 + w, y0 + h),
        "lower right": shapely.box(x1 - w, y0, x1, y0 + h),
        "upper left": shapely.box(x0, y1 - h, x0 + w, y1),
        "upper right": shapely.box(x1 - w, y1 - h, x1, y1),
    }
    corner = min(corners, key=lambda c: shapely.area(shapely.intersection(corners[c], shape)))
    legend = ax.legend(
        handles,
        labels,
        title=_print_text(styled.legend_title),
        loc=corner,
        fontsize=8,
        title_fontsize=8.5,
        frameon=True,
        framealpha=0.92,
        edgecolor="#ccc",
    )
    for text in [legend.get_title(), *legend.get_texts()]:
        text.set_parse_math(False)
    head = 1 - 0.25 / (width * aspect + 1.7)
    fig.text(
        0.02,
        head,
        _print_text(headline or title),
        fontsize=17,
        fontweight="bold",
        va="top",
        parse_math=False,
    )
    sub = " · ".join(_print_text(t) for t in (title if headline else "", dek) if t)
    fig.text(
        0.02,
        head - 0.45 / (width * aspect + 1.7),
        sub,
        fontsize=10,
        va="top",
        color="#333",
        parse_math=False,
    )
    fig.text(
        0.02, 0.01, _print_text(credits), fontsize=7, wrap=True, color="#444", parse_math=False
    )
    with atomic_path(target) as temporary:
        fig.savefig(temporary, format=suffix, dpi=150)
    plt.close(fig)
    return Path(target)


# --------------------------------------------------------------------------- demographics


def demographic_tooltips(frame: pd.DataFrame, id_field: str, vintage: str) -> list:
    """One escaped tooltip per area: CVAP and each group's share of it."""
    from explorer.demographics import GROUPS

    tips = []
    for _, row in frame.iterrows():
        cvap = row.get("cvap_total", 0.0)
        rows = [("CVAP", f"{cvap:,.0f}")]
        for group in GROUPS:
            share = row.get(f"cvap_share_{group}")
            rows.append((group.capitalize(), "n/a" if pd.isna(share) else f"{share:.0%}"))
        tips.append(_tip(str(row[id_field]), rows, vintage))
    return tips


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
