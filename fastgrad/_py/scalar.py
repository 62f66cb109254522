"""Scalar autograd: micrograd's Value (twin of csrc/scalar.pyx).

A Value holds ``data`` and ``grad`` (floats), up to two parents ``_a`` and ``_b`` (or tuples, for
a fused neuron), a constant operand ``_c``, an op code ``_code`` and a visit count ``_mark``.
backward() counts each node's consumers, then sweeps the graph from the root, one op code at a
time, without recursion (depth is bounded by memory only).

Semantics are micrograd's: backward() sets the root's grad to 1 and adds into the grad of every
node of the graph, interior ones included, so gradients accumulate across calls until
zero_grad(). ``-`` and ``/`` build micrograd's own nodes (a + (b * -1), a * b**-1), and a
constant operand is folded into its node (micrograd's Value(constant) is a leaf nobody can
reach), so every number is the one micrograd computes.

A fused neuron (neuron_forward, layer_forward) is one node for relu(b + w0*x0 + w1*x1 + ...),
summed in micrograd's order; it keeps the hidden gradients micrograd's intermediate nodes would
hold, from its second backward on, so even repeated backward() calls give micrograd's numbers.
"""
import math
import numbers
import sys

import numpy as np

# Op codes (the compiled module's C enum has the same values: a test checks): codes up to
# LAST_BINARY have two parents (_a, _b), up to LAST_UNARY one (_a).
from fastgrad._shared.scalar import (  # noqa: F401  (LABELS, OPCODES: the module's API)
    ADD,
    ADDC,
    CUSTOM,
    EXP,
    LABELS,
    LAST_BINARY,
    LAST_UNARY,
    LEAF,
    LOG,
    MUL,
    MULC,
    NEURON_LINEAR,
    NEURON_RELU,
    OPCODES,
    POW,
    POWC,
    RELU,
    RPOWC,
    SIGMOID,
    TANH,
    backward_with_graph,
)

_NUMPY_REALS = (np.integer, np.floating)


# ---------------------------------------------------------------------------- the node

