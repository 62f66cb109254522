"""scipy.linalg, differentiable where autograd differentiates it: sqrtm, solve_sylvester,
solve_triangular, solve_banded (``import fastgrad.scipy.linalg as spla`` in autograd code).

On traced values these record the op table's entries (fastgrad/ops/linalg_ops.py: reverse
and forward mode, to any order); on plain arrays each is scipy's own function. The rest of
scipy.linalg is scipy's, refusing traced values by name. scipy is needed only here, imported
when this module is.
"""
import functools

import scipy.linalg as _scipy_linalg

from ..numpy.linalg import _lift, _reshape, _shape, _traced
from ..ops import kernels as _k
from ..ops import scipy_linalg_ops as _ops

__all__ = ["solve_banded", "solve_sylvester", "solve_triangular", "sqrtm"]

_TRANS = {0: 0, 1: 1, 2: 1, "N": 0, "T": 1, "C": 1}  # real matrices: 'C' is 'T'


def sqrtm(A, *args, **kwargs):
    """scipy.linalg.sqrtm (on traced values too when the root is complex)."""
    if not _traced(A):
        return _scipy_linalg.sqrtm(A, *args, **kwargs)
    return _ops.sqrtm(_lift(A))


def solve_sylvester(a, b, q):
    """scipy.linalg.solve_sylvester: x with a x + x b = q."""
    if not _traced(a, b, q):
        return _scipy_linalg.solve_sylvester(a, b, q)
    return _ops.solve_sylvester(_lift(a), _lift(b), _lift(q))


def _as_columns(b):
    """(b as a matrix, whether it was a vector)."""
    if len(_shape(b)) == 1:
        return _reshape(b, (_shape(b)[0], 1)), True
    return b, False


def solve_triangular(a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False,
                     check_finite=True):
    """scipy.linalg.solve_triangular: x with op(a) x = b, a triangular."""
    if not _traced(a, b):
        return _scipy_linalg.solve_triangular(a, b, trans, lower, unit_diagonal, overwrite_b,
                                              check_finite)
    if trans not in _TRANS:
        raise ValueError(f"scipy.linalg.solve_triangular: trans must be 0, 1, 2, 'N', 'T' or "
                         f"'C', got {trans!r}")
    b, vector = _as_columns(_lift(b))
    out = _ops.solve_triangular(_lift(a), b, trans=_TRANS[trans], lower=bool(lower),
                                unit_diagonal=bool(unit_diagonal))
    return _k.getitem(out, (Ellipsis, 0)) if vector else out


def solve_banded(l_and_u, ab, b, overwrite_ab=False, overwrite_b=False, check_finite=True):
    """scipy.linalg.solve_banded: x with A x = b, A in (l, u) band storage ab."""
    if not _traced(ab, b):
        return _scipy_linalg.solve_banded(l_and_u, ab, b, overwrite_ab, overwrite_b,
                                          check_finite)
    lower, upper = (int(n) for n in l_and_u)
    b, vector = _as_columns(_lift(b))
    out = _ops.solve_banded(_lift(ab), b, lu=(lower, upper))
    return _k.getitem(out, (Ellipsis, 0)) if vector else out


def _guard(name, fn):
    """scipy's ``fn``, refusing traced values (it has no gradient in fastgrad)."""
    @functools.wraps(fn)
    def f(*args, **kwargs):
        if _traced(*args, *kwargs.values()):
            raise TypeError(f"fastgrad.scipy.linalg.{name}: scipy.linalg.{name} has no "
                            f"gradient in fastgrad, so it cannot be applied to a traced value "
                            f"(inside grad)")
        return fn(*args, **kwargs)
    return f


def __getattr__(name):
    obj = getattr(_scipy_linalg, name)
    if callable(obj) and not isinstance(obj, type):
        obj = _guard(name, obj)
    globals()[name] = obj
    return obj

