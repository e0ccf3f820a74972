"""Election night: partial returns as a first-class state, and the watch loop.

A returns snapshot taken while the count goes on says, for every precinct, whether it has
reported. Each precinct gets a ``status``:

``reported``  its count is in (a truthy ``reporting`` flag, ``percent_reporting`` of 100,
              every vote-method column filled, or, with no such columns, a row with votes).
``partial``   some of its votes are counted but not all (e.g. mail counted, election day
              not yet; ``percent_reporting`` between 0 and 100; a flag of 0 with votes).
``none``      nothing counted yet: a row with blank counts, a flag of 0 and no votes, or a
              precinct of the expected list that the snapshot does not name at all.

"N of M precincts reporting" counts ``reported`` precincts, as county election-night pages
do; ``partial`` precincts are counted and drawn with their votes so far, and said to be
partial. ``none`` precincts carry zero votes in the tables (nothing is counted there yet),
are never drawn as a zero: maps hatch them under their own legend key.

The vote-method columns are those OpenElections uses (``election_day``, ``mail``, ...): a
blank cell means that method is not counted yet in that precinct.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from explorer import loaders
from explorer.errors import ExplorerError

STATUSES = ("reported", "partial", "none")
FLAG_COLUMNS = ("reporting", "reported")
PERCENT_COLUMNS = ("percent_reporting", "pct_reporting", "percentreporting")
TRUE_WORDS = {"1", "true", "t", "yes", "y", "x", "reported", "reporting", "complete"}
FALSE_WORDS = {"0", "false", "f", "no", "n", "", "not reported", "none", "pending"}


def method_label(method: str) -> str:
    """'election_day' -> 'election day'."""
    return method.replace("_", " ")


# --------------------------------------------------------------------------- reading


def has_partial_columns(table: pd.DataFrame) -> bool:
    """Whether a returns table carries reporting information (a flag or percent column,
    or blank vote-method cells)."""
    columns = set(table.columns)
    if columns & set(FLAG_COLUMNS) or columns & set(PERCENT_COLUMNS):
        return True
    methods = [c for c in loaders.VOTE_METHOD_COLUMNS if c in columns]
    # a blank plain ``votes`` cell stays an error (a final file with a hole in it); a blank
    # vote-method cell is a method not counted yet
    return any((table[c].str.strip() == "").any() for c in methods)


def _counted(table: pd.DataFrame, column: str, path: Path) -> tuple[pd.Series, pd.Series]:
    """(filled mask, counts with blanks as 0) for one count column."""
    filled = table[column].str.strip() != ""
    counts = pd.Series(0, index=table.index, dtype="int64")
    if filled.any():
        counts[filled] = loaders._parse_count(table[filled], column, path)
    return filled, counts


def _flag(values: pd.Series, column: str, path: Path, lines: pd.Series) -> pd.Series:
    words = values.str.strip().str.casefold()
    unknown = ~words.isin(TRUE_WORDS | FALSE_WORDS)
    if unknown.any():
        raise ExplorerError(
            f"line {lines[unknown].iloc[0]}: {column} {values[unknown].iloc[0]!r} is not "
            "a yes/no value",
            source=path,
            hint="use 1/0, true/false or yes/no (or a percent_reporting column)",
        )
    return words.isin(TRUE_WORDS)


def _percent(values: pd.Series, column: str, path: Path, lines: pd.Series) -> pd.Series:
    text = values.str.strip().str.rstrip("%")
    numbers = pd.to_numeric(text.replace("", "0"), errors="coerce")
    bad = numbers.isna() | (numbers < 0) | (numbers > 100)
    if bad.any():
        raise ExplorerError(
            f"line {lines[bad].iloc[0]}: {column} {values[bad].iloc[0]!r} is not a percentage "
            "from 0 to 100",
            source=path,
        )
    return numbers.astype(float)


def load_snapshot(
    path: str | Path,
    *,
    office: str | None = None,
    district: str | None = None,
    expected: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Partial returns from an OpenElections-style CSV snapshot.

    Returns the long form of :func:`explorer.loaders.load_returns` (``precinct, candidate,
    party, votes``: votes counted so far, blanks as 0) with ``attrs["reporting"]``, a frame
    indexed by precinct with ``status`` (see the module doc), ``methods`` (the vote methods
    counted there, comma-separated) and ``percent``. Precincts of ``expected`` that the file
    does not name are added with status ``none`` and zero votes. The rows go through the
    same real-world repairs as a final file (:func:`explorer.loaders.repair_returns`:
    pseudo-candidate rows such as Total or Registered Voters kept out of the candidates,
    county totals dropped, county-wide and blank precincts kept unmapped, vote-method
    rows folded, ...), each noted in ``attrs["notes"]``; a precinct's status is read from
    its candidate rows only. With vote-method columns, ``attrs["method_votes"]`` holds the
    repaired rows' votes by method (``precinct, candidate`` and one column per method, NaN
    where the method is not counted yet), read by :mod:`explorer.projection`. Raises
    :class:`ExplorerError` for a bad count, flag or percentage, naming the line.
    """
    path = Path(path)
    table = loaders.read_csv_text(path)
    for column in ("precinct", "candidate"):
        if column not in table.columns:
            raise ExplorerError(f"missing required column {column!r}", source=path)
    methods = [c for c in loaders.VOTE_METHOD_COLUMNS if c in table.columns]
    if "votes" not in table.columns and not methods:
        raise ExplorerError("missing required column 'votes'", source=path)
    table = loaders._filter_contest(table, path, office, district).reset_index(drop=True)
    lines = table["_line"]
    filled = {}
    counts = {}
    for method in methods:
        filled[method], counts[method] = _counted(table, method, path)
    if "votes" in table.columns:
        votes_filled, votes = _counted(table, "votes", path)
        if methods:  # a blank total with filled methods: the methods are the count
            from_methods = sum(counts.values())
            votes = votes.where(votes_filled, from_methods)
            votes_filled = votes_filled | pd.concat(filled, axis=1).any(axis=1)
    else:
        votes = sum(counts.values())
        votes_filled = pd.concat(filled, axis=1).any(axis=1)
    flag_column = next((c for c in FLAG_COLUMNS if c in table.columns), None)
    percent_column = next((c for c in PERCENT_COLUMNS if c in table.columns), None)
    long = pd.DataFrame(
        {
            "precinct": loaders.normalise_ids(table["precinct"]).to_numpy(),
            "candidate": table["candidate"].to_numpy(),
            "party": table["party"].str.strip().to_numpy() if "party" in table else "",
            "votes": votes.to_numpy(),
            "_line": lines.to_numpy(),
            "_any": votes_filled.to_numpy(),
        }
    ).copy()  # own, writable arrays (as loaders.load_returns)
    for method in methods:
        long[f"_counted_{method}"] = filled[method].to_numpy()
        long[f"_votes_{method}"] = counts[method].to_numpy()
    if flag_column:
        long["_flag"] = _flag(table[flag_column], flag_column, path, lines).to_numpy()
    if percent_column:
        long["_percent"] = _percent(table[percent_column], percent_column, path, lines).to_numpy()
    # the same real-world repairs as a final file (pseudo-candidate rows, county totals and
    # county-wide rows, vote-method rows, ID styles, reserved names), notes included; the
    # reporting marks travel with the rows, so the state is that of the repaired precincts
    long = loaders.repair_returns(long, table, path)
    marks = [c for c in long.columns if c not in ("precinct", "candidate", "party", "votes")]
    rows = pd.DataFrame({"precinct": long["precinct"], "any": long["_any"], "votes": long["votes"]})
    for method in methods:
        rows[method] = long[f"_counted_{method}"]
    if flag_column:
        rows["flag"] = long["_flag"]
    if percent_column:
        rows["percent"] = long["_percent"]
    per = rows.groupby("precinct", sort=False)
    state = pd.DataFrame(index=pd.Index(per.size().index, name="precinct"))
    any_votes = per["any"].any() & (per["votes"].sum() >= 0)
    counted_methods = {m: per[m].any() for m in methods}
    all_methods = (
        pd.concat(counted_methods, axis=1).all(axis=1) if methods else any_votes.astype(bool)
    )
    if percent_column:
        percent = per["percent"].max()
        status = np.where(percent >= 100, "reported", np.where(percent > 0, "partial", "none"))
        status = np.where((status == "none") & (per["votes"].sum() > 0), "partial", status)
        state["percent"] = percent
    elif flag_column:
        flagged = per["flag"].any()
        has_votes = any_votes & (per["votes"].sum() > 0)
        status = np.where(flagged, "reported", np.where(has_votes, "partial", "none"))
        state["percent"] = np.where(flagged, 100.0, np.nan)
    else:
        status = np.where(all_methods, "reported", np.where(any_votes, "partial", "none"))
        state["percent"] = np.nan
    state["status"] = status
    state["methods"] = (
        pd.concat(counted_methods, axis=1).apply(
            lambda r: ",".join(m for m in methods if r[m]), axis=1
        )
        if methods
        else np.where(any_votes, "votes", "")
    )
    by_method = None
    if methods:  # the repaired rows' votes by method: NaN where a method is not counted
        by_method = long[["precinct", "candidate"]].copy()
        for method in methods:
            counted = long[f"_counted_{method}"].astype(bool)
            by_method[method] = long[f"_votes_{method}"].astype(float).where(counted)
    long = long.drop(columns=marks)
    long, state = add_expected(long, state, expected)
    long.attrs["reporting"] = state
    long.attrs["methods"] = methods
    if by_method is not None:
        long.attrs["method_votes"] = by_method
    return long.reset_index(drop=True).pipe(_with_attrs, long.attrs)


