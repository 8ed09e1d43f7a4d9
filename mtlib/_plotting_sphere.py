"""Figure helpers on the sphere S²: a longitude-latitude grid and tokens on a map projection.

Private to mtlib; re-exported by :mod:`mtlib.plotting` (and ``mt.plot_*``).
"""

import numpy as np

from ._plotting_base import SHADE_COLOR, _axes
from ._validate import check_array


def sphere_grid(n_lon=91, n_lat=46):
    """A longitude × latitude grid on S² ⊂ R³, to evaluate a function for a Mollweide map.

    Longitudes λ are ``n_lon`` equispaced values in [-π, π], latitudes φ ``n_lat`` in
    [-π/2, π/2]; the point of (λ, φ) is (cos φ cos λ, cos φ sin λ, sin φ).

    Returns
    -------
    lon, lat : arrays of shape (n_lat, n_lon)
        The grid (``np.meshgrid(λ, φ)``).
    points : array of shape (n_lat · n_lon, 3)
        The unit vectors, row-major in (lat, lon): ``f(points).reshape(lon.shape)`` gives
        values for :func:`plot_tokens_on_sphere`'s ``shade``.
    """
    for name, n in (("n_lon", n_lon), ("n_lat", n_lat)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 2:
            raise ValueError(f"{name} must be an integer >= 2, got {n!r}")
    lon, lat = np.meshgrid(np.linspace(-np.pi, np.pi, n_lon), np.linspace(-np.pi / 2, np.pi / 2, n_lat))
    points = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1).reshape(-1, 3)
    return lon, lat, points


def plot_tokens_on_sphere(X, ax=None, shade=None, color="C0", size=2, alpha=0.35, label=None):
    """Draw tokens on S² as points of a Mollweide map (longitude atan2(y, x), latitude asin z).

    Parameters
    ----------
    X : array of shape (n, 3)
        Unit vectors.
    ax : Mollweide axes, optional
        ``fig.add_subplot(..., projection="mollweide")``; a new one if None.
    shade : array of shape (n_lat, n_lon), optional
        Values of a function on :func:`sphere_grid` ``(n_lon, n_lat)``; where they are
        > 0 the map is shaded light grey under the tokens (e.g. where a predicted
        perturbation is positive).
    color, size, alpha, label
        Of the token markers.

    Returns
    -------
    matplotlib.axes.Axes
    """
    X = check_array(X, "X")
    if X.ndim != 2 or X.shape[1] != 3:
        raise ValueError(f"X must have shape (n, 3) (points on S²), got {X.shape}")
    if shade is not None:
        shade = check_array(shade, "shade")
        if shade.ndim != 2 or min(shade.shape) < 2:
            raise ValueError(f"shade must have shape (n_lat, n_lon), values on sphere_grid(n_lon, n_lat), got {shade.shape}")
    ax = _axes(ax, projection="mollweide")
    if ax.name != "mollweide":
        raise ValueError(f"ax must be a Mollweide axes (add_subplot(..., projection='mollweide')), got projection {ax.name!r}")
    if shade is not None:
        lon, lat, _ = sphere_grid(shade.shape[1], shade.shape[0])
        ax.contourf(lon, lat, shade, levels=[0.0, np.inf], colors=[SHADE_COLOR])
    longitude = np.arctan2(X[:, 1], X[:, 0])
    latitude = np.arcsin(np.clip(X[:, 2], -1.0, 1.0))
    ax.scatter(longitude, latitude, s=size, alpha=alpha, color=color, linewidths=0, label=label)
    ax.set_xticklabels([])
    ax.set_yticklabels([])
    return ax
