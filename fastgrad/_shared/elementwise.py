"""Elementwise ops' messages and reference values, shared by fastgrad._cy.elementwise and its
twin fastgrad._py.elementwise."""
import math

import numpy as np

# Python and numpy scalars: kept as a float in ctx (weakly typed, so float32 stays float32).
SCALAR_TYPES = (int, float, np.integer, np.floating)


def broadcast_error(opname, a, b):
    return ValueError(f"{opname}: shapes {tuple(a.shape)} and {tuple(b.shape)} cannot be "
                      f"broadcast together")


def sigmoid_values(x):
    """1 / (1 + e^-x) without overflow: with e = e^-|x|, 1/(1+e) for x >= 0, e/(1+e) below."""
    e = np.exp(-np.abs(x))
    r = 1 / (1 + e)
    return np.where(x >= 0, r, e * r)


def tie_weights(a, b, g):
    """1 where a wins, 0 where b wins, 0.5 on ties (so ties split the gradient evenly)."""
    return np.where(a == b, g.dtype.type(0.5), (a > b).astype(g.dtype))


def log_base(c):
    """log(c) for the VJP of c^a; 0 when c == 0 (y is 0 there too), NaN below 0."""
    if c > 0:
        return math.log(c)
    return 0.0 if c == 0 else math.nan
