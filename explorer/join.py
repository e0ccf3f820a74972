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
follow them exactly). Without a boundary (an own election with no ``--district``) the
district is the polygons matched by ID (exact/base) and the free polygons sharing more than
half their perimeter with them (:func:`explorer.infer.surrounded`), so the same inference
and pooling run without reaching into the rest of a wider layer; free polygons left over are
listed as unassigned, not absorbed.
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
from explorer.loaders import normalise_ids, precinct_key, read_csv_text

MATCH_CLASSES = ("crosswalk", "exact", "base", "pooled", "inferred", "none")


def base_number(precinct_id: str) -> str:
    """The base precinct: the ID without trailing letters ('9000123B' -> '9000123').

    Only IDs with a numeric stem have a base: an all-letter ID such as 'PROV' or
    'AVERY CREEK' has none (''), so names never match each other by a shared stem.
    """
    base = re.sub(r"[A-Z]+$", "", precinct_id).rstrip(" -_.")
    return base if re.search(r"\d$", base) else ""


def _numeric(precinct_id: str) -> float:
    digits = re.sub(r"\D", "", precinct_id)
    return float(digits) if digits else np.inf


def restore_leading_zeros(result_ids: pd.Index, layer_ids: pd.Series) -> dict[str, str]:
    """Result IDs written differently from a layer ID of the same precinct number
    ('850001A' for '0850001A', '0101' for '101', 'PCT 2' for '2'), mapped to the layer
    ID. Only IDs whose number is unique on each side are repaired."""
    known = set(layer_ids)
    layer_keys = pd.Series(list(layer_ids), dtype=object)
    keys = layer_keys.map(precinct_key)
    unique = keys[~keys.duplicated(keep=False)]
    by_key = dict(zip(unique, layer_keys[unique.index]))
    wanting = [p for p in result_ids if p not in known]
    result_keys = pd.Series([precinct_key(p) for p in wanting], dtype=object)
    once = set(result_keys[~result_keys.duplicated(keep=False)])
    return {
        precinct: by_key[key]
        for precinct, key in zip(wanting, result_keys)
        if key in once and key in by_key and key
    }


_SHORT_SUFFIX = re.compile(r"^(.*?)(?:(?<=[A-Z])|[-_./ ])\d{1,2}$")


def suffixed_parent(precinct: str, layer: set) -> str:
    """The layer ID a result sub-precinct extends by a short number: '9000053A1' and
    '9000052A-01' -> '9000053A' and '9000052A' when those are polygons; '' otherwise.
    The number must follow a letter or a separator ('1011' is no child of '101')."""
    found = _SHORT_SUFFIX.match(precinct)
    parent = found.group(1).rstrip("-_./ ") if found else ""
    return parent if parent in layer else ""


def _sub_precinct_parents(
    result_ids: pd.Index, layer_ids: np.ndarray, skip: set[str]
) -> dict[str, str]:
    """Result sub-precincts ('1-80A', '1-80B') whose parent ID ('1-80') is a polygon in the
    layer: each mapped to its parent (which, when it is also a result precinct, then
    carries its own rows and its sub-precincts')."""
    layer = set(layer_ids)
    groups: dict[str, list[str]] = {}
    for precinct in result_ids:
        if precinct in layer or precinct in skip:
            continue
        parent = base_number(precinct)
        if not (parent and parent != precinct and parent in layer):
            parent = suffixed_parent(precinct, layer)
        if parent and parent != precinct and parent in layer:
            groups.setdefault(parent, []).append(precinct)
    return {child: parent for parent, children in groups.items() for child in children}


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


def _stop_if_nothing_matches(match: pd.Series, layer_ids, share: float, id_field: str) -> None:
    """Refuse a join where (almost) no result precinct finds its polygon by ID: one line
    with example IDs from both sides and the layer field used."""
    considered = match.index
    matched = int((match != "none").sum())
    if not len(considered):
        raise ExplorerError(
            "the returns hold no precinct rows, only county-wide ones (PROV, ABSENTEE...)",
            source="returns",
            hint="nothing can be mapped; check --office or the file",
        )
    if matched >= max(1, share * len(considered)):
        return
    results = ", ".join(list(considered[:3]))
    polygons = ", ".join(list(layer_ids[:3]))
    raise ExplorerError(
        f"only {matched} of {len(considered)} result precincts match a polygon ID "
        f"(returns: {results}; layer field {id_field}: {polygons})",
        hint="check --precinct-id names the layer's precinct ID field, or give --crosswalk",
    )


