"""Tokens as particles on the sphere: initial conditions, velocity fields, energy, simulate.

Tokens x_1..x_N on S^{d-1} (Q = K = V = I) move by

- SA (self-attention):  dx_i/dt = P_{x_i}( Σ_j w_j e^{β<x_i,x_j>} x_j / Σ_k w_k e^{β<x_i,x_k>} ),
- USA (unnormalised):   dx_i/dt = P_{x_i}( Σ_j w_j e^{β<x_i,x_j>} x_j ),

with P_x y = y - <x,y> x and weights w_j = 1/N unless given (a weighted empirical
measure). On the circle, x = (cos θ, sin θ) and the USA field reads
dθ_i/dt = Σ_j w_j e^{β cos(θ_j-θ_i)} sin(θ_j-θ_i). Any finite β is accepted (β < 0 is
repulsive). References: Geshkovski, Letrouit, Polyanskiy, Rigollet, "A mathematical
perspective on transformers" (2023) for the model; Bruno, Pasqualotto, Agazzi,
"Emergence of meta-stable clustering in mean-field transformer models" (ICLR 2025).

Numerics. Every sum of exponentials is computed as e^{s_i} Σ_j w_j e^{β<x_i,x_j> - s_i}
with s_i = |β| (|β| <= 350, where no term can underflow) or the row maximum (larger
|β|): SA never overflows; USA is exact whenever the result fits in float64 and raises a
``ValueError`` otherwise. On the circle the field is also available exactly through its
Fourier modes (``velocity_circle(method="fourier")``), O(N·M) instead of O(N²).
"""

import contextlib
import functools
import math
import time
from dataclasses import dataclass

import numba
import numpy as np
from scipy import special

from . import _dormand_prince as _dp
from . import _kernels_circle as _kc
from . import _kernels_sphere as _ks
from ._validate import (
    check_angles,
    check_array,
    check_choice,
    check_int,
    check_model,
    check_real,
    check_rng,
    check_times,
    check_unit_rows,
    check_weights,
)

__all__ = [
    "uniform_sphere",
    "uniform_circle",
    "caps_sphere",
    "caps_circle",
    "equiangular_frame",
    "perturbed_uniform_circle",
    "angles_to_points",
    "attention",
    "velocity",
    "velocity_circle",
    "fourier_cutoff",
    "energy",
    "energy_circle",
    "simulate",
    "SimulationResult",
]

TWO_PI = 2.0 * np.pi
SHIFT_ALL_ROWS = 350.0  # |β| up to which s_i = |β| (e^{-2|β|} is still a normal float)
FOURIER_TOL = 1e-16  # relative tail of the mode coefficients dropped by the cut-off
FOURIER_MAX_BETA = 50.0  # "auto" uses Fourier only up to this |β|
FOURIER_COST_RATIO = 2.0  # "auto" uses Fourier when ratio * M <= N (measured crossover)
SA_FOURIER_ERR = 1e-13  # SA rows whose Fourier estimate may be off by more: direct sum
USA_MAX_BETA = 700.0  # simulate(model="usa") above this |β|: e^{β} overflows float64
ANGLE_LIMIT = 1e5  # angles beyond this are reduced mod 2π before the kernels
PARALLEL_MIN_WORK = 5e7  # kernel work (N·M or N²·d) below which one thread is faster (measured)


# ----------------------------------------------------------------------------------------
# Initial conditions
# ----------------------------------------------------------------------------------------


def uniform_sphere(n, d, rng=None):
    """N iid points from the uniform (surface) law on S^{d-1}.

    x = g / |g| with g a standard Gaussian vector in R^d.

    Parameters
    ----------
    n : int, >= 1
        Number of tokens.
    d : int, >= 2
        Ambient dimension (the sphere S^{d-1}).
    rng : numpy.random.Generator, int seed or None

    Returns
    -------
    ndarray, shape (n, d)
        Unit rows.

    References
    ----------
    Geshkovski et al., "A mathematical perspective on transformers" (2023).
    """
    n = check_int(n, "n", low=1)
    d = check_int(d, "d", low=2)
    g = check_rng(rng).standard_normal((n, d))
    return g / np.linalg.norm(g, axis=1, keepdims=True)


def uniform_circle(n, rng=None):
    """N iid angles from the uniform law on the circle.

    Parameters
    ----------
    n : int, >= 1
        Number of tokens.
    rng : numpy.random.Generator, int seed or None

    Returns
    -------
    ndarray, shape (n,)
        Angles in [0, 2π).

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), the uniform start of their Figure 2.
    """
    n = check_int(n, "n", low=1)
    return check_rng(rng).uniform(0.0, TWO_PI, n)


