"""HIPS autograd's functional API on the Tensor engine: grad, value_and_grad, elementwise_grad,
jacobian, grad_and_aux and make_vjp.

``grad(fun, argnum)(*args)`` makes a leaf Tensor (``requires_grad=True``, sharing the argument's
memory, no copy) for every array or float in ``args[argnum]`` (which may be nested lists, tuples
and dicts of them), calls ``fun`` with those leaves in place of the arrays, runs one backward
sweep from the result, and hands back each leaf's gradient as plain numpy data, in the argument's
structure and dtype. Inside ``fun``, ``fastgrad.numpy`` functions and the operators record the
graph; outside ``grad`` the same code runs on plain arrays.

Rules (autograd's, where autograd has one):

- ``argnum`` is an int or a tuple of ints (then a tuple of gradients comes back).
- Python floats give float gradients, numpy scalars numpy scalars, arrays arrays of their dtype
  (float32 stays float32). Integers are refused: differentiate with respect to floats.
- A result that does not depend on the argument gives zero gradients and a warning.
- Derivatives nest to any order: ``grad(grad(f))``, ``elementwise_grad`` six deep,
  ``jacobian(jacobian(f))``, ``hessian``, ``make_hvp``, ``make_jvp`` of a ``grad``. A function
  called at trace level 0 (outside any differentiation) runs the compiled first-order sweep and
  gives numpy values; called inside another one (trace level > 0, kept per thread) it runs the
  op table's VJPs (or JVPs) as recorded ops and gives traced values, which the enclosing
  differentiation differentiates again. Each level differentiates with respect to fresh nodes
  of its own (an argument that is already traced gets a new node on top of it), so nested
  derivatives never confuse which variable moves: d/dx [x * d/dy (x + y)] = 1.
- NaN or Inf in the result or a gradient raises FloatingPointError naming the op that made it,
  as ``Tensor.backward`` does (``fastgrad.set_finite_check(False)`` turns that off).
"""
import threading
import warnings

import numpy as np

from . import _backend, engine, recorded, tracer
from ._py.opcodes import OP_LEAF
from .ops import complex_ops, kernels
from .tensor import Tensor

__all__ = [
    "elementwise_grad",
    "grad",
    "grad_and_aux",
    "hessian",
    "hessian_tensor_product",
    "hessian_vector_product",
    "jacobian",
    "jvp",
    "make_ggnvp",
    "make_hvp",
    "make_jvp",
    "make_vjp",
    "trace_level",
    "value_and_grad",
]


class _TraceState(threading.local):
    def __init__(self):
        # [how many differentiations (grad, jvp, ...) run around this call]: a list, so that
        # entering and leaving a level costs one thread-local lookup
        self.level = [0]


_trace = _TraceState()


def trace_level():
    """How many differentiations enclose the caller, in this thread (0 outside any)."""
    return _trace.level[0]


ndarray = np.ndarray
F64, F32 = np.dtype(np.float64), np.dtype(np.float32)
FLOAT_TYPES = (F32, F64)
# argument dtypes differentiated in a wider one (the gradient is given back in theirs)
WIDER = {np.dtype(np.float16): F32, np.dtype(np.longdouble): F64}
WIDER.pop(F64, None)  # where longdouble is float64


