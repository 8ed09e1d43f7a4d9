"""Figure helpers for the spectrum: growth rates, k_max steps, mode bars and mode amplitudes.

Private to mtlib; re-exported by :mod:`mtlib.plotting` (and ``mt.plot_*``).
"""

import numpy as np

from ._constants import DEFAULT_MODEL
from ._plotting_base import (
    CURVE_COLOR, HIGHLIGHT_COLOR, HIGHLIGHT_LINEWIDTH, MUTED_COLOR, PREDICTION_LINEWIDTH, _axes, _modes_and_values,
)
from ._validate import check_array
from .spectral import growth_rate, growth_rate_continuous, kmax


def plot_growth_rates(beta, k, ax=None, d=2, model=DEFAULT_MODEL, normalize=False, kappa=None):
    """Draw the growth rates γ_k at integer k (dots) on their closed form in a real k (grey line), k_max circled.

    .. math:: γ_k = k(k+d-2)\\,Γ(d/2)\\,2^{ν} β^{-1-ν} I_{k+ν}(β), \\quad ν = (d-2)/2

    (:func:`mtlib.growth_rate`, :func:`mtlib.growth_rate_continuous`), the spectrum of the
    mean-field equation linearised at the uniform measure (arXiv:2410.23228, Section 3);
    the circled degree ``k_max`` (:func:`mtlib.kmax`) is the predicted number of clusters.
    The artists carry the labels "closed form, real k", "γ_k" and "k_max = …" for a legend.

    Parameters
    ----------
    beta : float
        Inverse temperature.
    k : int array of shape (K,)
        Degrees drawn as dots (k_max is circled if among them).
    d : int, >= 2
        Ambient dimension.
    model : {"usa", "sa"}
        Attention model (the rates of both the dots and the curve).
    normalize : bool
        Divide everything by ``γ_max = γ_{k_max}`` (one scale for every β).
    kappa : array, optional
        Real degrees of the curve (default: 401 points from ``min(k)`` to ``max(k)``).

    Returns
    -------
    matplotlib.axes.Axes
    """
    k = np.asarray(k)
    if k.ndim != 1 or k.size == 0 or not np.issubdtype(k.dtype, np.integer) or k.min() < 0:
        raise ValueError(f"k must be a non-empty 1-D array of integer degrees >= 0, got {k!r}")
    kappa = np.linspace(k.min(), k.max(), 401) if kappa is None else np.asarray(kappa, dtype=float)
    km = kmax(beta, d, model)
    scale = growth_rate(km, beta, d, model) if normalize else 1.0
    ax = _axes(ax)
    ax.plot(kappa, growth_rate_continuous(kappa, beta, d, model) / scale, color=CURVE_COLOR, lw=1.2,
            label="closed form, real k")
    ax.plot(k, growth_rate(k, beta, d, model) / scale, "o", color="C0", label=r"$\gamma_k$")
    if km in k:
        ax.plot(km, growth_rate(km, beta, d, model) / scale, "o", ms=11, mfc="none", mec=HIGHLIGHT_COLOR,
                mew=1.8, label=rf"$k_{{\max}}$ = {km}")
    ax.set(xlabel="k", ylabel=r"$\gamma_k / \gamma_{\max}$" if normalize else r"$\gamma_k$")
    return ax


def plot_kmax_steps(beta, counts, ax=None, colors=None, linewidth=None, approximations=None):
    """Draw the cluster count k_max(β, d) against β as step curves, one per dimension d.

    The steps sit at the switch points β_k(d) where ``γ_k = γ_{k+1}``
    (:func:`mtlib.kmax_switch_points`); ``approximations`` adds, dashed in the same
    colour, e.g. the large-β law ``k_max ≈ sqrt(2β + ν²) - ν``, ν = (d-2)/2
    (arXiv:2410.23228). The value axis has integer ticks; the steps are labelled "d = …".

    Parameters
    ----------
    beta : array of shape (B,)
        Increasing inverse temperatures.
    counts : dict
        ``{d: k_max values}``, each of shape (B,) (e.g. ``[mt.kmax(b, d) for b in beta]``).
    colors : sequence of colours, optional
        One per entry of ``counts`` (default ``C0``, ``C1``, ...).
    linewidth : float, optional
        Of the steps (default: the style's).
    approximations : dict, optional
        ``{d: values}`` of shape (B,) for some of the d in ``counts``, drawn dashed.

    Returns
    -------
    matplotlib.axes.Axes
    """
    from matplotlib.ticker import MaxNLocator

    beta = np.asarray(beta, dtype=float)
    if beta.ndim != 1 or beta.size < 2:
        raise ValueError(f"beta must be a 1-D array of at least two values, got shape {beta.shape}")
    if not isinstance(counts, dict) or not counts:
        raise TypeError(f"counts must be a non-empty dict {{d: k_max values}}, got {type(counts).__name__}")
    approximations = {} if approximations is None else approximations
    for name, table in (("counts", counts), ("approximations", approximations)):
        for d, values in table.items():
            if np.shape(values) != beta.shape:
                raise ValueError(f"{name}[{d}] must have the shape {beta.shape} of beta, got {np.shape(values)}")
    colors = [f"C{j}" for j in range(len(counts))] if colors is None else colors
    if len(colors) != len(counts):
        raise ValueError(f"colors must give one colour per d ({len(counts)}), got {len(colors)}")
    ax = _axes(ax)
    for (d, values), color in zip(counts.items(), colors):
        ax.step(beta, values, where="post", color=color, lw=linewidth, label=f"d = {d}")
        if d in approximations:
            ax.plot(beta, approximations[d], color=color, lw=1.5, ls="--")
    ax.set(xlabel="β", ylabel=r"$k_{\max}$")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    return ax


