"""mtlib: tokens as particles on the sphere, the mean-field transformer dynamics.

The library behind the book. Chapters write ``import mtlib as mt`` and call the public
names re-exported here; each lives in the module of its mathematical object:

- :mod:`mtlib.initial`      initial conditions: uniform, caps, equiangular, quantile tokens
- :mod:`mtlib.fields`       the SA/USA velocity fields, the attention output, the energy
- :mod:`mtlib.dynamics`     ``simulate`` (RK4 or Dormand–Prince, events located in time)
- :mod:`mtlib.merging`      weighted clusters followed through their mergers
- :mod:`mtlib.spectral`     Gegenbauer coefficients, growth rates γ_k, k_max
- :mod:`mtlib.harmonics`    harmonic dimension, Fourier coefficients, harmonic power
- :mod:`mtlib.linear`       the linear phase: leading mode, exit times, P(k_max leads)
- :mod:`mtlib.pde`          the mean-field PDE on the circle (spectral and Lagrangian)
- :mod:`mtlib.grenier`      Grenier's expansion of the PDE solution in powers of ε
- :mod:`mtlib.measures`     measures of a configuration: clusters, merging, order parameter,
  circular differences, first crossings, rate fits
- :mod:`mtlib.wasserstein`  optimal-transport distances on the circle and the sphere
- :mod:`mtlib.stability`    the Dobrushin constant; speed, energy and resolution monitors
  along a PDE solution
- :mod:`mtlib.reductions`   the equiangular reduction, normalisation schemes, long context
- :mod:`mtlib.sweeps`       parameter x seed sweeps with an on-disk cache, local or dask
- :mod:`mtlib.statistics`   frequencies over seeds with exact (Clopper–Pearson) intervals
- :mod:`mtlib.stationary`   stationary states of the noisy (Fokker–Planck) dynamics on the circle,
  their branches in the noise D, stability and free energy
- :mod:`mtlib.rotated_interaction`  the circle with rotated attention A = R_φ: complex mode
  rates λ_k(β, φ), k_max(β, φ), the pattern's angular velocity
- :mod:`mtlib.periodic_manifold`  generic noise on the manifold of 2π/k-periodic states, end
  states classified, trials of the paper's Assumption 3
- :mod:`mtlib.plotting`     the house style and figure helpers
- :mod:`mtlib.widgets`      slider presets and ``explore(compute, plot, **sliders)``

``import mtlib`` loads neither matplotlib.pyplot, pandas nor ipywidgets: the modules that
need them import them when called. The vocabulary shared by every module is written down
in CONTRIBUTING.md.
"""

