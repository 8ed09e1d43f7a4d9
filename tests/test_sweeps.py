"""Tests for mtlib.sweeps: backends agree, the cache is exact, resumable and checked."""

import dataclasses
import importlib
import json
import sys
import time

import numba
import numpy as np
import pandas as pd
import pytest

import mtlib as mt

GRID = {"beta": [3.0, 6.3], "n": [200, 2000]}


def mode_sizes(beta, n, seed):
    """|ĉ_k| of N uniform angles for k = 1..4, the leading one, and k_max: a small real run."""
    theta = mt.uniform_circle(n, rng=np.random.default_rng(seed))
    c = np.abs(mt.fourier_coefficients(theta, np.arange(1, 5)))
    return {"c1": c[0], "c4": c[3], "top": int(np.argmax(c)) + 1, "kmax": mt.kmax(beta), "label": f"b{beta:g}"}


def counted(beta, log, seed):
    """A deterministic result; appends one line per call to the file ``log``."""
    with open(log, "a") as f:
        f.write(f"{beta} {seed}\n")
    return {"value": beta * 1000 + seed + np.random.default_rng(seed).random()}


def interrupted(beta, log, seed):
    """Like :func:`counted`, but the first call with seed 3 raises KeyboardInterrupt."""
    marker = f"{log}.interrupted"
    if seed == 3 and not _exists(marker):
        open(marker, "w").close()
        raise KeyboardInterrupt
    return counted(beta, log, seed)


def flaky(beta, log, seed):
    """Like :func:`counted`, but the first call with seed 2 raises ValueError."""
    marker = f"{log}.failed"
    if seed == 2 and not _exists(marker):
        open(marker, "w").close()
        raise ValueError("flaky run")
    return counted(beta, log, seed)


def failing(beta, n, seed):
    """Raises for beta = 6.3 and seed 1, returns a non-dict for n = 7."""
    if beta == 6.3 and seed == 1:
        raise ValueError(f"no convergence at beta={beta}")
    return [seed] if n == 7 else {"x": float(seed)}


def thread_count(n, seed):
    """numba's thread count inside the run."""
    return {"threads": numba.get_num_threads()}


def _exists(path):
    try:
        open(path).close()
        return True
    except FileNotFoundError:
        return False


def n_calls(log):
    return len(open(log).read().splitlines()) if _exists(log) else 0


# ----------------------------------------------------------------------------------------
# Backends
# ----------------------------------------------------------------------------------------


def test_table_layout_and_order():
    table = mt.sweep(mode_sizes, GRID, [5, 1, 3], backend="serial", progress=False)
    assert list(table.columns) == ["beta", "n", "seed", "c1", "c4", "top", "kmax", "label"]
    assert len(table) == 12
    assert table["seed"].tolist() == [5, 1, 3] * 4
    assert table["beta"].tolist() == [3.0] * 6 + [6.3] * 6
    assert table["n"].tolist() == ([200] * 3 + [2000] * 3) * 2
    assert table["kmax"].tolist() == [2] * 6 + [4] * 6
    first = mode_sizes(3.0, 200, seed=5)
    assert table.loc[0, "c1"] == first["c1"] and table.loc[0, "label"] == "b3"
    points = [{"beta": 3.0, "n": 200}, {"beta": 6.3, "n": 2000}]
    assert mt.sweep(mode_sizes, points, 2, backend="serial", progress=False)["n"].tolist() == [200, 200, 2000, 2000]


def test_serial_and_processes_identical():
    serial = mt.sweep(mode_sizes, GRID, 3, backend="serial", progress=False)
    parallel = mt.sweep(mode_sizes, GRID, 3, backend="processes", n_jobs=2, progress=False)
    auto = mt.sweep(mode_sizes, GRID, 3, progress=False)
    pd.testing.assert_frame_equal(serial, parallel, check_exact=True)
    pd.testing.assert_frame_equal(serial, auto, check_exact=True)


def test_processes_share_the_cores():
    jobs = 2
    table = mt.sweep(thread_count, {"n": [1]}, 4, backend="processes", n_jobs=jobs, progress=False)
    cores = mt.sweeps._cores()
    assert (table["threads"] * jobs <= max(cores, jobs)).all()


def test_dask_local_cluster_identical(monkeypatch):
    distributed = pytest.importorskip("distributed")
    serial = mt.sweep(mode_sizes, GRID, 3, backend="serial", progress=False)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        on_dask = mt.sweep(mode_sizes, GRID, 3, backend="dask", scheduler=cluster.scheduler_address, progress=False)
        monkeypatch.setenv(mt.DASK_SCHEDULER_ENV, cluster.scheduler_address)
        with pytest.raises(mt.SweepError, match=r"params=\{'beta': 6.3, 'n': 2\}, seed=1"):
            mt.sweep(failing, {"beta": [6.3], "n": [2]}, 2, progress=False)  # "auto" picks dask
    pd.testing.assert_frame_equal(serial, on_dask, check_exact=True)


