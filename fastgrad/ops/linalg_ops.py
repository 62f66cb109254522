"""The op table's numpy.linalg entries (scipy.linalg's are in scipy_linalg_ops.py).

Each forward is numpy's routine on arrays; each VJP and JVP is written in fastgrad
ops (matmul, transpose, getitem, the entries below themselves), so they differentiate again to
any order. Matrices may be stacked (shape (..., M, N)) wherever numpy stacks them.

Decompositions with several outputs are one entry whose output packs them into one array
(``eigh``: the eigenvectors with the eigenvalues as one more row; ``svd``: U, s and Vh
flattened side by side); fastgrad/numpy/linalg.py unpacks them with getitem. A function of the
eigenvalues (singular values) alone then sends a zero cotangent to the vectors, and the rules
skip the vector part, which is what keeps repeated eigenvalues from dividing by zero.
"""
import functools

import numpy as np
from numpy.linalg import LinAlgError

from . import complex_ops
from . import kernels as k
from .table import OPS, Op, call_python_op, register

# ---------------------------------------------------------------- helpers (fastgrad ops)

mT = k.swap_last
mm = k.matmul


def call(name):
    """The function running entry ``name`` on Tensors (or numpy on plain arrays)."""
    entry = OPS[name]

    def run(*args, **params):
        return call_python_op(entry, args, params)
    run.__name__ = name
    return run


@functools.lru_cache(maxsize=64)
def constant_matrix(kind, n):
    """A read-only n x n constant, made once: "eye", "off" (1 - I), "tril", "triu",
    "tril-1" / "triu+1" (strict), "lower-half" (the lower triangle, diagonal halved)."""
    eye = np.eye(n)
    ones = np.ones((n, n))
    out = {"eye": lambda: eye, "off": lambda: ones - eye, "tril": lambda: np.tril(ones),
           "triu": lambda: np.triu(ones), "tril-1": lambda: np.tril(ones, -1),
           "triu+1": lambda: np.triu(ones, 1),
           "lower-half": lambda: np.tril(ones) - 0.5 * eye}[kind]()
    out.flags.writeable = False
    return out


def diag(x):
    """x[..., i, i]"""
    n = x.data.shape[-1]
    ar = np.arange(n)
    return k.getitem(x, (Ellipsis, ar, ar))


def diag_embed(v):
    """the matrices with v[..., i] on the diagonal"""
    n = v.data.shape[-1]
    return k.multiply(k.reshape(v, v.data.shape[:-1] + (1, n)), constant_matrix("eye", n))


def as_matrices(x):
    """a stack of scalars (shape (...)) as a stack of 1x1 matrices (shape (..., 1, 1))"""
    return k.reshape(x, x.data.shape + (1, 1))


def inv_gaps(w):
    """F[..., i, j] = 1 / (w_j - w_i) off the diagonal, 0 on it"""
    n = w.data.shape[-1]
    batch = w.data.shape[:-1]
    gaps = k.subtract(k.reshape(w, batch + (1, n)), k.reshape(w, batch + (n, 1)))
    return k.divide(constant_matrix("off", n), k.add(gaps, constant_matrix("eye", n)))


def is_complex(x):
    """True for complex data (a Tensor or array)."""
    return np.iscomplexobj(getattr(x, "data", x))


def cj(x):
    """conj(x) (x itself when real)"""
    return complex_ops.conj(x)


def H(x):
    """the conjugate transpose of the last two axes"""
    return mT(cj(x))


def re(x):
    """Re x (x itself when real)"""
    return complex_ops.real(x) if is_complex(x) else x


def nonzero(g):
    """True when the cotangent (a Tensor or array) has a nonzero entry."""
    return bool(np.any(getattr(g, "data", g)))


# ---------------------------------------------------------------- checks (forwards)

def square(name, a):
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"linalg.{name}: expected a square matrix or a stack of them (shape "
                         f"(..., M, M)), got shape {a.shape}")


