"""One ODE integrator for mtlib: classical RK4 and Dormand–Prince 5(4), with events.

Solves y' = f(t, y) from y(t0) = y0 and returns y at the output times ``t_eval``; with
``linear=L`` it solves y' = L y + f(t, y) (L diagonal) by Lawson's integrating factor,
so the linear part is exact and only f is stepped. Used by :func:`mtlib.simulate`, the
circle PDE and Grenier's expansion (Lawson), and the reductions.

- ``"rk4"``: fixed step; each interval between output times is cut into equal steps of
  length <= dt, so t_eval is hit exactly.
- ``"dopri"``: Dormand–Prince 5(4) with local extrapolation, error norm
  RMS(|err| / (atol + rtol max(|y|, |y_new|))) <= 1 and the step controller
  h <- h min(MAX_FACTOR, max(MIN_FACTOR, SAFETY norm^(-1/5))); steps are shortened to
  land on output times.

``retract`` maps each accepted state back to the manifold (normalised rows on the
sphere, angles mod 2π). Events in the style of ``scipy.integrate.solve_ivp``: functions
g(t, y) -> float with optional attributes ``terminal`` and ``direction``; a sign change
of g over a step is located by Brent's method on the step's dense output (dopri: its
4th-order continuous extension; rk4: the cubic Hermite interpolant of the values and
slopes at both ends), interpolated before retraction and then retracted.

References: Dormand and Prince, J. Comput. Appl. Math. 6 (1980); Hairer, Nørsett,
Wanner, *Solving Ordinary Differential Equations I*, Sections II.4-II.6 (step control,
dense output); Lawson, SIAM J. Numer. Anal. 4 (1967) (integrating factor).
"""

import math
import numbers
import time
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from ._rk_steps import dopri_dense, dopri_step, hermite_dense, rk4_step  # noqa: F401 (re-exported)
from ._validate import check_array, check_choice, check_int, check_memory, check_real

SAFETY = 0.9  # the controller aims at SAFETY times the largest acceptable step
MIN_FACTOR = 0.2  # the step shrinks at most 5-fold, and by this factor after a non-finite error
MAX_FACTOR = 5.0  # and grows at most 5-fold
ERROR_EXPONENT = -0.2  # -1/(q + 1), q = 4 the order of the embedded error estimate
EVENT_RTOL = 4.0 * np.finfo(float).eps  # relative tolerance of the event root finder (brentq's least)
MIN_RTOL = 4.0 * np.finfo(float).eps  # float64 cannot resolve a smaller relative error
DEFAULT_MAX_STEPS = 100_000  # step attempts; about a minute or two for a few tokens (~1 ms a step)
PACE_WINDOW = 500  # dopri measures its progress over windows of this many step attempts...
PACE_MARGIN = 100  # ...and gives up when, at that pace, the budget left covers under 1/PACE_MARGIN of the time left

@dataclass(frozen=True)
class Integration:
    """The result of :func:`integrate`.

    Attributes
    ----------
    t : ndarray, shape (T,)
        The output times reached (all of ``t_eval``, or those before a stop).
    y : ndarray, shape (T,) + y0.shape
        The (retracted) states at ``t``.
    t_events : list of ndarray, one per event function
        The times of its zero crossings.
    y_events : list of ndarray, shape (n_e,) + y0.shape
        The (retracted) states at those times.
    n_steps, n_rejected, nfev : int
        Accepted steps, rejected steps (dopri), right-hand-side evaluations.
    status : int
        0: reached ``t_eval[-1]``; 1: a terminal event; 2: stopped by ``callback``.
    message : str
    wall_time : float
        Seconds spent in :func:`integrate`.
    """

    t: np.ndarray
    y: np.ndarray
    t_events: list
    y_events: list
    n_steps: int
    n_rejected: int
    nfev: int
    status: int
    message: str
    wall_time: float


def error_norm(err, y, y_new, rtol, atol):
    """RMS of |err| / (atol + rtol max(|y|, |y_new|)) (real or complex arrays)."""
    scale = atol + rtol * np.maximum(np.abs(y), np.abs(y_new))
    return math.sqrt(float(np.mean(np.abs(err / scale) ** 2)))


def step_factor(norm):
    """The step-size factor after an error norm: SAFETY norm^(-1/5) clipped to [MIN, MAX]."""
    if norm == 0.0:
        return MAX_FACTOR
    if not math.isfinite(norm):
        return MIN_FACTOR
    return min(MAX_FACTOR, max(MIN_FACTOR, SAFETY * norm**ERROR_EXPONENT))


