"""Unvalidated evaluation of the SA/USA fields: shifted pairwise sums, Fourier modes, threads.

The machinery behind :mod:`mtlib.fields`, shared with :func:`mtlib.simulate` and the
reductions; callers validate their inputs first (plain float64 arrays, unit rows, weights
summing to 1). Every sum of exponentials is computed as e^{s_i} Σ_j w_j e^{β<x_i,x_j> - s_i}
with s_i = |β| (|β| <= SHIFT_ALL_ROWS, where no term can underflow) or the row maximum
(larger |β|); the USA factor e^{s_i} is applied last and an overflow raises ``ValueError``.
The velocity is projected pair by pair: v_i = Σ_{j≠i} w_j e^{β<x_i,x_j>} P_{x_i} x_j with
P_{x_i} x_j = x_j - <x_i,x_j> x_i, so the self term (P_{x_i} x_i = 0, but e^{β} times
larger than the others) never enters the sums; for the velocity the row maximum is over
j ≠ i, so the largest term that does enter is e^0. Identical tokens are merged first
(their weights summed): their mutual projections are exactly 0, and so is the field of
tokens that all coincide. The SA denominator gets the self term w_i e^{β - s_i} back.
The sums run in the fused numba kernel (small d) or in BLAS products over tiles (d >=
BLAS_MIN_DIM, :mod:`._kernels_blocked`, whose notes show the same error bound); threads
are used from PARALLEL_MIN_FLOPS floating-point operations.
References: Geshkovski, Letrouit, Polyanskiy, Rigollet (2023) for the model; Abramowitz &
Stegun 9.6.34 for the Fourier expansion of e^{β cos φ}.
"""

import contextlib
import functools
import math

import numba
import numpy as np
from scipy import special

from . import _kernels_blocked as _kb
from . import _kernels_circle as _kc
from . import _kernels_sphere as _ks
from ._validate import check_memory

SHIFT_ALL_ROWS = 350.0  # |β| up to which s_i = |β| (e^{-2|β|} is still a normal float)
FOURIER_TOL = 1e-16  # relative tail of the mode coefficients dropped by the cut-off
FOURIER_MAX_BETA = 50.0  # "auto" uses Fourier only up to this |β|
FOURIER_BETA_LIMIT = 1e6  # |β| beyond which the Fourier path is refused (M ~ sqrt(75|β|) > 8700)
FOURIER_TINY_BETA = 1e-150  # below this |β|, a_m = b_{m-1} - b_{m+1} (2m I_m(β)/β underflows)
FOURIER_COST_RATIO = 2.0  # "auto" uses Fourier when ratio * M <= N (measured crossover)
SA_FOURIER_ERR = 1e-13  # SA rows whose Fourier estimate may be off by more: direct sum
PARALLEL_MIN_FLOPS = 1e7  # floating-point operations below which one thread is as fast (measured; ~0.3 ms)
BLAS_MIN_DIM = 32  # BLAS tiles from here (measured on 1 thread: 1.25x the fused kernel at d = 32, 1.6x at 64)
BLAS_MIN_TOKENS = 128  # below this many tokens the fused kernel is as fast at any d (measured)
FOURIER_FLOPS = 20.0  # per token and mode, both passes (complex powers, sums, SA denominator)
COS_SIN_FLOPS = 50.0  # per angle of _kernels_circle.cos_sin


def pair_flops(d):
    """Floating-point operations per pair (i, j) of a direct sum in d dimensions (dot
    product, exponential, weighted sum)."""
    return 4.0 * d + 30.0


DIRECT_PAIR_FLOPS = pair_flops(2)


@contextlib.contextmanager
def threads_for(flops):
    """Run the kernels inside on one thread when their work (flops) is too small to share."""
    if flops >= PARALLEL_MIN_FLOPS:
        yield
        return
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(previous)


def shifts(XT, w, beta, exclude_self):
    """Exponent shifts s_i: |β| when nothing can underflow, else the row maxima."""
    n = XT.shape[1]
    if abs(beta) <= SHIFT_ALL_ROWS:
        return np.full(n, abs(beta))
    shift = np.empty(n)
    _ks.row_max_exponent(XT, w, beta, exclude_self, shift)
    shift[~np.isfinite(shift)] = 0.0  # a row with no other token: its sums are 0
    return shift


