"""HIPS autograd's differential operators (autograd.differential_operators): fastgrad.autodiff's
(grad, make_vjp, make_jvp, jacobian, hessian, ...) and the rest, built on them:

- ``tensor_jacobian_product(fun, argnum)(*args, v)``: v contracted with the leading axes of
  fun's Jacobian (a vector-Jacobian product when v has the value's shape);
- ``make_jvp_reversemode(fun, argnum)(*args)``: ``jvp(v)``, the Jacobian-vector product by
  two reverse passes (the VJP is linear in its cotangent; its own VJP is J v);
- ``deriv(fun, argnum)``: the derivative along ones (forward mode), for scalar functions of a
  scalar the ordinary derivative;
- ``holomorphic_grad(fun, argnum)``: the complex derivative of a holomorphic function (on real
  inputs it warns and is the gradient);
- ``grad_named(fun, argname)``, ``multigrad_dict(fun)``: gradients by argument name;
- ``checkpoint(fun)``: the same function, whose backward pass recomputes its forward instead
  of keeping its intermediate values (memory for time).
"""
import inspect
import warnings

import numpy as np

from . import autodiff
from .autodiff import (
    elementwise_grad,
    grad,
    grad_and_aux,
    hessian,
    hessian_tensor_product,
    hessian_vector_product,
    jacobian,
    make_ggnvp,
    make_hvp,
    make_jvp,
    make_vjp,
    value_and_grad,
)
from .extend import defvjp_argnums, node_types, primitive
from .vspace import vspace

__all__ = ["checkpoint", "deriv", "elementwise_grad", "grad", "grad_and_aux", "grad_named",
           "hessian", "hessian_tensor_product", "hessian_vector_product", "holomorphic_grad",
           "jacobian", "make_ggnvp", "make_hvp", "make_jvp", "make_jvp_reversemode", "make_vjp",
           "multigrad_dict", "tensor_jacobian_product", "value_and_grad"]


def _name(fun):
    return getattr(fun, "__name__", "function")


def _named(f, op, fun, argnum, doc):
    f.__name__ = f.__qualname__ = f"{op}_of_{_name(fun)}_wrt_argnum_{argnum}"
    f.__doc__ = doc
    f.__wrapped__ = fun
    return f


def _ndim(x):
    return np.ndim(x.data if isinstance(x, node_types()) else x)


def tensor_jacobian_product(fun, argnum=0):
    """A function of ``(*args, v)``: ``v`` (shape ``out[:k]``) contracted with the first ``k``
    axes of fun's value, differentiated with respect to argument ``argnum``: shape
    ``out[k:] + in`` (the vector-Jacobian product when ``v`` has the value's shape)."""
    def contracted(*args, **kwargs):
        args, v = args[:-1], args[-1]
        value = fun(*args, **kwargs)
        k = _ndim(v)
        from . import numpy as fnp
        shape = np.shape(v) + (1,) * (_ndim(value) - k)
        return fnp.sum(fnp.reshape(v, shape) * value, axis=tuple(range(k)))

    def product(*args, **kwargs):
        return autodiff.jacobian(contracted, argnum)(*args, **kwargs)
    return _named(product, "tensor_jacobian_product", fun, argnum,
                  tensor_jacobian_product.__doc__)


def make_jvp_reversemode(fun, argnum=0):
    """``make_jvp_reversemode(fun)(*args)`` returns ``jvp(v)``: the Jacobian of fun at args
    times ``v``, by reverse mode twice (for functions without forward-mode rules)."""
    def maker(*args, **kwargs):
        _, value = autodiff.make_vjp(fun, argnum)(*args, **kwargs)

        def vjp_of(u):
            return autodiff.make_vjp(fun, argnum)(*args, **kwargs)[0](u)
        jvp, _ = autodiff.make_vjp(vjp_of)(vspace(value).zeros())
        return jvp
    return _named(maker, "make_jvp_reversemode", fun, argnum, make_jvp_reversemode.__doc__)


def _argument(args, argnum):
    if type(argnum) is int:
        return args[argnum]
    return tuple(args[i] for i in argnum)


def deriv(fun, argnum=0):
    """The derivative of ``fun`` along ones in argument ``argnum`` (forward mode): for a
    function of one scalar, its ordinary derivative."""
    def derivative(*args, **kwargs):
        ones = vspace(_argument(args, argnum)).ones()
        return autodiff.make_jvp(fun, argnum)(*args, **kwargs)(ones)[1]
    return _named(derivative, "deriv", fun, argnum, deriv.__doc__)


def holomorphic_grad(fun, argnum=0):
    """The complex derivative f'(z) of a holomorphic ``fun`` (as the gradient of its real
    part). On a real argument it warns and gives the ordinary gradient."""
    def gradient(*args, **kwargs):
        x = _argument(args, argnum)
        if not vspace(x).iscomplex:
            warnings.warn("holomorphic_grad: the input is not complex", stacklevel=2)
            return autodiff.grad(fun, argnum)(*args, **kwargs)
        from . import numpy as fnp

        def real_part(*a, **k):
            return fnp.real(fun(*a, **k))
        return autodiff.grad(real_part, argnum)(*args, **kwargs)
    return _named(gradient, "holomorphic_grad", fun, argnum, holomorphic_grad.__doc__)


def grad_named(fun, argname):
    """The gradient of ``fun`` with respect to its argument called ``argname`` (passed by
    position)."""
    names = list(inspect.signature(fun).parameters)
    if argname not in names:
        raise ValueError(f"grad_named: {_name(fun)} has no argument {argname!r} (it has "
                         f"{', '.join(names)})")
    return autodiff.grad(fun, names.index(argname))


def multigrad_dict(fun):
    """A function of fun's arguments returning ``{argument name: gradient}`` for all of them
    (defaults included), in one backward pass."""
    sig = inspect.signature(fun)

    def gradients(*args, **kwargs):
        bound = sig.bind(*args, **kwargs)
        bound.apply_defaults()
        values = dict(bound.arguments)

        def of_all(vals):
            call = inspect.BoundArguments(sig, dict(vals))
            return fun(*call.args, **call.kwargs)
        return autodiff.grad(of_all)(values)
    gradients.__name__ = gradients.__qualname__ = f"multigrad_dict_of_{_name(fun)}"
    return gradients


def checkpoint(fun):
    """``fun`` (of arrays, returning an array) as one node of the graph: its forward pass
    keeps no intermediate values, and its backward pass runs ``fun`` again to get them."""
    wrapped = primitive(fun)

    def vjp_maker(argnums, ans, args, kwargs):
        def call(*a):
            return fun(*a, **kwargs)
        return autodiff.make_vjp(call, tuple(argnums))(*args)[0]
    defvjp_argnums(wrapped, vjp_maker)
    return wrapped
