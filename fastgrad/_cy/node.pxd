# Declarations of csrc/node.pyx, cimported by every compiled module of the array engine.
cimport numpy as cnp


cdef class Node:
    cdef public object data          # the forward value: always an ndarray
    cdef public object grad          # None, or an ndarray of data's shape and dtype
    cdef public tuple _prev          # parents in recorded order; None for leaves and freed nodes
    cdef public object _ctx          # what the VJP needs beyond parents and output
    cdef public int _op              # op code (fastgrad/_cy/opcodes.pxd); OP_LEAF for leaves
    cdef public bint requires_grad
    cdef public bint _retain         # keep .grad on this interior node (retain_grad())
    cdef public unsigned long _mark  # epoch of the last sort that visited this node
    cdef public unsigned long _gown  # epoch of the sweep that allocated .grad (may add into it)
    # the version clock (see mark_modified): its value when this node was made, and when its
    # data last changed; backward refuses a node whose inputs changed after it was made
    cdef public unsigned long long _born
    cdef public unsigned long long _version


# A VJP adds the node's contributions into its parents with accumulate().
ctypedef int (*vjp_fn)(Node node, object g) except -1

cdef void register_vjp(int op, vjp_fn fn) noexcept
cdef vjp_fn vjp_of(int op) noexcept

cpdef Node new_node(object data, bint requires_grad)
cpdef Node make_result(object data, int op, tuple prev, object ctx)
cpdef int accumulate(Node node, object g, bint owned) except -1
cdef object reusable(Node node, object g)
cpdef Node lift(object x, str opname)
cpdef Node as_constant(object x, object dtype, str opname)

cdef unsigned long new_epoch() noexcept
cdef object set_sweep_state(unsigned long epoch, object touched, object checking)
cdef int set_checking(object node) except -1
cpdef int mark_modified(Node node) except -1
cdef int check_unmodified(Node node) except -1
cdef bint finite(cnp.ndarray arr) except -1


cdef inline bint is_float(cnp.ndarray a) noexcept:
    """True for float64 and float32 arrays (the dtypes typed loops handle)."""
    cdef int t = cnp.PyArray_TYPE(a)
    return t == cnp.NPY_DOUBLE or t == cnp.NPY_FLOAT


cdef inline bint same_simple(cnp.ndarray a, cnp.ndarray b) noexcept:
    """a and b have the same float dtype and shape and are both C-contiguous: one flat loop
    covers them."""
    return (cnp.PyArray_TYPE(a) == cnp.PyArray_TYPE(b) and is_float(a)
            and cnp.PyArray_NDIM(a) == cnp.PyArray_NDIM(b) and cnp.PyArray_SAMESHAPE(a, b)
            and cnp.PyArray_IS_C_CONTIGUOUS(a) and cnp.PyArray_IS_C_CONTIGUOUS(b))


cdef inline object empty_like(cnp.ndarray a):
    """A new C-contiguous array of a's shape and dtype."""
    return cnp.PyArray_EMPTY(cnp.PyArray_NDIM(a), cnp.PyArray_DIMS(a), cnp.PyArray_TYPE(a), 0)


ctypedef fused real:
    float
    double


# numpy's pairwise summation order (numpy.add.reduce of a contiguous run of a[:n]); numpy applies
# it per inner loop of at most its buffer size, so a typed sum matches numpy's to the bit only up
# to PAIRWISE_EXACT_MAX elements.
cdef enum:
    PAIRWISE_EXACT_MAX = 4096

cdef real pairwise_sum(const real* a, Py_ssize_t n) noexcept nogil
cdef object reduced_to(cnp.ndarray g, cnp.ndarray data)
