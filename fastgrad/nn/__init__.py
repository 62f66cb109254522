"""Models and layers: fastgrad.nn.Module, the base of both faces' models."""
from .module import Module
from .scalar import MLP, Layer, Neuron

__all__ = ["Module", "Neuron", "Layer", "MLP"]
