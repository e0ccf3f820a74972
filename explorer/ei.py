"""Ecological inference: how did each demographic group vote, estimated from precinct
aggregates, with 95% credible intervals and convergence diagnostics.

Built on PyEI (the optional extra ``ei``; from a checkout ``pip install ".[ei]"``): the
r x c multinomial-Dirichlet model (``multinomial-dirichlet-modified``) sampled with NUTS
(numpyro). Rows are non-overlapping groups of the citizen voting-age population (CVAP, see
:func:`explorer.demographics.group_partition`); columns are the candidates asked for, the
rest of the field ("other candidates", when there is any) and *no vote* (CVAP minus ballots
cast for the contest). Estimates are turnout-adjusted: each group's support is a share of
that group's *voters*, and each group's share of all voters is estimated too.

Caveats that every answer carries (:func:`caveats`): the method estimates group behaviour
from precinct aggregates, never from ballots; the groups are Census categories (Korean
Americans are not separable from Asian Americans); the demographics come from a different
year than the election, placed by block-group centres of population.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from explorer import demographics as demo
from explorer.errors import ExplorerError
from explorer.outputs import terminal

if TYPE_CHECKING:
    from explorer.elections import Election

EXTRA_HINT = 'install the ei extra from a checkout: pip install ".[ei]"'
NO_VOTE = "no vote"
OTHER_CANDIDATES = "other candidates"
RHAT_POOR = 1.05
ESS_POOR = 100
DEFAULT_DRAWS = 1500
DEFAULT_TUNE = 1000
DEFAULT_CHAINS = 2
#: upper bounds: the trace holds every precinct's draws, so memory grows with draws x chains
MAX_DRAWS = 20_000
MAX_CHAINS = 8


def available() -> bool:
    """Whether the ``ei`` extra (PyEI and its sampler) is installed."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numba's "nopython is set for njit" at import
            import pyei  # noqa: F401
    except ImportError:
        return False
    return True


def require() -> None:
    """Raise a one-line :class:`ExplorerError` naming the extra when PyEI is missing."""
    if not available():
        raise ExplorerError("ecological inference needs PyEI", hint=EXTRA_HINT)


@dataclass
class EIInputs:
    """The precinct table EI runs on, and what was left out of it (with reasons)."""

    groups: pd.DataFrame  # precinct x group counts (a partition of CVAP)
    outcomes: pd.DataFrame  # precinct x (candidates..., other candidates, no vote) counts
    facts: dict = field(default_factory=dict)


