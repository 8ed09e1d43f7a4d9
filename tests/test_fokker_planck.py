"""The Fokker–Planck equation on the circle: solve_circle_pde(..., diffusion=D) (issue 16)."""

import numpy as np
import pytest
from scipy import integrate

import mtlib as mt


def _single_mode(M, m, eps=1e-4, phase=0.3):
    theta = mt.pde_grid(M)
    return (1 + eps * np.cos(m * theta + phase)) / (2 * np.pi)


@pytest.mark.parametrize("model", ["usa", "sa"])
@pytest.mark.parametrize("beta,D", [(2.0, 0.5), (2.0, 1.0), (5.0, 3.0), (5.0, 6.0)])
def test_small_modes_change_at_the_noisy_rate(beta, D, model):
    # c_m(t) ∝ e^{m²(λ_m - D) t} (SA: λ_m/I_0): a fit of log|c_m| over a window in the linear
    # regime (single modes of size 1e-4, so the nonlinear terms are 1e-8 relative) agrees to 1e-4.
    for m in (1, 2, 3, 4):
        ref = mt.growth_rate(m, beta, 2, model, diffusion=D)
        T = min(2.0, 10.0 / abs(ref))
        t = np.linspace(0.0, T, 11)
        sol = mt.solve_circle_pde(_single_mode(64, m), beta, t, model=model, method="spectral", diffusion=D,
                                  rtol=1e-10, atol=1e-20)
        slope = np.polyfit(t, np.log(np.abs(sol.fourier_coefficients(m))), 1)[0]
        assert slope == pytest.approx(ref, rel=1e-4)
        assert sol.mass_error < 1e-14
        assert sol.diffusion == D


def test_noise_stabilises_the_uniform_state_above_critical():
    # Above D_c = I_1(β)/β every mode decays; just below, mode 1 grows.
    beta = 3.0
    dc = mt.critical_diffusion(beta)
    t = np.linspace(0.0, 3.0, 7)
    rho0 = (1 + 1e-3 * np.cos(mt.pde_grid(64)) + 1e-3 * np.cos(2 * mt.pde_grid(64))) / (2 * np.pi)
    above = mt.solve_circle_pde(rho0, beta, t, method="spectral", diffusion=1.05 * dc)
    below = mt.solve_circle_pde(rho0, beta, t, method="spectral", diffusion=0.95 * dc)
    c_above, c_below = np.abs(above.fourier_coefficients(1)), np.abs(below.fourier_coefficients(1))
    assert np.all(np.diff(c_above) < 0) and np.all(np.diff(c_below) > 0)


def _reference_rhs(beta, D, M, model):
    """-∂_θ(ρV) + D∂²ρ with V by direct quadrature of K(θ'-θ) = e^{β cos} sin, derivatives by FFT."""
    theta = mt.pde_grid(M)
    phi = theta[None, :] - theta[:, None]
    kern = np.exp(beta * np.cos(phi))
    ik = 1j * np.fft.rfftfreq(M, 1.0 / M)

    def rhs(_t, rho):
        V = (kern * np.sin(phi)) @ rho * (2 * np.pi / M)
        if model == "sa":
            V /= kern @ rho * (2 * np.pi / M)
        return np.fft.irfft(-ik * np.fft.rfft(rho * V) + D * ik**2 * np.fft.rfft(rho), M)

    return rhs


@pytest.mark.parametrize("model", ["usa", "sa"])
def test_nonlinear_run_matches_an_independent_method_of_lines(model):
    beta, D, M = 3.0, 0.8, 96
    theta = mt.pde_grid(M)
    rho0 = (1 + 0.3 * np.cos(theta) + 0.2 * np.sin(2 * theta)) / (2 * np.pi)
    t = np.array([0.0, 0.5, 1.5])
    sol = mt.solve_circle_pde(rho0, beta, t, model=model, method="spectral", diffusion=D, rtol=1e-11, atol=1e-14,
                              tail_tol=1e-3)
    ref = integrate.solve_ivp(_reference_rhs(beta, D, M, model), (0.0, t[-1]), rho0, method="DOP853", t_eval=t,
                              rtol=1e-12, atol=1e-14)
    assert np.max(np.abs(sol.density - ref.y.T)) < 1e-9 * np.max(rho0)
    assert sol.mass_error < 1e-14


