"""The built book reads offline: math is typeset, every slider moves its figure, no console error.

Opens the built pages in headless Chromium, driven over the Chrome DevTools protocol (on
a pipe: no port, no driver, no Python package beyond the standard library), with every
network request sent to a dead proxy. For each page it waits for MathJax, collects what
the page logs (console errors, uncaught exceptions, failed loads), and moves every
control of every precomputed explorer (``mt.widgets.explore``'s static form) to each of
its values, checking that the figure changes and decodes. Needs the book built first
(``bash scripts/build_book.sh``; ``BOOK_HTML`` may name another build's ``html``
folder) and Chromium (Debian package ``chromium``). Outside CI the tests are skipped when
either is missing; under CI (``CI`` set) they fail instead. (Clipped equations and figure
sizes: tests/test_html_layout.py.)
"""

import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _need(condition, reason):
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


class Browser:
    """Headless Chromium driven over the DevTools protocol on a pipe (fds 3 and 4, NUL-separated JSON)."""

    def __init__(self):
        self._profile = tempfile.mkdtemp(prefix="mtlib-chromium-")
        cmd_read, self._cmd = os.pipe()
        self._out, out_write = os.pipe()

        def pipes():  # in the child: Chromium reads commands on fd 3 and answers on fd 4
            a, b = os.dup(cmd_read), os.dup(out_write)  # above 4, so that dup2 makes 3 and 4 inheritable
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             # Network off: every request goes to a proxy that does not exist.
             "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
             f"--user-data-dir={self._profile}", "--window-size=1280,2200", "--remote-debugging-pipe",
             "about:blank"],
            preexec_fn=pipes, close_fds=False, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(cmd_read)
        os.close(out_write)
        self._buffer, self._id, self.events = b"", 0, []

    def _message(self, deadline):
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._out], [], [], left)[0]:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._out, 1 << 20)
            if not chunk:
                raise RuntimeError(f"Chromium closed the DevTools pipe (exit code {self.proc.poll()})")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def send(self, method, params=None, session=None, timeout=60):
        """Send one command and return its result; events that arrive meanwhile are kept in ``events``."""
        self._id += 1
        message = {"id": self._id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._cmd, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            answer = self._message(deadline)
            if answer.get("id") == self._id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def evaluate(self, session, expression, timeout=60):
        """The value of a JavaScript expression (a promise is awaited); raises on a JavaScript error."""
        result = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True},
                           session=session, timeout=timeout)
        if "exceptionDetails" in result:
            raise RuntimeError(f"JavaScript error: {result['exceptionDetails']}")
        return result["result"].get("value")

    def open(self, url, timeout=60):
        """A new tab on ``url``, loaded and with MathJax done; returns its session id."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime.enable", "Log.enable", "Page.enable"):
            self.send(domain, session=session)
        self.send("Page.navigate", {"url": url}, session=session)
        self.evaluate(session, "new Promise(done => document.readyState === 'complete' ? done(1)"
                               " : addEventListener('load', () => done(1)))", timeout)
        self.evaluate(session, "window.MathJax && MathJax.startup && MathJax.startup.promise"
                               " ? MathJax.startup.promise.then(() => 1) : 0", timeout)
        self.evaluate(session, "new Promise(done => setTimeout(() => done(1), 300))")  # late errors
        return session, target

    def problems(self, session):
        """What the tab logged as an error: console errors, uncaught exceptions, failed loads."""
        found = []
        for event in self.events:
            if event.get("sessionId") != session:
                continue
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
                found.append("console: " + " ".join(str(a.get("value", a.get("description"))) for a in params["args"]))
            elif method == "Runtime.exceptionThrown":
                details = params["exceptionDetails"]
                found.append("exception: " + details.get("exception", {}).get("description", details.get("text", "")))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(f"log: {params['entry']['text']} {params['entry'].get('url', '')}")
        return found

    def close_tab(self, target):
        self.send("Target.closeTarget", {"targetId": target})

    def close(self):
        try:
            self.send("Browser.close", timeout=10)
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._cmd)
        os.close(self._out)
        shutil.rmtree(self._profile, ignore_errors=True)


# Moves every control of every precomputed explorer on the page to each of its values, from
# the default state, and reports what the figure did.
SCRUB = """(async () => {
  const report = [];
  for (const root of document.querySelectorAll(".mtx")) {
    const img = root.querySelector("img.mtx-figure");
    const start = img.getAttribute("src");
    const entry = {loaded: img.complete && img.naturalWidth > 0, controls: [],
                   note: root.querySelector(".mtx-note").textContent};
    const inputs = root.querySelectorAll("input[data-mtx-axis], select[data-mtx-axis]");
    const readouts = root.querySelectorAll("output[data-mtx-axis]");
    for (let i = 0; i < inputs.length; i++) {
      const el = inputs[i];
      const count = el.tagName === "SELECT" ? el.options.length : Number(el.max) + 1;
      const initial = el.value, moves = [];
      for (let j = 0; j < count; j++) {
        if (String(j) === initial) continue;
        el.value = String(j);
        el.dispatchEvent(new Event("input", {bubbles: true}));
        let decoded = true;
        try { await img.decode(); } catch (e) { decoded = false; }
        moves.push({to: j, changed: img.getAttribute("src") !== start, decoded: decoded && img.naturalWidth > 0,
                    readout: readouts[i].textContent});
      }
      el.value = initial;
      el.dispatchEvent(new Event("input", {bubbles: true}));
      entry.controls.push({name: el.getAttribute("aria-label"), count: count, moves: moves});
    }
    entry.restored = img.getAttribute("src") === start;
    report.push(entry);
  }
  return report;
})()"""


def _built_pages():
    if not (HTML / "chapters").exists():
        return ["index.html"]
    extra = [p.name for p in sorted(HTML.glob("bibliography.html"))]
    return ["index.html", *extra, *sorted(f"chapters/{p.name}" for p in (HTML / "chapters").glob("*.html"))]


@pytest.fixture(scope="module")
def browser():
    _need(CHROMIUM is not None, "headless Chromium is not installed (Debian package `chromium`)")
    chromium = Browser()
    yield chromium
    chromium.close()


@pytest.fixture(scope="module")
def visit(browser):
    """visit(page) -> {"dom", "problems", "explorers"}: the page after MathJax, each page once."""
    _need((HTML / "index.html").exists(), f"the book is not built in {HTML}: run `bash scripts/build_book.sh`")
    seen = {}

    def load(page):
        if page not in seen:
            session, target = browser.open((HTML / page).as_uri())
            dom = browser.evaluate(session, "document.documentElement.outerHTML")
            shot = os.environ.get("MTLIB_SCREENSHOT_DIR")
            if shot:
                picture = browser.send("Page.captureScreenshot", {"format": "png"}, session=session)["data"]
                name = Path(shot) / (page.replace("/", "_").removesuffix(".html") + ".png")
                name.write_bytes(__import__("base64").b64decode(picture))
            explorers = browser.evaluate(session, SCRUB, timeout=120)
            seen[page] = {"dom": dom, "problems": browser.problems(session), "explorers": explorers}
            browser.close_tab(target)
        return seen[page]

    return load


def _visible_text(dom):
    """The text a reader sees outside code: no head, scripts, code cells or typeset math."""
    dom = re.sub(r"<head\b.*?</head>", " ", dom, flags=re.S | re.I)
    dom = re.sub(r"<(script|style|pre|code|mjx-container)\b.*?</\1>", " ", dom, flags=re.S | re.I)
    return re.sub(r"<[^>]+>", " ", dom)


def test_pages_load_no_remote_script_or_style():
    _need((HTML / "index.html").exists(), f"the book is not built in {HTML}: run `bash scripts/build_book.sh`")
    for page in [HTML / "index.html", *sorted((HTML / "chapters").glob("*.html"))]:
        html = page.read_text()
        remote = re.findall(r'<(?:script|link)[^>]*(?:src|href)="(https?://[^"]+)"', html)
        assert not remote, f"{page.name} loads remote assets: {remote}"


@pytest.mark.parametrize("page", [p for p in _built_pages() if p != "bibliography.html"])
def test_math_is_typeset_offline(visit, page):
    dom = visit(page)["dom"]
    text = _visible_text(dom)
    assert "<mjx-container" in dom, f"MathJax did not typeset {page}"
    raw = re.findall(r".{0,30}(?:\\[A-Za-z]{2,}|\\[()\[\]]|\$).{0,30}", text)
    assert not raw, f"raw TeX left in the rendered {page}: {raw[:3]}"
    assert re.search(r"<h1>[^<]*\w", dom), f"{page} has no title heading"


@pytest.mark.parametrize("page", _built_pages())
def test_no_console_error(visit, page):
    problems = visit(page)["problems"]
    assert not problems, f"{page} logged {len(problems)} error(s): {problems[:5]}"


def _explore_calls(page):
    """How many ``mt.widgets.explore`` calls the page's notebook makes (0 for a page with none)."""
    source = ROOT / Path(page).with_suffix(".ipynb")
    if not source.exists():
        return 0
    cells = json.loads(source.read_text())["cells"]
    return sum("".join(c["source"]).count("mt.widgets.explore(") for c in cells if c["cell_type"] == "code")


