"""Token flows under the normalisation schemes of transformers (Post-LN, Pre-LN, Peri-LN, nGPT, √t).

Tokens x_i = r_i θ_i, |θ_i| = 1, attend through A_i (see :func:`mtlib.attention`), and each
scheme moves the directions by θ_i' = (1/s_i) P_{θ_i} A_i (P_θ y = y - <θ,y> θ) and
possibly the norms r_i, as in the table of :mod:`mtlib.reductions`.

Reference: P. Rigollet, "The mean-field dynamics of transformers" (2025), arXiv:2512.01868.
"""

import math
import time
from dataclasses import dataclass

import numpy as np

from .._constants import DEFAULT_MODEL
from .._integrate import check_tolerances, integrate
from .._validate import check_array, check_model, check_real, check_times, check_usa_beta
from ..fields import attention
from ._schemes import check_normalization

__all__ = ["simulate_normalized", "NormalizedResult"]


@dataclass(frozen=True)
class NormalizedResult:
    """Tokens x_i = r_i θ_i of a normalised attention flow at the output times.

    Attributes
    ----------
    t : ndarray, shape (T,)
    theta : ndarray, shape (T, n, d)
        Directions (unit rows).
    r : ndarray, shape (T, n)
        Norms.
    beta : float
    model, normalization : str
    n_steps : int
        Accepted integrator steps.
    nfev : int
        Evaluations of the attention field.
    wall_time : float
        Seconds.
    message : str
        The integrator's report.
    """

    t: np.ndarray
    theta: np.ndarray
    r: np.ndarray
    beta: float
    model: str
    normalization: str
    n_steps: int
    nfev: int
    wall_time: float
    message: str

    @property
    def states(self):
        """The tokens x_i = r_i θ_i, shape (T, n, d)."""
        return self.r[..., None] * self.theta


def simulate_normalized(
    x0, beta, t_eval, normalization="post", model=DEFAULT_MODEL, alpha=1.0, rtol=1e-10, atol=1e-12
):
    """Integrate the token flow x_i = r_i θ_i under a normalisation scheme.

    θ_i' = (1/s_i) P_{θ_i} A_i with s_i and r_i' from the table of :mod:`mtlib.reductions`
    ("post": s = 1, the SA/USA flow of :func:`mtlib.simulate`; "pre": s = r_i,
    r_i' = <θ_i,A_i>; "peri": s = r_i|A_i|, r_i' = <θ_i,A_i>/|A_i|; "ngpt": s = |A_i|/α;
    "sqrt": s = sqrt(t+1)). The attention averages A_i are :func:`mtlib.attention`.
    Solved for (θ, r) by the Dormand–Prince 5(4) integrator of mtlib; θ is renormalised
    where the field is evaluated and at the outputs.

    Parameters
    ----------
    x0 : array_like, shape (n, d)
        Initial tokens, nonzero rows (norms r_i(0) = |x_i(0)|, directions x_i/|x_i|).
    beta : float
    t_eval : array_like, shape (T,)
        Output times, >= 0, strictly increasing.
    normalization : {"post", "pre", "peri", "ngpt", "sqrt"}
    model : {"usa", "sa"}
    alpha : float > 0
        nGPT step scale α.
    rtol, atol : float
        Integrator tolerances: rtol >= 4 machine epsilons, atol > 0.

    Returns
    -------
    NormalizedResult
        ``t``, ``theta`` (T, n, d), ``r`` (T, n), ``states`` = r θ.

    References
    ----------
    Rigollet, "The mean-field dynamics of transformers" (2025), normalisation schemes.
    """
    start = time.perf_counter()
    X = check_array(x0, "x0", ndim=2)
    n, d = X.shape
    if d < 2:
        raise ValueError(f"x0 must have d >= 2 columns, got shape {X.shape}")
    r0 = np.linalg.norm(X, axis=1)
    if np.any(r0 <= 0):
        raise ValueError("x0 must have nonzero rows (each token x_i = r_i θ_i needs r_i > 0)")
    theta0 = X / r0[:, None]
    normalization = check_normalization(normalization)
    model = check_model(model)
    beta = check_real(beta, "beta")
    check_usa_beta(beta, model)
    alpha = check_real(alpha, "alpha", low=0.0, low_open=True)
    t_eval = check_times(t_eval)
    rtol, atol = check_tolerances(rtol, atol)
    nd = n * d

    def rhs(t, y):
        th = y[:nd].reshape(n, d)
        th = th / np.linalg.norm(th, axis=1, keepdims=True)
        r = y[nd:]
        A = attention(th, beta, model=model)
        c1 = np.einsum("ij,ij->i", th, A)
        P = A - c1[:, None] * th
        if normalization == "post":
            s, dr = 1.0, np.zeros(n)
        elif normalization == "sqrt":
            s, dr = math.sqrt(t + 1.0), np.zeros(n)
        elif normalization == "pre":
            s, dr = r, c1
        else:
            nA = np.linalg.norm(A, axis=1)
            if normalization == "peri":
                s, dr = r * nA, c1 / nA
            else:
                s, dr = nA / alpha, np.zeros(n)
        s = np.broadcast_to(s, (n,))
        return np.concatenate([(P / s[:, None]).ravel(), dr])

    sol = integrate(rhs, np.concatenate([theta0.ravel(), r0]), t_eval, rtol=rtol, atol=atol)
    theta = sol.y[:, :nd].reshape(-1, n, d)
    theta = theta / np.linalg.norm(theta, axis=2, keepdims=True)
    r = sol.y[:, nd:].copy()
    return NormalizedResult(
        t_eval, theta, r, beta, model, normalization, sol.n_steps, sol.nfev, time.perf_counter() - start,
        sol.message,
    )
