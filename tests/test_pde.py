"""Tests for mtlib.pde: the circle PDE (spectral, Lagrangian, auto) and its linearisation."""

import numpy as np
import pytest

import mtlib as mt

TWO_PI = 2 * np.pi


def w1_densities(r1, r2):
    """W1 on the circle between two densities on the same grid, via CDFs (cell averages)."""
    dx = TWO_PI / r1.size
    D = np.cumsum(r1 - r2) * dx
    return float(np.sum(np.abs(D - np.median(D))) * dx)


def w1_points_density(theta, rho):
    """W1 between the empirical measure of angles and a density on the grid (cell edges)."""
    M = rho.size
    dx = TWO_PI / M
    edges = (np.arange(M) + 0.5) * dx
    F = np.searchsorted(np.sort(np.mod(theta, TWO_PI)), edges) / theta.size
    D = F - np.cumsum(rho) * dx
    return float(np.sum(np.abs(D - np.median(D))) * dx)


def modes(rho):
    """c_m = ∫ρ e^{-imθ} dθ for m = 0..M/2."""
    return np.fft.rfft(rho) * TWO_PI / rho.size


def asymmetric_density(M, amp=1.0):
    θ = mt.pde_grid(M)
    return (1 + amp * (0.2 * np.cos(θ) + 0.15 * np.sin(2 * θ) + 0.1 * np.cos(3 * θ - 1.0))) / TWO_PI


@pytest.mark.parametrize("model", ["usa", "sa"])
def test_fitted_growth_rates_equal_gamma(model):
    # amplitude and time: nonlinear coupling and rounding both below 1e-7 of the fitted rate
    M, beta = 256, 5.0
    δ, T = (1e-10, 0.2) if model == "usa" else (1e-8, 1.0)
    θ = mt.pde_grid(M)
    phases = np.random.default_rng(0).uniform(0, TWO_PI, 5)
    rho0 = (1 + δ * sum(np.cos(k * θ + phases[k - 1]) for k in range(1, 6))) / TWO_PI
    sol = mt.solve_circle_pde(rho0, beta, [0.0, T], model=model, method="spectral")
    c0, c1 = modes(sol.density[0])[1:6], modes(sol.density[1])[1:6]
    fitted = np.log(np.abs(c1 / c0)) / T
    np.testing.assert_allclose(fitted, mt.growth_rate(np.arange(1, 6), beta, 2, model), rtol=1e-6)
    # and no rotation of the modes: the linear operator is real
    np.testing.assert_allclose(np.angle(c1 / c0), 0, atol=1e-6)


def test_mass_conservation_and_positivity():
    rho0 = mt.white_noise_density(512, 0.01, rng=3)
    for method in ("spectral", "lagrangian", "auto"):
        t = [0.0, 0.1, 0.3] if method == "spectral" else [0.0, 0.3, 0.5]
        sol = mt.solve_circle_pde(rho0, 5.0, t, method=method)
        assert sol.mass_error < 1e-12
        assert np.all(np.isfinite(sol.density)) and sol.density.min() >= 0


def test_rotation_and_reflection_equivariance():
    M, s = 256, 37
    rho0 = asymmetric_density(M, amp=0.1)
    t = [0.0, 0.1, 0.18]
    base = mt.solve_circle_pde(rho0, 5.0, t, method="spectral").density
    shifted = mt.solve_circle_pde(np.roll(rho0, s), 5.0, t, method="spectral").density
    np.testing.assert_allclose(shifted, np.roll(base, s, axis=1), atol=1e-9)
    reflect = lambda r: np.roll(r[..., ::-1], 1, axis=-1)  # noqa: E731  θ_j -> θ_{-j}
    mirrored = mt.solve_circle_pde(reflect(rho0), 5.0, t, method="spectral").density
    np.testing.assert_allclose(mirrored, reflect(base), atol=1e-9)
    # the solution of an asymmetric start is not symmetric (a cross-correlation would force it)
    assert np.max(np.abs(base[-1] - reflect(base[-1]))) > 0.05
    lag = mt.solve_circle_pde(rho0, 5.0, t, method="lagrangian").density
    lag_shift = mt.solve_circle_pde(np.roll(rho0, s), 5.0, t, method="lagrangian").density
    assert w1_densities(lag_shift[-1], np.roll(lag[-1], s)) < 1e-5


