"""autograd.util's remaining name: ``quick_grad_check`` (deprecated there; use
:func:`fastgrad.test_util.check_grads`)."""
import warnings

from .test_util import check_grads

__all__ = ["check_grads", "func", "quick_grad_check"]


def quick_grad_check(fun, arg0, extra_args=(), kwargs=None, verbose=True, eps=None, rtol=None,
                     atol=None, rs=None):
    """Deprecated: check ``fun(arg0, *extra_args, **kwargs)``'s reverse-mode gradient with
    respect to ``arg0`` (first order). The tolerances are check_grads'; ``eps``, ``rtol``,
    ``atol``, ``rs`` and ``verbose`` are accepted and ignored."""
    warnings.warn("quick_grad_check is deprecated; use fastgrad.test_util.check_grads",
                  DeprecationWarning, stacklevel=2)
    kwargs = kwargs or {}
    check_grads(lambda x: fun(x, *extra_args, **kwargs), modes=["rev"], order=1)(arg0)


def func(f):
    """autograd.util.func: ``f`` itself (kept so that scripts importing it run)."""
    return f
