"""Newton's method and pseudo-arclength continuation for the circle's stationary states (for :mod:`mtlib.stationary`).

Even 2π/k-periodic states in the reduced variable φ = kθ: unknowns ``c_j = ∫ρ e^{-ijkθ}dθ``
(j = 1..n) and ``s = D/λ_k``; ``G(c, s) = c - T(c, s)``, ``T_j = ⟨cos jφ⟩_p`` with
``p ∝ e^{ψ}``, ``ψ = (2/s) Σ_j (λ_{jk}/λ_k) c_j cos jφ`` on a trapezoid grid of M points.
Derivatives: ``∂G_j/∂c_l = δ_jl - (2/s) Cov_p(cos jφ, cos lφ) λ_{lk}/λ_k`` and
``∂G_j/∂s = Cov_p(cos jφ, ψ)/s``. Unvalidated: the public functions check inputs.
Reference: Carrillo, Gvalani, Pavliotis, Schlichting (arXiv:1806.01719); E. Allgower,
K. Georg, *Numerical continuation methods* (Springer 1990), Chapter 2 (pseudo-arclength).
"""

import math

import numpy as np

from ._bessel import log_bessel_i
from ._constants import TWO_PI

MODE_TOL = 1e-20  # the last retained mode has λ_{nk}/λ_k below this: Φ is exact to rounding
MAX_MODES = 400
TAIL_TOL = 1e-15  # the density's spectrum on the reduced grid must fall below this (else M doubles)
MAX_GRID = 1 << 16
MAX_NEWTON = 25
MIN_STEP = 1e-7
COEFF_TOL = 1e-15  # coefficients below this count as zero (stability basis, uniformity)


def eigenvalues(beta, orders):
    """λ_m = I_m(β)/β at integer orders m (array), underflowing to 0 for very high orders."""
    with np.errstate(under="ignore"):
        return np.exp(log_bessel_i(np.asarray(orders, dtype=np.float64), beta) - math.log(beta))


