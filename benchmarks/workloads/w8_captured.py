"""W8 and captured steps: fastgrad.capture against eager fastgrad, torch eager and jax.jit.

W8 is the fastgrad-demo step: a 2-32-32-2 tanh MLP, batch 32 of two-moons points, softmax
cross-entropy, SGD with momentum 0.9 (lr 0.1), float64; the same weights in every system.
Systems: "fastgrad" (eager), "fastgrad-captured" (the same step under fastgrad.capture),
"torch" (eager), "jax" (jax.jit of value_and_grad plus the momentum update).

W4, W5, W3 and W1 (Tensor face) get a "fastgrad-captured" row: their fastgrad step under
fastgrad.capture.

Each captured case reports in extra_info the time to its first replayed step (the recording
call, which runs the step eagerly and builds the tape and its arena, plus the first replay; the
median of FIRST_REPLAY_TRIALS new captures), the
arena's size, and "eager_step_s" (one warm eager step, for the ratio); jax cases report the time of
their first call (tracing and XLA compilation) as "compile_s".
"""
import time

import numpy as np

from . import w3_digits, w4_w5_mnist_mlp
from .data import mlp_init
from .registry import register

SIZES = (2, 32, 32, 2)
BATCH = 32
LR, MOMENTUM = 0.1, 0.9
FIRST_REPLAY_TRIALS = 5  # time to the first replay: the median of this many fresh captures


def problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((BATCH, 2))
    labels = (X[:, 0] * X[:, 1] > 0).astype(np.intp)
    return X, labels, mlp_init(SIZES)


def fastgrad_model(layers, dtype=np.float64):
    from fastgrad import nn
    activations = ["tanh"] * (len(layers) - 1) + [None]
    model = nn.Sequential(*[nn.Linear(*W.shape, activation=act, dtype=dtype)
                            for (W, _), act in zip(layers, activations)])
    for linear, (W, b) in zip(model, layers):
        linear.weight.data[...] = W
        linear.bias.data[...] = b
    return model


def captured(make_step, X, labels):
    """``make_step()`` -> step(x, y) returning the loss tensor; the zero-argument captured call,
    with the time to first replay, the arena's size and one eager step's time in extra_info."""
    import fastgrad
    eager = make_step()
    eager_s = []
    for _ in range(5):  # warm: the best of the last three
        started = time.perf_counter()
        eager(X, labels)
        eager_s.append(time.perf_counter() - started)
    eager_s = min(eager_s[2:])
    first_replay = []
    for _ in range(FIRST_REPLAY_TRIALS):  # each a new model and capture: the median
        fn = make_step()
        step = fastgrad.capture(fn)
        start = starting_state(fn)
        step(X, labels)  # eager: the optimizer creates its state
        started = time.perf_counter()
        step(X, labels)  # recorded
        step(X, labels)  # the first replay
        first_replay.append(time.perf_counter() - started)
    first_replay_s = float(np.median(first_replay))
    restore(start)  # so that work()'s first call is the step the other systems take first

    def work():
        return step(X, labels)
    work.extra_info = {"first_replay_s": first_replay_s, "eager_step_s": eager_s,
                       "arena_bytes": step.tape.arena_bytes}
    return work


def starting_state(fn):
    """The step's parameters and optimizer (kept on ``fn`` by demo_step_builder) with copies
    of the parameters' values."""
    return fn.optimizer, [(p, p.data.copy()) for p in fn.optimizer.params]


def restore(start):
    """Back to the starting values, in place (the tape holds these arrays): parameters as they
    were, optimizer buffers zero (what a first step adds into them is the same), step 0."""
    optimizer, saved = start
    for p, data in saved:
        p.data[...] = data
    for name in optimizer.BUFFERS:
        for buf in getattr(optimizer, name):
            if buf is not None:
                buf[...] = 0
    optimizer.steps = 0
    if hasattr(optimizer, "t"):
        optimizer.t = [0] * len(optimizer.t)


def demo_step_builder(model, optimizer):
    import fastgrad.nn.functional as F

    def step(x, y):
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss
    step.optimizer = optimizer
    return step


def fastgrad_demo(capture):
    from fastgrad import optim
    X, labels, layers = problem()

    def make_step():
        model = fastgrad_model(layers)
        opt = optim.SGD(model.parameters(), LR, momentum=MOMENTUM)
        return demo_step_builder(model, opt)
    if capture:
        return captured(make_step, X, labels)
    step = make_step()
    return lambda: step(X, labels).item()


@register("W8", "fastgrad", reference=True)
def w8_fastgrad():
    return fastgrad_demo(False)


@register("W8", "fastgrad-captured")
def w8_fastgrad_captured():
    return fastgrad_demo(True)


