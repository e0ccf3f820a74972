"""Stage 2, load: vector layers and OpenElections returns as (Geo)DataFrames.

Every loader returns data with a declared CRS and records what it repaired or dropped in
``frame.attrs["notes"]`` (a list of one-line strings), so later stages can report it.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from explorer.crs import check_extent, declare_crs
from explorer.errors import ExplorerError

RETURNS_COLUMNS = ("precinct", "candidate", "votes")
VOTE_METHOD_COLUMNS = ("election_day", "mail", "early_voting", "provisional", "absentee")
#: characters that hide in IDs and names: removed (zero-width, BOM, soft hyphen) or made a
#: plain space (no-break spaces, tabs, line breaks)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_INVISIBLE.update(dict.fromkeys(map(ord, "\u00a0\u2007\u202f\t\r\n"), " "))


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
    """Layer files in a zip, leaving out macOS resource forks (``__MACOSX/``, ``._*``)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        raise ExplorerError("not a readable zip file", source=path) from None
    return [
        name
        for name in names
        if name.lower().endswith((".shp", ".geojson", ".json", ".gpkg", ".topojson"))
        and "__MACOSX/" not in name
        and not Path(name).name.startswith("._")
    ]


def _dbf_bytes(target: str) -> bytes | None:
    """The .dbf of a shapefile that has no .cpg (plain or inside a zip), else None."""
    if target.startswith("/vsizip/"):
        archive, _, member = target[len("/vsizip/") :].partition(".zip/")
        archive += ".zip"
        stem = member.rsplit(".", 1)[0]
        try:
            with zipfile.ZipFile(archive) as handle:
                names = {n.lower(): n for n in handle.namelist()}
                if (stem + ".cpg").lower() in names or (stem + ".dbf").lower() not in names:
                    return None
                return handle.read(names[(stem + ".dbf").lower()])
        except (zipfile.BadZipFile, OSError, KeyError):
            return None
    path = Path(target)
    if path.suffix.lower() != ".shp":
        return None
    for suffix in (".cpg", ".CPG"):
        if path.with_suffix(suffix).exists():
            return None
    for suffix in (".dbf", ".DBF"):
        if path.with_suffix(suffix).exists():
            return path.with_suffix(suffix).read_bytes()
    return None


def _dbf_encoding(target: str) -> str | None:
    """'UTF-8' for a shapefile without a .cpg whose .dbf declares no code page and whose
    text is valid UTF-8 with non-ASCII characters (GDAL would read it as Latin-1);
    'CP1252' where it is not UTF-8 and holds Windows-1252 punctuation (curly quotes,
    dashes); else None (GDAL's own choice)."""
    raw = _dbf_bytes(target)
    if raw is None or len(raw) < 32 or raw[29] != 0:
        return None
    records = raw[int.from_bytes(raw[8:10], "little") :]
    try:
        records.decode("utf-8")
    except UnicodeDecodeError:
        # GDAL would read Latin-1; bytes 0x80-0x9F are Windows-1252 punctuation there
        return "CP1252" if any(0x80 <= b <= 0x9F for b in records) else None
    return "UTF-8" if any(b > 127 for b in records) else None


def read_layer(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: str | None = None,
    source: str | None = None,
    crs_option: str = "--crs",
) -> gpd.GeoDataFrame:
    """Read any vector file GDAL reads (shapefile, zipped shapefile, GeoPackage, GeoJSON,
    TopoJSON, a folder of shapefiles) with clear one-line errors, and declare ``crs``
    where the file has none. A file or folder holding several layers needs ``layer``;
    ``crs_option`` names the option that sets ``crs`` in hints."""
    path = Path(path)
    label = source or str(path)
    if not path.exists():
        raise ExplorerError("file not found", source=label)
    if not path.is_file() and not path.is_dir():
        raise ExplorerError(
            "is not a regular file or folder", source=label, hint="give a layer file"
        )
    if path.is_file() and path.stat().st_size == 0:
        raise ExplorerError("file is empty", source=label, hint="re-export or re-download it")
    target: str = str(path)
    suffix = path.suffix.lower()
    notes: list[str] = []
    if suffix == ".shp":
        _check_shapefile_parts(path)
    elif suffix == ".zip":
        members = _zip_layers(path)
        if not members:
            raise ExplorerError("the zip holds no layer (.shp, .geojson, .gpkg)", source=label)
        if layer is None and len(members) > 1:
            raise ExplorerError(
                f"the zip holds {len(members)} layers ({', '.join(members[:8])})",
                source=label,
                hint="choose one with --layer NAME",
            )
        if layer is None:
            target = f"/vsizip/{path}/{members[0]}"
        else:
            chosen = [m for m in members if Path(m).stem == layer or m == layer]
            if not chosen:
                raise ExplorerError(
                    f"no layer {layer!r} in the zip (layers: {', '.join(members[:8])})",
                    source=label,
                )
            target, layer = f"/vsizip/{path}/{chosen[0]}", None
    options = {}
    encoding = _dbf_encoding(target)
    if encoding:
        options["encoding"] = encoding
        named = "UTF-8" if encoding == "UTF-8" else "Windows-1252"
        notes.append(f"{label}: read the attribute table as {named} (no .cpg file)")
    try:
        if layer is None:
            layers = pyogrio.list_layers(target)
            if len(layers) > 1:
                names = [str(name) for name in layers[:, 0]]
                # TopoJSON files usually hold one polygon object; take it when there is one
                polygonal = [n for n, kind in layers if kind is None or "Polygon" in str(kind)]
                if suffix != ".topojson" or len(polygonal) != 1:
                    raise ExplorerError(
                        f"the {'folder' if path.is_dir() else 'file'} holds {len(names)} "
                        f"layers ({', '.join(names[:8])})",
                        source=label,
                        hint="choose one with --layer NAME",
                    )
                layer = polygonal[0]
        else:
            names = [str(name) for name in pyogrio.list_layers(target)[:, 0]]
            if layer not in names:
                raise ExplorerError(
                    f"no layer {layer!r} (layers: {', '.join(names[:8])})", source=label
                )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            frame = gpd.read_file(
                target, layer=layer, engine="pyogrio", on_invalid="fix", **options
            )
    except ExplorerError:
        raise
    except UnicodeDecodeError as exc:
        raise ExplorerError(
            f"attribute table is not in a readable encoding ({exc.reason})",
            source=label,
            hint="add a .cpg file naming the encoding, or re-save the layer as UTF-8",
        ) from None
    except Exception as exc:
        reason = " ".join(str(exc).split())
        if len(reason) > 200:  # cut at a word, never mid-word
            reason = reason[:200].rsplit(" ", 1)[0] + " ..."
        raise ExplorerError(f"cannot read this layer ({reason})", source=label) from None
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        raise ExplorerError(
            "is not a spatial layer (it has no geometry)",
            source=label,
            hint="give polygons (shapefile, GeoPackage, GeoJSON); a results CSV goes to --returns",
        )
    if frame.empty:
        raise ExplorerError("layer has no features", source=label)
    frame = declare_crs(frame, crs, label, option=crs_option)
    frame.attrs["notes"] = notes + list(frame.attrs.get("notes", []))
    return frame