def test_free_energy_decreases_along_the_fokker_planck_flow():
    # USA with noise is the gradient flow of F = -E + D∫ρ log(2πρ)
    beta, D, M = 4.0, 1.5, 128
    theta = mt.pde_grid(M)
    rho0 = (1 + 0.5 * np.cos(theta) + 0.3 * np.cos(3 * theta + 1.0)) / (2 * np.pi)
    sol = mt.solve_circle_pde(rho0, beta, np.linspace(0, 2, 21), method="spectral", diffusion=D, tail_tol=1e-3)
    F = np.array([mt.circle_free_energy(np.maximum(r, 0) / (np.maximum(r, 0).sum() * 2 * np.pi / M), beta, D)
                  for r in sol.density])
    assert np.all(np.diff(F) <= 1e-12)
    assert F[-1] < F[0] - 1e-3


def test_zero_diffusion_is_bit_identical():
    M = 128
    rho0 = mt.white_noise_density(M, 0.01, rng=3)
    t = np.linspace(0, 0.3, 4)
    for method in ("spectral", "lagrangian"):
        a = mt.solve_circle_pde(rho0, 5.0, t, method=method)
        b = mt.solve_circle_pde(rho0, 5.0, t, method=method, diffusion=0.0)
        assert np.array_equal(a.density, b.density)
        assert a.n_steps == b.n_steps and b.diffusion == 0.0
    for model in ("usa", "sa"):
        assert np.array_equal(mt.linearized_solution(rho0, 5.0, t, model),
                              mt.linearized_solution(rho0, 5.0, t, model, diffusion=0.0))


def test_linearized_solution_with_diffusion():
    M = 64
    theta = mt.pde_grid(M)
    eps = 1e-3
    rho0 = (1 + eps * np.cos(theta) + eps * np.sin(3 * theta)) / (2 * np.pi)
    beta, D, t = 2.0, 0.6, np.array([0.0, 0.7, 1.4])
    lin = mt.linearized_solution(rho0, beta, t, diffusion=D)
    g1, g3 = mt.growth_rate(1, beta, diffusion=D), mt.growth_rate(3, beta, diffusion=D)
    exact = (1 + eps * np.exp(g1 * t)[:, None] * np.cos(theta) + eps * np.exp(g3 * t)[:, None] * np.sin(3 * theta))
    assert np.max(np.abs(lin - exact / (2 * np.pi))) < 1e-15
    # and the nonlinear solution stays within O(ε²) of it
    sol = mt.solve_circle_pde(rho0, beta, t, method="spectral", diffusion=D, rtol=1e-10, atol=1e-16)
    assert np.max(np.abs(sol.density - lin)) < 10 * eps**2


def test_lagrangian_refuses_diffusion_and_auto_does_not_hand_over():
    M = 64
    rho0 = mt.white_noise_density(M, 0.01, rng=0)
    with pytest.raises(ValueError, match="diffusion"):
        mt.solve_circle_pde(rho0, 5.0, [0.0, 0.1], method="lagrangian", diffusion=0.1)
    # small D at β = 7: the density concentrates and the 64-point grid stops resolving it
    with pytest.raises(mt.UnderResolvedError, match="no Lagrangian hand-over"):
        mt.solve_circle_pde(rho0, 7.0, np.linspace(0, 3.0, 4), method="auto", diffusion=1e-3)
    # the same with diffusion = 0 hands over instead
    sol = mt.solve_circle_pde(rho0, 7.0, np.linspace(0, 3.0, 4), method="auto")
    assert sol.handover_time is not None


@pytest.mark.parametrize("bad,err", [(-0.1, ValueError), (np.nan, ValueError), ("x", TypeError)])
def test_diffusion_is_validated(bad, err):
    rho0 = mt.white_noise_density(64, 0.01, rng=0)
    with pytest.raises(err, match="diffusion"):
        mt.solve_circle_pde(rho0, 2.0, [0.0, 0.1], diffusion=bad)
    with pytest.raises(err, match="diffusion"):
        mt.linearized_solution(rho0, 2.0, [0.0, 0.1], diffusion=bad)
