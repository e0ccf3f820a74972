"""The ``explorer`` command line: a thin layer over the Python API.

Every failure the user can fix prints one line (``explorer: error: ...``) and exits 2;
anything unexpected prints one line too (set ``EXPLORER_DEBUG=1`` for the traceback).
"""

from __future__ import annotations

import functools
import inspect
import math
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, get_origin

import typer

from explorer import catalog, outputs
from explorer.elections import Election, default_election, election_names, load_election
from explorer.errors import ExplorerError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Map and question election returns by precinct and neighbourhood.",
)


def _show_version(value: bool) -> None:
    if value:
        from explorer import __version__

        typer.echo(f"explorer {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_show_version, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Map and question election returns by precinct and neighbourhood."""


DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Data folder (default: ./shapefiles in a checkout, "
        "else the user cache; or $EXPLORER_DATA_DIR).",
    ),
]
ElectionArg = Annotated[
    str | None, typer.Argument(help="Election name (see `explorer list`).", show_default=False)
]
NoInfer = Annotated[
    bool, typer.Option("--no-infer", help="Do not infer geography for unmatched precincts.")
]
Crosswalk = Annotated[
    Path | None,
    typer.Option(help="CSV result_precinct,layer_precinct that overrides all matching."),
]


def echo(text: str = "") -> None:
    """Print to stdout; control and bidi-override characters from the data made visible."""
    typer.echo(outputs.terminal(text))


def note(text: str) -> None:
    """Print to stderr, made safe like :func:`echo`."""
    typer.echo(outputs.terminal(text), err=True)


@dataclass(frozen=True)
class ElectionSource:
    """Where a command's election comes from: the catalog, or the user's own files."""

    data_dir: Path | None = None
    no_infer: bool = False
    crosswalk: Path | None = None
    returns: Path | None = None
    precincts: Path | None = None
    precinct_id: str = "precinct"
    district: Path | None = None
    office: str | None = None
    contest_district: str | None = None
    crs: str | None = None
    layer: str | None = None
    neighbourhoods: Path | None = None
    neighbourhood_name: str = "name"
    roads: Path | None = None
    title: str | None = None
    votes: str | None = None
    total: str | None = None
    district_crs: str | None = None
    neighbourhoods_crs: str | None = None
    roads_crs: str | None = None
    expected: Path | None = None

    def own_options(self) -> list[str]:
        """The 'your own election' options given (other than --returns/--precincts)."""
        defaults = ElectionSource()
        return [
            "--" + name.replace("_", "-")
            for name in _OWN_ONLY
            if getattr(self, name) != getattr(defaults, name)
        ]

    def check(self, name: str | None) -> None:
        """Refuse contradictory or incomplete choices before any work is done."""
        own = self.returns is not None or self.precincts is not None
        if not own:
            given = self.own_options()
            if given:
                raise ExplorerError(
                    f"{', '.join(given)} belong(s) to your own election",
                    hint="give --returns and --precincts too, or drop "
                    + ("them" if len(given) > 1 else "it"),
                )
            return
        if name and name in election_names():
            raise ExplorerError(
                f"{name} is a catalog election; --returns/--precincts make your own",
                hint="drop the election name, or drop --returns and --precincts",
            )
        layer_results = self.votes is not None and self.returns is None  # results in the layer
        if self.precincts is None or (self.returns is None and not layer_results):
            raise ExplorerError("your own election needs both --returns and --precincts")
        for option, path in (("--returns", self.returns), ("--crosswalk", self.crosswalk)):
            if path is not None and path.exists() and not path.is_file():
                raise ExplorerError(
                    f"{option} is not a regular file", source=path, hint="give a CSV file"
                )

    def load(self, name: str | None) -> Election:
        if self.expected is not None:  # every precinct of the contest: rows a file lacks
            from dataclasses import replace

            from explorer import live

            election = replace(self, expected=None).load(name)
            if not election.spec.returns:
                raise ExplorerError("--expected needs a returns file (--returns)")
            listed = live.read_precinct_list(self.expected)
            return live.with_returns(election, election.spec.returns, listed)
        self.check(name)
        options = {
            "data_dir": self.data_dir,
            "infer": not self.no_infer,
            "crosswalk": self.crosswalk,
        }
        if self.returns is None and self.precincts is None:
            return load_election(name or default_election(), **options)
        if self.votes and self.precincts is not None and self.returns is None:
            from explorer.layer_results import parse_votes

            return Election.from_layer(  # results inside the layer (DRA, VEST)
                str(self.precincts),
                votes=parse_votes(self.votes),
                total=self.total,
                precinct_id="id" if self.precinct_id == "precinct" else self.precinct_id,
                crs=self.crs,
                neighbourhoods=self.neighbourhoods,
                neighbourhood_name=self.neighbourhood_name,
                name=name or "my-election",
                title=self.title,
                progress=True,
                **options,
            )
        return Election.from_files(
            returns=self.returns,
            precincts=self.precincts,
            precinct_id=self.precinct_id,
            district=self.district,
            office=self.office,
            contest_district=self.contest_district,
            crs=self.crs,
            layer=self.layer,
            district_crs=self.district_crs,
            neighbourhoods_crs=self.neighbourhoods_crs,
            roads_crs=self.roads_crs,
            neighbourhoods=self.neighbourhoods,
            neighbourhood_name=self.neighbourhood_name,
            freeways=self.roads,
            name=name or Path(self.returns).stem,
            title=self.title,
            **options,
        )


