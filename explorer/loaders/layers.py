"""Vector layers: any GDAL-readable file, polygon repairs, and the precinct, district,
neighbourhood and weighted-point layers built on them."""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from explorer.crs import bounds_in, check_extent, declare_crs
from explorer.errors import ExplorerError
from explorer.loaders.text import _note, normalise_ids, read_csv_text


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


def _one_layer(path: Path, suffix: str) -> bool:
    """Whether a file surely holds one layer, known without GDAL parsing it: a shapefile,
    a GeoJSON file, or a TopoJSON file with one object (its JSON is read to count them)."""
    if not path.is_file():
        return False
    if suffix in (".shp", ".geojson"):
        return True
    if suffix != ".topojson":
        return False
    # only the "objects" member is decoded (the arcs are most of the file); a quote inside
    # a JSON string is escaped, so the first unescaped "objects" key is the topology's own
    try:
        text = path.read_bytes().decode("utf-8")
        found = re.search(r'"objects"\s*:\s*', text)
        objects = json.JSONDecoder().raw_decode(text, found.end())[0] if found else None
    except (ValueError, UnicodeDecodeError):
        return False  # GDAL reports what is wrong with it
    return isinstance(objects, dict) and len(objects) == 1


def _check_layer_name(target: str, layer: str, label: str) -> None:
    names = [str(name) for name in pyogrio.list_layers(target)[:, 0]]
    if layer not in names:
        raise ExplorerError(f"no layer {layer!r} (layers: {', '.join(names[:8])})", source=label)


def _read_by_gdal_as_given(text: str) -> bool:
    """Whether pyogrio hands this local path to GDAL unchanged. It reads paths as URIs:
    ``a;b.shp`` loses ``;b.shp`` (URL parameters), ``a!b.shp`` is an archive member,
    ``zip:x.shp`` a scheme; such a name must reach GDAL another way."""
    try:
        from pyogrio.util import vsi_path
    except ImportError:  # pragma: no cover - an older or newer pyogrio
        return not re.search(r"[;!]|^[A-Za-z][A-Za-z0-9+.-]*:", text)
    return vsi_path(text) == text


@contextlib.contextmanager
def _gdal_path(path: Path) -> Iterator[str]:
    """A path GDAL reads as the layer at ``path``: the path itself, or, where pyogrio
    would read the name as a URI (see :func:`_read_by_gdal_as_given`), links to the file
    and its side files (``.shx``, ``.dbf``, ``.prj``...) under a plain name in a temporary
    folder, removed afterwards. The existing file always wins over a URI reading."""
    text = str(path)
    if _read_by_gdal_as_given(text):
        yield text
        return
    stem = path.stem if path.is_file() else path.name
    plain = re.sub(r"[^\w.-]", "_", stem).lstrip(".") or "layer"
    with tempfile.TemporaryDirectory(prefix="explorer-layer-") as folder:
        if path.is_dir():
            alias = Path(folder) / plain
            alias.symlink_to(path.resolve(), target_is_directory=True)
        else:
            for sibling in path.parent.iterdir():
                if sibling.name.startswith(stem + ".") or sibling == path:
                    extra = sibling.name[len(stem) :]
                    (Path(folder) / (plain + extra)).symlink_to(sibling.resolve())
            alias = Path(folder) / (plain + path.name[len(stem) :])
        yield str(alias)


def _gdal_reason(exc: Exception, paths: list[str], label: str) -> str:
    """GDAL's reason as a short clause: the paths it repeats shown as the file's name
    (the error names the file already), and a long reason cut in the middle, so its end
    (what is wrong) is kept."""
    reason = " ".join(str(exc).split())
    for text in sorted({p for p in paths if p}, key=len, reverse=True):
        reason = reason.replace(f"'{text}'", "the file").replace(text, "the file")
    if len(reason) > 200:
        head = reason[:110].rsplit(" ", 1)[0]
        reason = f"{head} ... {reason[-80:]}"
    return reason


def read_layer(
    path: str | Path,
    *,
    layer: str | None = None,
    crs: str | None = None,
    source: str | None = None,
    crs_option: str = "--crs",
    bbox: tuple[float, float, float, float] | None = None,
) -> gpd.GeoDataFrame:
    """Read any vector file GDAL reads (shapefile, zipped shapefile, GeoPackage, GeoJSON,
    TopoJSON, a folder of shapefiles) with clear one-line errors, and declare ``crs``
    where the file has none. A file or folder holding several layers needs ``layer``;
    ``crs_option`` names the option that sets ``crs`` in hints. With ``bbox`` (lon/lat
    west, south, east, north) only the features that reach into it are read. Any name
    the file system allows is read as that file (``a;b.shp`` too, see :func:`_gdal_path`).

    A TopoJSON file is parsed by GDAL once: its objects are counted from the JSON, and
    GDAL is asked to list them only when there are several."""
    path = Path(path)
    with _gdal_path(path) if path.exists() else contextlib.nullcontext(str(path)) as target:
        return _read_layer(
            path, target, layer=layer, crs=crs, source=source, crs_option=crs_option, bbox=bbox
        )


