"""Custom primitives, autograd's way: ``@primitive`` makes a function that records itself as one
graph node when called on traced values, ``defvjp`` gives it its vector-Jacobian products.

>>> import numpy as onp
>>> from fastgrad.extend import primitive, defvjp
>>> @primitive
... def logsumexp(x):
...     m = onp.max(x)
...     return m + onp.log(onp.sum(onp.exp(x - m)))
>>> defvjp(logsumexp, lambda ans, x: lambda g: g * onp.exp(x - ans))

A VJP maker is called as ``maker(ans, *args, **kwargs)`` with the plain (numpy) values of the
call and returns ``vjp(g)``: the gradient ``g`` of the output in, the argument's gradient out.
A gradient that comes back broadcast (e.g. the shape of the output for an argument that was
broadcast against it) is summed back to the argument's shape. The node records the call on the
op code OP_CUSTOM; the first-order sweep runs these Python functions on plain arrays. For
higher-order derivatives the makers run again on the traced values: written with
``fastgrad.numpy`` (or numpy functions that Tensors route to fastgrad), a VJP records and can be
differentiated again; one that cannot run on traced values raises, naming the primitive as
once-differentiable. ``defjvp`` gives the forward-mode rules (``make_jvp``); a primitive without
one raises in forward mode, naming itself.

Calling a primitive on a traced value for an argument that has no VJP raises at once, naming the
function and the argument: never a silently constant result.

autograd's other ways of giving rules are here too: ``defvjp_argnum`` / ``defvjp_argnums`` (one
maker for any argument / for all of them at once), ``defjvp_argnum`` / ``defjvp_argnums``,
``defjvp(fun, "same")`` and ``def_linear`` (linear functions), ``register_notrace`` (a primitive
applied to plain values, unrecorded), a VJP returning a ``SparseObject``, and the deprecated
``Primitive.defgrad`` / ``.defvjp`` / ``.defvjp_is_zero``. ``vspace``, ``VSpace`` and ``Box`` come
from fastgrad.vspace and fastgrad.tracer.
"""
import sys
import threading
import types
import weakref

import numpy as np

from ._py import node as _py_node
from ._py.opcodes import OP_CUSTOM

__all__ = ["Box", "Primitive", "SparseObject", "VSpace", "def_linear", "defjvp", "defjvp_argnum",
           "defjvp_argnums", "defvjp", "defvjp_argnum", "defvjp_argnums", "notrace_primitive",
           "primitive", "register_notrace", "vspace"]

FLOAT_TYPES = (np.dtype(np.float32), np.dtype(np.float64))
SEQUENCES = (list, tuple)

_node_types = (_py_node.Node,)
USER_BOX_TYPES = set()  # the box classes of user types (fastgrad.tracer's Box.register)
PRIMITIVES = weakref.WeakSet()  # every Primitive made (fastgrad.core's rule tables look here)


class _TracingOnly(threading.local):
    on = False  # misc.const_graph records a graph to replay, not to differentiate


_TRACING_ONLY = _TracingOnly()


def node_types():
    """The Node classes of the backends imported so far (the Python twin's always)."""
    global _node_types
    if len(_node_types) == 1:
        cy = sys.modules.get("fastgrad._cy.node")
        if cy is not None:
            _node_types = (_py_node.Node, cy.Node)
    return _node_types


def _holds_node(seq, nodes):
    for item in seq:
        if isinstance(item, nodes) or (type(item) in SEQUENCES and _holds_node(item, nodes)):
            return True
    return False