@pytest.mark.parametrize("page", _built_pages())
def test_every_slider_moves_its_figure(visit, page):
    result = visit(page)
    explorers = result["explorers"]
    assert len(explorers) == _explore_calls(page), (
        f"{page}: {len(explorers)} precomputed explorer(s) for {_explore_calls(page)} explore call(s); "
        "build with scripts/build_book.sh (MTLIB_STATIC_WIDGETS=1) and no stale _build/.jupyter_cache")
    for n, explorer in enumerate(explorers):
        where = f"{page}, explorer {n + 1}"
        assert explorer["loaded"], f"{where}: the default figure did not load"
        assert explorer["controls"], f"{where}: no control moves"
        for control in explorer["controls"]:
            assert control["count"] >= 2 and len(control["moves"]) == control["count"] - 1, (where, control)
            for move in control["moves"]:
                assert move["changed"], f"{where}: moving {control['name']} to value {move['to']} left the figure"
                assert move["decoded"], f"{where}: the figure for {control['name']} = {move['readout']} is broken"
            readouts = [m["readout"] for m in control["moves"]]
            assert len(set(readouts)) == len(readouts), f"{where}: {control['name']}'s readout did not follow"
        assert explorer["restored"], f"{where}: back at the default values the default figure is not shown"
    if explorers:  # the live widget's state and manager are not loaded where nothing uses them
        assert "widget-state+json" not in result["dom"] and "embed.js" not in result["dom"], page