def matrix(name, a):
    if a.ndim < 2:
        raise ValueError(f"linalg.{name}: expected a matrix or a stack of them (shape "
                         f"(..., M, N)), got shape {a.shape}")


def lapack(name, fn, *arrays):
    """fn(*arrays), with numpy's LinAlgError (singular, not positive definite, ...) and batch
    shape errors named by the op and the shapes."""
    shapes = " and ".join(str(a.shape) for a in arrays)
    try:
        return fn(*arrays)
    except LinAlgError as e:
        raise LinAlgError(f"linalg.{name}: {e} (shape {shapes})") from None
    except ValueError as e:
        raise ValueError(f"linalg.{name}: shapes {shapes}: {e}") from None


def real_only(name, a):
    """The rules of ``name`` use transposes where a complex matrix needs conjugate ones."""
    if np.iscomplexobj(a):
        raise NotImplementedError(
            f"linalg.{name}: complex input (shape {a.shape}) is not differentiable yet: its "
            f"rules are written for real matrices")


# ---------------------------------------------------------------- inv, solve, det, slogdet

def _inv_forward(a):
    """y = a^-1"""
    square("inv", a)
    return lapack("inv", np.linalg.inv, a)


register(Op("inv", _inv_forward,
            (lambda g, y, a: -mm(mm(mT(y), g), mT(y)),),
            (lambda t, y, a: -mm(mm(y, t), y),),
            nargs=1, doc="y = a^-1; vjp = -y^T g y^T; jvp = -y t y"))
inv = call("inv")


def _solve_forward(a, b):
    """y = a^-1 b, b a matrix (..., M, K)"""
    square("solve", a)
    if b.ndim < 2 or b.shape[-2] != a.shape[-1]:
        raise ValueError(f"linalg.solve: a has shape {a.shape}, so b must have shape (M,) or "
                         f"(..., M, K) with M = {a.shape[-1]}, got {b.shape}")
    return lapack("solve", np.linalg.solve, a, b)


register(Op("solve", _solve_forward,
            (lambda g, y, a, b: -mm(solve(mT(a), g), mT(y)),
             lambda g, y, a, b: solve(mT(a), g)),
            (lambda t, y, a, b: -solve(a, mm(t, y)),
             lambda t, y, a, b: solve(a, t)),
            nargs=2, doc="y = a^-1 b; vjp_b = a^-T g, vjp_a = -vjp_b y^T"))
solve = call("solve")


def _det_forward(a):
    """y = det a"""
    square("det", a)
    return lapack("det", np.linalg.det, a)


register(Op("det", _det_forward,
            (lambda g, y, a: k.multiply(as_matrices(k.multiply(g, y)), mT(inv(a))),),
            (lambda t, y, a: k.multiply(y, k.sum(k.multiply(mT(inv(a)), t), (-2, -1))),),
            nargs=1, doc="y = det a; vjp = g y a^-T; jvp = y tr(a^-1 t)"))
det = call("det")


def _logabsdet_forward(a):
    """y = log |det a|"""
    square("slogdet", a)
    return lapack("slogdet", np.linalg.slogdet, a)[1]


register(Op("logabsdet", _logabsdet_forward,
            (lambda g, y, a: k.multiply(as_matrices(g), mT(inv(a))),),
            (lambda t, y, a: k.sum(k.multiply(mT(inv(a)), t), (-2, -1)),),
            nargs=1, doc="y = log |det a| (slogdet's second output); vjp = g a^-T"))
logabsdet = call("logabsdet")


# ---------------------------------------------------------------- pinv

def _pinv_forward(a, rcond=None, hermitian=False, rtol=None):
    """y = a^+ (numpy's cutoffs)"""
    matrix("pinv", a)
    real_only("pinv", a)
    kwargs = {"hermitian": hermitian}
    if rcond is not None:
        kwargs["rcond"] = rcond
    if rtol is not None:
        kwargs["rtol"] = rtol
    return lapack("pinv", lambda x: np.linalg.pinv(x, **kwargs), a)


