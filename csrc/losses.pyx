"""Fused losses, one node each, numerically stable (twin: fastgrad/_py/losses.py).

- softmax_cross_entropy(z, target): rows of logits z (N, C); target integer labels (N,) or
  probabilities / one-hot (N, C). Per row: l = lse(z) - z[label], or Σ_c t_c·(lse(z) - z_c),
  with lse(z) = m + log Σ e^(z - m), m = max(z): nothing overflows.
- binary_cross_entropy_with_logits(z, t): l = max(z, 0) - z·t + log(1 + e^-|z|).
- mse_loss(p, t): l = (p - t)²; the target may require grad too.
- hinge_loss(s, t): l = max(0, 1 - t·s) for labels t in {-1, +1} (0 gradient at the kink).

The twin's expressions in typed loops, one pass per row or element; exp, log and log1p are
fastgrad's vectorised kernels over whole buffers (fastgrad/_cy/vmath.pxd), within their ulp
bounds (fastgrad/_py/vmath.py) of the twin's numpy calls.
"""
cimport cython
cimport numpy as cnp

import numpy as np

from fastgrad._cy.node cimport Node, accumulate, as_constant, lift, make_result, real, \
    register_vjp
from fastgrad._cy.opcodes cimport OP_BCE_LOGITS, OP_HINGE, OP_MSE, OP_SOFTMAX_CE
from fastgrad._cy.vmath cimport v_exp, v_log, v_log1p

# argument checks and their messages live once, in fastgrad/_shared
from fastgrad._shared.losses import (REDUCTIONS, check_reduction, class_labels,
                                     empty_mean_error, fits_shape,
                                     gradient_scale)

cnp.import_array()

# ---------------------------------------------------------------- checking the arguments

def constant_target(target, dtype, opname):
    """A target that is not differentiated, as an array (float targets get ``dtype``)."""
    if isinstance(target, Node):
        if (<Node>target).requires_grad:
            raise ValueError(f"{opname}: the target is not differentiated; pass it without "
                             f"requires_grad (e.g. target.detach())")
        target = (<Node>target).data
    arr = np.asarray(target)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{opname}: the target has unsupported dtype {arr.dtype}")
    return arr


def logits_node(z, opname):
    z = lift(z, opname)
    if (<Node>z).data.ndim != 2:
        raise ValueError(f"{opname}: logits must be 2-D (rows, classes), got shape "
                         f"{(<Node>z).data.shape}")
    return z


def class_target(target, Z, opname):
    """(labels, None) for class indices, or (None, T) for probabilities / one-hot rows."""
    return class_labels(constant_target(target, Z.dtype, opname), Z, opname)


def same_shape_target(target, P, opname):
    """target (an array or node) reshaped to P's shape; (N,) is accepted for P of (N, 1)."""
    data = (<Node>target).data if isinstance(target, Node) else target
    return fits_shape(np.shape(data), P, opname)


cpdef object reduce_losses(cnp.ndarray L, str reduction, str opname, object x):
    """The losses L (one per row or element) of op ``opname`` on input node x, reduced as
    asked."""
    if reduction == "none":
        return L
    if cnp.PyArray_SIZE(L) == 0 and reduction == "mean":
        raise empty_mean_error(opname, x)
    total = np.add.reduce(L.reshape(-1))
    return total / L.size if reduction == "mean" else total


cdef inline bint c_contiguous(object a) noexcept:
    return cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a)


cdef inline void* ptr(object a) noexcept:
    return cnp.PyArray_DATA(<cnp.ndarray>a) if a is not None else NULL


cdef cnp.ndarray contiguous_as(object a, cnp.ndarray like):
    """a as a C-contiguous array of like's dtype (a itself when it already is one)."""
    if (cnp.PyArray_Check(a) and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a)
            and cnp.PyArray_TYPE(<cnp.ndarray>a) == cnp.PyArray_TYPE(like)):
        return <cnp.ndarray>a
    # (ascontiguousarray makes a 0-d array 1-d: shaped back, a 0-d a stays 0-d)
    return np.ascontiguousarray(a, dtype=like.dtype).reshape(np.shape(a))


