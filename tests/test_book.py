"""The book's structure: every chapter is in the table of contents, committed clean."""

import json
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [entry["file"] for entry in part["chapters"]]
    return files


def test_there_are_chapters():
    assert CHAPTERS, "no notebooks under chapters/"
    assert (ROOT / "chapters" / "00_introduction.ipynb") in CHAPTERS


def test_every_chapter_is_in_the_toc_and_every_toc_entry_exists():
    listed = toc_files()
    for nb in CHAPTERS:
        assert f"chapters/{nb.stem}" in listed, f"{nb.name} is not listed in _toc.yml"
    for entry in listed:
        assert any((ROOT / f"{entry}{ext}").exists() for ext in (".md", ".ipynb")), entry


def test_committed_notebooks_hold_no_outputs():
    for nb in CHAPTERS:
        cells = json.loads(nb.read_text())["cells"]
        dirty = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
        assert not dirty, f"{nb.name}: cells {dirty} hold outputs or execution counts; clear them before committing"


def test_chapters_import_only_the_public_library():
    for nb in CHAPTERS:
        for c in json.loads(nb.read_text())["cells"]:
            if c["cell_type"] == "code":
                source = "".join(c["source"])
                assert "mtlib._" not in source and "from mtlib." not in source, f"{nb.name} imports a private module"


def test_house_style_loads_from_the_package():
    import matplotlib.pyplot as plt

    import mtlib as mt

    with plt.rc_context():
        mt.use_house_style()
        assert plt.rcParams["axes.spines.top"] is False
        assert plt.rcParams["mathtext.fontset"] == "cm"
