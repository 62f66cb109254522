"""Elementwise primitives: forward and VJP (twin: fastgrad/_py/elementwise.py).

The twin's expressions, evaluated in the same order: by typed loops where the operands are
C-contiguous arrays of one float dtype and shape, by numpy otherwise. With fused multiply-add
off (setup.py), + - * / round exactly as numpy's do, so those results match the twin bit for bit;
exp, log, log1p, tanh and sigmoid of float arrays (any size and layout) are fastgrad's vectorised
kernels (fastgrad/_cy/vmath.pxd), within the ulp bounds of fastgrad/_py/vmath.py of numpy's.
"""
cimport cython
cimport numpy as cnp

import numpy as np

from fastgrad._cy.node cimport (Node, accumulate, as_constant, empty_like, is_float, lift,
                                make_result, real, register_vjp, reusable, same_simple)
from fastgrad._cy.opcodes cimport *
from fastgrad._cy.vmath cimport v_exp, v_log, v_log1p, v_sigmoid, v_tanh

cnp.import_array()

# Largest array a forward computes with its own loops. Below it numpy's fixed cost per call
# (~0.25 us) dominates; above it numpy's SIMD loops win (benchmarks/test_engine.py measures
# both sides of it).
cdef Py_ssize_t FORWARD_LOOP_MAX = 512
# Loops over more elements than this release the GIL.
cdef Py_ssize_t NOGIL_MIN = 32768

# the scalar types, messages and numpy forms of the values live once, in fastgrad/_shared
from fastgrad._shared.elementwise import (SCALAR_TYPES, broadcast_error, log_base,
                                          sigmoid_values, tie_weights)

cdef object np_add = np.add, np_subtract = np.subtract, np_multiply = np.multiply
cdef object np_divide = np.divide, np_power = np.power, np_maximum = np.maximum
cdef object np_minimum = np.minimum


# ---------------------------------------------------------------- typed loops

cdef void k_add(real* o, const real* x, const real* y, Py_ssize_t n) noexcept nogil:
    """o = x + y"""
    for i in range(n):
        o[i] = x[i] + y[i]


cdef void k_sub(real* o, const real* x, const real* y, Py_ssize_t n) noexcept nogil:
    """o = x - y"""
    for i in range(n):
        o[i] = x[i] - y[i]


cdef void k_mul(real* o, const real* x, const real* y, Py_ssize_t n) noexcept nogil:
    """o = x * y"""
    for i in range(n):
        o[i] = x[i] * y[i]


@cython.cdivision(True)  # IEEE division (x/0 is inf or nan, as numpy's), in every build
cdef void k_div(real* o, const real* x, const real* y, Py_ssize_t n) noexcept nogil:
    """o = x / y"""
    for i in range(n):
        o[i] = x[i] / y[i]


cdef void k_add_s(real* o, const real* x, real c, Py_ssize_t n) noexcept nogil:
    """o = x + c"""
    for i in range(n):
        o[i] = x[i] + c


cdef void k_mul_s(real* o, const real* x, real c, Py_ssize_t n) noexcept nogil:
    """o = x * c"""
    for i in range(n):
        o[i] = x[i] * c


@cython.cdivision(True)  # IEEE division (x/0 is inf or nan, as numpy's), in every build
cdef void k_div_s(real* o, const real* x, real c, Py_ssize_t n) noexcept nogil:
    """o = x / c"""
    for i in range(n):
        o[i] = x[i] / c


cdef void k_rsub_s(real* o, const real* x, real c, Py_ssize_t n) noexcept nogil:
    """o = c - x"""
    for i in range(n):
        o[i] = c - x[i]


@cython.cdivision(True)  # IEEE division (x/0 is inf or nan, as numpy's), in every build
cdef void k_rdiv_s(real* o, const real* x, real c, Py_ssize_t n) noexcept nogil:
    """o = c / x"""
    for i in range(n):
        o[i] = c / x[i]


cdef void k_neg(real* o, const real* x, Py_ssize_t n) noexcept nogil:
    """o = -x"""
    for i in range(n):
        o[i] = -x[i]


cdef void k_relu(real* o, const real* x, Py_ssize_t n) noexcept nogil:
    """o = max(x, 0), NaN passing through (numpy.maximum's rule)"""
    for i in range(n):
        o[i] = x[i] if (x[i] >= 0 or x[i] != x[i]) else 0


