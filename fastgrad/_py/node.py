"""Graph nodes, and the helpers every kernel shares (twin of csrc/node.pyx).

A node holds its forward value ``data`` (always an ndarray), its gradient ``grad``, its parents
``_prev`` (a tuple, in the order the op recorded them), an op code ``_op`` and whatever its VJP
needs, ``_ctx``. A leaf has ``_op == OP_LEAF`` and no parents; an interior node whose graph was
freed by ``backward()`` keeps its op code but has ``_prev is None``.

Gradients flow into nodes through :func:`accumulate`, the one place that sums a contribution back
to the parent's shape and dtype and decides whether it may add in place.
"""
import itertools
import threading
from operator import attrgetter

import numpy as np

from .opcodes import N_OPS, OP_CUSTOM, OP_LEAF, OP_NAMES

ndarray = np.ndarray


UFUNCS = {}             # numpy ufunc -> the op function that handles it on nodes
_ufunc_fallback = None  # called for any other ufunc (or method, or out=)


def set_ufunc_table(table, fallback):
    """Route numpy ufuncs called on nodes: ``table`` maps a ufunc to the op function taking
    its inputs; anything else goes to ``fallback(ufunc, method, inputs, kwargs)``."""
    global _ufunc_fallback
    UFUNCS.clear()
    UFUNCS.update(table)
    _ufunc_fallback = fallback


# ---------------------------------------------------------------- backends of nodes

NODE_CLASSES = {}  # backend name -> its Node class (both register themselves at import)

BACKEND_NAMES = {"cython": "compiled", "python": "pure-Python"}


def register_node_class(backend, cls):
    NODE_CLASSES[backend] = cls


def foreign_node_error(x, opname, backend):
    """The error for ``x``, a node of another backend than ``backend`` met by op ``opname``
    (None when x is no node): gradients cannot flow from one engine into the other."""
    for name, cls in NODE_CLASSES.items():
        if name != backend and isinstance(x, cls):
            return TypeError(
                f"{opname}: a Tensor of the {BACKEND_NAMES[name]} backend ({name!r}, "
                f"{x.data.dtype} {tuple(x.data.shape)}) met a Tensor of the "
                f"{BACKEND_NAMES[backend]} backend ({backend!r}) in one graph; gradients "
                f"cannot flow between backends: make every Tensor of a graph with the same "
                f"class (fastgrad.Tensor)")
    return None


def is_node(x):
    """True for a node of either backend."""
    return any(isinstance(x, cls) for cls in NODE_CLASSES.values())


# ---------------------------------------------------------------- checked assignments

def _shape(a):
    return tuple(a.shape)


tensor_grad_assigned = False  # set once a Tensor was assigned to a .grad (engine.py reads it)


def checked_grad(node, value):
    """``value`` if it may be node's ``.grad`` (None, or an ndarray of data's shape and dtype);
    otherwise raise as PyTorch does ("assigned grad has data of a different size")."""
    if value is None:
        return None
    if is_node(value):
        # backward(create_graph=True) leaves a Tensor gradient that carries a graph: it must be
        # of this tensor's own backend, shape and dtype
        if not isinstance(value, type(node)) and not isinstance(node, type(value)):
            raise TypeError(f"Tensor.grad: assigned grad is a {type(value).__module__} Tensor "
                            f"of another backend than this tensor's")
        array = value.data
        global tensor_grad_assigned
        tensor_grad_assigned = True  # backward then keeps such gradients out of its sweep
    elif type(value) is not ndarray:
        raise TypeError(f"Tensor.grad: assigned grad expected to be a numpy array or None but "
                        f"got grad of type {type(value).__name__}")
    else:
        array = value
    data = node.data
    if array.dtype != data.dtype:
        raise TypeError(f"Tensor.grad: assigned grad has data of a different type: "
                        f"{array.dtype}, but the tensor holds {data.dtype}")
    if array.shape != data.shape:
        raise ValueError(f"Tensor.grad: assigned grad has data of a different size: shape "
                         f"{_shape(array)}, but the tensor has shape {_shape(data)}")
    return value


