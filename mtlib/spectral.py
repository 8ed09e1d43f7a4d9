"""Linearisation around the uniform measure: Gegenbauer coefficients, growth rates, k_max.

On ``S^{d-1}`` the USA interaction potential is ``W(t) = e^{βt}/β`` and its linearisation
around the uniform measure is diagonal in spherical harmonics: the degree-k part grows
like ``e^{γ_k t}`` with ``γ_k = k(k+d-2) λ_k``, ``λ_k`` the Funk–Hecke eigenvalue of W.
This module gives the closed form (modified Bessel functions, also at a real degree κ), an
independent quadrature of the same numbers, ``k_max = argmax_k γ_k``, its switch points
and the relative gap between the two leading rates. The Fourier and harmonic statistics
of measures live in :mod:`mtlib.harmonics`, the linear-phase predictions built on these
rates in :mod:`mtlib.linear`.

Time is measured in the units of :func:`mtlib.simulate` (``dθ_i/dt = (1/N) Σ_j e^{β cos
(θ_j-θ_i)} sin(θ_j-θ_i)`` on the circle); the authors' notebook plotted ``γ_k/π``.

Reference: G. Bruno, F. Pasqualotto, A. Agazzi, *Emergence of meta-stable clustering in
mean-field transformer models*, ICLR 2025 (arXiv:2410.23228), Section 4.
"""

import math

import numpy as np
from scipy import optimize, special

from ._constants import USA_MAX_BETA
from ._validate import check_array, check_degrees, check_int, check_memory, check_model, check_real

__all__ = [
    "growth_rate",
    "log_growth_rate",
    "growth_rate_quadrature",
    "funk_hecke_eigenvalue",
    "kmax",
    "kmax_switch_points",
    "gegenbauer_coefficients",
    "growth_rate_continuous",
    "relative_rate_gap",
]

_SERIES_BETA = 2.0  # below this |β| the Bessel functions are summed from their power series
_SERIES_TERMS = 40  # (β²/4)^j / j! at β = 2, j = 40 is 1e-48: far below rounding
_TINY_BETA = 1e-8  # below this |β| the series is its leading term: β²/4 is below rounding
_LOG_TINY = math.log(np.finfo(np.float64).tiny)  # log of the smallest normal float64
_LOG2 = math.log(2.0)
MAX_BETA = 1e9  # scipy.special.ive, behind every rate, returns NaN beyond |β| ≈ 2e9
MAX_NODES = 3000  # Gauss–Jacobi rules cost O(nodes²): 3000 nodes take about 2 s
MAX_SWITCH_POINTS = 1000  # kmax_switch_points: one root find (about 5 ms) per point
_KMAX_WINDOW = 10  # k_max lies within 2 of sqrt(2β + ν²) - ν (checked for d <= 1000); search ±10


# ----------------------------------------------------------------------------- helpers


def _check_dimension(d):
    return check_int(d, "d", low=2)


def _check_beta(beta, low=None):
    """β as a float, |β| <= MAX_BETA (the range of scipy's Bessel functions)."""
    beta = check_real(beta, "beta", low=low)
    if abs(beta) > MAX_BETA:
        raise ValueError(
            f"beta must satisfy |beta| <= {MAX_BETA:g}, got {beta:g}: the Bessel functions behind the "
            f"rates (scipy.special.ive) fail beyond |beta| ≈ 2e9; there k_max ≈ sqrt(2|beta| + ν²) - ν"
        )
    return beta


