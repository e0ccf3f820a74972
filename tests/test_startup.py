"""Start-up: ``import explorer`` and ``explorer info`` load no geometry library.

The public API and the loaders' names are imported on first use (PEP 562); each check runs
in a fresh Python, since this test process has long imported everything. Timings are in
``bench/startup.py``, not here.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

GEOMETRY = ("geopandas", "shapely", "pyproj", "pyogrio", "fiona")


def fresh_modules(code: str) -> tuple[list[str], str]:
    """Run ``code`` in a fresh Python; the geometry modules it imported, and its stdout."""
    script = (
        "import sys, io, contextlib, json\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        + "".join(f"    {line}\n" for line in code.splitlines())
        + f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {GEOMETRY!r})\n"
        "print(json.dumps([loaded, out.getvalue()]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    loaded, out = json.loads(done.stdout.splitlines()[-1])
    return loaded, out


def test_import_explorer_loads_no_geometry_library():
    loaded, _ = fresh_modules("import explorer\nimport explorer.loaders\nimport explorer.cli")
    assert loaded == []


def test_info_reads_the_returns_without_geometry():
    loaded, out = fresh_modules(
        "from explorer.cli import main\nassert main(['info', 'ca34-2017-general']) == 0"
    )
    assert "Jimmy Gomez     25569" in out
    assert "Check: precinct returns match the district totals for all 2 candidates." in out
    assert loaded == []


def test_the_ledger_still_loads_geometry_when_it_needs_it(tmp_path):
    """The laziness is real: the same probe sees geopandas once a command joins."""
    loaded, out = fresh_modules(
        "from explorer.cli import main\n"
        f"assert main(['ledger', 'ca34-2017-general', '--out-dir', {str(tmp_path)!r}]) == 0"
    )
    assert "Vote ledger for" in out
    assert {"geopandas", "shapely", "pyproj"} <= {m.split(".")[0] for m in loaded}


def test_every_public_name_resolves():
    import explorer
    from explorer import Election, Swing, compare, load, load_election

    assert load is load_election
    assert Election is explorer.elections.Election
    assert (Swing, compare) == (explorer.swing.Swing, explorer.swing.compare)
    for name in explorer.__all__:
        assert getattr(explorer, name) is not None
    assert set(explorer.__all__) <= set(dir(explorer))
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        explorer.nothing_here  # noqa: B018


def test_every_loaders_name_comes_from_its_submodule():
    import importlib

    from explorer import loaders

    assert set(loaders.__all__) == set(loaders._MODULE)
    for name, module in loaders._MODULE.items():
        defined = getattr(importlib.import_module(f"explorer.loaders.{module}"), name)
        assert getattr(loaders, name) is defined, name
    with pytest.raises(AttributeError):
        loaders.load_everything  # noqa: B018
