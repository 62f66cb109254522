"""numpy.linalg, differentiable: ``import fastgrad.numpy as np; np.linalg.inv(x)`` inside grad.

On traced values (or lists holding them) these record the op table's linear-algebra entries
(fastgrad/ops/linalg_ops.py), so they differentiate in reverse and forward mode to any order;
on plain arrays each is numpy's own function. Stacked matrices (shape (..., M, N)) work where
numpy stacks them.

- inv, solve, det, slogdet, pinv, matrix_power, multi_dot, matmul, matrix_transpose;
- cholesky, eigh, eigvalsh (from the triangle numpy reads, ``UPLO``), svd (reduced:
  ``full_matrices=False``, or square matrices), svdvals; eigh and svd take complex matrices
  too (autograd's conventions: gradients of real functions are df/dx - i df/dy);
- eig, eigvals: real or complex matrices; a real matrix with a complex eigenvalue gives
  complex results, as numpy;
- norm (every ``ord`` numpy has, vector and matrix), vector_norm, matrix_norm;
- ``T`` and ``_dot`` (the batched transpose and product autograd's module offers).

The rest of numpy.linalg is numpy's, refusing traced values by name. Derivatives of the
eigenvectors (singular vectors) need distinct eigenvalues (singular values); functions of the
eigenvalues alone do not.
"""
from collections import namedtuple

import numpy as _np
import numpy.linalg as _linalg
from numpy.lib.array_utils import normalize_axis_tuple

from ..extend import node_types as _node_types
from ..ops import kernels as _k
from ..ops import linalg_ops as _ops
from . import _face

LinAlgError = _linalg.LinAlgError

EighResult = namedtuple("EighResult", ["eigenvalues", "eigenvectors"])
EigResult = namedtuple("EigResult", ["eigenvalues", "eigenvectors"])
SVDResult = namedtuple("SVDResult", ["U", "S", "Vh"])
SlogdetResult = namedtuple("SlogdetResult", ["sign", "logabsdet"])

_SEQUENCES = (list, tuple)


# ---------------------------------------------------------------- traced values

def _holds(x, nodes):
    if isinstance(x, nodes):
        return True
    return type(x) in _SEQUENCES and any(_holds(item, nodes) for item in x)


def _traced(*xs):
    nodes = _node_types()
    return any(_holds(x, nodes) for x in xs)


def _first_node(x, nodes):
    if isinstance(x, nodes):
        return x
    if type(x) in _SEQUENCES:
        for item in x:
            found = _first_node(item, nodes)
            if found is not None:
                return found
    return None


def _lift(x):
    """A list or tuple holding traced values as one traced array (stacked); a traced value or
    a plain array as it is."""
    if type(x) not in _SEQUENCES:
        return x
    nodes = _node_types()
    first = _first_node(x, nodes)
    if first is None:
        return _np.asarray(x)
    return _face.FUNCTIONS["array"](x)


def _values(x):
    return getattr(x, "data", x)


def _reshape(x, shape):
    return _k.reshape(x, shape) if isinstance(x, _node_types()) else _np.reshape(x, shape)


def _shape(x):
    return _np.shape(_values(x))


def _triangle_mask(n, upper, strict):
    kind = ("triu+1" if strict else "triu") if upper else ("tril-1" if strict else "tril")
    return _ops.constant_matrix(kind, n)


def _from_triangle(a, upper, name):
    """The symmetric matrix numpy's routine reads from a's lower (or upper) triangle."""
    if a.data.ndim < 2 or a.data.shape[-1] != a.data.shape[-2]:
        raise ValueError(f"linalg.{name}: expected a square matrix or a stack of them (shape "
                         f"(..., M, M)), got shape {a.data.shape}")
    n = a.data.shape[-1]
    full = _k.multiply(a, _triangle_mask(n, upper, False)) + \
        _ops.H(_k.multiply(a, _triangle_mask(n, upper, True)))
    if _ops.is_complex(full):  # hermitian: numpy reads only the real part of the diagonal
        full = 0.5 * (full + _ops.H(full))
    return full


