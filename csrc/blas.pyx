"""Matrix products by BLAS, called from C: no Python per call (twin: fastgrad/_py/blas.py).

C = op(A)·op(B) for float32/float64 matrices, where op transposes or not, by s/dgemm (s/dgemv
when C is a single row or column) of the BLAS that scipy ships. Row-major and column-major
operands, transposes and views with a row or column stride are passed as they are, through
BLAS's own transpose flags and leading dimensions; other layouts (negative or non-element
strides, misaligned data, an output overlapping an input) are copied first.

The functions are taken at import from ``scipy.linalg.cython_blas`` (its exported table of C
function pointers, the one ``cimport`` reads), so a missing or broken scipy is a warning at
import and numpy's matmul path, not a failed import. ``FASTGRAD_BLAS=numpy`` chooses numpy's
matmul on purpose (for comparison).

The size crossovers between fastgrad's typed loops and BLAS live here, each with the benchmark
that sets it.
"""
cimport numpy as cnp
from cpython.pycapsule cimport PyCapsule_GetName, PyCapsule_GetPointer, PyCapsule_IsValid
from libc.limits cimport INT_MAX
from libc.string cimport memset

import os
import warnings

import numpy as np

cnp.import_array()

cdef extern from *:
    """
    /* FG_DEBUG: defined to 1 by setup.py under FASTGRAD_CYTHON_DEBUG=1 */
    #ifndef FG_DEBUG
    #define FG_DEBUG 0
    #endif
    """
    bint FG_DEBUG

# the signatures of scipy.linalg.cython_blas (32-bit BLAS integers, as there)
ctypedef void (*sgemm_t)(char* transa, char* transb, int* m, int* n, int* k, float* alpha,
                         float* a, int* lda, float* b, int* ldb, float* beta, float* c,
                         int* ldc) noexcept nogil
ctypedef void (*dgemm_t)(char* transa, char* transb, int* m, int* n, int* k, double* alpha,
                         double* a, int* lda, double* b, int* ldb, double* beta, double* c,
                         int* ldc) noexcept nogil
ctypedef void (*sgemv_t)(char* trans, int* m, int* n, float* alpha, float* a, int* lda,
                         float* x, int* incx, float* beta, float* y, int* incy) noexcept nogil
ctypedef void (*dgemv_t)(char* trans, int* m, int* n, double* alpha, double* a, int* lda,
                         double* x, int* incx, double* beta, double* y, int* incy) noexcept nogil

cdef sgemm_t sgemm = NULL
cdef dgemm_t dgemm = NULL
cdef sgemv_t sgemv = NULL
cdef dgemv_t dgemv = NULL

ENV_VAR = "FASTGRAD_BLAS"
# the capsule names scipy gives these functions, up to the spelling of its float typedefs
SIGNATURES = {
    "gemm": "void (char *, char *, int *, int *, int *, {t} *, {t} *, int *, {t} *, int *, "
            "{t} *, {t} *, int *)",
    "gemv": "void (char *, int *, int *, {t} *, {t} *, int *, {t} *, int *, {t} *, {t} *, "
            "int *)",
}

# ---------------------------------------------------------------- crossovers
# Products of at most this many multiply-adds (m*k*n) run in fastgrad's typed loops, above it in
# BLAS. Set by the XO rows of benchmarks/report.py (benchmarks/workloads/crossovers.py: typed
# loops vs BLAS for the dense layer's forward + backward kernels and for a Tensor matmul,
# float32 and float64, one core): the loops lead at 4x4x4, BLAS from 8x8x8 on. Where BLAS is not
# loaded the products go through numpy's matmul, whose fixed cost per call is higher, so the
# loops keep more of them (the _NUMPY values: the same rows with FASTGRAD_BLAS=numpy).
cdef Py_ssize_t DENSE_LOOP_MAX_BLAS = 256
cdef Py_ssize_t DENSE_LOOP_MAX_NUMPY = 4096
cdef Py_ssize_t MATMUL_LOOP_MAX_BLAS = 256
cdef Py_ssize_t MATMUL_LOOP_MAX_NUMPY = 4096
# Products of at least this many multiply-adds release the GIL while BLAS runs.
cdef Py_ssize_t GIL_RELEASE_MIN = 1 << 15