def spectrum(beta, diffusion, chat, k, n_modes=None):
    """Real parts of the eigenvalues (decreasing) of L at the even state with coefficients chat_j = c_{jk}.

    Even and odd blocks on the modes 1..N of the real matrix
    ``L_{m,n} = m c_{m-n}((m-n)λ_{m-n} + nλ_n) - D m² δ_{mn}``; the odd eigenvalue whose
    eigenvector is closest to the rotation mode ``(n c_n)`` is removed for a non-uniform state.
    """
    chat = np.asarray(chat, dtype=np.float64)
    big = np.nonzero(np.abs(chat) > COEFF_TOL)[0]
    J = int(big[-1]) if big.size else 0
    N = n_modes if n_modes is not None else int(min(max(32, k * J + 16), 1024))
    cf = np.zeros(2 * N + 1)
    j = np.arange(min(chat.size, 2 * N // k + 1))
    cf[k * j] = chat[j]
    lam = eigenvalues(beta, np.arange(2 * N + 1))
    m = np.arange(1, N + 1)[:, None]
    n = np.arange(1, N + 1)[None, :]
    diff = np.abs(m - n)
    direct = m * cf[diff] * ((m - n) * lam[diff] + n * lam[n])
    direct[np.arange(N), np.arange(N)] -= diffusion * np.arange(1, N + 1) ** 2
    mirror = m * cf[m + n] * ((m + n) * lam[m + n] - n * lam[n])
    even = np.linalg.eigvals(direct + mirror).real
    odd_vals, odd_vecs = np.linalg.eig(direct - mirror)
    odd = odd_vals.real
    if J > 0:  # remove the rotation mode u = ∂_θ ρ
        rot = np.arange(1, N + 1) * cf[1 : N + 1]
        align = np.abs(rot @ odd_vecs) / (np.linalg.norm(rot) * np.linalg.norm(odd_vecs, axis=0))
        odd = np.delete(odd, int(np.argmax(align)))
    return np.sort(np.concatenate([even, odd]))[::-1]


class BranchTracer:
    """The reduced fixed point of one branch (β, k) and its continuation in (c, D/λ_k)."""

    def __init__(self, beta, k, tol):
        self.beta, self.k, self.tol = beta, k, tol
        orders = k * np.arange(0, MAX_MODES + 1)
        lam = eigenvalues(beta, np.concatenate([[0], orders[1:]]))
        self.lam0, self.lam_k = float(lam[0]), float(lam[1])
        ratios = lam[1:] / self.lam_k
        small = np.nonzero(ratios < MODE_TOL)[0]
        self.n = int(max(4, small[0] if small.size else MAX_MODES))
        self.lt = ratios[: self.n]  # λ_{jk}/λ_k, j = 1..n
        self.failure = ""
        self._set_grid(max(64, 1 << int(math.ceil(math.log2(4 * self.n)))))

    def _set_grid(self, M):
        self.M = M
        phi = TWO_PI * np.arange(M) / M
        self.C = np.cos(np.outer(np.arange(1, self.n + 1), phi))

    # --------------------------------------------------------------- the fixed point map

    def _evaluate(self, c, s):
        psi = (2.0 / s) * ((self.lt * c) @ self.C)
        w = np.exp(psi - psi.max())
        p = w / w.sum()
        return self.C @ p, p, psi

    def _jacobian(self, s, T, p, psi):
        Cp = self.C * p
        cov = Cp @ self.C.T - np.outer(T, T)
        Gc = np.eye(self.n) - (2.0 / s) * cov * self.lt[None, :]
        Gs = (Cp @ psi - T * (p @ psi)) / s
        return Gc, Gs

    def _resolved(self, p):
        return float(np.max(np.abs(np.fft.rfft(p)[self.M // 4 :]))) <= TAIL_TOL

    def _newton(self, x, normal=None, anchor=None):
        """Newton on G = 0 (with the hyperplane normal·(x - anchor) = 0 when normal is given; else s fixed)."""
        x = x.copy()
        for it in range(MAX_NEWTON):
            c, s = x[:-1], x[-1]
            if not s > 0.0 or not np.all(np.isfinite(x)):
                return None
            T, p, psi = self._evaluate(c, s)
            G = c - T
            arc = 0.0 if normal is None else float(normal @ (x - anchor))
            if np.max(np.abs(G)) <= self.tol and abs(arc) <= self.tol:
                if not self._resolved(p):
                    if 2 * self.M > MAX_GRID:
                        return None
                    self._set_grid(2 * self.M)
                    continue
                return x, it
            Gc, Gs = self._jacobian(s, T, p, psi)
            try:
                if normal is None:
                    x[:-1] -= np.linalg.solve(Gc, G)
                else:
                    J = np.vstack([np.column_stack([Gc, Gs]), normal])
                    x -= np.linalg.solve(J, np.append(G, arc))
            except np.linalg.LinAlgError:
                return None
        return None

    def _tangent(self, x, previous):
        T, p, psi = self._evaluate(x[:-1], x[-1])
        Gc, Gs = self._jacobian(x[-1], T, p, psi)
        J = np.vstack([np.column_stack([Gc, Gs]), previous])
        t = np.linalg.solve(J, np.append(np.zeros(self.n), 1.0))
        return t / np.linalg.norm(t)

    def trace(self, step, b_scaled):
        """Yield the states (vectors (c_1..c_n, D/λ_k)) along the branch, c_1 increasing at first."""
        e1 = np.zeros(self.n + 1)
        e1[0] = 1.0
        h = step
        while True:  # first point: c_1 = h, from the Landau prediction D/λ_k ≈ 1 + b h²
            guess = np.zeros(self.n + 1)
            guess[0], guess[-1] = h, 1.0 + b_scaled * h * h
            sol = self._newton(guess, e1, guess)
            if sol is not None:
                break
            h /= 2.0
            if h < MIN_STEP:
                self.failure = "Newton failed to leave the bifurcation point"
                return
        x = sol[0]
        t = self._tangent(x, e1)
        yield x
        while True:
            pred = x + h * t
            sol = self._newton(pred, t, pred)
            if sol is not None:
                t_new = self._tangent(sol[0], t)
                if t_new @ t > 0.5:  # no jump to another branch, no reversal
                    x, t = sol[0], t_new
                    yield x
                    if sol[1] <= 3:
                        h = min(step, 1.3 * h)
                    continue
            h /= 2.0
            if h < MIN_STEP:
                self.failure = f"continuation stalled at D = {x[-1] * self.lam_k:.6g} (step below {MIN_STEP:g})"
                return

    def solve_at(self, c, s):
        """Newton at fixed s = D/λ_k from the guess c (the n reduced coefficients); None if it fails."""
        sol = self._newton(np.append(np.asarray(c, dtype=np.float64)[: self.n], s))
        return None if sol is None else sol[0]

    # --------------------------------------------------------------- the state itself

    def uniform_state(self):
        """The uniform density at D = D_k (the branch's first point)."""
        return self._state(np.zeros(self.n), 1.0, np.full(self.M, 1.0 / self.M), np.zeros(self.M))

    def finish(self, x):
        """The state dict of a converged vector x = (c, s)."""
        T, p, psi = self._evaluate(x[:-1], x[-1])
        return self._state(x[:-1], x[-1], p, psi, float(np.max(np.abs(x[:-1] - T))))

    def _state(self, c, s, p, psi, residual=0.0):
        D = s * self.lam_k
        chat = np.fft.rfft(p).real  # c_{jk} of the density, all resolved modes
        chat[0] = 1.0
        with np.errstate(divide="ignore", invalid="ignore"):
            entropy = float(np.sum(np.where(p > 0, p * np.log(self.M * p), 0.0)))
        energy_excess = self.lam_k * float(np.sum(self.lt * c * c))  # E - λ_0/2
        coeffs, lt, k = c.copy(), self.lt.copy(), self.k
        shift, log_z = float(psi.max()), math.log(TWO_PI / self.M * np.sum(np.exp(psi - psi.max())))

        def density(theta):
            phase = (2.0 / s) * (lt * coeffs) @ np.cos(np.outer(np.arange(1, lt.size + 1), k * theta))
            return np.exp(phase - shift - log_z)

        return {
            "c": np.concatenate([[1.0], c]),
            "D": D,
            "F": -0.5 * self.lam0 - energy_excess + D * entropy,
            "leading": float(spectrum(self.beta, D, chat, self.k)[0]),
            "residual": residual,
            "density": density,
        }
