"""Commands on demographic groups: ``scatter`` and ``ei`` (ecological inference)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from explorer import outputs
from explorer.cli.common import (
    ElectionArg,
    ElectionSource,
    Figure,
    _figure_option,
    app,
    candidate_slug,
    choice,
    echo,
    election_options,
    note,
)
from explorer.errors import ExplorerError


@app.command("scatter")
@election_options
def scatter_command(
    election: ElectionArg = None,
    group: Annotated[str, typer.Option(help="Group: asian, hispanic, white, black...")] = "",
    candidate: Annotated[str, typer.Option(help="Any unambiguous part of a name.")] = "",
    output: Annotated[
        Path | None,
        typer.Option(
            "-o", "--output", help="Figure file: .png, .svg or .pdf.", callback=_figure_option
        ),
    ] = None,
    cvap_year: Annotated[
        int | None, typer.Option(help="CVAP vintage (default: closest to the election).")
    ] = None,
    *,
    source: ElectionSource,
) -> None:
    """A scatter of each precinct's group share of CVAP against a candidate's share of
    the vote (point size: votes; hollow: inferred geometry)."""
    from explorer.outputs import atomic_path

    if not group or not candidate:
        raise ExplorerError("--group and --candidate are required", hint="e.g. --group asian")
    chosen = source.load(election)
    figure = chosen.scatter(group, candidate, cvap_year=cvap_year)
    target = output or Path("maps") / (
        f"{outputs.slug(chosen.name, 'election')}-scatter-{candidate_slug(group)}-"
        f"{candidate_slug(candidate)}.png"
    )
    with atomic_path(target) as temporary:
        figure.savefig(temporary, dpi=130, format=target.suffix.lower()[1:])
    echo(f"Wrote {target}")


@app.command("ei")
@election_options
def ei_command(
    election: ElectionArg = None,
    groups: Annotated[
        str, typer.Option(help="Groups, comma-separated: hispanic, asian, white, black...")
    ] = "hispanic,asian,other",
    candidates: Annotated[
        str | None, typer.Option(help="Candidates, comma-separated (default: the top ones).")
    ] = None,
    draws: Annotated[
        int, typer.Option(help="Posterior draws per chain, 50-20000 (more: slower).")
    ] = 1500,
    chains: Annotated[int, typer.Option(help="MCMC chains (at least 2 for R-hat).")] = 2,
    exclude_inferred: Annotated[
        bool, typer.Option("--exclude-inferred", help="Leave out inferred-geometry precincts.")
    ] = False,
    turnout: Annotated[
        bool, typer.Option("--turnout", help="Experimental: model abstention too (slow).")
    ] = False,
    cvap_year: Annotated[
        int | None, typer.Option(help="CVAP vintage (default: closest to the election).")
    ] = None,
    plot: Figure = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format", "-f", help="text or csv.", callback=choice("text", "csv", what="format")
        ),
    ] = "text",
    *,
    source: ElectionSource,
) -> None:
    """Ecological inference: each group's estimated support for each candidate, with 95%
    credible intervals and convergence diagnostics (needs the ei extra)."""
    from explorer import ei

    ei.require()  # before loading any data
    ei.check_sampler(draws, chains)
    if candidates is not None and not [c for c in candidates.split(",") if c.strip()]:
        raise ExplorerError("--candidates names no candidate", hint="e.g. --candidates Gomez,Ahn")
    chosen = source.load(election)
    wanted = [c.strip() for c in candidates.split(",") if c.strip()] if candidates else None
    result = ei.run(
        chosen,
        [g.strip() for g in groups.split(",") if g.strip()],
        wanted,
        exclude_inferred=exclude_inferred,
        cvap_year=cvap_year,
        draws=draws,
        chains=chains,
        turnout=turnout,
        progressbar=sys.stderr.isatty(),
    )
    if fmt == "csv":
        echo(ei.csv_text(result).rstrip())
    else:
        echo(result.text())
    for warning in result.warnings:
        note(f"warning: {warning}")
    if plot is not None:
        from explorer.outputs import atomic_path

        figure = result.plot()
        ei.annotate_plot(figure, result, chosen.spec.title)
        with atomic_path(plot) as temporary:
            figure.savefig(temporary, dpi=130, format=plot.suffix.lower()[1:])
        echo(f"Wrote {plot}")