class _Form:
    """How box() saw the differentiated argument (the gradients come back in that form)."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


ONE_ARRAY = _Form("one array")
ARRAY_LIST = _Form("a list of arrays")


# ---------------------------------------------------------------- argument structures


def _box(x, leaves, new_node, Node, where):
    """``x`` with every array and float replaced by a new leaf (appended to ``leaves``)."""
    t = type(x)
    if t is ndarray:
        if x.dtype not in FLOAT_TYPES:
            if x.dtype.kind == "c":
                leaf = complex_ops.promote(new_node(x, True))  # a complex Tensor
                leaves.append(leaf)
                return leaf
            wider = WIDER.get(x.dtype)
            if wider is None:
                raise _dtype_error(x.dtype, where)
            x = x.astype(wider)  # the gradient comes back in x's dtype (_unbox)
        leaf = new_node(x, True)
        leaves.append(leaf)
        return leaf
    if t is list:
        return [_box(v, leaves, new_node, Node, where) for v in x]
    if t is tuple:
        return tuple([_box(v, leaves, new_node, Node, where) for v in x])
    if t is dict:
        return {k: _box(v, leaves, new_node, Node, where) for k, v in x.items()}
    if t is float:
        leaf = new_node(np.array(x), True)
        leaves.append(leaf)
        return leaf
    if isinstance(x, (np.floating, np.complexfloating, complex)):
        return _box(np.asarray(x), leaves, new_node, Node, where)
    if isinstance(x, Node) or hasattr(type(x), "_backend"):
        if x.requires_grad:
            # traced by an enclosing differentiation: a fresh node on top of it (the
            # identity), so that this level differentiates with respect to its own variable
            leaf = x + 0.0
            leaves.append(leaf)
            return leaf
        return _box(x.data, leaves, new_node, Node, where)  # a constant tensor: its values
    if isinstance(x, (bool, int, np.integer, np.bool_)):
        raise _dtype_error(np.asarray(x).dtype, where)
    if isinstance(x, ndarray):  # a subclass (np.matrix, a masked array): its plain values
        return _box(np.asarray(x), leaves, new_node, Node, where)
    if isinstance(x, tuple) and hasattr(x, "_fields"):  # a namedtuple
        return t(*[_box(v, leaves, new_node, Node, where) for v in x])
    if isinstance(x, (list, tuple)):
        return t([_box(v, leaves, new_node, Node, where) for v in x])
    if isinstance(x, dict):
        return t((k, _box(v, leaves, new_node, Node, where)) for k, v in x.items())
    user = tracer.box_user_value(x, leaves, new_node, where)  # a type given Box.register
    if user is not None:
        return user
    raise TypeError(f"{where}: cannot differentiate with respect to a {t.__name__}; the "
                    f"argument must be a float, a float array, or lists, tuples and dicts "
                    f"of them")


def _unbox(x, grads):
    """``x``'s structure with its arrays and floats replaced, in order, by ``next(grads)``."""
    t = type(x)
    if t is ndarray:
        g = next(grads)
        if x.dtype in WIDER and type(g) is ndarray:
            return g.astype(x.dtype)
        return g
    if t is list:
        return [_unbox(v, grads) for v in x]
    if t is tuple:
        return tuple([_unbox(v, grads) for v in x])
    if t is dict:
        return {k: _unbox(v, grads) for k, v in x.items()}
    if t is float or t is complex:
        g = next(grads)
        return t(g) if g.ndim == 0 and type(g) is ndarray else g
    if isinstance(x, (np.floating, np.complexfloating)):
        g = next(grads)
        # a numpy scalar of the argument's type (a traced value stays traced)
        if type(g) is ndarray and g.dtype != x.dtype and x.dtype in WIDER:
            g = g.astype(x.dtype)
        return g[()] if g.ndim == 0 and type(g) is ndarray else g
    if hasattr(type(x), "_backend"):  # a constant tensor was differentiated as its data
        return next(grads)
    if isinstance(x, ndarray):
        return next(grads)
    if tracer.is_user_value(x):  # a type given Box.register
        return tracer.user_grad(x, next(grads))
    if isinstance(x, tuple) and hasattr(x, "_fields"):
        return t(*[_unbox(v, grads) for v in x])
    if isinstance(x, (list, tuple)):
        return t([_unbox(v, grads) for v in x])
    return t((k, _unbox(v, grads)) for k, v in x.items())


def _dtype_error(dtype, where):
    return TypeError(f"{where}: cannot differentiate with respect to {dtype} values; pass "
                     f"floats (e.g. 3.0 rather than 3, or x.astype(float))")


def _foreign_error(where):
    return NotImplementedError(
        f"{where}: the function's value depends on a Tensor with requires_grad=True from "
        f"outside, which is not one of the arguments being differentiated (pass it as an "
        f"argument, or .detach() it)")


def _holds_traced(x):
    """True when ``x`` (an argument, maybe nested lists/tuples/dicts) holds a Tensor that
    requires grad."""
    t = type(x)
    if t is ndarray or t is float:
        return False
    if t is list or t is tuple:
        for v in x:
            if type(v) is not ndarray and _holds_traced(v):
                return True
        return False
    if hasattr(t, "_backend"):
        return x.requires_grad
    if isinstance(x, (list, tuple)):
        return any(_holds_traced(v) for v in x)
    if isinstance(x, dict):
        return any(_holds_traced(v) for v in x.values())
    return False


