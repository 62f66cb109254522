"""Vector spaces of values, with HIPS autograd's names: ``vspace(x)`` says what space ``x`` lives
in (its shape and dtype, or the spaces of a container's items) and does the linear algebra on
its members that gradient checks need (zeros, ones, standard basis, random vectors, add,
scalar_mul, inner_prod, covector).

The members may be traced values (Tensors inside ``grad``): add, scalar_mul and inner_prod are
written with differentiable operations, so they are differentiated like any other code.

A user type gets a space with ``VSpace.register(its_type, maker)``, ``maker(value)`` returning
a VSpace; with a box class (``fastgrad.tracer.Box.register``) it becomes differentiable: its
gradients are summed with the space's ``add`` and start from its ``zeros``.
"""
import numpy as np

from .extend import USER_BOX_TYPES, node_types

__all__ = ["ArrayVSpace", "ComplexArrayVSpace", "DictVSpace", "ListVSpace", "SparseObject",
           "TupleVSpace", "VSpace", "vspace"]

_MAKERS = {}  # value type -> maker, from VSpace.register


def _face(*xs):
    """fastgrad.numpy when one of ``xs`` is a traced value, else numpy."""
    nodes = node_types()
    for x in xs:
        if isinstance(x, nodes):
            from . import numpy as fnp
            return fnp
    return np


class VSpace:
    """The space a value lives in. Subclasses give ``size`` (the dimension) and the
    operations; ``VSpace.register(type, maker)`` adds spaces for user types."""

    iscomplex = False
    size = 0

    # A user space defines these, or autograd's hooks _add, _scalar_mul, _inner_prod and
    # _covector (which the default methods call).
    def zeros(self):
        raise NotImplementedError(f"{type(self).__name__}.zeros")

    def ones(self):
        raise NotImplementedError(f"{type(self).__name__}.ones")

    def standard_basis(self):
        raise NotImplementedError(f"{type(self).__name__}.standard_basis")

    def randn(self, rng=None):
        raise NotImplementedError(f"{type(self).__name__}.randn")

    def add(self, x, y):
        return self._hook("_add")(x, y)

    def mut_add(self, x, y):
        """x + y, written into x where x allows it (x None means zeros)."""
        return y if x is None else self.add(x, y)

    def scalar_mul(self, x, a):
        return self._hook("_scalar_mul")(x, a)

    def inner_prod(self, x, y):
        return self._hook("_inner_prod")(x, y)

    def covector(self, x):
        """The dual vector of x (x itself in a real space, its conjugate in a complex one)."""
        hook = getattr(self, "_covector", None)
        return x if hook is None else hook(x)

    def _hook(self, name):
        hook = getattr(self, name, None)
        if hook is None:
            raise NotImplementedError(f"{type(self).__name__} defines neither "
                                      f"{name.lstrip('_')} nor {name}")
        return hook

    def examples(self):
        """A few members, for tests: zeros, ones and a random vector."""
        return [self.zeros(), self.ones(), self.randn()]

    @classmethod
    def register(cls, value_type, vspace_maker=None):
        """Give values of ``value_type`` the space ``vspace_maker(value)`` (default: this
        class)."""
        _MAKERS[value_type] = vspace_maker if vspace_maker is not None else cls

    def __eq__(self, other):
        return type(self) is type(other) and self._key() == other._key()

    def __ne__(self, other):
        return not self == other

    def __hash__(self):
        return hash((type(self), self._key()))

    def _key(self):
        return ()

    def __repr__(self):
        return f"{type(self).__name__}({self._key()})"


class ArrayVSpace(VSpace):
    """Real arrays (and floats, and traced values) of one shape and dtype."""

    def __init__(self, value):
        data = np.asarray(getattr(value, "data", value) if isinstance(value, node_types())
                          else value)
        self.shape = data.shape
        self.dtype = data.dtype
        self.ndim = data.ndim
        self.size = int(np.prod(self.shape, dtype=np.int64))

    def _key(self):
        return (self.shape, self.dtype)

    def zeros(self):
        return np.zeros(self.shape, self.dtype)

    def ones(self):
        return np.ones(self.shape, self.dtype)

    def standard_basis(self):
        for index in np.ndindex(*self.shape):
            e = np.zeros(self.shape, self.dtype)
            e[index] = 1
            yield e

    def randn(self, rng=None):
        draw = (rng or np.random).standard_normal(self.shape)
        return np.asarray(draw).astype(self.dtype)

    def add(self, x, y):
        return x + y

    def mut_add(self, x, y):
        if x is None:
            return y
        if type(x) is np.ndarray and x.flags.writeable and not isinstance(y, node_types()):
            x += y
            return x
        return x + y

    def scalar_mul(self, x, a):
        return x * a

    def inner_prod(self, x, y):
        """sum(x * y) over every axis."""
        return _face(x, y).sum(x * y)


