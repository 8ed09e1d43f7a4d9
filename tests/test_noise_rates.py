"""Linear rates with noise: growth_rate / log_growth_rate / kmax with diffusion, critical_diffusion (issue 16)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

import mtlib as mt

BETAS = [-4.0, -0.7, 0.0, 1e-9, 0.3, 1.0, 2.5, 5.0, 7.0, 20.0, 150.0]
DIMS = [2, 3, 4, 8]


# ----------------------------------------------------------------------------- D = 0 is today's code


@pytest.mark.parametrize("model", ["usa", "sa"])
@pytest.mark.parametrize("d", DIMS)
def test_zero_diffusion_is_bit_identical(d, model):
    k = np.arange(0, 40)
    for beta in BETAS:
        assert np.array_equal(mt.growth_rate(k, beta, d, model), mt.growth_rate(k, beta, d, model, diffusion=0.0))
        assert mt.kmax(beta, d, model) == mt.kmax(beta, d, model, diffusion=0.0)
        if beta >= 0:
            a = mt.log_growth_rate(k, beta, d, model)
            b = mt.log_growth_rate(k, beta, d, model, diffusion=0.0)
            assert np.array_equal(a, b)


# ----------------------------------------------------------------------------- the rates


def _circle_linearised_rate(k, beta, D, model, eps=1e-6, M=256):
    """k-th Fourier rate of -∂(ρV) + D∂²ρ at ρ = (1 + ε cos kθ)/2π, by direct quadrature (central in ε)."""
    theta = 2 * np.pi * np.arange(M) / M
    phi = theta[None, :] - theta[:, None]  # θ' - θ
    kern = np.exp(beta * np.cos(phi))

    def mode(e):  # ∫ R e^{-ikθ} dθ of R = -∂_θ(ρV) + D∂²_θρ
        rho = (1 + e * np.cos(k * theta)) / (2 * np.pi)
        V = (kern * np.sin(phi)) @ rho * (2 * np.pi / M)
        if model == "sa":
            V /= kern @ rho * (2 * np.pi / M)
        m = k
        R_k = -1j * m * np.fft.rfft(rho * V)[k] - D * m**2 * np.fft.rfft(rho)[k]
        return (R_k * 2 * np.pi / M).real

    # c_k = ε/2 for this ρ, so γ = d(∫R e^{-ikθ})/dc_k
    return (mode(eps) - mode(-eps)) / (2 * eps) * 2


@pytest.mark.parametrize("model", ["usa", "sa"])
@pytest.mark.parametrize("beta,D", [(1.0, 0.2), (2.0, 0.5), (5.0, 3.0), (5.0, 6.0), (-2.0, 0.1)])
def test_circle_rates_match_direct_linearisation(beta, D, model):
    # An independent linearisation of the SA/USA Fokker–Planck operator at the uniform state
    # (quadrature of the field, FFT of the flux): k²(λ_k - D), SA with λ_k/I_0(β).
    for k in (1, 2, 3, 4):
        ref = _circle_linearised_rate(k, beta, D, model)
        got = mt.growth_rate(k, beta, 2, model, diffusion=D)
        assert got == pytest.approx(ref, rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("d", [3, 4, 8])
def test_sphere_rates_from_funk_hecke_quadrature(d):
    # k(k+d-2)(λ_k - D), λ_k by Gauss–Jacobi quadrature of e^{βt}/β (no Bessel function).
    for beta in (0.5, 3.0, 9.0):
        z = mt.funk_hecke_eigenvalue(lambda t, b=beta: np.exp(b * t), 0, d)
        for k in (1, 2, 3, 5):
            lam = mt.funk_hecke_eigenvalue(lambda t, b=beta: np.exp(b * t) / b, k, d, nodes=200)
            for D in (0.01, 0.3 * lam, 2.0 * lam):
                kk = k * (k + d - 2)
                assert mt.growth_rate(k, beta, d, "usa", D) == pytest.approx(kk * (lam - D), rel=1e-8, abs=1e-12)
                assert mt.growth_rate(k, beta, d, "sa", D) == pytest.approx(kk * (lam / z - D), rel=1e-8, abs=1e-12)


def test_log_growth_rate_with_diffusion():
    k = np.arange(0, 12)
    for beta in (0.5, 5.0, 40.0):
        for model in ("usa", "sa"):
            D = 0.5 * mt.critical_diffusion(beta, 2, model)
            rate = mt.growth_rate(k, beta, 2, model, diffusion=D)
            log = mt.log_growth_rate(k, beta, 2, model, diffusion=D)
            pos = rate > 0
            assert np.allclose(np.exp(log[pos]), rate[pos], rtol=1e-12)
            assert log[0] == -np.inf
            assert np.all(np.isnan(log[rate < 0]))
    # beyond the USA overflow the logarithm stays finite and continuous in D
    beta, d = 1500.0, 3
    assert math.isinf(mt.growth_rate(1, beta, d))
    lam_log = mt.log_growth_rate(1, beta, d) - math.log(d - 1)
    D = 1e300
    expect = math.log(d - 1) + lam_log + math.log1p(-math.exp(math.log(D) - lam_log))
    assert mt.log_growth_rate(1, beta, d, diffusion=D) == pytest.approx(expect, rel=1e-14)
    # λ_k = D exactly gives -inf, not NaN
    assert mt.log_growth_rate(1, 0.0, 2, diffusion=0.5) == -np.inf


# ----------------------------------------------------------------------------- k_max and D_c


def _brute_kmax(beta, d, model, D, kmax_range=400):
    k = np.arange(1, kmax_range)
    rates = mt.growth_rate(k, beta, d, model, diffusion=D)
    best = int(np.argmax(rates))
    return int(k[best]) if rates[best] > 0 else 0


@pytest.mark.parametrize("model", ["usa", "sa"])
@pytest.mark.parametrize("d", [2, 3, 5])
def test_kmax_with_diffusion_is_the_argmax(d, model):
    for beta in (-3.0, 0.0, 0.8, 3.0, 7.0, 30.0, 120.0):
        dc = mt.critical_diffusion(beta, d, model)
        for frac in (1e-3, 0.05, 0.2, 0.5, 0.9, 0.999, 1.001, 3.0):
            D = frac * dc
            assert mt.kmax(beta, d, model, diffusion=D) == _brute_kmax(beta, d, model, D), (beta, D)


@settings(max_examples=80, deadline=None)
@given(st.floats(0.05, 60.0), st.integers(2, 6), st.floats(0.0, 1.2), st.floats(0.0, 1.2))
def test_noise_selects_fewer_clusters(beta, d, f1, f2):
    # k_max(D) is non-increasing in D, at most k_max(0), and 0 exactly above D_c
    dc = mt.critical_diffusion(beta, d)
    lo, hi = sorted((f1 * dc, f2 * dc))
    k_lo, k_hi = mt.kmax(beta, d, diffusion=lo), mt.kmax(beta, d, diffusion=hi)
    assert k_hi <= k_lo <= mt.kmax(beta, d)
    if hi > dc * (1 + 1e-12):
        assert k_hi == 0
    elif hi < dc * (1 - 1e-12):
        assert k_hi >= 1


@pytest.mark.parametrize("model", ["usa", "sa"])
def test_critical_diffusion_is_lambda_1_over_a_grid(model):
    # D_c = max_k λ_k = λ_1: λ_k strictly decreasing in k for β > 0 (Bessel ratio I_{μ+1}/I_μ < 1)
    k = np.arange(1, 80)
    for d in (2, 3, 4, 6, 10, 32):
        for beta in np.concatenate([np.geomspace(1e-4, 400.0, 25), [0.0]]):
            kk = k * (k + d - 2.0)
            lam = mt.growth_rate(k, beta, d, model) / kk
            dc = mt.critical_diffusion(beta, d, model)
            assert dc == pytest.approx(lam[0], rel=1e-14)
            assert np.argmax(lam) == 0
            if beta > 0:
                pos = lam > 1e-300
                assert np.all(np.diff(lam[pos]) < 0)
            # the uniform state is stable iff D > D_c
            assert mt.kmax(beta, d, model, diffusion=dc * (1 + 1e-9)) == 0
            assert mt.kmax(beta, d, model, diffusion=dc * (1 - 1e-6)) >= 1
            # at D = D_c exactly γ_1(D) is 0, not positive: no mode grows
            assert mt.kmax(beta, d, model, diffusion=dc) == 0, (beta, d, model)
            assert abs(mt.growth_rate(1, beta, d, model, diffusion=dc)) <= 4e-16 * (d - 1) * max(dc, 1e-300)


def test_critical_diffusion_closed_forms_and_negative_beta():
    for beta in (0.1, 1.0, 5.0, 30.0):
        assert mt.critical_diffusion(beta) == pytest.approx(special.iv(1, beta) / beta, rel=1e-13)
        assert mt.critical_diffusion(beta, 2, "sa") == pytest.approx(special.iv(1, beta) / (beta * special.iv(0, beta)),
                                                                     rel=1e-13)
        # β < 0: λ_1 is even in β, even degrees have negative λ, the odd ones decrease
        for d in (2, 3, 5):
            assert mt.critical_diffusion(-beta, d) == pytest.approx(mt.critical_diffusion(beta, d), rel=1e-14)
            lam = mt.growth_rate(np.arange(1, 30), -beta, d) / (np.arange(1, 30) * (np.arange(1, 30) + d - 2.0))
            assert np.all(lam[1::2] < 0) and np.all(np.diff(lam[0::2]) < 0)
    for d in (2, 3, 7):
        assert mt.critical_diffusion(0.0, d) == pytest.approx(1.0 / d, rel=1e-15)


def test_bessel_ratio_bound_used_in_the_proof():
    # I_{μ+1}(x)/I_μ(x) < x/(μ + 1/2 + sqrt(x² + (μ+1/2)²)) < 1 (Amos 1974), x > 0, μ >= 0
    x = np.geomspace(1e-3, 500.0, 400)[:, None]
    mu = np.arange(0, 60, 0.5)[None, :]
    ratio = special.ive(mu + 1, x) / special.ive(mu, x)
    ok = np.isfinite(ratio)
    bound = x / (mu + 0.5 + np.sqrt(x**2 + (mu + 0.5) ** 2))
    assert np.all(ratio[ok] < bound[np.broadcast_to(ok, bound.shape)] * (1 + 1e-12))
    assert np.all(bound < 1)


# ----------------------------------------------------------------------------- validation


@pytest.mark.parametrize("bad,err", [(-1e-3, ValueError), (math.nan, ValueError), (math.inf, ValueError),
                                     ("0.1", TypeError), (True, TypeError)])
def test_diffusion_is_validated(bad, err):
    for call in (lambda: mt.growth_rate(1, 2.0, diffusion=bad), lambda: mt.log_growth_rate(1, 2.0, diffusion=bad),
                 lambda: mt.kmax(2.0, diffusion=bad)):
        with pytest.raises(err, match="diffusion"):
            call()
