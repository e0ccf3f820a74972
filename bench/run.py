"""Benchmarks, printed as ratios against peers measured in the same run.

    python -m bench            # everything, small sizes (a few minutes)
    python -m bench --full     # plus the 1M-precinct cost curve and a 26k-precinct map
    python -m bench --only curves

Needs the data (EXPLORER_DATA_MIRROR, or the network) and the test extra (tobler,
dask-geopandas); maup is used when installed. Nothing here is a timed assertion.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd


def best_of(function, repeat: int = 3) -> tuple[float, object]:
    """Fastest wall time of ``repeat`` runs, and the last result."""
    best, result = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


def timed(function, repeat: int = 3) -> tuple[float, float, object]:
    """Fastest wall time and fastest CPU time (every thread of this process) of ``repeat``
    runs, and the last result."""
    wall, cpu, result = np.inf, np.inf, None
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = function()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return wall, cpu, result


def county_inputs():
    import explorer
    from explorer import catalog, loaders
    from explorer.crs import CALIFORNIA_ALBERS

    election = explorer.load("ca34-2017-general")
    layer = loaders.load_precincts(
        catalog.local_path(election.spec.precincts.file), "Precinct", crs="EPSG:4326"
    ).to_crs(CALIFORNIA_ALBERS)
    rng = np.random.default_rng(2017)
    layer["A"] = rng.integers(0, 800, len(layer)).astype(float)
    layer["B"] = rng.integers(0, 800, len(layer)).astype(float)
    hoods = election.neighbourhoods.to_crs(CALIFORNIA_ALBERS)
    return election, layer, hoods


def peer_line(name: str, seconds: float, ours: float) -> str:
    """One peer's line: its time and how many times faster explorer was, or (NaN seconds)
    that the peer is not installed, with no ratio."""
    if not np.isfinite(seconds):
        return f"  {name:<25} not installed; not compared (pip install {name})"
    return f"  {name:<25} {seconds * 1000:8.1f} ms   explorer is {seconds / ours:5.1f}x faster"


def bench_apportion(layer: gpd.GeoDataFrame, hoods: gpd.GeoDataFrame) -> None:
    import numba
    from tobler.area_weighted import area_interpolate

    from explorer.apportion import apportion

    columns = ["A", "B"]
    threads = numba.get_num_threads()
    ours_time, ours_cpu, ours = timed(lambda: apportion(layer, hoods, columns))
    numba.set_num_threads(1)
    try:
        one_time, one_cpu, _ = timed(lambda: apportion(layer, hoods, columns))
    finally:
        numba.set_num_threads(threads)
    tobler_time, tobler_cpu, theirs = timed(
        lambda: area_interpolate(layer, hoods, extensive_variables=columns, allocate_total=False)
    )

    def overlay_apportion():
        src = layer.assign(src_area=layer.area, sid=np.arange(len(layer)))
        pieces = gpd.overlay(src, hoods[["name", "geometry"]], how="intersection")
        weight = pieces.area / pieces["src_area"]
        return pieces[columns].mul(weight, axis=0).groupby(pieces["name"]).sum()

    overlay_time, _ = best_of(overlay_apportion, repeat=1)
    rows = [("tobler.area_interpolate", tobler_time), ("geopandas.overlay", overlay_time)]
    try:
        import maup

        def maup_apportion():
            pieces = maup.intersections(layer, hoods)
            w = pieces.area / layer.area.reindex(pieces.index.get_level_values(0)).to_numpy()
            return maup.prorate(pieces, layer[columns], w)

        maup_time, _ = best_of(maup_apportion, repeat=1)
        rows.append(("maup", maup_time))
    except ImportError:
        rows.append(("maup", float("nan")))
    gap = np.max(np.abs(ours[columns].to_numpy() - theirs[columns].to_numpy()))
    from explorer.apportion import area_table

    same_table = area_interpolate(
        layer,
        hoods,
        extensive_variables=columns,
        allocate_total=False,
        table=area_table(layer.reset_index(drop=True), hoods.reset_index(drop=True)),
    )
    relative = np.max(
        np.abs(ours[columns].to_numpy() - same_table[columns].to_numpy())
        / np.maximum(np.abs(same_table[columns].to_numpy()), 1.0)
    )
    print(f"\nApportion {len(layer):,} LA County precincts onto {len(hoods)} neighbourhoods")
    print(f"  load average before: {os.getloadavg()[0]:.2f} (2-core machine shared)")
    print(
        f"  explorer.apportion, numba {threads} threads: wall {ours_time * 1000:7.1f} ms, "
        f"CPU {ours_cpu * 1000:7.1f} ms"
    )
    print(
        f"  explorer.apportion, numba 1 thread:   wall {one_time * 1000:7.1f} ms, "
        f"CPU {one_cpu * 1000:7.1f} ms"
    )
    print(
        f"  tobler (one thread):                  wall {tobler_time * 1000:7.1f} ms, "
        f"CPU {tobler_cpu * 1000:7.1f} ms"
    )
    print(
        f"  per core: explorer uses {tobler_cpu / ours_cpu:4.1f}x less CPU than tobler "
        f"({threads} threads), {tobler_cpu / one_cpu:4.1f}x with 1 thread; wall "
        f"{tobler_time / ours_time:4.1f}x ({threads} threads), {tobler_time / one_time:4.1f}x "
        "(1 thread v 1 thread)"
    )
    for name, seconds in rows:
        print(peer_line(name, seconds, ours_time))
    print(
        f"  largest difference from tobler: {gap:.2e} votes (tobler's area table is float32); "
        f"given our float64 table: {relative:.1e} relative"
    )


def precinct_map(layer: gpd.GeoDataFrame, target: Path, tolerance: float | None = None):
    """A share map of any precinct layer with votes A and B (default simplification)."""
    from explorer import render

    frame = layer.to_crs("EPSG:4326").assign(match="exact")
    share = frame["A"] / (frame["A"] + frame["B"]).replace(0, np.nan)
    tips = [
        render._tip(str(p), [("A", f"{a:.0f}"), ("B", f"{b:.0f}")])
        for p, a, b in zip(frame["precinct"], frame["A"], frame["B"])
    ]
    outline = gpd.GeoDataFrame(geometry=[frame.union_all()], crs=frame.crs)
    fmap, facts = render.choropleth(
        frame,
        render.style_share(share, "A"),
        tips,
        title="Precincts",
        subtitle="synthetic votes",
        layers=render.MapLayers(outline),
        layer_name="Precincts",
        tiles="none",
        tolerance=tolerance,
    )
    return render.save_html(fmap, target), facts


def bench_large_map(layer: gpd.GeoDataFrame, copies: int) -> None:
    """The LA County layer tiled side by side, as a stand-in for a state-sized map."""
    width = layer.total_bounds[2] - layer.total_bounds[0]
    tiles = [layer.translate(xoff=k * width * 1.02).to_frame("geometry") for k in range(copies)]
    big = gpd.GeoDataFrame(
        {
            "precinct": np.arange(len(layer) * copies).astype(str),
            "A": np.tile(layer["A"].to_numpy(), copies),
            "B": np.tile(layer["B"].to_numpy(), copies),
        },
        geometry=pd.concat(tiles).geometry.values,
        crs=layer.crs,
    )
    start = time.perf_counter()
    path, facts = precinct_map(big, Path(tempfile.mkdtemp()) / "big.html")
    seconds = time.perf_counter() - start
    print(
        f"\nLarge map: {len(big):,} precincts ({copies}x LA County): "
        f"{path.stat().st_size / 1e6:.1f} MB in {seconds:.1f} s, tolerance "
        f"{facts['tolerance']:g} m, canvas renderer {facts['canvas']}, coverage valid "
        f"{facts['coverage_valid']}"
    )


def bench_end_to_end() -> None:
    """Wall time and peak memory of commands as a user runs them (a fresh process each)."""
    folder = Path(tempfile.mkdtemp())
    print("\nEnd to end (fresh process, data already fetched):")
    for args in (
        ["map", "ca34-2017-general", "-o", str(folder / "a.html")],
        ["map", "ca34-2017-primary", "--winner", "-o", str(folder / "b.html")],
        ["rank", "ca34-2017-general", "--candidate", "Ahn"],
    ):
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "bench.peak", "explorer", *args],
            check=True,
            capture_output=True,
            text=True,
        )
        seconds = time.perf_counter() - start
        peak = next(
            line.split()[1] for line in done.stderr.splitlines() if line.startswith("PEAK_MB")
        )
        label = " ".join(a for a in args if not a.startswith(str(folder)) and a != "-o")
        print(f"  explorer {label:<45} {seconds:5.1f} s, peak memory {peak:>5} MB")


def bench_curves(full: bool) -> None:
    """Time and peak memory against size, each point in its own process."""
    import json

    sizes = [(10_000, 1_000), (100_000, 1_000), (100_000, 10_000), (1_000_000, 10_000)]
    if not full:
        sizes = [(10_000, 1_000), (30_000, 1_000), (100_000, 1_000)]
    print("\nCost curve: synthetic coverages (jittered grid sources, Voronoi targets)")
    print(
        f"  {'sources':>9} {'targets':>8} {'explorer':>10} {'tobler':>10} {'ratio':>6} "
        f"{'dask (2 workers)':>17} {'peak MB':>8}"
    )
    previous = None
    for n, k in sizes:
        flags = ["--peer"]  # tobler at 1M sources too (--full): the CPU ratio there
        if full or n <= 30_000:
            flags.append("--dask")
        out = subprocess.run(
            [sys.executable, "-m", "bench.curve", str(n), str(k), *flags],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        point = json.loads(out.strip().splitlines()[-1])
        tobler = point.get("tobler_seconds")
        dask_time = point.get("dask_seconds")
        growth = ""
        if previous and previous[1] == k:
            growth = (
                f"  x{point['seconds'] / previous[0]:.1f} time for x{n / previous[2]:.0f} sources"
            )
        print(
            f"  {point['sources']:>9,} {point['targets']:>8,} {point['seconds']:>9.2f}s "
            + (
                f"{tobler:>9.2f}s {tobler / point['seconds']:>5.1f}x "
                f"(CPU {point['cpu_seconds']:.2f}s v {point['tobler_cpu_seconds']:.2f}s: "
                f"{point['tobler_cpu_seconds'] / point['cpu_seconds']:.1f}x) "
                if tobler
                else f"{'-':>10} {'-':>6} "
            )
            + (
                f"{dask_time:>9.2f}s {'same' if point['dask_identical'] else 'DIFF':>7}"
                if dask_time
                else f"{'-':>17}"
            )
            + f" {point['peak_mb']:>8.0f}{growth}"
        )
        previous = (point["seconds"], k, n)
    print("\nThe dask backend, partitions read on 2 local workers (one thread each) from parquet")
    for n, k in [(100_000, 1_000)] + ([(1_000_000, 10_000)] if full else []):
        out = subprocess.run(
            [sys.executable, "-m", "bench.partitions", str(n), str(k)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        p = json.loads(out.strip().splitlines()[-1])
        print(
            f"  {p['sources']:>9,} sources, {p['partitions']} partitions: dask "
            f"{p['dask_seconds']:.2f} s (workers' CPU {p['dask_worker_cpu_seconds']:.2f} s, "
            f"reading alone {p['dask_read_only_seconds']:.2f} s) v local "
            f"{p['local_seconds']:.2f} s (CPU {p['local_cpu_seconds']:.2f} s; read "
            f"{p['local_read_seconds']:.2f} s apart): {p['dask_over_local']:.2f}x the local "
            f"time, {p['dask_seconds'] / (p['local_seconds'] + p['local_read_seconds']):.2f}x "
            f"local with its read; {'identical' if p['identical'] else 'DIFFERENT'}"
        )


def bench_maps(election, layer: gpd.GeoDataFrame) -> None:
    from explorer import render

    folder = Path(tempfile.mkdtemp())

    def ours_runoff():
        fmap = election.map(tiles="none")
        return render.save_html(fmap, folder / "runoff.html")

    def explore_runoff():
        mapped = election.precincts[election.precincts["match"] != "none"]
        fmap = mapped.explore(column="margin", tiles=None)
        fmap.save(str(folder / "runoff-explore.html"))
        return folder / "runoff-explore.html"

    def ours_county():
        path, facts = precinct_map(layer, folder / "county.html")
        ours_county.coverage_valid = facts["coverage_valid"]
        return path

    def explore_county():
        fmap = layer.to_crs("EPSG:4326").explore(column="A", tiles=None)
        fmap.save(str(folder / "county-explore.html"))
        return folder / "county-explore.html"

    print("\nMaps (HTML size and build time, against GeoDataFrame.explore() on the same layer)")
    for label, ours, theirs in (
        ("(a) CA-34 runoff", ours_runoff, explore_runoff),
        ("(b) 4,357 LA County precincts", ours_county, explore_county),
    ):
        ours_time, ours_path = best_of(ours, repeat=1)
        their_time, their_path = best_of(theirs, repeat=1)
        ours_size, their_size = ours_path.stat().st_size, their_path.stat().st_size
        print(
            f"  {label}: explorer {ours_size / 1e6:6.2f} MB in {ours_time:5.1f} s; "
            f"explore() {their_size / 1e6:6.2f} MB in {their_time:5.1f} s; "
            f"size ratio {their_size / ours_size:4.1f}x smaller"
        )
    print(f"  (b) simplified coverage free of gaps and overlaps: {ours_county.coverage_valid}")


SECTIONS = ("apportion", "maps", "large-map", "end-to-end", "curves", "ei")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--full",
        action="store_true",
        help="large runs too: 1M-precinct cost curve, 6x LA County map",
    )
    parser.add_argument("--only", choices=SECTIONS, action="append", help="run some sections")
    args = parser.parse_args(argv)
    chosen = args.only or list(SECTIONS)
    mirror = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mirror"
    if mirror.is_dir():
        os.environ.setdefault("EXPLORER_DATA_MIRROR", str(mirror))
    election, layer, hoods = county_inputs()
    if "apportion" in chosen:
        bench_apportion(layer, hoods)
    if "maps" in chosen:
        bench_maps(election, layer)
    if "large-map" in chosen:
        bench_large_map(layer, 6 if args.full else 2)
    if "end-to-end" in chosen:
        bench_end_to_end()
    if "curves" in chosen:
        bench_curves(args.full)
    if "ei" in chosen:
        from bench.ei import bench_ei

        bench_ei()
    return 0


if __name__ == "__main__":
    sys.exit(main())
