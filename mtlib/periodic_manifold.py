"""Assumption 3 under stress: generic noise on the manifold of 2π/k-periodic densities.

Rotation equivariance makes the set ``M_k = {ρ : ρ(θ + 2π/k) = ρ(θ)}`` invariant under
the mean-field dynamics on the circle, and on ``M_k`` only the Fourier modes
``k, 2k, 3k, ...`` are present. Bruno, Pasqualotto and Agazzi (arXiv:2410.23228,
Assumption 3) assume that a solution started on ``M_k``, ``k = k_max(β)``, close to the
uniform density converges to ``k`` equally spaced Dirac masses. This module tests that
assumption with generic data:

- :func:`manifold_noise_density`, :func:`manifold_noise_tokens`: seeded random
  densities on ``M_k`` (several multiples of ``k``, random amplitudes and phases),
  on a grid or as ``k`` rotated copies of their quantile tokens;
- :func:`simulate_on_manifold`: a batch of ``k``-periodic token systems, integrated
  with :func:`mtlib.simulate_batch` (RK4) and put back exactly on ``M_k`` every few
  steps, so rounding cannot grow off the manifold;
- :func:`classify_end_state`: "k equally spaced Diracs" or not, with stated tolerances;
- :func:`gap_instability_rate`: the rate at which two Diracs per period leave their
  equilibrium (the states with more than ``k`` peaks on ``M_k`` are saddles);
- :func:`manifold_trials`: outcomes over (β, k, α) × seeds, one table row per check.
"""

from dataclasses import dataclass

import numpy as np

from ._constants import TWO_PI
from ._validate import (
    check_angles,
    check_array,
    check_int,
    check_model,
    check_real,
    check_rng,
    check_times,
    check_usa_beta,
    check_weights,
)
from .dynamics import simulate_batch
from .measures import find_clusters
from .pde import pde_grid
from .spectral import growth_rate
from .wasserstein import distance_to_equispaced

BISECTION_STEPS = 60      # halvings of [0, 2π]: the quantiles to below one ulp of 2π
LINEAR_STEP = 0.2         # γ* dt in the linear phase: RK4 growth factor exact to 3e-6
OUTCOMES = ("k_diracs", "other_diracs", "not_collapsed")


def _check_noise_args(k, alpha, n_modes, decay):
    k = check_int(k, "k", low=1)
    alpha = check_real(alpha, "alpha", low=0.0, high=1.0, high_open=True)
    n_modes = check_int(n_modes, "n_modes", low=1, high=10_000)
    decay = check_real(decay, "decay", low=0.0, high=10.0)
    return k, alpha, n_modes, decay


def _draw_noise(k, alpha, n_modes, decay, rng):
    """Modes m_j = jk, amplitudes a_j (summing to α) and phases φ_j of one draw."""
    rng = check_rng(rng)
    z = rng.standard_normal(n_modes) + 1j * rng.standard_normal(n_modes)
    j = np.arange(1, n_modes + 1)
    size = np.abs(z) * j.astype(float) ** (-decay)
    amplitudes = alpha * size / size.sum()
    return k * j, amplitudes, np.mod(np.angle(z), TWO_PI)


def manifold_noise_density(M, k, alpha, n_modes=4, decay=1.0, rng=None):
    """A random density on the manifold M_k of 2π/k-periodic densities, on a grid.

    .. math::

        ρ(θ) = \\frac{1}{2π}\\Big(1 + \\sum_{j=1}^{J} a_j \\cos(jkθ + φ_j)\\Big), \\quad
        a_j = α\\,\\frac{j^{-s}|ζ_j|}{\\sum_i i^{-s}|ζ_i|}, \\quad φ_j = \\arg ζ_j,

    with ζ_j iid standard complex Gaussian (so the φ_j are iid uniform and independent
    of the a_j). ``Σ_j a_j = α``, hence ``(1 - α)/2π <= ρ <= (1 + α)/2π``: α is the
    relative amplitude, any α in [0, 1) gives a positive density. Only the modes
    ``k, 2k, ..., Jk`` are present. One seed gives the same draw as
    :func:`manifold_noise_tokens`.

    Parameters
    ----------
    M : int, >= 8
        Grid size; ``J k <= M/3`` (the modes kept by :func:`mtlib.solve_circle_pde`).
    k : int, >= 1
        Period number (the density has period 2π/k).
    alpha : float, in [0, 1)
        Relative amplitude α.
    n_modes : int, in [1, 10000]
        J, the number of multiples of k carried.
    decay : float, in [0, 10]
        s, the decay of the amplitudes' law in j.
    rng : numpy.random.Generator, int or None
        Random source or seed.

    Returns
    -------
    ndarray, shape (M,)
        ρ on :func:`mtlib.pde_grid`, mass 1 to rounding.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), arXiv:2410.23228, Assumption 3 (the manifold).
    """
    M = check_int(M, "M", low=8)
    k, alpha, n_modes, decay = _check_noise_args(k, alpha, n_modes, decay)
    if 3 * k * n_modes > M:
        raise ValueError(f"the top mode n_modes * k = {n_modes * k} must be <= M/3 = {M / 3:g}")
    modes, amplitudes, phases = _draw_noise(k, alpha, n_modes, decay, rng)
    theta = pde_grid(M)
    wave = np.cos(np.outer(theta, modes) + phases) @ amplitudes
    return (1.0 + wave) / TWO_PI


