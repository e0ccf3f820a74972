"""Election night, reading: returns snapshots (CSV with reporting flags, percentages or
blank vote-method cells; Clarity XML through :mod:`explorer.clarity`) into the returns
model with a per-precinct reporting ``status`` (see :mod:`explorer.live`)."""

from __future__ import annotations

from collections.abc import Iterable
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
    raw = path.read_bytes() if path.is_file() else b""
    if b"\x00" in raw[:4096] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        odd = raw[1:4096:2].count(b"\x00")
        even = raw[0:4096:2].count(b"\x00")
        if min(odd, even) > 0 or max(odd, even) * 3 < len(raw[:4096]) // 2:
            raise ExplorerError(
                "is not a text file (it holds binary data)",
                source=path,
                hint="give a text file of one precinct ID a line, or a CSV with a 'precinct' "
                "column",
            )
    table = loaders.read_csv_text(path)
    if "precinct" in table.columns:
        ids = table["precinct"]
    elif len(table.columns.drop("_line", errors="ignore")) > 1:  # a rank table, a ward list
        shown = ", ".join(list(table.columns.drop("_line", errors="ignore"))[:5])
        raise ExplorerError(
            f"is neither one precinct ID a line nor a CSV with a 'precinct' column "
            f"(its first line has {shown})",
            source=path,
            hint="give one precinct ID a line, or a CSV whose header names a 'precinct' column",
        )
    else:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
        ids = pd.Series([line for line in lines if line.strip()], dtype=str)
    ids = loaders.normalise_ids(ids)
    ids = ids[ids != ""].drop_duplicates()
    if ids.empty:
        raise ExplorerError("no precinct IDs in the precinct list", source=path)
    return ids.tolist()
