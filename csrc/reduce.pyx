"""Reductions and normalisations: forward and VJP (twin: fastgrad/_py/reduce.py).

``axes`` is a sorted tuple of non-negative axes, or None for all of them. A sum over all
elements of a small contiguous array runs in a typed loop that adds in numpy's pairwise order
(so its result is numpy's to the bit); everything else is numpy, as in the twin.
"""
cimport numpy as cnp

import numpy as np

from fastgrad._cy.node cimport (PAIRWISE_EXACT_MAX, Node, accumulate, empty_like, lift,
                                make_result, pairwise_sum, real, register_vjp)
from fastgrad._cy.opcodes cimport (OP_LOG_SOFTMAX, OP_LOGSUMEXP, OP_MAX, OP_MEAN, OP_MIN,
                                   OP_SOFTMAX, OP_SUM)

cnp.import_array()

# Largest array whose total sum is taken by the typed loop (numpy's call costs ~1 us); node.pxd
# says why it matches numpy bit for bit only up to here.
cdef Py_ssize_t SUM_LOOP_MAX = PAIRWISE_EXACT_MAX


# ---------------------------------------------------------------- typed loops

cdef real total(const real* a, Py_ssize_t n) noexcept nogil:
    """numpy.add.reduce of a[:n] (numpy 2 sums every element pairwise)"""
    return pairwise_sum(a, n)


cdef real extreme_of(const real* a, Py_ssize_t n, bint is_max) noexcept nogil:
    """max (or min) of a[:n], NaN winning as in numpy.maximum.reduce"""
    cdef real m = a[0]
    for i in range(1, n):
        if (a[i] > m if is_max else a[i] < m) or a[i] != a[i]:
            m = a[i]
    return m


cdef void extreme_bwd(real* o, const real* a, real y, real g, Py_ssize_t n) noexcept nogil:
    """o = g*[a == y]/k with k the number of elements equal to y"""
    cdef real count = 0
    for i in range(n):
        count += a[i] == y
    for i in range(n):
        o[i] = (g * (a[i] == y)) / count


cdef void fill(real* o, real value, Py_ssize_t n) noexcept nogil:
    """o = value"""
    for i in range(n):
        o[i] = value


cdef inline bint simple(cnp.ndarray x) noexcept:
    cdef int t = cnp.PyArray_TYPE(x)
    return (t == cnp.NPY_DOUBLE or t == cnp.NPY_FLOAT) and cnp.PyArray_IS_C_CONTIGUOUS(x)


# ---------------------------------------------------------------- axes and shapes

def normalize_axes(axis, ndim, opname):
    """``axis`` (None, an int or a sequence of ints) as a sorted tuple of axes in [0, ndim)."""
    if axis is None:
        return None
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    axes = []
    for ax in axis:
        if not isinstance(ax, (int, np.integer)):
            raise TypeError(f"{opname}: axis must be an int or a tuple of ints, not {axis!r}")
        if not -ndim <= ax < ndim:
            raise ValueError(f"{opname}: axis {ax} is out of bounds for an array of "
                             f"{ndim} dimension(s)")
        axes.append(int(ax) % ndim)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{opname}: repeated axis in {tuple(axis)}")
    return tuple(sorted(axes))


def normalize_axis(axis, ndim, opname):
    """One axis (an int) in [0, ndim)."""
    if not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{opname}: axis must be an int, not {axis!r}")
    return normalize_axes(axis, ndim, opname)[0]


