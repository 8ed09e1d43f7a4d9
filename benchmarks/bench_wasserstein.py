"""W1 on the circle: mtlib.wasserstein_circle against POT's ot.wasserstein_circle.

Prints a markdown table: sample size N (both samples), median times of mtlib and POT
over repeats in this one process, their ratio and the largest absolute difference of
the distances (radians, circle of length 2π). Goal: >= 30x POT at N = 1e5, agreeing to
1e-10. Usage: ``python benchmarks/bench_wasserstein.py [--quick]``.
"""

import argparse

import numpy as np
import ot

import mtlib as mt
from timing import median_time

TWO_PI = 2 * np.pi



def pot_w1(u, v):
    return TWO_PI * float(np.ravel(ot.wasserstein_circle(u / TWO_PI % 1, v / TWO_PI % 1, p=1))[0])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N = 1e3..1e5, fewer repeats")
    args = parser.parse_args()
    sizes = [10**3, 10**4, 10**5] if args.quick else [10**3, 10**4, 10**5, 10**6]
    rng = np.random.default_rng(0)
    mt.wasserstein_circle(rng.uniform(0, TWO_PI, 10), rng.uniform(0, TWO_PI, 10))  # compile
    print("| N | mtlib | POT | ratio | max abs diff |")
    print("|---|---|---|---|---|")
    for N in sizes:
        repeats = 3 if N >= 10**6 else (5 if args.quick else 11)
        pairs = [(rng.uniform(0, TWO_PI, N), rng.vonmises(1.0, 2.0, N)) for _ in range(3)]
        diff = max(abs(mt.wasserstein_circle(u, v) - pot_w1(u, v)) for u, v in pairs)
        u, v = pairs[0]
        t_mt = median_time(lambda: mt.wasserstein_circle(u, v), repeats, warmup=False)[0]
        t_pot = median_time(lambda: pot_w1(u, v), repeats, warmup=False)[0]
        print(f"| {N:.0e} | {t_mt * 1e3:.3g} ms | {t_pot * 1e3:.3g} ms | {t_pot / t_mt:.0f}x | {diff:.1e} |",
              flush=True)


if __name__ == "__main__":
    main()
