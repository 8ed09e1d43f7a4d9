"""Tests of mtlib._stochastic: the Strang splitting RK4 + Brownian motion on the circle and S^{d-1}.

Exact facts: a free token has E<x(t), x(0)> = e^{-D(d-1)t}; free tokens become uniform;
a token with the gradient drift a P_x e_1 has the Gibbs law ∝ e^{(a/D)<x, e_1>}; the
scheme's own law (computed without sampling) has weak error O(h²). Monte Carlo means are
compared within 4 standard errors (CLT, sample standard deviation / √N) plus the scheme's
weak bias where it is not negligible.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst
from scipy import special, stats
from scipy.linalg import expm
from scipy.optimize import minimize_scalar

import mtlib as mt
from mtlib import _stochastic as st
from mtlib._field_eval import circle_method, circle_velocity
from mtlib._harmonic_eval import resolve_sphere_method, sphere_field

Z = 4.0  # standard errors allowed to a Monte Carlo mean


def unit_rows(n, d, seed):
    X = np.random.default_rng(seed).standard_normal((n, d))
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def free(_t, y):
    return np.zeros_like(y)


def usa_circle_field(n, beta, sa=False):
    w = np.full(n, 1.0 / n)
    how = circle_method("auto", n, beta)
    return lambda _t, theta: circle_velocity(theta, w, beta, sa, how)


def sphere_model_field(n, d, beta, sa):
    w = np.full(n, 1.0 / n)
    how = resolve_sphere_method("auto", n, d, beta)
    return lambda _t, X: sphere_field(X, w, beta, sa, how)


def scheme_free_correlation(diffusion, t, m, d):
    """E<x_m, x_0> of the scheme for a free token: (E cos R)^{2m}, R = s χ_{d-1}.

    E cos(s χ_k) = 1F1(k/2; 1/2; -s²/2) (the power series of cos against the moments of χ_k).
    """
    s2 = st.tangent_variance(diffusion, 0.5 * t / m, d)
    return special.hyp1f1((d - 1) / 2.0, 0.5, -s2 / 2.0) ** (2 * m)


def check_mean(samples, expected, bias=0.0):
    mean = float(np.mean(samples))
    se = float(np.std(samples, ddof=1)) / math.sqrt(samples.size)
    assert abs(mean - expected) <= Z * se + abs(bias), (mean, expected, se, bias)
    return mean, se


# ----------------------------------------------------------------------------- D = 0


@pytest.mark.parametrize("t_eval", [[0.0, 0.3, 1.0, 2.5], [0.45, 1.7]])
def test_zero_diffusion_is_simulate_rk4_bit_for_bit_on_the_circle(t_eval):
    n, beta = 300, 2.0
    theta = np.random.default_rng(0).uniform(0.0, 2.0 * np.pi, n)
    ref = mt.simulate(theta, beta, t_eval, method="rk4", dt=0.07)
    rng = np.random.default_rng(5)
    before = rng.bit_generator.state
    out = st.integrate_sde(usa_circle_field(n, beta), np.mod(theta, 2 * np.pi), t_eval, dt=0.07, diffusion=0.0,
                           rng=rng, on_circle=True)
    assert np.array_equal(out.y, ref.states)
    assert np.array_equal(out.t, ref.t)
    assert (out.n_steps, out.nfev) == (ref.n_steps, ref.nfev)
    assert rng.bit_generator.state == before  # no random number drawn


@pytest.mark.parametrize("d, model", [(3, "sa"), (3, "usa"), (5, "usa")])
def test_zero_diffusion_is_simulate_rk4_bit_for_bit_on_the_sphere(d, model):
    n, beta = 200, 2.0
    X = unit_rows(n, d, 1)
    t_eval = [0.0, 0.3, 1.0]
    ref = mt.simulate(X, beta, t_eval, model=model, method="rk4", dt=0.07)
    out = st.integrate_sde(sphere_model_field(n, d, beta, model == "sa"), X, t_eval, dt=0.07, diffusion=0.0, rng=3,
                           on_circle=False)
    assert np.array_equal(out.y, ref.states)
    assert (out.n_steps, out.nfev) == (ref.n_steps, ref.nfev)


@settings(max_examples=30, deadline=None)
@given(
    beta=hst.floats(0.0, 3.0),
    dt=hst.floats(0.01, 0.5),
    gaps=hst.lists(hst.floats(0.0, 1.0), min_size=1, max_size=4),
    circle=hst.booleans(),
)
def test_zero_diffusion_is_bit_for_bit_for_any_grid(beta, dt, gaps, circle):
    t_eval = np.cumsum(gaps) + np.arange(len(gaps)) * 1e-3  # strictly increasing, t_eval[0] may be 0
    n = 40
    y0 = np.random.default_rng(8).uniform(0, 2 * np.pi, n) if circle else unit_rows(n, 3, 8)
    field = usa_circle_field(n, beta) if circle else sphere_model_field(n, 3, beta, False)
    ref = mt.simulate(y0, beta, t_eval, method="rk4", dt=dt)
    out = st.integrate_sde(field, np.mod(y0, 2 * np.pi) if circle else y0, t_eval, dt=dt, diffusion=0.0, rng=0,
                           on_circle=circle)
    assert np.array_equal(out.y, ref.states) and out.n_steps == ref.n_steps


@settings(max_examples=50, deadline=None)
@given(d=hst.integers(2, 6), log_dtau=hst.floats(-12.0, 1.5), seed=hst.integers(0, 2**32 - 1))
def test_sphere_noise_step_stays_on_the_sphere(d, log_dtau, seed):
    X = unit_rows(64, d, seed % 1000)
    Y = st.sphere_noise(X, 1.0, 10.0**log_dtau, np.random.default_rng(seed))
    assert np.max(np.abs(np.linalg.norm(Y, axis=1) - 1.0)) < 4e-16 * math.sqrt(d) * 4
    if 10.0**log_dtau < 1e-3:  # a small step moves a token by about sqrt(2(d-1)Dτ)
        assert np.max(np.linalg.norm(Y - X, axis=1)) < 10 * math.sqrt(2 * (d - 1) * 10.0**log_dtau)


# ----------------------------------------------------------------------------- seeds


@pytest.mark.parametrize("on_circle", [True, False])
def test_same_seed_same_path_and_different_seeds_differ(on_circle):
    n, beta = 100, 1.5
    y0 = np.random.default_rng(2).uniform(0, 2 * np.pi, n) if on_circle else unit_rows(n, 3, 2)
    field = usa_circle_field(n, beta) if on_circle else sphere_model_field(n, 3, beta, False)

    def run(rng):
        return st.integrate_sde(field, y0, [0.5, 1.0], dt=0.1, diffusion=0.3, rng=rng, on_circle=on_circle).y

    a, b = run(7), run(7)
    assert np.array_equal(a, b)
    assert np.array_equal(a, run(np.random.default_rng(7)))
    assert not np.allclose(a, run(8))
    assert a.shape == (2,) + y0.shape  # states at t_eval only


@pytest.mark.parametrize("on_circle", [True, False])
def test_a_batch_axis_of_one_system_draws_the_same_stream(on_circle):
    """States (1, n) or (1, n, d), the shape simulate_batch passes, give the single-system path bit for bit."""
    n, beta = 80, 1.0
    y0 = np.random.default_rng(4).uniform(0, 2 * np.pi, n) if on_circle else unit_rows(n, 3, 4)
    field = usa_circle_field(n, beta) if on_circle else sphere_model_field(n, 3, beta, False)
    one = st.integrate_sde(field, y0, [0.3, 0.6], dt=0.1, diffusion=0.4, rng=9, on_circle=on_circle).y
    batch = st.integrate_sde(lambda t, Y: field(t, Y[0])[None], y0[None], [0.3, 0.6], dt=0.1, diffusion=0.4, rng=9,
                             on_circle=on_circle).y
    assert np.array_equal(batch[:, 0], one)


# ----------------------------------------------------------------------------- free tokens


@pytest.mark.parametrize("d", [2, 3, 5])
def test_free_token_correlation_decays_like_exp_minus_D_d_minus_1_t(d):
    """E<x(t), x(0)> = e^{-D(d-1)t} (d = 2: angles, E cos(θ_t - θ_0) = e^{-Dt}); the bias of the scheme is added."""
    n, D, dt = 40_000, 0.7, 0.05
    t_eval = np.array([0.25, 0.5, 1.0])
    if d == 2:
        y0 = np.random.default_rng(11).uniform(0, 2 * np.pi, n)
        y = st.integrate_sde(free, y0, t_eval, dt=dt, diffusion=D, rng=12, on_circle=True).y
        corr = np.cos(y - y0)
    else:
        y0 = unit_rows(n, d, 11)
        y = st.integrate_sde(free, y0, t_eval, dt=dt, diffusion=D, rng=12, on_circle=False).y
        assert np.max(np.abs(np.linalg.norm(y, axis=-1) - 1.0)) < 1e-14
        corr = np.einsum("tnd,nd->tn", y, y0)
    for k, t in enumerate(t_eval):
        exact = math.exp(-D * (d - 1) * t)
        bias = 0.0 if d == 2 else scheme_free_correlation(D, t, round(t / dt), d) - exact
        assert abs(bias) < 1e-4
        check_mean(corr[k], exact, bias)


@pytest.mark.parametrize("d", [3, 5])
def test_free_token_at_a_coarse_step_follows_the_law_of_the_scheme(d):
    """At h = Dt = 1 the sample mean matches the scheme's (E cos R)^2, which is 10+ standard errors from e^{-(d-1)}."""
    n = 200_000
    y0 = unit_rows(n, d, 21)
    y = st.integrate_sde(free, y0, [1.0], dt=1.0, diffusion=1.0, rng=22, on_circle=False).y[0]
    corr = np.einsum("nd,nd->n", y, y0)
    scheme = scheme_free_correlation(1.0, 1.0, 1, d)
    _, se = check_mean(corr, scheme)
    assert abs(scheme - math.exp(-(d - 1))) > 8 * se  # the check can tell the scheme from the exact law


