"""numpy.random, unchanged (random draws are not differentiated): for
``import fastgrad.numpy.random as npr`` in autograd code."""
import numpy.random as _random
from numpy.random import *

__all__ = list(_random.__all__)


def __getattr__(name):
    return getattr(_random, name)
