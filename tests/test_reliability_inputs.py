"""Reliability of the inputs and the numerical edges (issue 14, items 4-7 and 10-13).

Rates at any β > 0 (item 4), the quadrature and the Dobrushin constant at large β (5),
W_p at any admissible p (6), invalid input refused (7), no hang in kmax_switch_points (10),
huge sizes refused up front naming the argument and the memory (11), float32 input (12),
one consistent reduction of huge angles (13). Independent references: the leading term of
the Bessel series (tiny β), the Bessel series summed term by term in Python (large d),
brute force over permutations with the largest distance factored out (W_p at large p).
"""

import itertools
import math
import signal
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mtlib as mt
from mtlib import _validate as v

INT64_MIN = int(np.iinfo(np.int64).min)
HUGE = 10**12  # 8 TB of float64: more than any machine, refused by check_memory
TIME_LIMIT = 10  # seconds: every call below must answer or fail within this


def within(seconds, fn, *args, **kwargs):
    """fn(*args, **kwargs), failing the test (not hanging) after ``seconds``."""

    def stop(signum, frame):
        raise TimeoutError(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn(*args, **kwargs)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def raises_clear(exc, match, fn, *args, **kwargs):
    """fn must raise ``exc`` naming ``match``, within TIME_LIMIT, without a NumPy warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(exc, match=match):
            within(TIME_LIMIT, fn, *args, **kwargs)


# ----------------------------------------------------------------------------- item 4: tiny β, large d


def leading_log_rate(k, beta, d):
    """log|γ_k| from the leading term of the Bessel series (exact to rounding for |β| < 1e-8)."""
    nu = (d - 2) / 2
    return (math.log(k * (k + d - 2)) + math.lgamma(nu + 1) - math.lgamma(k + nu + 1)
            + (k - 1) * math.log(abs(beta)) - k * math.log(2.0))


def series_log_bessel_i(mu, x, terms=300):
    """log I_mu(x) from its power series, each term in logs (Python floats)."""
    logs = [2 * j * math.log(x / 2) - math.lgamma(j + 1) - math.lgamma(mu + j + 1) for j in range(terms)]
    top = max(logs)
    return mu * math.log(x / 2) + top + math.log(sum(math.exp(t - top) for t in logs))


TINY_BETAS = [1e-9, 1e-100, 1e-200, 1e-300, 5e-324, -1e-300]


@pytest.mark.parametrize("beta", TINY_BETAS)
@pytest.mark.parametrize("d", [2, 3, 8])
@pytest.mark.parametrize("model", ["usa", "sa"])
def test_item4_rates_at_tiny_beta(beta, d, model):
    k = np.arange(1, 5)
    rates = mt.growth_rate(k, beta, d, model)
    ref = np.array([math.exp(leading_log_rate(kk, beta, d)) * (1 if kk % 2 or beta > 0 else -1) for kk in k])
    np.testing.assert_allclose(rates, ref, rtol=1e-13, atol=0)
    assert mt.growth_rate(0, beta, d, model) == 0.0
    if beta > 0:
        logs = mt.log_growth_rate(k, beta, d, model)
        ref_logs = [leading_log_rate(kk, beta, d) for kk in k]
        np.testing.assert_allclose(logs, ref_logs, rtol=1e-14, atol=1e-13)
        kappa = mt.growth_rate_continuous(np.array([1.0, 2.0]), beta, d, model)
        np.testing.assert_allclose(kappa, rates[:2], rtol=1e-13, atol=0)
        assert mt.relative_rate_gap(beta, d) == pytest.approx(1.0, abs=2 * beta + 1e-15)  # γ_2/γ_1 = O(β)
    assert mt.kmax(beta, d) == 1


@pytest.mark.parametrize("beta", TINY_BETAS)
@pytest.mark.parametrize("d", [2, 3, 8])
def test_item4_gegenbauer_coefficients_at_tiny_beta(beta, d):
    nu = (d - 2) / 2
    b = mt.gegenbauer_coefficients(beta, d, 4)
    ref = []
    for k in range(5):
        if d == 2:
            log_b = (0.0 if k == 0 else math.log(2.0)) + k * (math.log(abs(beta)) - math.log(2.0)) - math.lgamma(k + 1)
        else:
            log_b = (math.lgamma(nu) + math.log(k + nu) + k * (math.log(abs(beta)) - math.log(2.0))
                     - math.lgamma(k + nu + 1))
        ref.append(math.exp(log_b) * (-1 if beta < 0 and k % 2 else 1))
    np.testing.assert_allclose(b, ref, rtol=1e-13, atol=1e-320)  # subnormals carry fewer digits


@pytest.mark.parametrize("d, beta", [(200, 5.0), (1000, 5.0), (1000, 40.0), (4096, 1.0)])
def test_item4_rates_in_high_dimension_do_not_underflow(d, beta):
    """I_{k+ν}(β) e^{-β} underflows for ν ≫ β, yet γ_1 ≈ (d-1)/d there: sum the series."""
    nu = (d - 2) / 2
    for k in (1, 2, 5):
        ref = (math.log(k * (k + d - 2)) + math.lgamma(d / 2) + nu * math.log(2) - (1 + nu) * math.log(beta)
               + series_log_bessel_i(k + nu, beta))
        assert mt.log_growth_rate(k, beta, d) == pytest.approx(ref, abs=1e-10)  # terms of size 1e4 cancel
    assert mt.kmax(beta, d) == 1


# ----------------------------------------------------------------------------- item 5: large β


@pytest.mark.parametrize("beta", [500.0, 700.0, -700.0])
@pytest.mark.parametrize("d", [2, 3, 8])
@pytest.mark.parametrize("model", ["usa", "sa"])
def test_item5_quadrature_accurate_up_to_700(beta, d, model):
    for k in (1, 5, 12):
        assert mt.growth_rate_quadrature(k, beta, d, model) == pytest.approx(
            mt.growth_rate(k, beta, d, model), rel=1e-10)


@pytest.mark.parametrize("beta", [700.5, 710.0, 1e3, -1e3, 1e6])
@pytest.mark.parametrize("model", ["usa", "sa"])
def test_item5_quadrature_refuses_beyond_700(beta, model):
    raises_clear(ValueError, "beta", mt.growth_rate_quadrature, 3, beta, 2, model)


@pytest.mark.parametrize("beta", [353.0, 360.0, -500.0, 700.0])
def test_item5_dobrushin_sa_refuses_overflow(beta):
    raises_clear(ValueError, "beta", mt.dobrushin_constant, beta, model="sa")


def test_item5_dobrushin_finite_up_to_its_range():
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert np.isfinite(mt.dobrushin_constant(351.5, model="sa"))
        assert np.isfinite(mt.dobrushin_constant(700.0, model="usa"))


@pytest.mark.parametrize("beta", [2e9, 1e10, 1e20, -1e300])
def test_item5_rates_refuse_beta_beyond_the_bessel_range(beta):
    """scipy's ive returns NaN beyond |β| ≈ 2e9: a clear error instead of NaN rates."""
    for fn, args in [(mt.growth_rate, (3, beta)), (mt.kmax, (beta,)), (mt.gegenbauer_coefficients, (beta, 3, 4))]:
        raises_clear(ValueError, "beta", fn, *args)
    if beta > 0:
        raises_clear(ValueError, "beta", mt.log_growth_rate, 3, beta)
        raises_clear(ValueError, "beta", mt.relative_rate_gap, beta)


@pytest.mark.parametrize("beta", [1e8, 1e9])
def test_item5_kmax_exact_at_large_beta(beta):
    """k_max compares the k-dependent part of log γ_k, so adding β does not round it away."""
    from scipy import special

    k = np.arange(int(math.sqrt(2 * beta)) - 30, int(math.sqrt(2 * beta)) + 30)
    assert mt.kmax(beta) == k[np.argmax(2 * np.log(k) + np.log(special.ive(k, beta)))]


# ----------------------------------------------------------------------------- item 6: W_p at large p


def geodesic_circle(u, v):
    d = np.abs(np.subtract.outer(np.asarray(u), np.asarray(v))) % (2 * np.pi)
    return np.minimum(d, 2 * np.pi - d)


def brute_force_wp(D, p):
    """min over permutations of (mean_i D[i, σ(i)]^p)^{1/p}, the largest distance factored out."""
    best = np.inf
    for perm in itertools.permutations(range(D.shape[0])):
        vals = D[np.arange(D.shape[0]), perm]
        top = vals.max()
        value = 0.0 if top == 0 else top * np.mean((vals / top) ** p) ** (1 / p)
        best = min(best, value)
    return best


@pytest.mark.parametrize("p", [2.0, 7.5, 100.0, 1000.0, 1e5])
@pytest.mark.parametrize("seed", [0, 1])
def test_item6_circle_wp_against_brute_force(p, seed):
    rng = np.random.default_rng(seed)
    u, w = rng.uniform(0, 2 * np.pi, 5), rng.uniform(0, 2 * np.pi, 5)
    ref = brute_force_wp(geodesic_circle(u, w), p)
    assert mt.wasserstein_circle(u, w, p=p) == pytest.approx(ref, rel=1e-9)


@pytest.mark.parametrize("p", [1000.0, 1e5])
def test_item6_sphere_wp_against_brute_force(p):
    rng = np.random.default_rng(3)
    X = mt.uniform_sphere(5, 3, rng)
    Y = mt.uniform_sphere(5, 3, rng)
    D = np.arccos(np.clip(X @ Y.T, -1, 1))
    assert mt.wasserstein_sphere(X, Y, p=p) == pytest.approx(brute_force_wp(D, p), rel=1e-9)


@pytest.mark.parametrize("p", [1000.0, 1e5])
def test_item6_sliced_wp_against_brute_force(p):
    rng = np.random.default_rng(4)
    X, Y = mt.uniform_sphere(5, 3, rng), mt.uniform_sphere(5, 3, rng)
    L = 6
    U = np.linalg.qr(np.random.default_rng(9).standard_normal((L, 3, 2)))[0]
    per_plane = []
    for Ul in U:
        a, b = (np.arctan2(Z @ Ul[:, 1], Z @ Ul[:, 0]) for Z in (X, Y))
        per_plane.append(brute_force_wp(geodesic_circle(a, b), p))
    per_plane = np.array(per_plane)
    top = per_plane.max()
    ref = top * np.mean((per_plane / top) ** p) ** (1 / p)
    assert mt.sliced_wasserstein_sphere(X, Y, n_projections=L, rng=9, p=p) == pytest.approx(ref, rel=1e-9)


def test_item6_wp_increases_with_p_to_w_infinity():
    """W_p is non-decreasing in p and tends to W_∞ (closed form against the uniform law)."""
    rng = np.random.default_rng(5)
    u = rng.vonmises(0.0, 1.0, 40)
    w = rng.uniform(0, 2 * np.pi, 30)
    density = 1 + 0.5 * np.cos(np.arange(64) * 2 * np.pi / 64)
    density /= density.sum() * 2 * np.pi / 64
    ps = [2.0, 10.0, 100.0, 1000.0, 1e4]
    for fn in (lambda p: mt.wasserstein_circle(u, w, p=p),
               lambda p: mt.wasserstein_circle_density(u, density, p=p),
               lambda p: mt.wasserstein_circle_uniform(u, p=p)):
        values = [fn(p) for p in ps]
        assert np.all(np.diff(values) >= -1e-12) and 0 < values[-1] <= np.pi
    x = np.sort(np.mod(u, 2 * np.pi)) / (2 * np.pi)
    A = np.arange(x.size + 1) / x.size
    w_inf = np.pi * (np.max(x - A[:-1]) - np.min(x - A[1:]))
    assert mt.wasserstein_circle_uniform(u, p=1e4) == pytest.approx(w_inf, rel=1e-2)


def test_item6_tiny_distances_do_not_underflow():
    assert mt.wasserstein_circle([0.0], [1e-160], p=2) == pytest.approx(1e-160, rel=1e-12)
    # 1.0 + 1e-100 == 1.0: one pair at distance 1e-100, one at 0
    assert mt.wasserstein_circle([0.0, 1.0], [1e-100, 1.0], p=3) == pytest.approx(0.5 ** (1 / 3) * 1e-100, rel=1e-12)


@pytest.mark.parametrize("p", [1e7, 1e300])
def test_item6_p_beyond_the_bound_is_refused(p):
    u = [0.0, 1.0]
    X = np.eye(3)
    for fn, args in [(mt.wasserstein_circle, (u, u)), (mt.wasserstein_circle_uniform, (u,)),
                     (mt.wasserstein_circle_density, (u, np.full(4, 1 / (2 * np.pi)))),
                     (mt.wasserstein_sphere, (X, X)), (mt.sliced_wasserstein_sphere, (X, X))]:
        raises_clear(ValueError, "p must be <=", fn, *args, p=p)


# ----------------------------------------------------------------------------- item 7: invalid input


def test_item7_order_parameter_checks_trajectories():
    X = mt.uniform_sphere(10, 3, 0)
    with pytest.raises(ValueError, match="unit norm"):
        mt.order_parameter(np.stack([X, 5 * X]))
    assert mt.order_parameter(np.stack([X, X])).shape == (2,)
    with pytest.raises(TypeError, match="angles"):
        mt.order_parameter(X, angles="no")


def test_item7_find_clusters_zero_mass_group_is_noise():
    X = np.eye(3)
    clusters = mt.find_clusters(X, radius=0.1, min_mass=0.0, weights=[0.5, 0.5, 0.0])
    assert clusters.count == 2 and np.all(np.isfinite(clusters.centres))
    assert clusters.labels[2] == -1
    circle = mt.find_clusters(np.array([0.0, 3.0]), radius=0.1, min_mass=0.0, weights=[1.0, 0.0])
    assert circle.count == 1 and circle.labels.tolist() == [0, -1]


BOOL_CALLS = {
    "check_array": lambda: v.check_array([True, False], "x"),
    "weights": lambda: mt.fourier_coefficients([0.0, 1.0], 1, weights=np.array([True, False])),
    "theta": lambda: mt.fourier_coefficients(np.array([True, False]), 1),
    "u": lambda: mt.wasserstein_circle(np.array([True]), [0.0]),
    "tokens": lambda: mt.find_clusters(np.array([True, False, True])),
    "t": lambda: mt.leading_mode([0.1, 0.2], 1.0, True),
    "kappa": lambda: mt.growth_rate_continuous(True, 1.0),
    "rho": lambda: mt.quantile_tokens(np.array([True, True, False]), 3),
    "density": lambda: mt.wasserstein_circle_density([0.0], np.array([True, False])),
    "theta_or_X": lambda: mt.order_parameter(np.array([True, False])),
}


@pytest.mark.parametrize("name", sorted(BOOL_CALLS))
def test_item7_booleans_are_not_numbers(name):
    with pytest.raises(TypeError, match="bool"):
        BOOL_CALLS[name]()


# ----------------------------------------------------------------------------- item 10: no hang


@pytest.mark.parametrize("limit", [10**6, 10**9, 2**63])
def test_item10_kmax_switch_points_refuses_long_runs(limit):
    raises_clear(ValueError, "kmax_limit", mt.kmax_switch_points, 2, limit)


# ----------------------------------------------------------------------------- item 11: huge sizes

THETA = np.linspace(0, 6, 7)
X3 = mt.uniform_sphere(7, 3, 0)
X4 = mt.uniform_sphere(7, 4, 0)
F = np.exp

HUGE_CALLS = {
    "uniform_sphere n": ("n", lambda: mt.uniform_sphere(HUGE, 3)),
    "uniform_sphere n 2^63": ("n", lambda: mt.uniform_sphere(2**63, 3)),
    "uniform_sphere d": ("d", lambda: mt.uniform_sphere(3, 2**63)),
    "uniform_circle n": ("n", lambda: mt.uniform_circle(HUGE)),
    "caps_sphere": ("n_per_cap", lambda: mt.caps_sphere(np.eye(3), HUGE, 0.1)),
    "caps_circle": ("n_per_cap", lambda: mt.caps_circle([0.0], 2**63, 0.1)),
    "equiangular_frame": ("n", lambda: mt.equiangular_frame(10**7, 10**7)),
    "perturbed_uniform_circle": ("n", lambda: mt.perturbed_uniform_circle(HUGE, 2, 0.5)),
    "quantile_tokens": ("n", lambda: mt.quantile_tokens(np.ones(8), HUGE)),
    "gegenbauer_coefficients": ("K", lambda: mt.gegenbauer_coefficients(1.0, 3, HUGE)),
    "funk_hecke nodes": ("nodes", lambda: mt.funk_hecke_eigenvalue(F, 2, 3, nodes=10**9)),
    "funk_hecke k": ("k", lambda: mt.funk_hecke_eigenvalue(F, 10**9, 3)),
    "growth_rate_quadrature k": ("k", lambda: mt.growth_rate_quadrature(10**9, 1.0)),
    "kmax 1e20": ("beta", lambda: mt.kmax(1e20)),
    "relative_rate_gap 1e20": ("beta", lambda: mt.relative_rate_gap(1e20)),
    "harmonic_dimension array": ("d", lambda: mt.harmonic_dimension([3, 4], 10**6)),
    "harmonic_dimension huge": ("k", lambda: mt.harmonic_dimension(10**18, 10**18)),
    "fourier_coefficients int64 min": ("k", lambda: mt.fourier_coefficients(THETA, INT64_MIN)),
    "density_from_fourier_coefficients": ("M", lambda: mt.density_from_fourier_coefficients([0.1], [1], HUGE)),
    "random_fourier_coefficients": ("shape", lambda: mt.random_fourier_coefficients(HUGE, 0.1)),
    "harmonic_power sphere": ("k", lambda: mt.harmonic_power(X3, 10**9)),
    "harmonic_power direct": ("k", lambda: mt.harmonic_power(X4, 10**9)),
    "harmonic_components": ("K", lambda: mt.harmonic_components(X3, 10**9, X3)),
    "linear_density": ("n_modes", lambda: mt.linear_density(THETA, 1.0, 0.1, n_modes=10**9, M=2 * 10**9 + 1)),
    "probability_kmax_leads": ("n_modes", lambda: mt.probability_kmax_leads(1.0, 100, n_modes=HUGE)),
    "exit_mode_probabilities": ("samples", lambda: mt.exit_mode_probabilities(1.0, 100, samples=HUGE)),
    "predicted_exit_time": ("samples", lambda: mt.predicted_exit_time(1.0, 100, samples=HUGE)),
    "linear_phase_exit_time": ("n_modes", lambda: mt.linear_phase_exit_time(THETA, 1.0, 0.9, n_modes=HUGE)),
    "histogram_peaks": ("bins", lambda: mt.histogram_peaks(THETA, bins=HUGE)),
    "sliced_wasserstein_sphere": ("n_projections", lambda: mt.sliced_wasserstein_sphere(X3, X3, n_projections=HUGE)),
    "distance_to_equispaced": ("k", lambda: mt.distance_to_equispaced(THETA, 10**9)),
}


@pytest.mark.parametrize("case", sorted(HUGE_CALLS))
def test_item11_huge_sizes_are_refused_up_front(case):
    name, call = HUGE_CALLS[case]
    raises_clear(ValueError, rf"\b({name})( =| must)", call)


def test_item11_memory_message_says_how_much():
    with pytest.raises(ValueError, match=r"n = 1000000000000.*GiB"):
        mt.uniform_circle(HUGE)


def test_item11_huge_dimension_of_the_rates_is_fine():
    assert mt.kmax(5.0, 2**40) == 1
    d, nu = 10**6, (10**6 - 2) / 2
    ref = (math.log(d - 1) + math.lgamma(d / 2) + nu * math.log(2) - (1 + nu) * math.log(5.0)
           + series_log_bessel_i(1 + nu, 5.0))
    assert math.log(mt.growth_rate(1, 5.0, d)) == pytest.approx(ref, abs=1e-8)  # terms of size 1e7 cancel
    assert mt.harmonic_dimension(3, 10**18) == math.comb(10**18 + 2, 3) - math.comb(10**18, 1)


# ----------------------------------------------------------------------------- item 12: float32


def float32_unit_rows(n, d, seed=0):
    g = np.random.default_rng(seed).standard_normal((n, d)).astype(np.float32)
    return g / np.linalg.norm(g, axis=1, keepdims=True)


@pytest.mark.parametrize("d", [2, 3, 64, 512])
def test_item12_float32_unit_rows_accepted_and_renormalised(d):
    X32 = float32_unit_rows(200, d)
    X = v.check_unit_rows(X32)
    assert X.dtype == np.float64
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, atol=4e-16)
    np.testing.assert_allclose(X, X32, atol=1e-6)


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 60), d=st.integers(2, 1024), seed=st.integers(0, 2**32 - 1), scale=st.floats(1e-3, 1e3))
def test_item12_float32_rows_and_weights_property(n, d, seed, scale):
    """Rows and weights normalised in float32 (as PyTorch does) pass, and come back exact in float64."""
    rng = np.random.default_rng(seed)
    g = (scale * rng.standard_normal((n, d))).astype(np.float32)
    X32 = g / np.linalg.norm(g, axis=1, keepdims=True)
    X = v.check_unit_rows(X32)
    assert X.dtype == np.float64 and np.abs(np.linalg.norm(X, axis=1) - 1).max() < 1e-15
    assert np.abs(X - X32).max() < 1e-4
    e = rng.exponential(size=n).astype(np.float32)
    w = v.check_weights(e / e.sum(), n)
    assert w.dtype == np.float64 and abs(w.sum() - 1) < 1e-15


