"""Reconcile the national run with the files themselves, read independently.

    python -m bench.national_check

Reads every ``Geojson_<ST>.v06.zip`` of the 2020 VTD pattern with Python's own ``json``
(no GDAL, no explorer code), counts the features and sums ``datasets.E_20_PRES.Dem``,
``.Rep`` and ``.Total`` per file: DRA's own totals. Then runs the API
(``Election.from_layer``) and the CLI (``explorer ledger``) on the same pattern and
compares: every jurisdiction present, VTD counts (a feature merged with another piece of
the same VTD is named), the state-by-state summary against the sum of the VTDs, and the
votes against DRA's totals. Prints each mismatch; exit status 1 if any.
"""

from __future__ import annotations

import io
import json
import sys
import tempfile
import zipfile
from contextlib import redirect_stdout
from pathlib import Path

import pandas as pd

from bench.national import PATTERN, VOTES

FIELDS = {"Biden": "Dem", "Trump": "Rep", "total": "Total"}


def dra_totals(files: list[Path]) -> pd.DataFrame:
    """Features and E_20_PRES sums per file, read with ``json`` alone; also the IDs that
    occur more than once in a file."""
    rows = {}
    for file in files:
        with zipfile.ZipFile(file) as archive:
            name = next(n for n in archive.namelist() if n.endswith(".geojson"))
            features = json.loads(archive.read(name))["features"]
        state = file.name.split("_")[1].split(".")[0]
        sums = {key: 0 for key in FIELDS}
        ids: dict[str, int] = {}
        for feature in features:
            props = feature["properties"]
            ids[props["id"]] = ids.get(props["id"], 0) + 1
            pres = props.get("datasets", {}).get("E_20_PRES") or {}
            for key, field in FIELDS.items():
                sums[key] += int(pres.get(field) or 0)
        rows[state] = {
            "features": len(features),
            "ids": len(ids),
            "repeated": sorted(i for i, n in ids.items() if n > 1),
            **sums,
        }
    return pd.DataFrame.from_dict(rows, orient="index").sort_index()


def main() -> int:
    from explorer import layer_results
    from explorer.cli import main as cli
    from explorer.elections import Election

    files = layer_results.expand_paths(PATTERN)
    problems: list[str] = []
    dra = dra_totals(files)
    print(
        f"DRA files: {len(dra)} jurisdictions, {dra['features'].sum():,} features, "
        f"{dra['ids'].sum():,} distinct VTD IDs; Biden {dra['Biden'].sum():,}, "
        f"Trump {dra['Trump'].sum():,}, total {dra['total'].sum():,}"
    )
    for state, row in dra[dra["repeated"].str.len() > 0].iterrows():
        print(f"  {state}: ID(s) on more than one feature: {', '.join(row['repeated'])}")

    election = Election.from_layer(
        PATTERN, votes=VOTES, total="E_20_PRES.Total", name="us-2020", progress=False
    )
    states = election.by_state()
    per_state = states.drop(index="total")
    if sorted(per_state.index) != sorted(dra.index):
        missing = sorted(set(dra.index) - set(per_state.index))
        extra = sorted(set(per_state.index) - set(dra.index))
        problems.append(f"jurisdictions missing {missing}, unexpected {extra}")
    precincts = election.precincts
    summed = precincts.groupby("state")[["Biden", "Trump", "total"]].sum()
    if not summed.equals(per_state[["Biden", "Trump", "total"]].astype(summed.dtypes)):
        problems.append("the state-by-state summary differs from the sum of the VTDs")
    for state, row in dra.iterrows():
        if state not in per_state.index:
            continue
        ours = per_state.loc[state]
        if int(ours["precincts"]) != row["ids"]:
            problems.append(f"{state}: {int(ours['precincts'])} VTDs, DRA {row['ids']} IDs")
        for key in FIELDS:
            if int(ours[key]) != row[key]:
                problems.append(f"{state}: {key} {int(ours[key]):,} v DRA {row[key]:,}")
    ledger = election.ledger
    print(
        f"API: {len(precincts):,} VTDs in {len(per_state)} jurisdictions; ledger total "
        f"{int(ledger.loc['total', 'returns']):,} votes, mapped "
        f"{int(ledger.loc['total', 'mapped']):,}; summary total row "
        f"{int(states.loc['total', 'total']):,}"
    )
    if int(ledger.loc["total", "returns"]) != dra["total"].sum():
        problems.append(
            f"ledger total {int(ledger.loc['total', 'returns']):,} v DRA {dra['total'].sum():,}"
        )

    out = Path(tempfile.mkdtemp())
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        code = cli(
            [
                "ledger",
                "us-2020",
                "--precincts",
                PATTERN,
                "--votes",
                ",".join(f"{k}={v}" for k, v in VOTES.items()),
                "--total",
                "E_20_PRES.Total",
                "--out-dir",
                str(out),
            ]
        )
    written = sorted(out.rglob("*states.csv"))
    if code != 0 or not written:
        problems.append(f"CLI ledger exit {code}, states file {written}")
    else:
        cli_states = pd.read_csv(written[0], index_col=0)
        same = (
            (
                cli_states[["Biden", "Trump", "total"]].astype(int)
                == states[["Biden", "Trump", "total"]].astype(int).reindex(cli_states.index)
            )
            .all()
            .all()
        )
        print(
            f"CLI: exit {code}, {written[0].name}: {len(cli_states) - 1} rows, same as API {same}"
        )
        if not same:
            problems.append("the CLI's state summary differs from the API's")
    for line in problems:
        print("MISMATCH", line)
    print("all reconciled" if not problems else f"{len(problems)} mismatches")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
