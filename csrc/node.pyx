"""Graph nodes, and the helpers every compiled kernel shares (twin: fastgrad/_py/node.py).

Node is the storage the sort and the sweep read in C; fastgrad.Tensor subclasses it in Python.
accumulate() is the one place a gradient contribution is summed back to its parent's shape,
cast to its dtype and added, in place when the sweep owns the parent's gradient.
"""
cimport cython
cimport numpy as cnp
from cpython.object cimport PyObject, PyObject_GenericSetAttr, PyTypeObject
from libc.stdint cimport uint32_t, uint64_t

import numpy as np

from fastgrad._cy.opcodes cimport N_OPS, OP_CUSTOM, OP_LEAF
# messages, dtype rules and the numpy fallbacks live once, in fastgrad/_shared (not the twin)
from fastgrad._shared.node import (FLOAT_TYPES, OP_NAMES, NonFiniteGradient, as_array,
                                   checked_data, checked_grad, complex_kernel_error,
                                   corrupt_node_error, describe, describe_safely, dtype_error, foreign_node_error, is_node,
                                   modified_error, no_sweep_error, op_name, register_node_class,
                                   sum_to_shape)

cnp.import_array()

cdef extern from "Python.h":
    void PyObject_GC_UnTrack(void* op)

# Per-thread state (PyTorch's grad mode is thread-local too): grad mode, read by every op, and
# the state of the sweep running in this thread, read by every accumulate(). The references
# are borrowed: the sweep that installs them holds them for as long as they are installed.
cdef extern from *:
    """
    #if defined(_MSC_VER)
    #define FASTGRAD_THREAD_LOCAL __declspec(thread)
    #else
    #define FASTGRAD_THREAD_LOCAL __thread
    #endif
    static FASTGRAD_THREAD_LOCAL int fastgrad_grad_off = 0;
    static FASTGRAD_THREAD_LOCAL unsigned long fastgrad_sweep_epoch = 0;
    static FASTGRAD_THREAD_LOCAL PyObject* fastgrad_touched = NULL;
    static FASTGRAD_THREAD_LOCAL PyObject* fastgrad_checking = NULL;
    """
    int grad_off "fastgrad_grad_off"
    unsigned long sweep_epoch "fastgrad_sweep_epoch"
    PyObject* touched "fastgrad_touched"
    PyObject* checking "fastgrad_checking"

ndarray = np.ndarray
cdef tuple EMPTY = ()


cdef dict UFUNCS = {}             # numpy ufunc -> the op function that handles it on nodes
cdef object ufunc_fallback = None  # called for any other ufunc (or method, or out=)


def set_ufunc_table(table, fallback):
    """Route numpy ufuncs called on nodes: ``table`` maps a ufunc to the op function taking
    its inputs; anything else goes to ``fallback(ufunc, method, inputs, kwargs)``."""
    global ufunc_fallback
    UFUNCS.clear()
    UFUNCS.update(table)
    ufunc_fallback = fallback


@cython.trashcan(True)  # freeing a deep chain must not recurse in C
cdef class Node:
    """Storage of one graph node; fastgrad.Tensor is built on it."""

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        # numpy calls this for ndarray-op-tensor and for ufuncs applied to tensors
        if not kwargs and method == "__call__":
            fn = UFUNCS.get(ufunc)
            if fn is not None:
                return fn(*inputs)
        return ufunc_fallback(ufunc, method, inputs, kwargs)

    def __setattr__(self, name, value):
        # Python-level assignments only: the kernels store into the fields in C
        if name == "grad":
            self.grad = None if value is None else checked_grad(self, value)
        elif name == "data":
            if cnp.PyArray_CheckExact(value) and is_float(<cnp.ndarray>value) and (
                    self.data is None or fits(<cnp.ndarray>value, self.data)):
                self.data = value
            else:
                self.data = checked_data(self, value)  # raises, unless it can be used
            mark_modified(self)
        else:
            PyObject_GenericSetAttr(self, name, value)


register_node_class("cython", Node)


