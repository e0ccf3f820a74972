"""Ranking and questions on the real runoff and primary.

The table-driven tests give each phrasing its expected intent and entities; the expected
numbers are computed here from ``rank``, the area table and the returns (``info``'s
summary), never written down.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import explorer
import explorer.ei
from explorer.ask import Answer, find_candidate, find_place, rank
from explorer.cli import main
from explorer.errors import ExplorerError

GENERAL, PRIMARY = "ca34-2017-general", "ca34-2017-primary"
GOMEZ, AHN, CABILDO = "Jimmy Gomez", "Robert Lee Ahn", "Maria Cabildo"
QUESTIONS = Path(__file__).resolve().parents[1] / ".." / "shared" / "questions" / "README.md"


# --- names ----------------------------------------------------------------------------------


def test_candidate_by_any_unambiguous_part_case_and_typos():
    names = [GOMEZ, AHN]
    assert find_candidate("Ahn", names) == AHN
    assert find_candidate("gomez", names) == GOMEZ
    assert find_candidate("Gomes", names) == GOMEZ
    assert find_candidate("jimmy gomze", names) == GOMEZ
    with pytest.raises(ExplorerError, match="candidates: Jimmy Gomez, Robert Lee Ahn"):
        find_candidate("Smith", names)
    with pytest.raises(ExplorerError, match="matches 2 candidates"):
        find_candidate("e", names)


def test_place_by_alias_abbreviation_and_typo():
    places = pd.Series(["Koreatown", "Lincoln Heights", "Mount Washington", "Downtown", "Westlake",
                        "Westlake Village", "Silver Lake", "Echo Park"])  # fmt: skip
    for typed, expected in [
        ("K-town", "Koreatown"),
        ("lincoln hts", "Lincoln Heights"),
        ("Mt. Washington", "Mount Washington"),
        ("DTLA", "Downtown"),
        ("downtown LA", "Downtown"),
        ("westlake", "Westlake"),
        ("Silverlake", "Silver Lake"),
        ("Echo Pk", "Echo Park"),
        ("Koreatwn", "Koreatown"),
    ]:
        assert places[find_place(typed, places)] == expected, typed
    with pytest.raises(ExplorerError, match="no single place"):
        find_place("Boston", places)


# --- rank -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def areas(general, primary):
    return {GENERAL: general.areas(), PRIMARY: primary.areas()}


def test_rank_margin_is_the_candidates_share_minus_the_strongest_rivals(areas, primary):
    table = areas[PRIMARY]
    ranked, _ = rank(table, AHN)
    others = [c for c in primary.candidates if c != AHN]
    shares = table.set_index("name")[primary.candidates].div(
        table.set_index("name")["total"], axis=0
    )
    expected = shares[AHN] - shares[others].max(axis=1)
    assert np.allclose(ranked["margin"], expected.loc[ranked.index])
    leads = ranked["winner"] == AHN
    assert (ranked.loc[leads, "margin"] > 0).all() and (ranked.loc[~leads, "margin"] < 0).all()
    assert leads.any() and (~leads).any()  # not always one sign, as Gomez minus Ahn was
    assert set(ranked.loc[leads, "rival"]) <= set(others)


def test_rank_ahn_by_neighbourhood(capsys):
    assert main(["rank", GENERAL, "--candidate", "Ahn", "--by", "neighbourhood"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert "margin = Robert Lee Ahn's share minus the strongest other candidate's" in lines[0]
    assert "margin pts v rival" in lines[1]
    first = next(line for line in lines if line.startswith("Koreatown"))
    # Koreatown (5,858 votes) ranks first for Ahn; the 334-vote sliver of Arlington Heights
    # (31% of its area covered by the district's precincts) is listed apart, not ranked
    assert first.split()[1] == "1"
    assert "Too few votes to call" in out and "Methods:" in out
    apart = next(line for line in lines if line.startswith("Too little of the area covered"))
    assert "under 50% of its area" in apart and "Arlington Heights (31% covered, 334" in apart
    assert not any(line.startswith("Arlington Heights") for line in lines)
    assert "rest on inferred geography" in out


def test_min_coverage_is_an_option_and_zero_ranks_every_area_with_votes(capsys):
    args = ["rank", GENERAL, "--candidate", "Ahn", "--format", "csv", "--min-coverage"]
    assert main([*args, "0"]) == 0
    rows = pd.read_csv(io.StringIO(capsys.readouterr().out), index_col="name")
    assert rows.loc["Arlington Heights", "status"] == "ranked"
    assert main([*args, "1.5"]) == 2
    assert "--min-coverage" in capsys.readouterr().err


def test_two_candidate_ranges_mirror_each_other():
    runoff = explorer.load_election(GENERAL)
    ahn, _ = runoff.rank("Ahn", min_coverage=0)
    gomez, _ = runoff.rank("Gomez", min_coverage=0)
    both = ahn.join(gomez[["share_low", "share_high"]].add_suffix("_gomez"))
    assert len(both) >= 18 and both["share_low"].notna().all()
    # every draw moves both candidates' votes together, so Ahn's range is 1 - Gomez's
    assert (both["share_low"] - (1 - both["share_high_gomez"])).abs().max() < 1e-9
    assert (both["share_high"] - (1 - both["share_low_gomez"])).abs().max() < 1e-9


def test_rank_json_output_to_file(tmp_path, capsys):
    out = tmp_path / "rank.json"
    args = ["rank", GENERAL, "--candidate", "Gomez", "--format", "json", "--out", str(out)]
    assert main(args) == 0
    data = json.loads(out.read_text())
    assert data["candidate"] == GOMEZ
    assert "strongest other candidate" in data["margin"]
    shares = [row["share"] for row in data["rows"]]
    assert shares == sorted(shares, reverse=True)
    assert all(row["total"] >= 100 for row in data["rows"])
    assert all(row["rival"] == AHN for row in data["rows"])
    assert data["ledger"]["votes"] == 43179


def test_rank_with_population_weights(capsys):
    assert main(["rank", GENERAL, "--candidate", "Ahn", "--weights", "tract-centres-2020"]) == 0
    out = capsys.readouterr().out
    assert "dasymetric" in out and "point weights" in out
    assert any(line.startswith("Koreatown") for line in out.splitlines()[3:5])


def test_rank_with_a_layer_that_is_not_weights(capsys):
    assert main(["rank", GENERAL, "--candidate", "Ahn", "--weights", "la-freeways"]) == 2
    assert "not a weight layer" in capsys.readouterr().err


# --- the expected numbers, from rank / the area table / the returns --------------------------


def share_table(table: pd.DataFrame, candidates: list[str]) -> pd.DataFrame:
    indexed = table.set_index("name")
    return indexed[candidates].div(indexed["total"], axis=0)


def check(answer: Answer, elections: dict, areas: dict, n: int | None = None) -> None:
    """Compare an answer's numbers with the same figures computed from rank and the returns."""
    e = elections[answer.election]
    table = areas[answer.election]
    summary = e.summary().sort_values("votes", ascending=False)  # as `explorer info` shows
    nums, place, c = answer.numbers, answer.place, answer.candidate
    intent = answer.intent
    if intent in ("winner", "yes_no"):
        if place:
            row = table.set_index("name").loc[place, e.candidates].astype(float)
            assert nums["winner"] == row.idxmax()
            assert nums["winner_share"] == pytest.approx(row.max() / row.sum())
            assert nums["total"] == pytest.approx(table.set_index("name").loc[place, "total"])
        else:
            assert nums["winner"] == summary.index[0]
            assert nums["winner_share"] == pytest.approx(summary["share"].iloc[0])
        if intent == "yes_no":
            loss = re.search(r"\blos[et]\b", answer.question.lower()) is not None
            assert nums["answer"] == ((nums["winner"] == c) != loss)
            assert answer.headline.startswith("Yes" if nums["answer"] else "No")
    elif intent in ("result", "share", "votes", "margin"):
        if place:
            ranked, _ = rank(table, c)  # ask agrees with rank for the place
            row = ranked.loc[place]
            for key in ("share", "votes", "total", "margin"):
                assert nums[key] == pytest.approx(row[key]), key
            shares = share_table(table, e.candidates).loc[place]
            assert nums["margin"] == pytest.approx(shares[c] - shares.drop(c).max())
        else:
            assert nums["share"] == pytest.approx(summary.loc[c, "share"])
            assert nums["votes"] == summary.loc[c, "votes"]
            rival = summary["share"].drop(c).max()
            assert nums["margin"] == pytest.approx(summary.loc[c, "share"] - rival)
        assert f"{nums['share'] * 100:.1f}%" in answer.headline
    elif intent in ("best", "worst", "top", "bottom"):
        ranked, _ = rank(table, c)
        order = list(ranked.index) if intent in ("best", "top") else list(ranked.index[::-1])
        k = 1 if intent in ("best", "worst") else min(n or 5, len(ranked))
        assert answer.numbers["places"] == order[:k]
        assert order[0] in answer.headline
    elif intent == "won" and "lost" in nums:
        ranked, _ = rank(table, c)
        assert nums["lost"] == list(ranked.index[(ranked["winner"] != c)])
        assert nums["lost"] and all(p in answer.headline for p in nums["lost"])
    elif intent == "won" and "majority" in answer.headline:
        ranked, _ = rank(table, c)
        assert nums["won"] == list(ranked.index[ranked["share"] > 0.5])
    elif intent == "won" and isinstance(nums["won"], dict):  # areas won, every candidate
        ranked, _ = rank(table, e.candidates[0])
        assert nums["won"] == ranked["winner"].value_counts().to_dict()
    elif intent == "won":
        ranked, _ = rank(table, c)
        assert nums["won"] == list(ranked.index[ranked["winner"] == c])
        assert all(p in answer.headline for p in nums["won"])
    elif intent == "closest":
        shares = share_table(table[table["total"] >= 100], e.candidates)
        top_two = np.sort(shares.to_numpy(), axis=1)[:, -2:]
        gaps = pd.Series(top_two[:, 1] - top_two[:, 0], index=shares.index).sort_values()
        assert list(nums["gaps"]) == list(gaps.index[: len(nums["gaps"])])
        assert np.allclose(list(nums["gaps"].values()), gaps.iloc[: len(nums["gaps"])])
    elif intent == "total" and "totals" in nums:  # areas with the most votes
        totals = table.set_index("name")["total"].sort_values(ascending=False)
        assert list(nums["totals"]) == list(totals.index[: len(nums["totals"])])
    elif intent == "precincts":
        votes = e.wide[e.candidates]  # every result precinct of the returns
        assert nums["precincts"] == len(e.wide)
        units = e.precincts
        unmapped = units.loc[units["match"] == "none", "results"].str.split(",").explode()
        assert nums["without_geometry"] == len(set(unmapped) & set(e.wide.index))
        if c:
            top = votes.max(axis=1)
            sole = (votes.eq(top, axis=0).sum(axis=1) == 1) & (top > 0)
            assert nums["won"] == int((sole & votes[c].eq(top)).sum())
    elif intent == "total":
        if place:
            assert nums["total"] == pytest.approx(table.set_index("name").loc[place, "total"])
        else:
            assert nums["total"] == e.wide["total"].sum() == e.totals.sum()
    elif intent == "compare_places":
        ranked, _ = rank(table, c, min_coverage=0)  # shares of any area, however covered
        for p, share in nums["shares"].items():
            assert share == pytest.approx(ranked.loc[p, "share"])
        best = max(nums["shares"], key=nums["shares"].get)
        if len(nums["shares"]) == 2:
            assert f"stronger in {best}" in answer.headline
        else:  # the other place was refused as too small, and the answer says so
            said = " ".join(answer.details)
            assert best in answer.headline
            assert "too few to call" in said or "essentially outside" in said
    elif intent == "compare_candidates":
        source = table.set_index("name").loc[place] if place else e.wide.sum()
        for name, share in nums["shares"].items():
            assert share == pytest.approx(source[name] / source[e.candidates].sum())
    elif intent == "position":
        k = nums["position"]
        assert summary.index[k - 1] == nums["candidate"] == c
    elif intent == "candidates":
        only = [c for c in e.totals.index if c not in e.candidates]  # in the totals file only
        assert nums["with_returns"] == len(e.candidates)
        assert nums["candidates"] == len(e.candidates) + len(only)
        assert all(name in answer.headline for name in only)
    elif intent == "group_support":  # ecological inference: an interval, never a bare figure
        assert nums["lower"] <= nums["mean"] <= nums["upper"]
        assert "95% credible interval" in answer.headline and answer.caveats
        verdict = "Yes" if nums["lower"] > 0.5 else "No" if nums["upper"] < 0.5 else "Unclear"
        verdict = verdict if nums["converged"] else "Unclear"  # no verdict without convergence
        assert answer.headline.startswith(verdict)
        assert any("Ecological inference" in c for c in answer.caveats)
    elif intent == "swing":
        before, after = areas[PRIMARY].set_index("name"), areas[GENERAL].set_index("name")
        rival = GOMEZ if c == AHN else AHN
        for p, change in nums["changes"].items():
            h2h = [f.loc[p, c] / (f.loc[p, c] + f.loc[p, rival]) for f in (before, after)]
            assert change == pytest.approx(h2h[1] - h2h[0])
        assert all(np.diff(list(nums["changes"].values())) <= 1e-12) or all(
            np.diff(list(nums["changes"].values())) >= -1e-12
        )
    else:
        raise AssertionError(f"no check for {intent}")