@pytest.mark.parametrize("d", [3, 5])
def test_geodesic_noise_step_has_weak_order_two(d):
    """Weak error of E<x(t), x(0)> (the scheme's law by quadrature) against h: log-log slope 2."""
    D, t = 1.0, 1.0
    hs, errors = [], []
    for m in (2, 4, 8, 16, 32):
        hs.append(t / m)
        errors.append(abs(scheme_free_correlation(D, t, m, d) - math.exp(-(d - 1) * D * t)))
    slope = np.polyfit(np.log(hs), np.log(errors), 1)[0]
    assert 1.95 < slope < 2.1, slope


@pytest.mark.parametrize("d", [2, 3, 5])
def test_free_tokens_become_uniform(d):
    """From one point, at (d-1)Dt = 12: KS test of the angle (uniform) or of u = <x, e_1>.

    Under the uniform law on S^{d-1}, u has the density ∝ (1-u²)^{(d-3)/2}: (u + 1)/2 ~ Beta((d-1)/2, (d-1)/2).
    """
    n, D = 5000, 1.0
    t = 12.0 / ((d - 1) * D)
    if d == 2:
        y = st.integrate_sde(free, np.zeros(n), [t], dt=0.1, diffusion=D, rng=31, on_circle=True).y[0]
        p = stats.kstest(y / (2 * np.pi), "uniform").pvalue
    else:
        y0 = np.zeros((n, d))
        y0[:, 0] = 1.0
        y = st.integrate_sde(free, y0, [t], dt=0.1, diffusion=D, rng=31, on_circle=False).y[0]
        a = (d - 1) / 2.0  # u = 2b - 1 with b ~ Beta(a, a)
        p = stats.kstest((y[:, 1] + 1) / 2, stats.beta(a, a).cdf).pvalue
        harmonic = mt.harmonic_power(y, 2)  # degree-2 power ~ dim H_2 / n at the uniform law
        assert harmonic < 10 * mt.harmonic_dimension(2, d) / n
    assert p > 1e-3, p


