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