def prepare(
    election: Election,
    groups: list[str],
    candidates: list[str],
    *,
    exclude_inferred: bool = False,
    cvap_year: int | None = None,
    turnout: bool = False,
) -> EIInputs:
    """Precinct group counts and vote counts for EI, with a ledger of what was left out.

    Precincts without geography, with no CVAP placed in them, or (with
    ``exclude_inferred``) with inferred geometry are left out and their votes counted in
    ``facts``. Where a precinct has more ballots than placed CVAP (block groups count whole
    in the precinct holding their centre), its population is raised to its ballots (no
    abstention) and the count of such precincts is reported.

    With ``turnout=False`` there is no *no vote* column: each precinct's voters are assumed
    to have its CVAP's group mix (faster, but blind to groups turning out differently).
    """
    from explorer.ask import find_candidate

    names = [find_candidate(c, election.candidates) for c in candidates]
    if len(set(names)) != len(names):
        raise ExplorerError("a candidate is named twice")
    dem = election.demographics("precinct", cvap_year=cvap_year)
    precincts = election.precincts.set_index("precinct")
    total_votes = float(election.wide["total"].sum())
    keep = precincts["match"] != "none"
    reasons = {"no geography": float(precincts.loc[~keep, "total"].sum())}
    if exclude_inferred:  # pooled units (several precincts drawn as one) are inferred too
        inferred = precincts["match"].isin(["inferred", "pooled"])
        reasons["inferred or pooled geometry (excluded)"] = float(
            precincts.loc[inferred, "total"].sum()
        )
        keep &= ~inferred
    cvap = dem["cvap_total"].reindex(precincts.index).fillna(0.0)
    empty = keep & (cvap <= 0)
    reasons["no CVAP placed in the precinct"] = float(precincts.loc[empty, "total"].sum())
    keep &= ~empty
    chosen = precincts.loc[keep]
    counts, partition = demo.group_partition(dem.loc[chosen.index], groups)
    votes = chosen[names].astype(float)
    rest = chosen["total"].astype(float) - votes.sum(axis=1)
    if len(names) < len(election.candidates) and rest.sum() > 0:
        votes[OTHER_CANDIDATES] = rest
    ballots = votes.sum(axis=1)
    population = np.maximum(cvap.loc[chosen.index], ballots)
    raised = int((ballots > cvap.loc[chosen.index]).sum())
    if turnout:
        votes[NO_VOTE] = population - ballots
    else:
        population = ballots
        raised = 0
    counted = population > 0  # a precinct with nobody in it tells the model nothing
    counts, votes, population = counts[counted], votes[counted], population[counted]
    chosen = chosen[counted]
    counts = counts.mul(population / counts.sum(axis=1), axis=0)
    facts = {
        "candidates": names,
        "groups": partition["groups"],
        "precincts": len(chosen),
        "votes_used": float(ballots.sum()),
        "votes_total": total_votes,
        "votes_left_out": {k: v for k, v in reasons.items() if v},
        "precincts_raised_to_ballots": raised,
        "inferred_geometry": "excluded" if exclude_inferred else "included",
        "turnout": turnout,
        "inferred_precincts_used": int((chosen["match"] == "inferred").sum()),
        "pooled_units_used": int((chosen["match"] == "pooled").sum()),
        "pooled_votes_used": float(chosen.loc[chosen["match"] == "pooled", "total"].sum()),
        "double_counted": partition["double_counted"],
        "vintage": dem.attrs["vintages"]["cvap"],
        "election_date": str(election.spec.date or "unknown"),
        "population_ledger": demo.describe_population_ledger(dem.attrs["ledger"]),
        "credit": dem.attrs["credit"],
    }
    return EIInputs(counts, votes, facts)


@dataclass
class EIResult:
    """Estimates (a table), the posterior samples behind them, and the run's facts."""

    table: pd.DataFrame
    voters: pd.DataFrame | None  # each group's share of voters (turnout model only)
    samples: np.ndarray  # chains x draws x groups x candidates (share of the group's voters)
    facts: dict

    @property
    def warnings(self) -> list[str]:
        return self.facts.get("warnings", [])

    def plot(self, ax=None):
        """Posterior densities of each group's support for each candidate (matplotlib)."""
        return plot_posteriors(self, ax=ax)

    def text(self) -> str:
        return format_result(self)

    def _repr_html_(self) -> str:
        from explorer.render import esc

        return f"<pre>{esc(self.text())}</pre>"


def check_sampler(draws: int, chains: int) -> None:
    """Refuse draws or chains outside [50, MAX_DRAWS] and [2, MAX_CHAINS] in one line
    (a huge number would exhaust memory or overflow the sampler)."""
    if not 50 <= draws <= MAX_DRAWS:
        raise ExplorerError(
            f"--draws must be between 50 and {MAX_DRAWS:,} (got {draws:,})",
            hint="the trace keeps every precinct's draws in memory",
        )
    if not 2 <= chains <= MAX_CHAINS:
        raise ExplorerError(
            f"--chains must be between 2 and {MAX_CHAINS} (got {chains:,})",
            hint="R-hat compares at least 2 chains",
        )