def plot_mode_bars(k, values, highlight=None, ax=None, log=False):
    """Draw one bar per mode or degree k, the bar at k = ``highlight`` coloured (e.g. k_max).

    Used for growth rates γ_k (the spectrum of the linearised dynamics) and for mode sizes
    |c_k(t)| or powers ‖P_k μ_t‖² at one time.

    Parameters
    ----------
    k : int array of shape (K,)
        Mode or degree indices (the bar positions).
    values : array of shape (K,)
        Bar heights.
    highlight : int, optional
        The index drawn in colour ``C3``; the others are grey.
    log : bool
        Logarithmic value axis.

    Returns
    -------
    matplotlib.axes.Axes
    """
    k, values = _modes_and_values(k, values, "values")
    if values.ndim != 1:
        raise ValueError(f"values must be 1-D (one height per k), got shape {values.shape}")
    ax = _axes(ax)
    ax.bar(k, values, color=[HIGHLIGHT_COLOR if kk == highlight else MUTED_COLOR for kk in k])
    if log:
        ax.set_yscale("log")
    return ax


def plot_mode_amplitudes(t, amplitudes, k, ax=None, rates=None, highlight=None, linewidth=None, symbol="k",
                         linestyles=None):
    """Draw mode amplitudes |a_k(t)| against time on a log axis, one colour per mode.

    Mode k is drawn in colour ``C{k-1}`` (so a mode keeps its colour across panels) and
    labelled "k = …". With ``rates`` γ_k, each mode also gets its linear-growth line
    :math:`|a_k(t_0)|\\, e^{\\gamma_k t}` dashed in the same colour (the linear phase,
    arXiv:2410.23228, where |ĉ_k(t)| ≈ |ĉ_k(0)| e^{γ_k t}).

    Parameters
    ----------
    t : array of shape (T,)
        Times (any unit; ``rates`` must be per that unit).
    amplitudes : array of shape (T, K), real or complex
        Column j holds the amplitude of mode ``k[j]``; its modulus is drawn.
    k : int array of shape (K,)
        Mode or degree indices of the columns.
    rates : array of shape (K,), optional
        Growth rates γ_k of the columns.
    highlight : int, optional
        The mode drawn with a thick line (e.g. k_max).
    linewidth : float, optional
        Line width of the other modes (default: the style's).
    symbol : str
        The letter of the legend labels ("k = 3", or "m = 3" with ``symbol="m"``).
    linestyles : sequence of K line styles, optional
        One per column (e.g. solid for the multiples of a mode, dashed for the others);
        default: solid.

    Returns
    -------
    matplotlib.axes.Axes
    """
    k, amplitudes = _modes_and_values(k, amplitudes, "amplitudes")
    t = check_array(t, "t", ndim=1)
    if np.isrealobj(amplitudes) and np.any(amplitudes < 0):
        raise ValueError("amplitudes must be >= 0 (moduli |c_k|, drawn on a log axis)")
    if amplitudes.ndim != 2 or amplitudes.shape[0] != t.size:
        raise ValueError(f"amplitudes must have shape (len(t), len(k)) = ({t.size}, {k.size}), got {amplitudes.shape}")
    if rates is not None:
        rates = check_array(rates, "rates")
        if rates.shape != k.shape:
            raise ValueError(f"rates must have shape {k.shape} (one γ_k per k), got {rates.shape}")
    linestyles = ["-"] * k.size if linestyles is None else list(linestyles)
    if len(linestyles) != k.size:
        raise ValueError(f"linestyles must give one style per mode ({k.size}), got {len(linestyles)}")
    ax = _axes(ax)
    amplitudes = np.abs(amplitudes)
    for j, kk in enumerate(k):
        color = f"C{kk - 1}"
        width = HIGHLIGHT_LINEWIDTH if kk == highlight else linewidth
        ax.semilogy(t, amplitudes[:, j], color=color, lw=width, ls=linestyles[j], label=f"{symbol} = {kk}")
        if rates is not None:
            ax.semilogy(t, amplitudes[0, j] * np.exp(rates[j] * t), color=color, linestyle="--",
                        linewidth=PREDICTION_LINEWIDTH)
    return ax
