"""Reductions and normalisations: forward and VJP (twin of csrc/reduce.pyx).

``axes`` is a sorted tuple of non-negative axes, or None for all of them. In the VJPs ``g`` and
``y`` are first given back the reduced axes (length 1), so that they broadcast against ``a``.
"""
import numpy as np

from .node import accumulate, lift, make_result, register_vjp
from .opcodes import (OP_LOG_SOFTMAX, OP_LOGSUMEXP, OP_MAX, OP_MEAN, OP_MIN, OP_SOFTMAX,
                      OP_SUM)
from fastgrad._shared.reduce import (  # noqa: F401  (shared with the compiled module)
    empty_error, kept_shape, log_softmax_values, logsumexp_values, normalize_axes,
    normalize_axis, reduced_count, reduced_shape, softmax_values)


# ---------------------------------------------------------------- forwards

def sum(x, axis=None, keepdims=False):
    x = lift(x, "sum")
    axes = normalize_axes(axis, x.data.ndim, "sum")
    data = np.add.reduce(x.data, axis=axes, keepdims=keepdims)
    return make_result(data, OP_SUM, (x,), (axes, keepdims))


def mean(x, axis=None, keepdims=False):
    x = lift(x, "mean")
    axes = normalize_axes(axis, x.data.ndim, "mean")
    count = reduced_count(x.data.shape, axes)
    if count == 0:
        raise empty_error("mean", x.data.shape)
    data = np.add.reduce(x.data, axis=axes, keepdims=keepdims) / count
    return make_result(data, OP_MEAN, (x,), (axes, keepdims))


def _extreme(x, axis, keepdims, ufunc, op, opname):
    x = lift(x, opname)
    axes = normalize_axes(axis, x.data.ndim, opname)
    if x.data.size == 0:
        raise empty_error(opname, x.data.shape)
    data = ufunc.reduce(x.data, axis=axes, keepdims=keepdims)
    return make_result(data, op, (x,), (axes, keepdims))


def max(x, axis=None, keepdims=False):
    return _extreme(x, axis, keepdims, np.maximum, OP_MAX, "max")


def min(x, axis=None, keepdims=False):
    return _extreme(x, axis, keepdims, np.minimum, OP_MIN, "min")


def logsumexp(x, axis=None, keepdims=False):
    x = lift(x, "logsumexp")
    axes = normalize_axes(axis, x.data.ndim, "logsumexp")
    if x.data.size == 0:
        raise empty_error("logsumexp", x.data.shape)
    data = logsumexp_values(x.data, axes, keepdims)
    return make_result(data, OP_LOGSUMEXP, (x,), (axes, keepdims))


def softmax(x, axis=-1):
    x = lift(x, "softmax")
    axis = normalize_axis(axis, x.data.ndim, "softmax")
    return make_result(softmax_values(x.data, axis), OP_SOFTMAX, (x,), axis)


def log_softmax(x, axis=-1):
    x = lift(x, "log_softmax")
    axis = normalize_axis(axis, x.data.ndim, "log_softmax")
    return make_result(log_softmax_values(x.data, axis), OP_LOG_SOFTMAX, (x,), axis)


# ---------------------------------------------------------------- VJPs

def vjp_sum(node, g):
    """ga = g broadcast over the summed axes"""
    a = node._prev[0]
    axes, _ = node._ctx
    shape = a.data.shape
    accumulate(a, np.broadcast_to(g.reshape(kept_shape(shape, axes)), shape), False)


def vjp_mean(node, g):
    """ga = g/n broadcast over the averaged axes (n elements averaged per output)"""
    a = node._prev[0]
    axes, _ = node._ctx
    shape = a.data.shape
    count = reduced_count(shape, axes)
    accumulate(a, np.broadcast_to(g.reshape(kept_shape(shape, axes)) / count, shape), False)


def vjp_extreme(node, g):
    """ga = g*[a == y]/k, k the number of elements that tie for the extreme"""
    a = node._prev[0]
    axes, _ = node._ctx
    kept = kept_shape(a.data.shape, axes)
    mask = a.data == node.data.reshape(kept)
    count = np.add.reduce(mask, axis=axes, keepdims=True, dtype=g.dtype)
    accumulate(a, g.reshape(kept) * mask / count, True)


def vjp_logsumexp(node, g):
    """ga = g*exp(a - y)"""
    a = node._prev[0]
    axes, _ = node._ctx
    kept = kept_shape(a.data.shape, axes)
    ga = np.asarray(a.data - node.data.reshape(kept))  # then in place: one temporary
    np.exp(ga, out=ga)
    accumulate(a, np.multiply(g.reshape(kept), ga, out=ga), True)


def vjp_softmax(node, g):
    """ga = y*(g - sum(g*y))"""
    y = node.data
    axis = node._ctx
    accumulate(node._prev[0], y * (g - np.add.reduce(g * y, axis=axis, keepdims=True)), True)


def vjp_log_softmax(node, g):
    """ga = g - exp(y)*sum(g)"""
    axis = node._ctx
    total = np.add.reduce(g, axis=axis, keepdims=True)
    accumulate(node._prev[0], g - np.exp(node.data) * total, True)


for _op, _vjp in {OP_SUM: vjp_sum, OP_MEAN: vjp_mean, OP_MAX: vjp_extreme,
                  OP_MIN: vjp_extreme, OP_LOGSUMEXP: vjp_logsumexp, OP_SOFTMAX: vjp_softmax,
                  OP_LOG_SOFTMAX: vjp_log_softmax}.items():
    register_vjp(_op, _vjp)
