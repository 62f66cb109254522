# Declarations of csrc/reduce.pyx's last-axis row loops, cimported by csrc/tape.pyx: a replayed
# softmax, log_softmax or row sum runs these very functions (one formula, the same rounding).
from fastgrad._cy.node cimport real

cdef void row_sums(real* out, const real* x, Py_ssize_t m, Py_ssize_t r) noexcept nogil
cdef void row_extremes(real* out, const real* x, Py_ssize_t m, Py_ssize_t r,
                       bint is_max) noexcept nogil
cdef void finite_or_zero(real* v, Py_ssize_t m) noexcept nogil
cdef void sub_rows(real* out, const real* x, const real* v, Py_ssize_t m,
                   Py_ssize_t r) noexcept nogil
cdef void div_rows(real* out, const real* x, const real* v, Py_ssize_t m,
                   Py_ssize_t r) noexcept nogil
cdef void fill_rows(real* out, const real* v, Py_ssize_t m, Py_ssize_t r) noexcept nogil
cdef void softmax_bwd_rows(real* out, const real* g, const real* y, real* gy, Py_ssize_t m,
                           Py_ssize_t r) noexcept nogil
cdef void log_softmax_bwd_rows(real* out, const real* g, const real* e, Py_ssize_t m,
                               Py_ssize_t r) noexcept nogil