def _log_bessel_i(mu, x, scaled=False):
    """log I_mu(x) (``log(I_mu(x) e^{-x})`` if ``scaled``) for x > 0, mu >= 0, arrays broadcast.

    ``log(ive(mu, x)) + x`` for x > 2; the power series ``I_mu(x) = (x/2)^mu Σ_j (x²/4)^j /
    (j! Γ(mu+j+1))`` summed in logs for x <= 2, and also where ive underflows (high orders
    mu ≫ x) while x² <= 16(mu+1) (then q = x²/(4(mu+1)) <= 4 and 40 terms reach rounding);
    only its leading term ``mu log(x/2) - log Γ(mu+1)`` for x < 1e-8, where x²/4 is below
    rounding (and underflows below 1e-154). ``-inf`` where even the scaled value underflows
    and the series does not apply.
    """
    mu, x = np.broadcast_arrays(np.asarray(mu, dtype=np.float64), np.asarray(x, dtype=np.float64))
    log_ive = np.full(mu.shape, np.inf)
    big = x > _SERIES_BETA
    if np.any(big):
        with np.errstate(divide="ignore"):
            log_ive[big] = np.log(special.ive(mu[big], x[big]))
    out = log_ive.copy()
    if not scaled:
        out += x
    series = ~big | ((log_ive < _LOG_TINY) & (x * x <= 16.0 * (mu + 1.0)))
    tiny = series & (x < _TINY_BETA)
    if np.any(tiny):
        m, xs = mu[tiny], x[tiny]
        out[tiny] = m * (np.log(xs) - _LOG2) - special.gammaln(m + 1.0) - (xs if scaled else 0.0)
    series &= ~tiny
    if np.any(series):
        m, xs = mu[series], x[series]
        j = np.arange(_SERIES_TERMS)[:, None]
        terms = j * np.log(xs * xs / 4.0) - special.gammaln(j + 1.0) - special.gammaln(m + j + 1.0)
        out[series] = m * np.log(xs / 2.0) + special.logsumexp(terms, axis=0) - (xs if scaled else 0.0)
    return out


def _log_abs_rate(k, beta_abs, d, model):
    """log |γ_k(β)| at β = beta_abs > 0 for degrees k (int array); -inf for k = 0."""
    nu = (d - 2) / 2.0
    kf = k.astype(np.float64)
    with np.errstate(divide="ignore"):
        log_kk = np.log(kf * (kf + d - 2))
    if beta_abs < _TINY_BETA:  # leading term of the series, the same for both models
        return (log_kk + special.gammaln(nu + 1.0) - special.gammaln(kf + nu + 1.0)
                + (kf - 1.0) * math.log(beta_abs) - kf * _LOG2)
    log_i = _log_bessel_i(kf + nu, beta_abs)
    if model == "usa":
        return log_kk + special.gammaln(d / 2.0) + nu * math.log(2.0) - (1.0 + nu) * math.log(beta_abs) + log_i
    return log_kk - math.log(beta_abs) + log_i - _log_bessel_i(nu, beta_abs)


def _log_rate_profile(k, beta_abs, d):
    """log γ_k(β) up to a constant independent of k: full precision in k_max and rate ratios.

    ``log(k(k+d-2)) + log(I_{k+ν}(β) e^{-β})``: the terms that :func:`_log_abs_rate` adds
    (β, log β, log Γ) are the same for every degree and would round the differences
    between degrees to the ulp of β. SA and USA share it.
    """
    nu = (d - 2) / 2.0
    kf = k.astype(np.float64)
    return np.log(kf * (kf + d - 2)) + _log_bessel_i(kf + nu, beta_abs, scaled=True)


def _kmax_window(beta_abs, d):
    """Degrees 1, 2, ... within _KMAX_WINDOW of ``sqrt(2β + ν²) - ν`` (computed without cancellation)."""
    nu = (d - 2) / 2.0
    centre = 2.0 * beta_abs / (math.sqrt(2.0 * beta_abs + nu * nu) + nu)
    return np.arange(max(1, int(centre) - _KMAX_WINDOW), int(centre) + _KMAX_WINDOW + 1)


def _rate_at_zero(k, d):
    """The β → 0 limit: only k = 1 grows, at (d-1)/d (the Kuramoto rate 1/2 on the circle)."""
    return np.where(k == 1, (d - 1) / d, 0.0)


# ----------------------------------------------------------------------------- growth rates


