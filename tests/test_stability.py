"""Tests for mtlib.stability: the Dobrushin constant against its closed forms and against
the Lipschitz bounds it claims, measured on random fields and measures."""

import numpy as np
import pytest

import mtlib as mt
from mtlib import stability


def sphere_sample(n, d, rng, spread=1.0):
    X = rng.standard_normal((n, d)) * spread
    X[:, 0] += 1.0
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def usa_field(x, Y, beta):
    s = Y @ x
    v = (np.exp(beta * s)[:, None] * Y).mean(axis=0)
    return v - (v @ x) * x


def sa_field(x, Y, beta):
    s = Y @ x
    e = np.exp(beta * (s - s.max()))
    v = (e[:, None] * Y).sum(axis=0) / e.sum()
    return v - (v @ x) * x


def test_dobrushin_values():
    assert mt.dobrushin_constant(0.0) == pytest.approx(3.0)
    assert mt.dobrushin_constant(0.0, model="sa") == pytest.approx(3.0)
    assert mt.dobrushin_constant(5.0) == pytest.approx(13 * np.exp(5))
    assert mt.dobrushin_constant(-2.0, d=3) == mt.dobrushin_constant(2.0, d=7)
    betas = np.linspace(0, 10, 11)
    assert np.all(np.diff([mt.dobrushin_constant(b) for b in betas]) > 0)


@pytest.mark.parametrize("model", ["usa", "sa"])
@pytest.mark.parametrize("beta", [-1.0, 0.5, 3.0])
def test_dobrushin_bounds_hold_on_samples(model, beta):
    rng = np.random.default_rng(50)
    field = usa_field if model == "usa" else sa_field
    L = mt.dobrushin_constant(beta, 3, model)
    for _ in range(20):
        Y = sphere_sample(8, 3, rng, 2.0)
        Y2 = sphere_sample(8, 3, rng, 2.0)
        x = sphere_sample(1, 3, rng, 2.0)[0]
        x2 = x + 0.05 * rng.standard_normal(3)
        x2 /= np.linalg.norm(x2)
        # Lipschitz in x, and in the measure for W1 with the chordal cost
        assert np.linalg.norm(field(x, Y, beta) - field(x2, Y, beta)) <= L * np.linalg.norm(x - x2)
        w1 = mt.wasserstein_sphere(Y, Y2, 1, cost="chordal")
        assert np.linalg.norm(field(x, Y, beta) - field(x, Y2, beta)) <= L * w1 + 1e-12


def test_dobrushin_default_model_is_usa():
    assert mt.dobrushin_constant is stability.dobrushin_constant
    assert mt.dobrushin_constant(2.0) == mt.dobrushin_constant(2.0, model="usa")
    assert mt.dobrushin_constant(2.0) != mt.dobrushin_constant(2.0, model="sa")
    assert mt.dobrushin_constant(2.0, model="sa") == pytest.approx(6.0 + np.exp(4.0) * 5.0, rel=1e-15)


def test_dobrushin_bad_input():
    with pytest.raises(TypeError, match="beta"):
        mt.dobrushin_constant("5")
    with pytest.raises(ValueError, match="model"):
        mt.dobrushin_constant(1.0, model="ssa")
    with pytest.raises(ValueError, match="d must be >= 2"):
        mt.dobrushin_constant(1.0, d=1)
    with pytest.raises(ValueError, match="overflows"):
        mt.dobrushin_constant(800.0)
    assert np.isfinite(mt.dobrushin_constant(-700.0))
