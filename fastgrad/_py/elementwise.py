"""Elementwise primitives: forward and VJP (twin of csrc/elementwise.pyx).

Notation in the VJP docstrings: ``g`` is the gradient arriving at the output ``y``; ``a`` and
``b`` are the inputs; ``c`` is a Python scalar operand. Broadcasting is undone by accumulate.
The compiled twin evaluates the same expressions in the same order, so that float64 and float32
results agree to the last bit wherever only + - * / are involved.
"""

import numpy as np

from .node import Node, accumulate, as_constant, lift, make_result, register_vjp
from .opcodes import (OP_ABS, OP_ADD, OP_ADD_S, OP_CLIP, OP_COS, OP_DIV, OP_DIV_S, OP_EXP,
                      OP_LOG, OP_LOG1P, OP_MAXIMUM, OP_MINIMUM, OP_MUL, OP_MUL_S, OP_NEG,
                      OP_POW, OP_POW_S, OP_RDIV_S, OP_RELU, OP_RPOW_S, OP_RSUB_S, OP_SIGMOID,
                      OP_SIN, OP_SQRT, OP_SUB, OP_TANH, OP_WHERE)
from fastgrad._shared.elementwise import (
    broadcast_error, log_base, SCALAR_TYPES, sigmoid_values, tie_weights)


def operands(a, b, opname):
    """The operands of a binary op: two nodes, or a node and a float (on either side)."""
    if isinstance(a, Node):
        if isinstance(b, Node):
            return a, b
        if isinstance(b, SCALAR_TYPES):
            return a, float(b)
        return a, as_constant(b, a.data.dtype, opname)
    if isinstance(b, Node):
        if isinstance(a, SCALAR_TYPES):
            return float(a), b
        return as_constant(a, b.data.dtype, opname), b
    return operands(lift(a, opname), b, opname)


def _binary(op, ufunc, a, b, opname):
    """Record ``ufunc(a, b)`` for two nodes."""
    try:
        data = ufunc(a.data, b.data)
    except ValueError:
        raise broadcast_error(opname, a.data, b.data) from None
    return make_result(data, op, (a, b), None)


# ---------------------------------------------------------------- binary forwards

def add(a, b):
    a, b = operands(a, b, "add")
    if type(b) is float:
        return make_result(a.data + b, OP_ADD_S, (a,), b)
    if type(a) is float:
        return make_result(a + b.data, OP_ADD_S, (b,), a)
    return _binary(OP_ADD, np.add, a, b, "add")


def sub(a, b):
    a, b = operands(a, b, "subtract")
    if type(b) is float:  # a - c is exactly a + (-c)
        return make_result(a.data - b, OP_ADD_S, (a,), -b)
    if type(a) is float:
        return make_result(a - b.data, OP_RSUB_S, (b,), a)
    return _binary(OP_SUB, np.subtract, a, b, "subtract")


def rsub(a, b):
    """b - a (the reflected operator)."""
    return sub(b, a)


def mul(a, b):
    a, b = operands(a, b, "multiply")
    if type(b) is float:
        return make_result(a.data * b, OP_MUL_S, (a,), b)
    if type(a) is float:
        return make_result(a * b.data, OP_MUL_S, (b,), a)
    return _binary(OP_MUL, np.multiply, a, b, "multiply")


def div(a, b):
    a, b = operands(a, b, "divide")
    if type(b) is float:
        return make_result(a.data / b, OP_DIV_S, (a,), b)
    if type(a) is float:
        return make_result(a / b.data, OP_RDIV_S, (b,), a)
    return _binary(OP_DIV, np.divide, a, b, "divide")


def rdiv(a, b):
    """b / a (the reflected operator)."""
    return div(b, a)


def power(a, b):
    a, b = operands(a, b, "power")
    if type(b) is float:
        return make_result(a.data ** b, OP_POW_S, (a,), b)
    if type(a) is float:
        return make_result(a ** b.data, OP_RPOW_S, (b,), a)
    return _binary(OP_POW, np.power, a, b, "power")


def rpower(a, b):
    """b ** a (the reflected operator)."""
    return power(b, a)


def maximum(a, b):
    a, b = operands(a, b, "maximum")
    a = a if isinstance(a, Node) else as_constant(a, b.data.dtype, "maximum")
    b = b if isinstance(b, Node) else as_constant(b, a.data.dtype, "maximum")
    return _binary(OP_MAXIMUM, np.maximum, a, b, "maximum")


def minimum(a, b):
    a, b = operands(a, b, "minimum")
    a = a if isinstance(a, Node) else as_constant(a, b.data.dtype, "minimum")
    b = b if isinstance(b, Node) else as_constant(b, a.data.dtype, "minimum")
    return _binary(OP_MINIMUM, np.minimum, a, b, "minimum")


