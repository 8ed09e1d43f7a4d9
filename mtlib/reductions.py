"""Exact reductions of the token dynamics: equiangular ODE, normalisation schemes, Gram flow, long context.

Tokens x_i = r_i θ_i, |θ_i| = 1, attend through

    A_i = Σ_j softmax_j(β<θ_i,θ_j>) θ_j          (SA)
    A_i = (1/n) Σ_j e^{β<θ_i,θ_j>} θ_j            (USA),

and each normalisation scheme moves the directions by θ_i' = (1/s_i) P_{θ_i} A_i
(P_θ y = y - <θ,y> θ) and possibly the norms r_i:

=========  ============================  ==========================
scheme     s_i                           r_i'
=========  ============================  ==========================
"post"     1 (the plain SA/USA flow)     0
"pre"      r_i                           <θ_i, A_i>
"peri"     r_i |A_i|                     <θ_i, A_i> / |A_i|
"ngpt"     |A_i| / α                     0
"sqrt"     sqrt(t + 1)                   0
=========  ============================  ==========================

(Pre-LN is x_i' = A_i(θ), Peri-LN x_i' = A_i/|A_i|.) If all pairwise inner products
<θ_i,θ_j> equal ρ and all norms are equal, they stay so (the **equiangular
reduction**), and with E = e^{-β(1-ρ)}, f = 1/(1+(n-1)E) (SA) or e^β/n (USA):

    ρ' = (2/s) f E (1-ρ)(1+(n-1)ρ),     <θ_i,A_i> = f (1+(n-1)ρE),
    |A_i| = f sqrt(1 + 2(n-1)ρE + (n-1)E²(1+(n-2)ρ)).

Post-LN: near ρ = 1, 1-ρ decays at rate exactly 2 (SA, any β and n) and 2e^β (USA).
Pre-LN: r ~ t, so 1-ρ ~ C/t². The ODE is integrated in u = log(1-ρ), whose right-hand
side -(2/s) f E (1+(n-1)ρ) has no factor 1-ρ: the precision of 1-ρ stays relative down
to any size.

The flow sees the tokens only through their Gram matrix G = (<θ_i,θ_j>): with
S = softmax(βG) row-wise (SA) and M = SG - diag(SG) G, the Post-LN flow is G' = M + Mᵀ
(:func:`simulate_gram`), an n×n system whatever the dimension d.

References: P. Rigollet, "The mean-field dynamics of transformers" (2025);
Geshkovski, Letrouit, Polyanskiy, Rigollet, "A mathematical perspective on transformers".
"""

import math
import time
from dataclasses import dataclass

import numpy as np
from scipy.integrate import solve_ivp

from .dynamics import _attention_average
from ._validate import (
    check_array,
    check_choice,
    check_int,
    check_model,
    check_real,
    check_times,
    check_unit_rows,
    check_weights,
)

__all__ = [
    "NORMALIZATIONS",
    "equiangular_rhs",
    "solve_equiangular",
    "clustering_time",
    "EquiangularResult",
    "simulate_normalized",
    "NormalizedResult",
    "simulate_gram",
    "GramResult",
    "clustered_pair_fraction",
    "long_context_correlation",
    "critical_gamma",
    "order_parameter",
]

NORMALIZATIONS = ("post", "pre", "peri", "ngpt", "sqrt")
_ALIASES = {
    "post-ln": "post",
    "postln": "post",
    "pre-ln": "pre",
    "preln": "pre",
    "peri-ln": "peri",
    "periln": "peri",
    "sqrt-scaling": "sqrt",
    "sqrt_scaling": "sqrt",
}
USA_MAX_BETA = 700.0  # e^{β} overflows float64 beyond


# ----------------------------------------------------------------------------------------
# validation
# ----------------------------------------------------------------------------------------


def _check_normalization(normalization):
    if isinstance(normalization, str):
        normalization = _ALIASES.get(normalization.lower(), normalization)
    return check_choice(normalization, "normalization", NORMALIZATIONS)


def _check_n(n):
    return check_int(n, "n", low=2)


