"""Apportionment pairs on a dask cluster (dask-geopandas), for inputs too big for one machine.

Sources as a dask-geopandas frame (``dask_geopandas.read_parquet(...)``): each partition is
read on a worker and stays there. The targets (small) go to every worker once; a task
reprojects its partition, pairs it with the targets whose boxes meet the partition's box,
computes the exact piece areas with the same function as the local backend and, still on
the worker, each piece's terms of the sums the result is made of (weight x counts, the
piece's area, the votes outside every target...). Nothing per source or per pair comes
back: a chain of small tasks adds the partitions' terms to a running per-target total in
partition order, one term after another in the local backend's order (source, then
target), so the floats are those of a local run with the same engine (the compiled kernel)
bit for bit; only targets x terms floats travel.
Nothing is shuffled: a spatially partitioned input (Hilbert-sorted files, or
``spatial_shuffle`` once, before writing) keeps each task's targets few, and any other
partitioning still gives the same numbers. Files whose geometry is GeoArrow polygons
(``to_parquet(..., geometry_encoding="geoarrow")``) in the equal-area CRS are read by
pyarrow on the worker straight into the compiled kernel's ring arrays, in the same task
as their pieces: no geometry objects are built for the sources. Any other frame (WKB
files, another CRS, operations after the read) has its partitions decoded by geopandas.

Sources as an in-memory frame: they are sorted along a Hilbert curve on the client and cut
into spatially compact partitions (no shuffle on the cluster), which then travel inside the
task graph; targets are cut into Hilbert-ordered chunks too. Each task joins one source
partition with the target chunks whose bounds meet the partition's bounding box and
computes the exact intersection areas with the same function as the local backend
(:func:`explorer.apportion.piece_areas`). Pairs come back with global row numbers and are
sorted, so the weight table, and every number after it, is identical to a local run. On a
worker process numba runs one thread (the workers are the parallelism).

Needs the ``dask`` extra (dask-geopandas, distributed). ``scheduler`` is the address of a
running ``dask.distributed`` scheduler (``tcp://host:8786``); without one, an active
``Client`` is used if there is one, else dask's local threads.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from explorer.crs import reproject
from explorer.errors import ExplorerError

ROWS_PER_PARTITION = 50_000
TARGETS_PER_CHUNK = 2_000


def _pair_task(part: gpd.GeoDataFrame, targets: list[gpd.GeoDataFrame], engine: str):
    """Pairs of one source partition with its candidate target chunks (global row numbers)."""
    from explorer.apportion import piece_areas

    _one_thread_on_a_worker()
    if not len(part) or not targets:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    chunk = gpd.GeoDataFrame(
        {"_row": np.concatenate([t["_row"].to_numpy() for t in targets])},
        geometry=np.concatenate([t.geometry.values for t in targets]),
        crs=part.crs,
    )
    source_index, target_index, areas = piece_areas(part, chunk, engine)
    return (
        part["_row"].to_numpy()[source_index],
        chunk["_row"].to_numpy()[target_index],
        areas,
    )


def _one_thread_on_a_worker() -> None:
    """On a dask worker process numba uses one thread: the workers are the parallelism
    (two workers with two numba threads each oversubscribe two cores)."""
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return  # not on a worker (local threads): leave numba as it is
    import numba

    numba.set_num_threads(1)


def _require_dask() -> None:
    try:
        import dask_geopandas  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise ExplorerError(
            "the dask backend needs dask-geopandas and distributed",
            hint="pip install '.[dask]' from a checkout of explorer",
        ) from None


def _client(scheduler: str | None):
    if scheduler is None:
        return None
    from distributed import Client

    try:
        return Client(scheduler, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise ExplorerError(f"cannot reach the dask scheduler ({exc})", source=scheduler) from None


def piece_areas_dask(
    sources: gpd.GeoDataFrame,
    targets: gpd.GeoDataFrame,
    engine: str,
    *,
    scheduler: str | None = None,
    npartitions: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Like :func:`explorer.apportion.piece_areas`, computed partition by partition on dask."""
    _require_dask()
    import dask

    source_frame = gpd.GeoDataFrame(
        {"_row": np.arange(len(sources))}, geometry=sources.geometry.values, crs=sources.crs
    )
    target_frame = gpd.GeoDataFrame(
        {"_row": np.arange(len(targets))}, geometry=targets.geometry.values, crs=targets.crs
    )
    n_parts = npartitions or max(1, int(np.ceil(len(source_frame) / ROWS_PER_PARTITION)))
    # a Hilbert sort on the client (one vectorised pass) instead of dask-geopandas'
    # spatial_shuffle: the shuffle's tasks, not the data transfer, dominated the run time
    sorted_rows = np.argsort(source_frame.hilbert_distance().to_numpy(), kind="stable")
    parts = [source_frame.iloc[idx] for idx in np.array_split(sorted_rows, n_parts) if len(idx)]
    hulls = [shapely.box(*p.total_bounds) for p in parts]  # boxes contain the hulls

    order = np.argsort(target_frame.hilbert_distance().to_numpy(), kind="stable")
    n_chunks = max(1, int(np.ceil(len(target_frame) / TARGETS_PER_CHUNK)))
    chunks = [target_frame.iloc[idx] for idx in np.array_split(order, n_chunks) if len(idx)]
    chunk_boxes = shapely.box(*np.array([c.total_bounds for c in chunks]).T)
    chunk_tree = shapely.STRtree(chunk_boxes)

    client = _client(scheduler)
    try:
        delayed_chunks = [dask.delayed(c) for c in chunks]
        tasks = []
        for part, hull in zip(parts, hulls):
            wanted = chunk_tree.query(hull, predicate="intersects")
            tasks.append(
                dask.delayed(_pair_task)(
                    dask.delayed(part), [delayed_chunks[i] for i in sorted(wanted)], engine
                )
            )
        results = client.compute(tasks, sync=True) if client else dask.compute(*tasks)
    finally:
        if client is not None:
            client.close()
    source_index = np.concatenate([r[0] for r in results]).astype(np.int64)
    target_index = np.concatenate([r[1] for r in results]).astype(np.int64)
    areas = np.concatenate([r[2] for r in results])
    return source_index, target_index, areas


