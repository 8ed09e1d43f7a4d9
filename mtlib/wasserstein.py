"""Optimal-transport distances on the circle and the sphere, and the Dobrushin constant.

Angles are in radians on the circle of length 2π with the geodesic (arc-length) cost.
Every function returns the distance :math:`W_p` itself, not :math:`W_p^p` (POT's
``ot.wasserstein_circle`` returns :math:`W_p^p` on the circle of length 1: multiply
its p-th root by 2π to compare).

On the circle all distances come from the quantile representation of Delon, Salomon
and Sobolevski (2010): with F, G the cumulative distribution functions lifted to the
real line (:math:`F(x + 1) = F(x) + 1` on the circle of length 1),

.. math::

    W_p^p(\\mu, \\nu) = \\min_{\\theta \\in \\mathbb{R}}
        \\int_0^1 \\bigl|F^{-1}(t) - G^{-1}(t + \\theta)\\bigr|^p \\, dt ,

a convex problem in the level shift θ. The kernels live in
:mod:`mtlib._kernels_wasserstein`.
"""

import numpy as np
from scipy.optimize import linear_sum_assignment, linprog
from scipy.sparse import csr_matrix, vstack
from scipy.spatial.distance import cdist

from . import _kernels_wasserstein as _K
from ._validate import (
    check_angles,
    check_array,
    check_choice,
    check_int,
    check_model,
    check_real,
    check_rng,
    check_unit_rows,
    check_weights,
)

__all__ = [
    "wasserstein_circle",
    "wasserstein_circle_density",
    "wasserstein_circle_uniform",
    "distance_to_equispaced",
    "wasserstein_sphere",
    "sliced_wasserstein_sphere",
    "distance_to_dirac",
    "dobrushin_constant",
]

TWO_PI = 2.0 * np.pi
DENSITY_MASS_TOL = 1e-8
MAX_ASSIGNMENT_SIZE = 5000
MAX_LP_VARIABLES = 250_000


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------


def _check_p(p):
    return check_real(p, "p", low=1.0)


def _unit_turns(theta):
    """Angles in radians -> positions in [0, 1) on the circle of length 1."""
    x = np.asarray(theta, dtype=np.float64) / TWO_PI
    x = x - np.floor(x)
    x[x >= 1.0] = 0.0
    return x


def _levels(w_sorted, axis=-1):
    """Cumulative levels [0, w1, w1 + w2, ..., 1] along ``axis`` (last level exactly 1)."""
    A = np.cumsum(w_sorted, axis=axis)
    A = np.minimum(A, 1.0)
    zero = np.zeros(A.shape[:-1] + (1,))
    A = np.concatenate([zero, A], axis=-1)
    A[..., -1] = 1.0
    return np.ascontiguousarray(A)


def _discrete(theta, weights):
    """Sorted positions in [0, 1) and cumulative levels of a weighted sample of angles."""
    x = _unit_turns(theta)
    n = x.shape[0]
    if weights is None:
        return np.sort(x), np.arange(n + 1, dtype=np.float64) / n
    order = np.argsort(x, kind="stable")
    return np.ascontiguousarray(x[order]), _levels(weights[order])


def _density_masses(density):
    """Cell masses (summing to 1) of a piecewise-constant density on M cells, validated."""
    rho = check_array(density, "density", ndim=1)
    if np.any(rho < 0):
        raise ValueError("density must be non-negative")
    mass = rho * (TWO_PI / rho.shape[0])
    total = mass.sum()
    if abs(total - 1.0) > DENSITY_MASS_TOL:
        raise ValueError(
            f"density must integrate to 1 over [0, 2π) with respect to dθ (got {total:.12g}, "
            f"tolerance {DENSITY_MASS_TOL:g}); divide it by its integral first"
        )
    return mass / total


