"""Constants shared by the modules of mtlib (one home for each)."""

import math

TWO_PI = 2.0 * math.pi
# e^{|β|} overflows float64 just above |β| = 709.78: the unnormalised (USA) field, its
# energy and every quantity that carries the factor e^{β} are refused beyond this |β|.
USA_MAX_BETA = 700.0
# The default model everywhere in mtlib: USA, the model of Bruno–Pasqualotto–Agazzi's
# theorems (its dynamics is the gradient ascent of the interaction energy, whose
# linearisation gives γ_k and k_max).
DEFAULT_MODEL = "usa"
# The most tokens the closed-form reductions take: n enters their formulas as a float64.
MAX_TOKENS = 10**300
