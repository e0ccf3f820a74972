"""The election-night projection: its backtest on real races, its guard rails, its label."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_live import night_snapshots

from explorer import projection
from explorer.cli import main


@pytest.fixture(scope="module")
def backtest():
    return projection.reference_backtest(runs=30, draws=150)


def test_backtest_covers_both_races_orders_and_levels(backtest):
    cells = backtest.groupby(["race", "order"]).size()
    assert len(cells) == 6 and (cells == 4).all()
    assert set(backtest["reporting"]) == set(projection.LEVELS)
    assert (backtest["projected"] == 30).all()


def test_projection_beats_the_naive_count_early_in_the_night(backtest):
    early = backtest[backtest["reporting"] == 0.10]
    assert early["better"].all()
    mail = backtest[(backtest["order"] == "mail first") & (backtest["race"] == "ad51-2017-general")]
    # the real AD-51 mail/election-day split: projection error at most half the count's
    assert (mail["projection_mae"] < 0.6 * mail["naive_mae"]).all()
    assert projection.worth_showing(backtest, 0.11)


def test_interval_coverage_on_real_mail_first_order(backtest):
    mail = backtest[(backtest["order"] == "mail first") & (backtest["race"] == "ad51-2017-general")]
    assert (mail["coverage"] >= 0.7).all()


def test_no_projection_from_too_few_precincts_and_the_count_when_complete():
    a = np.array([10, 20, 30, 40, 50, 60], float)
    b = a[::-1].copy()
    few = projection.count_frame(a, b, [True, True, False, False, False, False])
    assert projection.project(few) is None
    whole = projection.project(projection.count_frame(a, b, [True] * 6))
    assert whole.margin == whole.low == whole.high == whole.naive == 0.0


def test_worth_showing_refuses_where_the_backtest_loses():
    table = pd.DataFrame({"reporting": [0.1, 0.1, 0.75], "better": [True, True, False]})
    assert projection.worth_showing(table, 0.12)
    assert not projection.worth_showing(table, 0.8)


def test_project_command_labels_an_estimate(general, tmp_path, capsys):
    snapshots = night_snapshots(general, tmp_path)
    assert (
        main(["project", str(snapshots[1]), "--baseline", "ca34-2017-primary", "--runs", "5"]) == 0
    )
    out = capsys.readouterr().out
    assert "21 of 195 precincts reporting" in out
    assert "ESTIMATE (not a count): projected final margin Jimmy Gomez" in out
    assert main(["project", str(snapshots[0]), "--runs", "5"]) == 0
    assert "No projection: too few precincts are complete" in capsys.readouterr().out


def test_a_non_finite_projection_is_never_shown():
    # complete precincts without an early batch (NaN) beside ones with it: the model
    # learns from the latter only, and whatever it returns the gate never prints "nan"
    a = np.array([60, 50, 40, 70, 30, 55, 45, 20, 25, 30], float)
    b = np.array([40, 45, 50, 20, 35, 40, 30, 15, 20, 25], float)
    done = [True] * 7 + [False] * 3
    early_a = [np.nan, np.nan, 20, 30, 10, 25, 20, 20, 25, 30]
    early_b = [np.nan, np.nan, 25, 10, 15, 20, 15, 15, 20, 25]
    result = projection.project(projection.count_frame(a, b, done, early_a, early_b))
    assert result is not None and result.finite
    table = pd.DataFrame({"reporting": [0.7], "better": [True]})
    broken = projection.Projection(np.nan, np.nan, np.nan, 0.1, 0.9, 7, 10, "test")
    line = projection.gate(broken, table, 0.7, "A", "B")
    assert line.startswith("No projection") and "nan" not in line
    assert projection.gate(result, table, 0.7, "A", "B").startswith("ESTIMATE")


# ------------------------------------------------------- the early batch: the repaired rows

# a county night export in the OpenElections shape with vote-method columns, where the
# county also writes the mail batch of some precincts as rows of their own ('X - Mail')
DELCO_NIGHT = """county,precinct,office,district,party,candidate,votes,election_day,mail
Delaware,ALDAN Eastern,Mayor,,DEM,Ava Quinn,150,150,
Delaware,ALDAN Eastern,Mayor,,REP,Eli Stone,210,210,
Delaware,ALDAN Eastern - Mail,Mayor,,DEM,Ava Quinn,410,,410
Delaware,ALDAN Eastern - Mail,Mayor,,REP,Eli Stone,90,,90
Delaware,ALDAN Western,Mayor,,DEM,Ava Quinn,300,120,180
Delaware,ALDAN Western,Mayor,,REP,Eli Stone,260,200,60
Delaware,ALDAN Western,Mayor,,,Total Votes,560,320,240
Delaware,ASTON 1-1,Mayor,,DEM,Ava Quinn,75,,75
Delaware,ASTON 1-1,Mayor,,REP,Eli Stone,40,,40
"""


def test_the_early_batch_folds_vote_method_rows_like_the_returns(tmp_path):
    """'X - Mail' rows are the mail batch of precinct X (as in its returns), not a precinct
    of their own; a blank mail cell is a batch not counted yet (NaN), not an error."""
    path = tmp_path / "delco-night.csv"
    path.write_text(DELCO_NIGHT)
    names = ["Ava Quinn", "Eli Stone"]
    mail = projection.method_votes(path, None, names, "mail")
    assert mail.to_dict("index") == {
        "ALDAN EASTERN": {"Ava Quinn": 410.0, "Eli Stone": 90.0},
        "ALDAN WESTERN": {"Ava Quinn": 180.0, "Eli Stone": 60.0},
        "ASTON 1-1": {"Ava Quinn": 75.0, "Eli Stone": 40.0},
    }
    early = projection.early_votes(path, None, names)
    pd.testing.assert_frame_equal(early, mail)
    day = projection.method_votes(path, None, names, "election_day")
    assert day.loc["ALDAN EASTERN"].tolist() == [150.0, 210.0]
    assert day.loc["ASTON 1-1"].isna().all()  # election day not counted there yet


def _night_with_padded_layer(tmp_path):
    """Twelve precincts whose returns write '101' where the precinct layer writes
    'Pct 0101': mail counted everywhere, election day in eight of them."""
    from test_live import grid_layer

    rows = ["county,precinct,office,district,party,candidate,votes,election_day,mail"]
    rng = np.random.default_rng(7)
    for i in range(12):
        for name in ("Ava Quinn", "Eli Stone"):
            mail = int(rng.integers(40, 120))
            day = int(rng.integers(60, 200)) if i < 8 else None
            votes = mail + (day or 0)
            rows.append(f"Chenango,{101 + i},Mayor,,,{name},{votes},{day or ''},{mail}")
    returns = tmp_path / "night.csv"
    returns.write_text("\n".join(rows) + "\n")
    layer = grid_layer([f"Pct {101 + i:04d}" for i in range(12)], tmp_path / "layer.geojson")
    from explorer import Election

    return Election.from_files(returns=returns, precincts=layer, precinct_id="name"), returns


def test_the_early_batch_reaches_precincts_matched_across_id_spellings(tmp_path):
    """The join matches '101' to the layer's 'PCT 0101'; the early batch follows it, so
    the precincts still out are projected from their mail votes."""
    current, returns = _night_with_padded_layer(tmp_path)
    names = current.candidates[:2]
    features = current.precincts
    assert set(features["precinct"]) == {f"PCT {101 + i:04d}" for i in range(12)}
    early = projection.early_votes(returns, None, names)
    count = projection.partial_count(features, names, early)
    assert count["early_a"].notna().all() and count["early_b"].notna().all()
    assert count["complete"].sum() == 8
    assert count["early_a"].sum() == early[names[0]].sum()
    result = projection.project(count)
    assert result is not None and "late ballots from the early batch" in result.method
    assert "without a baseline" not in result.method