cdef Py_ssize_t dense_max = DENSE_LOOP_MAX_NUMPY
cdef Py_ssize_t matmul_max = MATMUL_LOOP_MAX_NUMPY
cdef bint blas_on = False
cdef str why_off = ""
# how the products ran since import (tests check that transposes take no copy)
cdef unsigned long long n_gemm = 0, n_gemv = 0, n_copied = 0, n_numpy = 0


def counts():
    """Products run since import: {"gemm", "gemv" (in place), "copied" (on copies), "numpy"}."""
    return {"gemm": n_gemm, "gemv": n_gemv, "copied": n_copied, "numpy": n_numpy}


cdef Py_ssize_t dense_loop_max() noexcept:
    return dense_max


cdef Py_ssize_t matmul_loop_max() noexcept:
    return matmul_max


def crossovers():
    """The size thresholds in use: {"dense_loop_max", "matmul_loop_max"} (multiply-adds)."""
    return {"dense_loop_max": dense_max, "matmul_loop_max": matmul_max}


def set_crossovers(dense_loop_max=None, matmul_loop_max=None):
    """Change the thresholds (benchmarks and tests of both paths); return the old ones."""
    global dense_max, matmul_max
    old = crossovers()
    if dense_loop_max is not None:
        dense_max = dense_loop_max
    if matmul_loop_max is not None:
        matmul_max = matmul_loop_max
    return old


# ---------------------------------------------------------------- loading scipy's BLAS

cdef void* capsule_pointer(object table, str name, str expected) except? NULL:
    """The C function ``name`` from cython_blas's __pyx_capi__, checked against its signature."""
    cap = table[name]
    cdef const char* cname = PyCapsule_GetName(cap)
    if cname == NULL or not PyCapsule_IsValid(cap, cname):
        raise ImportError(f"scipy.linalg.cython_blas.{name} is not a valid C function capsule")
    signature = (<bytes>cname).decode()
    # scipy spells the float types as its typedefs s and d (mangled by Cython); accept those or
    # plain C types, nothing else
    letter = name[0]
    plain = expected.format(t="float" if letter == "s" else "double")
    mangled = expected.format(t=f"__pyx_t_5scipy_6linalg_11cython_blas_{letter}")
    if signature not in (plain, mangled):
        raise ImportError(f"scipy.linalg.cython_blas.{name} has signature {signature!r}, "
                          f"expected {plain!r}")
    return PyCapsule_GetPointer(cap, cname)


def _load(choice):
    """Take s/dgemm and s/dgemv from scipy; return "" or why numpy's matmul is used instead."""
    global sgemm, dgemm, sgemv, dgemv, blas_on, dense_max, matmul_max
    blas_on = False
    dense_max, matmul_max = DENSE_LOOP_MAX_NUMPY, MATMUL_LOOP_MAX_NUMPY
    if choice == "numpy":
        return f"{ENV_VAR}=numpy"
    try:
        from scipy.linalg import cython_blas
        table = cython_blas.__pyx_capi__
        sgemm = <sgemm_t>capsule_pointer(table, "sgemm", SIGNATURES["gemm"])
        dgemm = <dgemm_t>capsule_pointer(table, "dgemm", SIGNATURES["gemm"])
        sgemv = <sgemv_t>capsule_pointer(table, "sgemv", SIGNATURES["gemv"])
        dgemv = <dgemv_t>capsule_pointer(table, "dgemv", SIGNATURES["gemv"])
    except Exception as e:  # ImportError, a missing entry, a changed signature
        return f"scipy's BLAS could not be loaded ({type(e).__name__}: {e})"
    blas_on = True
    dense_max, matmul_max = DENSE_LOOP_MAX_BLAS, MATMUL_LOOP_MAX_BLAS
    return ""