def caps_sphere(centers, n_per_cap, radius, rng=None):
    """Tokens drawn uniformly in geodesic caps of angular radius r around given centres.

    Around a centre c: x = cos(α) c + sin(α) u with u a uniform unit vector orthogonal to
    c and α the geodesic distance, whose law on [0, r] has density ∝ sin^{d-2} α (the
    exact uniform law on the cap; sampled by inverse CDF: sin²(α/2) follows a
    Beta((d-1)/2, (d-1)/2) law truncated to sin²(r/2)).

    Parameters
    ----------
    centers : array_like, shape (k, d)
        Unit rows, the cap centres.
    n_per_cap : int >= 1, or sequence of k ints >= 0
        Tokens per cap.
    radius : float in (0, π]
        Angular radius r of every cap (π is the whole sphere).
    rng : numpy.random.Generator, int seed or None

    Returns
    -------
    ndarray, shape (sum of n_per_cap, d)
        Unit rows, grouped by cap in the order of ``centers``.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), clustered configurations.
    """
    centers = check_unit_rows(centers, "centers")
    k, d = centers.shape
    counts = _check_counts(n_per_cap, k)
    radius = check_real(radius, "radius", low=0.0, high=np.pi, low_open=True)
    rng = check_rng(rng)
    a = 0.5 * (d - 1)
    u_max = special.betainc(a, a, math.sin(0.5 * radius) ** 2)
    out = []
    for c, m in zip(centers, counts):
        u = special.betaincinv(a, a, rng.uniform(0.0, u_max, m))
        alpha = 2.0 * np.arcsin(np.sqrt(u))
        g = rng.standard_normal((m, d))
        g -= np.outer(g @ c, c)
        g /= np.linalg.norm(g, axis=1, keepdims=True)
        x = np.cos(alpha)[:, None] * c + np.sin(alpha)[:, None] * g
        out.append(x / np.linalg.norm(x, axis=1, keepdims=True))
    return np.concatenate(out, axis=0)


def caps_circle(centers, n_per_cap, radius, rng=None):
    """Angles drawn uniformly in arcs [c - r, c + r] around given centre angles.

    Parameters
    ----------
    centers : array_like, shape (k,)
        Centre angles (radians).
    n_per_cap : int >= 1, or sequence of k ints >= 0
        Tokens per arc.
    radius : float in (0, π]
        Half-width r of every arc (π is the whole circle).
    rng : numpy.random.Generator, int seed or None

    Returns
    -------
    ndarray, shape (sum of n_per_cap,)
        Angles in [0, 2π), grouped by arc in the order of ``centers``.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), clustered configurations.
    """
    centers = check_angles(centers, "centers")
    counts = _check_counts(n_per_cap, centers.size)
    radius = check_real(radius, "radius", low=0.0, high=np.pi, low_open=True)
    rng = check_rng(rng)
    theta = np.concatenate([c + rng.uniform(-radius, radius, m) for c, m in zip(centers, counts)])
    return np.mod(theta, TWO_PI)


def equiangular_frame(n, d, rho=0.0):
    """N unit vectors in R^d with all pairwise inner products equal to ρ.

    The Gram matrix G = (1-ρ) I + ρ 11ᵀ has the symmetric square root
    G^{1/2} = sqrt(1-ρ) I + c 11ᵀ, c = (sqrt(1+(n-1)ρ) - sqrt(1-ρ))/n, whose rows are
    the tokens (ρ = 0 gives exactly x_i = e_i). At ρ = -1/(n-1) the rows span the
    hyperplane 1^⊥ and are written in an orthonormal basis of it: the regular simplex,
    which fits in d = n - 1 dimensions.

    Parameters
    ----------
    n : int, >= 1
        Number of tokens.
    d : int, >= 2
        Ambient dimension; needs n <= d, or n <= d + 1 when ρ = -1/(n-1).
    rho : float in [-1/(n-1), 1]
        Common inner product.

    Returns
    -------
    ndarray, shape (n, d)
        Unit rows.

    References
    ----------
    Rigollet, "The mean-field dynamics of transformers" (2025), the equiangular reduction.
    """
    n = check_int(n, "n", low=1)
    d = check_int(d, "d", low=2)
    low = -1.0 / (n - 1) if n > 1 else -1.0
    rho = check_real(rho, "rho", low=low, high=1.0)
    simplex = n > 1 and abs(rho - low) <= 1e-15
    rank = n - 1 if simplex else n
    if rank > d:
        raise ValueError(
            f"equiangular_frame: n = {n} vectors with rho = {rho} span {rank} dimensions, "
            f"more than d = {d}"
        )
    c = (math.sqrt(max(1.0 + (n - 1) * rho, 0.0)) - math.sqrt(1.0 - rho)) / n
    root = math.sqrt(1.0 - rho) * np.eye(n) + c
    if simplex:
        basis = np.linalg.qr(np.eye(n)[:, : n - 1] - 1.0 / n)[0]  # orthonormal basis of 1^⊥
        root = root @ basis
    X = np.zeros((n, d))
    X[:, : root.shape[1]] = root
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def perturbed_uniform_circle(n, k, amplitude, rng=None, phase=0.0):
    """N iid angles from the density (1 + a cos(k(θ - φ)))/(2π) on the circle.

    Sampled exactly by rejection: θ uniform, kept with probability
    (1 + a cos(k(θ-φ)))/(1 + |a|) (acceptance rate 1/(1+|a|) >= 1/2).

    Parameters
    ----------
    n : int, >= 1
        Number of tokens.
    k : int, >= 1
        Wave number of the perturbation.
    amplitude : float in [-1, 1]
        a, the relative amplitude.
    rng : numpy.random.Generator, int seed or None
    phase : float
        φ, the phase of the perturbation (radians).

    Returns
    -------
    ndarray, shape (n,)
        Angles in [0, 2π).

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4: perturbations of the uniform measure.
    """
    n = check_int(n, "n", low=1)
    k = check_int(k, "k", low=1)
    a = check_real(amplitude, "amplitude", low=-1.0, high=1.0)
    phase = check_real(phase, "phase")
    rng = check_rng(rng)
    out = np.empty(0)
    while out.size < n:
        m = 2 * (n - out.size) + 16
        theta = rng.uniform(0.0, TWO_PI, m)
        keep = rng.uniform(0.0, 1.0 + abs(a), m) < 1.0 + a * np.cos(k * (theta - phase))
        out = np.concatenate([out, theta[keep]])
    return out[:n]


