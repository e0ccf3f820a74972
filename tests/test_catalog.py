"""Fetch: verified copies from the mirror, atomic writes, clear failures."""

from __future__ import annotations

import shutil

import pytest
from conftest import MIRROR

from explorer import catalog
from explorer.cli import main
from explorer.errors import ExplorerError


def test_catalog_pins_every_manifest_file_with_its_sha256():
    import csv

    with open(MIRROR.parent / "manifest.csv") as handle:
        manifest = {r["mirror_path"]: r for r in csv.DictReader(handle)}
    entries = {e.path: e for e in catalog.read_catalog()}
    assert set(entries) == set(manifest)
    for path, row in manifest.items():
        assert entries[path].sha256 == row["sha256"]
        assert entries[path].url == row["url"]


def test_fetch_into_empty_folder_verifies_every_file(tmp_path, capsys):
    assert main(["fetch", "--data-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    count = len(catalog.read_catalog())
    assert f"{count} file(s) verified by sha256" in out
    assert f"{count} fetched" in out
    for entry in catalog.read_catalog():
        assert catalog.sha256_of(tmp_path / entry.path) == entry.sha256
    # a second run fetches nothing and still verifies
    assert main(["fetch", "--data-dir", str(tmp_path)]) == 0
    assert f"0 fetched from {MIRROR}, {count} already present" in capsys.readouterr().out


def test_corrupt_mirror_byte_fails_clearly_and_leaves_nothing(tmp_path, monkeypatch, capsys):
    mirror = tmp_path / "mirror"
    entry = next(e for e in catalog.read_catalog() if e.dataset == "returns-20170606-totals")
    source = mirror / entry.path
    source.parent.mkdir(parents=True)
    shutil.copyfile(MIRROR / entry.path, source)
    data = bytearray(source.read_bytes())
    data[10] ^= 0x01
    source.write_bytes(bytes(data))
    monkeypatch.setenv("EXPLORER_DATA_MIRROR", str(mirror))
    target = tmp_path / "data"
    assert main(["fetch", "returns-20170606-totals", "--data-dir", str(target)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "checksum mismatch" in err and entry.path in err
    leftovers = [p for p in target.rglob("*") if p.is_file()] if target.exists() else []
    assert leftovers == []


def test_missing_mirror_file_names_it(tmp_path, monkeypatch):
    monkeypatch.setenv("EXPLORER_DATA_MIRROR", str(tmp_path))
    with pytest.raises(ExplorerError, match="not in the mirror"):
        catalog.fetch(["returns-20170606-totals"], tmp_path / "data")


def test_unknown_dataset_lists_known_ones():
    with pytest.raises(ExplorerError, match="known datasets: .*cd-2012"):
        catalog.select(["no-such-thing"])


@pytest.mark.parametrize("bad", ["../escape.csv", "/etc/passwd", "a/../../b", "a\\..\\b"])
def test_catalog_paths_that_escape_the_data_folder_are_refused(tmp_path, bad):
    text = (
        f'[[file]]\ndataset = "x"\npath = "{bad.replace(chr(92), chr(92) * 2)}"\n'
        f'url = "https://example.org/x"\nsha256 = "{"0" * 64}"\n'
    )
    (tmp_path / "catalog.toml").write_text(text)
    with pytest.raises(ExplorerError, match="escape the data folder"):
        catalog.read_catalog(tmp_path / "catalog.toml")


def test_malformed_sha256_is_refused(tmp_path):
    (tmp_path / "c.toml").write_text(
        '[[file]]\ndataset = "x"\npath = "a/b.csv"\nurl = "u"\nsha256 = "xyz"\n'
    )
    with pytest.raises(ExplorerError, match="malformed sha256"):
        catalog.read_catalog(tmp_path / "c.toml")


def test_unknown_election_is_one_line_and_nonzero(capsys):
    assert main(["info", "ca99-2017-nothing"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown election 'ca99-2017-nothing'" in err
    assert "ca34-2017-general" in err


def test_info_confirms_runoff_totals(capsys):
    assert main(["info", "ca34-2017-general"]) == 0
    out = capsys.readouterr().out
    assert "25569" in out and "17610" in out
    assert "match the district totals for all 2 candidates" in out


def test_info_shares_have_a_fixed_number_of_decimals(capsys):
    """Shares line up: 55.10% beside 39.81%, never 55.1% beside 39.81%."""
    import re

    assert main(["info", "ca34-2017-primary"]) == 0
    out = capsys.readouterr().out
    shares = re.findall(r"\s(\d+\.\d+)%", out)
    assert len(shares) >= 24
    assert {len(share.split(".")[1]) for share in shares} == {2}
