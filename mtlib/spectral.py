"""Linearisation around the uniform measure: Gegenbauer coefficients, growth rates, k_max.

On ``S^{d-1}`` the USA interaction potential is ``W(t) = e^{βt}/β`` and its linearisation
around the uniform measure is diagonal in spherical harmonics: the degree-k part grows
like ``e^{γ_k t}`` with ``γ_k = k(k+d-2) λ_k``, ``λ_k`` the Funk–Hecke eigenvalue of W.
This module gives the closed form (modified Bessel functions, also at a real degree κ), an
independent quadrature of the same numbers, ``k_max = argmax_k γ_k``, its switch points
and the relative gap between the two leading rates. With noise (generator DΔ_S) the
rates are ``k(k+d-2)(λ_k - D)`` (``diffusion=D`` in :func:`growth_rate`,
:func:`log_growth_rate`, :func:`kmax`), and the uniform measure is linearly stable above
:func:`critical_diffusion` ``= λ_1``. The Fourier and harmonic statistics
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

from ._bessel import MAX_BETA  # noqa: F401  (a public constant of this module since before the split)
from ._bessel import (
    LOG2, SERIES_TERMS, TINY_BETA, check_beta, check_diffusion, check_dimension, kmax_window, log_abs_rate,
    log_bessel_i, log_noisy_rate, log_rate_profile, noisy_kmax, rate_at_zero,
)
from ._constants import USA_MAX_BETA
from ._validate import check_array, check_degrees, check_int, check_memory, check_model, check_real

__all__ = [
    "growth_rate",
    "log_growth_rate",
    "growth_rate_quadrature",
    "funk_hecke_eigenvalue",
    "kmax",
    "critical_diffusion",
    "kmax_switch_points",
    "gegenbauer_coefficients",
    "growth_rate_continuous",
    "relative_rate_gap",
]

MAX_NODES = 3000  # Gauss–Jacobi rules cost O(nodes²): 3000 nodes take about 2 s
MAX_SWITCH_POINTS = 1000  # kmax_switch_points: one root find (about 5 ms) per point


# ----------------------------------------------------------------------------- growth rates


def growth_rate(k, beta, d=2, model="usa", diffusion=0.0):
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

    With noise (tokens ``dx = v dt + √(2D) dB`` on the sphere, mean field
    ``∂_t ρ + div(ρX[ρ]) = DΔ_S ρ``) the Laplacian adds ``-D k(k+d-2)`` on degree k:

    .. math:: γ_k(D) = k(k+d-2)\\,(λ_k - D), \\qquad γ_k^{SA}(D) = k(k+d-2)\\,(λ_k/Z_β - D),

    with ``λ_k = γ_k/(k(k+d-2))`` the Funk–Hecke eigenvalue of ``W(t) = e^{βt}/β`` and
    ``Z_β = Γ(d/2)(2/β)^ν I_ν(β) = ∫e^{β<x,y>}dσ(y)`` the SA denominator at the uniform
    measure (linearising ``X_SA = P_x ∫e^{β<x,y>}y dμ / ∫e^{β<x,y>}dμ`` at σ: the
    numerator vanishes there, so only its first variation counts, divided by the
    constant ``Z_β``). ``diffusion = 0`` returns the noiseless values bit for bit.

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
    diffusion : float, >= 0
        Noise strength D (generator DΔ_S; time in the units of :func:`mtlib.simulate`).

    Returns
    -------
    float or ndarray
        γ_k(D) with the shape of ``k`` (a float for scalar ``k``).

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.1 (linear phase); for the noisy rates,
    Carrillo, Gvalani, Pavliotis, Schlichting (arXiv:1806.01719), Section 4.
    """
    k, scalar = check_degrees(k)
    beta = check_beta(beta)
    d = check_dimension(d)
    model = check_model(model)
    diffusion = check_diffusion(diffusion)
    if beta == 0.0:
        out = rate_at_zero(k, d)
    else:
        with np.errstate(over="ignore"):
            out = np.exp(log_abs_rate(k, abs(beta), d, model))
        if beta < 0:
            out = np.where(k % 2 == 1, out, -out)
    if diffusion > 0.0:
        out = out - diffusion * (k * (k + d - 2.0))
    return float(out) if scalar else out


