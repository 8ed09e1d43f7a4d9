"""Measures of an empirical measure: the numbers a chapter reads off tokens or a density.

- Clusters: :func:`find_clusters` (count, centres, masses), :func:`merge_coincident`
  (collapse clusters that have met), :func:`histogram_peaks` and :func:`density_peaks`
  (cluster centres while the clusters form, from tokens or from a grid density), and
  :func:`match_error` (predicted against observed centres).
- The circle: :func:`circular_difference`, :func:`circle_spacings`, :func:`closest_pair`.
- :func:`order_parameter`, the length of the mean of the tokens.
- Curves in time: :func:`first_crossing` (first time a sampled curve reaches a level) and
  :func:`fit_rate` (the exponential rate of a sampled curve).

Clusters on the circle are exact single linkage: sort the angles and cut the circle at
every gap wider than ``radius``; two tokens are in one cluster when a chain of tokens with
steps of at most ``radius`` joins them. On S^{d-1} (d >= 3) it is leader clustering: the
heaviest remaining region is seeded at the token with the most mass within ``radius``,
every token within ``radius`` of it joins, and the process repeats. For clusters narrower
than ``radius`` and farther apart than ``2 radius`` (the metastable states) both give the
same partition. Groups lighter than ``min_mass`` or of zero mass are noise (label -1), not
counted. Huge angles are reduced exactly, like :func:`mtlib.angles_to_points` (cos, sin).
"""

from dataclasses import dataclass

import numpy as np

from ._constants import TWO_PI
from ._validate import (check_array, check_int, check_memory, check_positive_weights, check_real, check_unit_rows,
                        check_weights, reduce_large_angles, wrap_angles)

__all__ = [
    "Clusters", "find_clusters", "merge_coincident", "histogram_peaks", "density_peaks", "match_error",
    "circular_difference", "circle_spacings", "closest_pair", "order_parameter", "first_crossing", "fit_rate",
]

# histogram_peaks smooths with a Gaussian of SMOOTH_SIGMA bins, cut at ±SMOOTH_HALF bins.
SMOOTH_SIGMA = 2.0
SMOOTH_HALF = 6


@dataclass(frozen=True)
class Clusters:
    """Clusters of an empirical measure, from :func:`find_clusters` or :func:`merge_coincident`.

    Attributes
    ----------
    centres : ndarray, shape (k,) or (k, d)
        Angles in [0, 2π) on the circle, unit vectors on S^{d-1}, of the k clusters:
        heaviest first from :func:`find_clusters`, in the order described by
        :func:`merge_coincident` from it.
    masses : ndarray, shape (k,)
        Total weight of each cluster.
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
    """Group tokens on the circle or the sphere into clusters (see the module docstring).

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
        Centres (circular means on the circle, normalised means on the sphere), masses,
        labels and spreads, heaviest cluster first.

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
        x = reduce_large_angles(x)
        theta = np.mod(x, TWO_PI)
        order = np.argsort(theta, kind="stable")
        s = theta[order]
        gaps = np.diff(np.concatenate([s, [s[0] + TWO_PI]]))  # gaps[i]: from s[i] to the next
        groups = _ring_groups(order, gaps > radius)
    else:
        if x.shape[1] < 2:
            raise ValueError(f"tokens must be angles (n,) or unit rows (n, d) with d >= 2, got shape {x.shape}")
        x = check_unit_rows(tokens, "tokens")
        groups = _sphere_groups(x, w, radius)
    return _summarise(x, w, groups, min_mass)


def _ring_groups(order, cut):
    """Group index of points on a ring: ``order`` sorts them, cut[i] cuts after sorted point i."""
    n = order.size
    cuts = np.flatnonzero(cut)
    groups = np.empty(n, dtype=np.int64)
    if cuts.size == 0:
        groups[order] = 0
        return groups
    # Start the first group just after the last cut, so no group wraps through the array end.
    start = (cuts[-1] + 1) % n
    rolled = np.roll(np.arange(n), -start)
    ids = np.zeros(n, dtype=np.int64)
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
    keep = np.flatnonzero((mass >= min_mass) & (mass > 0))  # a group of zero mass has no centre
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


