"""Scalar autograd: micrograd's Value as a compiled node (twin: fastgrad/_py/scalar.py).

A Value is a 64-byte object kept out of Python's cyclic garbage collector: C doubles ``data``
and ``grad``, up to two parent links (raw, owned references), a constant operand ``_c``, an op
code and a visit count. Its operators are the type's own number slots, so ``a * b + 1`` runs no
Python frame. backward() counts each node's consumers, then sweeps the graph from the root with a
switch on the op code, without recursion and with scratch memory that grows with the graph's
width, not its depth; freeing a graph is iterative too.

Semantics are micrograd's: backward() sets the root's grad to 1 and adds into the grad of every
node of the graph, interior ones included, so gradients accumulate across calls until
zero_grad(). ``-`` and ``/`` build micrograd's own nodes (a + (b * -1), a * b**-1), and a
constant operand is folded into its node (micrograd's Value(constant) is a leaf nobody can
reach), so every number is the one micrograd computes.

A fused neuron (neuron_forward, layer_forward) is one node for relu(b + w0*x0 + w1*x1 + ...),
summed in micrograd's order; it keeps the hidden gradients micrograd's intermediate nodes would
hold, from its second backward on, so even repeated backward() calls give micrograd's numbers.
"""
cimport cython
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from cpython.object cimport PyTypeObject
from cpython.ref cimport PyObject, Py_XINCREF
from cpython.sequence cimport PySequence_Fast_ITEMS
from cpython.tuple cimport PyTuple_New
from libc.math cimport NAN, exp, floor, isfinite, log, pow, tanh
from libc.stdlib cimport free, malloc, realloc

import numbers
import sys

import numpy as np

from fastgrad._shared.scalar import LABELS, backward_with_graph

cdef extern from "Python.h":
    # borrowed-pointer forms of the C API macros (Cython's own declarations take objects)
    Py_ssize_t refcount "Py_REFCNT" (PyObject* o)
    void decref "Py_DECREF" (PyObject* o)
    PyObject* tuple_item "PyTuple_GET_ITEM" (PyObject* t, Py_ssize_t i)
    Py_ssize_t tuple_size "PyTuple_GET_SIZE" (PyObject* t)
    void tuple_set "PyTuple_SET_ITEM" (PyObject* t, Py_ssize_t i, PyObject* v)
    bint is_exact_tuple "PyTuple_CheckExact" (PyObject* o)
    bint type_check "PyObject_TypeCheck" (PyObject* o, PyTypeObject* t)
    PyObject* type_lookup "_PyType_Lookup" (PyTypeObject* t, object name)
    PyTypeObject* type_of "Py_TYPE" (PyObject* o)


# Op codes, as C constants for the switches below. fastgrad/_shared/scalar.py (the twin's and
# the create_graph rules') has the same names and values (a test checks); the order matters:
# codes up to LAST_BINARY have two parents (_a, _b), up to LAST_UNARY one (_a).
cdef enum:
    LEAF = 0
    ADD = 1          # a + b
    MUL = 2          # a * b
    POW = 3          # a ** b
    LAST_BINARY = 3
    ADDC = 4         # a + c
    MULC = 5         # a * c
    POWC = 6         # a ** c
    RPOWC = 7        # c ** a
    RELU = 8
    TANH = 9
    EXP = 10
    LOG = 11
    SIGMOID = 12
    LAST_UNARY = 12
    NEURON_RELU = 13    # relu(b + w0*x0 + ...): _a = (w0, ..., b), _b = (x0, ...)
    NEURON_LINEAR = 14  # b + w0*x0 + ...
    CUSTOM = 15         # Value(data, _children, _op): _a = children, _b = label; no gradient

OPCODES = {"LEAF": LEAF, "ADD": ADD, "MUL": MUL, "POW": POW, "ADDC": ADDC, "MULC": MULC,
           "POWC": POWC, "RPOWC": RPOWC, "RELU": RELU, "TANH": TANH, "EXP": EXP, "LOG": LOG,
           "SIGMOID": SIGMOID, "NEURON_RELU": NEURON_RELU, "NEURON_LINEAR": NEURON_LINEAR,
           "CUSTOM": CUSTOM}

cdef object Real = numbers.Real
cdef tuple NUMPY_REALS = (np.integer, np.floating)
cdef object ndarray = np.ndarray


# ---------------------------------------------------------------------------- the node

