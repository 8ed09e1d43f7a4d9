"""Private numba kernels for tokens on the circle: the exact Fourier-mode velocity.

Plain float64 arrays in, ``out`` arrays written. With Z_m = Σ_j w_j e^{imθ_j} the
velocity is a trigonometric polynomial in θ_i; both the moments Z_m and its values are
built by the recurrence e^{i(m+1)θ} = e^{imθ} e^{iθ}, vectorised over blocks of tokens
and advanced four modes per sweep in registers (each token loaded and stored once per four
modes), both passes over blocks of tokens in parallel.
:func:`sincos_poly` gives cos θ and sin θ in arithmetic only (no vector math library
here). Public wrappers live in :mod:`mtlib.dynamics`.
"""

import numba as nb
import numpy as np

from ._kernels_sphere import FASTMATH, exp_poly

LANES = 256  # tokens per parallel work item when evaluating the modes
CHUNK = 1024  # tokens per parallel work item when summing the moments (4 arrays fit in L1)

_TWO_OVER_PI = 0.6366197723675814
# pi/2 in three 33-bit parts (fdlibm): k * part is exact for |k| < 2^20.
_PIO2_1 = 1.57079632673412561417e00
_PIO2_2 = 6.07710050630396597660e-11
_PIO2_3 = 2.02226624871116645580e-21
_S1, _S2, _S3 = -1.66666666666666324348e-01, 8.33333333332248946124e-03, -1.98412698298579493134e-04
_S4, _S5, _S6 = 2.75573137070700676789e-06, -2.50507602534068634195e-08, 1.58969099521155010221e-10
_C1, _C2, _C3 = 4.16666666666666019037e-02, -1.38888888888741095749e-03, 2.48015872894767294178e-05
_C4, _C5, _C6 = -2.75573143513906633035e-07, 2.08757232129817482790e-09, -1.13596475577881948265e-11


@nb.njit(cache=True, fastmath={"contract"})
def sincos_poly(x):
    """(cos x, sin x) for |x| < 1.6e6, vectorisable, within 2 ulp of ``np.cos``/``np.sin``.

    x = k π/2 + r with |r| <= π/4 (three-part Cody–Waite reduction), then the fdlibm
    kernel polynomials for sin and cos on [-π/4, π/4] and the quadrant k mod 4.
    """
    k = np.floor(x * _TWO_OVER_PI + 0.5)
    r = ((x - k * _PIO2_1) - k * _PIO2_2) - k * _PIO2_3
    z = r * r
    s = r + r * z * (_S1 + z * (_S2 + z * (_S3 + z * (_S4 + z * (_S5 + z * _S6)))))
    q = z * z * (_C1 + z * (_C2 + z * (_C3 + z * (_C4 + z * (_C5 + z * _C6)))))
    hz = 0.5 * z
    one_m = 1.0 - hz
    c = one_m + (((1.0 - one_m) - hz) + q)
    quadrant = k - 4.0 * np.floor(0.25 * k)  # k mod 4, as a float (selects vectorise)
    swap = quadrant == 1.0 or quadrant == 3.0
    cc = s if swap else c
    ss = c if swap else s
    cos_x = -cc if (quadrant == 1.0 or quadrant == 2.0) else cc
    sin_x = -ss if quadrant >= 2.0 else ss
    return cos_x, sin_x


@nb.njit(cache=True, parallel=True)
def cos_sin(theta, out):
    """out[0] = cos θ, out[1] = sin θ, for angles θ (n,); out is (2, n)."""
    for i in nb.prange(theta.size):
        out[0, i], out[1, i] = sincos_poly(theta[i])


