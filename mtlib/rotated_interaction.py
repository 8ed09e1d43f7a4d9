"""Linear theory of the rotated interaction on the circle: complex mode rates, k_max, rotation.

Tokens θ_i on the circle attend with the weights ``e^{β<x_i, R_φ x_j>} = e^{β cos(θ_i - θ_j - φ)}``
(A = QᵀK = R_φ, the rotation by φ, a scale s absorbed in β; values V = I), so

    dθ_i/dt = Σ_j e^{β cos(θ_i - θ_j - φ)} sin(θ_j - θ_i) / n      (USA; SA divides by Σ_j e^{...}).

The interaction is still a convolution, so around the uniform density each Fourier mode
``c_k = ∫ρ e^{-ikθ} dθ`` evolves alone, ``c_k(t) = c_k(0) e^{λ_k t}``, with a complex rate:
the real part is the growth, the imaginary part a rigid rotation of the pattern. With
``I_n = I_n(β)``:

    USA:  λ_k = i k I_1 sin φ + (k/2) [e^{-i(k-1)φ} I_{k-1} - e^{-i(k+1)φ} I_{k+1}]
    SA:   λ_k = { i k I_1 sin φ (1 - e^{-ikφ} I_k/I_0)
                  + (k/2) [e^{-i(k-1)φ} I_{k-1} - e^{-i(k+1)φ} I_{k+1}] } / I_0

Derivation: the velocity is ``V(θ) = ∫K_φ(θ'-θ)ρ(θ')dθ'``, ``K_φ(ψ) = e^{β cos(ψ+φ)} sin ψ``,
whose Fourier transform is ``∫K_φ(ψ)e^{ikψ}dψ = 2π e^{-ikφ}[i cos φ · k I_k/β - sin φ · I_k'(β)]``
(expand ``sin ψ = sin(ψ+φ)cos φ - cos(ψ+φ)sin φ``); the uniform density moves rigidly at
``V_0 = -I_1 sin φ`` (SA: ``-I_1 sin φ/I_0``), which gives the term ``i k I_1 sin φ``;
``k² I_k/β = (k/2)(I_{k-1} - I_{k+1})`` and ``I_k' = (I_{k-1} + I_{k+1})/2`` give the
forms above. SA linearises ``N/D`` around ``N_0 = V_0^{USA}``, ``D_0 = I_0``: the
first variation of the denominator, ``D_1 = Σ_k e^{-ikφ} I_k c_k e^{ikθ}``, is what the
term ``-e^{-ikφ} I_k/I_0`` carries. At φ = 0 both reduce to :func:`mtlib.growth_rate`.

Facts used in the tests: ``λ_k(β, -φ) = conj λ_k(β, φ)``; 2π-periodic in φ;
``λ_k(β, φ + π) = λ_k(-β, φ)`` (R_{φ+π} = -R_φ), hence ``λ_k(β, π) = growth_rate(k, -β)``
(odd modes grow, even ones decay); at β = 0 the weights are 1 and λ_k does not depend on φ.

Reference: G. Bruno, F. Pasqualotto, A. Agazzi, *Emergence of meta-stable clustering in
mean-field transformer models* (arXiv:2410.23228), Section 4.1 (the case φ = 0), and
their open question on general query/key matrices.
"""

import math

import numpy as np

from ._bessel import log_bessel_i
from ._constants import DEFAULT_MODEL, TWO_PI, USA_MAX_BETA
from ._validate import check_degrees, check_memory, check_model
from .spectral import growth_rate, kmax

__all__ = ["mode_rate_circle", "kmax_rotated", "pattern_angular_velocity"]

LOG2 = math.log(2.0)
# kmax_rotated compares the degrees k <= KMAX_SPAN sqrt(2|β| + 1) + KMAX_PAD: beyond, I_k/I_1 <
# e^{-k²/(2|β|)} ~ e^{-64} and every |λ_k| is below 1e-25 |λ_1|.
KMAX_SPAN = 8.0
KMAX_PAD = 16
# SA beyond this |β|: the rotation parts of Re λ_k are O(k²/β²) differences of numbers near 1
# (relative accuracy ~ β² 1e-16 / k², 1e-6 here), so larger |β| is refused.
SA_MAX_BETA = 1e5


