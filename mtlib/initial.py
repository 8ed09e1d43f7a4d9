"""Initial conditions: token samplers on the sphere and the circle, and special starts.

Uniform laws, uniform caps and arcs, equiangular frames (all pairwise inner products
equal), perturbations of the uniform law on the circle, and the quantile tokens of a
density on a grid (the particle approximation of a PDE datum). Every random sampler takes
``rng`` (a Generator, an integer seed or None) and is reproducible for a given seed.
References: Geshkovski, Letrouit, Polyanskiy, Rigollet (2023); Bruno, Pasqualotto, Agazzi
(ICLR 2025, arXiv:2410.23228); Rigollet, "The mean-field dynamics of transformers" (2025).
"""

import math

import numpy as np
from scipy import special

from ._constants import TWO_PI
from ._validate import (
    check_angles, check_array, check_choice, check_int, check_memory, check_real, check_rng, check_unit_rows,
    reduce_large_angles,
)

__all__ = [
    "uniform_sphere",
    "uniform_circle",
    "caps_sphere",
    "caps_circle",
    "equiangular_frame",
    "perturbed_uniform_circle",
    "angles_to_points",
    "quantile_tokens",
]


def uniform_sphere(n, d, rng=None):
    """N iid points from the uniform (surface) law on S^{d-1}.

    x = g / |g| with g a standard Gaussian vector in R^d.

    Parameters
    ----------
    n : int, >= 1
        Number of tokens.
    d : int, >= 2
        Ambient dimension (the sphere S^{d-1}).
    rng : numpy.random.Generator, int seed or None

    Returns
    -------
    ndarray, shape (n, d)
        Unit rows.

    References
    ----------
    Geshkovski et al., "A mathematical perspective on transformers" (2023).
    """
    n = check_int(n, "n", low=1)
    d = check_int(d, "d", low=2)
    check_memory(24 * n * d, f"n = {n} tokens in d = {d}")
    g = check_rng(rng).standard_normal((n, d))
    return g / np.linalg.norm(g, axis=1, keepdims=True)


def uniform_circle(n, rng=None):
    """N iid angles from the uniform law on the circle.

    Parameters
    ----------
    n : int, >= 1
        Number of tokens.
    rng : numpy.random.Generator, int seed or None

    Returns
    -------
    ndarray, shape (n,)
        Angles in [0, 2π).

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), the uniform start of their Figure 2.
    """
    n = check_int(n, "n", low=1)
    check_memory(8 * n, f"n = {n} tokens")
    return check_rng(rng).uniform(0.0, TWO_PI, n)


def caps_sphere(centers, n_per_cap, radius, rng=None):
    """Tokens drawn uniformly in geodesic caps of angular radius r around given centres.

    Around a centre c: x = cos(α) c + sin(α) u with u a uniform unit vector orthogonal to
    c and α the geodesic distance, whose law on [0, r] has density ∝ sin^{d-2} α (the
    exact uniform law on the cap; sampled by inverse CDF: sin²(α/2) follows a
    Beta((d-1)/2, (d-1)/2) law truncated to sin²(r/2)).

    Parameters
    ----------
    centers : array_like, shape (k, d)
        Unit rows, the cap centres.
    n_per_cap : int >= 1, or sequence of k ints >= 0
        Tokens per cap.
    radius : float in (0, π]
        Angular radius r of every cap (π is the whole sphere).
    rng : numpy.random.Generator, int seed or None

    Returns
    -------
    ndarray, shape (sum of n_per_cap, d)
        Unit rows, grouped by cap in the order of ``centers``.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), clustered configurations.
    """
    centers = check_unit_rows(centers, "centers")
    k, d = centers.shape
    counts = _check_counts(n_per_cap, k)
    check_memory(8 * (sum(counts) * d + 4 * max(counts) * d), f"n_per_cap = {n_per_cap} tokens in d = {d}")
    radius = check_real(radius, "radius", low=0.0, high=np.pi, low_open=True)
    rng = check_rng(rng)
    a = 0.5 * (d - 1)
    u_max = special.betainc(a, a, math.sin(0.5 * radius) ** 2)
    out = []
    for c, m in zip(centers, counts):
        u = special.betaincinv(a, a, rng.uniform(0.0, u_max, m))
        alpha = 2.0 * np.arcsin(np.sqrt(u))
        g = rng.standard_normal((m, d))
        g -= np.outer(g @ c, c)
        g /= np.linalg.norm(g, axis=1, keepdims=True)
        x = np.cos(alpha)[:, None] * c + np.sin(alpha)[:, None] * g
        out.append(x / np.linalg.norm(x, axis=1, keepdims=True))
    return np.concatenate(out, axis=0)


