"""The op table's entries for scipy.special: each forward is scipy's function (imported when it
first runs: scipy is needed only by whoever calls these), each derivative is another entry or
a composite of fastgrad ops, so that every rule differentiates again (gammaln' = digamma,
digamma' = polygamma(1, .), polygamma(n, .)' = polygamma(n + 1, .), ...).

The entries have no ``fastgrad.<name>`` function: ``fastgrad.scipy.special`` makes them (scipy's
own function on plain arrays, the entry on traced values). Arguments a derivative is not
defined for (an order ``n``, gammainc's ``a``, ...) are parameters of the entry, not arguments:
``fastgrad.scipy.special`` refuses them traced, naming the function and the argument.
"""
import math

import numpy as np

from . import kernels as k
from .table import OPS, Op, call_python_op, register

SQRT_PI = math.sqrt(math.pi)
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
LOG_PI = math.log(math.pi)


def scipy_special():
    """scipy.special, or an ImportError that says what to install."""
    try:
        import scipy.special
    except ImportError as e:  # pragma: no cover - scipy is installed where the tests run
        raise ImportError("fastgrad.scipy.special needs scipy: pip install scipy") from e
    return scipy.special


def call(name, *args, **params):
    """Entry ``name`` run on ``args`` (Tensors or arrays) with its parameters."""
    return call_python_op(OPS[name], args, params)


def scipy_forward(name, *, order=None):
    """The forward ``scipy.special.<name>(*params, x)`` with the parameters (an order, ...)
    first, as scipy takes them."""
    if order is None:
        return lambda x: getattr(scipy_special(), name)(x)
    def forward(x, **params):
        out = getattr(scipy_special(), name)(*(params[p] for p in order), x)
        # float64 parameters must not change x's precision (float32 stays float32)
        return np.asarray(out).astype(np.asarray(x).dtype, copy=False)
    forward.__doc__ = f"scipy.special.{name}({', '.join(order)}, x), in x's dtype"
    return forward


def special(name, derivative, *, params=(), doc=""):
    """An elementwise entry of one traced argument ``x`` (and constant parameters):
    vjp = g * f'(x), jvp = t * f'(x), with ``derivative(y, x, **params)`` giving f'(x) in
    fastgrad ops."""
    return register(Op(name, scipy_forward(name, order=params or None),
                       (lambda g, y, x, **p: g * derivative(y, x, **p),),
                       (lambda t, y, x, **p: t * derivative(y, x, **p),),
                       nargs=1, param_names=params, doc=doc))


def special2(name, da, db, *, doc=""):
    """An elementwise entry of two traced arguments with partial derivatives ``da(y, a, b)``
    and ``db(y, a, b)``."""
    return register(Op(name, lambda a, b: getattr(scipy_special(), name)(a, b),
                       (lambda g, y, a, b: g * da(y, a, b), lambda g, y, a, b: g * db(y, a, b)),
                       (lambda t, y, a, b: t * da(y, a, b), lambda t, y, a, b: t * db(y, a, b)),
                       nargs=2, doc=doc))


def plain(p):
    """A parameter as a float64 array (parameters are constants)."""
    return np.asarray(p, dtype=np.float64)


# ---------------------------------------------------------------- gamma family

special("gammaln", lambda y, x: call("digamma", x), doc="y = log |Gamma(x)|")
special("digamma", lambda y, x: call("polygamma", x, n=1), doc="y = Gamma'(x) / Gamma(x)")
special("polygamma", lambda y, x, n: call("polygamma", x, n=plain(n) + 1), params=("n",),
        doc="y = d^(n+1)/dx^(n+1) log Gamma(x)")
special("gamma", lambda y, x: y * call("digamma", x), doc="y = Gamma(x)")
special("rgamma", lambda y, x: -y * call("digamma", x), doc="y = 1 / Gamma(x)")
special("gammasgn", lambda y, x: y * 0.0, doc="y = sign(Gamma(x)) (derivative 0)")


def _gamma_density(x, a):
    """x^(a-1) e^(-x) / Gamma(a): d/dx of the regularized lower incomplete gamma function"""
    a = plain(a)
    return k.exp(k.log(x) * (a - 1.0) - x - scipy_special().gammaln(a))


special("gammainc", lambda y, x, a: _gamma_density(x, a), params=("a",),
        doc="y = P(a, x), the regularized lower incomplete gamma function")
special("gammaincc", lambda y, x, a: -_gamma_density(x, a), params=("a",),
        doc="y = Q(a, x) = 1 - P(a, x)")


def _dlogbeta(a, b):
    """d/da log B(a, b)"""
    return call("digamma", a) - call("digamma", a + b)


