"""The steppers of :func:`mtlib.simulate_batch`: B independent autonomous systems at once.

RK4 (:func:`rk4_run`): every system takes the steps :func:`mtlib._integrate.integrate`
takes (each output interval cut into ceil(span/dt) equal steps), all of them inside one
numba call per output interval (:func:`mtlib._batch_field.rk4_batch`).

Dormand–Prince 5(4) (:func:`dopri_lockstep`), in lockstep, each system with its own steps. System b follows
exactly the steps :func:`mtlib._integrate.integrate` takes for it alone: its own step
size, error norm RMS(err_b / (atol + rtol max(|y_b|, |y_b,new|))), accept/reject
decision and controller, its own output times, the same stage arithmetic
(:func:`mtlib._integrate.dopri_step`), FSAL and retraction. Each lockstep round makes one
attempt for every system still short of t_eval[-1]; the field is evaluated once per
stage on the stack of those systems, so it must act on each system separately (one
system's value never depends on another's). References: Hairer, Nørsett, Wanner, *Solving
Ordinary Differential Equations I*, II.4 (step control).
"""

import math

import numpy as np

from ._batch_field import rk4_batch
from ._integrate import _Run, dopri_step, rk4_steps, step_factor


def rk4_run(y, W, beta, sa, t_eval, dt, max_steps, hint, callback=None):
    """RK4 from t = 0 for every system of y (B, n, d) or (B, n) (advanced in place).

    Returns (ys, n_steps): the states (T, B, ...) at t_eval and the steps of each system.
    A run that needs more than ``max_steps`` steps is refused before it starts, with the
    error of :func:`mtlib._integrate.integrate`; ``callback(t)`` after each output time.
    """
    steps = rk4_steps(0.0, t_eval, dt)
    if max_steps is not None and steps > max_steps:
        raise ValueError(
            f"RK4 with dt = {dt:.3g} needs {steps:.3g} steps to t_eval[-1] = {t_eval[-1]:.6g}, more than "
            f"max_steps = {max_steps}; {hint}"
        )
    ys = np.empty((t_eval.size,) + y.shape)
    t, total = 0.0, 0
    for k, t_out in enumerate(t_eval):
        span = t_out - t
        m = math.ceil(span / dt * (1.0 - 1e-12)) if span > 0 else 0
        if m:
            rk4_batch(y, W, beta, sa, m, span / m)
            total += m
        t = t_out
        ys[k] = y
        if callback is not None:
            callback(float(t))
    return ys, total


def _norms(err, y, y_new, rtol, atol):
    """The error norm of each system: RMS over its entries of |err| / (atol + rtol max(|y|, |y_new|))."""
    scale = atol + rtol * np.maximum(np.abs(y), np.abs(y_new))
    ratio = np.abs(err / scale) ** 2
    return np.sqrt(np.mean(ratio.reshape(ratio.shape[0], -1), axis=1))


def first_field(field, y):
    """field(y, all) at the initial states, which must be finite (as :func:`integrate` requires)."""
    f = field(y, np.arange(y.shape[0]))
    bad = ~np.all(np.isfinite(f.reshape(f.shape[0], -1)), axis=1)
    if np.any(bad):
        raise ValueError(
            f"integrate: the right-hand side is not finite (NaN or inf) at the initial state of system "
            f"{int(np.argmax(bad))}, t = 0: it overflows float64 at these parameters"
        )
    return f


def dopri_lockstep(field, y0, t_eval, h0, rtol, atol, retract, max_steps, hint, f0=None, callback=None):
    """Integrate y_b' = field(y)_b from t = 0 for every system b, each by its own dopri steps.

    Parameters
    ----------
    field : callable
        field(Y, idx) -> array shaped like Y (m, ...): the field of the stack Y of the m
        systems whose indices are idx.
    y0 : ndarray, shape (B, ...)
        Initial states (float64, retracted).
    t_eval : ndarray, shape (T,)
        Output times, >= 0, strictly increasing (validated by the caller).
    h0 : ndarray, shape (B,)
        First step of each system.
    rtol, atol : float
        Validated tolerances.
    retract : callable
        Y -> Y for a stack of states, row by row.
    max_steps : int or None
        Step attempts allowed to each system (as in :func:`mtlib._integrate.integrate`).
    hint : str
        Appended to the step-budget and underflow errors.
    f0 : ndarray, optional
        field(y0), if the caller has it.
    callback : callable, optional
        callback(t) after each round, t the least time reached by the systems.

    Returns
    -------
    (ys, n_steps, n_rejected, nfev)
        ys (T, B, ...) the states at t_eval; accepted steps, rejected steps and field
        evaluations of each system, arrays of shape (B,).
    """
    B = y0.shape[0]
    T = t_eval.size
    t_end = float(t_eval[-1])
    ys = np.empty((T,) + y0.shape)
    y = y0.copy()
    f = first_field(field, y) if f0 is None else f0
    t = np.zeros(B)
    h = np.array(h0, dtype=float)
    k = np.zeros(B, dtype=np.int64)  # the next output of each system
    budget = [_Run(None, None, None, None, max_steps, hint) for _ in range(B)]
    nfev = np.ones(B, dtype=np.int64)
    lanes = (slice(None),) + (None,) * (y0.ndim - 1)
    active = np.arange(B)
    while True:
        for b in active:  # outputs reached (t_eval[0] may be 0)
            while k[b] < T and not t[b] < t_eval[k[b]]:
                ys[k[b], b] = y[b]
                k[b] += 1
        active = active[k[active] < T]
        if callback is not None:
            callback(float(t.min()) if active.size == 0 else float(t[active].min()))
        if active.size == 0:
            return ys, np.array([r.n_steps for r in budget]), np.array([r.n_rejected for r in budget]), nfev
        for b in active:
            try:
                budget[b].attempt(float(t[b]), t_end)
            except RuntimeError as exc:
                raise RuntimeError(f"system {b}: {exc}") from exc
        t_a = t[active]
        t_out = t_eval[k[active]]
        h_try = np.minimum(h[active], t_out - t_a)
        stuck = t_a + h_try == t_a
        if np.any(stuck):
            q = int(np.argmax(stuck))
            raise RuntimeError(
                f"system {active[q]}: integrate: the dopri step underflowed at t = {t_a[q]:.17g} (h = {h_try[q]:.3g}): the "
                f"right-hand side is too fast, or not finite, here; {hint}"
            )
        y_new, f_new, err, _ = dopri_step(lambda _t, z: field(z, active), 0.0, y[active], f[active], h_try[lanes])
        nfev[active] += 6
        norms = _norms(err, y[active], y_new, rtol, atol)
        finite = np.all(np.isfinite(y_new.reshape(active.size, -1)), axis=1)
        accept = (norms <= 1.0) & finite
        for q, b in enumerate(active):
            factor = step_factor(float(norms[q]))
            if accept[q]:
                budget[b].n_steps += 1
                last = t_out[q] - t_a[q] <= h_try[q]
                t[b] = t_out[q] if last else t_a[q] + h_try[q]
                h[b] = max(h[b], h_try[q] * factor) if last else h_try[q] * factor
            else:
                budget[b].n_rejected += 1
                h[b] = h_try[q] * factor
        done = active[accept]
        if done.size:
            y[done] = retract(y_new[accept])
            f[done] = f_new[accept]  # FSAL: f(y_new), reused at the retracted point