def caps_circle(centers, n_per_cap, radius, rng=None):
    """Angles drawn uniformly in arcs [c - r, c + r] around given centre angles.

    Parameters
    ----------
    centers : array_like, shape (k,)
        Centre angles (radians; any size, reduced like :func:`angles_to_points`).
    n_per_cap : int >= 1, or sequence of k ints >= 0
        Tokens per arc.
    radius : float in (0, π]
        Half-width r of every arc (π is the whole circle).
    rng : numpy.random.Generator, int seed or None

    Returns
    -------
    ndarray, shape (sum of n_per_cap,)
        Angles in [0, 2π), grouped by arc in the order of ``centers``.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), clustered configurations.
    """
    centers = reduce_large_angles(check_angles(centers, "centers"))
    counts = _check_counts(n_per_cap, centers.size)
    check_memory(24 * sum(counts), f"n_per_cap = {n_per_cap} tokens")
    radius = check_real(radius, "radius", low=0.0, high=np.pi, low_open=True)
    rng = check_rng(rng)
    theta = np.concatenate([c + rng.uniform(-radius, radius, m) for c, m in zip(centers, counts)])
    return np.mod(theta, TWO_PI)


def equiangular_frame(n, d, rho=0.0):
    """N unit vectors in R^d with all pairwise inner products equal to ρ.

    The Gram matrix G = (1-ρ) I + ρ 11ᵀ has the symmetric square root
    G^{1/2} = sqrt(1-ρ) I + c 11ᵀ, c = (sqrt(1+(n-1)ρ) - sqrt(1-ρ))/n, whose rows are
    the tokens (ρ = 0 gives exactly x_i = e_i). At ρ = -1/(n-1) the rows span the
    hyperplane 1^⊥ and are written in an orthonormal basis of it: the regular simplex,
    which fits in d = n - 1 dimensions.

    Parameters
    ----------
    n : int, >= 1
        Number of tokens.
    d : int, >= 2
        Ambient dimension; needs n <= d, or n <= d + 1 when ρ = -1/(n-1).
    rho : float in [-1/(n-1), 1]
        Common inner product.

    Returns
    -------
    ndarray, shape (n, d)
        Unit rows.

    References
    ----------
    Rigollet, "The mean-field dynamics of transformers" (2025), the equiangular reduction.
    """
    n = check_int(n, "n", low=1)
    d = check_int(d, "d", low=2)
    check_memory(8 * (3 * n * n + n * d), f"n = {n} tokens in d = {d}")
    low = -1.0 / (n - 1) if n > 1 else -1.0
    rho = check_real(rho, "rho", low=low, high=1.0)
    simplex = n > 1 and abs(rho - low) <= 1e-15
    rank = n - 1 if simplex else n
    if rank > d:
        raise ValueError(
            f"equiangular_frame: n = {n} vectors with rho = {rho} span {rank} dimensions, "
            f"more than d = {d}"
        )
    c = (math.sqrt(max(1.0 + (n - 1) * rho, 0.0)) - math.sqrt(1.0 - rho)) / n
    root = math.sqrt(1.0 - rho) * np.eye(n) + c
    if simplex:
        basis = np.linalg.qr(np.eye(n)[:, : n - 1] - 1.0 / n)[0]  # orthonormal basis of 1^⊥
        root = root @ basis
    X = np.zeros((n, d))
    X[:, : root.shape[1]] = root
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def perturbed_uniform_circle(n, k, amplitude, rng=None, phase=0.0):
    """N iid angles from the density (1 + a cos(k(θ - φ)))/(2π) on the circle.

    Sampled exactly by rejection: θ uniform, kept with probability
    (1 + a cos(k(θ-φ)))/(1 + |a|) (acceptance rate 1/(1+|a|) >= 1/2).

    Parameters
    ----------
    n : int, >= 1
        Number of tokens.
    k : int, >= 1
        Wave number of the perturbation.
    amplitude : float in [-1, 1]
        a, the relative amplitude.
    rng : numpy.random.Generator, int seed or None
    phase : float
        φ, the phase of the perturbation (radians).

    Returns
    -------
    ndarray, shape (n,)
        Angles in [0, 2π).

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4: perturbations of the uniform measure.
    """
    n = check_int(n, "n", low=1)
    k = check_int(k, "k", low=1)
    a = check_real(amplitude, "amplitude", low=-1.0, high=1.0)
    phase = check_real(phase, "phase")
    rng = check_rng(rng)
    check_memory(64 * n, f"n = {n} tokens")
    out = np.empty(0)
    while out.size < n:
        m = 2 * (n - out.size) + 16
        theta = rng.uniform(0.0, TWO_PI, m)
        keep = rng.uniform(0.0, 1.0 + abs(a), m) < 1.0 + a * np.cos(k * (theta - phase))
        out = np.concatenate([out, theta[keep]])
    return out[:n]