def repair_polygons(
    frame: gpd.GeoDataFrame, what: str, source: str, id_field: str | None = None
) -> gpd.GeoDataFrame:
    """Keep polygonal features only, repairing invalid rings with ``make_valid`` and
    keeping the polygon parts of GeometryCollections.

    Empty or null geometries, geometries with NaN coordinates and non-polygon features
    are dropped; a layer left with none is refused. Every repair and drop is counted in
    ``attrs["notes"]``, naming the first features by ``id_field`` when given.
    """
    notes = list(frame.attrs.get("notes", []))

    def named(mask) -> str:
        labels = frame[id_field][mask] if id_field in frame else frame.index[mask]
        return ", ".join(map(str, list(labels)[:3]))

    geometry = frame.geometry.values
    missing = shapely.is_missing(geometry) | shapely.is_empty(geometry)
    coords, index = shapely.get_coordinates(geometry, return_index=True)
    has_nan = np.zeros(len(frame), dtype=bool)
    has_nan[index[~np.isfinite(coords).all(axis=1)]] = True
    if (missing | has_nan).all():
        raise ExplorerError(
            f"every feature of the layer has an {'empty or null' if missing.any() else 'NaN'} "
            "geometry",
            source=source,
            hint="re-export the layer with its geometry",
        )
    if has_nan.any():
        notes.append(
            f"{source}: dropped {int(has_nan.sum())} {what} with NaN coordinates ({named(has_nan)})"
        )
    if missing.any():
        notes.append(f"{source}: dropped {int(missing.sum())} {what} with empty or null geometry")
    if (missing | has_nan).any():
        frame = frame[~(missing | has_nan)].copy()
        geometry = frame.geometry.values
    kinds = shapely.get_type_id(geometry)
    collection = kinds == 7
    if collection.any():
        geometry = geometry.copy()
        geometry[collection] = np.array(
            [polygonal_part(g) for g in geometry[collection]], dtype=object
        )
        frame = frame.set_geometry(gpd.GeoSeries(geometry, index=frame.index, crs=frame.crs))
        notes.append(
            f"{source}: kept the polygon parts of {int(collection.sum())} GeometryCollection "
            f"{what} ({named(collection)})"
        )
        geometry = frame.geometry.values
    polygonal = np.isin(shapely.get_type_id(geometry), (3, 6)) & ~shapely.is_empty(geometry)
    invalid = ~shapely.is_valid(geometry)
    if invalid.any():
        repaired = shapely.make_valid(geometry[invalid])
        # make_valid can yield collections: keep their polygonal parts
        repaired = np.array([polygonal_part(g) for g in repaired], dtype=object)
        geometry = geometry.copy()
        geometry[invalid] = repaired
        frame = frame.set_geometry(gpd.GeoSeries(geometry, index=frame.index, crs=frame.crs))
        notes.append(f"{source}: repaired {int(invalid.sum())} invalid {what} (make_valid)")
        geometry = frame.geometry.values
        polygonal = np.isin(shapely.get_type_id(geometry), (3, 6)) & ~shapely.is_empty(geometry)
    if not polygonal.all():
        if not polygonal.any():
            raise ExplorerError(
                f"the layer holds {frame.geom_type.iloc[0]} features where polygons are expected",
                source=source,
                hint="give a polygon layer",
            )
        bad = frame.index[~polygonal][:3].tolist()
        notes.append(
            f"{source}: dropped {int((~polygonal).sum())} non-polygon {what} "
            f"(first: {named(~polygonal) or bad})"
        )
        frame = frame[polygonal].copy()
    frame.attrs["notes"] = notes
    return frame


def polygonal_part(geometry):
    """The polygon parts of a geometry (a clip or repair can leave lines and points beside
    them in a GeometryCollection); an empty polygon when there are none."""
    if geometry is None or shapely.get_type_id(geometry) in (3, 6):
        return geometry
    parts = [g for g in shapely.get_parts(geometry) if shapely.get_type_id(g) in (3, 6)]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def load_precincts(
    path: str | Path, id_field: str, *, crs: str | None = None, layer: str | None = None
) -> gpd.GeoDataFrame:
    """A precinct layer with a string ``precinct`` column (see :func:`normalise_ids`);
    ``attrs["id_field"]`` names the field it came from."""
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
    frame = repair_polygons(frame, "precinct polygons", str(path), id_field="precinct")
    check_extent(frame, str(path), "--crs", given=crs)
    result = frame[["precinct", "geometry"]].reset_index(drop=True).pipe(_keep_attrs, frame)
    result.attrs["id_field"] = id_field
    return result


def _keep_attrs(new: pd.DataFrame, old: pd.DataFrame) -> pd.DataFrame:
    new.attrs = dict(old.attrs)
    return new