def _density_pieces(mass):
    """Quantile pieces (levels, start, end) of the cells of positive mass, in turns."""
    M = mass.shape[0]
    cells = np.flatnonzero(mass > 0)
    lv = _levels(mass[cells])
    y0 = cells / M
    y1 = (cells + 1) / M
    return lv, np.ascontiguousarray(y0, dtype=np.float64), np.ascontiguousarray(y1, dtype=np.float64)


def _w1_atoms_to_cdf(x, A, edges, G_edges):
    """Exact W1 on the circle of length 1 between atoms and a piecewise-linear CDF.

    Atoms at sorted x in [0, 1) with cumulative levels A (A[0] = 0, A[-1] = 1); the other
    measure has CDF G, linear between the nodes ``edges`` (0 = e_0 < ... < e_M = 1) with
    values ``G_edges``. With D = F - G, :math:`W_1 = \\min_\\alpha \\int_0^1 |D - \\alpha|`,
    attained at a median α of D under Lebesgue measure. D is affine on each piece between
    consecutive atoms and nodes, so the distribution function h(α) = |{D < α}| is piecewise
    linear (plus jumps from flat pieces): a sweep over the sorted piece ends finds its
    median exactly, and the integral is summed piece by piece in closed form. O((n+M) log(n+M)).
    """
    b = np.sort(np.concatenate([x, edges]))
    length = np.diff(b)
    F = A[np.searchsorted(x, b[:-1], side="right")]
    D0 = F - np.interp(b[:-1], edges, G_edges)
    D1 = F - np.interp(b[1:], edges, G_edges)
    lo, hi = np.minimum(D0, D1), np.maximum(D0, D1)
    flat = hi - lo <= 1e-15 * np.maximum(1.0, np.abs(hi))
    slope = np.where(flat, 0.0, length / np.where(flat, 1.0, hi - lo))
    # Events of h: its slope rises by `slope` at lo and falls at hi; a flat piece jumps at lo.
    pos = np.concatenate([lo, hi])
    dslope = np.concatenate([slope, -slope])
    jump = np.concatenate([np.where(flat, length, 0.0), np.zeros_like(length)])
    order = np.argsort(pos, kind="stable")
    pos, dslope, jump = pos[order], dslope[order], jump[order]
    slope_before = np.concatenate([[0.0], np.cumsum(dslope)[:-1]])
    gain = slope_before * np.diff(pos, prepend=pos[0])
    h_after = np.cumsum(gain + jump)
    half = 0.5 * h_after[-1]
    i = int(np.searchsorted(h_after, half))
    h_before = (h_after[i - 1] if i > 0 else 0.0) + gain[i]
    if h_before >= half and slope_before[i] > 0:
        alpha = pos[i] - (h_before - half) / slope_before[i]
    else:
        alpha = pos[i]
    p, q = D0 - alpha, D1 - alpha
    same_sign = p * q >= 0
    denom = np.where(same_sign, 1.0, np.abs(p) + np.abs(q))
    piece = np.where(same_sign, 0.5 * np.abs(p + q), 0.5 * (p * p + q * q) / denom)
    return float(np.dot(length, piece))


def _root(wpp, p):
    """W_p on the circle of length 2π from W_p^p on the circle of length 1."""
    return TWO_PI * max(float(wpp), 0.0) ** (1.0 / p)


# ---------------------------------------------------------------------------------------
# the circle
# ---------------------------------------------------------------------------------------


