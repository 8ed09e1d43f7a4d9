"""Exact reductions of the token dynamics, by topic.

- :mod:`mtlib.reductions.equiangular`    the equiangular ODE for ρ = <θ_i, θ_j>, clustering time
- :mod:`mtlib.reductions.normalization`  the particle flow under each normalisation scheme
- :mod:`mtlib.reductions.gram`           the Gram-matrix flow G' = M + Mᵀ, batched over β
- :mod:`mtlib.reductions.long_context`   one SA layer at β = γ log n, the critical γ

Tokens x_i = r_i θ_i, |θ_i| = 1, attend through

    A_i = Σ_j softmax_j(β<θ_i,θ_j>) θ_j          (SA)
    A_i = (1/n) Σ_j e^{β<θ_i,θ_j>} θ_j            (USA),

and each normalisation scheme moves the directions by θ_i' = (1/s_i) P_{θ_i} A_i
(P_θ y = y - <θ,y> θ) and possibly the norms r_i:

=========  ============================  ==========================
scheme     s_i                           r_i'
=========  ============================  ==========================
"post"     1 (the plain SA/USA flow)     0
"pre"      r_i                           <θ_i, A_i>
"peri"     r_i |A_i|                     <θ_i, A_i> / |A_i|
"ngpt"     |A_i| / α                     0
"sqrt"     sqrt(t + 1)                   0
=========  ============================  ==========================

(Pre-LN is x_i' = A_i(θ), Peri-LN x_i' = A_i/|A_i|.)

References: P. Rigollet, "The mean-field dynamics of transformers" (2025), arXiv:2512.01868;
Geshkovski, Letrouit, Polyanskiy, Rigollet, "A mathematical perspective on transformers",
Bull. AMS 62 (2025).
"""

from ._schemes import NORMALIZATIONS
from .equiangular import EquiangularResult, clustering_time, equiangular_rhs, solve_equiangular
from .gram import GramResult, clustered_pair_fraction, simulate_gram
from .long_context import critical_gamma, long_context_correlation
from .normalization import NormalizedResult, simulate_normalized

__all__ = [
    "NORMALIZATIONS",
    "equiangular_rhs",
    "solve_equiangular",
    "clustering_time",
    "EquiangularResult",
    "simulate_normalized",
    "NormalizedResult",
    "simulate_gram",
    "GramResult",
    "clustered_pair_fraction",
    "long_context_correlation",
    "critical_gamma",
]
