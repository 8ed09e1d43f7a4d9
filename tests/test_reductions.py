"""Tests for mtlib.reductions: the equiangular ODE against the particle system and closed
forms, normalisation schemes, the Gram flow, the long-context map, the integrator against
scipy's DOP853, and bad input."""

import dataclasses
import math

import numpy as np
import pytest
from scipy.integrate import quad, solve_ivp

import mtlib as mt
from mtlib import reductions as R

SCHEMES = R.NORMALIZATIONS


def pair_products(theta):
    """<θ_0, θ_1> along a trajectory (T, n, d)."""
    return np.einsum("td,td->t", theta[:, 0], theta[:, 1])


# ---------------------------------------------------------------- the equiangular ODE


@pytest.mark.parametrize("model", ["sa", "usa"])
@pytest.mark.parametrize("beta", [0.0, 1.0, 4.0])
def test_rhs_matches_particle_velocity(model, beta):
    """ρ' = 2 <v_i, x_j> for the field of mtlib.velocity at an equiangular frame."""
    n = 6
    for rho in [-1.0 / (n - 1) + 1e-3, -0.1, 0.0, 0.3, 0.9, 0.999]:
        X = mt.equiangular_frame(n, n, rho)
        V = mt.velocity(X, beta, model=model)
        G = V @ X.T
        direct = G + G.T
        off = direct[~np.eye(n, dtype=bool)]
        F = R.equiangular_rhs(rho, beta, n, model=model)
        assert np.allclose(off, F, rtol=1e-12, atol=1e-14)


def test_rhs_closed_forms_and_vectorised():
    rho = np.linspace(-0.2, 1.0, 13)
    beta, n = 2.5, 6
    sa = 2 * np.exp(beta * rho) * (1 - rho) * ((n - 1) * rho + 1) / (np.exp(beta) + (n - 1) * np.exp(beta * rho))
    usa = (2 / n) * np.exp(beta * rho) * (1 - rho) * ((n - 1) * rho + 1)
    assert np.allclose(R.equiangular_rhs(rho, beta, n, "sa"), sa, rtol=1e-13, atol=1e-15)
    assert np.allclose(R.equiangular_rhs(rho, beta, n, "usa"), usa, rtol=1e-13, atol=1e-15)
    assert isinstance(R.equiangular_rhs(0.5, beta, n), float)
    assert R.equiangular_rhs(1.0, beta, n) == 0.0
    assert abs(R.equiangular_rhs(-1.0 / (n - 1), beta, n, "sa")) < 1e-15
    assert np.array_equal(R.equiangular_rhs(rho, beta, n), R.equiangular_rhs(rho, beta, n, "usa"))  # default


@pytest.mark.parametrize("model", ["sa", "usa"])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_ode_matches_particles_from_basis(model, scheme):
    """x_i(0) = e_i (n = d): the particle system stays equiangular and follows the ODE."""
    n, beta = 8, 3.0
    t = np.linspace(0.0, 6.0, 13)
    ode = R.solve_equiangular(0.0, beta, n, t, model=model, normalization=scheme)
    run = R.simulate_normalized(np.eye(n), beta, t, normalization=scheme, model=model)
    G = np.einsum("tid,tjd->tij", run.theta, run.theta)
    off = G[:, ~np.eye(n, dtype=bool)]
    assert np.max(np.abs(off - ode.rho[:, None])) <= 1e-8
    assert np.max(np.abs(run.r - ode.r[:, None])) <= 1e-8 * max(1.0, ode.r.max())


@pytest.mark.parametrize("beta", [0.5, 4.0])
def test_ode_matches_mtlib_simulate(beta):
    """Post-LN is the plain SA flow of mtlib.simulate (an independent integrator)."""
    n = 10
    t = np.linspace(0.0, 5.0, 11)
    ode = R.solve_equiangular(0.1, beta, n, t, model="sa")
    run = mt.simulate(mt.equiangular_frame(n, n, 0.1), beta, t, model="sa", method="dopri", rtol=1e-12, atol=1e-14)
    assert np.max(np.abs(pair_products(run.states) - ode.rho)) <= 1e-8


def test_ode_against_quadrature():
    """Post-LN: t(ρ) = ∫ dρ / F(ρ) (an independent quadrature)."""
    beta, n = 5.0, 32
    t = np.array([1.0, 3.0, 8.0])
    ode = R.solve_equiangular(0.0, beta, n, t, model="sa")
    for ti, rho in zip(t, ode.rho):
        back = quad(lambda r: 1.0 / R.equiangular_rhs(r, beta, n, "sa"), 0.0, rho, epsabs=1e-13, epsrel=1e-12)[0]
        assert abs(back - ti) < 1e-8 * ti