# ---------------------------------------------------------------- autograd's helpers

def T(x):
    """x with its last two axes exchanged (a stack of transposes)."""
    if _traced(x):
        return _ops.mT(_lift(x))
    return _np.swapaxes(x, -1, -2)


def _dot(a, b):
    """The batched matrix product (..., i, j) x (..., j, k) -> (..., i, k)."""
    if _traced(a, b):
        return _k.matmul(_lift(a), _lift(b))
    return _np.matmul(a, b)


def matrix_transpose(x):
    """numpy.linalg.matrix_transpose."""
    if _traced(x):
        x = _lift(x)
        if x.data.ndim < 2:
            raise ValueError(f"linalg.matrix_transpose: input must be at least 2-dimensional, "
                             f"got shape {x.data.shape}")
        return _ops.mT(x)
    return _linalg.matrix_transpose(x)


def matmul(x1, x2, /):
    """numpy.linalg.matmul."""
    if _traced(x1, x2):
        return _k.matmul(_lift(x1), _lift(x2))
    return _linalg.matmul(x1, x2)


# ---------------------------------------------------------------- inverses and solves

def inv(a):
    """numpy.linalg.inv."""
    if _traced(a):
        return _ops.inv(_lift(a))
    return _linalg.inv(a)


def solve(a, b):
    """numpy.linalg.solve (numpy 2's rule: b is a vector only when it is 1-D)."""
    if not _traced(a, b):
        return _linalg.solve(a, b)
    a, b = _lift(a), _lift(b)
    if len(_shape(b)) == 1:
        n = _shape(b)[0]
        out = _ops.solve(a, _reshape(b, (n, 1)))
        return _k.getitem(out, (Ellipsis, 0))
    return _ops.solve(a, b)


def pinv(a, rcond=None, hermitian=False, *, rtol=_np._NoValue):
    """numpy.linalg.pinv (derivatives where the rank does not change)."""
    if not _traced(a):
        if rtol is _np._NoValue:
            return _linalg.pinv(a, rcond, hermitian)
        return _linalg.pinv(a, rcond, hermitian, rtol=rtol)
    a = _lift(a)
    if hermitian:  # numpy reads the lower triangle then (through eigh)
        a = _from_triangle(a, False, "pinv")
    return _ops.pinv(a, rcond=rcond, hermitian=hermitian,
                     rtol=None if rtol is _np._NoValue else rtol)


def det(a):
    """numpy.linalg.det."""
    if _traced(a):
        return _ops.det(_lift(a))
    return _linalg.det(a)


def slogdet(a):
    """numpy.linalg.slogdet: (sign, log|det|); the sign is a constant."""
    if not _traced(a):
        return _linalg.slogdet(a)
    a = _lift(a)
    logdet = _ops.logabsdet(a)
    return SlogdetResult(_np.sign(_linalg.det(a.data)), logdet)


def matrix_power(a, n):
    """numpy.linalg.matrix_power: repeated squaring (an inverse first for n < 0)."""
    if not _traced(a):
        return _linalg.matrix_power(a, n)
    a = _lift(a)
    if not isinstance(n, (int, _np.integer)):
        raise TypeError("linalg.matrix_power: exponent must be an integer")
    shape = a.data.shape
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(f"linalg.matrix_power: expected a square matrix or a stack of them, "
                         f"got shape {shape}")
    if n == 0:
        return _k.add(_k.multiply(a, 0.0), _ops.constant_matrix("eye", shape[-1]))
    if n < 0:
        a, n = _ops.inv(a), -n
    result, power = None, a
    while n:
        if n & 1:
            result = power if result is None else _k.matmul(result, power)
        n >>= 1
        if n:
            power = _k.matmul(power, power)
    return result


def multi_dot(arrays, *, out=None):
    """numpy.linalg.multi_dot (left to right)."""
    if not _traced(*arrays):
        return _linalg.multi_dot(arrays, out=out)
    if out is not None:
        raise TypeError("linalg.multi_dot: out= is not supported on traced values")
    arrays = [_lift(x) for x in arrays]
    if len(arrays) < 2:
        raise ValueError("linalg.multi_dot: expecting at least two arrays")
    result = arrays[0]
    for x in arrays[1:]:
        result = _k.matmul(result, x)
    return result


