"""Tests for mtlib.initial: the samplers' laws, the equiangular frame, and the quantile tokens
of a grid density against independent references (the chapter's NumPy version, a CDF
inverted by root finding), with their invariances."""

import numpy as np
import pytest
from scipy import optimize

import mtlib as mt

TWO_PI = 2 * np.pi


def test_initial_conditions():
    X = mt.uniform_sphere(1000, 5, 20)
    assert X.shape == (1000, 5) and np.allclose(np.linalg.norm(X, axis=1), 1, atol=1e-14)
    assert np.array_equal(X, mt.uniform_sphere(1000, 5, 20))
    th = mt.uniform_circle(1000, 21)
    assert th.min() >= 0 and th.max() < 2 * np.pi
    C = mt.uniform_sphere(2, 4, 22)
    caps = mt.caps_sphere(C, [300, 200], 0.3, 23)
    assert caps.shape == (500, 4)
    angles = np.arccos(np.clip(np.concatenate([caps[:300] @ C[0], caps[300:] @ C[1]]), -1, 1))
    assert angles.max() <= 0.3 + 1e-12 and angles.max() > 0.25
    # uniform in the cap on S^2: P(α <= r/2) = (1 - cos(r/2)) / (1 - cos r)
    c3 = mt.caps_sphere([[0, 0, 1.0]], 20000, 1.0, 24)
    p = np.mean(c3[:, 2] >= np.cos(0.5))
    assert abs(p - (1 - np.cos(0.5)) / (1 - np.cos(1.0))) < 0.02
    arcs = mt.caps_circle([0.0, np.pi], 100, 0.1, 25)
    assert np.all(np.abs(np.angle(np.exp(1j * arcs[:100]))) <= 0.1)
    for n, d, rho in [(16, 16, 0.0), (5, 8, 0.3), (4, 3, -1 / 3), (6, 5, -0.2)]:
        F = mt.equiangular_frame(n, d, rho)
        G = F @ F.T
        assert F.shape == (n, d) and np.allclose(G, (1 - rho) * np.eye(n) + rho, atol=1e-14)
    pert = mt.perturbed_uniform_circle(40000, 3, 0.5, 26, phase=0.2)
    assert pert.shape == (40000,) and pert.min() >= 0 and pert.max() < 2 * np.pi
    # E cos(3(θ-φ)) = a/2 = 0.25, standard error ~ 0.0035
    assert abs(np.mean(np.cos(3 * (pert - 0.2))) - 0.25) < 0.02


def cells_reference(rho, n):
    """Chapter 5's NumPy version: the density constant on the cells [2πj/M, 2π(j+1)/M)."""
    M = rho.size
    F = np.concatenate([[0.0], np.cumsum(rho) * TWO_PI / M])
    return np.interp((np.arange(n) + 0.5) / n, F / F[-1], TWO_PI * np.arange(M + 1) / M)


def linear_reference(rho, n):
    """Quantiles of the periodic piecewise-linear interpolant of the node values, by brentq on its CDF."""
    M = rho.size
    nodes = TWO_PI * np.arange(M + 1) / M
    vals = np.append(rho, rho[0])

    def cdf(x):  # ∫_0^x of the interpolant, by the trapezoid rule on the nodes below x plus the last piece
        j = min(int(x / (TWO_PI / M)), M - 1)
        s = x - nodes[j]
        slope = (vals[j + 1] - vals[j]) / (TWO_PI / M)
        full = np.sum(0.5 * (vals[:j] + vals[1 : j + 1])) * TWO_PI / M
        return full + vals[j] * s + 0.5 * slope * s * s

    total = cdf(TWO_PI)
    levels = (np.arange(n) + 0.5) / n * total
    return np.array([optimize.brentq(lambda x: cdf(x) - q, 0.0, TWO_PI, xtol=1e-14) for q in levels])


def test_quantile_tokens_match_references():
    rng = np.random.default_rng(0)
    theta = mt.pde_grid(64)
    rho = (1 + 0.8 * np.cos(3 * theta - 0.4) + 0.1 * rng.uniform(-1, 1, 64)) / TWO_PI
    rho[10:14] = 0.0  # an empty stretch: tokens skip it
    for n in (1, 7, 200):
        np.testing.assert_array_equal(mt.quantile_tokens(rho, n, interpolation="cells"), cells_reference(rho, n))
        np.testing.assert_allclose(mt.quantile_tokens(rho, n), linear_reference(rho, n), atol=1e-12)
    # uniform density: equally spaced tokens, for both interpolations
    for kind in ("linear", "cells"):
        even = mt.quantile_tokens(np.ones(16), 8, interpolation=kind)
        np.testing.assert_allclose(even, TWO_PI * (np.arange(8) + 0.5) / 8)