def write_partitions(
    sources: gpd.GeoDataFrame, folder, n_parts: int, *, encoding: str = "geoarrow"
):
    """Write ``sources`` for ``dask_geopandas.read_parquet``: sorted along a Hilbert curve
    (sources without geometry last), one GeoParquet file per partition
    (``<folder>/sources.parquet/part.<i>.parquet``, as dask-geopandas names them), geometry
    GeoArrow-encoded by default (``encoding="WKB"`` for what most other tools write).
    ``attrs`` are left out of the files: a joined layer's ledger holds tables
    (``attrs["result_votes"]``) that parquet metadata (JSON) cannot hold. Returns the
    dataset's folder. Write in the equal-area CRS (``to_equal_area``) so the workers read
    the files straight into ring arrays."""
    from pathlib import Path

    located = ~(sources.geometry.is_empty | sources.geometry.isna()).to_numpy()
    distance = np.full(len(sources), np.iinfo(np.int64).max)  # no geometry: last
    if located.any():
        distance[located] = (
            sources[located].hilbert_distance(total_bounds=sources[located].total_bounds)
        ).to_numpy()
    order = np.argsort(distance, kind="stable")
    path = Path(folder) / "sources.parquet"
    path.mkdir(parents=True, exist_ok=True)
    for i, rows in enumerate(np.array_split(order, n_parts)):
        part = sources.iloc[rows].reset_index(drop=True)
        part.attrs = {}
        part.to_parquet(path / f"part.{i}.parquet", geometry_encoding=encoding)
    return path


def is_dask_frame(frame) -> bool:
    """Whether ``frame`` is a dask(-geopandas) frame (partitions read where they are used)."""
    return hasattr(frame, "to_delayed") and hasattr(frame, "npartitions")


def _partition_pieces(
    part: gpd.GeoDataFrame,
    targets: gpd.GeoDataFrame,
    area_crs,
    columns: list[str],
    engine: str,
    with_match: bool,
    where: str | None = None,
) -> dict:
    """One source partition's share of every sum :func:`explorer.apportion.apportion`
    reports, left on the worker for :func:`_accumulate`: the target of each piece and the
    piece's terms (weight x counts for each column, for all votes, the partly-covered
    votes and each match class, then the piece area), each source's votes outside every
    target and counted twice, and the counts of sources without geometry. Every term is
    computed as the local backend computes it (same pieces, same order, same operations)."""
    from explorer.apportion import check_counts, piece_areas, repair_sources

    _one_thread_on_a_worker()
    where = where or "a partition of the sources"
    missing = [c for c in columns if c not in part.columns]
    if missing:
        raise ExplorerError(f"no column {missing[0]!r}", source=where, hint=_SAME_COLUMNS)
    check_counts(part, columns, where)
    part, note = repair_sources(part.reset_index(drop=True), where)
    has_geometry = ~(part.geometry.is_empty | part.geometry.isna()).to_numpy()
    unmapped = part.loc[~has_geometry, columns].to_numpy(dtype=float).sum(axis=0)
    mapped = reproject(part[has_geometry], area_crs).reset_index(drop=True)
    source_index = target_index = np.zeros(0, dtype=np.int64)
    piece_area = np.zeros(0)
    if len(mapped):
        box = shapely.box(*mapped.total_bounds)
        near = np.sort(shapely.STRtree(targets.geometry.values).query(box))
        if len(near):
            chunk = targets.iloc[near].reset_index(drop=True)
            source_index, local_target, piece_area = piece_areas(mapped, chunk, engine)
            target_index = near[local_target]  # near is sorted: the order stays canonical
    source_geoms = mapped.geometry.values
    terms = _terms(
        targets,
        mapped[columns].to_numpy(dtype=float),
        mapped["match"].to_numpy() if with_match else None,
        (source_index, target_index, piece_area),
        shapely.area(source_geoms),
        lambda rows: source_geoms[rows],
        unmapped,
    )
    terms["notes"] = [note] if note else []
    return terms


