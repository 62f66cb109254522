# Declarations of csrc/vmath.pyx: fastgrad's vectorised exp, log, log1p, tanh and sigmoid
# (csrc/vmath.h) at the dispatch level chosen once at import. Each helper fills o[:n] from x[:n];
# o may be x (in place) but must not partly overlap it.
from fastgrad._cy.node cimport real


cdef extern from "vmath.h" nogil:
    ctypedef void (*vm_f64_fn)(double*, const double*, Py_ssize_t) noexcept nogil
    ctypedef void (*vm_f32_fn)(float*, const float*, Py_ssize_t) noexcept nogil
    ctypedef struct vm_kernels:
        vm_f64_fn exp_f64, log_f64, log1p_f64, tanh_f64, sigmoid_f64
        vm_f32_fn exp_f32, log_f32, log1p_f32, tanh_f32, sigmoid_f32


cdef const vm_kernels* active_kernels() noexcept nogil


cdef inline void v_exp(real* o, const real* x, Py_ssize_t n) noexcept nogil:
    """o = e^x"""
    if real is double:
        active_kernels().exp_f64(o, x, n)
    else:
        active_kernels().exp_f32(o, x, n)


cdef inline void v_log(real* o, const real* x, Py_ssize_t n) noexcept nogil:
    """o = log x"""
    if real is double:
        active_kernels().log_f64(o, x, n)
    else:
        active_kernels().log_f32(o, x, n)


cdef inline void v_log1p(real* o, const real* x, Py_ssize_t n) noexcept nogil:
    """o = log(1 + x)"""
    if real is double:
        active_kernels().log1p_f64(o, x, n)
    else:
        active_kernels().log1p_f32(o, x, n)


cdef inline void v_tanh(real* o, const real* x, Py_ssize_t n) noexcept nogil:
    """o = tanh x"""
    if real is double:
        active_kernels().tanh_f64(o, x, n)
    else:
        active_kernels().tanh_f32(o, x, n)


cdef inline void v_sigmoid(real* o, const real* x, Py_ssize_t n) noexcept nogil:
    """o = 1/(1 + e^-x), never overflowing"""
    if real is double:
        active_kernels().sigmoid_f64(o, x, n)
    else:
        active_kernels().sigmoid_f32(o, x, n)
