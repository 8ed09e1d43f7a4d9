"""The explicit Runge–Kutta steps of mtlib's integrator: Dormand–Prince 5(4) (plain and
Lawson), its dense output, classical RK4 and the cubic Hermite interpolant.

Pure functions of (rhs, t, y, f, h); :mod:`mtlib._integrate` drives them (step control,
events, output times) and re-exports them.

References: Dormand and Prince, J. Comput. Appl. Math. 6 (1980); Hairer, Nørsett,
Wanner, *Solving Ordinary Differential Equations I*, Sections II.5-II.6; Lawson, SIAM J.
Numer. Anal. 4 (1967) (integrating factor).
"""

import numpy as np

# The Dormand–Prince 5(4) tableau (Hairer, Nørsett, Wanner, Table II.5.2). The last row of
# A is the fifth-order solution (first same as last), E = b5 - b4 the error weights and P
# the coefficients of the 4th-order continuous extension y(t + θh) = y + h Σ_i k_i Σ_j
# P[i][j] θ^{j+1} (Hairer, Nørsett, Wanner II.6; the values of scipy's RK45).
C = (0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0)
A = (
    (),
    (1 / 5,),
    (3 / 40, 9 / 40),
    (44 / 45, -56 / 15, 32 / 9),
    (19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729),
    (9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656),
    (35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84),
)
E = (71 / 57600, 0.0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40)
P = np.array(
    [
        [1.0, -8048581381 / 2820520608, 8663915743 / 2820520608, -12715105075 / 11282082432],
        [0.0, 0.0, 0.0, 0.0],
        [0.0, 131558114200 / 32700410799, -68118460800 / 10900136933, 87487479700 / 32700410799],
        [0.0, -1754552775 / 470086768, 14199869525 / 1410260304, -10690763975 / 1880347072],
        [0.0, 127303824393 / 49829197408, -318862633887 / 49829197408, 701980252875 / 199316789632],
        [0.0, -282668133 / 205662961, 2019193451 / 616988883, -1453857185 / 822651844],
        [0.0, 40617522 / 29380423, -110615467 / 29380423, 69997945 / 29380423],
    ]
)



def dopri_step(rhs, t, y, f, h, linear=None):
    """One Dormand–Prince 5(4) step of length h from (t, y), f = f(t, y).

    With ``linear`` = L (diagonal, Re L <= 0 where it is large), the step is Lawson's: the
    tableau applied to v' = e^{-Ls} f(t + s, e^{Ls} v), written back in the variable y so
    that only the factors e^{L(c_i - c_j)h}, c_i >= c_j, appear: stage i is
    e^{L c_i h} y + h Σ_j a_ij e^{L(c_i - c_j)h} f_j. No factor then exceeds 1 in size for a
    damped mode (a factor e^{-L c h} of the v form overflows once |L| h > 709).
    Returns (y_new, f_new, err, stages), stages the f_j; y_new is the very array passed to
    the last rhs call.
    """
    stages = [f]
    if linear is None:
        for i in range(1, 7):
            z = y + h * sum(a * s for a, s in zip(A[i], stages) if a != 0.0)
            stages.append(rhs(t + C[i] * h, z))
        err = h * sum(e * s for e, s in zip(E, stages) if e != 0.0)
        return z, stages[6], err, stages
    factors = {}

    def factor(dc):
        if dc not in factors:
            factors[dc] = np.exp(linear * (dc * h))
        return factors[dc]

    for i in range(1, 7):
        z = factor(C[i]) * y + h * sum(a * factor(C[i] - C[j]) * s for j, (a, s) in enumerate(zip(A[i], stages)) if a != 0.0)
        stages.append(rhs(t + C[i] * h, z))
    err = h * sum(e * factor(C[6] - C[j]) * s for j, (e, s) in enumerate(zip(E, stages)) if e != 0.0)
    return z, stages[6], err, stages

def rk4_step(rhs, t, y, f, h):
    """One classical Runge–Kutta step of length h from (t, y), f = f(t, y)."""
    k2 = rhs(t + 0.5 * h, y + (0.5 * h) * f)
    k3 = rhs(t + 0.5 * h, y + (0.5 * h) * k2)
    k4 = rhs(t + h, y + h * k3)
    return y + (h / 6.0) * (f + 2.0 * (k2 + k3) + k4)


def dopri_dense(y, stages, h, theta, linear=None):
    """The 4th-order continuous extension of a dopri step at y(t + θh), 0 <= θ <= 1.

    With ``linear`` = L: e^{Lθh} y + h Σ_i b_i(θ) e^{L(θ - c_i)h} f_i (the Lawson form of
    :func:`dopri_step`); a factor's real exponent is capped at 700, which only a mode
    damped over far less than the step (where the dense value is meaningless) reaches.
    """
    b = P @ (theta ** np.arange(1, 5))
    if linear is None:
        return y + h * sum(bi * s for bi, s in zip(b, stages) if bi != 0.0)

    def factor(dc):
        exponent = linear * (dc * h)
        if np.iscomplexobj(exponent):
            return np.exp(np.minimum(exponent.real, 700.0) + 1j * exponent.imag)
        return np.exp(np.minimum(exponent, 700.0))

    return factor(theta) * y + h * sum(bi * factor(theta - C[i]) * s for i, (bi, s) in enumerate(zip(b, stages)) if bi != 0.0)


def hermite_dense(y0, f0, y1, f1, h, theta):
    """The cubic Hermite interpolant of (y0, f0) at θ = 0 and (y1, f1) at θ = 1."""
    t2 = theta * theta
    t3 = t2 * theta
    return (2 * t3 - 3 * t2 + 1) * y0 + (t3 - 2 * t2 + theta) * h * f0 + (3 * t2 - 2 * t3) * y1 + (t3 - t2) * h * f1
