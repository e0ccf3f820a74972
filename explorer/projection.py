"""Election night: a projection of the final two-way margin from partial returns, and its
backtest on real races. Every figure it gives is an estimate and is labelled as one.

The model projects each precinct whose count is not complete, from the precincts whose
count is (``complete``), in one of two ways:

* **early batch known** (vote-method split, e.g. mail counted everywhere, election day in
  some precincts): the remaining late ballots of a precinct are its early ballots times the
  late-to-early ratio of the complete precincts, and their two-way share is its early share
  shifted (on the logit scale) by the late-minus-early shift of the complete precincts.
  The relationship between mail and election-day votes in the same race is the baseline.
* **nothing counted**: the precinct's votes are the earlier round's ballots there (e.g. the
  primary, by precinct) times the turnout ratio of the complete precincts, and its two-way
  share is the earlier round's share of the same two candidates shifted by the swing of the
  complete precincts (logit scale). The same race's earlier round is the baseline: it is
  the best record of who votes where, and of how the two finalists' support is spread.

The interval comes from a bootstrap over the complete precincts: each draw re-estimates the
ratios and shifts from resampled precincts and adds a resampled precinct residual to every
precinct still out; the interval is the central ``level`` of the draws.

:func:`backtest` replays real final counts under simulated reporting orders (random,
geographic clusters, mail first) and scores the projection against the naive count so far;
:func:`worth_showing` says whether the backtest supports showing a projection at a given
share of precincts reporting.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from explorer.errors import ExplorerError

LEVELS = (0.10, 0.25, 0.50, 0.75)
MIN_COMPLETE = 5
SLOPE_PRIOR = 10.0  # pseudo-precincts pulling the fitted slope towards uniform swing


def fold(name: str) -> str:
    """A candidate name without accents, case or extra spaces ('Luis López' -> 'luis lopez')."""
    text = unicodedata.normalize("NFKD", str(name))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).casefold().split())


def pick(columns, name: str) -> str:
    """The column that is the candidate ``name`` by :func:`fold`; ExplorerError if none."""
    wanted = fold(name)
    found = [c for c in columns if fold(c) == wanted]
    if not found:
        raise ExplorerError(f"candidate {name!r} is not in the baseline election")
    return found[0]


def _logit(p):
    return np.log(p) - np.log1p(-p)


def _expit(x):
    return 1.0 / (1.0 + np.exp(-x))


def _share(a, b):
    """Smoothed two-way share of ``a`` (add half a vote each), safe for empty precincts."""
    return (np.asarray(a, float) + 0.5) / (np.asarray(a, float) + np.asarray(b, float) + 1.0)


@dataclass
class Projection:
    """A projected final margin (``(a - b) / (a + b)`` of the two leading candidates) with
    its interval, the naive margin of the votes counted so far, and how it was made."""

    margin: float
    low: float
    high: float
    naive: float
    level: float
    complete: int
    precincts: int
    method: str

    @property
    def finite(self) -> bool:
        """Whether the margin and its interval are all finite numbers (a projection that
        is not is never shown: see :func:`gate`)."""
        return bool(np.isfinite([self.margin, self.low, self.high, self.naive]).all())

    def describe(self, first: str, second: str) -> str:
        def pts(x):
            return f"{first} {x * 100:+.1f}" if x >= 0 else f"{second} {-x * 100:+.1f}"

        return (
            f"ESTIMATE (not a count): projected final margin {pts(self.margin)} pts, "
            f"{self.level:.0%} interval {self.low * 100:+.1f} to {self.high * 100:+.1f} pts "
            f"({first} minus {second}), from {self.complete} of {self.precincts} map areas "
            f"complete ({self.method}). The count so far: {pts(self.naive)} pts. The "
            "interval assumes the precincts in so far are like those still out; in backtests "
            "it ran too narrow when precincts reported in geographic clusters."
        )


def count_frame(a_votes, b_votes, complete, early_a=None, early_b=None, index=None) -> pd.DataFrame:
    """The partial count the model reads: per precinct the two candidates' votes counted so
    far (``a``, ``b``), whether the precinct is ``complete``, and optionally the early-batch
    votes (``early_a``, ``early_b``: NaN where the early batch is not counted)."""
    frame = pd.DataFrame(
        {"a": np.asarray(a_votes, float), "b": np.asarray(b_votes, float)}, index=index
    )
    frame["complete"] = np.asarray(complete, bool)
    if early_a is not None:
        frame["early_a"] = np.asarray(early_a, float)
        frame["early_b"] = np.asarray(early_b, float)
    return frame


def project(
    count: pd.DataFrame,
    baseline: pd.DataFrame | None = None,
    *,
    draws: int = 300,
    level: float = 0.9,
    seed: int = 0,
) -> Projection | None:
    """Project the final two-way margin from a partial ``count`` (see :func:`count_frame`).

    ``baseline`` is indexed by precinct with ``a``, ``b`` (the same two candidates in an
    earlier round) and ``total`` (its ballots). Returns None when fewer than
    ``MIN_COMPLETE`` precincts are complete (there is nothing to learn the shifts from).
    """
    a, b = count["a"].to_numpy(float), count["b"].to_numpy(float)
    done = count["complete"].to_numpy(bool)
    naive = (a.sum() - b.sum()) / max(a.sum() + b.sum(), 1.0)
    if done.sum() < MIN_COMPLETE or done.all():
        if done.all():
            return Projection(
                naive, naive, naive, naive, level, int(done.sum()), len(done), "count"
            )
        return None
    rng = np.random.default_rng(seed)
    out = ~done
    has_early = "early_a" in count and count["early_a"].notna().to_numpy()
    early_mode = out & has_early if isinstance(has_early, np.ndarray) else np.zeros_like(out)
    base_mode = out & ~early_mode
    if base_mode.any() and baseline is not None:
        base = baseline.reindex(count.index)
        base_a = base["a"].to_numpy(float)
        base_b = base["b"].to_numpy(float)
        base_t = base["total"].to_numpy(float)
        known = ~np.isnan(base_t)
    else:
        base_a = base_b = base_t = np.full(len(count), np.nan)
        known = np.zeros(len(count), bool)

    complete = np.flatnonzero(done)
    picks = rng.integers(0, len(complete), size=(draws, len(complete)))
    picks = np.vstack([np.arange(len(complete))[None, :], picks])  # draw 0: the point estimate
    idx = complete[picks]  # (draws+1, n_complete)

    two = a + b
    rem_a = np.zeros((draws + 1, len(count)))
    rem_b = np.zeros((draws + 1, len(count)))
    methods = []

    if early_mode.any():
        ea, eb = count["early_a"].to_numpy(float), count["early_b"].to_numpy(float)
        # a complete precinct without an early batch teaches nothing about late-to-early
        # ratios: it counts as zero early and zero late ballots (NaN would poison the sums)
        lacks = np.isnan(ea) | np.isnan(eb)
        late_a = np.where(lacks, 0.0, a - ea)
        late_b = np.where(lacks, 0.0, b - eb)
        ea, eb = np.where(lacks, 0.0, ea), np.where(lacks, 0.0, eb)
        # each candidate's late ballots per early ballot, pooled over complete precincts;
        # a precinct still out keeps one complete precinct's deviation from the pooled
        # ratios (both candidates from the same precinct)
        rho_a = late_a[idx].sum(1) / np.maximum(ea[idx].sum(1), 1.0)
        rho_b = late_b[idx].sum(1) / np.maximum(eb[idx].sum(1), 1.0)
        dev_a = (late_a[idx] + 0.5) / (ea[idx] + 0.5) - rho_a[:, None]
        dev_b = (late_b[idx] + 0.5) / (eb[idx] + 0.5) - rho_b[:, None]
        weight = ea[idx] + eb[idx]
        targets = np.flatnonzero(early_mode)
        which = np.stack(
            [
                rng.choice(len(complete), len(targets), p=row / row.sum())
                if row.sum() > 0
                else rng.integers(0, len(complete), len(targets))
                for row in weight
            ]
        )  # precincts weighted by their early ballots: tiny precincts' ratios are noise
        noise_a = np.take_along_axis(dev_a, which, 1)
        noise_b = np.take_along_axis(dev_b, which, 1)
        noise_a[0] = noise_b[0] = 0.0
        rem_a[:, targets] = np.maximum(rho_a[:, None] + noise_a, 0) * ea[targets][None, :]
        rem_b[:, targets] = np.maximum(rho_b[:, None] + noise_b, 0) * eb[targets][None, :]
        methods.append("late ballots from the early batch: each candidate's late-to-early ratio")

    if base_mode.any():
        usable = complete[known[complete]]
        targets = np.flatnonzero(base_mode & known)
        if len(usable) >= MIN_COMPLETE and len(targets):
            upicks = usable[rng.integers(0, len(usable), size=(draws + 1, len(usable)))]
            upicks[0] = usable
            x = _share(base_a, base_b)
            y = _share(a, b)
            w = two[upicks]
            wsum = np.maximum(w.sum(1), 1.0)
            xm = (x[upicks] * w).sum(1) / wsum
            ym = (a[upicks].sum(1)) / wsum  # the vote-weighted share of the complete precincts
            dx = x[upicks] - xm[:, None]
            var = (dx**2 * w).sum(1) / wsum
            cov = (dx * (y[upicks] - ym[:, None]) * w).sum(1) / wsum
            n = len(usable)
            beta = np.where(var > 0, cov / np.where(var > 0, var, 1.0), 1.0)
            beta = (n * beta + SLOPE_PRIOR * 1.0) / (n + SLOPE_PRIOR)  # shrunk towards 1
            fitted = ym[:, None] + beta[:, None] * dx
            # turnout: the ratio of votes now to ballots then, also fitted on the baseline
            # share (where one side mobilised more since the earlier round)
            bt = base_t[upicks]
            btsum = np.maximum(bt.sum(1), 1.0)
            turnout = two[upicks].sum(1) / btsum
            xt = (x[upicks] * bt).sum(1) / btsum
            ratio = two[upicks] / np.maximum(bt, 1.0)
            dxt = x[upicks] - xt[:, None]
            vart = (dxt**2 * bt).sum(1) / btsum
            covt = (dxt * (ratio - turnout[:, None]) * bt).sum(1) / btsum
            tau = np.where(vart > 0, covt / np.where(vart > 0, vart, 1.0), 0.0)
            tau = n * tau / (n + SLOPE_PRIOR)  # shrunk towards a uniform ratio
            resid = y[upicks] - fitted
            # each precinct still out takes one complete precinct's residuals, share and
            # turnout together (a precinct that votes more differently votes differently)
            ratio_resid = ratio - turnout[:, None] - tau[:, None] * dxt
            which = rng.integers(0, resid.shape[1], (draws + 1, len(targets)))
            noise = np.take_along_axis(resid, which, 1)
            turnout_noise = np.take_along_axis(ratio_resid, which, 1)
            noise[0] = 0.0
            turnout_noise[0] = 0.0
            share = np.clip(
                ym[:, None] + beta[:, None] * (x[targets][None, :] - xm[:, None]) + noise, 0, 1
            )
            fitted_ratio = turnout[:, None] + tau[:, None] * (x[targets][None, :] - xt[:, None])
            expected = np.maximum(fitted_ratio + turnout_noise, 0) * base_t[targets][None, :]
            votes = np.maximum(expected - two[targets], 0.0)
            rem_a[:, targets] = votes * share
            rem_b[:, targets] = votes * (1 - share)
            methods.append("precincts still out from the earlier round: turnout ratio and swing")
        lacking = np.flatnonzero(base_mode & ~known) if len(usable) >= MIN_COMPLETE else []
        if len(lacking) or len(usable) < MIN_COMPLETE:
            lacking = np.flatnonzero(base_mode) if len(usable) < MIN_COMPLETE else lacking
            mean_two = two[idx].mean(1)
            pooled = a[idx].sum(1) / np.maximum(two[idx].sum(1), 1.0)
            votes = np.maximum(mean_two[:, None] - two[lacking][None, :], 0.0)
            rem_a[:, lacking] = votes * pooled[:, None]
            rem_b[:, lacking] = votes * (1 - pooled[:, None])
            methods.append(f"{len(lacking)} precinct(s) without a baseline at the district mean")

    final_a = a.sum() + rem_a.sum(1)
    final_b = b.sum() + rem_b.sum(1)
    margins = (final_a - final_b) / np.maximum(final_a + final_b, 1.0)
    tail = (1 - level) / 2
    low, high = np.quantile(margins[1:], [tail, 1 - tail])
    point = float(margins[0])  # the fit itself; the draws give the interval
    return Projection(
        point,
        float(min(low, point)),
        float(max(high, point)),
        float(naive),
        level,
        int(done.sum()),
        len(done),
        "; ".join(methods),
    )


# --------------------------------------------------------------------------- backtest


@dataclass
class Race:
    """A real final count for a backtest: per precinct the two candidates' final votes,
    optionally their early-batch (mail) votes, centroids for geographic orders, and the
    earlier round as a baseline."""

    name: str
    final: pd.DataFrame  # a, b (final), optional early_a, early_b
    baseline: pd.DataFrame | None
    xy: np.ndarray | None = None  # precinct centroids in metres (NaN where no geometry)
    early_note: str = ""


def _order(race: Race, scenario: str, rng) -> np.ndarray:
    n = len(race.final)
    if scenario in ("random", "mail first"):
        return rng.permutation(n)
    if scenario == "clusters":
        xy = race.xy
        located = ~np.isnan(xy[:, 0])
        seeds = rng.choice(np.flatnonzero(located), size=2, replace=False)
        d = np.min(
            np.hypot(xy[:, None, 0] - xy[None, seeds, 0], xy[:, None, 1] - xy[None, seeds, 1]),
            axis=1,
        )
        d[~located] = np.inf
        ties = rng.random(n)
        return np.lexsort((ties, d))
    raise ExplorerError(f"unknown reporting order {scenario!r}")


def simulate(race: Race, scenario: str, fraction: float, rng) -> pd.DataFrame:
    """The partial count when ``fraction`` of precincts are complete in the given order;
    under ``mail first`` the early batch is counted in every precinct beforehand."""
    final = race.final
    n = len(final)
    order = _order(race, scenario, rng)
    complete = np.zeros(n, bool)
    complete[order[: round(fraction * n)]] = True
    a, b = final["a"].to_numpy(float), final["b"].to_numpy(float)
    if scenario == "mail first":
        ea, eb = final["early_a"].to_numpy(float), final["early_b"].to_numpy(float)
        return count_frame(
            np.where(complete, a, ea), np.where(complete, b, eb), complete, ea, eb, final.index
        )
    return count_frame(
        np.where(complete, a, 0), np.where(complete, b, 0), complete, index=final.index
    )


def backtest(
    race: Race,
    scenarios=("random", "clusters", "mail first"),
    levels=LEVELS,
    runs: int = 100,
    draws: int = 200,
    level: float = 0.9,
    seed: int = 1,
) -> pd.DataFrame:
    """Replay ``race`` ``runs`` times per scenario and reporting level; score the naive
    count and the projection against the final margin. Columns (margins in percentage
    points): ``naive_mae``, ``projection_mae``, ``coverage`` (share of runs whose interval
    holds the final margin), ``width`` (mean interval width), ``projected`` (runs with a
    projection) and ``better`` (projection error below the naive count's)."""
    final = race.final
    truth = (final["a"].sum() - final["b"].sum()) / (final["a"].sum() + final["b"].sum())
    rows = []
    rng = np.random.default_rng(seed)
    for scenario in scenarios:
        if scenario == "mail first" and "early_a" not in final:
            continue
        if scenario == "clusters" and race.xy is None:
            continue
        for fraction in levels:
            naive, err, cover, width = [], [], [], []
            for run in range(runs):
                count = simulate(race, scenario, fraction, rng)
                p = project(count, race.baseline, draws=draws, level=level, seed=run)
                counted = count["a"].sum() + count["b"].sum()
                naive_margin = (count["a"].sum() - count["b"].sum()) / max(counted, 1.0)
                naive.append(abs(naive_margin - truth))
                if p is not None:
                    err.append(abs(p.margin - truth))
                    cover.append(p.low <= truth <= p.high)
                    width.append(p.high - p.low)
            rows.append(
                {
                    "race": race.name,
                    "order": scenario,
                    "reporting": fraction,
                    "runs": runs,
                    "naive_mae": 100 * float(np.mean(naive)),
                    "projection_mae": 100 * float(np.mean(err)) if err else np.nan,
                    "coverage": float(np.mean(cover)) if cover else np.nan,
                    "width": 100 * float(np.mean(width)) if width else np.nan,
                    "projected": len(err),
                }
            )
    table = pd.DataFrame(rows)
    table["better"] = table["projection_mae"] < table["naive_mae"]
    return table


def gate(
    result: Projection | None, table: pd.DataFrame, fraction: float, first: str, second: str
) -> str:
    """The one line election night shows for a projection (``project`` and ``watch`` both
    use this): the labelled estimate, or why there is none -- too few precincts complete,
    a non-finite result (never printed as a number), or a reporting level where the
    backtest ``table`` does not show the projection beating the count so far."""
    if fraction == 1.0:
        return "The count is complete in every precinct: nothing to project."
    if result is None:
        return "No projection: too few precincts are complete to learn from."
    if not result.finite:
        return (
            "No projection: the model gave no finite estimate from the precincts complete "
            "so far (e.g. their early and late batches cannot be compared)."
        )
    if not worth_showing(table, fraction):
        return (
            f"No projection: at {fraction:.0%} of map areas complete the backtest does not "
            "show the projection beating the count so far in every race and reporting order."
        )
    return result.describe(first, second)


def worth_showing(table: pd.DataFrame, fraction: float) -> bool:
    """Whether the backtest supports showing a projection at ``fraction`` of precincts
    reporting: at the nearest backtested level, in every race and order, the projection's
    mean error beats the naive count's."""
    levels = np.array(sorted(table["reporting"].unique()))
    nearest = levels[np.argmin(np.abs(levels - fraction))]
    rows = table[table["reporting"] == nearest]
    return bool(len(rows)) and bool(rows["better"].all())


# --------------------------------------------------------------------------- real races


def method_table(returns: pd.DataFrame, candidates: list[str], method: str):
    """Per precinct, each of ``candidates``' votes of one vote method (e.g. ``mail``), NaN
    where that method is not counted yet, from returns read by
    :func:`explorer.live.read_returns` (their ``attrs["method_votes"]``: the repaired rows,
    so vote-method rows are folded and precinct IDs are those of the returns). None when
    the returns have no such method column."""
    rows = returns.attrs.get("method_votes")
    if rows is None or method not in rows.columns:
        return None
    wide = rows.groupby(["precinct", "candidate"], sort=False)[method].sum(min_count=1)
    wide = wide.unstack("candidate")
    return wide[[pick(wide.columns, c) for c in candidates]].set_axis(candidates, axis=1)


def method_votes(path, office: str | None, candidates: list[str], method: str) -> pd.DataFrame:
    """Per precinct, each candidate's votes of one vote method (e.g. ``mail``) from an
    OpenElections CSV with vote-method columns, read with the same repairs as its returns
    (:func:`method_table`); ExplorerError when the file has no such column."""
    from pathlib import Path

    from explorer import live

    path = Path(path)
    table = method_table(live.read_returns(path, office=office), candidates, method)
    if table is None:
        raise ExplorerError(f"no {method!r} column for the early batch", source=path)
    return table


def race(
    final,
    baseline=None,
    *,
    early: str | dict | None = None,
    seed: int = 0,
) -> Race:
    """A :class:`Race` from two :class:`explorer.Election` objects (the final count and
    its earlier round). ``early`` is a vote-method column of the final file (e.g.
    ``"mail"``: the real early batch), or ``{candidate: share}`` to simulate one by
    thinning each candidate's precinct votes at that rate (seeded)."""
    a, b = final.candidates[:2]
    votes = final.wide[[a, b]].astype(float)
    frame = pd.DataFrame({"a": votes[a], "b": votes[b]})
    note = ""
    if isinstance(early, str):
        mail = method_table(final.returns, [a, b], early)
        if mail is None:
            path = final._path(final.spec.returns)
            raise ExplorerError(f"no {early!r} column for the early batch", source=path)
        mail = mail.reindex(frame.index).fillna(0)
        frame["early_a"], frame["early_b"] = mail[a].to_numpy(), mail[b].to_numpy()
        note = f"real {early} batch"
    elif isinstance(early, dict):
        rng = np.random.default_rng(seed)
        frame["early_a"] = rng.binomial(frame["a"].astype(int), early[a]).astype(float)
        frame["early_b"] = rng.binomial(frame["b"].astype(int), early[b]).astype(float)
        note = "simulated early batch: " + ", ".join(f"{k} {v:.1%}" for k, v in early.items())
    base = baseline_table(baseline, [a, b]) if baseline is not None else None
    xy = None
    features = final.precincts.set_index("precinct").reindex(frame.index)
    if features.geometry.notna().any():
        from explorer.crs import to_equal_area

        mapped = features[features.geometry.notna() & ~features.geometry.is_empty]
        centres = to_equal_area(mapped.reset_index()).geometry.centroid
        xy = np.full((len(frame), 2), np.nan)
        where = frame.index.get_indexer(mapped.index)
        xy[where, 0], xy[where, 1] = centres.x.to_numpy(), centres.y.to_numpy()
    return Race(final.name, frame, base, xy, note)


#: The real races the projection is backtested on: (final, earlier round, early batch).
#: CA-34's file has no vote-method split, so its early batch is simulated by thinning each
#: candidate's precinct votes at the rate that reproduces the first count reported on
#: election night (Gomez 10,248, Ahn 9,385; final 25,569 and 17,610).
REFERENCE_RACES = (
    (
        "ca34-2017-general",
        "ca34-2017-primary",
        {"Jimmy Gomez": 10_248 / 25_569, "Robert Lee Ahn": 9_385 / 17_610},
    ),
    ("ad51-2017-general", "ad51-2017-primary", "mail"),
)


def reference_backtest(runs: int = 100, seed: int = 1, **options) -> pd.DataFrame:
    """The backtest on :data:`REFERENCE_RACES` (catalog elections), one table."""
    from explorer.elections import load_election

    tables = []
    for final, earlier, early in REFERENCE_RACES:
        real = race(load_election(final), load_election(earlier), early=early, seed=seed)
        tables.append(backtest(real, runs=runs, seed=seed, **options))
    return pd.concat(tables, ignore_index=True)


def partial_count(features: pd.DataFrame, candidates: list[str], early: pd.DataFrame | None):
    """The :func:`count_frame` of joined election-night precincts (``status`` column from
    :mod:`explorer.live`); ``early`` holds the early-batch votes of ``candidates`` by
    result precinct (NaN where not counted), when the snapshot splits vote methods. Its
    IDs are matched to the joined precincts as the join matched the returns (restored
    leading zeros, sub-precincts summed into their polygon: ``attrs["renamed"]``; pooled
    units' ``results``); a precinct whose early batch is not counted in every part is NaN."""
    a, b = candidates[:2]
    frame = features.set_index("precinct")
    status = frame.get("status", pd.Series("reported", index=frame.index))
    args = [frame[a], frame[b], (status == "reported").to_numpy()]
    if early is not None:
        early = _to_features(early, features)
        args += [early[a].to_numpy(), early[b].to_numpy()]
    return count_frame(*args, index=frame.index)


def _to_features(early: pd.DataFrame, features: pd.DataFrame) -> pd.DataFrame:
    """Result-precinct rows summed onto the joined precincts (NaN if any part is NaN)."""
    from explorer.live import joined_ids

    ids = joined_ids(early.index, features.attrs.get("renamed"))
    if "results" in features:  # pooled units: each member result precinct -> its unit
        members = features["results"].astype(str).str.split(",")
        unit = {m: p for p, ms in zip(features["precinct"], members) for m in ms}
        ids = pd.Index([unit.get(p, p) for p in ids])
    grouped = early.set_axis(ids).groupby(level=0, sort=False)
    summed = grouped.sum(min_count=1).where(~early.isna().set_axis(ids).groupby(level=0).any())
    return summed.reindex(features["precinct"].to_numpy())


def early_votes(path, office: str | None, candidates: list[str], method: str = "mail"):
    """Per precinct, the candidates' votes of the early method (``mail``) in a snapshot,
    NaN where that method is not counted yet; None when the file has no such column. The
    file is read as its returns are (:func:`method_table`)."""
    from pathlib import Path

    from explorer import live

    path = Path(path)
    if path.suffix.lower() not in (".csv", ".txt"):
        return None
    return method_table(live.read_returns(path, office=office), candidates, method)


def estimate_line(current, table: pd.DataFrame, earlier=None) -> str:
    """One line for an election-night snapshot (an :class:`explorer.Election` whose returns
    carry the reporting state): the labelled projection of the final margin between its two
    leading candidates, or why there is none (too few precincts complete; the backtest
    ``table``, :func:`reference_backtest`, does not support it). ``earlier`` is the same
    race's earlier round, whose precinct results make the baseline."""
    candidates = current.candidates[:2]
    base = baseline_table(earlier, candidates) if earlier else None
    early = method_table(current.returns, candidates, "mail")
    count = partial_count(current.precincts, candidates, early)
    fraction = float(count["complete"].mean())
    result = project(count, base) if fraction < 1.0 else None
    return gate(result, table, fraction, *candidates)


def baseline_table(earlier, candidates: list[str]) -> pd.DataFrame:
    """The earlier round by precinct: the two candidates' votes and all ballots."""
    wide = earlier.wide
    a, b = pick(wide.columns, candidates[0]), pick(wide.columns, candidates[1])
    return pd.DataFrame({"a": wide[a], "b": wide[b], "total": wide["total"]}).astype(float)
