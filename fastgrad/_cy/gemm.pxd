# Declarations of csrc/gemm.pyx, cimported by the dense layer and matmul.
cimport numpy as cnp

# C = A·B + bias by fastgrad's kernel: 1 if it ran, 0 if the caller must compute the product.
cdef int product_into(cnp.ndarray A, cnp.ndarray B, cnp.ndarray C, object bias) except -1
