"""Tests for mt.simulate_batch and the batched field (issue 18, item 4).

References: the loop over mt.simulate (the same steps, 1e-12), a long-double NumPy direct
sum of the field, and the invariances (relabelling systems, relabelling tokens, subsets of
the batch); duplicates, large β, overflow and bad input.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mtlib as mt
from mtlib import _batch_field, _field_eval

LD = np.longdouble
TOL = 1e-12


def sphere_systems(B, n, d, seed):
    return np.stack([mt.uniform_sphere(n, d, rng=seed + b) for b in range(B)])


def circle_systems(B, n, seed):
    return np.stack([mt.uniform_circle(n, rng=seed + b) for b in range(B)])


def systems(geometry, B, n, seed):
    if geometry == "circle":
        return circle_systems(B, n, seed)
    return sphere_systems(B, n, int(geometry[len("sphere"):]), seed)


def random_weights(B, n, seed):
    W = np.random.default_rng(seed).uniform(0.0, 1.0, (B, n))
    if n > 1:
        W[:, 0] = 0.0  # a massless token
    return W / W.sum(axis=1, keepdims=True)


def largest_difference(a, b):
    """Max |a - b|; circular for angles (arrays of ndim 3 = (T, B, n))."""
    if a.ndim == 3:
        return float(np.max(np.abs(mt.circular_difference(a, b))))
    return float(np.max(np.abs(a - b)))


def loop(x0s, beta, t_eval, weights=None, **kwargs):
    """mt.simulate for each system: the reference of simulate_batch."""
    runs = []
    for b, x0 in enumerate(x0s):
        w = None if weights is None else (weights if np.ndim(weights) == 1 else weights[b])
        runs.append(mt.simulate(x0, beta, t_eval, weights=w, **kwargs))
    return runs


# ---------------------------------------------------------------- long-double reference


def ref_field(Y, w, beta, model):
    """(v, scale) of one system in long double: v_i = Σ_{j ≠ i} w_j e^{β g_ij} (x_j - g_ij x_i)
    (/ Σ_j w_j e^{β g_ij} for SA, self term included); scale_i = Σ_{j≠i} w_j e^{β g_ij}
    (/ the same denominator for SA), the size of the terms. Circle: Y are angles."""
    circle = Y.ndim == 1
    X = np.stack([np.cos(Y.astype(LD)), np.sin(Y.astype(LD))], axis=1) if circle else Y.astype(LD)
    wl = np.asarray(w).astype(LD)
    same = np.all(X[:, None, :] == X[None, :, :], axis=2)
    G = X @ X.T
    L = LD(beta) * G
    s = np.where(~same & (w > 0)[None, :], L, -np.inf).max(axis=1)
    s = np.where(np.isfinite(s), s, 0)
    E = np.where(same, 0, wl[None, :] * np.exp(np.minimum(L - s[:, None], 0)))
    num = np.einsum("ij,ijk->ik", E, X[None, :, :] - G[:, :, None] * X[:, None, :])
    scale = E.sum(axis=1)
    if model == "sa":
        own = (same * wl[None, :]).sum(axis=1)
        with np.errstate(over="ignore"):
            den = scale + np.where(own > 0, own * np.exp(LD(beta) - s), 0)
        num, scale = num / den[:, None], scale / den
    else:
        num, scale = num * np.exp(s)[:, None], scale * np.exp(s)
    if circle:  # the tangential component <v, (-sin θ, cos θ)>
        num = -np.sin(Y.astype(LD)) * num[:, 0] + np.cos(Y.astype(LD)) * num[:, 1]
    return num, scale


def check_field(Y, W, beta, model, rel):
    V = _batch_field.direct_batch(Y, W, beta, model == "sa")
    for b in range(Y.shape[0]):
        ref, scale = ref_field(Y[b], W[b], beta, model)
        err = np.abs(V[b] - ref.astype(float)).reshape(Y.shape[1], -1).max(axis=1)
        assert np.all(err <= rel * scale.astype(float) + 1e-300), (b, err.max(), scale.max())


@pytest.mark.parametrize("geometry", ["sphere3", "sphere16", "sphere128", "circle"])
@pytest.mark.parametrize("model,beta", [("usa", 1.0), ("sa", 5.0), ("usa", -3.0), ("sa", -2.0), ("usa", 40.0),
                                        ("sa", 400.0), ("usa", 600.0), ("sa", -500.0)])
def test_field_matches_long_double_direct_sum(geometry, model, beta):
    Y = systems(geometry, 4, 20, seed=3)
    check_field(Y, random_weights(4, 20, 4), beta, model, rel=1e-13)


@settings(max_examples=60, deadline=None)
@given(
    B=st.integers(1, 4),
    n=st.integers(1, 9),
    d=st.sampled_from([None, 2, 3, 5]),
    beta=st.floats(-30, 30),
    sa=st.booleans(),
    seed=st.integers(0, 10**6),
)
def test_field_equals_the_single_field(B, n, d, beta, sa, seed):
    """Every system of the batch gets the field of mtlib._field_eval to 1e-13 of its terms."""
    rng = np.random.default_rng(seed)
    Y = rng.uniform(0, 2 * np.pi, (B, n)) if d is None else sphere_systems(B, n, d, seed)
    W = random_weights(B, n, seed + 1)
    V = _batch_field.direct_batch(Y, W, beta, sa)
    for b in range(B):
        if d is None:
            single = _field_eval.direct_velocity_circle(Y[b], W[b], beta, sa)
        else:
            single = _field_eval.sphere_velocity(Y[b], W[b], beta, sa)
        scale = ref_field(Y[b], W[b], beta, "sa" if sa else "usa")[1].astype(float)
        assert np.all(np.abs(V[b] - single).reshape(n, -1).max(axis=1) <= 1e-13 * scale + 1e-300)


@pytest.mark.parametrize("n", [4, 8])  # loops below BLAS_MIN_PAIR_WORK, BLAS products above
def test_duplicate_tokens_are_merged(n):
    """Identical tokens: the batch field is the merged one (the single field), and exactly
    0 when all tokens of a system coincide (SA and USA, sphere and circle)."""
    X = sphere_systems(3, n, 5 if n == 8 else 3, seed=7)
    X[0, 3] = X[0, 1]
    X[0, n - 2] = X[0, 1]
    X[1, :] = X[1, 2]  # all coincide
    theta = circle_systems(3, n, seed=8)
    theta[0, n - 3] = theta[0, 0]
    theta[1, :] = theta[1, 3]
    for Y in (X, theta):
        W = random_weights(3, n, 9)
        for sa in (False, True):
            for beta in (2.0, -1.0, 500.0 if sa else 60.0):
                V = _batch_field.direct_batch(Y, W, beta, sa)
                assert np.all(V[1] == 0.0)
                single = (_field_eval.direct_velocity_circle if Y.ndim == 2 else _field_eval.sphere_velocity)
                for b in (0, 2):
                    ref = single(Y[b], W[b], beta, sa)
                    assert np.max(np.abs(V[b] - ref)) <= 1e-14 * max(1.0, np.max(np.abs(ref)))
                ref, scale = ref_field(Y[0], W[0], beta, "sa" if sa else "usa")
                err = np.abs(V[0] - ref.astype(float)).reshape(n, -1).max(axis=1)
                assert np.all(err <= 1e-13 * scale.astype(float) + 1e-300)


def test_usa_overflow_raises():
    """e^{s_i} past float64 (only reachable below the public |β| <= 700 check) raises ValueError."""
    X = sphere_systems(2, 4, 3, seed=1)
    X[1, 1] = X[1, 0] + 1e-9 * np.array([1.0, -1.0, 0.5])
    X[1, 1] /= np.linalg.norm(X[1, 1])
    with pytest.raises(ValueError, match="USA field overflows"):
        _batch_field.direct_batch(X, np.full((2, 4), 0.25), 720.0, False)


# ---------------------------------------------------------------- simulate_batch = loop of simulate


@pytest.mark.parametrize("method", ["rk4", "dopri"])
@pytest.mark.parametrize("geometry", ["sphere3", "sphere16", "circle"])
@pytest.mark.parametrize("model,beta,t_end", [("usa", 1.0, 2.0), ("sa", 4.0, 2.0), ("usa", -2.5, 1.0),
                                              ("sa", -1.0, 1.0), ("sa", 400.0, 0.05)])
def test_matches_the_loop_over_simulate(method, geometry, model, beta, t_end):
    B, n = 5, 10
    X = systems(geometry, B, n, seed=11)
    W = random_weights(B, n, 12) if beta > 0 else None
    t_eval = np.array([0.0, 0.3, 0.7]) * t_end / 0.7
    res = mt.simulate_batch(X, beta, t_eval, model=model, method=method, weights=W)
    runs = loop(X, beta, t_eval, weights=W, model=model, method=method)
    ref = np.stack([r.states for r in runs], axis=1)
    assert res.states.shape == (3,) + X.shape
    assert largest_difference(res.states, ref) <= TOL
    assert np.array_equal(res.t, runs[0].t)
    assert np.array_equal(res.n_steps, [r.n_steps for r in runs])
    assert np.array_equal(res.n_rejected, [r.n_rejected for r in runs])
    extra = 1 if method == "dopri" else 0  # simulate evaluates f(y0) twice when it picks the first step
    assert np.array_equal(res.nfev + extra, [r.nfev for r in runs])
    np.testing.assert_allclose(res.dt, [r.dt for r in runs], rtol=1e-13)
    one = res.system(2)
    assert isinstance(one, mt.SimulationResult) and one.states.shape == runs[2].states.shape
    assert largest_difference(one.states, runs[2].states) <= TOL and one.n_steps == runs[2].n_steps
    if X.ndim == 3:
        assert np.max(np.abs(np.linalg.norm(res.states, axis=-1) - 1)) < 1e-14
    else:
        assert res.states.min() >= 0 and res.states.max() < 2 * np.pi


@pytest.mark.parametrize("method", ["rk4", "dopri"])
def test_three_tokens_on_the_circle(method):
    """The synchronisation experiment of chapter 8: n = 3 angles, β < 0 (the loop kernels)."""
    theta = circle_systems(40, 3, seed=15)
    for beta in (-2.0, -0.7, 1.0):
        res = mt.simulate_batch(theta, beta, [10.0, 30.0], method=method, dt=0.1)
        ref = np.stack([r.states for r in loop(theta, beta, [10.0, 30.0], method=method, dt=0.1)], axis=1)
        assert largest_difference(res.states, ref) <= TOL


@pytest.mark.parametrize("method", ["rk4", "dopri"])
def test_shared_weights_dt_and_tolerances(method):
    X = sphere_systems(4, 12, 8, seed=21)
    w = random_weights(1, 12, 22)[0]
    kwargs = dict(model="sa", method=method, dt=0.02, rtol=1e-10, atol=1e-12)
    res = mt.simulate_batch(X, 3.0, [0.5, 1.0, 1.5], weights=w, **kwargs)
    ref = np.stack([r.states for r in loop(X, 3.0, [0.5, 1.0, 1.5], weights=w, **kwargs)], axis=1)
    assert largest_difference(res.states, ref) <= TOL
    assert np.array_equal(res.weights, np.broadcast_to(w / w.sum(), (4, 12)))


def test_per_system_paths_are_bit_identical_to_the_loop():
    """field_method="fourier" (circle) and "harmonic" (S^2) run simulate's own field per
    system: the states equal the loop's bit for bit."""
    theta = circle_systems(3, 300, seed=31)
    res = mt.simulate_batch(theta, 2.0, [0.0, 0.2], field_method="fourier", dt=0.05)
    ref = np.stack([r.states for r in loop(theta, 2.0, [0.0, 0.2], field_method="fourier", dt=0.05)], axis=1)
    assert np.array_equal(res.states, ref)
    auto = mt.simulate_batch(theta, 2.0, [0.0, 0.2], dt=0.05)  # n = 300 > 128: the per-system Fourier path
    assert np.array_equal(auto.states, ref)
    X = sphere_systems(3, 40, 3, seed=32)
    res = mt.simulate_batch(X, 2.0, [0.0, 0.2], field_method="harmonic", dt=0.05)
    ref = np.stack([r.states for r in loop(X, 2.0, [0.0, 0.2], field_method="harmonic", dt=0.05)], axis=1)
    assert np.array_equal(res.states, ref)


