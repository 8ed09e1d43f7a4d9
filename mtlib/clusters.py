"""Clusters of an empirical measure: which tokens belong together, where, and how heavy.

The metastable states of the dynamics are a few tight groups of tokens. This module
finds them, so that a chapter (or a reader) can count clusters and compare their
positions and masses with the theory.

- On the circle the grouping is exact single linkage: sort the angles and cut the circle
  at every gap wider than ``radius``. Two tokens are in one cluster when a chain of tokens
  with steps of at most ``radius`` joins them.
- On S^{d-1} (d >= 3) it is leader clustering: the heaviest remaining region is seeded at
  the token with the most mass within ``radius``, every token within ``radius`` of it
  joins, and the process repeats. For clusters narrower than ``radius`` and farther apart
  than ``2 radius`` (the metastable states) both give the same partition.

Groups lighter than ``min_mass`` (stray tokens between clusters) are reported as noise
(label -1) and not counted.
"""

from dataclasses import dataclass

import numpy as np

from ._validate import check_array, check_real, check_weights

__all__ = ["Clusters", "find_clusters"]

TWO_PI = 2.0 * np.pi


@dataclass(frozen=True)
class Clusters:
    """Clusters found by :func:`find_clusters`, heaviest first.

    Attributes
    ----------
    centres : ndarray, shape (k,) or (k, d)
        Angles in [0, 2π) on the circle (circular means), unit vectors on S^{d-1}
        (normalised means) of the k clusters.
    masses : ndarray, shape (k,)
        Total weight of each cluster (the weights of all tokens sum to 1).
    labels : ndarray of int, shape (n,)
        Cluster index of each token (into ``centres``), -1 for tokens in groups lighter
        than ``min_mass``.
    spreads : ndarray, shape (k,)
        Largest geodesic distance (radians) from a cluster's tokens to its centre.
    """

    centres: np.ndarray
    masses: np.ndarray
    labels: np.ndarray
    spreads: np.ndarray

    @property
    def count(self):
        """The number of clusters k."""
        return int(self.masses.size)


def find_clusters(tokens, radius=0.2, min_mass=0.02, weights=None):
    """Group tokens on the circle or the sphere into clusters.

    Parameters
    ----------
    tokens : array_like, shape (n,) or (n, d)
        Angles in radians (circle), or unit rows on S^{d-1} with d >= 2.
    radius : float, in (0, π)
        Linkage length in radians (geodesic): tokens closer than this are grouped.
    min_mass : float, in [0, 1)
        Groups lighter than this are noise (label -1), not clusters.
    weights : array_like, shape (n,), optional
        Token masses summing to 1 (default 1/n each).

    Returns
    -------
    Clusters
        Centres, masses, labels and spreads, heaviest cluster first.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.3 (the k_max clusters of the metastable state).
    """
    x = check_array(tokens, "tokens", ndim=(1, 2))
    radius = check_real(radius, "radius", low=0.0, high=np.pi, low_open=True, high_open=True)
    min_mass = check_real(min_mass, "min_mass", low=0.0, high=1.0, high_open=True)
    w = check_weights(weights, x.shape[0])
    if x.ndim == 2 and x.shape[1] == 2:
        x = np.arctan2(x[:, 1], x[:, 0])
    if x.ndim == 1:
        groups = _circle_groups(np.mod(x, TWO_PI), radius)
    else:
        if x.shape[1] < 2:
            raise ValueError(f"tokens must be angles (n,) or unit rows (n, d) with d >= 2, got shape {x.shape}")
        norms = np.linalg.norm(x, axis=1)
        if np.max(np.abs(norms - 1.0)) > 1e-8:
            raise ValueError("rows of tokens must have unit norm; normalise them first")
        groups = _sphere_groups(x, w, radius)
    return _summarise(x, w, groups, min_mass)


def _circle_groups(theta, radius):
    """Group index of each angle: cut the circle at the gaps wider than radius."""
    order = np.argsort(theta, kind="stable")
    s = theta[order]
    gaps = np.diff(np.concatenate([s, [s[0] + TWO_PI]]))  # gaps[i]: from s[i] to the next
    cuts = np.flatnonzero(gaps > radius)
    groups = np.empty(s.size, dtype=np.int64)
    if cuts.size == 0:
        groups[order] = 0
        return groups
    # Start the first group just after the last cut, so no group wraps through the array end.
    start = (cuts[-1] + 1) % s.size
    rolled = np.roll(np.arange(s.size), -start)
    ids = np.zeros(s.size, dtype=np.int64)
    ids[1:] = np.cumsum(np.isin(rolled[:-1], cuts))
    groups[order[rolled]] = ids
    return groups


def _sphere_groups(X, w, radius):
    """Leader clustering: seed at the token with the most mass within radius, repeat."""
    cos_r = np.cos(radius)
    groups = np.full(X.shape[0], -1, dtype=np.int64)
    remaining = np.arange(X.shape[0])
    g = 0
    while remaining.size:
        R = X[remaining]
        # The mass near each of a bounded sample of candidates picks the densest seed.
        cand = remaining[:: max(1, remaining.size // 256)]
        near = (X[cand] @ R.T) >= cos_r
        seed = cand[np.argmax(near.astype(float) @ w[remaining])]
        members = remaining[R @ X[seed] >= cos_r]
        groups[members] = g
        remaining = remaining[groups[remaining] < 0]
        g += 1
    return groups


def _summarise(x, w, groups, min_mass):
    n_groups = int(groups.max()) + 1
    mass = np.bincount(groups, weights=w, minlength=n_groups)
    keep = np.flatnonzero(mass >= min_mass)
    keep = keep[np.argsort(-mass[keep], kind="stable")]
    relabel = np.full(n_groups, -1, dtype=np.int64)
    relabel[keep] = np.arange(keep.size)
    labels = relabel[groups]
    if x.ndim == 1:
        z = np.bincount(groups, weights=w * np.cos(x), minlength=n_groups) + 1j * np.bincount(
            groups, weights=w * np.sin(x), minlength=n_groups
        )
        centres = np.mod(np.angle(z[keep]), TWO_PI)
        dist = np.abs(np.angle(np.exp(1j * (x - np.concatenate([centres, [0.0]])[labels]))))
    else:
        sums = np.zeros((n_groups, x.shape[1]))
        np.add.at(sums, groups, w[:, None] * x)
        centres = sums[keep] / np.linalg.norm(sums[keep], axis=1, keepdims=True)
        padded = np.vstack([centres, np.zeros((1, x.shape[1]))])
        dist = np.arccos(np.clip(np.einsum("ij,ij->i", x, padded[labels]), -1.0, 1.0))
    spreads = np.zeros(keep.size)
    inside = labels >= 0
    np.maximum.at(spreads, labels[inside], dist[inside])
    return Clusters(centres=centres, masses=mass[keep], labels=labels, spreads=spreads)
