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

The package: :mod:`~explorer.render.views` decides what a map shows (features, colours,
tooltips, headline, notes) for an election, and :mod:`~explorer.render.swing_view` for
the change between two (:mod:`explorer.swing` computes it); :mod:`~explorer.render.style`
holds the colour classes and legends, :mod:`~explorer.render.tooltips` the tooltips,
:mod:`~explorer.render.layers` the geometry a map draws, :mod:`~explorer.render.page` the
folium page, :mod:`~explorer.render.static` the print map, and
:mod:`~explorer.render.literal` the elements that keep data out of templates. Pages past
Leaflet's per-feature limit are drawn by :mod:`explorer.large_map`.
"""

from explorer.render.layers import (
    CONTEXT_DECIMALS,
    COORDINATE_DECIMALS,
    METRES_PER_DEGREE,
    MapLayers,
    auto_tolerance,
    label_point,
    simplify_coverage,
    votes_in,
)
from explorer.render.literal import Literal, LiteralMacro, esc
from explorer.render.page import (
    CANVAS_ABOVE,
    HEAVY_MAP,
    PAGE_CSS,
    TILE_NAMES,
    TILES,
    CompactGeoJson,
    PageFrame,
    TextLabels,
    _inline_leaflet,
    _legend_html,
    add_overlay,
    choropleth,
    credit_line,
    save_html,
    short_credits,
    title_box,
)
from explorer.render.static import save_static
from explorer.render.style import (
    CATEGORICAL,
    FIXED_MARGIN_EDGES,
    HATCH,
    INFERRED_HATCH,
    NO_DATA,
    NO_VOTES,
    OUTSIDE,
    PATTERNS,
    SCHEMES,
    Styled,
    fade,
    grey_out,
    hatch_unreported,
    inferred_mask,
    margin_edges,
    plain_patterns,
    style_diverging,
    style_margin,
    style_share,
    style_swing,
    style_winner,
)
from explorer.render.tooltips import (
    MATCH_WORDS,
    _tip,
    area_tooltips,
    demographic_tooltips,
    precinct_tooltips,
    two_way_margin,
)

__all__ = [
    "CANVAS_ABOVE",
    "CATEGORICAL",
    "CONTEXT_DECIMALS",
    "COORDINATE_DECIMALS",
    "FIXED_MARGIN_EDGES",
    "HATCH",
    "HEAVY_MAP",
    "INFERRED_HATCH",
    "MATCH_WORDS",
    "METRES_PER_DEGREE",
    "NO_DATA",
    "NO_VOTES",
    "OUTSIDE",
    "PAGE_CSS",
    "PATTERNS",
    "SCHEMES",
    "TILES",
    "TILE_NAMES",
    "CompactGeoJson",
    "Literal",
    "LiteralMacro",
    "MapLayers",
    "PageFrame",
    "Styled",
    "TextLabels",
    "_inline_leaflet",
    "_legend_html",
    "_tip",
    "add_overlay",
    "area_tooltips",
    "auto_tolerance",
    "choropleth",
    "credit_line",
    "demographic_tooltips",
    "esc",
    "fade",
    "grey_out",
    "hatch_unreported",
    "inferred_mask",
    "label_point",
    "margin_edges",
    "plain_patterns",
    "precinct_tooltips",
    "save_html",
    "save_static",
    "short_credits",
    "simplify_coverage",
    "style_diverging",
    "style_margin",
    "style_share",
    "style_swing",
    "style_winner",
    "title_box",
    "two_way_margin",
    "votes_in",
]
