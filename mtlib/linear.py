"""The linear phase: which mode leads, when the tokens leave the uniform state, with what odds.

Near the uniform measure every Fourier mode (degree-k harmonic on S^{d-1}) grows on its
own, ``c_k(t) = c_k(0) e^{γ_k t}`` (:func:`mtlib.growth_rate`). For N iid uniform tokens
the initial modes are of size ``1/√N`` with ``N|ĉ_k(0)|²`` asymptotically iid Exp(1)
(central limit theorem), so the linear phase ends near ``T_N = ln N / (2γ_max)`` and the
mode that leads then is random: k_max wins with a probability that tends to 1 as N grows,
slowly when the two largest rates are close. This module turns that picture into numbers:

- the duration ``T_N`` of the linear phase (:func:`linear_phase_time`);
- from given initial modes: the leading mode at a time (:func:`leading_mode`), the exit
  time of the linear flow (:func:`linear_exit_time`), the linear solution and its maxima
  (:func:`linear_density`, :func:`linear_cluster_positions`), the linear perturbation on
  the sphere (:func:`linear_perturbation`);
- over the random initial modes: the probability that k_max leads at T_N
  (:func:`probability_kmax_leads`, a closed-form integral), which mode exits first
  (:func:`exit_mode_probabilities`) and the mean exit time (:func:`predicted_exit_time`),
  by Monte Carlo;
- for the particle system itself: the time its largest Fourier mode first reaches a
  threshold (:func:`linear_phase_exit_time`), located by :func:`mtlib.simulate`'s events.

Reference: G. Bruno, F. Pasqualotto, A. Agazzi, *Emergence of meta-stable clustering in
mean-field transformer models*, ICLR 2025 (arXiv:2410.23228), Section 4 (Theorem 4.2 and
the linear phase).
"""

import time
from dataclasses import dataclass

import numpy as np
from scipy import integrate

from ._constants import DEFAULT_MODEL, TWO_PI, USA_MAX_BETA
from ._validate import (
    check_angles, check_array, check_int, check_memory, check_model, check_real, check_rng, check_usa_beta,
    check_weights, wrap_angles,
)
from .dynamics import simulate
from .harmonics import density_from_fourier_coefficients, fourier_coefficients
from .pde import linearized_solution
from .spectral import growth_rate, kmax

__all__ = [
    "linear_phase_time",
    "leading_mode",
    "linear_exit_time",
    "linear_density",
    "linear_cluster_positions",
    "linear_perturbation",
    "probability_kmax_leads",
    "exit_mode_probabilities",
    "predicted_exit_time",
    "LinearPhaseExit",
    "linear_phase_exit_time",
]


def _check_modes(c, name="c0"):
    """Moduli |c_k| of the modes k = 1..K on the last axis of a real or complex array."""
    arr = np.asarray(c)
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number) or arr.dtype == bool:
        raise TypeError(f"{name} must be a numeric (real or complex) array, got dtype {arr.dtype}")
    if arr.ndim == 0 or arr.shape[-1] < 1:
        raise ValueError(f"{name} must hold the modes k = 1..K on its last axis, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values (found NaN or inf)")
    return np.abs(arr)


def _check_mode_memory(n_modes, samples=0, what=None):
    """Refuse n_modes (x samples draws) whose arrays exceed the memory: 8 bytes x (8 samples + 130) per mode.

    130 float64 per mode cover the Bessel power series of :func:`mtlib.growth_rate`
    (40 terms, three arrays), 8 per draw the Monte Carlo arrays.
    """
    check_memory(8 * n_modes * (8 * samples + 130), what or f"n_modes = {n_modes} modes")


def _circle_rates(n_modes, beta):
    """γ_1..γ_n on the circle; SA rates beyond the USA overflow (same ratios and products γτ)."""
    return growth_rate(np.arange(1, n_modes + 1), beta, 2, "usa" if abs(beta) <= USA_MAX_BETA else "sa")


