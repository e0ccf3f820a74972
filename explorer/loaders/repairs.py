"""Real-world returns rows: recognisers (pseudo-candidates, county-wide and vote-method
precincts, reserved names) and the repairs that use them, each appending a note."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from explorer.errors import ExplorerError
from explorer.loaders.text import _INVISIBLE, _note, precinct_key

#: what a pseudo-candidate row counts, by the name it is written under
PSEUDO_KINDS = (
    (
        "registered voters",
        r"(total )?(number of )?(registered|registration|reg)( voters?)?"
        r"( total)?|voters registered|total voters registered",
    ),
    (
        "ballots cast",
        r"(total )?(ballots|times|cards|voters)( cast| voted| counted)?( total)?"
        r"|(total )?(number of )?ballots cast( total)?|turnout|public count",
    ),
    ("over votes", r"(total |times |number of )?over ?(votes?|voted|vote count)( total)?|overs"),
    ("under votes", r"(total |times |number of )?under ?(votes?|voted|vote count)( total)?|unders"),
    ("blank", r"(total )?blank( votes?| ballots?)?( total)?|blanks|(ballots cast )?blank"),
    ("void", r"(void|voids|spoiled|rejected|invalid|null)( votes?| ballots?)?"),
    (
        "total",
        r"(grand )?totals?( votes?)?( cast)?( for (the )?(office|contest|race))?"
        r"|(total )?votes cast( total)?|vote totals?",
    ),
)
_PSEUDO = [(kind, re.compile(rf"(?:{pattern})")) for kind, pattern in PSEUDO_KINDS]


def pseudo_candidate(name: str) -> str | None:
    """The kind of a pseudo-candidate row ('Total Votes' -> 'total', 'Under Votes' ->
    'under votes', 'Registered Voters' -> 'registered voters'), or None for a real
    candidate (write-ins are votes, so they are candidates)."""
    words = re.sub(r"[^a-z]+", " ", str(name).translate(_INVISIBLE).casefold()).strip()
    words = re.sub(r"\b(overvotes|undervotes)\b", lambda m: m.group(1)[:-5] + " votes", words)
    if not words:
        return None
    for kind, pattern in _PSEUDO:
        if pattern.fullmatch(words):
            return kind
    return _pseudo_family(words)


#: words a pseudo-candidate name is made of; a name with any other word ('Total Wine
#: Smith', 'None of These Candidates') is a candidate
_PSEUDO_WORDS = frozenset(
    [
        "total",
        "totals",
        "grand",
        "contest",
        "race",
        "office",
        "precinct",
        "precincts",
        "pct",
        "reporting",
        "reported",
        "number",
        "of",
        "no",
        "count",
        "counted",
        "counts",
        "registered",
        "registration",
        "reg",
        "voters",
        "voter",
        "turnout",
        "ballots",
        "ballot",
        "cast",
        "times",
        "voted",
        "votes",
        "vote",
        "over",
        "under",
        "overvote",
        "overvotes",
        "undervote",
        "undervotes",
        "overvoted",
        "undervoted",
        "blank",
        "blanks",
        "exhausted",
        "exhaust",
        "inactive",
        "the",
        "for",
        "and",
        "in",
        "percent",
        "pct",
    ]
)
#: the family a pseudo name belongs to, by its first key word found (in this order)
_PSEUDO_FAMILIES = (
    ({"registered", "registration", "reg"}, "registered voters"),
    ({"reporting", "reported", "precincts"}, "precincts reporting"),
    ({"exhausted", "exhaust", "inactive"}, "exhausted ballots"),
    ({"turnout", "voters", "voter", "ballots", "ballot", "times"}, "ballots cast"),
    ({"over", "overvote", "overvotes", "overvoted"}, "over votes"),
    ({"under", "undervote", "undervotes", "undervoted"}, "under votes"),
    ({"blank", "blanks"}, "blank"),
    ({"total", "totals"}, "total"),
)


def _pseudo_family(words: str) -> str | None:
    """Pattern families (total, turnout, reporting, registered, over/under, blank,
    exhausted): a name made only of those words is a pseudo-candidate."""
    tokens = words.split()
    if not set(tokens) <= _PSEUDO_WORDS:
        return None
    found = set(tokens)
    over = found & {"over", "overvote", "overvotes", "overvoted"}
    under = found & {"under", "undervote", "undervotes", "undervoted"}
    if over and under:
        return "over and under votes"
    for keys, kind in _PSEUDO_FAMILIES:
        if found & keys:
            return kind
    return None


_WRITE_IN_TOTAL = re.compile(
    r"(total )?write ?ins?( votes?)?( totals?)|total write ?ins?( votes?)?"
)


def _write_in_totals(long: pd.DataFrame, path: Path) -> pd.Series:
    """Rows of a write-in *total* ('Write-In Totals'): pseudo where the file also lists
    individual write-ins (they would be counted twice), else votes; noted either way."""
    words = long["candidate"].map(
        lambda n: re.sub(r"[^a-z]+", " ", str(n).translate(_INVISIBLE).casefold()).strip()
    )
    total = words.map(lambda w: bool(_WRITE_IN_TOTAL.fullmatch(w)))
    if not total.any():
        return pd.Series(False, index=long.index)
    # a named write-in: 'Jo Doe (Write-In)', 'Write-in: Jo Doe', 'W/I Jo Doe'
    individual = ~total & (
        words.str.contains(r"\bwrite ?in\b") | long["candidate"].str.contains(r"(?i)\bw/i\b")
    )
    label = ", ".join(sorted(map(repr, long.loc[total, "candidate"].unique())))
    if individual.any():
        _note(
            long,
            f"{path}: {label} is a total of the individual write-in rows also in the file; "
            "kept out of the candidates (counting it would count those votes twice)",
        )
        return total
    _note(long, f"{path}: {label} counted as votes (the file lists no individual write-ins)")
    return pd.Series(False, index=long.index)


#: precinct names that stand for county-wide vote-method or adjustment rows, not places
COUNTY_WIDE = re.compile(
    r"(?:(?:county|countywide|county wide)\s+)?"
    r"(?:prov|provisional|provisionals|absentee|absentees|absentee by mail|absentee mail|"
    r"mail|mail in|mail ballots?|vote by mail|vbm|by mail|one stop|one stop early voting|"
    r"early|early voting|early vote|advance voting|in person absentee|transfer|transfers|"
    r"curbside|federal|federal only|overseas|uocava|military|presidential only|"
    r"limited|supplemental|emergency|paper ballots?|hand count|cvr|"
    r"county total|county totals|total|totals|grand total)"
    r"(?:\s*(?:ballots?|votes?|precinct|pct|\d+))*",
)


#: precinct names that stand for a total of the file, never a place
_TOTAL_PRECINCT = re.compile(r"(?:(?:county|countywide|county wide|grand) )?totals?")


def _words(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", str(text).casefold()).strip()


def county_wide(precinct: str) -> bool:
    """True for a pseudo-precinct such as PROV, ABSENTEE, ONE STOP or TRANSFER (or a blank
    precinct): county-wide rows that no polygon can carry."""
    words = re.sub(r"[^a-z0-9]+", " ", str(precinct).casefold()).strip()
    return not words or bool(COUNTY_WIDE.fullmatch(words))


BLANK_PRECINCT = "(blank precinct)"

METHOD_WORDS = (
    r"mail|mail in|mail ballots?|by mail|vote by mail|vbm|absentee|abs|ab|prov|provisional|"
    r"federal|fed|election day|eday|ed|e day|polls?|in person|early|early voting|ev|"
    r"one stop|overseas|uocava|military|curbside|transfer"
)
_METHOD_SUFFIX = re.compile(
    rf"^(?P<base>.*?\S)\s*(?:-|\u2013|/|,|:|\()\s*(?P<method>{METHOD_WORDS})"
    rf"(?:\s*(?:votes?|ballots?))?\)?$",
    re.IGNORECASE,
)


_METHOD_NAME = re.compile(rf"(?:{METHOD_WORDS})(?:\s*(?:votes?|ballots?|precinct|pct))?")


def vote_method_name(precinct: str) -> bool:
    """True for a precinct named only by a vote method ('AB', 'ABS', 'Provisional', 'EV',
    'Election Day'): in an election-night system's file (Clarity ENR), where every real
    precinct has a place name or number, such a row is a county-wide batch, not a place.
    (Plain CSVs are not read this way: a precinct may be called 'AB' there.)"""
    return bool(_METHOD_NAME.fullmatch(_words(precinct)))


_RETURNS_ROW_COLUMNS = ("precinct", "candidate", "party", "votes", "_line")


def _fold_method_rows(long: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Rows whose precinct is another precinct plus a vote method ('ALDAN EASTERN - MAIL')
    are that precinct's votes cast by that method: fold them into it (noted)."""
    ids = pd.Series(long["precinct"].unique())
    found = ids.str.extract(_METHOD_SUFFIX)
    base = found["base"].str.strip()
    present = set(ids)
    counts = base.value_counts()
    folds = {
        precinct: parent
        for precinct, parent in zip(ids, base)
        if isinstance(parent, str)
        and not county_wide(parent)
        and (parent in present or counts.get(parent, 0) > 1)
    }
    return _apply_folds(long, "precinct", folds, path, "vote-method row group(s)", "precincts")


