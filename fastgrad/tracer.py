"""Traced values, with HIPS autograd's names (autograd.tracer).

In autograd a traced value is a ``Box`` wrapping the plain value; in fastgrad it is a Tensor
(an array that records the ops applied to it) that requires grad. The names behave as autograd
user code expects:

- ``isbox(x)``: x is a traced value (also ``isinstance(x, Box)``);
- ``getval(x)``: the plain numpy array under a traced value (x itself otherwise);
- ``primitive`` / ``notrace_primitive`` / ``register_notrace``: fastgrad.extend's.

User types, autograd's way: ``MyBox.register(MyType)`` (``class MyBox(Box, MyType)``) with
``MyVSpace.register(MyType)`` makes arguments of type MyType differentiable. Inside ``grad`` such an
argument is a MyBox instance whose ``_value`` is the argument; it is traced through primitives
(``@primitive`` functions whose VJP for that argument returns a MyType gradient), and the gradient
is the sum of those VJPs in the argument's space (``vspace(x).add``), ``vspace(x).zeros()`` when
none arrives. First order only: a user type is not differentiated again (nested ``grad``,
``hessian``, forward mode), which raises naming the type.

How it rides on the engine (which carries float arrays): each boxed argument has a 0-d
float leaf in the graph, the parent of every primitive node the box enters. The box collects the
VJPs' MyType values itself; the leaf receives, once per sweep, the box's token (a positive
integer as a float, zeros otherwise), from which the gradient is found when the argument's
gradient is given back.

``trace(start_node, fun, x)`` with a user subclass of ``Node`` (autograd's way of writing a
tracer of one's own, e.g. one that prints or draws the evaluation): fastgrad records ``fun(x)``'s
graph with x traced, then makes one ``Node`` per recorded op that depends on x, parents first,
with autograd's constructor arguments (value, fun, args, kwargs, parent_argnums, parents).
A ``grad`` inside ``fun`` contributes its function's evaluation too (then its gradient's ops),
as autograd's trace shows them. The nodes are made once ``fun`` has returned, not while it
runs; ``fun.__name__`` is numpy's name of the op (``multiply``, ``sin``, ...; fastgrad records
``x - c`` as ``add(x, -c)``) or the primitive's.
"""
import functools
import itertools
import threading
import weakref

import numpy as np

from . import _backend, extend
from ._py.opcodes import OP_CUSTOM, OP_LEAF
from .extend import node_types, notrace_primitive, primitive, register_notrace

__all__ = ["Box", "Node", "getval", "isbox", "notrace_primitive", "primitive",
           "record_graph", "register_notrace", "trace"]


def isbox(x):
    """True when ``x`` is a traced value (a Tensor that requires grad, or a box of a user
    type)."""
    if type(x) in extend.USER_BOX_TYPES:
        return True
    return isinstance(x, node_types()) and bool(x.requires_grad)


def getval(x):
    """The plain value of ``x``: a traced value's numpy array (0-d arrays as they are), a
    user type's box's value, anything else unchanged."""
    if isinstance(x, node_types()):
        return x.data
    if type(x) in extend.USER_BOX_TYPES:
        return x._value
    return x


class _BoxType(type):
    # Box itself stands for every traced value (Tensors included); its subclasses (the boxes
    # of user types) are ordinary classes
    def __instancecheck__(cls, x):
        if cls is Box:
            return isbox(x)
        return type.__instancecheck__(cls, x)

    def __subclasscheck__(cls, sub):
        if cls is Box:
            return type.__subclasscheck__(cls, sub) or issubclass(sub, node_types())
        return type.__subclasscheck__(cls, sub)


# Box.register: value type -> its box class
_BOX_CLASSES = {}
# token -> box, for the boxes whose graphs are alive (see the module docstring)
_LIVE_BOXES = weakref.WeakValueDictionary()
_tokens = itertools.count(1)
# types fastgrad traces by itself; registering them changes nothing
_NATIVE = (np.ndarray, float, complex, np.floating, np.complexfloating, list, tuple, dict)


