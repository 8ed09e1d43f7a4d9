"""The built book is legible: no display equation overflows its column, no figure is wider
than the column or shrunk so far that its text falls below 8.5 pt.

Opens every page of the built HTML (``_build/html``, or ``$BOOK_HTML``) offline in headless
Chromium at 1280 x 2000 CSS px (tests/_cdp.py), waits for MathJax, and measures:

- every display equation (``mjx-container[display="true"]``): the right edge of the typeset
  math must not pass the right edge of its box or of the page's text column (``.bd-article``);
- every figure of a code cell's output (an ``img`` outside the live widgets, the precomputed
  slider figures included): its drawn width must not exceed the column, and it must not be
  drawn narrower than 0.71 of its natural CSS width (the width the notebook gives it: the
  ``width`` that the retina PNG carries, which Sphinx writes into the ``style``, else its
  pixel width), nor with another aspect ratio than its pixels. The house style's smallest
  text is 10.5 pt (ticks, labels, legends) at ``figure.dpi`` 110, that is
  10.5 · 110/96 = 12.0 CSS pt at natural size, so 0.71 keeps it at 8.5 pt or more
  (tests/test_plotting_style.py pins those style values). Figures sit in a 660 px box in
  a 1280 px window, so a figure may be about 8 inches wide (880 px).

Needs the book built (``bash scripts/build_book.sh``) and Chromium (Debian ``chromium``);
skipped outside CI when either is missing, a failure under CI.
"""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html"))
MIN_FIGURE_SCALE = 8.5 / (10.5 * 110 / 96)

MEASURE = """
(() => {
  const column = document.querySelector('.bd-article') || document.body;
  const colRight = column.getBoundingClientRect().right;
  const tex = el => {
    try { return MathJax.startup.document.getMathItemsWithin(el)[0].math.slice(0, 80); }
    catch (e) { return el.textContent.slice(0, 80); }
  };
  const equations = Array.from(document.querySelectorAll('mjx-container[display="true"]')).map(c => {
    const box = c.getBoundingClientRect(), math = c.querySelector('mjx-math').getBoundingClientRect();
    return {tex: tex(c), overflow: Math.round(Math.max(math.right - box.right, math.right - colRight,
                                                       c.scrollWidth - c.clientWidth))};
  });
  const figures = Array.from(document.querySelectorAll('.cell_output img')).filter(
      img => !img.closest('.jupyter-widgets, .widget-output')).map(img => {
    const natural = parseFloat(img.style.width) || parseFloat(img.getAttribute('width')) || img.naturalWidth;
    const box = img.getBoundingClientRect(), drawn = box.width;
    const aspect = img.naturalWidth && box.height ? (box.width / box.height) / (img.naturalWidth / img.naturalHeight) : 1;
    const fig = img.closest('figure');
    const caption = fig ? (fig.querySelector('.caption-number') || {}).textContent || '' : '';
    return {src: img.getAttribute('src').slice(-20), caption: caption.trim(), natural, drawn, aspect,
            column: column.clientWidth, overflow: Math.round(img.getBoundingClientRect().right - colRight)};
  });
  return {column: column.clientWidth, equations, figures};
})()
"""


def _pages():
    if not (HTML / "chapters").exists():
        return ["index.html"]
    return ["index.html"] + sorted(f"chapters/{p.name}" for p in (HTML / "chapters").glob("*.html"))


def _need(condition, reason):
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    from _cdp import CHROMIUM, Browser

    _need((HTML / "index.html").exists(), f"the book is not built in {HTML}: run `bash scripts/build_book.sh`")
    _need(CHROMIUM is not None, "headless Chromium is not installed (Debian package `chromium`)")
    b = Browser(width=1280, height=2000)
    yield b
    b.close()


_MEASURED = {}


def _measure(browser, page):
    if page in _MEASURED:
        return _MEASURED[page]
    browser.goto((HTML / page).as_uri(), settle=0.5)
    browser.wait_for("window.MathJax && MathJax.startup && MathJax.startup.promise "
                     "&& MathJax.startup.promise.then(() => true)", timeout=60)
    browser.wait_for("Array.from(document.images).every(i => i.complete)", timeout=60)
    _MEASURED[page] = browser.js(MEASURE)
    return _MEASURED[page]


@pytest.mark.parametrize("page", _pages())
def test_no_display_equation_is_clipped(browser, page):
    layout = _measure(browser, page)
    clipped = [(e["overflow"], e["tex"]) for e in layout["equations"] if e["overflow"] > 1]
    assert not clipped, f"{page}: display equations wider than the {layout['column']} px column: {clipped}"


@pytest.mark.parametrize("page", _pages())
def test_figures_fit_the_column_with_legible_text(browser, page):
    layout = _measure(browser, page)
    wide = [(f["caption"] or f["src"], f["overflow"]) for f in layout["figures"] if f["overflow"] > 1]
    assert not wide, f"{page}: figures wider than the {layout['column']} px column: {wide}"
    shrunk = [(f["caption"] or f["src"], round(f["drawn"] / f["natural"], 2)) for f in layout["figures"]
              if f["drawn"] < MIN_FIGURE_SCALE * f["natural"]]
    assert not shrunk, (f"{page}: figures drawn below {MIN_FIGURE_SCALE:.2f} of their natural width "
                        f"(text under 8.5 pt) in the {layout['column']} px column: {shrunk}")
    squashed = [(f["caption"] or f["src"], round(f["aspect"], 2)) for f in layout["figures"] if abs(f["aspect"] - 1) > 0.02]
    assert not squashed, f"{page}: figures drawn with another aspect ratio than their pixels: {squashed}"
