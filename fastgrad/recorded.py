"""The recorded path: gradients that carry a graph (reverse mode), and tangents (forward mode),
both from the op table's rules run as fastgrad ops.

``gradients(outputs, inputs, grad_outputs, create_graph)`` has torch.autograd.grad's meaning:
it returns d(outputs)/d(inputs) (times ``grad_outputs``) without touching any ``.grad``; with
``create_graph=True`` the gradients are Tensors recorded like any other, so they can be
differentiated again (to any order). ``tangents(outputs, inputs, input_tangents)`` walks the
same graph forward with the table's JVP rules: the Jacobian-vector product. Both stop at
``inputs``: what lies behind an input (an enclosing differentiation's variables) is not
visited, which is what keeps nested derivatives apart.

The first-order ``backward()`` does not come here: it runs the compiled kernels.
"""

import numpy as np

from . import engine
from ._py.opcodes import OP_CUSTOM, OP_DIV, OP_LEAF, OP_NAMES
from .ops import complex_ops
from .ops import kernels as k
from .ops.table import BY_CODE, TableCall, backend_of


class NotDifferentiableError(NotImplementedError):
    """An op in the graph has no rule for the derivative asked (it names the op)."""


def _describe(node):
    ctx = node._ctx
    if node._op == OP_CUSTOM:
        name = getattr(getattr(ctx, "op", None), "name", None) or \
            getattr(getattr(ctx, "primitive", None), "__name__", "custom")
    else:
        name = OP_NAMES.get(node._op, node._op)
    return f"{name} ({node.data.dtype} {tuple(node.data.shape)})"


