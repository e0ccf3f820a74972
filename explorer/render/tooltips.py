"""One escaped tooltip per feature, in a reader's words: match class, margin as the
colour shows it, top candidates, votes; compact JSON rows with shared labels."""

from __future__ import annotations

import numpy as np
import pandas as pd

from explorer.names import surname
from explorer.render.literal import esc


def _tip(title: str, rows: list[tuple[str, str]], note: str = "") -> list:
    """A tooltip as ``[title, [[label, value], ...], note]``, every string escaped."""
    return [esc(title), [[esc(k), esc(v)] for k, v in rows], esc(note)]


def _intern_labels(tips: list) -> tuple[list, list[str]]:
    """Replace row labels used more than once by indexes into a shared label list."""
    counts: dict[str, int] = {}
    for tip in tips:
        for label, _ in tip[1]:
            counts[label] = counts.get(label, 0) + 1
    shared = [label for label, n in counts.items() if n > 1]
    index = {label: i for i, label in enumerate(shared)}
    compact = [
        [tip[0], [[index.get(label, label), value] for label, value in tip[1]], tip[2]]
        for tip in tips
    ]
    return compact, shared


#: the join's match classes in a reader's words
MATCH_WORDS = {
    "exact": "Exact match",
    "base": "Matched by its base precinct number",
    "inferred": "Shape inferred from neighbouring precinct numbers",
    "pooled": "Pooled: reported together with neighbouring precincts",
}


def _margin_label(candidates: list[str]) -> str:
    if len(candidates) == 2:
        return "Margin"
    return "Margin, " + " v ".join(surname(c) for c in candidates[:2])


def two_way_margin(row, first: str, second: str) -> str:
    """The margin as the margin map colours it: "Gomez +18.4 pts" of the two's votes."""
    a, b = float(row.get(first, 0) or 0), float(row.get(second, 0) or 0)
    if a + b <= 0:
        return "no votes"
    points = (a - b) / (a + b) * 100
    if round(points, 1) == 0:
        return "tied"
    leader = first if points > 0 else second
    return f"{surname(leader)} +{abs(points):.1f} pts"


def precinct_tooltips(
    frame: pd.DataFrame, candidates: list[str], top: int = 5, spelling: dict | None = None
) -> list:
    """One escaped tooltip per precinct: ID, members, match class, votes, total, shares.
    ``spelling`` maps the upper-case IDs compared internally to the returns file's own
    spelling, which is what the reader sees ("1e5", not "1E5")."""
    spelling = spelling or {}
    tips = []
    matrix = frame[candidates].to_numpy(float)
    order = np.argsort(-matrix, axis=1, kind="stable")[:, :top]  # most votes first
    records = pd.DataFrame(frame.drop(columns="geometry", errors="ignore")).to_dict("records")
    for row, counts, best in zip(records, matrix, order):
        total = row["total"]
        votes = {candidates[i]: counts[i] for i in best}
        if row.get("status") == "none":  # election night: nothing counted, not a zero
            rows = [("Status", "not reporting yet"), ("Polygons", row.get("members", ""))]
            shown = spelling.get(row["precinct"], row["precinct"])
            tips.append(_tip(f"Precinct {shown}", rows, "No votes counted yet."))
            continue
        match = MATCH_WORDS.get(row["match"], str(row["match"]))
        if row["match"] != "inferred" and (
            row.get("absorbed") is True or row.get("inferred_members")
        ):  # said once: an inferred shape already says so
            match += "; includes shapes inferred from neighbouring precinct numbers"
        rows = [("Match", match), ("Polygons", row.get("members", ""))]
        if len(candidates) >= 2:
            rows.append((_margin_label(candidates), two_way_margin(row, *candidates[:2])))
        if row["match"] == "pooled":
            rows.insert(1, ("Result precincts", row.get("results", "")))
        if row.get("parts"):
            rows.append(("Results of", row["parts"]))
        if row.get("status") == "partial":
            rows.append(("Counted so far", str(row.get("methods", "")).replace(",", ", ")))
        rows += [(c, f"{v:,.0f} ({v / total:.1%})" if total else "0") for c, v in votes.items()]
        rows.append(("Total", f"{total:,.0f}"))
        note = ""
        if isinstance(row.get("reason"), float):  # a blank (NaN) reason
            row["reason"] = ""
        if row.get("reason"):
            note = f"Why this geometry: {row['reason']}"
        elif row["match"] == "inferred":
            note = "Geometry inferred: no polygon carries this precinct's ID."
        elif row.get("inferred_members"):
            note = f"Includes inferred polygons: {row['inferred_members']}"
        title = "Pooled unit" if row["match"] == "pooled" else "Precinct"
        tips.append(_tip(f"{title} {spelling.get(row['precinct'], row['precinct'])}", rows, note))
    return tips


def area_tooltips(frame: pd.DataFrame, candidates: list[str], top: int = 5) -> list:
    """Tooltips for apportioned areas, with the honesty fields and, when the areas carry
    an ensemble (:mod:`explorer.ranges`), each share's plausible range."""
    from explorer.ranges import plausible_text

    tips = []
    for _, row in frame.iterrows():
        total = row["total"]
        votes = row[candidates].astype(float).sort_values(ascending=False).head(top)
        rows = [
            (c, f"{v:,.0f} ({v / total:.1%}) {plausible_text(frame, c, row['name'])}".strip())
            if total
            else (c, "0")
            for c, v in votes.items()
        ]
        if len(candidates) >= 2:
            rows.insert(0, (_margin_label(candidates), two_way_margin(row, *candidates[:2])))
        rows.append(("Total (estimated)", f"{total:,.0f}"))
        if "in_district" in row and pd.notna(row["in_district"]):
            rows.append(("Area inside the district", f"{row['in_district']:.0%}"))
        for key, label in (
            ("exact_share", "From exact precincts"),
            ("inferred_share", "From inferred geography"),
            ("pooled_share", "From pooled units"),
            ("partial_share", "From precincts partly inside"),
            ("coverage", "Area covered by mapped precincts"),
        ):
            if key in row and pd.notna(row[key]):
                rows.append((label, f"{row[key]:.0%}"))
        tips.append(_tip(row["name"], rows))
    return tips


def demographic_tooltips(frame: pd.DataFrame, id_field: str, vintage: str) -> list:
    """One escaped tooltip per area: CVAP and each group's share of it."""
    from explorer.demographics import GROUPS

    tips = []
    for _, row in frame.iterrows():
        cvap = row.get("cvap_total", 0.0)
        rows = [("CVAP", f"{cvap:,.0f}")]
        for group in GROUPS:
            share = row.get(f"cvap_share_{group}")
            rows.append((group.capitalize(), "n/a" if pd.isna(share) else f"{share:.0%}"))
        tips.append(_tip(str(row[id_field]), rows, vintage))
    return tips
