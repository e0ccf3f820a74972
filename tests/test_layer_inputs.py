"""Bad input to results-inside-the-layer (synthetic files in tmp_path): several files read
as one layer must never double, move or misplace votes silently."""

from __future__ import annotations

import shutil
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box

from explorer.errors import ExplorerError
from explorer.layer_results import read_results_layers


def _grid(ids, x0=-75.6, y0=39.0, d=0.01, **extra):
    shapes = [box(x0 + i * d, y0, x0 + (i + 1) * d, y0 + d) for i in range(len(ids))]
    votes = {"Dem": [10 * (i + 1) for i in range(len(ids))]}
    return gpd.GeoDataFrame({"GEOID20": ids, **votes, **extra}, geometry=shapes, crs=4326)


def _read(paths, **kw):
    return read_results_layers([Path(p) for p in paths], ["Dem"], precinct_id="GEOID20", **kw)


@pytest.mark.parametrize("second", ["copy/Geojson_DE.v06.zip", "Geojson_DE.v05.geojson"])
def test_one_states_file_read_twice_is_refused_naming_both(tmp_path, second):
    first = tmp_path / "Geojson_DE.v06.geojson"
    _grid(["1", "2", "3"]).to_file(first)
    other = tmp_path / second
    other.parent.mkdir(exist_ok=True)
    if other.suffix == ".zip":  # a byte-identical copy, zipped as DRA ships it
        shutil.make_archive(str(other.with_suffix("")), "zip", tmp_path, first.name)
    else:  # another version of the same state's file: same polygons, same IDs
        _grid(["1", "2", "3"]).to_file(other)

    with pytest.raises(ExplorerError) as error:
        _read(sorted([first, other], key=str))
    text = str(error.value)
    assert "read twice" in text and "narrow the glob" in text
    assert first.name in text and Path(second).name in text

