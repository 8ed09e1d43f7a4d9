"""The velocity fields, the attention layer and the interaction energy of tokens on the sphere.

Tokens x_1..x_N on S^{d-1} (Q = K = V = I) move by

- SA (self-attention):  dx_i/dt = P_{x_i}( Σ_j w_j e^{β<x_i,x_j>} x_j / Σ_k w_k e^{β<x_i,x_k>} ),
- USA (unnormalised):   dx_i/dt = P_{x_i}( Σ_j w_j e^{β<x_i,x_j>} x_j ),

with P_x y = y - <x,y> x and weights w_j = 1/N unless given (a weighted empirical
measure). On the circle, x = (cos θ, sin θ) and the USA field reads
dθ_i/dt = Σ_j w_j e^{β cos(θ_j-θ_i)} sin(θ_j-θ_i). Any finite β is accepted (β < 0 is
repulsive). USA trajectories are the gradient ascent of the energy
E_β = (1/(2β)) Σ_{i,j} w_i w_j e^{β<x_i,x_j>}. References: Geshkovski, Letrouit,
Polyanskiy, Rigollet, "A mathematical perspective on transformers" (2023) for the model;
Bruno, Pasqualotto, Agazzi, "Emergence of meta-stable clustering in mean-field
transformer models" (ICLR 2025).

Numerics. Every sum of exponentials is computed as e^{s_i} Σ_j w_j e^{β<x_i,x_j> - s_i}
with s_i = |β| (|β| <= 350, where no term can underflow) or the row maximum (larger
|β|): SA never overflows; USA is exact whenever the result fits in float64 and raises a
``ValueError`` otherwise. The velocity is projected pair by pair,
v_i = Σ_{j≠i} w_j e^{β<x_i,x_j>} P_{x_i} x_j, with the row maximum over j ≠ i: the self
term (P_{x_i} x_i = 0, e^{β} times larger than the rest) never enters the sums, so the
field is accurate to rounding of its own terms at any β, and tokens that all coincide
have the field 0 exactly. On the circle the field is also available exactly through its
Fourier modes (``velocity_circle(method="fourier")``), O(N·M) instead of O(N²); on S²
(d = 3) through spherical harmonics (``velocity(method="harmonic")``, the addition
theorem e^{β<x,y>} = 4π Σ_l i_l(β) Σ_m Y_lm(x) Y_lm(y)), O(N·L²), L ≈ 9.5 sqrt(|β|).

General attention (``A``, ``V``, ``causal`` of :func:`velocity`, :func:`velocity_circle`,
:func:`attention`): weights e^{β<x_i, A x_j>} (A = QᵀK) and values V x_j, the sums over
j <= i when causal (Geshkovski et al. 2023, arXiv:2312.10794; Karagodin, Polyanskiy,
Rigollet 2024, arXiv:2411.04990 for the causal mask). The energy has no meaning for a
general A, V (the flow is not a gradient flow), so :func:`energy` takes neither.
"""

import math

import numpy as np

from . import _attention_eval as _ae
from . import _kernels_circle as _kc
from ._constants import DEFAULT_MODEL
from ._field_eval import (
    FOURIER_FLOPS,
    attention_average,
    circle_method,
    circle_points,
    circle_velocity,
    fourier_coefficients,
    pairwise,
    threads_for,
)
from ._harmonic_eval import METHODS as SPHERE_METHODS
from ._harmonic_eval import harmonic_energy, resolve_sphere_method, sphere_field
from ._validate import (check_angles, check_choice, check_model, check_real, check_unit_rows, check_weights,
                        reduce_large_angles)

__all__ = [
    "attention",
    "velocity",
    "velocity_circle",
    "fourier_cutoff",
    "energy",
    "energy_circle",
]