def test_convolution_not_cross_correlation():
    """Spectral (Bessel modes) and Lagrangian (mtlib.simulate kernels) agree on an asymmetric start."""
    M = 512
    rho0 = asymmetric_density(M, amp=0.1)
    t = [0.0, 0.1, 0.2]
    spec = mt.solve_circle_pde(rho0, 5.0, t, method="spectral")
    lag = mt.solve_circle_pde(rho0, 5.0, t, method="lagrangian")
    dist = [w1_densities(a, b) for a, b in zip(spec.density, lag.density)]
    assert max(dist) < 1e-4, dist
    # the initial time derivative equals -∂_θ(ρ V) with V the true convolution, by quadrature
    θ = mt.pde_grid(M)
    V = np.array([np.sum(np.exp(5 * np.cos(θ - x)) * np.sin(θ - x) * rho0) * TWO_PI / M for x in θ])
    flux = np.fft.rfft(rho0 * V)
    expected = np.fft.irfft(-1j * np.arange(flux.size) * flux, M)
    h = 1e-6
    rate = (mt.solve_circle_pde(rho0, 5.0, [0.0, h], method="spectral", rtol=1e-12).density[1] - rho0) / h
    tol = 1e-4 * np.max(np.abs(expected))
    np.testing.assert_allclose(rate, expected, atol=tol)
    # the cross-correlation ∫K(θ'+θ)ρ(θ')dθ' (the authors' notebook) gives a visibly different rate
    wrong = np.array([np.sum(np.exp(5 * np.cos(θ + x)) * np.sin(θ + x) * rho0) * TWO_PI / M for x in θ])
    wrong_rate = np.fft.irfft(-1j * np.arange(flux.size) * np.fft.rfft(rho0 * wrong), M)
    assert np.max(np.abs(wrong_rate - rate)) > 100 * tol


def test_linear_phase_matches_linearized_solution():
    M, δ = 256, 1e-7
    rho0 = (1 + δ * TWO_PI * (asymmetric_density(M) - 1 / TWO_PI)) / TWO_PI
    t = np.array([0.0, 0.1, 0.2, 0.3])
    sol = mt.solve_circle_pde(rho0, 5.0, t, method="spectral")
    lin = mt.linearized_solution(rho0, 5.0, t)
    pert = np.max(np.abs(lin - 1 / TWO_PI), axis=1)
    err = np.max(np.abs(sol.density - lin), axis=1)
    assert np.all(err <= 1e-4 * pert + 1e-15), err / pert
    assert mt.linearized_solution(rho0, 5.0, 0.0).shape == (M,)


def test_white_noise_level_and_grid_independence():
    eps = 0.01 * TWO_PI / np.sqrt(9999)
    assert eps == pytest.approx(6.28e-4, rel=1e-3)
    a = mt.white_noise_density(512, 0.01, rng=7)
    b = mt.white_noise_density(2048, 0.01, rng=7)
    np.testing.assert_allclose(modes(a)[:100], modes(b)[:100], atol=1e-15)
    assert np.sum(a) * TWO_PI / 512 == pytest.approx(1.0, abs=1e-14)
    power = np.mean(np.abs(modes(mt.white_noise_density(4096, 0.01, rng=8))[1:2000]) ** 2)
    assert power == pytest.approx(eps**2, rel=0.1)
    with pytest.raises(ValueError, match="negative"):
        mt.white_noise_density(4096, 50.0, rng=0)


def test_auto_hands_over_and_agrees_with_lagrangian():
    rho0 = mt.white_noise_density(512, 0.01, rng=11)
    t = np.linspace(0.0, 0.5, 11)
    with pytest.raises(mt.UnderResolvedError) as info:
        mt.solve_circle_pde(rho0, 5.0, t, method="spectral")
    t_fail = info.value.time
    assert 0.3 < t_fail < 0.5
    partial = info.value.partial
    assert np.all(partial.t <= t_fail) and partial.density.min() >= 0
    auto = mt.solve_circle_pde(rho0, 5.0, t, method="auto")
    assert auto.handover_time == pytest.approx(t_fail)
    assert list(auto.method) == ["spectral"] * partial.t.size + ["lagrangian"] * (t.size - partial.t.size)
    assert auto.points.shape == (t.size - partial.t.size, 512)
    lag = mt.solve_circle_pde(rho0, 5.0, t, method="lagrangian")
    assert lag.handover_time == 0.0 and lag.weights.sum() == pytest.approx(1.0)
    dist = np.array([w1_densities(a, b) for a, b in zip(auto.density, lag.density)])
    assert np.all(dist[auto.method == "spectral"] < 1e-4), dist  # both valid: the same solution
    assert np.all(dist < 1e-3), dist  # Lagrangian from t = 0 and from the hand-over
    # by t = 0.5 the k_max = 3 clusters hold most of the mass
    c = modes(auto.density[-1])
    assert np.argmax(np.abs(c[1:6])) + 1 == 3 and abs(c[3]) > 0.5