# ----------------------------------------------------------------------------------------
# Cache
# ----------------------------------------------------------------------------------------


def test_cache_reuses_results(tmp_path, capsys):
    log = str(tmp_path / "calls")
    grid = {"beta": [1.0, 2.0], "log": [log]}
    first = mt.sweep(counted, grid, 3, backend="serial", cache_dir=tmp_path / "cache", progress=False)
    assert n_calls(log) == 6
    again = mt.sweep(counted, grid, 3, backend="processes", cache_dir=tmp_path / "cache", progress=True)
    assert n_calls(log) == 6
    err = capsys.readouterr().err  # the progress bar starts at the 6 cached runs
    assert "sweep: 100%" in err and "6/6" in err
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    more = mt.sweep(counted, grid, 4, backend="serial", cache_dir=tmp_path / "cache", progress=False)
    assert n_calls(log) == 8  # only seed 3 at both betas
    pd.testing.assert_frame_equal(more[more["seed"] < 3].reset_index(drop=True), first, check_exact=True)


SOURCE = '''
def measured(beta, seed):
    return {{"value": beta * {factor}}}
'''


def slow(beta, seed):
    """Sleeps 0.05 s per run."""
    time.sleep(0.05)
    return {"x": beta + seed}


def test_wall_time_and_computed_runs(tmp_path):
    grid = {"beta": [1.0, 2.0]}
    first = mt.sweep(slow, grid, 2, backend="serial", cache_dir=tmp_path, progress=False)
    assert first.attrs["computed"] == 4 and first.attrs["wall_time"] >= 4 * 0.05
    again = mt.sweep(slow, grid, 3, backend="serial", cache_dir=tmp_path, progress=False)
    assert again.attrs["computed"] == 2 and again.attrs["wall_time"] >= 2 * 0.05  # seed 2
    cached = mt.sweep(slow, grid, 3, backend="serial", cache_dir=tmp_path, progress=False)
    assert cached.attrs["computed"] == 0 and cached.equals(again)
    with pytest.raises(mt.SweepError) as info:
        mt.sweep(failing, {"beta": [6.3], "n": [2]}, 2, backend="serial", progress=False)
    assert info.value.table.attrs["computed"] == 2 and len(info.value.table) == 1