@cython.no_gc  # it links only to its parents: a Value graph is acyclic, the cyclic GC can skip it
cdef class Value:
    """A scalar and its gradient, micrograd's way: ``Value(data)``; ``+ - * / **`` with numbers
    or Values, ``relu() tanh() exp() log() sigmoid()``, ``backward()``."""

    cdef public double data
    cdef double _grad         # the grad (a leaf's grad Value, if any, is in _b: see grad)
    cdef PyObject* _a        # first parent (owned), or a tuple for neurons and custom nodes
    cdef PyObject* _b        # second parent (owned), or a tuple / label
    cdef double _c           # the constant operand; a neuron's hidden gradient after backward
    cdef unsigned char _code
    cdef unsigned int _mark   # during backward(): consumers not yet swept (else 0)

    # numpy scalars (np.int64(-1) * v) defer to Value's reflected operators instead of taking
    # the slow object-array path; ndarrays are handed back to numpy explicitly (array_op)
    __array_priority__ = 1000.0

    def __init__(self, data, _children=(), _op=''):
        cdef double x
        if not as_number(data, &x):
            raise TypeError(f"Value: data must be a real number, got {type(data).__name__} "
                            f"{data!r}")
        release_links(self)
        self.data = x
        self._grad = 0.0
        self._c = 0.0
        self._code = LEAF
        if _children:
            children = tuple(_children)
            for child in children:
                if not isinstance(child, Value):
                    raise TypeError(f"Value: _children must be Values, got "
                                    f"{type(child).__name__}")
            label = str(_op)
            Py_XINCREF(<PyObject*>children)
            Py_XINCREF(<PyObject*>label)
            self._a = <PyObject*>children
            self._b = <PyObject*>label
            self._code = CUSTOM

    def __dealloc__(self):
        if self._a != NULL or self._b != NULL:
            free_parents(self)

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    def __reduce__(self):
        # a Value pickles as a leaf holding its numbers (the graph behind it is not kept)
        return (leaf, (self.data, self._grad))

    # --- micrograd's inspection attributes (for graph drawing)

    @property
    def _prev(self):
        """The set of parent Values (micrograd's ``_prev``; folded constants are not Values)."""
        cdef Py_ssize_t i, n = parent_count(<PyObject*>self)
        return {<object>parent_at(<PyObject*>self, i) for i in range(n)}

    @property
    def _prev_ordered(self):
        """The parent Values as a tuple, in recorded order (a fused neuron's are b, w0, x0, w1,
        x1, ...): ``_prev`` without the set's run-to-run order, for deterministic drawings."""
        cdef Py_ssize_t i, n = parent_count(<PyObject*>self)
        return tuple([<object>parent_at(<PyObject*>self, i) for i in range(n)])

    @property
    def _op(self):
        """The op that made this Value, as micrograd labels it ('+', '*', 'ReLU', '**2', ...)."""
        if self._code == POWC:
            return f"**{number_label(self._c)}"
        if self._code == RPOWC:
            return f"{number_label(self._c)}**"
        if self._code == CUSTOM:
            return <object>self._b
        return LABELS[self._code]

    def _backward(self):
        """Add this node's contribution to its parents' grads, from its current grad (the step
        micrograd's ``_backward`` closure takes; backward() runs it on every node)."""
        backward_step(<PyObject*>self)

    # --- gradients

    @property
    def grad(self):
        """d(root)/d(self), summed over backward() calls: a float, or for a leaf after
        backward(create_graph=True) a Value carrying the graph of its computation."""
        if self._code == LEAF and self._b != NULL:
            return graph_grad(self)
        return self._grad

    @grad.setter
    def grad(self, value):
        cdef double x
        if type(value) is float:
            x = <double>value
        elif isinstance(value, Value):
            set_graph_grad(self, <Value>value)
            return
        elif not as_number(value, &x):
            raise TypeError(f"Value.grad: must be a real number or a Value, got "
                            f"{type(value).__name__} {value!r}")
        if self._code == LEAF and self._b != NULL:
            clear_graph_grad(self)
        self._grad = x

    def backward(self, create_graph=False):
        """Set this Value's grad to 1 and add d(self)/d(node) into every node it depends on;
        with create_graph=True, leaves' grads become Values that differentiate again."""
        if create_graph:
            backward_with_graph(self, sys.modules[__name__])
            return
        run_backward(self, None)

    def zero_grad(self):
        """Set grad to 0."""
        if self._code == LEAF and self._b != NULL:
            clear_graph_grad(self)
        self._grad = 0.0

    # --- arithmetic (numbers on either side; anything else is left to the other operand)

    def __add__(self, other):
        cdef double c
        if isinstance(other, Value):
            return binary(ADD, self, <Value>other, self.data + (<Value>other).data)
        if not as_number(other, &c):
            return array_op(np.add, self, other, False)
        return with_constant(ADDC, self, c, self.data + c)

    def __radd__(self, other):
        cdef double c
        if not as_number(other, &c):
            return array_op(np.add, self, other, True)
        return with_constant(ADDC, self, c, self.data + c)

    def __mul__(self, other):
        cdef double c
        if isinstance(other, Value):
            return binary(MUL, self, <Value>other, self.data * (<Value>other).data)
        if not as_number(other, &c):
            return array_op(np.multiply, self, other, False)
        return with_constant(MULC, self, c, self.data * c)

    def __rmul__(self, other):
        cdef double c
        if not as_number(other, &c):
            return array_op(np.multiply, self, other, True)
        return with_constant(MULC, self, c, self.data * c)

    def __neg__(self):
        return with_constant(MULC, self, -1.0, self.data * -1.0)

    def __sub__(self, other):
        # micrograd: self + (-other)
        cdef double c
        if isinstance(other, Value):
            return self + (-other)
        if not as_number(other, &c):
            return array_op(np.subtract, self, other, False)
        return self + (-other)

    def __rsub__(self, other):
        # micrograd: other + (-self)
        cdef double c
        if not as_number(other, &c):
            return array_op(np.subtract, self, other, True)
        return (-self) + other

    def __truediv__(self, other):
        # micrograd: self * other**-1 (so a / 3 is a * 0.333..., micrograd's bits: Python
        # computes 3 ** -1 and 3.0 ** -1 with C's pow)
        cdef double c
        if isinstance(other, Value):
            c = (<Value>other).data
        elif not as_number(other, &c):
            return array_op(np.true_divide, self, other, False)
        if c == 0.0:
            raise ZeroDivisionError(f"Value division by zero: {self!r} / {other!r}")
        if isinstance(other, Value):
            return self * (<Value>other ** -1)
        c = pow(c, -1.0)
        return with_constant(MULC, self, c, self.data * c)

    def __rtruediv__(self, other):
        # micrograd: other * self**-1
        cdef double c
        if not as_number(other, &c):
            return array_op(np.true_divide, self, other, True)
        if self.data == 0.0:
            raise ZeroDivisionError(f"Value division by zero: {other!r} / {self!r}")
        return (self ** -1) * other

    def __pow__(self, other, mod):
        cdef double c
        if mod is not None:
            return NotImplemented
        if isinstance(other, Value):
            return binary(POW, self, <Value>other,
                          checked_pow(self.data, (<Value>other).data))
        if not as_number(other, &c):
            return array_op(np.power, self, other, False)
        return with_constant(POWC, self, c, checked_pow(self.data, c))

    def __rpow__(self, other, mod):
        cdef double c
        if mod is not None:
            return NotImplemented
        if not as_number(other, &c):
            return array_op(np.power, self, other, True)
        return with_constant(RPOWC, self, c, checked_pow(c, self.data))

    # --- functions

    def relu(self):
        """max(0, x), as micrograd: 0 if x < 0 else x."""
        return with_constant(RELU, self, 0.0, 0.0 if self.data < 0 else self.data)

    def tanh(self):
        """tanh(x) (saturates to +-1; never overflows)."""
        return with_constant(TANH, self, 0.0, tanh(self.data))

    def exp(self):
        """e**x (inf past the largest double, as IEEE arithmetic has it)."""
        return with_constant(EXP, self, 0.0, exp(self.data))

    def log(self):
        """The natural logarithm; x must be positive."""
        if self.data <= 0.0:
            raise ValueError(f"Value.log: log is defined for positive numbers only, got "
                             f"{self.data!r}")
        return with_constant(LOG, self, 0.0, log(self.data))

    def sigmoid(self):
        """1 / (1 + e**-x), in a form that never overflows."""
        return with_constant(SIGMOID, self, 0.0, sigmoid(self.data))