def linear_phase_time(beta, N, d=2, model=DEFAULT_MODEL):
    """The duration ``T_N = ln N / (2γ_max)`` of the linear phase from N uniform tokens.

    .. math:: T_N = \\frac{\\ln N}{2\\,γ_{k_{max}}}

    the time at which the linear flow takes the mean size ``E||P_k μ_t||² ∝ e^{2γ_k t}/N``
    of the fastest mode from its central-limit value ``1/N`` to order one; the tokens
    leave the neighbourhood of the uniform state and the k_max clusters form near it.

    Parameters
    ----------
    beta : float
        Inverse temperature (|β| <= 700 for USA); γ_max > 0 for every β.
    N : float, >= 1
        Number of tokens.
    d : int, >= 2
        Ambient dimension (rates of :func:`mtlib.growth_rate`).
    model : {"usa", "sa"}
        Attention model (its rates set the time scale).

    Returns
    -------
    float
        T_N >= 0, in the time units of :func:`mtlib.simulate`.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Theorem 4.2 and Figure 2 (T_N ≈ 0.27 for
    β = 5, N = 2·10⁴ on the circle).
    """
    beta = check_real(beta, "beta")
    N = check_real(N, "N", low=1.0)
    model = check_model(model)
    check_usa_beta(beta, model)
    return float(np.log(N) / (2 * growth_rate(kmax(beta, d, model), beta, d, model)))


# ----------------------------------------------------------------------------- given initial modes


def leading_mode(c0, beta, t, d=2, model=DEFAULT_MODEL):
    """The mode that leads at time t under the linear flow: ``argmax_k |c_k(0)| e^{γ_k t}``.

    .. math:: k^\\star(t) = \\operatorname{argmax}_{1 \\le k \\le K}
              \\big(\\ln|c_k(0)| + γ_k t\\big)

    compared in logarithms, so large ``γ_k t`` never overflows. At t = 0 it is the largest
    initial mode; as t grows it moves to k_max (among the modes 1..K given).

    Parameters
    ----------
    c0 : array_like, shape (..., K), real or complex
        Initial modes k = 1..K on the last axis (Fourier coefficients ĉ_k(0) on the
        circle, e.g. ``mt.fourier_coefficients(theta0, np.arange(1, K + 1))``, or the
        norms ``||P_k μ_0||`` on S^{d-1}); only their moduli matter.
    beta : float
        Inverse temperature.
    t : float or array_like, >= 0
        Time; an array must have the shape ``c0.shape[:-1]`` (one time per set of modes).
    d : int, >= 2
        Ambient dimension (rates of :func:`mtlib.growth_rate`).
    model : {"usa", "sa"}
        Attention model (its rates set the time scale).

    Returns
    -------
    int or ndarray of int
        The leading mode in 1..K, with the shape ``c0.shape[:-1]`` (an int for 1-D ``c0``).

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.1.
    """
    amplitude = _check_modes(c0)
    scalar_t = np.ndim(t) == 0
    t = check_array(t, "t")
    if np.any(t < 0):
        raise ValueError(f"t must be >= 0, got min {t.min()}")
    if not scalar_t and t.shape != amplitude.shape[:-1]:
        raise ValueError(f"t must be a scalar or have the shape {amplitude.shape[:-1]} of c0[..., 0], got {t.shape}")
    gamma = growth_rate(np.arange(1, amplitude.shape[-1] + 1), beta, d, model)
    with np.errstate(divide="ignore"):
        score = np.log(amplitude) + gamma * (t[0] if scalar_t else t[..., None])
    winner = np.argmax(score, axis=-1) + 1
    return int(winner) if winner.ndim == 0 else winner


def linear_exit_time(c0, beta, threshold, d=2, model=DEFAULT_MODEL):
    """First time the linear flow takes a mode to the threshold: ``min_k ln(δ/|c_k(0)|)/γ_k``.

    .. math:: T_{lin} = \\max\\Big(0,\\ \\min_{k:\\,γ_k > 0} \\frac{\\ln(δ / |c_k(0)|)}{γ_k}\\Big)

    the exit time from ``U_δ = {max_k |c_k| < δ}`` if every mode grew exactly like
    ``|c_k(0)| e^{γ_k t}``; 0 if a mode starts at or above δ, ``inf`` if no mode with
    ``γ_k > 0`` is non-zero.

    Parameters
    ----------
    c0 : array_like, shape (..., K), real or complex
        Initial modes k = 1..K on the last axis (see :func:`leading_mode`).
    beta : float
        Inverse temperature.
    threshold : float, > 0
        The level δ.
    d : int, >= 2
        Ambient dimension.
    model : {"usa", "sa"}
        Attention model.

    Returns
    -------
    float or ndarray
        T_lin with the shape ``c0.shape[:-1]``.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.1 (exit from a neighbourhood of the
    uniform state).
    """
    amplitude = _check_modes(c0)
    threshold = check_real(threshold, "threshold", low=0.0, low_open=True)
    gamma = growth_rate(np.arange(1, amplitude.shape[-1] + 1), beta, d, model)
    with np.errstate(divide="ignore", invalid="ignore"):
        times = np.where(gamma > 0, np.log(threshold / amplitude) / gamma, np.inf)
    out = np.maximum(0.0, np.min(times, axis=-1))
    return float(out) if out.ndim == 0 else out


