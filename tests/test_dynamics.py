"""Tests for mtlib.dynamics: simulate's accuracy (RK4 order, dopri tolerance, the equiangular
reduction, circle = sphere), its events (closed-form and independent references), and bad input."""

import numpy as np
import pytest
from scipy import integrate as scipy_integrate
from scipy.integrate import solve_ivp

import mtlib as mt

TWO_PI = 2 * np.pi


def random_weights(n, seed):
    w = np.random.default_rng(seed).uniform(0.0, 1.0, n)
    w[0] = 0.0
    return w / w.sum()


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
        assert res.nfev >= 6 * res.n_steps


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
    assert res.n_steps == 6 + 8 and res.nfev == 4 * res.n_steps and res.dt == 0.05
    one = mt.simulate(theta, 2.0, [0.7], dt=0.05)
    assert np.abs(one.states[0] - res.states[1]).max() < 1e-12
    start = mt.simulate(theta, 2.0, [0.0, 0.1], dt=0.05)
    assert np.array_equal(start.states[0], np.mod(theta, 2 * np.pi))
    assert res.status == 0 and res.t_events == [] and res.states_events == [] and "reached" in res.message


def test_simulate_large_beta():
    """β = 800: SA runs; USA is refused (e^β overflows float64)."""
    X = mt.caps_sphere(mt.uniform_sphere(3, 3, 5), [20, 20, 20], 0.2, 6)
    res = mt.simulate(X[:20], 800.0, [0.0, 0.05], model="sa")
    assert np.all(np.isfinite(res.states))
    with pytest.raises(ValueError, match="beta"):
        mt.simulate(X, 800.0, [0.1], model="usa")


# ---------------------------------------------------------------- events


def gap_time(phi0, phi1, beta):
    """Time for the gap φ' = -e^{β cos φ} sin φ of two USA tokens (weights 1/2) to go from φ0 to φ1.

    β = 0: tan(φ/2) = tan(φ0/2) e^{-t} (closed form); otherwise by quadrature.
    """
    if beta == 0.0:
        return np.log(np.tan(phi0 / 2) / np.tan(phi1 / 2))
    rate = lambda p: np.exp(beta * np.cos(p)) * np.sin(p)  # noqa: E731
    return scipy_integrate.quad(lambda p: 1.0 / rate(p), phi1, phi0, epsabs=1e-14, epsrel=1e-13)[0]


def gap_event(level, terminal=True, direction=0.0):
    """g(t, θ) = circular gap between two tokens minus a level."""

    def g(t, state):
        return abs(np.angle(np.exp(1j * (state[1] - state[0])))) - level

    g.terminal, g.direction = terminal, direction
    return g


def inner_event(level, terminal=True, direction=0.0):
    """g(t, X) = <x_1, x_2> - cos(level) (the gap on the sphere, as an inner product)."""

    def g(t, X):
        return X[0] @ X[1] - np.cos(level)

    g.terminal, g.direction = terminal, direction
    return g


@pytest.mark.parametrize("beta", [0.0, 1.0])
@pytest.mark.parametrize("method, tol", [("dopri", 1e-9), ("rk4", 1e-8)])
def test_terminal_event_located_to_the_solver_accuracy(beta, method, tol):
    """Two tokens on the circle (across the seam 0 = 2π) and on S^2: the gap reaches 0.5 at
    a known time; the event finds it to the solver's accuracy, not to the output grid."""
    phi0, phi1 = 2.0, 0.5
    T = gap_time(phi0, phi1, beta)
    t_eval = [0.0, 1.0, 50.0]  # a coarse output grid: the event is far from any output time
    opts = dict(method=method, rtol=1e-10, atol=1e-12) if method == "dopri" else dict(method=method, dt=0.01)
    theta0 = np.array([TWO_PI - 1.0, 1.0])  # the gap 2.0 straddles the seam
    circ = mt.simulate(theta0, beta, t_eval, events=gap_event(phi1), **opts)
    X0 = np.array([[np.cos(-1.0), np.sin(-1.0), 0.0], [np.cos(1.0), np.sin(1.0), 0.0]])
    Q = np.linalg.qr(np.random.default_rng(1).standard_normal((3, 3)))[0]  # any rotation of S^2
    sph = mt.simulate(X0 @ Q.T, beta, t_eval, events=inner_event(phi1, direction=1.0), **opts)
    for res in (circ, sph):
        assert res.status == 1 and "terminal event" in res.message
        assert len(res.t_events) == 1 and res.t_events[0].shape == (1,)
        assert abs(res.t_events[0][0] - T) < tol, (res.t_events[0][0], T)
        assert np.array_equal(res.t, [0.0, 1.0]) and res.states.shape[0] == 2  # outputs before the event
    theta_e = circ.states_events[0][0]
    assert theta_e.min() >= 0 and theta_e.max() < TWO_PI  # the event state is retracted
    assert abs(abs(np.angle(np.exp(1j * (theta_e[1] - theta_e[0])))) - phi1) < 1e-12
    assert abs(np.mean(np.angle(np.exp(1j * theta_e)))) < 1e-12  # the tokens meet symmetrically at 0
    X_e = sph.states_events[0][0]
    assert np.allclose(np.linalg.norm(X_e, axis=1), 1.0, atol=1e-14)
    assert abs(X_e[0] @ X_e[1] - np.cos(phi1)) < 1e-12
    if method == "rk4":  # the located time converges at the solver's order 4 (Hermite dense output)
        runs = [mt.simulate(theta0, beta, t_eval, dt=dt, events=gap_event(phi1)) for dt in (0.08, 0.01)]
        errs = [abs(r.t_events[0][0] - T) for r in runs]
        assert 8**3.5 < errs[0] / errs[1] < 8**4.5, errs


