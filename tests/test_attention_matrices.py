"""Tests for general attention matrices A = QᵀK, V and the causal mask (issue 17, item 1).

References: a NumPy direct sum of the field (float64, and long double at large β), a
NumPy RK4 with the same steps for ``simulate``, the loop of ``simulate`` for
``simulate_batch``; exact facts of the causal mask (token 0 fixed, the prefix property,
rows blind to later tokens), rotation invariance, relabelling, the defaults bit for bit,
the circle's Fourier path for scaled rotations against its direct sum, bad input.

Error model of the comparisons: each row is a sum of positive-weighted terms; with the
exponents rounded to ~ (1 + |β|‖A‖) eps, the row is accurate to
RTOL(β) = 50 (1 + |β|‖A‖) eps of its scale S_i = Σ_j w_j e^{β<x_i,Ax_j>} |V x_j|_1 (over
the terms that enter; divided by the SA denominator).
"""

import numba
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mtlib as mt
from mtlib import _attention_eval

EPS = np.finfo(float).eps
LD = np.longdouble


def rotation(phi, s=1.0):
    return s * np.array([[np.cos(phi), -np.sin(phi)], [np.sin(phi), np.cos(phi)]])


def random_matrix(rng, d, scale=0.5):
    return np.eye(d) + scale * rng.normal(size=(d, d))


def normed(M, norm):
    """M scaled to the spectral norm `norm`."""
    return M * (norm / np.linalg.norm(M, 2))


def reference(X, w, beta, A, V, causal, sa, dtype=np.float64):
    """(field, scale): the direct sum in `dtype`, each value projected on its own; for V = cI
    the tokens identical to x_i (tangent part 0) are left out of the numerator."""
    X = np.asarray(X, dtype=dtype)
    w = np.asarray(w, dtype=dtype)
    n, d = X.shape
    A = np.eye(d) if A is None else A
    V = np.eye(d) if V is None else V
    A, V = np.asarray(A, dtype=dtype), np.asarray(V, dtype=dtype)
    E = beta * (X @ A @ X.T)  # E_ij = β <x_i, A x_j>
    if causal:
        E = np.where(np.tri(n, dtype=bool), E, -np.inf)
    E = np.where(w[None, :] > 0, E, -np.inf)
    s = E.max(axis=1)
    P = w[None, :] * np.exp(E - s[:, None])
    den = P.sum(axis=1)
    Y = X @ V.T
    if np.array_equal(np.asarray(V, float), V[0, 0] * np.eye(d)):
        same = np.all(X[:, None, :] == X[None, :, :], axis=2)
        P = np.where(same, 0.0, P)
    G = X @ Y.T  # <x_i, V x_j>
    v = P @ Y - (P * G).sum(axis=1)[:, None] * X
    scale = P @ np.abs(Y).sum(axis=1)  # >= |V x_j| (no squares, which may underflow)
    if sa:
        return v / den[:, None], scale / den
    factor = np.exp(s)
    return v * factor[:, None], scale * factor


def rtol(beta, A):
    a = 1.0 if A is None else np.linalg.norm(A, 2)
    return 50.0 * (1.0 + abs(beta) * a) * EPS


def assert_rows_close(got, want, scale, tol):
    diff = np.asarray(got, float).reshape(len(scale), -1) - want.astype(float).reshape(len(scale), -1)
    err = np.abs(diff).max(axis=1)  # no squares: the rows may be near the float64 range
    assert np.all(err <= tol * scale.astype(float) + 1e-300), (err / scale.astype(float)).max()


def circle_reference(theta, w, beta, A, V, causal, sa, dtype=np.float64):
    X = np.stack([np.cos(theta), np.sin(theta)], axis=1)
    v, scale = reference(X, w, beta, A, V, causal, sa, dtype)
    tau = np.stack([-np.sin(theta), np.cos(theta)], axis=1).astype(dtype)
    return (v * tau).sum(axis=1), scale