def wasserstein_circle(u, v, p=1, u_weights=None, v_weights=None):
    """Wasserstein distance W_p between two weighted samples of angles on the circle.

    .. math::

        W_1(\\mu, \\nu) = 2\\pi \\min_{\\alpha \\in \\mathbb{R}} \\int_0^1
            |F(x) - G(x) - \\alpha| \\, dx , \\qquad
        W_p^p(\\mu, \\nu) = (2\\pi)^p \\min_{\\theta} \\int_0^1
            |F^{-1}(t) - G^{-1}(t + \\theta)|^p \\, dt ,

    with F, G the distribution functions on the circle of length 1. For p = 1 the
    optimal α is a weighted median of F - G over the merged sorted samples: exact in
    O((n + m) log(n + m)). For p > 1 the convex function of θ is minimised by bisection
    on the sign of its exact right derivative down to a bracket of width 1e-15; the
    result is exact up to rounding (|W_p^p error| ≲ p·1e-15 on the circle of length 1).

    Parameters
    ----------
    u, v : array_like, shape (n,), (m,)
        Angles in radians (any real values; taken modulo 2π), n, m >= 1.
    p : float, >= 1
        Order of the distance.
    u_weights, v_weights : array_like, optional
        Non-negative weights summing to 1 (default uniform).

    Returns
    -------
    float
        W_p (not W_p^p) for the geodesic cost on the circle of length 2π, in radians.

    References
    ----------
    J. Rabin, J. Delon, Y. Gousseau, "Transportation distances on the circle",
    J. Math. Imaging Vis. 41 (2011); J. Delon, J. Salomon, A. Sobolevski, "Fast
    transport optimization for Monge costs on the circle", SIAM J. Appl. Math. 70 (2010).

    Examples
    --------
    >>> import numpy as np, mtlib as mt
    >>> round(mt.wasserstein_circle([0.0], [np.pi / 2]), 12) == round(np.pi / 2, 12)
    True
    """
    u = check_angles(u, "u")
    v = check_angles(v, "v")
    p = _check_p(p)
    wu = None if u_weights is None else check_weights(u_weights, u.shape[0], "u_weights")
    wv = None if v_weights is None else check_weights(v_weights, v.shape[0], "v_weights")
    x, A = _discrete(u, wu)
    y, B = _discrete(v, wv)
    if p == 1.0:
        return TWO_PI * float(_K.w1_discrete(x, A, y, B))
    return _root(_K.circle_wpp(x, A, B, y, y, p), p)


def wasserstein_circle_density(u, density, p=1, u_weights=None, cell_start=0.0):
    """Wasserstein distance W_p between a weighted sample and a density on the circle.

    The density is given on M equal cells :math:`[a + 2\\pi j/M, a + 2\\pi (j+1)/M)`,
    j = 0..M-1, with :math:`a` = ``cell_start``: ``density[j]`` is its (constant) value
    on cell j, so its distribution
    function is piecewise linear and its quantile function piecewise linear (with a jump
    across cells of zero density). Then

    .. math::

        W_p^p(\\mu, \\rho) = (2\\pi)^p \\min_{\\theta} \\int_0^1
            |F_\\mu^{-1}(t) - G_\\rho^{-1}(t + \\theta)|^p \\, dt ,

    each integral being evaluated exactly piece by piece, and the convex minimisation
    over θ done by bisection on the exact right derivative to width 1e-15 (exact up to
    rounding for that piecewise-constant density, for every p >= 1). For p = 1 the
    closed form :math:`W_1 = 2\\pi \\int_0^1 |F - G - \\alpha|`, α a median of F - G, is
    used instead: F - G is affine between atoms and cell edges, so both the median and
    the integral are exact sums, in O((n + M) log(n + M)).

    Parameters
    ----------
    u : array_like, shape (n,)
        Angles in radians, n >= 1.
    density : array_like, shape (M,)
        Non-negative cell values with respect to dθ; :math:`\\sum_j \\rho_j 2\\pi/M` must
        equal 1 within 1e-8 (it is then renormalised exactly).
    p : float, >= 1
        Order of the distance.
    u_weights : array_like, optional
        Non-negative weights summing to 1 (default uniform).
    cell_start : float
        Left end :math:`a` of cell 0, in radians (default 0). Values sampled at the grid
        nodes :math:`2\\pi j/M`, as :func:`mtlib.solve_circle_pde` returns them, are
        cell-centred: pass ``cell_start=-np.pi / M``.

    Returns
    -------
    float
        W_p (not W_p^p), geodesic cost on the circle of length 2π.

    References
    ----------
    J. Delon, J. Salomon, A. Sobolevski, "Fast transport optimization for Monge costs
    on the circle", SIAM J. Appl. Math. 70 (2010).
    """
    u = check_angles(u, "u")
    p = _check_p(p)
    cell_start = check_real(cell_start, "cell_start")
    wu = None if u_weights is None else check_weights(u_weights, u.shape[0], "u_weights")
    mass = _density_masses(density)
    # Rotating both measures by -a leaves W_p unchanged and puts cell 0 at [0, 2π/M).
    x, A = _discrete(u - cell_start if cell_start else u, wu)
    if p == 1.0:
        edges = np.arange(mass.shape[0] + 1) / mass.shape[0]
        return TWO_PI * _w1_atoms_to_cdf(x, A, edges, np.concatenate([[0.0], np.cumsum(mass)]))
    lv, y0, y1 = _density_pieces(mass)
    return _root(_K.circle_wpp(x, A, lv, y0, y1, p), p)