def growth_rate(k, beta, d=2, model="usa"):
    """Linear growth rate γ_k of degree-k harmonics around the uniform measure on S^{d-1}.

    .. math::

        γ_k = k(k+d-2)\\,Γ(d/2)\\,2^{ν} β^{-1-ν} I_{k+ν}(β), \\quad ν = (d-2)/2
        \\qquad (d = 2:\\ γ_k = k^2 I_k(β)/β),

        γ_k^{SA} = γ_k \\,/\\, \\big(Γ(d/2) (2/β)^{ν} I_ν(β)\\big)
                 = k(k+d-2)\\, I_{k+ν}(β) / (β I_ν(β)).

    A perturbation ``u`` of the uniform density evolves, to first order, as
    ``∂_t u_k = γ_k u_k`` on each degree-k harmonic (time in the units of
    :func:`mtlib.simulate`). Values are computed from logarithms of exponentially scaled
    Bessel functions, so they are accurate for any β and k; USA values overflow to
    ``inf`` beyond β ≈ 700 (use :func:`log_growth_rate` there), SA values never do.

    Limits: ``γ_0 = 0`` (mass). At β = 0 the rates are the limits β → 0⁺: ``γ_1 =
    (d-1)/d`` (1/2 on the circle, the Kuramoto rate), ``γ_k = 0`` for k ≥ 2. For β < 0
    (repulsive-at-short-range kernel ``e^{-|β|t}``) the Funk–Hecke eigenvalues pick up
    ``(-1)^k`` and ``1/β`` a minus sign: ``γ_k(β) = (-1)^{k+1} γ_k(|β|)``, so odd degrees
    grow and even degrees decay.

    Parameters
    ----------
    k : int or array of int, >= 0
        Harmonic degree(s) (on the circle, the Fourier mode).
    beta : float
        Inverse temperature β, |β| <= 1e9 (the range of scipy's Bessel functions).
    d : int, >= 2
        Ambient dimension (tokens on S^{d-1}).
    model : {"usa", "sa"}
        Unnormalised or softmax-normalised self-attention.

    Returns
    -------
    float or ndarray
        γ_k with the shape of ``k`` (a float for scalar ``k``).

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.1 (linear phase).
    """
    k, scalar = check_degrees(k)
    beta = _check_beta(beta)
    d = _check_dimension(d)
    model = check_model(model)
    if beta == 0.0:
        out = _rate_at_zero(k, d)
    else:
        with np.errstate(over="ignore"):
            out = np.exp(_log_abs_rate(k, abs(beta), d, model))
        if beta < 0:
            out = np.where(k % 2 == 1, out, -out)
    return float(out) if scalar else out


def log_growth_rate(k, beta, d=2, model="usa"):
    """Natural logarithm of the growth rate, ``log γ_k``, for β >= 0 (never overflows).

    .. math:: \\log γ_k = \\log(k(k+d-2)) + \\log Γ(d/2) + ν\\log 2 - (1+ν)\\log β + \\log I_{k+ν}(β)

    with ``log I`` taken from the power series (β <= 2) or from ``log(ive) + β``; see
    :func:`growth_rate` for the formula and the SA version. ``-inf`` where ``γ_k = 0``
    (k = 0, or k >= 2 at β = 0, or degrees so high that even the scaled Bessel function
    underflows).

    Parameters
    ----------
    k : int or array of int, >= 0
        Harmonic degree(s).
    beta : float, in [0, 1e9]
        Inverse temperature; use :func:`growth_rate` for β < 0 (rates change sign there).
    d : int, >= 2
        Ambient dimension.
    model : {"usa", "sa"}
        Attention model.

    Returns
    -------
    float or ndarray
        ``log γ_k`` with the shape of ``k``.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.1.
    """
    k, scalar = check_degrees(k)
    beta = _check_beta(beta, low=0.0)
    d = _check_dimension(d)
    model = check_model(model)
    if beta == 0.0:
        with np.errstate(divide="ignore"):
            out = np.log(_rate_at_zero(k, d))
    else:
        out = _log_abs_rate(k, beta, d, model)
    return float(out) if scalar else out