def checked_data(node, value):
    """``value`` if it may be node's ``.data``: a float32/float64 ndarray, of the shape and
    dtype of the data it replaces (a Tensor's shape and dtype never change)."""
    if is_node(value):
        raise TypeError("Tensor.data: assigned data is a Tensor; .data holds a numpy array "
                        "(assign the other Tensor's .data)")
    if type(value) is not ndarray:
        raise TypeError(f"Tensor.data: assigned data expected to be a numpy array but got "
                        f"data of type {type(value).__name__}")
    if value.dtype not in FLOAT_TYPES:
        raise TypeError(f"Tensor.data: assigned data has dtype {value.dtype}; a Tensor holds "
                        f"float32 or float64")
    old = getattr(node, "data", None)  # (unset while a Tensor is being made)
    if old is not None:
        if value.dtype != old.dtype:
            raise TypeError(f"Tensor.data: assigned data has data of a different type: "
                            f"{value.dtype}, but the tensor holds {old.dtype}; use "
                            f".astype() to make a Tensor of another dtype")
        if value.shape != old.shape:
            raise ValueError(f"Tensor.data: assigned data has data of a different size: shape "
                             f"{_shape(value)}, but the tensor has shape {_shape(old)}; make a "
                             f"new Tensor to change the shape")
    return value


def corrupt_node_error(node, bad):
    """A node whose data or grad is not an array any more (set around the checks)."""
    return RuntimeError(f"backward: {describe_safely(node)}: the "
                        f"{'tensor' if bad is node else 'input'} holds data of type "
                        f"{type(bad.data).__name__} and grad of type {type(bad.grad).__name__}; "
                        f"only numpy arrays of the tensor's shape and dtype can be used")


def describe_safely(node):
    data = node.data
    if isinstance(data, ndarray):
        return describe(node)
    return f"{OP_NAMES.get(node._op, node._op)}"


def modified_error(node, changed):
    """The error for ``node``, whose VJP would read ``changed`` (node itself, or one of its
    inputs) after its data was replaced or updated in place."""
    if changed is node:
        what = "its own value"
    else:
        index = next(i for i, p in enumerate(node._prev) if p is changed)
        kind = ("a leaf" if changed._op == OP_LEAF
                else f"the result of {OP_NAMES.get(changed._op, changed._op)}")
        what = (f"its input {index} ({kind}, {changed.data.dtype} "
                f"{_shape(changed.data)})")
    return RuntimeError(
        f"backward: one of the variables needed for gradient computation has been modified "
        f"by an inplace operation: {what} was changed (its .data replaced or updated in "
        f"place, e.g. by an optimizer step) after {describe(node)} was computed from it; "
        f"compute the forward pass again after changing it")


def no_sweep_error(node):
    return RuntimeError(f"accumulate: called for {describe_safely(node)} outside a backward "
                        f"sweep")


class _ThreadState(threading.local):
    """Grad mode and the sweep in progress, per thread (grad mode is thread-local in PyTorch
    too); the class attributes are each new thread's starting values."""

    grad_enabled = True
    sweep_epoch = 0
    touched = None   # list: leaf, its grad before this sweep, leaf, ... (checks and rollback)
    checking = None  # when set, the node whose VJP is running: contributions are checked finite


state = _ThreadState()


# The version clock: a node takes a tick when it is made (_born) and one each time its data
# changes (_version); a node whose data or inputs changed after its birth cannot be
# differentiated (its VJP would read other values than it was computed from).
_clock = itertools.count(1)


def mark_modified(node):
    """Record that ``node.data`` was changed (re-bound or updated in place)."""
    node._version = next(_clock)


def check_inputs_unmodified(node):
    """Raise unless node's data and its inputs are the values node was computed from."""
    born = node._born
    if node._version > born:
        raise modified_error(node, node)
    if type(node._data) is not ndarray:
        raise corrupt_node_error(node, node)
    for parent in node._prev:
        if parent._version > born:
            raise modified_error(node, parent)
        if type(parent._data) is not ndarray:
            raise corrupt_node_error(node, parent)


def _set_data(node, value):
    node._data = checked_data(node, value)
    mark_modified(node)


def _set_grad(node, value):
    node._grad = checked_grad(node, value)


class Node:
    """Storage of one graph node; fastgrad.Tensor is built on it."""

    __slots__ = (
        "_born",
        "_ctx",
        "_data",
        "_gown",
        "_grad",
        "_mark",
        "_op",
        "_prev",
        "_retain",
        "_version",
        "requires_grad",
    )

    # Python-level assignments are checked; the kernels store into _data and _grad
    data = property(attrgetter("_data"), _set_data)
    grad = property(attrgetter("_grad"), _set_grad)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # numpy calls this for ndarray-op-tensor and for ufuncs applied to tensors
        if not kwargs and method == "__call__":
            fn = UFUNCS.get(ufunc)
            if fn is not None:
                return fn(*inputs)
        return _ufunc_fallback(ufunc, method, inputs, kwargs)


register_node_class("python", Node)


# ---------------------------------------------------------------- result type and grad mode

_tensor_type = None


def set_tensor_type(cls):
    """Make ops return instances of ``cls`` (a subclass of Node): fastgrad.Tensor."""
    global _tensor_type
    _tensor_type = cls


