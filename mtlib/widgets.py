"""Interactive figures for the chapters: slider presets with the paper's symbols, and ``explore``.

A chapter's "move the parameters" cell is one call, a compute function, a plot function
and one preset per parameter::

    def run(β, N, seed):                        # the expensive part: returns data
        return mt.simulate(mt.uniform_circle(N, rng=seed), β, np.linspace(0.0, 0.6, 121))

    def draw(res, fig):                         # draws the data on a fresh Figure
        mt.plot_circle_trajectories(res.t, res.states, ax=fig.subplots())

    mt.widgets.explore(compute=run, plot=draw, figsize=(7, 3.4),
                       β=mt.widgets.beta(5.0), N=mt.widgets.tokens(10_000), seed=mt.widgets.seed())

The controls sit above the figure; moving one calls ``compute(**values)`` and then
``plot(data, fig)`` on a new figure that replaces the old one. The figure lives in an
``ipywidgets.Output``, like the one ``ipywidgets.interact`` makes, so a notebook executed
by jupyter-book (myst-nb) or nbval saves the sliders and the figure in its widget state.
The kernel sets that widget's outputs itself (see ``Explorer._draw``): capturing them
with ``with output:`` made nbclient stall a cell until its timeout.
An error in the first drawing is raised (the cell fails); later errors are shown under
the sliders.

Every preset sets ``continuous_update=False``: each change runs a computation, so it
runs when the slider is released, not at every pixel of a drag. Ranges are checked: a
value outside its slider's range raises instead of being clipped (ipywidgets would clip
it silently and the figure would not show the value the chapter wrote).

``compute`` and ``plot`` are kept apart, and :meth:`Explorer.render` draws any parameter
set without touching the widgets. The static HTML book has no kernel, so there the
figures of a small grid of states are drawn in advance: with ``MTLIB_STATIC_WIDGETS=1``
(set for the kernels of a book build by ``_ext/offline_pages.py``) the displayed output
also carries a self-contained HTML form (``static=`` names the values each control
offers; :meth:`Explorer.static_html`), which the HTML book shows instead of the widget,
while JupyterLab shows the live widget.
ipywidgets, IPython and matplotlib are imported only when a function here runs, so
``import mtlib`` stays light.
"""

import inspect
import math
import numbers

from . import _static_explorer
from ._constants import DEFAULT_MODEL
from ._validate import MODELS, check_choice, check_int, check_real

__all__ = [
    "explore",
    "Explorer",
    "beta",
    "tokens",
    "time",
    "seed",
    "dimension",
    "degree",
    "amplitude",
    "model",
    "slider",
]

TOKEN_COUNTS = (1_000, 3_000, 10_000, 30_000, 100_000)  # default N options of tokens()
MAX_DECIMALS = 6  # most decimals shown by a float slider's readout


# ----------------------------------------------------------------------------------------
# Presets
# ----------------------------------------------------------------------------------------


def _decimals(step):
    """The fewest decimals (<= MAX_DECIMALS) that write ``step`` exactly enough to read it."""
    for d in range(MAX_DECIMALS + 1):
        if abs(round(step, d) - step) <= 1e-9 * step:
            return d
    return MAX_DECIMALS


def _nice_step(span):
    """The largest of 1, 2, 5 × 10^j that is <= ``span`` (a readable slider step)."""
    power = 10.0 ** math.floor(math.log10(span))
    return max(m * power for m in (1, 2, 5) if m * power <= span * (1 + 1e-12))


def _float_slider(preset, symbol, value, low, high, step):
    """A FloatSlider on [low, high] with the given step, refusing a value outside it."""
    import ipywidgets

    low = check_real(low, f"{preset}: min")
    high = check_real(high, f"{preset}: max")
    if not low < high:
        raise ValueError(f"{preset}: min must be < max, got min={low}, max={high}")
    step = check_real(step, f"{preset}: step", low=0.0, low_open=True)
    value = check_real(value, f"{preset}: value", low=low, high=high)
    return ipywidgets.FloatSlider(
        value=value, min=low, max=high, step=step, description=_symbol(symbol, preset),
        readout_format=f".{_decimals(step)}f", continuous_update=False,
    )


