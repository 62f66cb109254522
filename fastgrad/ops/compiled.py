"""The table's entries for the primitives with compiled kernels (and twins), in op-code order.

Read an entry as: the forward on numpy arrays; ``vjp`` (one rule per argument, ``g`` the
output's gradient, ``y`` the output); ``jvp`` (one rule per argument, ``t`` that argument's
tangent). Rules are written in fastgrad ops (operators and ``k.*``), so running them records a
graph: that is what makes every derivative differentiable again. Masks (relu, clip, max, ...)
are constants: their derivative is zero almost everywhere.
"""
import math

import numpy as np

from .._py import opcodes as oc
from . import kernels as k
from .table import Op, register


def _mask(condition, like):
    """A boolean array as a constant of ``like``'s dtype."""
    return np.asarray(condition, dtype=like.data.dtype)


def _tie_weights(a, b):
    """1 where a wins, 0 where b wins, 1/2 on ties (as the kernels split the gradient)."""
    A, B = a.data, b.data
    return np.where(A == B, 0.5, (A > B).astype(np.float64)).astype(np.result_type(A, B))


def _log_base(c):
    """log(c) for c ** a; 0 when c == 0 (y is 0 there too), NaN below 0."""
    if c > 0:
        return math.log(c)
    return 0.0 if c == 0 else math.nan


def _safe_log(a):
    """log(a) with 1 in place of a where a == 0 (the gradient of a ** b at a = 0 is 0 there)."""
    return k.log(k.where(a.data == 0, 1.0, a))


def elementwise(name, code, forward, vjp, jvp, *, function=None, numpy=None, method=False,
                doc="", params=None, kernel=None):
    return register(Op(name, forward, vjp, jvp, function=function, code=code,
                       kernel=kernel or ("elementwise", function or name), params=params,
                       numpy=numpy, method=method, doc=doc))


def scalar(ctx):
    return {"c": ctx}


# ---------------------------------------------------------------- two tensors

elementwise("add", oc.OP_ADD, np.add,
            (lambda g, y, a, b: g, lambda g, y, a, b: g),
            (lambda t, y, a, b: t, lambda t, y, a, b: t),
            function="add", numpy="add", doc="y = a + b")
elementwise("sub", oc.OP_SUB, np.subtract,
            (lambda g, y, a, b: g, lambda g, y, a, b: -g),
            (lambda t, y, a, b: t, lambda t, y, a, b: -t),
            function="subtract", kernel=("elementwise", "sub"), numpy="subtract",
            doc="y = a - b")
elementwise("mul", oc.OP_MUL, np.multiply,
            (lambda g, y, a, b: g * b, lambda g, y, a, b: g * a),
            (lambda t, y, a, b: t * b, lambda t, y, a, b: a * t),
            function="multiply", kernel=("elementwise", "mul"), numpy="multiply",
            doc="y = a * b")
elementwise("div", oc.OP_DIV, np.divide,
            (lambda g, y, a, b: g / b, lambda g, y, a, b: -(g * y) / b),
            (lambda t, y, a, b: t / b, lambda t, y, a, b: -(t * y) / b),
            function="divide", kernel=("elementwise", "div"), numpy="divide",
            doc="y = a / b")
elementwise("pow", oc.OP_POW, np.power,
            (lambda g, y, a, b: g * b * a ** (b - 1), lambda g, y, a, b: g * y * _safe_log(a)),
            (lambda t, y, a, b: t * b * a ** (b - 1), lambda t, y, a, b: t * y * _safe_log(a)),
            function="power", numpy="power", doc="y = a ** b")
elementwise("maximum", oc.OP_MAXIMUM, np.maximum,
            (lambda g, y, a, b: g * _tie_weights(a, b),
             lambda g, y, a, b: g * (1 - _tie_weights(a, b))),
            (lambda t, y, a, b: t * _tie_weights(a, b),
             lambda t, y, a, b: t * (1 - _tie_weights(a, b))),
            function="maximum", numpy="maximum", doc="y = max(a, b), ties split evenly")
elementwise("minimum", oc.OP_MINIMUM, np.minimum,
            (lambda g, y, a, b: g * _tie_weights(b, a),
             lambda g, y, a, b: g * (1 - _tie_weights(b, a))),
            (lambda t, y, a, b: t * _tie_weights(b, a),
             lambda t, y, a, b: t * (1 - _tie_weights(b, a))),
            function="minimum", numpy="minimum", doc="y = min(a, b), ties split evenly")

