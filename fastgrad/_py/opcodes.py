"""Op codes of the array engine: the twin of fastgrad/_cy/opcodes.pxd (same names, same values).

One integer per primitive; a node's ``_op`` holds one, and the sweep looks its VJP up with it.
"""
from enum import IntEnum

OpCode = IntEnum(
    "OpCode",
    """
    OP_LEAF
    OP_ADD OP_SUB OP_MUL OP_DIV OP_POW OP_MAXIMUM OP_MINIMUM
    OP_ADD_S OP_MUL_S OP_DIV_S OP_RSUB_S OP_RDIV_S OP_POW_S OP_RPOW_S
    OP_NEG OP_EXP OP_LOG OP_TANH OP_RELU OP_SIGMOID OP_SQRT OP_ABS OP_LOG1P OP_SIN OP_COS
    OP_CLIP OP_WHERE
    OP_SUM OP_MEAN OP_MAX OP_MIN OP_LOGSUMEXP OP_SOFTMAX OP_LOG_SOFTMAX
    OP_RESHAPE OP_TRANSPOSE OP_GETITEM OP_CONCAT OP_STACK OP_BROADCAST OP_ASTYPE
    OP_MATMUL
    OP_CUSTOM
    OP_DENSE
    OP_SOFTMAX_CE OP_BCE_LOGITS OP_MSE OP_HINGE
    N_OPS
    """.split(),
    start=0,
)

# Plain ints for the hot paths (an IntEnum member is slower to compare and to index with).
globals().update({op.name: int(op) for op in OpCode})

# The name users see in messages and reprs: OP_LOG_SOFTMAX -> "log_softmax".
OP_NAMES = {int(op): op.name[3:].lower() for op in OpCode if op.name.startswith("OP_")}