cdef void k_tanh_bwd(real* o, const real* g, const real* y, Py_ssize_t n) noexcept nogil:
    """o = g*(1 - y*y)"""
    for i in range(n):
        o[i] = g[i] * (1 - y[i] * y[i])


cdef void k_sigmoid_bwd(real* o, const real* g, const real* y, Py_ssize_t n) noexcept nogil:
    """o = g*y*(1 - y)"""
    for i in range(n):
        o[i] = g[i] * y[i] * (1 - y[i])


cdef void k_relu_bwd(real* o, const real* g, const real* y, Py_ssize_t n) noexcept nogil:
    """o = g*[y > 0]"""
    for i in range(n):
        o[i] = g[i] * (y[i] > 0)


@cython.cdivision(True)  # IEEE division (x/0 is inf or nan, as numpy's), in every build
cdef void k_sqrt_bwd(real* o, const real* g, const real* y, Py_ssize_t n) noexcept nogil:
    """o = g*0.5/y"""
    for i in range(n):
        o[i] = g[i] * <real>0.5 / y[i]


@cython.cdivision(True)  # IEEE division (x/0 is inf or nan, as numpy's), in every build
cdef void k_log1p_bwd(real* o, const real* g, const real* a, Py_ssize_t n) noexcept nogil:
    """o = g/(1 + a)"""
    for i in range(n):
        o[i] = g[i] / (1 + a[i])


@cython.cdivision(True)  # IEEE division (x/0 is inf or nan, as numpy's), in every build
cdef void k_quotient_bwd(real* o, const real* g, const real* y, const real* b,
                         Py_ssize_t n) noexcept nogil:
    """o = -(g*y)/b: the gradient of y = a/b with respect to b"""
    for i in range(n):
        o[i] = -(g[i] * y[i]) / b[i]


@cython.cdivision(True)  # IEEE division (x/0 is inf or nan, as numpy's), in every build
cdef void k_quotient_bwd_s(real* o, const real* g, const real* y, real b,
                           Py_ssize_t n) noexcept nogil:
    """o = -(g*y)/b for one b (broadcast): summed afterwards into b's gradient"""
    for i in range(n):
        o[i] = -(g[i] * y[i]) / b


# ---------------------------------------------------------------- running the loops

ctypedef void (*unary_d)(double*, const double*, Py_ssize_t) noexcept nogil
ctypedef void (*unary_f)(float*, const float*, Py_ssize_t) noexcept nogil
ctypedef void (*binary_d)(double*, const double*, const double*, Py_ssize_t) noexcept nogil
ctypedef void (*binary_f)(float*, const float*, const float*, Py_ssize_t) noexcept nogil
ctypedef void (*scalar_d)(double*, const double*, double, Py_ssize_t) noexcept nogil
ctypedef void (*scalar_f)(float*, const float*, float, Py_ssize_t) noexcept nogil


cdef inline bint simple(cnp.ndarray x) noexcept:
    """A C-contiguous float32/float64 array: one flat typed loop covers it."""
    return is_float(x) and cnp.PyArray_IS_C_CONTIGUOUS(x)


cdef inline void* data(cnp.ndarray x) noexcept:
    return cnp.PyArray_DATA(x)


cdef object run1(cnp.ndarray x, unary_d fd, unary_f ff, object into=None):
    """fd/ff over x into a new array, or into ``into`` (an array of x's shape and dtype that
    is the caller's to overwrite; it may be x itself)."""
    cdef cnp.ndarray out = empty_like(x) if into is None else into
    cdef Py_ssize_t n = cnp.PyArray_SIZE(x)
    cdef void* o = data(out)
    cdef void* p = data(x)
    cdef bint d = cnp.PyArray_TYPE(x) == cnp.NPY_DOUBLE
    if n <= NOGIL_MIN:
        if d:
            fd(<double*>o, <double*>p, n)
        else:
            ff(<float*>o, <float*>p, n)
    else:
        with nogil:
            if d:
                fd(<double*>o, <double*>p, n)
            else:
                ff(<float*>o, <float*>p, n)
    return out