def normalise_ids(ids: pd.Series) -> pd.Series:
    """Precinct IDs as trimmed upper-case strings (leading zeros kept): invisible
    characters (zero-width space, BOM, soft hyphen) removed, no-break spaces and runs of
    spaces made one space, and numbers written as floats ('101.0') made whole ('101')."""
    text = ids.astype(str).str.translate(_INVISIBLE).str.split().str.join(" ").str.upper()
    return text.str.replace(r"^(\d+)\.0+$", r"\1", regex=True)


_PREFIX = re.compile(r"^(?:PCT|PRECINCT|PREC|PRCT|PCNT|PR|P)\.?\s*(?:NO\.?|#)?\s*(?=\d)")


def precinct_key(precinct_id: str) -> str:
    """An ID as a precinct number, to compare IDs written differently: no 'PCT '-style
    prefix, no spaces, and no leading zeros in any run of digits ('PCT 0002' -> '2',
    '0101' -> '101', '1-080A' -> '1-80A')."""
    text = _PREFIX.sub("", precinct_id.strip().upper())
    text = re.sub(r"\s+", "", text)
    return re.sub(r"(?<!\d)0+(?=\d)", "", text)


def load_district(
    path: str | Path,
    district_id: str,
    *,
    crs: str | None = "EPSG:4326",
    crs_option="--district-crs",
):
    """One district from a bare-geometry (or Feature) GeoJSON, with its ID in ``district``."""
    frame = read_layer(path, crs=crs, crs_option=crs_option)
    frame = repair_polygons(frame, "district shapes", str(path))
    check_extent(frame, str(path), crs_option)
    geometry = shapely.union_all(frame.geometry.values)
    return gpd.GeoDataFrame({"district": [district_id]}, geometry=[geometry], crs=frame.crs)


def load_neighbourhoods(
    path: str | Path,
    *,
    name_field: str = "name",
    where: dict | None = None,
    crs: str | None = None,
) -> gpd.GeoDataFrame:
    """Neighbourhood polygons with a ``name`` column, filtered by ``where`` and repaired;
    ``crs`` declares the CRS of a layer that has none (``--neighbourhoods-crs``)."""
    frame = read_layer(path, crs=crs, crs_option="--neighbourhoods-crs")
    for column, value in (where or {}).items():
        if column not in frame.columns:
            raise ExplorerError(f"no field {column!r} to filter on", source=path)
        frame = frame[frame[column] == value]
    if name_field not in frame.columns:
        raise ExplorerError(
            f"no name field {name_field!r} (fields: {', '.join(map(str, frame.columns))})",
            source=path,
            hint="name it with --neighbourhood-name",
        )
    frame = repair_polygons(frame.copy(), "neighbourhood polygons", str(path), name_field)
    check_extent(frame, str(path), "--neighbourhoods-crs", given=crs)
    frame = frame.rename(columns={name_field: "name"}) if name_field != "name" else frame
    frame["name"] = frame["name"].astype(str).str.strip()
    repeated = frame["name"].duplicated(keep=False)
    if repeated.any():
        notes = list(frame.attrs.get("notes", []))
        names = list(dict.fromkeys(frame.loc[repeated, "name"]))
        shown = ", ".join(map(repr, names[:5])) + (
            f" and {len(names) - 5} more" if len(names) > 5 else ""
        )
        frame = frame[["name", frame.geometry.name]].dissolve(by="name", as_index=False, sort=False)
        notes.append(
            f"{path}: {int(repeated.sum())} polygons share {len(names)} name(s) ({shown}); "
            "each name's polygons were merged into one area"
        )
        frame.attrs["notes"] = notes
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


def load_freeways(
    path: str | Path, route_numbers: str | Path | None = None, *, crs: str | None = None
) -> gpd.GeoDataFrame:
    """Freeways reduced to one line set per route, labelled like 'I-10 Santa Monica Fwy'.

    The LA County layer carries each carriageway twice, once by name ('Santa Monica Frwy')
    and once by number ('Interstate 10'). Each named line takes the route number of the
    numbered line it lies along (or, failing that, of the statewide route in
    ``route_numbers``); the copies are then unioned, which drops the duplicate segments.
    A route known by several names along its length lists them, longest first.
    ``crs`` declares the CRS of a layer that has none (``--roads-crs``).
    """
    frame = read_layer(path, crs=crs, crs_option="--roads-crs")
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


