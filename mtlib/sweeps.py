"""Parameter × seed sweeps: serial, local processes (joblib) or a dask cluster, cached on disk.

``sweep(func, grid, seeds)`` calls ``func(**params, seed=seed)`` once for every point of
a parameter grid and every seed (or, with ``batch=True``, ``func(**params, seeds=array)``
once per grid point), and returns a tidy ``pandas.DataFrame`` with one row per
run: the parameters, the seed, then the results. The same call runs serially, in local
worker processes (joblib's loky, with numba's threads set so that processes × threads <=
cores) or on a ``dask.distributed`` cluster given by its scheduler address, and gives the
same table in every case. pandas, joblib and tqdm are imported when a sweep runs, so
``import mtlib`` stays light.

The on-disk cache (``cache_dir``, :mod:`mtlib._sweep_cache`) keeps one JSON file per finished run, keyed by the
function (its source, name and module), the parameters, the seed and the mtlib version.
Files are written atomically and carry a SHA-256 checksum, so an interrupted sweep
resumes where it stopped and a corrupt file is recomputed rather than trusted. A lock
file per run lets concurrent sweeps on one cache compute each run once; worker processes
exit when the sweeping process dies, even by ``kill -9``.
"""

import itertools
import math
import numbers
import os
import threading
import time
import traceback
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

import numba
import numpy as np

from ._sweep_cache import Cache, cache_root, check_result, scalar
from ._validate import check_choice, check_int

__all__ = ["sweep", "SweepError", "SweepFailure", "DASK_SCHEDULER_ENV"]

DASK_SCHEDULER_ENV = "MTLIB_DASK_SCHEDULER"  # environment variable read when scheduler=None
BACKENDS = ("auto", "serial", "processes", "dask")
MAX_RUNS = 10**6  # most runs (grid points x seeds) in one sweep
JOBS_PER_CORE = 4  # n_jobs may be at most this many times the cores
LOCK_POLL_S = 0.2  # seconds between looks at the runs another sweep is computing
WATCH_S = 0.5  # seconds between a worker's checks that the sweeping process lives


@dataclass(frozen=True)
class SweepFailure:
    """One run of a sweep that raised.

    Attributes
    ----------
    params : dict
        Its parameter values.
    seed : int
        Its seed.
    error : str
        The formatted traceback raised in the worker.
    """

    params: dict
    seed: int
    error: str


class SweepError(RuntimeError):
    """Some runs of a sweep raised; the others finished (and are cached, if caching).

    Attributes
    ----------
    failures : list of SweepFailure
        One per failed run, in sweep order.
    table : pandas.DataFrame
        The tidy table of the runs that succeeded, in sweep order.
    """

    def __init__(self, failures, table):
        self.failures = failures
        self.table = table
        first = failures[0]
        lines = [
            f"{len(failures)} of {len(failures) + len(table)} runs failed "
            f"({len(table)} succeeded; the partial table is in .table):"
        ]
        lines += [f"  params={f.params}, seed={f.seed}" for f in failures[:10]]
        if len(failures) > 10:
            lines.append(f"  ... and {len(failures) - 10} more (see .failures)")
        lines.append(f"first error (params={first.params}, seed={first.seed}):")
        lines.append(first.error.rstrip())
        super().__init__("\n".join(lines))