def _normalised_gegenbauer(k, d, t):
    """C_k^ν(t)/C_k^ν(1) = P_k^{(a,a)}(t)/P_k^{(a,a)}(1), a = ν - 1/2 (Chebyshev T_k at d = 2)."""
    a = (d - 3) / 2.0
    return special.eval_jacobi(k, a, a, t) / special.binom(k + a, k)


def funk_hecke_eigenvalue(func, k, d, nodes=None):
    """Funk–Hecke eigenvalue of a zonal kernel ``f(<x,y>)`` on degree-k harmonics, by quadrature.

    .. math::

        λ_k[f] = \\frac{ω_{d-2}}{ω_{d-1}} \\int_{-1}^{1} f(t)
                 \\frac{C_k^ν(t)}{C_k^ν(1)} (1-t^2)^{(d-3)/2}\\,dt,
        \\qquad \\frac{ω_{d-2}}{ω_{d-1}} = \\frac{Γ(d/2)}{\\sqrt{π}\\,Γ((d-1)/2)},

    so that ``∫ f(<x,y>) Y_k(y) dσ(y) = λ_k Y_k(x)`` for every degree-k spherical
    harmonic and the normalised surface measure σ. Computed by Gauss–Jacobi quadrature
    for the weight ``(1-t)^a (1+t)^a``, ``a = (d-3)/2`` (exact for polynomials of degree
    < 2·nodes, so spectrally accurate for entire f such as ``e^{βt}``); no Bessel
    identity is used.

    Parameters
    ----------
    func : callable
        ``f(t)``, vectorised over an array of ``t`` in [-1, 1].
    k : int, in [0, 2920]
        Degree.
    d : int, >= 2
        Ambient dimension.
    nodes : int, in [1, 3000], optional
        Number of Gauss–Jacobi nodes; default ``k + 80``. The rule costs O(nodes²) time
        (about 2 s at 3000 nodes).

    Returns
    -------
    float
        λ_k[f].

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.1; the Funk–Hecke theorem.
    """
    if not callable(func):
        raise TypeError(f"func must be callable, got {type(func).__name__}")
    k = check_int(k, "k", low=0, high=MAX_NODES - 80)
    d = _check_dimension(d)
    nodes = k + 80 if nodes is None else check_int(nodes, "nodes", low=1, high=MAX_NODES)
    a = (d - 3) / 2.0
    t, w = special.roots_jacobi(nodes, a, a)
    ratio = math.exp(math.lgamma(d / 2.0) - math.lgamma((d - 1) / 2.0)) / math.sqrt(math.pi)
    return ratio * float(np.sum(w * np.asarray(func(t), dtype=np.float64) * _normalised_gegenbauer(k, d, t)))


def _exp_remainder(x, k):
    """e^x - Σ_{j<k} x^j/j! (the Taylor tail from degree k), without cancellation for |x| <= 2."""
    out = np.empty_like(x)
    small = np.abs(x) <= 2.0
    xs = x[small]
    term = xs**k / math.factorial(k)
    total = term.copy()
    for j in range(1, _SERIES_TERMS):
        term = term * xs / (k + j)
        total += term
    out[small] = total
    xb = x[~small]
    out[~small] = np.exp(xb) - sum(xb**j / math.factorial(j) for j in range(k))
    return out


