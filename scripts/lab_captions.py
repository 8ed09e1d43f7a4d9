"""Show every figure caption in JupyterLab too: python scripts/lab_captions.py [NOTEBOOK ...]

A figure's caption lives in its code cell's metadata (``mystnb: figure: caption``), where
the HTML book numbers it and ``{numref}`` links to it, but JupyterLab does not show cell
metadata. This script puts a markdown cell right after each captioned figure cell with the
same text, "**Figure.** <caption>", tagged ``remove-cell`` so that the HTML book leaves it
out. It inserts missing caption cells and rewrites stale ones (the metadata is the source);
tests/test_jupyterlab.py checks that they agree. Default: every chapter. Run it after
editing a caption, before committing (notebooks stay without outputs).
"""

import sys
from pathlib import Path

import nbformat

PREFIX = "**Figure.** "


def sync(path):
    """Insert or update the lab caption cells of one notebook; return (inserted, updated)."""
    nb = nbformat.read(path, as_version=4)
    inserted = updated = 0
    i = 0
    while i < len(nb.cells):
        cell = nb.cells[i]
        caption = cell.metadata.get("mystnb", {}).get("figure", {}).get("caption") if cell.cell_type == "code" else None
        if caption:
            text = PREFIX + caption
            nxt = nb.cells[i + 1] if i + 1 < len(nb.cells) else None
            if (nxt is not None and nxt.cell_type == "markdown" and nxt.source.startswith(PREFIX)
                    and "remove-cell" in nxt.metadata.get("tags", [])):
                if nxt.source != text:
                    nxt.source = text
                    updated += 1
            else:
                nb.cells.insert(i + 1, nbformat.v4.new_markdown_cell(text, metadata={"tags": ["remove-cell"]}))
                inserted += 1
            i += 1
        i += 1
    if inserted or updated:
        nbformat.write(nb, path)
    return inserted, updated


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1]
    paths = [Path(p) for p in sys.argv[1:]] or sorted((root / "chapters").glob("*.ipynb"))
    for p in paths:
        ins, upd = sync(p)
        print(f"{p.name}: {ins} caption cells inserted, {upd} updated")