_SAME_COLUMNS = "every partition needs the count columns of the first"


def _reported(task):
    """``task`` whose :class:`ExplorerError` (bad input in a partition) comes back as a
    value, ``{"error": message}``, passed along the running total and raised once on the
    client as one line (raised on a worker, it would also print the worker's traceback)."""

    def run(*args, **kwargs):
        try:
            return task(*args, **kwargs)
        except ExplorerError as exc:
            return {"error": str(exc)}

    run.__name__ = task.__name__
    return run


def _terms(targets, values, match, pieces, source_area, geometries_of, unmapped) -> dict:
    """The terms of :func:`_partition_pieces` from a partition's pieces (source index,
    target index and area, in the canonical order), its sources' areas (as
    ``shapely.area`` gives them) and counts, with the local backend's operations."""
    from explorer.apportion import MATCH_CLASSES, source_shares

    source_index, target_index, piece_area = pieces
    weight = piece_area / source_area[source_index]
    # the rows of the local backend's weight table that belong to these sources
    _, inside_share, covered_share, vote_sum, partial = source_shares(
        source_index, target_index, weight, values, targets, geometries_of
    )
    per_source = [values, vote_sum, vote_sum * partial]
    if match is not None:
        match = pd.Series(match)
        for name in MATCH_CLASSES:
            per_source.append(vote_sum * match.eq(name).fillna(False).to_numpy(dtype=bool))
    terms = np.column_stack(
        [weight[:, None] * np.column_stack(per_source)[source_index], piece_area]
    )
    return {
        "n_targets": len(targets),
        "target": target_index,
        "terms": terms,
        "outside": values * (1.0 - covered_share)[:, None],
        "overlap": values * (inside_share - covered_share)[:, None],
        "unmapped": unmapped,
    }


#: GeoArrow native encodings the workers read straight into ring arrays
GEOARROW_POLYGONS = ("polygon", "multipolygon")


def parquet_files(sources, *, any_encoding: bool = False) -> list | None:
    """Per partition of a ``dask_geopandas.read_parquet`` frame, the ``(filesystem, path)``
    of the one whole file it reads, when its primary geometry is GeoArrow-encoded
    polygons (``to_parquet(..., geometry_encoding="geoarrow")``); None for any other frame
    (WKB files, row-group splits, filters, or operations after the read), which then takes
    the general path. Looks only at the task graph and the first file's schema
    (``any_encoding``: the files whatever their encoding, without reading a schema)."""
    try:
        from dask.dataframe.io.parquet.core import ParquetFunctionWrapper

        graph = dict(sources.__dask_graph__())
        files = []
        for key in sources.__dask_keys__():
            task = graph[key]
            while type(task).__name__ == "Alias":
                task = graph[task.target]
            func, args = getattr(task, "func", None), getattr(task, "args", ())
            if not isinstance(func, ParquetFunctionWrapper) or len(args) != 1:
                return None
            piece = args[0].get("piece") if isinstance(args[0], dict) else None
            if not piece or piece[1] is not None or piece[2]:  # row groups, filters
                return None
            files.append((func.fs, piece[0]))
        if not files or any_encoding:
            return files or None
        import pyarrow.parquet as pq

        fs, path = files[0]
        encoding = _geo_column(pq.read_schema(path, filesystem=fs))[1].get("encoding")
        return files if str(encoding).lower() in GEOARROW_POLYGONS else None
    except Exception:  # any graph this reader does not know: the general path
        return None


def _geo_column(schema) -> tuple[str, dict]:
    """The primary geometry column of a GeoParquet schema and its ``geo`` metadata."""
    import json

    geo = json.loads(schema.metadata[b"geo"])
    name = geo["primary_column"]
    return name, geo["columns"][name]


