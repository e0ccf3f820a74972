"""Election night: partial returns as a first-class state, and the watch loop.

A returns snapshot taken while the count goes on says, for every precinct, whether it has
reported. Each precinct gets a ``status``:

``reported``  its count is in (a truthy ``reporting`` flag, ``percent_reporting`` of 100,
              every vote-method column filled, or, with no such columns, a row with votes).
``partial``   some of its votes are counted but not all (e.g. mail counted, election day
              not yet; ``percent_reporting`` between 0 and 100; a flag of 0 with votes).
``none``      nothing counted yet: a row with blank counts, a flag of 0 and no votes, or a
              precinct of the expected list that the snapshot does not name at all.

"N of M precincts reporting" counts ``reported`` precincts, as county election-night pages
do; ``partial`` precincts are counted and drawn with their votes so far, and said to be
partial. ``none`` precincts carry zero votes in the tables (nothing is counted there yet),
are never drawn as a zero: maps hatch them under their own legend key.

The vote-method columns are those OpenElections uses (``election_day``, ``mail``, ...): a
blank cell means that method is not counted yet in that precinct.

The parts: :mod:`~explorer.live.snapshots` (reading snapshots), :mod:`~explorer.live.reporting`
(the reporting state of joined precincts) and :mod:`~explorer.live.watching` (publishing and
the watch loop). Every name is importable from here.
"""

from __future__ import annotations

from explorer.errors import ExplorerError
from explorer.live.reporting import (
    describe_reporting,
    joined_ids,
    leader,
    mark_reporting,
    reporting_answer,
    reporting_summary,
)
from explorer.live.snapshots import (
    FALSE_WORDS,
    FLAG_COLUMNS,
    PERCENT_COLUMNS,
    STATUSES,
    TRUE_WORDS,
    _counted,
    _flag,
    _percent,
    _with_attrs,
    add_expected,
    has_partial_columns,
    load_snapshot,
    method_label,
    read_precinct_list,
    read_returns,
)
from explorer.live.watching import (
    GRID_NOTE,
    SNAPSHOT_SUFFIXES,
    CountDecreased,
    Watch,
    _binary,
    _plain,
    _signature,
    changes,
    check_complete,
    decrease,
    grid_layer,
    known_precincts,
    publish,
    snapshot_files,
    watch,
    with_returns,
)

__all__ = [
    "FALSE_WORDS",
    "FLAG_COLUMNS",
    "GRID_NOTE",
    "PERCENT_COLUMNS",
    "SNAPSHOT_SUFFIXES",
    "STATUSES",
    "TRUE_WORDS",
    "CountDecreased",
    "ExplorerError",
    "Watch",
    "_binary",
    "_counted",
    "_flag",
    "_percent",
    "_plain",
    "_signature",
    "_with_attrs",
    "add_expected",
    "changes",
    "check_complete",
    "decrease",
    "describe_reporting",
    "grid_layer",
    "has_partial_columns",
    "joined_ids",
    "known_precincts",
    "leader",
    "load_snapshot",
    "mark_reporting",
    "method_label",
    "publish",
    "read_precinct_list",
    "read_returns",
    "reporting_answer",
    "reporting_summary",
    "snapshot_files",
    "watch",
    "with_returns",
]
