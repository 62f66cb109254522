"""Tape ops beyond the dense layers: tensor/tensor division, softmax and log_softmax, sums and
means over one axis, binary cross-entropy with logits (and a target the loss converts). Each
replays bit for bit what the same step computes eagerly, on both backends, float32 and
float64."""
import numpy as np
import pytest
from conftest import BACKENDS, IDS

import fastgrad
from fastgrad import CaptureError, nn, optim
from fastgrad.capture import capture


@pytest.fixture(params=BACKENDS, ids=[IDS[b] for b in BACKENDS])
def backend(request):
    return request.param


def ops_of(backend):
    from fastgrad.nn.functional import resolve_backend
    from fastgrad.tensor import Tensor
    return resolve_backend(backend), Tensor


def loss_of(case, bk, z, h, y, onehot, row):
    ew, rd, ls = bk.elementwise, bk.reduce, bk.losses
    if case == "div":          # same shape, a row and one value as divisors
        z = z / (2.0 + ew.exp(z * 0.5)) / (1.5 + row * row)
        z = z / rd.sum(row * row + 1.0)
        return ls.softmax_cross_entropy(z, y)
    if case == "log_softmax":  # negative log-likelihood by hand
        return -rd.mean(rd.sum(rd.log_softmax(z, axis=-1) * onehot, axis=1))
    if case == "softmax":
        d = rd.softmax(z, axis=1) - onehot
        return rd.mean(rd.sum(d * d, axis=-1)) + 0.01 * rd.sum(rd.mean(h, axis=0))
    if case == "axis0":        # a sum and a mean over the batch axis
        return rd.sum(rd.mean(z * z, axis=0)) + rd.mean(rd.sum(h, axis=0) * 0.01)
    if case == "reshape":      # a view forward, its gradient copied back
        d = z.reshape((-1,)) - onehot.reshape(-1)
        return rd.mean(d * d)
    if case == "bce":
        return ls.binary_cross_entropy_with_logits(z, onehot)
    raise AssertionError(case)


def run(backend, case, captured, dtype, steps=25, batch=16, classes=3, hidden=8):
    bk, T = ops_of(backend)
    rng = np.random.default_rng(0)
    W1 = T(rng.standard_normal((4, hidden)).astype(dtype) * 0.5, requires_grad=True)
    W2 = T(rng.standard_normal((hidden, classes)).astype(dtype) * 0.5, requires_grad=True)
    row = T(rng.standard_normal(classes).astype(dtype) * 0.3, requires_grad=True)
    params = [W1, W2, row]
    opt = optim.Adam(params, 1e-2)

    def step(x, y, onehot):
        h = bk.elementwise.tanh(bk.linalg.matmul(x, W1))
        z = bk.linalg.matmul(h, W2) + row
        loss = loss_of(case, bk, z, h, y, onehot, row)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss
    f = capture(step) if captured else step
    out = []
    for _ in range(steps):
        x = rng.standard_normal((batch, 4)).astype(dtype)
        y = rng.integers(0, classes, batch)
        v = f(x, y, np.eye(classes, dtype=dtype)[y])
        out.append(v if isinstance(v, float) else float(v.data))
    return out, [p.data.copy() for p in params], f


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", ["div", "log_softmax", "softmax", "axis0", "reshape", "bce"])
def test_new_ops_replay_bit_for_bit(backend, case, dtype):
    eager = run(backend, case, False, dtype)
    replayed = run(backend, case, True, dtype)
    assert replayed[2].replays == 23
    assert eager[0] == replayed[0]
    assert all(p.tobytes() == q.tobytes() for p, q in zip(eager[1], replayed[1]))


@pytest.mark.parametrize("case", ["log_softmax", "div"])
def test_new_ops_replay_gradients_match_finite_differences(backend, case):
    """The replayed gradient of a fresh tape against central differences of the loss (a
    tape whose optimizer does nothing: lr 0), in float64."""
    bk, T = ops_of(backend)
    rng = np.random.default_rng(4)
    W = T(rng.standard_normal((4, 3)) * 0.5, requires_grad=True)
    row = T(rng.standard_normal(3) * 0.3, requires_grad=True)
    opt = optim.SGD([W, row], 0.0)
    x = rng.standard_normal((6, 4))
    y = rng.integers(0, 3, 6)
    onehot = np.eye(3)[y]

    def step2(x, y, onehot):
        opt.zero_grad()
        z = bk.elementwise.tanh(bk.linalg.matmul(x, W))
        loss = loss_of(case, bk, z, z, y, onehot, row)
        if case != "div":  # (the div case reads row already; a fused loss must be the root)
            loss = loss + bk.reduce.sum(row * row)
        loss.backward()
        opt.step()
        return loss
    f = capture(step2)
    for _ in range(3):
        f(x, y, onehot)
    assert f.replays == 1
    grads = [p.grad.copy() for p in (W, row)]
    eps = 1e-6
    for p, g in zip((W, row), grads):
        for index in np.ndindex(p.data.shape):
            keep = p.data[index]
            p.data[index] = keep + eps
            up = f(x, y, onehot)
            p.data[index] = keep - eps
            down = f(x, y, onehot)
            p.data[index] = keep
            assert abs((up - down) / (2 * eps) - g[index]) < 1e-6


