"""The fused dense layer y = act(x @ W + b): one node (twin: fastgrad/_py/dense.py).

Forward: z = x·W + b, y = act(z). Backward, from the gradient g of y: gz = g·act'(y), fused
with gb = Σ_rows gz in one pass; then gW = xᵀ·gz and gx = gz·Wᵀ, each only if required.

The products run in typed loops up to blas.dense_loop_max() multiply-adds and above it in BLAS
called from C (csrc/blas.pyx: transposes by BLAS's flags, no copies). Bias, activation and
activation derivative are typed loops; tanh and sigmoid are fastgrad's vectorised kernels
(fastgrad/_cy/vmath.pxd), run once over the whole output.
The kernels dense_forward/dense_backward write into arrays the caller allocated (for replay).
"""
cimport numpy as cnp
from libc.string cimport memset

import threading

import numpy as np

from fastgrad._cy.node cimport (Node, accumulate, as_constant, is_float, lift, make_result,
                                real, register_vjp)
from fastgrad._cy.blas cimport dense_loop_max, product_into
from fastgrad._cy.opcodes cimport OP_DENSE
from fastgrad._cy.vmath cimport v_sigmoid, v_tanh

cnp.import_array()

# The products' crossover (typed loops up to dense_loop_max() multiply-adds, BLAS above) lives
# with the other product crossovers in csrc/blas.pyx.
# Outputs with fewer columns than this are computed one dot product at a time (the row-wise
# loops set up a vector loop per row of W, which costs more than it saves on a few columns).
cdef enum:
    NARROW = 4

cdef enum:
    ACT_NONE = 0
    ACT_TANH = 1
    ACT_RELU = 2
    ACT_SIGMOID = 3

# the names of the activations, their codes (the enum above; the parity tests, which run every
# activation on both backends, fail if the two disagree) and the argument checks live once, in
# the twin
from fastgrad._shared.dense import (ACTIVATION_NAMES, ACTIVATIONS, activation_code,
                                    check_dense)

from fastgrad._cy.blas import set_crossovers as set_product_crossovers


def _crossovers():
    """The size thresholds in use, as a dict (compiled only: the twin always uses numpy; a
    hook for benchmarks and for tests of both paths)."""
    return {"loop_max": dense_loop_max()}


def _set_crossovers(loop_max=None):
    """Change the thresholds (for benchmarks and tests of both paths); return the old ones."""
    old = _crossovers()
    if loop_max is not None:
        set_product_crossovers(dense_loop_max=loop_max)
    return old


# ---------------------------------------------------------------- typed loops

cdef void gemm_nn(real* Y, const real* X, const real* W,
                  Py_ssize_t m, Py_ssize_t k, Py_ssize_t n) noexcept nogil:
    """Y (m×n) = X (m×k) · W (k×n): Y[i,:] = Σ_l X[i,l]·W[l,:] (l ascending)"""
    cdef Py_ssize_t i, j, l
    cdef real xil, acc
    cdef real* y
    cdef const real* w
    if n < NARROW:  # one dot product per output: no vector loop set up for a few columns
        for i in range(m):
            for j in range(n):
                acc = 0
                for l in range(k):
                    acc = acc + X[i * k + l] * W[l * n + j]
                Y[i * n + j] = acc
        return
    for i in range(m):
        y = Y + i * n
        for j in range(n):
            y[j] = 0
        for l in range(k):
            xil = X[i * k + l]
            w = W + l * n
            for j in range(n):
                y[j] = y[j] + xil * w[j]


cdef void gemm_tn(real* GW, const real* X, const real* GZ,
                  Py_ssize_t m, Py_ssize_t k, Py_ssize_t n) noexcept nogil:
    """GW (k×n) = Xᵀ · GZ for X (m×k), GZ (m×n): GW[l,:] = Σ_i X[i,l]·GZ[i,:] (i ascending)"""
    cdef Py_ssize_t i, j, l
    cdef real xil, acc
    cdef real* gw
    cdef const real* gz
    if n < NARROW:
        for l in range(k):
            for j in range(n):
                acc = 0
                for i in range(m):
                    acc = acc + X[i * k + l] * GZ[i * n + j]
                GW[l * n + j] = acc
        return
    memset(GW, 0, k * n * sizeof(real))
    for i in range(m):
        gz = GZ + i * n
        for l in range(k):
            xil = X[i * k + l]
            gw = GW + l * n
            for j in range(n):
                gw[j] = gw[j] + xil * gz[j]


