"""Grenier's expansion of the circle PDE around the uniform density (the quasi-linear phase).

Around ρ = 1/(2π) the mean-field PDE (:mod:`mtlib.pde`) reads ∂_t u = L u + Q(u, u) with
L = γ_m on mode m (:func:`mtlib.growth_rate`) and Q(u, v) = -∂_θ(u V[v]) (USA, where V is
linear in ρ). The linearised solution (:func:`mtlib.linearized_solution`) keeps L only; Grenier's hierarchy
u = u_1 + u_2 + ... adds the quadratic term order by order, an approximation of size
O((ε e^{γ_max t})^{order+1}) in the quasi-linear phase. References: Bruno, Pasqualotto,
Agazzi (ICLR 2025, arXiv:2410.23228), Theorems 4.2, 4.3 and 4.7; E. Grenier, "On the
nonlinear instability of Euler and Prandtl equations", CPAM 53 (2000).
"""

import math
import time
from dataclasses import dataclass

import numpy as np

from ._constants import TWO_PI
from ._integrate import check_tolerances, integrate
from ._pde_operator import CircleOperator, check_density, linear_time_limit
from ._validate import check_array, check_int, check_memory, check_real, check_times, check_usa_beta
from .pde import pde_grid

__all__ = ["GrenierExpansion", "grenier_expansion"]

FIRST_STEP = 0.01  # the first step of the Lawson stepper
AMPLITUDE_LIMIT = 1e3  # the largest 2Σ|c_m|e^{γ_m t} (a bound on |2πu_1|) where the expansion is computed


@dataclass(frozen=True)
class GrenierExpansion:
    """Terms of Grenier's expansion ``ρ ≈ 1/(2π) + u_1 + ... + u_order``.

    Attributes
    ----------
    t : ndarray, shape (T,)
    theta : ndarray, shape (M,)
    terms : ndarray, shape (order, T, M)
        ``u_j(t, θ)``; ``u_1`` is the linearised solution, ``u_j`` is of size ``ε^j``.
    n_steps, n_rejected, nfev : int
        Accepted and rejected steps, evaluations of the hierarchy's right-hand side.
    wall_time : float
        Seconds spent in :func:`grenier_expansion`.
    message : str
    """

    t: np.ndarray
    theta: np.ndarray
    terms: np.ndarray
    n_steps: int
    n_rejected: int
    nfev: int
    wall_time: float
    message: str

    def partial_sum(self, order):
        """The approximation ``1/(2π) + Σ_{j<=order} u_j``, shape (T, M)."""
        order = check_int(order, "order", low=0, high=self.terms.shape[0])
        return 1.0 / TWO_PI + self.terms[:order].sum(axis=0)

    def errors(self, reference):
        """Sup-norm error of every partial sum against a reference solution, shape (order, T).

        .. math:: e_M(t) = \\max_j \\Big|ρ(t, θ_j) - \\tfrac{1}{2π} - \\sum_{i<=M} u_i(t, θ_j)\\Big|,
                  \\qquad M = 1, \\dots, \\text{order}

        Parameters
        ----------
        reference : array_like, shape (T, M)
            The solution on the same times and grid, e.g. ``solve_circle_pde(...).density``.

        Returns
        -------
        ndarray, shape (order, T)
            Row M-1 holds e_M; of size ``(ε e^{γ_max t})^{M+1}`` in the quasi-linear phase.
        """
        reference = check_array(reference, "reference", ndim=2, shape=self.terms.shape[1:])
        return np.array([np.max(np.abs(self.partial_sum(o) - reference), axis=1) for o in range(1, self.terms.shape[0] + 1)])


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
    (its velocity is linear in ρ, so the nonlinearity is exactly quadratic). Times where
    the bound ``2 Σ_m |c_m| e^{γ_m t}`` of |2π u_1| exceeds 1e3 are refused
    (``ValueError`` naming the largest allowed time): the series is meaningless there, and
    its terms, of size 1e3^j, would take ever smaller steps.

    Parameters
    ----------
    rho0 : array_like, shape (M,)
        Initial density on :func:`pde_grid`.
    beta : float
        Inverse temperature, |β| <= 700.
    t_eval : array_like, shape (T,)
        Times >= 0, increasing, inside the quasi-linear phase (see above).
    order : int, >= 1
        Number of terms.
    rtol, atol : float
        Stepper tolerances: rtol >= 4 machine epsilons, atol > 0.

    Returns
    -------
    GrenierExpansion

    References
    ----------
    E. Grenier (2000), CPAM 53; Bruno, Pasqualotto, Agazzi (2025), Theorems 4.3 and 4.7.
    """
    start = time.perf_counter()
    rho0 = check_density(rho0)
    beta = check_real(beta, "beta")
    check_usa_beta(beta, "usa")
    t_eval = check_times(t_eval)
    order = check_int(order, "order", low=1)
    rtol, atol = check_tolerances(rtol, atol)
    M = rho0.size
    what = f"order = {order} terms on M = {M} points at {t_eval.size} times"
    check_memory(8 * order * M * (t_eval.size + 16), what)
    op = CircleOperator(M, beta, "usa")
    state = np.zeros((order, op.kc + 1), dtype=np.complex128)
    state[0] = op.project(rho0)
    state[0, 0] = 0.0
    t_valid = linear_time_limit(state[0], op.rate, t_eval[-1], math.log(AMPLITUDE_LIMIT / 2.0))
    if t_eval[-1] > t_valid:
        raise ValueError(
            f"t_eval must be <= {t_valid:.6g} for this rho0 at beta = {beta:g}: beyond, the linear term's bound "
            f"2Σ|c_m|e^(gamma_m t) exceeds {AMPLITUDE_LIMIT:g} times the uniform density and the expansion in its "
            f"powers is meaningless (it holds while that is small); got t = {t_eval[-1]:.6g}"
        )

    def nonlinear(_t, s):
        u = [op.density(s[j]) for j in range(order)]
        V = [op.velocity(s[j]) for j in range(order)]
        out = np.zeros_like(s)
        for j in range(1, order):  # u_{j+1} is forced by Σ_{i+l=j+1} Q(u_i, u_l), 0-based i + l = j - 1
            flux = sum(u[i] * V[j - 1 - i] for i in range(j))
            out[j] = op.flux_rhs(flux)
        return out

    first = min(FIRST_STEP, max(t_eval[-1], 1e-12))
    hint = "shorten t_eval (the terms grow like e^(j gamma_max t)), or loosen rtol/atol"
    run = integrate(nonlinear, state, t_eval, linear=op.rate[None, :], dt=first, rtol=rtol, atol=atol, hint=hint)
    terms = np.array([[op.density(c[j]) for c in run.y] for j in range(order)])
    return GrenierExpansion(
        t=t_eval,
        theta=pde_grid(M),
        terms=terms,
        n_steps=run.n_steps,
        n_rejected=run.n_rejected,
        nfev=run.nfev,
        wall_time=time.perf_counter() - start,
        message=f"{order} terms on {M} points, modes |m| <= {op.kc}",
    )