def sweep(func, grid, seeds, backend="auto", cache_dir=None, progress=True, n_jobs=None, scheduler=None, batch=False):
    """Run ``func(**params, seed=seed)`` over a parameter grid × seeds; one table row per run.

    ``func`` must be a pure function of its keyword arguments: all its randomness drawn
    from ``seed`` (e.g. ``np.random.default_rng(seed)``), returning a dict that maps
    result names (str) to scalars (bool, int, float, str, or NumPy scalars of these
    kinds). Rows come in grid order (the first grid key varies slowest) and, within a
    grid point, in the order of ``seeds``, whatever the backend and the order in which
    runs finish, so the same seeds give the same table.

    With ``batch=True`` the runs of one grid point are computed in one call,
    ``func(**params, seeds=array)``, which returns a list of one result dict per seed, in
    the order of ``seeds`` (e.g. the seeds' systems integrated together by
    :func:`mtlib.simulate_batch`). The call gets the seeds of that point still to compute
    (those not in the cache), so each seed's result must depend on its seed only, not on
    the others it is computed with; the table, the cache (one file per parameters and
    seed) and the failures are those of the per-seed sweep. A batch call that raises fails
    all its runs with its traceback; a task of the parallel backends is one grid point.

    Backends:

    - ``"serial"``: one run after another in this process.
    - ``"processes"``: ``n_jobs`` local worker processes (joblib's loky backend, which
      pickles functions defined in scripts, tests or notebooks with cloudpickle); each
      worker runs numba on ``max(1, cores // n_jobs)`` threads and exits within
      ``WATCH_S`` seconds of its next Python step once the sweeping process is gone.
    - ``"dask"``: the ``dask.distributed`` cluster at ``scheduler`` (an address such as
      ``"tcp://10.0.0.5:8786"``, default: the environment variable
      ``MTLIB_DASK_SCHEDULER``); each task runs numba on
      ``max(1, worker cores // worker threads)`` threads. ``func`` must be importable or
      picklable on the workers, and the cache stays on this machine.
    - ``"auto"``: ``"dask"`` if a scheduler address is given (argument or environment
      variable), else ``"processes"`` when there are several tasks to compute, several
      cores and ``n_jobs`` is not 1, else ``"serial"``.

    With ``cache_dir``, each finished run is stored at once in
    ``cache_dir/<function name>-<hash>/<run hash>.json``; the hashes cover ``func``'s
    source, name and module, the parameters, the seed and ``mtlib.__version__``, so
    editing ``func`` starts a new cache (helpers that ``func`` calls are not hashed: clear
    the folder after changing them). A later call with the same arguments recomputes
    nothing already stored, and resumes an interrupted sweep; unreadable or corrupt files
    (bad or too deeply nested JSON, wrong key, checksum mismatch, a folder in their place)
    are recomputed with a warning. On Linux, while a sweep computes a run it holds
    ``<run hash>.lock`` (host, pid): a concurrent sweep waits for that run and reads its
    result (a lock whose process is gone is broken). Runs that return NaN or inf are
    cached as they are, with a RuntimeWarning naming them.

    Parameters
    ----------
    func : callable
        ``func(**params, seed=seed) -> dict[str, scalar]``; with ``batch``,
        ``func(**params, seeds=ndarray of int64) -> list of dict[str, scalar]``.
    grid : dict or list of dict
        A dict maps parameter names to lists of values (a scalar stands for a one-value
        list) and gives their Cartesian product; a list of dicts gives the points
        themselves, all with the same names. Values: bool, int, float or str. At most
        ``MAX_RUNS`` (10**6) runs: grid points x seeds.
    seeds : int or sequence of int
        Distinct seeds >= 0; an int ``n`` (1 <= n <= ``MAX_RUNS``) means ``range(n)``.
    backend : {"auto", "serial", "processes", "dask"}
    cache_dir : str or path-like, optional
        Folder of the on-disk cache (created if needed; not empty, not a file); None: no
        cache.
    progress : bool
        Show a tqdm progress bar over runs.
    n_jobs : int, optional
        Worker processes for ``"processes"``, 1 <= n_jobs <= 4 x cores (default: the
        number of cores, at most the number of runs to compute). Ignored by the other
        backends.
    scheduler : str, optional
        Address of a dask scheduler; selects the dask backend under ``"auto"``.
    batch : bool
        Compute all seeds of a grid point in one call of ``func`` (see above); a
        parameter may not then be named ``seeds``.

    Returns
    -------
    pandas.DataFrame
        One row per run: a column per parameter, ``seed``, a column per result name
        (missing results are NaN). ``table.attrs["wall_time"]``: the seconds the call
        took; ``table.attrs["computed"]``: the number of runs it computed (the others
        came from the cache).

    Raises
    ------
    TypeError, ValueError
        Before any run, for an argument outside the ranges above.
    SweepError
        After all other runs finished, when some runs raised: names each failing
        parameter set and seed, carries the first traceback, ``.failures`` (a list of
        :class:`SweepFailure`) and the partial ``.table``.

    References
    ----------
    joblib (https://joblib.readthedocs.io) and dask.distributed
    (https://distributed.dask.org), the engines behind the parallel backends.
    """
    start = time.perf_counter()
    if not callable(func):
        raise TypeError(f"func must be callable, got {type(func).__name__}")
    for flag, value in (("progress", progress), ("batch", batch)):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"{flag} must be a bool, got {type(value).__name__}")
    points, seeds = _grid_points(grid), _check_seeds(seeds)
    if batch and "seeds" in points[0]:
        raise ValueError("with batch=True, 'seeds' is the argument that func receives: rename that parameter")
    if len(points) * len(seeds) > MAX_RUNS:
        raise ValueError(f"the sweep has {len(points) * len(seeds)} runs (grid points x seeds), more than {MAX_RUNS}")
    backend = check_choice(backend, "backend", BACKENDS)
    if n_jobs is not None:
        n_jobs = check_int(n_jobs, "n_jobs", low=1, high=JOBS_PER_CORE * _cores())
    if scheduler is None:
        scheduler = os.environ.get(DASK_SCHEDULER_ENV) or None
    elif not isinstance(scheduler, str):
        raise TypeError(f"scheduler must be an address string such as 'tcp://host:8786', got {type(scheduler).__name__}")
    elif not scheduler.strip():
        raise ValueError("scheduler must not be empty: give an address such as 'tcp://host:8786', or None")
    if backend == "dask" and scheduler is None:
        raise ValueError(f"backend='dask' needs a scheduler address (argument scheduler or ${DASK_SCHEDULER_ENV})")
    root = cache_root(cache_dir) if cache_dir is not None else None

    runs = [(params, seed) for params in points for seed in seeds]
    cache = Cache(root, func) if root is not None else None
    outcomes = [cache.load(params, seed) if cache else None for params, seed in runs]
    todo = [i for i, outcome in enumerate(outcomes) if outcome is None]

    from tqdm.auto import tqdm

    bar = tqdm(total=len(runs), initial=len(runs) - len(todo), unit="run", desc="sweep", disable=not progress)
    computed, nonfinite = 0, []
    try:
        mine, waiting = _claim(cache, runs, todo, outcomes, bar, reload=False)
        if waiting:  # later rounds only shrink this list
            message = f"{len(waiting)} runs are being computed by another sweep (lock files *.lock in {cache.folder})"
            warnings.warn(f"{message}: waiting for its results; delete its lock files if that sweep is gone", stacklevel=2)
        while mine or waiting:
            for i, result, error in _execute(func, runs, mine, backend, n_jobs, scheduler, batch):
                if cache:
                    if error is None:
                        cache.store(*runs[i], result)
                        bad = [k for k, v in result.items() if isinstance(v, float) and not math.isfinite(v)]
                        nonfinite += [(*runs[i], bad)] if bad else []
                    cache.release(*runs[i])
                outcomes[i] = (result, error)
                computed += 1
                bar.update(1)
            time.sleep(LOCK_POLL_S if waiting else 0)
            mine, waiting = _claim(cache, runs, waiting, outcomes, bar, reload=True)
    finally:
        bar.close()
        for lock in cache.held if cache else ():  # the sweep stopped early
            lock.unlink(missing_ok=True)
    if nonfinite:
        shown = "; ".join(f"params={p}, seed={s}: {', '.join(names)}" for p, s, names in nonfinite[:10])
        message = f"{len(nonfinite)} runs returned NaN or inf results, cached as they are in {cache.folder}"
        more = "; ..." if len(nonfinite) > 10 else ""
        warnings.warn(f"{message} (delete a run's file to recompute it): {shown}{more}", RuntimeWarning, stacklevel=2)

    rows = [_row(params, seed, out[0]) for (params, seed), out in zip(runs, outcomes) if out[1] is None]
    table = _table(rows, list(points[0]))
    table.attrs.update(wall_time=time.perf_counter() - start, computed=computed)
    failures = [SweepFailure(params=p, seed=s, error=out[1]) for (p, s), out in zip(runs, outcomes) if out[1] is not None]
    if failures:
        raise SweepError(failures, table)
    return table