def _geoarrow_rings(column, depth: int) -> tuple | None:
    """A GeoArrow polygon or multipolygon column as the kernel's ring arrays, without
    building geometries: ``coords`` (n, 2, as stored), ``ring_offsets``, ``exterior``
    (first ring of its polygon), ``part_offsets`` (polygons into rings), ``geom_offsets``
    (geometries into polygons) and ``valid`` (not null). ``depth``: 2 for polygons, 3
    for multipolygons (list levels above the coordinates). None for another layout."""
    import pyarrow as pa

    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if isinstance(array, pa.ExtensionArray):
        array = array.storage
    levels, level = 0, array.type
    while pa.types.is_list(level) or pa.types.is_large_list(level):
        levels, level = levels + 1, level.value_type
    if levels != depth or depth not in (2, 3):
        return None
    valid = ~np.asarray(array.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    offsets = []
    level = array
    for _ in range(depth):
        offsets.append(np.asarray(level.offsets, dtype=np.int64))
        level = level.values
    if pa.types.is_struct(level.type):
        names = [level.type.field(i).name for i in range(level.type.num_fields)]
        if names[:2] != ["x", "y"]:
            return None
        coords = np.column_stack([level.field(0).to_numpy(), level.field(1).to_numpy()])
    elif pa.types.is_fixed_size_list(level.type):
        size = level.type.list_size
        flat = level.flatten().to_numpy()
        coords = np.ascontiguousarray(flat.reshape(-1, size)[:, :2])
    else:
        return None
    if depth == 2:  # polygons: one part each
        geom_offsets = np.arange(len(array) + 1, dtype=np.int64)
        part_offsets, ring_offsets = offsets
    else:
        geom_offsets, part_offsets, ring_offsets = offsets
    coords = np.ascontiguousarray(coords, dtype=np.float64)
    first = np.zeros(ring_offsets.shape[0] - 1, dtype=bool)
    first[part_offsets[:-1][np.diff(part_offsets) > 0]] = True
    return coords, ring_offsets, first, part_offsets, geom_offsets, valid


_COMPILED: dict = {}


def _compiled(func):
    """``func`` compiled by numba on first use (numba is imported only on this path)."""
    if func not in _COMPILED:
        from numba import njit

        _COMPILED[func] = njit(cache=True)(func)
    return _COMPILED[func]


def _geos_areas(coords, ring_offsets, part_offsets, geom_offsets):
    """Area of each geometry as GEOS computes it, operation for operation (a ring:
    ``Area::ofRingSigned``, the shoelace relative to its first x; a polygon: the shell's
    absolute area minus each hole's; a multipolygon: its parts summed from 0.0), so the
    areas equal ``shapely.area`` of the same coordinates bit for bit (tested)."""
    out = np.zeros(len(geom_offsets) - 1)
    for g in range(len(geom_offsets) - 1):
        total = 0.0
        for p in range(geom_offsets[g], geom_offsets[g + 1]):
            area = 0.0
            for r in range(part_offsets[p], part_offsets[p + 1]):
                start = ring_offsets[r]
                n = ring_offsets[r + 1] - start
                ring = 0.0
                if n >= 3:
                    x0 = coords[start, 0]
                    p1y = coords[start, 1]
                    p2x = coords[start + 1, 0] - x0
                    p2y = coords[start + 1, 1]
                    for i in range(1, n - 1):
                        p0y = p1y
                        p1x = p2x
                        p1y = p2y
                        p2x = coords[start + i + 1, 0] - x0
                        p2y = coords[start + i + 1, 1]
                        ring += p1x * (p0y - p2y)
                    ring = abs(ring / 2.0)
                if r == part_offsets[p]:
                    area += ring
                else:
                    area -= ring
            total += area
        out[g] = total
    return out


def _maybe_invalid(coords, ring_offsets, part_offsets, geom_offsets):
    """Per geometry, whether it may be invalid (conservative: a False is certain, a True
    is then decided by GEOS' ``is_valid``). A geometry of one ring is screened here: fewer
    than 4 points, a coordinate that is not finite, a spike (an edge doubling back on the
    previous one) or two non-adjacent edges that meet (a sweep in x; touching counts) flag
    it; a geometry of several rings (holes, parts) is always flagged."""
    n_geoms = len(geom_offsets) - 1
    flagged = np.zeros(n_geoms, np.bool_)
    for g in range(n_geoms):
        p0 = geom_offsets[g]
        p1 = geom_offsets[g + 1]
        if p1 == p0:
            continue  # no geometry: unmapped
        if p1 - p0 > 1 or part_offsets[p0 + 1] - part_offsets[p0] != 1:
            flagged[g] = True
            continue
        r = part_offsets[p0]
        start = ring_offsets[r]
        n = ring_offsets[r + 1] - start - 1  # edges
        if n < 3:
            flagged[g] = True
            continue
        xs = coords[start : start + n + 1, 0]
        ys = coords[start : start + n + 1, 1]
        if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
            flagged[g] = True
            continue
        lo = np.minimum(xs[:-1], xs[1:])
        hi = np.maximum(xs[:-1], xs[1:])
        order = np.argsort(lo)
        bad = False
        for k in range(n):  # spikes: consecutive edges collinear and doubling back
            j = k + 1 if k + 1 < n else 0
            ux = xs[k + 1] - xs[k]
            uy = ys[k + 1] - ys[k]
            vx = xs[j + 1] - xs[j]
            vy = ys[j + 1] - ys[j]
            if ux * vy - uy * vx == 0.0 and ux * vx + uy * vy < 0.0:
                bad = True
                break
        for a in range(n):
            if bad:
                break
            i = order[a]
            for b in range(a + 1, n):
                j = order[b]
                if lo[j] > hi[i]:
                    break
                if abs(i - j) == 1 or abs(i - j) == n - 1:
                    continue  # adjacent: they share a vertex
                ax, ay, bx, by = xs[i], ys[i], xs[i + 1], ys[i + 1]
                cx, cy, dx, dy = xs[j], ys[j], xs[j + 1], ys[j + 1]
                if max(ay, by) < min(cy, dy) or max(cy, dy) < min(ay, by):
                    continue
                o1 = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
                o2 = (bx - ax) * (dy - ay) - (by - ay) * (dx - ax)
                o3 = (dx - cx) * (ay - cy) - (dy - cy) * (ax - cx)
                o4 = (dx - cx) * (by - cy) - (dy - cy) * (bx - cx)
                if (o1 <= 0.0 <= o2 or o2 <= 0.0 <= o1) and (o3 <= 0.0 <= o4 or o4 <= 0.0 <= o3):
                    bad = True
                    break
        flagged[g] = bad
    return flagged


def _grid_side(target_bounds: np.ndarray) -> int:
    """Cells per side of :func:`_box_pairs`' grid: about one target per cell, fewer cells
    where large targets would be listed in too many (at most ~8 entries per target)."""
    located = target_bounds[target_bounds[:, 0] <= target_bounds[:, 2]]
    side = max(1, int(np.sqrt(len(target_bounds))))
    if not len(located):
        return side
    x0, y0 = located[:, 0].min(), located[:, 1].min()
    span_x = max(located[:, 2].max() - x0, 1e-300)
    span_y = max(located[:, 3].max() - y0, 1e-300)
    while side > 1:
        cols = np.floor((located[:, 2] - x0) / span_x * side) - np.floor(
            (located[:, 0] - x0) / span_x * side
        )
        rows = np.floor((located[:, 3] - y0) / span_y * side) - np.floor(
            (located[:, 1] - y0) / span_y * side
        )
        if ((cols + 1) * (rows + 1)).sum() <= 8 * len(located) + 1_000:
            break
        side //= 2
    return side


def _box_pairs(source_bounds, target_bounds, side):
    """Every (source, target) pair whose boxes meet (edges included), as a spatial
    index's box query finds them, from two bounds arrays (n, 4): the targets are
    bucketed in a uniform grid of ``side`` x ``side`` cells, and a pair is kept only in the
    cell holding the corner (larger xmin, larger ymin) of the two boxes, so none is found
    twice."""
    m = len(target_bounds)
    x0, y0, x1, y1 = np.inf, np.inf, -np.inf, -np.inf
    for t in range(m):
        if target_bounds[t, 0] <= target_bounds[t, 2]:  # NaN (empty): skipped
            x0 = min(x0, target_bounds[t, 0])
            y0 = min(y0, target_bounds[t, 1])
            x1 = max(x1, target_bounds[t, 2])
            y1 = max(y1, target_bounds[t, 3])
    width = max((x1 - x0) / side, 1e-300)
    height = max((y1 - y0) / side, 1e-300)
    counts = np.zeros(side * side + 1, np.int64)
    members = np.empty(0, np.int64)
    for step in range(2):  # count, then fill
        if step == 1:
            for k in range(side * side):
                counts[k + 1] += counts[k]
            members = np.empty(counts[-1], np.int64)
            fill = counts[:-1].copy()
        for t in range(m):
            if not target_bounds[t, 0] <= target_bounds[t, 2]:
                continue
            ca = min(side - 1, int((target_bounds[t, 0] - x0) / width))
            cb = min(side - 1, int((target_bounds[t, 2] - x0) / width))
            ra = min(side - 1, int((target_bounds[t, 1] - y0) / height))
            rb = min(side - 1, int((target_bounds[t, 3] - y0) / height))
            for r in range(ra, rb + 1):
                for c in range(ca, cb + 1):
                    if step == 0:
                        counts[r * side + c + 1] += 1
                    else:
                        members[fill[r * side + c]] = t
                        fill[r * side + c] += 1
    n = len(source_bounds)
    found = np.zeros(n + 1, np.int64)
    left = np.empty(0, np.int64)
    right = np.empty(0, np.int64)
    for step in range(2):  # count, then fill
        if step == 1:
            for i in range(n):
                found[i + 1] += found[i]
            left = np.empty(found[-1], np.int64)
            right = np.empty(found[-1], np.int64)
        for i in range(n):
            sx0, sy0 = source_bounds[i, 0], source_bounds[i, 1]
            sx1, sy1 = source_bounds[i, 2], source_bounds[i, 3]
            if not (sx0 <= x1 and sx1 >= x0 and sy0 <= y1 and sy1 >= y0):
                continue  # outside every target's box (or NaN)
            ca = max(0, min(side - 1, int((sx0 - x0) / width)))
            cb = max(0, min(side - 1, int((sx1 - x0) / width)))
            ra = max(0, min(side - 1, int((sy0 - y0) / height)))
            rb = max(0, min(side - 1, int((sy1 - y0) / height)))
            k = 0
            for r in range(ra, rb + 1):
                for c in range(ca, cb + 1):
                    cell = r * side + c
                    for q in range(counts[cell], counts[cell + 1]):
                        t = members[q]
                        tx0, ty0 = target_bounds[t, 0], target_bounds[t, 1]
                        tx1, ty1 = target_bounds[t, 2], target_bounds[t, 3]
                        if sx0 > tx1 or sx1 < tx0 or sy0 > ty1 or sy1 < ty0:
                            continue
                        cx = max(0, min(side - 1, int((max(sx0, tx0) - x0) / width)))
                        cy = max(0, min(side - 1, int((max(sy0, ty0) - y0) / height)))
                        if cx != c or cy != r:
                            continue
                        if step == 0:
                            found[i + 1] += 1
                        else:
                            left[found[i] + k] = i
                            right[found[i] + k] = t
                            k += 1
    return left, right


def _rings_of(keep, coords, ring_offsets, first, part_offsets, geom_offsets):
    """The kernel's ring arrays (rings grouped per geometry, parts flattened) of the
    geometries in ``keep`` (a mask)."""
    rings_per_geom = part_offsets[geom_offsets[1:]] - part_offsets[geom_offsets[:-1]]
    ring_start = part_offsets[geom_offsets[:-1]]
    counts = rings_per_geom[keep]
    starts = ring_start[keep]
    # the rings of the kept geometries, in order (each geometry's rings are contiguous)
    ring_ids = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
    ring_ids += np.arange(counts.sum())
    lengths = ring_offsets[ring_ids + 1] - ring_offsets[ring_ids]
    coord_start = ring_offsets[ring_ids] - np.concatenate([[0], np.cumsum(lengths)[:-1]])
    coord_ids = np.repeat(coord_start, lengths)
    coord_ids += np.arange(lengths.sum())
    new_rings = np.zeros(len(ring_ids) + 1, np.int64)
    np.cumsum(lengths, out=new_rings[1:])
    new_geoms = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=new_geoms[1:])
    return np.ascontiguousarray(coords[coord_ids]), new_rings, new_geoms, first[ring_ids]


