"""Tests for mtlib._integrate: the RK4 and Dormand–Prince steppers against exact solutions and
scipy's RK45 (same tableau, same dense output), Lawson's integrating factor, the step
controller, events, the step budget, and bad input."""

import math

import numpy as np
import pytest
from scipy.integrate import RK45
from scipy.linalg import expm

from mtlib import _integrate as I

A_LIN = np.array([[-0.1, 1.0], [-1.0, -0.1]])  # a damped rotation: y(t) = expm(A t) y0


def linear_rhs(t, y):
    return A_LIN @ y


def test_controller_constants_and_factor():
    assert (I.SAFETY, I.MIN_FACTOR, I.MAX_FACTOR) == (0.9, 0.2, 5.0)
    assert I.step_factor(0.0) == I.MAX_FACTOR and I.step_factor(1e-12) == I.MAX_FACTOR
    assert I.step_factor(1.0) == I.SAFETY
    assert I.step_factor(1e6) == I.MIN_FACTOR
    assert I.step_factor(math.inf) == I.step_factor(math.nan) == I.MIN_FACTOR
    assert I.step_factor(32.0) == pytest.approx(0.9 / 2.0)
    err, y = np.array([3e-9, -4e-9]), np.array([1.0, 2.0])
    scale = 1e-10 + 1e-8 * np.array([1.0, 2.0])
    assert I.error_norm(err, y, y, 1e-8, 1e-10) == pytest.approx(np.sqrt(np.mean((err / scale) ** 2)), rel=1e-15)
    z = err * (1 + 1j) / np.sqrt(2)  # complex: the modulus counts
    assert I.error_norm(z, y, y, 1e-8, 1e-10) == pytest.approx(I.error_norm(err, y, y, 1e-8, 1e-10), rel=1e-14)


def test_dopri_step_and_dense_output_match_scipy_rk45():
    y0, h = np.array([1.0, 0.5]), 0.3
    ref = RK45(linear_rhs, 0.0, y0, 10.0, first_step=h, rtol=1e-2, atol=1e-2)
    ref.step()
    assert ref.t == h
    y1, f1, err, stages = I.dopri_step(linear_rhs, 0.0, y0, linear_rhs(0.0, y0), h)
    np.testing.assert_allclose(y1, ref.y, rtol=1e-15, atol=1e-16)
    np.testing.assert_allclose(f1, linear_rhs(h, y1), rtol=1e-15)
    dense = ref.dense_output()
    for theta in (0.0, 0.25, 0.5, 0.9, 1.0):
        np.testing.assert_allclose(I.dopri_dense(y0, stages, h, theta), dense(theta * h), rtol=1e-14, atol=1e-15)
    # 4th-order dense output: the error at mid-step shrinks ~32x per halving (local error h^5)
    errs = []
    for hh in (0.2, 0.1):
        _, _, _, st = I.dopri_step(linear_rhs, 0.0, y0, linear_rhs(0.0, y0), hh)
        errs.append(np.abs(I.dopri_dense(y0, st, hh, 0.5) - expm(A_LIN * hh / 2) @ y0).max())
    assert 20 < errs[0] / errs[1] < 40, errs


def test_hermite_is_exact_for_cubics():
    c = np.array([0.3, -1.2, 0.7, 2.0])
    p = np.polynomial.Polynomial(c)
    dp = p.deriv()
    t0, h = 0.4, 0.9
    for theta in (0.0, 0.3, 0.77, 1.0):
        got = I.hermite_dense(p(t0), dp(t0), p(t0 + h), dp(t0 + h), h, theta)
        assert got == pytest.approx(p(t0 + theta * h), rel=1e-14)


