"""Matrix products: forward and VJP (twin: fastgrad/_py/linalg.py).

``matmul`` follows numpy.matmul: 1-D operands are promoted to a row (left) or a column (right)
and leading axes broadcast as a batch.
"""
cimport numpy as cnp

import numpy as np

from fastgrad._cy.blas cimport matmul_loop_max, product_into
from fastgrad._cy.node cimport (Node, accumulate, as_constant, is_float, make_result, real,
                                register_vjp)
from fastgrad._cy.opcodes cimport OP_MATMUL

from fastgrad._cy.elementwise import mul, operands

cnp.import_array()

# Products of ndim <= 2 run in the typed loop up to matmul_loop_max() multiply-adds (the
# crossover, with the others, lives in csrc/blas.pyx), above it in BLAS called from C; batched
# products (ndim > 2) in numpy's matmul.


cdef void small_gemm(real* C, const real* A, Py_ssize_t a_row, Py_ssize_t a_col,
                     const real* B, Py_ssize_t b_row, Py_ssize_t b_col,
                     Py_ssize_t m, Py_ssize_t k, Py_ssize_t n) noexcept nogil:
    """C[i, j] = sum_l A[i, l] * B[l, j] for C (m, n) contiguous; A and B given by strides
    (in elements), so that transposes and 1-D operands need no copy"""
    cdef Py_ssize_t i, j, l
    cdef real acc
    for i in range(m):
        for j in range(n):
            acc = 0
            for l in range(k):
                acc = acc + A[i * a_row + l * a_col] * B[l * b_row + j * b_col]
            C[i * n + j] = acc


cdef inline bint loopable(cnp.ndarray A, cnp.ndarray B) noexcept:
    """1-D or 2-D C-contiguous operands of one float dtype: the typed loop's case."""
    return (cnp.PyArray_TYPE(A) == cnp.PyArray_TYPE(B) and is_float(A)
            and cnp.PyArray_NDIM(A) <= 2 and cnp.PyArray_NDIM(B) <= 2
            and cnp.PyArray_IS_C_CONTIGUOUS(A) and cnp.PyArray_IS_C_CONTIGUOUS(B))


cdef object gemm(cnp.ndarray A, Py_ssize_t a_row, Py_ssize_t a_col,
                 cnp.ndarray B, Py_ssize_t b_row, Py_ssize_t b_col,
                 Py_ssize_t m, Py_ssize_t k, Py_ssize_t n, int nd, cnp.npy_intp* shape):
    """A new array of ``shape`` (nd dimensions, m*n elements) holding A @ B (see small_gemm)."""
    cdef cnp.ndarray C = cnp.PyArray_EMPTY(nd, shape, cnp.PyArray_TYPE(A), 0)
    if cnp.PyArray_TYPE(A) == cnp.NPY_DOUBLE:
        small_gemm(<double*>cnp.PyArray_DATA(C), <double*>cnp.PyArray_DATA(A), a_row, a_col,
                   <double*>cnp.PyArray_DATA(B), b_row, b_col, m, k, n)
    else:
        small_gemm(<float*>cnp.PyArray_DATA(C), <float*>cnp.PyArray_DATA(A), a_row, a_col,
                   <float*>cnp.PyArray_DATA(B), b_row, b_col, m, k, n)
    return C


cdef inline bint blas_operands(cnp.ndarray A, cnp.ndarray B) noexcept:
    """1-D or 2-D operands of one float dtype that fit A @ B: the case BLAS takes."""
    return (is_float(A) and cnp.PyArray_TYPE(A) == cnp.PyArray_TYPE(B)
            and 1 <= cnp.PyArray_NDIM(A) <= 2 and 1 <= cnp.PyArray_NDIM(B) <= 2
            and cnp.PyArray_DIMS(A)[cnp.PyArray_NDIM(A) - 1] == cnp.PyArray_DIMS(B)[0])


cdef object product(cnp.ndarray A, bint ta, cnp.ndarray B, bint tb, int nd,
                    cnp.npy_intp* shape):
    """op(A) @ op(B) by BLAS into a new array of ``shape`` (see blas.product_into)."""
    cdef cnp.ndarray C = cnp.PyArray_EMPTY(nd, shape, cnp.PyArray_TYPE(A), 0)
    product_into(A, ta, B, tb, C)
    return C


cdef inline Py_ssize_t rows(cnp.ndarray X) noexcept:
    return cnp.PyArray_DIMS(X)[0] if cnp.PyArray_NDIM(X) == 2 else 1


