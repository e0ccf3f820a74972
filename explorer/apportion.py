"""Stage 4, apportion: precinct vote counts onto any target polygons (neighbourhoods...).

Areal weighting, vectorised: a spatial index pairs sources with the targets whose boxes
they touch, the intersection area of every pair is computed exactly (a compiled kernel, or
GEOS), and a sparse source-by-target weight table moves the counts. Areas are measured in
an equal-area CRS. A source's weight in a target is the share of the source's area (or,
with a point weight layer, of its population) that falls in the target; what falls
outside every target is reported, and so is what overlapping targets count twice, so
counts are conserved:

    sum over sources = sum over targets + outside - counted twice (overlap).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from explorer.crs import equal_area_crs_for, reproject
from explorer.errors import ExplorerError
from explorer.join import add_result_columns

PARTIAL_TOLERANCE = 1e-6
#: a piece smaller than this share of its source's area is rounding, not overlap: the
#: compiled kernel returns areas of 1e-15 to 1e-12 m2 for a source and a target that
#: only share an edge (GEOS returns none), and counted as pieces they made whole sources
#: "partly inside" (``partial_share``). Dropped pieces' weight goes to ``outside``.
PIECE_TOLERANCE = 1e-9
#: below this share of a column's votes, ``outside`` and ``unmapped`` are float dust
#: (the sum of n weights is 1 only to about n x 1e-16): reported as 0, never negative
DUST = 1e-9


ENGINES = ("auto", "numba", "geos")
BACKENDS = ("local", "dask")
#: below this many sources GEOS is quicker than compiling the numba kernel
NUMBA_MIN_SOURCES = 3_000


def resolve_engine(engine: str, n_sources: int) -> str:
    """``auto`` becomes ``numba`` for large inputs (when numba is installed), else ``geos``.

    Decided on the number of sources, so the local and the dask backend choose alike and
    give identical numbers.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}")
    if engine != "auto":
        return engine
    if n_sources < NUMBA_MIN_SOURCES:
        return "geos"
    try:
        import numba  # noqa: F401
    except ImportError:
        return "geos"
    return "numba"


def _geos_areas(source_geoms, target_geoms, source_index, target_index) -> np.ndarray:
    """Intersection areas by GEOS overlay; a source wholly inside a target needs none."""
    shapely.prepare(target_geoms)
    inside = shapely.contains(target_geoms[target_index], source_geoms[source_index])
    areas = shapely.area(source_geoms[source_index])
    cut = ~inside
    areas[cut] = shapely.area(
        shapely.intersection(source_geoms[source_index[cut]], target_geoms[target_index[cut]])
    )
    return areas