def growth_rate_quadrature(k, beta, d=2, model="usa"):
    """Growth rate γ_k by Funk–Hecke quadrature, an independent check of :func:`growth_rate`.

    .. math::

        γ_k = k(k+d-2)\\,λ_k[W_k], \\quad W_k(t) = \\frac{1}{β}\\Big(e^{βt} -
        \\sum_{j<k} \\frac{(βt)^j}{j!}\\Big), \\qquad γ_k^{SA} = γ_k / λ_0[e^{βt}].

    ``W_k`` differs from the potential ``e^{βt}/β`` by a polynomial of degree < k, which
    degree-k harmonics do not see (orthogonality); subtracting it removes the
    cancellation that otherwise ruins the relative accuracy of small rates (large k,
    small β), and makes β = 0 regular (``W_1 → t``). Uses :func:`funk_hecke_eigenvalue`
    with ``k + 80 + ⌊|β|/10⌋`` Gauss–Jacobi nodes (no Bessel functions; about 1e-11
    relative or better up to |β| = 700, where e^{|β|} reaches the end of float64); for
    tests and teaching, not speed.

    Parameters
    ----------
    k : int, in [0, 2850]
        Degree (at most 3000 nodes).
    beta : float, |β| <= 700
        Inverse temperature.
    d : int, >= 2
        Ambient dimension.
    model : {"usa", "sa"}
        Attention model.

    Returns
    -------
    float
        γ_k.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.1.
    """
    k = check_int(k, "k", low=0, high=MAX_NODES - 80 - int(USA_MAX_BETA / 10))
    beta = check_real(beta, "beta", low=-USA_MAX_BETA, high=USA_MAX_BETA)
    d = _check_dimension(d)
    model = check_model(model)
    if k == 0:
        return 0.0
    if beta == 0.0:
        potential = (lambda t: t) if k == 1 else (lambda t: 0.0 * t)
    else:
        potential = lambda t: _exp_remainder(beta * t, k) / beta  # noqa: E731
    nodes = k + 80 + int(abs(beta) / 10)  # the peak e^{β(t-1)} of width 1/|β| needs more nodes
    rate = k * (k + d - 2) * funk_hecke_eigenvalue(potential, k, d, nodes)
    if model == "sa":
        rate /= funk_hecke_eigenvalue(lambda t: np.exp(beta * t), 0, d, nodes)
    return rate


def kmax(beta, d=2, model="usa"):
    """The most unstable degree ``k_max = argmax_{k>=1} γ_k(β, d)``: the predicted cluster count.

    .. math:: k_{max} = \\operatorname{argmax}_{k \\ge 1} γ_k,
              \\qquad k_{max} \\approx \\sqrt{2β + ν^2} - ν \\ (β \\to ∞)

    SA and USA rates differ by a k-independent positive factor, so they share k_max.
    At β = 0 only γ_1 is positive, so ``k_max = 1``. For β < 0 only odd degrees grow
    (see :func:`growth_rate`) and k_max is the best odd degree. Exactly at a switch point
    (:func:`kmax_switch_points`) the smaller degree is returned. The degrees within 10 of
    the asymptotic value are compared through the k-dependent part of ``log γ_k``,
    ``log(k(k+d-2)) + log(I_{k+ν}(β) e^{-β})``, exact at any β.

    Parameters
    ----------
    beta : float
        Inverse temperature, |β| <= 1e9.
    d : int, >= 2
        Ambient dimension.
    model : {"usa", "sa"}
        Attention model (accepted for symmetry; the answer does not depend on it).

    Returns
    -------
    int
        k_max >= 1.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4 (number of meta-stable clusters).
    """
    beta = _check_beta(beta)
    d = _check_dimension(d)
    check_model(model)
    if beta == 0.0:
        return 1
    k = _kmax_window(abs(beta), d)
    logs = _log_rate_profile(k, abs(beta), d)
    if beta < 0:
        logs = np.where(k % 2 == 1, logs, -np.inf)
    return int(k[np.argmax(logs)])


