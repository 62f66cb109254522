"""fastgrad.optim against updates computed by hand (the textbook formulas, step by step)."""
import numpy as np
import pytest

from fastgrad import optim

STEPS = 4


def grads_for(shape, steps=STEPS, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for _ in range(steps)]


def run(fg, make_opt, p0, grads):
    """Apply the optimizer to one parameter with the given gradient sequence."""
    p = fg.Tensor(p0, requires_grad=True)
    opt = make_opt([p])
    for g in grads:
        p.grad = g.astype(p.dtype)
        opt.step()
    return p.data


def sgd_by_hand(p, grads, lr, momentum=0.0, wd=0.0, dampening=0.0, nesterov=False):
    p, buf = p.copy(), None
    for g in grads:
        d = g + wd * p
        if momentum:
            buf = d.copy() if buf is None else momentum * buf + (1 - dampening) * d
            d = d + momentum * buf if nesterov else buf
        p = p - lr * d
    return p


def adam_by_hand(p, grads, lr, b1=0.9, b2=0.999, eps=1e-8, wd=0.0, decoupled=False):
    p, m, v = p.copy(), np.zeros_like(p), np.zeros_like(p)
    for t, g in enumerate(grads, start=1):
        if decoupled:
            p = p * (1 - lr * wd)
        elif wd:
            g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
        p = p - lr * m_hat / (np.sqrt(v_hat) + eps)
    return p


SGD_CASES = {
    "plain": ({"lr": 0.1}, {"lr": 0.1}),
    "momentum": ({"lr": 0.1, "momentum": 0.9}, {"lr": 0.1, "momentum": 0.9}),
    "dampening": ({"lr": 0.05, "momentum": 0.8, "dampening": 0.3},
                  {"lr": 0.05, "momentum": 0.8, "dampening": 0.3}),
    "nesterov": ({"lr": 0.1, "momentum": 0.9, "nesterov": True},
                 {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    "weight_decay": ({"lr": 0.1, "momentum": 0.5, "weight_decay": 0.01},
                     {"lr": 0.1, "momentum": 0.5, "wd": 0.01}),
}


@pytest.mark.parametrize("case", list(SGD_CASES))
def test_sgd_matches_hand_updates(fg, case):
    kwargs, hand = SGD_CASES[case]
    p0 = np.random.default_rng(1).standard_normal((3, 4))
    grads = grads_for((3, 4))
    got = run(fg, lambda ps: optim.SGD(ps, **kwargs), p0, grads)
    np.testing.assert_allclose(got, sgd_by_hand(p0, grads, **hand), rtol=1e-13, atol=1e-15)


ADAM_CASES = {
    "adam": (optim.Adam, {"lr": 0.01}, {"lr": 0.01}),
    "adam_betas_l2": (optim.Adam, {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6,
                                   "weight_decay": 0.1},
                      {"lr": 0.05, "b1": 0.8, "b2": 0.99, "eps": 1e-6, "wd": 0.1}),
    "adamw": (optim.AdamW, {"lr": 0.01}, {"lr": 0.01, "wd": 0.01, "decoupled": True}),
    "adamw_wd": (optim.AdamW, {"lr": 0.1, "weight_decay": 0.5},
                 {"lr": 0.1, "wd": 0.5, "decoupled": True}),
}


@pytest.mark.parametrize("case", list(ADAM_CASES))
def test_adam_matches_hand_updates(fg, case):
    cls, kwargs, hand = ADAM_CASES[case]
    p0 = np.random.default_rng(2).standard_normal(5)
    grads = grads_for(5)
    got = run(fg, lambda ps: cls(ps, **kwargs), p0, grads)
    np.testing.assert_allclose(got, adam_by_hand(p0, grads, **hand), rtol=1e-12, atol=1e-15)


def test_float32_parameters_stay_float32(fg):
    for make in (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1),
                 lambda ps: optim.Adam(ps, lr=0.1), lambda ps: optim.AdamW(ps)):
        p0 = np.ones(3, np.float32)
        got = run(fg, make, p0, grads_for(3))
        assert got.dtype == np.float32
        assert not np.array_equal(got, p0)


def test_schedule_hook_sets_the_learning_rate_of_each_step(fg):
    p = fg.Tensor(np.zeros(2), requires_grad=True)
    opt = optim.SGD([p], lr=123.0, schedule=lambda k: 1.0 - 0.9 * k / 100)
    for k in range(3):
        p.grad = np.ones(2)
        opt.step()
        assert opt.lr == pytest.approx(1.0 - 0.9 * k / 100)
    np.testing.assert_allclose(p.data, -(1.0 + 0.991 + 0.982))
    assert opt.steps == 3


def test_zero_grad_and_parameters_without_gradients(fg):
    a = fg.Tensor(np.ones(2), requires_grad=True)
    b = fg.Tensor(np.ones(2), requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = np.ones(2)
    opt.step()                  # b has no gradient: left alone, and its step count too
    assert np.all(a.data < 1) and np.array_equal(b.data, np.ones(2))
    assert opt.t == [1, 0]
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_bad_arguments(fg):
    p = fg.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(ValueError, match="SGD: got an empty list of parameters"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="SGD: parameter 0 is not a Tensor with requires_grad"):
        optim.SGD([fg.Tensor(np.ones(2))], lr=0.1)
    with pytest.raises(ValueError, match="SGD: a parameter appears more than once"):
        optim.SGD([p, p], lr=0.1)
    with pytest.raises(ValueError, match="SGD: lr must be >= 0"):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="SGD: Nesterov momentum needs momentum > 0"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match=r"Adam: beta1 must be in \[0, 1\), got 1.0"):
        optim.Adam([p], betas=(1.0, 0.9))
    with pytest.raises(TypeError, match="Adam: schedule must be callable"):
        optim.Adam([p], schedule=0.1)
