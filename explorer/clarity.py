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


def _parser(path: Path):
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
        reason = " ".join(str(exc).split())[:200]
        raise ExplorerError(
            f"not a readable Clarity ENR XML file ({reason})", source=path
        ) from None
    return parser


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
    parser = _parser(path)
    if not parser.contests:
        raise ExplorerError("the Clarity file holds no contests", source=path)
    chosen = _choose_contest(parser.contests, path, contest)
    precincts = [j for j in parser.result_jurisdictions if j.level == "precinct"]
    rows, skipped = [], {}
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
    table = pd.DataFrame(rows)
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
    if read["blank"]:
        where = list(dict.fromkeys(read["blank"]))
        notes.append(
            f"{path}: {len(read['blank'])} vote value(s) blank in {len(where)} precinct(s) "
            f"({', '.join(where[:5])}{', ...' if len(where) > 5 else ''}): read as not "
            "counted yet: those precincts do not count as reporting"
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
