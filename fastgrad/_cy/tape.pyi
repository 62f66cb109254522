"""Type stub of the compiled module fastgrad._cy.tape (source: csrc/tape.pyx)."""
from collections.abc import Sequence
from typing import Any

import numpy as np

FUNCTIONS: dict[str, int]
KIND_NAMES: list[str]

class Tape:
    arena_bytes: int
    params: list[Any]
    def __init__(self, program: Sequence[tuple], inputs: Sequence[np.ndarray],
                 params: Sequence[tuple], guards: Sequence[tuple], scalars: np.ndarray,
                 loss: np.ndarray, arena: Sequence[np.ndarray], error: type) -> None: ...
    def replay(self, args: tuple, slots: Sequence[float]) -> float: ...
    def op_kinds(self) -> list[str]: ...
    def op_times(self, repeats: int = ...) -> list[tuple[str, float]]: ...
