"""explorer: map and question election returns by precinct and neighbourhood.

The stages, one module each: :mod:`explorer.catalog` (fetch), :mod:`explorer.loaders`,
:mod:`explorer.join` (with the vote ledger), :mod:`explorer.apportion`,
:mod:`explorer.render` and :mod:`explorer.ask`; on top, :class:`Election`
(:mod:`explorer.elections`) and :func:`compare` (:mod:`explorer.swing`).
"""

from explorer.catalog import fetch
from explorer.elections import Election, election_names, load_election
from explorer.errors import ExplorerError
from explorer.join import join_returns, vote_ledger
from explorer.loaders import load_returns, wide_returns

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


def __getattr__(name: str):
    """``Swing`` and ``compare`` load :mod:`explorer.swing` (and the question parser it
    uses) on first use, so that a command that needs neither starts faster."""
    if name in ("Swing", "compare"):
        from explorer import swing

        return getattr(swing, name)
    raise AttributeError(f"module 'explorer' has no attribute {name!r}")
