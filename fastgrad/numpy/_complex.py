"""fastgrad.numpy's functions for complex values (real, imag, conj, angle, abs), bound to the
active backend at import: on traced values they run the op table's complex entries
(fastgrad/ops/complex_ops.py); on plain values numpy's own functions. ``abs`` keeps the compiled kernel for real Tensors."""
import numpy as np

from .._backend import active
from ..ops import complex_ops
from . import _face


def _named(f, name, like):
    f.__name__ = f.__qualname__ = name
    f.__doc__ = getattr(like, "__doc__", None)
    f.__module__ = "fastgrad.numpy"
    f.__wrapped__ = like
    return f


Node = active.node.Node
# name -> function
FUNCTIONS = fns = {}


def unary(name, op, plain):
    def f(x, *args, **kwargs):
        if isinstance(x, Node):
            if args or kwargs:
                raise TypeError(f"fastgrad.numpy.{name}: extra arguments are not "
                                f"supported on traced values")
            return op(x)
        return plain(x, *args, **kwargs)
    fns[name] = _named(f, name, plain)


unary("real", complex_ops.real, np.real)
unary("imag", complex_ops.imag, np.imag)
unary("conj", complex_ops.conj, np.conj)
unary("conjugate", complex_ops.conj, np.conjugate)
unary("angle", complex_ops.angle, np.angle)
real_abs = _face.FUNCTIONS["absolute"]


def absolute(x, *args, **kwargs):
    if isinstance(x, Node) and x.data.dtype.kind == "c":
        if args or kwargs:
            raise TypeError("fastgrad.numpy.absolute: extra arguments are not supported "
                            "on traced values")
        return complex_ops.absolute(x)
    return real_abs(x, *args, **kwargs)


fns["absolute"] = fns["abs"] = _named(absolute, "absolute", np.absolute)


def real_if_close(a, tol=100):
    if isinstance(a, Node):
        return complex_ops.real(a) if np.all(np.abs(np.imag(a.data)) <= tol *
                                            np.finfo(a.data.dtype).eps) else a
    return np.real_if_close(a, tol)


fns["real_if_close"] = _named(real_if_close, "real_if_close", np.real_if_close)