@pytest.fixture(scope="module")
def elections(general, primary):
    return {GENERAL: general, PRIMARY: primary}


# (question, intent, candidate, place, election, n): phrasings written for these tests.
PHRASINGS = [
    ("Where did Gomez do best?", "best", GOMEZ, None, GENERAL, None),
    ("ahn's strongest neighbourhood in the primary", "best", AHN, None, PRIMARY, None),
    ("Where was Cabildo strongest in April?", "best", CABILDO, None, PRIMARY, None),
    ("In which area did Ahn have his highest share?", "best", AHN, None, GENERAL, None),
    ("where was gomez weakest in june", "worst", GOMEZ, None, GENERAL, None),
    ("worst neighborhood for Ahn in the primary", "worst", AHN, None, PRIMARY, None),
    ("Where did Robert Ahn struggle?", "worst", AHN, None, GENERAL, None),
    ("top 3 areas for ahn", "top", AHN, None, GENERAL, 3),
    ("Ahn's five best neighbourhoods", "top", AHN, None, GENERAL, 5),
    (
        "List the 7 neighborhoods where Jimmy Gomez was strongest in the runoff",
        "top",
        GOMEZ,
        None,
        GENERAL,
        7,
    ),
    ("bottom five for gomez in the primary", "bottom", GOMEZ, None, PRIMARY, 5),
    ("Gomez's three worst areas", "bottom", GOMEZ, None, GENERAL, 3),
    ("the 4 neighbourhoods where Ahn did worst", "bottom", AHN, None, GENERAL, 4),
    ("where did Ahn win", "won", AHN, None, GENERAL, None),
    ("which neighborhoods backed Ahn in the primary", "won", AHN, None, PRIMARY, None),
    ("What parts of the district went for Gomez?", "won", GOMEZ, None, GENERAL, None),
    ("Which neighbourhoods supported jimmy gomez in April", "won", GOMEZ, None, PRIMARY, None),
    ("who won k-town", "winner", None, "Koreatown", GENERAL, None),
    ("Who won DTLA?", "winner", None, "Downtown", GENERAL, None),
    ("who carried Mt. Washington", "winner", None, "Mount Washington", GENERAL, None),
    ("who won Mt Washington in the primary", "winner", None, "Mount Washington", PRIMARY, None),
    ("Who took Boyle Hts in the April primary?", "winner", None, "Boyle Heights", PRIMARY, None),
    ("winner in Echo Pk", "winner", None, "Echo Park", GENERAL, None),
    ("what was the vote in MacArthur Park", "winner", None, "Westlake", GENERAL, None),
    ("who won", "winner", None, None, GENERAL, None),
    ("Who won the primary?", "winner", None, None, PRIMARY, None),
    ("did gomez win", "yes_no", GOMEZ, None, GENERAL, None),
    ("Did Ahn win the primary?", "yes_no", AHN, None, PRIMARY, None),
    ("did Ahn lose Westlake", "yes_no", AHN, "Westlake", GENERAL, None),
    ("Did Robert Ahn carry Pico Union?", "yes_no", AHN, "Pico-Union", GENERAL, None),
    ("was Gomez ahead in Eagle Rock", "yes_no", GOMEZ, "Eagle Rock", GENERAL, None),
    ("Did Gomez win Koreatown in June?", "yes_no", GOMEZ, "Koreatown", GENERAL, None),
    ("How did Gomz do in Boyle Hts", "result", GOMEZ, "Boyle Heights", GENERAL, None),
    (
        "how did ahn fare in highland park in the primary",
        "result",
        AHN,
        "Highland Park",
        PRIMARY,
        None,
    ),
    ("Gomez in June", "result", GOMEZ, None, GENERAL, None),
    ("Ahn in the primary", "result", AHN, None, PRIMARY, None),
    ("how did Maria Cabildo do in the primary", "result", CABILDO, None, PRIMARY, None),
    ("gomes share in koreatown", "share", GOMEZ, "Koreatown", GENERAL, None),
    ("What percentage did Ahn get in the primary?", "share", AHN, None, PRIMARY, None),
    ("Ahn % in Chinatown", "share", AHN, "Chinatown", GENERAL, None),
    (
        "what share of the vote did Gomez win in Eagle Rock in April",
        "share",
        GOMEZ,
        "Eagle Rock",
        PRIMARY,
        None,
    ),
    ("How many votes did Gomez get?", "votes", GOMEZ, None, GENERAL, None),
    ("number of votes for Ahn in Westlake", "votes", AHN, "Westlake", GENERAL, None),
    (
        "Cabildo's vote total in El Sereno in the primary",
        "votes",
        CABILDO,
        "El Sereno",
        PRIMARY,
        None,
    ),
    ("Ahn margin", "margin", AHN, None, GENERAL, None),
    ("By how much did Gomez win?", "margin", GOMEZ, None, GENERAL, None),
    ("Gomez's lead in Koreatown", "margin", GOMEZ, "Koreatown", GENERAL, None),
    ("ahn's margin in pico-union in the primary", "margin", AHN, "Pico-Union", PRIMARY, None),
    ("How many precincts did Ahn win?", "precincts", AHN, None, GENERAL, None),
    ("number of precincts won by Gomez in the primary", "precincts", GOMEZ, None, PRIMARY, None),
    ("how many precincts were there", "precincts", None, None, GENERAL, None),
    ("how many people voted", "total", None, None, GENERAL, None),
    ("total votes cast in the primary", "total", None, None, PRIMARY, None),
    ("How many people voted in Eagle Rock?", "total", None, "Eagle Rock", GENERAL, None),
    ("turnout in Koreatown", "total", None, "Koreatown", GENERAL, None),
    ("Gomez in Echo Park vs Highland Park", "compare_places", GOMEZ, "Echo Park", GENERAL, None),
    (
        "Did Ahn do better in Koreatown or Westlake in the primary?",
        "compare_places",
        AHN,
        "Koreatown",
        PRIMARY,
        None,
    ),
    (
        "compare Ahn in Boyle Heights and Lincoln Heights",
        "compare_places",
        AHN,
        "Boyle Heights",
        GENERAL,
        None,
    ),
    ("Ahn v Gomez in Koreatown", "compare_candidates", None, "Koreatown", GENERAL, None),
    (
        "did Gomez beat Ahn in Boyle Heights",
        "compare_candidates",
        None,
        "Boyle Heights",
        GENERAL,
        None,
    ),
    ("Cabildo versus Ahn in the primary", "compare_candidates", None, None, PRIMARY, None),
    ("who came in third in the primary", "position", CABILDO, None, PRIMARY, None),
    ("Who finished last in April?", "position", None, None, PRIMARY, None),
    ("who was the runner-up in June", "position", AHN, None, GENERAL, None),
    ("where did ahn finish in the primary", "position", AHN, None, PRIMARY, None),
    ("What place did Cabildo come in the primary?", "position", CABILDO, None, PRIMARY, None),
    ("how many candidates ran in the primary", "candidates", None, None, PRIMARY, None),
    ("How many candidates were on the June ballot?", "candidates", None, None, GENERAL, None),
    (
        "In which neighborhoods did Ahn get more than half the vote?",
        "won",
        AHN,
        None,
        GENERAL,
        None,
    ),
    ("Who won more neighborhoods, Gomez or Ahn?", "won", None, None, GENERAL, None),
    ("How many neighbourhoods did Gomez win in the primary?", "won", GOMEZ, None, PRIMARY, None),
    ("What was the margin in Eagle Rock?", "margin", GOMEZ, "Eagle Rock", GENERAL, None),
    ("What was Gomez's margin of victory?", "margin", GOMEZ, None, GENERAL, None),
    ("Where was the race closest?", "closest", None, None, GENERAL, None),
    ("where was the primary closest", "closest", None, None, PRIMARY, None),
    ("Which neighborhood had the most votes?", "total", None, "Koreatown", GENERAL, None),
    ("Who won the most precincts?", "precincts", None, None, GENERAL, None),
    ("Did Gomez lose anywhere?", "won", GOMEZ, None, GENERAL, None),
    ("Which neighborhoods did Ahn lose in the primary?", "won", AHN, None, PRIMARY, None),
    ("What share did the winner get in Chinatown?", "share", AHN, "Chinatown", GENERAL, None),
    (
        "Which candidate did best in Eagle Rock in April?",
        "winner",
        None,
        "Eagle Rock",
        PRIMARY,
        None,
    ),
    ("Did anyone get a majority in the primary?", "winner", None, None, PRIMARY, None),
    ("Rank the neighborhoods by Ahn's share", "top", AHN, None, GENERAL, 1000),
    ("Where did Ahn lose the most ground since the primary?", "swing", AHN, None, GENERAL, None),
    ("where did Gomez improve most between April and June", "swing", GOMEZ, None, GENERAL, None),
    (
        "How did Ahn's share change in Koreatown from the primary to the runoff?",
        "swing",
        AHN,
        "Koreatown",
        GENERAL,
        None,
    ),
]