@pytest.mark.parametrize("method", ["rk4", "dopri"])
def test_relabelling_and_subsets_of_systems(method):
    """Each system is computed by the same arithmetic whatever the batch holds: permuting
    the systems permutes the results bit for bit, and a sub-batch gives the same states."""
    for X in (sphere_systems(6, 9, 4, seed=41), circle_systems(6, 9, seed=42)):
        W = random_weights(6, 9, 43)
        run = mt.simulate_batch(X, 2.0, [0.0, 1.0, 2.0], model="usa", method=method, weights=W)
        perm = np.random.default_rng(44).permutation(6)
        moved = mt.simulate_batch(X[perm], 2.0, [0.0, 1.0, 2.0], model="usa", method=method, weights=W[perm])
        assert np.array_equal(moved.states, run.states[:, perm])
        assert np.array_equal(moved.n_steps, run.n_steps[perm])
        part = mt.simulate_batch(X[2:4], 2.0, [0.0, 1.0, 2.0], model="usa", method=method, weights=W[2:4])
        assert np.array_equal(part.states, run.states[:, 2:4])


def test_relabelling_tokens_permutes_the_field():
    X = sphere_systems(3, 15, 6, seed=51)
    W = random_weights(3, 15, 52)
    perm = np.random.default_rng(53).permutation(15)
    for sa in (False, True):
        V = _batch_field.direct_batch(X, W, 3.0, sa)
        Vp = _batch_field.direct_batch(np.ascontiguousarray(X[:, perm]), np.ascontiguousarray(W[:, perm]), 3.0, sa)
        assert np.max(np.abs(Vp - V[:, perm])) <= 1e-14 * np.max(np.abs(V))