def weights(rng, n):
    w = rng.uniform(0.1, 1.0, n)
    return w / w.sum()


# --- the field against the NumPy direct sum -------------------------------------------

@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), d=st.sampled_from([2, 3, 5, 16]), n=st.integers(1, 40),
       beta=st.floats(-8.0, 8.0), causal=st.booleans(), sa=st.booleans(),
       which=st.sampled_from(["AV", "A", "V"]))
def test_velocity_matches_numpy_direct_sum(seed, d, n, beta, causal, sa, which):
    rng = np.random.default_rng(seed)
    X = mt.uniform_sphere(n, d, rng=rng)
    w = weights(rng, n)
    A = random_matrix(rng, d) if "A" in which else None
    V = random_matrix(rng, d) if "V" in which else None
    got = mt.velocity(X, beta, "sa" if sa else "usa", weights=w, A=A, V=V, causal=causal)
    want, scale = reference(X, w, beta, A, V, causal, sa)
    assert_rows_close(got, want, scale, rtol(beta, A))
    assert np.allclose(np.einsum("ij,ij->i", got, X), 0.0, atol=1e-13 * (1 + scale.max()))


@pytest.mark.parametrize("sa", [True, False])
@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("V_kind", ["general", "identity"])
def test_large_beta_against_long_double(sa, causal, V_kind):
    rng = np.random.default_rng(7)
    d, n, beta = 3, 30, 300.0
    X = mt.uniform_sphere(n, d, rng=rng)
    X[5] = X[4]  # a duplicate token
    w = weights(rng, n)
    A = random_matrix(rng, d, 0.2)
    A *= 1.4 / np.linalg.norm(A, 2)  # exponents up to 420: e^420 fits float64 (USA)
    V = random_matrix(rng, d) if V_kind == "general" else None
    got = mt.velocity(X, beta, "sa" if sa else "usa", weights=w, A=A, V=V, causal=causal)
    assert np.all(np.isfinite(got))
    want, scale = reference(X, w, beta, A, V, causal, sa, dtype=LD)
    assert_rows_close(got, want, scale, rtol(beta, A))


def test_usa_overflow_raises_and_sa_stays_finite():
    X = mt.uniform_sphere(10, 3, rng=1)
    with pytest.raises(ValueError, match="overflows"):
        mt.velocity(X, 400.0, "usa", A=2.0 * np.eye(3) + 0.01, V=np.diag([1.0, 2.0, 3.0]))
    v = mt.velocity(X, 1e5, "sa", A=2.0 * np.eye(3) + 0.01, V=np.diag([1.0, 2.0, 3.0]), causal=True)
    assert np.all(np.isfinite(v))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), d=st.sampled_from([2, 3, 4]), causal=st.booleans(), sa=st.booleans())
def test_attention_output_matches_numpy(seed, d, causal, sa):
    rng = np.random.default_rng(seed)
    n, beta = 25, 3.0
    X = mt.uniform_sphere(n, d, rng=rng)
    w = weights(rng, n)
    A, V = random_matrix(rng, d), random_matrix(rng, d)
    got = mt.attention(X, beta, "sa" if sa else "usa", weights=w, A=A, V=V, causal=causal)
    E = beta * (X @ A @ X.T)
    if causal:
        E = np.where(np.tri(n, dtype=bool), E, -np.inf)
    P = w * np.exp(E)
    want = P @ (X @ V.T)
    if sa:
        want /= P.sum(axis=1)[:, None]
    scale = P @ np.abs(X @ V.T).sum(axis=1) / (P.sum(axis=1) if sa else 1.0)
    assert_rows_close(got, want, scale, rtol(beta, A))


