"""Census demographics by precinct and area: read the block-group table, place each block
group at its 2020 centre of population, and sum the people into precincts or areas.

Sources (both in the catalog, pinned by sha256):

- Dave's Redistricting (dra2020/vtd_data), ``Demographic_Data_CA.v06.zip``: California 2020
  block groups (``GEOID20``, 12 digits) with total population (census 2010/2020, ACS), voting
  age population (VAP, census) and citizen voting age population (CVAP, ACS 5-year) by group.
  CC BY-SA 4.0 with a no-sale clause: credit "Dave's Redistricting (dra2020/vtd_data)"
  wherever the figures are used (:data:`CREDIT`).
- US Census Bureau 2020 block-group centres of population (``CenPop2020_Mean_BG06.txt``):
  ``GEOID = STATEFP + COUNTYFP + TRACTCE + BLKGRPCE``, EPSG:4269 points.

Block-group polygons are not available, so each block group counts whole in the precinct (or
area) that holds its centre of population. Like the vote ledger, a *population ledger* says
how many people were placed and how many fell outside every precinct; nobody is dropped
silently.

Groups, as DRA defines them: ``white`` is White alone, not Hispanic; ``hispanic`` is all
Hispanics of any race; ``black``, ``asian``, ``native`` and ``pacific`` are "alone or in
combination" and *include* Hispanics of that race, so the groups can overlap and need not add
up to the total. :func:`group_partition` builds the non-overlapping table that ecological
inference needs, with an honest ``other`` remainder.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from explorer.crs import to_lonlat
from explorer.errors import ExplorerError

TABLE_FILE = "dra2020/vtd_data/2020_VTD/CA/Demographic_Data_CA.v06.zip"
CENTRES_FILE = "yeboya-ds/Healthcare-Access-Disparities/CenPop2020_Mean_BG06.txt"
CREDIT = "Dave's Redistricting (dra2020/vtd_data), CC BY-SA 4.0, no sale"

GROUPS = ("white", "hispanic", "black", "asian", "native", "pacific")
GROUP_LABELS = {
    "white": "White (alone, not Hispanic)",
    "hispanic": "Hispanic or Latino (any race)",
    "black": "Black (alone or in combination)",
    "asian": "Asian (alone or in combination)",
    "native": "American Indian and Alaska Native (alone or in combination)",
    "pacific": "Native Hawaiian and Pacific Islander (alone or in combination)",
    "other": "everyone else (total minus the groups named)",
}
GROUP_ALIASES = {
    "latino": "hispanic",
    "latinos": "hispanic",
    "latina": "hispanic",
    "latinx": "hispanic",
    "hispanics": "hispanic",
    "asians": "asian",
    "asian american": "asian",
    "asian americans": "asian",
    "korean": "asian",
    "korean american": "asian",
    "korean americans": "asian",
    "whites": "white",
    "blacks": "black",
    "african american": "black",
    "african americans": "black",
    "american indian": "native",
    "pacific islander": "pacific",
    "others": "other",
}
# universe -> (column category and dataset, as in DRA's <category>_<yy>_<dataset>_<field>)
UNIVERSES = {"cvap": ("V", "CVAP"), "vap": ("V", "VAP"), "pop": ("T", "CENS")}
UNIVERSE_LABELS = {
    "cvap": "citizen voting-age population (CVAP, ACS 5-year)",
    "vap": "voting-age population (VAP, census)",
    "pop": "total population (census)",
}


@dataclass(frozen=True)
class Vintage:
    """One dataset of the table: a universe (cvap, vap, pop) and the year it describes."""

    universe: str
    year: int
    prefix: str  # e.g. "V_18_CVAP"

    @property
    def label(self) -> str:
        if self.universe == "cvap":
            return f"CVAP, ACS 5-year {self.year - 4}-{self.year}"
        if self.universe == "vap":
            return f"VAP, {self.year} census"
        return f"total population, {self.year} census"


def normalise_group(name: str) -> str:
    """A group by its DRA name or a common spelling ("Latino" -> "hispanic")."""
    key = " ".join(str(name).lower().replace("-", " ").replace("_", " ").split())
    key = GROUP_ALIASES.get(key, key)
    if key not in (*GROUPS, "other"):
        raise ExplorerError(f"unknown group {name!r}", hint="use " + ", ".join((*GROUPS, "other")))
    return key


# --------------------------------------------------------------------------- reading


def read_block_group_table(path: str | Path) -> pd.DataFrame:
    """The DRA demographic CSV (inside its zip, or bare): ``GEOID20`` as a 12-character
    string index, every count column as float.

    Raises :class:`ExplorerError` naming the file when it is not a DRA demographic table.
    """
    path = Path(path)
    if not path.exists():
        raise ExplorerError("file not found", source=path)
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                members = [m for m in archive.namelist() if m.lower().endswith(".csv")]
                if len(members) != 1:
                    raise ExplorerError(
                        f"expected one CSV inside the zip, found {len(members)}", source=path
                    )
                raw = archive.read(members[0])
        else:
            raw = path.read_bytes()
        table = pd.read_csv(
            io.BytesIO(raw), dtype={"GEOID20": str}, encoding="utf-8-sig", low_memory=False
        )
    except (zipfile.BadZipFile, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ExplorerError(f"cannot read the demographic table ({exc})", source=path) from None
    if "GEOID20" not in table.columns:
        raise ExplorerError(
            "no GEOID20 column", source=path, hint="expected a DRA Demographic_Data CSV"
        )
    bad = ~table["GEOID20"].fillna("").str.fullmatch(r"\d{12}")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise ExplorerError(
            f"row {row}: GEOID20 {table['GEOID20'].iloc[row - 2]!r} is not 12 digits",
            source=path,
        )
    counts = [c for c in table.columns if re.fullmatch(r"[TV]_\d\d_\w+", c)]
    if not counts:
        raise ExplorerError("no count columns such as V_20_CVAP_Total", source=path)
    values = table[counts].apply(pd.to_numeric, errors="coerce")
    if values.isna().any().any():
        column = values.columns[values.isna().any()][0]
        row = int(np.flatnonzero(values[column].isna().to_numpy())[0]) + 2
        raise ExplorerError(f"row {row}: {column} is not a number", source=path)
    values.index = pd.Index(table["GEOID20"], name="geoid")
    if values.index.duplicated().any():
        raise ExplorerError(
            f"GEOID20 {values.index[values.index.duplicated()][0]} appears twice", source=path
        )
    return values.astype(float)


def read_centres(path: str | Path, crs: str = "EPSG:4269") -> gpd.GeoDataFrame:
    """Census block-group centres of population (CSV, UTF-8 with BOM): one point per block
    group, indexed by the 12-digit ``geoid`` (STATEFP+COUNTYFP+TRACTCE+BLKGRPCE), with
    ``population`` (2020 census)."""
    path = Path(path)
    if not path.exists():
        raise ExplorerError("file not found", source=path)
    try:
        table = pd.read_csv(path, dtype=str, encoding="utf-8-sig")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ExplorerError(f"cannot read the centres ({exc})", source=path) from None
    table.columns = [c.strip().upper() for c in table.columns]
    needed = ["STATEFP", "COUNTYFP", "TRACTCE", "BLKGRPCE", "LATITUDE", "LONGITUDE"]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise ExplorerError(
            "missing column(s) " + ", ".join(missing),
            source=path,
            hint="expected a census CenPop2020_Mean_BG file",
        )
    geoid = table["STATEFP"] + table["COUNTYFP"] + table["TRACTCE"] + table["BLKGRPCE"]
    lat = pd.to_numeric(table["LATITUDE"], errors="coerce")
    lon = pd.to_numeric(table["LONGITUDE"], errors="coerce")
    bad = lat.isna() | lon.isna() | ~geoid.fillna("").str.fullmatch(r"\d{12}")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0]) + 2
        raise ExplorerError(f"row {row}: bad GEOID parts or coordinates", source=path)
    return gpd.GeoDataFrame(
        {"population": pd.to_numeric(table.get("POPULATION"), errors="coerce").to_numpy()},
        geometry=gpd.points_from_xy(lon, lat),
        index=pd.Index(geoid, name="geoid"),
        crs=crs,
    )


def load_block_groups(table: str | Path, centres: str | Path) -> gpd.GeoDataFrame:
    """The demographic table joined to the centres of population: one point per block group.

    ``attrs["unlocated"]`` holds the block groups of the table with no centre (their people
    cannot be placed; :func:`place` reports them when their county is in play).
    """
    counts = read_block_group_table(table)
    points = read_centres(centres)
    joined = points[["geometry"]].join(counts, how="inner")
    located = gpd.GeoDataFrame(joined, geometry="geometry", crs=points.crs)
    located.attrs["unlocated"] = counts.loc[~counts.index.isin(points.index)]
    located.attrs["source"] = str(table)
    return located


# --------------------------------------------------------------------------- vintages


def vintages(block_groups: pd.DataFrame, universe: str = "cvap") -> list[Vintage]:
    """The vintages of one universe that the table carries, oldest first."""
    if universe not in UNIVERSES:
        raise ExplorerError(f"unknown universe {universe!r}", hint="use cvap, vap or pop")
    category, dataset = UNIVERSES[universe]
    found = set()
    for column in block_groups.columns:
        match = re.fullmatch(rf"{category}_(\d\d)_{dataset}_Total", column)
        if match:
            found.add(int(match.group(1)))
    return [Vintage(universe, 2000 + yy, f"{category}_{yy:02d}_{dataset}") for yy in sorted(found)]


def choose_vintage(
    block_groups: pd.DataFrame,
    universe: str = "cvap",
    when: dt.date | int | None = None,
    year: int | None = None,
) -> Vintage:
    """The vintage asked for (``year``), else the one closest to ``when`` (the election date;
    ties go to the later one), else the latest."""
    available = vintages(block_groups, universe)
    if not available:
        raise ExplorerError(f"the demographic table has no {universe.upper()} columns")
    if year is not None:
        for vintage in available:
            if vintage.year == int(year):
                return vintage
        raise ExplorerError(
            f"no {universe.upper()} vintage {year}",
            hint="available: " + ", ".join(str(v.year) for v in available),
        )
    if when is None:
        return available[-1]
    target = when.year if isinstance(when, dt.date) else int(when)
    return min(available, key=lambda v: (abs(v.year - target), -v.year))


# --------------------------------------------------------------------------- placing


def place(
    block_groups: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    area_id: str,
    columns: list[str],
    within: gpd.GeoDataFrame | None = None,
    only_within: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sum ``columns`` of the block groups into the areas holding their centres.

    A block group whose point lies in two overlapping areas counts in the first only. Block
    groups are in play when their point lies in an area or inside ``within`` (default: the
    union of the areas); those in play but in no area are *outside*. With ``only_within``,
    only points inside ``within`` are in play (e.g. the district's part of a county-wide
    neighbourhood layer).

    Returns ``(by_area, ledger)``: one row per area (every area, zeros where no point fell)
    and a ledger with one row per column: ``placed``, ``outside`` (people in play in no
    area), ``in_play`` (``placed + outside``) and ``block_groups_placed/outside``.
    """
    if area_id not in areas.columns:
        raise ExplorerError(f"the areas have no {area_id!r} column")
    points = to_lonlat(block_groups[["geometry", *columns]])
    shapes = to_lonlat(areas[[area_id, "geometry"]]).reset_index(drop=True)
    hits = gpd.sjoin(points, shapes, how="left", predicate="within")
    hits = hits[~hits.index.duplicated(keep="first")]
    inside = hits["index_right"].notna()
    zone = shapes.union_all() if within is None else to_lonlat(within).union_all()
    in_zone = points.within(zone)
    if only_within:
        inside &= in_zone
    in_play = in_zone if only_within else inside | in_zone
    by_area = hits.loc[inside].groupby(area_id)[columns].sum().reindex(shapes[area_id]).fillna(0.0)
    outside = points.loc[in_zone & ~inside, columns].sum()
    placed = by_area[columns].sum()
    ledger = pd.DataFrame(
        {
            "placed": placed,
            "outside": outside,
            "in_play": placed + outside,
        }
    )
    ledger.attrs["block_groups_placed"] = int(inside.sum())
    ledger.attrs["block_groups_outside"] = int((in_zone & ~inside).sum())
    ledger.attrs["block_groups_in_play"] = int(in_play.sum())
    return by_area, ledger


