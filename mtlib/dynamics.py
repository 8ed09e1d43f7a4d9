"""The token dynamics in time: ``simulate`` and its result.

dx_i/dt = v_i(x) for tokens on the circle (angles) or on S^{d-1} (unit rows), with the SA
or USA field of :mod:`mtlib.fields`, integrated by the one stepper of mtlib
(:mod:`mtlib._integrate`: RK4 or Dormand–Prince 5(4), retraction onto the manifold after
every step, events located on the dense output). References: Geshkovski, Letrouit,
Polyanskiy, Rigollet, "A mathematical perspective on transformers" (2023); Bruno,
Pasqualotto, Agazzi, "Emergence of meta-stable clustering in mean-field transformer
models" (ICLR 2025, arXiv:2410.23228).
"""

import math
import time
from dataclasses import dataclass

import numpy as np

from ._constants import DEFAULT_MODEL, TWO_PI
from ._field_eval import circle_method, circle_velocity, sphere_velocity
from ._integrate import DEFAULT_MAX_STEPS, check_tolerances, initial_step, integrate
from ._validate import (
    check_array,
    check_choice,
    check_int,
    check_model,
    check_real,
    check_times,
    check_unit_rows,
    check_usa_beta,
    check_weights,
    wrap_angles,
)

__all__ = ["simulate", "SimulationResult"]


@dataclass(frozen=True)
class SimulationResult:
    """States of a token system at the requested output times, events, and run statistics.

    Attributes
    ----------
    t : ndarray, shape (T,)
        Output times: the requested ``t_eval``, or those before a terminal event.
    states : ndarray, shape (T, n) or (T, n, d)
        Angles in [0, 2π) on the circle, unit rows on S^{d-1}.
    model, method : str
        ``"usa"``/``"sa"`` and ``"rk4"``/``"dopri"``.
    beta : float
    weights : ndarray, shape (n,)
        Token masses.
    dt : float
        RK4: the largest step (each output interval is cut into equal steps <= dt).
        Dopri: the initial step (later ones are chosen by the error control).
    n_steps, n_rejected, nfev : int
        Accepted steps, rejected steps (dopri), velocity-field evaluations.
    wall_time : float
        Seconds spent in :func:`simulate`.
    t_events : list of ndarray
        One array per event function: the times of its crossings.
    states_events : list of ndarray, shapes (n_e, n) or (n_e, n, d)
        The states at those times.
    status : int
        0: reached ``t_eval[-1]``; 1: stopped at a terminal event.
    message : str
    """

    t: np.ndarray
    states: np.ndarray
    model: str
    method: str
    beta: float
    weights: np.ndarray
    dt: float
    n_steps: int
    n_rejected: int
    nfev: int
    wall_time: float
    t_events: list
    states_events: list
    status: int
    message: str

    @property
    def on_circle(self):
        """True when the states are angles on the circle."""
        return self.states.ndim == 2


def _stiffness(beta, model):
    """L(β): a bound on the fastest rate of the field, 2e^{|β|} (USA), 2(1 + 2|β|) (SA)."""
    return 2.0 * math.exp(abs(beta)) if model == "usa" else 2.0 * (1.0 + 2.0 * abs(beta))


def _budget_hint(beta, model, method):
    """What to change when a run exceeds max_steps."""
    stiff = f"the {model.upper()} field at beta = {beta:g} is stiff like {_stiffness(beta, model):.3g}"
    if method == "rk4":
        options = "shorten t_eval, use method='dopri' (adaptive steps), a larger dt"
    else:
        options = "shorten t_eval"
    if model == "usa":
        options += ", model='sa' (stiffness 2(1 + 2|beta|) instead of 2e^|beta|)"
    return f"{stiff}: {options}, or raise max_steps (None: no limit)"


def _retract_circle(theta):
    return np.mod(theta, TWO_PI)


