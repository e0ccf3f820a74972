"""Election night, watching: the snapshots in a folder, the same election with another
snapshot's returns, publishing a map and summary atomically, what changed, and the watch
loop; plus a test grid layer for a returns file without geometry (see
:mod:`explorer.live`)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.errors import ExplorerError
from explorer.live.reporting import describe_reporting, leader, reporting_answer, reporting_summary
from explorer.live.snapshots import read_returns

# --------------------------------------------------------------------------- watching


SNAPSHOT_SUFFIXES = (".csv", ".xml")  # not .txt: a summary written beside them


def snapshot_files(source: Path) -> list[Path]:
    """The snapshots in a folder (by modification time, then name), or the file itself."""
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise ExplorerError("no such file or folder to watch", source=source)
    files = [
        p
        for p in source.iterdir()
        if p.is_file() and p.suffix.lower() in SNAPSHOT_SUFFIXES and not p.name.startswith(".")
    ]
    return sorted(files, key=lambda p: (p.stat().st_mtime_ns, p.name))


def _signature(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns


def _binary(data: bytes) -> bool:
    """Whether bytes are not text a CSV could hold: a NUL byte, or not UTF-8 or Latin-1
    with at most a few control characters in the first 64 KB."""
    head = data[:65536]
    if b"\x00" in head:
        return True
    controls = sum(b < 32 and b not in (9, 10, 13) for b in head)
    return controls > max(2, len(head) // 200)


def check_complete(path: Path) -> None:
    """Refuse a snapshot that looks half-written: an empty file, or a CSV whose last line
    has no newline yet (a truncated XML fails to parse on its own)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ExplorerError(f"cannot read ({exc.strerror})", source=path) from None
    if not data.strip():
        raise ExplorerError("file is empty (still being written?)", source=path)
    if path.suffix.lower() in (".csv", ".txt") and _binary(data):
        raise ExplorerError(
            "is not a readable CSV (binary data: NUL bytes or not text)",
            source=path,
            hint="check what was copied into the folder",
        )
    if path.suffix.lower() in (".csv", ".txt") and not data.endswith(b"\n"):
        raise ExplorerError("the last line is unfinished (still being written?)", source=path)


def known_precincts(returns: pd.DataFrame) -> list[str]:
    """The result precincts of a final returns table (county-wide rows left out): the
    election's known precinct list, the denominator of a snapshot that lacks rows."""
    wide = set(returns.attrs.get("county_wide", []))
    return [p for p in dict.fromkeys(returns["precinct"].astype(str)) if p not in wide]


def with_returns(
    election,
    path: str | Path,
    expected: Iterable[str] | None = None,
    known: Iterable[str] | None = None,
):
    """The same election (layers, boundary, title) with the returns of another snapshot;
    layers already loaded are shared, not read again. District totals are dropped: they
    describe the final count, not a snapshot. ``expected`` lists every precinct of the
    contest (see :func:`read_returns`); without it, ``known`` (the election's own precinct
    list, e.g. a catalog election's final returns) is the denominator of a CSV snapshot,
    else the result precincts in the file are, and the reporting line says so. "N of M"
    always counts result precincts, never map areas. An election whose name (and title)
    is its returns file's stem, as own files are named, takes the new snapshot's stem."""
    import dataclasses

    # an election named after its returns file (own files: the name is the file's stem)
    # is named after each snapshot, so every publish names its own
    renamed = {}
    before = Path(str(election.spec.returns or "")).stem
    if before and election.spec.name == before:
        renamed["name"] = Path(path).stem
    if before and election.spec.title == before:
        renamed["title"] = Path(path).stem
    spec = dataclasses.replace(election.spec, returns=str(path), totals=None, **renamed)
    fresh = dataclasses.replace(election, spec=spec)
    for name in ("layer", "boundary", "neighbourhoods", "freeways"):
        if name in election.__dict__:
            fresh.__dict__[name] = election.__dict__[name]
    source = fresh._path(str(path))
    options = {"office": spec.office, "district": spec.district}
    csv = Path(source).suffix.lower() != ".xml"
    from_file = False
    if expected is None and csv:
        if known is not None:
            expected = list(known)
        else:  # no list: the precincts in the file are the denominator, said plainly
            expected = known_precincts(read_returns(source, **options))
            from_file = True
    if expected is not None:  # the returns, read now with the full precinct list
        returns = read_returns(source, expected=expected, **options)
        if from_file:
            returns.attrs["reporting"].attrs["denominator"] = "file"
        fresh.__dict__["returns"] = returns
    return fresh


