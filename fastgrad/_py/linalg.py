"""Matrix products: forward and VJP (twin of csrc/linalg.pyx).

``matmul`` follows numpy.matmul: 1-D operands are promoted to a row (left) or a column (right)
and leading axes broadcast as a batch.
"""
import numpy as np

from .elementwise import mul, operands
from .node import Node, accumulate, as_constant, make_result, register_vjp
from .opcodes import OP_MATMUL


def check_matmul_shapes(A, B, opname):
    """Raise a ValueError naming both shapes unless A @ B is defined."""
    if A.ndim == 0 or B.ndim == 0:
        raise ValueError(f"{opname}: operands must have at least one dimension, got shapes "
                         f"{A.shape} and {B.shape} (use * to scale by a scalar)")
    ka = A.shape[-1]
    kb = B.shape[-2] if B.ndim >= 2 else B.shape[0]
    if ka != kb:
        raise ValueError(f"{opname}: shapes {A.shape} and {B.shape} do not align: "
                         f"{ka} (last axis of the first) != {kb} "
                         f"({'second-to-last' if B.ndim >= 2 else 'only'} axis of the second)")


def matmul(a, b):
    a, b = operands(a, b, "matmul")
    a = a if isinstance(a, Node) else as_constant(a, b.data.dtype, "matmul")
    b = b if isinstance(b, Node) else as_constant(b, a.data.dtype, "matmul")
    A, B = a.data, b.data
    check_matmul_shapes(A, B, "matmul")
    try:
        data = np.matmul(A, B)
    except ValueError:
        raise ValueError(f"matmul: the batch axes of shapes {A.shape} and {B.shape} cannot be "
                         f"broadcast together") from None
    return make_result(data, OP_MATMUL, (a, b), None)


def rmatmul(a, b):
    """b @ a (the reflected operator)."""
    return matmul(b, a)


def dot(a, b):
    """numpy.dot for the cases MLP code meets: scalars, vectors and matrices (and N-D @ 1-D)."""
    a, b = operands(a, b, "dot")
    if type(a) is float or type(b) is float or a.data.ndim == 0 or b.data.ndim == 0:
        return mul(a, b)
    if b.data.ndim > 2 or (a.data.ndim > 2 and b.data.ndim != 1):
        raise NotImplementedError(
            f"dot: shapes {a.data.shape} and {b.data.shape}: dot of arrays with more than two "
            f"dimensions is not supported; use matmul, which treats leading axes as a batch")
    try:
        return matmul(a, b)
    except ValueError as e:
        raise ValueError(str(e).replace("matmul:", "dot:", 1)) from None


def swap(x):
    """x with its last two axes exchanged (a view)."""
    return np.swapaxes(x, -1, -2)


def vjp_matmul(node, g):
    """ga = g @ b^T, gb = a^T @ g (1-D operands promoted, batch axes summed by accumulate)"""
    a, b = node._prev
    A, B = a.data, b.data
    if A.ndim == 1 and B.ndim == 1:
        if a.requires_grad:
            accumulate(a, g * B, True)
        if b.requires_grad:
            accumulate(b, g * A, True)
        return
    if A.ndim == 1:   # (k,) @ (..., k, n) -> (..., n)
        if a.requires_grad:
            accumulate(a, np.matmul(g[..., None, :], swap(B))[..., 0, :], True)
        if b.requires_grad:
            accumulate(b, A[:, None] * g[..., None, :], True)
        return
    if B.ndim == 1:   # (..., m, k) @ (k,) -> (..., m)
        if a.requires_grad:
            accumulate(a, g[..., :, None] * B, True)
        if b.requires_grad:
            accumulate(b, np.matmul(swap(A), g[..., :, None])[..., 0], True)
        return
    if a.requires_grad:
        accumulate(a, np.matmul(g, swap(B)), True)
    if b.requires_grad:
        accumulate(b, np.matmul(swap(A), g), True)


register_vjp(OP_MATMUL, vjp_matmul)
