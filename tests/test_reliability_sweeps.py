"""Issue 14, item 14 (and item 11 for sweep): mt.sweep under hostile input and faults.

cache_dir checked up front; unreadable cache entries recomputed; loky workers exit when
the sweeping process is killed; concurrent sweeps on one cache share the work through
lock files (stale ones from dead processes broken); NaN/inf results warned about when
cached; huge sizes and bad arguments refused before anything runs.
"""

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mtlib as mt

ROOT = Path(__file__).resolve().parents[1]


def counted(beta, log, seed, pause=0.0):
    """A deterministic result after ``pause`` seconds; appends one line per call to ``log``."""
    time.sleep(pause)
    with open(log, "a") as f:
        f.write(f"{beta} {seed}\n")
    return {"value": beta * 1000 + seed + np.random.default_rng(seed).random()}


def flaky(beta, log, seed, pause=0.0):
    """Like :func:`counted`, but the first call with seed 2 raises ValueError."""
    marker = Path(f"{log}.failed")
    if seed == 2 and not marker.exists():
        marker.touch()
        raise ValueError("flaky run")
    return counted(beta, log, seed, pause)


def nonfinite(beta, seed):
    """NaN for seed 1, -inf for seed 2, finite otherwise."""
    return {"x": [1.0, np.nan, -np.inf, 2.0][seed], "label": "a"}


def n_calls(log):
    return len(Path(log).read_text().splitlines()) if Path(log).exists() else 0


# ----------------------------------------------------------------------------------------
# cache_dir
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda tmp: 3, TypeError, "cache_dir must be a folder path"),
        (lambda tmp: b"cache", TypeError, "cache_dir must be a folder path"),
        (lambda tmp: "", ValueError, "cache_dir must not be empty"),
        (lambda tmp: (tmp / "file.txt").write_text("x") and tmp / "file.txt", ValueError, "cache_dir .* is a file"),
        (lambda tmp: (tmp / "file.txt").write_text("x") and tmp / "file.txt" / "sub", ValueError, "cache_dir .* cannot be"),
    ],
    ids=["int", "bytes", "empty", "file", "below-a-file"],
)
def test_bad_cache_dir(tmp_path, monkeypatch, make, error, match):
    monkeypatch.chdir(tmp_path)
    log = str(tmp_path / "calls")
    with pytest.raises(error, match=match):
        mt.sweep(counted, {"beta": [1.0], "log": [log]}, 2, backend="serial", cache_dir=make(tmp_path), progress=False)
    assert n_calls(log) == 0  # refused before any run
    assert not list(tmp_path.glob("counted-*"))  # '' did not cache into the current folder


@pytest.mark.parametrize("kind", ["deep-json", "folder"])
def test_unreadable_cache_entry_is_recomputed(tmp_path, kind):
    log = str(tmp_path / "calls")
    grid = {"beta": [1.0], "log": [log]}
    cache = tmp_path / "cache"
    first = mt.sweep(counted, grid, 2, backend="serial", cache_dir=cache, progress=False)
    path = sorted(cache.glob("*/*.json"))[0]
    if kind == "deep-json":
        path.write_text("[" * 100_000 + "]" * 100_000)  # RecursionError in json.loads
    else:
        path.unlink()
        path.mkdir()
    with pytest.warns(UserWarning) as record:
        again = mt.sweep(counted, grid, 2, backend="serial", cache_dir=cache, progress=False)
    assert n_calls(log) == 2 + 1
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    messages = [str(w.message) for w in record]
    assert any(m.startswith("corrupt sweep cache file") for m in messages)
    # A folder cannot be replaced by the new file: the run is left uncached, with a warning.
    assert any(m.startswith("could not write sweep cache file") for m in messages) == (kind == "folder")


# ----------------------------------------------------------------------------------------
# Workers die with the sweeping process
# ----------------------------------------------------------------------------------------

PROBE = '''
import os, time

def task(x, log, seed):
    """Logs its worker's pid, then sleeps 0.3 s."""
    with open(log, "a") as f:
        f.write(f"{os.getpid()} {seed}\\n")
    time.sleep(0.3)
    return {"y": x + seed}
'''