class Value:
    """A scalar and its gradient, micrograd's way: ``Value(data)``; ``+ - * / **`` with numbers
    or Values, ``relu() tanh() exp() log() sigmoid()``, ``backward()``."""

    __slots__ = ("data", "grad", "_a", "_b", "_c", "_code", "_mark")

    # numpy scalars (np.int64(-1) * v) defer to Value's reflected operators instead of taking
    # the slow object-array path; ndarrays are handed back to numpy explicitly (_array_op)
    __array_priority__ = 1000.0

    def __init__(self, data, _children=(), _op=''):
        x = _number(data)
        if x is None:
            raise TypeError(f"Value: data must be a real number, got {type(data).__name__} "
                            f"{data!r}")
        self.data = x
        self.grad = 0.0
        self._a = self._b = None
        self._c = 0.0
        self._code = LEAF
        self._mark = 0
        if _children:
            children = tuple(_children)
            for child in children:
                if not isinstance(child, Value):
                    raise TypeError(f"Value: _children must be Values, got "
                                    f"{type(child).__name__}")
            self._a = children
            self._b = str(_op)
            self._code = CUSTOM

    def __repr__(self):
        return f"Value(data={self.data}, grad={self.grad})"

    def __reduce__(self):
        # a Value pickles as a leaf holding its numbers (the graph behind it is not kept)
        grad = self.grad  # a grad Value pickles as its number
        return (leaf, (self.data, grad.data if isinstance(grad, Value) else grad))

    # --- micrograd's inspection attributes (for graph drawing)

    @property
    def _prev(self):
        """The set of parent Values (micrograd's ``_prev``; folded constants are not Values)."""
        return {_parent_at(self, i) for i in range(_parent_count(self))}

    @property
    def _prev_ordered(self):
        """The parent Values as a tuple, in recorded order (a fused neuron's are b, w0, x0, w1,
        x1, ...): ``_prev`` without the set's run-to-run order, for deterministic drawings."""
        code = self._code
        if code == LEAF:
            return ()
        if code <= LAST_BINARY:
            return (self._a, self._b)
        if code <= LAST_UNARY:
            return (self._a,)
        return tuple(_parents(self))

    @property
    def _op(self):
        """The op that made this Value, as micrograd labels it ('+', '*', 'ReLU', '**2', ...)."""
        if self._code == POWC:
            return f"**{_number_label(self._c)}"
        if self._code == RPOWC:
            return f"{_number_label(self._c)}**"
        if self._code == CUSTOM:
            return self._b
        return LABELS[self._code]

    def _backward(self):
        """Add this node's contribution to its parents' grads, from its current grad (the step
        micrograd's ``_backward`` closure takes; backward() runs it on every node)."""
        _backward_step(self)

    # --- gradients

    def backward(self, create_graph=False):
        """Set this Value's grad to 1 and add d(self)/d(node) into every node it depends on;
        with create_graph=True, leaves' grads become Values that differentiate again."""
        if create_graph:
            backward_with_graph(self, sys.modules[__name__])
            return
        self.grad = 1.0
        if self._code != LEAF:
            _sweep(self, _count_consumers(self), apply=True)

    def zero_grad(self):
        """Set grad to 0."""
        self.grad = 0.0

    # --- arithmetic (numbers on either side; anything else is left to the other operand)

    def __add__(self, other):
        if isinstance(other, Value):
            return _binary(ADD, self, other, self.data + other.data)
        c = _number(other)
        if c is None:
            return _array_op(np.add, self, other, False)
        return _with_constant(ADDC, self, c, self.data + c)

    def __radd__(self, other):
        c = _number(other)
        if c is None:
            return _array_op(np.add, self, other, True)
        return _with_constant(ADDC, self, c, self.data + c)

    def __mul__(self, other):
        if isinstance(other, Value):
            return _binary(MUL, self, other, self.data * other.data)
        c = _number(other)
        if c is None:
            return _array_op(np.multiply, self, other, False)
        return _with_constant(MULC, self, c, self.data * c)

    def __rmul__(self, other):
        c = _number(other)
        if c is None:
            return _array_op(np.multiply, self, other, True)
        return _with_constant(MULC, self, c, self.data * c)

    def __neg__(self):
        return _with_constant(MULC, self, -1.0, self.data * -1.0)

    def __sub__(self, other):
        # micrograd: self + (-other)
        if not isinstance(other, Value) and _number(other) is None:
            return _array_op(np.subtract, self, other, False)
        return self + (-other)

    def __rsub__(self, other):
        # micrograd: other + (-self)
        if _number(other) is None:
            return _array_op(np.subtract, self, other, True)
        return (-self) + other

    def __truediv__(self, other):
        # micrograd: self * other**-1 (so a / 3 is a * 0.333..., micrograd's bits: Python
        # computes 3 ** -1 and 3.0 ** -1 with C's pow)
        if isinstance(other, Value):
            c = other.data
        else:
            c = _number(other)
            if c is None:
                return _array_op(np.true_divide, self, other, False)
        if c == 0.0:
            raise ZeroDivisionError(f"Value division by zero: {self!r} / {other!r}")
        if isinstance(other, Value):
            return self * other ** -1
        c = math.pow(c, -1.0)
        return _with_constant(MULC, self, c, self.data * c)

    def __rtruediv__(self, other):
        # micrograd: other * self**-1
        if _number(other) is None:
            return _array_op(np.true_divide, self, other, True)
        if self.data == 0.0:
            raise ZeroDivisionError(f"Value division by zero: {other!r} / {self!r}")
        return (self ** -1) * other

    def __pow__(self, other, mod=None):
        if mod is not None:
            return NotImplemented
        if isinstance(other, Value):
            return _binary(POW, self, other, _checked_pow(self.data, other.data))
        c = _number(other)
        if c is None:
            return _array_op(np.power, self, other, False)
        return _with_constant(POWC, self, c, _checked_pow(self.data, c))

    def __rpow__(self, other, mod=None):
        if mod is not None:
            return NotImplemented
        c = _number(other)
        if c is None:
            return _array_op(np.power, self, other, True)
        return _with_constant(RPOWC, self, c, _checked_pow(c, self.data))

    # --- functions

    def relu(self):
        """max(0, x), as micrograd: 0 if x < 0 else x."""
        return _with_constant(RELU, self, 0.0, 0.0 if self.data < 0 else self.data)

    def tanh(self):
        """tanh(x) (saturates to +-1; never overflows)."""
        return _with_constant(TANH, self, 0.0, math.tanh(self.data))

    def exp(self):
        """e**x (inf past the largest double, as IEEE arithmetic has it)."""
        try:
            data = math.exp(self.data)
        except OverflowError:
            data = math.inf
        return _with_constant(EXP, self, 0.0, data)

    def log(self):
        """The natural logarithm; x must be positive."""
        if self.data <= 0.0:
            raise ValueError(f"Value.log: log is defined for positive numbers only, got "
                             f"{self.data!r}")
        return _with_constant(LOG, self, 0.0, math.log(self.data))

    def sigmoid(self):
        """1 / (1 + e**-x), in a form that never overflows."""
        return _with_constant(SIGMOID, self, 0.0, _sigmoid(self.data))