def test_beta7_stable_to_the_end():
    rho0 = mt.white_noise_density(512, 0.01, rng=5)
    sol = mt.solve_circle_pde(rho0, 7.0, np.linspace(0, 0.08, 5))
    assert np.all(np.isfinite(sol.density)) and sol.density.min() >= 0
    assert sol.mass_error < 1e-12


@pytest.mark.parametrize("k", [2, 3])
def test_periodic_start_stays_periodic_and_ends_in_k_diracs(k):
    M = 240
    rho0 = mt.manifold_density(M, k, 0.01, phase=0.3)
    spec = mt.solve_circle_pde(rho0, 5.0, [0.0, 0.15], method="spectral")
    c = modes(spec.density[-1])
    off = np.array([m for m in range(1, 60) if m % k])
    assert np.max(np.abs(c[off])) < 1e-13
    np.testing.assert_allclose(spec.density, np.roll(spec.density, M // k, axis=1), atol=1e-12)
    lag = mt.solve_circle_pde(rho0, 5.0, [0.0, 1.0, 6.0], method="lagrangian")
    np.testing.assert_allclose(lag.density[1], np.roll(lag.density[1], M // k), atol=1e-6 * lag.density[1].max())
    pts = np.sort(lag.points[-1])
    gaps = np.diff(np.append(pts, pts[0] + TWO_PI))
    big = np.sort(np.argsort(gaps)[-k:])
    assert np.all(np.sort(gaps)[:-k] < 1e-5)  # within a cluster (to the stepper's tolerance)
    np.testing.assert_allclose(gaps[big], TWO_PI / k, atol=1e-5)  # equally spaced
    sizes = np.diff(np.append(big, big[0] + M)) * lag.weights[0]
    np.testing.assert_allclose(sizes, 1 / k, atol=1e-12)  # equal masses


def test_agrees_with_particle_system():
    M, N, beta = 512, 100_000, 5.0
    rho0 = asymmetric_density(M, amp=0.5)
    rng = np.random.default_rng(2024)
    dx = TWO_PI / M
    # stratified random tokens (one uniform draw per quantile bin): sampling noise ~N^{-3/2}, which
    # the instability amplifies by e^{γ_3 t} without reaching the size of the PDE's own motion
    cdf = np.concatenate([[0.0], np.cumsum(rho0) * dx])
    theta0 = np.interp((np.arange(N) + rng.uniform(0, 1, N)) / N, cdf, np.arange(M + 1) * dx - dx / 2)
    t = np.array([0.0, 0.06, 0.12])
    particles = mt.simulate(theta0, beta, t, method="dopri", rtol=1e-7)
    pde = mt.solve_circle_pde(rho0, beta, t, method="spectral")
    dist = [w1_points_density(x, r) for x, r in zip(particles.states, pde.density)]
    assert max(dist) < 2e-4, dist
    # the solution has moved far more than that
    assert w1_densities(pde.density[-1], pde.density[0]) > 10 * max(dist)


def test_bad_input():
    good = mt.manifold_density(64, 2, 0.1)
    with pytest.raises(ValueError, match="non-negative"):
        mt.solve_circle_pde(good - 0.2, 5.0, [0, 1])
    with pytest.raises(ValueError, match="integrate to 1"):
        mt.solve_circle_pde(2 * good, 5.0, [0, 1])
    with pytest.raises(ValueError, match="strictly increasing"):
        mt.solve_circle_pde(good, 5.0, [0.5, 0.1])
    with pytest.raises(ValueError, match=">= 0"):
        mt.solve_circle_pde(good, 5.0, [-1.0, 0.1])
    with pytest.raises(ValueError, match="beta must be finite"):
        mt.solve_circle_pde(good, np.nan, [0, 1])
    with pytest.raises(ValueError, match="method"):
        mt.solve_circle_pde(good, 5.0, [0, 1], method="upwind")
    with pytest.raises(ValueError, match="finite"):
        mt.solve_circle_pde(np.full(64, np.inf), 5.0, [0, 1])
    with pytest.raises(ValueError, match="alpha"):
        mt.manifold_density(64, 3, 1.5)
    with pytest.raises(ValueError, match="k must be >= 1"):
        mt.manifold_density(64, 0, 0.1)
    with pytest.raises(ValueError, match="sigma"):
        mt.white_noise_density(64, -0.1)
    with pytest.raises(ValueError, match="overflows"):
        mt.solve_circle_pde(good, 800.0, [0, 1])


def test_result_fields():
    """The run statistics add up over both solvers and read like the other result objects."""
    rho0 = mt.white_noise_density(256, 0.01, rng=1)
    t = [0.0, 0.2, 0.6]
    auto = mt.solve_circle_pde(rho0, 5.0, t)
    assert auto.handover_time is not None and auto.spectral_steps > 0 and auto.lagrangian_steps > 0
    assert auto.n_steps == auto.spectral_steps + auto.lagrangian_steps
    assert auto.nfev > 6 * auto.n_steps and auto.n_rejected >= 0 and auto.wall_time > 0
    assert "spectral" in auto.message and "Lagrangian" in auto.message and auto.unresolved_reason in auto.message
    assert auto.tail_ratio <= 1.0 and auto.min_density >= 0
    lag = mt.solve_circle_pde(rho0, 5.0, t, method="lagrangian", n_points=64)
    assert lag.spectral_steps == 0 and lag.n_steps == lag.lagrangian_steps and lag.unresolved_reason is None
    assert lag.points.shape == (3, 64) and "64 points" in lag.message
    # the Lagrangian points at t = 0 are the quantile tokens of the datum
    np.testing.assert_allclose(lag.points[0], mt.quantile_tokens(rho0, 64), rtol=0, atol=1e-14)
    spec = mt.solve_circle_pde(rho0, 5.0, [0.0, 0.1], method="spectral")
    assert spec.unresolved_reason is None and spec.lagrangian_steps == 0 and spec.handover_time is None
    assert spec.nfev == 1 + 6 * (spec.n_steps + spec.n_rejected)
    with pytest.raises(mt.UnderResolvedError) as info:
        mt.solve_circle_pde(rho0, 5.0, t, method="spectral")
    assert info.value.partial.unresolved_reason is not None and info.value.partial.t.size == 2


def test_auto_hand_over_records_why_the_grid_stopped_resolving():
    rho0 = mt.white_noise_density(512, 0.01, rng=0)
    sol = mt.solve_circle_pde(rho0, 5.0, [0.0, 0.3, 0.5])
    assert sol.handover_time is not None and 0.3 < sol.handover_time < 0.5
    reason = sol.unresolved_reason
    assert reason.startswith(("negative density", "spectral tail"))
    with pytest.raises(mt.UnderResolvedError, match=reason.split(" ")[0]):
        mt.solve_circle_pde(rho0, 5.0, [0.0, 0.5], method="spectral")


def test_solution_fourier_coefficients_match_direct_sums():
    rho0 = mt.white_noise_density(256, 0.01, rng=3)
    sol = mt.solve_circle_pde(rho0, 5.0, np.linspace(0.0, 0.6, 7))
    assert set(sol.method) == {"spectral", "lagrangian"}
    k = np.array([0, 1, 3, -2, 40])
    c = sol.fourier_coefficients(k)
    assert c.shape == (7, 5) and c.dtype == np.complex128
    lagrangian = iter(sol.points)
    for i, method in enumerate(sol.method):
        if method == "spectral":  # the trapezoid rule, summed directly
            ref = np.exp(-1j * np.outer(k, sol.theta)) @ sol.density[i] * TWO_PI / 256
        else:  # the weighted Lagrangian points, not their binned density
            ref = np.exp(-1j * np.outer(k, next(lagrangian))) @ sol.weights
        np.testing.assert_allclose(c[i], ref, rtol=1e-11, atol=1e-13, err_msg=method)
    np.testing.assert_allclose(c[:, 0], 1.0, atol=1e-12)
    np.testing.assert_allclose(sol.fourier_coefficients(-3), np.conj(c[:, 2]), atol=1e-15)
    assert sol.fourier_coefficients(3).shape == (7,)
    # rotating the datum by s cells multiplies c_k by e^{-2πiks/M} (spectral snapshots)
    spec = mt.solve_circle_pde(rho0, 5.0, [0.0, 0.2], method="spectral")
    turned = mt.solve_circle_pde(np.roll(rho0, 9), 5.0, [0.0, 0.2], method="spectral")
    phase = np.exp(-2j * np.pi * k * 9 / 256)
    np.testing.assert_allclose(turned.fourier_coefficients(k), spec.fourier_coefficients(k) * phase,
                               atol=1e-12)
    lag = mt.solve_circle_pde(rho0, 5.0, [0.0, 0.1], method="lagrangian")
    np.testing.assert_allclose(lag.fourier_coefficients(k)[0], np.exp(-1j * np.outer(k, lag.points[0])) @ lag.weights,
                               atol=1e-13)
    with pytest.raises(ValueError, match="M // 2"):
        spec.fourier_coefficients(200)