# ---------------------------------------------------------------- a tensor and a scalar c

elementwise("add_s", oc.OP_ADD_S, lambda a, c: a + c, (lambda g, y, a, c: g,),
            (lambda t, y, a, c: t,), params=scalar, kernel=("elementwise", "add"),
            doc="y = a + c")
elementwise("mul_s", oc.OP_MUL_S, lambda a, c: a * c, (lambda g, y, a, c: g * c,),
            (lambda t, y, a, c: t * c,), params=scalar, kernel=("elementwise", "mul"),
            doc="y = a * c")
elementwise("div_s", oc.OP_DIV_S, lambda a, c: a / c, (lambda g, y, a, c: g / c,),
            (lambda t, y, a, c: t / c,), params=scalar, kernel=("elementwise", "div"),
            doc="y = a / c")
elementwise("rsub_s", oc.OP_RSUB_S, lambda a, c: c - a, (lambda g, y, a, c: -g,),
            (lambda t, y, a, c: -t,), params=scalar, kernel=("elementwise", "rsub"),
            doc="y = c - a")
elementwise("rdiv_s", oc.OP_RDIV_S, lambda a, c: c / a, (lambda g, y, a, c: -(g * y) / a,),
            (lambda t, y, a, c: -(t * y) / a,), params=scalar, kernel=("elementwise", "rdiv"),
            doc="y = c / a")


def _pow_s_rule(g, y, a, c):
    """g c a^(c-1) (0 when c == 0)"""
    if c == 0:
        return g * 0.0
    return g * c * a ** (c - 1)


elementwise("pow_s", oc.OP_POW_S, lambda a, c: a ** c, (_pow_s_rule,), (_pow_s_rule,),
            params=scalar, kernel=("elementwise", "power"), doc="y = a ** c")
elementwise("rpow_s", oc.OP_RPOW_S, lambda a, c: c ** a,
            (lambda g, y, a, c: g * y * _log_base(c),),
            (lambda t, y, a, c: t * y * _log_base(c),), params=scalar,
            kernel=("elementwise", "rpower"), doc="y = c ** a")


# ---------------------------------------------------------------- one tensor

def unary(name, code, forward, derivative, *, function=None, numpy=None, method=False,
          kernel=None, doc=""):
    """An elementwise op of one argument: vjp = g * f'(a), jvp = t * f'(a), with
    ``derivative(y, a)`` giving f'(a) (in fastgrad ops, or a constant array)."""
    return elementwise(name, code, forward, (lambda g, y, a: g * derivative(y, a),),
                       (lambda t, y, a: t * derivative(y, a),), function=function or name,
                       numpy=numpy, method=method, kernel=kernel, doc=doc)


elementwise("neg", oc.OP_NEG, np.negative, (lambda g, y, a: -g,), (lambda t, y, a: -t,),
            function="negative", kernel=("elementwise", "neg"), numpy="negative",
            doc="y = -a")
unary("exp", oc.OP_EXP, np.exp, lambda y, a: y, numpy="exp", method=True, doc="y = e^a")
elementwise("log", oc.OP_LOG, np.log, (lambda g, y, a: g / a,), (lambda t, y, a: t / a,),
            function="log", numpy="log", method=True, doc="y = ln a")
unary("tanh", oc.OP_TANH, np.tanh, lambda y, a: 1 - y * y, numpy="tanh", method=True,
      doc="y = tanh a")
unary("relu", oc.OP_RELU, lambda a: np.maximum(a, 0), lambda y, a: _mask(y.data > 0, y),
      method=True, doc="y = max(a, 0)")
unary("sigmoid", oc.OP_SIGMOID, lambda a: 1 / (1 + np.exp(-a)), lambda y, a: y * (1 - y),
      method=True, doc="y = 1 / (1 + e^-a)")
elementwise("sqrt", oc.OP_SQRT, np.sqrt, (lambda g, y, a: g * 0.5 / y,),
            (lambda t, y, a: t * 0.5 / y,), function="sqrt", numpy="sqrt", method=True,
            doc="y = a^(1/2)")
unary("abs", oc.OP_ABS, np.abs, lambda y, a: np.sign(a.data), numpy="absolute", method=True,
      kernel=("elementwise", "absolute"), doc="y = |a|")
