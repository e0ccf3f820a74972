"""Stage 3, join: precinct returns onto precinct polygons, with a vote ledger.

Each result precinct belongs to one feature (a polygon, or a dissolved group of polygons;
a pooled unit holds several result precincts) with a ``match`` class saying how its
geometry was found:

``crosswalk``  the user's crosswalk CSV (``result_precinct,layer_precinct``) named its
               polygons; when a crosswalk is given it overrides all other matching.
``exact``      a polygon with the same ID exists in the layer.
``base``       no exact polygon, but polygons with the same base number (the ID without
               its trailing letters, e.g. 9000123 for 9000123B) and another suffix exist and
               are not claimed by an exact match; they are dissolved. If two result
               precincts want the same polygon the lower ID gets it (noted).
``pooled``     result precincts that cannot be separated share one unit (one feature,
               combined votes, members in ``results``); ``inferred`` a free polygon
               taken on local evidence only. Both are decided in :mod:`explorer.infer`
               (``method="local"``, see there); free in-district polygons left over are
               absorbed by an adjacent unit, flagged ``absorbed``. ``method=
               "nearest-number"`` keeps the pre-#13 rule (closest free number, then
               adjacency) for the backtest baseline. Every unit has a ``reason``.
               Switch all inference off with ``infer=False``.
``none``       no geometry found; the votes stay in the ledger as unmapped.

The in-district layer is the polygons with more than ``min_inside`` of their area inside
the district boundary (the published boundaries are generalised, so precinct edges do not
follow them exactly). Without a boundary nothing is inferred.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from explorer import infer as inference
from explorer.crs import to_equal_area
from explorer.errors import ExplorerError
from explorer.loaders import normalise_ids, read_csv_text

MATCH_CLASSES = ("crosswalk", "exact", "base", "pooled", "inferred", "none")


def base_number(precinct_id: str) -> str:
    """The base precinct: the ID without trailing letters ('9000123B' -> '9000123')."""
    return re.sub(r"[A-Z]+$", "", precinct_id)


def _numeric(precinct_id: str) -> float:
    digits = re.sub(r"\D", "", precinct_id)
    return float(digits) if digits else np.inf


def restore_leading_zeros(result_ids: pd.Index, layer_ids: pd.Series) -> dict[str, str]:
    """Result IDs that lost leading zeros ('850001A' for '0850001A'), mapped to the layer ID."""
    known = set(layer_ids)
    width = int(layer_ids.str.len().mode().iloc[0]) if len(layer_ids) else 0
    fixes = {}
    for precinct in result_ids:
        if precinct not in known and len(precinct) < width:
            padded = precinct.zfill(width)
            if padded in known:
                fixes[precinct] = padded
    return fixes


def dissolve_duplicate_ids(layer: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One feature per precinct ID: duplicates are unioned and counted in the notes."""
    duplicated = layer["precinct"].duplicated(keep=False)
    notes = list(layer.attrs.get("notes", []))
    if duplicated.any():
        count = layer.loc[duplicated, "precinct"].nunique()
        example = layer.loc[duplicated, "precinct"].iloc[0]
        notes.append(f"dissolved {count} duplicated precinct ID(s) in the layer (e.g. {example})")
        layer = layer.dissolve("precinct", as_index=False)[["precinct", "geometry"]]
    layer = layer[layer["precinct"] != ""].reset_index(drop=True)
    layer.attrs["notes"] = notes
    return layer


def read_crosswalk(path: str) -> pd.DataFrame:
    """A crosswalk CSV with columns ``result_precinct,layer_precinct``."""
    table = read_csv_text(path)
    for column in ("result_precinct", "layer_precinct"):
        if column not in table.columns:
            raise ExplorerError(
                f"missing required column {column!r}",
                source=path,
                hint="a crosswalk has columns result_precinct,layer_precinct",
            )
    table["result_precinct"] = normalise_ids(table["result_precinct"])
    table["layer_precinct"] = normalise_ids(table["layer_precinct"])
    twice = table["layer_precinct"].duplicated(keep=False)
    if twice.any():
        lines = table.loc[twice, "_line"].tolist()[:3]
        raise ExplorerError(
            f"layer precinct {table.loc[twice, 'layer_precinct'].iloc[0]} is given to more "
            f"than one result precinct (lines {lines})",
            source=path,
            hint="each polygon may belong to one result precinct",
        )
    return table


