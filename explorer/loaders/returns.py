"""Returns files: OpenElections CSV (one contest, checked counts) in long and wide form,
and district-level totals."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.errors import ExplorerError
from explorer.loaders.repairs import (
    _unify_candidates,
    pseudo_candidate,
    repair_returns,
)
from explorer.loaders.text import _INVISIBLE, _note, normalise_ids, read_csv_text

RETURNS_COLUMNS = ("precinct", "candidate", "votes")
VOTE_METHOD_COLUMNS = ("election_day", "mail", "early_voting", "provisional", "absentee")


def _canon_district(value) -> str:
    value = str(value).translate(_INVISIBLE).strip()
    value = re.sub(r"(?i)^(?:district|dist\.?|d)\s*(?=\d)", "", value)  # 'District 2' is 2
    if re.fullmatch(r"\d+\.0+", value):
        value = value.split(".")[0]
    return value.lstrip("0") or value


def _same_district(values: pd.Series, district: str) -> pd.Series:
    return values.map(_canon_district) == _canon_district(district)


def _filter_contest(
    table: pd.DataFrame, path: Path, office: str | None, district: str | None
) -> pd.DataFrame:
    """Keep one contest: one office (``--office``) and, where the office is held in several
    districts, one district (``--contest-district``); several of either are refused."""
    if table.empty:
        raise ExplorerError(
            "no data rows (the file holds only a header)", source=path, hint="export the rows"
        )
    content = [c for c in ("precinct", "candidate", "votes") if c in table.columns]
    stray = (table[content].apply(lambda c: c.str.strip()) == "").all(axis=1)
    if stray.any() and not stray.all():  # a footer such as 'Note: unofficial results'
        first = table[stray].iloc[0]
        text = next((str(v).strip() for v in first.drop("_line") if str(v).strip()), "")
        _note(
            table,
            f"{path}: left out {int(stray.sum())} line(s) with no precinct, candidate or votes "
            f"(line {first['_line']}{': ' + repr(text[:60]) if text else ''})",
        )
        table = table[~stray]
    every_office = (
        sorted(set(table["office"].str.split().str.join(" "))) if "office" in table else []
    )
    every_district = (
        sorted({d for d in table["district"].map(_canon_district) if d})
        if "district" in table
        else []
    )
    if office is not None:
        if "office" not in table.columns:
            raise ExplorerError("no 'office' column to filter on", source=path)
        wanted = " ".join(office.split()).casefold()
        table = table[table["office"].str.split().str.join(" ").str.casefold() == wanted]
    elif "office" in table.columns:
        names = table["office"].str.split().str.join(" ")
        pseudo = names.map(pseudo_candidate).notna() & (names != "")
        if pseudo.any() and not pseudo.all():  # 'Registered Voters' rows are not a contest
            _note(
                table,
                f"{path}: left out {int(pseudo.sum())} row(s) of "
                f"{', '.join(map(repr, sorted(names[pseudo].unique())[:3]))} (not a contest)",
            )
            table, names = table[~pseudo], names[~pseudo]
        offices = sorted(names.unique())
        if len(offices) > 1:
            raise ExplorerError(
                f"the file holds {len(offices)} offices ({', '.join(offices[:6])})",
                source=path,
                hint="choose one with --office",
            )
    if district is not None:
        if "district" not in table.columns:
            raise ExplorerError(
                "no 'district' column to filter on", source=path, hint="drop --contest-district"
            )
        table = table[_same_district(table["district"], district)]
    elif "district" in table.columns and len(table):
        districts = table["district"].map(_canon_district)
        found = sorted(d for d in districts.unique() if d)
        if len(found) > 1:
            shown = sorted(found, key=lambda d: (len(d), d))
            raise ExplorerError(
                f"the file holds {len(found)} districts for this office ({', '.join(shown[:8])}"
                f"{', ...' if len(found) > 8 else ''})",
                source=path,
                hint="choose one with --contest-district",
            )
    if table.empty:
        asked = " and ".join(
            f"{label} {value!r}"
            for label, value in (("--office", office), ("--contest-district", district))
            if value is not None
        )
        offered = "; ".join(
            f"{label}: {', '.join(values[:8])}{', ...' if len(values) > 8 else ''}"
            for label, values in (
                ("offices", every_office),
                (
                    "districts",
                    every_district or (["(none: the column is blank)"] if district else []),
                ),
            )
            if values
        )
        raise ExplorerError(
            f"no rows for {asked or 'this contest'}",
            source=path,
            hint=f"the file holds {offered}" if offered else "check the file",
        )
    return table


#: largest count believed for one row (one precinct, one candidate)
MAX_COUNT = 1_000_000_000
_GROUPED = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.0+)?$")


def _parse_votes(table: pd.DataFrame, path: Path) -> pd.Series:
    """The ``votes`` column, or, where it is absent or blank, the sum of the vote-method
    columns (a blank method cell counts 0: the method had no votes in that row)."""
    methods = [c for c in VOTE_METHOD_COLUMNS if c in table.columns]
    if "votes" not in table.columns:
        if not methods:
            raise ExplorerError("missing required column 'votes'", source=path)
        return sum(_parse_count(table, c, path, blank_is_zero=True) for c in methods)
    if not methods:
        return _parse_count(table, "votes", path)
    blank = table["votes"].str.strip() == ""
    by_method = sum(_parse_count(table, c, path, blank_is_zero=True) for c in methods)
    if blank.any():
        _note(
            table,
            f"{path}: {int(blank.sum())} row(s) with a blank votes cell took the sum of "
            f"their vote-method columns ({', '.join(methods)})",
        )
    votes = _parse_count(table[~blank], "votes", path).reindex(table.index)
    return votes.fillna(by_method).astype("int64")


def _parse_count(
    table: pd.DataFrame, column: str, path: Path, *, blank_is_zero: bool = False
) -> pd.Series:
    """Whole, non-negative counts: '1,234' (well-formed thousands groups) and '12.0' are
    read; '12,5', '1,2,3', '12.5', 'inf', 'nan' and counts over 10^9 are refused, naming
    the line."""
    text = table[column].astype(str).str.translate(_INVISIBLE).str.strip()
    if blank_is_zero:
        text = text.mask(text == "", "0")
    grouped = text.str.match(_GROUPED)
    if grouped.any():
        _note(
            table,
            f"{path}: read {int(grouped.sum())} {column} count(s) written with "
            "thousands separators (e.g. " + repr(text[grouped].iloc[0]) + ")",
        )
    cleaned = text.mask(grouped, text.str.replace(",", "", regex=False))
    plain = cleaned.str.fullmatch(r"-?(?:\d+(?:\.\d*)?|\.\d+)")
    numbers = pd.to_numeric(cleaned.where(plain), errors="coerce").astype(float)
    with np.errstate(invalid="ignore"):
        bad = (
            numbers.isna() | (numbers != np.floor(numbers)) | (numbers < 0) | (numbers > MAX_COUNT)
        )
    if bad.any():
        row = table[bad].iloc[0]
        value = str(table.loc[bad, column].iloc[0])
        number = numbers[bad].iloc[0]
        if "," in value:
            what = "is not a number (a thousands separator must group three digits)"
        elif re.fullmatch(r"\s*[+-]?[\d.]+[eE][+-]?\d+\s*", value):
            what = "is in scientific notation, which rounds counts (write the whole number)"
        elif value.strip().startswith("+"):
            what = "has a leading '+' (a count is written as plain digits)"
        elif np.isnan(number):
            what = "is not a whole number"
        elif number < 0:
            what = "is negative"
        elif number > MAX_COUNT:
            what = f"is implausibly large for one row (over {MAX_COUNT:,})"
        else:
            what = "is not a whole number"
        raise ExplorerError(
            f"line {row['_line']} (precinct {row.get('precinct', '?')}, candidate "
            f"{row.get('candidate', '?')}): {column} {value!r} {what}",
            source=path,
            hint=f"fix the row; {int(bad.sum())} row(s) have this problem",
        )
    return numbers.astype("int64")


def load_returns(
    path: str | Path, *, office: str | None = None, district: str | None = None
) -> pd.DataFrame:
    """Precinct returns in long form: ``precinct, candidate, party, votes``.

    Reads OpenElections CSV (``county,precinct,office,district,party,candidate,votes``,
    optionally vote-method columns), keeps one contest, repairs IDs, checks every count and
    refuses conflicting duplicate rows. Exact duplicate rows are collapsed and noted.
    Pseudo-candidate rows (Total, Ballots Cast, Registered Voters, Over/Under Votes,
    Blank...) are kept out of the candidates, in ``attrs["pseudo"]`` (a list of
    (precinct, kind, votes)); county-wide pseudo-precincts (PROV, ABSENTEE, ONE STOP, a
    blank precinct...) are listed in ``attrs["county_wide"]``; rows written per vote method as extra
    precincts ('X - Mail') are folded into their precinct. Every repair is in
    ``attrs["notes"]``.
    """
    path = Path(path)
    table = read_csv_text(path)
    missing = [c for c in RETURNS_COLUMNS if c not in table.columns]
    if "votes" in missing and any(c in table.columns for c in VOTE_METHOD_COLUMNS):
        missing.remove("votes")
    if missing:
        raise ExplorerError(
            f"missing required column(s) {', '.join(missing)} "
            f"(has {', '.join(c for c in table.columns if c != '_line')})",
            source=path,
            hint="OpenElections columns are county,precinct,office,district,party,candidate,votes",
        )
    table = _filter_contest(table, path, office, district)
    votes = _parse_votes(table, path)
    long = pd.DataFrame(
        {
            "precinct": normalise_ids(table["precinct"]).to_numpy(),
            "candidate": table["candidate"].to_numpy(),
            "party": (table["party"].str.strip() if "party" in table else "").to_numpy()
            if "party" in table
            else "",
            "votes": votes.to_numpy(),
            "_line": table["_line"].to_numpy(),
        }
    ).copy()  # own, writable arrays: pandas 3 without pyarrow hands out read-only views
    # IDs are compared in upper case; a reader sees the file's own spelling ("1e5", "PCT-9é")
    spelt = table["precinct"].astype(str).str.translate(_INVISIBLE).str.split().str.join(" ")
    spelt = spelt.str.replace(r"^(\d+)\.0+$", r"\1", regex=True).to_numpy()
    spelling = {k: v for k, v in zip(long["precinct"], spelt) if k != v}
    repaired = repair_returns(long, table, path)
    repaired.attrs["precinct_spelling"] = spelling
    return repaired


def load_totals(
    path: str | Path, *, office: str | None = None, district: str | None = None
) -> pd.Series:
    """District-level totals per candidate (an OpenElections file without a precinct column)."""
    path = Path(path)
    table = read_csv_text(path)
    for column in ("candidate", "votes"):
        if column not in table.columns:
            raise ExplorerError(f"missing required column {column!r}", source=path)
    table = _filter_contest(table, path, office, district)
    votes = _parse_count(table, "votes", path)
    names = _unify_candidates(table["candidate"], table, path)
    real = names.map(pseudo_candidate).isna().to_numpy()  # no Total or Ballots Cast lines
    return votes[real].groupby(names[real].to_numpy()).sum().rename("votes")


def with_totals(table: pd.DataFrame, totals: pd.Series) -> pd.DataFrame:
    """``table`` (one row per candidate: ``votes``, ``share``) with each candidate's figure
    in the district totals file beside it (``district_totals``, a nullable integer, missing
    where the file does not name the candidate), plus a row of 0 votes for each candidate
    the file names and the returns do not."""
    table = table.copy()
    table["district_totals"] = totals.reindex(table.index)
    missing = [c for c in totals.index if c not in table.index]
    for candidate in missing:
        table.loc[candidate] = [0, 0.0, totals[candidate]]
    table["district_totals"] = table["district_totals"].astype("Int64")
    return table


def totals_differences(table: pd.DataFrame) -> dict[str, int]:
    """Precinct returns minus district totals, by candidate, where they differ (``table``
    from :func:`with_totals`; a candidate the totals file does not name differs by all
    their votes). Empty when every count agrees."""
    difference = table["votes"] - table["district_totals"].fillna(0)
    return {str(name): int(value) for name, value in difference.items() if value != 0}


def wide_returns(long: pd.DataFrame) -> pd.DataFrame:
    """One row per precinct, one column per candidate (commonest first), plus ``total``."""
    order = long.groupby("candidate")["votes"].sum().sort_values(ascending=False).index
    wide = long.pivot_table(
        index="precinct", columns="candidate", values="votes", aggfunc="sum", fill_value=0
    )
    wide = wide.reindex(columns=order, fill_value=0).astype("int64")
    wide.columns.name = None
    wide["total"] = wide.sum(axis=1)
    return wide
