"""Generic noise on the manifold M_k, the symmetric integrator, the end-state classifier."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.integrate import quad

import mtlib as mt
from mtlib import periodic_manifold as pm

TWO_PI = 2 * np.pi


def grid_modes(rho):
    """ρ̂_m = ∫ρ e^{-imθ}dθ for m = 0..M/2, from grid values (exact for trig polynomials)."""
    return np.fft.rfft(rho) * TWO_PI / rho.size


def token_modes(theta, m):
    return np.exp(-1j * np.outer(m, theta)).mean(axis=1)


@settings(max_examples=60, deadline=None)
@given(k=st.integers(1, 8), alpha=st.floats(0.0, 0.999), n_modes=st.integers(1, 6),
       decay=st.floats(0.0, 3.0), seed=st.integers(0, 2**31))
def test_density_lies_on_the_manifold(k, alpha, n_modes, decay, seed):
    M = 3 * k * n_modes + 7 + 3 * k    # any size with the top mode <= M/3
    rho = pm.manifold_noise_density(M, k, alpha, n_modes, decay, rng=seed)
    c = grid_modes(rho)
    m = np.arange(c.size)
    assert abs(c[0] - 1) < 1e-13
    assert np.max(np.abs(c[m % k != 0]), initial=0.0) < 1e-14
    # ρ̂_{jk} = a_j e^{iφ_j}/2 and Σ a_j = α: the amplitudes of the stated law
    assert abs(2 * np.abs(c[k * np.arange(1, n_modes + 1)]).sum() - alpha) < 1e-12
    assert np.max(np.abs(c[k * (n_modes + 1)::k]), initial=0.0) < 1e-14
    assert rho.min() >= (1 - alpha) / TWO_PI - 1e-14


def test_density_is_deterministic_given_the_seed():
    a = pm.manifold_noise_density(96, 3, 0.5, rng=7)
    assert np.array_equal(a, pm.manifold_noise_density(96, 3, 0.5, rng=7))
    assert not np.allclose(a, pm.manifold_noise_density(96, 3, 0.5, rng=8))
    gen = np.random.default_rng(7)
    assert np.array_equal(a, pm.manifold_noise_density(96, 3, 0.5, rng=gen))


@pytest.mark.parametrize("k, alpha", [(1, 0.3), (2, 0.95), (3, 0.5), (5, 0.0)])
def test_tokens_are_k_copies_with_no_mode_off_the_manifold(k, alpha):
    n = 40 * k
    theta = pm.manifold_noise_tokens(n, k, alpha, rng=3)
    per = n // k
    shifts = theta.reshape(k, per) - theta[:per]
    assert np.max(np.abs(shifts - TWO_PI * np.arange(k)[:, None] / k)) < 1e-14
    m = np.arange(1, n)
    c = token_modes(theta, m)
    assert np.max(np.abs(c[m % k != 0]), initial=0.0) < 1e-13
    assert theta.min() >= 0 and theta.max() <= TWO_PI


def test_tokens_are_the_exact_quantiles_of_the_density():
    # Independent: the density's trig polynomial (from its FFT) integrated by quad.
    k, alpha, per = 3, 0.8, 12
    rho = pm.manifold_noise_density(96, k, alpha, rng=11)
    c = grid_modes(rho)
    m = np.arange(c.size)

    def density(x):
        return (c[0].real + 2 * np.real(c[1:] * np.exp(1j * m[1:] * x)).sum()) / TWO_PI

    theta = pm.manifold_noise_tokens(k * per, k, alpha, rng=11)
    for i, x in enumerate(theta[:per]):
        mass = quad(density, 0.0, x, epsabs=1e-14, epsrel=1e-13, limit=200)[0]
        assert abs(k * mass - (i + 0.5) / per) < 1e-11, (i, mass)


def test_token_modes_match_the_density_modes():
    # The quantile tokens are a midpoint rule in u: spectrally accurate low modes.
    k, alpha = 2, 0.5
    c = grid_modes(pm.manifold_noise_density(64, k, alpha, rng=5))
    theta = pm.manifold_noise_tokens(2 * 256, k, alpha, rng=5)
    m = k * np.arange(1, 5)
    assert np.max(np.abs(token_modes(theta, m) - c[m])) < 1e-10


@pytest.mark.parametrize("call, error", [
    (lambda: pm.manifold_noise_density(96, 0, 0.1), ValueError),
    (lambda: pm.manifold_noise_density(96, 2, 1.0), ValueError),
    (lambda: pm.manifold_noise_density(96, 2, -0.1), ValueError),
    (lambda: pm.manifold_noise_density(96, 2, 0.1, n_modes=0), ValueError),
    (lambda: pm.manifold_noise_density(96, 2, 0.1, decay=-1.0), ValueError),
    (lambda: pm.manifold_noise_density(20, 3, 0.1, n_modes=4), ValueError),
    (lambda: pm.manifold_noise_density(96, 2.0, 0.1), TypeError),
    (lambda: pm.manifold_noise_density(96, True, 0.1), TypeError),
    (lambda: pm.manifold_noise_density(96, 2, 0.1, rng="seed"), TypeError),
    (lambda: pm.manifold_noise_tokens(10, 3, 0.1), ValueError),
    (lambda: pm.manifold_noise_tokens(0, 1, 0.1), ValueError),
])
def test_noise_rejects_bad_input(call, error):
    with pytest.raises(error):
        call()


def diracs(positions, per=5, jitter=0.0, seed=0):
    rng = np.random.default_rng(seed)
    theta = np.repeat(positions, per) + jitter * rng.uniform(-1, 1, np.size(positions) * per)
    return np.mod(theta, TWO_PI)


@settings(max_examples=60, deadline=None)
@given(k=st.integers(1, 8), phi=st.floats(0, TWO_PI), jitter=st.floats(0, 5e-3),
       seed=st.integers(0, 1000))
def test_classifier_accepts_k_equally_spaced_diracs(k, phi, jitter, seed):
    theta = diracs(phi + TWO_PI * np.arange(k) / k, jitter=jitter, seed=seed)
    end = pm.classify_end_state(theta, k)
    assert end.k_diracs and end.outcome == "k_diracs" and end.n_peaks == k
    assert end.width <= 2 * jitter + 1e-12 and end.mass_error < 1e-12
    perm = np.random.default_rng(seed).permutation(theta.size)   # relabelling
    again = pm.classify_end_state(theta[perm], k)
    assert (again.n_peaks, again.outcome) == (end.n_peaks, end.outcome)
    assert np.allclose(again.masses, end.masses, atol=1e-14)
    assert np.max(np.abs(np.angle(np.exp(1j * (again.centres - end.centres))))) < 1e-12
    assert mt.distance_to_equispaced(theta, k)[0] <= jitter + 1e-12


@pytest.mark.parametrize("k", [2, 3, 4])
def test_classifier_rejects_other_dirac_states(k):
    two_k = diracs(0.3 + np.pi * np.arange(2 * k) / k)         # 2k equally spaced
    end = pm.classify_end_state(two_k, k)
    assert not end.k_diracs and end.outcome == "other_diracs" and end.n_peaks == 2 * k
    assert end.spacing_error < 1e-12                           # equally spaced, 2k of them
    uneven = diracs(TWO_PI * np.arange(k) / k + np.r_[0.0, 0.1, np.zeros(k - 2)])
    end = pm.classify_end_state(uneven, k)
    assert not end.k_diracs and end.n_peaks == k and end.spacing_error > 0.09
    positions = TWO_PI * np.arange(k) / k
    w = np.r_[2.0, np.ones(k - 1)]
    w = np.repeat(w / w.sum(), 5) / 5
    end = pm.classify_end_state(diracs(positions), k, weights=w)
    assert not end.k_diracs and end.mass_error > 0.1 and end.spacing_error < 1e-12


def test_classifier_sees_a_spread_state_as_not_collapsed():
    theta = np.sort(np.random.default_rng(1).uniform(0, TWO_PI, 400))
    end = pm.classify_end_state(theta, 1)
    assert end.outcome == "not_collapsed" and not end.collapsed and not end.k_diracs
    wide = diracs(TWO_PI * np.arange(3) / 3, per=50, jitter=0.03)
    assert pm.classify_end_state(wide, 3).outcome == "not_collapsed"
    assert pm.classify_end_state(wide, 3, width_tol=0.05).k_diracs


@pytest.mark.parametrize("kwargs, error", [
    (dict(k=0), ValueError), (dict(k=1.5), TypeError), (dict(width_tol=0.0), ValueError),
    (dict(spacing_tol=4.0), ValueError), (dict(mass_tol=1.0), ValueError),
    (dict(radius=0.0), ValueError), (dict(weights=np.ones(3)), ValueError),
])
def test_classifier_rejects_bad_input(kwargs, error):
    args = dict(theta=np.zeros(5), k=1) | kwargs
    with pytest.raises(error):
        pm.classify_end_state(**args)


@pytest.mark.parametrize("beta", [0.5, 3.0, 8.0])
def test_gap_rate_closed_forms_and_finite_difference(beta):
    assert abs(pm.gap_instability_rate(beta, 2) - beta) < 1e-12 * beta
    assert abs(pm.gap_instability_rate(beta, 1) - np.exp(-beta)) < 1e-14
    for k in (3, 4, 5):          # λ = -(1/k) S'(π/k), S(a) = Σ_c K(a + 2πc/k), by differences
        h = 1e-5
        S = [np.sum(np.exp(beta * np.cos(a + TWO_PI * np.arange(k) / k))
                    * np.sin(a + TWO_PI * np.arange(k) / k)) for a in (np.pi / k + h, np.pi / k - h)]
        fd = -(S[0] - S[1]) / (2 * h) / k
        assert abs(pm.gap_instability_rate(beta, k) - fd) < 1e-6 * max(1.0, abs(fd))


@pytest.mark.parametrize("k, beta, m1", [(2, 5.0, 0.1), (3, 5.0, 0.2), (4, 3.0, 0.05)])
def test_gap_rate_matches_weighted_two_dirac_dynamics(k, beta, m1):
    # Independent: the 2k weighted tokens, integrated by mt.simulate (dopri, tight).
    lam = pm.gap_instability_rate(beta, k)
    m2 = 1.0 / k - m1
    delta0 = 1e-8
    a0 = np.pi / k + delta0
    theta = np.concatenate([TWO_PI * np.arange(k) / k, a0 + TWO_PI * np.arange(k) / k])
    w = np.r_[np.full(k, m1), np.full(k, m2)]
    t = 2.0 / lam
    end = mt.simulate(theta, beta, [t], weights=w, method="dopri", rtol=1e-12, atol=1e-14).states[-1]
    delta = np.angle(np.exp(1j * (end[k] - end[0]))) - np.pi / k
    assert abs(delta / (delta0 * np.exp(lam * t)) - 1) < 1e-4, delta


def test_simulate_on_manifold_matches_simulate_batch_and_stays_symmetric():
    k, beta, per = 3, 5.0, 10
    x0s = np.array([pm.manifold_noise_tokens(k * per, k, 0.5, rng=s) for s in range(3)])
    dt = 0.01
    t_eval = np.array([10, 40]) * 5 * dt          # multiples of the restart segment
    ours = pm.simulate_on_manifold(x0s, k, beta, t_eval, dt=dt, restart_steps=5)
    ref = mt.simulate_batch(x0s, beta, t_eval, method="rk4", dt=dt).states
    assert np.max(np.abs(np.angle(np.exp(1j * (ours - ref))))) < 1e-9
    shifts = ours.reshape(2, 3, k, per) - ours.reshape(2, 3, k, per)[:, :, :1]
    off = np.angle(np.exp(1j * (shifts - TWO_PI * np.arange(k)[:, None] / k)))
    assert np.max(np.abs(off)) < 1e-13
    assert ours.min() >= 0 and ours.max() < TWO_PI


def test_simulate_on_manifold_rejects_bad_input():
    x = pm.manifold_noise_tokens(12, 3, 0.3, rng=0)[None, :]
    with pytest.raises(ValueError, match="not a multiple"):
        pm.simulate_on_manifold(x, 5, 5.0, [0.1])
    bad = x.copy()
    bad[0, 5] += 1e-3
    with pytest.raises(ValueError, match="periodic"):
        pm.simulate_on_manifold(bad, 3, 5.0, [0.1])
    with pytest.raises(ValueError):
        pm.simulate_on_manifold(x, 3, -1.0, [0.1])
    with pytest.raises(ValueError):
        pm.simulate_on_manifold(x, 3, 5.0, [0.1], restart_steps=0)
    with pytest.raises(ValueError):
        pm.simulate_on_manifold(x, 3, 5.0, [0.2, 0.1])


def test_trials_table_is_deterministic_and_consistent():
    args = ([5.0], [3], [0.05, 0.9], range(4))
    df = pm.manifold_trials(*args, n_per_period=8)
    assert list(df.columns) == ["beta", "k", "alpha", "seed", "fraction", "t", "n_peaks",
                                "k_diracs", "outcome", "width", "d_k", "r_k"]
    assert len(df) == 2 * 4 * 3
    assert df.equals(pm.manifold_trials(*args, n_per_period=8))
    last = df[df.fraction == 1.0]
    assert last.k_diracs.all()                 # M_3 at β = 5 = k_max: three Diracs
    assert (last.d_k < 1e-4).all()
    assert (1 - last.r_k <= 1 - np.cos(3 * last.width) + 1e-12).all()
    assert set(df.outcome) <= set(pm.OUTCOMES)
    assert (df.k_diracs == (df.outcome == "k_diracs")).all()


@pytest.mark.parametrize("kwargs", [
    dict(alphas=[0.0]), dict(alphas=[1.0]), dict(betas=[0.0]), dict(ks=[0]), dict(seeds=[]),
    dict(seeds=[-1]), dict(fractions=(0.5, 0.25)), dict(fractions=(0.0, 1.0)),
    dict(horizon=0.0), dict(n_per_period=1), dict(model="xx"),
])
def test_trials_reject_bad_input(kwargs):
    args = dict(betas=[5.0], ks=[3], alphas=[0.5], seeds=[0]) | kwargs
    with pytest.raises(ValueError):
        pm.manifold_trials(**args)
