"""The ndarray methods numpy users call on arrays (``x.ravel()``, ``x.squeeze()``, ``x.dot(y)``,
``x.var()``, ``x.real``, ...), added to the Tensor class: each is fastgrad.numpy's
function of the same name (differentiable), so code written for HIPS autograd's ArrayBox runs
on Tensors. Methods Tensor already defines (sum, mean, max, reshape, ...) are kept."""

# method name -> fastgrad.numpy function it calls with the tensor as first argument
FUNCTION_METHODS = ("ravel", "squeeze", "dot", "swapaxes", "cumsum", "prod", "var", "std",
                    "conj", "conjugate", "diagonal", "trace", "repeat", "nonzero", "argmax",
                    "argmin", "argsort", "all", "any", "round", "take")
# property name -> fastgrad.numpy function
PROPERTIES = ("real", "imag")


def _face():
    """fastgrad.numpy's differentiable functions (imported when first used: fastgrad.numpy
    imports the Tensor class this module adds methods to)."""
    from .numpy import _face
    return _face.FUNCTIONS


def numpy_face_function(func):
    """fastgrad.numpy's function standing for numpy's ``func`` (what plain numpy called on a
    Tensor runs, through ``__array_function__``), or None."""
    fn = _face().get(getattr(func, "__name__", None))
    return fn if fn is not None and getattr(fn, "__wrapped__", None) is func else None


def _method(name):
    def method(self, *args, **kwargs):
        fns = _face()
        fn = fns.get(name)
        if fn is None:  # numpy's own function (take, ...), guarded against traced values
            from . import numpy as fnp
            fn = getattr(fnp, name)
        return fn(self, *args, **kwargs)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"``fastgrad.numpy.{name}(self, ...)``: numpy's ndarray.{name}."
    return method


def _property(name):
    def get(self):
        return _face()[name](self)
    get.__name__ = name
    return property(get, doc=f"``fastgrad.numpy.{name}(self)``: numpy's ndarray.{name}.")


def _remainder():
    def mod(self, other):
        return _face()["remainder"](self, other)

    def rmod(self, other):
        return _face()["remainder"](other, self)
    return mod, rmod


def add_methods(cls):
    """Add the numpy methods ``cls`` (the Tensor class) lacks."""
    for name in FUNCTION_METHODS:
        if not hasattr(cls, name):
            setattr(cls, name, _method(name))
    for name in PROPERTIES:
        if not hasattr(cls, name):
            setattr(cls, name, _property(name))
    if not hasattr(cls, "__mod__"):
        cls.__mod__, cls.__rmod__ = _remainder()
