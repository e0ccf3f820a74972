"""Analysis commands beside ``ask``: ``swing`` (primary to runoff) and ``backtest`` (the
join scored where the truth is known)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from explorer import outputs
from explorer.cli.common import (
    DataDir,
    Format,
    MinVotes,
    app,
    candidate_slug,
    echo,
    note,
)
from explorer.elections import load_election
from explorer.errors import ExplorerError


@app.command()
def swing(
    before: Annotated[str, typer.Argument(help="The earlier election, e.g. ca34-2017-primary.")],
    after: Annotated[str, typer.Argument(help="The later election, e.g. ca34-2017-general.")],
    candidate: Annotated[str, typer.Option(help="Any unambiguous part of a name.")] = "",
    by: Annotated[str, typer.Option(help="neighbourhood or precinct.")] = "neighbourhood",
    fmt: Format = "table",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Map file.")] = None,
    tiles: Annotated[str, typer.Option(help="light, osm or none.")] = "light",
    min_votes: MinVotes = 100,
    data_dir: DataDir = None,
    png: Annotated[Path | None, typer.Option(help="Also write a static PNG here.")] = None,
) -> None:
    """How a candidate's share changed between two catalog elections (primary to runoff):
    a table by neighbourhood or precinct and a diverging map."""
    from explorer import render
    from explorer.swing import check_by, compare, swing_map, swing_parts, swing_table

    if not candidate:
        raise ExplorerError("--candidate is required")
    by = check_by(by)  # every choice refused in one line before any work
    if fmt not in outputs.FORMATS:
        raise ExplorerError(
            f"unknown format {fmt!r}", hint="use one of " + ", ".join(outputs.FORMATS)
        )
    if tiles not in render.TILES:
        raise ExplorerError(f"unknown tiles {tiles!r}", hint="use " + ", ".join(render.TILES))
    for path in (output, png):
        if path is not None:
            outputs.check_target(path, given=True)
    if png is not None and png.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise ExplorerError(f"cannot write a static map as {png.name}", hint="use a .png name")
    first = load_election(before, data_dir=data_dir)
    second = load_election(after, data_dir=data_dir)
    result = compare(first, second, candidate)
    s = result.summary
    table = swing_table(result, by, min_votes)
    left_out = table.attrs.get("left_out", {})
    data = fmt in ("csv", "json")  # as rank: only the data on stdout, the prose on stderr
    prose = outputs.markdown_text if fmt == "markdown" else str
    say = note if data else (lambda text: echo(prose(text)))
    line = (
        f"{result.candidate}: {s['before_share']:.1%} of the vote in {before}, "
        f"{s['after_share']:.1%} in {after}."
    )
    if s.get("rival"):  # the table and map compare like with like: the two finalists' votes
        line += (
            f" Head to head with {s['rival']}: {s['before_h2h']:.1%} to {s['after_h2h']:.1%} "
            f"({(s['after_h2h'] - s['before_h2h']) * 100:+.1f} pts); the table compares "
            "head-to-head shares."
        )
    say(line)
    if len(table) or data:
        extra = {"candidate": result.candidate, "summary": s}
        if fmt == "json":
            extra.update(by=by, min_votes=min_votes, left_out=left_out)
        echo(outputs.format_frame(table, fmt, **extra))
    if not len(table):
        apart = sum(len(names) for names in left_out.values())
        say(
            f"No {by} can be compared: "
            + (
                f"all {apart} {by}s are set apart below (under {min_votes:,.0f} votes in "
                "either election, too little of the area covered, or no share to compare); "
                "lower --min-votes to compare them."
                if apart
                else "none holds votes in both elections."
            )
        )
    for why, names in left_out.items():
        say(f"Not in the table, {why}: " + ", ".join(names) + ".")
    matched = f"{s['compared_precincts']} precincts matched between the two elections"
    if not len(table):  # none reached the table: "compared" would contradict the line above
        matched += f" ({by}s: none over the floor)"
    say(
        f"{matched}; {s['not_compared_votes_after']:,} "
        f"votes in {after} and {s['not_compared_votes_before']:,} in {before} lack "
        "geography in one of the two and are not compared."
    )
    fmap, _ = swing_map(result, by, tiles, min_votes=min_votes)
    suffix = "-neighbourhoods" if by == "neighbourhood" else ""
    if tiles == "none":  # a print-ready page never overwrites the tiled one (as map does)
        suffix += "-print"
    target = output or Path("maps") / (
        f"{outputs.slug(before)}-to-{outputs.slug(after)}-{candidate_slug(result.candidate)}"
        f"{suffix}.html"
    )
    render.save_html(fmap, target)
    (note if data else echo)(f"Wrote {target}")
    if png is not None:
        parts = swing_parts(result, by, min_votes)
        credits = render.short_credits(result.after.credits())
        render.save_static(
            *(parts["features"], parts["styled"], png),
            title=parts["title"],
            credits=f"{parts['subtitle']} {credits}",
            layers=parts["layers"],
            headline=parts["headline"],
            dek=parts["dek"],
        )
        (note if data else echo)(f"Wrote {png}")


@app.command()
def backtest(
    layer: Annotated[
        str, typer.Option(help="Catalog precinct layer the returns are joined to.")
    ] = "la-precincts-2018-general",
    truth_layer: Annotated[
        str | None,
        typer.Option(help="A second layer of the same places: score both directions."),
    ] = None,
    exact_rate: Annotated[
        float | None,
        typer.Option(
            help="Simulated mode: the exact-match rate to tune to (default 0.645, the rate "
            "issue #13 quoted for the runoff; the tool measures 62.6%)."
        ),
    ] = None,
    district: Annotated[
        str | None, typer.Option(help="Only precincts near this cd-2012 district (CA-34).")
    ] = None,
    method: Annotated[
        str, typer.Option(help="local (this version) or nearest-number (the old rule).")
    ] = "local",
    election: Annotated[
        str | None,
        typer.Option(help="Simulate at this catalog election's own exact-match rate."),
    ] = None,
    precincts: Annotated[
        Path | None,
        typer.Option(help="Your own precinct layer to re-consolidate (instead of --layer)."),
    ] = None,
    precinct_id: Annotated[str, typer.Option(help="Precinct ID field of --precincts.")] = (
        "precinct"
    ),
    crs: Annotated[
        str | None, typer.Option(help="CRS of a --precincts layer that declares none.")
    ] = None,
    neighbourhoods: Annotated[
        Path | None,
        typer.Option(help="Your own neighbourhood layer to score on (default: mappingla-v6)."),
    ] = None,
    neighbourhood_name: Annotated[
        str, typer.Option(help="Name field of --neighbourhoods.")
    ] = "name",
) -> None:
    """Score the join where the truth is known: two real layers (--truth-layer), or a
    simulated re-consolidation of --layer or your own --precincts (two draws), by votes
    landing in the right neighbourhood, centroid distance and per-neighbourhood share
    error."""
    from explorer import backtest as scoring
    from explorer import loaders

    areas = "mappingla-v6"
    if neighbourhoods is not None:
        areas = loaders.load_neighbourhoods(neighbourhoods, name_field=neighbourhood_name)
    if precincts is not None:
        if election or truth_layer:
            raise ExplorerError(
                "--precincts is simulated on its own: it cannot take --election or --truth-layer",
                hint="leave those out, or use catalog layers with --layer",
            )
        layer = loaders.load_precincts(precincts, precinct_id, crs=crs)
        layer.attrs["name"] = precincts.name
    if election and exact_rate is not None:
        raise ExplorerError(
            "--election sets the exact-match rate (its own): it cannot take --exact-rate too",
            hint="give one of --election or --exact-rate",
        )
    if truth_layer and exact_rate is not None:
        raise ExplorerError(
            "--exact-rate is for the simulated mode: --truth-layer scores two real layers",
            hint="give one of --truth-layer or --exact-rate",
        )
    exact_rate = 0.645 if exact_rate is None else exact_rate
    if election:
        chosen = load_election(election)
        exact_rate = float(chosen.wide.index.isin(set(chosen.layer["precinct"])).mean())
        layer = chosen.spec.precincts.name
        echo(f"{election}: {exact_rate:.1%} of its result precincts have an exact ID in {layer}")
    for scores in scoring.run(
        layer,
        truth_layer=truth_layer,
        areas=areas,
        exact_rate=exact_rate,
        district=district,
        method=method,
    ):
        echo(scoring.format_scores(scores))
