"""Unvalidated SA/USA fields of B independent token systems in one call, and their RK4 steps.

System b has its own tokens X_b (n, d) (or angles θ_b (n,)) and weights w_b; its field is
the field of :mod:`mtlib._field_eval` for that system alone, with the same stability
rules: exponents shifted by s_i = |β| (|β| <= SHIFT_ALL_ROWS) or by the row maximum over
the other tokens (larger |β|), the self term left out, the projection done as
v_i = num_i - c_i x_i with num_i = Σ_j w_j e_ij x_j and c_i = Σ_j w_j e_ij g_ij
(e_ij = e^{β g_ij - s_i}, g_ij = <x_i, x_j>; this is Σ_j w_j e_ij (x_j - g_ij x_i)),
tokens identical to x_i left out of every sum but the SA denominator (so duplicates give
0 field, as if merged), and the USA factor e^{s_i} applied last (overflow: ``ValueError``).
On the sphere G_b = X_b X_bᵀ and num_b = E_b X_b are BLAS products (numba's ``np.dot``),
one system at a time so that its data stay in cache; each system is computed by the same
arithmetic whatever the batch holds, so relabelling the systems permutes the results bit
for bit. :func:`sphere_rk4` and :func:`circle_rk4` take whole RK4 steps of every system
in one call, with the arithmetic of :func:`mtlib._integrate.rk4_step` and the retraction
of :func:`mtlib.simulate` (rows normalised, angles mod 2π).

"batch" is this batched direct sum; the per-system fast paths (Fourier modes on the
circle, spherical harmonics on S^2) are run system by system where they are faster.
References: Geshkovski, Letrouit, Polyanskiy, Rigollet (2023) for the model.
"""

import math

import numba as nb
import numpy as np

from ._constants import TWO_PI
from ._field_eval import SHIFT_ALL_ROWS, circle_method, circle_velocity, threads_for
from ._harmonic_eval import resolve_sphere_method, sphere_field
from ._kernels_circle import sincos_poly
from ._kernels_sphere import FASTMATH, exp_poly

CIRCLE_METHODS = ("auto", "fourier", "direct")
# "auto" on the circle: the batched direct sum up to this many tokens per system, beyond
# it the per-system choice of simulate (Fourier when it is faster). Measured at β = 1 (RK4,
# B = 20): the batch is 2x the per-system Fourier loop at n = 96, they tie at n = 128, the
# loop is 4x faster at n = 256.
BATCH_CIRCLE_DIRECT_MAX_N = 128
# Work (flops of one field evaluation of the batch) from which numba's threads share the
# systems; below, one thread (numba's OpenMP threads spin between calls and slow down the
# BLAS products and a loaded machine, measured).
BATCH_PARALLEL_MIN_FLOPS = 1e9
# Multiply-adds n² d of one system's products from which BLAS is faster than loops (measured).
BLAS_MIN_PAIR_WORK = 128
_DUP_TOL = 4.0 * np.finfo(float).eps  # per coordinate: |g_ij - g_ii| of identical tokens in a BLAS product


@nb.njit(cache=True)
def _same_tokens(x, G, same):
    """same[i, j] = True when tokens i and j (rows of x (n, d)) are identical (the diagonal
    included); returns whether two distinct indices are. Only pairs whose g_ij is within
    the rounding of a dot product of g_ii and g_jj (always the case for identical tokens,
    rare otherwise) are compared coordinate by coordinate."""
    n, d = x.shape
    found = False
    for i in range(n):
        same[i, i] = True
        for j in range(i + 1, n):
            tol = _DUP_TOL * d * max(abs(G[i, i]), abs(G[j, j]))
            hit = abs(G[i, j] - G[i, i]) <= tol and abs(G[i, j] - G[j, j]) <= tol
            if hit:
                for k in range(d):
                    if x[i, k] != x[j, k]:
                        hit = False
                        break
            same[i, j] = hit
            same[j, i] = hit
            found = found or hit
    return found


