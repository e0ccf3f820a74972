"""What every command shares: the typer app, output lines (``echo``/``note``), the options
that choose an election (:class:`ElectionSource`, :func:`election_options`) and the option
types several commands take."""

from __future__ import annotations

import functools
import inspect
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, get_origin

import typer

from explorer import outputs
from explorer.elections import Election, load_election
from explorer.errors import ExplorerError
from explorer.specs import default_election, election_names

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


def choice(*names: str, what: str = "value"):
    """An option callback refusing a value outside ``names`` while the command line is
    read, before any work (one line, exit 2): "unknown ``what`` 'x'; use one of ..."."""

    def check(value: str | None) -> str | None:
        if value is not None and value not in names:
            raise typer.BadParameter(f"unknown {what} {value!r}; use one of {', '.join(names)}")
        return value

    return check


def _folder_option(value: Path | None) -> Path | None:
    """A data folder: refuse an existing file (a folder that does not exist yet is made)."""
    if value is not None and value.exists() and not value.is_dir():
        raise typer.BadParameter(f"{value} is a file, not a folder")
    return value


#: file suffixes matplotlib writes a figure (scatter, ei plot, static map) as
FIGURE_SUFFIXES = (".png", ".svg", ".pdf")


def _figure_option(value: Path | None) -> Path | None:
    """A figure file: refuse a suffix the figure would not be written as (PNG bytes in a
    .jpg), before any work."""
    if value is not None and value.suffix.lower() not in FIGURE_SUFFIXES:
        raise typer.BadParameter(
            f"cannot write a figure as {value.suffix or 'a file without suffix'}: "
            "use a .png, .svg or .pdf name"
        )
    return value


Figure = Annotated[
    Path | None,
    typer.Option(help="Figure file: .png, .svg or .pdf.", callback=_figure_option),
]


def check_out_dir(folder: Path) -> None:
    """Refuse an output folder that cannot be written, or whose parent does not exist: the
    folder itself is made, but a typo is not a new tree (as ``-o`` for one file)."""
    outputs.check_folder(folder)
    if not folder.parent.exists():
        raise ExplorerError(
            "the folder above this output folder does not exist",
            source=folder,
            hint=f"create {folder.parent} first, or give a folder in an existing one",
        )


DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Data folder (default: ./shapefiles in a checkout, "
        "else the user cache; or $EXPLORER_DATA_DIR).",
        callback=_folder_option,
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
    typer.Option(
        help="CSV result_precinct,layer_precinct that overrides all matching.",
        exists=True,
        dir_okay=False,
    ),
]


def echo(text: str = "") -> None:
    """Print to stdout; control and bidi-override characters from the data made visible."""
    typer.echo(outputs.terminal(text))


def note(text: str) -> None:
    """Print one line to stderr, made safe like :func:`echo`; a line break inside it (a
    file name's) is shown as an escape (:func:`explorer.outputs.terminal_line`)."""
    typer.echo(outputs.terminal_line(text), err=True)


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
            current = live.with_returns(election, election.spec.returns, listed)
            # the same returns file, not a snapshot: its district totals still check it
            current.spec = replace(current.spec, totals=election.spec.totals)
            return current
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


def check_backend(backend: str, scheduler: str | None) -> None:
    """Refuse ``--scheduler`` without ``--backend dask`` (it would do nothing), before any
    work."""
    if scheduler is not None and backend != "dask":
        raise ExplorerError(
            "--scheduler only applies to --backend dask", hint="add --backend dask, or drop it"
        )


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


Format = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        help="table, csv, json or markdown.",
        callback=choice(*outputs.FORMATS, what="format"),
    ),
]


Weights = Annotated[
    str | None,
    typer.Option(help="Dasymetric weights: a catalog points layer, e.g. tract-centres-2020."),
]


Backend = Annotated[
    str,
    typer.Option(
        help="Where apportionment runs: local, or dask (see --scheduler).",
        callback=choice("local", "dask", what="backend"),
    ),
]


def _scheduler_option(value: str | None) -> str | None:
    """A dask scheduler address: [protocol://]host:port (a scheduler file is not taken)."""
    if value is None:
        return value
    address = value.split("://", 1)[-1]
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise typer.BadParameter(
            f"{value!r} is not a scheduler address: give host:port, e.g. tcp://10.0.0.5:8786"
        )
    return value


Scheduler = Annotated[
    str | None,
    typer.Option(
        help="Address of a dask.distributed scheduler, e.g. tcp://10.0.0.5:8786.",
        callback=_scheduler_option,
    ),
]


#: the values of ``--by`` (see :meth:`explorer.Election.areas`)
BY = ("neighbourhood", "neighborhood", "neighbourhoods", "neighborhoods", "precinct", "precincts")

#: base-map tiles a page can take (see ``explorer.render.TILES``)
Tiles = Annotated[
    str,
    typer.Option(help="light, osm or none.", callback=choice("light", "osm", "none", what="tiles")),
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


def candidate_slug(name: str) -> str:
    """A candidate's name as a file-name part (see :func:`explorer.outputs.slug`)."""
    return outputs.slug(name, "candidate")
