"""A static scatter plot: each precinct's demographic group share against a candidate's
share of the vote, point size by votes, inferred-geometry precincts marked (matplotlib)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from explorer.demographics import GROUP_LABELS, UNIVERSE_LABELS
from explorer.outputs import terminal


def scatter_frame(
    precincts: pd.DataFrame, demographics: pd.DataFrame, group: str, candidate: str
) -> tuple[pd.DataFrame, dict]:
    """Per precinct: ``group_share`` (of CVAP), ``candidate_share`` (of all votes), ``votes``
    and ``inferred``; precincts with no CVAP placed are left out and counted in the facts."""
    joined = precincts.set_index("precinct").join(demographics, how="inner")
    has_cvap = joined["cvap_total"] > 0
    frame = pd.DataFrame(
        {
            "group_share": joined[f"cvap_share_{group}"],
            "candidate_share": joined[candidate] / joined["total"].where(joined["total"] > 0),
            "votes": joined["total"].astype(float),
            "inferred": joined["match"] == "inferred",
        }
    )[has_cvap & (joined["total"] > 0)]
    facts = {
        "left_out_precincts": int((~has_cvap).sum()),
        "left_out_votes": float(joined.loc[~has_cvap, "total"].sum()),
    }
    return frame, facts


def scatter_plot(
    frame: pd.DataFrame,
    group: str,
    candidate: str,
    *,
    title: str = "",
    credit: str = "",
    vintage: str = "",
    facts: dict | None = None,
    ax=None,
):
    """The scatter on ``ax`` (or a new figure); returns the figure."""
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(7, 5.2))
    else:
        fig = ax.figure
    size = 8 + 192 * np.sqrt(frame["votes"] / max(frame["votes"].max(), 1.0))
    exact = ~frame["inferred"]
    ax.scatter(
        frame.loc[exact, "group_share"],
        frame.loc[exact, "candidate_share"],
        s=size[exact],
        c="#2c7fb8",
        alpha=0.55,
        edgecolors="white",
        linewidths=0.5,
        label="precinct (size: votes)",
    )
    ax.scatter(
        frame.loc[~exact, "group_share"],
        frame.loc[~exact, "candidate_share"],
        s=size[~exact],
        facecolors="none",
        edgecolors="#d95f02",
        linewidths=1.3,
        label="precinct with inferred geometry",
    )
    ax.set_xlim(-0.02, 1.02)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel(
        f"{GROUP_LABELS.get(group, group)}: share of {UNIVERSE_LABELS['cvap']}", parse_math=False
    )
    ax.set_ylabel(terminal(f"{candidate}: share of the vote"), parse_math=False)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    if title:
        ax.set_title(terminal(title), fontsize=10, parse_math=False)
    lines = []
    if vintage:
        lines.append(f"Demographics: {vintage}, placed by 2020 block-group centres.")
    if facts and facts.get("left_out_precincts"):
        lines.append(
            f"{facts['left_out_precincts']} precincts ({facts['left_out_votes']:,.0f} votes) "
            "have no CVAP placed and are not drawn."
        )
    if credit:
        lines.append(f"Source: {credit}.")
    fig.text(0.01, 0.01, "\n".join(lines), fontsize=7, color="#555", va="bottom", parse_math=False)
    fig.tight_layout(rect=(0, 0.03 + 0.025 * len(lines), 1, 1))
    return fig