@nb.njit(cache=True, fastmath=FASTMATH)
def _row_weights(G, w, same, dups, i, beta, big, e):
    """Row i: e_j = w_j e^{β g_ij - s_i} for the tokens j not identical to i (else 0).

    s_i = |β|, or for |β| > SHIFT_ALL_ROWS the largest β g_ij over those tokens with
    w_j > 0 (0 if there is none). Returns (s_i, Σ_j e_j, Σ_j e_j g_ij, the weight of the
    tokens identical to i).
    """
    n = G.shape[0]
    for j in range(n):
        e[j] = beta * G[i, j]
    own = w[i]
    e[i] = -np.inf
    if dups:
        for j in range(n):
            if same[i, j] and j != i:
                e[j] = -np.inf
                own += w[j]
    s_i = abs(beta)
    if big:
        best = -np.inf
        for j in range(n):
            if w[j] > 0.0 and e[j] > best:
                best = e[j]
        s_i = best if best > -np.inf else 0.0
    den = 0.0
    c = 0.0
    for j in range(n):
        x = w[j] * exp_poly(e[j] - s_i)
        e[j] = x
        den += x
        c += x * G[i, j]
    return s_i, den, c, own


@nb.njit(cache=True)
def _factor(beta, sa, s_i, den, own):
    """The factor of row i: 1 / (den + own e^{β - s_i}) (SA; 0 when that overflows), e^{s_i} (USA)."""
    if sa:
        self_term = own * math.exp(beta - s_i) if own > 0.0 else 0.0
        return 1.0 / (den + self_term)
    half = math.exp(0.5 * s_i)
    return half * half


@nb.njit(cache=True)
def _not_finite(v):
    """The number of entries of v that are not finite (compiled without fast-math, which
    may fold the test away)."""
    bad = 0
    for x in v.reshape(-1):
        if not math.isfinite(x):
            bad += 1
    return bad


@nb.njit(cache=True, fastmath=FASTMATH)
def _gram(x, G):
    """G = x xᵀ by loops (small systems, where a BLAS call costs more than the sums)."""
    n, d = x.shape
    for i in range(n):
        for j in range(i, n):
            s = 0.0
            for k in range(d):
                s += x[i, k] * x[j, k]
            G[i, j] = s
            G[j, i] = s


@nb.njit(cache=True, fastmath=FASTMATH)
def _weighted_rows(E, x, num):
    """num = E x by loops (small systems)."""
    n, d = x.shape
    for i in range(n):
        for k in range(d):
            num[i, k] = 0.0
        for j in range(n):
            e = E[i, j]
            for k in range(d):
                num[i, k] += e * x[j, k]


@nb.njit(cache=True, fastmath=FASTMATH)
def _pair_sums(x, w, beta, sa, G, E, same, num, c, factor):
    """For one system (points x (n, d), weights w): G = x xᵀ, the pair weights E (see
    :func:`_row_weights`), num = E x, c_i = Σ_j E_ij g_ij and the row factors; G, E,
    same (n, n), num (n, d), c, factor (n,) are written. The two products are BLAS calls
    from BLAS_MIN_PAIR_WORK multiply-adds (n² d) on, loops below."""
    n, d = x.shape
    blas = n * n * d >= BLAS_MIN_PAIR_WORK
    big = abs(beta) > SHIFT_ALL_ROWS
    if blas:
        np.dot(x, x.T, G)
    else:
        _gram(x, G)
    dups = _same_tokens(x, G, same)
    for i in range(n):
        s_i, den, c_i, own = _row_weights(G, w, same, dups, i, beta, big, E[i])
        c[i] = c_i
        factor[i] = _factor(beta, sa, s_i, den, own)
    if blas:
        np.dot(E, x, num)
    else:
        _weighted_rows(E, x, num)


@nb.njit(cache=True, fastmath=FASTMATH)
def _sphere_one(x, w, beta, sa, scratch, v):
    """v = the field of one system (tokens x (n, d), weights w), v_i = (num_i - c_i x_i) ×
    factor_i; scratch from :func:`_scratch`. Returns the number of entries that are not finite."""
    G, E, same, num, c, factor = scratch
    _pair_sums(x, w, beta, sa, G, E, same, num, c, factor)
    n, d = x.shape
    for i in range(n):
        for k in range(d):
            v[i, k] = (num[i, k] - c[i] * x[i, k]) * factor[i]
    return _not_finite(v)


