"""Tests for mtlib.wasserstein (circle and sphere): against POT, brute force, exact values and invariances."""

import dataclasses

import numpy as np
import ot
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy.optimize import minimize_scalar

import mtlib as mt
from mtlib.wasserstein.sphere import _transport_lp

TWO_PI = 2 * np.pi


def samples(kind, n, rng):
    if kind == "random":
        return rng.uniform(-3 * np.pi, 3 * np.pi, n)
    if kind == "clustered":
        centres = rng.uniform(0, TWO_PI, 3)
        return centres[rng.integers(0, 3, n)] + 0.05 * rng.standard_normal(n)
    raise ValueError(kind)


def pot_circle(u, v, p, a=None, b=None):
    """W_p on the circle of length 2π from POT (W_p^p on length 1, tightened search)."""
    val = ot.wasserstein_circle(u / TWO_PI % 1, v / TWO_PI % 1, a, b, p=p, eps=1e-14)
    return TWO_PI * float(np.ravel(val)[0]) ** (1 / p)


def geodesic(x, y):
    d = np.abs(np.subtract.outer(x, y)) % TWO_PI
    return np.minimum(d, TWO_PI - d)


def emd_circle(u, v, p, a=None, b=None):
    a = np.full(len(u), 1 / len(u)) if a is None else a
    b = np.full(len(v), 1 / len(v)) if b is None else b
    return ot.emd2(a, b, geodesic(u, v) ** p) ** (1 / p)


def weights(n, rng):
    w = rng.random(n) + 0.05
    return w / w.sum()


# ------------------------------------------------------------------ circle, two samples


@pytest.mark.parametrize("p", [1, 1.5, 2])
@pytest.mark.parametrize("kind", ["random", "clustered"])
@pytest.mark.parametrize("weighted", [False, True])
def test_circle_against_pot_and_emd(p, kind, weighted):
    rng = np.random.default_rng([int(10 * p), len(kind), int(weighted)])
    for _ in range(4):
        n, m = rng.integers(1, 60, 2)
        u, v = samples(kind, n, rng), samples(kind, m, rng)
        a, b = (weights(n, rng), weights(m, rng)) if weighted else (None, None)
        mine = mt.wasserstein_circle(u, v, p, a, b)
        assert mine == pytest.approx(pot_circle(u, v, p, a, b), abs=1e-10)
        assert mine == pytest.approx(emd_circle(u, v, p, a, b), abs=1e-9)


@pytest.mark.parametrize("p", [1, 1.5, 2, 3])
def test_circle_brute_force_cyclic_shifts(p):
    rng = np.random.default_rng(1)
    for n in [1, 2, 5, 17, 40]:
        u, v = np.sort(rng.uniform(0, TWO_PI, n)), np.sort(rng.uniform(0, TWO_PI, n))
        brute = min(np.mean(geodesic(u, np.roll(v, s)).diagonal() ** p) for s in range(n))
        assert mt.wasserstein_circle(u, v, p) == pytest.approx(brute ** (1 / p), abs=1e-12)


def test_circle_large_against_pot():
    rng = np.random.default_rng(2)
    u, v = rng.uniform(0, TWO_PI, 20000), samples("clustered", 15000, rng)
    for p in [1, 2]:
        assert mt.wasserstein_circle(u, v, p) == pytest.approx(pot_circle(u, v, p), abs=1e-10)


def test_circle_rotation_by_alpha_is_alpha():
    rng = np.random.default_rng(3)
    u = rng.uniform(0, TWO_PI, 200)
    w = weights(200, rng)
    gap = np.min(geodesic(u, u)[~np.eye(200, dtype=bool)])
    for alpha in [1e-6, 0.3 * gap, -0.3 * gap]:
        assert mt.wasserstein_circle(u, u + alpha, 1, w, w) == pytest.approx(abs(alpha), abs=1e-12)
    assert mt.wasserstein_circle(u, u, 2) == pytest.approx(0, abs=1e-12)


def test_circle_symmetry_triangle_and_rotation_invariance():
    rng = np.random.default_rng(4)
    for p in [1, 1.5, 2]:
        for _ in range(10):
            n, m, l = rng.integers(1, 50, 3)
            u, v, z = samples("random", n, rng), samples("clustered", m, rng), samples("random", l, rng)
            a, b = weights(n, rng), weights(m, rng)
            d_uv = mt.wasserstein_circle(u, v, p, a, b)
            assert mt.wasserstein_circle(v, u, p, b, a) == pytest.approx(d_uv, abs=1e-12)
            d_uz = mt.wasserstein_circle(u, z, p, a)
            d_zv = mt.wasserstein_circle(z, v, p, None, b)
            assert d_uv <= d_uz + d_zv + 1e-12
            # rotating both together, including across the 0 / 2π cut
            for shift in [rng.uniform(0, TWO_PI), -u[0], TWO_PI - u[0] + 1e-13, 100.0]:
                rotated = mt.wasserstein_circle(u + shift, v + shift, p, a, b)
                assert rotated == pytest.approx(d_uv, abs=1e-11)


def test_circle_known_values():
    assert mt.wasserstein_circle([0.0], [np.pi], 2) == pytest.approx(np.pi, abs=1e-14)
    assert mt.wasserstein_circle([0.1], [TWO_PI - 0.1]) == pytest.approx(0.2, abs=1e-14)
    assert mt.wasserstein_circle([0.0, np.pi], [np.pi / 2, 3 * np.pi / 2]) == pytest.approx(np.pi / 2)


# ------------------------------------------------------------------ densities, uniform law


@pytest.mark.parametrize("k", [1, 2, 3, 5, 8])
def test_uniform_to_equispaced_is_pi_over_2k(k):
    diracs = 0.7 + TWO_PI * np.arange(k) / k
    assert mt.wasserstein_circle_uniform(diracs, 1) == pytest.approx(np.pi / (2 * k), abs=1e-13)
    flat = np.full(37, 1 / TWO_PI)
    assert mt.wasserstein_circle_density(diracs, flat, 1) == pytest.approx(np.pi / (2 * k), abs=1e-13)


