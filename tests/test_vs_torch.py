"""Against PyTorch (skipped when it is not installed): gradients of the same MLP and loss agree
within 1e-10 in float64, and optimizers follow the same trajectories."""
import numpy as np
import pytest

import fastgrad
from fastgrad import nn, optim

torch = pytest.importorskip("torch")
F = torch.nn.functional


def torch_params(model):
    """The model's parameters as float64 torch leaves (weights stay (in, out))."""
    return [torch.tensor(p.data, requires_grad=True) for p in model.parameters()]


def torch_forward(params, activations, X):
    h = torch.from_numpy(X)
    for i, act in enumerate(activations):
        h = h @ params[2 * i] + params[2 * i + 1]
        if act is not None:
            h = getattr(torch, act)(h)
    return h


CASES = {
    # name: (sizes, hidden activation, output activation, fastgrad loss, torch loss, target)
    "tanh_ce_labels": ([64, 32, 10], "tanh", None, "cross_entropy",
                       lambda out, t: F.cross_entropy(out, t), "labels"),
    "tanh_ce_probs": ([8, 16, 5], "tanh", None, "cross_entropy",
                      lambda out, t: F.cross_entropy(out, t), "probs"),
    "relu_bce": ([6, 16, 16, 1], "relu", None, "bce_with_logits",
                 lambda out, t: F.binary_cross_entropy_with_logits(out, t), "binary"),
    "sigmoid_mse": ([5, 12, 3], "sigmoid", None, "mse", lambda out, t: F.mse_loss(out, t),
                    "real"),
    "relu_hinge": ([2, 16, 16, 1], "relu", None, "hinge",
                   lambda out, t: torch.relu(1 - t * out).mean(), "signs"),
}


def make_target(kind, n, n_out, rng):
    if kind == "labels":
        return rng.integers(0, n_out, n)
    if kind == "probs":
        return rng.dirichlet(np.ones(n_out), n)
    if kind == "binary":
        return (rng.random((n, n_out)) < 0.5).astype(float)
    if kind == "signs":
        return rng.choice([-1.0, 1.0], (n, n_out))
    return rng.standard_normal((n, n_out))


@pytest.mark.parametrize("case", list(CASES))
def test_gradients_match_torch(fg, case):
    sizes, hidden, output, loss_name, torch_loss, kind = CASES[case]
    rng = np.random.default_rng(0)
    n = 50
    X = rng.standard_normal((n, sizes[0]))
    target = make_target(kind, n, sizes[-1], rng)
    model = nn.mlp(sizes, activation=hidden, output_activation=output, seed=1, backend=fg.name)
    for p in model.parameters():       # non-zero biases, so that their effect is tested too
        if p.ndim == 1:
            p.data[...] = rng.standard_normal(p.shape) * 0.1
    loss = nn.losses.get_loss(loss_name)(model(X), target)
    loss.backward()
    params = torch_params(model)
    acts = [hidden] * (len(sizes) - 2) + [output]
    t_loss = torch_loss(torch_forward(params, acts, X), torch.from_numpy(target))
    t_loss.backward()
    assert loss.item() == pytest.approx(t_loss.item(), rel=1e-12)
    for (name, p), tp in zip(model.named_parameters(), params):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-10, atol=1e-12,
                                   err_msg=name)


def test_w1_demo_loss_with_l2_matches_torch(fg):
    """micrograd's demo loss on Tensors (hinge + 1e-4 L2 of every parameter)."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((100, 2))
    y = rng.choice([-1.0, 1.0], 100)
    model = nn.mlp([2, 16, 16, 1], activation="relu", seed=2, backend=fg.name)
    scores = model(X)
    reg = sum((p * p).sum() for p in model.parameters())
    loss = fg.bk.losses.hinge_loss(scores, y) + 1e-4 * reg
    loss.backward()
    params = torch_params(model)
    t_scores = torch_forward(params, ["relu", "relu", None], X)
    t_loss = torch.relu(1 - torch.from_numpy(y) * t_scores[:, 0]).mean() \
        + 1e-4 * sum((p * p).sum() for p in params)
    t_loss.backward()
    assert loss.item() == pytest.approx(t_loss.item(), rel=1e-12)
    for p, tp in zip(model.parameters(), params):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-10, atol=1e-12)


OPTIMIZERS = {
    "sgd": (lambda ps: optim.SGD(ps, lr=0.1),
            lambda ps: torch.optim.SGD(ps, lr=0.1)),
    "sgd_momentum_wd": (lambda ps: optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=1e-3),
                        lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9,
                                                   weight_decay=1e-3)),
    "sgd_nesterov": (lambda ps: optim.SGD(ps, lr=0.05, momentum=0.8, nesterov=True),
                     lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.8, nesterov=True)),
    "adam": (lambda ps: optim.Adam(ps, lr=0.01, weight_decay=1e-2),
             lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=1e-2)),
    "adamw": (lambda ps: optim.AdamW(ps, lr=0.01, betas=(0.8, 0.99)),
              lambda ps: torch.optim.AdamW(ps, lr=0.01, betas=(0.8, 0.99))),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizers_follow_torch(fg, name):
    make, make_torch = OPTIMIZERS[name]
    rng = np.random.default_rng(4)
    X = rng.standard_normal((30, 4))
    y = rng.integers(0, 3, 30)
    model = nn.mlp([4, 8, 3], seed=0, backend=fg.name)
    params = torch_params(model)
    opt, t_opt = make(model.parameters()), make_torch(params)
    for _ in range(5):
        opt.zero_grad()
        nn.CrossEntropyLoss()(model(X), y).backward()
        opt.step()
        t_opt.zero_grad()
        F.cross_entropy(torch_forward(params, ["tanh", None], X), torch.from_numpy(y)).backward()
        t_opt.step()
    for p, tp in zip(model.parameters(), params):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_fit_matches_a_torch_loop(fg):
    """fit() with full batches is plain gradient descent: the same weights as PyTorch's loop."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((40, 3))
    y = rng.integers(0, 2, 40)
    model = nn.mlp([3, 5, 2], seed=0, backend=fg.name)
    params = torch_params(model)
    fastgrad.fit(model, X, y, "cross_entropy", optim.SGD(model.parameters(), lr=0.3),
                 epochs=10, batch_size=None, progress=False)
    t_opt = torch.optim.SGD(params, lr=0.3)
    for _ in range(10):
        t_opt.zero_grad()
        F.cross_entropy(torch_forward(params, ["tanh", None], X), torch.from_numpy(y)).backward()
        t_opt.step()
    for p, tp in zip(model.parameters(), params):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10, atol=1e-12)
