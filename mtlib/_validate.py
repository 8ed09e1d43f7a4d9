"""Argument checks shared by the public functions of mtlib.

Every public function validates its inputs once, at the boundary, with these helpers,
and then hands plain float64 arrays to the private kernels. Each check raises a
``TypeError`` (wrong kind of object) or ``ValueError`` (right kind, wrong value) whose
message names the argument and the allowed range. Booleans are not numbers: ``True``
and boolean arrays raise ``TypeError``. Arrays of any real dtype are accepted and computed
in float64; the tolerances of the unit-norm and sum-to-1 checks widen for floating input
less precise than float64 (float32 tokens from PyTorch), see :func:`input_tolerance`.
"""

import numbers
import os

import numpy as np

from ._constants import TWO_PI, USA_MAX_BETA

MODELS = ("usa", "sa")
UNIT_NORM_TOL = 1e-8
WEIGHT_SUM_TOL = 1e-10
# Low-precision input: tolerance = max(tol, PRECISION_FACTOR * sqrt(size) * eps(dtype)).
PRECISION_FACTOR = 8.0
# np.mod(θ, 2π) divides by the float 2π, 2.4e-16 short of 2π: off by |θ|·3.9e-17 radians.
# Beyond this |θ| (4e-14 rad) angles are reduced exactly instead (reduce_large_angles).
ANGLE_LIMIT = 1e3


def check_real(value, name, *, low=None, high=None, low_open=False, high_open=False):
    """Return ``value`` as a finite Python float, optionally inside [low, high]."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if low is not None and (value < low or (low_open and value == low)):
        bound = ">" if low_open else ">="
        raise ValueError(f"{name} must be {bound} {low}, got {value}")
    if high is not None and (value > high or (high_open and value == high)):
        bound = "<" if high_open else "<="
        raise ValueError(f"{name} must be {bound} {high}, got {value}")
    return value


def check_int(value, name, *, low=None, high=None):
    """Return ``value`` as a Python int, optionally inside [low, high]."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    value = int(value)
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}")
    if high is not None and value > high:
        raise ValueError(f"{name} must be <= {high}, got {value}")
    return value