def log_growth_rate(k, beta, d=2, model="usa", diffusion=0.0):
    """Natural logarithm of the growth rate, ``log γ_k``, for β >= 0 (never overflows).

    .. math:: \\log γ_k = \\log(k(k+d-2)) + \\log Γ(d/2) + ν\\log 2 - (1+ν)\\log β + \\log I_{k+ν}(β)

    with ``log I`` taken from the power series (β <= 2) or from ``log(ive) + β``; see
    :func:`growth_rate` for the formula and the SA version. ``-inf`` where ``γ_k = 0``
    (k = 0, or k >= 2 at β = 0, or degrees so high that even the scaled Bessel function
    underflows).

    With ``diffusion = D > 0`` it is the logarithm of the noisy rate
    ``γ_k(D) = k(k+d-2)(λ_k - D)`` (:func:`growth_rate`), computed as
    ``log γ_k + log1p(-D/λ_k)`` so that it never overflows either: ``-inf`` where the rate
    is 0 (k = 0, or ``λ_k = D``), NaN where it is negative (the logarithm of a negative
    number, as ``np.log`` but without a warning). ``D = 0`` gives the noiseless values
    bit for bit.

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
    diffusion : float, >= 0
        Noise strength D.

    Returns
    -------
    float or ndarray
        ``log γ_k(D)`` with the shape of ``k``.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.1.
    """
    k, scalar = check_degrees(k)
    beta = check_beta(beta, low=0.0)
    d = check_dimension(d)
    model = check_model(model)
    diffusion = check_diffusion(diffusion)
    if beta == 0.0:
        with np.errstate(divide="ignore"):
            out = np.log(rate_at_zero(k, d))
    else:
        out = log_abs_rate(k, beta, d, model)
    if diffusion > 0.0:
        out = log_noisy_rate(out, k, d, diffusion)
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
    d = check_dimension(d)
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
    for j in range(1, SERIES_TERMS):
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
    d = check_dimension(d)
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


def kmax(beta, d=2, model="usa", diffusion=0.0):
    """The most unstable degree ``k_max = argmax_{k>=1} γ_k(β, d)``: the predicted cluster count.

    .. math:: k_{max} = \\operatorname{argmax}_{k \\ge 1} γ_k,
              \\qquad k_{max} \\approx \\sqrt{2β + ν^2} - ν \\ (β \\to ∞)

    SA and USA rates differ by a k-independent positive factor, so they share k_max.
    At β = 0 only γ_1 is positive, so ``k_max = 1``. For β < 0 only odd degrees grow
    (see :func:`growth_rate`) and k_max is the best odd degree. Exactly at a switch point
    (:func:`kmax_switch_points`) the smaller degree is returned. The degrees within 10 of
    the asymptotic value are compared through the k-dependent part of ``log γ_k``,
    ``log(k(k+d-2)) + log(I_{k+ν}(β) e^{-β})``, exact at any β.

    With noise, ``k_max(D) = argmax_{k>=1} k(k+d-2)(λ_k - D)`` over the degrees whose rate
    is positive (:func:`growth_rate`), and **0 when no rate is positive** (D at or above
    :func:`critical_diffusion`: the uniform measure is linearly stable; 0 is the neutral
    mass mode, so the return stays an int). Noise never selects more clusters:
    ``k_max(D) <= k_max(0)``, since the subtracted ``D k(k+d-2)`` increases in k, so only
    the degrees 1..k_max(0) are compared. The SA threshold differs (``λ_k/Z_β``), so
    ``model`` matters when D > 0. ``D = 0`` is the noiseless answer bit for bit.

    Parameters
    ----------
    beta : float
        Inverse temperature, |β| <= 1e9.
    d : int, >= 2
        Ambient dimension.
    model : {"usa", "sa"}
        Attention model (the answer depends on it only when ``diffusion > 0``).
    diffusion : float, >= 0
        Noise strength D.

    Returns
    -------
    int
        k_max >= 1, or 0 when ``diffusion > 0`` leaves no growing mode.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4 (number of meta-stable clusters).
    """
    beta = check_beta(beta)
    d = check_dimension(d)
    model = check_model(model)
    diffusion = check_diffusion(diffusion)
    if diffusion > 0.0:
        return noisy_kmax(beta, d, model, diffusion, kmax(beta, d, model))
    if beta == 0.0:
        return 1
    k = kmax_window(abs(beta), d)
    logs = log_rate_profile(k, abs(beta), d)
    if beta < 0:
        logs = np.where(k % 2 == 1, logs, -np.inf)
    return int(k[np.argmax(logs)])


