"""Tests for mtlib.fields: every kernel against plain NumPy O(N²) references, invariances,
large β, the energy, the attention layer, and bad input."""

import numpy as np
import pytest

import mtlib as mt
from mtlib import _kernels_circle, _kernels_sphere

BETAS = [0.0, 0.5, 5.0, 20.0]


# ---------------------------------------------------------------- NumPy references


def ref_velocity(X, beta, model, w=None):
    """P_{x_i} Σ_j w_j e^{β<x_i,x_j>} x_j (USA), divided by Σ_j w_j e^{β<x_i,x_j>} (SA)."""
    n = X.shape[0]
    w = np.full(n, 1.0 / n) if w is None else w
    G = beta * (X @ X.T)
    shift = G.max(axis=1, keepdims=True) if model == "sa" else 0.0
    E = w[None, :] * np.exp(G - shift)
    V = E @ X
    if model == "sa":
        V /= E.sum(axis=1, keepdims=True)
    return V - np.sum(V * X, axis=1, keepdims=True) * X


def ref_velocity_circle(theta, beta, model, w=None):
    """Σ_j w_j e^{β cos(θ_j-θ_i)} sin(θ_j-θ_i) (USA), / Σ_j w_j e^{β cos(θ_j-θ_i)} (SA)."""
    n = theta.size
    w = np.full(n, 1.0 / n) if w is None else w
    D = theta[None, :] - theta[:, None]
    G = beta * np.cos(D)
    shift = G.max(axis=1, keepdims=True) if model == "sa" else 0.0
    E = w[None, :] * np.exp(G - shift)
    v = np.sum(E * np.sin(D), axis=1)
    return v / E.sum(axis=1) if model == "sa" else v


def ref_energy(X, beta, w=None):
    n = X.shape[0]
    w = np.full(n, 1.0 / n) if w is None else w
    return w @ np.exp(beta * (X @ X.T)) @ w / (2 * beta)


def rel_err(a, b):
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


