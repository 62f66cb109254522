"""Replay of a captured step in C (twin: fastgrad/_py/tape.py; the program's instructions are
described there, and fastgrad/capture.py builds them).

Tape(...) compiles the program once into an array of Op structs: each a kernel code, raw
pointers to its arrays (the arena: the recording step's arrays and the recorder's buffers;
parameters, gradients and optimizer state used in place) and its sizes. replay() checks the
guards and copies the inputs in with the GIL, then walks the ops in one nogil loop: no Python
and no allocation per op.

Bit for bit: each op is expanded here exactly as the eager compiled kernel runs it (the same
size crossovers, read at recording). Typed loops are the eager modules' own functions,
cimported through their .pxd files (fastgrad/_cy/dense.pxd, losses.pxd, reduce.pxd,
linalg.pxd): each formula lives in one place; exp, log, tanh and sigmoid are fastgrad's vectorised kernels (fastgrad/_cy/vmath.pxd), as in
eager; where the eager kernel calls BLAS (csrc/blas.pyx's product_into: scipy's s/dgemm or
s/dgemv), the tape holds the very call product_into makes on these arrays (blas.plan_product:
routine, transposes, m/n/k, leading dimensions, alpha/beta), planned once when recorded and run
by blas.run_plan at replay; where the eager kernel calls numpy (np.matmul when BLAS is not
loaded, the optimizers' ufuncs), the tape calls the same numpy inner loop through the ufunc's
loop table. A replay bumps the version counter of every parameter its optimizers update, as
Optimizer.step does (mark_modified), so a graph recorded before it cannot be differentiated.
tests/test_capture.py checks replay against eager bit for bit, so a change on either side that
breaks this fails there.
"""
cimport cython
cimport numpy as cnp
from libc.math cimport isfinite
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcpy, memset
from libc.stdint cimport int32_t, int64_t
from cpython.list cimport PyList_GET_ITEM, PyList_GET_SIZE
from posix.time cimport CLOCK_MONOTONIC, clock_gettime, timespec

from weakref import ReferenceType

import numpy as np

from fastgrad._cy.blas cimport (
    Plan,
    blas_loaded,
    dense_loop_max,
    matmul_loop_max,
    plan_product,
    run_plan,
)
from fastgrad._cy.dense cimport act_grad, bias_act, gemm_nn, gemm_nt, gemm_tn
from fastgrad._cy.linalg cimport small_gemm
from fastgrad._cy.losses cimport (bce_grad, bce_losses, ce_grad, hinge_grad, hinge_losses,
                                  mse_grad, mse_losses, softmax_ce_rows)
from fastgrad._cy.node cimport Node, mark_modified, pairwise_sum, real
from fastgrad._cy.reduce cimport (div_rows, fill_rows, finite_or_zero, log_softmax_bwd_rows,
                                  row_extremes, row_sums, softmax_bwd_rows, sub_rows)
from fastgrad._cy.vmath cimport v_exp, v_log, v_sigmoid, v_tanh

from fastgrad._shared.tape import _guard_message, _not_finite_message

cnp.import_array()

cdef enum:
    ACT_NONE = 0
    ACT_TANH = 1
    ACT_RELU = 2
    ACT_SIGMOID = 3
    NARROW = 4
    PAIRWISE_EXACT = 4096

cdef enum Kind:
    K_LABELS_I64, K_LABELS_I32, K_GEMM_NN, K_GEMM_TN, K_GEMM_NT, K_BLAS, K_LOOP,
    K_BIAS_ACT, K_ACT_GRAD, K_CE_ROWS,
    K_CE_GRAD, K_MSE_LOSSES, K_MSE_GRAD, K_REDUCE, K_FINITE, K_ADD_INTO, K_BINARY, K_SCALAR,
    K_UNARY, K_UNARY_GRAD, K_COPY, K_FILL, K_SUM_LEADING, K_SUM_ALL, K_SMALL_GEMM,
    K_HINGE_LOSSES, K_HINGE_GRAD, K_CALL, K_ROW_SUMS, K_TILE, K_FILL_ROWS, K_SOFTMAX,
    K_LOG_SOFTMAX, K_SOFTMAX_BWD, K_LOG_SOFTMAX_BWD, K_BCE_LOSSES, K_BCE_GRAD, K_CAST,
    K_SGD, K_HINGE_GRAD_G

# element-wise op codes of K_BINARY / K_SCALAR / K_UNARY / K_UNARY_GRAD
cdef enum:
    F_ADD, F_SUB, F_MUL, F_DIV, F_RSUB, F_NEG, F_EXP, F_LOG, F_TANH, F_RELU, F_SIGMOID, F_RDIV

FUNCTIONS = {"add": F_ADD, "sub": F_SUB, "mul": F_MUL, "div": F_DIV, "rsub": F_RSUB,
             "neg": F_NEG, "exp": F_EXP, "log": F_LOG, "tanh": F_TANH, "relu": F_RELU,
             "sigmoid": F_SIGMOID, "rdiv": F_RDIV}
# why a replay stopped (raised after the nogil loop)
cdef enum Status:
    OK = 0
    BAD_LABEL = 1
    NOT_FINITE = 2

ctypedef void (*loop_fn)(char** args, cnp.npy_intp* dims, cnp.npy_intp* steps,
                        void* data) noexcept nogil

cdef struct Op:
    int kind
    bint f64
    char* p[6]               # the arrays (NULL: absent)
    Py_ssize_t n[8]          # sizes, strides in elements, codes
    double s                 # a static scalar
    loop_fn loop             # K_LOOP: a numpy inner loop
    void* loop_data
    cnp.npy_intp dims[4]     # K_LOOP: numpy's dimensions and steps (bytes)
    cnp.npy_intp steps[9]
    Plan plan                # K_BLAS: the BLAS call (fastgrad._cy.blas)


# ---------------------------------------------------------------- kernels of the tape alone

cdef void add_into(real* out, const real* x, Py_ssize_t n) noexcept nogil:
    """out += x"""
    cdef Py_ssize_t i
    for i in range(n):
        out[i] = out[i] + x[i]


cdef void reduce_loss(real* out, const real* L, Py_ssize_t n, bint mean) noexcept nogil:
    """out = Σ L in numpy's pairwise order, divided by n (in L's precision) for a mean"""
    cdef real total = pairwise_sum(L, n)
    out[0] = total / <real>n if mean else total


# ---------------------------------------------------------------- kernels (as in elementwise.pyx)

@cython.cdivision(True)  # IEEE division (x/0 is inf or nan, as numpy's), in every build
cdef inline real apply2(int f, real x, real y) noexcept nogil:
    if f == F_ADD:
        return x + y
    if f == F_SUB:
        return x - y
    if f == F_MUL:
        return x * y
    return x / y