def test_item12_float32_weights_and_densities_accepted():
    z = np.random.default_rng(1).standard_normal(1000).astype(np.float32)
    w32 = np.exp(z) / np.exp(z).sum()
    w = v.check_weights(w32, 1000)
    assert w.dtype == np.float64 and abs(w.sum() - 1) < 1e-15
    density = (1 + 0.5 * np.cos(np.arange(512) * 2 * np.pi / 512)).astype(np.float32)
    density /= density.sum() * np.float32(2 * np.pi / 512)
    assert np.isfinite(mt.wasserstein_circle_density([0.0, 1.0], density))


def test_item12_float32_through_public_functions():
    X32 = float32_unit_rows(50, 3, 2)
    X64 = X32.astype(np.float64)
    X64 /= np.linalg.norm(X64, axis=1, keepdims=True)
    assert mt.harmonic_power(X32, 2) == pytest.approx(mt.harmonic_power(X64, 2), rel=1e-12)
    assert mt.order_parameter(X32) == pytest.approx(mt.order_parameter(X64), rel=1e-12)
    assert mt.find_clusters(X32).count == mt.find_clusters(X64).count
    assert mt.wasserstein_sphere(X32, X32[::-1]) == pytest.approx(mt.wasserstein_sphere(X64, X64[::-1]), abs=1e-7)
    assert mt.distance_to_dirac(X32) == pytest.approx(mt.distance_to_dirac(X64), rel=1e-9)


