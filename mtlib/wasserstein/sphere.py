"""Optimal-transport distances on the sphere S^{d-1}: exact, sliced, and to one Dirac.

Samples are unit vectors (rows); the ground distance is the geodesic angle (or the chordal
distance |x - y| where asked). Every function returns :math:`W_p`, not :math:`W_p^p`.
The sliced distance projects on random great circles and uses the exact circle kernels of
:mod:`mtlib._kernels_wasserstein`.
"""

import numpy as np
from scipy.optimize import linear_sum_assignment, linprog
from scipy.sparse import csr_matrix, vstack
from scipy.spatial.distance import cdist

from .. import _kernels_wasserstein as _K
from . import _kernels_frechet as _frechet
from .._constants import TWO_PI
from .._validate import check_angles, check_choice, check_int, check_memory, check_rng, check_unit_rows, check_weights
from ._quantiles import check_p, levels, root, unit_turns

__all__ = ["wasserstein_sphere", "sliced_wasserstein_sphere", "distance_to_dirac"]

MAX_ASSIGNMENT_SIZE = 5000
MAX_LP_VARIABLES = 250_000
SAFE_LOG_POWER = 600.0  # costs (d/scale)^p with |p log(d/scale)| below this are normal floats
COST_CAP = 1e15  # scaled costs are capped here: no entry of an optimal coupling comes near it
MAX_RESCALES = 64


def _sphere_distances(X, Y, cost):
    """Pairwise geodesic angles 2 atan2(|x - y|, |x + y|) or chordal distances |x - y|."""
    minus = cdist(X, Y)
    if cost == "chordal":
        return minus
    return 2.0 * np.arctan2(minus, cdist(X, -Y))


def _transport_lp(C, a, b):
    """(min <C, π>, π) over couplings π of a and b (HiGHS dual simplex)."""
    n, m = C.shape
    rows = np.repeat(np.arange(n), m)
    cols = np.tile(np.arange(m), n)
    idx = np.arange(n * m)
    ones = np.ones(n * m)
    A_eq = vstack([csr_matrix((ones, (rows, idx)), shape=(n, n * m)),
                   csr_matrix((ones, (cols, idx)), shape=(m, n * m))]).tocsr()
    res = linprog(C.ravel(), A_eq=A_eq, b_eq=np.concatenate([a, b]), bounds=(0, None),
                  method="highs-ds",
                  options={"primal_feasibility_tolerance": 1e-10,
                           "dual_feasibility_tolerance": 1e-10})
    if not res.success:
        raise RuntimeError(f"transport linear program failed: {res.message}")
    return max(float(res.fun), 0.0), res.x.reshape(n, m)


def _exact_wp(D, a, b, p, uniform):
    """W_p from the distances D by the assignment (uniform) or the LP, costs scaled to float range.

    The costs are (D/s)^p: s = 1 while max D^p is a normal float (the common case), else s
    is the largest distance of the previous optimal coupling, until that coupling's largest
    cost is a normal float; then W_p = s (Σ π_ij (D_ij/s)^p)^{1/p}.
    """
    top = D.max()
    scale = 1.0 if top == 0.0 or p * np.log(top) < SAFE_LOG_POWER else top
    for _ in range(MAX_RESCALES):
        with np.errstate(over="ignore", under="ignore"):
            C = np.minimum((D / scale) ** p, COST_CAP)
        if uniform:
            rows, cols = linear_sum_assignment(C)
            wpp, used = C[rows, cols].mean(), D[rows, cols]
        else:
            wpp, plan = _transport_lp(C, a, b)
            used = D[plan > 0]
        top = used.max()
        if top == 0.0 or abs(p * np.log(top / scale)) < SAFE_LOG_POWER:
            return scale * float(wpp) ** (1.0 / p)
        scale = top
    raise ValueError(f"p = {p:g} is too large for the exact solver at these distances: (d/d_max)^p leaves "
                     "the float64 range; use a smaller p")


