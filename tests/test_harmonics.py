"""Tests for mtlib.harmonics: Fourier coefficients of measures and grid densities, harmonic power and components."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import integrate, special

import mtlib as mt

def test_harmonic_dimension():
    assert list(mt.harmonic_dimension(np.arange(5), 2)) == [1, 2, 2, 2, 2]
    assert list(mt.harmonic_dimension(np.arange(5), 3)) == [1, 3, 5, 7, 9]
    for d in (4, 7):
        for k in range(1, 6):
            formula = (2 * k + d - 2) * math.factorial(k + d - 3) // (math.factorial(k) * math.factorial(d - 2))
            assert mt.harmonic_dimension(k, d) == formula


def test_fourier_and_predicted_positions():
    rng = np.random.default_rng(1)
    theta = rng.uniform(0, 2 * np.pi, 500)
    c = mt.fourier_coefficients(theta, np.array([-2, 0, 3]))
    np.testing.assert_allclose(c, [np.mean(np.exp(2j * theta)), 1.0, np.mean(np.exp(-3j * theta))], rtol=1e-13)
    # a density ∝ 1 + cos(3(θ - φ)) sampled exactly: the prediction is φ + 2πj/3
    phi = 0.4
    grid = np.linspace(0, 2 * np.pi, 3000, endpoint=False)
    w = 1 + 0.5 * np.cos(3 * (grid - phi))
    pos = mt.predicted_cluster_positions(grid, 3, weights=w / w.sum())
    np.testing.assert_allclose(pos, phi + 2 * np.pi * np.arange(3) / 3, atol=1e-12)
    with pytest.raises(ValueError, match="vanishes"):
        mt.predicted_cluster_positions(grid, 3)


def test_harmonic_power_uniform_sample_and_equal_spacing():
    rng = np.random.default_rng(2)
    n, reps = 400, 30
    for d in (2, 3, 5):
        for k in (1, 2, 3):
            vals = []
            for _ in range(reps):
                X = rng.standard_normal((n, d))
                vals.append(mt.harmonic_power(X / np.linalg.norm(X, axis=1, keepdims=True), k))
            expected = mt.harmonic_dimension(k, d) / n
            assert abs(np.mean(vals) / expected - 1) < 4 * math.sqrt(2 / (reps * mt.harmonic_dimension(k, d))) + 0.05
    # k equally spaced points on a great circle: dim H_k (1/k²) Σ_{i,j} R_k(cos(2π(i-j)/k))
    for d in (2, 3, 4):
        for k in (2, 3, 5):
            ang = 2 * np.pi * np.arange(k) / k
            X = np.zeros((k, d))
            X[:, 0], X[:, 1] = np.cos(ang), np.sin(ang)
            a = (d - 3) / 2
            R = special.eval_jacobi(k, a, a, np.cos(ang[:, None] - ang[None, :])) / special.binom(k + a, k)
            exact = mt.harmonic_dimension(k, d) * R.sum() / k**2
            assert mt.harmonic_power(X, k) == pytest.approx(exact, rel=1e-12)
            if d == 2:
                assert exact == pytest.approx(2.0)


@pytest.mark.parametrize("d", [2, 3])
def test_harmonic_power_fast_path_matches_direct(d):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((1500, d))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    w = rng.uniform(0.5, 1.5, 1500)
    w /= w.sum()
    for k in range(0, 7):
        fast = mt.harmonic_power(X, k, weights=w, method="harmonics")
        direct = mt.harmonic_power(X, k, weights=w, method="direct")
        assert fast == pytest.approx(direct, rel=1e-10, abs=1e-15)
    if d == 2:
        theta = np.arctan2(X[:, 1], X[:, 0])
        assert mt.harmonic_power(theta, 4) == pytest.approx(2 * abs(mt.fourier_coefficients(theta, 4)) ** 2)


def test_fourier_coefficients_match_direct_sums_for_any_modes():
    rng = np.random.default_rng(5)
    theta = rng.uniform(-50, 50, 3000)  # any branch of the angles
    w = rng.random(theta.size)
    w /= w.sum()
    for k in (np.array([[1, 2, -3], [0, 8, -8]]), np.arange(-12, 13), np.array([4000, -7])):
        direct = np.array([np.dot(w, np.exp(-1j * m * theta)) for m in k.ravel()]).reshape(k.shape)
        assert np.max(np.abs(mt.fourier_coefficients(theta, k, weights=w) - direct)) < 1e-13


def test_fourier_coefficients_of_stacked_angles():
    rng = np.random.default_rng(6)
    theta = rng.uniform(-10, 10, (3, 4, 500))  # e.g. (seeds, times, tokens)
    w = rng.random(500)
    w /= w.sum()
    for k in (np.arange(1, 11), np.array([[2, -5], [0, 300]]), np.array([700])):
        c = mt.fourier_coefficients(theta, k, weights=w)
        assert c.shape == theta.shape[:-1] + k.shape
        direct = np.einsum("n,...nk->...k", w, np.exp(-1j * theta[..., None] * k.ravel())).reshape(c.shape)
        assert np.max(np.abs(c - direct)) < 1e-13
        for i in range(3):  # each row exactly as on its own
            np.testing.assert_array_equal(c[i, 2], mt.fourier_coefficients(theta[i, 2], k, weights=w))
    assert mt.fourier_coefficients(theta, 3).shape == (3, 4)
    # rotating every angle by φ multiplies ĉ_k by e^{-ikφ}
    np.testing.assert_allclose(mt.fourier_coefficients(theta + 0.3, np.arange(1, 5)),
                               mt.fourier_coefficients(theta, np.arange(1, 5)) * np.exp(-0.3j * np.arange(1, 5)),
                               atol=1e-13)
    with pytest.raises(ValueError, match="last axis"):
        mt.fourier_coefficients(0.5, 1)
    with pytest.raises(ValueError, match="weights"):
        mt.fourier_coefficients(theta, 1, weights=np.ones(4) / 4)


def test_bad_input():
    with pytest.raises(ValueError, match="k must be >= 1"):
        mt.predicted_cluster_positions(np.zeros(3), 0)
    with pytest.raises(ValueError, match="unit norm"):
        mt.harmonic_power(np.ones((4, 3)), 2)
    with pytest.raises(ValueError, match="k must be >= 0"):
        mt.harmonic_power(np.zeros(4), -1)
    with pytest.raises(ValueError, match="k must be >= 0"):
        mt.harmonic_dimension(-1, 3)
    with pytest.raises(ValueError, match="method"):
        mt.harmonic_power(np.zeros(4), 1, method="fft")
    with pytest.raises(ValueError, match="M // 2"):
        mt.density_fourier_coefficients(np.ones(16), 9)
    with pytest.raises(TypeError, match="k must be an integer"):
        mt.density_fourier_coefficients(np.ones(16), 1.5)
    with pytest.raises(ValueError, match="at least 2 grid points"):
        mt.density_fourier_coefficients(np.ones((4, 1)), 0)
    with pytest.raises(TypeError, match="rho must be real"):
        mt.density_fourier_coefficients(np.ones(16) + 0j, 1)
    with pytest.raises(ValueError, match="rho must contain only finite"):
        mt.density_fourier_coefficients(np.full(16, np.nan), 1)
    with pytest.raises(ValueError, match="k must hold distinct modes >= 1"):
        mt.density_from_fourier_coefficients([0.1, 0.1], [1, 1], 32)
    with pytest.raises(ValueError, match="k must hold distinct modes >= 1"):
        mt.density_from_fourier_coefficients([0.1], [0], 32)
    with pytest.raises(ValueError, match="k must have the shape of c"):
        mt.density_from_fourier_coefficients([0.1, 0.2], [1], 32)
    with pytest.raises(TypeError, match="c must be a 1-D array"):
        mt.density_from_fourier_coefficients(["a"], [1], 32)
    with pytest.raises(ValueError, match="M must be >= 2"):
        mt.density_from_fourier_coefficients([0.1], [1], 1)
    X = mt.uniform_sphere(10, 3, rng=0)
    with pytest.raises(ValueError, match="K must be >= 1"):
        mt.harmonic_components(X, 0, X)
    with pytest.raises(ValueError, match="points must have d = 3"):
        mt.harmonic_components(X, 2, mt.uniform_sphere(5, 4, rng=0))
    with pytest.raises(ValueError, match="rows of points must have unit norm"):
        mt.harmonic_components(X, 2, 2 * X)
    with pytest.raises(ValueError, match="weights must sum to 1"):
        mt.harmonic_components(X, 2, X, weights=np.ones(10))


def von_mises(grid, kappa, phi):
    return np.exp(kappa * np.cos(grid - phi)) / (2 * np.pi * special.i0(kappa))


@pytest.mark.parametrize("M", [64, 257, 1024])
def test_density_fourier_coefficients_match_quadrature_of_a_smooth_density(M):
    kappa, phi = 2.5, 0.7
    grid = mt.pde_grid(M) if M >= 8 else None
    rho = von_mises(grid, kappa, phi)
    k = np.arange(-6, 7)
    exact = special.iv(np.abs(k), kappa) / special.i0(kappa) * np.exp(-1j * k * phi)  # ∫ρ e^{-ikθ}dθ
    c = mt.density_fourier_coefficients(rho, k)
    np.testing.assert_allclose(c, exact, rtol=0, atol=1e-14)
    for m in (1, 3):  # adaptive quadrature of the real and imaginary parts
        re = integrate.quad(lambda t: von_mises(t, kappa, phi) * np.cos(m * t), 0, 2 * np.pi, epsabs=1e-14)[0]
        im = integrate.quad(lambda t: -von_mises(t, kappa, phi) * np.sin(m * t), 0, 2 * np.pi, epsabs=1e-14)[0]
        assert abs(mt.density_fourier_coefficients(rho, m) - (re + 1j * im)) < 1e-13
    assert isinstance(mt.density_fourier_coefficients(rho, 2), complex)
    assert mt.density_fourier_coefficients(rho, 0) == pytest.approx(1.0, abs=1e-14)  # the mass
    # the chapters' expression, bit for bit
    assert np.array_equal(mt.density_fourier_coefficients(rho, np.arange(1, 7)), np.fft.rfft(rho)[1:7] * (2 * np.pi) / M)


def test_density_fourier_coefficients_batches_shifts_and_weighted_points():
    rng = np.random.default_rng(4)
    M = 128
    rho = 1 + 0.3 * rng.standard_normal((3, 5, M))
    rho /= rho.sum(axis=-1, keepdims=True) * 2 * np.pi / M
    k = np.array([[1, -2], [5, 64]])
    c = mt.density_fourier_coefficients(rho, k)
    assert c.shape == (3, 5, 2, 2)
    for i in range(3):
        for j in range(5):
            np.testing.assert_array_equal(c[i, j], mt.density_fourier_coefficients(rho[i, j], k))
    # the trapezoid rule is the empirical measure of the grid points weighted by ρ 2π/M
    grid = mt.pde_grid(M)
    np.testing.assert_allclose(c[1, 2], mt.fourier_coefficients(grid, k, weights=rho[1, 2] * 2 * np.pi / M), atol=1e-14)
    # a shift by one cell multiplies c_k by e^{-ik 2π/M}; c_{-k} = conj(c_k)
    np.testing.assert_allclose(mt.density_fourier_coefficients(np.roll(rho[0, 0], 1), np.arange(1, 9)),
                               mt.density_fourier_coefficients(rho[0, 0], np.arange(1, 9)) * np.exp(-2j * np.pi * np.arange(1, 9) / M),
                               atol=1e-14)
    np.testing.assert_array_equal(mt.density_fourier_coefficients(rho[0, 0], -3), np.conj(mt.density_fourier_coefficients(rho[0, 0], 3)))


def test_density_from_fourier_coefficients_round_trip():
    rng = np.random.default_rng(6)
    M, modes = 1024, np.arange(1, 7)
    coef = 1e-3 * (rng.standard_normal(modes.size) + 1j * rng.standard_normal(modes.size)) / np.sqrt(2)
    rho = mt.density_from_fourier_coefficients(coef, modes, M)
    # chapter 4's expression, bit for bit
    theta = mt.pde_grid(M)
    np.testing.assert_array_equal(rho, (1.0 + 2.0 * np.real(np.exp(1j * np.outer(theta, modes)) @ coef)) / (2 * np.pi))
    np.testing.assert_allclose(mt.density_fourier_coefficients(rho, modes), coef, atol=1e-16)
    np.testing.assert_allclose(mt.density_fourier_coefficients(rho, np.arange(7, 40)), 0, atol=1e-16)
    assert rho.sum() * 2 * np.pi / M == pytest.approx(1.0, abs=1e-14)
    # sparse modes (multiples of 3) and real coefficients
    rho3 = mt.density_from_fourier_coefficients(np.array([0.1, -0.05]), [3, 9], 96)
    np.testing.assert_allclose(mt.density_fourier_coefficients(rho3, [1, 2, 3, 6, 9]), [0, 0, 0.1, 0, -0.05], atol=1e-15)


def degree_components_ch6(X, K, points):
    """Chapter 6's (P_k μ)(x) on S² by the Legendre recurrence (the reference)."""
    t = np.clip(points @ X.T, -1.0, 1.0)
    P_prev, P = np.ones_like(t), t
    out = [3.0 * P.mean(axis=1)]
    for n in range(1, K):
        P_prev, P = P, ((2 * n + 1) * t * P - n * P_prev) / (n + 1)
        out.append((2 * n + 3) * P.mean(axis=1))
    return np.array(out)