@nb.njit(cache=True, parallel=True, fastmath=FASTMATH)
def fourier_moments(theta, w, n_modes, out):
    """out[0, m] + i out[1, m] = Z_m = Σ_j w_j e^{imθ_j} for m = 0..n_modes.

    theta, w (n,); out (2, n_modes + 1). O(n · n_modes): chunks of CHUNK tokens in
    parallel; inside a chunk the powers z_j = w_j e^{imθ_j} advance four modes per sweep
    (z ← z e^{iθ_j}, unrolled in registers), so each token is loaded and stored once per
    four modes, and the eight mode sums are reduced over the chunk's lanes.
    """
    n = theta.size
    n_chunks = (n + CHUNK - 1) // CHUNK
    partial = np.zeros((n_chunks, 2, n_modes + 1))
    for c in nb.prange(n_chunks):
        j0 = c * CHUNK
        m_l = min(CHUNK, n - j0)
        bc = np.empty(CHUNK)
        bs = np.empty(CHUNK)
        zr = np.empty(CHUNK)
        zi = np.empty(CHUNK)
        s0 = 0.0
        for l in range(m_l):
            bc[l], bs[l] = sincos_poly(theta[j0 + l])
            zr[l] = w[j0 + l]
            zi[l] = 0.0
            s0 += w[j0 + l]
        partial[c, 0, 0] = s0
        m = 1
        while m + 3 <= n_modes:
            r1 = i1 = r2 = i2 = r3 = i3 = r4 = i4 = 0.0
            for l in range(m_l):
                x = bc[l]
                y = bs[l]
                a = zr[l] * x - zi[l] * y
                b = zr[l] * y + zi[l] * x
                r1 += a
                i1 += b
                a, b = a * x - b * y, a * y + b * x
                r2 += a
                i2 += b
                a, b = a * x - b * y, a * y + b * x
                r3 += a
                i3 += b
                a, b = a * x - b * y, a * y + b * x
                r4 += a
                i4 += b
                zr[l] = a
                zi[l] = b
            partial[c, 0, m], partial[c, 1, m] = r1, i1
            partial[c, 0, m + 1], partial[c, 1, m + 1] = r2, i2
            partial[c, 0, m + 2], partial[c, 1, m + 2] = r3, i3
            partial[c, 0, m + 3], partial[c, 1, m + 3] = r4, i4
            m += 4
        while m <= n_modes:  # the last n_modes mod 4 modes, one per sweep
            r1 = i1 = 0.0
            for l in range(m_l):
                a = zr[l] * bc[l] - zi[l] * bs[l]
                b = zr[l] * bs[l] + zi[l] * bc[l]
                zr[l] = a
                zi[l] = b
                r1 += a
                i1 += b
            partial[c, 0, m], partial[c, 1, m] = r1, i1
            m += 1
    for m in range(n_modes + 1):
        sr = 0.0
        si = 0.0
        for c in range(n_chunks):
            sr += partial[c, 0, m]
            si += partial[c, 1, m]
        out[0, m] = sr
        out[1, m] = si