def piece_areas(
    sources: gpd.GeoDataFrame, targets: gpd.GeoDataFrame, engine: str = "auto"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source index, target index and intersection area of every overlapping pair.

    Pairs come from the bounding boxes in a spatial index. ``engine="numba"`` computes the
    areas with the compiled exact formula in :mod:`explorer._overlay` (several times faster
    than an overlay), ``"geos"`` with GEOS intersections; ``"auto"`` (see
    :func:`resolve_engine`) uses numba for inputs of at least ``NUMBA_MIN_SOURCES`` sources
    (the first call compiles the kernel, a few seconds, cached on disk afterwards). Pairs
    that do not overlap are dropped.
    """
    engine = resolve_engine(engine, len(sources))
    source_geoms = sources.geometry.values
    target_geoms = targets.geometry.values
    tree = shapely.STRtree(target_geoms)
    source_index, target_index = tree.query(source_geoms)
    areas = None
    if engine == "numba":
        from explorer._overlay import intersection_areas

        try:
            areas = intersection_areas(source_geoms, target_geoms, source_index, target_index)
        except ValueError:  # a pathological ring outgrew the clip buffers: let GEOS do it
            areas = None
    if areas is None:
        keep = shapely.intersects(source_geoms[source_index], target_geoms[target_index])
        source_index, target_index = source_index[keep], target_index[keep]
        areas = _geos_areas(source_geoms, target_geoms, source_index, target_index)
    source_index, target_index, areas = real_pieces(
        source_index, target_index, areas, shapely.area(source_geoms)
    )
    order = np.lexsort((target_index, source_index))  # a canonical order, whatever the backend
    return source_index[order], target_index[order], areas[order]


def real_pieces(
    source_index: np.ndarray, target_index: np.ndarray, areas: np.ndarray, source_area: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs whose intersection is more than rounding: area above ``PIECE_TOLERANCE``
    of the source's area (``source_area``, per source). Both engines and both backends
    keep the same pieces, so ``partial_share`` does not depend on them."""
    keep = areas > PIECE_TOLERANCE * source_area[source_index]
    return source_index[keep], target_index[keep], areas[keep]


def area_table(
    sources: gpd.GeoDataFrame, targets: gpd.GeoDataFrame, engine: str = "auto"
) -> sparse.csr_matrix:
    """Sparse sources-by-targets table of intersection areas (in the frames' CRS units,
    so pass equal-area frames), in float64."""
    source_index, target_index, areas = piece_areas(sources, targets, engine)
    return sparse.csr_matrix(
        (areas, (source_index, target_index)), shape=(len(sources), len(targets))
    )


def _point_weights(
    source_index: np.ndarray,
    target_index: np.ndarray,
    area_weight: np.ndarray,
    sources: gpd.GeoDataFrame,
    targets: gpd.GeoDataFrame,
    points: gpd.GeoDataFrame,
) -> tuple[np.ndarray, np.ndarray]:
    """Piece weights from weighted points: population in piece / population in source.

    A point lies in the piece of the source and the target that both contain it. Sources
    holding no weight fall back to area. Returns the weights and a per-source mask of which
    sources used points.
    """
    points = points.to_crs(sources.crs)
    point_geoms = points.geometry.values
    point_weight = points["weight"].to_numpy(dtype=float)
    in_source = shapely.STRtree(sources.geometry.values).query(point_geoms, predicate="intersects")
    in_target = shapely.STRtree(targets.geometry.values).query(point_geoms, predicate="intersects")
    by_source = pd.DataFrame({"point": in_source[0], "source": in_source[1]})
    by_target = pd.DataFrame({"point": in_target[0], "target": in_target[1]})
    both = by_source.merge(by_target, on="point")
    both["weight"] = point_weight[both["point"].to_numpy()]
    piece_pop = both.groupby(["source", "target"])["weight"].sum()
    pairs = pd.MultiIndex.from_arrays([source_index, target_index])
    piece_pop = piece_pop.reindex(pairs, fill_value=0.0).to_numpy()
    # a point on a shared edge counts once per polygon it touches: normalise per source
    source_pop = np.bincount(
        in_source[1], weights=point_weight[in_source[0]], minlength=len(sources)
    )
    uses_points = source_pop > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        point_share = piece_pop / source_pop[source_index]
    weights = np.where(uses_points[source_index], point_share, area_weight)
    return weights, uses_points


def _polygon_weights(
    source_index: np.ndarray,
    target_index: np.ndarray,
    area_weight: np.ndarray,
    sources: gpd.GeoDataFrame,
    targets: gpd.GeoDataFrame,
    polygons: gpd.GeoDataFrame,
    engine: str,
) -> tuple[np.ndarray, np.ndarray]:
    """Piece weights from polygons with a ``weight`` count spread evenly over each polygon:
    weight in piece / weight in source. Sources holding no weight fall back to area."""
    polygons = polygons.to_crs(sources.crs).reset_index(drop=True)
    density = polygons["weight"].to_numpy(dtype=float) / shapely.area(polygons.geometry.values)
    pieces = gpd.GeoDataFrame(
        geometry=shapely.intersection(
            sources.geometry.values[source_index], targets.geometry.values[target_index]
        ),
        crs=sources.crs,
    )
    piece_i, poly_i, overlap = piece_areas(pieces, polygons, engine)
    piece_pop = np.bincount(piece_i, weights=overlap * density[poly_i], minlength=len(pieces))
    src_i, src_poly, src_overlap = piece_areas(sources, polygons, engine)
    source_pop = np.bincount(src_i, weights=src_overlap * density[src_poly], minlength=len(sources))
    uses_weights = source_pop > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        share = piece_pop / source_pop[source_index]
    return np.where(uses_weights[source_index], share, area_weight), uses_weights


#: columns the result computes from the apportioned ones (see ``join.add_result_columns``)
COMPUTED = ("total", "winner", "winner_share", "margin")


def check_columns(sources: pd.DataFrame, columns: list[str]) -> None:
    """Raise :class:`ExplorerError` for a count column ``sources`` lacks (naming the ones
    it has) or one named like a column the result computes (``total``: it is the sum of
    the others, so apportioning it too would count every vote twice)."""
    computed = [c for c in columns if c in COMPUTED]
    if computed:
        raise ExplorerError(
            f"column {computed[0]!r} is computed from the other columns (total = their sum)",
            hint=f"leave {computed[0]!r} out of the columns to apportion",
        )
    missing = [c for c in columns if c not in sources.columns]
    if missing:
        have = [
            str(c) for c in sources.columns if c != getattr(sources, "_geometry_column_name", "")
        ]
        raise ExplorerError(
            f"no column {missing[0]!r} in the sources",
            hint="columns: " + ", ".join(have[:20]) + (" ..." if len(have) > 20 else ""),
        )


def _row_name(frame: pd.DataFrame, position: int) -> str:
    """A source row as a person finds it: its position, index label and the first text
    column with unique values (the precinct ID in a joined layer), if any."""
    label = frame.index[position]
    text = f"row {position}" + (f" (index {label})" if label != position else "")
    for column in frame.columns:
        if column == getattr(frame, "_geometry_column_name", None):
            continue
        values = frame[column]
        if pd.api.types.is_string_dtype(values) and values.is_unique:
            return f"{text}, {column} {values.iloc[position]!r}"
    return text


def check_counts(frame: pd.DataFrame, columns: list[str], where: str = "the sources") -> None:
    """Raise :class:`ExplorerError` at the first count that is not a finite number >= 0
    (text, NaN, infinite or negative), naming the row, the column and the value: such a
    count would be lost from the sums or subtract votes."""
    for column in columns:
        raw = frame[column]
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values) | (values < 0)
        if bad.any():
            position = int(np.flatnonzero(bad)[0])
            value = raw.iloc[position]
            shown = repr(value) if isinstance(value, str) else str(value)
            raise ExplorerError(
                f"{_row_name(frame, position)}: column {column!r} holds {shown}, not a "
                f"vote count ({int(bad.sum())} such value{'s' if bad.sum() > 1 else ''} "
                "in this column)",
                source=where,
                hint="fix or drop the row (a count must be a number >= 0)",
            )