def _check_reals(value, name):
    """A finite real number or array as a float64 ndarray and a scalar flag (TypeError/ValueError naming it)."""
    arr = np.asarray(value)
    if arr.dtype == bool or arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a real number or an array of real numbers, got {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {arr[~np.isfinite(arr)].flat[0]}")
    return arr, arr.ndim == 0


def _check_betas(beta, model):
    """β as a float64 array: |β| <= 700 for USA (e^β in float64), <= 1e5 for SA (SA_MAX_BETA)."""
    beta, scalar = _check_reals(beta, "beta")
    limit = USA_MAX_BETA if model == "usa" else SA_MAX_BETA
    if beta.size and np.max(np.abs(beta)) > limit:
        why = "the USA rates carry e^|beta|, which overflows float64 beyond; use model='sa'" if model == "usa" \
            else "the rotation terms, O(1/beta^2) differences of numbers near 1, lose their digits beyond"
        raise ValueError(f"beta must satisfy |beta| <= {limit:g} ({why}), got {np.max(np.abs(beta)):g}")
    return beta, scalar


def _reduce(phi):
    """φ reduced to [-π, π] (values already there untouched, so small angles keep their digits)."""
    return np.where(np.abs(phi) <= math.pi, phi, phi - TWO_PI * np.round(phi / TWO_PI))


def _rates(k, beta, phi, model):
    """λ_k(β, φ) for one β and arrays k (int64 >= 0), φ (reduced), from scaled Bessel logarithms.

    USA: ``i k I_1 s + e^{-i(k-1)φ}(γ_k c² + k I_k' s² + i k I_{k+1} s c)`` (c, s = cos φ,
    sin φ), the bracket of the module docstring regrouped with ``k I_k' - γ_k = k I_{k+1}``:
    no cancellation at small β or small φ, and exactly γ_k at φ = 0. SA: the ratios
    ``r_n = I_n/I_0`` and ``i k r_1 s + e^{-i(k-1)φ}(γ_k c² + k s²(I_k'/I_0 - r_1 r_k)
    + i k s c (r_{k+1} - r_1 r_k))``.
    """
    gamma = growth_rate(k, beta, 2, model)
    if beta == 0.0:  # all weights are 1: the rates of growth_rate, whatever φ
        return gamma.astype(np.complex128)
    b = abs(beta)
    cos, sin = np.cos(phi), np.sin(phi)
    rot = np.exp(-1j * ((k - 1) * phi))
    kf = k.astype(np.float64)
    odd = (k % 2 == 1) & (beta < 0)  # I_n(β) = (-1)^n I_n(|β|)
    sign1 = -1.0 if beta < 0 else 1.0
    sign_up = np.where(odd, 1.0, sign1)  # I_{k±1}(β) carries (-1)^{k+1}
    log_i1 = float(log_bessel_i(1.0, b, scaled=True))
    log_up = log_bessel_i(kf + 1.0, b, True)
    with np.errstate(divide="ignore"):
        log_deriv = np.logaddexp(log_bessel_i(np.abs(kf - 1.0), b, True), log_up) - LOG2  # I_k' = (I_{k-1}+I_{k+1})/2
    if model == "usa":
        drift = sign1 * math.exp(log_i1 + b)
        deriv, up = sign_up * np.exp(log_deriv + b), sign_up * np.exp(log_up + b)
        inner = gamma * (cos * cos) + kf * deriv * (sin * sin) + 1j * (kf * up * (sin * cos))
    else:
        log_i0 = float(log_bessel_i(0.0, b, scaled=True))
        drift = sign1 * math.exp(log_i1 - log_i0)
        rk = np.where(odd, -1.0, 1.0) * np.exp(log_bessel_i(kf, b, True) - log_i0)
        deriv, up = sign_up * np.exp(log_deriv - log_i0), sign_up * np.exp(log_up - log_i0)
        inner = (gamma * (cos * cos) + kf * (deriv - drift * rk) * (sin * sin)
                 + 1j * (kf * (up - drift * rk) * (sin * cos)))
    out = 1j * (kf * sin * drift) + rot * inner
    return np.where(k == 0, 0.0j, out)


def mode_rate_circle(k, beta, phi=0.0, model=DEFAULT_MODEL):
    """Complex rate λ_k(β, φ) of the density mode k around the uniform state, rotated interaction on the circle.

    .. math::

        λ_k^{USA} = i k I_1 \\sin φ + \\tfrac{k}{2}\\big[e^{-i(k-1)φ} I_{k-1}
                    - e^{-i(k+1)φ} I_{k+1}\\big],

        λ_k^{SA} = \\Big(i k I_1 \\sin φ \\big(1 - e^{-ikφ}\\tfrac{I_k}{I_0}\\big)
                    + \\tfrac{k}{2}\\big[e^{-i(k-1)φ} I_{k-1} - e^{-i(k+1)φ} I_{k+1}\\big]\\Big)
                    \\Big/ I_0,

    with ``I_n = I_n(β)``, for the weights ``e^{β cos(θ_i - θ_j - φ)}`` (A = R_φ, V = I;
    module docstring for the derivation). A small mode ``c_k = ∫ρe^{-ikθ}dθ`` evolves as
    ``c_k(t) = c_k(0) e^{λ_k t}``: ``Re λ_k`` is its growth rate, and the pattern
    ``cos(k(θ - ωt))`` turns at ``ω = -Im λ_k / k`` (:func:`pattern_angular_velocity`),
    which includes the rigid drift ``-I_1 sin φ`` (SA ``-I_1 sin φ/I_0``) of the uniform
    state. Time units of :func:`mtlib.simulate`. At φ = 0 it is
    ``growth_rate(k, beta, 2, model)`` exactly (as a complex with zero imaginary part);
    at β = 0 the weights are 1 and the rates are those of :func:`mtlib.growth_rate` for
    every φ.

    Computed as ``i k I_1 sin φ + e^{-i(k-1)φ}(γ_k cos²φ + k I_k'(β) sin²φ + i k I_{k+1}
    sin φ cos φ)`` (USA; SA likewise with the ratios I_n/I_0, see ``_rates``), from
    logarithms of scaled Bessel functions (``scipy.special.ive``, the power series for
    small β): each term is accurate to rounding for β from 1e-8 to the limit, with no
    cancellation as β → 0 or φ → 0; Re and Im are then accurate relative to the terms
    they sum (less only near their zero crossings). SA at large β: the factors
    ``I_k'/I_0 - r_1 r_k`` (O(k²/β²)) and ``r_{k+1} - r_1 r_k`` (O(k/β)) are differences
    of numbers near 1, relative accuracy about ``β² 1e-16/k²`` (1e-11 at β = 300, k = 1;
    SA is refused beyond |β| = 1e5, where it would pass 1e-6).

    Parameters
    ----------
    k : int or array of int, >= 0
        Fourier mode(s); λ_0 = 0 (mass).
    beta : float or array_like
        Inverse temperature (the scale s of A = sR_φ included), finite; |β| <= 700 for USA
        (e^|β| in float64), <= 1e5 for SA (see above). β < 0 is allowed:
        ``λ_k(-β, φ) = λ_k(β, φ + π)``.
    phi : float or array_like
        Rotation angle φ in radians, finite (any real; 2π-periodic).
    model : {"usa", "sa"}

    Returns
    -------
    complex or ndarray of complex
        λ_k with the broadcast shape of ``k``, ``beta`` and ``phi`` (a Python complex when
        all three are scalars).

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025, arXiv:2410.23228), Section 4.1 (φ = 0).
    """
    model = check_model(model)
    k, k_scalar = check_degrees(k)
    beta, b_scalar = _check_betas(beta, model)
    phi, p_scalar = _check_reals(phi, "phi")
    shape = np.broadcast_shapes(k.shape, beta.shape, phi.shape)
    check_memory(64 * math.prod(shape), f"rates of shape {shape}")
    k, beta, phi = (np.broadcast_to(a, shape).ravel() for a in (k, beta, phi))
    phi = _reduce(phi)
    out = np.empty(k.size, dtype=np.complex128)
    for b in np.unique(beta):
        sel = beta == b
        out[sel] = _rates(k[sel], float(b), phi[sel], model)
    out = out.reshape(shape)
    return complex(out) if (k_scalar and b_scalar and p_scalar) else out


def _kmax_one_beta(beta, phi, model):
    """argmax_{k>=1} Re λ_k(β, φ) for one β and an array of reduced angles φ (ints, same shape)."""
    if beta == 0.0:
        return np.full(phi.shape, kmax(beta, 2, model), dtype=np.int64)
    top = int(KMAX_SPAN * math.sqrt(2.0 * abs(beta) + 1.0)) + KMAX_PAD
    k = np.arange(1, top + 1)[:, None]
    growth = _rates(k, beta, phi[None, :], model).real
    out = k[np.argmax(growth, axis=0), 0]
    return np.where(phi == 0.0, kmax(beta, 2, model), out)


def kmax_rotated(beta, phi=0.0, model=DEFAULT_MODEL):
    """The fastest-growing mode ``k_max(β, φ) = argmax_{k>=1} Re λ_k(β, φ)`` of the rotated interaction.

    .. math:: k_{max}(β, φ) = \\operatorname{argmax}_{k \\ge 1} \\operatorname{Re} λ_k(β, φ)

    with λ_k from :func:`mode_rate_circle`. Some mode always grows, so k_max >= 1: the mode
    1 has ``Re λ_1 = γ_1 cos²φ + I_1'(|β|) sin²φ > 0`` (USA) and
    ``γ_1 cos²φ + (I_1/I_0)'(|β|) sin²φ > 0`` (SA, I_1/I_0 increases) for every φ and
    β ≠ 0 (β < 0: ``λ_k(β, φ) = λ_k(-β, φ + π)``). At φ = 0 (or β = 0) it is
    :func:`mtlib.kmax` (``kmax(beta, 2, model)``, the same tie rule at switch points).
    Otherwise the degrees ``k <= 8 sqrt(2|β| + 1) + 16`` are compared (beyond, every
    |λ_k| is below 1e-25 |λ_1|); the smaller degree wins a tie. Unlike φ = 0, SA and USA
    can differ (their rotation terms are not proportional).

    Parameters
    ----------
    beta : float or array_like
        Inverse temperature, finite; |β| <= 700 for USA, <= 1e5 for SA.
    phi : float or array_like
        Rotation angle in radians, finite.
    model : {"usa", "sa"}

    Returns
    -------
    int or ndarray of int
        k_max >= 1 with the broadcast shape of ``beta`` and ``phi`` (an int for scalars).

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025, arXiv:2410.23228), Section 4 (φ = 0).
    """
    model = check_model(model)
    beta, b_scalar = _check_betas(beta, model)
    phi, p_scalar = _check_reals(phi, "phi")
    shape = np.broadcast_shapes(beta.shape, phi.shape)
    b_flat, p_flat = (np.broadcast_to(a, shape).ravel() for a in (beta, phi))
    p_flat = _reduce(p_flat)
    out = np.empty(b_flat.size, dtype=np.int64)
    for b in np.unique(b_flat):
        sel = b_flat == b
        out[sel] = _kmax_one_beta(float(b), p_flat[sel], model)
    out = out.reshape(shape)
    return int(out) if (b_scalar and p_scalar) else out


def pattern_angular_velocity(k, beta, phi=0.0, model=DEFAULT_MODEL):
    """Angular velocity ω_k of the linear pattern of mode k: ``ω_k = -Im λ_k(β, φ) / k``.

    .. math:: \\operatorname{Re}\\big(c_k(0) e^{λ_k t} e^{ikθ}\\big)
              = |c_k(0)| e^{\\operatorname{Re}λ_k t} \\cos\\big(k(θ - ω_k t) + \\arg c_k(0)\\big)

    Sign convention: ω_k > 0 means the pattern (its peaks) turns counter-clockwise, in the
    direction of increasing θ, at ω_k radians per unit time of :func:`mtlib.simulate`.
    It includes the rigid drift of the uniform state, ``-I_1(β) sin φ`` (USA) or
    ``-I_1 sin φ / I_0`` (SA), which every mode shares, plus the mode's own rotation.
    0 at φ = 0 and β = 0 (to rounding at φ = π: mirror symmetry).

    Parameters
    ----------
    k : int or array of int, >= 1
        Fourier mode(s) (k = 0 has no pattern).
    beta, phi, model
        As in :func:`mode_rate_circle`.

    Returns
    -------
    float or ndarray
        ω_k, radians per unit time, with the broadcast shape of the inputs.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025, arXiv:2410.23228), Section 4.1 (φ = 0).
    """
    kk, _ = check_degrees(k)
    if np.any(kk < 1):
        raise ValueError(f"k must be >= 1 (the mode 0 has no pattern), got min {kk.min()}")
    lam = mode_rate_circle(k, beta, phi, model)
    omega = -(np.imag(lam) / kk) + 0.0  # + 0.0: no -0.0 where Im λ = 0
    return float(omega) if np.ndim(omega) == 0 else omega
