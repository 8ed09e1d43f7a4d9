"""Calibration of the rounding estimates of the harmonic S² field (_harmonic_eval.error_bounds).

For each case the bare expansion (no direct-sum rows) is compared with a long-double direct
sum on sampled rows; the measured errors of Φ e^{-|β|} and of its (1/β) tangential gradient
are divided by the two parts of each estimate (the |Q_l| part, the h_l |w| part). Prints the
largest ratio of error to the current estimate by regime (it must stay <= 1/3: the constants
are 3 times the largest measured ratio), and the fallback rows of the clustered states.

    python benchmarks/calibrate_harmonic_errors.py              # 220 cases (a few minutes)
    python benchmarks/calibrate_harmonic_errors.py --chapter    # + the end states of chapter 06 (1 min more)
"""

import argparse
import math

import numpy as np

import mtlib as mt
from mtlib import _harmonic_eval as he
from mtlib import _kernels_harmonic as kh

LD = np.longdouble
EPS = np.finfo(float).eps


def bare_expansion(X, w, beta):
    """(v, phi, c, g, Q, L): the expansion's v e^{-|β|} (n, 3) and Φ e^{-|β|}, no fallback."""
    c, g, L = he.harmonic_coefficients(float(beta))
    XT = he.unit_columns(X)
    n = XT.shape[1]
    Q = he.moments(XT, w, L)
    gc, gs = g[he.pair_degrees(L)] * Q
    source, kappa = he.derivative_pairs(L)
    rho = kh.recurrence_tables(L)[0]
    v, phi = np.empty((3, n)), np.empty(n)
    phi0 = c[0] * Q[0, 0] * math.sqrt(0.25 / math.pi)
    hc, hs = kappa * rho * gc[source], kappa * rho * gs[source]
    kh.expansion(XT, gc * rho, gs * rho, hc, hs, L, phi0, float(beta), 1.0, he.task_count(n), v, phi)
    return v.T, phi, c, g, Q, L


def long_double_rows(X, w, beta, rows):
    """(v e^{-|β|}, Φ e^{-|β|}) at the given rows by the direct sum in long double."""
    XL = X.astype(LD)
    G = XL[rows] @ XL.T
    T = w.astype(LD)[None, :] * np.exp(LD(beta) * G - LD(abs(beta)))
    phi = T.sum(axis=1)
    T[np.arange(rows.size), rows] = 0
    return T @ XL - np.sum(T * G, axis=1)[:, None] * XL[rows], phi


def estimate_parts(c, g, Q, w, L):
    """The parts of error_bounds without their constants: (Φ: |Q_l| part + |w| part, v: |Q_l|, |w|)."""
    ls = np.arange(L + 1)
    h = np.sqrt((2 * ls + 1) / (4 * math.pi))
    norms = np.sqrt(np.bincount(he.pair_degrees(L), Q[0] ** 2 + Q[1] ** 2, minlength=L + 1))
    w_norm = math.sqrt(float(np.sum(w * w)))
    phi = EPS * float(np.sum(np.abs(c) * h * ((L + 1) * norms + h * w_norm)))
    grad = np.abs(g) * (ls + 1.0) ** 2 * h
    return phi, EPS * float(np.sum(grad * norms)), EPS * float(np.sum(grad * h * w_norm))


def measure(X, w, beta, rows):
    """(L, error of Φ / its estimate, error of v / its estimate, v: |Q| part / |w| part)."""
    v, phi, c, g, Q, L = bare_expansion(X, w, beta)
    ref_v, ref_phi = long_double_rows(X, w, beta, rows)
    err_v = float(np.max(np.sqrt(np.sum((v[rows].astype(LD) - ref_v) ** 2, axis=1))))
    err_phi = float(np.max(np.abs(phi[rows] - ref_phi)))
    d_phi, d_v = he.error_bounds(c, g, Q, w, L)
    _, a_v, b_v = estimate_parts(c, g, Q, w, L)
    return L, err_phi / d_phi, err_v / d_v, a_v / b_v


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapter", action="store_true", help="also the end states of chapter 06")
    args = parser.parse_args()
    cases = []  # (label, L, ratio Φ, ratio v, |Q| part / |w| part)
    for seed in (0, 1):
        rng = np.random.default_rng(seed)
        for n in (2_000, 20_000):
            for beta in (-700.0, -300.0, -50.0, -5.0, 0.5, 5.0, 6.0, 10.0, 50.0, 300.0, 700.0):
                for clusters, width in ((0, 0.0), (3, 0.1), (10, 0.01), (30, 0.3), (200, 0.05)):
                    if clusters == 0:
                        X = mt.uniform_sphere(n, 3, rng)
                    else:
                        sizes = np.full(clusters, n // clusters)
                        sizes[: n - sizes.sum()] += 1
                        X = mt.caps_sphere(mt.uniform_sphere(clusters, 3, rng), sizes, width, rng)
                    w = rng.random(n) if rng.random() < 0.5 else np.ones(n)
                    w /= w.sum()
                    label = f"N={n} β={beta:g} caps={clusters}"
                    cases.append((label,) + measure(X, w, beta, rng.choice(n, 48, replace=False)))
    if args.chapter:
        n = 50_000
        X0 = mt.uniform_sphere(n, 3, rng=2)
        for beta in (6.0, 10.0):
            t_end = 1.2 * mt.linear_phase_time(beta, n, d=3)
            X = mt.simulate(X0, beta, [0.0, t_end], method="dopri", rtol=1e-6, atol=1e-9).states[-1]
            rows = np.random.default_rng(5).choice(n, 200, replace=False)
            cases.append((f"chapter 06 end, β={beta:g}",) + measure(X, np.full(n, 1.0 / n), beta, rows))
    labels, L, r_phi, r_v, q_over_w = (np.array(col) for col in zip(*cases))
    print(f"{len(cases)} cases; largest measured error / current estimate (must be <= 1/3):")
    for lo, hi in ((0, 36), (36, 100), (100, 1000)):
        for name, part in (("|Q| part dominant", q_over_w > 3), ("|w| part dominant", q_over_w <= 3)):
            m = (L >= lo) & (L < hi) & part
            if m.any():
                print(f"  L in [{lo}, {hi}), {name}: {m.sum()} cases, Φ {r_phi[m].max():.3f}, v {r_v[m].max():.3f}")
    worst = np.argsort(r_v)[-3:]
    print("largest v ratios:", ", ".join(f"{labels[i]} ({r_v[i]:.3f})" for i in worst))


if __name__ == "__main__":
    main()