def repair_sources(frame: gpd.GeoDataFrame, where: str = "the sources", what: str = "source"):
    """Invalid source polygons (a self-intersecting ring...) repaired with ``make_valid``
    (polygonal parts kept), as the loaders repair layers; returns the frame and a note
    naming the repaired sources (None when all are valid). Unrepaired, the area formula
    counts a bowtie's two lobes with opposite signs and its votes fall outside. ``what``
    names the rows in the note (``"target"`` when the targets are repaired)."""
    from explorer.loaders.layers import polygonal_part

    geometry = frame.geometry.values
    invalid = ~shapely.is_valid(geometry) & ~shapely.is_missing(geometry)
    invalid &= ~shapely.is_empty(geometry)
    if not invalid.any():
        return frame, None
    geometry = geometry.copy()
    repaired = shapely.make_valid(geometry[invalid])
    geometry[invalid] = np.array([polygonal_part(g) for g in repaired], dtype=object)
    frame = frame.set_geometry(gpd.GeoSeries(geometry, index=frame.index, crs=frame.crs))
    positions = np.flatnonzero(invalid)
    named = "; ".join(_row_name(frame, int(p)) for p in positions[:3])
    more = ", ..." if len(positions) > 3 else ""
    note = f"{where}: repaired {len(positions)} invalid {what} polygons (make_valid): {named}{more}"
    return frame, note