def _choose():
    global why_off
    value = os.environ.get(ENV_VAR, "").strip().lower()
    if value not in ("", "auto", "scipy", "numpy"):
        warnings.warn(f"{ENV_VAR}={value!r} is not one of 'auto', 'scipy', 'numpy'; using "
                      f"'auto'", RuntimeWarning, stacklevel=2)
    why_off = _load("numpy" if value == "numpy" else "scipy")
    if why_off and value != "numpy":
        warnings.warn(f"fastgrad: {why_off}; matrix products use numpy's matmul instead "
                      f"(correct, slower on small products). Install scipy to fix this.",
                      RuntimeWarning, stacklevel=2)


_choose()


def library():
    """Which library runs the products: "scipy.linalg.cython_blas" or "numpy.matmul"."""
    return "scipy.linalg.cython_blas" if blas_on else "numpy.matmul"


def why_numpy():
    """Why numpy's matmul is used ("" when BLAS is)."""
    return why_off


def use(name):
    """Run products with "scipy" (its BLAS) or "numpy" (matmul) from now on (benchmarks, tests);
    return the previous choice. Raises RuntimeError if scipy's BLAS cannot be loaded."""
    global why_off
    if name not in ("scipy", "numpy"):
        raise ValueError(f"use: expected 'scipy' or 'numpy', got {name!r}")
    old = "scipy" if blas_on else "numpy"
    reason = _load(name)
    if name == "scipy" and reason:
        why_off = reason
        raise RuntimeError(f"use: {reason}")
    why_off = reason
    return old


# ---------------------------------------------------------------- operands

cdef struct Matrix:
    # a 2-D operand as BLAS sees it: element (i, j) is data[i*rs + j*cs], strides in elements
    char* data
    Py_ssize_t rows, cols, rs, cs


cdef bint describe(cnp.ndarray X, int role, bint trans, Matrix* M) noexcept:
    """M for X (2-D; a 1-D X is a row when role is 0, a column when 1; a 0-d X is 1×1),
    transposed if trans. False if X's strides are not whole elements or its data is
    misaligned: BLAS cannot read it in place (M's shape is still right)."""
    cdef Py_ssize_t item = cnp.PyArray_ITEMSIZE(X)
    cdef int nd = cnp.PyArray_NDIM(X)
    cdef Py_ssize_t r, c, rs, cs
    if nd == 2:
        r, c = cnp.PyArray_DIMS(X)[0], cnp.PyArray_DIMS(X)[1]
        rs, cs = cnp.PyArray_STRIDES(X)[0], cnp.PyArray_STRIDES(X)[1]
    elif nd == 1 and role == 0:
        r, c = 1, cnp.PyArray_DIMS(X)[0]
        rs, cs = c * item, cnp.PyArray_STRIDES(X)[0]
    elif nd == 1:
        r, c = cnp.PyArray_DIMS(X)[0], 1
        rs, cs = cnp.PyArray_STRIDES(X)[0], item
    else:
        r, c, rs, cs = 1, 1, item, item
    cdef bint whole = rs % item == 0 and cs % item == 0 and cnp.PyArray_ISALIGNED(X)
    M.data = <char*>cnp.PyArray_DATA(X)
    if trans:
        r, c, rs, cs = c, r, cs, rs
    M.rows, M.cols, M.rs, M.cs = r, c, rs // item, cs // item
    return whole


cdef object as_matrix(cnp.ndarray X, int role):
    """X as the 2-D view describe() reads it as (before any transpose)."""
    cdef int nd = cnp.PyArray_NDIM(X)
    if nd == 2:
        return X
    if nd == 1:
        return X[None, :] if role == 0 else X[:, None]
    return X.reshape(1, 1)