@pytest.mark.parametrize("model", ["sa", "usa"])
def test_massless_first_token_and_beta_zero(model):
    """A causal row whose only term is massless has the field 0; at β = 0 the weights are
    uniform: v_i = P_{x_i} V Σ_{j<=i} w_j x_j (USA), divided by Σ_{j<=i} w_j (SA)."""
    rng = np.random.default_rng(12)
    X = mt.uniform_sphere(8, 3, rng=rng)
    w = np.full(8, 1 / 7)
    w[0] = 0.0
    A, V = random_matrix(rng, 3), random_matrix(rng, 3)
    v = mt.velocity(X, 3.0, model, weights=w, A=A, V=V, causal=True)
    assert np.all(v[0] == 0.0) and np.all(np.isfinite(v))
    v0 = mt.velocity(X, 0.0, model, weights=w, A=A, V=V, causal=True)
    mean = np.cumsum(w[:, None] * X, axis=0) @ V.T
    if model == "sa":
        mean[1:] /= np.cumsum(w)[1:, None]
    want = mean - np.einsum("ij,ij->i", mean, X)[:, None] * X
    assert np.allclose(v0[1:], want[1:], rtol=0, atol=1e-14)


# --- defaults and the identity --------------------------------------------------------

@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), d=st.sampled_from([2, 3, 8]), n=st.integers(1, 60),
       beta=st.floats(-20.0, 20.0), sa=st.booleans())
def test_identity_matrices_are_the_default_bit_for_bit(seed, d, n, beta, sa):
    rng = np.random.default_rng(seed)
    X = mt.uniform_sphere(n, d, rng=rng)
    model = "sa" if sa else "usa"
    v0 = mt.velocity(X, beta, model)
    assert np.array_equal(mt.velocity(X, beta, model, A=np.eye(d), V=np.eye(d), causal=False), v0)
    assert np.array_equal(mt.attention(X, beta, model, A=np.eye(d), V=np.eye(d)), mt.attention(X, beta, model))
    theta = mt.uniform_circle(n, rng=rng)
    c0 = mt.velocity_circle(theta, beta, model)
    assert np.array_equal(mt.velocity_circle(theta, beta, model, A=np.eye(2), V=np.eye(2)), c0)
    # the general kernel at A = V = I agrees with the default field (another code path)
    general = _attention_eval.sphere_velocity(X, np.full(n, 1.0 / n), beta, sa, _attention_eval.Attention())
    want, scale = reference(X, np.full(n, 1.0 / n), beta, None, None, False, sa)
    assert_rows_close(general, want, scale, rtol(beta, None))
    assert_rows_close(v0, want, scale, rtol(beta, None))


def test_simulate_defaults_bit_for_bit():
    X = mt.uniform_sphere(20, 3, rng=3)
    t = [0.0, 0.5, 1.0]
    r0 = mt.simulate(X, 2.0, t, model="sa")
    r1 = mt.simulate(X, 2.0, t, model="sa", A=np.eye(3), V=None, causal=False)
    assert np.array_equal(r0.states, r1.states) and r0.dt == r1.dt
    theta = mt.uniform_circle(50, rng=3)
    b0 = mt.simulate_batch(np.stack([theta, theta[::-1]]), 3.0, t)
    b1 = mt.simulate_batch(np.stack([theta, theta[::-1]]), 3.0, t, A=np.eye(2), V=np.eye(2))
    assert np.array_equal(b0.states, b1.states)


def test_energy_takes_no_attention_matrices():
    with pytest.raises(TypeError):
        mt.energy(mt.uniform_sphere(5, 3, rng=0), 1.0, A=np.eye(3))


# --- exact facts of the causal mask ---------------------------------------------------