def join_returns(
    wide: pd.DataFrame,
    layer: gpd.GeoDataFrame,
    boundary: gpd.GeoDataFrame | None = None,
    *,
    infer: bool = True,
    crosswalk: pd.DataFrame | None = None,
    min_inside: float = 0.5,
    max_number_gap: float = 100,
    min_id_match: float | None = None,
    method: str = "local",
) -> gpd.GeoDataFrame:
    """One feature per result precinct with votes, shares, margin, winner and ``match``.

    ``wide`` is :func:`explorer.loaders.wide_returns` output; ``layer`` has ``precinct`` and
    geometry. Result precincts with no geometry are kept, with an empty geometry and
    ``match == "none"``. IDs are compared as precinct numbers where they are written
    differently (leading zeros, 'PCT 2', '101.0'; noted), and a polygon whose ID is the
    parent of several result sub-precincts ('1-80' for '1-80A' and '1-80B') carries their
    sum (their IDs in ``parts``). County-wide rows (``wide.attrs["county_wide"]``) never
    take a polygon. With ``min_id_match`` (a share), fewer result precincts matching a
    polygon by ID than that share is refused with examples from both sides.

    ``attrs`` carries ``notes``, ``unassigned`` (in-district polygons that no result
    precinct took), ``candidates``, ``county_wide``, ``pseudo`` and ``renamed``.
    """
    notes = list(wide.attrs.get("notes", [])) + list(layer.attrs.get("notes", []))
    county_wide = [p for p in wide.attrs.get("county_wide", []) if p in wide.index]
    pseudo = list(wide.attrs.get("pseudo", []))
    layer = dissolve_duplicate_ids(layer)
    notes += [n for n in layer.attrs.get("notes", []) if n not in notes]
    wide = wide.copy()
    wide.attrs = {}
    renamed: dict[str, str] = {}
    parents: dict[str, str] = {}
    if crosswalk is None:
        places = wide.index[~wide.index.isin(county_wide)]
        fixes = restore_leading_zeros(places, layer["precinct"])
        if fixes:
            wide = wide.rename(index=fixes)
            wide = wide.groupby(level=0, sort=False).sum()
            renamed.update(fixes)
            example = next(iter(fixes.items()))
            zeros = all(new.lstrip("0") == old.lstrip("0") for old, new in fixes.items())
            notes.append(
                f"restored leading zeros on {len(fixes)} result precinct ID(s) "
                f"(e.g. {example[0]} -> {example[1]})"
                if zeros and all(len(new) > len(old) for old, new in fixes.items())
                else f"matched {len(fixes)} result precinct ID(s) to the layer by precinct "
                f"number (leading zeros, prefixes; e.g. {example[0]} -> {example[1]})"
            )
        parents = _sub_precinct_parents(wide.index, layer["precinct"].to_numpy(), set(county_wide))
        children: dict[str, list[str]] = {}
        for child, parent in parents.items():
            children.setdefault(parent, []).append(child)
        # a parent that is itself a result takes even one sub-precinct (its polygon is
        # matched exactly, so the sub-precinct would otherwise stay unmapped)
        # ... and a layer ID plus a short number ('9000052A-01') is that polygon's
        # sub-precinct even alone (base matching cannot reach it)
        carried = {
            p
            for p, cs in children.items()
            if len(cs) > 1 or p in wide.index or any(suffixed_parent(c, {p}) for c in cs)
        }
        parents = {c: p for p in carried for c in children[p]}
        if parents:
            example = next(iter(carried))
            own = [example] if example in wide.index else []
            wide = wide.rename(index=parents).groupby(level=0, sort=False).sum()
            renamed.update(parents)
            notes.append(
                f"{len(carried)} polygon(s) carry the sum of their result "
                f"sub-precincts (e.g. {example} = "
                f"{' + '.join([*own, *sorted(children[example])])})"
            )
    parts = pd.Series("", index=wide.index, dtype=object)
    for child, parent in parents.items():
        parts[parent] = ",".join(sorted(filter(None, [*parts[parent].split(","), child])))
    ids = layer["precinct"].to_numpy(dtype=object)
    position = {precinct: i for i, precinct in enumerate(ids)}
    owner = np.full(len(ids), None, dtype=object)
    match = pd.Series("none", index=wide.index, dtype=object)
    is_place = ~wide.index.isin(county_wide)

    if crosswalk is not None:
        unknown = ~crosswalk["layer_precinct"].isin(position)
        if unknown.any():
            row = crosswalk[unknown].iloc[0]
            raise ExplorerError(
                f"line {row['_line']}: layer precinct {row['layer_precinct']} is not in the layer",
                source="crosswalk",
                hint="check the crosswalk against the precinct layer",
            )
        wide_rows = crosswalk["result_precinct"].isin(county_wide)
        if wide_rows.any():  # a county-wide row (PROVISIONAL, AB...) is no place
            row = crosswalk[wide_rows].iloc[0]
            raise ExplorerError(
                f"line {row['_line']}: result precinct {row['result_precinct']} is a "
                "county-wide row (not a place) and cannot take a polygon",
                source="crosswalk",
                hint="remove that line from the crosswalk",
            )
        for result, layer_id in zip(crosswalk["result_precinct"], crosswalk["layer_precinct"]):
            if result in match.index:
                owner[position[layer_id]] = result
                match[result] = "crosswalk"
    else:
        # a county-wide row never takes a polygon, even one with the same ID
        exact = [p for p in wide.index[is_place] if p in position]
        for precinct in exact:
            owner[position[precinct]] = precinct
        match[exact] = "exact"
        wanting = {}
        for precinct in wide.index[(match == "none") & is_place]:
            base = base_number(precinct)
            if base:
                wanting.setdefault(base, []).append(precinct)
        layer_base = np.array([base_number(i) for i in ids], dtype=object)
        contested = 0
        for index in np.flatnonzero(owner == None):  # noqa: E711
            claimants = wanting.get(layer_base[index]) if layer_base[index] else None
            if claimants:
                contested += len(claimants) > 1
                owner[index] = min(claimants)
                match[min(claimants)] = "base"
        if contested:
            notes.append(
                f"{contested} polygon(s) wanted by two result precincts went to the lower ID"
            )
        if min_id_match is not None:
            _stop_if_nothing_matches(
                match[is_place],
                ids,
                min_id_match,
                str(layer.attrs.get("id_field", "precinct")),
            )

    claimed = owner != None  # noqa: E711 (before any inference)
    inferred_polygon = np.zeros(len(ids), dtype=bool)
    area_layer = to_equal_area(layer)
    unassigned: list[str] = []
    eligible = np.zeros(len(ids), dtype=bool)
    own_district = boundary is None and infer and crosswalk is None and claimed.any()
    if own_district:
        # no district given: the district is the polygons held by ID (exact/base) and the
        # free polygons they mostly surround, so inference and pooling run as with a
        # district without reaching into the rest of a wider layer; free polygons left over
        # are listed, not absorbed (a polygon with no result row, like a precinct with no
        # voters, is no evidence that the election covers it)
        eligible = inference.surrounded(claimed, area_layer.geometry.values)
        notes.append(
            "no district given: the district is the "
            f"{int(claimed.sum())} polygon(s) matched by ID and the "
            f"{int((eligible & ~claimed).sum())} free polygon(s) they mostly surround"
        )
    if boundary is not None:
        boundary_area = to_equal_area(boundary, area_layer.crs)
        eligible = in_district(area_layer, boundary_area, min_inside)
        if infer and crosswalk is None:  # precinct resolution at the edges (#13)
            eligible, edge_notes = inference.precinct_membership(
                eligible, claimed, area_layer.geometry.values, boundary_area.geometry.values
            )
            notes += edge_notes
    if (
        (boundary is not None or own_district)
        and infer
        and crosswalk is None
        and (method == "nearest-number")
    ):
        unmatched = np.array(sorted(match.index[(match == "none") & is_place]), dtype=object)
        owner, seeded = inference.legacy_seed(owner, eligible, ids, unmatched, max_number_gap)
        match[seeded] = "inferred"
        owner = inference.legacy_absorb(owner, eligible, area_layer.geometry.values, ids)
        inferred_polygon = (owner != None) & eligible & ~claimed  # noqa: E711
        features = _dissolve_owned(layer, owner, inferred_polygon, wide, match)
    else:
        use = (boundary is not None or own_district) and infer and crosswalk is None
        assignment = inference.infer_units(
            owner,
            match,
            eligible if use else np.zeros(len(ids), dtype=bool),
            area_layer.geometry.values,
            ids,
            max_number_gap=max_number_gap,
            pool=use,
            places=is_place,
            absorb=not own_district,
        )
        owner = assignment.owner
        features = inference.unit_features(layer, assignment, wide)
    if boundary is not None or own_district:
        unassigned = sorted(ids[eligible & (owner == None)])  # noqa: E711
    if parts.ne("").any():
        results = features["results"] if "results" in features else features["precinct"]
        unit_parts = [
            ",".join(filter(None, (parts.get(r, "") for r in str(members).split(","))))
            for members in results
        ]
        features.insert(features.columns.get_loc("members") + 1, "parts", unit_parts)
    result_votes = features.attrs.get("result_votes")
    features.attrs = {
        "notes": notes,
        "unassigned": unassigned,
        "county_wide": county_wide,
        "pseudo": pseudo,
        "renamed": renamed,
    }
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