def set_grad_enabled(enabled):
    """Turn graph recording on or off in the calling thread; return the previous setting."""
    previous = state.grad_enabled
    state.grad_enabled = bool(enabled)
    return previous


def is_grad_enabled():
    """True unless the calling thread is inside no_grad()."""
    return state.grad_enabled


def new_node(data, requires_grad):
    """A leaf of the registered tensor type holding ``data`` (an ndarray, not copied)."""
    out = object.__new__(_tensor_type)
    out._data = data
    out._grad = None
    out._prev = None
    out._ctx = None
    out._op = OP_LEAF
    out.requires_grad = requires_grad
    out._retain = False
    out._mark = 0
    out._gown = 0
    out._born = next(_clock)
    out._version = 0
    return out


_complex_fallback = None  # set by fastgrad.ops.complex_ops
# set once a complex value exists in the process: until then kernels pay no complex checks
_complex_seen = False


def note_complex():
    """Record that complex values exist (complex nodes are made by the op table's path)."""
    global _complex_seen
    _complex_seen = True


def set_complex_fallback(fn):
    """Install ``fn(op, prev, ctx, data)``: it redoes a kernel's op whose operands are complex
    on the op table's Python path (or raises naming the op)."""
    global _complex_fallback
    _complex_fallback = fn


def _complex_operands(data, op, prev, ctx, dtype):
    """A kernel met complex values (its result is not used): the op table's Python path."""
    if _complex_fallback is None:
        raise complex_kernel_error(op, dtype)
    return _complex_fallback(op, prev, ctx, data)


def make_result(data, op, prev, ctx):
    """The output node of op ``op``: records the graph only if grad mode is on and a parent
    requires grad (otherwise the result is a constant leaf)."""
    if type(data) is not ndarray:
        data = np.asarray(data)  # numpy returns scalars for 0-d results; nodes hold arrays
    global _complex_seen
    if op == OP_CUSTOM:
        if not _complex_seen and data.dtype.kind == "c":
            _complex_seen = True
    elif _complex_seen:  # a kernel, once complex values exist: they must not pass unnoticed
        if data.dtype.kind == "c":
            return _complex_operands(data, op, prev, ctx, data.dtype)
        for p in prev:
            if p._data.dtype.kind == "c":
                return _complex_operands(data, op, prev, ctx, p._data.dtype)
    out = new_node(data, False)
    if state.grad_enabled:
        for p in prev:
            if p.requires_grad:
                out._op = op
                out._prev = prev
                out._ctx = ctx
                out.requires_grad = True
                break
    return out


# ---------------------------------------------------------------- dtypes and constants

FLOAT_TYPES = (np.dtype(np.float32), np.dtype(np.float64))


def dtype_error(opname, dtype):
    if np.dtype(dtype).kind == "c":
        return TypeError(
            f"{opname}: unsupported dtype {dtype}: a real Tensor met a complex value; the "
            f"compiled kernels take float32 and float64, and complex values flow on the numpy "
            f"face from complex arguments of grad (make the traced value complex first)")
    return TypeError(
        f"{opname}: unsupported dtype {dtype}; fastgrad differentiates float32 and float64 "
        f"arrays (integers and booleans are converted to float64 when a Tensor is made)")


def complex_kernel_error(op, dtype):
    """The error for a compiled kernel (op code ``op``) that met complex values."""
    name = OP_NAMES.get(op, op)
    return TypeError(
        f"{name}: unsupported dtype {dtype}; {name} has no rule for complex values (the "
        f"compiled kernels and their twins take float32 and float64; ops with a complex "
        f"meaning take complex values through the op table's Python path)")


def as_array(x, opname, backend="python"):
    """``x`` as a float32/float64 ndarray: ints and bools become float64, others are refused
    (a Tensor of another backend than ``backend`` too)."""
    if type(x) is not ndarray:
        foreign = foreign_node_error(x, opname, backend)
        if foreign is not None:
            raise foreign
    arr = np.asarray(x)
    dtype = arr.dtype
    if dtype not in FLOAT_TYPES:
        if dtype.kind in "biu":
            arr = arr.astype(np.float64)
        else:
            raise dtype_error(opname, dtype)
    return arr


def lift(x, opname):
    """A node for ``x``: itself if it is one, else a constant of its own (float) dtype."""
    if isinstance(x, Node):
        return x
    return new_node(as_array(x, opname), False)