class Primitive:
    """A function that records one graph node when an argument is traced.

    Calls on plain values run the function itself. Attributes: ``fun`` (the function),
    ``vjps`` (argument number -> VJP maker), ``vjp_argnum`` (a maker for any argument, from
    :func:`defvjp_argnum`).
    """

    def __init__(self, fun, name=None):
        self.fun = fun
        self.vjps = {}
        self.jvps = {}
        self.vjp_argnum = None
        self.vjp_argnums = None   # one maker for all differentiated arguments at once
        self.jvp_argnum = None
        self.jvp_argnums = None
        self.notrace = False      # register_notrace: called on plain values, not recorded
        self.__name__ = name or getattr(fun, "__name__", "primitive")
        self.__qualname__ = getattr(fun, "__qualname__", self.__name__)
        self.__doc__ = getattr(fun, "__doc__", None)
        self.__wrapped__ = fun
        PRIMITIVES.add(self)

    def __repr__(self):
        return f"<fastgrad primitive {self.__name__}>"

    def __get__(self, obj, objtype=None):
        # a primitive defined in a class body is a method, as autograd's (a function) is
        if obj is None:
            return self
        return types.MethodType(self, obj)

    def __call__(self, *args, **kwargs):
        nodes = node_types()
        if self.notrace:
            return self.fun(*[a.data if isinstance(a, nodes) else
                              a._value if type(a) in USER_BOX_TYPES else a for a in args],
                            **kwargs)
        traced = None
        for i, a in enumerate(args):
            if isinstance(a, nodes) or (USER_BOX_TYPES and type(a) in USER_BOX_TYPES):
                if traced is None:
                    traced = []
                traced.append(i)
            elif type(a) in SEQUENCES and _holds_node(a, nodes):
                raise TypeError(f"{self.__name__}: argument {i} is a list or tuple holding "
                                f"traced values; a primitive differentiates array arguments "
                                f"only (pass np.array(...) of it)")
        if traced is None:
            if kwargs and any(isinstance(v, nodes) for v in kwargs.values()):
                raise TypeError(f"{self.__name__}: traced values must be passed as positional "
                                f"arguments (keyword arguments are not differentiated)")
            return self.fun(*args, **kwargs)
        return self._record(args, kwargs, traced, nodes)

    def _record(self, args, kwargs, traced, nodes):
        if any(isinstance(v, nodes) for v in kwargs.values()):
            raise TypeError(f"{self.__name__}: traced values must be passed as positional "
                            f"arguments (keyword arguments are not differentiated)")
        raw = list(args)
        boxes = None  # parent number -> the box of a user type standing for that argument
        if USER_BOX_TYPES:
            for i in traced:
                a = args[i]
                if type(a) in USER_BOX_TYPES:
                    if boxes is None:
                        boxes = {}
                    boxes[i] = a
                    raw[i] = a._value
                    args = args[:i] + (a._node,) + args[i + 1:]
        bk = type(args[traced[0]])._backend
        parents, argnums = [], []
        for i in traced:
            a = args[i]
            if type(a)._backend is not bk:
                raise TypeError(f"{self.__name__}: arguments come from two different "
                                f"backends ({bk.name} and {type(a)._backend.name})")
            if boxes is None or i not in boxes:
                raw[i] = a.data
            if a.requires_grad:
                if (i not in self.vjps and self.vjp_argnum is None and self.vjp_argnums is None
                        and not _TRACING_ONLY.on):
                    raise NotImplementedError(
                        f"{self.__name__}: no VJP is defined for argument {i}, so it cannot "
                        f"be differentiated; define one with "
                        f"fastgrad.extend.defvjp({self.__name__}, ...)")
                parents.append(a)
                argnums.append(i)
        ans = _plain_call(self.fun, raw, kwargs)
        data = np.asarray(ans)
        if data.dtype not in FLOAT_TYPES:
            raise TypeError(f"{self.__name__}: returned {data.dtype} values on traced "
                            f"arguments; a primitive must return float32 or float64 arrays")
        if not parents:
            return bk.node.new_node(data, False)
        call = self._vjp(ans, raw, kwargs, argnums, parents)
        if boxes is not None:
            call.boxes = boxes
        return bk.node.make_result(data, OP_CUSTOM, tuple(parents), call)

    def _vjp(self, ans, raw, kwargs, argnums, parents):
        """The node's ctx: g -> one contribution per parent (checked against its shape)."""
        return _Call(self, ans, raw, kwargs, argnums)

    def _maker(self, i):
        maker = self.vjps.get(i)
        if maker is not None:
            return maker
        if self.vjp_argnum is not None:
            return lambda ans, *args, **kwargs: self.vjp_argnum(i, ans, args, kwargs)
        return None

    # autograd's older ways of defining derivatives, as methods of the primitive
    def defgrad(self, maker, argnum=0):
        """Deprecated form of ``defvjp(self, maker, argnums=[argnum])``."""
        _deprecated("defgrad", "defvjp")
        self.vjps[argnum] = maker

    def defvjp(self, vjp, argnum=0):
        """Deprecated: ``vjp(g, ans, vs, gvs, *args, **kwargs)`` for argument ``argnum`` (vs,
        gvs: the vector spaces of the argument and of the value)."""
        _deprecated("Primitive.defvjp", "fastgrad.extend.defvjp")
        from .vspace import vspace

        def maker(ans, *args, **kwargs):
            return lambda g: vjp(g, ans, vspace(args[argnum]), vspace(ans), *args, **kwargs)
        self.vjps[argnum] = maker

    def defvjp_is_zero(self, argnums=(0,)):
        """Deprecated: the function does not change with arguments ``argnums`` (their
        gradients are zeros, traced as ``0 * argument`` so that they differentiate again)."""
        _deprecated("defvjp_is_zero", "defvjp with a zero VJP")
        for i in argnums:
            self.vjps[i] = _zero_maker(i)

    def _checked(self, contribution, shape, i):
        c = np.asarray(contribution)
        if c.shape != shape:
            try:
                fits = np.broadcast_shapes(c.shape, shape) == c.shape
            except ValueError:
                fits = False
            if not fits:
                raise ValueError(f"{self.__name__}: the VJP for argument {i} returned shape "
                                 f"{c.shape}, which does not reduce to the argument's shape "
                                 f"{shape}")
        return c


