"""Front doors of fastgrad.numpy's hot functions (twin: fastgrad/_py/dispatch.py).

Each factory takes the engine's op and the face's full Python function (``fallback``, which
handles every case: traced lists, numpy's options, plain arrays) and returns a function with
numpy's signature that calls the op itself in the common case (a traced value and no options)
and ``fallback`` otherwise, with the same arguments. The common case then costs no Python frame:
a tiny graph (autograd's 3-3-2 MLP) spends a third of its time in the face's dispatch.
"""
cimport numpy as cnp

import numpy as np

from fastgrad._cy.node cimport Node

cnp.import_array()

cdef object NoValue = np._NoValue


def unary(op, fallback):
    """f(x, out=None, **kwargs): op(x) for a traced x and no options."""
    def f(x, out=None, **kwargs):
        if out is None and not kwargs and isinstance(x, Node):
            return op(x)
        if out is None:
            return fallback(x, **kwargs)
        return fallback(x, out, **kwargs)
    return f


def binary(op, fallback):
    """f(a, b, out=None, **kwargs): op(a, b) when either is traced and no options are given."""
    def f(a, b, out=None, **kwargs):
        if out is None and not kwargs and (isinstance(a, Node) or isinstance(b, Node)):
            return op(a, b)
        if out is None:
            return fallback(a, b, **kwargs)
        return fallback(a, b, out, **kwargs)
    return f


def summing(op, fallback):
    """numpy.sum's signature: op(a, axis, keepdims) for a traced a and no other option."""
    def f(a, axis=None, dtype=None, out=None, keepdims=NoValue, initial=NoValue,
          where=NoValue):
        if (dtype is None and out is None and initial is NoValue and where is NoValue
                and isinstance(a, Node)):
            return op(a, axis, keepdims is not NoValue and bool(keepdims))
        return fallback(a, axis, dtype, out, keepdims, initial, where)
    return f


def averaging(op, fallback):
    """numpy.mean's signature: op(a, axis, keepdims) for a traced a and no other option."""
    def f(a, axis=None, dtype=None, out=None, keepdims=NoValue, *, where=NoValue):
        if dtype is None and out is None and where is NoValue and isinstance(a, Node):
            return op(a, axis, keepdims is not NoValue and bool(keepdims))
        return fallback(a, axis, dtype, out, keepdims, where=where)
    return f


def extreme(op, fallback):
    """numpy.max's (and min's) signature: op(a, axis, keepdims) for a traced a and no other
    option."""
    def f(a, axis=None, out=None, keepdims=NoValue, initial=NoValue, where=NoValue):
        if out is None and initial is NoValue and where is NoValue and isinstance(a, Node):
            return op(a, axis, keepdims is not NoValue and bool(keepdims))
        return fallback(a, axis, out, keepdims, initial, where)
    return f


cdef inline int operand_ndim(object x) noexcept:
    """The number of dimensions of a traced value or an ndarray; -1 for anything else."""
    if isinstance(x, Node):
        x = (<Node>x).data
        if not cnp.PyArray_Check(x):
            return -1
    elif not cnp.PyArray_CheckExact(x):
        return -1
    return cnp.PyArray_NDIM(<cnp.ndarray>x)


def product(op, fallback):
    """numpy.dot's signature: op(a, b) when either is traced, both are arrays of at most two
    dimensions and out is not given."""
    def f(a, b, out=None):
        if out is None and (isinstance(a, Node) or isinstance(b, Node)):
            if 0 <= operand_ndim(a) <= 2 and 0 <= operand_ndim(b) <= 2:
                return op(a, b)
        return fallback(a, b, out)
    return f
