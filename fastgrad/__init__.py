"""fastgrad: reverse-mode automatic differentiation for Python, with a Cython-compiled engine.

>>> import fastgrad as fg
>>> x = fg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad
array([2., 4., 6.])
"""
from ._backend import active as _active
from .autodiff import elementwise_grad, grad, grad_and_aux, jacobian, make_vjp, value_and_grad
from .engine import enable_grad, is_grad_enabled, no_grad, set_finite_check, set_grad_enabled
from .extend import defvjp, primitive
from .gradcheck import GradcheckError, gradcheck
from .ops import *  # noqa: F401,F403  (the functional forms of the ops)
from .ops import __all__ as _ops_all
from .tensor import Tensor

BACKEND = _active.name
"""Which engine is live: "cython" (compiled) or "python" (the pure-Python twins)."""

__version__ = "0.1.0"

__all__ = ["BACKEND", "Tensor", "gradcheck", "GradcheckError", "no_grad", "enable_grad",
           "set_grad_enabled", "is_grad_enabled", "set_finite_check",
           "grad", "value_and_grad", "elementwise_grad", "jacobian", "grad_and_aux", "make_vjp",
           "primitive", "defvjp", *_ops_all]