def merge_coincident(theta, weights=None, tol=1e-9):
    """Merge the points of a weighted measure on the circle that are closer than ``tol``.

    Points joined by a chain of steps shorter than ``tol`` (geodesic) form one group; a
    group is replaced by one point at its centre of mass along the arc,

    .. math:: c = θ_r + \\sum_{i} \\frac{w_i}{W} ((θ_i - θ_r + π) \\bmod 2π - π),
        \\quad W = \\sum_i w_i,

    with θ_r its member of lowest index, and the weight W. The USA dynamics on the circle
    conserves Σ_i w_i θ_i (its kernel is odd), and so does this merge. It is the step that
    follows weighted clusters through their mergers on the metastable time scale.

    Parameters
    ----------
    theta : array_like, shape (n,)
        Angles in radians.
    weights : array_like, shape (n,), optional
        Positive masses (any total; default 1/n each). They are not renormalised.
    tol : float, in (0, π)
        Points closer than this (radians) are merged.

    Returns
    -------
    Clusters
        ``centres`` in [0, 2π) and ``masses``: first the points that merged with no other,
        in input order, then one point per merged group, in the order of their members of
        lowest index; ``labels[i]`` is the new index of point i; ``spreads`` the largest
        distance of a member to its new point.

    References
    ----------
    Rigollet, "The mean-field dynamics of transformers" (2025) (pairwise mergers, closest
    pair first); Bruno, Pasqualotto, Agazzi (2025), arXiv:2410.23228.
    """
    x = wrap_angles(check_array(theta, "theta", ndim=1))
    n = x.size
    w = check_positive_weights(weights, n)
    tol = check_real(tol, "tol", low=0.0, high=np.pi, low_open=True, high_open=True)
    order = np.argsort(x, kind="stable")
    s = x[order]
    step = np.abs(circular_difference(np.roll(s, -1), s))  # distance from sorted point i to the next
    link = (np.diff(np.append(s, s[0] + TWO_PI)) < np.pi) & (step < tol)  # the short way is forward
    if link.all():
        raise ValueError(f"tol = {tol}: every point is within tol of its neighbour; use a smaller tol")
    groups = _ring_groups(order, ~link)
    count = int(groups.max()) + 1
    extent = np.bincount(groups[order], weights=np.where(link, step, 0.0), minlength=count)
    if np.any(extent >= np.pi):
        raise ValueError(f"tol = {tol}: points closer than tol chain over half the circle; use a smaller tol")
    size = np.bincount(groups, minlength=count)
    first = np.full(count, n)
    np.minimum.at(first, groups, np.arange(n))
    perm = np.argsort(first + n * (size > 1))  # lone points first, then merged groups, by index
    rank = np.empty(count, dtype=np.int64)
    rank[perm] = np.arange(count)
    mass = np.bincount(groups, weights=w, minlength=count)
    offset = circular_difference(x, x[first[groups]])
    shift = np.bincount(groups, weights=w / mass[groups] * offset, minlength=count)
    centres = np.mod(x[first] + shift, TWO_PI)
    spreads = np.zeros(count)
    np.maximum.at(spreads, groups, np.abs(circular_difference(x, centres[groups])))
    return Clusters(centres=centres[perm], masses=mass[perm], labels=rank[groups], spreads=spreads[perm])


def histogram_peaks(theta, bins=256, height=3.0, radius=0.25):
    """Cluster centres of tokens on the circle while the clusters form: peaks of their density.

    The histogram with ``bins`` equal bins is smoothed by a Gaussian of 2 bins (cut at ±6
    bins); every local maximum of the smoothed density above ``height``/(2π) gives one
    centre, the circular mean arg Σ e^{iθ_j} of the tokens within ``radius`` of that bin.
    Unlike :func:`find_clusters` it needs no empty gap between the clusters.

    Parameters
    ----------
    theta : array_like, shape (n,)
        Angles in radians.
    bins : int, >= 13
        Number of histogram bins.
    height : float, > 0
        Threshold in units of the uniform density 1/(2π).
    radius : float, in [6.5 bins, π)
        Radius (radians) of the circular mean around a peak; it covers the smoothing window.

    Returns
    -------
    ndarray, shape (k,)
        The k centres in [0, 2π), sorted.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.3 (cluster positions after the linear phase).
    """
    theta = wrap_angles(check_array(theta, "theta", ndim=1))
    bins = check_int(bins, "bins", low=2 * SMOOTH_HALF + 1)
    check_memory(64 * bins, f"bins = {bins}")
    height = check_real(height, "height", low=0.0, low_open=True)
    radius = check_real(radius, "radius", low=(SMOOTH_HALF + 0.5) * TWO_PI / bins, high=np.pi, high_open=True)
    counts, _ = np.histogram(theta, bins=bins, range=(0, TWO_PI))
    density = counts / (theta.size * TWO_PI / bins)
    kernel = np.exp(-0.5 * (np.arange(-SMOOTH_HALF, SMOOTH_HALF + 1) / SMOOTH_SIGMA) ** 2)
    padded = np.concatenate([density[-SMOOTH_HALF:], density, density[:SMOOTH_HALF]])
    smooth = np.convolve(padded, kernel / kernel.sum(), "valid")
    peak = (smooth > np.roll(smooth, 1)) & (smooth >= np.roll(smooth, -1)) & (smooth > height / TWO_PI)
    centres = []
    for i in np.flatnonzero(peak):
        near = theta[np.abs(circular_difference(theta, (i + 0.5) * TWO_PI / bins)) < radius]
        centres.append(np.mod(np.angle(np.mean(np.exp(1j * near))), TWO_PI))
    return np.sort(np.array(centres))


