"""Gradient checks with HIPS autograd's meaning (autograd.test_util): forward and reverse mode
against finite differences, to any order.

``check_grads(f, argnum=0, modes=("fwd", "rev"), order=2)(*args)`` checks ``f`` at ``args``
with respect to argument ``argnum`` (an int, or a tuple: then the tuple of those arguments is
the variable), along random directions of the argument's vector space (see fastgrad.vspace;
arrays, floats, and lists, tuples and dicts of them, for the argument and for the value):

- forward mode: the tangent from ``make_jvp`` against central differences of ``f``;
- reverse mode: <v, vjp(u)> from ``make_vjp`` against <u, J v> by central differences;
- for ``order > 1``, the same checks of (x, v) -> J v and (x, u) -> J^T u, which
  differentiates every derivative rule again.

A mismatch raises AssertionError naming the mode and the function ("reverse mode (VJP) check
of vjp_f failed ..."). Checks run in the arguments' precision: use float64.
"""
import itertools

import numpy as np

from . import _backend, autodiff
from .vspace import vspace
from .wrap_util import get_name, subval, subvals

__all__ = ["check_equivalent", "check_grads", "combo_check", "scalar_close"]

EPS = 1e-6   # step of the central differences
RTOL = 1e-6
ATOL = 1e-6


def scalar_close(a, b):
    """a and b agree to ATOL absolutely or RTOL relatively."""
    a, b = _number(a), _number(b)
    return abs(a - b) < ATOL or abs(a - b) < RTOL * abs(a + b)


def _number(x):
    return complex(np.asarray(getattr(x, "data", x))) if np.iscomplexobj(
        getattr(x, "data", x)) else float(np.asarray(getattr(x, "data", x)))


def check_equivalent(x, y):
    """x and y live in the same vector space and agree (projected on a random vector)."""
    x_vs, y_vs = vspace(x), vspace(y)
    assert x_vs == y_vs, f"check_equivalent: the values live in different spaces:\n" \
                         f"x: {x_vs}\ny: {y_vs}"
    v = x_vs.randn()
    assert scalar_close(x_vs.inner_prod(x, v), x_vs.inner_prod(y, v)), \
        f"check_equivalent: the values differ:\nx: {x}\ny: {y}"


def _numeric_jvp(f, x, v):
    """The derivative of f at x along v, by central differences."""
    x_vs = vspace(x)
    up = f(x_vs.add(x, x_vs.scalar_mul(v, EPS / 2)))
    down = f(x_vs.add(x, x_vs.scalar_mul(v, -EPS / 2)))
    y_vs = vspace(up)
    return y_vs.scalar_mul(y_vs.add(up, y_vs.scalar_mul(down, -1.0)), 1.0 / EPS)


def _check_jvp(f, x, rng):
    x_vs = vspace(x)
    v = x_vs.randn(rng)
    _, exact = autodiff.make_jvp(f)(x)(v)
    numeric = _numeric_jvp(f, x, v)
    y_vs = vspace(numeric)
    w = y_vs.randn(rng)
    a, b = y_vs.inner_prod(w, exact), y_vs.inner_prod(w, numeric)
    if not scalar_close(a, b):
        raise AssertionError(
            f"forward mode (JVP) check of {get_name(f)} failed: along a random direction, "
            f"make_jvp gives {exact!r} but finite differences give {numeric!r} (projected: "
            f"{_number(a)!r} and {_number(b)!r})")


def _check_vjp(f, x, rng):
    x_vs = vspace(x)
    vjp, y = autodiff.make_vjp(f)(x)
    y_vs = vspace(y)
    v = x_vs.randn(rng)  # x's direction first, then y's: autograd's order of draws
    u = y_vs.randn(rng)
    vjp_u = vjp(y_vs.covector(u))
    exact = x_vs.inner_prod(v, x_vs.covector(vjp_u))
    numeric = y_vs.inner_prod(u, _numeric_jvp(f, x, v))
    if not scalar_close(exact, numeric):
        raise AssertionError(
            f"reverse mode (VJP) check of {get_name(f)} failed: <v, vjp(u)> = "
            f"{_number(exact)!r} but finite differences give <u, J v> = {_number(numeric)!r}")


def _check(f, x, modes, order, rng):
    if "fwd" in modes:
        _check_jvp(f, x, rng)
        if order > 1:
            def jvp_f(xv):
                return autodiff.make_jvp(f)(xv[0])(xv[1])[1]
            jvp_f.__name__ = f"jvp_{get_name(f)}"
            _check(jvp_f, (x, vspace(x).randn(rng)), modes, order - 1, rng)
    if "rev" in modes:
        _check_vjp(f, x, rng)
        if order > 1:
            def vjp_f(xu):
                return autodiff.make_vjp(f)(xu[0])[0](xu[1])
            vjp_f.__name__ = f"vjp_{get_name(f)}"
            u = vspace(f(x)).randn(rng)
            _check(vjp_f, (x, u), modes, order - 1, rng)


def check_grads(f, argnum=0, modes=("fwd", "rev"), order=2, *, seed=None, backend=None):
    """A function of ``f``'s arguments that checks ``f``'s derivatives there (see the module
    docstring) and raises AssertionError naming the mode and the function on a mismatch.

    ``seed`` seeds the random directions (default None: numpy's global generator, drawn in
    autograd's order, so that a script seeded with ``npr.seed`` checks along autograd's
    directions);
    ``backend`` ("cython" or "python"), if given, must be the active one (fastgrad binds one
    backend per process; ``FASTGRAD_NO_EXTENSIONS=1`` selects the twins)."""
    modes = tuple(modes)
    if not modes or any(m not in ("fwd", "rev") for m in modes):
        raise ValueError(f"check_grads: modes must be 'fwd' and/or 'rev', got {modes!r}")
    if order < 1:
        raise ValueError(f"check_grads: order must be at least 1, got {order!r}")
    if type(argnum) is not int:
        argnum = tuple(argnum)
    if backend is not None and backend != _backend.active.name:
        raise ValueError(f"check_grads: backend={backend!r}, but this process runs "
                         f"{_backend.active.name!r} (fastgrad binds one backend per process; "
                         f"FASTGRAD_NO_EXTENSIONS=1 selects the Python twins)")

    def checker(*args, **kwargs):
        if type(argnum) is int:
            x = args[argnum]

            def unary(x):
                return f(*subval(args, argnum, x), **kwargs)
        else:
            x = tuple(args[i] for i in argnum)

            def unary(x):
                return f(*subvals(args, zip(argnum, x)), **kwargs)
        unary.__name__ = get_name(f)
        rng = None if seed is None else np.random.default_rng(seed)
        _check(unary, x, modes, order, rng)
    return checker


def combo_check(fun, *args, **kwargs):
    """check_grads of ``fun`` at every combination of the given values, autograd's way:
    ``combo_check(fun, argnum, modes=..., order=...)(arg0_values, arg1_values, ...,
    keyword=[values], ...)``; ``args`` and ``kwargs`` here go to :func:`check_grads`."""
    def checker(*arg_values, **kwarg_values):
        names = list(kwarg_values)
        for positional in itertools.product(*arg_values):
            for chosen in itertools.product(*kwarg_values.values()):
                check_grads(fun, *args, **kwargs)(*positional, **dict(zip(names, chosen)))
    return checker
