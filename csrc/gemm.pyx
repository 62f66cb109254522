"""Matrix products for the dense layers and matmul (twin: fastgrad/_py/gemm.py).

C = A·B (+ bias) for 2-D float32/float64 operands, by fastgrad's AVX-512 kernel (csrc/gemm.h)
where the CPU has AVX-512F, and by numpy's matmul (its BLAS) elsewhere. Operands may be strided
views (Xᵀ, Wᵀ): the kernel reads them in place.

The kernel is chosen once, at import: ``FASTGRAD_GEMM=numpy`` forces numpy's matmul (for
comparison, or as an escape hatch); unset (or ``auto``) uses the kernel if the CPU can run it.
``set_kernel`` switches at run time (benchmarks, tests).
"""
cimport numpy as cnp

import os

import numpy as np

cnp.import_array()

cdef extern from "gemm.h" nogil:
    int fg_gemm_cpu_supported()
    int fg_dgemm(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                 const double* A, Py_ssize_t rsa, Py_ssize_t csa,
                 const double* B, Py_ssize_t rsb, Py_ssize_t csb,
                 double* C, Py_ssize_t rsc, Py_ssize_t csc, const double* bias, int accumulate)
    int fg_sgemm(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k,
                 const float* A, Py_ssize_t rsa, Py_ssize_t csa,
                 const float* B, Py_ssize_t rsb, Py_ssize_t csb,
                 float* C, Py_ssize_t rsc, Py_ssize_t csc, const float* bias, int accumulate)

# the setting's name, its parsing and the argument checks live once, in the twin
from fastgrad._py.gemm import ENV_VAR, KERNELS, check_matmul_into, choose_kernel

# Products of at least this many multiply-adds run without the GIL (releasing it costs ~0.1 us).
cdef Py_ssize_t GIL_RELEASE_MIN = 1 << 15


def cpu_supported():
    """True if the AVX-512 kernel was compiled in and this CPU (and OS) can run it."""
    return fg_gemm_cpu_supported() != 0


cdef bint use_avx512 = choose_kernel(cpu_supported(), os.environ.get(ENV_VAR)) == "avx512"
cdef unsigned long long calls = 0  # products the kernel ran (tests check it really runs)


cdef bint kernel_on() noexcept:
    return use_avx512


def kernel():
    """The kernel products use now: "avx512" or "numpy"."""
    return "avx512" if use_avx512 else "numpy"


def kernel_calls():
    """How many products the kernel has run since import."""
    return calls


def set_kernel(name):
    """Use kernel ``name`` ("avx512" or "numpy") from now on; return the previous one."""
    global use_avx512
    if name not in KERNELS:
        raise ValueError(f"set_kernel: unknown kernel {name!r}; expected one of {KERNELS}")
    if name == "avx512" and not cpu_supported():
        raise RuntimeError("set_kernel: this CPU (or this build) cannot run the AVX-512 kernel")
    old = kernel()
    use_avx512 = name == "avx512"
    return old


# The size rule, measured against numpy's OpenBLAS on one Zen 5 core with its Haswell (AVX2)
# kernels, as OPENBLAS_CORETYPE=Haswell selects on this machine, and with its SkylakeX (AVX-512)
# ones, which it picks when that is unset. Against Haswell's, the kernel is 1.7-2.2x as fast
# from 32^3 to 2048^3 and at the MLP shapes; against SkylakeX's, 1.1-1.5x at the MLP shapes,
# 1.2-1.4x at 128^3-512^3, on par (0.9-1.1x) at 32^3-64^3 and 1024^3-2048^3. Numpy runs:
# - m <= 4 (a tile pads to 8 rows; the product streams B for a few rows): SkylakeX's gemm is
#   1.2-1.6x faster at m = 2-4 (Haswell's 3-7x slower); from m = 5 the kernel is ahead of both.
# - n <= half a vector (4 float64, 8 float32 columns of 16-32 in a tile): SkylakeX 1.4-3x faster
#   (Haswell 1.3-2x slower); from n = 5 / 9 the kernel is on par or ahead (0.9-1x, 0.3-0.6x).
# - m = 1 or n = 1 (matrix-vector products): BLAS's gemv, as both of the above imply.
cdef inline bint kernel_suits(Py_ssize_t m, Py_ssize_t n, Py_ssize_t itemsize) noexcept:
    """The size rule above: kernel or numpy for a product with an (m, n) result."""
    return m > 4 and n * itemsize > 32


cdef bint kernel_takes(Py_ssize_t m, Py_ssize_t n, Py_ssize_t itemsize) noexcept:
    return use_avx512 and kernel_suits(m, n, itemsize)


def uses_kernel(m, k, n, dtype=np.float64):
    """True if a product of (m, k) by (k, n) arrays of ``dtype`` runs in the kernel now."""
    return kernel_takes(m, n, np.dtype(dtype).itemsize)


cdef inline bint strides_in_elements(cnp.ndarray a, Py_ssize_t itemsize,
                                     Py_ssize_t* rs, Py_ssize_t* cs) noexcept:
    """a's two strides in elements, if both are whole numbers of elements."""
    cdef Py_ssize_t r = cnp.PyArray_STRIDES(a)[0], c = cnp.PyArray_STRIDES(a)[1]
    if r % itemsize or c % itemsize:
        return False
    rs[0] = r // itemsize
    cs[0] = c // itemsize
    return True