def manifold_noise_tokens(n, k, alpha, n_modes=4, decay=1.0, rng=None):
    """k rotated copies of the n/k quantile tokens of :func:`manifold_noise_density`.

    The draw (a_j, φ_j) is that of :func:`manifold_noise_density` with the same seed. In
    ψ = kθ one period carries the density q(ψ) = (1 + Σ_j a_j cos(jψ + φ_j))/2π with
    distribution function
    ``G(ψ) = (ψ + Σ_j a_j (\\sin(jψ + φ_j) - \\sin φ_j)/j)/2π``; the base tokens are
    ``θ_i = G^{-1}((i + 1/2)/(n/k))/k`` (bisection, exact to rounding), and token
    ``c n/k + i`` is ``θ_i + 2πc/k``. The empirical measure is 2π/k-periodic, so its
    Fourier coefficients vanish off the multiples of k (to rounding); its mode jk
    matches the density's to the midpoint rule's (spectral) accuracy.

    Parameters
    ----------
    n : int, >= k, a multiple of k
        Number of tokens (mass 1/n each).
    k, alpha, n_modes, decay, rng
        As in :func:`manifold_noise_density`.

    Returns
    -------
    ndarray, shape (n,)
        Angles in [0, 2π], copy-major: tokens ``c n/k .. (c+1) n/k - 1`` are copy c.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), arXiv:2410.23228, Assumption 3 (the manifold).
    """
    n = check_int(n, "n", low=1)
    k, alpha, n_modes, decay = _check_noise_args(k, alpha, n_modes, decay)
    if n % k:
        raise ValueError(f"n = {n} must be a multiple of k = {k}")
    _, amplitudes, phases = _draw_noise(k, alpha, n_modes, decay, rng)
    per = n // k
    j = np.arange(1, n_modes + 1)
    target = TWO_PI * (np.arange(per) + 0.5) / per
    lo, hi = np.zeros(per), np.full(per, TWO_PI)
    for _ in range(BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        g = mid + (np.sin(np.outer(mid, j) + phases) - np.sin(phases)) @ (amplitudes / j)
        below = g < target
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    base = 0.5 * (lo + hi) / k
    return (base[None, :] + TWO_PI * np.arange(k)[:, None] / k).ravel()


def _kernel_slope(phi, beta):
    """K'(φ) = e^{β cos φ}(cos φ - β sin² φ), K(φ) = e^{β cos φ} sin φ (USA)."""
    return np.exp(beta * np.cos(phi)) * (np.cos(phi) - beta * np.sin(phi) ** 2)


def _step(beta, k, model="usa", n_modes=4):
    """RK4 step min(1/λ_c, 0.2/γ*): λ_c dt <= 1 in the collapse, γ* dt <= 0.2 before it."""
    contraction = np.mean(np.abs(_kernel_slope(TWO_PI * np.arange(k) / k, beta)))
    fastest = np.max(growth_rate(k * np.arange(1, n_modes + 1), beta, model=model))
    return min(1.0 / contraction, LINEAR_STEP / fastest)


def _symmetrise(x, k):
    per = x.shape[1] // k
    base = np.mod(x[:, :per], TWO_PI)
    return (base[:, None, :] + TWO_PI * np.arange(k)[None, :, None] / k).reshape(x.shape)


def simulate_on_manifold(x0s, k, beta, t_eval, model="usa", dt=None, restart_steps=10):
    """Integrate a batch of 2π/k-periodic token systems, kept exactly on M_k.

    Each system is n tokens made of k copies, token ``c n/k + i`` at
    ``θ_i + 2πc/k`` (:func:`manifold_noise_tokens`). The dynamics preserve this
    symmetry, but rounding does not: an error of 1e-16 off M_k grows at the
    instability rate off the manifold (up to γ_max near the uniform state, and the
    merging instability of the clusters later) and can reach O(1) over a long run. So
    the batch is integrated by :func:`mtlib.simulate_batch` (RK4, step ``dt``) over
    segments of ``restart_steps`` steps (and up to each output time), and after each
    segment every copy is reset to copy 0 rotated by 2πc/k: a projection onto M_k of
    an error that has grown from rounding over at most ``restart_steps`` steps.

    Parameters
    ----------
    x0s : array_like, shape (B, n)
        Angles of B systems, each 2π/k-periodic as above (checked to 1e-9 radians).
    k : int, >= 1
        Period number; n must be a multiple of k.
    beta : float, > 0
        Inverse temperature (<= 700 for USA).
    t_eval : array_like, shape (T,)
        Output times, >= 0 and strictly increasing.
    model : {"usa", "sa"}
    dt : float > 0, optional
        RK4 step; default ``min(1/λ_c, 0.2/γ*)`` with ``λ_c = (1/k) Σ_j |K'(2πj/k)|``
        (USA; a bound for SA too), the contraction rate inside k Diracs (λ_c dt <= 1,
        inside RK4's stability interval 2.78), and γ* the fastest rate of the modes
        k, ..., 4k (:func:`mtlib.growth_rate`; RK4's growth factor per step is then
        exact to (γ* dt)^5/120 = 3e-6).
    restart_steps : int, >= 1
        RK4 steps between two projections onto M_k.

    Returns
    -------
    ndarray, shape (T, B, n)
        The states at ``t_eval``, angles in [0, 2π), 2π/k-periodic to rounding.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), arXiv:2410.23228, Section 4.3 (the manifold M_k).
    """
    x = check_array(x0s, "x0s", ndim=2)
    k = check_int(k, "k", low=1)
    beta = check_real(beta, "beta", low=0.0, low_open=True)
    model = check_model(model)
    check_usa_beta(beta, model)
    t_eval = check_times(t_eval)
    restart_steps = check_int(restart_steps, "restart_steps", low=1)
    if x.shape[1] % k:
        raise ValueError(f"x0s has {x.shape[1]} tokens per system, not a multiple of k = {k}")
    dt = _step(beta, k, model) if dt is None else check_real(dt, "dt", low=0.0, low_open=True)
    x = np.mod(x, TWO_PI)
    drift = np.angle(np.exp(1j * (_symmetrise(x, k) - x)))
    if np.max(np.abs(drift)) > 1e-9:
        raise ValueError(f"x0s is not 2π/{k}-periodic: copies differ by up to "
                         f"{np.max(np.abs(drift)):.2e} rad (see manifold_noise_tokens)")
    x = _symmetrise(x, k)
    segment = restart_steps * dt
    grid = np.arange(1, int(np.ceil(t_eval[-1] / segment)) + 1) * segment
    stops = np.union1d(grid[grid < t_eval[-1]], t_eval)
    out = np.empty((t_eval.size,) + x.shape)
    t, i_out = 0.0, 0
    for stop in stops:
        length = stop - t
        if length > 0:
            h = length / np.ceil(length / dt * (1 - 1e-12))
            x = simulate_batch(x, beta, [length], model=model, method="rk4", dt=h).states[-1]
            x = _symmetrise(x, k)
            t = stop
        if i_out < t_eval.size and stop == t_eval[i_out]:
            out[i_out] = np.mod(x, TWO_PI)
            i_out += 1
    return out


@dataclass(frozen=True)
class EndState:
    """The clusters of one end state and whether they are k equally spaced Diracs.

    Attributes
    ----------
    n_peaks : int
        Number of clusters (groups of tokens linked within ``radius``).
    centres, masses : ndarray, shape (n_peaks,)
        Circular means and masses, by increasing angle.
    width : float
        Largest distance of a token from its cluster's centre (radians).
    spacing_error : float
        max |gap - 2π/n_peaks| over the gaps between consecutive centres.
    mass_error : float
        max |mass - 1/n_peaks|.
    collapsed : bool
        ``width <= width_tol``: every cluster is a Dirac to that resolution.
    k_diracs : bool
        Collapsed, ``n_peaks == k`` and both errors within their tolerances.
    outcome : str
        ``"k_diracs"``, ``"other_diracs"`` (collapsed, but not k equally spaced
        Diracs) or ``"not_collapsed"``.
    """

    n_peaks: int
    centres: np.ndarray
    masses: np.ndarray
    width: float
    spacing_error: float
    mass_error: float
    collapsed: bool
    k_diracs: bool
    outcome: str


def classify_end_state(theta, k, weights=None, radius=0.1, width_tol=1e-2, spacing_tol=1e-2,
                       mass_tol=1e-2):
    """Is a configuration on the circle k equally spaced Diracs of mass 1/k (to tolerances)?

    The tokens are grouped by single linkage (:func:`mtlib.find_clusters`, gaps above
    ``radius`` separate groups). The state is "k equally spaced Diracs" when every group
    lies within ``width_tol`` of its centre, there are exactly k groups, the gaps between
    consecutive centres are within ``spacing_tol`` of 2π/k and the masses within
    ``mass_tol`` of 1/k:

    .. math:: \\max_a |θ_{a+1} - θ_a - 2π/k| \\le \\text{spacing\\_tol}, \\quad
              \\max_a |m_a - 1/k| \\le \\text{mass\\_tol}.

    Parameters
    ----------
    theta : array_like, shape (n,)
        Angles in radians.
    k : int, >= 1
        The number of Diracs asked about.
    weights : array_like, shape (n,), optional
        Token masses summing to 1 (default 1/n).
    radius : float, in (0, π)
        Linkage length (radians); it must exceed the width of a Dirac and stay below
        the gaps between them.
    width_tol, spacing_tol : float, in (0, π)
        Tolerances in radians.
    mass_tol : float, in (0, 1)
        Tolerance on the masses.

    Returns
    -------
    EndState

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), arXiv:2410.23228, Assumption 3 (the limit δ_{k,φ}).
    """
    x = check_angles(theta)
    k = check_int(k, "k", low=1)
    w = check_weights(weights, x.size)
    for name, value in (("width_tol", width_tol), ("spacing_tol", spacing_tol)):
        check_real(value, name, low=0.0, high=np.pi, low_open=True, high_open=True)
    check_real(mass_tol, "mass_tol", low=0.0, high=1.0, low_open=True, high_open=True)
    clusters = find_clusters(x, radius=radius, min_mass=0.0, weights=w)
    order = np.argsort(clusters.centres, kind="stable")
    centres, masses = clusters.centres[order], clusters.masses[order]
    m = centres.size
    gaps = np.diff(np.concatenate([centres, [centres[0] + TWO_PI]]))
    spacing_error = float(np.max(np.abs(gaps - TWO_PI / m)))
    mass_error = float(np.max(np.abs(masses - 1.0 / m)))
    width = float(clusters.spreads.max())
    collapsed = width <= width_tol
    k_diracs = (collapsed and m == k and spacing_error <= spacing_tol
                and mass_error <= mass_tol)
    outcome = OUTCOMES[0] if k_diracs else OUTCOMES[1] if collapsed else OUTCOMES[2]
    return EndState(n_peaks=m, centres=centres, masses=masses, width=width,
                    spacing_error=spacing_error, mass_error=mass_error,
                    collapsed=bool(collapsed), k_diracs=bool(k_diracs), outcome=outcome)


def gap_instability_rate(beta, k):
    """Growth rate of the gap between two Diracs per period on M_k (USA): a saddle.

    Two Diracs per period, masses m_1, m_2 (k(m_1 + m_2) = 1) at 2πc/k and a + 2πc/k,
    stay 2π/k-periodic; the gap obeys exactly

    .. math:: \\dot a = -\\frac1k S(a), \\qquad S(a) = \\sum_{c=0}^{k-1} K(a + 2πc/k),
              \\qquad K(φ) = e^{β\\cos φ}\\sin φ ,

    whatever the masses. a = π/k (2k equally spaced Diracs) is an equilibrium, since
    S(π/k) sums K over the odd multiples of π/k, which cancel in pairs, and a small
    deviation δ = a - π/k grows like e^{λt} with

    .. math:: λ = -\\frac1k \\sum_{c=0}^{k-1} K'\\big((2c+1)π/k\\big)
              \\quad (= β \\text{ for } k = 2,\\ e^{-β} \\text{ for } k = 1).

    Parameters
    ----------
    beta : float, in (0, 700]
        Inverse temperature.
    k : int, >= 1
        Period number.

    Returns
    -------
    float
        λ (positive: the 2k-Dirac states on M_k are unstable inside M_k).

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), arXiv:2410.23228 (the USA dynamics on the circle).
    """
    beta = check_real(beta, "beta", low=0.0, high=700.0, low_open=True)
    k = check_int(k, "k", low=1)
    odd = (2 * np.arange(k) + 1) * np.pi / k
    return float(-np.mean(_kernel_slope(odd, beta)))


def _horizon(beta, k, alpha, n_modes, model, horizon):
    rates = growth_rate(k * np.arange(1, n_modes + 1), beta, model=model)
    contraction = np.mean(_kernel_slope(TWO_PI * np.arange(k) / k, beta))
    return horizon * (np.log(10.0 / alpha) / rates.max() + np.log(1e4) / contraction)


def manifold_trials(betas, ks, alphas, seeds, n_per_period=24, n_modes=4, decay=1.0, horizon=2.0,
                    fractions=(0.25, 0.5, 1.0), model="usa", radius=0.1, width_tol=1e-2):
    """Start on M_k from generic noise, integrate, classify: one table row per check.

    For every (β, k, α) of the product grid and every seed, the tokens of
    :func:`manifold_noise_tokens` (``k * n_per_period`` of them) are integrated by
    :func:`simulate_on_manifold` (one batch per grid point) up to the horizon

    .. math:: T = h\\Big(\\frac{\\ln(10/α)}{γ^*} + \\frac{\\ln 10^4}{λ_c}\\Big),
              \\quad γ^* = \\max_{j \\le J} γ_{jk}(β), \\quad
              λ_c = \\frac1k\\sum_{j=0}^{k-1} K'(2πj/k),

    (the linear phase from amplitude α/10 to 1 at the fastest rate on M_k, then the
    contraction of k Diracs from width 1 to 10^{-4}, times h = ``horizon``), and
    classified by :func:`classify_end_state` at the times ``fractions * T``.

    Parameters
    ----------
    betas, ks, alphas : sequences
        β > 0 (<= 700 for USA), k >= 1, α in (0, 1).
    seeds : sequence of int >= 0
        One noise draw per seed (``rng=seed``).
    n_per_period : int, >= 2
        Tokens per period.
    n_modes, decay
        The noise law (:func:`manifold_noise_density`).
    horizon : float, > 0
        h above.
    fractions : sequence of float in (0, 1], increasing
        The check times as fractions of T.
    model : {"usa", "sa"}
    radius, width_tol
        Passed to :func:`classify_end_state`.

    Returns
    -------
    pandas.DataFrame
        Columns beta, k, alpha, seed, fraction, t, n_peaks, k_diracs, outcome, width,
        d_k (the W1 distance of :func:`mtlib.distance_to_equispaced` to the nearest k
        equally spaced Diracs) and r_k = |(1/n) Σ_j e^{ikθ_j}|, two checks of the
        classifier by other means: on M_k, r_k = 1 exactly when every token sits on
        one lattice φ + 2πj/k, and ``1 - r_k <= 1 - cos(k width)`` for k Diracs.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), arXiv:2410.23228, Assumption 3 and open question 1.
    """
    import pandas as pd

    model = check_model(model)
    n_per_period = check_int(n_per_period, "n_per_period", low=2)
    horizon = check_real(horizon, "horizon", low=0.0, low_open=True)
    fractions = check_array(fractions, "fractions", ndim=1)
    if np.any(fractions <= 0) or np.any(fractions > 1) or np.any(np.diff(fractions) <= 0):
        raise ValueError(f"fractions must increase within (0, 1], got {fractions.tolist()}")
    seeds = [check_int(s, "seeds", low=0) for s in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed")
    grid = [(check_real(b, "betas", low=0.0, low_open=True), check_int(k, "ks", low=1),
             check_real(a, "alphas", low=0.0, high=1.0, low_open=True, high_open=True))
            for b in betas for k in ks for a in alphas]
    for beta, _, _ in grid:
        check_usa_beta(beta, model)
    rows = []
    for beta, k, alpha in grid:
        T = _horizon(beta, k, alpha, n_modes, model, horizon)
        x0s = np.array([manifold_noise_tokens(k * n_per_period, k, alpha, n_modes, decay, s)
                        for s in seeds])
        states = simulate_on_manifold(x0s, k, beta, fractions * T, model=model)
        for f, batch in zip(fractions, states):
            for seed, theta in zip(seeds, batch):
                end = classify_end_state(theta, k, radius=radius, width_tol=width_tol)
                rows.append(dict(beta=beta, k=k, alpha=alpha, seed=seed, fraction=float(f),
                                 t=float(f * T), n_peaks=end.n_peaks, k_diracs=end.k_diracs,
                                 outcome=end.outcome, width=end.width,
                                 d_k=distance_to_equispaced(theta, k)[0],
                                 r_k=float(np.abs(np.mean(np.exp(1j * k * theta))))))
    return pd.DataFrame(rows)
