"""W7: forward + backward of one dense layer y = tanh(x W + b) at n x n (x and W both n x n).

FLOPs are counted as the three n x n x n matrix products, 3 * 2 n^3 (z = x W, gW = x^T gz,
gx = gz W^T); the bias and tanh are O(n^2). "numpy-matmul" is the baseline: those three products
alone as numpy matmuls into preallocated outputs, i.e. what BLAS gives through numpy (a
FLOP-floor row: BLAS's best kernel, named in the note). n = 2048
(1024 with --quick). Variants: f32, f64.
"""

import numpy as np

from .registry import QUICK, register

N = 1024 if QUICK else 2048


def layer_arrays(dtype, n=N, seed=0):
    """x, W, b and an upstream gradient gy, with values that keep tanh out of saturation."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, n)).astype(dtype)
    W = (rng.standard_normal((n, n)) / np.sqrt(n)).astype(dtype)
    b = np.zeros(n, dtype)
    gy = rng.standard_normal((n, n)).astype(dtype)
    return x, W, b, gy


def numpy_matmuls(dtype):
    x, W, _, gz = layer_arrays(dtype)
    z, gW, gx = np.empty_like(x), np.empty_like(W), np.empty_like(x)

    def products():
        np.matmul(x, W, out=z)
        np.matmul(x.T, gz, out=gW)
        np.matmul(gz, W.T, out=gx)

    return products


def torch_layer(dtype):
    import torch
    import torch.nn.functional as F

    from onecore import limit_torch

    limit_torch(torch)
    x, W, b, gy = (torch.from_numpy(a) for a in layer_arrays(dtype))
    weight = W.T.contiguous().requires_grad_()  # (out, in), as nn.Linear stores it
    b.requires_grad_()
    x.requires_grad_()

    def forward_backward():
        for t in (x, weight, b):
            t.grad = None
        torch.tanh(F.linear(x, weight, b)).backward(gy)

    return forward_backward


def fastgrad_layer(dtype):
    """fastgrad's fused dense node: y = tanh(x W + b), backward with the upstream gradient."""
    import fastgrad

    x, W, b, gy = layer_arrays(dtype)
    x, W, b = (fastgrad.Tensor(a, requires_grad=True) for a in (x, W, b))

    def forward_backward():
        for t in (x, W, b):
            t.grad = None
        fastgrad.dense(x, W, b, "tanh").backward(gy)

    return forward_backward


def variant(name, unit="forward+backward"):
    # slow: a call takes 0.1-2 s, so the first call is the warm-up and sizes the rounds
    return dict(variant=name, unit=unit, flops=3 * 2 * N**3, params={"n": N, "dtype": name},
                slow=True)


@register("W7", "numpy-matmul", blas_floor=True, **variant("f32", unit="3 matmuls"))
def numpy_matmuls_f32():
    return numpy_matmuls(np.float32)


@register("W7", "numpy-matmul", blas_floor=True, **variant("f64", unit="3 matmuls"))
def numpy_matmuls_f64():
    return numpy_matmuls(np.float64)


@register("W7", "fastgrad", **variant("f32"))
def fastgrad_layer_f32():
    return fastgrad_layer(np.float32)


@register("W7", "fastgrad", **variant("f64"))
def fastgrad_layer_f64():
    return fastgrad_layer(np.float64)


@register("W7", "torch", requires=("torch",), **variant("f32"))
def torch_layer_f32():
    return torch_layer(np.float32)


@register("W7", "torch", requires=("torch",), **variant("f64"))
def torch_layer_f64():
    return torch_layer(np.float64)