def _check_beta(beta, model):
    beta = check_real(beta, "beta")
    if model == "usa" and abs(beta) > USA_MAX_BETA:
        raise ValueError(
            f"beta = {beta}: the USA field e^(beta<x,y>) overflows float64 beyond |beta| = "
            f"{USA_MAX_BETA:g}; use model='sa'"
        )
    return beta


def _check_rho(rho, n, name="rho"):
    """ρ as a float array inside [-1/(n-1), 1] (the range of a common inner product)."""
    arr = check_array(np.atleast_1d(rho), name)
    low = -1.0 / (n - 1)
    bad = (arr < low - 1e-15) | (arr > 1.0)
    if np.any(bad):
        raise ValueError(
            f"{name} must lie in [-1/(n-1), 1] = [{low:.6g}, 1] for n = {n} unit vectors with "
            f"equal pairwise inner products, got {arr[bad][0]!r}"
        )
    return np.clip(arr, low, 1.0)


# ----------------------------------------------------------------------------------------
# the equiangular reduction
# ----------------------------------------------------------------------------------------


def _equiangular_terms(w, beta, n, sa):
    """(ρ, E, f) from w = 1-ρ: E = e^{-βw}, f the attention normalisation."""
    rho = 1.0 - w
    with np.errstate(over="ignore"):
        E = np.exp(-beta * w)
        f = 1.0 / (1.0 + (n - 1) * E) if sa else math.exp(beta) / n + 0.0 * w
    return rho, E, f


def _norm_A(rho, E, f, n):
    return f * np.sqrt(np.maximum(1.0 + 2.0 * (n - 1) * rho * E + (n - 1) * E * E * (1.0 + (n - 2) * rho), 0.0))


def equiangular_rhs(rho, beta, n, model="sa"):
    """Right-hand side of the equiangular ODE (Post-LN): ρ' = F(ρ).

    .. math::

        F_{SA}(\\rho) = \\frac{2 e^{\\beta\\rho}(1-\\rho)((n-1)\\rho+1)}{e^{\\beta} + (n-1)e^{\\beta\\rho}},
        \\qquad
        F_{USA}(\\rho) = \\frac{2}{n} e^{\\beta\\rho}(1-\\rho)((n-1)\\rho+1),

    the evolution of the common inner product ρ = <x_i, x_j> of n equiangular tokens.

    Parameters
    ----------
    rho : float or array_like
        Common inner product(s), in [-1/(n-1), 1].
    beta : float
        Inverse temperature β (|β| <= 700 for USA).
    n : int, >= 2
        Number of tokens.
    model : {"sa", "usa"}

    Returns
    -------
    float or ndarray
        F(ρ), same shape as ``rho``.

    References
    ----------
    Rigollet, "The mean-field dynamics of transformers" (2025), equiangular reduction.
    """
    n = _check_n(n)
    sa = check_model(model) == "sa"
    beta = _check_beta(beta, "sa" if sa else "usa")
    scalar = np.ndim(rho) == 0
    r = _check_rho(rho, n).reshape(np.shape(rho))
    w = 1.0 - r
    rho_, E, f = _equiangular_terms(w, beta, n, sa)
    out = 2.0 * f * E * w * (1.0 + (n - 1) * rho_)
    return float(out) if scalar else out


def _scale_and_radial(normalization, t, r, rho, E, f, n, alpha):
    """(s, r') of a scheme in the equiangular state."""
    if normalization == "post":
        return 1.0, 0.0
    if normalization == "sqrt":
        return math.sqrt(t + 1.0), 0.0
    c1 = f * (1.0 + (n - 1) * rho * E)
    if normalization == "pre":
        return r, c1
    nA = _norm_A(rho, E, f, n)
    if normalization == "peri":
        return r * nA, c1 / nA
    return nA / alpha, 0.0  # ngpt


@dataclass(frozen=True)
class EquiangularResult:
    """Solution of the equiangular ODE.

    Attributes
    ----------
    t : ndarray, shape (T,)
        Output times.
    rho : ndarray, shape (T,)
        Common inner product <θ_i, θ_j>.
    log_one_minus_rho : ndarray, shape (T,)
        log(1-ρ), accurate to the integrator tolerance even when 1-ρ underflows ρ's
        precision (-inf when ρ = 1).
    r : ndarray, shape (T,)
        Common token norm (constant for "post", "ngpt", "sqrt").
    beta : float
    n : int
    model, normalization : str
    """

    t: np.ndarray
    rho: np.ndarray
    log_one_minus_rho: np.ndarray
    r: np.ndarray
    beta: float
    n: int
    model: str
    normalization: str

    @property
    def one_minus_rho(self):
        """1 - ρ with full relative precision."""
        return np.exp(self.log_one_minus_rho)