def _plain_call(fun, args, kwargs):
    """``fun(*args, **kwargs)`` on plain values, as at trace level 0: a primitive's forward is
    a black box, so a grad or make_vjp inside it computes plain values even when the
    primitive is called inside an enclosing differentiation."""
    from .autodiff import _trace
    cell = _trace.level
    level = cell[0]
    cell[0] = 0
    try:
        return fun(*args, **kwargs)
    finally:
        cell[0] = level


def _deprecated(old, new):
    import warnings
    warnings.warn(f"{old} is deprecated; use {new}", DeprecationWarning, stacklevel=3)


def _zero_maker(i):
    def maker(ans, *args, **kwargs):
        return lambda g: 0.0 * args[i]
    return maker


def _dense(contribution, arg):
    """A VJP's contribution as an array: a SparseObject is added into zeros of the
    argument's shape."""
    if isinstance(contribution, SparseObject):
        return contribution.mut_add(np.zeros(np.shape(getattr(arg, "data", arg)),
                                             np.result_type(getattr(arg, "dtype", float))))
    return contribution


class _Call:
    """The saved context of a primitive's node: called with ``g`` by the first-order sweep, it
    runs the VJP makers on the call's plain values; the recorded path (higher order) and forward
    mode run them on the traced values instead (``vjp_traced``, ``jvp_traced``)."""

    __slots__ = ("ans", "argnums", "boxes", "kwargs", "primitive", "raw")

    def __init__(self, primitive, ans, raw, kwargs, argnums):
        self.primitive = primitive
        self.ans = ans
        self.raw = raw
        self.kwargs = kwargs
        self.argnums = argnums
        self.boxes = None  # argument number -> box, for the arguments of user types

    def __call__(self, g):
        p = self.primitive
        out = []
        together = None
        for k, i in enumerate(self.argnums):
            maker = p._maker(i)
            if maker is None:
                if together is None:
                    together = p.vjp_argnums(tuple(self.argnums), self.ans, tuple(self.raw),
                                             self.kwargs)(g)
                contribution = together[k]
            else:
                contribution = maker(self.ans, *self.raw, **self.kwargs)(g)
            if self.boxes is not None and i in self.boxes:
                from .tracer import add_user_grad
                out.append(add_user_grad(self.boxes[i], contribution))
                continue
            contribution = _dense(contribution, self.raw[i])
            out.append(p._checked(contribution, np.shape(self.raw[i]), i))
        return out

    def _no_user_types(self, what):
        if self.boxes:
            i = next(iter(self.boxes))
            raise NotImplementedError(
                f"{self.primitive.__name__}: argument {i} is a "
                f"{type(self.boxes[i]._value).__name__} (a type registered with "
                f"Box.register), which fastgrad differentiates to first order in reverse "
                f"mode only, not {what}")

    def _traced_args(self, node):
        args = list(self.raw)
        for i, parent in zip(self.argnums, node._prev):
            args[i] = parent
        return args

    def vjp_traced(self, k, g, node):
        """Parent k's contribution as a traced value (the maker run on the node's parents)."""
        p = self.primitive
        i = self.argnums[k]
        self._no_user_types("again (higher order, or a grad inside another)")
        try:
            maker = p._maker(i)
            if maker is None:
                contribution = p.vjp_argnums(tuple(self.argnums), node,
                                             tuple(self._traced_args(node)), self.kwargs)(g)[k]
            else:
                contribution = maker(node, *self._traced_args(node), **self.kwargs)(g)
            contribution = _dense(contribution, self.raw[i])
        except TypeError as e:
            raise NotImplementedError(
                f"{p.__name__} is once-differentiable: its VJP for argument {i} could not run on "
                f"traced values ({e}); write it with fastgrad.numpy to differentiate it again"
            ) from None
        if not hasattr(type(contribution), "_backend"):
            raise NotImplementedError(
                f"{p.__name__} is once-differentiable: its VJP for argument {i} returned plain "
                f"values on traced inputs (it leaves the graph, e.g. through numpy.asarray); "
                f"write it with fastgrad.numpy to differentiate it again")
        return contribution

    def jvp_traced(self, tangents, node):
        """The output's tangent from the makers given by :func:`defjvp`."""
        p = self.primitive
        self._no_user_types("in forward mode")
        args = self._traced_args(node)
        if p.jvp_argnums is not None and not any(self.argnums[k] in p.jvps
                                                 for k, t in enumerate(tangents)
                                                 if t is not None):
            moving = [(i, t) for i, t in zip(self.argnums, tangents) if t is not None]
            return p.jvp_argnums(tuple(i for i, _ in moving), tuple(t for _, t in moving),
                                 node, tuple(args), self.kwargs)
        out = None
        for k, t in enumerate(tangents):
            if t is None:
                continue
            i = self.argnums[k]
            maker = p.jvps.get(i)
            if maker is None and p.jvp_argnum is not None:
                c = p.jvp_argnum(i, t, node, tuple(args), self.kwargs)
                out = c if out is None else out + c
                continue
            if maker is None:
                raise NotImplementedError(
                    f"{p.__name__}: no JVP is defined for argument {i}, so it cannot be used "
                    f"in forward mode (make_jvp, jvp); define one with "
                    f"fastgrad.extend.defjvp({p.__name__}, ...)")
            c = maker(t, node, *args, **self.kwargs)
            out = c if out is None else out + c
        return out