def target_like(target, cnp.ndarray X not None, str opname):
    """A constant target as a contiguous array of X's dtype and shape (for the losses taken
    element by element against a target that is not differentiated)."""
    T = constant_target(target, X.dtype, opname)
    if same_shape_target(T, X, opname):
        T = T.reshape((<object>X).shape)
    return contiguous_as(T, X)


cdef int check_like(str where, str name, object a, cnp.ndarray like) except -1:
    """a is a C-contiguous array of like's dtype and shape (the kernels index raw memory)."""
    if not (cnp.PyArray_Check(a) and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>a)
            and cnp.PyArray_TYPE(<cnp.ndarray>a) == cnp.PyArray_TYPE(like)
            and cnp.PyArray_NDIM(<cnp.ndarray>a) == cnp.PyArray_NDIM(like)
            and cnp.PyArray_SAMESHAPE(<cnp.ndarray>a, like)):
        raise ValueError(f"{where}: {name} must be a C-contiguous {(<object>like).dtype} array "
                         f"of shape {(<object>like).shape}, got "
                         f"{getattr(a, 'dtype', type(a).__name__)} {getattr(a, 'shape', '')}")
    return 0


cdef int check_float(str where, cnp.ndarray a) except -1:
    if not (cnp.PyArray_IS_C_CONTIGUOUS(a) and (cnp.PyArray_TYPE(a) == cnp.NPY_DOUBLE
                                                or cnp.PyArray_TYPE(a) == cnp.NPY_FLOAT)):
        raise ValueError(f"{where}: expected a C-contiguous float32/float64 array, got "
                         f"{(<object>a).dtype}")
    return 0


cdef int check_scale(str where, object scale, Py_ssize_t count) except -1:
    """scale is a float, or an array of count elements (one per loss)."""
    if not isinstance(scale, float) and np.size(scale) != count:
        raise ValueError(f"{where}: scale must be a float or hold {count} values, got shape "
                         f"{np.shape(scale)}")
    return 0


cdef int check_classes(str where, cnp.ndarray Z, object labels, object T) except -1:
    """Z (n, c); labels intp (n,) in [0, c), or T like Z (exactly one of the two)."""
    cdef Py_ssize_t i, n, c
    cdef const Py_ssize_t* lab
    if cnp.PyArray_NDIM(Z) != 2:
        raise ValueError(f"{where}: expected 2-D logits, got shape {(<object>Z).shape}")
    n, c = cnp.PyArray_DIMS(Z)[0], cnp.PyArray_DIMS(Z)[1]
    if (labels is None) == (T is None):
        raise ValueError(f"{where}: give labels or T (and not both)")
    if T is not None:
        return check_like(where, "T", T, Z)
    if not (cnp.PyArray_Check(labels) and cnp.PyArray_TYPE(<cnp.ndarray>labels) == cnp.NPY_INTP
            and cnp.PyArray_NDIM(<cnp.ndarray>labels) == 1
            and cnp.PyArray_DIMS(<cnp.ndarray>labels)[0] == n
            and cnp.PyArray_IS_C_CONTIGUOUS(<cnp.ndarray>labels)):
        raise ValueError(f"{where}: labels must be a C-contiguous intp array of shape ({n},)")
    lab = <const Py_ssize_t*>cnp.PyArray_DATA(<cnp.ndarray>labels)
    for i in range(n):
        if lab[i] < 0 or lab[i] >= c:
            raise ValueError(f"{where}: label {lab[i]} is out of range for {c} classes")
    return 0


# ---------------------------------------------------------------- softmax cross-entropy

cdef void ce_shift(real* P, real* M, const real* Z, Py_ssize_t n, Py_ssize_t c) noexcept nogil:
    """M = max of each row of Z (NaN propagates); P = Z - M"""
    cdef Py_ssize_t i, j
    cdef real m
    cdef const real* z
    for i in range(n):
        z = Z + i * c
        m = z[0]
        for j in range(1, c):
            if z[j] > m or z[j] != z[j]:
                m = z[j]
        M[i] = m
        for j in range(c):
            P[i * c + j] = z[j] - m