@pytest.mark.parametrize("p", [1, 1.5, 2, 3])
def test_dirac_to_uniform_closed_form(p):
    # W_p^p(δ, uniform) = mean of |θ|^p over [-π, π] = π^p / (p + 1)
    expected = np.pi / (p + 1) ** (1 / p)
    assert mt.wasserstein_circle_uniform([1.0], p) == pytest.approx(expected, abs=1e-13)
    assert mt.wasserstein_circle_density([1.0], np.full(10, 1 / TWO_PI), p) == pytest.approx(expected, abs=1e-13)


def test_uniform_w2_against_pot_closed_form():
    rng = np.random.default_rng(5)
    for n in [1, 3, 50, 2000]:
        u, w = rng.uniform(0, TWO_PI, n), weights(n, rng)
        # POT sorts the values but not the weights: hand it sorted values
        order = np.argsort(u / TWO_PI % 1)
        ref = ot.semidiscrete_wasserstein2_unif_circle((u / TWO_PI % 1)[order], w[order])
        assert mt.wasserstein_circle_uniform(u, 2, w) == pytest.approx(TWO_PI * np.sqrt(ref[0]), abs=1e-10)
        # the convex search agrees with the closed form
        flat = np.full(16, 1 / TWO_PI)
        assert mt.wasserstein_circle_density(u, flat, 2, w) == pytest.approx(
            mt.wasserstein_circle_uniform(u, 2, w), abs=1e-12)


@pytest.mark.parametrize("p", [1, 1.5, 2])
def test_density_against_fine_discretisation(p):
    rng = np.random.default_rng(6)
    M = 24
    rho = rng.random(M) * (rng.random(M) > 0.3)  # some empty cells
    rho /= rho.sum() * TWO_PI / M
    u = samples("clustered", 30, rng)
    exact = mt.wasserstein_circle_density(u, rho, p)
    # the density as a fine weighted sample (Q midpoints per cell): error <= π / (M Q)
    Q = 400
    pts = (np.arange(M * Q) + 0.5) * TWO_PI / (M * Q)
    wts = np.repeat(rho * TWO_PI / M / Q, Q)
    approx = mt.wasserstein_circle(u, pts, p, None, wts / wts.sum())
    assert abs(exact - approx) <= np.pi / (M * Q) + 1e-12


def test_density_rotation_of_grid():
    # a density that is one sample's law shifted by a whole number of cells
    rng = np.random.default_rng(7)
    M = 32
    rho = rng.random(M)
    rho /= rho.sum() * TWO_PI / M
    u = samples("random", 25, rng)
    for p in [1, 2]:
        d0 = mt.wasserstein_circle_density(u, rho, p)
        d1 = mt.wasserstein_circle_density(u + 5 * TWO_PI / M, np.roll(rho, 5), p)
        assert d1 == pytest.approx(d0, abs=1e-12)


# ------------------------------------------------------------------ equispaced Diracs


def equi(k, phi):
    return phi + TWO_PI * np.arange(k) / k


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("k", [1, 2, 3, 5])
def test_equispaced_against_grid_of_rotations(p, k):
    rng = np.random.default_rng(10 * k + p)
    for kind, weighted in [("random", False), ("clustered", True), ("random", True)]:
        n = int(rng.integers(1, 40))
        u = samples(kind, n, rng)
        w = weights(n, rng) if weighted else None
        dist, rot = mt.distance_to_equispaced(u, k, p, w)
        assert 0 <= rot < TWO_PI / k
        assert mt.wasserstein_circle(u, equi(k, rot), p, w) == pytest.approx(dist, abs=1e-12)
        grid = np.linspace(0, TWO_PI / k, 2001)
        brute = np.array([mt.wasserstein_circle(u, equi(k, g), p, w) for g in grid])
        assert brute.min() >= dist - 1e-12
        assert brute.min() <= dist + (grid[1] - grid[0]) / 2 + 1e-12  # W_p is 1-Lipschitz in φ


@pytest.mark.parametrize("k", [1, 2, 3, 7])
def test_equispaced_exact_for_rotated_configuration(k):
    for phi in [0.0, 0.3, TWO_PI / k - 1e-3]:
        for p in [1, 2]:
            dist, rot = mt.distance_to_equispaced(equi(k, phi) + TWO_PI * 3, k, p)
            assert dist == pytest.approx(0, abs=1e-12)
            assert rot == pytest.approx(phi, abs=1e-12)


def test_equispaced_uniform_law_limit():
    # n equispaced points with n a multiple of k: distance is W1(uniform n-grid, k Diracs)
    k, n = 3, 300
    u = TWO_PI * (np.arange(n) + 0.5) / n
    dist, _ = mt.distance_to_equispaced(u, k, 1)
    assert dist == pytest.approx(np.pi / (2 * k), abs=np.pi / n)


def test_equispaced_large_sample_fast_path():
    rng = np.random.default_rng(11)
    u = np.concatenate([equi(3, 0.4)[rng.integers(0, 3, 20000)] + 0.02 * rng.standard_normal(20000)])
    for p in [1, 2]:
        dist, rot = mt.distance_to_equispaced(u, 3, p)
        assert mt.wasserstein_circle(u, equi(3, rot), p) == pytest.approx(dist, abs=1e-12)
        for g in rot + np.linspace(-0.01, 0.01, 21):
            assert mt.wasserstein_circle(u, equi(3, g), p) >= dist - 1e-12


# ------------------------------------------------------------------ one Dirac


def test_dirac_circle_brute_force():
    rng = np.random.default_rng(12)
    for kind in ["random", "clustered"]:
        for n in [1, 2, 7, 60]:
            u = samples(kind, n, rng)
            w = weights(n, rng)
            val = mt.distance_to_dirac(u, w)
            grid = np.concatenate([np.linspace(0, TWO_PI, 20001), u, u + np.pi])
            brute = np.sqrt((geodesic(grid, u) ** 2 @ w).min())
            assert brute >= val - 1e-12
            assert brute <= val + 1e-3
            # it is W2 to the best Dirac: agrees with wasserstein_circle there
            best = grid[np.argmin(geodesic(grid, u) ** 2 @ w)]
            assert mt.wasserstein_circle(u, [best], 2, w) == pytest.approx(brute, abs=1e-12)


