"""Writing results: atomic file writes and table formats shared by every command.

Every output is written to a temporary file beside its target and renamed into place, so
an interrupted or failed run leaves the previous file intact and never a half-written one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.errors import ExplorerError

FORMATS = ("table", "csv", "json", "markdown")


#: bytes the temporary name adds to the target's name (".", pid, random part, ".tmp")
_TEMP_EXTRA = 32
NAME_MAX = 255


def check_folder(folder: str | Path) -> None:
    """Refuse an output folder that is a file or that cannot be written to, before any
    work is done (a missing folder is created when the output is written)."""
    folder = Path(folder)
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise ExplorerError("is not a folder", source=existing, hint="choose another output")
    if existing.exists():
        try:  # a real write says more than the permission bits (root, read-only mounts)
            with tempfile.TemporaryFile(dir=existing, prefix=".explorer-check."):
                pass
        except OSError as exc:
            raise ExplorerError(
                f"cannot write into this folder ({exc.strerror})",
                source=existing,
                hint="choose a folder you can write to",
            ) from None


def check_target(target: str | Path, *, given: bool = False) -> None:
    """Refuse an output path that cannot be written (an existing folder, a name too long
    for the file system, a folder without write permission), before any work is done.
    A path the user ``given`` must be in an existing folder (a typo is not a new folder)."""
    target = Path(target)
    if target.is_dir():
        raise ExplorerError(
            "is an existing folder", source=target, hint="give a file name for the output"
        )
    if len(target.name.encode("utf-8")) + _TEMP_EXTRA > NAME_MAX:
        raise ExplorerError(
            f"file name too long ({len(target.name.encode('utf-8'))} bytes; at most "
            f"{NAME_MAX - _TEMP_EXTRA})",
            source=target.name[:60] + "...",
            hint="choose a shorter name",
        )
    check_folder(target.parent)
    if given and not target.parent.exists():
        raise ExplorerError(
            "the folder for this output does not exist",
            source=target,
            hint=f"create {target.parent} first, or give a path in an existing folder",
        )


def _remove_stale_temporaries(target: Path) -> None:
    """Remove temporary files a killed run left beside ``target`` (their process is gone)."""
    for stale in target.parent.glob(f".{glob_escape(target.name)}.*.tmp"):
        pid = stale.name[len(target.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and _alive(int(pid)):
            continue
        with contextlib.suppress(OSError):
            stale.unlink()


def glob_escape(text: str) -> str:
    import glob

    return glob.escape(text)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but is not ours
        return True
    return True


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success.

    Temporary files left by a killed earlier run are removed first."""
    target = Path(target)
    check_target(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExplorerError(
            f"cannot create folder ({exc.strerror})", source=target.parent
        ) from None
    _remove_stale_temporaries(target)
    try:
        handle, name = tempfile.mkstemp(
            prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent
        )
    except OSError as exc:
        raise ExplorerError(
            f"cannot write here ({exc.strerror})", source=target, hint="choose another output"
        ) from None
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, 0o666 & ~current_umask())  # mkstemp makes 0600; publish as usual
        try:
            os.replace(temporary, target)
        except OSError as exc:
            raise ExplorerError(f"cannot write here ({exc.strerror})", source=target) from None
    finally:
        temporary.unlink(missing_ok=True)


def current_umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def whole_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """Float columns whose values are all whole numbers written as integers (10, not 10.0)."""
    frame = frame.copy()
    for column in frame.columns:
        values = frame[column]
        whole = pd.api.types.is_float_dtype(values) and values.notna().all()
        if whole and (values == values.round()).all():
            frame[column] = values.astype("int64")
    return frame


def write_text(target: str | Path, text: str) -> Path:
    """Write text atomically (UTF-8)."""
    with atomic_path(target) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return Path(target)


def _plain(value):
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    return value


def to_json_records(frame: pd.DataFrame, **extra) -> str:
    """A frame as JSON: ``{"rows": [...], **extra}`` with plain numbers."""
    rows = [
        {str(k): _plain(v) for k, v in row.items()}
        for row in frame.reset_index().to_dict(orient="records")
    ]
    return json.dumps({**extra, "rows": rows}, indent=2, ensure_ascii=False, default=_plain)


def _markdown(frame: pd.DataFrame) -> str:
    table = frame.reset_index()
    cells = [[str(c) for c in table.columns]] + [
        ["" if pd.isna(v) else str(v) for v in row] for row in table.itertuples(index=False)
    ]
    escape = lambda s: s.replace("|", "\\|")  # noqa: E731
    lines = ["| " + " | ".join(escape(c) for c in cells[0]) + " |"]
    lines.append("|" + "|".join("---" for _ in cells[0]) + "|")
    lines += ["| " + " | ".join(escape(c) for c in row) + " |" for row in cells[1:]]
    return "\n".join(lines)


def format_frame(frame: pd.DataFrame, fmt: str = "table", **extra) -> str:
    """Render a table as ``table`` (aligned text), ``csv``, ``json`` or ``markdown``."""
    if fmt == "csv":
        return frame.to_csv()
    if fmt == "json":
        return to_json_records(frame, **extra)
    if fmt == "markdown":
        return _markdown(frame)
    if fmt == "table":
        with pd.option_context(
            "display.width",
            200,
            "display.max_columns",
            50,
            "display.max_rows",
            500,
            "display.max_colwidth",
            40,
        ):
            return frame.to_string()
    raise ExplorerError(f"unknown format {fmt!r}", hint="use one of " + ", ".join(FORMATS))