cdef inline bint fits(cnp.ndarray value, object old) noexcept:
    """value has the dtype and shape of ``old`` (an ndarray)."""
    return (cnp.PyArray_Check(old) and cnp.PyArray_TYPE(value) == cnp.PyArray_TYPE(old)
            and cnp.PyArray_NDIM(value) == cnp.PyArray_NDIM(<cnp.ndarray>old)
            and cnp.PyArray_SAMESHAPE(value, <cnp.ndarray>old))


# ---------------------------------------------------------------- result type and grad mode

cdef object tensor_type = None   # the class ops instantiate: fastgrad.Tensor on this backend
cdef bint tensor_type_gc = False # whether its instances are tracked by the cyclic collector


def set_tensor_type(cls):
    """Make ops return instances of ``cls`` (a subclass of Node): fastgrad.Tensor."""
    global tensor_type, tensor_type_gc
    if not (isinstance(cls, type) and issubclass(cls, Node)):
        raise TypeError("set_tensor_type: expected a subclass of Node")
    tensor_type = cls
    tensor_type_gc = bool(cls.__flags__ & (1 << 14))  # Py_TPFLAGS_HAVE_GC


def set_grad_enabled(enabled):
    """Turn graph recording on or off in the calling thread; return the previous setting."""
    global grad_off
    previous = not grad_off
    grad_off = not enabled
    return previous


def is_grad_enabled():
    """True unless the calling thread is inside no_grad()."""
    return not grad_off


cpdef Node new_node(object data, bint requires_grad):
    """A leaf of the registered tensor type holding ``data`` (an ndarray, not copied)."""
    if tensor_type is None:  # this backend's module loaded beside the active one, unregistered
        raise RuntimeError("fastgrad._cy.node: no tensor type registered (set_tensor_type); "
                           "this backend is not the active one")
    cdef Node out = <Node>(<PyTypeObject*>tensor_type).tp_new(tensor_type, <PyObject*>EMPTY,
                                                             NULL)
    # A node references only older nodes and plain data, so it cannot be part of a cycle: keep
    # it off the cyclic collector's lists, which otherwise re-scan every live node (a 10^6-node
    # graph took 3.6 us per op instead of 0.5).
    if tensor_type_gc:
        PyObject_GC_UnTrack(<PyObject*>out)
    out.data = data
    out.requires_grad = requires_grad
    out._born = version_clock
    return out


cdef inline bint is_complex(cnp.ndarray a) noexcept:
    cdef int t = cnp.PyArray_TYPE(a)
    return t == cnp.NPY_CFLOAT or t == cnp.NPY_CDOUBLE or t == cnp.NPY_CLONGDOUBLE


cdef object complex_fallback = None  # set by fastgrad.ops.complex_ops
# set once a complex value exists in the process: until then kernels pay no complex checks
cdef bint complex_seen = False


def note_complex():
    """Record that complex values exist (complex nodes are made by the op table's path)."""
    global complex_seen
    complex_seen = True


def set_complex_fallback(fn):
    """Install ``fn(op, prev, ctx, data)``: it redoes a kernel's op whose operands are complex
    on the op table's Python path (or raises naming the op)."""
    global complex_fallback
    complex_fallback = fn


cdef Node complex_operands(object data, int op, tuple prev, object ctx, object dtype):
    """A kernel met complex values (its result is not used): the op table's Python path."""
    if complex_fallback is None:
        raise complex_kernel_error(op, dtype)
    return complex_fallback(op, prev, ctx, data)


cpdef Node make_result(object data, int op, tuple prev, object ctx):
    """The output node of op ``op``: records the graph only if grad mode is on and a parent
    requires grad (otherwise the result is a constant leaf)."""
    if not cnp.PyArray_CheckExact(data):
        data = np.asarray(data)  # numpy returns scalars for 0-d results; nodes hold arrays
    cdef Py_ssize_t i
    global complex_seen
    if op == OP_CUSTOM:
        if not complex_seen and is_complex(<cnp.ndarray>data):
            complex_seen = True
    elif complex_seen:  # a kernel, once complex values exist: they must not pass unnoticed
        if is_complex(<cnp.ndarray>data):
            return complex_operands(data, op, prev, ctx, data.dtype)
        for i in range(len(prev)):
            if is_complex(<cnp.ndarray>(<Node>prev[i]).data):
                return complex_operands(data, op, prev, ctx, (<Node>prev[i]).data.dtype)
    cdef Node out = new_node(data, False)
    if not grad_off:
        for i in range(len(prev)):
            if (<Node>prev[i]).requires_grad:
                PyObject_GC_UnTrack(<PyObject*>prev)  # a tuple of nodes: no cycle either
                out._op = op
                out._prev = prev
                out._ctx = ctx
                out.requires_grad = True
                break
    return out