def changes(before: dict | None, after: dict) -> list[str]:
    """What changed between two published states: new precincts in, leader, margin."""
    if before is None:
        return [f"first snapshot: {after['reporting_text']}"]
    lines = []
    new = sorted(set(after["reported_precincts"]) - set(before["reported_precincts"]))
    if new:
        shown = ", ".join(new[:8]) + (f" and {len(new) - 8} more" if len(new) > 8 else "")
        lines.append(f"{len(new)} precinct(s) newly reporting: {shown}")
    gained = after["votes_counted"] - before["votes_counted"]
    if gained:
        lines.append(f"{gained:+,} votes counted (now {after['votes_counted']:,})")
    if after["leader"] != before["leader"]:
        lines.append(f"lead changed: {after['leader']} now leads (was {before['leader']})")
    if before["margin"] == before["margin"] and after["margin"] == after["margin"]:
        shift = (after["margin"] - before["margin"]) * 100
        lines.append(
            f"margin {before['margin'] * 100:+.1f} -> {after['margin'] * 100:+.1f} pts "
            f"({shift:+.1f}) for {after['leader_of_margin']}"
        )
    return lines or ["no change in the count"]


class CountDecreased(ExplorerError):
    """A snapshot reports fewer precincts or fewer votes than the one published before."""


def decrease(before: dict | None, after: dict) -> str:
    """How the count went backwards from ``before`` to ``after`` (published states), e.g.
    "precincts reported 195 -> 90; votes counted 43,179 -> 30,756"; "" if it did not."""
    if before is None:
        return ""
    parts = []
    was, now = before["reporting"]["reported"], after["reporting"]["reported"]
    if now < was:
        parts.append(f"precincts reported {was:,} -> {now:,}")
    if after["votes_counted"] < before["votes_counted"]:
        parts.append(f"votes counted {before['votes_counted']:,} -> {after['votes_counted']:,}")
    return "; ".join(parts)


def publish(
    election,
    out_dir: Path,
    *,
    step: int | None = None,
    tiles: str = "light",
    extra: Callable[[object], str] | None = None,
    previous: dict | None = None,
    allow_decrease: bool = False,
) -> dict:
    """Render an election snapshot: the map and a summary (text and JSON), each written
    atomically to ``out_dir`` (``live-map.html``, ``live-summary.txt``, ``.json``), and a
    numbered copy of each in ``out_dir/steps`` when ``step`` is given; ``extra(election)``
    adds a line (a projection). Returns the state that :func:`changes` compares.

    With the ``previous`` published state, a snapshot with fewer precincts reported or
    fewer votes counted is refused (:class:`CountDecreased`, nothing written) unless
    ``allow_decrease``; then it is published with a warning in the state and summary."""
    from explorer import outputs, render

    features = election.precincts
    candidates = election.candidates
    summary = features.attrs.get("reporting") or reporting_summary(
        features.assign(status="reported", methods="")
    )
    race = leader(features, candidates)
    first = candidates[0] if candidates else ""
    two = features[candidates[:2]].sum() if len(candidates) >= 2 else None
    margin = (
        float((two.iloc[0] - two.iloc[1]) / two.sum())
        if two is not None and two.sum()
        else float("nan")
    )
    notes = list(dict.fromkeys(features.attrs.get("notes", [])))  # this snapshot's own
    state = {
        "election": election.name,
        "snapshot": Path(str(election.spec.returns)).name,
        "snapshot_time": election.returns.attrs.get("snapshot"),
        "reporting_text": describe_reporting(summary),
        "reporting": summary,
        "reported_precincts": features.attrs.get("reported_members")
        or features.loc[
            features.get("status", pd.Series("reported", index=features.index)) == "reported",
            "precinct",
        ].tolist(),
        "leader": race["leader"],
        "votes": race["votes"],
        "votes_counted": race["total"],
        "margin": margin,
        "leader_of_margin": first,
        "answer": reporting_answer(features, candidates),
    }
    fell = decrease(previous, state)
    if fell and not allow_decrease:
        raise CountDecreased(
            f"the count went backwards ({fell}); not published, the previous map and "
            "summary stay (pass --allow-decrease to publish a corrected, lower count)"
        )
    if fell:
        state["warning"] = f"WARNING: the count went backwards ({fell}); published as told"
    state["notes"] = notes
    from explorer.render import views

    parts = views.map_parts(election)  # the default view, as election.build_map draws it
    parts["file_notes"] = [f"Note: {outputs.terminal_line(line)}" for line in notes]
    fmap, facts = views.choropleth_of(parts, tiles=tiles)
    if extra is not None:  # e.g. a projection, labelled as an estimate by its maker
        state["estimate"] = extra(election)
    text = "\n".join(
        [
            f"{election.spec.title}",
            *([state["warning"]] if state.get("warning") else []),
            state["answer"],
            state.get("estimate", ""),
            f"Snapshot: {state['snapshot']}"
            + (f" ({state['snapshot_time']})" if state["snapshot_time"] else ""),
            *(f"note: {outputs.terminal_line(line)}" for line in notes),
            "",
        ]
    )
    text = outputs.terminal(text)  # names from files: no control or bidi characters
    record = {k: v for k, v in state.items() if k != "reported_precincts"}
    targets = [out_dir]
    if step is not None:
        targets.append(out_dir / "steps")
    for folder in targets:
        prefix = "live" if folder == out_dir else f"{step:03d}"
        render.save_html(fmap, folder / f"{prefix}-map.html")
        outputs.write_text(folder / f"{prefix}-summary.txt", text)
        outputs.write_text(
            folder / f"{prefix}-summary.json",
            json.dumps(record, indent=2, ensure_ascii=False, default=_plain) + "\n",
        )
    state["features"] = facts["features"]
    return state