def test_event_does_not_change_the_trajectory():
    theta0 = mt.uniform_circle(200, 3)
    t = np.linspace(0.0, 0.5, 6)
    for method in ("rk4", "dopri"):
        plain = mt.simulate(theta0, 5.0, t, method=method)
        watched = mt.simulate(theta0, 5.0, t, method=method, events=lambda t_, th: np.cos(th[0]) - 0.3)
        np.testing.assert_array_equal(plain.states, watched.states)
        assert watched.status == 0 and watched.n_steps == plain.n_steps


def order_parameter(theta):
    return abs(np.mean(np.exp(1j * theta)))


@pytest.mark.parametrize("method", ["rk4", "dopri"])
def test_order_parameter_crossing_against_scipy(method):
    """N = 40 tokens: the first time |mean e^{iθ}| reaches 0.8, against scipy's DOP853 with its own events."""
    theta0 = mt.uniform_circle(40, 4)
    beta, level = 1.0, 0.8

    def hit(t, th):
        return order_parameter(th) - level

    hit.terminal = True
    res = mt.simulate(theta0, beta, [0.0, 20.0], method=method, events=hit, rtol=1e-10, atol=1e-12, dt=0.01)

    def rhs(t, th):
        D = th[None, :] - th[:, None]
        return np.mean(np.exp(beta * np.cos(D)) * np.sin(D), axis=1)

    def ref_hit(t, th):
        return order_parameter(th) - level

    ref_hit.terminal = True
    ref = solve_ivp(rhs, (0.0, 20.0), np.mod(theta0, TWO_PI), method="DOP853", events=ref_hit, rtol=1e-13, atol=1e-13)
    t_ref = ref.t_events[0][0]
    assert 0.1 < t_ref < 20.0
    assert abs(res.t_events[0][0] - t_ref) < (1e-8 if method == "dopri" else 1e-6), (res.t_events[0][0], t_ref)
    assert abs(order_parameter(res.states_events[0][0]) - level) < 1e-12


def test_direction_filters_crossings():
    theta0 = np.array([0.0, 2.0])  # the gap decreases from 2
    t = [0.0, 10.0]
    down = mt.simulate(theta0, 0.0, t, method="dopri", events=gap_event(1.0, terminal=False, direction=-1.0))
    up = mt.simulate(theta0, 0.0, t, method="dopri", events=gap_event(1.0, terminal=False, direction=1.0))
    both = mt.simulate(theta0, 0.0, t, method="dopri", events=gap_event(1.0, terminal=False))
    T = gap_time(2.0, 1.0, 0.0)
    assert down.t_events[0].size == 1 and abs(down.t_events[0][0] - T) < 1e-6  # default rtol = 1e-8
    assert up.t_events[0].size == 0 and up.states_events[0].shape == (0, 2)
    np.testing.assert_array_equal(both.t_events[0], down.t_events[0])
    assert up.status == down.status == 0 and np.array_equal(up.t, t)


def test_several_events_and_every_crossing():
    """Non-terminal events record every crossing (a clock sin(10 t) crosses at kπ/10), and a
    terminal one stops the run: crossings after it are not recorded."""
    theta0 = np.array([0.0, 2.0])

    def clock(t, state):
        return np.sin(10.0 * t)

    levels = [1.5, 1.0, 0.5]
    events = [clock] + [gap_event(lv, terminal=False) for lv in levels[:2]] + [gap_event(levels[2])]
    for method in ("rk4", "dopri"):
        res = mt.simulate(theta0, 0.0, np.linspace(0.0, 5.0, 3), method=method, dt=0.05, events=events)
        T = [gap_time(2.0, lv, 0.0) for lv in levels]
        assert res.status == 1 and abs(res.t_events[3][0] - T[2]) < 1e-6
        expected_clock = np.pi * np.arange(1, 40) / 10
        expected_clock = expected_clock[expected_clock < T[2]]
        np.testing.assert_allclose(res.t_events[0], expected_clock, atol=1e-12)  # a function of t alone: exact
        for i in (1, 2):
            assert res.t_events[i].size == 1 and abs(res.t_events[i][0] - T[i - 1]) < 1e-6
        assert np.array_equal(res.t, [0.0])  # the run stopped before t = 2.5
        assert [s.shape for s in res.states_events] == [(expected_clock.size, 2), (1, 2), (1, 2), (1, 2)]