def _equiangular_system(beta, n, sa, normalization, alpha):
    def rhs(t, y):
        u, r = y
        w = math.exp(u)
        rho, E, f = _equiangular_terms(w, beta, n, sa)
        rho, E, f = float(rho), float(E), float(f)
        s, dr = _scale_and_radial(normalization, t, r, rho, E, f, n, alpha)
        return [-(2.0 / s) * f * E * (1.0 + (n - 1) * rho), dr]

    return rhs


def _equiangular_setup(rho0, beta, n, model, normalization, r0, alpha):
    n = _check_n(n)
    model = check_model(model)
    beta = _check_beta(beta, model)
    normalization = _check_normalization(normalization)
    rho0 = float(_check_rho(check_real(rho0, "rho0"), n, "rho0")[0])
    r0 = check_real(r0, "r0", low=0.0, low_open=True)
    alpha = check_real(alpha, "alpha", low=0.0, low_open=True)
    return rho0, beta, n, model, normalization, r0, alpha


def _fixed_r(normalization, r0, t):
    """Norm path when ρ = 1 for ever: <θ,A> = |A| = 1 (SA) so r' = 1 for pre/peri."""
    return r0 + t if normalization in ("pre", "peri") else np.full_like(t, r0)


def solve_equiangular(
    rho0, beta, n, t_eval, model="sa", normalization="post", r0=1.0, alpha=1.0, rtol=1e-12, atol=1e-13
):
    """Integrate the equiangular reduction for a normalisation scheme.

    Post-LN: ρ' = F(ρ) (see :func:`equiangular_rhs`). Each scheme divides the direction
    speed by s (module table), so ρ' = F(ρ)/s, and moves the common norm r. The ODE is
    solved for u = log(1-ρ) (and r) by DOP853:

    .. math::

        u' = -\\frac{2}{s} f E (1 + (n-1)\\rho), \\quad E = e^{-\\beta(1-\\rho)},
        \\quad f = \\frac{1}{1 + (n-1)E} \\;(SA), \\; \\frac{e^{\\beta}}{n} \\;(USA).

    Parameters
    ----------
    rho0 : float in [-1/(n-1), 1]
        Initial common inner product (ρ0 = -1/(n-1), the simplex, and ρ0 = 1 are fixed).
    beta : float
        Inverse temperature β.
    n : int, >= 2
        Number of tokens.
    t_eval : array_like, shape (T,)
        Output times, >= 0, strictly increasing.
    model : {"sa", "usa"}
    normalization : {"post", "pre", "peri", "ngpt", "sqrt"}
        Also "post-ln", "pre-ln", "peri-ln", "sqrt-scaling".
    r0 : float > 0
        Initial common norm (matters for "pre" and "peri").
    alpha : float > 0
        nGPT step scale α.
    rtol, atol : float > 0
        Integrator tolerances (on u = log(1-ρ) and r).

    Returns
    -------
    EquiangularResult

    References
    ----------
    Rigollet, "The mean-field dynamics of transformers" (2025).
    """
    rho0, beta, n, model, normalization, r0, alpha = _equiangular_setup(
        rho0, beta, n, model, normalization, r0, alpha
    )
    t_eval = check_times(t_eval)
    rtol = check_real(rtol, "rtol", low=0.0, low_open=True)
    atol = check_real(atol, "atol", low=0.0, low_open=True)
    if rho0 == 1.0:
        return EquiangularResult(
            t_eval, np.ones_like(t_eval), np.full_like(t_eval, -np.inf), _fixed_r(normalization, r0, t_eval),
            beta, n, model, normalization,
        )
    rhs = _equiangular_system(beta, n, model == "sa", normalization, alpha)
    y0 = [math.log1p(-rho0), r0]
    if t_eval[-1] == 0.0:
        u = np.full(1, y0[0])
        r = np.full(1, r0)
    else:
        sol = solve_ivp(rhs, (0.0, t_eval[-1]), y0, method="DOP853", t_eval=t_eval, rtol=rtol, atol=atol)
        if not sol.success:  # pragma: no cover - integrator failure
            raise RuntimeError(f"solve_equiangular: {sol.message}")
        u, r = sol.y
    return EquiangularResult(t_eval, -np.expm1(u), u, r, beta, n, model, normalization)