def test_dirac_circle_unit_vectors_and_exact_values():
    assert mt.distance_to_dirac([0.3, 0.3]) == pytest.approx(0, abs=1e-14)
    assert mt.distance_to_dirac([0.0, 1.0]) == pytest.approx(0.5, abs=1e-14)
    # two antipodal points: any Dirac is at total squared distance π²/2
    assert mt.distance_to_dirac([0.0, np.pi]) == pytest.approx(np.pi / 2, abs=1e-14)
    u = np.random.default_rng(13).uniform(0, TWO_PI, 30)
    X = np.column_stack([np.cos(u), np.sin(u)])
    assert mt.distance_to_dirac(X) == pytest.approx(mt.distance_to_dirac(u), abs=1e-12)


def fibonacci_sphere(n):
    i = np.arange(n) + 0.5
    z = 1 - 2 * i / n
    r = np.sqrt(1 - z**2)
    phi = np.pi * (1 + 5**0.5) * i
    return np.column_stack([r * np.cos(phi), r * np.sin(phi), z])


def test_dirac_sphere_brute_force_and_great_circle():
    rng = np.random.default_rng(14)
    grid = fibonacci_sphere(40000)
    for spread in [0.2, 0.8, 3.0]:
        X = rng.standard_normal((40, 3)) * np.array([spread, spread, 1.0]) + np.array([0, 0, 1.0])
        X /= np.linalg.norm(X, axis=1, keepdims=True)
        w = weights(40, rng)
        val = mt.distance_to_dirac(X, w)
        brute = np.sqrt((np.arccos(np.clip(grid @ X.T, -1, 1)) ** 2 @ w).min())
        assert brute >= val - 1e-12
        assert brute <= val + 0.02
    # a tight arc on a great circle of S^2: same value as on the circle
    u = 0.4 + 0.3 * rng.random(20)
    X = np.column_stack([np.cos(u), np.sin(u), np.zeros(20)])
    assert mt.distance_to_dirac(X @ np.linalg.qr(rng.standard_normal((3, 3)))[0]) == pytest.approx(
        mt.distance_to_dirac(u), abs=1e-10)


# ------------------------------------------------------------------ sphere


def sphere_sample(n, d, rng, spread=1.0):
    X = rng.standard_normal((n, d)) * spread
    X[:, 0] += 1.0
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def ot_geodesic(X, Y, p, a=None, b=None):
    C = np.arccos(np.clip(X @ Y.T, -1, 1)) ** p
    a = np.full(len(X), 1 / len(X)) if a is None else a
    b = np.full(len(Y), 1 / len(Y)) if b is None else b
    return ot.emd2(a, b, C) ** (1 / p)


@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("d", [2, 3, 5])
def test_sphere_assignment_equals_lp_and_pot(p, d):
    rng = np.random.default_rng(20 + d + p)
    X, Y = sphere_sample(12, d, rng), sphere_sample(12, d, rng)
    val = mt.wasserstein_sphere(X, Y, p)
    C = (2 * np.arctan2(np.linalg.norm(X[:, None] - Y[None], axis=2),
                        np.linalg.norm(X[:, None] + Y[None], axis=2))) ** p
    u = np.full(12, 1 / 12)
    assert val == pytest.approx(_transport_lp(C, u, u)[0] ** (1 / p), abs=1e-9)
    assert val == pytest.approx(ot_geodesic(X, Y, p), abs=1e-7)  # arccos vs atan2 rounding
    # weighted, unequal sizes: the LP path against POT
    Z = sphere_sample(9, d, rng)
    a, b = weights(12, rng), weights(9, rng)
    assert mt.wasserstein_sphere(X, Z, p, u_weights=a, v_weights=b) == pytest.approx(ot_geodesic(X, Z, p, a, b), abs=1e-7)


def test_sphere_on_the_circle_equals_circle_distance():
    rng = np.random.default_rng(30)
    u, v = rng.uniform(0, TWO_PI, 15), rng.uniform(0, TWO_PI, 11)
    a, b = weights(15, rng), weights(11, rng)
    X, Y = np.column_stack([np.cos(u), np.sin(u)]), np.column_stack([np.cos(v), np.sin(v)])
    for p in [1, 2]:
        assert mt.wasserstein_sphere(X, Y, p, a, b) == pytest.approx(
            mt.wasserstein_circle(u, v, p, a, b), abs=1e-9)
    # equal sizes, uniform weights: the assignment path
    assert mt.wasserstein_sphere(X[:11], Y, 2) == pytest.approx(mt.wasserstein_circle(u[:11], v, 2), abs=1e-12)


def test_sphere_orthogonal_invariance_and_chordal():
    rng = np.random.default_rng(31)
    d = 4
    X, Y = sphere_sample(20, d, rng), sphere_sample(20, d, rng, 0.3)
    Q = np.linalg.qr(rng.standard_normal((d, d)))[0]
    for cost in ["geodesic", "chordal"]:
        for p in [1, 2]:
            assert mt.wasserstein_sphere(X @ Q.T, Y @ Q.T, p, cost=cost) == pytest.approx(
                mt.wasserstein_sphere(X, Y, p, cost=cost), abs=1e-12)
    g = mt.wasserstein_sphere(X, Y, 1)
    c = mt.wasserstein_sphere(X, Y, 1, cost="chordal")
    assert c <= g + 1e-12 and g <= np.pi / 2 * c + 1e-12
    # chordal = 2 sin(geodesic/2) pointwise: a single pair
    x, y = X[:1], Y[:1]
    assert mt.wasserstein_sphere(x, y, 2, cost="chordal") == pytest.approx(
        2 * np.sin(mt.wasserstein_sphere(x, y, 2) / 2), abs=1e-14)
    assert mt.wasserstein_sphere(X, X, 2) == pytest.approx(0, abs=1e-12)


