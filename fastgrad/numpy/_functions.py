"""The rest of the numpy functions autograd differentiates, as composites of the engine's ops.

Each function here is written with the table's ops (getitem, untake, reshape, transpose,
concatenate, matmul, where, ...), so that its VJP and JVP come from theirs and nest to any
order. Imported after fastgrad/numpy/_face.py, this module adds them to its FUNCTIONS, bound to
the active backend (names the face defines already are kept): with a traced argument the
composite runs, otherwise numpy's own function runs on the arguments untouched.

Plain arrays meeting a traced value become constants of the traced value's dtype.
"""
import functools
import operator

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from .._backend import active
from ..ops import kernels as k
from ..ops.python import untake
from ._face import FUNCTIONS as fns
from ._face import named

SEQUENCES = (list, tuple)


def unsupported(name, what):
    return TypeError(f"fastgrad.numpy.{name}: {what} is not supported on traced values "
                     f"(inside grad); apply numpy to plain arrays for that")


def prod(shape):
    return functools.reduce(operator.mul, shape, 1)

# ---------------------------------------------------------------- the active backend's functions


Node = active.node.Node
as_constant = active.node.as_constant
ew = active.elementwise

# -------------------------------------------------------------- helpers


def holds(seq):
    for item in seq:
        if isinstance(item, Node) or (type(item) in SEQUENCES and holds(item)):
            return True
    return False


def is_traced(x):
    return isinstance(x, Node) or (type(x) in SEQUENCES and holds(x))


def traced(args, kwargs):
    return any(is_traced(a) for a in args) or any(is_traced(a) for a in kwargs.values())


def lift(x):
    """A (nested) list holding traced values as one traced array; anything else as is."""
    if isinstance(x, Node) or type(x) not in SEQUENCES or not holds(x):
        return x
    return k.stack([lift(item) for item in x], 0)


def dtype_of(*xs):
    for x in xs:
        if isinstance(x, Node):
            return x.data.dtype
    return np.dtype(np.float64)


def node(x, dtype):
    """``x`` as a node: traced values as they are, the rest as constants of ``dtype``."""
    x = lift(x)
    if isinstance(x, Node):
        return x
    return as_constant(np.asarray(x), dtype, "fastgrad.numpy")


def nodes(*xs):
    dtype = dtype_of(*[lift(x) for x in xs])
    return [node(x, dtype) for x in xs]


def values(x):
    if isinstance(x, Node):
        return x.data
    if type(x) in SEQUENCES and holds(x):
        return type(x)(values(v) for v in x)
    return x


def dispatch(name, tensor_fn, numpy_fn=None):
    if name in fns:  # defined by the face already (e.g. with complex support): keep it
        return
    numpy_fn = numpy_fn if numpy_fn is not None else getattr(np, name)

    def f(*args, **kwargs):
        if traced(args, kwargs):
            return tensor_fn(*args, **kwargs)
        return numpy_fn(*args, **kwargs)
    fns[name] = named(f, name, numpy_fn)


def moveaxis(x, source, destination):
    n = x.data.ndim
    source = normalize_axis_tuple(source, n)
    destination = normalize_axis_tuple(destination, n)
    order = [i for i in range(n) if i not in source]
    for dest, src in sorted(zip(destination, source)):
        order.insert(dest, src)
    return x if order == list(range(n)) else k.transpose(x, tuple(order))


def along(axis, ndim, index):
    """An index tuple applying ``index`` on ``axis`` of an ndim-dimensional array."""
    return (slice(None),) * axis + (index,) + (slice(None),) * (ndim - axis - 1)

# -------------------------------------------------------------- flips and rotations


def flip_t(m, axis=None):
    m = node(m, dtype_of(lift(m)))
    n = m.data.ndim
    axes = range(n) if axis is None else normalize_axis_tuple(axis, n)
    index = tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(n))
    return k.getitem(m, index)


def flipud_t(m):
    m = node(m, dtype_of(lift(m)))
    if m.data.ndim < 1:
        raise ValueError("Input must be >= 1-d.")
    return flip_t(m, 0)


def fliplr_t(m):
    m = node(m, dtype_of(lift(m)))
    if m.data.ndim < 2:
        raise ValueError("Input must be >= 2-d.")
    return flip_t(m, 1)


