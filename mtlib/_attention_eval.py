"""Unvalidated SA/USA fields with general query/key and value matrices A = QᵀK, V, and causal masking.

The model: weights e^{β<x_i, A x_j>}, values V x_j,

    USA: v_i = P_{x_i} Σ_{j∈J_i} w_j e^{β<x_i,Ax_j>} V x_j,   SA: the same divided by
    Σ_{j∈J_i} w_j e^{β<x_i,Ax_j>},

with J_i = all tokens, or j <= i (row order) when causal (token 0 attends only to
itself). A = V = I is the field of :mod:`._field_eval` (the same convention: weights
w_j, 1/n by default, and no factor of β), and the callers route that case to it. With a
general V the self term P_{x_i} V x_i is not 0 and is kept. Every row is shifted by the
maximum exponent over its terms (:mod:`._kernels_attention`): SA never overflows, USA
raises ``ValueError`` when e^{s_i} times the shifted sum overflows float64.

On the circle, A = s R_φ and V = c R_ψ (scaled rotations) keep the interaction a
convolution: with γ = θ_j - θ_i, b = βs, Δ = ψ - φ,

    k(γ) = c e^{b cos(γ+φ)} sin(γ+ψ)
         = c [cos Δ Σ_{m>=1} a_m sin m(γ+φ) + sin Δ (I_1(b) + Σ_{m>=1} c_m cos m(γ+φ))],
    a_m = 2m I_m(b)/b,   c_m = I_{m-1}(b) + I_{m+1}(b),

from e^{b cos u} sin u = Σ a_m sin mu and e^{b cos u} cos u = ∂_b e^{b cos u}
(A&S 9.6.34, I_m' = (I_{m-1} + I_{m+1})/2), and the SA denominator is e^{b cos(γ+φ)} =
I_0(b) + 2 Σ I_m(b) cos m(γ+φ). With Z_m = Σ_j w_j e^{imθ_j} and Z̃_m = Z_m e^{imφ},
v_i = c sin Δ I_1(b) Z_0 + Σ_m [c sin Δ c_m Re(Z̃_m e^{-imθ_i}) + c cos Δ a_m
Im(Z̃_m e^{-imθ_i})]: O(N·M) with the cut-off M of :func:`._field_eval.fourier_coefficients`
at b. References: Geshkovski, Letrouit, Polyanskiy, Rigollet (2023), arXiv:2312.10794
(the model with Q, K, V); Karagodin, Polyanskiy, Rigollet (2024), arXiv:2411.04990
(causal attention).
"""

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from . import _kernels_attention as _ka
from . import _kernels_circle as _kc
from ._field_eval import (
    SA_FOURIER_ERR,
    circle_method,
    circle_points,
    fourier_coefficients,
    pair_flops,
    rescale_usa,
    threads_for,
    usa_scaled,
)
from ._validate import check_array, check_memory


@dataclass(frozen=True)
class Attention:
    """Checked attention matrices: A, V (None: the identity) and the causal mask."""

    A: np.ndarray = None
    V: np.ndarray = None
    causal: bool = False

    @property
    def a_norm(self):
        """The spectral norm of A (1 for the identity)."""
        return 1.0 if self.A is None else float(np.linalg.norm(self.A, 2))

    @property
    def v_norm(self):
        """The spectral norm of V (1 for the identity)."""
        return 1.0 if self.V is None else float(np.linalg.norm(self.V, 2))


def _check_matrix(M, name, d):
    """M as a (d, d) float64 array, or None when it is None or the identity."""
    if M is None:
        return None
    M = check_array(M, name, ndim=2)
    if M.shape != (d, d):
        raise ValueError(f"{name} must have shape ({d}, {d}) for tokens in R^{d}, got {M.shape}")
    return None if np.array_equal(M, np.eye(d)) else M


def parse_attention(A, V, causal, d):
    """The checked :class:`Attention` for tokens in R^d, or None for A = V = I, causal=False.

    A, V: None or real finite (d, d) arrays (``TypeError``/``ValueError`` naming them);
    causal: a bool (``TypeError``).
    """
    if not isinstance(causal, (bool, np.bool_)):
        raise TypeError(f"causal must be a bool, got {type(causal).__name__}")
    A = _check_matrix(A, "A", d)
    V = _check_matrix(V, "V", d)
    if A is None and V is None and not causal:
        return None
    return Attention(A, V, bool(causal))


