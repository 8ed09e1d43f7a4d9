"""Private numba kernels for tokens on S²: real spherical-harmonic moments and expansions.

Plain float64 arrays in, ``out`` arrays written; tokens are the columns of XT (3, n).
The real orthonormal harmonics are written without angles,

    Y_lm(x) = q_lm(z) Re (x + iy)^m,   Y_l,-m(x) = q_lm(z) Im (x + iy)^m   (m >= 1),

where q_lm(z) = N_lm P_l^m(z) / (1 - z²)^{m/2} is a polynomial of degree l - m: the
factor sin^m θ is carried by the power (x + iy)^m, so nothing is singular at the poles.
With q_mm the constant SECT[m] and q_{m-1,m} = 0,

    q_lm(z) = a_lm z q_{l-1,m}(z) - b_lm q_{l-2,m}(z),
    a_lm = sqrt((4l² - 1) / (l² - m²)),  b_lm = sqrt((2l + 1)((l-1)² - m²) / ((2l - 3)(l² - m²))),

the stable recurrence of the fully normalised associated Legendre functions (Holmes &
Featherstone, J. Geodesy 76 (2002) 279), run on q_lm / rho_lm to save a multiplication
(:func:`recurrence_tables`). The pairs (l, m), 0 <= m <= l <= L, are packed by m then
l (:func:`pair_offsets`). Token blocks of LANES share every coefficient load,
and the loops over a block vectorise. Public wrappers live in :mod:`mtlib.fields`.
"""

import numba as nb
import numpy as np

from ._kernels_sphere import FASTMATH, exp_poly

LANES = 128  # tokens per block (the block's work arrays, 19 x 1 KiB, stay in L1)
FLUSH = 64  # blocks summed into a partial moment before it joins the task's total


@nb.njit(cache=True, parallel=True)
def unit_columns(X, out):
    """out[:, i] = x_i / |x_i| for the rows of X (n, 3); out is (3, n)."""
    for i in nb.prange(X.shape[0]):
        r = 1.0 / np.sqrt(X[i, 0] * X[i, 0] + X[i, 1] * X[i, 1] + X[i, 2] * X[i, 2])
        out[0, i] = X[i, 0] * r
        out[1, i] = X[i, 1] * r
        out[2, i] = X[i, 2] * r


@nb.njit(cache=True)
def pair_offsets(L):
    """off[m] = index of the pair (m, m); the pairs (l, m), l = m..L, follow it."""
    off = np.empty(L + 2, np.int64)
    off[0] = 0
    for m in range(L + 1):
        off[m + 1] = off[m] + (L + 1 - m)
    return off


@nb.njit(cache=True)
def recurrence_tables(L):
    """(rho, bt), packed by pair: q_lm = rho_lm q~_lm with q~_mm = 1 and
    q~_lm = z q~_{l-1,m} - bt_lm q~_{l-2,m}, i.e. rho_mm = q_mm, rho_lm = a_lm rho_{l-1,m}
    and bt_lm = b_lm / (a_lm a_{l-1,m}) (one multiplication fewer per step). rho grows
    like 2^l (1e265 at L = 881): contributions below rho 1e-308 underflow, far below
    eps of the result."""
    off = pair_offsets(L)
    rho = np.empty(off[L + 1])
    bt = np.zeros(off[L + 1])
    sect = np.sqrt(0.25 / np.pi)
    for m in range(L + 1):
        if m > 0:
            sect *= np.sqrt(3.0 if m == 1 else (2.0 * m + 1.0) / (2.0 * m))
        p = off[m]
        rho[p] = sect
        a_prev = 0.0
        for l in range(m + 1, L + 1):
            p += 1
            a = np.sqrt((4.0 * l * l - 1.0) / (l * l - m * m))
            rho[p] = rho[p - 1] * a
            if l >= m + 2:
                b = np.sqrt((2.0 * l + 1.0) * ((l - 1.0) ** 2 - m * m) / ((2.0 * l - 3.0) * (l * l - m * m)))
                bt[p] = b / (a * a_prev)
            a_prev = a
    return rho, bt