def attention(X, beta, model=DEFAULT_MODEL, weights=None, A=None, V=None, causal=False):
    """The output of one attention layer at tokens on S^{d-1} (default Q = K = V = I).

    SA: A_i = Σ_j softmax_j(β<x_i,x_j>) x_j (a convex combination of the tokens);
    USA: A_i = Σ_j w_j e^{β<x_i,x_j>} x_j. The velocity of the token flow is the tangent
    part P_{x_i} A_i (see :func:`velocity`); normalisation schemes also use the radial part
    <x_i, A_i> and the norm |A_i|. With matrices A = QᵀK and V, the weights are
    e^{β<x_i, A x_j>} and the values V x_j; ``causal`` restricts the sums to j <= i (row
    order). Then the exponents are shifted by each row's maximum (no overflow for SA).

    Parameters
    ----------
    X : array_like, shape (n, d)
        Unit rows, n >= 1, d >= 2.
    beta : float
        Inverse temperature β (any finite value).
    model : {"usa", "sa"}
        Default ``"usa"`` (mtlib's default model).
    weights : array_like, shape (n,), optional
        Non-negative token masses summing to 1 (default 1/n each).
    A, V : array_like, shape (d, d), optional
        Real finite matrices: query-key product QᵀK and values (default: the identity).
    causal : bool
        Sum over j <= i only (default False).

    Returns
    -------
    ndarray, shape (n, d)

    References
    ----------
    Vaswani et al., "Attention is all you need" (2017); Geshkovski et al. (2023), Section 2.
    """
    X = check_unit_rows(X, "X")
    beta = check_real(beta, "beta")
    sa = check_model(model) == "sa"
    att = _ae.parse_attention(A, V, causal, X.shape[1])
    w = check_weights(weights, X.shape[0])
    if att is None:
        return attention_average(X, w, beta, sa)
    return _ae.attention_output(X, w, beta, sa, att)


def velocity(X, beta, model=DEFAULT_MODEL, weights=None, method="auto", A=None, V=None, causal=False):
    """The SA or USA velocity field at tokens on S^{d-1}, by the direct sum or, on S², harmonics.

    USA: v_i = P_{x_i} Σ_j w_j e^{β<x_i,x_j>} x_j; SA divides by Σ_j w_j e^{β<x_i,x_j>}.
    ``"direct"`` (O(N² d)) computes it pair by pair as e^{s_i} Σ_{j≠i} w_j
    e^{β<x_i,x_j> - s_i} P_{x_i} x_j, with P_{x_i} x_j = x_j - <x_i,x_j> x_i and identical
    tokens merged (see the module notes): each row is accurate to rounding of its own
    terms (relative error ~ eps (1 + |β|) against Σ_{j≠i} w_j e^{β<x_i,x_j>}) at any β,
    and coinciding tokens have the field 0. ``"harmonic"`` (d = 3 only, O(N L²)) uses
    Φ(x) = Σ_j w_j e^{β<x,x_j>} = 4π Σ_{l<=L} i_l(β) Σ_m Q_lm Y_lm(x) with the moments
    Q_lm = Σ_j w_j Y_lm(x_j) (real harmonics, the tail beyond L below 1e-16 relative):
    USA v_i = (1/β) ∇_S Φ(x_i) (the self term has no tangential gradient), SA divides by
    Φ(x_i); rows whose rounding error estimate exceeds 1e-13 of their own scale
    Σ_{j≠i} w_j e^{β<x_i,x_j>} (isolated tokens at large |β|) are recomputed by the direct
    sum, so both methods meet the same error model (measured: within 2e-14 of that scale).
    SA is stable for every β; USA raises ``ValueError`` if the result overflows float64
    (|β| beyond ~700 with nearby tokens).

    General attention: with A = QᵀK and V, USA v_i = P_{x_i} Σ_{j∈J_i} w_j e^{β<x_i,Ax_j>}
    V x_j and SA divides by Σ_{j∈J_i} w_j e^{β<x_i,Ax_j>}, J_i = all j, or j <= i (row
    order) when ``causal`` (token 0 then attends only to itself). A = V = I gives the field
    above. Direct sum only (O(N² d)): each row's exponents are shifted by their maximum
    over the terms that enter, and the self term w_i e^{β<x_i,Ax_i>} P_{x_i} V x_i (not 0
    for a general V) is added apart from the projected sum of the other tokens, so each row
    is accurate to rounding of its own terms at any β. Defaults (None, None, False) run
    the code above unchanged (so do A = I, V = I passed explicitly).

    Parameters
    ----------
    X : array_like, shape (n, d)
        Unit rows (|x_i| = 1 within 1e-8), n >= 1, d >= 2.
    beta : float
        Inverse temperature β (any finite value; β < 0 repels).
    model : {"usa", "sa"}
    weights : array_like, shape (n,), optional
        Non-negative token masses summing to 1 (default 1/n each).
    method : {"auto", "direct", "harmonic"}
        ``"auto"`` uses the harmonics when d = 3, |β| <= 1000 and N >= 0.5 (L + 1)²
        (the measured crossover: N >= 338 at β = 5, L = 25), the direct sum otherwise;
        ``"harmonic"`` needs d = 3 and |β| <= 1e4 (``ValueError`` otherwise) and the
        default A, V, causal.
    A, V : array_like, shape (d, d), optional
        Real finite matrices: query-key product QᵀK and values (default: the identity).
    causal : bool
        Causal mask: token i attends to j <= i only (default False).

    Returns
    -------
    ndarray, shape (n, d)
        Tangent vectors v_i (<v_i, x_i> = 0).

    References
    ----------
    Geshkovski et al., "A mathematical perspective on transformers" (2023), Eqs. (SA), (USA);
    Abramowitz & Stegun 10.2.36 for the expansion of e^{β cos γ}.
    """
    X = check_unit_rows(X, "X")
    beta = check_real(beta, "beta")
    sa = check_model(model) == "sa"
    method = check_choice(method, "method", SPHERE_METHODS)
    w = check_weights(weights, X.shape[0])
    att = _ae.parse_attention(A, V, causal, X.shape[1])
    if att is None:
        return sphere_field(X, w, beta, sa, method)
    _ae.sphere_method(method)
    return _ae.sphere_velocity(X, w, beta, sa, att)


