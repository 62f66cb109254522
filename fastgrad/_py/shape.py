"""Shape primitives: forward and VJP (twin of csrc/shape.pyx).

None of them computes anything: each VJP puts ``g`` back into the input's layout.
"""
import numpy as np

from .node import Node, accumulate, as_constant, lift, make_result, register_vjp
from .opcodes import (OP_ASTYPE, OP_BROADCAST, OP_CONCAT, OP_GETITEM, OP_RESHAPE, OP_STACK,
                      OP_TRANSPOSE)
from fastgrad._shared.shape import (
    broadcast, concatenated, float_dtype, indexed, is_basic_index, reshaped, stacked,
    transpose_axes)


# ---------------------------------------------------------------- forwards

def unwrap_index(index):
    """Tensors used as indexes stand for their data (an index is not differentiated)."""
    if isinstance(index, Node):
        return index.data
    if type(index) is tuple:
        return tuple(i.data if isinstance(i, Node) else i for i in index)
    return index


def lift_all(arrays, opname):
    """The nodes of a sequence, constants taking the float dtype the tensors share."""
    if isinstance(arrays, Node) or not len(arrays):
        raise ValueError(f"{opname}: needs a non-empty sequence of arrays")
    nodes = [a for a in arrays if isinstance(a, Node)]
    dtype = np.result_type(*[n.data.dtype for n in nodes]) if nodes else None
    return tuple(a if isinstance(a, Node) else
                 (as_constant(a, dtype, opname) if dtype is not None else lift(a, opname))
                 for a in arrays)


def reshape(x, shape):
    x = lift(x, "reshape")
    return make_result(reshaped(x.data, shape), OP_RESHAPE, (x,), None)


def transpose(x, axes=None):
    x = lift(x, "transpose")
    axes = transpose_axes(x.data, axes)
    return make_result(x.data.transpose(axes), OP_TRANSPOSE, (x,), axes)


def getitem(x, index):
    x = lift(x, "getitem")
    index = unwrap_index(index)
    return make_result(indexed(x.data, index), OP_GETITEM, (x,), index)


def concatenate(arrays, axis=0):
    nodes = lift_all(arrays, "concatenate")
    data, axis = concatenated([n.data for n in nodes], axis)
    return make_result(data, OP_CONCAT, nodes, axis)


def stack(arrays, axis=0):
    nodes = lift_all(arrays, "stack")
    data, axis = stacked([n.data for n in nodes], axis)
    return make_result(data, OP_STACK, nodes, axis)


def broadcast_to(x, shape):
    x = lift(x, "broadcast_to")
    return make_result(broadcast(x.data, shape), OP_BROADCAST, (x,), None)


def astype(x, dtype):
    x = lift(x, "astype")
    return make_result(x.data.astype(float_dtype(dtype)), OP_ASTYPE, (x,), None)


# ---------------------------------------------------------------- VJPs

def vjp_reshape(node, g):
    """ga = g reshaped to a's shape"""
    a = node._prev[0]
    accumulate(a, g.reshape(a.data.shape), False)


def vjp_transpose(node, g):
    """ga = g with the axes permuted back"""
    axes = node._ctx
    back = None if axes is None else tuple(np.argsort(axes))
    accumulate(node._prev[0], g.transpose(back), False)


def vjp_getitem(node, g):
    """ga = zeros with g added at the indexed places (np.add.at when an index may repeat)"""
    a = node._prev[0]
    index = node._ctx
    ga = np.zeros(a.data.shape, dtype=g.dtype)
    if is_basic_index(index) or (isinstance(index, np.ndarray) and index.dtype == bool):
        ga[index] = g
    else:
        np.add.at(ga, index, g)
    accumulate(a, ga, True)


def vjp_concat(node, g):
    """g split along the axis into the inputs' lengths"""
    axis = node._ctx
    lead = (slice(None),) * axis
    start = 0
    for parent in node._prev:
        stop = start + parent.data.shape[axis]
        if parent.requires_grad:
            accumulate(parent, g[lead + (slice(start, stop),)], False)
        start = stop


def vjp_stack(node, g):
    """g taken apart along the new axis"""
    axis = node._ctx
    lead = (slice(None),) * axis
    for i, parent in enumerate(node._prev):
        if parent.requires_grad:
            accumulate(parent, g[lead + (i,)], False)


def vjp_passthrough(node, g):
    """ga = g (accumulate sums it to a's shape and casts it to a's dtype)"""
    accumulate(node._prev[0], g, False)


for _op, _vjp in {OP_RESHAPE: vjp_reshape, OP_TRANSPOSE: vjp_transpose,
                  OP_GETITEM: vjp_getitem, OP_CONCAT: vjp_concat, OP_STACK: vjp_stack,
                  OP_BROADCAST: vjp_passthrough, OP_ASTYPE: vjp_passthrough}.items():
    register_vjp(_op, _vjp)
