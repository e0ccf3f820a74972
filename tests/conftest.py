"""Shared fixtures: the real data, fetched from the mirror into a fresh data folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the bench package provides synthetic inputs
MIRROR = Path(os.environ.get("EXPLORER_DATA_MIRROR", ROOT.parent / "shared" / "data" / "mirror"))
MIRROR = (ROOT / MIRROR).resolve() if not MIRROR.is_absolute() else MIRROR


@pytest.fixture(scope="session", autouse=True)
def real_data(tmp_path_factory) -> Path:
    """Point explorer at the mirror and at an empty data folder for the whole run."""
    if not MIRROR.is_dir():
        pytest.exit(f"the data mirror {MIRROR} is missing; set EXPLORER_DATA_MIRROR", 2)
    data = tmp_path_factory.mktemp("data")
    os.environ["EXPLORER_DATA_MIRROR"] = str(MIRROR)
    os.environ["EXPLORER_DATA_DIR"] = str(data)
    return data


@pytest.fixture(scope="session")
def general():
    import explorer

    return explorer.load("ca34-2017-general")


@pytest.fixture(scope="session")
def primary():
    import explorer

    return explorer.load("ca34-2017-primary")


def mirror_file(path: str) -> Path:
    return MIRROR / path


RUNOFF = "openelections/openelections-data-ca/2017/20170606__ca__special__general__los_angeles__precinct.csv"
PRIMARY = "openelections/openelections-data-ca/2017/20170404__ca__special__primary__los_angeles__precinct.csv"
PRECINCTS_2018 = "datadesk/la-county-election-precincts-2018/topojson/primary.topojson"
NEIGHBOURHOODS = "datadesk/boundaries.latimes.com/shapefiles/neighborhoods/v6/neighborhoods.shp"