def config(kind, n, d, seed):
    """Random (uniform) or clustered (three small caps) tokens."""
    rng = np.random.default_rng(seed)
    if kind == "random":
        return mt.uniform_sphere(n, d, rng)
    centers = mt.uniform_sphere(3, d, rng)
    return mt.caps_sphere(centers, [n // 3, n // 3, n - 2 * (n // 3)], 0.2, rng)


def random_weights(n, seed):
    w = np.random.default_rng(seed).uniform(0.0, 1.0, n)
    w[0] = 0.0
    return w / w.sum()



# ---------------------------------------------------------------- scalar helpers


def test_exp_poly_matches_numpy():
    x = np.concatenate([np.linspace(-708.0, 709.0, 400_001), np.random.default_rng(0).uniform(-2, 2, 10_000)])
    got = np.array([_kernels_sphere.exp_poly(v) for v in x[::97]])
    ref = np.exp(x[::97])
    assert np.max(np.abs(got - ref) / ref) < 1e-14
    out = np.empty((1, 1))
    # vectorised path: den_i = Σ_j w_j e^{x_j} with a single token and shift = -x
    for v in (-700.0, -3.2, 0.0, 5.7, 700.0):
        _kernels_sphere.pairwise_sums(np.array([[1.0], [0.0]]), np.array([1.0]), 0.0, np.array([-v]), False, out, out[0])
        assert abs(out[0, 0] / np.exp(v) - 1) < 1e-14
    assert _kernels_sphere.exp_poly(-708.5) == 0.0 and _kernels_sphere.exp_poly(-1e6) == 0.0


def test_sincos_poly_matches_numpy():
    x = np.concatenate([np.linspace(-1e5, 1e5, 200_001), np.linspace(-7, 7, 10_001)])
    out = np.empty((2, x.size))
    _kernels_circle.cos_sin(x, out)
    assert np.max(np.abs(out[0] - np.cos(x))) < 1e-15
    assert np.max(np.abs(out[1] - np.sin(x))) < 1e-15



# ---------------------------------------------------------------- velocity fields


@pytest.mark.parametrize("d", [2, 3, 7])
@pytest.mark.parametrize("kind", ["random", "clustered"])
@pytest.mark.parametrize("weighted", [False, True])
def test_velocity_matches_reference(d, kind, weighted):
    X = config(kind, 90, d, seed=d)
    w = random_weights(90, d) if weighted else None
    for beta in BETAS:
        for model in ("usa", "sa"):
            v = mt.velocity(X, beta, model, weights=w)
            assert rel_err(v, ref_velocity(X, beta, model, w)) < 1e-12, (beta, model)
            assert np.max(np.abs(np.sum(v * X, axis=1))) < 1e-12 * max(1.0, np.abs(v).max())


@pytest.mark.parametrize("kind", ["random", "clustered"])
@pytest.mark.parametrize("weighted", [False, True])
def test_velocity_circle_matches_reference(kind, weighted):
    rng = np.random.default_rng(1)
    n = 300
    theta = mt.uniform_circle(n, rng) if kind == "random" else mt.caps_circle([0.3, 2.0, 4.5], 100, 0.1, rng)
    w = random_weights(n, 2) if weighted else None
    for beta in BETAS:
        for model in ("usa", "sa"):
            ref = ref_velocity_circle(theta, beta, model, w)
            for method in ("fourier", "direct", "auto"):
                v = mt.velocity_circle(theta, beta, model, method=method, weights=w)
                assert rel_err(v, ref) < 1e-12, (beta, model, method)
            # the circle is S^1: the same field as the sphere kernel, in angles
            V = mt.velocity(mt.angles_to_points(theta), beta, model, weights=w)
            tangential = -np.sin(theta) * V[:, 0] + np.cos(theta) * V[:, 1]
            assert rel_err(v, tangential) < 1e-12


def test_fourier_sa_isolated_token_is_exact():
    """SA rows whose Fourier denominator is tiny (a light, isolated token) are recomputed
    by the direct sum: the error stays at rounding level of the SA scale (|v_i| <= 1)."""
    theta = np.concatenate([mt.caps_circle([0.0], 199, 0.05, 3), [np.pi / 2]])
    w = np.full(200, (1 - 1e-9) / 199)
    w[-1] = 1e-9
    for beta in (20.0, 45.0):
        v = mt.velocity_circle(theta, beta, "sa", method="fourier", weights=w)
        assert np.max(np.abs(v - ref_velocity_circle(theta, beta, "sa", w))) < 1e-13


def test_fourier_cutoff():
    assert 20 <= mt.fourier_cutoff(5.0) <= 40
    assert mt.fourier_cutoff(0.0) == 1
    assert mt.fourier_cutoff(800.0) > mt.fourier_cutoff(50.0) > mt.fourier_cutoff(5.0)


def test_rotation_permutation_shift_invariance():
    rng = np.random.default_rng(4)
    for d in (3, 7):
        X = config("clustered", 60, d, seed=5)
        Q = np.linalg.qr(rng.standard_normal((d, d)))[0]
        perm = rng.permutation(60)
        for model in ("usa", "sa"):
            v = mt.velocity(X, 5.0, model)
            assert rel_err(mt.velocity(X @ Q.T, 5.0, model), v @ Q.T) < 1e-12
            assert rel_err(mt.velocity(X[perm], 5.0, model), v[perm]) < 1e-13
    theta = mt.uniform_circle(500, rng)
    for model in ("usa", "sa"):
        for method in ("fourier", "direct"):
            v = mt.velocity_circle(theta, 5.0, model, method)
            assert rel_err(mt.velocity_circle(theta + 1.234, 5.0, model, method), v) < 1e-12
            assert rel_err(mt.velocity_circle(theta[::-1], 5.0, model, method), v[::-1]) < 1e-13


def test_large_beta():
    """β = 800: SA is stable; USA is exact when it fits in float64 and raises otherwise."""
    X = config("clustered", 60, 3, seed=6)
    v = mt.velocity(X, 800.0, "sa")
    assert np.all(np.isfinite(v)) and rel_err(v, ref_velocity(X, 800.0, "sa")) < 1e-11
    theta = mt.caps_circle([0.0, 2.0], 50, 0.05, 7)
    for method in ("direct", "fourier", "auto"):
        v = mt.velocity_circle(theta, 800.0, "sa", method=method)
        assert rel_err(v, ref_velocity_circle(theta, 800.0, "sa")) < 1e-11
    with pytest.raises(ValueError, match="overflows"):
        mt.velocity(X, 800.0, "usa")
    with pytest.raises(ValueError, match="overflows"):
        mt.velocity_circle(theta, 800.0, "usa")
    # tokens far apart: e^{800 cos(θ_j-θ_i)} ~ e^{-300} is representable
    spread = np.array([0.0, 2.0, 4.5])
    v = mt.velocity_circle(spread, 800.0, "usa", method="direct")
    D = spread[None, :] - spread[:, None]
    ref = np.sum(np.exp(np.where(D != 0, 800 * np.cos(D), -np.inf)) * np.sin(D), axis=1) / 3
    assert rel_err(v, ref) < 1e-12 and np.abs(v).max() > 0


# ---------------------------------------------------------------- energy and attention


def test_energy_matches_reference():
    X = config("clustered", 80, 3, seed=8)
    w = random_weights(80, 9)
    for beta in (0.5, 5.0, 20.0, -3.0):
        assert abs(mt.energy(X, beta) / ref_energy(X, beta) - 1) < 1e-12
        assert abs(mt.energy(X, beta, weights=w) / ref_energy(X, beta, w) - 1) < 1e-12
    theta = mt.uniform_circle(500, 10)
    P = mt.angles_to_points(theta)
    for beta in (0.5, 5.0, 20.0, -3.0):
        assert abs(mt.energy_circle(theta, beta) / ref_energy(P, beta) - 1) < 1e-12
    assert abs(mt.energy(X, 5.0, log=True) - np.log(ref_energy(X, 5.0))) < 1e-12
    # β = 800: only the logarithm fits; log E = log Σ w_i w_j e^{β(<x_i,x_j>-1)} + β - log 2β
    G = 800.0 * (X @ X.T - 1)
    expected = np.log(np.mean(np.exp(G))) + 800.0 - np.log(1600.0)
    assert abs(mt.energy(X, 800.0, log=True) - expected) < 1e-10
    with pytest.raises(ValueError, match="log=True"):
        mt.energy(X, 800.0)
    with pytest.raises(ValueError, match="singular"):
        mt.energy(X, 0.0)
    with pytest.raises(ValueError, match="singular"):
        mt.energy_circle(theta, 0.0)


def test_attention_is_the_softmax_average_and_its_tangent_part_the_velocity():
    rng = np.random.default_rng(3)
    X = mt.uniform_sphere(40, 5, rng=rng)
    w = rng.random(40)
    w /= w.sum()
    for beta in (0.0, 2.5, 30.0):
        E = w[None, :] * np.exp(beta * X @ X.T)
        usa = E @ X
        sa = usa / E.sum(axis=1, keepdims=True)
        A_sa = mt.attention(X, beta, model="sa", weights=w)
        A_usa = mt.attention(X, beta, model="usa", weights=w)
        assert np.allclose(A_sa, sa, rtol=1e-12, atol=1e-14)
        assert np.allclose(A_usa, usa, rtol=1e-12, atol=1e-14)
        for model, A in (("sa", A_sa), ("usa", A_usa)):
            tangent = A - np.einsum("ij,ij->i", A, X)[:, None] * X  # loses digits to the self term
            scale = np.abs(A).max()
            assert np.allclose(mt.velocity(X, beta, model=model, weights=w), tangent, rtol=0, atol=1e-13 * scale)
    with pytest.raises(ValueError, match="overflows"):
        mt.attention(np.eye(3), 800.0, model="usa")
    assert np.all(np.isfinite(mt.attention(np.eye(3), 800.0, model="sa")))
    # the default model is USA, as everywhere in mtlib
    assert np.array_equal(mt.attention(X, 2.5), mt.attention(X, 2.5, model="usa"))


# ---------------------------------------------------------------- bad input


X_OK = np.eye(3)
TH_OK = np.array([0.0, 1.0, 2.0])


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: mt.velocity(np.ones(3), 1.0), ValueError, "X"),
        (lambda: mt.velocity(np.ones((3, 1)), 1.0), ValueError, "X"),
        (lambda: mt.velocity(2 * X_OK, 1.0), ValueError, "normalise"),
        (lambda: mt.velocity(np.array([[np.nan, 0.0], [1, 0]]), 1.0), ValueError, "X"),
        (lambda: mt.velocity(X_OK, np.inf), ValueError, "beta"),
        (lambda: mt.velocity(X_OK, "5"), TypeError, "beta"),
        (lambda: mt.velocity(X_OK, 1.0, model="xx"), ValueError, "model"),
        (lambda: mt.velocity(X_OK, 1.0, weights=[0.5, 0.5]), ValueError, "weights"),
        (lambda: mt.velocity(X_OK, 1.0, weights=[0.5, 0.6, -0.1]), ValueError, "weights"),
        (lambda: mt.velocity_circle(np.ones((3, 2)), 1.0), ValueError, "theta"),
        (lambda: mt.velocity_circle([0.0, np.inf], 1.0), ValueError, "theta"),
        (lambda: mt.velocity_circle(TH_OK, 1.0, method="fft"), ValueError, "method"),
        (lambda: mt.velocity_circle(TH_OK, np.nan), ValueError, "beta"),
        (lambda: mt.attention(X_OK, 1.0, model="softmax"), ValueError, "model"),
        (lambda: mt.fourier_cutoff("5"), TypeError, "beta"),
        (lambda: mt.energy(X_OK, 1.0, log=True) and mt.energy(X_OK, -1.0, log=True), ValueError, "log"),
        (lambda: mt.energy_circle(TH_OK, np.inf), ValueError, "beta"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()
