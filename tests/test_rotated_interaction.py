"""Tests for mtlib.rotated_interaction and the rotated interaction (phi) of the circle PDE.

Weights e^{β cos(θ_i - θ_j - φ)} (A = R_φ, V = I). References independent of the Bessel
formula: scipy quadrature of the linearised operator, a NumPy particle RK4 with direct
sums, a method-of-lines solution of the PDE with the velocity summed on the grid.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, special

import mtlib as mt

TWO_PI = 2 * np.pi


def _quad_2pi(f):
    """∫_{-π}^{π} f for a complex integrand f, real and imaginary parts by adaptive quadrature."""
    opts = dict(limit=400, epsabs=0.0, epsrel=1e-13)
    re = integrate.quad(lambda p: f(p).real, -np.pi, np.pi, **opts)[0]
    im = integrate.quad(lambda p: f(p).imag, -np.pi, np.pi, **opts)[0]
    return re + 1j * im


def quadrature_rate(k, beta, phi, model):
    """λ_k by quadrature of the operator linearised at ρ_0 = 1/2π, all kernels scaled by e^{-|β|}.

    USA: ∂_t c_k = (-ik V_0 - ik K̂(k)/2π) c_k with K(ψ) = e^{β cos(ψ+φ)} sin ψ,
    K̂(k) = ∫K e^{ikψ}, V_0 = ∫K/2π. SA: V = N/D linearised at N_0 = V_0, D_0 = ∫W/2π,
    W(ψ) = e^{β cos(ψ+φ)}: -ik N_0/D_0 - (ik/2π)(K̂/D_0 - N_0 Ŵ(k)/D_0²).
    """
    s = abs(beta)

    def K(p):
        return np.exp(beta * np.cos(p + phi) - s) * np.sin(p) + 0j

    def W(p):
        return np.exp(beta * np.cos(p + phi) - s) + 0j

    n0 = _quad_2pi(K) / TWO_PI
    k_hat = _quad_2pi(lambda p: K(p) * np.exp(1j * k * p))
    if model == "usa":
        return math.exp(s) * (-1j * k * n0 - 1j * k * k_hat / TWO_PI)
    d0 = _quad_2pi(W) / TWO_PI
    w_hat = _quad_2pi(lambda p: W(p) * np.exp(1j * k * p))
    return -1j * k * n0 / d0 - 1j * k / TWO_PI * (k_hat / d0 - n0 * w_hat / d0**2)


def closed_form_unscaled(k, beta, phi, model):
    """The closed form with scipy.special.iv (unscaled, for small β where it does not overflow)."""
    i = lambda n: special.iv(n, beta)  # noqa: E731
    bracket = 0.5 * k * (np.exp(-1j * (k - 1) * phi) * i(k - 1) - np.exp(-1j * (k + 1) * phi) * i(k + 1))
    if model == "usa":
        return 1j * k * i(1) * np.sin(phi) + bracket
    drift = 1j * k * i(1) * np.sin(phi) * (1 - np.exp(-1j * k * phi) * i(k) / i(0))
    return (drift + bracket) / i(0)


# ----------------------------------------------------------------------------- the rate


@pytest.mark.parametrize("model", ["usa", "sa"])
@pytest.mark.parametrize("beta", [0.01, 1.0, 5.0, 20.0, 100.0, 300.0, -3.0])
def test_rate_matches_quadrature(model, beta):
    for phi in (0.3, np.pi / 2, 2.5, -1.1):
        for k in (1, 2, 3, 7):
            lam = mt.mode_rate_circle(k, beta, phi, model)
            ref = quadrature_rate(k, beta, phi, model)
            # quadrature of an O(1) integrand: absolute error ~1e-13 of max|λ| over the terms
            assert abs(lam - ref) <= 1e-11 * abs(ref), (k, phi, lam, ref)


@pytest.mark.parametrize("model", ["usa", "sa"])
@pytest.mark.parametrize("beta", [1e-8, 1e-5, 1e-2])
def test_rate_small_beta_matches_unscaled_closed_form(model, beta):
    for phi in (0.4, 2.0):
        for k in (1, 2, 4):
            lam = mt.mode_rate_circle(k, beta, phi, model)
            ref = closed_form_unscaled(k, beta, phi, model)
            # componentwise: Re and Im differ by orders of magnitude at small β
            assert abs(lam.real - ref.real) <= 1e-13 * abs(ref.real) + 1e-300
            assert abs(lam.imag - ref.imag) <= 1e-13 * abs(ref.imag) + 1e-300


@pytest.mark.parametrize("model", ["usa", "sa"])
def test_phi_zero_is_growth_rate(model):
    k = np.arange(40)
    for beta in (0.0, 1e-8, 0.3, 5.0, 50.0, 300.0, -4.0):
        lam = mt.mode_rate_circle(k, beta, 0.0, model)
        np.testing.assert_array_equal(lam.real, mt.growth_rate(k, beta, 2, model))
        np.testing.assert_array_equal(lam.imag, 0.0)
    assert mt.mode_rate_circle(3, 5.0, model=model) == mt.growth_rate(3, 5.0, 2, model)


@pytest.mark.parametrize("model", ["usa", "sa"])
def test_beta_zero_does_not_depend_on_phi(model):
    lam = mt.mode_rate_circle(np.arange(5), 0.0, 1.3, model)
    np.testing.assert_array_equal(lam, mt.growth_rate(np.arange(5), 0.0, 2, model))


def test_large_beta_finite():
    k = np.arange(0, 400)
    for beta in (300.0, 700.0):
        assert np.all(np.isfinite(mt.mode_rate_circle(k, beta, 0.8, "usa")))
    for beta in (300.0, 1e4, 1e5):
        assert np.all(np.isfinite(mt.mode_rate_circle(k, beta, 0.8, "sa")))
    assert mt.mode_rate_circle(0, 50.0, 1.0) == 0.0


def test_broadcasting_and_types():
    k = np.arange(1, 5)[:, None, None]
    beta = np.array([0.5, 3.0, -2.0])[None, :, None]
    phi = np.array([0.0, 1.0])
    lam = mt.mode_rate_circle(k, beta, phi, "sa")
    assert lam.shape == (4, 3, 2) and lam.dtype == np.complex128
    for idx in np.ndindex(lam.shape):  # NumPy's exp may differ by an ulp between arrays and scalars
        one = mt.mode_rate_circle(int(k[idx[0], 0, 0]), float(beta[0, idx[1], 0]), float(phi[idx[2]]), "sa")
        assert abs(lam[idx] - one) <= 1e-15 * abs(one)
    assert isinstance(mt.mode_rate_circle(2, 3.0, 0.5), complex)
    assert isinstance(mt.kmax_rotated(3.0, 0.5), int)
    assert isinstance(mt.pattern_angular_velocity(2, 3.0, 0.5), float)
    assert mt.kmax_rotated([2.0, 5.0], 0.0).tolist() == [mt.kmax(2.0), mt.kmax(5.0)]
    b, p = np.array([0.0, 3.0, 12.0])[:, None], np.linspace(-4.0, 4.0, 9)[None, :]
    grid = mt.kmax_rotated(b, p, "sa")
    assert grid.shape == (3, 9) and grid.dtype == np.int64
    assert grid.tolist() == [[mt.kmax_rotated(float(x), float(y), "sa") for y in p[0]] for x in b[:, 0]]


@settings(max_examples=80, deadline=None)
@given(k=st.integers(0, 30), beta=st.floats(-60.0, 60.0), phi=st.floats(-10.0, 10.0),
       model=st.sampled_from(["usa", "sa"]))
def test_symmetries(k, beta, phi, model):
    lam = mt.mode_rate_circle(k, beta, phi, model)
    # φ + 2π, φ + π round φ to ~1e-15 absolute: λ moves by |∂λ/∂φ| times that,
    # and |∂λ/∂φ| <~ k |λ_1(β, π/2)|
    scale = abs(lam) + k * abs(mt.mode_rate_circle(1, beta, np.pi / 2, model)) + 1e-300
    tol = 1e-12 * (1 + k) * scale
    # mirror θ -> -θ: λ_k(β, -φ) = conj λ_k(β, φ)
    assert abs(mt.mode_rate_circle(k, beta, -phi, model) - np.conj(lam)) <= tol
    # 2π-periodic
    assert abs(mt.mode_rate_circle(k, beta, phi + TWO_PI, model) - lam) <= tol
    # R_{φ+π} = -R_φ: λ_k(β, φ + π) = λ_k(-β, φ)
    assert abs(mt.mode_rate_circle(k, -beta, phi + np.pi, model) - lam) <= tol


@settings(max_examples=40, deadline=None)
@given(beta=st.floats(0.05, 80.0), model=st.sampled_from(["usa", "sa"]))
def test_phi_pi_is_negative_beta(beta, model):
    k = np.arange(20)
    lam = mt.mode_rate_circle(k, beta, np.pi, model)
    ref = mt.growth_rate(k, -beta, 2, model)
    scale = np.max(np.abs(ref))
    assert np.max(np.abs(lam - ref)) <= 1e-13 * scale
    assert mt.kmax_rotated(beta, np.pi, model) == mt.kmax(-beta, 2, model)


# ----------------------------------------------------------------------------- k_max, ω


@pytest.mark.parametrize("model", ["usa", "sa"])
def test_kmax_rotated_brute_force(model):
    k = np.arange(1, 400)
    for beta in (0.5, 5.0, 10.0, 20.0, 60.0, -7.0):
        assert mt.kmax_rotated(beta, 0.0, model) == mt.kmax(beta, 2, model)
        for phi in (np.pi / 4, np.pi / 2, 3 * np.pi / 4, -2.0, 1e-3):
            growth = mt.mode_rate_circle(k, beta, phi, model).real
            assert mt.kmax_rotated(beta, phi, model) == int(k[np.argmax(growth)]), (beta, phi)


def test_kmax_rotated_examples():
    # the values reported to the chapter (USA); also the φ = π relation to kmax(-β)
    table = {beta: [mt.kmax_rotated(beta, p) for p in (0, np.pi / 4, np.pi / 2, 3 * np.pi / 4)]
             for beta in (5.0, 10.0, 20.0)}
    assert table == {5.0: [3, 2, 1, 1], 10.0: [4, 2, 5, 6], 20.0: [6, 2, 5, 6]}


def test_mode_one_always_grows():
    # USA: Re λ_1 = γ_1 cos²φ + I_1'(|β|) sin²φ > 0; both models, every φ, β ≠ 0
    phi = np.linspace(-np.pi, np.pi, 41)
    for beta in (0.1, 3.0, 40.0):
        lam = mt.mode_rate_circle(1, beta, phi, "usa")
        ref = mt.growth_rate(1, beta) * np.cos(phi) ** 2 + special.ivp(1, beta) * np.sin(phi) ** 2
        np.testing.assert_allclose(lam.real, ref, rtol=1e-13)
    for model in ("usa", "sa"):
        for beta in (-30.0, -1.0, 1e-6, 2.0, 60.0):
            assert np.all(mt.mode_rate_circle(1, beta, phi, model).real > 0)


def ratio_derivative(beta, h):
    """d/dβ (I_1/I_0) by 4-point central differences of the scaled-Bessel ratio (error (h/β)^4)."""
    r = lambda b: special.ive(1, b) / special.ive(0, b)  # noqa: E731
    return (8 * (r(beta + h) - r(beta - h)) - (r(beta + 2 * h) - r(beta - 2 * h))) / (12 * h)


@pytest.mark.parametrize("beta", [5.0, 50.0, 300.0, 3000.0])
def test_sa_mode_one_at_right_angle_is_ratio_derivative(beta):
    # SA, φ = π/2: Re λ_1 = (I_1/I_0)'(β) ≈ 1/(2β²), a difference of O(1) terms in the formula
    ref = ratio_derivative(beta, 1e-3 * beta)
    assert mt.mode_rate_circle(1, beta, np.pi / 2, "sa").real == pytest.approx(ref, rel=1e-7)


@pytest.mark.parametrize("model", ["usa", "sa"])
def test_pattern_angular_velocity(model):
    k = np.arange(1, 8)
    omega = mt.pattern_angular_velocity(k, 4.0, 0.9, model)
    np.testing.assert_array_equal(omega, -mt.mode_rate_circle(k, 4.0, 0.9, model).imag / k)
    assert np.all(mt.pattern_angular_velocity(k, 4.0, 0.0, model) == 0.0)
    # mirror image: the pattern turns the other way
    np.testing.assert_allclose(mt.pattern_angular_velocity(k, 4.0, -0.9, model), -omega, rtol=1e-14)


@pytest.mark.parametrize("model", ["usa", "sa"])
def test_uniform_lattice_drifts_at_minus_i1_sin_phi(model):
    # the sign of the drift in the convention of pattern_angular_velocity: direct sums
    n, beta, phi = 64, 2.5, 0.7
    theta = TWO_PI * np.arange(n) / n
    w = np.exp(beta * np.cos(theta[:, None] - theta[None, :] - phi))
    v = (w * np.sin(theta[None, :] - theta[:, None])).sum(1) / n
    if model == "sa":
        v /= w.sum(1) / n
    drift = -special.iv(1, beta) * np.sin(phi) / (1.0 if model == "usa" else special.iv(0, beta))
    np.testing.assert_allclose(v, drift, rtol=1e-12)
    # high modes (λ_k dominated by the drift term ik I_1 sin φ as I_k -> 0) rotate with it
    assert mt.pattern_angular_velocity(60, beta, phi, model) == pytest.approx(drift, rel=1e-12)


# ----------------------------------------------------------------------------- particles


def particle_rk4(theta, beta, phi, model, dt, steps, k):
    """NumPy RK4 of dθ_i/dt = Σ_j e^{β cos(θ_i-θ_j-φ)} sin(θ_j-θ_i)/n (SA / Σ_j e^{...}); c_k(t)."""

    def field(th):
        diff = th[None, :] - th[:, None]  # θ_j - θ_i
        w = np.exp(beta * (np.cos(diff + phi) - 1.0))  # cos(θ_i - θ_j - φ) = cos(θ_j - θ_i + φ)
        num = (w * np.sin(diff)).mean(1)
        return num / w.mean(1) if model == "sa" else num * math.exp(beta)

    c = [np.mean(np.exp(-1j * k * theta))]
    for _ in range(steps):
        k1 = field(theta)
        k2 = field(theta + 0.5 * dt * k1)
        k3 = field(theta + 0.5 * dt * k2)
        k4 = field(theta + dt * k3)
        theta = theta + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        c.append(np.mean(np.exp(-1j * k * theta)))
    return np.array(c)


def fit_complex_rate(t, c):
    """Least-squares slope of log c(t) (log-modulus and unwrapped phase)."""
    re = np.polyfit(t, np.log(np.abs(c)), 1)[0]
    im = np.polyfit(t, np.unwrap(np.angle(c)), 1)[0]
    return re + 1j * im


@pytest.mark.parametrize("model,beta,phi,k,dt,steps", [
    ("usa", 2.0, np.pi / 3, 2, 0.02, 30),
    ("sa", 4.0, 2 * np.pi / 3, 3, 0.02, 40),
])
def test_rate_matches_particles(model, beta, phi, k, dt, steps):
    # quantile lattice of (1 + ε cos kθ)/2π: no other mode below n, so c_k follows e^{λ_k t}
    # (up to O(ε) nonlinear and O((|λ| dt)^4) RK4 errors, both below 1e-4 here)
    n, eps = 1000, 1e-3
    u = TWO_PI * (np.arange(n) + 0.5) / n
    theta = u.copy()
    for _ in range(8):  # Newton on θ + (ε/k) sin kθ = u
        theta -= (theta + eps / k * np.sin(k * theta) - u) / (1 + eps * np.cos(k * theta))
    c = particle_rk4(theta, beta, phi, model, dt, steps, k)
    lam = mt.mode_rate_circle(k, beta, phi, model)
    fitted = fit_complex_rate(dt * np.arange(steps + 1), c)
    assert abs(fitted - lam) <= 1e-3 * abs(lam), (fitted, lam)
    # the pattern turns at ω = -Im λ_k / k: its peak θ* = -arg c_k / k
    peak = -np.unwrap(np.angle(c)) / k
    omega = np.polyfit(dt * np.arange(steps + 1), peak, 1)[0]
    assert omega == pytest.approx(mt.pattern_angular_velocity(k, beta, phi, model), rel=1e-3)


# ----------------------------------------------------------------------------- the PDE


@pytest.mark.parametrize("model", ["usa", "sa"])
@pytest.mark.parametrize("beta,phi,k", [(3.0, 0.8, 2), (8.0, 2.2, 3), (1.0, -1.3, 1)])
def test_pde_small_mode_rate(model, beta, phi, k):
    M, eps = 96, 1e-7
    rho0 = mt.manifold_density(M, k, eps)
    lam = mt.mode_rate_circle(k, beta, phi, model)
    T = min(2.0, 3.0 / max(abs(lam.real), 1e-3))
    t = np.linspace(0.0, T, 9 + int(abs(lam.imag) * T / 0.5))  # phase steps below 0.5: unwrap is exact
    sol = mt.solve_circle_pde(rho0, beta, t, model=model, method="spectral", phi=phi, rtol=1e-11, atol=1e-20)
    fitted = fit_complex_rate(t, sol.fourier_coefficients(k))
    assert abs(fitted.real - lam.real) <= 1e-4 * abs(lam.real)
    assert abs(fitted.imag - lam.imag) <= 1e-4 * max(abs(lam.imag), abs(lam.real))
    assert sol.phi == phi and set(sol.method) == {"spectral"}


def reference_method_of_lines(rho0, beta, phi, model, t_end):
    """∂_tρ = -∂_θ(ρV), V_j summed directly on the grid (trapezoid), FFT derivative, DOP853."""
    M = rho0.size
    theta = TWO_PI * np.arange(M) / M
    diff = theta[None, :] - theta[:, None]  # θ_l - θ_j
    w = np.exp(beta * np.cos(diff + phi))
    ker = w * np.sin(diff) * (TWO_PI / M)
    m = np.fft.rfftfreq(M, 1.0 / M)

    def rhs(_t, rho):
        V = ker @ rho
        if model == "sa":
            V /= (w * (TWO_PI / M)) @ rho
        return -np.fft.irfft(1j * m * np.fft.rfft(rho * V), M)

    out = integrate.solve_ivp(rhs, (0.0, t_end), rho0, method="DOP853", rtol=1e-12, atol=1e-14)
    return out.y[:, -1]


@pytest.mark.parametrize("model", ["usa", "sa"])
def test_pde_matches_direct_sum_method_of_lines(model):
    M, beta, phi, t_end = 96, 2.0, 0.7, 0.4
    theta = mt.pde_grid(M)
    rho0 = (1 + 0.3 * np.cos(theta) + 0.2 * np.sin(2 * theta - 0.4)) / TWO_PI
    sol = mt.solve_circle_pde(rho0, beta, [0.0, t_end], model=model, method="spectral", phi=phi,
                              rtol=1e-11, atol=1e-14)
    ref = reference_method_of_lines(rho0, beta, phi, model, t_end)
    assert np.max(np.abs(sol.density[-1] - ref)) <= 1e-8 * np.max(ref)
    assert np.max(np.abs(sol.density[-1] - rho0)) > 1e-2 * np.max(ref)  # it did move


@pytest.mark.parametrize("model", ["usa", "sa"])
def test_linearized_solution_phi(model):
    M, beta, phi = 64, 4.0, 1.1
    theta = mt.pde_grid(M)
    eps = 1e-6
    rho0 = (1 + eps * (np.cos(theta) + np.sin(3 * theta) + 0.5 * np.cos(5 * theta + 1))) / TWO_PI
    t = np.array([0.0, 0.3, 0.6])
    lin = mt.linearized_solution(rho0, beta, t, model=model, phi=phi)
    sol = mt.solve_circle_pde(rho0, beta, t, model=model, method="spectral", phi=phi, rtol=1e-11, atol=1e-20)
    scale = np.max(np.abs(lin - 1 / TWO_PI))
    assert np.max(np.abs(lin - sol.density)) <= 1e-4 * scale  # nonlinear remainder O(ε)
    # each mode by its complex rate
    c0 = np.fft.rfft(rho0)
    lam = mt.mode_rate_circle(np.arange(c0.size), beta, phi, model)
    np.testing.assert_allclose(np.fft.rfft(lin[-1]), c0 * np.exp(lam * t[-1]), rtol=1e-12, atol=1e-15)


def test_phi_zero_pde_identical():
    rho0 = mt.white_noise_density(128, 0.01, rng=3)
    t = [0.0, 0.5, 1.0]
    a = mt.solve_circle_pde(rho0, 5.0, t)
    b = mt.solve_circle_pde(rho0, 5.0, t, phi=0.0)
    np.testing.assert_array_equal(a.density, b.density)
    np.testing.assert_array_equal(mt.linearized_solution(rho0, 5.0, t), mt.linearized_solution(rho0, 5.0, t, phi=0))


def _w1(r1, r2):
    """W1 on the circle between two densities on the same grid (CDF difference, median shift)."""
    D = np.cumsum(r1 - r2) * TWO_PI / r1.size
    return float(np.sum(np.abs(D - np.median(D))) * TWO_PI / r1.size)


@pytest.mark.parametrize("model", ["usa", "sa"])
def test_lagrangian_phi_matches_spectral(model):
    # while resolved, particles moved by simulate(..., A=R_φ) follow the spectral solution
    M, beta, phi = 256, 3.0, 0.9
    theta = mt.pde_grid(M)
    rho0 = (1 + 0.3 * np.cos(2 * theta) + 0.1 * np.sin(theta)) / TWO_PI
    t = [0.0, 0.1, 0.2] if model == "usa" else [0.0, 0.3, 0.6]  # resolved on 256 points
    spec = mt.solve_circle_pde(rho0, beta, t, model=model, method="spectral", phi=phi)
    lag = mt.solve_circle_pde(rho0, beta, t, model=model, method="lagrangian", phi=phi)
    moved = _w1(spec.density[-1], rho0)
    assert moved > 0.01
    for i in range(1, len(t)):
        assert _w1(lag.density[i], spec.density[i]) <= 2e-3 * moved
    np.testing.assert_allclose(lag.fourier_coefficients([1, 2, 3]), spec.fourier_coefficients([1, 2, 3]),
                               atol=1e-4)


def test_auto_hands_over_with_phi():
    # clusters form, the grid stops resolving them, the particles go on (with the rotation)
    M, beta, phi = 128, 5.0, 0.6
    assert mt.kmax_rotated(beta, phi) == 2
    rho0 = mt.manifold_density(M, 2, 0.05)
    t = np.linspace(0.0, 0.5, 6)
    sol = mt.solve_circle_pde(rho0, beta, t, method="auto", phi=phi)
    assert sol.handover_time is not None and 0.0 < sol.handover_time < t[-1]
    assert sol.method[-1] == "lagrangian" and sol.phi == phi
    assert sol.mass_error < 1e-12
    # π-periodic data stay π-periodic (odd modes at rounding) and end in 2 antipodal clusters
    c = sol.fourier_coefficients([1, 2, 3])
    assert np.max(np.abs(c[-1, [0, 2]])) < 1e-10 and abs(c[-1, 1]) > 0.9


def test_pde_phi_refusals():
    rho0 = mt.manifold_density(64, 2, 0.1)
    with pytest.raises(ValueError, match="lagrangian"):
        mt.solve_circle_pde(rho0, 3.0, [0.0, 1.0], method="lagrangian", phi=0.5, diffusion=0.1)
    for bad in (np.nan, np.inf):
        with pytest.raises(ValueError, match="phi"):
            mt.solve_circle_pde(rho0, 3.0, [0.0, 1.0], phi=bad)
        with pytest.raises(ValueError, match="phi"):
            mt.linearized_solution(rho0, 3.0, [0.0, 1.0], phi=bad)
    with pytest.raises(TypeError, match="phi"):
        mt.solve_circle_pde(rho0, 3.0, [0.0, 1.0], phi="0.5")


# ----------------------------------------------------------------------------- inputs


@pytest.mark.parametrize("call,exc,match", [
    (lambda: mt.mode_rate_circle(-1, 2.0, 0.1), ValueError, "k"),
    (lambda: mt.mode_rate_circle(1.5, 2.0, 0.1), TypeError, "k"),
    (lambda: mt.mode_rate_circle(True, 2.0, 0.1), TypeError, "k"),
    (lambda: mt.mode_rate_circle(1, np.nan, 0.1), ValueError, "beta"),
    (lambda: mt.mode_rate_circle(1, [1.0, np.inf], 0.1), ValueError, "beta"),
    (lambda: mt.mode_rate_circle(1, 1 + 2j, 0.1), TypeError, "beta"),
    (lambda: mt.mode_rate_circle(1, 701.0, 0.1, "usa"), ValueError, "beta"),
    (lambda: mt.mode_rate_circle(1, 2e5, 0.1, "sa"), ValueError, "beta"),
    (lambda: mt.mode_rate_circle(1, 2.0, np.nan), ValueError, "phi"),
    (lambda: mt.mode_rate_circle(1, 2.0, "x"), TypeError, "phi"),
    (lambda: mt.mode_rate_circle(1, 2.0, True), TypeError, "phi"),
    (lambda: mt.mode_rate_circle(1, 2.0, 0.1, "xx"), ValueError, "model"),
    (lambda: mt.mode_rate_circle([1, 2], 2.0, [0.1, 0.2, 0.3]), ValueError, "broadcast"),
    (lambda: mt.kmax_rotated(np.nan, 0.1), ValueError, "beta"),
    (lambda: mt.kmax_rotated(2.0, np.inf), ValueError, "phi"),
    (lambda: mt.kmax_rotated(800.0, 0.1), ValueError, "beta"),
    (lambda: mt.pattern_angular_velocity(0, 2.0, 0.1), ValueError, "k"),
    (lambda: mt.pattern_angular_velocity([1, 0], 2.0, 0.1), ValueError, "k"),
])
def test_invalid_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
