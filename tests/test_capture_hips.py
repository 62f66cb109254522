"""fastgrad.capture_value_and_grad: the HIPS face's loop (value_and_grad of a fastgrad.numpy
loss, then ``p -= lr * g``) captured, bit for bit the eager loop over 100 steps."""
import numpy
import pytest
from conftest import BACKENDS

import fastgrad
import fastgrad.numpy as np
from fastgrad import CaptureError, capture_value_and_grad, value_and_grad


def mlp_loss(params, inputs, targets):
    """A tanh MLP with a sigmoid output written as 1 / (1 + exp(-z)), squared error and an
    L2 term: the seed article's kind of loss."""
    W1, b1, W2, b2 = params
    hidden = np.tanh(np.dot(inputs, W1) + b1)
    out = 1.0 / (1.0 + np.exp(-(np.dot(hidden, W2) + b2)))
    return np.mean((out - targets) ** 2) + 1e-3 * np.sum(W1 * W1)


def softmax_loss(params, inputs, labels_onehot):
    W, b = params
    logits = np.dot(inputs, W) + b
    log_p = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
    return -np.mean(np.sum(log_p * labels_onehot, axis=1))


def start(kind, dtype, seed=0):
    rng = numpy.random.default_rng(seed)
    shapes = ([(3, 16), (16,), (16, 2), (2,)] if kind == "mlp" else [(3, 4), (4,)])
    return [(rng.standard_normal(s) * 0.5).astype(dtype) for s in shapes]


def data(kind, dtype, steps=100, batch=20, seed=1):
    rng = numpy.random.default_rng(seed)
    out = []
    for _ in range(steps):
        x = rng.standard_normal((batch, 3)).astype(dtype)
        if kind == "mlp":
            t = (rng.random((batch, 2)) > 0.5).astype(dtype)
        else:
            t = numpy.eye(4, dtype=dtype)[rng.integers(0, 4, batch)]
        out.append((x, t))
    return out


@pytest.mark.parametrize("dtype", [numpy.float64, numpy.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("kind", ["mlp", "softmax"])
@pytest.mark.parametrize("update", ["in_place", "rebind"])
def test_captured_hips_loop_equals_the_eager_loop(kind, dtype, update):
    loss = mlp_loss if kind == "mlp" else softmax_loss
    lr = 0.1
    eager = start(kind, dtype)
    eager_values = []
    step_fn = value_and_grad(loss)
    for x, t in data(kind, dtype):
        value, g = step_fn(eager, x, t)
        eager_values.append(float(value))
        if update == "in_place":
            for p, gi in zip(eager, g):
                p -= lr * gi
        else:  # the article's params = params - lr * g
            eager = [p - lr * gi for p, gi in zip(eager, g)]
    params = start(kind, dtype)
    step = capture_value_and_grad(loss, params, lr)
    values = [step(x, t) for x, t in data(kind, dtype)]
    assert step.replays == 98
    assert values == eager_values
    assert all(p.dtype == q.dtype and p.tobytes() == q.tobytes() for p, q in zip(params, eager))


def test_learning_rate_change_takes_effect_without_recapture():
    params = start("softmax", numpy.float64)
    reference = [p.copy() for p in params]
    step = capture_value_and_grad(softmax_loss, params, 0.1)
    batches = data("softmax", numpy.float64, steps=6)
    for x, t in batches[:3]:
        step(x, t)
    step.optimizer.lr = 0.01
    for x, t in batches[3:]:
        step(x, t)
    assert step.replays == 4 and len(step.tapes) == 0
    for k, (x, t) in enumerate(batches):
        _, g = value_and_grad(softmax_loss)(reference, x, t)
        for p, gi in zip(reference, g):
            p -= (0.1 if k < 3 else 0.01) * gi
    assert all(p.tobytes() == q.tobytes() for p, q in zip(params, reference))


def test_bad_params_and_unsupported_ops_raise():
    with pytest.raises(TypeError, match=r"params\[0\] must be a writeable C-contiguous"):
        capture_value_and_grad(softmax_loss, [numpy.ones((3, 4)).T], 0.1)

    def loss(params, x):  # abs has no tape kernel
        return np.sum(np.abs(np.dot(x, params[0])))
    params = [numpy.ones((3, 2))]
    step = capture_value_and_grad(loss, params, 0.1)
    x = numpy.ones((4, 3))
    step(x)
    before = params[0].copy()
    with pytest.raises(CaptureError, match="absolute|abs"):
        step(x)
    assert params[0].tobytes() == before.tobytes()
    assert "cython" in BACKENDS or fastgrad.BACKEND == "python"
