"""Benchmarks for mtlib.fields and mtlib.dynamics: velocity kernels, the paper's Figure 2 run, events.

Prints a markdown table of medians and of ratios against NumPy references measured in the
same process (the machine is shared: compare ratios, not absolute times), and the fraction
of two peaks measured in the same run: a numba FMA loop (one thread, GF/s per core) and a
1000×1000 DGEMM (np.dot, GF/s with BLAS's threads). The fair references are the NumPy
Fourier-mode form on the circle (powers of e^{iθ}) and the tiled NumPy direct sum on the
sphere (blocks of rows: a matmul, np.exp, the same projection, the self term zeroed).

    python benchmarks/bench_dynamics.py           # full run (a few minutes)
    python benchmarks/bench_dynamics.py --quick   # smaller sizes (seconds)
"""

import argparse

import numba
import numpy as np

import mtlib as mt
from mtlib import _field_eval
from timing import fmt, median_time


@numba.njit(fastmath={"contract"})
def fma_loop(a, n_iter):
    """Four independent chains of fused multiply-adds per element of a (4, m): 32 flops each."""
    for _ in range(n_iter):
        for l in range(a.shape[1]):
            x0, x1, x2, x3 = a[0, l], a[1, l], a[2, l], a[3, l]
            p0, p1, p2, p3 = x0, x1, x2, x3
            for _ in range(16):
                p0 = p0 * x0 + 0.5
                p1 = p1 * x1 + 0.5
                p2 = p2 * x2 + 0.5
                p3 = p3 * x3 + 0.5
            a[0, l], a[1, l], a[2, l], a[3, l] = p0 * 1e-300, p1 * 1e-300, p2 * 1e-300, p3 * 1e-300
    return a


def fma_peak(reps):
    """GF/s of :func:`fma_loop` on one thread (the median of reps runs of 3e8 flops)."""
    a = np.full((4, 256), 0.5)
    n_iter = 9000
    t = median_time(lambda: fma_loop(a, n_iter), reps)[0]
    return 4 * 256 * 32 * n_iter / t / 1e9


def dgemm_peak(reps):
    """(seconds, GF/s) of a 1000×1000 float64 matrix product (np.dot, BLAS's threads)."""
    A = np.random.default_rng(1).standard_normal((1000, 1000))
    t = median_time(lambda: np.dot(A, A), reps)[0]
    return t, 2e9 / t / 1e9


def numpy_fourier_velocity(theta, beta):
    """The USA circle field of N equal weights in plain NumPy from the Fourier modes:
    Z_m = mean(e^{imθ}) by powers of e^{iθ}, v = e^{|β|} Σ_m a_m Im(conj(e^{imθ}) Z_m)."""
    a, _, M = _field_eval.fourier_coefficients(beta)
    z = np.exp(1j * theta)
    power = np.ones_like(z)
    Z = np.empty(M + 1, complex)
    for m in range(M + 1):
        Z[m] = power.mean()
        power *= z
    v = np.zeros(theta.size)
    power = z.copy()
    for m in range(1, M + 1):
        v += a[m] * (Z[m].imag * power.real - Z[m].real * power.imag)
        power *= z
    return v * np.exp(abs(beta))


def tiled_numpy_velocity(X, beta, block=256):
    """The USA field of N equal weights by the direct sum in NumPy, tiled by blocks of rows:
    E = e^{β X_blk Xᵀ - |β|} / N (self term 0), num = E X, v = (num - <num, x> x) e^{|β|}."""
    n = X.shape[0]
    out = np.empty_like(X)
    for i0 in range(0, n, block):
        i1 = min(n, i0 + block)
        E = np.exp(beta * (X[i0:i1] @ X.T) - abs(beta)) / n
        E[np.arange(i1 - i0), np.arange(i0, i1)] = 0.0
        num = E @ X
        out[i0:i1] = num - np.sum(num * X[i0:i1], axis=1, keepdims=True) * X[i0:i1]
    return out * np.exp(abs(beta))


def rotation(phi):
    """The rotation matrix R_φ of the plane."""
    return np.array([[np.cos(phi), -np.sin(phi)], [np.sin(phi), np.cos(phi)]])