def angles_to_points(theta):
    """Points x = (cos θ, sin θ) on S^1 for angles θ.

    Parameters
    ----------
    theta : array_like, shape (n,)
        Angles (radians).

    Returns
    -------
    ndarray, shape (n, 2)
        Unit rows.
    """
    theta = check_angles(theta)
    return np.stack([np.cos(theta), np.sin(theta)], axis=1)


def _check_counts(n_per_cap, k):
    """Return per-cap token counts (k ints >= 0, total >= 1) from an int or a sequence."""
    if np.ndim(n_per_cap) == 0:
        return [check_int(n_per_cap, "n_per_cap", low=1)] * k
    counts = [check_int(m, "n_per_cap", low=0) for m in n_per_cap]
    if len(counts) != k:
        raise ValueError(f"n_per_cap must be an int or hold one count per centre ({k}), got {len(counts)}")
    if sum(counts) < 1:
        raise ValueError("n_per_cap must give at least one token in total")
    return counts


# ----------------------------------------------------------------------------------------
# Velocity fields
# ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def _threads_for(work):
    """Run the kernels inside on one thread when the work is too small to share."""
    if work >= PARALLEL_MIN_WORK:
        yield
        return
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def _shifts(XT, w, beta, exclude_self):
    """Exponent shifts s_i: |β| when nothing can underflow, else the row maxima."""
    n = XT.shape[1]
    if abs(beta) <= SHIFT_ALL_ROWS:
        return np.full(n, abs(beta))
    shift = np.empty(n)
    _ks.row_max_exponent(XT, w, beta, exclude_self, shift)
    shift[~np.isfinite(shift)] = 0.0  # a row with no other token: its sums are 0
    return shift


def _pairwise(XT, w, beta, exclude_self):
    """(num, den, shift): the shifted sums of :func:`_ks.pairwise_sums` for tokens XT (d, n)."""
    d, n = XT.shape
    num = np.empty((n, d))
    den = np.empty(n)
    with _threads_for(float(n) * n * d):
        shift = _shifts(XT, w, beta, exclude_self)
        _ks.pairwise_sums(XT, w, beta, shift, num, den)
    return num, den, shift


def _rescale_usa(v, shift, beta):
    """Multiply row i of v by e^{s_i}; ValueError if the USA field overflows float64."""
    half = np.exp(0.5 * shift)
    with np.errstate(over="ignore", invalid="ignore"):
        v = (v * half.reshape((-1,) + (1,) * (v.ndim - 1))) * half.reshape((-1,) + (1,) * (v.ndim - 1))
    if not np.all(np.isfinite(v)):
        raise ValueError(
            f"the USA field overflows float64 at beta = {beta} (terms e^(beta<x_i,x_j>) "
            f"near e^{abs(beta):.0f}); use model='sa', or a smaller beta"
        )
    return v


def _sphere_velocity(X, w, beta, sa):
    """The SA/USA field at the rows of X (n, d), no validation."""
    XT = np.ascontiguousarray(X.T)
    num, den, shift = _pairwise(XT, w, beta, exclude_self=not sa)
    v = num - np.einsum("ij,ij->i", num, X)[:, None] * X
    if sa:
        return v / den[:, None]
    return _rescale_usa(v, shift, beta)


