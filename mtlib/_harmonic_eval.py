"""Unvalidated SA/USA field and energy on S² by spherical harmonics; the choice of method.

By the addition theorem, e^{β<x,y>} = 4π Σ_l i_l(β) Σ_m Y_lm(x) Y_lm(y) (real orthonormal
harmonics, i_l the modified spherical Bessel functions), so with the moments
Q_lm = Σ_j w_j Y_lm(x_j),

    Φ(x) = Σ_j w_j e^{β<x,x_j>} = 4π Σ_{l<=L} i_l(β) Σ_m Q_lm Y_lm(x),
    USA:  v_i = Σ_j w_j e^{β<x_i,x_j>} P_{x_i} x_j = (1/β) ∇_S Φ(x_i),   SA:  v_i / Φ(x_i),

O(N L²) instead of O(N²). The self term has zero tangential gradient (it enters the SA
denominator only, as it should), and (1/β) ∇_S Φ is formed from g_l = i_l(β)/β, l >= 1,
which stays finite as β → 0. Everything is scaled by e^{-|β|} (the USA factor e^{|β|} is
applied last, with the ``ValueError`` of ``_field_eval.rescale_usa`` on overflow).
Accuracy: the expansion's rounding error is an absolute δ ~ eps e^{|β|} (see
:func:`error_bounds`); every row whose own scale Σ_{j≠i} w_j e^{β<x_i,x_j>} is too
small for δ to be HARMONIC_ERR relative to it (isolated tokens at large β, for SA and
USA alike) is recomputed by the direct sum, so each row is accurate to ~1e-13 of its
own scale, the error model of the direct sum. Identical tokens are merged first, as in
the direct path. Rows are normalised before use: off the sphere (the stages of an
integrator) the field is the one at x / |x|.
References: Abramowitz & Stegun 10.2.36 (the expansion of e^{βt}); Holmes & Featherstone,
J. Geodesy 76 (2002) 279 (the normalised recurrences).
"""

import functools
import math

import numba
import numpy as np

from . import _kernels_harmonic as _kh
from ._field_eval import SHIFT_ALL_ROWS, merge_duplicates, rescale_usa, sphere_velocity, threads_for
from ._validate import check_memory

HARMONIC_TOL = 1e-16  # relative tail of Σ (2l+1) i_l (and of the gradient's weights) dropped
HARMONIC_ERR = 1e-13  # rows whose harmonic error bound exceeds this relative to their scale: direct sum
# the constants of error_bounds, in units of eps: 3 times the largest ratio of measured
# error to estimate, which grows with the degree L (benchmarks/calibrate_harmonic_errors.py)
ERROR_CONSTANT_PHI = (1.5, 4.5)  # K_Φ(L) = max(1.5, 4.5 (L + 1) / 235)
ERROR_CONSTANT_MOMENTS = (4.0, 15.0)  # K_Q(L) = max(4, 15 (L + 1) / 235)
ERROR_CONSTANT_WEIGHTS = 20.0  # K_w
HARMONIC_MAX_BETA = 1000.0  # "auto" uses the harmonics only up to this |β| (L ≈ 300)
HARMONIC_BETA_LIMIT = 1e4  # |β| beyond which the harmonic path is refused (L = 881; 2^L must fit float64)
HARMONIC_COST_RATIO = 0.5  # "auto" uses the harmonics when ratio * (L + 1)² <= N (measured crossover: 0.35-0.6)
METHODS = ("auto", "direct", "harmonic")


def check_harmonic_beta(beta):
    """Refuse |β| > HARMONIC_BETA_LIMIT for the harmonic path (too many moments)."""
    if not abs(beta) <= HARMONIC_BETA_LIMIT:
        raise ValueError(
            f"beta = {beta}: the spherical harmonics need |beta| <= {HARMONIC_BETA_LIMIT:g} (their "
            f"degree grows like 9.5 sqrt(|beta|)); use method='direct'"
        )


