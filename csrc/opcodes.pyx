# The op-code enum is declared in fastgrad/_cy/opcodes.pxd; compiling this module exports it to Python.