# ---------------------------------------------------------------- dtypes and constants

cpdef Node lift(object x, str opname):
    """A node for ``x``: itself if it is one, else a constant of its own (float) dtype."""
    if isinstance(x, Node):
        return <Node>x
    return new_node(as_array(x, opname, "cython"), False)


cpdef Node as_constant(object x, object dtype, str opname):
    """Wrap non-node data as a constant node of ``dtype`` (the dtype of the tensor it meets):
    a constant never changes a tensor's precision."""
    if cnp.PyArray_CheckExact(x) and (<cnp.ndarray>x).dtype is dtype:
        return new_node(x, False)
    if not cnp.PyArray_Check(x):
        foreign = foreign_node_error(x, opname, "cython")
        if foreign is not None:
            raise foreign
    arr = np.asarray(x)
    if arr.dtype != dtype:
        if arr.dtype.kind == "c" and complex_fallback is not None:
            global complex_seen
            complex_seen = True
            return new_node(arr, False)  # the op's make_result takes the complex path
        if arr.dtype.kind not in "biuf":
            raise dtype_error(opname, arr.dtype)
        arr = arr.astype(dtype)
    return new_node(arr, False)


# ---------------------------------------------------------------- the VJP table

cdef vjp_fn VJP[N_OPS]


cdef void register_vjp(int op, vjp_fn fn) noexcept:
    VJP[op] = fn


cdef vjp_fn vjp_of(int op) noexcept:
    return VJP[op] if 0 <= op < N_OPS else NULL


def has_vjp(int op):
    """True when a compiled VJP is installed for op code ``op``."""
    return vjp_of(op) != NULL


# ---------------------------------------------------------------- epochs

cdef unsigned long epoch = 0


cdef unsigned long new_epoch() noexcept:
    global epoch
    epoch += 1
    return epoch


def next_epoch():
    """A number no node has seen yet: the sort marks visited nodes with it, the sweep marks the
    gradients it allocated with it. Marks never need resetting."""
    return new_epoch()


# ---------------------------------------------------------------- versions

# A process-wide clock (changed only with the GIL held): a node records its value when it is
# made (_born); changing a node's data stamps it with a new tick (_version). A node whose own
# data or whose inputs carry a tick later than its birth was computed from other values than
# they now hold, and its VJP would read the new ones: backward refuses it.
cdef unsigned long long version_clock = 0


cpdef int mark_modified(Node node) except -1:
    """Record that ``node.data`` was changed (re-bound or updated in place)."""
    global version_clock
    version_clock += 1
    node._version = version_clock
    return 0


cdef int check_unmodified(Node node) except -1:
    """Raise unless node's data and its inputs are the values node was computed from (and
    are arrays: nothing a kernel reads can be of another type)."""
    cdef unsigned long long born = node._born
    cdef tuple prev = node._prev
    cdef Node parent
    cdef Py_ssize_t i
    if node._version > born:
        raise modified_error(node, node)
    if not cnp.PyArray_Check(node.data):
        raise corrupt_node_error(node, node)
    for i in range(len(prev)):
        parent = <Node>prev[i]
        if parent._version > born:
            raise modified_error(node, parent)
        if not cnp.PyArray_Check(parent.data):
            raise corrupt_node_error(node, parent)
    return 0


def check_inputs_unmodified(Node node):
    """Python entry of check_unmodified (for engines that run VJPs in Python)."""
    check_unmodified(node)


# ---------------------------------------------------------------- accumulation

cdef object set_sweep_state(unsigned long epoch_, object touched_, object checking_):
    """Install a sweep's state in this thread; return the previous one as a tuple."""
    global sweep_epoch, touched, checking
    previous = (sweep_epoch, None if touched == NULL else <object>touched,
                None if checking == NULL else <object>checking)
    sweep_epoch = epoch_
    touched = NULL if touched_ is None else <PyObject*>touched_
    checking = NULL if checking_ is None else <PyObject*>checking_
    return previous