def test_at_least_sixty_phrasings():
    assert len(PHRASINGS) >= 60
    assert len({p[0] for p in PHRASINGS}) == len(PHRASINGS)


@pytest.mark.parametrize(("question", "intent", "candidate", "place", "election", "n"), PHRASINGS)
def test_phrasing(question, intent, candidate, place, election, n, general, elections, areas):
    answer = general.ask(question)
    assert not answer.refused, answer.headline
    assert (answer.intent, answer.election) == (intent, election), answer.parsed
    if candidate:
        assert answer.candidate == candidate
    if place:
        assert answer.place == place
    assert answer.election_title.startswith(elections[election].spec.title)
    assert answer.caveats and answer.caveats[0]  # how sure: always said
    check(answer, elections, areas, n)
    assert answer.headline and "about 0 votes" not in answer.headline


# (question, words the refusal must contain)
REFUSALS = [
    ("Who won Santa Monica?", "Santa Monica is not in CA-34"),
    ("Ahn's share in Westlake Village", "Westlake Village is not in CA-34"),
    ("who won Pasadena", "Pasadena is essentially outside CA-34"),
    ("ahn's votes in silverlake", "Silver Lake is essentially outside CA-34"),
    ("who won Boston", "'Boston' is not a place"),
    ("How did Cabildo do in Eagle Rock?", "Maria Cabildo was not on the ballot of the runoff"),
    ("where did cabildo gain from the primary to the runoff", "ran in the primary"),
    ("how did Kamala Harris do in the primary", "No candidate called 'Kamala Harris'"),
    ("how old is Ahn", "ages"),
    ("how many registered voters in Koreatown", "registered voters"),
    ("how many mail ballots did Gomez get", "ballot method"),
    ("how much money did Ahn raise", "campaign money"),
    ("why did Ahn lose", "not why"),
    ("How many voters under 30 voted?", "ages"),
    ("What was Becerra's margin?", "No candidate called 'Becerra'"),
    ("Where did Kenneth Mejia do best?", "Kenneth Mejia ran in the primary"),
    ("who won in May", "no such election"),
    ("what is the weather", "Questions I can answer"),
]


