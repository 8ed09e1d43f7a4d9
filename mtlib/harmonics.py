"""Harmonic analysis of measures: Fourier coefficients on the circle, spherical-harmonic power.

The linear theory of :mod:`mtlib.spectral` is diagonal in spherical harmonics (Fourier
modes on the circle). This module measures those components: the Fourier coefficients
``ĉ_k = ∫ e^{-ikθ} dμ`` of an empirical measure and of a density on the grid of
:func:`mtlib.pde_grid`, the density with given Fourier coefficients, the dimension of the
degree-k harmonics, the degree-k power ``||P_k μ||²`` on S^{d-1}, and the cluster
positions that the leading Fourier mode predicts.

Reference: G. Bruno, F. Pasqualotto, A. Agazzi, *Emergence of meta-stable clustering in
mean-field transformer models*, ICLR 2025 (arXiv:2410.23228), Section 4.
"""

import math

import numpy as np
from scipy import special

from . import _kernels_circle as _kc
from ._constants import TWO_PI
from ._validate import (
    check_angles,
    check_array,
    check_degrees,
    check_int,
    check_memory,
    check_real,
    check_rng,
    check_unit_rows,
    check_weights,
    check_work,
    reduce_large_angles,
)

__all__ = [
    "harmonic_dimension",
    "fourier_coefficients",
    "density_fourier_coefficients",
    "density_from_fourier_coefficients",
    "random_fourier_coefficients",
    "predicted_cluster_positions",
    "harmonic_power",
    "harmonic_components",
]

_BLOCK = 1024  # rows of the Gram matrix formed at once in harmonic_power (direct path)
_GRAM_ENTRIES = 2**24  # entries of the Gram matrix formed at once in harmonic_components (128 MB)
MAX_MODE = 2**53  # |k| beyond which k and kθ are no longer distinct float64 values
_MAX_DIGITS = 4000  # harmonic_dimension: exact Python ints up to this many digits
_SPH_HARM_COST = 4  # one scipy sph_harm_y value costs about 4 elementary operations
_STEP_COST = 1000  # one Python-level step of a loop over degrees, in elementary operations


def harmonic_dimension(k, d):
    """Dimension of the space H_k of degree-k spherical harmonics on S^{d-1}.

    .. math:: \\dim H_k = \\frac{(2k+d-2)(k+d-3)!}{k!\\,(d-2)!}
              = \\binom{k+d-1}{d-1} - \\binom{k+d-3}{d-1}\\quad(k \\ge 1),\\ \\dim H_0 = 1

    (2 on the circle for every k >= 1, 2k+1 on S^2), computed exactly with ``math.comb``.

    Parameters
    ----------
    k : int or array of int, >= 0
        Degree(s).
    d : int, >= 2
        Ambient dimension.

    Returns
    -------
    int or ndarray of int
        dim H_k with the shape of ``k``: an exact Python int (up to 4000 digits) for a
        scalar ``k``, an int64 array otherwise (ValueError where a dimension exceeds int64).

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.2 (higher dimensions).
    """
    k, scalar = check_degrees(k)
    d = check_int(d, "d", low=2)
    top = int(k.max()) if k.size else 0
    if top > 0:  # log dim H_k = log(2k+d-2) + log Γ(k+d-2) - log Γ(k+1) - log Γ(d-1), largest at the top k
        log10_dim = (math.log(2 * top + d - 2) + math.lgamma(top + d - 2) - math.lgamma(top + 1)
                     - math.lgamma(d - 1)) / math.log(10)
        digits = _MAX_DIGITS if scalar else math.log10(np.iinfo(np.int64).max)
        if log10_dim > digits + 1:
            limit = f"the {_MAX_DIGITS} of an exact answer" if scalar else "int64 holds (a scalar k gives a Python int)"
            raise ValueError(f"dim H_k for k = {top}, d = {d} has about {log10_dim:.3g} digits, more than {limit}")
    dims = [1 if kk == 0 else math.comb(kk + d - 1, d - 1) - math.comb(kk + d - 3, d - 1) for kk in k.ravel()]
    if scalar:
        return int(dims[0])
    if max(dims, default=0) > np.iinfo(np.int64).max:
        raise ValueError(f"dim H_k for k = {top}, d = {d} exceeds int64; a scalar k gives an exact Python int")
    return np.array(dims, dtype=np.int64).reshape(k.shape)