def pairwise_path(n, d):
    """The kernel for n tokens in d dimensions: "blas" (:mod:`._kernels_blocked`, BLAS
    products over tiles) from d >= BLAS_MIN_DIM with at least BLAS_MIN_TOKENS tokens, else
    "fused" (:func:`_ks.pairwise_sums`, register-blocked rows and a polynomial exp)."""
    return "blas" if d >= BLAS_MIN_DIM and n >= BLAS_MIN_TOKENS else "fused"


def pairwise(XT, w, beta, exclude_self, path="auto", X=None):
    """(num, den, shift): the shifted sums of :func:`_ks.pairwise_sums` for tokens XT (d, n),
    over j ≠ i (shift and sums) if exclude_self.

    path: "auto" (:func:`pairwise_path`), "fused" (:func:`_ks.pairwise_sums`) or "blas"
    (:func:`_kb.pairwise_sums_blas`); the two agree to rounding (see their notes).
    X: the same tokens as rows (n, d), if the caller has them (the BLAS path uses rows:
    no transposed copy).
    """
    d, n = XT.shape
    num = np.empty((n, d))
    den = np.empty(n)
    path = pairwise_path(n, d) if path == "auto" else path
    if path == "blas":
        shift = np.full(n, abs(beta))
        # numba's threads stay on one core: BLAS runs its own (two pools spinning on
        # the same cores slow each other down many times, measured)
        with threads_for(0.0):
            rows = np.ascontiguousarray(XT.T if X is None else X)
            _kb.pairwise_sums_blas(rows, w, beta, shift, abs(beta) > SHIFT_ALL_ROWS, exclude_self, num, den)
        return num, den, shift
    with threads_for(pair_flops(d) * n * n):
        shift = shifts(XT, w, beta, exclude_self)
        _ks.pairwise_sums(XT, w, beta, shift, exclude_self, num, den)
    return num, den, shift


def merge_duplicates(XT, w):
    """Merge identical tokens (columns of XT (d, n)), summing their weights.

    Returns (XT, w, None, None) when the tokens are distinct (the common case, found in
    O(n d) by :func:`_ks.distinct_tokens`), else (the distinct tokens, their weights,
    the index of the first token of each group, the group of each token).
    """
    n = XT.shape[1]
    keys = np.empty(n)
    if _ks.distinct_tokens(XT, keys):
        return XT, w, None, None
    inverse = np.empty(n, np.int64)
    first = _ks.duplicate_groups(XT, keys, np.argsort(keys), inverse)
    if first.size == n:
        return XT, w, None, None
    return np.ascontiguousarray(XT[:, first]), np.bincount(inverse, weights=w, minlength=first.size), first, inverse


def sa_denominator(den, w, beta, shift):
    """den_i + w_i e^{β - s_i}: the SA denominator with the self term put back (0 where
    w_i = 0; inf where e^{β - s_i} overflows, i.e. the field underflows to 0)."""
    if abs(beta) <= SHIFT_ALL_ROWS:  # s_i = |β|: e^{β - |β|} <= 1
        return den + w * math.exp(beta - abs(beta))
    with np.errstate(over="ignore", invalid="ignore"):
        return den + np.where(w > 0, w * np.exp(beta - shift), 0.0)


def rescale_usa(v, shift, beta):
    """Multiply row i of v by e^{s_i}; ValueError if the USA field overflows float64.

    shift: (n,) or a scalar; when all s_i are equal the factor is one scalar (no
    per-row exponential). The factor is applied as e^{s_i/2} twice (v e^{s_i} may be
    finite where e^{s_i} is not).
    """
    shift = np.asarray(shift, dtype=float)
    if shift.ndim == 1 and shift.size and np.all(shift == shift[0]):
        shift = shift[0]
    with np.errstate(over="ignore", invalid="ignore"):
        if shift.ndim == 0:
            half = np.exp(np.full(1, 0.5 * shift))[0]  # the same rounding as the array path
            v = (v * half) * half
        else:
            half = np.exp(0.5 * shift).reshape((-1,) + (1,) * (v.ndim - 1))
            v = (v * half) * half
    if not np.all(np.isfinite(v)):
        raise ValueError(
            f"the USA field overflows float64 at beta = {beta} (terms e^(beta<x_i,x_j>) "
            f"near e^{abs(beta):.4g}); use model='sa', or a smaller beta"
        )
    return v


