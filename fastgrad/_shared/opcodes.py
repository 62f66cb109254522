"""Op codes of the array engine: one integer per primitive, read from the one hand-written
list, the ``OpCode`` enum of fastgrad/_cy/opcodes.pxd (which the compiled kernels switch on, and
whose comments say what each op keeps in ``_ctx``). Here they are plain ints with the same names
(``OP_ADD``, ..., ``N_OPS``), an ``OpCode`` IntEnum and ``OP_NAMES`` (code -> the name users
see). The op table (fastgrad/ops/) names each code's entry; tests/test_optable.py checks that
the two agree.

A new op code is one line in the .pxd, before N_OPS.
"""
import os
import re
from enum import IntEnum

PXD = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "_cy",
                   "opcodes.pxd")


def read_enum(path):
    """The member names of ``cpdef enum OpCode`` in ``path``, in order (their values)."""
    names, inside = [], False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("cpdef enum OpCode"):
                inside = True
                continue
            if not inside:
                continue
            match = re.match(r"\s+(OP_\w+|N_OPS)\b", line)
            if match:
                names.append(match.group(1))
            elif line.strip() and not line.lstrip().startswith("#"):
                break
    if not names or names[0] != "OP_LEAF" or names[-1] != "N_OPS":
        raise ImportError(f"fastgrad: cannot read the op codes from {path}")
    return names


OpCode = IntEnum("OpCode", {name: value for value, name in enumerate(read_enum(PXD))})
globals().update({op.name: int(op) for op in OpCode})

# The name users see in messages and reprs: OP_LOG_SOFTMAX -> "log_softmax".
OP_NAMES = {int(op): op.name[3:].lower() for op in OpCode if op.name.startswith("OP_")}

__all__ = ["OP_NAMES", "OpCode", "read_enum", *(op.name for op in OpCode)]  # noqa: PLE0604
