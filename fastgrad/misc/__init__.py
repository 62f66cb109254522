"""Helpers from autograd.misc: ``flatten``, the optimizers ``sgd``, ``rmsprop``, ``adam``,
``const_graph`` (misc.tracers) and ``fixed_point`` (misc.fixed_points)."""
from . import optimizers  # noqa: F401
from .fixed_points import fixed_point  # noqa: F401
from .flatten import flatten, flatten_func  # noqa: F401
from .tracers import const_graph  # noqa: F401