cdef object run2(cnp.ndarray x, cnp.ndarray y, binary_d fd, binary_f ff, object into=None):
    """fd/ff over x and y (one shape) into a new array, or into ``into`` (see run1)."""
    cdef cnp.ndarray out = empty_like(x) if into is None else into
    cdef Py_ssize_t n = cnp.PyArray_SIZE(x)
    cdef void* o = data(out)
    cdef void* p = data(x)
    cdef void* q = data(y)
    cdef bint d = cnp.PyArray_TYPE(x) == cnp.NPY_DOUBLE
    if n <= NOGIL_MIN:
        if d:
            fd(<double*>o, <double*>p, <double*>q, n)
        else:
            ff(<float*>o, <float*>p, <float*>q, n)
    else:
        with nogil:
            if d:
                fd(<double*>o, <double*>p, <double*>q, n)
            else:
                ff(<float*>o, <float*>p, <float*>q, n)
    return out


cdef object run_scalar(cnp.ndarray x, double c, scalar_d fd, scalar_f ff, object into=None):
    """fd/ff over x and the scalar c into a new array, or into ``into`` (see run1)."""
    cdef cnp.ndarray out = empty_like(x) if into is None else into
    cdef Py_ssize_t n = cnp.PyArray_SIZE(x)
    cdef void* o = data(out)
    cdef void* p = data(x)
    cdef bint d = cnp.PyArray_TYPE(x) == cnp.NPY_DOUBLE
    if n <= NOGIL_MIN:
        if d:
            fd(<double*>o, <double*>p, c, n)
        else:
            ff(<float*>o, <float*>p, <float>c, n)
    else:
        with nogil:
            if d:
                fd(<double*>o, <double*>p, c, n)
            else:
                ff(<float*>o, <float*>p, <float>c, n)
    return out


cdef inline bint one_value(cnp.ndarray x, cnp.ndarray g) noexcept:
    """x holds a single value of g's float dtype and broadcasting it leaves g's shape as it is
    (a scalar operand, e.g. a sum that divides): g op x is then a scalar loop."""
    return (cnp.PyArray_SIZE(x) == 1 and cnp.PyArray_NDIM(x) <= cnp.PyArray_NDIM(g)
            and cnp.PyArray_TYPE(x) == cnp.PyArray_TYPE(g) and simple(g))


cdef inline double value_of(cnp.ndarray x) noexcept:
    """The single value of a float32/float64 array, as a double (exactly)."""
    if cnp.PyArray_TYPE(x) == cnp.NPY_DOUBLE:
        return (<double*>data(x))[0]
    return (<float*>data(x))[0]


cdef object times(object g, object x, object into=None):
    """g*x (written into ``into``, an array of g's shape the caller may overwrite, when the
    typed loop runs)"""
    if same_simple(g, x):
        return run2(g, x, k_mul[double], k_mul[float], into)
    if one_value(x, g):
        return run_scalar(g, value_of(x), k_mul_s[double], k_mul_s[float], into)
    return g * x


cdef object divided(object g, object x, object into=None):
    """g/x (into ``into`` as times does)"""
    if same_simple(g, x):
        return run2(g, x, k_div[double], k_div[float], into)
    if one_value(x, g):
        return run_scalar(g, value_of(x), k_div_s[double], k_div_s[float], into)
    return g / x


cdef object negated(object g, object into=None):
    """-g (into ``into`` as times does)"""
    if simple(g):
        return run1(g, k_neg[double], k_neg[float], into)
    return -g


cdef object scaled(object g, double c, object into=None):
    """g*c (into ``into`` as times does)"""
    if simple(g):
        return run_scalar(g, c, k_mul_s[double], k_mul_s[float], into)
    return g * c


cdef object quotient_bwd(object g, object y, object b, object into=None):
    """-(g*y)/b (into ``into`` as times does)"""
    cdef cnp.ndarray out
    cdef Py_ssize_t n
    if same_simple(g, y) and same_simple(g, b):
        out = empty_like(g) if into is None else into
        n = cnp.PyArray_SIZE(g)
        if cnp.PyArray_TYPE(g) == cnp.NPY_DOUBLE:
            k_quotient_bwd(<double*>data(out), <double*>data(g), <double*>data(y),
                           <double*>data(b), n)
        else:
            k_quotient_bwd(<float*>data(out), <float*>data(g), <float*>data(y),
                           <float*>data(b), n)
        return out
    if same_simple(g, y) and one_value(b, g):
        out = empty_like(g) if into is None else into
        n = cnp.PyArray_SIZE(g)
        if cnp.PyArray_TYPE(g) == cnp.NPY_DOUBLE:
            k_quotient_bwd_s(<double*>data(out), <double*>data(g), <double*>data(y),
                             (<double*>data(b))[0], n)
        else:
            k_quotient_bwd_s(<float*>data(out), <float*>data(g), <float*>data(y),
                             (<float*>data(b))[0], n)
        return out
    return -(g * y) / b


