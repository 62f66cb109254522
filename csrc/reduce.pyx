"""Reductions and normalisations: forward and VJP (twin: fastgrad/_py/reduce.py).

``axes`` is a sorted tuple of non-negative axes, or None for all of them. A sum over all
elements of a small contiguous array runs in a typed loop that adds in numpy's pairwise order
(so its result is numpy's to the bit); so do the last-axis row paths below; everything else is
numpy, as in the twin.
"""
cimport cython
cimport numpy as cnp

import numpy as np

from fastgrad._cy.node cimport (PAIRWISE_EXACT_MAX, Node, accumulate, empty_like, lift,
                                make_result, pairwise_sum, real, register_vjp)
from fastgrad._cy.opcodes cimport (OP_LOG_SOFTMAX, OP_LOGSUMEXP, OP_MAX, OP_MEAN, OP_MIN,
                                   OP_SOFTMAX, OP_SUM)
from fastgrad._cy.vmath cimport v_exp, v_log

# axes, shapes, error messages and the numpy forms of the values live once, in fastgrad/_shared
from fastgrad._shared.reduce import (empty_error, kept_shape, log_softmax_values,
                                     logsumexp_values, normalize_axes, normalize_axis,
                                     reduced_count, reduced_shape, softmax_values)

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


@cython.cdivision(True)  # IEEE division (x/0 is inf or nan, as numpy's), in every build
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


# ---------------------------------------------------------------- rows: the last axis
# An op over the last axis of a C-contiguous array sees it as m rows of r elements. The row
# paths below repeat the twin's numpy expressions step for step (the same pairwise sums per row,
# the same + - * / per element), so sums, maxima and their gradients are the twin's to the bit;
# exp and log are fastgrad's vectorised kernels over whole buffers (fastgrad/_cy/vmath.pxd), so
# logsumexp, softmax and log_softmax agree with the twin within those kernels' ulp bounds. They
# skip numpy's per-row bookkeeping, which for short rows (a softmax over 10 classes) costs more
# than the arithmetic.

cdef void row_sums(real* out, const real* x, Py_ssize_t m, Py_ssize_t r) noexcept nogil:
    """out[i] = sum(x[i, :]) in numpy's pairwise order"""
    cdef Py_ssize_t i
    for i in range(m):
        out[i] = pairwise_sum(x + i * r, r)


cdef void row_extremes(real* out, const real* x, Py_ssize_t m, Py_ssize_t r,
                       bint is_max) noexcept nogil:
    """out[i] = max (or min) of x[i, :]"""
    cdef Py_ssize_t i
    for i in range(m):
        out[i] = extreme_of(x + i * r, r, is_max)


cdef void finite_or_zero(real* v, Py_ssize_t m) noexcept nogil:
    """v[i] = 0 where v[i] is NaN or +-Inf (the shift of a row of -inf)"""
    cdef Py_ssize_t i
    for i in range(m):
        if v[i] - v[i] != 0:
            v[i] = 0


cdef void sub_rows(real* out, const real* x, const real* v, Py_ssize_t m,
                   Py_ssize_t r) noexcept nogil:
    """out[i, j] = x[i, j] - v[i]"""
    cdef Py_ssize_t i, j
    for i in range(m):
        for j in range(r):
            out[i * r + j] = x[i * r + j] - v[i]


cdef void mul_rows(real* out, const real* x, const real* v, Py_ssize_t m,
                   Py_ssize_t r) noexcept nogil:
    """out[i, j] = v[i] * x[i, j]"""
    cdef Py_ssize_t i, j
    for i in range(m):
        for j in range(r):
            out[i * r + j] = v[i] * x[i * r + j]


@cython.cdivision(True)  # IEEE division (x/0 is inf or nan, as numpy's), in every build
cdef void div_rows(real* out, const real* x, const real* v, Py_ssize_t m,
                   Py_ssize_t r) noexcept nogil:
    """out[i, j] = x[i, j] / v[i]"""
    cdef Py_ssize_t i, j
    for i in range(m):
        for j in range(r):
            out[i * r + j] = x[i * r + j] / v[i]