def _file_pieces(
    fs, path: str, targets: gpd.GeoDataFrame, area_crs, columns: list[str], with_match: bool
) -> dict:
    """:func:`_partition_pieces` of one GeoParquet file with GeoArrow polygons, read on
    the worker straight from the Arrow buffers into the compiled kernel's ring arrays:
    no geometry objects are built for the sources (their areas come from the
    coordinates with GEOS' own formula, their boxes with numpy). A file in another
    encoding or CRS, or a ring the kernel's buffers cannot take, goes the general way."""
    import pyarrow.parquet as pq
    from pyproj import CRS

    from explorer._overlay import _orient_rings, _pair_areas, boundary_index, geometry_arrays
    from explorer.apportion import check_counts, real_pieces

    _one_thread_on_a_worker()
    schema = pq.read_schema(path, filesystem=fs)
    geometry, meta = _geo_column(schema)
    wanted = [*columns, "match"] if with_match else list(columns)
    missing = [c for c in wanted if c not in schema.names]
    if missing:
        raise ExplorerError(f"no column {missing[0]!r}", source=path, hint=_SAME_COLUMNS)
    table = pq.read_table(path, columns=[*wanted, geometry], filesystem=fs)
    rings = None
    simple = str(meta.get("encoding")).lower() == "polygon"
    if str(meta.get("encoding")).lower() in GEOARROW_POLYGONS:
        crs = meta.get("crs", "OGC:CRS84")  # GeoParquet: no crs means lon/lat
        if crs is not None and CRS.from_user_input(crs).equals(CRS.from_user_input(area_crs)):
            rings = _geoarrow_rings(table.column(geometry), 2 if simple else 3)
    if rings is None:
        return _general_file_pieces(fs, path, targets, area_crs, columns, with_match)
    coords, ring_offsets, first, part_offsets, geom_offsets, valid = raw = rings
    n_coords = (
        ring_offsets[part_offsets[geom_offsets[1:]]] - ring_offsets[part_offsets[geom_offsets[:-1]]]
    )
    has_geometry = valid & (n_coords > 0)
    frame = table.select(wanted).to_pandas()
    try:
        check_counts(frame, columns, path)
    except ExplorerError:  # name the row by its ID too: read the file's other columns
        others = [c for c in schema.names if c != geometry]
        check_counts(pq.read_table(path, columns=others, filesystem=fs).to_pandas(), columns, path)
    kind = shapely.GeometryType.POLYGON if simple else shapely.GeometryType.MULTIPOLYGON
    offsets = (raw[1], raw[3]) if simple else (raw[1], raw[3], raw[4])
    screen = _compiled(_maybe_invalid)(coords, ring_offsets, part_offsets, geom_offsets)
    screen &= has_geometry
    if screen.any():  # GEOS decides on the geometries the screen could not clear
        built = shapely.from_ragged_array(kind, raw[0], offsets)
        if not shapely.is_valid(built[screen]).all():
            # an invalid polygon (a bowtie...) is repaired on the general path, with a note
            return _general_file_pieces(fs, path, targets, area_crs, columns, with_match)
    all_values = frame[columns].to_numpy(dtype=float)
    unmapped = all_values[~has_geometry].sum(axis=0)
    areas = _compiled(_geos_areas)(coords, ring_offsets, part_offsets, geom_offsets)
    source_area = areas[has_geometry]
    coords, ring_offsets, geom_offsets, exterior = _rings_of(
        has_geometry, coords, ring_offsets, first, part_offsets, geom_offsets
    )
    _orient_rings(coords, ring_offsets, exterior)
    starts = ring_offsets[geom_offsets[:-1]]
    source_index = target_index = np.zeros(0, dtype=np.int64)
    piece_area = np.zeros(0)
    if len(starts):
        bounds = np.column_stack(
            [
                np.minimum.reduceat(coords[:, 0], starts),
                np.minimum.reduceat(coords[:, 1], starts),
                np.maximum.reduceat(coords[:, 0], starts),
                np.maximum.reduceat(coords[:, 1], starts),
            ]
        )
        target_geoms = targets.geometry.values
        target_bounds = shapely.bounds(target_geoms)
        pairs = _compiled(_box_pairs)(bounds, target_bounds, _grid_side(target_bounds))
        source_index, target_index = pairs
        source_arrays = (
            coords,
            ring_offsets,
            geom_offsets,
            bounds,
            *boundary_index(coords, ring_offsets, geom_offsets),
        )
        try:
            piece_area = _pair_areas(
                source_arrays,
                geometry_arrays(target_geoms),
                source_index.astype(np.int64),
                target_index.astype(np.int64),
            )
        except ValueError:  # a ring outgrew the clip buffers: GEOS, as the local backend
            return _general_file_pieces(fs, path, targets, area_crs, columns, with_match)
        source_index, target_index, piece_area = real_pieces(
            source_index, target_index, piece_area, source_area
        )
        order = np.lexsort((target_index, source_index))  # piece_areas' canonical order
        source_index, target_index = source_index[order], target_index[order]
        piece_area = piece_area[order]
    kept = np.flatnonzero(has_geometry)

    def geometries_of(rows):  # only for sources under overlapping targets
        return shapely.from_ragged_array(kind, raw[0], offsets)[kept[rows]]

    terms = _terms(
        targets,
        all_values[has_geometry],
        frame["match"].to_numpy()[has_geometry] if with_match else None,
        (source_index, target_index, piece_area),
        source_area,
        geometries_of,
        unmapped,
    )
    terms["notes"] = []
    return terms