def where(condition, a, b):
    """Elements of ``a`` where ``condition`` holds, else of ``b`` (condition is not
    differentiated)."""
    if isinstance(condition, Node):
        condition = condition.data
    condition = np.asarray(condition, dtype=bool)
    a, b = operands(a, b, "where")
    a = a if isinstance(a, Node) else as_constant(a, b.data.dtype, "where")
    b = b if isinstance(b, Node) else as_constant(b, a.data.dtype, "where")
    try:
        data = np.where(condition, a.data, b.data)
    except ValueError:
        raise ValueError(f"where: shapes {condition.shape}, {a.data.shape} and {b.data.shape} "
                         f"cannot be broadcast together") from None
    return make_result(data, OP_WHERE, (a, b), condition)


# ---------------------------------------------------------------- unary forwards

def neg(x):
    x = lift(x, "negative")
    return make_result(-x.data, OP_NEG, (x,), None)


def exp(x):
    x = lift(x, "exp")
    return make_result(np.exp(x.data), OP_EXP, (x,), None)


def log(x):
    x = lift(x, "log")
    return make_result(np.log(x.data), OP_LOG, (x,), None)


def tanh(x):
    x = lift(x, "tanh")
    return make_result(np.tanh(x.data), OP_TANH, (x,), None)


def relu(x):
    """max(x, 0), NaN passing through as in numpy.maximum."""
    x = lift(x, "relu")
    return make_result(np.maximum(x.data, 0), OP_RELU, (x,), None)


def sigmoid(x):
    x = lift(x, "sigmoid")
    return make_result(sigmoid_values(x.data), OP_SIGMOID, (x,), None)


def sqrt(x):
    x = lift(x, "sqrt")
    return make_result(np.sqrt(x.data), OP_SQRT, (x,), None)


def absolute(x):
    x = lift(x, "abs")
    return make_result(np.abs(x.data), OP_ABS, (x,), None)


def log1p(x):
    x = lift(x, "log1p")
    return make_result(np.log1p(x.data), OP_LOG1P, (x,), None)


def sin(x):
    x = lift(x, "sin")
    return make_result(np.sin(x.data), OP_SIN, (x,), None)


def cos(x):
    x = lift(x, "cos")
    return make_result(np.cos(x.data), OP_COS, (x,), None)


def clip(x, lo, hi):
    """x limited to [lo, hi] (either bound may be None); the gradient passes where lo <= x <= hi."""
    x = lift(x, "clip")
    if lo is None and hi is None:
        raise ValueError("clip: give at least one of the bounds lo, hi")
    return make_result(np.clip(x.data, lo, hi), OP_CLIP, (x,), (lo, hi))


# ---------------------------------------------------------------- VJPs

def vjp_add(node, g):
    """ga = g, gb = g"""
    a, b = node._prev
    accumulate(a, g, False)
    accumulate(b, g, False)


def vjp_sub(node, g):
    """ga = g, gb = -g"""
    a, b = node._prev
    accumulate(a, g, False)
    if b.requires_grad:
        accumulate(b, -g, True)


def vjp_mul(node, g):
    """ga = g*b, gb = g*a"""
    a, b = node._prev
    if a.requires_grad:
        accumulate(a, g * b.data, True)
    if b.requires_grad:
        accumulate(b, g * a.data, True)


def vjp_div(node, g):
    """ga = g/b, gb = -(g*y)/b"""
    a, b = node._prev
    if a.requires_grad:
        accumulate(a, g / b.data, True)
    if b.requires_grad:
        accumulate(b, -(g * node.data) / b.data, True)


def vjp_pow(node, g):
    """ga = g*b*a^(b-1), gb = g*y*log(a) (log(a) taken as 0 where a == 0, as y is 0 there)"""
    a, b = node._prev
    if a.requires_grad:
        accumulate(a, g * b.data * a.data ** (b.data - 1), True)
    if b.requires_grad:
        A = a.data
        accumulate(b, g * node.data * np.log(np.where(A == 0, 1, A)), True)


def vjp_maximum(node, g):
    """ga = g*w, gb = g*(1-w) with w = 1 where a > b, 1/2 where a == b, else 0"""
    a, b = node._prev
    w = tie_weights(a.data, b.data, g)
    if a.requires_grad:
        accumulate(a, g * w, True)
    if b.requires_grad:
        accumulate(b, g * (1 - w), True)


def vjp_minimum(node, g):
    """ga = g*w, gb = g*(1-w) with w = 1 where a < b, 1/2 where a == b, else 0"""
    a, b = node._prev
    w = tie_weights(b.data, a.data, g)
    if a.requires_grad:
        accumulate(a, g * w, True)
    if b.requires_grad:
        accumulate(b, g * (1 - w), True)