cdef void fill_rows(real* out, const real* v, Py_ssize_t m, Py_ssize_t r) noexcept nogil:
    """out[i, j] = v[i]"""
    cdef Py_ssize_t i, j
    for i in range(m):
        for j in range(r):
            out[i * r + j] = v[i]


cdef void softmax_bwd_rows(real* out, const real* g, const real* y, real* gy, Py_ssize_t m,
                           Py_ssize_t r) noexcept nogil:
    """out = y*(g - sum_row(g*y)), gy a scratch row"""
    cdef Py_ssize_t i, j
    cdef real s
    for i in range(m):
        for j in range(r):
            gy[j] = g[i * r + j] * y[i * r + j]
        s = pairwise_sum(gy, r)
        for j in range(r):
            out[i * r + j] = y[i * r + j] * (g[i * r + j] - s)


cdef void log_softmax_bwd_rows(real* out, const real* g, const real* e, Py_ssize_t m,
                               Py_ssize_t r) noexcept nogil:
    """out = g - e*sum_row(g), e = exp(y)"""
    cdef Py_ssize_t i, j
    cdef real s
    for i in range(m):
        s = pairwise_sum(g + i * r, r)
        for j in range(r):
            out[i * r + j] = g[i * r + j] - e[i * r + j] * s


cdef void extreme_bwd_rows(real* out, const real* a, const real* y, const real* g,
                           Py_ssize_t m, Py_ssize_t r) noexcept nogil:
    """out[i, :] = g[i]*[a[i, :] == y[i]]/k_i, k_i the ties of row i"""
    cdef Py_ssize_t i
    for i in range(m):
        extreme_bwd(out + i * r, a + i * r, y[i], g[i], r)


cdef inline Py_ssize_t row_length(cnp.ndarray X, object axes):
    """r when ``axes`` is X's last axis alone and X is a non-empty C-contiguous float array
    with rows short enough for the exact pairwise order; else 0 (numpy does the op)."""
    cdef int nd = cnp.PyArray_NDIM(X)
    cdef Py_ssize_t r
    if nd == 0 or axes is None or len(axes) != 1 or axes[0] != nd - 1 or not simple(X):
        return 0
    r = cnp.PyArray_DIMS(X)[nd - 1]
    if r == 0 or r > PAIRWISE_EXACT_MAX or cnp.PyArray_SIZE(X) == 0:
        return 0
    return r


cdef inline bint rows_of(object g, cnp.ndarray like, Py_ssize_t count):
    """g is a C-contiguous array of like's dtype holding ``count`` elements."""
    return (cnp.PyArray_Check(g) and cnp.PyArray_TYPE(<cnp.ndarray>g) == cnp.PyArray_TYPE(like)
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>g)
            and cnp.PyArray_SIZE(<cnp.ndarray>g) == count)


cdef inline void* at(object a) noexcept:
    return cnp.PyArray_DATA(<cnp.ndarray>a)


cdef void exp_inplace(cnp.ndarray D) noexcept:
    """D = e^D (a C-contiguous float array)"""
    if cnp.PyArray_TYPE(D) == cnp.NPY_DOUBLE:
        v_exp(<double*>at(D), <double*>at(D), cnp.PyArray_SIZE(D))
    else:
        v_exp(<float*>at(D), <float*>at(D), cnp.PyArray_SIZE(D))


cdef void log_inplace(cnp.ndarray D) noexcept:
    """D = log D (a C-contiguous float array)"""
    if cnp.PyArray_TYPE(D) == cnp.NPY_DOUBLE:
        v_log(<double*>at(D), <double*>at(D), cnp.PyArray_SIZE(D))
    else:
        v_log(<float*>at(D), <float*>at(D), cnp.PyArray_SIZE(D))


