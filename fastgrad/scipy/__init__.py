"""The parts of scipy that autograd code differentiates: ``fastgrad.scipy.special``."""
from . import special  # noqa: F401
