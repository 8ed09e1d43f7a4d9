"""Linearisation around the uniform measure: Gegenbauer coefficients, growth rates, k_max.

On ``S^{d-1}`` the USA interaction potential is ``W(t) = e^{βt}/β`` and its linearisation
around the uniform measure is diagonal in spherical harmonics: the degree-k part grows
like ``e^{γ_k t}`` with ``γ_k = k(k+d-2) λ_k``, ``λ_k`` the Funk–Hecke eigenvalue of W.
This module gives the closed form (modified Bessel functions), an independent quadrature
of the same numbers, ``k_max = argmax_k γ_k`` and its switch points, and the Fourier and
harmonic statistics of empirical measures that the linear theory predicts.

Time is measured in the units of :func:`mtlib.simulate` (``dθ_i/dt = (1/N) Σ_j e^{β cos
(θ_j-θ_i)} sin(θ_j-θ_i)`` on the circle); the authors' notebook plotted ``γ_k/π``.

Reference: G. Bruno, F. Pasqualotto, A. Agazzi, *Emergence of meta-stable clustering in
mean-field transformer models*, ICLR 2025 (arXiv:2410.23228), Section 4.
"""

import math

import numpy as np
from scipy import optimize, special

from . import _kernels_circle as _kc
from ._validate import check_angles, check_int, check_model, check_real, check_unit_rows, check_weights

__all__ = [
    "growth_rate",
    "log_growth_rate",
    "growth_rate_quadrature",
    "funk_hecke_eigenvalue",
    "kmax",
    "kmax_switch_points",
    "gegenbauer_coefficients",
    "harmonic_dimension",
    "fourier_coefficients",
    "predicted_cluster_positions",
    "harmonic_power",
]

_SERIES_BETA = 2.0  # below this |β| the Bessel functions are summed from their power series
_SERIES_TERMS = 40  # (β²/4)^j / j! at β = 2, j = 40 is 1e-48: far below rounding
_BLOCK = 1024  # rows of the Gram matrix formed at once in harmonic_power (direct path)


# ----------------------------------------------------------------------------- helpers


def _check_dimension(d):
    return check_int(d, "d", low=2)


def _check_degrees(k, name="k"):
    """Return non-negative integer degrees as an int64 array (any shape) and a scalar flag."""
    arr = np.asarray(k)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise TypeError(f"{name} must be an integer or an array of integers, got {arr.dtype}")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0, got min {arr.min()}")
    return arr.astype(np.int64), arr.ndim == 0


def _log_bessel_i(mu, x):
    """log I_mu(x) for x > 0 and mu >= 0 (arrays broadcast), without overflow or underflow.

    Power series ``I_mu(x) = (x/2)^mu Σ_j (x²/4)^j / (j! Γ(mu+j+1))`` summed in logs for
    x <= 2; ``log(ive(mu, x)) + x`` above (``-inf`` where even the scaled value underflows).
    """
    mu, x = np.broadcast_arrays(np.asarray(mu, dtype=np.float64), np.asarray(x, dtype=np.float64))
    out = np.empty(mu.shape)
    small = x <= _SERIES_BETA
    if np.any(small):
        m, xs = mu[small], x[small]
        j = np.arange(_SERIES_TERMS)[:, None]
        terms = j * np.log(xs * xs / 4.0) - special.gammaln(j + 1.0) - special.gammaln(m + j + 1.0)
        out[small] = m * np.log(xs / 2.0) + special.logsumexp(terms, axis=0)
    big = ~small
    if np.any(big):
        with np.errstate(divide="ignore"):
            out[big] = np.log(special.ive(mu[big], x[big])) + x[big]
    return out


def _log_abs_rate(k, beta_abs, d, model):
    """log |γ_k(β)| at β = beta_abs > 0 for degrees k (int array); -inf for k = 0."""
    nu = (d - 2) / 2.0
    kf = k.astype(np.float64)
    with np.errstate(divide="ignore"):
        log_kk = np.log(kf * (kf + d - 2))
    log_i = _log_bessel_i(kf + nu, beta_abs)
    if model == "usa":
        return log_kk + special.gammaln(d / 2.0) + nu * math.log(2.0) - (1.0 + nu) * math.log(beta_abs) + log_i
    return log_kk - math.log(beta_abs) + log_i - _log_bessel_i(nu, beta_abs)


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
        Inverse temperature β, any finite real.
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
    k, scalar = _check_degrees(k)
    beta = check_real(beta, "beta")
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
    beta : float, >= 0
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
    k, scalar = _check_degrees(k)
    beta = check_real(beta, "beta", low=0.0)
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
    k : int, >= 0
        Degree.
    d : int, >= 2
        Ambient dimension.
    nodes : int, optional
        Number of Gauss–Jacobi nodes; default ``k + 80``.

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
    k = check_int(k, "k", low=0)
    d = _check_dimension(d)
    nodes = k + 80 if nodes is None else check_int(nodes, "nodes", low=1)
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
    (Gauss–Jacobi, no Bessel functions); for tests and teaching, not speed.

    Parameters
    ----------
    k : int, >= 0
        Degree.
    beta : float
        Inverse temperature (moderate |β|, say <= 100).
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
    k = check_int(k, "k", low=0)
    beta = check_real(beta, "beta")
    d = _check_dimension(d)
    model = check_model(model)
    if k == 0:
        return 0.0
    if beta == 0.0:
        potential = (lambda t: t) if k == 1 else (lambda t: 0.0 * t)
    else:
        potential = lambda t: _exp_remainder(beta * t, k) / beta  # noqa: E731
    rate = k * (k + d - 2) * funk_hecke_eigenvalue(potential, k, d)
    if model == "sa":
        rate /= funk_hecke_eigenvalue(lambda t: np.exp(beta * t), 0, d)
    return rate


