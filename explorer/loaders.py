"""Stage 2, load: vector layers and OpenElections returns as (Geo)DataFrames.

Every loader returns data with a declared CRS and records what it repaired or dropped in
``frame.attrs["notes"]`` (a list of one-line strings), so later stages can report it.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from explorer.crs import declare_crs
from explorer.errors import ExplorerError

RETURNS_COLUMNS = ("precinct", "candidate", "votes")
VOTE_METHOD_COLUMNS = ("election_day", "mail", "early_voting", "provisional", "absentee")


def _note(frame: pd.DataFrame, text: str) -> None:
    frame.attrs.setdefault("notes", []).append(text)


# --------------------------------------------------------------------------- vector layers


def _check_shapefile_parts(path: Path) -> None:
    for suffix in (".shx", ".dbf"):
        sidecar = path.with_suffix(suffix)
        upper = path.with_suffix(suffix.upper())
        if not sidecar.exists() and not upper.exists():
            raise ExplorerError(
                f"shapefile is missing its {suffix} file",
                source=path,
                hint=f"put {sidecar.name} beside it (a shapefile is .shp + .shx + .dbf)",
            )


def _zip_layers(path: Path) -> list[str]:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile:
        raise ExplorerError("not a readable zip file", source=path) from None
    return [name for name in names if name.lower().endswith((".shp", ".geojson", ".gpkg"))]


def read_layer(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: str | None = None,
    source: str | None = None,
) -> gpd.GeoDataFrame:
    """Read any vector file GDAL reads (shapefile, zipped shapefile, GeoPackage, GeoJSON,
    TopoJSON) with clear one-line errors, and declare ``crs`` where the file has none."""
    path = Path(path)
    label = source or str(path)
    if not path.exists():
        raise ExplorerError("file not found", source=label)
    if path.is_file() and path.stat().st_size == 0:
        raise ExplorerError("file is empty", source=label, hint="re-export or re-download it")
    target: str = str(path)
    suffix = path.suffix.lower()
    if suffix == ".shp":
        _check_shapefile_parts(path)
    elif suffix == ".zip":
        members = _zip_layers(path)
        if layer is None and len(members) > 1:
            raise ExplorerError(
                f"the zip holds {len(members)} layers ({', '.join(members)})",
                source=label,
                hint="choose one with --layer NAME",
            )
        if layer is None and members:
            target = f"/vsizip/{path}/{members[0]}"
        elif layer is not None:
            chosen = [m for m in members if Path(m).stem == layer or m == layer]
            if chosen:
                target, layer = f"/vsizip/{path}/{chosen[0]}", None
    try:
        if layer is None and suffix not in (".zip",):
            layers = pyogrio.list_layers(target)
            if len(layers) > 1 and suffix in (".gpkg", ".topojson"):
                names = [str(name) for name in layers[:, 0]]
                # TopoJSON files usually hold one object; take it when there is one
                polygonal = [n for n, kind in layers if kind is None or "Polygon" in str(kind)]
                if len(polygonal) != 1:
                    raise ExplorerError(
                        f"the file holds {len(names)} layers ({', '.join(names)})",
                        source=label,
                        hint="choose one with --layer NAME",
                    )
                layer = polygonal[0]
        frame = gpd.read_file(target, layer=layer, engine="pyogrio", on_invalid="fix")
    except ExplorerError:
        raise
    except UnicodeDecodeError as exc:
        raise ExplorerError(
            f"attribute table is not in a readable encoding ({exc.reason})",
            source=label,
            hint="add a .cpg file naming the encoding, or re-save the layer as UTF-8",
        ) from None
    except Exception as exc:
        reason = " ".join(str(exc).split())[:200]
        raise ExplorerError(f"cannot read this layer ({reason})", source=label) from None
    if frame.empty:
        raise ExplorerError("layer has no features", source=label)
    return declare_crs(frame, crs, label)


def repair_polygons(frame: gpd.GeoDataFrame, what: str, source: str) -> gpd.GeoDataFrame:
    """Keep polygonal features only, repairing invalid rings with ``make_valid``.

    Empty or null geometries and non-polygon features are dropped; every repair and drop is
    counted in ``attrs["notes"]``.
    """
    geometry = frame.geometry.values
    missing = shapely.is_missing(geometry) | shapely.is_empty(geometry)
    if missing.any():
        _note(frame, f"{source}: dropped {int(missing.sum())} {what} with empty or null geometry")
        frame = frame[~missing].copy()
        geometry = frame.geometry.values
    kinds = shapely.get_type_id(geometry)
    polygonal = np.isin(kinds, (3, 6))
    invalid = ~shapely.is_valid(geometry)
    if invalid.any():
        repaired = shapely.make_valid(geometry[invalid])
        # make_valid can yield collections: keep their polygonal parts
        repaired = np.array([_polygonal_part(g) for g in repaired], dtype=object)
        geometry = geometry.copy()
        geometry[invalid] = repaired
        frame = frame.set_geometry(gpd.GeoSeries(geometry, index=frame.index, crs=frame.crs))
        _note(frame, f"{source}: repaired {int(invalid.sum())} invalid {what} (make_valid)")
        kinds = shapely.get_type_id(frame.geometry.values)
        polygonal = np.isin(kinds, (3, 6))
    if not polygonal.all():
        if not polygonal.any():
            raise ExplorerError(
                f"the layer holds {frame.geom_type.iloc[0]} features where polygons are expected",
                source=source,
                hint="give a polygon layer",
            )
        bad = frame.index[~polygonal][:3].tolist()
        _note(
            frame,
            f"{source}: dropped {int((~polygonal).sum())} non-polygon {what} (first: {bad})",
        )
        frame = frame[polygonal].copy()
    return frame


def _polygonal_part(geometry):
    if geometry is None or shapely.get_type_id(geometry) in (3, 6):
        return geometry
    parts = [g for g in shapely.get_parts(geometry) if shapely.get_type_id(g) in (3, 6)]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def load_precincts(
    path: str | Path, id_field: str, *, crs: str | None = None, layer: str | None = None
) -> gpd.GeoDataFrame:
    """A precinct layer with a string ``precinct`` column (trimmed, upper case)."""
    frame = read_layer(path, crs=crs, layer=layer)
    if id_field not in frame.columns:
        raise ExplorerError(
            f"no precinct ID field {id_field!r} (fields: {', '.join(map(str, frame.columns))})",
            source=path,
            hint="name the ID field with --precinct-id",
        )
    ids = frame[id_field]
    if ids.isna().any():
        _note(frame, f"{path}: {int(ids.isna().sum())} precinct polygons have no ID")
    frame["precinct"] = normalise_ids(ids.astype("string").fillna(""))
    frame = repair_polygons(frame, "precinct polygons", str(path))
    return frame[["precinct", "geometry"]].reset_index(drop=True).pipe(_keep_attrs, frame)


def _keep_attrs(new: pd.DataFrame, old: pd.DataFrame) -> pd.DataFrame:
    new.attrs = dict(old.attrs)
    return new


def normalise_ids(ids: pd.Series) -> pd.Series:
    """Precinct IDs as trimmed upper-case strings (leading zeros kept)."""
    return ids.astype(str).str.strip().str.upper()


def load_district(path: str | Path, district_id: str, *, crs: str = "EPSG:4326"):
    """One district from a bare-geometry (or Feature) GeoJSON, with its ID in ``district``."""
    frame = read_layer(path, crs=crs)
    frame = repair_polygons(frame, "district shapes", str(path))
    geometry = shapely.union_all(frame.geometry.values)
    return gpd.GeoDataFrame({"district": [district_id]}, geometry=[geometry], crs=frame.crs)


def load_neighbourhoods(
    path: str | Path, *, name_field: str = "name", where: dict | None = None
) -> gpd.GeoDataFrame:
    """Neighbourhood polygons with a ``name`` column, filtered by ``where`` and repaired."""
    frame = read_layer(path)
    for column, value in (where or {}).items():
        if column not in frame.columns:
            raise ExplorerError(f"no field {column!r} to filter on", source=path)
        frame = frame[frame[column] == value]
    if name_field not in frame.columns:
        raise ExplorerError(f"no name field {name_field!r}", source=path)
    frame = repair_polygons(frame.copy(), "neighbourhood polygons", str(path))
    frame = frame.rename(columns={name_field: "name"}) if name_field != "name" else frame
    frame["name"] = frame["name"].astype(str).str.strip()
    return frame.reset_index(drop=True)


_ROUTE_PATTERNS = (
    (re.compile(r"^Interstate\s+(\d+)"), "I-{}"),
    (re.compile(r"^US Highway\s+(\d+)"), "US-{}"),
    (re.compile(r"^(?:State )?Route\s+(\d+)"), "SR-{}"),
)


def route_label(number_name: str) -> str | None:
    """'Interstate 10' -> 'I-10', 'State Route 134' -> 'SR-134', 'US Highway 101' -> 'US-101'."""
    for pattern, template in _ROUTE_PATTERNS:
        match = pattern.match(number_name.strip())
        if match:
            return template.format(match.group(1))
    return None


def _caltrans_label(route_num: str) -> str | None:
    """CAfreeways ``ROUTE_NUM`` codes: 'I10' -> 'I-10', 'U101' -> 'US-101', 'S134' -> 'SR-134'."""
    match = re.match(r"^([IUS])(\d+)$", route_num or "")
    if not match:
        return None
    return {"I": "I-", "U": "US-", "S": "SR-"}[match.group(1)] + match.group(2)


def _overlap_routes(lines, candidates, candidate_routes, tolerance: float, share: float):
    """For each line, the route of the candidate line it lies along for most of its length
    (at least ``share`` of it within ``tolerance`` metres), else None."""
    buffers = shapely.buffer(candidates, tolerance, cap_style="flat")
    line_index, candidate_index = shapely.STRtree(buffers).query(lines, predicate="intersects")
    routes = np.full(len(lines), None, dtype=object)
    if not len(line_index):
        return routes
    overlap = shapely.length(shapely.intersection(lines[line_index], buffers[candidate_index]))
    pairs = pd.DataFrame(
        {"line": line_index, "route": candidate_routes[candidate_index], "overlap": overlap}
    )
    per_route = pairs.groupby(["line", "route"], as_index=False)["overlap"].sum()
    best = per_route.sort_values("overlap", ascending=False).drop_duplicates("line")
    lengths = shapely.length(lines[best["line"].to_numpy()])
    good = best["overlap"].to_numpy() >= share * np.maximum(lengths, 1e-9)
    routes[best["line"].to_numpy()[good]] = best["route"].to_numpy()[good]
    return routes


def load_freeways(path: str | Path, route_numbers: str | Path | None = None) -> gpd.GeoDataFrame:
    """Freeways reduced to one line set per route, labelled like 'I-10 Santa Monica Fwy'.

    The LA County layer carries each carriageway twice, once by name ('Santa Monica Frwy')
    and once by number ('Interstate 10'). Each named line takes the route number of the
    numbered line it lies along (or, failing that, of the statewide route in
    ``route_numbers``); the copies are then unioned, which drops the duplicate segments.
    A route known by several names along its length lists them, longest first.
    """
    frame = read_layer(path)
    if "FullName" not in frame.columns:
        return load_roads(frame, str(path))
    if "Type" in frame.columns:
        frame = frame[frame["Type"] == "Freeway"]
    frame = frame[frame["FullName"].notna()].to_crs("EPSG:3310").reset_index(drop=True)
    lines = frame.geometry.values
    routes = np.array([route_label(name) for name in frame["FullName"]], dtype=object)
    numbered = np.array([r is not None for r in routes])
    if numbered.any() and (~numbered).any():
        found = _overlap_routes(lines[~numbered], lines[numbered], routes[numbered], 40.0, 0.5)
        routes[np.flatnonzero(~numbered)] = found
    if route_numbers is not None and any(r is None for r in routes):
        statewide = read_layer(route_numbers).to_crs("EPSG:3310")
        codes = np.array([_caltrans_label(c) for c in statewide["ROUTE_NUM"]], dtype=object)
        keep = np.array([c is not None for c in codes])
        missing = np.flatnonzero([r is None for r in routes])
        found = _overlap_routes(
            lines[missing], statewide.geometry.values[keep], codes[keep], 250.0, 0.5
        )
        routes[missing] = found
    frame["route"] = routes
    frame = frame[frame["route"].notna()]
    is_name = np.array([route_label(name) is None for name in frame["FullName"]])
    names = (
        frame[is_name]
        .assign(
            length=frame.length,
            name=frame["FullName"].str.replace(r"\bFrwy\b", "Fwy", regex=True).str.title(),
        )
        .groupby(["route", "name"])["length"]
        .sum()
        .reset_index()
        .sort_values("length", ascending=False)
        .groupby("route")["name"]
        .agg(lambda s: " / ".join(s))
    )
    merged = frame.dissolve("route", as_index=False)[["route", "geometry"]]
    merged["geometry"] = shapely.line_merge(merged.geometry.values)
    merged["name"] = merged["route"].map(names).fillna("")
    merged["label"] = (merged["route"] + " " + merged["name"]).str.strip()
    return merged[["route", "name", "label", "geometry"]].to_crs("EPSG:4326")


ROAD_LABEL_FIELDS = ("label", "name", "NAME", "FULLNAME", "ROUTE_NUM", "route", "ref")


def load_roads(frame: gpd.GeoDataFrame, source: str) -> gpd.GeoDataFrame:
    """Any line layer as roads: one line set per label (from the first of
    ``ROAD_LABEL_FIELDS`` present), with the same columns as :func:`load_freeways`."""
    kinds = set(frame.geom_type.dropna())
    if not kinds <= {"LineString", "MultiLineString"}:
        raise ExplorerError(
            f"the road layer holds {', '.join(sorted(kinds))} features where lines are expected",
            source=source,
        )
    field = next((f for f in ROAD_LABEL_FIELDS if f in frame.columns), None)
    labels = frame[field].astype("string").fillna("").str.strip() if field else ""
    roads = gpd.GeoDataFrame({"label": labels}, geometry=frame.geometry.values, crs=frame.crs)
    roads = roads.dissolve("label", as_index=False)
    roads["route"] = roads["label"]
    roads["name"] = roads["label"]
    return roads[["route", "name", "label", "geometry"]].to_crs("EPSG:4326")


def load_points(
    path: str | Path, *, weight_field: str, crs: str = "EPSG:4269", where: dict | None = None
) -> gpd.GeoDataFrame:
    """Weighted points from a CSV with LATITUDE/LONGITUDE columns (codes kept as strings)."""
    table = read_csv_text(path)
    for column, value in (where or {}).items():
        table = table[table[column] == value]
    columns = {c.upper(): c for c in table.columns}
    try:
        lat, lon = columns["LATITUDE"], columns["LONGITUDE"]
    except KeyError:
        raise ExplorerError("needs LATITUDE and LONGITUDE columns", source=path) from None
    weights = pd.to_numeric(table[weight_field.lower()], errors="coerce")
    points = gpd.GeoDataFrame(
        {"weight": weights.fillna(0.0).to_numpy()},
        geometry=gpd.points_from_xy(table[lon].astype(float), table[lat].astype(float)),
        crs=crs,
    )
    return points


# --------------------------------------------------------------------------- returns


def read_csv_text(path: str | Path) -> pd.DataFrame:
    """A CSV as strings: UTF-8 (with or without BOM), falling back to Latin-1 (noted).

    Column names are trimmed and lower-cased; blank lines are dropped; the file line of
    every row is kept in ``_line`` for error messages.
    """
    path = Path(path)
    if not path.exists():
        raise ExplorerError("file not found", source=path)
    raw = path.read_bytes()
    if not raw.strip():
        raise ExplorerError("file is empty", source=path)
    notes = []
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
        notes.append(f"{path}: not UTF-8; read as Latin-1")
    try:
        table = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=False
        )
    except pd.errors.ParserError as exc:
        reason = " ".join(str(exc).split())
        raise ExplorerError(f"not a readable CSV ({reason})", source=path) from None
    table.columns = [str(c).strip().lower() for c in table.columns]
    table["_line"] = np.arange(len(table)) + 2
    blank = (table.drop(columns="_line") == "").all(axis=1)
    table = table[~blank].reset_index(drop=True)
    table.attrs["notes"] = notes
    return table


def _same_district(values: pd.Series, district: str) -> pd.Series:
    def canon(value: str) -> str:
        value = str(value).strip()
        return value.lstrip("0") or value

    return values.map(canon) == canon(district)


def _filter_contest(
    table: pd.DataFrame, path: Path, office: str | None, district: str | None
) -> pd.DataFrame:
    if office is not None:
        if "office" not in table.columns:
            raise ExplorerError("no 'office' column to filter on", source=path)
        table = table[table["office"].str.strip().str.casefold() == office.strip().casefold()]
    elif "office" in table.columns:
        offices = sorted(table["office"].str.strip().unique())
        if len(offices) > 1:
            raise ExplorerError(
                f"the file holds {len(offices)} offices ({', '.join(offices[:6])})",
                source=path,
                hint="choose one with --office",
            )
    if district is not None and "district" in table.columns:
        table = table[_same_district(table["district"], district)]
    if table.empty:
        raise ExplorerError(
            f"no rows for office {office!r} district {district!r}",
            source=path,
            hint="check --office and --district against the file",
        )
    return table


def _parse_votes(table: pd.DataFrame, path: Path) -> pd.Series:
    if "votes" not in table.columns:
        methods = [c for c in VOTE_METHOD_COLUMNS if c in table.columns]
        if not methods:
            raise ExplorerError("missing required column 'votes'", source=path)
        return sum(_parse_count(table, c, path) for c in methods)
    return _parse_count(table, "votes", path)


def _parse_count(table: pd.DataFrame, column: str, path: Path) -> pd.Series:
    text = table[column].str.strip().str.replace(",", "", regex=False)
    numbers = pd.to_numeric(text, errors="coerce")
    bad = numbers.isna() | (numbers != np.floor(numbers)) | (numbers < 0)
    if bad.any():
        row = table[bad].iloc[0]
        value = table.loc[bad, column].iloc[0]
        what = "is negative" if value.strip().startswith("-") else "is not a whole number"
        raise ExplorerError(
            f"line {row['_line']} (precinct {row.get('precinct', '?')}, candidate "
            f"{row.get('candidate', '?')}): {column} {value!r} {what}",
            source=path,
            hint=f"fix the row; {int(bad.sum())} row(s) have this problem",
        )
    return numbers.astype("int64")


def _unify_candidates(names: pd.Series, frame: pd.DataFrame, path: Path) -> pd.Series:
    """Names differing only in case or spacing are one candidate: use the commonest spelling."""
    cleaned = names.str.split().str.join(" ")
    key = cleaned.str.casefold()
    spelling = cleaned.groupby(key).agg(lambda s: s.value_counts().index[0])
    unified = key.map(spelling)
    variants = cleaned[unified != cleaned].unique()
    if len(variants):
        _note(
            frame,
            f"{path}: merged {len(variants)} candidate spelling(s) differing in case "
            f"or spacing ({', '.join(map(repr, variants[:3]))})",
        )
    return unified


def load_returns(
    path: str | Path, *, office: str | None = None, district: str | None = None
) -> pd.DataFrame:
    """Precinct returns in long form: ``precinct, candidate, party, votes``.

    Reads OpenElections CSV (``county,precinct,office,district,party,candidate,votes``,
    optionally vote-method columns), keeps one contest, trims IDs, checks every count and
    refuses conflicting duplicate rows. Exact duplicate rows are collapsed and noted.
    """
    path = Path(path)
    table = read_csv_text(path)
    missing = [c for c in RETURNS_COLUMNS if c not in table.columns]
    if "votes" in missing and any(c in table.columns for c in VOTE_METHOD_COLUMNS):
        missing.remove("votes")
    if missing:
        raise ExplorerError(
            f"missing required column(s) {', '.join(missing)} "
            f"(has {', '.join(c for c in table.columns if c != '_line')})",
            source=path,
            hint="OpenElections columns are county,precinct,office,district,party,candidate,votes",
        )
    table = _filter_contest(table, path, office, district)
    long = pd.DataFrame(
        {
            "precinct": normalise_ids(table["precinct"]).to_numpy(),
            "candidate": table["candidate"].to_numpy(),
            "party": (table["party"].str.strip() if "party" in table else "").to_numpy()
            if "party" in table
            else "",
            "votes": _parse_votes(table, path).to_numpy(),
            "_line": table["_line"].to_numpy(),
        }
    )
    long.attrs["notes"] = list(table.attrs.get("notes", []))
    empty_id = long["precinct"] == ""
    if empty_id.any():
        raise ExplorerError(
            f"line {long.loc[empty_id, '_line'].iloc[0]}: empty precinct ID",
            source=path,
            hint="fill in or remove the row",
        )
    long["candidate"] = _unify_candidates(long["candidate"], long, path)
    long = _drop_duplicate_rows(long, path)
    return long.drop(columns="_line").reset_index(drop=True)


def _drop_duplicate_rows(long: pd.DataFrame, path: Path) -> pd.DataFrame:
    keys = ["precinct", "candidate"]
    repeated = long.duplicated(keys, keep=False)
    if not repeated.any():
        return long
    groups = long[repeated].groupby(keys)
    conflicting = groups["votes"].nunique() > 1
    if conflicting.any():
        precinct, candidate = conflicting[conflicting].index[0]
        lines = long[(long.precinct == precinct) & (long.candidate == candidate)]
        detail = ", ".join(f"line {ln}: {v}" for ln, v in zip(lines._line, lines.votes))
        raise ExplorerError(
            f"conflicting duplicate rows for precinct {precinct}, candidate {candidate} ({detail})",
            source=path,
            hint="keep one row per precinct and candidate",
        )
    deduplicated = long.drop_duplicates(keys)
    _note(deduplicated, f"{path}: dropped {len(long) - len(deduplicated)} exact duplicate row(s)")
    return deduplicated


def load_totals(
    path: str | Path, *, office: str | None = None, district: str | None = None
) -> pd.Series:
    """District-level totals per candidate (an OpenElections file without a precinct column)."""
    path = Path(path)
    table = read_csv_text(path)
    for column in ("candidate", "votes"):
        if column not in table.columns:
            raise ExplorerError(f"missing required column {column!r}", source=path)
    table = _filter_contest(table, path, office, district)
    votes = _parse_count(table, "votes", path)
    names = _unify_candidates(table["candidate"], table, path)
    return votes.groupby(names.to_numpy()).sum().rename("votes")


def wide_returns(long: pd.DataFrame) -> pd.DataFrame:
    """One row per precinct, one column per candidate (commonest first), plus ``total``."""
    order = long.groupby("candidate")["votes"].sum().sort_values(ascending=False).index
    wide = long.pivot_table(
        index="precinct", columns="candidate", values="votes", aggfunc="sum", fill_value=0
    )
    wide = wide.reindex(columns=order, fill_value=0).astype("int64")
    wide.columns.name = None
    wide["total"] = wide.sum(axis=1)
    return wide