# ----------------------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------------------


def _values(values, what):
    """``values`` as a list of at most MAX_RUNS items (read lazily); a scalar (a str, a 0-d
    array, anything not iterable) stands for one value."""
    scalar = isinstance(values, (str, bytes)) or not isinstance(values, Iterable) or getattr(values, "ndim", 1) == 0
    out = [values] if scalar else list(itertools.islice(values, MAX_RUNS + 1))
    if len(out) > MAX_RUNS:
        raise ValueError(f"{what}: more than {MAX_RUNS} values; a sweep has at most MAX_RUNS runs")
    return out


def _grid_points(grid):
    """The list of parameter dicts of a grid (dict of lists, or list of dicts)."""
    if isinstance(grid, dict):
        if not grid:
            raise ValueError("grid must not be empty: give at least one parameter with at least one value")
        axes = {}
        for name, values in grid.items():
            axes[name] = [scalar(v, f"grid[{name!r}] values") for v in _values(values, f"grid[{name!r}]")]
            if not axes[name]:
                raise ValueError(f"grid[{name!r}] is empty: give at least one value")
        size = math.prod(len(values) for values in axes.values())
        if size > MAX_RUNS:
            raise ValueError(f"grid: {size} grid points (the product of its value counts), more than MAX_RUNS = {MAX_RUNS}")
        points = [dict(zip(axes, combo)) for combo in itertools.product(*axes.values())]
    elif isinstance(grid, (list, tuple)):
        if not (grid := _values(grid, "grid")):
            raise ValueError("grid must not be empty: give at least one parameter dict")
        if not all(isinstance(p, dict) for p in grid):
            raise TypeError("a grid given as a list must hold dicts of parameter values")
        points = [{name: scalar(v, f"grid parameter {name!r}") for name, v in p.items()} for p in grid]
        if any(list(p) != list(points[0]) for p in points):
            raise ValueError(f"every grid point must have the same parameter names, in order, as the first: {list(points[0])}")
    else:
        raise TypeError(f"grid must be a dict of lists or a list of dicts, got {type(grid).__name__}")
    for name in points[0]:
        if not isinstance(name, str) or not name.isidentifier() or name == "seed":
            raise ValueError(f"parameter names must be identifiers other than 'seed', got {name!r}")
    return points