def _general_file_pieces(fs, path, targets, area_crs, columns, with_match) -> dict:
    """:func:`_partition_pieces` of one parquet file read with geopandas."""
    part = gpd.read_parquet(path, filesystem=fs)
    return _partition_pieces(part, targets, area_crs, columns, "numba", with_match, path)


def _accumulate(pieces: dict, running: dict | None) -> dict:
    """``running`` plus one partition's terms, added one by one in the local backend's
    order (source, then target), so the float sums are the local ones bit for bit; runs
    where the partition's pieces are and returns only per-target and per-column sums."""
    from explorer.apportion import running_total

    if "error" in pieces or (running is not None and "error" in running):
        return running if running is not None and "error" in running else pieces
    if running is None:
        n_terms, n_columns = pieces["terms"].shape[1], pieces["outside"].shape[1]
        running = {
            "by_target": np.zeros((pieces["n_targets"], n_terms)),
            **{key: np.zeros(n_columns) for key in ("outside", "overlap", "unmapped")},
        }
    by_target = running["by_target"].copy()
    np.add.at(by_target, pieces["target"], pieces["terms"])
    return {
        "by_target": by_target,
        "outside": running_total(pieces["outside"], running["outside"]),
        "overlap": running_total(pieces["overlap"], running["overlap"]),
        "unmapped": running["unmapped"] + pieces["unmapped"],
        "notes": [*running.get("notes", []), *pieces.get("notes", [])],
    }


