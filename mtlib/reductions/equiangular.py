"""The equiangular reduction: n tokens with a common inner product ρ stay so, and ρ solves an ODE.

If all pairwise inner products <θ_i,θ_j> equal ρ and all norms are equal, they stay so
under every normalisation scheme of :mod:`mtlib.reductions`, and with the attention
weights f of the token itself and g = fE, E = e^{-β(1-ρ)}, of each other token
(f = 1/(1+(n-1)E) (SA) or e^β/n (USA)):

    ρ' = (2/s) g (1-ρ)(1+(n-1)ρ),     <θ_i,A_i> = f + (n-1)ρ g,
    |A_i| = sqrt(f² + 2(n-1)ρ f g + (n-1) g² (1+(n-2)ρ)).

f and g are computed without forming E where it overflows (β(1-ρ) very negative).

Post-LN: near ρ = 1, 1-ρ decays at rate exactly 2 (SA, any β and n) and 2e^β (USA).
Pre-LN: r ~ t, so 1-ρ ~ C/t². The ODE is integrated in v = log((1-ρ)/(1+(n-1)ρ)), whose
right-hand side -(2n/s) g has neither factor: the precision of 1-ρ (near the cluster)
and of 1+(n-1)ρ (near the simplex) stays relative down to any size, for any n.

Reference: P. Rigollet, "The mean-field dynamics of transformers" (2025), arXiv:2512.01868.
"""

import math
import time
from dataclasses import dataclass

import numpy as np

from .._constants import DEFAULT_MODEL, MAX_TOKENS
from .._integrate import check_tolerances, integrate
from .._validate import check_array, check_int, check_model, check_real, check_times, check_usa_beta
from ._schemes import check_normalization

__all__ = ["equiangular_rhs", "solve_equiangular", "clustering_time", "EquiangularResult"]


def _check_n(n):
    n = check_int(n, "n", low=2)
    if n > MAX_TOKENS:
        raise ValueError(f"n must be <= 1e300 (it enters the formulas as a float64), got {len(str(n))} digits")
    return n


def _check_beta(beta, model):
    beta = check_real(beta, "beta")
    check_usa_beta(beta, model)
    return beta


def _check_rho(rho, n, name="rho"):
    """ρ as a float array inside [-1/(n-1), 1] (the range of a common inner product)."""
    arr = check_array(np.atleast_1d(rho), name)
    low = -1.0 / (n - 1)
    bad = (arr < low - 1e-15) | (arr > 1.0)
    if np.any(bad):
        raise ValueError(
            f"{name} must lie in [-1/(n-1), 1] = [{low:.6g}, 1] for n = {n} unit vectors with "
            f"equal pairwise inner products, got {arr[bad][0]!r}"
        )
    return np.clip(arr, low, 1.0)


def _equiangular_terms(w, beta, n, sa):
    """(ρ, f, g) from w = 1-ρ: the attention weights of the token itself (f) and of each other one (g = fE).

    SA: f = 1/(1+(n-1)E), g = E/(1+(n-1)E) with E = e^{-βw} where βw >= 0, and
    f = G/(G+n-1), g = 1/(G+n-1) with G = 1/E = e^{βw} where βw < 0 (no overflow: E, G <= 1).
    USA: f = e^β/n, g = e^{βρ}/n.
    """
    rho = 1.0 - w
    if not sa:
        return rho, math.exp(beta) / n + 0.0 * w, np.exp(beta * rho) / n
    x = beta * w
    small = np.exp(-np.abs(x))  # E where x >= 0, G where x < 0
    den = np.where(x >= 0, 1.0 + (n - 1) * small, small + (n - 1))
    return rho, np.where(x >= 0, 1.0, small) / den, np.where(x >= 0, small, 1.0) / den


