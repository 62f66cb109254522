"""The parts of scipy that autograd code differentiates: ``fastgrad.scipy.special``,
``.stats``, ``.signal`` and ``.integrate`` (and ``.linalg``). Each needs scipy, imported when a
function first runs."""
from . import integrate, signal, special, stats  # noqa: F401
