"""Tests for mt.sweep(..., batch=True): all seeds of a grid point in one call.

Reference: the per-seed sweep of the same computation (identical tables: bit for bit for a
NumPy function, to 1e-12 for simulate_batch against simulate); the cache stays one file
per (parameters, seed), and failures are reported per run.
"""

import numpy as np
import pandas as pd
import pytest

import mtlib as mt

GRID = {"beta": [1.5, 4.0], "n": [6, 9]}


def draw(beta, n, seed):
    """A small deterministic run of one seed."""
    x = np.random.default_rng(seed).standard_normal(n)
    return {"mean": float(beta * x.mean()), "top": int(np.argmax(x)), "label": f"b{beta:g}"}


def draw_batch(beta, n, seeds):
    """:func:`draw` for every seed, in one call."""
    return [draw(beta, n, int(s)) for s in seeds]


def spread(beta, n, seed):
    """Mean pairwise inner product of n SA tokens on S^7 at t = 1, by mt.simulate."""
    X = mt.uniform_sphere(n, 8, rng=seed)
    Y = mt.simulate(X, beta, [0.0, 1.0], model="sa").states[-1]
    return {"gram": float((Y @ Y.T).mean())}


def spread_batch(beta, n, seeds):
    """:func:`spread` for every seed at once, by mt.simulate_batch."""
    X = np.stack([mt.uniform_sphere(n, 8, rng=int(s)) for s in seeds])
    Y = mt.simulate_batch(X, beta, [0.0, 1.0], model="sa").states[-1]
    return [{"gram": float((y @ y.T).mean())} for y in Y]


def logged_batch(beta, n, log, seeds):
    """:func:`draw_batch`, writing the seeds of each call to the file ``log``."""
    with open(log, "a") as f:
        f.write(" ".join(str(int(s)) for s in seeds) + "\n")
    return draw_batch(beta, n, seeds)


def failing_batch(beta, n, seeds):
    """Raises at beta = 4.0, n = 9; returns a non-dict for seed 2 elsewhere."""
    if beta == 4.0 and n == 9:
        raise ValueError("no convergence")
    return [[int(s)] if s == 2 else {"x": float(s)} for s in seeds]


def wrong_length(beta, n, seeds):
    return [{"x": 1.0}] * (len(seeds) - 1)


def not_a_list(beta, n, seeds):
    return {"x": 1.0}


def test_batch_table_equals_per_seed_table():
    per_seed = mt.sweep(draw, GRID, [4, 0, 7], backend="serial", progress=False)
    batched = mt.sweep(draw_batch, GRID, [4, 0, 7], backend="serial", progress=False, batch=True)
    pd.testing.assert_frame_equal(batched, per_seed)
    assert batched.attrs["computed"] == 12


def test_simulate_batch_sweep_matches_the_simulate_sweep():
    grid = {"beta": [2.0, 5.0], "n": [5]}
    per_seed = mt.sweep(spread, grid, 6, backend="serial", progress=False)
    batched = mt.sweep(spread_batch, grid, 6, backend="serial", progress=False, batch=True)
    assert list(batched.columns) == list(per_seed.columns)
    pd.testing.assert_frame_equal(batched[["beta", "n", "seed"]], per_seed[["beta", "n", "seed"]])
    np.testing.assert_allclose(batched["gram"], per_seed["gram"], rtol=0, atol=1e-12)


def test_processes_backend_gives_the_same_table():
    serial = mt.sweep(draw_batch, GRID, 3, backend="serial", progress=False, batch=True)
    parallel = mt.sweep(draw_batch, GRID, 3, backend="processes", n_jobs=2, progress=False, batch=True)
    pd.testing.assert_frame_equal(parallel, serial)


def test_cache_is_per_seed_and_only_missing_seeds_are_computed(tmp_path):
    log = str(tmp_path / "calls.txt")
    grid = {"beta": [1.5, 4.0], "n": [6], "log": [log]}
    first = mt.sweep(logged_batch, grid, [0, 1, 2], backend="serial", progress=False, batch=True, cache_dir=tmp_path)
    assert open(log).read().split("\n")[:-1] == ["0 1 2", "0 1 2"]
    again = mt.sweep(logged_batch, grid, [0, 1, 2], backend="serial", progress=False, batch=True, cache_dir=tmp_path)
    assert again.attrs["computed"] == 0
    pd.testing.assert_frame_equal(again, first)
    more = mt.sweep(logged_batch, grid, [0, 1, 2, 3, 5], backend="serial", progress=False, batch=True,
                    cache_dir=tmp_path)
    assert more.attrs["computed"] == 4
    assert open(log).read().split("\n")[2:-1] == ["3 5", "3 5"]  # one call per grid point, the new seeds only
    pd.testing.assert_frame_equal(more[more["seed"] <= 2].reset_index(drop=True), first)
    files = list(next(tmp_path.glob("logged_batch-*")).glob("*.json"))
    assert len(files) == 10  # one per (parameters, seed)


def test_failures_are_per_run():
    with pytest.raises(mt.SweepError) as info:
        mt.sweep(failing_batch, GRID, 3, backend="serial", progress=False, batch=True)
    failures = info.value.failures
    bad_point = [f for f in failures if f.params == {"beta": 4.0, "n": 9}]
    assert [f.seed for f in bad_point] == [0, 1, 2] and all("no convergence" in f.error for f in bad_point)
    others = [f for f in failures if f.params != {"beta": 4.0, "n": 9}]
    assert [f.seed for f in others] == [2, 2, 2] and all("must return a dict" in f.error for f in others)
    assert len(info.value.table) == 6  # seeds 0 and 1 of the three other points
    for func, match in ((wrong_length, "returned 2 results for 3 seeds"), (not_a_list, "must return a list of 3")):
        with pytest.raises(mt.SweepError) as info:
            mt.sweep(func, {"beta": [1.0], "n": [2]}, 3, backend="serial", progress=False, batch=True)
        assert len(info.value.failures) == 3 and match in info.value.failures[0].error


def test_bad_arguments():
    with pytest.raises(TypeError, match="batch must be a bool"):
        mt.sweep(draw_batch, GRID, 2, batch="yes")
    with pytest.raises(ValueError, match="'seeds' is the argument"):
        mt.sweep(draw_batch, {"seeds": [1, 2]}, 2, batch=True)