@pytest.mark.parametrize("beta,n", [(0.5, 4), (3.0, 32), (9.0, 100)])
def test_sa_rate_is_exactly_two(beta, n):
    t = np.array([40.0, 41.0]) + R.clustering_time(beta, n, threshold=0.9, model="sa")
    res = R.solve_equiangular(0.0, beta, n, t, model="sa")
    rate = -(res.log_one_minus_rho[1] - res.log_one_minus_rho[0])
    assert abs(rate / 2.0 - 1.0) < 1e-3
    assert res.one_minus_rho[1] < 1e-30  # far below double precision of ρ itself


@pytest.mark.parametrize("beta,n", [(0.5, 4), (2.0, 32)])
def test_usa_rate_is_two_e_beta(beta, n):
    t0 = R.clustering_time(beta, n, threshold=0.9, model="usa")
    t = t0 + np.array([20.0, 21.0]) / math.exp(beta)
    res = R.solve_equiangular(0.0, beta, n, t, model="usa")
    rate = -(res.log_one_minus_rho[1] - res.log_one_minus_rho[0]) / (t[1] - t[0])
    assert abs(rate / (2.0 * math.exp(beta)) - 1.0) < 1e-3


def test_rate_from_particles():
    """The same rate 2 measured on the particle system (1-ρ = |θ_i-θ_j|²/2 keeps precision)."""
    n, beta = 6, 2.0
    t = np.array([8.0, 9.0])
    run = R.simulate_normalized(np.eye(n), beta, t, model="sa", rtol=1e-12, atol=1e-16)
    gap = 0.5 * np.sum((run.theta[:, 0] - run.theta[:, 1]) ** 2, axis=1)
    rate = -np.log(gap[1] / gap[0])
    assert abs(rate / 2.0 - 1.0) < 1e-3


def test_pre_ln_decays_like_inverse_square():
    t = np.array([500.0, 1000.0, 2000.0])
    res = R.solve_equiangular(0.0, 2.0, 16, t, model="sa", normalization="pre")
    slopes = np.diff(res.log_one_minus_rho) / np.diff(np.log(t))
    assert np.all(np.abs(slopes + 2.0) < 1e-2)
    assert abs(slopes[1] + 2.0) < abs(slopes[0] + 2.0)  # converging to -2
    assert np.allclose(res.r / t, 1.0, rtol=1e-2)  # r ~ t


def test_schemes_ordering_and_collapse():
    """Every scheme collapses; Post-LN and nGPT(α=1) at rate 2, sqrt-scaling like e^{-4√t}."""
    t = np.array([30.0, 31.0])
    rate = {}
    for s in SCHEMES:
        res = R.solve_equiangular(0.0, 1.0, 32, t, model="sa", normalization=s)
        assert res.rho[-1] > 0.99
        rate[s] = -(res.log_one_minus_rho[1] - res.log_one_minus_rho[0])
    assert abs(rate["post"] - 2) < 1e-6 and abs(rate["ngpt"] - 2) < 1e-6
    assert abs(rate["sqrt"] - 4 * (math.sqrt(32) - math.sqrt(31))) < 1e-6
    res = R.solve_equiangular(0.0, 1.0, 32, t, model="sa", normalization="ngpt", alpha=2.0)
    assert abs(-(res.log_one_minus_rho[1] - res.log_one_minus_rho[0]) - 4.0) < 1e-6


def test_fixed_points_and_t_eval_conventions():
    t = np.array([0.0, 1.0, 2.0])
    res = R.solve_equiangular(1.0, 3.0, 5, t, model="sa", normalization="pre", r0=2.0)
    assert np.all(res.rho == 1.0) and np.all(res.log_one_minus_rho == -np.inf)
    assert np.allclose(res.r, 2.0 + t)
    assert res.n_steps == 0 and res.nfev == 0 and "fixed point" in res.message
    res = R.solve_equiangular(-0.25, 3.0, 5, t)
    assert np.allclose(res.rho, -0.25, atol=1e-14)
    res = R.solve_equiangular(0.2, 3.0, 5, [0.0])
    assert res.rho.shape == (1,) and res.rho[0] == pytest.approx(0.2)
    a = R.solve_equiangular(0.0, 3.0, 5, [0.0, 1.0, 2.0])
    b = R.solve_equiangular(0.0, 3.0, 5, [2.0])
    assert abs(a.rho[-1] - b.rho[0]) < 1e-11


