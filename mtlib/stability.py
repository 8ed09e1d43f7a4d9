"""Stability of the mean-field limit, and the quantities that watch a PDE solution.

The Dobrushin argument bounds :math:`W_1(\\mu_t, \\nu_t) \\le e^{Lt} W_1(\\mu_0, \\nu_0)` for any
two solutions of the continuity equation (N tokens against the PDE, in particular), with
L the Lipschitz constant of the field in the point and in the measure
(:func:`dobrushin_constant`); :func:`wasserstein_to_solution` measures the distance of
tokens to a snapshot of :func:`mtlib.solve_circle_pde`. Along such a solution: the largest
speed (:func:`max_speed`), which the CFL condition of an explicit grid scheme bounds; the
energy and its dissipation (:func:`energy_and_dissipation`), for the gradient-flow
identity dE/dt = ∫ρ V²; the two signs that the grid stops resolving the spectral
solution (:func:`resolution_monitors`).
"""

from dataclasses import dataclass

import numpy as np

from ._constants import DEFAULT_MODEL, TWO_PI
from ._validate import check_angles, check_int, check_model, check_real, check_usa_beta
from .fields import energy_circle, velocity_circle
from .harmonics import density_fourier_coefficients
from .pde import CirclePDESolution

# The largest |β| at which the SA constant 2(β+1) + e^{2β}(2β+1) is finite in float64.
SA_MAX_BETA = 351.6

__all__ = [
    "dobrushin_constant",
    "max_speed",
    "energy_and_dissipation",
    "ResolutionMonitors",
    "resolution_monitors",
]


def dobrushin_constant(beta, d=2, model=DEFAULT_MODEL):
    """Lipschitz constant L(β) of the mean-field stability bound W1(μ^N_t, μ_t) ≤ e^{Lt} W1(μ^N_0, μ_0).

    The field is :math:`X[\\mu](x) = \\int K(x, y)\\, d\\mu(y)` with
    :math:`K(x, y) = e^{\\beta s}(y - s x)`, :math:`s = \\langle x, y\\rangle` (USA), and
    :math:`X[\\mu](x) = P_x\\, m_\\mu(x)`, :math:`m_\\mu(x) = \\int e^{\\beta s} y\\,
    d\\mu / \\int e^{\\beta s} d\\mu` (SA). If :math:`|X[\\mu](x) - X[\\mu](x')| \\le L_x
    |x - x'|` and :math:`|X[\\mu](x) - X[\\nu](x)| \\le L_y W_1(\\mu, \\nu)`, follow the
    flows from an optimal coupling π₀ of the initial data:
    :math:`D(t) = \\int |x_t - x'_t| d\\pi_0` obeys :math:`D' \\le L_x D + L_y W_1(\\mu_t,
    \\nu_t) \\le (L_x + L_y) D`, so :math:`W_1(\\mu_t, \\nu_t) \\le D(t) \\le e^{Lt}
    W_1(\\mu_0, \\nu_0)` with :math:`L = L_x + L_y` (Dobrushin's argument). The
    constants come from derivative bounds on the unit ball (convex, so they are
    Lipschitz constants for the chordal distance |x - y|), using :math:`e^{\\beta s} \\le
    e^{|\\beta|}`:

    - USA, in x: :math:`D_xK[h] = \\beta e^{\\beta s}\\langle h, y\\rangle (y - s x) -
      e^{\\beta s}(\\langle h, y\\rangle x + s h)` with :math:`|y - sx| \\le 1`, so
      :math:`L_x = e^{|\\beta|}(|\\beta| + 2)`; in y: :math:`D_yK[h] = \\beta e^{\\beta s}
      \\langle x, h\\rangle (y - s x) + e^{\\beta s}(h - \\langle x, h\\rangle x)`, so
      :math:`L_y = e^{|\\beta|}(|\\beta| + 1)`. Hence

      .. math:: L_{USA}(\\beta) = e^{|\\beta|}\\,(2|\\beta| + 3).

    - SA, in x: :math:`D_x m = \\beta\\,\\mathrm{Cov}_x(y)` has norm at most
      :math:`|\\beta|(1 - |m|^2) \\le |\\beta|` and :math:`|m| \\le 1`, so
      :math:`L_x = 2|\\beta| + 2`; in μ: :math:`m_\\mu - m_\\nu = Z_\\mu^{-1}\\int
      e^{\\beta s}(y - m_\\nu)\\, d(\\mu - \\nu)` with :math:`Z_\\mu \\ge e^{-|\\beta|}` and an
      integrand of Lipschitz constant :math:`e^{|\\beta|}(2|\\beta| + 1)`, so
      :math:`L_y = e^{2|\\beta|}(2|\\beta| + 1)`. Hence

      .. math:: L_{SA}(\\beta) = 2(|\\beta| + 1) + e^{2|\\beta|}(2|\\beta| + 1).

    This L is the book's own constant, derived here; it is not the constant of the
    paper's Theorem 3.1, which is C = ‖∇ₓK_β‖_∞ (e^{|β|} on the circle; chapter 1
    compares the two). These are upper bounds (not sharp) and do not depend on d. W1 is for the chordal
    distance; for the geodesic distance d_g, :math:`|x-y| \\le d_g \\le \\frac{\\pi}{2}|x-y|`
    gives the same bound with an extra factor π/2.

    Parameters
    ----------
    beta : float
        Inverse temperature β (|β| <= 700 for USA, |β| <= 351.6 for SA, where L itself
        reaches the end of float64; β < 0 is repulsive).
    d : int, >= 2
        Ambient dimension (the bound is the same for all d).
    model : {"usa", "sa"}
        Unnormalised or softmax-normalised self-attention.

    Returns
    -------
    float
        L(β) >= 0.

    References
    ----------
    R. L. Dobrushin, "Vlasov equations", Funct. Anal. Appl. 13 (1979); G. Bruno,
    F. Pasqualotto, A. Agazzi, "Emergence of meta-stable clustering in mean-field
    transformer models", ICLR 2025, arXiv:2410.23228 (Theorem 3.1, for the argument).
    """
    beta = abs(check_real(beta, "beta"))
    check_int(d, "d", low=2)
    model = check_model(model)
    check_usa_beta(beta, model)
    if model == "usa":
        return float(np.exp(beta) * (2.0 * beta + 3.0))
    if beta > SA_MAX_BETA:
        raise ValueError(
            f"beta = {beta:g}: the SA Dobrushin constant e^(2|beta|)(2|beta| + 1) overflows float64 "
            f"beyond |beta| = {SA_MAX_BETA:.4g}; its logarithm is 2|beta| + log(2|beta| + 1) to rounding"
        )
    return float(2.0 * (beta + 1.0) + np.exp(2.0 * beta) * (2.0 * beta + 1.0))


