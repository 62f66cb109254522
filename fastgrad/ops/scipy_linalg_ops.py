"""The op table's scipy.linalg entries: solve_sylvester, sqrtm, solve_triangular, solve_banded.

Forwards are scipy's (imported when one first runs: scipy is an optional dependency of
fastgrad.scipy only); VJPs and JVPs are written in fastgrad ops and these entries themselves,
so they nest. The helpers (mT, mm, lapack, ...) are linalg_ops.py's.
"""
import numpy as np

from . import kernels as k
from .linalg_ops import call, constant_matrix, lapack, mm, mT
from .table import Op, register


def _scipy_linalg():
    try:
        import scipy.linalg
    except ImportError:  # pragma: no cover - exercised where scipy is absent
        raise ImportError("fastgrad.scipy.linalg needs scipy (pip install scipy)") from None
    return scipy.linalg


def _sylvester_forward(a, b, q):
    """x with a x + x b = q"""
    for name, m in (("a", a), ("b", b)):
        if m.ndim != 2 or m.shape[0] != m.shape[1]:
            raise ValueError(f"scipy.linalg.solve_sylvester: {name} must be a square matrix, "
                             f"got shape {m.shape}")
    if q.shape != (a.shape[0], b.shape[0]):
        raise ValueError(f"scipy.linalg.solve_sylvester: a {a.shape} and b {b.shape} need q "
                         f"of shape {(a.shape[0], b.shape[0])}, got {q.shape}")
    return lapack("solve_sylvester", _scipy_linalg().solve_sylvester, a, b, q)


def _sylvester_vjp(i, g, y, a, b, q):
    """z = sylvester(a^T, b^T, g): vjp_a = -z x^T, vjp_b = -x^T z, vjp_q = z"""
    z = solve_sylvester(mT(a), mT(b), g)
    return (-mm(z, mT(y)), -mm(mT(y), z), z)[i]


register(Op("solve_sylvester", _sylvester_forward, _sylvester_vjp,
            (lambda t, y, a, b, q: solve_sylvester(a, b, -mm(t, y)),
             lambda t, y, a, b, q: solve_sylvester(a, b, -mm(y, t)),
             lambda t, y, a, b, q: solve_sylvester(a, b, t)),
            nargs=3, doc="x with a x + x b = q; jvp = sylvester(a, b, dq - da x - x db)"))
solve_sylvester = call("solve_sylvester")


def _sqrtm_forward(a):
    """y with y y = a (scipy's principal square root, complex when it is)"""
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"scipy.linalg.sqrtm: expected a square matrix, got shape {a.shape}")
    out = lapack("sqrtm", _scipy_linalg().sqrtm, a)
    out = np.asarray(out[0] if isinstance(out, tuple) else out)
    if np.iscomplexobj(out) and not np.iscomplexobj(a) and not np.any(out.imag != 0):
        return out.real
    return out  # complex values flow on (sqrtm is holomorphic: its rules hold as written)


register(Op("sqrtm", _sqrtm_forward,
            (lambda g, y, a: solve_sylvester(mT(y), mT(y), g),),
            (lambda t, y, a: solve_sylvester(y, y, t),),
            nargs=1, doc="y = a^(1/2) (y y = a); jvp = sylvester(y, y, t)"))
sqrtm = call("sqrtm")


def triangle_mask(n, lower, unit_diagonal):
    """the entries of an n x n triangular matrix that solve_triangular reads"""
    if lower:
        return constant_matrix("tril-1" if unit_diagonal else "tril", n)
    return constant_matrix("triu+1" if unit_diagonal else "triu", n)


def _triangular_forward(a, b, trans=0, lower=False, unit_diagonal=False):
    """x with op(a) x = b, op(a) = a (trans 0) or a^T (trans 1); b a matrix"""
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"scipy.linalg.solve_triangular: expected a square matrix, got "
                         f"shape {a.shape}")
    if b.ndim != 2 or b.shape[0] != a.shape[0]:
        raise ValueError(f"scipy.linalg.solve_triangular: a has shape {a.shape}, so b must "
                         f"have shape (M,) or (M, K) with M = {a.shape[0]}, got {b.shape}")
    return lapack("solve_triangular",
                  lambda x, y: _scipy_linalg().solve_triangular(
                      x, y, trans=trans, lower=lower, unit_diagonal=unit_diagonal), a, b)


def _triangular_vjp(i, g, y, a, b, trans=0, lower=False, unit_diagonal=False):
    """z = op(a)^-T g: vjp_b = z, vjp_a = -(z x^T, or x z^T for trans) on the triangle"""
    z = solve_triangular(a, g, trans=1 - trans, lower=lower, unit_diagonal=unit_diagonal)
    if i == 1:
        return z
    ga = -mm(y, mT(z)) if trans else -mm(z, mT(y))
    return k.multiply(ga, triangle_mask(a.data.shape[-1], lower, unit_diagonal))


