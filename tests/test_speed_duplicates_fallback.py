"""The duplicate-token check and the harmonic path's direct-sum rows (issue 18, session 22)
against slow independent references: np.unique on the tokens, Python-float keys, long double.

Error model of the direct rows (as in test_harmonic_field): per row,
|v_i - v_i^ref| <= 1e-12 |v_i^ref| + 12 eps (1 + |β|) scale_i (+ the smallest normal).
"""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import mtlib as mt
from mtlib import _field_eval, _harmonic_eval, _kernels_harmonic, _kernels_sphere

EPS = np.finfo(float).eps
TINY = np.finfo(float).tiny
LD = np.longdouble


def python_keys(XT):
    """keys_j = Σ_k (1 + frac(k φ)) x_kj in Python floats, in the kernel's order."""
    step = 0.6180339887498949
    keys = []
    for column in XT.T:
        s = 0.0
        for k, x in enumerate(column):
            s += (1.0 + (k * step) % 1.0) * float(x)
        keys.append(s)
    return np.array(keys)


@st.composite
def token_sets(draw):
    """(XT (d, n), has_duplicates): tokens with some columns repeated (or none)."""
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    d = draw(st.integers(2, 6))
    n = draw(st.integers(1, 3000))
    X = mt.uniform_sphere(n, d, rng)
    copies = draw(st.sampled_from([0, 0, 1, 2, 50]))
    if copies:
        X = np.vstack([X, X[rng.integers(0, n, copies)]])
        X = X[rng.permutation(X.shape[0])]
    return np.ascontiguousarray(X.T), copies > 0


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(token_sets())
def test_distinct_tokens_against_unique(case):
    XT, planted = case
    keys = np.empty(XT.shape[1])
    distinct = _kernels_sphere.distinct_tokens(XT, keys)
    n_unique = np.unique(XT.T, axis=0).shape[0]
    assert distinct == (n_unique == XT.shape[1])
    assert distinct != planted
    assert np.array_equal(keys.view(np.uint64), python_keys(XT).view(np.uint64))


def test_distinct_tokens_edge_cases():
    for XT in (np.empty((3, 0)), np.array([[1.0], [0.0], [0.0]])):
        assert _kernels_sphere.distinct_tokens(XT, np.empty(XT.shape[1]))
    same = np.repeat(np.array([[0.0], [0.6], [0.8]]), 5000, axis=1)
    assert not _kernels_sphere.distinct_tokens(same, np.empty(5000))
    X = mt.uniform_sphere(200_000, 3, 1)
    XT = np.ascontiguousarray(X.T)
    assert _kernels_sphere.distinct_tokens(XT, np.empty(200_000))
    XT[:, 123_456] = XT[:, 7]  # one pair, far apart in the order
    assert not _kernels_sphere.distinct_tokens(XT, np.empty(200_000))
    merged, w, first, inverse = _field_eval.merge_duplicates(XT, np.full(200_000, 1 / 200_000))
    assert merged.shape == (3, 199_999) and first.size == 199_999
    assert inverse[123_456] == inverse[7] and w[inverse[7]] == 2 / 200_000


def ref_rows(XT, w, beta, rows):
    """(num, scale) in long double: Σ_{j≠r} w_j e^{β<x_r,x_j>} (x_j - <x_r,x_j> x_r), Σ_{j≠r} ..."""
    XL = XT.T.astype(LD)
    G = XL[rows] @ XL.T
    E = w.astype(LD)[None, :] * np.exp(LD(beta) * G)
    E[np.arange(rows.size), rows] = 0
    num = E @ XL - np.sum(E * G, axis=1)[:, None] * XL[rows]
    return num, E.sum(axis=1)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.floats(-350.0, 700.0), st.sampled_from([0, 2, 6]), st.booleans())
