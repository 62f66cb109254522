"""numpy.linalg for fastgrad.numpy: ``norm`` is differentiable for the norms regularisers use
(the 2-norm of vectors, the Frobenius norm of matrices); the other functions are numpy's,
refusing traced values by name."""
import numpy.linalg as _linalg

from ..extend import node_types as _node_types
from . import _face


def norm(x, ord=None, axis=None, keepdims=False):
    """numpy.linalg.norm. On traced values: ord=None (the 2-norm of the flattened array, or
    along ``axis``), ord=2 along one axis, ord='fro' over two: sqrt(sum(x**2))."""
    if not isinstance(x, _node_types()):
        return _linalg.norm(x, ord, axis, keepdims)
    if isinstance(axis, list):
        axis = tuple(axis)
    one_axis = (axis is None and x.data.ndim == 1) or isinstance(axis, int) or (
        isinstance(axis, tuple) and len(axis) == 1)
    if not (ord is None or (ord == 2 and one_axis) or (ord == "fro" and not one_axis)):
        raise TypeError(f"fastgrad.numpy.linalg.norm: ord={ord!r} is not supported on traced "
                        f"values (ord=None, the 2-norm along one axis and 'fro' are)")
    fns = _face.build(type(x)._backend)
    return fns["sqrt"](fns["sum"](x * x, axis, keepdims=keepdims))


def __getattr__(name):
    obj = getattr(_linalg, name)
    if callable(obj) and not isinstance(obj, type):
        obj = _face.guard(f"linalg.{name}", obj, _node_types)
    globals()[name] = obj
    return obj