@cython.cdivision(True)  # IEEE division (x/0 is inf or nan, as numpy's), in every build
cdef void ce_normalise(real* P, real* L, Py_ssize_t n, Py_ssize_t c) noexcept nogil:
    """P holds e^(Z - M): L = its row sums, and P /= L by rows"""
    cdef Py_ssize_t i, j
    cdef real s
    cdef real* p
    for i in range(n):
        p = P + i * c
        s = 0
        for j in range(c):
            s = s + p[j]
        for j in range(c):
            p[j] = p[j] / s
        L[i] = s


cdef void ce_losses(real* L, const real* M, const real* Z, const Py_ssize_t* labels,
                    const real* T, Py_ssize_t n, Py_ssize_t c) noexcept nogil:
    """L holds lse = log Σ e^(Z - M) per row: L = lse - (Z - M)[label], or
    Σ T·lse - Σ T·(Z - M)"""
    cdef Py_ssize_t i, j
    cdef real lse, st, ts
    for i in range(n):
        lse = L[i]
        if labels != NULL:
            L[i] = lse - (Z[i * c + labels[i]] - M[i])
        else:
            st = 0
            ts = 0
            for j in range(c):
                st = st + T[i * c + j]
                ts = ts + T[i * c + j] * (Z[i * c + j] - M[i])
            L[i] = st * lse - ts


cdef void ce_grad(real* GZ, const real* P, const Py_ssize_t* labels, const real* T,
                  const real* G, real scale, Py_ssize_t n, Py_ssize_t c) noexcept nogil:
    """GZ = (P - onehot) * w, or (P Σ T - T) * w; w = G[i] per row, or scale if G is NULL"""
    cdef Py_ssize_t i, j
    cdef real w, st
    for i in range(n):
        w = G[i] if G != NULL else scale
        if labels != NULL:
            for j in range(c):
                GZ[i * c + j] = P[i * c + j]
            GZ[i * c + labels[i]] = GZ[i * c + labels[i]] - 1
        else:
            st = 0
            for j in range(c):
                st = st + T[i * c + j]
            for j in range(c):
                GZ[i * c + j] = P[i * c + j] * st - T[i * c + j]
        for j in range(c):
            GZ[i * c + j] = GZ[i * c + j] * w


cdef void softmax_ce_rows(real* P, real* L, real* M, const real* Z, const Py_ssize_t* labels,
                          const real* T, Py_ssize_t n, Py_ssize_t c) noexcept nogil:
    """P = softmax(Z) by rows, L the losses (M scratch for the row maxima)"""
    ce_shift(P, M, Z, n, c)
    v_exp(P, P, n * c)
    ce_normalise(P, L, n, c)
    v_log(L, L, n)
    ce_losses(L, M, Z, labels, T, n, c)


def softmax_ce_forward(cnp.ndarray Z not None, labels, T, cnp.ndarray P not None,
                       cnp.ndarray L not None):
    """P = softmax(Z) by rows; L = lse(Z) - Z[label] (labels), or Σ T·(lse(Z) - Z) (T).
    All C-contiguous, one float dtype; labels intp."""
    check_float("softmax_ce_forward", Z)
    check_classes("softmax_ce_forward", Z, labels, T)
    check_like("softmax_ce_forward", "P", P, Z)
    cdef Py_ssize_t n = cnp.PyArray_DIMS(Z)[0], c = cnp.PyArray_DIMS(Z)[1]
    if not (cnp.PyArray_NDIM(L) == 1 and cnp.PyArray_DIMS(L)[0] == n and cnp.PyArray_TYPE(L)
            == cnp.PyArray_TYPE(Z) and cnp.PyArray_IS_C_CONTIGUOUS(L)):
        raise ValueError(f"softmax_ce_forward: L must be a C-contiguous {Z.dtype} array of "
                         f"shape ({n},)")
    cdef cnp.ndarray M = cnp.PyArray_EMPTY(1, cnp.PyArray_DIMS(Z), cnp.PyArray_TYPE(Z), 0)
    cdef bint f64 = cnp.PyArray_TYPE(Z) == cnp.NPY_DOUBLE
    cdef const Py_ssize_t* lab = <const Py_ssize_t*>ptr(labels)
    if n == 0:
        return
    if f64:
        softmax_ce_rows(<double*>ptr(P), <double*>ptr(L), <double*>ptr(M), <double*>ptr(Z), lab,
                        <double*>ptr(T), n, c)
    else:
        softmax_ce_rows(<float*>ptr(P), <float*>ptr(L), <float*>ptr(M), <float*>ptr(Z), lab,
                        <float*>ptr(T), n, c)


