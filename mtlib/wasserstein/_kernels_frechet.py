"""Private numba kernel of mtlib.wasserstein: the W2 distance to one Dirac on the circle.

The circle has length 1 here (positions in turns, sorted in [0, 1)); plain float64
arrays in, scalars out.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def _circle_frechet_value(x, w, y):
    total = 0.0
    for i in range(x.shape[0]):
        d = x[i] - y
        d -= np.floor(d + 0.5)
        total += w[i] * d * d
    return total


@njit(cache=True)
def circle_frechet(x, w):
    """min_y sum w_i d(x_i, y)^2 on the circle of length 1, x sorted in [0, 1).

    On each arc between consecutive antipodes x_i + 1/2 the branch of every distance is
    fixed and the objective is a quadratic whose minimiser is the weighted mean of the
    lifted points (clamped to the arc). Returns (value, y).
    """
    n = x.shape[0]
    # antipodes, sorted: x_i + 1/2 mod 1
    anti = np.empty(n)
    for i in range(n):
        a = x[i] + 0.5
        anti[i] = a - 1.0 if a >= 1.0 else a
    order = np.argsort(anti)
    # On the arc just above the antipode of order[q], point i sits at x_i + lift_i with
    # |x_i + lift_i - y| <= 1/2: lift_i = (-1 if x_i + 1/2 >= 1 else 0) + (1 once y has
    # passed its antipode). Passing is decided by rank, so ties are consistent.
    cand_y = np.empty(n)
    approx = np.empty(n)
    lift = np.empty(n)
    s1 = 0.0
    s2 = 0.0
    for i in range(n):
        lift[i] = -1.0 if x[i] + 0.5 >= 1.0 else 0.0
    lift[order[0]] += 1.0
    for i in range(n):
        s1 += w[i] * (x[i] + lift[i])
        s2 += w[i] * (x[i] + lift[i]) ** 2
    for q in range(n):
        a_lo = anti[order[q]]
        a_hi = anti[order[q + 1]] if q + 1 < n else anti[order[0]] + 1.0
        y = min(max(s1, a_lo), a_hi)
        cand_y[q] = y
        approx[q] = s2 - 2.0 * y * s1 + y * y
        if q + 1 < n:
            # passing the antipode of point i moves it up by one turn
            i = order[q + 1]
            old = x[i] + lift[i]
            lift[i] += 1.0
            new = x[i] + lift[i]
            s1 += w[i] * (new - old)
            s2 += w[i] * (new * new - old * old)
    best = approx.min()
    idx = np.argsort(approx)
    best_val = np.inf
    best_y = 0.0
    for q in range(min(n, 64)):
        c = idx[q]
        if q > 0 and approx[c] > best + 1e-9:
            break
        y = cand_y[c] - np.floor(cand_y[c])
        val = _circle_frechet_value(x, w, y)
        if val < best_val:
            best_val = val
            best_y = y
    return best_val, best_y
