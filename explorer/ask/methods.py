"""The "Methods:" lines under a ranked table or an answer: sources and vintages, how the
votes reached the areas, and the ledger's caveats (what is inferred, unmapped, outside)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from explorer.elections import Election


def methods_note(election: Election, areas: pd.DataFrame, by: str) -> str:
    """Sources and vintages, method, and the ledger's caveats, in a few lines."""
    from explorer import join

    summary = election.ledger_summary
    spec = election.spec
    lines = ["Methods:"]
    contest = ", ".join(
        str(part)
        for part in (
            spec.title,
            spec.date,
            spec.office or election.returns.attrs.get("office"),
            f"district {spec.district}" if spec.district else "",
        )
        if part
    )
    lines.append(f"- Returns: {contest} ({Path(spec.returns).name}).")
    lines.append(
        f"- Precinct geometry: {spec.precincts.title or spec.precincts.file}; "
        "result precincts matched exact / base / inferred (see `explorer ledger`)."
    )
    lines.append(f"- Ledger: {join.describe_ledger(summary)}")
    if summary.get("reporting"):
        from explorer.live import describe_reporting

        lines.append(f"- Reporting: {describe_reporting(summary['reporting'])}")
    if by != "precinct":
        layer = spec.neighbourhoods
        lines.append(
            f"- Areas: {(layer.title or Path(layer.file).name) if layer else by}; "
            "votes apportioned by "
            f"{areas.attrs.get('method', 'area')}. Figures per area are estimates."
        )
        outside = areas.attrs.get("outside")
        if outside is not None:
            outside_votes = float(outside.sum())
            outside_votes = 0.0 if abs(outside_votes) < 0.5 else outside_votes  # no "-0"
            lines.append(f"- {outside_votes:,.0f} mapped votes fall outside every area.")
        overlap = areas.attrs.get("overlap")
        if overlap is not None and overlap.sum() >= 0.5:
            lines.append(
                f"- {overlap.sum():,.0f} votes counted in more than one area; the target "
                "polygons overlap, so the areas add up to more than the mapped votes."
            )
    credits = election.credits() or [
        "your files: " + ", ".join(Path(f).name for f in election.source_files())
    ]
    lines.append("- Sources: " + "; ".join(credits) + ".")
    return "\n".join(lines)