class ComplexArrayVSpace(ArrayVSpace):
    """Complex arrays: a real space of twice the dimension (real and imaginary parts), with
    the inner product Re(sum(conj(x) * y))."""

    iscomplex = True

    def __init__(self, value):
        super().__init__(value)
        self.size = 2 * self.size

    def ones(self):
        return np.full(self.shape, 1 + 1j, self.dtype)

    def standard_basis(self):
        for index in np.ndindex(*self.shape):
            for unit in (1, 1j):
                e = np.zeros(self.shape, self.dtype)
                e[index] = unit
                yield e

    def randn(self, rng=None):
        source = rng or np.random
        draw = source.standard_normal(self.shape) + 1j * source.standard_normal(self.shape)
        return np.asarray(draw).astype(self.dtype)

    def inner_prod(self, x, y):
        """Re(sum(conj(x) * y))."""
        fnp = _face(x, y)
        return fnp.real(fnp.sum(fnp.conj(x) * y))

    def covector(self, x):
        return _face(x).conj(x)


class _ContainerVSpace(VSpace):
    """A list, tuple or dict: the direct sum of its items' spaces."""

    def __init__(self, value):
        self.kind = type(value)
        self.keys, items = self._split(value)
        self.spaces = [vspace(v) for v in items]
        self.size = sum(vs.size for vs in self.spaces)
        self.iscomplex = any(vs.iscomplex for vs in self.spaces)

    def _split(self, value):
        return None, list(value)

    def _items(self, x):
        return list(x)

    def _build(self, items):
        if issubclass(self.kind, tuple) and hasattr(self.kind, "_fields"):  # namedtuple
            return self.kind(*items)
        return self.kind(items)

    def _key(self):
        return (self.kind, self.keys, tuple(self.spaces))

    def _map(self, f, *xs):
        columns = [self._items(x) for x in xs]
        return self._build([f(vs, *parts) for vs, *parts in zip(self.spaces, *columns)])

    def zeros(self):
        return self._build([vs.zeros() for vs in self.spaces])

    def ones(self):
        return self._build([vs.ones() for vs in self.spaces])

    def randn(self, rng=None):
        return self._build([vs.randn(rng) for vs in self.spaces])

    def standard_basis(self):
        for i, space in enumerate(self.spaces):
            for e in space.standard_basis():
                items = [vs.zeros() for vs in self.spaces]
                items[i] = e
                yield self._build(items)

    def add(self, x, y):
        return self._map(lambda vs, a, b: vs.add(a, b), x, y)

    def mut_add(self, x, y):
        if x is None:
            return y
        return self._map(lambda vs, a, b: vs.mut_add(a, b), x, y)

    def scalar_mul(self, x, a):
        return self._map(lambda vs, v: vs.scalar_mul(v, a), x)

    def inner_prod(self, x, y):
        total = 0.0
        for vs, a, b in zip(self.spaces, self._items(x), self._items(y)):
            total = total + vs.inner_prod(a, b)
        return total

    def covector(self, x):
        return self._map(lambda vs, v: vs.covector(v), x)


class ListVSpace(_ContainerVSpace):
    """Lists: the direct sum of the items' spaces."""


class TupleVSpace(_ContainerVSpace):
    """Tuples (and namedtuples): the direct sum of the items' spaces."""


class DictVSpace(_ContainerVSpace):
    """Dicts: the direct sum of the values' spaces, in the dict's key order."""

    def _split(self, value):
        keys = tuple(value)
        return keys, [value[k] for k in keys]

    def _items(self, x):
        return [x[k] for k in self.keys]

    def _build(self, items):
        return self.kind(zip(self.keys, items))


class SparseObject:
    """A gradient that is mostly zeros (autograd's): a VJP may return one instead of a dense
    array; ``mut_add(x)`` adds it into the dense array ``x`` (and returns the sum)."""

    __slots__ = ("mut_add", "vs")

    def __init__(self, vs, mut_add):
        self.vs = vs
        self.mut_add = mut_add


def vspace(value):
    """The vector space of ``value``: a float array, float or traced value (ArrayVSpace), a
    complex one (ComplexArrayVSpace), a list, tuple or dict of them, or a registered type."""
    t = type(value)
    maker = _MAKERS.get(t)
    if maker is not None:
        return maker(value)
    if t in USER_BOX_TYPES:  # a traced user value: its value's space
        return vspace(value._value)
    if isinstance(value, SparseObject):
        return value.vs
    nodes = node_types()
    if isinstance(value, nodes):
        return ArrayVSpace(value)
    if isinstance(value, (np.ndarray, np.number, float, complex)) and not isinstance(
            value, (bool, np.bool_)):
        if np.iscomplexobj(value):
            return ComplexArrayVSpace(value)
        return ArrayVSpace(value)
    if isinstance(value, dict):
        return DictVSpace(value)
    if isinstance(value, tuple):
        return TupleVSpace(value)
    if isinstance(value, list):
        return ListVSpace(value)
    for base, maker in _MAKERS.items():
        if isinstance(value, base):
            return maker(value)
    raise TypeError(f"vspace: no vector space for a value of type {t.__name__}; values are "
                    f"floats, float or complex arrays, lists, tuples and dicts of them, or "
                    f"types given one with VSpace.register")
