"""Tests for mtlib.linear: leading mode, exit times, linear solution, mode-competition odds.

Each function is checked against the chapter code it replaces (copied here as the
reference, so that the chapters' printed numbers stay the same) and against an
independent route: exact mode growth e^{γ_k t} through the PDE's linear solver, brute-force
scans, quadrature of the closed forms, Monte Carlo with binomial tolerances.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import integrate, optimize

import mtlib as mt

TWO_PI = 2 * np.pi
K_MODES = 10
K_ALL = np.arange(1, K_MODES + 1)


# ----------------------------------------------------------------------------- chapter code (the references)


def fourier_modes_ch3(theta, K):
    z = np.exp(-1j * np.asarray(theta))
    out = np.empty(z.shape[:-1] + (K,), dtype=complex)
    power = np.ones_like(z)
    for k in range(K):
        power = power * z
        out[..., k] = power.mean(axis=-1)
    return out


def linear_winner_ch3(theta0, beta, t):
    c0 = np.abs(fourier_modes_ch3(theta0, K_MODES))
    return int(np.argmax(np.log(c0) + mt.growth_rate(K_ALL, beta) * t)) + 1


def linear_winner_ch4(c0, b, t):
    m = np.arange(1, c0.shape[-1] + 1)
    return m[np.argmax(np.abs(c0) * np.exp(mt.growth_rate(m, b) * t), axis=-1)]


def linear_maxima_ch3(theta0, beta, t, n_peaks, grid_size=1024):
    c0 = fourier_modes_ch3(theta0, K_MODES)
    grid = mt.pde_grid(grid_size)
    rho0 = (1 + 2 * np.real(np.exp(1j * np.outer(grid, K_ALL)) @ c0)) / TWO_PI
    rho = mt.linearized_solution(rho0, beta, t)
    peak = np.flatnonzero((rho > np.roll(rho, 1)) & (rho >= np.roll(rho, -1)))
    best = peak[np.argsort(rho[peak])[::-1][:n_peaks]]
    return np.sort(grid[best]), grid, rho


def p_kmax_theory_ch3(beta, N, K=K_MODES):
    g = mt.growth_rate(np.arange(1, K + 1), beta)
    r = np.delete(1 - g / g.max(), np.argmax(g))
    return integrate.quad(lambda x: np.exp(-x) * np.prod(-np.expm1(-x * N**r)), 0, np.inf, limit=200)[0]


def t_linear_ch5(theta, beta, delta=0.5):
    sizes0 = np.abs(mt.fourier_coefficients(theta, np.arange(1, 7)))
    return np.min(np.log(delta / sizes0) / mt.growth_rate(np.arange(1, sizes0.size + 1), beta))


def mean_linear_exit_ch5(N, gamma, xi, delta=0.5):
    return np.mean(np.min((np.log(delta) + 0.5 * np.log(N) - np.log(xi)) / gamma, axis=1))


def linear_theory_frequency_appendix(beta, n, k, threshold=0.1, modes=8, samples=40000, seed=0):
    gamma = mt.growth_rate(np.arange(1, modes + 1), beta)
    amplitude = np.sqrt(np.random.default_rng(seed).exponential(1.0 / n, (samples, modes)))
    tau = np.maximum(0.0, np.min(np.log(threshold / amplitude) / gamma, axis=1))
    winner = 1 + np.argmax(np.log(amplitude) + gamma * tau[:, None], axis=1)
    return np.mean(winner == k)


def linear_prediction_ch6(components, b, t):
    return np.exp(mt.growth_rate(np.arange(1, components.shape[0] + 1), b, 3) * t) @ components


def exit_time_loop_ch5(theta, beta, delta=0.5, dt=0.05, t_max=5.0, modes=6):
    """Chapter 5's exit time: one RK4 step at a time, log-linear interpolation of max |ĉ_m|."""
    k = np.arange(1, modes + 1)
    t, size = 0.0, np.abs(mt.fourier_coefficients(theta, k)).max()
    while t < t_max:
        theta = mt.simulate(theta, beta, [dt], dt=dt).states[-1]
        new = np.abs(mt.fourier_coefficients(theta, k)).max()
        if new >= delta:
            return t + dt * np.log(delta / size) / np.log(new / size)
        t, size = t + dt, new
    return np.nan


def t_max_of(beta, N):
    return math.log(N) / (2 * mt.growth_rate(mt.kmax(beta), beta))