def softmax_ce_backward(cnp.ndarray P not None, labels, T, scale, cnp.ndarray GZ not None):
    """GZ = (P - onehot) * scale, or (P Σ T - T) * scale; scale is a float or one per row."""
    check_float("softmax_ce_backward", P)
    check_classes("softmax_ce_backward", P, labels, T)
    check_like("softmax_ce_backward", "GZ", GZ, P)
    check_scale("softmax_ce_backward", scale, cnp.PyArray_DIMS(P)[0])
    cdef Py_ssize_t n = cnp.PyArray_DIMS(P)[0], c = cnp.PyArray_DIMS(P)[1]
    cdef const Py_ssize_t* lab = <const Py_ssize_t*>ptr(labels)
    G = None
    cdef double s = 0
    if isinstance(scale, float):
        s = scale
    else:
        G = contiguous_as(scale, P)
    if cnp.PyArray_TYPE(P) == cnp.NPY_DOUBLE:
        ce_grad(<double*>ptr(GZ), <double*>ptr(P), lab, <double*>ptr(T), <double*>ptr(G),
                s, n, c)
    else:
        ce_grad(<float*>ptr(GZ), <float*>ptr(P), lab, <float*>ptr(T), <float*>ptr(G),
                <float>s, n, c)


def softmax_cross_entropy(logits, target, reduction="mean"):
    """Cross-entropy of softmax(logits) against class indices or probability rows."""
    opname = "softmax_cross_entropy"
    check_reduction(reduction, opname)
    cdef Node z = logits_node(logits, opname)
    cdef cnp.ndarray Z = contiguous_as(z.data, z.data)
    labels, T = class_target(target, Z, opname)
    cdef cnp.ndarray P = cnp.PyArray_EMPTY(2, cnp.PyArray_DIMS(Z), cnp.PyArray_TYPE(Z), 0)
    cdef cnp.ndarray L = cnp.PyArray_EMPTY(1, cnp.PyArray_DIMS(Z), cnp.PyArray_TYPE(Z), 0)
    softmax_ce_forward(Z, labels, T, P, L)
    return make_result(reduce_losses(L, reduction, opname, z), OP_SOFTMAX_CE, (z,),
                       (P, labels, T, reduction))


cdef int vjp_softmax_ce(Node node, object g) except -1:
    """gz = (softmax(z) - onehot(t)) * g/N (mean)"""
    P, labels, T, reduction = node._ctx
    GZ = np.empty_like(P)
    softmax_ce_backward(P, labels, T, gradient_scale(g, reduction, P.shape[0]), GZ)
    accumulate(<Node>node._prev[0], GZ, True)
    return 0


# ---------------------------------------------------------------- binary cross-entropy