def fourier_cutoff(beta):
    """Number of Fourier modes M used by the exact circle velocity at inverse temperature β.

    e^{β cos φ} sin φ = Σ_{m>=1} a_m sin(mφ), a_m = 2m I_m(β)/β, and
    e^{β cos φ} = I_0(β) + 2 Σ_{m>=1} I_m(β) cos(mφ): M is the smallest cut-off whose
    dropped tails are below 1e-16 of the coefficient sums (M ≈ 30 at β = 5; it grows like
    sqrt(75 |β|) for large |β|, M ≈ 8700 at |β| = 1e6).

    Parameters
    ----------
    beta : float
        Inverse temperature β, |β| <= 1e6 (``ValueError`` beyond: use the direct sum).

    Returns
    -------
    int
        The cut-off M.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025); Abramowitz & Stegun 9.6.34 for the expansion.
    """
    return fourier_coefficients(check_real(beta, "beta"))[2]


def velocity_circle(theta, beta, model=DEFAULT_MODEL, method="auto", weights=None, A=None, V=None, causal=False):
    """The SA or USA velocity of tokens on the circle, in angles.

    USA: dθ_i/dt = Σ_j w_j e^{β cos(θ_j-θ_i)} sin(θ_j-θ_i); SA divides by
    Σ_j w_j e^{β cos(θ_j-θ_i)}. With Z_m = Σ_j w_j e^{imθ_j} and a_m = 2m I_m(β)/β,

        USA:  v_i = Σ_{m=1}^{M} a_m Im(Z_m e^{-imθ_i}),
        SA:   v_i = that / (I_0(β) + 2 Σ_{m=1}^{M} I_m(β) Re(Z_m e^{-imθ_i})),

    exact up to the dropped tail (< 1e-16 relative, see :func:`fourier_cutoff`).
    Accuracy: ``"direct"`` is exact to rounding in each row (max-shifted exponents over
    j ≠ i, the pairs projected one by one as in :func:`velocity`);
    ``"fourier"`` has an absolute error of a few ulp of the field scale
    e^{|β|} Σ|a_m| e^{-|β|} (USA), and for SA recomputes by the direct sum every row whose
    denominator is too small for 1e-13 accuracy.

    General attention (2×2 A = QᵀK, V, ``causal``): the field of :func:`velocity` at the
    points (cos θ_i, sin θ_i), dθ_i/dt = <v_i, (-sin θ_i, cos θ_i)>. For scaled rotations
    A = s R_φ, V = c R_ψ (no mask) the kernel c e^{βs cos(γ+φ)} sin(γ+ψ), γ = θ_j - θ_i,
    is still a convolution and has exact modes at b = βs, Δ = ψ - φ:
    c [cos Δ Σ_m a_m sin m(γ+φ) + sin Δ (I_1(b) + Σ_m (I_{m-1}(b) + I_{m+1}(b)) cos m(γ+φ))]
    (``"fourier"``, with the cut-off of :func:`fourier_cutoff` at b and the SA rule
    above); other A, V and causal masks use the direct sum.

    Parameters
    ----------
    theta : array_like, shape (n,)
        Angles (radians, any finite values).
    beta : float
        Inverse temperature β (any finite value; β < 0 repels).
    model : {"usa", "sa"}
    method : {"auto", "fourier", "direct"}
        ``"fourier"`` costs O(N·M) and needs |β| <= 1e6, ``"direct"`` O(N²); ``"auto"``
        uses Fourier when |β| <= 50 and 2 M <= N, the direct sum otherwise (for scaled
        rotations: the same rule at βs; ``"fourier"`` needs scaled rotations, no mask).
    weights : array_like, shape (n,), optional
        Non-negative token masses summing to 1 (default 1/n each).
    A, V : array_like, shape (2, 2), optional
        Real finite matrices: query-key product QᵀK and values (default: the identity).
    causal : bool
        Causal mask: token i attends to j <= i only (default False).

    Returns
    -------
    ndarray, shape (n,)
        dθ_i/dt.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025); Geshkovski et al. (2023) for the model.
    """
    theta = reduce_large_angles(check_angles(theta))
    beta = check_real(beta, "beta")
    sa = check_model(model) == "sa"
    method = check_choice(method, "method", ("auto", "fourier", "direct"))
    w = check_weights(weights, theta.size)
    att = _ae.parse_attention(A, V, causal, 2)
    if att is None:
        return circle_velocity(theta, w, beta, sa, circle_method(method, theta.size, beta))
    return _ae.circle_velocity(theta, w, beta, sa, att, _ae.circle_attention_method(method, theta.size, beta, att))


