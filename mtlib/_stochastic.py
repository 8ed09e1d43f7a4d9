"""A stochastic integrator for noisy token dynamics: Strang splitting of RK4 and Brownian motion.

Solves dx_i = v_i(x) dt + √(2D) dB_i on S^{d-1} (B_i Brownian motion on the sphere, whose
generator is Δ_S, so the noise has generator DΔ_S) and dθ_i = v_i dt + √(2D) dW_i on the
circle, for a drift ``field(t, state)`` as :func:`mtlib.simulate` builds it. Each step of
length h is the Strang splitting

    noise(h/2) ∘ drift(h) ∘ noise(h/2),

where drift(h) is exactly the RK4 step of :func:`mtlib._integrate.rk4_step` followed by
the retraction of :func:`mtlib.simulate` (angles mod 2π, rows normalised) and noise(τ)
moves every token by a Brownian step of time τ that stays on the manifold:

- circle: θ ← (θ + √(2Dτ) ξ) mod 2π, ξ ~ N(0, 1): exact in law;
- S^{d-1}: the exponential map of a Gaussian tangent vector, x ← cos|v| x + sin|v| v/|v|,
  v = s P_x ξ, ξ ~ N(0, I_d), P_x = I - x xᵀ, with the curvature-corrected variance
  s² = 2Dτ / (1 + (d-2)Dτ/3). Weak order 2 for e^{τDΔ_S}: the step is zonal, so on a
  degree-l harmonic (Δ_S Y = -λY, λ = l(l+d-2)) it acts as E P_l(cos R), R = s|P_x ξ|,
  P_l the zonal function with P_l(1) = 1, which solves P'' + (d-2) cot r P' = -λP, so
  P_l(cos r) = 1 - λr²/(2(d-1)) + λ(λ - 2(d-2)/3) r⁴/(8(d²-1)) + O(λ³r⁶). Matching
  e^{-λDτ} = 1 - λDτ + λ²D²τ²/2 to O(τ³) for every λ needs E R⁴ = 4(d²-1)D²τ² and
  E R² = 2(d-1)Dτ(1 - (d-2)Dτ/3): with E R² = (d-1)s², E R⁴ = (d²-1)s⁴ that is
  s² = 2Dτ(1 - (d-2)Dτ/3 + O(τ²)), which the s² above satisfies. (The projected step
  x ← (x + σP_xξ)/|x + σP_xξ|, σ² = 2Dτ, has R = arctan(σ|P_xξ|), E R² = 2(d-1)Dτ -
  (8/3)(d²-1)D²τ² + O(τ³): weak order 1 only.) For d = 2 (S¹ as unit rows) s² = 2Dτ and
  the step is exact.

Both parts have local weak error O(h³), so the splitting has weak order 2 (global error
O(h²) in expectations of smooth functions); the tests measure the slope. With D = 0 no
noise step is taken and no random number is drawn: the steps, states and field
evaluations are those of ``integrate(..., method="rk4")`` bit for bit.

References: Hsu, *Stochastic Analysis on Manifolds* (AMS 2002), Ch. 3 (Brownian motion on
the sphere); Leimkuhler, Matthews, *Molecular Dynamics* (Springer 2015), Ch. 7 (splitting
schemes and their weak order); Talay, Tubaro, Stoch. Anal. Appl. 8 (1990) (local to
global weak error).
"""

import math
import time
from dataclasses import dataclass

import numpy as np

from ._bessel import check_diffusion
from ._constants import TWO_PI
from ._integrate import DEFAULT_MAX_STEPS, check_output_times, rk4_step, rk4_steps
from ._validate import check_array, check_int, check_memory, check_real, check_rng


@dataclass(frozen=True)
class SDEIntegration:
    """The result of :func:`integrate_sde`.

    Attributes
    ----------
    t : ndarray, shape (T,)
        The output times (all of ``t_eval``).
    y : ndarray, shape (T,) + y0.shape
        The states at ``t``: angles in [0, 2π) or unit rows.
    n_steps, nfev : int
        Steps taken and drift evaluations (4 a step).
    wall_time : float
        Seconds spent in :func:`integrate_sde`.
    """

    t: np.ndarray
    y: np.ndarray
    n_steps: int
    nfev: int
    wall_time: float


def retract_circle(theta):
    """Angles mod 2π (the retraction of :func:`mtlib.simulate` on the circle)."""
    return np.mod(theta, TWO_PI)


def retract_sphere(X):
    """Rows (last axis) normalised (the retraction of :func:`mtlib.simulate` on the sphere)."""
    return X / np.linalg.norm(X, axis=-1, keepdims=True)


def tangent_variance(diffusion, tau, d):
    """s² = 2Dτ / (1 + (d-2)Dτ/3): the variance of the geodesic step of weak order 2 on S^{d-1}."""
    return 2.0 * diffusion * tau / (1.0 + (d - 2) * diffusion * tau / 3.0)


def circle_noise(theta, diffusion, tau, rng):
    """θ + √(2Dτ) ξ mod 2π: the exact Brownian step of time τ on the circle."""
    return retract_circle(theta + math.sqrt(2.0 * diffusion * tau) * rng.standard_normal(theta.shape))


