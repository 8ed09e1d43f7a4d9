"""Tests for mtlib.spectral: growth rates, k_max, switch points, Gegenbauer/Funk–Hecke, rate gap."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

import mtlib as mt

# MATH.md §3, checked values
KMAX_TABLE = {
    1: (1, 1, 1, 1, 1),
    2: (2, 2, 1, 1, 1),
    5: (3, 3, 2, 1, 1),
    7: (4, 3, 3, 2, 1),
    10: (4, 4, 4, 2, 1),
    20: (6, 6, 5, 4, 2),
    50: (10, 10, 9, 7, 5),
}
DIMS = (2, 3, 4, 8, 16)
SWITCH = {2: (1.044, 3.165, 6.211, 10.228, 15.236), 3: (1.816, 4.425, 7.962, 12.48, 17.99)}


def test_growth_rate_checked_values():
    np.testing.assert_allclose(mt.growth_rate(3, 5.0), 18.596070, atol=5e-7)
    np.testing.assert_allclose(mt.growth_rate(np.arange(1, 6), 5.0), [4.867, 14.004, 18.596, 16.346, 10.790], atol=6e-4)
    np.testing.assert_allclose(mt.growth_rate(np.arange(1, 6), 7.0), [22.29, 70.86, 109.51, 116.58, 96.02], atol=6e-3)


def test_growth_rate_circle_is_bessel_formula():
    k = np.arange(0, 12)
    np.testing.assert_allclose(mt.growth_rate(k, 5.0), k**2 * special.iv(k, 5.0) / 5.0, rtol=1e-13, atol=0)


@pytest.mark.parametrize("d", [2, 3, 4, 8])
@pytest.mark.parametrize("beta", [0.5, 1.0, 5.0, 7.0, 20.0])
@pytest.mark.parametrize("model", ["usa", "sa"])
def test_growth_rate_matches_quadrature(d, beta, model):
    k = np.arange(1, 9)
    closed = mt.growth_rate(k, beta, d, model)
    quad = np.array([mt.growth_rate_quadrature(int(kk), beta, d, model) for kk in k])
    np.testing.assert_allclose(closed, quad, rtol=1e-10)


def test_sa_is_usa_over_mean_exponential():
    for d in (2, 3, 5):
        for beta in (0.3, 4.0, 30.0):
            nu = (d - 2) / 2
            z = math.gamma(d / 2) * (2 / beta) ** nu * special.iv(nu, beta)
            np.testing.assert_allclose(mt.growth_rate(np.arange(1, 7), beta, d, "sa"),
                                       mt.growth_rate(np.arange(1, 7), beta, d) / z, rtol=1e-12)


def test_growth_rate_limits_and_signs():
    # β = 0: only k = 1 grows, at (d-1)/d (Kuramoto: 1/2 on the circle); continuous from β > 0
    for d in (2, 3, 8):
        at0 = mt.growth_rate(np.arange(0, 5), 0.0, d)
        np.testing.assert_allclose(at0, [0, (d - 1) / d, 0, 0, 0])
        np.testing.assert_allclose(mt.growth_rate(np.arange(0, 5), 1e-9, d), at0, atol=1e-8)
        assert mt.growth_rate_quadrature(1, 0.0, d) == pytest.approx((d - 1) / d, rel=1e-12)
    # β < 0: γ_k(β) = (-1)^{k+1} γ_k(|β|), confirmed by the independent quadrature
    k = np.arange(1, 7)
    neg = mt.growth_rate(k, -4.0, 3)
    np.testing.assert_allclose(neg, (-1.0) ** (k + 1) * mt.growth_rate(k, 4.0, 3), rtol=1e-14)
    np.testing.assert_allclose(neg, [mt.growth_rate_quadrature(int(kk), -4.0, 3) for kk in k], rtol=1e-10)
    assert mt.kmax(-4.0) % 2 == 1 and mt.kmax(-50.0) % 2 == 1


def test_large_beta_stable():
    # USA overflows as a value past β ≈ 700, never as a log; SA never overflows
    log_g = mt.log_growth_rate(np.arange(1, 60), 1000.0)
    assert np.all(np.isfinite(log_g))
    assert np.isinf(mt.growth_rate(5, 1000.0))
    sa = mt.growth_rate(np.arange(1, 60), 1000.0, model="sa")
    assert np.all(np.isfinite(sa)) and np.all(sa > 0)
    np.testing.assert_allclose(np.log(mt.growth_rate(np.arange(1, 20), 300.0)),
                               mt.log_growth_rate(np.arange(1, 20), 300.0), rtol=1e-13)
    # high degrees: finite, tiny, monotone decay past the peak
    g = mt.growth_rate(np.arange(30, 200), 5.0)
    assert np.all(np.isfinite(g)) and np.all(np.diff(g[g > 0]) < 0)
    assert mt.kmax(1000.0) == int(np.argmax(log_g)) + 1
    assert abs(mt.kmax(1000.0) - math.sqrt(2000)) <= 1.5


def test_kmax_table():
    for beta, row in KMAX_TABLE.items():
        assert tuple(mt.kmax(beta, d) for d in DIMS) == row, beta
        assert tuple(mt.kmax(beta, d, "sa") for d in DIMS) == row
    assert mt.kmax(0.0) == 1 and isinstance(mt.kmax(5.0), int)


@pytest.mark.parametrize("d", [2, 3])
def test_switch_points_bracket_kmax_changes(d):
    points = mt.kmax_switch_points(d, 6)
    np.testing.assert_allclose(points, SWITCH[d], atol=6e-3)
    for k, b in enumerate(points, start=1):
        assert mt.kmax(b - 1e-6, d) == k
        assert mt.kmax(b + 1e-6, d) == k + 1
        np.testing.assert_allclose(mt.growth_rate(k, b, d), mt.growth_rate(k + 1, b, d), rtol=1e-10)
    assert mt.kmax_switch_points(4, 1).shape == (0,)


@pytest.mark.parametrize("d", [2, 3, 5, 8])
def test_gegenbauer_coefficients(d):
    beta, K = 3.0, 8
    b = mt.gegenbauer_coefficients(beta, d, K)
    nu = (d - 2) / 2
    t = np.linspace(-1, 1, 41)
    basis = [special.eval_chebyt(k, t) if d == 2 else special.eval_gegenbauer(k, nu, t) for k in range(60)]
    full = mt.gegenbauer_coefficients(beta, d, 59)
    np.testing.assert_allclose(full @ np.array(basis), np.exp(beta * t), rtol=1e-11)
    # λ_k = b_k C_k(1) / dim H_k, with λ_k from quadrature
    c1 = np.array([1.0 if d == 2 else special.eval_gegenbauer(k, nu, 1.0) for k in range(K + 1)])
    lam = np.array([mt.funk_hecke_eigenvalue(lambda x: np.exp(beta * x), k, d) for k in range(K + 1)])
    np.testing.assert_allclose(b * c1 / mt.harmonic_dimension(np.arange(K + 1), d), lam, rtol=1e-9)
    np.testing.assert_allclose(mt.gegenbauer_coefficients(0.0, d, 3), [1, 0, 0, 0])


def test_bad_input():
    with pytest.raises(ValueError, match="k must be >= 0"):
        mt.growth_rate(-1, 5.0)
    with pytest.raises(ValueError, match="k must be >= 0"):
        mt.growth_rate(np.array([1, -2]), 5.0)
    with pytest.raises(TypeError, match="k must be an integer"):
        mt.growth_rate(1.5, 5.0)
    with pytest.raises(ValueError, match="beta must be finite"):
        mt.growth_rate(1, np.inf)
    with pytest.raises(ValueError, match="beta must be finite"):
        mt.kmax(np.nan)
    with pytest.raises(ValueError, match="d must be >= 2"):
        mt.growth_rate(1, 5.0, d=1)
    with pytest.raises(ValueError, match="d must be >= 2"):
        mt.kmax(5.0, d=0)
    with pytest.raises(ValueError, match="model"):
        mt.growth_rate(1, 5.0, model="softmax")
    with pytest.raises(ValueError, match="beta must be >= 0"):
        mt.log_growth_rate(1, -1.0)
    with pytest.raises(ValueError, match="kmax_limit"):
        mt.kmax_switch_points(2, 0)
    with pytest.raises(TypeError, match="callable"):
        mt.funk_hecke_eigenvalue(3.0, 1, 3)


def continuous_rate_ch2(kappa, beta, d=2):
    """Chapter 2's closed form at real κ with scipy's Bessel function of real order (the reference)."""
    nu = (d - 2) / 2
    return kappa * (kappa + d - 2) * math.gamma(d / 2) * 2**nu * beta ** (-1 - nu) * special.iv(kappa + nu, beta)


def relative_gap_ch2(beta, d):
    """Chapter 2's relative gap of the two largest rates (the reference)."""
    r = np.sort(mt.growth_rate(np.arange(1, int(2 * math.sqrt(2 * beta + d * d)) + 12), beta, d))
    return (r[-1] - r[-2]) / r[-1]


