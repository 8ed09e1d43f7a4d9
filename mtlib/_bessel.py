"""Logarithms of modified Bessel functions and of the growth rates γ_k, shared by :mod:`mtlib.spectral`.

Private: the helpers behind :func:`mtlib.growth_rate`, :func:`mtlib.kmax` and the noise
rates (``k(k+d-2)(λ_k - D)``). ``log I_μ(x)`` from the power series for small x and from
``scipy.special.ive`` otherwise; ``log |γ_k|`` in closed form. Unvalidated: callers check
their inputs (the two ``check_*`` helpers here do it for β and d).
Reference: Bruno, Pasqualotto, Agazzi (ICLR 2025, arXiv:2410.23228), Section 4.1; DLMF 10.25.
"""

import math

import numpy as np
from scipy import special

from ._validate import check_int, check_real

SERIES_BETA = 2.0  # below this |β| the Bessel functions are summed from their power series
SERIES_TERMS = 40  # (β²/4)^j / j! at β = 2, j = 40 is 1e-48: far below rounding
TINY_BETA = 1e-8  # below this |β| the series is its leading term: β²/4 is below rounding
LOG_TINY = math.log(np.finfo(np.float64).tiny)  # log of the smallest normal float64
LOG2 = math.log(2.0)
MAX_BETA = 1e9  # scipy.special.ive, behind every rate, returns NaN beyond |β| ≈ 2e9
KMAX_WINDOW = 10  # k_max lies within 2 of sqrt(2β + ν²) - ν (checked for d <= 1000); search ±10


# ----------------------------------------------------------------------------- helpers


def check_dimension(d):
    return check_int(d, "d", low=2)


def check_beta(beta, low=None):
    """β as a float, |β| <= MAX_BETA (the range of scipy's Bessel functions)."""
    beta = check_real(beta, "beta", low=low)
    if abs(beta) > MAX_BETA:
        raise ValueError(
            f"beta must satisfy |beta| <= {MAX_BETA:g}, got {beta:g}: the Bessel functions behind the "
            f"rates (scipy.special.ive) fail beyond |beta| ≈ 2e9; there k_max ≈ sqrt(2|beta| + ν²) - ν"
        )
    return beta


def log_bessel_i(mu, x, scaled=False):
    """log I_mu(x) (``log(I_mu(x) e^{-x})`` if ``scaled``) for x > 0, mu >= 0, arrays broadcast.

    ``log(ive(mu, x)) + x`` for x > 2; the power series ``I_mu(x) = (x/2)^mu Σ_j (x²/4)^j /
    (j! Γ(mu+j+1))`` summed in logs for x <= 2, and also where ive underflows (high orders
    mu ≫ x) while x² <= 16(mu+1) (then q = x²/(4(mu+1)) <= 4 and 40 terms reach rounding);
    only its leading term ``mu log(x/2) - log Γ(mu+1)`` for x < 1e-8, where x²/4 is below
    rounding (and underflows below 1e-154). ``-inf`` where even the scaled value underflows
    and the series does not apply.
    """
    mu, x = np.broadcast_arrays(np.asarray(mu, dtype=np.float64), np.asarray(x, dtype=np.float64))
    log_ive = np.full(mu.shape, np.inf)
    big = x > SERIES_BETA
    if np.any(big):
        with np.errstate(divide="ignore"):
            log_ive[big] = np.log(special.ive(mu[big], x[big]))
    out = log_ive.copy()
    if not scaled:
        out += x
    series = ~big | ((log_ive < LOG_TINY) & (x * x <= 16.0 * (mu + 1.0)))
    tiny = series & (x < TINY_BETA)
    if np.any(tiny):
        m, xs = mu[tiny], x[tiny]
        out[tiny] = m * (np.log(xs) - LOG2) - special.gammaln(m + 1.0) - (xs if scaled else 0.0)
    series &= ~tiny
    if np.any(series):
        m, xs = mu[series], x[series]
        j = np.arange(SERIES_TERMS)[:, None]
        terms = j * np.log(xs * xs / 4.0) - special.gammaln(j + 1.0) - special.gammaln(m + j + 1.0)
        out[series] = m * np.log(xs / 2.0) + special.logsumexp(terms, axis=0) - (xs if scaled else 0.0)
    return out


