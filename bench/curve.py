"""One point of the cost curve, in its own process so its peak memory is its own.

    python -m bench.curve SOURCES TARGETS [--peer] [--dask]

Prints one JSON line: sizes, wall time of explorer's apportionment (and of tobler's with
``--peer``, of the dask backend on a 2-worker LocalCluster with ``--dask``), the
conservation gap and the process's peak resident memory.
"""

from __future__ import annotations

import argparse
import json
import time

from bench.peak import peak_mb
from bench.synthetic import jittered_grid, voronoi_targets
from explorer.apportion import apportion, conservation_gap


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sources", type=int)
    parser.add_argument("targets", type=int)
    parser.add_argument("--peer", action="store_true", help="also time tobler")
    parser.add_argument("--dask", action="store_true", help="also time the dask backend")
    args = parser.parse_args()
    sources = jittered_grid(args.sources)
    targets = voronoi_targets(args.targets)
    apportion(sources.head(3_000), targets, ["A", "B"])  # compile (or load) the kernel first
    start, start_cpu = time.perf_counter(), time.process_time()
    result = apportion(sources, targets, ["A", "B"])
    point = {
        "sources": len(sources),
        "targets": len(targets),
        "seconds": time.perf_counter() - start,
        "cpu_seconds": time.process_time() - start_cpu,
        "gap": conservation_gap(sources, result, ["A", "B"]),
    }
    if args.peer:
        from tobler.area_weighted import area_interpolate

        start, start_cpu = time.perf_counter(), time.process_time()
        area_interpolate(sources, targets, extensive_variables=["A", "B"], allocate_total=False)
        point["tobler_seconds"] = time.perf_counter() - start
        point["tobler_cpu_seconds"] = time.process_time() - start_cpu
    if args.dask:
        from distributed import LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster:
            start = time.perf_counter()
            remote = apportion(
                sources, targets, ["A", "B"], backend="dask", scheduler=cluster.scheduler_address
            )
            point["dask_seconds"] = time.perf_counter() - start
        point["dask_identical"] = bool((remote["A"] == result["A"]).all())
    point["peak_mb"] = peak_mb()
    print(json.dumps(point))


if __name__ == "__main__":
    main()