def _finish_energy(log_sum, beta, log):
    """E_β (or log E_β) from log Σ_{i,j} w_i w_j e^{β<x_i,x_j>}."""
    if log:
        return log_sum - math.log(2.0) - math.log(beta)
    value = math.exp(log_sum) / (2.0 * beta) if log_sum < 709.0 else math.inf
    if not math.isfinite(value):
        raise ValueError(f"the energy overflows float64 at beta = {beta}; pass log=True for log E_beta")
    return value


def _check_energy_beta(beta, log):
    """β for the energy: finite and nonzero (positive when log=True)."""
    beta = check_real(beta, "beta")
    if beta == 0.0:
        raise ValueError(
            "beta must be nonzero: E_beta = (1/(2 beta)) sum_ij w_i w_j e^(beta<x_i,x_j>) is "
            "singular at beta = 0 (E_beta - 1/(2 beta) tends to |sum_i w_i x_i|^2 / 2)"
        )
    if log and beta < 0:
        raise ValueError(f"log=True needs beta > 0 (E_beta < 0 for beta < 0), got {beta}")
    return beta


def energy(X, beta, weights=None, log=False, method="auto"):
    """The USA interaction energy of tokens on S^{d-1}.

    E_β = (1/(2β)) Σ_{i,j} w_i w_j e^{β<x_i,x_j>}  (w_i = 1/N: (1/(2βN²)) Σ e^{β<x_i,x_j>}),
    which USA trajectories never decrease (they are its gradient ascent; with general
    attention matrices A, V the flow is no gradient flow, and there is no such energy). Singular at
    β = 0, where a ``ValueError`` is raised. For large β, pass ``log=True`` to get
    log E_β (computed with e^{β} factored out, no overflow); without it an overflowing
    value raises ``ValueError``. On S² the harmonic method uses the moments of
    :func:`velocity`: Σ_{i,j} w_i w_j e^{β<x_i,x_j>} = 4π Σ_l i_l(β) Σ_m Q_lm², O(N L²),
    non-negative terms for β > 0; for β < 0 the sum alternates and falls back to the
    direct sum where its error estimate exceeds 1e-13 of the value.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Unit rows.
    beta : float, nonzero
        Inverse temperature β (β > 0 when log=True).
    weights : array_like, shape (n,), optional
        Non-negative token masses summing to 1 (default 1/n each).
    log : bool
        Return log E_β instead of E_β.
    method : {"auto", "direct", "harmonic"}
        As in :func:`velocity` (``"harmonic"`` needs d = 3).

    Returns
    -------
    float

    References
    ----------
    Geshkovski et al., "A mathematical perspective on transformers" (2023), Section 3.
    """
    X = check_unit_rows(X, "X")
    beta = _check_energy_beta(beta, log)
    method = check_choice(method, "method", SPHERE_METHODS)
    w = check_weights(weights, X.shape[0])
    if resolve_sphere_method(method, X.shape[0], X.shape[1], beta) == "harmonic":
        log_sum = harmonic_energy(X, w, beta)
        if log_sum is not None:
            return _finish_energy(log_sum, beta, log)
    return _sphere_energy(np.ascontiguousarray(X.T), w, beta, log)


