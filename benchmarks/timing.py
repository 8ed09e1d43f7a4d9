"""Timing helper shared by the benchmark scripts (run them as ``python benchmarks/bench_*.py``)."""

import time

import numpy as np


def median_time(f, repeats, warmup=True):
    """Median wall time in seconds of ``f()`` over ``repeats`` calls, and the last result.

    With ``warmup`` one extra call runs first and is not timed (it compiles numba kernels
    and fills caches). Compare medians measured in one process, as ratios: the machine
    is shared and absolute times drift between runs.
    """
    result = f() if warmup else None
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = f()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), result


def fmt(seconds):
    """A duration for the tables: milliseconds below one second, else seconds (3 digits)."""
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"