cdef PyTypeObject* VALUE_TYPE = <PyTypeObject*>Value


def leaf(double data, double grad=0.0):
    """A leaf Value (the inverse of pickling one)."""
    cdef Value out = Value.__new__(Value)
    out.data = data
    out._grad = grad
    return out


def node_parts(Value v):
    """(op code, _a, _b, _c) of v: parents (or a neuron's tuples) and its constant, for the
    create_graph backward's rules (fastgrad/_shared/scalar.py)."""
    if v._code == LEAF:
        return (LEAF, None, None, v._c)
    return (v._code, <object>v._a if v._a != NULL else None,
            <object>v._b if v._b != NULL else None, v._c)


# A leaf's grad can be a Value (after backward(create_graph=True)): it is kept, owned, in the
# leaf's _b (which a leaf does not use otherwise), and _grad holds its number, so first-order
# sweeps keep adding into a C double. When they have (_grad differs from the Value's number),
# reading grad folds what they added into the Value: grad + (added), as PyTorch accumulates.

cdef object graph_grad(Value v):
    cdef Value g = <Value>v._b
    if v._grad == g.data or (v._grad != v._grad and g.data != g.data):
        return g
    g = g + (v._grad - g.data)
    set_graph_grad(v, g)
    return g


cdef int set_graph_grad(Value v, Value g) except -1:
    if v._code != LEAF:
        raise TypeError(f"Value.grad: only a leaf's grad can be a Value (this node was made by "
                        f"{v._op!r}; interior nodes keep float grads)")
    Py_XINCREF(<PyObject*>g)
    clear_graph_grad(v)
    v._b = <PyObject*>g
    v._grad = g.data
    return 0