cdef inline void extent(cnp.ndarray a, char** low, char** high) noexcept:
    """The bytes a 2-D array spans: [low, high)."""
    cdef char* lo = <char*>cnp.PyArray_DATA(a)
    cdef char* hi = lo
    cdef Py_ssize_t d, step
    for d in range(2):
        step = (cnp.PyArray_DIMS(a)[d] - 1) * cnp.PyArray_STRIDES(a)[d]
        if step > 0:
            hi += step
        else:
            lo += step
    low[0] = lo
    high[0] = hi + cnp.PyArray_ITEMSIZE(a)


cdef bint overlap(cnp.ndarray a, cnp.ndarray b) noexcept:
    """a and b (2-D, non-empty) may share memory (their byte ranges intersect)."""
    cdef char* a_lo
    cdef char* a_hi
    cdef char* b_lo
    cdef char* b_hi
    extent(a, &a_lo, &a_hi)
    extent(b, &b_lo, &b_hi)
    return a_lo < b_hi and b_lo < a_hi


cdef int product_into(cnp.ndarray A, cnp.ndarray B, cnp.ndarray C, object bias) except -1:
    """C = A·B + bias by the kernel and return 1, or return 0 (C untouched) if the kernel is off
    or does not take these operands: then the caller computes the product itself. The kernel
    takes 2-D arrays A (m, k), B (k, n) and C (m, n) of one float dtype, C writeable with
    unit-stride rows and not overlapping A or B, and bias None or a contiguous (n,) array of
    the dtype."""
    if not use_avx512:
        return 0
    cdef int t = cnp.PyArray_TYPE(C)
    if not ((t == cnp.NPY_DOUBLE or t == cnp.NPY_FLOAT)
            and cnp.PyArray_NDIM(A) == 2 and cnp.PyArray_NDIM(B) == 2
            and cnp.PyArray_NDIM(C) == 2
            and cnp.PyArray_TYPE(A) == t and cnp.PyArray_TYPE(B) == t):
        return 0
    cdef Py_ssize_t m = cnp.PyArray_DIMS(A)[0], k = cnp.PyArray_DIMS(A)[1]
    cdef Py_ssize_t n = cnp.PyArray_DIMS(B)[1]
    if (cnp.PyArray_DIMS(B)[0] != k or cnp.PyArray_DIMS(C)[0] != m
            or cnp.PyArray_DIMS(C)[1] != n):
        return 0
    cdef Py_ssize_t itemsize = cnp.PyArray_ITEMSIZE(C)
    if not kernel_suits(m, n, itemsize):
        return 0
    cdef Py_ssize_t rsa, csa, rsb, csb, rsc, csc
    if not (strides_in_elements(A, itemsize, &rsa, &csa)
            and strides_in_elements(B, itemsize, &rsb, &csb)
            and strides_in_elements(C, itemsize, &rsc, &csc) and csc == 1
            and cnp.PyArray_ISWRITEABLE(C)):
        return 0
    cdef void* b = NULL
    cdef char* c_lo
    cdef char* c_hi
    if bias is not None:
        if not (cnp.PyArray_Check(bias) and cnp.PyArray_TYPE(<cnp.ndarray>bias) == t
                and cnp.PyArray_NDIM(<cnp.ndarray>bias) == 1
                and cnp.PyArray_DIMS(<cnp.ndarray>bias)[0] == n
                and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>bias)):
            return 0
        b = cnp.PyArray_DATA(<cnp.ndarray>bias)
    if m > 0 and n > 0:  # the kernel writes C while it reads A, B and bias
        if k > 0 and (overlap(C, A) or overlap(C, B)):
            return 0
        extent(C, &c_lo, &c_hi)
        if b != NULL and <char*>b < c_hi and c_lo < <char*>b + n * itemsize:
            return 0
    cdef void* a_data = cnp.PyArray_DATA(A)
    cdef void* b_data = cnp.PyArray_DATA(B)
    cdef void* c_data = cnp.PyArray_DATA(C)
    cdef int status
    cdef bint f64 = t == cnp.NPY_DOUBLE
    if m * k * n < GIL_RELEASE_MIN:
        if f64:
            status = fg_dgemm(m, n, k, <double*>a_data, rsa, csa, <double*>b_data, rsb, csb,
                              <double*>c_data, rsc, csc, <double*>b, 0)
        else:
            status = fg_sgemm(m, n, k, <float*>a_data, rsa, csa, <float*>b_data, rsb, csb,
                              <float*>c_data, rsc, csc, <float*>b, 0)
    else:
        with nogil:
            if f64:
                status = fg_dgemm(m, n, k, <double*>a_data, rsa, csa, <double*>b_data, rsb,
                                  csb, <double*>c_data, rsc, csc, <double*>b, 0)
            else:
                status = fg_sgemm(m, n, k, <float*>a_data, rsa, csa, <float*>b_data, rsb,
                                  csb, <float*>c_data, rsc, csc, <float*>b, 0)
    if status != 0:  # out of memory for packing: numpy will do it
        return 0
    global calls
    calls += 1
    return 1


def matmul_into(A, B, out, bias=None):
    """out = A @ B (+ bias) for 2-D arrays of one float dtype (A (m, k), B (k, n), out (m, n),
    bias (n,)); returns out."""
    check_matmul_into(A, B, out, bias)
    if bias is not None and not bias.flags.c_contiguous:
        bias = np.ascontiguousarray(bias)
    if not product_into(A, B, out, bias):
        np.matmul(A, B, out=out)
        if bias is not None:
            out += bias
    return out


def matmul(A, B, bias=None):
    """A @ B (+ bias) as a new C-contiguous array (see matmul_into)."""
    out = np.empty((A.shape[0], B.shape[1]), dtype=np.result_type(A, B))
    return matmul_into(A, B, out, bias)
