"""W1 on the circle: mtlib against POT's ot.wasserstein_circle, for samples and for densities.

Prints two markdown tables. Samples: sample size N (both samples), median times of
``mt.wasserstein_circle`` and POT over repeats in this one process, their ratio and the
largest absolute difference of the distances (radians, circle of length 2π); goal >= 30x
POT at N = 1e5, agreeing to 1e-10. Densities: grid size M (both densities), the time of
the exact ``mt.wasserstein_circle_densities`` and of POT on the densities written as
weighted samples with Q = 8 points per cell, and their difference (at most π/(8M), the
error of that sampling). Usage: ``python benchmarks/bench_wasserstein.py [--quick]``.
"""

import argparse

import numpy as np
import ot

import mtlib as mt
from timing import median_time

TWO_PI = 2 * np.pi
POINTS_PER_CELL = 8


def pot_w1(u, v, u_weights=None, v_weights=None):
    """W1 from POT (W1 on the circle of length 1), in radians."""
    value = ot.wasserstein_circle(u / TWO_PI % 1, v / TWO_PI % 1, u_weights, v_weights, p=1)
    return TWO_PI * float(np.ravel(value)[0])


def density_sample(rho):
    """A density on M cells as POINTS_PER_CELL equally weighted midpoints per cell."""
    M = rho.size
    points = (np.arange(M * POINTS_PER_CELL) + 0.5) * TWO_PI / (M * POINTS_PER_CELL)
    weights = np.repeat(rho / rho.sum(), POINTS_PER_CELL) / POINTS_PER_CELL
    return points, weights


def random_density(M, rng):
    """A smooth positive density on M cells: (1 + 0.5 cos(θ - φ) + 0.3 cos(3θ)) / 2π plus noise."""
    theta = TWO_PI * (np.arange(M) + 0.5) / M
    rho = 1 + 0.5 * np.cos(theta - rng.uniform(0, TWO_PI)) + 0.3 * np.cos(3 * theta) + 0.1 * rng.random(M)
    return rho / (rho.sum() * TWO_PI / M)


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
    print()
    print(f"| M | mtlib (exact) | POT ({POINTS_PER_CELL} points per cell) | ratio | abs diff | π/(8M) |")
    print("|---|---|---|---|---|---|")
    for M in [s // 10 for s in sizes]:
        repeats = 3 if M >= 10**5 else (5 if args.quick else 11)
        ru, rv = random_density(M, rng), random_density(M, rng)
        (x, a), (y, b) = density_sample(ru), density_sample(rv)
        t_mt, exact = median_time(lambda: mt.wasserstein_circle_densities(ru, rv), repeats)
        t_pot, sampled = median_time(lambda: pot_w1(x, y, a, b), repeats, warmup=False)
        print(f"| {M:.0e} | {t_mt * 1e3:.3g} ms | {t_pot * 1e3:.3g} ms | {t_pot / t_mt:.0f}x | "
              f"{abs(exact - sampled):.1e} | {np.pi / (8 * M):.1e} |", flush=True)


if __name__ == "__main__":
    main()
