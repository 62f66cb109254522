"""W3: one full-batch gradient-descent step on sklearn's digits, MLP 64-64-10 tanh, float64.

logits = tanh(X W1 + b1) W2 + b2; loss = mean softmax cross-entropy (log-softmax with the max
shifted out); params -= LEARNING_RATE * grad. All systems start from the same weights.
"""

from .data import digits, mlp_init, one_hot
from .registry import register

SIZES = (64, 64, 10)
LEARNING_RATE = 0.5


def problem():
    """(X, labels, Y one-hot, [W1, b1, W2, b2]) as float64 numpy arrays."""
    X, labels = digits()
    params = [array for layer in mlp_init(SIZES) for array in layer]
    return X, labels, one_hot(labels, SIZES[-1]), params


def numpy_face_step(np_module, value_and_grad):
    """One GD step written the HIPS-autograd way against `np_module` (autograd.numpy or
    fastgrad.numpy): the same code for both, only the imports differ."""
    X, _, Y, params = problem()

    def loss(params):
        W1, b1, W2, b2 = params
        logits = np_module.dot(np_module.tanh(np_module.dot(X, W1) + b1), W2) + b2
        shifted = logits - np_module.max(logits, axis=1, keepdims=True)
        log_p = shifted - np_module.log(np_module.sum(np_module.exp(shifted), axis=1,
                                                      keepdims=True))
        return -np_module.mean(np_module.sum(Y * log_p, axis=1))

    loss_and_grad = value_and_grad(loss)

    def step():
        value, grads = loss_and_grad(params)
        for p, g in zip(params, grads):
            p -= LEARNING_RATE * g
        return value

    return step


@register("W3", "autograd", requires=("autograd", "sklearn"))
def autograd_step():
    import autograd.numpy as anp
    from autograd import value_and_grad

    return numpy_face_step(anp, value_and_grad)


@register("W3", "fastgrad-numpy", requires=("sklearn",))
def fastgrad_numpy_step():
    """The autograd entry with fastgrad's imports; nothing else changed."""
    import fastgrad.numpy as fnp
    from fastgrad import value_and_grad

    return numpy_face_step(fnp, value_and_grad)


@register("W3", "fastgrad-nn", requires=("sklearn",), reference=True)
def fastgrad_nn_step():
    """The PyTorch-like face: Linear with tanh (one fused node), Linear, the fused softmax
    cross-entropy, optim.SGD; full batch, float64."""
    import fastgrad
    from fastgrad import nn, optim

    X, labels, _, params = problem()
    X = fastgrad.Tensor(X)
    model = nn.Sequential(nn.Linear(64, 64, activation="tanh"), nn.Linear(64, 10))
    for linear, W, b in zip(model, params[0::2], params[1::2]):
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


@register("W3", "torch", requires=("torch", "sklearn"))
def torch_step():
    import torch
    import torch.nn.functional as F

    from onecore import limit_torch

    limit_torch(torch)
    X, labels, _, params = problem()
    X, labels = torch.from_numpy(X), torch.from_numpy(labels)
    params = [torch.tensor(p, requires_grad=True) for p in params]

    def step():
        W1, b1, W2, b2 = params
        loss = F.cross_entropy(torch.tanh(X @ W1 + b1) @ W2 + b2, labels)
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= LEARNING_RATE * p.grad
        return loss.item()

    return step


@register("W3", "jax", requires=("jax", "sklearn"))
def jax_step():
    import jax
    import jax.numpy as jnp

    # float64 needs x64 mode; every other JAX case here passes explicit float32 arrays.
    jax.config.update("jax_enable_x64", True)
    X, _, Y, params = problem()
    X, Y = jnp.asarray(X), jnp.asarray(Y)
    state = [jnp.asarray(p) for p in params]

    def loss(params, X, Y):
        W1, b1, W2, b2 = params
        logits = jnp.tanh(X @ W1 + b1) @ W2 + b2
        return -jnp.mean(jnp.sum(Y * jax.nn.log_softmax(logits, axis=1), axis=1))

    @jax.jit
    def update(params, X, Y):
        value, grads = jax.value_and_grad(loss)(params, X, Y)
        return value, [p - LEARNING_RATE * g for p, g in zip(params, grads)]

    def step():
        nonlocal state
        value, state = update(state, X, Y)
        jax.block_until_ready((value, state))
        return value

    return step