elementwise("log1p", oc.OP_LOG1P, np.log1p, (lambda g, y, a: g / (1 + a),),
            (lambda t, y, a: t / (1 + a),), function="log1p", numpy="log1p",
            doc="y = ln(1 + a)")
unary("sin", oc.OP_SIN, np.sin, lambda y, a: k.cos(a), numpy="sin", doc="y = sin a")
elementwise("cos", oc.OP_COS, np.cos, (lambda g, y, a: -(g * k.sin(a)),),
            (lambda t, y, a: -(t * k.sin(a)),), function="cos", numpy="cos", doc="y = cos a")


def _inside(a, lo, hi):
    inside = np.ones(a.data.shape, dtype=bool)
    if lo is not None:
        inside &= a.data >= lo
    if hi is not None:
        inside &= a.data <= hi
    return _mask(inside, a)


elementwise("clip", oc.OP_CLIP, lambda a, lo, hi: np.clip(a, lo, hi),
            (lambda g, y, a, lo, hi: g * _inside(a, lo, hi),),
            (lambda t, y, a, lo, hi: t * _inside(a, lo, hi),),
            function="clip", params=lambda ctx: {"lo": ctx[0], "hi": ctx[1]}, method=True,
            doc="y = a limited to [lo, hi]")
elementwise("where", oc.OP_WHERE, lambda a, b, condition: np.where(condition, a, b),
            (lambda g, y, a, b, condition: k.where(condition, g, 0.0),
             lambda g, y, a, b, condition: k.where(condition, 0.0, g)),
            (lambda t, y, a, b, condition: k.where(condition, t, 0.0),
             lambda t, y, a, b, condition: k.where(condition, 0.0, t)),
            function="where", params=lambda ctx: {"condition": ctx},
            doc="y = a where condition else b (condition not differentiated)")


# ---------------------------------------------------------------- reductions

def _axes(ctx):
    return {"axes": ctx[0], "keepdims": ctx[1]}


def _kept(a, axes):
    """a's shape with the reduced axes set to 1."""
    shape = a.data.shape
    return tuple(1 if axes is None or i in axes else n for i, n in enumerate(shape))


def _count(a, axes):
    count = 1
    for i, n in enumerate(a.data.shape):
        if axes is None or i in axes:
            count *= n
    return count


def _leading(axes, g):
    """True when g (a reduction's gradient) broadcasts against its input as it is: the reduced
    axes were all leading ones (or every axis), or were kept."""
    return axes is None or g.data.ndim == 0 or axes == tuple(range(len(axes)))


def _regrown(g, a, axes, keepdims):
    """g with the reduced axes given back as 1s, where broadcasting needs them."""
    if keepdims or _leading(axes, g):
        return g
    return k.reshape(g, _kept(a, axes))


def _spread(g, a, axes, keepdims=True):
    """g given back the reduced axes and broadcast over them: the adjoint of a sum."""
    return k.broadcast_to(_regrown(g, a, axes, keepdims), a.data.shape)


def _extreme_weights(y, a, axes):
    """[a == y] / (how many tie), a constant: where the extreme's gradient goes."""
    A = a.data
    if axes is None or len(axes) == A.ndim:
        # the extreme of all of a (the usual shift of a softmax): one count, no reduction
        mask = A == y.data.reshape(())
        count = np.count_nonzero(mask)
        if count == 1:
            return mask.astype(A.dtype)
        return (mask / count).astype(A.dtype)
    mask = A == y.data.reshape(_kept(a, axes))
    count = np.add.reduce(mask, axis=axes, keepdims=True)
    return (mask / count).astype(a.data.dtype)


def reduction(name, code, forward, vjp, jvp, *, numpy=None, doc=""):
    return register(Op(name, forward, (vjp,), (jvp,), function=name, code=code,
                       kernel=("reduce", name), params=_axes, numpy=numpy, method=True,
                       doc=doc))


reduction("sum", oc.OP_SUM, lambda a, axes, keepdims: np.sum(a, axes, keepdims=keepdims),
          lambda g, y, a, axes, keepdims: _spread(g, a, axes, keepdims),
          lambda t, y, a, axes, keepdims: k.sum(t, axes, keepdims),
          numpy="sum", doc="y = sum of a over axes")
