"""Fused losses, one node each, numerically stable (twin of csrc/losses.pyx).

- softmax_cross_entropy(z, target): rows of logits z (N, C); target integer labels (N,) or
  probabilities / one-hot (N, C). Per row: l = lse(z) - z[label], or Σ_c t_c·(lse(z) - z_c),
  with lse(z) = m + log Σ e^(z - m), m = max(z): nothing overflows.
- binary_cross_entropy_with_logits(z, t): l = max(z, 0) - z·t + log(1 + e^-|z|).
- mse_loss(p, t): l = (p - t)²; the target may require grad too.
- hinge_loss(s, t): l = max(0, 1 - t·s) for labels t in {-1, +1} (0 gradient at the kink).

reduction: "mean" (default; over rows for cross-entropy, over elements otherwise), "sum" or
"none". Targets other than mse's are data: they are not differentiated. The kernels
(``*_forward``, ``*_backward``) write into arrays the caller allocated, for replay.
"""
import numpy as np

from .node import Node, accumulate, as_constant, lift, make_result, register_vjp
from .opcodes import OP_BCE_LOGITS, OP_HINGE, OP_MSE, OP_SOFTMAX_CE
from fastgrad._shared.losses import (  # noqa: F401  (shared with the compiled module)
    check_reduction, class_labels, empty_mean_error, fits_shape, gradient_scale, REDUCTIONS)


# ---------------------------------------------------------------- checking the arguments


def constant_target(target, dtype, opname):
    """A target that is not differentiated, as an array (float targets get ``dtype``)."""
    if isinstance(target, Node):
        if target.requires_grad:
            raise ValueError(f"{opname}: the target is not differentiated; pass it without "
                             f"requires_grad (e.g. target.detach())")
        target = target.data
    arr = np.asarray(target)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{opname}: the target has unsupported dtype {arr.dtype}")
    return arr


def logits_node(z, opname):
    z = lift(z, opname)
    if z.data.ndim != 2:
        raise ValueError(f"{opname}: logits must be 2-D (rows, classes), got shape "
                         f"{z.data.shape}")
    return z


def class_target(target, Z, opname):
    """(labels, None) for class indices, or (None, T) for probabilities / one-hot rows."""
    return class_labels(constant_target(target, Z.dtype, opname), Z, opname)


def same_shape_target(target, P, opname):
    """target (an array or node) reshaped to P's shape; (N,) is accepted for P of (N, 1)."""
    data = target.data if isinstance(target, Node) else target
    return fits_shape(np.shape(data), P, opname)


def target_like(target, X, opname):
    """A constant target as a contiguous array of X's dtype and shape (for the losses taken
    element by element against a target that is not differentiated)."""
    T = constant_target(target, X.dtype, opname)
    if same_shape_target(T, X, opname):
        T = T.reshape(X.shape)
    # (ascontiguousarray makes a 0-d array 1-d: shaped back, a 0-d input keeps a 0-d target)
    return np.ascontiguousarray(T, dtype=X.dtype).reshape(X.shape)


def reduce_losses(L, reduction, opname, x):
    """The losses L (one per row or element) of op ``opname`` on input node x, reduced as
    asked."""
    if reduction == "none":
        return L
    if L.size == 0 and reduction == "mean":
        raise empty_mean_error(opname, x)
    total = np.add.reduce(L.reshape(-1))
    return total / L.size if reduction == "mean" else total


# ---------------------------------------------------------------- softmax cross-entropy

def softmax_ce_forward(Z, labels, T, P, L):
    """P = softmax(Z) by rows; L = lse(Z) - Z[label] (labels), or Σ T·(lse(Z) - Z) (T)."""
    M = np.maximum.reduce(Z, axis=1, keepdims=True)
    S = Z - M
    np.exp(S, out=P)
    s = np.add.reduce(P, axis=1, keepdims=True)
    P /= s
    lse = np.log(s[:, 0])
    if labels is not None:
        L[...] = lse - S[np.arange(len(labels)), labels]
    else:
        L[...] = np.add.reduce(T, axis=1) * lse - np.add.reduce(T * S, axis=1)


def softmax_ce_backward(P, labels, T, scale, GZ):
    """GZ = (P - onehot) * scale, or (P Σ T - T) * scale; scale is a float or one per row."""
    if labels is not None:
        GZ[...] = P
        GZ[np.arange(len(labels)), labels] -= 1
    else:
        np.multiply(P, np.add.reduce(T, axis=1, keepdims=True), out=GZ)
        GZ -= T
    GZ *= scale if isinstance(scale, float) else scale[:, None]


def softmax_cross_entropy(logits, target, reduction="mean"):
    """Cross-entropy of softmax(logits) against class indices or probability rows."""
    opname = "softmax_cross_entropy"
    check_reduction(reduction, opname)
    z = logits_node(logits, opname)
    Z = z.data
    labels, T = class_target(target, Z, opname)
    P = np.empty_like(Z)
    L = np.empty(Z.shape[0], Z.dtype)
    softmax_ce_forward(Z, labels, T, P, L)
    return make_result(reduce_losses(L, reduction, opname, z), OP_SOFTMAX_CE, (z,),
                       (P, labels, T, reduction))