def leaf(data, grad=0.0):
    """A leaf Value (the inverse of pickling one)."""
    out = _new(Value)
    out.data = float(data)
    out.grad = float(grad)
    out._a = out._b = None
    out._c = 0.0
    out._code = LEAF
    out._mark = 0
    return out


def node_parts(v):
    """(op code, _a, _b, _c) of v: parents (or a neuron's tuples) and its constant, for the
    create_graph backward's rules (fastgrad/_shared/scalar.py)."""
    return (v._code, v._a, v._b, v._c)


# ------------------------------------------------------------------- making nodes

_new = object.__new__


def _binary(code, a, b, data):
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out._a = a
    out._b = b
    out._c = 0.0
    out._code = code
    out._mark = 0
    return out


def _with_constant(code, a, c, data):
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out._a = a
    out._b = None
    out._c = c
    out._code = code
    out._mark = 0
    return out


def _number(x):
    """x as a float if it is a real number (not a Value, not a str), else None."""
    if type(x) is float:
        return x
    if isinstance(x, (int, float)):  # bool, np.float64
        return float(x)  # an int too large for a double raises OverflowError, as in Python
    if isinstance(x, _NUMPY_REALS):  # np.int64(-1) * v in micrograd's demo
        return float(x)
    if isinstance(x, (Value, str, bytes, bytearray)):
        return None
    if isinstance(x, numbers.Real):  # fractions, other registered real types
        return float(x)
    return None


def _array_op(ufunc, v, other, reflected):
    """v op other where other is not a number: an ndarray gets numpy's elementwise
    object-array result (what micrograd's Value gives); anything else is not ours to handle."""
    if not isinstance(other, np.ndarray):
        return NotImplemented
    boxed = np.empty((), dtype=object)
    boxed[()] = v
    return ufunc(other, boxed) if reflected else ufunc(boxed, other)


def _checked_pow(x, c):
    """x ** c as Python floats compute it, except that overflow gives inf, not an error."""
    if x == 0.0 and c < 0.0:
        raise ZeroDivisionError(f"Value: 0.0 cannot be raised to a negative power ({c!r})")
    if x < 0.0 and math.isfinite(c) and c != math.floor(c):
        raise ValueError(f"Value: a negative number ({x!r}) raised to a non-integer power "
                         f"({c!r}) is not a real number")
    return _c_pow(x, c)


def _c_pow(x, y):
    """C's pow(x, y): like x ** y, but +-inf or NaN where Python raises (for the backward)."""
    try:
        return math.pow(x, y)
    except OverflowError:
        return -math.inf if x < 0 and _is_odd(y) else math.inf
    except ValueError:  # 0 ** negative, or negative ** non-integer
        if x == 0.0:
            return math.copysign(math.inf, x) if _is_odd(y) else math.inf
        return math.nan


def _is_odd(y):
    return math.isfinite(y) and y == math.floor(y) and math.fmod(y, 2.0) != 0.0


def _sigmoid(x):
    """1 / (1 + e**-x), with e**-x computed only for x >= 0 so that it cannot overflow."""
    if x >= 0.0:
        z = math.exp(-x)
        return 1.0 / (1.0 + z)
    z = math.exp(x)
    return z / (1.0 + z)


def _number_label(c):
    return int(c) if c == math.floor(c) and -1e15 < c < 1e15 else c


# ---------------------------------------------------------------- graph structure

def _neuron_size(v):
    """How many (w, x) pairs a fused neuron sums: zip(w, x) stops at the shorter."""
    return min(len(v._a) - 1, len(v._b))


def _parent_count(v):
    code = v._code
    if code == LEAF:
        return 0
    if code <= LAST_BINARY:
        return 2
    if code <= LAST_UNARY:
        return 1
    if code == CUSTOM:
        return len(v._a)
    return 2 * _neuron_size(v) + 1


