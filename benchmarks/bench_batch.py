"""Benchmark mt.simulate_batch against the Python loop over mt.simulate (many small systems).

B = 100 independent systems, RK4, 100 steps (t from 0 to 1, dt = 0.01), USA at β = 1:
(n, d) = (32, 128) and (32, 16) on the sphere, n = 64 angles on the circle. Prints the
medians of both, their ratio, and the largest difference between the two results
(identical to rounding: the same steps, the field to ~1e-15 relative). Medians of
repeats timed alternately in one process: compare the ratios, the machine is shared.

    python benchmarks/bench_batch.py           # 5 repeats
    python benchmarks/bench_batch.py --quick   # 2 repeats, B = 20
"""

import argparse
import time

import numpy as np

import mtlib as mt

CASES = (("sphere", 32, 128), ("sphere", 32, 16), ("circle", 64, None))


def initial_states(kind, B, n, d, seed):
    """B systems of n uniform tokens: unit rows (B, n, d) or angles (B, n)."""
    if kind == "circle":
        return np.stack([mt.uniform_circle(n, rng=seed + b) for b in range(B)])
    return np.stack([mt.uniform_sphere(n, d, rng=seed + b) for b in range(B)])


def interleaved_medians(f, g, repeats):
    """Median wall times of f() and g(), timed alternately after one untimed call of each
    (so that both see the same load on a shared machine), and their last results."""
    out_f, out_g = f(), g()
    times_f, times_g = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        out_f = f()
        times_f.append(time.perf_counter() - start)
        start = time.perf_counter()
        out_g = g()
        times_g.append(time.perf_counter() - start)
    return float(np.median(times_f)), out_f, float(np.median(times_g)), out_g


def largest_difference(a, b, circle):
    """Max |a - b| (circular on the circle)."""
    return float(np.max(np.abs(mt.circular_difference(a, b) if circle else a - b)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="B = 20, 2 repeats")
    args = parser.parse_args()
    B, reps = (20, 2) if args.quick else (100, 5)
    beta, t_eval, dt = 1.0, np.array([0.0, 1.0]), 0.01
    print(f"B = {B} systems, RK4 100 steps, USA beta = {beta}; medians of {reps}\n")
    print("| case | loop over simulate | simulate_batch | ratio | max difference |")
    print("|---|---|---|---|---|")
    for kind, n, d in CASES:
        X = initial_states(kind, B, n, d, seed=0)

        def loop(X=X):
            return np.stack([mt.simulate(x, beta, t_eval, dt=dt).states for x in X], axis=1)

        def batch(X=X):
            return mt.simulate_batch(X, beta, t_eval, dt=dt).states

        t_loop, s_loop, t_batch, s_batch = interleaved_medians(loop, batch, reps)
        diff = largest_difference(s_batch, s_loop, kind == "circle")
        label = f"circle n={n}" if kind == "circle" else f"sphere n={n}, d={d}"
        print(f"| {label} | {t_loop * 1e3:.0f} ms | {t_batch * 1e3:.0f} ms | {t_loop / t_batch:.1f}x | {diff:.1e} |")


if __name__ == "__main__":
    main()