def angles_to_points(theta):
    """Points x = (cos θ, sin θ) on S^1 for angles θ.

    Parameters
    ----------
    theta : array_like, shape (n,)
        Angles (radians).

    Returns
    -------
    ndarray, shape (n, 2)
        Unit rows.
    """
    theta = check_angles(theta)
    return np.stack([np.cos(theta), np.sin(theta)], axis=1)


def _check_counts(n_per_cap, k):
    """Return per-cap token counts (k ints >= 0, total >= 1) from an int or a sequence."""
    if np.ndim(n_per_cap) == 0:
        return [check_int(n_per_cap, "n_per_cap", low=1)] * k
    counts = [check_int(m, "n_per_cap", low=0) for m in n_per_cap]
    if len(counts) != k:
        raise ValueError(f"n_per_cap must be an int or hold one count per centre ({k}), got {len(counts)}")
    if sum(counts) < 1:
        raise ValueError("n_per_cap must give at least one token in total")
    return counts


def quantile_tokens(rho, n, interpolation="linear", cell_start=0.0):
    """n tokens of mass 1/n at the quantiles of a density given on a grid of the circle.

    X_i = F^{-1}((i + 1/2)/n), i = 0..n-1, with F the distribution function of the density
    interpolated from the M grid values ρ_j:

    - ``"linear"``: ρ_j are point values at θ_j = 2πj/M (:func:`mtlib.pde_grid`), joined
      linearly (periodically); F is then piecewise quadratic and inverted exactly.
    - ``"cells"``: ρ_j is the constant value on the cell [a + 2πj/M, a + 2π(j+1)/M),
      a = ``cell_start``; F is piecewise linear.

    The density is normalised by its own mass, so any positive multiple gives the same
    tokens. These are the equal-mass points of the Lagrangian PDE solver
    (:func:`mtlib.solve_circle_pde`) and the particle version of a density.

    Parameters
    ----------
    rho : array_like, shape (M,), M >= 2
        Non-negative grid values with a positive sum.
    n : int, >= 1
        Number of tokens.
    interpolation : {"linear", "cells"}
    cell_start : float
        ``"cells"`` only: where cell 0 begins (radians); -π/M for cells centred on the
        nodes (the Lagrangian snapshots of :func:`mtlib.solve_circle_pde`).

    Returns
    -------
    ndarray, shape (n,)
        Angles in [0, 2π), non-decreasing when ``cell_start`` = 0.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4 (the empirical measure of the PDE datum).
    """
    rho = check_array(rho, "rho", ndim=1, min_size=2)
    if np.any(rho < 0) or not rho.sum() > 0:
        raise ValueError("rho must be non-negative with a positive sum (a density on the grid)")
    n = check_int(n, "n", low=1)
    check_memory(64 * n, f"n = {n} tokens")
    interpolation = check_choice(interpolation, "interpolation", ("linear", "cells"))
    cell_start = check_real(cell_start, "cell_start")
    M = rho.size
    if interpolation == "cells":
        F = np.concatenate([[0.0], np.cumsum(rho) * TWO_PI / M])
        x = np.interp((np.arange(n) + 0.5) / n, F / F[-1], TWO_PI * np.arange(M + 1) / M)
        return np.mod(x + cell_start if cell_start else x, TWO_PI)
    dx = TWO_PI / M
    left, right = rho, np.roll(rho, -1)
    F = np.concatenate([[0.0], np.cumsum(0.5 * (left + right) * dx)])  # CDF at the grid points
    target = (np.arange(n) + 0.5) / n * F[-1]
    j = np.clip(np.searchsorted(F, target, side="right") - 1, 0, M - 1)
    r = target - F[j]  # mass to cover inside cell j: left s + slope s²/2 = r
    slope = (right[j] - left[j]) / dx
    root = np.sqrt(np.maximum(left[j] ** 2 + 2.0 * slope * r, 0.0))
    s = 2.0 * r / np.maximum(left[j] + root, np.finfo(float).tiny)
    return np.mod(j * dx + np.minimum(s, dx), TWO_PI)