def _pinv_vjp(g, y, a, **params):
    """-y^T g y^T + (I - a y) g^T y y^T + y^T y g^T (I - y a)   (y = a^+, rank constant)"""
    gt = mT(g)
    w = mm(gt, mm(y, mT(y)))
    z = mm(mm(mT(y), y), gt)
    return -mm(mm(mT(y), g), mT(y)) + (w - mm(a, mm(y, w))) + (z - mm(mm(z, y), a))


def _pinv_jvp(t, y, a, **params):
    """-y t y + y y^T t^T (I - a y) + (I - y a) t^T y^T y"""
    tt = mT(t)
    v2 = mm(mm(y, mT(y)), tt)
    v3 = mm(tt, mm(mT(y), y))
    return -mm(mm(y, t), y) + (v2 - mm(mm(v2, a), y)) + (v3 - mm(y, mm(a, v3)))


register(Op("pinv", _pinv_forward, (_pinv_vjp,), (_pinv_jvp,), nargs=1,
            param_names=("rcond", "hermitian", "rtol"),
            doc="y = a^+ (Moore-Penrose); derivatives where the rank is constant"))
pinv = call("pinv")


# ---------------------------------------------------------------- cholesky

def _lower_half_diag(n):
    """the mask taking the lower triangle with the diagonal halved"""
    return constant_matrix("lower-half", n)


def _cholesky_forward(s):
    """L lower triangular with L L^T = s"""
    square("cholesky", s)
    real_only("cholesky", s)
    return lapack("cholesky", np.linalg.cholesky, s)


def _cholesky_vjp(g, y, s):
    """sym(L^-T phi(L^T g) L^-1), phi = the lower triangle with half its diagonal"""
    phi = k.multiply(mm(mT(y), g), _lower_half_diag(s.data.shape[-1]))
    left = solve(mT(y), phi)                    # L^-T phi
    both = mT(solve(mT(y), mT(left)))           # L^-T phi L^-1
    return 0.5 * (both + mT(both))


def _cholesky_jvp(t, y, s):
    """L phi(L^-1 t L^-T)"""
    left = solve(y, t)                          # L^-1 t
    both = mT(solve(y, mT(left)))               # L^-1 t L^-T
    return mm(y, k.multiply(both, _lower_half_diag(s.data.shape[-1])))


register(Op("cholesky", _cholesky_forward, (_cholesky_vjp,), (_cholesky_jvp,), nargs=1,
            doc="L = cholesky(s), s symmetric positive definite (the face builds s from the "
                "lower triangle, as numpy reads it)"))
cholesky = call("cholesky")


# ---------------------------------------------------------------- eigh

def _eigh_forward(s, UPLO="L"):
    """[V; w]: eigenvectors (columns), the eigenvalues as one more row (UPLO: LAPACK's signs)"""
    square("eigh", s)
    w, v = lapack("eigh", lambda x: np.linalg.eigh(x, UPLO), s)
    return np.concatenate([v, w[..., None, :].astype(v.dtype)], axis=-2)


def eigh_parts(packed):
    """(w, V) from eigh's packed output (a Tensor)"""
    n = packed.data.shape[-1]
    return (k.getitem(packed, (Ellipsis, n, slice(None))),
            k.getitem(packed, (Ellipsis, slice(0, n), slice(None))))


def _eigh_vjp(g, y, s, UPLO="L"):
    """conj of V (diag(g_w) + F * (V^H conj(g_V))) V^H, made hermitian; F_ij = 1/(w_j - w_i)"""
    w, v = eigh_parts(y)
    gw, gv = eigh_parts(g)
    w = re(w)
    inner = diag_embed(re(gw))   # w is real: an imaginary part of g_w meets nothing
    if nonzero(gv):
        inner = inner + k.multiply(inv_gaps(w), mm(H(v), cj(gv)))
    full = mm(mm(v, inner), H(v))
    return cj(0.5 * (full + H(full)))