@nb.njit(cache=True, parallel=True, fastmath=FASTMATH)
def moments(XT, w, L, n_tasks, out):
    """out[k, 0, p] = Σ_j w_j q~_lm(z_j) Re (x_j + iy_j)^m and out[k, 1, p] (Im) over task
    k's tokens: the moments Σ_j w_j Y_lm(x_j) divided by rho_lm (:func:`recurrence_tables`).

    Task k sums the tokens k n / n_tasks .. (k + 1) n / n_tasks - 1 (tasks in parallel):
    each block of LANES tokens is summed first, FLUSH blocks form a partial sum, the
    partials are added to out[k] (a rounding error ~ eps (LANES + FLUSH + n / 8192)
    instead of eps n). The recurrence runs four degrees per pass over a block. O(n L²).
    """
    n = XT.shape[1]
    off = pair_offsets(L)
    bt = recurrence_tables(L)[1]
    n_pairs = off[L + 1]
    for k in nb.prange(n_tasks):
        j0 = k * n // n_tasks
        j1 = (k + 1) * n // n_tasks
        acc = out[k]
        acc[:, :] = 0.0
        part = np.zeros((2, n_pairs))
        work = np.empty((7, LANES))
        x, y, z, wc, ws, p0, p1 = work[0], work[1], work[2], work[3], work[4], work[5], work[6]
        blocks = 0
        for c0 in range(j0, j1, LANES):
            nt = min(LANES, j1 - c0)
            for t in range(nt):
                x[t] = XT[0, c0 + t]
                y[t] = XT[1, c0 + t]
                z[t] = XT[2, c0 + t]
                wc[t] = w[c0 + t]
                ws[t] = 0.0
            for m in range(L + 1):
                if m > 0:  # w (x + iy)^m from w (x + iy)^{m-1}
                    for t in range(nt):
                        c = wc[t]
                        wc[t] = x[t] * c - y[t] * ws[t]
                        ws[t] = x[t] * ws[t] + y[t] * c
                p = off[m]
                sc = 0.0
                ss = 0.0
                for t in range(nt):  # l = m; p0, p1 = q~_{m-1,m} = 0, q~_mm = 1
                    sc += wc[t]
                    ss += ws[t]
                    p0[t] = 0.0
                    p1[t] = 1.0
                part[0, p] += sc
                part[1, p] += ss
                l = m + 1
                while l + 3 <= L:  # degrees l..l+3; afterwards p0, p1 = q~_{l+2,m}, q~_{l+3,m}
                    b1, b2, b3, b4 = bt[p + 1], bt[p + 2], bt[p + 3], bt[p + 4]
                    c1 = c2 = c3 = c4 = s1 = s2 = s3 = s4 = 0.0
                    for t in range(nt):
                        zt = z[t]
                        cw = wc[t]
                        sw = ws[t]
                        u1 = zt * p1[t] - b1 * p0[t]
                        u2 = zt * u1 - b2 * p1[t]
                        u3 = zt * u2 - b3 * u1
                        u4 = zt * u3 - b4 * u2
                        p0[t] = u3
                        p1[t] = u4
                        c1 += cw * u1
                        c2 += cw * u2
                        c3 += cw * u3
                        c4 += cw * u4
                        s1 += sw * u1
                        s2 += sw * u2
                        s3 += sw * u3
                        s4 += sw * u4
                    part[0, p + 1] += c1
                    part[0, p + 2] += c2
                    part[0, p + 3] += c3
                    part[0, p + 4] += c4
                    part[1, p + 1] += s1
                    part[1, p + 2] += s2
                    part[1, p + 3] += s3
                    part[1, p + 4] += s4
                    p += 4
                    l += 4
                while l <= L:
                    b1 = bt[p + 1]
                    c1 = s1 = 0.0
                    for t in range(nt):
                        u1 = z[t] * p1[t] - b1 * p0[t]
                        p0[t] = p1[t]
                        p1[t] = u1
                        c1 += wc[t] * u1
                        s1 += ws[t] * u1
                    part[0, p + 1] += c1
                    part[1, p + 1] += s1
                    p += 1
                    l += 1
            blocks += 1
            if blocks == FLUSH:
                acc += part
                part[:, :] = 0.0
                blocks = 0
        acc += part


