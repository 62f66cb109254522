# Declarations of csrc/gemm.pyx, cimported by the dense layer and matmul.
cimport numpy as cnp

# C = A·B + bias by fastgrad's kernel: 1 if it ran, 0 if the caller must compute the product.
cdef int product_into(cnp.ndarray A, cnp.ndarray B, cnp.ndarray C, object bias) except -1

# True while fastgrad's kernel is the one in use (chosen at import; gemm.set_kernel changes it).
cdef bint kernel_on() noexcept

# True if product_into would run the kernel for an (m, n) result of this item size (the kernel
# is on and the size rule picks it).
cdef bint kernel_takes(Py_ssize_t m, Py_ssize_t n, Py_ssize_t itemsize) noexcept