def wasserstein_sphere(u, v, p=2, u_weights=None, v_weights=None, cost="geodesic"):
    """Exact Wasserstein distance W_p between two weighted samples on the sphere S^{d-1}.

    .. math::

        W_p^p(\\mu, \\nu) = \\min_{\\pi \\in \\Pi(a, b)} \\sum_{i,j} \\pi_{ij}\\, c(u_i, v_j)^p ,
        \\qquad c = \\arccos\\langle x, y\\rangle \\ \\text{(geodesic)}
        \\ \\text{or}\\ |x - y| \\ \\text{(chordal)} .

    Equal sizes with uniform weights: an optimal assignment
    (``scipy.optimize.linear_sum_assignment``, n <= 5000). Otherwise the linear program
    on the transport polytope (``scipy.optimize.linprog``, HiGHS dual simplex,
    feasibility tolerances 1e-10), for n·m <= 250 000; larger problems raise
    ``ValueError`` (use :func:`sliced_wasserstein_sphere`). The geodesic angle is computed
    as :math:`2\\,\\mathrm{atan2}(|x-y|, |x+y|)`, accurate for near and far points.

    Parameters
    ----------
    u, v : array_like, shape (n, d), (m, d)
        Unit vectors (rows), d >= 2, n, m >= 1.
    p : float, in [1, 1e6]
        Order of the distance (any p: the displacements are scaled by the largest one
        before the p-th power where it would underflow or overflow).
    u_weights, v_weights : array_like, optional
        Non-negative weights a, b summing to 1 (default uniform).
    cost : {"geodesic", "chordal"}
        Ground distance.

    Returns
    -------
    float
        W_p (not W_p^p), in radians (geodesic) or Euclidean units (chordal).

    References
    ----------
    G. Peyré, M. Cuturi, "Computational Optimal Transport", Found. Trends Mach. Learn.
    11 (2019), chapter 3.
    """
    X = check_unit_rows(u, "u")
    Y = check_unit_rows(v, "v")
    if X.shape[1] != Y.shape[1]:
        raise ValueError(f"u and v must have the same dimension d, got {X.shape[1]} and {Y.shape[1]}")
    p = check_p(p)
    cost = check_choice(cost, "cost", ("geodesic", "chordal"))
    n, m = X.shape[0], Y.shape[0]
    a = check_weights(u_weights, n, "u_weights")
    b = check_weights(v_weights, m, "v_weights")
    uniform = n == m and np.all(a == a[0]) and np.all(b == b[0])
    if uniform:
        if n > MAX_ASSIGNMENT_SIZE:
            raise ValueError(f"n = {n} > {MAX_ASSIGNMENT_SIZE} is too large for the exact "
                             "assignment; use sliced_wasserstein_sphere")
    elif n * m > MAX_LP_VARIABLES:
        raise ValueError(f"n*m = {n * m} > {MAX_LP_VARIABLES} is too large for the exact "
                         "linear program; use sliced_wasserstein_sphere")
    return _exact_wp(_sphere_distances(X, Y, cost), a, b, p, uniform)


def _plane_angles_sorted(X, U, weights):
    """Angles (in turns, [0, 1)) of X projected on the planes U, sorted per plane, and levels."""
    P = np.einsum("ldk,nd->lnk", U, X)
    x = unit_turns(np.arctan2(P[..., 1], P[..., 0]))
    L, n = x.shape
    if weights is None:
        A = np.broadcast_to(np.arange(n + 1, dtype=np.float64) / n, (L, n + 1))
        return np.ascontiguousarray(np.sort(x, axis=1)), np.ascontiguousarray(A)
    order = np.argsort(x, axis=1, kind="stable")
    return (np.ascontiguousarray(np.take_along_axis(x, order, axis=1)),
            levels(weights[order], axis=1))


def sliced_wasserstein_sphere(u, v, n_projections=200, rng=None, p=2, u_weights=None, v_weights=None):
    """Spherical sliced Wasserstein distance between two weighted samples on S^{d-1}.

    .. math::

        SSW_p(\\mu, \\nu) = \\Bigl( \\frac1L \\sum_{l=1}^{L}
            W_p^p\\bigl(P^{U_l}_\\# \\mu, P^{U_l}_\\# \\nu\\bigr) \\Bigr)^{1/p},
        \\qquad P^U(x) = \\frac{U^\\top x}{|U^\\top x|} \\in S^1 ,

    a Monte Carlo estimate over L random great circles: :math:`U_l` is the Q factor of
    a (d, 2) matrix of standard normals drawn from ``rng`` (all L at once,
    ``rng.standard_normal((L, d, 2))``), and each projected pair is compared with the
    exact circle distance :func:`wasserstein_circle` (geodesic, length 2π). This is
    Bonet et al.'s SSW_p; POT's ``ot.sliced_wasserstein_sphere`` computes the same
    quantity on the circle of length 1 (so it is 2π times smaller) for the same planes.
    A point orthogonal to a plane (probability zero) is sent to angle 0.

    Parameters
    ----------
    u, v : array_like, shape (n, d), (m, d)
        Unit vectors (rows), d >= 2.
    n_projections : int, >= 1
        Number L of random planes.
    rng : numpy.random.Generator, int or None
        Source of the planes (pass a seed for reproducible values).
    p : float, in [1, 1e6]
        Order of the distance (any p: the displacements are scaled by the largest one
        before the p-th power where it would underflow or overflow).
    u_weights, v_weights : array_like, optional
        Non-negative weights summing to 1 (default uniform).

    Returns
    -------
    float
        SSW_p (the p-th root of the mean of W_p^p), in radians.

    References
    ----------
    C. Bonet, P. Berg, N. Courty, F. Septier, L. Drumetz, M.-T. Pham, "Spherical
    sliced-Wasserstein", ICLR 2023.
    """
    X = check_unit_rows(u, "u")
    Y = check_unit_rows(v, "v")
    d = X.shape[1]
    if Y.shape[1] != d:
        raise ValueError(f"u and v must have the same dimension d, got {d} and {Y.shape[1]}")
    L = check_int(n_projections, "n_projections", low=1)
    check_memory(8 * L * (6 * (X.shape[0] + Y.shape[0]) + 4 * d), f"n_projections = {L} planes")
    rng = check_rng(rng)
    p = check_p(p)
    a = None if u_weights is None else check_weights(u_weights, X.shape[0], "u_weights")
    b = None if v_weights is None else check_weights(v_weights, Y.shape[0], "v_weights")
    U = np.linalg.qr(rng.standard_normal((L, d, 2)))[0]
    xs, AX = _plane_angles_sorted(X, U, a)
    ys, BY = _plane_angles_sorted(Y, U, b)
    scale, wpp = _K.batch_circle_wpp(xs, AX, ys, BY, p)
    top = scale.max()  # 1 unless a plane needed rescaling (large p, tiny distances)
    return root(np.mean(wpp * (scale / top) ** p), p, top)


