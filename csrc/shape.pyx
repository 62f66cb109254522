"""Shape primitives: forward and VJP (twin: fastgrad/_py/shape.py).

None of them computes anything: each VJP puts ``g`` back into the input's layout.
"""
cimport numpy as cnp

import numpy as np

from fastgrad._cy.node cimport Node, accumulate, as_constant, lift, make_result, register_vjp
from fastgrad._cy.opcodes cimport (OP_ASTYPE, OP_BROADCAST, OP_CONCAT, OP_GETITEM, OP_RESHAPE,
                                   OP_STACK, OP_TRANSPOSE)

from fastgrad._cy.node import FLOAT_TYPES
from fastgrad._cy.reduce import normalize_axis

cnp.import_array()


def reshape(x, shape):
    x = lift(x, "reshape")
    try:
        data = x.data.reshape(shape)
    except (ValueError, TypeError) as e:
        raise ValueError(f"reshape: cannot reshape an array of shape {x.data.shape} "
                         f"({x.data.size} elements) into {shape!r}: {e}") from None
    return make_result(data, OP_RESHAPE, (x,), None)


def transpose(x, axes=None):
    x = lift(x, "transpose")
    if axes is not None:
        axes = tuple(int(ax) for ax in axes)
        if sorted(ax % max(x.data.ndim, 1) for ax in axes) != list(range(x.data.ndim)):
            raise ValueError(f"transpose: axes {axes} are not a permutation of the "
                             f"{x.data.ndim} axes of an array of shape {x.data.shape}")
        axes = tuple(ax % x.data.ndim for ax in axes)
    return make_result(x.data.transpose(axes), OP_TRANSPOSE, (x,), axes)


def is_basic_index(index):
    """True for indexes made of ints, slices, None and Ellipsis only (they select each
    element at most once, so the VJP may assign instead of add)."""
    items = index if type(index) is tuple else (index,)
    for item in items:
        if not (item is None or item is Ellipsis or isinstance(item, (slice, int, np.integer))):
            return False
    return True


def unwrap_index(index):
    """Tensors used as indexes stand for their data (an index is not differentiated)."""
    if isinstance(index, Node):
        return index.data
    if type(index) is tuple:
        return tuple(i.data if isinstance(i, Node) else i for i in index)
    return index


def getitem(x, index):
    x = lift(x, "getitem")
    index = unwrap_index(index)
    if isinstance(index, np.ndarray) and index.dtype.kind == "f":
        raise IndexError(f"getitem: float array of shape {index.shape} used as an index")
    try:
        data = x.data[index]
    except IndexError as e:
        raise IndexError(f"getitem: {e} (indexing an array of shape {x.data.shape})") from None
    return make_result(data, OP_GETITEM, (x,), index)


def _lift_all(arrays, opname):
    """The nodes of a sequence, constants taking the float dtype the tensors share."""
    if isinstance(arrays, Node) or not len(arrays):
        raise ValueError(f"{opname}: needs a non-empty sequence of arrays")
    nodes = [a for a in arrays if isinstance(a, Node)]
    dtype = np.result_type(*[n.data.dtype for n in nodes]) if nodes else None
    return tuple(a if isinstance(a, Node) else
                 (as_constant(a, dtype, opname) if dtype is not None else lift(a, opname))
                 for a in arrays)


def concatenate(arrays, axis=0):
    nodes = _lift_all(arrays, "concatenate")
    first = nodes[0].data
    if first.ndim == 0:
        raise ValueError("concatenate: zero-dimensional arrays cannot be concatenated")
    axis = normalize_axis(axis, first.ndim, "concatenate")
    try:
        data = np.concatenate([n.data for n in nodes], axis=axis)
    except ValueError:
        shapes = ", ".join(str(n.data.shape) for n in nodes)
        raise ValueError(f"concatenate: shapes {shapes} differ outside axis {axis}") from None
    return make_result(data, OP_CONCAT, nodes, axis)


def stack(arrays, axis=0):
    nodes = _lift_all(arrays, "stack")
    axis = normalize_axis(axis, nodes[0].data.ndim + 1, "stack")
    try:
        data = np.stack([n.data for n in nodes], axis=axis)
    except ValueError:
        shapes = ", ".join(str(n.data.shape) for n in nodes)
        raise ValueError(f"stack: all arrays must have the same shape, got {shapes}") from None
    return make_result(data, OP_STACK, nodes, axis)


def broadcast_to(x, shape):
    x = lift(x, "broadcast_to")
    try:
        data = np.broadcast_to(x.data, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {x.data.shape} "
                         f"to {tuple(shape)}") from None
    return make_result(data, OP_BROADCAST, (x,), None)


def astype(x, dtype):
    x = lift(x, "astype")
    dtype = np.dtype(dtype)
    if dtype not in FLOAT_TYPES:
        raise TypeError(f"astype: fastgrad tensors hold float32 or float64, not {dtype}")
    return make_result(x.data.astype(dtype), OP_ASTYPE, (x,), None)


# ---------------------------------------------------------------- VJPs

cdef int vjp_reshape(Node node, object g) except -1:
    """ga = g reshaped to a's shape"""
    cdef Node a = <Node>node._prev[0]
    return accumulate(a, g.reshape(a.data.shape), False)


cdef int vjp_transpose(Node node, object g) except -1:
    """ga = g with the axes permuted back"""
    axes = node._ctx
    back = None if axes is None else tuple(np.argsort(axes))
    return accumulate(<Node>node._prev[0], g.transpose(back), False)


cdef int vjp_getitem(Node node, object g) except -1:
    """ga = zeros with g added at the indexed places (np.add.at when an index may repeat)"""
    cdef Node a = <Node>node._prev[0]
    index = node._ctx
    ga = np.zeros(a.data.shape, dtype=g.dtype)
    if is_basic_index(index) or (isinstance(index, np.ndarray) and index.dtype == bool):
        ga[index] = g
    else:
        np.add.at(ga, index, g)
    return accumulate(a, ga, True)


cdef int vjp_concat(Node node, object g) except -1:
    """g split along the axis into the inputs' lengths"""
    cdef Node parent
    axis = node._ctx
    lead = (slice(None),) * axis
    start = 0
    for p in node._prev:
        parent = <Node>p
        stop = start + parent.data.shape[axis]
        if parent.requires_grad:
            accumulate(parent, g[lead + (slice(start, stop),)], False)
        start = stop
    return 0


cdef int vjp_stack(Node node, object g) except -1:
    """g taken apart along the new axis"""
    cdef Node parent
    axis = node._ctx
    lead = (slice(None),) * axis
    for i, p in enumerate(node._prev):
        parent = <Node>p
        if parent.requires_grad:
            accumulate(parent, g[lead + (i,)], False)
    return 0


cdef int vjp_passthrough(Node node, object g) except -1:
    """ga = g (accumulate sums it to a's shape and casts it to a's dtype)"""
    return accumulate(<Node>node._prev[0], g, False)


register_vjp(OP_RESHAPE, vjp_reshape)
register_vjp(OP_TRANSPOSE, vjp_transpose)
register_vjp(OP_GETITEM, vjp_getitem)
register_vjp(OP_CONCAT, vjp_concat)
register_vjp(OP_STACK, vjp_stack)
register_vjp(OP_BROADCAST, vjp_passthrough)
register_vjp(OP_ASTYPE, vjp_passthrough)