# ---------------------------------------------------------------- operands

cdef inline bint is_scalar(object x):
    return type(x) is float or type(x) is int or isinstance(x, SCALAR_TYPES)


def operands(a, b, opname):
    """The operands of a binary op: two nodes, or a node and a float (on either side)."""
    if isinstance(a, Node):
        if isinstance(b, Node):
            return a, b
        if is_scalar(b):
            return a, float(b)
        return a, as_constant(b, a.data.dtype, opname)
    if isinstance(b, Node):
        if is_scalar(a):
            return float(a), b
        return as_constant(a, b.data.dtype, opname), b
    return operands(lift(a, opname), b, opname)


cdef object tensor_forward(int op, Node a, Node b, object ufunc, str opname):
    """Record ``ufunc(a, b)`` for two nodes."""
    cdef cnp.ndarray A = a.data, B = b.data
    if op <= OP_DIV and same_simple(A, B) and cnp.PyArray_SIZE(A) <= FORWARD_LOOP_MAX:
        if op == OP_ADD:
            out = run2(A, B, k_add[double], k_add[float])
        elif op == OP_SUB:
            out = run2(A, B, k_sub[double], k_sub[float])
        elif op == OP_MUL:
            out = run2(A, B, k_mul[double], k_mul[float])
        else:
            out = run2(A, B, k_div[double], k_div[float])
    elif op <= OP_DIV and cnp.PyArray_SIZE(A) <= FORWARD_LOOP_MAX and one_value(B, A):
        # b is one value (a sum, a max): the scalar loops compute what broadcasting would
        if op == OP_ADD:
            out = run_scalar(A, value_of(B), k_add_s[double], k_add_s[float])
        elif op == OP_SUB:  # a - c is exactly a + (-c)
            out = run_scalar(A, -value_of(B), k_add_s[double], k_add_s[float])
        elif op == OP_MUL:
            out = run_scalar(A, value_of(B), k_mul_s[double], k_mul_s[float])
        else:
            out = run_scalar(A, value_of(B), k_div_s[double], k_div_s[float])
    elif op <= OP_DIV and cnp.PyArray_SIZE(B) <= FORWARD_LOOP_MAX and one_value(A, B):
        if op == OP_ADD:
            out = run_scalar(B, value_of(A), k_add_s[double], k_add_s[float])
        elif op == OP_SUB:
            out = run_scalar(B, value_of(A), k_rsub_s[double], k_rsub_s[float])
        elif op == OP_MUL:
            out = run_scalar(B, value_of(A), k_mul_s[double], k_mul_s[float])
        else:
            out = run_scalar(B, value_of(A), k_rdiv_s[double], k_rdiv_s[float])
    else:
        try:
            out = ufunc(A, B)
        except ValueError:
            raise broadcast_error(opname, A, B) from None
    return make_result(out, op, (a, b), None)


cdef object scalar_forward(int op, Node a, double c):
    """Record op between the node a and the scalar c (which op says which side it is on)."""
    cdef cnp.ndarray X = a.data
    if op != OP_POW_S and op != OP_RPOW_S and simple(X) \
            and cnp.PyArray_SIZE(X) <= FORWARD_LOOP_MAX:
        if op == OP_ADD_S:
            out = run_scalar(X, c, k_add_s[double], k_add_s[float])
        elif op == OP_MUL_S:
            out = run_scalar(X, c, k_mul_s[double], k_mul_s[float])
        elif op == OP_DIV_S:
            out = run_scalar(X, c, k_div_s[double], k_div_s[float])
        elif op == OP_RSUB_S:
            out = run_scalar(X, c, k_rsub_s[double], k_rsub_s[float])
        else:
            out = run_scalar(X, c, k_rdiv_s[double], k_rdiv_s[float])
    elif op == OP_ADD_S:
        out = X + c
    elif op == OP_MUL_S:
        out = X * c
    elif op == OP_DIV_S:
        out = X / c
    elif op == OP_RSUB_S:
        out = c - X
    elif op == OP_RDIV_S:
        out = c / X
    elif op == OP_POW_S:
        out = X ** c
    else:
        out = c ** X
    return make_result(out, op, (a,), c)


