"""Layer file names that pyogrio would read as URIs (review A of session 4): ``a;b.shp``
(URL parameters), ``a!b.shp`` (an archive member), ``zip:x.shp`` (a scheme) are read as
the files they are; a long name does not cut GDAL's reason short. The LA Times
neighbourhoods shapefile through the mirror, copied under those names."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import NEIGHBOURHOODS

from explorer.errors import ExplorerError
from explorer.loaders import load_neighbourhoods, read_layer


@pytest.fixture(scope="module")
def shapefile(general) -> Path:
    from explorer import catalog

    return catalog.local_path(NEIGHBOURHOODS)


def _copy(shapefile: Path, folder: Path, stem: str) -> Path:
    for part in shapefile.parent.glob(shapefile.stem + ".*"):
        shutil.copy(part, folder / (stem + part.suffix))
    return folder / (stem + ".shp")


@pytest.mark.parametrize("stem", ["a;b", "a!b", "zip:x", "x;y!z"])
def test_an_existing_file_wins_over_a_uri_reading(shapefile, tmp_path, stem):
    expected = len(load_neighbourhoods(shapefile))
    copy = _copy(shapefile, tmp_path, stem)
    assert len(load_neighbourhoods(copy)) == expected
    (tmp_path / "in;folder").mkdir()
    inner = _copy(shapefile, tmp_path / "in;folder", "plain")
    assert len(read_layer(inner)) == len(read_layer(shapefile))
    assert not list(Path(tmp_path).glob("explorer-layer-*"))


def test_a_long_name_keeps_the_reason_whole(tmp_path):
    broken = tmp_path / ("n" * 200 + ".geojson")
    broken.write_text("not a layer at all")  # bad input: GDAL quotes the path in its reason
    with pytest.raises(ExplorerError) as error:
        read_layer(broken)
    text = str(error.value)
    assert "not recognized as being in a supported file format" in text
    assert text.count("n" * 200) == 1  # named once, by the error's label