def _leaves_of(x, out):
    """The arrays and floats of ``x`` in the order _box makes leaves of them (a tangent or
    vector in the argument's structure, flattened)."""
    if isinstance(x, (list, tuple)) and not isinstance(x, ndarray):
        for v in x:
            _leaves_of(v, out)
    elif isinstance(x, dict):
        for v in x.values():
            _leaves_of(v, out)
    else:
        out.append(x)
    return out


def _argnum_error(fun, args, argnum, where):
    n = len(args)
    return ValueError(f"{where}: argnum {argnum} is out of range: {_name(fun)} was called with "
                      f"{n} positional argument{'' if n == 1 else 's'}")


def plain(value):
    """``value`` with Tensors replaced by their data (0-d data by a numpy scalar), in any
    nesting of lists, tuples and dicts: what the function would have returned on arrays."""
    if hasattr(type(value), "_backend"):
        data = value.data
        return data[()] if data.ndim == 0 else data
    t = type(value)
    if t is list or t is tuple:
        return t([plain(v) for v in value])
    if t is dict:
        return {k: plain(v) for k, v in value.items()}
    return value


def _name(fun):
    return getattr(fun, "__name__", "function")


def _wraps(fun, op, argnum):
    """Give the returned function autograd's name and a docstring."""
    def decorate(f):
        f.__name__ = f"{op}_of_{_name(fun)}_wrt_argnum_{argnum}"
        f.__qualname__ = f.__name__
        f.__doc__ = (f"    {op} of function {_name(fun)} with respect to argument number "
                     f"{argnum}. Takes the same arguments as {_name(fun)}; returns the {op}.")
        f.__wrapped__ = fun
        return f
    return decorate


def _release(leaves):
    """After a differentiation nested in another: the leaves it made from plain values become
    constants, so that the enclosing differentiations neither send gradients into them nor
    take them for Tensors from outside (its traced arguments' fresh nodes stay traced)."""
    for leaf in leaves:
        if leaf._op == OP_LEAF:
            leaf.requires_grad = False


def _is_structure(value):
    """True for a list, tuple or dict value (a function's structured result)."""
    return isinstance(value, (list, tuple, dict)) and not isinstance(value, ndarray)


def _check_argnum(argnum, op):
    if type(argnum) is int:
        return argnum
    if isinstance(argnum, (tuple, list)) and argnum and all(type(i) is int for i in argnum):
        return tuple(argnum)
    raise TypeError(f"{op}: argnum must be an int or a non-empty tuple of ints, "
                    f"not {argnum!r}")


# ---------------------------------------------------------------- the functions (active backend)

_bk = _backend.active
Node = _bk.node.Node
new_node = _bk.node.new_node
toposort = _bk.toposort.toposort
rollback = _bk.sweep.rollback
free_graph = _bk.sweep.free_graph
grad_enabled = _bk.node.is_grad_enabled
set_grad_enabled = _bk.node.set_grad_enabled
finite_result = _bk.sweep.finite_result
leaf_sweep = _bk.sweep.leaf_sweep
ScalarGrad, UNHANDLED = _bk.sweep.ScalarGrad, _bk.sweep.UNHANDLED


def box(x, where):
    """(structure, leaves, boxed): ``x`` with its arrays and floats as new leaves.
    ``structure`` says how to give the gradients back: ONE_ARRAY, ARRAY_LIST (the
    common cases, handled without recursion) or ``x`` itself (rebuilt by _unbox)."""
    t = type(x)
    if t is ndarray:
        dtype = x.dtype
        if dtype is F64 or dtype is F32:
            leaf = new_node(x, True)
            return ONE_ARRAY, [leaf], leaf
    elif t is list:
        leaves = []
        for v in x:
            if type(v) is not ndarray:
                break
            dtype = v.dtype
            if dtype is not F64 and dtype is not F32:
                break
            leaves.append(new_node(v, True))
        else:
            return ARRAY_LIST, leaves, list(leaves)  # a copy: fun may change its list
    leaves = []
    return x, leaves, _box(x, leaves, new_node, Node, where)