def _parent_at(v, i):
    """Parent i, in recorded order (a neuron's are b, w0, x0, w1, x1, ...)."""
    code = v._code
    if code <= LAST_UNARY:
        return v._a if i == 0 else v._b
    if code == CUSTOM:
        return v._a[i]
    if i == 0:
        return v._a[-1]
    if i % 2:
        return v._a[(i - 1) // 2]
    return v._b[(i - 2) // 2]


# ------------------------------------------------------------------------ backward

# backward() runs in two passes over the interior nodes (leaves have nothing to pass on):
#  1. _count_consumers: each node's _mark becomes the number of its consumers in the graph;
#  2. _sweep: from the root, each node's backward step runs once all its consumers have run
#     (Kahn's algorithm, last ready first), and its parents' counts go down; all end at 0.
# The stacks grow with the graph's width, not its depth.

def _count_consumers(root):
    """Pass 1: set every interior node's _mark to its number of consumers in root's graph;
    return the number of interior nodes."""
    found = 1
    stack = [root]
    while stack:
        for p in _parents(stack.pop()):
            if p._code != LEAF:
                if not p._mark:  # found for the first time
                    stack.append(p)
                    found += 1
                p._mark += 1
    return found


def _sweep(root, found, apply, visited=None):
    """Pass 2: run each node's backward step (or list the nodes in ``visited``) once its
    consumers have run; counts go back to 0."""
    error = None
    ready = [root]
    while ready:
        v = ready.pop()
        if apply:
            try:
                _backward_step(v)
            except BaseException as e:  # keep going without the math, so counts reach 0
                error = e
                apply = False
        elif visited is not None:
            visited.append(v)
        for p in _parents(v):
            if p._code != LEAF:
                p._mark -= 1
                if not p._mark:
                    ready.append(p)
    if error is not None:
        raise error


def graph_order(root):
    """The interior nodes in the order backward() runs their steps, root first (for tests)."""
    visited = []
    if root._code != LEAF:
        _sweep(root, _count_consumers(root), apply=False, visited=visited)
    return visited


def _parents(v):
    """An iterator over v's parents, in the order of _parent_at."""
    code = v._code
    if code <= LAST_BINARY:
        return iter((v._a, v._b)) if code != LEAF else iter(())
    if code <= LAST_UNARY:
        return iter((v._a,))
    if code == CUSTOM:
        return iter(v._a)
    return _neuron_parents(v)


def _neuron_parents(v):
    yield v._a[-1]
    for w, x in zip(v._a[:-1], v._b):
        yield w
        yield x


def _backward_step(v):
    """Add v's contribution, from v.grad, into its parents' grads (micrograd's _backward)."""
    g = v.grad
    a = v._a
    code = v._code
    if code == ADD:
        a.grad += g
        v._b.grad += g
    elif code == MUL:
        b = v._b
        a.grad += b.data * g
        b.grad += a.data * g
    elif code == ADDC:
        a.grad += g
    elif code == MULC:
        a.grad += v._c * g
    elif code == RELU:
        a.grad += (1.0 if v.data > 0 else 0.0) * g
    elif code == TANH:
        a.grad += (1.0 - v.data * v.data) * g
    elif code == NEURON_RELU or code == NEURON_LINEAR:
        _neuron_backward(v)
    elif code == POWC:
        a.grad += (v._c * _c_pow(a.data, v._c - 1.0)) * g
    elif code == EXP:
        a.grad += v.data * g
    elif code == LOG:
        a.grad += g / a.data
    elif code == SIGMOID:
        a.grad += (v.data * (1.0 - v.data)) * g
    elif code == POW:
        b = v._b
        x = a.data
        y = b.data
        a.grad += (y * _c_pow(x, y - 1.0)) * g
        b.grad += _exponent_derivative(x, v.data) * g
    elif code == RPOWC:
        a.grad += _exponent_derivative(v._c, v.data) * g


def _exponent_derivative(base, power):
    """d(base**y)/dy = log(base) * base**y; 0 at base 0 (as PyTorch), NaN for base < 0."""
    if base == 0.0:
        return 0.0
    if base < 0.0 or base != base:
        return math.nan
    return math.log(base) * power


# ------------------------------------------------------------------- fused neurons

class NeuronValue(Value):
    """A fused neuron's output: relu(b + w0*x0 + w1*x1 + ...), or the sum alone, as one node.

    ``_a`` is (w0, ..., b), ``_b`` is (x0, ...). micrograd builds 3n + 1 nodes for it; their
    grads are the same number h after a first backward (``_c`` keeps it), and only a second
    backward through the same graph needs them apart: ``_hidden`` then holds the grads of the
    partial sums s_0 .. s_{n-1} (s_{n-1} = b + ... + w_{n-1}*x_{n-1}) and of the products.
    """

    __slots__ = ("_sweeps", "_hidden")


def _neuron_backward(node):
    """d out/d b, d out/d w_j = x_j * h, d out/d x_j = w_j * h, with h = d out/d act * out.grad
    (micrograd's relu step: (out > 0) * out.grad)."""
    if node._sweeps:
        return _neuron_backward_again(node)
    pack = node._a
    if node._code == NEURON_RELU:
        h = (1.0 if node.data > 0 else 0.0) * node.grad
    else:
        h = node.grad
    pack[-1].grad += h
    for w, x in zip(pack[:-1], node._b):
        w.grad += x.data * h
        x.grad += w.data * h
    node._c = h
    node._sweeps = 1


def _neuron_backward_again(node):
    """A later backward through the node: micrograd's hidden nodes add into their own
    accumulated grads (s_{j-1} += s_j, p_j += s_j), then into b, w and x."""
    n = _neuron_size(node)
    if node._hidden is None:
        node._hidden = [node._c] * (2 * n)
    sums = node._hidden  # sums[0:n], then the products' grads
    if node._code == NEURON_RELU:
        sums[n - 1] += (1.0 if node.data > 0 else 0.0) * node.grad
    else:
        sums[n - 1] = node.grad  # the sum is the node itself
    for j in range(n - 1, 0, -1):
        sums[j - 1] += sums[j]
        sums[n + j] += sums[j]
    sums[n] += sums[0]
    pack = node._a
    pack[-1].grad += sums[0]
    for j, (w, x) in enumerate(zip(pack[:n], node._b)):
        w.grad += x.data * sums[n + j]
        x.grad += w.data * sums[n + j]
    node._sweeps += 1


def _input_tuple(x):
    """x (a list or tuple of Values and numbers) as a tuple of Values, numbers made leaves as
    micrograd's wi*xi would make them; None if x is anything else."""
    if type(x) is not tuple and type(x) is not list:
        return None
    for item in x:
        if not isinstance(item, Value):
            break
    else:
        return tuple(x)
    items = []
    for item in x:
        if not isinstance(item, Value):
            c = _number(item)
            if c is None:
                return None
            item = leaf(c)
        items.append(item)
    return tuple(items)


def _neuron_pack(w, b, n, cached):
    """The tuple (w0, ..., w_{n-1}, b) a fused neuron keeps: ``cached`` if it holds exactly these
    objects, else a new tuple; None if one of them is not a Value."""
    if (type(cached) is tuple and len(cached) == n + 1 and cached[n] is b
            and all(c is wj for c, wj in zip(cached, w))):
        return cached
    pack = tuple(w[:n]) + (b,)
    if not all(isinstance(v, Value) for v in pack):
        return None
    return pack


def _fused_neuron(w, b, xs, relu, cached):
    """One NeuronValue for relu(((b + w0*x0) + w1*x1) + ...), or None if w and b are not
    Values (then micrograd's arithmetic runs instead). ``cached`` is the pack of an earlier call
    (or None): reused if w and b are still the same objects."""
    if not (type(w) is list or type(w) is tuple):
        return None
    n = min(len(w), len(xs))
    if n == 0:
        return None  # sum() of nothing is b itself: micrograd's arithmetic handles it
    pack = _neuron_pack(w, b, n, cached)
    if pack is None:
        return None
    act = b.data
    for wj, xj in zip(pack, xs):
        act = act + wj.data * xj.data
    out = _new(NeuronValue)
    out.grad = 0.0
    out._a = pack
    out._b = xs
    out._c = 0.0
    out._mark = 0
    out._sweeps = 0
    out._hidden = None
    if relu:
        out.data = 0.0 if act < 0 else act
        out._code = NEURON_RELU
    else:
        out.data = act
        out._code = NEURON_LINEAR
    return out


def neuron_forward(w, b, x, nonlin):
    """micrograd's Neuron.__call__: act = sum((wi*xi for wi, xi in zip(w, x)), b), then
    act.relu() if nonlin; one fused node when w, b and x are Values (or numbers in x)."""
    xs = _input_tuple(x)
    if xs is not None:
        out = _fused_neuron(w, b, xs, bool(nonlin), None)
        if out is not None:
            return out
    act = sum((wi * xi for wi, xi in zip(w, x)), b)
    return act.relu() if nonlin else act


def layer_forward(neurons, x, plain_call, packs):
    """[n(x) for n in neurons], each neuron whose class uses ``plain_call`` (Neuron.__call__)
    fused; all of them share one tuple of inputs. ``packs`` (the layer's, kept across calls)
    caches each neuron's (w..., b) tuple."""
    xs = _input_tuple(x)
    out = []
    if len(packs) != len(neurons):
        packs[:] = [None] * len(neurons)
    for i, n in enumerate(neurons):
        v = None
        if xs is not None and type(n).__call__ is plain_call:
            v = _fused_neuron(n.w, n.b, xs, bool(n.nonlin), packs[i])
            if v is not None:
                packs[i] = v._a
        out.append(n(x) if v is None else v)
    return out