cdef void gemm_nt(real* GX, const real* GZ, const real* W,
                  Py_ssize_t m, Py_ssize_t k, Py_ssize_t n) noexcept nogil:
    """GX (m×k) = GZ (m×n) · Wᵀ for W (k×n): GX[i,l] = Σ_j GZ[i,j]·W[l,j]"""
    cdef Py_ssize_t i, j, l
    cdef real acc
    cdef const real* gz
    cdef const real* w
    for i in range(m):
        gz = GZ + i * n
        for l in range(k):
            w = W + l * n
            acc = 0
            for j in range(n):
                acc = acc + gz[j] * w[j]
            GX[i * k + l] = acc


cdef void bias_act(real* Y, const real* B, Py_ssize_t m, Py_ssize_t n, int act) noexcept nogil:
    """Y = act(Y + B) in place (B may be NULL): the bias row by row, then tanh and sigmoid by
    the vectorised kernels over all of Y at once"""
    cdef Py_ssize_t i, j
    cdef real z
    cdef real* y
    for i in range(m):
        y = Y + i * n
        if B != NULL:
            for j in range(n):
                y[j] = y[j] + B[j]
        if act == ACT_RELU:  # max(z, 0), NaN passing through as in numpy.maximum
            for j in range(n):
                z = y[j]
                y[j] = z if (z >= 0 or z != z) else 0
    if act == ACT_TANH:
        v_tanh(Y, Y, m * n)
    elif act == ACT_SIGMOID:
        v_sigmoid(Y, Y, m * n)


cdef void act_grad(real* GZ, real* GB, const real* G, const real* Y,
                   Py_ssize_t m, Py_ssize_t n, int act) noexcept nogil:
    """GZ = G·act'(Y) and, if GB is not NULL, GB = Σ_rows GZ, in one pass. GZ may be G."""
    cdef Py_ssize_t i, j
    cdef real v
    cdef real* gz
    cdef const real* g
    cdef const real* y
    if GB != NULL:
        memset(GB, 0, n * sizeof(real))
    for i in range(m):
        gz = GZ + i * n
        g = G + i * n
        y = Y + i * n
        if act == ACT_TANH:
            for j in range(n):
                gz[j] = g[j] * (1 - y[j] * y[j])
        elif act == ACT_RELU:
            for j in range(n):
                gz[j] = g[j] * (y[j] > 0)
        elif act == ACT_SIGMOID:
            for j in range(n):
                gz[j] = g[j] * y[j] * (1 - y[j])
        elif gz != g:
            for j in range(n):
                gz[j] = g[j]
        if GB != NULL:
            for j in range(n):
                GB[j] = GB[j] + gz[j]


# ---------------------------------------------------------------- kernels on arrays

cdef inline bint contiguous(cnp.ndarray a) noexcept:
    return cnp.PyArray_IS_C_CONTIGUOUS(a)


cdef inline void* ptr(object a) noexcept:
    return cnp.PyArray_DATA(<cnp.ndarray>a) if a is not None else NULL


cdef bint fits(object a, int typenum, Py_ssize_t rows, Py_ssize_t cols,
               bint c_contiguous) noexcept:
    """a is an array of dtype typenum and shape (rows, cols) ((cols,) when rows < 0)."""
    if not cnp.PyArray_Check(a) or cnp.PyArray_TYPE(<cnp.ndarray>a) != typenum:
        return False
    cdef cnp.ndarray arr = <cnp.ndarray>a
    if c_contiguous and not cnp.PyArray_IS_C_CONTIGUOUS(arr):
        return False
    if rows < 0:
        return cnp.PyArray_NDIM(arr) == 1 and cnp.PyArray_DIMS(arr)[0] == cols
    return (cnp.PyArray_NDIM(arr) == 2 and cnp.PyArray_DIMS(arr)[0] == rows
            and cnp.PyArray_DIMS(arr)[1] == cols)