# ----------------------------------------------------------------------------- linear_phase_time


@pytest.mark.parametrize("beta, d", [(5.0, 2), (7.0, 2), (0.0, 2), (-3.0, 2), (3.0, 3), (10.0, 5)])
def test_linear_phase_time_against_quadrature_rates(beta, d):
    # γ_max by brute force over the quadrature rates (independent of the Bessel closed form)
    g_max = max(mt.growth_rate_quadrature(k, beta, d) for k in range(1, 30))
    for N in (1.0, 1e3, 2e4, 1e9):
        assert mt.linear_phase_time(beta, N, d) == pytest.approx(math.log(N) / (2 * g_max), rel=1e-10, abs=1e-15)
    assert mt.linear_phase_time(beta, 1e8, d) == pytest.approx(2 * mt.linear_phase_time(beta, 1e4, d), rel=1e-14)
    assert mt.linear_phase_time(beta, 2e4, d, model="sa") > 0


def test_linear_phase_time_grows_the_fastest_mode_from_its_clt_size_to_one():
    # the paper's Figure 2 setting, through the linearised PDE: |c_kmax(0)| = N^{-1/2} -> |c_kmax(T_N)| = 1
    beta, N, M = 5.0, 2e4, 256
    T = mt.linear_phase_time(beta, N)
    assert T == t_max_of(beta, N)  # the chapters' formula, bit for bit
    assert abs(T - 0.27) < 0.005  # Bruno, Pasqualotto, Agazzi (2025), Figure 2
    k = np.arange(1, 9)
    c0 = np.full(k.size, 1 / np.sqrt(N), dtype=complex)
    ct = mt.density_fourier_coefficients(mt.linearized_solution(mt.density_from_fourier_coefficients(c0, k, M), beta, T), k)
    assert np.abs(ct).max() == pytest.approx(1.0, rel=1e-9)
    assert int(np.argmax(np.abs(ct))) + 1 == mt.kmax(beta)


def test_linear_phase_time_bad_input():
    with pytest.raises(ValueError, match="N must be >= 1"):
        mt.linear_phase_time(5.0, 0.5)
    with pytest.raises(TypeError, match="beta"):
        mt.linear_phase_time("5", 1e3)
    with pytest.raises(ValueError, match="overflows"):
        mt.linear_phase_time(800.0, 1e3)
    with pytest.raises(ValueError, match="model"):
        mt.linear_phase_time(5.0, 1e3, model="softmax")
    with pytest.raises(ValueError, match="d must be"):
        mt.linear_phase_time(5.0, 1e3, d=1)


# ----------------------------------------------------------------------------- leading_mode


@pytest.mark.parametrize("beta", [5.0, 7.0])
def test_leading_mode_reproduces_chapters_3_and_4(beta):
    for seed in range(12):
        theta0 = mt.uniform_circle(20_000, rng=seed)
        T = t_max_of(beta, 20_000)
        c0 = mt.fourier_coefficients(theta0, K_ALL)
        assert mt.leading_mode(c0, beta, T) == linear_winner_ch3(theta0, beta, T)
        assert isinstance(mt.leading_mode(c0, beta, T), int)
    rng = np.random.default_rng(11)
    eps = 0.01 * TWO_PI / np.sqrt(9999)
    draws = eps * (rng.standard_normal((20_000, 12)) + 1j * rng.standard_normal((20_000, 12))) / np.sqrt(2)
    t_star = np.log(1.0 / eps) / mt.growth_rate(mt.kmax(beta), beta)
    np.testing.assert_array_equal(mt.leading_mode(draws, beta, t_star), linear_winner_ch4(draws, beta, t_star))


def test_leading_mode_is_the_largest_mode_of_the_exact_linear_solution():
    # the PDE's linear solver grows each Fourier mode by e^{γ_k t} (FFT route, no argmax formula)
    rng = np.random.default_rng(0)
    M, k = 256, np.arange(1, 9)
    for _ in range(20):
        c0 = 1e-3 * (rng.standard_normal(k.size) + 1j * rng.standard_normal(k.size))
        rho0 = mt.density_from_fourier_coefficients(c0, k, M)
        for beta, t in ((5.0, 0.0), (5.0, 0.05), (5.0, 0.3), (7.0, 0.02), (2.0, 1.0), (-3.0, 0.4)):
            ct = mt.density_fourier_coefficients(mt.linearized_solution(rho0, beta, t), k)
            assert mt.leading_mode(c0, beta, t) == int(np.argmax(np.abs(ct))) + 1


