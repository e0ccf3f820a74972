"""Stage 5, render: choropleth pages past Leaflet's per-feature limit (tens of thousands of
areas, e.g. all 74,954 2020 VTDs of 37 states, DC and PR).

Leaflet makes one object (an SVG path, or a canvas path with its own hit test) per feature;
at 26k precincts a page takes seconds to draw. Here the folium map stays the container
(tiles, controls, legend, title), but the areas are one custom layer that:

- ships the coverage compactly: simplified with shared edges kept (shapely's coverage
  simplification), projected to Web Mercator, quantised to a grid (``resolution`` metres)
  and delta-encoded per ring as zig-zag varints in base64, as TopoJSON quantises deltas;
- decodes it once in the page into typed arrays and draws it on one canvas, batching every
  area of one colour into one path (a few dozen fills per frame, not 75k);
- finds the area under the pointer with a grid index and an even-odd point-in-polygon test,
  and shows a tooltip built with ``textContent`` (no markup is ever parsed from data).

Data reaches the page as JSON in a script value (never as template source), with ``<``,
``>``, and braces inside strings written as ``\\u`` escapes.
"""

from __future__ import annotations

import base64
import json
import re

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from jinja2 import Template

from explorer.render import LiteralMacro

#: above this many areas :func:`explorer.render.choropleth` hands over to this module
LARGE_ABOVE = 20_000
EARTH_RADIUS = 6_378_137.0  # Web Mercator sphere, metres