@pytest.mark.parametrize("t0", [0.0, 3.5])
def test_accuracy_against_the_exact_solution(t0):
    y0 = np.array([1.0, 0.0])
    t_eval = t0 + np.array([0.0, 1.0, 2.5, 7.0])
    exact = np.array([expm(A_LIN * (t - t0)) @ y0 for t in t_eval])
    for rtol in (1e-6, 1e-10):
        run = I.integrate(linear_rhs, y0, t_eval, t0=t0, rtol=rtol, atol=rtol)
        assert np.abs(run.y - exact).max() < 20 * rtol
        assert run.status == 0 and run.nfev == 1 + 6 * (run.n_steps + run.n_rejected)
        np.testing.assert_array_equal(run.t, t_eval)
        assert run.y[0] is not y0 and np.array_equal(run.y[0], y0)
    errs = []
    for dt in (0.1, 0.05):
        run = I.integrate(linear_rhs, y0, t_eval, t0=t0, method="rk4", dt=dt)
        errs.append(np.abs(run.y - exact).max())
        assert run.nfev == 4 * run.n_steps
    assert 14 < errs[0] / errs[1] < 18, errs


def test_time_shift_invariance():
    """An autonomous system started at t0 gives the states of the same run started at 0."""
    y0 = np.array([0.3, -0.8])
    t = np.array([0.0, 0.7, 2.0])
    for method in ("dopri", "rk4"):
        a = I.integrate(linear_rhs, y0, t, method=method, dt=0.05)
        b = I.integrate(linear_rhs, y0, t + 100.0, t0=100.0, method=method, dt=0.05)
        np.testing.assert_allclose(a.y, b.y, rtol=1e-11, atol=1e-13)


def test_non_autonomous():
    """y' = cos t, y(0) = 0: the stages see the right times."""
    t = np.linspace(0.0, 6.0, 7)
    for method, tol in (("dopri", 1e-9), ("rk4", 1e-8)):
        run = I.integrate(lambda s, y: np.cos(s) + 0 * y, np.zeros(1), t, method=method, dt=0.01,
                          rtol=1e-11, atol=1e-12)
        np.testing.assert_allclose(run.y[:, 0], np.sin(t), atol=tol)


def test_lawson_integrating_factor():
    """y' = L y + c (complex L, a fast oscillation): Lawson is exact for c = 0 and accurate otherwise."""
    L = np.array([200.0j, -1.0 + 3.0j, 0.5])
    y0 = np.array([1.0, 0.5 - 0.2j, 0.1], dtype=complex)
    t = np.array([0.0, 0.5, 1.0])
    run = I.integrate(lambda s, y: np.zeros_like(y), y0, t, linear=L, dt=0.5)
    np.testing.assert_allclose(run.y, np.exp(np.outer(t, L)) * y0, rtol=1e-14)
    assert run.n_steps == 2  # no error at all: two steps of 0.5
    c = np.array([0.0, 2.0j, -0.3])  # no forcing on the fast mode: it stays exact
    exact = np.exp(np.outer(t, L)) * (y0 + c / L) - c / L
    run = I.integrate(lambda s, y: c + 0 * y, y0, t, linear=L, rtol=1e-10, atol=1e-12)
    assert np.abs(run.y - exact).max() < 1e-9 and run.y.dtype == np.complex128
    # the fast mode does not limit the step: few steps despite λ = 200i (plain dopri: h < 3.3/200)
    assert run.n_steps < 40
    # linear broadcasts against y (Grenier's (order, modes) state)
    Y0 = np.ones((2, 3), dtype=complex)
    two = I.integrate(lambda s, y: np.zeros_like(y), Y0, t, linear=L[None, :], dt=0.5)
    np.testing.assert_allclose(two.y[-1], np.exp(L)[None, :] * Y0, rtol=1e-14)


def test_max_step_caps_every_step():
    y0 = np.array([1.0, 0.0])
    run = I.integrate(linear_rhs, y0, [1.0], rtol=1e-3, atol=1e-3, max_step=0.01)
    assert run.n_steps >= 100
    seen = []
    run = I.integrate(linear_rhs, y0, [1.0], rtol=1e-3, atol=1e-3, max_step=lambda t, y: seen.append(t) or 0.05)
    assert run.n_steps >= 20 and len(seen) == run.n_steps + 1  # once at the start, once per accepted step


