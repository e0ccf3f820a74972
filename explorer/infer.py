"""Stage 3b, infer: geometry for result precincts whose ID is not in the layer.

Called by :func:`explorer.join.join_returns` after exact and base matching.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

SHARED_EDGE_METRES = 1.0
#: two polygons closer than this count as touching (slivers and digitising gaps)
TOUCH_METRES = 10.0
#: a unit farther than this from its numeric neighbours' polygons says so in its reason
FAR_METRES = 2000.0
#: a polygon the published line puts out counts as a notch only if the line cuts it
MIN_CUT = 0.1


def _numeric(precinct_id: str) -> float:
    digits = re.sub(r"\D", "", precinct_id)
    return float(digits) if digits else np.inf


def shared_edges(geoms: np.ndarray, among: np.ndarray | None = None) -> pd.DataFrame:
    """Pairs of polygons (i < j) that share an edge, with the shared length in metres;
    with ``among`` (a boolean mask), only pairs with at least one polygon in it (absorption
    only ever crosses an edge of an eligible polygon: the district's 821 pairs, not the
    county's 12,098)."""
    tree = shapely.STRtree(geoms)
    if among is None:
        left, right = tree.query(geoms, predicate="intersects")
        keep = left < right
        left, right = left[keep], right[keep]
    else:
        chosen = np.flatnonzero(among)
        left, right = tree.query(geoms[chosen], predicate="intersects")
        left = chosen[left]
        low, high = np.minimum(left, right), np.maximum(left, right)
        keep = low != high
        left, right = np.unique(np.stack([low[keep], high[keep]]), axis=1)
    boundaries = shapely.boundary(geoms)
    length = shapely.length(shapely.intersection(boundaries[left], boundaries[right]))
    edge = length > SHARED_EDGE_METRES
    return pd.DataFrame({"a": left[edge], "b": right[edge], "length": length[edge]})


def legacy_absorb(owner: np.ndarray, eligible: np.ndarray, geoms: np.ndarray, ids: np.ndarray):
    """The pre-#13 rule (kept for the backtest baseline, ``method="nearest-number"``):
    unowned eligible polygons go to adjacent owners by closest number, round by round."""
    edges = shared_edges(geoms)
    both = pd.concat([edges, edges.rename(columns={"a": "b", "b": "a"})], ignore_index=True)
    number = np.array([_numeric(i) for i in ids])
    owner = owner.copy()
    owner_number = {}
    while True:
        open_polygons = (owner == None) & eligible  # noqa: E711 (object array)
        pairs = both[open_polygons[both["a"].to_numpy()]]
        neighbour_owner = owner[pairs["b"].to_numpy()]
        pairs = pairs[neighbour_owner != None].assign(  # noqa: E711
            result=neighbour_owner[neighbour_owner != None]  # noqa: E711
        )
        if pairs.empty:
            return owner
        for result in pairs["result"].unique():
            owner_number.setdefault(result, _numeric(result))
        pairs = pairs.assign(
            distance=np.abs(number[pairs["a"].to_numpy()] - pairs["result"].map(owner_number)),
        )
        pairs = pairs.groupby(["a", "result"], as_index=False).agg(
            distance=("distance", "first"), length=("length", "sum")
        )
        best = pairs.sort_values(
            ["a", "distance", "length", "result"], ascending=[True, True, False, True]
        ).drop_duplicates("a")
        owner[best["a"].to_numpy()] = best["result"].to_numpy()


def legacy_seed(owner, eligible, ids, unmatched, max_gap: float):
    """The pre-#13 rule (backtest baseline): each unmatched result precinct takes the
    closest-numbered unclaimed polygon."""
    free = np.flatnonzero(eligible & (owner == None))  # noqa: E711
    if not len(free) or not len(unmatched):
        return owner, []
    polygon_number = np.array([_numeric(ids[i]) for i in free])
    result_number = np.array([_numeric(r) for r in unmatched])
    gap = np.abs(result_number[:, None] - polygon_number[None, :])
    result_index, polygon_index = np.nonzero(gap <= max_gap)
    order = np.lexsort((polygon_index, result_index, gap[result_index, polygon_index]))
    owner = owner.copy()
    seeded, taken = [], set()
    for r, p in zip(result_index[order], polygon_index[order]):
        if unmatched[r] in taken or free[p] in taken:
            continue
        owner[free[p]] = unmatched[r]
        taken.update((unmatched[r], free[p]))
        seeded.append(unmatched[r])
    return owner, seeded


def _base(precinct_id: str) -> str:
    """As :func:`explorer.join.base_number`: '' for IDs without a numeric stem."""
    base = re.sub(r"[A-Z]+$", "", precinct_id).rstrip(" -_.")
    return base if re.search(r"\d$", base) else ""


_ID_PARTS = re.compile(r"^(.*?)(\d{1,4})([A-Z]*)$")


def prefix(precinct_id: str) -> str:
    """The jurisdiction prefix: the ID without its last four digits and suffix letters
    ('9000123B' -> '900', the City of LA in LA County's scheme; '0123' -> '')."""
    found = _ID_PARTS.match(precinct_id)
    return found.group(1) if found else precinct_id


_LA_STYLE = re.compile(r"^\d+[A-Z]*$")


def readable_prefix(precinct_id: str) -> bool:
    """Whether :func:`prefix` reads a jurisdiction prefix from the ID: digits (more than
    four) then suffix letters, as '9000123B'; not 'LA-9000051A', '9000053A1' or
    '9000052A-', whose "prefix" would be nonsense in a reason."""
    found = _LA_STYLE.match(precinct_id)
    return bool(found) and len(precinct_id.rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")) > 4


@dataclass
class Assignment:
    """What inference decided: ``owner`` (polygon -> unit key or None), ``unit`` (result
    precinct -> unit key), ``match`` and ``reason`` per result precinct, ``absorbed``
    (polygons a unit took because no result precinct carried them)."""

    owner: np.ndarray
    unit: dict
    match: dict
    reason: dict
    absorbed: np.ndarray


class _Pools:
    """Union-find over result precincts (a pooled unit is one set)."""

    def __init__(self):
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        self.parent.setdefault(item, item)
        while self.parent[item] != item:
            self.parent[item] = self.parent[self.parent[item]]
            item = self.parent[item]
        return item

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _neighbours(sorted_ids: list, numbers: dict, precinct: str):
    """The result precincts with geometry numbered just below and just above ``precinct``
    within its prefix (either may be None)."""
    k = bisect.bisect_left(sorted_ids, (prefix(precinct), numbers[precinct], precinct))
    below = sorted_ids[k - 1] if k > 0 else None
    above = sorted_ids[k] if k < len(sorted_ids) else None
    pre = prefix(precinct)
    below = below[2] if below and below[0] == pre else None
    above = above[2] if above and above[0] == pre else None
    return below, above


def infer_units(
    owner: np.ndarray,
    match: pd.Series,
    eligible: np.ndarray,
    geoms: np.ndarray,
    ids: np.ndarray,
    *,
    max_number_gap: float = 100,
    touch_metres: float = TOUCH_METRES,
    pool: bool = True,
    places: np.ndarray | None = None,
    absorb: bool = True,
) -> Assignment:
    """Units for the result precincts that :func:`explorer.join.join_returns` could not
    match by ID (``match == "none"``), using only local evidence.

    ``owner`` maps each layer polygon (``ids``, equal-area ``geoms``) to the result
    precinct that already holds it (exact, base or crosswalk) or None. For each unmatched
    result precinct, its *numeric neighbours* are the result precincts with geometry
    numbered just below and above it within the same prefix (:func:`prefix`):

    1. ``inferred``: a free in-district polygon with the same prefix, numbered within
       ``max_number_gap``, that touches (within ``touch_metres``) a polygon held by a
       numeric neighbour; closest numbers first, one polygon per precinct;
    2. ``pooled``: otherwise its area is most likely held by a neighbour (a split,
       rename or reshuffle): it shares the polygons of a neighbour with the same base
       number if there is one, else of its numeric neighbours (both, when both exist and
       touch each other; else the closer-numbered one), drawn as one unit with their
       combined votes;
    3. ``none``: no neighbour with geometry in its prefix.

    Free in-district polygons left over join the adjacent unit with the same prefix and
    the closest number (then the longest shared edge), round by round; the unit is
    flagged ``absorbed`` (not with ``absorb=False``: they stay free). ``eligible`` marks
    the in-district polygons.
    """
    owner = owner.copy()
    before = owner != None  # noqa: E711 (object array)
    numbers = {p: _numeric(p) for p in match.index}
    layer_numbers = np.array([_numeric(i) for i in ids])
    layer_prefix = np.array([prefix(i) for i in ids], dtype=object)
    held: dict[str, list[int]] = {}
    for index in np.flatnonzero(before):
        held.setdefault(owner[index], []).append(index)
    located = sorted((prefix(p), numbers[p], p) for p in held)
    is_place = np.ones(len(match), dtype=bool) if places is None else np.asarray(places)
    unmatched = sorted(match.index[(match == "none").to_numpy() & is_place])
    reason = {p: _matched_reason(p, match[p], [ids[i] for i in held.get(p, [])]) for p in held}
    result_match = {p: match[p] for p in held}
    for p in match.index[~is_place]:
        result_match[p] = "none"
        reason[p] = "a county-wide row (not a place): never takes a polygon"
    pools = _Pools()
    neighbours = {p: _neighbours(located, numbers, p) for p in unmatched}

    def near(indices, targets):
        if not targets:
            return np.zeros(len(indices), dtype=bool)
        target = shapely.union_all(geoms[targets])
        return shapely.dwithin(geoms[indices], target, touch_metres)

    # 1. local seeds: free polygons touching a numeric neighbour's polygons
    free = np.flatnonzero(eligible & ~before)
    offers = []
    for p in unmatched:
        near_ids = [n for n in neighbours[p] if n]
        if not near_ids or not len(free):
            continue
        same = free[(layer_prefix[free] == prefix(p))]
        same = same[np.abs(layer_numbers[same] - numbers[p]) <= max_number_gap]
        if not len(same):
            continue
        touching = same[near(same, [i for n in near_ids for i in held[n]])]
        for index in touching:
            offers.append((abs(layer_numbers[index] - numbers[p]), p, index))
    taken: set = set()
    for gap, p, index in sorted(offers):
        if p in taken or index in taken:
            continue
        taken.update((p, index))
        owner[index] = p
        result_match[p] = "inferred"
        near_ids = " and ".join(n for n in neighbours[p] if n)
        reason[p] = (
            f"no polygon has its ID; took free polygon {ids[index]} ({gap:g} apart in "
            f"number, same prefix), touching its numeric neighbours {near_ids}"
        )
    # 2. pooled with the numeric neighbours, 3. none
    for p in unmatched:
        if p in result_match:
            continue
        below, above = neighbours[p]
        if not pool or (below is None and above is None):
            result_match[p] = "none"
            why = (
                "inference is off (no district, or a crosswalk)"
                if not pool
                else "no result precinct with "
                + (f"prefix {prefix(p)}" if readable_prefix(p) else "a comparable ID")
                + " has geometry"
            )
            reason[p] = f"no polygon carries ID {p} and {why}: votes kept in the ledger, not mapped"
            continue
        partners = [n for n in (below, above) if n]
        same_base = [n for n in partners if _base(p) and _base(n) == _base(p)]
        if same_base:  # a sibling suffix of the same base precinct holds polygons
            partners = same_base[:1]
        elif len(partners) == 2 and not near(np.array(held[below]), held[above]).any():
            partners = [min(partners, key=lambda n: (abs(numbers[n] - numbers[p]), n))]
        for partner in partners:
            pools.union(p, partner)
        result_match[p] = "pooled"
        reason[p] = (
            f"no polygon has its ID; its area is most likely held by its numeric "
            f"neighbour {' or '.join(partners)} (split, renamed or reshuffled)"
        )
    unit = {p: pools.find(p) for p in result_match}
    for index in np.flatnonzero(owner != None):  # noqa: E711
        owner[index] = unit[owner[index]]
    # leftover free polygons: absorbed by adjacent units of the same prefix
    if absorb:  # off for an election given without a district: free polygons are listed
        owner = _absorb(owner, eligible, geoms, ids)
    seeded = np.zeros(len(owner), dtype=bool)
    seeded[[i for i in taken if not isinstance(i, str)]] = True
    absorbed = (owner != None) & ~before & eligible & ~seeded  # noqa: E711
    _say_when_far(owner, unit, result_match, reason, geoms, held, located, numbers)
    return Assignment(owner, unit, result_match, reason, absorbed)


def _say_when_far(owner, unit, match, reason, geoms, held, located, numbers) -> None:
    """Add to the reason of every ``base``, ``pooled`` or ``inferred`` result precinct whose
    unit lies more than ``FAR_METRES`` from the polygons of its numeric neighbours (the
    result precincts of its prefix numbered just below and just above it that hold polygons
    by ID), so that no
    unit is placed far from where its neighbours are without saying so."""
    placed = [p for p, k in match.items() if k in ("base", "pooled", "inferred")]
    if not placed:
        return
    shapes = {}
    for key in {unit[p] for p in placed}:
        mine = np.flatnonzero(owner == key)
        shapes[key] = shapely.union_all(geoms[mine]) if len(mine) else None
    for p in placed:
        shape = shapes[unit[p]]
        k = bisect.bisect_left(located, (prefix(p), numbers[p], p))
        above = k + 1 if k < len(located) and located[k][2] == p else k
        near = [
            located[i][2]
            for i in (k - 1, above)
            if 0 <= i < len(located) and located[i][0] == prefix(p)
        ]
        if shape is None or not near:
            continue
        gap = min(float(shapely.distance(shape, shapely.union_all(geoms[held[n]]))) for n in near)
        if gap > FAR_METRES:
            reason[p] += (
                f"; placed {gap / 1000:.1f} km from the polygons of its numeric neighbours "
                f"{' and '.join(near)} (more than {FAR_METRES / 1000:g} km"
                + ("" if match[p] == "base" else ": a guess to treat with care")
                + ")"
            )


def _matched_reason(precinct: str, klass: str, polygons: list) -> str:
    if klass == "exact":
        return "a polygon in the layer has its ID"
    if klass == "base":
        return f"no polygon has its ID; {', '.join(sorted(polygons))} share its base number"
    return f"the crosswalk names polygon(s) {', '.join(sorted(polygons))}"


def _absorb(owner, eligible, geoms, ids):
    """Give unowned eligible polygons to adjacent units, same prefix and closest number
    first, then the longest shared edge, round by round (a run of free polygons fills
    from its edges inward)."""
    edges = shared_edges(geoms, among=np.asarray(eligible, dtype=bool))
    both = pd.concat([edges, edges.rename(columns={"a": "b", "b": "a"})], ignore_index=True)
    number = np.array([_numeric(i) for i in ids])
    polygon_prefix = np.array([prefix(i) for i in ids], dtype=object)
    owner = owner.copy()
    while True:
        open_polygons = (owner == None) & eligible  # noqa: E711 (object array)
        pairs = both[open_polygons[both["a"].to_numpy()]]
        neighbour_owner = owner[pairs["b"].to_numpy()]
        has = neighbour_owner != None  # noqa: E711
        pairs = pairs[has].assign(result=neighbour_owner[has])
        if pairs.empty:
            return owner
        keys = pairs["result"].unique()
        key_number = {k: _numeric(k.split("+")[0]) for k in keys}
        key_prefix = {k: prefix(k.split("+")[0]) for k in keys}
        a = pairs["a"].to_numpy()
        pairs = pairs.assign(
            other=polygon_prefix[a] != pairs["result"].map(key_prefix).to_numpy(),
            distance=np.abs(number[a] - pairs["result"].map(key_number).to_numpy()),
        )
        pairs = pairs.groupby(["a", "result"], as_index=False).agg(
            other=("other", "first"), distance=("distance", "first"), length=("length", "sum")
        )
        best = pairs.sort_values(
            ["a", "other", "distance", "length", "result"],
            ascending=[True, True, True, False, True],
        ).drop_duplicates("a")
        owner[best["a"].to_numpy()] = best["result"].to_numpy()


def unit_features(layer, assignment: Assignment, wide: pd.DataFrame) -> gpd.GeoDataFrame:
    """One feature per unit: a result precinct, or a pooled group of them, with its
    polygons dissolved and its votes summed.

    Columns: ``precinct`` (the result precinct, or the pooled members joined by ``+``),
    ``match`` (``pooled`` for a group, else the member's class), ``results`` (member
    result precincts, comma-separated), ``n_results``, ``members`` and ``n_members`` (layer
    polygons), ``inferred_members`` (polygons absorbed because no result precinct carried
    them), ``absorbed`` (bool), ``reason`` (in words) and the vote columns of ``wide``.
    Result precincts with no geometry keep a row of their own with class ``none``.
    """
    owner = assignment.owner
    unit_key = pd.Series({p: assignment.unit.get(p, p) for p in wide.index}, dtype=object).reindex(
        wide.index
    )
    klass = pd.Series({p: assignment.match.get(p, "none") for p in wide.index}).reindex(wide.index)
    unit_key[klass == "none"] = [f"none:{p}" for p in unit_key.index[klass == "none"]]
    owned = owner != None  # noqa: E711
    ids = layer["precinct"].to_numpy()
    pieces = gpd.GeoDataFrame(
        {
            "unit": owner[owned],
            "member": ids[owned],
            "absorbed_member": np.where(assignment.absorbed[owned], ids[owned], ""),
        },
        geometry=layer.geometry.values[owned],
        crs=layer.crs,
    )
    joined = lambda s: ",".join(sorted(v for v in s if v))  # noqa: E731
    grouped = pieces.dissolve("unit", aggfunc={"member": joined, "absorbed_member": joined})
    votes = wide.groupby(unit_key.to_numpy(), sort=False).sum()
    results = pd.Series(wide.index, index=wide.index).groupby(unit_key.to_numpy(), sort=False)
    rows = []
    for key, members in results:
        members = sorted(members)
        pooled = len(members) > 1
        if pooled:
            names = ", ".join(members)
            why = f"pooled unit of {len(members)} result precincts ({names}): " + "; ".join(
                f"{m}: {assignment.reason[m]}"
                for m in members
                if assignment.match.get(m) in ("pooled", "base", "inferred")
            )
        else:
            why = assignment.reason.get(members[0], "no geometry")
        rows.append(
            {
                "key": key,
                "precinct": "+".join(members),
                "match": "pooled" if pooled else klass[members[0]],
                "results": ",".join(members),
                "n_results": len(members),
                "reason": why,
            }
        )
    frame = pd.DataFrame(rows).set_index("key")
    members = grouped["member"].reindex(frame.index).fillna("")
    absorbed = grouped["absorbed_member"].reindex(frame.index).fillna("")
    frame["members"] = members
    frame["n_members"] = members.str.count(",") + (members != "")
    frame["inferred_members"] = absorbed
    frame["absorbed"] = absorbed != ""
    frame["reason"] = np.where(
        frame["absorbed"],
        frame["reason"]
        + "; absorbed free polygon(s) "
        + absorbed
        + " that no result precinct carries",
        frame["reason"],
    )
    features = gpd.GeoDataFrame(
        frame.reset_index(drop=True),
        geometry=gpd.GeoSeries(grouped.geometry.reindex(frame.index).to_numpy(), crs=layer.crs),
        crs=layer.crs,
    )
    for column in wide.columns:
        features[column] = votes.loc[frame.index, column].to_numpy()
    row = pd.Series(np.arange(len(frame)), index=frame.index)
    result_votes = wide.copy()
    result_votes.insert(0, "unit", row.loc[unit_key.to_numpy()].to_numpy())
    result_votes.insert(1, "klass", klass.to_numpy())
    features.attrs["result_votes"] = result_votes
    return features


def surrounded(held: np.ndarray, geoms: np.ndarray, share: float = 0.5) -> np.ndarray:
    """The district of an election given without one: the ``held`` polygons (matched by
    ID) and the free polygons sharing more than ``share`` of their perimeter with them
    (gaps and notches among the election's own precincts), as a boolean mask over the
    equal-area ``geoms``. A free polygon at the outer edge stays out."""
    held = np.asarray(held, dtype=bool)
    near = shapely.dwithin(geoms, shapely.union_all(geoms[held]), 1.0) | held
    edges = shared_edges(geoms, among=near)
    both = pd.concat([edges, edges.rename(columns={"a": "b", "b": "a"})], ignore_index=True)
    a, b = both["a"].to_numpy(), both["b"].to_numpy()
    with_held = np.zeros(len(geoms))
    np.add.at(with_held, a[held[b]], both["length"].to_numpy()[held[b]])
    perimeter = shapely.length(shapely.boundary(geoms))
    return held | (near & (with_held > share * perimeter))


def precinct_membership(
    eligible: np.ndarray,
    held: np.ndarray,
    geoms: np.ndarray,
    boundary: np.ndarray,
    tolerance: float = 0.1,
    min_cut: float = MIN_CUT,
) -> tuple[np.ndarray, list[str]]:
    """In-district polygons decided at precinct resolution when the layer nests in the
    district: (mask, notes).

    ``eligible`` is the published-boundary rule (:func:`explorer.join.in_district`),
    ``held`` the polygons the election's own result precincts hold by ID (they are in the
    district whatever the line says), ``geoms`` the layer and ``boundary`` the published
    outline's geometries, both equal-area. The layer nests when the in-district polygons
    cover the boundary to within ``tolerance`` of its area (symmetric difference). Then, at
    the edges:

    * a free polygon the boundary puts in is kept only if it is connected to the held
      polygons through shared edges of in-district polygons (an island past the
      precincts' edge is out);
    * a free polygon the boundary puts out but cuts (``min_cut`` to ``min_inside`` of its
      area inside) is in when more than half of its perimeter is shared with held polygons
      (a notch the generalised line cut off). A polygon wholly outside the line stays out
      even when mostly surrounded: the line goes round it, so the district likely does.

    When the layer does not nest, ``eligible`` is returned unchanged.
    """
    eligible = np.asarray(eligible, dtype=bool)
    held = np.asarray(held, dtype=bool)
    if not held.any():
        return eligible, []
    outline = shapely.union_all(boundary)
    shape = shapely.union_all(geoms[held | eligible])
    difference = shapely.area(shapely.symmetric_difference(shape, outline)) / max(
        shapely.area(outline), 1.0
    )
    if difference > tolerance:
        return eligible, []
    touching = shapely.intersects(geoms, outline)
    edges = shared_edges(geoms, among=touching | eligible | held)
    both = pd.concat([edges, edges.rename(columns={"a": "b", "b": "a"})], ignore_index=True)
    a, b = both["a"].to_numpy(), both["b"].to_numpy()
    # notches: outside by the line, mostly surrounded by held polygons
    perimeter = shapely.length(shapely.boundary(geoms))
    with_held = np.zeros(len(geoms))
    np.add.at(with_held, a[held[b]], both["length"].to_numpy()[held[b]])
    cut = np.zeros(len(geoms))
    cut[touching] = shapely.area(shapely.intersection(geoms[touching], outline)) / np.maximum(
        shapely.area(geoms[touching]), 1.0
    )
    notch = (cut >= min_cut) & (cut > 0) & ~eligible & ~held & (with_held > 0.5 * perimeter)
    member = eligible | held | notch
    # islands: in by the line but not connected to the held polygons
    reached = held.copy()
    frontier = np.flatnonzero(held)
    inside = member[a] & member[b]
    while len(frontier):
        step = np.zeros(len(geoms), dtype=bool)
        step[frontier] = True
        nxt = b[inside & step[a] & ~reached[b]]
        nxt = np.unique(nxt)
        reached[nxt] = True
        frontier = nxt
    island = member & ~reached
    member &= ~island
    notes = []
    if notch.any():
        notes.append(
            f"{int(notch.sum())} polygon(s) outside the published district line but "
            "mostly surrounded by the election's own precincts count as in the district"
        )
    if island.any():
        notes.append(
            f"{int(island.sum())} polygon(s) inside the published district line but cut "
            "off from the election's own precincts count as outside it"
        )
    return member, notes


def precinct_outline(
    features: gpd.GeoDataFrame, boundary: gpd.GeoDataFrame, tolerance: float = 0.1
) -> gpd.GeoDataFrame | None:
    """The district at precinct resolution: the dissolved mapped units, when the precinct
    layer nests in the district, else None.

    The layer nests when the mapped area and the (generalised) published boundary differ
    by at most ``tolerance`` of the boundary's area (symmetric difference, equal-area CRS).
    Returns one feature with the boundary's ``district`` value and ``attrs["difference"]``
    (that share), so maps draw the edge the precincts really have.
    """
    from explorer.crs import to_equal_area

    mapped = features[~(features.geometry.is_empty | features.geometry.isna())]
    if mapped.empty:
        return None
    area = to_equal_area(mapped)
    shape = shapely.union_all(area.geometry.values)
    published = shapely.union_all(to_equal_area(boundary, area.crs).geometry.values)
    difference = shapely.area(shapely.symmetric_difference(shape, published)) / max(
        shapely.area(published), 1.0
    )
    if difference > tolerance:
        return None
    outline = gpd.GeoDataFrame(
        {"district": boundary["district"].to_numpy()[:1]}, geometry=[shape], crs=area.crs
    ).to_crs(boundary.crs)
    outline.attrs["difference"] = float(difference)
    return outline