def apportion(
    sources: gpd.GeoDataFrame,
    targets: gpd.GeoDataFrame,
    columns: list[str],
    *,
    target_id: str = "name",
    weights: gpd.GeoDataFrame | None = None,
    crs: str | None = None,
    engine: str = "auto",
    backend: str = "local",
    scheduler: str | None = None,
    npartitions: int | None = None,
) -> gpd.GeoDataFrame:
    """Move the count ``columns`` of ``sources`` onto ``targets``.

    ``backend="dask"`` computes the pieces on a dask cluster (``scheduler`` address, or the
    active client, or local threads; see :mod:`explorer.distributed`); the numbers are
    identical to the local backend with the same engine (a partitioned frame always uses
    the compiled kernel: against the local GEOS engine, counts agree to ~1e-12 of a vote).
    ``sources`` may then be a dask-geopandas frame (for
    example ``dask_geopandas.read_parquet(...)``): its partitions are read on the workers
    and reduced there: only per-target sums come back (area weights only;
    ``engine="auto"`` is the compiled kernel). With the local backend a dask frame is
    computed first.

    ``weights`` (optional) is a layer with a numeric ``weight`` column: points (such as
    tract centres of population) or polygons (a count spread evenly over each polygon).
    Each source's votes then follow its weight rather than its area; sources with no weight
    fall back to area, and ``attrs["method"]`` says how many did.

    Returns the targets (in their own CRS) with the apportioned counts and honesty fields:
    ``exact_share``, ``inferred_share`` and ``pooled_share`` (share of the target's votes
    from sources of that ``match`` class, when the sources have one), ``partial_share`` (share from
    sources only partly inside this target) and ``coverage`` (fraction of the target's area
    covered by sources). ``attrs["outside"]`` holds the counts that fell in no target
    (never negative beyond rounding), ``attrs["overlap"]`` those counted in more than one
    target because targets overlap (so targets + outside - overlap = sources),
    ``attrs["method"]`` says how pieces were weighted, ``attrs["notes"]`` names repaired
    (invalid) sources and targets (an invalid target, e.g. a bowtie, is repaired with
    ``make_valid`` before any piece is cut; GEOS cannot intersect it as it is).
    ``outside`` and ``unmapped`` below 1e-9 of a column's votes are 0.

    Raises :class:`ExplorerError` (one line) for a count that is not a number >= 0
    (naming the row, its ID, the column and the value), a missing count column and
    sources without a CRS.
    """
    if backend not in BACKENDS:
        raise ExplorerError(f"unknown backend {backend!r}", hint="use local or dask")
    check_columns(sources, columns)
    from explorer.distributed import is_dask_frame

    if getattr(sources, "crs", None) is None:
        raise ExplorerError(
            "the source layer declares no coordinate reference system",
            hint="set one first, e.g. sources.set_crs('EPSG:4326')",
        )

    # targets are few (neighbourhoods): checked every time, cheaply
    targets, target_note = repair_sources(targets, "the targets", what="target")
    if is_dask_frame(sources) and backend == "dask":
        result = _apportion_partitions(
            sources, targets, columns, target_id, weights, crs, engine, scheduler
        )
    else:
        if is_dask_frame(sources):
            sources = sources.compute()
        check_counts(sources, columns)
        result = _apportion_local(
            sources, targets, columns, target_id, weights, crs, engine, backend, scheduler,
            npartitions, repaired=None,
        )  # fmt: skip
    if target_note:
        result.attrs["notes"] = [target_note, *result.attrs.get("notes", [])]
    return result