def _int_slider(preset, symbol, value, low, high, step=1):
    """An IntSlider on [low, high], refusing a value outside it."""
    import ipywidgets

    low = check_int(low, f"{preset}: min")
    high = check_int(high, f"{preset}: max")
    if not low < high:
        raise ValueError(f"{preset}: min must be < max, got min={low}, max={high}")
    step = check_int(step, f"{preset}: step", low=1)
    value = check_int(value, f"{preset}: value", low=low, high=high)
    return ipywidgets.IntSlider(
        value=value, min=low, max=high, step=step, description=_symbol(symbol, preset), continuous_update=False,
    )


def _selection_slider(preset, symbol, value, options, label=str):
    """A SelectionSlider over ``options`` (shown with ``label``), refusing a value not among them."""
    import ipywidgets

    options = list(options) if not isinstance(options, (str, bytes)) and hasattr(options, "__iter__") else None
    if not options:
        raise ValueError(f"{preset}: options must be a non-empty sequence of values")
    if len(set(options)) != len(options):
        raise ValueError(f"{preset}: options must be distinct, got {options}")
    if value not in options:
        raise ValueError(f"{preset}: value must be one of options {options}, got {value!r}")
    return ipywidgets.SelectionSlider(
        options=[(label(o), o) for o in options], value=options[options.index(value)],
        description=_symbol(symbol, preset),
        continuous_update=False,
    )


def _symbol(symbol, preset):
    if not isinstance(symbol, str) or not symbol:
        raise TypeError(f"{preset}: symbol must be a non-empty string (the slider's label), got {symbol!r}")
    return symbol


def beta(value=5.0, *, min=0.5, max=12.0, step=0.1, options=None, symbol="β"):
    """Slider for the inverse temperature β of the attention kernel e^{β⟨x, y⟩}.

    β sets the interaction range: k_max(β) ≈ √(2β) clusters form on the circle
    (arXiv:2410.23228). With ``options`` (e.g. the β of precomputed runs) the slider
    steps through those values only.

    Parameters
    ----------
    value : float
        Initial β, inside [min, max] (or one of ``options``).
    min, max, step : float
        Range and step (default 0.5 to 12 by 0.1).
    options : sequence of float, optional
        The only values offered (a selection slider); ``min``, ``max``, ``step`` unused.
    symbol : str
        The slider's label.

    Returns
    -------
    ipywidgets.FloatSlider or ipywidgets.SelectionSlider
        With ``continuous_update=False``.
    """
    if options is not None:
        return _selection_slider("beta", symbol, value, [check_real(b, "beta: options") for b in options], "{:g}".format)
    return _float_slider("beta", symbol, value, min, max, step)


def tokens(value=10_000, *, options=TOKEN_COUNTS, symbol="N"):
    """Slider for the number of tokens N, over a few sizes (default 10³ to 10⁵, 1-3-10 steps).

    Parameters
    ----------
    value : int
        Initial N, one of ``options``.
    options : sequence of int >= 1
        The sizes offered, shown as "10 000".
    symbol : str
        The slider's label.

    Returns
    -------
    ipywidgets.SelectionSlider
        ``.value`` is the int N; ``continuous_update=False``.
    """
    counts = [check_int(n, "tokens: options", low=1) for n in options]
    return _selection_slider("tokens", symbol, value, counts, lambda n: f"{n:,}".replace(",", " "))


def time(value=1.0, *, min=None, max=None, step=None, symbol="t"):
    """Slider for a time horizon t > 0 (the final time of a run).

    Default range, from ``value``: step the largest 1, 2, 5 × 10^j <= value / 4, from one
    step up to 5 × value (0.6 gives 0.1 to 3.0 by 0.1).

    Parameters
    ----------
    value : float > 0
        Initial t, inside [min, max].
    min, max, step : float, optional
        Range and step (defaults above).
    symbol : str
        The slider's label (e.g. "t / T_N" for a time in units of T_N).

    Returns
    -------
    ipywidgets.FloatSlider
        With ``continuous_update=False``.
    """
    value = check_real(value, "time: value", low=0.0, low_open=True)
    step = _nice_step(value / 4) if step is None else step
    return _float_slider("time", symbol, value, step if min is None else min, 5 * value if max is None else max, step)


def seed(value=0, *, max=20, symbol="seed"):
    """Slider for the seed of the random initial tokens, 0 to ``max``.

    Returns
    -------
    ipywidgets.IntSlider
        With ``continuous_update=False``.
    """
    return _int_slider("seed", symbol, value, 0, max)


