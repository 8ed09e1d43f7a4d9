"""The exact S² field by spherical harmonics (issue 18, item 1) against long-double direct sums.

Error model (as in test_reliability_fields): per row i, with scale_i = Σ_j w_j e^{β<x_i,x_j>}
over the tokens j not identical to x_i (divided by the SA denominator for SA),
|v_i - v_i^ref| <= 1e-12 |v_i^ref| + 4 d eps (1 + |β|) scale_i (+ the smallest normal).
"""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import special

import mtlib as mt
from mtlib import _harmonic_eval, _kernels_harmonic

EPS = np.finfo(float).eps
TINY = np.finfo(float).tiny
LD = np.longdouble


def ref_sphere(X, beta, model, w):
    """(v, scale): the field at unit rows X (n, 3) by the direct sum in long double, shifted
    by the largest exponent over the tokens not identical to x_i, projected pair by pair."""
    same = np.all(X[:, None, :] == X[None, :, :], axis=2)
    XL = X.astype(LD)
    G = XL @ XL.T
    E = LD(beta) * G
    s = np.where(~same & (w > 0)[None, :], E, -np.inf).max(axis=1)
    s = np.where(np.isfinite(s), s, 0)
    T = np.where(same, 0, w.astype(LD)[None, :] * np.exp(np.minimum(E - s[:, None], 0)))
    num = np.einsum("ij,ijk->ik", T, XL[None, :, :] - G[:, :, None] * XL[:, None, :])
    scale = T.sum(axis=1)
    if model == "sa":
        with np.errstate(over="ignore"):
            own = (same * w[None, :]).sum(axis=1).astype(LD) * np.exp(LD(beta) - s)
        den = scale + own
        return num / den[:, None], scale / den
    return num * np.exp(s)[:, None], scale * np.exp(s)


def ratios(v, ref, scale, beta):
    """Per-row error over its allowance (<= 1 passes)."""
    err = np.sqrt(np.sum((np.asarray(v, LD) - ref) ** 2, axis=1))
    allowed = 1e-12 * np.sqrt(np.sum(ref**2, axis=1)) + 12 * EPS * (1 + abs(beta)) * scale + TINY
    return np.asarray(err / allowed, float)


