"""Commands that answer questions: ``rank`` and ``ask`` (the :mod:`explorer.ask` stage)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from explorer import outputs
from explorer.cli.common import (
    BY,
    Backend,
    ElectionArg,
    ElectionSource,
    Format,
    MinVotes,
    Scheduler,
    Weights,
    _apportion_options,
    _print_area_notes,
    app,
    check_backend,
    choice,
    echo,
    election_options,
    note,
)
from explorer.errors import ExplorerError


@app.command("rank")
@election_options
def rank_command(
    election: ElectionArg = None,
    candidate: Annotated[str, typer.Option(help="Any unambiguous part of a name.")] = "",
    by: Annotated[
        str, typer.Option(help="neighbourhood or precinct.", callback=choice(*BY, what="--by"))
    ] = "neighbourhood",
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

    check_backend(backend, scheduler)
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
    if fmt == "csv":  # the CSV has no prose: the votes it cannot carry are said on stderr
        from explorer.join import describe_ledger

        note(f"Ledger: {describe_ledger(chosen.ledger_summary)}")
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
    check_backend(backend, scheduler)
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
