"""Stage 1, fetch: the data catalog, verified downloads and the offline mirror.

The catalog (``shapefiles/catalog.toml``) pins every file by URL and sha256. Files land in
the data folder under the mirror layout ``<owner>/<repo>/<path>``. With
``EXPLORER_DATA_MIRROR`` set, files are copied from that local mirror instead of the
network, with the same checks. Every write goes to a temporary file that is verified
before it is renamed into place, so a failure never leaves a half-written file behind.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path, PurePosixPath

import platformdirs

from explorer.errors import ExplorerError
from explorer.outputs import current_umask

MIRROR_ENV = "EXPLORER_DATA_MIRROR"
DATA_DIR_ENV = "EXPLORER_DATA_DIR"
_CHECKOUT_SHAPEFILES = Path(__file__).resolve().parents[1] / "shapefiles"


@dataclass(frozen=True)
class CatalogFile:
    """One pinned file: where it lands, where it comes from, and how to check it."""

    dataset: str
    path: str
    url: str
    sha256: str
    bytes: int
    license: str
    credit: str
    what: str


def config_file(name: str) -> Path:
    """A catalog TOML file: from the checkout's ``shapefiles/`` or the installed package."""
    in_checkout = _CHECKOUT_SHAPEFILES / name
    if in_checkout.is_file():
        return in_checkout
    packaged = resources.files("explorer") / "_data" / name
    return Path(str(packaged))


def _read_toml(path: Path) -> dict:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ExplorerError("file not found", source=path) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ExplorerError(f"not valid TOML ({exc})", source=path) from None


def safe_relative_path(path: str, source: str | Path) -> PurePosixPath:
    """Refuse catalog paths that are absolute or climb out of the data folder (``..``, a
    home folder ``~``, a drive letter, a backslash, a NUL)."""
    if not isinstance(path, str):
        raise ExplorerError(
            f"path {path!r} is not text", source=source, hint="write paths as quoted strings"
        )
    relative = PurePosixPath(path)
    if (
        not path
        or relative.is_absolute()
        or ".." in relative.parts
        or "\\" in path
        or "\0" in path
        or path.startswith("~")
        or (len(path) > 1 and path[1] == ":")
    ):
        raise ExplorerError(
            f"path {path!r} would escape the data folder",
            source=source,
            hint="catalog paths must be relative, like owner/repo/file.csv",
        )
    return relative


@cache
def read_catalog(path: Path | None = None) -> tuple[CatalogFile, ...]:
    """Every file the catalog names, validated (fields present, sha256 well formed, paths safe)."""
    source = path or config_file("catalog.toml")
    entries = _read_toml(source).get("file", [])
    if not isinstance(entries, list):
        raise ExplorerError("'file' must be an array of tables ([[file]])", source=source)
    files = []
    required = ("dataset", "path", "url", "sha256")
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict):
            raise ExplorerError(f"catalog entry {number} is not a table", source=source)
        if not isinstance(entry.get("bytes", 0), int):
            raise ExplorerError(
                f"catalog entry {number}: bytes must be a whole number", source=source
            )
        missing = [key for key in required if not isinstance(entry.get(key), str)]
        if missing:
            raise ExplorerError(f"catalog entry {number} lacks {', '.join(missing)}", source=source)
        digest = entry["sha256"].lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ExplorerError(f"catalog entry {number} has a malformed sha256", source=source)
        safe_relative_path(entry["path"], source)
        files.append(
            CatalogFile(
                dataset=entry["dataset"],
                path=entry["path"],
                url=entry["url"],
                sha256=digest,
                bytes=int(entry.get("bytes", 0)),
                license=str(entry.get("license", "")),
                credit=str(entry.get("credit", "")),
                what=str(entry.get("what", "")),
            )
        )
    return tuple(files)


def datasets() -> dict[str, list[CatalogFile]]:
    """Catalog files grouped by dataset name."""
    grouped: dict[str, list[CatalogFile]] = {}
    for entry in read_catalog():
        grouped.setdefault(entry.dataset, []).append(entry)
    return grouped


def data_dir(override: str | Path | None = None) -> Path:
    """Where data files live: ``override``, ``$EXPLORER_DATA_DIR``, ``./shapefiles`` in a
    checkout, otherwise the user cache folder."""
    chosen = override or os.environ.get(DATA_DIR_ENV)
    if chosen:
        return Path(chosen).expanduser().resolve()
    if (_CHECKOUT_SHAPEFILES / "catalog.toml").is_file():
        return _CHECKOUT_SHAPEFILES
    return Path(platformdirs.user_cache_dir("explorer"))