def _check_solution(solution):
    if not isinstance(solution, CirclePDESolution):
        raise TypeError(
            f"solution must be a CirclePDESolution (from mt.solve_circle_pde), got {type(solution).__name__}"
        )


def max_speed(solution):
    """Largest speed max_θ |V(t, θ)| of a solution of the circle PDE, at each of its snapshots.

    .. math::

        V(t, θ_i) = \\sum_j K(θ_j - θ_i)\\, ρ(t, θ_j)\\, \\frac{2π}{M}, \\qquad
        K(φ) = e^{β\\cos φ}\\sin φ \\quad (\\text{USA; SA divides by }
        \\textstyle\\sum_j e^{β\\cos(θ_j - θ_i)} ρ_j \\tfrac{2π}{M}),

    the velocity of the tokens at the grid points θ_j with the cell masses ρ_j 2π/M as
    weights (renormalised to sum 1): the trapezoid rule, spectrally accurate for the
    band-limited spectral snapshots. At a Lagrangian snapshot the maximum is over the
    Lagrangian points, with their masses as weights. An explicit scheme on a grid of step
    Δθ with time step Δt is stable only while ``max_speed * Δt / Δθ <= 1`` (CFL).

    Parameters
    ----------
    solution : CirclePDESolution
        From :func:`mtlib.solve_circle_pde` (its β and model are used).

    Returns
    -------
    ndarray, shape (T,)
        max |V| at each output time ``solution.t``.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4 (the mean-field PDE); R. Courant,
    K. Friedrichs, H. Lewy, Math. Ann. 100 (1928) (the CFL condition).
    """
    _check_solution(solution)
    M = solution.theta.size
    points = iter(() if solution.points is None else solution.points)
    speed = np.empty(solution.t.size)
    for i, method in enumerate(solution.method):
        if method == "spectral":
            w = solution.density[i] * TWO_PI / M
            x, w = solution.theta, w / w.sum()
        else:
            x, w = next(points), solution.weights
        speed[i] = np.abs(velocity_circle(x, solution.beta, model=solution.model, weights=w)).max()
    return speed


