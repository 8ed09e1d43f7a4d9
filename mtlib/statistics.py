"""Statistics of repeated random runs: frequencies with exact binomial intervals.

A claim about random starts ("k_max clusters form", "the tokens synchronise") is checked
in the book as a frequency over many seeds, compared with a predicted probability through
an interval whose coverage is guaranteed, not through one chosen seed.
"""

import numpy as np
from scipy import special

from ._validate import check_real


def binomial_interval(successes, trials, level=0.99):
    """Clopper–Pearson interval for a success probability from ``successes`` of ``trials``.

    [p_lo, p_hi] with p_lo the (1-level)/2 quantile of Beta(s, n - s + 1) and p_hi the
    (1+level)/2 quantile of Beta(s + 1, n - s) (p_lo = 0 if s = 0, p_hi = 1 if s = n).
    Its coverage is at least ``level`` for every p (Clopper and Pearson, Biometrika 1934),
    so "the prediction lies in the interval" fails with probability at most 1 - level
    when the prediction is right.

    Parameters
    ----------
    successes, trials : int or array of int
        Counts, 0 <= successes <= trials, trials >= 1 (broadcast together).
    level : float
        Confidence level in (0, 1).

    Returns
    -------
    (low, high) : floats or arrays shaped like the broadcast counts.
    """
    level = check_real(level, "level", low=0.0, high=1.0, low_open=True, high_open=True)
    s, n = (np.asarray(a) for a in (successes, trials))
    for name, arr in (("successes", s), ("trials", n)):
        if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"{name} must be integers, got dtype {arr.dtype}")
    s, n = np.broadcast_arrays(s.astype(np.int64), n.astype(np.int64))
    if np.any(n < 1):
        raise ValueError(f"trials must be >= 1, got min {n.min()}")
    if np.any((s < 0) | (s > n)):
        raise ValueError("successes must lie in [0, trials]")
    alpha = 1.0 - level
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(s == 0, 0.0, special.betaincinv(s, n - s + 1, alpha / 2))
        high = np.where(s == n, 1.0, special.betaincinv(s + 1, n - s, 1 - alpha / 2))
    if low.ndim == 0:
        return float(low), float(high)
    return low, high


def frequency(outcomes, level=0.99):
    """Frequency of True in ``outcomes`` with its Clopper–Pearson interval.

    Returns ``(p_hat, low, high, n)``: the fraction of True values among the n outcomes
    (a 1-D boolean array-like) and :func:`binomial_interval` at ``level``.
    """
    arr = np.asarray(outcomes)
    if arr.ndim != 1 or arr.size == 0 or arr.dtype != bool:
        raise TypeError(f"outcomes must be a non-empty 1-D boolean array, got {arr.dtype} "
                        f"of shape {arr.shape}")
    n, s = arr.size, int(arr.sum())
    low, high = binomial_interval(s, n, level)
    return s / n, low, high, n
