"""Graph nodes, and the helpers every kernel shares (twin of csrc/node.pyx).

A node holds its forward value ``data`` (always an ndarray), its gradient ``grad``, its parents
``_prev`` (a tuple, in the order the op recorded them), an op code ``_op`` and whatever its VJP
needs, ``_ctx``. A leaf has ``_op == OP_LEAF`` and no parents; an interior node whose graph was
freed by ``backward()`` keeps its op code but has ``_prev is None``.

Gradients flow into nodes through :func:`accumulate`, the one place that sums a contribution back
to the parent's shape and dtype and decides whether it may add in place.
"""
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


class Node:
    """Storage of one graph node; fastgrad.Tensor is built on it."""

    __slots__ = ("data", "grad", "_prev", "_ctx", "_op", "requires_grad", "_retain",
                 "_mark", "_gown")

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # numpy calls this for ndarray-op-tensor and for ufuncs applied to tensors
        if not kwargs and method == "__call__":
            fn = UFUNCS.get(ufunc)
            if fn is not None:
                return fn(*inputs)
        return _ufunc_fallback(ufunc, method, inputs, kwargs)


# ---------------------------------------------------------------- result type and grad mode

_tensor_type = None
_grad_enabled = True


def set_tensor_type(cls):
    """Make ops return instances of ``cls`` (a subclass of Node): fastgrad.Tensor."""
    global _tensor_type
    _tensor_type = cls


def set_grad_enabled(enabled):
    """Turn graph recording on or off; return the previous setting."""
    global _grad_enabled
    previous = _grad_enabled
    _grad_enabled = bool(enabled)
    return previous


def is_grad_enabled():
    return _grad_enabled


def new_node(data, requires_grad):
    """A leaf of the registered tensor type holding ``data`` (an ndarray, not copied)."""
    out = object.__new__(_tensor_type)
    out.data = data
    out.grad = None
    out._prev = None
    out._ctx = None
    out._op = OP_LEAF
    out.requires_grad = requires_grad
    out._retain = False
    out._mark = 0
    out._gown = 0
    return out


def make_result(data, op, prev, ctx):
    """The output node of op ``op``: records the graph only if grad mode is on and a parent
    requires grad (otherwise the result is a constant leaf)."""
    if type(data) is not ndarray:
        data = np.asarray(data)  # numpy returns scalars for 0-d results; nodes hold arrays
    out = new_node(data, False)
    if _grad_enabled:
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
    return TypeError(
        f"{opname}: unsupported dtype {dtype}; fastgrad differentiates float32 and float64 "
        f"arrays (integers and booleans are converted to float64 when a Tensor is made)")


def as_array(x, opname):
    """``x`` as a float32/float64 ndarray: ints and bools become float64, others are refused."""
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
    arr = np.asarray(x)
    if arr.dtype != dtype:
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

_epoch = 0


def next_epoch():
    """A number no node has seen yet: the sort marks visited nodes with it, the sweep marks the
    gradients it allocated with it. Marks never need resetting."""
    global _epoch
    _epoch += 1
    return _epoch


# ---------------------------------------------------------------- accumulation

# State of the sweep in progress (set by sweep.py; saved and restored so that a Python VJP may
# run a backward of its own).
sweep_epoch = 0
touched = None     # list: leaf, its grad before this sweep, leaf, ... (for checks and rollback)
checking = None    # when set, the node whose VJP is running: contributions are checked finite


class NonFiniteGradient(FloatingPointError):
    """Raised in checking mode by the first VJP whose contribution is NaN or Inf."""

    def __init__(self, node, parent):
        self.node = node
        self.parent = parent
        super().__init__(describe(node))


def describe(node):
    """``tanh (float32 (3, 4))``: an op's name with its output dtype and shape, for messages."""
    data = node.data
    return f"{OP_NAMES.get(node._op, node._op)} ({data.dtype} {tuple(data.shape)})"


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
    data = node.data
    if type(g) is not ndarray:
        g = np.asarray(g, dtype=data.dtype)
        owned = True
    if g.shape != data.shape:
        g = sum_to_shape(g, data.shape)
        owned = True
    if g.dtype != data.dtype:
        g = g.astype(data.dtype)
        owned = True
    if checking is not None and not np.isfinite(g).all():
        raise NonFiniteGradient(checking, node)
    pg = node.grad
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
        node.grad = g
        node._gown = sweep_epoch
    elif pg is None:
        node.grad = g
        node._gown = sweep_epoch if owned else 0
    else:
        node.grad = _added(pg, g)
        node._gown = sweep_epoch


def vjp_custom(node, g):
    """A primitive defined in Python: its ctx maps g to one contribution (or None) per parent"""
    for parent, contribution in zip(node._prev, node._ctx(g)):
        if contribution is not None and parent.requires_grad:
            accumulate(parent, np.asarray(contribution), False)


register_vjp(OP_CUSTOM, vjp_custom)
