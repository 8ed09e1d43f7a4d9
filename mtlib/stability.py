"""Stability constants of the mean-field limit: how fast two token measures can separate.

The Dobrushin argument bounds :math:`W_1(\\mu_t, \\nu_t) \\le e^{Lt} W_1(\\mu_0, \\nu_0)` for any
two solutions of the continuity equation (N tokens against the PDE, in particular), with
L the Lipschitz constant of the field in the point and in the measure
(:func:`dobrushin_constant`). The largest speed of a solution (:func:`max_speed`) is what
the CFL condition of an explicit grid scheme for that equation bounds.
"""

import numpy as np

from ._constants import DEFAULT_MODEL, TWO_PI
from ._validate import check_int, check_model, check_real, check_usa_beta
from .fields import velocity_circle
from .pde import CirclePDESolution

__all__ = ["dobrushin_constant", "max_speed"]


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

    These are upper bounds (not sharp) and do not depend on d. W1 is for the chordal
    distance; for the geodesic distance d_g, :math:`|x-y| \\le d_g \\le \\frac{\\pi}{2}|x-y|`
    gives the same bound with an extra factor π/2.

    Parameters
    ----------
    beta : float
        Inverse temperature β (any real, |β| <= 700 for USA; β < 0 is repulsive).
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
    transformer models", ICLR 2025 (Theorem 3.1).
    """
    beta = abs(check_real(beta, "beta"))
    check_int(d, "d", low=2)
    model = check_model(model)
    check_usa_beta(beta, model)
    if model == "usa":
        return float(np.exp(beta) * (2.0 * beta + 3.0))
    return float(2.0 * (beta + 1.0) + np.exp(2.0 * beta) * (2.0 * beta + 1.0))


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
    if not isinstance(solution, CirclePDESolution):
        raise TypeError(
            f"solution must be a CirclePDESolution (from mt.solve_circle_pde), got {type(solution).__name__}"
        )
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
