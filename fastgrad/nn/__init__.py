"""Models and layers: fastgrad.nn.Module, the base of both faces' models."""
from .module import Module

__all__ = ["Module"]