@register("W8", "torch", requires=("torch",))
def w8_torch():
    import torch
    import torch.nn.functional as F
    from onecore import limit_torch

    limit_torch(torch)
    X, labels, layers = problem()
    X, labels = torch.from_numpy(X), torch.from_numpy(labels)
    modules = []
    for W, b in layers:
        linear = torch.nn.Linear(*W.shape, dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T))
            linear.bias.copy_(torch.from_numpy(b))
        modules += [linear, torch.nn.Tanh()]
    model = torch.nn.Sequential(*modules[:-1])
    optimizer = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)

    def step():
        loss = F.cross_entropy(model(X), labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        return loss.item()
    return step


@register("W8", "jax", requires=("jax",))
def w8_jax():
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)
    X, labels, layers = problem()
    X, labels = jnp.asarray(X), jnp.asarray(labels)
    params = [(jnp.asarray(W), jnp.asarray(b)) for W, b in layers]
    velocity = jax.tree.map(jnp.zeros_like, params)

    def loss(params, X, labels):
        h = X
        for W, b in params[:-1]:
            h = jnp.tanh(h @ W + b)
        W, b = params[-1]
        log_p = jax.nn.log_softmax(h @ W + b, axis=1)
        return -jnp.mean(jnp.take_along_axis(log_p, labels[:, None], axis=1))

    @jax.jit
    def update(params, velocity, X, labels):
        value, grads = jax.value_and_grad(loss)(params, X, labels)
        velocity = jax.tree.map(lambda v, g: MOMENTUM * v + g, velocity, grads)
        params = jax.tree.map(lambda p, v: p - LR * v, params, velocity)
        return value, params, velocity

    state = [params, velocity]
    started = time.perf_counter()
    jax.block_until_ready(update(params, velocity, X, labels))
    compile_s = time.perf_counter() - started

    def step():
        value, state[0], state[1] = update(state[0], state[1], X, labels)
        jax.block_until_ready(value)
        return value
    step.extra_info = {"compile_s": compile_s}
    return step


def mnist_captured(workload):
    """W4's or W5's SGD step (784-256-256-10 tanh, float32) under fastgrad.capture."""
    from fastgrad import optim
    X, labels, layers = w4_w5_mnist_mlp.problem(w4_w5_mnist_mlp.BATCHES[workload])

    def make_step():
        model = fastgrad_model(layers, np.float32)
        opt = optim.SGD(model.parameters(), lr=w4_w5_mnist_mlp.LEARNING_RATE)
        return demo_step_builder(model, opt)
    return captured(make_step, X, labels)


@register("W4", "fastgrad-captured", **w4_w5_mnist_mlp.W4)
def w4_fastgrad_captured():
    return mnist_captured("W4")


@register("W3", "fastgrad-captured", requires=("sklearn",))
def w3_fastgrad_captured():
    from fastgrad import nn, optim
    X, labels, _, params = w3_digits.problem()

    def make_step():
        model = nn.Sequential(nn.Linear(64, 64, activation="tanh"), nn.Linear(64, 10))
        for linear, W, b in zip(model, params[0::2], params[1::2]):
            linear.weight.data[...] = W
            linear.bias.data[...] = b
        return demo_step_builder(model, optim.SGD(model.parameters(), lr=w3_digits.LEARNING_RATE))
    return captured(make_step, X, labels)


@register("W5", "fastgrad-captured", **w4_w5_mnist_mlp.W5)
def w5_fastgrad_captured():
    return mnist_captured("W5")


@register("W1", "fastgrad-captured", variant="tensor")
def w1_fastgrad_captured():
    """W1's Tensor-face step (w1_micrograd_demo.fastgrad_tensor_step: nn.mlp, the fused hinge
    loss plus 1e-4 L2, SGD with the demo's schedule) under fastgrad.capture; the points and
    targets are the step's arguments."""
    from fastgrad import nn, optim

    from . import w1_micrograd_demo as w1
    from .data import micrograd_mlp_init, moons
    X, y = moons(w1.N_SAMPLES)

    def make_step():
        model = nn.mlp([2] + w1.LAYER_SIZES, activation="relu")
        for (W, b), layer in zip(micrograd_mlp_init(2, w1.LAYER_SIZES), model):
            layer.weight.data[...] = W
            layer.bias.data[...] = b
        params = model.parameters()
        optimizer = optim.SGD(params, lr=w1.learning_rate(0), schedule=w1.learning_rate)

        def step(x, target):
            scores = model(x)
            reg_loss = w1.L2_ALPHA * sum((p * p).sum() for p in params)
            total_loss = nn.functional.hinge_loss(scores, target) + reg_loss
            optimizer.zero_grad()
            total_loss.backward()
            optimizer.step()
            return total_loss
        step.optimizer = optimizer
        return step
    return captured(make_step, X, y)