# ----------------------------------------------------------------------------- Fourier coefficients on the circle


def fourier_coefficients(theta, k, weights=None):
    """Fourier coefficients ``ĉ_k = Σ_j w_j e^{-ikθ_j}`` of an empirical measure on the circle.

    .. math:: ĉ_k = \\frac{1}{N} \\sum_{j=1}^{N} e^{-ikθ_j} \\quad (\\text{uniform weights})

    so ``ĉ_k = ∫ e^{-ikθ} dμ(θ)``, ``ĉ_0 = 1`` and ``ĉ_{-k} = conj(ĉ_k)``. For N iid
    uniform angles ``E|ĉ_k|² = 1/N`` (k ≠ 0).

    Parameters
    ----------
    theta : array_like, shape (..., N)
        Angles in radians (any real values; only θ mod 2π matters, reduced exactly as
        ``np.cos``/``np.sin`` reduce them, see :func:`mtlib.angles_to_points`) on the last
        axis; leading axes (e.g. the output times of :func:`mtlib.simulate`) are kept.
    k : int or array of int, |k| <= 2**53
        Mode(s), any sign.
    weights : array_like, shape (N,), optional
        Probability weights (non-negative, summing to 1), the same for every row;
        default uniform 1/N.

    Returns
    -------
    complex or ndarray of complex
        ĉ_k with the shape ``theta.shape[:-1] + np.shape(k)`` (a complex for 1-D
        ``theta`` and scalar ``k``).

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.1.
    """
    if np.ndim(theta) == 0:
        raise ValueError("theta must hold the angles on its last axis, got a scalar")
    theta = reduce_large_angles(check_array(theta, "theta"))
    w = check_weights(weights, theta.shape[-1])
    karr = np.asarray(k)
    if karr.dtype == bool or not np.issubdtype(karr.dtype, np.integer):
        raise TypeError(f"k must be an integer or an array of integers, got {karr.dtype}")
    top = max(-int(karr.min()), int(karr.max())) if karr.size else 0  # no np.abs: it overflows at int64 min
    if top > MAX_MODE:
        raise ValueError(f"k must satisfy |k| <= 2**53 (kθ is computed in float64), got {karr.min()} to {karr.max()}")
    flat = karr.ravel().astype(np.int64)
    rows = theta.reshape(-1, theta.shape[-1])
    out = np.empty((rows.shape[0], flat.size), dtype=np.complex128)
    for r, row in enumerate(rows):
        if top <= 4 * flat.size + 64:
            # All moments Z_m = Σ_j w_j e^{imθ_j}, m = 0..top, by the recurrence e^{imθ} = e^{iθ} e^{i(m-1)θ}
            # in one fused O(N·top) pass; ĉ_k = conj(Z_k) and ĉ_{-k} = Z_k.
            moments = np.empty((2, top + 1))
            _kc.fourier_moments(np.mod(row, 2.0 * np.pi), w, top, moments)
            Z = moments[0, np.abs(flat)] + 1j * moments[1, np.abs(flat)]
            out[r] = np.where(flat >= 0, np.conj(Z), Z)
        else:  # a few high modes: one complex exponential each
            out[r] = [np.dot(w, np.exp(-1j * m * row)) for m in flat.astype(np.float64)]
    out = out.reshape(theta.shape[:-1] + karr.shape)
    return complex(out) if out.ndim == 0 else out