def wasserstein_circle_uniform(u, p=1, u_weights=None):
    """Wasserstein distance W_p between a weighted sample and the uniform law on the circle.

    The uniform quantile function is the identity, so with sorted positions
    :math:`x_i \\in [0, 1)`, cumulative levels :math:`A_i` and level midpoints
    :math:`c_i = x_i - (A_{i-1} + A_i)/2`,

    .. math::

        W_2^2 = (2\\pi)^2 \\Bigl( \\sum_i w_i (c_i - \\bar c)^2
                + \\sum_i \\frac{w_i^3}{12} \\Bigr), \\qquad
        \\bar c = \\sum_i w_i c_i ,

    (the variance of :math:`F^{-1}(t) - t`, the closed form of POT's
    ``semidiscrete_wasserstein2_unif_circle`` written without cancellation), and for
    other p, including p = 1 (:math:`W_1 = 2\\pi\\min_\\alpha \\int_0^1 |F(x) - x - \\alpha| dx`),
    the exact convex search of :func:`wasserstein_circle_density` with one cell.

    Parameters
    ----------
    u : array_like, shape (n,)
        Angles in radians, n >= 1.
    p : float, >= 1
        Order of the distance.
    u_weights : array_like, optional
        Non-negative weights summing to 1 (default uniform).

    Returns
    -------
    float
        W_p (not W_p^p) to the uniform probability measure, circle of length 2π.

    References
    ----------
    C. Bonet et al., "Spherical sliced-Wasserstein", ICLR 2023 (closed form for W_2).
    """
    u = check_angles(u, "u")
    p = _check_p(p)
    wu = None if u_weights is None else check_weights(u_weights, u.shape[0], "u_weights")
    x, A = _discrete(u, wu)
    if p == 2.0:
        w = np.diff(A)
        c = x - 0.5 * (A[:-1] + A[1:])
        mean = np.dot(w, c)
        return _root(np.dot(w, (c - mean) ** 2) + np.sum(w**3) / 12.0, 2.0)
    one = np.array([0.0, 1.0])
    if p == 1.0:
        return TWO_PI * _w1_atoms_to_cdf(x, A, one, one)
    return _root(_K.circle_wpp(x, A, one, one[:1], one[1:], p), p)