def test_item12_tolerance_still_catches_wrong_rows_and_float64_is_unchanged():
    X32 = float32_unit_rows(20, 3)
    with pytest.raises(ValueError, match="unit norm"):
        v.check_unit_rows(X32 * np.float32(1.001))
    X = np.eye(3)
    X[0, 0] = 1 + 1e-7  # float64: still the 1e-8 tolerance
    with pytest.raises(ValueError, match="unit norm"):
        v.check_unit_rows(X)
    with pytest.raises(ValueError, match="sum to 1"):
        v.check_weights([0.5, 0.5 + 1e-9], 2)
    Y = np.eye(3)
    assert v.check_unit_rows(Y) is Y  # float64 input is not copied


# ----------------------------------------------------------------------------- item 13: names, angles


def test_item13_predicted_cluster_positions_names_theta0():
    for bad in ([np.nan, 1.0], [[0.0, 1.0]], "abc"):
        with pytest.raises((TypeError, ValueError), match="theta0"):
            mt.predicted_cluster_positions(bad, 2)


BIG = [1e17, -3e16, 2.5e10, 1e300]


def exact_angle(theta):
    """θ mod 2π as the point (cos θ, sin θ) of angles_to_points defines it."""
    xy = mt.angles_to_points(np.atleast_1d(theta))
    return np.mod(np.arctan2(xy[:, 1], xy[:, 0]), 2 * np.pi)


