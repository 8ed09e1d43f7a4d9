"""Figure helpers shared by the chapters, and the book's house matplotlib style.

Each helper draws one kind of picture from arrays or result objects returned by the
computing modules; it never computes dynamics itself. All take an optional ``ax`` and
return it, so a chapter can compose panels. matplotlib is imported only when a helper
runs (``import mtlib`` stays free of pyplot).

The helpers live in private modules by subject (``_plotting_circle``, ``_plotting_spectrum``,
``_plotting_sphere``; colours and widths in ``_plotting_base``) and are all re-exported here.
"""

from importlib import resources

from ._plotting_base import (  # noqa: F401
    ANGLE_TICKS, CURVE_COLOR, END_COLOR, HIGHLIGHT_COLOR, HIGHLIGHT_LINEWIDTH, MARK_COLOR, MIDDLE_COLOR,
    MUTED_COLOR, PREDICTION_LINEWIDTH, SHADE_COLOR, START_COLOR, TIME_MARK_COLOR,
)
from ._plotting_circle import (  # noqa: F401
    plot_angle_histogram, plot_circle_histogram, plot_circle_trajectories, plot_density_snapshots,
    plot_tokens_on_circle, plot_trajectories_and_histogram,
)
from ._plotting_spectrum import plot_growth_rates, plot_kmax_steps, plot_mode_amplitudes, plot_mode_bars  # noqa: F401
from ._plotting_sphere import plot_tokens_on_sphere, sphere_grid  # noqa: F401

__all__ = [
    "use_house_style",
    "plot_circle_trajectories",
    "plot_tokens_on_circle",
    "plot_circle_histogram",
    "plot_angle_histogram",
    "plot_trajectories_and_histogram",
    "plot_density_snapshots",
    "plot_growth_rates",
    "plot_kmax_steps",
    "plot_mode_bars",
    "plot_mode_amplitudes",
    "sphere_grid",
    "plot_tokens_on_sphere",
]


def use_house_style(retina=True):
    """Load the book's matplotlib style and, inside IPython, draw inline figures for HiDPI screens.

    The style ships inside the package (``mtlib.mplstyle``: quiet axes, 10.5 pt text and
    legends, ``figure.dpi`` 110). Inside an IPython kernel (a notebook, the book build,
    JupyterLab) inline figures then become "retina" PNGs: drawn at 2 x ``figure.dpi`` and
    displayed at the size ``figure.dpi`` gives, so text stays
    sharp on HiDPI screens and under zoom; the PNG carries its width only, so a narrow
    column scales it without changing its aspect ratio. Outside IPython only the style is
    loaded.

    Parameters
    ----------
    retina : bool
        False keeps the inline PNGs at ``figure.dpi`` (half the pixels).
    """
    import matplotlib.style

    if not isinstance(retina, bool):
        raise TypeError(f"retina must be True or False, got {retina!r}")
    with resources.as_file(resources.files("mtlib") / "mtlib.mplstyle") as path:
        matplotlib.style.use(str(path))
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None:
        from matplotlib.figure import Figure
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("retina" if retina else "png")
        if retina:
            shell.display_formatter.formatters["image/png"].for_type(Figure, _retina_png)


def _retina_png(fig):
    """A retina PNG of ``fig`` (base64) that carries only its display width.

    IPython's retina format also fixes the height; a page column narrower than the figure
    then scales the width alone and squashes the figure. With the width only, browsers keep
    the aspect ratio (the HTML book and JupyterLab alike).
    """
    from IPython.core.pylabtools import retina_figure

    out = retina_figure(fig, base64=True)
    if out is None:  # an empty figure draws nothing
        return None
    data, metadata = out
    return data, {"width": metadata["width"]}


# --- block C
from ._plotting_attention import plot_gap_histograms, plot_kmax_map  # noqa: F401,E402

__all__ += ["plot_kmax_map", "plot_gap_histograms"]
# --- end block C
