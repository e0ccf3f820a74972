"""Ecological inference speed: the default ``explorer ei`` run on the CA-34 runoff, as a ratio
of the 60 s budget (2 cores), next to PyEI's Goodman ecological regression (no intervals)
measured in the same run. CPU time and the machine's load are printed too: on a shared
machine the wall time says more about the neighbours than about the code."""

from __future__ import annotations

import os
import resource
import time

BUDGET_SECONDS = 60.0


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bench_ei() -> None:
    import numpy as np

    import explorer
    from explorer import ei

    if not ei.available():
        print("\nEcological inference: the ei extra is not installed; skipped")
        return
    election = explorer.load("ca34-2017-general")
    election.demographics("precinct")  # data loading is not the sampler's cost
    load = os.getloadavg()[0]
    wall, cpu = time.perf_counter(), _cpu()
    result = ei.run(election, ["hispanic", "asian"], ["Gomez", "Ahn"], progressbar=False)
    wall, cpu = time.perf_counter() - wall, _cpu() - cpu

    from pyei.goodmans_er import GoodmansER

    inputs = ei.prepare(election, ["hispanic"], ["Gomez", "Ahn"])
    share = (inputs.groups["hispanic"] / inputs.groups.sum(axis=1)).to_numpy()
    votes = inputs.outcomes.to_numpy()
    gomez = votes[:, 0] / votes.sum(axis=1)
    start = time.perf_counter()
    goodman = GoodmansER(is_weighted_regression=True)
    goodman.fit(share, gomez, precinct_pops=votes.sum(axis=1))
    goodman_time = time.perf_counter() - start

    facts = result.facts
    print("\nEcological inference, CA-34 runoff (hispanic, asian, other x Gomez, Ahn)")
    print(
        f"  explorer ei (default: {facts['chains']} chains x {facts['draws']} draws, "
        f"{facts['tune']} tuning): {wall:5.1f} s wall, {cpu:5.1f} s CPU in this process, "
        f"load average {load:.1f} on {os.cpu_count()} cores"
    )
    print(f"  wall time / 60 s budget: {wall / BUDGET_SECONDS:4.2f}")
    print(
        f"  Goodman's regression (PyEI, point estimate only): {goodman_time * 1000:6.1f} ms; "
        f"explorer ei takes {wall / max(goodman_time, 1e-9):,.0f}x as long and gives intervals"
    )
    goodman_share = float(np.ravel(goodman.voting_prefs_est_)[0])
    row = result.table.set_index(["group", "candidate"]).loc[("hispanic", "Jimmy Gomez")]
    print(
        f"  Hispanic support for Gomez: r x c EI {row['mean']:.2f} "
        f"({row['lower']:.2f}-{row['upper']:.2f}); Goodman {goodman_share:.2f}; "
        f"max R-hat {facts['max_rhat']:.3f}, min ESS {facts['min_ess']:.0f}"
    )
