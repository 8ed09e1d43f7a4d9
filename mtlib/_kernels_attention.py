"""Private numba kernel: attention sums with general query/key and value matrices, optionally causal.

Tokens X (n, d), queries Q = X A (row i: Aᵀ x_i, so <Q_i, x_j> = <x_i, A x_j>), values
Y = X Vᵀ (row j: V x_j). Row i sums over the tokens j that enter (all j, or j <= i when
causal), with exponents e_ij = β <Q_i, x_j> shifted by the row maximum s_i over the
terms that enter (so the largest term is e^0 and nothing overflows; terms 700 below it
underflow to 0 against it); for USA the row is multiplied by e^{s_i} at the end. The
velocity modes keep the self term apart: tokens identical to x_i (x_i itself included,
weight ω_i; found by |e_ij - e_ii| <= 1e-12 |e_ii|, then coordinate by coordinate)
contribute ω_i e^{e_ii - s_i} P_{x_i} V x_i, with the tangent self vector
T_i = P_{x_i} V x_i given by the caller (computed once, exact to the rounding of
|V x_i|); the other tokens are summed and projected as one vector, num_i - <x_i, num_i>
x_i. When V = c I the self vector is 0 exactly, so identical tokens enter only the SA
denominator (as in :mod:`._field_eval`) and not the shift. The sums over j run along
the rows of Xᵀ and Yᵀ (vectorised). Public wrappers: :mod:`mtlib._attention_eval`.
"""

import math

import numba as nb
import numpy as np

from ._kernels_sphere import FASTMATH, exp_poly

SELF_FREE = 0  # velocity with V = c I: the self term's tangent part is exactly 0
SELF_TERM = 1  # velocity with a general V: ω_i e^{e_ii - s_i} T_i is added
OUTPUT = 2  # the attention output Σ_j w_j e^{e_ij - s_i} V x_j, unprojected, all terms


@nb.njit(cache=True, fastmath=FASTMATH)
def _dot(a, b):
    s = 0.0
    for k in range(a.size):
        s += a[k] * b[k]
    return s


@nb.njit(cache=True)
def _same(X, i, j):
    """True when tokens i and j are identical, coordinate by coordinate."""
    for k in range(X.shape[1]):
        if X[i, k] != X[j, k]:
            return False
    return True


@nb.njit(cache=True, fastmath=FASTMATH)
def _row(X, XT, Q, YT, T, w, beta, causal, mode, usa, i, e, v, acc):
    """Row i of :func:`attention_rows` into v (d,); e (n,) and acc (d,) are scratch; XT,
    YT (d, n) are X and Y transposed (the sums over j run along their rows, vectorised).
    Returns (den_i, s_i)."""
    n, d = X.shape
    end = i + 1 if causal else n
    for j in range(end):
        e[j] = 0.0
    for k in range(d):
        q = beta * Q[i, k]
        for j in range(end):
            e[j] += q * XT[k, j]
    e_ii = e[i]
    own = 0.0
    best = -np.inf
    tol = 1e-12 * abs(e_ii) + 1e-300
    for j in range(end):
        x = e[j]
        if mode != OUTPUT and abs(x - e_ii) <= tol and _same(X, i, j):
            own += w[j]
            e[j] = -np.inf
        elif w[j] > 0.0 and x > best:
            best = x
    if mode == SELF_TERM and own > 0.0 and e_ii > best:
        best = e_ii
    s_i = best if best > -np.inf else 0.0
    den = 0.0
    for j in range(end):
        x = w[j] * exp_poly(e[j] - s_i)
        e[j] = x
        den += x
    for k in range(d):
        a = 0.0
        for j in range(end):
            a += e[j] * YT[k, j]
        acc[k] = a
    if mode == OUTPUT:
        for k in range(d):
            v[k] = acc[k]
    else:
        c = _dot(acc, X[i])
        for k in range(d):
            v[k] = acc[k] - c * X[i, k]
        if own > 0.0:
            self_weight = own * math.exp(min(e_ii - s_i, 710.0))  # inf: the self term dwarfs the rest
            den += self_weight
            if mode == SELF_TERM:
                for k in range(d):
                    v[k] += self_weight * T[i, k]
    if usa:  # e^{s_i} as e^{s_i/2} twice (v e^{s_i} may be finite where e^{s_i} is not)
        half = math.exp(0.5 * s_i)
        for k in range(d):
            v[k] = (v[k] * half) * half
    return den, s_i


@nb.njit(cache=True, parallel=True)
def attention_rows(X, Q, Y, T, w, beta, causal, mode, usa, rows, out, den):
    """For each r, row i = rows[r]: out[r] = the shifted sum of row i (see the module
    notes; mode SELF_FREE, SELF_TERM or OUTPUT), times e^{s_i} if usa (each row by its
    own arithmetic: rows never depend on each other), den[r] = Σ_j w_j e^{e_ij - s_i}
    over the same terms (the self weight included in the velocity modes).

    X, Q, Y, T (n, d) float64, w (n,), rows (m,) int64; out (m, d), den (m,) written.
    """
    n, d = X.shape
    XT = np.ascontiguousarray(X.T)
    YT = np.ascontiguousarray(Y.T)
    for r in nb.prange(rows.size):
        e = np.empty(n)
        acc = np.empty(d)
        den[r], _ = _row(X, XT, Q, YT, T, w, beta, causal, mode, usa, rows[r], e, out[r], acc)
    return 0


@nb.njit(cache=True, parallel=True)
def attention_batch(X, Q, Y, T, W, beta, causal, mode, usa, out, den):
    """:func:`attention_rows` for every row of B systems at once: X, Q, Y, T, out (B, n, d),
    W, den (B, n); system b's rows use its own arrays only (the same arithmetic as one
    system alone)."""
    B, n, d = X.shape
    XT = np.empty((B, d, n))
    YT = np.empty((B, d, n))
    for b in range(B):
        XT[b] = X[b].T
        YT[b] = Y[b].T
    for k in nb.prange(B * n):
        b = k // n
        i = k - b * n
        e = np.empty(n)
        acc = np.empty(d)
        den[b, i], _ = _row(X[b], XT[b], Q[b], YT[b], T[b], W[b], beta, causal, mode, usa, i, e, out[b, i], acc)
    return 0
