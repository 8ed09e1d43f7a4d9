"""The Gram-matrix flow: the Post-LN token flow seen through G = (<x_i, x_j>), batched.

The flow sees the tokens only through their Gram matrix: with S the attention matrix
(S = softmax(βG) row-wise for SA, e^{βG}/n for USA) and M = SG - diag(SG) G, the Post-LN
flow is G' = M + Mᵀ, an n×n system whatever the dimension d.

Reference: P. Rigollet, "The mean-field dynamics of transformers" (2025), arXiv:2512.01868.
"""

import math
import time
from dataclasses import dataclass

import numpy as np

from .._constants import DEFAULT_MODEL
from .._field_eval import SHIFT_ALL_ROWS
from .._integrate import integrate
from .._validate import (
    check_array,
    check_choice,
    check_memory,
    check_model,
    check_real,
    check_times,
    check_usa_beta,
)

__all__ = ["simulate_gram", "GramResult", "clustered_pair_fraction"]


@dataclass(frozen=True)
class GramResult:
    """Gram matrices G_ij = <x_i, x_j> of a batch of SA/USA flows.

    Attributes
    ----------
    t : ndarray, shape (T,)
    gram : ndarray, shape (T, B, n, n) (or (T, n, n) for one unbatched input)
    beta : ndarray, shape (B,)
    model : str
    n_steps : int
        Accepted integrator steps.
    nfev : int
        Evaluations of the Gram field (one per stage, for the whole batch).
    wall_time : float
        Seconds.
    message : str
        The integrator's report.
    t_stop : float
        With ``stop_above``: the time at which the last pair of tokens reached it (NaN if
        none did by ``t_eval[-1]``); NaN without ``stop_above``.
    status : int
        0: reached ``t_eval[-1]``; 1: stopped at ``t_stop``.
    """

    t: np.ndarray
    gram: np.ndarray
    beta: np.ndarray
    model: str
    n_steps: int
    nfev: int
    wall_time: float
    message: str
    t_stop: float = math.nan
    status: int = 0


def _gram_field_of(beta, sa, n):
    """The Gram field G ↦ G' = M + Mᵀ of systems of n tokens at inverse temperatures beta (B,).

    M = SG - diag(SG) G with S the attention matrix, i.e. M_ij = Σ_{k≠i} S_ik (G_kj - G_ki G_ij)
    = <P_{x_i} Σ_k S_ik x_k, x_j>: the self term (k = i, zero after the projection but
    e^{β} times larger than the rest) is left out of the sums (S_ii = 0), as in
    :mod:`mtlib._field_eval`. Exponents are shifted by s = |β| while |β| <= SHIFT_ALL_ROWS
    (every term then lies in [e^{-2|β|}, 1], none underflows; USA needs no shift there), and
    beyond by the largest off-diagonal exponent of each row. USA multiplies row i by
    e^{s_i}/n; SA divides it by Σ_{k≠i} e^{βG_ik - s_i} + e^{β - s_i}.
    """
    beta3 = beta[:, None, None]
    row_max = np.max(np.abs(beta)) > SHIFT_ALL_ROWS
    if sa and not row_max:
        fixed = np.abs(beta3)
        self_term = np.exp(beta3 - fixed)  # e^{β - |β|} <= 1

    def field(G):
        L = beta3 * G
        L.reshape(L.shape[0], n * n)[:, :: n + 1] = -np.inf  # S_ii = e^{-inf} = 0
        if row_max:
            s = L.max(axis=2, keepdims=True)
            s[~np.isfinite(s)] = 0.0  # n = 1: no other token
            with np.errstate(over="ignore"):  # βG - s = -inf: the term underflows to 0
                L -= s
        elif sa:
            L -= fixed
        S = np.exp(L, out=L)
        SG = S @ G
        M = SG - np.diagonal(SG, axis1=1, axis2=2)[:, :, None] * G
        if sa and row_max:
            with np.errstate(over="ignore"):  # e^{β - s} = inf: the field underflows to 0
                M /= S.sum(axis=2, keepdims=True) + np.exp(beta3 - s)
        elif sa:
            M /= S.sum(axis=2, keepdims=True) + self_term
        elif row_max:
            M *= np.exp(s) / n
        else:
            M /= n
        return M + np.swapaxes(M, 1, 2)

    return field


def _gram_field(G, beta, sa):
    """G' for a batch G (B, n, n) at inverse temperatures beta (B,) (see :func:`_gram_field_of`)."""
    return _gram_field_of(beta, sa, G.shape[-1])(G)


def _check_gram(G):
    """Refuse matrices that are not Gram matrices of unit vectors (symmetric, unit
    diagonal, positive semidefinite up to rounding: λ_min >= -1e-8 max(1, λ_max))."""
    if np.max(np.abs(G - np.swapaxes(G, 1, 2))) > 1e-10:
        raise ValueError("G0 must be symmetric")
    if np.max(np.abs(np.diagonal(G, axis1=1, axis2=2) - 1.0)) > 1e-8:
        raise ValueError("G0 must have a unit diagonal (Gram matrices of unit vectors)")
    lam = np.linalg.eigvalsh(G)
    bad = lam[:, 0] < -1e-8 * np.maximum(1.0, lam[:, -1])
    if np.any(bad):
        b = int(np.argmax(bad))
        raise ValueError(
            f"G0 must be positive semidefinite (the Gram matrix of unit vectors x_i, "
            f"G_ij = <x_i, x_j>); system {b} has the eigenvalue {lam[b, 0]:.3g}"
        )