def test_sphere_size_limits():
    X = sphere_sample(600, 3, np.random.default_rng(0))
    with pytest.raises(ValueError, match="sliced"):
        mt.wasserstein_sphere(X, X[:500], 2)


# ------------------------------------------------------------------ sliced


@pytest.mark.parametrize("p", [1, 2])
def test_sliced_against_pot_same_planes(p):
    rng = np.random.default_rng(40)
    X, Y = sphere_sample(60, 3, rng), sphere_sample(45, 3, rng, 0.5)
    a, b = weights(60, rng), weights(45, rng)
    L = 30
    mine = mt.sliced_wasserstein_sphere(X, Y, L, rng=123, p=p, u_weights=a, v_weights=b)
    U = np.linalg.qr(np.random.default_rng(123).standard_normal((L, 3, 2)))[0]
    ref = ot.sliced_wasserstein_sphere(X, Y, a, b, n_projections=L, p=p, projections=U)
    assert mine == pytest.approx(TWO_PI * ref, rel=1e-5)  # POT searches to eps = 1e-6
    # exact per plane with the LP on the geodesic cost (POT 0.9.7's weighted p = 1 circle
    # closed form returned 0.99977 instead of 0.02455 on plane 6 here, so not that one)
    per_plane = []
    for Ul in U:
        px, py = X @ Ul, Y @ Ul
        tx, ty = np.arctan2(px[:, 1], px[:, 0]), np.arctan2(py[:, 1], py[:, 0])
        per_plane.append(emd_circle(tx, ty, p, a, b) ** p)
    assert mine == pytest.approx(np.mean(per_plane) ** (1 / p), abs=1e-9)


def test_sliced_properties():
    rng = np.random.default_rng(41)
    X, Y = sphere_sample(200, 5, rng), sphere_sample(150, 5, rng, 0.4)
    assert mt.sliced_wasserstein_sphere(X, X, 50, rng=1) == pytest.approx(0, abs=1e-12)
    s = mt.sliced_wasserstein_sphere(X, Y, 50, rng=2)
    assert mt.sliced_wasserstein_sphere(Y, X, 50, rng=2) == pytest.approx(s, abs=1e-12)
    assert mt.sliced_wasserstein_sphere(X, Y, 50, rng=2) == s  # reproducible
    Q = np.linalg.qr(rng.standard_normal((5, 5)))[0]
    big = [mt.sliced_wasserstein_sphere(M1, M2, 4000, rng=3) for M1, M2 in [(X, Y), (X @ Q.T, Y @ Q.T)]]
    assert big[0] == pytest.approx(big[1], rel=0.03)  # invariant in distribution
    small = [mt.sliced_wasserstein_sphere(X, Y, 20, rng=r) for r in range(30)]
    assert abs(np.mean(small) - big[0]) < 4 * np.std(small) / np.sqrt(30) + 0.01


# ------------------------------------------------------------------ bad input


def test_bad_input():
    u = np.array([0.1, 0.2])
    with pytest.raises(ValueError):
        mt.wasserstein_circle([], u)
    with pytest.raises(ValueError):
        mt.wasserstein_circle(u, [np.nan])
    with pytest.raises(ValueError):
        mt.wasserstein_circle(u, u, p=0.5)
    with pytest.raises(ValueError):
        mt.wasserstein_circle(u, u, u_weights=[1.5, -0.5])
    with pytest.raises(ValueError):
        mt.wasserstein_circle(u, u, v_weights=[0.3, 0.3])
    with pytest.raises(ValueError):
        mt.wasserstein_circle(u, u, u_weights=[1.0])
    with pytest.raises(ValueError):
        mt.wasserstein_circle(np.zeros((2, 2)), u)
    with pytest.raises(ValueError, match="integrate"):
        mt.wasserstein_circle_density(u, np.ones(10))
    with pytest.raises(ValueError):
        mt.wasserstein_circle_density(u, np.array([2.0, -1.0]) / np.pi)
    with pytest.raises(ValueError):
        mt.distance_to_equispaced(u, 0)
    with pytest.raises(TypeError):
        mt.distance_to_equispaced(u, 2.5)
    with pytest.raises(ValueError):
        mt.distance_to_equispaced(u, 2, p=1.5)
    X = np.eye(3)
    with pytest.raises(ValueError):
        mt.wasserstein_sphere(X, np.eye(2))
    with pytest.raises(ValueError):
        mt.wasserstein_sphere(2 * X, X)
    with pytest.raises(ValueError):
        mt.wasserstein_sphere(X, X, cost="euclid")
    with pytest.raises(ValueError):
        mt.sliced_wasserstein_sphere(X, X, 0)
    with pytest.raises(ValueError):
        mt.distance_to_dirac([])
    with pytest.raises(ValueError):
        mt.distance_to_dirac(u, weights=[0.5, 0.6])


def test_density_cell_start_is_a_rotation():
    rng = np.random.default_rng(11)
    M = 64
    density = 1.0 + 0.5 * np.cos(2 * np.pi * np.arange(M) / M)
    density /= density.sum() * 2 * np.pi / M
    u = rng.uniform(0, 2 * np.pi, 300)
    a = 0.37
    shifted = mt.wasserstein_circle_density(u, density, cell_start=a)
    assert shifted == pytest.approx(mt.wasserstein_circle_density(u - a, density), abs=1e-13)
    # A Dirac at each node, carrying its cell's mass, against cells centred on the nodes:
    # each cell sends its mass to its own centre, at mean cost h/4 = π/(2M).
    nodes = 2 * np.pi * np.arange(M) / M
    weights = density * 2 * np.pi / M
    centred = mt.wasserstein_circle_density(nodes, density, u_weights=weights, cell_start=-np.pi / M)
    assert centred == pytest.approx(np.pi / (2 * M), rel=1e-9)
    with pytest.raises(ValueError, match="cell_start"):
        mt.wasserstein_circle_density(u, density, cell_start=np.nan)