def call(fun, args, kwargs, argnum, where):
    """Box ``args[argnum]`` (an int or a tuple of ints) and call ``fun``:
    (structure, leaves, fun's value, the trace level around the call)."""
    if type(argnum) is int:
        if not -len(args) <= argnum < len(args):
            raise _argnum_error(fun, args, argnum, where)
        structure, leaves, boxed = box(args[argnum], where)
        if argnum == 0:
            args = (boxed,) + args[1:]
        else:
            args = list(args)
            args[argnum] = boxed
    else:
        for i in argnum:
            if not -len(args) <= i < len(args):
                raise _argnum_error(fun, args, i, where)
        structure = tuple([args[i] for i in argnum])
        leaves = []
        args = list(args)
        for i, xi in zip(argnum, structure):
            args[i] = _box(xi, leaves, new_node, Node, where)
    cell = _trace.level
    level = cell[0]
    enabled = grad_enabled()
    if not enabled:
        set_grad_enabled(True)  # grad() records even inside no_grad()
    cell[0] = level + 1
    try:
        return structure, leaves, fun(*args, **kwargs), level
    finally:
        cell[0] = level
        if not enabled:
            set_grad_enabled(False)


def is_nested(level, structure, args, argnum):
    """True when this differentiation runs inside another (``level`` > 0) or on traced
    arguments: its gradients must then be recorded (the op table's VJPs) instead of the
    fast sweep."""
    if level > 0:
        return True
    if structure is ONE_ARRAY or structure is ARRAY_LIST:  # plain arrays only
        return False
    if type(argnum) is int:
        return _holds_traced(args[argnum])
    return any(_holds_traced(args[i]) for i in argnum)


def recorded_grads(ans, leaves, seed, where):
    """The leaves' gradients as traced values (differentiable again)."""
    if not (isinstance(ans, Node) and ans.requires_grad):
        if seed is None:
            scalar_seed(ans, where)
        return zeros(leaves)
    if seed is None:
        scalar_seed(ans, where)
    enabled = grad_enabled()
    if not enabled:
        set_grad_enabled(True)
    try:
        return recorded.gradients(ans, leaves, seed, create_graph=True)
    finally:
        if not enabled:
            set_grad_enabled(False)


def inner_grads(ans, leaves, seed, where):
    """recorded_grads, then the leaves released (see _release)."""
    try:
        return recorded_grads(ans, leaves, seed, where)
    finally:
        _release(leaves)


def traced(ans, where, bool_ok=False):
    """True when ``ans`` is a Tensor that depends on the leaves; warn if it does not.
    A boolean value raises, unless ``bool_ok`` (make_vjp: autograd's gives zeros)."""
    if isinstance(ans, Node) and ans.requires_grad:
        return True
    if bool_ok:
        pass
    elif isinstance(ans, (bool, np.bool_)) or getattr(ans, "dtype", None) == np.bool_:
        raise TypeError(f"{where}: the function returns a boolean ({type(ans).__name__}), "
                        f"which has no gradient")
    if not (_is_numeric(ans) or isinstance(ans, Node)):
        raise TypeError(f"{where}: the function must return a float or an array, "
                        f"not a {type(ans).__name__}")
    warnings.warn("Output seems independent of input.", stacklevel=3)
    return False


def backprop(order, seed, leaves, where):
    """One sweep from ``seed``; the leaves' gradients, zeros where none arrived."""
    grads, touched, arrived = leaf_sweep(order, seed, leaves)
    if len(touched) > 2 * arrived or not finite_result(order, touched):
        sweep_problem(order, seed, touched, arrived, where)
    return grads


def sweep_problem(order, seed, touched, arrived, where):
    """After a sweep that gave gradients to ``arrived`` of the leaves: raise if a leaf that is
    not ours received one (the sweep undone), or if the result or a gradient holds NaN/Inf
    (naming the op; unless the finite check is off)."""
    if len(touched) > 2 * arrived:  # a leaf that is not ours received a gradient
        rollback(order, touched)
        raise _foreign_error(where)
    if not finite_result(order, touched):
        engine.check_finite_sweep(_bk, order, seed, touched)  # raises naming the op, unless checks are off


def zeros(leaves):
    return [np.zeros_like(leaf.data) for leaf in leaves]


def result(structure, grads):
    """The gradients in the argument's structure."""
    if structure is ONE_ARRAY:
        return grads[0]
    if structure is ARRAY_LIST:
        return grads
    return _unbox(structure, iter(grads))