def _attention_average(X, w, beta, sa):
    """A_i = Σ_j w_j e^{β<x_i,x_j>} x_j (USA), divided by Σ_j w_j e^{β<x_i,x_j>} (SA); no validation."""
    num, den, shift = _pairwise(np.ascontiguousarray(X.T), w, beta, exclude_self=False)
    return num / den[:, None] if sa else _rescale_usa(num, shift, beta)


def attention(X, beta, model="sa", weights=None):
    """The output of one attention layer with Q = K = V = I at tokens on S^{d-1}.

    SA: A_i = Σ_j softmax_j(β<x_i,x_j>) x_j (a convex combination of the tokens);
    USA: A_i = Σ_j w_j e^{β<x_i,x_j>} x_j. The velocity of the token flow is the tangent
    part P_{x_i} A_i (see :func:`velocity`); normalisation schemes also use the radial part
    <x_i, A_i> and the norm |A_i|.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Unit rows, n >= 1, d >= 2.
    beta : float
        Inverse temperature β (any finite value).
    model : {"sa", "usa"}
    weights : array_like, shape (n,), optional
        Non-negative token masses summing to 1 (default 1/n each).

    Returns
    -------
    ndarray, shape (n, d)

    References
    ----------
    Vaswani et al., "Attention is all you need" (2017); Geshkovski et al. (2023), Section 2.
    """
    X = check_unit_rows(X, "X")
    beta = check_real(beta, "beta")
    sa = check_model(model) == "sa"
    return _attention_average(X, check_weights(weights, X.shape[0]), beta, sa)


def velocity(X, beta, model="usa", weights=None):
    """The SA or USA velocity field at tokens on S^{d-1}, by the direct O(N²) sum.

    USA: v_i = P_{x_i} Σ_j w_j e^{β<x_i,x_j>} x_j; SA divides by Σ_j w_j e^{β<x_i,x_j>}.
    Computed as e^{s_i} P_{x_i} Σ_j w_j e^{β<x_i,x_j> - s_i} x_j (see the module notes):
    SA is stable for every β; USA raises ``ValueError`` if the result overflows float64
    (|β| beyond ~700 with nearby tokens).

    Parameters
    ----------
    X : array_like, shape (n, d)
        Unit rows (|x_i| = 1 within 1e-8), n >= 1, d >= 2.
    beta : float
        Inverse temperature β (any finite value; β < 0 repels).
    model : {"usa", "sa"}
    weights : array_like, shape (n,), optional
        Non-negative token masses summing to 1 (default 1/n each).

    Returns
    -------
    ndarray, shape (n, d)
        Tangent vectors v_i (<v_i, x_i> = 0).

    References
    ----------
    Geshkovski et al., "A mathematical perspective on transformers" (2023), Eqs. (SA), (USA).
    """
    X = check_unit_rows(X, "X")
    beta = check_real(beta, "beta")
    sa = check_model(model) == "sa"
    w = check_weights(weights, X.shape[0])
    return _sphere_velocity(X, w, beta, sa)


@functools.lru_cache(maxsize=64)
def _fourier_coefficients(beta, tol=FOURIER_TOL):
    """(a, b, M): a_m = 2m I_m(β)/β e^{-|β|} and b_m = I_m(β) e^{-|β|}, m = 0..M.

    M is the smallest cut-off whose dropped tails, Σ_{m>M} |a_m| and 2 Σ_{m>M} |b_m|,
    are below tol times Σ_m |a_m| and b_0 + 2 Σ_m |b_m|.
    """
    if beta == 0.0:
        return np.array([0.0, 1.0]), np.array([1.0, 0.0]), 1
    m_cap = int(40 + 12 * math.sqrt(abs(beta)))
    while True:
        m = np.arange(m_cap + 1)
        b = special.ive(m, beta)
        a = 2.0 * m * b / beta
        tail_a = np.cumsum(np.abs(a)[::-1])[::-1]  # tail_a[m] = Σ_{k>=m} |a_k|
        tail_b = 2.0 * np.cumsum(np.abs(b)[::-1])[::-1]
        ok_a = tail_a <= tol * tail_a[1]
        ok_b = tail_b <= tol * (abs(b[0]) + tail_b[1])
        if ok_a[-1] and ok_b[-1]:
            cut = max(np.argmax(ok_a), np.argmax(ok_b), 2) - 1
            return a[: cut + 1].copy(), b[: cut + 1].copy(), cut
        m_cap *= 2


def fourier_cutoff(beta):
    """Number of Fourier modes M used by the exact circle velocity at inverse temperature β.

    e^{β cos φ} sin φ = Σ_{m>=1} a_m sin(mφ), a_m = 2m I_m(β)/β, and
    e^{β cos φ} = I_0(β) + 2 Σ_{m>=1} I_m(β) cos(mφ): M is the smallest cut-off whose
    dropped tails are below 1e-16 of the coefficient sums (M ≈ 30 at β = 5; it grows like
    sqrt(75 |β|) for large |β|).

    Parameters
    ----------
    beta : float
        Inverse temperature β.

    Returns
    -------
    int
        The cut-off M.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025); Abramowitz & Stegun 9.6.34 for the expansion.
    """
    return _fourier_coefficients(check_real(beta, "beta"))[2]


