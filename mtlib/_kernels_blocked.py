"""Private BLAS-tiled pairwise exponential sums for tokens in many dimensions.

The same sums as :func:`mtlib._kernels_sphere.pairwise_sums`, with the dot products and
the weighted sums done by BLAS matrix products. With one shift s for all rows (|β| <=
SHIFT_ALL_ROWS) the kernel K_ij = e^{β<x_i,x_j> - s} is symmetric: for each block I of
rows, G = X_I X_Jᵀ over strips of columns j >= i0 is exponentiated in place
(:func:`exp_tile`, the self term set to 0) and serves both sides, num_I += K_IJ (w X)_J
and, for j past the block, num_J += K_IJᵀ (w X)_I (den likewise): half the exponentials.
With row shifts (larger |β|) blocks of rows are used: G = X_blk Xᵀ, E_ij = w_j e^{β G_ij
- s_i} in place (:func:`exp_rows`, the shifts from the same rounded β G_ij), num = E X.
The products cost 4 n² d flops at the DGEMM rate (3 n² d with the symmetric tiles), so
for large d this beats the fused kernel, whose loads are d-strided.

Error model (why tests/test_reliability_fields.py still holds). The fused kernel computes
each exponent as Σ_k (β x_ki) x_kj in order; here β (Σ_k x_ki x_kj) is summed in BLAS's
order. Both are a d-term dot product of unit vectors plus one multiplication, so
|β g̃_ij - β g_ij| <= (d + 1) eps |β| in both, and each term carries the relative error
e^{(d+1) eps |β|} - 1 ≈ (d + 1) eps |β|, inside the allowance 4 d eps (1 + |β|) scale_i.
The products num_i = Σ_j E_ij x_j and den_i = Σ_j E_ij are sums of n nonnegative weights
times unit vectors (w_j K_ij x_j or K_ij (w_j x_j): the same product, rounded once more),
blocked in BLAS as in the fused kernel's column tiles: their rounding is bounded by the
same γ_n Σ_j E_ij = γ_n scale_i e^{-s_i}. The velocity is then projected
from num exactly as for the fused kernel (v_i = num_i - <num_i, x_i> x_i), whose rounding,
|<num_i, x_i>| <= |num_i| <= scale_i e^{-s_i}, is a few eps scale_i. The self term is
excluded by index (E_ii = 0 exactly), so the cancellation between e^{β} and the rest
never happens; for |β| > SHIFT_ALL_ROWS the shift is the row maximum of the same rounded
β G_ij over j ≠ i with w_j > 0, so the largest term is e^0 exactly, as in the fused kernel.
"""

import numba as nb
import numpy as np

from ._kernels_sphere import FASTMATH, exp_poly

BLOCK_BYTES = 1 << 21  # bytes of one block of G (rows × n): it stays in the L2 cache
MIN_BLOCK_ROWS = 32  # the products E X need some rows to run at the DGEMM rate
TILE = 1024  # rows per block of the symmetric kernel (measured: 1.3-4x faster than 256 rows, d = 32-512)
STRIP = 2048  # columns per strip of a block (TILE × STRIP float64: 16 MiB; few BLAS calls, measured)