_OWN = "Your own election (instead of a catalog name)"


def _own(kind, help_text: str) -> tuple:
    """An option of the 'your own election' group: (type, typer option)."""
    return kind, typer.Option(help=help_text, rich_help_panel=_OWN)


_SOURCE_OPTIONS = {
    "data_dir": (Path | None, DataDir),
    "no_infer": (bool, NoInfer),
    "crosswalk": (Path | None, Crosswalk),
    "returns": _own(Path | None, "OpenElections-format CSV."),
    "precincts": _own(
        Path | None, "Precinct layer: shapefile, zip, GeoPackage, GeoJSON or TopoJSON."
    ),
    "precinct_id": _own(str, "Precinct ID field of the layer."),
    "district": _own(Path | None, "District boundary layer (default: the dissolved precincts)."),
    "office": _own(str | None, "Office to keep (e.g. 'U.S. House')."),
    "contest_district": _own(str | None, "District number to keep."),
    "crs": _own(str | None, "CRS of a layer that declares none, e.g. EPSG:4326."),
    "layer": _own(str | None, "Layer to read from a multi-layer file."),
    "neighbourhoods": _own(Path | None, "Neighbourhood (target) layer."),
    "neighbourhood_name": _own(str, "Name field of the neighbourhood layer."),
    "roads": _own(Path | None, "Road or freeway line layer to draw (labelled by name)."),
    "title": _own(str | None, "Title for maps and tables."),
    "district_crs": _own(str | None, "CRS of a --district layer that declares none."),
    "neighbourhoods_crs": _own(str | None, "CRS of a --neighbourhoods layer that declares none."),
    "roads_crs": _own(str | None, "CRS of a --roads layer that declares none."),
    "votes": _own(
        str | None,
        "Results inside the --precincts layer (no --returns): NAME=FIELD,... e.g. "
        "Biden=E_20_PRES.Dem,Trump=E_20_PRES.Rep (DRA) or Biden=G20PREDBID (VEST). "
        "--precincts may be a glob or catalog pattern; the ID field defaults to 'id'.",
    ),
    "total": _own(str | None, "Field of all votes cast (with --votes); the rest is 'other'."),
    "expected": (
        Path | None,
        typer.Option(
            help="Every precinct of the contest (CSV with a precinct column, or one ID a "
            "line): precincts the returns lack count as not reporting, precincts not in "
            "the list are reported as such; the list's size is the denominator."
        ),
    ),
}
#: options that only mean something with --returns/--precincts
_OWN_ONLY = (
    "precinct_id",
    "district",
    "office",
    "contest_district",
    "crs",
    "layer",
    "neighbourhoods",
    "neighbourhood_name",
    "roads",
    "title",
    "district_crs",
    "neighbourhoods_crs",
    "roads_crs",
    "votes",
    "total",
)


