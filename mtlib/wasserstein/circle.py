"""Optimal-transport distances on the circle: samples, densities on a grid, the uniform law.

Angles are in radians on the circle of length 2π with the geodesic (arc-length) cost.
Every function returns the distance :math:`W_p` itself, not :math:`W_p^p` (POT's
``ot.wasserstein_circle`` returns :math:`W_p^p` on the circle of length 1: multiply
its p-th root by 2π to compare).

All distances come from the quantile representation of Delon, Salomon and Sobolevski
(2010): with F, G the cumulative distribution functions lifted to the real line
(:math:`F(x + 1) = F(x) + 1` on the circle of length 1),

.. math::

    W_p^p(\\mu, \\nu) = \\min_{\\theta \\in \\mathbb{R}}
        \\int_0^1 \\bigl|F^{-1}(t) - G^{-1}(t + \\theta)\\bigr|^p \\, dt ,
    \\qquad
    W_1(\\mu, \\nu) = \\min_{\\alpha \\in \\mathbb{R}} \\int_0^1 |F(x) - G(x) - \\alpha| \\, dx ,

a convex problem in the level shift θ (the level α). The kernels live in
:mod:`mtlib._kernels_wasserstein`.

A density on M equal cells is given by its M values. ``sampling="cells"``: ``density[j]``
is its constant value on cell :math:`[a + 2\\pi j/M, a + 2\\pi (j+1)/M)`, a =
``cell_start`` (cell averages: the Lagrangian snapshots of :func:`mtlib.solve_circle_pde`
with a = -π/M). ``sampling="nodes"``: ``density[j]`` is the value at the node
:math:`2\\pi j/M` of a band-limited density (modes |m| < M/2: the spectral snapshots of
:func:`mtlib.solve_circle_pde`); it is resampled exactly at the cell midpoints
:math:`a + 2\\pi (j + 1/2)/M` by FFT and then taken constant on each cell.
"""

import numpy as np

from .. import _kernels_wasserstein as _K
from .._constants import TWO_PI
from .._validate import (
    check_angles, check_array, check_choice, check_int, check_memory, check_real, check_weights, check_work,
    input_tolerance,
)
from ._quantiles import check_p, discrete, levels, root

__all__ = [
    "wasserstein_circle",
    "wasserstein_circle_density",
    "wasserstein_circle_densities",
    "wasserstein_circle_uniform",
    "distance_to_equispaced",
]

DENSITY_MASS_TOL = 1e-8  # a density must integrate to 1 within this (then renormalised)
NODE_NEGATIVE_TOL = 1e-8  # node values of a band-limited density may dip this far below 0
SAMPLINGS = ("cells", "nodes")


# ---------------------------------------------------------------------------------------
# densities on a grid
# ---------------------------------------------------------------------------------------


def _midpoint_values(rho, cell_start):
    """Values at a + 2π(j + 1/2)/M of the band-limited density with node values ρ(2πj/M)."""
    M = rho.shape[0]
    c = np.fft.rfft(rho)
    m = np.arange(c.size)
    return np.fft.irfft(c * np.exp(1j * (m * np.pi / M + m * cell_start)), M)


def _density_masses(density, sampling, cell_start, name="density"):
    """Cell masses (summing to 1) of a density on M cells, validated (see the module notes)."""
    rho = check_array(density, name, ndim=1)
    sampling = check_choice(sampling, "sampling", SAMPLINGS)
    M = rho.shape[0]
    if sampling == "nodes":
        negative_tol = input_tolerance(density, NODE_NEGATIVE_TOL, M)
        if np.any(rho < -negative_tol):
            raise ValueError(f"{name} must be >= -{negative_tol:g} at the nodes (a resolved "
                             f"band-limited density), got min {rho.min():.3g}")
    elif np.any(rho < 0):
        raise ValueError(f"{name} must be non-negative")
    total = rho.sum() * (TWO_PI / M)
    mass_tol = input_tolerance(density, DENSITY_MASS_TOL, M)
    if abs(total - 1.0) > mass_tol:
        raise ValueError(
            f"{name} must integrate to 1 over [0, 2π) with respect to dθ (got {total:.12g}, "
            f"tolerance {mass_tol:g}); divide it by its integral first"
        )
    if sampling == "nodes":
        # Band-limited interpolation can dip just below 0 where the density nearly vanishes.
        rho = np.maximum(_midpoint_values(rho, cell_start), 0.0)
    mass = rho * (TWO_PI / M)
    return mass / mass.sum()


def _density_pieces(mass):
    """Quantile pieces (levels, start, end) of the cells of positive mass, in turns."""
    M = mass.shape[0]
    cells = np.flatnonzero(mass > 0)
    lv = levels(mass[cells])
    y0 = cells / M
    y1 = (cells + 1) / M
    return lv, np.ascontiguousarray(y0, dtype=np.float64), np.ascontiguousarray(y1, dtype=np.float64)