@pytest.mark.parametrize("beta,expected,digits", [(1.0, 5.27, 2), (5.0, 9.54, 2), (7.0, 32.2, 1), (9.0, 178.7, 1)])
def test_clustering_time_values(beta, expected, digits):
    """The values quoted in MATH.md §6 (SA, n = 32, ρ: 0 -> 0.999), to their printed digits."""
    assert round(R.clustering_time(beta, 32, model="sa"), digits) == expected


def test_clustering_time_consistent_with_solution():
    for model in ("sa", "usa"):
        t = R.clustering_time(5.0, 32, model=model, normalization="peri")
        res = R.solve_equiangular(0.0, 5.0, 32, [t], model=model, normalization="peri")
        assert abs(res.rho[0] - 0.999) < 1e-9
        assert R.clustering_time(5.0, 32, rho0=0.9995, model=model) == 0.0
        # sqrt-scaling is a time change of Post-LN: τ = 2(√(t+1) - 1)
        tau = R.clustering_time(5.0, 32, model=model)
        assert R.clustering_time(5.0, 32, model=model, normalization="sqrt") == pytest.approx(
            (tau / 2 + 1) ** 2 - 1, rel=1e-8)


# ---------------------------------------------------------------- particles with normalisation


def test_simulate_normalized_rotation_invariance_and_post_matches_simulate():
    rng = np.random.default_rng(3)
    n, d, beta = 7, 5, 2.0
    X0 = mt.uniform_sphere(n, d, rng) * rng.uniform(0.5, 2.0, (n, 1))
    Q = np.linalg.qr(rng.standard_normal((d, d)))[0]
    t = np.linspace(0.0, 3.0, 4)
    for s in SCHEMES:
        a = R.simulate_normalized(X0, beta, t, normalization=s)
        b = R.simulate_normalized(X0 @ Q, beta, t, normalization=s)
        assert np.allclose(a.states @ Q, b.states, atol=1e-8)
        assert np.allclose(np.linalg.norm(a.theta, axis=-1), 1.0, atol=1e-14)
    post = R.simulate_normalized(X0, beta, t, model="sa")
    ref = mt.simulate(X0 / np.linalg.norm(X0, axis=1, keepdims=True), beta, t, model="sa", method="dopri", rtol=1e-12, atol=1e-14)
    assert np.allclose(post.theta, ref.states, atol=1e-8)
    assert np.allclose(post.r, np.linalg.norm(X0, axis=1))


def test_pre_ln_is_residual_update():
    """Pre-LN: x_i' = A_i(θ), checked by a finite difference of the tokens x = r θ."""
    rng = np.random.default_rng(4)
    X0 = mt.uniform_sphere(5, 3, rng) * 1.5
    h = 1e-5
    run = R.simulate_normalized(X0, 1.5, [0.0, h], normalization="pre", model="sa", rtol=1e-13, atol=1e-15)
    th = X0 / np.linalg.norm(X0, axis=1, keepdims=True)
    E = np.exp(1.5 * th @ th.T)
    A = (E / E.sum(1, keepdims=True)) @ th
    assert np.allclose((run.states[1] - run.states[0]) / h, A, atol=1e-4)


# ---------------------------------------------------------------- the Gram flow


@pytest.mark.parametrize("model", ["sa", "usa"])
def test_gram_flow_matches_particles(model):
    rng = np.random.default_rng(5)
    n, d, beta = 9, 4, 2.0
    X0 = mt.uniform_sphere(n, d, rng)
    t = np.linspace(0.0, 3.0, 7)
    run = mt.simulate(X0, beta, t, model=model, method="dopri", rtol=1e-12, atol=1e-14)
    G = np.einsum("tid,tjd->tij", run.states, run.states)
    gr = R.simulate_gram(X0 @ X0.T, beta, t, model=model, rtol=1e-12, atol=1e-14)
    assert gr.gram.shape == (t.size, n, n)
    assert np.max(np.abs(gr.gram - G)) < 1e-9