def _pseudo_lines(features: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The pseudo-candidate lines (ballots cast, registered voters, the file's own totals,
    over/under votes...) by the match class of their precinct, labelled '[kind]'."""
    records = features.attrs.get("pseudo") or []
    if not records:
        return pd.DataFrame(columns=columns)
    renamed = features.attrs.get("renamed", {})
    match = dict(zip(features["precinct"], features["match"]))
    frame = pd.DataFrame(records, columns=["precinct", "kind", "votes"])
    frame["class"] = frame["precinct"].map(lambda p: match.get(renamed.get(p, p), "none"))
    table = frame.pivot_table(
        index="kind", columns="class", values="votes", aggfunc="sum", fill_value=0
    )
    lines = pd.DataFrame(0, index=[f"[{k}]" for k in table.index], columns=columns)
    lines["returns"] = table.sum(axis=1).to_numpy()
    for name in MATCH_CLASSES[:-1]:
        if name in table and name in lines:
            lines[name] = table[name].to_numpy()
    lines["unmapped"] = table["none"].to_numpy() if "none" in table else 0
    lines["mapped"] = lines["returns"] - lines["unmapped"]
    return lines


def vote_ledger(
    features: pd.DataFrame, totals: pd.Series | None = None, returns: pd.Series | None = None
) -> pd.DataFrame:
    """For every candidate: returns = sum of the mapped classes + unmapped.

    Rows are candidates plus ``total``; columns are ``returns``, one per match class,
    ``unmapped`` (class ``none``), ``mapped``, and, when the district totals file is
    given, ``district_totals`` and ``difference`` (returns minus district totals).
    ``returns`` (votes per candidate summed from the parsed returns file) is the column
    the classes must add up to: given it, a vote lost between the file and the map
    cannot balance. Pseudo-candidate lines of the file (``[ballots cast]``,
    ``[registered voters]``, ``[total]``, ``[under votes]``...) follow the ``total`` row,
    split the same way by their precinct's class; they are not votes for anyone and are
    not in ``total``.
    """
    candidates = features.attrs["candidates"]
    by_class = features.groupby("match")[candidates].sum().T
    by_class = by_class.reindex(columns=list(MATCH_CLASSES), fill_value=0)
    ledger = pd.DataFrame(index=pd.Index(candidates, name="candidate"))
    if returns is not None:
        ledger["returns"] = returns.reindex(candidates, fill_value=0).to_numpy()
    else:
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
    if balance.abs().max() != 0:
        lost = {k: int(v) for k, v in balance.items() if v}
        raise AssertionError(f"ledger does not balance against the returns file: {lost}")
    pseudo = _pseudo_lines(
        features, [c for c in ledger.columns if c not in ("district_totals", "difference")]
    )
    if len(pseudo):
        ledger = pd.concat([ledger, pseudo])
        ledger.index.name = "candidate"
    return ledger.astype("Int64")


def ledger_summary(features: pd.DataFrame) -> dict:
    """The ledger in a few plain numbers, for map credits and method notes.

    ``unmapped_precincts`` lists every result row without geometry, ``county_wide`` those of
    them that are county-wide rows (PROV, ABSENTEE...) rather than places."""
    total = int(features["total"].sum())
    by_class = features.groupby("match")["total"].sum()
    mapped = int(total - by_class.get("none", 0))
    unmapped = features.loc[features["match"] == "none"]
    county_wide = [
        p for p in features.attrs.get("county_wide", []) if p in set(unmapped["precinct"])
    ]
    wide_rows = unmapped["precinct"].isin(county_wide)
    # a listed precinct (--expected) with nothing counted and no polygon: not a place whose
    # votes lack geography, its own kind (expected, absent from the layer)
    absent = (
        unmapped["status"].eq("none") & unmapped["total"].eq(0)
        if "status" in unmapped
        else pd.Series(False, index=unmapped.index)
    )
    return {
        "votes": total,
        "mapped": mapped,
        "mapped_share": mapped / total if total else np.nan,
        "by_class": {k: int(by_class.get(k, 0)) for k in MATCH_CLASSES},
        "inferred": int(by_class.get("inferred", 0)),
        "unmapped_precincts": unmapped["precinct"].tolist(),
        "unmapped_votes": int(unmapped["total"].sum()),
        "listed_absent": unmapped.loc[absent & ~wide_rows, "precinct"].tolist(),
        "county_wide": county_wide,
        "county_wide_votes": int(unmapped.loc[wide_rows, "total"].sum()),
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
    county_wide = summary.get("county_wide", [])
    absent = summary.get("listed_absent", [])
    places = len(unmapped) - len(county_wide) - len(absent)
    if places:
        votes = summary["unmapped_votes"] - summary.get("county_wide_votes", 0)
        text += f"; {votes:,} in {places} precinct(s) have no geography"
    if absent:
        text += (
            f"; {len(absent)} listed precinct(s) with nothing counted are not in the layer "
            f"({', '.join(map(str, absent[:4]))}{', ...' if len(absent) > 4 else ''})"
        )
    if county_wide:
        text += (
            f"; {summary.get('county_wide_votes', 0):,} in {len(county_wide)} county-wide "
            f"row group(s) ({', '.join(county_wide[:4])}) belong to no place"
        )
    return text + "."
