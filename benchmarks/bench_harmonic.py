"""Benchmarks for the S² field by spherical harmonics (issue 18): against a tiled NumPy direct sum.

Prints a markdown table of medians and of ratios measured in the same process (the machine
is shared: compare ratios, not absolute times). The reference is the fair NumPy form of
the direct sum: blocks of rows, one matmul and one exp per block, the projection pair by
pair through Σ_j E_ij (x_j - <x_i,x_j> x_i) = E X - (Σ_j E_ij <x_i,x_j>) x_i. Errors are
measured against a long-double direct sum on sampled rows, relative to each row's scale
Σ_{j≠i} w_j e^{β<x_i,x_j>}. Times for N = 10⁶ are also given in units of one 1000×1000
DGEMM timed alternately with it in the same run.

    python benchmarks/bench_harmonic.py           # full run (a few minutes)
    python benchmarks/bench_harmonic.py --quick   # smaller sizes (about a minute)
"""

import argparse
import time

import numba
import numpy as np

import mtlib as mt
from mtlib import _harmonic_eval
from mtlib._harmonic_eval import harmonic_truncation
from timing import fmt, median_time

LD = np.longdouble


def tiled_numpy_velocity(X, beta, block=256):
    """The USA field on S^{d-1} by the direct sum in NumPy, tiled over blocks of rows."""
    n = X.shape[0]
    out = np.empty_like(X)
    for i0 in range(0, n, block):
        G = X[i0 : i0 + block] @ X.T
        E = np.exp(beta * G - abs(beta)) / n
        out[i0 : i0 + block] = E @ X - np.sum(E * G, axis=1)[:, None] * X[i0 : i0 + block]
    return out * np.exp(abs(beta))


def long_double_rows(X, beta, rows):
    """(v, scale) of the USA field at the given rows, long double, shifted by |β|."""
    XL = X.astype(LD)
    G = XL[rows] @ XL.T
    E = np.exp(LD(beta) * G - LD(abs(beta))) / X.shape[0]
    E[np.arange(rows.size), rows] = 0  # the self term (its projection is 0)
    v = E @ XL - np.sum(E * G, axis=1)[:, None] * XL[rows]
    return v * np.exp(LD(abs(beta))), E.sum(axis=1) * np.exp(LD(abs(beta)))


def row_error(v, ref, scale):
    """max_i |v_i - v_i^ref| / scale_i."""
    return float(np.max(np.sqrt(np.sum((np.asarray(v, LD) - ref) ** 2, axis=1)) / scale))


def interleaved_units(f, unit, repeats):
    """(median time of f, median of time(f) / time(unit)), the two timed alternately (the
    machine is shared: adjacent calls see the same load)."""
    f()
    times, ratios = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        unit()
        t_unit = time.perf_counter() - start
        start = time.perf_counter()
        f()
        times.append(time.perf_counter() - start)
        ratios.append(times[-1] / t_unit)
    return float(np.median(times)), float(np.median(ratios))


