"""The offline book's pages: precomputed explorers, each script once, no unused widget manager.

Loading this extension sets ``MTLIB_STATIC_WIDGETS=1`` in the build's environment, which
the notebook kernels inherit: every ``mt.widgets.explore`` of a chapter executed for the
book then also draws its grid of states (the HTML book has no kernel to rerun it). Only a
book build sets it, so JupyterLab and nbval never pay for the grid, and the execution
cache (``_build/.jupyter_cache``) is always filled by kernels that drew it.

The theme's colour mode defaults to "auto" (what it fell back to anyway): with no mode
set, the first page a reader opened logged "Got invalid theme mode: . Resetting to auto."
Three fixes are applied to every HTML page as it is written (``html-page-context``):

- An inline script that appears twice is kept once. Sphinx lists an inline script added
  while reading (sphinx-thebe's ``const THEBE_JS_URL = ...``, sphinx-togglebutton's
  selector) under two file names (None and ""), so the page declared the constants twice
  and the browser logged "Identifier 'THEBE_JS_URL' has already been declared".
- A page that shows no live widget does not load the widget state or the ipywidgets
  HTML manager (``nb_ipywidgets_js``). ``mt.widgets.explore`` outputs carry a static
  ``text/html`` form that ``nb_mime_priority_overrides`` prefers in the HTML book, so
  their widget state is dead weight there (it held the default figure once more).
- A page that does show a widget gets, before the manager, a bridge from MathJax 2's
  ``MathJax.Hub.Queue(["Typeset", MathJax.Hub, element])``, which the manager calls to
  typeset widget labels, to MathJax 3's ``MathJax.typesetPromise([element])`` (the book
  loads MathJax 3, where ``MathJax.Hub`` is undefined: a TypeError, labels left raw); a
  label's ``$...$`` becomes ``\\(...\\)``, the only inline delimiters of MathJax 3's default.
"""

import os
import posixpath

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

# Installed on MathJax 3's global object once it exists; the manager renders on "load".
MATHJAX2_BRIDGE = r"""(function () {
  function install() {
    var mj = window.MathJax;
    if (!mj || !mj.version || mj.Hub) { return; }
    mj.Hub = {Queue: function (job) {
      var element = job && job[2];
      if (element && mj.startup && mj.startup.promise && mj.typesetPromise) {
        // Widget labels write $...$, which MathJax 3 (unlike the notebook's MathJax 2) does not read.
        if (element.children.length === 0) {
          element.textContent = element.textContent.replace(/\$([^$]+)\$/g, "\\($1\\)");
        }
        mj.startup.promise = mj.startup.promise.then(function () { return mj.typesetPromise([element]); });
      }
    }};
  }
  install();
  window.addEventListener("load", install);
})();"""


def _widget_files(app):
    """The page paths of the widget manager's scripts, as the HTML builder writes them."""
    paths = set()
    for path in app.config.nb_ipywidgets_js:
        paths.add(path if "://" in path else posixpath.join("_static", path))
    return paths


def _key(script):
    return (script.filename or None, tuple(sorted(script.attributes.items())))


def tidy_scripts(app, pagename, templatename, context, doctree):
    """Drop repeated inline scripts and an unused widget manager; bridge MathJax 2 calls."""
    scripts = context.get("script_files")
    if not scripts:
        return
    manager = _widget_files(app)
    shows_widget = WIDGET_VIEW in context.get("body", "")
    bridge = None
    if shows_widget and any(s.filename in manager for s in scripts):
        app.builder.add_js_file(None, body=MATHJAX2_BRIDGE)  # appended to this page's scripts only
        bridge = scripts.pop()
    seen, kept = set(), []
    for script in scripts:
        key = _key(script)
        if key in seen:
            continue
        seen.add(key)
        unused = script.filename in manager or script.attributes.get("type") == WIDGET_STATE
        if unused and not shows_widget:
            continue
        if bridge is not None and script.filename in manager:
            kept.append(bridge)
            bridge = None
        kept.append(script)
    scripts[:] = kept


def default_mode(app, config):
    """The theme's colour mode (a template variable of pydata-sphinx-theme), "auto" unless set."""
    context = dict(config.html_context or {})
    context.setdefault("default_mode", "auto")
    config.html_context = context


def setup(app):
    os.environ["MTLIB_STATIC_WIDGETS"] = "1"  # see mtlib/_static_explorer.py; kernels inherit it
    app.connect("config-inited", default_mode)
    app.connect("html-page-context", tidy_scripts, priority=900)  # after myst-nb and mathjax (500)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