def test_direct_rows_against_long_double(seed, beta, clusters, zeros):
    """Both shifts (|β| for all rows, or the row maxima) against long double at any rows,
    the first and the last included (the loops j < r and j > r may be empty)."""
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 400))
    if clusters:
        sizes = np.full(clusters, n // clusters)
        sizes[: n - sizes.sum()] += 1
        X = mt.caps_sphere(mt.uniform_sphere(clusters, 3, rng), sizes, 0.05, rng)
    else:
        X = mt.uniform_sphere(n, 3, rng)
    XT = np.ascontiguousarray(X.T)
    w = rng.random(n) * ((rng.random(n) > 0.3) if zeros else 1.0)
    w = w / w.sum() if w.sum() > 0 else np.full(n, 1 / n)
    rows = np.unique(np.concatenate([[0, n - 1], rng.integers(0, n, 5)]))
    ref, scale = ref_rows(XT, w, beta, rows)
    for shift_all in (False, True) if abs(beta) <= _field_eval.SHIFT_ALL_ROWS else (False,):
        num, den, shift = np.empty((3, rows.size)), np.empty(rows.size), np.empty(rows.size)
        _kernels_harmonic.direct_rows(XT, w, beta, rows, shift_all, num, den, shift)
        if shift_all:
            assert np.all(shift == abs(beta))
        factor = np.exp(shift.astype(LD))
        v = num.T.astype(LD) * factor[:, None]
        err = np.sqrt(np.sum((v - ref) ** 2, axis=1))
        allowed = 1e-12 * np.sqrt(np.sum(ref**2, axis=1)) + 12 * EPS * (1 + abs(beta)) * scale + TINY
        assert np.all(err <= allowed)
        assert np.all(np.abs(den * factor - scale) <= 12 * EPS * (1 + abs(beta)) * scale + TINY)


def test_fallback_rows_of_a_clustered_state_match_long_double():
    """Many isolated tokens between tight clusters (the harmonic bound sends them to the
    direct rows): USA and SA rows within the error model of the direct sum."""
    rng = np.random.default_rng(21)
    centres = mt.uniform_sphere(12, 3, rng)
    X = np.vstack([mt.caps_sphere(centres, np.full(12, 150), 0.02, rng), mt.uniform_sphere(200, 3, rng)])
    n = X.shape[0]
    w = np.full(n, 1 / n)
    XT = np.ascontiguousarray(X.T)
    rows = np.arange(n)
    ref, scale = ref_rows(XT, w, 30.0, rows)
    for model in ("usa", "sa"):
        v = mt.velocity(X, 30.0, model, method="harmonic").astype(LD)
        if model == "sa":
            den = scale + LD(w[0]) * np.exp(LD(30.0))
            r, sc = ref / den[:, None], scale / den
        else:
            r, sc = ref, scale
        err = np.sqrt(np.sum((v - r) ** 2, axis=1))
        allowed = 1e-12 * np.sqrt(np.sum(r**2, axis=1)) + 12 * EPS * 31 * sc + TINY
        assert np.all(err <= allowed)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.sampled_from([-700.0, -40.0, -5.0, 0.5, 6.0, 60.0, 300.0, 700.0]),
       st.sampled_from([0, 3, 30]))
def test_gradient_error_bound_holds_without_the_fallback(seed, beta, clusters):
    """The rounding estimate δ_v of error_bounds bounds the measured error of the bare
    expansion (no direct rows) at every sampled row, against long double."""
    rng = np.random.default_rng(seed)
    n = 1500
    if clusters:
        sizes = np.full(clusters, n // clusters)
        X = mt.caps_sphere(mt.uniform_sphere(clusters, 3, rng), sizes, 0.05, rng)
    else:
        X = mt.uniform_sphere(n, 3, rng)
    w = np.full(n, 1 / n)
    saved = _harmonic_eval.HARMONIC_ERR
    _harmonic_eval.HARMONIC_ERR = np.inf  # every row kept: the bare expansion
    try:
        v = _harmonic_eval.harmonic_velocity(X, w, beta, False)
    finally:
        _harmonic_eval.HARMONIC_ERR = saved
    c, g, L = _harmonic_eval.harmonic_coefficients(beta)
    XT = _harmonic_eval.unit_columns(X)
    d_v = _harmonic_eval.error_bounds(c, g, _harmonic_eval.moments(XT, w, L), w, L)[1]
    rows = rng.choice(n, 32, replace=False)
    ref, _ = ref_rows(XT, w, beta, rows)
    err = np.sqrt(np.sum((v[rows].astype(LD) - ref) ** 2, axis=1)) * np.exp(-LD(abs(beta)))
    assert np.all(err <= d_v)