def density_peaks(density, height=10.0, window=20):
    """Positions and masses of the peaks of a density given on the grid θ_j = 2πj/M.

    A peak is a grid point where 2πρ is at least its values within ``window`` points on
    each side and exceeds ``height``; the circle is split at the minimum of ρ between
    neighbouring peaks and each peak gets the mass Σ_j ρ_j 2π/M of its part.

    Parameters
    ----------
    density : array_like, shape (M,)
        Values ρ(θ_j) of a density on [0, 2π) (integrating to 1 for masses that sum to 1).
    height : float, > 0
        Threshold in units of the uniform density 1/(2π).
    window : int, in [1, M/2)
        Half-width, in grid points, of the local-maximum test.

    Returns
    -------
    positions : ndarray, shape (k,)
        Grid angles of the k peaks, increasing.
    masses : ndarray, shape (k,)
        Mass of each peak's part of the circle.

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4 (the clusters that the PDE forms).
    """
    rho = check_array(density, "density", ndim=1)
    M = rho.size
    height = check_real(height, "height", low=0.0, low_open=True)
    window = check_int(window, "window", low=1, high=(M - 1) // 2)
    check_memory((2 * window + 1) * M + 16 * M, f"window = {window} on M = {M} grid points")
    grid = TWO_PI * np.arange(M) / M
    r = TWO_PI * rho
    local_max = np.all([r >= np.roll(r, s) for s in range(-window, window + 1)], axis=0)
    top = np.flatnonzero(local_max & (r > height))
    bounds = []
    for a, b in zip(top, np.roll(top, -1)):
        span = np.arange(a, b + (M if b <= a else 0)) % M
        bounds.append(span[np.argmin(r[span])])
    cell_mass = rho * TWO_PI / M
    masses = [cell_mass[np.arange(lo + 1, hi + 1 + (M if hi <= lo else 0)) % M].sum()
              for lo, hi in zip(np.roll(bounds, 1), bounds)]
    return grid[top], np.array(masses)


def match_error(predicted, observed):
    """Largest distance from a predicted position on the circle to its nearest observed one.

    .. math:: e = \\max_i \\min_j |θ^{pred}_i - θ^{obs}_j|_{S^1}

    the directed Hausdorff distance from the predicted to the observed set. When each
    predicted position has a different nearest observed one (as for k well-separated
    clusters and k predictions) it is also the best one-to-one matching error.

    Parameters
    ----------
    predicted : array_like, shape (k,)
        Predicted angles (radians), k >= 1.
    observed : array_like, shape (m,)
        Observed angles; m = 0 gives ``inf`` (nothing was observed).

    Returns
    -------
    float, in [0, π]

    References
    ----------
    Bruno, Pasqualotto, Agazzi (2025), Section 4.3 (cluster positions from the leading mode).
    """
    predicted = check_array(predicted, "predicted", ndim=1)
    observed = check_array(observed, "observed", ndim=1, min_size=0)
    if observed.size == 0:
        return np.inf
    return float(np.abs(circular_difference(predicted[:, None], observed[None, :])).min(axis=1).max())


def circular_difference(a, b):
    """The signed difference a - b of angles on the circle, in [-π, π).

    .. math:: d(a, b) = ((a - b + π) \\bmod 2π) - π

    |d| is the geodesic distance; the absolute error is one rounding of a - b + π
    (at most about 4.4e-16; angles beyond 1e3 are first reduced exactly, see the module
    notes). Arguments broadcast like NumPy arrays.

    Parameters
    ----------
    a, b : float or array_like
        Angles in radians.

    Returns
    -------
    float or ndarray
    """
    a = reduce_large_angles(check_array(a, "a").reshape(np.shape(a)))  # check_array returns at least 1-D
    b = reduce_large_angles(check_array(b, "b").reshape(np.shape(b)))
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"a and b must broadcast together, got shapes {a.shape} and {b.shape}") from None
    d = np.mod(a - b + np.pi, TWO_PI) - np.pi
    return float(d) if d.ndim == 0 else d