def dimension(value=3, *, min=2, max=16, symbol="d"):
    """Slider for the dimension d of the ambient space R^d (tokens on S^{d-1}), d >= 2.

    Returns
    -------
    ipywidgets.IntSlider
        With ``continuous_update=False``.
    """
    if check_int(min, "dimension: min") < 2:
        raise ValueError(f"dimension: min must be >= 2 (the circle is d = 2), got {min}")
    return _int_slider("dimension", symbol, value, min, max)


def degree(value=1, *, min=1, max=10, symbol="k"):
    """Slider for a Fourier mode or spherical-harmonic degree k, an integer >= 0.

    Returns
    -------
    ipywidgets.IntSlider
        With ``continuous_update=False``.
    """
    if check_int(min, "degree: min") < 0:
        raise ValueError(f"degree: min must be >= 0, got {min}")
    return _int_slider("degree", symbol, value, min, max)


def amplitude(value=0.01, *, min=1e-4, max=1e-1, step=0.1, symbol="α"):
    """Logarithmic slider for the size of a perturbation of the uniform state (α, σ, ε).

    Parameters
    ----------
    value : float > 0
        Initial size, inside [min, max].
    min, max : float > 0
        Range (default 10⁻⁴ to 10⁻¹).
    step : float > 0
        Step of log10 of the value (default 0.1: ten values per decade).
    symbol : str
        The slider's label (e.g. "σ" for a noise level).

    Returns
    -------
    ipywidgets.FloatLogSlider
        Base 10, with ``continuous_update=False``.
    """
    import ipywidgets

    low = check_real(min, "amplitude: min", low=0.0, low_open=True)
    high = check_real(max, "amplitude: max", low=0.0, low_open=True)
    if not low < high:
        raise ValueError(f"amplitude: min must be < max, got min={low}, max={high}")
    step = check_real(step, "amplitude: step", low=0.0, low_open=True)
    value = check_real(value, "amplitude: value", low=low, high=high)
    return ipywidgets.FloatLogSlider(
        value=value, base=10, min=math.log10(low), max=math.log10(high), step=step,
        description=_symbol(symbol, "amplitude"), continuous_update=False,
    )


def model(value=DEFAULT_MODEL, *, symbol="model"):
    """Menu for the attention model: ``"usa"`` (unnormalised) or ``"sa"`` (softmax).

    Returns
    -------
    ipywidgets.Dropdown
    """
    import ipywidgets

    return ipywidgets.Dropdown(options=list(MODELS), value=check_choice(value, "model: value", MODELS),
                               description=_symbol(symbol, "model"))


def slider(symbol, value, *, min, max, step=None):
    """Slider for any other parameter: integer if value, min, max (and step) are ints.

    Parameters
    ----------
    symbol : str
        The slider's label (the paper's symbol).
    value, min, max : int or float
        Initial value and range; the value must lie inside.
    step : int or float, optional
        Default: 1 for an integer slider, else the largest 1, 2, 5 × 10^j <= (max - min) / 20.

    Returns
    -------
    ipywidgets.IntSlider or ipywidgets.FloatSlider
        With ``continuous_update=False``.
    """
    ints = all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in (value, min, max))
    if ints and (step is None or isinstance(step, numbers.Integral)):
        return _int_slider("slider", symbol, value, min, max, 1 if step is None else step)
    if step is None:
        span = check_real(max, "slider: max") - check_real(min, "slider: min")
        if span <= 0:
            raise ValueError(f"slider: min must be < max, got min={min}, max={max}")
        step = _nice_step(span / 20)
    return _float_slider("slider", symbol, value, min, max, step)


# ----------------------------------------------------------------------------------------
# explore
# ----------------------------------------------------------------------------------------