def _retract_sphere(X):
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def simulate(
    x0,
    beta,
    t_eval,
    model=DEFAULT_MODEL,
    method="rk4",
    dt=None,
    rtol=1e-8,
    atol=1e-10,
    progress=False,
    weights=None,
    events=None,
    max_steps=DEFAULT_MAX_STEPS,
):
    """Integrate the SA or USA token dynamics and return the states at the times t_eval.

    dx_i/dt = v_i(x) (see :func:`mtlib.velocity`, :func:`mtlib.velocity_circle`) from
    x(0) = x0. ``x0`` of shape (n,) is a vector of angles (circle fast path: the exact
    Fourier velocity when it is faster); shape (n, d) holds points on S^{d-1}, and after
    every step each row is normalised (retraction), so |x_i| = 1 to rounding.

    - ``"rk4"``: classical Runge–Kutta, fixed step. Each interval between output times is
      cut into equal steps of length <= dt, so t_eval is hit exactly. Default
      dt = 1/L(β), L = 2e^{|β|} (USA) or 2(1 + 2|β|) (SA), a bound on the fastest
      contraction rate of the field (RK4 is stable for L·dt < 2.78): USA at large β needs
      about t·2e^{|β|} steps, and a run over ``max_steps`` is refused before it starts.
    - ``"dopri"`` (alias ``"rk45"``): adaptive Dormand–Prince 5(4), local extrapolation,
      error norm RMS(err / (atol + rtol·max(|y|, |y_new|))) <= 1; steps are shortened to
      land on output times.

    Events (as in ``scipy.integrate.solve_ivp``): ``events`` holds functions
    g(t, state) -> float of the state (angles (n,) in [0, 2π) or unit rows (n, d)); each
    sign change of g is located to the solver's accuracy on the step's dense output and
    recorded in ``t_events``/``states_events``. An event function with the attribute
    ``terminal = True`` stops the run at its first crossing; ``direction`` > 0 (< 0)
    keeps only upward (downward) crossings. The steps, hence the states at t_eval, do not
    depend on the events.

    Only the states at t_eval are stored; t_eval[0] may be > 0.

    Parameters
    ----------
    x0 : array_like, shape (n,) or (n, d)
        Initial angles, or initial unit rows (d >= 2).
    beta : float
        Inverse temperature β; |β| <= 700 for USA (beyond, e^{β} overflows float64).
    t_eval : array_like, shape (T,)
        Output times: >= 0, strictly increasing.
    model : {"usa", "sa"}
    method : {"rk4", "dopri", "rk45"}
    dt : float > 0, optional
        RK4 step (default 1/L(β)); dopri initial step (default: chosen from the field).
    rtol, atol : float
        Dopri tolerances: rtol >= 4 machine epsilons (8.9e-16), atol > 0.
    progress : bool
        Show a tqdm progress bar.
    weights : array_like, shape (n,), optional
        Non-negative token masses summing to 1 (default 1/n each).
    events : callable or sequence of callables, optional
        Event functions g(t, state) -> float, optional attributes ``terminal`` (bool)
        and ``direction`` (float).
    max_steps : int >= 1 or None
        Largest number of step attempts (default 100 000, a minute or two for a few
        tokens; None: no limit). RK4: a run that needs more steps raises ``ValueError``
        before it starts. Dopri: ``RuntimeError`` once they are used, or as soon as the
        step has stayed far too small to reach ``t_eval[-1]`` within them (USA near
        collapse at large β, where the field is stiff like e^{β}).

    Returns
    -------
    SimulationResult
        ``t``, ``states`` ((T, n) angles in [0, 2π), or (T, n, d)), ``t_events``,
        ``states_events``, ``status``, run statistics.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Figure 2 (N = 2·10⁴, β = 5 on the circle);
    Hairer, Nørsett, Wanner, Solving Ordinary Differential Equations I (Dormand–Prince).
    """
    start = time.perf_counter()
    x0_arr = check_array(x0, "x0", ndim=(1, 2))
    circle = x0_arr.ndim == 1
    # the raw x0 for the sphere check: its dtype sets the unit-norm tolerance (float32)
    if circle:
        y = wrap_angles(x0_arr)
    else:
        y = check_unit_rows(x0, "x0").copy()
    beta = check_real(beta, "beta")
    model = check_model(model)
    t_eval = check_times(t_eval)
    method = check_choice(method, "method", ("rk4", "dopri", "rk45"))
    method = "dopri" if method == "rk45" else method
    if dt is not None:
        dt = check_real(dt, "dt", low=0.0, low_open=True)
    rtol, atol = check_tolerances(rtol, atol)
    if max_steps is not None:
        max_steps = check_int(max_steps, "max_steps", low=1)
    n = y.shape[0]
    w = check_weights(weights, n)
    check_usa_beta(beta, model)
    sa = model == "sa"
    if circle:
        how = circle_method("auto", n, beta)

        def field(_t, state):
            return circle_velocity(state, w, beta, sa, how)

    else:

        def field(_t, state):
            return sphere_velocity(state, w, beta, sa)

    extra = 0
    if method == "rk4":
        step = dt if dt is not None else 1.0 / _stiffness(beta, model)
    elif dt is not None:
        step = dt
    else:
        step = min(initial_step(y, field(0.0, y), t_eval[-1], rtol, atol), 1.0 / _stiffness(beta, model))
        extra = 1
    bar = callback = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=float(t_eval[-1]), unit="t", desc=f"simulate {model} beta={beta:g}")

        def callback(t, _state):
            bar.update(min(t, bar.total) - bar.n)

    try:
        run = integrate(
            field,
            y,
            t_eval,
            method=method,
            dt=step,
            rtol=rtol,
            atol=atol,
            retract=_retract_circle if circle else _retract_sphere,
            events=events,
            max_steps=max_steps,
            callback=callback,
            hint=_budget_hint(beta, model, method),
        )
    finally:
        if bar is not None:
            bar.close()
    return SimulationResult(
        t=run.t,
        states=run.y,
        model=model,
        method=method,
        beta=beta,
        weights=w,
        dt=step,
        n_steps=run.n_steps,
        n_rejected=run.n_rejected,
        nfev=run.nfev + extra,
        wall_time=time.perf_counter() - start,
        t_events=run.t_events,
        states_events=run.y_events,
        status=run.status,
        message=run.message,
    )