def clustering_time(
    beta, n, rho0=0.0, threshold=0.999, model="sa", normalization="post", r0=1.0, alpha=1.0, t_max=1e7
):
    """Time for the equiangular correlation ρ(t) to reach a threshold.

    The first t with ρ(t) = threshold, from ρ(0) = ρ0 (0 if ρ0 >= threshold), found as an
    event of the ODE of :func:`solve_equiangular` (relative accuracy ~1e-10). ρ never
    decreases, and reaches 1 only as t → ∞ (ρ0 > -1/(n-1)).

    Parameters
    ----------
    beta : float
    n : int, >= 2
    rho0 : float in (-1/(n-1), 1]
    threshold : float in (-1/(n-1), 1)
    model, normalization, r0, alpha
        As in :func:`solve_equiangular`.
    t_max : float
        Give up (``RuntimeError``) beyond this time.

    Returns
    -------
    float

    Examples
    --------
    SA, n = 32, from ρ = 0 to 0.999: β = 1: 5.27, β = 5: 9.54, β = 7: 32.2, β = 9: 178.7.

    References
    ----------
    Rigollet, "The mean-field dynamics of transformers" (2025).
    """
    rho0, beta, n, model, normalization, r0, alpha = _equiangular_setup(
        rho0, beta, n, model, normalization, r0, alpha
    )
    threshold = check_real(threshold, "threshold", low=-1.0 / (n - 1), high=1.0, low_open=True, high_open=True)
    t_max = check_real(t_max, "t_max", low=0.0, low_open=True)
    if rho0 >= threshold:
        return 0.0
    if rho0 <= -1.0 / (n - 1) + 1e-15:
        raise ValueError(f"rho0 = {rho0} is the simplex, a fixed point: the threshold is never reached")
    rhs = _equiangular_system(beta, n, model == "sa", normalization, alpha)
    target = math.log1p(-threshold)

    def event(t, y):
        return y[0] - target

    event.terminal = True
    event.direction = -1
    sol = solve_ivp(rhs, (0.0, t_max), [math.log1p(-rho0), r0], method="DOP853", events=event, rtol=1e-12, atol=1e-13)
    if sol.t_events[0].size == 0:
        raise RuntimeError(f"clustering_time: rho did not reach {threshold} before t_max = {t_max:g}")
    return float(sol.t_events[0][0])


# ----------------------------------------------------------------------------------------
# the particle system with normalisation
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NormalizedResult:
    """Tokens x_i = r_i θ_i of a normalised attention flow at the output times.

    Attributes
    ----------
    t : ndarray, shape (T,)
    theta : ndarray, shape (T, n, d)
        Directions (unit rows).
    r : ndarray, shape (T, n)
        Norms.
    beta : float
    model, normalization : str
    n_velocity_evals : int
    wall_time : float
    """

    t: np.ndarray
    theta: np.ndarray
    r: np.ndarray
    beta: float
    model: str
    normalization: str
    n_velocity_evals: int
    wall_time: float

    @property
    def states(self):
        """The tokens x_i = r_i θ_i, shape (T, n, d)."""
        return self.r[..., None] * self.theta