@pytest.mark.parametrize("c", [1.0, -1.5])
@pytest.mark.parametrize("model", ["sa", "usa"])
def test_causal_token_zero_never_moves(c, model):
    rng = np.random.default_rng(11)
    X = mt.uniform_sphere(30, 3, rng=rng)
    A = random_matrix(rng, 3)
    v = mt.velocity(X, 3.0, model, A=A, V=c * np.eye(3), causal=True)
    assert np.all(v[0] == 0.0) and np.all(np.abs(v[1:]).max(axis=1) > 0)
    r = mt.simulate(X, 3.0, [0.0, 1.0, 2.0], model=model, A=A, V=c * np.eye(3), causal=True)
    # its field is 0 exactly; only the retraction x / |x| may round it, by an ulp
    assert np.abs(r.states[:, 0] - X[0]).max() <= 2 * EPS
    assert np.abs(r.states[-1, 1:] - X[1:]).max() > 1e-3  # the others do move
    theta = mt.uniform_circle(30, rng=rng)
    assert mt.velocity_circle(theta, 3.0, model, A=rotation(0.4), causal=True)[0] == 0.0
    rc = mt.simulate(theta, 3.0, [0.0, 1.0], model=model, A=rotation(0.4), causal=True)
    assert rc.states[-1, 0] == rc.states[0, 0]


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(2, 30), m=st.integers(1, 30), d=st.sampled_from([2, 3, 6]))
def test_causal_prefix_property(seed, n, m, d):
    """The first m tokens of a causal SA run are a causal run of those m tokens alone."""
    m = min(m, n)
    rng = np.random.default_rng(seed)
    X = mt.uniform_sphere(n, d, rng=rng)
    w = weights(rng, n)
    A, V = random_matrix(rng, d), random_matrix(rng, d)
    t = [0.0, 0.5, 1.0]
    full = mt.simulate(X, 2.0, t, model="sa", weights=w, A=A, V=V, causal=True, dt=0.05)
    part = mt.simulate(X[:m], 2.0, t, model="sa", weights=w[:m] / w[:m].sum(), A=A, V=V, causal=True, dt=0.05)
    assert np.allclose(full.states[:, :m], part.states, rtol=0, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(3, 30), d=st.sampled_from([2, 3, 5]), sa=st.booleans())
def test_relabelling(seed, n, d, sa):
    """Without the mask any relabelling permutes the field; with it, permuting the tokens
    after position m leaves rows < m bit for bit (they never see them), while moving a
    later token to the front changes row 0."""
    rng = np.random.default_rng(seed)
    X = mt.uniform_sphere(n, d, rng=rng)
    w = weights(rng, n)
    A, V = random_matrix(rng, d), random_matrix(rng, d)
    model = "sa" if sa else "usa"
    v = mt.velocity(X, 2.0, model, weights=w, A=A, V=V)
    perm = rng.permutation(n)
    vp = mt.velocity(X[perm], 2.0, model, weights=w[perm], A=A, V=V)
    want, scale = reference(X, w, 2.0, A, V, False, sa)
    assert_rows_close(vp, v[perm], scale[perm], 2 * rtol(2.0, A))
    m = int(rng.integers(1, n))
    tail = np.concatenate([np.arange(m), m + rng.permutation(n - m)])
    # uniform weights: a permuted weight vector may be renormalised with another rounding
    vc = mt.velocity(X, 2.0, model, A=A, V=V, causal=True)
    vt = mt.velocity(X[tail], 2.0, model, A=A, V=V, causal=True)
    assert np.array_equal(vt[:m], vc[:m])
    swap = np.concatenate([[n - 1], np.arange(n - 1)])
    vs = mt.velocity(X[swap], 2.0, model, A=A, V=V, causal=True)
    assert not np.allclose(vs[1], vc[0])  # token 0 now sees x_{n-1}


# --- rotation invariance ----------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6), d=st.sampled_from([2, 3, 5]), causal=st.booleans(), sa=st.booleans())
def test_rotation_invariance(seed, d, causal, sa):
    """x -> R x, A -> R A Rᵀ, V -> R V Rᵀ maps the field v to R v."""
    rng = np.random.default_rng(seed)
    n, beta = 20, 4.0
    X = mt.uniform_sphere(n, d, rng=rng)
    A, V = random_matrix(rng, d), random_matrix(rng, d)
    R, _ = np.linalg.qr(rng.normal(size=(d, d)))
    model = "sa" if sa else "usa"
    v = mt.velocity(X, beta, model, A=A, V=V, causal=causal)
    XR = X @ R.T
    XR /= np.linalg.norm(XR, axis=1, keepdims=True)
    vr = mt.velocity(XR, beta, model, A=R @ A @ R.T, V=R @ V @ R.T, causal=causal)
    _, scale = reference(X, np.full(n, 1.0 / n), beta, A, V, causal, sa)
    assert_rows_close(vr, v @ R.T, scale, 20 * rtol(beta, A))


