"""Stage 5, render: what a map shows. A view picks the features, colours, tooltips, title
and notes for an election (margin, winner, candidate, demographic), then draws them with
:mod:`explorer.render`. :class:`explorer.elections.Election` only runs the stages that
produce the data; the choices a map makes live here."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from explorer import catalog, join
from explorer.errors import ExplorerError

if TYPE_CHECKING:
    import folium

    from explorer.elections import Election

VIEW_DEKS = {
    "margin": "Margin by precinct",
    "winner": "Leading candidate by precinct",
    "candidate": "Vote share by precinct",
    "demographic": "Share of citizen voting-age population",
}


def _surname(name: str) -> str:
    from explorer.names import surname

    return surname(name)


def vote_totals(election: Election) -> pd.Series:
    """Votes per candidate in the returns file (every row, mapped or not), most first."""
    wide = election.wide
    totals = wide[[c for c in election.candidates if c in wide]].sum()
    return totals.astype(float).sort_values(ascending=False)


#: legend key of a demographic map's areas where no census population was placed
NO_POPULATION = "no census population placed"
#: below this share of its area inside the district an area is drawn grey, not called
OUTSIDE_SHARE = 0.5


def clip_to_district(areas, outline):
    """Areas cut to the district outline (fills never spill past it), with
    ``in_district``: the share of each area's own area inside (equal-area CRS)."""
    import shapely

    from explorer.crs import equal_area_crs_for
    from explorer.loaders import polygonal_part

    areas = areas.reset_index(drop=True).copy()
    crs = equal_area_crs_for(outline)
    shape = shapely.union_all(outline.to_crs(crs).geometry.values)
    own = areas.geometry.to_crs(crs).values
    # a clip along a shared edge can leave lines beside the polygon: keep the polygon
    inside = np.array([polygonal_part(g) for g in shapely.intersection(own, shape)])
    whole = shapely.area(own)
    share = shapely.area(inside) / pd.Series(whole).where(lambda a: a > 0)
    areas["in_district"] = share.fillna(0.0).to_numpy()
    # an area with votes but nothing inside the outline keeps its shape (drawn grey)
    inside = np.where(shapely.area(inside) > 0, inside, own)
    return areas.set_geometry(inside, crs=crs).to_crs(areas.crs)


#: at most this many of your own files are named in a sources line (then "and N more")
OWN_FILES_NAMED = 4


def own_files(election: Election, credits: list[str]) -> list[str]:
    """Names (not paths) of the election's files that no catalog credit in ``credits``
    covers, such as the returns and precinct layer you gave ``from_files``, each once in
    the order read, as :func:`explorer.outputs.file_label` shows them (escapes for control
    and bidi characters, long names shortened in the middle); past
    :data:`OWN_FILES_NAMED` the rest are counted."""
    from explorer.outputs import file_label

    known = [entry.path for entry in catalog.read_catalog()]
    names: list[str] = []
    for file in election.source_files():
        text = str(file).replace("\\", "/")  # only to compare with catalog paths
        theirs = catalog.credits_for(k for k in known if text == k or text.endswith("/" + k))
        if theirs and set(theirs) <= set(credits):
            continue
        # the name as the system reads it: a backslash is a character of a Linux name;
        # control and bidi characters as escapes, a long name cut in the middle
        name = file_label(Path(str(file)).name)
        if name and name not in names:
            names.append(name)
    if len(names) > OWN_FILES_NAMED:
        rest = len(names) - OWN_FILES_NAMED + 1
        names = [*names[: OWN_FILES_NAMED - 1], f"and {rest:,} more files"]
    return names


def with_own_files(line: str, names: list[str]) -> str:
    """A sources line (``"Sources: A; B."`` or empty) with your own files' names added:
    ``"Sources: returns.csv, precincts.gpkg."``. The names are data, set as text."""
    if not names:
        return line
    mine = ", ".join(names)
    return f"{line.removesuffix('.')}; {mine}." if line else f"Sources: {mine}."


def winner_lead(features: pd.DataFrame, candidates: list[str]) -> pd.Series:
    """The leader's lead over the runner-up in each feature, as a share of all its votes
    (0-1; 0 for a tie; NaN where no votes were cast)."""
    votes = features[[c for c in candidates if c in features]].to_numpy(float)
    if votes.shape[1] < 2:
        return pd.Series(np.where(votes.sum(axis=1) > 0, 1.0, np.nan), index=features.index)
    top = np.sort(votes, axis=1)[:, -2:]
    total = votes.sum(axis=1)
    lead = np.divide(top[:, 1] - top[:, 0], total, out=np.full(len(total), np.nan), where=total > 0)
    return pd.Series(lead, index=features.index)