@functools.lru_cache(maxsize=64)
def harmonic_coefficients(beta, tol=HARMONIC_TOL):
    """(c, g, L): c_l = 4π i_l(β) e^{-|β|}, g_l = c_l / β (g_0 = 0), l = 0..L.

    i_l(β)/i_{l-1}(β) = β t_l with t_l = 1 / (2l + 1 + β² t_{l+1}) (a continued fraction
    summed backwards from far beyond L, stable), i_0(β) e^{-|β|} = (1 - e^{-2|β|}) / (2|β|);
    so g_1 = i_0 t_1 and g_l = g_{l-1} β t_l have no 1/β, and i_l(-β) = (-1)^l i_l(β)
    comes out by itself. L is the smallest degree whose dropped tails Σ_{l>L} (2l+1) |c_l|
    and Σ_{l>L} (2l+1) sqrt(l(l+1)) |g_l| are below tol times their full sums.
    """
    check_harmonic_beta(beta)
    b = abs(beta)
    cap = int(30 + 14 * math.sqrt(b))
    for _ in range(8):  # the first cap suffices (L ≈ 9.5 sqrt(|β|)); doubling is a safeguard
        t = np.zeros(cap + 2)
        r = 0.0
        for l in range(2 * cap + 60, 0, -1):
            tl = 1.0 / (2 * l + 1 + beta * r)
            r = beta * tl
            if l <= cap + 1:
                t[l] = tl
        g = np.zeros(cap + 1)
        i0 = 1.0 if b == 0.0 else -math.expm1(-2.0 * b) / (2.0 * b)
        g[1] = i0 * t[1]
        for l in range(2, cap + 1):
            g[l] = g[l - 1] * beta * t[l]
        c = beta * g
        c[0] = i0
        ls = np.arange(cap + 1)
        wc = (2 * ls + 1) * np.abs(c)
        wg = (2 * ls + 1) * np.sqrt(ls * (ls + 1.0)) * np.abs(g)
        tail_c = np.cumsum(wc[::-1])[::-1]  # tail_c[l] = Σ_{k>=l}
        tail_g = np.cumsum(wg[::-1])[::-1]
        ok_c = tail_c <= tol * tail_c[0]
        ok_g = tail_g <= tol * tail_g[0]
        if ok_c[-1] and ok_g[-1]:
            L = max(int(np.argmax(ok_c)), int(np.argmax(ok_g)), 2) - 1
            return 4.0 * math.pi * c[: L + 1], 4.0 * math.pi * g[: L + 1], L
        cap *= 2
    raise RuntimeError(f"the harmonic truncation did not converge at beta = {beta}")  # pragma: no cover


def harmonic_truncation(beta):
    """The degree L of the harmonic expansion at inverse temperature β (27 at β = 5)."""
    return harmonic_coefficients(float(beta))[2]


@functools.lru_cache(maxsize=8)
def pair_degrees(L):
    """The degree l of each packed pair (l, m) of :mod:`_kernels_harmonic` (by m, then l)."""
    return np.concatenate([np.arange(m, L + 1) for m in range(L + 1)])


@functools.lru_cache(maxsize=8)
def derivative_pairs(L):
    """(source, kappa): for each packed pair (l, m), m >= 1, the pair (l, m - 1) and
    κ = ((l - m + 1)(l + m))^{1/2} (over 2^{1/2} for m = 1), so that d/dz q_{l,m-1} =
    κ q_lm (q_lm is N_lm times the m-th derivative of P_l); source = -1 for m = 0."""
    deg = pair_degrees(L)
    order = np.concatenate([np.full(L + 1 - m, m) for m in range(L + 1)])
    start = np.concatenate([[0], np.cumsum(L + 1 - np.arange(L + 1))])  # pair (m, m)
    source = np.where(order > 0, start[np.maximum(order - 1, 0)] + deg - order + 1, -1)
    kappa = np.sqrt((deg - order + 1.0) * (deg + order) / np.where(order == 1, 2.0, 1.0)) * (order > 0)
    return source, kappa


def unit_columns(X):
    """The rows of X (n, 3) normalised, as columns of a contiguous (3, n) array."""
    XT = np.empty((3, X.shape[0]))
    with threads_for(X.shape[0] * 10.0):
        _kh.unit_columns(np.ascontiguousarray(X, dtype=float), XT)
    return XT


