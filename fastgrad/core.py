"""HIPS autograd's core names (autograd.core) on fastgrad's engine.

- ``make_vjp(fun, x)`` -> ``(vjp, value)`` and ``make_jvp(fun, x)`` -> ``jvp(v)`` are the unary
  forms (``fun`` of one variable), what :func:`fastgrad.wrap_util.unary_to_nary` turns into
  the n-ary operators; they run fastgrad.autodiff's ``make_vjp`` / ``make_jvp``.
- ``vspace`` and the VSpace classes come from :mod:`fastgrad.vspace`.
- ``primitive``, ``defvjp``, ``defjvp`` and relatives come from :mod:`fastgrad.extend`.
- ``primitive_vjps`` / ``primitive_jvps``: mappings from a primitive to its rules by argument
  number (reading, replacing and removing them changes the primitive).
"""
from collections.abc import MutableMapping

from . import autodiff
from .extend import (
    PRIMITIVES,
    Primitive,
    def_linear,
    defjvp,
    defjvp_argnum,
    defjvp_argnums,
    defvjp,
    defvjp_argnum,
    defvjp_argnums,
    notrace_primitive,
    primitive,
    register_notrace,
)
from .vspace import (
    ArrayVSpace,
    ComplexArrayVSpace,
    DictVSpace,
    ListVSpace,
    SparseObject,
    TupleVSpace,
    VSpace,
    vspace,
)

__all__ = ["ArrayVSpace", "ComplexArrayVSpace", "DictVSpace", "JVPNode", "ListVSpace",
           "SparseObject", "TupleVSpace", "VJPNode", "VSpace", "def_linear", "defjvp",
           "defjvp_argnum", "defjvp_argnums", "defvjp", "defvjp_argnum", "defvjp_argnums",
           "make_jvp", "make_vjp", "notrace_primitive", "primitive", "primitive_jvps",
           "primitive_vjps", "register_notrace", "vspace"]


def make_vjp(fun, x):
    """``(vjp, fun(x))``: ``vjp(g)`` is the gradient of <g, fun(x)> with respect to x (in
    x's structure). A value that does not depend on x warns and gives zeros."""
    return autodiff.make_vjp(fun)(x)


def make_jvp(fun, x):
    """``jvp(v)`` returning ``(fun(x), the derivative of fun at x along v)``, by forward
    mode."""
    return autodiff.make_jvp(fun)(x)


class VJPNode:
    """autograd's reverse-mode trace type, for :func:`register_notrace` (fastgrad records one
    graph for both modes)."""


class JVPNode:
    """autograd's forward-mode trace type, for :func:`register_notrace`."""


class _Rules(MutableMapping):
    """primitive -> {argnum: maker}, read from and written into the primitives themselves."""

    def __init__(self, attr):
        self._attr = attr

    def __getitem__(self, fun):
        if isinstance(fun, Primitive):
            rules = getattr(fun, self._attr)
            if rules:
                return rules
        raise KeyError(fun)

    def __setitem__(self, fun, rules):
        if not isinstance(fun, Primitive):
            raise TypeError(f"{getattr(fun, '__name__', fun)!r} is not a primitive")
        setattr(fun, self._attr, dict(rules))

    def __delitem__(self, fun):
        self[fun]  # KeyError when it has no rules
        setattr(fun, self._attr, {})

    def __iter__(self):
        return iter([p for p in list(PRIMITIVES) if getattr(p, self._attr)])

    def __len__(self):
        return sum(1 for _ in self)


primitive_vjps = _Rules("vjps")
primitive_jvps = _Rules("jvps")
