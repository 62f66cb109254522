# Stub of the compiled module fastgrad._cy.opcodes (the enum is declared in opcodes.pxd).
from enum import IntEnum

class OpCode(IntEnum): ...