def density_fourier_coefficients(rho, k):
    """Fourier coefficients ``c_k = ∫ ρ(θ) e^{-ikθ} dθ`` of a function on the uniform grid.

    .. math:: c_k \\approx \\frac{2π}{M} \\sum_{j=0}^{M-1} ρ(θ_j) e^{-ikθ_j},
              \\qquad θ_j = 2πj/M \\ (:func:`mtlib.pde_grid`)

    the trapezoid rule, spectrally accurate for smooth periodic ρ (exact for trigonometric
    polynomials of degree < M - |k|), computed with one real FFT:
    ``np.fft.rfft(rho)[k] * 2π / M``. For a probability density ``c_0 = 1`` and
    ``c_{-k} = conj(c_k)``; for the empirical measure of tokens use
    :func:`fourier_coefficients`, which has the same normalisation.

    Parameters
    ----------
    rho : array_like, shape (..., M)
        Values on the grid ``2πj/M`` (the last axis), M >= 2; any real function (a
        density or a perturbation of one). Leading axes (e.g. time) are kept.
    k : int or array of int, |k| <= M // 2
        Mode(s), any sign (beyond M/2 the grid aliases modes).

    Returns
    -------
    complex or ndarray of complex
        ``c_k`` with shape ``rho.shape[:-1] + np.shape(k)`` (a complex for 1-D ``rho``
        and scalar ``k``).

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.1 (Fourier modes of the density).
    """
    rho = check_array(rho, "rho")
    if rho.ndim == 0 or rho.shape[-1] < 2:
        raise ValueError(f"rho must have at least 2 grid points on its last axis, got shape {rho.shape}")
    M = rho.shape[-1]
    karr = np.asarray(k)
    if karr.dtype == bool or not np.issubdtype(karr.dtype, np.integer):
        raise TypeError(f"k must be an integer or an array of integers, got {karr.dtype}")
    if karr.size and max(-int(karr.min()), int(karr.max())) > M // 2:
        raise ValueError(f"|k| must be <= M // 2 = {M // 2} (the grid aliases higher modes), got k from "
                         f"{karr.min()} to {karr.max()}")
    c = np.fft.rfft(rho, axis=-1)[..., np.abs(karr)] * TWO_PI / M
    out = np.where(karr >= 0, c, np.conj(c))
    return complex(out) if out.ndim == 0 else out


def density_from_fourier_coefficients(c, k, M):
    """The density ``ρ = (1 + 2 Re Σ_k c_k e^{ikθ}) / 2π`` on the grid from its modes k >= 1.

    .. math:: ρ(θ_j) = \\frac{1}{2π}\\Big(1 + 2\\,\\mathrm{Re} \\sum_{k} c_k e^{ikθ_j}\\Big),
              \\qquad θ_j = 2πj/M

    the real function of mass 1 whose Fourier coefficients (:func:`density_fourier_coefficients`)
    are ``c_0 = 1``, ``c_k`` and ``c_{-k} = conj(c_k)`` for the given modes and 0 for the
    others (while the modes stay below M/2). It is a probability density when the ``c_k``
    are small enough, e.g. ``Σ|c_k| <= 1/2``.

    Parameters
    ----------
    c : array_like of complex, shape (K,)
        Coefficients of the modes ``k``.
    k : array_like of int, shape (K,), each >= 1
        The distinct modes.
    M : int, >= 2
        Number of grid points (:func:`mtlib.pde_grid`).

    Returns
    -------
    ndarray, shape (M,)
        ρ on the grid.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.1.
    """
    c = np.asarray(c)
    if c.dtype == object or not np.issubdtype(c.dtype, np.number) or c.ndim != 1:
        raise TypeError(f"c must be a 1-D array of complex numbers, got dtype {c.dtype}, shape {c.shape}")
    if not np.all(np.isfinite(c)):
        raise ValueError("c must contain only finite values")
    k, _ = check_degrees(np.atleast_1d(k))
    if k.ndim != 1 or k.shape != c.shape:
        raise ValueError(f"k must have the shape of c, {c.shape}, got {k.shape}")
    if np.any(k < 1) or np.unique(k).size != k.size:
        raise ValueError(f"k must hold distinct modes >= 1, got {k}")
    M = check_int(M, "M", low=2)
    check_memory(40 * M * k.size + 16 * M, f"M = {M} grid points for {k.size} modes")
    grid = TWO_PI * np.arange(M) / M
    return (1.0 + 2.0 * np.real(np.exp(1j * np.outer(grid, k)) @ c)) / TWO_PI


