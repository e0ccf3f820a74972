"""Writing results: atomic file writes, table formats, and text made safe for each output.

Every output is written to a temporary file beside its target and renamed into place, so
an interrupted or failed run leaves the previous file intact and never a half-written one.

Text from a file is data: it never becomes code, markup, a formula or terminal control.
One function per output kind makes it so, and every writer uses it:

- :func:`page_text`: HTML text and attributes (escaped, and no ``{``/``}`` left for a
  template engine to read);
- :func:`script_json`: data for a page's ``<script>`` as JSON (``<``, ``>`` and,
  inside strings, ``{``/``}`` written as ``\\u`` escapes);
- :func:`csv_cell`: spreadsheet cells (a leading ``=``, ``+``, ``-``, ``@``, tab or CR is
  defused with a quote);
- :func:`markdown_cell`: markdown (markup, link and table syntax escaped);
- :func:`terminal`: the terminal (control and bidi-override characters made visible);
  :func:`terminal_line` for one line (a note), :func:`file_label` for a file name in a
  map's sources line;
- :func:`slug`: names used in output file names.
"""

from __future__ import annotations

import contextlib
import csv
import html
import json
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.errors import ExplorerError

FORMATS = ("table", "csv", "json", "markdown")


# ----------------------------------------------------------------- safe text, per output


def bidi_closed(value) -> str:
    """The text with every bidi embedding, override or isolate it opens closed at its end
    (U+202C, U+2069 appended as needed, per Unicode UAX #9), so a name holding an RTL
    override cannot reverse the text shown after it (a legend's figures, say)."""
    text = "" if value is None else str(value)
    embeddings = sum(text.count(c) for c in "\u202a\u202b\u202d\u202e") - text.count("\u202c")
    isolates = sum(text.count(c) for c in "\u2066\u2067\u2068") - text.count("\u2069")
    return text + "\u202c" * max(embeddings, 0) + "\u2069" * max(isolates, 0)


def page_text(value) -> str:
    """Text for an HTML page (element text or a quoted attribute): ``& < > " '`` escaped,
    ``{``/``}`` written as character references so that no template engine that sees the
    page source (folium/branca render with Jinja2) can read an expression in it, and bidi
    overrides closed (:func:`bidi_closed`)."""
    text = html.escape(bidi_closed(value), quote=True)
    return text.replace("{", "&#123;").replace("}", "&#125;")


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_SCRIPT_UNSAFE = {
    "<": "\\u003c",
    ">": "\\u003e",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def _braces(match: re.Match) -> str:
    return match.group(0).replace("{", "\\u007b").replace("}", "\\u007d")


def script_json(value) -> str:
    """Compact JSON to place inside a ``<script>`` element, read by the page as data.

    ``<``, ``>``, U+2028 and U+2029 are written as ``\\u`` escapes everywhere (they never
    occur in JSON syntax outside strings), so nothing can close the script element or open a
    comment (``&`` means nothing inside a script element); ``{`` and ``}`` inside strings
    become ``\\u007b``/``\\u007d``, so the text holds no ``{{``, ``{%`` or ``{#`` for a
    template engine (JSON's own braces are always followed by a quote or a closing brace).
    The result parses to the same value."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for char, escape in _SCRIPT_UNSAFE.items():
        text = text.replace(char, escape)
    return _JSON_STRING.sub(_braces, text)


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A spreadsheet-safe cell: text whose first character (after any spaces) could start a
    formula (``=``, ``+``, ``-``, ``@``, tab, carriage return) gets a leading ``'``, which
    spreadsheets show as text. Numbers and other values pass unchanged."""
    if not isinstance(value, str):
        return value
    stripped = value.lstrip(" ")
    if value.startswith(FORMULA_PREFIXES) or stripped.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]()|!#~:$])")


def markdown_cell(value) -> str:
    """Text for a markdown table cell: HTML (``< > &``) as entities, markdown syntax
    (backslash, backticks, emphasis, links and images, table pipes, headings, the ``:`` of
    autolinks, ``$`` of math) backslash-escaped, braces as entities (Liquid templates), line
    breaks as spaces, and control and bidi-override characters made visible as
    :func:`terminal` does, so the cell reads literally."""
    text = "" if value is None else str(value)
    text = html.escape(text, quote=False)
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    # braces as entities: Liquid (Jekyll, GitHub Pages) evaluates {{ }} and {% %} in .md
    text = text.replace("{", "&#123;").replace("}", "&#125;")
    text = re.sub(r"(?i)\bwww\.", lambda m: m.group(0)[:-1] + "\\.", text)
    return terminal(re.sub(r"[\r\n]+", " ", text))


def markdown_text(text) -> str:
    """Prose for a markdown document: each line escaped as :func:`markdown_cell` does,
    line breaks kept."""
    return "\n".join(markdown_cell(line) for line in str(text).split("\n"))


#: control characters (C0 but tab and newline, DEL, C1), bidi marks, embeddings, overrides
#: and isolates, line/paragraph separators and the byte-order mark
_TERMINAL_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]"
)


