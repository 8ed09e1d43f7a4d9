"""Quantile representations of measures on the circle, shared by the wasserstein modules.

Private helpers: plain arrays in and out, no validation. The circle has length 1 here
(positions in turns); the public functions convert from and to radians.
"""

import numpy as np

from .._constants import TWO_PI
from .._validate import check_real, reduce_large_angles

# Largest order p: beyond it W_p is within 1e-5 of W_∞, and the power series of the
# kernels (coefficients up to p^6) would overflow.
MAX_P = 1e6


def check_p(p):
    """The order p of a Wasserstein distance, 1 <= p <= 1e6, as a float."""
    return check_real(p, "p", low=1.0, high=MAX_P)


def unit_turns(theta):
    """Angles in radians -> positions in [0, 1) on the circle of length 1 (huge angles reduced exactly)."""
    x = reduce_large_angles(theta) / TWO_PI
    x = x - np.floor(x)
    x[x >= 1.0] = 0.0
    return x


def levels(w_sorted, axis=-1):
    """Cumulative levels [0, w1, w1 + w2, ..., 1] along ``axis`` (last level exactly 1)."""
    A = np.cumsum(w_sorted, axis=axis)
    A = np.minimum(A, 1.0)
    zero = np.zeros(A.shape[:-1] + (1,))
    A = np.concatenate([zero, A], axis=-1)
    A[..., -1] = 1.0
    return np.ascontiguousarray(A)


def discrete(theta, weights):
    """Sorted positions in [0, 1) and cumulative levels of a weighted sample of angles."""
    x = unit_turns(theta)
    n = x.shape[0]
    if weights is None:
        return np.sort(x), np.arange(n + 1, dtype=np.float64) / n
    order = np.argsort(x, kind="stable")
    return np.ascontiguousarray(x[order]), levels(weights[order])


def root(wpp, p, scale=1.0):
    """W_p on the circle of length 2π from W_p^p = scale^p * wpp on the circle of length 1."""
    return TWO_PI * max(float(wpp), 0.0) ** (1.0 / p) * scale
