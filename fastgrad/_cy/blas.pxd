# Declarations of csrc/blas.pyx, cimported by the dense layer, matmul and the capture tape.
cimport numpy as cnp

# C = op(A)·op(B) (op(X) = Xᵀ when tX) by BLAS, for 0- to 2-D arrays of one float dtype; any
# strides (copies only where BLAS cannot read them); raises ValueError on a dtype/shape misfit.
cdef int product_into(cnp.ndarray A, bint ta, cnp.ndarray B, bint tb, cnp.ndarray C) except -1

# The crossovers: products of at most this many multiply-adds run in typed loops.
cdef Py_ssize_t dense_loop_max() noexcept
cdef Py_ssize_t matmul_loop_max() noexcept

# A product as one BLAS call, planned once and run any number of times (fastgrad.capture's
# tape replays the very call product_into makes, so its bits are eager's).
cdef enum:
    PLAN_NOTHING = 0    # C is empty
    PLAN_ZERO = 1       # a sum over nothing: C (contiguous, nbytes) = 0
    PLAN_GEMM = 2       # ?gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    PLAN_GEMV = 3       # ?gemv(ta, m, n, alpha, a, lda, b, ldb (incx), beta, c, ldc (incy))

cdef struct Plan:
    int routine         # a PLAN_* code
    bint f64            # d (float64) or s (float32) routine
    char ta, tb
    int m, n, k
    int lda, ldb, ldc
    char* a
    char* b
    char* c
    double alpha, beta
    Py_ssize_t work     # multiply-adds
    Py_ssize_t nbytes   # PLAN_ZERO: bytes of C

# 1 and ``plan`` = the call product_into(A, ta, B, tb, C) makes; 0 when it would not call BLAS
# in place (numpy's matmul, copies). ValueError as product_into.
cdef int plan_product(cnp.ndarray A, bint ta, cnp.ndarray B, bint tb, cnp.ndarray C,
                      Plan* plan) except -1
# Run a plan (the arrays it points into must be alive).
cdef void run_plan(const Plan* plan) noexcept nogil
# Products go to scipy's BLAS now (False: numpy's matmul, see blas.use).
cdef bint blas_loaded() noexcept