@pytest.mark.parametrize(("question", "words"), REFUSALS)
def test_refusal(question, words, general):
    answer = general.ask(question)
    assert answer.refused
    assert words in answer.reason
    assert answer.election_title  # even a refusal says which election it used


def test_unsupported_phrasing_lists_every_kind_with_an_example(capsys):
    from explorer.ask import KINDS

    assert main(["ask", "what is the weather like?"]) == 2
    err = capsys.readouterr().err
    assert all(f'"{kind.example}"' in err for kind in KINDS)


# --- the sample questions of ../shared/questions ---------------------------------------------

KIND_EXPECTED = {  # the README's kind column -> intent, or the words of a right refusal
    "best": "best",
    "favoured / won": "won",
    "top N": "top",
    "worst": "worst",
    "winner of a place": "winner",
    "yes/no winner": "yes_no",
    "place in a larger area, or not a layer name": "winner",
    "candidate in a place": "result",
    "share, abbreviation": "share",
    "votes in a place": "votes",
    "margin in a place": "margin",
    "precinct count": "precincts",
    "total votes in a place": "total",
    "comparison": "compare_places",
    "primary, place in the field": "position",
    "primary, winner of a place": "winner",
    "swing": "swing",
    "outside the district: refuse, say why": "refuse: is not in CA-34",
    "not a candidate in this race": "refuse: No candidate called",
    "demographic: answer only with demographic data and its caveats": "group_support",
}


