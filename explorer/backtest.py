"""Analysis, backtest: score a join on data where the true geometry is known.

Two ways to know the truth:

* two real layers of the same places (LA County's June and November 2018 precincts): every
  polygon of the *truth* layer becomes a result precinct with votes, the returns are joined
  to the *other* layer, and every result precinct's joined unit is compared with its true
  polygon (:func:`two_layer_case`);
* simulated re-consolidation of any one layer: adjacent polygons are merged twice with
  different random draws into consolidated precincts named after a member, one draw as "the
  election" and one as "the layer", tuned to a chosen exact-match rate
  (:func:`reconsolidation_case`).

Votes are synthetic (:func:`synthetic_votes`): a fixed turnout per precinct (precincts are
drawn to similar numbers of voters) and a candidate share that varies smoothly over space
(a sum of long-wavelength waves), so neighbourhoods differ as they do in real elections.

:func:`score` prints the figures of issue #13: votes by class, the share of the votes that
need inference (no exact ID) landing in their true neighbourhood, centroid distances, and
per-neighbourhood share error (mean, max, winner flips, rank correlation).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from explorer.apportion import piece_areas
from explorer.crs import to_equal_area
from explorer.errors import ExplorerError
from explorer.ranges import LEVEL, coverage, ensemble, interval

CANDIDATES = ("Candidate A", "Candidate B")
#: voters per synthetic precinct
TURNOUT = 400


def synthetic_votes(truth: gpd.GeoDataFrame, seed: int = 0) -> pd.DataFrame:
    """Wide returns (one row per ``precinct`` of ``truth``, two candidate columns).

    Each precinct casts ``TURNOUT`` votes; candidate A's share is a logistic of a sum of
    three plane waves with 8-40 km wavelengths and random phases (``seed``), so the share
    changes smoothly across a county and neighbourhoods differ by up to ~40 points.
    """
    rng = np.random.default_rng(seed)
    area = to_equal_area(truth)
    centre = shapely.centroid(area.geometry.values)
    x, y = shapely.get_x(centre), shapely.get_y(centre)
    field_ = np.zeros(len(truth))
    for _ in range(3):
        wavelength = rng.uniform(8_000, 40_000)
        angle = rng.uniform(0, np.pi)
        phase = rng.uniform(0, 2 * np.pi)
        along = x * np.cos(angle) + y * np.sin(angle)
        field_ += np.sin(2 * np.pi * along / wavelength + phase)
    share = 1 / (1 + np.exp(-0.8 * field_))
    a = np.round(TURNOUT * share).astype("int64")
    wide = pd.DataFrame(
        {CANDIDATES[0]: a, CANDIDATES[1]: TURNOUT - a},
        index=pd.Index(truth["precinct"].to_numpy(), name="precinct"),
    )
    wide["total"] = TURNOUT
    return wide


@dataclass
class Case:
    """One backtest case: returns keyed by ``truth`` IDs, to be joined to ``layer``."""

    name: str
    truth: gpd.GeoDataFrame  # precinct, geometry: the result precincts' true polygons
    layer: gpd.GeoDataFrame  # precinct, geometry: the layer the returns are joined to
    wide: pd.DataFrame = field(default=None)  # type: ignore[assignment]

    def __post_init__(self):
        if self.wide is None:
            self.wide = synthetic_votes(self.truth)


def two_layer_case(
    truth: gpd.GeoDataFrame, layer: gpd.GeoDataFrame, name: str, within=None
) -> Case:
    """Returns keyed by ``truth``'s IDs, joined to ``layer``.

    ``within`` (a shapely geometry in the layers' CRS, optional) keeps only the truth
    polygons whose centre lies inside it (e.g. the City of LA) to make a smaller case.
    """
    truth = truth[truth["precinct"] != ""].dissolve("precinct", as_index=False)
    truth = truth[["precinct", "geometry"]]
    if within is not None:
        inside = shapely.contains(within, shapely.point_on_surface(truth.geometry.values))
        truth = truth[inside].reset_index(drop=True)
    return Case(name=name, truth=truth, layer=layer)


def _adjacency(layer: gpd.GeoDataFrame) -> dict[int, list[int]]:
    from explorer.infer import shared_edges

    edges = shared_edges(to_equal_area(layer).geometry.values)
    neighbours: dict[int, list[int]] = {}
    for a, b in zip(edges["a"], edges["b"]):
        neighbours.setdefault(int(a), []).append(int(b))
        neighbours.setdefault(int(b), []).append(int(a))
    return neighbours


def _groups(n: int, neighbours: dict, merge_rate: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    group = np.arange(n)
    size = np.ones(n, dtype=int)
    for i in rng.permutation(n):
        if size[group[i]] > 1 or rng.random() >= merge_rate:
            continue
        options = [j for j in neighbours.get(i, []) if size[group[j]] < 4]
        if not options:
            continue
        j = options[rng.integers(len(options))]
        size[group[j]] += 1
        group[i] = group[j]
    return group


def reconsolidate(
    layer: gpd.GeoDataFrame, merge_rate: float, seed: int, neighbours: dict | None = None
) -> gpd.GeoDataFrame:
    """Merge adjacent polygons into consolidated precincts named after their lowest member.

    Each polygon, in random order (``seed``), joins the group of a random edge-sharing
    neighbour with probability ``merge_rate`` (groups grow to at most 4 polygons), as county
    registrars consolidate base precincts for an election.
    """
    neighbours = _adjacency(layer) if neighbours is None else neighbours
    group = _groups(len(layer), neighbours, merge_rate, seed)
    frame = gpd.GeoDataFrame(
        {"group": group, "member": layer["precinct"].to_numpy()},
        geometry=layer.geometry.values,
        crs=layer.crs,
    )
    frame["precinct"] = frame.groupby("group")["member"].transform("min")
    return frame.dissolve("precinct", as_index=False)[["precinct", "geometry"]]


def reconsolidation_case(
    layer: gpd.GeoDataFrame, exact_rate: float, seed: int = 0, name: str = "simulated"
) -> tuple[Case, float]:
    """Two draws of :func:`reconsolidate` (seeds ``seed`` and ``seed + 1000``), the merge
    rate tuned by bisection so that the share of election precinct IDs found in the
    simulated layer is near ``exact_rate``. Returns the case and the rate reached."""
    layer = layer[layer["precinct"] != ""].dissolve("precinct", as_index=False)
    neighbours = _adjacency(layer)
    ids = layer["precinct"].to_numpy()

    def names(rate, draw):
        group = _groups(len(layer), neighbours, rate, draw)
        return pd.Series(ids).groupby(group).transform("min").to_numpy()

    low, high, best = 0.0, 1.0, None
    for _ in range(8):
        rate = (low + high) / 2
        election = set(names(rate, seed))
        reached = len(election & set(names(rate, seed + 1000))) / len(election)
        if best is None or abs(reached - exact_rate) < abs(best[1] - exact_rate):
            best = (rate, reached)
        low, high = (rate, high) if reached > exact_rate else (low, rate)
    rate, reached = best
    election = reconsolidate(layer, rate, seed, neighbours)
    joined = reconsolidate(layer, rate, seed + 1000, neighbours)
    return Case(name=name, truth=election, layer=joined), reached


def _distribution(units: gpd.GeoDataFrame, areas: gpd.GeoDataFrame):
    """Sparse-ish table: unit index, area index, share of the unit's area in that area."""
    source, target, piece = piece_areas(units, areas, engine="geos")
    whole = shapely.area(units.geometry.values)
    return pd.DataFrame({"unit": source, "area": target, "weight": piece / whole[source]})


def score(
    case: Case,
    features: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    min_votes: float = 1000,
) -> dict:
    """The backtest figures for ``features`` (a :func:`explorer.join.join_returns` result
    for ``case.wide`` on ``case.layer``) against the truth, on the target ``areas``.

    Returns a dict: ``votes_by_class``; ``needing`` (votes with no exact ID);
    ``right_area`` (share of those votes landing in their true area: for each result
    precinct, the overlap of its true and its joined distribution over the areas, votes
    weighted; unmapped votes count as wrong); ``centroid_km`` (median and 90th percentile
    distance between true and joined centroids for those votes); ``share_error`` (per-area
    absolute error of candidate A's share in percentage points: ``mean``, ``max``),
    ``winner_flips`` and ``rank_correlation`` (Spearman) over areas with at least
    ``min_votes`` true votes; ``far`` (units more than 2 km from the true polygon).
    """
    candidate = CANDIDATES[0]
    truth = to_equal_area(case.truth).reset_index(drop=True)
    crs = truth.crs
    targets = areas.to_crs(crs).reset_index(drop=True)
    feats = features.to_crs(crs).reset_index(drop=True)
    mapped = ~(feats.geometry.is_empty | feats.geometry.isna()).to_numpy()
    results_of = feats["results"] if "results" in feats else feats["precinct"]
    # result precinct -> unit row
    unit_of: dict[str, int] = {}
    for row, members in enumerate(results_of):
        for member in str(members).split(","):
            unit_of[member] = row
    classes = feats.set_index(feats.index)["match"].to_numpy()

    votes = case.wide.loc[truth["precinct"], "total"].to_numpy(dtype=float)
    a_votes = case.wide.loc[truth["precinct"], candidate].to_numpy(dtype=float)
    unit_row = np.array([unit_of.get(p, -1) for p in truth["precinct"]])
    klass = np.where(unit_row >= 0, classes[np.maximum(unit_row, 0)], "none")
    has_unit = (unit_row >= 0) & mapped[np.maximum(unit_row, 0)]
    klass = np.where(has_unit, klass, "none")
    layer_ids = set(case.layer["precinct"])
    needing = ~truth["precinct"].isin(layer_ids).to_numpy()

    true_dist = _distribution(truth, targets)
    unit_dist = _distribution(feats[mapped], targets)
    unit_dist["unit"] = np.flatnonzero(mapped)[unit_dist["unit"].to_numpy()]
    true_matrix = _dense(true_dist, len(truth), len(targets))
    unit_matrix = _dense(unit_dist, len(feats), len(targets))
    joined = np.zeros_like(true_matrix)
    joined[has_unit] = unit_matrix[unit_row[has_unit]]
    overlap = np.minimum(true_matrix, joined).sum(axis=1)
    right = float((overlap * votes)[needing].sum() / max(votes[needing].sum(), 1))
    right_by_class = {
        k: float(
            (overlap * votes)[needing & (klass == k)].sum() / votes[needing & (klass == k)].sum()
        )
        for k in np.unique(klass[needing])
    }

    true_centre = shapely.centroid(truth.geometry.values)
    unit_centre = shapely.centroid(feats.geometry.values)
    distance = np.full(len(truth), np.nan)
    distance[has_unit] = shapely.distance(true_centre[has_unit], unit_centre[unit_row[has_unit]])
    moved = distance[needing & has_unit] / 1000
    far_gap = np.full(len(truth), np.nan)
    far_gap[has_unit] = shapely.distance(
        truth.geometry.values[has_unit], feats.geometry.values[unit_row[has_unit]]
    )

    true_a = true_matrix.T @ a_votes
    true_total = true_matrix.T @ votes
    layer = to_equal_area(
        case.layer[case.layer["precinct"] != ""].dissolve("precinct", as_index=False)
    ).to_crs(crs)
    layer_matrix = _dense(_distribution(layer, targets), len(layer), len(targets))
    layer_row = pd.Series(np.arange(len(layer)), index=layer["precinct"].to_numpy())
    floor_matrix = true_matrix.copy()  # what no inference can remove (see limits)
    exact_rows = layer_row.reindex(truth["precinct"]).to_numpy()
    floor_matrix[~needing] = layer_matrix[exact_rows[~needing].astype(int)]
    local_best = _local_best(truth, layer, true_matrix, layer_matrix, needing, overlap)
    # the joined map: each unit's combined votes spread over its area
    unit_votes = np.zeros(len(feats))
    unit_a = np.zeros(len(feats))
    np.add.at(unit_votes, unit_row[has_unit], votes[has_unit])
    np.add.at(unit_a, unit_row[has_unit], a_votes[has_unit])
    join_a = unit_matrix.T @ unit_a
    join_total = unit_matrix.T @ unit_votes
    keep = true_total >= min_votes
    if not true_total.any():
        raise ExplorerError(
            f"backtest of {case.name}: no target area overlaps the layer, so there is "
            "nothing to score",
            hint="give areas that cover the layer with --neighbourhoods FILE "
            "(and --neighbourhood-name FIELD)",
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        true_share = true_a[keep] / true_total[keep]
        join_share = join_a[keep] / join_total[keep]
    error = np.abs(np.nan_to_num(join_share, nan=0.0) - true_share) * 100
    with np.errstate(invalid="ignore", divide="ignore"):
        floor_share = (floor_matrix.T @ a_votes)[keep] / (floor_matrix.T @ votes)[keep]
    floor_error = np.abs(np.nan_to_num(floor_share, nan=0.0) - true_share) * 100
    # plausible ranges (explorer.ranges) and how often they cover the truth
    changes = ensemble(features.reset_index(drop=True), areas, list(CANDIDATES))
    with np.errstate(invalid="ignore", divide="ignore"):
        drawn = (join_a[keep] + changes[:, keep, 0]) / (
            join_total[keep] + changes[:, keep, :].sum(axis=2)
        )
    low, high = interval(drawn, join_share)
    affected = error > 0.01
    from scipy.stats import spearmanr

    by_class = pd.Series(votes).groupby(klass).sum()
    return {
        "min_votes": min_votes,
        "case": case.name,
        "result_precincts": len(truth),
        "votes": int(votes.sum()),
        "votes_by_class": {k: int(v) for k, v in by_class.items()},
        "needing": int(votes[needing].sum()),
        "needing_precincts": int(needing.sum()),
        "right_area": right,
        "right_area_by_class": right_by_class,
        "centroid_km_median": float(np.median(moved)) if len(moved) else 0.0,
        "centroid_km_p90": float(np.percentile(moved, 90)) if len(moved) else 0.0,
        "far_2km": int(np.sum(far_gap[needing] > 2000)),
        "areas": int(keep.sum()),
        "share_error_mean": float(error.mean()) if len(error) else 0.0,
        "share_error_max": float(error.max()) if len(error) else 0.0,
        "share_error_floor": float(floor_error.mean()) if len(floor_error) else 0.0,
        "right_area_local_best": float(
            (local_best * votes)[needing].sum() / max(votes[needing].sum(), 1)
        ),
        "winner_flips": int(np.sum((true_share > 0.5) != (np.nan_to_num(join_share) > 0.5))),
        "rank_correlation": float(spearmanr(true_share, np.nan_to_num(join_share)).statistic),
        "has_ranges": "result_votes" in features.attrs,
        "range_coverage": coverage(low, high, true_share),
        "range_coverage_affected": coverage(low[affected], high[affected], true_share[affected]),
        "affected_areas": int(affected.sum()),
        "range_width_mean": float(np.mean(high - low) * 100),
    }


#: how far from its numeric neighbours' polygons :func:`_local_best` looks, metres
LOCAL_METRES = 2000


def _local_best(
    truth: gpd.GeoDataFrame,
    layer: gpd.GeoDataFrame,
    true_matrix: np.ndarray,
    layer_matrix: np.ndarray,
    needing: np.ndarray,
    overlap: np.ndarray,
) -> np.ndarray:
    """Per result precinct, the right-area overlap a rule could reach by local evidence
    if it knew the truth: the better of its joined unit's overlap and that of the best
    single layer polygon within :data:`LOCAL_METRES` of the polygons of its numeric
    neighbours (the precincts numbered just below and above it in its prefix whose ID
    the layer has). An upper bound for rules that place a precinct near its numeric
    neighbours (as :mod:`explorer.infer` does), not for rules with other evidence."""
    from explorer.infer import _neighbours, _numeric, prefix

    ids = truth["precinct"].to_numpy()
    row_of = {p: i for i, p in enumerate(layer["precinct"])}
    numbers = {p: _numeric(p) for p in ids}
    located = sorted((prefix(p), numbers[p], p) for p in ids if p in row_of)
    geoms = layer.geometry.values
    tree = shapely.STRtree(geoms)
    best = overlap.copy()
    for i in np.flatnonzero(needing):
        rows = [row_of[n] for n in _neighbours(located, numbers, ids[i]) if n]
        if not rows:
            continue
        near = tree.query(
            shapely.union_all(geoms[rows]), predicate="dwithin", distance=LOCAL_METRES
        )
        if len(near):
            reach = np.minimum(true_matrix[i][None, :], layer_matrix[near]).sum(axis=1)
            best[i] = max(best[i], float(reach.max()))
    return best


def _dense(table: pd.DataFrame, rows: int, columns: int) -> np.ndarray:
    matrix = np.zeros((rows, columns))
    np.add.at(matrix, (table["unit"].to_numpy(), table["area"].to_numpy()), table["weight"])
    return matrix


def format_scores(scores: dict) -> str:
    """The figures of :func:`score` as a few plain lines."""
    classes = ", ".join(f"{k} {v:,}" for k, v in sorted(scores["votes_by_class"].items()))
    moved = (
        f"{scores['range_coverage_affected']:.1%} of the {scores['affected_areas']} areas "
        "inference moved (> 0.01 points); "
        if scores.get("affected_areas")
        else "no area moved by inference (> 0.01 points); "
    )
    header = f"{scores['case']}: {scores['result_precincts']:,} result precincts, "
    header += f"{scores['votes']:,} votes ({classes})"
    needing = (
        f"  votes needing inference (no exact ID): {scores['needing']:,} in "
        f"{scores['needing_precincts']:,} precincts; "
        f"{scores['right_area']:.1%} land in the right area ("
        + ", ".join(f"{k} {v:.1%}" for k, v in scores["right_area_by_class"].items())
        + ")"
    )
    if not scores["areas"]:  # areas overlap the layer, none with enough votes to score
        return "\n".join(
            [
                header,
                needing,
                f"  no target area holds {scores.get('min_votes', 1000):,.0f} or more of the "
                "votes: no per-area error or range to score (give larger areas with "
                "--neighbourhoods)",
            ]
        )
    ranges = (
        f"  plausible ranges ({LEVEL:.0%}): cover the true share in "
        f"{scores['range_coverage']:.1%} of areas, {moved}"
        f"mean width {scores['range_width_mean']:.2f} points"
        if scores["has_ranges"]
        else "  plausible ranges: none (this join method does not record its alternatives)"
    )
    return "\n".join(
        [
            header,
            needing,
            f"  centroid moved: median {scores['centroid_km_median']:.2f} km, "
            f"90th percentile {scores['centroid_km_p90']:.2f} km; "
            f"{scores['far_2km']} placed > 2 km from their true polygon",
            f"  per-area share error over {scores['areas']} areas: "
            f"mean {scores['share_error_mean']:.3f} points, "
            f"max {scores['share_error_max']:.2f} points, "
            f"{scores['winner_flips']} winner flip(s), "
            f"rank correlation {scores['rank_correlation']:.4f}",
            "  limits of the data: with every precinct needing inference on its true "
            f"polygon the mean error would still be {scores['share_error_floor']:.3f} "
            "points (same-ID precincts that changed shape); picking, knowing the truth, "
            f"the best polygon within {LOCAL_METRES / 1000:g} km of the numeric neighbours "
            f"would put {scores['right_area_local_best']:.1%} in the right area",
            ranges,
        ]
    )


def _catalog_layer(
    name: str, district: str | None = None, kind: str | None = None
) -> gpd.GeoDataFrame:
    """A catalog layer by name; with ``kind``, a layer of another kind is refused with the
    names of the layers of that kind."""
    from explorer import catalog, loaders
    from explorer.specs import _definitions, layer_spec

    layers = _definitions().get("layers", {})
    if kind and layers.get(name, {}).get("kind") != kind:
        known = sorted(n for n, entry in layers.items() if entry.get("kind") == kind)
        option = "--layer or --truth-layer" if kind == "precincts" else "the layer"
        raise ExplorerError(
            f"{option} {name!r} is a {layers[name].get('kind')} layer, not a {kind} layer"
            if name in layers
            else f"unknown layer {name!r} for {option}",
            hint=f"{kind} layers: {', '.join(known)}"
            + ("; or give your own file with --precincts" if kind == "precincts" else ""),
        )
    spec = layer_spec(name)
    if spec.kind == "neighbourhoods":
        path = catalog.local_path(spec.file)
        return loaders.load_neighbourhoods(path, name_field=spec.name_field, where=spec.where)
    if spec.kind == "districts":
        path = catalog.local_path(spec.file.replace("{id}", district or ""))
        return loaders.load_district(path, district or "", crs=spec.crs or "EPSG:4326")
    return loaders.load_precincts(catalog.local_path(spec.file), spec.id_field, crs=spec.crs)


#: the join methods a backtest can score
METHODS = ("local", "nearest-number")


def run(
    layer: str | gpd.GeoDataFrame,
    *,
    truth_layer: str | gpd.GeoDataFrame | None = None,
    areas: str | gpd.GeoDataFrame = "mappingla-v6",
    exact_rate: float = 0.645,
    district: str | None = None,
    method: str = "local",
    seeds: tuple[int, ...] = (0, 1),
    margin_metres: float = 2000,
) -> list[dict]:
    """Backtest the join on catalog layers; one :func:`score` dict per case.

    With ``truth_layer``: two real layers, both directions (returns keyed by
    ``truth_layer`` joined to ``layer``, and the reverse). Without: simulated
    re-consolidation of ``layer`` at ``exact_rate``, once per seed. ``district`` (a
    ``cd-2012`` ID such as ``CA-34``) keeps only the precincts within ``margin_metres`` of
    that district, for a quick run. ``method`` is ``local`` (this version) or
    ``nearest-number`` (the pre-#13 rule, to show the baseline).

    ``layer``, ``truth_layer`` and ``areas`` are catalog names (``layer`` and
    ``truth_layer`` precinct layers) or loaded layers (an own precinct file from
    :func:`explorer.loaders.load_precincts`, named by ``attrs["name"]``; own
    neighbourhoods from :func:`explorer.loaders.load_neighbourhoods`). A ``truth_layer``
    equal to ``layer`` is refused (it would score the layer against itself).
    """
    from explorer.join import join_returns

    if not (np.isfinite(exact_rate) and 0 < exact_rate <= 1):
        raise ExplorerError(
            f"--exact-rate {exact_rate:g} is not a rate",
            hint="give a number above 0 and at most 1, such as 0.645",
        )
    if method not in METHODS:
        raise ExplorerError(f"unknown --method {method!r}", hint="use " + " or ".join(METHODS))

    def label(given) -> str:
        return given if isinstance(given, str) else str(given.attrs.get("name", "own layer"))

    if truth_layer is not None and label(truth_layer) == label(layer):
        raise ExplorerError(
            f"--truth-layer {label(truth_layer)} is the layer scored: it would score the "
            "layer against itself (100% by construction)",
            hint="give a second layer of the same places, or leave --truth-layer out",
        )
    targets = _catalog_layer(areas) if isinstance(areas, str) else areas
    within = None
    if district:
        district = district.strip().upper()
        try:
            outline = _catalog_layer("cd-2012", district)
        except Exception:  # no such file in the catalog, or no such district in it
            outline = None
        if outline is None or outline.empty:
            raise ExplorerError(
                f"unknown district {district!r}",
                hint="give a cd-2012 district as STATE-NUMBER, such as CA-34",
            )
        outline = to_equal_area(outline)
        within = outline.buffer(margin_metres).to_crs("EPSG:4326").union_all()
    loaded = {
        label(given): _catalog_layer(given, kind="precincts") if isinstance(given, str) else given
        for given in (layer, truth_layer)
        if given is not None
    }
    layer, truth_layer = label(layer), (None if truth_layer is None else label(truth_layer))
    if within is not None:
        for name, frame in loaded.items():
            if not frame.to_crs("EPSG:4326").intersects(within).any():
                raise ExplorerError(
                    f"district {district} does not overlap the layer {name}",
                    hint="pick a district inside the layer, such as CA-34 for LA County",
                )
    cases = []
    if truth_layer:
        for truth, other in ((truth_layer, layer), (layer, truth_layer)):
            cases.append(
                two_layer_case(loaded[truth], loaded[other], f"{truth} -> {other}", within)
            )
    else:
        base = loaded[layer]
        if within is not None:
            base = two_layer_case(base, base, layer, within).truth
        for seed in seeds:
            case, reached = reconsolidation_case(
                base, exact_rate, seed, f"simulated {layer} (seed {seed})"
            )
            case.name += f", exact-match rate {reached:.1%}"
            if abs(reached - exact_rate) > 0.01:
                case.name += f" (asked {exact_rate:.1%}: the closest this layer's merges reach)"
            cases.append(case)
    scores = []
    for case in cases:
        outline = gpd.GeoDataFrame(geometry=[case.truth.union_all()], crs=case.truth.crs)
        features = join_returns(case.wide, case.layer, outline, method=method)
        scores.append(score(case, features, targets))
    return scores