def rot90_t(m, k_=1, axes=(0, 1)):
    m = node(m, dtype_of(lift(m)))
    n = m.data.ndim
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    a0, a1 = normalize_axis_tuple(axes, n)
    if a0 == a1:
        raise ValueError("Axes must be different.")
    turns = k_ % 4
    if turns == 0:
        return k.getitem(m, (Ellipsis,))
    if turns == 2:
        return flip_t(flip_t(m, a0), a1)
    perm = list(range(n))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if turns == 1:
        return k.transpose(flip_t(m, a1), tuple(perm))
    return flip_t(k.transpose(m, tuple(perm)), a1)


def roll_t(a, shift, axis=None):
    a = node(a, dtype_of(lift(a)))
    if axis is None:
        return k.reshape(roll_t(k.reshape(a, (-1,)), shift, 0), a.data.shape)
    n = a.data.ndim
    shifts, axes = np.broadcast_arrays(np.asarray(shift), np.asarray(axis))
    total = {}
    for s, ax in zip(shifts.ravel(), axes.ravel()):
        ax = normalize_axis_index(int(ax), n)
        total[ax] = total.get(ax, 0) + int(s)
    out = a
    for ax, s in total.items():
        size = a.data.shape[ax]
        if size and s % size:
            out = k.getitem(out, along(ax, n, (np.arange(size) - s) % size))
    return out if out is not a else k.getitem(a, (Ellipsis,))


def rollaxis_t(a, axis, start=0):
    a = node(a, dtype_of(lift(a)))
    n = a.data.ndim
    axis = normalize_axis_index(axis, n)
    if start < 0:
        start += n
    if not 0 <= start < n + 1:
        raise np.exceptions.AxisError(f"'start' arg requires {-n} <= start < {n + 1}")
    if axis < start:
        start -= 1
    if axis == start:
        return k.getitem(a, (Ellipsis,))
    order = [i for i in range(n) if i != axis]
    order.insert(start, axis)
    return k.transpose(a, tuple(order))


def atleast_3d_t(*arys):
    out = []
    for x in arys:
        x = node(x, dtype_of(lift(x)))
        shape = x.data.shape
        if len(shape) == 0:
            x = k.reshape(x, (1, 1, 1))
        elif len(shape) == 1:
            x = k.reshape(x, (1, shape[0], 1))
        elif len(shape) == 2:
            x = k.reshape(x, shape + (1,))
        out.append(x)
    return out[0] if len(out) == 1 else tuple(out)


for name, fn in {"flip": flip_t, "flipud": flipud_t, "fliplr": fliplr_t, "roll": roll_t,
                 "rollaxis": rollaxis_t, "atleast_3d": atleast_3d_t}.items():
    dispatch(name, fn)
dispatch("rot90", lambda m, k=1, axes=(0, 1): rot90_t(m, k, axes))

# -------------------------------------------------------------- diagonals and triangles


def diag_index(rows, cols, offset):
    """The (row, column) indices of an offset diagonal of a rows x cols matrix."""
    i = np.arange(max(0, min(rows + min(offset, 0), cols - max(offset, 0))))
    return i - min(offset, 0), i + max(offset, 0)


def diagonal_t(a, offset=0, axis1=0, axis2=1):
    a = node(a, dtype_of(lift(a)))
    n = a.data.ndim
    if n < 2:
        raise ValueError("diag requires an array of at least two dimensions")
    axis1, axis2 = normalize_axis_tuple((axis1, axis2), n, allow_duplicate=True)
    if axis1 == axis2:
        raise ValueError("axis1 and axis2 cannot be the same")
    moved = moveaxis(a, (axis1, axis2), (-2, -1))
    rows, cols = diag_index(*moved.data.shape[-2:], offset)
    return k.getitem(moved, (Ellipsis, rows, cols))


def trace_t(a, offset=0, axis1=0, axis2=1, dtype=None, out=None):
    if dtype is not None or out is not None:
        raise unsupported("trace", "dtype= or out=")
    return k.sum(diagonal_t(a, offset, axis1, axis2), -1, False)


def make_diagonal_t(D, offset=0, axis1=0, axis2=1):
    """D's last axis laid on the (axis1, axis2) diagonal of a new array (zeros elsewhere)."""
    D = node(D, dtype_of(lift(D)))
    n = D.data.shape[-1] if D.data.ndim else 1
    if D.data.ndim == 0:
        D = k.reshape(D, (1,))
    size = n + abs(offset)
    rows, cols = diag_index(size, size, offset)
    square = untake(D, (Ellipsis, rows, cols), D.data.shape[:-1] + (size, size))
    ndim = D.data.ndim + 1
    axis1, axis2 = normalize_axis_tuple((axis1, axis2), ndim, allow_duplicate=True)
    if axis1 == axis2:
        raise ValueError("make_diagonal: axis1 and axis2 cannot be the same")
    return moveaxis(square, (-2, -1), (axis1, axis2))


