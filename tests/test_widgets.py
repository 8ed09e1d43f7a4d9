"""mtlib.widgets: presets carry the paper's symbols and ranges; explore keeps figure and sliders in step."""

import base64
import io
import json
import math
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import ipywidgets  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from mtlib import widgets as W  # noqa: E402
ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------------------
# Presets
# ----------------------------------------------------------------------------------------


def test_beta_preset():
    b = W.beta()
    assert isinstance(b, ipywidgets.FloatSlider)
    assert (b.value, b.min, b.max, b.step, b.description) == (5.0, 0.5, 12.0, 0.1, "β")
    assert b.readout_format == ".1f"
    b = W.beta(6.3, min=1.0, max=8.0, step=0.05)
    assert (b.value, b.min, b.max, b.step, b.readout_format) == (6.3, 1.0, 8.0, 0.05, ".2f")


def test_beta_options_step_through_given_values():
    b = W.beta(6, options=np.array([3.0, 6.0, 10.0]))
    assert isinstance(b, ipywidgets.SelectionSlider)
    assert b.options == (("3", 3.0), ("6", 6.0), ("10", 10.0))
    assert b.value == 6.0 and isinstance(b.value, float) and b.label == "6"


def test_tokens_preset():
    n = W.tokens()
    assert isinstance(n, ipywidgets.SelectionSlider)
    assert [v for _, v in n.options] == [1_000, 3_000, 10_000, 30_000, 100_000]
    assert n.value == 10_000 and n.label == "10 000" and n.description == "N"
    n = W.tokens(32, options=[2**j for j in range(1, 10)], symbol="n")
    assert n.value == 32 and n.description == "n" and n.options[-1] == ("512", 512)


def nice_numbers():
    return sorted(m * 10.0**j for m in (1, 2, 5) for j in range(-6, 6))


@pytest.mark.parametrize("value", [0.6, 0.2, 0.42, 1.2, 6.0, 0.013, 35.0])
def test_time_default_range(value):
    t = W.time(value)
    # Brute force: the largest 1-2-5 number not above value / 4.
    expected = max(s for s in nice_numbers() if s <= value / 4 * (1 + 1e-12))
    assert math.isclose(t.step, expected, rel_tol=1e-12)
    assert math.isclose(t.min, t.step) and math.isclose(t.max, 5 * value) and t.value == value
    assert t.description == "t"


def test_time_given_range():
    t = W.time(0.42, min=0.0, max=1.0, step=0.01, symbol="t / T_N")
    assert (t.value, t.min, t.max, t.step, t.description) == (0.42, 0.0, 1.0, 0.01, "t / T_N")
    assert W.time(0.6).min == pytest.approx(0.1) and W.time(0.6).max == pytest.approx(3.0)


def test_integer_presets():
    s, d, k = W.seed(), W.dimension(), W.degree(3)
    assert isinstance(s, ipywidgets.IntSlider) and (s.value, s.min, s.max, s.description) == (0, 0, 20, "seed")
    assert (d.value, d.min, d.max, d.description) == (3, 2, 16, "d")
    assert (k.value, k.min, k.max, k.description) == (3, 1, 10, "k")
    assert W.seed(7, max=40).max == 40 and W.dimension(3, max=32).max == 32


def test_amplitude_is_logarithmic():
    a = W.amplitude()
    assert isinstance(a, ipywidgets.FloatLogSlider)
    assert (a.base, a.min, a.max, a.step, a.value, a.description) == (10.0, -4.0, -1.0, 0.1, 0.01, "α")
    s = W.amplitude(0.01, min=1e-3, symbol="σ")
    assert (s.min, s.max, s.description) == (-3.0, -1.0, "σ")


def test_model_menu():
    m = W.model()
    assert isinstance(m, ipywidgets.Dropdown)
    assert m.options == ("usa", "sa") and m.value == "usa" and W.model("SA").value == "sa"


def test_generic_slider():
    a = W.slider("α", 1.0, min=0.25, max=4.0, step=0.25)
    assert isinstance(a, ipywidgets.FloatSlider) and (a.value, a.step, a.description) == (1.0, 0.25, "α")
    n = W.slider("n", 32, min=2, max=512, step=2)
    assert isinstance(n, ipywidgets.IntSlider) and (n.value, n.min, n.max, n.step) == (32, 2, 512, 2)
    assert W.slider("a", 1.0, min=0.0, max=1.0).step == 0.05  # (max - min) / 20