def headline(election: Election) -> str:
    """One line that states the result, e.g. "Gomez beat Ahn 59.2% to 40.8%" (a count
    still going on "leads"; a field of more than two: the leader and the runner-up)."""
    totals = vote_totals(election)
    total = totals.sum()
    if totals.empty or total <= 0:
        return "No votes counted"
    share = totals / total * 100
    names = [_surname(n) for n in totals.index]
    if len(set(names)) < len(names):
        names = [str(n) for n in totals.index]
    reporting = election.ledger_summary.get("reporting")
    partial = bool(reporting) and not reporting.get("complete", True)
    if len(totals) == 1:
        return f"{names[0]} ran unopposed"
    if share.iloc[0] == share.iloc[1]:
        return f"{names[0]} and {names[1]} tied at {share.iloc[0]:.1f}%"
    digits = _separating_digits(share.iloc[0], share.iloc[1])
    first, second = f"{share.iloc[0]:.{digits}f}%", f"{share.iloc[1]:.{digits}f}%"
    lead = totals.iloc[0] - totals.iloc[1]
    by = ""
    if digits > 1 or first == second:  # a near tie: the vote lead says it plainly
        by = f" (by {lead:,.0f} vote{'' if round(lead) == 1 else 's'})"
    if len(totals) == 2:
        verb = "leads" if partial else "beat"
        return f"{names[0]} {verb} {names[1]} {first} to {second}{by}"
    verb = "leads" if partial else "led"
    return (
        f"{names[0]} {verb} {len(totals)} candidates with {first}; "
        f"{names[1]} second with {second}{by}"
    )


def _separating_digits(a: float, b: float, most: int = 3) -> int:
    """Decimals (1 to ``most``) needed for two different percentages to print differently."""
    for digits in range(1, most + 1):
        if f"{a:.{digits}f}" != f"{b:.{digits}f}":
            return digits
    return most


def dek(election: Election, view: str, by: str) -> str:
    """The kind of map and the election's date."""
    kind = VIEW_DEKS.get(view, "Results")
    if by not in ("precinct", "precincts"):
        kind = kind.replace("by precinct", "by neighbourhood (estimated)")
    date = election.spec.date
    when = f"{date:%B} {date.day}, {date.year}" if date else ""
    return " · ".join(p for p in (kind, when) if p)


def demographic_parts(election: Election, group: str, by: str = "precinct", scheme: str = "fixed"):
    """Features, styling and tooltips for a group's share of CVAP by precinct or area."""
    from explorer import render
    from explorer.demographics import GROUP_LABELS, normalise_group

    key = normalise_group(group)
    if key == "other":
        raise ExplorerError("choose a named group to map", hint="e.g. --demographic asian")
    dem = election.demographics(by)
    if by in ("precinct", "precincts"):
        features = election.precincts[election.precincts["match"] != "none"]
        id_field = "precinct"
    else:
        features = election.areas(by)
        id_field = "name"
        features = features[features[id_field].map(dem["cvap_total"]).fillna(0) > 0]
    features = features.reset_index(drop=True)
    share = features[id_field].map(dem[f"cvap_share_{key}"])
    styled = render.style_share(share, GROUP_LABELS[key], scheme)
    styled.legend = [  # a blank share here means no CVAP was placed, not no votes
        (c, NO_POPULATION if (c, label) == (render.NO_DATA, render.NO_VOTES) else label)
        for c, label in styled.legend
    ]
    vintage = dem.attrs["vintages"]["cvap"]
    styled.legend_title = f"{GROUP_LABELS[key]}: share of {vintage}, %"
    shown = features[[id_field, "geometry"]].join(
        dem.reindex(features[id_field]).reset_index(drop=True)
    )
    tips = render.demographic_tooltips(shown, id_field, vintage)
    from explorer.demographics import describe_population_ledger

    notes = [
        f"Demographics: {dem.attrs['credit']}; {vintage}, placed by 2020 block-group "
        "centres of population. " + describe_population_ledger(dem.attrs["ledger"]),
    ]
    name = f"{GROUP_LABELS[key]}: share of {vintage}"
    return {"features": features, "styled": styled, "tips": tips, "notes": notes, "name": name}


