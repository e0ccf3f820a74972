"""The ``explorer`` command line: a thin layer over the Python API.

Every failure the user can fix prints one line (``explorer: error: ...``) and exits 2;
anything unexpected prints one line too (set ``EXPLORER_DEBUG=1`` for the traceback).

The commands live by stage: :mod:`~explorer.cli.data` (list, fetch, info, ledger),
:mod:`~explorer.cli.questions` (rank, ask), :mod:`~explorer.cli.maps` (map),
:mod:`~explorer.cli.analysis` (swing, backtest), :mod:`~explorer.cli.night` (watch,
grid-layer, project) and :mod:`~explorer.cli.groups` (scatter, ei); what they share is in
:mod:`~explorer.cli.common`. Each imports its stage modules inside the command, so a command
loads only what it runs.
"""

from __future__ import annotations

import importlib
import os
import warnings

import typer

from explorer.cli import _start  # noqa: F401 (before numpy: see its docstring)
from explorer.cli.common import app, echo, note
from explorer.errors import ExplorerError

#: the command modules, in the order ``explorer --help`` lists their commands
COMMANDS = ("data", "questions", "maps", "analysis", "night", "groups")
for _module in COMMANDS:  # importing a module registers its commands with ``app``
    importlib.import_module(f"explorer.cli.{_module}")

__all__ = ["app", "echo", "main", "note"]


def _short_help(doc: str) -> str:
    """A command's line in ``explorer --help``: its docstring's first sentence, without the
    docstring's hard line breaks (the terminal wraps it)."""
    text = " ".join(doc.split())
    end = text.find(". ")
    return text if end < 0 else text[: end + 1]


for _info in app.registered_commands:
    if _info.short_help is None and _info.callback is not None and _info.callback.__doc__:
        _info.short_help = _short_help(_info.callback.__doc__)


def _warning_note(message, category, filename, lineno, file=None, line=None) -> None:
    """A library warning as one ``note:`` line (each distinct text once)."""
    text = " ".join(str(message).split())[:300]
    if text not in _WARNED:
        _WARNED.add(text)
        note(f"note: {text} ({category.__name__})")


_WARNED: set[str] = set()


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the CLI, turning every failure into one line and an exit code."""
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _warning_note
            code = app(args=argv, prog_name="explorer", standalone_mode=False)  # Exit: its code
    except ExplorerError as error:
        note(f"explorer: error: {error}")
        return 2
    except typer.Exit as done:
        return done.exit_code
    except typer.Abort:
        note("explorer: aborted")
        return INTERRUPTED
    except KeyboardInterrupt:
        note("explorer: interrupted; no output was left half-written")
        return INTERRUPTED
    except Exception as error:  # the last guard: never a bare traceback
        if hasattr(error, "format_message") and hasattr(error, "exit_code"):
            # a usage error from the CLI framework (typer may carry its own click)
            if error.format_message():
                note(f"explorer: error: {error.format_message()} ({_help_hint(error)})")
            return error.exit_code
        if os.environ.get("EXPLORER_DEBUG"):
            raise
        text = " ".join(str(error).split())[:300]
        note(
            f"explorer: error: unexpected {type(error).__name__}: {text} "
            "(set EXPLORER_DEBUG=1 for the traceback, and please report it)"
        )
        return 1
    if code == INTERRUPTED:  # typer turns Ctrl-C inside a command into exit 130, silently
        note("explorer: interrupted; no output was left half-written")  # outputs are atomic
    return code if isinstance(code, int) else 0


#: the exit code of an interrupted command (128 + SIGINT); no command exits so otherwise
INTERRUPTED = 130


def _help_hint(error) -> str:
    """Where to read about a usage error: the failing subcommand's own --help."""
    context = getattr(error, "ctx", None)
    path = context.command_path if context is not None else ""
    return f"see {path or 'explorer'} --help"
