"""scipy.special, differentiable where MLP code needs it: logsumexp, expit, softmax,
log_softmax (``from fastgrad.scipy.special import logsumexp`` in autograd code).

On traced values these record the engine's ops (each is one node with its own VJP). On plain
arrays they are scipy's own functions when scipy is installed, and otherwise numpy versions of
them (scipy is not a dependency of fastgrad).
"""
import numpy as np

from ..extend import node_types

try:
    import scipy.special as _scipy_special
except ImportError:  # pragma: no cover - exercised where scipy is absent
    _scipy_special = None

__all__ = ["expit", "log_softmax", "logsumexp", "softmax"]


def _backend_of(x):
    return type(x)._backend


def _flat_axis(x, axis, fn):
    """Apply ``fn(x, axis)`` (a normalisation over one axis) with axis=None meaning all
    elements, as scipy does."""
    if axis is None:
        bk = _backend_of(x)
        flat = bk.shape.reshape(x, (-1,))
        return bk.shape.reshape(fn(flat, 0), x.data.shape)
    if not isinstance(axis, (int, np.integer)):
        raise TypeError("on traced values, axis must be None or an int")
    return fn(x, axis)


# ---------------------------------------------------------------- plain versions (no scipy)

def _logsumexp_plain(a, axis=None, b=None, keepdims=False, return_sign=False):
    a = np.asarray(a)
    m = np.max(a, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    e = np.exp(a - m)
    if b is not None:
        e = e * b
    s = np.sum(e, axis=axis, keepdims=True)
    sign = np.sign(s)
    out = np.log(np.abs(s)) + m
    if not keepdims:
        out = np.squeeze(out, axis=axis)
        sign = np.squeeze(sign, axis=axis)
    if return_sign:
        return out, sign
    return out


def _expit_plain(x):
    x = np.asarray(x)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _softmax_plain(x, axis=None):
    x = np.asarray(x)
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax_plain(x, axis=None):
    x = np.asarray(x)
    return x - _logsumexp_plain(x, axis=axis, keepdims=True)


# ---------------------------------------------------------------- the functions

def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """log(sum(b * exp(a))) over ``axis``, computed without overflow (scipy's signature)."""
    nodes = node_types()
    if not (isinstance(a, nodes) or isinstance(b, nodes)):
        if _scipy_special is not None:
            return _scipy_special.logsumexp(a, axis=axis, b=b, keepdims=keepdims,
                                            return_sign=return_sign)
        return _logsumexp_plain(a, axis, b, keepdims, return_sign)
    if return_sign:
        raise TypeError("fastgrad.scipy.special.logsumexp: return_sign=True is not supported "
                        "on traced values")
    if isinstance(axis, list):
        axis = tuple(axis)
    if b is None:
        return _backend_of(a).reduce.logsumexp(a, axis, keepdims)
    # weighted: log(sum(b * exp(a - m))) + m, the shift m a constant (it cancels exactly)
    bk = _backend_of(a if isinstance(a, nodes) else b)
    ew, rd = bk.elementwise, bk.reduce
    values = a.data if isinstance(a, nodes) else np.asarray(a)
    m = np.max(values, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    total = rd.sum(ew.mul(ew.exp(ew.sub(a, m)), b), axis, True)
    out = ew.add(ew.log(total), m)
    if not keepdims:
        out = bk.shape.reshape(out, np.squeeze(m, axis=axis).shape)
    return out


def expit(x):
    """The logistic sigmoid 1 / (1 + exp(-x))."""
    if isinstance(x, node_types()):
        return _backend_of(x).elementwise.sigmoid(x)
    if _scipy_special is not None:
        return _scipy_special.expit(x)
    return _expit_plain(x)


def softmax(x, axis=None):
    """exp(x) / sum(exp(x)) over ``axis`` (all elements when None, as in scipy)."""
    if isinstance(x, node_types()):
        return _flat_axis(x, axis, _backend_of(x).reduce.softmax)
    if _scipy_special is not None:
        return _scipy_special.softmax(x, axis=axis)
    return _softmax_plain(x, axis)


def log_softmax(x, axis=None):
    """x - logsumexp(x) over ``axis`` (all elements when None, as in scipy)."""
    if isinstance(x, node_types()):
        return _flat_axis(x, axis, _backend_of(x).reduce.log_softmax)
    if _scipy_special is not None:
        return _scipy_special.log_softmax(x, axis=axis)
    return _log_softmax_plain(x, axis)