def sphere_noise(X, diffusion, tau, rng):
    """cos|v| x + sin|v| v/|v|, v = s P_x ξ: the geodesic Brownian step of time τ (weak order 2).

    ``X`` has unit rows along its last axis (any leading shape); s² from :func:`tangent_variance`.
    """
    s = math.sqrt(tangent_variance(diffusion, tau, X.shape[-1]))
    xi = rng.standard_normal(X.shape)
    v = s * (xi - np.sum(xi * X, axis=-1, keepdims=True) * X)
    r = np.linalg.norm(v, axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        sinc = np.where(r > 0.0, np.sin(r) / r, 1.0)
    return retract_sphere(np.cos(r) * X + sinc * v)


def integrate_sde(
    field,
    y0,
    t_eval,
    *,
    dt,
    diffusion,
    rng=None,
    on_circle,
    t0=0.0,
    max_steps=DEFAULT_MAX_STEPS,
    callback=None,
    hint="",
):
    """Integrate dy = field(t, y) dt + √(2D) dB on the circle or S^{d-1}; states at t_eval.

    Each interval between output times is cut into m = ceil(span/dt) equal steps h <= dt
    (the grid of ``integrate(..., method="rk4")``); each step is the Strang splitting
    noise(h/2) ∘ RK4(h) ∘ noise(h/2) described in the module notes, of weak order 2.

    Parameters
    ----------
    field : callable
        field(t, y) -> the drift, shaped like y (angles (n,) or unit rows (n, d); any
        leading batch axes on the sphere, whose rows are the last axis).
    y0 : array_like
        The initial state: angles (wrapped to [0, 2π) as :func:`mtlib.simulate` does
        before calling), or unit rows; used as given.
    t_eval : array_like, shape (T,)
        Output times, strictly increasing, >= t0.
    dt : float > 0
        The largest step.
    diffusion : float >= 0
        The noise strength D (generator DΔ_S). D = 0: the deterministic RK4 path bit for
        bit, and no random number is drawn.
    rng : numpy.random.Generator, int or None
        The one stream of normal variates (an int seeds ``numpy.random.default_rng``;
        None: a fresh unseeded generator). Two normal arrays shaped like y a step.
    on_circle : bool
        True: y holds angles; False: unit rows on S^{d-1}.
    t0 : float
        Initial time.
    max_steps : int >= 1 or None
        A run that needs more steps is refused before it starts (ValueError); None: no limit.
    callback : callable, optional
        callback(t, y) after each step (a progress bar); its return value is ignored.
    hint : str
        What the caller can change, appended to the step-budget error.

    Returns
    -------
    SDEIntegration

    References
    ----------
    Leimkuhler, Matthews, *Molecular Dynamics* (2015), Ch. 7; Hsu, *Stochastic Analysis on
    Manifolds* (2002), Ch. 3.
    """
    start = time.perf_counter()
    if not callable(field):
        raise TypeError(f"field must be callable field(t, y), got {type(field).__name__}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")
    if not isinstance(on_circle, (bool, np.bool_)):
        raise TypeError(f"on_circle must be a bool, got {type(on_circle).__name__}")
    y = check_array(y0, "y0", min_size=1)
    t0 = check_real(t0, "t0")
    t_eval = check_output_times(t_eval, t0)
    dt = check_real(dt, "dt", low=0.0, low_open=True)
    diffusion = check_diffusion(diffusion)
    rng = check_rng(rng)
    if max_steps is not None:
        max_steps = check_int(max_steps, "max_steps", low=1)
        steps = rk4_steps(t0, t_eval, dt)
        if steps > max_steps:
            raise ValueError(
                f"the stochastic RK4 splitting with dt = {dt:.3g} needs {steps:.3g} steps to t_eval[-1] = "
                f"{t_eval[-1]:.6g}, more than max_steps = {max_steps}; {hint or 'shorten t_eval or raise dt'}"
            )
    check_memory((t_eval.size + 10) * y.nbytes, f"integrating a state of shape {y.shape} to {t_eval.size} output times")
    retract = retract_circle if on_circle else retract_sphere
    noise = circle_noise if on_circle else sphere_noise
    noisy = diffusion > 0.0
    ys = np.empty((t_eval.size,) + y.shape)
    n_steps = nfev = 0
    f = None
    t = t0
    for k, t_out in enumerate(t_eval):
        span = t_out - t
        m = math.ceil(span / dt * (1.0 - 1e-12)) if span > 0 else 0
        h = span / m if m else 0.0
        for s in range(m):
            t_a = t + s * h
            if noisy:
                y = noise(y, diffusion, 0.5 * h, rng)
            f = field(t_a, y)
            if nfev == 0 and not np.all(np.isfinite(f)):
                raise ValueError(
                    f"integrate_sde: the drift is not finite (NaN or inf) at the first step, t = {t_a:.6g}: "
                    "it overflows float64 at these parameters"
                )
            y = retract(rk4_step(field, t_a, y, f, h))
            if noisy:
                y = noise(y, diffusion, 0.5 * h, rng)
            n_steps += 1
            nfev += 4
            if callback is not None:
                callback(t_out if s == m - 1 else t + (s + 1) * h, y)
        t = t_out
        ys[k] = y
    return SDEIntegration(t=t_eval, y=ys, n_steps=n_steps, nfev=nfev, wall_time=time.perf_counter() - start)
