"""Options and helpers shared by :func:`mtlib.simulate` and :func:`mtlib.simulate_batch`.

The checks of the run options, the default RK4 step 1/L(β) with L the stiffness bound,
the message when a run exceeds its step budget, the checks of a batch of systems and the
lockstep Dormand–Prince run of a batch.
"""

import math

import numpy as np

from ._attention_eval import field_function
from ._batch_field import batch_field
from ._bessel import check_diffusion
from ._batch_integrate import dopri_lockstep, first_field
from ._field_eval import circle_method, circle_velocity
from ._harmonic_eval import resolve_sphere_method, sphere_field
from ._integrate import check_tolerances, initial_step
from ._validate import (
    check_array,
    check_choice,
    check_int,
    check_model,
    check_real,
    check_rng,
    check_times,
    check_unit_rows,
    check_weights,
    wrap_angles,
)


def stiffness(beta, model, att=None):
    """L(β): a bound on the fastest rate of the field, 2e^{|β|} (USA), 2(1 + 2|β|) (SA);
    with attention matrices (att, :class:`._attention_eval.Attention`), 2‖V‖e^{|β|‖A‖}
    (USA) and 2‖V‖(1 + 2|β|‖A‖) (SA), spectral norms."""
    if att is not None:
        a, v = att.a_norm, att.v_norm
        return 2.0 * v * math.exp(abs(beta) * a) if model == "usa" else 2.0 * v * (1.0 + 2.0 * abs(beta) * a)
    return 2.0 * math.exp(abs(beta)) if model == "usa" else 2.0 * (1.0 + 2.0 * abs(beta))


def single_field(circle, field_method, shape, beta, sa, w, att):
    """field(t, state) of :func:`mtlib.simulate` for a state of the given shape: the
    default field (att None) by its resolved method, else that of the attention matrices."""
    if att is not None:
        f = field_function(circle, field_method, shape[0], beta, sa, att)
        return lambda _t, state: f(state, w)
    if circle:
        how = circle_method(field_method, shape[0], beta)
        return lambda _t, state: circle_velocity(state, w, beta, sa, how)
    how = resolve_sphere_method(field_method, shape[0], shape[1], beta)
    return lambda _t, state: sphere_field(state, w, beta, sa, how)


def budget_hint(beta, model, method):
    """What to change when a run exceeds max_steps."""
    stiff = f"the {model.upper()} field at beta = {beta:g} is stiff like {stiffness(beta, model):.3g}"
    if method == "rk4":
        options = "shorten t_eval, use method='dopri' (adaptive steps), a larger dt"
    else:
        options = "shorten t_eval"
    if model == "usa":
        options += ", model='sa' (stiffness 2(1 + 2|beta|) instead of 2e^|beta|)"
    return f"{stiff}: {options}, or raise max_steps (None: no limit)"


def run_options(beta, model, t_eval, method, dt, rtol, atol, max_steps):
    """The checked options shared by :func:`simulate` and :func:`simulate_batch`."""
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
    return beta, model, t_eval, method, dt, rtol, atol, max_steps


def batch_states(x0s):
    """x0s as (B, n) angles in [0, 2π) or (B, n, d) unit rows, checked as :func:`simulate` checks x0."""
    arr = check_array(x0s, "x0s", ndim=(2, 3))
    if arr.shape[0] < 1 or arr.shape[1] < 1:
        raise ValueError(f"x0s must hold B >= 1 systems of n >= 1 tokens, got shape {arr.shape}")
    if arr.ndim == 2:
        return wrap_angles(arr)
    B, n, d = arr.shape
    raw = np.asarray(x0s)  # its dtype sets the unit-norm tolerance (float32)
    return check_unit_rows(raw.reshape(B * n, d), "x0s").reshape(B, n, d).copy()


def batch_weights(weights, B, n):
    """(B, n) weights: one (n,) vector for every system, or one row per system (None: 1/n)."""
    if weights is None or np.ndim(weights) < 2:
        return np.ascontiguousarray(np.broadcast_to(check_weights(weights, n), (B, n)))
    W = check_array(weights, "weights", ndim=2, shape=(B, n))
    return np.stack([check_weights(W[b], n, name=f"weights[{b}]") for b in range(B)])


def dopri_batch(y, W, beta, sa, how, t_eval, dt, tolerances, model, retract, max_steps, hint, callback):
    """:func:`dopri_lockstep` with the first steps of :func:`simulate`: (states, first steps, counts).

    model: (model name, attention matrices or None); how: as in :func:`batch_field`."""
    model, att = model

    def field(Y, idx):
        return batch_field(Y, W[idx], beta, sa, how)

    rtol, atol = tolerances
    f0 = None
    if dt is not None:
        h0 = np.full(y.shape[0], dt)
    else:
        f0 = first_field(field, y)
        cap = 1.0 / stiffness(beta, model, att)
        h0 = np.array([min(initial_step(y[b], f0[b], t_eval[-1], rtol, atol), cap) for b in range(y.shape[0])])
    ys, n_steps, n_rejected, nfev = dopri_lockstep(
        field, y, t_eval, h0, rtol, atol, retract, max_steps, hint, f0=f0, callback=callback
    )
    return ys, h0, n_steps, n_rejected, nfev


def noise_options(diffusion, rng, method, events):
    """(D, rng) checked; D > 0 needs fixed RK4 steps and no events."""
    diffusion = check_diffusion(diffusion)
    rng = check_rng(rng)
    if diffusion > 0.0:
        if method != "rk4":
            raise ValueError(
                f"diffusion > 0 needs method='rk4' (the stochastic splitting takes fixed steps), got method={method!r}"
            )
        if events is not None:
            raise ValueError("events are not located with diffusion > 0 (the paths are not smooth); pass events=None")
    return diffusion, rng
