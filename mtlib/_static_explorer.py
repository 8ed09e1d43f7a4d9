"""The static HTML form of ``mt.widgets.explore``: every figure of a small grid of states, drawn in advance.

A built book has no kernel, so a slider cannot rerun ``compute``. When the book is
built (the book's Sphinx extension ``_ext/offline_pages.py`` sets ``MTLIB_STATIC_WIDGETS=1``
for the kernels), :func:`scrubber`
draws the figure of every combination of a few values per control (the chapter names
them with ``explore(..., static={"β": [...]})``) and writes a self-contained HTML
fragment: one range input (or menu) per varied control, the values it offers, and a
few lines of JavaScript that show the precomputed PNG of the chosen combination. No
network, no widget manager. ``explore`` publishes this fragment as the ``text/html``
part of the same output whose ``application/vnd.jupyter.widget-view+json`` part is the
live widget: JupyterLab shows the live widget, the HTML book (``nb_mime_priority_overrides``
in ``_config.yml``) shows the fragment.

PNGs are drawn at :data:`SCALE` times the figure's dpi (sharp on HiDPI screens), shown at
the figure's size, reduced to a 256-colour palette and stored once per distinct image.
"""

import base64
import hashlib
import html
import io
import itertools
import json
import math
import numbers
import os

ENV = "MTLIB_STATIC_WIDGETS"  # set to 1 to precompute (the book build); unset: live widget only
MAX_STATES = 64  # most states one explorer may precompute (page weight and build time)
SCALE = 2  # pixels per figure pixel: HiDPI PNGs
COLOURS = 256  # palette size of the stored PNGs

_SCRIPT = """(function () {
  var root = document.currentScript.parentNode;
  var data = JSON.parse(root.querySelector("script.mtx-data").textContent);
  var inputs = root.querySelectorAll("input[data-mtx-axis], select[data-mtx-axis]");
  var readouts = root.querySelectorAll("output[data-mtx-axis]");
  var img = root.querySelector("img.mtx-figure");
  function state() {
    var k = 0;
    for (var i = 0; i < data.shape.length; i++) { k = k * data.shape[i] + Number(inputs[i].value); }
    return k;
  }
  data.images[data.index[state()]] = img.getAttribute("src");  // the default image is stored once, in img
  function update() {
    var words = [];
    for (var i = 0; i < data.shape.length; i++) {
      var j = Number(inputs[i].value);
      readouts[i].textContent = data.labels[i][j];
      words.push(data.names[i] + " = " + data.labels[i][j]);
    }
    var shown = data.index[state()];
    img.src = data.images[shown];
    img.width = data.widths[shown];
    img.alt = data.alt + words.join(", ");
  }
  for (var i = 0; i < inputs.length; i++) {
    inputs[i].addEventListener("input", update);
    inputs[i].addEventListener("change", update);
  }
})();"""

_STYLE = (
    ".mtx{margin:.5em 0}.mtx-controls{display:grid;grid-template-columns:max-content minmax(8em,22em) "
    "max-content;gap:.2em .8em;align-items:center;font-size:.9em}.mtx-controls input{width:100%}"
    ".mtx-figure{max-width:100%;height:auto;display:block;margin-top:.4em}"
    ".mtx-note{font-size:.85em;color:#555;margin:.2em 0}"
)


def enabled():
    """True when the environment asks for precomputed figures (``MTLIB_STATIC_WIDGETS`` set, not 0)."""
    return os.environ.get(ENV, "").strip().lower() not in ("", "0", "false", "no")


class Axis:
    """One control of the grid: its name, the values offered, their labels, and the default's index."""

    def __init__(self, name, widget, values, labels, menu):
        self.name, self.widget, self.values, self.labels, self.menu = name, widget, values, labels, menu
        self.default = values.index(widget.value)

    @property
    def symbol(self):
        return self.widget.description or self.name


def _options(widget):
    """(values, labels) of a selection widget (menu, selection slider), or None for a slider."""
    values = getattr(widget, "_options_values", None)
    if values is None:
        return None
    return list(values), list(widget._options_labels)


