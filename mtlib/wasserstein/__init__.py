"""Optimal-transport distances on the circle and the sphere.

- :mod:`mtlib.wasserstein.circle`  W_p between samples, densities on a grid and the
  uniform law on the circle; the distance to k equally spaced Diracs
- :mod:`mtlib.wasserstein.solutions`  both of these along a circle PDE solution
- :mod:`mtlib.wasserstein.sphere`  exact and sliced W_p on S^{d-1}; W2 to one Dirac

Two measures are ``u`` and ``v`` with weights ``u_weights`` and ``v_weights``; every
function returns W_p itself (not W_p^p), for the geodesic cost.
"""

from .circle import (
    distance_to_equispaced,
    wasserstein_circle,
    wasserstein_circle_densities,
    wasserstein_circle_density,
    wasserstein_circle_uniform,
)
from .solutions import solution_distances, wasserstein_to_solution
from .sphere import distance_to_dirac, sliced_wasserstein_sphere, wasserstein_sphere

__all__ = [
    "wasserstein_circle",
    "wasserstein_circle_density",
    "wasserstein_circle_densities",
    "wasserstein_circle_uniform",
    "distance_to_equispaced",
    "solution_distances",
    "wasserstein_to_solution",
    "wasserstein_sphere",
    "sliced_wasserstein_sphere",
    "distance_to_dirac",
]