def universe_columns(vintage: Vintage) -> dict[str, str]:
    """Output column -> table column for one vintage, e.g. ``cvap_asian -> V_18_CVAP_Asian``."""
    return {
        f"{vintage.universe}_{field}": f"{vintage.prefix}_{field.capitalize()}"
        for field in ("total", *GROUPS)
    }


def area_demographics(
    block_groups: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame,
    area_id: str,
    *,
    when: dt.date | int | None = None,
    cvap_year: int | None = None,
    within: gpd.GeoDataFrame | None = None,
    only_within: bool = False,
) -> pd.DataFrame:
    """CVAP, VAP and total population by group for each area (precincts or neighbourhoods).

    Columns ``cvap_total``, ``cvap_white`` ... ``cvap_pacific``, the same for ``vap_`` and
    ``pop_``, and ``cvap_share_<group>`` (group / CVAP total; NaN where CVAP is 0). Each
    universe's vintage is the one closest to ``when`` (CVAP: ``cvap_year`` if given).

    ``attrs``: ``vintages`` (universe -> label), ``ledger`` (the population ledger from
    :func:`place`, by output column) and ``credit``.
    """
    chosen = {
        "cvap": choose_vintage(block_groups, "cvap", when, cvap_year),
        "vap": choose_vintage(block_groups, "vap", when),
        "pop": choose_vintage(block_groups, "pop", when),
    }
    mapping: dict[str, str] = {}
    for vintage in chosen.values():
        mapping.update(universe_columns(vintage))
    missing = [c for c in mapping.values() if c not in block_groups.columns]
    if missing:
        raise ExplorerError("the demographic table lacks " + ", ".join(missing))
    renamed = block_groups.rename(columns={v: k for k, v in mapping.items()})
    by_area, ledger = place(
        renamed, areas, area_id, list(mapping), within=within, only_within=only_within
    )
    for group in GROUPS:
        by_area[f"cvap_share_{group}"] = by_area[f"cvap_{group}"] / by_area["cvap_total"].where(
            by_area["cvap_total"] > 0
        )
    by_area.index.name = area_id
    by_area.attrs["vintages"] = {u: v.label for u, v in chosen.items()}
    by_area.attrs["ledger"] = ledger
    by_area.attrs["credit"] = CREDIT
    return by_area