# --- the circle: the Fourier path for scaled rotations -----------------------------------

@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(1, 300), beta=st.floats(-30.0, 30.0),
       s=st.floats(0.0, 2.0), phi=st.floats(-np.pi, np.pi), c=st.floats(-2.0, 2.0),
       psi=st.floats(-np.pi, np.pi), sa=st.booleans())
def test_circle_rotation_fourier_matches_direct_sum(seed, n, beta, s, phi, c, psi, sa):
    rng = np.random.default_rng(seed)
    theta = mt.uniform_circle(n, rng=rng)
    w = weights(rng, n)
    A, V = rotation(phi, s), rotation(psi, c)
    model = "sa" if sa else "usa"
    f = mt.velocity_circle(theta, beta, model, "fourier", weights=w, A=A, V=V)
    g = mt.velocity_circle(theta, beta, model, "direct", weights=w, A=A, V=V)
    want, scale = circle_reference(theta, w, beta, A, V, False, sa)
    assert_rows_close(g, want[:, None], scale, rtol(beta, A))
    # Fourier: an absolute error of a few ulp of the field bound |c| e^{|β|s} (1 + |β|s) (USA)
    b = abs(beta * s)
    bound = abs(c) * (1.0 + b) * (1.0 if sa else np.exp(b))
    assert np.abs(f - g).max() <= 1e-13 * bound + 1e-300


def test_circle_auto_routes_rotations_to_fourier_and_the_rest_to_the_sum():
    theta = mt.uniform_circle(2000, rng=5)
    A, V = rotation(0.3, 1.2), rotation(-0.5, 0.7)
    auto = mt.velocity_circle(theta, 4.0, "usa", A=A, V=V)
    assert np.array_equal(auto, mt.velocity_circle(theta, 4.0, "usa", "fourier", A=A, V=V))
    general = np.array([[1.0, 0.2], [0.0, 1.0]])
    assert np.array_equal(mt.velocity_circle(theta[:300], 4.0, "sa", A=general),
                          mt.velocity_circle(theta[:300], 4.0, "sa", "direct", A=general))
    with pytest.raises(ValueError, match="scaled rotations"):
        mt.velocity_circle(theta, 4.0, "sa", "fourier", A=general)
    with pytest.raises(ValueError, match="causal=False"):
        mt.velocity_circle(theta, 4.0, "sa", "fourier", A=A, causal=True)


@pytest.mark.parametrize("sa", [True, False])
def test_circle_fourier_against_long_double(sa):
    rng = np.random.default_rng(9)
    theta = mt.uniform_circle(500, rng=rng)
    theta[:250] = rng.normal(0.0, 0.05, 250)  # a cluster: small SA denominators elsewhere
    w = np.full(500, 1 / 500)
    A, V = rotation(0.7, 1.5), rotation(1.1, 1.3)
    f = mt.velocity_circle(theta, 30.0, "sa" if sa else "usa", "fourier", A=A, V=V)
    want, scale = circle_reference(theta, w, 30.0, A, V, False, sa, dtype=LD)
    bound = 1.3 * 46.0 * (1.0 if sa else np.exp(45.0))
    assert np.abs(f - want.astype(float)).max() <= 1e-13 * bound


# --- simulate against a NumPy RK4 -------------------------------------------------------