cdef object binary_forward(object a, object b, int op, int op_scalar_right,
                           int op_scalar_left, bint negate_right, object ufunc, str opname):
    """a op b: two nodes, or a node and a scalar on either side (a different op code each)."""
    cdef Node A, B
    if isinstance(a, Node):
        A = <Node>a
        if isinstance(b, Node):
            return tensor_forward(op, A, <Node>b, ufunc, opname)
        if is_scalar(b):
            return scalar_forward(op_scalar_right, A, -float(b) if negate_right else float(b))
        return tensor_forward(op, A, as_constant(b, A.data.dtype, opname), ufunc, opname)
    if isinstance(b, Node):
        B = <Node>b
        if is_scalar(a):
            return scalar_forward(op_scalar_left, B, float(a))
        return tensor_forward(op, as_constant(a, B.data.dtype, opname), B, ufunc, opname)
    return binary_forward(lift(a, opname), b, op, op_scalar_right, op_scalar_left,
                          negate_right, ufunc, opname)


# ---------------------------------------------------------------- binary forwards

def add(a, b):
    return binary_forward(a, b, OP_ADD, OP_ADD_S, OP_ADD_S, False, np_add, "add")


def sub(a, b):
    # a - c is computed as a + (-c): the same bits
    return binary_forward(a, b, OP_SUB, OP_ADD_S, OP_RSUB_S, True, np_subtract, "subtract")


def rsub(a, b):
    """b - a (the reflected operator)."""
    return binary_forward(b, a, OP_SUB, OP_ADD_S, OP_RSUB_S, True, np_subtract, "subtract")


def mul(a, b):
    return binary_forward(a, b, OP_MUL, OP_MUL_S, OP_MUL_S, False, np_multiply, "multiply")


def div(a, b):
    return binary_forward(a, b, OP_DIV, OP_DIV_S, OP_RDIV_S, False, np_divide, "divide")


def rdiv(a, b):
    """b / a (the reflected operator)."""
    return binary_forward(b, a, OP_DIV, OP_DIV_S, OP_RDIV_S, False, np_divide, "divide")


def power(a, b):
    return binary_forward(a, b, OP_POW, OP_POW_S, OP_RPOW_S, False, np_power, "power")


def rpower(a, b):
    """b ** a (the reflected operator)."""
    return binary_forward(b, a, OP_POW, OP_POW_S, OP_RPOW_S, False, np_power, "power")


cdef tuple both_nodes(object a, object b, str opname):
    a, b = operands(a, b, opname)
    if not isinstance(a, Node):
        a = as_constant(a, b.data.dtype, opname)
    if not isinstance(b, Node):
        b = as_constant(b, a.data.dtype, opname)
    return a, b


def maximum(a, b):
    a, b = both_nodes(a, b, "maximum")
    return tensor_forward(OP_MAXIMUM, a, b, np_maximum, "maximum")


def minimum(a, b):
    a, b = both_nodes(a, b, "minimum")
    return tensor_forward(OP_MINIMUM, a, b, np_minimum, "minimum")


def where(condition, a, b):
    """Elements of ``a`` where ``condition`` holds, else of ``b`` (condition is not differentiated)."""
    if isinstance(condition, Node):
        condition = condition.data
    condition = np.asarray(condition, dtype=bool)
    a, b = both_nodes(a, b, "where")
    try:
        out = np.where(condition, a.data, b.data)
    except ValueError:
        raise ValueError(f"where: shapes {condition.shape}, {a.data.shape} and {b.data.shape} "
                         f"cannot be broadcast together") from None
    return make_result(out, OP_WHERE, (a, b), condition)


# ---------------------------------------------------------------- unary forwards

cdef object transcendental(int op, cnp.ndarray X):
    """exp, log, log1p, tanh or sigmoid of a float array of any layout, by the vectorised
    kernels (a strided or negative-stride X is copied to a contiguous one first)."""
    if not cnp.PyArray_IS_C_CONTIGUOUS(X):
        X = X.copy(order="C")
    if op == OP_EXP:
        return run1(X, v_exp[double], v_exp[float])
    if op == OP_LOG:
        return run1(X, v_log[double], v_log[float])
    if op == OP_LOG1P:
        return run1(X, v_log1p[double], v_log1p[float])
    if op == OP_TANH:
        return run1(X, v_tanh[double], v_tanh[float])
    return run1(X, v_sigmoid[double], v_sigmoid[float])