def simulate_normalized(
    x0, beta, t_eval, normalization="post", model="sa", alpha=1.0, rtol=1e-10, atol=1e-12
):
    """Integrate the token flow x_i = r_i θ_i under a normalisation scheme.

    θ_i' = (1/s_i) P_{θ_i} A_i with s_i and r_i' from the module table ("post": s = 1,
    the SA/USA flow of :func:`mtlib.simulate`; "pre": s = r_i, r_i' = <θ_i,A_i>;
    "peri": s = r_i|A_i|, r_i' = <θ_i,A_i>/|A_i|; "ngpt": s = |A_i|/α; "sqrt":
    s = sqrt(t+1)). The attention averages A_i come from the same kernel as
    :func:`mtlib.velocity`. Solved by DOP853 (scipy) for (θ, r); θ is renormalised where
    the field is evaluated and at the outputs.

    Parameters
    ----------
    x0 : array_like, shape (n, d)
        Initial tokens, nonzero rows (norms r_i(0) = |x_i(0)|, directions x_i/|x_i|).
    beta : float
    t_eval : array_like, shape (T,)
        Output times, >= 0, strictly increasing.
    normalization : {"post", "pre", "peri", "ngpt", "sqrt"}
    model : {"sa", "usa"}
    alpha : float > 0
        nGPT step scale α.
    rtol, atol : float > 0
        Integrator tolerances.

    Returns
    -------
    NormalizedResult
        ``t``, ``theta`` (T, n, d), ``r`` (T, n), ``states`` = r θ.

    References
    ----------
    Rigollet, "The mean-field dynamics of transformers" (2025), normalisation schemes.
    """
    start = time.perf_counter()
    X = check_array(x0, "x0", ndim=2)
    n, d = X.shape
    if d < 2:
        raise ValueError(f"x0 must have d >= 2 columns, got shape {X.shape}")
    r0 = np.linalg.norm(X, axis=1)
    if np.any(r0 <= 0):
        raise ValueError("x0 must have nonzero rows (each token x_i = r_i θ_i needs r_i > 0)")
    theta0 = X / r0[:, None]
    normalization = _check_normalization(normalization)
    model = check_model(model)
    beta = _check_beta(beta, model)
    alpha = check_real(alpha, "alpha", low=0.0, low_open=True)
    t_eval = check_times(t_eval)
    rtol = check_real(rtol, "rtol", low=0.0, low_open=True)
    atol = check_real(atol, "atol", low=0.0, low_open=True)
    sa = model == "sa"
    w = check_weights(None, n)
    counter = [0]
    nd = n * d

    def rhs(t, y):
        counter[0] += 1
        th = y[:nd].reshape(n, d)
        th = th / np.linalg.norm(th, axis=1, keepdims=True)
        r = y[nd:]
        A = _attention_average(th, w, beta, sa)
        c1 = np.einsum("ij,ij->i", th, A)
        P = A - c1[:, None] * th
        if normalization == "post":
            s, dr = 1.0, np.zeros(n)
        elif normalization == "sqrt":
            s, dr = math.sqrt(t + 1.0), np.zeros(n)
        elif normalization == "pre":
            s, dr = r, c1
        else:
            nA = np.linalg.norm(A, axis=1)
            if normalization == "peri":
                s, dr = r * nA, c1 / nA
            else:
                s, dr = nA / alpha, np.zeros(n)
        s = np.broadcast_to(s, (n,))
        return np.concatenate([(P / s[:, None]).ravel(), dr])

    y0 = np.concatenate([theta0.ravel(), r0])
    if t_eval[-1] == 0.0:
        Y = y0[:, None]
    else:
        sol = solve_ivp(rhs, (0.0, t_eval[-1]), y0, method="DOP853", t_eval=t_eval, rtol=rtol, atol=atol)
        if not sol.success:  # pragma: no cover
            raise RuntimeError(f"simulate_normalized: {sol.message}")
        Y = sol.y
    theta = Y[:nd].T.reshape(-1, n, d)
    theta = theta / np.linalg.norm(theta, axis=2, keepdims=True)
    r = Y[nd:].T.copy()
    return NormalizedResult(
        t_eval, theta, r, beta, model, normalization, counter[0], time.perf_counter() - start
    )


# ----------------------------------------------------------------------------------------
# the Gram-matrix flow (Post-LN), batched
# ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GramResult:
    """Gram matrices G_ij = <x_i, x_j> of a batch of SA/USA flows.

    Attributes
    ----------
    t : ndarray, shape (T,)
    gram : ndarray, shape (T, B, n, n) (or (T, n, n) for one unbatched input)
    beta : ndarray, shape (B,)
    model : str
    n_velocity_evals : int
    wall_time : float
    """

    t: np.ndarray
    gram: np.ndarray
    beta: np.ndarray
    model: str
    n_velocity_evals: int
    wall_time: float


