# Declarations of csrc/linalg.pyx's typed loop for small products, cimported by csrc/tape.pyx
# (a replayed small matmul runs this very function).
from fastgrad._cy.node cimport real

cdef void small_gemm(real* C, const real* A, Py_ssize_t a_row, Py_ssize_t a_col,
                     const real* B, Py_ssize_t b_row, Py_ssize_t b_col,
                     Py_ssize_t m, Py_ssize_t k, Py_ssize_t n) noexcept nogil