def energy_and_dissipation(solution):
    """The USA energy E(ρ_t) and its rate ∫ρ_t V[ρ_t]² at each snapshot of a circle PDE solution.

    .. math::

        E(ρ) = \\frac{1}{2β} \\iint e^{β\\cos(θ-θ')} ρ(θ)ρ(θ')\\,dθ\\,dθ', \\qquad
        \\frac{dE}{dt} = \\int ρ\\, V[ρ]^2 \\,dθ \\ge 0

    (USA is the Wasserstein gradient flow of E: the energy increases at the rate of the
    dissipation). Each snapshot is the weighted measure of the grid nodes θ_j with the cell
    masses w_j = ρ_j 2π/M (the trapezoid rule, spectrally accurate for the band-limited
    spectral snapshots; values below 0, at most 1e-8, count as 0), or of the Lagrangian
    points with their masses; then ``E = mt.energy_circle(θ, β, weights=w)`` and the
    dissipation is ``Σ_j w_j V_j²`` with ``V = mt.velocity_circle(θ, β, weights=w)``.

    Parameters
    ----------
    solution : CirclePDESolution
        From :func:`mtlib.solve_circle_pde` with ``model="usa"`` and β ≠ 0.

    Returns
    -------
    energy, dissipation : ndarray, shape (T,)
        E(ρ_t) and ∫ρ_t V² at the output times ``solution.t``.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 2 (the energy E_β and the gradient flow).
    """
    _check_solution(solution)
    if solution.model != "usa":
        raise ValueError(f"the energy identity holds for model='usa', got a solution with model={solution.model!r}")
    M = solution.theta.size
    points = iter(() if solution.points is None else solution.points)
    energy, dissipation = np.empty(solution.t.size), np.empty(solution.t.size)
    for i, method in enumerate(solution.method):
        if method == "spectral":
            x, w = solution.theta, np.maximum(solution.density[i] * (TWO_PI / M), 0.0)
        else:
            x, w = next(points), solution.weights
        energy[i] = energy_circle(x, solution.beta, weights=w)
        dissipation[i] = np.sum(w * velocity_circle(x, solution.beta, weights=w) ** 2)
    return energy, dissipation


@dataclass(frozen=True)
class ResolutionMonitors:
    """The two resolution monitors of the spectral snapshots of a circle PDE solution.

    Attributes
    ----------
    t : ndarray, shape (T_S,)
        Times of the spectral snapshots.
    min_density : ndarray, shape (T_S,)
        ``min_j ρ(t, θ_j)``.
    tail : ndarray, shape (T_S,)
        ``(Σ_{M/6 < m <= M/3} |c_m(t)|²)^{1/2}``, ``c_m = ∫ρ e^{-imθ}``: the energy in the
        upper half of the retained band.
    """

    t: np.ndarray
    min_density: np.ndarray
    tail: np.ndarray


def resolution_monitors(solution):
    """Minimum and spectral tail of every spectral snapshot: the solver's two signs of under-resolution.

    .. math::

        \\min_j ρ(t, θ_j), \\qquad
        \\mathrm{tail}(t) = \\Big(\\sum_{⌊M/3⌋/2 < m \\le ⌊M/3⌋} |c_m(t)|^2\\Big)^{1/2}

    with ``c_m`` from :func:`mtlib.density_fourier_coefficients`. The spectral solver of
    :func:`mtlib.solve_circle_pde` keeps a grid while the density stays above -1e-8 and the
    tail below ``max(tail_factor · tail(0), tail_tol)`` (defaults 10 and 1e-7, tail(0) of
    the projected initial density), then hands over to the Lagrangian solver.

    Parameters
    ----------
    solution : CirclePDESolution
        From :func:`mtlib.solve_circle_pde`.

    Returns
    -------
    ResolutionMonitors
        Over the snapshots with ``solution.method == "spectral"`` (empty arrays if none).

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4 (the PDE on the circle); the 2/3
    dealiasing rule of S. A. Orszag, J. Atmos. Sci. 28 (1971).
    """
    _check_solution(solution)
    spectral = solution.method == "spectral"
    rho = solution.density[spectral]
    kc = solution.theta.size // 3
    tail = np.zeros(0)
    if rho.size:
        c_tail = density_fourier_coefficients(rho, np.arange(kc // 2 + 1, kc + 1))
        tail = np.sqrt(np.sum(np.abs(c_tail) ** 2, axis=1))
    return ResolutionMonitors(t=solution.t[spectral], min_density=rho.min(axis=1, initial=np.inf), tail=tail)