def _partition_name(sources, i: int) -> str:
    """Partition ``i`` of ``sources`` as a message names it: its file, when known."""
    files = parquet_files(sources, any_encoding=True)
    return str(files[i][1]) if files and i < len(files) else f"partition {i} of the sources"


def _check_files(sources, columns: list[str]) -> None:
    """Refuse, before any task runs, a parquet file of ``sources`` that lacks one of
    ``columns`` (dask takes the columns from the first file: a later file without one
    would fail on a worker with a KeyError and its traceback). Reads the files' schemas
    only; any other frame is checked on the workers."""
    files = parquet_files(sources, any_encoding=True)
    if not files:
        return
    import pyarrow.parquet as pq

    for fs, path in files:
        names = pq.read_schema(path, filesystem=fs).names
        missing = [c for c in columns if c not in names]
        if missing:
            raise ExplorerError(f"no column {missing[0]!r}", source=path, hint=_SAME_COLUMNS)


def frame_bounds(sources) -> np.ndarray:
    """Total bounds of a dask-geopandas frame: from its spatial partitions when it has them
    (no read), else computed on the cluster."""
    spatial = getattr(sources, "spatial_partitions", None)
    if spatial is not None and len(spatial):
        return np.asarray(spatial.total_bounds)
    return np.asarray(sources.total_bounds.compute())