@nb.njit(cache=True, fastmath=FASTMATH, inline="always")
def degree_sums(z, p0, p1, A, B, Ad, Bd, nt, bt, gc, gs, hc, hs, p, count):
    """Add degrees p+1..p+count (count = 1, 2 or 4, pairs packed by l) of one order m.

    Per token t: q = z q_1 - bt q_0 (the scaled q~), then A += gc q, B += gs q,
    Ad += hc q, Bd += hs q; (p0, p1) hold the last two q and are advanced.
    """
    if count == 4:
        b1, b2, b3, b4 = bt[p + 1], bt[p + 2], bt[p + 3], bt[p + 4]
        c1, c2, c3, c4 = gc[p + 1], gc[p + 2], gc[p + 3], gc[p + 4]
        s1, s2, s3, s4 = gs[p + 1], gs[p + 2], gs[p + 3], gs[p + 4]
        e1, e2, e3, e4 = hc[p + 1], hc[p + 2], hc[p + 3], hc[p + 4]
        f1, f2, f3, f4 = hs[p + 1], hs[p + 2], hs[p + 3], hs[p + 4]
        for t in range(nt):
            zt = z[t]
            q1 = p1[t]
            u1 = zt * q1 - b1 * p0[t]
            u2 = zt * u1 - b2 * q1
            u3 = zt * u2 - b3 * u1
            u4 = zt * u3 - b4 * u2
            p0[t] = u3
            p1[t] = u4
            A[t] += (c1 * u1 + c2 * u2) + (c3 * u3 + c4 * u4)
            B[t] += (s1 * u1 + s2 * u2) + (s3 * u3 + s4 * u4)
            Ad[t] += (e1 * u1 + e2 * u2) + (e3 * u3 + e4 * u4)
            Bd[t] += (f1 * u1 + f2 * u2) + (f3 * u3 + f4 * u4)
    elif count == 2:
        b1, b2 = bt[p + 1], bt[p + 2]
        c1, c2, s1, s2 = gc[p + 1], gc[p + 2], gs[p + 1], gs[p + 2]
        e1, e2, f1, f2 = hc[p + 1], hc[p + 2], hs[p + 1], hs[p + 2]
        for t in range(nt):
            zt = z[t]
            q1 = p1[t]
            u1 = zt * q1 - b1 * p0[t]
            u2 = zt * u1 - b2 * q1
            p0[t] = u1
            p1[t] = u2
            A[t] += c1 * u1 + c2 * u2
            B[t] += s1 * u1 + s2 * u2
            Ad[t] += e1 * u1 + e2 * u2
            Bd[t] += f1 * u1 + f2 * u2
    else:
        b1, c1, s1, e1, f1 = bt[p + 1], gc[p + 1], gs[p + 1], hc[p + 1], hs[p + 1]
        for t in range(nt):
            q1 = p1[t]
            u1 = z[t] * q1 - b1 * p0[t]
            p0[t] = q1
            p1[t] = u1
            A[t] += c1 * u1
            B[t] += s1 * u1
            Ad[t] += e1 * u1
            Bd[t] += f1 * u1


