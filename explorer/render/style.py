"""What the colours mean: classes, palettes and legends for margins, shares, winners and
swing (:class:`Styled`), and the honesty marks laid over them (grey, faded, hatched)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from itertools import pairwise

import numpy as np
import pandas as pd

from explorer.errors import ExplorerError
from explorer.outputs import bidi_closed

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


@dataclass
class Styled:
    """Fill colour and legend for a set of features."""

    fills: list[str]
    legend_title: str
    legend: list[tuple[str, str]]  # (colour, label)
    opacity: list[float] = field(default_factory=list)
    #: a shading scale under the key: ``(opacity, label)`` steps of the fill opacity (the
    #: winner map shades each winner's colour by the lead), titled ``steps_title``
    steps: list[tuple[float, str]] = field(default_factory=list)
    steps_title: str = ""


#: the grey of features greyed out when the no-data grey still means something else on
#: the same map (e.g. "no votes cast" outside the mask): one swatch, one meaning
OTHER_GREY = "#a6a6a6"


def grey_out(styled: Styled, mask: pd.Series, label: str, colour: str = NO_DATA) -> Styled:
    """Draw the masked features in the no-data grey (or ``colour``, e.g. :data:`OUTSIDE`),
    with a legend entry saying why.

    One swatch keeps one meaning: a key of the same colour whose features all fall under
    the mask (e.g. "no votes cast" under a votes floor) is folded into this one; if some
    of its features stay outside the mask, the masked ones take :data:`OTHER_GREY`."""
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return styled
    legend = list(styled.legend)
    if any(c == colour for c, _ in legend):
        if any(f == colour for f, m in zip(styled.fills, mask) if not m):
            colour = OTHER_GREY if colour != OTHER_GREY else "#8c8c8c"
        else:
            legend = [(c, text) for c, text in legend if c != colour]
    fills = [colour if m else f for f, m in zip(styled.fills, mask)]
    return replace(styled, fills=fills, legend=[*legend, (colour, label)])


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
#: areas mostly outside the district: grey dots on pale grey, a key of their own (the
#: grey of "too few votes" and "no votes" means something else; near-white is a close race)
OUTSIDE = "url(#xl-outside)"
OUTSIDE_DEFS = (
    "<svg width='0' height='0' style='position:absolute' aria-hidden='true'><defs>"
    "<pattern id='xl-outside' width='6' height='6' patternUnits='userSpaceOnUse'>"
    "<rect width='6' height='6' fill='#ececec'/><circle cx='3' cy='3' r='1.1' fill='#888'/>"
    "</pattern></defs></svg>"
)
OUTSIDE_SWATCH = "radial-gradient(circle,#888 1.1px,#ececec 1.4px) 0 0/5px 5px"
#: the SVG patterns a page may use: fill -> (definition, legend swatch, plain colour where
#: a canvas draws no patterns)
PATTERNS = {
    HATCH: (HATCH_DEFS, HATCH_SWATCH, "#ffffff"),
    OUTSIDE: (OUTSIDE_DEFS, OUTSIDE_SWATCH, "#ececec"),
}


def plain_patterns(styled: Styled) -> Styled:
    """The same styling with each pattern fill (:data:`PATTERNS`) as its plain colour, for
    a canvas, which draws no patterns."""
    plain = {fill: colour for fill, (_, _, colour) in PATTERNS.items()}
    return replace(
        styled,
        fills=[plain.get(f, f) for f in styled.fills],
        legend=[(plain.get(c, c), label) for c, label in styled.legend],
    )


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
    return replace(styled, fills=fills, legend=[*styled.legend, (HATCH, label)], opacity=opacity)


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
    return replace(styled, legend=legend, opacity=opacity)


#: ColorBrewer schemes (Cynthia Brewer, colorbrewer2.org) as matplotlib defines them: the
#: anchors of its colour maps, so that a page needs no matplotlib (slow to import)
BREWER = {
    "PuOr": "7f3b08 b35806 e08214 fdb863 fee0b6 f7f7f7 d8daeb b2abd2 8073ac 542788 2d004b",
    "PiYG": "8e0152 c51b7d de77ae f1b6da fde0ef f7f7f7 e6f5d0 b8e186 7fbc41 4d9221 276419",
    "YlGnBu": "ffffd9 edf8b1 c7e9b4 7fcdbb 41b6c4 1d91c0 225ea8 253494 081d58",
}


def _palette(name: str, count: int) -> list[str]:
    """``count`` colours evenly along a ColorBrewer scheme, linearly interpolated between
    its anchors: the same hex colours as ``matplotlib.colormaps[name].resampled(count)``."""
    anchors = np.array(
        [[int(c[i : i + 2], 16) / 255 for i in (0, 2, 4)] for c in BREWER[name].split()]
    )
    where = np.linspace(0, 1, len(anchors))
    at = np.linspace(0, 1, count) if count > 1 else np.ones(1)
    rgb = np.column_stack([np.interp(at, where, anchors[:, k]) for k in range(3)])
    return ["#" + "".join(format(round(v * 255), "02x") for v in row) for row in rgb]


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


def style_margin(
    values: pd.Series, first: str, second: str, edges: list[float] | None = None, note: str = ""
) -> Styled:
    """Two-way margin: orange where the first candidate leads, purple where the second does;
    class edges from the data (:func:`margin_edges`) unless ``edges`` are given (e.g. the
    precinct map's, so a colour means the same on every view of one election); ``note`` is
    added to the legend title."""
    first, second = bidi_closed(first), bidi_closed(second)  # names cannot flip the figures
    return style_diverging(
        values,
        edges or margin_edges(values),
        lambda span: f"{second} ahead by {span} pts",
        lambda span: f"{first} ahead by {span} pts",
        f"Two-way margin, percentage points ({first} v {second}){note}",
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


#: the winner map's shading: the lead over the runner-up (share points of all votes)
#: at these edges, drawn at these fill opacities (paler = narrower win)
LEAD_EDGES = (0.10, 0.20, 0.40)
LEAD_OPACITY = (0.3, 0.5, 0.7, 0.9)


def style_winner(
    winners: pd.Series,
    winner_share: pd.Series,
    order: list[str],
    lead: pd.Series | None = None,
    counted: pd.Series | None = None,
) -> Styled:
    """Categorical winner colours, shaded by the winner's lead over the runner-up in
    share points of all votes (``lead``, 0-1): under 10, 10-20, 20-40 and 40 or more
    points, paler = narrower; the legend carries that scale. Without ``lead`` the shade
    follows the winner's share (a lead in a two-way race is 2 x share - 1). The key counts
    the features each candidate won among ``counted`` (default all; areas drawn grey as
    too few to call are left out)."""
    present = [c for c in order if c in set(winners)]
    colour_of = {c: CATEGORICAL[i % len(CATEGORICAL)] for i, c in enumerate(present)}
    colour_of["tie"] = "#000000"
    fills = [colour_of.get(w, NO_DATA) for w in winners]
    if lead is None:
        lead = 2 * winner_share - 1
    step = np.searchsorted(LEAD_EDGES, np.asarray(lead.fillna(0), float), side="right")
    opacity = [LEAD_OPACITY[i] for i in step]
    counts = winners[counted].value_counts() if counted is not None else winners.value_counts()
    legend = [(colour_of[c], f"{bidi_closed(c)} ({counts.get(c, 0)} won)") for c in present]
    if "tie" in counts and "tie" not in present:
        legend.append((colour_of["tie"], f"tie ({counts['tie']})"))
    if (winners.fillna("") == "").any():
        legend.append((NO_DATA, NO_VOTES))
    edges = [round(e * 100) for e in LEAD_EDGES]
    names = [f"under {edges[0]} pts"]
    names += [f"{a}-{b}" for a, b in pairwise(edges)] + [f"{edges[-1]}+ pts"]
    steps = list(zip(LEAD_OPACITY, names))
    title = "Shade: lead over the runner-up"
    return Styled(fills, "Winner (paler = narrower win)", legend, opacity, steps, title)