def test_w1_closed_form_to_densities_matches_the_general_search():
    """p = 1 to a density uses the median closed form; p = 1 + 1e-9 still runs the search."""
    rng = np.random.default_rng(21)
    for trial in range(60):
        n, M = int(rng.integers(1, 50)), int(rng.integers(1, 30))
        u = rng.uniform(-10, 10, n)
        if trial % 3 == 0:
            u = np.round(u, 1)  # repeated atoms
        w = rng.random(n)
        w /= w.sum()
        density = rng.random(M) * (rng.random(M) > 0.3)  # some empty cells
        density[0] += 0.1
        density /= density.sum() * 2 * np.pi / M
        closed = mt.wasserstein_circle_density(u, density, u_weights=w)
        search = mt.wasserstein_circle_density(u, density, p=1 + 1e-9, u_weights=w)
        assert closed == pytest.approx(search, abs=1e-7)
        assert mt.wasserstein_circle_uniform(u) == pytest.approx(
            mt.wasserstein_circle_uniform(u, p=1 + 1e-9), abs=1e-7)


# ------------------------------------------------------------------ two densities on grids


def random_density(M, rng, empty=0.3):
    rho = rng.random(M) * (rng.random(M) > empty)
    rho[rng.integers(M)] += 0.1  # never all empty
    return rho / (rho.sum() * TWO_PI / M)


def density_as_sample(rho, Q):
    """Q midpoints per cell carrying the cell's mass: W1 error <= a quarter sub-cell."""
    M = rho.size
    pts = (np.arange(M * Q) + 0.5) * TWO_PI / (M * Q)
    w = np.repeat(rho * TWO_PI / M / Q, Q)
    return pts, w / w.sum()


@pytest.mark.parametrize("Mu,Mv", [(24, 24), (16, 40), (1, 30)])
def test_densities_against_pot_on_fine_samples(Mu, Mv):
    rng = np.random.default_rng([Mu, Mv])
    for _ in range(3):
        ru, rv = random_density(Mu, rng), random_density(Mv, rng)
        exact = mt.wasserstein_circle_densities(ru, rv)
        Q = 120
        (x, a), (y, b) = density_as_sample(ru, Q), density_as_sample(rv, 2 * Q)
        pot = TWO_PI * float(np.ravel(ot.wasserstein_circle(x / TWO_PI, y / TWO_PI, a, b, p=1))[0])
        assert abs(exact - pot) <= np.pi / (2 * Mu * Q) + np.pi / (4 * Mv * Q) + 1e-10


def test_densities_against_emd_on_a_discretisation():
    rng = np.random.default_rng(60)
    M, Q = 16, 6
    for _ in range(3):
        ru, rv = random_density(M, rng), random_density(M, rng)
        (x, a), (y, b) = density_as_sample(ru, Q), density_as_sample(rv, Q)
        emd = ot.emd2(a, b, geodesic(x, y))
        assert abs(mt.wasserstein_circle_densities(ru, rv) - emd) <= np.pi / (M * Q) + 1e-9


def test_densities_exact_values_and_invariances():
    half = np.array([1.0, 0.0]) / np.pi  # uniform on [0, π)
    assert mt.wasserstein_circle_densities(half) == pytest.approx(np.pi / 4, abs=1e-14)
    assert mt.wasserstein_circle_densities(half, np.full(7, 1 / TWO_PI)) == pytest.approx(np.pi / 4, abs=1e-14)
    # uniform on one cell against the same cell moved by a quarter turn: W1 = π/2
    one = np.zeros(8)
    one[0] = 8 / TWO_PI
    assert mt.wasserstein_circle_densities(one, np.roll(one, 2)) == pytest.approx(np.pi / 2, abs=1e-13)
    rng = np.random.default_rng(61)
    for _ in range(10):
        M = int(rng.integers(2, 40))
        ru, rv, rz = random_density(M, rng), random_density(M, rng), random_density(2 * M, rng)
        d = mt.wasserstein_circle_densities(ru, rv)
        assert mt.wasserstein_circle_densities(ru, ru) == pytest.approx(0, abs=1e-14)
        assert mt.wasserstein_circle_densities(rv, ru) == pytest.approx(d, abs=1e-13)
        s = int(rng.integers(M))
        assert mt.wasserstein_circle_densities(np.roll(ru, s), np.roll(rv, s)) == pytest.approx(d, abs=1e-13)
        # the same density written on a finer grid
        assert mt.wasserstein_circle_densities(np.repeat(ru, 3), rv) == pytest.approx(d, abs=1e-13)
        assert d <= mt.wasserstein_circle_densities(ru, rz) + mt.wasserstein_circle_densities(rz, rv) + 1e-13


def chapter5_w1_to_uniform(rho, refine):
    """Chapter 5's NumPy version: midpoint rule on `refine` sub-cells and an unweighted median."""
    M = rho.size
    F = np.concatenate([[0.0], np.cumsum(rho) * TWO_PI / M])
    s = (np.arange(refine) + 0.5) / refine
    G = F[:-1, None] * (1 - s) + F[1:, None] * s - (np.arange(M)[:, None] + s) / M
    return TWO_PI * np.mean(np.abs(G - np.median(G)))


def test_densities_to_uniform_against_the_chapter_numpy_version():
    rng = np.random.default_rng(62)
    for M in [8, 64, 1024]:
        rho = random_density(M, rng, empty=0.0)
        exact = mt.wasserstein_circle_densities(rho)
        errors = [abs(chapter5_w1_to_uniform(rho, r) - exact) for r in (8, 64, 512)]
        assert errors[2] < 1e-5 * exact and errors[2] < errors[0], errors
    # the closed form 2α/(πk) for (1 + α cos kθ)/2π, reached at the grid's second order
    M, k, alpha = 1024, 3, 0.01
    rho = mt.manifold_density(M, k, alpha)
    assert mt.wasserstein_circle_densities(rho) == pytest.approx(2 * alpha / (np.pi * k), rel=1e-4)


