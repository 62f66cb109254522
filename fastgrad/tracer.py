"""Traced values, with HIPS autograd's names (autograd.tracer).

In autograd a traced value is a ``Box`` wrapping the plain value; in fastgrad it is a Tensor
(an array that records the ops applied to it) that requires grad. The names behave as autograd
user code expects:

- ``isbox(x)``: x is a traced value (also ``isinstance(x, Box)``);
- ``getval(x)``: the plain numpy array under a traced value (x itself otherwise);
- ``primitive`` / ``notrace_primitive`` / ``register_notrace``: fastgrad.extend's.

``Box.register(type)`` (autograd's way of tracing a user type) raises: fastgrad traces float
arrays, and lists, tuples and dicts of them, only.
"""
from .extend import node_types, notrace_primitive, primitive, register_notrace

__all__ = ["Box", "getval", "isbox", "notrace_primitive", "primitive", "register_notrace"]


def isbox(x):
    """True when ``x`` is a traced value (a Tensor that requires grad)."""
    return isinstance(x, node_types()) and bool(x.requires_grad)


def getval(x):
    """The plain value of ``x``: a traced value's numpy array (0-d arrays as they are),
    anything else unchanged."""
    if isinstance(x, node_types()):
        return x.data
    return x


class _BoxType(type):
    def __instancecheck__(cls, x):
        return isbox(x)

    def __subclasscheck__(cls, sub):
        return issubclass(sub, node_types())


class Box(metaclass=_BoxType):
    """The type of traced values: ``isinstance(x, Box)`` is ``isbox(x)``. Not instantiable:
    fastgrad makes traced values itself, inside ``grad`` and its relatives."""

    def __new__(cls, *args, **kwargs):
        raise TypeError("Box: fastgrad's traced values are Tensors made by grad (and the other "
                        "differentiation functions); they are not made by hand")

    @classmethod
    def register(cls, value_type):
        raise NotImplementedError(
            f"Box.register({getattr(value_type, '__name__', value_type)}): fastgrad traces "
            f"float arrays and lists, tuples and dicts of them; a value of another type "
            f"cannot be traced (convert it to arrays, or make the function a primitive)")