def _decode(raw: bytes, path: Path, notes: list[str]) -> str:
    """UTF-8 (with or without BOM) or UTF-16 with a BOM; otherwise Windows-1252 (noted),
    and Latin-1 for the five bytes Windows-1252 leaves undefined."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    # line by line: a file pasted together from two sources can mix UTF-8 and Windows-1252
    # lines, and decoding it whole one way would split a name in two
    decoded, cp1252, latin1 = [], [], []
    for number, line in enumerate(raw.split(b"\n"), start=1):
        try:
            decoded.append(line.decode("utf-8"))
            continue
        except UnicodeDecodeError:
            pass
        try:
            decoded.append(line.decode("cp1252"))
            cp1252.append(number)
        except UnicodeDecodeError:
            decoded.append(line.decode("latin-1"))
            latin1.append(number)

    def shown(lines: list[int]) -> str:
        more = f" and {len(lines) - 8} more" if len(lines) > 8 else ""
        return ", ".join(map(str, lines[:8])) + more

    mixed = (
        "; the other lines are UTF-8"
        if any(
            max(line, default=0) >= 0x80
            for i, line in enumerate(raw.split(b"\n"), start=1)
            if i not in cp1252 and i not in latin1
        )
        else ""
    )
    if cp1252:
        notes.append(
            f"{path}: not UTF-8; read as Windows-1252 (a superset of Latin-1) on line(s) "
            f"{shown(cp1252)}{mixed}"
        )
    if latin1:
        notes.append(f"{path}: not UTF-8; read as Latin-1 on line(s) {shown(latin1)}{mixed}")
    return "\n".join(decoded)


def _delimiter(first_line: str) -> str:
    if "," not in first_line:
        for candidate in ("\t", ";", "|"):
            if candidate in first_line:
                return candidate
    return ","


def read_csv_text(path: str | Path) -> pd.DataFrame:
    """A CSV as strings: UTF-8 (with or without BOM), falling back to Windows-1252 (noted).

    Column names are trimmed and lower-cased (a name used twice is refused); blank lines
    are dropped; a row with more or fewer fields than the header is refused by its line;
    the file line where every row starts is kept in ``_line`` for error messages (right
    even after quoted fields that span lines).
    """
    path = Path(path)
    if not path.exists():
        raise ExplorerError("file not found", source=path)
    if not path.is_file():
        raise ExplorerError(
            "is not a regular file", source=path, hint="give a CSV file, not a folder or device"
        )
    raw = path.read_bytes()
    if not raw.strip():
        raise ExplorerError("file is empty", source=path)
    head = raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:64]
    layer_kind = (
        "a GeoJSON or JSON file"
        if head.startswith((b"{", b"["))
        else "a zip archive"
        if head.startswith(b"PK\x03\x04")
        else "a GeoPackage (SQLite) file"
        if head.startswith(b"SQLite format")
        else "a shapefile part"
        if path.suffix.lower() in (".shp", ".dbf", ".shx")
        else None
    )
    if layer_kind:
        raise ExplorerError(
            f"is not a CSV (it is {layer_kind})",
            source=path,
            hint="give a CSV here; layers go to --precincts or --neighbourhoods",
        )
    notes: list[str] = []
    text = _decode(raw, path, notes)
    if "\x00" in text and raw[:200].count(b"\x00") * 3 >= len(raw[:200]):
        raise ExplorerError(
            "looks like UTF-16 text without a byte-order mark",
            source=path,
            hint="re-save it as a UTF-8 CSV (e.g. 'CSV UTF-8' in Excel)",
        )
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise ExplorerError(
            f"line {line}: holds a NUL byte, so this is not a text CSV", source=path
        )
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text.split("\n", 1)[0]))
    rows, lines = [], []
    start = 1
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append(row)
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ExplorerError(
            f"line {reader.line_num}: not a readable CSV ({exc})", source=path
        ) from None
    if not rows:
        raise ExplorerError("file is empty", source=path)
    header = [str(c).translate(_INVISIBLE).strip().lower() for c in rows[0]]
    seen: dict[str, int] = {}
    for index, name in enumerate(header):
        if name and name in seen:
            raise ExplorerError(
                f"the header names column {name!r} twice (columns {seen[name] + 1} and "
                f"{index + 1})",
                source=path,
                hint="rename or remove one of them",
            )
        seen[name] = index
    width = len(header)
    body = []
    for row, line in zip(rows[1:], lines[1:]):
        if len(row) > width and not any(cell.strip() for cell in row[width:]):
            row = row[:width]  # trailing empty fields, as spreadsheets write them
        if len(row) != width:
            raise ExplorerError(
                f"line {line} has {len(row)} fields where the header has {width}",
                source=path,
                hint="check that row for a stray or missing comma or quote",
            )
        body.append(row)
    named = [i for i, name in enumerate(header) if name]
    table = (
        pd.DataFrame(
            [[row[i] for i in named] for row in body],
            columns=[header[i] for i in named],
            dtype=object,
        ).astype(str)
        if body
        else pd.DataFrame(columns=[header[i] for i in named], dtype=str)
    )
    table["_line"] = np.array(lines[1:], dtype="int64")
    table.attrs["notes"] = notes
    return table


def _canon_district(value) -> str:
    value = str(value).translate(_INVISIBLE).strip()
    value = re.sub(r"(?i)^(?:district|dist\.?|d)\s*(?=\d)", "", value)  # 'District 2' is 2
    if re.fullmatch(r"\d+\.0+", value):
        value = value.split(".")[0]
    return value.lstrip("0") or value


def _same_district(values: pd.Series, district: str) -> pd.Series:
    return values.map(_canon_district) == _canon_district(district)


def _filter_contest(
    table: pd.DataFrame, path: Path, office: str | None, district: str | None
) -> pd.DataFrame:
    """Keep one contest: one office (``--office``) and, where the office is held in several
    districts, one district (``--contest-district``); several of either are refused."""
    if table.empty:
        raise ExplorerError(
            "no data rows (the file holds only a header)", source=path, hint="export the rows"
        )
    content = [c for c in ("precinct", "candidate", "votes") if c in table.columns]
    stray = (table[content].apply(lambda c: c.str.strip()) == "").all(axis=1)
    if stray.any() and not stray.all():  # a footer such as 'Note: unofficial results'
        first = table[stray].iloc[0]
        text = next((str(v).strip() for v in first.drop("_line") if str(v).strip()), "")
        _note(
            table,
            f"{path}: left out {int(stray.sum())} line(s) with no precinct, candidate or votes "
            f"(line {first['_line']}{': ' + repr(text[:60]) if text else ''})",
        )
        table = table[~stray]
    every_office = (
        sorted(set(table["office"].str.split().str.join(" "))) if "office" in table else []
    )
    every_district = (
        sorted({d for d in table["district"].map(_canon_district) if d})
        if "district" in table
        else []
    )
    if office is not None:
        if "office" not in table.columns:
            raise ExplorerError("no 'office' column to filter on", source=path)
        wanted = " ".join(office.split()).casefold()
        table = table[table["office"].str.split().str.join(" ").str.casefold() == wanted]
    elif "office" in table.columns:
        names = table["office"].str.split().str.join(" ")
        pseudo = names.map(pseudo_candidate).notna() & (names != "")
        if pseudo.any() and not pseudo.all():  # 'Registered Voters' rows are not a contest
            _note(
                table,
                f"{path}: left out {int(pseudo.sum())} row(s) of "
                f"{', '.join(map(repr, sorted(names[pseudo].unique())[:3]))} (not a contest)",
            )
            table, names = table[~pseudo], names[~pseudo]
        offices = sorted(names.unique())
        if len(offices) > 1:
            raise ExplorerError(
                f"the file holds {len(offices)} offices ({', '.join(offices[:6])})",
                source=path,
                hint="choose one with --office",
            )
    if district is not None:
        if "district" not in table.columns:
            raise ExplorerError(
                "no 'district' column to filter on", source=path, hint="drop --contest-district"
            )
        table = table[_same_district(table["district"], district)]
    elif "district" in table.columns and len(table):
        districts = table["district"].map(_canon_district)
        found = sorted(d for d in districts.unique() if d)
        if len(found) > 1:
            shown = sorted(found, key=lambda d: (len(d), d))
            raise ExplorerError(
                f"the file holds {len(found)} districts for this office ({', '.join(shown[:8])}"
                f"{', ...' if len(found) > 8 else ''})",
                source=path,
                hint="choose one with --contest-district",
            )
    if table.empty:
        asked = " and ".join(
            f"{label} {value!r}"
            for label, value in (("--office", office), ("--contest-district", district))
            if value is not None
        )
        offered = "; ".join(
            f"{label}: {', '.join(values[:8])}{', ...' if len(values) > 8 else ''}"
            for label, values in (
                ("offices", every_office),
                (
                    "districts",
                    every_district or (["(none: the column is blank)"] if district else []),
                ),
            )
            if values
        )
        raise ExplorerError(
            f"no rows for {asked or 'this contest'}",
            source=path,
            hint=f"the file holds {offered}" if offered else "check the file",
        )
    return table


#: largest count believed for one row (one precinct, one candidate)
MAX_COUNT = 1_000_000_000
_GROUPED = re.compile(r"^\d{1,3}(?:,\d{3})+(?:\.0+)?$")


def _parse_votes(table: pd.DataFrame, path: Path) -> pd.Series:
    """The ``votes`` column, or, where it is absent or blank, the sum of the vote-method
    columns (a blank method cell counts 0: the method had no votes in that row)."""
    methods = [c for c in VOTE_METHOD_COLUMNS if c in table.columns]
    if "votes" not in table.columns:
        if not methods:
            raise ExplorerError("missing required column 'votes'", source=path)
        return sum(_parse_count(table, c, path, blank_is_zero=True) for c in methods)
    if not methods:
        return _parse_count(table, "votes", path)
    blank = table["votes"].str.strip() == ""
    by_method = sum(_parse_count(table, c, path, blank_is_zero=True) for c in methods)
    if blank.any():
        _note(
            table,
            f"{path}: {int(blank.sum())} row(s) with a blank votes cell took the sum of "
            f"their vote-method columns ({', '.join(methods)})",
        )
    votes = _parse_count(table[~blank], "votes", path).reindex(table.index)
    return votes.fillna(by_method).astype("int64")


def _parse_count(
    table: pd.DataFrame, column: str, path: Path, *, blank_is_zero: bool = False
) -> pd.Series:
    """Whole, non-negative counts: '1,234' (well-formed thousands groups) and '12.0' are
    read; '12,5', '1,2,3', '12.5', 'inf', 'nan' and counts over 10^9 are refused, naming
    the line."""
    text = table[column].astype(str).str.translate(_INVISIBLE).str.strip()
    if blank_is_zero:
        text = text.mask(text == "", "0")
    grouped = text.str.match(_GROUPED)
    if grouped.any():
        _note(
            table,
            f"{path}: read {int(grouped.sum())} {column} count(s) written with "
            "thousands separators (e.g. " + repr(text[grouped].iloc[0]) + ")",
        )
    cleaned = text.mask(grouped, text.str.replace(",", "", regex=False))
    plain = cleaned.str.fullmatch(r"-?(?:\d+(?:\.\d*)?|\.\d+)")
    numbers = pd.to_numeric(cleaned.where(plain), errors="coerce").astype(float)
    with np.errstate(invalid="ignore"):
        bad = (
            numbers.isna() | (numbers != np.floor(numbers)) | (numbers < 0) | (numbers > MAX_COUNT)
        )
    if bad.any():
        row = table[bad].iloc[0]
        value = str(table.loc[bad, column].iloc[0])
        number = numbers[bad].iloc[0]
        if "," in value:
            what = "is not a number (a thousands separator must group three digits)"
        elif re.fullmatch(r"\s*[+-]?[\d.]+[eE][+-]?\d+\s*", value):
            what = "is in scientific notation, which rounds counts (write the whole number)"
        elif value.strip().startswith("+"):
            what = "has a leading '+' (a count is written as plain digits)"
        elif np.isnan(number):
            what = "is not a whole number"
        elif number < 0:
            what = "is negative"
        elif number > MAX_COUNT:
            what = f"is implausibly large for one row (over {MAX_COUNT:,})"
        else:
            what = "is not a whole number"
        raise ExplorerError(
            f"line {row['_line']} (precinct {row.get('precinct', '?')}, candidate "
            f"{row.get('candidate', '?')}): {column} {value!r} {what}",
            source=path,
            hint=f"fix the row; {int(bad.sum())} row(s) have this problem",
        )
    return numbers.astype("int64")


# --------------------------------------------------------------------------- pseudo rows

#: what a pseudo-candidate row counts, by the name it is written under
PSEUDO_KINDS = (
    (
        "registered voters",
        r"(total )?(number of )?(registered|registration|reg)( voters?)?"
        r"( total)?|voters registered|total voters registered",
    ),
    (
        "ballots cast",
        r"(total )?(ballots|times|cards|voters)( cast| voted| counted)?( total)?"
        r"|(total )?(number of )?ballots cast( total)?|turnout|public count",
    ),
    ("over votes", r"(total |times |number of )?over ?(votes?|voted|vote count)( total)?|overs"),
    ("under votes", r"(total |times |number of )?under ?(votes?|voted|vote count)( total)?|unders"),
    ("blank", r"(total )?blank( votes?| ballots?)?( total)?|blanks|(ballots cast )?blank"),
    ("void", r"(void|voids|spoiled|rejected|invalid|null)( votes?| ballots?)?"),
    (
        "total",
        r"(grand )?totals?( votes?)?( cast)?( for (the )?(office|contest|race))?"
        r"|(total )?votes cast( total)?|vote totals?",
    ),
)
_PSEUDO = [(kind, re.compile(rf"(?:{pattern})")) for kind, pattern in PSEUDO_KINDS]


def pseudo_candidate(name: str) -> str | None:
    """The kind of a pseudo-candidate row ('Total Votes' -> 'total', 'Under Votes' ->
    'under votes', 'Registered Voters' -> 'registered voters'), or None for a real
    candidate (write-ins are votes, so they are candidates)."""
    words = re.sub(r"[^a-z]+", " ", str(name).translate(_INVISIBLE).casefold()).strip()
    words = re.sub(r"\b(overvotes|undervotes)\b", lambda m: m.group(1)[:-5] + " votes", words)
    if not words:
        return None
    for kind, pattern in _PSEUDO:
        if pattern.fullmatch(words):
            return kind
    return _pseudo_family(words)


#: words a pseudo-candidate name is made of; a name with any other word ('Total Wine
#: Smith', 'None of These Candidates') is a candidate
_PSEUDO_WORDS = frozenset(
    [
        "total",
        "totals",
        "grand",
        "contest",
        "race",
        "office",
        "precinct",
        "precincts",
        "pct",
        "reporting",
        "reported",
        "number",
        "of",
        "no",
        "count",
        "counted",
        "counts",
        "registered",
        "registration",
        "reg",
        "voters",
        "voter",
        "turnout",
        "ballots",
        "ballot",
        "cast",
        "times",
        "voted",
        "votes",
        "vote",
        "over",
        "under",
        "overvote",
        "overvotes",
        "undervote",
        "undervotes",
        "overvoted",
        "undervoted",
        "blank",
        "blanks",
        "exhausted",
        "exhaust",
        "inactive",
        "the",
        "for",
        "and",
        "in",
        "percent",
        "pct",
    ]
)
#: the family a pseudo name belongs to, by its first key word found (in this order)
_PSEUDO_FAMILIES = (
    ({"registered", "registration", "reg"}, "registered voters"),
    ({"reporting", "reported", "precincts"}, "precincts reporting"),
    ({"exhausted", "exhaust", "inactive"}, "exhausted ballots"),
    ({"turnout", "voters", "voter", "ballots", "ballot", "times"}, "ballots cast"),
    ({"over", "overvote", "overvotes", "overvoted"}, "over votes"),
    ({"under", "undervote", "undervotes", "undervoted"}, "under votes"),
    ({"blank", "blanks"}, "blank"),
    ({"total", "totals"}, "total"),
)


def _pseudo_family(words: str) -> str | None:
    """Pattern families (total, turnout, reporting, registered, over/under, blank,
    exhausted): a name made only of those words is a pseudo-candidate."""
    tokens = words.split()
    if not set(tokens) <= _PSEUDO_WORDS:
        return None
    found = set(tokens)
    over = found & {"over", "overvote", "overvotes", "overvoted"}
    under = found & {"under", "undervote", "undervotes", "undervoted"}
    if over and under:
        return "over and under votes"
    for keys, kind in _PSEUDO_FAMILIES:
        if found & keys:
            return kind
    return None


_WRITE_IN_TOTAL = re.compile(
    r"(total )?write ?ins?( votes?)?( totals?)|total write ?ins?( votes?)?"
)


def _write_in_totals(long: pd.DataFrame, path: Path) -> pd.Series:
    """Rows of a write-in *total* ('Write-In Totals'): pseudo where the file also lists
    individual write-ins (they would be counted twice), else votes; noted either way."""
    words = long["candidate"].map(
        lambda n: re.sub(r"[^a-z]+", " ", str(n).translate(_INVISIBLE).casefold()).strip()
    )
    total = words.map(lambda w: bool(_WRITE_IN_TOTAL.fullmatch(w)))
    if not total.any():
        return pd.Series(False, index=long.index)
    # a named write-in: 'Jo Doe (Write-In)', 'Write-in: Jo Doe', 'W/I Jo Doe'
    individual = ~total & (
        words.str.contains(r"\bwrite ?in\b") | long["candidate"].str.contains(r"(?i)\bw/i\b")
    )
    label = ", ".join(sorted(map(repr, long.loc[total, "candidate"].unique())))
    if individual.any():
        _note(
            long,
            f"{path}: {label} is a total of the individual write-in rows also in the file; "
            "kept out of the candidates (counting it would count those votes twice)",
        )
        return total
    _note(long, f"{path}: {label} counted as votes (the file lists no individual write-ins)")
    return pd.Series(False, index=long.index)


#: precinct names that stand for county-wide vote-method or adjustment rows, not places
COUNTY_WIDE = re.compile(
    r"(?:(?:county|countywide|county wide)\s+)?"
    r"(?:prov|provisional|provisionals|absentee|absentees|absentee by mail|absentee mail|"
    r"mail|mail in|mail ballots?|vote by mail|vbm|by mail|one stop|one stop early voting|"
    r"early|early voting|early vote|advance voting|in person absentee|transfer|transfers|"
    r"curbside|federal|federal only|overseas|uocava|military|presidential only|"
    r"limited|supplemental|emergency|paper ballots?|hand count|cvr|"
    r"county total|county totals|total|totals|grand total)"
    r"(?:\s*(?:ballots?|votes?|precinct|pct|\d+))*",
)


#: precinct names that stand for a total of the file, never a place
_TOTAL_PRECINCT = re.compile(r"(?:(?:county|countywide|county wide|grand) )?totals?")


def _words(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", str(text).casefold()).strip()


def county_wide(precinct: str) -> bool:
    """True for a pseudo-precinct such as PROV, ABSENTEE, ONE STOP or TRANSFER (or a blank
    precinct): county-wide rows that no polygon can carry."""
    words = re.sub(r"[^a-z0-9]+", " ", str(precinct).casefold()).strip()
    return not words or bool(COUNTY_WIDE.fullmatch(words))


BLANK_PRECINCT = "(blank precinct)"

METHOD_WORDS = (
    r"mail|mail in|mail ballots?|by mail|vote by mail|vbm|absentee|abs|ab|prov|provisional|"
    r"federal|fed|election day|eday|ed|e day|polls?|in person|early|early voting|ev|"
    r"one stop|overseas|uocava|military|curbside|transfer"
)
_METHOD_SUFFIX = re.compile(
    rf"^(?P<base>.*?\S)\s*(?:-|\u2013|/|,|:|\()\s*(?P<method>{METHOD_WORDS})"
    rf"(?:\s*(?:votes?|ballots?))?\)?$",
    re.IGNORECASE,
)


def _fold_method_rows(long: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Rows whose precinct is another precinct plus a vote method ('ALDAN EASTERN - MAIL')
    are that precinct's votes cast by that method: fold them into it (noted)."""
    ids = pd.Series(long["precinct"].unique())
    found = ids.str.extract(_METHOD_SUFFIX)
    base = found["base"].str.strip()
    present = set(ids)
    counts = base.value_counts()
    folds = {
        precinct: parent
        for precinct, parent in zip(ids, base)
        if isinstance(parent, str)
        and not county_wide(parent)
        and (parent in present or counts.get(parent, 0) > 1)
    }
    if not folds:
        return long
    long = long.copy()
    long["precinct"] = long["precinct"].replace(folds)
    example = next(iter(folds))
    _note(
        long,
        f"{path}: folded {len(folds)} vote-method row group(s) into their precincts "
        f"(e.g. {example!r} into {folds[example]!r})",
    )
    long = long.groupby(["precinct", "candidate"], as_index=False, sort=False).agg(
        party=("party", "first"), votes=("votes", "sum"), _line=("_line", "min")
    )
    return long


