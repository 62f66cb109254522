"""W1: one training step of micrograd's demo (moons, MLP(2, [16, 16, 1]), hinge + 1e-4 L2, SGD).

The step is demo.ipynb's loop body: build the inputs as Values, forward all 100 points, loss,
zero_grad, backward, update with lr = 1 - 0.9 k / 100. k runs 0..99 and then starts again, so
the learning rate stays the demo's however many rounds the benchmark takes.

Variants: "value" (scalar graphs: micrograd, fastgrad's Value face) and "tensor" (the same model
on arrays: PyTorch, fastgrad's Tensor face).
"""

from .data import micrograd_mlp_init, moons
from .registry import register

N_SAMPLES = 100
LAYER_SIZES = [16, 16, 1]
L2_ALPHA = 1e-4
STEPS_PER_SCHEDULE = 100


def learning_rate(k):
    return 1.0 - 0.9 * (k % STEPS_PER_SCHEDULE) / STEPS_PER_SCHEDULE


def demo_loss(Value, model, X, y):
    """micrograd demo.ipynb's `loss()` (full batch), for any micrograd-compatible Value/MLP."""
    inputs = [list(map(Value, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = L2_ALPHA * sum(p * p for p in model.parameters())
    return data_loss + reg_loss


def model_and_data(MLP):
    """`MLP(2, [16, 16, 1])` and the demo data, seeded as in the demo; shared with M1.

    MLP is micrograd's or fastgrad's (same constructor, same draws from `random`)."""
    import random

    X, y = moons(N_SAMPLES)
    random.seed(1337)
    return MLP(2, LAYER_SIZES), X.tolist(), y.tolist()


def micrograd_model_and_data():
    from micrograd.nn import MLP

    return model_and_data(MLP)


def fastgrad_model_and_data():
    from fastgrad.nn import MLP

    return model_and_data(MLP)


def value_demo_step(Value, model, X, y):
    """demo.ipynb's training step, for any micrograd-compatible Value and model."""
    k = 0

    def step():
        nonlocal k
        total_loss = demo_loss(Value, model, X, y)
        model.zero_grad()
        total_loss.backward()
        lr = learning_rate(k)
        for p in model.parameters():
            p.data -= lr * p.grad
        k += 1
        return total_loss.data

    return step


@register("W1", "micrograd", variant="value", requires=("micrograd",), slow=True)
def micrograd_step():
    from micrograd.engine import Value

    return value_demo_step(Value, *micrograd_model_and_data())


@register("W1", "fastgrad", variant="value")
def fastgrad_value_step():
    """micrograd's code with the imports changed: `from fastgrad import Value`,
    `from fastgrad.nn import MLP` (whose layers make each neuron one fused node)."""
    from fastgrad import Value

    return value_demo_step(Value, *fastgrad_model_and_data())


@register("W1", "torch", variant="tensor", requires=("torch",))
def torch_step():
    """The same model and loss on float64 tensors, eager; weights start as micrograd's."""
    import torch

    from onecore import limit_torch

    limit_torch(torch)
    X, y = (torch.from_numpy(a) for a in moons(N_SAMPLES))
    params = []
    for W, b in micrograd_mlp_init(2, LAYER_SIZES):
        params += [torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)]
    k = 0

    def step():
        nonlocal k
        h = X
        for i in range(0, len(params), 2):
            h = h @ params[i] + params[i + 1]
            if i + 2 < len(params):
                h = torch.relu(h)
        losses = torch.relu(1 - y * h[:, 0])
        reg_loss = L2_ALPHA * sum((p * p).sum() for p in params)
        total_loss = losses.mean() + reg_loss
        for p in params:
            p.grad = None
        total_loss.backward()
        lr = learning_rate(k)
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        k += 1
        return total_loss.item()

    return step


@register("W1", "fastgrad", variant="tensor")
def fastgrad_tensor_step():
    """The PyTorch-like face: nn.mlp (each layer one fused dense node), the fused hinge loss,
    1e-4 L2 on Tensors, optim.SGD with the demo's schedule; weights start as micrograd's."""
    import fastgrad
    from fastgrad import nn, optim

    X, y = moons(N_SAMPLES)
    X = fastgrad.Tensor(X)
    model = nn.mlp([2] + LAYER_SIZES, activation="relu")
    for (W, b), layer in zip(micrograd_mlp_init(2, LAYER_SIZES), model):
        layer.weight.data[...] = W
        layer.bias.data[...] = b
    params = model.parameters()
    optimizer = optim.SGD(params, lr=learning_rate(0), schedule=learning_rate)

    def step():
        scores = model(X)
        reg_loss = L2_ALPHA * sum((p * p).sum() for p in params)
        total_loss = nn.functional.hinge_loss(scores, y) + reg_loss
        optimizer.zero_grad()
        total_loss.backward()
        optimizer.step()
        return total_loss.item()

    return step
