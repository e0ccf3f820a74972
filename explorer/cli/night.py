"""Election-night commands: ``watch``, ``grid-layer`` and ``project`` (:mod:`explorer.live`,
:mod:`explorer.projection`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from explorer import outputs
from explorer.cli.common import (
    DataDir,
    ElectionSource,
    Format,
    Tiles,
    _print_notes,
    app,
    check_out_dir,
    echo,
    election_options,
    note,
)
from explorer.elections import Election, load_election

#: where ``watch`` publishes by default
WATCH_DIR = Path("maps/live")


@app.command()
@election_options
def watch(
    snapshots: Annotated[Path, typer.Argument(help="A folder of snapshots, or one file.")],
    election: Annotated[
        str | None, typer.Option(help="Catalog election whose layers to draw on.")
    ] = None,
    out_dir: Annotated[Path, typer.Option(help="Where the live map and summary go.")] = WATCH_DIR,
    interval: Annotated[float, typer.Option(help="Seconds between polls.", min=0.1)] = 5.0,
    once: Annotated[bool, typer.Option("--once", help="Play the snapshots there now; stop.")] = (
        False
    ),
    max_updates: Annotated[
        int | None, typer.Option(help="Stop after this many updates.", min=1)
    ] = None,
    tiles: Tiles = "light",
    baseline: Annotated[
        str | None,
        typer.Option(help="Project the final margin from this earlier round (see project)."),
    ] = None,
    allow_decrease: Annotated[
        bool,
        typer.Option(
            "--allow-decrease",
            help="Publish a snapshot with fewer precincts or votes than the last one "
            "(a correction); by default it is refused with a warning.",
        ),
    ] = False,
    *,
    source: ElectionSource,
) -> None:
    """Election night: re-read the returns whenever a new snapshot (CSV or Clarity XML)
    lands, re-render the map and summary atomically, and print what changed. A snapshot
    whose precincts reported or votes counted go down is refused unless --allow-decrease."""
    from dataclasses import replace

    from explorer import live

    if out_dir != WATCH_DIR:  # the default folder is made; a given one's parent must exist
        check_out_dir(out_dir)
    base: list[Election] = []
    last: list[dict] = []  # the states published so far
    printed: set[str] = set()  # notes already printed
    estimate = _projector(baseline, source.data_dir) if baseline else None
    listed = live.read_precinct_list(source.expected) if source.expected else None

    def update(path: Path, step: int) -> dict:
        if not base:
            first = replace(source, expected=None)
            first = replace(first, returns=path) if source.precincts else first
            base.append(first.load(election))
        # a catalog election's own precinct list is the denominator of a snapshot
        # lacking rows; with your own files, the precincts in each snapshot are
        known = live.known_precincts(base[0].returns) if source.precincts is None else None
        current = live.with_returns(base[0], path, listed, known=known)
        # the returns repairs and the join's notes (sub-precincts summed, IDs matched),
        # as info and map print them; each once per watch
        for line in current.precincts.attrs.get("notes", []):
            if line not in printed:
                printed.add(line)
                note(f"note: {line}")
        state = live.publish(
            current,
            out_dir,
            step=step,
            tiles=tiles,
            extra=estimate,
            previous=last[-1] if last else None,
            allow_decrease=allow_decrease,
        )
        last.append(state)
        if state.get("warning"):
            echo(state["warning"])
        echo(state["answer"])
        if state.get("estimate"):
            echo(state["estimate"])
        return state

    memory = live.watch(
        snapshots, update, interval=interval, once=once, max_updates=max_updates, report=echo
    )
    echo(f"{memory.updates} update(s) published to {out_dir}")


def _geojson_option(value: Path) -> Path:
    """grid-layer writes GeoJSON only: refuse a name that says another format (.shp)."""
    if value.suffix.lower() not in (".geojson", ".json"):
        raise typer.BadParameter(
            f"grid-layer writes GeoJSON, not {value.suffix or 'no suffix'}: use a .geojson name"
        )
    return value


@app.command("grid-layer")
def grid_layer_command(
    returns: Annotated[Path, typer.Argument(help="A returns file (CSV or Clarity XML).")],
    output: Annotated[
        Path,
        typer.Option(
            "-o",
            "--output",
            help="GeoJSON to write (.geojson or .json).",
            callback=_geojson_option,
        ),
    ] = Path("grid.geojson"),
    office: Annotated[str | None, typer.Option(help="Contest to keep.")] = None,
) -> None:
    """For trying a returns file that has no precinct layer: write a layer of made-up
    squares, one per precinct name (field `name`). NOT real geography."""
    from explorer import live

    count = live.grid_layer(returns, output, office=office)
    echo(f"Wrote {output}: {count} squares, one per precinct name. {live.GRID_NOTE}.")


@app.command()
def project(
    snapshot: Annotated[
        Path | None, typer.Argument(help="A returns snapshot (CSV or Clarity XML).")
    ] = None,
    election: Annotated[
        str, typer.Option(help="Catalog election whose layers the snapshot uses.")
    ] = "ca34-2017-general",
    baseline: Annotated[
        str | None, typer.Option(help="The same race's earlier round, e.g. ca34-2017-primary.")
    ] = None,
    runs: Annotated[int, typer.Option(help="Simulated nights per backtest cell.", min=1)] = 100,
    fmt: Format = "table",
    data_dir: DataDir = None,
    office: Annotated[
        str | None,
        typer.Option(help="Contest to keep: a CSV's office, or a Clarity file's contest."),
    ] = None,
    expected: Annotated[
        Path | None,
        typer.Option(
            help="Every precinct of the contest (CSV with a precinct column, or one ID a "
            "line): precincts the snapshot lacks count as not reporting (as on watch)."
        ),
    ] = None,
) -> None:
    """Election night: project the final margin from a partial snapshot, with an interval,
    only where the backtest on real races says the projection beats the count so far.
    Without a snapshot, print the backtest."""
    from explorer import live, projection

    table = projection.reference_backtest(runs=runs)
    shown = table.assign(reporting=(table["reporting"] * 100).round().astype(int).astype(str) + "%")
    if snapshot is None:
        echo("Backtest of the projection (margins in percentage points; interval: 90%):")
        echo(outputs.format_frame(shown.set_index(["race", "order", "reporting"]).round(2), fmt))
        return
    chosen = load_election(election, data_dir=data_dir)
    known = live.known_precincts(chosen.returns)  # the election's precinct list: the M
    if office is not None:  # the contest to read from the snapshot
        from dataclasses import replace

        chosen = replace(chosen, spec=replace(chosen.spec, office=office))
    listed = live.read_precinct_list(expected) if expected is not None else None
    current = live.with_returns(chosen, snapshot, listed, known=known)
    _print_notes(current)  # the returns repairs and the join's notes, as map prints them
    echo(current.reporting())
    echo(_projector(baseline, data_dir, table)(current))


def _projector(baseline: str | None, data_dir, table=None):
    """A function from an election-night snapshot to one line: the labelled projection, or
    why there is none (too few precincts complete; the backtest does not support it)."""
    from explorer import projection

    table = projection.reference_backtest() if table is None else table
    earlier = load_election(baseline, data_dir=data_dir) if baseline else None

    def estimate(current: Election) -> str:
        return projection.estimate_line(current, table, earlier)

    return estimate