def explore(compute, plot, *, figsize=None, show=True, static=None, **controls):
    """Show controls over a figure that ``plot(compute(**values), fig)`` redraws on each change.

    Parameters
    ----------
    compute : callable or None
        ``compute(**values) -> data``, called with one keyword per control (its name in
        this call, e.g. ``β``). A pure function of its arguments (seed its randomness),
        so that a figure can be rebuilt from the values alone. None: nothing to compute,
        ``plot`` receives the values as a dict.
    plot : callable
        ``plot(data, fig)`` draws ``data`` on ``fig``, a new, empty matplotlib Figure of
        size ``figsize`` (make axes with ``fig.subplots(...)`` or ``fig.add_subplot``).
        Its return value is ignored.
    figsize : (float, float), optional
        Figure size in inches (default: the style's ``figure.figsize``).
    show : bool
        Display the controls and the figure now (as ``ipywidgets.interact`` does). With
        False, display the returned :class:`Explorer` later.
    static : dict of str to sequence, optional
        For the static HTML book: the values each control offers there, e.g.
        ``{"β": [1.0, 3.2, 5.0], "N": [1_000, 10_000]}``; every combination is drawn in
        advance when ``MTLIB_STATIC_WIDGETS=1`` (at most 64 states). A control not named
        keeps its current value (a seed, say; the page says so), a menu or selection
        slider not named offers all its options; the current value is always offered.
        Checked on every call, drawn only in the book build.
    **controls : ipywidgets value widgets
        One per parameter of ``compute``, e.g. ``β=mt.widgets.beta(5.0)``; a widget with
        no description is labelled by its name.

    Returns
    -------
    Explorer
        The controls (``.controls``), the last data (``.data``) and :meth:`~Explorer.render`.

    Raises
    ------
    TypeError, ValueError
        For a non-callable ``compute``/``plot``, no controls, a control that is not a value
        widget, controls that ``compute`` does not accept, a bad ``figsize``, a ``static``
        value a control cannot take or too many states; and whatever the first
        ``compute``/``plot`` call raises.
    """
    explorer = Explorer(compute, plot, controls, figsize=figsize, static=static)
    if show:
        explorer.show()
    return explorer


