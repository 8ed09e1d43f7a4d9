"""Weighted clusters on the circle through their mergers: the metastable time scale.

Tokens that coincide have the same velocity for ever, so a collapsed cluster of mass m_a
moves like one weighted token (:func:`mtlib.simulate` with ``weights``):

    dθ_a/dt = Σ_b m_b K(θ_b - θ_a),   K(φ) = e^{β cos φ} sin φ   (USA),

and SA divides by Σ_b m_b e^{β cos(θ_b - θ_a)}. :func:`simulate_mergers` integrates the
clusters with adaptive Dormand–Prince steps and a terminal event on the distance of the
closest pair (:func:`closest_pair_event`): when two clusters come within ``tol`` the run
stops at that moment (located on the dense output), the pair becomes one cluster at its
centre of mass with the sum of the masses (the arithmetic of
:func:`mtlib.merge_coincident`), and the run goes on, until ``t_eval[-1]`` or until one
cluster is left. USA conserves Σ_a m_a θ_a (angles lifted to R; K is odd), and so does
the merge. Clusters merge pairwise, the closest pair first, after times of order
e^{β(1 - cos Δ)} for clusters Δ apart.

References: Bruno, Pasqualotto, Agazzi, "Emergence of meta-stable clustering in
mean-field transformer models" (ICLR 2025, arXiv:2410.23228); Geshkovski, Letrouit,
Polyanskiy, Rigollet, "The emergence of clusters in self-attention dynamics" (NeurIPS
2023); Rigollet, "The mean-field dynamics of transformers" (2025, arXiv:2512.01868).
"""

import time
from dataclasses import dataclass

import numpy as np

from ._constants import DEFAULT_MODEL, TWO_PI
from ._integrate import check_tolerances
from ._validate import (
    check_array,
    check_memory,
    check_model,
    check_positive_weights,
    check_real,
    check_times,
    check_usa_beta,
    check_weights,
    wrap_angles,
)
from .dynamics import simulate
from .fields import energy_circle
from .measures import circular_difference, closest_pair

__all__ = ["MergerResult", "simulate_mergers", "closest_pair_event"]


@dataclass(frozen=True)
class MergerResult:
    """Weighted clusters on the circle followed through their mergers (:func:`simulate_mergers`).

    The n input points are the *initial clusters*; each later cluster is a union of them.

    Attributes
    ----------
    t : ndarray, shape (T,)
        Output times, ``t_eval`` (the initial configuration is the state at ``t[0]``).
    states : ndarray, shape (T, n)
        At each output time, the angle in [0, 2π) of the cluster that carries each
        initial cluster (merged initial clusters share an angle).
    labels : ndarray of int, shape (T, n)
        At each output time, the index of that cluster in the configuration of the time
        (into ``centres[j]`` of the plateau j the time lies in).
    energy : ndarray, shape (T,)
        The interaction energy E_β = (1/(2β)) Σ_{a,b} m_a m_b e^{β cos(θ_a - θ_b)} of the
        clusters (:func:`mtlib.energy_circle`); NaN for β = 0, where it is singular.
    t_merge : ndarray, shape (M,)
        The time of each merger: the moment the pair's distance reached ``tol``, located
        by the terminal event (mergers of clusters within ``tol`` at ``t[0]`` are at
        ``t[0]``). Simultaneous meetings are successive mergers at one time.
    pairs : ndarray of int, shape (M, 2)
        The indices i < j, into ``centres[m]``, of the two clusters of merger m.
    groups : tuple of M tuples of int
        The initial clusters (indices into the input) that form the new cluster of merger m.
    centres, masses : tuple of M + 1 ndarrays
        The configuration on each plateau, at its start (``t[0]``, then just after each
        merger): angles in [0, 2π) and masses. Merger m replaces the clusters
        ``pairs[m]`` of ``centres[m]`` by one cluster, the last of ``centres[m + 1]``; the
        others keep their order.
    beta : float
    model : str
    tol : float
    weights : ndarray, shape (n,)
        The masses of the initial clusters.
    n_steps, n_rejected, nfev : int
        Accepted and rejected steps, velocity-field evaluations, all runs together.
    wall_time : float
        Seconds spent in :func:`simulate_mergers`.
    message : str
    """

    t: np.ndarray
    states: np.ndarray
    labels: np.ndarray
    energy: np.ndarray
    t_merge: np.ndarray
    pairs: np.ndarray
    groups: tuple
    centres: tuple
    masses: tuple
    beta: float
    model: str
    tol: float
    weights: np.ndarray
    n_steps: int
    n_rejected: int
    nfev: int
    wall_time: float
    message: str

    @property
    def count(self):
        """The number of clusters at each output time, shape (T,)."""
        return self.labels.max(axis=1) + 1


def closest_pair_event(tol):
    """A terminal event for :func:`mtlib.simulate`: two angles come within ``tol``.

    .. math:: g(t, θ) = \\min_{a \\neq b} |θ_a - θ_b|_{S^1} - \\mathrm{tol}

    (:func:`mtlib.closest_pair`), with ``terminal = True`` and ``direction = -1``: the run
    stops when the distance of the closest pair falls to ``tol``. Needs n >= 2 angles.

    Parameters
    ----------
    tol : float, in (0, π)
        The meeting distance, radians.

    Returns
    -------
    callable
        g(t, theta) -> float, with the attributes ``terminal`` and ``direction``.
    """
    tol = check_real(tol, "tol", low=0.0, high=np.pi, low_open=True, high_open=True)

    def meeting(_t, theta):
        return closest_pair(theta)[2] - tol

    meeting.terminal, meeting.direction = True, -1
    return meeting