def test_zero_at_the_start_is_not_a_crossing():
    theta0 = np.array([0.0, 2.0])
    res = mt.simulate(theta0, 0.0, [0.0, 1.0], method="dopri", events=gap_event(2.0))
    assert res.status == 0 and res.t_events[0].size == 0


def test_max_steps():
    theta0 = mt.uniform_circle(50, 5)
    # RK4 knows its step count: a run over the budget is refused before it starts
    with pytest.raises(ValueError, match="needs 100 steps .* max_steps = 10"):
        mt.simulate(theta0, 5.0, [1.0], dt=0.01, max_steps=10)
    with pytest.raises(RuntimeError, match="max_steps = 3"):
        mt.simulate(theta0, 5.0, [1.0], method="dopri", max_steps=3)
    assert mt.simulate(theta0, 5.0, [0.1], dt=0.01, max_steps=10).n_steps == 10
    assert mt.simulate(theta0, 5.0, [0.1], dt=0.01, max_steps=None).n_steps == 10  # None: no limit
    # the default budget (100 000 attempts) and its advice
    with pytest.raises(ValueError, match=r"more than max_steps = 100000.*method='dopri'.*model='sa'"):
        mt.simulate(theta0, 30.0, [1.0])
    with pytest.raises(ValueError, match=r"more than max_steps = 100000.*a larger dt"):
        mt.simulate(theta0, 1.0, [1.0], model="sa", dt=1e-9)


def not_finite(t, state):
    return np.nan


def returns_array(t, state):
    return state


def returns_string(t, state):
    return "up"


def bad_terminal(t, state):
    return 1.0


bad_terminal.terminal = "yes"


def bad_direction(t, state):
    return 1.0


bad_direction.direction = "up"


# ---------------------------------------------------------------- bad input

TH_OK = np.array([0.0, 1.0, 2.0])
X_OK = np.eye(3)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: mt.simulate(TH_OK, 1.0, [0.2, 0.1]), ValueError, "t_eval"),
        (lambda: mt.simulate(TH_OK, 1.0, [-0.1, 0.1]), ValueError, "t_eval"),
        (lambda: mt.simulate(TH_OK, 1.0, [0.1], dt=0.0), ValueError, "dt"),
        (lambda: mt.simulate(TH_OK, 1.0, [0.1], dt=-1.0), ValueError, "dt"),
        (lambda: mt.simulate(TH_OK, 1.0, [0.1], method="euler"), ValueError, "method"),
        (lambda: mt.simulate(TH_OK, 1.0, [0.1], rtol=0.0), ValueError, "rtol"),
        (lambda: mt.simulate(np.ones((2, 2, 2)), 1.0, [0.1]), ValueError, "x0"),
        (lambda: mt.simulate(2 * X_OK, 1.0, [0.1]), ValueError, "normalise"),
        (lambda: mt.simulate(TH_OK, 1.0, [0.1], max_steps=0), ValueError, "max_steps"),
        (lambda: mt.simulate(TH_OK, 1.0, [0.1], max_steps=2.5), TypeError, "max_steps"),
        (lambda: mt.simulate(TH_OK, 1.0, [0.1], events=3.0), TypeError, "events"),
        (lambda: mt.simulate(TH_OK, 1.0, [0.1], events=[not_finite, 3.0]), TypeError, "events"),
        (lambda: mt.simulate(TH_OK, 1.0, [0.1], events=not_finite), ValueError, "events"),
        (lambda: mt.simulate(TH_OK, 1.0, [0.1], events=returns_array), TypeError, "events"),
        (lambda: mt.simulate(X_OK, 1.0, [0.1], events=returns_string), TypeError, "events"),
        (lambda: mt.simulate(TH_OK, 1.0, [0.1], events=bad_terminal), TypeError, "terminal"),
        (lambda: mt.simulate(TH_OK, 1.0, [0.1], events=bad_direction), TypeError, "direction"),
    ],
)
def test_bad_input(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_simulate_accepts_float32_tokens_and_huge_angles():
    """float32 rows (unit only to float32 precision) run as their float64 renormalisation;
    angles of any size start where angles_to_points puts them (issue 14, items 12-13)."""
    X = mt.uniform_sphere(40, 3, rng=0)
    X32 = X.astype(np.float32)
    X64 = X32.astype(np.float64)
    X64 /= np.linalg.norm(X64, axis=1, keepdims=True)
    a = mt.simulate(X32, 3.0, [0.0, 0.1])
    b = mt.simulate(X64, 3.0, [0.0, 0.1])
    assert np.array_equal(a.states, b.states)
    theta = mt.uniform_circle(40, rng=1)
    big = theta + 2 * np.pi * 1e15
    start = np.mod(np.arctan2(np.sin(big), np.cos(big)), 2 * np.pi)
    run = mt.simulate(big, 3.0, [0.0, 0.1])
    assert np.allclose(run.states[0], start, atol=1e-12)
