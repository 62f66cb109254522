"""The op table's scipy entries (fastgrad/ops/special_ops.py, odeint_ops.py): one case or more
each, in optable_cases.py's format (a function of Tensors making that entry's node, and its
float64 input specs). Parameters that are not differentiated are bound in the function."""
import numpy as np

from fastgrad.ops.special_ops import call
from fastgrad.scipy.integrate import odeint


def _spec(kind, *shape):
    return (kind, shape)


def _unary(name, **params):
    return lambda F, x: call(name, x, **params)


def _decay(y, t, rate, shift):
    """dy/dt of the odeint case: smooth, with every argument mattering (numpy's ufunc routes
    a Tensor of either backend to that backend's op)"""
    return -rate * y + np.sin(t) * shift - 0.1 * y * y


def _odeint_case(F, y0, rate, shift):
    return odeint(_decay, y0, np.linspace(0.0, 0.4, 3), (rate, shift))


def _odeint_time_case(F, steps):
    times = F["cumsum"](steps * 0.2)  # increasing
    return odeint(_decay, np.array([0.3, -0.2]), times, (np.array([0.7, 1.1]), np.array(0.5)))


POSITIVE = "positive"   # (0.5, 2)
UNIT = "unit"           # (-0.8, 0.8)
NORMAL = "normal"

SCIPY_CASES = {
    "gammaln": [(_unary("gammaln"), [_spec(POSITIVE, 2, 3)])],
    "digamma": [(_unary("digamma"), [_spec(POSITIVE, 2, 3)])],
    "polygamma": [(_unary("polygamma", n=np.array([1, 2, 0])), [_spec(POSITIVE, 2, 3)])],
    "gamma": [(_unary("gamma"), [_spec(POSITIVE, 2, 3)])],
    "rgamma": [(_unary("rgamma"), [_spec(POSITIVE, 2, 3)])],
    "gammasgn": [(_unary("gammasgn"), [_spec(POSITIVE, 2, 3)])],
    "gammainc": [(_unary("gammainc", a=np.array([0.7, 1.5, 3.0])), [_spec(POSITIVE, 2, 3)])],
    "gammaincc": [(_unary("gammaincc", a=2.5), [_spec(POSITIVE, 2, 3)])],
    "betaln": [(lambda F, a, b: call("betaln", a, b), [_spec(POSITIVE, 2, 3),
                                                      _spec(POSITIVE, 3)])],
    "beta": [(lambda F, a, b: call("beta", a, b), [_spec(POSITIVE, 2, 1),
                                                  _spec(POSITIVE, 3)])],
    "betainc": [(lambda F, x: call("betainc", x * 0.5 + 0.5, a=1.5, b=np.array([0.8, 2.0, 3.5])),
                 [_spec(UNIT, 2, 3)])],
    "erf": [(_unary("erf"), [_spec(NORMAL, 2, 3)])],
    "erfc": [(_unary("erfc"), [_spec(NORMAL, 2, 3)])],
    "erfinv": [(_unary("erfinv"), [_spec(UNIT, 2, 3)])],
    "erfcinv": [(lambda F, x: call("erfcinv", x + 1.0), [_spec(UNIT, 2, 3)])],
    "ndtr": [(_unary("ndtr"), [_spec(NORMAL, 2, 3)])],
    "log_ndtr": [(lambda F, x: call("log_ndtr", x * 4.0), [_spec(NORMAL, 2, 3)])],
    "logit": [(lambda F, x: call("logit", x * 0.5 + 0.5), [_spec(UNIT, 2, 3)])],
    "stdtr": [(_unary("stdtr", df=np.array([1.5, 4.0, 30.0])), [_spec(NORMAL, 2, 3)])],
    "j0": [(_unary("j0"), [_spec(POSITIVE, 2, 3)])],
    "j1": [(_unary("j1"), [_spec(POSITIVE, 2, 3)])],
    "jv": [(_unary("jv", v=np.array([0.0, 1.5, 3.0])), [_spec(POSITIVE, 2, 3)])],
    "y0": [(_unary("y0"), [_spec(POSITIVE, 2, 3)])],
    "y1": [(_unary("y1"), [_spec(POSITIVE, 2, 3)])],
    "yv": [(_unary("yv", v=np.array([0.0, 1.0, 2.5])), [_spec(POSITIVE, 2, 3)])],
    "i0": [(_unary("i0"), [_spec(NORMAL, 2, 3)])],
    "i1": [(_unary("i1"), [_spec(NORMAL, 2, 3)])],
    "iv": [(_unary("iv", v=np.array([0.0, 1.0, 2.5])), [_spec(POSITIVE, 2, 3)])],
    "ive": [(_unary("ive", v=np.array([0.5, 1.0, 2.0])), [_spec(POSITIVE, 2, 3)]),
            (_unary("ive", v=np.array([0.0, 1.0, 2.0])), [_spec(NORMAL, 2, 3)])],
    "odeint": [(_odeint_case, [_spec(NORMAL, 2), _spec(POSITIVE, 2), _spec(NORMAL)]),
               (_odeint_time_case, [_spec(POSITIVE, 3)])],
}
