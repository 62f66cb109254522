"""Matrix products (twin of csrc/blas.pyx): numpy's matmul.

The compiled module calls scipy's BLAS (s/dgemm, s/dgemv) from C; this twin is the reference it
is tested against and always uses numpy's matmul (numpy's own BLAS). The two sum in different
orders (different BLAS builds, kernels and blockings), so they agree to rounding only: the
parity tests allow a few ulp of the result's scale times sqrt(k) for an inner axis of k.
"""
import numpy as np

ENV_VAR = "FASTGRAD_BLAS"


def crossovers():
    """The typed-loop thresholds: the twin has no typed loops, so none (numpy does all)."""
    return {"dense_loop_max": 0, "matmul_loop_max": 0}


def set_crossovers(dense_loop_max=None, matmul_loop_max=None):
    """Nothing to change in the twin; returns crossovers()."""
    return crossovers()


def counts():
    """Products run by BLAS: none in the twin (numpy's matmul does them all)."""
    return {"gemm": 0, "gemv": 0, "copied": 0, "numpy": 0}


def library():
    """Which library runs the products: always numpy's matmul in the twin."""
    return "numpy.matmul"


def why_numpy():
    """Why numpy's matmul is used."""
    return "the pure-Python twin always uses numpy"


def use(name):
    """Only "numpy" exists in the twin; return the previous choice."""
    if name not in ("scipy", "numpy"):
        raise ValueError(f"use: expected 'scipy' or 'numpy', got {name!r}")
    if name == "scipy":
        raise RuntimeError("use: the pure-Python twin has no BLAS of its own")
    return "numpy"


def _as_matrix(X, role):
    """X as a 2-D view: a 1-D X is a row (role 0) or a column (role 1), a 0-d X is 1×1."""
    if X.ndim == 2:
        return X
    if X.ndim == 1:
        return X[None, :] if role == 0 else X[:, None]
    return X.reshape(1, 1)


def matmul_into(A, B, out, trans_a=False, trans_b=False):
    """out = op(A) @ op(B) for arrays of one float dtype with at most 2 dimensions (op
    transposes when trans_* is true); returns out."""
    for name, X in (("A", A), ("B", B), ("out", out)):
        if not isinstance(X, np.ndarray):
            raise TypeError(f"matmul_into: {name} must be a numpy array, got {type(X).__name__}")
    if not (out.dtype in (np.float32, np.float64) and A.dtype == out.dtype
            and B.dtype == out.dtype and max(A.ndim, B.ndim, out.ndim) <= 2):
        raise ValueError(f"product_into: A, B and C must be float32/float64 arrays of one dtype "
                         f"with at most 2 dimensions, got {A.dtype} {A.shape}, "
                         f"{B.dtype} {B.shape}, {out.dtype} {out.shape}")
    if not out.flags.writeable:
        raise ValueError("product_into: C is read-only")
    a = _as_matrix(A, 0)
    a = a.T if trans_a else a
    b = _as_matrix(B, 1)
    b = b.T if trans_b else b
    c = _as_matrix(out, 0 if (out.ndim == 1 and a.shape[0] == 1) else 1)
    if not (a.shape[1] == b.shape[0] and c.shape == (a.shape[0], b.shape[1])):
        raise ValueError(f"product_into: shapes do not fit op(A)·op(B) = C: A {A.shape}"
                         f"{'ᵀ' if trans_a else ''}, B {B.shape}{'ᵀ' if trans_b else ''}, "
                         f"C {out.shape}")
    np.copyto(c, np.matmul(a, b))
    return out