def sphere_velocity(X, w, beta, sa, path="auto"):
    """The SA/USA field at the rows of X (n, d), no validation (see the module notes);
    path as in :func:`pairwise`."""
    XT, w, first, inverse = merge_duplicates(np.ascontiguousarray(X.T), w)
    X = X if first is None else X[first]
    num, den, shift = pairwise(XT, w, beta, exclude_self=True, path=path, X=X)
    v = num - np.einsum("ij,ij->i", num, X)[:, None] * X
    if sa:
        v = v / sa_denominator(den, w, beta, shift)[:, None]
    else:
        v = rescale_usa(v, shift, beta)
    return v if inverse is None else v[inverse]


def attention_average(X, w, beta, sa):
    """A_i = Σ_j w_j e^{β<x_i,x_j>} x_j (USA), divided by Σ_j w_j e^{β<x_i,x_j>} (SA); no validation."""
    num, den, shift = pairwise(np.ascontiguousarray(X.T), w, beta, exclude_self=False, X=X)
    return num / den[:, None] if sa else rescale_usa(num, shift, beta)


def check_fourier_beta(beta):
    """Refuse |β| > FOURIER_BETA_LIMIT for the Fourier path (too many modes)."""
    if abs(beta) > FOURIER_BETA_LIMIT:
        raise ValueError(
            f"beta = {beta}: the Fourier modes need |beta| <= {FOURIER_BETA_LIMIT:g} (their "
            f"number grows like sqrt(75 |beta|)); use method='direct'"
        )


@functools.lru_cache(maxsize=64)
def fourier_coefficients(beta, tol=FOURIER_TOL):
    """(a, b, M): a_m = 2m I_m(β)/β e^{-|β|} and b_m = I_m(β) e^{-|β|}, m = 0..M.

    M is the smallest cut-off whose dropped tails, Σ_{m>M} |a_m| and 2 Σ_{m>M} |b_m|,
    are below tol times Σ_m |a_m| and b_0 + 2 Σ_m |b_m|. For |β| < FOURIER_TINY_BETA,
    a_m = b_{m-1} - b_{m+1} (the same by I_{m-1} - I_{m+1} = 2m I_m/β, without the
    underflow of I_m(β)); |β| > FOURIER_BETA_LIMIT raises ``ValueError``.
    """
    check_fourier_beta(beta)
    if beta == 0.0:
        return np.array([0.0, 1.0]), np.array([1.0, 0.0]), 1
    m_cap = int(40 + 12 * math.sqrt(abs(beta)))
    for _ in range(8):  # the first cap suffices (M ~ sqrt(75|β|)); doubling is a safeguard
        m = np.arange(m_cap + 1)
        b = special.ive(m, beta)
        if abs(beta) < FOURIER_TINY_BETA:
            a = special.ive(m - 1, beta) - special.ive(m + 1, beta)
        else:
            a = 2.0 * m * b / beta
        tail_a = np.cumsum(np.abs(a)[::-1])[::-1]  # tail_a[m] = Σ_{k>=m} |a_k|
        tail_b = 2.0 * np.cumsum(np.abs(b)[::-1])[::-1]
        ok_a = tail_a <= tol * tail_a[1]
        ok_b = tail_b <= tol * (abs(b[0]) + tail_b[1])
        if ok_a[-1] and ok_b[-1]:
            cut = max(np.argmax(ok_a), np.argmax(ok_b), 2) - 1
            return a[: cut + 1].copy(), b[: cut + 1].copy(), cut
        m_cap *= 2
    raise RuntimeError(f"the Fourier cut-off did not converge at beta = {beta}")  # pragma: no cover