def test_harmonic_components_on_s2_match_chapter_and_spherical_harmonics():
    X = mt.uniform_sphere(700, 3, rng=2)
    points = mt.uniform_sphere(1500, 3, rng=3)
    comp = mt.harmonic_components(X, 6, points)
    np.testing.assert_array_equal(comp, degree_components_ch6(X, 6, points))
    # addition theorem with scipy's spherical harmonics: (P_k μ)(x) = 4π Σ_m Y_km(x) conj(Σ_i Y_km(x_i))/N
    def angles(Y):
        return np.arccos(np.clip(Y[:, 2], -1, 1)), np.arctan2(Y[:, 1], Y[:, 0])
    (px, ax), (pp, ap) = angles(X), angles(points[:50])
    for k in (1, 2, 5):
        total = np.zeros(50)
        for m in range(-k, k + 1):
            s = special.sph_harm_y(k, m, px, ax).mean()
            total += 4 * np.pi * np.real(special.sph_harm_y(k, m, pp, ap) * np.conj(s))
        np.testing.assert_allclose(comp[k - 1, :50], total, atol=1e-12)


@pytest.mark.parametrize("d", [2, 3, 5])
def test_harmonic_components_weights_rotation_and_power(d):
    rng = np.random.default_rng(d)
    X = mt.uniform_sphere(300, d, rng=rng)
    w = rng.uniform(0.5, 1.5, 300)
    w /= w.sum()
    comp = mt.harmonic_components(X, 5, X, weights=w)
    # ∫ P_k μ dμ = ||P_k μ||² (harmonic_power, another route through the addition theorem)
    for k in range(1, 6):
        assert w @ comp[k - 1] == pytest.approx(mt.harmonic_power(X, k, weights=w), rel=1e-11)
    # a common rotation of the measure and the points changes nothing
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    points = mt.uniform_sphere(40, d, rng=rng)
    np.testing.assert_allclose(mt.harmonic_components(X @ Q.T, 5, points @ Q.T, weights=w),
                               mt.harmonic_components(X, 5, points, weights=w), atol=1e-11)
    # reference: dim H_k Σ_i w_i C_k^ν(t)/C_k^ν(1) with scipy's Gegenbauer (Chebyshev on the circle)
    t = np.clip(points @ X.T, -1, 1)
    for k in range(1, 6):
        if d == 2:
            R = np.cos(k * np.arccos(t))
        else:
            nu = (d - 2) / 2
            R = special.eval_gegenbauer(k, nu, t) / special.eval_gegenbauer(k, nu, 1.0)
        np.testing.assert_allclose(mt.harmonic_components(X, 5, points, weights=w)[k - 1],
                                   mt.harmonic_dimension(k, d) * R @ w, atol=1e-11)


