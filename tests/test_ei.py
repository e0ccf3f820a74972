"""Ecological inference: recovery of known group preferences on synthetic elections drawn on
the real CA-34 precinct demographics, the real runoff through the API and the answer
function, and the one-line message when the ``ei`` extra is missing."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from explorer import demographics as demo
from explorer import ei
from explorer.cli import main

needs_pyei = pytest.mark.skipif(not ei.available(), reason="the ei extra is not installed")

# True preferences for the synthetic runoff: share of each group's voters choosing candidate A.
TRUTH = {"hispanic": 0.80, "asian": 0.15, "other": 0.55}


def synthetic_inputs(general, seed: int) -> tuple[ei.EIInputs, dict]:
    """Votes drawn from known group preferences on the real precinct demographics: each
    precinct keeps its real ballots; its voters split by its CVAP group mix; each voter of
    a group picks A with the group's probability, varied by precinct (Beta, as EI assumes).
    The truth is the realised district-wide share of each group's voters for A."""
    rng = np.random.default_rng(seed)
    dem = general.demographics("precinct")
    dem = dem[dem["cvap_total"] > 0]
    counts, _ = demo.group_partition(dem, ["hispanic", "asian"])
    ballots = general.precincts.set_index("precinct").loc[counts.index, "total"].to_numpy()
    mix = (counts / counts.sum(axis=1).to_numpy()[:, None]).to_numpy()
    voters = np.array([rng.multinomial(n, p) for n, p in zip(ballots, mix)])  # precinct x group
    for_a = np.zeros_like(voters)
    for g, group in enumerate(counts.columns):
        mean, concentration = TRUTH[group], 30.0
        p = rng.beta(mean * concentration, (1 - mean) * concentration, size=len(voters))
        for_a[:, g] = rng.binomial(voters[:, g], p)
    truth = {
        group: for_a[:, g].sum() / voters[:, g].sum() for g, group in enumerate(counts.columns)
    }
    outcomes = pd.DataFrame(
        {"A": for_a.sum(axis=1), "B": voters.sum(axis=1) - for_a.sum(axis=1)}, index=counts.index
    ).astype(float)
    groups = counts.mul(ballots / counts.sum(axis=1).to_numpy(), axis=0)
    return ei.EIInputs(groups, outcomes, {"candidates": ["A", "B"]}), truth


@needs_pyei
def test_synthetic_support_is_recovered_within_the_intervals(general):
    inputs, truth = synthetic_inputs(general, seed=34)
    result = ei.fit(inputs, draws=300, tune=300, progressbar=False, seed=1)
    table = result.table.set_index(["group", "candidate"])
    for group, share in truth.items():
        row = table.loc[(group, "A")]
        assert row["lower"] <= share <= row["upper"], (group, share, row.to_dict())
        assert row["upper"] - row["lower"] < 0.25  # informative, not a trivial [0, 1]
        # complementary candidate: the same interval mirrored
        assert table.loc[(group, "B"), "mean"] == pytest.approx(1 - row["mean"])
    # the diagnostics are reported, and a warning goes with poor ones
    poor = result.facts["max_rhat"] > ei.RHAT_POOR or result.facts["min_ess"] < ei.ESS_POOR
    assert bool(result.warnings) == poor
    assert set(result.table.columns) >= {"mean", "lower", "upper", "rhat", "ess"}


@pytest.fixture(scope="module")
def runoff_result(general):
    if not ei.available():
        pytest.skip("the ei extra is not installed")
    return ei.run(
        general,
        ["latino", "asian"],
        ["Gomez", "Ahn"],
        exclude_inferred=True,
        draws=200,
        tune=300,
        progressbar=False,
    )


