"""Models and layers: fastgrad.nn.Module, the base of both faces' models."""
from . import functional, init
from .layers import Linear, ReLU, Sequential, Sigmoid, Tanh, mlp
from .losses import BCEWithLogitsLoss, CrossEntropyLoss, HingeLoss, MSELoss
from .module import Module
from .scalar import MLP, Layer, Neuron

__all__ = ["Module", "Neuron", "Layer", "MLP", "Linear", "Sequential", "Tanh", "ReLU", "Sigmoid",
           "mlp", "functional", "init", "CrossEntropyLoss", "BCEWithLogitsLoss", "MSELoss",
           "HingeLoss"]