def mirror_dir() -> Path | None:
    """The local mirror named by ``$EXPLORER_DATA_MIRROR``, if any."""
    value = os.environ.get(MIRROR_ENV)
    if not value:
        return None
    mirror = Path(value).expanduser().resolve()
    if not mirror.is_dir():
        raise ExplorerError(
            f"{MIRROR_ENV} points at {mirror}, which is not a folder",
            hint=f"unset {MIRROR_ENV} to download, or point it at the mirror folder",
        )
    return mirror


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _destination(entry: CatalogFile, root: Path) -> Path:
    target = (root / safe_relative_path(entry.path, "catalog")).resolve()
    if not target.is_relative_to(root.resolve()):
        raise ExplorerError(f"path {entry.path!r} would escape the data folder", source="catalog")
    return target


def _copy_from_mirror(entry: CatalogFile, mirror: Path, partial: Path) -> None:
    source = mirror / entry.path
    if not source.is_file():
        raise ExplorerError(
            "not in the mirror",
            source=source,
            hint=f"check {MIRROR_ENV} or unset it to download from {entry.url}",
        )
    shutil.copyfile(source, partial)


def _download(entry: CatalogFile, partial: Path) -> None:
    import pooch  # imported here: only a real download needs it

    try:
        downloader = pooch.HTTPDownloader(progressbar=True, timeout=60)
        downloader(entry.url, str(partial), None)
    except Exception as exc:  # network errors come in many types; all mean the same here
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        raise ExplorerError(
            f"download failed ({reason})",
            source=entry.url,
            hint=f"check the network, or set {MIRROR_ENV} to a local mirror",
        ) from None


def fetch_file(entry: CatalogFile, root: Path, mirror: Path | None) -> tuple[Path, bool]:
    """Put one verified file in the data folder; return its path and whether it was fetched.

    A file already present with the right sha256 is kept. Otherwise it is copied or
    downloaded to a temporary file beside the target, checked, and renamed into place;
    on any failure the temporary file is removed and nothing else is touched.
    """
    target = _destination(entry, root)
    if target.is_file() and sha256_of(target) == entry.sha256:
        return target, False
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(handle)
    partial = Path(name)
    try:
        if mirror is not None:
            _copy_from_mirror(entry, mirror, partial)
        else:
            _download(entry, partial)
        actual = sha256_of(partial)
        if actual != entry.sha256:
            origin = mirror / entry.path if mirror is not None else entry.url
            raise ExplorerError(
                f"checksum mismatch: sha256 is {actual[:12]}…, the catalog pins "
                f"{entry.sha256[:12]}…; nothing was written",
                source=origin,
                hint="the source changed or is corrupt: restore it or update the catalog",
            )
        os.chmod(partial, 0o666 & ~current_umask())
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target, True


def select(names: Iterable[str] = ()) -> list[CatalogFile]:
    """Catalog entries for the given dataset names or file paths (all when none given)."""
    names = list(names)
    if not names:
        return list(read_catalog())
    grouped = datasets()
    chosen: list[CatalogFile] = []
    for name in names:
        if name in grouped:
            chosen.extend(grouped[name])
            continue
        matches = [entry for entry in read_catalog() if entry.path == name]
        if not matches:
            raise ExplorerError(
                f"unknown dataset {name!r}",
                hint="known datasets: " + ", ".join(sorted(grouped)),
            )
        chosen.extend(grouped[matches[0].dataset])
    return list(dict.fromkeys(chosen))


def fetch(
    names: Iterable[str] = (),
    root: str | Path | None = None,
    report=None,
) -> list[Path]:
    """Fetch datasets (or the datasets holding the given file paths) into the data folder.

    ``report`` is called with ``(entry, path, fetched)`` for each file, for progress output.
    """
    folder = data_dir(root)
    mirror = mirror_dir()
    paths = []
    for entry in select(names):
        path, fetched = fetch_file(entry, folder, mirror)
        if report is not None:
            report(entry, path, fetched)
        paths.append(path)
    return paths


def local_path(path: str, root: str | Path | None = None) -> Path:
    """The local copy of a catalog file, fetching its whole dataset (shapefile sidecars
    included) on first use. Paths not in the catalog are taken as user files as they are."""
    entries = [entry for entry in read_catalog() if entry.path == path]
    if not entries:
        user_file = Path(path).expanduser()
        if not user_file.exists():
            raise ExplorerError("file not found", source=path)
        return user_file
    fetch([entries[0].dataset], root)
    return _destination(entries[0], data_dir(root))


def credits_for(paths: Iterable[str]) -> list[str]:
    """Distinct credit lines (with licences) for the catalog files used."""
    wanted = set(paths)
    lines = []
    for entry in read_catalog():
        if entry.path in wanted:
            line = f"{entry.credit} ({entry.license})"
            if entry.license.startswith(entry.credit) or entry.credit in entry.license:
                line = entry.license
            if line not in lines:
                lines.append(line)
    return lines