def _gram_field(G, beta, sa):
    """G' = M + Mᵀ, M = SG - diag(SG) G, S the attention matrix; batched over axis 0."""
    L = beta[:, None, None] * G
    if sa:
        L = L - L.max(axis=2, keepdims=True)
        S = np.exp(L)
        S /= S.sum(axis=2, keepdims=True)
    else:
        S = np.exp(L) / G.shape[-1]
    SG = S @ G
    M = SG - np.diagonal(SG, axis1=1, axis2=2)[:, :, None] * G
    return M + np.swapaxes(M, 1, 2)


def simulate_gram(G0, beta, t_eval, model="sa", rtol=1e-8, atol=1e-10, method="DOP853"):
    """Integrate the SA/USA flow of tokens through their Gram matrix, for a batch of systems.

    The tokens enter the Post-LN flow only through G = (<x_i, x_j>): with S the attention
    matrix (S = softmax(βG) row-wise for SA, e^{βG}/n for USA) and M = SG - diag(SG) G,

    .. math::

        \\dot G = M + M^{\\top},

    an n×n system whatever the dimension d (d enters only through G(0), of rank <= d).
    The batch (B systems, each with its own β) is solved by one DOP853 run.

    Parameters
    ----------
    G0 : array_like, shape (n, n) or (B, n, n)
        Initial Gram matrices (symmetric, unit diagonal), e.g. ``X @ X.T``.
    beta : float or array_like, shape (B,)
        Inverse temperature(s) β, one per system (broadcast).
    t_eval : array_like, shape (T,)
        Output times, >= 0, strictly increasing.
    model : {"sa", "usa"}
    rtol, atol : float > 0
        Integrator tolerances.
    method : {"DOP853", "RK45"}
        scipy integrator; "RK45" with rtol ~1e-5 is the cheap choice for long sweeps
        (the step is then limited by stability, not accuracy).

    Returns
    -------
    GramResult
        ``gram`` of shape (T, B, n, n), or (T, n, n) for a single (n, n) input with scalar β.

    References
    ----------
    Rigollet, "The mean-field dynamics of transformers" (2025).
    """
    start = time.perf_counter()
    G = check_array(G0, "G0", ndim=(2, 3))
    single = G.ndim == 2 and np.ndim(beta) == 0
    if G.ndim == 2:
        G = G[None]
    B, n, m = G.shape
    if n != m:
        raise ValueError(f"G0 must hold square matrices, got shape {G.shape}")
    if np.max(np.abs(G - np.swapaxes(G, 1, 2))) > 1e-10:
        raise ValueError("G0 must be symmetric")
    if np.max(np.abs(np.diagonal(G, axis1=1, axis2=2) - 1.0)) > 1e-8:
        raise ValueError("G0 must have a unit diagonal (Gram matrices of unit vectors)")
    model = check_model(model)
    betas = check_array(np.atleast_1d(beta), "beta", ndim=1)
    for b in betas:
        _check_beta(float(b), model)
    if betas.size == 1 and B > 1:
        betas = np.full(B, betas[0])
    elif B == 1 and betas.size > 1:
        G = np.broadcast_to(G, (betas.size, n, n)).copy()
        B = betas.size
    elif betas.size != B:
        raise ValueError(f"beta must be a scalar or hold one value per system ({B}), got {betas.size}")
    G = G.copy()
    idx = np.arange(n)
    G[:, idx, idx] = 1.0
    t_eval = check_times(t_eval)
    rtol = check_real(rtol, "rtol", low=0.0, low_open=True)
    atol = check_real(atol, "atol", low=0.0, low_open=True)
    method = {"dop853": "DOP853", "rk45": "RK45"}[check_choice(method, "method", ("dop853", "rk45"))]
    sa = model == "sa"
    counter = [0]

    def rhs(t, y):
        counter[0] += 1
        return _gram_field(y.reshape(B, n, n), betas, sa).ravel()

    if t_eval[-1] == 0.0:
        Y = G.reshape(1, -1)
    else:
        sol = solve_ivp(rhs, (0.0, t_eval[-1]), G.ravel(), method=method, t_eval=t_eval, rtol=rtol, atol=atol)
        if not sol.success:  # pragma: no cover
            raise RuntimeError(f"simulate_gram: {sol.message}")
        Y = sol.y.T
    gram = Y.reshape(t_eval.size, B, n, n)
    if single:
        gram = gram[:, 0]
    return GramResult(t_eval, gram, betas, model, counter[0], time.perf_counter() - start)