SLIDERS = [
    W.beta, W.tokens, W.time, W.seed, W.dimension, W.degree, W.amplitude,
    lambda: W.beta(6.0, options=[3.0, 6.0]), lambda: W.slider("x", 1, min=0, max=3),
    lambda: W.slider("y", 0.5, min=0.0, max=1.0),
]


@pytest.mark.parametrize("make", SLIDERS)
def test_sliders_update_on_release_only(make):
    widget = make()
    assert widget.continuous_update is False


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda: W.beta(15.0), ValueError, r"beta: value must be <= 12.0, got 15.0"),
        (lambda: W.beta(5.0, min=6.0), ValueError, r"beta: value must be >= 6.0"),
        (lambda: W.beta(5.0, min=8.0, max=2.0), ValueError, r"beta: min must be < max"),
        (lambda: W.beta(5.0, step=0.0), ValueError, r"beta: step must be > 0.0"),
        (lambda: W.beta("5"), TypeError, r"beta: value must be a real number"),
        (lambda: W.beta(4.0, options=[3.0, 6.0]), ValueError, r"beta: value must be one of options"),
        (lambda: W.beta(3.0, options=[]), ValueError, r"beta: options must be a non-empty"),
        (lambda: W.tokens(20_000), ValueError, r"tokens: value must be one of options"),
        (lambda: W.tokens(2, options=[2, 2]), ValueError, r"tokens: options must be distinct"),
        (lambda: W.tokens(0, options=[0, 1]), ValueError, r"tokens: options must be >= 1"),
        (lambda: W.time(0.0), ValueError, r"time: value must be > 0.0"),
        (lambda: W.time(0.6, max=0.5), ValueError, r"time: value must be <= 0.5"),
        (lambda: W.seed(-1), ValueError, r"seed: value must be >= 0"),
        (lambda: W.seed(1.5), TypeError, r"seed: value must be an integer"),
        (lambda: W.seed(30), ValueError, r"seed: value must be <= 20"),
        (lambda: W.dimension(3, min=1), ValueError, r"dimension: min must be >= 2"),
        (lambda: W.degree(0, min=-1), ValueError, r"degree: min must be >= 0"),
        (lambda: W.amplitude(min=0.0), ValueError, r"amplitude: min must be > 0.0"),
        (lambda: W.amplitude(0.5), ValueError, r"amplitude: value must be <= 0.1"),
        (lambda: W.model("softmax"), ValueError, r"model: value must be one of \['usa', 'sa'\]"),
        (lambda: W.slider("x", 1.0, min=2.0, max=1.0), ValueError, r"slider: min must be < max"),
        (lambda: W.beta(symbol=""), TypeError, r"beta: symbol must be a non-empty string"),
    ],
)
def test_presets_reject_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


# ----------------------------------------------------------------------------------------
# explore
# ----------------------------------------------------------------------------------------


class Recorder:
    """compute/plot pair that records its calls; plot draws one line whose data is the input."""

    def __init__(self):
        self.computed, self.plotted = [], []

    def compute(self, β, N, seed):
        self.computed.append({"β": β, "N": N, "seed": seed})
        return np.random.default_rng(seed).uniform(0.0, β, size=N)

    def plot(self, data, fig):
        assert isinstance(fig, Figure) and not fig.axes, "plot must get a fresh, empty figure"
        ax = fig.subplots()
        ax.plot(data)
        self.plotted.append((data, fig, tuple(fig.get_size_inches()), ax.get_lines()[0].get_ydata()))


def make(rec, **kwargs):
    return W.explore(compute=rec.compute, plot=rec.plot, figsize=(4.0, 2.5), show=False,
                     β=W.beta(5.0), N=W.tokens(30, options=[10, 30, 100]), seed=W.seed(), **kwargs)


def test_explore_computes_and_draws_the_slider_values():
    rec = Recorder()
    ex = make(rec)
    assert rec.computed == [{"β": 5.0, "N": 30, "seed": 0}]
    data, fig, size, drawn = rec.plotted[0]
    assert size == (4.0, 2.5)
    np.testing.assert_array_equal(drawn, np.random.default_rng(0).uniform(0.0, 5.0, size=30))
    assert ex.data is data and ex.params == {"β": 5.0, "N": 30, "seed": 0}
    assert plt.get_fignums() == [], "the drawn figure must be closed once shown"
    assert list(ex.controls) == ["β", "N", "seed"]
    assert ex.box.children == (*ex.controls.values(), ex.output)