# ---------------------------------------------------------------- decompositions

def cholesky(a, /, *, upper=False):
    """numpy.linalg.cholesky (from the lower triangle; the upper one with upper=True)."""
    if not _traced(a):
        return _linalg.cholesky(a, upper=upper)
    factor = _ops.cholesky(_from_triangle(_lift(a), upper, "cholesky"))
    return _ops.mT(factor) if upper else factor


def _check_uplo(UPLO):
    if UPLO not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    return UPLO == "U"


def eigh(a, UPLO="L"):
    """numpy.linalg.eigh: (eigenvalues, eigenvectors) of the symmetric matrix in a's lower
    (or upper) triangle."""
    if not _traced(a):
        return _linalg.eigh(a, UPLO)
    upper = _check_uplo(UPLO)
    w, v = _ops.eigh_parts(_ops.eigh(_from_triangle(_lift(a), upper, "eigh"), UPLO=UPLO))
    return EighResult(_ops.re(w), v)  # real eigenvalues for hermitian a too


def eigvalsh(a, UPLO="L"):
    """numpy.linalg.eigvalsh."""
    if not _traced(a):
        return _linalg.eigvalsh(a, UPLO)
    return eigh(a, UPLO)[0]


def eig(a):
    """numpy.linalg.eig (complex results when an eigenvalue is complex)."""
    if not _traced(a):
        return _linalg.eig(a)
    w, v = _ops.eigh_parts(_ops.eig(_lift(a)))
    return EigResult(w, v)


def eigvals(a):
    """numpy.linalg.eigvals."""
    if not _traced(a):
        return _linalg.eigvals(a)
    return eig(a)[0]


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """numpy.linalg.svd. On traced values the reduced factors (full_matrices=False, or a
    square matrix, where both are the same)."""
    if not _traced(a):
        return _linalg.svd(a, full_matrices, compute_uv, hermitian)
    a = _lift(a)
    shape = a.data.shape
    if len(shape) < 2:
        raise ValueError(f"linalg.svd: expected a matrix or a stack of them (shape "
                         f"(..., M, N)), got shape {shape}")
    if compute_uv and full_matrices and shape[-1] != shape[-2]:
        raise NotImplementedError(
            f"linalg.svd: full_matrices=True for the non-square shape {shape}: the extra "
            f"singular vectors are not unique, so they have no derivative; pass "
            f"full_matrices=False")
    if compute_uv and hermitian:
        raise NotImplementedError("linalg.svd: hermitian=True with compute_uv on traced "
                                  "values; use eigh, or hermitian=False")
    u, s, vh = _ops.svd_parts(_ops.svd(a), shape)
    s = _ops.re(s)  # the singular values are real for complex a too
    return SVDResult(u, s, vh) if compute_uv else s


def svdvals(x, /):
    """numpy.linalg.svdvals."""
    if not _traced(x):
        return _linalg.svdvals(x)
    return svd(x, compute_uv=False)


# ---------------------------------------------------------------- norms

def _abs2(x):
    """|x|^2 (x x for real x)"""
    if _np.iscomplexobj(x.data):
        return _k.power(_k.abs(x), 2.0)
    return _k.multiply(x, x)


def _vector_norm(x, ord, axis):
    if ord is None or ord == 2:
        return _k.sqrt(_k.sum(_abs2(x), axis))
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")  # noqa: TRY004 (numpy's)
    if ord == _np.inf:
        return _k.max(_k.abs(x), axis)
    if ord == -_np.inf:
        return _k.min(_k.abs(x), axis)
    if ord == 0:  # the count of nonzeros: piecewise constant, so its derivative is zero
        return _k.sum(_k.add(_k.multiply(x, 0.0), x.data != 0), axis)
    if ord == 1:
        return _k.sum(_k.abs(x), axis)
    p = float(ord)
    return _k.power(_k.sum(_k.power(_k.abs(x), p), axis), 1.0 / p)