@needs_pyei
def test_runoff_estimates_say_what_was_used(runoff_result, general):
    facts = runoff_result.facts
    assert facts["groups"] == ["hispanic", "asian", "other"]
    assert facts["inferred_geometry"] == "excluded"
    assert facts["inferred_precincts_used"] == 0
    guessed = general.precincts["match"].isin(["inferred", "pooled"])  # pooled: inferred too
    inferred_votes = general.precincts.loc[guessed, "total"].sum()
    assert facts["votes_left_out"]["inferred or pooled geometry (excluded)"] == inferred_votes
    assert facts["pooled_units_used"] == 0
    assert facts["votes_used"] + sum(facts["votes_left_out"].values()) == 43_179
    assert facts["vintage"] == "CVAP, ACS 5-year 2014-2018"
    table = runoff_result.table.set_index(["group", "candidate"])
    # the polarisation in this race is stark enough to show with few draws
    assert table.loc[("hispanic", "Jimmy Gomez"), "lower"] > 0.5
    assert table.loc[("asian", "Robert Lee Ahn"), "lower"] > 0.5
    text = runoff_result.text()
    assert "Inferred-geometry precincts: excluded." in text
    assert "R-hat" in text and "ESS" in text and "Dave's Redistricting" in text


@needs_pyei
def test_answer_group_support_in_plain_words(runoff_result, general):
    # a verdict only when the sampler converged; a short CI run may not, and says so
    converged = not runoff_result.warnings
    text, table = ei.answer_group_support(general, "Latino", "Gomez", result=runoff_result)
    if converged:
        assert text.startswith(
            "Yes: most Hispanic or Latino (any race) voters appear to have backed Jimmy Gomez"
        )
    else:
        assert text.startswith("Unclear: the estimate for Hispanic or Latino (any race) voters")
        assert "did not converge" in text
    assert "individual ballots" in text and "different period than the election" in text
    assert list(table["group"].unique()) == ["hispanic"]
    text, _ = ei.answer_group_support(general, "Korean Americans", "Gomez", result=runoff_result)
    assert text.startswith("No:" if converged else "Unclear:")
    assert "only has Asian Americans as a whole" in text
    assert "Korean Americans cannot be separated" in text


@needs_pyei
def test_posterior_plot(runoff_result):
    figure = runoff_result.plot()
    assert [a.get_title() for a in figure.axes] == [
        "Support for Jimmy Gomez",
        "Support for Robert Lee Ahn",
    ]


def test_without_the_extra_the_cli_names_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyei", None)  # import pyei now fails
    assert main(["ei", "ca34-2017-general"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        'explorer: error: ecological inference needs PyEI; install the ei extra from a checkout: pip install ".[ei]"'
    ]


def test_bad_groups_and_draws_are_one_line_errors(capsys):
    assert main(["ei", "ca34-2017-general", "--chains", "1"]) == 2
    assert "at least 2" in capsys.readouterr().err
    for draws in ("100000000", "100000000000000000000"):  # OOM, overflow before the fix
        assert main(["ei", "ca34-2017-general", "--draws", draws]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "--draws must be between 50 and 20,000" in err[0]
    assert main(["ei", "ca34-2017-general", "--candidates", ""]) == 2
    assert "--candidates names no candidate" in capsys.readouterr().err


@needs_pyei
def test_ei_csv_and_plot_carry_credit_counts_and_convergence(runoff_result):
    import io

    text = ei.csv_text(runoff_result)
    table = pd.read_csv(io.StringIO(text), comment="#")
    facts = runoff_result.facts
    assert (table["precincts"] == facts["precincts"]).all()
    assert (table["votes_used"] == round(facts["votes_used"])).all()
    assert (table["converged"] == (not facts["warnings"])).all()
    comments = [line for line in text.splitlines() if line.startswith("# ")]
    assert any("Dave's Redistricting" in line for line in comments)
    assert any(line.startswith("# caveat: Ecological inference") for line in comments)
    figure = ei.annotate_plot(runoff_result.plot(), runoff_result, "CA-34 runoff")
    assert figure._suptitle.get_text().startswith(f"CA-34 runoff: {facts['precincts']} precincts")
    shown = [t.get_text() for t in figure.texts]
    assert any("POOR CONVERGENCE" in t for t in shown) == bool(facts["warnings"])


def test_group_questions_are_recognised():
    parse = ei.parse_group_support_question
    assert parse("did Latino voters back Gomez?") == ("Latino", "Gomez")
    assert parse("Did Korean Americans vote for Robert Lee Ahn") == (
        "Korean Americans",
        "Robert Lee Ahn",
    )
    assert parse("did asian american voters support Ahn?") == ("asian american", "Ahn")
    assert parse("which neighbourhoods favoured Ahn?") is None
    assert parse("did martians back Gomez?") is None
