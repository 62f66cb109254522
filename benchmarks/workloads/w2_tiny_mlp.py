"""W2: one gradient call of a 3-3-2 MLP's loss on one example (HIPS autograd's tutorial style).

weights = [W0 (3, 3), W1 (3, 2)], no biases; hidden = sigmoid(x W0), written 1 / (1 + exp(-a));
p = softmax(hidden W1) with the max shifted out; loss = -sum(t log p). The unit of work is one
`grad(loss)(weights, x, t)` call on a fixed example.
"""

import numpy as np

from .registry import register


def weights_and_example(seed=0):
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=(3, 3)), rng.normal(size=(3, 2))]
    x = rng.normal(size=3)
    t = np.array([0.0, 1.0])
    return weights, x, t


@register("W2", "autograd", unit="call", requires=("autograd",))
def autograd_grad_call():
    import autograd.numpy as anp
    from autograd import grad

    def sigmoid(a):
        return 1 / (1 + anp.exp(-a))

    def softmax(z):
        e = anp.exp(z - anp.max(z))
        return e / anp.sum(e)

    def loss(weights, x, t):
        hidden = sigmoid(anp.dot(x, weights[0]))
        p = softmax(anp.dot(hidden, weights[1]))
        return -anp.sum(t * anp.log(p))

    grad_loss = grad(loss)
    weights, x, t = weights_and_example()
    return lambda: grad_loss(weights, x, t)


@register("W2", "fastgrad", unit="call")
def fastgrad_grad_call():
    """The autograd entry with fastgrad's imports (`import fastgrad.numpy as np`,
    `from fastgrad import grad`); nothing else changed."""
    import fastgrad.numpy as fnp
    from fastgrad import grad

    def sigmoid(a):
        return 1 / (1 + fnp.exp(-a))

    def softmax(z):
        e = fnp.exp(z - fnp.max(z))
        return e / fnp.sum(e)

    def loss(weights, x, t):
        hidden = sigmoid(fnp.dot(x, weights[0]))
        p = softmax(fnp.dot(hidden, weights[1]))
        return -fnp.sum(t * fnp.log(p))

    grad_loss = grad(loss)
    weights, x, t = weights_and_example()
    return lambda: grad_loss(weights, x, t)


@register("W2", "torch", unit="call", requires=("torch",))
def torch_grad_call():
    import torch

    from onecore import limit_torch

    limit_torch(torch)
    weights, x, t = weights_and_example()
    weights = [torch.tensor(W, requires_grad=True) for W in weights]
    x, t = torch.from_numpy(x), torch.from_numpy(t)

    def loss(weights, x, t):
        hidden = 1 / (1 + torch.exp(-(x @ weights[0])))
        z = hidden @ weights[1]
        e = torch.exp(z - z.max())
        return -(t * torch.log(e / e.sum())).sum()

    return lambda: torch.autograd.grad(loss(weights, x, t), weights)
