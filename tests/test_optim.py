"""fastgrad.optim against updates computed by hand (the textbook formulas, step by step)."""
import numpy as np
import pytest

from fastgrad import load_state, optim, save_parameters

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


RESUMABLE = {
    "sgd_momentum": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    "sgd_plain": lambda ps: optim.SGD(ps, lr=0.1),
    "adam": lambda ps: optim.Adam(ps, lr=0.01),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.01, schedule=lambda k: 0.01 / (1 + k)),
}


@pytest.mark.parametrize("case", list(RESUMABLE))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_training_resumed_from_a_saved_state_continues_exactly(fg, case, dtype, tmp_path):
    """Steps 1-2, save optimizer state to .npz, load it into a fresh optimizer, steps 3-4:
    the same parameters, bit for bit, as 4 uninterrupted steps."""
    make = RESUMABLE[case]
    shapes = [(3, 4), (4,)]
    p0 = [np.random.default_rng(i).standard_normal(s).astype(dtype) for i, s in enumerate(shapes)]
    grads = [grads_for(s, seed=10 + i) for i, s in enumerate(shapes)]

    def apply(opt, params, steps):
        for k in steps:
            for p, g in zip(params, grads):
                p.grad = g[k].astype(dtype)
            opt.step()

    whole = [fg.Tensor(p.copy(), requires_grad=True) for p in p0]
    apply(make(whole), whole, range(STEPS))

    first = [fg.Tensor(p.copy(), requires_grad=True) for p in p0]
    opt = make(first)
    apply(opt, first, range(STEPS // 2))
    saved = save_parameters(opt.state_dict(), tmp_path / "opt")
    second = [fg.Tensor(p.data.copy(), requires_grad=True) for p in first]
    resumed = make(second)
    resumed.load_state_dict(load_state(saved))
    assert resumed.steps == STEPS // 2 and resumed.lr == opt.lr
    apply(resumed, second, range(STEPS // 2, STEPS))
    for got, want in zip(second, whole):
        assert got.data.dtype == dtype
        np.testing.assert_array_equal(got.data, want.data)


def test_state_dict_is_a_copy(fg):
    p = fg.Tensor(np.ones(2), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = np.ones(2)
    opt.step()
    state = opt.state_dict()
    assert sorted(state) == ["lr", "m.0", "steps", "t.0", "v.0"]
    state["m.0"][...] = 99.0
    assert not np.any(opt.m[0] == 99.0)
    assert int(state["t.0"]) == 1 and int(state["steps"]) == 1


def test_load_state_dict_refuses_a_state_that_does_not_fit(fg):
    p = fg.Tensor(np.ones((2, 3)), requires_grad=True)
    adam = optim.Adam([p], lr=0.1)
    good = adam.state_dict()
    m_before = adam.m[0].copy()
    with pytest.raises(TypeError, match="Adam.load_state_dict: expected a dict"):
        adam.load_state_dict([1, 2])
    with pytest.raises(KeyError, match=r"Adam.load_state_dict: missing entry 'v.0'"):
        adam.load_state_dict({k: v for k, v in good.items() if k != "v.0"})
    with pytest.raises(KeyError, match=r"unexpected entry 'm.1' \(this optimizer has 1 param"):
        adam.load_state_dict({**good, "m.1": np.zeros((2, 3))})
    with pytest.raises(ValueError, match=r"'m.0' should be real numbers of shape \(2, 3\) "
                                         r"\(parameter 0\), got float64 \(3, 2\)"):
        adam.load_state_dict({**good, "m.0": np.full((3, 2), 7.0)})
    with pytest.raises(ValueError, match="'t.0' should be an integer count >= 0, got float64"):
        adam.load_state_dict({**good, "t.0": np.array(1.5)})
    with pytest.raises(ValueError, match="'lr' should be a number >= 0"):
        adam.load_state_dict({**good, "lr": np.array(-1.0)})
    np.testing.assert_array_equal(adam.m[0], m_before)  # nothing changed by a refused load
    sgd = optim.SGD([p], lr=0.1, momentum=0.9)
    with pytest.raises(KeyError, match="SGD.load_state_dict: unexpected entry 'm.0'"):
        sgd.load_state_dict(good)
    sgd.load_state_dict({"lr": np.array(0.5), "steps": np.array(3)})  # no buffer yet: allowed
    assert sgd.lr == 0.5 and sgd.steps == 3 and sgd.buffers == [None]