cdef void neg_abs(real* E, const real* Z, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(n):
        E[i] = -(Z[i] if Z[i] >= 0 else -Z[i])


cdef void bce_losses(real* L, const real* Z, const real* T, real* E,
                     Py_ssize_t n) noexcept nogil:
    """E = e^-|Z|; L = max(Z, 0) - Z·T + log1p(E)"""
    cdef Py_ssize_t i
    cdef real z
    neg_abs(E, Z, n)
    v_exp(E, E, n)
    v_log1p(L, E, n)
    for i in range(n):
        z = Z[i]
        L[i] = ((z if (z >= 0 or z != z) else 0) - z * T[i]) + L[i]


@cython.cdivision(True)  # IEEE division (x/0 is inf or nan, as numpy's), in every build
cdef void bce_grad(real* GZ, const real* Z, const real* T, const real* E, const real* G,
                   real scale, Py_ssize_t n) noexcept nogil:
    """GZ = (σ(Z) - T) * w, σ from E = e^-|Z|; w = G[i], or scale if G is NULL"""
    cdef Py_ssize_t i
    cdef real r, s
    for i in range(n):
        r = 1 / (1 + E[i])
        s = r if Z[i] >= 0 else E[i] * r
        GZ[i] = (s - T[i]) * (G[i] if G != NULL else scale)


def bce_logits_forward(cnp.ndarray Z not None, cnp.ndarray T not None, cnp.ndarray E not None,
                       cnp.ndarray L not None):
    """E = e^-|Z|; L = max(Z, 0) - Z·T + log1p(E). All C-contiguous, one float dtype."""
    check_float("bce_logits_forward", Z)
    for name, a in (("T", T), ("E", E), ("L", L)):
        check_like("bce_logits_forward", name, a, Z)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(Z)
    if cnp.PyArray_TYPE(Z) == cnp.NPY_DOUBLE:
        bce_losses(<double*>ptr(L), <double*>ptr(Z), <double*>ptr(T), <double*>ptr(E), n)
    else:
        bce_losses(<float*>ptr(L), <float*>ptr(Z), <float*>ptr(T), <float*>ptr(E), n)


def bce_logits_backward(cnp.ndarray Z not None, cnp.ndarray T not None, cnp.ndarray E not None,
                        scale, cnp.ndarray GZ not None):
    """GZ = (σ(Z) - T) * scale, σ from E = e^-|Z| (1/(1+E) for Z >= 0, E/(1+E) below)."""
    check_float("bce_logits_backward", Z)
    for name, a in (("T", T), ("E", E), ("GZ", GZ)):
        check_like("bce_logits_backward", name, a, Z)
    check_scale("bce_logits_backward", scale, cnp.PyArray_SIZE(Z))
    cdef Py_ssize_t n = cnp.PyArray_SIZE(Z)
    G = None
    cdef double s = 0
    if isinstance(scale, float):
        s = scale
    else:
        G = contiguous_as(scale, Z)
    if cnp.PyArray_TYPE(Z) == cnp.NPY_DOUBLE:
        bce_grad(<double*>ptr(GZ), <double*>ptr(Z), <double*>ptr(T), <double*>ptr(E),
                 <double*>ptr(G), s, n)
    else:
        bce_grad(<float*>ptr(GZ), <float*>ptr(Z), <float*>ptr(T), <float*>ptr(E),
                 <float*>ptr(G), <float>s, n)


def binary_cross_entropy_with_logits(logits, target, reduction="mean"):
    """Binary cross-entropy of sigmoid(logits) against targets in [0, 1], computed stably."""
    opname = "binary_cross_entropy_with_logits"
    check_reduction(reduction, opname)
    cdef Node z = lift(logits, opname)
    cdef cnp.ndarray Z = contiguous_as(z.data, z.data)
    T = target_like(target, Z, opname)
    E = np.empty_like(Z)
    L = np.empty_like(Z)
    bce_logits_forward(Z, T, E, L)
    return make_result(reduce_losses(L, reduction, opname, z), OP_BCE_LOGITS, (z,), (T, E, reduction))


cdef int vjp_bce_logits(Node node, object g) except -1:
    """gz = (sigmoid(z) - t) * g/n (mean)"""
    cdef Node z = <Node>node._prev[0]
    T, E, reduction = node._ctx
    GZ = np.empty_like(E)
    bce_logits_backward(contiguous_as(z.data, E), T, E, gradient_scale(g, reduction, E.size),
                        GZ)
    accumulate(z, GZ, True)
    return 0


# ---------------------------------------------------------------- mean squared error

cdef void mse_losses(real* D, real* L, const real* P, const real* T,
                     Py_ssize_t n) noexcept nogil:
    """D = P - T; L = D·D"""
    cdef Py_ssize_t i
    for i in range(n):
        D[i] = P[i] - T[i]
        L[i] = D[i] * D[i]


cdef void mse_grad(real* GP, const real* D, const real* G, real scale,
                   Py_ssize_t n) noexcept nogil:
    """GP = D * scale (scale = 2·s when G is NULL), or D * G[i] * 2"""
    cdef Py_ssize_t i
    if G == NULL:
        for i in range(n):
            GP[i] = D[i] * scale
    else:
        for i in range(n):
            GP[i] = D[i] * G[i] * 2


def mse_forward(cnp.ndarray P not None, cnp.ndarray T not None, cnp.ndarray D not None,
                cnp.ndarray L not None):
    """D = P - T; L = D·D. All C-contiguous, one float dtype."""
    check_float("mse_forward", P)
    for name, a in (("T", T), ("D", D), ("L", L)):
        check_like("mse_forward", name, a, P)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(P)
    if cnp.PyArray_TYPE(P) == cnp.NPY_DOUBLE:
        mse_losses(<double*>ptr(D), <double*>ptr(L), <double*>ptr(P), <double*>ptr(T), n)
    else:
        mse_losses(<float*>ptr(D), <float*>ptr(L), <float*>ptr(P), <float*>ptr(T), n)


def mse_backward(cnp.ndarray D not None, scale, cnp.ndarray GP not None):
    """GP = D * 2·scale (a float), or D * scale * 2 (scale one per element)."""
    check_float("mse_backward", D)
    check_like("mse_backward", "GP", GP, D)
    check_scale("mse_backward", scale, cnp.PyArray_SIZE(D))
    cdef Py_ssize_t n = cnp.PyArray_SIZE(D)
    G = None
    cdef double s = 0
    if isinstance(scale, float):
        s = 2 * scale
    else:
        G = contiguous_as(scale, D)
    if cnp.PyArray_TYPE(D) == cnp.NPY_DOUBLE:
        mse_grad(<double*>ptr(GP), <double*>ptr(D), <double*>ptr(G), s, n)
    else:
        mse_grad(<float*>ptr(GP), <float*>ptr(D), <float*>ptr(G), <float>s, n)


def mse_loss(input, target, reduction="mean"):
    """Mean squared error (input - target)²; both may require grad."""
    opname = "mse_loss"
    check_reduction(reduction, opname)
    cdef Node p = lift(input, opname)
    cdef cnp.ndarray P = contiguous_as(p.data, p.data)
    cdef Node t = target if isinstance(target, Node) else as_constant(target, P.dtype, opname)
    if t.data.dtype != P.dtype:
        raise TypeError(f"mse_loss: input is {P.dtype} but target is {t.data.dtype}; cast one "
                        f"with .astype()")
    T = t.data.reshape(p.data.shape) if same_shape_target(t, P, opname) else t.data
    T = contiguous_as(T, P)
    D = np.empty_like(P)
    L = np.empty_like(P)
    mse_forward(P, T, D, L)
    return make_result(reduce_losses(L, reduction, opname, p), OP_MSE, (p, t), (D, reduction))


cdef int vjp_mse(Node node, object g) except -1:
    """gp = 2(p - t) * g/n (mean), gt = -gp"""
    cdef Node p = <Node>node._prev[0], t = <Node>node._prev[1]
    D, reduction = node._ctx
    GP = np.empty_like(D)
    mse_backward(D, gradient_scale(g, reduction, D.size), GP)
    if t.requires_grad:
        accumulate(t, (-GP).reshape(t.data.shape), True)
    accumulate(p, GP, True)
    return 0


# ---------------------------------------------------------------- hinge

cdef void hinge_losses(real* M, real* L, const real* S, const real* T,
                       Py_ssize_t n) noexcept nogil:
    """M = 1 - T·S; L = max(M, 0) (NaN passing through)"""
    cdef Py_ssize_t i
    cdef real m
    for i in range(n):
        m = 1 - T[i] * S[i]
        M[i] = m
        L[i] = m if (m >= 0 or m != m) else 0


cdef void hinge_grad(real* GS, const real* T, const real* M, const real* G, real scale,
                     Py_ssize_t n) noexcept nogil:
    """GS = T·[M > 0] * scale (scale = -s when G is NULL), or -(T·[M > 0] * G[i])"""
    cdef Py_ssize_t i
    if G == NULL:
        for i in range(n):
            GS[i] = T[i] * (M[i] > 0) * scale
    else:
        for i in range(n):
            GS[i] = -(T[i] * (M[i] > 0) * G[i])


def hinge_forward(cnp.ndarray S not None, cnp.ndarray T not None, cnp.ndarray M not None,
                  cnp.ndarray L not None):
    """M = 1 - T·S; L = max(M, 0). All C-contiguous, one float dtype."""
    check_float("hinge_forward", S)
    for name, a in (("T", T), ("M", M), ("L", L)):
        check_like("hinge_forward", name, a, S)
    cdef Py_ssize_t n = cnp.PyArray_SIZE(S)
    if cnp.PyArray_TYPE(S) == cnp.NPY_DOUBLE:
        hinge_losses(<double*>ptr(M), <double*>ptr(L), <double*>ptr(S), <double*>ptr(T), n)
    else:
        hinge_losses(<float*>ptr(M), <float*>ptr(L), <float*>ptr(S), <float*>ptr(T), n)


def hinge_backward(cnp.ndarray T not None, cnp.ndarray M not None, scale,
                   cnp.ndarray GS not None):
    """GS = -T·[M > 0] * scale (a float), or -(T·[M > 0] * scale) (one per element)."""
    check_float("hinge_backward", M)
    for name, a in (("T", T), ("GS", GS)):
        check_like("hinge_backward", name, a, M)
    check_scale("hinge_backward", scale, cnp.PyArray_SIZE(M))
    cdef Py_ssize_t n = cnp.PyArray_SIZE(M)
    G = None
    cdef double s = 0
    if isinstance(scale, float):
        s = -scale
    else:
        G = contiguous_as(scale, M)
    if cnp.PyArray_TYPE(M) == cnp.NPY_DOUBLE:
        hinge_grad(<double*>ptr(GS), <double*>ptr(T), <double*>ptr(M), <double*>ptr(G), s, n)
    else:
        hinge_grad(<float*>ptr(GS), <float*>ptr(T), <float*>ptr(M), <float*>ptr(G),
                   <float>s, n)


def hinge_loss(scores, target, reduction="mean"):
    """Binary hinge loss max(0, 1 - target·scores) for targets in {-1, +1}."""
    opname = "hinge_loss"
    check_reduction(reduction, opname)
    cdef Node s = lift(scores, opname)
    cdef cnp.ndarray S = contiguous_as(s.data, s.data)
    T = target_like(target, S, opname)
    M = np.empty_like(S)
    L = np.empty_like(S)
    hinge_forward(S, T, M, L)
    return make_result(reduce_losses(L, reduction, opname, s), OP_HINGE, (s,), (T, M, reduction))


cdef int vjp_hinge(Node node, object g) except -1:
    """gs = -t*[1 - t*s > 0] * g/n (mean)"""
    T, M, reduction = node._ctx
    GS = np.empty_like(M)
    hinge_backward(T, M, gradient_scale(g, reduction, M.size), GS)
    accumulate(<Node>node._prev[0], GS, True)
    return 0


register_vjp(OP_SOFTMAX_CE, vjp_softmax_ce)
register_vjp(OP_BCE_LOGITS, vjp_bce_logits)
register_vjp(OP_MSE, vjp_mse)
register_vjp(OP_HINGE, vjp_hinge)
