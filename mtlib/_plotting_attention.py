"""Figure helpers for general attention: the k_max(β, φ) map and parking-gap histograms.

Private to mtlib; re-exported by :mod:`mtlib.plotting` (``mt.plotting.plot_kmax_map``,
``mt.plotting.plot_gap_histograms``).
"""

import numpy as np

from ._plotting_base import _axes
from ._validate import check_array

PI_TICKS = ([0, np.pi / 4, np.pi / 2, 3 * np.pi / 4, np.pi], ["0", "π/4", "π/2", "3π/4", "π"])


def plot_kmax_map(beta, phi, kmax, ax=None, cmap="tab10", colorbar=True):
    """Draw the fastest-growing mode k_max(β, φ) of the rotated interaction as a map over (φ, β).

    Each cell of the grid ``beta × phi`` is coloured by its integer ``kmax[i, j]`` (one
    colour per value, 0 = no growing mode), as returned by
    :func:`mtlib.kmax_rotated` for A = R_φ on the circle (arXiv:2410.23228 for φ = 0).

    Parameters
    ----------
    beta : array of shape (B,)
        Inverse temperatures, increasing (the vertical axis).
    phi : array of shape (P,)
        Rotation angles in radians, increasing (the horizontal axis, ticks at multiples of π/4).
    kmax : integer array of shape (B, P)
        k_max at (beta[i], phi[j]), each >= 0.
    cmap : str
        A qualitative matplotlib colormap; k = 0, 1, ... take its colours in turn.
    colorbar : bool
        Add a colour bar with one tick per value of k_max.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from matplotlib import colormaps
    from matplotlib.colors import BoundaryNorm, ListedColormap

    beta = check_array(beta, "beta", ndim=1)
    phi = check_array(phi, "phi", ndim=1)
    k = np.asarray(kmax)
    if not np.issubdtype(k.dtype, np.integer) or k.shape != (beta.size, phi.size) or k.min() < 0:
        raise ValueError(f"kmax must be an integer array >= 0 of shape (len(beta), len(phi)) = "
                         f"({beta.size}, {phi.size}), got dtype {k.dtype} and shape {k.shape}")
    for name, axis in (("beta", beta), ("phi", phi)):
        if axis.size > 1 and np.any(np.diff(axis) <= 0):
            raise ValueError(f"{name} must be strictly increasing")
    ax = _axes(ax)
    top = int(k.max())
    base = colormaps[cmap]
    colors = ListedColormap([base(i % base.N) for i in range(top + 1)])
    norm = BoundaryNorm(np.arange(top + 2) - 0.5, top + 1)
    mesh = ax.pcolormesh(phi, beta, k, cmap=colors, norm=norm, shading="nearest")
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, ticks=np.arange(top + 1), label=r"$k_{\max}(\beta, \varphi)$")
    ticks = [(t, s) for t, s in zip(*PI_TICKS) if phi[0] - 1e-12 <= t <= phi[-1] + 1e-12]
    ax.set_xticks([t for t, _ in ticks], [s for _, s in ticks])
    ax.set(xlabel=r"rotation angle $\varphi$ of $A = R_\varphi$", ylabel=r"inverse temperature $\beta$")
    return ax


def plot_gap_histograms(gaps, unit, ax=None, bins=None, colors=None):
    """Draw histograms of gaps between neighbouring centres on the circle, in units of ``unit``.

    For a random sequential adsorption (Rényi's parking) of arcs of length ℓ on the circle,
    the gaps between neighbouring centres lie in [ℓ, 2ℓ) once no arc fits any more; the two
    dotted lines mark 1 and 2 (in units of ``unit = ℓ``).

    Parameters
    ----------
    gaps : dict of str to array
        Label -> gaps (radians), each a non-empty 1-D array of positive values.
    unit : float, > 0
        The length ℓ the gaps are divided by.
    bins : array, optional
        Bin edges in units of ``unit`` (default: 24 bins on [0, 3]).
    colors : sequence of colours, optional
        One per entry of ``gaps`` (default C0, C1, ...).

    Returns
    -------
    matplotlib.axes.Axes
    """
    if not isinstance(gaps, dict) or not gaps:
        raise TypeError(f"gaps must be a non-empty dict of label -> array, got {type(gaps).__name__}")
    unit = float(unit)
    if not np.isfinite(unit) or unit <= 0:
        raise ValueError(f"unit must be a finite length > 0, got {unit}")
    bins = np.linspace(0.0, 3.0, 25) if bins is None else check_array(bins, "bins", ndim=1, min_size=2)
    colors = [f"C{i}" for i in range(len(gaps))] if colors is None else list(colors)
    if len(colors) != len(gaps):
        raise ValueError(f"colors must have one entry per gap set ({len(gaps)}), got {len(colors)}")
    ax = _axes(ax)
    for (label, g), color in zip(gaps.items(), colors):
        g = check_array(g, f"gaps[{label!r}]", ndim=1)
        if g.min() <= 0:
            raise ValueError(f"gaps[{label!r}] must be positive lengths")
        ax.hist(g / unit, bins=bins, density=True, histtype="step", linewidth=1.6, color=color,
                label=f"{label} ({g.size} gaps)")
    for x in (1.0, 2.0):
        ax.axvline(x, color="0.4", linestyle=":", linewidth=1.0)
    ax.set(xlabel=r"gap between neighbouring centres / $\ell$", ylabel="density")
    return ax
