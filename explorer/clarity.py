"""Clarity ENR (the election-night reporting system many US counties publish with): its
precinct-level ``detail.xml`` read with the maintained ``clarify`` package into the same
returns model as a CSV snapshot (see :mod:`explorer.live`).

Each ``<Precinct>`` of the ``<VoterTurnout>`` block carries ``percentReporting``. Despite
its name it is not a percentage: Clarity files show small integers (``4`` for most
precincts), read by others as the number of vote types reported. So a precinct counts as
reported when the value is above zero, as nothing counted when it is zero; the contest's
own ``precinctsReported`` of ``precinctsReporting`` is kept as a note to compare with.
Over- and undervotes are not candidates: they are left out and counted in a note.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from explorer.errors import ExplorerError
from explorer.live.snapshots import add_expected
from explorer.loaders import repair_returns, vote_method_name
from explorer.loaders.returns import _GROUPED

NOT_CANDIDATES = ("undervotes", "overvotes")


def _parser(path: Path, blanks: list[str] | None = None):
    try:
        import clarify
    except ImportError:  # pragma: no cover - a declared dependency
        raise ExplorerError(
            "reading Clarity XML needs the clarify package", hint="pip install clarify"
        ) from None
    parser = clarify.Parser()
    try:
        parser.parse(str(path))
    except Exception as exc:  # lxml and clarify raise many kinds; one line for the user
        filled = _blank_not_candidates(path)
        if filled is not None:  # blank over-/undervotes: not counted yet, as for candidates
            text, where = filled
            if blanks is not None:
                blanks.extend(where)
            try:
                parser = clarify.Parser()
                parser.parse(text)
                return parser
            except Exception:
                pass
        _diagnose(path)  # names the element that is wrong, when it can
        reason = " ".join(str(exc).split())[:200]
        raise ExplorerError(
            f"not a readable Clarity ENR XML file ({reason})", source=path
        ) from None
    return parser


def _blank_not_candidates(path: Path) -> tuple[str, list[str]] | None:
    """The file as text with each blank ``votes`` of a vote type that is not a choice
    (over- and undervotes) read as 0, and where those were (``vote type, precinct``);
    None when there are none (or the file is not XML)."""
    from lxml import etree

    safe = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.parse(str(path), safe).getroot()
    except etree.XMLSyntaxError:
        return None
    where = []
    for vote_type in root.iterfind("Contest/VoteType"):
        for element in [vote_type, *vote_type.iterfind("Precinct"), *vote_type.iterfind("County")]:
            value = element.get("votes")
            if value is not None and value.strip() == "":
                element.set("votes", "0")
                if element is not vote_type:
                    where.append(f"{_shown(vote_type.get('name'))}, {_shown(element.get('name'))}")
    if not where:
        return None
    return etree.tostring(root, encoding="unicode"), where


#: what clarify reads from each element, by attribute: a whole number, or any text
_NEEDS = {
    "Choice": {"key": False, "text": False, "totalVotes": True},
    "Choice/VoteType": {"name": False, "votes": False},
    "Choice/VoteType/Precinct": {"name": False, "votes": False},
    "Contest/VoteType": {"name": False, "votes": True},
    "Contest/VoteType/Precinct": {"name": False, "votes": True},
}


def _diagnose(path: Path) -> None:
    """After clarify failed on ``path``: walk the file as clarify does and raise one
    :class:`ExplorerError` naming what is wrong (not XML, not a Clarity file, or the
    contest, choice and precinct whose attribute is missing or not a whole number, with
    its line). Returns when nothing specific is found (the caller then says why clarify
    failed)."""
    from lxml import etree

    safe = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        root = etree.parse(str(path), safe).getroot()
    except etree.XMLSyntaxError as exc:
        reason = " ".join(str(exc).split())[:200]
        raise ExplorerError(
            f"not a readable Clarity ENR XML file: not well-formed XML ({reason})",
            source=path,
            hint="the snapshot may be cut short or not XML: wait for the next one or download "
            "detail.xml again",
        ) from None
    tag = root.tag if isinstance(root.tag, str) else "?"
    if tag != "ElectionResult":
        raise ExplorerError(
            f"not a Clarity ENR XML file: its root element is <{_shown(tag)}>, where Clarity "
            "writes <ElectionResult>",
            source=path,
            hint="an error page may have been saved in its place: download detail.xml again",
        )
    for element in ("Timestamp", "ElectionName", "ElectionDate", "Region"):
        if root.find(element) is None:
            raise ExplorerError(
                f"not a complete Clarity ENR XML file: <ElectionResult> has no <{element}>",
                source=path,
                hint="download detail.xml again",
            )
    if root.find("VoterTurnout") is None and root.find("ElectionVoterTurnout") is None:
        raise ExplorerError(
            "not a complete Clarity ENR XML file: <ElectionResult> has no <VoterTurnout>",
            source=path,
            hint="download detail.xml again",
        )
    for contest in root.iterfind("Contest"):
        where = f"contest {_shown(contest.get('text', '?'))!r}"
        for vote_type in contest.iterfind("VoteType"):
            _check(vote_type, "Contest/VoteType", f"{where}, {_named(vote_type)}", path)
            for sub in [*vote_type.iterfind("Precinct"), *vote_type.iterfind("County")]:
                what = f"{where}, {_named(vote_type)}, {_named(sub)}"
                _check(sub, "Contest/VoteType/Precinct", what, path)
        for choice in contest.iterfind("Choice"):
            at = f"{where}, choice {_shown(choice.get('text', '?'))!r}"
            _check(choice, "Choice", at, path)
            for vote_type in choice.iterfind("VoteType"):
                _check(vote_type, "Choice/VoteType", f"{at}, {_named(vote_type)}", path)
                for sub in [*vote_type.iterfind("Precinct"), *vote_type.iterfind("County")]:
                    what = f"{at}, {_named(vote_type)}, {_named(sub)}"
                    _check(sub, "Choice/VoteType/Precinct", what, path)


def _shown(text) -> str:
    """Text from the file, cut to 60 characters, for an error line."""
    text = " ".join(str(text).split())
    return text if len(text) <= 60 else text[:59] + "…"


def _named(element) -> str:
    kind = {"VoteType": "vote type"}.get(element.tag, str(element.tag).lower())
    name = element.get("name")
    return f"{kind} {_shown(name)!r}" if name is not None else f"a <{element.tag}>"


def _check(element, kind: str, what: str, path: Path) -> None:
    for attribute, whole in _NEEDS[kind].items():
        value = element.get(attribute)
        line = f" (line {element.sourceline})" if element.sourceline else ""
        if value is None:
            raise ExplorerError(
                f"{what}{line}: the <{element.tag}> element has no {attribute} attribute",
                source=path,
                hint=f'Clarity writes {attribute}="..." on every <{element.tag}>; the file '
                "is damaged or not from Clarity: download it again or wait for the next "
                "snapshot",
            )
        if whole and not value.strip().isdigit():
            raise ExplorerError(
                f"{what}{line}: {attribute} {_shown(value)!r} is not a whole number",
                source=path,
                hint="download the file again or wait for the next snapshot",
            )


def _choose_contest(contests, path: Path, contest: str | None):
    chosen, what, hint = contests, f"the file holds {len(contests)} contests", "choose one"
    if contest is not None:
        wanted = contest.strip().casefold()
        chosen = [c for c in contests if c.text.strip().casefold() == wanted]
        chosen = chosen or [c for c in contests if wanted in c.text.casefold()]
        what, hint = f"{len(chosen)} contests match {contest!r}", "name one contest"
    if len(chosen) != 1:
        names = ", ".join(c.text for c in contests[:8])
        raise ExplorerError(
            f"{what} (contests: {names})", source=path, hint=f"{hint} with --office"
        )
    return chosen[0]


def load_clarity(path: str | Path, *, contest: str | None = None) -> pd.DataFrame:
    """One contest of a Clarity precinct XML as long returns (``precinct, candidate,
    party, votes``) with ``attrs["reporting"]`` (status and vote types per precinct, see
    :mod:`explorer.live`) and notes. ``contest`` picks a contest by its text (exact, else
    a unique substring); a file with one contest needs none."""
    path = Path(path)
    if not path.exists():
        raise ExplorerError("file not found", source=path)
    blank_others: list[str] = []  # "vote type, precinct" of blank over-/undervotes
    parser = _parser(path, blank_others)
    if not parser.contests:
        raise ExplorerError("the Clarity file holds no contests", source=path)
    for number, one in enumerate(parser.contests, start=1):
        if one.text is None:
            raise ExplorerError(
                f"contest {number} (key {_shown(one.key)!r}): the <Contest> element has no "
                "text attribute",
                source=path,
                hint='Clarity writes text="..." on every <Contest>; the file is damaged or '
                "not from Clarity: download it again or wait for the next snapshot",
            )
    chosen = _choose_contest(parser.contests, path, contest)
    precincts = [j for j in parser.result_jurisdictions if j.level == "precinct"]
    rows, skipped = [], {}
    spelled: dict[str, set[str]] = {}  # each precinct as the file spells it
    read = {"grouped": [], "blank": []}  # vote values read with a repair, for the notes
    stated: dict[tuple[str, str], int | None] = {}  # the file's own total per vote type
    for result in chosen.results:
        if result.jurisdiction is None and result.choice is not None:
            stated[(result.choice.key, str(result.vote_type))] = _stated(result.votes)
            continue
        if result.jurisdiction is None or result.jurisdiction.level != "precinct":
            continue
        if result.choice is None:
            kind = str(result.vote_type)
            skipped[kind] = skipped.get(kind, 0) + int(result.votes or 0)
            continue
        precinct = str(result.jurisdiction.name).strip().upper()
        spelled[precinct] = spelled.get(precinct, set()) | {str(result.jurisdiction.name)}
        candidate = " ".join(str(result.choice.text).split())
        rows.append(
            {
                "precinct": precinct,
                "candidate": candidate,
                "party": str(getattr(result.choice, "party", "") or ""),
                "vote_type": str(result.vote_type),
                "votes": _count(result.votes, precinct, candidate, path, read),
                "_key": result.choice.key,
            }
        )
    if not rows:
        raise ExplorerError(f"contest {chosen.text!r} has no precinct results", source=path)
    _one_key_per_choice(chosen, path)
    table, repeated = _repeated_precincts(pd.DataFrame(rows), chosen, path, spelled)
    table, absent = _absent_precincts(table)
    disagree = _totals_disagree(chosen.choices, table, stated)
    table = table.drop(columns="_key")
    blank = table["votes"].isna()  # a blank vote value: not counted yet there
    blank_share = blank.groupby(table["precinct"]).mean()
    table["votes"] = table["votes"].fillna(0).astype("int64")
    long = table.groupby(["precinct", "candidate", "party"], as_index=False, sort=False)[
        "votes"
    ].sum()
    # the same real-world repairs as any returns file (pseudo-candidates, county totals,
    # county-wide rows...); Clarity's absentee / provisional pseudo-precincts ('AB') are
    # county-wide rows: their votes count, no polygon carries them, and they are not
    # precincts in "N of M precincts reporting"
    long["_line"] = range(1, len(long) + 1)  # Clarity has no lines; never shown
    listed = [str(j.name).strip().upper() for j in precincts]
    wide_ids = [p for p in dict.fromkeys([*listed, *long["precinct"]]) if vote_method_name(p)]
    before = set(long["precinct"])
    long = repair_returns(long, pd.DataFrame(), path, county_wide_ids=wide_ids)
    repaired = long.attrs
    gone = before - set(long["precinct"])  # a county total dropped, a method row folded
    vote_types = table.groupby("precinct")["vote_type"].agg(
        lambda s: ",".join(dict.fromkeys(t.lower().replace(" ", "_") for t in s))
    )
    index = [str(j.name).strip().upper() for j in precincts] or list(vote_types.index)
    percent = pd.Series(
        [j.percent_reporting for j in precincts] if precincts else float("nan"),
        index=pd.Index(index, name="precinct"),
        dtype=float,
    )
    percent = percent[~percent.index.duplicated() & ~percent.index.isin(gone)]
    state = pd.DataFrame(index=percent.index)
    state["percent"] = percent
    state["status"] = [
        "reported" if pd.isna(p) or p > 0 else "none" for p in state["percent"].to_numpy()
    ]
    state["methods"] = vote_types.reindex(state.index).fillna("").to_numpy()
    # blank vote values: nothing counted there yet (all blank) or only part of it
    blanks = blank_share.reindex(state.index).fillna(0.0)
    state.loc[(blanks > 0).to_numpy() & (state["status"] == "reported"), "status"] = "partial"
    state.loc[(blanks >= 1).to_numpy(), "status"] = "none"
    # percentReporting 0 but votes in the file: those votes are in the totals, so the
    # precinct is partly counted, not "nothing counted yet"
    counted = table.groupby("precinct")["votes"].sum(min_count=1).reindex(state.index)
    zero_with_votes = list(
        state.index[
            ((state["percent"] == 0) & (state["status"] == "none") & (counted > 0)).to_numpy()
        ]
    )
    state.loc[state.index.isin(zero_with_votes), "status"] = "partial"
    # blank over-/undervotes: not counted yet there, as a blank candidate value
    other_blank = {w.rsplit(", ", 1)[-1].strip().upper() for w in blank_others}
    state.loc[state.index.isin(other_blank) & (state["status"] == "reported"), "status"] = "partial"
    state["methods"] = state["methods"].mask(state["status"] == "none", "")
    present = state.index.isin(long["precinct"])
    long, _ = add_expected(long, state[present], state.index)  # listed, no results yet
    notes = [
        f"{path}: Clarity contest {chosen.text!r}, snapshot {parser.timestamp}; the contest "
        f"says {chosen.precincts_reported} of {chosen.precincts_reporting} precincts reported"
    ]
    if read["grouped"]:
        notes.append(
            f"{path}: read {len(read['grouped'])} vote value(s) written with thousands "
            f"separators (e.g. {read['grouped'][0]!r})"
        )
    if repeated:
        notes.append(
            f"{path}: {len(repeated)} precinct {_entries(len(repeated))} listed twice with "
            f"the same votes under one choice ({_some(repeated, 3)})"
            ": counted once"
        )
    if len(absent):
        shown = [
            f"{p} under {c!r}" + (f" ({t})" if table["vote_type"].nunique() > 1 else "")
            for p, c, t in absent[["precinct", "candidate", "vote_type"]].to_numpy()[:4]
        ]
        notes.append(
            f"{path}: {len(absent)} precinct {_entries(len(absent))} missing where the file "
            f"lists the precinct under other choices ({_some(shown, 4, len(absent))})"
            ": read as not counted yet, not as 0: those precincts do not count as reporting "
            "in full (check the file or wait for the next snapshot)"
        )
    if read["blank"]:
        where = list(dict.fromkeys(read["blank"]))
        notes.append(
            f"{path}: {len(read['blank'])} vote value(s) blank in {len(where)} precinct(s) "
            f"({', '.join(where[:5])}{', ...' if len(where) > 5 else ''}): read as not "
            "counted yet: those precincts do not count as reporting"
        )
    if zero_with_votes:
        votes_there = int(counted.reindex(zero_with_votes).sum())
        notes.append(
            f"{path}: {len(zero_with_votes)} precinct(s) say percentReporting 0 but hold "
            f"{votes_there:,} vote(s) ({', '.join(zero_with_votes[:5])}"
            f"{', ...' if len(zero_with_votes) > 5 else ''}): their votes are counted and "
            "they are read as partly counted, not as reporting in full"
        )
    if blank_others:
        where = list(dict.fromkeys(w.rsplit(", ", 1)[-1] for w in blank_others))
        notes.append(
            f"{path}: {len(blank_others)} over-/undervote value(s) blank in {len(where)} "
            f"precinct(s) ({', '.join(where[:5])}{', ...' if len(where) > 5 else ''}): read "
            "as not counted yet: those precincts do not count as reporting in full"
        )
    if disagree:
        notes.append(
            f"{path}: the file's own totals differ from the sum of its precincts for "
            f"{len(disagree)} choice(s): {'; '.join(disagree)}; the precinct figures are "
            "used everywhere (check the file or wait for the next snapshot)"
        )
    if skipped:
        notes.append(
            f"{path}: left out {', '.join(f'{k} ({v:,})' for k, v in skipped.items())}: "
            "not votes for a candidate"
        )
    long.attrs = {
        "notes": notes + list(repaired.get("notes", [])),
        "pseudo": list(repaired.get("pseudo", [])),
        "county_wide": list(repaired.get("county_wide", [])),
        "reporting": state,
        "methods": sorted(set(table.vote_type)),
        "office": " ".join(str(chosen.text).split()),  # the contest, e.g. "U.S. Senate"
        "date": str(parser.election_date or "") or None,
        "snapshot": str(parser.timestamp or "") or None,
        "election_name": " ".join(str(parser.election_name or "").split()) or None,
    }
    return long.reset_index(drop=True).pipe(_with_attrs, long.attrs)


def _some(items: list[str], limit: int, total: int | None = None) -> str:
    total = len(items) if total is None else total
    return "; ".join(items[:limit]) + ("; ..." if total > limit else "")


def _entries(count: int) -> str:
    return "entry" if count == 1 else "entries"


def _one_key_per_choice(contest, path: Path) -> None:
    """Refuse a contest where two choices share a key: clarify and the totals check tell
    choices apart by key, so their votes would be mixed."""
    seen: dict[str, str] = {}
    for choice in contest.choices:
        name = " ".join(str(choice.text).split())
        if choice.key in seen:
            raise ExplorerError(
                f"contest {_shown(contest.text)!r}: choices {_shown(seen[choice.key])!r} and "
                f"{_shown(name)!r} share the key {_shown(choice.key)!r}",
                source=path,
                hint="each <Choice> of a contest has its own key in a Clarity file; the file "
                "is damaged: download it again or wait for the next snapshot",
            )
        seen[choice.key] = name


def _spellings(precinct: str, spelled: dict[str, set[str]] | None) -> str:
    """' (spelled 'a101 ' and 'A101' in the file)' where one precinct is written more ways
    than one (case, spaces), else ''."""
    ways = sorted((spelled or {}).get(precinct, ()))
    if len(ways) < 2:
        return ""
    return f" (spelled {' and '.join(repr(w[:60]) for w in ways)} in the file)"


def _repeated_precincts(
    table: pd.DataFrame, contest, path: Path, spelled: dict[str, set[str]] | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """The returns duplicate rule for Clarity: a precinct listed twice under one choice and
    vote type with the same votes is counted once (named, for a note); with different
    votes it is refused, naming the precinct, choice and both values."""
    keys = ["precinct", "_key", "vote_type"]
    twice = table.duplicated(keys, keep=False)
    if not twice.any():
        return table, []
    repeated = table[twice]
    values = repeated["votes"].fillna(-1.0)
    conflicting = values.groupby([repeated[k] for k in keys], sort=False).nunique() > 1
    if conflicting.any():
        precinct, key, vote_type = conflicting[conflicting].index[0]
        mine = repeated[
            (repeated["precinct"] == precinct)
            & (repeated["_key"] == key)
            & (repeated["vote_type"] == vote_type)
        ]
        shown = ", ".join("blank" if pd.isna(v) else f"{int(v):,}" for v in mine["votes"])
        raise ExplorerError(
            f"contest {_shown(contest.text)!r}: precinct {precinct}"
            f"{_spellings(precinct, spelled)} is listed {len(mine)} times under choice "
            f"{mine['candidate'].iloc[0]!r} "
            f"(vote type {vote_type!r}) with different votes ({shown})",
            source=path,
            hint="a Clarity file lists each precinct once per choice and vote type: "
            "download it again or wait for the next snapshot",
        )
    named = [
        f"{p}{_spellings(p, spelled)} under {c!r}"
        for p, c in repeated.drop_duplicates(keys)[["precinct", "candidate"]].to_numpy()
    ]
    return table.drop_duplicates(keys).reset_index(drop=True), named


def _absent_precincts(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Clarity lists every precinct of a contest under every choice and vote type. An entry
    missing where the precinct is listed under another choice is not a complete zero: it is
    added as a blank value (not counted yet there) and returned, for a note."""
    choices = table.drop_duplicates("_key")[["_key", "candidate", "party"]]
    full = (
        pd.DataFrame({"precinct": table["precinct"].unique()})
        .merge(pd.DataFrame({"vote_type": table["vote_type"].unique()}), how="cross")
        .merge(choices, how="cross")
    )
    present = full.merge(
        table[["precinct", "vote_type", "_key"]].drop_duplicates(),
        how="left",
        indicator=True,
    )["_merge"].eq("both")
    absent = full[~present.to_numpy()].assign(votes=None)
    if absent.empty:
        return table, absent
    # a vote type the choice never lists at all is not an absence of one precinct
    listed = table[["_key", "vote_type"]].drop_duplicates()
    absent = absent.merge(listed, how="inner")
    if absent.empty:
        return table, absent
    return pd.concat([table, absent[table.columns]], ignore_index=True), absent


