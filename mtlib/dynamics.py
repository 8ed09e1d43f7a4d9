"""The token dynamics in time: ``simulate``, ``simulate_batch`` (B independent systems) and their results.

dx_i/dt = v_i(x) for tokens on the circle (angles) or on S^{d-1} (unit rows), with the SA
or USA field of :mod:`mtlib.fields`, integrated by the one stepper of mtlib
(:mod:`mtlib._integrate`: RK4 or Dormand–Prince 5(4), retraction onto the manifold after
every step, events located on the dense output). ``simulate_batch`` integrates many small
systems at once with the same steps (:mod:`mtlib._batch_field`, :mod:`mtlib._batch_integrate`),
without the Python cost of one call per system and stage. References: Geshkovski, Letrouit,
Polyanskiy, Rigollet, "A mathematical perspective on transformers" (2023); Bruno,
Pasqualotto, Agazzi, "Emergence of meta-stable clustering in mean-field transformer
models" (ICLR 2025, arXiv:2410.23228).
"""

import time
from dataclasses import dataclass

import numpy as np

from ._attention_eval import batch_field_function, parse_attention
from ._batch_field import BATCH_CIRCLE_DIRECT_MAX_N, CIRCLE_METHODS, batch_field, resolve_batch_method
from ._batch_integrate import rk4_run
from ._constants import DEFAULT_MODEL
from ._harmonic_eval import METHODS as SPHERE_METHODS
from ._integrate import DEFAULT_MAX_STEPS, initial_step, integrate
from ._simulate_setup import (
    batch_states,
    batch_weights,
    budget_hint,
    dopri_batch,
    noise_options,
    run_options,
    single_field,
    stiffness,
)
from ._stochastic import integrate_sde, retract_circle, retract_sphere
from ._validate import (
    check_array,
    check_choice,
    check_int,
    check_memory,
    check_unit_rows,
    check_usa_beta,
    check_weights,
    check_work,
    wrap_angles,
)