cdef void binary(real* o, const real* a, const real* b, Py_ssize_t m, Py_ssize_t n, int f,
                 Py_ssize_t ai, Py_ssize_t aj, Py_ssize_t bi, Py_ssize_t bj) noexcept nogil:
    """o[i, j] = a[i·ai + j·aj] f b[i·bi + j·bj] (strides 0 repeat a row or one value)"""
    cdef Py_ssize_t i, j
    for i in range(m):
        for j in range(n):
            o[i * n + j] = apply2(f, a[i * ai + j * aj], b[i * bi + j * bj])


@cython.cdivision(True)
cdef void scalar(real* o, const real* x, real c, Py_ssize_t n, int f) noexcept nogil:
    """o = x + c, x·c, x / c or c - x"""
    cdef Py_ssize_t i
    if f == F_RSUB:
        for i in range(n):
            o[i] = c - x[i]
    elif f == F_RDIV:
        for i in range(n):
            o[i] = c / x[i]
    else:
        for i in range(n):
            o[i] = apply2(f, x[i], c)


cdef void unary(real* o, const real* x, Py_ssize_t n, int f) noexcept nogil:
    """o = f(x): neg and relu in loops, the others by the vectorised kernels"""
    cdef Py_ssize_t i
    if f == F_NEG:
        for i in range(n):
            o[i] = -x[i]
    elif f == F_RELU:
        for i in range(n):
            o[i] = x[i] if (x[i] >= 0 or x[i] != x[i]) else 0
    elif f == F_EXP:
        v_exp(o, x, n)
    elif f == F_LOG:
        v_log(o, x, n)
    elif f == F_TANH:
        v_tanh(o, x, n)
    else:
        v_sigmoid(o, x, n)


cdef void unary_grad(real* o, const real* g, const real* y, Py_ssize_t n, int f) noexcept nogil:
    """o = g·(1 - y·y), g·[y > 0] or g·y·(1 - y)"""
    cdef Py_ssize_t i
    for i in range(n):
        if f == F_TANH:
            o[i] = g[i] * (1 - y[i] * y[i])
        elif f == F_RELU:
            o[i] = g[i] * (y[i] > 0)
        else:
            o[i] = g[i] * y[i] * (1 - y[i])


cdef void fill(real* o, const real* g, Py_ssize_t n, bint mean) noexcept nogil:
    """o = g, or g / n (in o's precision)"""
    cdef Py_ssize_t i
    cdef real v = g[0] / <real>n if mean else g[0]
    for i in range(n):
        o[i] = v


cdef void sum_leading(real* out, const real* g, Py_ssize_t m, Py_ssize_t r) noexcept nogil:
    """out[j] = g[0, j] + g[1, j] + ... (node.pyx's order for a broadcast row's gradient)"""
    cdef Py_ssize_t i, j
    for j in range(r):
        out[j] = g[j]
    for i in range(1, m):
        for j in range(r):
            out[j] = out[j] + g[i * r + j]


cdef void tile(real* out, const real* g, Py_ssize_t m, Py_ssize_t r) noexcept nogil:
    """out[i, j] = g[j] (a row repeated: the gradient of a sum over axis 0)"""
    cdef Py_ssize_t i
    for i in range(m):
        memcpy(out + i * r, g, r * sizeof(real))


cdef void softmax_rows(real* D, const real* X, real* M, Py_ssize_t m, Py_ssize_t r) noexcept nogil:
    """D = softmax of X's rows, as reduce.pyx's softmax runs it (M: scratch for m values)"""
    row_extremes(M, X, m, r, True)
    sub_rows(D, X, M, m, r)
    v_exp(D, D, m * r)
    row_sums(M, D, m, r)
    div_rows(D, D, M, m, r)


cdef void log_softmax_rows(real* out, const real* X, real* M, real* D, real* S, Py_ssize_t m,
                           Py_ssize_t r) noexcept nogil:
    """out = X - logsumexp of X's rows, as reduce.pyx's row_logsumexp and log_softmax run it
    (M, S: scratch for m values, D for m·r)"""
    cdef Py_ssize_t i
    row_extremes(M, X, m, r, True)
    finite_or_zero(M, m)
    sub_rows(D, X, M, m, r)
    v_exp(D, D, m * r)
    row_sums(S, D, m, r)
    v_log(S, S, m)
    for i in range(m):  # S += M
        S[i] = S[i] + M[i]
    sub_rows(out, X, S, m, r)


cdef void cast_from(real* out, const char* src, Py_ssize_t n, int typenum) noexcept nogil:
    """out = src converted (int64, int32, float64 or float32 elements), as numpy casts"""
    cdef Py_ssize_t i
    for i in range(n):
        if typenum == cnp.NPY_INT64:
            out[i] = <real>(<const int64_t*>src)[i]
        elif typenum == cnp.NPY_INT32:
            out[i] = <real>(<const int32_t*>src)[i]
        elif typenum == cnp.NPY_DOUBLE:
            out[i] = <real>(<const double*>src)[i]
        else:
            out[i] = <real>(<const float*>src)[i]


cdef bint all_finite(const real* x, Py_ssize_t n) noexcept nogil:
    """No NaN or ±Inf in x[:n]: x - x is 0 for every finite x and NaN otherwise, and a sum
    of them stays 0 only if all are. Eight running sums, so that the additions do not wait
    for each other (one sum is a chain of dependent additions) and the loop vectorises"""
    cdef Py_ssize_t i, j
    cdef real acc[8]
    cdef real total = 0
    for j in range(8):
        acc[j] = 0
    i = 0
    while i + 8 <= n:
        for j in range(8):
            acc[j] = acc[j] + (x[i + j] - x[i + j])
        i += 8
    while i < n:
        total = total + (x[i] - x[i])
        i += 1
    for j in range(8):
        total = total + acc[j]
    return total == 0


cdef enum:  # K_SGD's flags: which terms optim.SGD.update has
    SGD_DECAY = 1
    SGD_MOMENTUM = 2
    SGD_DAMPENING = 4
    SGD_NESTEROV = 8


cdef void sgd_update(real* data, const real* grad, real* buf, const real* slot, Py_ssize_t n,
                     int flags) noexcept nogil:
    """optim.SGD.update in one pass: d = g (+ wd·p); b = μ·b + d (or + (1-dampening)·d);
    d = b (or d + μ·b, Nesterov); p = p - d·lr. The slots are [lr, wd, μ, 1 - dampening]. Each
    element goes through the same roundings as numpy's whole-array operations in update (one
    IEEE operation at a time, no fused multiply-add: -ffp-contract=off), so the result is the
    same to the bit"""
    cdef Py_ssize_t i
    cdef real d, b
    cdef real lr = slot[0], wd = slot[1], mom = slot[2], undamped = slot[3]
    for i in range(n):
        d = grad[i]
        if flags & SGD_DECAY:
            d = d + wd * data[i]
        if flags & SGD_MOMENTUM:
            b = buf[i] * mom
            if flags & SGD_DAMPENING:
                b = b + undamped * d
            else:
                b = b + d
            buf[i] = b
            if flags & SGD_NESTEROV:
                d = d + mom * b
            else:
                d = b
        data[i] = data[i] - d * lr