_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def page_json(value) -> str:
    """Compact JSON to place in a ``<script>``: ``<``, ``>``, U+2028/9 as ``\\u`` escapes,
    and ``{``/``}`` inside strings as ``\\u007b``/``\\u007d`` (no template syntax can
    appear). Parses to the same value (the same rule as the security work, issue #11)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("\u2028", "\\u2028")):
        text = text.replace(char, escape)
    text = text.replace("\u2029", "\\u2029")
    return _JSON_STRING.sub(
        lambda m: m.group(0).replace("{", "\\u007b").replace("}", "\\u007d"), text
    )


def _varints(values: np.ndarray) -> bytes:
    """Zig-zag LEB128 varints of int64 values (vectorised: at most 5 bytes for |v| < 2**34)."""
    zig = ((values << 1) ^ (values >> 63)).astype(np.uint64)
    out = np.zeros((len(zig), 10), dtype=np.uint8)
    used = np.ones(len(zig), dtype=np.int64)
    rest = zig.copy()
    for byte in range(10):
        low = (rest & np.uint64(0x7F)).astype(np.uint8)
        rest = rest >> np.uint64(7)
        more = rest > 0
        out[:, byte] = low | (more.astype(np.uint8) << 7)
        used = np.where(more, byte + 2, used)
        if not more.any():
            break
    mask = np.arange(10)[None, :] < used[:, None]
    return out[mask].tobytes()


def encode_coverage(geoms: np.ndarray, resolution: float) -> dict:
    """Polygons (lon/lat) as quantised Web Mercator rings, delta-encoded.

    Returns ``{"q": resolution, "c": base64 varints (x, y deltas; each ring starts
    from the previous ring's first point), "r": points per ring, "f": rings per feature,
    "b": per-feature bounding boxes [x0, y0, x1, y1] in grid units}``. Consecutive
    points that fall on the same grid cell are dropped (rings keep at least 3 points).
    """
    geoms = np.asarray(geoms, dtype=object)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    geoms = np.where(empty, shapely.Polygon(), geoms)
    _, coords, offsets = shapely.to_ragged_array(geoms)
    if len(offsets) == 2:  # all polygons
        ring_offsets, feature_rings = offsets
    else:  # polygons and multipolygons
        ring_offsets, polygon_offsets, feature_offsets = offsets
        feature_rings = polygon_offsets[feature_offsets]
    rings_per_feature = np.diff(feature_rings)
    n_rings = len(ring_offsets) - 1
    ring_of_point = np.repeat(np.arange(n_rings), np.diff(ring_offsets))
    closing = np.zeros(len(coords), dtype=bool)
    closing[ring_offsets[1:][np.diff(ring_offsets) > 0] - 1] = True  # canvas closes rings
    lon, lat = coords[:, 0], np.clip(coords[:, 1], -85.0, 85.0)
    x = EARTH_RADIUS * np.radians(lon)
    y = EARTH_RADIUS * np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))
    qx = np.round(x / resolution).astype(np.int64)
    qy = np.round(y / resolution).astype(np.int64)
    same = np.zeros(len(qx), dtype=bool)
    same[1:] = (qx[1:] == qx[:-1]) & (qy[1:] == qy[:-1]) & (ring_of_point[1:] == ring_of_point[:-1])
    keep = ~same & ~closing
    short = np.bincount(ring_of_point[keep], minlength=n_rings) < 3
    keep |= short[ring_of_point] & ~closing  # a ring quantised to under 3 cells stays whole
    qx, qy, ring_of_point = qx[keep], qy[keep], ring_of_point[keep]
    per_ring = np.bincount(ring_of_point, minlength=n_rings)
    dx = np.diff(qx, prepend=0)
    dy = np.diff(qy, prepend=0)
    # the first point of each ring is a delta from the previous ring's first point
    starts = (np.cumsum(per_ring) - per_ring)[per_ring > 0]
    dx[starts] = np.diff(qx[starts], prepend=0)
    dy[starts] = np.diff(qy[starts], prepend=0)
    pairs = np.empty(2 * len(dx), dtype=np.int64)
    pairs[0::2], pairs[1::2] = dx, dy
    feature_of_ring = np.repeat(np.arange(len(geoms)), rings_per_feature)
    boxes = np.zeros((len(geoms), 4), dtype=np.int64)
    if len(qx):
        frame = pd.DataFrame({"f": feature_of_ring[ring_of_point], "x": qx, "y": qy})
        grouped = frame.groupby("f")
        low, high = grouped.min(), grouped.max()
        boxes[low.index, 0], boxes[low.index, 1] = low["x"], low["y"]
        boxes[high.index, 2], boxes[high.index, 3] = high["x"], high["y"]
    return {
        "q": resolution,
        "c": base64.b64encode(_varints(pairs)).decode("ascii"),
        "r": per_ring.tolist(),
        "f": rings_per_feature.tolist(),
        "b": boxes.ravel().tolist(),
        "points": len(qx),
    }


def _styles(fills: list[str], opacity: list[float] | None) -> tuple[list, list[int]]:
    alphas = opacity or [0.75] * len(fills)
    keys = [(f, round(float(a), 2)) for f, a in zip(fills, alphas)]
    palette = list(dict.fromkeys(keys))
    index = {k: i for i, k in enumerate(palette)}
    return [[f, a] for f, a in palette], [index[k] for k in keys]


def _tip_table(features: pd.DataFrame, candidates: list[str]) -> dict:
    """Columnar tooltip data: IDs, an optional second label, votes per candidate, total."""
    names = features["precinct"] if "precinct" in features else features.get("name")
    table = {
        "id": [str(v) for v in (names if names is not None else features.index)],
        "cand": [str(c) for c in candidates],
        "votes": [
            np.round(features[c].to_numpy(dtype=float)).astype(np.int64).tolist()
            for c in candidates
        ],
        "total": np.round(features["total"].to_numpy(dtype=float)).astype(np.int64).tolist(),
    }
    if "state" in features:
        table["group"] = features["state"].astype(str).tolist()
    return table


def _view_bounds(geoms: np.ndarray) -> tuple[float, float, float, float]:
    """Lon/lat bounds to fit the view to. Where the areas straddle the antimeridian (the
    Aleutians), eastern longitudes are taken as west of -180 when that narrows the view."""
    boxes = shapely.bounds(geoms)
    boxes = boxes[~np.isnan(boxes).any(axis=1)]
    narrow = boxes[boxes[:, 2] - boxes[:, 0] <= 180]  # areas cut by the antimeridian aside
    if len(narrow):
        boxes = narrow
    x0, y0, x1, y1 = boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max()
    if x1 - x0 > 180:
        east = (boxes[:, 0] + boxes[:, 2]) / 2 > 0
        shifted = boxes[:, [0, 2]] - np.where(east, 360, 0)[:, None]
        if shifted[:, 1].max() - shifted[:, 0].min() < x1 - x0:
            x0, x1 = shifted[:, 0].min(), shifted[:, 1].max()
    return x0, y0, x1, y1


class CanvasCoverage(LiteralMacro):  # its output is never re-compiled as a template
    """The custom Leaflet layer: decodes :func:`encode_coverage` output and draws it on a
    canvas, with tooltips. The data is a template *value* (never template source)."""

    _template = Template(
        """{% macro script(this, kwargs) %}
(function () {
  var t0 = performance.now();
  var map = {{ this._parent.get_name() }};
  var D = {{ this.data }};
  var R = 6378137, q = D.geo.q;
  var raw = atob(D.geo.c), n = raw.length, vals = new Int32Array(D.geo.points * 2);
  var v = 0, shift = 0, m = 0, i, j, r, t;
  for (j = 0; j < n; j++) {
    var b = raw.charCodeAt(j);
    v |= (b & 127) << shift;
    if (b & 128) { shift += 7; continue; }
    vals[m++] = (v >>> 1) ^ -(v & 1); v = 0; shift = 0;
  }
  var ringLen = D.geo.r, nr = ringLen.length, ringStart = new Uint32Array(nr + 1);
  for (i = 0; i < nr; i++) { ringStart[i + 1] = ringStart[i] + ringLen[i]; }
  var pts = new Int32Array(vals.length), fx = 0, fy = 0;
  for (r = 0; r < nr; r++) {
    var p0 = ringStart[r], e0 = ringStart[r + 1];
    if (e0 === p0) continue;
    fx += vals[2 * p0]; fy += vals[2 * p0 + 1]; pts[2 * p0] = fx; pts[2 * p0 + 1] = fy;
    for (t = p0 + 1; t < e0; t++) {
      pts[2 * t] = pts[2 * t - 2] + vals[2 * t]; pts[2 * t + 1] = pts[2 * t - 1] + vals[2 * t + 1];
    }
  }
  var fr = D.geo.f, featRing = new Uint32Array(fr.length + 1);
  for (i = 0; i < fr.length; i++) { featRing[i + 1] = featRing[i] + fr[i]; }
  var box = Int32Array.from(D.geo.b), nf = fr.length;
  var byStyle = D.styles.map(function () { return []; });
  for (i = 0; i < nf; i++) { byStyle[D.style[i]].push(i); }
  var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (i = 0; i < nf; i++) { if (fr[i]) {
    x0 = Math.min(x0, box[4*i]); y0 = Math.min(y0, box[4*i+1]);
    x1 = Math.max(x1, box[4*i+2]); y1 = Math.max(y1, box[4*i+3]); } }
  var G = 256, cw = (x1 - x0 + 1) / G, ch = (y1 - y0 + 1) / G, grid = [];
  for (i = 0; i < G * G; i++) { grid.push(null); }
  for (i = 0; i < nf; i++) { if (!fr[i]) continue;
    var ga = Math.floor((box[4*i] - x0) / cw), gb = Math.floor((box[4*i+2] - x0) / cw);
    var gc = Math.floor((box[4*i+1] - y0) / ch), gd = Math.floor((box[4*i+3] - y0) / ch);
    for (var gx = ga; gx <= gb; gx++) { for (var gy = gc; gy <= gd; gy++) {
      var c = gy * G + gx; (grid[c] || (grid[c] = [])).push(i); } } }

  window.xlTiming = {decode: performance.now() - t0};
  var Layer = L.Layer.extend({
    onAdd: function (m) {
      this._c = L.DomUtil.create('canvas', 'xl-canvas');
      this._c.style.pointerEvents = 'none';
      m.getPanes().overlayPane.appendChild(this._c);
      m.on('moveend zoomend resize', this._schedule, this);
      m.on('zoomstart', function () { this._c.style.visibility = 'hidden'; }, this);
      this._schedule();
    },
    onRemove: function (m) {
      L.DomUtil.remove(this._c); m.off('moveend zoomend resize', this._schedule, this);
    },
    _schedule: function () {  // one draw per frame, however many events fire
      if (this._pending) return;
      this._pending = true;
      var self = this;
      window.requestAnimationFrame(function () { self._pending = false; self._draw(); });
    },
    _draw: function () {
      var m = this._map, size = m.getSize(), ratio = window.devicePixelRatio || 1;
      var cv = this._c, ctx = cv.getContext('2d');
      cv.width = size.x * ratio; cv.height = size.y * ratio;
      cv.style.width = size.x + 'px'; cv.style.height = size.y + 'px';
      L.DomUtil.setPosition(cv, m.containerPointToLayerPoint([0, 0]));
      cv.style.visibility = 'visible';
      var z = m.getZoom(), world = 256 * Math.pow(2, z), o = m.getPixelBounds().min;
      var s = world / (2 * Math.PI * R) * q, ox = world / 2 - o.x, oy = world / 2 - o.y;
      ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
      var vx0 = -ox / s, vx1 = (size.x - ox) / s, vy1 = oy / s, vy0 = (oy - size.y) / s;
      var minPx = 2 / s;  // areas under 2 px across are drawn as their box
      ctx.lineWidth = z >= 9 ? 0.5 : 0.2; ctx.strokeStyle = '#ffffff';
      for (var st = 0; st < byStyle.length; st++) {
        var list = byStyle[st]; ctx.beginPath();
        for (var a = 0; a < list.length; a++) {
          var f = list[a];
          if (box[4*f+2] < vx0 || box[4*f] > vx1 || box[4*f+3] < vy0 || box[4*f+1] > vy1) continue;
          var tiny = (box[4*f+2] - box[4*f]) < minPx && (box[4*f+3] - box[4*f+1]) < minPx;
          for (var r = featRing[f]; r < featRing[f + 1]; r++) {
            var p = ringStart[r], e = ringStart[r + 1];
            if (e - p < 3) continue;
            var lx = pts[2*p] * s + ox, ly = oy - pts[2*p+1] * s;
            if (tiny) {
              var w = Math.max(1, (box[4*f+2] - box[4*f]) * s);
              var h = Math.max(1, (box[4*f+3] - box[4*f+1]) * s);
              ctx.rect(box[4*f] * s + ox, oy - box[4*f+3] * s, w, h); break;
            }
            ctx.moveTo(lx, ly);
            for (var t = p + 1; t < e; t++) {
              var px = pts[2*t] * s + ox, py = oy - pts[2*t+1] * s;
              if (Math.abs(px - lx) + Math.abs(py - ly) < 0.7 && t < e - 1) continue;
              ctx.lineTo(px, py); lx = px; ly = py;
            }
            ctx.closePath();
          }
        }
        ctx.globalAlpha = D.styles[st][1]; ctx.fillStyle = D.styles[st][0]; ctx.fill('evenodd');
        ctx.globalAlpha = 1; if (z >= 7) ctx.stroke();
      }
      window.xlDrawn = (window.xlDrawn || 0) + 1;
      window.xlTiming['draw' + window.xlDrawn] = performance.now() - t0;
      window.xlLastDraw = performance.now();  // ms since navigation started
    }
  });
  var layer = new Layer().addTo(map);

  function inside(f, X, Y) {
    var hit = false;
    for (var r = featRing[f]; r < featRing[f + 1]; r++) {
      var p = ringStart[r], e = ringStart[r + 1];
      for (var a = p, b = e - 1; a < e; b = a++) {
        var ax = pts[2*a], ay = pts[2*a+1], bx2 = pts[2*b], by2 = pts[2*b+1];
        if ((ay > Y) !== (by2 > Y) && X < (bx2 - ax) * (Y - ay) / (by2 - ay) + ax) hit = !hit;
      }
    }
    return hit;
  }
  var tip = L.DomUtil.create('div', 'leaflet-tooltip xl-tip', map.getContainer());
  tip.style.display = 'none'; tip.style.position = 'absolute'; tip.style.zIndex = 1000;
  function cell(row, text, head) {
    var el = document.createElement(head ? 'th' : 'td'); el.textContent = text; row.appendChild(el);
  }
  function show(f, pt) {
    var T = D.tips; tip.textContent = '';
    var title = document.createElement('b');
    title.textContent = T.id[f] + (T.group ? ' (' + T.group[f] + ')' : '');
    tip.appendChild(title);
    var table = document.createElement('table'), total = T.total[f];
    var order = T.cand.map(function (c, i) { return i; });
    order.sort(function (a, b) { return T.votes[b][f] - T.votes[a][f]; });
    order.slice(0, 5).forEach(function (i) {
      var row = table.insertRow(), v = T.votes[i][f];
      cell(row, T.cand[i], true);
      cell(row, v.toLocaleString() + (total ? ' (' + (100 * v / total).toFixed(1) + '%)' : ''));
    });
    var row = table.insertRow(); cell(row, 'total', true); cell(row, total.toLocaleString());
    tip.appendChild(table);
    tip.style.display = 'block';
    tip.style.left = (pt.x + 14) + 'px'; tip.style.top = (pt.y + 14) + 'px';
  }
  window.xlFeatureAt = function (lat, lng) {
    var pm = L.Projection.SphericalMercator.project(L.latLng(lat, lng));
    var X = pm.x / q, Y = pm.y / q;
    var gx = Math.floor((X - x0) / cw), gy = Math.floor((Y - y0) / ch);
    if (gx < 0 || gy < 0 || gx >= G || gy >= G) return -1;
    var list = grid[gy * G + gx] || [];
    for (var a = 0; a < list.length; a++) {
      var f = list[a];
      if (X < box[4*f] || X > box[4*f+2] || Y < box[4*f+1] || Y > box[4*f+3]) continue;
      if (inside(f, X, Y)) return f;
    }
    return -1;
  };
  var pending = null;
  map.on('mousemove', function (ev) {
    pending = ev; if (pending.handled) return;
    window.requestAnimationFrame(function () {
      var e2 = pending; if (!e2) return; pending = null;
      var f = window.xlFeatureAt(e2.latlng.lat, e2.latlng.lng);
      if (f < 0) { tip.style.display = 'none'; } else { show(f, e2.containerPoint); }
    });
  });
  map.on('mouseout', function () { tip.style.display = 'none'; });
  window.xlShowTip = function (lat, lng) {
    var f = window.xlFeatureAt(lat, lng);
    if (f >= 0) show(f, map.latLngToContainerPoint([lat, lng]));
    return f < 0 ? null : tip.textContent;
  };
})();
{% endmacro %}"""
    )

    def __init__(self, data: dict):
        super().__init__()
        self._name = "CanvasCoverage"
        self.data = page_json(data)


def large_choropleth(
    features: gpd.GeoDataFrame,
    styled,
    *,
    title: str,
    subtitle: str,
    layers,
    layer_name: str,
    tiles: str = "light",
    tolerance: float | None = None,
    notes: list[str] | None = None,
    headline: str = "",
    dek: str = "",
    credit: str = "",
    file_notes: list[str] | None = None,
) -> tuple[folium.Map, dict]:
    """A folium page drawing tens of thousands of areas on one canvas (see the module doc),
    framed like every map: headline, title and dek, a one-line ``credit`` with the full
    ``subtitle`` and ``notes`` behind "Sources and method", and the legend.

    ``features`` needs ``total`` and the candidate columns (``attrs["candidates"]``);
    ``styled`` is a :class:`explorer.render.Styled`. ``tolerance`` is the simplification in
    metres (default :func:`explorer.render.auto_tolerance`); coordinates are quantised to a
    fifth of it (at least 5 m). Returns the map and facts (features, points, tolerance;
    ``coverage_valid`` is None: not checked at this size)."""
    from explorer import render

    features = features.reset_index(drop=True)
    if tolerance is None:
        tolerance = render.auto_tolerance(len(features))
    # coverage simplification keeps shared edges shared; the validity checks and rounding
    # of render.simplify_coverage are skipped here (seconds at this size; the quantisation
    # below is the rounding), so the coverage's validity is reported as not checked
    geoms = features.geometry.to_crs("EPSG:4326").values
    if tolerance > 0:
        geoms = shapely.coverage_simplify(
            geoms, tolerance / render.METRES_PER_DEGREE, simplify_boundary=True
        )
    resolution = max(5.0, tolerance / 5)
    encoded = encode_coverage(geoms, resolution)
    styled = render.plain_patterns(styled)  # a canvas draws no patterns
    styles, style_index = _styles(list(styled.fills), styled.opacity)
    candidates = features.attrs.get("candidates") or [
        c
        for c in features.columns
        if c not in ("total",)
        and pd.api.types.is_numeric_dtype(features[c])
        and c not in ("winner_share", "margin", "n_members")
    ]
    points = encoded.pop("points")
    data = {
        "geo": {**encoded, "points": points},
        "styles": styles,
        "style": style_index,
        "tips": _tip_table(features, candidates),
    }
    bounds = _view_bounds(geoms)
    fmap = folium.Map(tiles=render.TILES[tiles], control_scale=True, zoom_control=True)
    render._inline_leaflet(fmap)
    if not render.TILES[tiles]:
        fmap.get_root().header.add_child(render.Literal(render.page.PLAIN_BACKGROUND))
    fit = [[float(bounds[1]), float(bounds[0])], [float(bounds[3]), float(bounds[2])]]
    fmap.fit_bounds(fit)
    CanvasCoverage(data).add_to(fmap)
    root = fmap.get_root()
    root.title = render.esc(title)
    # the same frame as every map: headline, dek, one credit line, sources and method
    root.html.add_child(render.Literal(render.title_box(title, dek)))
    more = [subtitle, *(notes or []), *(file_notes or [])]
    frame = render.PageFrame(fmap, None, headline=headline, credit=credit, more=more, bounds=fit)
    frame.add_to(fmap)
    legend = render._legend_html(styled.legend_title, styled, (notes or [])[1:], False)
    root.html.add_child(render.Literal(legend))
    facts = {
        "features": len(features),
        "coverage_valid": None,  # not checked (see above)
        "tolerance": tolerance,
        "canvas": True,
        "large": True,
        "points": points,
        "resolution": resolution,
    }
    return fmap, facts