def test_gram_batch_equals_separate_runs_and_equiangular():
    rng = np.random.default_rng(6)
    n = 6
    G0 = np.stack([(X := mt.uniform_sphere(n, 3, rng)) @ X.T for _ in range(3)])
    betas = np.array([0.5, 2.0, 6.0])
    t = np.linspace(0.0, 4.0, 5)
    batch = R.simulate_gram(G0, betas, t, model="sa", rtol=1e-11, atol=1e-13)
    assert batch.gram.shape == (5, 3, n, n)
    for b in range(3):
        one = R.simulate_gram(G0[b], betas[b], t, model="sa", rtol=1e-11, atol=1e-13)
        assert np.max(np.abs(one.gram - batch.gram[:, b])) < 1e-8
    eq = R.simulate_gram(mt.equiangular_frame(n, n, 0.0) @ np.eye(n), [1.0, 5.0], t, model="sa", rtol=1e-11, atol=1e-13)
    for b, beta in enumerate([1.0, 5.0]):
        ode = R.solve_equiangular(0.0, beta, n, t, model="sa")
        assert np.max(np.abs(eq.gram[:, b, 0, 1] - ode.rho)) < 1e-8


def test_clustered_pair_fraction():
    G = np.array([[1.0, 0.9995, 0.2], [0.9995, 1.0, 0.1], [0.2, 0.1, 1.0]])
    assert R.clustered_pair_fraction(G) == pytest.approx(1 / 3)
    assert R.clustered_pair_fraction(np.stack([G, np.ones((3, 3))])).tolist() == pytest.approx([1 / 3, 1.0])
    with pytest.raises(ValueError):
        R.clustered_pair_fraction(np.ones((3, 2)))


# ---------------------------------------------------------------- long context


def direct_long_context(rho, gamma, n):
    X = mt.equiangular_frame(n, n, rho)
    beta = gamma * math.log(n)
    L = beta * X @ X.T
    S = np.exp(L - L.max(1, keepdims=True))
    Y = (S / S.sum(1, keepdims=True)) @ X
    Y /= np.linalg.norm(Y, axis=1, keepdims=True)
    return Y[0] @ Y[1]


@pytest.mark.parametrize("rho,gamma,n", [(0.5, 2.0, 50), (0.2, 0.7, 30), (0.8, 9.0, 40), (-0.01, 1.5, 20)])
def test_long_context_exact_finite_n(rho, gamma, n):
    assert R.long_context_correlation(rho, gamma, n) == pytest.approx(direct_long_context(rho, gamma, n), abs=1e-12)


def test_long_context_values_and_limit():
    assert R.long_context_correlation(0.5, 2.0, 100) == pytest.approx(0.8028, abs=5e-5)
    assert R.long_context_correlation(0.5, 2.0, 10_000) == pytest.approx(0.8000, abs=5e-5)
    lim = R.long_context_correlation(0.5, np.array([1.0, 2.0, 3.0]))
    assert lim.tolist() == [1.0, 0.8, 0.5]
    assert R.critical_gamma(0.5) == 2.0
    rho = np.array([0.1, 0.5, 0.9])
    g = R.critical_gamma(rho)
    assert np.allclose(R.long_context_correlation(rho, g), 4 * rho / (1 + 3 * rho))
    # finite n approaches the limit away from the critical line
    for gamma, limit in [(1.0, 1.0), (4.0, 0.5)]:
        errs = [abs(R.long_context_correlation(0.5, gamma, n) - limit) for n in (10**2, 10**4, 10**8)]
        assert errs[0] > errs[1] > errs[2] and errs[2] < 1e-3, errs
    grid = R.long_context_correlation(0.5, np.linspace(0.5, 4, 8)[:, None], np.array([10, 1000]))
    assert grid.shape == (8, 2)


# ---------------------------------------------------------------- bad input