def _cdf_at_edges(mass):
    """Cell edges j/M (turns) and the distribution function there, of cell masses."""
    M = mass.shape[0]
    return np.arange(M + 1) / M, np.concatenate([[0.0], np.cumsum(mass)])


def _w1_affine(length, D0, D1):
    """min over α of ∫ |D - α| for D affine on consecutive pieces (exact).

    Piece i has length ``length[i]`` and D goes from ``D0[i]`` to ``D1[i]``. The minimum
    is attained at a median α of D under Lebesgue measure. The distribution function
    h(α) = |{D < α}| is piecewise linear (plus jumps from flat pieces): a sweep over the
    sorted piece ends finds its median exactly, and the integral is summed piece by piece
    in closed form. O(K log K) for K pieces.
    """
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


def _w1_atoms_to_cdf(x, A, edges, G_edges):
    """Exact W1 on the circle of length 1 between atoms and a piecewise-linear CDF.

    Atoms at sorted x in [0, 1) with cumulative levels A (A[0] = 0, A[-1] = 1); the other
    measure has CDF G, linear between the nodes ``edges`` (0 = e_0 < ... < e_M = 1) with
    values ``G_edges``. D = F - G is affine on each piece between consecutive atoms and
    nodes, so :math:`W_1 = \\min_\\alpha \\int_0^1 |D - \\alpha|` is :func:`_w1_affine`
    of those pieces. O((n + M) log(n + M)).
    """
    b = np.sort(np.concatenate([x, edges]))
    F = A[np.searchsorted(x, b[:-1], side="right")]
    D0 = F - np.interp(b[:-1], edges, G_edges)
    D1 = F - np.interp(b[1:], edges, G_edges)
    return _w1_affine(np.diff(b), D0, D1)


# ---------------------------------------------------------------------------------------
# public distances
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
    p : float, in [1, 1e6]
        Order of the distance (any p: the displacements are scaled by the largest one
        before the p-th power where it would underflow or overflow).
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
    p = check_p(p)
    wu = None if u_weights is None else check_weights(u_weights, u.shape[0], "u_weights")
    wv = None if v_weights is None else check_weights(v_weights, v.shape[0], "v_weights")
    x, A = discrete(u, wu)
    y, B = discrete(v, wv)
    if p == 1.0:
        return TWO_PI * float(_K.w1_discrete(x, A, y, B))
    scale, wpp = _K.circle_wpp(x, A, B, y, y, p)
    return root(wpp, p, scale)


def wasserstein_circle_density(u, density, p=1, u_weights=None, cell_start=0.0, sampling="cells"):
    """Wasserstein distance W_p between a weighted sample and a density on the circle.

    The density is constant on M equal cells :math:`[a + 2\\pi j/M, a + 2\\pi (j+1)/M)`,
    j = 0..M-1, a = ``cell_start`` (for ``sampling="nodes"`` its cell values are first
    resampled from node values, see the module notes), so its distribution function is
    piecewise linear and its quantile function piecewise linear (with a jump across cells
    of zero density). Then

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
        Density values with respect to dθ: :math:`\\sum_j \\rho_j 2\\pi/M` must equal 1
        within 1e-8 (8·sqrt(M)·ε for float32 input; the cell masses are then renormalised
        exactly). Non-negative for ``sampling="cells"``; >= -1e-8 for ``"nodes"``.
    p : float, in [1, 1e6]
        Order of the distance (any p: the displacements are scaled by the largest one
        before the p-th power where it would underflow or overflow).
    u_weights : array_like, optional
        Non-negative weights summing to 1 (default uniform).
    cell_start : float
        Left end :math:`a` of cell 0, in radians (default 0). Cell averages over cells
        centred on the grid nodes :math:`2\\pi j/M` (the Lagrangian snapshots of
        :func:`mtlib.solve_circle_pde`): pass ``cell_start=-np.pi / M``.
    sampling : {"cells", "nodes"}
        ``"cells"``: ``density[j]`` is the value on cell j. ``"nodes"``: ``density[j]``
        is the value at θ = 2πj/M of a band-limited density (the spectral snapshots of
        :func:`mtlib.solve_circle_pde`), resampled by FFT at the cell midpoints; values
        that the interpolation puts below 0 are set to 0 and the masses renormalised.

    Returns
    -------
    float
        W_p (not W_p^p), geodesic cost on the circle of length 2π.

    References
    ----------
    J. Delon, J. Salomon, A. Sobolevski, "Fast transport optimization for Monge costs
    on the circle", SIAM J. Appl. Math. 70 (2010).

    Examples
    --------
    >>> import numpy as np, mtlib as mt
    >>> flat = np.full(16, 1 / (2 * np.pi))                 # the uniform law
    >>> round(mt.wasserstein_circle_density([0.0], flat), 12) == round(np.pi / 2, 12)
    True
    """
    u = check_angles(u, "u")
    p = check_p(p)
    cell_start = check_real(cell_start, "cell_start")
    wu = None if u_weights is None else check_weights(u_weights, u.shape[0], "u_weights")
    mass = _density_masses(density, sampling, cell_start)
    # Rotating both measures by -a leaves W_p unchanged and puts cell 0 at [0, 2π/M).
    x, A = discrete(u - cell_start if cell_start else u, wu)
    if p == 1.0:
        return TWO_PI * _w1_atoms_to_cdf(x, A, *_cdf_at_edges(mass))
    lv, y0, y1 = _density_pieces(mass)
    scale, wpp = _K.circle_wpp(x, A, lv, y0, y1, p)
    return root(wpp, p, scale)