def map_parts(
    election: Election,
    view: str | None = None,
    candidate: str | None = None,
    by: str = "precinct",
    scheme: str = "fixed",
    min_votes: float = 100,
    demographic: str | None = None,
    overlay: str | None = None,
):
    """Features, styling, tooltips and titles for a map view.

    ``view`` is ``margin`` (default for a two-candidate race), ``winner`` (default
    otherwise), ``candidate`` (needs ``candidate``) or ``demographic`` (a group's share
    of CVAP; needs ``demographic``, e.g. "asian"). ``overlay`` names a group whose share
    of CVAP is added as a layer the reader can switch on. In the neighbourhood view, areas
    with fewer than ``min_votes`` estimated votes are drawn grey as too few to call.
    """
    from explorer import render
    from explorer.large_map import LARGE_ABOVE

    candidates = election.candidates
    if candidate and not view:
        view = "candidate"
    if demographic and not view:
        view = "demographic"
    view = view or ("margin" if len(candidates) == 2 else "winner")
    _ = election.ledger  # the ledger must reconcile to the returns file before any map
    if view == "demographic":
        if not demographic:
            raise ExplorerError("the demographic view needs a group", hint="e.g. asian")
        part = demographic_parts(election, demographic, by, scheme)
        features, styled, tips = part["features"], part["styled"], part["tips"]
        layer_name = part["name"]
    elif by in ("precinct", "precincts"):
        features = election.precincts[election.precincts["match"] != "none"]
        if features.empty:
            raise ExplorerError("no result precinct has geometry: nothing to draw")
        large = len(features) > LARGE_ABOVE  # the large page builds its own tooltips
        tips = (
            []
            if large
            else render.precinct_tooltips(
                features, candidates, spelling=election.returns.attrs.get("precinct_spelling")
            )
        )
        layer_name = "Precinct results"
    else:
        areas = election.areas(by)
        features = clip_to_district(areas[areas["total"] > 0.5], election.outline)
        tips = render.area_tooltips(features, candidates)
        layer_name = "Neighbourhood results (apportioned)"
    if view == "margin":
        if len(candidates) < 2:
            raise ExplorerError("a margin needs two candidates", hint="use --candidate")
        edges, note = None, ""
        if by not in ("precinct", "precincts"):  # one election, one meaning per colour
            mapped = election.precincts[election.precincts["match"] != "none"]
            edges = render.margin_edges(mapped["margin"])
            note = "; classes as on the precinct map"
        styled = render.style_margin(
            features["margin"], candidates[0], candidates[1], edges=edges, note=note
        )
    elif view == "winner":
        called = pd.Series(True, index=features.index)
        if by not in ("precinct", "precincts"):  # areas drawn grey below are not counted as won
            called = features["total"] >= min_votes
            if "in_district" in features:
                called &= features["in_district"] >= OUTSIDE_SHARE
        styled = render.style_winner(
            features["winner"],
            features["winner_share"],
            candidates,
            winner_lead(features, candidates),
            counted=called,
        )
    elif view == "demographic":
        pass
    elif view == "candidate":
        if not candidate:
            raise ExplorerError(
                "--candidate is required for this view",
                hint="candidates: " + ", ".join(candidates),
            )
        from explorer.names import find_candidate

        name = find_candidate(candidate, candidates)
        share = features[name] / features["total"].replace(0, float("nan"))
        styled = render.style_share(share, name, scheme)
    else:
        raise ExplorerError(
            f"unknown view {view!r}", hint="use margin, winner, candidate or demographic"
        )
    partly = pd.Series(False, index=features.index)
    if "status" in features and view != "demographic":  # election night: hatched, never 0
        partly = features["status"] == "partial"
        styled = render.fade(
            styled,
            partly,
            label=f"paler: partly counted ({int(partly.sum()):,} map area"
            f"{'s' if partly.sum() != 1 else ''}), the count so far",
        )
        styled = render.hatch_unreported(
            styled, features["status"] == "none", "not reporting yet (nothing counted)"
        )
    if by not in ("precinct", "precincts") and view != "demographic":
        styled = render.grey_out(
            styled,
            features["total"] < min_votes,
            f"too few votes to call (under {min_votes:,.0f})",
        )
        if "in_district" in features:
            styled = render.grey_out(
                styled,
                (features["in_district"] < OUTSIDE_SHARE) & (features["total"] >= min_votes),
                "mostly outside the district (dotted; shown only as clipped)",
                colour=render.OUTSIDE,
            )
    summary = election.ledger_summary
    title = election.spec.title  # the date is in the dek
    grid = election.layer.attrs.get("test_grid")
    if grid:  # made-up squares: the title says so on the page, the PNG and the tab
        title = f"{grid} | {title}"
    credits = election.credits()
    over = demographic_parts(election, overlay, by, scheme) if overlay else None
    if view == "demographic" or over:
        credits += [
            c for c in catalog.credits_for(election.demographic_files()) if c not in credits
        ]
    subtitle = join.describe_ledger(summary)
    if summary.get("reporting"):
        from explorer.live import describe_reporting

        subtitle = describe_reporting(summary["reporting"]) + " " + subtitle
    own = own_files(election, credits)  # your own files carry no catalog credit: named
    sources = with_own_files(render.credit_line(credits), own)
    if sources:
        subtitle += " " + sources
    county_wide = len(summary.get("county_wide", []))
    places = len(summary["unmapped_precincts"]) - county_wide
    notes = [
        f"{summary['unmapped_votes']:,} votes in {places} precincts without geography"
        + (f" and {county_wide} county-wide row groups" if county_wide else "")
        + " are not drawn (see explorer ledger)."
    ] * bool(summary["unmapped_votes"] or places or county_wide)  # said only when some
    if partly.any():
        notes.append(
            f"Paler map areas ({int(partly.sum()):,}) are partly counted: their colour "
            "is the count so far (e.g. mail only), not a result. A map area is a "
            "precinct or several pooled into one; the reporting line counts precincts."
        )
    if view == "demographic":
        notes = [*part["notes"], *notes]
    elif by not in ("precinct", "precincts"):
        notes.append(
            "Neighbourhood fills are clipped to the district; areas with less than half "
            "their area inside are dotted grey. Neighbourhood figures are estimates: "
            + features.attrs.get("method", "areal weighting")
            + "."
        )
    layers = render.MapLayers(
        election.outline,
        election.neighbourhoods,
        election.freeways,
        votes=election.precincts[election.precincts["match"] != "none"],
        min_label_votes=max(min_votes, 0.005 * float(election.precincts["total"].sum())),
    )
    return {
        "features": features,
        "styled": styled,
        "tips": tips,
        "title": title,
        "subtitle": subtitle,
        "headline": headline(election),
        "dek": dek(election, view, by),
        "credit": with_own_files(render.short_credits(credits), own),
        "layers": layers,
        "layer_name": layer_name,
        "notes": notes + (over["notes"] if over else []),
        "view": view,
        "overlay": over,
    }