def _check_seeds(seeds):
    """Distinct non-negative int seeds from an int count or a sequence."""
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        seeds = range(check_int(seeds, "seeds", low=1, high=MAX_RUNS))
    elif isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable) or getattr(seeds, "ndim", 1) != 1:
        raise TypeError("seeds must be an int (a count) or a sequence of ints")
    out = [check_int(s.item() if isinstance(s, np.generic) else s, "seed", low=0) for s in _values(seeds, "seeds")]
    if not out:
        raise ValueError("seeds must not be empty")
    if len(set(out)) != len(out):
        raise ValueError("seeds must be distinct")
    return out


# ----------------------------------------------------------------------------------------
# Running
# ----------------------------------------------------------------------------------------


def _cores():
    """Cores available to this process (affinity and container limits included)."""
    import joblib

    return joblib.cpu_count()


def _call(func, params, seeds, threads, batch):
    """Run one task with numba on ``threads`` threads (a dict: dask threads per host).

    A dict maps each worker host to the number of dask threads on it; the task then uses
    ``max(1, host cores // that number)`` numba threads. The task is ``func(**params,
    seed=seeds[0])``, or with ``batch`` one call ``func(**params, seeds=array)`` for all
    ``seeds``. Returns one ``(result, None)`` or ``(None, traceback text)`` per seed; never
    raises, so one failing run cannot stop the others (a failing batch call fails each of
    its runs with the same traceback).
    """
    try:
        if isinstance(threads, dict):
            import distributed

            worker = distributed.get_worker()
            busy = threads.get(distributed.comm.get_address_host(worker.address), worker.state.nthreads)
            threads = max(1, _cores() // busy)
        numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))
        if not batch:
            return [(check_result(func(**params, seed=seeds[0]), params), None)]
        results = _check_batch(func(**params, seeds=np.array(seeds, dtype=np.int64)), len(seeds))
    except Exception:
        return [(None, traceback.format_exc())] * len(seeds)
    out = []
    for result in results:
        try:
            out.append((check_result(result, params), None))
        except Exception:
            out.append((None, traceback.format_exc()))
    return out


def _check_batch(results, n_seeds):
    """The results of a batch call: a list or tuple of one result per seed."""
    if not isinstance(results, (list, tuple)):
        raise TypeError(f"with batch=True, func must return a list of {n_seeds} result dicts (one per seed), "
                        f"got {type(results).__name__}")
    if len(results) != n_seeds:
        raise ValueError(f"with batch=True, func returned {len(results)} results for {n_seeds} seeds")
    return results