def _apply_folds(
    long: pd.DataFrame, column: str, folds: dict, path: Path, what: str, into: str
) -> pd.DataFrame:
    """``long`` with each ``column`` value in ``folds`` replaced by its parent and the rows
    merged (:func:`_merge_folded`), noted with one example; unchanged when nothing folds."""
    if not folds:
        return long
    long = long.copy()
    long[column] = long[column].replace(folds)
    example = next(iter(folds))
    _note(
        long,
        f"{path}: folded {len(folds)} {what} into their {into} "
        f"(e.g. {example!r} into {folds[example]!r})",
    )
    return _merge_folded(long)


def _merge_folded(long: pd.DataFrame) -> pd.DataFrame:
    """One row per precinct and candidate after a fold: votes add up, the party and the
    first line are kept. Other columns (a snapshot's reporting marks) take their largest
    value: a precinct has reported, or counted a method, when any of its rows says so; a
    snapshot's votes by method (``_votes_<method>``) add up like the votes."""
    extra = {
        c: (c, "sum" if c.startswith("_votes_") else "max")
        for c in long.columns
        if c not in _RETURNS_ROW_COLUMNS
    }
    return long.groupby(["precinct", "candidate"], as_index=False, sort=False).agg(
        party=("party", "first"), votes=("votes", "sum"), _line=("_line", "min"), **extra
    )