def make_diagonal(D, offset=0, axis1=0, axis2=1):
    if is_traced(D):
        return make_diagonal_t(D, offset, axis1, axis2)
    D = np.asarray(D)
    n = D.shape[-1] if D.ndim else 1
    size = n + abs(offset)
    rows, cols = diag_index(size, size, offset)
    out = np.zeros(D.shape[:-1] + (size, size), dtype=np.result_type(D, 0.0))
    out[..., rows, cols] = D
    return np.moveaxis(out, (-2, -1), normalize_axis_tuple((axis1, axis2), D.ndim + 1))


make_diagonal.__name__ = make_diagonal.__qualname__ = "make_diagonal"
make_diagonal.__module__ = "fastgrad.numpy"
fns.setdefault("make_diagonal", make_diagonal)


def diag_t(v, k_=0):
    v = node(v, dtype_of(lift(v)))
    if v.data.ndim == 1:
        size = v.data.shape[0] + abs(k_)
        return untake(v, diag_index(size, size, k_), (size, size))
    if v.data.ndim == 2:
        return diagonal_t(v, k_)
    raise ValueError("Input must be 1- or 2-d.")


def triangle(name, lower):
    def f(m, k_=0):
        m = node(m, dtype_of(lift(m)))
        shape = m.data.shape
        if len(shape) < 2:
            raise unsupported(name, "an array of fewer than two dimensions")
        keep = np.tri(*shape[-2:], k=k_ if lower else k_ - 1, dtype=bool)
        if not lower:
            keep = ~keep
        return ew.where(keep, m, 0.0)
    dispatch(name, lambda m, k=0: f(m, k))


dispatch("diagonal", diagonal_t)
dispatch("trace", trace_t)
dispatch("diag", lambda v, k=0: diag_t(v, k))
triangle("tril", True)
triangle("triu", False)

# -------------------------------------------------------------- repeating


def repeat_t(a, repeats, axis=None):
    a = node(a, dtype_of(lift(a)))
    if axis is None:
        a = k.reshape(a, (-1,))
        axis = 0
    n = a.data.ndim
    axis = normalize_axis_index(axis, n)
    index = np.repeat(np.arange(a.data.shape[axis]), values(repeats))
    return k.getitem(a, along(axis, n, index))


def tile_t(A, reps):
    A = node(A, dtype_of(lift(A)))
    reps = tuple(reps) if np.iterable(reps) else (reps,)
    d = max(len(reps), A.data.ndim)
    shape = (1,) * (d - A.data.ndim) + A.data.shape
    reps = (1,) * (d - len(reps)) + reps
    interleaved = tuple(x for pair in zip((1,) * d, shape) for x in pair)
    big = tuple(x for pair in zip(reps, shape) for x in pair)
    out = k.broadcast_to(k.reshape(A, interleaved), big)
    return k.reshape(out, tuple(r * s for r, s in zip(reps, shape)))


def kron_t(a, b):
    a, b = nodes(a, b)
    d = max(a.data.ndim, b.data.ndim)
    sa = (1,) * (d - a.data.ndim) + a.data.shape
    sb = (1,) * (d - b.data.ndim) + b.data.shape
    ra = k.reshape(a, tuple(x for s in sa for x in (s, 1)))
    rb = k.reshape(b, tuple(x for s in sb for x in (1, s)))
    return k.reshape(k.multiply(ra, rb), tuple(x * y for x, y in zip(sa, sb)))


dispatch("repeat", repeat_t)
dispatch("tile", tile_t)
dispatch("kron", kron_t)

# -------------------------------------------------------------- splitting and joining


def pieces(name, ary, indices_or_sections, axis):
    ary = node(ary, dtype_of(lift(ary)))
    n = ary.data.ndim
    axis = normalize_axis_index(axis, n)
    split = np.split if name in ("split", "hsplit", "vsplit", "dsplit") else np.array_split
    ranges = split(np.arange(ary.data.shape[axis]), values(indices_or_sections))
    out = []
    start = 0
    for r in ranges:
        out.append(k.getitem(ary, along(axis, n, slice(start, start + len(r)))))
        start += len(r)
    return out


