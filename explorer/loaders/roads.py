"""Road layers: freeways reduced to one labelled line set per route, or any line layer."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from explorer.errors import ExplorerError
from explorer.loaders.layers import read_layer

_ROUTE_PATTERNS = (
    (re.compile(r"^Interstate\s+(\d+)"), "I-{}"),
    (re.compile(r"^US Highway\s+(\d+)"), "US-{}"),
    (re.compile(r"^(?:State )?Route\s+(\d+)"), "SR-{}"),
)


def route_label(number_name: str) -> str | None:
    """'Interstate 10' -> 'I-10', 'State Route 134' -> 'SR-134', 'US Highway 101' -> 'US-101'."""
    for pattern, template in _ROUTE_PATTERNS:
        match = pattern.match(number_name.strip())
        if match:
            return template.format(match.group(1))
    return None


def _caltrans_label(route_num: str) -> str | None:
    """CAfreeways ``ROUTE_NUM`` codes: 'I10' -> 'I-10', 'U101' -> 'US-101', 'S134' -> 'SR-134'."""
    match = re.match(r"^([IUS])(\d+)$", route_num or "")
    if not match:
        return None
    return {"I": "I-", "U": "US-", "S": "SR-"}[match.group(1)] + match.group(2)


def _overlap_routes(lines, candidates, candidate_routes, tolerance: float, share: float):
    """For each line, the route of the candidate line it lies along for most of its length
    (at least ``share`` of it within ``tolerance`` metres), else None."""
    buffers = shapely.buffer(candidates, tolerance, cap_style="flat")
    line_index, candidate_index = shapely.STRtree(buffers).query(lines, predicate="intersects")
    routes = np.full(len(lines), None, dtype=object)
    if not len(line_index):
        return routes
    overlap = shapely.length(shapely.intersection(lines[line_index], buffers[candidate_index]))
    pairs = pd.DataFrame(
        {"line": line_index, "route": candidate_routes[candidate_index], "overlap": overlap}
    )
    per_route = pairs.groupby(["line", "route"], as_index=False)["overlap"].sum()
    best = per_route.sort_values("overlap", ascending=False).drop_duplicates("line")
    lengths = shapely.length(lines[best["line"].to_numpy()])
    good = best["overlap"].to_numpy() >= share * np.maximum(lengths, 1e-9)
    routes[best["line"].to_numpy()[good]] = best["route"].to_numpy()[good]
    return routes


def load_freeways(
    path: str | Path,
    route_numbers: str | Path | None = None,
    *,
    crs: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Freeways reduced to one line set per route, labelled like 'I-10 Santa Monica Fwy'.

    The LA County layer carries each carriageway twice, once by name ('Santa Monica Frwy')
    and once by number ('Interstate 10'). Each named line takes the route number of the
    numbered line it lies along (or, failing that, of the statewide route in
    ``route_numbers``); the copies are then unioned, which drops the duplicate segments.
    A route known by several names along its length lists them, longest first.
    ``crs`` declares the CRS of a layer that has none (``--roads-crs``). With ``bbox``
    (lon/lat west, south, east, north) only the lines reaching into it are read, from both
    files: a district map needs no county-wide road network.
    """
    frame = read_layer(path, crs=crs, crs_option="--roads-crs", bbox=bbox)
    if frame.empty:  # no road reaches into the bbox
        empty = {"route": [], "name": [], "label": []}
        return gpd.GeoDataFrame(empty, geometry=[], crs="EPSG:4326")
    if "FullName" not in frame.columns:
        return load_roads(frame, str(path))
    if "Type" in frame.columns:
        frame = frame[frame["Type"] == "Freeway"]
    frame = frame[frame["FullName"].notna()].to_crs("EPSG:3310").reset_index(drop=True)
    lines = frame.geometry.values
    routes = np.array([route_label(name) for name in frame["FullName"]], dtype=object)
    numbered = np.array([r is not None for r in routes])
    if numbered.any() and (~numbered).any():
        found = _overlap_routes(lines[~numbered], lines[numbered], routes[numbered], 40.0, 0.5)
        routes[np.flatnonzero(~numbered)] = found
    if route_numbers is not None and any(r is None for r in routes):
        statewide = read_layer(route_numbers, bbox=bbox).to_crs("EPSG:3310")
        if statewide.empty:  # no numbered route near: the unnamed lines stay unlabelled
            statewide = statewide.assign(ROUTE_NUM=pd.Series(dtype=object))
        codes = np.array([_caltrans_label(c) for c in statewide["ROUTE_NUM"]], dtype=object)
        keep = np.array([c is not None for c in codes])
        missing = np.flatnonzero([r is None for r in routes])
        found = _overlap_routes(
            lines[missing], statewide.geometry.values[keep], codes[keep], 250.0, 0.5
        )
        routes[missing] = found
    frame["route"] = routes
    frame = frame[frame["route"].notna()]
    is_name = np.array([route_label(name) is None for name in frame["FullName"]])
    names = (
        frame[is_name]
        .assign(
            length=frame.length,
            name=frame["FullName"].str.replace(r"\bFrwy\b", "Fwy", regex=True).str.title(),
        )
        .groupby(["route", "name"])["length"]
        .sum()
        .reset_index()
        .sort_values("length", ascending=False)
        .groupby("route")["name"]
        .agg(lambda s: " / ".join(s))
    )
    merged = frame.dissolve("route", as_index=False)[["route", "geometry"]]
    merged["geometry"] = shapely.line_merge(merged.geometry.values)
    merged["name"] = merged["route"].map(names).fillna("")
    merged["label"] = (merged["route"] + " " + merged["name"]).str.strip()
    return merged[["route", "name", "label", "geometry"]].to_crs("EPSG:4326")


ROAD_LABEL_FIELDS = ("label", "name", "NAME", "FULLNAME", "ROUTE_NUM", "route", "ref")


def load_roads(frame: gpd.GeoDataFrame, source: str) -> gpd.GeoDataFrame:
    """Any line layer as roads: one line set per label (from the first of
    ``ROAD_LABEL_FIELDS`` present), with the same columns as :func:`load_freeways`."""
    kinds = set(frame.geom_type.dropna())
    if not kinds <= {"LineString", "MultiLineString"}:
        raise ExplorerError(
            f"the road layer holds {', '.join(sorted(kinds))} features where lines are expected",
            source=source,
        )
    field = next((f for f in ROAD_LABEL_FIELDS if f in frame.columns), None)
    labels = frame[field].astype("string").fillna("").str.strip() if field else ""
    roads = gpd.GeoDataFrame({"label": labels}, geometry=frame.geometry.values, crs=frame.crs)
    roads = roads.dissolve("label", as_index=False)
    roads["route"] = roads["label"]
    roads["name"] = roads["label"]
    return roads[["route", "name", "label", "geometry"]].to_crs("EPSG:4326")
