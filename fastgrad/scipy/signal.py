"""scipy.signal.convolve, differentiable in both arguments, with autograd's generalisation:
``convolve(A, B, axes=None, dot_axes=((), ()), mode='full')`` convolves A's ``axes[0]`` with
B's ``axes[1]`` (all axes by default), sums over the paired ``dot_axes``, and keeps the other
axes: the result's axes are A's others, then B's others, then the convolved ones. ``mode`` is
scipy's: 'full', 'valid' (|n_A - n_B| + 1 long) or 'same' (as long as A, centred).

It is a composite of fastgrad ops (a gather of B into a Toeplitz layout, then one matrix
product), so it differentiates to any order. On plain arrays with the default axes it is
scipy's own function.
"""
import numpy as np

from ..extend import node_types
from ..ops import kernels as k

__all__ = ["convolve"]

MODES = ("full", "valid", "same")


def _traced(x):
    return isinstance(x, node_types())


def _shape(x):
    return x.data.shape if _traced(x) else np.shape(x)


def _transpose(x, perm):
    return k.transpose(x, tuple(perm)) if _traced(x) else np.transpose(x, perm)


def _reshape(x, shape):
    return k.reshape(x, tuple(shape)) if _traced(x) else np.reshape(x, shape)


def _pad(x, axis, before, after):
    """x with ``before`` and ``after`` zeros added along ``axis``."""
    if before == 0 and after == 0:
        return x
    shape = list(_shape(x))
    parts = []
    if before:
        shape[axis] = before
        parts.append(np.zeros(shape))
    parts.append(x)
    if after:
        shape[axis] = after
        parts.append(np.zeros(shape))
    if _traced(x):
        dtype = x.data.dtype
        return k.concatenate([p if _traced(p) else p.astype(dtype) for p in parts], axis)
    return np.concatenate(parts, axis)


def _window(mode, na, nb):
    """(start, length) of the output along one convolved axis, within the full convolution."""
    full = na + nb - 1
    if mode == "full":
        return 0, full
    if mode == "valid":
        return min(na, nb) - 1, abs(na - nb) + 1
    return (full - na) // 2, na


def _axes(name, axes, ndim):
    out = []
    for ax in axes:
        if not isinstance(ax, (int, np.integer)) or not -ndim <= ax < ndim:
            raise ValueError(f"fastgrad.scipy.signal.convolve: axis {ax!r} is out of range for "
                             f"{name} with {ndim} dimensions")
        out.append(int(ax) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"fastgrad.scipy.signal.convolve: repeated axes {list(axes)} for {name}")
    return out


def convolve(A, B, axes=None, dot_axes=((), ()), mode="full"):
    """scipy.signal.convolve generalised (see the module docstring)."""
    if mode not in MODES:
        raise ValueError(f"fastgrad.scipy.signal.convolve: mode must be one of {MODES}, got "
                         f"{mode!r}")
    plain_default = axes is None and not dot_axes[0] and not dot_axes[1]
    if not (_traced(A) or _traced(B)):
        A, B = np.asarray(A), np.asarray(B)
        if plain_default and A.ndim == B.ndim:
            import scipy.signal
            return scipy.signal.convolve(A, B, mode=mode)
    sa, sb = _shape(A), _shape(B)
    if axes is None:
        if len(sa) != len(sb):
            raise ValueError(f"fastgrad.scipy.signal.convolve: A has shape {sa} and B {sb}; "
                             f"without axes= both must have the same number of dimensions")
        axes = (list(range(len(sa))), list(range(len(sb))))
    conv_a, conv_b = _axes("A", axes[0], len(sa)), _axes("B", axes[1], len(sb))
    dot_a, dot_b = _axes("A", dot_axes[0], len(sa)), _axes("B", dot_axes[1], len(sb))
    if len(conv_a) != len(conv_b) or len(dot_a) != len(dot_b):
        raise ValueError(f"fastgrad.scipy.signal.convolve: axes {axes} and dot_axes {dot_axes} "
                         f"must pair as many axes of A as of B")
    if set(conv_a) & set(dot_a) or set(conv_b) & set(dot_b):
        raise ValueError("fastgrad.scipy.signal.convolve: an axis cannot be both convolved and "
                         "summed (axes and dot_axes overlap)")
    for i, j in zip(dot_a, dot_b):
        if sa[i] != sb[j]:
            raise ValueError(f"fastgrad.scipy.signal.convolve: dot_axes pair A's axis {i} "
                             f"(size {sa[i]}) with B's axis {j} (size {sb[j]})")
    other_a = [i for i in range(len(sa)) if i not in conv_a and i not in dot_a]
    other_b = [i for i in range(len(sb)) if i not in conv_b and i not in dot_b]
    na = [sa[i] for i in conv_a]
    nb = [sb[i] for i in conv_b]
    D = int(np.prod([sa[i] for i in dot_a], dtype=np.int64))
    OA = int(np.prod([sa[i] for i in other_a], dtype=np.int64))
    OB = int(np.prod([sb[i] for i in other_b], dtype=np.int64))
    I = int(np.prod(na, dtype=np.int64))
    c = len(conv_a)
    windows = [_window(mode, p, q) for p, q in zip(na, nb)]
    lengths = [n for _, n in windows]
    # A as (others, dot, conv...) -> (OA, D * I)
    a2 = _reshape(_transpose(A, other_a + dot_a + conv_a), (OA, D * I))
    # B as (dot, others, conv...), zero-padded by n_A - 1 on each side of each convolved axis
    b = _reshape(_transpose(B, dot_b + other_b + conv_b), [D, OB] + nb)
    for j in range(c):
        b = _pad(b, 2 + j, na[j] - 1, na[j] - 1)
    # gather: G[d, o, i_1..i_c, n_1..n_c] = B[d, o, n - i] (zero outside B), n in the window
    index = []
    for j, ((start, length), p) in enumerate(zip(windows, na)):
        i = np.arange(p).reshape((1,) * j + (p,) + (1,) * (c - 1 - j) + (1,) * c)
        n = (np.arange(length) + start).reshape((1,) * c + (1,) * j + (length,)
                                                 + (1,) * (c - 1 - j))
        index.append(n - i + (p - 1))
    key = (slice(None), slice(None)) + tuple(index)
    g = k.getitem(b, key) if _traced(b) else b[key]
    # (D, OB, I, N) -> (D, I, OB, N) -> (D * I, OB * N)
    N = int(np.prod(lengths, dtype=np.int64))
    g = _transpose(_reshape(g, (D, OB, I, N)), (0, 2, 1, 3))
    g = _reshape(g, (D * I, OB * N))
    if _traced(a2) or _traced(g):
        out = k.matmul(a2, g)
    else:
        out = a2 @ g
    shape = [sa[i] for i in other_a] + [sb[i] for i in other_b] + lengths
    return _reshape(out, shape)
