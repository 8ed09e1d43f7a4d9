"""Stationary states of the noisy USA dynamics on the circle, their free energy, stability and type (issue 16)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize, special

import mtlib as mt


def _direct_residual(rho, beta, D):
    """max |ρ - e^{(W*ρ)/D}/∫e^{(W*ρ)/D}| / max ρ, W*ρ by direct quadrature of e^{β cos(θ-θ')}/β."""
    M = rho.size
    theta = mt.pde_grid(M)
    W = np.exp(beta * np.cos(theta[:, None] - theta[None, :])) / beta
    phi = W @ rho * (2 * np.pi / M)
    new = np.exp((phi - phi.max()) / D)
    new /= new.sum() * 2 * np.pi / M
    return np.max(np.abs(rho - new)) / rho.max()


def _direct_free_energy(rho, beta, D):
    M = rho.size
    theta = mt.pde_grid(M)
    h = 2 * np.pi / M
    W = np.exp(beta * np.cos(theta[:, None] - theta[None, :])) / beta
    energy = 0.5 * rho @ W @ rho * h * h
    return -energy + D * np.sum(rho * np.log(2 * np.pi * rho)) * h


@pytest.fixture(scope="module")
def branches():
    return {(beta, k): mt.stationary_branch(beta, k) for beta in (1.0, 3.0, 5.0) for k in (1, 2)}


# ----------------------------------------------------------------------------- the fixed point


@pytest.mark.parametrize("beta", [1.0, 3.0, 5.0])
@pytest.mark.parametrize("k", [1, 2])
def test_residual_of_the_fixed_point_by_direct_quadrature(branches, beta, k):
    b = branches[beta, k]
    assert b.order_parameter[-1] >= 0.9 and "r_max" in b.message
    for i in range(0, b.diffusion.size, 3):
        assert _direct_residual(b.density[i], beta, b.diffusion[i]) <= 1e-10
        assert b.residual[i] <= 1e-12
        # 2π/k-periodic, even, a probability density
        rho = b.density[i]
        assert np.sum(rho) * 2 * np.pi / rho.size == pytest.approx(1.0, abs=1e-13)
        assert np.allclose(np.roll(rho, rho.size // k), rho, atol=1e-13 * rho.max())
        assert np.allclose(rho[1:], rho[1:][::-1], atol=1e-13 * rho.max())


@pytest.mark.parametrize("beta", [1.0, 3.0, 5.0])
@pytest.mark.parametrize("k", [1, 2])
def test_branch_starts_at_D_k_and_follows_the_landau_parabola(branches, beta, k):
    b = branches[beta, k]
    lam = special.iv(k, beta) / beta
    assert b.critical_diffusion == pytest.approx(lam, rel=1e-13)
    assert b.diffusion[0] == b.critical_diffusion and b.order_parameter[0] == 0.0
    assert np.allclose(b.density[0], 1 / (2 * np.pi), rtol=1e-14)
    assert b.order_parameter[1] == pytest.approx(0.05, rel=1e-10)  # the first step is at c_k = step
    assert b.landau == mt.landau_coefficient(beta, 2, k)
    # D(r) = D_k + b r² + O(r⁴): a fit in r² on small steps against the closed form
    small = mt.stationary_branch(beta, k, step=0.004, r_max=0.02)
    r, D = small.order_parameter[1:], small.diffusion[1:]
    fit = np.polyfit(r**2, D - lam, 2)
    assert fit[1] == pytest.approx(mt.landau_coefficient(beta, 2, k), rel=1e-5)


def test_landau_closed_form_d2():
    for beta in (0.5, 2.0, 2.4469, 4.0, 9.0):
        for k in (1, 2, 3):
            lk, l2k = special.iv(k, beta) / beta, special.iv(2 * k, beta) / beta
            expect = lk / 2 * (2 * l2k - lk) / (lk - l2k)
            assert mt.landau_coefficient(beta, 2, k) == pytest.approx(expect, rel=1e-11, abs=1e-14)


def _axisymmetric_landau(beta, d, r, L=12, nodes=200):
    """Independent reference on S^{d-1}: zonal ρ ∝ e^ψ, ψ = Σ_l λ_l h_l u_l P_l(t)/D, at u_1 = r.

    λ_l by Funk–Hecke quadrature, averages by Gauss–Jacobi; unknowns D, u_2..u_L (fsolve).
    Returns (D - λ_1)/r².
    """
    a = (d - 3) / 2
    t, w = special.roots_jacobi(nodes, a, a)
    w = w / w.sum()
    P = np.array([special.eval_jacobi(l, a, a, t) / special.binom(l + a, l) for l in range(L + 1)])
    h = np.array([mt.harmonic_dimension(l, d) for l in range(L + 1)], dtype=float)
    lam = np.array([mt.funk_hecke_eigenvalue(lambda s: np.exp(beta * s) / beta, l, d, nodes=nodes)
                    for l in range(L + 1)])

    def equations(x):
        D, u = x[0], np.concatenate([[1.0, r], x[1:]])
        psi = (lam[1:] * h[1:] * u[1:]) @ P[1:] / D
        p = w * np.exp(psi - psi.max())
        p /= p.sum()
        return (P[1:] @ p) - u[1:]

    x0 = np.concatenate([[lam[1]], np.zeros(L - 1)])
    sol = optimize.fsolve(equations, x0, xtol=1e-14, full_output=True)
    assert np.max(np.abs(equations(sol[0]))) < 1e-13
    return (sol[0][0] - lam[1]) / r**2


@pytest.mark.parametrize("d", [3, 4])
@pytest.mark.parametrize("beta", [1.0, 3.0])
def test_landau_coefficient_on_the_sphere_against_an_axisymmetric_solver(d, beta):
    r = 0.01
    b1, b2 = _axisymmetric_landau(beta, d, r), _axisymmetric_landau(beta, d, 2 * r)
    extrapolated = (4 * b1 - b2) / 3  # b(r) = b + c r² + O(r⁴)
    assert extrapolated == pytest.approx(mt.landau_coefficient(beta, d, 1), rel=1e-5)


# ----------------------------------------------------------------------------- free energy


@pytest.mark.parametrize("beta", [1.0, 3.0, 5.0])
def test_free_energy_against_the_double_integral(branches, beta):
    b = branches[beta, 1]
    assert b.uniform_free_energy == pytest.approx(-special.iv(0, beta) / (2 * beta), rel=1e-14)
    assert b.free_energy[0] == pytest.approx(b.uniform_free_energy, rel=1e-15)
    for i in range(0, b.diffusion.size, 4):
        F = _direct_free_energy(b.density[i], beta, b.diffusion[i])
        assert b.free_energy[i] == pytest.approx(F, rel=1e-12, abs=1e-13)
        assert mt.circle_free_energy(b.density[i], beta, b.diffusion[i]) == pytest.approx(F, rel=1e-12, abs=1e-13)


def test_first_order_transition_only_above_tricritical(branches):
    # β = 5 (subcritical): a stable state with F below the uniform one exists for some D > D_1;
    # β = 1 (supercritical): no state at all above D_1, and every non-uniform state beats the uniform one.
    sub, sup = branches[5.0, 1], branches[1.0, 1]
    above = (sub.diffusion > sub.critical_diffusion) & sub.stable
    assert np.any(above & (sub.free_energy < sub.uniform_free_energy))
    assert np.max(sub.diffusion) > 1.1 * sub.critical_diffusion  # the fold
    assert np.all(sup.diffusion[1:] < sup.critical_diffusion)
    assert np.all(sup.free_energy[1:] < sup.uniform_free_energy) and np.all(sup.stable[1:])


# ----------------------------------------------------------------------------- stability


@settings(max_examples=40, deadline=None)
@given(st.floats(0.1, 20.0), st.floats(0.05, 3.0))
def test_uniform_spectrum_is_the_noisy_growth_rates(beta, frac):
    D = frac * mt.critical_diffusion(beta)
    eig = mt.stationary_spectrum(beta, D, [1.0], n_modes=12)
    rates = mt.growth_rate(np.arange(1, 13), beta, 2, "usa", diffusion=D)
    assert np.allclose(eig, np.sort(np.repeat(rates, 2))[::-1], rtol=1e-12, atol=1e-12 * abs(rates[0]))


@pytest.mark.parametrize("beta", [0.5, 2.0, 5.0, 12.0])
def test_stability_of_uniform_flips_at_D1(beta):
    d1 = mt.critical_diffusion(beta)
    assert mt.stationary_spectrum(beta, d1 * (1 + 1e-6), [1.0])[0] < 0
    assert mt.stationary_spectrum(beta, d1 * (1 - 1e-6), [1.0])[0] > 0


def test_stability_along_the_branches(branches):
    # supercritical k = 1: stable; subcritical: unstable below the fold, stable past it;
    # k = 2 states lie below D_1 and are unstable (to mode 1)
    assert np.all(branches[1.0, 1].stable[1:])
    sub = branches[5.0, 1]
    fold = int(np.argmax(sub.diffusion))
    assert not np.any(sub.stable[1 : fold - 1]) and np.all(sub.stable[fold + 1 :])
    for beta in (1.0, 3.0, 5.0):
        assert not np.any(branches[beta, 2].stable)


def test_pde_long_time_state_is_the_stable_state():
    beta, D, M, T = 1.0, 0.28, 96, 30.0
    state = mt.stationary_states(beta, D, M=M)
    assert state.diffusion.size == 1 and state.stable[0]
    rho0 = (1 + 0.5 * np.cos(mt.pde_grid(M))) / (2 * np.pi)
    sol = mt.solve_circle_pde(rho0, beta, [0.0, T / 2, T], method="spectral", diffusion=D, rtol=1e-8, atol=1e-10,
                              tail_tol=1e-5)
    gap = [np.max(np.abs(r - state.density[0])) for r in sol.density]
    assert gap[-1] < 1e-5 * state.density[0].max()
    # it approaches at the leading eigenvalue of the linearised operator
    assert math.log(gap[2] / gap[1]) / (T / 2) == pytest.approx(state.leading_eigenvalue[0], rel=0.02)
    assert mt.circle_free_energy(sol.density[-1], beta, D) == pytest.approx(state.free_energy[0], rel=1e-9)


def test_pde_leaves_the_unstable_state_at_its_leading_eigenvalue():
    beta, D, M = 5.0, 4.9, 128
    states = mt.stationary_states(beta, D, M=M)
    assert states.diffusion.size == 2 and list(states.stable) == [False, True]
    low = states.density[0]
    rho0 = low + 1e-6 * (low - 1 / (2 * np.pi))
    t = np.linspace(0.0, 3.0, 13)
    sol = mt.solve_circle_pde(rho0, beta, t, method="spectral", diffusion=D, rtol=1e-11, atol=1e-16)
    gap = np.array([np.max(np.abs(r - low)) for r in sol.density])
    slope = np.polyfit(t[4:], np.log(gap[4:]), 1)[0]
    assert slope == pytest.approx(states.leading_eigenvalue[0], rel=0.01)


def test_states_at_one_noise_level():
    beta = 5.0
    d1 = mt.critical_diffusion(beta)
    assert mt.stationary_states(beta, 1.05 * d1).diffusion.size == 2  # between D_1 and the fold
    assert mt.stationary_states(beta, 1.2 * d1).diffusion.size == 0  # above the fold
    one = mt.stationary_states(2.0, 0.9 * mt.critical_diffusion(2.0))
    assert one.diffusion.size == 1 and one.stable[0]
    assert mt.stationary_states(2.0, 1.01 * mt.critical_diffusion(2.0)).diffusion.size == 0
    # just below D_1 (before the first continuation point): the small state r ≈ sqrt((D - D_1)/b)
    near = mt.stationary_states(2.0, (1 - 1e-4) * mt.critical_diffusion(2.0))
    expect = math.sqrt(-1e-4 * mt.critical_diffusion(2.0) / mt.landau_coefficient(2.0))
    assert near.diffusion.size == 1 and near.order_parameter[0] == pytest.approx(expect, rel=1e-3)
    for s in (one, mt.stationary_states(beta, 1.05 * d1)):
        for i in range(s.diffusion.size):
            assert _direct_residual(s.density[i], s.beta, s.diffusion[i]) <= 1e-10


# ----------------------------------------------------------------------------- the change of type


def test_tricritical_beta_and_the_published_criterion():
    # Mun–Rosenzweig: I_{d/2+1}(β*)/I_{d/2}(β*) = 1/d; same β in their period-1 convention
    published = {2: 2.4469, 3: 1.8162, 4: 1.5753, 8: 1.2666}
    for d, value in published.items():
        b = mt.tricritical_beta(d)
        assert b == pytest.approx(value, abs=1e-4)
        assert special.iv(d / 2 + 1, b) / special.iv(d / 2, b) == pytest.approx(1 / d, rel=1e-12)
        assert mt.bifurcation_type(b * 0.999, d) == "supercritical"
        assert mt.bifurcation_type(b * 1.001, d) == "subcritical"
    # d = 3: it is the k_max switch 1 -> 2 (γ_1 = γ_2); d = 2: it is not (1.0445)
    assert mt.tricritical_beta(3) == pytest.approx(mt.kmax_switch_points(3, 2)[0], rel=1e-10)
    assert abs(mt.tricritical_beta(2) - mt.kmax_switch_points(2, 2)[0]) > 1.0


def test_branches_change_type_at_tricritical():
    bstar = mt.tricritical_beta(2)
    below = mt.stationary_branch(bstar - 0.1, r_max=0.5)
    above = mt.stationary_branch(bstar + 0.1, r_max=0.5)
    assert np.max(below.diffusion) == below.critical_diffusion
    assert np.max(above.diffusion) > above.critical_diffusion
    for k in (2, 3):
        bk = mt.tricritical_beta(2, k)
        assert special.iv(2 * k, bk) / special.iv(k, bk) == pytest.approx(0.5, rel=1e-12)


# ----------------------------------------------------------------------------- validation


def test_inputs_are_validated():
    with pytest.raises(ValueError, match="beta"):
        mt.stationary_branch(-1.0)
    with pytest.raises(ValueError, match="beta"):
        mt.stationary_branch(800.0)
    with pytest.raises(TypeError, match="k"):
        mt.stationary_branch(2.0, k=1.5)
    with pytest.raises(ValueError, match="r_max"):
        mt.stationary_branch(2.0, r_max=1.0)
    with pytest.raises(ValueError, match="diffusion"):
        mt.stationary_states(2.0, 0.0)
    with pytest.raises(ValueError, match="coefficients"):
        mt.stationary_spectrum(2.0, 0.5, [0.9, 0.1])
    with pytest.raises(ValueError, match="k must be 1"):
        mt.landau_coefficient(2.0, 3, 2)
    with pytest.raises(ValueError, match="diffusion"):
        mt.circle_free_energy(np.full(16, 1 / (2 * np.pi)), 2.0, -1.0)