def defjvp(fun, *jvpmakers, argnums=None):
    """Define the JVPs (forward mode) of primitive ``fun``, autograd's way: ``jvpmakers[k]``
    for argument ``argnums[k]`` (default 0, 1, ...) is ``lambda g, ans, *args, **kwargs: ...``
    returning the output's tangent for the argument's tangent ``g``. Written with
    fastgrad.numpy, it also nests with reverse mode."""
    if not isinstance(fun, Primitive):
        raise TypeError(f"defjvp: {getattr(fun, '__name__', fun)!r} is not a primitive; "
                        f"decorate it with @fastgrad.extend.primitive first")
    argnums = range(len(jvpmakers)) if argnums is None else argnums
    for i, maker in zip(argnums, jvpmakers):
        if maker is None:
            fun.jvps.pop(i, None)
        elif isinstance(maker, str) and maker == "same":
            fun.jvps[i] = _same_jvp(fun, i)
        else:
            fun.jvps[i] = maker


def _same_jvp(fun, i):
    """autograd's "same": the function is linear in argument i, so its tangent is the
    function applied to the argument's tangent."""
    def jvp(g, ans, *args, **kwargs):
        args = list(args)
        args[i] = g
        return fun(*args, **kwargs)
    return jvp


def primitive(fun):
    """Decorator: make ``fun`` (which works on numpy arrays) a primitive that records one node
    on traced arguments. Give it VJPs with :func:`defvjp`."""
    return Primitive(fun)


