"""Distances along a solution of the circle PDE, snapshot by snapshot.

A :class:`mtlib.CirclePDESolution` holds grid densities (spectral snapshots) and, after the
hand-over, weighted Lagrangian points; :func:`solution_distances` measures both kinds the
same way: W1 to the uniform law and the distance D_k to the nearest rotation of k equally
spaced Diracs.
"""

import numpy as np

from .._validate import check_angles, check_int, check_memory
from ..initial import quantile_tokens
from ..pde import CirclePDESolution
from .circle import (
    distance_to_equispaced,
    wasserstein_circle,
    wasserstein_circle_densities,
    wasserstein_circle_density,
    wasserstein_circle_uniform,
)

__all__ = ["solution_distances", "wasserstein_to_solution"]


def solution_distances(solution, k, n_quantiles=None):
    """W1 to the uniform law and D_k to the nearest δ_{k,φ} at every snapshot of a PDE solution.

    .. math::

        W_1(ρ_t, \\tfrac{1}{2π}), \\qquad
        D_k(ρ_t) = \\min_φ W_1\\Bigl(ρ_t, \\frac1k \\sum_{j=0}^{k-1} δ_{φ + 2πj/k}\\Bigr).

    Spectral snapshots (a density on the grid, taken constant on the cells
    [2πj/M, 2π(j+1)/M)): W1 exact for that density (:func:`wasserstein_circle_densities`),
    D_k on its ``n_quantiles`` quantile points (:func:`mtlib.quantile_tokens`, ``"cells"``).
    Lagrangian snapshots: both on the weighted points (:func:`wasserstein_circle_uniform`,
    :func:`distance_to_equispaced`), exact. W1 rises to π/(2k) and D_k falls to 0 as the
    solution concentrates into k equally spaced Diracs.

    Parameters
    ----------
    solution : CirclePDESolution
        From :func:`mtlib.solve_circle_pde`.
    k : int, >= 1
        Number of Diracs.
    n_quantiles : int, >= 1, optional
        Quantile points per spectral snapshot (default: as many as the Lagrangian points,
        or the grid size M when the solution has none).

    Returns
    -------
    w1 : ndarray, shape (T,)
        W1 to the uniform law at each output time (radians).
    d_k : ndarray, shape (T,)
        D_k at each output time (radians).

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), arXiv:2410.23228, Figure 5 (both distances).
    """
    for name in ("density", "method", "points", "weights", "theta"):
        if not hasattr(solution, name):
            raise TypeError(f"solution must be a CirclePDESolution (no attribute {name!r})")
    k = check_int(k, "k", low=1)
    lagrangian = solution.method == "lagrangian"
    if n_quantiles is None:
        n_quantiles = solution.theta.size if solution.points is None else solution.points.shape[1]
    n_quantiles = check_int(n_quantiles, "n_quantiles", low=1)
    check_memory(64 * n_quantiles, f"n_quantiles = {n_quantiles} points per snapshot")
    w1, d_k = np.empty(solution.method.size), np.empty(solution.method.size)
    for i in np.flatnonzero(~lagrangian):
        rho = solution.density[i]
        w1[i] = wasserstein_circle_densities(rho)
        d_k[i] = distance_to_equispaced(quantile_tokens(rho, n_quantiles, "cells"), k)[0]
    for i, x in zip(np.flatnonzero(lagrangian), [] if solution.points is None else solution.points):
        w1[i] = wasserstein_circle_uniform(x, u_weights=solution.weights)
        d_k[i] = distance_to_equispaced(x, k, u_weights=solution.weights)[0]
    return w1, d_k


def wasserstein_to_solution(u, solution, index=-1, p=1, u_weights=None):
    """Wasserstein distance W_p between tokens on the circle and one snapshot of a circle PDE solution.

    .. math:: W_p(μ^N, ρ_t)^p = \\min_{π} \\int d(θ, θ')^p \\,dπ(θ, θ'), \\qquad d = \\text{arc length}

    A spectral snapshot is the density through its node values
    (``mt.wasserstein_circle_density(u, density[index], p, sampling="nodes")``); a
    Lagrangian one is the weighted points that carry it
    (``mt.wasserstein_circle(u, points, p, v_weights=weights)``), exact even when the
    density has concentrated into near-Diracs.

    Parameters
    ----------
    u : array_like, shape (N,)
        Token angles (radians).
    solution : CirclePDESolution
        From :func:`mtlib.solve_circle_pde`.
    index : int
        Snapshot, an index into ``solution.t`` (negative counts from the end).
    p : float, in [1, 1e6]
        Order of the distance (any p: the displacements are scaled by the largest one
        before the p-th power where it would underflow or overflow).
    u_weights : array_like, shape (N,), optional
        Token masses (default 1/N each).

    Returns
    -------
    float

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Theorem 3.1 (the mean-field limit in W_1).
    """
    if not isinstance(solution, CirclePDESolution):
        raise TypeError(
            f"solution must be a CirclePDESolution (from mt.solve_circle_pde), got {type(solution).__name__}"
        )
    u = check_angles(u, "u")
    T = solution.t.size
    index = check_int(index, "index", low=-T, high=T - 1) % T
    if solution.method[index] == "spectral":
        return wasserstein_circle_density(u, solution.density[index], p=p, u_weights=u_weights, sampling="nodes")
    j = int(np.sum(solution.method[:index] == "lagrangian"))
    return wasserstein_circle(u, solution.points[j], p=p, u_weights=u_weights, v_weights=solution.weights)