def _sort(outputs, stops, freed_ok=False):
    """The nodes that reach ``outputs`` and require grad, parents before children; the search
    does not go behind a node whose id is in ``stops``. A node whose graph was freed raises
    (or, with ``freed_ok``, is taken as a leaf)."""
    order, seen = [], set()
    for out in outputs:
        if not out.requires_grad:
            continue
        stack = [(out, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            if id(node) in stops or node._op == OP_LEAF:
                continue
            prev = node._prev
            if prev is None:
                if freed_ok:
                    continue
                raise RuntimeError(
                    f"gradients: the graph through {_describe(node)} was freed by an earlier "
                    f"backward(); call that backward with retain_graph=True")
            for p in reversed(prev):
                if p.requires_grad and id(p) not in seen:
                    stack.append((p, False))
    return order


_NO_PARAMS = {}  # shared by the rules of ops without parameters (** copies it: never written)


_RULES = {}  # op code -> (the table entry's VJP, how to read the node's parameters)


def _table_rule(op):
    """(the VJP, how to read the node's parameters) of the table entry with op code ``op``:
    looked up once per code."""
    rule = _RULES.get(op)
    if rule is None:
        entry = BY_CODE[op]
        rule = _RULES[op] = (entry.vjp, entry.params)
    return rule


def _div_vjps(g, y, a, b):
    """y = a / b: (g / b, -(g / b) y), the table's two rules sharing g / b (one node fewer,
    which compounds with every order a graph is differentiated again)."""
    ga = g / b
    return ga, -(ga * y)


# op code -> one rule giving every argument's contribution, used when all of them are needed:
# the same derivatives as the table's rules (tests/test_recorded_fused.py checks them against
# the table), written in fastgrad ops so that they nest
FUSED = {OP_DIV: _div_vjps}

# the gradients of a[i:j] row slices of one parent joined into one concatenation (the sweep
# modules' joined); False runs getitem's rule per slice (the tests compare the two)
JOIN_ROWS = True


def _rule(node):
    """(the table entry, or a user primitive's call; its keyword parameters)."""
    op = node._op
    if op == OP_CUSTOM:
        ctx = node._ctx
        if isinstance(ctx, TableCall):
            return ctx.op, ctx.params
        if not hasattr(ctx, "vjp_traced"):
            raise NotDifferentiableError(
                f"{_describe(node)} is once-differentiable: its node holds no rule that runs "
                f"on traced values")
        return ctx, None   # fastgrad.extend's call object: it runs the user's makers
    return BY_CODE[op], BY_CODE[op].kwargs(node._ctx)


def _constant(x, like):
    """``x`` (an array or number) as a constant Tensor of ``like``'s backend and dtype."""
    dtype = like.data.dtype
    if dtype.kind == "c" or np.asarray(x).dtype.kind == "c":
        return complex_ops.constant(np.asarray(x).astype(dtype), backend_of(like))
    return backend_of(like).node.as_constant(np.asarray(x), dtype, "gradients")


def _astype(x, dtype):
    """Tensor x cast to dtype (complex to real: the real part, autograd's convention)."""
    if x.data.dtype.kind == "c" or dtype.kind == "c":
        return complex_ops.as_dtype(x, dtype)
    return k.astype(x, dtype)


def _as_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def gradients(outputs, inputs, grad_outputs=None, create_graph=False):
    """d(outputs)/d(inputs), torch.autograd.grad's way, from the op table's VJPs.

    Parameters
    ----------
    outputs : Tensor or sequence of Tensors
    inputs : Tensor or sequence of Tensors
        What to differentiate with respect to (leaves or interior tensors).
    grad_outputs : array_like or Tensor, or a sequence of them, optional
        The cotangent of each output; ones for single-element outputs when omitted.
    create_graph : bool
        Record the computation of the gradients, so that they can be differentiated again.

    Returns
    -------
    list of Tensors, one per input (zeros where an input does not reach an output). No
    ``.grad`` is read or written.
    """
    if grad_outputs is None:
        grad_outputs = [None] * len(_as_list(outputs))
    elif not isinstance(outputs, (list, tuple)):
        grad_outputs = [grad_outputs]
    outputs, inputs = _as_list(outputs), _as_list(inputs)
    grad_outputs = list(grad_outputs)
    if create_graph and not engine.is_grad_enabled():
        raise RuntimeError("gradients: create_graph=True inside no_grad(): the gradients "
                           "could not be recorded; leave no_grad() (or use enable_grad())")
    previous = engine._set_grad_enabled(bool(create_graph))
    try:
        return _reverse(outputs, inputs, grad_outputs)
    finally:
        engine._set_grad_enabled(previous)


def _order(outputs, wanted):
    """_sort's order for one output through the backend's compiled sort when the graph is
    alive all the way back (it does not stop at the inputs: what lies behind them is never
    reached from them, so the sweep module's reaching() leaves it out); else _sort itself."""
    if len(outputs) == 1 and outputs[0].requires_grad:
        try:
            return backend_of(outputs[0]).toposort.toposort(outputs[0])
        except RuntimeError:  # freed behind an input: _sort stops there, or names the node
            pass
    return _sort(outputs, wanted)


def _reverse(outputs, inputs, grad_outputs):
    wanted = {id(x) for x in inputs}
    order = _order(outputs, wanted)  # checks that the graph up to the inputs is alive
    if len(inputs) > 1 and any(x._op != OP_LEAF for x in inputs):
        # an input may lie behind another: the gradient flows through inputs too
        order = _sort(outputs, (), freed_ok=True)
    sweep = backend_of(outputs, inputs).recorded_sweep  # compiled, or the twin
    return sweep.reverse(outputs, inputs, grad_outputs, order, FUSED, JOIN_ROWS)


def tangents(outputs, inputs, input_tangents):
    """The outputs' tangents (Jacobian-vector products) when ``inputs`` move along
    ``input_tangents``, from the op table's JVP rules. Records the computation when grad mode
    is on (so that it can be differentiated again). Zeros where an output does not depend on
    the inputs."""
    if not isinstance(inputs, (list, tuple)):
        input_tangents = [input_tangents]
    outputs, inputs = _as_list(outputs), _as_list(inputs)
    input_tangents = list(input_tangents)
    stops = {id(x) for x in inputs}
    order = _sort(outputs, stops)
    tans = {}
    for x, t in zip(inputs, input_tangents):
        if t is not None:
            t = t if hasattr(type(t), "_backend") else _constant(t, x)
            if t.data.shape != x.data.shape:
                raise ValueError(f"jvp: the tangent has shape {t.data.shape} but the input "
                                 f"has shape {x.data.shape}")
            tans[id(x)] = t
    for node in order:
        if id(node) in stops or node._op == OP_LEAF:
            continue
        prev = node._prev
        ts = [tans.get(id(p)) for p in prev]
        if all(t is None for t in ts):
            continue
        rule, params = _rule(node)
        if params is None:
            t = rule.jvp_traced(ts, node)
        else:
            if rule.jvp is None:
                raise NotDifferentiableError(f"jvp: {_describe(node)} has no JVP rule "
                                             f"(forward mode)")
            t = rule.jvp_of(ts, node, prev, params)
        if t is None:
            continue
        if not hasattr(type(t), "_backend"):
            t = _constant(t, node)
        if t.data.shape != node.data.shape:
            t = k.broadcast_to(t, node.data.shape)
        if t.data.dtype != node.data.dtype:
            t = _astype(t, node.data.dtype)
        tans[id(node)] = t
    result = []
    for out in outputs:
        t = tans.get(id(out))
        if t is None:
            shape = np.shape(getattr(out, "data", out))
            t = _constant(np.zeros(shape), out) if hasattr(type(out), "_backend") else \
                np.zeros(shape)
        result.append(t)
    return result