# ---------------------------------------------------------------- the walk

cdef int run_op(Op* op) noexcept nogil:
    """Run one op; a Status."""
    cdef Py_ssize_t i, n
    cdef Py_ssize_t* lab
    cdef int k = op.kind
    cdef char* args[6]
    if k == K_LOOP:  # (a loop may move the pointers it is given: numpy's matmul does)
        memcpy(args, op.p, sizeof(args))
        op.loop(args, op.dims, op.steps, op.loop_data)
    elif k == K_LABELS_I64 or k == K_LABELS_I32:
        lab = <Py_ssize_t*>op.p[1]
        for i in range(op.n[0]):
            lab[i] = <Py_ssize_t>((<int64_t*>op.p[0])[i] if k == K_LABELS_I64
                                  else (<int32_t*>op.p[0])[i])
            if lab[i] < 0 or lab[i] >= op.n[1]:
                op.n[2] = lab[i]
                return BAD_LABEL
    elif k == K_BLAS:
        run_plan(&op.plan)
    elif k == K_COPY:
        memcpy(op.p[0], op.p[1], op.n[0])
    elif k == K_FINITE:
        if not (all_finite(<double*>op.p[0], op.n[0]) if op.f64
                else all_finite(<float*>op.p[0], op.n[0])):
            return NOT_FINITE
    elif op.f64:
        run_typed(op, <double>0)
    else:
        run_typed(op, <float>0)
    return OK


cdef void run_typed(Op* op, real like) noexcept nogil:
    cdef int k = op.kind
    cdef double scale
    if k == K_GEMM_NN:
        gemm_nn(<real*>op.p[0], <real*>op.p[1], <real*>op.p[2], op.n[0], op.n[1], op.n[2])
    elif k == K_GEMM_TN:
        gemm_tn(<real*>op.p[0], <real*>op.p[1], <real*>op.p[2], op.n[0], op.n[1], op.n[2])
    elif k == K_GEMM_NT:
        gemm_nt(<real*>op.p[0], <real*>op.p[1], <real*>op.p[2], op.n[0], op.n[1], op.n[2])
    elif k == K_BIAS_ACT:
        bias_act(<real*>op.p[0], <real*>op.p[1], op.n[0], op.n[1], <int>op.n[2])
    elif k == K_ACT_GRAD:
        act_grad(<real*>op.p[0], <real*>op.p[1], <real*>op.p[2], <real*>op.p[3], op.n[0],
                 op.n[1], <int>op.n[2])
    elif k == K_CE_ROWS:
        softmax_ce_rows(<real*>op.p[0], <real*>op.p[1], <real*>op.p[2], <real*>op.p[3],
                        <Py_ssize_t*>op.p[4], <real*>op.p[5], op.n[0], op.n[1])
    elif k == K_CE_GRAD:
        ce_grad(<real*>op.p[0], <real*>op.p[1], <Py_ssize_t*>op.p[2], <real*>op.p[3], NULL,
                <real>op.s, op.n[0], op.n[1])
    elif k == K_MSE_LOSSES:
        mse_losses(<real*>op.p[0], <real*>op.p[1], <real*>op.p[2], <real*>op.p[3], op.n[0])
    elif k == K_MSE_GRAD:
        mse_grad(<real*>op.p[0], <real*>op.p[1], NULL, <real>op.s, op.n[0])
    elif k == K_REDUCE:
        reduce_loss(<real*>op.p[0], <real*>op.p[1], op.n[0], op.n[1] != 0)
    elif k == K_ADD_INTO:
        add_into(<real*>op.p[0], <real*>op.p[1], op.n[0])
    elif k == K_BINARY:
        binary(<real*>op.p[0], <real*>op.p[1], <real*>op.p[2], op.n[0], op.n[1], <int>op.n[2],
               op.n[3], op.n[4], op.n[5], op.n[6])
    elif k == K_SCALAR:
        scalar(<real*>op.p[0], <real*>op.p[1], <real>op.s, op.n[0], <int>op.n[1])
    elif k == K_UNARY:
        unary(<real*>op.p[0], <real*>op.p[1], op.n[0], <int>op.n[1])
    elif k == K_UNARY_GRAD:
        unary_grad(<real*>op.p[0], <real*>op.p[1], <real*>op.p[2], op.n[0], <int>op.n[1])
    elif k == K_FILL:
        fill(<real*>op.p[0], <real*>op.p[1], op.n[0], op.n[1] != 0)
    elif k == K_SUM_LEADING:
        sum_leading(<real*>op.p[0], <real*>op.p[1], op.n[0], op.n[1])
    elif k == K_HINGE_LOSSES:
        hinge_losses(<real*>op.p[0], <real*>op.p[1], <real*>op.p[2], <real*>op.p[3], op.n[0])
    elif k == K_HINGE_GRAD:
        hinge_grad(<real*>op.p[0], <real*>op.p[1], <real*>op.p[2], NULL, <real>op.s, op.n[0])
    elif k == K_SMALL_GEMM:
        small_gemm(<real*>op.p[0], <real*>op.p[1], op.n[0], op.n[1], <real*>op.p[2], op.n[2],
                   op.n[3], op.n[4], op.n[5], op.n[6])
    elif k == K_SUM_ALL:
        reduce_loss(<real*>op.p[0], <real*>op.p[1], op.n[0], op.n[1] != 0)
    elif k == K_ROW_SUMS:
        row_sums(<real*>op.p[0], <real*>op.p[1], op.n[0], op.n[1])
    elif k == K_TILE:
        tile(<real*>op.p[0], <real*>op.p[1], op.n[0], op.n[1])
    elif k == K_FILL_ROWS:
        fill_rows(<real*>op.p[0], <real*>op.p[1], op.n[0], op.n[1])
    elif k == K_SOFTMAX:
        softmax_rows(<real*>op.p[0], <real*>op.p[1], <real*>op.p[2], op.n[0], op.n[1])
    elif k == K_LOG_SOFTMAX:
        log_softmax_rows(<real*>op.p[0], <real*>op.p[1], <real*>op.p[2], <real*>op.p[3],
                         <real*>op.p[4], op.n[0], op.n[1])
    elif k == K_SOFTMAX_BWD:
        softmax_bwd_rows(<real*>op.p[0], <real*>op.p[1], <real*>op.p[2], <real*>op.p[3],
                         op.n[0], op.n[1])
    elif k == K_LOG_SOFTMAX_BWD:  # as reduce.pyx's vjp_log_softmax: E = e^Y, then in place
        v_exp(<real*>op.p[0], <real*>op.p[2], op.n[0] * op.n[1])
        log_softmax_bwd_rows(<real*>op.p[0], <real*>op.p[1], <real*>op.p[0], op.n[0], op.n[1])
    elif k == K_BCE_LOSSES:
        bce_losses(<real*>op.p[0], <real*>op.p[1], <real*>op.p[2], <real*>op.p[3], op.n[0])
    elif k == K_BCE_GRAD:
        bce_grad(<real*>op.p[0], <real*>op.p[1], <real*>op.p[2], <real*>op.p[3], NULL,
                 <real>op.s, op.n[0])
    elif k == K_CAST:
        cast_from(<real*>op.p[0], op.p[1], op.n[0], <int>op.n[1])
    elif k == K_HINGE_GRAD_G:  # losses.gradient_scale: float(g) (/ count), in double
        scale = (<double*>op.p[3])[0] if op.f64 else <double>(<float*>op.p[3])[0]
        if op.n[1]:
            scale = scale / <double>op.n[0]
        hinge_grad(<real*>op.p[0], <real*>op.p[1], <real*>op.p[2], NULL, <real>(-scale),
                   op.n[0])
    elif k == K_SGD:
        sgd_update(<real*>op.p[0], <real*>op.p[1], <real*>op.p[2], <real*>op.p[3], op.n[0],
                   <int>op.n[1])


