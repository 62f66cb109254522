"""The complex Tensor class: the active backend's Tensor holding complex64/complex128 values.

It is made on the numpy face (by a complex argument of ``grad``, or an op with a complex result;
see fastgrad/ops/complex_ops.py, whose ``promote`` re-classes such a node to it). Its operators
and methods run the op table's rules on the Python path; ``_backend`` is a view of the active
backend whose kernels (``k.*`` in the rules) take that path too.
"""
import numpy as np

from ._backend import active
from .ops.complex_ops import (
    COMPLEX_KERNELS,
    ComplexBackend,
    _dot,
    _mean,
    _reshape,
    _sum,
    _transpose,
    _ufuncs,
    absolute,
    as_dtype,
    call,
    conj,
    imag,
    real,
)
from .ops.table import OPS
from .tensor import Tensor

_ew, _sh = COMPLEX_KERNELS["elementwise"], COMPLEX_KERNELS["shape"]


class ComplexTensor(Tensor):
    """A Tensor holding complex64/complex128 values, made on the numpy face (by a complex
    argument of ``grad``, or an op with a complex result); its operators and methods run
    the table's rules on the Python path."""

    __slots__ = ()
    _backend = ComplexBackend(active)

    __add__ = _ew["add"]
    __sub__ = _ew["sub"]
    __mul__ = _ew["mul"]
    __truediv__ = _ew["div"]
    __pow__ = _ew["power"]
    __matmul__ = COMPLEX_KERNELS["linalg"]["matmul"]
    __neg__ = _ew["neg"]
    __getitem__ = _sh["getitem"]
    __abs__ = absolute
    sum = _sum
    mean = _mean
    transpose = _transpose
    astype = as_dtype

    def __radd__(self, other):
        return call(OPS["add"], [other, self])

    def __rsub__(self, other):
        return call(OPS["sub"], [other, self])

    def __rmul__(self, other):
        return call(OPS["mul"], [other, self])

    def __rtruediv__(self, other):
        return call(OPS["div"], [other, self])

    def __rpow__(self, other):
        return call(OPS["pow"], [other, self])

    def __rmatmul__(self, other):
        return call(OPS["matmul"], [other, self])

    def __pos__(self):
        return self

    def reshape(self, *shape):
        if len(shape) == 1 and not isinstance(shape[0], (int, np.integer)):
            shape = shape[0]
        return _reshape(self, shape)

    def dot(self, other):
        return _dot(self, other)

    @property
    def T(self):
        return _transpose(self)

    @property
    def real(self):
        return real(self)

    @property
    def imag(self):
        return imag(self)

    def conj(self):
        return conj(self)

    conjugate = conj

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        fn = _ufuncs.get(ufunc)
        if fn is None or method != "__call__" or kwargs:
            raise TypeError(f"{ufunc.__name__}: not supported on complex traced values")
        return fn(*inputs)

    def __repr__(self):
        return f"ComplexTensor({self.data!r})"
