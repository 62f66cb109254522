"""Helpers from autograd.misc: ``flatten`` and the optimizers ``sgd``, ``rmsprop``, ``adam``."""
from . import optimizers  # noqa: F401
from .flatten import flatten, flatten_func  # noqa: F401