def in_district(
    layer_area: gpd.GeoDataFrame, boundary_area: gpd.GeoDataFrame, min_inside: float
) -> np.ndarray:
    """Boolean mask: polygons with more than ``min_inside`` of their area in the boundary."""
    outline = shapely.union_all(boundary_area.geometry.values)
    shapely.prepare(outline)
    geoms = layer_area.geometry.values
    candidates = shapely.intersects(geoms, outline)
    inside = np.zeros(len(geoms), dtype=bool)
    part = shapely.area(shapely.intersection(geoms[candidates], outline))
    inside[candidates] = part > min_inside * shapely.area(geoms[candidates])
    return inside


def join_returns(
    wide: pd.DataFrame,
    layer: gpd.GeoDataFrame,
    boundary: gpd.GeoDataFrame | None = None,
    *,
    infer: bool = True,
    crosswalk: pd.DataFrame | None = None,
    min_inside: float = 0.5,
    max_number_gap: float = 100,
    method: str = "local",
) -> gpd.GeoDataFrame:
    """One feature per result precinct with votes, shares, margin, winner and ``match``.

    ``wide`` is :func:`explorer.loaders.wide_returns` output; ``layer`` has ``precinct`` and
    geometry. Result precincts with no geometry are kept, with an empty geometry and
    ``match == "none"``. ``attrs`` carries ``notes``, ``unassigned`` (in-district polygons
    that no result precinct took) and ``candidates``.
    """
    notes = list(wide.attrs.get("notes", [])) + list(layer.attrs.get("notes", []))
    layer = dissolve_duplicate_ids(layer)
    notes += [n for n in layer.attrs.get("notes", []) if n not in notes]
    wide = wide.copy()
    fixes = restore_leading_zeros(wide.index, layer["precinct"])
    if fixes:
        wide = wide.rename(index=fixes)
        wide = wide.groupby(level=0).sum()
        notes.append(f"restored leading zeros on {len(fixes)} result precinct ID(s)")
    ids = layer["precinct"].to_numpy(dtype=object)
    position = {precinct: i for i, precinct in enumerate(ids)}
    owner = np.full(len(ids), None, dtype=object)
    match = pd.Series("none", index=wide.index, dtype=object)

    if crosswalk is not None:
        unknown = ~crosswalk["layer_precinct"].isin(position)
        if unknown.any():
            row = crosswalk[unknown].iloc[0]
            raise ExplorerError(
                f"line {row['_line']}: layer precinct {row['layer_precinct']} is not in the layer",
                source="crosswalk",
                hint="check the crosswalk against the precinct layer",
            )
        for result, layer_id in zip(crosswalk["result_precinct"], crosswalk["layer_precinct"]):
            if result in match.index:
                owner[position[layer_id]] = result
                match[result] = "crosswalk"
    else:
        exact = [p for p in wide.index if p in position]
        for precinct in exact:
            owner[position[precinct]] = precinct
        match[exact] = "exact"
        wanting = {}
        for precinct in wide.index[match == "none"]:
            wanting.setdefault(base_number(precinct), []).append(precinct)
        layer_base = np.array([base_number(i) for i in ids], dtype=object)
        contested = 0
        for index in np.flatnonzero(owner == None):  # noqa: E711
            claimants = wanting.get(layer_base[index])
            if claimants:
                contested += len(claimants) > 1
                owner[index] = min(claimants)
                match[min(claimants)] = "base"
        if contested:
            notes.append(
                f"{contested} polygon(s) wanted by two result precincts went to the lower ID"
            )

    claimed = owner != None  # noqa: E711 (before any inference)
    inferred_polygon = np.zeros(len(ids), dtype=bool)
    area_layer = to_equal_area(layer)
    unassigned: list[str] = []
    eligible = np.zeros(len(ids), dtype=bool)
    if boundary is not None:
        eligible = in_district(area_layer, to_equal_area(boundary, area_layer.crs), min_inside)
    if boundary is not None and infer and crosswalk is None and method == "nearest-number":
        unmatched = np.array(sorted(match.index[match == "none"]), dtype=object)
        owner, seeded = inference.legacy_seed(owner, eligible, ids, unmatched, max_number_gap)
        match[seeded] = "inferred"
        owner = inference.legacy_absorb(owner, eligible, area_layer.geometry.values, ids)
        inferred_polygon = (owner != None) & eligible & ~claimed  # noqa: E711
        features = _dissolve_owned(layer, owner, inferred_polygon, wide, match)
    else:
        use = boundary is not None and infer and crosswalk is None
        assignment = inference.infer_units(
            owner,
            match,
            eligible if use else np.zeros(len(ids), dtype=bool),
            area_layer.geometry.values,
            ids,
            max_number_gap=max_number_gap,
            pool=use,
        )
        owner = assignment.owner
        features = inference.unit_features(layer, assignment, wide)
    if boundary is not None:
        unassigned = sorted(ids[eligible & (owner == None)])  # noqa: E711
    result_votes = features.attrs.get("result_votes")
    features.attrs = {"notes": notes, "unassigned": unassigned}
    if result_votes is not None:
        features.attrs["result_votes"] = result_votes
    return add_result_columns(features, [c for c in wide.columns if c != "total"])