def ndim_of(x):
    x = lift(x)
    return x.data.ndim if isinstance(x, Node) else np.ndim(x)


def hsplit_t(ary, indices_or_sections):
    if ndim_of(ary) == 0:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return pieces("hsplit", ary, indices_or_sections, 1 if ndim_of(ary) > 1 else 0)


def vsplit_t(ary, indices_or_sections):
    if ndim_of(ary) < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return pieces("vsplit", ary, indices_or_sections, 0)


def dsplit_t(ary, indices_or_sections):
    if ndim_of(ary) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return pieces("dsplit", ary, indices_or_sections, 2)


dispatch("split", lambda ary, indices_or_sections, axis=0:
         pieces("split", ary, indices_or_sections, axis))
dispatch("array_split", lambda ary, indices_or_sections, axis=0:
         pieces("array_split", ary, indices_or_sections, axis))
dispatch("hsplit", hsplit_t)
dispatch("vsplit", vsplit_t)
dispatch("dsplit", dsplit_t)


def append_t(arr, values_, axis=None):
    arr, values_ = nodes(arr, values_)
    if axis is None:
        if arr.data.ndim != 1:
            arr = k.reshape(arr, (-1,))
        values_ = k.reshape(values_, (-1,))
        axis = arr.data.ndim - 1
    return k.concatenate([arr, values_], axis)


dispatch("append", lambda arr, values, axis=None: append_t(arr, values, axis))

# -------------------------------------------------------------- differences


def diff_t(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue):
    a = lift(a)
    if n == 0:
        return a
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n}")
    a = node(a, dtype_of(a))
    nd = a.data.ndim
    if nd == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = normalize_axis_index(axis, nd)
    parts = []
    for extra in (prepend,):
        if extra is not np._NoValue:
            parts.append(extra)
    parts.append(a)
    if append is not np._NoValue:
        parts.append(append)
    if len(parts) > 1:
        shape = list(a.data.shape)
        fixed = []
        for p in parts:
            p = node(p, a.data.dtype)
            if p.data.ndim == 0:
                shape[axis] = 1
                p = k.broadcast_to(p, tuple(shape))
            fixed.append(p)
        a = k.concatenate(fixed, axis)
    for _ in range(n):
        a = k.subtract(k.getitem(a, along(axis, nd, slice(1, None))),
                       k.getitem(a, along(axis, nd, slice(None, -1))))
    return a


dispatch("diff", diff_t)


def gradient_t(f, *varargs, axis=None, edge_order=1):
    f = node(f, dtype_of(lift(f)))
    n = f.data.ndim
    axes = tuple(range(n)) if axis is None else normalize_axis_tuple(axis, n)
    if len(varargs) == 0:
        spacing = [1.0] * len(axes)
    elif len(varargs) == 1 and np.ndim(values(varargs[0])) == 0:
        spacing = [float(values(varargs[0]))] * len(axes)
    elif len(varargs) == len(axes) and all(np.ndim(values(v)) == 0 for v in varargs):
        spacing = [float(values(v)) for v in varargs]
    else:
        raise unsupported("gradient", "coordinate arrays as spacing")
    if edge_order not in (1, 2):
        raise ValueError("'edge_order' greater than 2 not supported")
    out = []
    for ax, h in zip(axes, spacing):
        size = f.data.shape[ax]
        if size < edge_order + 1:
            raise ValueError("Shape of array too small to calculate a numerical gradient, "
                             "at least (edge_order + 1) elements are required.")

        def at(i, ax=ax):
            return k.getitem(f, along(ax, n, slice(i, None if i == -1 else i + 1)))
        parts = []
        if edge_order == 1:
            parts.append((at(1) - at(0)) / h)
        else:
            parts.append((-1.5 * at(0) + 2.0 * at(1) - 0.5 * at(2)) / h)
        if size > 2:
            parts.append((k.getitem(f, along(ax, n, slice(2, None)))
                          - k.getitem(f, along(ax, n, slice(None, -2)))) / (2.0 * h))
        if edge_order == 1:
            parts.append((at(-1) - at(-2)) / h)
        else:
            parts.append((0.5 * at(-3) - 2.0 * at(-2) + 1.5 * at(-1)) / h)
        out.append(k.concatenate(parts, ax))
    return out[0] if len(out) == 1 else tuple(out)


