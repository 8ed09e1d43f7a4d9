"""The Fourier representation of the circle PDE, shared by :mod:`mtlib.pde` and :mod:`mtlib.grenier`.

∂_t ρ + ∂_θ(ρ V) = 0 with V = Σ_m v_m e^{imθ}, v_m = (i/2) a_m c_m, a_m = 2m I_m(β)/β,
c_m = ∫ρ e^{-imθ} dθ (SA divides V by D = Σ_m I_|m|(β) c_m e^{imθ}), on M grid points
with the modes 0..M//3 (2/3 dealiasing). Unvalidated: callers check their inputs first.
Reference: Bruno, Pasqualotto, Agazzi (ICLR 2025, arXiv:2410.23228), Section 4.
"""

import math

import numpy as np
from scipy import optimize, special

from ._constants import TWO_PI
from ._validate import check_array, check_int, check_memory
from .rotated_interaction import mode_rate_circle
from .spectral import growth_rate

MASS_TOL = 1e-8  # input densities must integrate to 1 within this (then renormalised)


def check_grid(M, arrays):
    """M >= 8 as an int, refused where ``arrays`` float64 arrays of M values exceed the memory."""
    M = check_int(M, "M", low=8)
    check_memory(arrays * 8 * M, f"a grid of M = {M} points")
    return M


def check_density(rho, name="rho0"):
    """A density on the grid: finite, >= 0, integrating to 1 within MASS_TOL (then exactly)."""
    rho = check_array(rho, name, ndim=1, min_size=8)
    if np.any(rho < 0):
        raise ValueError(f"{name} must be a non-negative density, got min {rho.min():.3g}")
    mass = rho.sum() * TWO_PI / rho.size
    if abs(mass - 1.0) > MASS_TOL:
        raise ValueError(
            f"{name} must integrate to 1 (Σ rho_j 2π/M = {mass:.12g}); divide by that sum first"
        )
    return rho / mass