cdef object unary_forward(int op, object x, str opname):
    cdef Node a = lift(x, opname)
    cdef cnp.ndarray X = a.data
    if op != OP_NEG and op != OP_RELU and is_float(X):
        out = transcendental(op, X)
    elif simple(X) and cnp.PyArray_SIZE(X) <= FORWARD_LOOP_MAX:
        if op == OP_NEG:
            out = run1(X, k_neg[double], k_neg[float])
        else:
            out = run1(X, k_relu[double], k_relu[float])
    elif op == OP_NEG:
        out = -X
    elif op == OP_RELU:
        out = np.maximum(X, 0)
    elif op == OP_EXP:
        out = np.exp(X)
    elif op == OP_LOG:
        out = np.log(X)
    elif op == OP_LOG1P:
        out = np.log1p(X)
    elif op == OP_TANH:
        out = np.tanh(X)
    else:
        out = sigmoid_values(X)
    return make_result(out, op, (a,), None)


def neg(x):
    return unary_forward(OP_NEG, x, "negative")


def exp(x):
    return unary_forward(OP_EXP, x, "exp")


def log(x):
    return unary_forward(OP_LOG, x, "log")


def tanh(x):
    return unary_forward(OP_TANH, x, "tanh")


def relu(x):
    """max(x, 0), NaN passing through as in numpy.maximum."""
    return unary_forward(OP_RELU, x, "relu")


def sigmoid(x):
    return unary_forward(OP_SIGMOID, x, "sigmoid")


def sqrt(x):
    x = lift(x, "sqrt")
    return make_result(np.sqrt(x.data), OP_SQRT, (x,), None)


def absolute(x):
    x = lift(x, "abs")
    return make_result(np.abs(x.data), OP_ABS, (x,), None)


def log1p(x):
    return unary_forward(OP_LOG1P, x, "log1p")


def sin(x):
    x = lift(x, "sin")
    return make_result(np.sin(x.data), OP_SIN, (x,), None)


def cos(x):
    x = lift(x, "cos")
    return make_result(np.cos(x.data), OP_COS, (x,), None)


def clip(x, lo, hi):
    """x limited to [lo, hi] (either bound may be None); the gradient passes where lo <= x <= hi."""
    x = lift(x, "clip")
    if lo is None and hi is None:
        raise ValueError("clip: give at least one of the bounds lo, hi")
    return make_result(np.clip(x.data, lo, hi), OP_CLIP, (x,), (lo, hi))


# ---------------------------------------------------------------- VJPs

cdef int vjp_add(Node node, object g) except -1:
    """ga = g, gb = g"""
    accumulate(<Node>node._prev[0], g, False)
    accumulate(<Node>node._prev[1], g, False)
    return 0


cdef int vjp_sub(Node node, object g) except -1:
    """ga = g, gb = -g"""
    cdef Node a = <Node>node._prev[0], b = <Node>node._prev[1]
    into = reusable(node, g)
    if not a.requires_grad:
        return accumulate(b, negated(g, into), True)
    gb = negated(g) if b.requires_grad else None  # before a may come to own g
    accumulate(a, g, into is not None)
    if gb is not None:
        accumulate(b, gb, True)
    return 0


cdef int vjp_mul(Node node, object g) except -1:
    """ga = g*b, gb = g*a"""
    cdef Node a = <Node>node._prev[0], b = <Node>node._prev[1]
    into = reusable(node, g)
    if a.requires_grad and b.requires_grad:
        ga = times(g, b.data)
        accumulate(a, ga, True)  # (g is read by gb below: only gb may be written into it)
        accumulate(b, times(g, a.data, into), True)
    elif a.requires_grad:
        accumulate(a, times(g, b.data, into), True)
    elif b.requires_grad:
        accumulate(b, times(g, a.data, into), True)
    return 0


cdef int vjp_div(Node node, object g) except -1:
    """ga = g/b, gb = -(g*y)/b"""
    cdef Node a = <Node>node._prev[0], b = <Node>node._prev[1]
    into = reusable(node, g)
    if a.requires_grad and b.requires_grad:
        gb = quotient_bwd(g, node.data, b.data)  # before ga is written into g
        accumulate(a, divided(g, b.data, into), True)
        accumulate(b, gb, True)
    elif a.requires_grad:
        accumulate(a, divided(g, b.data, into), True)
    elif b.requires_grad:
        accumulate(b, quotient_bwd(g, node.data, b.data, into), True)
    return 0