def test_bad_input():
    with pytest.raises(ValueError, match=r"rho0 must lie in \[-1/\(n-1\), 1\]"):
        R.solve_equiangular(-0.5, 1.0, 4, [1.0])
    with pytest.raises(ValueError, match="rho"):
        R.solve_equiangular(1.01, 1.0, 4, [1.0])
    with pytest.raises(ValueError, match="rho"):
        R.equiangular_rhs(-0.4, 1.0, 4)
    with pytest.raises(ValueError, match="n must be >= 2"):
        R.equiangular_rhs(0.0, 1.0, 1)
    with pytest.raises(ValueError, match="n must be >= 2"):
        R.long_context_correlation(0.5, 1.0, 1)
    with pytest.raises(ValueError, match="gamma must be > 0"):
        R.long_context_correlation(0.5, 0.0, 100)
    with pytest.raises(ValueError, match="gamma must be > 0"):
        R.long_context_correlation(0.5, -1.0)
    with pytest.raises(ValueError, match="rho must lie"):
        R.long_context_correlation(-0.1, 1.0)
    with pytest.raises(ValueError, match="normalization must be one of"):
        R.solve_equiangular(0.0, 1.0, 4, [1.0], normalization="batchnorm")
    with pytest.raises(ValueError, match="normalization must be one of"):
        R.simulate_normalized(np.eye(3), 1.0, [1.0], normalization="rms")
    with pytest.raises(ValueError, match="model"):
        R.solve_equiangular(0.0, 1.0, 4, [1.0], model="softmax")
    with pytest.raises(TypeError):
        R.solve_equiangular(0.0, 1.0, 4.5, [1.0])
    with pytest.raises(ValueError, match="strictly increasing"):
        R.solve_equiangular(0.0, 1.0, 4, [2.0, 1.0])
    with pytest.raises(ValueError, match="overflows"):
        R.solve_equiangular(0.0, 800.0, 4, [1.0], model="usa")
    with pytest.raises(ValueError, match="nonzero rows"):
        R.simulate_normalized(np.array([[1.0, 0.0], [0.0, 0.0]]), 1.0, [1.0])
    with pytest.raises(ValueError, match="unit diagonal"):
        R.simulate_gram(2 * np.eye(3), 1.0, [1.0])
    with pytest.raises(ValueError, match="one value per system"):
        R.simulate_gram(np.stack([np.eye(3)] * 2), [1.0, 2.0, 3.0], [1.0])
    with pytest.raises(ValueError, match="simplex"):
        R.clustering_time(1.0, 5, rho0=-0.25)
    # aliases of the scheme names
    a = R.solve_equiangular(0.0, 1.0, 4, [1.0], normalization="Pre-LN")
    assert a.normalization == "pre"


def test_public_names_exported():
    for name in R.__all__:
        assert getattr(mt, name) is getattr(R, name)


def test_long_context_limit_for_orthogonal_tokens():
    """ρ = 0: the self-weight n^(γ-1) competes with |x̄|² = 1/n, so the limit jumps at γ = 1/2."""
    limits = mt.long_context_correlation(0.0, np.array([0.3, 0.5, 0.75, 1.0, 2.0]))
    assert np.array_equal(limits, [1.0, 0.5, 0.0, 0.0, 0.0])
    for gamma, limit in ((0.3, 1.0), (0.5, 0.5), (0.75, 0.0)):
        finite = mt.long_context_correlation(0.0, gamma, n=10**16)
        assert abs(finite - limit) < 2e-2, (gamma, finite)


# ---------------------------------------------------------------- mtlib's integrator against scipy's DOP853


def scipy_equiangular_rhs(beta, n, model, normalization, alpha=1.0):
    """The equiangular ODE in (u, r) = (log(1-ρ), r), written from the formulas of the docs."""
    sa = model == "sa"

    def rhs(t, y):
        u, r = y
        w = math.exp(u)
        rho, E = 1.0 - w, math.exp(-beta * w)
        f = 1.0 / (1.0 + (n - 1) * E) if sa else math.exp(beta) / n
        c1 = f * (1.0 + (n - 1) * rho * E)
        nA = f * math.sqrt(1.0 + 2.0 * (n - 1) * rho * E + (n - 1) * E * E * (1.0 + (n - 2) * rho))
        s, dr = {"post": (1.0, 0.0), "pre": (r, c1), "peri": (r * nA, c1 / nA), "ngpt": (nA / alpha, 0.0),
                 "sqrt": (math.sqrt(t + 1.0), 0.0)}[normalization]
        return [-(2.0 / s) * f * E * (1.0 + (n - 1) * rho), dr]

    return rhs


@pytest.mark.parametrize("model", ["sa", "usa"])
@pytest.mark.parametrize("scheme", SCHEMES)
def test_equiangular_against_scipy_dop853(model, scheme):
    beta, n, rho0, alpha = 3.0, 12, 0.05, 1.5
    t = np.linspace(0.0, 8.0 if model == "sa" else 8.0 * math.exp(-beta), 17)
    ref = solve_ivp(scipy_equiangular_rhs(beta, n, model, scheme, alpha), (0.0, t[-1]), [math.log1p(-rho0), 2.0],
                    method="DOP853", t_eval=t, rtol=1e-13, atol=1e-14)
    res = R.solve_equiangular(rho0, beta, n, t, model=model, normalization=scheme, r0=2.0, alpha=alpha)
    assert np.max(np.abs(res.log_one_minus_rho - ref.y[0])) < 1e-9
    assert np.max(np.abs(res.r - ref.y[1])) < 1e-9 * np.max(np.abs(ref.y[1]))
    assert res.n_steps > 0 and res.nfev >= 6 * res.n_steps and res.wall_time > 0 and res.message


