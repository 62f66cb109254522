"""scipy.integrate.odeint, differentiable in the initial state, the times and the extra
arguments, to any order in reverse and forward mode: ``odeint(func, y0, t, args=())`` with
``func(y, t, *args)`` written with fastgrad.numpy.

On plain arrays it is scipy's own odeint. On traced values it is one op-table entry
(``odeint``): its forward is scipy's odeint, and its VJP is the adjoint method written in
fastgrad ops. For dy/dt = f(y, t, p) and outputs y_i = y(t_i) with cotangents g_i, the adjoint
state runs backwards from t_(T-1) to t_0 together with y:

    da/dt = -a^T df/dy,    da_p/dt = -a^T df/dp,    a(t_(T-1)) = g_(T-1), a_p = 0,

with g_(i-1) added to a at each t_(i-1). Then dL/dy0 = a(t_0), dL/dp = a_p(t_0),
dL/dt_i = g_i . f(y_i, t_i) for i >= 1 and dL/dt_0 = (g_0 - a(t_0)) . f(y_0, t_0). Each
backward segment is again the ``odeint`` op on the augmented state [y, a, a_p], whose dynamics
are f and its VJPs (computed by fastgrad, recorded when a higher derivative is being taken),
so the VJP differentiates again by the same rule. Forward mode integrates the sensitivities
[y, v] with dv/dt = df/dy v + df/dp dp from v(t_0) = dy0 - f(y_0, t_0) dt_0 (the tangent of
y_i is v(t_i) + f(y_i, t_i) dt_i), again as the ``odeint`` op.

The forward runs at the tolerances given (scipy's values, traced or not); the backward
segments with the same options when rtol or atol is given (autograd's rule), else at
rtol = atol = 1e-10 (tighter than scipy's default, as their errors add up over the segments).
At scipy's default tolerance
(1.5e-8) the
computed y(t) carries step-size dependent errors, so finite differences of it can differ from
the exact sensitivities (which the adjoint gives) by ~1e-6 relative, mostly in t.
"""
import numpy as np

from ..extend import node_types
from ..ops import kernels as k
from ..ops.odeint_ops import scipy_odeint
from ..ops.table import OPS, call_python_op

__all__ = ["odeint"]

# scipy.integrate.odeint's options that keep its plain output (an array of states)
OPTIONS = ("Dfun", "col_deriv", "ml", "mu", "rtol", "atol", "tcrit", "h0", "hmax", "hmin",
           "ixpr", "mxstep", "mxhnil", "mxordn", "mxords", "tfirst")


def _traced(x):
    return isinstance(x, node_types())


def _plain(x):
    return np.asarray(x.data if _traced(x) else x, dtype=np.float64)


def _leaves(x, out):
    """The arrays and numbers inside lists, tuples and dicts ``x``, in order."""
    if isinstance(x, dict):
        for key in x:
            _leaves(x[key], out)
    elif isinstance(x, (list, tuple)):
        for item in x:
            _leaves(item, out)
    else:
        out.append(x)
    return out


def _rebuilt(x, leaves):
    """``x``'s structure holding the next values of the iterator ``leaves``."""
    if isinstance(x, dict):
        return {key: _rebuilt(x[key], leaves) for key in x}
    if isinstance(x, (list, tuple)):
        return type(x)(_rebuilt(item, leaves) for item in x)
    return next(leaves)


def odeint(func, y0, t, args=(), **kwargs):
    """scipy.integrate.odeint(func, y0, t, args, ...), differentiable in y0, t and args on
    traced values (see the module docstring). ``func(y, t, *args)`` must be written with
    fastgrad.numpy."""
    args = tuple(args) if isinstance(args, (list, tuple)) else (args,)
    if any(isinstance(a, (list, tuple, dict)) for a in args):
        # an argument that is a container (a network's list of (W, b) pairs, say): its
        # leaves become the op's arguments, and func sees the containers rebuilt
        structure, leaves = args, _leaves(args, [])
        user_func = func

        def func(y, t, *flat):
            return user_func(y, t, *_rebuilt(structure, iter(flat)))
        args = tuple(leaves)
    if not (_traced(y0) or _traced(t) or any(_traced(a) for a in args)):
        return scipy_odeint()(func, y0, t, args=args, **kwargs)
    for key in kwargs:
        if key not in OPTIONS:
            raise TypeError(f"fastgrad.scipy.integrate.odeint: {key}= is not supported on "
                            f"traced values")
    if kwargs.get("tfirst") or kwargs.get("Dfun") is not None:
        raise TypeError("fastgrad.scipy.integrate.odeint: tfirst= and Dfun= are not supported "
                        "on traced values")
    y0_shape = np.shape(_plain(y0))
    if len(y0_shape) > 1:
        raise ValueError(f"fastgrad.scipy.integrate.odeint: y0 must be one-dimensional, got "
                         f"shape {y0_shape}")
    t_shape = np.shape(_plain(t))
    if len(t_shape) != 1 or t_shape[0] < 1:
        raise ValueError(f"fastgrad.scipy.integrate.odeint: t must be a one-dimensional "
                         f"sequence of times, got shape {t_shape}")
    for j, a in enumerate(args):
        if not _traced(a) and np.asarray(a).dtype.kind not in "biuf":
            raise TypeError(f"fastgrad.scipy.integrate.odeint: on traced values, args must be "
                            f"arrays or numbers; args[{j}] is {type(a).__name__}")
    if len(y0_shape) == 0:
        y0 = k.reshape(y0, (1,)) if _traced(y0) else np.reshape(y0, (1,))
    return call_python_op(OPS["odeint"], (y0, t, *args),
                          {"func": func, "options": kwargs, "cache": {}})
