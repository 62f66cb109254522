"""The functions of ``fastgrad.numpy``, bound to the active backend once, at import.

Every function here looks at its arguments once: if one is a traced value (a Tensor of this
backend, or a list or tuple holding one) it calls the engine's op, which records the graph;
otherwise it calls numpy's own function with the arguments untouched, so that plain arrays give
exactly what numpy gives. Why a Python dispatch of our own rather than numpy's
``__array_ufunc__``/``__array_function__`` protocols (which Tensor also implements): the
protocols cost 0.3-0.5 us per call on top of the op, about twice what this costs, and they
cannot catch the numpy functions that ignore them (``np.asarray`` of a traced value would
silently drop the graph). The hot ones (ufuncs, sum, max, dot) take numpy's own signatures so
that no ``**kwargs`` dict is built per call.

Functions numpy has and this module does not list come from numpy unchanged (constants, dtypes,
``random``, array creation), with one guard: called on a traced value, a numpy function without
a gradient raises a TypeError naming it.
"""
import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from .. import ops
from .._backend import active
from ..ops import UFUNC_OPS as OPS_BY_NUMPY
from ..tensor import Tensor  # noqa: F401  (ops on the active backend return it)

NoValue = np._NoValue
SEQUENCES = (list, tuple)
FLOAT_TYPES = (np.dtype(np.float32), np.dtype(np.float64))

# Plain ufunc keyword defaults: passing exactly these with a traced value is allowed.
UFUNC_DEFAULTS = {"out": None, "where": True, "casting": "same_kind", "order": "K",
                  "dtype": None, "subok": True, "signature": None}

# numpy functions that are not differentiable but are fine on traced values: they look at the
# values only (autograd's list of "nograd" functions, and the *_like constructors).
NOGRAD = [
    "floor", "ceil", "round", "around", "rint", "fix", "trunc", "all", "any", "argmax", "argmin",
    "argpartition", "argsort", "argwhere", "nonzero", "flatnonzero", "count_nonzero",
    "searchsorted", "sign", "ndim", "shape", "size", "floor_divide", "logical_and", "logical_or",
    "logical_not", "logical_xor", "isfinite", "isinf", "isnan", "isneginf", "isposinf", "allclose",
    "isclose", "array_equal", "array_equiv", "greater", "greater_equal", "less", "less_equal",
    "equal", "not_equal", "iscomplexobj", "iscomplex", "isscalar", "isreal", "isrealobj",
    "zeros_like", "ones_like", "empty_like", "full_like", "result_type", "signbit", "heaviside"
]

UFUNC_ATTRIBUTES = ("reduce", "accumulate", "outer", "at", "reduceat", "nin", "nout", "nargs",
                    "identity", "ntypes", "types", "signature")


def named(f, name, like):
    """Give the wrapper numpy's name and docstring (and a ufunc's methods, for plain use)."""
    f.__name__ = f.__qualname__ = name
    f.__doc__ = getattr(like, "__doc__", None)
    f.__module__ = "fastgrad.numpy"
    f.__wrapped__ = like
    if isinstance(like, np.ufunc):
        for attr in UFUNC_ATTRIBUTES:
            setattr(f, attr, getattr(like, attr))
    return f


def unsupported(name, what):
    return TypeError(f"fastgrad.numpy.{name}: {what} is not supported on traced values "
                     f"(inside grad); apply numpy to plain arrays for that")


def check_ufunc_options(name, args, kwargs):
    """Extra ufunc arguments with a traced value: only their defaults are accepted."""
    if args and not (len(args) == 1 and args[0] is None):
        raise unsupported(name, "out=")
    for key, value in kwargs.items():
        default = UFUNC_DEFAULTS.get(key, NoValue)
        if not (value is default or (type(value) is str and value == default)):
            raise unsupported(name, f"{key}=")


def normalize_keepdims(keepdims):
    return False if keepdims is NoValue else bool(keepdims)


# ---------------------------------------------------------------- the active backend's functions

Node = active.node.Node
ew, rd, sh, la = active.elementwise, active.reduce, active.shape, active.linalg
# the hot functions' common case (a traced value, no options) skips the Python below
front = active.dispatch
table_functions = ops.PUBLIC
# name -> function: the differentiable part of fastgrad.numpy
fns = {}

# -------------------------------------------------------------- traced lists