cdef int set_checking(object node) except -1:
    """In checking mode: the node whose VJP runs next (named if a contribution is NaN/Inf)."""
    global checking
    checking = NULL if node is None else <PyObject*>node
    return 0


cdef bint finite_f64(const uint64_t* bits, Py_ssize_t n) noexcept nogil:
    """No NaN/Inf in n doubles: an all-ones exponent plus one exponent step carries into the
    sign bit, and no other exponent does; branch-free, so the loop vectorises."""
    cdef uint64_t acc = 0
    cdef Py_ssize_t i
    for i in range(n):
        acc |= (bits[i] & 0x7ff0000000000000ULL) + 0x0010000000000000ULL
    return (acc >> 63) == 0


cdef bint finite_f32(const uint32_t* bits, Py_ssize_t n) noexcept nogil:
    """No NaN/Inf in n floats (the same test on the 8-bit exponent)"""
    cdef uint32_t acc = 0
    cdef Py_ssize_t i
    for i in range(n):
        acc |= (bits[i] & 0x7f800000U) + 0x00800000U
    return (acc >> 31) == 0


cdef bint finite(cnp.ndarray arr) except -1:
    """True when no element of ``arr`` is NaN or +-Inf."""
    cdef Py_ssize_t n = cnp.PyArray_SIZE(arr), start, stop, chunk = 1 << 14
    cdef int t = cnp.PyArray_TYPE(arr)
    cdef char* data = <char*>cnp.PyArray_DATA(arr)
    if cnp.PyArray_IS_C_CONTIGUOUS(arr) and (t == cnp.NPY_DOUBLE or t == cnp.NPY_FLOAT):
        start = 0
        while start < n:  # in chunks, so that a NaN early in a big array stops the scan
            stop = min(start + chunk, n)
            if t == cnp.NPY_DOUBLE:
                if not finite_f64(<uint64_t*>data + start, stop - start):
                    return False
            elif not finite_f32(<uint32_t*>data + start, stop - start):
                return False
            start = stop
        return True
    return bool(np.isfinite(arr).all())


cdef real pairwise_sum(const real* a, Py_ssize_t n) noexcept nogil:
    """sum(a[:n]) in numpy's pairwise order (8 running sums per block of at most 128)"""
    cdef Py_ssize_t i, half
    cdef real res, r0, r1, r2, r3, r4, r5, r6, r7
    if n < 8:
        res = 0
        for i in range(n):
            res += a[i]
        return res
    if n <= 128:
        r0 = a[0]
        r1 = a[1]
        r2 = a[2]
        r3 = a[3]
        r4 = a[4]
        r5 = a[5]
        r6 = a[6]
        r7 = a[7]
        i = 8
        while i < n - n % 8:
            r0 += a[i]
            r1 += a[i + 1]
            r2 += a[i + 2]
            r3 += a[i + 3]
            r4 += a[i + 4]
            r5 += a[i + 5]
            r6 += a[i + 6]
            r7 += a[i + 7]
            i += 8
        res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
        while i < n:
            res += a[i]
            i += 1
        return res
    half = n // 2
    half -= half % 8
    return pairwise_sum(a, half) + pairwise_sum(a + half, n - half)


cdef void sum_leading(real* out, const real* g, Py_ssize_t m, Py_ssize_t r) noexcept nogil:
    """out[j] = g[0, j] + g[1, j] + ... + g[m-1, j] for g (m, r): numpy's order when it sums
    the leading axes of a C-contiguous array (first row copied, the others added in turn)"""
    cdef Py_ssize_t i, j
    for j in range(r):
        out[j] = g[j]
    for i in range(1, m):
        for j in range(r):
            out[j] = out[j] + g[i * r + j]


cdef void sum_trailing(real* out, const real* g, Py_ssize_t m, Py_ssize_t r) noexcept nogil:
    """out[i] = sum(g[i, :]) for g (m, r), pairwise: numpy's order for the trailing axes"""
    cdef Py_ssize_t i
    for i in range(m):
        out[i] = pairwise_sum(g + i * r, r)


