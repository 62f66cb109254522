"""Elementwise exp, log, log1p, tanh and sigmoid on arrays: numpy's (twin of csrc/vmath.pyx,
whose vectorised kernels these are the reference for).

ULP_BOUNDS holds the compiled kernels' largest error, in units in the last place, against the
exact result rounded to the dtype (float64 results for float32; long double for float64), as
measured over sweeps of millions of points per function, dtype and level (0, ±tiny, subnormals, the
overflow and underflow thresholds, ±inf, NaN and their neighbours, dense ranges, all magnitudes).
Against numpy itself add numpy's own error (up to 3 ulp seen, in its float32 SIMD loops).
tests/test_vmath.py fails if a kernel exceeds a bound, or if a bound is looser than measured.
The twin has no dispatch levels: numpy chooses its own.
"""
import numpy as np

from fastgrad._shared.vmath import (  # noqa: F401  (shared with the compiled module)
    LEVELS,
    ULP_BOUNDS,
    level_error,
)

from .elementwise import sigmoid_values


def supported_levels():
    """The dispatch levels this backend runs: none (numpy dispatches by itself)."""
    return ()


def simd_level():
    """The dispatch level in use: 'numpy' (numpy's own)."""
    return "numpy"


def set_simd_level(name):
    """The twin has no levels to choose: always raises ValueError."""
    raise level_error(name, supported_levels())


def exp(x):
    """e^x elementwise."""
    return np.exp(x)


def log(x):
    """log x elementwise (log 0 = -inf, log of a negative number NaN)."""
    return np.log(x)


def log1p(x):
    """log(1 + x) elementwise."""
    return np.log1p(x)


def tanh(x):
    """tanh x elementwise."""
    return np.tanh(x)


def sigmoid(x):
    """1/(1 + e^-x) elementwise, never overflowing."""
    return sigmoid_values(np.asarray(x))
