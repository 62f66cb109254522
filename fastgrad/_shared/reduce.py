"""Reductions' axis rules, messages and reference values, shared by fastgrad._cy.reduce and its
twin fastgrad._py.reduce."""
import numpy as np


def normalize_axes(axis, ndim, opname):
    """``axis`` (None, an int or a sequence of ints) as a sorted tuple of axes in [0, ndim)."""
    if axis is None:
        return None
    if isinstance(axis, (int, np.integer)):
        axis = (axis,)
    axes = []
    for ax in axis:
        if not isinstance(ax, (int, np.integer)):
            raise TypeError(f"{opname}: axis must be an int or a tuple of ints, not {axis!r}")
        if not -ndim <= ax < ndim:
            raise ValueError(f"{opname}: axis {ax} is out of bounds for an array of "
                             f"{ndim} dimension(s)")
        axes.append(int(ax) % ndim)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{opname}: repeated axis in {tuple(axis)}")
    return tuple(sorted(axes))


def normalize_axis(axis, ndim, opname):
    """One axis (an int) in [0, ndim)."""
    if not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{opname}: axis must be an int, not {axis!r}")
    return normalize_axes(axis, ndim, opname)[0]


def kept_shape(shape, axes):
    """``shape`` with the reduced ``axes`` set to 1 (what keepdims=True gives)."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def reduced_shape(shape, axes):
    """``shape`` without the reduced ``axes`` (what keepdims=False gives)."""
    if axes is None:
        return ()
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def reduced_count(shape, axes):
    """How many elements each output of a reduction over ``axes`` gathers."""
    count = 1
    for i, n in enumerate(shape):
        if axes is None or i in axes:
            count *= n
    return count


def empty_error(opname, shape):
    return ValueError(f"{opname}: cannot reduce an empty array of shape {shape} "
                      f"(there is no identity)")


def logsumexp_values(x, axes, keepdims):
    """log(sum(exp(x))) over ``axes``, shifted by the maximum so that nothing overflows."""
    m = np.maximum.reduce(x, axis=axes, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    y = np.log(np.add.reduce(np.exp(x - m), axis=axes, keepdims=True)) + m
    return y if keepdims else y.reshape(reduced_shape(x.shape, axes))


def softmax_values(x, axis):
    """exp(x) / sum(exp(x)) along ``axis``, shifted by the maximum."""
    e = np.exp(x - np.maximum.reduce(x, axis=axis, keepdims=True))
    return e / np.add.reduce(e, axis=axis, keepdims=True)


def log_softmax_values(x, axis):
    """x - logsumexp(x) along ``axis``."""
    return x - logsumexp_values(x, (axis,), True)