def _dissolve_owned(layer, owner, inferred_polygon, wide, match) -> gpd.GeoDataFrame:
    owned = owner != None  # noqa: E711
    member_ids = layer["precinct"].to_numpy()[owned]
    pieces = gpd.GeoDataFrame(
        {
            "precinct": owner[owned],
            "member": member_ids,
            "inferred_member": np.where(inferred_polygon[owned], member_ids, ""),
        },
        geometry=layer.geometry.values[owned],
        crs=layer.crs,
    )
    joined = lambda s: ",".join(sorted(v for v in s if v))  # noqa: E731
    grouped = pieces.dissolve("precinct", aggfunc={"member": joined, "inferred_member": joined})
    geometry = grouped.geometry.reindex(wide.index)
    members = grouped["member"].reindex(wide.index).fillna("")
    inferred_members = grouped["inferred_member"].reindex(wide.index).fillna("")
    features = gpd.GeoDataFrame(
        {
            "precinct": wide.index.to_numpy(),
            "match": match.reindex(wide.index).to_numpy(),
            "members": members.to_numpy(),
            "n_members": members.str.count(",").to_numpy() + (members != "").to_numpy(),
            "inferred_members": inferred_members.to_numpy(),
        },
        geometry=gpd.GeoSeries(geometry.to_numpy(), crs=layer.crs),
        crs=layer.crs,
    )
    for column in wide.columns:
        features[column] = wide[column].to_numpy()
    return features