def kmax_switch_points(d, kmax_limit):
    """The β values where k_max moves from k to k+1, for k = 1, ..., kmax_limit - 1.

    .. math:: β_k:\\ γ_k(β_k) = γ_{k+1}(β_k), \\ \\text{i.e.}\\
              \\log\\frac{(k+1)(k+d-1)}{k(k+d-2)} + \\log\\frac{I_{k+1+ν}(β)}{I_{k+ν}(β)} = 0

    The left side increases in β (the ratio I_{μ+1}(β)/I_μ(β) increases from 0 to 1, a
    classical property), so each root is unique; it is found by
    :func:`scipy.optimize.brentq` to 1e-12. That ``kmax(β, d) = k`` exactly for β in
    (β_{k-1}, β_k) (β_0 = 0) also needs k ↦ γ_k to be unimodal, which is checked
    numerically (chapter 2), not proved here. Checked values: d = 2: 1.044, 3.165, 6.211, 10.228,
    15.236; d = 3: 1.816, 4.425, 7.962, 12.48, 17.99. For large k,
    ``β_k ≈ ((k + 1/2 + ν)² - ν²)/2``.

    Parameters
    ----------
    d : int, >= 2
        Ambient dimension.
    kmax_limit : int, in [1, 1000]
        The largest k_max of interest; ``kmax_limit - 1`` points are returned (one root
        find, a few milliseconds, each).

    Returns
    -------
    ndarray, shape (kmax_limit - 1,)
        Increasing switch points β_1 < β_2 < ...

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.
    """
    d = _check_dimension(d)
    kmax_limit = check_int(kmax_limit, "kmax_limit", low=1, high=MAX_SWITCH_POINTS)
    nu = (d - 2) / 2.0
    points = []
    for k in range(1, kmax_limit):
        log_ratio = math.log((k + 1) * (k + d - 1) / (k * (k + d - 2)))

        def gap(beta, k=k, log_ratio=log_ratio):
            return log_ratio + float(_log_bessel_i(k + 1 + nu, beta) - _log_bessel_i(k + nu, beta))

        lo, hi = 1e-3, float((k + 1 + nu) ** 2)
        while gap(hi) <= 0.0:
            hi *= 2.0
        points.append(optimize.brentq(gap, lo, hi, xtol=1e-12, rtol=1e-14))
    return np.array(points)


def gegenbauer_coefficients(beta, d, K):
    """Coefficients b_k of ``e^{βt} = Σ_k b_k C_k^ν(t)``, k = 0..K, ν = (d-2)/2.

    .. math::

        b_k = Γ(ν) (β/2)^{-ν} (k+ν) I_{k+ν}(β) \\quad (d >= 3), \\qquad
        e^{βt} = I_0(β) + 2 \\sum_{k \\ge 1} I_k(β) T_k(t) \\quad (d = 2).

    At d = 2 (ν = 0) ``C_k^0`` vanishes identically, so the basis is the Chebyshev
    polynomials ``T_k`` (the limit of ``C_k^ν/ν``): ``b_0 = I_0(β)``, ``b_k = 2 I_k(β)``.
    The Funk–Hecke eigenvalue is ``λ_k = b_k C_k^ν(1) / dim H_k``, which the tests check
    against :func:`funk_hecke_eigenvalue`. Values grow like ``e^{|β|}``: they overflow
    beyond |β| ≈ 700. For |β| < 1e-8 the leading term of the Bessel series is used,
    ``(β/2)^{-ν} I_{k+ν}(β) = (β/2)^k / Γ(k+ν+1)`` (exact to rounding there).

    Parameters
    ----------
    beta : float
        |β| <= 1e9 (β < 0 flips the sign of odd coefficients).
    d : int, >= 2
        Ambient dimension.
    K : int, >= 0
        Highest degree returned.

    Returns
    -------
    ndarray, shape (K + 1,)
        b_0, ..., b_K.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.1; DLMF 18.12 (generating functions).
    """
    beta = _check_beta(beta)
    d = _check_dimension(d)
    K = check_int(K, "K", low=0)
    check_memory(8 * (K + 1) * (3 * _SERIES_TERMS + 8), f"K = {K} degrees")
    nu = (d - 2) / 2.0
    k = np.arange(K + 1, dtype=np.float64)
    if beta == 0.0:
        out = np.zeros(K + 1)
        out[0] = 1.0
        return out
    x = abs(beta)
    weight = np.where(k == 0, 1.0, 2.0)  # d = 2: the Chebyshev expansion
    if x < _TINY_BETA:  # leading term, without the cancellation of ν log(β/2)
        log_scaled = k * (math.log(x) - _LOG2) - special.gammaln(k + nu + 1.0)
        out = np.exp(log_scaled) * weight if d == 2 else np.exp(special.gammaln(nu) + np.log(k + nu) + log_scaled)
    else:
        log_i = _log_bessel_i(k + nu, x)
        with np.errstate(over="ignore"):
            if d == 2:
                out = np.exp(log_i) * weight
            else:
                out = np.exp(special.gammaln(nu) - nu * math.log(x / 2.0) + np.log(k + nu) + log_i)
    if beta < 0:
        out = np.where(k % 2 == 1, -out, out)
    return out