def _norm_A(rho, f, g, n):
    """|A_i| = sqrt(f² + 2ρfG + G²(1+(n-2)ρ)/(n-1)), G = (n-1)g, scaled by max(f, G) (no overflow, no n²)."""
    G = (n - 1) * g
    m = np.maximum(f, G)
    a, b = f / m, G / m
    return m * np.sqrt(np.maximum(a * a + 2.0 * rho * a * b + b * b * ((1.0 + (n - 2) * rho) / (n - 1)), 0.0))


def equiangular_rhs(rho, beta, n, model=DEFAULT_MODEL):
    """Right-hand side of the equiangular ODE (Post-LN): ρ' = F(ρ).

    .. math::

        F_{SA}(\\rho) = \\frac{2 e^{\\beta\\rho}(1-\\rho)((n-1)\\rho+1)}{e^{\\beta} + (n-1)e^{\\beta\\rho}},
        \\qquad
        F_{USA}(\\rho) = \\frac{2}{n} e^{\\beta\\rho}(1-\\rho)((n-1)\\rho+1),

    the evolution of the common inner product ρ = <x_i, x_j> of n equiangular tokens.

    Parameters
    ----------
    rho : float or array_like
        Common inner product(s), in [-1/(n-1), 1].
    beta : float
        Inverse temperature β (|β| <= 700 for USA).
    n : int, >= 2
        Number of tokens.
    model : {"usa", "sa"}

    Returns
    -------
    float or ndarray
        F(ρ), same shape as ``rho``.

    References
    ----------
    Rigollet, "The mean-field dynamics of transformers" (2025), equiangular reduction.
    """
    n = _check_n(n)
    model = check_model(model)
    sa = model == "sa"
    beta = _check_beta(beta, model)
    scalar = np.ndim(rho) == 0
    r = _check_rho(rho, n).reshape(np.shape(rho))
    w = 1.0 - r
    rho_, _, g = _equiangular_terms(w, beta, n, sa)
    out = 2.0 * g * w * (1.0 + (n - 1) * rho_)
    return float(out) if scalar else out


def _scale_and_radial(normalization, t, r, rho, f, g, n, alpha):
    """(s, r') of a scheme in the equiangular state."""
    if normalization == "post":
        return 1.0, 0.0
    if normalization == "sqrt":
        return math.sqrt(t + 1.0), 0.0
    c1 = f + (n - 1) * rho * g
    if normalization == "pre":
        return r, c1
    nA = _norm_A(rho, f, g, n)
    if normalization == "peri":
        return r * nA, c1 / nA
    return nA / alpha, 0.0  # ngpt


@dataclass(frozen=True)
class EquiangularResult:
    """Solution of the equiangular ODE.

    Attributes
    ----------
    t : ndarray, shape (T,)
        Output times.
    rho : ndarray, shape (T,)
        Common inner product <θ_i, θ_j>.
    log_one_minus_rho : ndarray, shape (T,)
        log(1-ρ), accurate to the integrator tolerance even when 1-ρ underflows ρ's
        precision (-inf when ρ = 1).
    r : ndarray, shape (T,)
        Common token norm (constant for "post", "ngpt", "sqrt").
    beta : float
    n : int
    model, normalization : str
    n_steps, nfev : int
        Accepted integrator steps and right-hand-side evaluations (0 at a fixed point).
    wall_time : float
        Seconds.
    message : str
        The integrator's report.
    """

    t: np.ndarray
    rho: np.ndarray
    log_one_minus_rho: np.ndarray
    r: np.ndarray
    beta: float
    n: int
    model: str
    normalization: str
    n_steps: int
    nfev: int
    wall_time: float
    message: str

    @property
    def one_minus_rho(self):
        """1 - ρ with full relative precision."""
        return np.exp(self.log_one_minus_rho)


def _from_v(v, n):
    """(w, S, log w) from v = log(w/S), w = 1-ρ, S = 1+(n-1)ρ (S + (n-1)w = n), each to relative precision."""
    if v <= 0.0:
        e = math.exp(v)
        den = 1.0 + (n - 1) * e
        return n * e / den, n / den, math.log(n) + v - math.log1p((n - 1) * e)
    e = math.exp(-v)
    den = e + (n - 1)
    return n / den, n * e / den, math.log(n) - math.log(den)