@pytest.mark.parametrize("d", [2, 3, 8])
@pytest.mark.parametrize("beta", [0.3, 5.0, 7.0, 40.0])
def test_growth_rate_continuous_matches_scipy_and_integer_rates(d, beta):
    kappa = np.linspace(0, 9, 401)
    np.testing.assert_allclose(mt.growth_rate_continuous(kappa, beta, d), continuous_rate_ch2(kappa, beta, d), rtol=1e-12, atol=0)
    k = np.arange(0, 15)
    assert np.array_equal(mt.growth_rate_continuous(k.astype(float), beta, d), mt.growth_rate(k, beta, d))
    assert isinstance(mt.growth_rate_continuous(2.5, beta, d), float)
    # SA: the same k-independent factor as at integer degrees
    factor = mt.growth_rate(3, beta, d, "sa") / mt.growth_rate(3, beta, d)
    assert mt.growth_rate_continuous(2.5, beta, d, "sa") == pytest.approx(factor * mt.growth_rate_continuous(2.5, beta, d), rel=1e-12)
    # the curve's maximiser lies within one of k_max
    fine = np.linspace(0.5, 30.0, 6000)
    kappa_star = fine[np.argmax(mt.growth_rate_continuous(fine, beta, d))]
    assert abs(kappa_star - mt.kmax(beta, d)) < 1.0