def log_abs_rate(k, beta_abs, d, model):
    """log |γ_k(β)| at β = beta_abs > 0 for degrees k (int array); -inf for k = 0."""
    nu = (d - 2) / 2.0
    kf = k.astype(np.float64)
    with np.errstate(divide="ignore"):
        log_kk = np.log(kf * (kf + d - 2))
    if beta_abs < TINY_BETA:  # leading term of the series, the same for both models
        return (log_kk + special.gammaln(nu + 1.0) - special.gammaln(kf + nu + 1.0)
                + (kf - 1.0) * math.log(beta_abs) - kf * LOG2)
    log_i = log_bessel_i(kf + nu, beta_abs)
    if model == "usa":
        return log_kk + special.gammaln(d / 2.0) + nu * math.log(2.0) - (1.0 + nu) * math.log(beta_abs) + log_i
    return log_kk - math.log(beta_abs) + log_i - log_bessel_i(nu, beta_abs)


def log_rate_profile(k, beta_abs, d):
    """log γ_k(β) up to a constant independent of k: full precision in k_max and rate ratios.

    ``log(k(k+d-2)) + log(I_{k+ν}(β) e^{-β})``: the terms that :func:`log_abs_rate` adds
    (β, log β, log Γ) are the same for every degree and would round the differences
    between degrees to the ulp of β. SA and USA share it.
    """
    nu = (d - 2) / 2.0
    kf = k.astype(np.float64)
    return np.log(kf * (kf + d - 2)) + log_bessel_i(kf + nu, beta_abs, scaled=True)


def kmax_window(beta_abs, d):
    """Degrees 1, 2, ... within KMAX_WINDOW of ``sqrt(2β + ν²) - ν`` (computed without cancellation)."""
    nu = (d - 2) / 2.0
    centre = 2.0 * beta_abs / (math.sqrt(2.0 * beta_abs + nu * nu) + nu)
    return np.arange(max(1, int(centre) - KMAX_WINDOW), int(centre) + KMAX_WINDOW + 1)


def rate_at_zero(k, d):
    """The β → 0 limit: only k = 1 grows, at (d-1)/d (the Kuramoto rate 1/2 on the circle)."""
    return np.where(k == 1, (d - 1) / d, 0.0)


def check_diffusion(diffusion):
    """The noise strength D as a finite float >= 0 (TypeError/ValueError naming ``diffusion``)."""
    return check_real(diffusion, "diffusion", low=0.0)


def log_noisy_rate(log_rate, k, d, diffusion):
    """log(k(k+d-2)(λ_k - D)) from log γ_k = log(k(k+d-2) λ_k): ``log γ_k + log1p(-D/λ_k)``.

    -inf where the rate is 0 (k = 0 or λ_k = D), NaN where it is negative.
    """
    kk = k * (k + d - 2.0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = diffusion * np.exp(np.log(kk) - log_rate)  # D/λ_k (inf where λ_k = 0)
    out = log_rate + np.log1p(-np.where(ratio < 1.0, ratio, 0.0))
    out = np.where(ratio < 1.0, out, np.where(ratio == 1.0, -np.inf, np.nan))
    return np.where(kk == 0, -np.inf, out)


def noisy_kmax(beta, d, model, diffusion, kmax_noiseless):
    """argmax_{1<=k<=kmax_noiseless} k(k+d-2)(λ_k - D) over positive rates, 0 if none (D > 0).

    The rates are compared as ``k(k+d-2)(e^{log λ_k - L} - D e^{-L})``, L = max log λ_k
    (= log λ_1), which never overflows. At β = 0 only λ_1 = 1/d is nonzero (both models).
    """
    if beta == 0.0:
        return 1 if diffusion < 1.0 / d else 0
    with np.errstate(over="ignore"):  # λ_1 exactly as mtlib.critical_diffusion computes it
        lam_1 = float(np.exp(log_abs_rate(np.asarray(1, dtype=np.int64), abs(beta), d, model))) / (d - 1)
    if diffusion >= lam_1:  # D at or above D_c: no mode grows
        return 0
    k = np.arange(1, kmax_noiseless + 1)
    kk = k * (k + d - 2.0)
    log_lam = log_abs_rate(k, abs(beta), d, model) - np.log(kk)
    if beta < 0:  # λ_k(β) = (-1)^{k+1} λ_k(|β|): even degrees never grow
        log_lam = np.where(k % 2 == 1, log_lam, -np.inf)
    top = float(np.max(log_lam))
    scaled = kk * (np.exp(log_lam - top) - diffusion * math.exp(-top))
    best = int(np.argmax(scaled))
    return int(k[best]) if scaled[best] > 0.0 else 0