@nb.njit(cache=True, parallel=True, fastmath=FASTMATH)
def expansion(XT, gc, gs, hc, hs, L, phi0, beta, half, n_tasks, v, phi):
    """F = Σ_{l>=1,m} (gc_lm q~_lm(z) Re + gs_lm q~_lm(z) Im)(x + iy)^m, its tangential
    gradient and phi0 + β F (coefficients already multiplied by rho_lm).

    Writes v[:, i] = half² ∇_S F(x_i) = half² (G - <x_i, G> x_i) (multiplied by half twice,
    so that half² may overflow where the product does not), with G the gradient of that
    extension off the sphere (exact on it: only its tangential part is used), and
    phi[i] = phi0 + β F(x_i); v is (3, n). For each order m the sums
    A_m = Σ_l gc_lm q~_lm(z), B_m (with gs) and, for the z-derivatives of order m - 1,
    A'_{m-1} = Σ_l hc_lm q~_lm(z) and B'_{m-1} (with hs) are formed by
    :func:`degree_sums`: q_lm is N_lm times the m-th derivative of P_l, so
    q'_{l,m-1} = κ q_lm and the caller passes hc_lm = κ rho_lm (gc_{l,m-1} / rho_{l,m-1}),
    κ = ((l - m + 1)(l + m))^{1/2} (divided by 2^{1/2} for m = 1). Then with
    (x + iy)^m = C_m + i S_m, F += A_m C_m + B_m S_m, G_z += A'_{m-1} C_{m-1} +
    B'_{m-1} S_{m-1} and, as ∂_x (C_m + i S_m) = m (C_{m-1} + i S_{m-1}) =
    -i ∂_y (C_m + i S_m), G_x += m (A_m C_{m-1} + B_m S_{m-1}),
    G_y += m (B_m C_{m-1} - A_m S_{m-1}). Blocks of LANES tokens, n_tasks parallel tasks.
    O(n L²).
    """
    n = XT.shape[1]
    off = pair_offsets(L)
    bt = recurrence_tables(L)[1]
    n_blocks = (n + LANES - 1) // LANES
    for k in nb.prange(n_tasks):
        b0 = k * n_blocks // n_tasks
        b1 = (k + 1) * n_blocks // n_tasks
        work = np.empty((17, LANES))
        x, y, z = work[0], work[1], work[2]
        cm, sm, cp, sp = work[3], work[4], work[5], work[6]  # (x + iy)^m and ^{m-1}
        A, B, Ad, Bd = work[7], work[8], work[9], work[10]
        gx, gy, gz, F = work[11], work[12], work[13], work[14]
        p0, p1 = work[15], work[16]
        for blk in range(b0, b1):
            c0 = blk * LANES
            nt = min(LANES, n - c0)
            for t in range(nt):
                x[t] = XT[0, c0 + t]
                y[t] = XT[1, c0 + t]
                z[t] = XT[2, c0 + t]
                cm[t] = 1.0
                sm[t] = 0.0
                gx[t] = 0.0
                gy[t] = 0.0
                gz[t] = 0.0
                F[t] = 0.0
            for m in range(L + 1):
                if m > 0:
                    for t in range(nt):
                        cp[t] = cm[t]
                        sp[t] = sm[t]
                        cm[t] = x[t] * cp[t] - y[t] * sp[t]
                        sm[t] = x[t] * sp[t] + y[t] * cp[t]
                p = off[m]
                for t in range(nt):  # l = m; p0, p1 = q~_{m-1,m} = 0, q~_mm = 1
                    A[t] = gc[p]
                    B[t] = gs[p]
                    Ad[t] = hc[p]
                    Bd[t] = hs[p]
                    p0[t] = 0.0
                    p1[t] = 1.0
                left = L - m
                while left > 0:
                    count = 4 if left >= 4 else (2 if left >= 2 else 1)
                    degree_sums(z, p0, p1, A, B, Ad, Bd, nt, bt, gc, gs, hc, hs, p, count)
                    p += count
                    left -= count
                for t in range(nt):
                    F[t] += A[t] * cm[t] + B[t] * sm[t]
                if m > 0:
                    for t in range(nt):
                        gx[t] += m * (A[t] * cp[t] + B[t] * sp[t])
                        gy[t] += m * (B[t] * cp[t] - A[t] * sp[t])
                        gz[t] += Ad[t] * cp[t] + Bd[t] * sp[t]
            for t in range(nt):
                xg = x[t] * gx[t] + y[t] * gy[t] + z[t] * gz[t]
                v[0, c0 + t] = (gx[t] - xg * x[t]) * half * half
                v[1, c0 + t] = (gy[t] - xg * y[t]) * half * half
                v[2, c0 + t] = (gz[t] - xg * z[t]) * half * half
                phi[c0 + t] = phi0 + beta * F[t]