def _count(value, precinct: str, candidate: str, path: Path, read: dict) -> float | None:
    """One Clarity vote value as a whole count, read as the CSV path reads counts:
    '1,022' (thousands groups) is 1022, a blank is None (not counted yet); anything else
    that is not a non-negative whole number is refused in one line naming the precinct."""
    if isinstance(value, int) and not isinstance(value, bool):
        number, text = value, str(value)
    else:
        text = str(value if value is not None else "").strip()
        if text == "":
            read["blank"].append(precinct)
            return None
        cleaned = text.replace(",", "") if _GROUPED.match(text) else text
        if cleaned != text:
            read["grouped"].append(text)
        number = int(float(cleaned)) if re.fullmatch(r"-?\d+(?:\.0+)?", cleaned) else None
    if number is None or number < 0:
        what = "is negative" if number is not None else "is not a whole number"
        raise ExplorerError(
            f"precinct {precinct}, candidate {candidate}: votes {text[:60]!r} {what}",
            source=path,
            hint="a vote count is a whole number of 0 or more; fix the file or wait for "
            "the next snapshot",
        )
    return float(number)


def _stated(value) -> int | None:
    """A total the file states (``totalVotes``, a ``<VoteType votes>``) as a whole count,
    or None where it is not one (then it is not compared)."""
    text = str(value if value is not None else "").strip().replace(",", "")
    return int(text) if text.isdigit() else None