def _eigh_jvp(t, y, s, UPLO="L"):
    """C = V^H t V: dw = diag C (real), dV = V (F * C)"""
    w, v = eigh_parts(y)
    w = re(w)
    c = mm(mm(H(v), t), v)
    dv = mm(v, k.multiply(inv_gaps(w), c))
    dw = re(diag(c))
    if is_complex(dv) and not is_complex(dw):
        dw = complex_ops.as_dtype(dw, dv.data.dtype)
    return k.concatenate([dv, k.reshape(dw, dw.data.shape[:-1] + (1, -1))], -2)


register(Op("eigh", _eigh_forward, (_eigh_vjp,), (_eigh_jvp,), nargs=1, param_names=("UPLO",),
            doc="[V; w] = eigh(s), s symmetric (the face builds s from the triangle numpy "
                "reads)"))
eigh = call("eigh")


# ---------------------------------------------------------------- eig

def _eig_forward(a):
    """[V; w]: eigenvectors (unit columns) with the eigenvalues as one more row (complex when
    any eigenvalue is, as numpy's)"""
    square("eig", a)
    w, v = lapack("eig", np.linalg.eig, a)
    out = np.concatenate([v, w[..., None, :].astype(v.dtype)], axis=-2)
    return out


def _unit_part(v, d):
    """v * Re(sum(conj(v) d)) per column: the part of d that changes the columns' norms"""
    return k.multiply(v, re(k.sum(k.multiply(cj(v), d), -2, True)))


def _eig_vjp(g, y, a):
    """V^-T (diag(g_w) + F * (V^T g_V')) V^T, g_V' = g_V - conj(V) diag(Re(V^T g_V)) (unit
    columns); holomorphic but for the columns' norms, so transposes, not conjugate ones"""
    w, v = eigh_parts(y)
    gw, gv = eigh_parts(g)
    inner = diag_embed(gw)
    if nonzero(gv):
        gv = gv - k.multiply(cj(v), re(k.sum(k.multiply(v, gv), -2, True)))
        inner = inner + k.multiply(inv_gaps(w), mm(mT(v), gv))
    out = solve(mT(v), mm(inner, mT(v)))
    return out if is_complex(a) else re(out)   # a real input takes the real part


def _eig_jvp(t, y, a):
    """C = V^-1 t V: dw = diag C, dV = V (F * C) minus the part changing the columns' norms"""
    w, v = eigh_parts(y)
    c = solve(v, mm(t, v))
    dv = mm(v, k.multiply(inv_gaps(w), c))
    dv = dv - _unit_part(v, dv)
    dw = diag(c)
    return k.concatenate([dv, k.reshape(dw, dw.data.shape[:-1] + (1, -1))], -2)


register(Op("eig", _eig_forward, (_eig_vjp,), (_eig_jvp,), nargs=1,
            doc="[V; w] = eig(a) (complex V and w when an eigenvalue is complex)"))
eig = call("eig")


# ---------------------------------------------------------------- svd (reduced)

def _svd_forward(a):
    """[U, s, Vh] flattened side by side (the reduced SVD)"""
    matrix("svd", a)
    u, s, vh = lapack("svd", lambda x: np.linalg.svd(x, full_matrices=False), a)
    batch = a.shape[:-2]
    return np.concatenate([u.reshape(batch + (-1,)), s, vh.reshape(batch + (-1,))], axis=-1)


def svd_parts(packed, shape):
    """(U, s, Vh) from svd's packed output for an input of ``shape``"""
    m, n = shape[-2:]
    r = min(m, n)
    batch = tuple(shape[:-2])
    u = k.reshape(k.getitem(packed, (Ellipsis, slice(0, m * r))), batch + (m, r))
    s = k.getitem(packed, (Ellipsis, slice(m * r, m * r + r)))
    vh = k.reshape(k.getitem(packed, (Ellipsis, slice(m * r + r, None))), batch + (r, n))
    return u, s, vh