# ---------------------------------------------------------------- building the ops

cdef inline char* ptr(object a):
    return <char*>cnp.PyArray_DATA(<cnp.ndarray>a) if a is not None else NULL


cdef inline bint is64(object a):
    """a is a float64 array (a type-number test: comparing dtypes converts np.float64 anew)."""
    return cnp.PyArray_Check(a) and cnp.PyArray_TYPE(<cnp.ndarray>a) == cnp.NPY_DOUBLE


cdef inline bint contiguous(object a):
    return cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a)


cdef dict LOOPS = {}


cdef object loop_of(object ufunc, int typenum, int nargs):
    """(loop, data) of ``ufunc``'s first loop for arguments all of type ``typenum`` (the one
    numpy's type resolution picks for such arrays)."""
    key = (ufunc, typenum)
    found = LOOPS.get(key)
    if found is not None:
        return found
    cdef cnp.ufunc u = <cnp.ufunc>ufunc
    cdef int i, j
    for i in range(u.ntypes):
        for j in range(nargs):
            if u.types[i * u.nargs + j] != typenum:
                break
        else:
            LOOPS[key] = found = (i,)
            return found
    raise TypeError(f"capture: numpy's {ufunc.__name__} has no loop for type {typenum}")


cdef enum:
    FIELD_OTHER = 0
    FIELD_DATA = 1
    FIELD_REQUIRES_GRAD = 2


cdef list group_guards(list guards):
    """[(obj, obj is a weak reference, attr, FIELD_*, ((index, expected), ...))]: the guards of
    one (obj, attr) together, in the order each pair first appears, so that a replay reads each
    attribute (and dereferences each weakly held object) once."""
    cdef dict groups = {}
    for obj, attr, index, expected in guards:
        key = (id(obj), attr)
        group = groups.get(key)
        if group is None:
            group = groups[key] = (obj, attr, [])
        (<list>group[2]).append((index, expected))
    out = []
    for obj, attr, entries in groups.values():
        field = (FIELD_DATA if attr == "data" else FIELD_REQUIRES_GRAD if attr == "requires_grad"
                 else FIELD_OTHER)
        out.append((obj, type(obj) is ReferenceType, attr, field, tuple(entries)))
    return out