def tokens(rng, n, clusters, width):
    """n tokens on S²: uniform (clusters = 0) or in caps of the given angular width."""
    if clusters == 0:
        return mt.uniform_sphere(n, 3, rng)
    sizes = np.full(clusters, n // clusters)
    sizes[: n - sizes.sum()] += 1
    return mt.caps_sphere(mt.uniform_sphere(clusters, 3, rng), sizes, width, rng)


# ---------------------------------------------------------------- the expansion itself


@pytest.mark.parametrize("beta", [1e-3, 0.5, 5.0, 30.0, -7.0])
def test_coefficients_match_scipy(beta):
    """c_l = 4π i_l(β) e^{-|β|} against scipy's spherical_in, and the tail criterion."""
    c, g, L = _harmonic_eval.harmonic_coefficients(beta)
    ls = np.arange(L + 1)
    ref = 4 * np.pi * special.spherical_in(ls, beta) * math.exp(-abs(beta))
    big = np.abs(ref) > 1e-30
    np.testing.assert_allclose(c[big], ref[big], rtol=1e-12)
    np.testing.assert_allclose(g[1:][big[1:]], ref[1:][big[1:]] / beta, rtol=1e-12)
    tail = sum((2 * l + 1) * special.spherical_in(l, abs(beta)) for l in range(L + 1, L + 40))
    assert tail <= 1e-16 * math.exp(abs(beta))


def test_truncation_grows_like_sqrt_beta():
    assert _harmonic_eval.harmonic_truncation(5.0) == 25
    assert _harmonic_eval.harmonic_truncation(-5.0) == 25
    assert _harmonic_eval.harmonic_truncation(0.0) == 1  # e^0 = 1: only the l = 1 gradient is left
    for beta in (100.0, 1000.0, 10000.0):
        assert 8 * math.sqrt(beta) <= _harmonic_eval.harmonic_truncation(beta) <= 11 * math.sqrt(beta)


def test_moments_satisfy_the_addition_theorem():
    """Σ_m Y_lm(x) Y_lm(y) = (2l + 1)/(4π) P_l(<x,y>), l <= 40, poles included."""
    L = 40
    X = np.vstack([mt.uniform_sphere(6, 3, 3), [[0, 0, 1.0], [0, 0, -1.0]]])
    Y = np.empty((X.shape[0], 2, (L + 1) * (L + 2) // 2))
    for i, x in enumerate(X):
        Y[i] = _harmonic_eval.moments(np.ascontiguousarray(x[:, None]), np.ones(1), L)
    deg = _harmonic_eval.pair_degrees(L)
    for i in range(X.shape[0]):
        for j in range(X.shape[0]):
            prod = np.bincount(deg, Y[i, 0] * Y[j, 0] + Y[i, 1] * Y[j, 1], minlength=L + 1)
            ref = (2 * np.arange(L + 1) + 1) / (4 * np.pi) * special.eval_legendre(np.arange(L + 1), X[i] @ X[j])
            np.testing.assert_allclose(prod, ref, rtol=0, atol=1e-13 * (2 * L + 1))


# ---------------------------------------------------------------- the field against long double


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    beta=st.floats(-50.0, 300.0),
    n=st.integers(1, 160),
    clusters=st.sampled_from([0, 1, 3, 12]),
    width=st.sampled_from([1e-4, 0.05, 0.5]),
    weighted=st.booleans(),
    model=st.sampled_from(["usa", "sa"]),
    seed=st.integers(0, 2**31),
)
def test_harmonic_field_matches_long_double(beta, n, clusters, width, weighted, model, seed):
    rng = np.random.default_rng(seed)
    X = tokens(rng, n, clusters, width)
    w = rng.random(n) ** 3 + 1e-3 if weighted else np.ones(n)
    w = w / w.sum()
    v = mt.velocity(X, beta, model, weights=w, method="harmonic")
    ref, scale = ref_sphere(X, beta, model, w)
    assert ratios(v, ref, scale, beta).max() <= 1


@pytest.mark.parametrize("beta", [0.0, 1e-300, -1e-300, 1e-8, 0.3, 5.0, -5.0, 50.0, -50.0, 150.0, 300.0, 700.0])
@pytest.mark.parametrize("model", ["usa", "sa"])
def test_harmonic_field_at_fixed_beta(beta, model):
    rng = np.random.default_rng(7)
    for X in (tokens(rng, 300, 0, 0), tokens(rng, 300, 4, 0.05)):
        w = rng.random(300)
        w /= w.sum()
        ref, scale = ref_sphere(X, beta, model, w)
        v = mt.velocity(X, beta, model, weights=w, method="harmonic")
        assert ratios(v, ref, scale, beta).max() <= 1
        assert np.abs(np.einsum("ij,ij->i", v, X)).max() <= 1e-13 * max(1.0, np.abs(v).max())


def test_beta_zero_is_the_projected_mean():
    """At β = 0 both models give P_{x_i} Σ_j w_j x_j, with no 1/β anywhere."""
    X = mt.uniform_sphere(500, 3, 1)
    mean = X.mean(axis=0)
    ref = mean - (X @ mean)[:, None] * X
    for model in ("usa", "sa"):
        for beta in (0.0, 1e-300, -1e-300):
            np.testing.assert_allclose(mt.velocity(X, beta, model, method="harmonic"), ref, rtol=0, atol=1e-15)


def test_isolated_token_at_large_beta_uses_the_direct_rows():
    """SA at β = 200: a token 60° from a tight cluster feels e^{-100} of it; relative accuracy kept."""
    rng = np.random.default_rng(2)
    cluster = mt.caps_sphere(np.array([[0, 0, 1.0]]), [400], 0.01, rng)
    lone = np.array([[math.sin(math.pi / 3), 0.0, math.cos(math.pi / 3)]])
    X = np.vstack([cluster, lone])
    w = np.full(401, 1 / 401)
    for model in ("usa", "sa"):
        v = mt.velocity(X, 200.0, model, method="harmonic")
        ref, scale = ref_sphere(X, 200.0, model, w)
        assert ratios(v, ref, scale, 200.0).max() <= 1
        assert np.linalg.norm(v[-1]) > 0
        np.testing.assert_allclose(v[-1], np.asarray(ref[-1], float), rtol=1e-12)


def test_rotation_invariance():
    """v(X Rᵀ) = v(X) Rᵀ: the expansion has a pole and an axis, the field has neither."""
    rng = np.random.default_rng(5)
    R = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    for beta, clusters in ((5.0, 0), (40.0, 3), (-8.0, 0)):
        X = tokens(rng, 400, clusters, 0.2)
        for model in ("usa", "sa"):
            v = mt.velocity(X, beta, model, method="harmonic")
            vr = mt.velocity(X @ R.T, beta, model, method="harmonic")
            _, scale = ref_sphere(X, beta, model, np.full(400, 1 / 400))
            err = np.linalg.norm(vr - v @ R.T, axis=1)
            assert np.all(err <= 1e-13 * np.asarray(scale, float))


def test_identical_tokens_are_merged():
    X = np.repeat(mt.uniform_sphere(3, 3, 4), [5, 1, 7], axis=0)
    for model in ("usa", "sa"):
        v = mt.velocity(X, 10.0, model, method="harmonic")
        ref, scale = ref_sphere(X, 10.0, model, np.full(13, 1 / 13))
        assert ratios(v, ref, scale, 10.0).max() <= 1
        same = mt.velocity(np.repeat(X[:1], 9, axis=0), 10.0, model, method="harmonic")
        assert np.all(same == 0)


def test_float32_input_is_renormalised():
    X32 = mt.uniform_sphere(200, 3, 8).astype(np.float32)
    X64 = X32.astype(float)
    X64 /= np.linalg.norm(X64, axis=1, keepdims=True)
    v = mt.velocity(X32, 5.0, method="harmonic")
    assert v.dtype == np.float64
    ref, scale = ref_sphere(X64, 5.0, "usa", np.full(200, 1 / 200))
    assert ratios(v, ref, scale, 5.0).max() <= 1


def test_usa_overflow_raises_like_the_direct_sum():
    X = mt.caps_sphere(np.array([[1.0, 0, 0]]), [300], 1e-3, 0)
    for method in ("direct", "harmonic"):
        with pytest.raises(ValueError, match="overflows float64"):
            mt.velocity(X, 720.0, "usa", method=method)
    v = mt.velocity(X, 720.0, "sa", method="harmonic")
    assert np.all(np.isfinite(v))


def test_auto_matches_direct_to_rounding_at_large_n():
    X = mt.uniform_sphere(3000, 3, 9)
    for model in ("usa", "sa"):
        auto = mt.velocity(X, 5.0, model)
        direct = mt.velocity(X, 5.0, model, method="direct")
        assert _harmonic_eval.resolve_sphere_method("auto", 3000, 3, 5.0) == "harmonic"
        scale = np.abs(direct).max()
        assert np.abs(auto - direct).max() <= 1e-14 * max(scale, 1.0) * math.e**5


# ---------------------------------------------------------------- energy


@pytest.mark.parametrize("beta", [-5.0, -0.5, 0.5, 5.0, 50.0])
def test_harmonic_energy_matches_direct(beta):
    rng = np.random.default_rng(11)
    for X in (tokens(rng, 400, 0, 0), tokens(rng, 400, 3, 0.1)):
        w = rng.random(400)
        w /= w.sum()
        h = mt.energy(X, beta, weights=w, method="harmonic")
        d = mt.energy(X, beta, weights=w, method="direct")
        assert h == pytest.approx(d, rel=1e-12)


def test_harmonic_log_energy_at_large_beta():
    X = tokens(np.random.default_rng(12), 500, 2, 0.01)
    h = mt.energy(X, 600.0, log=True, method="harmonic")
    assert h == pytest.approx(mt.energy(X, 600.0, log=True, method="direct"), rel=1e-13)


# ---------------------------------------------------------------- choice of method, bad input


def test_crossover_choice():
    L = _harmonic_eval.harmonic_truncation(5.0)
    edge = math.ceil(_harmonic_eval.HARMONIC_COST_RATIO * (L + 1) ** 2)
    resolve = _harmonic_eval.resolve_sphere_method
    assert resolve("auto", edge, 3, 5.0) == "harmonic"
    assert resolve("auto", edge - 1, 3, 5.0) == "direct"
    assert resolve("auto", 10**6, 4, 5.0) == "direct"  # harmonics on S² only
    assert resolve("auto", 10**9, 3, 2000.0) == "direct"  # beyond HARMONIC_MAX_BETA
    assert resolve("direct", 10**6, 3, 5.0) == "direct"
    assert resolve("harmonic", 2, 3, 5.0) == "harmonic"


def test_bad_input():
    X = mt.uniform_sphere(20, 4, 0)
    with pytest.raises(ValueError, match="d = 3"):
        mt.velocity(X, 5.0, method="harmonic")
    with pytest.raises(ValueError, match="d = 3"):
        mt.energy(X, 5.0, method="harmonic")
    X3 = mt.uniform_sphere(20, 3, 0)
    with pytest.raises(ValueError, match="method"):
        mt.velocity(X3, 5.0, method="fourier")
    with pytest.raises(TypeError, match="method"):
        mt.velocity(X3, 5.0, method=3)
    with pytest.raises(ValueError, match="10000"):
        mt.velocity(X3, 2e5, "sa", method="harmonic")
    with pytest.raises(ValueError, match="beta"):
        mt.velocity(X3, float("nan"), method="harmonic")


def test_direct_rows_kernel_against_long_double():
    """The fallback kernel alone: shifted sums over j != i, pair by pair."""
    X = tokens(np.random.default_rng(13), 120, 3, 0.3)
    XT = np.ascontiguousarray(X.T)
    w = np.full(120, 1 / 120)
    rows = np.array([0, 7, 119])
    ref, scale = ref_sphere(X, 80.0, "usa", w)
    for shift_all in (False, True):
        num, den, shift = np.empty((3, 3)), np.empty(3), np.empty(3)
        _kernels_harmonic.direct_rows(XT, w, 80.0, rows, shift_all, num, den, shift)
        assert np.all(shift == 80.0) if shift_all else np.all(shift < 80.0)
        v = num.T * np.exp(shift)[:, None]
        assert ratios(v, ref[rows], scale[rows], 80.0).max() <= 1
        np.testing.assert_allclose(den * np.exp(shift), np.asarray(scale[rows], float), rtol=1e-13)