def holds_node(seq):
    """True when the list or tuple ``seq`` holds a traced value (at any depth)."""
    for item in seq:
        if isinstance(item, Node) or (type(item) in SEQUENCES and holds_node(item)):
            return True
    return False


def nested(obj):
    """``np.array(obj)`` for a (nested) list holding traced values: stacked, with the
    constants taking the traced values' dtype."""
    if isinstance(obj, Node):
        return obj
    if type(obj) in SEQUENCES:
        if not holds_node(obj):
            return obj
        return sh.stack([nested(item) for item in obj], 0)
    return obj


def lifted(x):
    """A list or tuple holding traced values as one traced array; anything else as is."""
    if type(x) in SEQUENCES and holds_node(x):
        return nested(x)
    return x


def traced(args, kwargs):
    """True when a positional argument (or an item of a list or tuple one) or a keyword
    argument is a traced value."""
    for a in args:
        if isinstance(a, Node) or (type(a) in SEQUENCES and holds_node(a)):
            return True
    if kwargs:
        for a in kwargs.values():
            if isinstance(a, Node) or (type(a) in SEQUENCES and holds_node(a)):
                return True
    return False


def values(x):
    """The plain values of ``x`` (traced values replaced by their data)."""
    if isinstance(x, Node):
        return x.data
    if type(x) in SEQUENCES and holds_node(x):
        return type(x)(values(v) for v in x)
    return x


def reshape_any(x, shape):
    """Reshape a traced value with the op, a plain one with numpy (so that it stays a
    constant of the traced operand's dtype when they meet)."""
    return sh.reshape(x, shape) if isinstance(x, Node) else np.reshape(x, shape)


def ndim_of(x):
    return x.data.ndim if isinstance(x, Node) else np.ndim(x)


def shape_of(x):
    return x.data.shape if isinstance(x, Node) else np.shape(x)

# -------------------------------------------------------------- elementwise


def unary(name, ufunc, op):
    def f(x, *args, **kwargs):
        if isinstance(x, Node):
            if args or kwargs:
                check_ufunc_options(name, args, kwargs)
            return op(x)
        if type(x) in SEQUENCES and holds_node(x):
            return f(nested(x), *args, **kwargs)
        return ufunc(x, *args, **kwargs)
    fns[name] = named(front.unary(op, f), name, ufunc)


def binary(name, ufunc, op):
    def f(a, b, *args, **kwargs):
        if isinstance(a, Node) or isinstance(b, Node):
            if args or kwargs:
                check_ufunc_options(name, args, kwargs)
            return op(a, b)
        if (type(a) in SEQUENCES and holds_node(a)) or \
                (type(b) in SEQUENCES and holds_node(b)):
            return f(lifted(a), lifted(b), *args, **kwargs)
        return ufunc(a, b, *args, **kwargs)
    fns[name] = named(front.binary(op, f), name, ufunc)


# every elementwise entry of the op table that numpy has
for name, op in ops.UFUNC_FUNCTIONS.items():
    (unary if OPS_BY_NUMPY[name].nargs == 1 else binary)(name, getattr(np, name), op)
for name, op in {"positive": lambda x: x, "square": lambda x: ew.power(x, 2.0),
                 "reciprocal": lambda x: ew.div(1.0, x)}.items():
    unary(name, getattr(np, name), op)
fns["abs"] = fns["fabs"] = fns["absolute"]
fns["true_divide"] = fns["divide"]
fns["pow"] = fns["power"]

# -------------------------------------------------------------- reductions

# the hot reductions: one test for the usual call
unset, rd_sum, rd_mean = NoValue, rd.sum, rd.mean


def _sum(a, axis=None, dtype=None, out=None, keepdims=NoValue, initial=NoValue,
        where=NoValue):
    if isinstance(a, Node):
        if out is not None or initial is not unset or where is not unset:
            raise unsupported("sum", "out=, initial= or where=")
        if dtype is not None and np.dtype(dtype) != a.data.dtype:
            raise unsupported("sum", "a dtype= other than the value's")
        return rd_sum(a, axis, keepdims is not unset and bool(keepdims))
    if type(a) in SEQUENCES and holds_node(a):
        return _sum(nested(a), axis, dtype, out, keepdims, initial, where)
    return np.sum(a, axis, dtype, out, keepdims, initial, where)


