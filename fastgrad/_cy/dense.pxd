# Declarations of csrc/dense.pyx's typed loops, cimported by csrc/tape.pyx: a replayed dense
# layer runs these very functions, so eager and replay share one formula (and round alike).
from fastgrad._cy.node cimport real

cdef void gemm_nn(real* Y, const real* X, const real* W,
                  Py_ssize_t m, Py_ssize_t k, Py_ssize_t n) noexcept nogil
cdef void gemm_tn(real* GW, const real* X, const real* GZ,
                  Py_ssize_t m, Py_ssize_t k, Py_ssize_t n) noexcept nogil
cdef void gemm_nt(real* GX, const real* GZ, const real* W,
                  Py_ssize_t m, Py_ssize_t k, Py_ssize_t n) noexcept nogil
cdef void bias_act(real* Y, const real* B, Py_ssize_t m, Py_ssize_t n, int act) noexcept nogil
cdef void act_grad(real* GZ, real* GB, const real* G, const real* Y,
                   Py_ssize_t m, Py_ssize_t n, int act) noexcept nogil
