"""The ``map`` command (the :mod:`explorer.render` stage)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from explorer import outputs
from explorer.cli.common import (
    BY,
    ElectionArg,
    ElectionSource,
    MinVotes,
    _count_option,
    _print_notes,
    app,
    candidate_slug,
    choice,
    echo,
    election_options,
    note,
)
from explorer.errors import ExplorerError


@app.command("map")
@election_options
def map_command(
    election: ElectionArg = None,
    candidate: Annotated[str | None, typer.Option(help="Map this candidate's share.")] = None,
    margin: Annotated[bool, typer.Option("--margin", help="Two-way margin view.")] = False,
    winner: Annotated[bool, typer.Option("--winner", help="Winner per precinct view.")] = False,
    demographic: Annotated[
        str | None, typer.Option(help="Map a group's share of CVAP (asian, hispanic...).")
    ] = None,
    demographic_layer: Annotated[
        str | None,
        typer.Option(help="Add a group's share of CVAP as a layer to switch on."),
    ] = None,
    by: Annotated[
        str, typer.Option(help="precinct or neighbourhood.", callback=choice(*BY, what="--by"))
    ] = "precinct",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="HTML file.")] = None,
    tiles: Annotated[
        str,
        typer.Option(
            help="light, osm or none (offline/print).",
            callback=choice("light", "osm", "none", what="tiles"),
        ),
    ] = "light",
    scheme: Annotated[
        str,
        typer.Option(
            help="Classes of share maps (--candidate, demographic): fixed steps, or quantiles, "
            "fisherjenks, naturalbreaks, equalinterval from the data. Margin maps always take "
            "their classes from the data."
        ),
    ] = "fixed",
    tolerance: Annotated[
        float | None,
        typer.Option(
            help="Simplification in metres (0: none; default grows with the map).",
            callback=_count_option,
        ),
    ] = None,
    min_votes: MinVotes = 100,
    png: Annotated[Path | None, typer.Option(help="Also write a static PNG here.")] = None,
    svg: Annotated[Path | None, typer.Option(help="Also write a static SVG here.")] = None,
    *,
    source: ElectionSource,
) -> None:
    """Write an interactive, self-contained HTML map to maps/<election>-<view>.html
    (with --tiles none, a white page for print, the name ends in -print)."""
    from explorer import render
    from explorer.join import describe_ledger
    from explorer.render import views

    if sum([bool(candidate), margin, winner, bool(demographic)]) > 1:
        raise ExplorerError("choose one of --candidate, --margin, --winner, --demographic")
    for static in (png, svg):
        if static is not None and static.suffix.lower() not in (".png", ".svg", ".pdf"):
            raise ExplorerError(
                f"cannot write a static map as {static.suffix or 'a file without suffix'}",
                source=static,
                hint="use a .png, .svg or .pdf name",
            )
    if scheme not in render.SCHEMES:
        raise ExplorerError(f"unknown --scheme {scheme!r}", hint="use " + ", ".join(render.SCHEMES))
    for path in (output, png, svg):
        if path is not None:
            outputs.check_target(path, given=True)
    source.check(election)
    chosen = source.load(election)
    view = "candidate" if candidate else "margin" if margin else "winner" if winner else None
    fmap, facts, parts = views.build_map(
        chosen,
        view,
        candidate,
        by,
        tiles,
        scheme,
        tolerance,
        min_votes,
        demographic,
        demographic_layer,
    )
    suffix = parts["view"]
    if parts["view"] == "candidate":  # apart from the winner/margin views, whatever the name
        suffix = "candidate-" + candidate_slug(candidate or "")
    if demographic:
        suffix = "cvap-" + candidate_slug(demographic)
    if by not in ("precinct", "precincts"):
        suffix += "-neighbourhoods"
    if tiles == "none":  # a print-ready page never overwrites the tiled one
        suffix += "-print"
    target = output or Path("maps") / f"{outputs.slug(chosen.name, 'election')}-{suffix}.html"
    outputs.check_target(target)
    _print_notes(chosen)
    if facts["coverage_valid"] is False:  # None: not checked (pages past 20,000 areas)
        note("note: the simplified coverage has gaps or overlaps; try a smaller --tolerance")
    if facts["features"] > render.HEAVY_MAP and not facts.get("large"):
        note(
            f"note: {facts['features']:,} areas make a heavy page that browsers open slowly; "
            "for a whole state or the nation map --by neighbourhood (or another target "
            f"layer), or raise --tolerance (now {facts['tolerance']:g} m)"
        )
    render.save_html(fmap, target)
    size = target.stat().st_size
    echo(
        f"Wrote {target} ({size / 1024:,.0f} KB, {facts['features']} areas). "
        f"{describe_ledger(chosen.ledger_summary)}"
    )
    reporting = chosen.ledger_summary.get("reporting")
    if reporting:  # election night: every output says how much of the count is in
        from explorer.live import describe_reporting

        echo(describe_reporting(reporting))
    for static in (png, svg):
        if static is not None:
            render.save_static(
                parts["features"],
                parts["styled"],
                static,
                title=parts["title"],
                credits=parts["subtitle"],
                layers=parts["layers"],
                headline=parts.get("headline", ""),
                dek=parts.get("dek", ""),
            )
            echo(f"Wrote {static}")
