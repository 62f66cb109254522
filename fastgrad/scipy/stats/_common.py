"""What the distributions of fastgrad.scipy.stats share: the dispatch (scipy's own method on
plain arrays, a composite of fastgrad ops on traced values), and elementwise helpers that take
plain or traced values alike."""
import numpy as np

from ...extend import node_types
from ...ops import kernels as k


def scipy_stats():
    """scipy.stats, or an ImportError that says what to install."""
    try:
        import scipy.stats
    except ImportError as e:  # pragma: no cover - scipy is installed where the tests run
        raise ImportError("fastgrad.scipy.stats needs scipy: pip install scipy") from e
    return scipy.stats


def traced(x):
    return isinstance(x, node_types())


def value(x):
    """The plain values of ``x`` (a traced value's data)."""
    return x.data if traced(x) else np.asarray(x, dtype=np.float64)


def log(x):
    return k.log(x) if traced(x) else np.log(x)


def log1p(x):
    return k.log1p(x) if traced(x) else np.log1p(x)


def exp(x):
    return k.exp(x) if traced(x) else np.exp(x)


def where(mask, a, b):
    """Elementwise: a where ``mask`` (plain bools) holds, else b."""
    if traced(a) or traced(b):
        return k.where(mask, a, b)
    return np.where(mask, a, b)


def inside(mask, x, fill):
    """x where ``mask`` holds, else ``fill``: keeps a formula's inputs in its domain outside
    the support, so that no NaN reaches the gradient through the branch not taken."""
    if np.all(mask):
        return x
    return where(mask, x, fill)


def outside(mask, result, fill):
    """``result`` on the support (``mask``), ``fill`` (0 or -inf) elsewhere, as scipy gives."""
    if np.all(mask):
        return result
    return where(mask, result, fill)


def constant_arg(dist, method, name, x):
    """An argument whose derivative the distribution does not define: its plain values
    (a traced value being differentiated raises, naming it)."""
    if traced(x):
        if x.requires_grad:
            raise NotImplementedError(
                f"fastgrad.scipy.stats.{dist}.{method}: the derivative with respect to {name} "
                f"is not defined (as in autograd)")
        return x.data
    return x


def method(dist, name, composite, signature):
    """``scipy.stats.<dist>.<name>`` on plain arguments, ``composite`` when one is traced.
    ``signature``: the argument names after x, with their defaults (None: required)."""
    names = [n for n, _ in signature]

    def f(*args, **kwargs):
        if any(traced(a) for a in args) or any(traced(a) for a in kwargs.values()):
            if len(args) > len(names):
                raise TypeError(f"fastgrad.scipy.stats.{dist}.{name}: takes at most "
                                f"{len(names)} arguments ({', '.join(names)}), got {len(args)}")
            bound = dict(zip(names, args))
            for key, v in kwargs.items():
                if key not in names:
                    raise TypeError(f"fastgrad.scipy.stats.{dist}.{name}: unexpected argument "
                                    f"{key!r} on traced values")
                if key in bound:
                    raise TypeError(f"fastgrad.scipy.stats.{dist}.{name}: got two values for "
                                    f"{key!r}")
                bound[key] = v
            for key, default in signature:
                if key not in bound:
                    if default is None:
                        raise TypeError(f"fastgrad.scipy.stats.{dist}.{name}: missing argument "
                                        f"{key!r}")
                    bound[key] = default
            return composite(**bound)
        return getattr(getattr(scipy_stats(), dist), name)(*args, **kwargs)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"scipy.stats.{dist}.{name}({', '.join(names)}), differentiable "
                 f"(scipy's own on plain arrays). {composite.__doc__ or ''}")
    return f


def standardized(x, loc, scale):
    """(x - loc) / scale and the log of scale."""
    z = (x - loc) / scale if (traced(x) or traced(loc) or traced(scale)) else \
        (np.asarray(x, dtype=np.float64) - loc) / scale
    return z, log(scale)


def passthrough(dist):
    """A module ``__getattr__`` giving scipy's other methods (rvs, mean, ...) unchanged."""
    def __getattr__(name):
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(getattr(scipy_stats(), dist), name)
    return __getattr__