# ----------------------------------------------------------------------------- drift and noise


# The Gibbs tests run to t = 8 with h = 0.1. On the circle the scheme's own mean there (computed without sampling,
# below) is 3.6e-4 from the Gibbs value (2.3e-4 of memory of the start, -5.9e-4 of splitting bias), an eighth of one
# standard error (2.8e-3); it is added to the tolerance. The sphere has the same D, a and h.


def test_gibbs_law_of_a_gradient_drift_on_the_circle():
    """dθ = -a sin θ dt + √(2D) dW: the stationary law ∝ e^{κ cos θ}, κ = a/D, so E cos θ = I_1(κ)/I_0(κ)."""
    n, a, D = 20_000, 1.0, 0.5
    y = st.integrate_sde(lambda _t, th: -a * np.sin(th), np.zeros(n), [8.0], dt=0.1, diffusion=D, rng=41,
                         on_circle=True).y[0]
    kappa = a / D
    gibbs = special.iv(1, kappa) / special.iv(0, kappa)
    check_mean(np.cos(y), gibbs, bias=_drift_circle_scheme(a, D, 8.0, 0.0, 80) - gibbs)


def test_gibbs_law_of_a_gradient_drift_on_the_sphere():
    """dx = a P_x e_1 dt + √(2D) dB on S²: the law ∝ e^{κ<x, e_1>}, so E<x, e_1> = coth κ - 1/κ."""
    n, a, D = 20_000, 1.0, 0.5
    e1 = np.array([1.0, 0.0, 0.0])
    y0 = np.tile([0.0, 0.0, 1.0], (n, 1))
    y = st.integrate_sde(lambda _t, X: a * (e1 - X[:, :1] * X), y0, [8.0], dt=0.1, diffusion=D, rng=42,
                         on_circle=False).y[0]
    kappa = a / D
    check_mean(y[:, 0], 1.0 / math.tanh(kappa) - 1.0 / kappa)


