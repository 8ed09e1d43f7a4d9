"""Private numba kernels for tokens on the circle: the exact Fourier-mode velocity.

Plain float64 arrays in, ``out`` arrays written. With Z_m = Σ_j w_j e^{imθ_j} the
velocity is a trigonometric polynomial in θ_i; both the moments Z_m and its values are
built by the recurrence e^{i(m+1)θ} = e^{imθ} e^{iθ}, vectorised over blocks of tokens.
:func:`sincos_poly` gives cos θ and sin θ in arithmetic only (no vector math library
here). Public wrappers live in :mod:`mtlib.dynamics`.
"""

import numba as nb
import numpy as np

from ._kernels_sphere import FASTMATH, exp_poly

LANES = 64  # tokens advanced together through the mode recurrence
CHUNK = 4096  # tokens per parallel work item when summing the moments

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

    theta, w (n,); out (2, n_modes + 1). O(n · n_modes), chunks of tokens in parallel.
    """
    n = theta.size
    n_chunks = (n + CHUNK - 1) // CHUNK
    partial = np.zeros((n_chunks, 2, n_modes + 1))
    for c in nb.prange(n_chunks):
        base_c = np.empty(LANES)
        base_s = np.empty(LANES)
        zr = np.empty(LANES)
        zi = np.empty(LANES)
        for l0 in range(c * CHUNK, min((c + 1) * CHUNK, n), LANES):
            m_l = min(LANES, n - l0)
            s0 = 0.0
            for l in range(m_l):
                cs = sincos_poly(theta[l0 + l])
                base_c[l] = cs[0]
                base_s[l] = cs[1]
                zr[l] = w[l0 + l]
                zi[l] = 0.0
                s0 += w[l0 + l]
            partial[c, 0, 0] += s0
            for m in range(1, n_modes + 1):
                sr = 0.0
                si = 0.0
                for l in range(m_l):
                    a = zr[l] * base_c[l] - zi[l] * base_s[l]
                    b = zr[l] * base_s[l] + zi[l] * base_c[l]
                    zr[l] = a
                    zi[l] = b
                    sr += a
                    si += b
                partial[c, 0, m] += sr
                partial[c, 1, m] += si
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
    n_modes), blocks of tokens in parallel.
    """
    n = theta.size
    n_modes = cos_coef.size - 1
    n_blocks = (n + LANES - 1) // LANES
    for b in nb.prange(n_blocks):
        l0 = b * LANES
        m_l = min(LANES, n - l0)
        base_c = np.empty(LANES)
        base_s = np.empty(LANES)
        cm = np.empty(LANES)
        sm = np.empty(LANES)
        v = np.zeros(LANES)
        den = np.full(LANES, den0)
        for l in range(m_l):
            cs = sincos_poly(theta[l0 + l])
            base_c[l] = cs[0]
            base_s[l] = cs[1]
            cm[l] = cs[0]
            sm[l] = cs[1]
        for m in range(1, n_modes + 1):
            a = cos_coef[m]
            bb = sin_coef[m]
            if normalise:
                dc = den_cos[m]
                ds = den_sin[m]
                for l in range(m_l):
                    v[l] += a * cm[l] + bb * sm[l]
                    den[l] += dc * cm[l] + ds * sm[l]
                    c_new = cm[l] * base_c[l] - sm[l] * base_s[l]
                    sm[l] = sm[l] * base_c[l] + cm[l] * base_s[l]
                    cm[l] = c_new
            else:
                for l in range(m_l):
                    v[l] += a * cm[l] + bb * sm[l]
                    c_new = cm[l] * base_c[l] - sm[l] * base_s[l]
                    sm[l] = sm[l] * base_c[l] + cm[l] * base_s[l]
                    cm[l] = c_new
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
