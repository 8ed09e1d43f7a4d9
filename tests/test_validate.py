"""The shared argument checks: clear errors that name the argument."""

import numpy as np
import pytest

from mtlib import _validate as v


def test_check_real_accepts_numbers_and_rejects_the_rest():
    assert v.check_real(np.float32(2.5), "beta") == 2.5
    assert isinstance(v.check_real(3, "beta"), float)
    with pytest.raises(TypeError, match="beta"):
        v.check_real("5", "beta")
    with pytest.raises(TypeError, match="beta"):
        v.check_real(True, "beta")
    for bad in (np.nan, np.inf, -np.inf):
        with pytest.raises(ValueError, match="beta must be finite"):
            v.check_real(bad, "beta")
    with pytest.raises(ValueError, match="dt must be > 0"):
        v.check_real(0.0, "dt", low=0.0, low_open=True)
    with pytest.raises(ValueError, match="p must be >= 1"):
        v.check_real(0.5, "p", low=1.0)


def test_check_int():
    assert v.check_int(np.int64(4), "n", low=1) == 4
    with pytest.raises(ValueError, match="n must be >= 1"):
        v.check_int(0, "n", low=1)
    with pytest.raises(TypeError, match="n must be an integer"):
        v.check_int(2.0, "n")


def test_check_choice_and_model():
    assert v.check_model("SA") == "sa"
    with pytest.raises(ValueError, match="model must be one of"):
        v.check_model("softmax")
    with pytest.raises(TypeError, match="model"):
        v.check_model(None)


def test_check_unit_rows():
    X = np.eye(3)
    assert v.check_unit_rows(X).dtype == np.float64
    with pytest.raises(ValueError, match="unit norm.*normalise"):
        v.check_unit_rows(2 * X)
    with pytest.raises(ValueError, match="d >= 2"):
        v.check_unit_rows(np.ones((4, 1)))
    with pytest.raises(ValueError, match="2 dimension"):
        v.check_unit_rows(np.ones(3))
    with pytest.raises(ValueError, match="finite"):
        v.check_unit_rows(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match="at least 1"):
        v.check_unit_rows(np.zeros((0, 3)))
    with pytest.raises(TypeError, match="real"):
        v.check_unit_rows(np.eye(2) * 1j)


def test_check_weights():
    assert np.allclose(v.check_weights(None, 4), 0.25)
    with pytest.raises(ValueError, match="non-negative"):
        v.check_weights([1.5, -0.5], 2)
    with pytest.raises(ValueError, match="sum to 1"):
        v.check_weights([0.5, 0.6], 2)
    with pytest.raises(ValueError, match="shape"):
        v.check_weights([1.0], 2)


def test_check_times():
    assert np.array_equal(v.check_times(1.0), [1.0])
    with pytest.raises(ValueError, match="strictly increasing"):
        v.check_times([0.0, 0.2, 0.1])
    with pytest.raises(ValueError, match=">= 0"):
        v.check_times([-0.1, 0.2])


def test_check_rng_is_reproducible():
    a = v.check_rng(7).random(3)
    b = v.check_rng(7).random(3)
    assert np.array_equal(a, b)
    g = np.random.default_rng(1)
    assert v.check_rng(g) is g
    with pytest.raises(TypeError, match="rng"):
        v.check_rng(1.5)
    with pytest.raises(ValueError, match="rng"):
        v.check_rng(-1)


def test_check_positive_weights():
    from mtlib._validate import check_positive_weights

    np.testing.assert_array_equal(check_positive_weights(None, 4), np.full(4, 0.25))
    np.testing.assert_array_equal(check_positive_weights([0.2, 0.8], 2), [0.2, 0.8])
    with pytest.raises(ValueError, match="weights must be positive"):
        check_positive_weights([0.0, 1.0], 2)
    with pytest.raises(ValueError, match="masses"):
        check_positive_weights([0.5, 0.5], 3, name="masses")