def _readout(widget, value):
    """The value as the widget's readout writes it (more digits if that would hide it)."""
    fmt = getattr(widget, "readout_format", None)
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not fmt:
        return str(value)
    try:
        text = format(value, fmt)
    except ValueError:
        return str(value)
    return text if math.isclose(float(text), value, rel_tol=1e-9, abs_tol=1e-12) else f"{value:.6g}"


def _check_value(name, widget, value):
    """The value if the widget can take it (inside its range), else ValueError/TypeError naming it."""
    where = f"static[{name!r}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{where} must hold numbers for a slider, got {value!r}")
    if isinstance(widget.value, numbers.Integral):
        if not float(value).is_integer():
            raise TypeError(f"{where} must hold integers for an integer slider, got {value!r}")
        value = int(value)
    else:
        value = float(value)
    low, high = widget.min, widget.max
    if hasattr(widget, "base"):  # FloatLogSlider: min and max are exponents
        low, high = widget.base**low, widget.base**high
    if not low * (1 - 1e-12) <= value <= high * (1 + 1e-12) + 1e-300:
        raise ValueError(f"{where} values must lie in the slider's range [{low:g}, {high:g}], got {value!r}")
    return value


def grid(controls, static):
    """The axes of the grid: per control the values the static page offers (validated).

    Parameters
    ----------
    controls : dict of str to ipywidgets value widget
        The explorer's controls; their current values are the defaults.
    static : dict of str to sequence, or None
        Values per control. A control not named keeps its current value only, except a
        menu or selection slider, which offers all its options. The current value is
        always offered; slider values are sorted, options keep their order.

    Returns
    -------
    list of Axis
        One per control, in the controls' order (an axis of one value is a fixed control).

    Raises
    ------
    TypeError, ValueError
        For an unknown name, a value the control cannot take, repeated values, or more
        than :data:`MAX_STATES` states in all.
    """
    static = {} if static is None else static
    if not isinstance(static, dict):
        raise TypeError(f"static must be a dict of control name to a list of values, got {type(static).__name__}")
    unknown = sorted(set(static) - set(controls))
    if unknown:
        raise ValueError(f"static names controls that explore does not have: {unknown} (controls: {list(controls)})")
    axes = []
    for name, widget in controls.items():
        options = _options(widget)
        given = static.get(name)
        if given is not None and (isinstance(given, (str, bytes)) or not hasattr(given, "__iter__")):
            raise TypeError(f"static[{name!r}] must be a list of values, got {given!r}")
        given = None if given is None else list(given)
        if options is not None:
            values, labels = options
            chosen = values if given is None else given
            missing = [v for v in chosen if v not in values]
            if missing:
                raise ValueError(f"static[{name!r}] values must be among the control's options {values}, got {missing}")
            if len({values.index(v) for v in chosen}) != len(chosen):
                raise ValueError(f"static[{name!r}] values must be distinct, got {given}")
            order = sorted({values.index(v) for v in [*chosen, widget.value]})
            axes.append(Axis(name, widget, [values[i] for i in order], [labels[i] for i in order],
                             menu=not hasattr(widget, "readout")))
            continue
        chosen = [_check_value(name, widget, v) for v in (given or [])]
        if len(set(chosen)) != len(chosen):
            raise ValueError(f"static[{name!r}] values must be distinct, got {given}")
        values = sorted(set(chosen) | {widget.value})
        axes.append(Axis(name, widget, values, [_readout(widget, v) for v in values], menu=False))
    count = math.prod(len(a.values) for a in axes)
    if count > MAX_STATES:
        sizes = " × ".join(f"{a.name}: {len(a.values)}" for a in axes)
        raise ValueError(f"static grid has {count} states ({sizes}), more than {MAX_STATES}: offer fewer values")
    return axes


def states(axes):
    """Every combination of the axes' values, as parameter dicts, the last axis fastest."""
    names = [a.name for a in axes]
    return [dict(zip(names, combo)) for combo in itertools.product(*(a.values for a in axes))]