def _fourier_velocity(theta, w, beta, sa):
    """Circle velocity from the Fourier modes (angles with |θ| < ANGLE_LIMIT)."""
    a, b, M = _fourier_coefficients(beta)
    Z = np.empty((2, M + 1))
    n = theta.size
    out = np.empty(n)
    den = np.empty(n if sa else 1)
    with _threads_for(float(n) * M):
        _kc.fourier_moments(theta, w, M, Z)
        _kc.fourier_evaluate(theta, a * Z[1], -a * Z[0], 2.0 * b * Z[0], 2.0 * b * Z[1], b[0] * Z[0, 0], sa, out, den)
    if not sa:
        return _rescale_usa(out, np.full(n, abs(beta)), beta)
    # The Fourier sums carry an absolute error ~ eps Σ|a_m|; where the denominator is
    # small that error is amplified, and those rows are recomputed by the direct sum.
    err = 8.0 * np.finfo(float).eps * np.abs(a).sum() / np.abs(den)
    rows = np.flatnonzero(~(err <= SA_FOURIER_ERR))
    if rows.size:
        CS = np.empty((2, n))
        with _threads_for(float(n) * (rows.size + 100)):
            _kc.cos_sin(theta, CS)
            _kc.direct_rows_sa(CS, w, beta, rows, out)
    return out


def _direct_velocity_circle(theta, w, beta, sa):
    """Circle velocity by the direct O(N²) sum (angles with |θ| < ANGLE_LIMIT)."""
    CS = np.empty((2, theta.size))
    with _threads_for(theta.size * 100.0):
        _kc.cos_sin(theta, CS)
    num, den, shift = _pairwise(CS, w, beta, exclude_self=not sa)
    v = CS[0] * num[:, 1] - CS[1] * num[:, 0]
    if sa:
        return v / den
    return _rescale_usa(v, shift, beta)


def _circle_method(method, n, beta):
    """Resolve "auto" to "fourier" or "direct" for n tokens at inverse temperature β."""
    if method != "auto":
        return method
    if abs(beta) <= FOURIER_MAX_BETA and FOURIER_COST_RATIO * _fourier_coefficients(beta)[2] <= n:
        return "fourier"
    return "direct"


def _circle_velocity(theta, w, beta, sa, method):
    """Circle velocity by a resolved method ("fourier" or "direct"), no validation."""
    if method == "fourier":
        return _fourier_velocity(theta, w, beta, sa)
    return _direct_velocity_circle(theta, w, beta, sa)


def _reduce_angles(theta):
    """Angles reduced mod 2π when some are too large for the kernels' range reduction."""
    if np.abs(theta).max() > ANGLE_LIMIT:
        return np.mod(theta, TWO_PI)
    return theta


def velocity_circle(theta, beta, model="usa", method="auto", weights=None):
    """The SA or USA velocity of tokens on the circle, in angles.

    USA: dθ_i/dt = Σ_j w_j e^{β cos(θ_j-θ_i)} sin(θ_j-θ_i); SA divides by
    Σ_j w_j e^{β cos(θ_j-θ_i)}. With Z_m = Σ_j w_j e^{imθ_j} and a_m = 2m I_m(β)/β,

        USA:  v_i = Σ_{m=1}^{M} a_m Im(Z_m e^{-imθ_i}),
        SA:   v_i = that / (I_0(β) + 2 Σ_{m=1}^{M} I_m(β) Re(Z_m e^{-imθ_i})),

    exact up to the dropped tail (< 1e-16 relative, see :func:`fourier_cutoff`).
    Accuracy: ``"direct"`` is exact to rounding in each row (max-shifted exponents);
    ``"fourier"`` has an absolute error of a few ulp of the field scale
    e^{|β|} Σ|a_m| e^{-|β|} (USA), and for SA recomputes by the direct sum every row whose
    denominator is too small for 1e-13 accuracy.

    Parameters
    ----------
    theta : array_like, shape (n,)
        Angles (radians, any finite values).
    beta : float
        Inverse temperature β (any finite value; β < 0 repels).
    model : {"usa", "sa"}
    method : {"auto", "fourier", "direct"}
        ``"fourier"`` costs O(N·M), ``"direct"`` O(N²); ``"auto"`` uses Fourier when
        |β| <= 50 and 2 M <= N, the direct sum otherwise.
    weights : array_like, shape (n,), optional
        Non-negative token masses summing to 1 (default 1/n each).

    Returns
    -------
    ndarray, shape (n,)
        dθ_i/dt.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025); Geshkovski et al. (2023) for the model.
    """
    theta = _reduce_angles(check_angles(theta))
    beta = check_real(beta, "beta")
    sa = check_model(model) == "sa"
    method = check_choice(method, "method", ("auto", "fourier", "direct"))
    w = check_weights(weights, theta.size)
    return _circle_velocity(theta, w, beta, sa, _circle_method(method, theta.size, beta))