def _plain(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return str(value)


@dataclass
class Watch:
    """The watch loop's memory: which snapshot versions were seen, the last state."""

    seen: dict = field(default_factory=dict)
    pending: dict = field(default_factory=dict)
    failures: dict = field(default_factory=dict)
    state: dict | None = None
    updates: int = 0


def watch(
    source: str | Path,
    update: Callable[[Path, int], dict],
    *,
    interval: float = 2.0,
    once: bool = False,
    max_updates: int | None = None,
    max_polls: int | None = None,
    report: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> Watch:
    """Watch a file or folder for new returns snapshots and call ``update(path, step)`` on
    each (it loads, renders and returns the state, e.g. via :func:`publish`); report what
    changed after each.

    A snapshot is taken once its size and modification time are the same on two polls
    (a file still being written waits); one that fails to parse is reported, skipped and
    retried when it changes: the previous map and summary stay in place, whole. With
    ``once`` every snapshot present now is played in order and the loop ends; otherwise it
    polls every ``interval`` seconds until ``max_updates`` snapshots are published or
    ``max_polls`` polls pass (forever when both are None).
    """
    source = Path(source)
    memory = Watch()
    polls = 0
    while True:
        polls += 1
        for path in snapshot_files(source):
            signature = _signature(path)
            if signature is None or memory.seen.get(path) == signature:
                continue
            if memory.failures.get(path) == signature:
                continue
            if not once and memory.pending.get(path) != signature:
                memory.pending[path] = signature  # wait one poll: is it still growing?
                continue
            memory.updates += 1
            try:
                check_complete(path)
                state = update(path, memory.updates)
            except CountDecreased as error:
                memory.updates -= 1
                memory.failures[path] = signature
                report(f"WARNING: snapshot {path.name} refused: {error}")
                continue
            except ExplorerError as error:
                memory.updates -= 1
                memory.failures[path] = signature
                report(
                    f"snapshot {path.name} could not be read ({error}); "
                    "keeping the previous map and summary, will retry when it changes"
                )
                continue
            memory.seen[path] = signature
            memory.pending.pop(path, None)
            report(f"[{memory.updates}] {path.name}: " + "; ".join(changes(memory.state, state)))
            memory.state = state
            if max_updates is not None and memory.updates >= max_updates:
                return memory
        if once or (max_polls is not None and polls >= max_polls):
            return memory
        sleep(interval)


# --------------------------------------------------------------------------- testing aid


GRID_NOTE = "TEST GRID: not real geography (one square per precinct name, for trying a file)"


def grid_layer(returns: str | Path, target: str | Path, *, office: str | None = None) -> int:
    """Write a GeoJSON precinct layer of made-up geometry for a returns file that has no
    precinct layer (e.g. the Clarity sample): one 1 km square per precinct name (none for
    county-wide rows such as absentee or provisional), in rows of ten, with ``name`` and a
    ``note`` saying it is not real geography. For trying the pipeline only; the squares say
    nothing about where anyone lives. Returns the count."""
    import geopandas as gpd
    import shapely

    from explorer import outputs

    long = read_returns(returns, office=office)
    wide = set(long.attrs.get("county_wide", []))  # absentee, provisional: no place
    names = [p for p in dict.fromkeys(long["precinct"].astype(str)) if p not in wide]
    squares = [shapely.box((i % 10) * 1000, (i // 10) * 1000, (i % 10 + 1) * 1000,
                           (i // 10 + 1) * 1000) for i in range(len(names))]  # fmt: skip
    layer = gpd.GeoDataFrame(
        {"name": names, "note": GRID_NOTE}, geometry=squares, crs="EPSG:3857"
    ).to_crs("EPSG:4326")
    # the GeoJSON's own "name" is the target's (not the temporary file's), and its
    # "description" says it is a test grid, as each feature's note does
    with outputs.atomic_path(Path(target)) as temporary:
        layer.to_file(
            temporary,
            driver="GeoJSON",
            layer=Path(target).stem,
            layer_options={"DESCRIPTION": GRID_NOTE},
        )
    return len(names)