cdef int vjp_pow(Node node, object g) except -1:
    """ga = g*b*a^(b-1), gb = g*y*log(a) (log(a) taken as 0 where a == 0, as y is 0 there)"""
    cdef Node a = <Node>node._prev[0], b = <Node>node._prev[1]
    if a.requires_grad:
        accumulate(a, g * b.data * a.data ** (b.data - 1), True)
    if b.requires_grad:
        A = a.data
        accumulate(b, g * node.data * np.log(np.where(A == 0, 1, A)), True)
    return 0


cdef int vjp_extreme(Node node, object g, bint is_max) except -1:
    cdef Node a = <Node>node._prev[0], b = <Node>node._prev[1]
    w = tie_weights(a.data, b.data, g) if is_max else tie_weights(b.data, a.data, g)
    if a.requires_grad:
        accumulate(a, g * w, True)
    if b.requires_grad:
        accumulate(b, g * (1 - w), True)
    return 0


cdef int vjp_maximum(Node node, object g) except -1:
    """ga = g*w, gb = g*(1-w) with w = 1 where a > b, 1/2 where a == b, else 0"""
    return vjp_extreme(node, g, True)


cdef int vjp_minimum(Node node, object g) except -1:
    """ga = g*w, gb = g*(1-w) with w = 1 where a < b, 1/2 where a == b, else 0"""
    return vjp_extreme(node, g, False)


cdef int vjp_where(Node node, object g) except -1:
    """ga = g where condition else 0, gb = 0 where condition else g"""
    cdef Node a = <Node>node._prev[0], b = <Node>node._prev[1]
    condition = node._ctx
    zero = g.dtype.type(0)
    if a.requires_grad:
        accumulate(a, np.where(condition, g, zero), True)
    if b.requires_grad:
        accumulate(b, np.where(condition, zero, g), True)
    return 0


cdef int vjp_add_s(Node node, object g) except -1:
    """ga = g"""
    return accumulate(<Node>node._prev[0], g, reusable(node, g) is not None)


cdef int vjp_mul_s(Node node, object g) except -1:
    """ga = g*c"""
    return accumulate(<Node>node._prev[0], scaled(g, node._ctx, reusable(node, g)), True)


cdef int vjp_div_s(Node node, object g) except -1:
    """ga = g/c"""
    cdef double c = node._ctx
    if simple(g):
        return accumulate(<Node>node._prev[0], run_scalar(g, c, k_div_s[double], k_div_s[float],
                                                          reusable(node, g)), True)
    return accumulate(<Node>node._prev[0], g / node._ctx, True)


cdef int vjp_rsub_s(Node node, object g) except -1:
    """ga = -g"""
    return accumulate(<Node>node._prev[0], negated(g, reusable(node, g)), True)


cdef int vjp_rdiv_s(Node node, object g) except -1:
    """y = c/a: ga = -(g*y)/a"""
    cdef Node a = <Node>node._prev[0]
    return accumulate(a, quotient_bwd(g, node.data, a.data, reusable(node, g)), True)


cdef int vjp_pow_s(Node node, object g) except -1:
    """y = a^c: ga = g*c*a^(c-1) (0 when c == 0)"""
    cdef Node a = <Node>node._prev[0]
    c = node._ctx
    if c == 0:
        return accumulate(a, np.zeros_like(g), True)
    return accumulate(a, g * c * a.data ** (c - 1), True)


cdef int vjp_rpow_s(Node node, object g) except -1:
    """y = c^a: ga = g*y*log(c)"""
    return accumulate(<Node>node._prev[0], g * node.data * log_base(node._ctx), True)


cdef int vjp_neg(Node node, object g) except -1:
    """ga = -g"""
    return accumulate(<Node>node._prev[0], negated(g, reusable(node, g)), True)


cdef int vjp_exp(Node node, object g) except -1:
    """ga = g*y"""
    return accumulate(<Node>node._prev[0], times(g, node.data, reusable(node, g)), True)


cdef int vjp_log(Node node, object g) except -1:
    """ga = g/a"""
    cdef Node a = <Node>node._prev[0]
    return accumulate(a, divided(g, a.data, reusable(node, g)), True)