def _rhat_ess(values: np.ndarray) -> tuple[float, float]:
    """R-hat and bulk ESS of one quantity sampled as chains x draws (ArviZ)."""
    import arviz as az

    data = az.convert_to_dataset(values[np.newaxis] if values.ndim == 1 else values)
    rhat = float(az.rhat(data)["x"].values)
    ess = float(az.ess(data, method="bulk")["x"].values)
    return rhat, ess


def _xla_cores(chains: int) -> None:
    """Let JAX run one chain per core (only possible before JAX is first imported)."""
    if "jax" in sys.modules:
        return
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_force_host_platform_device_count" not in flags:
        count = max(1, min(chains, os.cpu_count() or 1))
        os.environ["XLA_FLAGS"] = f"{flags} --xla_force_host_platform_device_count={count}".strip()


def _voter_shares(voters_of: np.ndarray, inputs: EIInputs, chains: int) -> pd.DataFrame:
    """Each group's estimated share of all voters, from the turnout samples."""
    group_names = list(inputs.groups.columns)
    by_group = voters_of.sum(axis=1)
    share = (by_group / by_group.sum(axis=1, keepdims=True)).reshape(chains, -1, len(group_names))
    voter_rows = []
    for g, group in enumerate(group_names):
        values = share[:, :, g]
        low, high = np.percentile(values, [2.5, 97.5])
        rhat, ess = _rhat_ess(values)
        voter_rows.append(
            {
                "group": group,
                "share_of_voters": float(values.mean()),
                "lower": float(low),
                "upper": float(high),
                "share_of_cvap": float(inputs.groups[group].sum() / inputs.groups.to_numpy().sum()),
                "rhat": rhat,
                "ess": ess,
            }
        )
    return pd.DataFrame(voter_rows)


