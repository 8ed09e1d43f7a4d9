"""Tests for mtlib.stability: the Dobrushin constant against its closed forms and against
the Lipschitz bounds it claims, measured on random fields and measures."""

import numpy as np
import pytest

import mtlib as mt
from mtlib import stability


def sphere_sample(n, d, rng, spread=1.0):
    X = rng.standard_normal((n, d)) * spread
    X[:, 0] += 1.0
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def usa_field(x, Y, beta):
    s = Y @ x
    v = (np.exp(beta * s)[:, None] * Y).mean(axis=0)
    return v - (v @ x) * x


def sa_field(x, Y, beta):
    s = Y @ x
    e = np.exp(beta * (s - s.max()))
    v = (e[:, None] * Y).sum(axis=0) / e.sum()
    return v - (v @ x) * x


def test_dobrushin_values():
    assert mt.dobrushin_constant(0.0) == pytest.approx(3.0)
    assert mt.dobrushin_constant(0.0, model="sa") == pytest.approx(3.0)
    assert mt.dobrushin_constant(5.0) == pytest.approx(13 * np.exp(5))
    assert mt.dobrushin_constant(-2.0, d=3) == mt.dobrushin_constant(2.0, d=7)
    betas = np.linspace(0, 10, 11)
    assert np.all(np.diff([mt.dobrushin_constant(b) for b in betas]) > 0)


@pytest.mark.parametrize("model", ["usa", "sa"])
@pytest.mark.parametrize("beta", [-1.0, 0.5, 3.0])
def test_dobrushin_bounds_hold_on_samples(model, beta):
    rng = np.random.default_rng(50)
    field = usa_field if model == "usa" else sa_field
    L = mt.dobrushin_constant(beta, 3, model)
    for _ in range(20):
        Y = sphere_sample(8, 3, rng, 2.0)
        Y2 = sphere_sample(8, 3, rng, 2.0)
        x = sphere_sample(1, 3, rng, 2.0)[0]
        x2 = x + 0.05 * rng.standard_normal(3)
        x2 /= np.linalg.norm(x2)
        # Lipschitz in x, and in the measure for W1 with the chordal cost
        assert np.linalg.norm(field(x, Y, beta) - field(x2, Y, beta)) <= L * np.linalg.norm(x - x2)
        w1 = mt.wasserstein_sphere(Y, Y2, 1, cost="chordal")
        assert np.linalg.norm(field(x, Y, beta) - field(x, Y2, beta)) <= L * w1 + 1e-12


def test_dobrushin_default_model_is_usa():
    assert mt.dobrushin_constant is stability.dobrushin_constant
    assert mt.dobrushin_constant(2.0) == mt.dobrushin_constant(2.0, model="usa")
    assert mt.dobrushin_constant(2.0) != mt.dobrushin_constant(2.0, model="sa")
    assert mt.dobrushin_constant(2.0, model="sa") == pytest.approx(6.0 + np.exp(4.0) * 5.0, rel=1e-15)


def test_dobrushin_bad_input():
    with pytest.raises(TypeError, match="beta"):
        mt.dobrushin_constant("5")
    with pytest.raises(ValueError, match="model"):
        mt.dobrushin_constant(1.0, model="ssa")
    with pytest.raises(ValueError, match="d must be >= 2"):
        mt.dobrushin_constant(1.0, d=1)
    with pytest.raises(ValueError, match="overflows"):
        mt.dobrushin_constant(800.0)
    assert np.isfinite(mt.dobrushin_constant(-700.0))


# ----------------------------------------------------------------------------- max_speed


def direct_speed(x, w, beta, model):
    """max_i |Σ_j w_j K(x_j - x_i)| by the double sum (SA: divided by Σ_j w_j e^{β cos})."""
    diff = x[None, :] - x[:, None]
    v = (np.exp(beta * np.cos(diff)) * np.sin(diff)) @ w
    if model == "sa":
        v = v / (np.exp(beta * np.cos(diff)) @ w)
    return np.abs(v).max()


@pytest.fixture(scope="module")
def noise_run():
    """A white-noise run that hands over to the Lagrangian solver (both kinds of snapshot)."""
    rho0 = mt.white_noise_density(256, 0.01, rng=1)
    return rho0, mt.solve_circle_pde(rho0, 5.0, np.linspace(0.0, 0.6, 7))


def test_max_speed_matches_direct_sums(noise_run):
    _, run = noise_run
    assert set(run.method) == {"spectral", "lagrangian"}
    speed = mt.max_speed(run)
    assert speed.shape == run.t.shape and np.all(speed >= 0)
    M = run.theta.size
    lagrangian = iter(run.points)
    for i, method in enumerate(run.method):
        if method == "spectral":
            w = run.density[i] * 2 * np.pi / M
            ref = direct_speed(2 * np.pi * np.arange(M) / M, w / w.sum(), 5.0, "usa")
        else:
            ref = direct_speed(next(lagrangian), run.weights, 5.0, "usa")
        assert speed[i] == pytest.approx(ref, rel=1e-10, abs=1e-13), (i, method)
    assert speed[0] < 1.0 < speed[-1]  # the noise is slow, the clusters fast