# ----------------------------------------------------------------------------------------
# Energy
# ----------------------------------------------------------------------------------------


def _finish_energy(log_sum, beta, log):
    """E_β (or log E_β) from log Σ_{i,j} w_i w_j e^{β<x_i,x_j>}."""
    if log:
        return log_sum - math.log(2.0 * beta)
    value = math.exp(log_sum) / (2.0 * beta) if log_sum < 709.0 else math.inf
    if not math.isfinite(value):
        raise ValueError(f"the energy overflows float64 at beta = {beta}; pass log=True for log E_beta")
    return value


def _check_energy_beta(beta, log):
    """β for the energy: finite and nonzero (positive when log=True)."""
    beta = check_real(beta, "beta")
    if beta == 0.0:
        raise ValueError(
            "beta must be nonzero: E_beta = (1/(2 beta)) sum_ij w_i w_j e^(beta<x_i,x_j>) is "
            "singular at beta = 0 (E_beta - 1/(2 beta) tends to |sum_i w_i x_i|^2 / 2)"
        )
    if log and beta < 0:
        raise ValueError(f"log=True needs beta > 0 (E_beta < 0 for beta < 0), got {beta}")
    return beta


def energy(X, beta, weights=None, log=False):
    """The USA interaction energy of tokens on S^{d-1}.

    E_β = (1/(2β)) Σ_{i,j} w_i w_j e^{β<x_i,x_j>}  (w_i = 1/N: (1/(2βN²)) Σ e^{β<x_i,x_j>}),
    which USA trajectories never decrease (they are its gradient ascent). Singular at
    β = 0, where a ``ValueError`` is raised. For large β, pass ``log=True`` to get
    log E_β (computed with e^{β} factored out, no overflow); without it an overflowing
    value raises ``ValueError``.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Unit rows.
    beta : float, nonzero
        Inverse temperature β (β > 0 when log=True).
    weights : array_like, shape (n,), optional
        Non-negative token masses summing to 1 (default 1/n each).
    log : bool
        Return log E_β instead of E_β.

    Returns
    -------
    float

    References
    ----------
    Geshkovski et al., "A mathematical perspective on transformers" (2023), Section 3.
    """
    X = check_unit_rows(X, "X")
    beta = _check_energy_beta(beta, log)
    w = check_weights(weights, X.shape[0])
    return _sphere_energy(np.ascontiguousarray(X.T), w, beta, log)


def _sphere_energy(XT, w, beta, log):
    """Energy from tokens XT (d, n) via the shifted row sums."""
    _, den, shift = _pairwise(XT, w, beta, exclude_self=False)
    terms = w * den
    top = shift.max()
    return _finish_energy(top + math.log(np.sum(terms * np.exp(shift - top))), beta, log)


def energy_circle(theta, beta, weights=None, log=False):
    """The USA interaction energy of tokens on the circle, in angles.

    E_β = (1/(2β)) Σ_{i,j} w_i w_j e^{β cos(θ_i-θ_j)}
        = (1/(2β)) (I_0(β) Z_0² + 2 Σ_{m>=1} I_m(β) |Z_m|²),  Z_m = Σ_j w_j e^{imθ_j},

    a sum of non-negative terms for β > 0 (O(N·M), used when M is small against N);
    otherwise the direct O(N²) sum. Singular at β = 0 (``ValueError``); ``log=True``
    returns log E_β without overflow.

    Parameters
    ----------
    theta : array_like, shape (n,)
        Angles (radians).
    beta : float, nonzero
        Inverse temperature β (β > 0 when log=True).
    weights : array_like, shape (n,), optional
        Non-negative token masses summing to 1 (default 1/n each).
    log : bool
        Return log E_β instead of E_β.

    Returns
    -------
    float

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025).
    """
    theta = _reduce_angles(check_angles(theta))
    beta = _check_energy_beta(beta, log)
    w = check_weights(weights, theta.size)
    if beta > 0 and _circle_method("auto", theta.size, beta) == "fourier":
        _, b, M = _fourier_coefficients(beta)
        Z = np.empty((2, M + 1))
        _kc.fourier_moments(theta, w, M, Z)
        total = b[0] * Z[0, 0] ** 2 + 2.0 * np.sum(b[1:] * (Z[0, 1:] ** 2 + Z[1, 1:] ** 2))
        return _finish_energy(beta + math.log(total), beta, log)
    CS = np.empty((2, theta.size))
    _kc.cos_sin(theta, CS)
    return _sphere_energy(CS, w, beta, log)


