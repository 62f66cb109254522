"""The table's entries without compiled kernels: their forward is numpy's function, they record
an OP_CUSTOM node, and their first-order VJP is the same rule run on constants. Adding an
elementwise op is one line here (``unary(name, forward, f')``): the public function
``fastgrad.<name>``, the Tensor method (if asked), the numpy face and ``np.<name>(tensor)`` all
come from the entry.
"""
import numpy as np

from .._py.shape import is_basic_index
from . import kernels as k
from .table import OPS, Op, python_function, register

LN2 = float(np.log(2.0))
LN10 = float(np.log(10.0))


def unary(name, forward, derivative, *, method=False, doc=""):
    """An elementwise op of one argument: vjp = g * f'(a), jvp = t * f'(a) (``derivative(y,
    a)`` gives f'(a) in fastgrad ops)."""
    return register(Op(name, forward, (lambda g, y, a: g * derivative(y, a),),
                       (lambda t, y, a: t * derivative(y, a),), function=name, numpy=name,
                       method=method, doc=doc, nargs=1))


def binary(name, forward, da, db, *, doc=""):
    """An elementwise op of two arguments, with its partial derivatives ``da(y, a, b)`` and
    ``db(y, a, b)``."""
    return register(Op(name, forward,
                       (lambda g, y, a, b: g * da(y, a, b), lambda g, y, a, b: g * db(y, a, b)),
                       (lambda t, y, a, b: t * da(y, a, b), lambda t, y, a, b: t * db(y, a, b)),
                       function=name, numpy=name, doc=doc, nargs=2))


def f(name):
    """The public function of entry ``name`` (the rules below call one another through it)."""
    return FUNCTIONS_BY_NAME[name]


FUNCTIONS_BY_NAME = {}

unary("expm1", np.expm1, lambda y, a: y + 1, doc="y = e^a - 1")
unary("exp2", np.exp2, lambda y, a: y * LN2, doc="y = 2^a")
unary("log2", np.log2, lambda y, a: 1 / (a * LN2), doc="y = log2 a")
unary("log10", np.log10, lambda y, a: 1 / (a * LN10), doc="y = log10 a")
unary("tan", np.tan, lambda y, a: 1 + y * y, doc="y = tan a")
unary("sinh", np.sinh, lambda y, a: f("cosh")(a), doc="y = sinh a")
unary("cosh", np.cosh, lambda y, a: f("sinh")(a), doc="y = cosh a")
unary("arcsin", np.arcsin, lambda y, a: 1 / k.sqrt(1 - a * a), doc="y = arcsin a")
unary("arccos", np.arccos, lambda y, a: -1 / k.sqrt(1 - a * a), doc="y = arccos a")
unary("arctan", np.arctan, lambda y, a: 1 / (1 + a * a), doc="y = arctan a")
unary("arcsinh", np.arcsinh, lambda y, a: 1 / k.sqrt(a * a + 1), doc="y = arcsinh a")
unary("arccosh", np.arccosh, lambda y, a: 1 / k.sqrt(a * a - 1), doc="y = arccosh a")
unary("arctanh", np.arctanh, lambda y, a: 1 / (1 - a * a), doc="y = arctanh a")
unary("cbrt", np.cbrt, lambda y, a: 1 / (3 * y * y), doc="y = a^(1/3)")
unary("deg2rad", np.deg2rad, lambda y, a: np.pi / 180, doc="y = a pi / 180")
unary("rad2deg", np.rad2deg, lambda y, a: 180 / np.pi, doc="y = a 180 / pi")
binary("logaddexp", np.logaddexp, lambda y, a, b: k.exp(a - y), lambda y, a, b: k.exp(b - y),
       doc="y = log(e^a + e^b)")
binary("logaddexp2", np.logaddexp2, lambda y, a, b: f("exp2")(a - y),
       lambda y, a, b: f("exp2")(b - y), doc="y = log2(2^a + 2^b)")
binary("arctan2", np.arctan2, lambda y, a, b: b / (a * a + b * b),
       lambda y, a, b: -a / (a * a + b * b), doc="y = arctan(a / b) in the right quadrant")
binary("hypot", np.hypot, lambda y, a, b: a / y, lambda y, a, b: b / y,
       doc="y = (a^2 + b^2)^(1/2)")


# ---------------------------------------------------------------- running sums

def _flip(x, axis):
    return k.getitem(x, (slice(None),) * axis + (slice(None, None, -1),))


def _cumsum_vjp(g, y, a, axis=None):
    """g summed from the end along axis (the adjoint of a running sum)"""
    if axis is None:  # the output is flat
        return k.reshape(_flip(f("cumsum")(_flip(g, 0), 0), 0), a.data.shape)
    axis = axis % a.data.ndim
    return _flip(f("cumsum")(_flip(g, axis), axis), axis)


register(Op("cumsum", lambda a, axis=None: np.cumsum(a, axis), (_cumsum_vjp,),
            (lambda t, y, a, axis=None: f("cumsum")(t, axis),), function="cumsum",
            numpy="cumsum", nargs=1, param_names=("axis",),
            doc="y = running sum of a along axis (flattened when axis is None)"))


# ---------------------------------------------------------------- scatter (getitem's adjoint)

def _untake_forward(g, index, shape):
    """zeros(shape) with g added at index"""
    out = np.zeros(shape, dtype=np.asarray(g).dtype)
    if is_basic_index(index):
        out[index] = g  # ints and slices pick each element once: no sum needed (add.at is slow)
    else:
        np.add.at(out, index, g)
    return out


register(Op("untake", _untake_forward,
            (lambda g, y, a, index, shape: k.getitem(g, index),),
            (lambda t, y, a, index, shape: f("untake")(t, index, shape),), function="untake",
            nargs=1, param_names=("index", "shape"),
            doc="y = zeros(shape) with a added at index (the adjoint of a[index])"))


def untake(g, index, shape):
    """zeros(shape) with ``g`` added at ``index``: the VJP of getitem, differentiable."""
    return f("untake")(g, index, shape)


for _op in list(OPS.values()):
    if _op.code is None and _op.function is not None:
        FUNCTIONS_BY_NAME[_op.function] = python_function(_op)