def election_options(command):
    """Give a command the options that choose its election, gathered into ``source``."""
    signature = inspect.signature(command, eval_str=True)
    kept = [p for p in signature.parameters.values() if p.name != "source"]
    added = []
    annotations = {k: v for k, v in command.__annotations__.items() if k != "source"}
    defaults = ElectionSource()
    for name, (kind, option) in _SOURCE_OPTIONS.items():
        annotation = option if get_origin(option) is Annotated else Annotated[kind, option]
        added.append(
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=getattr(defaults, name),
                annotation=annotation,
            )
        )
        annotations[name] = annotation

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        source = ElectionSource(**{name: kwargs.pop(name) for name in _SOURCE_OPTIONS})
        return command(*args, source=source, **kwargs)

    wrapper.__signature__ = signature.replace(parameters=kept + added)
    wrapper.__annotations__ = annotations
    del wrapper.__wrapped__  # typer must see the new signature, not the original
    return wrapper


def _apportion_options(chosen: Election, weights, backend: str, scheduler) -> dict:
    options: dict = {"backend": backend, "scheduler": scheduler}
    if weights:
        options["weights"] = chosen.weight_layer(weights)
    return options


def _print_notes(election: Election) -> None:
    for line in election.precincts.attrs.get("notes", []):
        note(f"note: {line}")
    _print_area_notes(election)


def _print_area_notes(election: Election) -> None:
    """Notes from the neighbourhood layer (e.g. polygons merged by name), once loaded."""
    if vars(election).get("neighbourhoods") is not None:
        for line in election.neighbourhoods.attrs.get("notes", []):
            note(f"note: {line}")


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
        table["district_totals"] = totals.reindex(table.index)
        missing = [c for c in totals.index if c not in table.index]
        for candidate in missing:
            table.loc[candidate] = [0, 0.0, totals[candidate]]
        table["district_totals"] = table["district_totals"].astype("Int64")
    shown = table.assign(share=(table["share"] * 100).round(2).astype(str) + "%")
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
    difference = table["votes"] - table["district_totals"]
    if (difference == 0).all() and int(table["votes"].sum()) == int(totals.sum()):
        echo(f"Check: precinct returns match the district totals for all {len(table)} candidates.")
    else:
        off = difference[difference != 0]
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

    outputs.check_folder(out_dir)
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
    places = [p for p in summary["unmapped_precincts"] if p not in county_wide]
    if places:
        echo("Unmapped precincts: " + ", ".join(places))
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


Format = Annotated[str, typer.Option("--format", "-f", help="table, csv, json or markdown.")]
Weights = Annotated[
    str | None,
    typer.Option(help="Dasymetric weights: a catalog points layer, e.g. tract-centres-2020."),
]
Backend = Annotated[
    str, typer.Option(help="Where apportionment runs: local, or dask (see --scheduler).")
]
Scheduler = Annotated[
    str | None,
    typer.Option(help="Address of a dask.distributed scheduler, e.g. tcp://10.0.0.5:8786."),
]


def _count_option(value: float | None) -> float | None:
    """A number of votes or metres: refuse NaN, infinities and negatives."""
    if value is not None and not (math.isfinite(value) and value >= 0):
        raise typer.BadParameter(f"{value} is not a number of 0 or more")
    return value


MinVotes = Annotated[
    float,
    typer.Option(
        help="Areas with fewer votes are listed apart as too few to call.",
        callback=_count_option,
    ),
]