class CircleOperator:
    """Fourier representation of the circle PDE on M points, modes 0..kc (kc = M // 3).

    ``phi`` != 0: the rotated interaction, weights ``e^{β cos(θ - θ' - φ)}``; the velocity
    coefficients become ``e^{-imφ}(cos φ (i/2) a_m - sin φ I_m'(β))`` and the SA
    denominator's ``e^{-imφ} I_m(β)``, the linear rates those of
    :func:`mtlib.mode_rate_circle`. The uniform state then drifts at the constant
    ``V_0 = -I_1 sin φ`` (SA ``/I_0``): that transport, ``-imV_0 c_m``, is left to the
    integrating factor (it is part of the rate), and :meth:`velocity` returns ``V - V_0``,
    so the nonlinear remainder carries no rounding of size |V_0| and the CFL cap sees only
    ``V - V_0``. ``phi = 0`` runs the unrotated code unchanged.
    """

    def __init__(self, M, beta, model, phi=0.0):
        self.M = M
        self.kc = M // 3
        self.sa = model == "sa"
        m = np.arange(self.kc + 1, dtype=np.float64)
        scaled = special.ive(m, abs(beta))  # I_m(|β|) e^{-|β|}
        sign = np.where((m % 2 == 1) & (beta < 0), -1.0, 1.0)  # I_m(β) = (-1)^m I_m(|β|)
        if beta == 0.0:
            a = np.where(m == 1, 1.0, 0.0)  # K(φ) = sin φ
        else:
            a = 2.0 * m * sign * scaled / beta
        if self.sa:
            self.den = sign * scaled  # D scaled by e^{-|β|}, like V below
            self.vel = 0.5j * a
        else:
            self.den = None
            self.vel = 0.5j * a * math.exp(abs(beta))
        self.rate = growth_rate(np.arange(self.kc + 1), beta, 2, "sa" if self.sa else "usa")
        self.remainder_rate = self.rate  # the linear part subtracted in nonlinear(): the rate, less the drift
        if phi != 0.0:
            self._rotate(m, beta, phi)
        self.deriv = -1j * m * (TWO_PI / M)
        self.scale = M / TWO_PI

    def _rotate(self, m, beta, phi):
        """Coefficients of the rotated interaction (K_φ(ψ) = e^{β cos(ψ+φ)} sin ψ, D likewise)."""
        b = abs(beta)
        sign = np.where((m % 2 == 0) & (beta < 0), -1.0, 1.0)  # I_{m±1}(β) carries (-1)^{m-1}
        deriv = 0.5 * sign * (special.ive(np.abs(m - 1.0), b) + special.ive(m + 1.0, b))  # I_m'(β) e^{-|β|}
        if not self.sa:
            deriv = deriv * math.exp(b)
        phase = np.exp(-1j * m * phi)
        self.vel = phase * (math.cos(phi) * self.vel - math.sin(phi) * deriv)
        drift = self.vel[0].real
        if self.sa:
            self.den = phase * self.den
            drift /= self.den[0].real
            self.vel = self.vel - drift * self.den  # numerator of V - V_0 = (N - V_0 D)/D
        self.vel[0] = 0.0
        self.rate = mode_rate_circle(np.arange(self.kc + 1), beta, phi, "sa" if self.sa else "usa")
        self.remainder_rate = self.rate + 1j * m * drift  # -i m V_0 is in the rate: not in the remainder

    def density(self, c):
        return np.fft.irfft(c, self.M) * self.scale

    def velocity(self, c):
        """V on the grid (V - V_0 for the rotated interaction, see the class docstring)."""
        V = np.fft.irfft(self.vel * c, self.M) * self.M
        if self.sa:
            V /= np.fft.irfft(self.den * c, self.M) * self.M
        return V

    def flux_rhs(self, flux):
        """-∂_θ(flux) as modes 0..kc of ∫ · e^{-imθ} dθ."""
        return self.deriv * np.fft.rfft(flux)[: self.kc + 1]

    def nonlinear(self, c):
        """N(c) = F(c) - γ c, with F = -∂_θ(ρV) the full right-hand side; also returns V (V - V_0 if rotated)."""
        V = self.velocity(c)
        rhs = self.flux_rhs(self.density(c) * V) - self.remainder_rate * c
        return rhs, V

    def project(self, rho):
        return np.fft.rfft(rho)[: self.kc + 1] * (TWO_PI / self.M)

    def tail(self, c):
        """rms of the modes in the upper half of the retained band, kc/2 < m <= kc."""
        return math.sqrt(float(np.sum(np.abs(c[self.kc // 2 + 1 :]) ** 2)))


def log_amplitude(c, rate, t):
    """log Σ_m |c_m| e^{γ_m t}, the size of the linear evolution c_m e^{γ_m t} at time t >= 0 (no overflow)."""
    keep = np.abs(c) > 0
    growth = rate[keep] * t if t > 0 else 0.0
    return float(special.logsumexp(np.log(np.abs(c[keep])) + growth))


def linear_time_limit(c, rate, t_end, log_limit):
    """The largest t in [0, t_end] with log_amplitude(c, rate, t) <= log_limit (t_end if it holds there)."""

    def excess(t):
        return log_amplitude(c, rate, t) - log_limit

    if excess(t_end) <= 0.0:
        return t_end
    if not np.all(np.isfinite(rate)) or excess(0.0) > 0.0:
        return 0.0
    return optimize.brentq(excess, 0.0, t_end, xtol=1e-300)  # relative accuracy: brentq's rtol


def cfl_step(op, V, cfl):
    """A step bound for explicit advection: cfl / (kc max|V| + max|∂_θ V|)."""
    dV = np.max(np.abs(np.diff(V))) * op.M / TWO_PI
    speed = op.kc * float(np.max(np.abs(V))) + dV
    return math.inf if speed == 0.0 else cfl / speed


def lawson_terms(op, cfl):
    """The nonlinear term N(t, c) for the Lawson stepper and its CFL step bound h_max(t, c).

    The bound needs V at the accepted state, which is the input of the step's last call
    of N (first same as last): it is kept from that call instead of computed again.
    """
    last = [None, None]

    def rhs(_t, c):
        out, V = op.nonlinear(c)
        last[:] = [c, V]
        return out

    def max_step(_t, c):
        return cfl_step(op, last[1] if c is last[0] else op.velocity(c), cfl)

    return rhs, max_step


def resolution_check(op, reference, negative_tol, stats, last_good):
    """The spectral solver's callback: is the state c at time t still resolved?

    Resolved while the density is finite, >= -negative_tol and the tail rms is at most
    ``reference``; records ``last_good = [t, c]`` and the largest tail ratio in ``stats``,
    or the reason it stopped in ``stats["reason"]``.
    """

    def resolved(t, c):
        ratio = op.tail(c) / reference
        rho = op.density(c)
        if not np.all(np.isfinite(rho)):
            stats["reason"] = "non-finite density"
        elif rho.min() < -negative_tol:
            stats["reason"] = f"negative density ({rho.min():.3g} at t = {t:.6g})"
        elif ratio > 1.0:
            stats["reason"] = f"spectral tail {ratio:.3g} times its allowed level at t = {t:.6g}"
        else:
            last_good[:] = [t, c]
            stats["tail_ratio"] = max(stats["tail_ratio"], ratio)
            return True
        return False

    return resolved