def circle_spacings(theta):
    """Gaps between neighbouring angles around the circle (they sum to 2π).

    With s the angles mod 2π in increasing order: s_{i+1} - s_i, i = 1..n-1, then
    s_1 + 2π - s_n. k equally spaced points give k gaps of 2π/k.

    Parameters
    ----------
    theta : array_like, shape (n,)
        Angles in radians.

    Returns
    -------
    ndarray, shape (n,)
    """
    s = np.sort(wrap_angles(check_array(theta, "theta", ndim=1)))
    return np.diff(np.append(s, s[0] + TWO_PI))


def closest_pair(theta):
    """The two closest angles on the circle: indices i < j and their distance.

    The closest pair is a pair of neighbours around the circle, so sorting finds it in
    O(n log n); ties go to the smallest (i, j).

    Parameters
    ----------
    theta : array_like, shape (n,), n >= 2
        Angles in radians.

    Returns
    -------
    i, j : int
        Indices into ``theta``, i < j.
    distance : float
        |circular_difference(theta[i], theta[j])|, in [0, π].
    """
    theta = reduce_large_angles(check_array(theta, "theta", ndim=1, min_size=2))
    order = np.argsort(np.mod(theta, TWO_PI), kind="stable")
    nxt = np.roll(order, -1)
    i, j = np.minimum(order, nxt), np.maximum(order, nxt)
    d = np.abs(circular_difference(theta[i], theta[j]))
    best = np.flatnonzero(d == d.min())
    k = best[np.lexsort((j[best], i[best]))[0]]
    return int(i[k]), int(j[k]), float(d[k])


def order_parameter(theta_or_X, weights=None, angles=None):
    """The order parameter |m|, m = Σ_i w_i x_i the mean of the tokens.

    On the circle |m| = |Σ_i w_i e^{iθ_i}| is Kuramoto's order parameter; |m| = 1 exactly
    when all tokens coincide, and 1 - |m| ≈ W2(μ, δ)²/2 near a single cluster.

    Parameters
    ----------
    theta_or_X : array_like
        Angles of shape (n,) or, with ``angles=True``, (T, n) (one row per time); unit
        rows of shape (n, d); or a trajectory of shape (T, n, d).
    weights : array_like, shape (n,), optional
        Non-negative token masses summing to 1 (default 1/n).
    angles : bool, optional
        Read the last axis as angles (default: only for 1-D input). Points must be unit
        rows (for a trajectory, at every time).

    Returns
    -------
    float, or ndarray of shape (T,) for a trajectory

    References
    ----------
    Kuramoto (1975); Chen, Lin, Polyanskiy, Rigollet, "Quantitative clustering in
    mean-field transformer models" (2025).
    """
    arr = check_array(theta_or_X, "theta_or_X", ndim=(1, 2, 3))
    if angles is None:
        angles = arr.ndim == 1
    elif not isinstance(angles, (bool, np.bool_)):
        raise TypeError(f"angles must be True, False or None, got {type(angles).__name__}")
    if angles:
        if arr.ndim == 3:
            raise ValueError("angles=True needs shape (n,) or (T, n)")
        w = check_weights(weights, arr.shape[-1])
        m = np.abs(np.exp(1j * arr) @ w)
    else:
        if arr.ndim == 1:
            raise ValueError("angles=False needs points of shape (n, d) or (T, n, d)")
        w = check_weights(weights, arr.shape[-2])
        arr = check_unit_rows(np.reshape(np.asarray(theta_or_X), (-1, arr.shape[-1])), "theta_or_X").reshape(arr.shape)
        m = np.linalg.norm(np.einsum("...nd,n->...d", arr, w), axis=-1)
    return float(m) if np.ndim(m) == 0 else m


def _check_curve(t, y):
    """Sample times (1-D) and values (..., len(t)) of sampled curves."""
    t = check_array(t, "t", ndim=1)
    y = check_array(y, "y")
    if y.ndim == 0 or y.shape[-1] != t.size:
        raise ValueError(f"y must have shape (..., {t.size}) to match t, got {y.shape}")
    return t, y