def add_result_columns(frame: pd.DataFrame, candidates: list[str]) -> pd.DataFrame:
    """Add ``total``, ``winner``, ``winner_share`` and the two-way ``margin``.

    The margin is (first - second) / (first + second) for the two candidates with the
    most votes overall, so it is comparable across areas: positive favours the first.
    """
    votes = frame[candidates].to_numpy(dtype=float)
    total = votes.sum(axis=1)
    whole = len(frame) and np.array_equal(total, np.round(total))
    frame["total"] = total.astype("int64") if whole else total
    top = np.argmax(votes, axis=1) if len(candidates) else np.zeros(len(frame), int)
    has_votes = votes.sum(axis=1) > 0
    ties = (votes == votes.max(axis=1, keepdims=True)).sum(axis=1) > 1
    frame["winner"] = np.where(
        has_votes, np.where(ties, "tie", np.array(candidates, dtype=object)[top]), ""
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["winner_share"] = np.where(has_votes, votes.max(axis=1) / votes.sum(axis=1), np.nan)
        if len(candidates) >= 2:
            first, second = frame[candidates[0]], frame[candidates[1]]
            two_way = (first + second).astype(float)
            frame["margin"] = np.where(two_way > 0, (first - second) / two_way, np.nan)
    frame.attrs["candidates"] = list(candidates)
    return frame


def vote_ledger(features: pd.DataFrame, totals: pd.Series | None = None) -> pd.DataFrame:
    """For every candidate: returns = sum of the mapped classes + unmapped.

    Rows are candidates plus ``total``; columns are ``returns``, one per match class,
    ``unmapped`` (class ``none``), ``mapped``, and, when the district totals file is
    given, ``district_totals`` and ``difference`` (returns minus district totals).
    """
    candidates = features.attrs["candidates"]
    by_class = features.groupby("match")[candidates].sum().T
    by_class = by_class.reindex(columns=list(MATCH_CLASSES), fill_value=0)
    ledger = pd.DataFrame(index=pd.Index(candidates, name="candidate"))
    ledger["returns"] = features[candidates].sum().to_numpy()
    for name in MATCH_CLASSES[:-1]:
        ledger[name] = by_class[name].to_numpy()
    ledger["unmapped"] = by_class["none"].to_numpy()
    ledger["mapped"] = ledger[list(MATCH_CLASSES[:-1])].sum(axis=1)
    ledger.loc["total"] = ledger.sum()
    if totals is not None:
        only_in_totals = [c for c in totals.index if c not in ledger.index]
        if only_in_totals:  # a candidate the district file lists but no precinct row names
            extra = pd.DataFrame(0, index=only_in_totals, columns=ledger.columns)
            ledger = pd.concat([ledger.drop(index="total"), extra, ledger.loc[["total"]]])
            ledger.index.name = "candidate"
        ledger["district_totals"] = totals.reindex(ledger.index).to_numpy()
        ledger.loc["total", "district_totals"] = totals.sum()
        ledger["difference"] = ledger["returns"] - ledger["district_totals"]
    if "crosswalk" in ledger and not ledger["crosswalk"].any():
        ledger = ledger.drop(columns="crosswalk")
    balance = ledger["returns"] - ledger["mapped"] - ledger["unmapped"]
    if balance.abs().max() != 0:  # cannot happen unless the code above is wrong
        raise AssertionError(f"ledger does not balance: {balance.to_dict()}")
    return ledger.astype("Int64")


def ledger_summary(features: pd.DataFrame) -> dict:
    """The ledger in a few plain numbers, for map credits and method notes."""
    total = int(features["total"].sum())
    by_class = features.groupby("match")["total"].sum()
    mapped = int(total - by_class.get("none", 0))
    unmapped = features.loc[features["match"] == "none"]
    return {
        "votes": total,
        "mapped": mapped,
        "mapped_share": mapped / total if total else np.nan,
        "by_class": {k: int(by_class.get(k, 0)) for k in MATCH_CLASSES},
        "inferred": int(by_class.get("inferred", 0)),
        "unmapped_precincts": unmapped["precinct"].tolist(),
        "unmapped_votes": int(unmapped["total"].sum()),
        "unassigned_polygons": list(features.attrs.get("unassigned", [])),
    }


def describe_ledger(summary: dict) -> str:
    """One sentence: how many votes are mapped and how many rest on inferred geography."""
    votes, mapped, inferred = summary["votes"], summary["mapped"], summary["inferred"]
    if not votes:
        return "No votes."
    text = (
        f"{mapped:,} of {votes:,} votes ({mapped / votes:.1%}) are mapped; "
        f"{inferred:,} ({inferred / votes:.1%}) rest on inferred geography"
    )
    pooled = summary["by_class"].get("pooled", 0)
    if pooled:
        text += f"; {pooled:,} ({pooled / votes:.1%}) are drawn in pooled units"
    unmapped = summary["unmapped_precincts"]
    if unmapped:
        text += f"; {summary['unmapped_votes']:,} in {len(unmapped)} precinct(s) have no geography"
    return text + "."