cdef cnp.ndarray per_row(cnp.ndarray X, bint keepdims):
    """An empty array for one value per row of X: X's shape without (or with a 1 for) its
    last axis."""
    cdef int nd = cnp.PyArray_NDIM(X)
    cdef cnp.npy_intp dims[64]  # NPY_MAXDIMS in numpy 2
    for k in range(nd - 1):
        dims[k] = cnp.PyArray_DIMS(X)[k]
    dims[nd - 1] = 1
    return cnp.PyArray_EMPTY(nd if keepdims else nd - 1, dims, cnp.PyArray_TYPE(X), 0)


cdef cnp.ndarray row_logsumexp(cnp.ndarray X, Py_ssize_t r, bint keepdims):
    """log(sum(exp(x - m))) + m per row, m the row's maximum (0 if not finite)"""
    cdef Py_ssize_t m = cnp.PyArray_SIZE(X) // r
    cdef cnp.ndarray M = per_row(X, keepdims), D = empty_like(X)
    cdef cnp.ndarray S = per_row(X, keepdims)
    if cnp.PyArray_TYPE(X) == cnp.NPY_DOUBLE:
        row_extremes(<double*>at(M), <double*>at(X), m, r, True)
        finite_or_zero(<double*>at(M), m)
        sub_rows(<double*>at(D), <double*>at(X), <double*>at(M), m, r)
    else:
        row_extremes(<float*>at(M), <float*>at(X), m, r, True)
        finite_or_zero(<float*>at(M), m)
        sub_rows(<float*>at(D), <float*>at(X), <float*>at(M), m, r)
    exp_inplace(D)
    if cnp.PyArray_TYPE(X) == cnp.NPY_DOUBLE:
        row_sums(<double*>at(S), <double*>at(D), m, r)
    else:
        row_sums(<float*>at(S), <float*>at(D), m, r)
    log_inplace(S)
    S += M
    return S