@app.command("rank")
@election_options
def rank_command(
    election: ElectionArg = None,
    candidate: Annotated[str, typer.Option(help="Any unambiguous part of a name.")] = "",
    by: Annotated[str, typer.Option(help="neighbourhood or precinct.")] = "neighbourhood",
    fmt: Format = "table",
    out: Annotated[Path | None, typer.Option(help="Write the table to this file instead.")] = None,
    min_votes: MinVotes = 100,
    min_coverage: Annotated[
        float,
        typer.Option(
            help="Areas less covered by mapped precincts (fraction of their area) are "
            "listed apart as too little covered to call.",
            min=0.0,
            max=1.0,
        ),
    ] = 0.5,
    weights: Weights = None,
    backend: Backend = "local",
    scheduler: Scheduler = None,
    *,
    source: ElectionSource,
) -> None:
    """Rank neighbourhoods (or precincts) by a candidate's share, with the votes behind it
    and how sure we are (exact/inferred share, partial precincts, coverage)."""
    from explorer.ask import find_candidate, rank
    from explorer.ask.ranking import rank_text

    if out is not None:
        outputs.check_target(out, given=True)
    chosen = source.load(election)
    if not candidate:
        raise ExplorerError(
            "--candidate is required", hint="candidates: " + ", ".join(chosen.candidates)
        )
    name = find_candidate(candidate, chosen.candidates)
    options = _apportion_options(chosen, weights, backend, scheduler)
    areas = chosen.areas(by, **options) if by.startswith("neigh") else chosen.areas(by)
    ranked, too_few = rank(areas, name, min_votes=min_votes, min_coverage=min_coverage)
    _print_area_notes(chosen)
    methods = chosen.methods_note(areas, by)
    text = rank_text(
        ranked,
        too_few,
        fmt,
        title=chosen.spec.title,
        election=chosen.name,
        candidate=name,
        by=by,
        methods=methods,
        ledger=chosen.ledger_summary,
    )
    if out is not None:
        outputs.write_text(out, text if text.endswith("\n") else text + "\n")
        echo(f"wrote {out}")  # the table is in the file, not repeated here
    else:
        echo(text)