def as_constant(x, dtype, opname):
    """Wrap non-node data as a constant node of ``dtype`` (the dtype of the tensor it meets):
    a constant never changes a tensor's precision."""
    if type(x) is not ndarray:
        foreign = foreign_node_error(x, opname, "python")
        if foreign is not None:
            raise foreign
    arr = np.asarray(x)
    if arr.dtype != dtype:
        if arr.dtype.kind == "c" and _complex_fallback is not None:
            note_complex()
            return new_node(arr, False)  # the op's make_result takes the complex path
        if arr.dtype.kind not in "biuf":
            raise dtype_error(opname, arr.dtype)
        arr = arr.astype(dtype)
    return new_node(arr, False)


# ---------------------------------------------------------------- the VJP table

VJP = [None] * N_OPS


def register_vjp(op, vjp):
    """Install ``vjp(node, g)``: it adds node's contributions into its parents via accumulate."""
    VJP[op] = vjp


def has_vjp(op):
    """True when a VJP is installed for op code ``op``."""
    return 0 <= op < N_OPS and VJP[op] is not None


# ---------------------------------------------------------------- epochs

_epochs = itertools.count(1)  # (next() on it is atomic: threads never share an epoch)


def next_epoch():
    """A number no node has seen yet: the sort marks visited nodes with it, the sweep marks the
    gradients it allocated with it. Marks never need resetting."""
    return next(_epochs)


# ---------------------------------------------------------------- accumulation


class NonFiniteGradient(FloatingPointError):
    """Raised in checking mode by the first VJP whose contribution is NaN or Inf."""

    def __init__(self, node, parent):
        self.node = node
        self.parent = parent
        super().__init__(describe(node))


def op_name(node):
    """The name of node's op; a primitive defined in Python by its function's name."""
    if node._op == OP_CUSTOM:
        name = getattr(node._ctx, "primitive", None)
        name = getattr(name, "__name__", name)  # extend's _Call holds the Primitive itself
        if name is not None:
            return f"primitive {name}"
    return OP_NAMES.get(node._op, node._op)


def describe(node):
    """``tanh (float32 (3, 4))``: an op's name with its output dtype and shape, for messages."""
    data = node.data
    return f"{op_name(node)} ({data.dtype} {tuple(data.shape)})"


def sum_to_shape(g, shape):
    """Sum ``g`` over the axes broadcasting added, so that it has ``shape``."""
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    if axes:
        g = np.add.reduce(g, axis=axes, keepdims=True)
    return g.reshape(shape)


def _added(pg, g):
    """A new array holding g + pg (pg: node.grad, of g's shape and dtype; maybe a view)."""
    out = g.copy()
    out += pg
    return out


def accumulate(node, g, owned):
    """node.grad += g, with g first summed to node's shape and cast to node's dtype.

    ``owned`` says that g was freshly allocated by the caller and is referenced nowhere else,
    so it may be kept and later added into in place. A gradient received by reference (a
    pass-through, a view of another gradient, the caller's seed) is never written into; a leaf
    always ends up owning its gradient, so that no two leaves share one array.
    """
    if not node.requires_grad:
        return
    st = state
    touched = st.touched
    if touched is None:
        raise no_sweep_error(node)
    data = node._data
    if type(data) is not ndarray:
        raise corrupt_node_error(node, node)
    if type(g) is not ndarray:
        g = np.asarray(g, dtype=data.dtype)
        owned = True
    if g.shape != data.shape:
        g = sum_to_shape(g, data.shape)
        owned = True
    if g.dtype != data.dtype:
        g = g.astype(data.dtype)
        owned = True
    if st.checking is not None and not np.isfinite(g).all():
        raise NonFiniteGradient(st.checking, node)
    pg = node._grad
    if pg is not None and not (type(pg) is ndarray and pg.dtype == data.dtype
                               and pg.shape == data.shape):
        checked_grad(node, pg)  # raises, naming what is wrong with it
        raise corrupt_node_error(node, node)
    sweep_epoch = st.sweep_epoch
    if node._gown == sweep_epoch:  # allocated by this sweep: ours to add into
        np.add(pg, g, out=pg)
    elif node._op == OP_LEAF or node._retain:
        # first contribution of this sweep to a gradient the user sees
        touched.append(node)
        touched.append(pg)
        if pg is not None:
            g = _added(pg, g)
        elif not owned:
            g = g.copy()
        node._grad = g
        node._gown = sweep_epoch
    elif pg is None:
        node._grad = g
        node._gown = sweep_epoch if owned else 0
    else:
        node._grad = _added(pg, g)
        node._gown = sweep_epoch


def vjp_custom(node, g):
    """A primitive defined in Python: its ctx maps g to one contribution (or None) per parent"""
    for parent, contribution in zip(node._prev, node._ctx(g)):
        if contribution is not None and parent.requires_grad:
            accumulate(parent, np.asarray(contribution), False)


register_vjp(OP_CUSTOM, vjp_custom)