def random_fourier_coefficients(shape, eps, rng=None):
    """Independent complex Gaussian Fourier coefficients of rms size ε (white noise on chosen modes).

    .. math:: c = ε\\,\\frac{ξ + iη}{\\sqrt 2}, \\qquad ξ, η \\ \\text{iid } N(0, 1),
              \\qquad E|c|^2 = ε^2

    all real parts ξ (an array of ``shape``) drawn first, then all imaginary parts η.
    ``mt.density_from_fourier_coefficients(c, k, M)`` turns a 1-D draw into the uniform
    density plus white noise on the modes ``k`` only (a noisy start on the invariant
    manifold of 2π/p-periodic densities when k holds the multiples of p);
    :func:`mtlib.white_noise_density` puts noise on every mode of a grid.

    Parameters
    ----------
    shape : int or tuple of int
        Shape of the output (e.g. ``K`` modes, or ``(draws, K)``).
    eps : float, >= 0
        rms modulus ε of each coefficient.
    rng : numpy.random.Generator, int or None
        Random source or seed.

    Returns
    -------
    ndarray of complex, shape ``shape``

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.3 (noisy initial data, Figure 4).
    """
    eps = check_real(eps, "eps", low=0.0)
    rng = check_rng(rng)
    size = (shape,) if np.ndim(shape) == 0 else tuple(shape)
    if not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 0 for n in size):
        raise TypeError(f"shape must be a non-negative int or a tuple of them, got {shape!r}")
    check_memory(48 * math.prod(int(n) for n in size), f"shape = {shape!r}")
    xi = rng.standard_normal(size)
    eta = rng.standard_normal(size)
    return eps * (xi + 1j * eta) / np.sqrt(2)