def test_leading_mode_invariances_and_limits():
    rng = np.random.default_rng(1)
    c0 = rng.standard_normal((50, 10)) + 1j * rng.standard_normal((50, 10))
    t = rng.uniform(0, 0.5, 50)
    base = mt.leading_mode(c0, 5.0, t)
    assert base.shape == (50,)
    np.testing.assert_array_equal(base, [mt.leading_mode(c0[i], 5.0, t[i]) for i in range(50)])
    # a rotation multiplies ĉ_k by a phase; a common scale and the modulus change nothing
    np.testing.assert_array_equal(mt.leading_mode(c0 * np.exp(-1j * K_ALL * 0.7), 5.0, t), base)
    np.testing.assert_array_equal(mt.leading_mode(3.5 * np.abs(c0), 5.0, t), base)
    np.testing.assert_array_equal(mt.leading_mode(c0, 5.0, 0.0), np.argmax(np.abs(c0), axis=1) + 1)
    assert np.all(mt.leading_mode(c0, 5.0, 50.0) == mt.kmax(5.0))  # never overflows: compared in logs
    assert mt.leading_mode(c0[0], 7.0, 1e4) == mt.kmax(7.0)
    # on S^2 (d = 3) the rates of degree k in dimension 3
    assert mt.leading_mode(np.ones(8), 10.0, 1.0, d=3) == mt.kmax(10.0, 3)


@settings(max_examples=60, deadline=None)
@given(
    log_c=hnp.arrays(np.float64, (5, 7), elements=st.floats(-12.0, 0.0)),
    beta=st.floats(0.5, 7.0),
    t=st.floats(0.0, 2.0),
    s=st.floats(0.0, 0.2),  # γ_max s <= 24: the grown modes stay finite
)
def test_leading_mode_and_exit_time_properties(log_c, beta, t, s):
    c0 = np.exp(log_c)
    gamma = mt.growth_rate(np.arange(1, 8), beta)
    # the leading mode at t + s from c0 is the leading mode at t from the modes grown for s
    np.testing.assert_array_equal(mt.leading_mode(c0, beta, t + s), mt.leading_mode(c0 * np.exp(gamma * s), beta, t))
    # its grown mode is the largest one (ties aside)
    winners = mt.leading_mode(c0, beta, t)
    grown = np.log(c0) + gamma * t
    assert np.all(grown[np.arange(5), winners - 1] >= grown.max(axis=1) - 1e-12)
    # time shift of the linear exit time, and the exit mode leads at the exit
    T = mt.linear_exit_time(c0, beta, 2.0)
    T_later = mt.linear_exit_time(c0 * np.exp(gamma * s), beta, 2.0)
    np.testing.assert_allclose(T_later, np.maximum(T - s, 0.0), atol=1e-9)
    assert np.all(T > 0)


def test_leading_mode_bad_input():
    with pytest.raises(ValueError, match="t must be >= 0"):
        mt.leading_mode(np.ones(4), 5.0, -0.1)
    with pytest.raises(ValueError, match="t must be a scalar or have the shape"):
        mt.leading_mode(np.ones((3, 4)), 5.0, np.ones(4))
    with pytest.raises(TypeError, match="c0 must be a numeric"):
        mt.leading_mode(np.array(["a", "b"]), 5.0, 0.1)
    with pytest.raises(ValueError, match="c0 must contain only finite"):
        mt.leading_mode(np.array([1.0, np.nan]), 5.0, 0.1)
    with pytest.raises(ValueError, match="c0 must hold the modes"):
        mt.leading_mode(np.float64(1.0), 5.0, 0.1)
    with pytest.raises(ValueError, match="d must be >= 2"):
        mt.leading_mode(np.ones(3), 5.0, 0.1, d=1)


# ----------------------------------------------------------------------------- linear_exit_time


