"""The print map: PNG, SVG or PDF with the page's colours, legend, names, freeway labels
and credits, every text drawn literally."""

from __future__ import annotations

import textwrap
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from explorer.crs import equal_area_crs_for
from explorer.errors import ExplorerError
from explorer.outputs import atomic_path, terminal
from explorer.render.layers import MapLayers, label_point, votes_in
from explorer.render.style import HATCH, OUTSIDE, Styled, inferred_mask, plain_patterns


def _print_text(value) -> str:
    """Text for a static map: control and bidi-override characters shown as escapes."""
    return terminal(value).replace("\t", " ").replace("\n", " ")


#: how a print draws each page pattern: (line colour, matplotlib hatch) over its plain colour
PRINT_PATTERNS = {HATCH: ("#777", "///"), OUTSIDE: ("#888", "..")}


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
    name stays dollars and a caret) and control characters are shown as escapes. Characters
    the font lacks are drawn with an installed font that has them, else one warning names
    the texts (see :func:`_cover_glyphs`)."""
    import warnings

    with warnings.catch_warnings():  # said once, by _cover_glyphs, not once per glyph
        warnings.filterwarnings("ignore", message="Glyph .* missing from font")
        return _save_static(
            features,
            styled,
            target,
            title=title,
            credits=credits,
            layers=layers,
            headline=headline,
            dek=dek,
        )


def _save_static(
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
    import matplotlib

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
    plain = plain_patterns(styled)
    frame.plot(
        ax=ax,
        color=plain.fills,
        edgecolor="white",
        linewidth=0.3,
        alpha=np.asarray(styled.opacity) if styled.opacity else 0.85,
    )
    for fill, (edge, hatch) in PRINT_PATTERNS.items():
        marked = np.array([f == fill for f in styled.fills], dtype=bool)
        if marked.any():
            frame[marked].plot(ax=ax, facecolor="none", edgecolor=edge, hatch=hatch, linewidth=0)
    inferred = frame[inferred_mask(frame).to_numpy()]
    if len(inferred):
        inferred.plot(ax=ax, facecolor="none", edgecolor="#222", hatch="\\\\", linewidth=0)
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
        Patch(facecolor=p, edgecolor=PRINT_PATTERNS[c][0], hatch=PRINT_PATTERNS[c][1])
        if c in PRINT_PATTERNS
        else Patch(facecolor=c)
        for (c, _), (p, _) in zip(styled.legend, plain.legend)
    ]
    labels = [_print_text(label) for _, label in styled.legend]
    if styled.steps and styled.legend:  # the shading scale, in the first key's colour
        for alpha, label in styled.steps:
            handles.append(Patch(facecolor=styled.legend[0][0], alpha=alpha))
            labels.append(_print_text(f"{styled.steps_title}, {label}"))
    if len(inferred):
        handles.append(Patch(facecolor="white", edgecolor="#222", hatch="\\\\"))
        labels.append("shape wholly or partly inferred (hatched)")
    # the legend goes in the corner where it hides least of the district, measured with
    # its drawn size (a long title is wrapped so the box stays narrow)
    renderer = fig.canvas.get_renderer()
    to_data = ax.transData.inverted()

    def hidden(legend) -> float:
        (a, b), (c, d) = to_data.transform(legend.get_window_extent(renderer).get_points())
        return shapely.area(shapely.intersection(shapely.box(a, b, c, d), shape))

    legend_title = textwrap.fill(_print_text(styled.legend_title), 48)
    corners = ("upper left", "upper right", "lower left", "lower right")
    cover = {}
    for corner in corners:
        legend = ax.legend(
            handles,
            labels,
            title=legend_title,
            loc=corner,
            fontsize=8,
            title_fontsize=8.5,
            frameon=True,
            framealpha=0.92,
            edgecolor="#ccc",
        )
        for text in [legend.get_title(), *legend.get_texts()]:
            text.set_parse_math(False)
        cover[corner] = hidden(legend)
        legend.remove()
    legend = ax.legend(
        handles,
        labels,
        title=legend_title,
        loc=min(corners, key=cover.get),
        fontsize=8,
        title_fontsize=8.5,
        frameon=True,
        framealpha=0.92,
        edgecolor="#ccc",
    )
    for text in [legend.get_title(), *legend.get_texts()]:
        text.set_parse_math(False)
    head = 1 - 0.25 / (width * aspect + 1.7)
    headline_text = fig.text(
        0.02,
        head,
        _print_text(headline or title),
        fontsize=17,
        fontweight="bold",
        va="top",
        parse_math=False,
    )
    sub = " · ".join(_print_text(t) for t in (title if headline else "", dek) if t)
    sub_text = fig.text(
        0.02,
        head - 0.45 / (width * aspect + 1.7),
        sub,
        fontsize=10,
        va="top",
        color="#333",
        parse_math=False,
    )
    # wrapped here, not by matplotlib (its wrap=True reads $...$ as math despite
    # parse_math=False), and long words (file names) broken so nothing runs off the edge
    fig.text(
        0.02, 0.01, _wrapped(_print_text(credits), fig, 7), fontsize=7, color="#444",
        parse_math=False,
    )  # fmt: skip
    _cover_glyphs(fig, target)
    for line in (headline_text, sub_text):  # one line each: shortened with "…" to fit
        _fit_line(line, fig)
    with atomic_path(target) as temporary, plt.rc_context({"hatch.linewidth": 0.6}):
        fig.savefig(temporary, format=suffix, dpi=150)  # hatches thin enough to read under
    plt.close(fig)
    return Path(target)


def _wrapped(text: str, fig, fontsize: float) -> str:
    """``text`` in lines that fit the figure's width at ``fontsize`` points (an average
    character taken as 0.6 em wide, with a margin), breaking words longer than a line."""
    import textwrap

    chars = max(int(fig.get_figwidth() * 72 * 0.94 / (0.6 * fontsize)), 20)
    return textwrap.fill(text, chars, break_long_words=True, break_on_hyphens=False)


def _fit_line(text, fig, right: float = 0.98) -> None:
    """Shorten a one-line figure text with "…" until it ends left of ``right`` (a fraction
    of the figure's width), measured as drawn (its font and size), so a long name (a
    returns file's) never runs off the print."""
    renderer = fig.canvas.get_renderer()
    limit = fig.bbox.width * right
    full = text.get_text()

    def fits(value: str) -> bool:
        text.set_text(value)
        return text.get_window_extent(renderer).x1 <= limit

    if fits(full):
        return
    low, high = 0, len(full)  # the longest prefix that fits with the ellipsis
    while low < high:
        middle = (low + high + 1) // 2
        if fits(full[:middle].rstrip() + "\N{HORIZONTAL ELLIPSIS}"):
            low = middle
        else:
            high = middle - 1
    text.set_text(full[:low].rstrip() + "\N{HORIZONTAL ELLIPSIS}")


def _cover_glyphs(fig, target) -> None:
    """Texts with characters the figure's font lacks (CJK names in DejaVu Sans) are drawn
    with an installed font that has them (matplotlib's font fallback); when none is
    installed, one warning names the texts (they would print as empty boxes)."""
    from matplotlib import font_manager, ft2font
    from matplotlib.text import Text

    texts = [t for t in fig.findobj(Text) if t.get_text().strip()]
    if not texts:
        return

    def charmap(path: str) -> set[int]:
        try:
            return set(ft2font.FT2Font(path).get_charmap())
        except (OSError, RuntimeError, ValueError):
            return set()

    default = font_manager.findfont(font_manager.FontProperties(family=texts[0].get_family()))
    have = charmap(default)
    lacking = {
        t: {ch for ch in t.get_text() if ord(ch) > 127 and ord(ch) not in have} for t in texts
    }
    lacking = {t: chars for t, chars in lacking.items() if chars}
    if not lacking:
        return
    wanted = {ord(ch) for chars in lacking.values() for ch in chars}
    fallback = None
    for entry in font_manager.fontManager.ttflist:
        if "last resort" in entry.name.lower():  # draws every character as a box
            continue
        if entry.fname != default and wanted <= charmap(entry.fname):
            fallback = entry.name
            break
    if fallback:
        family = font_manager.FontProperties(fname=default).get_name()
        for text in lacking:
            text.set_fontfamily([family, fallback])
        return
    import warnings

    shown = "; ".join(sorted({repr(t.get_text()[:60]) for t in lacking})[:3])
    warnings.warn(
        f"{Path(target).name}: no installed font has the characters "
        f"{''.join(sorted({chr(c) for c in wanted}))[:20]!r}; they print as empty boxes in "
        f"{shown} (install a font with them, e.g. Debian's fonts-noto-cjk)",
        stacklevel=4,
    )
    for text in lacking:  # one warning above, not one per glyph from matplotlib
        text.set_text(
            "".join(ch if ord(ch) not in wanted else "\N{WHITE SQUARE}" for ch in text.get_text())
        )