def fourier_velocity(theta, w, beta, sa):
    """Circle velocity from the Fourier modes (angles with |θ| <= 1e3 or reduced: _validate.reduce_large_angles).

    USA: the factor e^{|β|} is folded into the M mode coefficients (no per-token work);
    an overflow of the field raises ``ValueError`` as in :func:`rescale_usa`.
    """
    a, b, M = fourier_coefficients(beta)
    n = theta.size
    check_memory(16 * (M + 1) * (n // _kc.CHUNK + 1), f"the Fourier path (M = {M} modes at beta = {beta}, n = {n})")
    Z = np.empty((2, M + 1))
    out = np.empty(n)
    den = np.empty(n if sa else 1)
    with threads_for(FOURIER_FLOPS * n * M):
        _kc.fourier_moments(theta, w, M, Z)
        cos_coef, sin_coef = a * Z[1], -a * Z[0]
        if not sa:
            cos_coef, sin_coef = usa_scaled(cos_coef, beta), usa_scaled(sin_coef, beta)
        _kc.fourier_evaluate(theta, cos_coef, sin_coef, 2.0 * b * Z[0], 2.0 * b * Z[1], b[0] * Z[0, 0], sa, out, den)
    if not sa:
        if not math.isfinite(np.abs(cos_coef).sum() + np.abs(sin_coef).sum()):
            rescale_usa(out, 0.0, beta)  # the sums may have overflowed: check them
        return out
    # The Fourier sums carry an absolute error ~ eps Σ|a_m|; where the denominator is
    # small that error is amplified, and those rows are recomputed by the direct sum.
    err = 8.0 * np.finfo(float).eps * np.abs(a).sum() / np.abs(den)
    rows = np.flatnonzero(~(err <= SA_FOURIER_ERR))
    if rows.size:
        CS = np.empty((2, n))
        with threads_for(DIRECT_PAIR_FLOPS * n * (rows.size + 1)):
            _kc.cos_sin(theta, CS)
            _kc.direct_rows_sa(CS, w, beta, rows, out)
    return out


def usa_scaled(coef, beta):
    """coef e^{|β|} (as (coef e^{|β|/2}) e^{|β|/2}); ValueError if it overflows float64."""
    with np.errstate(over="ignore", invalid="ignore"):
        half = np.exp(np.full(1, 0.5 * abs(beta)))[0]
        scaled = (coef * half) * half
    return rescale_usa(scaled, 0.0, beta)


def circle_points(theta):
    """(cos θ, sin θ) as an array of shape (2, n), on one thread below the shared threshold
    (the kernel's result does not depend on the thread count)."""
    CS = np.empty((2, theta.size))
    with threads_for(COS_SIN_FLOPS * theta.size):
        _kc.cos_sin(theta, CS)
    return CS


def direct_velocity_circle(theta, w, beta, sa):
    """Circle velocity by the direct O(N²) sum (angles with |θ| <= 1e3 or reduced: _validate.reduce_large_angles), projected
    pair by pair as on the sphere: v_i = Σ_{j≠i} w_j e^{β<x_i,x_j>} <x_j, (-sin θ_i, cos θ_i)>."""
    CS, w, _, inverse = merge_duplicates(circle_points(theta), w)
    num, den, shift = pairwise(CS, w, beta, exclude_self=True)
    v = CS[0] * num[:, 1] - CS[1] * num[:, 0]
    if sa:
        v = v / sa_denominator(den, w, beta, shift)
    else:
        v = rescale_usa(v, shift, beta)
    return v if inverse is None else v[inverse]


def circle_method(method, n, beta):
    """Resolve "auto" to "fourier" or "direct" for n tokens at inverse temperature β."""
    if method != "auto":
        return method
    if abs(beta) <= FOURIER_MAX_BETA and FOURIER_COST_RATIO * fourier_coefficients(beta)[2] <= n:
        return "fourier"
    return "direct"


def circle_velocity(theta, w, beta, sa, method):
    """Circle velocity by a resolved method ("fourier" or "direct"), no validation."""
    if method == "fourier":
        return fourier_velocity(theta, w, beta, sa)
    return direct_velocity_circle(theta, w, beta, sa)