def test_linear_exit_time_reproduces_chapter_5_and_a_brute_force_scan():
    for seed in range(10):
        theta = mt.uniform_circle(1000, rng=seed)
        c0 = mt.fourier_coefficients(theta, np.arange(1, 7))
        T = mt.linear_exit_time(c0, 5.0, 0.5)
        assert T == t_linear_ch5(theta, 5.0)
        # brute force: bisection on max_k |c_k| e^{γ_k t} - δ, which increases in t
        gamma = mt.growth_rate(np.arange(1, 7), 5.0)
        T_bisect = optimize.brentq(lambda t: np.max(np.abs(c0) * np.exp(gamma * t)) - 0.5, 0.0, 5.0, xtol=1e-14)
        assert T == pytest.approx(T_bisect, abs=1e-12)


def test_linear_exit_time_shift_batch_and_edge_cases():
    rng = np.random.default_rng(3)
    c0 = 1e-3 * np.abs(rng.standard_normal((40, 6)))
    gamma = mt.growth_rate(np.arange(1, 7), 5.0)
    T = mt.linear_exit_time(c0, 5.0, 0.1)
    assert T.shape == (40,)
    # time shift: starting from the modes grown for a time s, the exit comes s earlier
    s = 0.05
    np.testing.assert_allclose(mt.linear_exit_time(c0 * np.exp(gamma * s), 5.0, 0.1), T - s, atol=1e-12)
    # the mode that exits is the leading mode at the exit time
    winners = mt.leading_mode(c0, 5.0, T)
    np.testing.assert_allclose(np.abs(c0[np.arange(40), winners - 1]) * np.exp(gamma[winners - 1] * T), 0.1, rtol=1e-12)
    assert mt.linear_exit_time([0.2, 0.6], 5.0, 0.5) == 0.0  # a mode starts above δ
    assert mt.linear_exit_time([0.0, 0.0], 5.0, 0.5) == np.inf  # nothing to grow
    # β < 0: even modes decay, only odd ones can exit
    assert mt.linear_exit_time([1e-3, 0.4], -3.0, 0.5) == pytest.approx(math.log(500) / mt.growth_rate(1, -3.0))
    with pytest.raises(ValueError, match="threshold must be > 0"):
        mt.linear_exit_time([0.1], 5.0, 0.0)


# ----------------------------------------------------------------------------- linear solution and its maxima


@pytest.mark.parametrize("beta", [5.0, 7.0])
def test_linear_density_and_positions_reproduce_chapter_3(beta):
    for seed in range(6):
        theta0 = mt.uniform_circle(20_000, rng=seed)
        T = t_max_of(beta, 20_000)
        positions, _, rho = linear_maxima_ch3(theta0, beta, T, mt.kmax(beta))
        np.testing.assert_array_equal(mt.linear_cluster_positions(theta0, beta, T, mt.kmax(beta)), positions)
        np.testing.assert_allclose(mt.linear_density(theta0, beta, T), rho, rtol=0, atol=1e-13)


def test_linear_density_grows_each_mode_exactly_and_rotates_with_the_tokens():
    theta0 = mt.uniform_circle(5000, rng=4)
    beta, t, M = 5.0, np.array([0.0, 0.1, 0.25]), 512
    rho = mt.linear_density(theta0, beta, t, n_modes=7, M=M)
    assert rho.shape == (3, M)
    k = np.arange(1, 12)
    c0 = mt.fourier_coefficients(theta0, k)
    expected = np.where(k <= 7, c0, 0)[None, :] * np.exp(np.outer(t, mt.growth_rate(k, beta)))
    np.testing.assert_allclose(mt.density_fourier_coefficients(rho, k), expected, rtol=1e-12, atol=1e-15)
    # rotating the tokens by j grid cells rotates the maxima by the same angle
    shift = 37 * TWO_PI / M
    base = mt.linear_cluster_positions(theta0, beta, 0.25, 3, n_modes=7, M=M)
    moved = mt.linear_cluster_positions(theta0 + shift, beta, 0.25, 3, n_modes=7, M=M)
    np.testing.assert_allclose(np.sort(np.mod(base + shift, TWO_PI)), moved, atol=1e-9)
    # once k_max dominates, the full linear solution peaks at the pure-mode prediction
    late = mt.linear_cluster_positions(theta0, beta, 5.0, 3, M=4096)  # other modes e^{-(γ_3-γ_4)5} ~ 1e-5 behind
    predicted = mt.predicted_cluster_positions(theta0, 3)
    assert np.max(np.abs(np.angle(np.exp(1j * (late - predicted))))) < 2 * TWO_PI / 4096