def _read_layer(
    path: Path,
    gdal_target: str,
    *,
    layer: str | None,
    crs: str | None,
    source: str | None,
    crs_option: str,
    bbox: tuple[float, float, float, float] | None,
) -> gpd.GeoDataFrame:
    """:func:`read_layer` of ``path``, opened by GDAL as ``gdal_target``."""
    label = source or str(path)
    if not path.exists():
        raise ExplorerError("file not found", source=label)
    if not path.is_file() and not path.is_dir():
        raise ExplorerError(
            "is not a regular file or folder", source=label, hint="give a layer file"
        )
    if path.is_file() and path.stat().st_size == 0:
        raise ExplorerError("file is empty", source=label, hint="re-export or re-download it")
    target: str = gdal_target
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
            target = f"/vsizip/{gdal_target}/{members[0]}"
        else:
            chosen = [m for m in members if Path(m).stem == layer or m == layer]
            if not chosen:
                raise ExplorerError(
                    f"no layer {layer!r} in the zip (layers: {', '.join(members[:8])})",
                    source=label,
                )
            target, layer = f"/vsizip/{gdal_target}/{chosen[0]}", None
    options = {}
    encoding = _dbf_encoding(target)
    if encoding:
        options["encoding"] = encoding
        named = "UTF-8" if encoding == "UTF-8" else "Windows-1252"
        notes.append(f"{label}: read the attribute table as {named} (no .cpg file)")
    try:
        if layer is None and _one_layer(path, suffix):
            pass  # listing the layers would parse a TopoJSON (or GeoJSON) file a second time
        elif layer is None:
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
        elif not path.is_file():  # a named layer in a file is checked when it is read
            _check_layer_name(target, layer, label)
        if bbox is not None:
            own = pyogrio.read_info(target, layer=layer).get("crs") or crs
            options["bbox"] = bounds_in(bbox, own) if own else None
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
        if layer is not None and isinstance(exc, pyogrio.errors.DataLayerError):
            _check_layer_name(target, layer, label)  # a missing layer: name those there are
        reason = _gdal_reason(exc, [target, gdal_target, str(path)], label)
        raise ExplorerError(f"cannot read this layer ({reason})", source=label) from None
    if not isinstance(frame, gpd.GeoDataFrame) or frame.geometry.name not in frame.columns:
        raise ExplorerError(
            "is not a spatial layer (it has no geometry)",
            source=label,
            hint="give polygons (shapefile, GeoPackage, GeoJSON); a results CSV goes to --returns",
        )
    if frame.empty and not options.get("bbox"):  # nothing near a bbox is an answer
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
        positions = frame.index[mask]
        labels = frame[id_field][mask] if id_field in frame else positions
        shown = [str(x) if str(x) else f"feature index {i}" for x, i in zip(labels, positions)]
        return ", ".join(shown[:3]) + (", ..." if len(shown) > 3 else "")

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
        notes.append(
            f"{source}: dropped {int(missing.sum())} {what} with empty or null geometry "
            f"({named(missing)})"
        )
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
        where = ", ".join(f"feature index {i}" for i in frame.index[ids.isna()][:3])
        more = ", ..." if ids.isna().sum() > 3 else ""
        _note(
            frame, f"{path}: {int(ids.isna().sum())} precinct polygons have no ID ({where}{more})"
        )
    frame["precinct"] = normalise_ids(ids.astype("string").fillna(""))
    frame = repair_polygons(frame, "precinct polygons", str(path), id_field="precinct")
    check_extent(frame, str(path), "--crs", given=crs)
    result = frame[["precinct", "geometry"]].reset_index(drop=True).pipe(_keep_attrs, frame)
    result.attrs["id_field"] = id_field
    marks = frame["note"].astype("string") if "note" in frame.columns else None
    if marks is not None and len(marks) and marks.str.startswith(TEST_GRID).fillna(False).all():
        # made-up squares (explorer grid-layer): every map drawn on them says so
        result.attrs["test_grid"] = f"{TEST_GRID} not real geography"
    return result


#: how a made-up precinct layer (``explorer grid-layer``) marks each of its features
TEST_GRID = "TEST GRID:"


def _keep_attrs(new: pd.DataFrame, old: pd.DataFrame) -> pd.DataFrame:
    new.attrs = dict(old.attrs)
    return new


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