# ----------------------------------------------------------------------------------------
# Time integration
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SimulationResult:
    """States of a token system at the requested output times, and run statistics.

    Attributes
    ----------
    t : ndarray, shape (T,)
        Output times (exactly the requested ``t_eval``).
    states : ndarray, shape (T, n) or (T, n, d)
        Angles in [0, 2π) on the circle, unit rows on S^{d-1}.
    model, method : str
        ``"usa"``/``"sa"`` and ``"rk4"``/``"dopri"``.
    beta : float
    weights : ndarray, shape (n,)
        Token masses.
    dt : float
        RK4: the largest step (each output interval is cut into equal steps <= dt).
        Dopri: the initial step (later ones are chosen by the error control).
    n_steps, n_rejected, n_velocity_evals : int
        Accepted steps, rejected steps (dopri), velocity-field evaluations.
    wall_time : float
        Seconds spent in :func:`simulate`.
    """

    t: np.ndarray
    states: np.ndarray
    model: str
    method: str
    beta: float
    weights: np.ndarray
    dt: float
    n_steps: int
    n_rejected: int
    n_velocity_evals: int
    wall_time: float

    @property
    def on_circle(self):
        """True when the states are angles on the circle."""
        return self.states.ndim == 2


def _stiffness(beta, model):
    """L(β): a bound on the fastest rate of the field, 2e^{|β|} (USA), 2(1 + 2|β|) (SA)."""
    return 2.0 * math.exp(abs(beta)) if model == "usa" else 2.0 * (1.0 + 2.0 * abs(beta))




def simulate(
    x0,
    beta,
    t_eval,
    model="usa",
    method="rk4",
    dt=None,
    rtol=1e-8,
    atol=1e-10,
    progress=False,
    weights=None,
):
    """Integrate the SA or USA token dynamics and return the states at the times t_eval.

    dx_i/dt = v_i(x) (see :func:`velocity`, :func:`velocity_circle`) from x(0) = x0.
    ``x0`` of shape (n,) is a vector of angles (circle fast path: the exact Fourier
    velocity when it is faster); shape (n, d) holds points on S^{d-1}, and after every
    step each row is normalised (retraction), so |x_i| = 1 to rounding.

    - ``"rk4"``: classical Runge–Kutta, fixed step. Each interval between output times is
      cut into equal steps of length <= dt, so t_eval is hit exactly. Default
      dt = 1/L(β), L = 2e^{|β|} (USA) or 2(1 + 2|β|) (SA), a bound on the fastest
      contraction rate of the field (RK4 is stable for L·dt < 2.78).
    - ``"dopri"`` (alias ``"rk45"``): adaptive Dormand–Prince 5(4), local extrapolation,
      error norm RMS(err / (atol + rtol·max(|y|, |y_new|))) <= 1; steps are shortened to
      land on output times.

    Only the states at t_eval are stored; t_eval[0] may be > 0.

    Parameters
    ----------
    x0 : array_like, shape (n,) or (n, d)
        Initial angles, or initial unit rows (d >= 2).
    beta : float
        Inverse temperature β; |β| <= 700 for USA (beyond, e^{β} overflows float64).
    t_eval : array_like, shape (T,)
        Output times: >= 0, strictly increasing.
    model : {"usa", "sa"}
    method : {"rk4", "dopri", "rk45"}
    dt : float > 0, optional
        RK4 step (default 1/L(β)); dopri initial step (default: chosen from the field).
    rtol, atol : float > 0
        Dopri tolerances.
    progress : bool
        Show a tqdm progress bar.
    weights : array_like, shape (n,), optional
        Non-negative token masses summing to 1 (default 1/n each).

    Returns
    -------
    SimulationResult
        ``t``, ``states`` ((T, n) angles in [0, 2π), or (T, n, d)), run statistics.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Figure 2 (N = 2·10⁴, β = 5 on the circle);
    Hairer, Nørsett, Wanner, Solving Ordinary Differential Equations I (Dormand–Prince).
    """
    start = time.perf_counter()
    x0_arr = check_array(x0, "x0", ndim=(1, 2))
    circle = x0_arr.ndim == 1
    y = np.mod(x0_arr, TWO_PI) if circle else check_unit_rows(x0_arr, "x0").copy()
    beta = check_real(beta, "beta")
    model = check_model(model)
    t_eval = check_times(t_eval)
    method = check_choice(method, "method", ("rk4", "dopri", "rk45"))
    method = "dopri" if method == "rk45" else method
    if dt is not None:
        dt = check_real(dt, "dt", low=0.0, low_open=True)
    rtol = check_real(rtol, "rtol", low=0.0, low_open=True)
    atol = check_real(atol, "atol", low=0.0, low_open=True)
    n = y.shape[0]
    w = check_weights(weights, n)
    if model == "usa" and abs(beta) > USA_MAX_BETA:
        raise ValueError(
            f"beta = {beta}: the USA field e^(beta<x,y>) overflows float64 beyond |beta| = "
            f"{USA_MAX_BETA:g}; use model='sa'"
        )
    sa = model == "sa"
    counter = [0]
    if circle:
        circle_method = _circle_method("auto", n, beta)

        def field(state):
            counter[0] += 1
            return _circle_velocity(state, w, beta, sa, circle_method)

        def retract(state):
            return np.mod(state, TWO_PI)

    else:

        def field(state):
            counter[0] += 1
            return _sphere_velocity(state, w, beta, sa)

        def retract(state):
            return state / np.linalg.norm(state, axis=1, keepdims=True)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=float(t_eval[-1]), unit="t", desc=f"simulate {model} beta={beta:g}")
    try:
        if method == "rk4":
            step = dt if dt is not None else 1.0 / _stiffness(beta, model)
            states, n_steps, n_rejected = _run_rk4(field, retract, y, t_eval, step, bar)
        else:
            step = dt if dt is not None else _initial_step(field, y, t_eval[-1], rtol, atol, beta, model)
            states, n_steps, n_rejected = _run_dopri(field, retract, y, t_eval, step, rtol, atol, bar)
    finally:
        if bar is not None:
            bar.close()
    return SimulationResult(
        t=t_eval,
        states=states,
        model=model,
        method=method,
        beta=beta,
        weights=w,
        dt=step,
        n_steps=n_steps,
        n_rejected=n_rejected,
        n_velocity_evals=counter[0],
        wall_time=time.perf_counter() - start,
    )


