"""Figure helpers on the circle: token trajectories, tokens, histograms, PDE snapshots.

Private to mtlib; re-exported by :mod:`mtlib.plotting` (and ``mt.plot_*``).
"""

import numpy as np

from ._constants import TWO_PI
from ._plotting_base import (
    ANGLE_TICKS, END_COLOR, MARK_COLOR, MIDDLE_COLOR, START_COLOR, TIME_MARK_COLOR, _axes, _circle_frame,
)
from ._validate import check_array


def plot_circle_trajectories(t, theta, ax=None, max_tokens=600, color="0.15", alpha=0.25, marks=None):
    """Draw token angles against time (a "trajectory plot", as in the paper's Figure 2).

    Parameters
    ----------
    t : array of shape (T,)
        Output times.
    theta : array of shape (T, n)
        Angles in radians at those times (any branch; drawn modulo 2π).
    max_tokens : int
        Draw at most this many tokens (an evenly spaced subset), so figures stay light.
    marks : array of angles, optional
        Horizontal dashed lines, e.g. predicted cluster positions.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    t, theta = check_array(t, "t", ndim=1), check_array(theta, "theta")
    if theta.ndim != 2 or theta.shape[0] != t.size:
        raise ValueError(f"theta must have shape (len(t), n) = ({t.size}, n), got {theta.shape}")
    n = theta.shape[1]
    pick = np.unique(np.linspace(0, n - 1, min(n, max_tokens)).round().astype(int))
    wrapped = np.mod(theta[:, pick], TWO_PI)
    # Break a line where it wraps through 0 / 2π so no vertical jumps are drawn.
    jumps = np.abs(np.diff(wrapped, axis=0)) > np.pi
    wrapped = wrapped.copy()
    wrapped[1:][jumps] = np.nan
    ax.plot(t, wrapped, color=color, alpha=alpha, linewidth=0.6)
    if marks is not None:
        for m in np.mod(np.atleast_1d(marks), TWO_PI):
            ax.axhline(m, color=MARK_COLOR, linestyle="--", linewidth=1.0)
    ax.set_xlim(t[0], t[-1])
    ax.set_ylim(0, TWO_PI)
    ax.set_yticks(*ANGLE_TICKS)
    ax.set_xlabel("time t")
    ax.set_ylabel("angle θ")
    return ax


def plot_tokens_on_circle(theta, ax=None, radius=1.0, color="C0", size=6, alpha=0.5, label=None):
    """Draw tokens as points (x, y) = r (cos θ, sin θ) on a circle of radius ``r``.

    Several calls with decreasing ``radius`` show snapshots at several times as
    concentric rings (outermost first).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    theta = check_array(theta, "theta").ravel()
    circle = np.linspace(0, TWO_PI, 400)
    ax.plot(radius * np.cos(circle), radius * np.sin(circle), color="0.85", linewidth=0.8, zorder=0)
    ax.scatter(radius * np.cos(theta), radius * np.sin(theta), s=size, color=color, alpha=alpha, label=label, linewidths=0)
    _circle_frame(ax, radius + 0.15)
    return ax


def plot_circle_histogram(theta, ax=None, radius=1.0, bins=120, height=0.3, color="C0", weights=None, label=None):
    """Draw the distribution of angles as a histogram wrapped around a circle of radius ``r``.

    Each of ``bins`` equal arcs gets a band from r outwards, of height proportional to its
    mass (the fullest arc reaches ``r + height``): a uniform law is an even ring, a
    cluster a spike. Several calls with decreasing ``radius`` compare times or runs.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    theta = np.mod(check_array(theta, "theta").ravel(), TWO_PI)
    counts, edges = np.histogram(theta, bins=bins, range=(0.0, TWO_PI), weights=weights)
    outer = radius + height * counts / max(counts.max(), 1e-300)
    # Step outline: each arc at its own height, joined radially at the bin edges.
    phi = np.repeat(edges, 2)[1:-1]
    rad = np.repeat(outer, 2)
    phi = np.append(phi, phi[0])
    rad = np.append(rad, rad[0])
    circle = np.linspace(0, TWO_PI, 400)
    ax.fill(
        np.concatenate([rad * np.cos(phi), radius * np.cos(circle[::-1])]),
        np.concatenate([rad * np.sin(phi), radius * np.sin(circle[::-1])]),
        color=color, alpha=0.6, linewidth=0, label=label,
    )
    ax.plot(radius * np.cos(circle), radius * np.sin(circle), color="0.6", linewidth=0.8)
    _circle_frame(ax, radius + height + 0.05)
    return ax


def plot_angle_histogram(theta, ax=None, bins=120, color="C0", alpha=None, histtype="bar", label=None):
    """Draw the density histogram of token angles on [0, 2π), to compare with a density ρ(θ).

    The bars have heights count / (N · width), so they integrate to 1 over [0, 2π) like a
    probability density ρ(θ) drawn on the same axes (:math:`\\int_0^{2\\pi} \\rho = 1`).

    Parameters
    ----------
    theta : array of shape (n,)
        Angles in radians (any branch; binned modulo 2π).
    bins : int >= 1
        Number of equal bins over [0, 2π).
    color, alpha, histtype, label
        Passed to ``Axes.hist`` (``histtype="step"`` draws an outline).

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    theta = check_array(theta, "theta", ndim=1)
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins must be an integer >= 1, got {bins!r}")
    ax.hist(np.mod(theta, TWO_PI), bins=bins, range=(0, TWO_PI), density=True, color=color, alpha=alpha,
            histtype=histtype, label=label)
    return ax


