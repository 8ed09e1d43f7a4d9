"""The chapters read and run in JupyterLab with the documented environment (scripts/lab.sh).

The structural test always runs: every figure caption (kept in cell metadata for the HTML
book, where it is numbered) is repeated in a markdown cell right after its figure, tagged
``remove-cell`` so that only JupyterLab shows it. The browser test starts JupyterLab
headless through ``scripts/lab.sh`` on a free port with a token, opens chapter 02 in
headless Chromium (DevTools protocol, tests/_cdp.py) and checks what a reader sees: theorem
boxes rendered by jupyterlab-myst with their titles, no raw MyST (``{prf:``, ``{cite``,
``:label:``), the captions; then it runs every cell, moves a slider of the chapter's widget
and waits for the figure to change. It is skipped, with the reason, when Chromium or the
lab environment (``bash scripts/lab.sh install``) is missing; under CI it fails instead.
The chapter is copied into a temporary folder, so nothing in chapters/ is written.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
LAB = ROOT / ".venv-lab" / "bin" / "jupyter-lab"
CHAPTER = "02_spectrum.ipynb"
RAW_MYST = re.compile(r"\{(?:prf:[a-z]+|cite(?::[a-z]+)?|ref|numref|eq|doc)\}|:label:|\([a-z][\w-]*\)=")


def _need(condition, reason):
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def _caption_cells(nb):
    """(caption from the figure cell's metadata, source of the next cell, its tags) per figure."""
    cells = nb["cells"]
    out = []
    for i, cell in enumerate(cells):
        fig = cell.get("metadata", {}).get("mystnb", {}).get("figure", {})
        if cell["cell_type"] == "code" and "caption" in fig:
            nxt = cells[i + 1] if i + 1 < len(cells) else {"cell_type": "none", "source": "", "metadata": {}}
            out.append((fig["caption"], nxt["cell_type"], "".join(nxt["source"]), nxt["metadata"].get("tags", [])))
    return out


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_every_figure_caption_is_also_shown_in_jupyterlab(path):
    nb = json.loads(path.read_text())
    for caption, kind, source, tags in _caption_cells(nb):
        fix = "run `python scripts/lab_captions.py`"
        assert kind == "markdown" and "remove-cell" in tags, (
            f"{path.name}: the figure captioned {caption[:50]!r} has no lab caption cell after it: {fix}")
        assert source == f"**Figure.** {caption}", (
            f"{path.name}: the lab caption differs from the figure's metadata caption ({fix}): {source[:80]!r}")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab():
    from _cdp import CHROMIUM

    _need(CHROMIUM is not None, "headless Chromium is not installed (Debian package `chromium`)")
    _need(LAB.exists(), "the JupyterLab environment is missing: run `bash scripts/lab.sh install`")
    myst = subprocess.run([str(LAB.parent / "jupyter"), "labextension", "list"],
                          capture_output=True, text=True, timeout=120)
    _need(re.search(r"jupyterlab-myst .*enabled.*OK", myst.stdout + myst.stderr),
          "jupyterlab-myst is not enabled in .venv-lab: run `bash scripts/lab.sh install`")
    _need((ROOT / ".venv" / "bin" / "python").exists(), "the book's .venv (the kernel) is missing")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        work, settings = tmp / "work", tmp / "settings" / "@jupyterlab"
        work.mkdir()
        shutil.copy(ROOT / "chapters" / CHAPTER, work / CHAPTER)
        # No autosave, no news; every cell rendered (JupyterLab virtualises off-screen cells).
        for plugin, value in {"docmanager-extension/plugin": {"autosave": False},
                              "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
                              "notebook-extension/tracker": {"windowingMode": "none"}}.items():
            f = settings / f"{plugin}.jupyterlab-settings"
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(json.dumps(value))
        port, token = _free_port(), os.urandom(16).hex()
        env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(tmp / "settings"),
                   JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"), JUPYTER_RUNTIME_DIR=str(tmp / "runtime"))
        log = open(tmp / "lab.log", "w")
        proc = subprocess.Popen(
            ["bash", str(ROOT / "scripts" / "lab.sh"), "--no-browser", f"--port={port}",
             f"--ServerApp.token={token}", f"--ServerApp.root_dir={work}", "--LabApp.default_url=/lab",
             "--LabApp.expose_app_in_browser=True"],
            env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 120
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5):
                        break
                except OSError:
                    if proc.poll() is not None or time.time() > deadline:
                        raise RuntimeError("JupyterLab did not start:\n" + (tmp / "lab.log").read_text()[-3000:])
                    time.sleep(0.5)
            yield base, token, work
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


def test_chapter_renders_runs_and_its_slider_redraws(lab):
    from _cdp import Browser

    base, token, work = lab
    browser = Browser(width=1280, height=1600)
    try:
        browser.goto(f"{base}/lab/tree/{CHAPTER}?token={token}")
        browser.wait_for("document.querySelectorAll('.jp-MarkdownCell aside.myst-proof').length > 0", timeout=120)
        source = json.loads((work / CHAPTER).read_text())
        n_markdown = sum(c["cell_type"] == "markdown" for c in source["cells"])
        # Every markdown cell rendered (scrolled into view once, in case rendering is lazy).
        rendered = ("Array.from(document.querySelectorAll('.jp-MarkdownCell')).filter(c => "
                    "c.querySelector('.myst, .jp-RenderedMarkdown') && c.querySelector('.myst, .jp-RenderedMarkdown').textContent.trim()).length")
        deadline = time.time() + 120
        while browser.js(rendered) < n_markdown and time.time() < deadline:
            browser.js("document.querySelectorAll('.jp-MarkdownCell').forEach(c => c.scrollIntoView())")
            time.sleep(1)
        assert browser.js(rendered) == n_markdown, (browser.js(rendered), n_markdown)

        # Theorem boxes: one per {prf:...} directive, each with a title line ("Theorem 1 (Funk–Hecke)").
        titles = browser.js("Array.from(document.querySelectorAll('aside.myst-proof .myst-proof-title'))"
                            ".map(e => e.innerText.trim())")
        n_directives = sum("".join(c["source"]).count("```{prf:") for c in source["cells"])
        assert len(titles) == n_directives, (titles, n_directives)
        assert any(re.fullmatch(r"Theorem \d+ \(Funk–Hecke\)", t) for t in titles), titles
        # The text of the rendered markdown, typeset math left out.
        text = browser.js("Array.from(document.querySelectorAll('.jp-MarkdownCell .jp-RenderedMarkdown, "
                          ".jp-MarkdownCell .myst')).map(e => { const c = e.cloneNode(true); "
                          "c.querySelectorAll('.katex').forEach(k => k.remove()); return c.textContent; }).join('\\n')")
        assert not RAW_MYST.search(text), f"raw MyST shown in JupyterLab: {RAW_MYST.search(text).group(0)!r}"
        assert browser.js("document.querySelectorAll('.jp-MarkdownCell .katex').length") > 20, "math not typeset"
        n_captions = len(_caption_cells(source))
        assert text.count("Figure. ") >= n_captions > 0, "figure captions are not shown"

        # Run every cell, then wait for the kernel to be idle with every code cell numbered.
        browser.js("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        browser.wait_for("(() => { const p = Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputPrompt'))"
                         ".map(e => e.innerText.trim()); return p.length > 0 && p.every(s => /^\\[\\d+\\]:$/.test(s)); })()",
                         timeout=600, poll=1.0)
        tracebacks = browser.js("Array.from(document.querySelectorAll('.jp-OutputArea-output')).filter(e => "
                                "/Traceback|Error:/.test(e.innerText)).map(e => e.innerText.slice(0, 300))")
        assert not tracebacks, tracebacks

        # The widget: a slider and a figure inside its output; move the slider one step.
        figure = ("(() => { const w = document.querySelector('.jupyter-widgets .widget-output img, "
                  ".widget-output img'); return w ? w.src : null; })()")
        before = browser.wait_for(figure, timeout=120)
        browser.js("document.querySelector('.widget-slider .noUi-handle').scrollIntoView({block: 'center'})")
        readout = browser.js("document.querySelector('.widget-slider .widget-readout').innerText")
        browser.js("document.querySelector('.widget-slider .noUi-handle').focus()")
        for _ in range(3):
            for kind in ("keyDown", "keyUp"):
                browser.call("Input.dispatchKeyEvent", type=kind, key="ArrowRight", code="ArrowRight",
                             windowsVirtualKeyCode=39)
            time.sleep(0.3)
        after_readout = browser.wait_for(
            f"(() => {{ const r = document.querySelector('.widget-slider .widget-readout').innerText; "
            f"return r !== {json.dumps(readout)} ? r : null; }})()", timeout=30)
        after = browser.wait_for(
            f"(() => {{ const s = {figure}; return s && s !== {json.dumps(before)} ? s : null; }})()", timeout=120)
        assert after != before, (readout, after_readout)
    finally:
        browser.close()
