"""Benchmarks, printed as ratios against peers measured in the same run.

    python -m bench.run            # apportionment and map benchmarks on the real LA data

Needs the data (EXPLORER_DATA_MIRROR or a network) and the test extra (tobler); maup is
used when installed. Nothing here is a timed assertion.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np


def best_of(function, repeat: int = 3) -> tuple[float, object]:
    """Fastest wall time of ``repeat`` runs, and the last result."""
    best, result = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
    return best, result


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


def bench_apportion(layer: gpd.GeoDataFrame, hoods: gpd.GeoDataFrame) -> None:
    from tobler.area_weighted import area_interpolate

    from explorer.apportion import apportion

    columns = ["A", "B"]
    ours_time, ours = best_of(lambda: apportion(layer, hoods, columns))
    tobler_time, theirs = best_of(
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
    print(f"  explorer.apportion        {ours_time * 1000:8.1f} ms")
    for name, seconds in rows:
        ratio = seconds / ours_time if np.isfinite(seconds) else float("nan")
        shown = f"{seconds * 1000:8.1f} ms" if np.isfinite(seconds) else "  not installed"
        print(f"  {name:<25} {shown}   explorer is {ratio:5.1f}x faster")
    print(
        f"  largest difference from tobler: {gap:.2e} votes (tobler's area table is float32); "
        f"given our float64 table: {relative:.1e} relative"
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
        frame = layer.to_crs("EPSG:4326").assign(match="exact")
        share = frame["A"] / (frame["A"] + frame["B"]).replace(0, np.nan)
        styled = render.style_share(share, "A")
        tips = [
            render._tip(p, [("A", f"{a:.0f}"), ("B", f"{b:.0f}")])
            for p, a, b in zip(frame["precinct"], frame["A"], frame["B"])
        ]
        outline = gpd.GeoDataFrame(geometry=[frame.union_all()], crs=frame.crs)
        fmap, facts = render.choropleth(
            frame,
            styled,
            tips,
            title="LA County precincts, June 2018",
            subtitle="synthetic votes",
            layers=render.MapLayers(outline),
            layer_name="Precincts",
            tiles="none",
            tolerance=40,
        )
        ours_county.coverage_valid = facts["coverage_valid"]
        return render.save_html(fmap, folder / "county.html")

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


def main() -> int:
    os.environ.setdefault("EXPLORER_DATA_MIRROR", str(Path("../shared/data/mirror").resolve()))
    election, layer, hoods = county_inputs()
    bench_apportion(layer, hoods)
    bench_maps(election, layer)
    return 0


if __name__ == "__main__":
    sys.exit(main())
