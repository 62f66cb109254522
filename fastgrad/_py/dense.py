"""The fused dense layer y = act(x @ W + b): one node (twin of csrc/dense.pyx).

Forward: z = x·W + b, y = act(z). Backward, from the gradient g of y:
gz = g·act'(y) (every activation's derivative is a function of y), then gW = xᵀ·gz,
gb = Σ_rows gz and gx = gz·Wᵀ, each only for the inputs that require grad.

x may be (in,) or (..., in): leading axes are flattened into rows. W is (in, out), b is (out,).
The kernels ``dense_forward`` and ``dense_backward`` write into arrays the caller allocated, so
that a recorded step can later be replayed with preallocated buffers (DESIGN.md, "replay").
"""
import numpy as np

from .elementwise import sigmoid_values
from .node import Node, accumulate, as_constant, lift, make_result, register_vjp
from .opcodes import OP_DENSE
from fastgrad._shared.dense import (  # noqa: F401  (shared with the compiled module)
    ACT_NONE, ACT_RELU, ACT_SIGMOID, ACT_TANH, activation_code, ACTIVATION_NAMES, ACTIVATIONS,
    check_dense)


def dense_operands(x, W, b):
    """x, W and b (or None) as nodes of one float dtype; arrays take the dtype of W (or x)."""
    if isinstance(W, Node):
        dtype = W.data.dtype
    elif isinstance(x, Node):
        dtype = x.data.dtype
    else:
        W = lift(W, "dense")
        dtype = W.data.dtype
    x, W = (v if isinstance(v, Node) else as_constant(v, dtype, "dense") for v in (x, W))
    if b is not None and not isinstance(b, Node):
        b = as_constant(b, dtype, "dense")
    return x, W, b


def as_rows(X):
    """x as a 2-D (rows, in) array (a view when possible)."""
    return X.reshape(-1, X.shape[-1])


def _activate(Z, act):
    """Z = act(Z), in place."""
    if act == ACT_TANH:
        np.tanh(Z, out=Z)
    elif act == ACT_RELU:
        np.maximum(Z, 0, out=Z)
    elif act == ACT_SIGMOID:
        Z[...] = sigmoid_values(Z)


def dense_forward(X, W, B, act, Y):
    """Y = act(X·W + B) for 2-D X; B may be None. Writes into Y (rows(X), cols(W))."""
    np.matmul(X, W, out=Y)
    if B is not None:
        Y += B
    _activate(Y, act)


def _activation_grad(G, Y, act, GZ):
    """GZ = G·act'(Y), with act' written in terms of y = act(z)."""
    if act == ACT_TANH:
        np.multiply(G, 1 - Y * Y, out=GZ)
    elif act == ACT_RELU:
        np.multiply(G, Y > 0, out=GZ)
    elif act == ACT_SIGMOID:
        np.multiply(G * Y, 1 - Y, out=GZ)
    else:
        GZ[...] = G


def dense_backward(X, W, Y, G, act, GZ, GX, GW, GB):
    """gz = G·act'(Y) into GZ; then GW = Xᵀ·gz, GB = Σ_rows gz, GX = gz·Wᵀ for those that are
    not None. GZ may be None when act is none (gz is G itself)."""
    if act == ACT_NONE and GZ is None:
        GZ = G
    else:
        _activation_grad(G, Y, act, GZ)
    if GW is not None:
        np.matmul(X.T, GZ, out=GW)
    if GB is not None:
        np.add.reduce(GZ, axis=0, out=GB)
    if GX is not None:
        np.matmul(GZ, W.T, out=GX)


def dense(x, W, b=None, activation=None):
    """y = act(x @ W + b) as one node; act in {None, 'tanh', 'relu', 'sigmoid'}."""
    act = activation_code(activation)
    x, W, b = dense_operands(x, W, b)
    X, Wd = x.data, W.data
    B = b.data if b is not None else None
    check_dense(X, Wd, B)
    X2 = as_rows(X)
    Y = np.empty((X2.shape[0], Wd.shape[1]), dtype=Wd.dtype)
    dense_forward(X2, Wd, B, act, Y)
    prev = (x, W) if b is None else (x, W, b)
    return make_result(Y.reshape(X.shape[:-1] + (Wd.shape[1],)), OP_DENSE, prev, act)


def vjp_dense(node, g):
    """gz = g*act'(y); gW = x^T gz, gb = sum_rows gz, gx = gz W^T"""
    x, W = node._prev[0], node._prev[1]
    b = node._prev[2] if len(node._prev) == 3 else None
    act = node._ctx
    X, Wd = as_rows(x.data), W.data
    Y, G = as_rows(node.data), as_rows(g)
    dtype = Y.dtype
    GZ = None if act == ACT_NONE else np.empty(Y.shape, dtype)
    GW = np.empty(Wd.shape, dtype) if W.requires_grad else None
    GB = np.empty(Wd.shape[1], dtype) if b is not None and b.requires_grad else None
    GX = np.empty(X.shape, dtype) if x.requires_grad else None
    dense_backward(X, Wd, Y, G, act, GZ, GX, GW, GB)
    if GW is not None:
        accumulate(W, GW, True)
    if GB is not None:
        accumulate(b, GB, True)
    if GX is not None:
        accumulate(x, GX.reshape(x.data.shape), True)


register_vjp(OP_DENSE, vjp_dense)