def defvjp(fun, *vjpmakers, argnums=None):
    """Define the VJPs of primitive ``fun``: ``vjpmakers[k]`` for argument ``argnums[k]``
    (default 0, 1, 2, ...). A maker is ``lambda ans, *args, **kwargs: lambda g: ...``; None
    leaves that argument without a VJP."""
    if not isinstance(fun, Primitive):
        raise TypeError(f"defvjp: {getattr(fun, '__name__', fun)!r} is not a primitive; "
                        f"decorate it with @fastgrad.extend.primitive first")
    argnums = range(len(vjpmakers)) if argnums is None else argnums
    for i, maker in zip(argnums, vjpmakers):
        if maker is None:
            fun.vjps.pop(i, None)
        else:
            fun.vjps[i] = maker


def defvjp_argnum(fun, vjpmaker):
    """One maker for every argument: ``vjpmaker(argnum, ans, args, kwargs)`` returns
    ``vjp(g)``."""
    if not isinstance(fun, Primitive):
        raise TypeError("defvjp_argnum: the function is not a primitive")
    fun.vjp_argnum = vjpmaker


def defvjp_argnums(fun, vjpmaker):
    """One maker for all the differentiated arguments at once:
    ``vjpmaker(argnums, ans, args, kwargs)`` returns ``vjp(g)`` giving one contribution per
    entry of ``argnums`` (e.g. when they share work)."""
    if not isinstance(fun, Primitive):
        raise TypeError("defvjp_argnums: the function is not a primitive")
    fun.vjp_argnums = vjpmaker


def defjvp_argnum(fun, jvpmaker):
    """One forward-mode maker for every argument: ``jvpmaker(argnum, g, ans, args, kwargs)``
    returns the output's tangent for argument ``argnum``'s tangent ``g``."""
    if not isinstance(fun, Primitive):
        raise TypeError("defjvp_argnum: the function is not a primitive")
    fun.jvp_argnum = jvpmaker


def defjvp_argnums(fun, jvpmaker):
    """One forward-mode maker for all moving arguments: ``jvpmaker(argnums, gs, ans, args,
    kwargs)`` returns the output's tangent for the tangents ``gs`` of arguments
    ``argnums``."""
    if not isinstance(fun, Primitive):
        raise TypeError("defjvp_argnums: the function is not a primitive")
    fun.jvp_argnums = jvpmaker


def def_linear(fun):
    """Declare primitive ``fun`` linear in each of its arguments (multilinear): the tangent
    for argument i is ``fun`` with that argument replaced by its tangent (forward mode;
    give the VJPs with :func:`defvjp`)."""
    def jvp(argnum, g, ans, args, kwargs):
        args = list(args)
        args[argnum] = g
        return fun(*args, **kwargs)
    defjvp_argnum(fun, jvp)


def register_notrace(trace_type, fun):
    """Make primitive ``fun`` run on the plain values of traced arguments, unrecorded (its
    result is a constant: integer results, shapes, comparisons). ``trace_type`` (autograd's
    VJPNode or JVPNode) is accepted for compatibility: fastgrad records one graph for both
    modes, so the primitive is untraced in both."""
    if not isinstance(fun, Primitive):
        raise TypeError(f"register_notrace: {getattr(fun, '__name__', fun)!r} is not a "
                        f"primitive; decorate it with @fastgrad.extend.primitive first")
    fun.notrace = True


def notrace_primitive(fun):
    """Decorator: ``fun`` is applied to the values of traced arguments and its result is not
    differentiated (integer results, shapes, comparisons, random draws)."""
    def wrapped(*args, **kwargs):
        nodes = node_types()
        args = [a.data if isinstance(a, nodes) else a for a in args]
        return fun(*args, **kwargs)
    wrapped.__name__ = getattr(fun, "__name__", "notrace_primitive")
    wrapped.__doc__ = getattr(fun, "__doc__", None)
    wrapped.__wrapped__ = fun
    return wrapped


# autograd.extend's vector spaces and boxes (defined in their own modules)
from .tracer import Box
from .vspace import SparseObject, VSpace, vspace