def scalar_grads(ans, leaves, where):
    """The leaves' gradients of a single-element result (zeros if it does not depend on
    them)."""
    if type(ans) is Tensor and ans.requires_grad:
        data = ans.data
        if data.ndim == 0:
            dtype = data.dtype
            seed = ONE64 if dtype is F64 else ONE32 if dtype is F32 else scalar_seed(ans, where)
        else:
            seed = scalar_seed(ans, where)
        return backprop(toposort(ans), seed, leaves, where)
    if _is_numeric(ans):
        scalar_seed(ans, where)  # a bool or non-scalar value raises before the warning
    if traced(ans, where):  # a Tensor of a subclass
        return backprop(toposort(ans), scalar_seed(ans, where), leaves, where)
    return zeros(leaves)


def scalar_seed(ans, where):
    data = ans.data if isinstance(ans, Node) else np.asarray(ans)
    if data.dtype.kind == "b":
        raise TypeError(f"{where}: the function returns a boolean ({type(ans).__name__}), "
                        f"which has no gradient")
    if data.dtype.kind == "c":
        raise TypeError(f"{where}: the function returns {data.dtype} values; {where} "
                        f"differentiates real-valued functions (take np.real or np.abs "
                        f"of the result, or use holomorphic_grad)")
    if data.dtype.kind not in "fiu":
        raise TypeError(f"{where}: the function returned {data.dtype} values; it must "
                        f"return a real float (for complex results use holomorphic_grad, "
                        f"or take the real part)")
    if data.size != 1:
        raise TypeError(f"{where} only applies to functions with a single-element "
                        f"(scalar) result, but this one has shape {data.shape}; try "
                        f"jacobian or elementwise_grad")
    return _ones(data.dtype, data.shape)


def grad(fun, argnum=0):
    """
    Returns a function which computes the gradient of ``fun`` (scalar-valued) with respect
    to positional argument ``argnum``, taking the same arguments as ``fun``.

    Parameters
    ----------
    fun : callable
        Written with ``fastgrad.numpy`` (``import fastgrad.numpy as np``); returns a float
        or a single-element array.
    argnum : int or tuple of ints
        Which argument(s) to differentiate with respect to: arrays, floats, or nested
        lists, tuples and dicts of them.

    Returns
    -------
    callable
        ``gradfun(*args, **kwargs)`` returns the gradient in the argument's structure and
        dtype (a tuple of them when ``argnum`` is a tuple), as plain numpy data.
    """
    argnum = _check_argnum(argnum, "grad")
    # the usual call (arrays in, a float Tensor out, no differentiation around it) in one
    # compiled step; anything else below
    usual = ScalarGrad(fun, argnum, Tensor, (ONE64, ONE32), _finish_grad,
                       _grad_problem) if type(argnum) is int else None

    @_wraps(fun, "grad", argnum)
    def gradfun(*args, **kwargs):
        if usual is not None:
            grads = usual(args, kwargs, _trace.level)
            if grads is not UNHANDLED:
                return grads
        structure, leaves, ans, level = call(fun, args, kwargs, argnum, "grad")
        if level or (structure is not ARRAY_LIST and structure is not ONE_ARRAY
                     and is_nested(level, structure, args, argnum)):
            return result(structure, inner_grads(ans, leaves, None, "grad"))
        return result(structure, scalar_grads(ans, leaves, "grad"))

    return gradfun


def _finish_grad(one_array, leaves, ans):
    """grad's usual call met a result of another kind: the Python path from the sweep on."""
    return result(ONE_ARRAY if one_array else ARRAY_LIST, scalar_grads(ans, leaves, "grad"))


def _grad_problem(order, seed, touched, arrived):
    sweep_problem(order, seed, touched, arrived, "grad")


def value_and_grad(fun, argnum=0):
    """Like :func:`grad`, but the function returns ``(value, gradient)``; the value is
    what ``fun`` returns, as plain numpy data."""
    argnum = _check_argnum(argnum, "value_and_grad")

    @_wraps(fun, "value_and_grad", argnum)
    def value_and_gradfun(*args, **kwargs):
        structure, leaves, ans, level = call(fun, args, kwargs, argnum, "value_and_grad")
        if level or (structure is not ARRAY_LIST and structure is not ONE_ARRAY
                     and is_nested(level, structure, args, argnum)):
            grads = inner_grads(ans, leaves, None, "value_and_grad")
            return ans, result(structure, grads)
        grads = scalar_grads(ans, leaves, "value_and_grad")
        return plain(ans), result(structure, grads)

    return value_and_gradfun