cdef int check_operands(str where, cnp.ndarray X, cnp.ndarray W) except -1:
    """X (m, k) of a float dtype and W (k, n) of the same: the kernels index raw memory."""
    if not (is_float(X) and cnp.PyArray_NDIM(X) == 2 and cnp.PyArray_NDIM(W) == 2
            and cnp.PyArray_TYPE(W) == cnp.PyArray_TYPE(X)
            and cnp.PyArray_DIMS(W)[0] == cnp.PyArray_DIMS(X)[1]):
        x, w = <object>X, <object>W
        raise ValueError(f"{where}: X must be a 2-D float32/float64 array and W a 2-D array of "
                         f"its dtype with as many rows as X has columns; got X {x.dtype} "
                         f"{x.shape}, W {w.dtype} {w.shape}")
    return 0


cdef int check_buffer(str where, str name, object a, cnp.ndarray X, Py_ssize_t rows,
                      Py_ssize_t cols, bint c_contiguous) except -1:
    """a is None or an array of X's dtype and shape (rows, cols) ((cols,) when rows < 0)."""
    if a is not None and not fits(a, cnp.PyArray_TYPE(X), rows, cols, c_contiguous):
        shape = (cols,) if rows < 0 else (<object>rows, cols)
        raise ValueError(f"{where}: {name} must be a {'C-contiguous ' if c_contiguous else ''}"
                         f"{(<object>X).dtype} array of shape {shape}, got "
                         f"{getattr(a, 'dtype', type(a).__name__)} {getattr(a, 'shape', '')}")
    return 0


def dense_forward(cnp.ndarray X not None, cnp.ndarray W not None, object B, int act,
                  cnp.ndarray Y not None):
    """Y = act(X·W + B) for 2-D X; B may be None. Writes into Y (rows(X), cols(W)), which
    must be C-contiguous; all arrays share one float dtype."""
    check_operands("dense_forward", X, W)
    cdef Py_ssize_t m = cnp.PyArray_DIMS(X)[0], k = cnp.PyArray_DIMS(X)[1]
    cdef Py_ssize_t n = cnp.PyArray_DIMS(W)[1]
    check_buffer("dense_forward", "B", B, X, -1, n, False)
    check_buffer("dense_forward", "Y", Y, X, m, n, True)
    cdef bint f64 = cnp.PyArray_TYPE(Y) == cnp.NPY_DOUBLE
    if B is not None and not contiguous(B):
        B = np.ascontiguousarray(B)
    if m * k * n <= dense_loop_max() and contiguous(X) and contiguous(W):
        if f64:
            gemm_nn(<double*>ptr(Y), <double*>ptr(X), <double*>ptr(W), m, k, n)
        else:
            gemm_nn(<float*>ptr(Y), <float*>ptr(X), <float*>ptr(W), m, k, n)
    else:
        product_into(X, False, W, False, Y)
    if f64:
        bias_act(<double*>ptr(Y), <double*>ptr(B), m, n, act)
    else:
        bias_act(<float*>ptr(Y), <float*>ptr(B), m, n, act)