def test_densities_bad_input():
    flat = np.full(10, 1 / TWO_PI)
    with pytest.raises(ValueError, match="p must be 1"):
        mt.wasserstein_circle_densities(flat, flat, p=2)
    with pytest.raises(ValueError, match="u_density must integrate to 1"):
        mt.wasserstein_circle_densities(2 * flat, flat)
    with pytest.raises(ValueError, match="v_density must be non-negative"):
        mt.wasserstein_circle_densities(flat, np.array([2.0, -1.0]) / np.pi)
    with pytest.raises(ValueError, match="u_density must have 1 dimension"):
        mt.wasserstein_circle_densities(np.ones((2, 2)) / (2 * np.pi))
    with pytest.raises(ValueError, match="sampling must be one of"):
        mt.wasserstein_circle_densities(flat, sampling="midpoints")
    with pytest.raises(TypeError, match="u_density"):
        mt.wasserstein_circle_densities(["a"] * 10)


# ------------------------------------------------------------------ densities sampled at nodes


def chapter1_w1_tokens_density(theta, cells, alpha=None):
    """Chapter 1's NumPy version: ∫|F - G - α| exactly, α an approximate median of F - G
    (the median of the pieces' midpoint values) unless given."""
    n, M = theta.size, cells.size
    x = np.sort(np.mod(theta, TWO_PI)) / TWO_PI
    edges = np.arange(M + 1) / M
    G_edges = np.concatenate([[0.0], np.cumsum(cells)]) / cells.sum()
    b = np.sort(np.concatenate([x, edges]))
    length = np.diff(b)
    F = np.searchsorted(x, 0.5 * (b[:-1] + b[1:]), side="right") / n
    D0, D1 = F - np.interp(b[:-1], edges, G_edges), F - np.interp(b[1:], edges, G_edges)
    if alpha is None:
        mid = 0.5 * (D0 + D1)
        order = np.argsort(mid)
        cw = np.cumsum(length[order])
        alpha = mid[order][np.searchsorted(cw, 0.5 * cw[-1])]
    p, q = D0 - alpha, D1 - alpha
    piece = np.where(p * q >= 0, 0.5 * np.abs(p + q), 0.5 * (p * p + q * q) / np.maximum(np.abs(p) + np.abs(q), 1e-300))
    return TWO_PI * np.sum(length * piece)


def brute_w1_tokens_density(theta, cells):
    """min over α of the exact integral, by a bounded scalar minimisation (convex in α)."""
    start = chapter1_w1_tokens_density(theta, cells)
    res = minimize_scalar(lambda a: chapter1_w1_tokens_density(theta, cells, a), bounds=(-1.0, 1.0),
                          method="bounded", options={"xatol": 1e-13})
    return min(res.fun, start)


def chapter1_cell_values(rho):
    M = rho.size
    c = np.fft.rfft(rho)
    return np.fft.irfft(c * np.exp(1j * np.arange(c.size) * np.pi / M), M)


def band_limited(theta, coeffs):
    """(1 + Σ_m a_m cos(mθ + φ_m)) / 2π for coeffs [(m, a_m, φ_m), ...]."""
    return (1 + sum(a * np.cos(m * theta + ph) for m, a, ph in coeffs)) / TWO_PI


def test_nodes_resample_band_limited_densities_exactly():
    rng = np.random.default_rng(70)
    coeffs = [(1, 0.3, 0.2), (3, 0.2, 1.0), (7, 0.1, -0.4)]
    M = 64
    nodes = band_limited(TWO_PI * np.arange(M) / M, coeffs)
    u = rng.uniform(0, TWO_PI, 200)
    for a in [0.0, 0.37, -np.pi / M]:
        mids = band_limited(a + TWO_PI * (np.arange(M) + 0.5) / M, coeffs)
        for p in [1, 2]:
            by_nodes = mt.wasserstein_circle_density(u, nodes, p, cell_start=a, sampling="nodes")
            by_cells = mt.wasserstein_circle_density(u, mids, p, cell_start=a)
            assert by_nodes == pytest.approx(by_cells, abs=1e-13)
    mids = band_limited(TWO_PI * (np.arange(M) + 0.5) / M, coeffs)
    assert mt.wasserstein_circle_densities(nodes, sampling="nodes") == pytest.approx(
        mt.wasserstein_circle_densities(mids), abs=1e-14)


def test_nodes_agree_with_the_chapter_numpy_version():
    rng = np.random.default_rng(71)
    M = 256
    grid = TWO_PI * np.arange(M) / M
    rho = band_limited(grid, [(1, 0.5, 0.0), (3, 0.3, 0.5)])
    theta = mt.perturbed_uniform_circle(5000, 3, 0.3, rng=rng)
    mine = mt.wasserstein_circle_density(theta, rho, sampling="nodes")
    assert mine == pytest.approx(brute_w1_tokens_density(theta, chapter1_cell_values(rho)), abs=1e-12)
    # the chapter's median is approximate: its value is an upper bound, close to the minimum
    chapter = chapter1_w1_tokens_density(theta, chapter1_cell_values(rho))
    assert mine <= chapter + 1e-15 and chapter - mine < 1e-6
    # a density that vanishes on an arc: the interpolation dips below 0, clipped as the chapter does
    rho = np.maximum(band_limited(grid, [(1, 2.0, 0.0)]), 0.0)
    rho /= rho.sum() * TWO_PI / M
    assert chapter1_cell_values(rho).min() < 0
    mine = mt.wasserstein_circle_density(theta, rho, sampling="nodes")
    ref = brute_w1_tokens_density(theta, np.maximum(chapter1_cell_values(rho), 0.0))
    assert mine == pytest.approx(ref, abs=1e-12)


def test_nodes_bad_input():
    M = 16
    rho = np.full(M, 1 / TWO_PI)
    rho[3] = -1e-6
    rho /= rho.sum() * TWO_PI / M
    with pytest.raises(ValueError, match=">= -1e-08 at the nodes"):
        mt.wasserstein_circle_density([0.0], rho, sampling="nodes")
    with pytest.raises(ValueError, match="must be non-negative"):
        mt.wasserstein_circle_density([0.0], rho)
    with pytest.raises(ValueError, match="sampling must be one of"):
        mt.wasserstein_circle_density([0.0], np.full(M, 1 / TWO_PI), sampling="grid")
    with pytest.raises(TypeError, match="sampling must be a string"):
        mt.wasserstein_circle_density([0.0], np.full(M, 1 / TWO_PI), sampling=1)