def _sums(X, w, beta, att, mode, usa, rows=None):
    """(out, den) of :func:`_ka.attention_rows` for the tokens X (n, d) at the given rows."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    n, d = X.shape
    Q = X if att.A is None else X @ att.A  # row i: Aᵀ x_i
    Y = X if att.V is None else X @ att.V.T  # row j: V x_j
    T = Y - np.einsum("ij,ij->i", X, Y)[:, None] * X if mode == _ka.SELF_TERM else X
    rows = np.arange(n) if rows is None else np.asarray(rows, dtype=np.int64)
    out = np.empty((rows.size, d))
    den = np.empty(rows.size)
    with threads_for(pair_flops(2 * d) * n * rows.size):
        _ka.attention_rows(X, Q, np.ascontiguousarray(Y), np.ascontiguousarray(T), w, beta, att.causal, mode,
                           usa, rows, out, den)
    return out, den


def _finish(v, den, beta, sa):
    """SA: v / den (0 for a row without weighted terms); USA (v already times e^{s_i}):
    ``ValueError`` if it overflowed."""
    if sa:
        return v / np.where(den > 0.0, den, np.inf)[:, None]
    return rescale_usa(v, 0.0, beta)  # the factor e^0 = 1 leaves v as it is; checks it is finite


def _self_free(V):
    """True when P_x V x = 0 for every unit x: V = c I (None: the identity)."""
    return V is None or np.array_equal(V, V[0, 0] * np.eye(V.shape[0]))


def sphere_velocity(X, w, beta, sa, att, rows=None):
    """The field at the rows of X (n, d) (or at the listed rows only), by the direct sum.

    For V = c I the self term is 0 exactly and tokens identical to x_i are left out of
    the sums (so a token alone, e.g. token 0 under the causal mask, has the field 0)."""
    mode = _ka.SELF_FREE if _self_free(att.V) else _ka.SELF_TERM
    v, den = _sums(X, w, beta, att, mode, not sa, rows)
    return _finish(v, den, beta, sa)


def attention_output(X, w, beta, sa, att):
    """A_i = Σ_{j∈J_i} w_j e^{β<x_i,Ax_j>} V x_j (USA), divided by Σ_{j∈J_i} w_j e^{β<x_i,Ax_j>} (SA)."""
    out, den = _sums(X, w, beta, att, _ka.OUTPUT, not sa)
    return _finish(out, den, beta, sa)


def sphere_method(method):
    """The sphere method with general A, V or causal: only the direct sum ("harmonic" refused)."""
    if method == "harmonic":
        raise ValueError(
            "method='harmonic' needs A = V = I and causal=False (the addition theorem is for e^(beta<x,y>)); "
            "use method='direct' or 'auto'"
        )
    return "direct"


def _rotation(M):
    """(s, φ) when M = s R_φ (M[0,0] = M[1,1], M[0,1] = -M[1,0]) or None (the identity), else None."""
    if M is None:
        return 1.0, 0.0
    if M[0, 0] == M[1, 1] and M[0, 1] == -M[1, 0]:
        return math.hypot(M[0, 0], M[1, 0]), math.atan2(M[1, 0], M[0, 0])
    return None


def circle_rotations(att):
    """((s, φ), (c, ψ)) when A = s R_φ, V = c R_ψ and the mask is off, else None."""
    if att.causal:
        return None
    a, v = _rotation(att.A), _rotation(att.V)
    return None if a is None or v is None else (a, v)


def circle_attention_method(method, n, beta, att):
    """"fourier" or "direct" on the circle. "auto": Fourier for scaled rotations when
    :func:`._field_eval.circle_method` picks it at b = β s; "fourier" for other A, V or a
    causal mask raises ``ValueError``."""
    rot = circle_rotations(att)
    if method == "fourier":
        if rot is None:
            raise ValueError(
                "method='fourier' needs A = s R_phi and V = c R_psi (scaled rotations: "
                "A[0,0] = A[1,1], A[0,1] = -A[1,0]) and causal=False; use method='direct' or 'auto'"
            )
        return method
    if method == "auto" and rot is not None:
        return circle_method("auto", n, beta * rot[0][0])
    return "direct"


def rotation_fourier(theta, w, beta, sa, att):
    """The circle field for A = s R_φ, V = c R_ψ from the Fourier modes (module notes); angles reduced."""
    (s, phi), (c, psi) = circle_rotations(att)
    b = beta * s
    a, i_m, M = fourier_coefficients(b)  # e^{-|b|} a_m, e^{-|b|} I_m(b)
    n = theta.size
    check_memory(16 * (M + 1) * (n // _kc.CHUNK + 1), f"the Fourier path (M = {M} modes at beta*s = {b}, n = {n})")
    ive = special.ive(np.arange(M + 2), b)
    cm = np.zeros(M + 1)
    cm[1:] = ive[: M] + ive[2: M + 2]
    Z = np.empty((2, M + 1))
    out = np.empty(n)
    den = np.empty(n if sa else 1)
    m = np.arange(M + 1)
    with threads_for(20.0 * n * M):
        _kc.fourier_moments(theta, w, M, Z)
        zr = Z[0] * np.cos(m * phi) - Z[1] * np.sin(m * phi)  # Z̃_m = Z_m e^{imφ}
        zi = Z[0] * np.sin(m * phi) + Z[1] * np.cos(m * phi)
        alpha, gamma = c * math.sin(psi - phi) * cm, c * math.cos(psi - phi) * a
        cos_coef, sin_coef = alpha * zr + gamma * zi, alpha * zi - gamma * zr
        const = np.array([c * math.sin(psi - phi) * ive[1] * Z[0, 0]])
        if not sa:
            cos_coef, sin_coef, const = (usa_scaled(x, b) for x in (cos_coef, sin_coef, const))
        _kc.fourier_evaluate(theta, cos_coef, sin_coef, 2.0 * i_m * zr, 2.0 * i_m * zi, i_m[0] * Z[0, 0], sa, out, den)
    if not sa:
        return out + const[0]
    out = out + const[0] / den
    # as in _field_eval.fourier_velocity: rows whose denominator is too small for the
    # absolute error ~ eps Σ|coefficients| are recomputed by the direct sum
    scale = abs(c) * (np.abs(a).sum() + cm.sum() + abs(ive[1]))
    err = 8.0 * np.finfo(float).eps * scale / np.abs(den)
    rows = np.flatnonzero(~(err <= SA_FOURIER_ERR))
    if rows.size:
        out[rows] = direct_circle(theta, w, beta, sa, att, rows)
    return out


def direct_circle(theta, w, beta, sa, att, rows=None):
    """dθ_i/dt = <v_i, (-sin θ_i, cos θ_i)> from the direct sum at the points (cos θ, sin θ)."""
    X = np.ascontiguousarray(circle_points(theta).T)
    v = sphere_velocity(X, w, beta, sa, att, rows)
    Xr = X if rows is None else X[rows]
    return Xr[:, 0] * v[:, 1] - Xr[:, 1] * v[:, 0]


def circle_velocity(theta, w, beta, sa, att, method):
    """The circle field by a resolved method ("fourier" or "direct"), no validation."""
    if method == "fourier":
        return rotation_fourier(theta, w, beta, sa, att)
    return direct_circle(theta, w, beta, sa, att)


def field_function(circle, field_method, n, beta, sa, att):
    """f(state, w): the field of one system of n tokens (angles or unit rows) with att."""
    if circle:
        how = circle_attention_method(field_method, n, beta, att)
        return lambda state, w: circle_velocity(state, w, beta, sa, att, how)
    sphere_method(field_method)
    return lambda state, w: sphere_velocity(state, w, beta, sa, att)


def batch_velocity(Xs, W, beta, sa, att):
    """The direct-sum fields of B systems of unit rows Xs (B, n, d), weights W (B, n), in one call."""
    Xs = np.ascontiguousarray(Xs, dtype=np.float64)
    B, n, d = Xs.shape
    mode = _ka.SELF_FREE if _self_free(att.V) else _ka.SELF_TERM
    Q = Xs if att.A is None else Xs @ att.A
    Y = Xs if att.V is None else Xs @ att.V.T
    T = Y - np.einsum("bij,bij->bi", Xs, Y)[..., None] * Xs if mode == _ka.SELF_TERM else Xs
    out = np.empty((B, n, d))
    den = np.empty((B, n))
    with threads_for(pair_flops(2 * d) * B * n * n):
        _ka.attention_batch(Xs, np.ascontiguousarray(Q), np.ascontiguousarray(Y), np.ascontiguousarray(T),
                            np.ascontiguousarray(W), beta, att.causal, mode, not sa, out, den)
    if sa:
        return out / np.where(den > 0.0, den, np.inf)[..., None]
    return rescale_usa(out, 0.0, beta)


def batch_circle_velocity(Theta, W, beta, sa, att):
    """The direct-sum fields of B systems of angles Theta (B, n), in one call."""
    B, n = Theta.shape
    CS = circle_points(np.ascontiguousarray(Theta).reshape(-1))
    X = np.ascontiguousarray(CS.T).reshape(B, n, 2)
    v = batch_velocity(X, W, beta, sa, att)
    return X[..., 0] * v[..., 1] - X[..., 1] * v[..., 0]


def batch_field_function(circle, field_method, n, beta, sa, att, loop_above):
    """f(Y, W): the fields of a stack of systems of n tokens with att. The batched direct
    sum, except on the circle where the Fourier modes are chosen and n > loop_above (then
    system by system, as :func:`field_function`)."""
    one = field_function(circle, field_method, n, beta, sa, att)
    if not circle:
        return lambda Y, W: batch_velocity(Y, W, beta, sa, att)
    how = circle_attention_method(field_method, n, beta, att)
    if how == "fourier" and (field_method == "fourier" or n > loop_above):
        return lambda Y, W: np.stack([one(Y[b], W[b]) for b in range(Y.shape[0])])
    return lambda Y, W: batch_circle_velocity(Y, W, beta, sa, att)