def block_rows(n):
    """Rows per block for n tokens: BLOCK_BYTES of float64, at least MIN_BLOCK_ROWS."""
    return int(max(1, min(n, max(MIN_BLOCK_ROWS, BLOCK_BYTES // (8 * max(n, 1))))))


@nb.njit(cache=True, parallel=True, fastmath=FASTMATH)
def exp_rows(G, w, beta, i0, exclude_self, row_shift, shift, den):
    """G_rj <- w_j e^{β G_rj - s_i} (i = i0 + r) in place; den_i = Σ_j G_rj afterwards.

    G (rows, n) holds <x_i, x_j> for the rows i = i0 .. i0 + rows - 1; with exclude_self
    the self entry j = i is set to 0. With row_shift, s_i = max β G_rj over j (≠ i) with
    w_j > 0 is written to shift[i] (0 if there is none), else s_i = shift[i] is read.
    The exponent β G_rj is rounded the same way in the maximum and in the term, so the
    largest term is e^0 exactly.
    """
    rows, n = G.shape
    for r in nb.prange(rows):
        i = i0 + r
        row = G[r]
        if row_shift:
            best = -np.inf
            for j in range(n):
                x = beta * row[j]
                if w[j] > 0.0 and x > best and not (exclude_self and j == i):
                    best = x
            shift[i] = best if best > -np.inf else 0.0
        s_i = shift[i]
        total = 0.0
        for j in range(n):
            e = w[j] * exp_poly(beta * row[j] - s_i)
            if exclude_self and j == i:
                e = 0.0
            row[j] = e
            total += e
        den[i] = total


@nb.njit(cache=True, fastmath=FASTMATH)
def exp_tile(G, beta, s, self_offset):
    """G_ab <- e^{β G_ab - s} in place: a tile of <x_i, x_j> (rows i = i0 + a, columns
    j = j0 + b) with one shift s for all rows; the self entries b = a + self_offset
    (self_offset = i0 - j0) are set to 0 (pass a self_offset out of range to keep them)."""
    rows, cols = G.shape
    for a in range(rows):
        row = G[a]
        diag = a + self_offset
        for b in range(cols):
            e = exp_poly(beta * row[b] - s)
            if b == diag:
                e = 0.0
            row[b] = e


def pairwise_sums_blas(X, w, beta, shift, row_shift, exclude_self, num, den):
    """num_i = Σ_j w_j e^{β<x_i,x_j> - s_i} x_j, den_i = Σ_j w_j e^{β<x_i,x_j> - s_i} by
    BLAS-tiled blocks (see the module notes).

    X (n, d) C-contiguous tokens, w (n,) weights, shift (n,) the shifts s_i (read, or
    written as the row maxima with row_shift); with exclude_self the sums run over j ≠ i.
    num (n, d) C-contiguous and den (n,) are written. O(n² d) in BLAS products plus n²
    exponentials. With one shift for all rows (not row_shift, all s_i equal) the kernel
    K_ij = e^{β<x_i,x_j> - s} is symmetric and each pair is exponentiated once
    (:func:`symmetric_sums`: half the exponentials, 3/4 of the flops); otherwise blocks of
    rows (:func:`row_block_sums`).
    """
    if not row_shift and shift.size and np.all(shift == shift[0]):
        symmetric_sums(X, w, beta, float(shift[0]), exclude_self, num, den)
    else:
        row_block_sums(X, w, beta, shift, row_shift, exclude_self, num, den)


def symmetric_sums(X, w, beta, s, exclude_self, num, den):
    """The sums of :func:`pairwise_sums_blas` for one shift s, by blocks I of TILE rows and
    strips of STRIP columns j >= i0: K = e^{β X_I X_Jᵀ - s} serves [num | den]_I += K [w X | w]_J
    and, for the columns past the block (j >= i1), [num | den]_J += Kᵀ [w X | w]_I (one
    product each: the weights are the last column)."""
    n, d = X.shape
    WX = np.empty((n, d + 1))
    WX[:, :d] = w[:, None] * X
    WX[:, d] = w
    acc = np.zeros((n, d + 1))
    buffer = np.empty(min(n, TILE) * min(n, STRIP))
    for i0 in range(0, n, TILE):
        i1 = min(i0 + TILE, n)
        for j0 in range(i0, n, STRIP):
            j1 = min(j0 + STRIP, n)
            g = buffer[: (i1 - i0) * (j1 - j0)].reshape(i1 - i0, j1 - j0)
            np.dot(X[i0:i1], X[j0:j1].T, out=g)
            exp_tile(g, beta, s, i0 - j0 if exclude_self else n)
            acc[i0:i1] += g @ WX[j0:j1]
            past = max(i1, j0)  # columns past the block: their rows get the transpose
            if past < j1:
                acc[past:j1] += g[:, past - j0 :].T @ WX[i0:i1]
    num[:] = acc[:, :d]
    den[:] = acc[:, d]


def row_block_sums(X, w, beta, shift, row_shift, exclude_self, num, den):
    """The sums of :func:`pairwise_sums_blas` by blocks of rows (G = X_blk Xᵀ, E in place by
    :func:`exp_rows`, num = E X); memory O(n · block_rows(n))."""
    n = X.shape[0]
    step = block_rows(n)
    XT = X.T
    G = np.empty((step, n))
    for i0 in range(0, n, step):
        i1 = min(i0 + step, n)
        g = G[: i1 - i0]
        np.dot(X[i0:i1], XT, out=g)
        exp_rows(g, w, beta, i0, exclude_self, row_shift, shift, den)
        np.dot(g, X, out=num[i0:i1])