@pytest.mark.parametrize("model,beta", [("sa", 1.0), ("sa", 9.0), ("usa", 2.0)])
def test_clustering_time_against_scipy_event(model, beta):
    n = 32
    event = lambda t, y: y[0] - math.log1p(-0.999)  # noqa: E731
    event.terminal, event.direction = True, -1
    ref = solve_ivp(scipy_equiangular_rhs(beta, n, model, "post"), (0.0, 1e7), [0.0, 1.0], method="DOP853",
                    events=event, rtol=1e-13, atol=1e-14)
    assert R.clustering_time(beta, n, model=model) == pytest.approx(ref.t_events[0][0], rel=1e-10)


def numpy_attention(X, beta, sa):
    L = beta * X @ X.T
    if sa:
        S = np.exp(L - L.max(axis=1, keepdims=True))
        return (S / S.sum(axis=1, keepdims=True)) @ X
    return np.exp(L) @ X / X.shape[0]


@pytest.mark.parametrize("model", ["sa", "usa"])
@pytest.mark.parametrize("scheme", ["pre", "peri", "ngpt"])
def test_simulate_normalized_against_scipy_dop853(model, scheme):
    rng = np.random.default_rng(8)
    n, d, beta, alpha = 6, 3, 1.5, 2.0
    X0 = mt.uniform_sphere(n, d, rng) * rng.uniform(0.5, 2.0, (n, 1))

    def rhs(t, y):
        th = y[: n * d].reshape(n, d)
        th = th / np.linalg.norm(th, axis=1, keepdims=True)
        r = y[n * d:]
        A = numpy_attention(th, beta, model == "sa")
        c1 = np.sum(th * A, axis=1)
        nA = np.linalg.norm(A, axis=1)
        s, dr = {"pre": (r, c1), "peri": (r * nA, c1 / nA), "ngpt": (nA / alpha, 0 * r)}[scheme]
        return np.concatenate([((A - c1[:, None] * th) / s[:, None]).ravel(), dr])

    r0 = np.linalg.norm(X0, axis=1)
    t = np.linspace(0.0, 2.0, 5)
    ref = solve_ivp(rhs, (0, t[-1]), np.concatenate([(X0 / r0[:, None]).ravel(), r0]), method="DOP853",
                    t_eval=t, rtol=1e-12, atol=1e-14)
    theta = ref.y[: n * d].T.reshape(-1, n, d)
    theta /= np.linalg.norm(theta, axis=2, keepdims=True)
    res = R.simulate_normalized(X0, beta, t, normalization=scheme, model=model, alpha=alpha)
    assert np.max(np.abs(res.theta - theta)) < 1e-8
    assert np.max(np.abs(res.r - ref.y[n * d:].T)) < 1e-8 * np.max(ref.y[n * d:])
    assert res.nfev >= 6 * res.n_steps > 0 and res.message


@pytest.mark.parametrize("model", ["sa", "usa"])
def test_simulate_gram_against_scipy_and_rk4(model):
    rng = np.random.default_rng(9)
    n, beta = 7, 2.5
    X = mt.uniform_sphere(n, 4, rng)

    def rhs(t, y):
        G = y.reshape(n, n)
        L = beta * G
        if model == "sa":
            S = np.exp(L - L.max(axis=1, keepdims=True))
            S /= S.sum(axis=1, keepdims=True)
        else:
            S = np.exp(L) / n
        M = S @ G - np.diag(S @ G)[:, None] * G
        return (M + M.T).ravel()

    t = np.linspace(0.0, 3.0, 7)
    ref = solve_ivp(rhs, (0, t[-1]), (X @ X.T).ravel(), method="DOP853", t_eval=t, rtol=1e-12, atol=1e-14)
    ref = ref.y.T.reshape(-1, n, n)
    res = R.simulate_gram(X @ X.T, beta, t, model=model, rtol=1e-11, atol=1e-13)
    assert np.max(np.abs(res.gram - ref)) < 1e-9
    rk4 = R.simulate_gram(X @ X.T, beta, t, model=model, method="rk4", dt=1e-3)
    assert np.max(np.abs(rk4.gram - ref)) < 1e-9
    assert rk4.n_steps == 3000 and rk4.nfev == 4 * rk4.n_steps


