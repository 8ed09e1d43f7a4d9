"""Private numba kernels for tokens on the sphere: pairwise exponential sums.

Plain float64 arrays in, ``out`` arrays written. The N² exponentials dominate the cost
and llvmlite here has no vector math library, so :func:`exp_poly` is a range-reduced
polynomial exp written in arithmetic only (it vectorises). Public wrappers live in
:mod:`mtlib.dynamics`; for many dimensions :mod:`mtlib._kernels_blocked` computes the same
sums with BLAS. Importing this module applies the MTLIB_AVX512 switch of
:mod:`mtlib._cpu_target` before any kernel compiles.
"""

import numba as nb
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from . import _cpu_target  # noqa: F401 - numba's CPU features (MTLIB_AVX512) before any kernel compiles

# Loop flags: reassociation lets LLVM vectorise the sums; the helpers below are compiled
# without it, so their range reductions keep their exact order of operations.
FASTMATH = {"reassoc", "contract", "nsz"}
ROW_BLOCK = 16  # rows of a block that share one column tile
ROW_GROUP = 4  # rows that share each load of a column row (unrolled in pairwise_sums)
COL_TILE = 1024  # columns per tile: d * 1024 * 8 bytes stay in cache

_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 split (fdlibm): k * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_EXP_UNDERFLOW = -708.0  # below this exp_poly returns 0 (e^-708 ~ 3e-308)
_EXP_OVERFLOW = 709.0  # above this exp_poly returns e^709 (finite: a zero weight times it is 0)