def task_count(n):
    """Parallel tasks for n tokens: one per thread, at least LANES tokens each."""
    return max(1, min(numba.get_num_threads(), n // _kh.LANES))


def moments(XT, w, L):
    """(2, n_pairs): Σ_j w_j Y_lm(x_j) (row 0) and Σ_j w_j Y_l,-m(x_j) (row 1), packed by pair."""
    n = XT.shape[1]
    n_pairs = (L + 1) * (L + 2) // 2
    with threads_for(float(n) * n_pairs * 7):  # flops: one thread for small work
        n_tasks = task_count(n)
        check_memory(8.0 * 2 * n_pairs * (2 * n_tasks + 1), f"the harmonic moments (L = {L}, {n_pairs} pairs)")
        out = np.empty((n_tasks, 2, n_pairs))
        _kh.moments(XT, w, L, n_tasks, out)
    return out.sum(axis=0) * _kh.recurrence_tables(L)[0]


def error_bounds(c, g, Q, w, L):
    """(δ_Φ, δ_v): estimates of the absolute rounding errors of Φ e^{-|β|} and of its
    (1/β) tangential gradient at any point, from the moment norms |Q_l| = (Σ_m Q_lm²)^{1/2}
    and h_l = ((2l+1)/4π)^{1/2} (so that |Σ_m Q_lm Y_lm(x)| <= h_l |Q_l|):

        δ_Φ = K_Φ(L) eps Σ_l |c_l| h_l ((L + 1) |Q_l| + h_l |w|),
        δ_v = eps Σ_l |g_l| (l + 1)² h_l (K_Q(L) |Q_l| + K_w h_l |w|),

    with |w| the Euclidean norm of the weights (the random rounding of the moment sums),
    (L + 1) the growth of the recurrence errors with the degree, (l + 1)² that of the
    gradient's. The constants (ERROR_CONSTANT_*) are 3 times the largest ratio of
    measured error (48-200 rows against a long-double direct sum) to estimate over 226
    cases (benchmarks/calibrate_harmonic_errors.py): β in [-700, 700], N = 2000 and
    2·10⁴, spread tokens and 3-200 caps of width 0.01-0.3, clustered states of chapter 06. The |Q_l| part dominates for clustered
    tokens, where the ratio grows with the degree (0.87 at L <= 35, 4.8 at L = 234, as
    (L + 1)^0.8): hence K_Q(L) and K_Φ(L) rising linearly to their values at L = 234.
    """
    ls = np.arange(L + 1)
    h = np.sqrt((2 * ls + 1) / (4 * math.pi))
    norms = np.sqrt(np.bincount(pair_degrees(L), Q[0] ** 2 + Q[1] ** 2, minlength=L + 1))
    w_norm = math.sqrt(float(np.sum(w * w)))  # not np.dot: BLAS threads cost ms on a busy machine
    eps = np.finfo(float).eps
    k_phi = max(ERROR_CONSTANT_PHI[0], ERROR_CONSTANT_PHI[1] * (L + 1) / 235)
    k_q = max(ERROR_CONSTANT_MOMENTS[0], ERROR_CONSTANT_MOMENTS[1] * (L + 1) / 235)
    d_phi = k_phi * eps * float(np.sum(np.abs(c) * h * ((L + 1) * norms + h * w_norm)))
    d_v = eps * float(np.sum(np.abs(g) * (ls + 1.0) ** 2 * h * (k_q * norms + ERROR_CONSTANT_WEIGHTS * h * w_norm)))
    return d_phi, d_v


def direct_rows(XT, w, beta, sa, rows):
    """(v (3, r), shift (r,)) by the direct sum at the listed rows (distinct tokens):
    v e^{shift} is the USA field, v the SA field; shift = |β| up to SHIFT_ALL_ROWS (no
    term can underflow), the row maxima beyond."""
    num = np.empty((3, rows.size))
    den = np.empty(rows.size)
    shift = np.empty(rows.size)
    with threads_for(float(XT.shape[1]) * rows.size * 30):
        _kh.direct_rows(XT, w, beta, rows, abs(beta) <= SHIFT_ALL_ROWS, num, den, shift)
    if not sa:
        return num, shift
    with np.errstate(over="ignore", invalid="ignore"):
        self_term = np.where(w[rows] > 0, w[rows] * np.exp(beta - shift), 0.0)
    return num / (den + self_term), shift


def harmonic_velocity(X, w, beta, sa):
    """The SA/USA field at the rows of X (n, 3) by the harmonic expansion; no validation."""
    c, g, L = harmonic_coefficients(float(beta))
    XT, w, _, inverse = merge_duplicates(unit_columns(X), w)
    n = XT.shape[1]
    Q = moments(XT, w, L)
    gc, gs = g[pair_degrees(L)] * Q
    source, kappa = derivative_pairs(L)
    rho = _kh.recurrence_tables(L)[0]
    hc, hs = kappa * rho * gc[source], kappa * rho * gs[source]
    v = np.empty((3, n))
    phi = np.empty(n)
    phi0 = c[0] * Q[0, 0] * math.sqrt(0.25 / math.pi)  # 4π i_0 Q_00 Y_00
    half = 1.0 if sa else math.exp(0.5 * abs(beta))  # USA: the factor e^{|β|}, applied in the kernel
    with threads_for(float(n) * Q.shape[1] * 10):
        _kh.expansion(XT, gc * rho, gs * rho, hc, hs, L, phi0, float(beta), half, task_count(n), v, phi)
    # Row i is kept when its error estimate is HARMONIC_ERR of its own scale
    # Σ_{j≠i} w_j e^{β<x_i,x_j> - |β|} >= Φ - w_i e^{β - |β|} - δ_Φ: USA |δv| <= δ_v,
    # SA |δ(v/Φ)| <= (δ_v + |v/Φ| δ_Φ) / Φ against the SA scale (that scale) / Φ.
    d_phi, d_v = error_bounds(c, g, Q, w, L)
    scale = phi - w * math.exp(beta - abs(beta)) - d_phi
    if sa:
        with np.errstate(divide="ignore", invalid="ignore"):  # phi <= 0 by rounding: such rows fail the test below
            v = v / phi
            err = d_v + d_phi * np.sqrt(np.sum(v * v, axis=0))
    else:
        err = d_v
    rows = np.flatnonzero(~(err <= HARMONIC_ERR * scale))
    v = v.T
    if rows.size:
        fallback, shift = direct_rows(XT, w, beta, sa, rows)
        v[rows] = fallback.T if sa else rescale_usa(fallback.T, shift, beta)
    if not (sa or np.isfinite(v).all()):  # the USA field overflows: rescale_usa's ValueError
        rescale_usa(v[~np.isfinite(v).all(axis=1)], np.array([abs(beta)]), beta)
    return v if inverse is None else v[inverse]


def harmonic_energy(X, w, beta):
    """log Σ_{i,j} w_i w_j e^{β<x_i,x_j>} = log (4π Σ_l i_l(β) Σ_m Q_lm²), or None when the
    sum (alternating for β < 0) is not accurate to HARMONIC_ERR relative; no validation."""
    c, g, L = harmonic_coefficients(float(beta))
    XT, w, _, _ = merge_duplicates(unit_columns(X), w)
    Q = moments(XT, w, L)
    total = float(np.sum(c[pair_degrees(L)] * (Q[0] ** 2 + Q[1] ** 2)))
    if not error_bounds(c, g, Q, w, L)[0] <= HARMONIC_ERR * total:
        return None
    return abs(beta) + math.log(total)


def resolve_sphere_method(method, n, d, beta):
    """Resolve "auto" to "harmonic" or "direct" for n tokens on S^{d-1} at β; "harmonic"
    with d != 3 or |β| > HARMONIC_BETA_LIMIT raises ``ValueError``.

    "auto" picks the harmonics when d = 3, |β| <= HARMONIC_MAX_BETA and
    HARMONIC_COST_RATIO (L + 1)² <= n (the measured crossover with the direct sum).
    """
    if method == "harmonic":
        if d != 3:
            raise ValueError(
                f"method='harmonic' needs tokens on S^2 (d = 3), got d = {d}; use method='direct' or 'auto'"
            )
        check_harmonic_beta(beta)
        return method
    if method == "auto":
        if d == 3 and abs(beta) <= HARMONIC_MAX_BETA:
            L = harmonic_truncation(beta)
            if HARMONIC_COST_RATIO * (L + 1) ** 2 <= n:
                return "harmonic"
        return "direct"
    return method


def sphere_field(X, w, beta, sa, method):
    """The SA/USA field at the rows of X (n, d) by method ("auto", "direct", "harmonic"); no validation."""
    if resolve_sphere_method(method, X.shape[0], X.shape[1], beta) == "harmonic":
        return harmonic_velocity(X, w, beta, sa)
    return sphere_velocity(X, w, beta, sa)