@pytest.mark.parametrize("big", BIG)
def test_item13_huge_angles_reduced_like_angles_to_points(big):
    ref = exact_angle(big)[0]
    xy = mt.angles_to_points([big])[0]
    c = mt.fourier_coefficients([big], [1, 2, 300])
    np.testing.assert_allclose(c, np.exp(-1j * np.array([1, 2, 300]) * ref), atol=1e-12)
    assert abs(c[0] - (xy[0] - 1j * xy[1])) < 1e-12
    assert abs(mt.circular_difference(big, ref)) < 1e-12
    assert mt.wasserstein_circle([big], [ref]) < 1e-12
    assert abs(mt.circular_difference(mt.find_clusters(np.array([big])).centres[0], ref)) < 1e-12
    assert mt.merge_coincident([big, ref], tol=1e-9).centres.size == 1
    caps = mt.caps_circle([big], 20, 1e-3, rng=0)
    assert np.all(np.abs(mt.circular_difference(caps, ref)) <= 1e-3 + 1e-12)
    assert np.abs(mt.circular_difference(mt.predicted_cluster_positions([big, big], 1), ref)).max() < 1e-12


def test_item13_reduce_large_angles_leaves_ordinary_angles_alone():
    theta = np.array([-5.0, 0.0, 1.0, 100.0, 999.0])
    assert np.array_equal(v.reduce_large_angles(theta), theta)
    out = v.reduce_large_angles(np.array([1e17, 2.0]))
    assert out[1] == 2.0 and 0 <= out[0] < 2 * np.pi and out[0] == pytest.approx(exact_angle(1e17)[0], abs=1e-15)