def fit(
    inputs: EIInputs,
    *,
    draws: int = DEFAULT_DRAWS,
    tune: int | None = None,
    chains: int = DEFAULT_CHAINS,
    seed: int | None = 2017,
    progressbar: bool = True,
) -> EIResult:
    """Sample the r x c model on prepared inputs and summarise it.

    Returns an :class:`EIResult` whose ``table`` has one row per group and candidate:
    ``mean``, ``lower``/``upper`` (95% equal-tailed credible interval), ``rhat`` and
    ``ess`` (bulk effective sample size) of the district-wide share of the group's voters
    who chose the candidate. ``voters`` holds each group's estimated share of all voters.
    Raises :class:`ExplorerError` when PyEI is missing or the inputs are too small.
    """
    require()
    if len(inputs.groups) < 5:
        raise ExplorerError(
            f"only {len(inputs.groups)} precincts with votes and demographics; EI needs more"
        )
    check_sampler(draws, chains)
    _xla_cores(chains)
    import logging

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # numba and pytensor chatter at import
        from pyei.r_by_c import RowByColumnEI

    population = np.round(inputs.outcomes.sum(axis=1).to_numpy()).astype(np.int64)
    outcome_counts = np.clip(np.round(inputs.outcomes.to_numpy()), 0, None)
    population = outcome_counts.sum(axis=1).astype(np.int64)
    group_fractions = (inputs.groups.to_numpy() / inputs.groups.sum(axis=1).to_numpy()[:, None]).T
    vote_fractions = (outcome_counts / population[:, None]).T
    group_names = list(inputs.groups.columns)
    outcome_names = list(inputs.outcomes.columns)
    turnout = NO_VOTE in outcome_names
    model = RowByColumnEI("multinomial-dirichlet-modified")
    started = time.perf_counter()
    quiet = ["pymc", "pytensor", "pymc.stats.convergence", "jax"]
    levels = {name: logging.getLogger(name).level for name in quiet}
    try:
        for name in quiet:
            logging.getLogger(name).setLevel(logging.CRITICAL)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with contextlib.redirect_stdout(io.StringIO()):  # PyEI prints its set-up
                model.fit(
                    group_fractions,
                    vote_fractions,
                    population,
                    demographic_group_names=group_names,
                    candidate_names=outcome_names,
                    draws=draws,
                    tune=tune if tune is not None else max(DEFAULT_TUNE, draws // 2),
                    chains=chains,
                    random_seed=seed,
                    progressbar=progressbar,
                    target_accept=0.9,
                )
            if turnout:
                model.calculate_turnout_adjusted_summary([NO_VOTE])
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    seconds = time.perf_counter() - started
    if turnout:  # samples x r x (c-1), chain-major
        adjusted = model.turnout_adjusted_sampled_voting_prefs
        cands = model.turnout_adjusted_candidate_names
        voters_of = model.turnout_samples  # samples x precincts x r: voters of each group
    else:
        adjusted = model.sampled_voting_prefs
        cands = outcome_names
        voters_of = None
    samples = adjusted.reshape(chains, -1, len(group_names), len(cands))
    rows = []
    for g, group in enumerate(group_names):
        for c, cand in enumerate(cands):
            values = samples[:, :, g, c]
            rhat, ess = _rhat_ess(values)
            low, high = np.percentile(values, [2.5, 97.5])
            rows.append(
                {
                    "group": group,
                    "candidate": cand,
                    "mean": float(values.mean()),
                    "lower": float(low),
                    "upper": float(high),
                    "rhat": rhat,
                    "ess": ess,
                }
            )
    table = pd.DataFrame(rows)
    voters = None if voters_of is None else _voter_shares(voters_of, inputs, chains)
    facts = dict(inputs.facts)
    facts.update(
        {
            "draws": draws,
            "tune": tune if tune is not None else max(DEFAULT_TUNE, draws // 2),
            "chains": chains,
            "seconds": round(seconds, 1),
            "max_rhat": float(table["rhat"].max()),
            "min_ess": float(table["ess"].min()),
            "model": "PyEI r x c multinomial-Dirichlet (modified), NUTS via numpyro",
        }
    )
    problems = []
    if facts["max_rhat"] > RHAT_POOR:
        problems.append(
            f"R-hat up to {facts['max_rhat']:.3f} (over {RHAT_POOR}): the chains disagree"
        )
    if facts["min_ess"] < ESS_POOR:
        problems.append(f"effective sample size down to {facts['min_ess']:.0f} (under {ESS_POOR})")
    if problems:
        problems = [
            "poor convergence: " + "; ".join(problems) + ". Do not trust these intervals; "
            "rerun with more --draws (e.g. --draws 2000); if that does not help, the model "
            "does not fit these data."
        ]
    facts["warnings"] = problems
    table.attrs["facts"] = facts
    if voters is not None:
        voters.attrs["facts"] = facts
    return EIResult(table=table, voters=voters, samples=samples, facts=facts)


def run(
    election: Election,
    groups: list[str],
    candidates: list[str] | None = None,
    *,
    exclude_inferred: bool = False,
    cvap_year: int | None = None,
    draws: int = DEFAULT_DRAWS,
    tune: int | None = None,
    chains: int = DEFAULT_CHAINS,
    seed: int | None = 2017,
    progressbar: bool = True,
    turnout: bool = False,
) -> EIResult:
    """Ecological inference for an election: prepare the precinct table, fit, summarise.

    ``groups`` are demographic groups (``hispanic``, ``asian``...; ``other`` is always
    added as the remainder); ``candidates`` default to all candidates of a race with at most
    four, else the top two.
    """
    require()
    if candidates is None:
        ranked = election.summary().index.tolist()
        candidates = ranked if len(ranked) <= 4 else ranked[:2]
    inputs = prepare(
        election,
        groups,
        candidates,
        exclude_inferred=exclude_inferred,
        cvap_year=cvap_year,
        turnout=turnout,
    )
    return fit(inputs, draws=draws, tune=tune, chains=chains, seed=seed, progressbar=progressbar)


def caveats(facts: dict) -> list[str]:
    """The plain-words caveats that go with every EI answer."""
    lines = [
        "Ecological inference estimates how groups voted from precinct totals and census "
        "counts; it never sees individual ballots, and it assumes that groups vote alike "
        "across precincts once their mix is known.",
        "Groups are Census categories: Asian means Asian alone or in combination, so Korean "
        "Americans cannot be separated from other Asian Americans; Hispanic voters of any "
        "race can also be counted as Asian or Black, and the overlap is not observable.",
        f"The demographics are {facts['vintage']} (citizens of voting age), a different "
        f"period than the election ({facts['election_date']}), placed into precincts by 2020 "
        "block-group centres of population.",
    ]
    if facts.get("inferred_geometry") == "included" and facts.get("inferred_precincts_used"):
        lines.append(
            f"{facts['inferred_precincts_used']} precincts with inferred geometry are included "
            "(use --exclude-inferred to leave them out)."
        )
    if facts.get("inferred_geometry") == "included" and facts.get("pooled_units_used"):
        lines.append(
            f"{facts['pooled_units_used']} pooled units ({facts['pooled_votes_used']:,.0f} "
            "votes) are included: several precincts whose geography could not be told apart, "
            "treated as one precinct, which blurs the precinct-to-precinct variation EI "
            "learns from (--exclude-inferred leaves them out too)."
        )
    return lines


def csv_text(result: EIResult) -> str:
    """The estimates as CSV for a spreadsheet: one row per group and candidate with the
    run's facts as columns (precincts and votes used, R-hat, ESS, ``converged``), then the
    credit and caveats as ``#`` lines after the table (a spreadsheet shows them as rows
    below it; ``pandas.read_csv(..., comment="#")`` skips them)."""
    facts = result.facts
    table = result.table.assign(
        precincts=facts["precincts"],
        votes_used=round(facts["votes_used"]),
        votes_total=round(facts["votes_total"]),
        pooled_units=facts.get("pooled_units_used", 0),
        inferred_geometry=facts["inferred_geometry"],
        converged=not facts["warnings"],
        cvap=facts["vintage"],
    )
    from explorer import outputs  # formula-safe cells (outputs.to_csv)

    text = outputs.format_frame(table.set_index(["group", "candidate"]), "csv").rstrip("\n")
    text += "\n"
    notes = [f"demographics: {facts['credit']}; {facts['vintage']}"]
    notes += [f"warning: {w}" for w in facts["warnings"]]
    notes += [f"caveat: {c}" for c in caveats(facts)]
    return text + "".join("# " + " ".join(n.split()).replace('"', "'") + "\n" for n in notes)


def format_result(result: EIResult) -> str:
    """The estimates, group shares of voters, diagnostics, ledger and caveats, as text."""
    facts = result.facts
    lines = [
        f"Estimated support by group (share of each group's voters, 95% credible interval), "
        f"{facts['precincts']} precincts, {facts['votes_used']:,.0f} of "
        f"{facts['votes_total']:,.0f} votes:",
    ]
    for group, rows in result.table.groupby("group", sort=False):
        parts = [
            f"{r.candidate} {r.mean:.0%} ({r.lower:.0%}-{r.upper:.0%})" for r in rows.itertuples()
        ]
        lines.append(f"  {group:<10} " + "; ".join(parts))
    if result.voters is not None:
        lines.append("Estimated share of all voters (share of CVAP in brackets):")
        for r in result.voters.itertuples():
            lines.append(
                f"  {r.group:<10} {r.share_of_voters:.0%} ({r.lower:.0%}-{r.upper:.0%}) "
                f"[{r.share_of_cvap:.0%} of CVAP]"
            )
    else:
        lines.append(
            "Assumed: each precinct's voters have the group mix of its CVAP (no turnout "
            "model; --turnout models abstention, slower)."
        )
    lines.append(
        f"Diagnostics: max R-hat {facts['max_rhat']:.3f}, min bulk ESS {facts['min_ess']:.0f} "
        f"({facts['chains']} chains x {facts['draws']} draws after {facts['tune']} tuning, "
        f"{facts['seconds']:.0f} s)."
    )
    for warning in result.warnings:
        lines.append(f"warning: {warning}")
    left = facts["votes_left_out"]
    if left:
        lines.append(
            "Votes left out: " + "; ".join(f"{v:,.0f} ({k})" for k, v in left.items()) + "."
        )
    lines.append(f"Inferred-geometry precincts: {facts['inferred_geometry']}.")
    if facts["precincts_raised_to_ballots"]:
        lines.append(
            f"{facts['precincts_raised_to_ballots']} precincts had more ballots than placed "
            "CVAP; their abstention was set to zero."
        )
    if facts["double_counted"]:
        lines.append(
            f"{facts['double_counted']:,.0f} people counted in two of the groups named were "
            "scaled back so the groups add up to CVAP."
        )
    lines.append(f"Population ledger: {facts['population_ledger']}")
    lines.extend(f"Caveat: {c}" for c in caveats(facts))
    lines.append(f"Model: {facts['model']}. Demographics: {facts['credit']}.")
    return "\n".join(lines)


def plot_posteriors(result: EIResult, ax=None):
    """One density curve per group for each candidate's support (matplotlib figure)."""
    import matplotlib.pyplot as plt

    candidates = list(dict.fromkeys(result.table["candidate"]))
    groups = list(dict.fromkeys(result.table["group"]))
    if ax is None:
        fig, axes = plt.subplots(
            1, len(candidates), figsize=(4.5 * len(candidates), 3.4), squeeze=False
        )
        axes = axes[0]
    else:
        axes = np.atleast_1d(ax)
        fig = axes[0].figure
    bins = np.linspace(0, 1, 81)
    for c, (cand, axis) in enumerate(zip(candidates, axes)):
        for g, group in enumerate(groups):
            values = result.samples[:, :, g, c].ravel()
            axis.hist(values, bins=bins, density=True, histtype="step", label=group, lw=1.6)
        axis.set_title(terminal(f"Support for {cand}"), fontsize=10, parse_math=False)
        axis.set_xlabel("share of the group's voters")
        axis.set_xlim(0, 1)
    axes[0].set_ylabel("posterior density")
    axes[0].legend(fontsize=8)
    fig.text(
        0.01,
        0.01,
        f"Ecological inference (PyEI); demographics: {result.facts['credit']}",
        fontsize=7,
        color="#555",
    )
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def annotate_plot(fig, result: EIResult, title: str):
    """Name the election, the precincts and votes used and, when convergence is poor, say
    so on the figure itself (a PNG travels without the terminal's warnings)."""
    facts = result.facts
    fig.suptitle(
        f"{title}: {facts['precincts']} precincts, {facts['votes_used']:,.0f} of "
        f"{facts['votes_total']:,.0f} votes; estimates, not counts",
        fontsize=10,
    )
    if facts["warnings"]:
        fig.text(
            0.5,
            0.5,
            "POOR CONVERGENCE: do not trust these curves",
            ha="center",
            va="center",
            fontsize=16,
            color="#b00",
            alpha=0.6,
            rotation=20,
        )
    fig.tight_layout(rect=(0, 0.04, 1, 0.93))
    return fig


def answer_group_support(
    election: Election,
    group: str,
    candidate: str,
    *,
    draws: int = DEFAULT_DRAWS,
    exclude_inferred: bool = False,
    progressbar: bool = False,
    result: EIResult | None = None,
) -> tuple[str, pd.DataFrame]:
    """Answer "did <group> voters back <candidate>?" in words, with the table behind it.

    ``group`` takes common spellings ("Latino", "Asian American", "Korean American" -> the
    Census Asian group, said so in the answer). The text states the estimate with its 95%
    credible interval, whether the group's majority backed the candidate (only when the
    whole interval is on one side of 50%), the diagnostics and the caveats in plain words.
    ``result`` reuses an earlier run that includes the group (no new sampling).
    Raises :class:`ExplorerError` (naming the extra) when PyEI is not installed.
    """
    require()
    key = demo.normalise_group(group)
    if key == "other":
        raise ExplorerError("ask about a named group, such as Latino or Asian American voters")
    from explorer.ask import find_candidate

    name = find_candidate(candidate, election.candidates)
    if (
        result is None
        or key not in set(result.table["group"])
        or name not in set(result.table["candidate"])
    ):
        groups = [key, *[g for g in ("hispanic", "asian") if g != key]]
        rivals = [c for c in election.summary().index if c != name][:1]
        result = run(
            election,
            groups,
            [name, *rivals],
            exclude_inferred=exclude_inferred,
            draws=draws,
            progressbar=progressbar,
        )
    row = result.table[(result.table["group"] == key) & (result.table["candidate"] == name)].iloc[0]
    label = demo.GROUP_LABELS[key]
    if result.warnings:  # poor convergence: the interval is not to be trusted, so no verdict
        verdict = f"Unclear: the estimate for {label} voters did not converge"
    elif row["lower"] > 0.5:
        verdict = f"Yes: most {label} voters appear to have backed {name}"
    elif row["upper"] < 0.5:
        verdict = f"No: most {label} voters appear not to have backed {name}"
    else:
        verdict = f"Unclear: the estimate for {label} voters straddles half"
    said = str(group).strip()
    asked_korean = "korean" in said.lower()
    lines = [
        f"{verdict} (estimated {row['mean']:.0%}, 95% credible interval "
        f"{row['lower']:.0%}-{row['upper']:.0%}; {election.spec.title}).",
    ]
    if asked_korean:
        lines.append(
            "You asked about Korean Americans; the census data only has Asian Americans as a "
            "whole, so this is the estimate for all Asian American voters."
        )
    if result.voters is not None:
        voters = result.voters.set_index("group").loc[key]
        lines.append(
            f"{label} voters were an estimated {voters['share_of_voters']:.0%} of voters "
            f"({voters['lower']:.0%}-{voters['upper']:.0%}) and {voters['share_of_cvap']:.0%} of "
            "citizens of voting age."
        )
    else:
        lines.append(
            "The model assumes each precinct's voters have the group mix of its citizens of "
            "voting age; if the group turned out less than others, the estimate can be off."
        )
    lines.append(
        f"Diagnostics across the run: max R-hat {result.facts['max_rhat']:.3f}, min effective "
        f"sample size {result.facts['min_ess']:.0f}."
        + (" " + " ".join(w[:1].upper() + w[1:] for w in result.warnings))
    )
    lines.extend(f"Caveat: {c}" for c in caveats(result.facts))
    lines.append(f"Sources: demographics {result.facts['credit']}; model PyEI.")
    table = result.table[result.table["group"] == key].reset_index(drop=True)
    table.attrs["facts"] = result.facts
    return "\n".join(lines), table


_GROUP_QUESTION = re.compile(
    r"^\s*(?:did|do|how did|how do)\s+(?P<group>[a-z][a-z \-]*?)\s+(?:voters?\s+)?"
    r"(?P<verb>back|support|vote for|favou?r|choose|pick)\s+(?P<candidate>.+?)\s*[?.!]*\s*$",
    re.IGNORECASE,
)


def parse_group_support_question(question: str) -> tuple[str, str] | None:
    """``(group, candidate)`` from "did Latino voters back Gomez?" and similar phrasings
    (back, support, vote for, favour, choose, pick), or None when the question is not of
    that form or names no known group. For a question engine to route to
    :func:`answer_group_support`."""
    match = _GROUP_QUESTION.match(question)
    if not match:
        return None
    group = match.group("group").strip()
    try:
        demo.normalise_group(group)
    except ExplorerError:
        return None
    return group, match.group("candidate").strip()
