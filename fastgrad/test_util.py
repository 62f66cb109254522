"""check_grads with HIPS autograd's meaning: forward and reverse mode against finite
differences, to any order.

``check_grads(f, modes=("fwd", "rev"), order=2)(x)`` checks, at ``x`` along random
directions: the JVP (``make_jvp``) against central differences of ``f``; the VJP (``make_vjp``)
through <u, J v> = <J^T u, v>; and then, for ``order > 1``, the same checks of the functions
(x, v) -> J v and (x, u) -> J^T u, which exercises every derivative rule differentiated again.
``argnum`` picks the argument (an int, or a tuple: then the tuple of those arguments is the
variable). Checks run in the arguments' precision: use float64.
"""
import numpy as np

from . import _backend, autodiff

__all__ = ["check_grads", "combo_check"]

EPS = 1e-6   # step of the central differences
RTOL = 1e-6
ATOL = 1e-6


def _as64(a):
    """``a`` as a float64 array, or complex128 when it is complex."""
    a = np.asarray(getattr(a, "data", a))
    return a.astype(np.complex128 if a.dtype.kind == "c" else np.float64)


def _flat(x):
    """The arrays (and floats) of ``x`` as a list of float64 (complex128) arrays, in _box's
    order."""
    return [_as64(v) for v in autodiff._leaves_of(x, [])]


def _rebuild(x, arrays):
    """``x``'s structure holding ``arrays`` in order (floats come back as floats)."""
    it = iter(arrays)

    def go(v):
        if isinstance(v, dict):
            return {key: go(item) for key, item in v.items()}
        if isinstance(v, (list, tuple)) and not isinstance(v, np.ndarray):
            return type(v)(go(item) for item in v)
        a = next(it)
        if isinstance(v, complex):
            return complex(a)
        return float(a) if isinstance(v, float) else a
    return go(x)


def _plain(y):
    return _as64(y)


def _randn(shape, dtype, rng):
    """A random direction: complex (both parts standard normal) for a complex space."""
    if np.dtype(dtype).kind == "c":
        return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    return rng.standard_normal(shape)


def _randn_like(x, rng):
    return _rebuild(x, [_randn(a.shape, a.dtype, rng) for a in _flat(x)])


def _inner(a, b):
    """The real inner product Re sum(conj(a) b) of two values of one space."""
    return float(sum(np.real(np.vdot(u, v)) for u, v in zip(_flat(a), _flat(b))))


def _numerical_jvp(f, x, v):
    xs, vs = _flat(x), _flat(v)
    up = f(_rebuild(x, [a + EPS * d for a, d in zip(xs, vs)]))
    down = f(_rebuild(x, [a - EPS * d for a, d in zip(xs, vs)]))
    return (_plain(up) - _plain(down)) / (2 * EPS)


def _joined(y):
    """A structured value (the gradient of a tuple argument) as one flat array, traced or
    not; a single array as it is."""
    parts = autodiff._leaves_of(y, [])
    if len(parts) == 1:
        return parts[0]
    if any(hasattr(type(p), "_backend") for p in parts):
        from .ops import kernels
        return kernels.concatenate([kernels.reshape(p, (-1,)) for p in parts], 0)
    return np.concatenate([np.reshape(p, (-1,)) for p in parts])


def _close(a, b):
    return abs(a - b) < ATOL or abs(a - b) / abs(a + b) < RTOL


def _check_jvp(fns, f, x, rng):
    v = _randn_like(x, rng)
    _, tangent = fns["make_jvp"](f)(x)(v)
    numeric = _numerical_jvp(f, x, v)
    if not np.allclose(_plain(tangent), numeric, rtol=RTOL, atol=ATOL):
        raise AssertionError(
            f"check_grads: forward mode of {getattr(f, '__name__', f)}: make_jvp gives "
            f"{_plain(tangent)!r}, finite differences give {numeric!r}")


def _check_vjp(fns, f, x, rng):
    vjp, y = fns["make_vjp"](f)(x)
    y = _plain(y)
    u = _randn(y.shape, y.dtype, rng)
    # a VJP maps conj(u) to conj(J* u) (autograd's convention for complex values; the
    # identity for real ones): <v, J* u> = <u, J v>
    vjp_u = _rebuild(x, [np.conj(w) for w in _flat(vjp(np.conj(u)))])
    v = _randn_like(x, rng)
    exact = _inner(v, vjp_u)
    numeric = float(np.real(np.vdot(u, _numerical_jvp(f, x, v))))
    if not _close(exact, numeric):
        raise AssertionError(
            f"check_grads: reverse mode of {getattr(f, '__name__', f)}: <v, vjp(u)> = "
            f"{exact!r} but finite differences give <u, J v> = {numeric!r}")


def _check(fns, f, x, modes, order, rng):
    if "fwd" in modes:
        _check_jvp(fns, f, x, rng)
        if order > 1:
            def jvp_f(xv):
                return _joined(fns["make_jvp"](f)(xv[0])(xv[1])[1])
            jvp_f.__name__ = f"jvp_{getattr(f, '__name__', 'f')}"
            _check(fns, jvp_f, (x, _randn_like(x, rng)), modes, order - 1, rng)
    if "rev" in modes:
        _check_vjp(fns, f, x, rng)
        if order > 1:
            def vjp_f(xu):
                return _joined(fns["make_vjp"](f)(xu[0])[0](xu[1]))
            vjp_f.__name__ = f"vjp_{getattr(f, '__name__', 'f')}"
            y = _plain(f(x))
            _check(fns, vjp_f, (x, _randn(y.shape, y.dtype, rng)), modes, order - 1, rng)


def check_grads(f, argnum=0, modes=("fwd", "rev"), order=2, *, seed=0, backend=None):
    """A function of ``f``'s arguments that checks ``f``'s derivatives there (see the module
    docstring) and raises AssertionError naming the mode and both values on a mismatch.

    ``backend`` ("cython" or "python") checks on that backend instead of the active one."""
    modes = tuple(modes)
    if not modes or any(m not in ("fwd", "rev") for m in modes):
        raise ValueError(f"check_grads: modes must be 'fwd' and/or 'rev', got {modes!r}")
    if order < 1:
        raise ValueError(f"check_grads: order must be at least 1, got {order!r}")
    bk = _backend.active if backend is None else _backend.load(backend)
    fns = autodiff.functions(bk)

    def checker(*args, **kwargs):
        def unary(x):
            full = list(args)
            if type(argnum) is int:
                full[argnum] = x
            else:
                for i, xi in zip(argnum, x):
                    full[i] = xi
            return f(*full, **kwargs)
        unary.__name__ = getattr(f, "__name__", "f")
        x = args[argnum] if type(argnum) is int else tuple(args[i] for i in argnum)
        _check(fns, unary, x, modes, order, np.random.default_rng(seed))
    return checker


def combo_check(fun, *args, **kwargs):
    """autograd's combo_check: check_grads of ``fun`` over every combination of the given
    argument values. ``combo_check(fun, argnums, modes=..., order=...)(arg0_values, ...,
    kwarg=[values])``."""
    import itertools
    argnums = args[0] if args else (0,)
    check_kwargs = kwargs

    def checker(*arg_values, **kwarg_values):
        names = list(kwarg_values)
        for combo in itertools.product(*arg_values, *kwarg_values.values()):
            positional = combo[:len(arg_values)]
            keywords = dict(zip(names, combo[len(arg_values):]))
            for argnum in argnums:
                def bound(*a, keywords=keywords):
                    return fun(*a, **keywords)
                check_grads(bound, argnum, **check_kwargs)(*positional)
    return checker