def clustered_pair_fraction(G, threshold=0.999):
    """Fraction of token pairs i < j with <x_i, x_j> >= threshold.

    Parameters
    ----------
    G : array_like, shape (..., n, n)
        Gram matrices (n >= 2).
    threshold : float in [-1, 1]

    Returns
    -------
    ndarray of shape (...) (float for one matrix)
        The empirical P(<x_i, x_j> >= threshold) over the n(n-1)/2 pairs.
    """
    G = check_array(G, "G")
    if G.ndim < 2 or G.shape[-1] != G.shape[-2] or G.shape[-1] < 2:
        raise ValueError(f"G must have shape (..., n, n) with n >= 2, got {G.shape}")
    threshold = check_real(threshold, "threshold", low=-1.0, high=1.0)
    i, j = np.triu_indices(G.shape[-1], 1)
    out = np.mean(G[..., i, j] >= threshold, axis=-1)
    return float(out) if out.ndim == 0 else out


# ----------------------------------------------------------------------------------------
# long context
# ----------------------------------------------------------------------------------------


def critical_gamma(rho):
    """The critical scale γ_c = 1/(1-ρ) of the long-context transition (∞ at ρ = 1).

    Parameters
    ----------
    rho : float or array_like in [0, 1]

    Returns
    -------
    float or ndarray
    """
    scalar = np.ndim(rho) == 0
    r = check_array(np.atleast_1d(rho), "rho")
    if np.any((r < 0) | (r > 1)):
        raise ValueError(f"rho must lie in [0, 1], got {r[(r < 0) | (r > 1)][0]!r}")
    with np.errstate(divide="ignore"):
        g = 1.0 / (1.0 - r)
    g = g.reshape(np.shape(rho))
    return float(g) if scalar else g