def _karcher(X, w, y, max_iter=500):
    """Riemannian gradient descent (Karcher step, halved on failure) for sum w d(x, y)^2."""

    def logs(y):
        c = np.clip(X @ y, -1.0, 1.0)
        T = X - c[:, None] * y
        s = np.linalg.norm(T, axis=1)
        ang = np.arctan2(s, c)
        scale = np.divide(ang, s, out=np.zeros_like(s), where=s > 0)
        return T * scale[:, None], ang

    V, ang = logs(y)
    f = np.dot(w, ang**2)
    step = 1.0
    for _ in range(max_iter):
        v = w @ V
        t = np.linalg.norm(v) * step
        if t < 1e-15:
            break
        y_new = np.cos(t) * y + np.sin(t) * (v / np.linalg.norm(v))
        y_new /= np.linalg.norm(y_new)
        V_new, ang_new = logs(y_new)
        f_new = np.dot(w, ang_new**2)
        if f_new <= f:
            y, V, f = y_new, V_new, f_new
            step = min(1.0, 2.0 * step)
        else:
            step *= 0.5
    return f, y


def distance_to_dirac(X_or_theta, weights=None):
    """W2 distance from a weighted sample to the nearest single Dirac (geodesic cost).

    .. math::

        W_2(\\mu, \\delta_\\ast) = \\min_{y} \\Bigl(\\sum_i w_i\\, d(x_i, y)^2\\Bigr)^{1/2},

    the value of the Fréchet (Karcher) mean problem. On the circle (1-D angles, or
    (n, 2) unit vectors) it is exact: on each arc between consecutive antipodes
    :math:`x_i + \\pi` the objective is a quadratic, minimised at the weighted mean of
    the suitably unwrapped angles, O(n log n). On S^{d-1}, d >= 3, Riemannian gradient
    descent (the Karcher iteration :math:`y \\leftarrow \\exp_y \\sum_i w_i \\log_y x_i`,
    step halved when the value does not decrease) runs to a step below 1e-15 from the
    normalised Euclidean mean and from 8 sample points, and the best local minimum is
    kept; it is the global one whenever the sample lies in a ball of radius π/4 (Karcher
    1977), and a local minimum in general.

    Parameters
    ----------
    X_or_theta : array_like, shape (n,) or (n, d)
        Angles in radians, or unit vectors (rows), n >= 1.
    weights : array_like, optional
        Non-negative weights summing to 1 (default uniform).

    Returns
    -------
    float
        W2 (not W2²) to the nearest Dirac, in radians.

    References
    ----------
    H. Karcher, "Riemannian center of mass and mollifier smoothing", Comm. Pure Appl.
    Math. 30 (1977).
    """
    arr = np.asarray(X_or_theta)
    if arr.ndim == 1:
        theta = check_angles(arr, "X_or_theta")
    else:
        X = check_unit_rows(arr, "X_or_theta")
        if X.shape[1] == 2:
            theta = np.arctan2(X[:, 1], X[:, 0])
        else:
            theta = None
    n = arr.shape[0]
    w = check_weights(weights, n, "weights")
    if theta is not None:
        value, _ = _frechet.circle_frechet(unit_turns(theta), w)
        return TWO_PI * float(np.sqrt(max(value, 0.0)))
    m = w @ X
    starts = [X[i] for i in np.unique(np.linspace(0, n - 1, 8).astype(int))]
    if np.linalg.norm(m) > 1e-12:
        starts.insert(0, m / np.linalg.norm(m))
    best = min(_karcher(X, w, y0.copy())[0] for y0 in starts)
    return float(np.sqrt(max(best, 0.0)))
