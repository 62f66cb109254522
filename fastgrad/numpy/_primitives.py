"""numpy functions without an engine op code, made differentiable as custom primitives.

Each is numpy's own function wrapped by :func:`fastgrad.extend.primitive` (so on plain arrays
it IS numpy's function) with its VJP given by ``defvjp``; on traced values it records one
OP_CUSTOM node whose VJP is the Python formula below. They are less common in MLP code than the
engine's ops (exp, tanh, dot, ...), which is why they live here and not in the compiled kernels.
"""
import numpy as np

from ..extend import defvjp, primitive

LN2 = float(np.log(2.0))
LN10 = float(np.log(10.0))

# ---------------------------------------------------------------- unary: (ans, x) -> g -> gx

_UNARY_VJPS = {
    "expm1": lambda ans, x: lambda g: g * (ans + 1),
    "log2": lambda ans, x: lambda g: g / (x * LN2),
    "log10": lambda ans, x: lambda g: g / (x * LN10),
    "exp2": lambda ans, x: lambda g: g * ans * LN2,
    "tan": lambda ans, x: lambda g: g * (1 + ans * ans),
    "sinh": lambda ans, x: lambda g: g * np.cosh(x),
    "cosh": lambda ans, x: lambda g: g * np.sinh(x),
    "arcsin": lambda ans, x: lambda g: g / np.sqrt(1 - x * x),
    "arccos": lambda ans, x: lambda g: -g / np.sqrt(1 - x * x),
    "arctan": lambda ans, x: lambda g: g / (1 + x * x),
    "arcsinh": lambda ans, x: lambda g: g / np.sqrt(x * x + 1),
    "arccosh": lambda ans, x: lambda g: g / np.sqrt(x * x - 1),
    "arctanh": lambda ans, x: lambda g: g / (1 - x * x),
    "cbrt": lambda ans, x: lambda g: g / (3 * ans * ans),
    "deg2rad": lambda ans, x: lambda g: g * (np.pi / 180),
    "rad2deg": lambda ans, x: lambda g: g * (180 / np.pi),
}

# ---------------------------------------------------------------- binary: (ans, x, y) -> g -> ...

_BINARY_VJPS = {
    "logaddexp": (lambda ans, x, y: lambda g: g * np.exp(x - ans),
                  lambda ans, x, y: lambda g: g * np.exp(y - ans)),
    "logaddexp2": (lambda ans, x, y: lambda g: g * np.exp2(x - ans),
                   lambda ans, x, y: lambda g: g * np.exp2(y - ans)),
    "arctan2": (lambda ans, y, x: lambda g: g * x / (x * x + y * y),
                lambda ans, y, x: lambda g: -g * y / (x * x + y * y)),
    "hypot": (lambda ans, x, y: lambda g: g * x / ans,
              lambda ans, x, y: lambda g: g * y / ans),
}


def _made(name, fun):
    """``fun`` as a primitive named ``name``, keeping a ufunc's methods (reduce, outer, ...)
    for plain arrays (on traced values numpy refuses them, naming the ufunc)."""
    p = primitive(fun)
    p.__name__ = name
    for attr in ("reduce", "accumulate", "outer", "at", "reduceat", "nin", "nout", "nargs",
                 "identity", "ntypes", "types", "signature"):
        if hasattr(fun, attr):
            setattr(p, attr, getattr(fun, attr))
    return p


def _cumsum_vjp(ans, a, axis=None, dtype=None, out=None):
    """g summed from the end: the adjoint of a running sum (flattened first when axis=None)."""
    shape = np.shape(a)

    def vjp(g):
        if axis is None:
            return np.flip(np.cumsum(np.flip(g.reshape(-1)))).reshape(shape)
        return np.flip(np.cumsum(np.flip(g, axis), axis), axis)
    return vjp


def _prod_vjp(ans, a, axis=None, dtype=None, out=None, keepdims=False, **unused):
    """g times the product of the other elements (from exclusive prefix and suffix products,
    so that zeros need no division)."""
    a = np.asarray(a)
    axes = tuple(range(a.ndim)) if axis is None else tuple(
        np.atleast_1d(axis) % max(a.ndim, 1))
    last = tuple(range(a.ndim - len(axes), a.ndim))

    def vjp(g):
        if not keepdims:
            g = np.expand_dims(g, axes)
        moved = np.moveaxis(a, axes, last)
        rows = moved.reshape(moved.shape[:a.ndim - len(axes)] + (-1,))
        ones = np.ones(rows.shape[:-1] + (1,), rows.dtype)
        before = np.cumprod(np.concatenate([ones, rows[..., :-1]], -1), -1)
        after = np.flip(np.cumprod(np.concatenate([ones, np.flip(rows, -1)[..., :-1]], -1),
                                   -1), -1)
        others = np.moveaxis((before * after).reshape(moved.shape), last, axes)
        return g * others
    return vjp


def build():
    """name -> primitive, for the functions above and cumsum/prod."""
    made = {}
    for name, maker in _UNARY_VJPS.items():
        made[name] = _made(name, getattr(np, name))
        defvjp(made[name], maker)
    for name, (mx, my) in _BINARY_VJPS.items():
        made[name] = _made(name, getattr(np, name))
        defvjp(made[name], mx, my)
    made["cumsum"] = _made("cumsum", np.cumsum)
    defvjp(made["cumsum"], _cumsum_vjp)
    made["prod"] = _made("prod", np.prod)
    defvjp(made["prod"], _prod_vjp)
    return made


PRIMITIVES = build()