def test_explore_redraws_when_a_slider_moves():
    rec = Recorder()
    ex = make(rec)
    ex.controls["β"].value = 7.5  # what the frontend does when the slider is released
    ex.controls["N"].value = 100
    assert rec.computed[1:] == [{"β": 7.5, "N": 30, "seed": 0}, {"β": 7.5, "N": 100, "seed": 0}]
    data, fig, _, drawn = rec.plotted[-1]
    assert len(rec.plotted) == 3 and fig is not rec.plotted[0][1], "each change draws a new figure"
    np.testing.assert_array_equal(drawn, np.random.default_rng(0).uniform(0.0, 7.5, size=100))
    assert ex.data is data
    assert plt.get_fignums() == []


def test_render_draws_any_state_without_touching_the_widgets():
    rec = Recorder()
    ex = make(rec)
    fig = ex.render(β=2.0, N=10, seed=3)
    try:
        np.testing.assert_array_equal(fig.axes[0].get_lines()[0].get_ydata(),
                                      np.random.default_rng(3).uniform(0.0, 2.0, size=10))
    finally:
        plt.close(fig)
    assert ex.params == {"β": 5.0, "N": 30, "seed": 0} and len(ex.data) == 30
    with pytest.raises(TypeError, match=r"missing \['seed'\], unknown \['t'\]"):
        ex.render(β=2.0, N=10, t=1.0)


def test_widget_without_description_takes_its_name():
    ex = W.explore(compute=lambda a: a, plot=lambda data, fig: None, show=False, a=ipywidgets.IntSlider(3))
    assert ex.controls["a"].description == "a" and ex.data == 3


def test_show_displays_once(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.delenv("MTLIB_STATIC_WIDGETS", raising=False)
    # Record what is displayed, apart from the figures (displayed into the output widget).
    monkeypatch.setattr(IPython.display, "display",
                        lambda obj, **kw: None if isinstance(obj, Figure) else shown.append((obj, kw)))
    ex = W.explore(compute=lambda a: a, plot=lambda data, fig: None, a=W.seed())
    # One output: the box's own mimebundle (its widget view), nothing else without the variable.
    assert shown == [(ex.box._repr_mimebundle_(), {"raw": True})]
    assert set(shown[0][0]) == {"text/plain", "application/vnd.jupyter.widget-view+json"}
    ex._ipython_display_()  # the cell's last expression: must not show a second copy
    assert len(shown) == 1
    quiet = W.explore(compute=lambda a: a, plot=lambda data, fig: None, show=False, a=W.seed())
    quiet._ipython_display_()
    assert len(shown) == 2 and shown[1] == (quiet.box._repr_mimebundle_(), {"raw": True})


def failing_compute(β):
    if β > 6.0:
        raise ValueError(f"no run at β = {β}")
    return β


def test_errors_of_the_first_drawing_are_raised():
    with pytest.raises(ValueError, match="no run at β = 7.0"):
        W.explore(compute=failing_compute, plot=lambda d, fig: None, show=False, β=W.beta(7.0))

    def bad_plot(data, fig):
        fig.subplots()
        raise RuntimeError("cannot draw")

    with pytest.raises(RuntimeError, match="cannot draw"):
        W.explore(compute=failing_compute, plot=bad_plot, show=False, β=W.beta(5.0))
    assert plt.get_fignums() == []


def test_a_later_error_keeps_the_last_data():
    ex = W.explore(compute=failing_compute, plot=lambda d, fig: None, show=False, β=W.beta(5.0))
    with pytest.raises(ValueError, match="no run at β = 8.0"):  # outside a kernel it propagates
        ex.controls["β"].value = 8.0
    assert ex.data == 5.0


def ok_compute(β):
    return β


def ok_plot(data, fig):
    pass


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"compute": 3}, TypeError, "compute must be callable, got int"),
        ({"plot": "plot"}, TypeError, "plot must be callable, got str"),
        ({"controls": {}}, ValueError, "explore needs at least one control"),
        ({"controls": {"β": 5.0}}, TypeError, "control 'β' must be an ipywidgets value widget"),
        ({"controls": {"β": W.beta(), "N": W.tokens()}}, TypeError, r"compute must accept the call compute\(β=..., N=...\)"),
        ({"plot": lambda data: None}, TypeError, r"plot must accept the call plot\(data, fig\)"),
        ({"figsize": 5}, TypeError, "figsize must be a pair"),
        ({"figsize": (5, -1)}, ValueError, "figsize must be > 0.0"),
    ],
)
def test_explore_rejects_bad_arguments(kwargs, error, match):
    args = {"compute": ok_compute, "plot": ok_plot, "controls": {"β": W.beta()}, **kwargs}
    controls = args.pop("controls")
    with pytest.raises(error, match=match):
        W.explore(**args, show=False, **controls)