def sample_questions() -> list[tuple[str, str]]:
    rows = re.findall(r"^\| \d+ \| (.+?) \| (.+?) \|$", QUESTIONS.read_text(), flags=re.M)
    assert len(rows) >= 20
    return rows


@pytest.mark.parametrize(("question", "kind"), sample_questions())
def test_sample_question(question, kind, general, elections, areas):
    answer = general.ask(question)
    expected = KIND_EXPECTED[kind]
    if expected.startswith("refuse: "):
        assert answer.refused and expected.removeprefix("refuse: ") in answer.reason
        return
    assert not answer.refused, answer.headline
    if expected == "group_support" and not explorer.ei.available():
        assert answer.refused and "could not run" in answer.reason  # says what is missing
        return
    assert answer.intent == expected
    assert answer.election == (PRIMARY if "primary" in kind else GENERAL)
    if kind.startswith("place in a larger area"):
        assert "lies within" in " ".join(answer.details)
    check(answer, elections, areas, 10 if expected == "top" else None)


# --- the answer object, the CLI, ranges, other elections -------------------------------------


def test_ask_returns_an_answer_with_a_readable_str(general):
    answer = general.ask("which neighbourhoods favoured Ahn?")
    assert isinstance(answer, Answer)
    text = str(answer)
    assert text.startswith("Robert Lee Ahn won ") and "Koreatown" in text.splitlines()[0]
    assert "Election: CA-34 special general election (runoff), 2017-06-06" in text
    assert "How sure:" in text and "Methods:" in text and "areal weighting" in text