dispatch("gradient", gradient_t)

# -------------------------------------------------------------- products


def tensordot_t(a, b, axes=2):
    a, b = nodes(a, b)
    na, nb = a.data.ndim, b.data.ndim
    if np.ndim(axes) == 0:
        axes = int(axes)
        axes_a, axes_b = list(range(na - axes, na)), list(range(axes))
    else:
        axes_a, axes_b = axes
        axes_a = [axes_a] if np.ndim(axes_a) == 0 else list(axes_a)
        axes_b = [axes_b] if np.ndim(axes_b) == 0 else list(axes_b)
    if len(axes_a) != len(axes_b):
        raise ValueError("shape-mismatch for sum")
    axes_a = [normalize_axis_index(x, na) for x in axes_a]
    axes_b = [normalize_axis_index(x, nb) for x in axes_b]
    for x, y in zip(axes_a, axes_b):
        if a.data.shape[x] != b.data.shape[y]:
            raise ValueError("shape-mismatch for sum")
    free_a = [i for i in range(na) if i not in axes_a]
    free_b = [i for i in range(nb) if i not in axes_b]
    shape_a = [a.data.shape[i] for i in free_a]
    shape_b = [b.data.shape[i] for i in free_b]
    inner = prod(a.data.shape[i] for i in axes_a)
    A = k.reshape(k.transpose(a, tuple(free_a + axes_a)), (prod(shape_a), inner))
    B = k.reshape(k.transpose(b, tuple(axes_b + free_b)), (inner, prod(shape_b)))
    return k.reshape(k.matmul(A, B), tuple(shape_a + shape_b))


dispatch("tensordot", tensordot_t)


def einsum_t(*operands, out=None, optimize=False, **kwargs):
    if out is not None or kwargs:
        raise unsupported("einsum", "out=, dtype=, order= or casting=")
    inputs, output, arrays = parse_einsum(operands)
    arrays = nodes(*arrays)
    return contract(inputs, output, arrays)


def parse_einsum(operands):
    """(list of label lists, output label list, arrays); labels are ints, the ellipsis's
    axes negative ints (right-aligned), as numpy broadcasts them."""
    if isinstance(operands[0], str):
        spec = operands[0].replace(" ", "")
        arrays = list(operands[1:])
        if "->" in spec:
            lhs, rhs = spec.split("->")
        else:
            lhs, rhs = spec, None
        terms = lhs.split(",")
        if len(terms) != len(arrays):
            raise ValueError("more operands provided to einstein sum function than "
                             "specified in the subscripts string")
        terms = [parse_term(t) for t in terms]
        rhs = None if rhs is None else parse_term(rhs)
    else:
        rest = list(operands)
        arrays, terms = [], []
        while len(rest) >= 2:
            arrays.append(rest.pop(0))
            terms.append(list(rest.pop(0)))
        rhs = list(rest.pop(0)) if rest else None
    inputs = []
    ellipsis_ndim = 0
    for term, x in zip(terms, arrays):
        ndim = ndim_of(x)
        if Ellipsis in term:
            ellipsis_ndim = max(ellipsis_ndim, ndim - len(term) + 1)
    for term, x in zip(terms, arrays):
        ndim = ndim_of(x)
        if Ellipsis in term:
            i = term.index(Ellipsis)
            e = ndim - len(term) + 1
            term = term[:i] + list(range(-e, 0)) + term[i + 1:]
        if len(term) != ndim:
            raise ValueError("einstein sum subscripts string contains too many "
                             "subscripts for operand")
        inputs.append(term)
    ell = list(range(-ellipsis_ndim, 0))
    if rhs is None:
        counts = {}
        for term in inputs:
            for label in term:
                counts[label] = counts.get(label, 0) + 1
        output = ell + sorted(lb for lb, c in counts.items() if c == 1 and lb >= 0)
    else:
        output = []
        for label in rhs:
            output.extend(ell if label is Ellipsis else [label])
    return inputs, output, arrays


def parse_term(term):
    out = []
    i = 0
    while i < len(term):
        if term.startswith("...", i):
            out.append(Ellipsis)
            i += 3
        else:
            if not term[i].isalpha():
                raise ValueError(f"invalid subscript {term[i]!r} in einstein sum "
                                 f"subscripts string")
            out.append(ord(term[i]))
            i += 1
    return out