def png(fig):
    """The figure as a palette PNG at SCALE × its dpi (tight box, as the notebook shows it); (bytes, width px)."""
    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=SCALE * fig.dpi, bbox_inches="tight", metadata={"Software": None})
    image = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    small = image.quantize(colors=COLOURS, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    # The background (the corner pixel) keeps its exact colour: the octree's average of white
    # and the palest antialiased pixels would show the image as an off-white box on the page.
    palette = small.getpalette()
    index = small.getpixel((0, 0))
    palette[3 * index:3 * index + 3] = image.getpixel((0, 0))
    small.putpalette(palette)
    out = io.BytesIO()
    small.save(out, format="png", compress_level=9)
    return out.getvalue(), image.width


def scrubber(axes, draw):
    """Draw every state of the grid and return the HTML fragment that switches between them.

    Parameters
    ----------
    axes : list of Axis
        From :func:`grid`.
    draw : callable
        ``draw(params) -> matplotlib Figure`` (open; closed here after encoding).

    Returns
    -------
    str
        A ``<div class="mtx">`` with the controls, the default state's image, the images
        of all states (data URIs, each distinct image once) and the script.
    """
    import matplotlib.pyplot as plt

    images, widths, index, seen = [], [], [], {}
    for params in states(axes):
        fig = draw(params)
        try:
            data, width = png(fig)
        finally:
            plt.close(fig)
        key = hashlib.sha256(data).hexdigest()
        if key not in seen:
            seen[key] = len(images)
            images.append("data:image/png;base64," + base64.b64encode(data).decode("ascii"))
            widths.append(round(width / SCALE))  # shown at the figure's own size (its tight box)
        index.append(seen[key])
    return _html(axes, images, widths, index)


def _html(axes, images, widths, index):
    """The fragment: a row per varied control, the note on the grid, the default image, data, script."""
    varied = [a for a in axes if len(a.values) > 1]
    fixed = [a for a in axes if len(a.values) == 1]
    shape = [len(a.values) for a in varied]
    first = 0
    for a in varied:
        first = first * len(a.values) + a.default
    rows = []
    for a in varied:
        name = html.escape(a.symbol)
        if a.menu:
            options = "".join(f'<option value="{j}"{" selected" if j == a.default else ""}>{html.escape(label)}</option>'
                              for j, label in enumerate(a.labels))
            field = f'<select data-mtx-axis aria-label="{name}">{options}</select>'
        else:
            field = (f'<input type="range" data-mtx-axis min="0" max="{len(a.values) - 1}" step="1" '
                     f'value="{a.default}" aria-label="{name}">')
        hidden = " hidden" if a.menu else ""  # a menu shows its value itself
        rows.append(f'<span>{name}</span>{field}<output data-mtx-axis{hidden}>{html.escape(a.labels[a.default])}</output>')
    values = "; ".join(f"{html.escape(a.symbol)}: {', '.join(html.escape(v) for v in a.labels)}" for a in varied)
    count = math.prod(shape)
    note = f"Precomputed for this page: {count} state{'s' if count != 1 else ''} ({values or 'one state'})."
    if fixed:
        kept = ", ".join(f"{html.escape(a.symbol)} = {html.escape(a.labels[0])}" for a in fixed)
        note += f" Fixed here: {kept}."
    note += " Run the notebook in JupyterLab for any value."
    alt = "Figure for " if varied else "Figure"
    shown = images[index[first]]
    images = [None if i == index[first] else src for i, src in enumerate(images)]  # shown is in the img
    data = {"shape": shape, "names": [a.symbol for a in varied], "labels": [a.labels for a in varied],
            "index": index, "images": images, "widths": widths, "alt": alt}
    payload = json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")
    default_words = ", ".join(f"{a.symbol} = {a.labels[a.default]}" for a in varied)
    return (
        f'<div class="mtx"><style>{_STYLE}</style>'
        f'<div class="mtx-controls">{"".join(rows)}</div>'
        f'<p class="mtx-note">{note}</p>'
        f'<img class="mtx-figure" width="{widths[index[first]]}" src="{shown}" '
        f'alt="{html.escape(alt + default_words)}">'
        f'<script type="application/json" class="mtx-data">{payload}</script>'
        f"<script>{_SCRIPT}</script></div>"
    )