def distance_to_equispaced(u, k, p=1, u_weights=None):
    """Distance from a weighted sample to the nearest rotation of k equally spaced Diracs.

    .. math::

        D_p(\\mu, k) = \\min_{\\phi \\in [0, 2\\pi/k)}
            W_p\\Bigl(\\mu, \\frac1k \\sum_{j=0}^{k-1} \\delta_{\\phi + 2\\pi j/k}\\Bigr).

    Exact, for p = 1 and p = 2. Writing :math:`W_p^p = \\min_{\\theta, \\rho}
    \\int_0^1 |F^{-1}(t) - G^{-1}(t + \\theta) - \\rho|^p dt` (θ the level shift, ρ the
    rotation), the inner minimum over ρ is a weighted median (p = 1) or mean (p = 2) and,
    between consecutive values of :math:`\\theta \\in \\{\\lceil kA_i\\rceil/k - A_i\\}`, a
    concave function of θ; so the minimum is at one of these n + 1 candidates. A sweep
    over them (Fenwick trees for the median) costs O(n k log n); the best candidates are
    then re-evaluated from scratch.

    Parameters
    ----------
    u : array_like, shape (n,)
        Angles in radians, n >= 1.
    k : int, >= 1
        Number of Diracs, each of mass 1/k.
    p : {1, 2}
        Order of the distance.
    u_weights : array_like, optional
        Non-negative weights summing to 1 (default uniform).

    Returns
    -------
    distance : float
        W_p (not W_p^p) to the nearest configuration, circle of length 2π.
    rotation : float
        The optimal φ in [0, 2π/k): the Diracs sit at φ + 2πj/k. When the optimum is
        not unique, one optimal φ.

    References
    ----------
    J. Delon, J. Salomon, A. Sobolevski, "Fast transport optimization for Monge costs
    on the circle", SIAM J. Appl. Math. 70 (2010).

    Examples
    --------
    >>> import numpy as np, mtlib as mt
    >>> d, phi = mt.distance_to_equispaced(0.3 + 2 * np.pi * np.arange(3) / 3, 3)
    >>> abs(d) < 1e-12 and abs(phi - 0.3) < 1e-12
    True
    """
    u = check_angles(u, "u")
    k = check_int(k, "k", low=1)
    p = _check_p(p)
    if p not in (1.0, 2.0):
        raise ValueError(f"p must be 1 or 2 for distance_to_equispaced, got {p}")
    wu = None if u_weights is None else check_weights(u_weights, u.shape[0], "u_weights")
    x, A = _discrete(u, wu)
    wpp, rho = _K.equispaced_sweep(x, A, k, p)
    rotation = (TWO_PI * rho) % (TWO_PI / k)
    if rotation >= TWO_PI / k:
        rotation = 0.0
    return _root(wpp, p), float(rotation)


# ---------------------------------------------------------------------------------------
# the sphere
# ---------------------------------------------------------------------------------------


def _sphere_distances(X, Y, cost):
    """Pairwise geodesic angles 2 atan2(|x - y|, |x + y|) or chordal distances |x - y|."""
    minus = cdist(X, Y)
    if cost == "chordal":
        return minus
    return 2.0 * np.arctan2(minus, cdist(X, -Y))


def _transport_lp(C, a, b):
    """min <C, π> over couplings π of a and b (HiGHS dual simplex)."""
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
    return max(float(res.fun), 0.0)