def _drift_circle_reference(a, D, t, theta0, K=60):
    """E cos θ_t for dθ = -a sin θ dt + √(2D) dW from θ_0: the backward equation on Fourier modes |k| <= K, by expm."""
    ks = np.arange(-K, K + 1)
    A = np.diag(-D * ks**2.0) + np.diag(a * ks[1:] / 2.0, 1) + np.diag(-a * ks[:-1] / 2.0, -1)
    c = np.zeros(2 * K + 1)
    c[K - 1] = c[K + 1] = 0.5
    return float(np.real(np.sum((expm(t * A) @ c) * np.exp(1j * ks * theta0))))


def _drift_circle_scheme(a, D, t, theta0, m, M=256):
    """E cos θ_m of the scheme, without sampling: the noise halves are the Fourier multipliers e^{-k²Dh/2} (exact on
    the circle), the drift composes with the module's own RK4 step, evaluated on a grid by trigonometric interpolation."""
    h = t / m
    grid = 2 * np.pi * np.arange(M) / M
    k = np.fft.fftfreq(M, 1.0 / M)
    phi = st.integrate_sde(lambda _t, th: -a * np.sin(th), grid, [h], dt=h, diffusion=0.0, on_circle=True).y[0]
    at_phi = np.exp(1j * np.outer(phi, k)) / M
    half = np.exp(-k**2 * D * h / 2)
    u = np.cos(grid)
    for _ in range(m):
        u = np.real(np.fft.ifft(half * np.fft.fft(u)))
        u = np.real(at_phi @ np.fft.fft(u))
        u = np.real(np.fft.ifft(half * np.fft.fft(u)))
    return float(np.real(np.sum(np.fft.fft(u) * np.exp(1j * k * theta0)) / M))


def test_strang_splitting_has_weak_order_two_with_a_drift():
    a, D, t, theta0 = 1.0, 0.5, 2.0, 2.0
    exact = _drift_circle_reference(a, D, t, theta0)
    hs, errors = [], []
    for m in (4, 8, 16, 32, 64):
        hs.append(t / m)
        errors.append(abs(_drift_circle_scheme(a, D, t, theta0, m) - exact))
    slope = np.polyfit(np.log(hs), np.log(errors), 1)[0]
    assert 1.9 < slope < 2.1, slope
    # the sampled paths follow that law at h = 0.5, where it is 8+ standard errors from the exact value
    n = 200_000
    y = st.integrate_sde(lambda _t, th: -a * np.sin(th), np.full(n, theta0), [t], dt=0.5, diffusion=D, rng=51,
                         on_circle=True).y[0]
    scheme = _drift_circle_scheme(a, D, t, theta0, 4)
    _, se = check_mean(np.cos(y), scheme)
    assert abs(scheme - exact) > 8 * se


def test_rotation_invariance_in_law():
    """Start at Q e_2 with drift a P_x Q e_1: Q^T x(t) has the law of the run from e_2 with drift a P_x e_1."""
    n, a, D, t = 20_000, 1.0, 0.5, 0.8
    Q = np.linalg.qr(np.random.default_rng(61).standard_normal((3, 3)))[0]
    e1, e2 = np.eye(3)[0], np.eye(3)[1]

    def run(R, seed):
        p = R @ e1
        y0 = np.tile(R @ e2, (n, 1))
        return st.integrate_sde(lambda _t, X: a * (p - (X @ p)[:, None] * X), y0, [t], dt=0.1, diffusion=D,
                                rng=seed, on_circle=False).y[0]

    base, turned = run(np.eye(3), 62), run(Q, 63) @ Q
    for j in range(3):
        diff = base[:, j].mean() - turned[:, j].mean()
        se = math.sqrt((base[:, j].var() + turned[:, j].var()) / n)
        assert abs(diff) <= Z * se
        assert stats.ks_2samp(base[:, j], turned[:, j]).pvalue > 1e-3


