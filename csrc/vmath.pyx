"""fastgrad's vectorised transcendentals on arrays, and their run-time dispatch (twin:
fastgrad/_py/vmath.py, which computes with numpy).

The kernels are C (csrc/vmath.h): polynomial approximations with range reduction, compiled for
a baseline and, on x86-64, AVX2+FMA and AVX-512 levels. The best level this CPU runs is chosen
once, at import; FASTGRAD_SIMD=baseline|avx2|avx512 lowers it (to measure or test a level), and
set_simd_level changes it at run time (tests, benchmarks). The other compiled modules call the
kernels through the v_* helpers of fastgrad/_cy/vmath.pxd. Their measured error bounds against
numpy, ULP_BOUNDS, live in fastgrad/_shared/vmath.py.
"""
cimport numpy as cnp

import os
import warnings

import numpy as np

from fastgrad._shared.elementwise import sigmoid_values
from fastgrad._shared.vmath import LEVELS, ULP_BOUNDS, level_error

cnp.import_array()

cdef extern from "vmath.h" nogil:
    int vm_supported_level()
    const vm_kernels* vm_kernels_for(int level)

cdef int SUPPORTED = vm_supported_level()
cdef int level = SUPPORTED
cdef const vm_kernels* kernels = vm_kernels_for(SUPPORTED)
# Arrays of more elements than this are computed with the GIL released.
cdef Py_ssize_t NOGIL_MIN = 32768


cdef const vm_kernels* active_kernels() noexcept nogil:
    return kernels


def supported_levels():
    """The dispatch levels this CPU runs, lowest first (a subset of LEVELS)."""
    return LEVELS[:SUPPORTED + 1]


def simd_level():
    """The dispatch level in use: 'baseline', 'avx2' or 'avx512'."""
    return LEVELS[level]


def set_simd_level(name):
    """Use the kernels of level ``name`` (one of supported_levels()); return the old level."""
    global level, kernels
    if name not in supported_levels():
        raise level_error(name, supported_levels())
    old = LEVELS[level]
    level = LEVELS.index(name)
    kernels = vm_kernels_for(level)
    return old


def _level_from_environment():
    requested = os.environ.get("FASTGRAD_SIMD", "").strip().lower()
    if requested in ("", "best"):
        return
    if requested not in LEVELS:
        warnings.warn(f"fastgrad: FASTGRAD_SIMD={requested!r} is not one of {LEVELS}; using "
                      f"{LEVELS[SUPPORTED]!r}", RuntimeWarning, stacklevel=2)
        return
    set_simd_level(LEVELS[min(LEVELS.index(requested), SUPPORTED)])


_level_from_environment()


cdef enum:
    F_EXP = 0
    F_LOG = 1
    F_LOG1P = 2
    F_TANH = 3
    F_SIGMOID = 4


cdef void run_f64(int f, double* o, const double* x, Py_ssize_t n) noexcept nogil:
    if f == F_EXP:
        kernels.exp_f64(o, x, n)
    elif f == F_LOG:
        kernels.log_f64(o, x, n)
    elif f == F_LOG1P:
        kernels.log1p_f64(o, x, n)
    elif f == F_TANH:
        kernels.tanh_f64(o, x, n)
    else:
        kernels.sigmoid_f64(o, x, n)


cdef void run_f32(int f, float* o, const float* x, Py_ssize_t n) noexcept nogil:
    if f == F_EXP:
        kernels.exp_f32(o, x, n)
    elif f == F_LOG:
        kernels.log_f32(o, x, n)
    elif f == F_LOG1P:
        kernels.log1p_f32(o, x, n)
    elif f == F_TANH:
        kernels.tanh_f32(o, x, n)
    else:
        kernels.sigmoid_f32(o, x, n)


cdef object apply(object x, int f, object fallback):
    """f of every element of x, a float32/float64 array of any layout (other dtypes: numpy)."""
    cdef cnp.ndarray X = np.asarray(x)
    cdef int t = cnp.PyArray_TYPE(X)
    if t != cnp.NPY_DOUBLE and t != cnp.NPY_FLOAT:
        return fallback(X)
    if not cnp.PyArray_IS_C_CONTIGUOUS(X):  # strided, negative strides: a contiguous copy
        X = X.copy(order="C")
    cdef cnp.ndarray out = cnp.PyArray_EMPTY(cnp.PyArray_NDIM(X), cnp.PyArray_DIMS(X), t, 0)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(X)
    cdef void* o = cnp.PyArray_DATA(out)
    cdef const void* p = cnp.PyArray_DATA(X)
    if t == cnp.NPY_DOUBLE:
        if n > NOGIL_MIN:
            with nogil:
                run_f64(f, <double*>o, <const double*>p, n)
        else:
            run_f64(f, <double*>o, <const double*>p, n)
    else:
        if n > NOGIL_MIN:
            with nogil:
                run_f32(f, <float*>o, <const float*>p, n)
        else:
            run_f32(f, <float*>o, <const float*>p, n)
    return out[()] if cnp.PyArray_NDIM(out) == 0 else out


def _in_place(name, x):
    """For tests: function ``name`` of a C-contiguous float32/float64 copy of x, computed in
    place (o == x: the path the other compiled modules take)."""
    cdef int f = ("exp", "log", "log1p", "tanh", "sigmoid").index(name)
    cdef cnp.ndarray X = np.array(x, order="C", copy=True)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(X)
    if cnp.PyArray_TYPE(X) == cnp.NPY_DOUBLE:
        run_f64(f, <double*>cnp.PyArray_DATA(X), <const double*>cnp.PyArray_DATA(X), n)
    elif cnp.PyArray_TYPE(X) == cnp.NPY_FLOAT:
        run_f32(f, <float*>cnp.PyArray_DATA(X), <const float*>cnp.PyArray_DATA(X), n)
    else:
        raise TypeError(f"_in_place: float32 or float64 only, not {X.dtype}")
    return X


def exp(x):
    """e^x elementwise."""
    return apply(x, F_EXP, np.exp)


def log(x):
    """log x elementwise (log 0 = -inf, log of a negative number NaN)."""
    return apply(x, F_LOG, np.log)


def log1p(x):
    """log(1 + x) elementwise."""
    return apply(x, F_LOG1P, np.log1p)


def tanh(x):
    """tanh x elementwise."""
    return apply(x, F_TANH, np.tanh)


def sigmoid(x):
    """1/(1 + e^-x) elementwise, never overflowing."""
    return apply(x, F_SIGMOID, sigmoid_values)