DRIVER = '''
import sys
sys.path.insert(0, {root!r})
sys.path.insert(0, {here!r})
import mtlib as mt
import orphan_probe
mt.sweep(orphan_probe.task, {{"x": [1], "log": [{log!r}]}}, 40, backend="processes", n_jobs=2,
         cache_dir={cache!r}, progress=False)
'''


def _running(pid):
    """Whether ``pid`` is a live process (not a zombie), read from /proc."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def _wait_for(condition, timeout, poll=0.1):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(poll)
    return condition()


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc")
def test_workers_exit_when_the_sweep_is_killed(tmp_path, monkeypatch):
    (tmp_path / "orphan_probe.py").write_text(PROBE)
    log, cache = tmp_path / "calls", tmp_path / "cache"
    script = DRIVER.format(root=str(ROOT), here=str(tmp_path), log=str(log), cache=str(cache))
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path)
    pids = set()

    def worker_pids():
        if log.exists():
            pids.update(int(line.split()[0]) for line in log.read_text().splitlines())
        return pids

    try:
        assert _wait_for(lambda: len(worker_pids()) >= 2 and len(list(cache.glob("*/*.json"))) >= 2, 180)
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        killed = time.monotonic()
        assert _wait_for(lambda: not any(_running(p) for p in worker_pids()), 8), "workers outlived the sweep"
        started = n_calls(log)
        time.sleep(1.0)
        assert n_calls(log) == started, "workers started runs after the sweep was killed"
        assert time.monotonic() - killed < 15
    finally:
        for pid in worker_pids():  # today's orphans: end them so they do not linger
            if _running(pid):
                os.kill(pid, signal.SIGKILL)
        if parent.poll() is None:
            parent.kill()
    # The killed sweep left lock files with its dead pid: a new sweep breaks them and
    # computes only what was not stored.
    monkeypatch.syspath_prepend(str(tmp_path))
    import orphan_probe

    try:
        stored = len(list(cache.glob("*/*.json")))
        before = n_calls(log)
        table = mt.sweep(orphan_probe.task, {"x": [1], "log": [str(log)]}, 40, backend="serial", cache_dir=cache, progress=False)
        assert table["y"].tolist() == [1 + s for s in range(40)]
        assert n_calls(log) - before == 40 - stored
        assert not list(cache.glob("*/*.lock"))
    finally:
        sys.modules.pop("orphan_probe", None)


@pytest.mark.parametrize("seeds, n_jobs", [(1, None), (3, 1)], ids=["one-run", "one-job"])
def test_processes_backend_run_in_this_process_is_not_watched(seeds, n_jobs):
    # joblib runs these in the sweeping process itself: its parent watch must not start.
    table = mt.sweep(nonfinite, {"beta": [1.0]}, seeds, backend="processes", n_jobs=n_jobs, progress=False)
    assert len(table) == seeds and not mt.sweeps._watching


# ----------------------------------------------------------------------------------------
# Concurrent sweeps on one cache
# ----------------------------------------------------------------------------------------


def _in_thread(func, *args, **kwargs):
    """Start ``func(*args, **kwargs)`` in a thread; return (thread, box with 'value' or 'error')."""
    box = {}

    def target():
        try:
            box["value"] = func(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, box


@pytest.mark.parametrize("func", [counted, flaky], ids=["all-succeed", "holder-fails-one"])
def test_concurrent_sweeps_compute_each_run_once(tmp_path, func):
    log = str(tmp_path / "calls")
    grid = {"beta": [1.0], "log": [log], "pause": [0.1]}
    cache = tmp_path / "cache"
    thread, box = _in_thread(mt.sweep, func, grid, 8, backend="serial", cache_dir=cache, progress=False)
    assert _wait_for(lambda: n_calls(log) >= 1, 60)
    with pytest.warns(UserWarning, match=r"\d runs are being computed by another sweep"):
        second = mt.sweep(func, grid, 8, backend="serial", cache_dir=cache, progress=False)
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert n_calls(log) == 8  # each run once, over both sweeps
    expected = mt.sweep(counted, grid, 8, backend="serial", progress=False)
    pd.testing.assert_frame_equal(second, expected, check_exact=True)
    if func is flaky:  # the first sweep failed seed 2; the second computed it itself
        assert isinstance(box["error"], mt.SweepError) and [f.seed for f in box["error"].failures] == [2]
    else:
        pd.testing.assert_frame_equal(box["value"], expected, check_exact=True)
    assert not list(cache.glob("*/*.lock"))


def test_interrupted_sweep_releases_its_locks(tmp_path):
    def interrupted(beta, seed):
        if seed == 1:
            raise KeyboardInterrupt
        return {"x": beta}

    with pytest.raises(KeyboardInterrupt):
        mt.sweep(interrupted, {"beta": [1.0]}, 4, backend="serial", cache_dir=tmp_path, progress=False)
    assert len(list(tmp_path.glob("*/*.json"))) == 1 and not list(tmp_path.glob("*/*.lock"))


# ----------------------------------------------------------------------------------------
# Non-finite results
# ----------------------------------------------------------------------------------------


def test_nonfinite_results_warn_when_cached(tmp_path):
    with pytest.warns(RuntimeWarning, match=r"2 runs returned NaN or inf.*params=\{'beta': 1.0\}, seed=1: x") as record:
        table = mt.sweep(nonfinite, {"beta": [1.0]}, 4, backend="serial", cache_dir=tmp_path, progress=False)
    assert "seed=2: x" in str(record[0].message)
    assert np.isnan(table["x"][1]) and table["x"][2] == -np.inf
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        again = mt.sweep(nonfinite, {"beta": [1.0]}, 4, backend="serial", cache_dir=tmp_path, progress=False)
        mt.sweep(nonfinite, {"beta": [1.0]}, 4, backend="serial", progress=False)  # nothing cached: quiet
    assert again.attrs["computed"] == 0 and again.equals(table)


# ----------------------------------------------------------------------------------------
# Sizes and arguments (item 11)
# ----------------------------------------------------------------------------------------


SIZE_CASES = {
    "seeds-1e9": ({"seeds": 10**9}, ValueError, "seeds must be <= 1000000"),
    "seeds-2^63": ({"seeds": 2**63}, ValueError, "seeds must be <= 1000000"),
    "seeds-range-1e12": ({"seeds": range(10**12)}, ValueError, "seeds: more than 1000000"),
    "axis-1e9": ({"grid": {"beta": range(10**9)}}, ValueError, r"grid\['beta'\]: more than 1000000"),
    "axis-endless": ({"grid": {"beta": itertools.count()}}, ValueError, r"grid\['beta'\]: more than 1000000"),
    "grid-product": ({"grid": {"a": range(2000), "b": range(2000)}}, ValueError, "4000000 grid points"),
    "runs-product": ({"grid": {"a": range(1000)}, "seeds": 10**4}, ValueError, "10000000 runs"),
    "point-list": ({"grid": [{"beta": 1.0}] * (10**6 + 1)}, ValueError, "grid: more than 1000000"),
    "n_jobs-1e6": ({"n_jobs": 10**6}, ValueError, "n_jobs must be <= "),
    "n_jobs-2^63": ({"n_jobs": 2**63}, ValueError, "n_jobs must be <= "),
    "n_jobs-bool": ({"n_jobs": True}, TypeError, "n_jobs must be an integer"),
    "progress-str": ({"progress": "yes"}, TypeError, "progress must be a bool"),
    "progress-None": ({"progress": None}, TypeError, "progress must be a bool"),
    "scheduler-empty": ({"scheduler": ""}, ValueError, "scheduler must not be empty"),
    "seeds-2d": ({"seeds": np.zeros((2, 2), dtype=int)}, TypeError, "seeds must be an int"),
}


@pytest.mark.parametrize("kwargs, error, match", SIZE_CASES.values(), ids=SIZE_CASES.keys())
def test_sizes_and_arguments_refused_at_once(tmp_path, kwargs, error, match, monkeypatch):
    monkeypatch.delenv(mt.DASK_SCHEDULER_ENV, raising=False)
    args = {"func": nonfinite, "grid": {"beta": [1.0]}, "seeds": 2, "backend": "serial", "progress": False, **kwargs}
    start = time.perf_counter()
    with pytest.raises(error, match=match):
        mt.sweep(**args)
    assert time.perf_counter() - start < 5.0