def long_context_correlation(rho, gamma, n=None):
    """Output correlation of one SA layer with β = γ log n on n equiangular unit tokens.

    Tokens with <x_i, x_j> = ρ (i ≠ j) give y_i = Σ_j softmax_j(β<x_i,x_j>) x_j
    = (p-q) x_i + q Σ_j x_j with p = 1/(1+(n-1)E), q = E p, E = e^{-β(1-ρ)}, and the
    returned value is <y_i, y_j>/(|y_i||y_j|), exactly. As n → ∞ (``n=None``), with
    γ_c = 1/(1-ρ):

    .. math::

        \\rho_{out} \\to 1 \\ (\\gamma < \\gamma_c), \\qquad
        \\frac{4\\rho}{1+3\\rho} \\ (\\gamma = \\gamma_c), \\qquad
        \\rho \\ (\\gamma > \\gamma_c)

    for 0 < ρ <= 1. Orthogonal inputs (ρ = 0) are different: the exact value is
    (1 + O(n^{γ-1}))/(1 + n^{2γ-1}) for γ < 1, so the limit is 1 for γ < 1/2, 1/2 at
    γ = 1/2 and 0 for γ > 1/2 (the self-weight n^{γ-1} beats the mean |x̄|² = 1/n).

    At the critical γ, ρ = 0.5: 0.8028 (n = 10²), 0.8000 (n = 10⁴), limit 0.8.

    Parameters
    ----------
    rho : float or array_like
        Input correlation, in [-1/(n-1), 1] (in [0, 1] for n=None).
    gamma : float or array_like, > 0
        β = γ log n.
    n : int >= 2, array_like of ints, or None
        Context length; None for the limit n → ∞. Arrays broadcast with rho and gamma.

    Returns
    -------
    float or ndarray (broadcast shape)

    References
    ----------
    Rigollet, "The mean-field dynamics of transformers" (2025), long context.
    """
    scalar = np.ndim(rho) == 0 and np.ndim(gamma) == 0 and np.ndim(n) == 0
    r = check_array(np.atleast_1d(rho), "rho")
    g = check_array(np.atleast_1d(gamma), "gamma")
    if np.any(g <= 0):
        raise ValueError(f"gamma must be > 0 (beta = gamma log n), got {g[g <= 0][0]!r}")
    if n is None:
        if np.any((r < 0) | (r > 1)):
            raise ValueError(f"rho must lie in [0, 1] for n=None (n -> infinity), got {r[(r < 0) | (r > 1)][0]!r}")
        r, g = np.broadcast_arrays(r.reshape(np.shape(rho)), g.reshape(np.shape(gamma)))
        with np.errstate(divide="ignore"):
            gc = 1.0 / (1.0 - r)
        crit = np.isclose(g, gc, rtol=1e-12, atol=0.0)
        out = np.where(g < gc, 1.0, r)
        out = np.where(crit, 4.0 * r / (1.0 + 3.0 * r), out)
        out = np.where(r == 1.0, 1.0, out)
        orthogonal = np.where(g < 0.5, 1.0, np.where(g == 0.5, 0.5, 0.0))
        out = np.where(r == 0.0, orthogonal, out)
    else:
        nn = np.atleast_1d(np.asarray(n))
        if not np.issubdtype(nn.dtype, np.integer) and not np.all(nn == np.round(nn)):
            raise TypeError(f"n must be an integer (or None), got {n!r}")
        nn = nn.astype(np.float64)
        if np.any(nn < 2):
            raise ValueError(f"n must be >= 2, got {nn.min():g}")
        r, g, nn = np.broadcast_arrays(r.reshape(np.shape(rho)), g.reshape(np.shape(gamma)), nn.reshape(np.shape(n)))
        low = -1.0 / (nn - 1.0)
        if np.any((r < low - 1e-15) | (r > 1)):
            raise ValueError("rho must lie in [-1/(n-1), 1]")
        beta = g * np.log(nn)
        E = np.exp(-beta * (1.0 - r))
        p = 1.0 / (1.0 + (nn - 1.0) * E)
        q = E * p
        a = p - q
        common = q * q * nn * (1.0 + (nn - 1.0) * r) + 2.0 * a * q * (1.0 + (nn - 1.0) * r)
        out = (a * a * r + common) / (a * a + common)
    out = np.asarray(out, dtype=np.float64)
    return float(out.reshape(-1)[0]) if scalar else out


# ----------------------------------------------------------------------------------------
# order parameter
# ----------------------------------------------------------------------------------------


def order_parameter(theta_or_X, weights=None, angles=None):
    """The order parameter |m|, m = Σ_i w_i x_i the mean of the tokens.

    On the circle |m| = |Σ_i w_i e^{iθ_i}| is Kuramoto's order parameter; |m| = 1 exactly
    when all tokens coincide, and 1 - |m| ≈ W2(μ, δ)²/2 near a single cluster.

    Parameters
    ----------
    theta_or_X : array_like
        Angles of shape (n,) or, with ``angles=True``, (T, n) (one row per time); unit
        rows of shape (n, d); or a trajectory of shape (T, n, d).
    weights : array_like, shape (n,), optional
        Non-negative token masses summing to 1 (default 1/n).
    angles : bool, optional
        Read the last axis as angles (default: only for 1-D input).

    Returns
    -------
    float, or ndarray of shape (T,) for a trajectory

    References
    ----------
    Kuramoto (1975); Chen, Lin, Polyanskiy, Rigollet, "Quantitative clustering in
    mean-field transformer models" (2025).
    """
    arr = check_array(theta_or_X, "theta_or_X", ndim=(1, 2, 3))
    if angles is None:
        angles = arr.ndim == 1
    if angles:
        if arr.ndim == 3:
            raise ValueError("angles=True needs shape (n,) or (T, n)")
        w = check_weights(weights, arr.shape[-1])
        m = np.abs(np.exp(1j * arr) @ w)
    else:
        if arr.ndim == 1:
            raise ValueError("angles=False needs points of shape (n, d) or (T, n, d)")
        w = check_weights(weights, arr.shape[-2])
        if arr.ndim == 2:
            check_unit_rows(arr, "theta_or_X")
        m = np.linalg.norm(np.einsum("...nd,n->...d", arr, w), axis=-1)
    return float(m) if np.ndim(m) == 0 else m