def dense_backward(cnp.ndarray X not None, cnp.ndarray W not None, cnp.ndarray Y not None,
                   cnp.ndarray G not None, int act,
                   object GZ, object GX, object GW, object GB):
    """gz = G·act'(Y) into GZ (and GB = Σ_rows gz in the same pass); then GW = Xᵀ·gz and
    GX = gz·Wᵀ, for those that are not None. GZ may be None when act is none (gz is G). Y, G
    and the outputs must be C-contiguous."""
    check_operands("dense_backward", X, W)
    cdef Py_ssize_t m = cnp.PyArray_DIMS(X)[0], k = cnp.PyArray_DIMS(X)[1]
    cdef Py_ssize_t n = cnp.PyArray_DIMS(W)[1]
    if GZ is None and act != ACT_NONE:
        raise ValueError("dense_backward: GZ (scratch for gz) is needed with an activation")
    for name, a in (("Y", Y), ("G", G), ("GZ", GZ)):
        check_buffer("dense_backward", name, a, X, m, n, True)
    check_buffer("dense_backward", "GX", GX, X, m, k, True)
    check_buffer("dense_backward", "GW", GW, X, k, n, True)
    check_buffer("dense_backward", "GB", GB, X, -1, n, True)
    cdef bint f64 = cnp.PyArray_TYPE(Y) == cnp.NPY_DOUBLE
    cdef bint loops = m * k * n <= dense_loop_max() and contiguous(X) and contiguous(W)
    if GZ is None:
        GZ = G
    if GZ is not G or GB is not None:
        if f64:
            act_grad(<double*>ptr(GZ), <double*>ptr(GB), <double*>ptr(G), <double*>ptr(Y),
                     m, n, act)
        else:
            act_grad(<float*>ptr(GZ), <float*>ptr(GB), <float*>ptr(G), <float*>ptr(Y),
                     m, n, act)
    if GW is not None:
        if not loops:  # GW = Xᵀ·gz: the transpose by BLAS's flag
            product_into(X, True, GZ, False, GW)
        elif f64:
            gemm_tn(<double*>ptr(GW), <double*>ptr(X), <double*>ptr(GZ), m, k, n)
        else:
            gemm_tn(<float*>ptr(GW), <float*>ptr(X), <float*>ptr(GZ), m, k, n)
    if GX is not None:
        if not loops:  # GX = gz·Wᵀ
            product_into(GZ, False, W, True, GX)
        elif f64:
            gemm_nt(<double*>ptr(GX), <double*>ptr(GZ), <double*>ptr(W), m, k, n)
        else:
            gemm_nt(<float*>ptr(GX), <float*>ptr(GZ), <float*>ptr(W), m, k, n)


# ---------------------------------------------------------------- the node

cpdef tuple dense_operands(object x, object W, object b):
    """x, W and b (or None) as nodes of one float dtype; arrays take the dtype of W (or x)."""
    if isinstance(W, Node):
        dtype = (<Node>W).data.dtype
    elif isinstance(x, Node):
        dtype = (<Node>x).data.dtype
    else:
        W = lift(W, "dense")
        dtype = (<Node>W).data.dtype
    if not isinstance(x, Node):
        x = as_constant(x, dtype, "dense")
    if not isinstance(W, Node):
        W = as_constant(W, dtype, "dense")
    if b is not None and not isinstance(b, Node):
        b = as_constant(b, dtype, "dense")
    return x, W, b


cpdef cnp.ndarray as_rows(cnp.ndarray X):
    """x as a 2-D (rows, in) array (a view when possible)."""
    if X is None:
        raise TypeError("as_rows: expected an array, got None")
    if cnp.PyArray_NDIM(X) == 2:
        return X
    return X.reshape(-1, X.shape[X.ndim - 1])


cdef inline cnp.ndarray new_matrix(Py_ssize_t m, Py_ssize_t n, int typenum):
    cdef cnp.npy_intp dims[2]
    dims[0] = m
    dims[1] = n
    return cnp.PyArray_EMPTY(2, dims, typenum, 0)


# gz = g·act'(y) lives only inside one vjp_dense call. Large ones are reused from a small pool
# per thread (threads may run backward at once) instead of allocated each step: glibc hands
# blocks this big back to the kernel when freed, so a fresh one faults in page by page.
_gz_pools = threading.local()
cdef Py_ssize_t GZ_POOL_MIN_BYTES = 128 * 1024  # glibc's default mmap threshold
cdef Py_ssize_t GZ_POOL_SHAPES = 4               # per thread: one buffer per (rows, cols, dtype)


