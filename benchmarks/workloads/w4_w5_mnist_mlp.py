"""W4 and W5: one SGD step of an MLP 784-256-256-10 (tanh, softmax-CE), float32, on MNIST-shaped
random data; W4 with batch 64, W5 with batch 1024.

Both have two pseudo-systems, the step's matrix products alone into preallocated outputs:
"flop-floor", as numpy matmuls (numpy's BLAS), and "blas-floor", through fastgrad's BLAS calls
from C (scipy's BLAS, what the dense layers run), which bounds how fast a step built on them can
be. Both are FLOP-floor rows: BLAS's own best kernel, named in the note (see report.py).
Forward: 3 products; backward: the weight gradients of all 3 layers and the input gradients of
layers 2 and 3 (layer 1's input gradient is not needed). That is
2 B (784*256 + 256*256 + 256*10) * 2 + 2 B (256*256 + 256*10) FLOPs, 1.24 GFLOP at B = 1024.
"""

import numpy as np

from .data import mlp_init, mnist_shaped
from .registry import register

SIZES = (784, 256, 256, 10)
BATCHES = {"W4": 64, "W5": 1024}
LEARNING_RATE = 0.01


def step_flops(batch, sizes=SIZES):
    layer_products = [2 * batch * fan_in * fan_out for fan_in, fan_out in zip(sizes, sizes[1:])]
    # forward + weight gradients (every layer) + input gradients (every layer but the first)
    return 2 * sum(layer_products) + sum(layer_products[1:])


def problem(batch):
    X, labels = mnist_shaped(batch)
    return X, labels, mlp_init(SIZES, dtype=np.float32)


def torch_step(batch):
    import torch
    import torch.nn.functional as F

    from onecore import limit_torch

    limit_torch(torch)
    X, labels, layers = problem(batch)
    X, labels = torch.from_numpy(X), torch.from_numpy(labels)
    modules = []
    for W, b in layers:
        linear = torch.nn.Linear(*W.shape)
        with torch.no_grad():  # same weights as every other system (Linear stores W transposed)
            linear.weight.copy_(torch.from_numpy(W.T))
            linear.bias.copy_(torch.from_numpy(b))
        modules += [linear, torch.nn.Tanh()]
    model = torch.nn.Sequential(*modules[:-1])
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)

    def step():
        loss = F.cross_entropy(model(X), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def jax_step(batch):
    import jax
    import jax.numpy as jnp

    X, labels, layers = problem(batch)
    X, labels = jnp.asarray(X), jnp.asarray(labels)
    state = [(jnp.asarray(W), jnp.asarray(b)) for W, b in layers]

    def loss(params, X, labels):
        h = X
        for W, b in params[:-1]:
            h = jnp.tanh(h @ W + b)
        W, b = params[-1]
        log_p = jax.nn.log_softmax(h @ W + b, axis=1)
        return -jnp.mean(jnp.take_along_axis(log_p, labels[:, None], axis=1))

    @jax.jit
    def update(params, X, labels):
        value, grads = jax.value_and_grad(loss)(params, X, labels)
        return value, jax.tree.map(lambda p, g: p - LEARNING_RATE * g, params, grads)

    def step():
        nonlocal state
        value, state = update(state, X, labels)
        jax.block_until_ready((value, state))
        return value

    return step


def fastgrad_step(batch):
    """The PyTorch-like face: Linear layers with tanh (each one fused dense node), the fused
    softmax cross-entropy, optim.SGD; float32, the same data and weights as torch and jax."""
    import fastgrad
    from fastgrad import nn, optim

    X, labels, layers = problem(batch)
    X = fastgrad.Tensor(X)
    activations = ["tanh"] * (len(layers) - 1) + [None]
    model = nn.Sequential(*[nn.Linear(*W.shape, activation=act, dtype=np.float32)
                            for (W, _), act in zip(layers, activations)])
    for linear, (W, b) in zip(model, layers):
        linear.weight.data[...] = W
        linear.bias.data[...] = b
    optimizer = optim.SGD(model.parameters(), lr=LEARNING_RATE)

    def step():
        loss = nn.functional.cross_entropy(model(X), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss.item()

    return step


def numpy_matmul_into(A, B, out):
    np.matmul(A, B, out=out)


def flop_floor(batch, matmul_into=numpy_matmul_into):
    """The step's 8 matrix products, nothing else, into preallocated float32 outputs."""
    dtype = np.float32
    X, _, layers = problem(batch)
    (W1, _), (W2, _), (W3, _) = layers
    h1 = np.empty((batch, 256), dtype)
    h2 = np.empty((batch, 256), dtype)
    out = np.empty((batch, 10), dtype)
    g_out = np.ones_like(out)  # stand-ins for the upstream gradients; values do not matter
    g2 = np.ones_like(h2)
    g1 = np.ones_like(h1)
    gW1, gW2, gW3 = np.empty_like(W1), np.empty_like(W2), np.empty_like(W3)
    gh2, gh1 = np.empty_like(h2), np.empty_like(h1)

    def products():
        matmul_into(X, W1, h1)        # forward
        matmul_into(h1, W2, h2)
        matmul_into(h2, W3, out)
        matmul_into(h2.T, g_out, gW3)  # backward, layer 3
        matmul_into(g_out, W3.T, gh2)
        matmul_into(h1.T, g2, gW2)     # layer 2
        matmul_into(g2, W2.T, gh1)
        matmul_into(X.T, g1, gW1)      # layer 1: no input gradient

    return products


W4 = dict(params={"batch": BATCHES["W4"]}, flops=step_flops(BATCHES["W4"]))
W5 = dict(params={"batch": BATCHES["W5"]}, flops=step_flops(BATCHES["W5"]))


@register("W4", "fastgrad", **W4)
def fastgrad_w4():
    return fastgrad_step(BATCHES["W4"])


@register("W4", "torch", requires=("torch",), **W4)
def torch_w4():
    return torch_step(BATCHES["W4"])


@register("W4", "jax", requires=("jax",), **W4)
def jax_w4():
    return jax_step(BATCHES["W4"])


def fastgrad_blas_floor(batch):
    """The products through fastgrad's BLAS calls (numpy's matmul in the twin's run)."""
    from fastgrad import _backend

    return flop_floor(batch, _backend.active.blas.matmul_into)


FLOOR = {"unit": "step (matmuls only)", "blas_floor": True}


@register("W4", "flop-floor", **FLOOR, **W4)
def flop_floor_w4():
    return flop_floor(BATCHES["W4"])


@register("W4", "blas-floor", requires=("fastgrad",), **FLOOR, **W4)
def blas_floor_w4():
    return fastgrad_blas_floor(BATCHES["W4"])


@register("W5", "fastgrad", **W5)
def fastgrad_w5():
    return fastgrad_step(BATCHES["W5"])


@register("W5", "torch", requires=("torch",), **W5)
def torch_w5():
    return torch_step(BATCHES["W5"])


@register("W5", "jax", requires=("jax",), **W5)
def jax_w5():
    return jax_step(BATCHES["W5"])


@register("W5", "flop-floor", **FLOOR, **W5)
def flop_floor_w5():
    return flop_floor(BATCHES["W5"])


@register("W5", "blas-floor", requires=("fastgrad",), **FLOOR, **W5)
def blas_floor_w5():
    return fastgrad_blas_floor(BATCHES["W5"])
