# Declarations of csrc/blas.pyx, cimported by the dense layer and matmul.
cimport numpy as cnp

# C = op(A)·op(B) (op(X) = Xᵀ when tX) by BLAS, for 0- to 2-D arrays of one float dtype; any
# strides (copies only where BLAS cannot read them); raises ValueError on a dtype/shape misfit.
cdef int product_into(cnp.ndarray A, bint ta, cnp.ndarray B, bint tb, cnp.ndarray C) except -1

# The crossovers: products of at most this many multiply-adds run in typed loops.
cdef Py_ssize_t dense_loop_max() noexcept
cdef Py_ssize_t matmul_loop_max() noexcept
