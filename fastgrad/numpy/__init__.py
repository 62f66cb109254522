"""numpy, differentiable: ``import fastgrad.numpy as np`` in code written for HIPS autograd.

Every differentiable function (exp, log, tanh, dot, sum, max, reshape, concatenate, where, ...)
records the graph when given a traced value (inside ``fastgrad.grad``) and, on plain arrays,
returns exactly what numpy returns, so the same code runs inside and outside ``grad``.
Everything else numpy has (array creation, ``random``, dtypes, constants) is numpy's own; a numpy
function without a gradient, called on a traced value, raises a TypeError naming it.

The functions are bound to the active backend (``fastgrad.BACKEND``) once, at import.

Differences from ``autograd.numpy`` worth knowing:

- Traced values are fastgrad Tensors: operators, indexing, ``.T``, ``.shape``, ``.reshape``,
  ``.sum`` and the ndarray methods numpy users call (``.dot``, ``.ravel``, ``.squeeze``,
  ``.var``, ``.real``, ...; fastgrad/_ndarray_methods.py) work.
- Plain numpy (``import numpy``) called on a traced value goes through numpy's protocols: the
  functions this module differentiates record the graph, the others raise; ``numpy.asarray``
  (to a float dtype) and ``float()`` of a traced value inside ``grad`` raise TypeError rather
  than leave the graph silently. Use this module inside ``grad``.
- Derivatives nest to any order (grad of grad, hessian, make_jvp): see fastgrad.autodiff.
"""
import types as _types

import numpy as _np

from ..extend import node_types as _node_types
from . import _complex, _face, _functions  # noqa: F401  (_functions completes _face.FUNCTIONS)

_MODULE_TYPES = (_types.ModuleType, type, _np.ufunc, _np.dtype)


globals().update(_face.FUNCTIONS)
globals().update(_complex.FUNCTIONS)
__all__ = sorted(set(_np.__all__) | set(_face.FUNCTIONS))  # noqa: PLE0605

from . import fft, linalg, random  # noqa: F401  (fastgrad.numpy.fft, ...)


def __getattr__(name):
    """numpy's own object for every name not defined here: functions are guarded against
    traced values (they have no gradient), the rest (types, constants, submodules, ufuncs,
    which numpy itself refuses on traced values, naming them) is numpy's unchanged."""
    try:
        obj = getattr(_np, name)
    except AttributeError:
        raise AttributeError(f"module 'fastgrad.numpy' has no attribute {name!r}") from None
    if callable(obj) and not isinstance(obj, _MODULE_TYPES):
        obj = _face.guard(name, obj, _node_types)
    globals()[name] = obj
    return obj


def __dir__():
    return sorted(set(globals()) | set(dir(_np)))
