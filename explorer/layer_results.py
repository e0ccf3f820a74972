"""Stage 2, load: results that ship inside the precinct layer, from one file or many.

Redistricting data ships votes as feature properties rather than a separate returns file:
Dave's Redistricting (DRA, ``dra2020/vtd_data``) nests them (``datasets.E_20_PRES.Dem``,
``.Rep``, ``.Total``), VEST uses flat columns (``G20PREDBID``). This module reads such
layers, one file or a list/glob of files read in parallel as one layer with a ``state``
column, and turns the chosen properties into the wide returns table the join expects.

Fields are named as the user sees them: ``E_20_PRES.Dem`` finds DRA's nested
``datasets.E_20_PRES.Dem``; a flat name (``G20PREDBID``) is taken as it is.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
import warnings
import zipfile
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from explorer import catalog
from explorer.crs import check_extent, declare_crs, outside_lonlat
from explorer.errors import ExplorerError
from explorer.loaders import normalise_ids, polygonal_part
from explorer.loaders.returns import MAX_COUNT

FLATTEN = {"FLATTEN_NESTED_ATTRIBUTES": "YES", "NESTED_ATTRIBUTE_SEPARATOR": "."}
NESTED_PREFIXES = ("", "datasets.")
OTHER = "other"
#: fields naming a feature's state, read into ``state`` when the file name does not say
STATE_FIELDS = ("STUSPS", "STUSPS20", "STATE", "state", "STATEFP20", "STATEFP")
STATE_FIELD = "\0state"
#: DRA's own file naming, ``Geojson_<ST>.v06.zip`` (the only file name a state is read from)
_DRA_NAME = re.compile(r"^Geojson_([A-Za-z]{2})(?:\.v\d+)?\.(?:zip|geojson|json)$")


def expand_paths(
    precincts: str | Path | Iterable[str | Path], data_dir: str | Path | None = None
) -> list[Path]:
    """Local files for a path, a glob (``'vtd/*/Geojson_*.zip'``) or a list of either.

    A pattern that matches catalog paths (e.g. ``dra2020/vtd_data/2020_VTD/*/Geojson_*.zip``)
    fetches those files (verified by sha256); otherwise it is globbed on disk.
    Raises :class:`ExplorerError` when a pattern matches nothing.
    """
    items = [precincts] if isinstance(precincts, (str, Path)) else list(precincts)
    files: list[Path] = []
    for item in items:
        text = str(item)
        known = [e.path for e in catalog.read_catalog()]
        in_catalog = sorted({p for p in known if fnmatch.fnmatchcase(p, text)})
        if in_catalog:
            files += [catalog.local_path(p, data_dir) for p in in_catalog]
            continue
        if any(c in text for c in "*?["):
            found = sorted(glob.glob(os.path.expanduser(text)))
            if not found:
                raise ExplorerError("the pattern matches no file", source=text)
            files += [Path(f) for f in found]
        else:
            files.append(Path(text).expanduser())
    for file in files:
        if not file.exists():
            raise ExplorerError("file not found", source=file)
    if len(set(files)) != len(files):
        raise ExplorerError("the same file is named twice", source=", ".join(map(str, files)))
    return files


def state_of(path: Path) -> str:
    """The state in DRA's own file naming (``Geojson_MI.v06.zip`` -> ``MI``), else ``""``.

    No other file name is read: a two-letter capital token (``Delaware_2020_OR_later``,
    ``precincts_by_ID``) is not a state. A layer's own state field wins over this (see
    :func:`read_results_file`)."""
    found = _DRA_NAME.match(Path(path).name)
    return found.group(1).upper() if found else ""


def _target(path: Path) -> str:
    """The GDAL path of the one layer in ``path`` (a zip may also hold a README, a licence
    and, as DRA's do, a ``*_graph.json`` adjacency graph, which is not a layer)."""
    if path.suffix.lower() != ".zip":
        return str(path)
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile:
        raise ExplorerError("not a readable zip file", source=path) from None
    members = [n for n in names if n.lower().endswith((".shp", ".geojson", ".gpkg"))]
    if not members:
        members = [
            n for n in names if n.lower().endswith((".json", ".topojson")) and "graph" not in n
        ]
    if len(members) != 1:
        raise ExplorerError(
            f"the zip holds {len(members)} layers, not one ({', '.join(members)})", source=path
        )
    return f"/vsizip/{path}/{members[0]}"


def resolve_fields(available: Iterable[str], wanted: Iterable[str], source) -> dict[str, str]:
    """Map each wanted field (``E_20_PRES.Dem``, ``G20PREDBID``) to the layer's column.

    Looks for the name as given, then under DRA's ``datasets.`` prefix. Raises
    :class:`ExplorerError` naming the field and a few close alternatives."""
    available = list(available)
    found = {}
    for name in wanted:
        for prefix in NESTED_PREFIXES:
            if prefix + name in available:
                found[name] = prefix + name
                break
        else:
            stem = name.split(".")[0]
            close = [a for a in available if stem in a][:6] or available[:8]
            raise ExplorerError(
                f"no field {name!r} in the layer",
                source=source,
                hint="fields include " + ", ".join(close),
            )
    return found


#: a field name that looks like a feature ID: GEOID20, VTDST20, PRECINCT, UNIQUE_ID, precinctID
_ID_LIKE = re.compile(r"(?i:geoid|vtd|precinct|(?:^|[^a-z])id(?:[^a-z]|$))|[a-z]ID(?:[^a-zA-Z]|$)")


def id_like_fields(target: str, fields: Iterable[str], options: Mapping | None = None) -> list[str]:
    """Fields of the layer at ``target`` whose name looks like an ID (``GEOID20``,
    ``VTDST20``, ``PRECINCT``, ``..._ID``) and whose values are all present and unique:
    what to suggest for ``--precinct-id``. Reads those columns only, without geometry."""
    looks = [f for f in fields if _ID_LIKE.search(f)]
    if not looks:
        return []
    try:
        frame = pyogrio.read_dataframe(
            target, columns=looks, read_geometry=False, **(options or {})
        )
    except Exception:  # a suggestion only: the caller's error says what is wrong
        return []
    return [f for f in looks if frame[f].notna().all() and frame[f].is_unique]


def read_results_file(
    path: str | Path,
    fields: Iterable[str],
    *,
    precinct_id: str = "id",
    crs: str | None = None,
    allow_missing: bool = False,
    crs_overrides: bool = True,
) -> gpd.GeoDataFrame:
    """One layer file with its ID, the chosen result fields and a ``state`` column.

    Returns columns ``precinct`` (string), ``state``, one column per wanted field (named as
    asked), ``geometry``. Nested properties are flattened by GDAL; only the needed columns
    are read. With ``allow_missing`` a result field the file lacks is read as missing
    values (``attrs["missing"]`` names it) instead of raising :class:`ExplorerError`.
    ``crs`` is the file's CRS when it states none; it replaces a stated one only with
    ``crs_overrides`` (``attrs["own_crs"]`` is true when the file's own CRS was kept).
    A stated CRS its coordinates contradict (lon/lat under a projected .prj) is refused."""
    path = Path(path)
    target = _target(path)
    fields = list(dict.fromkeys(fields))
    flatten = FLATTEN if target.lower().endswith((".geojson", ".json")) else {}
    try:
        info = pyogrio.read_info(target, **flatten)
        try:
            columns = resolve_fields(info["fields"], [precinct_id], path)
        except ExplorerError as exc:
            like = id_like_fields(target, info["fields"], flatten)
            raise ExplorerError(
                f"{exc.message} (the feature ID field)",
                source=path,
                hint="name the layer's ID field with --precinct-id; "
                + (f"ID-like fields with unique values: {', '.join(like)}" if like else exc.hint),
            ) from None
        state_fields = [f for f in STATE_FIELDS if f in info["fields"]]
        if state_fields:  # the layer's own field wins over any file name
            columns[STATE_FIELD] = state_fields[0]
        missing = []
        for name in fields:
            try:
                columns.update(resolve_fields(info["fields"], [name], path))
            except ExplorerError:
                if not allow_missing:
                    raise
                missing.append(name)
        with warnings.catch_warnings():
            # a field holding both numbers and text ("12,5") arrives as text; the values
            # are checked one by one below, so pyogrio's JSON-parsing warning says nothing
            warnings.filterwarnings("ignore", message="Could not parse column")
            frame = pyogrio.read_dataframe(
                target, columns=list(dict.fromkeys(columns.values())), use_arrow=True, **flatten
            )
    except ExplorerError:
        raise
    except Exception as exc:
        reason = " ".join(str(exc).split())[:200]
        raise ExplorerError(f"cannot read this layer ({reason})", source=path) from None
    if frame.empty:
        raise ExplorerError("layer has no features", source=path)
    own_crs = bool(crs) and frame.crs is not None and not crs_overrides
    own_crs = own_crs and not outside_lonlat(frame)
    frame = declare_crs(frame, crs, str(path), override=crs_overrides)
    check_extent(frame, str(path), "--crs", given=None if own_crs else crs)
    ids, kept_apart = case_distinct_ids(frame[columns[precinct_id]].astype("string").fillna(""))
    out = gpd.GeoDataFrame({"precinct": ids}, geometry=frame.geometry.values, crs=frame.crs)
    state, state_from = state_of(path), "DRA's file name (Geojson_<ST>)" if state_of(path) else ""
    if columns.get(STATE_FIELD) in frame:  # from the layer's own field, where it says
        own = frame[columns[STATE_FIELD]].astype("string").fillna("").str.strip()
        if (own != "").any():
            state = np.where(own.to_numpy(dtype=object) == "", state, own.to_numpy(dtype=object))
            state_from = f"the layer's {columns[STATE_FIELD]} field" + (
                f" (blank ones from {state_from})" if state_from and (own == "").any() else ""
            )
    out.insert(1, "state", state)
    for name in fields:
        if name in missing:
            out[name] = np.nan
        else:
            out[name] = read_counts(frame[columns[name]], out["precinct"], name, path)
    out.attrs["missing"] = missing
    out.attrs["case_distinct"] = kept_apart
    out.attrs["own_crs"] = own_crs
    out.attrs["state_from"] = state_from
    return out


def case_distinct_ids(raw: pd.Series) -> tuple[pd.Series, list[tuple[str, str]]]:
    """Feature IDs normalised as everywhere (:func:`explorer.loaders.normalise_ids`: trimmed,
    upper case), except that IDs written in the same file with another letter case are
    different precincts (``28059505-1B`` Grace Baptist B and ``28059505-1b`` Ocean Springs
    Civic Center B in DRA's Mississippi file: other names, other votes). There is no
    returns file to match here, so the case is the file's own distinction: the second
    spelling becomes ``<ID> #2`` (then ``#3``...). Returns the IDs and the (original,
    renamed) pairs, for a note."""
    ids = normalise_ids(raw)
    spelled = raw.astype(str).str.split().str.join(" ")
    pairs = pd.DataFrame({"id": ids.to_numpy(), "raw": spelled.to_numpy()}).drop_duplicates()
    rank = pairs.groupby("id").cumcount()
    clash = pairs[rank.to_numpy() > 0]
    if clash.empty:
        return ids, []
    renamed = clash["id"] + " #" + (rank[rank > 0] + 1).astype(str)
    mapping = dict(zip(zip(clash["id"], clash["raw"]), renamed))
    new = [mapping.get(key, key[0]) for key in zip(ids.to_numpy(), spelled.to_numpy())]
    return pd.Series(new, index=raw.index, dtype=object), sorted(
        (raw_id, mapping[(i, raw_id)]) for i, raw_id in mapping
    )


def read_counts(values: pd.Series, ids: pd.Series, field: str, source) -> np.ndarray:
    """Vote counts of one field as floats (NaN where the value is truly missing: null or
    blank). Numbers and text holding a number ("748", "748.0") are read; anything else
    ("12,5", "abc", "1e3", a name), true/false, a fractional count (12.5), infinity, a negative
    count or one over ``MAX_COUNT`` (as in a returns file) raises
    :class:`ExplorerError` naming ``source``, the feature ID, the field and the value."""
    raw = pd.Series(values.to_numpy(dtype=object), dtype=object)
    text = raw.astype(str).str.strip()
    missing = raw.isna().to_numpy() | (text == "").to_numpy()
    boolean = raw.map(lambda v: isinstance(v, (bool, np.bool_))).to_numpy()
    # text must read as the CSV path reads it: plain digits ("748", "748.0"); not "1e3",
    # "+5" or "0x10", which a file writes by mistake and which would round or mislead
    is_text = raw.map(lambda v: isinstance(v, str)).to_numpy()
    plain = text.str.fullmatch(r"-?(?:\d+(?:\.\d*)?|\.\d+)").to_numpy()
    numbers = pd.to_numeric(raw.where(~missing & ~boolean), errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        problems = (
            (boolean, "is true/false, not a count"),
            (np.isnan(numbers) & ~missing & ~boolean, "is not a number"),
            (is_text & ~missing & ~plain, "is text that is not a plain whole number"),
            (np.isinf(numbers), "is not a finite number"),
            (np.isfinite(numbers) & (numbers != np.round(numbers)), "is not a whole number"),
            (numbers < 0, "is negative"),
            (numbers > MAX_COUNT, f"is implausibly large for one feature (over {MAX_COUNT:,})"),
        )
    for bad, what in problems:
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            more = f" ({int(bad.sum()) - 1} more feature(s) like it)" if bad.sum() > 1 else ""
            raise ExplorerError(
                f"feature {ids.iloc[row]}: {field} {raw.iloc[row]!r} {what}{more}",
                source=source,
                hint="vote counts must be whole numbers, zero or more; fix the file "
                "(a missing value counts as 0)",
            )
    return numbers


def read_results_layers(
    paths: list[Path],
    fields: Iterable[str],
    *,
    precinct_id: str = "id",
    crs: str | None = None,
    jobs: int | None = None,
    progress: bool = False,
) -> gpd.GeoDataFrame:
    """Several layer files as one layer (columns as :func:`read_results_file`), read on
    ``jobs`` threads (default: the CPU count; GDAL releases the GIL while it reads), with a
    progress bar when ``progress``. All files are brought to the first file's CRS; invalid
    polygons are repaired and noted. Raises :class:`ExplorerError` on an ID found twice."""
    fields = list(fields)
    jobs = max(1, min(jobs or os.cpu_count() or 1, len(paths)))

    def read(path):
        return read_results_file(
            path,
            fields,
            precinct_id=precinct_id,
            crs=crs,
            allow_missing=len(paths) > 1,
            crs_overrides=len(paths) == 1,
        )

    with ThreadPoolExecutor(jobs) as pool:
        parts = pool.map(read, paths)
        if progress and len(paths) > 1:
            from tqdm import tqdm

            parts = tqdm(parts, total=len(paths), desc="reading layers", unit="file")
        parts = list(parts)
    notes = []
    sources: dict[str, list[str]] = {}
    for path, part in zip(paths, parts):
        states = sorted({str(v) for v in part["state"] if str(v)})
        sources.setdefault(part.attrs["state_from"], []).append(
            f"{path.name} ({', '.join(states[:3])}{' ...' if len(states) > 3 else ''})"
            if states
            else path.name
        )
    for where, names in sources.items():
        shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
        notes.append(
            f"state read from {where}: {shown}"
            if where
            else f"state left empty (no state field; not DRA's Geojson_<ST> file name): {shown}"
        )
    for path, part in zip(paths, parts):
        if part.attrs.get("case_distinct"):
            shown = ", ".join(f"{a} as {b}" for a, b in part.attrs["case_distinct"][:5])
            notes.append(
                f"{state_of(path) or path.name}: {len(part.attrs['case_distinct'])} ID(s) "
                f"differ from another only in letter case and are different precincts, kept "
                f"apart ({shown})"
            )
        if part.attrs.get("own_crs"):
            notes.append(
                f"{path.name}: kept its own CRS ({part.crs.name}); --crs is for files without one"
            )
        if part.attrs["missing"]:
            notes.append(
                f"{state_of(path) or path.name}: no {', '.join(part.attrs['missing'])} in "
                f"the file; its {len(part):,} features carry no votes for it"
            )
    absent = set.intersection(*(set(p.attrs["missing"]) for p in parts))
    if absent:
        named = ", ".join(sorted(absent))
        raise ExplorerError(f"no file has the field(s) {named}", source=paths[0])
    crs0 = parts[0].crs
    parts = [p if p.crs == crs0 else p.to_crs(crs0) for p in parts]
    frame = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=crs0)
    frame.attrs["files"] = [str(p) for p in paths]
    origin = np.repeat(np.arange(len(parts)), [len(p) for p in parts])
    _refuse_across_files(frame, origin, paths)
    frame = merge_duplicate_ids(frame, fields)
    frame = repair_in_place(frame)
    frame.attrs["files"] = [str(p) for p in paths]
    frame.attrs["notes"] = notes + list(frame.attrs.get("notes", []))
    return frame


#: features sharing an ID are one precinct in pieces only when every piece lies within this
#: distance (metres, equal-area CRS) of another piece of the same ID
PIECES_WITHIN_M = 1_000.0


def merge_duplicate_ids(frame: gpd.GeoDataFrame, fields: list[str]) -> gpd.GeoDataFrame:
    """Features sharing an ID and touching (each piece within :data:`PIECES_WITHIN_M` of
    another) are one precinct in pieces: their fields are summed and their polygons merged
    (in the first piece's row), and the merge is noted. No vote is lost. Pieces further
    apart are distinct precincts under one name: :class:`ExplorerError` names the ID and
    the gap, and suggests a unique ID field."""
    twice = frame["precinct"].duplicated(keep=False).to_numpy()
    if not twice.any():
        return frame
    notes = list(frame.attrs.get("notes", []))
    pieces = frame[twice]
    _refuse_apart(pieces, frame.attrs.get("files") or sorted(set(pieces["state"])))
    sums = pieces.groupby("precinct", sort=False)[fields].sum(min_count=1)
    shapes = pieces.groupby("precinct", sort=False).geometry.agg(
        lambda g: shapely.union_all(g.to_numpy())
    )
    keep = ~frame["precinct"].duplicated(keep="first").to_numpy()
    merged = frame[keep].copy()
    rows = merged["precinct"].isin(sums.index).to_numpy()
    ids = merged.loc[rows, "precinct"]
    merged.loc[rows, fields] = sums.loc[ids, fields].to_numpy()
    geometry = merged.geometry.values.copy()
    geometry[rows] = shapes.loc[ids].to_numpy()
    merged = merged.set_geometry(gpd.GeoSeries(geometry, index=merged.index, crs=frame.crs))
    first = ids.iloc[0]
    where = ", ".join(sorted(set(pieces["state"])))
    notes.append(
        f"{len(sums)} precinct ID(s) appear on {int(twice.sum())} features ({where}; first "
        f"{first}): each is one precinct in pieces, so their votes are summed and polygons merged"
    )
    merged.attrs = {**frame.attrs, "notes": notes}
    return merged.reset_index(drop=True)


#: two files' polygons of one ID sharing this share of their area are the same precinct read twice
SAME_POLYGON_SHARE = 0.99


def _refuse_across_files(frame: gpd.GeoDataFrame, origin: np.ndarray, paths: list[Path]) -> None:
    """Raise :class:`ExplorerError` when one precinct ID is on features from two files.

    Features of one ID from different files are never one precinct. When their polygons
    overlap (:data:`SAME_POLYGON_SHARE` of the area: byte-identical copies, or DRA's
    ``.v05`` and ``.v06`` of one state) the glob reads the same data twice, and summing
    would double its votes: the error names both files and says to narrow the glob.
    ``origin`` gives each row's index in ``paths``.
    Otherwise (touching or apart: two states' VTDs numbered alike) summing would move
    votes between states: the error suggests an ID unique across files."""
    from explorer.crs import to_equal_area

    twice = frame["precinct"].duplicated(keep=False).to_numpy()
    if not twice.any():
        return
    rows = np.flatnonzero(twice)
    files = pd.DataFrame({"id": frame["precinct"].to_numpy()[rows], "file": origin[rows]})
    spread = files.groupby("id", sort=False)["file"].nunique()
    across = spread[spread > 1]
    if across.empty:
        return
    first = across.index[0]
    mine = rows[files["id"].to_numpy() == first]
    one, two = sorted(set(origin[mine]))[:2]
    shapes = frame.iloc[mine][["precinct", "geometry"]]
    shapes = shapes[~(shapes.geometry.isna() | shapes.geometry.is_empty)]
    share = 1.0
    if len(shapes):
        area = to_equal_area(shapes).geometry.to_numpy()
        here = origin[mine][
            ~(frame.geometry.iloc[mine].isna() | frame.geometry.iloc[mine].is_empty)
        ]
        a = shapely.union_all(area[here == one])
        b = shapely.union_all(area[here == two])
        largest = max(shapely.area(a), shapely.area(b))
        share = shapely.area(shapely.intersection(a, b)) / largest if largest else 1.0
    names = f"{paths[one]} and {paths[two]}"
    if share >= SAME_POLYGON_SHARE:
        raise ExplorerError(
            f"{len(across)} precinct ID(s) (first {first}) are on the same polygons in both "
            "files: one state's data is read twice and its votes would be doubled",
            source=names,
            hint="narrow the glob so it names each state's file once (e.g. only .v06 files)",
        )
    states = sorted({str(s) for s in frame["state"].iloc[mine] if str(s)})
    raise ExplorerError(
        f"precinct ID {first} is on features in both files"
        + (f" ({' and '.join(states)})" if len(states) > 1 else "")
        + f": features from different files are never one precinct ({len(across)} such ID(s))",
        source=names,
        hint="use an ID unique across the files with --precinct-id (e.g. GEOID20)",
    )


def _refuse_apart(pieces: gpd.GeoDataFrame, source) -> None:
    """Raise :class:`ExplorerError` when the pieces of one ID fall apart (two groups more
    than :data:`PIECES_WITHIN_M` from each other)."""
    from explorer.crs import to_equal_area

    shapes = pieces[~(pieces.geometry.isna() | pieces.geometry.is_empty)]
    if shapes.empty:
        return
    shapes = to_equal_area(shapes)
    grown = shapes.geometry.buffer(PIECES_WITHIN_M / 2, quad_segs=2)
    for precinct, group in grown.groupby(shapes["precinct"].to_numpy(), sort=False):
        if len(group) < 2:
            continue
        joined = shapely.union_all(group.to_numpy())
        if shapely.get_num_geometries(joined) <= 1:
            continue
        parts = shapely.get_parts(joined)
        own = shapes.geometry[shapes["precinct"] == precinct].to_numpy()
        first = parts[[shapely.intersects(p, own[0]) for p in parts].index(True)]
        rest = shapely.union_all([p for p in parts if p is not first])
        gap = shapely.distance(
            shapely.union_all([g for g in own if shapely.intersects(g, first)]),
            shapely.union_all([g for g in own if shapely.intersects(g, rest)]),
        )
        raise ExplorerError(
            f"precinct ID {precinct} is on {len(group)} features in {len(parts)} places "
            f"{gap / 1000:,.1f} km apart: they are different precincts with the same ID",
            source=source if isinstance(source, str) else ", ".join(map(str, source)),
            hint="use a unique ID field with --precinct-id (e.g. GEOID20)",
        )


def repair_in_place(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Repair invalid polygons (``make_valid``, polygonal parts kept) without dropping any
    feature: its votes stay in the layer; a feature with no polygon is left empty, so the
    ledger reports its votes as unmapped. Counts go to ``attrs["notes"]``."""
    geometry = frame.geometry.values
    invalid = ~shapely.is_valid(geometry) & ~shapely.is_missing(geometry)
    if invalid.any():
        geometry = geometry.copy()
        repaired = shapely.make_valid(geometry[invalid])
        geometry[invalid] = np.array([polygonal_part(g) for g in repaired], dtype=object)
        frame = frame.set_geometry(gpd.GeoSeries(geometry, index=frame.index, crs=frame.crs))
        frame.attrs.setdefault("notes", []).append(
            f"repaired {int(invalid.sum())} invalid precinct polygons (make_valid)"
        )
    return frame


def layer_returns(
    layer: pd.DataFrame, votes: Mapping[str, str], total: str | None = None
) -> pd.DataFrame:
    """The wide returns (index ``precinct``, one column per candidate) from layer columns.

    ``votes`` maps candidate -> column; ``total`` names a column with all votes cast. Where
    the total exceeds the candidates' sum the rest becomes an ``other`` column, so no vote is
    lost; a total below the sum is noted (the candidates' votes are kept). A missing value
    counts 0 and is noted. A negative count raises :class:`ExplorerError`."""
    if not votes:
        raise ExplorerError(
            "name at least one candidate column", hint="--votes Biden=E_20_PRES.Dem"
        )
    shared = pd.Series(list(votes)).groupby(pd.Series(list(votes.values()))).agg(list)
    shared = shared[shared.map(len) > 1]
    if len(shared):
        raise ExplorerError(
            f"field {shared.index[0]} is given to {' and '.join(shared.iloc[0])}; "
            "its votes would be counted twice",
            hint="give each candidate their own field",
        )
    wide = pd.DataFrame(index=pd.Index(layer["precinct"].to_numpy(), name="precinct"))
    notes = []
    source = ", ".join(layer.attrs.get("files", [])) or "layer"
    for candidate, column in votes.items():
        values = layer[column].to_numpy(dtype=float)
        _check_counts(values, column, layer, notes, source)
        wide[candidate] = np.nan_to_num(values)
    if total is not None:
        values = layer[total].to_numpy(dtype=float)
        _check_counts(values, total, layer, notes, source)
        rest = np.nan_to_num(values) - wide.to_numpy().sum(axis=1)
        if (rest > 0).any():
            wide[OTHER] = np.clip(rest, 0, None)
            notes.append(
                f"{rest[rest > 0].sum():,.0f} votes in {total} beyond the named candidates "
                f"are counted as '{OTHER}' ({int((rest > 0).sum())} precincts)"
            )
        if (rest < 0).any():
            notes.append(
                f"{int((rest < 0).sum())} precinct(s) have {total} below the candidates' sum "
                f"(by {-rest[rest < 0].sum():,.0f} votes); the candidates' votes are kept"
            )
    whole = all(np.array_equal(wide[c], np.round(wide[c])) for c in wide.columns)
    if whole:
        wide = wide.astype("int64")
    wide["total"] = wide.sum(axis=1)
    wide.attrs["notes"] = notes
    return wide


def _check_counts(
    values: np.ndarray, column: str, layer: pd.DataFrame, notes: list, source="layer"
) -> None:
    negative = values < 0
    if negative.any():
        row = int(np.flatnonzero(negative)[0])
        raise ExplorerError(
            f"feature {layer['precinct'].iloc[row]}: {column} is negative ({values[row]:g})",
            source=source,
            hint="vote counts must be zero or more",
        )
    missing = np.isnan(values)
    if missing.any():
        notes.append(
            f"{int(missing.sum())} feature(s) have no value for {column} (missing); counted as 0"
        )


def parse_votes(text: str) -> dict[str, str]:
    """``"Biden=E_20_PRES.Dem,Trump=E_20_PRES.Rep"`` -> ``{"Biden": "E_20_PRES.Dem", ...}``."""
    pairs = {}
    for item in filter(None, (p.strip() for p in text.split(","))):
        name, sep, column = item.partition("=")
        if not sep or not name.strip() or not column.strip():
            raise ExplorerError(
                f"--votes item {item!r} is not NAME=FIELD", hint="--votes Biden=E_20_PRES.Dem"
            )
        name, column = name.strip(), column.strip()
        if name in pairs:
            raise ExplorerError(
                f"--votes names candidate {name!r} twice ({pairs[name]} and {column})",
                hint="give each candidate once: --votes Biden=E_20_PRES.Dem,Trump=E_20_PRES.Rep",
            )
        twice = [other for other, used in pairs.items() if used == column]
        if twice:
            raise ExplorerError(
                f"--votes gives field {column} to both {twice[0]!r} and {name!r}; "
                "its votes would be counted twice",
                hint="give each candidate their own field",
            )
        pairs[name] = column
    return pairs


def catalog_credits(paths: Iterable[str | Path]) -> list[str]:
    """Credit lines for files that are catalog files (matched by their catalog path)."""
    texts = [str(Path(p)).replace("\\", "/") for p in paths]
    known = [e.path for e in catalog.read_catalog()]
    used = [k for k in known if any(t.endswith(k) for t in texts)]
    return catalog.credits_for(used)
