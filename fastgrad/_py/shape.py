"""Shape primitives: forward and VJP (twin of csrc/shape.pyx).

None of them computes anything: each VJP puts ``g`` back into the input's layout.
"""
import numpy as np

from .node import FLOAT_TYPES, Node, accumulate, as_constant, lift, make_result, register_vjp
from .opcodes import (OP_ASTYPE, OP_BROADCAST, OP_CONCAT, OP_GETITEM, OP_RESHAPE, OP_STACK,
                      OP_TRANSPOSE)
from .reduce import normalize_axis


# ------------------------------------------------------- values (shared with csrc/shape.pyx)

def reshaped(X, shape):
    """X.reshape(shape), or a ValueError naming both shapes."""
    try:
        return X.reshape(shape)
    except (ValueError, TypeError) as e:
        raise ValueError(f"reshape: cannot reshape an array of shape {X.shape} "
                         f"({X.size} elements) into {shape!r}: {e}") from None


def transpose_axes(X, axes):
    """``axes`` as a tuple of X's axes in [0, ndim) (None stays None: reverse them all)."""
    if axes is None:
        return None
    axes = tuple(int(ax) for ax in axes)
    if sorted(ax % max(X.ndim, 1) for ax in axes) != list(range(X.ndim)):
        raise ValueError(f"transpose: axes {axes} are not a permutation of the "
                         f"{X.ndim} axes of an array of shape {X.shape}")
    return tuple(ax % X.ndim for ax in axes)


def is_basic_index(index):
    """True for indexes made of ints, slices, None and Ellipsis only (they select each
    element at most once, so the VJP may assign instead of add)."""
    items = index if type(index) is tuple else (index,)
    for item in items:
        if not (item is None or item is Ellipsis or isinstance(item, (slice, int, np.integer))):
            return False
    return True


def indexed(X, index):
    """X[index] (the index holds no tensors), or an IndexError naming X's shape."""
    if isinstance(index, np.ndarray) and index.dtype.kind == "f":
        raise IndexError(f"getitem: float array of shape {index.shape} used as an index")
    try:
        return X[index]
    except IndexError as e:
        raise IndexError(f"getitem: {e} (indexing an array of shape {X.shape})") from None


def concatenated(arrays, axis):
    """(np.concatenate(arrays, axis), the axis in [0, ndim)), or a ValueError naming the shapes."""
    if arrays[0].ndim == 0:
        raise ValueError("concatenate: zero-dimensional arrays cannot be concatenated")
    axis = normalize_axis(axis, arrays[0].ndim, "concatenate")
    try:
        return np.concatenate(arrays, axis=axis), axis
    except ValueError:
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise ValueError(f"concatenate: shapes {shapes} differ outside axis {axis}") from None


def stacked(arrays, axis):
    """(np.stack(arrays, axis), the axis in [0, ndim]), or a ValueError naming the shapes."""
    axis = normalize_axis(axis, arrays[0].ndim + 1, "stack")
    try:
        return np.stack(arrays, axis=axis), axis
    except ValueError:
        shapes = ", ".join(str(a.shape) for a in arrays)
        raise ValueError(f"stack: all arrays must have the same shape, got {shapes}") from None


def broadcast(X, shape):
    """np.broadcast_to(X, shape) (a read-only view), or a ValueError naming both shapes."""
    try:
        return np.broadcast_to(X, shape)
    except ValueError:
        raise ValueError(f"broadcast_to: cannot broadcast shape {X.shape} "
                         f"to {tuple(shape)}") from None


def float_dtype(dtype):
    """``dtype`` as a numpy dtype, if it is float32 or float64."""
    dtype = np.dtype(dtype)
    if dtype not in FLOAT_TYPES:
        raise TypeError(f"astype: fastgrad tensors hold float32 or float64, not {dtype}")
    return dtype


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
