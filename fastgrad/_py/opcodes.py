"""Op codes of the array engine (twin of the compiled fastgrad._cy.opcodes): read from
fastgrad/_cy/opcodes.pxd by fastgrad/_shared/opcodes.py, which both backends share."""
from fastgrad._shared.opcodes import *  # the names of __all__
from fastgrad._shared.opcodes import __all__  # noqa: F401
