"""Tests for mtlib.dynamics: every kernel against plain NumPy O(N²) references,
invariances, integrator accuracy, the equiangular reduction, and bad input."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

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
        _kernels_sphere.pairwise_sums(np.array([[1.0], [0.0]]), np.array([1.0]), 0.0, np.array([-v]), out, out[0])
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
    res = mt.simulate(X[:20], 800.0, [0.0, 0.05], model="sa")
    assert np.all(np.isfinite(res.states))
    with pytest.raises(ValueError, match="beta"):
        mt.simulate(X, 800.0, [0.1], model="usa")


# ---------------------------------------------------------------- energy


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


# ---------------------------------------------------------------- simulate


def test_usa_energy_increases_and_norms_stay_one():
    X = mt.uniform_sphere(200, 3, 11)
    t = np.linspace(0, 2, 21)
    res = mt.simulate(X, 3.0, t, model="usa")
    E = [mt.energy(x, 3.0) for x in res.states]
    assert np.all(np.diff(E) >= -1e-12 * np.abs(E[0]))
    assert E[-1] > E[0]
    assert np.max(np.abs(np.linalg.norm(res.states, axis=2) - 1)) < 1e-12
    theta = mt.uniform_circle(300, 12)
    res = mt.simulate(theta, 5.0, t, model="usa", method="dopri")
    E = [mt.energy_circle(th, 5.0) for th in res.states]
    assert np.all(np.diff(E) >= -1e-12 * np.abs(E[0]))
    assert res.states.min() >= 0 and res.states.max() < 2 * np.pi


def test_rk4_fourth_order():
    theta = mt.uniform_circle(60, 13)
    X = mt.uniform_sphere(40, 3, 14)
    for x0 in (theta, X):
        ref = mt.simulate(x0, 3.0, [1.0], method="dopri", rtol=1e-13, atol=1e-14).states[-1]
        errs = []
        for dt in (0.04, 0.02):
            y = mt.simulate(x0, 3.0, [1.0], method="rk4", dt=dt).states[-1]
            diff = y - ref
            if x0.ndim == 1:
                diff = np.angle(np.exp(1j * diff))
            errs.append(np.abs(diff).max())
        assert 12 < errs[0] / errs[1] < 20, errs


def test_dopri_meets_tolerance():
    theta = mt.uniform_circle(100, 15)
    ref = mt.simulate(theta, 5.0, [0.5], method="rk4", dt=1e-3).states[-1]
    for rtol in (1e-6, 1e-9):
        res = mt.simulate(theta, 5.0, [0.5], method="dopri", rtol=rtol, atol=rtol)
        err = np.abs(np.angle(np.exp(1j * (res.states[-1] - ref)))).max()
        assert err < 50 * rtol, (rtol, err)
        assert res.n_velocity_evals >= 6 * res.n_steps


@pytest.mark.parametrize("model", ["sa", "usa"])
def test_equiangular_reduction(model):
    """x_i(0) = e_i, n = d = 16: inner products stay equal and follow the ρ ODE."""
    n, beta = 16, 2.0
    t = np.linspace(0, 3.0 if model == "sa" else 1.0, 7)

    def rhs(_, r):
        rho = r[0]
        growth = np.exp(beta * rho) * (1 - rho) * ((n - 1) * rho + 1)
        return [2 * growth / (np.exp(beta) + (n - 1) * np.exp(beta * rho)) if model == "sa" else 2 * growth / n]

    rho_ref = solve_ivp(rhs, (0, t[-1]), [0.0], t_eval=t, rtol=1e-13, atol=1e-14, method="DOP853").y[0]
    X0 = mt.equiangular_frame(n, n)
    assert np.array_equal(X0, np.eye(n))
    res = mt.simulate(X0, beta, t, model=model, method="dopri", rtol=1e-12, atol=1e-13)
    off = ~np.eye(n, dtype=bool)
    for X, rho in zip(res.states, rho_ref):
        G = (X @ X.T)[off]
        assert G.max() - G.min() < 1e-10
        assert abs(G.mean() - rho) < 1e-8


def test_circle_and_sphere_paths_agree():
    theta = mt.uniform_circle(80, 16)
    t = [0.0, 0.25, 0.5]
    for model in ("usa", "sa"):
        a = mt.simulate(theta, 4.0, t, model=model, method="dopri", rtol=1e-11, atol=1e-12)
        b = mt.simulate(mt.angles_to_points(theta), 4.0, t, model=model, method="dopri", rtol=1e-11, atol=1e-12)
        back = np.mod(np.arctan2(b.states[..., 1], b.states[..., 0]), 2 * np.pi)
        assert np.abs(np.angle(np.exp(1j * (a.states - back)))).max() < 1e-8


def test_weights_merge_coincident_tokens():
    """Two coincident tokens of mass w/2 move exactly like one token of mass w."""
    theta = mt.uniform_circle(30, 17)
    w = random_weights(30, 18)
    split = np.concatenate([theta, theta[:1]])
    w_split = np.concatenate([w, [w[0] / 2]])
    w_split[0] /= 2
    for model in ("usa", "sa"):
        a = mt.simulate(theta, 5.0, [0.2, 0.4], model=model, weights=w, dt=1e-3)
        b = mt.simulate(split, 5.0, [0.2, 0.4], model=model, weights=w_split, dt=1e-3)
        assert np.abs(np.angle(np.exp(1j * (a.states - b.states[:, :30])))).max() < 1e-12


def test_simulate_result_and_output_times():
    theta = mt.uniform_circle(50, 19)
    res = mt.simulate(theta, 2.0, [0.3, 0.7], dt=0.05, progress=True)
    assert isinstance(res, mt.SimulationResult) and res.on_circle
    assert np.array_equal(res.t, [0.3, 0.7]) and res.states.shape == (2, 50)
    assert res.n_steps == 6 + 8 and res.n_velocity_evals == 4 * res.n_steps and res.dt == 0.05
    one = mt.simulate(theta, 2.0, [0.7], dt=0.05)
    assert np.abs(one.states[0] - res.states[1]).max() < 1e-12
    start = mt.simulate(theta, 2.0, [0.0, 0.1], dt=0.05)
    assert np.array_equal(start.states[0], np.mod(theta, 2 * np.pi))


# ---------------------------------------------------------------- initial conditions


def test_initial_conditions():
    X = mt.uniform_sphere(1000, 5, 20)
    assert X.shape == (1000, 5) and np.allclose(np.linalg.norm(X, axis=1), 1, atol=1e-14)
    assert np.array_equal(X, mt.uniform_sphere(1000, 5, 20))
    th = mt.uniform_circle(1000, 21)
    assert th.min() >= 0 and th.max() < 2 * np.pi
    C = mt.uniform_sphere(2, 4, 22)
    caps = mt.caps_sphere(C, [300, 200], 0.3, 23)
    assert caps.shape == (500, 4)
    angles = np.arccos(np.clip(np.concatenate([caps[:300] @ C[0], caps[300:] @ C[1]]), -1, 1))
    assert angles.max() <= 0.3 + 1e-12 and angles.max() > 0.25
    # uniform in the cap on S^2: P(α <= r/2) = (1 - cos(r/2)) / (1 - cos r)
    c3 = mt.caps_sphere([[0, 0, 1.0]], 20000, 1.0, 24)
    p = np.mean(c3[:, 2] >= np.cos(0.5))
    assert abs(p - (1 - np.cos(0.5)) / (1 - np.cos(1.0))) < 0.02
    arcs = mt.caps_circle([0.0, np.pi], 100, 0.1, 25)
    assert np.all(np.abs(np.angle(np.exp(1j * arcs[:100]))) <= 0.1)
    for n, d, rho in [(16, 16, 0.0), (5, 8, 0.3), (4, 3, -1 / 3), (6, 5, -0.2)]:
        F = mt.equiangular_frame(n, d, rho)
        G = F @ F.T
        assert F.shape == (n, d) and np.allclose(G, (1 - rho) * np.eye(n) + rho, atol=1e-14)
    pert = mt.perturbed_uniform_circle(40000, 3, 0.5, 26, phase=0.2)
    assert pert.shape == (40000,) and pert.min() >= 0 and pert.max() < 2 * np.pi
    # E cos(3(θ-φ)) = a/2 = 0.25, standard error ~ 0.0035
    assert abs(np.mean(np.cos(3 * (pert - 0.2))) - 0.25) < 0.02


# ---------------------------------------------------------------- bad input

X_OK = np.eye(3)
TH_OK = np.array([0.0, 1.0, 2.0])


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: mt.uniform_sphere(0, 3), ValueError, "n"),
        (lambda: mt.uniform_sphere(5, 1), ValueError, "d"),
        (lambda: mt.uniform_circle(2.5), TypeError, "n"),
        (lambda: mt.uniform_sphere(3, 3, rng="x"), TypeError, "rng"),
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
        (lambda: mt.simulate(TH_OK, 1.0, [0.2, 0.1]), ValueError, "t_eval"),
        (lambda: mt.simulate(TH_OK, 1.0, [-0.1, 0.1]), ValueError, "t_eval"),
        (lambda: mt.simulate(TH_OK, 1.0, [0.1], dt=0.0), ValueError, "dt"),
        (lambda: mt.simulate(TH_OK, 1.0, [0.1], dt=-1.0), ValueError, "dt"),
        (lambda: mt.simulate(TH_OK, 1.0, [0.1], method="euler"), ValueError, "method"),
        (lambda: mt.simulate(TH_OK, 1.0, [0.1], rtol=0.0), ValueError, "rtol"),
        (lambda: mt.simulate(np.ones((2, 2, 2)), 1.0, [0.1]), ValueError, "x0"),
        (lambda: mt.simulate(2 * X_OK, 1.0, [0.1]), ValueError, "normalise"),
        (lambda: mt.caps_sphere(X_OK, 5, 0.0), ValueError, "radius"),
        (lambda: mt.caps_sphere(X_OK, [1, 2], 0.1), ValueError, "n_per_cap"),
        (lambda: mt.equiangular_frame(5, 3), ValueError, "d = 3"),
        (lambda: mt.equiangular_frame(3, 3, rho=-0.9), ValueError, "rho"),
        (lambda: mt.perturbed_uniform_circle(10, 0, 0.5), ValueError, "k"),
        (lambda: mt.perturbed_uniform_circle(10, 2, 1.5), ValueError, "amplitude"),
        (lambda: mt.energy(X_OK, 1.0, log=True) and mt.energy(X_OK, -1.0, log=True), ValueError, "log"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_attention_is_the_softmax_average_and_its_tangent_part_the_velocity():
    rng = np.random.default_rng(3)
    X = mt.uniform_sphere(40, 5, rng=rng)
    w = rng.random(40)
    w /= w.sum()
    for beta in (0.0, 2.5, 30.0):
        E = w[None, :] * np.exp(beta * X @ X.T)
        usa = E @ X
        sa = usa / E.sum(axis=1, keepdims=True)
        A_sa = mt.attention(X, beta, weights=w)
        A_usa = mt.attention(X, beta, model="usa", weights=w)
        assert np.allclose(A_sa, sa, rtol=1e-12, atol=1e-14)
        assert np.allclose(A_usa, usa, rtol=1e-12, atol=1e-14)
        for model, A in (("sa", A_sa), ("usa", A_usa)):
            tangent = A - np.einsum("ij,ij->i", A, X)[:, None] * X  # loses digits to the self term
            scale = np.abs(A).max()
            assert np.allclose(mt.velocity(X, beta, model=model, weights=w), tangent, rtol=0, atol=1e-13 * scale)
    with pytest.raises(ValueError, match="overflows"):
        mt.attention(np.eye(3), 800.0, model="usa")
    assert np.all(np.isfinite(mt.attention(np.eye(3), 800.0)))
