"""autograd.misc.tracers' ``const_graph``: run a function's graph again on new inputs without
running the function's Python code.

``const_graph(fun, *args, **kwargs)`` binds ``args``/``kwargs`` and returns ``g(*rest)``. The
first call records ``fun``'s graph with the remaining arguments traced (every op and
primitive applied, a nested ``grad`` recorded as ops) and returns the value; later calls
evaluate only the recorded nodes that depend on those arguments, each with its forward
(the op table's numpy reference, or a primitive's function), on the new values. The function
must compute the same graph whatever the values (no branching on them): the graph is fixed
at the first call.
"""
import functools

import numpy as np

from .. import _backend, autodiff, extend, recorded
from .._py.opcodes import OP_CUSTOM
from ..ops.table import BY_CODE, TableCall
from ..tracer import record_graph, recorded_nodes

__all__ = ["const_graph", "const_graph_unary"]


def _forward(node, args):
    """Node's output recomputed from its parents' values ``args``."""
    ctx = node._ctx
    if node._op == OP_CUSTOM:
        if isinstance(ctx, TableCall):
            return ctx.op.forward(*args, **ctx.params)
        if isinstance(ctx, extend._Call):
            raw = list(ctx.raw)
            for i, a in zip(ctx.argnums, args):
                raw[i] = a
            return ctx.primitive.fun(*raw, **ctx.kwargs)
        raise NotImplementedError(f"const_graph: cannot run {recorded._describe(node)} again "
                                  f"(its node keeps no forward)")
    op = BY_CODE[node._op]
    return op.forward(*args, **op.kwargs(ctx))


def const_graph_unary(fun):
    """``fun`` of one argument, recorded at its first call and replayed afterwards (see the
    module docstring)."""
    replay = _Replayer(lambda xs: fun(xs[0]))

    @functools.wraps(fun)
    def wrapped(x):
        return replay((x,))
    return wrapped


class _Replayer:
    """Records ``fun(xs)`` (xs a tuple of arrays or floats) at the first call, replays its
    graph at the next ones."""

    def __init__(self, fun):
        self.fun = fun
        self.tape = None

    def __call__(self, xs):
        bk = _backend.active
        if self.tape is None:
            leaves, ans = record_graph(self.fun, xs, bk)
            self.leaves = leaves
            self.ans = ans
            self.tape = recorded_nodes(ans, leaves)
            return autodiff.plain(ans)
        if not self.tape:
            return autodiff.plain(self.ans)
        values = {id(leaf): np.asarray(x, dtype=leaf.data.dtype)
                  for leaf, x in zip(self.leaves, xs)}
        for node in self.tape:
            args = [values.get(id(p), p.data) for p in node._prev]
            values[id(node)] = np.asarray(_forward(node, args), dtype=node.data.dtype)
        out = values[id(self.ans)]
        return out[()] if out.ndim == 0 else out


def const_graph(fun, *args, **kwargs):
    """``fun`` with ``args`` and ``kwargs`` bound, as a function of its remaining positional
    arguments whose graph is recorded once and replayed (see the module docstring)."""
    bound = functools.partial(fun, *args, **kwargs)
    replay = _Replayer(lambda xs: bound(*xs))

    @functools.wraps(fun)
    def wrapped(*rest):
        return replay(rest)
    return wrapped