def test_linear_perturbation_reproduces_chapter_6_and_matches_the_circle_density():
    X0 = mt.uniform_sphere(800, 3, rng=2)
    points = mt.uniform_sphere(300, 3, rng=5)
    comp = mt.harmonic_components(X0, 8, points)
    for b, t in ((3.0, 0.4), (6.0, 0.1), (10.0, 0.02)):
        np.testing.assert_array_equal(mt.linear_perturbation(comp, b, t, d=3), linear_prediction_ch6(comp, b, t))
    # on the circle μ ≈ (1 + u) dθ/2π: u is 2π times the linear density minus 1
    theta0 = mt.uniform_circle(4000, rng=6)
    grid = mt.pde_grid(256)
    comp2 = mt.harmonic_components(mt.angles_to_points(theta0), 10, mt.angles_to_points(grid))
    u = mt.linear_perturbation(comp2, 5.0, 0.2)
    np.testing.assert_allclose(u, TWO_PI * mt.linear_density(theta0, 5.0, 0.2, M=256) - 1.0, atol=1e-12)


def test_linear_solution_bad_input():
    theta0 = mt.uniform_circle(2000, rng=0)
    with pytest.raises(ValueError, match="n_modes must be >= 1"):
        mt.linear_density(theta0, 5.0, 0.1, n_modes=0)
    with pytest.raises(ValueError, match="M must be >= 21"):
        mt.linear_density(theta0, 5.0, 0.1, M=16)
    with pytest.raises(ValueError, match="rho0 must be a non-negative density"):
        mt.linear_density(mt.uniform_circle(20, rng=0), 5.0, 0.1)
    with pytest.raises(ValueError, match="n_clusters must be >= 1"):
        mt.linear_cluster_positions(theta0, 5.0, 0.1, 0)
    with pytest.raises(ValueError, match="t must be >= 0"):
        mt.linear_cluster_positions(theta0, 5.0, -1.0, 3)
    with pytest.raises(ValueError, match="components must have 1 or 2"):
        mt.linear_perturbation(np.ones((2, 3, 4)), 5.0, 0.1)
    with pytest.raises(ValueError, match="t must be >= 0"):
        mt.linear_perturbation(np.ones((2, 3)), 5.0, -0.1)


# ----------------------------------------------------------------------------- random initial modes


@pytest.mark.parametrize("beta", [5.0, 7.0])
def test_probability_kmax_leads_reproduces_chapter_3(beta):
    for N in (1e3, 2e4, 1e5, 1e6, 10.0**3.25, 10**4):
        assert mt.probability_kmax_leads(beta, N) == p_kmax_theory_ch3(beta, N)


@pytest.mark.parametrize("beta, N", [(5.0, 1e3), (7.0, 2e4), (3.165, 1e4)])
def test_probability_kmax_leads_matches_monte_carlo(beta, N):
    rng = np.random.default_rng(int(N) + int(10 * beta))
    samples = 100_000
    c0 = np.sqrt(rng.exponential(1.0 / N, (samples, K_MODES)))  # N|ĉ_k(0)|² iid Exp(1)
    p_mc = np.mean(mt.leading_mode(c0, beta, t_max_of(beta, N)) == mt.kmax(beta))
    p = mt.probability_kmax_leads(beta, N)
    assert abs(p_mc - p) < 4 * math.sqrt(p * (1 - p) / samples)


def test_probability_kmax_leads_limits():
    for K in (3, 6, 10):  # N = 1: every mode alike, so 1/K
        assert mt.probability_kmax_leads(5.0, 1.0, n_modes=K) == pytest.approx(1 / K, rel=1e-9)
    p = [mt.probability_kmax_leads(7.0, N) for N in np.logspace(1, 12, 12)]
    assert np.all(np.diff(p) > 0)
    # slowly to 1, like 1 - O(N^{-gap}) with the relative gap 0.061 at β = 7
    assert 1 - mt.probability_kmax_leads(7.0, 1e100) < 1e-3
    with pytest.raises(ValueError, match=r"n_modes must be >= kmax\(beta\) = 4"):
        mt.probability_kmax_leads(7.0, 1e4, n_modes=3)
    with pytest.raises(ValueError, match="N must be >= 1"):
        mt.probability_kmax_leads(5.0, 0.5)


