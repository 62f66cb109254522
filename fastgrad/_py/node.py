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

from .opcodes import N_OPS, OP_CUSTOM, OP_LEAF, OP_NAMES  # noqa: F401  (as the compiled node)
from fastgrad._shared.node import (  # noqa: F401  (shared with the compiled module)
    _shape, as_array, BACKEND_NAMES, checked_data, checked_grad, complex_kernel_error,
    corrupt_node_error, describe,
    describe_safely, dtype_error, FLOAT_TYPES, foreign_node_error, is_node, modified_error,
    ndarray, no_sweep_error, NODE_CLASSES, NonFiniteGradient, op_name, register_node_class,
    sum_to_shape)


UFUNCS = {}             # numpy ufunc -> the op function that handles it on nodes
_ufunc_fallback = None  # called for any other ufunc (or method, or out=)


def set_ufunc_table(table, fallback):
    """Route numpy ufuncs called on nodes: ``table`` maps a ufunc to the op function taking
    its inputs; anything else goes to ``fallback(ufunc, method, inputs, kwargs)``."""
    global _ufunc_fallback
    UFUNCS.clear()
    UFUNCS.update(table)
    _ufunc_fallback = fallback


# ---------------------------------------------------------------- checked assignments

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


# ---------------------------------------------------------------- constants

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