@nb.njit(cache=True, parallel=True, fastmath=FASTMATH)
def fourier_evaluate(theta, cos_coef, sin_coef, den_cos, den_sin, den0, normalise, out, out_den):
    """out_i = Σ_{m>=1} (cos_coef_m cos mθ_i + sin_coef_m sin mθ_i), divided by the
    denominator D_i = den0 + Σ_{m>=1} (den_cos_m cos mθ_i + den_sin_m sin mθ_i) if
    normalise (then out_den_i = D_i is written too).

    theta (n,); the coefficient arrays have length n_modes + 1 (entry 0 unused). O(n ·
    n_modes): blocks of LANES tokens in parallel, each sweep advancing (cos mθ, sin mθ)
    four modes in registers and adding their terms to the sums of every token.
    """
    n = theta.size
    n_modes = cos_coef.size - 1
    n_padded = 4 * ((n_modes + 3) // 4) + 1  # modes padded with zero terms to sweeps of four
    cc = np.zeros(n_padded)
    sc = np.zeros(n_padded)
    dc = np.zeros(n_padded)
    ds = np.zeros(n_padded)
    cc[: n_modes + 1] = cos_coef
    sc[: n_modes + 1] = sin_coef
    if normalise:
        dc[: n_modes + 1] = den_cos
        ds[: n_modes + 1] = den_sin
    n_blocks = (n + LANES - 1) // LANES
    for blk in nb.prange(n_blocks):
        l0 = blk * LANES
        m_l = min(LANES, n - l0)
        bc = np.empty(LANES)
        bs = np.empty(LANES)
        cm = np.empty(LANES)
        sm = np.empty(LANES)
        v = np.zeros(LANES)
        den = np.full(LANES, den0)
        for l in range(m_l):
            bc[l], bs[l] = sincos_poly(theta[l0 + l])
            cm[l] = bc[l]
            sm[l] = bs[l]
        for m in range(1, n_padded, 4):
            a1, a2, a3, a4 = cc[m], cc[m + 1], cc[m + 2], cc[m + 3]
            b1, b2, b3, b4 = sc[m], sc[m + 1], sc[m + 2], sc[m + 3]
            if normalise:
                p1, p2, p3, p4 = dc[m], dc[m + 1], dc[m + 2], dc[m + 3]
                q1, q2, q3, q4 = ds[m], ds[m + 1], ds[m + 2], ds[m + 3]
                for l in range(m_l):
                    x = bc[l]
                    y = bs[l]
                    c = cm[l]
                    s = sm[l]
                    acc = v[l] + (a1 * c + b1 * s)
                    dd = den[l] + (p1 * c + q1 * s)
                    c, s = c * x - s * y, s * x + c * y
                    acc += a2 * c + b2 * s
                    dd += p2 * c + q2 * s
                    c, s = c * x - s * y, s * x + c * y
                    acc += a3 * c + b3 * s
                    dd += p3 * c + q3 * s
                    c, s = c * x - s * y, s * x + c * y
                    acc += a4 * c + b4 * s
                    dd += p4 * c + q4 * s
                    cm[l] = c * x - s * y
                    sm[l] = s * x + c * y
                    v[l] = acc
                    den[l] = dd
            else:
                for l in range(m_l):
                    x = bc[l]
                    y = bs[l]
                    c = cm[l]
                    s = sm[l]
                    acc = v[l] + (a1 * c + b1 * s)
                    c, s = c * x - s * y, s * x + c * y
                    acc += a2 * c + b2 * s
                    c, s = c * x - s * y, s * x + c * y
                    acc += a3 * c + b3 * s
                    c, s = c * x - s * y, s * x + c * y
                    acc += a4 * c + b4 * s
                    cm[l] = c * x - s * y
                    sm[l] = s * x + c * y
                    v[l] = acc
        for l in range(m_l):
            if normalise:
                out[l0 + l] = v[l] / den[l]
                out_den[l0 + l] = den[l]
            else:
                out[l0 + l] = v[l]


@nb.njit(cache=True, parallel=True, fastmath=FASTMATH)
def direct_rows_sa(CS, w, beta, rows, out):
    """SA velocity by the direct sum at the tokens listed in rows, max-shifted.

    out[r] = Σ_j w_j e^{β cos(θ_j-θ_r) - s_r} sin(θ_j-θ_r) / Σ_j w_j e^{β cos(θ_j-θ_r) - s_r}
    with s_r = max_j β cos(θ_j-θ_r) over w_j > 0; CS (2, n) holds cos θ and sin θ.
    O(n) per listed row: the exact fallback for rows where the Fourier denominator is
    too small to be accurate.
    """
    n = CS.shape[1]
    for q in nb.prange(rows.size):
        r = rows[q]
        cr = CS[0, r]
        sr = CS[1, r]
        best = -np.inf
        for j in range(n):
            x = beta * (CS[0, j] * cr + CS[1, j] * sr)
            if w[j] > 0.0 and x > best:
                best = x
        num = 0.0
        den = 0.0
        for j in range(n):
            e = w[j] * exp_poly(beta * (CS[0, j] * cr + CS[1, j] * sr) - best)
            num += e * (CS[1, j] * cr - CS[0, j] * sr)
            den += e
        out[r] = num / den