def test_cache_invalidated_when_source_changes(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    module = tmp_path / "sweep_probe.py"
    module.write_text(SOURCE.format(factor=2))
    probe = importlib.import_module("sweep_probe")
    cache = tmp_path / "cache"
    try:
        assert mt.sweep(probe.measured, {"beta": [1.0]}, 1, cache_dir=cache, progress=False)["value"][0] == 2.0
        module.write_text(SOURCE.format(factor=300))  # a different size: no stale bytecode
        probe = importlib.reload(probe)
        assert mt.sweep(probe.measured, {"beta": [1.0]}, 1, cache_dir=cache, progress=False)["value"][0] == 300.0
        assert len(list(cache.glob("measured-*"))) == 2
    finally:
        sys.modules.pop("sweep_probe", None)


def test_cache_key_includes_version(tmp_path, monkeypatch):
    log = str(tmp_path / "calls")
    grid = {"beta": [1.0], "log": [log]}
    mt.sweep(counted, grid, 2, backend="serial", cache_dir=tmp_path, progress=False)
    monkeypatch.setattr(mt, "__version__", mt.__version__ + ".post1")
    mt.sweep(counted, grid, 2, backend="serial", cache_dir=tmp_path, progress=False)
    assert n_calls(log) == 4


def test_resume_after_interruption(tmp_path):
    log = str(tmp_path / "calls")
    grid = {"beta": [1.0], "log": [log]}
    with pytest.raises(KeyboardInterrupt):
        mt.sweep(interrupted, grid, 6, backend="serial", cache_dir=tmp_path / "cache", progress=False)
    assert n_calls(log) == 3  # seeds 0, 1, 2 finished and were stored
    resumed = mt.sweep(interrupted, grid, 6, backend="serial", cache_dir=tmp_path / "cache", progress=False)
    assert n_calls(log) == 6  # seeds 3, 4, 5 only
    fresh = mt.sweep(counted, grid, 6, backend="serial", progress=False)
    pd.testing.assert_frame_equal(resumed, fresh, check_exact=True)


def test_resume_after_failed_run(tmp_path):
    log = str(tmp_path / "calls")
    grid = {"beta": [1.0, 2.0], "log": [log]}
    with pytest.raises(mt.SweepError) as info:
        mt.sweep(flaky, grid, 4, backend="processes", n_jobs=2, cache_dir=tmp_path / "cache", progress=False)
    assert [(f.params["beta"], f.seed) for f in info.value.failures] == [(1.0, 2)]
    assert len(info.value.table) == 7 and n_calls(log) == 7
    resumed = mt.sweep(flaky, grid, 4, backend="serial", cache_dir=tmp_path / "cache", progress=False)
    assert n_calls(log) == 8
    pd.testing.assert_frame_equal(resumed, mt.sweep(counted, grid, 4, backend="serial", progress=False), check_exact=True)


def test_corrupt_cache_files_are_recomputed(tmp_path):
    log = str(tmp_path / "calls")
    grid = {"beta": [1.0], "log": [log]}
    first = mt.sweep(counted, grid, 4, backend="serial", cache_dir=tmp_path / "cache", progress=False)
    files = sorted((tmp_path / "cache").glob("*/*.json"))
    assert len(files) == 4
    text = files[0].read_text()
    files[0].write_text(text[: len(text) // 2])  # a partial write
    record = json.loads(files[1].read_text())
    record["body"]["result"]["value"] += 1.0  # a silently altered value
    files[1].write_text(json.dumps(record))
    files[2].write_bytes(b"\xff\xfe\x00")  # not text at all
    with pytest.warns(UserWarning, match="corrupt sweep cache file"):
        again = mt.sweep(counted, grid, 4, backend="serial", cache_dir=tmp_path / "cache", progress=False)
    assert n_calls(log) == 4 + 3
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    assert not list((tmp_path / "cache").glob("*/*.tmp"))


# ----------------------------------------------------------------------------------------
# Errors
# ----------------------------------------------------------------------------------------


def test_failures_name_parameters_and_seed():
    with pytest.raises(mt.SweepError) as info:
        mt.sweep(failing, {"beta": [3.0, 6.3], "n": [2, 7]}, 3, backend="processes", n_jobs=2, progress=False)
    err = info.value
    message = str(err)
    assert "params={'beta': 6.3, 'n': 2}, seed=1" in message
    assert "first error (params={'beta': 3.0, 'n': 7}, seed=0)" in message
    assert "func must return a dict of scalar results, got list" in message
    errors = {(f.params["beta"], f.params["n"], f.seed): f.error for f in err.failures}
    assert "ValueError: no convergence at beta=6.3" in errors[6.3, 2, 1]
    assert len(err.failures) == 1 + 6  # beta 6.3 seed 1 at n = 2, and every run at n = 7
    assert all(isinstance(f, mt.SweepFailure) for f in err.failures)
    with pytest.raises(dataclasses.FrozenInstanceError):
        err.failures[0].seed = 5
    assert err.table[["beta", "n", "seed"]].values.tolist() == [[3.0, 2, 0], [3.0, 2, 1], [3.0, 2, 2], [6.3, 2, 0], [6.3, 2, 2]]
    assert err.table["x"].tolist() == [0.0, 1.0, 2.0, 0.0, 2.0]


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"func": 3}, TypeError, "func must be callable"),
        ({"grid": {}}, ValueError, "grid must not be empty"),
        ({"grid": []}, ValueError, "grid must not be empty"),
        ({"grid": {"beta": []}}, ValueError, "grid\\['beta'\\] is empty"),
        ({"grid": "beta"}, TypeError, "grid must be a dict"),
        ({"grid": {"beta": [[1.0, 2.0]]}}, TypeError, "must be a bool, int, float or str"),
        ({"grid": [{"beta": 1.0}, {"n": 2}]}, ValueError, "same parameter names"),
        ({"grid": {"seed": [1]}}, ValueError, "other than 'seed'"),
        ({"seeds": [-1, 2]}, ValueError, "seed must be >= 0"),
        ({"seeds": 0}, ValueError, "seeds must be >= 1"),
        ({"seeds": []}, ValueError, "seeds must not be empty"),
        ({"seeds": [1, 1]}, ValueError, "distinct"),
        ({"seeds": [1.5]}, TypeError, "seed must be an integer"),
        ({"backend": "threads"}, ValueError, "backend must be one of"),
        ({"backend": "dask"}, ValueError, "needs a scheduler address"),
        ({"n_jobs": 0}, ValueError, "n_jobs must be >= 1"),
        ({"scheduler": 8786}, TypeError, "scheduler must be an address"),
    ],
)
def test_bad_input(kwargs, error, match, monkeypatch):
    monkeypatch.delenv(mt.DASK_SCHEDULER_ENV, raising=False)
    args = {"func": mode_sizes, "grid": GRID, "seeds": 2, "backend": "serial", "progress": False, **kwargs}
    with pytest.raises(error, match=match):
        mt.sweep(**args)


def test_cache_needs_source(tmp_path):
    with pytest.raises(TypeError, match="needs the source of func"):
        mt.sweep(len, {"n": [1]}, 1, cache_dir=tmp_path, progress=False)