class Box(metaclass=_BoxType):
    """The type of traced values: ``isinstance(x, Box)`` is ``isbox(x)``. fastgrad makes
    traced values itself, inside ``grad`` and its relatives; ``MyBox.register(MyType)``
    makes MyType differentiable (see the module docstring). A box of a user type has
    autograd's attributes ``_value`` (the value it stands for), ``_node`` and ``_trace``."""

    def __new__(cls, *args, **kwargs):
        raise TypeError(f"{cls.__name__}: traced values are made by grad (and the other "
                        f"differentiation functions), not by hand")

    @classmethod
    def register(cls, value_type):
        """Trace arguments of ``value_type`` as instances of this box class (give the type
        a vector space with ``VSpace.register`` too)."""
        if not isinstance(value_type, type):
            raise TypeError(f"{cls.__name__}.register: expected a type, not {value_type!r}")
        if issubclass(value_type, _NATIVE):
            return  # traced already, as Tensors
        if cls is not Box and not issubclass(cls, value_type):
            raise TypeError(f"{cls.__name__}.register({value_type.__name__}): the box class "
                            f"must subclass both Box and {value_type.__name__} (class "
                            f"{cls.__name__}(Box, {value_type.__name__}))")
        _BOX_CLASSES[value_type] = cls
        extend.USER_BOX_TYPES.add(cls)


# the functions that can differentiate with respect to a user type (a gradient in its space)
_REVERSE = {"grad", "value_and_grad", "grad_and_aux", "make_vjp"}


def _box_class(x):
    """The box class registered for x's type (or a base of it), else None."""
    cls = _BOX_CLASSES.get(type(x))
    if cls is None:
        for value_type, c in _BOX_CLASSES.items():
            if isinstance(x, value_type):
                return c
    return cls


def box_user_value(x, leaves, new_node, where):
    """A box for ``x`` when its type is registered with Box.register (its leaf appended to
    ``leaves``), else None."""
    if not _BOX_CLASSES:
        return None
    if type(x) in extend.USER_BOX_TYPES:
        raise NotImplementedError(
            f"{where}: differentiating again with respect to a {type(x._value).__name__} "
            f"(a type registered with Box.register): fastgrad differentiates user types to "
            f"first order only")
    cls = _box_class(x)
    if cls is None:
        return None
    if where not in _REVERSE:
        raise NotImplementedError(
            f"{where}: cannot differentiate with respect to a {type(x).__name__} (a type "
            f"registered with Box.register): user types are differentiated in first-order "
            f"reverse mode only ({', '.join(sorted(_REVERSE))})")
    from .vspace import vspace
    vspace(x)  # a registered box needs a registered space: say so now, not after the sweep
    box = object.__new__(cls)
    box._value = x
    box._node = new_node(np.zeros(()), True)
    box._trace = None
    box._token = next(_tokens)
    box._grad = None
    _LIVE_BOXES[box._token] = box
    leaves.append(box._node)
    return box


def add_user_grad(box, contribution):
    """Add a VJP's contribution (a value of the box's type) into the box's gradient; the
    array its graph leaf receives (the token the first time in a sweep, else 0)."""
    if box._grad is None:
        box._grad = contribution
        return np.array(float(box._token))
    from .vspace import vspace
    box._grad = vspace(box._value).add(box._grad, contribution)
    return np.array(0.0)


def is_user_value(x):
    """True when ``x``'s type (or a base) is registered with Box.register."""
    return bool(_BOX_CLASSES) and _box_class(x) is not None