cdef inline bint row_major(const Matrix* M, int* ld) noexcept:
    """M is BLAS's column-major Mᵀ (unit column step); ld: its leading dimension."""
    if M.cols > 1 and M.cs != 1:
        return False
    if M.rows > 1 and (M.rs < M.cols or M.rs < 1 or M.rs > INT_MAX):
        return False
    ld[0] = <int>(M.rs if M.rows > 1 else (M.cols if M.cols > 1 else 1))
    return True


cdef inline bint col_major(const Matrix* M, int* ld) noexcept:
    """M is BLAS's column-major M (unit row step); ld: its leading dimension."""
    if M.rows > 1 and M.rs != 1:
        return False
    if M.cols > 1 and (M.cs < M.rows or M.cs < 1 or M.cs > INT_MAX):
        return False
    ld[0] = <int>(M.cs if M.cols > 1 else (M.rows if M.rows > 1 else 1))
    return True


cdef inline bint as_vector(const Matrix* M, Py_ssize_t* inc) noexcept:
    """M (one row or one column) as a vector with a positive step."""
    cdef Py_ssize_t step = M.cs if M.rows == 1 else M.rs
    if M.rows * M.cols <= 1:
        step = 1
    if step < 1 or step > INT_MAX:
        return False
    inc[0] = step
    return True


cdef bint blas_layout(const Matrix* M) noexcept:
    """BLAS can read M in place (as a matrix, in either order)."""
    cdef int ld
    return row_major(M, &ld) or col_major(M, &ld)


cdef inline void extent(const Matrix* M, Py_ssize_t item, char** low, char** high) noexcept:
    """The bytes M spans: [low, high) (M non-empty)."""
    cdef char* lo = M.data
    cdef char* hi = M.data
    cdef Py_ssize_t step
    step = (M.rows - 1) * M.rs * item
    if step > 0:
        hi += step
    else:
        lo += step
    step = (M.cols - 1) * M.cs * item
    if step > 0:
        hi += step
    else:
        lo += step
    low[0] = lo
    high[0] = hi + item


cdef bint overlap(const Matrix* a, const Matrix* b, Py_ssize_t item) noexcept:
    cdef char* a_lo
    cdef char* a_hi
    cdef char* b_lo
    cdef char* b_hi
    extent(a, item, &a_lo, &a_hi)
    extent(b, item, &b_lo, &b_hi)
    return a_lo < b_hi and b_lo < a_hi


cdef int check_span(cnp.ndarray X, char* lo, char* hi, str what) except -1:
    """FG_DEBUG: the bytes [lo, hi) that BLAS will touch lie inside X's buffer."""
    cdef char* x_lo = <char*>cnp.PyArray_DATA(X)
    cdef char* x_hi = x_lo + cnp.PyArray_ITEMSIZE(X)
    cdef Py_ssize_t step
    cdef int d
    for d in range(cnp.PyArray_NDIM(X)):
        step = (cnp.PyArray_DIMS(X)[d] - 1) * cnp.PyArray_STRIDES(X)[d]
        if step > 0:
            x_hi += step
        else:
            x_lo += step
    assert x_lo <= lo and hi <= x_hi, f"blas: {what} reaches outside its array {(<object>X).shape}"
    return 0


cdef int check_matrix(cnp.ndarray X, const Matrix* M, int ld, bint rowmajor, Py_ssize_t item,
                      str what) except -1:
    """FG_DEBUG: BLAS's leading dimension is legal and the matrix it reads lies in X."""
    cdef Py_ssize_t inner = M.cols if rowmajor else M.rows
    cdef Py_ssize_t outer = M.rows if rowmajor else M.cols
    assert ld >= 1 and ld >= inner, f"blas: {what}: leading dimension {ld} < {inner}"
    return check_span(X, M.data, M.data + ((outer - 1) * <Py_ssize_t>ld + inner) * item, what)