def vjp_softmax_ce(node, g):
    """gz = (softmax(z) - onehot(t)) * g/N (mean)"""
    z = node._prev[0]
    P, labels, T, reduction = node._ctx
    GZ = np.empty_like(P)
    softmax_ce_backward(P, labels, T, gradient_scale(g, reduction, P.shape[0]), GZ)
    accumulate(z, GZ, True)


# ---------------------------------------------------------------- binary cross-entropy

def bce_logits_forward(Z, T, E, L):
    """E = e^-|Z|; L = max(Z, 0) - Z·T + log1p(E)."""
    np.absolute(Z, out=E)
    np.negative(E, out=E)
    np.exp(E, out=E)
    L[...] = np.maximum(Z, 0) - Z * T + np.log1p(E)


def bce_logits_backward(Z, T, E, scale, GZ):
    """GZ = (σ(Z) - T) * scale, σ from E = e^-|Z| (1/(1+E) for Z >= 0, E/(1+E) below)."""
    r = 1 / (1 + E)
    GZ[...] = (np.where(Z >= 0, r, E * r) - T) * scale


def binary_cross_entropy_with_logits(logits, target, reduction="mean"):
    """Binary cross-entropy of sigmoid(logits) against targets in [0, 1], computed stably."""
    opname = "binary_cross_entropy_with_logits"
    check_reduction(reduction, opname)
    z = lift(logits, opname)
    Z = z.data
    T = target_like(target, Z, opname)
    E = np.empty_like(Z)
    L = np.empty_like(Z)
    bce_logits_forward(Z, T, E, L)
    return make_result(reduce_losses(L, reduction, opname, z), OP_BCE_LOGITS, (z,), (T, E, reduction))


def vjp_bce_logits(node, g):
    """gz = (sigmoid(z) - t) * g/n (mean)"""
    z = node._prev[0]
    T, E, reduction = node._ctx
    GZ = np.empty_like(E)
    bce_logits_backward(z.data, T, E, gradient_scale(g, reduction, E.size), GZ)
    accumulate(z, GZ, True)


# ---------------------------------------------------------------- mean squared error

def mse_forward(P, T, D, L):
    """D = P - T; L = D·D."""
    np.subtract(P, T, out=D)
    np.multiply(D, D, out=L)


def mse_backward(D, scale, GP):
    """GP = D * 2·scale (a float), or D * scale * 2 (scale one per element)."""
    if isinstance(scale, float):
        np.multiply(D, 2 * scale, out=GP)
    else:
        GP[...] = D * scale * 2


def mse_loss(input, target, reduction="mean"):
    """Mean squared error (input - target)²; both may require grad."""
    opname = "mse_loss"
    check_reduction(reduction, opname)
    p = lift(input, opname)
    P = p.data
    t = target if isinstance(target, Node) else as_constant(target, P.dtype, opname)
    if t.data.dtype != P.dtype:
        raise TypeError(f"mse_loss: input is {P.dtype} but target is {t.data.dtype}; cast one "
                        f"with .astype()")
    T = t.data.reshape(P.shape) if same_shape_target(t, P, opname) else t.data
    D = np.empty_like(P)
    L = np.empty_like(P)
    mse_forward(P, T, D, L)
    return make_result(reduce_losses(L, reduction, opname, p), OP_MSE, (p, t), (D, reduction))


def vjp_mse(node, g):
    """gp = 2(p - t) * g/n (mean), gt = -gp"""
    p, t = node._prev
    D, reduction = node._ctx
    GP = np.empty_like(D)
    mse_backward(D, gradient_scale(g, reduction, D.size), GP)
    if t.requires_grad:
        accumulate(t, (-GP).reshape(t.data.shape), True)
    accumulate(p, GP, True)


# ---------------------------------------------------------------- hinge

def hinge_forward(S, T, M, L):
    """M = 1 - T·S; L = max(M, 0)."""
    np.multiply(T, S, out=M)
    np.subtract(1, M, out=M)
    np.maximum(M, 0, out=L)


def hinge_backward(T, M, scale, GS):
    """GS = -T·[M > 0] * scale (a float), or -(T·[M > 0] * scale) (one per element)."""
    if isinstance(scale, float):
        np.multiply(T * (M > 0), -scale, out=GS)
    else:
        np.negative(T * (M > 0) * scale, out=GS)


def hinge_loss(scores, target, reduction="mean"):
    """Binary hinge loss max(0, 1 - target·scores) for targets in {-1, +1}."""
    opname = "hinge_loss"
    check_reduction(reduction, opname)
    s = lift(scores, opname)
    S = s.data
    T = target_like(target, S, opname)
    M = np.empty_like(S)
    L = np.empty_like(S)
    hinge_forward(S, T, M, L)
    return make_result(reduce_losses(L, reduction, opname, s), OP_HINGE, (s,), (T, M, reduction))


def vjp_hinge(node, g):
    """gs = -t*[1 - t*s > 0] * g/n (mean)"""
    s = node._prev[0]
    T, M, reduction = node._ctx
    GS = np.empty_like(M)
    hinge_backward(T, M, gradient_scale(g, reduction, M.size), GS)
    accumulate(s, GS, True)


for _op, _vjp in {OP_SOFTMAX_CE: vjp_softmax_ce, OP_BCE_LOGITS: vjp_bce_logits,
                  OP_MSE: vjp_mse, OP_HINGE: vjp_hinge}.items():
    register_vjp(_op, _vjp)