def test_introduction_explorer_renders_offline(visit):
    result = visit("chapters/00_introduction.html")
    dom = result["dom"]
    assert dom.count("<mjx-container") > 20, "math on the introduction was not typeset"
    assert re.search(r"<h1>From attention to particles on the sphere", dom), "the chapter title is not a heading"
    # The precomputed explorer: sliders over a PNG figure, the fixed seed said on the page.
    area = dom[dom.find('<div class="mtx">'):]
    assert '<input type="range"' in area, "the explorer's sliders were not rendered"
    assert re.search(r'<img class="mtx-figure"[^>]+src="data:image/png;base64,', area), "the explorer's figure is missing"
    assert "Fixed here: seed = 0." in result["explorers"][0]["note"]
    assert [c["name"] for c in result["explorers"][0]["controls"]] == ["β", "N", "t"]


def test_scrubber_shows_the_figure_of_the_chosen_values(browser, tmp_path):
    """End to end, without the book: each combination of values shows the figure drawn for it.

    Every state's figure is one flat colour computed from its values; the page is driven to
    each combination and the colour of the shown image is read back from a canvas.
    """
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from mtlib import widgets as W

    def colour(p):
        return (p["a"] / 4, {10: 0.2, 30: 0.5, 100: 0.9}[p["N"]], 0.8 if p["model"] == "sa" else 0.1)

    def plot(p, fig):
        ax = fig.add_axes((0, 0, 1, 1))
        ax.imshow([[colour(p)]], aspect="auto")
        ax.set_axis_off()

    ex = W.explore(compute=None, plot=plot, figsize=(2, 1), show=False, static={"a": [0, 4]},
                   a=W.slider("a", 2, min=0, max=4), N=W.tokens(30, options=[10, 30, 100]), model=W.model())
    page = tmp_path / "scrubber.html"
    page.write_text(f"<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>{ex.static_html()}</body></html>")
    session, target = browser.open(page.as_uri())
    try:
        for a_index, a in enumerate([0, 2, 4]):
            for n_index, n in enumerate([10, 30, 100]):
                for m_index, model in enumerate(["usa", "sa"]):
                    shown = browser.evaluate(session, f"""(async () => {{
                        const inputs = document.querySelectorAll("input[data-mtx-axis], select[data-mtx-axis]");
                        [{a_index}, {n_index}, {m_index}].forEach((v, i) => {{
                            inputs[i].value = String(v); inputs[i].dispatchEvent(new Event("input")); }});
                        const img = document.querySelector("img.mtx-figure");
                        await img.decode();
                        const canvas = document.createElement("canvas");
                        canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
                        const ctx = canvas.getContext("2d");
                        ctx.drawImage(img, 0, 0);
                        const px = ctx.getImageData(canvas.width >> 1, canvas.height >> 1, 1, 1).data;
                        const out = [...document.querySelectorAll("output[data-mtx-axis]")].map(o => o.textContent);
                        return [Array.from(px.slice(0, 3)), out];
                    }})()""")
                    expected = [round(255 * c) for c in colour({"a": a, "N": n, "model": model})]
                    assert max(abs(x - y) for x, y in zip(shown[0], expected)) <= 3, (a, n, model, shown, expected)
                    assert shown[1] == [str(a), f"{n}", model], shown[1]
        assert not browser.problems(session)
    finally:
        browser.close_tab(target)


