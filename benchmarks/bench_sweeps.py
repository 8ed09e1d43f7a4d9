"""mt.sweep: wall time of the serial and process backends and of a cached rerun.

Prints a markdown table for two workloads over the same grid × seeds: an empty run
(``{"value": seed}``, the engine's own overhead per run) and a real one (USA on the circle,
N tokens, β = 5, to t = 0.2, and |ĉ_3| at the end). Columns: backend, wall time, time
per run, speed-up over serial. The first process sweep includes starting the workers;
the second reuses them (joblib keeps its loky workers). Usage:
``python benchmarks/bench_sweeps.py [--quick]``.
"""

import argparse
import tempfile
import time

import mtlib as mt


def empty(n, seed):
    """No work: measures the engine."""
    return {"value": seed}


def usa_run(n, seed):
    """USA on the circle from N uniform tokens, β = 5, to t = 0.2; |ĉ_3| at the end."""
    theta = mt.simulate(mt.uniform_circle(n, rng=seed), 5.0, [0.2], dt=0.01).states[-1]
    return {"c3": abs(mt.fourier_coefficients(theta, 3))}


def timed(func, grid, seeds, **kwargs):
    start = time.perf_counter()
    table = mt.sweep(func, grid, seeds, progress=False, **kwargs)
    return time.perf_counter() - start, table


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 1e4 and 16 seeds")
    args = parser.parse_args()
    n, seeds = (10**4, 16) if args.quick else (10**5, 32)
    print("| workload | backend | wall | per run | speed-up |")
    print("|---|---|---|---|---|")
    for func in (empty, usa_run):
        grid = {"n": [n]}
        func(n, 0)  # compile / load the kernels in this process
        serial, reference = timed(func, grid, seeds, backend="serial")
        rows = [("serial", serial, reference)]
        rows.append(("processes (start)", *timed(func, grid, seeds, backend="processes")))
        rows.append(("processes (warm)", *timed(func, grid, seeds, backend="processes")))
        with tempfile.TemporaryDirectory() as cache:
            timed(func, grid, seeds, backend="serial", cache_dir=cache)
            rows.append(("cached rerun", *timed(func, grid, seeds, cache_dir=cache)))
        for name, wall, table in rows:
            assert table.equals(reference), name
            print(f"| {func.__name__} ({seeds} runs, N = {n:.0e}) | {name} | {wall:.3g} s | "
                  f"{wall / seeds * 1e3:.3g} ms | {serial / wall:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