def grad_and_aux(fun, argnum=0):
    """For ``fun`` returning ``(value, aux)``: a function returning ``(gradient of value,
    aux)``, aux as plain numpy data."""
    argnum = _check_argnum(argnum, "grad_and_aux")

    @_wraps(fun, "grad_and_aux", argnum)
    def grad_and_auxfun(*args, **kwargs):
        structure, leaves, out, level = call(fun, args, kwargs, argnum, "grad_and_aux")
        inner = is_nested(level, structure, args, argnum)
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise TypeError("grad_and_aux: the function must return a pair (value, aux)")
        ans, aux = out
        if inner:
            return result(structure, inner_grads(ans, leaves, None, "grad_and_aux")), aux
        grads = scalar_grads(ans, leaves, "grad_and_aux")
        return result(structure, grads), plain(aux)

    return grad_and_auxfun


def elementwise_grad(fun, argnum=0):
    """The gradient of ``sum(fun(...))``: the sum of each column of the Jacobian (its
    diagonal when the function works elementwise), in one backward sweep."""
    argnum = _check_argnum(argnum, "elementwise_grad")

    @_wraps(fun, "elementwise_grad", argnum)
    def elementwise_gradfun(*args, **kwargs):
        structure, leaves, ans, level = call(fun, args, kwargs, argnum, "elementwise_grad")
        inner = is_nested(level, structure, args, argnum)
        if inner:
            if isinstance(ans, Node) and ans.requires_grad:
                seed = np.ones(ans.data.shape, ans.data.dtype)
                return result(structure, inner_grads(ans, leaves, seed,
                                                     "elementwise_grad"))
            _release(leaves)
            return result(structure, zeros(leaves))
        if traced(ans, "elementwise_grad"):
            seed = _ones(ans.data.dtype, ans.data.shape)
            grads = backprop(toposort(ans), seed, leaves, "elementwise_grad")
        else:
            grads = zeros(leaves)
        return result(structure, grads)

    return elementwise_gradfun


def make_vjp(fun, argnum=0):
    """``make_vjp(fun)(*args)`` returns ``(vjp, value)``: ``vjp(g)`` is the gradient of
    ``sum(g * fun(*args))`` with respect to the argument; it may be called many times
    (the graph is kept until ``vjp`` is dropped)."""
    argnum = _check_argnum(argnum, "make_vjp")

    @_wraps(fun, "make_vjp", argnum)
    def make_vjpfun(*args, **kwargs):
        structure, leaves, ans, level = call(fun, args, kwargs, argnum, "make_vjp")
        inner = is_nested(level, structure, args, argnum)
        if _is_structure(ans):
            return structured_vjp(ans, structure, leaves, inner), (
                ans if inner else plain(ans))
        if inner:
            own = [leaf for leaf in leaves if leaf._op == OP_LEAF]
            _release(own)

            def recorded_vjp(g):
                for leaf in own:  # traced again while this VJP runs
                    leaf.requires_grad = True
                try:
                    return result(structure, recorded_grads(ans, leaves, g, "make_vjp"))
                finally:
                    _release(own)
            return recorded_vjp, ans
        if not traced(ans, "make_vjp", bool_ok=True):
            return (lambda g: result(structure, zeros(leaves))), plain(ans)
        order = toposort(ans)
        shape, dtype = ans.data.shape, ans.data.dtype

        def vjp(g):
            seed = np.asarray(g)
            if seed.shape != shape:
                raise ValueError(f"vjp: the cotangent has shape {seed.shape} but the "
                                 f"function's value has shape {shape}")
            for leaf in leaves:
                leaf.grad = None
            return result(structure, backprop(order, seed.astype(dtype, copy=False),
                                              leaves, "make_vjp"))

        return vjp, plain(ans)

    return make_vjpfun