class Explorer:
    """Controls, a compute function and a plot function, kept in step (build with :func:`explore`).

    Attributes
    ----------
    controls : dict of str to ipywidgets widget
        The controls, by parameter name.
    output : ipywidgets.Output
        Holds the current figure.
    box : ipywidgets.VBox
        The controls above ``output``: what is displayed.
    data : object
        What ``compute`` returned for the figure shown.
    static : dict or None
        The values the static HTML form offers per control (see :func:`explore`).
    """

    def __init__(self, compute, plot, controls, figsize=None, static=None):
        import ipywidgets

        if compute is None:
            compute = dict
        for name, func in (("compute", compute), ("plot", plot)):
            if not callable(func):
                raise TypeError(f"{name} must be callable, got {type(func).__name__}")
        if not controls:
            raise ValueError("explore needs at least one control, e.g. β=mt.widgets.beta(5.0)")
        for name, widget in controls.items():
            if not isinstance(widget, ipywidgets.ValueWidget):
                raise TypeError(
                    f"control {name!r} must be an ipywidgets value widget (e.g. mt.widgets.beta()), "
                    f"got {type(widget).__name__}"
                )
        if len({id(w) for w in controls.values()}) != len(controls):
            raise ValueError("each control must be its own widget: one widget was given for two parameters")
        _check_accepts(compute, "compute", kwargs=list(controls))
        _check_accepts(plot, "plot", args=2)
        self.compute = compute
        self.plot = plot
        self.figsize = _check_figsize(figsize)
        self.controls = dict(controls)
        for name, widget in self.controls.items():
            if not widget.description:
                widget.description = name
        _static_explorer.grid(self.controls, static)  # refuse a bad grid at once, also where it is not drawn
        self.static = static
        self.output = ipywidgets.Output()
        self.box = ipywidgets.VBox([*self.controls.values(), self.output], _dom_classes=("widget-interact",))
        self.data = None
        self._shown = False
        self._draw(initial=True)
        for widget in self.controls.values():
            widget.observe(self._on_change, names="value")

    @property
    def params(self):
        """The controls' current values, by parameter name."""
        return {name: widget.value for name, widget in self.controls.items()}

    def render(self, **params):
        """``plot(compute(**params), fig)`` on a new Figure, returned open; the widgets are untouched.

        ``params`` must name every control. The caller closes the figure
        (``plt.close(fig)``).
        """
        missing = sorted(set(self.controls) - set(params))
        unknown = sorted(set(params) - set(self.controls))
        if missing or unknown:
            raise TypeError(f"render needs exactly the controls {list(self.controls)}: missing {missing}, unknown {unknown}")
        return self._figure(self.compute(**params))

    def static_html(self):
        """The kernel-free HTML form: every state of the ``static`` grid drawn, a script to switch.

        The grid includes the controls' current values, shown first; the state of ``.data``
        is redrawn without recomputing. What the drawings print is discarded. Returns the
        HTML fragment (str); the widgets are untouched.
        """
        from IPython.utils.capture import capture_output

        def draw(params):
            return self._figure(self.data) if params == self._data_params else self.render(**params)

        with capture_output():  # what the drawings print or display belongs to no cell
            return _static_explorer.scrubber(_static_explorer.grid(self.controls, self.static), draw)

    def show(self):
        """Display the controls and the figure (once; display ``.box`` for another view).

        One output: the live widget, and with ``MTLIB_STATIC_WIDGETS=1`` also
        :meth:`static_html` as its ``text/html`` form (the HTML book shows that one).
        """
        from IPython.display import display

        bundle = self.box._repr_mimebundle_()
        if _static_explorer.enabled():
            bundle["text/html"] = self.static_html()
        display(bundle, raw=True)
        self._shown = True

    def _ipython_display_(self):
        if not self._shown:
            self.show()

    def __repr__(self):
        values = ", ".join(f"{name}={value!r}" for name, value in self.params.items())
        return f"Explorer({values})"

    def _figure(self, data):
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=self.figsize)
        try:
            self.plot(data, fig)
        except BaseException:
            plt.close(fig)
            raise
        return fig

    def _draw(self, initial):
        """Recompute and redraw: what the drawing shows replaces ``output.outputs`` at once.

        The outputs are captured here and set as the widget's state from the kernel, not
        displayed inside ``with self.output``: there a frontend (nbclient, as jupyter-book
        and nbval run it) routes each captured output into its copy of the widget and
        sends that state back on the shell channel while it waits for the cell's
        ``execute_reply`` on the same socket, and that send can swallow the socket's
        wake-up: the reply then sits unread until the cell timeout ends the wait. The
        first drawing raises its errors; a later one, in a kernel, shows its traceback
        under the sliders.
        """
        import matplotlib.pyplot as plt
        from IPython import get_ipython
        from IPython.display import display
        from IPython.utils.capture import capture_output

        with capture_output() as captured:
            try:
                params = self.params
                data = self.compute(**params)
                fig = self._figure(data)
                try:
                    display(fig)
                finally:
                    plt.close(fig)
            except Exception as exc:
                error = exc
            else:
                error = None
        outputs = _captured_outputs(captured)
        if error is not None:
            if initial or get_ipython() is None:
                captured.show()  # what was printed before the error stays in the cell
                raise error
            self.output.outputs = (*outputs, _error_output(error))
            return
        self.data, self._data_params = data, params
        self.output.outputs = outputs

    def _on_change(self, change):
        self._draw(initial=False)


def _captured_outputs(captured):
    """The stdout, stderr and displays of an IPython ``capture_output`` as nbformat outputs."""
    streams = [{"output_type": "stream", "name": name, "text": text}
               for name, text in (("stdout", captured.stdout), ("stderr", captured.stderr)) if text]
    shown = [{"output_type": "display_data", "data": o.data, "metadata": o.metadata or {}}
             for o in captured.outputs]
    return (*streams, *shown)


def _error_output(exc):
    """An nbformat error output (name, message, traceback lines) for ``exc``."""
    import traceback

    lines = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)).splitlines()
    return {"output_type": "error", "ename": type(exc).__name__, "evalue": str(exc), "traceback": lines}


def _check_accepts(func, name, args=0, kwargs=()):
    """TypeError unless ``func`` can be called with ``args`` positional and ``kwargs`` keyword arguments."""
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):  # some builtins have no signature: let the call decide
        return
    try:
        signature.bind(*range(args), **dict.fromkeys(kwargs))
    except TypeError as exc:
        called = ", ".join([*(["data", "fig"] if args else []), *(f"{k}=..." for k in kwargs)])
        raise TypeError(f"{name} must accept the call {name}({called}): {exc}") from None


def _check_figsize(figsize):
    if figsize is None:
        return None
    if isinstance(figsize, (str, bytes)) or not hasattr(figsize, "__len__") or len(figsize) != 2:
        raise TypeError(f"figsize must be a pair (width, height) in inches, got {figsize!r}")
    return tuple(check_real(v, "figsize", low=0.0, low_open=True) for v in figsize)