def test_rotation_invariance():
    """Rotating every token of a system by one orthogonal Q rotates its field: v(XQ) = v(X)Q."""
    X = sphere_systems(3, 12, 5, seed=61)
    Q = np.linalg.qr(np.random.default_rng(62).standard_normal((5, 5)))[0]
    W = random_weights(3, 12, 63)
    V = _batch_field.direct_batch(X, W, 2.5, False)
    VQ = _batch_field.direct_batch(np.ascontiguousarray(X @ Q), W, 2.5, False)
    assert np.max(np.abs(VQ - V @ Q)) <= 1e-13 * np.max(np.abs(V))


def test_single_token_float32_and_progress():
    one = mt.simulate_batch(sphere_systems(3, 1, 4, seed=71), 1.0, [0.0, 1.0])
    assert np.array_equal(one.states[0], one.states[1])
    X32 = sphere_systems(3, 7, 3, seed=72).astype(np.float32)
    res = mt.simulate_batch(X32, 1.0, [0.0, 1.0], progress=True)
    ref = np.stack([r.states for r in loop(X32, 1.0, [0.0, 1.0])], axis=1)
    assert largest_difference(res.states, ref) <= TOL
    assert res.n_systems == 3 and not res.on_circle
    assert mt.simulate_batch(circle_systems(2, 5, 73), 1.0, [1.0], method="dopri", progress=True).on_circle