def describe_population_ledger(ledger: pd.DataFrame, column: str = "cvap_total") -> str:
    """One line: people placed and people outside every area, for one universe."""
    row = ledger.loc[column]
    share = row["outside"] / row["in_play"] if row["in_play"] else 0.0
    return (
        f"{row['placed']:,.0f} people ({column}) placed in {ledger.attrs['block_groups_placed']:,} "
        f"block groups; {row['outside']:,.0f} ({share:.1%}) in "
        f"{ledger.attrs['block_groups_outside']:,} block groups fall outside every area."
    )


def group_partition(
    demographics: pd.DataFrame, groups: list[str], universe: str = "cvap"
) -> tuple[pd.DataFrame, dict]:
    """Counts of non-overlapping groups per area, for ecological inference.

    ``groups`` may include ``other``; if it does not, ``other`` is added (ecological
    inference needs every voter in some row). ``other`` = total minus the named groups,
    floored at zero: where the named groups add up to more than the total (they can overlap,
    e.g. Hispanic and Asian-in-combination), the excess is *double counted* and reported.

    Returns ``(counts, facts)``: counts per area (columns = groups, ``other`` last) scaled so
    each row sums to the universe total, and facts ``double_counted`` (people, summed over
    areas) and ``other_people``.
    """
    named = [normalise_group(g) for g in groups if normalise_group(g) != "other"]
    if len(set(named)) != len(named):
        raise ExplorerError("a group is named twice")
    if not named:
        raise ExplorerError("name at least one group besides other")
    total = demographics[f"{universe}_total"]
    counts = pd.DataFrame({g: demographics[f"{universe}_{g}"] for g in named})
    excess = counts.sum(axis=1) - total
    counts["other"] = (-excess).clip(lower=0)
    double = excess.clip(lower=0)
    # scale overlapping rows back to the total so the shares form a partition
    scale = (total / counts.sum(axis=1)).where(counts.sum(axis=1) > 0, 0.0)
    counts = counts.mul(scale, axis=0)
    facts = {
        "double_counted": float(double.sum()),
        "other_people": float(counts["other"].sum()),
        "groups": [*named, "other"],
        "universe": universe,
    }
    return counts, facts
