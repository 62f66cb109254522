"""Fixtures and helpers of the scalar (Value) tests: each test runs on both scalar engines
(ids ``py`` and ``cy``), micrograd's demo as micrograd wrote it, and its moons data."""
import random

import numpy as np
import pytest

from fastgrad import _backend
from fastgrad.nn.scalar import on_engine


def _compiled_available():
    if _backend.extensions_disabled():
        return False
    try:
        _backend.load("cython")
    except ImportError:
        return False
    return True


ENGINES = ["python"] + (["cython"] if _compiled_available() else [])
IDS = {"python": "py", "cython": "cy"}


class Engine:
    """One scalar engine seen from a test: ``Value``, the engine module, and nn classes."""

    def __init__(self, name):
        self.name = name
        self.module = _backend.load(name).scalar
        self.Value = self.module.Value
        self.Neuron, self.Layer, self.MLP = on_engine(self.module)

    def __repr__(self):
        return f"<scalar engine {self.name}>"


@pytest.fixture(params=ENGINES, ids=[IDS[e] for e in ENGINES])
def sv(request):
    """One scalar engine; tests taking it run once per engine."""
    return Engine(request.param)


@pytest.fixture
def engines():
    """(python Engine, cython Engine), for comparing them; skipped when not compiled."""
    if "cython" not in ENGINES:
        pytest.skip("the compiled modules are not available")
    return Engine("python"), Engine("cython")


def numeric_grads(Value, fn, xs, eps=1e-6):
    """d fn / d x_i by central differences."""
    grads = []
    for i in range(len(xs)):
        up = list(xs)
        down = list(xs)
        up[i] += eps
        down[i] -= eps
        f_up = fn(*[Value(x) for x in up]).data
        f_down = fn(*[Value(x) for x in down]).data
        grads.append((f_up - f_down) / (2 * eps))
    return grads


def analytic_grads(Value, fn, xs):
    leaves = [Value(x) for x in xs]
    out = fn(*leaves)
    out.backward()
    return out, [leaf.grad for leaf in leaves]


# ------------------------------------------------------------------ micrograd's demo

def make_moons(n_samples=100, noise=0.1):
    """sklearn.datasets.make_moons(n_samples, noise=noise) drawn from numpy's global random
    state, as sklearn draws it (so np.random.seed(s) gives sklearn's data); no sklearn needed."""
    rng = np.random.mtrand._rand
    n_out = n_samples // 2
    n_in = n_samples - n_out
    outer_x = np.cos(np.linspace(0, np.pi, n_out))
    outer_y = np.sin(np.linspace(0, np.pi, n_out))
    inner_x = 1 - np.cos(np.linspace(0, np.pi, n_in))
    inner_y = 1 - np.sin(np.linspace(0, np.pi, n_in)) - 0.5
    X = np.vstack([np.append(outer_x, inner_x), np.append(outer_y, inner_y)]).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    indices = np.arange(n_samples)
    rng.shuffle(indices)
    X, y = X[indices], y[indices]
    if noise is not None:
        X += rng.normal(scale=noise, size=X.shape)
    return X, y


def moons():
    """micrograd's demo data: make_moons(n_samples=100, noise=0.1) after np.random.seed(1337),
    labels mapped to -1 / +1; sklearn's own make_moons when it is installed."""
    np.random.seed(1337)
    try:
        from sklearn.datasets import make_moons as sklearn_make_moons
    except ImportError:
        X, y = make_moons(n_samples=100, noise=0.1)
    else:
        X, y = sklearn_make_moons(n_samples=100, noise=0.1)
    return X, y * 2 - 1


def demo_model(MLP):
    """micrograd's demo model: random.seed(1337), MLP(2, [16, 16, 1])."""
    random.seed(1337)
    return MLP(2, [16, 16, 1])


def demo_loss(Value, model, X, y):
    """micrograd demo's loss(), verbatim: SVM max-margin loss + 1e-4 L2, and accuracy."""
    inputs = [list(map(Value, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    alpha = 1e-4
    reg_loss = alpha * sum((p * p for p in model.parameters()))
    total_loss = data_loss + reg_loss
    accuracy = [(yi > 0) == (scorei.data > 0) for yi, scorei in zip(y, scores)]
    return total_loss, sum(accuracy) / len(accuracy)


def run_demo(Value, model, X, y, steps):
    """micrograd demo's training loop; yields (loss, accuracy) per step."""
    for k in range(steps):
        total_loss, acc = demo_loss(Value, model, X, y)
        model.zero_grad()
        total_loss.backward()
        learning_rate = 1.0 - 0.9 * k / 100
        for p in model.parameters():
            p.data -= learning_rate * p.grad
        yield total_loss.data, acc
