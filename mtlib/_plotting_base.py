"""Shared pieces of the figure helpers: the house colours and widths, new-axes helpers.

Private to mtlib; the public names are re-exported by :mod:`mtlib.plotting`.
"""

import numpy as np

from ._constants import TWO_PI

HIGHLIGHT_COLOR = "C3"  # the highlighted bar of plot_mode_bars (k_max, usually)
MUTED_COLOR = "0.6"  # the other bars
SHADE_COLOR = "0.86"  # the shaded region of plot_tokens_on_sphere
HIGHLIGHT_LINEWIDTH = 2.6  # the highlighted mode of plot_mode_amplitudes
PREDICTION_LINEWIDTH = 0.8  # the dashed linear-growth lines of plot_mode_amplitudes
MARK_COLOR = "C1"  # predicted positions (dashed lines) in the trajectory and histogram panels
TIME_MARK_COLOR = "0.3"  # the dotted vertical line at a marked time (e.g. T_N)
START_COLOR, END_COLOR, MIDDLE_COLOR = "0.6", "C1", "C0"  # rings of plot_trajectories_and_histogram
CURVE_COLOR = "0.6"  # the continuous rate curve of plot_growth_rates
ANGLE_TICKS = ([0, np.pi / 2, np.pi, 3 * np.pi / 2, TWO_PI], ["0", "π/2", "π", "3π/2", "2π"])


def _axes(ax, **subplot_kw):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(subplot_kw=subplot_kw)
    return ax


def _circle_frame(ax, extent):
    """Square, frameless axes around the origin that show at least ``extent`` (never shrink)."""
    lim = max(extent, 1.15, ax.get_xlim()[1] if ax.get_aspect() == 1.0 else 0.0)
    ax.set_aspect("equal")
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)


def _modes_and_values(k, values, what):
    """``k`` as an int array of shape (K,) and ``values`` as an array with K columns."""
    k = np.asarray(k)
    if k.ndim != 1 or k.size == 0 or not np.issubdtype(k.dtype, np.integer):
        raise ValueError(f"k must be a non-empty 1-D array of integer mode indices, got {k!r}")
    values = np.asarray(values)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"{what} must contain only finite values (found NaN or inf)")
    if values.shape[-1:] != k.shape:
        raise ValueError(f"{what} must have {k.size} entries along its last axis (one per k), got shape {values.shape}")
    return k, values
