"""The bench's printed lines stay readable when a peer library is missing."""

from __future__ import annotations

from bench.run import peer_line


def test_a_missing_peer_is_one_clean_line():
    line = peer_line("maup", float("nan"), 0.5)
    assert line.split() == [
        "maup",
        "not",
        "installed;",
        "not",
        "compared",
        "(pip",
        "install",
        "maup)",
    ]
    assert "nan" not in line


def test_an_installed_peer_shows_time_and_ratio():
    assert peer_line("tobler", 1.5, 0.5).split() == [
        "tobler",
        "1500.0",
        "ms",
        "explorer",
        "is",
        "3.0x",
        "faster",
    ]