def terminal(text) -> str:
    """Text safe to print: control characters (so no ANSI escape, carriage return, NUL),
    bidi overrides and isolates are shown as visible escapes such as ``\\u001b`` and
    ``\\u202e`` instead of acting on the terminal (tab and newline stay). The escapes are
    valid inside JSON strings too, so printed JSON still parses to the same data."""
    text = "" if text is None else str(text)
    return _TERMINAL_UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def terminal_line(text) -> str:
    """One line of text safe to print (a note, an error): as :func:`terminal`, and a line
    break inside it (from a file name, say) shown as ``\\u000a`` too, so it cannot split
    the line or start a fake one."""
    return terminal(text).replace("\n", "\\u000a")


def file_label(name, limit: int = 48) -> str:
    """A file name as a map's sources line shows it: control and bidi characters as
    escapes (:func:`terminal_line`), and a name longer than ``limit`` characters cut in the
    middle with an ellipsis, keeping its start and its extension
    (``nnnnnnnn…_$$E=mc^2$$.shp``), so every source stays legible on one line."""
    text = terminal_line("" if name is None else name)
    if len(text) <= limit:
        return text
    suffix = Path(text).suffix if len(Path(text).suffix) <= 12 else ""
    tail = max(limit // 3, len(suffix))
    head = limit - tail - 1
    return text[:head] + "…" + text[len(text) - tail :]


def slug(name, fallback: str = "output", limit: int = 80) -> str:
    """A file-name part from any name: letters and digits kept (lower-cased), every other
    run of characters one ``-``; never empty, never a path (no ``/``, ``..``, NUL or
    leading dot)."""
    text = unicodedata.normalize("NFKC", "" if name is None else str(name)).lower()
    words = "".join(ch if ch.isalnum() else " " for ch in text).split()
    return "-".join(words)[:limit].strip("-") or fallback


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
    """Write a text output (CSV, JSON, markdown, a summary) atomically in UTF-8, with control
    and bidi-override characters made visible as :func:`terminal` does: such files end up
    under ``cat`` or ``tail -f`` in a terminal. The escapes are valid inside JSON strings,
    so JSON still parses to the same data. (Pages are written by ``render.save_html``.)"""
    with atomic_path(target) as temporary:
        temporary.write_text(terminal(text), encoding="utf-8")
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
    header = [markdown_cell(c) for c in table.columns]
    rows = [
        ["" if pd.isna(v) else markdown_cell(v) if isinstance(v, str) else str(v) for v in row]
        for row in table.itertuples(index=False)
    ]
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _cells(frame: pd.DataFrame, cell) -> pd.DataFrame:
    """The frame with ``cell`` applied to every text value, label and column name."""
    safe = frame.copy()

    def label(value):  # a MultiIndex label is a tuple: each of its parts is a cell
        return tuple(cell(v) for v in value) if isinstance(value, tuple) else cell(value)

    safe.columns = pd.Index([label(c) for c in safe.columns], tupleize_cols=True)
    safe.index = safe.index.map(label)
    safe.index.names = [cell(n) for n in frame.index.names]
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(cell, na_action="ignore")
    return safe


def to_csv(frame: pd.DataFrame) -> str:
    """A frame as CSV for spreadsheets: every text cell, label and header made formula-safe
    with :func:`csv_cell`. Rows end in ``\\n``; a carriage return inside a cell would not be
    quoted then (Python's csv quotes only the line terminator's characters), so a table
    holding one is written with every cell quoted."""
    safe = _cells(frame, csv_cell)
    texts = [*map(str, safe.columns), *map(str, safe.index)]
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            texts += [str(v) for v in safe[column].dropna()]
    quoting = csv.QUOTE_ALL if any("\r" in t for t in texts) else csv.QUOTE_MINIMAL
    return safe.to_csv(quoting=quoting)


def format_frame(frame: pd.DataFrame, fmt: str = "table", **extra) -> str:
    """Render a table as ``table`` (aligned text for the terminal), ``csv``, ``json`` or
    ``markdown``; each format makes text from the data safe for its kind of output."""
    if fmt == "csv":
        return to_csv(frame)
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
            return terminal(frame.to_string())
    raise ExplorerError(f"unknown format {fmt!r}", hint="use one of " + ", ".join(FORMATS))


#: columns shown as whole votes / as percentages with one decimal in a notebook
_COUNT_COLUMNS = ("votes", "total", "before_total", "after_total", "votes after")
_SHARE_SUFFIXES = ("share", "margin", "coverage", "_h2h")


class Table(pd.DataFrame):
    """A DataFrame that a notebook shows formatted (whole votes with thousands separators,
    shares and margins as percentages with one decimal) while its values stay numeric.
    Frames derived from it (``head``, ``tail``, ``sort_values``, slices, column selections)
    are Tables too and show the same formatting; a single column is a plain Series."""

    @property
    def _constructor(self):
        return Table

    def _repr_html_(self) -> str:
        formats = {}
        for column in self.columns:
            name = str(column)
            if not pd.api.types.is_numeric_dtype(self[column]):
                continue
            if name in _COUNT_COLUMNS or name.endswith("votes"):
                formats[column] = "{:,.0f}"
            elif name.endswith(_SHARE_SUFFIXES) or name.startswith(("share", "p_")):
                formats[column] = "{:.1%}"
        styler = self.head(60).style.format(formats, na_rep="")
        return styler.to_html()


def notebook_table(frame: pd.DataFrame) -> Table:
    """``frame`` as a :class:`Table` (same values, formatted in Jupyter)."""
    table = Table(frame)
    table.attrs = dict(frame.attrs)
    return table