def _apportion_local(
    sources, targets, columns, target_id, weights, crs, engine, backend, scheduler, npartitions,
    repaired,
):  # fmt: skip
    """:func:`apportion` of a frame in memory. Invalid sources are looked for only where
    they can change the result (GEOS' ``is_valid`` costs 27 ms on LA County's 4,357
    precincts, 0.4 s at 1M): a source whose pieces do not add up to its area (partly
    outside every target, or misread: a bowtie's lobes count with opposite signs) or has
    no area. If one of those is invalid, every invalid source is repaired
    (:func:`repair_sources`, with a note) and the sums are made again. An invalid source
    whose pieces add up to its area lies inside one target and moves all its votes
    there, repaired or not."""
    area_crs = equal_area_crs_for(sources, crs)
    has_geometry = ~(sources.geometry.is_empty | sources.geometry.isna())
    mapped = sources[has_geometry]
    unmapped = sources.loc[~has_geometry, columns].sum()
    src = reproject(mapped, area_crs).reset_index(drop=True)
    tgt = reproject(targets, area_crs).reset_index(drop=True)
    engine = resolve_engine(engine, len(src))
    if backend == "dask":
        from explorer.distributed import piece_areas_dask

        source_index, target_index, piece_area = piece_areas_dask(
            src, tgt, engine, scheduler=scheduler, npartitions=npartitions
        )
        order = np.lexsort((target_index, source_index))
        source_index, target_index = source_index[order], target_index[order]
        piece_area = piece_area[order]
    else:
        source_index, target_index, piece_area = piece_areas(src, tgt, engine)
    source_area = shapely.area(src.geometry.values)
    if repaired is None:
        inside = np.bincount(source_index, weights=piece_area, minlength=len(src))
        with np.errstate(invalid="ignore", divide="ignore"):
            suspect = ~(np.abs(inside / source_area - 1) <= PARTIAL_TOLERANCE)
        suspect &= ~shapely.is_empty(src.geometry.values)
        if suspect.any() and not shapely.is_valid(src.geometry.values[suspect]).all():
            sources, note = repair_sources(sources)
            return _apportion_local(
                sources, targets, columns, target_id, weights, crs, engine, backend,
                scheduler, npartitions, repaired=note or "",
            )  # fmt: skip
    area_weight = piece_area / source_area[source_index]
    if weights is not None and len(weights):
        if "weight" not in weights.columns:
            raise ExplorerError("the weight layer needs a numeric 'weight' column")
        points = bool(np.all(shapely.get_type_id(weights.geometry.values) == 0))
        weigh = _point_weights if points else _polygon_weights
        extra = () if points else (engine,)
        piece_weight, uses_weights = weigh(
            source_index, target_index, area_weight, src, tgt, weights, *extra
        )
        kind = "point" if points else "polygon"
        method = (
            f"dasymetric: {int(uses_weights.sum())} of {len(src)} precincts weighted by "
            f"{kind} weights; {int((~uses_weights).sum())} without weight fell back to area"
        )
    else:
        piece_weight = area_weight
        method = AREAL
    return _move_counts(
        targets,
        tgt,
        columns,
        source_index,
        target_index,
        piece_area,
        piece_weight,
        src[columns].to_numpy(dtype=float),
        src["match"].to_numpy() if "match" in src.columns else None,
        lambda rows: src.geometry.values[rows],
        unmapped.astype(float),
        {
            "method": method,
            "crs": str(area_crs),
            "target_id": target_id,
            "notes": [repaired] if repaired else [],
        },
    )


AREAL = "areal weighting (share of each precinct's area, equal-area CRS)"


def _apportion_partitions(sources, targets, columns, target_id, weights, crs, engine, scheduler):
    """:func:`apportion` of a dask-geopandas frame, its partitions read on the workers."""
    from explorer.distributed import frame_bounds, sums_from_partitions

    if weights is not None and len(weights):
        raise ExplorerError(
            "weights need the source layer in memory",
            hint="call .compute() on the dask frame, or apportion by area",
        )
    if crs is None:
        outline = gpd.GeoDataFrame(geometry=[shapely.box(*frame_bounds(sources))], crs=sources.crs)
        area_crs = equal_area_crs_for(outline)
    else:
        area_crs = equal_area_crs_for(sources, crs)
    tgt = reproject(targets, area_crs).reset_index(drop=True)
    # a partitioned layer counts as large: "auto" is the compiled kernel when installed
    engine = resolve_engine(engine, NUMBA_MIN_SOURCES)
    sums, unmapped, notes = sums_from_partitions(
        sources, tgt, area_crs, columns, engine, scheduler=scheduler
    )
    return result_from_sums(
        targets,
        tgt,
        columns,
        sums,
        pd.Series(unmapped, index=columns, dtype=float),
        {"method": AREAL, "crs": str(area_crs), "target_id": target_id, "notes": notes},
    )


