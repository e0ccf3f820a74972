"""``explorer info ca34-2017-general`` in a fresh process, against a floor measured in the
same run: a Python that imports pandas and reads the same two CSV files (the returns and the
district totals) and sums the votes by candidate. Prints medians of wall and CPU time, the
ratio to the floor and the absolute figure against the issue's 0.5 s target, and the cost of
the pieces (``import explorer``, ``import explorer.cli``, ``import pandas``, ``import typer``)
so that a regression shows where it came from.

    python -m bench.startup [--repeat 7]

Bytecode caching is on (as in an installed package): this machine sets
``PYTHONDONTWRITEBYTECODE``, which would make every run recompile the package's own modules
but not the libraries'; each run of the bench uses its own empty cache folder.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from bench.mainjob import alternate

TARGET = 0.5  # seconds, the figure for `explorer info`

FLOOR = r"""
import sys
import pandas as pd

for path in sys.argv[1:]:
    votes = pd.read_csv(path, dtype={"precinct": str})
    print(votes.groupby("candidate")["votes"].sum().sort_values(ascending=False).head())
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    mirror = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mirror"
    if mirror.is_dir():
        os.environ.setdefault("EXPLORER_DATA_MIRROR", str(mirror))
    from explorer import catalog
    from explorer.specs import election_spec

    spec = election_spec("ca34-2017-general")
    files = [str(catalog.local_path(f)) for f in (spec.returns, spec.totals)]  # fetched now
    folder = Path(tempfile.mkdtemp())
    floor = folder / "floor.py"
    floor.write_text(FLOOR)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")  # this run's own bytecode cache
    python = sys.executable
    info = "explorer info ca34-2017-general"
    floor_label = "floor: pandas reads the same CSVs"
    commands = {
        info: [python, "-m", "explorer", "info", "ca34-2017-general"],
        floor_label: [python, str(floor), *files],
        "python -c 'import explorer'": [python, "-c", "import explorer"],
        "python -c 'import explorer.cli'": [python, "-c", "import explorer.cli"],
        "python -c 'import pandas'": [python, "-c", "import pandas"],
        "python -c 'import typer'": [python, "-c", "import typer"],
        "python -c 'pass'": [python, "-c", "pass"],
    }
    load_before = os.getloadavg()[0]
    runs, median = alternate(commands, env, args.repeat)
    load_after = os.getloadavg()[0]
    print(f"fresh processes, medians of {args.repeat} (after one untimed run of each)")
    for label, rs in runs.items():
        wall, cpu = median[label]
        best = min(r[0] for r in rs), min(r[1] for r in rs)
        print(
            f"{label:<36} wall {wall:5.2f} s, CPU {cpu:5.2f} s "
            f"(best {best[0]:.2f} s, {best[1]:.2f} s)"
        )
    ours, base = median[info], median[floor_label]
    print(
        f"ratio, info v floor (medians): wall {ours[0] / base[0]:.2f}x, CPU "
        f"{ours[1] / base[1]:.2f}x; explorer info: wall {ours[0]:.2f} s, CPU {ours[1]:.2f} s "
        f"against the {TARGET} s target (wall {'met' if ours[0] <= TARGET else 'NOT met'}, "
        f"CPU {'met' if ours[1] <= TARGET else 'NOT met'})"
    )
    print(f"load average (1 min): {load_before:.1f} before, {load_after:.1f} after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