def test_relative_rate_gap_matches_chapter_and_limits():
    for d in (2, 3, 8):
        for beta in np.linspace(0.2, 50.0, 60):
            assert mt.relative_rate_gap(beta, d) == pytest.approx(relative_gap_ch2(beta, d), rel=1e-10, abs=1e-13)
    assert 0.05 < mt.relative_rate_gap(7.0, 2) < 0.07  # the value chapter 2 prints (0.061)
    for d in (2, 3):  # the two leading rates are equal at the switch points
        for b in mt.kmax_switch_points(d, 6):
            assert mt.relative_rate_gap(b, d) < 1e-9
    assert mt.relative_rate_gap(7.0, 3, "sa") == mt.relative_rate_gap(7.0, 3)
    assert mt.relative_rate_gap(0.0) == 1.0 and mt.relative_rate_gap(1e-6) == pytest.approx(1.0, abs=1e-5)
    # beyond the USA overflow: the SA rates (finite, same ratios) give the reference
    sa = np.sort(mt.growth_rate(np.arange(1, 120), 1000.0, model="sa"))
    assert mt.relative_rate_gap(1000.0) == pytest.approx((sa[-1] - sa[-2]) / sa[-1], rel=1e-9)


def test_bad_input_continuous_rate_and_gap():
    with pytest.raises(ValueError, match="kappa must be >= 0"):
        mt.growth_rate_continuous(np.array([1.0, -0.5]), 5.0)
    with pytest.raises(TypeError, match="kappa"):
        mt.growth_rate_continuous(1j, 5.0)
    with pytest.raises(ValueError, match="beta must be > 0"):
        mt.growth_rate_continuous(1.5, 0.0)
    with pytest.raises(ValueError, match="d must be >= 2"):
        mt.growth_rate_continuous(1.5, 5.0, d=1)
    with pytest.raises(ValueError, match="beta must be >= 0"):
        mt.relative_rate_gap(-1.0)
    with pytest.raises(ValueError, match="model"):
        mt.relative_rate_gap(5.0, model="softmax")


@settings(max_examples=80, deadline=None)
@given(beta=st.floats(0.05, 200.0), d=st.integers(2, 16))
def test_relative_rate_gap_and_continuous_rate_properties(beta, d):
    gap = mt.relative_rate_gap(beta, d)
    assert 0.0 <= gap <= 1.0
    assert gap == pytest.approx(relative_gap_ch2(beta, d), rel=1e-9, abs=1e-12)
    # the top rate is k_max's, and the continuous curve passes through it
    k = mt.kmax(beta, d)
    assert mt.growth_rate_continuous(float(k), beta, d) == mt.growth_rate(k, beta, d)