def _sphere_energy(XT, w, beta, log):
    """Energy from tokens XT (d, n) via the shifted row sums."""
    _, den, shift = pairwise(XT, w, beta, exclude_self=False)
    terms = w * den
    top = shift.max()
    return _finish_energy(top + math.log(np.sum(terms * np.exp(shift - top))), beta, log)


def energy_circle(theta, beta, weights=None, log=False):
    """The USA interaction energy of tokens on the circle, in angles.

    E_β = (1/(2β)) Σ_{i,j} w_i w_j e^{β cos(θ_i-θ_j)}
        = (1/(2β)) (I_0(β) Z_0² + 2 Σ_{m>=1} I_m(β) |Z_m|²),  Z_m = Σ_j w_j e^{imθ_j},

    a sum of non-negative terms for β > 0 (O(N·M), used when M is small against N);
    otherwise the direct O(N²) sum. Singular at β = 0 (``ValueError``); ``log=True``
    returns log E_β without overflow.

    Parameters
    ----------
    theta : array_like, shape (n,)
        Angles (radians).
    beta : float, nonzero
        Inverse temperature β (β > 0 when log=True).
    weights : array_like, shape (n,), optional
        Non-negative token masses summing to 1 (default 1/n each).
    log : bool
        Return log E_β instead of E_β.

    Returns
    -------
    float

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025).
    """
    theta = reduce_large_angles(check_angles(theta))
    beta = _check_energy_beta(beta, log)
    w = check_weights(weights, theta.size)
    if beta > 0 and circle_method("auto", theta.size, beta) == "fourier":
        _, b, M = fourier_coefficients(beta)
        Z = np.empty((2, M + 1))
        with threads_for(0.5 * FOURIER_FLOPS * theta.size * M):  # the moments pass only
            _kc.fourier_moments(theta, w, M, Z)
        total = b[0] * Z[0, 0] ** 2 + 2.0 * np.sum(b[1:] * (Z[0, 1:] ** 2 + Z[1, 1:] ** 2))
        return _finish_energy(beta + math.log(total), beta, log)
    return _sphere_energy(circle_points(theta), w, beta, log)