# ---------------------------------------------------------------- axes and shapes

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
    cdef Py_ssize_t r = row_length(X, axes)
    if r:
        out = per_row(X, keepdims)
        if cnp.PyArray_TYPE(X) == cnp.NPY_DOUBLE:
            row_sums(<double*>at(out), <double*>at(X), n // r, r)
        else:
            row_sums(<float*>at(out), <float*>at(X), n // r, r)
        return make_result(out, OP_SUM, (a,), (axes, keepdims))
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
    a = lift(x, opname)
    X = a.data
    axes = normalize_axes(axis, cnp.PyArray_NDIM(X), opname)
    if cnp.PyArray_SIZE(X) == 0:
        raise empty_error(opname, a.data.shape)
    cdef Py_ssize_t r = row_length(X, axes)
    if r:
        out = per_row(X, keepdims)
        if cnp.PyArray_TYPE(X) == cnp.NPY_DOUBLE:
            row_extremes(<double*>at(out), <double*>at(X), cnp.PyArray_SIZE(X) // r, r,
                         op == OP_MAX)
        else:
            row_extremes(<float*>at(out), <float*>at(X), cnp.PyArray_SIZE(X) // r, r,
                         op == OP_MAX)
        return make_result(out, op, (a,), (axes, keepdims))
    data = ufunc.reduce(X, axis=axes, keepdims=keepdims)
    return make_result(data, op, (a,), (axes, keepdims))


def max(x, axis=None, keepdims=False):
    return extreme(x, axis, keepdims, np.maximum, OP_MAX, "max")


def min(x, axis=None, keepdims=False):
    return extreme(x, axis, keepdims, np.minimum, OP_MIN, "min")


def logsumexp(x, axis=None, keepdims=False):
    cdef Node a = lift(x, "logsumexp")
    cdef cnp.ndarray X = a.data
    axes = normalize_axes(axis, cnp.PyArray_NDIM(X), "logsumexp")
    if cnp.PyArray_SIZE(X) == 0:
        raise empty_error("logsumexp", a.data.shape)
    cdef Py_ssize_t r = row_length(X, axes)
    data = row_logsumexp(X, r, keepdims) if r else logsumexp_values(X, axes, keepdims)
    return make_result(data, OP_LOGSUMEXP, (a,), (axes, keepdims))


def softmax(x, axis=-1):
    cdef Node a = lift(x, "softmax")
    cdef cnp.ndarray X = a.data, D, M
    axis = normalize_axis(axis, cnp.PyArray_NDIM(X), "softmax")
    cdef Py_ssize_t r = row_length(X, (axis,)), m
    if not r:
        return make_result(softmax_values(X, axis), OP_SOFTMAX, (a,), axis)
    m = cnp.PyArray_SIZE(X) // r
    M = per_row(X, True)
    D = empty_like(X)
    if cnp.PyArray_TYPE(X) == cnp.NPY_DOUBLE:
        row_extremes(<double*>at(M), <double*>at(X), m, r, True)
        sub_rows(<double*>at(D), <double*>at(X), <double*>at(M), m, r)
    else:
        row_extremes(<float*>at(M), <float*>at(X), m, r, True)
        sub_rows(<float*>at(D), <float*>at(X), <float*>at(M), m, r)
    exp_inplace(D)
    if cnp.PyArray_TYPE(X) == cnp.NPY_DOUBLE:  # M now holds the row sums
        row_sums(<double*>at(M), <double*>at(D), m, r)
        div_rows(<double*>at(D), <double*>at(D), <double*>at(M), m, r)
    else:
        row_sums(<float*>at(M), <float*>at(D), m, r)
        div_rows(<float*>at(D), <float*>at(D), <float*>at(M), m, r)
    return make_result(D, OP_SOFTMAX, (a,), axis)


def log_softmax(x, axis=-1):
    cdef Node a = lift(x, "log_softmax")
    cdef cnp.ndarray X = a.data, L, out
    axis = normalize_axis(axis, cnp.PyArray_NDIM(X), "log_softmax")
    cdef Py_ssize_t r = row_length(X, (axis,))
    if not r:
        return make_result(log_softmax_values(X, axis), OP_LOG_SOFTMAX, (a,), axis)
    L = row_logsumexp(X, r, True)
    out = empty_like(X)
    if cnp.PyArray_TYPE(X) == cnp.NPY_DOUBLE:
        sub_rows(<double*>at(out), <double*>at(X), <double*>at(L), cnp.PyArray_SIZE(X) // r, r)
    else:
        sub_rows(<float*>at(out), <float*>at(X), <float*>at(L), cnp.PyArray_SIZE(X) // r, r)
    return make_result(out, OP_LOG_SOFTMAX, (a,), axis)


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
    cdef Py_ssize_t r = row_length(A, axes), m
    if r and rows_of(g, A, cnp.PyArray_SIZE(A) // r):
        m = cnp.PyArray_SIZE(A) // r
        ga = empty_like(A)
        if cnp.PyArray_TYPE(A) == cnp.NPY_DOUBLE:
            fill_rows(<double*>at(ga), <double*>at(g), m, r)
        else:
            fill_rows(<float*>at(ga), <float*>at(g), m, r)
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
    cdef Py_ssize_t r = row_length(A, axes), m
    if r and rows_of(g, A, cnp.PyArray_SIZE(A) // r) and rows_of(Y, A, cnp.PyArray_SIZE(A) // r):
        m = cnp.PyArray_SIZE(A) // r
        ga = empty_like(A)
        if cnp.PyArray_TYPE(A) == cnp.NPY_DOUBLE:
            extreme_bwd_rows(<double*>at(ga), <double*>at(A), <double*>at(Y), <double*>at(g),
                             m, r)
        else:
            extreme_bwd_rows(<float*>at(ga), <float*>at(A), <float*>at(Y), <float*>at(g), m, r)
        return accumulate(a, ga, True)
    kept = kept_shape(a.data.shape, axes)
    mask = a.data == node.data.reshape(kept)
    count = np.add.reduce(mask, axis=axes, keepdims=True, dtype=g.dtype)
    return accumulate(a, g.reshape(kept) * mask / count, True)


cdef int vjp_logsumexp(Node node, object g) except -1:
    """ga = g*exp(a - y)"""
    cdef Node a = <Node>node._prev[0]
    cdef cnp.ndarray A = a.data, D
    axes = node._ctx[0]
    cdef Py_ssize_t r = row_length(A, axes), m = cnp.PyArray_SIZE(A) // r if r else 0
    if r and rows_of(g, A, m) and rows_of(node.data, A, m):
        D = empty_like(A)
        if cnp.PyArray_TYPE(A) == cnp.NPY_DOUBLE:
            sub_rows(<double*>at(D), <double*>at(A), <double*>at(node.data), m, r)
        else:
            sub_rows(<float*>at(D), <float*>at(A), <float*>at(node.data), m, r)
        exp_inplace(D)
        if cnp.PyArray_TYPE(A) == cnp.NPY_DOUBLE:
            mul_rows(<double*>at(D), <double*>at(D), <double*>at(g), m, r)
        else:
            mul_rows(<float*>at(D), <float*>at(D), <float*>at(g), m, r)
        return accumulate(a, D, True)
    kept = kept_shape(a.data.shape, axes)
    return accumulate(a, g.reshape(kept) * np.exp(a.data - node.data.reshape(kept)), True)


cdef int vjp_softmax(Node node, object g) except -1:
    """ga = y*(g - sum(g*y))"""
    cdef cnp.ndarray Y = node.data, out, scratch
    y = node.data
    axis = node._ctx
    cdef Py_ssize_t r = row_length(Y, (axis,))
    if r and rows_of(g, Y, cnp.PyArray_SIZE(Y)):
        out = empty_like(Y)
        scratch = cnp.PyArray_EMPTY(1, cnp.PyArray_DIMS(Y) + cnp.PyArray_NDIM(Y) - 1,
                                    cnp.PyArray_TYPE(Y), 0)
        if cnp.PyArray_TYPE(Y) == cnp.NPY_DOUBLE:
            softmax_bwd_rows(<double*>at(out), <double*>at(g), <double*>at(Y),
                             <double*>at(scratch), cnp.PyArray_SIZE(Y) // r, r)
        else:
            softmax_bwd_rows(<float*>at(out), <float*>at(g), <float*>at(Y),
                             <float*>at(scratch), cnp.PyArray_SIZE(Y) // r, r)
        return accumulate(<Node>node._prev[0], out, True)
    return accumulate(<Node>node._prev[0],
                      y * (g - np.add.reduce(g * y, axis=axis, keepdims=True)), True)


cdef int vjp_log_softmax(Node node, object g) except -1:
    """ga = g - exp(y)*sum(g)"""
    cdef cnp.ndarray Y = node.data, E
    axis = node._ctx
    cdef Py_ssize_t r = row_length(Y, (axis,))
    if r and rows_of(g, Y, cnp.PyArray_SIZE(Y)):
        E = empty_like(Y)
        if cnp.PyArray_TYPE(Y) == cnp.NPY_DOUBLE:
            v_exp(<double*>at(E), <double*>at(Y), cnp.PyArray_SIZE(Y))
        else:
            v_exp(<float*>at(E), <float*>at(Y), cnp.PyArray_SIZE(Y))
        if cnp.PyArray_TYPE(Y) == cnp.NPY_DOUBLE:
            log_softmax_bwd_rows(<double*>at(E), <double*>at(g), <double*>at(E),
                                 cnp.PyArray_SIZE(Y) // r, r)
        else:
            log_softmax_bwd_rows(<float*>at(E), <float*>at(g), <float*>at(E),
                                 cnp.PyArray_SIZE(Y) // r, r)
        return accumulate(<Node>node._prev[0], E, True)
    total_g = np.add.reduce(g, axis=axis, keepdims=True)
    return accumulate(<Node>node._prev[0], g - np.exp(node.data) * total_g, True)


register_vjp(OP_SUM, vjp_sum)
register_vjp(OP_MEAN, vjp_mean)
register_vjp(OP_MAX, vjp_extreme)
register_vjp(OP_MIN, vjp_extreme)
register_vjp(OP_LOGSUMEXP, vjp_logsumexp)
register_vjp(OP_SOFTMAX, vjp_softmax)
register_vjp(OP_LOG_SOFTMAX, vjp_log_softmax)