def check_choice(value, name, choices):
    """Return ``value`` if it is one of ``choices`` (strings are compared lower-cased)."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, one of {list(choices)}, got {type(value).__name__}")
    lowered = value.lower()
    if lowered not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return lowered


def check_model(model):
    """Return the model name, ``"usa"`` or ``"sa"``."""
    return check_choice(model, "model", MODELS)


def check_usa_beta(beta, model):
    """Refuse |β| > USA_MAX_BETA for the USA model, where e^{β} overflows float64."""
    if model == "usa" and abs(beta) > USA_MAX_BETA:
        raise ValueError(
            f"beta = {beta}: the USA field carries e^(beta), which overflows float64 beyond "
            f"|beta| = {USA_MAX_BETA:g}; use model='sa'"
        )


def check_array(value, name, *, ndim=None, shape=None, min_size=1):
    """Return ``value`` as a C-contiguous finite float64 array with the given ndim/shape.

    Any real numeric dtype is accepted (and converted); booleans (not numbers), objects,
    strings and complex values raise ``TypeError``.
    """
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - exotic objects
        raise TypeError(f"{name} must be array-like: {exc}") from exc
    if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real, got complex dtype {arr.dtype}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(str(a) for a in allowed)
            raise ValueError(f"{name} must have {want} dimension(s), got shape {arr.shape}")
    if shape is not None:
        for axis, (got, want) in enumerate(zip(arr.shape, shape)):
            if want is not None and got != want:
                raise ValueError(f"{name} must have shape {shape} (None = any), got {arr.shape} (axis {axis})")
    if arr.size < min_size:
        raise ValueError(f"{name} must hold at least {min_size} value(s), got shape {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values (found NaN or inf)")
    return arr


def check_angles(theta, name="theta"):
    """Return angles on the circle as a 1-D float64 array of length >= 1."""
    return check_array(theta, name, ndim=1)


def reduce_large_angles(theta):
    """Angles with every |θ| > ANGLE_LIMIT replaced by θ mod 2π in [0, 2π), reduced exactly.

    .. math:: θ \\mapsto \\operatorname{atan2}(\\sin θ, \\cos θ) \\bmod 2π \\quad (|θ| > 10^3)

    ``np.mod(θ, 2π)`` divides by the float 2π, which is 2.4e-16 short of 2π: the remainder
    is off by |θ|·3.9e-17 radians, several radians at θ = 1e17. ``np.sin``/``np.cos``
    reduce with the exact π, so the angle of the point (cos θ, sin θ)
    (:func:`mtlib.angles_to_points`) is the exact remainder; it replaces the large
    angles, and the others (remainder exact to 4e-14) are returned bit for bit, so every
    later ``np.mod`` agrees with ``angles_to_points``. Any shape; a float64 array.
    """
    theta = np.asarray(theta, dtype=np.float64)
    if theta.size == 0 or (theta.max() <= ANGLE_LIMIT and theta.min() >= -ANGLE_LIMIT):
        return theta
    large = np.abs(theta) > ANGLE_LIMIT
    out = theta.copy()
    out[large] = np.mod(np.arctan2(np.sin(theta[large]), np.cos(theta[large])), TWO_PI)
    out[large & (out >= TWO_PI)] = 0.0
    return out


def wrap_angles(theta):
    """Angles as float64 in [0, 2π): :func:`reduce_large_angles`, then ``np.mod(θ, 2π)``."""
    return np.mod(reduce_large_angles(theta), TWO_PI)


def input_tolerance(value, tol, size):
    """The tolerance of a check on ``value``: ``tol``, widened for low-precision floats.

    .. math:: \\mathrm{tol}' = \\max(\\mathrm{tol},\\ 8 \\sqrt{\\mathrm{size}}\\,
              \\varepsilon_{\\mathrm{dtype}})

    for a floating dtype less precise than float64 (float32: ε = 1.2e-7, float16), whose
    rounding alone exceeds the float64 tolerances (a float32 row normalised in float32 is
    unit only to about sqrt(d)·ε); ``tol`` itself for float64 and every other dtype.
    ``size`` is the number of values the checked quantity sums (d for a row norm, n for
    weights).
    """
    if not low_precision(value):
        return tol
    return max(tol, PRECISION_FACTOR * float(np.sqrt(size)) * float(np.finfo(np.asarray(value).dtype).eps))


def low_precision(value):
    """True for an array of a floating dtype less precise than float64 (float32, float16)."""
    dtype = np.asarray(value).dtype
    return bool(np.issubdtype(dtype, np.floating) and np.finfo(dtype).eps > np.finfo(np.float64).eps)


def check_unit_rows(X, name="X", *, tol=UNIT_NORM_TOL):
    """Return an (n, d) float64 array of unit rows, n >= 1, d >= 2.

    Rows must have unit norm within ``tol`` (1e-8), or within 8·sqrt(d)·ε of a less
    precise floating dtype (:func:`input_tolerance`; float32: about 1e-6 for d = 3);
    such input is converted to float64 and renormalised, so the rows returned are unit to
    float64 rounding. Float64 input is returned as it is (not copied when contiguous).
    """
    raw = X  # its dtype sets the tolerance
    X = check_array(X, name, ndim=2)
    n, d = X.shape
    if d < 2:
        raise ValueError(f"{name} must have d >= 2 columns (points on S^(d-1)), got shape {X.shape}")
    norms = np.sqrt(np.einsum("ij,ij->i", X, X))
    err = np.max(np.abs(norms - 1.0))
    tol = input_tolerance(raw, tol, d)
    if err > tol:
        raise ValueError(
            f"rows of {name} must have unit norm (largest deviation {err:.3g} > {tol:g}); "
            f"normalise first, e.g. {name} / np.linalg.norm({name}, axis=1, keepdims=True)"
        )
    if low_precision(raw):
        X = X / norms[:, None]
    return X


def check_weights(weights, n, name="weights"):
    """Return probability weights of length n (None means uniform 1/n).

    Weights must be non-negative and sum to 1 within 1e-10 (within 8·sqrt(n)·ε for a
    floating dtype less precise than float64, see :func:`input_tolerance`); they are then
    converted to float64 and renormalised exactly.
    """
    if weights is None:
        return np.full(n, 1.0 / n)
    w = check_array(weights, name, ndim=1, shape=(n,))
    if np.any(w < 0):
        raise ValueError(f"{name} must be non-negative")
    total = w.sum()
    tol = input_tolerance(weights, WEIGHT_SUM_TOL, n)
    if abs(total - 1.0) > tol:
        raise ValueError(f"{name} must sum to 1 (got {total:.12g}, tolerance {tol:g}); divide by their sum first")
    return w / total


def check_times(t_eval, name="t_eval"):
    """Return output times as a 1-D float64 array: finite, >= 0, strictly increasing."""
    t = check_array(np.atleast_1d(t_eval), name, ndim=1)
    if np.any(t < 0):
        raise ValueError(f"{name} must be >= 0, got min {t.min()}")
    if np.any(np.diff(t) <= 0):
        raise ValueError(f"{name} must be strictly increasing")
    return t


def check_rng(rng, name="rng"):
    """Return a ``numpy.random.Generator`` from a Generator, an integer seed or None.

    ``None`` gives a fresh, unseeded generator; pass a seed for reproducible results.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, numbers.Integral) and not isinstance(rng, bool)):
        if rng is not None and rng < 0:
            raise ValueError(f"{name} as a seed must be >= 0, got {rng}")
        return np.random.default_rng(rng)
    raise TypeError(f"{name} must be a numpy Generator, an integer seed or None, got {type(rng).__name__}")