def initial_step(y, f, span, rtol, atol):
    """A first dopri step: 0.01 |y|/|f| in the error norm (Hairer II.4), at most the span.

    Where |f|/tol overflows (USA near β = 700) |f| is factored out of the norm, so the step
    is the tiny one the field needs (at least the least positive float), not 0.
    """
    scale = atol + rtol * np.abs(y)
    d0 = math.sqrt(float(np.mean(np.abs(y / scale) ** 2)))
    with np.errstate(over="ignore"):
        d1 = math.sqrt(float(np.mean(np.abs(f / scale) ** 2)))
    if not (d0 > 1e-5 and d1 > 1e-5):
        h = 1e-6
    elif math.isinf(d1):
        f_max = float(np.max(np.abs(f)))
        d1_unit = math.sqrt(float(np.mean(np.abs((f / f_max) / scale) ** 2)))  # d1 = f_max d1_unit
        h = max(0.01 * d0 / d1_unit / f_max, math.ulp(0.0))
    else:
        h = 0.01 * d0 / d1
    return min(h, max(span, 1e-12))


def check_tolerances(rtol, atol):
    """(rtol, atol) as floats: rtol >= MIN_RTOL (4 machine epsilons), atol > 0."""
    rtol = check_real(rtol, "rtol", low=0.0, low_open=True)
    if rtol < MIN_RTOL:
        raise ValueError(
            f"rtol must be >= {MIN_RTOL:.3g} (4 machine epsilons: float64 cannot resolve a smaller "
            f"relative error), got {rtol:g}"
        )
    return rtol, check_real(atol, "atol", low=0.0, low_open=True)


def rk4_steps(t0, t_eval, dt):
    """The RK4 steps to t_eval[-1], each output interval cut into ceil(span/dt) (a float: may be huge or inf)."""
    spans = np.diff(np.concatenate([[t0], t_eval]))
    with np.errstate(over="ignore"):
        return float(np.sum(np.ceil(spans / dt * (1.0 - 1e-12))))


class _Events:
    """Event functions, their last values, and the crossings found so far."""

    def __init__(self, events, t0, y0):
        if events is None:
            events = []
        elif callable(events):
            events = [events]
        else:
            try:
                events = list(events)
            except TypeError:
                kind = type(events).__name__
                raise TypeError(f"events must be a callable or a sequence of callables, got {kind}") from None
        self.funcs, self.terminal, self.direction = [], [], []
        for i, g in enumerate(events):
            if not callable(g):
                raise TypeError(f"events[{i}] must be callable g(t, y) -> float, got {type(g).__name__}")
            terminal = getattr(g, "terminal", False)
            if not isinstance(terminal, (bool, np.bool_)):
                raise TypeError(f"events[{i}].terminal must be a bool, got {type(terminal).__name__}")
            self.funcs.append(g)
            self.terminal.append(bool(terminal))
            self.direction.append(check_real(getattr(g, "direction", 0.0), f"events[{i}].direction"))
        self.times = [[] for _ in self.funcs]
        self.states = [[] for _ in self.funcs]
        self.values = [self.value(i, t0, y0) for i in range(len(self.funcs))]

    def __bool__(self):
        return bool(self.funcs)

    def value(self, i, t, y):
        """g_i(t, y) as a finite float, or a clear error."""
        v = self.funcs[i](t, y)
        item = np.asarray(v).item() if np.ndim(v) == 0 else None
        if isinstance(item, bool) or not isinstance(item, numbers.Real):
            raise TypeError(f"events[{i}] must return a real number, got {type(v).__name__}")
        v = float(item)
        if not math.isfinite(v):
            raise ValueError(f"events[{i}] returned {v} at t = {t}; event functions must be finite")
        return v

    def step(self, t_a, t_b, y_b, state_at):
        """Record the crossings over the step [t_a, t_b]; return the terminal one's time or None.

        A crossing is a sign change from a nonzero value at t_a (a zero at t_b counts in
        this step, not in the next); ``state_at(t)`` is the retracted dense-output state.
        """
        found = []
        for i in range(len(self.funcs)):
            a, b = self.values[i], self.value(i, t_b, y_b)
            self.values[i] = b
            if a == 0.0 or (b != 0.0 and (a > 0.0) == (b > 0.0)):
                continue
            if (a < 0.0 and self.direction[i] < 0.0) or (a > 0.0 and self.direction[i] > 0.0):
                continue
            if b == 0.0:
                found.append((t_b, i, y_b))
                continue

            def g(s, i=i, a=a, b=b):
                return a if s == t_a else b if s == t_b else self.value(i, s, state_at(s))

            xtol = EVENT_RTOL * max(abs(t_a), abs(t_b), 1e-300)
            s = optimize.brentq(g, t_a, t_b, xtol=xtol, rtol=EVENT_RTOL)
            found.append((s, i, state_at(s)))
        found.sort(key=lambda item: (item[0], item[1]))
        stop = None
        for s, i, y in found:
            if stop is not None and s > stop:
                break
            self.times[i].append(s)
            self.states[i].append(np.array(y, copy=True))
            if self.terminal[i] and stop is None:
                stop = s
        return stop

    def results(self, shape, dtype):
        t_events = [np.array(ts, dtype=float) for ts in self.times]
        y_events = [np.array(ys, dtype=dtype).reshape((len(ys),) + shape) for ys in self.states]
        return t_events, y_events