def _run_rk4(field, retract, y, t_eval, dt, bar):
    """Fixed-step RK4 through the output times; returns (states, steps, 0)."""
    states = np.empty((t_eval.size,) + y.shape)
    t = 0.0
    n_steps = 0
    for k, t_out in enumerate(t_eval):
        span = t_out - t
        m = math.ceil(span / dt * (1.0 - 1e-12)) if span > 0 else 0
        h = span / m if m else 0.0
        for s in range(m):
            k1 = field(y)
            k2 = field(y + (0.5 * h) * k1)
            k3 = field(y + (0.5 * h) * k2)
            k4 = field(y + h * k3)
            y = retract(y + (h / 6.0) * (k1 + 2.0 * (k2 + k3) + k4))
            _advance(bar, t + (s + 1) * h)
        n_steps += m
        t = t_out
        states[k] = y
    return states, n_steps, 0


def _advance(bar, t):
    """Move the progress bar (if any) to time t."""
    if bar is not None:
        bar.update(min(t, bar.total) - bar.n)


def _error_norm(err, y, y_new, rtol, atol):
    """RMS of err / (atol + rtol max(|y|, |y_new|))."""
    scale = atol + rtol * np.maximum(np.abs(y), np.abs(y_new))
    return math.sqrt(np.mean((err / scale) ** 2))


def _initial_step(field, y, t_end, rtol, atol, beta, model):
    """A first dopri step: 0.01 |y|/|f(y)| in the error norm (Hairer), capped by 1/L and t_end."""
    f0 = field(y)
    scale = atol + rtol * np.abs(y)
    d0 = math.sqrt(np.mean((y / scale) ** 2))
    d1 = math.sqrt(np.mean((f0 / scale) ** 2))
    h = 0.01 * d0 / d1 if d0 > 1e-5 and d1 > 1e-5 else 1e-6
    return min(h, 1.0 / _stiffness(beta, model), max(t_end, 1e-12))


def _run_dopri(field, retract, y, t_eval, h, rtol, atol, bar):
    """Adaptive Dormand–Prince 5(4) through the output times; returns (states, steps, rejected)."""
    states = np.empty((t_eval.size,) + y.shape)
    t = 0.0
    n_steps = n_rejected = 0
    f = field(y)
    for k, t_out in enumerate(t_eval):
        while t < t_out:
            h_try = min(h, t_out - t)
            stages = [f]
            for i in range(1, 7):
                yi = y + h_try * sum(a * s for a, s in zip(_dp.A[i], stages) if a != 0.0)
                stages.append(field(yi))
            y5 = yi  # the last stage point is the 5th-order solution (FSAL)
            err = h_try * sum(e * s for e, s in zip(_dp.E, stages) if e != 0.0)
            norm = _error_norm(err, y, y5, rtol, atol)
            factor = 5.0 if norm == 0.0 else min(5.0, max(0.2, 0.9 * norm ** -0.2))
            if norm <= 1.0:
                last = t_out - t <= h_try
                t = t_out if last else t + h_try
                y = retract(y5)
                f = stages[6]  # FSAL: f(y5), reused at the retracted point (differs by O(h^5))
                n_steps += 1
                _advance(bar, t)
                h = max(h, h_try * factor) if last else h_try * factor
            else:
                n_rejected += 1
                h = h_try * factor
        states[k] = y
    return states, n_steps, n_rejected