def test_ask_json_has_the_parsed_question_and_the_numbers(capsys, areas):
    question = "what was Ahn's margin in Windsor Square in the primary?"
    assert main(["ask", question, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["parsed"]["intent"] == "margin"
    assert data["parsed"]["candidate"] == AHN
    assert data["parsed"]["place"] == "Windsor Square"
    assert data["parsed"]["election"] == PRIMARY
    ranked, _ = rank(areas[PRIMARY], AHN)
    assert data["numbers"]["margin"] == pytest.approx(ranked.loc["Windsor Square", "margin"])
    assert data["numbers"]["rival"] == ranked.loc["Windsor Square", "rival"]
    assert not data["refused"] and data["caveats"]


def test_cli_refusal_exits_2_with_the_reason(capsys):
    assert main(["ask", "Who won Beverly Hills?"]) == 2
    captured = capsys.readouterr()
    assert "Beverly Hills is not in CA-34" in captured.err and captured.out == ""


def test_cli_answer_exits_0(capsys):
    assert main(["ask", "who won Eagle Rock?", "--election", GENERAL]) == 0
    assert "Jimmy Gomez won Eagle Rock in the runoff" in capsys.readouterr().out


def test_plausible_ranges_shown_only_when_present(general, areas):
    from explorer.ask import answer as answer_for
    from explorer.ask import parse, race
    from explorer.ask.parse import Ballot

    base = race(general)
    ballots = [Ballot(GENERAL, base.title, base.date, tuple(base.candidates))]
    parsed = parse("Ahn's share in Koreatown", ballots, list(base.areas["name"]), GENERAL)
    with_ensemble = answer_for(parsed, {GENERAL: base})  # the inference ranges (#13)
    ranked, _ = rank(base.areas, AHN)
    low, high = ranked.loc["Koreatown", ["share_low", "share_high"]]
    assert f"(plausible {low * 100:.0f}-{high * 100:.0f}%" in with_ensemble.headline
    base.areas = pd.DataFrame(base.areas)
    base.areas.attrs = {"candidates": list(base.candidates)}  # no ensemble: no ranges
    plain = answer_for(parsed, {GENERAL: base})
    assert "plausible" not in str(plain)
    ranged = base.areas.copy()
    share = ranged[AHN] / ranged["total"]
    ranged["share_low"], ranged["share_high"] = share - 0.05, share + 0.03
    ranged["p_rank"] = 0.6
    base.areas = ranged
    shown = answer_for(parsed, {GENERAL: base})
    low, high = shown.numbers["share_low"], shown.numbers["share_high"]
    assert f"(plausible {low * 100:.0f}-{high * 100:.0f}%" in shown.headline
    assert shown.numbers["p_rank"] == pytest.approx(0.6)


def test_precinct_by_id_counts_from_the_returns(general):
    unmapped = general.precincts[general.precincts["match"] == "none"]
    precinct = unmapped.loc[unmapped["total"].idxmax()]
    answer = general.ask(f"who won precinct {precinct['precinct']}")
    assert answer.numbers["winner"] == precinct["winner"]
    assert answer.numbers["total"] == precinct["total"]
    assert "100.0% have none" in answer.caveats[0]  # no geometry, and it says so


def test_own_files_without_neighbourhoods(general):
    """The engine needs only the places layer's names: here the result precincts."""
    spec = explorer.load("ad51-2017-general").spec
    mine = explorer.Election.from_files(
        returns=general._path(spec.returns),
        precincts=general._path(spec.precincts.file),
        precinct_id="Precinct",
        crs="EPSG:4326",
        office="State Assembly",
        contest_district="51",
        name="ad51",
    )
    summary = mine.summary().sort_values("votes", ascending=False)
    who = mine.ask("who won?")
    assert who.numbers["winner"] == summary.index[0]
    assert "State Assembly district 51" in who.headline
    best = mine.ask(f"where was {summary.index[0].split()[-1]} strongest")
    ranked, _ = rank(mine.areas("precinct"), summary.index[0])
    assert best.place == ranked.index[0] and best.intent == "best"
    assert mine.ask("who won the primary?").refused  # not loaded: said, not guessed
    assert mine.ask("where did Carrillo gain since the primary?").refused
    assert mine.ask("who won Eagle Rock?").refused


# --- the newcomer's kinds: each a table of phrasings, answers computed from rank / the returns


def test_escape_sequences_are_stripped_whole():
    from explorer.ask.parse import strip_control

    for typed in [
        "who won \x1b[31mEagle Rock\x1b[0m",
        "who won \x1b[1;38;5;196mEagle\x1b[0m Rock",
        "who won \x1b]0;title\x07Eagle Rock",
        "who won \x1b]8;;http://x\x1b\\Eagle Rock\x1b]8;;\x1b\\",
        "who won\x00 Eagle\x7f Rock\r",
    ]:
        assert " ".join(strip_control(typed).split()) == "who won Eagle Rock", repr(typed)


ESCAPED = [
    ("who won \x1b[31mEagle Rock\x1b[0m", "who won Eagle Rock"),
    ("\x1b[1mhow did ahn do in\x1b[0m \x1b]0;x\x07koreatown", "how did ahn do in koreatown"),
    ("did gomez win \x1b[4mBoyle Heights\x1b[24m?", "did gomez win Boyle Heights?"),
]


@pytest.mark.parametrize(("typed", "plain"), ESCAPED)
def test_escaped_question_answers_as_the_plain_one(typed, plain, general):
    answer, expected = general.ask(typed), general.ask(plain)
    assert not answer.refused, answer.headline
    assert (answer.intent, answer.place, answer.candidate) == (
        expected.intent,
        expected.place,
        expected.candidate,
    )
    assert answer.numbers == expected.numbers


# Surnames typed as plurals, possessives or one slip away: resolved when one candidate is
# that close in the field, else "did you mean".
NEAR_NAMES = [
    ("what % did ahns get overall", "share", AHN, None, GENERAL),
    ("Ahns share in koreatown", "share", AHN, "Koreatown", GENERAL),
    ("anh share in koreatown", "share", AHN, "Koreatown", GENERAL),
    ("how many votes did ahm get in westlake", "votes", AHN, "Westlake", GENERAL),
    ("gomezs margin in eagle rock", "margin", GOMEZ, "Eagle Rock", GENERAL),
    ("what share did the ahns get in the primary", "share", AHN, None, PRIMARY),
]


@pytest.mark.parametrize(("question", "intent", "candidate", "place", "election"), NEAR_NAMES)
def test_near_miss_names_resolve(question, intent, candidate, place, election, general,
                                 elections, areas):  # fmt: skip
    answer = general.ask(question)
    assert not answer.refused, answer.headline
    assert (answer.intent, answer.candidate, answer.place, answer.election) == (
        intent,
        candidate,
        place,
        election,
    )
    check(answer, elections, areas)


def test_ambiguous_near_miss_says_did_you_mean(general):
    from explorer.ask.parse import _near_surname
    from explorer.names import suggest_candidates

    field = ["Ann Lee", "Bo Ahn", "Cy Ahm"]
    assert _near_surname("anh", field) == "Bo Ahn"  # one swap from Ahn, two slips from Ahm
    assert _near_surname("ahx", field) is None  # one slip from both: ambiguous
    assert set(suggest_candidates("ahx", field)[:2]) == {"Bo Ahn", "Cy Ahm"}
    answer = general.ask("how did Gamaz do in koreatown")
    assert answer.refused and f"Did you mean {GOMEZ}?" in answer.reason


CLOSE = [
    ("was the race close in downtown", "Downtown", GENERAL),
    ("how tight was it in eagle rock", "Eagle Rock", GENERAL),
    ("was Koreatown competitive in the primary", "Koreatown", PRIMARY),
    ("was boyle heights a close race", "Boyle Heights", GENERAL),
]


@pytest.mark.parametrize(("question", "place", "election"), CLOSE)
def test_close_in_a_place_gives_the_gap_and_its_rank(
    question, place, election, general, elections, areas
):
    answer = general.ask(question)
    assert not answer.refused, answer.headline
    assert (answer.intent, answer.place, answer.election) == ("closest", place, election)
    table = areas[election]
    shares = share_table(table[table["total"] >= 100], elections[election].candidates)
    top_two = np.sort(shares.to_numpy(), axis=1)[:, -2:]
    gaps = pd.Series(top_two[:, 1] - top_two[:, 0], index=shares.index).sort_values()
    assert answer.numbers["gap"] == pytest.approx(gaps[place])
    assert answer.numbers["position"] == list(gaps.index).index(place) + 1
    assert answer.numbers["ranked"] == len(gaps)
    assert f"{gaps[place] * 100:.1f} pts" in answer.headline
    assert answer.headline.startswith("Yes" if answer.numbers["among_closest"] else "No")


QUALIFIERS = [
    ("turnout among democrats", "party"),
    ("how did republicans vote in koreatown", "party"),
    ("did women back Ahn", "gender"),
    ("how many votes did Gomez get among men", "gender"),
    ("turnout among renters", "'renters'"),
    ("how many first time voters were there", "'first time'"),
    ("how did seniors vote", "ages"),
    ("how many mail-in ballots were cast in Eagle Rock", "ballot method"),
    ("Gomez share among homeowners in Westlake", "'homeowners'"),
]


@pytest.mark.parametrize(("question", "missing"), QUALIFIERS)
def test_qualifier_that_cannot_be_honoured_is_refused_by_name(question, missing, general):
    answer = general.ask(question)
    assert answer.refused and answer.intent == "unanswerable", answer.headline
    assert missing in answer.reason


GROUP_WORDS = [
    ("did koreans vote for ahn", "korean", AHN),
    ("did Korean Americans back Ahn", "korean americans", AHN),
    ("how did latinos vote for gomez", "latino", GOMEZ),
    ("did hispanic voters support Gomez", "hispanic", GOMEZ),
    ("what share of Asians voted for Ahn", "asian", AHN),
    ("did black voters back Gomez", "black", GOMEZ),
    ("how did white voters vote", "white", None),
    ("how did Latino voters split", "latino", None),
]


@pytest.mark.parametrize(("question", "group", "candidate"), GROUP_WORDS)
def test_group_words_route_to_the_group_answer(question, group, candidate, general):
    from explorer.ask import ballot, place_names
    from explorer.ask.parse import parse
    from explorer.demographics import normalise_group

    parsed = parse(question, [ballot(general)], place_names(general), general.name)
    assert parsed.intent == "group_support" and parsed.missing_data is None
    assert normalise_group(parsed.group) == normalise_group(group)
    assert parsed.candidate == candidate


@pytest.mark.skipif(not explorer.ei.available(), reason="needs the ei extra")
def test_group_without_a_candidate_estimates_both_finalists(general, primary):
    answer = general.ask("how did white voters vote")
    assert not answer.refused, answer.headline
    assert "missing: demographics" not in answer.headline
    for name in general.candidates:
        nums = answer.numbers[name]
        assert nums["lower"] <= nums["mean"] <= nums["upper"]
        assert name in answer.headline
    if not answer.numbers["converged"]:
        assert "Yes" not in answer.headline and "No:" not in answer.headline
        assert answer.headline.count("did not converge") == len(general.candidates)
    many = general.ask("how did white voters vote in the primary")
    assert many.refused and many.reason.startswith("Which candidate?")


AREA_WORDS = [
    "which hood had the most votes",
    "which neighborhood had the most votes",
    "which neighbourhood had the most votes",
    "what area had the most votes",
    "which community cast the most votes",
    "which part of the district had the most votes",
]


@pytest.mark.parametrize("question", AREA_WORDS)
def test_area_synonyms_rank_areas_by_votes(question, general, areas):
    answer = general.ask(question)
    assert not answer.refused and answer.intent == "total", answer.headline
    totals = areas[GENERAL].set_index("name")["total"].sort_values(ascending=False)
    assert list(answer.numbers["totals"]) == list(totals.index[: len(answer.numbers["totals"])])


BY_MARGIN = [
    ("which precincts did gomez win by the most", GOMEZ, "precinct", GENERAL),
    ("where did Ahn win by the widest margin", AHN, "neighbourhood", GENERAL),
    ("Gomez's biggest margins in the primary", GOMEZ, "neighbourhood", PRIMARY),
    ("top 3 precincts by winning margin for ahn", AHN, "precinct", GENERAL),
]


@pytest.mark.parametrize(("question", "candidate", "kind", "election"), BY_MARGIN)
def test_won_by_the_most_ranks_by_margin(question, candidate, kind, election, elections, areas):
    answer = elections[GENERAL].ask(question)
    assert not answer.refused, answer.headline
    assert (answer.intent, answer.candidate, answer.election) == ("top", candidate, election)
    assert kind + "s" in answer.headline
    if kind == "precinct":
        from explorer.ask import race
        from explorer.ask.facts import precinct_view

        view = precinct_view(race(elections[election]))
        ranked, _ = rank(view.areas, candidate, label=view.label)
    else:
        ranked, _ = rank(areas[election], candidate)
    won = ranked[ranked["margin"] > 0].sort_values("margin", ascending=False)
    k = len(answer.numbers["places"])
    assert answer.numbers["places"] == list(won.index[:k])
    assert answer.numbers["margins"] == pytest.approx(list(won["margin"][:k]))


def test_wording_counts_what_it_says(general, primary, areas):
    won = general.ask("which areas did gomez win")
    ranked, _ = rank(areas[GENERAL], GOMEZ)
    above = ranked[ranked["share"] > general.summary().loc[GOMEZ, "share"]]
    assert f"in {len(above)} of the {len(ranked)} neighbourhoods" in " ".join(won.details)
    apart = [d for d in won.details if d.startswith(("Too few", "Too little"))]
    assert any("Pasadena" in d for d in apart)  # set apart, never counted in "N of M"
    counted = general.ask("how many precincts did Gomez win")
    detail, nums = " ".join(counted.details), counted.numbers
    assert f"including the {nums['without_geometry']} precincts without geometry" in detail
    assert f"Over all {nums['precincts']} precincts: {nums['ties']} tied" in detail
    many = general.ask("how many candidates were on the ballot in the primary")
    only = [c for c in primary.totals.index if c not in primary.candidates]
    assert many.headline.startswith(f"{len(primary.candidates) + len(only)} candidates were")
    if only:
        assert f"({len(primary.candidates)} with precinct returns;" in many.headline
        assert all(name in many.headline for name in only)


def test_swing_closest_and_most_votes_carry_ranges_when_the_table_has_them(general, areas):
    if "share_low" not in rank(areas[GENERAL], GOMEZ)[0]:
        pytest.skip("no inference ensemble: no ranges")
    for question in (
        "where was the race closest",
        "was the race close in downtown",
        "where did gomez gain most since the primary",
        "which neighbourhood had the most votes",
    ):
        answer = general.ask(question)
        assert "plausible" in answer.headline + " ".join(answer.details), question


def test_place_answers_raise_no_warnings(general):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        general.ask("how did ahn do in koreatown")
        general.ask("which areas did gomez win")


def test_how_sure_counts_pooled_votes_as_uncertain(capsys):
    """Westlake's runoff votes are half in pooled units: 'How sure' says so (it said 0.0%
    'rest on inferred geography' while 51.4% were pooled)."""
    assert main(["ask", "how did Westlake vote?", "--election", GENERAL]) == 0
    sure = next(line for line in capsys.readouterr().out.splitlines() if "How sure" in line)
    found = re.search(r"([\d.]+)% of these [\d,]+ votes rest on uncertain geography", sure)
    assert found and float(found.group(1)) > 40, sure
    assert "pooled units" in sure


def test_rank_with_nothing_to_rank_says_why_in_one_line(capsys):
    """--min-votes above every area's votes: one clear line, not pandas' 'Empty DataFrame'."""
    args = ["rank", GENERAL, "--candidate", "Ahn", "--by", "neighbourhood"]
    assert main([*args, "--min-votes", "10000000"]) == 0
    out = capsys.readouterr().out
    assert "Empty DataFrame" not in out and "Columns:" not in out
    assert "No neighbourhood can be ranked: all 38 neighbourhoods are set apart below" in out
    assert "lower --min-votes or --min-coverage" in out
