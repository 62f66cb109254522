"""scipy.special, differentiable (``from fastgrad.scipy.special import gammaln`` in autograd
code): logsumexp, expit, softmax, log_softmax, and the special functions autograd
differentiates (the gamma and beta families, erf and its inverses, Bessel functions, logit,
polygamma, ...).

On traced values these record the engine's ops (each is one node of the op table, whose
derivative is another entry: see fastgrad/ops/special_ops.py). On plain arrays they are scipy's
own functions (the four above have numpy versions where scipy is absent; the rest need scipy).
Arguments whose derivative is not defined (an order ``n``, gammainc's ``a``, betainc's ``a`` and
``b``) may be traced constants but not values being differentiated: that raises, naming the
function and the argument.
"""
import numpy as np

from ..extend import node_types

try:
    import scipy.special as _scipy_special
except ImportError:  # pragma: no cover - exercised where scipy is absent
    _scipy_special = None

__all__ = ["expit", "log_softmax", "logsumexp", "softmax"]  # the rest: see the end


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


# ---------------------------------------------------------------- the op table's entries

def _scipy():
    if _scipy_special is None:
        raise ImportError("fastgrad.scipy.special needs scipy for this function: "
                          "pip install scipy")
    return _scipy_special


def _traced(x):
    return isinstance(x, node_types())


def _call(entry, x, params):
    from ..ops.special_ops import call
    return call(entry, x, **params)


def _no_options(name, args, kwargs):
    if args or kwargs:
        raise TypeError(f"fastgrad.scipy.special.{name}: out= and ufunc options are not "
                        f"supported on traced values")


def _elementwise(name, entry=None):
    """scipy.special.<name>(x), the entry ``entry`` (default: the same name) on traced x."""
    entry = entry or name

    def f(x, *args, **kwargs):
        if _traced(x):
            _no_options(name, args, kwargs)
            return _call(entry, x, {})
        return getattr(_scipy(), name)(x, *args, **kwargs)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"scipy.special.{name}, differentiable (see the module docstring)."
    return f


def _constant_param(name, what, index, value):
    """A parameter's value: plain, or a traced constant; a value being differentiated raises."""
    if not _traced(value):
        return value
    if value.requires_grad:
        raise NotImplementedError(
            f"fastgrad.scipy.special.{name}: the derivative with respect to argument {index} "
            f"({what}) is not defined (as in autograd); differentiate with respect to the "
            f"last argument only")
    return value.data


def _parametrized(name, params, entry=None, entry_params=None):
    """scipy.special.<name>(*params, x): differentiable in x only."""
    entry = entry or name
    entry_params = entry_params or params
    n = len(params)

    def f(*args, **kwargs):
        if len(args) != n + 1:
            raise TypeError(f"fastgrad.scipy.special.{name}: takes {n + 1} arguments "
                            f"({', '.join(params)}, x), got {len(args)}")
        x = args[n]
        if not any(_traced(a) for a in args):
            return getattr(_scipy(), name)(*args, **kwargs)
        values = [_constant_param(name, p, i, a) for i, (p, a) in enumerate(zip(params, args))]
        if not _traced(x):
            return getattr(_scipy(), name)(*values, x, **kwargs)
        _no_options(name, (), kwargs)
        return _call(entry, x, dict(zip(entry_params, values)))
    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"scipy.special.{name}({', '.join(params)}, x), differentiable in x (see the "
                 f"module docstring).")
    return f


def _binary(name):
    """scipy.special.<name>(a, b), differentiable in both."""
    def f(a, b, *args, **kwargs):
        if _traced(a) or _traced(b):
            _no_options(name, args, kwargs)
            from ..ops.special_ops import call
            return call(name, a, b)
        return getattr(_scipy(), name)(a, b, *args, **kwargs)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = f"scipy.special.{name}(a, b), differentiable in both (see the module docstring)."
    return f


gammaln = _elementwise("gammaln")
digamma = _elementwise("digamma")
gamma = _elementwise("gamma")
rgamma = _elementwise("rgamma")
gammasgn = _elementwise("gammasgn")
erf = _elementwise("erf")
erfc = _elementwise("erfc")
erfinv = _elementwise("erfinv")
erfcinv = _elementwise("erfcinv")
ndtr = _elementwise("ndtr")
log_ndtr = _elementwise("log_ndtr")
logit = _elementwise("logit")
j0 = _elementwise("j0")
j1 = _elementwise("j1")
y0 = _elementwise("y0")
y1 = _elementwise("y1")
i0 = _elementwise("i0")
i1 = _elementwise("i1")
psi = _elementwise("psi", "digamma")
polygamma = _parametrized("polygamma", ("n",))
gammainc = _parametrized("gammainc", ("a",))
gammaincc = _parametrized("gammaincc", ("a",))
betainc = _parametrized("betainc", ("a", "b"))
stdtr = _parametrized("stdtr", ("df",))
jv = _parametrized("jv", ("v",))
jn = _parametrized("jn", ("n",), "jv", ("v",))
yv = _parametrized("yv", ("v",))
yn = _parametrized("yn", ("n",), "yv", ("v",))
iv = _parametrized("iv", ("v",))
ive = _parametrized("ive", ("v",))
beta = _binary("beta")
betaln = _binary("betaln")


def multigammaln(a, d):
    """log of the multivariate gamma function of dimension d: d(d-1)/4 log(pi) +
    sum_{j=1..d} gammaln(a - (j-1)/2) (a composite of gammaln)."""
    if not _traced(a):
        return _scipy().multigammaln(a, d)
    d = int(d)
    if d < 1:
        raise ValueError(f"fastgrad.scipy.special.multigammaln: d must be a positive integer, "
                         f"got {d}")
    if np.any(a.data <= (d - 1) / 2.0):
        raise ValueError(f"fastgrad.scipy.special.multigammaln: a must be > (d-1)/2 = "
                         f"{(d - 1) / 2.0} everywhere")
    total = d * (d - 1) / 4.0 * np.log(np.pi)
    for j in range(d):
        total = gammaln(a - j / 2.0) + total
    return total


__all__ += [
    "beta",
    "betainc",
    "betaln",
    "digamma",
    "erf",
    "erfc",
    "erfcinv",
    "erfinv",
    "gamma",
    "gammainc",
    "gammaincc",
    "gammaln",
    "gammasgn",
    "i0",
    "i1",
    "iv",
    "ive",
    "j0",
    "j1",
    "jn",
    "jv",
    "log_ndtr",
    "logit",
    "multigammaln",
    "ndtr",
    "polygamma",
    "psi",
    "rgamma",
    "stdtr",
    "y0",
    "y1",
    "yn",
    "yv",
]