def _totals_disagree(choices, table: pd.DataFrame, stated: dict) -> list[str]:
    """Each choice whose stated ``totalVotes`` (or a vote type's stated ``votes``) is not
    the sum of its precinct values, as text: the choice, both figures, the difference and
    the vote types that differ. Blank precinct values add nothing (not counted yet)."""
    sums = table.groupby(["_key", "vote_type"], sort=False)["votes"].sum()
    lines = []
    for choice in choices:
        mine = sums[sums.index.get_level_values(0) == choice.key]
        counted = int(mine.sum())
        total = _stated(choice.total_votes)
        types = []
        for (key, vote_type), value in stated.items():
            added = int(mine.get((key, vote_type), 0))
            if key == choice.key and value is not None and value != added:
                types.append(f"{vote_type} {value:,} v {added:,}")
        if (total is None or total == counted) and not types:
            continue
        name = " ".join(str(choice.text).split())
        line = f"{name!r}"
        if total is not None and total != counted:
            line += (
                f" totalVotes {total:,} but the precincts add up to {counted:,} "
                f"({abs(total - counted):,} {'more' if total > counted else 'fewer'} in the "
                "file's total)"
            )
        if types:
            line += f" (by vote type, stated v precincts: {', '.join(types)})"
        lines.append(line)
    return lines


def _with_attrs(frame: pd.DataFrame, attrs: dict) -> pd.DataFrame:
    frame.attrs = dict(attrs)
    return frame


def precinct_names(path: str | Path) -> list[str]:
    """The precinct names a Clarity file lists (its ``<VoterTurnout>`` block)."""
    parser = _parser(Path(path))
    return [str(j.name) for j in parser.result_jurisdictions if j.level == "precinct"]