@nb.njit(cache=True, fastmath=FASTMATH)
def _circle_one(theta, w, beta, sa, x, scratch, v):
    """v_i = <num_i, (-sin θ_i, cos θ_i)> × factor_i = Σ_j w_j e^{β cos(θ_j - θ_i) - s_i}
    sin(θ_j - θ_i) × factor_i for one system of angles theta (n,) (the points x (n, 2) are
    written); scratch from :func:`_scratch`. Returns the number of entries that are not finite."""
    G, E, same, num, c, factor = scratch
    n = theta.size
    for i in range(n):
        x[i, 0], x[i, 1] = sincos_poly(theta[i])
    if 2 * n * n >= BLAS_MIN_PAIR_WORK:
        _pair_sums(x, w, beta, sa, G, E, same, num, c, factor)
        for i in range(n):
            v[i] = (x[i, 0] * num[i, 1] - x[i, 1] * num[i, 0]) * factor[i]
        return _not_finite(v)
    # a few tokens: the same sums written out for d = 2 (loops over d cost more than they do)
    for i in range(n):
        for j in range(i, n):
            g = x[i, 0] * x[j, 0] + x[i, 1] * x[j, 1]
            G[i, j] = g
            G[j, i] = g
    dups = _same_tokens(x, G, same)
    big = abs(beta) > SHIFT_ALL_ROWS
    for i in range(n):
        e = E[i]
        s_i, den, _, own = _row_weights(G, w, same, dups, i, beta, big, e)
        acc = 0.0
        for j in range(n):
            acc += e[j] * (x[j, 1] * x[i, 0] - x[j, 0] * x[i, 1])
        v[i] = acc * _factor(beta, sa, s_i, den, own)
    return _not_finite(v)


@nb.njit(cache=True)
def _scratch(n, d):
    """The work arrays of :func:`_pair_sums` for n tokens in d dimensions."""
    return (np.empty((n, n)), np.empty((n, n)), np.empty((n, n), dtype=np.bool_), np.empty((n, d)),
            np.empty(n), np.empty(n))


@nb.njit(cache=True, parallel=True)
def sphere_batch(X, W, beta, sa, out):
    """out[b] = the SA/USA field of system b (tokens X[b] (n, d), weights W[b]); returns the
    number of entries that are not finite (the USA field overflowed)."""
    B, n, d = X.shape
    bad = 0
    for b in nb.prange(B):
        bad += _sphere_one(X[b], W[b], beta, sa, _scratch(n, d), out[b])
    return bad


@nb.njit(cache=True, parallel=True)
def circle_batch(theta, W, beta, sa, out):
    """out[b] = the SA/USA circle field of system b (angles theta[b] (n,), weights W[b]);
    returns the number of entries that are not finite."""
    B, n = theta.shape
    bad = 0
    for b in nb.prange(B):
        bad += _circle_one(theta[b], W[b], beta, sa, np.empty((n, 2)), _scratch(n, 2), out[b])
    return bad


@nb.njit(cache=True)
def _rk4_combine(y, k1, k2, k3, k4, h, out):
    """out = y + (h/6)((k1 + 2(k2 + k3)) + k4), rounded as :func:`mtlib._integrate.rk4_step`
    rounds it in NumPy (no fused multiply-adds)."""
    sixth = h / 6.0
    y, k1, k2, k3, k4, out = y.reshape(-1), k1.reshape(-1), k2.reshape(-1), k3.reshape(-1), k4.reshape(-1), out.reshape(-1)
    for i in range(y.size):
        out[i] = y[i] + sixth * ((k1[i] + 2.0 * (k2[i] + k3[i])) + k4[i])


@nb.njit(cache=True)
def _stage(y, k, a, out):
    """out = y + a k (rounded as NumPy: the product, then the sum)."""
    y, k, out = y.reshape(-1), k.reshape(-1), out.reshape(-1)
    for i in range(y.size):
        out[i] = y[i] + a * k[i]


@nb.njit(cache=True, parallel=True)
def sphere_rk4(Y, W, beta, sa, m, h):
    """m RK4 steps of length h for every system of Y (B, n, d), in place, each state
    retracted (rows normalised) after each step; returns the number of non-finite field entries."""
    B, n, d = Y.shape
    bad = 0
    for b in nb.prange(B):
        y = Y[b]
        w = W[b]
        scratch = _scratch(n, d)
        k1 = np.empty((n, d))
        k2 = np.empty((n, d))
        k3 = np.empty((n, d))
        k4 = np.empty((n, d))
        z = np.empty((n, d))
        errors = 0
        for _ in range(m):
            errors += _sphere_one(y, w, beta, sa, scratch, k1)
            _stage(y, k1, 0.5 * h, z)
            errors += _sphere_one(z, w, beta, sa, scratch, k2)
            _stage(y, k2, 0.5 * h, z)
            errors += _sphere_one(z, w, beta, sa, scratch, k3)
            _stage(y, k3, h, z)
            errors += _sphere_one(z, w, beta, sa, scratch, k4)
            _rk4_combine(y, k1, k2, k3, k4, h, z)
            for i in range(n):
                s = 0.0
                for k in range(d):
                    s += z[i, k] * z[i, k]
                norm = math.sqrt(s)
                for k in range(d):
                    y[i, k] = z[i, k] / norm
            if errors:
                break
        bad += errors
    return bad