def _check_y0(y0):
    """y0 as a finite float64 or complex128 array."""
    if np.iscomplexobj(y0):
        y = np.asarray(y0, dtype=np.complex128)
        if y.size < 1 or not np.all(np.isfinite(y)):
            raise ValueError("y0 must be a non-empty array of finite values")
        return y
    return check_array(y0, "y0", min_size=1)


def _check_callable(value, name):
    if value is not None and not callable(value):
        raise TypeError(f"{name} must be callable or None, got {type(value).__name__}")
    return value


def integrate(
    rhs,
    y0,
    t_eval,
    *,
    t0=0.0,
    method="dopri",
    dt=None,
    rtol=1e-8,
    atol=1e-10,
    retract=None,
    events=None,
    max_steps=DEFAULT_MAX_STEPS,
    linear=None,
    max_step=None,
    callback=None,
    hint="",
):
    """Integrate y' = f(t, y) (or y' = L y + f(t, y)) and return y at the times t_eval.

    Parameters
    ----------
    rhs : callable
        f(t, y) -> ndarray shaped like y.
    y0 : array_like
        Initial state at t0 (float or complex).
    t_eval : array_like, shape (T,)
        Output times, strictly increasing, >= t0.
    t0 : float
        Initial time.
    method : {"dopri", "rk4"}
    dt : float > 0
        RK4: the largest step (required). Dopri: the first step (default: 0.01 |y0|/|f|
        in the error norm, at most t_eval[-1] - t0 and ``max_step``).
    rtol, atol : float > 0
        Dopri tolerances.
    retract : callable, optional
        y -> y, applied to each accepted state.
    events : callable or sequence of callables, optional
        g(t, y) -> float (y retracted), with optional attributes ``terminal`` (bool,
        default False; True stops the run at the first crossing) and ``direction``
        (> 0: only upward crossings, < 0: only downward, 0, the default: both). Every
        crossing is recorded; a zero at t0 is not a crossing.
    max_steps : int >= 1 or None
        The largest number of step attempts (accepted and rejected); None: no limit. RK4:
        a run that needs more steps is refused before it starts (ValueError). Dopri:
        RuntimeError when the budget is spent, or as soon as the pace of the last
        PACE_WINDOW attempts, extrapolated with its growth, would cover under
        1/PACE_MARGIN of the time left with the attempts left (a stiff or overflowing
        right-hand side: USA near collapse at large β, a tiny CFL cap).
    linear : array_like, optional
        Dopri only: the diagonal L of y' = L y + f(t, y), broadcast against y (Lawson).
    max_step : float > 0 or callable, optional
        Dopri only: the largest step, or h_max(t, y) evaluated at each accepted state.
    callback : callable, optional
        callback(t, y) after each accepted step (after events); returning a false value
        other than None (False, np.False_) stops the run there (status 2).
    hint : str
        What the caller can change, appended to the step-budget and step-underflow errors.
        The right-hand side must be finite at the initial state (ValueError otherwise).

    Returns
    -------
    Integration

    References
    ----------
    Hairer, Nørsett, Wanner, *Solving Ordinary Differential Equations I* (1993), II.4-II.6.
    """
    start = time.perf_counter()
    if not callable(rhs):
        raise TypeError(f"rhs must be callable f(t, y), got {type(rhs).__name__}")
    y = _check_y0(y0)
    t0 = check_real(t0, "t0")
    t_eval = check_output_times(t_eval, t0)
    method = check_choice(method, "method", ("dopri", "rk4"))
    if dt is not None:
        dt = check_real(dt, "dt", low=0.0, low_open=True)
    elif method == "rk4":
        raise ValueError("dt is required for method='rk4' (the largest step)")
    rtol, atol = check_tolerances(rtol, atol)
    hint = hint or "shorten t_eval, or loosen rtol/atol"
    retract = _check_callable(retract, "retract")
    callback = _check_callable(callback, "callback")
    if max_steps is not None:
        max_steps = check_int(max_steps, "max_steps", low=1)
    if method == "rk4" and (linear is not None or max_step is not None):
        raise ValueError("linear and max_step apply to method='dopri' only")
    if linear is not None:
        linear = np.asarray(linear)
        try:
            fits = np.broadcast_shapes(linear.shape, y.shape) == y.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"linear of shape {linear.shape} does not broadcast against y0 of shape {y.shape}")
    if max_step is not None and not callable(max_step):
        max_step = check_real(max_step, "max_step", low=0.0, low_open=True)
    work = t_eval.size + (8 if method == "rk4" else 12)  # outputs, stages and temporaries
    check_memory(work * y.nbytes, f"integrating a state of shape {y.shape} to {t_eval.size} output times")
    if method == "rk4" and max_steps is not None:
        steps = rk4_steps(t0, t_eval, dt)
        if steps > max_steps:
            raise ValueError(
                f"RK4 with dt = {dt:.3g} needs {steps:.3g} steps to t_eval[-1] = {t_eval[-1]:.6g}, more than "
                f"max_steps = {max_steps}; {hint}"
            )
    ev = _Events(events, t0, y)
    run = _Run(rhs, retract, ev, callback, max_steps, hint)
    if method == "rk4":
        ys = run.rk4(y, t0, t_eval, dt)
    else:
        ys = run.dopri(y, t0, t_eval, dt, rtol, atol, linear, max_step)
    t_events, y_events = ev.results(y.shape, ys.dtype)
    return Integration(
        t=t_eval[: ys.shape[0]],
        y=ys,
        t_events=t_events,
        y_events=y_events,
        n_steps=run.n_steps,
        n_rejected=run.n_rejected,
        nfev=run.nfev,
        status=run.status,
        message=run.message,
        wall_time=time.perf_counter() - start,
    )


