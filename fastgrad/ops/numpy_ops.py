"""Table entries for numpy functions that need a primitive of their own (the rest of
fastgrad.numpy's functions are composites, in fastgrad/numpy/_functions.py)."""
import numpy as np

from . import python
from .python import binary
from .table import python_function


def _floor_quotient(a, b):
    """floor(a / b) as a constant (remainder's slope in b; piecewise constant)."""
    return -np.floor(a.data / b.data)


_remainder = binary("remainder", np.remainder, lambda y, a, b: 1.0,
                    lambda y, a, b: _floor_quotient(a, b),
                    doc="y = a - b floor(a / b)")

for _op in (_remainder,):
    python.FUNCTIONS_BY_NAME[_op.function] = python_function(_op)
