"""autograd.misc.fixed_points' ``fixed_point``: a fixed point found by iteration,
differentiated through the implicit function theorem (not through the iterations).

``fixed_point(f, a, x0, distance, tol)`` iterates ``x <- f(a)(x)`` from ``x0`` until
``distance(x, previous) <= tol`` and returns x* (= f(a)(x*)). Its gradient with respect to
``a``: with F(a, x) = f(a)(x), the cotangent g of x* gives w = g + F_x^T w (solved by the same
kind of iteration, which converges where the forward one does: F_x is a contraction there)
and the gradient is F_a^T w.
"""
from .. import autodiff
from ..extend import defvjp, primitive

__all__ = ["fixed_point"]


@primitive
def fixed_point(f, a, x0, distance, tol):
    """x* = f(a)(x*), iterating from x0 until distance(x, previous) <= tol."""
    step = f(a)
    x, previous = step(x0), x0
    while distance(x, previous) > tol:
        x, previous = step(x), x
    return x


def _fixed_point_vjp(ans, f, a, x0, distance, tol):
    """g -> F_a^T w with w = g + F_x^T w at the fixed point (see the module docstring)."""
    def vjp(g):
        vjp_x, _ = autodiff.make_vjp(lambda x: f(a)(x))(ans)
        w, previous = g + vjp_x(g), g
        while distance(w, previous) > tol:
            w, previous = g + vjp_x(w), w
        vjp_a, _ = autodiff.make_vjp(lambda b: f(b)(ans))(a)
        return vjp_a(w)
    return vjp


defvjp(fixed_point, None, _fixed_point_vjp)