def test_widget_labels_typeset_with_mathjax_3(browser, tmp_path):
    """A live widget under MathJax 3: the manager's MathJax 2 call is bridged, its label typeset.

    The page is made here like a book page with a widget (the MathJax 3 configuration, MathJax,
    the bridge from _ext/offline_pages.py, the saved widget state, the manager), from the
    files scripts/offline_assets.sh copies into _offline/.
    """
    import sys

    ipywidgets = pytest.importorskip("ipywidgets")
    from ipywidgets.embed import embed_data

    assets = ROOT / "_offline"
    _need((assets / "widgets" / "embed.js").exists(), "no _offline/: run `bash scripts/offline_assets.sh`")
    sys.path.insert(0, str(ROOT / "_ext"))
    try:
        from offline_pages import MATHJAX2_BRIDGE
    finally:
        sys.path.remove(str(ROOT / "_ext"))
    slider = ipywidgets.FloatSlider(value=5.0, description=r"$\beta$")
    data = embed_data(views=[slider])
    page = tmp_path / "widget.html"
    page.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        '<script>window.MathJax = {"options": {"processHtmlClass": "tex2jax_process|mathjax_process|math|output_area"}}'
        f'</script><script defer src="{(assets / "mathjax" / "tex-mml-chtml.js").as_uri()}"></script>'
        f"<script>{MATHJAX2_BRIDGE}</script>"
        f'<script type="application/vnd.jupyter.widget-state+json">{json.dumps(data["manager_state"])}</script>'
        f'<script src="{(assets / "widgets" / "embed.js").as_uri()}"></script></head>'
        f'<body><div class="tex2jax_ignore mathjax_ignore"><script type="application/vnd.jupyter.widget-view+json">'
        f'{json.dumps(data["view_specs"][0])}</script></div></body></html>'
    )
    session, target = browser.open(page.as_uri())
    try:
        label = browser.evaluate(session, """new Promise(done => {
            const start = Date.now();
            (function poll() {
                const label = document.querySelector(".widget-label");
                if (label && (label.querySelector("mjx-container") || Date.now() - start > 10000)) {
                    done(label.innerHTML);
                } else { setTimeout(poll, 100); }
            })();
        })""", timeout=30)
        assert not browser.problems(session), browser.problems(session)
        assert label and "<mjx-container" in label, f"the widget label was not typeset: {label!r}"
    finally:
        browser.close_tab(target)