cdef int check_vector(cnp.ndarray X, const Matrix* M, Py_ssize_t inc, Py_ssize_t item,
                      str what) except -1:
    """FG_DEBUG: the vector BLAS reads or writes (M.rows*M.cols elements, inc apart) lies in X."""
    assert inc >= 1, f"blas: {what}: step {inc} < 1"
    return check_span(X, M.data, M.data + ((M.rows * M.cols - 1) * inc + 1) * item, what)


# ---------------------------------------------------------------- products

cdef int gemv_call(bint f64, char trans, int rows, int cols, double alpha, char* a, int lda,
                   char* x, int incx, double beta, char* y, int incy) noexcept nogil:
    cdef float s_alpha = <float>alpha, s_beta = <float>beta
    if f64:
        dgemv(&trans, &rows, &cols, &alpha, <double*>a, &lda, <double*>x, &incx, &beta,
              <double*>y, &incy)
    else:
        sgemv(&trans, &rows, &cols, &s_alpha, <float*>a, &lda, <float*>x, &incx, &s_beta,
              <float*>y, &incy)
    return 0


cdef int gemm_call(bint f64, char ta, char tb, int m, int n, int k, double alpha, char* a,
                   int lda, char* b, int ldb, double beta, char* c, int ldc) noexcept nogil:
    cdef float s_alpha = <float>alpha, s_beta = <float>beta
    if f64:
        dgemm(&ta, &tb, &m, &n, &k, &alpha, <double*>a, &lda, <double*>b, &ldb, &beta,
              <double*>c, &ldc)
    else:
        sgemm(&ta, &tb, &m, &n, &k, &s_alpha, <float*>a, &lda, <float*>b, &ldb, &s_beta,
              <float*>c, &ldc)
    return 0


cdef void run_plan(const Plan* plan) noexcept nogil:
    """The BLAS call (or the zero fill) ``plan`` holds; see plan_product."""
    if plan.routine == PLAN_GEMM:
        gemm_call(plan.f64, plan.ta, plan.tb, plan.m, plan.n, plan.k, plan.alpha, plan.a,
                  plan.lda, plan.b, plan.ldb, plan.beta, plan.c, plan.ldc)
    elif plan.routine == PLAN_GEMV:
        gemv_call(plan.f64, plan.ta, plan.m, plan.n, plan.alpha, plan.a, plan.lda, plan.b,
                  plan.ldb, plan.beta, plan.c, plan.ldc)
    elif plan.routine == PLAN_ZERO:
        memset(plan.c, 0, plan.nbytes)


cdef int run_plan_here(const Plan* plan) noexcept:
    """run_plan, without the GIL for products of at least GIL_RELEASE_MIN multiply-adds."""
    if plan.work >= GIL_RELEASE_MIN:
        with nogil:
            run_plan(plan)
    else:
        run_plan(plan)
    return 0


cdef int gemv_plan(Matrix* A, Matrix* B, Matrix* C, bint f64, Py_ssize_t item,
                   cnp.ndarray XA, cnp.ndarray XB, cnp.ndarray XC, Plan* plan) except -1:
    """C = A·B when C is one row or one column (so B or A is a vector): gemv into ``plan``,
    or 0 if the operands do not fit it in place."""
    cdef Matrix* mat
    cdef Matrix* vec
    cdef cnp.ndarray XM
    cdef bint column = C.cols == 1
    cdef Py_ssize_t incx, incy
    cdef int ld
    cdef char trans
    cdef int rows, cols
    cdef bint rowmajor
    if column:
        mat, vec, XM = A, B, XA        # C (m×1) = A (m×k) · B (k×1)
    else:
        mat, vec, XM = B, A, XB        # C (1×n) = A (1×k) · B (k×n), i.e. Cᵀ = Bᵀ·Aᵀ
    if not (as_vector(vec, &incx) and as_vector(C, &incy)):
        return 0
    # y = op(M)·x with M column-major; for a column C, op(M) must be A; for a row, Bᵀ
    if row_major(mat, &ld):       # BLAS holds matᵀ (cols × rows)
        rows, cols = <int>mat.cols, <int>mat.rows
        trans = b'T' if column else b'N'
        rowmajor = True
    elif col_major(mat, &ld):     # BLAS holds mat (rows × cols)
        rows, cols = <int>mat.rows, <int>mat.cols
        trans = b'N' if column else b'T'
        rowmajor = False
    else:
        return 0
    if FG_DEBUG:
        check_matrix(XM, mat, ld, rowmajor, item, "the matrix of a gemv")
        check_vector(XB if column else XA, vec, incx, item, "the vector of a gemv")
        check_vector(XC, C, incy, item, "the result of a gemv")
    plan.routine, plan.f64, plan.ta, plan.tb = PLAN_GEMV, f64, trans, b'N'
    plan.m, plan.n, plan.k = rows, cols, 0
    plan.a, plan.lda, plan.b, plan.ldb = mat.data, ld, vec.data, <int>incx
    plan.c, plan.ldc = C.data, <int>incy
    plan.alpha, plan.beta = 1.0, 0.0
    plan.work = mat.rows * mat.cols * (C.rows * C.cols)
    return 1


