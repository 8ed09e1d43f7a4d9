"""Figure helpers shared by the chapters, and the book's house matplotlib style.

Each helper draws one kind of picture from arrays or result objects returned by the
computing modules; it never computes dynamics itself. All take an optional ``ax`` and
return it, so a chapter can compose panels.
"""

from importlib import resources

import matplotlib.pyplot as plt
import numpy as np

__all__ = ["use_house_style", "plot_circle_trajectories", "plot_tokens_on_circle", "plot_circle_histogram"]

TWO_PI = 2.0 * np.pi


def use_house_style():
    """Load the book's matplotlib style (shipped inside the package as ``mtlib.mplstyle``)."""
    with resources.as_file(resources.files("mtlib") / "mtlib.mplstyle") as path:
        plt.style.use(str(path))


def _axes(ax, **subplot_kw):
    if ax is None:
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
    t = np.asarray(t, dtype=float)
    theta = np.asarray(theta, dtype=float)
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
            ax.axhline(m, color="C1", linestyle="--", linewidth=1.0)
    ax.set_xlim(t[0], t[-1])
    ax.set_ylim(0, TWO_PI)
    ax.set_yticks([0, np.pi / 2, np.pi, 3 * np.pi / 2, TWO_PI], ["0", "π/2", "π", "3π/2", "2π"])
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
    theta = np.asarray(theta, dtype=float).ravel()
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
    theta = np.mod(np.asarray(theta, dtype=float).ravel(), TWO_PI)
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