def test_fit_with_bce_is_captured_and_equals_eager(backend):
    """fit's binary cross-entropy with integer 0/1 targets: the loss converts them (a cast in
    the tape), and captured fit is eager fit bit for bit."""
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((40, 4)), rng.integers(0, 2, 40)
    results = []
    for capture_ in (False, True):
        model = nn.mlp([4, 8, 1], seed=0, backend=backend)
        opt = optim.SGD(model.parameters(), 0.1)
        history = fastgrad.fit(model, X, y, "bce_with_logits", opt, epochs=3, batch_size=16,
                               seed=1, progress=False, capture=capture_)
        results.append((history, [p.data.tobytes() for p in model.parameters()]))
    assert results[1][0].pop("captured") is True
    assert results[0][0] == results[1][0] and results[0][1] == results[1][1]


def test_unsupported_axis_raises_naming_it(backend):
    bk, T = ops_of(backend)
    if backend == "python":
        pytest.skip("the twin replays numpy's reductions over any axes")
    W = T(np.ones((4, 3)), requires_grad=True)
    opt = optim.SGD([W], 0.1)

    def step(x):
        z = bk.linalg.matmul(x, W)
        loss = bk.reduce.sum(bk.reduce.softmax(z.reshape((2, 3, 3)), axis=1) * 2.0)
        loss.backward()
        opt.step()
        opt.zero_grad()
        return loss
    f = capture(step)
    x = np.ones((6, 4))
    f(x)
    with pytest.raises(CaptureError, match="softmax over axis 1 of float64 \\(2, 3, 3\\)"):
        f(x)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("shared", [True, False], ids=["one_matrix", "stack"])
def test_stacked_matmul_replays_bit_for_bit(backend, dtype, shared):
    """(s, m, k) @ (k, n) (a weight shared over a stack: numpy's matmul in eager, its
    gradient summed over the stack) and (s, m, k) @ (s, k, n)."""
    bk, T = ops_of(backend)

    def train(captured):
        rng = np.random.default_rng(0)
        W = T(rng.standard_normal((5, 7)).astype(dtype) * 0.4, requires_grad=True)
        V = T(rng.standard_normal((3, 7, 4) if not shared else (7, 4)).astype(dtype) * 0.4,
              requires_grad=True)
        opt = optim.SGD([W, V], 0.05, momentum=0.9)

        def step(x, t):
            h = bk.elementwise.tanh(bk.linalg.matmul(x, W))      # (3, 6, 7)
            d = bk.linalg.matmul(h, V) - t                       # (3, 6, 4)
            loss = bk.reduce.mean(d * d)
            loss.backward()
            opt.step()
            opt.zero_grad()
            return loss
        f = capture(step) if captured else step
        out = []
        for _ in range(12):
            x = rng.standard_normal((3, 6, 5)).astype(dtype)
            t = rng.standard_normal((3, 6, 4)).astype(dtype)
            v = f(x, t)
            out.append(v if isinstance(v, float) else float(v.data))
        return out, [p.data.tobytes() for p in (W, V)], f
    eager, replayed = train(False), train(True)
    assert replayed[2].replays == 10
    assert eager[0] == replayed[0] and eager[1] == replayed[1]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_hinge_inside_a_larger_loss_replays_bit_for_bit(backend, dtype, reduction):
    """W1's step: the fused hinge loss plus an L2 term (the hinge node is not the root, so its
    backward reads the gradient it gets), SGD with a schedule."""
    import fastgrad.nn.functional as F
    rng = np.random.default_rng(3)
    x = rng.standard_normal((40, 2)).astype(dtype)
    y = np.where(rng.standard_normal((40, 1)) > 0, 1.0, -1.0).astype(dtype)

    def run(captured):
        model = nn.mlp([2, 16, 16, 1], activation="relu", dtype=dtype, seed=0, backend=backend)
        params = model.parameters()
        opt = optim.SGD(params, 0.5, schedule=lambda k: 1.0 - 0.9 * (k % 100) / 100)

        def step(x, y):
            reg = 1e-4 * sum((p * p).sum() for p in params)
            loss = F.hinge_loss(model(x), y, reduction=reduction) * 0.5 + reg
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        if captured:
            step = capture(step)
        losses = [float(step(x, y)) for _ in range(100)]
        return losses, [p.data.copy() for p in params], step
    eager_losses, eager_params, _ = run(False)
    losses, params, step = run(True)
    assert step.replays == 98
    assert losses == eager_losses
    for a, b in zip(params, eager_params):
        assert a.tobytes() == b.tobytes()