def wasserstein_sphere(X, Y, p=2, a=None, b=None, cost="geodesic"):
    """Exact Wasserstein distance W_p between two weighted samples on the sphere S^{d-1}.

    .. math::

        W_p^p(\\mu, \\nu) = \\min_{\\pi \\in \\Pi(a, b)} \\sum_{i,j} \\pi_{ij}\\, c(x_i, y_j)^p ,
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
    X, Y : array_like, shape (n, d), (m, d)
        Unit vectors (rows), d >= 2, n, m >= 1.
    p : float, >= 1
        Order of the distance.
    a, b : array_like, optional
        Non-negative weights summing to 1 (default uniform).
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
    X = check_unit_rows(X, "X")
    Y = check_unit_rows(Y, "Y")
    if X.shape[1] != Y.shape[1]:
        raise ValueError(f"X and Y must have the same dimension d, got {X.shape[1]} and {Y.shape[1]}")
    p = _check_p(p)
    cost = check_choice(cost, "cost", ("geodesic", "chordal"))
    n, m = X.shape[0], Y.shape[0]
    a = check_weights(a, n, "a")
    b = check_weights(b, m, "b")
    uniform = n == m and np.all(a == a[0]) and np.all(b == b[0])
    if uniform:
        if n > MAX_ASSIGNMENT_SIZE:
            raise ValueError(f"n = {n} > {MAX_ASSIGNMENT_SIZE} is too large for the exact "
                             "assignment; use sliced_wasserstein_sphere")
    elif n * m > MAX_LP_VARIABLES:
        raise ValueError(f"n*m = {n * m} > {MAX_LP_VARIABLES} is too large for the exact "
                         "linear program; use sliced_wasserstein_sphere")
    C = _sphere_distances(X, Y, cost) ** p
    if uniform:
        rows, cols = linear_sum_assignment(C)
        wpp = C[rows, cols].mean()
    else:
        wpp = _transport_lp(C, a, b)
    return float(wpp) ** (1.0 / p)


def _plane_angles_sorted(X, U, weights):
    """Angles (in turns, [0, 1)) of X projected on the planes U, sorted per plane, and levels."""
    P = np.einsum("ldk,nd->lnk", U, X)
    x = _unit_turns(np.arctan2(P[..., 1], P[..., 0]))
    L, n = x.shape
    if weights is None:
        A = np.broadcast_to(np.arange(n + 1, dtype=np.float64) / n, (L, n + 1))
        return np.ascontiguousarray(np.sort(x, axis=1)), np.ascontiguousarray(A)
    order = np.argsort(x, axis=1, kind="stable")
    return (np.ascontiguousarray(np.take_along_axis(x, order, axis=1)),
            _levels(weights[order], axis=1))


def sliced_wasserstein_sphere(X, Y, n_projections=200, rng=None, p=2, a=None, b=None):
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
    X, Y : array_like, shape (n, d), (m, d)
        Unit vectors (rows), d >= 2.
    n_projections : int, >= 1
        Number L of random planes.
    rng : numpy.random.Generator, int or None
        Source of the planes (pass a seed for reproducible values).
    p : float, >= 1
        Order of the distance.
    a, b : array_like, optional
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
    X = check_unit_rows(X, "X")
    Y = check_unit_rows(Y, "Y")
    d = X.shape[1]
    if Y.shape[1] != d:
        raise ValueError(f"X and Y must have the same dimension d, got {d} and {Y.shape[1]}")
    L = check_int(n_projections, "n_projections", low=1)
    rng = check_rng(rng)
    p = _check_p(p)
    a = None if a is None else check_weights(a, X.shape[0], "a")
    b = None if b is None else check_weights(b, Y.shape[0], "b")
    U = np.linalg.qr(rng.standard_normal((L, d, 2)))[0]
    xs, AX = _plane_angles_sorted(X, U, a)
    ys, BY = _plane_angles_sorted(Y, U, b)
    wpp = _K.batch_circle_wpp(xs, AX, ys, BY, p)
    return _root(wpp.mean(), p)


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
        value, _ = _K.circle_frechet(_unit_turns(theta), w)
        return TWO_PI * float(np.sqrt(max(value, 0.0)))
    m = w @ X
    starts = [X[i] for i in np.unique(np.linspace(0, n - 1, 8).astype(int))]
    if np.linalg.norm(m) > 1e-12:
        starts.insert(0, m / np.linalg.norm(m))
    best = min(_karcher(X, w, y0.copy())[0] for y0 in starts)
    return float(np.sqrt(max(best, 0.0)))


# ---------------------------------------------------------------------------------------
# mean-field stability
# ---------------------------------------------------------------------------------------


def dobrushin_constant(beta, d=2, model="usa"):
    """Lipschitz constant L(β) of the mean-field stability bound W1(μ^N_t, μ_t) ≤ e^{Lt} W1(μ^N_0, μ_0).

    The field is :math:`X[\\mu](x) = \\int K(x, y)\\, d\\mu(y)` with
    :math:`K(x, y) = e^{\\beta s}(y - s x)`, :math:`s = \\langle x, y\\rangle` (USA), and
    :math:`X[\\mu](x) = P_x\\, m_\\mu(x)`, :math:`m_\\mu(x) = \\int e^{\\beta s} y\\,
    d\\mu / \\int e^{\\beta s} d\\mu` (SA). If :math:`|X[\\mu](x) - X[\\mu](x')| \\le L_x
    |x - x'|` and :math:`|X[\\mu](x) - X[\\nu](x)| \\le L_y W_1(\\mu, \\nu)`, follow the
    flows from an optimal coupling π₀ of the initial data:
    :math:`D(t) = \\int |x_t - x'_t| d\\pi_0` obeys :math:`D' \\le L_x D + L_y W_1(\\mu_t,
    \\nu_t) \\le (L_x + L_y) D`, so :math:`W_1(\\mu_t, \\nu_t) \\le D(t) \\le e^{Lt}
    W_1(\\mu_0, \\nu_0)` with :math:`L = L_x + L_y` (Dobrushin's argument). The
    constants come from derivative bounds on the unit ball (convex, so they are
    Lipschitz constants for the chordal distance |x - y|), using :math:`e^{\\beta s} \\le
    e^{|\\beta|}`:

    - USA, in x: :math:`D_xK[h] = \\beta e^{\\beta s}\\langle h, y\\rangle (y - s x) -
      e^{\\beta s}(\\langle h, y\\rangle x + s h)` with :math:`|y - sx| \\le 1`, so
      :math:`L_x = e^{|\\beta|}(|\\beta| + 2)`; in y: :math:`D_yK[h] = \\beta e^{\\beta s}
      \\langle x, h\\rangle (y - s x) + e^{\\beta s}(h - \\langle x, h\\rangle x)`, so
      :math:`L_y = e^{|\\beta|}(|\\beta| + 1)`. Hence

      .. math:: L_{USA}(\\beta) = e^{|\\beta|}\\,(2|\\beta| + 3).

    - SA, in x: :math:`D_x m = \\beta\\,\\mathrm{Cov}_x(y)` has norm at most
      :math:`|\\beta|(1 - |m|^2) \\le |\\beta|` and :math:`|m| \\le 1`, so
      :math:`L_x = 2|\\beta| + 2`; in μ: :math:`m_\\mu - m_\\nu = Z_\\mu^{-1}\\int
      e^{\\beta s}(y - m_\\nu)\\, d(\\mu - \\nu)` with :math:`Z_\\mu \\ge e^{-|\\beta|}` and an
      integrand of Lipschitz constant :math:`e^{|\\beta|}(2|\\beta| + 1)`, so
      :math:`L_y = e^{2|\\beta|}(2|\\beta| + 1)`. Hence

      .. math:: L_{SA}(\\beta) = 2(|\\beta| + 1) + e^{2|\\beta|}(2|\\beta| + 1).

    These are upper bounds (not sharp) and do not depend on d. W1 is for the chordal
    distance; for the geodesic distance d_g, :math:`|x-y| \\le d_g \\le \\frac{\\pi}{2}|x-y|`
    gives the same bound with an extra factor π/2.

    Parameters
    ----------
    beta : float
        Inverse temperature β (any real; β < 0 is repulsive).
    d : int, >= 2
        Ambient dimension (the bound is the same for all d).
    model : {"usa", "sa"}
        Unnormalised or softmax-normalised self-attention.

    Returns
    -------
    float
        L(β) >= 0.

    References
    ----------
    R. L. Dobrushin, "Vlasov equations", Funct. Anal. Appl. 13 (1979); G. Bruno,
    F. Pasqualotto, A. Agazzi, "Emergence of meta-stable clustering in mean-field
    transformer models", ICLR 2025 (Theorem 3.1).
    """
    beta = abs(check_real(beta, "beta"))
    check_int(d, "d", low=2)
    model = check_model(model)
    if model == "usa":
        return float(np.exp(beta) * (2.0 * beta + 3.0))
    return float(2.0 * (beta + 1.0) + np.exp(2.0 * beta) * (2.0 * beta + 1.0))