def _mean(a, axis=None, dtype=None, out=None, keepdims=NoValue, *, where=NoValue):
    if isinstance(a, Node):
        if out is not None or where is not unset:
            raise unsupported("mean", "out= or where=")
        if dtype is not None and np.dtype(dtype) != a.data.dtype:
            raise unsupported("mean", "a dtype= other than the value's")
        return rd_mean(a, axis, keepdims is not unset and bool(keepdims))
    if type(a) in SEQUENCES and holds_node(a):
        return _mean(nested(a), axis, dtype, out, keepdims, where=where)
    return np.mean(a, axis, dtype, out, keepdims, where=where)


def extreme(name, numpy_fn, op):
    def f(a, axis=None, out=None, keepdims=NoValue, initial=NoValue, where=NoValue):
        if isinstance(a, Node):
            if out is not None or initial is not unset or where is not unset:
                raise unsupported(name, "out=, initial= or where=")
            return op(a, axis, keepdims is not unset and bool(keepdims))
        if type(a) in SEQUENCES and holds_node(a):
            return f(nested(a), axis, out, keepdims, initial, where)
        return numpy_fn(a, axis, out, keepdims, initial, where)
    fns[name] = named(front.extreme(op, f), name, numpy_fn)


extreme("max", np.max, rd.max)
extreme("min", np.min, rd.min)
fns["amax"], fns["amin"] = fns["max"], fns["min"]
fns["sum"] = named(front.summing(rd_sum, _sum), "sum", np.sum)
fns["mean"] = named(front.averaging(rd_mean, _mean), "mean", np.mean)


def variance(name, a, axis, dtype, out, ddof, keepdims, where, mean_, correction):
    """mean((a - mean(a))**2) * n / (n - ddof), in numpy's order of operations."""
    if out is not None or where is not NoValue or mean_ is not NoValue:
        raise unsupported(name, "out=, where= or mean=")
    if dtype is not None and np.dtype(dtype) != a.data.dtype:
        raise unsupported(name, "a dtype= other than the value's")
    if correction is not NoValue:
        if ddof != 0:
            raise ValueError(f"{name}: ddof and correction can't be provided "
                             f"simultaneously.")
        ddof = correction
    keep = normalize_keepdims(keepdims)
    shape = a.data.shape
    axes = tuple(range(len(shape))) if axis is None else normalize_axis_tuple(
        axis, len(shape))
    count = 1
    for ax in axes:
        count *= shape[ax]
    centred = a - rd.mean(a, axes, True)
    if centred.data.dtype.kind == "c":  # numpy's variance of complex values: |a - mean|^2
        from ..ops.complex_ops import conj, real
        return rd.sum(real(conj(centred) * centred), axes, keep) / float(
            max(count - ddof, 0))
    return rd.sum(centred * centred, axes, keep) / float(max(count - ddof, 0))


def var_t(a, axis=None, dtype=None, out=None, ddof=0, keepdims=NoValue, *,
          where=NoValue, mean=NoValue, correction=NoValue):
    return variance("var", lifted(a), axis, dtype, out, ddof, keepdims, where, mean,
                    correction)


def std_t(a, axis=None, dtype=None, out=None, ddof=0, keepdims=NoValue, *,
          where=NoValue, mean=NoValue, correction=NoValue):
    var = variance("std", lifted(a), axis, dtype, out, ddof, keepdims, where, mean,
                   correction)
    zero = var.data == 0
    if not zero.any():
        return ew.sqrt(var)
    # autograd's convention: the slope of sqrt at 0 is taken as 0 (a constant's std)
    return ew.where(zero, 0.0, ew.sqrt(ew.where(zero, 1.0, var)))

# -------------------------------------------------------------- generic dispatch


def dispatch(name, numpy_fn, tensor_fn):
    """``tensor_fn`` when an argument is traced, else numpy's function."""
    def f(*args, **kwargs):
        if traced(args, kwargs):
            return tensor_fn(*args, **kwargs)
        return numpy_fn(*args, **kwargs)
    fns[name] = named(f, name, numpy_fn)


dispatch("var", np.var, var_t)
dispatch("std", np.std, std_t)

# -------------------------------------------------------------- shape


def reshape_t(a, shape=None, order="C", *, newshape=None, copy=None):
    if order != "C":
        raise unsupported("reshape", f"order={order!r}")
    if shape is None:
        shape = newshape
    if shape is None:
        raise TypeError("reshape() missing required argument 'shape'")
    return sh.reshape(lifted(a), shape)


def ravel_t(a, order="C"):
    if order not in ("C", "K", "A"):
        raise unsupported("ravel", f"order={order!r}")
    return sh.reshape(lifted(a), (-1,))


