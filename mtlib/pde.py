"""The mean-field PDE on the circle, solved two complementary ways.

A probability density ρ(θ) on the circle (``∫ρ dθ = 1``) moves by the continuity equation

    ∂_t ρ + ∂_θ(ρ V) = 0,   V(θ) = ∫ K(θ'-θ) ρ(θ') dθ',   K(φ) = e^{β cos φ} sin φ   (USA),

and SA divides V by ``D(θ) = ∫ e^{β cos(θ'-θ)} ρ(θ') dθ'``: the N → ∞ limit of
:func:`mtlib.simulate` on the circle, in the same time units. With
``c_m = ∫ ρ e^{-imθ} dθ`` (so ``c_0 = 1``) and ``a_m = 2m I_m(β)/β`` (``K = Σ a_m sin mφ``),
the velocity is exactly ``V = Σ_m v_m e^{imθ}``, ``v_m = (i/2) a_m c_m``, and
``D = Σ_m I_|m|(β) c_m e^{imθ}``; linearising around ``1/(2π)`` gives
``∂_t c_m = γ_m c_m`` with ``γ_m = m² I_m(β)/β`` (:func:`mtlib.growth_rate`).

- ``method="spectral"`` (Eulerian): Fourier modes |m| <= M/3 of a grid of M points
  (2/3 dealiasing), Lawson (integrating-factor) Dormand–Prince 5(4) steps, so the linear
  growth is exact and only the nonlinear remainder is stepped, adaptive steps capped by a
  CFL bound (the one stepper of :mod:`mtlib._integrate`), float64, mass exact. It stops
  being valid when the density concentrates: under-resolution is detected from the
  spectral tail and from negative values.
- ``method="lagrangian"``: the equation along characteristics. Quantile points of ρ
  move by the exact velocity of :func:`mtlib.simulate` (weighted tokens); the density is
  recovered from their spacing, ``ρ(X(q)) = 1/∂_q X`` in the mass coordinate q. Mass
  is exact, there is no CFL limit, Diracs are followed.
- ``method="auto"``: spectral while resolved, then Lagrangian from the last resolved
  density; the hand-over time is recorded.
- ``phi = φ``: the rotated interaction ``e^{β cos(θ - θ' - φ)}`` (A = R_φ), both methods.
- ``diffusion = D > 0``: the Fokker–Planck equation ``∂_t ρ + ∂_θ(ρV) = D∂²_θρ`` of tokens
  with noise, spectral only, the diffusion exact in the integrating factor.

Reference: G. Bruno, F. Pasqualotto, A. Agazzi, *Emergence of meta-stable clustering in
mean-field transformer models*, ICLR 2025 (arXiv:2410.23228), Section 4; E. Grenier,
*On the nonlinear instability of Euler and Prandtl equations*, CPAM 53 (2000), for the
iterative scheme of :func:`mtlib.grenier_expansion` (module :mod:`mtlib.grenier`), which
extends :func:`linearized_solution` order by order.
"""

import math
import time
from dataclasses import dataclass

import numpy as np

from ._bessel import check_diffusion
from ._constants import DEFAULT_MODEL, TWO_PI
from ._integrate import check_tolerances, integrate
from ._pde_lagrangian import lagrangian_run
from ._pde_operator import CircleOperator, check_density, check_grid, lawson_terms, linear_time_limit, resolution_check
from ._validate import check_choice, check_int, check_memory, check_model, check_real, check_rng, check_times
from ._validate import check_usa_beta
from .harmonics import density_fourier_coefficients, fourier_coefficients
from .rotated_interaction import mode_rate_circle
from .spectral import growth_rate

__all__ = [
    "CirclePDESolution",
    "UnderResolvedError",
    "pde_grid",
    "white_noise_density",
    "manifold_density",
    "solve_circle_pde",
    "linearized_solution",
]

