"""fastgrad: reverse-mode automatic differentiation for Python, with a Cython-compiled engine.

>>> import fastgrad as fg
>>> x = fg.Tensor([1.0, 2.0, 3.0], requires_grad=True)
>>> (x * x).sum().backward()
>>> x.grad
array([2., 4., 6.])
"""
from . import memory, nn, optim
from ._backend import active as _active
from .autodiff import (
    elementwise_grad,
    grad,
    grad_and_aux,
    hessian,
    hessian_tensor_product,
    hessian_vector_product,
    jacobian,
    jvp,
    make_ggnvp,
    make_hvp,
    make_jvp,
    make_vjp,
    value_and_grad,
)
from .capture import CaptureError, capture, capture_value_and_grad
from .differential_operators import (
    deriv,
    grad_named,
    holomorphic_grad,
    make_jvp_reversemode,
    multigrad_dict,
    tensor_jacobian_product,
)
from .engine import enable_grad, is_grad_enabled, no_grad, set_finite_check, set_grad_enabled
from .extend import defjvp, defvjp, primitive
from .gradcheck import GradcheckError, gradcheck
from .ops import *  # noqa: F401,F403  (the functional forms of the ops)
from .ops import __all__ as _ops_all
from .recorded import gradients
from .serialization import load_parameters, load_state, save_parameters
from .tensor import Tensor
from .training import evaluate, fit, predict
from .value import Value

BACKEND = _active.name
"""Which engine is live: "cython" (compiled) or "python" (the pure-Python twins)."""

__version__ = "0.1.0"

__all__ = ["BACKEND", "Tensor", "capture", "CaptureError", "gradcheck", "GradcheckError",
           "capture_value_and_grad", "no_grad", "enable_grad",
           "Value", "set_grad_enabled", "is_grad_enabled", "set_finite_check", "nn", "optim",
           "fit", "predict", "evaluate", "save_parameters", "load_parameters", "load_state",
           "grad", "value_and_grad", "elementwise_grad", "jacobian", "grad_and_aux", "make_vjp",
           "hessian", "make_hvp", "hessian_tensor_product", "hessian_vector_product", "make_jvp",
           "jvp", "make_ggnvp", "gradients", "primitive", "defvjp", "defjvp", "memory",
           "checkpoint", "deriv", "grad_named", "holomorphic_grad", "make_jvp_reversemode",
           "multigrad_dict", "tensor_jacobian_product",
           *_ops_all]

# autograd's container builtins, as fastgrad.list / tuple / dict / isinstance (not in __all__:
# a star import must not shadow Python's builtins)
from .builtins import dict as dict
from .builtins import isinstance as isinstance
from .builtins import list as list
from .builtins import tuple as tuple

# autograd's checkpoint(fun); bound last because importing the submodule fastgrad.checkpoint
# (fit's checkpoint files, imported by training) sets the package attribute of that name
from .differential_operators import checkpoint