def structured_vjp(ans, structure, leaves, inner):
    """The VJP of a function whose value is a list, tuple or dict (of arrays): the
    cotangent comes in the same structure; runs the recorded path (the outputs as many
    roots)."""
    outs = _leaves_of(ans, [])
    own = [leaf for leaf in leaves if leaf._op == OP_LEAF] if inner else []
    _release(own)

    def vjp(g):
        gs = _leaves_of(g, [])
        if len(gs) != len(outs):
            raise ValueError(f"vjp: the cotangent holds {len(gs)} values but the "
                             f"function's value holds {len(outs)}")
        roots, seeds = [], []
        for out, gi in zip(outs, gs):
            if isinstance(out, Node) and out.requires_grad:
                roots.append(out)
                seeds.append(gi)
        if not roots:
            return result(structure, zeros(leaves))
        for leaf in own:
            leaf.requires_grad = True
        try:
            grads = recorded.gradients(roots, leaves, seeds, create_graph=inner)
        finally:
            _release(own)
        return result(structure, grads if inner else [x.data for x in grads])
    return vjp


def jacobian(fun, argnum=0):
    """The Jacobian of ``fun``: for a value of shape ``out`` and an argument array of
    shape ``in``, an array of shape ``out + in`` (one backward sweep per element of the
    value). Structured arguments give the same structure of Jacobians."""
    argnum = _check_argnum(argnum, "jacobian")

    @_wraps(fun, "jacobian", argnum)
    def jacobianfun(*args, **kwargs):
        structure, leaves, ans, level = call(fun, args, kwargs, argnum, "jacobian")
        inner = is_nested(level, structure, args, argnum)
        if inner and isinstance(ans, Node) and ans.requires_grad:
            try:
                return result(structure, recorded_jacobian(ans, leaves))
            finally:
                _release(leaves)
        if not traced(ans, "jacobian"):
            shape = np.shape(ans)
            return result(structure, [np.zeros(shape + leaf.data.shape, leaf.data.dtype)
                                      for leaf in leaves])
        data = ans.data
        jac = [np.empty((data.size,) + leaf.data.shape, leaf.data.dtype)
               for leaf in leaves]
        order = toposort(ans)
        seed = np.zeros(data.size, data.dtype)
        for i in range(data.size):
            seed[i] = 1
            for leaf in leaves:
                leaf.grad = None
            grads = backprop(order, seed.reshape(data.shape), leaves, "jacobian")
            seed[i] = 0
            for rows, g in zip(jac, grads):
                rows[i] = g
        free_graph(order)
        return result(structure, [rows.reshape(data.shape + leaf.data.shape)
                                  for rows, leaf in zip(jac, leaves)])

    return jacobianfun


def recorded_jacobian(ans, leaves):
    """The Jacobian as traced values: one recorded VJP per element of the value."""
    data = ans.data
    rows = [[] for _ in leaves]
    seed = np.zeros(data.size, data.dtype)
    for i in range(data.size):
        seed[i] = 1
        grads = recorded_grads(ans, leaves, seed.reshape(data.shape).copy(), "jacobian")
        seed[i] = 0
        for r, g in zip(rows, grads):
            r.append(g)
    return [kernels.reshape(kernels.stack(r, 0), data.shape + leaf.data.shape)
            for r, leaf in zip(rows, leaves)]


def make_jvp(fun, argnum=0):
    """``make_jvp(fun)(*args)`` returns ``jvp(v)``, which returns ``(value, tangent)``:
    fun's value and its directional derivative along ``v`` (in the argument's
    structure), in forward mode from the op table's JVP rules. Nests with the reverse
    functions (``make_jvp(grad(f))`` is a Hessian-vector product)."""
    argnum = _check_argnum(argnum, "make_jvp")

    @_wraps(fun, "make_jvp", argnum)
    def make_jvpfun(*args, **kwargs):
        def jvp(v):
            structure, leaves, ans, level = call(fun, args, kwargs, argnum, "make_jvp")
            inner = is_nested(level, structure, args, argnum)
            vs = _leaves_of(v, []) if not (len(leaves) == 1 and not isinstance(
                v, (list, tuple, dict))) else [v]
            if len(vs) != len(leaves):
                raise ValueError(f"make_jvp: the tangent holds {len(vs)} arrays but the "
                                 f"argument holds {len(leaves)}")
            outs = _leaves_of(ans, []) if _is_structure(ans) else [ans]
            roots = [out for out in outs if isinstance(out, Node) and out.requires_grad]
            if not roots:
                if inner:
                    _release(leaves)
                if not _is_structure(ans):
                    return (ans if inner else plain(ans)), np.zeros(np.shape(plain(ans)))
                return (ans if inner else plain(ans)), _unbox(ans, iter(
                    [np.zeros(np.shape(plain(out))) for out in outs]))
            if inner:
                try:
                    found = recorded.tangents(roots, leaves, vs)
                finally:
                    _release(leaves)
            else:
                enabled = set_grad_enabled(False)  # nothing to record at level 0
                try:
                    found = [plain(t) for t in recorded.tangents(roots, leaves, vs)]
                finally:
                    set_grad_enabled(enabled)
            if not _is_structure(ans):
                return (ans if inner else plain(ans)), found[0]
            found = iter(found)
            tangents = [next(found) if isinstance(out, Node) and out.requires_grad
                        else np.zeros(np.shape(plain(out))) for out in outs]
            return (ans if inner else plain(ans)), _unbox(ans, iter(tangents))
        return jvp

    return make_jvpfun


