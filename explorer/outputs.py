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


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; rename it onto ``target`` on success."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExplorerError(
            f"cannot create folder ({exc.strerror})", source=target.parent
        ) from None
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, 0o666 & ~current_umask())  # mkstemp makes 0600; publish as usual
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def current_umask() -> int:
    """The process umask (read by setting and restoring it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


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