def sums_from_partitions(
    sources,
    targets: gpd.GeoDataFrame,
    area_crs,
    columns: list[str],
    engine: str,
    *,
    scheduler: str | None = None,
) -> tuple[dict, np.ndarray]:
    """The per-target sums and ledger totals of :func:`explorer.apportion.result_from_sums`
    for a dask-geopandas ``sources`` frame, computed where its partitions are read (see the
    module notes), and the counts of sources without geometry. ``targets`` are already in
    ``area_crs``. Each partition's pieces stay on its worker; a chain of small tasks adds
    them to a running total in partition order (the local backend's row order), so only
    targets x terms floats travel and every number equals a local run on the same rows."""
    _require_dask()
    import dask

    missing = [c for c in columns if c not in sources.columns]
    if missing:
        raise ExplorerError(f"the source layer has no column {missing[0]!r}")
    with_match = "match" in sources.columns
    _check_files(sources, [*columns, "match"] if with_match else columns)
    targets = gpd.GeoDataFrame(geometry=targets.geometry.values, crs=targets.crs)
    client = _client(scheduler)
    try:
        if client is not None:
            shared = client.scatter(targets, broadcast=True, hash=False)
        else:
            shared = dask.delayed(targets)
        running = None
        if client is not None:
            # each partition is read on some worker; its pieces and its step of the
            # running total are pinned there (left free, the scheduler moved whole
            # partitions between the workers: 1.5-2 s per transfer at 125,000 sources)
            from distributed import wait

            files = parquet_files(sources) if engine == "numba" else None
            for fs, path in files or []:
                # GeoArrow files: each read where its pieces are made, in one task
                pieces = client.submit(
                    _reported(_file_pieces),
                    fs,
                    path,
                    shared,
                    area_crs,
                    list(columns),
                    with_match,
                    pure=False,
                )
                running = client.submit(_accumulate, pieces, running, pure=False)
            parts = [] if files else client.compute(sources.to_delayed())
            wait(parts)
            where = client.who_has(parts)
            for i, part in enumerate(parts):
                here = {"workers": list(where[part.key]), "allow_other_workers": False}
                pieces = client.submit(
                    _reported(_partition_pieces),
                    part,
                    shared,
                    area_crs,
                    list(columns),
                    engine,
                    with_match,
                    _partition_name(sources, i),
                    pure=False,
                    **here,
                )
                running = client.submit(_accumulate, pieces, running, pure=False, **here)
            parts = part = pieces = None  # a partition is freed once its pieces are made
            if running is None:
                raise ExplorerError("the source layer has no partitions")
            total = running.result()
        else:
            for i, part in enumerate(sources.to_delayed()):
                pieces = dask.delayed(_reported(_partition_pieces))(
                    part,
                    shared,
                    area_crs,
                    list(columns),
                    engine,
                    with_match,
                    _partition_name(sources, i),
                )
                running = dask.delayed(_accumulate)(pieces, running)
            if running is None:
                raise ExplorerError("the source layer has no partitions")
            total = running.compute()
    finally:
        if client is not None:
            client.close()
    if "error" in total:
        raise ExplorerError(total["error"])
    by_target = total["by_target"]
    n = len(columns)
    sums = {
        "moved": by_target[:, :n],
        "total": by_target[:, n],
        "partial": by_target[:, n + 1],
        "covered": by_target[:, -1],
        "outside": total["outside"],
        "overlap": total["overlap"],
    }
    if with_match:
        from explorer.apportion import MATCH_CLASSES

        for i, name in enumerate(MATCH_CLASSES):
            sums[name] = by_target[:, n + 2 + i]
    return sums, total["unmapped"], total.get("notes", [])
