"""Apportionment pairs on a dask cluster (dask-geopandas), for inputs too big for one machine.

Sources as a dask-geopandas frame (``dask_geopandas.read_parquet(...)``): each partition is
read on a worker and stays there. The targets (small) go to every worker once; a task
reprojects its partition, pairs it with the targets whose boxes meet the partition's box,
computes the exact piece areas with the same function as the local backend and, still on
the worker, each piece's terms of the sums the result is made of (weight x counts, the
piece's area, the votes outside every target...). Nothing per source or per pair comes
back: a chain of small tasks adds the partitions' terms to a running per-target total in
partition order, one term after another in the local backend's order (source, then
target), so the floats are the local ones bit for bit; only targets x terms floats travel.
Nothing is shuffled: a spatially partitioned input (Hilbert-sorted files, or
``spatial_shuffle`` once, before writing) keeps each task's targets few, and any other
partitioning still gives the same numbers.

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
from scipy import sparse

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
    part: gpd.GeoDataFrame,
    targets: gpd.GeoDataFrame,
    area_crs,
    columns: list[str],
    engine: str,
    with_match: bool,
) -> dict:
    """One source partition's share of every sum :func:`explorer.apportion.apportion`
    reports, left on the worker for :func:`_accumulate`: the target of each piece and the
    piece's terms (weight x counts for each column, for all votes, the partly-covered
    votes and each match class, then the piece area), each source's votes outside every
    target and counted twice, and the counts of sources without geometry. Every term is
    computed as the local backend computes it (same pieces, same order, same operations)."""
    from explorer.apportion import (
        MATCH_CLASSES,
        PARTIAL_TOLERANCE,
        _covered_share,
        piece_areas,
    )

    _one_thread_on_a_worker()
    has_geometry = ~(part.geometry.is_empty | part.geometry.isna()).to_numpy()
    unmapped = part.loc[~has_geometry, columns].to_numpy(dtype=float).sum(axis=0)
    mapped = reproject(part[has_geometry], area_crs).reset_index(drop=True)
    values = mapped[columns].to_numpy(dtype=float)
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
    weight = piece_area / shapely.area(source_geoms)[source_index]
    # the rows of the local backend's weight table that belong to these sources
    matrix = sparse.csr_matrix(
        (weight, (source_index, target_index)), shape=(len(mapped), len(targets))
    )
    inside_share = np.asarray(matrix.sum(axis=1)).ravel()
    covered_share = _covered_share(lambda rows: source_geoms[rows], targets, inside_share)
    vote_sum = values.sum(axis=1)
    partial = (inside_share < 1 - PARTIAL_TOLERANCE) | (
        np.bincount(source_index, minlength=len(mapped)) > 1
    )
    per_source = [values, vote_sum, vote_sum * partial]
    if with_match:
        match = pd.Series(mapped["match"].to_numpy())
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


def _accumulate(pieces: dict, running: dict | None) -> dict:
    """``running`` plus one partition's terms, added one by one in the local backend's
    order (source, then target), so the float sums are the local ones bit for bit; runs
    where the partition's pieces are and returns only per-target and per-column sums."""
    from explorer.apportion import running_total

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
    }


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

            parts = client.compute(sources.to_delayed())
            wait(parts)
            where = client.who_has(parts)
            for part in parts:
                here = {"workers": list(where[part.key]), "allow_other_workers": False}
                pieces = client.submit(
                    _partition_pieces,
                    part,
                    shared,
                    area_crs,
                    list(columns),
                    engine,
                    with_match,
                    pure=False,
                    **here,
                )
                running = client.submit(_accumulate, pieces, running, pure=False, **here)
            parts = part = pieces = None  # a partition is freed once its pieces are made
            if running is None:
                raise ExplorerError("the source layer has no partitions")
            total = running.result()
        else:
            for part in sources.to_delayed():
                pieces = dask.delayed(_partition_pieces)(
                    part, shared, area_crs, list(columns), engine, with_match
                )
                running = dask.delayed(_accumulate)(pieces, running)
            if running is None:
                raise ExplorerError("the source layer has no partitions")
            total = running.compute()
    finally:
        if client is not None:
            client.close()
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
    return sums, total["unmapped"]