def test_one_widget_for_two_parameters_is_refused():
    b = W.beta()
    with pytest.raises(ValueError, match="one widget was given for two parameters"):
        W.explore(compute=lambda a, b: a, plot=ok_plot, show=False, a=b, b=b)


# ----------------------------------------------------------------------------------------
# In a kernel, as jupyter-book and nbval execute the chapters
# ----------------------------------------------------------------------------------------

CELLS = [
    "%matplotlib inline\nimport mtlib as mt",
    """\
def compute(β, seed):
    return β + seed

def plot(data, fig):
    print(f"drawn {data}")
    fig.subplots().plot([0, 1], [0, data])

ex = mt.widgets.explore(compute=compute, plot=plot, figsize=(3, 2), β=mt.widgets.beta(5.0), seed=mt.widgets.seed())""",
    'ex.controls["β"].value = 7.0\nex.controls["seed"].value = 2',
]


def test_executed_notebook_saves_sliders_and_figure(monkeypatch):
    monkeypatch.delenv("MTLIB_STATIC_WIDGETS", raising=False)  # the kernel inherits the environment
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    views = [o for o in nb.cells[1].outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(views) == 1, "explore must display exactly one widget, also without a trailing ';'"
    assert "text/html" not in views[0]["data"], "without MTLIB_STATIC_WIDGETS nothing is precomputed"
    box = state[views[0]["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]]
    assert box["model_name"] == "VBoxModel"
    children = [state[c.removeprefix("IPY_MODEL_")] for c in box["state"]["children"]]
    assert [c["model_name"] for c in children] == ["FloatSliderModel", "IntSliderModel", "OutputModel"]
    assert children[0]["state"]["value"] == 7.0 and children[0]["state"]["description"] == "β"
    assert children[0]["state"]["continuous_update"] is False
    # The output widget holds only the last drawing (β = 7, seed = 2): its text and one PNG.
    outputs = children[2]["state"]["outputs"]
    assert "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream") == "drawn 9.0\n"
    images = [o["data"]["image/png"] for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 1 and base64.b64decode(images[0]).startswith(b"\x89PNG")
    assert not [o for c in nb.cells for o in c.outputs if o["output_type"] == "error"]
    assert json.dumps(nb.cells[2].outputs) == "[]", "the redraw goes to the widget, not the cell"


def test_explore_without_compute_passes_the_values_to_plot():
    seen = []
    ex = W.explore(compute=None, plot=lambda data, fig: seen.append(data), show=False,
                   β=W.beta(5.0), seed=W.seed(3))
    assert seen == [{"β": 5.0, "seed": 3}] and ex.data == {"β": 5.0, "seed": 3}
    ex.controls["β"].value = 6.0
    assert seen[-1] == {"β": 6.0, "seed": 3}


# ----------------------------------------------------------------------------------------
# The static HTML form: a grid of states drawn in advance
# ----------------------------------------------------------------------------------------

from mtlib import _static_explorer as S  # noqa: E402


def static_data(page):
    """The JSON payload and the shown image of a scrubber fragment."""
    payload = re.search(r'<script type="application/json" class="mtx-data">(.*?)</script>', page, re.S).group(1)
    shown = re.search(r'<img class="mtx-figure" width="(\d+)" src="([^"]+)"', page)
    return json.loads(payload.replace("<\\/", "</")), int(shown.group(1)), shown.group(2)


def decode(uri):
    from PIL import Image

    assert uri.startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))


def test_static_grid_offers_the_given_values_and_the_current_one():
    controls = {"β": W.beta(5.0), "N": W.tokens(30, options=[10, 30, 100]), "seed": W.seed(),
                "model": W.model(), "σ": W.amplitude(0.01), "k": W.degree(3)}
    axes = S.grid(controls, {"β": [12.0, 3.165], "σ": [0.1, 0.001]})
    got = {a.name: (a.values, a.labels, a.default, a.menu) for a in axes}
    assert got == {
        "β": ([3.165, 5.0, 12.0], ["3.165", "5.0", "12.0"], 1, False),  # 3.165 keeps its digits
        "N": ([10, 30, 100], ["10", "30", "100"], 1, False),  # a selection slider: all options
        "seed": ([0], ["0"], 0, False),  # not named: fixed
        "model": (["usa", "sa"], ["usa", "sa"], 0, True),  # a menu: all options, as a <select>
        "σ": ([0.001, 0.01, 0.1], ["0.001", "0.01", "0.1"], 1, False),
        "k": ([3], ["3"], 0, False),
    }
    assert len(S.states(axes)) == 3 * 3 * 2 * 3
    assert S.states(axes)[:3] == [{"β": 3.165, "N": 10, "seed": 0, "model": "usa", "σ": 0.001, "k": 3},
                                  {"β": 3.165, "N": 10, "seed": 0, "model": "usa", "σ": 0.01, "k": 3},
                                  {"β": 3.165, "N": 10, "seed": 0, "model": "usa", "σ": 0.1, "k": 3}]
    k = S.grid({"k": W.degree(3)}, {"k": [5, 1]})[0]
    assert (k.values, k.labels, k.default) == ([1, 3, 5], ["1", "3", "5"], 1)
    one = S.grid({"N": W.tokens(30, options=[10, 30, 100])}, {"N": [30]})
    assert one[0].values == [30], "a one-value list fixes a selection slider"


@pytest.mark.parametrize(
    "static, error, match",
    [
        ({"b": [1.0]}, ValueError, r"static names controls that explore does not have: \['b'\]"),
        ({"β": [13.0]}, ValueError, r"static\['β'\] values must lie in the slider's range \[0.5, 12\], got 13.0"),
        ({"β": ["3"]}, TypeError, r"static\['β'\] must hold numbers"),
        ({"β": [2.0, 2.0]}, ValueError, r"static\['β'\] values must be distinct"),
        ({"β": 2.0}, TypeError, r"static\['β'\] must be a list of values"),
        ({"N": [20]}, ValueError, r"static\['N'\] values must be among the control's options \[10, 30, 100\], got \[20\]"),
        ({"N": [10, 10]}, ValueError, r"static\['N'\] values must be distinct"),
        ({"seed": [1.5]}, TypeError, r"static\['seed'\] must hold integers"),
        ({"seed": list(range(21)), "β": [1.0, 2.0, 3.0, 4.0]}, ValueError,
         r"static grid has 315 states \(β: 5 × N: 3 × seed: 21\), more than 64"),
        ([("β", [1.0])], TypeError, r"static must be a dict"),
    ],
)
def test_static_grid_rejects_bad_values(static, error, match):
    controls = {"β": W.beta(5.0), "N": W.tokens(30, options=[10, 30, 100]), "seed": W.seed()}
    with pytest.raises(error, match=match):
        S.grid(controls, static)
    with pytest.raises(error, match=match):  # explore checks the grid at once, also without drawing it
        W.explore(compute=lambda β, N, seed: β, plot=ok_plot, show=False, static=static, **controls)


def test_static_html_draws_every_state_once_and_in_order():
    rec = Recorder()
    ex = make(rec, static={"β": [2.0, 7.0], "N": [10, 100]})
    page = ex.static_html()
    grid = [{"β": b, "N": n, "seed": 0} for b in (2.0, 5.0, 7.0) for n in (10, 30, 100)]
    # The default state (β = 5, N = 30) is redrawn from .data, every other one computed once.
    assert sorted(map(str, rec.computed)) == sorted(map(str, grid)) and len(rec.computed) == 9
    data, width, shown = static_data(page)
    assert data["shape"] == [3, 3] and data["names"] == ["β", "N"]
    assert data["labels"] == [["2.0", "5.0", "7.0"], ["10", "30", "100"]]
    assert len(data["index"]) == 9 and sorted(set(data["index"])) == list(range(9))
    default = data["index"][1 * 3 + 1]
    assert data["images"][default] is None, "the shown image is stored once, in the <img>"
    images = [shown if i == default else src for i, src in enumerate(data["images"])]
    for k, params in enumerate(grid):  # state k (β slowest) shows the figure of its own values
        fig = ex.render(**params)
        try:
            expected = S.png(fig)[0]
        finally:
            plt.close(fig)
        assert base64.b64decode(images[data["index"][k]].split(",", 1)[1]) == expected, params
    assert width == data["widths"][default]
    for src, shown_width in zip(images, data["widths"]):  # each image at its figure's size, sharp on HiDPI
        image = decode(src)
        assert image.mode == "P" and abs(image.width - 2 * shown_width) <= 1, "a palette PNG, twice the width shown"
    assert "Fixed here: seed = 0." in page and "9 states" in page
    assert ex.params == {"β": 5.0, "N": 30, "seed": 0} and plt.get_fignums() == []
    assert 'type="range"' in page and page.count("data-mtx-axis min=") == 2


def test_static_html_stores_equal_figures_once():
    ex = W.explore(compute=None, plot=lambda p, fig: fig.subplots().plot([0, p["β"]]), show=False,
                   static={"β": [1.0, 2.0], "N": [10, 100]}, β=W.beta(5.0), N=W.tokens(30, options=[10, 30, 100]))
    data, _, _ = static_data(ex.static_html())
    assert len(data["index"]) == 9 and len(data["images"]) == 3, "N does not change the figure: 3 images"
    assert data["index"] == [0, 0, 0, 1, 1, 1, 2, 2, 2]


def test_show_adds_the_static_form_when_asked(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setenv("MTLIB_STATIC_WIDGETS", "1")
    monkeypatch.setattr(IPython.display, "display",
                        lambda obj, **kw: None if isinstance(obj, Figure) else shown.append(obj))
    ex = W.explore(compute=lambda a: a, plot=lambda data, fig: fig.subplots().plot([0, data]),
                   a=W.slider("a", 1, min=0, max=3), static={"a": [0, 3]})
    assert len(shown) == 1
    bundle = shown[0]
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == ex.box.model_id
    assert bundle["text/html"].startswith('<div class="mtx">') and "3 states" in bundle["text/html"]
    for off in ("", "0", "false"):
        monkeypatch.setenv("MTLIB_STATIC_WIDGETS", off)
        assert not S.enabled()


def test_executed_notebook_carries_widget_and_static_form(monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("MTLIB_STATIC_WIDGETS", "1")
    cells = [*CELLS[:1], CELLS[1].replace("seed=mt.widgets.seed())", 'seed=mt.widgets.seed(), static={"β": [2.0, 9.0]})')]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}).execute()
    outputs = [o for o in nb.cells[1].outputs if o["output_type"] == "display_data"]
    assert len(outputs) == 1, "one output holds both forms"
    data = outputs[0]["data"]
    assert "application/vnd.jupyter.widget-view+json" in data
    payload, _, _ = static_data(data["text/html"])
    assert payload["labels"] == [["2.0", "5.0", "9.0"]] and len(payload["images"]) == 3
    # What the states printed went nowhere visible: the static drawing is not shown in the cell.
    assert [o["output_type"] for o in nb.cells[1].outputs] == ["display_data"]


def test_png_keeps_the_background_exact():
    fig = plt.figure(figsize=(3, 2))
    ax = fig.subplots()
    ax.plot(np.linspace(0, 1, 50), np.sin(np.linspace(0, 6, 50)), alpha=0.5)  # pale antialiased pixels
    ax.text(0.2, 0.5, r"$k_{\max}$")
    try:
        data, width = S.png(fig)
    finally:
        plt.close(fig)
    image = decode("data:image/png;base64," + base64.b64encode(data).decode())
    rgb = image.convert("RGB")
    assert image.mode == "P" and rgb.width == width
    assert rgb.getpixel((0, 0)) == (255, 255, 255), "the page's white, not an off-white box"
    assert max(rgb.getcolors(1 << 22))[1] == (255, 255, 255)