# ---------------------------------------------------------------- simulate(field_method=...)


def test_simulate_field_method():
    X = mt.uniform_sphere(30, 4, rng=81)
    default = mt.simulate(X, 2.0, [0.0, 0.5]).states
    assert np.array_equal(mt.simulate(X, 2.0, [0.0, 0.5], field_method="direct").states, default)
    theta = mt.uniform_circle(400, rng=82)
    fourier = mt.simulate(theta, 2.0, [0.0, 0.5], field_method="fourier").states
    direct = mt.simulate(theta, 2.0, [0.0, 0.5], field_method="direct").states
    assert np.array_equal(mt.simulate(theta, 2.0, [0.0, 0.5]).states, fourier)  # auto: Fourier at n = 400
    assert largest_difference(fourier[:, None], direct[:, None]) <= 1e-12
    with pytest.raises(ValueError, match="field_method must be one of"):
        mt.simulate(theta, 2.0, [0.5], field_method="harmonic")
    with pytest.raises(ValueError, match="field_method must be one of"):
        mt.simulate(X, 2.0, [0.5], field_method="fourier")
    with pytest.raises(ValueError, match="d = 3"):
        mt.simulate(X, 2.0, [0.5], field_method="harmonic")


# ---------------------------------------------------------------- bad input


X_OK = sphere_systems(2, 4, 3, seed=91)


