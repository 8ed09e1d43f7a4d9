"""The normalisation schemes of the token flow, shared by the reductions modules (private)."""

from .._validate import check_choice

NORMALIZATIONS = ("post", "pre", "peri", "ngpt", "sqrt")
ALIASES = {
    "post-ln": "post",
    "postln": "post",
    "pre-ln": "pre",
    "preln": "pre",
    "peri-ln": "peri",
    "periln": "peri",
    "sqrt-scaling": "sqrt",
    "sqrt_scaling": "sqrt",
}


def check_normalization(normalization):
    """The scheme name, one of NORMALIZATIONS (aliases such as "Pre-LN" accepted)."""
    if isinstance(normalization, str):
        normalization = ALIASES.get(normalization.lower(), normalization)
    return check_choice(normalization, "normalization", NORMALIZATIONS)