NEGATIVE_TOL = 1e-8  # a density below -NEGATIVE_TOL is under-resolved (density units, mean 1/2π)
REFERENCE_NODES = 9999  # the authors' grid: their σ per node defines the noise level
FIRST_STEP = 0.01  # the spectral solver's first step, before the CFL cap
LOG_FLOAT_MAX = math.log(np.finfo(float).max)


class UnderResolvedError(RuntimeError):
    """The spectral solution left the resolved regime (raised by ``method="spectral"``).

    Attributes
    ----------
    time : float
        The last time at which the solution was resolved.
    partial : CirclePDESolution
        The snapshots computed up to that time.
    """

    def __init__(self, message, time, partial):
        super().__init__(message)
        self.time = time
        self.partial = partial


@dataclass(frozen=True)
class CirclePDESolution:
    """A solution of the circle PDE at the requested output times.

    Attributes
    ----------
    t : ndarray, shape (T,)
        Output times.
    theta : ndarray, shape (M,)
        The grid ``θ_j = 2πj/M``.
    density : ndarray, shape (T, M)
        ρ(t, θ_j) (``Σ_j ρ_j 2π/M = 1``). Spectral snapshots are point values of the
        band-limited solution; Lagrangian ones are cell averages over
        ``[θ_j - π/M, θ_j + π/M]`` of the spacing density (exact mass, bounded by a
        Dirac's mass divided by the cell width). Compare with tokens through
        ``wasserstein_circle_density(u, density[i], cell_start=-np.pi / M)``.
    method : ndarray of str, shape (T,)
        ``"spectral"`` or ``"lagrangian"``: which solver produced each snapshot.
    handover_time : float or None
        The time the auto method switched to the Lagrangian solver (None if it did not;
        0.0 for ``method="lagrangian"``).
    points : ndarray, shape (T_L, n) or None
        Lagrangian points (angles in [0, 2π)) at the Lagrangian snapshots
        ``t[method == "lagrangian"]``; they carry ``weights``.
    weights : ndarray, shape (n,) or None
        Masses of the Lagrangian points (1/n each: quantile points).
    beta : float
    model : str
    n_steps, n_rejected, nfev : int
        Accepted and rejected steps, right-hand-side evaluations (spectral nonlinear
        terms plus Lagrangian velocity fields), both solvers together.
    wall_time : float
        Seconds spent in :func:`solve_circle_pde`.
    message : str
        What the solvers did (and why the spectral one stopped, if it did).
    spectral_steps, lagrangian_steps : int
        Accepted steps of each solver.
    mass_error : float
        Max over snapshots of ``|Σ_j ρ_j 2π/M - 1|`` (NaN without snapshots).
    min_density : float
        Smallest snapshot value (NaN without snapshots).
    tail_ratio : float
        Largest spectral-tail rms over its threshold while resolved (<= 1).
    unresolved_reason : str or None
        Why the spectral solver stopped (spectral tail, negative density or non-finite
        values), None if it did not.
    diffusion : float
        The noise strength D of the Fokker–Planck equation (0: continuity equation).
    phi : float
        The rotation angle of the interaction (0: today's model).
    """

    t: np.ndarray
    theta: np.ndarray
    density: np.ndarray
    method: np.ndarray
    handover_time: object
    points: object
    weights: object
    beta: float
    model: str
    n_steps: int
    n_rejected: int
    nfev: int
    wall_time: float
    message: str
    spectral_steps: int
    lagrangian_steps: int
    mass_error: float
    min_density: float
    tail_ratio: float
    unresolved_reason: object
    diffusion: float = 0.0
    phi: float = 0.0

    def fourier_coefficients(self, k):
        """Fourier coefficients ``c_k(t) = ∫ ρ(t, θ) e^{-ikθ} dθ`` of every snapshot, shape (T,) + np.shape(k).

        Spectral snapshots: the trapezoid rule on the grid
        (:func:`mtlib.density_fourier_coefficients`, exact for the band-limited solution);
        Lagrangian snapshots: the weighted points (:func:`mtlib.fourier_coefficients`),
        not their binned density. ``k``: int or array of int, ``|k| <= M // 2``.
        """
        spectral = self.method == "spectral"
        out = np.empty((self.t.size,) + np.shape(k), dtype=np.complex128)
        if spectral.any():
            out[spectral] = density_fourier_coefficients(self.density[spectral], k)
        if self.points is not None:
            out[~spectral] = fourier_coefficients(self.points, k, weights=self.weights)
        return out