def _split_pseudo_candidates(long: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Move pseudo-candidate rows (Total, Ballots Cast, Under Votes...) out of the
    candidates into ``attrs["pseudo"]`` (a list of (precinct, kind, votes)), noted."""
    kinds = long["candidate"].map(pseudo_candidate)
    kinds = kinds.mask(_write_in_totals(long, path), "write-in total")
    is_pseudo = kinds.notna()
    pseudo = list(
        zip(
            long.loc[is_pseudo, "precinct"].tolist(),
            kinds[is_pseudo].tolist(),
            long.loc[is_pseudo, "votes"].astype(int).tolist(),
        )
    )
    kept = long[~is_pseudo].copy()
    kept.attrs = dict(long.attrs)
    if is_pseudo.any():
        names = sorted(long.loc[is_pseudo, "candidate"].unique())
        _note(
            kept,
            f"{path}: {int(is_pseudo.sum())} row(s) named {', '.join(map(repr, names[:5]))}"
            + (f" and {len(names) - 5} more" if len(names) > 5 else "")
            + " are not candidates; kept out of the results and listed in the ledger",
        )
        if kept.empty:
            raise ExplorerError(
                "every row is a total or another non-candidate line",
                source=path,
                hint="check --office; the file holds no candidate rows",
            )
    kept.attrs["pseudo"] = pseudo
    return kept


def _county_wide_rows(long: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Blank precincts and county-wide rows (PROV, ABSENTEE, ONE STOP...): kept as their
    own unmapped result rows, listed in ``attrs["county_wide"]``. A row that only repeats
    the sum of the named precincts (a county total) is dropped, noted."""
    long = long.copy()
    blank = long["precinct"] == ""
    long["precinct"] = long["precinct"].mask(blank, BLANK_PRECINCT)
    wide_ids = long["precinct"].unique()
    flagged = [p for p in wide_ids if county_wide(p) or p == BLANK_PRECINCT]
    if not flagged:
        long.attrs["county_wide"] = []
        return long
    named = long[~long["precinct"].isin(flagged)]
    sums = named.groupby("candidate")["votes"].sum()
    totals = []
    for precinct in flagged:
        rows = long[long["precinct"] == precinct].groupby("candidate")["votes"].sum()
        others = long[long["precinct"] != precinct].groupby("candidate")["votes"].sum()
        for whole in (sums, others):  # the named precincts, or every other row
            if len(named) and rows.reindex(whole.index, fill_value=0).equals(whole):
                totals.append(precinct)
                break
    # a 'Total' / 'County Total' row that does not repeat the sum is still not a place:
    # never counted, dropped with the difference
    uneven = [p for p in flagged if p not in totals and _TOTAL_PRECINCT.fullmatch(_words(p))]
    for precinct in uneven:
        rows = long[long["precinct"] == precinct].groupby("candidate")["votes"].sum()
        whole = named.groupby("candidate")["votes"].sum()
        gap = rows.reindex(rows.index.union(whole.index), fill_value=0) - whole.reindex(
            rows.index.union(whole.index), fill_value=0
        )
        differs = ", ".join(f"{name} {int(v):+,}" for name, v in gap.items() if v)
        _note(
            long,
            f"{path}: dropped the row(s) of {precinct!r}: a total, not a place, and it differs "
            f"from the sum of the named precincts ({differs or 'no difference'}); not counted",
        )
    if totals:
        _note(
            long,
            f"{path}: dropped the row(s) of {', '.join(map(repr, totals))}: they repeat the "
            "sum of the named precincts (a county total)",
        )
    totals += uneven
    long = long[~long["precinct"].isin(totals)]
    long.attrs["dropped_totals"] = totals
    kept = [p for p in flagged if p not in totals]
    if kept:
        _note(
            long,
            f"{path}: {len(kept)} county-wide row group(s) are not places and stay unmapped "
            f"({', '.join(kept[:6])})",
        )
    long.attrs["county_wide"] = kept
    return long


#: column names the program itself uses beside the candidates' vote columns
RESERVED_NAMES = frozenset(
    {
        "precinct",
        "match",
        "members",
        "n_members",
        "inferred_members",
        "parts",
        "geometry",
        "total",
        "winner",
        "winner_share",
        "margin",
        "name",
        "rank",
        "votes",
        "share",
        "exact_share",
        "inferred_share",
        "partial_share",
        "coverage",
        "candidate",
        "party",
        "district",
        "county",
        "office",
        "returns",
        "mapped",
        "unmapped",
        "exact",
        "base",
        "inferred",
        "crosswalk",
        "area",
        "id",
        "turnout",
        "status",
        "methods",
        "percent",
        "none",
        "tie",
        "weight",
        "index",
        "level_0",
        "_line",
    }
)
CANDIDATE_MARK = " (candidate)"


def _rename_reserved(long: pd.DataFrame, path: Path) -> pd.DataFrame:
    """A candidate named like one of the program's own columns ('winner', 'precinct',
    'geometry'...) is kept as '<name> (candidate)', noted, so it cannot overwrite them."""
    names = pd.Series(long["candidate"].unique())
    clash = [n for n in names if n in RESERVED_NAMES]
    if not clash:
        return long
    taken = set(names)
    renames = {}
    for name in clash:
        new = name + CANDIDATE_MARK
        while new in taken:
            new += CANDIDATE_MARK
        taken.add(new)
        renames[name] = new
    long = long.copy()
    long["candidate"] = long["candidate"].replace(renames)
    _note(
        long,
        f"{path}: candidate name(s) {', '.join(map(repr, renames))} are the program's own "
        f"column names; shown as {', '.join(map(repr, renames.values()))}",
    )
    return long


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
    optionally vote-method columns), keeps one contest, repairs IDs, checks every count and
    refuses conflicting duplicate rows. Exact duplicate rows are collapsed and noted.
    Pseudo-candidate rows (Total, Ballots Cast, Registered Voters, Over/Under Votes,
    Blank...) are kept out of the candidates, in ``attrs["pseudo"]`` (a list of
    (precinct, kind, votes)); county-wide pseudo-precincts (PROV, ABSENTEE, ONE STOP, a
    blank precinct...) are listed in ``attrs["county_wide"]``; rows written per vote method as extra
    precincts ('X - Mail') are folded into their precinct. Every repair is in
    ``attrs["notes"]``.
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
    votes = _parse_votes(table, path)
    long = pd.DataFrame(
        {
            "precinct": normalise_ids(table["precinct"]).to_numpy(),
            "candidate": table["candidate"].to_numpy(),
            "party": (table["party"].str.strip() if "party" in table else "").to_numpy()
            if "party" in table
            else "",
            "votes": votes.to_numpy(),
            "_line": table["_line"].to_numpy(),
        }
    ).copy()  # own, writable arrays: pandas 3 without pyarrow hands out read-only views
    long.attrs["notes"] = list(table.attrs.get("notes", []))
    for column in ("office", "district"):
        if column in table.columns:
            values = table[column].str.split().str.join(" ").unique()
            long.attrs[column] = values[0] if len(values) == 1 else None
    names = long["candidate"].astype(str).str.translate(_INVISIBLE).str.split().str.join(" ")
    if (names == "").any():
        raise ExplorerError(
            f"line {long.loc[names == '', '_line'].iloc[0]}: empty candidate name",
            source=path,
            hint="fill in or remove the row",
        )
    long["candidate"] = _unify_candidates(names, long, path)
    if "county" in table.columns:
        _refuse_ids_across_counties(long, table["county"].to_numpy(), path)
    long = _drop_duplicate_rows(long, path)
    long = _same_numbers(long, path)
    long["precinct"] = long["precinct"].mask(long["precinct"] == "", BLANK_PRECINCT)
    long = _fold_method_rows(long, path)
    long = _split_pseudo_candidates(long, path)
    pseudo = long.attrs["pseudo"]
    long = _county_wide_rows(long, path)
    dropped_totals = set(long.attrs.pop("dropped_totals", []))
    long.attrs["pseudo"] = [row for row in pseudo if row[0] not in dropped_totals]
    long = _rename_reserved(long, path)
    return long.drop(columns="_line").reset_index(drop=True)