reduction("mean", oc.OP_MEAN, lambda a, axes, keepdims: np.mean(a, axes, keepdims=keepdims),
          lambda g, y, a, axes, keepdims: _spread(g / float(_count(a, axes)), a, axes,
                                                  keepdims),
          lambda t, y, a, axes, keepdims: k.mean(t, axes, keepdims),
          numpy="mean", doc="y = mean of a over axes")
reduction("max", oc.OP_MAX, lambda a, axes, keepdims: np.max(a, axes, keepdims=keepdims),
          lambda g, y, a, axes, keepdims: (_regrown(g, a, axes, keepdims)
                                           * _extreme_weights(y, a, axes)),
          lambda t, y, a, axes, keepdims: k.sum(t * _extreme_weights(y, a, axes), axes,
                                                keepdims),
          numpy="max", doc="y = max of a over axes (ties share the gradient)")
reduction("min", oc.OP_MIN, lambda a, axes, keepdims: np.min(a, axes, keepdims=keepdims),
          lambda g, y, a, axes, keepdims: (_regrown(g, a, axes, keepdims)
                                           * _extreme_weights(y, a, axes)),
          lambda t, y, a, axes, keepdims: k.sum(t * _extreme_weights(y, a, axes), axes,
                                                keepdims),
          numpy="min", doc="y = min of a over axes (ties share the gradient)")


def _lse_weights(y, a, axes):
    """exp(a - y): softmax over the reduced axes, in fastgrad ops."""
    return k.exp(a - k.reshape(y, _kept(a, axes)))