# ----------------------------------------------------------------------------- inputs


def pde_grid(M):
    """The grid ``θ_j = 2πj/M``, j = 0..M-1, on which densities are given and returned.

    Parameters
    ----------
    M : int, >= 8
        Number of grid points (ValueError where they do not fit in memory).

    Returns
    -------
    ndarray, shape (M,)

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4 (the PDE on the circle).
    """
    M = check_grid(M, 3)
    return TWO_PI * np.arange(M) / M


def white_noise_density(M, sigma, rng=None, reference_nodes=REFERENCE_NODES):
    """Uniform density plus white noise of a grid-independent size, on M points.

    .. math::

        ρ(θ) = \\frac{1}{2π}\\Big(1 + \\sum_{0<|m|<M/2} c_m e^{imθ}\\Big), \\quad
        c_{-m} = \\bar c_m, \\quad c_m = ε\\,\\frac{ξ_m + iη_m}{\\sqrt 2}, \\quad
        ε = σ \\frac{2π}{\\sqrt{\\text{reference\\_nodes}}}

    with ξ, η iid standard normal, so ``E|∫ρ e^{-imθ}dθ|² = ε²`` for every mode and any M.
    ``σ`` is the per-node standard deviation of white noise on the authors' grid of
    9999 nodes (their σ = 0.01 gives ε ≈ 6.3e-4, as in the paper's Figure 4); on M nodes
    the per-node standard deviation is ``ε sqrt(M)/(2π)``. The modes are drawn in
    increasing order, so one seed gives the same low modes on every grid. The mass is
    exactly 1 (the authors' datum was not renormalised).

    Parameters
    ----------
    M : int, >= 8
        Grid size.
    sigma : float, >= 0
        Noise level in the authors' per-node convention.
    rng : numpy.random.Generator, int or None
        Random source or seed.
    reference_nodes : int, >= 1
        The grid on which σ is a per-node standard deviation.

    Returns
    -------
    ndarray, shape (M,)
        ρ on :func:`pde_grid`.

    Raises
    ------
    ValueError
        If the noise makes the density negative somewhere (σ too large for this M).

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Figure 4.
    """
    M = check_grid(M, 6)
    sigma = check_real(sigma, "sigma", low=0.0)
    rng = check_rng(rng)
    reference_nodes = check_int(reference_nodes, "reference_nodes", low=1)
    eps = sigma * TWO_PI / math.sqrt(reference_nodes)
    n_modes = (M - 1) // 2
    xi = rng.standard_normal((n_modes, 2))
    c = np.zeros(M // 2 + 1, dtype=np.complex128)
    c[0] = 1.0
    c[1 : n_modes + 1] = eps * (xi[:, 0] + 1j * xi[:, 1]) / math.sqrt(2.0)
    rho = np.fft.irfft(c, M) * (M / TWO_PI)
    if rho.min() < 0:
        raise ValueError(f"sigma = {sigma} makes the density negative on {M} points; lower sigma or M")
    return rho


def manifold_density(M, k, alpha, phase=0.0):
    """Initial data on the invariant manifold of 2π/k-periodic densities: ``f^α``.

    .. math:: f^α(θ) = \\frac{1 + α \\cos(k(θ - φ))}{2π}

    Rotation equivariance keeps 2π/k-periodic densities 2π/k-periodic; the paper's
    Figure 5 starts from ``f^α`` with k = k_max and α = 0.01, 0.001.

    Parameters
    ----------
    M : int, >= 8
        Grid size.
    k : int, >= 1
        Period number (the density has period 2π/k).
    alpha : float, |alpha| <= 1
        Relative amplitude (non-negative density).
    phase : float
        φ, radians.

    Returns
    -------
    ndarray, shape (M,)
        ρ on :func:`pde_grid`.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.3 and Figure 5.
    """
    M = check_grid(M, 4)
    k = check_int(k, "k", low=1)
    alpha = check_real(alpha, "alpha", low=-1.0, high=1.0)
    phase = check_real(phase, "phase")
    return (1.0 + alpha * np.cos(k * (pde_grid(M) - phase))) / TWO_PI


# ----------------------------------------------------------------------------- public solver


def solve_circle_pde(
    rho0,
    beta,
    t_eval,
    model=DEFAULT_MODEL,
    method="auto",
    rtol=1e-6,
    atol=1e-12,
    cfl=1.5,
    tail_factor=10.0,
    tail_tol=1e-7,
    n_points=None,
    diffusion=0.0,
    phi=0.0,
):
    """Solve the mean-field continuity (or Fokker–Planck) equation on the circle from a density on a grid.

    .. math::

        ∂_t ρ + ∂_θ(ρ V) = 0, \\quad V(θ) = \\int K(θ'-θ)\\,ρ(θ')\\,dθ', \\quad
        K(φ) = e^{β\\cos φ}\\sin φ \\ (\\text{USA};\\ \\text{SA divides } V \\text{ by }
        \\textstyle\\int e^{β\\cos(θ'-θ)}ρ(θ')dθ')

    Time units are those of :func:`mtlib.simulate` (the PDE is its N → ∞ limit), so a
    small mode m grows like ``e^{γ_m t}`` with γ_m from :func:`mtlib.growth_rate`.

    With ``diffusion = D > 0`` it solves the Fokker–Planck equation of tokens with noise,
    ``∂_t ρ + ∂_θ(ρ V) = D ∂²_θ ρ`` (``dθ_i = v_i dt + √(2D) dW_i``): the spectral solver
    puts ``-D m²`` into the integrating factor, ``c_m' = (γ_m - D m²) c_m + N_m(c)``, so
    the diffusion is exact and a small mode changes like ``e^{m²(λ_m - D)t}``
    (``growth_rate(m, beta, 2, model, diffusion=D)``). The Lagrangian solver moves mass
    along characteristics and has no diffusion: ``method="lagrangian"`` is refused, and
    ``"auto"`` runs the spectral solver only (raising :class:`UnderResolvedError` if the
    grid stops resolving the solution). ``D = 0`` is the noiseless solver bit for bit.
    Cost: near a stationary state the drift balances ``D m² c_m``, which Lawson's scheme
    does not keep in balance exactly, so the steps stay near ``3/(D m²)`` for the highest
    mode m above ``atol`` (β = 1, D = 0.28, atol = 1e-10: about 80 steps per time unit);
    a concentrated state also needs ``tail_tol`` above the default 1e-7 (its resolved
    spectrum sits above it, e.g. 1e-5 on 96 points for an order parameter of 0.9).

    With ``phi = φ`` != 0 the interaction is rotated, weights ``e^{β cos(θ - θ' - φ)}``
    (A = R_φ: ``K(ψ) = e^{β cos(ψ+φ)} sin ψ``, SA divides by ``∫e^{β cos(θ-θ'-φ)}ρ dθ'``):
    the Fourier coefficients of K and of the SA denominator pick up ``e^{-imφ}`` and the
    integrating factor uses the complex rates of :func:`mtlib.mode_rate_circle`, so a small
    mode goes like ``e^{λ_m t}``, rigid drift of the uniform state included; the Lagrangian
    points move by ``simulate(..., A=R_φ)``. ``phi = 0`` is today's solver bit for bit.

    Methods (see the module docstring):

    - ``"spectral"``: modes |m| <= M/3, exact Bessel velocity, Lawson–Dormand–Prince
      (linear growth exact), error control (rtol, atol on the coefficients
      ``c_m = ∫ρe^{-imθ}``) and the CFL cap ``h <= cfl/(M/3 · max|V| + max|∂_θV|)``. The
      initial density is projected onto the retained modes. The solution counts as
      resolved while the rms of the modes M/6 < m <= M/3 stays below ``tail_factor``
      times its initial value or ``tail_tol``, whichever is larger (smooth data start
      with no tail: a truncation error below ``tail_tol`` is accepted), the density stays
      above -1e-8 and finite; otherwise :class:`UnderResolvedError` is raised, carrying
      the snapshots computed so far. This includes t = 0: a density whose projection
      dips below -1e-8 (a step, say) is not resolved from the start. With white noise at the authors' level (β = 5) a
      grid of 1024 points is resolved to t ≈ 0.44; finer grids cost more steps (CFL)
      and are not resolved longer.
    - ``"lagrangian"``: ``n_points`` quantile points of ρ0, equal masses, moved by
      :func:`mtlib.simulate` (Dormand–Prince with the same rtol, atol, on angles);
      density on the grid from the spacings. Mass exact; follows Diracs.
    - ``"auto"``: spectral while resolved, then Lagrangian from the last resolved state
      (from ``rho0`` itself, at t = 0, when its projection is not resolved), so every
      snapshot is non-negative.

    Parameters
    ----------
    rho0 : array_like, shape (M,), M >= 8
        Initial density at ``θ_j = 2πj/M`` (:func:`pde_grid`): non-negative, with
        ``Σ_j ρ_j 2π/M = 1`` within 1e-8 (then renormalised exactly).
    beta : float
        Inverse temperature, finite; |β| <= 700 for USA.
    t_eval : array_like, shape (T,)
        Output times, >= 0 and strictly increasing.
    model : {"usa", "sa"}
    method : {"auto", "spectral", "lagrangian"}
    rtol, atol : float
        Tolerances of both steppers (atol: spectral coefficients, and angles in the
        Lagrangian run); rtol >= 4 machine epsilons, atol > 0.
    cfl : float > 0
        CFL number of the spectral step cap. Each stepper has the step budget of
        :func:`mtlib.simulate` (``RuntimeError`` when a run cannot finish within it, e.g.
        a tiny cfl, or USA at large β once points cluster).
    tail_factor : float > 1
        Allowed growth of the spectral tail before the grid counts as under-resolved.
    tail_tol : float > 0
        Spectral tail rms (in units of ``c_0 = 1``) that always counts as resolved.
    n_points : int >= 8, optional
        Lagrangian points (default M; ValueError where they do not fit in memory).
    diffusion : float >= 0
        Noise strength D (0: the continuity equation).
    phi : float
        Rotation angle φ of the interaction, radians, finite (0: A = I).

    Returns
    -------
    CirclePDESolution

    Raises
    ------
    UnderResolvedError
        ``method="spectral"`` (and ``"auto"`` with diffusion) once the grid no longer
        resolves the solution.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4 and Figures 4-5.
    """
    start = time.perf_counter()
    rho0 = check_density(rho0)
    beta = check_real(beta, "beta")
    t_eval = check_times(t_eval)
    model = check_model(model)
    method = check_choice(method, "method", ("auto", "spectral", "lagrangian"))
    rtol, atol = check_tolerances(rtol, atol)
    cfl = check_real(cfl, "cfl", low=0.0, low_open=True)
    tail_factor = check_real(tail_factor, "tail_factor", low=1.0, low_open=True)
    tail_tol = check_real(tail_tol, "tail_tol", low=0.0, low_open=True)
    M = rho0.size
    n_points = M if n_points is None else check_int(n_points, "n_points", low=8)
    check_usa_beta(beta, model)
    diffusion = check_diffusion(diffusion)
    phi = check_real(phi, "phi")
    if diffusion > 0.0 and method == "lagrangian":
        raise ValueError(
            f"method='lagrangian' solves the continuity equation without noise; with diffusion = {diffusion:g} > 0 "
            "use method='spectral' (the diffusion is exact there)"
        )
    what = f"M = {M} grid points, n_points = {n_points} and {t_eval.size} times"
    check_memory(8 * (M + n_points) * (t_eval.size + 16), what)

    stats = {"spectral": None, "lagrangian": None, "tail_ratio": 0.0, "reason": None, "until": None}
    dens, labels, points, weights, handover = [], [], None, None, None
    t_lag, rho_lag = 0.0, rho0
    if method in ("auto", "spectral"):
        op = CircleOperator(M, beta, model, phi)
        c0 = op.project(rho0)
        c0[0] = 1.0
        last_good = [0.0, c0]
        resolved = resolution_check(op, max(tail_factor * op.tail(c0), tail_tol), NEGATIVE_TOL, stats, last_good)
        low = op.density(c0).min()
        if low < -NEGATIVE_TOL:  # e.g. a step: its projection onto |m| <= M/3 oscillates below 0
            stats["reason"] = f"negative density ({low:.3g} at t = 0: rho0 projected onto the modes |m| <= {op.kc})"
            stopped = True
        else:
            rhs, max_step = lawson_terms(op, cfl)
            first = min(FIRST_STEP, max(t_eval[-1], 1e-12))
            hint = "raise cfl (the steps are capped by it), shorten t_eval, or " + (
                "use method='lagrangian'" if diffusion == 0.0 else "loosen atol (near a stationary state)")
            linear = op.rate if diffusion == 0.0 else op.rate - diffusion * np.arange(op.kc + 1.0) ** 2
            run = integrate(
                rhs, c0, t_eval, linear=linear, dt=first, rtol=rtol, atol=atol, max_step=max_step,
                callback=resolved, hint=hint,
            )
            stats["spectral"] = run
            for c in run.y:
                dens.append(op.density(c))
                labels.append("spectral")
            stopped = run.status == 2
        if stopped:
            t_lag, c_lag = last_good
            stats["until"] = t_lag
            if t_lag > 0.0:
                rho_lag = np.maximum(op.density(c_lag), 0.0)  # resolved: any negative part is below 1e-8
                rho_lag /= rho_lag.sum() * TWO_PI / M
            if method == "spectral" or diffusion > 0.0:
                partial = _finish(t_eval[: len(dens)], M, dens, labels, None, None, None, beta, model, stats, start,
                                  diffusion, phi)
                raise UnderResolvedError(
                    f"the spectral solution on {M} points is under-resolved after t = {t_lag:.6g} "
                    f"({stats['reason']}); use "
                    + ("a finer grid (no Lagrangian hand-over with diffusion)" if diffusion > 0.0
                       else "method='auto' or a finer grid"),
                    t_lag,
                    partial,
                )
            handover = t_lag
    if method == "lagrangian":
        handover = 0.0
    if len(dens) < t_eval.size:
        times = t_eval[len(dens) :]
        lag_dens, points, weights, stats["lagrangian"] = lagrangian_run(
            rho_lag, beta, model, t_lag, times, n_points, rtol, atol, phi
        )
        dens.extend(lag_dens)
        labels.extend(["lagrangian"] * times.size)
    return _finish(t_eval, M, dens, labels, handover, points, weights, beta, model, stats, start, diffusion, phi)


def _finish(t, M, dens, labels, handover, points, weights, beta, model, stats, start, diffusion, phi):
    """The CirclePDESolution of the snapshots so far, with the statistics of both runs."""
    density = np.array(dens).reshape(len(dens), M)
    spec, lag = stats["spectral"], stats["lagrangian"]
    runs = [r for r in (spec, lag) if r is not None]
    parts = []
    if spec is not None or stats["reason"] is not None:  # the spectral solver ran, or refused rho0
        stopped = "" if stats["reason"] is None else f", resolved to t = {stats['until']:.6g} ({stats['reason']})"
        parts.append("spectral" + stopped)
    if lag is not None:
        parts.append(f"Lagrangian with {lag.states.shape[1]} points from t = {handover:.6g}")
    return CirclePDESolution(
        t=np.asarray(t),
        theta=TWO_PI * np.arange(M) / M,
        density=density,
        method=np.array(labels, dtype=str),
        handover_time=handover,
        points=points,
        weights=weights,
        beta=beta,
        model=model,
        n_steps=sum(r.n_steps for r in runs),
        n_rejected=sum(r.n_rejected for r in runs),
        nfev=sum(r.nfev for r in runs),
        wall_time=time.perf_counter() - start,
        message="; then ".join(parts),
        spectral_steps=0 if spec is None else spec.n_steps,
        lagrangian_steps=0 if lag is None else lag.n_steps,
        mass_error=float(np.max(np.abs(density.sum(axis=1) * TWO_PI / M - 1.0))) if density.size else math.nan,
        min_density=float(density.min()) if density.size else math.nan,
        tail_ratio=stats["tail_ratio"],
        unresolved_reason=stats["reason"],
        diffusion=diffusion,
        phi=phi,
    )


def linearized_solution(rho0, beta, t_eval, model=DEFAULT_MODEL, diffusion=0.0, phi=0.0):
    """Exact solution of the PDE linearised around the uniform density.

    .. math:: c_m(t) = c_m(0)\\,e^{γ_m t}, \\qquad ρ(t,θ) = \\frac{1}{2π}\\sum_m c_m(t) e^{imθ}

    with ``c_m = ∫ρ e^{-imθ}dθ`` and γ_m from :func:`mtlib.growth_rate` (all modes of the
    grid, no truncation); with ``diffusion = D`` the Fokker–Planck rates
    ``γ_m(D) = m²(λ_m - D)`` (D = 0 bit for bit the noiseless solution); with ``phi = φ``
    the complex rates of the rotated interaction, :func:`mtlib.mode_rate_circle` (minus
    ``D m²``; φ = 0 bit for bit today's). Valid while the perturbation is small.
    The values grow like e^{γ_max t}; times where they would overflow float64 are refused.

    Parameters
    ----------
    rho0 : array_like, shape (M,)
        Initial density on :func:`pde_grid` (non-negative, integrating to 1).
    beta : float
        Inverse temperature; |β| <= 700 for USA.
    t_eval : float or array_like, shape (T,)
        Times >= 0, increasing, up to where ``Σ_m |c_m| e^{γ_m t}`` overflows (ValueError
        naming that time; about t = 38 at β = 5).
    model : {"usa", "sa"}
    diffusion : float >= 0
        Noise strength D.
    phi : float
        Rotation angle φ of the interaction, radians, finite.

    Returns
    -------
    ndarray, shape (T, M), or (M,) for a scalar time

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Theorem 4.2.
    """
    scalar = np.ndim(t_eval) == 0
    rho0 = check_density(rho0)
    beta = check_real(beta, "beta")
    t = check_times(t_eval)
    model = check_model(model)
    check_usa_beta(beta, model)
    diffusion = check_diffusion(diffusion)
    phi = check_real(phi, "phi")
    M = rho0.size
    check_memory(32 * t.size * M, f"{t.size} times on M = {M} grid points")
    c = np.fft.rfft(rho0)
    if phi == 0.0:
        gamma = growth_rate(np.arange(c.size), beta, 2, model, diffusion)
    else:
        gamma = mode_rate_circle(np.arange(c.size), beta, phi, model) - diffusion * np.arange(c.size) ** 2.0
    t_max = linear_time_limit(c, gamma.real, t[-1], LOG_FLOAT_MAX - math.log(2 * M))
    if t[-1] > t_max:
        raise ValueError(
            f"t_eval must be <= {t_max:.6g} for this rho0 at beta = {beta:g} ({model.upper()}): the linearised "
            f"solution grows like e^(gamma_max t), gamma_max = {np.max(gamma.real):.3g}, and overflows float64 beyond; "
            f"got t = {t[-1]:.6g}"
        )
    with np.errstate(invalid="ignore"):  # t = 0 times an overflowed γ_m
        growth = np.exp(np.outer(t, gamma))
    growth[t == 0.0] = 1.0
    out = np.fft.irfft(c[None, :] * growth, M, axis=1)
    return out[0] if scalar else out