def _refuse_ids_across_counties(long: pd.DataFrame, county, path: Path) -> None:
    """Rows of different counties are never duplicates of each other: a precinct ID used
    by two counties in one file is refused, naming the counties (a precinct layer is one
    county's IDs or its IDs are qualified by county)."""
    counties = pd.Series(county, index=long.index).astype(str).str.split().str.join(" ")
    named = counties != ""
    if counties[named].nunique() < 2:
        return
    spread = pd.DataFrame({"precinct": long["precinct"], "county": counties})[named]
    spread = spread[spread["precinct"] != ""]
    per_id = spread.groupby("precinct")["county"].nunique()
    shared = per_id[per_id > 1]
    if shared.empty:
        return
    precinct = shared.index[0]
    names = sorted(spread.loc[spread["precinct"] == precinct, "county"].unique())
    raise ExplorerError(
        f"precinct ID {precinct!r} is used by {len(names)} counties ({', '.join(names)}); "
        f"{len(shared)} ID(s) repeat across counties, so rows cannot be told apart",
        source=path,
        hint="split the file by county, or make IDs unique (e.g. 'County-101') in the "
        "returns and the precinct layer",
    )


def _same_numbers(long: pd.DataFrame, path: Path) -> pd.DataFrame:
    """IDs that are one precinct number written two ways in the same file ('01' and '1',
    'PCT 2' and '2') are one precinct: its rows then follow the duplicate rule."""
    ids = pd.Series(long["precinct"].unique())
    keys = ids.map(precinct_key)
    twice = keys.duplicated(keep=False) & (keys != "")
    if not twice.any():
        return long
    first = ids[twice].groupby(keys[twice]).transform("first")
    renames = {old: new for old, new in zip(ids[twice], first) if old != new}
    long = long.copy()
    long["precinct"] = long["precinct"].replace(renames)
    example = next(iter(renames.items()))
    _note(
        long,
        f"{path}: {len(renames)} precinct ID(s) repeat another written differently "
        f"(e.g. {example[0]!r} and {example[1]!r}); their rows follow the duplicate rule",
    )
    return _drop_duplicate_rows(long, path)


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
    real = names.map(pseudo_candidate).isna().to_numpy()  # no Total or Ballots Cast lines
    return votes[real].groupby(names[real].to_numpy()).sum().rename("votes")


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
