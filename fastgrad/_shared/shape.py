"""Shape ops' forward values and checks, shared by fastgrad._cy.shape and its twin
fastgrad._py.shape."""
import numpy as np

from fastgrad._shared.node import FLOAT_TYPES
from fastgrad._shared.reduce import normalize_axis


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


# elements below which broadcast() copies: np.broadcast_to's view costs microseconds of Python
# (nditer), a small copy a fraction of one; the recorded rules broadcast small gradients often
SMALL_BROADCAST = 1024


def broadcast(X, shape):
    """X broadcast to ``shape``, read-only (np.broadcast_to's view; a copy when small), or a
    ValueError naming both shapes."""
    try:
        if type(shape) is tuple and X.size <= SMALL_BROADCAST and len(shape) >= X.ndim:
            out = np.empty(shape, X.dtype)
            if out.size <= SMALL_BROADCAST:
                np.copyto(out, X)
                out.flags.writeable = False
                return out
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