# ----------------------------------------------------------------------------- USA below and above D_c


def _mode_power(beta, D, seeds, t_eval, n=10_000):
    """N |ĉ_1(t)|² over seeds, USA on the circle from iid uniform angles (the noise level N|ĉ_1|² ≈ 1)."""
    field = usa_circle_field(n, beta)
    out = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        theta = rng.uniform(0.0, 2 * np.pi, n)
        y = st.integrate_sde(field, theta, t_eval, dt=0.2, diffusion=D, rng=rng, on_circle=True).y
        out.append(n * np.abs(np.mean(np.exp(1j * y), axis=1)) ** 2)
    return np.array(out)


def _linear_power(rate, D, t):
    """E N|ĉ_1(t)|² in the linear theory: dĉ = γĉ dt + dM, E|dM|² = (2D/N) dt, E N|ĉ_1(0)|² = 1."""
    return np.exp(2 * rate * t) * (1 + D / rate) - D / rate


def test_usa_first_mode_grows_at_the_noisy_rate_below_critical_noise():
    """D = 0.4 D_c: N|ĉ_1|² (mean over 10 seeds) fitted to the linear law; rate within 10% and 4 bootstrap SEs."""
    beta = 1.0
    D = 0.4 * mt.critical_diffusion(beta)
    rate = mt.growth_rate(1, beta, 2, diffusion=D)
    t_eval = np.arange(0.4, 6.01, 0.4)
    power = _mode_power(beta, D, range(10), t_eval)

    def fit(p):
        loss = lambda g: np.sum((np.log(p.mean(axis=0)) - np.log(_linear_power(g, D, t_eval))) ** 2)  # noqa: E731
        return minimize_scalar(loss, bounds=(0.01, 2.0), method="bounded").x

    fitted = fit(power)
    boot = np.std([fit(power[np.random.default_rng(b).integers(0, 10, 10)]) for b in range(100)])
    assert abs(fitted - rate) <= 0.1 * rate, (fitted, rate)
    assert abs(fitted - rate) <= Z * boot, (fitted, rate, boot)
    assert power[:, -1].mean() > 50.0  # far above the noise level


def test_usa_uniform_state_stays_at_the_noise_level_above_critical_noise():
    """D = 2 D_c: N|ĉ_1|² settles at the linear-theory level D/(D - λ_1) = 2 (mean over seeds of time averages)."""
    beta = 1.0
    lam1 = mt.critical_diffusion(beta)
    D = 2.0 * lam1
    t_eval = np.arange(0.5, 6.01, 0.5)
    power = _mode_power(beta, D, range(10), t_eval)
    late = power[:, t_eval >= 2.0].mean(axis=1)
    check_mean(late, D / (D - lam1))
    assert power.max() < 20.0


def test_usa_uniform_state_on_the_sphere_stays_at_the_noise_level_above_critical_noise():
    """S², D = 2 D_c: the degree-1 power settles at (dim H_1 / N) D/(D - λ_1) (linear theory; 12 seeds, 4 SEs)."""
    n, d, beta = 1000, 3, 1.0
    lam1 = mt.critical_diffusion(beta, d)
    D = 2.0 * lam1
    field = sphere_model_field(n, d, beta, False)
    t_eval = np.arange(0.5, 4.01, 0.5)
    late = []
    for seed in range(12):
        rng = np.random.default_rng(seed)
        y = st.integrate_sde(field, unit_rows(n, d, 1000 + seed), t_eval, dt=0.2, diffusion=D, rng=rng,
                             on_circle=False).y
        power = np.array([mt.harmonic_power(s, 1) for s in y]) * n / mt.harmonic_dimension(1, d)
        late.append(power[t_eval >= 1.5].mean())
    check_mean(np.array(late), D / (D - lam1))


# ----------------------------------------------------------------------------- bad input