def test_chapter8_sweep_call_matches_a_converged_run():
    """Chapter 8 sweeps simulate_gram at rtol = 1e-7: the clustered fractions it reads are
    those of a tightly converged run (the sweep reads P at 60 times, 496 pairs)."""
    X = mt.uniform_sphere(32, 128, rng=128 * 1000 + 1)
    t = np.geomspace(0.3, 200.0, 60)
    for beta in (2.0, 6.0):
        fast = R.simulate_gram(X @ X.T, beta, np.concatenate([[0.0], t]), model="sa", rtol=1e-7, atol=1e-9)
        slow = R.simulate_gram(X @ X.T, beta, np.concatenate([[0.0], t]), model="sa", rtol=1e-11, atol=1e-13)
        assert np.array_equal(R.clustered_pair_fraction(fast.gram[1:]), R.clustered_pair_fraction(slow.gram[1:]))
        assert np.max(np.abs(fast.gram - slow.gram)) < 1e-5
        # the chapter stops at 0.9999 and sets P = 1 from there on: what the converged run gives
        stop = R.simulate_gram(X @ X.T, beta, t, model="sa", rtol=1e-7, atol=1e-9, stop_above=0.9999)
        P = np.ones(t.size)
        P[: stop.t.size] = R.clustered_pair_fraction(stop.gram)
        assert np.array_equal(P, R.clustered_pair_fraction(slow.gram[1:]))
    assert stop.status == 1  # β = 6 clusters before t = 200


def _sa_gram_rhs(n, beta):
    """The SA Gram field G' = M + Mᵀ on a flattened (n, n) matrix, written with plain NumPy."""

    def rhs(t, y):
        G = y.reshape(n, n)
        L = beta * G
        S = np.exp(L - L.max(axis=1, keepdims=True))
        S /= S.sum(axis=1, keepdims=True)
        M = S @ G - np.diag(S @ G)[:, None] * G
        return (M + M.T).ravel()

    return rhs


def test_stop_above_matches_a_scipy_event():
    """The stop time is the first t with min_{i<j} G_ij(t) = c, as scipy's DOP853 event finds it."""
    n, beta, c = 8, 3.0, 0.9999
    X = mt.uniform_sphere(n, 16, rng=11)
    iu = np.triu_indices(n, 1)

    def clustered(t, y):
        return y.reshape(n, n)[iu].min() - c

    clustered.terminal, clustered.direction = True, 1
    ref = solve_ivp(_sa_gram_rhs(n, beta), (0.0, 100.0), (X @ X.T).ravel(), method="DOP853",
                    rtol=1e-12, atol=1e-14, events=clustered)
    t_ref = ref.t_events[0][0]
    t = np.linspace(0.0, 100.0, 201)
    run = R.simulate_gram(X @ X.T, beta, t, model="sa", rtol=1e-10, atol=1e-12, stop_above=c)
    assert run.status == 1 and abs(run.t_stop / t_ref - 1) < 1e-7, (run.t_stop, t_ref)
    assert np.array_equal(run.t, t[t < run.t_stop]) and run.gram.shape == (run.t.size, n, n)
    assert "terminal event" in run.message
    # the outputs before the stop are those of the run without it (events do not move the steps)
    free = R.simulate_gram(X @ X.T, beta, t, model="sa", rtol=1e-10, atol=1e-12)
    assert np.array_equal(free.gram[: run.t.size], run.gram)
    assert free.status == 0 and math.isnan(free.t_stop)
    assert free.gram[run.t.size][iu].min() >= c > run.gram[-1][iu].min()
    # relabelling the tokens changes nothing
    perm = np.random.default_rng(3).permutation(n)
    again = R.simulate_gram((X @ X.T)[np.ix_(perm, perm)], beta, t, model="sa", rtol=1e-10, atol=1e-12,
                            stop_above=c)
    assert abs(again.t_stop / run.t_stop - 1) < 1e-8


def test_stop_above_in_a_batch_waits_for_every_system():
    n, c = 6, 0.999
    X = mt.uniform_sphere(n, 8, rng=12)
    betas = np.array([0.5, 4.0])
    t = np.geomspace(0.1, 200.0, 40)
    batch = R.simulate_gram(X @ X.T, betas, t, model="sa", rtol=1e-10, atol=1e-12, stop_above=c)
    alone = [R.simulate_gram(X @ X.T, b, t, model="sa", rtol=1e-10, atol=1e-12, stop_above=c).t_stop for b in betas]
    assert alone[0] < alone[1] and abs(batch.t_stop / max(alone) - 1) < 1e-6, (batch.t_stop, alone)
    assert batch.gram.shape == (batch.t.size, 2, n, n) and batch.t[-1] < batch.t_stop <= t[batch.t.size]