def _tasks(runs, indices, batch):
    """The run indices grouped into tasks: one run each, or (batch) the runs of each grid point."""
    if not batch:
        return [[i] for i in indices]
    return [list(group) for _, group in itertools.groupby(indices, key=lambda i: id(runs[i][0]))]


def _execute(func, runs, todo, backend, n_jobs, scheduler, batch=False):
    """Yield ``(i, result, error)`` for every run index in ``todo``, in completion order."""
    tasks = _tasks(runs, todo, batch)
    if not tasks:
        return
    cores = _cores()
    if backend == "auto":
        if scheduler is not None:
            backend = "dask"
        elif len(tasks) > 1 and cores > 1 and n_jobs != 1:
            backend = "processes"
        else:
            backend = "serial"
    if backend == "serial":
        threads = numba.get_num_threads()
        for task in tasks:
            yield from _indexed(func, [runs[i] for i in task], task, threads, batch=batch)
    elif backend == "processes":
        import joblib

        jobs = min(n_jobs or cores, len(tasks))
        threads = max(1, cores // jobs)
        parallel = joblib.Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered")
        calls = (joblib.delayed(_indexed)(func, [runs[i] for i in t], t, threads, os.getpid(), batch) for t in tasks)
        for outcomes in parallel(calls):
            yield from outcomes
    else:
        yield from _execute_dask(func, runs, tasks, scheduler, batch)


def _indexed(func, task_runs, task, threads, parent=None, batch=False):
    """Run a task's (params, seed) pairs in a worker, each tagged with its index: ``[(i, result, error)]``.

    ``parent``: the pid of the sweeping process, which a worker that is its child watches
    (once per process, in a daemon thread): a dead parent's children get another one, so
    when ``os.getppid()`` changes the worker calls ``os._exit``. Otherwise loky workers
    outlive a ``kill -9`` of the sweep and run the queued tasks, whose results are lost.
    """
    if parent is not None and not _watching and os.getppid() == parent:  # not when joblib runs it here
        _watching.append(threading.Thread(target=_watch, args=(parent,), name="mtlib-sweep-watch", daemon=True))
        _watching[0].start()
    outcomes = _call(func, task_runs[0][0], [seed for _, seed in task_runs], threads, batch)
    return [(i, *outcome) for i, outcome in zip(task, outcomes)]


_watching = []  # the thread of this worker process that watches its parent


def _watch(parent):
    """Exit this process within WATCH_S seconds once its parent is not ``parent``."""
    while os.getppid() == parent:
        time.sleep(WATCH_S)
    os._exit(1)


def _claim(cache, runs, indices, outcomes, bar, reload):
    """Split run indices into ``(mine, waiting)``: runs this sweep locks, runs another holds.

    With ``reload``, a run this sweep locks is first read from the cache (into ``outcomes``
    and ``bar``): the sweep that held it may have stored it.
    """
    if cache is None:
        return list(indices), []
    mine, waiting = [], []
    for i in indices:
        if not cache.claim(*runs[i]):
            waiting.append(i)
        elif reload and (outcome := cache.load(*runs[i])) is not None:
            outcomes[i] = outcome
            cache.release(*runs[i])
            bar.update(1)
        else:
            mine.append(i)
    return mine, waiting


def _execute_dask(func, runs, tasks, scheduler, batch):
    """Yield ``(i, result, error)`` from the dask cluster at ``scheduler``, as tasks finish."""
    import distributed

    with distributed.Client(scheduler, set_as_default=False) as client:
        per_host = {}
        for address, info in client.scheduler_info(n_workers=-1)["workers"].items():
            host = distributed.comm.get_address_host(address)
            per_host[host] = per_host.get(host, 0) + info["nthreads"]
        futures = [
            client.submit(_indexed, func, [runs[i] for i in t], t, per_host, None, batch, pure=False) for t in tasks
        ]
        for future in distributed.as_completed(futures, loop=client.loop):
            yield from future.result()


def _row(params, seed, result):
    """One table row: the parameters, the seed, the results."""
    return {**params, "seed": seed, **result}


def _table(rows, names):
    """The tidy DataFrame of the rows (columns: parameters, seed, results)."""
    import pandas as pd

    columns = [*names, "seed"]
    for row in rows:
        columns += [c for c in row if c not in columns]
    return pd.DataFrame(rows, columns=columns)