def _move_counts(
    targets,
    tgt,
    columns,
    source_index,
    target_index,
    piece_area,
    piece_weight,
    values,
    match,
    geometries_of,
    unmapped,
    attrs,
) -> gpd.GeoDataFrame:
    """The weight table moves the counts; honesty fields and the vote accounting."""
    matrix, inside_share, covered_share, vote_sum, partial = source_shares(
        source_index, target_index, piece_weight, values, tgt, geometries_of
    )
    sums = {
        "moved": matrix.T @ values,
        "total": matrix.T @ vote_sum,
        "partial": matrix.T @ (vote_sum * partial),
        "covered": np.bincount(target_index, weights=piece_area, minlength=len(tgt)),
        "outside": running_total(values * (1.0 - covered_share)[:, None]),
        "overlap": running_total(values * (inside_share - covered_share)[:, None]),
    }
    if match is not None:
        for name in MATCH_CLASSES:
            is_class = pd.Series(match).eq(name).fillna(False).to_numpy(dtype=bool)
            sums[name] = matrix.T @ (vote_sum * is_class)
    return result_from_sums(targets, tgt, columns, sums, unmapped, attrs)


MATCH_CLASSES = ("exact", "inferred", "pooled")


def running_total(rows: np.ndarray, start: np.ndarray | None = None) -> np.ndarray:
    """Column sums of ``rows`` (n x columns) added strictly one row after another onto
    ``start`` (zeros by default): a fixed order, so sums carried partition by partition
    (the dask backend) give the same floats as one pass."""
    if start is None:
        start = np.zeros(rows.shape[1])
    return np.cumsum(np.vstack([start[None], rows]), axis=0)[-1]


def result_from_sums(targets, tgt, columns, sums: dict, unmapped, attrs) -> gpd.GeoDataFrame:
    """The apportioned targets from per-target sums over the pieces (``moved``: counts,
    targets x columns; ``total``, ``partial`` and each match class: votes; ``covered``:
    area) and the ledger totals (``outside``, ``overlap``: per column). The sums may be
    accumulated anywhere (the dask backend adds them up partition by partition)."""
    result = targets.reset_index(drop=True).copy()
    for i, column in enumerate(columns):
        result[column] = sums["moved"][:, i]
    total_moved = sums["total"]
    with np.errstate(invalid="ignore", divide="ignore"):
        for name in MATCH_CLASSES:
            if name in sums:
                result[f"{name}_share"] = sums[name] / total_moved
        result["partial_share"] = sums["partial"] / total_moved
        covered = sums["covered"]
        result["coverage"] = np.clip(covered / shapely.area(tgt.geometry.values), 0, 1)
    result = add_result_columns(result, list(columns))
    # the targets' own notes (repairs by their loader) first, then the sources'
    notes = [*result.attrs.get("notes", []), *attrs.get("notes", [])]
    attrs = {**attrs, "notes": notes} if notes or "notes" in attrs else attrs
    scale = np.asarray(sums["moved"]).sum(axis=0) + np.abs(sums["outside"])
    scale = scale + np.abs(np.asarray(unmapped, dtype=float))
    result.attrs = {
        **result.attrs,
        "outside": pd.Series(_without_dust(sums["outside"], scale), index=columns),
        "overlap": pd.Series(sums["overlap"], index=columns),
        "unmapped": pd.Series(
            _without_dust(np.asarray(unmapped, dtype=float), scale), index=columns
        ),
        **attrs,
    }
    return result