def test_sphere_vocabulary_and_public_names():
    rng = np.random.default_rng(72)
    X, Y = sphere_sample(10, 3, rng), sphere_sample(7, 3, rng)
    a, b = weights(10, rng), weights(7, rng)
    assert mt.wasserstein_sphere(u=X, v=Y, u_weights=a, v_weights=b) == mt.wasserstein_sphere(X, Y, 2, a, b)
    assert mt.sliced_wasserstein_sphere(u=X, v=Y, rng=1, u_weights=a, v_weights=b) == \
        mt.sliced_wasserstein_sphere(X, Y, 200, 1, 2, a, b)
    with pytest.raises(ValueError, match="u_weights"):
        mt.wasserstein_sphere(X, Y, u_weights=np.ones(10))
    with pytest.raises(ValueError, match="v_weights"):
        mt.sliced_wasserstein_sphere(X, Y, v_weights=np.ones(3) / 3)
    with pytest.raises(ValueError, match="rows of u must have unit norm"):
        mt.wasserstein_sphere(2 * X, Y)
    from mtlib import wasserstein
    for name in wasserstein.__all__:
        assert getattr(mt, name) is getattr(wasserstein, name)


# ------------------------------------------------------------------ properties (hypothesis)

cell_values = hnp.arrays(np.float64, st.integers(1, 24), elements=st.floats(0.0, 1.0))
angles = hnp.arrays(np.float64, st.integers(1, 20), elements=st.floats(-10.0, 10.0))


def as_density(values):
    values = values + 1e-3  # no all-empty grid
    return values / (values.sum() * TWO_PI / values.size)


