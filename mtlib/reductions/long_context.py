"""Long context: one SA layer with β = γ log n on n equiangular tokens, and its phase transition.

Reference: P. Rigollet, "The mean-field dynamics of transformers" (2025), arXiv:2512.01868.
"""

import numbers

import numpy as np

from .._constants import MAX_TOKENS
from .._validate import check_array

__all__ = ["long_context_correlation", "critical_gamma"]


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


def _check_lengths(n):
    """Context lengths n as a float64 array: integers in [2, MAX_TOKENS] (Python ints of any size)."""
    arr = np.asarray(n)
    if arr.dtype == object and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in arr.flat):
        if any(v > MAX_TOKENS for v in arr.flat):  # Python ints beyond int64, and beyond float64 too
            raise ValueError("n must be <= 1e300 (it enters the formula as a float64); use n=None for the limit")
        arr = arr.astype(np.float64)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise TypeError(f"n must be an integer >= 2 (or None for n -> infinity), got {n!r}")
    arr = arr.astype(np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError("n must be finite; use n=None for the limit n -> infinity")
    if not np.all(arr == np.round(arr)):
        raise TypeError(f"n must be an integer (or None), got {n!r}")
    if np.any(arr < 2):
        raise ValueError(f"n must be >= 2, got {arr.min():g}")
    if np.any(arr > MAX_TOKENS):
        raise ValueError(f"n must be <= 1e300 (it enters the formula as a float64), got {arr.max():g}; or n=None")
    return arr


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
        Context length, at most 1e300; None for the limit n → ∞. Arrays broadcast with
        rho and gamma.

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
        nn = _check_lengths(n)
        r, g, nn = np.broadcast_arrays(r.reshape(np.shape(rho)), g.reshape(np.shape(gamma)), nn)
        low = -1.0 / (nn - 1.0)
        if np.any((r < low - 1e-15) | (r > 1)):
            raise ValueError("rho must lie in [-1/(n-1), 1]")
        beta = g * np.log(nn)
        E = np.exp(-beta * (1.0 - r))
        p = 1.0 / (1.0 + (nn - 1.0) * E)
        q = E * p
        a = p - q
        common = (q * (1.0 + (nn - 1.0) * r)) * (q * nn + 2.0 * a)  # q²n(1+(n-1)ρ) + 2aq(1+(n-1)ρ), no n²
        out = (a * a * r + common) / (a * a + common)
    out = np.asarray(out, dtype=np.float64)
    return float(out.reshape(-1)[0]) if scalar else out