def _without_dust(counts: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """``counts`` (per column) with float dust, up to ``DUST`` of the column's votes
    (``scale``), and any negative (a rounding of shares summing above 1) reported as 0.0
    (never -0.0)."""
    counts = np.asarray(counts, dtype=float)
    dust = (counts <= DUST * np.maximum(scale, 1.0)) | (counts < 0)
    return np.where(dust, 0.0, counts)


#: a source whose target pieces add up to more than 1 + this share sits under overlapping
#: targets (below it, the excess is rounding)
OVERLAP_TOLERANCE = 1e-6


def source_shares(source_index, target_index, weight, values, tgt, geometries_of):
    """Per source, from its pieces' weights: the sources-by-targets weight table, the
    share of its area inside some target (``inside_share``, counting overlaps twice), the
    share inside at least one (``covered_share``), its vote sum and whether it is only
    partly inside one target (``partial``). One computation for the local backend and for
    each partition on the workers (:func:`explorer.distributed._terms`), so both make the
    same floats."""
    n_src = len(values)
    matrix = sparse.csr_matrix((weight, (source_index, target_index)), shape=(n_src, len(tgt)))
    inside_share = np.asarray(matrix.sum(axis=1)).ravel()
    covered_share = _covered_share(geometries_of, tgt, inside_share)
    vote_sum = values.sum(axis=1)
    partial = (inside_share < 1 - PARTIAL_TOLERANCE) | (
        np.bincount(source_index, minlength=n_src) > 1
    )
    return matrix, inside_share, covered_share, vote_sum, partial


def _covered_share(geometries_of, tgt, inside_share) -> np.ndarray:
    """Share of each source inside the union of the targets.

    Where the targets do not overlap this is the sum of the source's piece weights. Where a
    source's pieces add up to more than all of it, targets overlap over it: its share in
    the union of the targets is measured (by area, or scaled to the weighted share), and
    the excess is the share counted in more than one area (with weights, the union share
    is measured by area: an approximation where weights are uneven)."""
    over = np.flatnonzero(inside_share > 1.0 + OVERLAP_TOLERANCE)
    if not len(over):
        return inside_share
    union = shapely.union_all(tgt.geometry.values)
    geoms = np.asarray(geometries_of(over))
    area_covered = shapely.area(shapely.intersection(geoms, union)) / shapely.area(geoms)
    covered = inside_share.copy()
    covered[over] = np.minimum(area_covered, 1.0)
    return covered


def conservation_gap(sources: pd.DataFrame, result: pd.DataFrame, columns: list[str]) -> float:
    """Largest relative difference between source totals and targets + outside + unmapped
    (sources with no geometry)."""
    before = sources[columns].sum().to_numpy(dtype=float)
    overlap = result.attrs.get("overlap")
    after = (
        result[columns].sum().to_numpy(dtype=float)
        + result.attrs["outside"].to_numpy()
        + result.attrs["unmapped"].to_numpy()
        - (overlap.to_numpy() if overlap is not None else 0.0)
    )
    scale = np.maximum(np.abs(before), 1.0)
    return float(np.max(np.abs(before - after) / scale)) if len(columns) else 0.0


def hex_grid(frame: gpd.GeoDataFrame, size: float, *, crs: str | None = None) -> gpd.GeoDataFrame:
    """Flat-topped hexagons ``size`` metres across (corner to corner) covering ``frame``,
    in its equal-area CRS, keeping only those that touch a feature: a neutral target for
    apportionment at any scale. Returns ``name`` (``hex-<column>-<row>``) and geometry."""
    area_crs = equal_area_crs_for(frame, crs)
    projected = frame.to_crs(area_crs)
    x0, y0, x1, y1 = projected.total_bounds
    radius = size / 2
    dx, dy = 1.5 * radius, np.sqrt(3) * radius
    cols = np.arange(int(np.floor(x0 / dx)) - 1, int(np.ceil(x1 / dx)) + 2)
    rows = np.arange(int(np.floor(y0 / dy)) - 1, int(np.ceil(y1 / dy)) + 2)
    col, row = (a.ravel() for a in np.meshgrid(cols, rows))
    cx = col * dx
    cy = row * dy + np.where(col % 2, dy / 2, 0)
    angles = np.radians(np.arange(0, 360, 60))
    rings = np.stack(
        [cx[:, None] + radius * np.cos(angles), cy[:, None] + radius * np.sin(angles)], axis=-1
    )
    hexes = shapely.polygons(rings)
    touched = np.unique(projected.sindex.query(hexes, predicate="intersects")[0])
    names = np.char.add(np.char.add("hex-", col.astype(str)), np.char.add("-", row.astype(str)))
    return gpd.GeoDataFrame({"name": names[touched]}, geometry=hexes[touched], crs=area_crs)