def _fold_method_candidates(long: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Rows whose candidate is another candidate plus a vote method ('Jimmy Gomez - Mail')
    are that candidate's votes cast by that method: fold them into the candidate (noted).
    A name whose part before the method is no candidate of the file is left as it is,
    and noted."""
    names = pd.Series(long["candidate"].unique())
    found = names.str.extract(_METHOD_SUFFIX)
    base = found["base"].str.strip()
    present = set(names)
    folds = {n: b for n, b in zip(names, base) if isinstance(b, str) and b in present}
    left = [n for n, b in zip(names, base) if isinstance(b, str) and b not in present]
    if left:
        _note(
            long,
            f"{path}: {len(left)} candidate name(s) end in a vote method but name no other "
            f"candidate of the file ({', '.join(map(repr, left[:3]))}); kept as candidates",
        )
    return _apply_folds(
        long, "candidate", folds, path, "vote-method candidate name(s)", "candidates"
    )


def _split_pseudo_candidates(long: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Move pseudo-candidate rows (Total, Ballots Cast, Under Votes...) out of the
    candidates into ``attrs["pseudo"]`` (a list of (precinct, kind, votes)), noted."""
    kinds = long["candidate"].map(pseudo_candidate)
    kinds = kinds.mask(_write_in_totals(long, path), "write-in total")
    is_pseudo = kinds.notna()
    pseudo = list(
        zip(
            long.loc[is_pseudo, "precinct"].tolist(),
            kinds[is_pseudo].tolist(),
            long.loc[is_pseudo, "votes"].astype(int).tolist(),
        )
    )
    kept = long[~is_pseudo].copy()
    kept.attrs = dict(long.attrs)
    if is_pseudo.any():
        names = sorted(long.loc[is_pseudo, "candidate"].unique())
        _note(
            kept,
            f"{path}: {int(is_pseudo.sum())} row(s) named {', '.join(map(repr, names[:5]))}"
            + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            + " are not candidates; kept out of the results and listed in the ledger",
        )
        if kept.empty:
            raise ExplorerError(
                "every row is a total or another non-candidate line",
                source=path,
                hint="check --office; the file holds no candidate rows",
            )
    kept.attrs["pseudo"] = pseudo
    return kept


def _county_wide_rows(long: pd.DataFrame, path: Path, also: Iterable[str] = ()) -> pd.DataFrame:
    """Blank precincts and county-wide rows (PROV, ABSENTEE, ONE STOP..., and the IDs in
    ``also``): kept as their own unmapped result rows, listed in ``attrs["county_wide"]``.
    A row that only repeats the sum of the named precincts (a county total) is dropped,
    noted."""
    long = long.copy()
    blank = long["precinct"] == ""
    long["precinct"] = long["precinct"].mask(blank, BLANK_PRECINCT)
    wide_ids = long["precinct"].unique()
    also = set(also)
    flagged = [p for p in wide_ids if county_wide(p) or p == BLANK_PRECINCT or p in also]
    if not flagged:
        long.attrs["county_wide"] = []
        return long
    named = long[~long["precinct"].isin(flagged)]
    sums = named.groupby("candidate")["votes"].sum()
    totals = []
    for precinct in flagged:
        rows = long[long["precinct"] == precinct].groupby("candidate")["votes"].sum()
        others = long[long["precinct"] != precinct].groupby("candidate")["votes"].sum()
        for whole in (sums, others):  # the named precincts, or every other row
            if len(named) and rows.reindex(whole.index, fill_value=0).equals(whole):
                totals.append(precinct)
                break
    # a 'Total' / 'County Total' row that does not repeat the sum is still not a place:
    # never counted, dropped with the difference
    uneven = [p for p in flagged if p not in totals and _TOTAL_PRECINCT.fullmatch(_words(p))]
    for precinct in uneven:
        rows = long[long["precinct"] == precinct].groupby("candidate")["votes"].sum()
        whole = named.groupby("candidate")["votes"].sum()
        gap = rows.reindex(rows.index.union(whole.index), fill_value=0) - whole.reindex(
            rows.index.union(whole.index), fill_value=0
        )
        differs = ", ".join(f"{name} {int(v):+,}" for name, v in gap.items() if v)
        _note(
            long,
            f"{path}: dropped the row(s) of {precinct!r}: a total, not a place, and it differs "
            f"from the sum of the named precincts ({differs or 'no difference'}); not counted",
        )
    if totals:
        _note(
            long,
            f"{path}: dropped the row(s) of {', '.join(map(repr, totals))}: they repeat the "
            "sum of the named precincts (a county total)",
        )
    totals += uneven
    long = long[~long["precinct"].isin(totals)]
    long.attrs["dropped_totals"] = totals
    kept = [p for p in flagged if p not in totals]
    if kept:
        _note(
            long,
            f"{path}: {len(kept)} county-wide row group(s) are not places and stay unmapped "
            f"({', '.join(kept[:6])})",
        )
    long.attrs["county_wide"] = kept
    return long


#: column names the program itself uses beside the candidates' vote columns
RESERVED_NAMES = frozenset(
    {
        "precinct",
        "match",
        "members",
        "n_members",
        "inferred_members",
        "parts",
        "geometry",
        "total",
        "winner",
        "winner_share",
        "margin",
        "name",
        "rank",
        "votes",
        "share",
        "exact_share",
        "inferred_share",
        "partial_share",
        "coverage",
        "candidate",
        "party",
        "district",
        "county",
        "office",
        "returns",
        "mapped",
        "unmapped",
        "exact",
        "base",
        "inferred",
        "crosswalk",
        "area",
        "id",
        "turnout",
        "status",
        "methods",
        "percent",
        "none",
        "tie",
        "weight",
        "index",
        "level_0",
        "_line",
    }
)
CANDIDATE_MARK = " (candidate)"


def _rename_reserved(long: pd.DataFrame, path: Path) -> pd.DataFrame:
    """A candidate named like one of the program's own columns ('winner', 'precinct',
    'geometry'...) is kept as '<name> (candidate)', noted, so it cannot overwrite them."""
    names = pd.Series(long["candidate"].unique())
    clash = [n for n in names if n in RESERVED_NAMES]
    if not clash:
        return long
    taken = set(names)
    renames = {}
    for name in clash:
        new = name + CANDIDATE_MARK
        while new in taken:
            new += CANDIDATE_MARK
        taken.add(new)
        renames[name] = new
    long = long.copy()
    long["candidate"] = long["candidate"].replace(renames)
    _note(
        long,
        f"{path}: candidate name(s) {', '.join(map(repr, renames))} are the program's own "
        f"column names; shown as {', '.join(map(repr, renames.values()))}",
    )
    return long


def _unify_candidates(names: pd.Series, frame: pd.DataFrame, path: Path) -> pd.Series:
    """Names differing only in case or spacing are one candidate: use the commonest spelling."""
    cleaned = names.str.split().str.join(" ")
    key = cleaned.str.casefold()
    spelling = cleaned.groupby(key).agg(lambda s: s.value_counts().index[0])
    unified = key.map(spelling)
    variants = cleaned[unified != cleaned].unique()
    if len(variants):
        _note(
            frame,
            f"{path}: merged {len(variants)} candidate spelling(s) differing in case "
            f"or spacing ({', '.join(map(repr, variants[:3]))})",
        )
    return unified


def _refuse_ids_across_counties(long: pd.DataFrame, county, path: Path) -> None:
    """Rows of different counties are never duplicates of each other: a precinct ID used
    by two counties in one file is refused, naming the counties (a precinct layer is one
    county's IDs or its IDs are qualified by county)."""
    counties = pd.Series(county, index=long.index).astype(str).str.split().str.join(" ")
    named = counties != ""
    if counties[named].nunique() < 2:
        return
    spread = pd.DataFrame({"precinct": long["precinct"], "county": counties})[named]
    spread = spread[spread["precinct"] != ""]
    per_id = spread.groupby("precinct")["county"].nunique()
    shared = per_id[per_id > 1]
    if shared.empty:
        return
    precinct = shared.index[0]
    names = sorted(spread.loc[spread["precinct"] == precinct, "county"].unique())
    raise ExplorerError(
        f"precinct ID {precinct!r} is used by {len(names)} counties ({', '.join(names)}); "
        f"{len(shared)} ID(s) repeat across counties, so rows cannot be told apart",
        source=path,
        hint="split the file by county, or make IDs unique (e.g. 'County-101') in the "
        "returns and the precinct layer",
    )


def _same_numbers(long: pd.DataFrame, path: Path) -> pd.DataFrame:
    """IDs that are one precinct number written two ways in the same file ('01' and '1',
    'PCT 2' and '2') are one precinct: its rows then follow the duplicate rule."""
    ids = pd.Series(long["precinct"].unique())
    keys = ids.map(precinct_key)
    twice = keys.duplicated(keep=False) & (keys != "")
    if not twice.any():
        return long
    first = ids[twice].groupby(keys[twice]).transform("first")
    renames = {old: new for old, new in zip(ids[twice], first) if old != new}
    long = long.copy()
    long["precinct"] = long["precinct"].replace(renames)
    example = next(iter(renames.items()))
    _note(
        long,
        f"{path}: {len(renames)} precinct ID(s) repeat another written differently "
        f"(e.g. {example[0]!r} and {example[1]!r}); their rows follow the duplicate rule",
    )
    return _drop_duplicate_rows(long, path)


def _drop_duplicate_rows(long: pd.DataFrame, path: Path) -> pd.DataFrame:
    keys = ["precinct", "candidate"]
    repeated = long.duplicated(keys, keep=False)
    if not repeated.any():
        return long
    groups = long[repeated].groupby(keys)
    conflicting = groups["votes"].nunique() > 1
    if conflicting.any():
        precinct, candidate = conflicting[conflicting].index[0]
        lines = long[(long.precinct == precinct) & (long.candidate == candidate)]
        detail = ", ".join(f"line {ln}: {v}" for ln, v in zip(lines._line, lines.votes))
        raise ExplorerError(
            f"conflicting duplicate rows for precinct {precinct}, candidate {candidate} ({detail})",
            source=path,
            hint="keep one row per precinct and candidate",
        )
    deduplicated = long.drop_duplicates(keys)
    _note(deduplicated, f"{path}: dropped {len(long) - len(deduplicated)} exact duplicate row(s)")
    return deduplicated


def repair_returns(
    long: pd.DataFrame, table: pd.DataFrame, path: Path, *, county_wide_ids: Iterable[str] = ()
) -> pd.DataFrame:
    """The real-world repairs every returns file goes through, a final file
    (:func:`~explorer.loaders.load_returns`) or an election-night snapshot
    (:func:`explorer.live.load_snapshot`) alike.

    ``long`` holds the rows of one contest (``precinct`` normalised, ``candidate``,
    ``party``, ``votes``, ``_line``) read from ``table`` (as :func:`read_csv_text` gives
    it, for its notes and its ``office``, ``district`` and ``county`` columns). Empty
    candidate names are refused; spellings differing in case or spacing are merged; a
    precinct ID shared by two counties is refused; exact duplicate rows are dropped
    and conflicting ones refused; one precinct number written two ways is one precinct;
    a blank precinct becomes ``BLANK_PRECINCT``; vote-method rows ('X - Mail') are folded
    into their precinct; pseudo-candidate rows go to ``attrs["pseudo"]``; county-wide rows
    are listed in ``attrs["county_wide"]`` and county totals dropped; candidates named like
    the program's columns are renamed. ``county_wide_ids`` are more IDs the source says
    are county-wide (a reader that knows its format's pseudo-precincts, e.g. Clarity's
    ``AB``). Other columns of ``long`` travel with their rows.
    Every repair appends a note to ``attrs["notes"]``. Returns the rows without ``_line``.
    """
    long.attrs["notes"] = list(table.attrs.get("notes", []))
    for column in ("office", "district"):
        if column in table.columns:
            values = table[column].str.split().str.join(" ").unique()
            long.attrs[column] = values[0] if len(values) == 1 else None
    names = long["candidate"].astype(str).str.translate(_INVISIBLE).str.split().str.join(" ")
    if (names == "").any():
        raise ExplorerError(
            f"line {long.loc[names == '', '_line'].iloc[0]}: empty candidate name",
            source=path,
            hint="fill in or remove the row",
        )
    long["candidate"] = _unify_candidates(names, long, path)
    if "county" in table.columns:
        _refuse_ids_across_counties(long, table["county"].to_numpy(), path)
    long = _drop_duplicate_rows(long, path)
    long = _same_numbers(long, path)
    long["precinct"] = long["precinct"].mask(long["precinct"] == "", BLANK_PRECINCT)
    long = _fold_method_rows(long, path)
    long = _fold_method_candidates(long, path)
    long = _split_pseudo_candidates(long, path)
    pseudo = long.attrs["pseudo"]
    long = _county_wide_rows(long, path, county_wide_ids)
    dropped_totals = set(long.attrs.pop("dropped_totals", []))
    long.attrs["pseudo"] = [row for row in pseudo if row[0] not in dropped_totals]
    long = _rename_reserved(long, path)
    return long.drop(columns="_line").reset_index(drop=True)