cdef int vjp_tanh(Node node, object g) except -1:
    """ga = g*(1 - y*y)"""
    y = node.data
    if same_simple(g, y):
        return accumulate(<Node>node._prev[0],
                          run2(g, y, k_tanh_bwd[double], k_tanh_bwd[float], reusable(node, g)),
                          True)
    return accumulate(<Node>node._prev[0], g * (1 - y * y), True)


cdef int vjp_relu(Node node, object g) except -1:
    """ga = g*[y > 0]"""
    y = node.data
    if same_simple(g, y):
        return accumulate(<Node>node._prev[0],
                          run2(g, y, k_relu_bwd[double], k_relu_bwd[float], reusable(node, g)),
                          True)
    return accumulate(<Node>node._prev[0], g * (y > 0), True)


cdef int vjp_sigmoid(Node node, object g) except -1:
    """ga = g*y*(1 - y)"""
    y = node.data
    if same_simple(g, y):
        return accumulate(<Node>node._prev[0],
                          run2(g, y, k_sigmoid_bwd[double], k_sigmoid_bwd[float], reusable(node, g)),
                          True)
    return accumulate(<Node>node._prev[0], g * y * (1 - y), True)


cdef int vjp_sqrt(Node node, object g) except -1:
    """ga = g*0.5/y"""
    y = node.data
    if same_simple(g, y):
        return accumulate(<Node>node._prev[0],
                          run2(g, y, k_sqrt_bwd[double], k_sqrt_bwd[float], reusable(node, g)),
                          True)
    return accumulate(<Node>node._prev[0], g * 0.5 / y, True)


cdef int vjp_abs(Node node, object g) except -1:
    """ga = g*sign(a)"""
    cdef Node a = <Node>node._prev[0]
    return accumulate(a, g * np.sign(a.data), True)


cdef int vjp_log1p(Node node, object g) except -1:
    """ga = g/(1 + a)"""
    cdef Node a = <Node>node._prev[0]
    if same_simple(g, a.data):
        return accumulate(a, run2(g, a.data, k_log1p_bwd[double], k_log1p_bwd[float],
                                  reusable(node, g)), True)
    return accumulate(a, g / (1 + a.data), True)


cdef int vjp_sin(Node node, object g) except -1:
    """ga = g*cos(a)"""
    cdef Node a = <Node>node._prev[0]
    return accumulate(a, g * np.cos(a.data), True)


cdef int vjp_cos(Node node, object g) except -1:
    """ga = -g*sin(a)"""
    cdef Node a = <Node>node._prev[0]
    return accumulate(a, -g * np.sin(a.data), True)


cdef int vjp_clip(Node node, object g) except -1:
    """ga = g*[lo <= a <= hi]"""
    cdef Node a = <Node>node._prev[0]
    lo, hi = node._ctx
    inside = np.ones(a.data.shape, dtype=bool)
    if lo is not None:
        inside &= a.data >= lo
    if hi is not None:
        inside &= a.data <= hi
    return accumulate(a, g * inside, True)


register_vjp(OP_ADD, vjp_add)
register_vjp(OP_SUB, vjp_sub)
register_vjp(OP_MUL, vjp_mul)
register_vjp(OP_DIV, vjp_div)
register_vjp(OP_POW, vjp_pow)
register_vjp(OP_MAXIMUM, vjp_maximum)
register_vjp(OP_MINIMUM, vjp_minimum)
register_vjp(OP_WHERE, vjp_where)
register_vjp(OP_ADD_S, vjp_add_s)
register_vjp(OP_MUL_S, vjp_mul_s)
register_vjp(OP_DIV_S, vjp_div_s)
register_vjp(OP_RSUB_S, vjp_rsub_s)
register_vjp(OP_RDIV_S, vjp_rdiv_s)
register_vjp(OP_POW_S, vjp_pow_s)
register_vjp(OP_RPOW_S, vjp_rpow_s)
register_vjp(OP_NEG, vjp_neg)
register_vjp(OP_EXP, vjp_exp)
register_vjp(OP_LOG, vjp_log)
register_vjp(OP_TANH, vjp_tanh)
register_vjp(OP_RELU, vjp_relu)
register_vjp(OP_SIGMOID, vjp_sigmoid)
register_vjp(OP_SQRT, vjp_sqrt)
register_vjp(OP_ABS, vjp_abs)
register_vjp(OP_LOG1P, vjp_log1p)
register_vjp(OP_SIN, vjp_sin)
register_vjp(OP_COS, vjp_cos)
register_vjp(OP_CLIP, vjp_clip)
