"""Election night, state: the reporting status carried onto joined precincts, "N of M
precincts reporting", the leader and the one-paragraph answer (see :mod:`explorer.live`)."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from explorer.live.snapshots import STATUSES, method_label

# --------------------------------------------------------------------------- state


def joined_ids(ids: Iterable[str], renamed: dict[str, str] | None) -> pd.Index:
    """Result precinct IDs as the join renamed them (``attrs["renamed"]`` of
    :func:`explorer.join.join_returns`: leading zeros restored or the layer's spelling of
    the same number, then a sub-precinct's parent polygon); other IDs unchanged."""
    renamed = renamed or {}

    def joined(precinct: str) -> str:
        for _ in range(3):  # a spelling repaired, then its parent
            precinct = renamed.get(precinct, precinct)
        return precinct

    return pd.Index([joined(str(p)) for p in ids], name="precinct")


def mark_reporting(features: pd.DataFrame, reporting: pd.DataFrame | None) -> pd.DataFrame:
    """Add ``status`` and ``methods`` columns to joined precincts (in place) and
    ``attrs["reporting"]`` (a :func:`reporting_summary`). Without reporting information
    nothing changes."""
    if reporting is None:
        return features
    from_file = reporting.attrs.get("denominator") == "file"
    key = lambda ids: pd.Index(ids).astype(str).str.lstrip("0")  # noqa: E731 (zeros restored)
    # the result IDs as the join matched them to the layer ('101' -> 'PCT 0101')
    reporting = reporting.set_axis(joined_ids(reporting.index, features.attrs.get("renamed")))
    status = pd.Series(reporting["status"].to_numpy(), index=key(reporting.index))
    outside = (
        set(key(reporting.index[~reporting["listed"].to_numpy(bool)]))
        if "listed" in reporting
        else set()
    )  # precincts not in the expected list: drawn, counted, outside the denominator
    methods = pd.Series(reporting["methods"].to_numpy(), index=key(reporting.index))
    # a polygon carrying several result precincts (sub-precincts): one status if they
    # agree, else partial; the methods counted in any of them
    if status.index.duplicated().any():
        status = status.groupby(level=0, sort=False).agg(
            lambda s: s.iloc[0] if s.nunique() == 1 else "partial"
        )
        methods = methods.groupby(level=0, sort=False).agg(
            lambda m: ",".join(dict.fromkeys(x for t in m for x in str(t).split(",") if x))
        )
    if "results" not in features:
        ids = key(features["precinct"])
        features["status"] = status.reindex(ids).fillna("reported").to_numpy()
        features["methods"] = methods.reindex(ids).fillna("").to_numpy()
        if outside:
            features["listed"] = ~ids.isin(outside)
        features.attrs["reporting"] = reporting_summary(
            features, features.attrs.get("county_wide", [])
        )
        if from_file:
            features.attrs["reporting"]["denominator"] = "file"
        return features
    # pooled units (explorer.infer) hold several result precincts: report each precinct,
    # and give a unit "reported" / "none" only when all its members agree, else "partial"
    members = features["results"].astype(str).str.split(",").explode()
    each = pd.DataFrame({"unit": members.index, "precinct": members.to_numpy()})
    each["status"] = status.reindex(key(each["precinct"])).fillna("reported").to_numpy()
    each["methods"] = methods.reindex(key(each["precinct"])).fillna("").to_numpy()
    if outside:
        each["listed"] = ~key(each["precinct"]).isin(outside)
    unit_shapeless = _shapeless(features)
    if unit_shapeless is not None:  # a listed precinct with no polygon: nothing to hatch
        shapes = pd.Series(unit_shapeless, index=features.index)
        each["_shapeless"] = shapes.reindex(each["unit"]).fillna(False).to_numpy(bool)
    combined = each.groupby("unit")["status"].agg(
        lambda s: s.iloc[0] if s.nunique() == 1 else "partial"
    )
    features["status"] = combined.reindex(features.index).fillna("reported").to_numpy()
    features["methods"] = (
        each.groupby("unit")["methods"]
        .agg(lambda m: ",".join(sorted({x for t in m for x in str(t).split(",") if x})))
        .reindex(features.index)
        .fillna("")
        .to_numpy()
    )
    summary = reporting_summary(each, features.attrs.get("county_wide", []))
    summary["votes_counted"] = int(features["total"].sum()) if "total" in features else None
    if from_file:
        summary["denominator"] = "file"
    features.attrs["reporting"] = summary
    features.attrs["reported_members"] = each.loc[each["status"] == "reported", "precinct"].tolist()
    return features


def _shapeless(features: pd.DataFrame):
    """Per row, True where it has no polygon (a ``_shapeless`` column or its geometry), as a
    boolean array; None when the frame says nothing about geometry."""
    if "_shapeless" in features:
        return features["_shapeless"].to_numpy(bool)
    if "geometry" in features:
        import shapely  # only here: `explorer info` reaches this module without geometry

        geometry = features["geometry"]
        return (geometry.isna() | shapely.is_empty(geometry.to_numpy())).to_numpy(bool)
    return None


def reporting_summary(features: pd.DataFrame, county_wide: Iterable[str] = ()) -> dict:
    """Plain numbers of the reporting state of joined (or wide) precincts with a
    ``status`` column: expected, reported, partial, not reporting, the fraction reporting,
    the votes counted so far, and per vote method the precincts where it is counted.
    ``county_wide`` rows (PROVISIONAL, Clarity's absentee ``AB``...) are no precincts:
    their votes are counted, they are not in the N of M (``county_wide_rows``)."""
    wide = features["precinct"].isin(set(county_wide)).to_numpy(bool)
    listed = features.get("listed", pd.Series(True, index=features.index)).to_numpy(bool)
    listed = listed | wide  # a county-wide row is never "not in the expected list"
    status = features["status"].where(listed & ~wide, "outside")
    outside = int((~listed).sum())  # not in the expected precinct list: not in the count
    expected = len(features) - outside - int(wide.sum())
    counts = {s: int((status == s).sum()) for s in STATUSES}
    methods: dict[str, int] = {}
    for text in features.get("methods", pd.Series("", index=features.index))[~wide]:
        for method in filter(None, str(text).split(",")):
            methods[method] = methods.get(method, 0) + 1
    unreported = features.loc[(status == "none").to_numpy(), "precinct"].tolist()
    no_polygon: list[str] = []  # nothing counted and nothing to hatch: not in the layer
    shapeless = _shapeless(features)
    if shapeless is not None:
        no_polygon = features.loc[shapeless & (status == "none").to_numpy(), "precinct"]
        no_polygon = no_polygon.tolist()
    return {
        "expected": expected,
        "reported": counts["reported"],
        "partial": counts["partial"],
        "not_reporting": counts["none"],
        "fraction": counts["reported"] / expected if expected else float("nan"),
        "votes_counted": int(features["total"].sum()) if "total" in features else None,
        "methods": methods,
        "unreported_precincts": unreported,
        "unreported_no_polygon": no_polygon,
        "complete": counts["reported"] == expected,
        "outside_expected": outside,
        "outside_precincts": features.loc[~listed, "precinct"].tolist(),
        "county_wide_rows": features.loc[wide, "precinct"].tolist(),
    }


def describe_reporting(summary: dict | None) -> str:
    """'21 of 192 precincts reporting (10.9%); counted so far: mail in 192 precincts,
    election day in 21; 171 precincts partly counted.' (empty without reporting info)."""
    if not summary:
        return ""
    n, m = summary["reported"], summary["expected"]
    text = f"{n:,} of {m:,} precincts reporting ({summary['fraction']:.1%})"
    if summary.get("denominator") == "file":
        text += (
            f" (the {m:,} are the precincts in this file: no precinct list, "
            "give --expected for one)"
        )
    methods = summary.get("methods") or {}
    real = {k: v for k, v in methods.items() if k != "votes"}
    if real:
        text += "; counted so far: " + ", ".join(
            f"{method_label(k)} in {v:,} precinct{'s' if v != 1 else ''}"
            for k, v in sorted(real.items(), key=lambda kv: -kv[1])
        )
    if summary["partial"]:
        text += f"; {summary['partial']:,} precinct(s) partly counted"
    if summary["not_reporting"]:
        absent = summary.get("unreported_no_polygon") or []
        drawn = summary["not_reporting"] - len(absent)
        text += f"; {summary['not_reporting']:,} with nothing counted yet"
        text += f" ({drawn:,} hatched on maps" if drawn else " ("
        if absent:
            text += (
                f"{', ' if drawn else ''}{len(absent)} not in the layer: "
                f"{', '.join(map(str, absent[:4]))}{', ...' if len(absent) > 4 else ''}"
            )
        text += ")"
    if summary.get("outside_expected"):
        n_out = summary["outside_expected"]
        shown = ", ".join(map(str, summary.get("outside_precincts", [])[:5]))
        text += (
            f"; {n_out:,} precinct{'s' if n_out != 1 else ''} not in the expected list "
            f"({shown}{', ...' if n_out > 5 else ''}: counted, not in the {m:,})"
        )
    if summary.get("county_wide_rows"):
        rows = summary["county_wide_rows"]
        text += (
            f"; votes of {len(rows)} county-wide row group{'s' if len(rows) != 1 else ''} "
            f"({', '.join(map(str, rows[:4]))}{', ...' if len(rows) > 4 else ''}) counted, "
            "not precincts"
        )
    if summary["complete"]:
        text += "; the count is complete in every precinct"
    return text + "."


def leader(features: pd.DataFrame, candidates: list[str]) -> dict:
    """The race so far: leader, runner-up, their votes and shares of all votes counted, and
    the lead in votes and in percentage points of the two-way vote."""
    votes = features[candidates].sum().sort_values(ascending=False)
    total = float(votes.sum())
    first, second = ([*list(votes.index), "", ""])[:2]
    a = float(votes.get(first, 0))
    b = float(votes.get(second, 0)) if second else 0.0
    two = a + b
    return {
        "leader": first if total else "",
        "runner_up": second,
        "votes": {str(k): int(v) for k, v in votes.items()},
        "shares": {str(k): (float(v) / total if total else float("nan")) for k, v in votes.items()},
        "lead_votes": int(a - b),
        "margin": (a - b) / two if two else float("nan"),
        "total": int(total),
    }


def reporting_answer(features: pd.DataFrame, candidates: list[str]) -> str:
    """The answer to "how many precincts are in?" / "who is leading?" on election night:
    the reporting sentence and the race so far, in plain words (for ``ask``)."""
    summary = features.attrs.get("reporting") or reporting_summary(
        features.assign(status=features.get("status", "reported"))
    )
    race = leader(features, candidates)
    if not race["total"]:
        return describe_reporting(summary) + " No votes counted yet."
    a, b = race["leader"], race["runner_up"]
    sa, sb = race["shares"][a], race["shares"].get(b, float("nan"))
    counted = "Final count" if summary["complete"] else "Votes counted so far"
    text = (
        f"{describe_reporting(summary)} {counted}: {race['total']:,}. "
        f"{a} {'leads' if not summary['complete'] else 'won'} with "
        f"{race['votes'][a]:,} ({sa:.1%})"
    )
    if b:
        text += f" to {b}'s {race['votes'][b]:,} ({sb:.1%}), a lead of {race['lead_votes']:,}"
    return text + "."