# Each block below re-exports the public names of its modules explicitly.
# --- block A: initial conditions, fields, simulate, pde
from .initial import (  # noqa: F401
    angles_to_points,
    caps_circle,
    caps_sphere,
    equiangular_frame,
    perturbed_uniform_circle,
    quantile_tokens,
    uniform_circle,
    uniform_sphere,
)
from .fields import attention, energy, energy_circle, fourier_cutoff, velocity, velocity_circle  # noqa: F401
from .dynamics import SimulationResult, simulate  # noqa: F401
from .pde import (  # noqa: F401
    CirclePDESolution,
    UnderResolvedError,
    linearized_solution,
    manifold_density,
    pde_grid,
    solve_circle_pde,
    white_noise_density,
)
from .grenier import GrenierExpansion, grenier_expansion  # noqa: F401
from .merging import MergerResult, closest_pair_event, simulate_mergers  # noqa: F401
# --- end block A
# --- block B: wasserstein, reductions, stability
from .wasserstein import (  # noqa: F401
    distance_to_dirac,
    distance_to_equispaced,
    sliced_wasserstein_sphere,
    solution_distances,
    wasserstein_circle,
    wasserstein_circle_densities,
    wasserstein_circle_density,
    wasserstein_circle_uniform,
    wasserstein_sphere,
    wasserstein_to_solution,
)
from .reductions import (  # noqa: F401
    NORMALIZATIONS,
    EquiangularResult,
    GramResult,
    NormalizedResult,
    clustered_pair_fraction,
    clustering_time,
    critical_gamma,
    equiangular_rhs,
    long_context_correlation,
    simulate_gram,
    simulate_normalized,
    solve_equiangular,
)
from .stability import (  # noqa: F401
    ResolutionMonitors,
    dobrushin_constant,
    energy_and_dissipation,
    max_speed,
    resolution_monitors,
)
# --- end block B
# --- block C: spectral, linear-phase statistics, measures of an empirical measure
from .spectral import growth_rate, log_growth_rate, growth_rate_quadrature, funk_hecke_eigenvalue, kmax, kmax_switch_points, gegenbauer_coefficients, growth_rate_continuous, relative_rate_gap  # noqa: F401
from .harmonics import harmonic_dimension, fourier_coefficients, density_fourier_coefficients, density_from_fourier_coefficients, random_fourier_coefficients, predicted_cluster_positions, harmonic_power, harmonic_components  # noqa: F401
from .linear import linear_phase_time, leading_mode, linear_exit_time, linear_density, linear_cluster_positions, linear_perturbation, probability_kmax_leads, exit_mode_probabilities, predicted_exit_time, LinearPhaseExit, linear_phase_exit_time  # noqa: F401
from .measures import Clusters, find_clusters, merge_coincident, histogram_peaks, density_peaks, match_error, circular_difference, circle_spacings, closest_pair, order_parameter, first_crossing, fit_rate  # noqa: F401
# --- end block C
# --- block D: sweeps, plotting, widgets (mt.widgets.*: its presets are not re-exported here)
from .sweeps import sweep, SweepError, SweepFailure, DASK_SCHEDULER_ENV  # noqa: F401
from .plotting import (  # noqa: F401
    use_house_style, plot_circle_trajectories, plot_tokens_on_circle, plot_circle_histogram,
    plot_angle_histogram, plot_mode_bars, plot_mode_amplitudes, sphere_grid, plot_tokens_on_sphere,
    plot_trajectories_and_histogram, plot_growth_rates, plot_kmax_steps,
)
from .plotting import plot_density_snapshots  # noqa: F401
from .statistics import binomial_interval, frequency  # noqa: F401
# --- end block D
# --- block S2 (issue 18: harmonic field)
# --- end block S2 (issue 18: harmonic field)
# --- block BATCH (issue 18: simulate_batch)
from .dynamics import BatchSimulationResult, simulate_batch  # noqa: F401
# --- end block BATCH (issue 18: simulate_batch)
# --- block NOISE (issue 16)
from .spectral import critical_diffusion  # noqa: F401
from .stationary import (  # noqa: F401
    StationaryBranch, bifurcation_type, circle_free_energy, landau_coefficient, stationary_branch,
    stationary_spectrum, stationary_states, tricritical_beta,
)
# --- end block NOISE (issue 16)
# --- block R (issue 17: rotated interaction on the circle, linear theory)
from .rotated_interaction import kmax_rotated, mode_rate_circle, pattern_angular_velocity  # noqa: F401
# --- end block R
# --- block S (issue 17: Assumption 3 under stress, generic noise on M_k)
from .periodic_manifold import (  # noqa: F401
    EndState, classify_end_state, gap_instability_rate, manifold_noise_density, manifold_noise_tokens,
    manifold_trials, simulate_on_manifold,
)
# --- end block S
from . import initial, fields, dynamics, spectral, harmonics, linear, measures, pde, grenier  # noqa: F401
from . import wasserstein, reductions, stability, sweeps, plotting, widgets, merging  # noqa: F401
from . import statistics, stationary, rotated_interaction, periodic_manifold  # noqa: F401

__version__ = "0.1.0"