def transpose_t(a, axes=None):
    return sh.transpose(lifted(a), axes)


def swapaxes_t(a, axis1, axis2):
    a = lifted(a)
    ndim = a.data.ndim
    i, j = normalize_axis_tuple((axis1, axis2), ndim, allow_duplicate=True)
    perm = list(range(ndim))
    perm[i], perm[j] = perm[j], perm[i]
    return sh.transpose(a, perm)


def moveaxis_t(a, source, destination):
    a = lifted(a)
    ndim = a.data.ndim
    source = normalize_axis_tuple(source, ndim, "source")
    destination = normalize_axis_tuple(destination, ndim, "destination")
    if len(source) != len(destination):
        raise ValueError("`source` and `destination` arguments must have the same "
                         "number of elements")
    order = [n for n in range(ndim) if n not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return sh.transpose(a, order)


def expand_dims_t(a, axis):
    a = lifted(a)
    axes = axis if type(axis) in SEQUENCES else (axis,)
    ndim = len(axes) + a.data.ndim
    axes = normalize_axis_tuple(axes, ndim)
    sizes = iter(a.data.shape)
    return sh.reshape(a, tuple(1 if ax in axes else next(sizes) for ax in range(ndim)))


def squeeze_t(a, axis=None):
    a = lifted(a)
    shape = a.data.shape
    if axis is None:
        return sh.reshape(a, tuple(n for n in shape if n != 1))
    axes = normalize_axis_tuple(axis, len(shape))
    for ax in axes:
        if shape[ax] != 1:
            raise ValueError("cannot select an axis to squeeze out which has size not "
                             "equal to one")
    return sh.reshape(a, tuple(n for i, n in enumerate(shape) if i not in axes))


def broadcast_to_t(array, shape, subok=False):
    return sh.broadcast_to(lifted(array), shape)


def check_join_options(name, out, dtype, casting):
    if out is not None:
        raise unsupported(name, "out=")
    if casting != "same_kind":
        raise unsupported(name, "casting=")


def join_dtype(name, arrays, dtype):
    if dtype is None:
        return arrays
    dtype = np.dtype(dtype)
    if dtype not in FLOAT_TYPES:
        raise unsupported(name, f"dtype={dtype}")
    return [sh.astype(x, dtype) if isinstance(x, Node) else np.asarray(x, dtype)
            for x in arrays]


def concatenate_t(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    check_join_options("concatenate", out, dtype, casting)
    arrays = join_dtype("concatenate", [nested(x) for x in arrays], dtype)
    if axis is None:
        arrays = [reshape_any(x, (-1,)) for x in arrays]
        axis = 0
    return sh.concatenate(arrays, axis)


def stack_t(arrays, axis=0, out=None, *, dtype=None, casting="same_kind"):
    check_join_options("stack", out, dtype, casting)
    return sh.stack(join_dtype("stack", [nested(x) for x in arrays], dtype), axis)


def at_least(x, ndim):
    x = nested(x)
    n = ndim_of(x)
    if n >= ndim:
        return x
    shape = shape_of(x)
    if ndim == 1 or n == 0:
        return reshape_any(x, (1,) * (ndim - n) + shape)
    return reshape_any(x, (1,) + shape)  # atleast_2d of a 1-D array: a row


def atleast_1d_t(*arys):
    out = [at_least(x, 1) for x in arys]
    return out[0] if len(out) == 1 else tuple(out)


def atleast_2d_t(*arys):
    out = [at_least(x, 2) for x in arys]
    return out[0] if len(out) == 1 else tuple(out)


def hstack_t(tup, *, dtype=None, casting="same_kind"):
    arrays = [at_least(x, 1) for x in tup]
    axis = 0 if arrays and ndim_of(arrays[0]) == 1 else 1
    return concatenate_t(arrays, axis, dtype=dtype, casting=casting)


def vstack_t(tup, *, dtype=None, casting="same_kind"):
    return concatenate_t([at_least(x, 2) for x in tup], 0, dtype=dtype, casting=casting)


def column_stack_t(tup):
    columns = []
    for x in tup:
        x = nested(x)
        if ndim_of(x) < 2:
            x = reshape_any(x, (-1, 1))
        columns.append(x)
    return sh.concatenate(columns, 1)


for name, tensor_fn in {"reshape": reshape_t, "ravel": ravel_t, "transpose": transpose_t,
                        "swapaxes": swapaxes_t, "moveaxis": moveaxis_t,
                        "expand_dims": expand_dims_t, "squeeze": squeeze_t,
                        "broadcast_to": broadcast_to_t, "concatenate": concatenate_t,
                        "stack": stack_t, "hstack": hstack_t, "vstack": vstack_t,
                        "column_stack": column_stack_t, "atleast_1d": atleast_1d_t,
                        "atleast_2d": atleast_2d_t}.items():
    dispatch(name, getattr(np, name), tensor_fn)
fns["row_stack"] = fns["vstack"]

# -------------------------------------------------------------- products


def _dot(a, b, out=None):
    if isinstance(a, Node) or isinstance(b, Node):
        if out is not None:
            raise unsupported("dot", "out=")
        na = a.data.ndim if isinstance(a, Node) else np.ndim(values(a))
        nb = b.data.ndim if isinstance(b, Node) else np.ndim(values(b))
        if na >= 1 and nb >= 1 and max(na, nb) > 2:
            # numpy's N-d dot: a's last axis against b's second-to-last (its only, for 1-D)
            return fns["tensordot"](a, b, ([na - 1], [max(nb - 2, 0)]))
        return la.dot(a, b)
    if (type(a) in SEQUENCES and holds_node(a)) or (type(b) in SEQUENCES and holds_node(b)):
        return _dot(lifted(a), lifted(b), out)
    return np.dot(a, b, out)


fns["dot"] = named(front.product(la.dot, _dot), "dot", np.dot)


def outer_t(a, b, out=None):
    if out is not None:
        raise unsupported("outer", "out=")
    column = reshape_any(nested(a), (-1, 1))
    row = reshape_any(nested(b), (1, -1))
    return ew.mul(column, row)


def inner_t(a, b):
    a, b = nested(a), nested(b)
    if ndim_of(a) == 0 or ndim_of(b) == 0:
        return ew.mul(a, b)
    if ndim_of(b) == 1:
        return la.dot(a, b)
    if ndim_of(b) == 2 and ndim_of(a) <= 2:
        return la.matmul(a, swapaxes_t(b, 0, 1) if isinstance(b, Node) else np.swapaxes(
            b, 0, 1))
    raise NotImplementedError(f"fastgrad.numpy.inner: shapes {shape_of(a)} and "
                              f"{shape_of(b)}: inner of a traced value with a second "
                              f"operand of more than two dimensions is not supported")


dispatch("outer", np.outer, outer_t)
dispatch("inner", np.inner, inner_t)
dispatch("vdot", np.vdot, lambda a, b: la.dot(reshape_any(nested(a), (-1,)),
                                              reshape_any(nested(b), (-1,))))

# -------------------------------------------------------------- selection


def where_t(condition, x=NoValue, y=NoValue):
    if x is NoValue and y is NoValue:  # where(condition): the indices, not differentiable
        return np.where(condition.data if isinstance(condition, Node) else condition)
    if x is NoValue or y is NoValue:
        raise ValueError("either both or neither of x and y should be given")
    return ew.where(condition, nested(x), nested(y))


def _where(condition, x=NoValue, y=NoValue):
    if isinstance(x, Node) or isinstance(y, Node) or \
            (type(x) in SEQUENCES and holds_node(x)) or \
            (type(y) in SEQUENCES and holds_node(y)):
        return where_t(condition, x, y)
    condition = values(condition)  # a traced condition selects by its values
    if x is NoValue and y is NoValue:
        return np.where(condition)
    if x is NoValue or y is NoValue:  # numpy's own error
        return np.where(condition, x) if y is NoValue else np.where(condition, x, y)
    if type(condition) in (bool, np.bool_) and not isinstance(x, np.ndarray) \
            and not isinstance(y, np.ndarray):
        # autograd's where: a Python-level choice between two non-arrays returns the
        # chosen one itself (an int stays an int, a list a list), not a 0-d array
        return x if condition else y
    return np.where(condition, x, y)


fns["where"] = named(_where, "where", np.where)


def clip_t(a, a_min=NoValue, a_max=NoValue, out=None, *, min=NoValue, max=NoValue,
           **kwargs):
    if out is not None or kwargs:
        raise unsupported("clip", "out= or ufunc options")
    lo = min if a_min is NoValue else a_min
    hi = max if a_max is NoValue else a_max
    lo = None if lo is NoValue else lo
    hi = None if hi is NoValue else hi
    if isinstance(lo, Node) or isinstance(hi, Node):
        raise unsupported("clip", "a traced bound (use maximum/minimum)")
    return ew.clip(lifted(a), lo, hi)


dispatch("clip", np.clip, clip_t)

# -------------------------------------------------------------- making arrays


def array_t(obj, dtype=None, *args, copy=True, order="K", subok=False, ndmin=0, **kwargs):
    x = nested(obj)
    if not isinstance(x, Node):  # a traced value only in a keyword: no array to trace
        return np.array(obj, dtype, *args, copy=copy, order=order, subok=subok,
                        ndmin=ndmin, **kwargs)
    if dtype is not None and np.dtype(dtype) != x.data.dtype:
        dtype = np.dtype(dtype)
        if dtype not in FLOAT_TYPES:
            raise unsupported("array", f"dtype={dtype} (traced values are float32 or "
                                       f"float64)")
        x = sh.astype(x, dtype)
    if ndmin > x.data.ndim:
        x = sh.reshape(x, (1,) * (ndmin - x.data.ndim) + x.data.shape)
    return x


def asarray_t(a, dtype=None, *args, **kwargs):
    return array_t(a, dtype)


dispatch("array", np.array, array_t)
for name in ("asarray", "asanyarray", "ascontiguousarray", "asfortranarray"):
    dispatch(name, getattr(np, name), asarray_t)
dispatch("copy", np.copy, lambda a, *args, **kwargs: nested(a))

# -------------------------------------------------------------- values only


def nograd(name, numpy_fn):
    def f(*args, **kwargs):
        if traced(args, kwargs):
            args = [values(a) for a in args]
            kwargs = {k: values(v) for k, v in kwargs.items()}
        return numpy_fn(*args, **kwargs)
    fns[name] = named(f, name, numpy_fn)


for name in NOGRAD:
    if hasattr(np, name):
        nograd(name, getattr(np, name))

# -------------------------------------------------------------- table ops with parameters


def cumsum_t(a, axis=None, dtype=None, out=None):
    if dtype is not None or out is not None:
        raise unsupported("cumsum", "dtype= or out=")
    return table_functions["cumsum"](lifted(a), axis)


dispatch("cumsum", np.cumsum, cumsum_t)


def prod_t(a, axis=None, dtype=None, out=None, keepdims=NoValue, **unused):
    """The product as a chain of multiplications along the axes (a composite: it
    differentiates to any order, zeros included)."""
    if dtype is not None or out is not None or unused:
        raise unsupported("prod", "dtype=, out=, initial= or where=")
    a = lifted(a)
    keep = normalize_keepdims(keepdims)
    ndim = a.data.ndim
    axes = tuple(range(ndim)) if axis is None else normalize_axis_tuple(axis, ndim)
    rest = [ax for ax in range(ndim) if ax not in axes]
    moved = sh.transpose(a, rest + list(axes))
    shape = moved.data.shape
    rows = sh.reshape(moved, shape[:len(rest)] + (-1,))
    n = rows.data.shape[-1]
    total = None
    for i in range(n):
        item = sh.getitem(rows, (Ellipsis, i))
        total = item if total is None else ew.mul(total, item)
    if total is None:
        total = ew.add(rd.sum(rows, -1, False), 1.0)
    if keep:
        total = sh.reshape(total, tuple(1 if ax in axes else m
                                        for ax, m in enumerate(a.data.shape)))
    return total


dispatch("prod", np.prod, prod_t)
# fastgrad/numpy/_functions.py (imported next by fastgrad/numpy/__init__.py) adds the composites
FUNCTIONS = fns


def guard(name, numpy_fn, node_types):
    """numpy's ``numpy_fn``, refusing traced values (it has no gradient in fastgrad)."""
    def holds(seq):
        for item in seq:
            if isinstance(item, node_types()) or (type(item) in SEQUENCES and holds(item)):
                return True
        return False

    def f(*args, **kwargs):
        nodes = node_types()
        for a in (*args, *kwargs.values()):
            if isinstance(a, nodes) or (type(a) in SEQUENCES and holds(a)):
                raise TypeError(
                    f"fastgrad.numpy.{name}: numpy.{name} has no gradient in fastgrad, so it "
                    f"cannot be applied to a traced value (inside grad). Write it with the "
                    f"differentiable functions, or define it with fastgrad.extend.primitive "
                    f"and defvjp")
        return numpy_fn(*args, **kwargs)
    return named(f, name, numpy_fn)