def _singular_values(x, axes):
    """The singular values of the matrices in axes (r, c) of x (on the last axis)."""
    nd = x.data.ndim
    rest = [i for i in range(nd) if i not in axes]
    moved = _k.transpose(x, tuple(rest) + tuple(axes))
    return _ops.re(_ops.svd_parts(_ops.svd(moved), moved.data.shape)[1])


def _matrix_norm(x, ord, axes):
    row, col = axes
    if ord is None or ord == "fro":
        return _k.sqrt(_k.sum(_abs2(x), axes))
    if ord == "nuc":
        return _k.sum(_singular_values(x, axes), -1)
    if ord == 2:
        return _k.max(_singular_values(x, axes), -1)
    if ord == -2:
        return _k.min(_singular_values(x, axes), -1)
    if ord in (1, -1):      # the largest (smallest) column sum
        sums = _k.sum(_k.abs(x), row)
        other = col - 1 if col > row else col
    elif ord in (_np.inf, -_np.inf):   # the largest (smallest) row sum
        sums = _k.sum(_k.abs(x), col)
        other = row - 1 if row > col else row
    else:
        raise ValueError("Invalid norm order for matrices.")
    return _k.max(sums, other) if ord > 0 else _k.min(sums, other)


def norm(x, ord=None, axis=None, keepdims=False):
    """numpy.linalg.norm, every order numpy has (on traced values as on arrays; a list of
    traced values is stacked first)."""
    if not _traced(x):
        return _linalg.norm(x, ord, axis, keepdims)
    x = _lift(x)
    nd = x.data.ndim
    if axis is None:
        if ord is None:
            out = _k.sqrt(_k.sum(_abs2(x), None))
            return _k.reshape(out, (1,) * nd) if keepdims else out
        if nd not in (1, 2):
            raise ValueError("Improper number of dimensions to norm.")
        axes = tuple(range(nd))
    else:
        axes = normalize_axis_tuple(axis if type(axis) in _SEQUENCES else (axis,), nd)
    if len(axes) == 1:
        out = _vector_norm(x, ord, axes[0])
    elif len(axes) == 2:
        out = _matrix_norm(x, ord, axes)
    else:
        raise ValueError("Improper number of dimensions to norm.")
    if keepdims:
        out = _k.reshape(out, tuple(1 if i in axes else n for i, n in enumerate(x.data.shape)))
    return out


def vector_norm(x, /, *, axis=None, keepdims=False, ord=2):
    """numpy.linalg.vector_norm (axis=None: all entries as one vector)."""
    if not _traced(x):
        return _linalg.vector_norm(x, axis=axis, keepdims=keepdims, ord=ord)
    x = _lift(x)
    if axis is None:
        out = norm(_k.reshape(x, (-1,)), ord, 0)
        return _k.reshape(out, (1,) * x.data.ndim) if keepdims else out
    if type(axis) in _SEQUENCES and len(axis) > 1:
        nd = x.data.ndim
        axes = normalize_axis_tuple(axis, nd)
        rest = [i for i in range(nd) if i not in axes]
        moved = _k.transpose(x, tuple(rest) + axes)
        flat = _k.reshape(moved, moved.data.shape[:len(rest)] + (-1,))
        out = norm(flat, ord, -1)
        if keepdims:
            out = _k.reshape(out, tuple(1 if i in axes else n
                                        for i, n in enumerate(x.data.shape)))
        return out
    return norm(x, ord, axis, keepdims)


def matrix_norm(x, /, *, keepdims=False, ord="fro"):
    """numpy.linalg.matrix_norm (over the last two axes)."""
    if not _traced(x):
        return _linalg.matrix_norm(x, keepdims=keepdims, ord=ord)
    return norm(x, ord, (-2, -1), keepdims)


def __getattr__(name):
    obj = getattr(_linalg, name)
    if callable(obj) and not isinstance(obj, type):
        obj = _face.guard(f"linalg.{name}", obj, _node_types)
    globals()[name] = obj
    return obj