def predicted_cluster_positions(theta0, k, weights=None):
    """Where the linear theory puts the k clusters grown from the initial angles θ(0).

    .. math:: θ^*_j = \\frac{2πj - \\arg ĉ_k}{k} \\bmod 2π, \\quad j = 0, \\dots, k-1,
              \\qquad ĉ_k = \\frac{1}{N}\\sum_i e^{-ikθ_i(0)}

    The degree-k part of the density, ``(|ĉ_k|/π) cos(kθ + arg ĉ_k)``, grows without
    rotating (γ_k is real), so its maxima mark the clusters once mode k dominates.

    Parameters
    ----------
    theta0 : array_like, shape (N,)
        Initial angles in radians (any real values, reduced like :func:`fourier_coefficients`).
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
    theta0 = check_angles(theta0, "theta0")
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


def _power_direct(X, w, degrees, d):
    """dim H_k Σ_{i,j} w_i w_j R_k(<x_i,x_j>) for sorted distinct degrees, Gram rows formed _BLOCK at a time."""
    nu = (d - 2) / 2.0
    top = int(degrees[-1])
    wanted = {int(k): j for j, k in enumerate(degrees)}
    totals = np.zeros(degrees.size)
    for s in range(0, X.shape[0], _BLOCK):
        t = np.clip(X[s : s + _BLOCK] @ X.T, -1.0, 1.0)
        r, r_next = np.ones_like(t), t  # R_n and R_{n+1}, from n = 0
        for n in range(top + 1):
            if n in wanted:
                totals[wanted[n]] += float(w[s : s + _BLOCK] @ (r @ w))
            if n + 2 <= top:  # R_{m+1} = (2(m+ν) t R_m - m R_{m-1}) / (m + 2ν), m = n + 1
                m = n + 1
                r, r_next = r_next, (2.0 * (m + nu) * t * r_next - m * r) / (m + 2.0 * nu)
            else:
                r = r_next
    return harmonic_dimension(degrees, d) * totals


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
    ``"harmonics"`` for d <= 3 and ``"direct"`` otherwise. Several degrees at once share
    one pass of the recurrence (``"direct"``); each value equals the one-degree call.
    Calls that would take more than about 1e11 operations (minutes) raise ``ValueError``.

    Parameters
    ----------
    X : array_like, shape (N, d) or (N,)
        Unit rows (points on S^{d-1}, d >= 2), or angles on the circle.
    k : int or array_like of int, >= 0
        Degree(s).
    weights : array_like, shape (N,), optional
        Probability weights; default uniform.
    method : {"auto", "direct", "harmonics"}
        Summation method (see above).

    Returns
    -------
    float or ndarray
        ``||P_k μ||²``, with the shape of ``k`` (a float for a scalar ``k``).

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.2; the addition theorem for spherical
    harmonics.
    """
    k, scalar = check_degrees(k)
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
    degrees, where = np.unique(k, return_inverse=True)
    top = int(degrees[-1]) if degrees.size else 0
    what = f"k = {top} for N = {n} points on S^{d - 1} (method {method!r})"
    if method == "direct":  # O(N² k): Gram rows in blocks, one Python step per degree and block
        check_work((n * n + _STEP_COST * -(-n // _BLOCK)) * (top + 1), what)
    elif d == 3:  # O(N k²) values of sph_harm_y per degree
        check_work(_SPH_HARM_COST * n * (top + 1) ** 2 * degrees.size, what)
    if method == "direct":
        powers = _power_direct(X, w, degrees, d) if degrees.size else np.zeros(0)
    elif d == 2:
        theta = np.arctan2(X[:, 1], X[:, 0])
        powers = np.array([_power_circle(theta, w, kk) for kk in degrees])
    elif d == 3:
        powers = np.array([_power_sphere3(X, w, kk) for kk in degrees])
    else:
        raise ValueError(f"method='harmonics' is implemented for d <= 3, got d = {d}; use 'direct'")
    out = powers[where.reshape(k.shape)] if degrees.size else np.zeros(k.shape)
    return float(out) if scalar else out


def harmonic_components(X, K, points, weights=None):
    """The degree-k parts ``(P_k μ)(x)``, k = 1..K, of an empirical measure on S^{d-1} at given points.

    .. math:: (P_k μ)(x) = \\dim H_k \\sum_i w_i \\frac{C_k^ν(<x, x_i>)}{C_k^ν(1)}, \\quad ν = (d-2)/2

    (addition theorem): the density of the degree-k part of μ relative to the normalised
    surface measure σ, so that ``μ = σ(1 + Σ_{k>=1} P_k μ)`` as distributions and
    ``∫ (P_k μ)² dσ = ||P_k μ||²`` (:func:`harmonic_power`). The normalised Gegenbauer
    polynomials come from their three-term recurrence (Legendre on S², Chebyshev on the
    circle); the Gram matrix ``points @ X.T`` is formed in blocks of at most 2^24 entries.

    Parameters
    ----------
    X : array_like, shape (N, d)
        Unit rows: the points of the measure, d >= 2.
    K : int, >= 1
        Highest degree.
    points : array_like, shape (P, d)
        Unit rows where the components are evaluated.
    weights : array_like, shape (N,), optional
        Probability weights of the rows of X; default uniform 1/N.

    Returns
    -------
    ndarray, shape (K, P)
        Row k-1 holds ``(P_k μ)`` at the points.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.2 (the linear phase on S^{d-1}).
    """
    X = check_unit_rows(X)
    K = check_int(K, "K", low=1)
    points = check_unit_rows(points, "points")
    if points.shape[1] != X.shape[1]:
        raise ValueError(f"points must have d = {X.shape[1]} columns like X, got shape {points.shape}")
    w = None if weights is None else check_weights(weights, X.shape[0])
    d = X.shape[1]
    what = f"K = {K} degrees at P = {points.shape[0]} points for N = {X.shape[0]} tokens"
    check_memory(8 * K * points.shape[0] + 24 * min(points.shape[0] * X.shape[0], _GRAM_ENTRIES), what)
    blocks = -(-points.shape[0] // max(1, _GRAM_ENTRIES // X.shape[0]))
    check_work(K * (points.shape[0] * X.shape[0] + _STEP_COST * blocks), what)
    nu = (d - 2) / 2.0
    dims = harmonic_dimension(np.arange(1, K + 1), d)
    out = np.empty((K, points.shape[0]))
    rows = max(1, _GRAM_ENTRIES // X.shape[0])
    for s in range(0, points.shape[0], rows):
        t = np.clip(points[s : s + rows] @ X.T, -1.0, 1.0)
        r_prev, r = np.ones_like(t), t
        for n in range(K):  # r becomes R_{n+1} = (2(n+ν) t R_n - n R_{n-1}) / (n+2ν), R_0 = 1, R_1 = t
            if n > 0:
                r_prev, r = r, (2.0 * (n + nu) * t * r - n * r_prev) / (n + 2.0 * nu)
            out[n, s : s + rows] = dims[n] * (r.mean(axis=1) if w is None else r @ w)
    return out