def test_stop_above_edge_cases_and_bad_input():
    G = np.full((3, 3), 0.99995) + (1 - 0.99995) * np.eye(3)
    start = R.simulate_gram(G, 1.0, [0.0, 1.0], model="sa", stop_above=0.9999)
    assert start.status == 1 and start.t_stop == 0.0 and start.gram.shape == (0, 3, 3) and start.t.size == 0
    never = R.simulate_gram(np.eye(3), 1.0, [0.0, 1.0], model="sa", stop_above=0.9)  # orthonormal: a fixed point
    assert never.status == 0 and math.isnan(never.t_stop) and never.gram.shape == (2, 3, 3)
    for bad in (1.0, -1.0, 1.5, math.nan):
        with pytest.raises(ValueError, match="stop_above"):
            R.simulate_gram(np.eye(3), 1.0, [1.0], stop_above=bad)
    with pytest.raises(TypeError, match="stop_above"):
        R.simulate_gram(np.eye(3), 1.0, [1.0], stop_above="0.9")
    with pytest.raises(ValueError, match="n >= 2"):
        R.simulate_gram(np.eye(1), 1.0, [1.0], stop_above=0.9)


def test_pre_ln_fixed_point_norm_grows_like_the_particles():
    """ρ0 = 1 (all tokens equal): A = θ (SA) or e^β θ (USA), so Pre-LN r = r0 + <θ, A> t."""
    n, beta, r0 = 4, 1.5, 2.0
    t = np.array([0.0, 0.5, 1.0])
    X0 = np.tile([r0, 0.0, 0.0], (n, 1))
    for model, rate in (("sa", 1.0), ("usa", math.exp(beta))):
        for scheme in ("pre", "peri"):
            ode = R.solve_equiangular(1.0, beta, n, t, model=model, normalization=scheme, r0=r0)
            run = R.simulate_normalized(X0, beta, t, normalization=scheme, model=model)
            assert np.allclose(ode.r, run.r[:, 0], rtol=1e-12)
            assert np.allclose(ode.r, r0 + (rate if scheme == "pre" else 1.0) * t, rtol=1e-14)


def test_default_model_is_usa_and_results_share_fields():
    t = np.array([0.0, 0.5])
    assert R.clustering_time(2.0, 8) == R.clustering_time(2.0, 8, model="usa")
    assert R.clustering_time(2.0, 8) != R.clustering_time(2.0, 8, model="sa")
    results = [R.solve_equiangular(0.1, 2.0, 5, t), R.simulate_normalized(np.eye(3), 2.0, t),
               R.simulate_gram(np.eye(3), 2.0, t)]
    for res in results:
        assert res.model == "usa"
        for field in ("t", "n_steps", "nfev", "wall_time", "message"):
            assert hasattr(res, field), (type(res).__name__, field)
        with pytest.raises(dataclasses.FrozenInstanceError):
            res.t = None
    assert np.array_equal(results[1].theta, R.simulate_normalized(np.eye(3), 2.0, t, model="usa").theta)


def test_simulate_gram_method_bad_input():
    with pytest.raises(ValueError, match="method must be one of"):
        R.simulate_gram(np.eye(3), 1.0, [1.0], method="DOP853")
    with pytest.raises(ValueError, match="dt is required"):
        R.simulate_gram(np.eye(3), 1.0, [1.0], method="rk4")
    with pytest.raises(ValueError, match="dt must be > 0"):
        R.simulate_gram(np.eye(3), 1.0, [1.0], method="rk4", dt=-1.0)


@pytest.mark.parametrize("model,beta", [("sa", 9.0), ("usa", 0.5), ("usa", 9.0)])
def test_chapter8_rates_to_their_printed_digits(model, beta):
    """Chapter 8 prints the measured rate -Δ log(1-ρ)/Δt with 6 decimals: 2 (SA), 2e^β (USA)."""
    t0 = R.clustering_time(beta, 32, threshold=0.99, model=model)
    scale = 1.0 if model == "sa" else math.exp(-beta)
    res = R.solve_equiangular(0.0, beta, 32, t0 + scale * np.array([20.0, 21.0]), model=model)
    rate = -np.diff(res.log_one_minus_rho)[0] / scale
    exact = 2.0 if model == "sa" else 2.0 * math.exp(beta)
    assert f"{rate:12.6f}" == f"{exact:12.6f}"
