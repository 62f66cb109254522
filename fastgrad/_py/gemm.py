"""Matrix products for the dense layers and matmul (twin of csrc/gemm.pyx): numpy's matmul.

The compiled module runs fastgrad's AVX-512 kernel where the CPU has AVX-512F; this twin is the
reference it is tested against, and always uses numpy (its BLAS).
"""
import warnings

import numpy as np

ENV_VAR = "FASTGRAD_GEMM"
KERNELS = ("avx512", "numpy")


def cpu_supported():
    """True if the AVX-512 kernel can run: never in the pure-Python twin."""
    return False


def choose_kernel(cpu_ok, env_value):
    """The kernel for a CPU that can (``cpu_ok``) or cannot run AVX-512 code, given the value of
    FASTGRAD_GEMM (None when unset): "numpy" if asked for or if the CPU cannot, else "avx512"."""
    value = (env_value or "").strip().lower()
    if value == "numpy":
        return "numpy"
    if value not in ("", "auto", "avx512"):
        warnings.warn(f"{ENV_VAR}={env_value!r} is not one of 'auto', 'avx512', 'numpy'; "
                      f"using 'auto'", RuntimeWarning, stacklevel=2)
    return "avx512" if cpu_ok else "numpy"


def kernel():
    """The kernel products use now: always "numpy" in the twin."""
    return "numpy"


def kernel_calls():
    """How many products the kernel has run: none in the twin."""
    return 0


def set_kernel(name):
    """Use kernel ``name`` from now on (only "numpy" exists in the twin); return the previous."""
    if name not in KERNELS:
        raise ValueError(f"set_kernel: unknown kernel {name!r}; expected one of {KERNELS}")
    if name == "avx512":
        raise RuntimeError("set_kernel: this CPU (or this build) cannot run the AVX-512 kernel")
    return "numpy"


def uses_kernel(m, k, n, dtype=np.float64):
    """True if a product of (m, k) by (k, n) arrays of ``dtype`` runs in the kernel: never."""
    return False


def check_matmul_into(A, B, out, bias):
    """Raise a ValueError naming the shapes and dtypes unless out = A @ B (+ bias) fits: 2-D
    arrays of one float dtype, A (m, k), B (k, n), out (m, n), bias (n,) or None."""
    for name, a in (("A", A), ("B", B), ("out", out)):
        if not isinstance(a, np.ndarray) or a.ndim != 2 or a.dtype not in (np.float32,
                                                                           np.float64):
            raise ValueError(f"matmul_into: {name} must be a 2-D float32/float64 array, got "
                             f"{getattr(a, 'dtype', type(a).__name__)} "
                             f"{getattr(a, 'shape', '')}")
    if (A.dtype != B.dtype or out.dtype != A.dtype or A.shape[1] != B.shape[0]
            or out.shape != (A.shape[0], B.shape[1])
            or (bias is not None and (not isinstance(bias, np.ndarray)
                                      or bias.dtype != A.dtype
                                      or bias.shape != (B.shape[1],)))):
        raise ValueError(f"matmul_into: shapes/dtypes do not fit: A {A.dtype} {A.shape}, "
                         f"B {B.dtype} {B.shape}, out {out.dtype} {out.shape}, bias "
                         f"{None if bias is None else (bias.dtype, bias.shape)}")


def matmul_into(A, B, out, bias=None):
    """out = A @ B (+ bias) for 2-D arrays of one float dtype (A (m, k), B (k, n), out (m, n),
    bias (n,)); returns out."""
    check_matmul_into(A, B, out, bias)
    np.matmul(A, B, out=out)
    if bias is not None:
        out += bias
    return out


def matmul(A, B, bias=None):
    """A @ B (+ bias) as a new C-contiguous array (see matmul_into)."""
    out = np.empty((A.shape[0], B.shape[1]), dtype=np.result_type(A, B))
    return matmul_into(A, B, out, bias)