def linear_density(theta0, beta, t, n_modes=10, M=1024, model=DEFAULT_MODEL, weights=None):
    """The linear solution grown from the modes 1..K of the initial tokens, on the grid.

    .. math:: ρ_{lin}(t, θ) = \\frac{1}{2π}\\Big(1 + 2\\,\\mathrm{Re}\\sum_{k=1}^{K}
              ĉ_k(0)\\, e^{γ_k t} e^{ikθ}\\Big), \\qquad ĉ_k(0) = \\sum_i w_i e^{-ikθ_i(0)}

    (:func:`mtlib.density_from_fourier_coefficients` then :func:`mtlib.linearized_solution`).
    The initial density must be non-negative: take N large enough that
    ``2 Σ_k |ĉ_k(0)| < 1`` (about N >= 1000 for K = 10).

    Parameters
    ----------
    theta0 : array_like, shape (N,)
        Initial angles.
    beta : float
        Inverse temperature.
    t : float or array_like, shape (T,)
        Times >= 0, increasing.
    n_modes : int, >= 1
        Number K of modes kept.
    M : int, >= 8
        Grid points (:func:`mtlib.pde_grid`), more than 2K.
    model : {"usa", "sa"}
        Attention model.
    weights : array_like, shape (N,), optional
        Token weights; default uniform.

    Returns
    -------
    ndarray, shape (M,) for a scalar t, else (T, M)

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Theorem 4.2.
    """
    n_modes = check_int(n_modes, "n_modes", low=1)
    M = check_int(M, "M", low=max(8, 2 * n_modes + 1))
    check_memory(40 * M * n_modes + 1040 * n_modes, f"n_modes = {n_modes} modes on M = {M} grid points")
    k = np.arange(1, n_modes + 1)
    rho0 = density_from_fourier_coefficients(fourier_coefficients(theta0, k, weights), k, M)
    return linearized_solution(rho0, beta, t, model)


def linear_cluster_positions(theta0, beta, t, n_clusters, n_modes=10, M=1024, model=DEFAULT_MODEL, weights=None):
    """Where the full linear solution puts the clusters: its highest local maxima at time t.

    The ``n_clusters`` highest local maxima of :func:`linear_density` on the grid
    (a grid point at least as high as its right neighbour and higher than its left one),
    in increasing order. Unlike :func:`mtlib.predicted_cluster_positions` (mode k alone),
    the other modes shift the maxima; both agree once mode k dominates.

    Parameters
    ----------
    theta0 : array_like, shape (N,)
        Initial angles.
    beta : float
        Inverse temperature.
    t : float, >= 0
        Time (usually ``T_N = ln N / (2γ_max)``).
    n_clusters : int, >= 1
        Number of maxima returned (fewer if the density has fewer).
    n_modes, M, model, weights
        As in :func:`linear_density`.

    Returns
    -------
    ndarray, shape (<= n_clusters,)
        Grid angles in [0, 2π), increasing.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Theorem 4.2 and Figure 2.
    """
    t = check_real(t, "t", low=0.0)
    n_clusters = check_int(n_clusters, "n_clusters", low=1)
    rho = linear_density(theta0, beta, t, n_modes, M, model, weights)
    grid = TWO_PI * np.arange(rho.size) / rho.size
    peak = np.flatnonzero((rho > np.roll(rho, 1)) & (rho >= np.roll(rho, -1)))
    best = peak[np.argsort(rho[peak])[::-1][:n_clusters]]
    return np.sort(grid[best])