def numpy_rk4(y, field, t_eval, dt, retract):
    out, t = [y.copy()], 0.0
    for t_out in t_eval[1:]:
        m = int(np.ceil((t_out - t) / dt * (1 - 1e-12)))
        h = (t_out - t) / m
        for _ in range(m):
            k1 = field(y)
            k2 = field(y + 0.5 * h * k1)
            k3 = field(y + 0.5 * h * k2)
            k4 = field(y + h * k3)
            y = retract(y + h / 6 * (k1 + 2 * (k2 + k3) + k4))
        out.append(y.copy())
        t = t_out
    return np.array(out)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10**6), d=st.sampled_from([2, 3, 4]), causal=st.booleans(), sa=st.booleans())
def test_simulate_matches_numpy_rk4(seed, d, causal, sa):
    rng = np.random.default_rng(seed)
    n, beta, t_eval, dt = 12, 2.0, np.array([0.0, 0.4, 1.0]), 0.02
    X = mt.uniform_sphere(n, d, rng=rng)
    w = weights(rng, n)
    A, V = normed(random_matrix(rng, d), 1.2), normed(random_matrix(rng, d), 1.0)  # L dt <= 0.5
    r = mt.simulate(X, beta, t_eval, model="sa" if sa else "usa", dt=dt, weights=w, A=A, V=V, causal=causal)
    ref = numpy_rk4(X, lambda Y: reference(Y, w, beta, A, V, causal, sa)[0], t_eval, dt,
                    lambda Y: Y / np.linalg.norm(Y, axis=1, keepdims=True))
    assert np.abs(r.states - ref).max() <= 1e-12
    theta = mt.uniform_circle(n, rng=rng)
    A2, V2 = normed(random_matrix(rng, 2), 1.2), normed(random_matrix(rng, 2), 1.0)
    rc = mt.simulate(theta, beta, t_eval, model="sa" if sa else "usa", dt=dt, weights=w, A=A2, V=V2, causal=causal)
    refc = numpy_rk4(np.mod(theta, 2 * np.pi), lambda th: circle_reference(th, w, beta, A2, V2, causal, sa)[0],
                     t_eval, dt, lambda th: np.mod(th, 2 * np.pi))
    diff = np.angle(np.exp(1j * (rc.states - refc)))
    assert np.abs(diff).max() <= 1e-12