cdef inline Py_ssize_t inner(cnp.ndarray A) noexcept:
    """The shared axis of A @ B: A's last."""
    return cnp.PyArray_DIMS(A)[cnp.PyArray_NDIM(A) - 1]


cdef inline Py_ssize_t cols(cnp.ndarray X) noexcept:
    """The last axis of a matrix; as the right operand, a 1-D array is one column."""
    return cnp.PyArray_DIMS(X)[1] if cnp.PyArray_NDIM(X) == 2 else 1


cdef int result_shape(cnp.ndarray A, cnp.ndarray B, cnp.npy_intp* shape) noexcept:
    """The shape of A @ B (1-D or 2-D operands) into shape; its number of dimensions."""
    cdef int nd = 0
    if cnp.PyArray_NDIM(A) == 2:
        shape[nd] = rows(A)
        nd += 1
    if cnp.PyArray_NDIM(B) == 2:
        shape[nd] = cols(B)
        nd += 1
    return nd


cdef object small_matmul(cnp.ndarray A, cnp.ndarray B):
    """A @ B by the typed loop, or by BLAS above the crossover (shapes already checked)."""
    cdef Py_ssize_t m = rows(A), k = inner(A), n = cols(B)
    cdef cnp.npy_intp shape[2]
    cdef int nd = result_shape(A, B, shape)
    if m * k * n > matmul_loop_max():
        return product(A, False, B, False, nd, shape)
    # A is m x k with rows k apart; B is k x n with rows n apart (a 1-D B is a column)
    return gemm(A, k, 1, B, n, 1, m, k, n, nd, shape)


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


cdef object matmul_nodes(Node a, Node b, str opname):
    cdef cnp.ndarray A = a.data, B = b.data
    cdef cnp.npy_intp shape[2]
    if blas_operands(A, B):
        if loopable(A, B):
            return make_result(small_matmul(A, B), OP_MATMUL, (a, b), None)
        return make_result(product(A, False, B, False, result_shape(A, B, shape), shape),
                           OP_MATMUL, (a, b), None)
    check_matmul_shapes(A, B, opname)
    try:
        data = np.matmul(A, B)
    except ValueError:
        raise ValueError(f"{opname}: the batch axes of shapes {a.data.shape} and {b.data.shape} "
                         f"cannot be broadcast together") from None
    return make_result(data, OP_MATMUL, (a, b), None)


cdef tuple node_operands(object a, object b, str opname):
    """Both operands as nodes (constants take the other's dtype)."""
    if not (isinstance(a, Node) and isinstance(b, Node)):
        a, b = operands(a, b, opname)
        if not isinstance(a, Node):
            a = as_constant(a, b.data.dtype, opname)
        if not isinstance(b, Node):
            b = as_constant(b, a.data.dtype, opname)
    return a, b


def matmul(a, b):
    a, b = node_operands(a, b, "matmul")
    return matmul_nodes(a, b, "matmul")


def rmatmul(a, b):
    """b @ a (the reflected operator)."""
    return matmul(b, a)


def dot(a, b):
    """numpy.dot for the cases MLP code meets: scalars, vectors and matrices (and N-D @ 1-D)."""
    cdef Node na, nb
    a, b = node_operands(a, b, "dot")
    na, nb = a, b
    cdef int da = na.data.ndim, db = nb.data.ndim
    if da == 0 or db == 0:
        return mul(na, nb)
    if db > 2 or (da > 2 and db != 1):
        raise NotImplementedError(
            f"dot: shapes {na.data.shape} and {nb.data.shape}: dot of arrays with more than "
            f"two dimensions is not supported; use matmul, which treats leading axes as a batch")
    return matmul_nodes(na, nb, "dot")


def swap(x):
    """x with its last two axes exchanged (a view)."""
    return np.swapaxes(x, -1, -2)