def linear_perturbation(components, beta, t, d=2, model=DEFAULT_MODEL):
    """The linear solution's perturbation ``Σ_k e^{γ_k t} (P_k μ_0)(x)`` from the degree-k parts.

    .. math:: u(t, x) = \\sum_{k=1}^{K} e^{γ_k t}\\, (P_k μ_0)(x), \\qquad
              μ_t ≈ σ\\,(1 + u(t, \\cdot))

    Clusters form where u is largest; ``u > 0`` marks the region the linear theory
    assigns to them.

    Parameters
    ----------
    components : array_like, shape (K, ...)
        Row k-1: ``(P_k μ_0)`` at some points (:func:`mtlib.harmonic_components`).
    beta : float
        Inverse temperature.
    t : float, >= 0
        Time.
    d : int, >= 2
        Ambient dimension of the sphere S^{d-1} the components live on.
    model : {"usa", "sa"}
        Attention model.

    Returns
    -------
    ndarray, shape components.shape[1:]

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.2.
    """
    components = check_array(components, "components", ndim=(1, 2))
    t = check_real(t, "t", low=0.0)
    return np.exp(growth_rate(np.arange(1, components.shape[0] + 1), beta, d, model) * t) @ components


# ----------------------------------------------------------------------------- random initial modes


def probability_kmax_leads(beta, N, n_modes=10):
    """Probability that k_max leads at ``T_N = ln N/(2γ_max)`` under the linear flow from N uniform tokens.

    .. math:: P_N = \\int_0^\\infty e^{-x} \\prod_{k \\ne k_{max}} \\big(1 - e^{-x N^{r_k}}\\big)\\,dx,
              \\qquad r_k = 1 - γ_k/γ_{max}

    for ``X_k = N|ĉ_k(0)|²`` iid Exp(1), k = 1..K (the central limit theorem for N iid
    uniform angles): mode k trails k_max at T_N iff ``X_k < X_{k_max} N^{r_k}``. It tends
    to 1 as N grows, like ``1 - O(N^{-r})`` with r the :func:`mtlib.relative_rate_gap`.
    The integral is computed by :func:`scipy.integrate.quad`. Circle only; the ratios
    do not depend on the model.

    Parameters
    ----------
    beta : float
        Inverse temperature.
    N : float, >= 1
        Number of tokens.
    n_modes : int, >= kmax(beta)
        Number K of competing modes.

    Returns
    -------
    float
        P_N in [0, 1].

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.1 (the most unstable mode wins with high
    probability).
    """
    beta = check_real(beta, "beta")
    N = check_real(N, "N", low=1.0)
    n_modes = check_int(n_modes, "n_modes", low=1)
    _check_mode_memory(n_modes)
    if kmax(beta) > n_modes:
        raise ValueError(f"n_modes must be >= kmax(beta) = {kmax(beta)}, got {n_modes}")
    g = _circle_rates(n_modes, beta)
    r = np.delete(1 - g / g.max(), np.argmax(g))
    return integrate.quad(lambda x: np.exp(-x) * np.prod(-np.expm1(-x * N**r)), 0, np.inf, limit=200)[0]