def simulate_gram(
    G0, beta, t_eval, model=DEFAULT_MODEL, rtol=1e-8, atol=1e-10, method="dopri", dt=None, stop_above=None
):
    """Integrate the SA/USA flow of tokens through their Gram matrix, for a batch of systems.

    The tokens enter the Post-LN flow only through G = (<x_i, x_j>): with S the attention
    matrix (S = softmax(βG) row-wise for SA, e^{βG}/n for USA) and M = SG - diag(SG) G,

    .. math::

        \\dot G = M + M^{\\top},

    an n×n system whatever the dimension d (d enters only through G(0), of rank <= d).
    The batch (B systems, each with its own β) is solved by one run of the integrator of
    mtlib (:mod:`mtlib._integrate`).

    With ``stop_above`` = c the run stops once every system is clustered at level c,
    at the first t with

    .. math:: \\min_b \\min_{i<j} G^{(b)}_{ij}(t) = c,

    a terminal event located on the integrator's dense output (as for the ``events`` of
    :func:`mtlib.simulate`). Nothing is lost at coarser levels: once every pairwise angle
    is at most δ = arccos(c) < π/4, the tokens lie in a cap of radius δ, every velocity
    points into the smallest cap containing them, and every inner product stays
    >= cos(2δ) for ever.

    The field is evaluated pair by pair with a shift by the largest off-diagonal
    exponent of each row (the self term, zero after the projection, is left out), so it
    is accurate at any β the model allows, and G0 with all entries 1 stays fixed.

    Parameters
    ----------
    G0 : array_like, shape (n, n) or (B, n, n)
        Initial Gram matrices of unit vectors (symmetric, unit diagonal, positive
        semidefinite), e.g. ``X @ X.T``.
    beta : float or array_like, shape (B,)
        Inverse temperature(s) β, one per system (broadcast).
    t_eval : array_like, shape (T,)
        Output times, >= 0, strictly increasing.
    model : {"usa", "sa"}
    rtol, atol : float > 0
        Tolerances of ``"dopri"``; rtol ~1e-5 is the cheap choice for long sweeps (the
        step is then limited by stability, not accuracy).
    method : {"dopri", "rk4"}
        Dormand–Prince 5(4) with adaptive steps, or classical RK4 with steps <= ``dt``.
    dt : float > 0, optional
        ``"rk4"``: the largest step (required); ``"dopri"``: the first step (default: chosen
        from the tolerances).
    stop_above : float in (-1, 1), optional
        Stop when the smallest off-diagonal entry of all the Gram matrices reaches this
        value (from below; a batch that starts at or above it stops at t = 0).

    Returns
    -------
    GramResult
        ``gram`` of shape (T, B, n, n), or (T, n, n) for a single (n, n) input with scalar β.
        After a stop, ``t`` and ``gram`` hold only the output times before ``t_stop``.

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
    _check_gram(G)
    model = check_model(model)
    betas = check_array(np.atleast_1d(beta), "beta", ndim=1)
    for b in betas:
        check_usa_beta(float(b), model)
    t_eval = check_times(t_eval)
    # the stored output (T matrices per system) and ~20 work arrays of the integrator and field
    check_memory(8 * max(B, betas.size) * n * n * (t_eval.size + 20),
                 f"simulate_gram with {max(B, betas.size)} systems of n = {n} tokens and {t_eval.size} output times")
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
    rtol = check_real(rtol, "rtol", low=0.0, low_open=True)
    atol = check_real(atol, "atol", low=0.0, low_open=True)
    method = check_choice(method, "method", ("dopri", "rk4"))
    if method == "rk4" and dt is None:
        raise ValueError("dt is required for method='rk4' (the largest step)")
    sa = model == "sa"
    iu = np.triu_indices(n, 1)
    events = None
    if stop_above is not None:
        stop_above = check_real(stop_above, "stop_above", low=-1.0, high=1.0, low_open=True, high_open=True)
        if n < 2:
            raise ValueError("stop_above needs n >= 2 tokens (pairs to compare)")
        if G[:, iu[0], iu[1]].min() >= stop_above:
            empty = np.empty((0,) + (G.shape[1:] if single else G.shape))
            return GramResult(t_eval[:0], empty, betas, model, 0, 0, time.perf_counter() - start,
                              "every pair starts at or above stop_above", 0.0, 1)

        def clustered(t, y):
            return float(y[:, iu[0], iu[1]].min()) - stop_above

        clustered.terminal = True
        clustered.direction = 1.0
        events = clustered

    field = _gram_field_of(betas, sa, n)

    def rhs(t, y):
        return field(y)

    sol = integrate(rhs, G, t_eval, method=method, dt=dt, rtol=rtol, atol=atol, events=events)
    gram = sol.y[:, 0] if single else sol.y
    t_stop = float(sol.t_events[0][0]) if sol.status == 1 else math.nan
    return GramResult(
        sol.t, gram, betas, model, sol.n_steps, sol.nfev, time.perf_counter() - start, sol.message,
        t_stop, sol.status,
    )


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