def svd_pack(u, s, vh):
    batch = s.data.shape[:-1]
    return k.concatenate([k.reshape(u, batch + (-1,)), s, k.reshape(vh, batch + (-1,))], -1)


def _svd_vjp(g, y, a):
    """conj of U (diag g_s + F*(X_U - X_U^H) S + S F*(X_V - X_V^H) + D) V^H
    + (I - UU^H) g_U S^-1 V^H + U S^-1 g_V^H (I - VV^H), the g's conjugated first

    X_U = U^H g_U, X_V = V^H g_V, F_ij = 1/(s_j^2 - s_i^2), D = i Im(diag(X_U - X_V)) / 2S
    (zero for real a); autograd's cotangents are the conjugates of these (dL = Re sum g dy)"""
    shape = a.data.shape
    u, s, vh = svd_parts(y, shape)
    gu, gs, gvh = svd_parts(g, shape)
    s = re(s)
    inner = diag_embed(re(gs))   # s is real: an imaginary part of g_s meets nothing
    out = None
    if nonzero(gu) or nonzero(gvh):
        gu, gv = cj(gu), mT(gvh)                # g_U and g_V in the conjugate-free form
        v = H(vh)
        f = inv_gaps(k.multiply(s, s))
        xu, xv = mm(H(u), gu), mm(vh, gv)
        smat = diag_embed(s)
        inner = inner + mm(k.multiply(f, xu - H(xu)), smat) + \
            mm(smat, k.multiply(f, xv - H(xv)))
        if is_complex(y):
            d = diag(xu) - diag(xv)
            inner = inner + diag_embed(k.divide(d - cj(d), k.multiply(s, 4.0)))
        inv_s = k.reshape(k.divide(1.0, s), s.data.shape[:-1] + (1, -1))  # columns / s
        gu_s = k.multiply(gu, inv_s)                                        # g_U S^-1
        gv_s = k.multiply(gv, inv_s)                                        # g_V S^-1
        out = mm(gu_s - mm(u, mm(H(u), gu_s)), vh) + \
            mm(u, H(gv_s - mm(v, mm(vh, gv_s))))
    core = mm(mm(u, inner), vh)
    return cj(core if out is None else core + out)


def _svd_jvp(t, y, a):
    """P = U^H t V: ds = Re diag P, dU = U (F * (P S + S P^H) + D) + (I - UU^H) t V S^-1,

    dV = V (F * (S P + P^H S) - D) + (I - V V^H) t^H U S^-1, D = i Im(diag P) / 2S (the
    phases of the vectors split evenly between U and V)"""
    u, s, vh = svd_parts(y, a.data.shape)
    s = re(s)
    v = H(vh)
    p = mm(mm(H(u), t), v)
    f = inv_gaps(k.multiply(s, s))
    smat = diag_embed(s)
    inv_s = k.reshape(k.divide(1.0, s), s.data.shape[:-1] + (1, -1))
    tv = k.multiply(mm(t, v), inv_s)
    tu = k.multiply(mm(H(t), u), inv_s)
    iu = k.multiply(f, mm(p, smat) + mm(smat, H(p)))
    iv = k.multiply(f, mm(smat, p) + mm(H(p), smat))
    dp = diag(p)
    if is_complex(p):
        dd = diag_embed(k.divide(dp - cj(dp), k.multiply(s, 4.0)))
        iu, iv = iu + dd, iv - dd
    du = mm(u, iu) + (tv - mm(u, mm(H(u), tv)))
    dv = mm(v, iv) + (tu - mm(v, mm(vh, tu)))
    return svd_pack(du, re(dp), H(dv))


register(Op("svd", _svd_forward, (_svd_vjp,), (_svd_jvp,), nargs=1,
            doc="[U, s, Vh] = svd(a, full_matrices=False), packed; distinct nonzero singular "
                "values for the vectors' derivatives"))
svd = call("svd")


NAMES = ("inv", "solve", "det", "logabsdet", "pinv", "cholesky", "eigh", "eig", "svd")
