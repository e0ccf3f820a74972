"""The real national run: 2020 president by VTD in 37 states, DC and Puerto Rico (74,954
VTDs from Dave's Redistricting, dra2020/vtd_data, CC BY-SA 4.0, no sale).

    python -m bench.national            # read, ledger, states, apportion, map (minutes)
    python -m bench.national --full     # plus opening the 74,954-VTD page in Chromium

Each stage prints wall and CPU seconds (CPU counts every thread of this process) and the
process's peak memory so far. Outputs go to maps/us-2020-president-*.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench.peak import peak_mb

PATTERN = "dra2020/vtd_data/2020_VTD/*/Geojson_*.zip"
VOTES = {"Biden": "E_20_PRES.Dem", "Trump": "E_20_PRES.Rep"}


class Stage:
    def __init__(self, name: str):
        self.name = name

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        wall = time.perf_counter() - self.wall
        cpu = time.process_time() - self.cpu
        row = (self.name, wall, cpu, peak_mb())
        print(f"{row[0]:<34} wall {wall:7.1f} s  cpu {cpu:7.1f} s  peak {row[3]:6.0f} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.national", description=__doc__)
    parser.add_argument("--full", action="store_true", help="also open the page in Chromium")
    parser.add_argument("--hex", type=float, default=25_000, help="hexagon size, metres")
    args = parser.parse_args(argv)

    from explorer import outputs, render
    from explorer.apportion import hex_grid
    from explorer.elections import Election

    out = Path("maps")
    election = Election.from_layer(
        PATTERN,
        votes=VOTES,
        total="E_20_PRES.Total",
        name="us-2020-president",
        title="President 2020 by voting district (37 states, DC, PR)",
        progress=False,
    )
    with Stage("read 39 zips (parallel)"):
        layer = election.layer
    print(f"  {len(layer):,} VTDs in {layer['state'].nunique()} files")
    with Stage("join + ledger"):
        ledger = election.ledger
    print(outputs.format_frame(ledger))
    with Stage("state-by-state summary"):
        states = election.by_state()
    outputs.write_text(out / "us-2020-president-states.csv", states.to_csv())
    print(f"  {len(states) - 1} states; total row {states.loc['total', 'total']:,} votes")
    with Stage(f"hex grid ({args.hex / 1000:g} km)"):
        hexes = hex_grid(election.precincts, args.hex)
    with Stage("apportion onto hexes (area)"):
        areas = election.apportion(hexes, target_id="name")
    with Stage("tract centres as weights"):
        weights = election.weight_layer("tract-centres-2020")
    with Stage("apportion onto hexes (weighted)"):
        weighted = election.apportion(hexes, target_id="name", weights=weights)
    mapped = election.ledger.loc["total", "mapped"]
    for label, table in (("area", areas), ("tract-weighted", weighted)):
        gap = abs(table["total"].sum() + table.attrs["outside"].sum() - mapped)
        print(f"  {label}: {len(table):,} hexes; {table['total'].sum():,.0f} votes, gap {gap:.3g}")
    with Stage("map: build page"):
        fmap, facts, _ = election.build_map("margin", tiles="none")
    page = out / "us-2020-president-margin.html"
    with Stage("map: write page"):
        render.save_html(fmap, page)
    print(
        f"  {facts['features']:,} areas, {facts['points']:,} points, "
        f"{page.stat().st_size / 1e6:.1f} MB"
    )
    if args.full:
        from bench.large_page import open_page

        opened = open_page(page, (42.33, -83.05))
        print(
            f"  Chromium: opened and drawn in {opened['seconds']:.2f} s "
            f"(decode {opened['timing']['decode']:.0f} ms, first draw "
            f"{opened['timing']['draw1']:.0f} ms after the script starts); errors "
            f"{len(opened['errors'])}; tooltip {opened['tip']!r}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
