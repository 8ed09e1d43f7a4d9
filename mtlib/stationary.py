"""Stationary states of the noisy USA dynamics on the circle: branches, free energy, stability, type.

Tokens with noise, ``dθ_i = v_i dt + √(2D) dW_i`` (USA field), have the mean-field limit
``∂_t ρ + ∂_θ(ρ V) = D ∂²_θ ρ`` with ``V = ∂_θ(W*ρ)``, ``(W*ρ)(θ) = ∫ W(cos(θ-θ')) ρ(θ') dθ'``,
``W(q) = e^{βq}/β`` (ρ a probability density in θ). It is the Wasserstein gradient flow
(descent) of the free energy

    F(ρ) = -E(ρ) + D ∫ ρ log(2πρ) dθ,     E(ρ) = ½ ∬ W(cos(θ-θ')) ρ(θ) ρ(θ') dθ dθ'

(USA is the ascent of E; the entropy is taken relative to the uniform density 1/2π, so
``F(uniform) = -λ_0/2`` for every D). Its zero-flux stationary states solve the
self-consistency equation ``ρ = e^{(W*ρ)/D} / ∫e^{(W*ρ)/D}``. With ``c_m = ∫ρ e^{-imθ}dθ``
and ``λ_m = I_m(β)/β`` (the Funk–Hecke eigenvalues, :func:`mtlib.critical_diffusion`),
``W*ρ = Σ_m λ_m c_m e^{imθ}``, so the equation is a fixed point in the Fourier coefficients:

    c_m = ∫ e^{-imθ} e^{Φ(θ)/D} dθ / ∫ e^{Φ/D} dθ,     Φ = Σ_m λ_m c_m e^{imθ}.

The uniform state solves it for every D; the branch of 2π/k-periodic states bifurcates
from it at ``D_k = λ_k``. Method (the choice made here): Newton's method on the
coefficients ``c_{jk}``, j = 1..n, of even (by rotation invariance, without loss)
2π/k-periodic states, the integrals by the trapezoid rule on a grid of the reduced
variable φ = kθ (spectrally accurate; the grid is doubled until the density's spectrum
is resolved to rounding), n chosen so that ``λ_{nk}/λ_k`` is below 1e-20 (Φ is then exact
to rounding: the kernel smooths, the density need not be band-limited), and
pseudo-arclength continuation in (c, D), which passes folds (subcritical branches). The
Balasubramanian–Banerjee–Rigollet quadratic system is the same fixed point written
without the exponential; it is not used here. Stability: the spectrum of the operator
linearised at each state, ``L u = -∂_θ(u V) - ∂_θ(ρ ∂_θ(W*u)) + D ∂²_θ u``, on all
Fourier modes (not only the multiples of k), without the neutral rotation mode.
The type of the bifurcation at D_k is the sign of the quartic term of F, i.e. of the
coefficient b in ``D(r) = D_k + b r² + O(r⁴)`` along the branch (:func:`landau_coefficient`).

References: Carrillo, Gvalani, Pavliotis, Schlichting (arXiv:1806.01719); Mun, Rosenzweig
(arXiv:2604.16288, 2606.05140); Balasubramanian, Banerjee, Rigollet (2025), *On the
structure of stationary solutions to McKean–Vlasov equations with applications to noisy
transformers*; Bruno, Pasqualotto, Agazzi (arXiv:2410.23228), open question on noise.
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from ._bessel import log_bessel_i
from ._constants import TWO_PI, USA_MAX_BETA
from ._pde_operator import check_density
from ._stationary_newton import BranchTracer, eigenvalues, spectrum
from ._validate import check_array, check_int, check_real

__all__ = [
    "StationaryBranch",
    "stationary_branch",
    "stationary_states",
    "stationary_spectrum",
    "landau_coefficient",
    "bifurcation_type",
    "tricritical_beta",
    "circle_free_energy",
]


@dataclass(frozen=True)
class StationaryBranch:
    """Stationary states of the noisy USA circle dynamics (one branch, or the states at one D).

    Attributes
    ----------
    beta : float
    k : int
        The states have period 2π/k (the branch bifurcating at ``D_k = λ_k``).
    diffusion : ndarray, shape (P,)
        D of each state.
    coefficients : ndarray, shape (P, n + 1)
        ``c_{jk} = ∫ρ e^{-ijkθ}dθ``, j = 0..n (real: the states are even, ``c_0 = 1``;
        the other modes vanish).
    theta : ndarray, shape (M,)
        The output grid ``2πj/M``.
    density : ndarray, shape (P, M)
        ρ on ``theta``, from ``e^{Φ/D}/Z`` in closed form (not a Fourier sum).
    order_parameter : ndarray, shape (P,)
        ``|c_k|`` (for k = 1: ``|∫ e^{iθ} ρ dθ|``, the Kuramoto order parameter).
    free_energy : ndarray, shape (P,)
        ``F = -E + D ∫ρ log(2πρ) dθ`` (module docstring).
    uniform_free_energy : float
        F of the uniform density, ``-λ_0/2 = -I_0(β)/(2β)`` (the same at every D).
    leading_eigenvalue : ndarray, shape (P,)
        The largest eigenvalue of the linearised operator (rotation mode removed).
    stable : ndarray of bool, shape (P,)
        ``leading_eigenvalue < 0``.
    residual : ndarray, shape (P,)
        ``max_m |c_m - T_m(c)|`` of the Fourier fixed point at each state.
    critical_diffusion : float
        ``D_k = λ_k = I_k(β)/β``.
    landau : float
        :func:`landau_coefficient` ``(beta, 2, k)``: ``D ≈ D_k + landau · r²`` near D_k.
    message : str
        How the computation ended.
    """

    beta: float
    k: int
    diffusion: np.ndarray
    coefficients: np.ndarray
    theta: np.ndarray
    density: np.ndarray
    order_parameter: np.ndarray
    free_energy: np.ndarray
    uniform_free_energy: float
    leading_eigenvalue: np.ndarray
    stable: np.ndarray
    residual: np.ndarray
    critical_diffusion: float
    landau: float
    message: str


UNIFORM_TOL = 1e-9  # a state with order parameter below this is the uniform one


def _check_beta(beta):
    return check_real(beta, "beta", low=0.0, high=USA_MAX_BETA, low_open=True)


def _assemble(beta, k, M, states, message, n1):
    """The StationaryBranch of a list of state dicts (_stationary_newton.BranchTracer.finish); n1 = n + 1."""
    theta = TWO_PI * np.arange(M) / M
    lam0, lam_k = (float(v) for v in eigenvalues(beta, [0, k]))
    coeffs = np.zeros((len(states), n1))
    for i, s in enumerate(states):
        coeffs[i, : s["c"].size] = s["c"]
    return StationaryBranch(
        beta=beta,
        k=k,
        diffusion=np.array([s["D"] for s in states]),
        coefficients=coeffs,
        theta=theta,
        density=np.array([s["density"](theta) for s in states]).reshape(len(states), M),
        order_parameter=np.abs(coeffs[:, 1]),
        free_energy=np.array([s["F"] for s in states]),
        uniform_free_energy=-0.5 * lam0,
        leading_eigenvalue=np.array([s["leading"] for s in states]),
        stable=np.array([s["leading"] < 0.0 for s in states], dtype=bool),
        residual=np.array([s["residual"] for s in states]),
        critical_diffusion=lam_k,
        landau=landau_coefficient(beta, 2, k),
        message=message,
    )


def stationary_branch(beta, k=1, r_max=0.9, d_min=None, step=0.05, M=512, tol=1e-12, max_points=400):
    """The branch of 2π/k-periodic stationary states bifurcating from the uniform one at D_k = λ_k.

    .. math::

        ρ = \\frac{e^{(W*ρ)/D}}{\\int e^{(W*ρ)/D}}, \\qquad
        c_{jk} = \\frac{\\int \\cos(jkθ)\\, e^{Φ/D} dθ}{\\int e^{Φ/D} dθ}, \\quad
        Φ = λ_0 + 2\\sum_{j \\ge 1} λ_{jk} c_{jk} \\cos(jkθ), \\quad λ_m = I_m(β)/β

    (module docstring). Newton on the coefficients, pseudo-arclength continuation in
    (c, D/D_k) from the uniform state: the first step solves at ``c_k = step`` from the
    Landau prediction ``D ≈ D_k + b c_k²``, later steps follow the tangent, the step
    length adapts (halved when Newton fails, grown by 1.3 up to ``step`` when it
    converges fast). Folds in D (subcritical branches, :func:`bifurcation_type`) are
    passed. The first point is the uniform state at D_k.

    Parameters
    ----------
    beta : float, in (0, 700]
        Inverse temperature (USA kernel e^{βq}/β).
    k : int, >= 1
        Period number of the branch.
    r_max : float, in (0, 0.99]
        Stop once the order parameter ``c_k`` reaches it (D → 0 as c_k → 1: the states
        concentrate into k Diracs and need finer grids).
    d_min : float >= 0, optional
        Also stop once D falls below it.
    step : float, in (0, 0.2]
        Largest arclength step (in the coefficients and D/D_k).
    M : int, >= 16
        Points of the output grid ``2πj/M`` for the densities.
    tol : float, in [1e-15, 1e-6]
        Newton stops at ``max|c - T(c)| <= tol``.
    max_points : int, >= 2
        The most states computed.

    Returns
    -------
    StationaryBranch

    References
    ----------
    Carrillo, Gvalani, Pavliotis, Schlichting (arXiv:1806.01719), Sections 4–5; Mun,
    Rosenzweig (arXiv:2604.16288).
    """
    beta = _check_beta(beta)
    k = check_int(k, "k", low=1, high=200)
    r_max = check_real(r_max, "r_max", low=0.0, high=0.99, low_open=True)
    d_min = 0.0 if d_min is None else check_real(d_min, "d_min", low=0.0)
    step = check_real(step, "step", low=0.0, high=0.2, low_open=True)
    M = check_int(M, "M", low=16, high=1 << 20)
    tol = check_real(tol, "tol", low=1e-15, high=1e-6)
    max_points = check_int(max_points, "max_points", low=2, high=100_000)
    tracer = BranchTracer(beta, k, tol)
    states = [tracer.uniform_state()]
    message = f"reached max_points = {max_points}"
    for x in tracer.trace(step, landau_coefficient(beta, 2, k) / tracer.lam_k):
        states.append(tracer.finish(x))
        r, D = states[-1]["c"][1], states[-1]["D"]
        if r >= r_max:
            message = f"order parameter reached r_max = {r_max:g} at D = {D:.6g}"
            break
        if D <= d_min:
            message = f"D fell below d_min = {d_min:g}"
            break
        if len(states) >= max_points:
            break
    else:
        message = tracer.failure
    return _assemble(beta, k, M, states, message, tracer.n + 1)


def stationary_states(beta, diffusion, k=1, M=512, tol=1e-12, r_max=0.95):
    """The non-uniform 2π/k-periodic stationary states at one noise level D (0, 1 or more).

    The branch of :func:`stationary_branch` is traced up to ``r_max``; every crossing of
    D along it is polished by Newton's method at that fixed D (same equation, same
    tolerance). Below the fold of a subcritical branch there are two states (the
    unstable lower one and the stable upper one), above it none; a supercritical
    branch has one state for ``D < D_k``. States are sorted by order parameter. The
    uniform state (a solution for every D) is not included.

    Parameters
    ----------
    beta : float, in (0, 700]
    diffusion : float, > 0
        D.
    k : int, >= 1
    M : int, >= 16
        Output grid.
    tol : float, in [1e-15, 1e-6]
    r_max : float, in (0, 0.99]
        How far the branch is followed (states beyond it are not found).

    Returns
    -------
    StationaryBranch
        Its arrays have one entry per state (possibly none).

    References
    ----------
    Carrillo, Gvalani, Pavliotis, Schlichting (arXiv:1806.01719).
    """
    beta = _check_beta(beta)
    diffusion = check_real(diffusion, "diffusion", low=0.0, low_open=True)
    k = check_int(k, "k", low=1, high=200)
    branch = stationary_branch(beta, k, r_max=r_max, M=M, tol=tol, max_points=100_000)
    tracer = BranchTracer(beta, k, tol)
    target = diffusion / tracer.lam_k
    Dt = branch.diffusion / tracer.lam_k
    states = []
    for i in range(Dt.size - 1):  # point 0 is the uniform state at D_k
        lo, hi = Dt[i] - target, Dt[i + 1] - target
        if (lo == 0.0 and i > 0) or lo * hi < 0.0:
            w = 0.0 if lo == 0.0 else lo / (lo - hi)
            if i == 0:  # D - D_k ∝ r² and c_j ∝ r^j near the bifurcation: scale the first state
                c = branch.coefficients[1]
                guess = c * np.sqrt(w) ** np.arange(c.size)
            else:
                guess = (1 - w) * branch.coefficients[i] + w * branch.coefficients[i + 1]
            x = tracer.solve_at(guess[1:], target)
            if x is not None and x[0] > UNIFORM_TOL:  # Newton may fall back onto the uniform state
                states.append(tracer.finish(x))
    states.sort(key=lambda s: s["c"][1])
    return _assemble(beta, k, M, states, f"{len(states)} non-uniform state(s) at D = {diffusion:.6g}", tracer.n + 1)


def stationary_spectrum(beta, diffusion, coefficients, k=1, n_modes=None):
    """Eigenvalues of the Fokker–Planck operator linearised at an even 2π/k-periodic state.

    .. math::

        L u = -∂_θ(u V) - ∂_θ(ρ\\,∂_θ(W*u)) + D ∂_θ^2 u, \\qquad
        (Lu)^\\wedge_m = \\sum_n m\\,c_{m-n}\\big[(m-n)λ_{m-n} + nλ_n\\big] \\hat u_n - D m^2 \\hat u_m

    with ``c`` the Fourier coefficients of ρ (``c_{jk}`` given, the others 0), on the modes
    ``0 < |m| <= n_modes`` (mass is conserved; even and odd parts separately). At the
    uniform state (``coefficients = [1]``) the eigenvalues are ``m²(λ_m - D)``, the rates
    of :func:`mtlib.growth_rate` with diffusion. For a non-uniform state the rotation
    mode ``u = ∂_θρ`` (eigenvalue 0) is removed.

    Parameters
    ----------
    beta : float, in (0, 700]
    diffusion : float, > 0
    coefficients : array_like, shape (n + 1,)
        ``c_{jk}``, j = 0..n, real, ``c_0 = 1`` (as in :class:`StationaryBranch`).
    k : int, >= 1
    n_modes : int, >= 2, optional
        Perturbation modes; default ``max(32, k·J + 16)`` with J the last index of a
        coefficient above 1e-15 (capped at 1024).

    Returns
    -------
    ndarray
        The eigenvalues, real parts, in decreasing order.

    References
    ----------
    Carrillo, Gvalani, Pavliotis, Schlichting (arXiv:1806.01719), Section 4.
    """
    beta = _check_beta(beta)
    diffusion = check_real(diffusion, "diffusion", low=0.0, low_open=True)
    c = check_array(coefficients, "coefficients", ndim=1, min_size=1)
    if abs(c[0] - 1.0) > 1e-12:
        raise ValueError(f"coefficients[0] must be 1 (a probability density), got {c[0]}")
    k = check_int(k, "k", low=1, high=200)
    if n_modes is not None:
        n_modes = check_int(n_modes, "n_modes", low=2, high=4096)
    return spectrum(beta, diffusion, c, k, n_modes)


def landau_coefficient(beta, d=2, k=1):
    """The coefficient b of the branch bifurcating at D_k: ``D(r) = D_k + b r² + O(r⁴)``.

    .. math::

        d = 2:\\quad b = \\frac{λ_k}{2}\\,\\frac{2λ_{2k} - λ_k}{λ_k - λ_{2k}}, \\qquad
        k = 1,\\ d \\ge 2:\\quad b = \\frac{d\\,λ_1 (d λ_2 - λ_1)}{(d+2)(λ_1 - λ_2)},

    λ_k the Funk–Hecke eigenvalues of ``W = e^{βt}/β`` (``λ_k ∝ I_{k+ν}(β)``), r the order
    parameter (``|c_k|`` on the circle, ``|∫x dμ|`` on the sphere). Derivation (zonal
    states ``ρ ∝ e^{ψ}``, ``ψ = Σ_l λ_l h_l u_l P_l(t)/D``, ``u_l = ∫P_l dμ``, P_l the
    normalised Gegenbauer polynomials, h_l = dim H_l): expanding ``u_1 = ⟨P_1 e^ψ⟩/⟨e^ψ⟩``
    to third order with ``⟨t²⟩ = 1/d``, ``⟨t⁴⟩ = 3/(d(d+2))``, ``⟨t² P_2⟩ = 2/(d(d+2))``,
    and ``u_2`` slaved to ``u_1²``, gives ``u_1(1 - λ_1/D) = (d u_1)³ (dλ_2 - D)/(d²(d+2)(D - λ_2))``.
    ``b < 0``: supercritical (the branch exists for D < D_k, a continuous transition at
    D_1); ``b > 0``: subcritical (the branch turns back at a fold above D_k, a
    first-order transition at D_1). So for k = 1 the type changes where ``λ_2/λ_1 = 1/d``,
    i.e. ``I_{d/2+1}(β)/I_{d/2}(β) = 1/d`` (:func:`tricritical_beta`). Checked in the
    tests against the numerical branch (d = 2) and an independent axisymmetric solver
    (d = 3).

    Parameters
    ----------
    beta : float, in (0, 700]
    d : int, >= 2
        Ambient dimension (d >= 3 only for k = 1: higher-degree eigenspaces are degenerate).
    k : int, >= 1

    Returns
    -------
    float
        b, in the units of D.

    References
    ----------
    Carrillo, Gvalani, Pavliotis, Schlichting (arXiv:1806.01719), Theorem 5.11 (the
    sign condition); Mun, Rosenzweig (arXiv:2606.05140).
    """
    beta = _check_beta(beta)
    d = check_int(d, "d", low=2)
    k = check_int(k, "k", low=1, high=200)
    if d > 2 and k != 1:
        raise ValueError(f"k must be 1 for d = {d} >= 3 (degree-k eigenspaces are degenerate there), got {k}")
    nu = (d - 2) / 2.0
    # log λ_l up to the same constant: log I_{l+ν}(β)
    log_a, log_b = (float(log_bessel_i(m + nu, beta)) for m in (k, 2 * k))
    ratio = math.exp(log_b - log_a)  # λ_{2k}/λ_k in (0, 1)
    lam_k = math.exp(log_a + math.lgamma(d / 2.0) + nu * math.log(2.0) - (1.0 + nu) * math.log(beta))
    return d * lam_k * (d * ratio - 1.0) / ((d + 2) * (1.0 - ratio))


def bifurcation_type(beta, d=2, k=1):
    """``"supercritical"``, ``"subcritical"`` or ``"degenerate"``: the sign of :func:`landau_coefficient`.

    .. math:: b < 0:\\ \\text{supercritical (continuous)}, \\quad b > 0:\\ \\text{subcritical (first order)}

    Parameters
    ----------
    beta : float, in (0, 700]
    d : int, >= 2
    k : int, >= 1 (k = 1 for d >= 3)

    Returns
    -------
    str

    References
    ----------
    Carrillo, Gvalani, Pavliotis, Schlichting (arXiv:1806.01719), Section 5.
    """
    b = landau_coefficient(beta, d, k)
    return "supercritical" if b < 0 else "subcritical" if b > 0 else "degenerate"


def tricritical_beta(d=2, k=1):
    """The β where the bifurcation at D_k changes type: ``λ_{2k}(β)/λ_k(β) = 1/d``.

    .. math:: k = 1:\\ \\frac{I_{d/2+1}(β^*)}{I_{d/2}(β^*)} = \\frac1d, \\qquad
              d = 2:\\ \\frac{I_{2k}(β^*)}{I_k(β^*)} = \\frac12

    The ratio increases from 0 to 1 in β, so the root is unique; found by
    :func:`scipy.optimize.brentq` to 1e-13. Below β* the branch is supercritical, above
    subcritical (:func:`bifurcation_type`). Values: d = 2: 2.4469, d = 3: 1.8162, d = 4:
    1.5753, d = 8: 1.2666 (k = 1), the criterion that Mun and Rosenzweig state in their
    convention (period-1 circle, ``(e^{β cos 2πθ} - 1)/β``), which has the same β.

    Parameters
    ----------
    d : int, >= 2
    k : int, >= 1 (k = 1 for d >= 3)

    Returns
    -------
    float

    References
    ----------
    Mun, Rosenzweig (arXiv:2604.16288, 2606.05140); Carrillo, Gvalani, Pavliotis,
    Schlichting (arXiv:1806.01719).
    """
    d = check_int(d, "d", low=2)
    k = check_int(k, "k", low=1, high=200)
    if d > 2 and k != 1:
        raise ValueError(f"k must be 1 for d = {d} >= 3, got {k}")
    nu = (d - 2) / 2.0

    def excess(beta):
        return float(log_bessel_i(2 * k + nu, beta) - log_bessel_i(k + nu, beta)) + math.log(d)

    hi = 1.0
    while excess(hi) <= 0.0:
        hi *= 2.0
    return optimize.brentq(excess, 1e-6, hi, xtol=1e-13, rtol=4 * np.finfo(float).eps)


def circle_free_energy(rho, beta, diffusion):
    """The free energy ``F = -E + D ∫ρ log(2πρ) dθ`` of a density on the grid ``2πj/M``.

    .. math::

        F(ρ) = -\\frac12 \\sum_{m \\in \\mathbb Z} λ_m |c_m|^2 + D \\int_0^{2π} ρ \\log(2πρ)\\,dθ,
        \\qquad c_m = \\int ρ e^{-imθ} dθ,\\ λ_m = I_m(β)/β

    (``E = ½∬ W(cos(θ-θ'))ρρ'``, W = e^{βq}/β; the entropy relative to the uniform
    density, so ``F(uniform) = -λ_0/2``). The noisy USA equation
    (:func:`mtlib.solve_circle_pde` with ``diffusion = D``) is its Wasserstein gradient
    flow: F does not increase along solutions. The trapezoid rule on the grid (exact for
    band-limited ρ; ``0 log 0 = 0``); the same F as :class:`StationaryBranch` for its states.

    Parameters
    ----------
    rho : array_like, shape (M,), M >= 8
        Non-negative density integrating to 1 within 1e-8 (:func:`mtlib.pde_grid`).
    beta : float, in (0, 700]
    diffusion : float, >= 0

    Returns
    -------
    float

    References
    ----------
    Carrillo, Gvalani, Pavliotis, Schlichting (arXiv:1806.01719), Section 2.
    """
    rho = check_density(rho, "rho")
    beta = _check_beta(beta)
    diffusion = check_real(diffusion, "diffusion", low=0.0)
    M = rho.size
    c = np.fft.rfft(rho) * (TWO_PI / M)
    weight = np.full(c.size, 2.0)
    weight[0] = 1.0
    if M % 2 == 0:
        weight[-1] = 1.0  # the Nyquist mode appears once
    energy = 0.5 * float(np.sum(weight * eigenvalues(beta, np.arange(c.size)) * np.abs(c) ** 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = float(np.sum(np.where(rho > 0, rho * np.log(TWO_PI * rho), 0.0))) * TWO_PI / M
    return -energy + diffusion * entropy
