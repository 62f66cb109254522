"""Front doors of fastgrad.numpy's hot functions (twin of csrc/dispatch.pyx).

The compiled factories return a function that calls the engine's op itself in the common case
(a traced value, no options) and the face's full Python function otherwise. Here the full
function is returned as it is: it handles every case, and it is the reference the compiled
front doors are tested against (tests/test_dispatch.py).
"""


def unary(op, fallback):
    """f(x, out=None, **kwargs): op(x) for a traced x and no options."""
    return fallback


def binary(op, fallback):
    """f(a, b, out=None, **kwargs): op(a, b) when either is traced and no options are given."""
    return fallback


def summing(op, fallback):
    """numpy.sum's signature: op(a, axis, keepdims) for a traced a and no other option."""
    return fallback


def averaging(op, fallback):
    """numpy.mean's signature: op(a, axis, keepdims) for a traced a and no other option."""
    return fallback


def extreme(op, fallback):
    """numpy.max's (and min's) signature: op(a, axis, keepdims) for a traced a and no other
    option."""
    return fallback


def product(op, fallback):
    """numpy.dot's signature: op(a, b) when either is traced, both are arrays of at most two
    dimensions and out is not given."""
    return fallback