def _lse_forward(a, axes, keepdims):
    """log(sum(exp(a))) over axes, shifted by the maximum"""
    m = np.max(a, axes, keepdims=True)
    out = np.log(np.sum(np.exp(a - m), axes, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axes)


reduction("logsumexp", oc.OP_LOGSUMEXP, _lse_forward,
          lambda g, y, a, axes, keepdims: k.reshape(g, _kept(a, axes)) * _lse_weights(y, a, axes),
          lambda t, y, a, axes, keepdims: k.sum(t * _lse_weights(y, a, axes), axes, keepdims),
          doc="y = log(sum(exp(a))) over axes")


def _softmax_forward(a, axis):
    """exp(a) / sum(exp(a)) along axis, shifted by the maximum"""
    e = np.exp(a - np.max(a, axis, keepdims=True))
    return e / np.sum(e, axis, keepdims=True)


register(Op("softmax", _softmax_forward,
            (lambda g, y, a, axis: y * (g - k.sum(g * y, axis, True)),),
            (lambda t, y, a, axis: y * (t - k.sum(t * y, axis, True)),),
            function="softmax", code=oc.OP_SOFTMAX, kernel=("reduce", "softmax"),
            params=lambda ctx: {"axis": ctx}, method=True,
            doc="y = exp(a) / sum(exp(a)) along axis"))
register(Op("log_softmax", lambda a, axis: a - _lse_forward(a, (axis,), True),
            (lambda g, y, a, axis: g - k.exp(y) * k.sum(g, axis, True),),
            (lambda t, y, a, axis: t - k.sum(k.exp(y) * t, axis, True),),
            function="log_softmax", code=oc.OP_LOG_SOFTMAX, kernel=("reduce", "log_softmax"),
            params=lambda ctx: {"axis": ctx}, method=True,
            doc="y = a - logsumexp(a) along axis"))


# ---------------------------------------------------------------- shape

def shape_op(name, code, forward, vjp, jvp, *, function=None, params=None, kernel=None,
             doc=""):
    return register(Op(name, forward, vjp, jvp, function=function, code=code,
                       kernel=kernel or ("shape", function or name), params=params, doc=doc))


shape_op("reshape", oc.OP_RESHAPE, np.reshape,
         (lambda g, y, a: k.reshape(g, a.data.shape),),
         (lambda t, y, a: k.reshape(t, y.data.shape),), function="reshape",
         doc="y = a with a new shape")


def _inverse(axes):
    return None if axes is None else tuple(int(i) for i in np.argsort(axes))


shape_op("transpose", oc.OP_TRANSPOSE, np.transpose,
         (lambda g, y, a, axes: k.transpose(g, _inverse(axes)),),
         (lambda t, y, a, axes: k.transpose(t, axes),), function="transpose",
         params=lambda ctx: {"axes": ctx}, doc="y = a with its axes permuted")


def _untake(g, index, a):
    shape = a.data.shape
    s = index[0] if type(index) is tuple and len(index) == 1 else index
    if type(s) is slice and shape and s.step in (None, 1):
        # a[start:stop]: g between blocks of zeros (a compiled concatenation, whose own VJP
        # is a slice), instead of the general untake
        start, stop, _ = s.indices(shape[0])
        stop = max(stop, start)
        dtype = g.data.dtype
        parts = [g]
        if start:
            parts.insert(0, np.zeros((start,) + shape[1:], dtype))
        if stop < shape[0]:
            parts.append(np.zeros((shape[0] - stop,) + shape[1:], dtype))
        return k.concatenate(parts, 0) if len(parts) > 1 else g
    from .python import untake
    return untake(g, index, a.data.shape)


shape_op("getitem", oc.OP_GETITEM, lambda a, index: a[index],
         (lambda g, y, a, index: _untake(g, index, a),),
         (lambda t, y, a, index: k.getitem(t, index),), params=lambda ctx: {"index": ctx},
         doc="y = a[index]")


def _concat_vjp(i, g, y, *args, axis):
    """argument i's slice of g along axis"""
    start = 0
    for arg in args[:i]:
        start += arg.data.shape[axis]
    stop = start + args[i].data.shape[axis]
    return k.getitem(g, (slice(None),) * axis + (slice(start, stop),))


def _zeros_for(tangents, args):
    return [t if t is not None else np.zeros_like(a.data) for t, a in zip(tangents, args)]


shape_op("concat", oc.OP_CONCAT, lambda *args, axis: np.concatenate(args, axis), _concat_vjp,
         lambda ts, y, *args, axis: k.concatenate(_zeros_for(ts, args), axis),
         function="concatenate", kernel=("shape", "concatenate"),
         params=lambda ctx: {"axis": ctx}, doc="y = the arguments joined along axis")
shape_op("stack", oc.OP_STACK, lambda *args, axis: np.stack(args, axis),
         lambda i, g, y, *args, axis: k.getitem(g, (slice(None),) * axis + (i,)),
         lambda ts, y, *args, axis: k.stack(_zeros_for(ts, args), axis),
         function="stack", params=lambda ctx: {"axis": ctx},
         doc="y = the arguments stacked along a new axis")
shape_op("broadcast", oc.OP_BROADCAST, np.broadcast_to,
         (lambda g, y, a: g,), (lambda t, y, a: k.broadcast_to(t, y.data.shape),),
         function="broadcast_to", kernel=("shape", "broadcast_to"),
         doc="y = a broadcast to a shape (the gradient is summed back)")
shape_op("astype", oc.OP_ASTYPE, lambda a, dtype: a.astype(dtype),
         (lambda g, y, a: k.astype(g, a.data.dtype),),
         (lambda t, y, a: k.astype(t, y.data.dtype),), function="astype",
         doc="y = a in another float dtype")


# ---------------------------------------------------------------- matrix product

def _matmul_vjp_a(g, y, a, b):
    """g @ b^T (1-D operands promoted)"""
    A, B = a.data, b.data
    if A.ndim == 1 and B.ndim == 1:
        return g * b
    if A.ndim == 1 and B.ndim == 2:   # (k,) @ (k, n) -> (n,): b @ g
        return k.matmul(b, g)
    if A.ndim == 1:   # (k,) @ (..., k, n) -> (..., n)
        return k.getitem(k.matmul(k.getitem(g, (Ellipsis, None, slice(None))), k.swap_last(b)),
                         (Ellipsis, 0, slice(None)))
    if B.ndim == 1:   # (..., m, k) @ (k,) -> (..., m)
        return k.getitem(g, (Ellipsis, slice(None), None)) * b
    return k.matmul(g, k.swap_last(b))


def _matmul_vjp_b(g, y, a, b):
    """a^T @ g (1-D operands promoted)"""
    A, B = a.data, b.data
    if A.ndim == 1 and B.ndim == 1:
        return g * a
    if A.ndim == 1:   # the outer product a g (stacked over b's leading axes)
        return k.reshape(a, (A.shape[0], 1)) * k.getitem(g, (Ellipsis, None, slice(None))) \
            if g.data.ndim > 1 else k.reshape(a, (A.shape[0], 1)) * g
    if B.ndim == 1:
        return k.getitem(k.matmul(k.swap_last(a), k.getitem(g, (Ellipsis, slice(None), None))),
                         (Ellipsis, 0))
    return k.matmul(k.swap_last(a), g)


register(Op("matmul", np.matmul, (_matmul_vjp_a, _matmul_vjp_b),
            (lambda t, y, a, b: k.matmul(t, b), lambda t, y, a, b: k.matmul(a, t)),
            function="matmul", code=oc.OP_MATMUL, kernel=("linalg", "matmul"),
            numpy="matmul", doc="y = a @ b"))


# ---------------------------------------------------------------- user primitives
# (fastgrad.extend.primitive): their rules are the user's defvjp/defjvp makers; the engine
# reads them from the node, so the entry holds none.

register(Op("custom", None, None, None, code=oc.OP_CUSTOM,
            doc="a primitive defined with fastgrad.extend (or a table op without a kernel)"))


# ---------------------------------------------------------------- fused dense layer

ACTIVATIONS = ("none", "tanh", "relu", "sigmoid")  # by the kernels' activation code


def _act_slope(y, act):
    """act'(z) in terms of y = act(z), in fastgrad ops (None for no activation)."""
    if act == 1:
        return 1 - y * y
    if act == 2:
        return _mask(y.data > 0, y)
    if act == 3:
        return y * (1 - y)
    return None


def _dense_gz(g, y, act):
    slope = _act_slope(y, act)
    return g if slope is None else g * slope


def _rows(x):
    return k.reshape(x, (-1, x.data.shape[-1]))


def _dense_vjp(i, g, y, x, W, b=None, *, act):
    """gz = g act'(y); gx = gz W^T, gW = x^T gz, gb = sum_rows gz"""
    gz = _dense_gz(g, y, act)
    if i == 0:
        return k.matmul(gz, k.transpose(W, None))
    if i == 1:
        return k.matmul(k.transpose(_rows(x), None), _rows(gz))
    return k.sum(_rows(gz), (0,), False)


def _dense_jvp(ts, y, x, W, b=None, *, act):
    """ty = act'(y) (tx W + x tW + tb)"""
    tz = None
    if ts[0] is not None:
        tz = k.matmul(ts[0], W)
    if ts[1] is not None:
        c = k.matmul(x, ts[1])
        tz = c if tz is None else tz + c
    if len(ts) > 2 and ts[2] is not None:
        tz = ts[2] if tz is None else tz + ts[2]
    if tz is None:
        return None
    slope = _act_slope(y, act)
    return tz if slope is None else tz * slope


def _dense_forward(x, W, b=None, *, act):
    """act(x @ W + b)"""
    z = x @ W + (0 if b is None else b)
    return [z, np.tanh(z), np.maximum(z, 0), 1 / (1 + np.exp(-z))][act]


register(Op("dense", _dense_forward, _dense_vjp, _dense_jvp, function="dense", code=oc.OP_DENSE,
            kernel=("dense", "dense"), params=lambda ctx: {"act": int(ctx)},
            doc="y = act(x @ W + b), one node (its rules are those of the composite)"))


# ---------------------------------------------------------------- fused losses

def _reduced(L, reduction):
    if reduction == "none":
        return L
    return k.mean(L, None, False) if reduction == "mean" else k.sum(L, None, False)


def _scaled(G, g, reduction, count, per_row=False):
    """G (one row or element per loss) times the loss's gradient g."""
    if reduction == "none":
        return G * (k.reshape(g, (-1, 1)) if per_row else g)
    return G * (g / float(count)) if reduction == "mean" else G * g


def _ce_params(ctx):
    return {"labels": ctx[1], "T": ctx[2], "reduction": ctx[3]}


def _ce_slope(z, labels, T):
    """d(loss per row)/dz = softmax(z) * sum(T) - T (T the one-hot rows of the labels)."""
    P = k.softmax(z, 1)
    if labels is not None:
        onehot = np.zeros(z.data.shape, z.data.dtype)
        onehot[np.arange(len(labels)), labels] = 1
        return P - onehot
    return P * T.sum(axis=1, keepdims=True) - T


def _ce_forward(z, labels=None, T=None, reduction="mean"):
    """reduce(logsumexp(z) - z[label]) (or sum T (logsumexp(z) - z)) by rows"""
    lse = _lse_forward(z, (1,), True)
    if labels is not None:
        L = lse[:, 0] - z[np.arange(len(labels)), labels]
    else:
        L = np.sum(T * (lse - z), axis=1)
    return L if reduction == "none" else (L.mean() if reduction == "mean" else L.sum())


register(Op("softmax_ce", _ce_forward,
            (lambda g, y, z, labels, T, reduction: _scaled(_ce_slope(z, labels, T), g,
                                                           reduction, z.data.shape[0], True),),
            (lambda t, y, z, labels, T, reduction: _reduced(
                k.sum(_ce_slope(z, labels, T) * t, (1,), False), reduction),),
            function="softmax_cross_entropy", code=oc.OP_SOFTMAX_CE,
            kernel=("losses", "softmax_cross_entropy"), params=_ce_params,
            doc="y = reduce(logsumexp(z) - z[label]) by rows"))


def _bce_forward(z, T, reduction="mean"):
    """reduce(max(z, 0) - z T + log1p(e^-|z|))"""
    L = np.maximum(z, 0) - z * T + np.log1p(np.exp(-np.abs(z)))
    return L if reduction == "none" else (L.mean() if reduction == "mean" else L.sum())


register(Op("bce_logits", _bce_forward,
            (lambda g, y, z, T, reduction: _scaled(k.sigmoid(z) - T, g, reduction,
                                                   z.data.size),),
            (lambda t, y, z, T, reduction: _reduced((k.sigmoid(z) - T) * t, reduction),),
            function="binary_cross_entropy_with_logits", code=oc.OP_BCE_LOGITS,
            kernel=("losses", "binary_cross_entropy_with_logits"),
            params=lambda ctx: {"T": ctx[0], "reduction": ctx[2]},
            doc="y = reduce(max(z, 0) - z t + log(1 + e^-|z|))"))


def _as_input(t, p):
    """The target node in the input's shape ((N,) meets (N, 1))."""
    return t if t.data.shape == p.data.shape else k.reshape(t, p.data.shape)


def _mse_vjp_p(g, y, p, t, reduction):
    return _scaled(2.0 * (p - _as_input(t, p)), g, reduction, p.data.size)


def _mse_vjp_t(g, y, p, t, reduction):
    return k.reshape(-_mse_vjp_p(g, y, p, t, reduction), t.data.shape)


def _mse_jvp(ts, y, p, t, reduction):
    """reduce(2 (p - t) (tp - tt))"""
    d = 2.0 * (p - _as_input(t, p))
    tp = ts[0]
    if ts[1] is not None:
        tt = _as_input(ts[1], p) if hasattr(ts[1], "data") else ts[1].reshape(p.data.shape)
        tp = -tt if tp is None else tp - tt
    return _reduced(d * tp, reduction)


def _mse_forward(p, t, reduction="mean"):
    """reduce((p - t)^2)"""
    L = (p - t.reshape(p.shape)) ** 2
    return L if reduction == "none" else (L.mean() if reduction == "mean" else L.sum())


register(Op("mse", _mse_forward, (_mse_vjp_p, _mse_vjp_t), _mse_jvp, function="mse_loss",
            code=oc.OP_MSE, kernel=("losses", "mse_loss"),
            params=lambda ctx: {"reduction": ctx[1]}, doc="y = reduce((p - t)^2)"))


def _hinge_slope(s, T, M):
    """d(loss)/ds = -t [1 - t s > 0], a constant."""
    return (-(T * (M > 0))).astype(s.data.dtype)


def _hinge_forward(s, T, reduction="mean"):
    """reduce(max(0, 1 - T s))"""
    L = np.maximum(1 - T * s, 0)
    return L if reduction == "none" else (L.mean() if reduction == "mean" else L.sum())


register(Op("hinge", _hinge_forward,
            (lambda g, y, s, T, M, reduction: _scaled(_hinge_slope(s, T, M), g, reduction,
                                                      s.data.size),),
            (lambda t, y, s, T, M, reduction: _reduced(t * _hinge_slope(s, T, M), reduction),),
            function="hinge_loss", code=oc.OP_HINGE, kernel=("losses", "hinge_loss"),
            params=lambda ctx: {"T": ctx[0], "M": ctx[1], "reduction": ctx[2]},
            doc="y = reduce(max(0, 1 - t s))"))
