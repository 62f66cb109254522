"""The op table: every primitive, as a public function, with the math of its VJP.

The functions are the active backend's (compiled, or the Python twins); each accepts Tensors,
arrays and Python scalars, broadcasts like numpy and returns a Tensor. ``python -m fastgrad.ops``
prints the table of op codes with each VJP's formula (from the Python twins, the reference).
"""
from ._backend import active as _bk

_ew, _rd, _sh, _la = _bk.elementwise, _bk.reduce, _bk.shape, _bk.linalg
_de, _lo = _bk.dense, _bk.losses

# elementwise
add, subtract, multiply, divide, power = _ew.add, _ew.sub, _ew.mul, _ew.div, _ew.power
negative, maximum, minimum, where, clip = _ew.neg, _ew.maximum, _ew.minimum, _ew.where, _ew.clip
exp, log, log1p, sqrt, abs = _ew.exp, _ew.log, _ew.log1p, _ew.sqrt, _ew.absolute
tanh, relu, sigmoid, sin, cos = _ew.tanh, _ew.relu, _ew.sigmoid, _ew.sin, _ew.cos
# reductions and normalisations
sum, mean, max, min = _rd.sum, _rd.mean, _rd.max, _rd.min
logsumexp, softmax, log_softmax = _rd.logsumexp, _rd.softmax, _rd.log_softmax
# shape
reshape, transpose, concatenate, stack = _sh.reshape, _sh.transpose, _sh.concatenate, _sh.stack
broadcast_to, astype = _sh.broadcast_to, _sh.astype
# linear algebra
matmul, dot = _la.matmul, _la.dot
# the fused dense layer and losses (one node each)
dense = _de.dense
softmax_cross_entropy = _lo.softmax_cross_entropy
binary_cross_entropy_with_logits = _lo.binary_cross_entropy_with_logits
mse_loss, hinge_loss = _lo.mse_loss, _lo.hinge_loss

__all__ = ["add", "subtract", "multiply", "divide", "power", "negative", "maximum", "minimum",
           "where", "clip", "exp", "log", "log1p", "sqrt", "abs", "tanh", "relu", "sigmoid",
           "sin", "cos", "sum", "mean", "max", "min", "logsumexp", "softmax", "log_softmax",
           "reshape", "transpose", "concatenate", "stack", "broadcast_to", "astype", "matmul",
           "dot", "dense", "softmax_cross_entropy", "binary_cross_entropy_with_logits",
           "mse_loss", "hinge_loss"]


def table():
    """(op code, name, VJP formula) for every primitive, from the Python twins."""
    # importing the twins registers their VJPs
    from ._py import dense, elementwise, linalg, losses, reduce, shape  # noqa: F401
    from ._py.node import VJP
    from ._py.opcodes import OP_NAMES
    return [(code, OP_NAMES[code], (vjp.__doc__ or "").strip())
            for code, vjp in enumerate(VJP) if vjp is not None]


if __name__ == "__main__":
    for code, name, formula in table():
        print(f"{code:3d}  {name:12s} {formula}")