cdef void clear_graph_grad(Value v) noexcept:
    cdef PyObject* g = v._b
    v._b = NULL
    if g != NULL:
        decref(g)  # may free the grad's graph: Value's own deallocation is iterative


# ------------------------------------------------------------------- making nodes

cdef inline Value new_node(int code, double data):
    cdef Value out = Value.__new__(Value)  # zeroed: grad 0, no parents, not marked
    out.data = data
    out._code = code
    return out


cdef inline Value binary(int code, Value a, Value b, double data):
    cdef Value out = new_node(code, data)
    Py_XINCREF(<PyObject*>a)
    Py_XINCREF(<PyObject*>b)
    out._a = <PyObject*>a
    out._b = <PyObject*>b
    return out


cdef inline Value with_constant(int code, Value a, double c, double data):
    cdef Value out = new_node(code, data)
    Py_XINCREF(<PyObject*>a)
    out._a = <PyObject*>a
    out._c = c
    return out


cdef inline bint as_number(object x, double* out) except -1:
    """Store x as a double and return True if x is a real number (not a Value, not a str)."""
    if type(x) is float:
        out[0] = <double>x
        return True
    if isinstance(x, int) or isinstance(x, float):  # bool, np.float64
        out[0] = float(x)  # an int too large for a double raises OverflowError, as in Python
        return True
    if isinstance(x, NUMPY_REALS):  # np.int64(-1) * v in micrograd's demo
        out[0] = float(x)
        return True
    if isinstance(x, (Value, str, bytes, bytearray)):
        return False
    if isinstance(x, Real):  # fractions, other registered real types
        out[0] = float(x)
        return True
    return False


cdef object array_op(object ufunc, Value v, object other, bint reflected):
    """v op other where other is not a number: an ndarray gets numpy's elementwise
    object-array result (what micrograd's Value gives); anything else is not ours to handle."""
    if not isinstance(other, ndarray):
        return NotImplemented
    boxed = np.empty((), dtype=object)
    boxed[()] = v
    return ufunc(other, boxed) if reflected else ufunc(boxed, other)


cdef double checked_pow(double x, double c) except? -1.0:
    """x ** c as Python floats compute it, except that overflow gives inf, not an error."""
    if x == 0.0 and c < 0.0:
        raise ZeroDivisionError(f"Value: 0.0 cannot be raised to a negative power ({c!r})")
    if x < 0.0 and isfinite(c) and c != floor(c):
        raise ValueError(f"Value: a negative number ({x!r}) raised to a non-integer power "
                         f"({c!r}) is not a real number")
    return pow(x, c)


@cython.cdivision(True)  # IEEE division (x/0 is inf or nan, as numpy's), in every build
cdef inline double sigmoid(double x) noexcept nogil:
    """1 / (1 + e**-x), with e**-x computed only for x >= 0 so that it cannot overflow."""
    cdef double z
    if x >= 0.0:
        z = exp(-x)
        return 1.0 / (1.0 + z)
    z = exp(x)
    return z / (1.0 + z)


cdef object number_label(double c):
    return int(c) if c == floor(c) and -1e15 < c < 1e15 else c


# ---------------------------------------------------------------- graph structure

cdef inline Py_ssize_t neuron_size(PyObject* v) noexcept:
    """How many (w, x) pairs a fused neuron sums: zip(w, x) stops at the shorter."""
    cdef Py_ssize_t nw = tuple_size((<Value>v)._a) - 1
    cdef Py_ssize_t nx = tuple_size((<Value>v)._b)
    return nw if nw < nx else nx


cdef inline Py_ssize_t parent_count(PyObject* v) noexcept:
    cdef int code = (<Value>v)._code
    if code == LEAF:
        return 0
    if code <= LAST_BINARY:
        return 2
    if code <= LAST_UNARY:
        return 1
    if code == CUSTOM:
        return tuple_size((<Value>v)._a)
    return 2 * neuron_size(v) + 1


