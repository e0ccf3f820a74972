"""Commands on the catalog and the returns: ``list``, ``fetch``, ``info`` and ``ledger``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from explorer import catalog, loaders, outputs
from explorer.cli.common import (
    DataDir,
    ElectionArg,
    ElectionSource,
    _print_notes,
    app,
    check_out_dir,
    echo,
    election_options,
    note,
)
from explorer.errors import ExplorerError
from explorer.specs import default_election, election_names


@app.command("list")
def list_command() -> None:
    """List the elections and datasets the catalog knows."""
    echo("Elections:")
    for name in election_names():
        marker = " (default)" if name == default_election() else ""
        echo(f"  {name}{marker}")
    echo("Datasets:")
    for name, files in sorted(catalog.datasets().items()):
        size = sum(f.bytes for f in files)
        echo(f"  {name:<34} {len(files):>3} file(s) {size / 1e6:8.2f} MB")


@app.command()
def fetch(
    datasets: Annotated[
        list[str] | None, typer.Argument(help="Datasets or file paths (default: all).")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Download (or copy from $EXPLORER_DATA_MIRROR) and verify catalog files."""
    counts = {"fetched": 0, "present": 0}

    def report(entry, path, fetched):
        counts["fetched" if fetched else "present"] += 1
        verb = "fetched " if fetched else "verified"
        note(f"{verb} {entry.path}")

    paths = catalog.fetch(datasets or [], data_dir, report=report)
    source = os.environ.get(catalog.MIRROR_ENV) or "the network"
    echo(
        f"{len(paths)} file(s) verified by sha256 in {catalog.data_dir(data_dir)}: "
        f"{counts['fetched']} fetched from {source}, {counts['present']} already present."
    )


@app.command()
@election_options
def info(election: ElectionArg = None, *, source: ElectionSource) -> None:
    """Candidates, votes and shares, precinct count, and a check against district totals."""
    chosen = source.load(election)
    for line in chosen.returns.attrs.get("notes", []):
        note(f"note: {line}")
    spec = chosen.spec
    attrs = chosen.returns.attrs
    date = spec.date or attrs.get("date") or "date unknown"
    snapshot = f", snapshot {attrs['snapshot']}" if attrs.get("snapshot") else ""
    named = f" [{attrs['election_name']}]" if attrs.get("election_name") else ""
    echo(f"{spec.title} ({spec.name}){named}, {date}{snapshot}")
    office = spec.office or chosen.returns.attrs.get("office") or "(not named in the file)"
    district = spec.district or chosen.returns.attrs.get("district") or "(none)"
    # only a snapshot with a reporting state needs the join (pooled units count as one)
    live = chosen.wide.attrs.get("reporting") is not None
    reporting = chosen.ledger_summary.get("reporting") if live else None
    reported = (reporting or {}).get("reported", len(chosen.wide))
    echo(f"Office: {office}  District: {district}  Precincts reporting: {reported}")
    if reporting:  # election night: say how much of the count is in
        from explorer.live import describe_reporting

        echo(describe_reporting(reporting))
    table = chosen.summary()
    totals = chosen.totals
    if totals is not None:
        table = loaders.with_totals(table, totals)
    import pandas as pd  # loaded with the returns already

    # a fixed two decimals, so the column lines up (55.10% beside 39.81%); no share: blank
    shown = table.assign(share=[f"{v:.2%}" if pd.notna(v) else "" for v in table["share"]])
    echo(outputs.format_frame(shown))
    echo(f"Total votes: {int(table['votes'].sum()):,}")
    pseudo: dict[str, int] = {}
    for _, kind, votes in chosen.returns.attrs.get("pseudo", []):
        pseudo[kind] = pseudo.get(kind, 0) + votes
    if pseudo:
        echo(
            "Also in the file, not candidates: "
            + "; ".join(f"{kind} {votes:,}" for kind, votes in pseudo.items())
        )
    if totals is None:
        echo("No district totals file: nothing to check against.")
        return
    off = loaders.totals_differences(table)
    if not off:
        echo(f"Check: precinct returns match the district totals for all {len(table)} candidates.")
    else:
        echo(
            "Check: MISMATCH against the district totals: "
            + ", ".join(f"{c} {d:+,}" for c, d in off.items())
        )
        raise typer.Exit(1)


@app.command()
@election_options
def ledger(
    election: ElectionArg = None,
    out_dir: Annotated[Path, typer.Option(help="Folder for the CSV and JSON.")] = Path("maps"),
    *,
    source: ElectionSource,
) -> None:
    """The vote ledger: every vote by match class, unmapped precincts listed, checked
    against the district totals. Writes <election>-ledger.csv and .json."""
    from explorer.join import describe_ledger

    check_out_dir(out_dir)
    chosen = source.load(election)
    table = chosen.ledger
    summary = chosen.ledger_summary
    _print_notes(chosen)
    echo(f"Vote ledger for {chosen.spec.title} ({chosen.name})")
    echo(outputs.format_frame(table))
    echo(describe_ledger(summary))
    if summary.get("reporting"):  # election night: votes counted so far
        from explorer.live import describe_reporting

        echo(describe_reporting(summary["reporting"]))
    county_wide = summary.get("county_wide", [])
    absent = summary.get("listed_absent", [])
    places = [p for p in summary["unmapped_precincts"] if p not in county_wide + absent]
    if places:
        echo("Unmapped precincts: " + ", ".join(places))
    if absent:
        echo("Listed precincts not in the layer, nothing counted yet: " + ", ".join(absent))
    if county_wide:
        echo("Unmapped county-wide rows (not places): " + ", ".join(county_wide))
    if summary["unassigned_polygons"]:
        echo(
            "In-district polygons with no result precinct: "
            + ", ".join(summary["unassigned_polygons"])
        )
    stem = outputs.slug(chosen.name, "election")
    if hasattr(chosen, "by_state"):  # several layer files: the ledger state by state
        states = chosen.by_state()
        echo("By state (sums of the precincts):")
        echo(outputs.format_frame(states))
        states_path = outputs.write_text(out_dir / f"{stem}-states.csv", outputs.to_csv(states))
        echo(f"Wrote {states_path}")
    csv_path = outputs.write_text(out_dir / f"{stem}-ledger.csv", outputs.to_csv(table))
    json_path = outputs.write_text(
        out_dir / f"{stem}-ledger.json",
        outputs.format_frame(table, "json", election=chosen.name, summary=summary),
    )
    echo(f"Wrote {csv_path} and {json_path}")
    if "difference" in table and (table["difference"].fillna(0) != 0).any():
        raise ExplorerError("precinct returns do not add up to the district totals file")
