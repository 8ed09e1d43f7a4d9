"""Private: the optional AVX-512 code generation of the numba kernels (MTLIB_AVX512=1).

LLVM tunes the Intel server cores (skylake-avx512 and later) with ``prefer-256-bit``: the
kernels then use 256-bit vectors although the CPU has 512-bit ones. With the environment
variable MTLIB_AVX512=1 set before mtlib is imported, the host's CPU features are given to
numba with ``-prefer-256-bit`` (numba's NUMBA_CPU_FEATURES), so that LLVM may emit zmm
instructions. Off by default. The numba on-disk cache keys its entries on the CPU name and
features (``magic_tuple``), so code compiled with one setting is never loaded with the
other: a switch recompiles once and both versions then stay cached.

It has no effect (and warns) when numba has already set up its CPU target (something was
compiled before mtlib was imported), when NUMBA_CPU_FEATURES is set by the user (that wins),
or on a CPU without AVX-512F.
"""

import os
import warnings

import llvmlite.binding as ll
from numba.core import config
from numba.core.registry import cpu_target

ENV_SWITCH = "MTLIB_AVX512"


def avx512_features(host_features):
    """The feature string host_features (LLVM's "+a,-b,..." form) with ``-prefer-256-bit``,
    or None if it lacks ``+avx512f``."""
    features = [f for f in host_features.split(",") if f and f.lstrip("+-") != "prefer-256-bit"]
    if "+avx512f" not in features:
        return None
    return ",".join(features + ["-prefer-256-bit"])


def apply_switch(environ=os.environ):
    """Set numba's CPU features for 512-bit vectors if environ[ENV_SWITCH] == "1"; True if set."""
    if environ.get(ENV_SWITCH, "0") != "1":
        return False
    if config.CPU_FEATURES is not None:
        return False  # the user's NUMBA_CPU_FEATURES wins
    if "_toplevel_target_context" in cpu_target.__dict__:
        warnings.warn(f"{ENV_SWITCH}=1 ignored: numba compiled code before mtlib was imported", stacklevel=2)
        return False
    features = avx512_features(ll.get_host_cpu_features().flatten())
    if features is None:
        warnings.warn(f"{ENV_SWITCH}=1 ignored: this CPU has no AVX-512F", stacklevel=2)
        return False
    environ["NUMBA_CPU_FEATURES"] = features
    config.reload_config()
    return config.CPU_FEATURES == features


AVX512 = apply_switch()