@nb.njit(cache=True, fastmath=FASTMATH, inline="always")
def row_terms(x, y, z, w, a0, a1, a2, x0, x1, x2, s, j0, j1):
    """(n0, n1, n2, total) over the columns j0..j1-1 of one row (see :func:`direct_rows`):
    total = Σ_j w_j e^{a·x_j - s} and n = Σ_j (those terms) (x_j - <x_r,x_j> x_r)."""
    n0 = 0.0
    n1 = 0.0
    n2 = 0.0
    total = 0.0
    for j in range(j0, j1):
        e = w[j] * exp_poly(a0 * x[j] + a1 * y[j] + a2 * z[j] - s)
        g = x0 * x[j] + x1 * y[j] + x2 * z[j]
        n0 += e * (x[j] - g * x0)
        n1 += e * (y[j] - g * x1)
        n2 += e * (z[j] - g * x2)
        total += e
    return n0, n1, n2, total


@nb.njit(cache=True, fastmath=FASTMATH, inline="always")
def row_max(x, y, z, w, a0, a1, a2, j0, j1, best):
    """max(best, max_{j0<=j<j1, w_j>0} a·x_j), the exponents rounded as in :func:`row_terms`."""
    for j in range(j0, j1):
        e = a0 * x[j] + a1 * y[j] + a2 * z[j]
        best = max(best, e if w[j] > 0.0 else -np.inf)
    return best


@nb.njit(cache=True, parallel=True, fastmath=FASTMATH)
def direct_rows(XT, w, beta, rows, shift_all, num, den, shift):
    """The direct sums at the tokens listed in rows, shifted, pair by pair.

    For r = rows[q]: shift[q] = s_r = |β| if shift_all (no term can underflow for
    |β| <= 350), else max_{j≠r, w_j>0} β<x_r,x_j> (0 if there is no such token);
    num[:, q] = Σ_{j≠r} w_j e^{β<x_r,x_j> - s_r} (x_j - <x_r,x_j> x_r) and
    den[q] = Σ_{j≠r} w_j e^{β<x_r,x_j> - s_r}. The exponents are Σ_k (β x_kr) x_kj in
    this order in both passes, so the largest term is e^0 exactly. The columns j < r and
    j > r run as two contiguous loops (no test per pair: they vectorise). Tokens must be
    distinct (merge duplicates first). O(n) per listed row, rows in parallel.
    """
    n = XT.shape[1]
    x, y, z = XT[0], XT[1], XT[2]
    for q in nb.prange(rows.size):
        r = rows[q]
        a0 = beta * x[r]
        a1 = beta * y[r]
        a2 = beta * z[r]
        if shift_all:
            s = abs(beta)
        else:
            best = row_max(x, y, z, w, a0, a1, a2, r + 1, n, row_max(x, y, z, w, a0, a1, a2, 0, r, -np.inf))
            s = best if best > -np.inf else 0.0
        lo = row_terms(x, y, z, w, a0, a1, a2, x[r], y[r], z[r], s, 0, r)
        hi = row_terms(x, y, z, w, a0, a1, a2, x[r], y[r], z[r], s, r + 1, n)
        num[0, q] = lo[0] + hi[0]
        num[1, q] = lo[1] + hi[1]
        num[2, q] = lo[2] + hi[2]
        den[q] = lo[3] + hi[3]
        shift[q] = s