def test_harmonic_components_in_blocks(monkeypatch):
    X = mt.uniform_sphere(50, 4, rng=7)
    points = mt.uniform_sphere(333, 4, rng=8)
    whole = mt.harmonic_components(X, 4, points)
    monkeypatch.setattr(mt.harmonics, "_GRAM_ENTRIES", 50 * 7)  # blocks of 7 points
    np.testing.assert_allclose(mt.harmonic_components(X, 4, points), whole, rtol=0, atol=1e-14)


@settings(max_examples=60, deadline=None)
@given(
    modes=st.lists(st.integers(1, 40), min_size=1, max_size=8, unique=True),
    parts=hnp.arrays(np.float64, (2, 8), elements=st.floats(-0.05, 0.05)),
    M=st.integers(82, 300),
    shift=st.integers(0, 300),
)
def test_density_round_trip_and_shift_properties(modes, parts, M, shift):
    k = np.array(modes)
    c = (parts[0] + 1j * parts[1])[: k.size]
    rho = mt.density_from_fourier_coefficients(c, k, M)
    np.testing.assert_allclose(mt.density_fourier_coefficients(rho, k), c, atol=1e-15)
    assert mt.density_fourier_coefficients(rho, 0) == pytest.approx(1.0, abs=1e-13)
    others = np.setdiff1d(np.arange(1, M // 2 + 1), k)
    assert np.max(np.abs(mt.density_fourier_coefficients(rho, others)), initial=0.0) < 1e-15
    # a shift by whole cells is a phase, and the moduli do not change
    c_shift = mt.density_fourier_coefficients(np.roll(rho, shift), k)
    np.testing.assert_allclose(c_shift, c * np.exp(-2j * np.pi * k * shift / M), atol=1e-15)


def test_random_fourier_coefficients_level_order_and_density():
    eps = 6e-4
    c = mt.random_fourier_coefficients((4000, 5), eps, rng=4)
    assert c.shape == (4000, 5) and c.dtype == np.complex128
    # E|c|² = ε², real and imaginary parts independent with variance ε²/2
    assert np.mean(np.abs(c) ** 2) == pytest.approx(eps**2, rel=0.05)
    assert np.var(c.real) == pytest.approx(eps**2 / 2, rel=0.05)
    assert np.var(c.imag) == pytest.approx(eps**2 / 2, rel=0.05)
    assert abs(np.corrcoef(c.real.ravel(), c.imag.ravel())[0, 1]) < 0.03
    # the draw: all real parts first, then all imaginary parts
    g = np.random.default_rng(4)
    xi, eta = g.standard_normal((4000, 5)), g.standard_normal((4000, 5))
    np.testing.assert_allclose(c, eps * (xi + 1j * eta) / np.sqrt(2), rtol=1e-15)
    assert mt.random_fourier_coefficients(3, 1.0, rng=0).shape == (3,)
    np.testing.assert_array_equal(mt.random_fourier_coefficients(3, 1.0, rng=0),
                                  mt.random_fourier_coefficients(3, 1.0, rng=np.random.default_rng(0)))
    assert np.all(mt.random_fourier_coefficients(4, 0.0, rng=1) == 0)
    # white noise on the multiples of 3 only: the density keeps period 2π/3
    k = np.arange(3, 64, 3)
    rho = mt.density_from_fourier_coefficients(mt.random_fourier_coefficients(k.size, 1e-3, rng=2), k, 192)
    np.testing.assert_allclose(rho, np.roll(rho, 64), atol=1e-15)
    with pytest.raises(ValueError, match="eps must be >= 0"):
        mt.random_fourier_coefficients(3, -1.0)
    with pytest.raises(TypeError, match="shape must be"):
        mt.random_fourier_coefficients(2.5, 1.0)
    with pytest.raises(TypeError, match="rng"):
        mt.random_fourier_coefficients(2, 1.0, rng="seed")


@pytest.mark.parametrize("d, method", [(2, "harmonics"), (3, "harmonics"), (3, "direct"), (5, "direct")])
def test_harmonic_power_of_several_degrees_equals_one_call_per_degree(d, method):
    rng = np.random.default_rng(6)
    X = rng.standard_normal((1300, d))  # more rows than one Gram block
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    w = rng.uniform(0.5, 1.5, 1300)
    w /= w.sum()
    k = np.array([[4, 0, 2], [7, 2, 1]])
    powers = mt.harmonic_power(X, k, weights=w, method=method)
    assert powers.shape == (2, 3)
    G = np.clip(X @ X.T, -1, 1)
    for idx in np.ndindex(k.shape):
        kk = int(k[idx])
        assert powers[idx] == mt.harmonic_power(X, kk, weights=w, method=method), idx
        # the addition theorem with scipy's Gegenbauer (Chebyshev on the circle) polynomials
        if d == 2:
            R = np.cos(kk * np.arccos(G))
        else:
            R = special.eval_gegenbauer(kk, (d - 2) / 2, G) / special.eval_gegenbauer(kk, (d - 2) / 2, 1.0)
        ref = mt.harmonic_dimension(kk, d) * (w @ R @ w)
        assert powers[idx] == pytest.approx(ref, rel=1e-9, abs=1e-14), idx
    assert isinstance(mt.harmonic_power(X, 3, method=method), float)
    assert mt.harmonic_power(X, np.arange(0), method=method).shape == (0,)
    assert mt.harmonic_power(X, [0], method=method)[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="k must be >= 0"):
        mt.harmonic_power(X, [1, -1], method=method)
    with pytest.raises(TypeError, match="k must be an integer"):
        mt.harmonic_power(X, [1.5], method=method)