def first_crossing(t, y, level, direction=0, interpolate=True):
    """First time a sampled curve y(t) reaches ``level``, by linear interpolation.

    With y linear between samples, the answer is

    - direction = +1: inf{t : y(t) >= level} (t[0] if y starts at or above the level);
    - direction = -1: inf{t : y(t) <= level};
    - direction = 0: inf{t : y(t) = level}, the first crossing in either direction.

    Between the samples j-1 and j where it happens,
    t* = t_{j-1} + (level - y_{j-1}) (t_j - t_{j-1}) / (y_j - y_{j-1}).

    Parameters
    ----------
    t : array_like, shape (n_t,)
        Sample times, strictly increasing.
    y : array_like, shape (..., n_t)
        Values; each row along the last axis is one curve.
    level : float
    direction : {0, 1, -1}
        Which crossings count, as for the events of ``scipy.integrate.solve_ivp``.
    interpolate : bool
        False: return the first sample time t_j at or after the crossing instead.

    Returns
    -------
    float, or ndarray of shape y.shape[:-1]
        The crossing time; NaN where the curve never reaches the level.
    """
    t, y = _check_curve(t, y)
    if t.size > 1 and np.any(np.diff(t) <= 0):
        raise ValueError("t must be strictly increasing")
    level = check_real(level, "level")
    direction = check_int(direction, "direction", low=-1, high=1)
    if not isinstance(interpolate, (bool, np.bool_)):
        raise TypeError(f"interpolate must be a bool, got {type(interpolate).__name__}")
    rows = y.reshape(-1, t.size)
    out = np.full(rows.shape[0], np.nan)
    for r, row in enumerate(rows):
        s = direction if direction else -np.sign(row[0] - level)
        if s == 0:
            out[r] = t[0]
            continue
        hit = np.flatnonzero(row >= level if s > 0 else row <= level)
        if hit.size == 0:
            continue
        j = hit[0]
        if j == 0 or not interpolate:
            out[r] = t[j]
        else:
            out[r] = t[j - 1] + (level - row[j - 1]) * (t[j] - t[j - 1]) / (row[j] - row[j - 1])
    return float(out[0]) if y.ndim == 1 else out.reshape(y.shape[:-1])


def fit_rate(t, y, low=None, high=None, where=None, min_points=2, return_intercept=False):
    """Exponential rate of a sampled curve: the least-squares slope s of log y against t.

    .. math:: \\log y_j ≈ s t_j + c  \\quad (y ≈ e^{c} e^{s t})

    over the samples with low <= y_j <= high and ``where`` true; s > 0 for growth, s < 0
    for decay (the contraction rate is -s). The fit is ``numpy.polyfit`` of degree 1.

    Parameters
    ----------
    t : array_like, shape (n_t,)
        Sample times.
    y : array_like, shape (..., n_t)
        Values, positive on the fitted samples; each row along the last axis is one curve.
    low, high : float, > 0, optional
        Fit only the samples with y inside [low, high] (default: no bound).
    where : array_like of bool, shape (n_t,) or y.shape, optional
        Fit only the samples where this is true (default: all).
    min_points : int, >= 2
        Fewer selected samples than this give NaN (the window was not reached).
    return_intercept : bool
        Also return c = log of the prefactor.

    Returns
    -------
    float, or ndarray of shape y.shape[:-1]
        The rate s; with ``return_intercept``, the pair (s, c).
    """
    t, y = _check_curve(t, y)
    min_points = check_int(min_points, "min_points", low=2)
    keep = np.ones(y.shape, dtype=bool)
    if where is not None:
        mask = np.asarray(where)
        if mask.dtype != bool:
            raise TypeError(f"where must be a boolean array, got dtype {mask.dtype}")
        if mask.shape not in ((t.size,), y.shape):
            raise ValueError(f"where must have shape ({t.size},) or {y.shape}, got {mask.shape}")
        keep = keep & mask
    if low is not None:
        keep = keep & (y >= check_real(low, "low", low=0.0, low_open=True))
    if high is not None:
        keep = keep & (y <= check_real(high, "high", low=0.0, low_open=True))
    rows, masks = y.reshape(-1, t.size), keep.reshape(-1, t.size)
    coef = np.full((rows.shape[0], 2), np.nan)
    for r, (row, m) in enumerate(zip(rows, masks)):
        if m.sum() < min_points:
            continue
        if np.any(row[m] <= 0):
            raise ValueError("y must be positive on the fitted samples (log y is fitted)")
        coef[r] = np.polyfit(t[m], np.log(row[m]), 1)
    shape = y.shape[:-1]
    rate, icpt = (float(c[0]) for c in coef.T) if y.ndim == 1 else (c.reshape(shape) for c in coef.T)
    return (rate, icpt) if return_intercept else rate
