"""Traced values, with HIPS autograd's names (autograd.tracer).

In autograd a traced value is a ``Box`` wrapping the plain value; in fastgrad it is a Tensor
(an array that records the ops applied to it) that requires grad. The names behave as autograd
user code expects:

- ``isbox(x)``: x is a traced value (also ``isinstance(x, Box)``);
- ``getval(x)``: the plain numpy array under a traced value (x itself otherwise);
- ``primitive`` / ``notrace_primitive`` / ``register_notrace``: fastgrad.extend's.

``Box.register(type)`` (autograd's way of tracing a user type) raises: fastgrad traces float
arrays, and lists, tuples and dicts of them, only.

``trace(start_node, fun, x)`` with a user subclass of ``Node`` (autograd's way of writing a
tracer of one's own, e.g. one that prints or draws the evaluation): fastgrad records ``fun(x)``'s
graph with x traced, then makes one ``Node`` per recorded op that depends on x, parents first,
with autograd's constructor arguments (value, fun, args, kwargs, parent_argnums, parents).
The nodes are made once ``fun`` has returned, not while it runs; ``fun.__name__`` is fastgrad's
op name (``mul``, ``sin``, ...) or the primitive's.
"""
import numpy as np

from . import _backend, extend
from ._py.opcodes import OP_CUSTOM, OP_LEAF
from .extend import node_types, notrace_primitive, primitive, register_notrace

__all__ = ["Box", "Node", "getval", "isbox", "notrace_primitive", "primitive",
           "record_graph", "register_notrace", "trace"]


def isbox(x):
    """True when ``x`` is a traced value (a Tensor that requires grad)."""
    return isinstance(x, node_types()) and bool(x.requires_grad)


def getval(x):
    """The plain value of ``x``: a traced value's numpy array (0-d arrays as they are),
    anything else unchanged."""
    if isinstance(x, node_types()):
        return x.data
    return x


class _BoxType(type):
    def __instancecheck__(cls, x):
        return isbox(x)

    def __subclasscheck__(cls, sub):
        return issubclass(sub, node_types())


class Box(metaclass=_BoxType):
    """The type of traced values: ``isinstance(x, Box)`` is ``isbox(x)``. Not instantiable:
    fastgrad makes traced values itself, inside ``grad`` and its relatives."""

    def __new__(cls, *args, **kwargs):
        raise TypeError("Box: fastgrad's traced values are Tensors made by grad (and the other "
                        "differentiation functions); they are not made by hand")

    @classmethod
    def register(cls, value_type):
        raise NotImplementedError(
            f"Box.register({getattr(value_type, '__name__', value_type)}): fastgrad traces "
            f"float arrays and lists, tuples and dicts of them; a value of another type "
            f"cannot be traced (convert it to arrays, or make the function a primitive)")


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


def _call_of(node):
    """(fun, args, kwargs) of a recorded node, args as plain values: a primitive's own call;
    for an op of the table its arrays, then its parameters."""
    ctx = node._ctx
    data = [p.data for p in node._prev]
    if node._op == OP_CUSTOM and isinstance(ctx, extend._Call):
        raw = list(ctx.raw)
        for i, a in zip(ctx.argnums, data):
            raw[i] = a
        return ctx.primitive, tuple(raw), dict(ctx.kwargs)
    from .ops.table import BY_CODE, TableCall
    # an op's parameters (the scalar of add_s, an axis) are its other arguments
    if node._op == OP_CUSTOM and isinstance(ctx, TableCall):
        return _OpName(ctx.op.name), tuple(data) + tuple(ctx.params.values()), {}
    op = BY_CODE[node._op]
    return _OpName(op.name), tuple(data) + tuple(op.kwargs(ctx).values()), {}


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
    leaves, ans = record_graph(lambda xs: fun(xs[0]), (x,))
    made = {id(leaves[0]): start_node}
    kind = type(start_node)
    for node in recorded_nodes(ans, leaves):
        f, args, kwargs = _call_of(node)
        argnums, parents = [], []
        for i, p in enumerate(node._prev):
            if id(p) in made:
                argnums.append(i)
                parents.append(made[id(p)])
        if not parents:
            continue
        if isinstance(f, extend.Primitive):  # the primitive's own argument numbers
            argnums = [node._ctx.argnums[i] for i in argnums]
        user = kind.__new__(kind)
        user.__init__(node.data, f, args, kwargs, tuple(argnums), tuple(parents))
        made[id(node)] = user
    from .autodiff import plain
    end = made.get(id(ans)) if isinstance(ans, node_types()) else None
    return plain(ans), end