def same_error(kwargs):
    """simulate_batch raises what simulate raises for the same options."""
    with pytest.raises((ValueError, TypeError)) as single:
        mt.simulate(X_OK[0], **kwargs)
    with pytest.raises(type(single.value)) as batch:
        mt.simulate_batch(X_OK, **kwargs)
    assert str(batch.value) == str(single.value)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(beta="1", t_eval=[1.0]),
        dict(beta=np.nan, t_eval=[1.0]),
        dict(beta=1.0, t_eval=[1.0, 0.5]),
        dict(beta=1.0, t_eval=[-1.0]),
        dict(beta=1.0, t_eval=[1.0], model="softmax"),
        dict(beta=1.0, t_eval=[1.0], method="euler"),
        dict(beta=1.0, t_eval=[1.0], dt=0.0),
        dict(beta=1.0, t_eval=[1.0], method="dopri", rtol=1e-17),
        dict(beta=1.0, t_eval=[1.0], atol=0.0),
        dict(beta=1.0, t_eval=[1.0], max_steps=0),
        dict(beta=1.0, t_eval=[1.0], max_steps=1.5),
        dict(beta=800.0, t_eval=[1.0]),
        dict(beta=1.0, t_eval=[100.0], dt=1e-3, max_steps=1000),
        dict(beta=1.0, t_eval=[1.0], field_method="harmonic_fast"),
    ],
)
def test_same_errors_as_simulate(kwargs):
    same_error(kwargs)


@pytest.mark.parametrize(
    "x0s,kwargs,error,match",
    [
        (np.zeros(3), {}, ValueError, "x0s must have 2 or 3 dimension"),
        (np.zeros((0, 3, 3)), {}, ValueError, "x0s must hold"),
        (np.zeros((2, 0)), {}, ValueError, "x0s must hold"),
        (2 * X_OK, {}, ValueError, "unit norm"),
        (np.ones((2, 3, 1)), {}, ValueError, "d >= 2"),
        (X_OK.astype(object), {}, TypeError, "numeric"),
        (X_OK, dict(weights=np.full((2, 5), 0.2)), ValueError, "weights must have shape"),
        (X_OK, dict(weights=np.array([[0.25] * 4, [0.5] * 4])), ValueError, r"weights\[1\] must sum to 1"),
        (X_OK, dict(weights=[0.5, 0.5, 0.5, -0.5]), ValueError, "non-negative"),
        (X_OK, dict(events=lambda t, y: 1.0), ValueError, "events"),
        (X_OK, dict(field_method="fourier"), ValueError, "field_method must be one of"),
        (X_OK[:, :, :2] / np.linalg.norm(X_OK[:, :, :2], axis=-1, keepdims=True), dict(field_method="harmonic"),
         ValueError, "d = 3"),
        (np.zeros((2, 4)), dict(field_method="harmonic"), ValueError, "field_method must be one of"),
        (X_OK, dict(progress=1), TypeError, "progress must be a bool"),
    ],
)
def test_bad_input(x0s, kwargs, error, match):
    with pytest.raises(error, match=match):
        mt.simulate_batch(x0s, 1.0, [0.0, 1.0], **kwargs)


def test_work_and_step_budget():
    big = np.broadcast_to(np.array([1.0, 0.0, 0.0]), (1, 200_000, 3))
    with pytest.raises(ValueError, match="operations"):
        mt.simulate_batch(big, 1.0, [1.0])
    with pytest.raises(RuntimeError, match="system 0: integrate: max_steps = 3"):
        mt.simulate_batch(X_OK, 1.0, [0.0, 50.0], method="dopri", max_steps=3)
    res = mt.simulate_batch(X_OK, 1.0, [0.0, 1.0])
    with pytest.raises(ValueError, match="b must be <= 1"):
        res.system(2)