@intrinsic
def _int64_as_float64(typingctx, bits):
    """Reinterpret the bits of an int64 as a float64 (an LLVM bitcast)."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


@nb.njit(cache=True, fastmath={"contract"})
def exp_poly(x):
    """e^x for -708 <= x <= 709, vectorisable; 0 below (and for x = -inf), e^709 above.

    x = k ln 2 + r with |r| <= ln2/2 (Cody–Waite split of ln 2), e^r by its Taylor
    polynomial of degree 12 (truncation < 2e-16 relative), 2^k from the exponent bits.
    Relative error below 1e-15 over [-708, 709] (tested against ``np.exp``). Above 709 the
    value saturates at e^709 instead of overflowing, so that a zero weight times it is 0.
    """
    x = min(x, _EXP_OVERFLOW)
    k = np.floor(x * _LOG2E + 0.5)
    r = (x - k * _LN2_HI) - k * _LN2_LO
    p = 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    kk = max(k, -1022.0)
    scale = _int64_as_float64((np.int64(kk) + 1023) << 52)
    return p * scale if x >= _EXP_UNDERFLOW else 0.0


@nb.njit(cache=True, parallel=True, fastmath=FASTMATH)
def pairwise_sums(XT, w, beta, shift, exclude_self, num, den):
    """num_i = Σ_j w_j e^{β<x_i,x_j> - s_i} x_j and den_i = Σ_j w_j e^{β<x_i,x_j> - s_i}.

    XT is (d, n) (token j in column j), w (n,) weights, shift (n,) the exponent shifts
    s_i; with exclude_self the sums run over j ≠ i only. num (n, d) and den (n,) are
    written. The exponents are β<x_i,x_j> = Σ_k (β x_ki) x_kj in this order (as in
    :func:`row_max_exponent`). O(n² d): blocks of rows in parallel, each
    sweeping column tiles that stay in cache. Inside a tile, groups of ROW_GROUP = 4 rows
    share every load of a column row (the dot products and the weighted sums are
    memory-bound otherwise); the inner loops run over contiguous 1-D slices so that they
    vectorise.
    """
    d, n = XT.shape
    n_blocks = (n + ROW_BLOCK - 1) // ROW_BLOCK
    for b in nb.prange(n_blocks):
        i0 = b * ROW_BLOCK
        i1 = min(i0 + ROW_BLOCK, n)
        acc = np.zeros((ROW_BLOCK, d))
        acc_den = np.zeros(ROW_BLOCK)
        buf = np.empty((ROW_GROUP, COL_TILE))
        for j0 in range(0, n, COL_TILE):
            m = min(COL_TILE, n - j0)
            w_tile = w[j0 : j0 + m]
            for g in range(i0, i1, ROW_GROUP):
                r = min(ROW_GROUP, i1 - g)  # rows g..g+r-1; missing rows get zero factors
                t0, t1, t2, t3 = buf[0, :m], buf[1, :m], buf[2, :m], buf[3, :m]
                t0[:] = 0.0
                t1[:] = 0.0
                t2[:] = 0.0
                t3[:] = 0.0
                for k in range(d):
                    a0 = beta * XT[k, g]
                    a1 = beta * XT[k, g + 1] if r > 1 else 0.0
                    a2 = beta * XT[k, g + 2] if r > 2 else 0.0
                    a3 = beta * XT[k, g + 3] if r > 3 else 0.0
                    row = XT[k, j0 : j0 + m]
                    for j in range(m):
                        x = row[j]
                        t0[j] += a0 * x
                        t1[j] += a1 * x
                        t2[j] += a2 * x
                        t3[j] += a3 * x
                for q in range(r):
                    t = buf[q, :m]
                    if exclude_self and j0 <= g + q < j0 + m:
                        t[g + q - j0] = -np.inf  # e^{-inf} = 0: the self term drops out
                    s_i = shift[g + q]
                    s = 0.0
                    for j in range(m):
                        e = w_tile[j] * exp_poly(t[j] - s_i)
                        t[j] = e
                        s += e
                    acc_den[g + q - i0] += s
                for k in range(d):
                    row = XT[k, j0 : j0 + m]
                    s0 = 0.0
                    s1 = 0.0
                    s2 = 0.0
                    s3 = 0.0
                    for j in range(m):
                        x = row[j]
                        s0 += t0[j] * x
                        s1 += t1[j] * x
                        s2 += t2[j] * x
                        s3 += t3[j] * x
                    acc[g - i0, k] += s0
                    if r > 1:
                        acc[g + 1 - i0, k] += s1
                    if r > 2:
                        acc[g + 2 - i0, k] += s2
                    if r > 3:
                        acc[g + 3 - i0, k] += s3
        for i in range(i0, i1):
            den[i] = acc_den[i - i0]
            for k in range(d):
                num[i, k] = acc[i - i0, k]


@nb.njit(cache=True, parallel=True, fastmath={"contract"})
def row_max_exponent(XT, w, beta, exclude_self, out):
    """out_i = max_j β<x_i,x_j> over tokens j with w_j > 0 (j ≠ i if exclude_self).

    The exponent shift that keeps the largest term of row i at e^0 (used for |β| large);
    -inf when a row has no such token. The exponents are rounded exactly as in
    :func:`pairwise_sums` (Σ_k (β x_ki) x_kj in order), so the largest term is e^0 exactly
    even where β·eps is large. O(n² d).
    """
    d, n = XT.shape
    for i in nb.prange(n):
        best = -np.inf
        for j in range(n):
            if w[j] > 0.0 and not (exclude_self and j == i):
                x = 0.0
                for k in range(d):
                    x += (beta * XT[k, i]) * XT[k, j]
                best = max(best, x)
        out[i] = best


_KEY_STEP = 0.6180339887498949  # golden ratio - 1: the key weights 1 + frac(k·φ) are distinct


@nb.njit(cache=True)
def token_keys(XT, keys):
    """keys_j = Σ_k (1 + frac(kφ)) x_kj for the tokens (columns) of XT (d, n).

    Identical tokens get equal keys (the same arithmetic in the same order), distinct ones
    rarely: when no two keys are equal the tokens are distinct. O(n d), row by row of XT
    (contiguous loads; each key still sums its terms in the order k = 0, 1, ...).
    """
    d, n = XT.shape
    keys[:] = 0.0
    for k in range(d):
        c = 1.0 + (k * _KEY_STEP) % 1.0
        row = XT[k]
        for j in range(n):
            keys[j] += c * row[j]


_HASH = 0x9E3779B97F4A7C15  # Fibonacci hashing: the top bits of raw * _HASH
PART_BITS = 6  # the keys are split into 2^6 parts by the top bits of their hash


@nb.njit(cache=True)
def distinct_tokens(XT, keys):
    """True when no two tokens (columns of XT (d, n)) have equal :func:`token_keys`, which
    then fill keys: the tokens are distinct. O(n d).

    The keys are split into 2^PART_BITS parts by the top bits of their hash (a counting
    sort), and each part is checked by an open-addressing hash table of its own: a part's
    keys and table stay in cache, where one table over all n keys would miss it at
    every probe (one thread: memory-bound, and as fast as two on a busy machine).
    """
    n = XT.shape[1]
    token_keys(XT, keys)
    raw = keys.view(np.uint64)
    n_parts = 1 << PART_BITS
    top = np.uint64(64 - PART_BITS)
    bounds = np.zeros(n_parts + 1, np.int64)
    for j in range(n):
        bounds[np.int64((raw[j] * np.uint64(_HASH)) >> top) + 1] += 1
    bounds = np.cumsum(bounds)
    at = bounds[:-1].copy()
    parted = np.empty(n)
    for j in range(n):
        p = np.int64((raw[j] * np.uint64(_HASH)) >> top)
        parted[at[p]] = keys[j]
        at[p] += 1
    for p in range(n_parts):
        part = parted[bounds[p] : bounds[p + 1]]
        bits = 1
        while (1 << bits) < 2 * part.size:
            bits += 1
        mask = (1 << bits) - 1
        table = np.full(mask + 1, -1, np.int32)
        shift = np.uint64(64 - PART_BITS - bits)  # the hash bits after the part's
        part_raw = part.view(np.uint64)
        for q in range(part.size):
            h = np.int64((part_raw[q] * np.uint64(_HASH)) >> shift) & mask
            while table[h] >= 0:
                if part[table[h]] == part[q]:
                    return False
                h = (h + 1) & mask
            table[h] = q
    return True


@nb.njit(cache=True)
def duplicate_groups(XT, keys, order, inverse):
    """Group identical tokens (columns of XT (d, n)); return the first token of each group.

    order sorts the :func:`token_keys` keys; tokens are compared coordinate by coordinate
    only within runs of equal keys. Writes inverse[j] = the group of token j. O(n d)
    unless many distinct tokens share a key.
    """
    d, n = XT.shape
    first = np.empty(n, np.int64)
    n_groups = 0
    run = 0  # the first group whose key equals the current one
    for p in range(n):
        j = order[p]
        if p == 0 or keys[j] != keys[order[p - 1]]:
            run = n_groups
        g = run
        while g < n_groups:
            k = 0
            while k < d and XT[k, first[g]] == XT[k, j]:
                k += 1
            if k == d:
                break
            g += 1
        if g == n_groups:
            first[n_groups] = j
            n_groups += 1
        inverse[j] = g
    return first[:n_groups]
