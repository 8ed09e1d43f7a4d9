"""mtlib: tokens as particles on the sphere, the mean-field transformer dynamics.

The library behind the book. Chapters write ``import mtlib as mt`` and call the public
names re-exported here; each lives in the module of its mathematical object:

- :mod:`mtlib.dynamics`     initial conditions, velocity fields, energy, ``simulate``
- :mod:`mtlib.spectral`     Gegenbauer coefficients, growth rates, k_max, harmonic power
- :mod:`mtlib.pde`          the mean-field PDE on the circle (spectral and Lagrangian)
- :mod:`mtlib.wasserstein`  optimal-transport distances on the circle and the sphere
- :mod:`mtlib.reductions`   the equiangular reduction, normalisation schemes, long context
- :mod:`mtlib.clusters`     the clusters of an empirical measure: count, centres, masses
- :mod:`mtlib.sweeps`       parameter x seed sweeps with an on-disk cache, local or dask
- :mod:`mtlib.plotting`     the house style and figure helpers
"""

# Each block below re-exports the public names of its modules explicitly.
# --- block A: initial conditions, fields, simulate, pde
from .dynamics import *  # noqa: F401,F403
from .pde import *  # noqa: F401,F403
# --- end block A
# --- block B: wasserstein, reductions, stability
from .wasserstein import *  # noqa: F401,F403
from .reductions import *  # noqa: F401,F403
# --- end block B
# --- block C: spectral, linear-phase statistics, measures of an empirical measure
from .spectral import *  # noqa: F401,F403
from .clusters import *  # noqa: F401,F403
# --- end block C
# --- block D: sweeps, plotting (widgets is imported on demand: mtlib.widgets)
from .sweeps import *  # noqa: F401,F403
from .plotting import *  # noqa: F401,F403
# --- end block D
from . import dynamics, spectral, pde, wasserstein, reductions, clusters, sweeps, plotting  # noqa: F401

__version__ = "0.1.0"