def kmax(beta, d=2, model="usa"):
    """The most unstable degree ``k_max = argmax_{k>=1} γ_k(β, d)``: the predicted cluster count.

    .. math:: k_{max} = \\operatorname{argmax}_{k \\ge 1} γ_k,
              \\qquad k_{max} \\approx \\sqrt{2β + ν^2} - ν \\ (β \\to ∞)

    SA and USA rates differ by a k-independent positive factor, so they share k_max.
    At β = 0 only γ_1 is positive, so ``k_max = 1``. For β < 0 only odd degrees grow
    (see :func:`growth_rate`) and k_max is the best odd degree. Exactly at a switch point
    (:func:`kmax_switch_points`) the smaller degree is returned.

    Parameters
    ----------
    beta : float
        Inverse temperature, any finite real.
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
    beta = check_real(beta, "beta")
    d = _check_dimension(d)
    check_model(model)
    if beta == 0.0:
        return 1
    nu = (d - 2) / 2.0
    k_hi = int(2.0 * math.sqrt(2.0 * abs(beta) + nu * nu)) + 10
    k = np.arange(1, k_hi + 1)
    logs = _log_abs_rate(k, abs(beta), d, "usa")
    if beta < 0:
        logs = np.where(k % 2 == 1, logs, -np.inf)
    return int(k[np.argmax(logs)])


def kmax_switch_points(d, kmax_limit):
    """The β values where k_max moves from k to k+1, for k = 1, ..., kmax_limit - 1.

    .. math:: β_k:\\ γ_k(β_k) = γ_{k+1}(β_k), \\ \\text{i.e.}\\
              \\log\\frac{(k+1)(k+d-1)}{k(k+d-2)} + \\log\\frac{I_{k+1+ν}(β)}{I_{k+ν}(β)} = 0

    The left side increases in β (Bessel ratios increase to 1), so each root is unique;
    it is found by :func:`scipy.optimize.brentq` to 1e-12. For β in (β_{k-1}, β_k)
    ``kmax(β, d) = k`` (β_0 = 0). Checked values: d = 2: 1.044, 3.165, 6.211, 10.228,
    15.236; d = 3: 1.816, 4.425, 7.962, 12.48, 17.99.

    Parameters
    ----------
    d : int, >= 2
        Ambient dimension.
    kmax_limit : int, >= 1
        The largest k_max of interest; ``kmax_limit - 1`` points are returned.

    Returns
    -------
    ndarray, shape (kmax_limit - 1,)
        Increasing switch points β_1 < β_2 < ...

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.
    """
    d = _check_dimension(d)
    kmax_limit = check_int(kmax_limit, "kmax_limit", low=1)
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
    beyond |β| ≈ 700.

    Parameters
    ----------
    beta : float
        Any finite real (β < 0 flips the sign of odd coefficients).
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
    beta = check_real(beta, "beta")
    d = _check_dimension(d)
    K = check_int(K, "K", low=0)
    nu = (d - 2) / 2.0
    k = np.arange(K + 1, dtype=np.float64)
    if beta == 0.0:
        out = np.zeros(K + 1)
        out[0] = 1.0
        return out
    x = abs(beta)
    log_i = _log_bessel_i(k + nu, x)
    with np.errstate(over="ignore"):
        if d == 2:
            out = np.exp(log_i) * np.where(k == 0, 1.0, 2.0)
        else:
            out = np.exp(special.gammaln(nu) - nu * math.log(x / 2.0) + np.log(k + nu) + log_i)
    if beta < 0:
        out = np.where(k % 2 == 1, -out, out)
    return out


def harmonic_dimension(k, d):
    """Dimension of the space H_k of degree-k spherical harmonics on S^{d-1}.

    .. math:: \\dim H_k = \\frac{(2k+d-2)(k+d-3)!}{k!\\,(d-2)!}
              = \\binom{k+d-1}{d-1} - \\binom{k+d-3}{d-1}\\quad(k \\ge 1),\\ \\dim H_0 = 1

    (2 on the circle for every k >= 1, 2k+1 on S^2).

    Parameters
    ----------
    k : int or array of int, >= 0
        Degree(s).
    d : int, >= 2
        Ambient dimension.

    Returns
    -------
    int or ndarray of int
        dim H_k with the shape of ``k``.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.2 (higher dimensions).
    """
    k, scalar = _check_degrees(k)
    d = _check_dimension(d)
    dims = [1 if kk == 0 else math.comb(kk + d - 1, d - 1) - math.comb(kk + d - 3, d - 1) for kk in k.ravel()]
    if scalar:
        return int(dims[0])
    return np.array(dims, dtype=np.int64).reshape(k.shape)


# ----------------------------------------------------------------------------- empirical measures


def fourier_coefficients(theta, k, weights=None):
    """Fourier coefficients ``ĉ_k = Σ_j w_j e^{-ikθ_j}`` of an empirical measure on the circle.

    .. math:: ĉ_k = \\frac{1}{N} \\sum_{j=1}^{N} e^{-ikθ_j} \\quad (\\text{uniform weights})

    so ``ĉ_k = ∫ e^{-ikθ} dμ(θ)``, ``ĉ_0 = 1`` and ``ĉ_{-k} = conj(ĉ_k)``. For N iid
    uniform angles ``E|ĉ_k|² = 1/N`` (k ≠ 0).

    Parameters
    ----------
    theta : array_like, shape (N,)
        Angles in radians (any real values; only θ mod 2π matters).
    k : int or array of int
        Mode(s), any sign.
    weights : array_like, shape (N,), optional
        Probability weights (non-negative, summing to 1); default uniform 1/N.

    Returns
    -------
    complex or ndarray of complex
        ĉ_k with the shape of ``k``.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.1.
    """
    theta = check_angles(theta)
    w = check_weights(weights, theta.size)
    karr = np.asarray(k)
    if karr.dtype == bool or not np.issubdtype(karr.dtype, np.integer):
        raise TypeError(f"k must be an integer or an array of integers, got {karr.dtype}")
    flat = karr.ravel().astype(np.int64)
    top = int(np.abs(flat).max()) if flat.size else 0
    if top <= 4 * flat.size + 64:
        # All moments Z_m = Σ_j w_j e^{imθ_j}, m = 0..top, by the recurrence e^{imθ} = e^{iθ} e^{i(m-1)θ}
        # in one fused O(N·top) pass; ĉ_k = conj(Z_k) and ĉ_{-k} = Z_k.
        moments = np.empty((2, top + 1))
        _kc.fourier_moments(np.mod(theta, 2.0 * np.pi), w, top, moments)
        Z = moments[0, np.abs(flat)] + 1j * moments[1, np.abs(flat)]
        out = np.where(flat >= 0, np.conj(Z), Z)
    else:  # a few high modes: one complex exponential each
        out = np.array([np.dot(w, np.exp(-1j * m * theta)) for m in flat.astype(np.float64)])
    out = out.reshape(karr.shape)
    return complex(out) if karr.ndim == 0 else out


def predicted_cluster_positions(theta0, k, weights=None):
    """Where the linear theory puts the k clusters grown from the initial angles θ(0).

    .. math:: θ^*_j = \\frac{2πj - \\arg ĉ_k}{k} \\bmod 2π, \\quad j = 0, \\dots, k-1,
              \\qquad ĉ_k = \\frac{1}{N}\\sum_i e^{-ikθ_i(0)}

    The degree-k part of the density, ``(|ĉ_k|/π) cos(kθ + arg ĉ_k)``, grows without
    rotating (γ_k is real), so its maxima mark the clusters once mode k dominates.

    Parameters
    ----------
    theta0 : array_like, shape (N,)
        Initial angles in radians.
    k : int, >= 1
        Number of clusters (usually :func:`kmax`).
    weights : array_like, shape (N,), optional
        Probability weights; default uniform.

    Returns
    -------
    ndarray, shape (k,)
        The predicted positions in [0, 2π), increasing.

    Raises
    ------
    ValueError
        If ``ĉ_k`` vanishes (to rounding), so that the phase is undefined.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Theorem 4.2 and Figure 2.
    """
    k = check_int(k, "k", low=1)
    c = fourier_coefficients(theta0, k, weights)
    if abs(c) <= 1e-14:
        raise ValueError(f"the degree-{k} Fourier coefficient vanishes (|c_k| = {abs(c):.2g}): no predicted phase")
    positions = np.mod((2.0 * np.pi * np.arange(k) - np.angle(c)) / k, 2.0 * np.pi)
    return np.sort(positions)


def _power_circle(theta, w, k):
    if k == 0:
        return 1.0
    c = np.dot(w, np.exp(-1j * k * theta))
    return 2.0 * float(c.real**2 + c.imag**2)


def _power_sphere3(X, w, k):
    """4π Σ_{m=-k..k} |Σ_i w_i Y_k^m(x_i)|² via scipy's orthonormal spherical harmonics."""
    polar = np.arccos(np.clip(X[:, 2], -1.0, 1.0))
    azimuth = np.arctan2(X[:, 1], X[:, 0])
    m = np.arange(k + 1)[:, None]
    sums = np.zeros(k + 1, dtype=np.complex128)
    step = max(1, 2**20 // (k + 1))
    for s in range(0, X.shape[0], step):
        Y = special.sph_harm_y(k, m, polar[None, s : s + step], azimuth[None, s : s + step])
        sums += Y @ w[s : s + step]
    mult = np.where(np.arange(k + 1) == 0, 1.0, 2.0)
    return float(4.0 * np.pi * np.sum(mult * np.abs(sums) ** 2))


def _power_direct(X, w, k, d):
    """dim H_k Σ_{i,j} w_i w_j R_k(<x_i,x_j>), Gram rows formed _BLOCK at a time."""
    nu = (d - 2) / 2.0
    total = 0.0
    for s in range(0, X.shape[0], _BLOCK):
        t = np.clip(X[s : s + _BLOCK] @ X.T, -1.0, 1.0)
        r_prev, r = np.ones_like(t), t
        for n in range(1, k):  # R_{n+1} = (2(n+ν) t R_n - n R_{n-1}) / (n + 2ν)
            r_prev, r = r, (2.0 * (n + nu) * t * r - n * r_prev) / (n + 2.0 * nu)
        total += float(w[s : s + _BLOCK] @ ((r if k > 0 else r_prev) @ w))
    return harmonic_dimension(k, d) * total


def harmonic_power(X, k, weights=None, method="auto"):
    """Degree-k power ``||P_k μ||²`` of an empirical measure on S^{d-1} (addition theorem).

    .. math::

        ||P_k μ||^2 = \\dim H_k \\sum_{i,j} w_i w_j \\frac{C_k^ν(<x_i,x_j>)}{C_k^ν(1)}
        = \\sum_{m} \\Big| \\sum_i w_i\\, Y_{k,m}(x_i) \\Big|^2 \\cdot |S^{d-1}|

    with ``w_i = 1/N`` by default: the squared L²(σ) norm of the degree-k part of μ
    relative to the normalised surface measure σ. For N iid uniform points its mean is
    ``dim H_k / N`` (k >= 1); ``||P_0 μ||² = 1``. Methods: ``"direct"`` sums over all pairs
    (O(N² k), Gram matrix formed in blocks of 1024 rows, normalised Gegenbauer polynomials
    by their three-term recurrence); ``"harmonics"`` sums spherical harmonics,
    O(N·dim H_k) (d = 2: ``2|ĉ_k|²``; d = 3: scipy's ``sph_harm_y``); ``"auto"`` takes
    ``"harmonics"`` for d <= 3 and ``"direct"`` otherwise.

    Parameters
    ----------
    X : array_like, shape (N, d) or (N,)
        Unit rows (points on S^{d-1}, d >= 2), or angles on the circle.
    k : int, >= 0
        Degree.
    weights : array_like, shape (N,), optional
        Probability weights; default uniform.
    method : {"auto", "direct", "harmonics"}
        Summation method (see above).

    Returns
    -------
    float
        ``||P_k μ||²``.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.2; the addition theorem for spherical
    harmonics.
    """
    k = check_int(k, "k", low=0)
    if np.ndim(X) == 1:
        theta = check_angles(X, "X")
        X = np.column_stack([np.cos(theta), np.sin(theta)])
    else:
        X = check_unit_rows(X)
    n, d = X.shape
    w = check_weights(weights, n)
    if method not in ("auto", "direct", "harmonics"):
        raise ValueError(f"method must be one of ['auto', 'direct', 'harmonics'], got {method!r}")
    if method == "auto":
        method = "harmonics" if d <= 3 else "direct"
    if method == "harmonics":
        if d == 2:
            return _power_circle(np.arctan2(X[:, 1], X[:, 0]), w, k)
        if d == 3:
            return _power_sphere3(X, w, k)
        raise ValueError(f"method='harmonics' is implemented for d <= 3, got d = {d}; use 'direct'")
    return _power_direct(X, w, k, d)
