"""Figure helpers shared by the chapters, and the book's house matplotlib style.

Each helper draws one kind of picture from arrays or result objects returned by the
computing modules; it never computes dynamics itself. All take an optional ``ax`` and
return it, so a chapter can compose panels. matplotlib is imported only when a helper
runs (``import mtlib`` stays free of pyplot).
"""

from importlib import resources

import numpy as np

from ._constants import DEFAULT_MODEL, TWO_PI
from ._validate import check_array
from .spectral import growth_rate, growth_rate_continuous, kmax

__all__ = [
    "use_house_style",
    "plot_circle_trajectories",
    "plot_tokens_on_circle",
    "plot_circle_histogram",
    "plot_angle_histogram",
    "plot_trajectories_and_histogram",
    "plot_growth_rates",
    "plot_kmax_steps",
    "plot_mode_bars",
    "plot_mode_amplitudes",
    "sphere_grid",
    "plot_tokens_on_sphere",
]

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


def use_house_style():
    """Load the book's matplotlib style (shipped inside the package as ``mtlib.mplstyle``)."""
    import matplotlib.style

    with resources.as_file(resources.files("mtlib") / "mtlib.mplstyle") as path:
        matplotlib.style.use(str(path))


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


def sphere_grid(n_lon=91, n_lat=46):
    """A longitude × latitude grid on S² ⊂ R³, to evaluate a function for a Mollweide map.

    Longitudes λ are ``n_lon`` equispaced values in [-π, π], latitudes φ ``n_lat`` in
    [-π/2, π/2]; the point of (λ, φ) is (cos φ cos λ, cos φ sin λ, sin φ).

    Returns
    -------
    lon, lat : arrays of shape (n_lat, n_lon)
        The grid (``np.meshgrid(λ, φ)``).
    points : array of shape (n_lat · n_lon, 3)
        The unit vectors, row-major in (lat, lon): ``f(points).reshape(lon.shape)`` gives
        values for :func:`plot_tokens_on_sphere`'s ``shade``.
    """
    for name, n in (("n_lon", n_lon), ("n_lat", n_lat)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
            raise ValueError(f"{name} must be an integer >= 2, got {n!r}")
    lon, lat = np.meshgrid(np.linspace(-np.pi, np.pi, n_lon), np.linspace(-np.pi / 2, np.pi / 2, n_lat))
    points = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1).reshape(-1, 3)
    return lon, lat, points


def plot_tokens_on_sphere(X, ax=None, shade=None, color="C0", size=2, alpha=0.35, label=None):
    """Draw tokens on S² as points of a Mollweide map (longitude atan2(y, x), latitude asin z).

    Parameters
    ----------
    X : array of shape (n, 3)
        Unit vectors.
    ax : Mollweide axes, optional
        ``fig.add_subplot(..., projection="mollweide")``; a new one if None.
    shade : array of shape (n_lat, n_lon), optional
        Values of a function on :func:`sphere_grid` ``(n_lon, n_lat)``; where they are
        > 0 the map is shaded light grey under the tokens (e.g. where a predicted
        perturbation is positive).
    color, size, alpha, label
        Of the token markers.

    Returns
    -------
    matplotlib.axes.Axes
    """
    X = check_array(X, "X")
    if X.ndim != 2 or X.shape[1] != 3:
        raise ValueError(f"X must have shape (n, 3) (points on S²), got {X.shape}")
    if shade is not None:
        shade = check_array(shade, "shade")
        if shade.ndim != 2 or min(shade.shape) < 2:
            raise ValueError(f"shade must have shape (n_lat, n_lon), values on sphere_grid(n_lon, n_lat), got {shade.shape}")
    ax = _axes(ax, projection="mollweide")
    if ax.name != "mollweide":
        raise ValueError(f"ax must be a Mollweide axes (add_subplot(..., projection='mollweide')), got projection {ax.name!r}")
    if shade is not None:
        lon, lat, _ = sphere_grid(shade.shape[1], shade.shape[0])
        ax.contourf(lon, lat, shade, levels=[0.0, np.inf], colors=[SHADE_COLOR])
    longitude = np.arctan2(X[:, 1], X[:, 0])
    latitude = np.arcsin(np.clip(X[:, 2], -1.0, 1.0))
    ax.scatter(longitude, latitude, s=size, alpha=alpha, color=color, linewidths=0, label=label)
    ax.set_xticklabels([])
    ax.set_yticklabels([])
    return ax