cdef int gemm_plan(Matrix* A, Matrix* B, Matrix* C, bint f64, Py_ssize_t item,
                   cnp.ndarray XA, cnp.ndarray XB, cnp.ndarray XC, Plan* plan) except -1:
    """C = A·B by gemm into ``plan``, with C row-major (computed as Cᵀ = Bᵀ·Aᵀ in BLAS's
    column order) or column-major; 0 if an operand does not fit in place."""
    cdef int lda, ldb, ldc
    cdef bint a_row, b_row, c_row
    cdef int m = <int>C.rows, n = <int>C.cols, k = <int>A.cols
    if row_major(C, &ldc):
        c_row = True
    elif col_major(C, &ldc):
        c_row = False
    else:
        return 0
    if row_major(A, &lda):
        a_row = True
    elif col_major(A, &lda):
        a_row = False
    else:
        return 0
    if row_major(B, &ldb):
        b_row = True
    elif col_major(B, &ldb):
        b_row = False
    else:
        return 0
    if FG_DEBUG:
        check_matrix(XA, A, lda, a_row, item, "A of a gemm")
        check_matrix(XB, B, ldb, b_row, item, "B of a gemm")
        check_matrix(XC, C, ldc, c_row, item, "C of a gemm")
    plan.routine, plan.f64 = PLAN_GEMM, f64
    plan.alpha, plan.beta = 1.0, 0.0
    plan.c, plan.ldc = C.data, ldc
    plan.work = C.rows * C.cols * A.cols
    if c_row:   # Cᵀ (n×m) = Bᵀ (n×k) · Aᵀ (k×m): a row-major operand is its own transpose
        plan.ta = b'N' if b_row else b'T'
        plan.tb = b'N' if a_row else b'T'
        plan.m, plan.n, plan.k = n, m, k
        plan.a, plan.lda, plan.b, plan.ldb = B.data, ldb, A.data, lda
    else:       # C (m×n) = A (m×k) · B (k×n) in column order
        plan.ta = b'T' if a_row else b'N'
        plan.tb = b'T' if b_row else b'N'
        plan.m, plan.n, plan.k = m, n, k
        plan.a, plan.lda, plan.b, plan.ldb = A.data, lda, B.data, ldb
    return 1


cdef inline int c_role(cnp.ndarray A, cnp.ndarray C, const Matrix* a) noexcept:
    """How to read a 1-D C: a row when op(A) is one row (A @ B with A 1-D), else a column."""
    return 0 if (cnp.PyArray_NDIM(C) == 1 and a.rows == 1) else 1


# how product_into computes a product (choose()'s answer)
cdef enum Route:
    BY_PLAN = 1     # the plan: BLAS in place, a zero fill, or nothing (an empty C)
    BY_NUMPY = 2    # numpy's matmul (BLAS not loaded, or sizes beyond BLAS's int)
    BY_COPIES = 3   # BLAS on copies (layouts BLAS cannot read in place)


