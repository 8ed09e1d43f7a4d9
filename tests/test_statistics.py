"""Binomial intervals against scipy's exact test, coverage, and bad input."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.stats import binomtest

import mtlib as mt


@settings(max_examples=100, deadline=None)
@given(n=st.integers(1, 400), frac=st.floats(0, 1), level=st.floats(0.5, 0.999))
def test_binomial_interval_matches_scipy_exact(n, frac, level):
    s = int(round(frac * n))
    low, high = mt.binomial_interval(s, n, level)
    ref = binomtest(s, n).proportion_ci(level, method="exact")
    assert low == pytest.approx(ref.low, abs=1e-12)
    assert high == pytest.approx(ref.high, abs=1e-12)
    assert low <= s / n <= high


def test_binomial_interval_covers_at_least_its_level():
    """Exact coverage over all outcomes of Binomial(n, p), summed with binomial weights."""
    from scipy.stats import binom

    n, level = 60, 0.9
    s = np.arange(n + 1)
    low, high = mt.binomial_interval(s, np.full(n + 1, n), level)
    for p in np.linspace(0.01, 0.99, 41):
        coverage = binom.pmf(s, n, p)[(low <= p) & (p <= high)].sum()
        assert coverage >= level - 1e-12, (p, coverage)


def test_frequency_counts_and_interval():
    outcomes = np.array([True] * 30 + [False] * 10)
    p, low, high, n = mt.frequency(outcomes, level=0.95)
    assert (p, n) == (0.75, 40)
    assert (low, high) == mt.binomial_interval(30, 40, 0.95)


@pytest.mark.parametrize("args, error", [
    ((3, 2), ValueError), ((-1, 5), ValueError), ((1, 0), ValueError),
    ((1.5, 3), TypeError), ((True, 3), TypeError),
])
def test_binomial_interval_bad_counts(args, error):
    with pytest.raises(error, match="successes|trials"):
        mt.binomial_interval(*args)


@pytest.mark.parametrize("level", [0.0, 1.0, np.nan, True])
def test_binomial_interval_bad_level(level):
    with pytest.raises((ValueError, TypeError), match="level"):
        mt.binomial_interval(1, 2, level)


@pytest.mark.parametrize("outcomes", [[], [1, 0], [[True]]])
def test_frequency_bad_outcomes(outcomes):
    with pytest.raises(TypeError, match="outcomes"):
        mt.frequency(outcomes)