def test_bad_input_is_refused_before_any_work():
    y0 = np.zeros(4)
    calls = []

    def field(_t, y):
        calls.append(1)
        return np.zeros_like(y)

    def run(**kw):
        args = dict(dt=0.1, diffusion=0.5, rng=0, on_circle=True)
        args.update(kw)
        return st.integrate_sde(field, y0, [1.0], **args)

    for bad in (-0.1, math.nan, math.inf):
        with pytest.raises(ValueError, match="diffusion"):
            run(diffusion=bad)
    for bad in ("0.5", True, None):
        with pytest.raises(TypeError, match="diffusion"):
            run(diffusion=bad)
    for bad in (0.0, -1.0, math.inf):
        with pytest.raises(ValueError, match="dt"):
            run(dt=bad)
    with pytest.raises(ValueError, match="t_eval"):
        st.integrate_sde(field, y0, [1.0, 0.5], dt=0.1, diffusion=0.5, rng=0, on_circle=True)
    with pytest.raises(ValueError, match="t_eval"):
        st.integrate_sde(field, y0, [1.0, 1.0], dt=0.1, diffusion=0.5, rng=0, on_circle=True)
    with pytest.raises(ValueError, match="t_eval"):
        st.integrate_sde(field, y0, [0.5], dt=0.1, diffusion=0.5, rng=0, on_circle=True, t0=1.0)
    with pytest.raises(TypeError, match="rng"):
        run(rng="seed")
    with pytest.raises(ValueError, match="rng"):
        run(rng=-1)
    with pytest.raises(TypeError, match="on_circle"):
        run(on_circle=1)
    with pytest.raises(TypeError, match="field"):
        st.integrate_sde(None, y0, [1.0], dt=0.1, diffusion=0.5, rng=0, on_circle=True)
    rng = np.random.default_rng(1)
    before = rng.bit_generator.state
    with pytest.raises(ValueError, match="max_steps"):
        run(rng=rng, max_steps=9)  # 10 steps needed
    assert rng.bit_generator.state == before
    assert not calls
    assert run(max_steps=10).n_steps == 10


def test_non_finite_drift_at_the_start_is_an_error():
    with pytest.raises(ValueError, match="not finite"):
        st.integrate_sde(lambda _t, y: np.full_like(y, np.nan), np.zeros(3), [1.0], dt=0.5, diffusion=0.1, rng=0,
                         on_circle=True)


# --- mt.simulate / mt.simulate_batch with diffusion (the public wiring of the stepper)


def test_simulate_noise_zero_is_deterministic_bit_for_bit():
    theta = np.random.default_rng(0).uniform(0, 2 * np.pi, 200)
    a = mt.simulate(theta, 2.0, [0.5, 1.0])
    b = mt.simulate(theta, 2.0, [0.5, 1.0], diffusion=0.0, rng=3)
    assert np.array_equal(a.states, b.states) and b.diffusion == 0.0


def test_simulate_noise_follows_the_seed_and_checks_its_options():
    theta = np.random.default_rng(0).uniform(0, 2 * np.pi, 200)
    r1 = mt.simulate(theta, 1.0, [0.5, 1.0], dt=0.05, diffusion=0.3, rng=7)
    r2 = mt.simulate(theta, 1.0, [0.5, 1.0], dt=0.05, diffusion=0.3, rng=np.random.default_rng(7))
    r3 = mt.simulate(theta, 1.0, [0.5, 1.0], dt=0.05, diffusion=0.3, rng=8)
    assert np.array_equal(r1.states, r2.states) and not np.array_equal(r1.states, r3.states)
    assert r1.diffusion == 0.3 and r1.nfev == 4 * r1.n_steps and r1.status == 0
    with pytest.raises(ValueError, match="method='rk4'"):
        mt.simulate(theta, 1.0, [1.0], method="dopri", diffusion=0.3)
    with pytest.raises(ValueError, match="diffusion"):
        mt.simulate(theta, 1.0, [1.0], diffusion=-1.0)
    with pytest.raises(ValueError, match="events"):
        mt.simulate(theta, 1.0, [1.0], diffusion=0.3, events=lambda t, y: 1.0)


def test_simulate_batch_noise_one_system_equals_simulate():
    X = mt.uniform_sphere(50, 3, rng=2)
    one = mt.simulate(X, 2.0, [0.2, 0.4], dt=0.02, diffusion=0.2, rng=4, field_method="direct")
    batch = mt.simulate_batch(X[None], 2.0, [0.2, 0.4], dt=0.02, diffusion=0.2, rng=4)
    np.testing.assert_allclose(batch.states[:, 0], one.states, rtol=0, atol=1e-12)
    assert batch.system(0).diffusion == 0.2
    np.testing.assert_allclose(np.linalg.norm(batch.states, axis=-1), 1.0, atol=1e-14)