cdef int small_matmul_vjp(Node a, Node b, cnp.ndarray A, cnp.ndarray B,
                          cnp.ndarray g) except -1:
    """The VJP of A @ B for the typed loop's case: the same products, by strides."""
    cdef Py_ssize_t m = rows(A), k = inner(A), n = cols(B)
    # the loops index A, B and g by these sizes: refuse operands that no longer fit the
    # product they were saved for (the sweep's version check should have caught it first)
    if (cnp.PyArray_NDIM(A) == 0 or cnp.PyArray_NDIM(B) == 0
            or cnp.PyArray_DIMS(B)[0] != k or cnp.PyArray_SIZE(g) != m * n):
        raise ValueError(f"matmul backward: the saved operands {(<object>A).shape} and "
                         f"{(<object>B).shape} do not fit the gradient of shape "
                         f"{(<object>g).shape}")
    # g is m x n (rows n apart); a 1-D A or B is a 1 x k row or a k x 1 column
    if a.requires_grad:   # ga (m x k) = g (m x n) @ B^T (n x k): B^T[j, l] = B[l * n + j]
        accumulate(a, gemm(g, n, 1, B, 1, n, m, n, k, cnp.PyArray_NDIM(A),
                           cnp.PyArray_DIMS(A)), True)
    if b.requires_grad:   # gb (k x n) = A^T (k x m) @ g (m x n): A^T[l, i] = A[i * k + l]
        accumulate(b, gemm(A, 1, k, g, n, 1, k, m, n, cnp.PyArray_NDIM(B),
                           cnp.PyArray_DIMS(B)), True)
    return 0


cdef cnp.ndarray as_2d(cnp.ndarray X, Py_ssize_t r, Py_ssize_t c):
    """X (1-D or 2-D) as an r x c view."""
    if cnp.PyArray_NDIM(X) == 2:
        return X
    return X.reshape(r, c)


cdef int blas_matmul_vjp(Node a, Node b, cnp.ndarray A, cnp.ndarray B,
                         cnp.ndarray g) except -1:
    """The VJP of A @ B for 1-D or 2-D operands (not both 1-D) by BLAS, transposes by its
    flags: ga (m x k) = g (m x n) @ B^T, gb (k x n) = A^T @ g, 1-D operands as rows/columns."""
    cdef Py_ssize_t m = rows(A), k = inner(A), n = cols(B)
    cdef cnp.ndarray g2 = as_2d(g, m, n)
    cdef cnp.ndarray out
    if a.requires_grad:
        out = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(A), cnp.PyArray_DIMS(A), cnp.PyArray_TYPE(A), 0)
        product_into(g2, False, as_2d(B, k, n), True, as_2d(out, m, k))
        accumulate(a, out, True)
    if b.requires_grad:
        out = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(B), cnp.PyArray_DIMS(B), cnp.PyArray_TYPE(B), 0)
        product_into(as_2d(A, m, k), True, g2, False, as_2d(out, k, n))
        accumulate(b, out, True)
    return 0


cdef int vjp_matmul(Node node, object g) except -1:
    """ga = g @ b^T, gb = a^T @ g (1-D operands promoted, batch axes summed by accumulate)"""
    cdef Node a = <Node>node._prev[0], b = <Node>node._prev[1]
    A, B = a.data, b.data
    cdef bint fits = (blas_operands(A, B) and cnp.PyArray_Check(g)
                      and cnp.PyArray_TYPE(g) == cnp.PyArray_TYPE(A)
                      and cnp.PyArray_NDIM(g) == cnp.PyArray_NDIM(A) + cnp.PyArray_NDIM(B) - 2)
    if fits and loopable(A, B) and cnp.PyArray_IS_C_CONTIGUOUS(g) \
            and rows(A) * inner(A) * cols(B) <= matmul_loop_max():
        return small_matmul_vjp(a, b, A, B, g)
    if fits and cnp.PyArray_NDIM(g) > 0:
        return blas_matmul_vjp(a, b, A, B, g)
    if A.ndim == 1 and B.ndim == 1:
        if a.requires_grad:
            accumulate(a, g * B, True)
        if b.requires_grad:
            accumulate(b, g * A, True)
        return 0
    if A.ndim == 1:   # (k,) @ (..., k, n) -> (..., n)
        if a.requires_grad:
            accumulate(a, np.matmul(g[..., None, :], swap(B))[..., 0, :], True)
        if b.requires_grad:
            accumulate(b, A[:, None] * g[..., None, :], True)
        return 0
    if B.ndim == 1:   # (..., m, k) @ (k,) -> (..., m)
        if a.requires_grad:
            accumulate(a, g[..., :, None] * B, True)
        if b.requires_grad:
            accumulate(b, np.matmul(swap(A), g[..., :, None])[..., 0], True)
        return 0
    if a.requires_grad:
        accumulate(a, np.matmul(g, swap(B)), True)
    if b.requires_grad:
        accumulate(b, np.matmul(swap(A), g), True)
    return 0


register_vjp(OP_MATMUL, vjp_matmul)