def test_exit_mode_probabilities_reproduce_the_appendix():
    for beta in (2.6, 3.165, 6.211):
        for n in (100, 1000, 10000, 316.2):
            p = mt.exit_mode_probabilities(beta, n, rng=0)
            assert p.shape == (8,) and p.sum() == pytest.approx(1.0, abs=1e-12)
            for k in range(1, 9):
                assert p[k - 1] == linear_theory_frequency_appendix(beta, n, k)


def test_exit_mode_probabilities_match_an_independent_monte_carlo():
    # the exit mode is the one whose own crossing time ln(δ/|c_k|)/γ_k is smallest
    beta, N, samples = 3.165, 1000.0, 40_000
    p = mt.exit_mode_probabilities(beta, N, rng=1, samples=samples)
    rng = np.random.default_rng(2)
    c0 = np.sqrt(rng.exponential(1.0 / N, (samples, 8)))
    crossing = np.log(0.1 / c0) / mt.growth_rate(np.arange(1, 9), beta)
    q = np.bincount(np.argmin(crossing, axis=1) + 1, minlength=9)[1:] / samples
    se = np.sqrt(np.maximum(p * (1 - p), 1e-4) * 2 / samples)
    assert np.all(np.abs(p - q) < 4 * se), (p, q)
    assert p[mt.kmax(beta) - 1] + p[mt.kmax(beta)] > 0.8  # at a switch point k_max and k_max + 1 share


def test_predicted_exit_time_reproduces_chapter_5():
    gamma = mt.growth_rate(np.arange(1, 7), 5.0)
    rng_mc = np.random.default_rng(5)
    xi = np.abs(rng_mc.standard_normal((200_000, 6)) + 1j * rng_mc.standard_normal((200_000, 6))) / np.sqrt(2)
    for N in (100, np.int64(1000), np.exp(7.3), 10**6):
        assert mt.predicted_exit_time(5.0, N, rng=5) == mean_linear_exit_ch5(N, gamma, xi)


@pytest.mark.parametrize("beta, N", [(5.0, 100.0), (5.0, 1e5), (3.165, 1e4)])
def test_predicted_exit_time_matches_quadrature(beta, N):
    # E T = ∫_0^∞ P(T > s) ds, P(T > s) = Π_k P(|ξ_k|² < N δ² e^{-2γ_k s}) = Π_k (1 - exp(-N δ² e^{-2γ_k s}))
    delta, samples = 0.5, 200_000
    gamma = mt.growth_rate(np.arange(1, 7), beta)
    survival = lambda s: np.prod(-np.expm1(-N * delta**2 * np.exp(-2 * gamma * s)))  # noqa: E731
    exact = integrate.quad(survival, 0, np.inf, limit=200, epsabs=1e-12)[0]
    mc = mt.predicted_exit_time(beta, N, delta, samples=samples, rng=7)
    spread = 1.0 / gamma.max()  # the exit time's standard deviation is below 1/γ_max
    assert abs(mc - exact) < 4 * spread / math.sqrt(samples)
    # SA: the same draws, every time divided by the ratio of the rates
    ratio = mt.growth_rate(1, beta) / mt.growth_rate(1, beta, model="sa")
    assert mt.predicted_exit_time(beta, N, delta, rng=7, model="sa") == pytest.approx(ratio * mc, rel=1e-12)


def test_random_mode_statistics_bad_input():
    with pytest.raises(ValueError, match="samples must be >= 1"):
        mt.exit_mode_probabilities(5.0, 100, samples=0)
    with pytest.raises(ValueError, match="threshold must be > 0"):
        mt.exit_mode_probabilities(5.0, 100, threshold=-0.1)
    with pytest.raises(TypeError, match="rng must be"):
        mt.predicted_exit_time(5.0, 100, rng="seed")
    with pytest.raises(ValueError, match="N must be >= 1"):
        mt.predicted_exit_time(5.0, 0.0)
    with pytest.raises(ValueError, match="overflows"):
        mt.predicted_exit_time(800.0, 100)
    with pytest.raises(TypeError, match="beta must be a real number"):
        mt.probability_kmax_leads("5", 100)


# ----------------------------------------------------------------------------- the particle system


