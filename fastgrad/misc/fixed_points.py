"""autograd.misc.fixed_points' ``fixed_point``: a fixed point found by iteration,
differentiated through the implicit function theorem (not through the iterations).

``fixed_point(f, a, x0, distance, tol)`` iterates ``x <- f(a)(x)`` from ``x0`` until
``distance(x, previous) <= tol`` and returns x* (= f(a)(x*)). Its gradient with respect to
``a`` (an array, or a list, tuple or dict of them): with F(a, x) = f(a)(x), the cotangent g of
x* gives the adjoint w = g + F_x^T w, itself a fixed point (of w -> F_x^T w + g, found the
same way, from zeros), and the gradient is F_a^T w. The adjoint is computed by
``fixed_point`` too, so higher derivatives are implicit ones as well.
"""
import numpy as np

from .. import autodiff
from ..extend import defvjp, primitive
from ..tracer import getval
from .flatten import flatten

__all__ = ["fixed_point"]


def fixed_point(f, a, x0, distance, tol):
    """x* = f(a)(x*), iterating from x0 until distance(x, previous) <= tol; differentiable
    with respect to ``a``."""
    if isinstance(a, (list, tuple, dict)):
        vector, unflatten = flatten(a)
        return _fixed_point(lambda v: f(unflatten(v)), vector, x0, distance, tol)
    return _fixed_point(f, a, x0, distance, tol)


@primitive
def _fixed_point(f, a, x0, distance, tol):
    """The iteration, on plain values (``a`` one array)."""
    step = f(a)
    x, previous = step(x0), x0
    while distance(x, previous) > tol:
        x, previous = step(x), x
    return x


def _adjoint_step(params):
    """w -> F_x^T w + g at (a, x*) = params[:2], g = params[2]."""
    f, (a, x_star, x_bar) = params[0], params[1:]
    vjp_x, _ = autodiff.make_vjp(lambda x: f(a)(x))(x_star)
    return lambda w: vjp_x(w) + x_bar


def _fixed_point_vjp(ans, f, a, x0, distance, tol):
    """g -> F_a^T w, with w the adjoint fixed point (see the module docstring)."""
    def vjp(g):
        w = fixed_point(lambda p: _adjoint_step((f,) + tuple(p)), (a, ans, g),
                        np.zeros(np.shape(getval(ans))), distance, tol)
        vjp_a, _ = autodiff.make_vjp(lambda b: f(b)(ans))(a)
        return vjp_a(w)
    return vjp


defvjp(_fixed_point, None, _fixed_point_vjp)