def critical_diffusion(beta, d=2, model="usa"):
    """The noise D_c above which the uniform measure is linearly stable: ``max_k λ_k = λ_1``.

    .. math::

        D_c = \\max_{k \\ge 1} λ_k = λ_1 = Γ(d/2)\\,2^{ν} β^{-1-ν} I_{1+ν}(β)
        \\qquad (d = 2:\\ D_c = I_1(β)/β;\\ \\text{SA: } λ_1/Z_β = I_{1+ν}(β)/(β I_ν(β)))

    The noisy rates are ``γ_k(D) = k(k+d-2)(λ_k - D)`` (:func:`growth_rate`), so every
    mode k >= 1 decays iff D > λ_k for all k, i.e. D > max_k λ_k. Why the maximum is
    λ_1: for β > 0, ``λ_k = c(β) I_{k+ν}(β)`` with ``c(β) = Γ(d/2) 2^ν β^{-1-ν} > 0``
    independent of k, and ``I_{μ+1}(x)/I_μ(x) < x/(μ + 1/2 + sqrt(x² + (μ+1/2)²)) < 1``
    for x > 0, μ >= 0 (Amos 1974, Math. Comp. 28, eq. (16)), so λ_1 > λ_2 > ... > 0.
    For β < 0 the eigenvalues alternate, ``λ_k(β) = (-1)^{k+1} λ_k(|β|)``: even degrees
    are stable for every D >= 0 and the odd ones decrease, so again ``D_c = λ_1(β) =
    λ_1(|β|)`` (λ_1 is even in β). At β = 0, ``λ_1 = 1/d`` and ``λ_k = 0`` for k >= 2.
    For D < D_c, ``kmax(beta, d, model, diffusion=D) >= 1``; for D > D_c it is 0.
    USA values overflow to ``inf`` beyond |β| ≈ 700 like :func:`growth_rate`.

    Parameters
    ----------
    beta : float
        Inverse temperature, |β| <= 1e9.
    d : int, >= 2
        Ambient dimension.
    model : {"usa", "sa"}
        Attention model (SA divides λ_k by ``Z_β = Γ(d/2)(2/β)^ν I_ν(β)``).

    Returns
    -------
    float
        D_c > 0, in the time units of :func:`mtlib.simulate` (generator ``DΔ_S``).

    References
    ----------
    Carrillo, Gvalani, Pavliotis, Schlichting (arXiv:1806.01719), Section 4; Mun,
    Rosenzweig (arXiv:2604.16288), who write the threshold as a coupling ``K_# = 1/(2λ_1)``.
    """
    d = check_dimension(d)
    return growth_rate(1, beta, d, model) / (d - 1)


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
    d = check_dimension(d)
    kmax_limit = check_int(kmax_limit, "kmax_limit", low=1, high=MAX_SWITCH_POINTS)
    nu = (d - 2) / 2.0
    points = []
    for k in range(1, kmax_limit):
        log_ratio = math.log((k + 1) * (k + d - 1) / (k * (k + d - 2)))

        def gap(beta, k=k, log_ratio=log_ratio):
            return log_ratio + float(log_bessel_i(k + 1 + nu, beta) - log_bessel_i(k + nu, beta))

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
    beta = check_beta(beta)
    d = check_dimension(d)
    K = check_int(K, "K", low=0)
    check_memory(8 * (K + 1) * (3 * SERIES_TERMS + 8), f"K = {K} degrees")
    nu = (d - 2) / 2.0
    k = np.arange(K + 1, dtype=np.float64)
    if beta == 0.0:
        out = np.zeros(K + 1)
        out[0] = 1.0
        return out
    x = abs(beta)
    weight = np.where(k == 0, 1.0, 2.0)  # d = 2: the Chebyshev expansion
    if x < TINY_BETA:  # leading term, without the cancellation of ν log(β/2)
        log_scaled = k * (math.log(x) - LOG2) - special.gammaln(k + nu + 1.0)
        out = np.exp(log_scaled) * weight if d == 2 else np.exp(special.gammaln(nu) + np.log(k + nu) + log_scaled)
    else:
        log_i = log_bessel_i(k + nu, x)
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
    beta = check_beta(check_real(beta, "beta", low=0.0, low_open=True))
    d = check_dimension(d)
    model = check_model(model)
    with np.errstate(over="ignore"):
        out = np.exp(log_abs_rate(kappa, beta, d, model))
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
    beta = check_beta(beta, low=0.0)
    d = check_dimension(d)
    check_model(model)
    if beta == 0.0:
        return 1.0
    logs = np.sort(log_rate_profile(kmax_window(beta, d), beta, d))
    return float(-np.expm1(logs[-2] - logs[-1]))