def check_degrees(k, name="k"):
    """Return non-negative integer degrees as an int64 array (any shape) and a scalar flag.

    Integer-valued floats are accepted (``3.0``); other floats and bools raise TypeError.
    """
    arr = np.asarray(k)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise TypeError(f"{name} must be an integer or an array of integers, got {arr.dtype}")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0, got min {arr.min()}")
    return arr.astype(np.int64), arr.ndim == 0


def check_positive_weights(weights, n, name="weights"):
    """Return ``weights`` as a float64 array of n positive masses (default 1/n each)."""
    if weights is None:
        return np.full(n, 1.0 / n)
    w = check_array(weights, name, ndim=1, shape=(n,))
    if np.any(w <= 0):
        raise ValueError(f"{name} must be positive (cluster masses), got min {w.min():.3g}")
    return w


def physical_memory_bytes():
    """Return this machine's physical memory in bytes (2⁶³ where it cannot be read)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):  # pragma: no cover - non-POSIX
        return 2**63


def check_memory(n_bytes, what):
    """Refuse a call whose arrays would need more than this machine's physical memory.

    ``n_bytes`` is the size of the largest allocations the call would make (a Python int,
    so huge products do not overflow); ``what`` names the arguments that set it, e.g.
    ``"n = 10**9 tokens in d = 3"``. Raises ValueError saying how much memory is needed.
    """
    limit = physical_memory_bytes()
    if n_bytes > limit:
        raise ValueError(
            f"{what} would need {n_bytes / 2**30:.3g} GiB of memory, more than this "
            f"machine's {limit / 2**30:.3g} GiB; choose a smaller size"
        )


# About 10 minutes at 6 ns per operation (one element of a NumPy array expression).
MAX_OPERATIONS = 1e11


def check_work(n_operations, what):
    """Refuse a call that would run for more than MAX_OPERATIONS elementary operations.

    ``n_operations`` estimates the element operations the call performs (a Python int or
    float, so huge products do not overflow); ``what`` names the arguments that set it,
    e.g. ``"k = 10**9 for n = 7 tokens"``. Raises ValueError before any long computation.
    """
    if n_operations > MAX_OPERATIONS:
        raise ValueError(
            f"{what} would take about {float(n_operations):.2g} operations, more than the "
            f"{MAX_OPERATIONS:.0e} (about 10 minutes) allowed; choose smaller sizes"
        )