def direct_rows_reference(theta, beta, rows, chunk=8):
    """USA circle velocity at the given rows by the direct sum in NumPy."""
    out = []
    for r0 in range(0, rows.size, chunk):
        D = theta[None, :] - theta[rows[r0 : r0 + chunk], None]
        out.append(np.mean(np.exp(beta * np.cos(D)) * np.sin(D), axis=1))
    return np.concatenate(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    args = parser.parse_args()
    quick = args.quick
    reps = 3 if quick else 7
    beta = 5.0
    rng = np.random.default_rng(0)
    rows = []  # (benchmark, mtlib, reference, ratio, note)

    threads = numba.get_num_threads()
    fma = fma_peak(reps)
    t_dgemm, dgemm = dgemm_peak(reps)
    rows.append(("FMA loop (numba, 1 thread)", f"{fma:.0f} GF/s", "", "", f"{threads} numba threads below"))
    rows.append(("DGEMM 1000×1000 (np.dot)", fmt(t_dgemm), "", "", f"{dgemm:.0f} GF/s"))

    # circle velocity (Fourier modes) against the NumPy Fourier form; flops: 8 per token
    # and mode for the moments, 10 for the evaluation (USA)
    M = mt.fourier_cutoff(beta)
    for n in (10_000, 100_000) if quick else (10_000, 1_000_000):
        theta = mt.uniform_circle(n, rng)
        ref, v_ref = median_time(lambda: numpy_fourier_velocity(theta, beta), reps)
        t, v = median_time(lambda: mt.velocity_circle(theta, beta), reps)
        err = np.abs(v - v_ref).max() / np.abs(v_ref).max()
        frac = 18.0 * n * M / t / 1e9 / (fma * threads)
        rows.append(
            (
                f"circle velocity (Fourier, M={M}), N={n}",
                fmt(t),
                f"{fmt(ref)} (NumPy Fourier form)",
                f"{ref / t:.1f}x",
                f"{100 * frac:.0f}% of the FMA peak × {threads}; rel. diff {err:.1e}",
            )
        )
    sample = rng.choice(n, 32, replace=False)
    err = np.abs(v[sample] - direct_rows_reference(theta, beta, sample)).max()
    rows.append((f"circle velocity N={n}: max err vs direct sum (32 rows)", f"{err:.1e}", "", "", ""))

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

    # general attention on the circle: the rotated Fourier path (A = R_φ, V = 2 R_ψ: two sets
    # of coefficients, the same two passes) against the default Fourier path, and causal
    # attention in angles against the same tokens as points (the direct sum both ways)
    A_rot = rotation(0.3)
    V_rot = 2.0 * rotation(0.7)
    for n in (10_000, 100_000) if quick else (100_000, 1_000_000):
        theta = mt.uniform_circle(n, rng)
        ref = median_time(lambda: mt.velocity_circle(theta, beta), reps)[0]
        t = median_time(lambda: mt.velocity_circle(theta, beta, A=A_rot, V=V_rot), reps)[0]
        t_sa = median_time(lambda: mt.velocity_circle(theta, beta, model="sa", A=A_rot, V=V_rot), reps)[0]
        rows.append(
            (
                f"circle velocity, A = R_φ, V = 2R_ψ (Fourier), N={n}",
                fmt(t),
                f"{fmt(ref)} (default Fourier path)",
                f"{ref / t:.2f}x",
                f"SA {fmt(t_sa)}",
            )
        )
    n = 200
    theta = mt.uniform_circle(n, rng)
    X = mt.angles_to_points(theta)
    t, v = median_time(lambda: mt.velocity_circle(theta, beta, causal=True), 5 * reps)
    ref, v_ref = median_time(lambda: mt.velocity(X, beta, causal=True), 5 * reps)
    err = np.abs(v - (X[:, 0] * v_ref[:, 1] - X[:, 1] * v_ref[:, 0])).max()
    rows.append(
        (
            f"causal circle velocity (angles), N={n}",
            fmt(t),
            f"{fmt(ref)} (causal velocity at the points)",
            f"{ref / t:.2f}x",
            f"max diff of dθ/dt {err:.1e}",
        )
    )

    # general d, the direct sum (method="direct": the fused kernel or the BLAS tiles, by d)
    # against the tiled NumPy direct sum; useful flops 4 N² d (dot products and weighted
    # sums) as a fraction of the DGEMM rate measured above
    sizes = {3: 2_000, 16: 2_000, 128: 1_000, 512: 600} if quick else {3: 8_000, 16: 6_000, 128: 3_000, 512: 1_500}
    for d, n in sizes.items():
        X = mt.uniform_sphere(n, d, rng)
        w = np.full(n, 1.0 / n)
        ref, v_ref = median_time(lambda: tiled_numpy_velocity(X, beta), max(3, reps // 2))
        t, v = median_time(lambda: mt.velocity(X, beta, method="direct"), max(3, reps // 2))
        forced = {p: median_time(lambda: _field_eval.sphere_velocity(X, w, beta, False, path=p), 3)[0] for p in ("fused", "blas")}
        err = np.abs(v - v_ref).max() / np.abs(v_ref).max()
        rows.append(
            (
                f"sphere velocity direct, d={d}, N={n} ({_field_eval.pairwise_path(n, d)})",
                fmt(t),
                f"{fmt(ref)} (tiled NumPy)",
                f"{ref / t:.2f}x",
                f"fused {fmt(forced['fused'])}, BLAS {fmt(forced['blas'])}; "
                f"{100 * 4.0 * n * n * d / t / 1e9 / dgemm:.0f}% of DGEMM; rel. diff {err:.1e}",
            )
        )

    print("| benchmark | mtlib | reference | ratio | note |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
