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
  CFL bound, float64, mass exact. It stops being valid when the density concentrates:
  under-resolution is detected from the spectral tail and from negative values.
- ``method="lagrangian"``: the equation along characteristics. Quantile points of ρ
  move by the exact velocity of :func:`mtlib.simulate` (weighted tokens); the density is
  recovered from their spacing, ``ρ(X(q)) = 1/∂_q X`` in the mass coordinate q. Mass
  is exact, there is no CFL limit, Diracs are followed.
- ``method="auto"``: spectral while resolved, then Lagrangian from the last resolved
  density; the hand-over time is recorded.

Reference: G. Bruno, F. Pasqualotto, A. Agazzi, *Emergence of meta-stable clustering in
mean-field transformer models*, ICLR 2025 (arXiv:2410.23228), Section 4; E. Grenier,
*On the nonlinear instability of Euler and Prandtl equations*, CPAM 53 (2000), for the
iterative scheme of :func:`grenier_expansion`.
"""

import math
import time
from dataclasses import dataclass, field

import numpy as np
from scipy import special

from . import _dormand_prince as _dp
from ._validate import check_array, check_choice, check_int, check_model, check_real, check_rng, check_times
from .dynamics import simulate
from .spectral import growth_rate

__all__ = [
    "CirclePDESolution",
    "GrenierExpansion",
    "UnderResolvedError",
    "pde_grid",
    "white_noise_density",
    "manifold_density",
    "solve_circle_pde",
    "linearized_solution",
    "grenier_expansion",
]

TWO_PI = 2.0 * np.pi
MASS_TOL = 1e-8  # input densities must integrate to 1 within this (then renormalised)
NEGATIVE_TOL = 1e-8  # a density below -NEGATIVE_TOL is under-resolved (density units, mean 1/2π)
REFERENCE_NODES = 9999  # the authors' grid: their σ per node defines the noise level
USA_MAX_BETA = 700.0  # e^β overflows float64 beyond



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
        Dirac's mass divided by the cell width).
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
    diagnostics : dict
        ``spectral_steps``, ``spectral_rejected``, ``rhs_evals``, ``lagrangian_steps``,
        ``mass_error`` (max over snapshots of ``|Σρ dx - 1|``), ``min_density``,
        ``tail_ratio`` (largest spectral-tail rms over its threshold, <= 1 while resolved),
        ``wall_time`` (s), and ``unresolved_reason`` when the spectral solver stopped
        (which test failed: spectral tail, negative density or non-finite values).
        Spectral snapshots are point values at the nodes and Lagrangian ones averages
        over cells centred on them: compare with tokens through
        ``wasserstein_circle_density(u, density[i], cell_start=-np.pi / M)``.
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
    diagnostics: dict = field(default_factory=dict)


@dataclass(frozen=True)
class GrenierExpansion:
    """Terms of Grenier's expansion ``ρ ≈ 1/(2π) + u_1 + ... + u_order``.

    Attributes
    ----------
    t : ndarray, shape (T,)
    theta : ndarray, shape (M,)
    terms : ndarray, shape (order, T, M)
        ``u_j(t, θ)``; ``u_1`` is the linearised solution, ``u_j`` is of size ``ε^j``.
    """

    t: np.ndarray
    theta: np.ndarray
    terms: np.ndarray

    def partial_sum(self, order):
        """The approximation ``1/(2π) + Σ_{j<=order} u_j``, shape (T, M)."""
        order = check_int(order, "order", low=0, high=self.terms.shape[0])
        return 1.0 / TWO_PI + self.terms[:order].sum(axis=0)


# ----------------------------------------------------------------------------- inputs


def pde_grid(M):
    """The grid ``θ_j = 2πj/M``, j = 0..M-1, on which densities are given and returned.

    Parameters
    ----------
    M : int, >= 8
        Number of grid points.

    Returns
    -------
    ndarray, shape (M,)

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4 (the PDE on the circle).
    """
    M = check_int(M, "M", low=8)
    return TWO_PI * np.arange(M) / M


def _check_density(rho, name="rho0"):
    """A density on the grid: finite, >= 0, integrating to 1 within MASS_TOL (then exactly)."""
    rho = check_array(rho, name, ndim=1, min_size=8)
    if np.any(rho < 0):
        raise ValueError(f"{name} must be a non-negative density, got min {rho.min():.3g}")
    mass = rho.sum() * TWO_PI / rho.size
    if abs(mass - 1.0) > MASS_TOL:
        raise ValueError(
            f"{name} must integrate to 1 (Σ rho_j 2π/M = {mass:.12g}); divide by that sum first"
        )
    return rho / mass


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
    M = check_int(M, "M", low=8)
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
    k = check_int(k, "k", low=1)
    alpha = check_real(alpha, "alpha", low=-1.0, high=1.0)
    phase = check_real(phase, "phase")
    return (1.0 + alpha * np.cos(k * (pde_grid(M) - phase))) / TWO_PI


# ----------------------------------------------------------------------------- spectral operator


class _CircleOperator:
    """Fourier representation of the circle PDE on M points, modes 0..kc (kc = M // 3)."""

    def __init__(self, M, beta, model):
        self.M = M
        self.kc = M // 3
        self.sa = model == "sa"
        m = np.arange(self.kc + 1, dtype=np.float64)
        scaled = special.ive(m, abs(beta))  # I_m(|β|) e^{-|β|}
        sign = np.where((m % 2 == 1) & (beta < 0), -1.0, 1.0)  # I_m(β) = (-1)^m I_m(|β|)
        if beta == 0.0:
            a = np.where(m == 1, 1.0, 0.0)  # K(φ) = sin φ
        else:
            a = 2.0 * m * sign * scaled / beta
        if self.sa:
            self.den = sign * scaled  # D scaled by e^{-|β|}, like V below
            self.vel = 0.5j * a
        else:
            self.den = None
            self.vel = 0.5j * a * math.exp(abs(beta))
        self.rate = growth_rate(np.arange(self.kc + 1), beta, 2, "sa" if self.sa else "usa")
        self.deriv = -1j * m * (TWO_PI / M)
        self.scale = M / TWO_PI

    def density(self, c):
        return np.fft.irfft(c, self.M) * self.scale

    def velocity(self, c):
        V = np.fft.irfft(self.vel * c, self.M) * self.M
        if self.sa:
            V /= np.fft.irfft(self.den * c, self.M) * self.M
        return V

    def flux_rhs(self, flux):
        """-∂_θ(flux) as modes 0..kc of ∫ · e^{-imθ} dθ."""
        return self.deriv * np.fft.rfft(flux)[: self.kc + 1]

    def nonlinear(self, c):
        """N(c) = F(c) - γ c, with F = -∂_θ(ρV) the full right-hand side; also returns V."""
        V = self.velocity(c)
        rhs = self.flux_rhs(self.density(c) * V) - self.rate * c
        return rhs, V

    def project(self, rho):
        return np.fft.rfft(rho)[: self.kc + 1] * (TWO_PI / self.M)

    def tail(self, c):
        """rms of the modes in the upper half of the retained band, kc/2 < m <= kc."""
        return math.sqrt(float(np.sum(np.abs(c[self.kc // 2 + 1 :]) ** 2)))


def _cfl_step(op, V, cfl):
    """A step bound for explicit advection: cfl / (kc max|V| + max|∂_θ V|)."""
    dV = np.max(np.abs(np.diff(V))) * op.M / TWO_PI
    speed = op.kc * float(np.max(np.abs(V))) + dV
    return math.inf if speed == 0.0 else cfl / speed


def _lawson_dopri(nonlinear, rate, c, t0, t_eval, rtol, atol, cfl_bound, accept):
    """Integrate c' = rate·c + N(c) by Lawson–Dormand–Prince 5(4) from t0 through t_eval.

    ``nonlinear(c) -> (N(c), V)``; ``cfl_bound(V) -> h_max``; ``accept(t, c)`` is called
    after each accepted step and returns False to stop (the caller keeps the last state it
    accepted). Returns (snapshots list of (t, c), stopped flag, stats).
    """
    snaps = []
    t = t0
    f, V = nonlinear(c)
    evals, steps, rejected = 1, 0, 0
    h = min(cfl_bound(V), 0.01, max(t_eval[-1] - t0, 1e-12))
    for t_out in t_eval:
        if t_out == t:
            snaps.append((t, c))
            continue
        while t < t_out:
            h_try = min(h, cfl_bound(V), t_out - t)
            grow = [np.exp(rate * (ci * h_try)) for ci in _dp.C]
            stages = [f]
            for i in range(1, 7):
                w = c + h_try * sum(a * s for a, s in zip(_dp.A[i], stages) if a != 0.0)
                fi, Vi = nonlinear(grow[i] * w)
                stages.append(fi / grow[i])
            evals += 6
            err = grow[6] * (h_try * sum(e * s for e, s in zip(_dp.E, stages) if e != 0.0))
            c_new = grow[6] * w
            scale = atol + rtol * np.maximum(np.abs(c), np.abs(c_new))
            norm = math.sqrt(float(np.mean(np.abs(err / scale) ** 2)))
            factor = 5.0 if norm == 0.0 else min(5.0, max(0.2, 0.9 * norm ** -0.2))
            if norm <= 1.0 and np.all(np.isfinite(c_new)):
                last = t_out - t <= h_try
                t = t_out if last else t + h_try
                c, f, V = c_new, grow[6] * stages[6], Vi
                steps += 1
                h = max(h, h_try * factor) if last else h_try * factor
                if not accept(t, c):
                    return snaps, True, (steps, rejected, evals)
            else:
                rejected += 1
                h = h_try * (factor if np.isfinite(norm) else 0.2)
        snaps.append((t, c))
    return snaps, False, (steps, rejected, evals)


# ----------------------------------------------------------------------------- Lagrangian solver


def _quantile_points(rho, n):
    """n points X_i = F^{-1}((i + 1/2)/n) of the piecewise-linear interpolant of ρ on the grid."""
    M = rho.size
    dx = TWO_PI / M
    left, right = rho, np.roll(rho, -1)
    F = np.concatenate([[0.0], np.cumsum(0.5 * (left + right) * dx)])  # CDF at the grid points
    target = (np.arange(n) + 0.5) / n * F[-1]
    j = np.clip(np.searchsorted(F, target, side="right") - 1, 0, M - 1)
    r = target - F[j]  # mass to cover inside cell j: left s + slope s²/2 = r
    slope = (right[j] - left[j]) / dx
    root = np.sqrt(np.maximum(left[j] ** 2 + 2.0 * slope * r, 0.0))
    s = 2.0 * r / np.maximum(left[j] + root, np.finfo(float).tiny)
    return np.mod(j * dx + np.minimum(s, dx), TWO_PI)


def _gaps(X):
    """Gaps X_{i+1} - X_i (cyclic, label order) of order-preserving points given mod 2π.

    Each gap is taken mod 2π; rounding can turn a gap of -1e-16 inside a cluster into
    2π - 1e-16, which shows as a total of 2π(1 + e): the e largest gaps are then reduced.
    """
    g = np.mod(np.diff(np.append(X, X[0] + TWO_PI)), TWO_PI)
    excess = int(round((g.sum() - TWO_PI) / TWO_PI))
    if excess > 0:
        largest = np.argsort(g)[-excess:]
        g[largest] = np.maximum(g[largest] - TWO_PI, 0.0)
    return g


def _spacing_density(X, w, M):
    """Cell averages on the grid of the density ``(w_i + w_{i+1})/2 / gap_i`` between points."""
    g = _gaps(X)
    nodes = X[0] + np.concatenate([[0.0], np.cumsum(g)])
    mass = np.concatenate([[0.0], np.cumsum(0.5 * (w + np.roll(w, -1)))])
    edges = TWO_PI * (np.arange(M + 1) - 0.5) / M
    turns = np.floor((edges - X[0]) / TWO_PI)
    G = np.interp(edges - TWO_PI * turns, nodes, mass) + turns * mass[-1]
    return np.diff(G) * (M / TWO_PI)


def _lagrangian(rho, beta, model, t_start, times, n, rtol, atol):
    """Quantile points of ρ moved by mtlib.simulate; returns (densities, points, weights, steps)."""
    X0 = _quantile_points(rho, n)
    w = np.full(n, 1.0 / n)
    run = simulate(X0, beta, times - t_start, model=model, method="dopri", rtol=rtol, atol=atol, weights=w)
    dens = np.array([_spacing_density(X, w, rho.size) for X in run.states])
    return dens, run.states, w, run.n_steps


# ----------------------------------------------------------------------------- public solvers


def solve_circle_pde(
    rho0,
    beta,
    t_eval,
    model="usa",
    method="auto",
    rtol=1e-6,
    atol=1e-12,
    cfl=1.5,
    tail_factor=10.0,
    tail_tol=1e-7,
    n_points=None,
):
    """Solve the mean-field continuity equation on the circle from a density on a grid.

    .. math::

        ∂_t ρ + ∂_θ(ρ V) = 0, \\quad V(θ) = \\int K(θ'-θ)\\,ρ(θ')\\,dθ', \\quad
        K(φ) = e^{β\\cos φ}\\sin φ \\ (\\text{USA};\\ \\text{SA divides } V \\text{ by }
        \\textstyle\\int e^{β\\cos(θ'-θ)}ρ(θ')dθ')

    Time units are those of :func:`mtlib.simulate` (the PDE is its N → ∞ limit), so a
    small mode m grows like ``e^{γ_m t}`` with γ_m from :func:`mtlib.growth_rate`.

    Methods (see the module docstring):

    - ``"spectral"``: modes |m| <= M/3, exact Bessel velocity, Lawson–Dormand–Prince
      (linear growth exact), error control (rtol, atol on the coefficients
      ``c_m = ∫ρe^{-imθ}``) and the CFL cap ``h <= cfl/(M/3 · max|V| + max|∂_θV|)``. The
      initial density is projected onto the retained modes. The solution counts as
      resolved while the rms of the modes M/6 < m <= M/3 stays below ``tail_factor``
      times its initial value or ``tail_tol``, whichever is larger (smooth data start
      with no tail: a truncation error below ``tail_tol`` is accepted), the density stays
      above -1e-8 and finite; otherwise :class:`UnderResolvedError` is raised, carrying
      the snapshots computed so far. With white noise at the authors' level (β = 5) a
      grid of 1024 points is resolved to t ≈ 0.44; finer grids cost more steps (CFL)
      and are not resolved longer.
    - ``"lagrangian"``: ``n_points`` quantile points of ρ0, equal masses, moved by
      :func:`mtlib.simulate` (Dormand–Prince with the same rtol, atol, on angles);
      density on the grid from the spacings. Mass exact; follows Diracs.
    - ``"auto"``: spectral while resolved, then Lagrangian from the last resolved state.

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
    rtol, atol : float > 0
        Tolerances of both steppers (atol: spectral coefficients, and angles in the
        Lagrangian run).
    cfl : float > 0
        CFL number of the spectral step cap.
    tail_factor : float > 1
        Allowed growth of the spectral tail before the grid counts as under-resolved.
    tail_tol : float > 0
        Spectral tail rms (in units of ``c_0 = 1``) that always counts as resolved.
    n_points : int >= 8, optional
        Lagrangian points (default M).

    Returns
    -------
    CirclePDESolution

    Raises
    ------
    UnderResolvedError
        ``method="spectral"`` once the grid no longer resolves the solution.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4 and Figures 4-5.
    """
    start = time.perf_counter()
    rho0 = _check_density(rho0)
    beta = check_real(beta, "beta")
    t_eval = check_times(t_eval)
    model = check_model(model)
    method = check_choice(method, "method", ("auto", "spectral", "lagrangian"))
    rtol = check_real(rtol, "rtol", low=0.0, low_open=True)
    atol = check_real(atol, "atol", low=0.0, low_open=True)
    cfl = check_real(cfl, "cfl", low=0.0, low_open=True)
    tail_factor = check_real(tail_factor, "tail_factor", low=1.0, low_open=True)
    tail_tol = check_real(tail_tol, "tail_tol", low=0.0, low_open=True)
    M = rho0.size
    n_points = M if n_points is None else check_int(n_points, "n_points", low=8)
    if model == "usa" and abs(beta) > USA_MAX_BETA:
        raise ValueError(f"beta = {beta}: e^beta overflows float64 beyond |beta| = {USA_MAX_BETA:g}; use model='sa'")

    diag = {"spectral_steps": 0, "spectral_rejected": 0, "rhs_evals": 0, "lagrangian_steps": 0, "tail_ratio": 0.0}
    dens, labels, points, weights, handover = [], [], None, None, None
    t_lag, rho_lag = 0.0, rho0
    if method in ("auto", "spectral"):
        op = _CircleOperator(M, beta, model)
        c0 = op.project(rho0)
        c0[0] = 1.0
        reference = max(tail_factor * op.tail(c0), tail_tol)
        last_good = [0.0, c0]

        def accept(t, c):
            ratio = op.tail(c) / reference
            rho = op.density(c)
            if not np.all(np.isfinite(rho)):
                diag["unresolved_reason"] = "non-finite density"
            elif rho.min() < -NEGATIVE_TOL:
                diag["unresolved_reason"] = f"negative density ({rho.min():.3g} at t = {t:.6g})"
            elif ratio > 1.0:
                diag["unresolved_reason"] = f"spectral tail {ratio:.3g} times its allowed level at t = {t:.6g}"
            else:
                last_good[:] = [t, c]
                diag["tail_ratio"] = max(diag["tail_ratio"], ratio)
                return True
            return False

        snaps, stopped, (steps, rejected, evals) = _lawson_dopri(
            op.nonlinear, op.rate, c0, 0.0, t_eval, rtol, atol, lambda V: _cfl_step(op, V, cfl), accept
        )
        diag.update(spectral_steps=steps, spectral_rejected=rejected, rhs_evals=evals)
        for _, c in snaps:
            dens.append(op.density(c))
            labels.append("spectral")
        if stopped:
            t_lag, c_lag = last_good
            rho_lag = np.maximum(op.density(c_lag), 0.0)  # resolved: any negative part is below 1e-8
            rho_lag /= rho_lag.sum() * TWO_PI / M
            if method == "spectral":
                partial = _finish(t_eval[: len(dens)], M, dens, labels, None, None, None, beta, model, diag, start)
                raise UnderResolvedError(
                    f"the spectral solution on {M} points is under-resolved after t = {t_lag:.6g} "
                    f"({diag['unresolved_reason']}); use method='auto' or a finer grid",
                    t_lag,
                    partial,
                )
            handover = t_lag
    if method == "lagrangian":
        handover = 0.0
    if len(dens) < t_eval.size:
        times = t_eval[len(dens) :]
        lag_dens, points, weights, lag_steps = _lagrangian(rho_lag, beta, model, t_lag, times, n_points, rtol, atol)
        diag["lagrangian_steps"] = lag_steps
        dens.extend(lag_dens)
        labels.extend(["lagrangian"] * times.size)
    return _finish(t_eval, M, dens, labels, handover, points, weights, beta, model, diag, start)


def _finish(t, M, dens, labels, handover, points, weights, beta, model, diag, start):
    density = np.array(dens).reshape(len(dens), M)
    if density.size:
        diag["mass_error"] = float(np.max(np.abs(density.sum(axis=1) * TWO_PI / M - 1.0)))
        diag["min_density"] = float(density.min())
    diag["wall_time"] = time.perf_counter() - start
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
        diagnostics=diag,
    )


def linearized_solution(rho0, beta, t_eval, model="usa"):
    """Exact solution of the PDE linearised around the uniform density.

    .. math:: c_m(t) = c_m(0)\\,e^{γ_m t}, \\qquad ρ(t,θ) = \\frac{1}{2π}\\sum_m c_m(t) e^{imθ}

    with ``c_m = ∫ρ e^{-imθ}dθ`` and γ_m from :func:`mtlib.growth_rate` (all modes of the
    grid, no truncation). Valid while the perturbation is small (the linear phase).

    Parameters
    ----------
    rho0 : array_like, shape (M,)
        Initial density on :func:`pde_grid` (non-negative, integrating to 1).
    beta : float
        Inverse temperature.
    t_eval : float or array_like, shape (T,)
        Times >= 0, increasing.
    model : {"usa", "sa"}

    Returns
    -------
    ndarray, shape (T, M), or (M,) for a scalar time

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Theorem 4.2.
    """
    scalar = np.ndim(t_eval) == 0
    rho0 = _check_density(rho0)
    beta = check_real(beta, "beta")
    t = check_times(t_eval)
    model = check_model(model)
    M = rho0.size
    c = np.fft.rfft(rho0)
    gamma = growth_rate(np.arange(c.size), beta, 2, model)
    out = np.fft.irfft(c[None, :] * np.exp(np.outer(t, gamma)), M, axis=1)
    return out[0] if scalar else out


def grenier_expansion(rho0, beta, t_eval, order=3, rtol=1e-10, atol=1e-14):
    """Grenier's iterative approximation ``ρ ≈ 1/(2π) + u_1 + ... + u_order`` (USA).

    .. math::

        ∂_t u_1 = L u_1,\\ u_1(0) = ρ_0 - \\tfrac{1}{2π}; \\qquad
        ∂_t u_j = L u_j + \\sum_{i+l=j} Q(u_i, u_l),\\ u_j(0) = 0 \\ (j >= 2),

    with ``L u = -∂_θ(V[u]/(2π))`` (``L = γ_m`` on mode m) and
    ``Q(u, v) = -∂_θ(u V[v])``. If ``ρ_0 - 1/(2π)`` has size ε then ``u_j = O((ε
    e^{γ_max t})^j)`` and the error of the order-M sum is ``O((ε e^{γ_max t})^{M+1})``
    while ``ε e^{γ_max t}`` is small: the quasi-linear phase. The hierarchy is integrated
    with the spectral solver's Lawson–Dormand–Prince stepper (modes |m| <= M/3). USA only
    (its velocity is linear in ρ, so the nonlinearity is exactly quadratic).

    Parameters
    ----------
    rho0 : array_like, shape (M,)
        Initial density on :func:`pde_grid`.
    beta : float
        Inverse temperature, |β| <= 700.
    t_eval : array_like, shape (T,)
        Times >= 0, increasing.
    order : int, >= 1
        Number of terms.
    rtol, atol : float > 0
        Stepper tolerances.

    Returns
    -------
    GrenierExpansion

    References
    ----------
    E. Grenier (2000), CPAM 53; Bruno, Pasqualotto, Agazzi (2025), Theorems 4.3 and 4.7.
    """
    rho0 = _check_density(rho0)
    beta = check_real(beta, "beta", low=-USA_MAX_BETA, high=USA_MAX_BETA)
    t_eval = check_times(t_eval)
    order = check_int(order, "order", low=1)
    rtol = check_real(rtol, "rtol", low=0.0, low_open=True)
    atol = check_real(atol, "atol", low=0.0, low_open=True)
    M = rho0.size
    op = _CircleOperator(M, beta, "usa")
    state = np.zeros((order, op.kc + 1), dtype=np.complex128)
    state[0] = op.project(rho0)
    state[0, 0] = 0.0

    def nonlinear(s):
        u = [op.density(s[j]) for j in range(order)]
        V = [op.velocity(s[j]) for j in range(order)]
        out = np.zeros_like(s)
        for j in range(1, order):  # u_{j+1} is forced by Σ_{i+l=j+1} Q(u_i, u_l), 0-based i + l = j - 1
            flux = sum(u[i] * V[j - 1 - i] for i in range(j))
            out[j] = op.flux_rhs(flux)
        return out, V[0]

    snaps, _, _ = _lawson_dopri(
        nonlinear, op.rate[None, :], state, 0.0, t_eval, rtol, atol, lambda V: math.inf, lambda t, c: True
    )
    terms = np.array([[op.density(c[j]) for _, c in snaps] for j in range(order)])
    return GrenierExpansion(t=t_eval, theta=pde_grid(M), terms=terms)