def _triangular_jvp(ts, y, a, b, trans=0, lower=False, unit_diagonal=False):
    """op(a)^-1 (db - op(da) x), da on the triangle"""
    ta, tb = ts
    rhs = tb
    if ta is not None:
        ta = k.multiply(ta, triangle_mask(a.data.shape[-1], lower, unit_diagonal))
        change = mm(mT(ta) if trans else ta, y)
        rhs = -change if rhs is None else rhs - change
    return solve_triangular(a, rhs, trans=trans, lower=lower, unit_diagonal=unit_diagonal)


register(Op("solve_triangular", _triangular_forward, _triangular_vjp, _triangular_jvp,
            nargs=2, param_names=("trans", "lower", "unit_diagonal"),
            doc="x with op(a) x = b, a triangular"))
solve_triangular = call("solve_triangular")


def band_gather(n, lu):
    """(rows, columns, valid): for band row r and column j of (l, u) storage, the matrix
    entry ab[r, j] is A[r - u + j, j]; these index the rows i = r - u + j."""
    lower, upper = lu
    r = np.arange(lower + upper + 1)[:, None]
    i = r - upper + np.arange(n)[None, :]
    valid = (i >= 0) & (i < n)
    return np.clip(i, 0, n - 1), valid


def band_matmul(ab, x, lu):
    """A x for A in (l, u) band storage ab (x a matrix (n, K))"""
    n = ab.data.shape[-1]
    lower, upper = lu
    r = np.arange(lower + upper + 1)[:, None]
    j = np.arange(n)[None, :] + upper - r           # (A x)_i = sum_r ab[r, i + u - r] x_j
    valid = (j >= 0) & (j < n)
    jc = np.clip(j, 0, n - 1)
    coeff = k.multiply(k.getitem(ab, (np.broadcast_to(r, jc.shape), jc)), valid)
    rows = k.getitem(x, (jc,))                      # (R, n, K)
    return k.sum(k.multiply(k.reshape(coeff, coeff.data.shape + (1,)), rows), 0)


def band_transpose(ab, lu):
    """A^T in (u, l) band storage: abT[r, j] = ab[l + u - r, j + r - l]"""
    n = ab.data.shape[-1]
    lower, upper = lu
    r = np.arange(lower + upper + 1)[:, None]
    j = np.arange(n)[None, :] + r - lower
    valid = (j >= 0) & (j < n)
    rows = np.broadcast_to(lower + upper - r, j.shape)
    return k.multiply(k.getitem(ab, (rows, np.clip(j, 0, n - 1))), valid)


def _banded_forward(ab, b, lu=(0, 0)):
    """x with A x = b, A in (l, u) band storage ab; b a matrix (n, K)"""
    lower, upper = lu
    if ab.ndim != 2 or ab.shape[0] != lower + upper + 1:
        raise ValueError(f"scipy.linalg.solve_banded: (l, u) = {lu} needs ab of shape "
                         f"({lower + upper + 1}, n), got {ab.shape}")
    if b.ndim != 2 or b.shape[0] != ab.shape[1]:
        raise ValueError(f"scipy.linalg.solve_banded: ab has shape {ab.shape}, so b must have "
                         f"shape (n,) or (n, K) with n = {ab.shape[1]}, got {b.shape}")
    return lapack("solve_banded", lambda x, y: _scipy_linalg().solve_banded(tuple(lu), x, y),
                  ab, b)


def _banded_vjp(i, g, y, ab, b, lu=(0, 0)):
    """z = A^-T g: vjp_b = z; vjp_ab[r, j] = -sum_k z[r - u + j, k] x[j, k] (in the band)"""
    lower, upper = lu
    z = solve_banded(band_transpose(ab, lu), g, lu=(upper, lower))
    if i == 1:
        return z
    rows, valid = band_gather(ab.data.shape[-1], lu)
    zr = k.getitem(z, (rows,))                       # (R, n, K)
    return -k.multiply(k.sum(k.multiply(zr, y), -1), valid)


def _banded_jvp(ts, y, ab, b, lu=(0, 0)):
    """A^-1 (db - dA x)"""
    tab, tb = ts
    rhs = tb
    if tab is not None:
        change = band_matmul(tab, y, lu)
        rhs = -change if rhs is None else rhs - change
    return solve_banded(ab, rhs, lu=lu)


register(Op("solve_banded", _banded_forward, _banded_vjp, _banded_jvp, nargs=2,
            param_names=("lu",), doc="x with A x = b, A banded in (l, u) storage ab"))
solve_banded = call("solve_banded")

NAMES = ("solve_sylvester", "sqrtm", "solve_triangular", "solve_banded")