def _v0(rho0, n):
    """v = log((1-ρ0)/(1+(n-1)ρ0)) at the start."""
    return math.log1p(-rho0) - math.log1p((n - 1) * rho0)


def _equiangular_system(beta, n, sa, normalization, alpha):
    """The right-hand side for (v, r), v = log((1-ρ)/(1+(n-1)ρ)): v' = -(2n/s) g."""

    def rhs(t, y):
        v, r = y
        w, S, _ = _from_v(v, n)
        rho, f, g = (float(x) for x in _equiangular_terms(w, beta, n, sa))
        s, dr = _scale_and_radial(normalization, t, r, rho, f, g, n, alpha)
        return np.array([-(2.0 * n / s) * g, dr])

    return rhs


def _equiangular_setup(rho0, beta, n, model, normalization, r0, alpha):
    n = _check_n(n)
    model = check_model(model)
    beta = _check_beta(beta, model)
    normalization = check_normalization(normalization)
    rho0 = float(_check_rho(check_real(rho0, "rho0"), n, "rho0")[0])
    r0 = check_real(r0, "r0", low=0.0, low_open=True)
    alpha = check_real(alpha, "alpha", low=0.0, low_open=True)
    return rho0, beta, n, model, normalization, r0, alpha


def _at_simplex(rho0, n):
    """1 + (n-1)ρ0 = 0 to rounding: the regular simplex, a fixed point."""
    return 1.0 + (n - 1) * rho0 <= 4.0 * np.finfo(float).eps


def _fixed_r(normalization, r0, t, rho, beta, n, sa, alpha):
    """Norm path at a fixed point ρ (1 or the simplex): r' = <θ,A> (pre), <θ,A>/|A| (peri), both constant."""
    _, f, g = (float(x) for x in _equiangular_terms(np.float64(1.0 - rho), beta, n, sa))
    _, dr = _scale_and_radial(normalization, 0.0, r0, rho, f, g, n, alpha)
    return r0 + dr * t


def solve_equiangular(
    rho0, beta, n, t_eval, model=DEFAULT_MODEL, normalization="post", r0=1.0, alpha=1.0, rtol=1e-12, atol=1e-13
):
    """Integrate the equiangular reduction for a normalisation scheme.

    Post-LN: ρ' = F(ρ) (see :func:`equiangular_rhs`). Each scheme divides the direction
    speed by s (table in :mod:`mtlib.reductions`), so ρ' = F(ρ)/s, and moves the common
    norm r. The ODE is solved for v = log((1-ρ)/(1+(n-1)ρ)) (and r) by the
    Dormand–Prince 5(4) integrator of mtlib:

    .. math::

        v' = -\\frac{2n}{s} g, \\quad g = \\frac{E}{1 + (n-1)E} \\;(SA), \\;
        \\frac{e^{\\beta\\rho}}{n} \\;(USA), \\quad E = e^{-\\beta(1-\\rho)},

    which keeps the relative precision of both 1-ρ (near the cluster) and 1+(n-1)ρ (near
    the simplex, where a large n starts: ρ(0) = 0 is 1/n from it in these units).

    Parameters
    ----------
    rho0 : float in [-1/(n-1), 1]
        Initial common inner product (ρ0 = -1/(n-1), the simplex, and ρ0 = 1 are fixed).
    beta : float
        Inverse temperature β.
    n : int, >= 2
        Number of tokens.
    t_eval : array_like, shape (T,)
        Output times, >= 0, strictly increasing.
    model : {"usa", "sa"}
    normalization : {"post", "pre", "peri", "ngpt", "sqrt"}
        Also "post-ln", "pre-ln", "peri-ln", "sqrt-scaling".
    r0 : float > 0
        Initial common norm (matters for "pre" and "peri").
    alpha : float > 0
        nGPT step scale α.
    rtol, atol : float
        Integrator tolerances (on v and r): rtol >= 4 machine epsilons, atol > 0.

    Returns
    -------
    EquiangularResult
        ``rho``, ``log_one_minus_rho``, ``one_minus_rho`` and ``r`` at ``t``.

    References
    ----------
    Rigollet, "The mean-field dynamics of transformers" (2025).
    """
    start = time.perf_counter()
    rho0, beta, n, model, normalization, r0, alpha = _equiangular_setup(
        rho0, beta, n, model, normalization, r0, alpha
    )
    t_eval = check_times(t_eval)
    rtol, atol = check_tolerances(rtol, atol)
    sa = model == "sa"
    if rho0 == 1.0 or _at_simplex(rho0, n):
        where = "1" if rho0 == 1.0 else "the simplex -1/(n-1)"
        return EquiangularResult(
            t_eval, np.full_like(t_eval, rho0), np.full_like(t_eval, math.log1p(-rho0) if rho0 < 1.0 else -np.inf),
            _fixed_r(normalization, r0, t_eval, rho0, beta, n, sa, alpha), beta, n, model, normalization,
            0, 0, time.perf_counter() - start, f"rho0 = {where} is a fixed point: nothing to integrate",
        )
    rhs = _equiangular_system(beta, n, sa, normalization, alpha)
    sol = integrate(rhs, np.array([_v0(rho0, n), r0]), t_eval, rtol=rtol, atol=atol)
    w, _, log_w = np.array([_from_v(v, n) for v in sol.y[:, 0]]).T
    return EquiangularResult(
        t_eval, 1.0 - w, log_w, sol.y[:, 1], beta, n, model, normalization,
        sol.n_steps, sol.nfev, time.perf_counter() - start, sol.message,
    )