__all__ = ["simulate", "SimulationResult", "simulate_batch", "BatchSimulationResult"]


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
    diffusion : float
        The noise strength D of the run (0: deterministic).
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
    diffusion: float = 0.0

    @property
    def on_circle(self):
        """True when the states are angles on the circle."""
        return self.states.ndim == 2


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
    field_method="auto",
    diffusion=0.0,
    rng=None,
    A=None,
    V=None,
    causal=False,
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

    Noise (``diffusion = D > 0``): dx_i = v_i dt + √(2D) dB_i, B_i Brownian motion on
    S^{d-1} (generator DΔ_S; on the circle dθ_i = v_i dt + √(2D) dW_i). Each RK4 step h
    is the Strang splitting noise(h/2) ∘ RK4(h) ∘ noise(h/2): the circle step
    θ + √(Dh) ξ is exact in law, the sphere step is the exponential map of a Gaussian
    tangent vector of variance 2Dτ/(1 + (d-2)Dτ/3) per component (weak order 2), so the
    scheme has weak order 2 and the tokens stay on the sphere. Needs ``method="rk4"``
    and ``events=None``; the run is determined by ``rng``. D = 0 is the deterministic
    solver, bit for bit, and draws nothing.

    General attention: ``A`` (= QᵀK), ``V`` and ``causal`` give the field of
    :func:`mtlib.velocity` with weights e^{β<x_i,Ax_j>}, values V x_j, sums over j <= i
    when causal (circle: 2×2 matrices acting on (cos θ, sin θ); scaled rotations use the
    exact Fourier modes). Noise works with them unchanged; the default RK4 step becomes
    1/L with L = 2‖V‖ e^{|β|‖A‖} (USA) or 2‖V‖(1 + 2|β|‖A‖) (SA), spectral norms.

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
    field_method : str
        How the field is evaluated. Circle: ``"auto"`` (the Fourier modes when they are
        faster than the direct sum, see :func:`mtlib.velocity_circle`), ``"fourier"``,
        ``"direct"``. Sphere: ``"auto"``, ``"direct"`` (the pairwise sum) or
        ``"harmonic"`` (the spherical-harmonic expansion, S^2 only); ``"auto"`` picks the
        harmonic path on S^2 where it is faster.
    diffusion : float >= 0
        Noise strength D (generator DΔ_S; time in the units of the field). Default 0.
    rng : numpy.random.Generator, int or None
        The stream of the noise (D > 0): a Generator, a seed for
        ``numpy.random.default_rng``, or None (unseeded). Ignored when D = 0.
    A, V : array_like, shape (d, d) ((2, 2) on the circle), optional
        Real finite query-key and value matrices (default: the identity, today's model).
    causal : bool
        Causal mask: token i attends to the tokens j <= i only (default False).

    Returns
    -------
    SimulationResult
        ``t``, ``states`` ((T, n) angles in [0, 2π), or (T, n, d)), ``t_events``,
        ``states_events``, ``status``, run statistics.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Figure 2 (N = 2·10⁴, β = 5 on the circle);
    Hairer, Nørsett, Wanner, Solving Ordinary Differential Equations I (Dormand–Prince);
    Leimkuhler, Matthews, Molecular Dynamics (2015), Ch. 7 (splitting, weak order).
    """
    start = time.perf_counter()
    x0_arr = check_array(x0, "x0", ndim=(1, 2))
    circle = x0_arr.ndim == 1
    # the raw x0 for the sphere check: its dtype sets the unit-norm tolerance (float32)
    if circle:
        y = wrap_angles(x0_arr)
    else:
        y = check_unit_rows(x0, "x0").copy()
    beta, model, t_eval, method, dt, rtol, atol, max_steps = run_options(
        beta, model, t_eval, method, dt, rtol, atol, max_steps
    )
    diffusion, rng = noise_options(diffusion, rng, method, events)
    n = y.shape[0]
    w = check_weights(weights, n)
    check_usa_beta(beta, model)
    field_method = check_choice(field_method, "field_method", CIRCLE_METHODS if circle else SPHERE_METHODS)
    att = parse_attention(A, V, causal, 2 if circle else y.shape[1])
    field = single_field(circle, field_method, y.shape, beta, model == "sa", w, att)
    extra = 0
    if method == "rk4":
        step = dt if dt is not None else 1.0 / stiffness(beta, model, att)
    elif dt is not None:
        step = dt
    else:
        step = min(initial_step(y, field(0.0, y), t_eval[-1], rtol, atol), 1.0 / stiffness(beta, model, att))
        extra = 1
    bar = callback = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=float(t_eval[-1]), unit="t", desc=f"simulate {model} beta={beta:g}")

        def callback(t, _state):
            bar.update(min(t, bar.total) - bar.n)

    noisy = diffusion > 0.0
    try:
        if noisy:
            run = integrate_sde(
                field,
                y,
                t_eval,
                dt=step,
                diffusion=diffusion,
                rng=rng,
                on_circle=circle,
                max_steps=max_steps,
                callback=callback,
                hint=budget_hint(beta, model, method),
            )
        else:
            run = integrate(
                field,
                y,
                t_eval,
                method=method,
                dt=step,
                rtol=rtol,
                atol=atol,
                retract=retract_circle if circle else retract_sphere,
                events=events,
                max_steps=max_steps,
                callback=callback,
                hint=budget_hint(beta, model, method),
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
        n_rejected=0 if noisy else run.n_rejected,
        nfev=run.nfev + extra,
        wall_time=time.perf_counter() - start,
        t_events=[] if noisy else run.t_events,
        states_events=[] if noisy else run.y_events,
        status=0 if noisy else run.status,
        message="reached the last output time" if noisy else run.message,
        diffusion=diffusion,
    )


@dataclass(frozen=True)
class BatchSimulationResult:
    """States of B independent token systems at the output times, and per-system statistics.

    The fields of :class:`SimulationResult` that apply, with a system axis; ``system(b)``
    is the :class:`SimulationResult` of system b alone.

    Attributes
    ----------
    t : ndarray, shape (T,)
        Output times (the requested ``t_eval``).
    states : ndarray, shape (T, B, n) or (T, B, n, d)
        Angles in [0, 2π) on the circle, unit rows on S^{d-1}; ``states[:, b]`` is system b.
    model, method : str
    beta : float
    weights : ndarray, shape (B, n)
        Token masses of each system.
    dt : ndarray, shape (B,)
        RK4: the largest step (the same for all). Dopri: each system's initial step.
    n_steps, n_rejected, nfev : ndarray of int, shape (B,)
        Accepted steps, rejected steps (dopri) and field evaluations of each system (the
        counts :func:`simulate` reports for it; dopri with dt = None: one fewer, as the
        field at the start is evaluated once for the first step and the first stage).
    wall_time : float
        Seconds spent in :func:`simulate_batch` (all systems).
    status : int
        0: every system reached ``t_eval[-1]``.
    message : str
    diffusion : float
        The noise strength D of the run (0: deterministic).
    """

    t: np.ndarray
    states: np.ndarray
    model: str
    method: str
    beta: float
    weights: np.ndarray
    dt: np.ndarray
    n_steps: np.ndarray
    n_rejected: np.ndarray
    nfev: np.ndarray
    wall_time: float
    status: int
    message: str
    diffusion: float = 0.0

    @property
    def on_circle(self):
        """True when the states are angles on the circle."""
        return self.states.ndim == 3

    @property
    def n_systems(self):
        """B, the number of systems."""
        return self.states.shape[1]

    def system(self, b):
        """The :class:`SimulationResult` of system b (``wall_time``: that of the whole batch)."""
        b = check_int(b, "b", low=-self.n_systems, high=self.n_systems - 1)
        return SimulationResult(
            t=self.t,
            states=self.states[:, b],
            model=self.model,
            method=self.method,
            beta=self.beta,
            weights=self.weights[b],
            dt=float(self.dt[b]),
            n_steps=int(self.n_steps[b]),
            n_rejected=int(self.n_rejected[b]),
            nfev=int(self.nfev[b]),
            wall_time=self.wall_time,
            t_events=[],
            states_events=[],
            status=self.status,
            diffusion=self.diffusion,
            message=self.message,
        )


def simulate_batch(
    x0s,
    beta,
    t_eval,
    model=DEFAULT_MODEL,
    method="rk4",
    dt=None,
    rtol=1e-8,
    atol=1e-10,
    weights=None,
    max_steps=DEFAULT_MAX_STEPS,
    field_method="auto",
    progress=False,
    events=None,
    diffusion=0.0,
    rng=None,
    A=None,
    V=None,
    causal=False,
):
    """Integrate B independent token systems at once: :func:`simulate` for each, in one call.

    System b solves dx_i/dt = v_i(x) from x(0) = x0s[b] with the SA or USA field of its own
    n tokens (all systems share β, the model, the integrator and its options). The result
    is that of looping :func:`simulate` over the systems, to rounding (about 1e-15
    relative per field evaluation): RK4 takes the same steps, and dopri runs every system
    with its own step-size control (its own steps, rejections and output times) in
    lockstep rounds over the systems still running. The batched field
    (``field_method="direct"``) computes each system's Gram matrix G_b = X_b X_bᵀ and
    num_b = E_b X_b (BLAS), the shifted exponentials with the self term left out, the
    projection num_i - c_i x_i (c_i = Σ_j w_j e^{β g_ij - s_i} g_ij), with the rules of
    :func:`mtlib.velocity` for large |β|, duplicate tokens and USA overflow; RK4 runs all
    steps of an output interval inside one numba call. That saves the Python cost of one
    call per system and stage, which dominates for small systems (phase diagrams: n = 32
    tokens, thousands of seeds). Each system's arithmetic does not depend on the others in
    the batch: relabelling or splitting the batch changes no result.

    Noise (``diffusion = D > 0``, ``method="rk4"`` only): every token of every system gets
    its own Brownian increment, by the splitting of :func:`simulate`; one stream ``rng``
    feeds the whole batch (arrays shaped like the states), so system b is reproducible
    from the seed but its path differs from ``simulate(x0s[b], ..., rng=seed)``, except
    for B = 1. General attention (``A``, ``V``, ``causal``, the same for every system, as
    in :func:`simulate`) uses a batched direct sum (one numba call for all systems; on
    the circle with scaled rotations beyond 128 tokens, or with ``field_method="fourier"``,
    each system's Fourier modes).

    Parameters
    ----------
    x0s : array_like, shape (B, n) or (B, n, d)
        Initial angles of B systems of n tokens, or their unit rows on S^{d-1} (d >= 2).
    beta : float
        Inverse temperature β; |β| <= 700 for USA.
    t_eval : array_like, shape (T,)
        Output times: >= 0, strictly increasing.
    model : {"usa", "sa"}
    method : {"rk4", "dopri", "rk45"}
    dt : float > 0, optional
        RK4 step (default 1/L(β), as :func:`simulate`); dopri initial step of every system
        (default: each system's own, as :func:`simulate` chooses it).
    rtol, atol : float
        Dopri tolerances (rtol >= 8.9e-16, atol > 0), applied to each system's error norm.
    weights : array_like, shape (n,) or (B, n), optional
        Token masses summing to 1: shared by all systems, or one row per system
        (default 1/n).
    max_steps : int >= 1 or None
        Step attempts allowed to each system, as in :func:`simulate` (RK4: refused before
        the start; dopri: ``RuntimeError`` naming the system).
    field_method : str
        ``"auto"``, ``"direct"`` (the batched kernel), or the per-system paths
        ``"fourier"`` (circle) and ``"harmonic"`` (S^2), run system by system. ``"auto"``:
        the batched kernel, except on the circle beyond ``BATCH_CIRCLE_DIRECT_MAX_N``
        (128) tokens and on S^2 where :func:`simulate` would use the harmonic field
        (those systems are large enough for the per-system path to be faster).
    progress : bool
        Show a tqdm progress bar (the least time reached by the systems).
    events : None
        Events are not supported here (``ValueError``): loop :func:`simulate` for them.
    diffusion : float >= 0
        Noise strength D, as in :func:`simulate`. Default 0.
    rng : numpy.random.Generator, int or None
        The stream of the noise (D > 0). Ignored when D = 0.
    A, V : array_like, shape (d, d) ((2, 2) on the circle), optional; causal : bool
        Attention matrices and causal mask of :func:`simulate`, shared by all systems.

    Returns
    -------
    BatchSimulationResult
        ``t``, ``states`` ((T, B, n) or (T, B, n, d)), per-system ``n_steps``, ``nfev``,
        ...; ``result.system(b)`` is system b's :class:`SimulationResult`.

    Raises
    ------
    ValueError
        For arguments outside the ranges above (the checks of :func:`simulate`), for one
        field evaluation of more than ``_validate.MAX_OPERATIONS`` operations or states
        larger than the memory, and when the USA field overflows.
    RuntimeError
        Dopri: a system used its ``max_steps``, or its step underflowed (the message names it).

    References
    ----------
    Hairer, Nørsett, Wanner, Solving Ordinary Differential Equations I (Dormand–Prince);
    Bruno, Pasqualotto, Agazzi (2025), arXiv:2410.23228 (the model).
    """
    start = time.perf_counter()
    y = batch_states(x0s)
    circle = y.ndim == 2
    beta, model, t_eval, method, dt, rtol, atol, max_steps = run_options(
        beta, model, t_eval, method, dt, rtol, atol, max_steps
    )
    B, n = y.shape[:2]
    d = None if circle else y.shape[2]
    W = batch_weights(weights, B, n)
    check_usa_beta(beta, model)
    field_method = check_choice(field_method, "field_method", CIRCLE_METHODS if circle else SPHERE_METHODS)
    if events is not None:
        raise ValueError("simulate_batch does not locate events; loop mt.simulate(..., events=...) over the systems")
    diffusion, rng = noise_options(diffusion, rng, method, None)
    if not isinstance(progress, (bool, np.bool_)):
        raise TypeError(f"progress must be a bool, got {type(progress).__name__}")
    size = f"B = {B} systems of n = {n} tokens" + ("" if circle else f" in d = {d}")
    check_work(float(B) * n * n * (d or 2), f"one field evaluation of {size}")
    check_memory((t_eval.size + 14) * y.nbytes, f"{size} at {t_eval.size} output times")
    att = parse_attention(A, V, causal, d or 2)
    sa = model == "sa"
    if att is None:
        how = resolve_batch_method(field_method, n, d, beta)
    else:
        how = batch_field_function(circle, field_method, n, beta, sa, att, BATCH_CIRCLE_DIRECT_MAX_N)

    def field(_t, Y):
        return batch_field(Y, W, beta, sa, how)

    bar = callback = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=float(t_eval[-1]), unit="t", desc=f"simulate_batch B={B} {model} beta={beta:g}")

        def callback(t, *_):
            bar.update(min(t, bar.total) - bar.n)

    retract = retract_circle if circle else retract_sphere
    hint = budget_hint(beta, model, method)
    try:
        if method == "rk4":
            step = dt if dt is not None else 1.0 / stiffness(beta, model, att)
            if diffusion > 0.0:
                run = integrate_sde(field, y, t_eval, dt=step, diffusion=diffusion, rng=rng, on_circle=circle,
                                    max_steps=max_steps, callback=callback, hint=hint)
                states, total = run.y, run.n_steps
            elif isinstance(how, str) and how == "batch":
                states, total = rk4_run(y, W, beta, sa, t_eval, step, max_steps, hint, callback)
            else:
                run = integrate(field, y, t_eval, method="rk4", dt=step, retract=retract, max_steps=max_steps,
                                callback=callback, hint=hint)
                states, total = run.y, run.n_steps
            steps = np.full(B, step)
            n_steps, n_rejected, nfev = (np.full(B, c, dtype=np.int64) for c in (total, 0, 4 * total))
        else:
            states, steps, n_steps, n_rejected, nfev = dopri_batch(
                y, W, beta, sa, how, t_eval, dt, (rtol, atol), (model, att), retract, max_steps, hint, callback
            )
    finally:
        if bar is not None:
            bar.close()
    return BatchSimulationResult(
        t=t_eval,
        states=states,
        model=model,
        method=method,
        beta=beta,
        weights=W,
        dt=steps,
        n_steps=n_steps,
        n_rejected=n_rejected,
        nfev=nfev,
        wall_time=time.perf_counter() - start,
        status=0,
        message="reached the last output time",
        diffusion=diffusion,
    )
