"""Benchmarks for mtlib.pde and mtlib.grenier: the paper's Figure 4 PDE runs (β = 5 to t = 0.5, β = 7 to 0.08).

Each run starts from uniform plus white noise at the authors' level (σ = 0.01 per node
on their 9999-node grid, i.e. Fourier coefficients of size 6.3e-4) and uses
``method="auto"``: spectral while resolved, Lagrangian after. Accuracy is the largest
W1 distance, over the output times, to a reference run with 100x tighter tolerances and
twice the Lagrangian points. The authors' Lax–Friedrichs runs took 118 s (β = 5) and
21 s (β = 7, blew up near t = 0.062) on an H100 (their notebook's timings, not measured
here). Prints a markdown table.

    python benchmarks/bench_pde.py           # full run (well under a minute)
    python benchmarks/bench_pde.py --quick   # fewer repeats
"""

import argparse
import time

import numpy as np

import mtlib as mt
from timing import median_time

TWO_PI = 2 * np.pi


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args()
    reps = 3 if args.quick else 7
    M = 1024
    rows = []
    for beta, t_end, authors in ((5.0, 0.5, "118 s"), (7.0, 0.08, "21 s, blew up")):
        rho0 = mt.white_noise_density(M, 0.01, rng=0)
        t = np.linspace(0.0, t_end, 51)
        wall, sol = median_time(lambda: mt.solve_circle_pde(rho0, beta, t), reps)
        ref = mt.solve_circle_pde(rho0, beta, t, rtol=1e-8, n_points=2 * M)
        # spectral snapshots are node values of a band-limited density, Lagrangian ones cell
        # averages (the reference hands over at about the same time)
        spectral = t <= min(np.inf if r.handover_time is None else r.handover_time for r in (sol, ref))
        w1 = max(
            mt.wasserstein_circle_densities(a, b, sampling="nodes" if s else "cells")
            for a, b, s in zip(sol.density, ref.density, spectral)
        )
        c = np.abs(mt.density_fourier_coefficients(sol.density[-1], np.arange(1, 8)))
        rows.append(
            (
                f"Fig. 4, β = {beta:g}, t ∈ [0, {t_end:g}], M = {M}",
                f"{wall * 1e3:.0f} ms",
                f"{sol.handover_time:.4f}",
                f"{sol.spectral_steps} / {sol.lagrangian_steps}",
                f"{sol.mass_error:.1e}",
                f"{sol.min_density:.2e}",
                f"{w1:.1e}",
                f"{int(np.argmax(c)) + 1} (k_max = {mt.kmax(beta)})",
                authors,
            )
        )
    # the pure spectral method on a finer grid: where it stops being resolved
    rho0 = mt.white_noise_density(4096, 0.01, rng=0)
    start = time.perf_counter()
    try:
        mt.solve_circle_pde(rho0, 5.0, [0.0, 0.5], method="spectral")
        note = "resolved to t = 0.5"
    except mt.UnderResolvedError as err:
        note = f"under-resolved after t = {err.time:.4f} (raises; auto hands over)"
    rows.append(("spectral only, β = 5, M = 4096", f"{(time.perf_counter() - start) * 1e3:.0f} ms", note,
                 "", "", "", "", "", ""))
    # the linear phase: fitted growth rate of mode 3 against γ_3
    theta = mt.pde_grid(256)
    rho_lin = (1 + 1e-10 * np.cos(3 * theta + 0.4)) / TWO_PI
    lin = mt.solve_circle_pde(rho_lin, 5.0, [0.0, 0.3], method="spectral")
    c0, c1 = np.abs(mt.density_fourier_coefficients(lin.density, 3))
    fitted = np.log(c1 / c0) / 0.3
    gamma = mt.growth_rate(3, 5.0)
    rows.append(("linear phase, β = 5: fitted γ_3", f"{fitted:.9f}", f"γ_3 = {gamma:.9f}",
                 "", "", "", f"rel. err {abs(fitted / gamma - 1):.1e}", "", ""))
    # Grenier's expansion (order 4) against the spectral solution in the quasi-linear phase
    rho_q = (1 + 1e-3 * (np.cos(3 * theta) + 0.7 * np.sin(2 * theta - 0.3))) / TWO_PI
    t_q = np.array([0.0, 0.3])
    wall, gren = median_time(lambda: mt.grenier_expansion(rho_q, 5.0, t_q, order=4), reps)
    exact = mt.solve_circle_pde(rho_q, 5.0, t_q, method="spectral", rtol=1e-11).density[-1]
    errs = ", ".join(f"{np.abs(gren.partial_sum(m)[-1] - exact).max():.1e}" for m in range(1, 5))
    rows.append(("Grenier expansion, order 4, β = 5, M = 256, t = 0.3", f"{wall * 1e3:.0f} ms", "",
                 f"{gren.n_steps} / -", "", "", f"max err orders 1-4: {errs}", "", ""))

    header = ("run", "wall (median)", "hand-over t", "steps spectral / Lagrangian", "mass error",
              "min ρ", "W1 to reference", "dominant mode at t_end", "authors (H100)")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
