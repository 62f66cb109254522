"""flatten(value) -> (vector, unflatten): nested lists, tuples and dicts of arrays and scalars as
one 1-D array, and back (autograd.misc.flatten's behaviour: dict values in sorted key order,
scalars unflattened as 0-d arrays of their dtype).

It works on traced values too (inside ``grad``), so a regulariser may flatten the parameters
it is differentiated with respect to.
"""
import numpy as np

from ..extend import node_types

__all__ = ["flatten", "flatten_func"]


def _leaves(value, out):
    """Append the arrays and scalars of ``value`` to ``out`` in flattening order."""
    t = type(value)
    if t is list or t is tuple or (isinstance(value, (list, tuple))):
        for v in value:
            _leaves(v, out)
    elif isinstance(value, dict):
        for k in sorted(value):
            _leaves(value[k], out)
    else:
        out.append(value)


def _rebuild(value, pieces):
    """``value``'s structure with its leaves replaced by ``next(pieces)``."""
    t = type(value)
    if isinstance(value, tuple) and hasattr(value, "_fields"):
        return t(*[_rebuild(v, pieces) for v in value])
    if isinstance(value, (list, tuple)):
        return t([_rebuild(v, pieces) for v in value])
    if isinstance(value, dict):
        # fill in sorted key order (the order of the vector), keep the dict's own order
        filled = {k: _rebuild(value[k], pieces) for k in sorted(value)}
        return t((k, filled[k]) for k in value)
    return next(pieces)


def _face_for(items):
    """fastgrad.numpy's functions when an item is traced, or None."""
    nodes = node_types()
    for item in items:
        if isinstance(item, nodes):
            from ..numpy._face import FUNCTIONS
            return FUNCTIONS
    return None


def flatten(value):
    """Flatten nested lists, tuples and dicts of arrays and scalars into one 1-D array.

    Returns ``(vector, unflatten)``; ``unflatten(v)`` rebuilds the structure from any vector
    of the same length (each piece a new array of its leaf's shape and dtype).
    """
    leaves = []
    _leaves(value, leaves)
    face = _face_for(leaves)
    nodes = node_types()
    shapes, dtypes = [], []
    for leaf in leaves:
        data = leaf.data if isinstance(leaf, nodes) else np.asarray(leaf)
        shapes.append(data.shape)
        dtypes.append(data.dtype)
    if face is None:
        vector = (np.concatenate([np.ravel(leaf) for leaf in leaves]) if leaves
                  else np.array([]))
    else:
        vector = face["concatenate"]([face["ravel"](leaf) for leaf in leaves])
    bounds = np.cumsum([0] + [int(np.prod(s, dtype=np.int64)) for s in shapes]).tolist()

    def unflatten(vector):
        face = _face_for((vector,))
        pieces = []
        for start, stop, shape, dtype in zip(bounds[:-1], bounds[1:], shapes, dtypes):
            if face is None:
                pieces.append(np.array(vector[start:stop].reshape(shape), dtype=dtype))
            else:
                piece = face["reshape"](vector[start:stop], shape)
                pieces.append(face["array"](piece, dtype=dtype))
        return _rebuild(value, iter(pieces))

    return vector, unflatten


def flatten_func(func, example):
    """``func`` of a structure as a function of its flattened vector: returns
    ``(flat_func, unflatten, flat_example)`` with ``flat_func(v, *args)`` the flattened value
    of ``func(unflatten(v), *args)``."""
    flat_example, unflatten = flatten(example)

    def flat_func(v, *args):
        return flatten(func(unflatten(v), *args))[0]

    return flat_func, unflatten, flat_example
