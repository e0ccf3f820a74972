"""The one exception type the user sees: a one-line message naming what and where."""

from __future__ import annotations

from pathlib import Path


class ExplorerError(Exception):
    """A problem with the user's input or environment, explained in one line.

    The CLI prints ``explorer: error: <message>`` and exits non-zero; the Python API
    raises it as is. ``source`` names the file (and row or feature) at fault, ``hint``
    says what to do about it.
    """

    def __init__(self, message: str, *, source: str | Path | None = None, hint: str = "") -> None:
        self.message = message
        self.source = str(source) if source is not None else None
        self.hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        text = f"{self.source}: {self.message}" if self.source else self.message
        if self.hint:
            text = f"{text}; {self.hint}"
        return " ".join(text.split())  # always one line