def _snapshot_indices(at, n_times):
    """``at`` (an int or a sequence of ints, negative counting from the end) as a list of indices."""
    indices = [at] if np.ndim(at) == 0 else list(np.asarray(at).ravel())
    if not indices or any(isinstance(i, (bool, np.bool_)) or not isinstance(i, (int, np.integer))
                          or not -n_times <= i < n_times for i in indices):
        raise ValueError(f"at must be an index or a non-empty sequence of indices into t (len {n_times}), got {at!r}")
    return [int(i) for i in indices]


def plot_trajectories_and_histogram(
    t, theta, fig=None, axes=None, at=-1, marks=None, t_mark=None, max_tokens=600, rings=False, radii=None,
    colors=None, bins=120, histtype="bar", label=None, width_ratios=(2.2, 1),
):
    """Token angles against time (left) and their distribution at chosen times (right).

    The layout of the paper's Figure 2 (arXiv:2410.23228). Left:
    :func:`plot_circle_trajectories` (at most ``max_tokens`` tokens, dashed lines at
    ``marks``), with a dotted vertical line at ``t_mark`` (e.g. ``T_N = ln N/(2γ_max)``)
    when it lies in ``[t[0], t[-1]]``. Right, for the output times ``t[at]``: either the
    density histograms on [0, 2π) (:func:`plot_angle_histogram`), with the ``marks`` as
    dashed vertical lines and angle ticks, or, with ``rings=True``, histograms wrapped
    around circles of decreasing radius (:func:`plot_circle_histogram`; the marks are then
    drawn on the left only).

    Parameters
    ----------
    t : array of shape (T,)
        Output times.
    theta : array of shape (T, n)
        Angles in radians at those times.
    fig : matplotlib.figure.Figure, optional
        Figure in which to make the two axes (side by side, widths ``width_ratios``); a
        new figure if neither ``fig`` nor ``axes`` is given.
    axes : pair of Axes, optional
        Draw on these instead (e.g. one row of a larger grid).
    at : int or sequence of int
        Indices into ``t`` of the snapshots shown on the right (default: the last time).
    marks : array of angles, optional
        Predicted cluster positions, drawn dashed in colour ``C1``.
    t_mark : float, optional
        A time drawn as a dotted vertical line on the left.
    max_tokens : int
        Tokens drawn on the left (an evenly spaced subset).
    rings : bool
        Draw the snapshots as rings instead of histograms on a line.
    radii : sequence of float, optional
        Ring radii, outermost first (default: evenly from 1.2 down to 0.3).
    colors : sequence of colours, optional
        One per snapshot. Default: rings grey ("0.6") for the first, ``C1`` for the last
        and ``C0`` in between; histograms ``C0``, ``C1``, ...
    bins, histtype, label
        Of the histograms (:func:`plot_angle_histogram`); ``label`` is given to the first.
    width_ratios : pair of float
        Widths of the two axes made in ``fig``.

    Returns
    -------
    (matplotlib.axes.Axes, matplotlib.axes.Axes)
        The trajectory axes and the distribution axes.
    """
    t, theta = check_array(t, "t", ndim=1), check_array(theta, "theta")
    if theta.ndim != 2 or theta.shape[0] != t.size:
        raise ValueError(f"theta must have shape (len(t), n) = ({t.size}, n), got {theta.shape}")
    indices = _snapshot_indices(at, t.size)
    n = len(indices)
    if radii is not None and len(radii) != n:
        raise ValueError(f"radii must give one radius per snapshot ({n}), got {len(radii)}")
    if colors is not None and len(colors) != n:
        raise ValueError(f"colors must give one colour per snapshot ({n}), got {len(colors)}")
    if axes is None:
        if fig is None:
            import matplotlib.pyplot as plt

            fig = plt.figure()
        axes = fig.subplots(1, 2, gridspec_kw={"width_ratios": list(width_ratios)})
    ax_t, ax_h = axes
    plot_circle_trajectories(t, theta, ax=ax_t, max_tokens=max_tokens, marks=marks)
    if t_mark is not None and t[0] <= t_mark <= t[-1]:
        ax_t.axvline(t_mark, color=TIME_MARK_COLOR, linestyle=":")
    if rings:
        if radii is None:
            radii = np.linspace(1.2, 0.3, n) if n > 1 else [1.0]
        if colors is None:
            colors = [START_COLOR] + [MIDDLE_COLOR] * (n - 2) + [END_COLOR] if n > 1 else [MIDDLE_COLOR]
        for i, radius, color in zip(indices, radii, colors):
            plot_circle_histogram(theta[i], ax=ax_h, radius=radius, color=color)
        return ax_t, ax_h
    colors = [f"C{j}" for j in range(n)] if colors is None else colors
    for j, (i, color) in enumerate(zip(indices, colors)):
        plot_angle_histogram(theta[i], ax=ax_h, bins=bins, color=color, histtype=histtype,
                             label=label if j == 0 else None)
    for m in [] if marks is None else np.mod(np.atleast_1d(marks), TWO_PI):
        ax_h.axvline(m, color=MARK_COLOR, linestyle="--", linewidth=1)
    ax_h.set(xlim=(0, TWO_PI), xlabel="angle θ", ylabel="density")
    ax_h.set_xticks(*ANGLE_TICKS)
    return ax_t, ax_h


