# Declarations of csrc/losses.pyx's row loops, cimported by csrc/tape.pyx: a replayed fused
# loss runs these very functions, so eager and replay share one formula (and round alike).
from fastgrad._cy.node cimport real

cdef void softmax_ce_rows(real* P, real* L, real* M, const real* Z, const Py_ssize_t* labels,
                          const real* T, Py_ssize_t n, Py_ssize_t c) noexcept nogil
cdef void ce_grad(real* GZ, const real* P, const Py_ssize_t* labels, const real* T,
                  const real* G, real scale, Py_ssize_t n, Py_ssize_t c) noexcept nogil
cdef void bce_losses(real* L, const real* Z, const real* T, real* E,
                     Py_ssize_t n) noexcept nogil
cdef void bce_grad(real* GZ, const real* Z, const real* T, const real* E, const real* G,
                   real scale, Py_ssize_t n) noexcept nogil
cdef void mse_losses(real* D, real* L, const real* P, const real* T,
                     Py_ssize_t n) noexcept nogil
cdef void mse_grad(real* GP, const real* D, const real* G, real scale,
                   Py_ssize_t n) noexcept nogil
cdef void hinge_losses(real* M, real* L, const real* S, const real* T,
                       Py_ssize_t n) noexcept nogil
cdef void hinge_grad(real* GS, const real* T, const real* M, const real* G, real scale,
                     Py_ssize_t n) noexcept nogil