def user_grad(x, leaf_grad):
    """The gradient for the user-type argument ``x`` from its leaf's gradient (a token, or
    0 when no VJP reached it: the zeros of x's space). Resets the box for another sweep."""
    token = int(np.asarray(getattr(leaf_grad, "data", leaf_grad)))
    if token == 0:
        from .vspace import vspace
        return vspace(x).zeros()
    box = _LIVE_BOXES.get(token)
    if box is None or box._grad is None:
        raise RuntimeError(f"the gradient of a {type(x).__name__} was lost (its graph was "
                           f"freed before the gradient was read)")
    g, box._grad = box._grad, None
    return g


def record_graph(fun, xs, bk=None):
    """(the leaves, ``fun(leaves)``): fun's value on a tuple of new traced leaves that stand
    for ``xs`` (floats or float arrays), with the whole graph recorded: a grad inside ``fun``
    records its gradient as ops, and primitives without VJPs may be recorded (the graph is
    for walking or replaying, not for differentiating)."""
    from . import autodiff  # not at import: fastgrad.extend imports this module
    bk = bk or _backend.active
    leaves = []
    for x in xs:
        data = np.array(getval(x))
        if data.dtype.kind != "f":
            raise TypeError(f"trace: the traced arguments must be floats or float arrays, "
                            f"not {data.dtype}")
        leaves.append(bk.node.new_node(data, True))
    cell = autodiff._trace.level
    level = cell[0]
    enabled = bk.node.set_grad_enabled(True)
    cell[0] = level + 1
    extend._TRACING_ONLY.on = True
    try:
        return leaves, fun(tuple(leaves))
    finally:
        extend._TRACING_ONLY.on = False
        cell[0] = level
        bk.node.set_grad_enabled(enabled)


def recorded_nodes(ans, leaves):
    """The nodes of ans's graph that depend on ``leaves`` (leaves excluded), parents first."""
    from . import recorded
    if not (isinstance(ans, node_types()) and ans.requires_grad):
        return []
    wanted = {id(leaf) for leaf in leaves}
    return [n for n in recorded._sort([ans], wanted) if id(n) not in wanted and n._op != OP_LEAF]


class _OpName:
    """Stands for a recorded op as the ``fun`` given to Node: it has the op's ``__name__``."""

    def __init__(self, name):
        self.__name__ = name

    def __repr__(self):
        return f"<op {self.__name__}>"


# numpy's names for the table's arithmetic (autograd's nodes carry numpy's functions)
_NUMPY_NAMES = {"add_s": "add", "sub": "subtract", "rsub_s": "subtract", "mul": "multiply",
                "mul_s": "multiply", "div": "divide", "div_s": "divide", "rdiv_s": "divide",
                "pow": "power", "pow_s": "power", "rpow_s": "power", "neg": "negative",
                "abs": "absolute"}
# c - x, c / x, c ** x: recorded with x as the parent and c as the parameter
_REFLECTED = {"rsub_s", "rdiv_s", "rpow_s"}


def _table_call(name, data, params):
    """(fun, args, kwargs, shift) of an op of the table: numpy's name, the arrays then the
    parameters (the scalar first for a reflected op: the arrays shifted by one)."""
    params = tuple(params)
    if name in _REFLECTED:
        return _OpName(_NUMPY_NAMES[name]), params + tuple(data), {}, len(params)
    return _OpName(_NUMPY_NAMES.get(name, name)), tuple(data) + params, {}, 0


def _call_of(node):
    """(fun, args, kwargs, shift) of a recorded node, args as plain values: a primitive's own
    call; for an op of the table its arrays, then its parameters (parent i is argument
    i + shift)."""
    ctx = node._ctx
    data = [p.data for p in node._prev]
    if node._op == OP_CUSTOM and isinstance(ctx, extend._Call):
        raw = list(ctx.raw)
        for i, a in zip(ctx.argnums, data):
            raw[i] = a
        return ctx.primitive, tuple(raw), dict(ctx.kwargs), 0
    from .ops.table import BY_CODE, TableCall
    # an op's parameters (the scalar of add_s, an axis) are its other arguments
    if node._op == OP_CUSTOM and isinstance(ctx, TableCall):
        return _table_call(ctx.op.name, data, ctx.params.values())
    op = BY_CODE[node._op]
    return _table_call(op.name, data, op.kwargs(ctx).values())