def contract(inputs, output, arrays):
    sizes = {}
    for term, x in zip(inputs, arrays):
        for label, size in zip(term, x.data.shape):
            if size != 1 or label not in sizes:
                if sizes.get(label, 1) not in (1, size):
                    raise ValueError(f"operands could not be broadcast together: label "
                                     f"sizes {sizes[label]} and {size}")
                sizes[label] = size
    prepared = []
    for i, (term, x) in enumerate(zip(inputs, arrays)):
        term = list(term)
        while len(set(term)) < len(term):  # a repeated label: take its diagonal
            label = next(lb for lb in term if term.count(lb) > 1)
            first = term.index(label)
            second = term.index(label, first + 1)
            x = moveaxis(x, (first, second), (-2, -1))
            term = [lb for j, lb in enumerate(term) if j not in (first, second)] + [label]
            m = x.data.shape[-1]
            x = k.getitem(x, (Ellipsis, np.arange(m), np.arange(m)))
        full = tuple(sizes[lb] for lb in term)
        if x.data.shape != full:
            x = k.broadcast_to(x, full)
        elsewhere = set(output)
        for j, other in enumerate(inputs):
            if j != i:
                elsewhere.update(other)
        alone = tuple(j for j, lb in enumerate(term) if lb not in elsewhere)
        if alone:
            x = k.sum(x, alone, False)
            term = [lb for j, lb in enumerate(term) if j not in alone]
        prepared.append((x, term))
    x, term = prepared[0]
    for j in range(1, len(prepared)):
        y, other = prepared[j]
        needed = set(output)
        for _, later in prepared[j + 1:]:
            needed.update(later)
        x, term = pairwise(x, term, y, other, needed, sizes)
    missing = tuple(j for j, lb in enumerate(term) if lb not in output)
    if missing:
        x = k.sum(x, missing, False)
        term = [lb for lb in term if lb in output]
    if term != list(output):
        x = k.transpose(x, tuple(term.index(lb) for lb in output))
    if len(prepared) == 1 and x is arrays[0]:
        x = k.getitem(x, (Ellipsis,))
    return x


def pairwise(a, la, b, lb, needed, sizes):
    """a and b contracted over their shared labels that are needed no further."""
    batch = [x for x in la if x in lb and x in needed]
    summed = [x for x in la if x in lb and x not in needed]
    a_only = [x for x in la if x not in lb]
    b_only = [x for x in lb if x not in la]
    A = k.transpose(a, tuple(la.index(x) for x in batch + a_only + summed))
    B = k.transpose(b, tuple(lb.index(x) for x in batch + summed + b_only))
    nb, na, nc, nbo = (prod(sizes[x] for x in group)
                       for group in (batch, a_only, summed, b_only))
    out = k.matmul(k.reshape(A, (nb, na, nc)), k.reshape(B, (nb, nc, nbo)))
    labels = batch + a_only + b_only
    return k.reshape(out, tuple(sizes[x] for x in labels)), labels


dispatch("einsum", einsum_t)