def growth_rate_continuous(kappa, beta, d=2, model="usa"):
    """The closed form of the growth rate at a real degree κ >= 0 (a smooth curve through γ_k).

    .. math:: γ(κ) = κ(κ+d-2)\\,Γ(d/2)\\,2^{ν} β^{-1-ν} I_{κ+ν}(β), \\quad ν = (d-2)/2

    (SA: divided by ``Γ(d/2)(2/β)^ν I_ν(β)``, see :func:`growth_rate`), with the modified
    Bessel function of real order. At integer κ it is :func:`growth_rate` bit for bit; its
    maximiser κ* lies within one of k_max. Computed from logarithms like
    :func:`growth_rate` (USA values overflow to ``inf`` beyond β ≈ 700).

    Parameters
    ----------
    kappa : float or array_like of float, >= 0
        Real degree(s).
    beta : float, in (0, 1e9]
        Inverse temperature (for β <= 0 only integer degrees have a rate).
    d : int, >= 2
        Ambient dimension.
    model : {"usa", "sa"}
        Attention model.

    Returns
    -------
    float or ndarray
        γ(κ) with the shape of ``kappa``.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.1 (the rate as a function of k).
    """
    scalar = np.ndim(kappa) == 0
    kappa = check_array(kappa, "kappa")
    if np.any(kappa < 0):
        raise ValueError(f"kappa must be >= 0, got min {kappa.min()}")
    beta = _check_beta(check_real(beta, "beta", low=0.0, low_open=True))
    d = _check_dimension(d)
    model = check_model(model)
    with np.errstate(over="ignore"):
        out = np.exp(_log_abs_rate(kappa, beta, d, model))
    return float(out[0]) if scalar else out


def relative_rate_gap(beta, d=2, model="usa"):
    """Relative gap between the two largest growth rates, ``(γ_(1) - γ_(2)) / γ_(1)``.

    .. math:: \\frac{γ_{(1)} - γ_{(2)}}{γ_{(1)}} = 1 - e^{\\log γ_{(2)} - \\log γ_{(1)}},
              \\qquad γ_{(1)} = γ_{k_{max}} \\ge γ_{(2)} \\ge \\dots \\ (k \\ge 1)

    It sets how fast k_max takes over in the linear phase: at the time ``ln N/(2γ_max)``
    the runner-up lags by the factor ``N^{-gap/2}``. The gap vanishes at the switch points
    of :func:`kmax_switch_points`. It does not depend on the model (SA and USA rates differ
    by a k-independent factor) and is computed from the k-dependent part of ``log γ_k``,
    ``log(k(k+d-2)) + log(I_{k+ν}(β) e^{-β})`` near k_max, so it never overflows and keeps
    full precision at large β. At β = 0 only γ_1 is positive and the gap is 1.

    Parameters
    ----------
    beta : float, in [0, 1e9]
        Inverse temperature.
    d : int, >= 2
        Ambient dimension.
    model : {"usa", "sa"}
        Attention model (accepted for symmetry; the answer does not depend on it).

    Returns
    -------
    float
        The relative gap, in [0, 1].

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4 (mode competition in the linear phase).
    """
    beta = _check_beta(beta, low=0.0)
    d = _check_dimension(d)
    check_model(model)
    if beta == 0.0:
        return 1.0
    logs = np.sort(_log_rate_profile(_kmax_window(beta, d), beta, d))
    return float(-np.expm1(logs[-2] - logs[-1]))