cdef int choose(cnp.ndarray A, bint ta, cnp.ndarray B, bint tb, cnp.ndarray C,
                Plan* plan) except -1:
    """Check the operands (ValueError) and choose how op(A)·op(B) = C is computed: a Route;
    for BY_PLAN, ``plan`` holds the call."""
    cdef int t = cnp.PyArray_TYPE(C)
    cdef Matrix a, b, c
    if not ((t == cnp.NPY_DOUBLE or t == cnp.NPY_FLOAT) and cnp.PyArray_TYPE(A) == t
            and cnp.PyArray_TYPE(B) == t and cnp.PyArray_NDIM(A) <= 2
            and cnp.PyArray_NDIM(B) <= 2 and cnp.PyArray_NDIM(C) <= 2):
        raise ValueError(f"product_into: A, B and C must be float32/float64 arrays of one dtype "
                         f"with at most 2 dimensions, got {(<object>A).dtype} {(<object>A).shape}, "
                         f"{(<object>B).dtype} {(<object>B).shape}, {(<object>C).dtype} {(<object>C).shape}")
    if not cnp.PyArray_ISWRITEABLE(C):
        raise ValueError("product_into: C is read-only")
    cdef bint ok_a = describe(A, 0, ta, &a)
    cdef bint ok_b = describe(B, 1, tb, &b)
    cdef bint ok_c = describe(C, c_role(A, C, &a), False, &c)
    if not (a.cols == b.rows and c.rows == a.rows and c.cols == b.cols):
        raise ValueError(f"product_into: shapes do not fit op(A)·op(B) = C: A {(<object>A).shape}"
                         f"{'ᵀ' if ta else ''}, B {(<object>B).shape}{'ᵀ' if tb else ''}, C {(<object>C).shape}")
    cdef Py_ssize_t item = cnp.PyArray_ITEMSIZE(C)
    memset(plan, 0, sizeof(Plan))
    plan.routine = PLAN_NOTHING
    plan.f64 = t == cnp.NPY_DOUBLE
    if c.rows == 0 or c.cols == 0:
        return BY_PLAN
    if a.cols == 0:  # a sum over nothing
        plan.routine, plan.c, plan.nbytes = PLAN_ZERO, c.data, cnp.PyArray_NBYTES(C)
        return BY_PLAN
    if not blas_on or a.rows > INT_MAX or a.cols > INT_MAX or b.cols > INT_MAX:
        return BY_NUMPY
    if not (ok_a and ok_b and ok_c) or overlap(&c, &a, item) or overlap(&c, &b, item):
        return BY_COPIES
    if c.rows == 1 or c.cols == 1:
        if gemv_plan(&a, &b, &c, plan.f64, item, A, B, C, plan):
            return BY_PLAN
    elif gemm_plan(&a, &b, &c, plan.f64, item, A, B, C, plan):
        return BY_PLAN
    return BY_COPIES


cdef int plan_product(cnp.ndarray A, bint ta, cnp.ndarray B, bint tb, cnp.ndarray C,
                      Plan* plan) except -1:
    """The BLAS call product_into(A, ta, B, tb, C) makes, into ``plan`` (run it later, any
    number of times and without the GIL, by run_plan, while the arrays live): 1; or 0 when
    product_into would not call BLAS on these arrays in place (numpy's matmul, copies, or a
    zero fill of a non-contiguous C). Checks as product_into does (ValueError)."""
    if choose(A, ta, B, tb, C, plan) != BY_PLAN:
        return 0
    if plan.routine == PLAN_ZERO and not cnp.PyArray_IS_C_CONTIGUOUS(C):
        return 0
    return 1


cdef bint blas_loaded() noexcept:
    """Products go to scipy's BLAS (not numpy's matmul) now."""
    return blas_on