cdef inline PyObject* parent_at(PyObject* v, Py_ssize_t i) noexcept:
    """Parent i, in recorded order (a neuron's are b, w0, x0, w1, x1, ...)."""
    cdef int code = (<Value>v)._code
    if code <= LAST_UNARY:
        return (<Value>v)._a if i == 0 else (<Value>v)._b
    if code == CUSTOM:
        return tuple_item((<Value>v)._a, i)
    if i == 0:
        return tuple_item((<Value>v)._a, tuple_size((<Value>v)._a) - 1)
    if i % 2:
        return tuple_item((<Value>v)._a, (i - 1) // 2)
    return tuple_item((<Value>v)._b, (i - 2) // 2)


# ------------------------------------------------------------------------ backward

# backward() runs in two passes over the interior nodes (leaves have nothing to pass on):
#  1. count_consumers: each node's _mark becomes the number of its consumers in the graph;
#  2. sweep: from the root, each node's backward step runs once all its consumers have run
#     (Kahn's algorithm, last ready first), and its parents' counts go down; all end at 0.
# The scratch stacks grow with the graph's width, not its depth: a chain 10^7 deep needs a few
# entries, and its nodes are the only memory backward touches.

cdef struct NodeStack:
    PyObject** items   # borrowed: the root keeps the graph alive
    Py_ssize_t size
    Py_ssize_t capacity


cdef bint stack_push(NodeStack* stack, PyObject* p) noexcept:
    """Push p; False if there is no memory to grow the stack."""
    cdef Py_ssize_t capacity
    cdef PyObject** grown
    if stack.size == stack.capacity:
        capacity = 2 * stack.capacity if stack.capacity else 256
        grown = <PyObject**>realloc(stack.items, capacity * sizeof(PyObject*))
        if grown == NULL:
            return False
        stack.items = grown
        stack.capacity = capacity
    stack.items[stack.size] = p
    stack.size += 1
    return True


cdef enum:  # what visit_parents does to each interior parent
    COUNT = 0     # pass 1: count one more consumer; push it when found for the first time
    RESET = 1     # after a failure in pass 1: set its count back to 0
    RELEASE = 2   # pass 2: one consumer less; push it when none is left


cdef inline bint visit(PyObject* p, int mode, NodeStack* stack, Py_ssize_t* found) noexcept:
    """One parent; False if the stack could not grow."""
    if (<Value>p)._code == LEAF:
        return True
    if mode == COUNT:
        if (<Value>p)._mark == 0:  # found for the first time
            if not stack_push(stack, p):
                return False
            found[0] += 1
        (<Value>p)._mark += 1
    elif mode == RESET:
        if (<Value>p)._mark:
            (<Value>p)._mark = 0
            return stack_push(stack, p)
    else:
        (<Value>p)._mark -= 1
        if (<Value>p)._mark == 0:
            stack.items[stack.size] = p  # sized for every node: never grows
            stack.size += 1
    return True


cdef inline bint visit_parents(PyObject* v, int mode, NodeStack* stack,
                               Py_ssize_t* found) noexcept:
    """visit() v's parents in recorded order (a neuron's are b, w0, x0, w1, x1, ...)."""
    cdef int code = (<Value>v)._code
    cdef PyObject* pack
    cdef PyObject* xs
    cdef Py_ssize_t j, n
    if code <= LAST_UNARY:
        if code == LEAF:
            return True
        if not visit((<Value>v)._a, mode, stack, found):
            return False
        return code > LAST_BINARY or visit((<Value>v)._b, mode, stack, found)
    if code == CUSTOM:
        for j in range(tuple_size((<Value>v)._a)):
            if not visit(tuple_item((<Value>v)._a, j), mode, stack, found):
                return False
        return True
    pack = (<Value>v)._a
    xs = (<Value>v)._b
    n = neuron_size(v)
    if not visit(tuple_item(pack, tuple_size(pack) - 1), mode, stack, found):
        return False
    for j in range(n):
        if not (visit(tuple_item(pack, j), mode, stack, found)
                and visit(tuple_item(xs, j), mode, stack, found)):
            return False
    return True


cdef Py_ssize_t count_consumers(Value root, NodeStack* stack) except -1:
    """Pass 1: set every interior node's _mark to its number of consumers in root's graph;
    return the number of interior nodes."""
    cdef Py_ssize_t found = 1
    stack.size = 0
    if not stack_push(stack, <PyObject*>root):
        raise MemoryError("Value.backward: out of memory")
    while stack.size:
        stack.size -= 1
        if not visit_parents(stack.items[stack.size], COUNT, stack, &found):
            reset_counts(root, stack)
            raise MemoryError("Value.backward: out of memory")
    return found


cdef int reset_counts(Value root, NodeStack* stack) except -1:
    """Set every count back to 0 after a failed pass 1 (every node pass 1 counted is reached
    from the root through nodes whose count is not 0)."""
    cdef Py_ssize_t unused = 0
    stack.size = 0
    stack_push(stack, <PyObject*>root)  # its capacity is at least 1 by now
    while stack.size:
        stack.size -= 1
        if not visit_parents(stack.items[stack.size], RESET, stack, &unused):
            raise MemoryError("Value.backward: out of memory, and the graph's visit counts "
                              "could not be reset: do not call backward() on this graph again")
    return 0


cdef int sweep(Value root, Py_ssize_t found, NodeStack* stack, list visited) except -1:
    """Pass 2: run each node's backward step (or, with ``visited``, list the nodes instead)
    once its consumers have run; counts go back to 0."""
    cdef NodeStack ready
    cdef PyObject* v
    cdef bint apply = visited is None
    error = None
    ready.items = <PyObject**>malloc(found * sizeof(PyObject*))  # its pages are touched as used
    if ready.items == NULL:
        reset_counts(root, stack)
        raise MemoryError("Value.backward: out of memory")
    ready.capacity = found  # each node is ready once
    ready.items[0] = <PyObject*>root
    ready.size = 1
    while ready.size:
        ready.size -= 1
        v = ready.items[ready.size]
        if apply:
            try:
                backward_step(v)
            except BaseException as e:  # keep going without the math, so counts reach 0
                error = e
                apply = False
        elif visited is not None:
            visited.append(<object>v)
        visit_parents(v, RELEASE, &ready, NULL)
    free(ready.items)
    if error is not None:
        raise error
    return 0


cdef int run_backward(Value root, list visited) except -1:
    cdef NodeStack stack
    cdef Py_ssize_t found
    if visited is None:
        root._grad = 1.0
    if root._code == LEAF:
        if visited is None and root._b != NULL:
            clear_graph_grad(root)  # backward() of a leaf sets its grad to 1, graph or not
        return 0
    stack.items = NULL
    stack.size = stack.capacity = 0
    try:
        found = count_consumers(root, &stack)
        sweep(root, found, &stack, visited)
    finally:
        free(stack.items)
    return 0


def graph_order(Value root):
    """The interior nodes in the order backward() runs their steps, root first (for tests)."""
    visited = []
    run_backward(root, visited)
    return visited


cdef int backward_step(PyObject* v) except -1:
    """Add v's contribution, from v.grad, into its parents' grads (micrograd's _backward)."""
    cdef Value node = <Value>v
    cdef double g = node._grad, x, y, d
    cdef PyObject* a = node._a
    cdef PyObject* b = node._b
    cdef int code = node._code
    if code == ADD:
        (<Value>a)._grad += g
        (<Value>b)._grad += g
    elif code == MUL:
        (<Value>a)._grad += (<Value>b).data * g
        (<Value>b)._grad += (<Value>a).data * g
    elif code == ADDC:
        (<Value>a)._grad += g
    elif code == MULC:
        (<Value>a)._grad += node._c * g
    elif code == RELU:
        (<Value>a)._grad += (1.0 if node.data > 0 else 0.0) * g
    elif code == TANH:
        (<Value>a)._grad += (1.0 - node.data * node.data) * g
    elif code == NEURON_RELU or code == NEURON_LINEAR:
        neuron_backward(<NeuronValue>v)
    elif code == POWC:
        x = (<Value>a).data
        (<Value>a)._grad += (node._c * pow(x, node._c - 1.0)) * g
    elif code == EXP:
        (<Value>a)._grad += node.data * g
    elif code == LOG:
        (<Value>a)._grad += g / (<Value>a).data
    elif code == SIGMOID:
        (<Value>a)._grad += (node.data * (1.0 - node.data)) * g
    elif code == POW:
        x = (<Value>a).data
        y = (<Value>b).data
        (<Value>a)._grad += (y * pow(x, y - 1.0)) * g
        (<Value>b)._grad += exponent_derivative(x, node.data) * g
    elif code == RPOWC:
        (<Value>a)._grad += exponent_derivative(node._c, node.data) * g
    return 0


cdef inline double exponent_derivative(double base, double power) noexcept nogil:
    """d(base**y)/dy = log(base) * base**y; 0 at base 0 (as PyTorch), NaN for base < 0."""
    if base == 0.0:
        return 0.0
    if base < 0.0:
        return NAN
    return log(base) * power


# ------------------------------------------------------------------- fused neurons

@cython.no_gc
cdef class NeuronValue(Value):
    """A fused neuron's output: relu(b + w0*x0 + w1*x1 + ...), or the sum alone, as one node.

    ``_a`` is (w0, ..., b), ``_b`` is (x0, ...). micrograd builds 3n + 1 nodes for it; their
    grads are the same number h after a first backward (``_c`` keeps it), and only a second
    backward through the same graph needs them apart: ``_hidden`` then holds the grads of the
    partial sums s_0 .. s_{n-1} (s_{n-1} = b + ... + w_{n-1}*x_{n-1}) and of the products.
    """
    cdef int _sweeps
    cdef double* _hidden

    def __dealloc__(self):
        PyMem_Free(self._hidden)


cdef int neuron_backward(NeuronValue node) except -1:
    """d out/d b, d out/d w_j = x_j * h, d out/d x_j = w_j * h, with h = d out/d act * out.grad
    (micrograd's relu step: (out > 0) * out.grad)."""
    cdef PyObject* pack = node._a
    cdef PyObject* xs = node._b
    cdef Py_ssize_t n = neuron_size(<PyObject*>node), j
    cdef PyObject* bias = tuple_item(pack, tuple_size(pack) - 1)
    cdef PyObject* w
    cdef PyObject* x
    cdef double h
    if node._sweeps:
        return neuron_backward_again(node, n)
    h = (1.0 if node.data > 0 else 0.0) * node._grad if node._code == NEURON_RELU else node._grad
    (<Value>bias)._grad += h
    for j in range(n):
        w = tuple_item(pack, j)
        x = tuple_item(xs, j)
        (<Value>w)._grad += (<Value>x).data * h
        (<Value>x)._grad += (<Value>w).data * h
    node._c = h
    node._sweeps = 1
    return 0


cdef int neuron_backward_again(NeuronValue node, Py_ssize_t n) except -1:
    """A later backward through the node: micrograd's hidden nodes add into their own
    accumulated grads (s_{j-1} += s_j, p_j += s_j), then into b, w and x."""
    cdef PyObject* pack = node._a
    cdef PyObject* xs = node._b
    cdef PyObject* bias = tuple_item(pack, tuple_size(pack) - 1)
    cdef PyObject* w
    cdef PyObject* x
    cdef double* sums
    cdef double* products
    cdef Py_ssize_t j
    if node._hidden == NULL:
        node._hidden = <double*>PyMem_Malloc(2 * n * sizeof(double))  # traced by tracemalloc
        if node._hidden == NULL:
            raise MemoryError("Value.backward: out of memory")
        for j in range(2 * n):
            node._hidden[j] = node._c
    sums = node._hidden
    products = node._hidden + n
    if node._code == NEURON_RELU:
        sums[n - 1] += (1.0 if node.data > 0 else 0.0) * node._grad
    else:
        sums[n - 1] = node._grad  # the sum is the node itself
    j = n - 1
    while j > 0:
        sums[j - 1] += sums[j]
        products[j] += sums[j]
        j -= 1
    products[0] += sums[0]
    (<Value>bias)._grad += sums[0]
    for j in range(n):
        w = tuple_item(pack, j)
        x = tuple_item(xs, j)
        (<Value>w)._grad += (<Value>x).data * products[j]
        (<Value>x)._grad += (<Value>w).data * products[j]
    node._sweeps += 1
    return 0


cdef tuple input_tuple(object x):
    """x (a list or tuple of Values and numbers) as a tuple of Values, numbers made leaves as
    micrograd's wi*xi would make them; None if x is anything else."""
    cdef tuple xs
    cdef Py_ssize_t i, n
    cdef double c
    if type(x) is tuple:
        xs = <tuple>x
    elif type(x) is list:
        xs = tuple(<list>x)
    else:
        return None
    n = len(xs)
    for i in range(n):
        if not isinstance(xs[i], Value):
            break
    else:
        return xs
    items = list(xs)
    for i in range(n):
        if not isinstance(items[i], Value):
            if not as_number(items[i], &c):
                return None
            items[i] = leaf(c)
    return tuple(items)


cdef object neuron_pack(object w, object b, Py_ssize_t n, object cached):
    """The tuple (w0, ..., w_{n-1}, b) a fused neuron keeps: ``cached`` if it holds exactly these
    objects, else a new tuple; None if one of them is not a Value."""
    cdef PyObject** ws = PySequence_Fast_ITEMS(w)
    cdef Py_ssize_t j
    cdef tuple pack
    if type(cached) is tuple and len(<tuple>cached) == n + 1:
        for j in range(n):
            if tuple_item(<PyObject*>cached, j) != ws[j]:
                break
        else:
            if tuple_item(<PyObject*>cached, n) == <PyObject*>b:
                return cached
    if not isinstance(b, Value):
        return None
    for j in range(n):
        if not type_check(ws[j], VALUE_TYPE):
            return None
    pack = PyTuple_New(n + 1)
    for j in range(n):
        Py_XINCREF(ws[j])
        tuple_set(<PyObject*>pack, j, ws[j])
    Py_XINCREF(<PyObject*>b)
    tuple_set(<PyObject*>pack, n, <PyObject*>b)
    return pack


cdef object fused_neuron(object w, object b, tuple xs, bint relu, object cached):
    """One NeuronValue for relu(((b + w0*x0) + w1*x1) + ...), or None if w and b are not
    Values (then micrograd's arithmetic runs instead). ``cached`` is the pack of an earlier call
    (or None): reused if w and b are still the same objects."""
    cdef Py_ssize_t n = len(xs), j
    cdef double act
    cdef PyObject* pack
    cdef NeuronValue out
    if not (type(w) is list or type(w) is tuple):
        return None
    if len(w) < n:
        n = len(w)
    if n == 0:
        return None  # sum() of nothing is b itself: micrograd's arithmetic handles it
    packed = neuron_pack(w, b, n, cached)
    if packed is None:
        return None
    pack = <PyObject*>packed
    act = (<Value>b).data
    for j in range(n):
        act = act + (<Value>tuple_item(pack, j)).data * (<Value>tuple_item(<PyObject*>xs, j)).data
    out = NeuronValue.__new__(NeuronValue)
    if relu:
        out.data = 0.0 if act < 0 else act
        out._code = NEURON_RELU
    else:
        out.data = act
        out._code = NEURON_LINEAR
    Py_XINCREF(pack)
    Py_XINCREF(<PyObject*>xs)
    out._a = pack
    out._b = <PyObject*>xs
    return out


def neuron_forward(w, b, x, nonlin):
    """micrograd's Neuron.__call__: act = sum((wi*xi for wi, xi in zip(w, x)), b), then
    act.relu() if nonlin; one fused node when w, b and x are Values (or numbers in x)."""
    xs = input_tuple(x)
    if xs is not None:
        out = fused_neuron(w, b, xs, bool(nonlin), None)
        if out is not None:
            return out
    act = sum((wi * xi for wi, xi in zip(w, x)), b)
    return act.relu() if nonlin else act


cdef str CALL = "__call__"


def layer_forward(list neurons, x, plain_call, list packs):
    """[n(x) for n in neurons], each neuron whose class uses ``plain_call`` (Neuron.__call__)
    fused; all of them share one tuple of inputs. ``packs`` (the layer's, kept across calls)
    caches each neuron's (w..., b) tuple."""
    cdef Py_ssize_t i, count = len(neurons)
    xs = input_tuple(x)
    out = []
    if len(packs) != count:
        packs[:] = [None] * count
    for i in range(count):
        n = neurons[i]
        v = None
        if xs is not None and type_lookup(type_of(<PyObject*>n), CALL) == <PyObject*>plain_call:
            v = fused_neuron(n.w, n.b, xs, bool(n.nonlin), packs[i])
            if v is not None and (<Value>v)._a != <PyObject*>packs[i]:
                packs[i] = <object>(<Value>v)._a
        out.append(n(x) if v is None else v)
    return out


# -------------------------------------------------------------------- deallocation

cdef struct Pending:
    PyObject** items   # owned: nodes whose last reference this loop holds
    Py_ssize_t size
    Py_ssize_t capacity
    bint on_heap


cdef bint push(Pending* pending, PyObject* p) noexcept:
    cdef PyObject** grown
    cdef Py_ssize_t i
    if pending.size == pending.capacity:
        if pending.on_heap:
            grown = <PyObject**>realloc(pending.items, 2 * pending.capacity * sizeof(PyObject*))
        else:
            grown = <PyObject**>malloc(2 * pending.capacity * sizeof(PyObject*))
            if grown != NULL:
                for i in range(pending.size):
                    grown[i] = pending.items[i]
        if grown == NULL:
            return False
        pending.items = grown
        pending.capacity *= 2
        pending.on_heap = True
    pending.items[pending.size] = p
    pending.size += 1
    return True


cdef void drop(PyObject* p, Pending* pending, bint unpack) noexcept:
    """Give up one reference to p; a Value that would die is queued instead, so that its own
    parents are released by the loop in free_parents and not by a nested deallocation."""
    cdef Py_ssize_t i
    cdef PyObject* item
    if p == NULL:
        return
    if refcount(p) == 1:
        if type_check(p, VALUE_TYPE):
            if push(pending, p):
                return
        elif unpack and is_exact_tuple(p):  # a neuron's (w..., b) or (x...)
            for i in range(tuple_size(p)):
                item = tuple_item(p, i)
                tuple_set(p, i, NULL)
                drop(item, pending, False)
    decref(p)


cdef inline void detach(PyObject* node, Pending* pending) noexcept:
    cdef PyObject* a = (<Value>node)._a
    cdef PyObject* b = (<Value>node)._b
    (<Value>node)._a = NULL
    (<Value>node)._b = NULL
    drop(a, pending, True)
    drop(b, pending, True)


cdef void free_parents(Value node) noexcept:
    """Release node's parents iteratively: freeing a chain 10^7 deep must not recurse in C."""
    cdef PyObject* local[64]
    cdef Pending pending
    cdef PyObject* q
    pending.items = local
    pending.size = 0
    pending.capacity = 64
    pending.on_heap = False
    detach(<PyObject*>node, &pending)
    while pending.size:
        pending.size -= 1
        q = pending.items[pending.size]
        detach(q, &pending)
        decref(q)  # q has no parents left: its deallocation goes no deeper
    if pending.on_heap:
        free(pending.items)


cdef void release_links(Value node) noexcept:
    if node._a != NULL or node._b != NULL:
        free_parents(node)