def cross_t(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    a, b = nodes(a, b)
    if axis is not None:
        axisa = axisb = axisc = axis
    a = moveaxis(a, normalize_axis_index(axisa, a.data.ndim), -1)
    b = moveaxis(b, normalize_axis_index(axisb, b.data.ndim), -1)
    da, db = a.data.shape[-1], b.data.shape[-1]
    if da not in (2, 3) or db not in (2, 3):
        raise ValueError("incompatible dimensions for cross product\n(dimension must be "
                         "2 or 3)")

    def comp(x, i):
        return k.getitem(x, (Ellipsis, i))
    a0, a1, b0, b1 = comp(a, 0), comp(a, 1), comp(b, 0), comp(b, 1)
    if da == 2 and db == 2:
        return a0 * b1 - a1 * b0
    a2 = comp(a, 2) if da == 3 else None
    b2 = comp(b, 2) if db == 3 else None
    if a2 is None:
        parts = [a1 * b2, -(a0 * b2), a0 * b1 - a1 * b0]
    elif b2 is None:
        parts = [-(a2 * b1), a2 * b0, a0 * b1 - a1 * b0]
    else:
        parts = [a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0]
    shape = np.broadcast_shapes(*(p.data.shape for p in parts))
    c = k.stack([k.broadcast_to(p, shape) for p in parts], -1)
    return moveaxis(c, -1, normalize_axis_index(axisc, c.data.ndim))


dispatch("cross", cross_t)

# -------------------------------------------------------------- selection and sorting


def select_t(condlist, choicelist, default=0):
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    dtype = dtype_of(*[lift(c) for c in choicelist], lift(default))
    out = node(default, dtype)
    for cond, choice in zip(reversed(condlist), reversed(choicelist)):
        out = ew.where(np.asarray(values(cond), dtype=bool), node(choice, dtype), out)
    return out


dispatch("select", select_t)


def take_along(a, index, axis):
    """a[index] along ``axis`` with ``index`` shaped like a (take_along_axis)."""
    grid = list(np.indices(index.shape, sparse=True))
    grid[axis] = index
    return k.getitem(a, tuple(grid))


def sort_t(a, axis=-1, kind=None, order=None, *, stable=None):
    if order is not None:
        raise unsupported("sort", "order=")
    a = node(a, dtype_of(lift(a)))
    if axis is None:
        a, axis = k.reshape(a, (-1,)), 0
    axis = normalize_axis_index(axis, a.data.ndim)
    index = np.argsort(a.data, axis=axis, kind=kind, stable=stable)
    return take_along(a, index, axis)


def partition_t(a, kth, axis=-1, kind="introselect", order=None):
    if order is not None:
        raise unsupported("partition", "order=")
    a = node(a, dtype_of(lift(a)))
    if axis is None:
        a, axis = k.reshape(a, (-1,)), 0
    axis = normalize_axis_index(axis, a.data.ndim)
    index = np.argpartition(a.data, values(kth), axis=axis, kind=kind)
    return take_along(a, index, axis)


def take_t(a, indices, axis=None, out=None, mode="raise"):
    if out is not None or mode != "raise":
        raise unsupported("take", "out= or mode=")
    a = node(a, dtype_of(lift(a)))
    indices = np.asarray(values(indices))
    if indices.dtype.kind not in "iu":
        raise IndexError("take: the indices must be integers")
    if axis is None:
        return k.getitem(k.reshape(a, (-1,)), indices)
    n = a.data.ndim
    return k.getitem(a, along(normalize_axis_index(axis, n), n, indices))


dispatch("take", take_t)
dispatch("sort", sort_t)
dispatch("partition", partition_t)


def extreme_nan(name, pick):
    """fmax/fmin: the maximum/minimum, ignoring a NaN on one side."""
    def f(x1, x2, *args, **kwargs):
        if args or kwargs:
            raise unsupported(name, "out= or ufunc options")
        x1, x2 = nodes(x1, x2)
        picked = pick(x1, x2)
        picked = ew.where(np.isnan(x2.data), x1, picked)
        return ew.where(np.isnan(x1.data), x2, picked)
    dispatch(name, f)


extreme_nan("fmax", ew.maximum)
extreme_nan("fmin", ew.minimum)


def nan_to_num_t(x, copy=True, nan=0.0, posinf=None, neginf=None):
    x = node(x, dtype_of(lift(x)))
    data = x.data
    info = np.finfo(data.dtype)
    fill = np.where(np.isnan(data), nan, np.where(
        data > 0, info.max if posinf is None else posinf,
        info.min if neginf is None else neginf))
    return ew.where(np.isfinite(data), x, fill)


dispatch("nan_to_num", nan_to_num_t)

# -------------------------------------------------------------- padding, making arrays


def pad_t(array, pad_width, mode="constant", **kwargs):
    array = node(array, dtype_of(lift(array)))
    n = array.data.ndim
    widths = np.broadcast_to(np.asarray(values(pad_width), dtype=np.intp), (n, 2))
    shape = tuple(int(s + lo + hi) for s, (lo, hi) in zip(array.data.shape, widths))
    if mode == "constant":
        extra = set(kwargs) - {"constant_values"}
        if extra:
            raise TypeError(f"pad: unsupported keyword arguments for mode 'constant': "
                            f"{sorted(extra)}")
        inside = tuple(slice(int(lo), int(lo) + s)
                       for s, (lo, _) in zip(array.data.shape, widths))
        out = untake(array, inside, shape)
        values_ = kwargs.get("constant_values", 0)
        if np.any(np.asarray(values(values_)) != 0) or is_traced(values_):
            if is_traced(values_):
                raise unsupported("pad", "traced constant_values")
            border = np.pad(np.zeros(array.data.shape, array.data.dtype), widths,
                            mode="constant", constant_values=values_)
            out = out + border
        return out
    if mode in ("edge", "reflect", "symmetric", "wrap"):
        # the padded array is a selection of the input: pad each axis's indices
        axes = [np.pad(np.arange(s), (int(lo), int(hi)), mode=mode, **kwargs)
                for s, (lo, hi) in zip(array.data.shape, widths)]
        return k.getitem(array, np.ix_(*axes))
    raise unsupported("pad", f"mode={mode!r}")


dispatch("pad", pad_t)


def linspace_t(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    if dtype is not None or axis != 0:
        raise unsupported("linspace", "dtype= or axis=")
    start, stop = nodes(start, stop)
    div = (num - 1) if endpoint else num
    t = np.arange(num, dtype=start.data.dtype)
    if div > 0:
        t = t / div
    shape = np.broadcast_shapes(start.data.shape, stop.data.shape)
    t = t.reshape((num,) + (1,) * len(shape))
    delta = stop - start
    out = start + delta * t
    if endpoint and num > 1:
        out = k.concatenate([k.getitem(out, slice(0, -1)),
                             k.reshape(k.broadcast_to(stop, shape), (1,) + shape)], 0)
    if retstep:
        return out, (delta / div if div > 0 else delta * np.nan)
    return out


dispatch("linspace", linspace_t)


def full_t(shape, fill_value, dtype=None, order="C", **kwargs):
    fill = node(fill_value, dtype_of(lift(fill_value)))
    if dtype is not None and np.dtype(dtype) != fill.data.dtype:
        fill = k.astype(fill, np.dtype(dtype))
    return k.broadcast_to(fill, tuple(shape) if np.iterable(shape) else (shape,))


dispatch("full", full_t)

# -------------------------------------------------------------- complex parts (real input)


def real_input(name, x):
    x = node(x, dtype_of(lift(x)))
    if x.data.dtype.kind == "c":
        raise unsupported(name, "a complex traced value")
    return x


dispatch("real", lambda val: k.getitem(real_input("real", val), (Ellipsis,)))
dispatch("imag", lambda val: np.zeros_like(real_input("imag", val).data))
dispatch("real_if_close", lambda a, tol=100: k.getitem(real_input("real_if_close", a),
                                                       (Ellipsis,)))
dispatch("conjugate", lambda x, *args, **kwargs: k.getitem(
    real_input("conjugate", x), (Ellipsis,)))
fns.setdefault("conj", fns["conjugate"])
dispatch("angle", lambda z, deg=False: np.angle(real_input("angle", z).data, deg))


def sinc_t(x):
    x = node(x, dtype_of(lift(x)))
    zero = x.data == 0
    safe = np.pi * ew.where(zero, 1.0, x)
    return ew.where(zero, 1.0, k.sin(safe) / safe)


dispatch("sinc", sinc_t)


class Concatenator:
    """``np.r_[...]`` / ``np.c_[...]``: numpy's own for plain items; with a traced item, the
    items (arrays, scalars, slices as ranges) made at least 1-d (r_) or columns (c_) and
    concatenated along the first (r_) or last (c_) axis."""

    def __init__(self, numpy_obj, fns, column, is_traced):
        self.numpy_obj = numpy_obj
        self.fns = fns
        self.column = column
        self.is_traced = is_traced

    def __getitem__(self, key):
        items = key if type(key) is tuple else (key,)
        if not any(self.is_traced(item) for item in items):
            return self.numpy_obj[key]
        name = "c_" if self.column else "r_"
        parts = []
        for item in items:
            if isinstance(item, str):
                raise unsupported(name, "a directive string")
            if isinstance(item, slice):
                item = np.r_[item]
            elif not self.is_traced(item):
                item = np.asarray(item)
            parts.append(item)
        fns = self.fns
        if self.column:
            cols = []
            for p in parts:
                nd = fns["ndim"](p)
                p = fns["atleast_1d"](p)
                if nd <= 1:
                    p = fns["reshape"](p, (-1, 1))
                cols.append(p)
            return fns["concatenate"](cols, -1)
        return fns["concatenate"]([fns["atleast_1d"](p) for p in parts], 0)

    def __len__(self):
        return 0


fns.setdefault("r_", Concatenator(np.r_, fns, column=False, is_traced=is_traced))
fns.setdefault("c_", Concatenator(np.c_, fns, column=True, is_traced=is_traced))
fns.setdefault("degrees", fns["rad2deg"])
fns.setdefault("radians", fns["deg2rad"])
fns.setdefault("mod", fns["remainder"])