special2("betaln", lambda y, a, b: _dlogbeta(a, b), lambda y, a, b: _dlogbeta(b, a),
         doc="y = log |B(a, b)|")
special2("beta", lambda y, a, b: y * _dlogbeta(a, b), lambda y, a, b: y * _dlogbeta(b, a),
         doc="y = B(a, b) = Gamma(a) Gamma(b) / Gamma(a + b)")


def _beta_density(x, a, b):
    """x^(a-1) (1-x)^(b-1) / B(a, b): d/dx of the regularized incomplete beta function"""
    a, b = plain(a), plain(b)
    return k.exp(k.log(x) * (a - 1.0) + k.log1p(-x) * (b - 1.0)
                 - scipy_special().betaln(a, b))


special("betainc", lambda y, x, a, b: _beta_density(x, a, b), params=("a", "b"),
        doc="y = I_x(a, b), the regularized incomplete beta function")

# ---------------------------------------------------------------- error functions, normal

special("erf", lambda y, x: k.exp(-x * x) * (2.0 / SQRT_PI), doc="y = erf x")
special("erfc", lambda y, x: k.exp(-x * x) * (-2.0 / SQRT_PI), doc="y = 1 - erf x")
special("erfinv", lambda y, x: k.exp(y * y) * (SQRT_PI / 2.0), doc="y = erf^-1 x")
special("erfcinv", lambda y, x: k.exp(y * y) * (-SQRT_PI / 2.0), doc="y = erfc^-1 x")
special("ndtr", lambda y, x: k.exp(x * x * -0.5) * INV_SQRT_2PI,
        doc="y = Phi(x), the standard normal distribution function")
# Phi'(x) / Phi(x) in log space: no 0/0 far in the lower tail
special("log_ndtr", lambda y, x: k.exp(x * x * -0.5 - y) * INV_SQRT_2PI, doc="y = log Phi(x)")
special("logit", lambda y, x: 1.0 / (x * (1.0 - x)), doc="y = log(x / (1 - x))")


def _t_density(z, df):
    """Student's t density at z with df degrees of freedom: d/dz of stdtr"""
    df = plain(df)
    sp = scipy_special()
    const = sp.gammaln((df + 1.0) / 2.0) - sp.gammaln(df / 2.0) - 0.5 * np.log(df * np.pi)
    return k.exp(k.log1p(z * z / df) * (-(df + 1.0) / 2.0) + const)


special("stdtr", lambda y, x, df: _t_density(x, df), params=("df",),
        doc="y = Student's t distribution function at x, df degrees of freedom")

# ---------------------------------------------------------------- Bessel functions

special("j0", lambda y, x: -call("j1", x), doc="y = J_0(x)")
special("j1", lambda y, x: (call("j0", x) - call("jv", x, v=2.0)) * 0.5, doc="y = J_1(x)")
special("jv", lambda y, x, v: (call("jv", x, v=plain(v) - 1) - call("jv", x, v=plain(v) + 1))
        * 0.5, params=("v",), doc="y = J_v(x)")
special("y0", lambda y, x: -call("y1", x), doc="y = Y_0(x)")
special("y1", lambda y, x: (call("y0", x) - call("yv", x, v=2.0)) * 0.5, doc="y = Y_1(x)")
special("yv", lambda y, x, v: (call("yv", x, v=plain(v) - 1) - call("yv", x, v=plain(v) + 1))
        * 0.5, params=("v",), doc="y = Y_v(x)")
special("i0", lambda y, x: call("i1", x), doc="y = I_0(x)")
special("i1", lambda y, x: (call("i0", x) + call("iv", x, v=2.0)) * 0.5, doc="y = I_1(x)")
special("iv", lambda y, x, v: (call("iv", x, v=plain(v) - 1) + call("iv", x, v=plain(v) + 1))
        * 0.5, params=("v",), doc="y = I_v(x)")
# ive = iv e^-|x|: the product rule, sign(x) a constant
special("ive", lambda y, x, v: (call("ive", x, v=plain(v) - 1) + call("ive", x, v=plain(v) + 1))
        * 0.5 - y * np.sign(x.data), params=("v",), doc="y = I_v(x) e^-|x|")

NAMES = ("gammaln", "digamma", "polygamma", "gamma", "rgamma", "gammasgn", "gammainc",
         "gammaincc", "betaln", "beta", "betainc", "erf", "erfc", "erfinv", "erfcinv", "ndtr",
         "log_ndtr", "logit", "stdtr", "j0", "j1", "jv", "y0", "y1", "yv", "i0", "i1", "iv",
         "ive")