def test_quantile_tokens_cell_start_shifts_the_tokens():
    rho = mt.manifold_density(32, 2, 0.5)
    base = mt.quantile_tokens(rho, 50, interpolation="cells")
    shifted = mt.quantile_tokens(rho, 50, interpolation="cells", cell_start=-np.pi / 32)
    np.testing.assert_allclose(np.angle(np.exp(1j * (shifted - base))), -np.pi / 32, atol=1e-13)
    assert shifted.min() >= 0 and shifted.max() < TWO_PI


def w1_circle(x, y):
    """W1 on the circle (length 2π) between two n-point empirical measures: ∫|D - median D|, D = F_x - F_y."""
    x, y = np.sort(np.mod(x, TWO_PI)), np.sort(np.mod(y, TWO_PI))
    pts = np.sort(np.concatenate([x, y, [0.0, TWO_PI]]))
    mid = 0.5 * (pts[:-1] + pts[1:])
    D = (np.searchsorted(x, mid) - np.searchsorted(y, mid)) / x.size
    L = np.diff(pts)
    order = np.argsort(D)
    c = D[order][np.searchsorted(np.cumsum(L[order]), 0.5 * L.sum())]
    return float(np.sum(L * np.abs(D - c)))


@pytest.mark.parametrize("case", range(40))
def test_quantile_tokens_invariances(case):
    """Random densities (some with zero stretches), token counts, scales and grid rotations."""
    rng = np.random.default_rng(case)
    rho = rng.uniform(0.0, 10.0, rng.integers(4, 41))
    rho[rng.uniform(size=rho.size) < 0.3] = 0.0
    rho[0] += 0.5
    n, scale, shift = int(rng.integers(1, 61)), float(rng.uniform(0.01, 100.0)), int(rng.integers(0, rho.size))
    if case == 0:
        shift = 0
    for kind in ("linear", "cells"):
        x = mt.quantile_tokens(rho, n, interpolation=kind)
        assert x.shape == (n,) and x.min() >= 0 and x.max() < TWO_PI
        # the density's normalisation does not matter
        np.testing.assert_allclose(mt.quantile_tokens(scale * rho, n, interpolation=kind), x, atol=1e-9)
        # rotating the grid rotates the measure; the tokens move with it up to the choice of
        # the first quantile's origin, which moves each token within its 1/n of mass: W1 <= 2π/n
        y = mt.quantile_tokens(np.roll(rho, shift), n, interpolation=kind)
        assert w1_circle(y, x + TWO_PI * shift / rho.size) <= TWO_PI / n + 1e-12
        if shift == 0:
            np.testing.assert_array_equal(y, x)


def test_quantile_tokens_carry_the_density():
    """Many tokens: their histogram converges to the density (W1 between the two ~ 1/n)."""
    rho = mt.manifold_density(128, 3, 0.6)
    n = 128_000
    x = mt.quantile_tokens(rho, n)
    hist = np.histogram(np.mod(x + np.pi / 128, TWO_PI), bins=128, range=(0.0, TWO_PI))[0] / n * 128 / TWO_PI
    assert np.max(np.abs(hist - rho)) < 0.005 * rho.max()


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: mt.uniform_sphere(0, 3), ValueError, "n"),
        (lambda: mt.uniform_sphere(5, 1), ValueError, "d"),
        (lambda: mt.uniform_circle(2.5), TypeError, "n"),
        (lambda: mt.uniform_sphere(3, 3, rng="x"), TypeError, "rng"),
        (lambda: mt.caps_sphere(np.eye(3), 5, 0.0), ValueError, "radius"),
        (lambda: mt.caps_sphere(np.eye(3), [1, 2], 0.1), ValueError, "n_per_cap"),
        (lambda: mt.caps_circle([0.0, 1.0], [0, 0], 0.1), ValueError, "n_per_cap"),
        (lambda: mt.equiangular_frame(5, 3), ValueError, "d = 3"),
        (lambda: mt.equiangular_frame(3, 3, rho=-0.9), ValueError, "rho"),
        (lambda: mt.perturbed_uniform_circle(10, 0, 0.5), ValueError, "k"),
        (lambda: mt.perturbed_uniform_circle(10, 2, 1.5), ValueError, "amplitude"),
        (lambda: mt.angles_to_points(np.ones((2, 2))), ValueError, "theta"),
        (lambda: mt.quantile_tokens(np.ones((4, 4)), 3), ValueError, "rho"),
        (lambda: mt.quantile_tokens([1.0, -0.5, 1.0], 3), ValueError, "non-negative"),
        (lambda: mt.quantile_tokens(np.zeros(8), 3), ValueError, "positive sum"),
        (lambda: mt.quantile_tokens([1.0, np.nan, 1.0], 3), ValueError, "rho"),
        (lambda: mt.quantile_tokens(np.ones(8), 0), ValueError, "n"),
        (lambda: mt.quantile_tokens(np.ones(8), 2.5), TypeError, "n"),
        (lambda: mt.quantile_tokens(np.ones(8), 4, interpolation="spline"), ValueError, "interpolation"),
        (lambda: mt.quantile_tokens(np.ones(8), 4, interpolation="cells", cell_start=np.inf), ValueError, "cell_start"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