def test_retract_is_applied_after_each_step():
    calls = []

    def retract(y):
        calls.append(1)
        return y / np.linalg.norm(y)

    rot = np.array([[0.0, 1.0], [-1.0, 0.0]])
    run = I.integrate(lambda t, y: rot @ y, np.array([1.0, 0.0]), [0.5, 2.0], method="rk4", dt=0.1, retract=retract)
    assert len(calls) == run.n_steps == 20
    np.testing.assert_allclose(np.linalg.norm(run.y, axis=1), 1.0, atol=1e-15)
    np.testing.assert_allclose(run.y[-1], [np.cos(2.0), -np.sin(2.0)], atol=1e-5)


def test_events_exact_times():
    """y' = 1: g = y - 0.3 crosses at t = 0.3 exactly; a zero at a step end counts once."""
    one = lambda t, y: np.ones_like(y)  # noqa: E731
    level = lambda t, y: y[0] - 0.3  # noqa: E731
    at_output = lambda t, y: t - 0.5  # noqa: E731
    for method in ("dopri", "rk4"):
        run = I.integrate(one, np.zeros(1), [0.0, 0.5, 1.0], method=method, dt=0.1, events=[level, at_output])
        assert run.t_events[0] == pytest.approx([0.3], abs=1e-15)
        assert run.y_events[0].shape == (1, 1) and run.y_events[0][0, 0] == pytest.approx(0.3, abs=1e-15)
        np.testing.assert_array_equal(run.t_events[1], [0.5])
        assert run.status == 0


def test_terminal_event_stops_and_callback_stops():
    rot = np.array([[0.0, 1.0], [-1.0, 0.0]])  # y = (cos t, -sin t)

    def crossing(t, y):
        return y[0]

    crossing.terminal = True
    crossing.direction = -1.0
    for method in ("dopri", "rk4"):
        run = I.integrate(lambda t, y: rot @ y, np.array([1.0, 0.0]), [0.0, 1.0, 2.0, 3.0], method=method, dt=0.01,
                          rtol=1e-10, atol=1e-12, events=crossing)
        assert run.status == 1 and "terminal" in run.message
        assert abs(run.t_events[0][0] - np.pi / 2) < 1e-8
        np.testing.assert_allclose(run.y_events[0][0], [0.0, -1.0], atol=1e-8)
        np.testing.assert_array_equal(run.t, [0.0, 1.0])
        assert run.y.shape == (2, 2)
    stop_late = lambda t, y: t < 1.5  # noqa: E731
    run = I.integrate(lambda t, y: rot @ y, np.array([1.0, 0.0]), [0.0, 1.0, 2.0, 3.0], method="rk4", dt=0.1,
                      callback=stop_late)
    assert run.status == 2 and np.array_equal(run.t, [0.0, 1.0]) and "callback" in run.message
    none = I.integrate(lambda t, y: rot @ y, np.array([1.0, 0.0]), [1.0], method="rk4", dt=0.1,
                       callback=lambda t, y: None)
    assert none.status == 0


def test_step_budget_and_underflow():
    with pytest.raises(ValueError, match="needs 10 steps .* max_steps = 5"):  # RK4: refused up front
        I.integrate(linear_rhs, np.ones(2), [1.0], method="rk4", dt=0.1, max_steps=5)
    assert I.integrate(linear_rhs, np.ones(2), [1.0], method="rk4", dt=0.1, max_steps=10).n_steps == 10
    with pytest.raises(ValueError, match="needs 1e\\+300 steps"):
        I.integrate(linear_rhs, np.ones(2), [1.0], method="rk4", dt=1e-300)
    with pytest.raises(ValueError, match="needs inf steps"):
        I.integrate(linear_rhs, np.ones(2), [1e300], method="rk4", dt=5e-324)
    with pytest.raises(RuntimeError, match="max_steps = 2"):
        I.integrate(linear_rhs, np.ones(2), [100.0], rtol=1e-12, atol=1e-12, max_steps=2)
    # a field not finite at the start: a clear error at once
    with pytest.raises(ValueError, match="not finite .* at the initial state"):
        I.integrate(lambda t, y: np.full_like(y, np.nan), np.ones(2), [1.0], t0=1e-3)
    # a field that stops being finite: every step is rejected until the step underflows (no hang)
    with pytest.raises(RuntimeError, match="underflow"):
        I.integrate(lambda t, y: -y if t == 1e-3 else np.full_like(y, np.nan), np.ones(2), [1.0], t0=1e-3)