class _Inner(threading.local):
    found = None  # while trace records on this thread: (outputs, inputs) of each inner grad


_INNER = _Inner()
_WATCH = threading.RLock()


def _record_with_inner_graphs(fun, x):
    """record_graph of fun at x, and the (outputs, inputs) of the differentiations run inside
    it (a grad's function value is an output of its own, not reached from fun's value): the
    recorded reverse sweep's entry point is watched while fun runs."""
    from . import recorded
    with _WATCH:
        original = recorded.gradients

        @functools.wraps(original)
        def watched(outputs, inputs, *args, **kwargs):
            found = _INNER.found
            if found is not None:
                found.append((outputs, inputs))
            return original(outputs, inputs, *args, **kwargs)

        outer, _INNER.found = _INNER.found, []
        recorded.gradients = watched
        try:
            leaves, ans = record_graph(lambda xs: fun(xs[0]), (x,))
            return leaves, ans, _INNER.found
        finally:
            recorded.gradients = original
            _INNER.found = outer


class Node:
    """autograd's base class for a tracer's nodes: subclass it with ``__init__(self, value,
    fun, args, kwargs, parent_argnums, parents)`` and ``initialize_root(self, *args)``, make
    the root with ``new_root`` and run :func:`trace`."""

    def __init__(self, value, fun, args, kwargs, parent_argnums, parents):
        raise NotImplementedError("Node subclasses define __init__")

    def initialize_root(self, *args, **kwargs):
        raise NotImplementedError("Node subclasses define initialize_root")

    @classmethod
    def new_root(cls, *args, **kwargs):
        root = cls.__new__(cls)
        root.initialize_root(*args, **kwargs)
        return root


def trace(start_node, fun, x):
    """``(fun(x), end_node)``: ``fun``'s value, and the node of the last op (of type
    ``type(start_node)``) when the value depends on x, else None (see the module
    docstring)."""
    from . import recorded
    leaves, ans, inner = _record_with_inner_graphs(fun, x)
    made = {id(leaves[0]): start_node}
    kind = type(start_node)
    roots, identities = [], set()
    for outputs, inputs in inner:
        roots += [o for o in (outputs if isinstance(outputs, (list, tuple)) else [outputs])
                  if isinstance(o, node_types())]
        # an inner grad's variable is x + 0 (its own node on top of x): x itself to the user
        identities.update(id(v) for v in (inputs if isinstance(inputs, (list, tuple))
                                          else [inputs]))
    if isinstance(ans, node_types()):
        roots.append(ans)
    wanted = {id(leaf) for leaf in leaves}
    for node in recorded._sort(roots, wanted):
        if id(node) in wanted or node._op == OP_LEAF:
            continue
        if id(node) in identities and len(node._prev) == 1 and id(node._prev[0]) in made:
            made[id(node)] = made[id(node._prev[0])]
            continue
        f, args, kwargs, shift = _call_of(node)
        argnums, parents = [], []
        for i, p in enumerate(node._prev):
            if id(p) in made:
                argnums.append(i)
                parents.append(made[id(p)])
        if not parents:
            continue
        if isinstance(f, extend.Primitive):  # the primitive's own argument numbers
            argnums = [node._ctx.argnums[i] for i in argnums]
        elif shift:
            argnums = [i + shift for i in argnums]  # c - x: x is the second argument
        user = kind.__new__(kind)
        user.__init__(node.data, f, args, kwargs, tuple(argnums), tuple(parents))
        made[id(node)] = user
    from .autodiff import plain
    end = made.get(id(ans)) if isinstance(ans, node_types()) else None
    return plain(ans), end