@settings(max_examples=60, deadline=None)
@given(cell_values, cell_values, cell_values, st.integers(0, 23), st.integers(2, 4))
def test_densities_metric_properties(a, b, c, shift, refine):
    ru, rv, rz = as_density(a), as_density(b), as_density(c)
    d = mt.wasserstein_circle_densities(ru, rv)
    assert 0.0 <= d <= np.pi + 1e-12  # no mass moves further than half a turn
    assert mt.wasserstein_circle_densities(rv, ru) == pytest.approx(d, abs=1e-12)
    assert d <= mt.wasserstein_circle_densities(ru, rz) + mt.wasserstein_circle_densities(rz, rv) + 1e-12
    assert mt.wasserstein_circle_densities(np.repeat(ru, refine), rv) == pytest.approx(d, abs=1e-12)
    if ru.size == rv.size:
        s = shift % ru.size
        assert mt.wasserstein_circle_densities(np.roll(ru, s), np.roll(rv, s)) == pytest.approx(d, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(angles, cell_values, st.floats(-7.0, 7.0))
def test_density_rotation_and_cells_as_densities(u, a, phi):
    rho = as_density(a)
    d = mt.wasserstein_circle_density(u, rho)
    # rotating the sample and the grid together
    assert mt.wasserstein_circle_density(u + phi, rho, cell_start=phi) == pytest.approx(d, abs=1e-11)
    # a sample against a density is bounded by the density against the sample's cell histogram
    # plus the largest move inside a cell: W1(u, ρ) <= W1(hist_u, ρ) + π/M
    M = rho.size
    hist = np.bincount(np.floor(np.mod(u, TWO_PI) / (TWO_PI / M)).astype(int) % M, minlength=M)
    hist = hist / (hist.sum() * TWO_PI / M)
    assert abs(d - mt.wasserstein_circle_densities(hist, rho)) <= np.pi / M + 1e-12


# ------------------------------------------------------------------ along a PDE solution


@pytest.fixture(scope="module")
def manifold_solution():
    """β = 5 from f^α on M_3 (M = 128): spectral, then Lagrangian with 3 · 64 points."""
    rho0 = mt.manifold_density(128, 3, 0.001)
    return mt.solve_circle_pde(rho0, 5.0, np.linspace(0.0, 0.8, 9), method="auto", n_points=192)


def w1_uniform_quadrature(cdf, n=200_001):
    """2π min_c ∫_0^1 |F(x) - x - c| dx by the midpoint rule, F a function of x in [0, 1)."""
    x = (np.arange(n) + 0.5) / n
    g = cdf(x) - x
    return TWO_PI * np.mean(np.abs(g - np.median(g)))


def equispaced_brute_force(x, w, k):
    """min over a grid of rotations φ of W1(points, k Diracs) by POT's exact transport."""
    best = np.inf
    for phi in np.linspace(0.0, TWO_PI / k, 721):
        diracs = phi + TWO_PI * np.arange(k) / k
        best = min(best, emd_circle(x, diracs, 1, w, np.full(k, 1 / k)))
    return best


def test_solution_distances_against_references(manifold_solution):
    sol = manifold_solution
    w1, d3 = mt.solution_distances(sol, 3)
    spectral = np.flatnonzero(sol.method == "spectral")
    lagrangian = np.flatnonzero(sol.method == "lagrangian")
    assert spectral.size >= 2 and lagrangian.size >= 2 and w1.shape == d3.shape == (9,)
    for i in spectral:  # the density constant on the cells [2πj/M, 2π(j+1)/M)
        F = np.concatenate([[0.0], np.cumsum(sol.density[i]) / sol.density[i].sum()])
        cdf = lambda x, F=F: np.interp(x, np.arange(F.size) / (F.size - 1), F)  # noqa: E731
        assert w1[i] == pytest.approx(w1_uniform_quadrature(cdf), abs=1e-7)
        q = mt.quantile_tokens(sol.density[i], 192, "cells")
        assert d3[i] == pytest.approx(equispaced_brute_force(q, None, 3), abs=2e-3)
        assert d3[i] <= equispaced_brute_force(q, None, 3) + 1e-9
    for row, i in enumerate(lagrangian):
        x, w = sol.points[row], sol.weights
        order = np.argsort(np.mod(x, TWO_PI))
        levels = np.cumsum(w[order])
        cdf = lambda s, p=np.mod(x, TWO_PI)[order] / TWO_PI, c=levels: np.concatenate(  # noqa: E731
            [[0.0], c])[np.searchsorted(p, s, side="right")]
        assert w1[i] == pytest.approx(w1_uniform_quadrature(cdf), abs=1e-4)
        assert d3[i] <= equispaced_brute_force(x, w, 3) + 1e-9
    # from about 2α/(πk) at the start to π/(2k) and 0 as three Diracs form
    assert w1[0] == pytest.approx(2 * 0.001 / (np.pi * 3), rel=1e-3)
    assert np.all(np.diff(w1) > 0) and d3[-1] < 0.05 * d3[0]


def test_solution_distances_exact_composition_and_rotation(manifold_solution):
    sol = manifold_solution
    w1, d3 = mt.solution_distances(sol, 3, n_quantiles=96)
    i = np.flatnonzero(sol.method == "spectral")[1]
    assert w1[i] == mt.wasserstein_circle_densities(sol.density[i])
    assert d3[i] == mt.distance_to_equispaced(mt.quantile_tokens(sol.density[i], 96, "cells"), 3)[0]
    assert d3[-1] == mt.distance_to_equispaced(sol.points[-1], 3, u_weights=sol.weights)[0]
    # the solution rotated by 16 cells (densities rolled, points turned): same distances
    rotated = dataclasses.replace(sol, density=np.roll(sol.density, 16, axis=1),
                                  points=np.mod(sol.points + 16 * TWO_PI / 128, TWO_PI))
    w1_r, d3_r = mt.solution_distances(rotated, 3, n_quantiles=96)
    lag = sol.method == "lagrangian"  # exact there; quantile points start at θ = 0
    assert np.allclose(w1_r, w1, rtol=0, atol=1e-13) and np.allclose(d3_r[lag], d3[lag], rtol=0, atol=1e-12)
    assert np.allclose(d3_r, d3, rtol=0, atol=1e-4)
    spectral_only = mt.solve_circle_pde(mt.manifold_density(64, 2, 0.01), 2.0, [0.0, 0.1], method="spectral")
    w1_s, d2_s = mt.solution_distances(spectral_only, 2)  # default: M = 64 quantile points
    assert d2_s[0] == mt.distance_to_equispaced(mt.quantile_tokens(spectral_only.density[0], 64, "cells"), 2)[0]


def test_solution_distances_bad_input(manifold_solution):
    with pytest.raises(TypeError, match="solution"):
        mt.solution_distances(np.zeros(8), 3)
    with pytest.raises(ValueError, match="k"):
        mt.solution_distances(manifold_solution, 0)
    with pytest.raises(ValueError, match="n_quantiles"):
        mt.solution_distances(manifold_solution, 3, n_quantiles=0)
    with pytest.raises(TypeError, match="k"):
        mt.solution_distances(manifold_solution, 2.5)


@pytest.fixture(scope="module")
def noise_run():
    """A white-noise run that hands over to the Lagrangian solver (both kinds of snapshot)."""
    rho0 = mt.white_noise_density(256, 0.01, rng=1)
    return rho0, mt.solve_circle_pde(rho0, 5.0, np.linspace(0.0, 0.6, 7))


def w1_to_cdf(u, cdf):
    """W1 on the circle between tokens and a law with the given CDF on [0, 2π), fine grid."""
    x = np.linspace(0.0, 2 * np.pi, 200_001)
    D = np.searchsorted(np.sort(np.mod(u, 2 * np.pi)), x, side="right") / u.size - cdf(x)
    D -= np.median(D)
    return np.sum(np.abs(D[:-1])) * (x[1] - x[0])


def w1_weighted_points(u, v, v_weights):
    """Exact W1 on the circle between two weighted point sets: ∫|F_u - F_v - median|."""
    x = np.sort(np.concatenate([np.mod(u, 2 * np.pi), np.mod(v, 2 * np.pi), [0.0, 2 * np.pi]]))
    Fu = np.searchsorted(np.sort(np.mod(u, 2 * np.pi)), x[:-1], side="right") / u.size
    order = np.argsort(np.mod(v, 2 * np.pi))
    Fv = np.concatenate([[0.0], np.cumsum(v_weights[order])])[
        np.searchsorted(np.mod(v, 2 * np.pi)[order], x[:-1], side="right")]
    D, length = Fu - Fv, np.diff(x)
    o = np.argsort(D)
    c = D[o][np.searchsorted(np.cumsum(length[o]), length.sum() / 2)]  # weighted median
    return float(np.sum(np.abs(D - c) * length))


def test_wasserstein_to_solution_against_cdf_references(noise_run):
    a = 0.3
    rho0 = (1 + a * np.cos(mt.pde_grid(512))) / (2 * np.pi)
    sol = mt.solve_circle_pde(rho0, 2.0, [0.0, 0.05], method="spectral")
    u = mt.perturbed_uniform_circle(400, 1, a, rng=3)
    exact_cdf = lambda x: (x + a * np.sin(x)) / (2 * np.pi)  # noqa: E731
    assert mt.wasserstein_to_solution(u, sol, 0) == pytest.approx(w1_to_cdf(u, exact_cdf), abs=2e-5)
    assert mt.wasserstein_to_solution(u, sol, -2) == mt.wasserstein_to_solution(u, sol, 0)
    _, run = noise_run
    u = mt.uniform_circle(300, rng=5)
    for i in np.flatnonzero(run.method == "lagrangian"):
        j = i - np.sum(run.method == "spectral")
        ref = w1_weighted_points(u, run.points[j], run.weights)
        assert mt.wasserstein_to_solution(u, run, i) == pytest.approx(ref, rel=1e-9), i
    w = np.full(300, 1 / 300)
    assert mt.wasserstein_to_solution(u, run, u_weights=w) == pytest.approx(
        mt.wasserstein_to_solution(u, run, -1), rel=1e-12)
    with pytest.raises(ValueError, match="index must be <= 6"):
        mt.wasserstein_to_solution(u, run, 7)
    with pytest.raises(TypeError, match="solution must be a CirclePDESolution"):
        mt.wasserstein_to_solution(u, run.density)