def choropleth_of(
    parts: dict, *, tiles: str = "light", tolerance: float | None = None
) -> tuple[folium.Map, dict]:
    """The folium map of a map's parts (as :func:`map_parts` or
    :func:`explorer.render.swing_view.swing_parts` return them; ``notes`` optional), and
    facts about it (see :func:`explorer.render.choropleth`)."""
    from explorer import render

    return render.choropleth(
        parts["features"],
        parts["styled"],
        parts["tips"],
        title=parts["title"],
        subtitle=parts["subtitle"],
        headline=parts["headline"],
        dek=parts["dek"],
        credit=parts["credit"],
        layers=parts["layers"],
        layer_name=parts["layer_name"],
        tiles=tiles,
        tolerance=tolerance,
        notes=parts.get("notes"),
        file_notes=parts.get("file_notes"),
    )


def build_map(
    election: Election,
    view=None,
    candidate=None,
    by="precinct",
    tiles="light",
    scheme="fixed",
    tolerance=None,
    min_votes=100,
    demographic=None,
    overlay=None,
):
    """The map, facts about it (feature count, coverage validity) and its parts."""
    from explorer import render

    parts = map_parts(election, view, candidate, by, scheme, min_votes, demographic, overlay)
    fmap, facts = choropleth_of(parts, tiles=tiles, tolerance=tolerance)
    if parts["overlay"]:
        over = parts["overlay"]
        render.add_overlay(
            fmap,
            over["features"],
            over["styled"],
            over["tips"],
            layer_name=over["name"],
            tolerance=facts["tolerance"],
        )
    return fmap, facts, parts