def test_dopri_gives_up_when_its_pace_cannot_reach_the_end():
    """A stiff field (rate 1e12): dopri's steps stay ~3e-12, so 1e5 attempts cannot reach t = 1."""
    with pytest.raises(RuntimeError, match="at this pace .* cannot reach t_eval\\[-1\\] = 1"):
        I.integrate(lambda t, y: -1e12 * y, np.ones(2), [1.0])
    run = I.integrate(lambda t, y: -1e12 * y, np.ones(2), [1.0], max_steps=None, rtol=1e-3, atol=1e-3,
                      callback=lambda t, y: t < 1e-9)
    assert run.status == 2  # without a budget it runs (stopped here by the callback)
    # a transient with tiny but growing steps is not given up: y' = -1e60 e^{-1000(1-y)} slows down at once
    steep = I.integrate(lambda t, y: -1e60 * np.exp(-1000.0 * (1.0 - y)), np.array([1.0]), [10.0])
    assert steep.status == 0 and steep.n_steps < 100_000


def test_tolerances_are_bounded_below():
    with pytest.raises(ValueError, match="rtol must be >= 8.88e-16"):
        I.integrate(linear_rhs, np.ones(2), [1.0], rtol=1e-300, atol=1e-300)
    assert I.check_tolerances(I.MIN_RTOL, 1e-300) == (I.MIN_RTOL, 1e-300)


def test_initial_step_for_a_field_that_overflows_the_error_norm():
    """|f|/tol overflows (USA near β = 700): the first step is the tiny one the field needs, not 0."""
    h = I.initial_step(np.ones(3), np.full(3, 1e304), 1.0, 1e-8, 1e-10)
    assert 0.0 < h < 1e-300
    assert h == pytest.approx(I.initial_step(np.ones(3), np.full(3, 1e290), 1.0, 1e-8, 1e-10) * 1e-14, rel=1e-12)


def g_ok(t, y):
    return 1.0


def g_terminal_int(t, y):
    return 1.0


g_terminal_int.terminal = 1


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(rhs=3.0), TypeError, "rhs"),
        (dict(y0=[1.0, np.nan]), ValueError, "y0"),
        (dict(y0=np.array([1.0, np.inf], dtype=complex)), ValueError, "y0"),
        (dict(y0="ab"), TypeError, "y0"),
        (dict(t_eval=[0.5, 0.2]), ValueError, "t_eval"),
        (dict(t_eval=[0.5], t0=1.0), ValueError, "t0"),
        (dict(t0=np.nan), ValueError, "t0"),
        (dict(method="rk45"), ValueError, "method"),
        (dict(method="rk4"), ValueError, "dt"),
        (dict(dt=-0.1), ValueError, "dt"),
        (dict(rtol=0.0), ValueError, "rtol"),
        (dict(atol=-1.0), ValueError, "atol"),
        (dict(retract=1), TypeError, "retract"),
        (dict(callback="x"), TypeError, "callback"),
        (dict(max_steps=0), ValueError, "max_steps"),
        (dict(method="rk4", dt=0.1, linear=[1.0, 1.0]), ValueError, "dopri"),
        (dict(max_step=0.0), ValueError, "max_step"),
        (dict(linear=np.ones(3)), ValueError, "linear"),
        (dict(linear=np.ones((3, 2))), ValueError, "broadcast"),
        (dict(events=[g_ok, None]), TypeError, r"events\[1\]"),
        (dict(events=g_terminal_int), TypeError, "terminal"),
        (dict(events=lambda t, y: [1.0, 2.0]), TypeError, "events"),
        (dict(events=lambda t, y: math.inf), ValueError, "finite"),
        (dict(events=lambda t, y: True), TypeError, "events"),
        (dict(events=42), TypeError, "events"),
    ],
)
def test_bad_input(kwargs, exc, match):
    args = dict(rhs=linear_rhs, y0=np.ones(2), t_eval=[0.5])
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        I.integrate(args.pop("rhs"), args.pop("y0"), args.pop("t_eval"), **args)
