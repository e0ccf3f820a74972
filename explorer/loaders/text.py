"""Text as files give it: CSV in any common encoding, invisible characters, precinct IDs,
and the notes every loader appends to ``frame.attrs["notes"]``."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from explorer.errors import ExplorerError

#: characters that hide in IDs and names: removed (zero-width, BOM, soft hyphen) or made a
#: plain space (no-break spaces, tabs, line breaks)
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_INVISIBLE.update(dict.fromkeys(map(ord, "\u00a0\u2007\u202f\t\r\n"), " "))


def _note(frame: pd.DataFrame, text: str) -> None:
    frame.attrs.setdefault("notes", []).append(text)


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