def test_linear_phase_exit_time_is_located_by_the_solver():
    theta0 = mt.uniform_circle(3000, rng=1)
    run = mt.linear_phase_exit_time(theta0, 5.0, 0.3, n_modes=6, t_max=3.0, method="dopri", rtol=1e-10, atol=1e-12)
    assert isinstance(run, mt.LinearPhaseExit) and run.message == "the threshold was reached"
    assert run.amplitudes.max() == pytest.approx(0.3, abs=1e-9)
    assert run.mode == int(np.argmax(run.amplitudes)) + 1 and run.n_steps > 0 and run.nfev > run.n_steps
    # an independent run to the event time, without events, reaches the same amplitude
    at = mt.simulate(theta0, 5.0, [run.t], method="dopri", rtol=1e-10, atol=1e-12).states[-1]
    assert np.abs(mt.fourier_coefficients(at, np.arange(1, 7))).max() == pytest.approx(0.3, abs=1e-7)
    # time shift: restarting from the state at t = 0.1, the exit comes 0.1 earlier
    mid = mt.simulate(theta0, 5.0, [0.1], method="dopri", rtol=1e-10, atol=1e-12).states[-1]
    later = mt.linear_phase_exit_time(mid, 5.0, 0.3, n_modes=6, t_max=3.0, method="dopri", rtol=1e-10, atol=1e-12)
    assert later.t == pytest.approx(run.t - 0.1, abs=1e-7)
    # rotation: the mode moduli and the dynamics are rotation invariant
    turned = mt.linear_phase_exit_time(theta0 + 1.234, 5.0, 0.3, n_modes=6, t_max=3.0, method="dopri", rtol=1e-10, atol=1e-12)
    assert turned.t == pytest.approx(run.t, abs=1e-8) and turned.mode == run.mode


def test_linear_phase_exit_time_against_chapter_5_loop_and_linear_theory():
    err_event, err_loop = [], []
    for seed in range(4):
        theta0 = mt.uniform_circle(10_000, rng=seed)
        event = mt.linear_phase_exit_time(theta0, 5.0, 0.5, n_modes=6, t_max=5.0, dt=0.05)
        loop = exit_time_loop_ch5(theta0, 5.0)
        # the same RK4 steps: both times lie in the step where max |ĉ_m| crosses δ; only the
        # location inside it differs (root of the Hermite dense output vs log-linear guess)
        assert math.ceil(event.t / 0.05) == math.ceil(loop / 0.05), (event.t, loop)
        reference = mt.linear_phase_exit_time(theta0, 5.0, 0.5, n_modes=6, t_max=5.0, method="dopri", rtol=1e-10, atol=1e-12)
        err_event.append(abs(event.t - reference.t))
        err_loop.append(abs(loop - reference.t))
        assert err_event[-1] < 4e-3  # what is left is the error of RK4 with γ_max dt = 0.93
        # a small threshold ends the linear phase near the linear flow's prediction
        small = mt.linear_phase_exit_time(theta0, 5.0, 0.05, n_modes=6, t_max=5.0, method="dopri")
        c0 = mt.fourier_coefficients(theta0, np.arange(1, 7))
        assert small.t == pytest.approx(mt.linear_exit_time(c0, 5.0, 0.05), rel=0.05)
    assert np.mean(err_event) < 0.5 * np.mean(err_loop), (err_event, err_loop)


def test_linear_phase_exit_time_edge_cases_and_bad_input():
    theta0 = mt.uniform_circle(50, rng=0)
    start = mt.linear_phase_exit_time(theta0, 5.0, 0.01)  # a mode of 50 tokens is above 0.01
    assert start.t == 0.0 and start.n_steps == 0 and "starts at or above" in start.message
    never = mt.linear_phase_exit_time(mt.uniform_circle(2000, rng=0), 0.5, 0.9, t_max=0.2, dt=0.05)
    assert np.isnan(never.t) and "not reached by t_max = 0.2" in never.message
    with pytest.raises(ValueError, match="x0 must have 1 dimension"):
        mt.linear_phase_exit_time(mt.uniform_sphere(10, 3, rng=0), 5.0, 0.5)
    with pytest.raises(ValueError, match="threshold must be > 0"):
        mt.linear_phase_exit_time(theta0, 5.0, 0.0)
    with pytest.raises(ValueError, match="t_max must be > 0"):
        mt.linear_phase_exit_time(theta0, 5.0, 0.5, t_max=0.0)
    with pytest.raises(ValueError, match="overflows"):
        mt.linear_phase_exit_time(theta0, 800.0, 0.5)
    with pytest.raises(ValueError, match="method"):
        mt.linear_phase_exit_time(mt.uniform_circle(2000, rng=0), 5.0, 0.5, method="euler")
