"""Benchmarks for mtlib.fields and mtlib.dynamics: velocity kernels, the paper's Figure 2 run, events.

Prints a markdown table of medians and of ratios against NumPy references measured in the
same process (the machine is shared: compare ratios, not absolute times).

    python benchmarks/bench_dynamics.py           # full run (about 1-2 minutes)
    python benchmarks/bench_dynamics.py --quick   # smaller sizes (seconds)
"""

import argparse

import numba
import numpy as np

import mtlib as mt
from timing import median_time



def numpy_velocity(X, beta):
    """The NumPy O(N²) matmul form of the USA field: P_x (exp(β X Xᵀ) X / N)."""
    V = np.exp(beta * (X @ X.T)) @ X / X.shape[0]
    return V - np.sum(V * X, axis=1, keepdims=True) * X


def direct_rows_reference(theta, beta, rows, chunk=8):
    """USA circle velocity at the given rows by the direct sum in NumPy."""
    out = []
    for r0 in range(0, rows.size, chunk):
        D = theta[None, :] - theta[rows[r0 : r0 + chunk], None]
        out.append(np.mean(np.exp(beta * np.cos(D)) * np.sin(D), axis=1))
    return np.concatenate(out)


def fmt(seconds):
    return f"{seconds * 1e3:.3g} ms" if seconds < 1 else f"{seconds:.3g} s"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    args = parser.parse_args()
    quick = args.quick
    reps = 3 if quick else 7
    beta = 5.0
    rng = np.random.default_rng(0)
    rows = []  # (benchmark, mtlib, reference, ratio, note)

    # circle velocity, N = 1e4 (1e3 quick): NumPy matmul form vs Fourier vs direct
    n = 1_000 if quick else 10_000
    theta = mt.uniform_circle(n, rng)
    P = mt.angles_to_points(theta)
    ref = median_time(lambda: numpy_velocity(P, beta), 1 if not quick else reps)[0]
    V = numpy_velocity(P, beta)
    v_ref = -np.sin(theta) * V[:, 0] + np.cos(theta) * V[:, 1]
    for method in ("fourier", "direct"):
        t = median_time(lambda: mt.velocity_circle(theta, beta, method=method), reps)[0]
        err = np.abs(mt.velocity_circle(theta, beta, method=method) - v_ref).max()
        rows.append((f"circle velocity {method}, N={n}", fmt(t), fmt(ref), f"{ref / t:.0f}x", f"max err {err:.1e}"))

    # circle velocity, N = 1e6 (1e5 quick): Fourier, error against the direct sum on sampled rows
    n = 100_000 if quick else 1_000_000
    theta = mt.uniform_circle(n, rng)
    threads = numba.get_num_threads()
    per_threads = {}
    for nt in (1, threads):
        numba.set_num_threads(nt)
        per_threads[nt] = median_time(lambda: mt.velocity_circle(theta, beta), reps)[0]
    numba.set_num_threads(threads)
    sample = rng.choice(n, 32, replace=False)
    err = np.abs(mt.velocity_circle(theta, beta)[sample] - direct_rows_reference(theta, beta, sample)).max()
    rows.append(
        (
            f"circle velocity auto (Fourier, M={mt.fourier_cutoff(beta)}), N={n}",
            fmt(per_threads[threads]),
            f"{fmt(per_threads[1])} (1 thread)",
            f"{per_threads[1] / per_threads[threads]:.2f}x",
            f"{threads} threads; max err vs direct {err:.1e} (32 rows)",
        )
    )

    # Figure 2 run: N = 2e4, β = 5, t in [0, 0.6], 61 outputs; accuracy against dt/4
    n = 2_000 if quick else 20_000
    theta0 = mt.uniform_circle(n, 1)
    t_eval = np.linspace(0.0, 0.6, 61)
    mt.simulate(theta0[:100], beta, [0.01])  # compile / load the kernels
    runs = [mt.simulate(theta0, beta, t_eval) for _ in range(3)]
    res = runs[int(np.argsort([r.wall_time for r in runs])[1])]
    fine = mt.simulate(theta0, beta, t_eval, dt=res.dt / 4)
    err = np.abs(np.angle(np.exp(1j * (res.states - fine.states)))).max()
    rows.append(
        (
            f"Figure 2 run, N={n}, β=5, t∈[0,0.6], RK4",
            fmt(res.wall_time),
            "91 s (authors, H100)",
            f"{91 / res.wall_time:.0f}x",
            f"{res.n_steps} steps, dt={res.dt:.2e}; max angle diff vs dt/4: {err:.1e}",
        )
    )

    # a run stopped by a terminal event (the order parameter reaching 0.5), dopri: the cost
    # of watching and locating it against the same run to the event time without events,
    # and the located time against a run with 10^4x tighter tolerances
    def clustered(t, theta):
        return abs(np.mean(np.exp(1j * theta))) - 0.5

    clustered.terminal = True
    beta_1 = 1.0  # k_max = 1: one cluster, the order parameter goes to 1
    wall, hit = median_time(lambda: mt.simulate(theta0, beta_1, [0.0, 20.0], method="dopri", events=clustered), reps)
    t_hit = hit.t_events[0][0]
    plain = median_time(lambda: mt.simulate(theta0, beta_1, [0.0, t_hit], method="dopri"), reps)[0]
    tight = mt.simulate(theta0, beta_1, [0.0, 20.0], method="dopri", rtol=1e-12, atol=1e-14, events=clustered)
    rows.append(
        (
            f"terminal event (order parameter = 0.5), N={n}, β=1, dopri",
            fmt(wall),
            f"{fmt(plain)} (no event, to t_event)",
            f"{plain / wall:.2f}x",
            f"t_event = {t_hit:.9f}; rtol=1e-12: {tight.t_events[0][0]:.9f}",
        )
    )

    # general d: N = 1e4 (2e3 quick), d = 3 and 16, NumPy matmul form vs mtlib
    n = 2_000 if quick else 10_000
    for d in (3, 16):
        X = mt.uniform_sphere(n, d, rng)
        ref = median_time(lambda: numpy_velocity(X, beta), 1 if not quick else reps)[0]
        t = median_time(lambda: mt.velocity(X, beta), max(3, reps // 2))[0]
        err = np.abs(mt.velocity(X, beta) - numpy_velocity(X, beta)).max()
        rows.append((f"sphere velocity, d={d}, N={n}", fmt(t), fmt(ref), f"{ref / t:.1f}x", f"max err {err:.1e}"))

    print("| benchmark | mtlib | reference | ratio | note |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