def _merge_pair(theta, masses, i, j):
    """Clusters i < j become one at their centre of mass, placed last (as merge_coincident)."""
    total = masses[i] + masses[j]
    centre = np.mod(theta[i] + masses[j] / total * circular_difference(theta[j], theta[i]), TWO_PI)
    keep = np.setdiff1d(np.arange(theta.size), (i, j))
    new = np.empty(theta.size, dtype=np.int64)
    new[keep] = np.arange(keep.size)
    new[[i, j]] = keep.size
    return np.append(theta[keep], centre), np.append(masses[keep], total), new


def simulate_mergers(theta, beta, t_eval, weights=None, tol=1e-9, model=DEFAULT_MODEL, rtol=1e-10, atol=1e-12):
    """Follow weighted clusters on the circle through their pairwise mergers.

    The clusters move as weighted tokens (:func:`mtlib.simulate`, ``method="dopri"``,
    output times relative to the start of each run); a run stops when the closest pair
    comes within ``tol`` (:func:`closest_pair_event`), the pair (i < j) is replaced by
    one cluster of mass W = m_i + m_j at its centre of mass

    .. math:: c = θ_i + \\frac{m_j}{W} ((θ_j - θ_i + π) \\bmod 2π - π),

    and a new run starts from there (clusters already within ``tol`` merge at once).
    With one cluster left nothing moves (K(0) = 0). The velocity field and the merge
    conserve Σ_a m_a θ_a for USA. The angles carry an absolute error of about rtol·2π, so
    a merger time is fixed to about rtol·2π / (tol · rate of collapse): keep ``tol`` well
    above rtol·2π.

    Parameters
    ----------
    theta : array_like, shape (n,)
        Angles (radians) of the clusters at time ``t_eval[0]``.
    beta : float
        Inverse temperature; |β| <= 700 for USA.
    t_eval : array_like, shape (T,)
        Output times, >= 0 and strictly increasing; the run starts at ``t_eval[0]``.
    weights : array_like, shape (n,), optional
        Positive cluster masses summing to 1 (default 1/n each); used as given.
    tol : float, in (0, π/2)
        Two clusters merge when their distance (radians) falls to ``tol``.
    model : {"usa", "sa"}
    rtol, atol : float
        Tolerances of the Dormand–Prince steps: rtol >= 4 machine epsilons, atol > 0.

    Returns
    -------
    MergerResult
        The states and labels at ``t_eval``, the energies, the merger times, pairs and
        groups, the configuration on each plateau, run statistics.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), arXiv:2410.23228; Rigollet (2025),
    arXiv:2512.01868 (pairwise mergers, closest pair first, on times exponential in β).
    """
    start = time.perf_counter()
    x = np.asarray(theta)
    if x.ndim != 1:
        raise ValueError(f"theta must be angles of shape (n,) (clusters on the circle), got shape {x.shape}")
    x = wrap_angles(check_array(x, "theta", ndim=1))
    n = x.size
    beta = check_real(beta, "beta")
    t_eval = check_times(t_eval)
    check_memory(3 * 8 * n * t_eval.size, f"{n} clusters at {t_eval.size} output times")  # states, labels, a run's
    w = check_positive_weights(weights, n)
    check_weights(w, n)  # masses summing to 1 (kept as given)
    tol = check_real(tol, "tol", low=0.0, high=np.pi / 2, low_open=True, high_open=True)
    model = check_model(model)
    check_usa_beta(beta, model)
    rtol, atol = check_tolerances(rtol, atol)

    event = closest_pair_event(tol)
    centres, masses, carrier = x, w, np.arange(n)
    plateaus, t_merge, pairs, groups = [(centres, masses)], [], [], []
    states, labels, energy = [], [], []
    now, done, met = t_eval[0], 0, False  # met: the last run stopped at a meeting
    n_steps = n_rejected = nfev = 0
    while True:
        while centres.size > 1 and (met or closest_pair(centres)[2] <= tol):
            i, j, _ = closest_pair(centres)
            centres, masses, new = _merge_pair(centres, masses, i, j)
            t_merge.append(now)
            pairs.append((i, j))
            groups.append(tuple(np.flatnonzero(np.isin(carrier, (i, j))).tolist()))
            carrier, met = new[carrier], False
            plateaus.append((centres, masses))
        ahead = np.maximum(t_eval[done:] - now, 0.0)
        if centres.size == 1:  # one cluster: it stays where it is
            run_states, met = np.broadcast_to(centres, (ahead.size, 1)), False
        else:
            run = simulate(centres, beta, ahead, model=model, method="dopri", weights=masses,
                           rtol=rtol, atol=atol, events=event)
            n_steps, n_rejected, nfev = n_steps + run.n_steps, n_rejected + run.n_rejected, nfev + run.nfev
            run_states, met = run.states, run.status == 1
        states += [s[carrier] for s in run_states]
        labels += [carrier] * len(run_states)
        energy += [energy_circle(s, beta, weights=masses) if beta != 0 else np.nan for s in run_states]
        done += len(run_states)
        if not met:
            break
        now, centres = now + run.t_events[0][0], run.states_events[0][0]
    left = plateaus[-1][0].size
    return MergerResult(
        t=t_eval,
        states=np.array(states),
        labels=np.array(labels),
        energy=np.array(energy, dtype=float),
        t_merge=np.array(t_merge, dtype=float),
        pairs=np.array(pairs, dtype=np.int64).reshape(-1, 2),
        groups=tuple(groups),
        centres=tuple(c for c, _ in plateaus),
        masses=tuple(m for _, m in plateaus),
        beta=beta,
        model=model,
        tol=tol,
        weights=w,
        n_steps=n_steps,
        n_rejected=n_rejected,
        nfev=nfev,
        wall_time=time.perf_counter() - start,
        message=f"{len(t_merge)} merger(s); {left} cluster(s) left at t = {t_eval[-1]:.6g}",
    )