def kept_shape(shape, axes):
    """``shape`` with the reduced ``axes`` set to 1 (what keepdims=True gives)."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def reduced_shape(shape, axes):
    """``shape`` without the reduced ``axes`` (what keepdims=False gives)."""
    if axes is None:
        return ()
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def reduced_count(shape, axes):
    """How many elements each output of a reduction over ``axes`` gathers."""
    count = 1
    for i, n in enumerate(shape):
        if axes is None or i in axes:
            count *= n
    return count


def empty_error(opname, shape):
    return ValueError(f"{opname}: cannot reduce an empty array of shape {shape} "
                      f"(there is no identity)")


# ---------------------------------------------------------------- forwards

def sum(x, axis=None, keepdims=False):
    cdef Node a = lift(x, "sum")
    cdef cnp.ndarray X = a.data, out
    cdef Py_ssize_t n = cnp.PyArray_SIZE(X)
    if axis is None and not keepdims and 0 < n <= SUM_LOOP_MAX and simple(X):
        out = cnp.PyArray_EMPTY(0, NULL, cnp.PyArray_TYPE(X), 0)
        if cnp.PyArray_TYPE(X) == cnp.NPY_DOUBLE:
            (<double*>cnp.PyArray_DATA(out))[0] = total(<double*>cnp.PyArray_DATA(X), n)
        else:
            (<float*>cnp.PyArray_DATA(out))[0] = total(<float*>cnp.PyArray_DATA(X), n)
        return make_result(out, OP_SUM, (a,), (None, False))
    axes = normalize_axes(axis, cnp.PyArray_NDIM(X), "sum")
    return make_result(np.add.reduce(X, axis=axes, keepdims=keepdims), OP_SUM, (a,),
                       (axes, keepdims))


def mean(x, axis=None, keepdims=False):
    x = lift(x, "mean")
    axes = normalize_axes(axis, x.data.ndim, "mean")
    count = reduced_count(x.data.shape, axes)
    if count == 0:
        raise empty_error("mean", x.data.shape)
    data = np.add.reduce(x.data, axis=axes, keepdims=keepdims) / count
    return make_result(data, OP_MEAN, (x,), (axes, keepdims))


cdef object extreme(x, axis, keepdims, ufunc, int op, str opname):
    cdef Node a
    cdef cnp.ndarray X, out
    cdef Py_ssize_t n
    if axis is None and not keepdims:
        a = lift(x, opname)
        X = a.data
        n = cnp.PyArray_SIZE(X)
        if n > 0 and simple(X):
            out = cnp.PyArray_EMPTY(0, NULL, cnp.PyArray_TYPE(X), 0)
            if cnp.PyArray_TYPE(X) == cnp.NPY_DOUBLE:
                (<double*>cnp.PyArray_DATA(out))[0] = extreme_of(
                    <double*>cnp.PyArray_DATA(X), n, op == OP_MAX)
            else:
                (<float*>cnp.PyArray_DATA(out))[0] = extreme_of(
                    <float*>cnp.PyArray_DATA(X), n, op == OP_MAX)
            return make_result(out, op, (a,), (None, False))
    x = lift(x, opname)
    axes = normalize_axes(axis, x.data.ndim, opname)
    if x.data.size == 0:
        raise empty_error(opname, x.data.shape)
    data = ufunc.reduce(x.data, axis=axes, keepdims=keepdims)
    return make_result(data, op, (x,), (axes, keepdims))


def max(x, axis=None, keepdims=False):
    return extreme(x, axis, keepdims, np.maximum, OP_MAX, "max")


def min(x, axis=None, keepdims=False):
    return extreme(x, axis, keepdims, np.minimum, OP_MIN, "min")


def logsumexp_values(x, axes, keepdims):
    """log(sum(exp(x))) over ``axes``, shifted by the maximum so that nothing overflows."""
    m = np.maximum.reduce(x, axis=axes, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    y = np.log(np.add.reduce(np.exp(x - m), axis=axes, keepdims=True)) + m
    return y if keepdims else y.reshape(reduced_shape(x.shape, axes))


def logsumexp(x, axis=None, keepdims=False):
    x = lift(x, "logsumexp")
    axes = normalize_axes(axis, x.data.ndim, "logsumexp")
    if x.data.size == 0:
        raise empty_error("logsumexp", x.data.shape)
    data = logsumexp_values(x.data, axes, keepdims)
    return make_result(data, OP_LOGSUMEXP, (x,), (axes, keepdims))


def softmax_values(x, axis):
    """exp(x) / sum(exp(x)) along ``axis``, shifted by the maximum."""
    e = np.exp(x - np.maximum.reduce(x, axis=axis, keepdims=True))
    return e / np.add.reduce(e, axis=axis, keepdims=True)


def log_softmax_values(x, axis):
    """x - logsumexp(x) along ``axis``."""
    return x - logsumexp_values(x, (axis,), True)


def softmax(x, axis=-1):
    x = lift(x, "softmax")
    axis = normalize_axis(axis, x.data.ndim, "softmax")
    return make_result(softmax_values(x.data, axis), OP_SOFTMAX, (x,), axis)


def log_softmax(x, axis=-1):
    x = lift(x, "log_softmax")
    axis = normalize_axis(axis, x.data.ndim, "log_softmax")
    return make_result(log_softmax_values(x.data, axis), OP_LOG_SOFTMAX, (x,), axis)


# ---------------------------------------------------------------- VJPs

cdef int vjp_sum(Node node, object g) except -1:
    """ga = g broadcast over the summed axes"""
    cdef Node a = <Node>node._prev[0]
    cdef cnp.ndarray A = a.data, ga
    axes = node._ctx[0]
    if axes is None and cnp.PyArray_SIZE(<cnp.ndarray>g) == 1 and simple(A) \
            and cnp.PyArray_TYPE(<cnp.ndarray>g) == cnp.PyArray_TYPE(A):
        # every element gets the one gradient: a filled array (owned) beats a broadcast view
        ga = empty_like(A)
        if cnp.PyArray_TYPE(A) == cnp.NPY_DOUBLE:
            fill(<double*>cnp.PyArray_DATA(ga), (<double*>cnp.PyArray_DATA(g))[0],
                 cnp.PyArray_SIZE(A))
        else:
            fill(<float*>cnp.PyArray_DATA(ga), (<float*>cnp.PyArray_DATA(g))[0],
                 cnp.PyArray_SIZE(A))
        return accumulate(a, ga, True)
    shape = a.data.shape
    return accumulate(a, np.broadcast_to(g.reshape(kept_shape(shape, axes)), shape), False)


cdef int vjp_mean(Node node, object g) except -1:
    """ga = g/n broadcast over the averaged axes (n elements averaged per output)"""
    cdef Node a = <Node>node._prev[0]
    axes = node._ctx[0]
    shape = a.data.shape
    count = reduced_count(shape, axes)
    return accumulate(a, np.broadcast_to(g.reshape(kept_shape(shape, axes)) / count, shape),
                      False)


cdef int vjp_extreme(Node node, object g) except -1:
    """ga = g*[a == y]/k, k the number of elements that tie for the extreme"""
    cdef Node a = <Node>node._prev[0]
    cdef cnp.ndarray A = a.data, Y = node.data, G = g, ga
    axes = node._ctx[0]
    if axes is None and simple(A) and cnp.PyArray_TYPE(G) == cnp.PyArray_TYPE(A) \
            and cnp.PyArray_TYPE(Y) == cnp.PyArray_TYPE(A) and cnp.PyArray_SIZE(G) == 1:
        ga = empty_like(A)
        if cnp.PyArray_TYPE(A) == cnp.NPY_DOUBLE:
            extreme_bwd(<double*>cnp.PyArray_DATA(ga), <double*>cnp.PyArray_DATA(A),
                        (<double*>cnp.PyArray_DATA(Y))[0], (<double*>cnp.PyArray_DATA(G))[0],
                        cnp.PyArray_SIZE(A))
        else:
            extreme_bwd(<float*>cnp.PyArray_DATA(ga), <float*>cnp.PyArray_DATA(A),
                        (<float*>cnp.PyArray_DATA(Y))[0], (<float*>cnp.PyArray_DATA(G))[0],
                        cnp.PyArray_SIZE(A))
        return accumulate(a, ga, True)
    kept = kept_shape(a.data.shape, axes)
    mask = a.data == node.data.reshape(kept)
    count = np.add.reduce(mask, axis=axes, keepdims=True, dtype=g.dtype)
    return accumulate(a, g.reshape(kept) * mask / count, True)


cdef int vjp_logsumexp(Node node, object g) except -1:
    """ga = g*exp(a - y)"""
    cdef Node a = <Node>node._prev[0]
    axes = node._ctx[0]
    kept = kept_shape(a.data.shape, axes)
    return accumulate(a, g.reshape(kept) * np.exp(a.data - node.data.reshape(kept)), True)


cdef int vjp_softmax(Node node, object g) except -1:
    """ga = y*(g - sum(g*y))"""
    y = node.data
    axis = node._ctx
    return accumulate(<Node>node._prev[0],
                      y * (g - np.add.reduce(g * y, axis=axis, keepdims=True)), True)


cdef int vjp_log_softmax(Node node, object g) except -1:
    """ga = g - exp(y)*sum(g)"""
    axis = node._ctx
    total_g = np.add.reduce(g, axis=axis, keepdims=True)
    return accumulate(<Node>node._prev[0], g - np.exp(node.data) * total_g, True)


register_vjp(OP_SUM, vjp_sum)
register_vjp(OP_MEAN, vjp_mean)
register_vjp(OP_MAX, vjp_extreme)
register_vjp(OP_MIN, vjp_extreme)
register_vjp(OP_LOGSUMEXP, vjp_logsumexp)
register_vjp(OP_SOFTMAX, vjp_softmax)
register_vjp(OP_LOG_SOFTMAX, vjp_log_softmax)