def clustering_time(
    beta, n, rho0=0.0, threshold=0.999, model=DEFAULT_MODEL, normalization="post", r0=1.0, alpha=1.0, t_max=1e7
):
    """Time for the equiangular correlation ρ(t) to reach a threshold.

    The first t with ρ(t) = threshold, from ρ(0) = ρ0 (0 if ρ0 >= threshold), found as an
    event of the ODE of :func:`solve_equiangular` (relative accuracy ~1e-10). ρ never
    decreases, and reaches 1 only as t → ∞ (ρ0 > -1/(n-1)).

    Parameters
    ----------
    beta : float
    n : int, >= 2
    rho0 : float in (-1/(n-1), 1]
    threshold : float in (-1/(n-1), 1)
    model, normalization, r0, alpha
        As in :func:`solve_equiangular`.
    t_max : float
        Give up (``RuntimeError``) beyond this time.

    Returns
    -------
    float

    Examples
    --------
    SA (``model="sa"``), n = 32, from ρ = 0 to 0.999: β = 1: 5.27, β = 5: 9.54,
    β = 7: 32.2, β = 9: 178.7.

    References
    ----------
    Rigollet, "The mean-field dynamics of transformers" (2025).
    """
    rho0, beta, n, model, normalization, r0, alpha = _equiangular_setup(
        rho0, beta, n, model, normalization, r0, alpha
    )
    threshold = check_real(threshold, "threshold", low=-1.0 / (n - 1), high=1.0, low_open=True, high_open=True)
    t_max = check_real(t_max, "t_max", low=0.0, low_open=True)
    if rho0 >= threshold:
        return 0.0
    if _at_simplex(rho0, n):
        raise ValueError(f"rho0 = {rho0} is the simplex, a fixed point: the threshold is never reached")
    rhs = _equiangular_system(beta, n, model == "sa", normalization, alpha)
    target = _v0(threshold, n)

    def event(t, y):
        return y[0] - target

    event.terminal = True
    event.direction = -1
    sol = integrate(rhs, np.array([_v0(rho0, n), r0]), [t_max], rtol=1e-12, atol=1e-13, events=event)
    if sol.status != 1:
        raise RuntimeError(f"clustering_time: rho did not reach {threshold} before t_max = {t_max:g}")
    return float(sol.t_events[0][0])