cdef cnp.ndarray gz_buffer(Py_ssize_t m, Py_ssize_t n, int typenum):
    """A C-contiguous (m, n) scratch array for gz, pooled when it is large."""
    if m * n * (8 if typenum == cnp.NPY_DOUBLE else 4) < GZ_POOL_MIN_BYTES:
        return new_matrix(m, n, typenum)
    pool = getattr(_gz_pools, "buffers", None)
    if pool is None:
        pool = _gz_pools.buffers = {}
    key = (m, n, typenum)
    buffer = pool.get(key)
    if buffer is None:
        if len(pool) >= GZ_POOL_SHAPES:
            pool.clear()
        buffer = pool[key] = new_matrix(m, n, typenum)
    return buffer


def dense(x, W, b=None, activation=None):
    """y = act(x @ W + b) as one node; act in {None, 'tanh', 'relu', 'sigmoid'}."""
    cdef int act = activation_code(activation)
    cdef Node nx, nW, nb
    x, W, b = dense_operands(x, W, b)
    nx, nW = x, W
    cdef cnp.ndarray X = nx.data, Wd = nW.data
    B = (<Node>b).data if b is not None else None
    if not (cnp.PyArray_NDIM(X) == 2 and cnp.PyArray_NDIM(Wd) == 2
            and cnp.PyArray_TYPE(X) == cnp.PyArray_TYPE(Wd) and is_float(X)
            and X.shape[1] == Wd.shape[0]
            and (B is None or (cnp.PyArray_TYPE(<cnp.ndarray>B) == cnp.PyArray_TYPE(X)
                               and B.shape == (Wd.shape[1],)))):
        check_dense(X, Wd, B)  # raises, unless x merely has other than two dimensions
    cdef cnp.ndarray X2 = as_rows(X)
    cdef cnp.ndarray Y = new_matrix(cnp.PyArray_DIMS(X2)[0], cnp.PyArray_DIMS(Wd)[1],
                                    cnp.PyArray_TYPE(Wd))
    dense_forward(X2, Wd, B, act, Y)
    prev = (x, W) if b is None else (x, W, b)
    if cnp.PyArray_NDIM(X) != 2:
        Y = Y.reshape(nx.data.shape[:-1] + (Wd.shape[1],))
    return make_result(Y, OP_DENSE, prev, act)


cdef int vjp_dense(Node node, object g) except -1:
    """gz = g*act'(y); gW = x^T gz, gb = sum_rows gz, gx = gz W^T"""
    cdef Node x = <Node>node._prev[0], W = <Node>node._prev[1]
    cdef Node b = <Node>node._prev[2] if len(node._prev) == 3 else None
    cdef int act = node._ctx
    cdef cnp.ndarray X = as_rows(x.data), Wd = W.data, Y = as_rows(node.data)
    cdef cnp.ndarray G = as_rows(g)
    cdef int t = cnp.PyArray_TYPE(Y)
    if not cnp.PyArray_IS_C_CONTIGUOUS(G) or cnp.PyArray_TYPE(G) != t:
        G = np.ascontiguousarray(G, dtype=Y.dtype)  # e.g. the broadcast gradient of a sum
    cdef Py_ssize_t m = cnp.PyArray_DIMS(Y)[0], n = cnp.PyArray_DIMS(Y)[1]
    cdef Py_ssize_t k = cnp.PyArray_DIMS(Wd)[0]
    GZ = None if act == ACT_NONE else gz_buffer(m, n, t)
    GW = new_matrix(k, n, t) if W.requires_grad else None
    GB = None
    if b is not None and b.requires_grad:
        GB = cnp.PyArray_EMPTY(1, cnp.PyArray_DIMS(Wd) + 1, t, 0)
    GX = new_matrix(m, k, t) if x.requires_grad else None
    dense_backward(X, Wd, Y, G, act, GZ, GX, GW, GB)
    if GW is not None:
        accumulate(W, GW, True)
    if GB is not None:
        accumulate(b, GB, True)
    if GX is not None:
        accumulate(x, GX if cnp.PyArray_NDIM(<cnp.ndarray>x.data) == 2
                   else GX.reshape(x.data.shape), True)
    return 0


register_vjp(OP_DENSE, vjp_dense)
