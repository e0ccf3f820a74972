"""The dask backend with partitions read on the workers, against the local backend.

    python -m bench.partitions SOURCES TARGETS [--workers 2] [--partitions 8]
                                               [--encoding geoarrow|WKB] [--rounds 3]

Writes the synthetic sources once as a Hilbert-sorted GeoParquet dataset (one file per
partition, GeoArrow polygons by default, not timed), then times in this process, on the
same rows:

- local: ``apportion`` of the frame in memory (and, apart, reading the parquet first);
- dask: ``apportion`` of ``dask_geopandas.read_parquet(...)`` on a LocalCluster of
  ``--workers`` processes with one thread each (numba one thread per worker), after a
  warm-up run on the same cluster (a cold worker loads the compiled kernel once: timed apart;
  the local run is warmed up too, on 3,000 rows). With GeoArrow files each worker reads its
  files straight into ring arrays; reading alone (no pieces) is timed apart, on the workers.

Both sides are timed ``--rounds`` times (3), alternating local and dask so that a swing in
the machine's load hits both. Prints one JSON line: per round and as medians, wall and CPU
seconds (CPU of this process only for dask: the workers' CPU is read from their own
clocks), dask / local, whether the results are identical (every column and attr:
counts, totals, shares, partial_share, coverage, outside, overlap, unmapped...); the
numba thread count of the local run and the machine's 1-minute load average before and
at the end. The local run is also timed once before the cluster starts (its idle workers
take a little CPU), and dask's median against it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np


def write_partitioned(sources, folder: Path, n_parts: int, encoding: str = "geoarrow") -> Path:
    """The sources as a partitioned dataset: :func:`explorer.distributed.write_partitions`."""
    from explorer.distributed import write_partitions

    return write_partitions(sources, folder, n_parts, encoding=encoding)


def _worker_cpu() -> float:
    import time as _time

    return _time.process_time()


def _read_rings(file) -> int:
    """Reading alone, as the workers read GeoArrow files: the file's columns into Arrow,
    then the geometry into ring arrays."""
    import pyarrow.parquet as pq

    from explorer.distributed import _geo_column, _geoarrow_rings

    fs, path = file
    geometry, meta = _geo_column(pq.read_schema(path, filesystem=fs))
    table = pq.read_table(path, filesystem=fs)
    rings = _geoarrow_rings(table.column(geometry), 2 if meta["encoding"] == "polygon" else 3)
    return len(rings[0])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sources", type=int)
    parser.add_argument("targets", type=int)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--encoding", choices=["geoarrow", "WKB"], default="geoarrow")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp())
    try:
        print(json.dumps(_measure(args, folder)))
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # about 35 MB per million sources


def _measure(args, folder: Path) -> dict:
    """The JSON point of :func:`main` (the dataset written under ``folder``)."""
    import dask_geopandas
    import numba
    from distributed import Client, LocalCluster

    from bench.synthetic import jittered_grid, voronoi_targets
    from explorer.apportion import apportion
    from explorer.distributed import parquet_files

    columns = ["A", "B"]
    path = write_partitioned(
        jittered_grid(args.sources), folder, args.partitions, encoding=args.encoding
    )
    targets = voronoi_targets(args.targets)

    start = time.perf_counter()
    # the partitions' own order (file names part.10 sort before part.2 on disk)
    sources = dask_geopandas.read_parquet(path).compute(scheduler="threads")
    read_seconds = time.perf_counter() - start

    def same(local, remote) -> bool:
        """Every column (counts, total, winner, shares, partial_share, coverage) and every
        attr (outside, overlap, unmapped, notes, method...) equal, floats bit for bit."""
        if list(local.columns) != list(remote.columns) or set(local.attrs) != set(remote.attrs):
            return False
        for c in local.columns:
            a, b = local[c], remote[c]
            if c == local.geometry.name:
                continue  # the targets, passed through
            if a.dtype.kind == "f":
                if not np.array_equal(a.to_numpy(), b.to_numpy(), equal_nan=True):
                    return False
            elif not a.equals(b):
                return False
        for key, value in local.attrs.items():
            other = remote.attrs[key]
            if not (value.equals(other) if hasattr(value, "equals") else value == other):
                return False
        return True

    point = {
        "sources": len(sources),
        "targets": len(targets),
        "numba_threads": numba.get_num_threads(),
        "local_read_seconds": read_seconds,
        "workers": args.workers,
        "partitions": args.partitions,
        "encoding": args.encoding,
        "load_average_1min_before": os.getloadavg()[0],
    }
    # once before the cluster exists as well (its idle workers use some CPU: about 0.15 s
    # of heartbeats and monitoring over a 3.5 s local run at load 4.5)
    apportion(sources.head(3_000), targets, columns)  # compile or load the kernel
    start = time.perf_counter()
    apportion(sources, targets, columns)
    point["local_seconds_without_cluster"] = time.perf_counter() - start
    with (
        LocalCluster(
            n_workers=args.workers, threads_per_worker=1, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        address = cluster.scheduler_address
        frame = dask_geopandas.read_parquet(path)
        point["spatial_partitions"] = frame.spatial_partitions is not None
        start = time.perf_counter()
        apportion(frame.partitions[:4], targets, columns, backend="dask", scheduler=address)
        point["dask_warmup_seconds"] = time.perf_counter() - start
        files = parquet_files(frame)
        point["read_on_workers_into_ring_arrays"] = files is not None
        before = sum(client.run(_worker_cpu).values())
        start = time.perf_counter()
        if files is not None:
            client.gather(client.map(_read_rings, files, pure=False))
        else:
            frame.map_partitions(len).compute()
        point["dask_read_only_seconds"] = time.perf_counter() - start
        point["dask_read_only_worker_cpu_seconds"] = sum(client.run(_worker_cpu).values()) - before
        rounds = []
        for _ in range(args.rounds):  # local and dask alternate: a load swing hits both
            before = sum(client.run(_worker_cpu).values())
            start, start_cpu = time.perf_counter(), time.process_time()
            local = apportion(sources, targets, columns)
            one = {
                "local_seconds": time.perf_counter() - start,
                "local_cpu_seconds": time.process_time() - start_cpu,
                # the idle workers' CPU meanwhile (heartbeats): not counted anywhere
                "idle_worker_cpu_seconds": sum(client.run(_worker_cpu).values()) - before,
            }
            before = sum(client.run(_worker_cpu).values())
            start, start_cpu = time.perf_counter(), time.process_time()
            remote = apportion(frame, targets, columns, backend="dask", scheduler=address)
            one["dask_seconds"] = time.perf_counter() - start
            one["dask_client_cpu_seconds"] = time.process_time() - start_cpu
            one["dask_worker_cpu_seconds"] = sum(client.run(_worker_cpu).values()) - before
            one["identical"] = same(local, remote)
            one["dask_over_local"] = one["dask_seconds"] / one["local_seconds"]
            rounds.append({k: round(v, 3) if isinstance(v, float) else v for k, v in one.items()})
    for key in rounds[0]:
        if key != "identical":
            point[key] = float(np.median([r[key] for r in rounds]))
    point["identical"] = all(r["identical"] for r in rounds)
    point["dask_over_local_range"] = [
        min(r["dask_over_local"] for r in rounds),
        max(r["dask_over_local"] for r in rounds),
    ]
    point["dask_over_local_of_medians"] = point["dask_seconds"] / point["local_seconds"]
    point["dask_over_local_without_cluster"] = (
        point["dask_seconds"] / point["local_seconds_without_cluster"]
    )
    point["rounds"] = rounds
    point["load_average_1min"] = os.getloadavg()[0]
    return point


if __name__ == "__main__":
    main()