def exit_mode_probabilities(beta, N, threshold=0.1, n_modes=8, samples=40_000, rng=None):
    """Probability that mode k is the first to reach the threshold under the linear flow, k = 1..K.

    .. math:: P(k^\\star = k), \\qquad k^\\star = \\operatorname{argmax}_j |ĉ_j(0)| e^{γ_j T_{lin}},
              \\quad N|ĉ_j(0)|^2 \\sim \\text{Exp}(1) \\text{ iid}

    with ``T_lin`` the :func:`linear_exit_time` of each draw (the largest initial mode if
    one starts above the threshold). Monte Carlo over ``samples`` draws of the moduli
    ``|ĉ_j(0)| = sqrt(Exp(1/N))``; each probability has standard error
    ``sqrt(p(1-p)/samples)``. Circle only (USA rates; SA gives the same answer).

    Parameters
    ----------
    beta : float
        Inverse temperature.
    N : float, >= 1
        Number of tokens.
    threshold : float, > 0
        The level δ of ``max_j |ĉ_j|`` that ends the linear phase.
    n_modes : int, >= 1
        Number K of competing modes.
    samples : int, >= 1
        Monte Carlo draws.
    rng : numpy.random.Generator, int or None
        Random source; an int seed gives reproducible numbers.

    Returns
    -------
    ndarray, shape (K,)
        Entry k-1: the probability that mode k exits first (they sum to 1).

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.1.
    """
    beta = check_real(beta, "beta")
    N = check_real(N, "N", low=1.0)
    threshold = check_real(threshold, "threshold", low=0.0, low_open=True)
    n_modes = check_int(n_modes, "n_modes", low=1)
    samples = check_int(samples, "samples", low=1)
    _check_mode_memory(n_modes, samples, f"samples = {samples} draws of n_modes = {n_modes} modes")
    rng = check_rng(rng)
    gamma = _circle_rates(n_modes, beta)
    amplitude = np.sqrt(rng.exponential(1.0 / N, (samples, n_modes)))
    with np.errstate(divide="ignore", invalid="ignore"):
        tau = np.maximum(0.0, np.min(np.where(gamma > 0, np.log(threshold / amplitude) / gamma, np.inf), axis=1))
    winner = 1 + np.argmax(np.log(amplitude) + gamma * tau[:, None], axis=1)
    return np.bincount(winner, minlength=n_modes + 1)[1:] / samples


def predicted_exit_time(beta, N, threshold=0.5, n_modes=6, samples=200_000, rng=None, model=DEFAULT_MODEL):
    """Mean exit time of the linear flow from ``U_δ`` for N uniform tokens (Monte Carlo).

    .. math:: E\\,T_{lin} = E \\min_{k \\le K} \\frac{\\ln δ + \\tfrac12 \\ln N - \\ln|ξ_k|}{γ_k},
              \\qquad ĉ_k(0) = ξ_k/\\sqrt N,\\ ξ_k \\text{ iid standard complex Gaussians}

    (times below 0, a mode starting above δ, count as 0). For large N it grows like
    ``ln N/(2γ_max)`` plus a constant, with a correction from the competing modes that
    decays slowly when the two leading rates are close. Monte Carlo over ``samples`` draws;
    the same integer seed gives the same draws at every N (common random numbers), so
    differences between N are smooth. Circle only.

    Parameters
    ----------
    beta : float
        Inverse temperature (|β| <= 700 for USA).
    N : float, >= 1
        Number of tokens.
    threshold : float, > 0
        The level δ of ``max_k |ĉ_k|``.
    n_modes : int, >= 1
        Number K of modes.
    samples : int, >= 1
        Monte Carlo draws.
    rng : numpy.random.Generator, int or None
        Random source; an int seed gives reproducible numbers.
    model : {"usa", "sa"}
        Attention model (its rates set the time scale).

    Returns
    -------
    float
        The mean exit time, in the time units of :func:`mtlib.simulate`.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.1 (exit time ``~ ln N / (2γ_max)``).
    """
    beta = check_real(beta, "beta")
    model = check_model(model)
    check_usa_beta(beta, model)
    N = check_real(N, "N", low=1.0)
    threshold = check_real(threshold, "threshold", low=0.0, low_open=True)
    n_modes = check_int(n_modes, "n_modes", low=1)
    samples = check_int(samples, "samples", low=1)
    _check_mode_memory(n_modes, samples, f"samples = {samples} draws of n_modes = {n_modes} modes")
    rng = check_rng(rng)
    gamma = growth_rate(np.arange(1, n_modes + 1), beta, 2, model)
    xi = np.abs(rng.standard_normal((samples, n_modes)) + 1j * rng.standard_normal((samples, n_modes))) / np.sqrt(2)
    with np.errstate(divide="ignore", invalid="ignore"):
        times = np.where(gamma > 0, (np.log(threshold) + 0.5 * np.log(N) - np.log(xi)) / gamma, np.inf)
    return float(np.mean(np.maximum(0.0, np.min(times, axis=1))))


# ----------------------------------------------------------------------------- the particle system