@nb.njit(cache=True, parallel=True)
def circle_rk4(Theta, W, beta, sa, m, h):
    """m RK4 steps of length h for every system of angles Theta (B, n), in place, angles
    wrapped to [0, 2π) after each step; returns the number of non-finite field entries."""
    B, n = Theta.shape
    bad = 0
    for b in nb.prange(B):
        y = Theta[b]
        w = W[b]
        x = np.empty((n, 2))
        scratch = _scratch(n, 2)
        k1 = np.empty(n)
        k2 = np.empty(n)
        k3 = np.empty(n)
        k4 = np.empty(n)
        z = np.empty(n)
        errors = 0
        for _ in range(m):
            errors += _circle_one(y, w, beta, sa, x, scratch, k1)
            _stage(y, k1, 0.5 * h, z)
            errors += _circle_one(z, w, beta, sa, x, scratch, k2)
            _stage(y, k2, 0.5 * h, z)
            errors += _circle_one(z, w, beta, sa, x, scratch, k3)
            _stage(y, k3, h, z)
            errors += _circle_one(z, w, beta, sa, x, scratch, k4)
            _rk4_combine(y, k1, k2, k3, k4, h, z)
            for i in range(n):
                y[i] = np.mod(z[i], TWO_PI)
            if errors:
                break
        bad += errors
    return bad


def _overflow(beta):
    return ValueError(
        f"the USA field overflows float64 at beta = {beta} (terms e^(beta<x_i,x_j>) "
        f"near e^{abs(beta):.4g}); use model='sa', or a smaller beta"
    )


def _threads(Y, evaluations=1):
    """numba's threads for kernels doing ``evaluations`` field evaluations of the batch Y."""
    B, n = Y.shape[:2]
    d = Y.shape[2] if Y.ndim == 3 else 2
    flops = evaluations * float(B) * n * n * (4.0 * d + 30.0)
    return threads_for(flops if flops >= BATCH_PARALLEL_MIN_FLOPS else 0.0)


def direct_batch(Y, W, beta, sa):
    """The batched direct field of Y (B, n, d) unit rows or (B, n) angles, weights W (B, n)."""
    out = np.empty_like(Y)
    with _threads(Y):
        bad = (sphere_batch if Y.ndim == 3 else circle_batch)(Y, W, beta, sa, out)
    if bad:  # only USA can overflow: the SA factor is at most 1 / (own weight)
        raise _overflow(beta)
    return out


def rk4_batch(Y, W, beta, sa, m, h):
    """Advance every system of Y (B, n, d) or (B, n) by m RK4 steps of length h, in place."""
    with _threads(Y, 4 * m):
        bad = (sphere_rk4 if Y.ndim == 3 else circle_rk4)(Y, W, beta, sa, m, h)
    if bad:
        raise _overflow(beta)


def resolve_batch_method(field_method, n, d, beta):
    """The method of each system's field: "batch" (the batched direct sum) or the method
    ("harmonic", "fourier") that the per-system loop uses; d = None on the circle."""
    if d is None:
        if field_method == "direct":
            return "batch"
        if field_method == "auto":
            if n <= BATCH_CIRCLE_DIRECT_MAX_N or circle_method("auto", n, beta) == "direct":
                return "batch"
        return "fourier"
    method = resolve_sphere_method(field_method, n, d, beta)
    return "batch" if method == "direct" else method


def batch_field(Y, W, beta, sa, how):
    """The fields of all systems of Y by a method of :func:`resolve_batch_method`, or by a
    function how(Y, W) of the stack (general attention, :mod:`._attention_eval`)."""
    if callable(how):
        return how(Y, W)
    if how == "batch":
        return direct_batch(Y, W, beta, sa)
    if Y.ndim == 2:
        return np.stack([circle_velocity(Y[b], W[b], beta, sa, how) for b in range(Y.shape[0])])
    return np.stack([sphere_field(Y[b], W[b], beta, sa, how) for b in range(Y.shape[0])])
