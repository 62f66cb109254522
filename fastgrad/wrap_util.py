"""Helpers for writing differentiation operators, with HIPS autograd's names (autograd.wrap_util).

An operator written on one variable, ``op(fun, x, *extra)`` (``fun`` a function of ``x`` only),
becomes autograd's n-ary form with :func:`unary_to_nary`: ``op(fun, argnum=0, *extra)`` returns
a function of all of ``fun``'s arguments that applies ``op`` to argument ``argnum`` (an int, or
a tuple of ints: then the variable is the tuple of those arguments).

>>> from fastgrad.core import make_vjp
>>> @unary_to_nary
... def my_grad(fun, x):
...     vjp, _ = make_vjp(fun, x)
...     return vjp(1.0)
>>> my_grad(lambda a, b: a * b, 1)(3.0, 4.0)
3.0
"""
import functools

__all__ = ["get_name", "subval", "subvals", "unary_to_nary", "wrap_nary_f", "wraps"]


def get_name(f):
    """``f``'s name (``__name__``), or "[unknown name]" for callables without one
    (``functools.partial`` objects, instances)."""
    return getattr(f, "__name__", "[unknown name]")


def subval(x, i, v):
    """The tuple ``x`` with item ``i`` replaced by ``v``."""
    items = list(x)
    items[i] = v
    return tuple(items)


def subvals(x, ivs):
    """The tuple ``x`` with each ``(i, v)`` of ``ivs`` put in place."""
    items = list(x)
    for i, v in ivs:
        items[i] = v
    return tuple(items)


def _check_argnum(argnum, where):
    if type(argnum) is int:
        return argnum
    if isinstance(argnum, (tuple, list)) and all(type(i) is int for i in argnum):
        return tuple(argnum)
    raise TypeError(f"{where}: argnum must be an int or a tuple of ints, not {argnum!r}")


def wrap_nary_f(fun, op, argnum):
    """Decorator: give a function made by operator ``op`` from ``fun`` the name
    ``<op>_of_<fun>_wrt_argnum_<argnum>`` and a docstring saying what it computes."""
    name = get_name(op)
    fun_name = get_name(fun)

    def decorate(f):
        f.__name__ = f"{name}_of_{fun_name}_wrt_argnum_{argnum}"
        f.__qualname__ = f.__name__
        f.__doc__ = (f"    {name} of function {fun_name} with respect to argument number "
                     f"{argnum}. Takes the same arguments as {fun_name}; returns the {name}.")
        f.__wrapped__ = fun
        return f
    return decorate


def wraps(fun, namestr="{fun}", docstr="{doc}", **kwargs):
    """Decorator: copy ``fun``'s name and docstring onto the decorated function, formatted
    through ``namestr`` and ``docstr`` (``{fun}`` is fun's name, ``{doc}`` its docstring,
    other fields come from ``kwargs``)."""
    def decorate(f):
        try:
            f.__name__ = namestr.format(fun=get_name(fun), **kwargs)
            f.__qualname__ = f.__name__
            f.__doc__ = docstr.format(fun=get_name(fun), doc=getattr(fun, "__doc__", "") or "",
                                      **kwargs)
        except (AttributeError, TypeError):
            pass
        return f
    return decorate


def unary_to_nary(unary_operator):
    """Make ``unary_operator(fun, x, *extra, **extra_kw)`` (``fun`` of one variable) into the
    n-ary form ``op(fun, argnum=0, *extra, **extra_kw)(*args, **kwargs)``."""
    @functools.wraps(unary_operator)
    def nary_operator(fun, argnum=0, *nary_op_args, **nary_op_kwargs):
        argnum = _check_argnum(argnum, get_name(unary_operator))

        @wrap_nary_f(fun, unary_operator, argnum)
        def nary_f(*args, **kwargs):
            if type(argnum) is int:
                if not -len(args) <= argnum < len(args):
                    raise ValueError(f"{get_name(unary_operator)}: argnum {argnum} is out of "
                                     f"range: {get_name(fun)} got {len(args)} positional "
                                     f"arguments")
                x = args[argnum]

                def unary_f(x):
                    return fun(*subval(args, argnum, x), **kwargs)
            else:
                x = tuple(args[i] for i in argnum)

                def unary_f(x):
                    return fun(*subvals(args, zip(argnum, x)), **kwargs)
            unary_f.__name__ = get_name(fun)
            return unary_operator(unary_f, x, *nary_op_args, **nary_op_kwargs)
        return nary_f
    return nary_operator