cdef object reduced_to(cnp.ndarray g, cnp.ndarray data):
    """``g`` summed to ``data``'s shape by typed loops, bit for bit as sum_to_shape does it,
    when the summed axes are a leading block (a bias's gradient) or a trailing one (a
    keepdims reduction; all axes for a scalar); None when numpy has to do it."""
    cdef int gd = cnp.PyArray_NDIM(g), lead = gd - cnp.PyArray_NDIM(data), k, j, i
    cdef cnp.npy_intp* gs = cnp.PyArray_DIMS(g)
    cdef cnp.npy_intp* ds = cnp.PyArray_DIMS(data)
    cdef Py_ssize_t m = 1, r = 1
    cdef cnp.ndarray out
    if lead < 0 or cnp.PyArray_TYPE(g) != cnp.PyArray_TYPE(data) or not is_float(g) \
            or not cnp.PyArray_IS_C_CONTIGUOUS(g) or cnp.PyArray_SIZE(g) == 0:
        return None  # (an empty g: numpy's sum is zeros, the loops would read nothing)
    # data's axis i of g's numbering has size ds[i - lead] (1 for the axes broadcasting added)
    k = gd  # axes k.. are the same in both: the leading ones before them must all be summed
    while k > 0 and (ds[k - 1 - lead] if k - 1 >= lead else 1) == gs[k - 1]:
        k -= 1
    r = cnp.PyArray_SIZE(data)
    for i in range(k):
        if i >= lead and ds[i - lead] != 1:
            break
        m *= gs[i]
    else:
        if r == 1:  # everything summed: numpy's order is then the pairwise one (below)
            return reduced_to_rows(g, data, 1, cnp.PyArray_SIZE(g))
        out = empty_like(data)
        if cnp.PyArray_TYPE(g) == cnp.NPY_DOUBLE:
            sum_leading(<double*>cnp.PyArray_DATA(out), <double*>cnp.PyArray_DATA(g), m, r)
        else:
            sum_leading(<float*>cnp.PyArray_DATA(out), <float*>cnp.PyArray_DATA(g), m, r)
        return out
    j = 0  # axes ..j are the same in both: the trailing ones after them must all be summed
    while j < gd and (ds[j - lead] if j >= lead else 1) == gs[j]:
        j += 1
    r = 1
    for i in range(j, gd):
        if i >= lead and ds[i - lead] != 1:
            return None
        r *= gs[i]
    return reduced_to_rows(g, data, cnp.PyArray_SIZE(data), r)


cdef object reduced_to_rows(cnp.ndarray g, cnp.ndarray data, Py_ssize_t m, Py_ssize_t r):
    """g viewed as (m, r), each row summed pairwise into an array of data's shape; None past
    the length up to which that is numpy's order."""
    if r > PAIRWISE_EXACT_MAX:
        return None
    cdef cnp.ndarray out = empty_like(data)
    if cnp.PyArray_TYPE(g) == cnp.NPY_DOUBLE:
        sum_trailing(<double*>cnp.PyArray_DATA(out), <double*>cnp.PyArray_DATA(g), m, r)
    else:
        sum_trailing(<float*>cnp.PyArray_DATA(out), <float*>cnp.PyArray_DATA(g), m, r)
    return out


cdef void add_into(real* out, const real* x, Py_ssize_t n) noexcept nogil:
    """out += x"""
    cdef Py_ssize_t i
    for i in range(n):
        out[i] = out[i] + x[i]


cdef int add_inplace(cnp.ndarray pg, cnp.ndarray g) except -1:
    """pg += g for an owned pg of g's shape and dtype."""
    cdef Py_ssize_t n
    if same_simple(pg, g):
        n = cnp.PyArray_SIZE(pg)
        if cnp.PyArray_TYPE(pg) == cnp.NPY_DOUBLE:
            add_into(<double*>cnp.PyArray_DATA(pg), <double*>cnp.PyArray_DATA(g), n)
        else:
            add_into(<float*>cnp.PyArray_DATA(pg), <float*>cnp.PyArray_DATA(g), n)
    else:
        np.add(pg, g, out=pg)
    return 0


cdef cnp.ndarray add_new(object pg, cnp.ndarray g):
    """A new array holding g + pg (pg: node.grad, of g's shape and dtype; maybe a view)."""
    cdef cnp.ndarray out = cnp.PyArray_NewCopy(g, cnp.NPY_CORDER)
    add_inplace(out, <cnp.ndarray>pg)
    return out


