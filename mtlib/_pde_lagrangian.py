"""The Lagrangian solver of the circle PDE: quantile points moved by the exact velocity (for :mod:`mtlib.pde`).

Quantile points of ρ (equal masses) are moved by :func:`mtlib.simulate` (weighted tokens);
the density is recovered on the grid from their spacing, ``ρ(X(q)) = 1/∂_q X`` in the mass
coordinate q. Mass is exact, there is no CFL limit, Diracs are followed. The continuity
equation only (no diffusion). Unvalidated: :func:`mtlib.solve_circle_pde` checks inputs.
Reference: Bruno, Pasqualotto, Agazzi (ICLR 2025, arXiv:2410.23228), Section 4.
"""

import numpy as np

from ._constants import TWO_PI
from .dynamics import simulate
from .initial import quantile_tokens


def gaps(X):
    """Gaps X_{i+1} - X_i (cyclic, label order) of order-preserving points given mod 2π.

    Each gap is taken mod 2π; rounding can turn a gap of -1e-16 inside a cluster into
    2π - 1e-16, which shows as a total of 2π(1 + e): the e largest gaps are then reduced.
    """
    g = np.mod(np.diff(np.append(X, X[0] + TWO_PI)), TWO_PI)
    excess = int(round((g.sum() - TWO_PI) / TWO_PI))
    if excess > 0:
        largest = np.argsort(g)[-excess:]
        g[largest] = np.maximum(g[largest] - TWO_PI, 0.0)
    return g


def spacing_density(X, w, M):
    """Cell averages on the grid of the density ``(w_i + w_{i+1})/2 / gap_i`` between points."""
    g = gaps(X)
    nodes = X[0] + np.concatenate([[0.0], np.cumsum(g)])
    mass = np.concatenate([[0.0], np.cumsum(0.5 * (w + np.roll(w, -1)))])
    edges = TWO_PI * (np.arange(M + 1) - 0.5) / M
    turns = np.floor((edges - X[0]) / TWO_PI)
    G = np.interp(edges - TWO_PI * turns, nodes, mass) + turns * mass[-1]
    return np.diff(G) * (M / TWO_PI)


def lagrangian_run(rho, beta, model, t_start, times, n, rtol, atol, phi=0.0):
    """Quantile points of ρ moved by mtlib.simulate; returns (densities, points, weights, run).

    ``phi`` != 0: the rotated interaction, ``simulate(..., A=R_φ)`` (weights e^{β cos(θ_i - θ_j - φ)}).
    """
    X0 = quantile_tokens(rho, n)
    w = np.full(n, 1.0 / n)
    extra = {} if phi == 0.0 else {"A": np.array([[np.cos(phi), -np.sin(phi)], [np.sin(phi), np.cos(phi)]])}
    run = simulate(X0, beta, times - t_start, model=model, method="dopri", rtol=rtol, atol=atol, weights=w, **extra)
    dens = np.array([spacing_density(X, w, rho.size) for X in run.states])
    return dens, run.states, w, run
