"""The fast paths of the field kernels (issue 18): BLAS-tiled and fused sums, the unrolled
circle modes, each against a slow independent reference (long double, NumPy powers).

The sphere references are the exact-at-large-β long-double sums of
tests/test_reliability_fields.py, with the same error model: per row,
|v_i - v_i^ref| <= 1e-12 |v_i^ref| + 4 d eps (1 + |β|) scale_i (+ the smallest normal).
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mtlib as mt
from mtlib import _field_eval, _kernels_blocked, _kernels_circle

EPS = np.finfo(float).eps
TINY = np.finfo(float).tiny
LD = np.longdouble
PATHS = ("fused", "blas")


def ref_sphere(X, w, beta, sa):
    """(v, scale): the SA/USA field at unit rows X (n, d) in long double, per-row shifted by
    the largest exponent over the other tokens, identical tokens out of the numerator."""
    same = np.all(X[:, None, :] == X[None, :, :], axis=2)
    XL = X.astype(LD)
    G = XL @ XL.T
    L = LD(beta) * G
    s = np.where(~same & (w > 0)[None, :], L, -np.inf).max(axis=1)
    s = np.where(np.isfinite(s), s, 0)
    E = np.where(same, 0, w.astype(LD)[None, :] * np.exp(np.minimum(L - s[:, None], 0)))
    num = E @ XL
    v = num - np.sum(num * XL, axis=1)[:, None] * XL
    scale = E.sum(axis=1)
    if sa:
        self_w = (same * w[None, :]).sum(axis=1).astype(LD)
        with np.errstate(over="ignore", invalid="ignore"):
            den = scale + np.where(self_w > 0, self_w * np.exp(LD(beta) - s), 0)
        return v / den[:, None], scale / den
    return v * np.exp(s)[:, None], scale * np.exp(s)


def errors_over_allowance(v, ref, scale, beta, d):
    """Per-row error divided by the allowance of the error model (<= 1 passes)."""
    err = np.sqrt(np.sum((np.asarray(v, LD) - ref) ** 2, axis=1))
    allowed = 1e-12 * np.sqrt(np.sum(ref**2, axis=1)) + 4 * d * EPS * (1 + abs(beta)) * scale + TINY
    return np.asarray(err / allowed, float)


@st.composite
def systems(draw):
    """(X, w): n tokens on S^{d-1}, d in [2, 600], spread or in narrow caps, weights with zeros."""
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    d = draw(st.integers(2, 600))
    n = draw(st.integers(2, 48))
    clusters = draw(st.sampled_from([0, 1, 2, 5]))
    if clusters == 0:
        X = mt.uniform_sphere(n, d, rng)
    else:
        centres = mt.uniform_sphere(clusters, d, rng)
        sizes = np.full(clusters, n // clusters)
        sizes[: n - sizes.sum()] += 1
        X = mt.caps_sphere(centres, sizes, draw(st.sampled_from([1e-6, 1e-3, 0.1])), rng)
    if draw(st.booleans()):
        w = rng.uniform(0, 1, n) * (rng.uniform(0, 1, n) > 0.2)
        w = w / w.sum() if w.sum() > 0 else np.full(n, 1.0 / n)
    else:
        w = np.full(n, 1.0 / n)
    return X, w


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(systems(), st.floats(-50.0, 700.0), st.booleans())
def test_property_both_paths_match_the_long_double_sum(system, beta, sa):
    X, w = system
    ref, scale = ref_sphere(X, w, beta, sa)
    for path in PATHS:
        v = _field_eval.sphere_velocity(X, w, beta, sa, path=path)
        assert errors_over_allowance(v, ref, scale, beta, X.shape[1]).max() <= 1, path


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 300), st.integers(70, 400), st.floats(-20.0, 400.0), st.booleans())
def test_property_forced_paths_agree(seed, d, n, beta, exclude_self):
    """The raw sums of both paths agree to rounding (more rows than one BLAS block too)."""
    X = mt.uniform_sphere(n, d, seed)
    w = np.random.default_rng(seed).dirichlet(np.ones(n))
    XT = np.ascontiguousarray(X.T)
    num_f, den_f, shift_f = _field_eval.pairwise(XT, w, beta, exclude_self, path="fused")
    num_b, den_b, shift_b = _field_eval.pairwise(XT, w, beta, exclude_self, path="blas")
    # the row shifts (|β| > 350) may differ by the rounding of β <x_i, x_j>: compare e^{s} sums
    factor = np.exp(shift_b - shift_f)
    np.testing.assert_allclose(den_b * factor, den_f, rtol=(d + 8) * EPS * (1 + abs(beta)) * 4)
    bound = 4 * (d + 8) * EPS * (1 + abs(beta)) * den_f[:, None]
    assert np.all(np.abs(num_b * factor[:, None] - num_f) <= bound)


@pytest.mark.parametrize("beta", [3.0, -2.0, 400.0])
def test_tiles_and_blocks_cover_every_row(beta, monkeypatch):
    """Several blocks and strips (one shift: the symmetric kernel, |β| <= 350) or blocks of
    rows (row shifts, |β| > 350), the last ones partial: every row as by the fused kernel."""
    n = 3 * _kernels_blocked.MIN_BLOCK_ROWS + 5
    X = mt.caps_sphere(mt.uniform_sphere(3, 40, 7), [40, 30, n - 70], 0.3, 8)
    w = np.random.default_rng(9).dirichlet(np.ones(n))
    monkeypatch.setattr(_kernels_blocked, "TILE", 24)
    monkeypatch.setattr(_kernels_blocked, "STRIP", 40)  # strips that end inside and past a block
    monkeypatch.setattr(_kernels_blocked, "BLOCK_BYTES", 8 * n * _kernels_blocked.MIN_BLOCK_ROWS)
    assert _kernels_blocked.block_rows(n) == _kernels_blocked.MIN_BLOCK_ROWS
    for sa in (False, True):
        v_b = _field_eval.sphere_velocity(X, w, beta, sa, path="blas")
        v_f = _field_eval.sphere_velocity(X, w, beta, sa, path="fused")
        scale = np.abs(v_f).max()
        np.testing.assert_allclose(v_b, v_f, rtol=0, atol=1e-13 * scale)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("beta", [100.0, 400.0, 700.0])
def test_two_tokens_at_right_angles(path, beta):
    """e^{β<x,y>} = e^0 for orthogonal tokens: each moves at 1/2 towards the other (USA and
    SA), the self term e^β excluded exactly, the shift e^0 exact for β > 350."""
    X = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    w = np.array([0.5, 0.5])
    v = _field_eval.sphere_velocity(X, w, beta, False, path=path)
    np.testing.assert_allclose(v, [[0.0, 0.5, 0.0], [0.5, 0.0, 0.0]], rtol=1e-14, atol=0)
    v_sa = _field_eval.sphere_velocity(X, w, beta, True, path=path)
    assert np.all(np.isfinite(v_sa)) and np.all(np.abs(v_sa) <= 1.0)


@pytest.mark.parametrize("path", PATHS)
def test_identical_and_zero_weight_tokens(path):
    """Identical tokens: exact zero field; a token whose neighbours all have weight 0 at
    β = 700: a zero USA field, no NaN."""
    X = np.tile(mt.uniform_sphere(1, 50, 3), (6, 1))
    assert np.all(_field_eval.sphere_velocity(X, np.full(6, 1 / 6), 700.0, False, path=path) == 0.0)
    Y = mt.uniform_sphere(5, 50, 4)
    w = np.array([1.0, 0.0, 0.0, 0.0, 0.0])
    v = _field_eval.sphere_velocity(Y, w, 700.0, True, path=path)
    assert np.all(np.isfinite(v)) and np.all(v[0] == 0.0)


@pytest.mark.parametrize("path", PATHS)
def test_usa_overflow_is_a_clear_error(path):
    """Tokens 0.5 rad apart at β = 1000 (unvalidated): e^{β cos 0.5} overflows float64,
    ValueError names it; at β = 700 the same pair is finite."""
    X = np.zeros((2, 64))
    X[0, 0] = 1.0
    X[1, :2] = np.cos(0.5), np.sin(0.5)
    with pytest.raises(ValueError, match="overflows float64"):
        _field_eval.sphere_velocity(X, np.full(2, 0.5), 1000.0, False, path=path)
    assert np.all(np.isfinite(_field_eval.sphere_velocity(X, np.full(2, 0.5), 700.0, False, path=path)))


def test_selection_rule():
    """"auto" picks BLAS from BLAS_MIN_DIM dimensions (and BLAS_MIN_TOKENS tokens), the
    fused kernel below; both give the field of the forced path."""
    lo, n_lo = _field_eval.BLAS_MIN_DIM, _field_eval.BLAS_MIN_TOKENS
    assert _field_eval.pairwise_path(1000, lo) == "blas"
    assert _field_eval.pairwise_path(1000, lo - 1) == "fused"
    assert _field_eval.pairwise_path(n_lo - 1, 600) == "fused"
    assert _field_eval.pairwise_path(n_lo, 600) == "blas"
    for d in (3, lo):
        X = mt.uniform_sphere(n_lo, d, d)
        w = np.full(n_lo, 1.0 / n_lo)
        auto = _field_eval.sphere_velocity(X, w, 5.0, False)
        forced = _field_eval.sphere_velocity(X, w, 5.0, False, path=_field_eval.pairwise_path(n_lo, d))
        assert np.array_equal(auto, forced)


# ---------------------------------------------------------------- the circle modes


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 3000), st.integers(1, 13))
def test_property_fourier_moments_match_numpy_powers(seed, n, n_modes):
    """Z_m = Σ_j w_j e^{imθ_j} for every remainder of the modes mod 4 and partial chunks."""
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0, 2 * np.pi, n)
    w = rng.dirichlet(np.ones(n))
    Z = np.empty((2, n_modes + 1))
    _kernels_circle.fourier_moments(theta, w, n_modes, Z)
    ref = np.exp(1j * np.outer(np.arange(n_modes + 1), theta)) @ w
    np.testing.assert_allclose(Z[0] + 1j * Z[1], ref, rtol=0, atol=(n_modes + 4) * 8 * EPS)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 700), st.integers(1, 13), st.booleans())
def test_property_fourier_evaluate_matches_direct_trig_sums(seed, n, n_modes, normalise):
    """out_i = Σ_m (c_m cos mθ_i + s_m sin mθ_i) [/ D_i] for every remainder mod 4."""
    rng = np.random.default_rng(seed)
    theta = rng.uniform(0, 2 * np.pi, n)
    cc, sc, dc, ds = rng.uniform(-1, 1, (4, n_modes + 1))
    den0 = 2.0 * (np.abs(dc[1:]).sum() + np.abs(ds[1:]).sum()) + 1.0  # D_i >= den0 / 2
    out = np.empty(n)
    out_den = np.empty(n)
    _kernels_circle.fourier_evaluate(theta, cc, sc, dc, ds, den0, normalise, out, out_den)
    m = np.arange(1, n_modes + 1)
    C, S = np.cos(np.outer(theta, m)), np.sin(np.outer(theta, m))
    v = C @ cc[1:] + S @ sc[1:]
    tol = (n_modes + 4) * 8 * EPS * (np.abs(cc).sum() + np.abs(sc).sum())
    if normalise:
        D = den0 + C @ dc[1:] + S @ ds[1:]
        np.testing.assert_allclose(out_den, D, rtol=0, atol=(n_modes + 4) * 8 * EPS * den0)
        np.testing.assert_allclose(out, v / D, rtol=0, atol=2 * tol / den0)
    else:
        np.testing.assert_allclose(out, v, rtol=0, atol=tol)


@pytest.mark.parametrize("sa", [False, True])
def test_fourier_velocity_matches_numpy_fourier_form(sa):
    """The folded e^{|β|} (USA) and the SA quotient against NumPy powers of e^{iθ}."""
    n, beta = 5000, 5.0
    theta = mt.uniform_circle(n, 8)
    w = np.full(n, 1.0 / n)
    a, b, M = _field_eval.fourier_coefficients(beta)
    Z = np.exp(1j * np.outer(np.arange(M + 1), theta)) @ w
    P = np.exp(1j * np.outer(theta, np.arange(M + 1)))
    v = P[:, 1:].real @ (a[1:] * Z[1:].imag) - P[:, 1:].imag @ (a[1:] * Z[1:].real)
    den = b[0] * Z[0].real + 2 * (P[:, 1:].real @ (b[1:] * Z[1:].real) + P[:, 1:].imag @ (b[1:] * Z[1:].imag))
    ref = v / den if sa else v * np.exp(beta)
    got = _field_eval.fourier_velocity(theta, w, beta, sa)
    np.testing.assert_allclose(got, ref, rtol=0, atol=64 * EPS * np.abs(ref).max())


def test_fourier_usa_overflow_is_a_clear_error():
    """The factor e^{|β|} folded into the coefficients still raises the overflow error."""
    theta = mt.uniform_circle(100, 9)
    with pytest.raises(ValueError, match="overflows float64"):
        _field_eval.fourier_velocity(theta, np.full(100, 0.01), 720.0, False)


def test_rescale_usa_shared_shift_is_the_per_row_product():
    """One scalar factor for equal shifts: the same floats as the per-row product."""
    rng = np.random.default_rng(10)
    v = rng.standard_normal((50, 3))
    for s in (0.0, 5.0, 350.0, 709.5):
        shift = np.full(50, s)
        half = np.exp(0.5 * shift)[:, None]
        with np.errstate(over="ignore"):
            expected = (v * half) * half
        if np.all(np.isfinite(expected)):
            assert np.array_equal(_field_eval.rescale_usa(v, shift, s), expected)
        else:
            with pytest.raises(ValueError):
                _field_eval.rescale_usa(v, shift, s)
