"""Private numba kernels for mtlib.wasserstein: plain float64 arrays in, scalars out.

Conventions (all kernels): the circle has length 1; a discrete measure is given by its
sorted positions ``x`` in [0, 1) and its cumulative levels ``A`` (length n + 1,
``A[0] = 0``, ``A[n] = 1``), so that its quantile function is ``x[i]`` on the level
interval ``(A[i], A[i+1]]``. A target quantile function ``Q`` is piecewise linear on
level pieces ``(lv[j], lv[j+1]]`` from ``y0[j]`` to ``y1[j]`` (``y0 == y1`` for atoms),
extended to the real line by ``Q(s + 1) = Q(s) + 1``.

W_p^p is returned as ``(scale, value)``, ``W_p^p = scale^p * value``: displacements are
divided by the largest one where their p-th powers would leave the normal float64 range
(large p, tiny distances); ``scale`` is 1 otherwise.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def weighted_median(v, w, total):
    """Lower weighted median of values ``v`` with weights ``w`` (quickselect, O(K)).

    Returns a value m with weight(v < m) <= total/2 and weight(v <= m) >= total/2.
    ``v`` and ``w`` are overwritten.
    """
    return weighted_select(v, w, 0.5 * total)


@njit(cache=True)
def weighted_select(v, w, target):
    """Smallest value m of ``v`` with weight(v <= m) >= target (quickselect, O(K)).
    ``v`` and ``w`` are overwritten."""
    lo = 0
    hi = v.shape[0]
    seed = np.uint64(88172645463325252)
    while True:
        if hi - lo == 1:
            return v[lo]
        seed ^= seed << np.uint64(13)
        seed ^= seed >> np.uint64(7)
        seed ^= seed << np.uint64(17)
        pivot = v[lo + int(seed % np.uint64(hi - lo))]
        # three-way partition of [lo, hi): < pivot | == pivot | > pivot
        lt = lo
        i = lo
        gt = hi
        w_lt = 0.0
        w_eq = 0.0
        while i < gt:
            vi = v[i]
            if vi < pivot:
                wi = w[i]
                v[i] = v[lt]
                w[i] = w[lt]
                v[lt] = vi
                w[lt] = wi
                w_lt += wi
                lt += 1
                i += 1
            elif vi > pivot:
                gt -= 1
                wi = w[i]
                v[i] = v[gt]
                w[i] = w[gt]
                v[gt] = vi
                w[gt] = wi
            else:
                w_eq += w[i]
                i += 1
        if w_lt > target:
            hi = lt
        elif w_lt + w_eq >= target:
            return pivot
        else:
            target -= w_lt + w_eq
            lo = gt


@njit(cache=True)
def weighted_median_binned(v, w, total, vmin, vmax):
    """Lower weighted median of ``v`` in [vmin, vmax]: one pass into K value bins (order
    preserving), then quickselect inside the bin that holds the median. O(K)."""
    K = v.shape[0]
    if not vmax > vmin:
        return vmin
    scale = K / (vmax - vmin)
    hist = np.zeros(K)
    for q in range(K):
        b = min(int((v[q] - vmin) * scale), K - 1)
        hist[b] += w[q]
    target = 0.5 * total
    cum = 0.0
    bstar = K - 1
    for b in range(K):
        if cum + hist[b] >= target:
            bstar = b
            break
        cum += hist[b]
    cnt = 0
    for q in range(K):
        if min(int((v[q] - vmin) * scale), K - 1) == bstar:
            cnt += 1
    vb = np.empty(cnt)
    wb = np.empty(cnt)
    c = 0
    for q in range(K):
        if min(int((v[q] - vmin) * scale), K - 1) == bstar:
            vb[c] = v[q]
            wb[c] = w[q]
            c += 1
    return weighted_select(vb, wb, target - cum)


@njit(cache=True)
def w1_discrete(x, A, y, B):
    """W1 between two discrete measures on the circle of length 1 (closed form).

    ``W1 = min_alpha int_0^1 |F - G - alpha|``, alpha a weighted median of F - G.
    """
    n = x.shape[0]
    m = y.shape[0]
    K = n + m
    vals = np.empty(K)
    lens = np.empty(K)
    i = 0
    j = 0
    k = 0
    # the wrap interval [last point, 1) + [0, first point), where F - G = 0
    first = min(x[0], y[0])
    pos = first
    vmin = 0.0
    vmax = 0.0
    while i < n or j < m:
        if j >= m or (i < n and x[i] <= y[j]):
            pos = x[i]
            i += 1
        else:
            pos = y[j]
            j += 1
        # interval [pos, next point) carries F - G after all points <= pos
        if i < n and j < m:
            nxt = min(x[i], y[j])
        elif i < n:
            nxt = x[i]
        elif j < m:
            nxt = y[j]
        else:
            nxt = 1.0 + first
        val = A[i] - B[j]
        vals[k] = val
        lens[k] = nxt - pos
        vmin = min(vmin, val)
        vmax = max(vmax, val)
        k += 1
    med = weighted_median_binned(vals, lens, 1.0, vmin, vmax)
    total = 0.0
    for q in range(k):
        total += lens[q] * abs(vals[q] - med)
    return total


SAFE_LOG_POWER = 600.0  # |p log z| below this: z^p is far inside the normal float64 range


@njit(cache=True)
def _mean_abs_pow(z0, z1, p):
    """Mean of |z|^p over the segment [z0, z1] (exact, cancellation-free).

    Nearly constant segments use the series in r = d/z_m up to r^6, whose first neglected
    term is about (p r)^8 / 1e8: it is taken for |r| <= 1e-2 and p |r| <= 0.1.
    """
    d = z1 - z0
    zm = 0.5 * (z0 + z1)
    azm = abs(zm)
    if d == 0.0:
        return azm**p
    if abs(d) <= 1e-2 * azm and (p <= 10.0 or abs(d) * p <= 0.1 * azm):
        r2 = (d / zm) ** 2
        c1 = p * (p - 1.0) / 24.0
        c2 = c1 * (p - 2.0) * (p - 3.0) / 80.0
        c3 = c2 * (p - 4.0) * (p - 5.0) / 168.0
        return azm**p * (1.0 + r2 * (c1 + r2 * (c2 + r2 * c3)))
    a0 = abs(z0)
    a1 = abs(z1)
    if (z0 >= 0.0) == (z1 >= 0.0):
        return (a1 ** (p + 1.0) - a0 ** (p + 1.0)) / ((p + 1.0) * (a1 - a0))
    return (a0 ** (p + 1.0) + a1 ** (p + 1.0)) / ((p + 1.0) * (a0 + a1))


@njit(cache=True)
def _q_value(s, j, lv, y0, y1):
    """Q(s) on level piece j (s inside [lv[j], lv[j+1]], no lift)."""
    width = lv[j + 1] - lv[j]
    if width <= 0.0 or y1[j] == y0[j]:
        return y0[j]
    return y0[j] + (y1[j] - y0[j]) * ((s - lv[j]) / width)


@njit(cache=True)
def circle_cost(theta, x, A, lv, y0, y1, p, scale, snap):
    """(c(theta) / scale^p, max |z|): c(theta) = int_0^1 |z|^p dt, z = F^{-1}(t) - Q(t + theta).

    Exact for the given pieces, z divided by ``scale`` before the power; breaks of the two
    measures closer than ``snap`` in t are taken as one (no sliver of length ~1e-16).
    """
    inv = 1.0 / scale
    top = 0.0
    n = x.shape[0]
    K = lv.shape[0] - 1
    lift = np.floor(theta)
    s0 = theta - lift
    j = 0
    while j < K - 1 and lv[j + 1] <= s0:
        j += 1
    i = 0
    t = 0.0
    total = 0.0
    while i < n:
        tA = A[i + 1]
        tB = lv[j + 1] + lift - theta
        if abs(tA - tB) <= snap:
            tB = tA
        t_next = tA if tA < tB else tB
        if t_next > t:
            q0 = _q_value(min(max(t + theta - lift, lv[j]), lv[j + 1]), j, lv, y0, y1) + lift
            q1 = _q_value(min(max(t_next + theta - lift, lv[j]), lv[j + 1]), j, lv, y0, y1) + lift
            z0 = x[i] - q0
            z1 = x[i] - q1
            top = max(top, abs(z0), abs(z1))
            total += (t_next - t) * _mean_abs_pow(z0 * inv, z1 * inv, p)
            t = t_next
        if tA <= t_next:
            i += 1
        if tB <= t_next:
            j += 1
            if j == K:
                j = 0
                lift += 1.0
    return total, top


@njit(cache=True)
def circle_slope(theta, x, A, lv, y0, y1, p, scale):
    """(c'(theta) / scale^p, max |z| / scale), c' the right derivative of c(theta).

    The sum over the source's level breaks A[i] of the cost change when the mass just
    above the break switches from x[i+1] to x[i]; displacements divided by ``scale``.
    """
    inv = 1.0 / scale
    top = 0.0
    n = x.shape[0]
    K = lv.shape[0] - 1
    g = 0.0
    j = 0
    cur_lift = np.floor(A[1] + theta)
    for i in range(1, n + 1):
        s = A[i] + theta
        lift = np.floor(s)
        if lift != cur_lift:
            cur_lift = lift
            j = 0
        sp = s - lift
        while j < K - 1 and lv[j + 1] <= sp:
            j += 1
        q = _q_value(sp, j, lv, y0, y1) + lift
        x_next = x[i] if i < n else x[0] + 1.0
        a = abs(x[i - 1] - q) * inv
        b = abs(x_next - q) * inv
        top = max(top, a, b)
        g += a**p - b**p
    return g, top


@njit(cache=True)
def _in_range(top, p):
    """True if top^p is a normal float far from overflow (or top = 0): no rescaling needed."""
    return top == 0.0 or abs(p * np.log(top)) < SAFE_LOG_POWER


@njit(cache=True)
def circle_wpp(x, A, lv, y0, y1, p):
    """(scale, value), W_p^p = scale^p * value = min over theta of c(theta) (length-1 circle).

    c is convex, its minimiser in [-1, 1]: bisection on the sign of the right derivative
    to width 1e-15 (each slope rescaled by its largest displacement if its powers leave
    the float range). c is kinked at the minimiser when two breaks meet there (always for
    two discrete measures), so the ends of the bracket are evaluated with those breaks
    joined (``snap``): the value is exact up to rounding, also at large p.
    """
    a = -1.0
    b = 1.0
    while b - a > 1e-15:
        mid = 0.5 * (a + b)
        if mid <= a or mid >= b:
            break
        g, top = circle_slope(mid, x, A, lv, y0, y1, p, 1.0)
        if not _in_range(top, p):
            g = circle_slope(mid, x, A, lv, y0, y1, p, top)[0]
        if g < 0.0:
            a = mid
        else:
            b = mid
    snap = b - a + 1e-15
    best_scale, best, best_w = 1.0, np.inf, np.inf
    for theta in (a, b):
        value, top = circle_cost(theta, x, A, lv, y0, y1, p, 1.0, snap)
        scale = 1.0
        if not _in_range(top, p):
            scale = top
            value = circle_cost(theta, x, A, lv, y0, y1, p, scale, snap)[0]
        w = scale * max(value, 0.0) ** (1.0 / p)
        if (value < best) if scale == best_scale else (w < best_w):
            best_scale, best, best_w = scale, value, w
    return best_scale, best


@njit(cache=True)
def batch_circle_wpp(X, AX, Y, BY, p):
    """(scales, values): W_p^p = scale^p * value (length-1 circle) for each row pair."""
    L = X.shape[0]
    scales = np.ones(L)
    out = np.empty(L)
    for r in range(L):
        if p == 1.0:
            out[r] = w1_discrete(X[r], AX[r], Y[r], BY[r])
        else:
            scales[r], out[r] = circle_wpp(X[r], AX[r], BY[r], Y[r], Y[r], p)
    return scales, out


# ---------------------------------------------------------------------------------------
# distance to k equally spaced Diracs
# ---------------------------------------------------------------------------------------


@njit(cache=True)
def _pair_mass(i, j, theta, A, k):
    """Mass sent from source atom i to target atom j (block ((j-1)/k - theta, j/k - theta])."""
    hi = min(A[i + 1], j / k - theta)
    lo = max(A[i], (j - 1) / k - theta)
    return hi - lo if hi > lo else 0.0


@njit(cache=True)
def _coupling_cost(theta, x, A, k, p):
    """(min over rho of sum m_ij |Z_ij - rho|^p, rho) for the coupling at level shift theta.

    p is 1 (weighted median) or 2 (weighted mean); Z_ij = x_i - (j-1)/k.
    """
    n = x.shape[0]
    cap = n + k + 2
    Z = np.empty(cap)
    M = np.empty(cap)
    c = 0
    i = 0
    j = 1
    t = 0.0
    while i < n:
        tA = A[i + 1]
        tB = j / k - theta
        t_next = tA if tA < tB else tB
        if t_next > t:
            Z[c] = x[i] - (j - 1) / k
            M[c] = t_next - t
            c += 1
            t = t_next
        if tA <= t_next:
            i += 1
        if tB <= t_next:
            j += 1
    Z = Z[:c]
    M = M[:c]
    if p == 1.0:
        rho = weighted_median(Z.copy(), M.copy(), M.sum())
        cost = 0.0
        for q in range(c):
            cost += M[q] * abs(Z[q] - rho)
    else:
        rho = 0.0
        for q in range(c):
            rho += M[q] * Z[q]
        rho /= M.sum()
        cost = 0.0
        for q in range(c):
            cost += M[q] * (Z[q] - rho) ** 2
    return cost, rho


@njit(cache=True)
def _fen_add(tree, pos, val):
    size = tree.shape[0]
    pos += 1
    while pos <= size:
        tree[pos - 1] += val
        pos += pos & (-pos)


@njit(cache=True)
def _fen_build(tree, vals):
    size = tree.shape[0]
    tree[:] = vals
    for pos in range(1, size + 1):
        parent = pos + (pos & (-pos))
        if parent <= size:
            tree[parent - 1] += tree[pos - 1]


@njit(cache=True)
def _fen_median(treeM, treeS, half):
    """Smallest rank r with prefix mass >= half; returns (r, prefix mass, prefix sum)
    over ranks < r."""
    size = treeM.shape[0]
    step = 1
    while step * 2 <= size:
        step *= 2
    pos = 0
    acc_m = 0.0
    acc_s = 0.0
    while step > 0:
        nxt = pos + step
        if nxt <= size and acc_m + treeM[nxt - 1] < half:
            pos = nxt
            acc_m += treeM[nxt - 1]
            acc_s += treeS[nxt - 1]
        step //= 2
    return pos, acc_m, acc_s


@njit(cache=True)
def equispaced_sweep(x, A, k, p):
    """Minimise over couplings and rotations the cost to k equispaced equal Diracs.

    Returns (W_p^p, rho) on the circle of length 1; the optimal target atoms sit at
    rho + j/k. Candidate level shifts theta = ceil(k A_i)/k - A_i; between two candidates
    the optimum over rho is concave in theta, so the minimum is at a candidate. The
    sweep keeps the pair masses in Fenwick trees (p = 1) or running sums (p = 2), then
    re-evaluates the near-best candidates exactly.
    """
    n = x.shape[0]
    invk = 1.0 / k
    # candidate level shifts, sorted
    cand = np.empty(n + 1)
    for i in range(n + 1):
        th = np.ceil(A[i] * k) / k - A[i]
        if th >= invk or th < 0.0:
            th = 0.0
        cand[i] = th
    cand = np.unique(cand)
    C = cand.shape[0]
    # enumerate pairs (i, j) that can carry mass for theta in [0, 1/k]
    jlo = np.empty(n, np.int64)
    jhi = np.empty(n, np.int64)
    base = np.empty(n + 1, np.int64)
    base[0] = 0
    for i in range(n):
        lo = int(np.floor(A[i] * k))
        hi = int(np.ceil(A[i + 1] * k)) + 2
        jlo[i] = max(1, lo)
        jhi[i] = min(k + 1, hi)
        base[i + 1] = base[i] + jhi[i] - jlo[i] + 1
    P = base[n]
    Zp = np.empty(P)
    for i in range(n):
        for j in range(jlo[i], jhi[i] + 1):
            Zp[base[i] + j - jlo[i]] = x[i] - (j - 1) * invk
    order = np.argsort(Zp)
    rank = np.empty(P, np.int64)
    for r in range(P):
        rank[order[r]] = r
    Zs = Zp[order]
    mass = np.zeros(P)
    approx = np.empty(C)
    treeM = np.zeros(P)
    treeS = np.zeros(P)
    mr = np.zeros(P)
    s1 = 0.0
    s2 = 0.0
    # pointer of the source interval holding each boundary b_j = j/k - theta, j = 1..k
    ptr = np.empty(k + 1, np.int64)
    for c in range(C):
        theta = cand[c]
        if c % 256 == 0:
            # (re)build everything from exact masses
            for i in range(n):
                for j in range(jlo[i], jhi[i] + 1):
                    mass[base[i] + j - jlo[i]] = _pair_mass(i, j, theta, A, k)
            s1 = 0.0
            s2 = 0.0
            for q in range(P):
                mr[rank[q]] = mass[q]
                s1 += mass[q] * Zp[q]
                s2 += mass[q] * Zp[q] * Zp[q]
            if p == 1.0:
                _fen_build(treeM, mr)
                _fen_build(treeS, mr * Zs)
            for j in range(1, k + 1):
                bj = j * invk - theta
                i = n - 1
                while i > 0 and A[i] >= bj:
                    i -= 1
                ptr[j] = i
        else:
            for j in range(1, k + 1):
                bj = j * invk - theta
                i_old = ptr[j]
                i_new = i_old
                while i_new > 0 and A[i_new] >= bj:
                    i_new -= 1
                ptr[j] = i_new
                for i in range(i_new, i_old + 1):
                    for jj in (j, j + 1):
                        if jj < jlo[i] or jj > jhi[i]:
                            continue
                        q = base[i] + jj - jlo[i]
                        newm = _pair_mass(i, jj, theta, A, k)
                        dm = newm - mass[q]
                        if dm != 0.0:
                            mass[q] = newm
                            s1 += dm * Zp[q]
                            s2 += dm * Zp[q] * Zp[q]
                            if p == 1.0:
                                _fen_add(treeM, rank[q], dm)
                                _fen_add(treeS, rank[q], dm * Zp[q])
        if p == 1.0:
            r, m_lt, s_lt = _fen_median(treeM, treeS, 0.5)
            rho = Zs[min(r, P - 1)]
            approx[c] = rho * (2.0 * m_lt - 1.0) - 2.0 * s_lt + s1
        else:
            approx[c] = s2 - s1 * s1
    # exact re-evaluation of the near-best candidates
    best = approx.min()
    idx = np.argsort(approx)
    best_cost = np.inf
    best_rho = 0.0
    for q in range(min(C, 64)):
        c = idx[q]
        if q > 0 and approx[c] > best + 1e-9:
            break
        cost, rho = _coupling_cost(cand[c], x, A, k, p)
        if cost < best_cost:
            best_cost = cost
            best_rho = rho
    return max(best_cost, 0.0), best_rho