def wasserstein_circle_densities(u_density, v_density=None, p=1, sampling="cells"):
    """Wasserstein distance W1 between two densities on grids of the circle (exact).

    Both densities are constant on equal cells starting at θ = 0 (:math:`M_u` and
    :math:`M_v` cells; see the module notes for ``sampling``), so their distribution
    functions F, G are piecewise linear and so is F - G, between the merged cell edges:

    .. math::

        W_1(\\mu, \\nu) = 2\\pi \\min_{\\alpha} \\int_0^1 |F(x) - G(x) - \\alpha| \\, dx ,

    the median α of F - G and the integral being exact sums over the pieces,
    O((M_u + M_v) log(M_u + M_v)). Only p = 1 is implemented for two densities.

    Parameters
    ----------
    u_density : array_like, shape (M_u,)
        Density values with respect to dθ, integrating to 1 within 1e-8 (as in
        :func:`wasserstein_circle_density`).
    v_density : array_like, shape (M_v,), optional
        The second density (default: the uniform law 1/(2π)).
    p : {1}
        Order of the distance.
    sampling : {"cells", "nodes"}
        How both arrays sample their densities (see :func:`wasserstein_circle_density`).

    Returns
    -------
    float
        W1, geodesic cost on the circle of length 2π, in radians.

    References
    ----------
    J. Rabin, J. Delon, Y. Gousseau, "Transportation distances on the circle",
    J. Math. Imaging Vis. 41 (2011).

    Examples
    --------
    >>> import numpy as np, mtlib as mt
    >>> two_cells = np.array([1.0, 0.0]) / np.pi                # uniform on [0, π)
    >>> round(mt.wasserstein_circle_densities(two_cells), 12) == round(np.pi / 4, 12)
    True
    """
    p = check_p(p)
    if p != 1.0:
        raise ValueError(f"p must be 1 for wasserstein_circle_densities, got {p}")
    u_mass = _density_masses(u_density, sampling, 0.0, "u_density")
    if v_density is None:
        v_mass = np.ones(1)
    else:
        v_mass = _density_masses(v_density, sampling, 0.0, "v_density")
    u_edges, F = _cdf_at_edges(u_mass)
    v_edges, G = _cdf_at_edges(v_mass)
    edges = np.union1d(u_edges, v_edges)
    D = np.interp(edges, u_edges, F) - np.interp(edges, v_edges, G)
    return TWO_PI * _w1_affine(np.diff(edges), D[:-1], D[1:])


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
    p : float, in [1, 1e6]
        Order of the distance (any p: the displacements are scaled by the largest one
        before the p-th power where it would underflow or overflow).
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
    p = check_p(p)
    wu = None if u_weights is None else check_weights(u_weights, u.shape[0], "u_weights")
    x, A = discrete(u, wu)
    if p == 2.0:
        w = np.diff(A)
        c = x - 0.5 * (A[:-1] + A[1:])
        mean = np.dot(w, c)
        return root(np.dot(w, (c - mean) ** 2) + np.sum(w**3) / 12.0, 2.0)
    one = np.array([0.0, 1.0])
    if p == 1.0:
        return TWO_PI * _w1_atoms_to_cdf(x, A, one, one)
    scale, wpp = _K.circle_wpp(x, A, one, one[:1], one[1:], p)
    return root(wpp, p, scale)


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
    then re-evaluated from scratch. Calls beyond about 1e11 n·k steps (minutes) raise
    ``ValueError``.

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
    p = check_p(p)
    if p not in (1.0, 2.0):
        raise ValueError(f"p must be 1 or 2 for distance_to_equispaced, got {p}")
    n = u.shape[0]
    check_memory(8 * (9 * k + 24 * n), f"k = {k} Diracs for n = {n} points")
    check_work((n + 1) * k, f"k = {k} Diracs for n = {n} points (O(n k) sweep)")
    wu = None if u_weights is None else check_weights(u_weights, u.shape[0], "u_weights")
    x, A = discrete(u, wu)
    wpp, rho = _K.equispaced_sweep(x, A, k, p)
    rotation = (TWO_PI * rho) % (TWO_PI / k)
    if rotation >= TWO_PI / k:
        rotation = 0.0
    return root(wpp, p), float(rotation)