cdef object reusable(Node node, object g):
    """g itself when the VJP of ``node`` may write into it or hand it on as owned: it is
    node's gradient, allocated by this sweep (so referenced nowhere else) and dropped once the
    VJP has run; else None."""
    if (g is node.grad and node._gown == sweep_epoch and sweep_epoch != 0 and not node._retain
            and cnp.PyArray_Check(g) and cnp.PyArray_ISWRITEABLE(<cnp.ndarray>g)):
        return g
    return None


cpdef int accumulate(Node node, object g, bint owned) except -1:
    """node.grad += g, with g first summed to node's shape and cast to node's dtype.

    ``owned`` says that g was freshly allocated by the caller and is referenced nowhere else,
    so it may be kept and later added into in place. A gradient received by reference (a
    pass-through, a view of another gradient, the caller's seed) is never written into; a leaf
    always ends up owning its gradient, so that no two leaves share one array.
    """
    if not node.requires_grad:
        return 0
    if touched == NULL:
        raise no_sweep_error(node)
    if not cnp.PyArray_Check(node.data):
        raise corrupt_node_error(node, node)
    cdef cnp.ndarray data = <cnp.ndarray>node.data
    if not cnp.PyArray_Check(g):
        g = np.asarray(g, dtype=node.data.dtype)
        owned = True
    cdef cnp.ndarray ga = <cnp.ndarray>g
    if cnp.PyArray_NDIM(ga) != cnp.PyArray_NDIM(data) or not cnp.PyArray_SAMESHAPE(ga, data):
        summed = reduced_to(ga, data)
        ga = sum_to_shape(ga, node.data.shape) if summed is None else summed
        owned = True
    if cnp.PyArray_TYPE(ga) != cnp.PyArray_TYPE(data):
        ga = ga.astype(node.data.dtype)
        owned = True
    if checking != NULL and not finite(ga):
        raise NonFiniteGradient(<object>checking, node)
    pg = node.grad
    if pg is not None and not (cnp.PyArray_Check(pg)
                               and cnp.PyArray_TYPE(<cnp.ndarray>pg) == cnp.PyArray_TYPE(data)
                               and cnp.PyArray_NDIM(<cnp.ndarray>pg) == cnp.PyArray_NDIM(data)
                               and cnp.PyArray_SAMESHAPE(<cnp.ndarray>pg, data)):
        checked_grad(node, pg)  # raises, naming what is wrong with it
        raise corrupt_node_error(node, node)
    if node._gown == sweep_epoch:  # allocated by this sweep: ours to add into
        add_inplace(<cnp.ndarray>pg, ga)
    elif node._op == OP_LEAF or node._retain:
        # first contribution of this sweep to a gradient the user sees
        (<list>touched).append(node)
        (<list>touched).append(pg)
        if pg is not None:
            ga = sum_of(pg, ga, owned)
        elif not owned:
            ga = cnp.PyArray_NewCopy(ga, cnp.NPY_CORDER)
        node.grad = ga
        node._gown = sweep_epoch
    elif pg is None:
        node.grad = ga
        node._gown = sweep_epoch if owned else 0
    else:
        node.grad = sum_of(pg, ga, owned)
        node._gown = sweep_epoch
    return 0


cdef inline cnp.ndarray sum_of(object pg, cnp.ndarray ga, bint owned):
    """pg + ga (of one shape and dtype) in an array the sweep owns: ga itself when it is
    ours to write (one allocation fewer), else a new one."""
    if owned and cnp.PyArray_ISWRITEABLE(ga):
        add_inplace(ga, <cnp.ndarray>pg)
        return ga
    return add_new(pg, ga)


cdef int vjp_custom(Node node, object g) except -1:
    """A primitive defined in Python: its ctx maps g to one contribution (or None) per parent"""
    for parent, contribution in zip(node._prev, node._ctx(g)):
        if contribution is not None and (<Node>parent).requires_grad:
            accumulate(<Node>parent, np.asarray(contribution), False)
    return 0


register_vjp(OP_CUSTOM, vjp_custom)
