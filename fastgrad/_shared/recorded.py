"""What the recorded reverse sweep (fastgrad/_py/recorded_sweep.py and its compiled twin
csrc/recorded_sweep.pyx) shares with fastgrad.recorded: the error it raises, how a node is
named in messages, how a node's rule is found, and constants of a node's backend and dtype."""
import numpy as np

from fastgrad._py.opcodes import OP_CUSTOM, OP_NAMES
from fastgrad.ops import complex_ops
from fastgrad.ops import kernels as k
from fastgrad.ops.table import BY_CODE, TableCall, backend_of


class NotDifferentiableError(NotImplementedError):
    """An op in the graph has no rule for the derivative asked (it names the op)."""


def describe(node):
    """The node's op, dtype and shape, for messages."""
    ctx = node._ctx
    if node._op == OP_CUSTOM:
        name = getattr(getattr(ctx, "op", None), "name", None) or \
            getattr(getattr(ctx, "primitive", None), "__name__", "custom")
    else:
        name = OP_NAMES.get(node._op, node._op)
    return f"{name} ({node.data.dtype} {tuple(node.data.shape)})"


NO_PARAMS = {}  # shared by the rules of ops without parameters (** copies it: never written)

_RULES = {}  # op code -> (the table entry's VJP, how to read the node's parameters)


def table_rule(op):
    """(the VJP, how to read the node's parameters) of the table entry with op code ``op``:
    looked up once per code."""
    rule = _RULES.get(op)
    if rule is None:
        entry = BY_CODE[op]
        rule = _RULES[op] = (entry.vjp, entry.params)
    return rule


def node_rule(node):
    """(the table entry, or a user primitive's call; its keyword parameters)."""
    op = node._op
    if op == OP_CUSTOM:
        ctx = node._ctx
        if isinstance(ctx, TableCall):
            return ctx.op, ctx.params
        if not hasattr(ctx, "vjp_traced"):
            raise NotDifferentiableError(
                f"{describe(node)} is once-differentiable: its node holds no rule that runs "
                f"on traced values")
        return ctx, None   # fastgrad.extend's call object: it runs the user's makers
    return BY_CODE[op], BY_CODE[op].kwargs(node._ctx)


def constant(x, like):
    """``x`` (an array or number) as a constant Tensor of ``like``'s backend and dtype."""
    dtype = like.data.dtype
    if dtype.kind == "c" or np.asarray(x).dtype.kind == "c":
        return complex_ops.constant(np.asarray(x).astype(dtype), backend_of(like))
    return backend_of(like).node.as_constant(np.asarray(x), dtype, "gradients")


def as_dtype(x, dtype):
    """Tensor x cast to dtype (complex to real: the real part, autograd's convention)."""
    if x.data.dtype.kind == "c" or dtype.kind == "c":
        return complex_ops.as_dtype(x, dtype)
    return k.astype(x, dtype)