def plot_density_snapshots(solutions, times, labels=None, axes=None, figsize=None):
    """Draw 2πρ(t, θ) of circle-PDE solutions: one row per solution, one panel per time.

    Each panel shows the snapshot of ``solution.t`` nearest to the asked time, in ``C0``
    where the spectral solver computed it and ``C1`` where the Lagrangian solver had
    taken over (:func:`mtlib.solve_circle_pde`); with ``labels``, "<label>, t = …" above.

    Parameters
    ----------
    solutions : sequence of R PDE solutions (fields ``t``, ``theta``, ``density``, ``method``)
    times : sequence of R sequences of C floats
        ``times[r]`` are the times drawn in row r.
    labels : sequence of R str, optional
        Written before the time above each panel of a row (e.g. "β = 5").
    axes : array of Axes of shape (R, C), optional
        Default: a new figure of ``figsize`` with a shared θ axis (then ``tight_layout``).

    Returns
    -------
    numpy array of Axes, shape (R, C)
    """
    import matplotlib.pyplot as plt

    times = [np.atleast_1d(np.asarray(ts, dtype=float)) for ts in times]
    if len(times) != len(solutions) or len({ts.size for ts in times}) != 1:
        raise ValueError(f"times must give the same number of times for each of the {len(solutions)} solutions")
    if labels is not None and len(labels) != len(solutions):
        raise ValueError(f"labels must give one label per solution ({len(solutions)}), got {len(labels)}")
    fig = None
    if axes is None:
        fig, axes = plt.subplots(len(solutions), times[0].size, figsize=figsize, sharex=True, squeeze=False)
    axes = np.asarray(axes).reshape(len(solutions), times[0].size)
    for row, (sol, ts) in enumerate(zip(solutions, times)):
        for ax, at in zip(axes[row], ts):
            i = int(np.argmin(np.abs(sol.t - at)))
            color = "C0" if sol.method[i] == "spectral" else "C1"
            ax.plot(sol.theta, TWO_PI * sol.density[i], color=color, lw=1)
            if labels is not None:
                ax.text(0.5, 1.02, f"{labels[row]}, t = {sol.t[i]:.2f}", transform=ax.transAxes,
                        fontsize=8.5, ha="center", va="bottom")
            ax.set_xticks([0, np.pi, TWO_PI], ["0", "π", "2π"])
        axes[row, 0].set_ylabel("2πρ")
    plt.setp(axes[-1], xlabel="θ")
    if fig is not None:
        fig.tight_layout()
    return axes
