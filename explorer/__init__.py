"""explorer: map and question election returns by precinct and neighbourhood.

The stages, one module each: :mod:`explorer.catalog` (fetch), :mod:`explorer.loaders`,
:mod:`explorer.join` (with the vote ledger), :mod:`explorer.apportion`,
:mod:`explorer.render` and :mod:`explorer.ask`; on top, :class:`Election`
(:mod:`explorer.elections`) and :func:`compare` (:mod:`explorer.swing`).

Every public name is imported on first use (PEP 562), so ``import explorer`` is cheap and a
command such as ``explorer info`` loads only the stages it runs (not geopandas, shapely or
pyproj when it needs no geometry).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from explorer.errors import ExplorerError

if TYPE_CHECKING:  # what type checkers and editors see; at run time, __getattr__ below
    from explorer.catalog import fetch
    from explorer.elections import Election, load_election
    from explorer.join import join_returns, vote_ledger
    from explorer.loaders import load_returns, wide_returns
    from explorer.specs import election_names
    from explorer.swing import Swing, compare

    load = load_election

__all__ = [
    "Election",
    "ExplorerError",
    "Swing",
    "compare",
    "election_names",
    "fetch",
    "join_returns",
    "load",
    "load_election",
    "load_returns",
    "vote_ledger",
    "wide_returns",
]
__version__ = "0.1.0"

#: public name -> (module, name there)
_WHERE = {
    "Election": ("explorer.elections", "Election"),
    "Swing": ("explorer.swing", "Swing"),
    "compare": ("explorer.swing", "compare"),
    "election_names": ("explorer.specs", "election_names"),
    "fetch": ("explorer.catalog", "fetch"),
    "join_returns": ("explorer.join", "join_returns"),
    "load": ("explorer.elections", "load_election"),
    "load_election": ("explorer.elections", "load_election"),
    "load_returns": ("explorer.loaders", "load_returns"),
    "vote_ledger": ("explorer.join", "vote_ledger"),
    "wide_returns": ("explorer.loaders", "wide_returns"),
}


def __getattr__(name: str):
    """Import the module that defines a public name on first use, and keep the name here."""
    if name not in _WHERE:
        raise AttributeError(f"module 'explorer' has no attribute {name!r}")
    module, attribute = _WHERE[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