def _is_numeric(x):
    return isinstance(x, (float, int, np.number, np.bool_, ndarray))


_ONES = {}
ONE64, ONE32 = np.ones((), F64), np.ones((), F32)  # the usual seeds, never written into
ONE64.flags.writeable = ONE32.flags.writeable = False


def _ones(dtype, shape):
    """A read-only array of ones (the seed of a backward sweep; never written into)."""
    key = (dtype, shape)
    ones = _ONES.get(key)
    if ones is None:
        ones = np.ones(shape, dtype)
        ones.flags.writeable = False
        if len(_ONES) < 64:
            _ONES[key] = ones
    return ones


def jvp(fun, primals, tangents):
    """JAX's form of forward mode: ``(fun(*primals), d fun along tangents)``; ``primals`` and
    ``tangents`` are tuples with one entry per argument of ``fun``."""
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    argnum = tuple(range(len(primals)))
    return make_jvp(fun, argnum if len(primals) > 1 else 0)(*primals)(
        tangents if len(primals) > 1 else tangents[0])


def hessian(fun, argnum=0):
    """The Hessian of ``fun``: ``jacobian(jacobian(fun))`` (shape out + in + in)."""
    return jacobian(jacobian(fun, argnum), argnum)


def make_hvp(fun, argnum=0):
    """``make_hvp(fun)(*args)`` returns ``(hvp, gradient)``: ``hvp(v)`` is the Hessian (at
    args) times ``v`` (reverse over reverse: the VJP of the gradient; the Hessian is
    symmetric), reusable for many ``v``."""
    return make_vjp(grad(fun, argnum), argnum)


def _vdot(a, b):
    """sum(a * b) over every axis, traced or not."""
    if hasattr(type(a), "_backend") or hasattr(type(b), "_backend"):
        return kernels.sum(a * b, None, False)
    return np.sum(np.asarray(a) * np.asarray(b))


def hessian_tensor_product(fun, argnum=0):
    """``H(*args, v)``: the Hessian of ``fun`` at args times ``v`` (v in the argument's shape),
    as the gradient of <grad fun, v> (reverse over reverse)."""
    fun_grad = grad(fun, argnum)

    def vector_dot_grad(*args, **kwargs):
        args, vector = args[:-1], args[-1]
        return _vdot(fun_grad(*args, **kwargs), vector)
    return grad(vector_dot_grad, argnum)


hessian_vector_product = hessian_tensor_product


def _half_sum_of_squares(x):
    from . import numpy as fnp
    return 0.5 * fnp.sum(x * x, axis=-1)


def make_ggnvp(f, g=_half_sum_of_squares, f_argnum=0):
    """``make_ggnvp(f, g)(*args)`` returns ``ggnvp(v)``: the generalised Gauss-Newton product
    J^T H_g J v, with J the Jacobian of ``f`` at args and H_g the Hessian of ``g`` at f(args)
    (J v by forward mode, H_g by reverse over reverse, J^T by reverse mode)."""
    def make(*args, **kwargs):
        f_vjp, f_x = make_vjp(f, f_argnum)(*args, **kwargs)
        g_hvp, _ = make_hvp(g)(f_x)
        f_jvp = make_jvp(f, f_argnum)(*args, **kwargs)

        def ggnvp(v):
            return f_vjp(g_hvp(f_jvp(v)[1]))
        return ggnvp
    return make
