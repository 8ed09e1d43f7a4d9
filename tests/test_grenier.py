"""Tests for mtlib.grenier: Grenier's expansion against the PDE solution (errors shrink with the
order), its first term against the linearised solution, its statistics, and bad input."""

import numpy as np
import pytest

import mtlib as mt

TWO_PI = 2 * np.pi


def test_grenier_error_shrinks_with_order():
    M = 256
    θ = mt.pde_grid(M)
    rho0 = (1 + 1e-3 * (np.cos(3 * θ) + 0.7 * np.sin(2 * θ - 0.3) + 0.5 * np.cos(θ + 1))) / TWO_PI
    t = np.array([0.0, 0.2, 0.3])
    exact = mt.solve_circle_pde(rho0, 5.0, t, method="spectral", rtol=1e-11).density
    expansion = mt.grenier_expansion(rho0, 5.0, t, order=4)
    assert expansion.terms.shape == (4, 3, M)
    errors = [np.max(np.abs(expansion.partial_sum(m)[-1] - exact[-1])) for m in range(1, 5)]
    assert all(b < 0.5 * a for a, b in zip(errors, errors[1:])), errors
    np.testing.assert_allclose(expansion.partial_sum(1), mt.linearized_solution(rho0, 5.0, t), atol=1e-12)
    assert expansion.n_steps > 0 and expansion.nfev == 1 + 6 * (expansion.n_steps + expansion.n_rejected)
    assert expansion.wall_time > 0 and "4 terms" in expansion.message
    np.testing.assert_array_equal(expansion.t, t)
    np.testing.assert_allclose(expansion.partial_sum(0), np.full((3, M), 1 / TWO_PI))


def test_rotation_equivariance():
    """Rotating the datum by whole grid cells rotates every term."""
    M, s = 96, 13
    theta = mt.pde_grid(M)
    rho0 = (1 + 1e-2 * (np.cos(2 * theta - 0.4) + 0.5 * np.sin(theta))) / TWO_PI
    t = [0.0, 0.3]
    a = mt.grenier_expansion(rho0, 4.0, t, order=3).terms
    b = mt.grenier_expansion(np.roll(rho0, s), 4.0, t, order=3).terms
    np.testing.assert_allclose(b, np.roll(a, s, axis=-1), atol=1e-12)


def test_second_term_is_the_quadratic_response():
    """u_2 solves ∂_t u_2 = L u_2 + Q(u_1, u_1): for a single mode e^{ikθ} it lives on modes 0, 2k
    (a direct check of the hierarchy's forcing against the analytic linear solution)."""
    M, k = 96, 2
    theta = mt.pde_grid(M)
    rho0 = (1 + 1e-3 * np.cos(k * theta)) / TWO_PI
    u2 = mt.grenier_expansion(rho0, 5.0, [0.0, 0.2], order=2).terms[1, -1]
    c = np.fft.rfft(u2) * TWO_PI / M
    others = np.delete(np.abs(c), [0, 2 * k])
    assert np.abs(c[2 * k]) > 1e-8 and others.max() < 1e-6 * np.abs(c[2 * k])


def test_bad_input():
    good = mt.manifold_density(64, 2, 0.1)
    with pytest.raises(ValueError, match="order"):
        mt.grenier_expansion(good, 5.0, [0, 1], order=0)
    with pytest.raises(TypeError, match="order"):
        mt.grenier_expansion(good, 5.0, [0, 1], order=1.5)
    with pytest.raises(ValueError, match="overflows"):
        mt.grenier_expansion(good, 800.0, [0, 1])
    with pytest.raises(ValueError, match="integrate to 1"):
        mt.grenier_expansion(2 * good, 5.0, [0, 1])
    with pytest.raises(ValueError, match="rtol"):
        mt.grenier_expansion(good, 5.0, [0, 1], rtol=0.0)
    with pytest.raises(ValueError, match="order"):
        mt.grenier_expansion(good, 5.0, [0, 0.1], order=2).partial_sum(3)


def test_errors_per_order_match_a_loop_over_times_and_points():
    M = 64
    θ = mt.pde_grid(M)
    rho0 = (1 + 2e-3 * (np.cos(2 * θ) + 0.4 * np.sin(3 * θ))) / TWO_PI
    t = np.array([0.0, 0.1, 0.15])
    exact = mt.solve_circle_pde(rho0, 5.0, t, method="spectral", rtol=1e-11).density
    expansion = mt.grenier_expansion(rho0, 5.0, t, order=3)
    errors = expansion.errors(exact)
    assert errors.shape == (3, t.size)
    for m in range(1, 4):
        for i in range(t.size):
            approx = 1 / TWO_PI + sum(expansion.terms[j, i] for j in range(m))
            ref = max(abs(exact[i, n] - approx[n]) for n in range(M))
            assert errors[m - 1, i] == pytest.approx(ref, rel=1e-12, abs=1e-18), (m, i)
    assert np.all(errors[1:, -1] < errors[:-1, -1])  # each order helps at t = 0.15
    np.testing.assert_array_equal(expansion.errors(expansion.partial_sum(2))[1], 0.0)
    with pytest.raises(ValueError, match="reference must have shape"):
        expansion.errors(exact[:, :-1])
    with pytest.raises(ValueError, match="reference must have 2"):
        expansion.errors(exact[0])
