"""Stage 5, ask: ranked tables and plain-language questions.

``rank`` orders neighbourhoods (or precincts) by a candidate's share and carries the
honesty fields; ``ask`` understands a few question forms and answers through ``rank``,
ending with a methods note (sources, apportionment method, the ledger's caveats).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from explorer.errors import ExplorerError

MIN_VOTES = 100


def find_candidate(name: str, candidates: list[str]) -> str:
    """The candidate named by any unambiguous part of the name ('Ahn' -> 'Robert Lee Ahn')."""
    wanted = " ".join(name.split()).casefold()
    exact = [c for c in candidates if c.casefold() == wanted]
    if exact:
        return exact[0]
    word = re.compile(rf"\b{re.escape(wanted)}\b")
    by_word = [c for c in candidates if word.search(c.casefold())]
    matches = by_word or [c for c in candidates if wanted in c.casefold()]
    if len(matches) == 1:
        return matches[0]
    listing = ", ".join(candidates)
    if not matches:
        raise ExplorerError(f"no candidate matches {name!r}", hint=f"candidates: {listing}")
    raise ExplorerError(
        f"{name!r} matches {len(matches)} candidates ({', '.join(matches)})",
        hint="give more of the name",
    )


def find_place(name: str, places: pd.Series) -> int:
    """Row position of the place named (case-insensitive; a unique partial match is enough)."""
    wanted = " ".join(name.split()).casefold().strip(" ?.!")
    names = places.astype(str).str.casefold()
    exact = np.flatnonzero(names.to_numpy() == wanted)
    if len(exact):
        return int(exact[0])
    partial = np.flatnonzero(names.str.contains(wanted, regex=False).to_numpy())
    if len(partial) == 1:
        return int(partial[0])
    close = places[partial].tolist()[:8] if len(partial) else []
    raise ExplorerError(
        f"no single place matches {name!r}"
        + (f" (did you mean {', '.join(close)}?)" if close else ""),
        hint="use the name as the neighbourhood layer spells it",
    )


RANK_COLUMNS = [
    "rank",
    "votes",
    "total",
    "share",
    "margin",
    "winner",
    "exact_share",
    "inferred_share",
    "pooled_share",
    "partial_share",
    "coverage",
]


def rank(
    areas: pd.DataFrame,
    candidate: str,
    *,
    label: str = "name",
    min_votes: float = MIN_VOTES,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Areas ranked by ``candidate``'s share, and apart, those with too few votes to call.

    Both tables carry the candidate's votes, the area's total, share, two-way margin,
    winner and the honesty fields present in ``areas``.
    """
    table = pd.DataFrame(
        {
            label: areas[label].to_numpy(),
            "votes": areas[candidate].to_numpy(dtype=float),
            "total": areas["total"].to_numpy(dtype=float),
        }
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        table["share"] = table["votes"] / table["total"]
    for column in RANK_COLUMNS[4:]:  # margin, winner and the honesty fields
        if column in areas:
            table[column] = areas[column].to_numpy()
    table = table[table["total"] > 0]
    enough = table["total"] >= min_votes
    ranked = table[enough].sort_values(["share", "votes"], ascending=False)
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    too_few = table[~enough].sort_values("total", ascending=False)
    columns = [label] + [c for c in RANK_COLUMNS if c in ranked]
    from explorer.ranges import add_ranges  # plausible ranges, when areas carry an ensemble

    ranked = add_ranges(ranked[columns].set_index(label), areas, candidate)
    return ranked, too_few[[c for c in columns if c != "rank"]].set_index(label)


def rounded(table: pd.DataFrame) -> pd.DataFrame:
    """Votes to whole numbers, shares as percentages with one decimal, for display."""
    shown = table.copy()
    for column in ("votes", "total"):
        if column in shown:
            shown[column] = shown[column].round().astype("int64")
    percent = ("share", "exact_share", "inferred_share", "pooled_share", "partial_share")
    percent = (*percent, "coverage")
    for column in (*percent, "share_low", "share_high"):
        if column in shown:
            shown[column] = (shown[column] * 100).round(1)
    if "p_rank" in shown:
        shown["p_rank"] = shown["p_rank"].round(2)
    if "margin" in shown:
        shown["margin"] = (shown["margin"] * 100).round(1)
    return shown.rename(
        columns={
            c: f"{c} %"
            for c in (
                "share",
                "exact_share",
                "inferred_share",
                "pooled_share",
                "partial_share",
                "coverage",
                "margin",
                "share_low",
                "share_high",
            )
            if c in shown
        }
    )


@dataclass(frozen=True)
class Question:
    """A parsed question: what to compute, for whom, where."""

    kind: str  # "favoured" | "won" | "how" | "who"
    candidate: str | None = None
    place: str | None = None


QUESTION_FORMS = (
    (
        "favoured",
        r"^(?:which|what) (?:neighbou?rhoods?|areas?|places?) "
        r"(?:favou?red|backed|supported|liked|went for) (?P<candidate>.+)$",
    ),
    ("favoured", r"^where (?:was|did) (?P<candidate>.+?) (?:strongest|do best|do well)$"),
    ("won", r"^where did (?P<candidate>.+?) win$"),
    ("how", r"^how did (?P<candidate>.+?) do in (?P<place>.+)$"),
    ("who", r"^who won (?:in )?(?P<place>.+)$"),
)
FORMS_HELP = (
    '"which neighbourhoods favoured X?", "which neighbourhoods backed X?", '
    '"where did X win?", "how did X do in PLACE?", "who won PLACE?"'
)


def parse_question(text: str) -> Question:
    """Recognise one of the supported question forms; otherwise list them."""
    cleaned = " ".join(text.split()).strip().rstrip("?.! ").strip()
    for kind, pattern in QUESTION_FORMS:
        match = re.match(pattern, cleaned, flags=re.IGNORECASE)
        if match:
            groups = match.groupdict()
            return Question(kind, groups.get("candidate"), groups.get("place"))
    shown = " ".join(text.split())
    shown = shown[:200] + "..." if len(shown) > 200 else shown  # echo at most 200 characters
    raise ExplorerError(f"cannot answer {shown!r}", hint=f"questions I understand: {FORMS_HELP}")


def _pct(value: float) -> str:
    return "n/a" if pd.isna(value) else f"{value * 100:.1f}%"


def answer(
    question: Question,
    areas: pd.DataFrame,
    candidates: list[str],
    *,
    label: str = "name",
    min_votes: float = MIN_VOTES,
    methods: str = "",
    fmt: str = "table",
) -> str:
    """The answer to a parsed question, as text: a headline, a table, the methods note."""
    from explorer.outputs import format_frame

    lines: list[str] = []
    table = None  # the one line that is a formatted table; every other line is prose
    if question.kind in ("favoured", "won"):
        candidate = find_candidate(question.candidate or "", candidates)
        ranked, too_few = rank(areas, candidate, label=label, min_votes=min_votes)
        won = ranked[ranked["winner"] == candidate] if "winner" in ranked else ranked
        overall = areas[candidate].sum() / areas["total"].sum()
        above = ranked[ranked["share"] > overall]
        lines.append(
            f"{candidate} won {len(won)} of {len(ranked)} neighbourhoods with at least "
            f"{min_votes:,.0f} votes, and beat their share of all mapped votes "
            f"({_pct(overall)}) in {len(above)}."
        )
        if len(won):
            lines.append("Won: " + ", ".join(f"{n} ({_pct(s)})" for n, s in won["share"].items()))
        shown = won if question.kind == "won" else ranked
        table = format_frame(rounded(shown), fmt)
        lines += ["", table]
        if len(too_few):
            lines.append(
                f"\nToo few votes to call (under {min_votes:,.0f}): "
                + ", ".join(f"{n} ({t:,.0f})" for n, t in too_few["total"].items())
            )
    elif question.kind == "how":
        candidate = find_candidate(question.candidate or "", candidates)
        row = areas.iloc[find_place(question.place or "", areas[label])]
        ranked, _ = rank(areas, candidate, label=label, min_votes=min_votes)
        place = row[label]
        share = row[candidate] / row["total"] if row["total"] else np.nan
        position = (
            f"ranked {int(ranked.loc[place, 'rank'])} of {len(ranked)}"
            if place in ranked.index
            else f"too few votes to rank (under {min_votes:,.0f})"
        )
        lines.append(
            f"{candidate} took {_pct(share)} in {place}: about {row[candidate]:,.0f} of "
            f"{row['total']:,.0f} votes; {position}; winner there: {row.get('winner', '?')}."
        )
        lines.append(_honesty_line(row))
    elif question.kind == "who":
        row = areas.iloc[find_place(question.place or "", areas[label])]
        votes = row[candidates].astype(float).sort_values(ascending=False)
        total = row["total"]
        top = ", ".join(f"{c} {_pct(v / total)} ({v:,.0f})" for c, v in votes.head(5).items())
        lines.append(
            f"{row.get('winner', votes.index[0])} won {row[label]} "
            f"(about {total:,.0f} votes): {top}."
        )
        lines.append(_honesty_line(row))
    if methods:
        lines += ["", methods]
    if fmt == "markdown":  # names in the prose are data too: escaped like the table's
        from explorer.outputs import markdown_text

        lines = [line if line is table else markdown_text(line) for line in lines]
    return "\n".join(lines)


def _honesty_line(row: pd.Series) -> str:
    parts = []
    if "exact_share" in row:
        parts.append(f"{_pct(row['exact_share'])} of its votes come from exactly matched precincts")
    if "inferred_share" in row and row["inferred_share"] > 0:
        parts.append(f"{_pct(row['inferred_share'])} from inferred geography")
    if "pooled_share" in row and row["pooled_share"] > 0:
        parts.append(f"{_pct(row['pooled_share'])} from pooled units")
    if "partial_share" in row:
        parts.append(f"{_pct(row['partial_share'])} from precincts only partly inside it")
    if "coverage" in row:
        parts.append(f"mapped precincts cover {_pct(row['coverage'])} of its area")
    return ("How sure: " + "; ".join(parts) + ".") if parts else ""