def _says_stop(answer):
    """A callback's answer: None or any true value continues, a false value (False, np.False_) stops."""
    return answer is not None and not answer


class _Run:
    """The state of one integration: counters, the stop status, the budget."""

    def __init__(self, rhs, retract, events, callback, max_steps, hint):
        self.rhs, self.retract, self.events, self.callback, self.max_steps = rhs, retract, events, callback, max_steps
        self.hint = hint
        self.n_steps = self.n_rejected = self.nfev = 0
        self.marks = []  # the times at the starts of the last two windows of PACE_WINDOW attempts
        self.status, self.message = 0, "reached the last output time"

    def f(self, t, y):
        self.nfev += 1
        return self.rhs(t, y)

    def first(self, t, y):
        """f at the initial state, which must be finite."""
        f = self.f(t, y)
        if not np.all(np.isfinite(f)):
            raise ValueError(
                f"integrate: the right-hand side is not finite (NaN or inf) at the initial state, t = {t:.6g}: "
                "it overflows float64 at these parameters"
            )
        return f

    def attempt(self, t, t_end):
        """Count one dopri step attempt against max_steps; give up early when the pace cannot reach t_end."""
        if self.max_steps is None:
            return
        used = self.n_steps + self.n_rejected
        if used >= self.max_steps:
            raise RuntimeError(
                f"integrate: max_steps = {self.max_steps} step attempts used by t = {t:.6g}, before "
                f"t_eval[-1] = {t_end:.6g}; {self.hint}"
            )
        if used % PACE_WINDOW == 0:
            self.check_pace(t, t_end, (self.max_steps - used) / PACE_WINDOW)
            self.marks = self.marks[-1:] + [t]

    def check_pace(self, t, t_end, windows_left):
        """RuntimeError when the last window's advance, growing as from the window before, cannot reach t_end.

        Each later window is taken to advance G times the one before (G = last / previous
        advance, G <= 1 counted as 1), so the budget left reaches Σ_j d G^j, j = 1..windows_left.
        """
        if len(self.marks) < 2:
            return
        last, previous = t - self.marks[1], self.marks[1] - self.marks[0]
        if previous == 0.0 or last > previous:
            growth = math.inf if previous == 0.0 else last / previous
            reach = last * math.expm1(min(windows_left * math.log(growth), 700.0)) / (1.0 - 1.0 / growth)
        else:
            reach = last * windows_left
        if t_end - t > PACE_MARGIN * reach:
            raise RuntimeError(
                f"integrate: the last {PACE_WINDOW} step attempts advanced t by {last:.3g} (to t = {t:.6g}): at this "
                f"pace the {windows_left * PACE_WINDOW:.0f} attempts left of max_steps = {self.max_steps} cannot "
                f"reach t_eval[-1] = {t_end:.6g} (the right-hand side is stiff or fast here); {self.hint}"
            )

    def accepted(self, t_a, t_b, y_b, state_at):
        """Events and callback after an accepted step; True when the run must stop."""
        self.n_steps += 1
        stop = self.events.step(t_a, t_b, y_b, state_at) if self.events else None
        if stop is not None:
            self.status, self.message = 1, f"a terminal event occurred at t = {stop:.6g}"
            return True
        if self.callback is not None and _says_stop(self.callback(t_b, y_b)):
            self.status, self.message = 2, f"stopped by the callback at t = {t_b:.6g}"
            return True
        return False

    def _finish(self, ys, k):
        return ys[:k].copy() if k < ys.shape[0] else ys

    def rk4(self, y, t, t_eval, dt):
        ys = np.empty((t_eval.size,) + y.shape, dtype=y.dtype)
        f = self.first(t, y) if t_eval[-1] > t else None
        retract = self.retract
        for k, t_out in enumerate(t_eval):
            span = t_out - t
            m = math.ceil(span / dt * (1.0 - 1e-12)) if span > 0 else 0
            h = span / m if m else 0.0
            for s in range(m):
                t_a = t + s * h
                t_b = t_out if s == m - 1 else t + (s + 1) * h
                if f is None:
                    f = self.f(t_a, y)
                y_new = rk4_step(self.f, t_a, y, f, h)
                y_b = y_new if retract is None else retract(y_new)
                f_b = None
                state_at = None
                if self.events:
                    f_b = self.f(t_b, y_b)  # the Hermite end slope, reused as the next step's first stage

                    def state_at(s_, y=y, f=f, y_new=y_new, f_b=f_b, t_a=t_a, h=h):
                        z = hermite_dense(y, f, y_new, f_b, h, (s_ - t_a) / h)
                        return z if retract is None else retract(z)

                if self.accepted(t_a, t_b, y_b, state_at):
                    return self._finish(ys, k)
                y, f = y_b, f_b
            t = t_out
            ys[k] = y
        return ys

    def dopri(self, y, t, t_eval, dt, rtol, atol, linear, max_step):
        ys = np.empty((t_eval.size,) + y.shape, dtype=y.dtype)
        retract = self.retract
        t_end = t_eval[-1]
        f = self.first(t, y)
        cap = max_step if callable(max_step) else (lambda t_, y_: math.inf if max_step is None else max_step)
        h_cap = cap(t, y)
        h = min(dt if dt is not None else initial_step(y, f, t_end - t, rtol, atol), h_cap)
        for k, t_out in enumerate(t_eval):
            while t < t_out:
                self.attempt(t, t_end)
                h_try = min(h, h_cap, t_out - t)
                if t + h_try == t:
                    raise RuntimeError(
                        f"integrate: the dopri step underflowed at t = {t:.17g} (h = {h_try:.3g}): the right-hand "
                        f"side is too fast, or not finite, here; {self.hint}"
                    )
                y_new, f_new, err, stages = dopri_step(self.f, t, y, f, h_try, linear)
                norm = error_norm(err, y, y_new, rtol, atol)
                factor = step_factor(norm)
                if norm <= 1.0 and np.all(np.isfinite(y_new)):
                    last = t_out - t <= h_try
                    t_b = t_out if last else t + h_try
                    y_b = y_new if retract is None else retract(y_new)
                    h = max(h, h_try * factor) if last else h_try * factor

                    def state_at(s_, y=y, stages=stages, t_a=t, h_=h_try):
                        z = dopri_dense(y, stages, h_, (s_ - t_a) / h_, linear)
                        return z if retract is None else retract(z)

                    stop = self.accepted(t, t_b, y_b, state_at)
                    t, y, f = t_b, y_b, f_new  # FSAL: f(y_new), reused at the retracted point
                    if stop:
                        return self._finish(ys, k)
                    h_cap = cap(t, y)
                else:
                    self.n_rejected += 1
                    h = h_try * factor
            ys[k] = y
        return ys


def check_output_times(t_eval, t0):
    """t_eval as a strictly increasing 1-D float array with t_eval[0] >= t0 (ValueError otherwise)."""
    t_eval = check_array(np.atleast_1d(t_eval), "t_eval", ndim=1)
    if np.any(np.diff(t_eval) <= 0):
        raise ValueError("t_eval must be strictly increasing")
    if t_eval[0] < t0:
        raise ValueError(f"t_eval must be >= t0 = {t0}, got min {t_eval[0]}")
    return t_eval