cdef class Tape:
    """A captured step compiled for replay (see the module docstring and fastgrad.capture)."""

    cdef Op* ops
    cdef Py_ssize_t n_ops
    cdef list keep             # every array the ops point into
    cdef list inputs
    cdef list param_info
    cdef list guards           # (obj, attr, index, expected), as given (for the twin's order)
    cdef list guard_groups     # the guards grouped by (obj, attr): one read of each (see check)
    cdef cnp.ndarray slots64, slots32
    cdef object loss
    cdef object error
    cdef bint by_blas          # products went to BLAS when recorded (else numpy's matmul)
    cdef list calls            # K_CALL's Python callables, by index
    cdef Py_ssize_t arena_total  # the arena's bytes (-1: not summed yet)
    cdef object gone           # the message when a weakly held object was collected
    cdef Py_ssize_t capacity   # ops allocated (the builder grows the array as it goes)
    cdef Py_ssize_t loop_max, matmul_loop_max  # the eager kernels' crossovers, at recording

    def __cinit__(self):
        self.ops = NULL
        self.n_ops = 0
        self.capacity = 0
        self.arena_total = -1

    def __dealloc__(self):
        free(self.ops)

    def __init__(self, program, inputs, params, guards, scalars, loss, arena, error, gone):
        self.error = error
        self.gone = gone
        self.inputs = list(inputs)
        self.param_info = [tuple(p) for p in params]
        self.guards = [tuple(g) for g in guards]
        self.guard_groups = group_guards(self.guards)
        self.loss = loss
        self.slots64 = np.array(scalars, dtype=np.float64)
        self.slots32 = self.slots64.astype(np.float32)
        self.keep = list(arena) + self.inputs + [loss]
        self.calls = []
        # the eager kernels' choices, read once (as the module docstring says)
        self.by_blas = blas_loaded()
        self.loop_max = dense_loop_max()
        self.matmul_loop_max = matmul_loop_max()
        self.grow(len(program) + 16)
        for ins in program:  # each instruction's builder (add_<name>), found in one lookup
            (<object>BUILDERS[ins[0]])(self, *ins[1:])

    @property
    def arena_bytes(self):
        """The bytes of the distinct arrays the ops point into (summed when first asked)."""
        if self.arena_total < 0:
            seen = set()
            total = 0
            for a in self.keep:
                if isinstance(a, np.ndarray) and id(a) not in seen and a.base is None:
                    seen.add(id(a))
                    total += a.nbytes
            self.arena_total = total
        return self.arena_total

    # -------------------------------------------------------- building the ops
    cdef int grow(self, Py_ssize_t count) except -1:
        """Room for at least ``count`` ops (op() fills each as it is added)."""
        cdef Op* ops
        if count <= self.capacity:
            return 0
        ops = <Op*>realloc(self.ops, count * sizeof(Op))
        if ops == NULL:
            raise MemoryError()
        self.ops = ops
        self.capacity = count
        return 0

    cdef Op* op(self, int kind, bint f64, tuple arrays=(), tuple sizes=(), double s=0.0,
                object loop=None, tuple dims=(), tuple steps=()) except NULL:
        """Append an op: its kind, precision, arrays (None: absent; a _SlotView: a scalar
        slot), sizes, scalar, numpy loop (ufunc, index) with its dims and steps. The pointer
        is valid until the next op is added."""
        cdef Py_ssize_t j
        cdef cnp.ufunc u
        if self.n_ops == self.capacity:
            self.grow(2 * self.capacity + 8)
        cdef Op* o = &self.ops[self.n_ops]
        # the fields every kind may read (absent arrays NULL, unused sizes 0); dims, steps and
        # plan are read only by the kinds that set them
        memset(o.p, 0, sizeof(o.p))
        memset(o.n, 0, sizeof(o.n))
        o.loop = NULL
        o.loop_data = NULL
        o.kind = kind
        o.f64 = f64
        for j in range(len(arrays)):
            a = arrays[j]
            if cnp.PyArray_Check(a):
                o.p[j] = <char*>cnp.PyArray_DATA(<cnp.ndarray>a)
                self.keep.append(a)  # the tape keeps every array its ops point into
            elif a is not None:  # a scalar slot (its array is self.slots64/32)
                o.p[j] = <char*>cnp.PyArray_DATA(<cnp.ndarray>a.array)
        for j in range(len(sizes)):
            o.n[j] = sizes[j]
        o.s = s
        for j in range(len(dims)):
            o.dims[j] = dims[j]
        for j in range(len(steps)):
            o.steps[j] = steps[j]
        if loop is not None:
            u = <cnp.ufunc>loop[0]
            o.loop = <loop_fn>u.functions[<Py_ssize_t>loop[1]]
            o.loop_data = u.data[<Py_ssize_t>loop[1]]
        self.n_ops += 1
        return o

    cdef int loop(self, object ufunc, tuple arrays, Py_ssize_t n, tuple steps=None,
                  tuple dims=None) except -1:
        """numpy's inner loop of ``ufunc`` over arrays (slots as (array, 0-stride))."""
        typenum = arrays[-1].dtype.num
        index = loop_of(ufunc, typenum, len(arrays))[0]
        if dims is None:
            dims = (n,)
            steps = tuple([0 if type(a) is _SlotView else a.itemsize for a in arrays])
        self.op(K_LOOP, is64(arrays[-1]), arrays, (), 0.0, (ufunc, index),
                dims, steps)

    cdef int matmul(self, object A, object B, object C) except -1:
        """C = A @ B by numpy's matmul loop (2-D, strides as numpy passes them)."""
        dims = (1, A.shape[0], A.shape[1], B.shape[1])
        steps = (0, 0, 0) + A.strides + B.strides + C.strides
        self.loop(np.matmul, (A, B, C), 0, steps, dims)

    def add_bmatmul(self, A, B, C):
        """C = A @ B for a stack, by numpy's matmul loop on these very strides (eager calls
        np.matmul for products of more than two dimensions)."""
        if not contiguous(C) or C.ndim != 3:
            raise self.error(f"capture: a stacked product into {C.dtype} {C.shape} is not "
                             f"captured")
        dims = (C.shape[0], A.shape[-2], A.shape[-1], B.shape[-1])
        steps = ((A.strides[0] if A.ndim == 3 else 0, B.strides[0] if B.ndim == 3 else 0,
                  C.strides[0]) + A.strides[-2:] + B.strides[-2:] + C.strides[-2:])
        self.loop(np.matmul, (A, B, C), 0, steps, dims)

    cdef int product(self, object A, bint ta, object B, bint tb, object C) except -1:
        """C = op(A)·op(B) as blas.product_into(A, ta, B, tb, C) computes it: its BLAS call
        (planned now), or numpy's matmul where BLAS is not loaded."""
        cdef Plan plan
        cdef Op* o
        if plan_product(A, ta, B, tb, C, &plan):
            o = self.op(K_BLAS, is64(C), (A, B, C), (bool(ta), bool(tb)))
            o.plan = plan  # (the arrays live in self.keep as long as the tape)
        elif not self.by_blas:
            self.matmul(A.T if ta else A, B.T if tb else B, C)
        else:
            raise self.error(f"capture: a matrix product of {A.dtype} {A.shape} and "
                             f"{B.dtype} {B.shape} whose layout BLAS cannot read in place (the "
                             f"eager kernel copies it) is not captured")

    # -------------------------------------------------------- the program's instructions
    def add_labels(self, src, out, classes):
        if src.dtype.itemsize == 8:
            kind = K_LABELS_I64
        elif src.dtype.itemsize == 4:
            kind = K_LABELS_I32
        else:
            raise self.error(f"capture: class labels of dtype {src.dtype} are not captured "
                             f"(int32 or int64 are)")
        self.op(kind, True, (src, out), (src.size, classes, 0))

    def add_dense_fwd(self, X, W, B, act, Y):
        m, k = X.shape
        n = W.shape[1]
        f64 = is64(Y)
        if m * k * n <= self.loop_max and contiguous(X) and contiguous(W):
            self.op(K_GEMM_NN, f64, (Y, X, W), (m, k, n))
        else:
            self.product(X, False, W, False, Y)
        self.op(K_BIAS_ACT, f64, (Y, B), (m, n, act))

    def add_dense_bwd(self, X, W, Y, G, act, GZ, GX, GW, GB):
        m, k = X.shape
        n = W.shape[1]
        f64 = is64(Y)
        loops = m * k * n <= self.loop_max and contiguous(X) and contiguous(W)
        if GZ is None:
            GZ = G
        if GZ is not G or GB is not None:
            self.op(K_ACT_GRAD, f64, (GZ, GB, G, Y), (m, n, act))
        if GW is not None:
            if not loops:
                self.product(X, True, GZ, False, GW)
            else:
                self.op(K_GEMM_TN, f64, (GW, X, GZ), (m, k, n))
        if GX is not None:
            if not loops:
                self.product(GZ, False, W, True, GX)
            else:
                self.op(K_GEMM_NT, f64, (GX, GZ, W), (m, k, n))

    def add_ce_fwd(self, Z, labels, T, P, L):
        n, c = Z.shape
        if n == 0:
            return
        M = np.empty(n, Z.dtype)
        self.op(K_CE_ROWS, is64(Z), (P, L, M, Z, labels, T), (n, c))

    def add_ce_bwd(self, P, labels, T, scale, GZ):
        n, c = P.shape
        self.op(K_CE_GRAD, is64(P), (GZ, P, labels, T), (n, c), float(scale))

    def add_mse_fwd(self, P, T, D, L):
        self.op(K_MSE_LOSSES, is64(P), (D, L, P, T), (P.size,))

    def add_mse_bwd(self, D, scale, GP):
        # mse_backward: s = 2·scale in double, then the kernel's precision
        self.op(K_MSE_GRAD, is64(D), (GP, D), (D.size,), 2 * float(scale))

    def add_hinge_fwd(self, S, T, M, L):
        self.op(K_HINGE_LOSSES, is64(S), (M, L, S, T), (S.size,))

    def add_hinge_bwd(self, T, M, scale, GS):
        # hinge_backward: s = -scale in double, then the kernel's precision
        self.op(K_HINGE_GRAD, is64(M), (GS, T, M), (M.size,), -float(scale))

    def add_hinge_bwd_g(self, T, M, G, mean, GS):
        if G.size != 1 or G.dtype != M.dtype:
            raise self.error(f"capture: a hinge loss whose gradient is {G.dtype} {G.shape} is "
                             f"not captured")
        self.op(K_HINGE_GRAD_G, is64(M), (GS, T, M, G), (M.size, bool(mean)))

    def add_reduce(self, L, out, mean):
        if L.size > PAIRWISE_EXACT:
            raise self.error(f"capture: a loss over {L.size} elements (more than "
                             f"{PAIRWISE_EXACT}) is not captured: numpy sums it in blocks")
        self.op(K_REDUCE, is64(L), (out, L), (L.size, bool(mean)))

    def add_finite(self, arr, index):
        self.op(K_FINITE, is64(arr), (arr,), (arr.size, index))

    def add_add_into(self, dst, src):
        self.op(K_ADD_INTO, is64(dst), (dst, src), (dst.size,))

    def add_sgd(self, data, grad, buf, base, flags):
        """optim.SGD.update of one parameter (flags: SGD_* above; slots base..base+3)."""
        cdef cnp.ndarray slots = self.slots64 if is64(data) else self.slots32
        cdef Op* o
        if not 0 <= base <= cnp.PyArray_SIZE(slots) - 4:
            raise self.error("capture: an optimizer's scalar slots are out of range")
        if not cnp.PyArray_Check(data):
            raise self.error("capture: an optimizer's parameter is not an array")
        for a in (data, grad, buf):
            if a is not None and not (
                    cnp.PyArray_Check(a)
                    and cnp.PyArray_NDIM(<cnp.ndarray>a) == cnp.PyArray_NDIM(<cnp.ndarray>data)
                    and cnp.PyArray_SAMESHAPE(<cnp.ndarray>a, <cnp.ndarray>data)
                    and cnp.PyArray_TYPE(<cnp.ndarray>a) == cnp.PyArray_TYPE(<cnp.ndarray>data)
                    and contiguous(a)):
                raise self.error("capture: an optimizer operand is not a contiguous array of "
                                 "its parameter's shape")
        o = self.op(K_SGD, is64(data), (data, grad, buf), (data.size, int(flags)))
        # slots base..base+3, in place (self.slots64/32 live as long as the tape)
        o.p[3] = <char*>cnp.PyArray_DATA(slots) + <Py_ssize_t>base * cnp.PyArray_ITEMSIZE(slots)

    def add_ufunc(self, ufunc, operands, out):
        arrays = []
        slots = self.slots64 if is64(out) else self.slots32
        for a in operands:
            if isinstance(a, np.ndarray):
                arrays.append(a)
            else:  # a scalar slot: its element, stride 0
                view = slots[int(a):int(a) + 1]
                arrays.append(_SlotView(view))
        arrays.append(out)
        for a in arrays:
            if isinstance(a, np.ndarray) and (a.shape != out.shape or not contiguous(a)):
                raise self.error("capture: an optimizer operand is not a contiguous array of "
                                 "its parameter's shape")
        self.loop(ufunc, tuple(arrays), out.size)

    def add_binary(self, name, a, b, out):
        m, n = out.shape if out.ndim == 2 else (1, out.size)

        def strides(x):
            if x.shape == out.shape:
                return n, 1
            if x.size == 1:
                return 0, 0
            if x.ndim == 2 and x.shape[1] == 1:
                return 1, 0  # a column repeated over out's columns
            return 0, 1  # a row repeated over out's rows
        self.op(K_BINARY, is64(out), (out, a, b),
                (m, n, FUNCTIONS[name]) + strides(a) + strides(b))

    def add_scalar(self, name, x, c, out):
        self.op(K_SCALAR, is64(out), (out, x), (out.size, FUNCTIONS[name]),
                float(c))

    def add_unary(self, name, x, out):
        # neg and relu: typed loops (exact, as numpy's); the others: the vectorised kernels
        self.op(K_UNARY, is64(out), (out, x), (out.size, FUNCTIONS[name]))

    cdef int small_gemm(self, object C, object A, Py_ssize_t a_row, Py_ssize_t a_col, object B,
                        Py_ssize_t b_row, Py_ssize_t b_col, Py_ssize_t m, Py_ssize_t k,
                        Py_ssize_t n) except -1:
        self.op(K_SMALL_GEMM, is64(C), (C, A, B),
                (a_row, a_col, b_row, b_col, m, k, n))

    def add_matmul(self, A, B, out):
        m, k = A.shape
        n = B.shape[1]
        if contiguous(A) and contiguous(B) and m * k * n <= self.matmul_loop_max:
            self.small_gemm(out, A, k, 1, B, n, 1, m, k, n)
        else:
            self.product(A, False, B, False, out)

    def add_matmul_vjp(self, A, B, G, GA, GB):
        m, k = A.shape
        n = B.shape[1]
        if (contiguous(A) and contiguous(B) and contiguous(G)
                and m * k * n <= self.matmul_loop_max):
            if GA is not None:  # ga (m x k) = g (m x n) @ B^T
                self.small_gemm(GA, G, n, 1, B, 1, n, m, n, k)
            if GB is not None:  # gb (k x n) = A^T (k x m) @ g (m x n)
                self.small_gemm(GB, A, 1, k, G, n, 1, k, m, n)
            return
        if GA is not None:  # as linalg's blas_matmul_vjp: GA = G·Bᵀ, GB = Aᵀ·G
            self.product(G, False, B, True, GA)
        if GB is not None:
            self.product(A, True, G, False, GB)

    def add_unary_grad(self, name, g, y, out):
        self.op(K_UNARY_GRAD, is64(out), (out, g, y), (out.size, FUNCTIONS[name]))

    cdef int sum_all(self, object out, object x, bint mean) except -1:
        if not 0 < x.size <= PAIRWISE_EXACT:
            raise self.error(f"capture: a sum over {x.size} elements is not captured (numpy "
                             f"sums more than {PAIRWISE_EXACT} in blocks)")
        self.op(K_SUM_ALL, is64(out), (out, x), (x.size, bool(mean)))

    def add_reduce_all(self, kind, x, out):
        self.sum_all(out, x, kind == "mean")

    def add_fill(self, out, g, mean):
        self.op(K_FILL, is64(out), (out, g), (out.size, bool(mean)))

    def add_reduce_to(self, out, full):
        if out.size == 1:
            self.sum_all(out, full, False)
        elif out.ndim == 2 and out.shape[1] == 1 and full.ndim == 2:  # a column: row sums
            self.op(K_ROW_SUMS, is64(out), (out, full),
                    self.rows_of(full, 1, "a column's gradient"))
        else:
            self.op(K_SUM_LEADING, is64(out), (out, full),
                    (full.size // out.size, out.size))

    cdef tuple rows_of(self, object x, Py_ssize_t axis, str what):
        """(m, r): x as m rows of r along its last axis, as reduce.pyx's row paths take it;
        else error (eager would run numpy's own loops)."""
        if (axis != x.ndim - 1 or not contiguous(x) or x.dtype not in (np.float32, np.float64)
                or not 0 < x.shape[-1] <= PAIRWISE_EXACT or x.size == 0):
            raise self.error(f"capture: {what} over axis {axis} of {x.dtype} {x.shape} is not "
                             f"captured (a tape takes the last axis of a contiguous array of at "
                             f"most {PAIRWISE_EXACT} columns)")
        return x.size // x.shape[-1], x.shape[-1]

    def add_reduce_axes(self, kind, x, axes, out):
        f64 = is64(out)
        if len(axes) == 1 and axes[0] == x.ndim - 1:
            m, r = self.rows_of(x, axes[0], kind)
            self.op(K_ROW_SUMS, f64, (out, x), (m, r))
            count = r
        elif x.ndim == 2 and axes == (0,) and contiguous(x):
            if x.shape[1] == 1:  # one column: numpy sums it as one contiguous run
                self.sum_all(out, x, False)
            else:
                self.op(K_SUM_LEADING, f64, (out, x), (x.shape[0], x.shape[1]))
            count = x.shape[0]
        else:
            raise self.error(f"capture: a {kind} over axes {axes} of {x.dtype} {x.shape} is not "
                             f"captured (a tape takes the last axis, or axis 0 of a matrix)")
        if kind == "mean":  # numpy: the sum / count, in out's precision
            self.op(K_SCALAR, f64, (out, out), (out.size, F_DIV), float(count))

    def add_expand(self, kind, g, axes, out):
        f64 = is64(out)
        if len(axes) == 1 and axes[0] == out.ndim - 1:
            m, r = self.rows_of(out, axes[0], kind)
            kind_of = K_FILL_ROWS
        elif out.ndim == 2 and axes == (0,) and contiguous(out):
            m, r = out.shape
            kind_of = K_TILE
        else:
            raise self.error(f"capture: the gradient of a {kind} over axes {axes} of shape "
                             f"{out.shape} is not captured")
        if kind == "mean":  # eager: (g / count) broadcast
            scaled = np.empty(g.shape, g.dtype)
            self.op(K_SCALAR, f64, (scaled, g), (g.size, F_DIV),
                    float(r if kind_of == K_FILL_ROWS else m))
            g = scaled
        self.op(kind_of, f64, (out, g), (m, r))

    def add_softmax(self, x, axis, out):
        m, r = self.rows_of(x, axis, "softmax")
        self.op(K_SOFTMAX, is64(out), (out, x, np.empty(m, x.dtype)), (m, r))

    def add_log_softmax(self, x, axis, out):
        m, r = self.rows_of(x, axis, "log_softmax")
        self.op(K_LOG_SOFTMAX, is64(out),
                (out, x, np.empty(m, x.dtype), np.empty_like(x), np.empty(m, x.dtype)), (m, r))

    def add_softmax_vjp(self, g, y, axis, out):
        m, r = self.rows_of(y, axis, "softmax's gradient")
        self.op(K_SOFTMAX_BWD, is64(out), (out, g, y, np.empty(r, y.dtype)),
                (m, r))

    def add_log_softmax_vjp(self, g, y, axis, out):
        m, r = self.rows_of(y, axis, "log_softmax's gradient")
        self.op(K_LOG_SOFTMAX_BWD, is64(out), (out, g, y), (m, r))

    def add_bce_fwd(self, Z, T, E, L):
        self.op(K_BCE_LOSSES, is64(Z), (L, Z, T, E), (Z.size,))

    def add_bce_bwd(self, Z, T, E, scale, GZ):
        self.op(K_BCE_GRAD, is64(Z), (GZ, Z, T, E), (Z.size,), float(scale))

    def add_cast(self, src, out):
        if src.dtype.num not in (cnp.NPY_INT64, cnp.NPY_INT32, cnp.NPY_DOUBLE, cnp.NPY_FLOAT) \
                or src.dtype.byteorder not in "=|" or not contiguous(src):
            raise self.error(f"capture: a target of dtype {src.dtype} is not captured "
                             f"(int32, int64, float32 or float64 are)")
        self.op(K_CAST, is64(out), (out, src), (out.size, src.dtype.num))

    def add_call(self, fn):
        # a Python call between two nogil runs of the ops (a distributed step's allreduce)
        self.op(K_CALL, True, (), (len(self.calls),))
        self.calls.append(fn)

    def add_copy(self, out, src):
        self.op(K_COPY, is64(out), (out, src), (out.nbytes,))

    # -------------------------------------------------------- replay
    @property
    def params(self):
        """The parameters (error(gone) if one was collected)."""
        return self.live()

    cdef list live(self):
        cdef list params = []
        for info in self.param_info:
            p = (<tuple>info)[0]()
            if p is None:
                raise self.error(self.gone)
            params.append(p)
        return params

    cdef list check(self, tuple args):
        """Raise error naming the first guard that fails; the live parameters."""
        cdef Py_ssize_t i
        cdef cnp.ndarray data, buf
        cdef list params = self.live()
        if len(args) != len(self.inputs):
            e = self.error(f"capture: the step was captured with {len(self.inputs)} arguments, "
                           f"called with {len(args)}")
            e.signature = True
            raise e
        for i in range(len(args)):
            a = args[i]
            buf = <cnp.ndarray>self.inputs[i]
            if not cnp.PyArray_Check(a):
                a = getattr(a, "data", None)
                if not cnp.PyArray_Check(a):
                    raise self.error(f"capture: argument {i} is a {type(args[i]).__name__}, "
                                     f"captured as an array")
            data = <cnp.ndarray>a
            if cnp.PyArray_TYPE(data) != cnp.PyArray_TYPE(buf) \
                    or cnp.PyArray_NDIM(data) != cnp.PyArray_NDIM(buf) \
                    or not cnp.PyArray_SAMESHAPE(data, buf):
                e = self.error(f"capture: argument {i} is {a.dtype} {a.shape}, captured "
                               f"as {(<object>buf).dtype} {(<object>buf).shape}")
                e.signature = True
                raise e
        for group in self.guard_groups:
            self.check_group(<tuple>group)
        for i in range(len(params)):
            p = params[i]
            if not (<tuple>self.param_info[i])[2] and (<Node>p).grad is not None:
                raise self.error(
                    f"capture: a parameter ({p.data.dtype} {p.data.shape}) holds a gradient "
                    f"before the step, which the captured step does not clear (eager backward "
                    f"would add into it); call zero_grad() first")
        return params

    cdef int check_group(self, tuple group) except -1:
        """One (obj, attr) group of guards: the attribute read once (a Node's data and
        requires_grad straight from the struct), then each (index, expected) compared."""
        cdef Py_ssize_t index, n
        cdef int field = group[3]
        obj = group[0]
        if group[1]:
            obj = obj()
            if obj is None:
                raise self.error(self.gone)
        attr = group[2]
        if field == FIELD_DATA and isinstance(obj, Node):
            value = (<Node>obj).data
        elif field == FIELD_REQUIRES_GRAD and isinstance(obj, Node):
            value = True if (<Node>obj).requires_grad else False
        else:
            value = getattr(obj, attr) if attr is not None else obj
        for entry in <tuple>group[4]:
            index = (<tuple>entry)[0]
            expected = (<tuple>entry)[1]
            if type(expected) is ReferenceType:
                expected = expected()
                if expected is None:
                    raise self.error(self.gone)
            if index == -2:
                ok = len(value) == expected
            elif index >= 0:
                if type(value) is list:
                    n = PyList_GET_SIZE(value)
                    ok = index < n and <object>PyList_GET_ITEM(value, index) is expected
                else:
                    ok = value[index] is expected
            else:
                ok = value is expected
            if not ok:
                raise self.error(_guard_message(obj, attr, index, expected, value))
        return 0

    def replay(self, tuple args, slots):
        """Check the guards, copy the inputs in, run the ops without the GIL; the loss."""
        cdef Py_ssize_t i, j
        cdef int status = OK
        cdef cnp.ndarray data, buf
        cdef list params = self.check(args)
        if blas_loaded() != self.by_blas:
            raise self.error("capture: matrix products were switched between BLAS and numpy's "
                             "matmul (fastgrad._cy.blas.use) since the step was captured; "
                             "capture again")
        for i in range(len(args)):
            a = args[i]
            buf = <cnp.ndarray>self.inputs[i]
            data = <cnp.ndarray>(a if cnp.PyArray_Check(a) else a.data)
            if cnp.PyArray_IS_C_CONTIGUOUS(data):
                memcpy(cnp.PyArray_DATA(buf), cnp.PyArray_DATA(data), cnp.PyArray_NBYTES(buf))
            else:
                np.copyto(buf, data)
        cdef Py_ssize_t n_slots = cnp.PyArray_SIZE(self.slots64)
        cdef double* s64 = <double*>cnp.PyArray_DATA(self.slots64)
        cdef float* s32 = <float*>cnp.PyArray_DATA(self.slots32)
        for i in range(n_slots):
            s64[i] = slots[i]
            s32[i] = <float>s64[i]
        cdef Op* ops = self.ops
        cdef Py_ssize_t n_ops = self.n_ops
        i = 0
        while True:  # the ops without the GIL, stopping at each K_CALL to make its call
            with nogil:
                while i < n_ops:
                    if ops[i].kind == K_CALL:
                        break
                    status = run_op(&ops[i])
                    if status != OK:
                        break
                    i += 1
            if status != OK or i >= n_ops:
                break
            self.calls[ops[i].n[0]]()
            i += 1
        if status != OK:
            for j in range(len(params)):  # as eager: zero_grad ran, backward rolled back
                if (<tuple>self.param_info[j])[2]:
                    (<Node>params[j]).grad = None
        if status == BAD_LABEL:
            raise ValueError(f"softmax_cross_entropy: label {ops[i].n[2]} is out of range for "
                             f"{ops[i].n[1]} classes (replayed step; nothing was updated)")
        if status == NOT_FINITE:
            raise FloatingPointError(_not_finite_message(self.loss, params, ops[i].n[1]))
        for i in range(len(params)):
            info = self.param_info[i]
            p = params[i]
            (<Node>p).grad = (<tuple>info)[1] if (<tuple>info)[3] else None
            if (<tuple>info)[4]:  # its optimizer changed it: as Optimizer.step, a new version
                mark_modified(<Node>p)
        if cnp.PyArray_TYPE(<cnp.ndarray>self.loss) == cnp.NPY_DOUBLE:
            return (<double*>cnp.PyArray_DATA(<cnp.ndarray>self.loss))[0]
        return <double>(<float*>cnp.PyArray_DATA(<cnp.ndarray>self.loss))[0]


    def op_kinds(self):
        """The kind of each op, in order (e.g. "blas" for a planned BLAS call)."""
        return [KIND_NAMES[self.ops[i].kind] for i in range(self.n_ops)]

    def op_times(self, Py_ssize_t repeats=1000):
        """[(kind, mean ns)] per op over ``repeats`` runs of the program on the tape's current
        buffers (for benchmarks: where a replay's time goes). Parameters change: use a copy of
        the model."""
        cdef Py_ssize_t i, r
        cdef timespec t0, t1
        cdef double* total = <double*>malloc(max(self.n_ops, 1) * sizeof(double))
        for i in range(self.n_ops):
            total[i] = 0
        with nogil:
            for r in range(repeats):
                for i in range(self.n_ops):
                    clock_gettime(CLOCK_MONOTONIC, &t0)
                    run_op(&self.ops[i])
                    clock_gettime(CLOCK_MONOTONIC, &t1)
                    total[i] += (t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)
        out = [(KIND_NAMES[self.ops[i].kind], total[i] / repeats) for i in range(self.n_ops)]
        free(total)
        return out


KIND_NAMES = ["labels_i64", "labels_i32", "gemm_nn", "gemm_tn", "gemm_nt", "blas",
              "numpy_loop", "bias_act", "act_grad", "softmax_ce_rows", "ce_grad", "mse_losses",
              "mse_grad", "reduce", "finite", "add_into", "binary", "scalar", "unary",
              "unary_grad", "copy", "fill", "sum_leading", "sum_all", "small_gemm",
              "hinge_losses", "hinge_grad", "call", "row_sums", "tile", "fill_rows", "softmax",
              "log_softmax", "softmax_bwd", "log_softmax_bwd", "bce_losses", "bce_grad", "cast",
              "sgd", "hinge_grad_g"]


# the builder of each instruction (fastgrad/_py/tape.py lists them): Tape.add_<name>
cdef dict BUILDERS = {name[4:]: getattr(Tape, name) for name in dir(Tape)
                      if name.startswith("add_")}


class _SlotView:
    """A scalar slot as a loop operand: its one-element array, read with stride 0."""
    _slot = True

    def __init__(self, array):
        self.array = array
        self.itemsize = array.itemsize
