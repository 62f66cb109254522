"""Op codes of the array engine: the twin of fastgrad/_cy/opcodes.pxd (same names, same values;
tests/test_backend.py checks that the two agree).

One integer per primitive; a node's ``_op`` holds one, and the sweep looks its VJP up with it.
New ops are appended before N_OPS, in both files.
"""
from enum import IntEnum

OP_LEAF = 0  # a leaf: user data or a constant; nothing to propagate
# elementwise, two tensors: prev = (a, b)
OP_ADD = 1
OP_SUB = 2
OP_MUL = 3
OP_DIV = 4
OP_POW = 5
OP_MAXIMUM = 6
OP_MINIMUM = 7
# elementwise, a tensor and a Python scalar c kept in ctx: prev = (a,)
OP_ADD_S = 8  # a + c
OP_MUL_S = 9  # a * c
OP_DIV_S = 10  # a / c
OP_RSUB_S = 11  # c - a
OP_RDIV_S = 12  # c / a
OP_POW_S = 13  # a ** c
OP_RPOW_S = 14  # c ** a
# elementwise, one tensor: prev = (a,)
OP_NEG = 15
OP_EXP = 16
OP_LOG = 17
OP_TANH = 18
OP_RELU = 19
OP_SIGMOID = 20
OP_SQRT = 21
OP_ABS = 22
OP_LOG1P = 23
OP_SIN = 24
OP_COS = 25
OP_CLIP = 26  # ctx = (lo, hi)
OP_WHERE = 27  # prev = (a, b), ctx = condition
# reductions and normalisations: ctx = (axis, keepdims) or axis
OP_SUM = 28
OP_MEAN = 29
OP_MAX = 30
OP_MIN = 31
OP_LOGSUMEXP = 32
OP_SOFTMAX = 33
OP_LOG_SOFTMAX = 34
# shape: ctx holds what inverts them
OP_RESHAPE = 35
OP_TRANSPOSE = 36
OP_GETITEM = 37
OP_CONCAT = 38
OP_STACK = 39
OP_BROADCAST = 40
OP_ASTYPE = 41
# linear algebra
OP_MATMUL = 42
# a primitive whose VJP is a Python function: ctx = the VJP
OP_CUSTOM = 43
# fused dense layer: prev = (x, W) or (x, W, b), ctx = the activation's code
OP_DENSE = 44
# fused losses: prev = (input,) or (input, target); ctx = (what the VJP needs, reduction)
OP_SOFTMAX_CE = 45
OP_BCE_LOGITS = 46
OP_MSE = 47
OP_HINGE = 48
N_OPS = 49  # not an op: the size of the VJP table

OpCode = IntEnum("OpCode", {name: value for name, value in globals().items()
                            if name.startswith("OP_") or name == "N_OPS"})

# The name users see in messages and reprs: OP_LOG_SOFTMAX -> "log_softmax".
OP_NAMES = {int(op): op.name[3:].lower() for op in OpCode if op.name.startswith("OP_")}