def test_simulate_rotated_circle_fourier_matches_direct():
    theta = mt.uniform_circle(400, rng=4)
    A, V = rotation(0.5), rotation(0.2, 0.9)
    t = [0.0, 1.0, 2.0]
    f = mt.simulate(theta, 3.0, t, model="usa", dt=0.01, A=A, V=V, field_method="fourier")
    g = mt.simulate(theta, 3.0, t, model="usa", dt=0.01, A=A, V=V, field_method="direct")
    assert np.abs(np.angle(np.exp(1j * (f.states - g.states)))).max() <= 1e-11


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="needs two numba threads")
@pytest.mark.parametrize("sa", [True, False])
def test_circle_paths_do_not_depend_on_the_thread_count(sa):
    """The circle kernels are run on one thread below a work threshold (a parallel region
    costs more than the work there, and far more on a loaded machine): their results must be
    the same bit for bit on one thread and on two, above the threshold (n = 3·10^5)."""
    n = 300_000
    theta = mt.uniform_circle(n, rng=8)
    w = np.full(n, 1.0 / n)
    rows = np.array([0, 7, n // 2, n - 1])
    causal = _attention_eval.parse_attention(None, None, True, 2)
    rotated = _attention_eval.parse_attention(rotation(0.4), rotation(1.1, 0.7), False, 2)
    calls = (
        lambda: _attention_eval.direct_circle(theta, w, 3.0, sa, causal, rows),
        lambda: _attention_eval.batch_circle_velocity(theta[None, :400], w[None, :400] * (n / 400), 3.0, sa, causal),
        lambda: _attention_eval.rotation_fourier(theta, w, 3.0, sa, rotated),
        lambda: mt.energy_circle(theta, 3.0),
    )
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = [np.asarray(f()) for f in calls]
        numba.set_num_threads(2)
        two = [np.asarray(f()) for f in calls]
    finally:
        numba.set_num_threads(previous)
    for a, b in zip(one, two):
        assert np.array_equal(a, b)
    # the causal rows against the NumPy direct sum over j <= i (A = V = I)
    for r, v in zip(rows, one[0]):
        g = theta[: r + 1] - theta[r]
        e = np.exp(3.0 * np.cos(g) - 3.0) / n
        ref = np.sum(e * np.sin(g)) / (np.sum(e) if sa else np.exp(-3.0))
        assert abs(v - ref) <= 1e-12 * (1.0 + abs(ref))


def test_default_step_uses_the_matrix_norms():
    X = mt.uniform_sphere(5, 3, rng=0)
    A, V = 2.0 * np.eye(3) + 0.0, np.diag([3.0, 1.0, 1.0])
    r = mt.simulate(X, 1.5, [0.0, 0.01], model="usa", A=A, V=V)
    assert r.dt == 1.0 / (2.0 * 3.0 * np.exp(1.5 * 2.0))
    r = mt.simulate(X, 1.5, [0.0, 0.01], model="sa", A=A, V=V)
    assert r.dt == 1.0 / (2.0 * 3.0 * (1.0 + 2.0 * 1.5 * 2.0))


# --- simulate_batch against the loop of simulate ------------------------------------------

@pytest.mark.parametrize("method", ["rk4", "dopri"])
@pytest.mark.parametrize("geometry", ["sphere", "circle", "rotation", "rotation_auto"])
def test_simulate_batch_is_the_loop(method, geometry):
    rng = np.random.default_rng(21)
    B, n, t = 3, 16, [0.0, 0.5, 1.0]
    if geometry == "sphere":
        x0s = np.stack([mt.uniform_sphere(n, 3, rng=rng) for _ in range(B)])
        A, V, causal = random_matrix(rng, 3), random_matrix(rng, 3), True
    else:
        x0s = np.stack([mt.uniform_circle(n, rng=rng) for _ in range(B)])
        A, V, causal = (random_matrix(rng, 2), random_matrix(rng, 2), False) if geometry == "circle" else (
            rotation(0.4, 1.1), rotation(-0.2, 0.8), geometry == "rotation_auto")
    how = "fourier" if geometry == "rotation" else "auto"  # auto: the batched direct sum
    batch = mt.simulate_batch(x0s, 2.0, t, model="sa", method=method, A=A, V=V, causal=causal, field_method=how)
    for b in range(B):
        one = mt.simulate(x0s[b], 2.0, t, model="sa", method=method, A=A, V=V, causal=causal, field_method=how)
        diff = batch.states[:, b] - one.states
        if x0s.ndim == 2:
            diff = np.angle(np.exp(1j * diff))
        assert np.abs(diff).max() <= 1e-12
        assert batch.n_steps[b] == one.n_steps


def test_simulate_batch_relabelling_systems_is_bit_for_bit():
    rng = np.random.default_rng(8)
    x0s = np.stack([mt.uniform_sphere(10, 3, rng=rng) for _ in range(5)])
    A, V = random_matrix(rng, 3), random_matrix(rng, 3)
    perm = rng.permutation(5)
    r = mt.simulate_batch(x0s, 2.0, [0.0, 0.5], model="usa", A=A, V=V, causal=True)
    rp = mt.simulate_batch(x0s[perm], 2.0, [0.0, 0.5], model="usa", A=A, V=V, causal=True)
    assert np.array_equal(rp.states, r.states[:, perm])


# --- noise, float32, bad input ---------------------------------------------------------------

def test_noise_with_attention_matrices():
    rng = np.random.default_rng(2)
    X = mt.uniform_sphere(20, 3, rng=rng)
    A, V = random_matrix(rng, 3), random_matrix(rng, 3)
    kw = dict(model="sa", A=A, V=V, causal=True, dt=0.01)
    r1 = mt.simulate(X, 2.0, [0.0, 0.5], diffusion=0.05, rng=4, **kw)
    r2 = mt.simulate(X, 2.0, [0.0, 0.5], diffusion=0.05, rng=4, **kw)
    assert np.array_equal(r1.states, r2.states)
    assert np.allclose(np.linalg.norm(r1.states, axis=2), 1.0, atol=1e-14)
    det = mt.simulate(X, 2.0, [0.0, 0.5], **kw)
    assert np.array_equal(mt.simulate(X, 2.0, [0.0, 0.5], diffusion=0.0, **kw).states, det.states)
    assert np.abs(r1.states[-1] - det.states[-1]).max() > 1e-3  # the noise acts
    b = mt.simulate_batch(np.stack([X, X]), 2.0, [0.0, 0.5], diffusion=0.05, rng=4, **kw)
    assert np.all(np.isfinite(b.states))


def test_float32_input():
    rng = np.random.default_rng(6)
    X32 = mt.uniform_sphere(30, 3, rng=rng).astype(np.float32)
    A32, V32 = random_matrix(rng, 3).astype(np.float32), random_matrix(rng, 3).astype(np.float32)
    v = mt.velocity(X32, 2.0, "sa", A=A32, V=V32, causal=True)
    assert v.dtype == np.float64
    X64 = X32.astype(np.float64)
    X64 /= np.linalg.norm(X64, axis=1, keepdims=True)
    want, scale = reference(X64, np.full(30, 1 / 30), 2.0, A32.astype(float), V32.astype(float), True, True)
    assert_rows_close(v, want, scale, rtol(2.0, A32.astype(float)))
    theta32 = mt.uniform_circle(30, rng=rng).astype(np.float32)
    assert mt.velocity_circle(theta32, 2.0, A=rotation(0.3).astype(np.float32)).dtype == np.float64


X_OK = mt.uniform_sphere(6, 3, rng=0)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: mt.velocity(X_OK, 1.0, A=np.eye(2)), ValueError, "A must have shape"),
        (lambda: mt.velocity(X_OK, 1.0, V=np.ones((3, 3, 1))), ValueError, "V must have 2"),
        (lambda: mt.velocity(X_OK, 1.0, A=np.eye(3) * 1j), TypeError, "A must be real"),
        (lambda: mt.velocity(X_OK, 1.0, V=np.full((3, 3), np.nan)), ValueError, "V must contain only finite"),
        (lambda: mt.velocity(X_OK, 1.0, A=[["a"] * 3] * 3), TypeError, "A must be a numeric"),
        (lambda: mt.velocity(X_OK, 1.0, causal=1), TypeError, "causal must be a bool"),
        (lambda: mt.velocity(X_OK, 1.0, method="harmonic", A=2 * np.eye(3)), ValueError, "harmonic"),
        (lambda: mt.attention(X_OK, 1.0, A=np.eye(4)), ValueError, "A must have shape"),
        (lambda: mt.velocity_circle([0.0, 1.0], 1.0, A=np.eye(3)), ValueError, "A must have shape"),
        (lambda: mt.velocity_circle([0.0, 1.0], 1.0, causal="yes"), TypeError, "causal"),
        (lambda: mt.simulate(X_OK, 1.0, [0, 1], V=np.eye(2)), ValueError, "V must have shape"),
        (lambda: mt.simulate(X_OK, 1.0, [0, 1], causal=None), TypeError, "causal"),
        (lambda: mt.simulate(X_OK, 1.0, [0, 1], A=2 * np.eye(3), field_method="harmonic"), ValueError, "harmonic"),
        (lambda: mt.simulate_batch(X_OK[None], 1.0, [0, 1], A=np.eye(4)), ValueError, "A must have shape"),
        (lambda: mt.simulate_batch(np.zeros((2, 5)), 1.0, [0, 1], A=[[1.0, 2.0], [0.0, 1.0]], field_method="fourier"),
         ValueError, "scaled rotations"),
    ],
)
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