def fallback_rows(X, beta, sa):
    """The number of rows the harmonic field recomputes by the direct sum."""
    count = []
    direct_rows = _harmonic_eval.direct_rows
    _harmonic_eval.direct_rows = lambda XT, w, b, s, r: count.append(r.size) or direct_rows(XT, w, b, s, r)
    try:
        _harmonic_eval.harmonic_velocity(X, np.full(X.shape[0], 1.0 / X.shape[0]), beta, sa)
    finally:
        _harmonic_eval.direct_rows = direct_rows
    return sum(count)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    args = parser.parse_args()
    quick = args.quick
    reps = 3 if quick else 5
    beta = 5.0
    rng = np.random.default_rng(0)
    threads = numba.get_num_threads()
    rows = []  # (benchmark, mtlib, reference, ratio, note)

    A = rng.random((1000, 1000))
    t_dgemm = median_time(lambda: A @ A, 7)[0]
    rows.append(("DGEMM 1000×1000 (np.dot)", fmt(t_dgemm), "", "", f"{2e9 / t_dgemm / 1e9:.0f} GF/s: the unit below"))

    L = harmonic_truncation(beta)
    sizes = (2_000, 20_000) if quick else (10_000, 20_000, 100_000)
    for n in sizes:
        X = mt.uniform_sphere(n, 3, rng)
        t_h, v = median_time(lambda: mt.velocity(X, beta, method="harmonic"), reps)
        sample = rng.choice(n, 64, replace=False)
        ref, scale = long_double_rows(X, beta, sample)
        err = row_error(v[sample], ref, scale)
        if n <= 20_000:
            t_np, v_np = median_time(lambda: tiled_numpy_velocity(X, beta), 1 if n > 5000 else reps)
            err_np = row_error(v_np[sample], ref, scale)
            note = f"err/scale {err:.1e} (NumPy {err_np:.1e}), 64 rows vs long double"
            reference = f"{fmt(t_np)} (tiled NumPy)"
            rows.append((f"S² velocity harmonic, N={n}", fmt(t_h), reference, f"{t_np / t_h:.0f}x", note))
        else:
            note = f"err/scale {err:.1e}, 64 rows vs long double"
            rows.append((f"S² velocity harmonic, N={n}", fmt(t_h), "", "", note))
        if n == sizes[0]:
            t_d = median_time(lambda: mt.velocity(X, beta, method="direct"), 1 if n > 5000 else reps)[0]
            name = f"S² velocity direct (mt.velocity), N={n}"
            rows.append((name, fmt(t_d), f"{fmt(t_h)} (harmonic)", f"{t_d / t_h:.0f}x", "direct / harmonic"))
        t_e = median_time(lambda: mt.energy(X, beta, method="harmonic"), reps)[0]
        e_h = mt.energy(X, beta, method="harmonic")
        if n <= 20_000:
            t_ed, e_d = median_time(lambda: mt.energy(X, beta, method="direct"), 1)
            note = f"relative difference {abs(e_h - e_d) / abs(e_d):.1e}"
            rows.append((f"S² energy harmonic, N={n}", fmt(t_e), f"{fmt(t_ed)} (direct)", f"{t_ed / t_e:.0f}x", note))

    # the clustered state of chapter 06 (5·10⁴ tokens, β = 6, at 1.2 T_N; a 20 s run, full
    # mode only): the rows whose harmonic error bound is too large for their own scale
    # (tokens between the clusters) go to the direct sum, which sets the cost of a field
    if not quick:
        n = 50_000
        X0 = mt.uniform_sphere(n, 3, rng=2)
        t_end = 1.2 * mt.linear_phase_time(6.0, n, d=3)
        X = mt.simulate(X0, 6.0, [0.0, t_end], method="dopri", rtol=1e-6, atol=1e-9).states[-1]
        t_u = median_time(lambda: mt.velocity(X0, 6.0, method="harmonic"), reps)[0]
        for model in ("usa", "sa"):
            t_c = median_time(lambda: mt.velocity(X, 6.0, model, method="harmonic"), reps)[0]
            note = f"{fallback_rows(X, 6.0, model == 'sa')} rows by the direct sum; uniform start: {fmt(t_u)} (USA)"
            rows.append((f"S² {model.upper()} harmonic, chapter 06 end state, β=6, N={n}", fmt(t_c), "", "", note))

    n = 100_000 if quick else 1_000_000
    X = mt.uniform_sphere(n, 3, rng)
    def dgemm():
        return A @ A

    numba.set_num_threads(1)
    t_1 = median_time(lambda: mt.velocity(X, beta, method="harmonic"), reps)[0]
    numba.set_num_threads(threads)
    t_h, units = interleaved_units(lambda: mt.velocity(X, beta, method="harmonic"), dgemm, reps)
    v = mt.velocity(X, beta, method="harmonic")
    sample = rng.choice(n, 32, replace=False)
    ref, scale = long_double_rows(X, beta, sample)
    note = f"{threads} threads; err/scale {row_error(v[sample], ref, scale):.1e} (32 rows)"
    rows.append((f"S² velocity harmonic, N={n}", fmt(t_h), f"{fmt(t_1)} (1 thread)", f"{units:.1f} DGEMM", note))
    for b in (-5.0, 50.0):
        t_b, units = interleaved_units(lambda: mt.velocity(X, b, "sa", method="harmonic"), dgemm, reps)
        rows.append((f"S² velocity harmonic SA, beta={b:g}, N={n}", fmt(t_b), "", f"{units:.1f} DGEMM", ""))
    t_e, units = interleaved_units(lambda: mt.energy(X, beta, method="harmonic"), dgemm, reps)
    rows.append((f"S² energy harmonic, N={n}", fmt(t_e), "", f"{units:.1f} DGEMM", ""))

    print(f"beta = {beta:g}, L = {L}; numba threads = {threads}")
    print("| benchmark | mtlib | reference | ratio | note |")
    print("|---|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