def vjp_where(node, g):
    """ga = g where condition else 0, gb = 0 where condition else g"""
    a, b = node._prev
    condition = node._ctx
    zero = g.dtype.type(0)
    if a.requires_grad:
        accumulate(a, np.where(condition, g, zero), True)
    if b.requires_grad:
        accumulate(b, np.where(condition, zero, g), True)


def vjp_add_s(node, g):
    """ga = g"""
    accumulate(node._prev[0], g, False)


def vjp_mul_s(node, g):
    """ga = g*c"""
    accumulate(node._prev[0], g * node._ctx, True)


def vjp_div_s(node, g):
    """ga = g/c"""
    accumulate(node._prev[0], g / node._ctx, True)


def vjp_rsub_s(node, g):
    """ga = -g"""
    accumulate(node._prev[0], -g, True)


def vjp_rdiv_s(node, g):
    """y = c/a: ga = -(g*y)/a"""
    a = node._prev[0]
    accumulate(a, -(g * node.data) / a.data, True)


def vjp_pow_s(node, g):
    """y = a^c: ga = g*c*a^(c-1) (0 when c == 0)"""
    a = node._prev[0]
    c = node._ctx
    if c == 0:
        accumulate(a, np.zeros_like(g), True)
    else:
        accumulate(a, g * c * a.data ** (c - 1), True)


def vjp_rpow_s(node, g):
    """y = c^a: ga = g*y*log(c)"""
    accumulate(node._prev[0], g * node.data * log_base(node._ctx), True)


def vjp_neg(node, g):
    """ga = -g"""
    accumulate(node._prev[0], -g, True)


def vjp_exp(node, g):
    """ga = g*y"""
    accumulate(node._prev[0], g * node.data, True)


def vjp_log(node, g):
    """ga = g/a"""
    a = node._prev[0]
    accumulate(a, g / a.data, True)


def vjp_tanh(node, g):
    """ga = g*(1 - y*y)"""
    y = node.data
    ga = np.asarray(y * y)  # one temporary (large ones are costly); an array even if 0-d
    np.subtract(1, ga, out=ga)
    accumulate(node._prev[0], np.multiply(g, ga, out=ga) if ga.shape == g.shape else g * ga,
               True)


def vjp_relu(node, g):
    """ga = g*[y > 0]"""
    accumulate(node._prev[0], g * (node.data > 0), True)


def vjp_sigmoid(node, g):
    """ga = g*y*(1 - y)"""
    y = node.data
    ga = np.asarray(g * y)  # then in place: one temporary (an array even if 0-d)
    accumulate(node._prev[0], np.multiply(ga, 1 - y, out=ga), True)


def vjp_sqrt(node, g):
    """ga = g*0.5/y"""
    accumulate(node._prev[0], g * 0.5 / node.data, True)


def vjp_abs(node, g):
    """ga = g*sign(a)"""
    a = node._prev[0]
    accumulate(a, g * np.sign(a.data), True)


def vjp_log1p(node, g):
    """ga = g/(1 + a)"""
    a = node._prev[0]
    accumulate(a, g / (1 + a.data), True)


def vjp_sin(node, g):
    """ga = g*cos(a)"""
    a = node._prev[0]
    accumulate(a, g * np.cos(a.data), True)


def vjp_cos(node, g):
    """ga = -g*sin(a)"""
    a = node._prev[0]
    accumulate(a, -g * np.sin(a.data), True)


def vjp_clip(node, g):
    """ga = g*[lo <= a <= hi]"""
    a = node._prev[0]
    lo, hi = node._ctx
    inside = np.ones(a.data.shape, dtype=bool)
    if lo is not None:
        inside &= a.data >= lo
    if hi is not None:
        inside &= a.data <= hi
    accumulate(a, g * inside, True)


for _op, _vjp in {
        OP_ADD: vjp_add, OP_SUB: vjp_sub, OP_MUL: vjp_mul, OP_DIV: vjp_div, OP_POW: vjp_pow,
        OP_MAXIMUM: vjp_maximum, OP_MINIMUM: vjp_minimum, OP_WHERE: vjp_where,
        OP_ADD_S: vjp_add_s, OP_MUL_S: vjp_mul_s, OP_DIV_S: vjp_div_s, OP_RSUB_S: vjp_rsub_s,
        OP_RDIV_S: vjp_rdiv_s, OP_POW_S: vjp_pow_s, OP_RPOW_S: vjp_rpow_s,
        OP_NEG: vjp_neg, OP_EXP: vjp_exp, OP_LOG: vjp_log, OP_TANH: vjp_tanh,
        OP_RELU: vjp_relu, OP_SIGMOID: vjp_sigmoid, OP_SQRT: vjp_sqrt, OP_ABS: vjp_abs,
        OP_LOG1P: vjp_log1p, OP_SIN: vjp_sin, OP_COS: vjp_cos, OP_CLIP: vjp_clip}.items():
    register_vjp(_op, _vjp)