cdef int product_into(cnp.ndarray A, bint ta, cnp.ndarray B, bint tb, cnp.ndarray C) except -1:
    """C = op(A)·op(B), op(X) = Xᵀ if tX else X. A, B and C are 0-, 1- or 2-D arrays of one
    float dtype (a 1-D A is a row, a 1-D B a column, a 1-D C a row when op(A) is one row, else
    a column), C writeable; dtypes and shapes are checked (ValueError). By BLAS in place where
    the layouts allow, else on copies; by numpy's matmul where BLAS is not loaded."""
    global n_gemm, n_gemv
    cdef Plan plan
    cdef int route = choose(A, ta, B, tb, C, &plan)
    cdef Matrix a
    if route == BY_NUMPY:
        describe(A, 0, ta, &a)
        return numpy_product(A, ta, B, tb, C, c_role(A, C, &a))
    if route == BY_COPIES:
        return copied_product(A, ta, B, tb, C)
    if plan.routine == PLAN_ZERO:
        (<object>C).fill(0)
        return 0
    if plan.routine == PLAN_GEMM:
        n_gemm += 1
    elif plan.routine == PLAN_GEMV:
        n_gemv += 1
    run_plan_here(&plan)
    return 0


cdef object oriented(object X, bint trans):
    return X.T if trans else X


cdef int numpy_product(cnp.ndarray A, bint ta, cnp.ndarray B, bint tb, cnp.ndarray C,
                       int role) except -1:
    """The same product by numpy's matmul (BLAS not loaded)."""
    global n_numpy
    n_numpy += 1
    np.matmul(oriented(as_matrix(A, 0), ta), oriented(as_matrix(B, 1), tb),
              out=as_matrix(C, role))
    return 0


cdef int copied_product(cnp.ndarray A, bint ta, cnp.ndarray B, bint tb,
                        cnp.ndarray C) except -1:
    """The product on C-contiguous copies of the operands BLAS cannot read in place (negative
    or odd strides, misaligned data), into a fresh array when C cannot be written in place
    (such strides, or overlapping an input), then copied to C."""
    global n_copied
    n_copied += 1
    cdef Matrix a, b, c
    cdef Py_ssize_t item = cnp.PyArray_ITEMSIZE(C)
    cdef int role
    if not describe(A, 0, ta, &a) or not blas_layout(&a):
        A = np.ascontiguousarray(A)
        describe(A, 0, ta, &a)
    if not describe(B, 1, tb, &b) or not blas_layout(&b):
        B = np.ascontiguousarray(B)
        describe(B, 1, tb, &b)
    role = c_role(A, C, &a)
    cdef cnp.ndarray out = C
    if (not describe(C, role, False, &c) or not blas_layout(&c)
            or overlap(&c, &a, item) or overlap(&c, &b, item)):
        out = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(C), cnp.PyArray_DIMS(C), cnp.PyArray_TYPE(C), 0)
        describe(out, role, False, &c)
    cdef bint f64 = cnp.PyArray_TYPE(C) == cnp.NPY_DOUBLE
    cdef Plan plan
    cdef int done
    if c.rows == 1 or c.cols == 1:
        done = gemv_plan(&a, &b, &c, f64, item, A, B, out, &plan)
    else:
        done = gemm_plan(&a, &b, &c, f64, item, A, B, out, &plan)
    if done:
        run_plan_here(&plan)
    else:  # contiguous operands always fit; numpy is the safe answer all the same
        return numpy_product(A, ta, B, tb, C, role)
    if out is not C:
        np.copyto(C, out)
    return 0


def matmul_into(A, B, out, trans_a=False, trans_b=False):
    """out = op(A) @ op(B) for arrays of one float dtype with at most 2 dimensions (op
    transposes when trans_* is true); returns out."""
    for name, X in (("A", A), ("B", B), ("out", out)):
        if not isinstance(X, np.ndarray):
            raise TypeError(f"matmul_into: {name} must be a numpy array, got {type(X).__name__}")
    product_into(A, bool(trans_a), B, bool(trans_b), out)
    return out
