"""Apportionment pairs on a dask cluster (dask-geopandas), for inputs too big for one machine.

Sources as a dask-geopandas frame (``dask_geopandas.read_parquet(...)``): each partition is
read on a worker and stays there. The targets (small) go to every worker once; a task
reprojects its partition, pairs it with the targets whose boxes meet the partition's box and
computes the exact piece areas with the same function as the local backend; it returns the
pairs, the sources' areas and counts (not their geometry). Nothing is shuffled: a spatially
partitioned input (Hilbert-sorted files, or ``spatial_shuffle`` once, before writing) keeps
each task's targets few, and any other partitioning still gives the same numbers.

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
            hint="pip install 'explorer[dask]'",
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


def is_dask_frame(frame) -> bool:
    """Whether ``frame`` is a dask(-geopandas) frame (partitions read where they are used)."""
    return hasattr(frame, "to_delayed") and hasattr(frame, "npartitions")


def _partition_pieces(
    part: gpd.GeoDataFrame, targets: gpd.GeoDataFrame, area_crs, columns: list[str], engine: str
) -> dict:
    """Everything :func:`explorer.apportion.apportion` needs from one source partition:
    pairs (partition rows of the mapped sources, target rows), piece areas, the mapped
    sources' areas, counts and match class, and the counts of sources without geometry."""
    from explorer.apportion import piece_areas

    _one_thread_on_a_worker()
    has_geometry = ~(part.geometry.is_empty | part.geometry.isna()).to_numpy()
    unmapped = part.loc[~has_geometry, columns].to_numpy(dtype=float).sum(axis=0)
    mapped = reproject(part[has_geometry], area_crs).reset_index(drop=True)
    out = {
        "n": len(mapped),
        "unmapped": unmapped,
        "values": mapped[columns].to_numpy(dtype=float),
        "source_area": shapely.area(mapped.geometry.values),
        "match": mapped["match"].to_numpy() if "match" in mapped.columns else None,
    }
    near = np.zeros(0, dtype=np.int64)
    if len(mapped):
        box = shapely.box(*mapped.total_bounds)
        near = np.sort(shapely.STRtree(targets.geometry.values).query(box))
    if not len(near):
        empty = np.zeros(0, dtype=np.int64)
        return {**out, "source": empty, "target": empty, "area": np.zeros(0)}
    chunk = targets.iloc[near].reset_index(drop=True)
    source_index, target_index, areas = piece_areas(mapped, chunk, engine)
    return {**out, "source": source_index, "target": near[target_index], "area": areas}


def frame_bounds(sources) -> np.ndarray:
    """Total bounds of a dask-geopandas frame: from its spatial partitions when it has them
    (no read), else computed on the cluster."""
    spatial = getattr(sources, "spatial_partitions", None)
    if spatial is not None and len(spatial):
        return np.asarray(spatial.total_bounds)
    return np.asarray(sources.total_bounds.compute())


def pieces_from_partitions(
    sources,
    targets: gpd.GeoDataFrame,
    area_crs,
    columns: list[str],
    engine: str,
    *,
    scheduler: str | None = None,
) -> dict:
    """Pairs and per-source arrays of a dask-geopandas ``sources`` frame, computed where
    its partitions are read (see the module notes). ``targets`` are already in
    ``area_crs``. Returns global rows (mapped sources in partition order, as the local
    backend numbers them) sorted by source then target, so every number after is
    identical to a local run on the same rows."""
    _require_dask()
    import dask

    missing = [c for c in columns if c not in sources.columns]
    if missing:
        raise ExplorerError(f"the source layer has no column {missing[0]!r}")
    targets = gpd.GeoDataFrame(geometry=targets.geometry.values, crs=targets.crs)
    client = _client(scheduler)
    try:
        if client is not None:
            shared = client.scatter(targets, broadcast=True, hash=False)
        else:
            shared = dask.delayed(targets)
        tasks = [
            dask.delayed(_partition_pieces)(part, shared, area_crs, list(columns), engine)
            for part in sources.to_delayed()
        ]
        results = client.compute(tasks, sync=True) if client else dask.compute(*tasks)
    finally:
        if client is not None:
            client.close()
    offsets = np.concatenate([[0], np.cumsum([r["n"] for r in results])])
    source_index = np.concatenate(
        [r["source"] + offset for r, offset in zip(results, offsets)]
    ).astype(np.int64)
    target_index = np.concatenate([r["target"] for r in results]).astype(np.int64)
    areas = np.concatenate([r["area"] for r in results])
    order = np.lexsort((target_index, source_index))
    matches = [r["match"] for r in results]
    return {
        "source": source_index[order],
        "target": target_index[order],
        "area": areas[order],
        "source_area": np.concatenate([r["source_area"] for r in results]),
        "values": np.concatenate([r["values"] for r in results]).reshape(-1, len(columns)),
        "match": None if any(m is None for m in matches) else np.concatenate(matches),
        "unmapped": np.sum([r["unmapped"] for r in results], axis=0),
        "partition_rows": offsets,
    }


def geometries_of(sources, rows: np.ndarray, partition_rows: np.ndarray, area_crs) -> np.ndarray:
    """Geometries (in ``area_crs``) of global mapped-source ``rows`` of a dask frame, read
    from the partitions that hold them (used only where targets overlap)."""
    which = np.searchsorted(partition_rows, rows, side="right") - 1
    out = np.empty(len(rows), dtype=object)
    for k in np.unique(which):
        part = sources.get_partition(int(k)).compute()
        mapped = part[~(part.geometry.is_empty | part.geometry.isna()).to_numpy()]
        geoms = reproject(mapped, area_crs).geometry.values
        local = rows[which == k] - partition_rows[k]
        out[which == k] = np.asarray(geoms)[local]
    return out
