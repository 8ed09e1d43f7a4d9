"""``import mtlib`` stays light: no pyplot, pandas or ipywidgets until a function needs them."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("matplotlib.pyplot", "pandas", "ipywidgets")


def loaded_after(statement):
    """The HEAVY modules present in sys.modules after ``statement`` runs in a fresh interpreter."""
    code = f"import json, sys\n{statement}\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


@pytest.mark.parametrize("statement", ["import mtlib", "import mtlib.widgets, mtlib.plotting, mtlib.sweeps"])
def test_import_pulls_in_no_heavy_module(statement):
    assert loaded_after(statement) == []


def test_the_probe_sees_heavy_modules():
    # The same probe reports a module that is imported, so the test above can fail.
    assert loaded_after("import mtlib, pandas, ipywidgets\nimport matplotlib.pyplot") == list(HEAVY)


def test_widgets_module_is_reachable_as_mt_widgets():
    # Chapters write `import mtlib as mt` and then `mt.widgets.explore(...)`.
    assert loaded_after("import mtlib\nassert mtlib.widgets.explore and mtlib.plotting and mtlib.sweeps") == []