def _with_attrs(frame: pd.DataFrame, attrs: dict) -> pd.DataFrame:
    frame.attrs = dict(attrs)
    return frame


def add_expected(
    long: pd.DataFrame, state: pd.DataFrame, expected: Iterable[str] | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add the precincts of ``expected`` that the snapshot lacks: zero votes, status none."""
    if expected is None:
        return long, state
    wanted = loaders.normalise_ids(pd.Series(list(expected), dtype=str))
    state = state.copy()
    # a precinct the list does not name: its votes count and are drawn, but it is outside
    # the denominator and said so ("2 precincts not in the expected list")
    state["listed"] = state.index.isin(set(wanted))
    missing = [p for p in dict.fromkeys(wanted) if p not in state.index]
    if not missing:
        return long, state
    candidates = long.drop_duplicates("candidate")[["candidate", "party"]]
    extra = pd.DataFrame(
        {
            "precinct": np.repeat(missing, len(candidates)),
            "candidate": np.tile(candidates["candidate"].to_numpy(), len(missing)),
            "party": np.tile(candidates["party"].to_numpy(), len(missing)),
            "votes": 0,
        }
    )
    attrs = dict(long.attrs)
    long = pd.concat([long, extra], ignore_index=True)
    long.attrs = attrs
    added = pd.DataFrame(
        {"percent": np.nan, "status": "none", "methods": "", "listed": True},
        index=pd.Index(missing, name="precinct"),
    )
    return long, pd.concat([state, added])


def read_returns(
    path: str | Path,
    *,
    office: str | None = None,
    district: str | None = None,
    expected: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Any returns file: a Clarity ENR XML (:func:`explorer.clarity.load_clarity`), a CSV
    snapshot with reporting information (:func:`load_snapshot`), or a complete
    OpenElections CSV (:func:`explorer.loaders.load_returns`, unchanged). A complete file
    with vote-method columns records which methods it counts in ``attrs["reporting"]``.
    With ``expected`` (every precinct of the contest), precincts the file does not name are
    added as not reporting, and the precincts it names count as reported."""
    path = Path(path)
    if path.suffix.lower() == ".xml":
        from explorer.clarity import load_clarity

        long = load_clarity(path, contest=office)
        state = long.attrs["reporting"]
    elif path.suffix.lower() in (".csv", ".txt") and path.exists():
        header = loaders.read_csv_text(path)
        methods = [c for c in loaders.VOTE_METHOD_COLUMNS if c in header.columns]
        if has_partial_columns(header) or methods or expected is not None:
            return load_snapshot(path, office=office, district=district, expected=expected)
        return loaders.load_returns(path, office=office, district=district)
    else:
        return loaders.load_returns(path, office=office, district=district)
    long, state = add_expected(long, state, expected)
    long.attrs["reporting"] = state
    return long


def read_precinct_list(path: str | Path) -> list[str]:
    """Every precinct of a contest, for telling "not in yet" from "not in the contest": a
    CSV with a ``precinct`` column (any returns file), or a text file of one ID a line."""
    path = Path(path)
    table = loaders.read_csv_text(path)
    if "precinct" in table.columns:
        ids = table["precinct"]
    else:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
        ids = pd.Series([line for line in lines if line.strip()], dtype=str)
    ids = loaders.normalise_ids(ids)
    ids = ids[ids != ""].drop_duplicates()
    if ids.empty:
        raise ExplorerError("no precinct IDs in the precinct list", source=path)
    return ids.tolist()


# --------------------------------------------------------------------------- state


def joined_ids(ids: Iterable[str], renamed: dict[str, str] | None) -> pd.Index:
    """Result precinct IDs as the join renamed them (``attrs["renamed"]`` of
    :func:`explorer.join.join_returns`: leading zeros restored or the layer's spelling of
    the same number, then a sub-precinct's parent polygon); other IDs unchanged."""
    renamed = renamed or {}

    def joined(precinct: str) -> str:
        for _ in range(3):  # a spelling repaired, then its parent
            precinct = renamed.get(precinct, precinct)
        return precinct

    return pd.Index([joined(str(p)) for p in ids], name="precinct")


def mark_reporting(features: pd.DataFrame, reporting: pd.DataFrame | None) -> pd.DataFrame:
    """Add ``status`` and ``methods`` columns to joined precincts (in place) and
    ``attrs["reporting"]`` (a :func:`reporting_summary`). Without reporting information
    nothing changes."""
    if reporting is None:
        return features
    from_file = reporting.attrs.get("denominator") == "file"
    key = lambda ids: pd.Index(ids).astype(str).str.lstrip("0")  # noqa: E731 (zeros restored)
    # the result IDs as the join matched them to the layer ('101' -> 'PCT 0101')
    reporting = reporting.set_axis(joined_ids(reporting.index, features.attrs.get("renamed")))
    status = pd.Series(reporting["status"].to_numpy(), index=key(reporting.index))
    outside = (
        set(key(reporting.index[~reporting["listed"].to_numpy(bool)]))
        if "listed" in reporting
        else set()
    )  # precincts not in the expected list: drawn, counted, outside the denominator
    methods = pd.Series(reporting["methods"].to_numpy(), index=key(reporting.index))
    # a polygon carrying several result precincts (sub-precincts): one status if they
    # agree, else partial; the methods counted in any of them
    if status.index.duplicated().any():
        status = status.groupby(level=0, sort=False).agg(
            lambda s: s.iloc[0] if s.nunique() == 1 else "partial"
        )
        methods = methods.groupby(level=0, sort=False).agg(
            lambda m: ",".join(dict.fromkeys(x for t in m for x in str(t).split(",") if x))
        )
    if "results" not in features:
        ids = key(features["precinct"])
        features["status"] = status.reindex(ids).fillna("reported").to_numpy()
        features["methods"] = methods.reindex(ids).fillna("").to_numpy()
        if outside:
            features["listed"] = ~ids.isin(outside)
        features.attrs["reporting"] = reporting_summary(
            features, features.attrs.get("county_wide", [])
        )
        if from_file:
            features.attrs["reporting"]["denominator"] = "file"
        return features
    # pooled units (explorer.infer) hold several result precincts: report each precinct,
    # and give a unit "reported" / "none" only when all its members agree, else "partial"
    members = features["results"].astype(str).str.split(",").explode()
    each = pd.DataFrame({"unit": members.index, "precinct": members.to_numpy()})
    each["status"] = status.reindex(key(each["precinct"])).fillna("reported").to_numpy()
    each["methods"] = methods.reindex(key(each["precinct"])).fillna("").to_numpy()
    if outside:
        each["listed"] = ~key(each["precinct"]).isin(outside)
    combined = each.groupby("unit")["status"].agg(
        lambda s: s.iloc[0] if s.nunique() == 1 else "partial"
    )
    features["status"] = combined.reindex(features.index).fillna("reported").to_numpy()
    features["methods"] = (
        each.groupby("unit")["methods"]
        .agg(lambda m: ",".join(sorted({x for t in m for x in str(t).split(",") if x})))
        .reindex(features.index)
        .fillna("")
        .to_numpy()
    )
    summary = reporting_summary(each, features.attrs.get("county_wide", []))
    summary["votes_counted"] = int(features["total"].sum()) if "total" in features else None
    if from_file:
        summary["denominator"] = "file"
    features.attrs["reporting"] = summary
    features.attrs["reported_members"] = each.loc[each["status"] == "reported", "precinct"].tolist()
    return features


def reporting_summary(features: pd.DataFrame, county_wide: Iterable[str] = ()) -> dict:
    """Plain numbers of the reporting state of joined (or wide) precincts with a
    ``status`` column: expected, reported, partial, not reporting, the fraction reporting,
    the votes counted so far, and per vote method the precincts where it is counted.
    ``county_wide`` rows (PROVISIONAL, Clarity's absentee ``AB``...) are no precincts:
    their votes are counted, they are not in the N of M (``county_wide_rows``)."""
    wide = features["precinct"].isin(set(county_wide)).to_numpy(bool)
    listed = features.get("listed", pd.Series(True, index=features.index)).to_numpy(bool)
    listed = listed | wide  # a county-wide row is never "not in the expected list"
    status = features["status"].where(listed & ~wide, "outside")
    outside = int((~listed).sum())  # not in the expected precinct list: not in the count
    expected = len(features) - outside - int(wide.sum())
    counts = {s: int((status == s).sum()) for s in STATUSES}
    methods: dict[str, int] = {}
    for text in features.get("methods", pd.Series("", index=features.index))[~wide]:
        for method in filter(None, str(text).split(",")):
            methods[method] = methods.get(method, 0) + 1
    unreported = features.loc[(status == "none").to_numpy(), "precinct"].tolist()
    return {
        "expected": expected,
        "reported": counts["reported"],
        "partial": counts["partial"],
        "not_reporting": counts["none"],
        "fraction": counts["reported"] / expected if expected else float("nan"),
        "votes_counted": int(features["total"].sum()) if "total" in features else None,
        "methods": methods,
        "unreported_precincts": unreported,
        "complete": counts["reported"] == expected,
        "outside_expected": outside,
        "outside_precincts": features.loc[~listed, "precinct"].tolist(),
        "county_wide_rows": features.loc[wide, "precinct"].tolist(),
    }


def describe_reporting(summary: dict | None) -> str:
    """'21 of 192 precincts reporting (10.9%); counted so far: mail in 192 precincts,
    election day in 21; 171 precincts partly counted.' (empty without reporting info)."""
    if not summary:
        return ""
    n, m = summary["reported"], summary["expected"]
    text = f"{n:,} of {m:,} precincts reporting ({summary['fraction']:.1%})"
    if summary.get("denominator") == "file":
        text += (
            f" (the {m:,} are the precincts in this file: no precinct list, "
            "give --expected for one)"
        )
    methods = summary.get("methods") or {}
    real = {k: v for k, v in methods.items() if k != "votes"}
    if real:
        text += "; counted so far: " + ", ".join(
            f"{method_label(k)} in {v:,} precinct{'s' if v != 1 else ''}"
            for k, v in sorted(real.items(), key=lambda kv: -kv[1])
        )
    if summary["partial"]:
        text += f"; {summary['partial']:,} precinct(s) partly counted"
    if summary["not_reporting"]:
        text += f"; {summary['not_reporting']:,} with nothing counted yet (hatched on maps)"
    if summary.get("outside_expected"):
        n_out = summary["outside_expected"]
        shown = ", ".join(map(str, summary.get("outside_precincts", [])[:5]))
        text += (
            f"; {n_out:,} precinct{'s' if n_out != 1 else ''} not in the expected list "
            f"({shown}{', ...' if n_out > 5 else ''}: counted, not in the {m:,})"
        )
    if summary.get("county_wide_rows"):
        rows = summary["county_wide_rows"]
        text += (
            f"; votes of {len(rows)} county-wide row group{'s' if len(rows) != 1 else ''} "
            f"({', '.join(map(str, rows[:4]))}{', ...' if len(rows) > 4 else ''}) counted, "
            "not precincts"
        )
    if summary["complete"]:
        text += "; the count is complete in every precinct"
    return text + "."


def leader(features: pd.DataFrame, candidates: list[str]) -> dict:
    """The race so far: leader, runner-up, their votes and shares of all votes counted, and
    the lead in votes and in percentage points of the two-way vote."""
    votes = features[candidates].sum().sort_values(ascending=False)
    total = float(votes.sum())
    first, second = ([*list(votes.index), "", ""])[:2]
    a = float(votes.get(first, 0))
    b = float(votes.get(second, 0)) if second else 0.0
    two = a + b
    return {
        "leader": first if total else "",
        "runner_up": second,
        "votes": {str(k): int(v) for k, v in votes.items()},
        "shares": {str(k): (float(v) / total if total else float("nan")) for k, v in votes.items()},
        "lead_votes": int(a - b),
        "margin": (a - b) / two if two else float("nan"),
        "total": int(total),
    }


def reporting_answer(features: pd.DataFrame, candidates: list[str]) -> str:
    """The answer to "how many precincts are in?" / "who is leading?" on election night:
    the reporting sentence and the race so far, in plain words (for ``ask``)."""
    summary = features.attrs.get("reporting") or reporting_summary(
        features.assign(status=features.get("status", "reported"))
    )
    race = leader(features, candidates)
    if not race["total"]:
        return describe_reporting(summary) + " No votes counted yet."
    a, b = race["leader"], race["runner_up"]
    sa, sb = race["shares"][a], race["shares"].get(b, float("nan"))
    counted = "Final count" if summary["complete"] else "Votes counted so far"
    text = (
        f"{describe_reporting(summary)} {counted}: {race['total']:,}. "
        f"{a} {'leads' if not summary['complete'] else 'won'} with "
        f"{race['votes'][a]:,} ({sa:.1%})"
    )
    if b:
        text += f" to {b}'s {race['votes'][b]:,} ({sb:.1%}), a lead of {race['lead_votes']:,}"
    return text + "."


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
    always counts result precincts, never map areas."""
    import dataclasses

    spec = dataclasses.replace(election.spec, returns=str(path), totals=None)
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
    state = {
        "election": election.name,
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
    fmap, facts, _ = election.build_map(tiles=tiles)
    if extra is not None:  # e.g. a projection, labelled as an estimate by its maker
        state["estimate"] = extra(election)
    text = "\n".join(
        [
            f"{election.spec.title}",
            *([state["warning"]] if state.get("warning") else []),
            state["answer"],
            state.get("estimate", ""),
            "",
        ]
    )
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
    with outputs.atomic_path(Path(target)) as temporary:
        layer.to_file(temporary, driver="GeoJSON")
    return len(names)