def test_max_speed_sa_and_uniform():
    rho0 = (1.0 + 0.2 * np.cos(3 * mt.pde_grid(64))) / (2 * np.pi)
    run = mt.solve_circle_pde(rho0, 2.0, [0.0, 0.1], method="spectral", model="sa")
    w = run.density[-1] * 2 * np.pi / 64
    ref = direct_speed(mt.pde_grid(64), w / w.sum(), 2.0, "sa")
    assert mt.max_speed(run)[-1] == pytest.approx(ref, rel=1e-10)
    uniform = mt.solve_circle_pde(np.full(64, 1 / (2 * np.pi)), 2.0, [0.0, 0.1])
    assert np.all(mt.max_speed(uniform) < 1e-12)  # V[uniform] = 0 (K is odd)


def test_max_speed_rotation_invariant(noise_run):
    rho0, _ = noise_run
    t = [0.0, 0.2, 0.3]
    a = mt.solve_circle_pde(rho0, 5.0, t, method="spectral")
    b = mt.solve_circle_pde(np.roll(rho0, 37), 5.0, t, method="spectral")
    np.testing.assert_allclose(mt.max_speed(b), mt.max_speed(a), rtol=1e-9)


def test_max_speed_bad_input():
    with pytest.raises(TypeError, match="solution must be a CirclePDESolution"):
        mt.max_speed(np.ones((3, 8)))


def direct_energy_and_dissipation(x, w, beta):
    """E = (1/2β) Σ w_i w_j e^{β cos(θ_i-θ_j)} and Σ_i w_i V_i² by double sums."""
    diff = x[None, :] - x[:, None]
    E = w @ np.exp(beta * np.cos(diff)) @ w / (2 * beta)
    V = (np.exp(beta * np.cos(diff)) * np.sin(diff)) @ w
    return E, np.sum(w * V**2)


def test_energy_and_dissipation_match_double_sums(noise_run):
    _, run = noise_run
    energy, dissipation = mt.energy_and_dissipation(run)
    assert energy.shape == dissipation.shape == run.t.shape
    M = run.theta.size
    lagrangian = iter(run.points)
    for i, method in enumerate(run.method):
        if method == "spectral":
            w = run.density[i] * 2 * np.pi / M
            ref = direct_energy_and_dissipation(2 * np.pi * np.arange(M) / M, w / w.sum(), 5.0)
        else:
            ref = direct_energy_and_dissipation(next(lagrangian), run.weights, 5.0)
        np.testing.assert_allclose([energy[i], dissipation[i]], ref, rtol=1e-10, err_msg=method)
    assert np.all(np.diff(energy) > 0)  # USA increases its energy


def test_energy_rate_is_the_dissipation_and_rotation_invariant():
    grid = mt.pde_grid(1024)
    rho0 = (1 + 0.1 * np.cos(grid - 0.4)) / (2 * np.pi)
    t = np.linspace(0.0, 0.3, 301)
    sol = mt.solve_circle_pde(rho0, 5.0, t, method="spectral", rtol=1e-10, atol=1e-14)
    energy, dissipation = mt.energy_and_dissipation(sol)
    dE = np.gradient(energy, t, edge_order=2)
    assert np.max(np.abs(dE - dissipation)[2:-2] / dissipation[2:-2]) < 1e-3
    turned = mt.solve_circle_pde(np.roll(rho0, 160), 5.0, t, method="spectral", rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(mt.energy_and_dissipation(turned), (energy, dissipation), rtol=1e-8)
    sa = mt.solve_circle_pde(rho0, 5.0, [0.0, 0.1], model="sa")
    with pytest.raises(ValueError, match="model='usa'"):
        mt.energy_and_dissipation(sa)
    with pytest.raises(TypeError, match="solution must be a CirclePDESolution"):
        mt.energy_and_dissipation(sol.density)


def test_resolution_monitors_match_direct_sums_and_the_solver(noise_run):
    _, run = noise_run
    mon = mt.resolution_monitors(run)
    spectral = run.method == "spectral"
    np.testing.assert_array_equal(mon.t, run.t[spectral])
    M = run.theta.size
    band = np.arange(M // 6 + 1, M // 3 + 1)  # kc/2 < m <= kc, kc = M // 3 = 85
    for j, i in enumerate(np.flatnonzero(spectral)):
        rho = run.density[i]
        c = np.exp(-1j * np.outer(band, run.theta)) @ rho * 2 * np.pi / M
        assert mon.tail[j] == pytest.approx(np.sqrt(np.sum(np.abs(c) ** 2)), rel=1e-10)
        assert mon.min_density[j] == min(rho)
    # the solver kept the grid while both monitors stayed inside their limits
    assert np.all(mon.min_density >= -1e-8) and np.all(mon.tail <= 10 * mon.tail[0])
    lagrangian = mt.solve_circle_pde(run.density[0], 5.0, [0.0, 0.1], method="lagrangian")
    assert mt.resolution_monitors(lagrangian).t.size == 0
    with pytest.raises(TypeError, match="solution must be a CirclePDESolution"):
        mt.resolution_monitors(None)