@dataclass(frozen=True)
class LinearPhaseExit:
    """End of the linear phase of a token system, found by :func:`linear_phase_exit_time`.

    Attributes
    ----------
    t : float
        First time ``max_{k<=K} |ĉ_k(t)|`` reaches the threshold; NaN if not by ``t_max``.
    mode : int
        The mode k (1..K) with the largest ``|ĉ_k|`` then (at ``t_max`` if not reached).
    amplitudes : ndarray, shape (K,)
        ``|ĉ_1|, ..., |ĉ_K|`` at that time.
    state : ndarray, shape (n,)
        The angles at that time.
    n_steps : int
        Accepted integrator steps.
    nfev : int
        Velocity-field evaluations.
    wall_time : float
        Seconds spent.
    message : str
        How the run ended.
    """

    t: float
    mode: int
    amplitudes: np.ndarray
    state: np.ndarray
    n_steps: int
    nfev: int
    wall_time: float
    message: str


def linear_phase_exit_time(
    x0, beta, threshold, n_modes=8, t_max=10.0, model=DEFAULT_MODEL, method="rk4", dt=None, rtol=1e-8, atol=1e-10,
    weights=None,
):
    """First time the token system leaves ``U_δ``: ``max_{k<=K} |ĉ_k(t)| = δ``, by a simulate event.

    .. math:: T = \\inf\\{t \\ge 0 : \\max_{1 \\le k \\le K} |ĉ_k(t)| \\ge δ\\},
              \\qquad ĉ_k(t) = \\sum_i w_i e^{-ikθ_i(t)}

    The tokens are integrated by :func:`mtlib.simulate` with the terminal event
    ``max_k |ĉ_k| - δ`` (crossing upwards), which the integrator locates inside a step to
    its own accuracy (not at the next output time). For iid uniform tokens T grows like
    ``ln N/(2γ_max)`` (:func:`predicted_exit_time`); the mode at T is the number of
    clusters that the linear phase hands over. ``T = 0`` if a mode starts at or above δ.

    Parameters
    ----------
    x0 : array_like, shape (n,)
        Initial angles on the circle.
    beta : float
        Inverse temperature (|β| <= 700 for USA).
    threshold : float, > 0
        The level δ (e.g. 0.1 for the end of the linear phase, 0.5 for the exit of U_δ).
    n_modes : int, >= 1
        Modes k = 1..K watched.
    t_max : float, > 0
        Give up (``t = nan``) after this time.
    model : {"usa", "sa"}
        Attention model.
    method, dt, rtol, atol
        Integrator settings of :func:`mtlib.simulate` (``"rk4"`` takes equal steps of
        ``t_max/ceil(t_max/dt)``).
    weights : array_like, shape (n,), optional
        Token weights; default uniform.

    Returns
    -------
    LinearPhaseExit
        ``t``, ``mode``, ``amplitudes``, ``state`` and run statistics.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.1 (exit from the neighbourhood of the
    uniform state).
    """
    start = time.perf_counter()
    theta0 = check_angles(x0, "x0")
    threshold = check_real(threshold, "threshold", low=0.0, low_open=True)
    n_modes = check_int(n_modes, "n_modes", low=1)
    _check_mode_memory(n_modes)
    t_max = check_real(t_max, "t_max", low=0.0, low_open=True)
    beta = check_real(beta, "beta")
    model = check_model(model)
    check_usa_beta(beta, model)
    w = check_weights(weights, theta0.size)
    k = np.arange(1, n_modes + 1)

    def amplitudes(state):
        return np.abs(fourier_coefficients(state, k, w))

    def leaves(t, state):
        return float(amplitudes(state).max()) - threshold

    leaves.terminal = True
    leaves.direction = 1.0

    c0 = amplitudes(theta0)
    if c0.max() >= threshold:
        return LinearPhaseExit(0.0, int(k[np.argmax(c0)]), c0, wrap_angles(theta0), 0, 0,
                               time.perf_counter() - start, "a mode starts at or above the threshold")
    run = simulate(theta0, beta, [t_max], model=model, method=method, dt=dt, rtol=rtol, atol=atol,
                   weights=w, events=leaves)
    if run.t_events[0].size:
        t, state, message = float(run.t_events[0][0]), run.states_events[0][0], "the threshold was reached"
    else:
        t, state, message = float("nan"), run.states[-1], f"the threshold was not reached by t_max = {t_max:g}"
    c = amplitudes(state)
    return LinearPhaseExit(t, int(k[np.argmax(c)]), c, state, run.n_steps, run.nfev,
                           time.perf_counter() - start, message)
