"""HIPS autograd's container builtins (autograd.builtins): ``list``, ``tuple``, ``dict`` and
``isinstance`` that work with traced values.

In autograd a container of traced values must be built with these to be traced as one value.
In fastgrad a list, tuple or dict of traced values (Tensors) already is differentiable: each
item keeps its graph, and ``grad``, ``make_vjp``, ``make_jvp`` and ``check_grads`` take and
return such containers. So ``list(...)``, ``tuple(...)`` and ``dict(...)`` here build the plain
Python containers, and ``isinstance(x, list)`` is true for them; ``isinstance(x, ndarray)`` is
true for a traced array (a Tensor), since it stands for one.
"""
import builtins

import numpy as np

from .extend import node_types

__all__ = ["DictBox", "SequenceBox", "dict", "isinstance", "list", "tuple"]

_python_isinstance = builtins.isinstance


class _ContainerType(type):
    """``isinstance(x, fastgrad.builtins.list)`` is ``isinstance(x, builtins.list)``."""

    def __instancecheck__(cls, x):
        return _python_isinstance(x, cls._python)

    def __subclasscheck__(cls, sub):
        return builtins.issubclass(sub, cls._python)


class list(metaclass=_ContainerType):
    """``list(iterable)``: a Python list (its traced items stay traced)."""

    _python = builtins.list

    def __new__(cls, *args):
        return builtins.list(*args)


class tuple(metaclass=_ContainerType):
    """``tuple(iterable)``: a Python tuple (its traced items stay traced)."""

    _python = builtins.tuple

    def __new__(cls, *args):
        return builtins.tuple(*args)


class dict(metaclass=_ContainerType):
    """``dict(...)``, with the arguments of Python's dict: a Python dict (its traced values
    stay traced)."""

    _python = builtins.dict

    def __new__(cls, *args, **kwargs):
        return builtins.dict(*args, **kwargs)


SequenceBox = builtins.tuple([list, tuple])  # what autograd calls its traced sequences
DictBox = dict


def _python_types(classinfo):
    """``classinfo`` with this module's containers as Python's, and numpy's ndarray also
    matching traced arrays."""
    if _python_isinstance(classinfo, builtins.tuple):
        out = []
        for c in classinfo:
            out.extend(_python_types(c))
        return builtins.tuple(out)
    python = getattr(classinfo, "_python", None) if _python_isinstance(
        classinfo, _ContainerType) else None
    if python is not None:
        return (python,)
    if classinfo is np.ndarray:
        return (np.ndarray,) + node_types()
    return (classinfo,)


def isinstance(obj, classinfo):
    """Python's isinstance, where a traced array counts as a numpy ndarray and this module's
    list, tuple and dict as Python's."""
    return _python_isinstance(obj, _python_types(classinfo))