@app.command()
@election_options
def ask(
    question: Annotated[str, typer.Argument(help='e.g. "did Ahn carry Westlake?"')],
    election: Annotated[str | None, typer.Option(help="Election name.")] = None,
    min_votes: MinVotes = 100,
    weights: Weights = None,
    backend: Backend = "local",
    scheduler: Scheduler = None,
    fmt: Format = "table",
    *,
    source: ElectionSource,
) -> None:
    """Answer a question as a reporter types it: who won a place, where a candidate was
    strongest, top N, shares, votes, margins, precincts won, totals, comparisons, place in
    the field, primary-to-runoff change. The election comes from the text ("in the
    primary") or --election. Questions the data cannot answer are refused, with the reason
    (exit 2)."""
    chosen = source.load(election)
    options = _apportion_options(chosen, weights, backend, scheduler)
    answer = chosen.ask(question, min_votes=min_votes, **options)
    if fmt == "json":
        echo(outputs.json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
    elif answer.refused:  # one line, like every error: the reason and the election used
        where = f"election: {answer.election_title}" if answer.election_title else ""
        raise ExplorerError(answer.reason.rstrip("."), hint=where)
    elif fmt in ("csv", "markdown") and answer.table is not None:
        from explorer.ask import rounded

        prose = outputs.markdown_text if fmt == "markdown" else str  # names are data
        echo(prose(answer.headline))
        echo(outputs.format_frame(rounded(answer.table), fmt))
    elif fmt == "markdown":  # the prose names data too: escaped like a table's cells
        echo(outputs.markdown_text(str(answer)))
    else:
        echo(str(answer))
    if answer.refused:
        raise typer.Exit(2)


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
    by: Annotated[str, typer.Option(help="precinct or neighbourhood.")] = "precinct",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="HTML file.")] = None,
    tiles: Annotated[str, typer.Option(help="light, osm or none (offline/print).")] = "light",
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
    (``-print`` added with ``--tiles none``: a white background for print)."""
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
    from explorer.swing import compare, swing_map, swing_parts, swing_table

    if not candidate:
        raise ExplorerError("--candidate is required")
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
    prose = outputs.markdown_text if fmt == "markdown" else str
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
    echo(prose(line))
    echo(outputs.format_frame(table, fmt, candidate=result.candidate, summary=s))
    for why, names in table.attrs.get("left_out", {}).items():
        line = f"Not in the table, {why}: " + ", ".join(names) + "."
        if fmt in ("csv", "json"):  # the data on stdout stays parseable
            note(line)
        else:
            echo(prose(line))
    echo(
        prose(
            f"{s['compared_precincts']} precincts compared; {s['not_compared_votes_after']:,} "
            f"votes in {after} and {s['not_compared_votes_before']:,} in {before} lack "
            "geography in one of the two and are not compared."
        )
    )
    fmap, _ = swing_map(result, by, tiles, min_votes=min_votes)
    suffix = "-neighbourhoods" if by.startswith("neigh") else ""
    target = output or Path("maps") / (
        f"{outputs.slug(before)}-to-{outputs.slug(after)}-{candidate_slug(result.candidate)}"
        f"{suffix}.html"
    )
    render.save_html(fmap, target)
    echo(f"Wrote {target}")
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
        echo(f"Wrote {png}")


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


@app.command()
@election_options
def watch(
    snapshots: Annotated[Path, typer.Argument(help="A folder of snapshots, or one file.")],
    election: Annotated[
        str | None, typer.Option(help="Catalog election whose layers to draw on.")
    ] = None,
    out_dir: Annotated[Path, typer.Option(help="Where the live map and summary go.")] = Path(
        "maps/live"
    ),
    interval: Annotated[float, typer.Option(help="Seconds between polls.")] = 5.0,
    once: Annotated[bool, typer.Option("--once", help="Play the snapshots there now; stop.")] = (
        False
    ),
    max_updates: Annotated[int | None, typer.Option(help="Stop after this many updates.")] = None,
    tiles: Annotated[str, typer.Option(help="light, osm or none.")] = "light",
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


@app.command("grid-layer")
def grid_layer_command(
    returns: Annotated[Path, typer.Argument(help="A returns file (CSV or Clarity XML).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="GeoJSON to write.")] = Path(
        "grid.geojson"
    ),
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
    runs: Annotated[int, typer.Option(help="Simulated nights per backtest cell.")] = 100,
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


@app.command("scatter")
@election_options
def scatter_command(
    election: ElectionArg = None,
    group: Annotated[str, typer.Option(help="Group: asian, hispanic, white, black...")] = "",
    candidate: Annotated[str, typer.Option(help="Any unambiguous part of a name.")] = "",
    output: Annotated[Path | None, typer.Option("-o", "--output", help="PNG file.")] = None,
    cvap_year: Annotated[
        int | None, typer.Option(help="CVAP vintage (default: closest to the election).")
    ] = None,
    *,
    source: ElectionSource,
) -> None:
    """A PNG scatter of each precinct's group share of CVAP against a candidate's share of
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
        figure.savefig(temporary, dpi=130, format="png")
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
    plot: Annotated[Path | None, typer.Option(help="Write the posterior plot (PNG).")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text or csv.")] = "text",
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
            figure.savefig(temporary, dpi=130, format="png")
        echo(f"Wrote {plot}")


def candidate_slug(name: str) -> str:
    """A candidate's name as a file-name part (see :func:`explorer.outputs.slug`)."""
    return outputs.slug(name, "candidate")


def _warning_note(message, category, filename, lineno, file=None, line=None) -> None:
    """A library warning as one ``note:`` line (each distinct text once)."""
    text = " ".join(str(message).split())[:300]
    if text not in _WARNED:
        _WARNED.add(text)
        note(f"note: {text} ({category.__name__})")


_WARNED: set[str] = set()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning every failure into one line and an exit code."""
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _warning_note
            code = app(args=argv, standalone_mode=False)  # click returns typer.Exit's code
    except ExplorerError as error:
        note(f"explorer: error: {error}")
        return 2
    except typer.Exit as done:
        return done.exit_code
    except typer.Abort:
        note("explorer: aborted")
        return 130
    except KeyboardInterrupt:
        note("explorer: interrupted; no output was left half-written")
        return 130
    except Exception as error:  # the last guard: never a bare traceback
        if hasattr(error, "format_message") and hasattr(error, "exit_code"):
            # a usage error from the CLI framework (typer may carry its own click)
            if error.format_message():
                note(f"explorer: error: {error.format_message()} (see explorer --help)")
            return error.exit_code
        if os.environ.get("EXPLORER_DEBUG"):
            raise
        text = " ".join(str(error).split())[:300]
        note(
            f"explorer: error: unexpected {type(error).__name__}: {text} "
            "(set EXPLORER_DEBUG=1 for the traceback, and please report it)"
        )
        return 1
    return code if isinstance(code, int) else 0


if __name__ == "__main__":
    sys.exit(main())
