"""The fused losses: against hand formulas, stable on extreme logits, both compiled paths
against the twin, targets in every accepted form, and clear errors.
(Finite-difference checks are the softmax_ce/bce/mse/hinge cases in cases.py.)"""
import numpy as np
import pytest


def reduce(losses, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction](losses)


def log_softmax(z):
    m = z.max(axis=1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))


def softmax(z):
    return np.exp(log_softmax(z))


def value_and_grad(fg, fn, Z, *args, **kwargs):
    z = fg.Tensor(Z, requires_grad=True)
    out = fn(z, *args, **kwargs)
    if out.ndim:
        out.backward(np.arange(1.0, out.size + 1).reshape(out.shape))
    else:
        out.backward()
    return out.data, z.grad


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_softmax_cross_entropy_formulas(fg, reduction):
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((6, 4)) * 3
    labels = np.array([0, 3, 1, 1, 2, 0])
    onehot = np.eye(4)[labels]
    probs = rng.dirichlet(np.ones(4), size=6)
    scale = {"mean": 1 / 6, "sum": 1.0, "none": np.arange(1.0, 7.0)[:, None]}[reduction]
    fn = fg.bk.losses.softmax_cross_entropy
    for target, T in ((labels, onehot), (onehot, onehot), (probs, probs)):
        value, grad = value_and_grad(fg, fn, Z, target, reduction)
        np.testing.assert_allclose(value, reduce(-(T * log_softmax(Z)).sum(axis=1), reduction),
                                   rtol=1e-12)
        np.testing.assert_allclose(grad, (softmax(Z) * T.sum(axis=1, keepdims=True) - T)
                                   * scale, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_elementwise_loss_formulas(fg, reduction):
    rng = np.random.default_rng(1)
    Z = rng.standard_normal((5, 3)) * 2
    T01 = rng.uniform(0, 1, (5, 3))
    Tpm = rng.choice([-1.0, 1.0], (5, 3))
    scale = {"mean": 1 / 15, "sum": 1.0, "none": np.arange(1.0, 16.0).reshape(5, 3)}[reduction]
    lo = fg.bk.losses
    sig = 1 / (1 + np.exp(-Z))
    checks = [
        (lo.binary_cross_entropy_with_logits, T01,
         -(T01 * np.log(sig) + (1 - T01) * np.log(1 - sig)), sig - T01),
        (lo.mse_loss, T01, (Z - T01) ** 2, 2 * (Z - T01)),
        (lo.hinge_loss, Tpm, np.maximum(0, 1 - Tpm * Z), -Tpm * (1 - Tpm * Z > 0)),
    ]
    for fn, T, losses, dlosses in checks:
        value, grad = value_and_grad(fg, fn, Z, T, reduction)
        np.testing.assert_allclose(value, reduce(losses, reduction), rtol=1e-12,
                                   err_msg=fn.__name__)
        np.testing.assert_allclose(grad, dlosses * scale, rtol=1e-11, atol=1e-15,
                                   err_msg=fn.__name__)


def test_mse_target_gradient(fg):
    p = fg.Tensor([[1.0], [2.0], [4.0]], requires_grad=True)
    t = fg.Tensor([0.5, 2.5, 1.0], requires_grad=True)   # (N,) target for an (N, 1) input
    loss = fg.bk.losses.mse_loss(p, t)
    loss.backward()
    d = np.array([0.5, -0.5, 3.0])
    assert loss.item() == pytest.approx(np.mean(d ** 2))
    np.testing.assert_allclose(p.grad, (2 * d / 3)[:, None])
    np.testing.assert_allclose(t.grad, -2 * d / 3)


def test_extreme_logits_are_stable(fg):
    lo = fg.bk.losses
    Z = np.array([[1000.0, -1000.0, 0.0], [-800.0, 800.0, 799.0]])
    value, grad = value_and_grad(fg, lo.softmax_cross_entropy, Z, np.array([1, 2]))
    np.testing.assert_allclose(value, (2000.0 + 1 + np.log1p(np.exp(-1.0))) / 2, rtol=1e-12)
    assert np.all(np.isfinite(grad))
    z = np.array([[800.0], [-800.0], [30.0]])
    value, grad = value_and_grad(fg, lo.binary_cross_entropy_with_logits, z,
                                 np.array([0.0, 1.0, 1.0]))
    np.testing.assert_allclose(value, (800 + 800 + np.log1p(np.exp(-30.0))) / 3, rtol=1e-12)
    # sigmoid(z) - t loses relative (not absolute) precision where sigmoid(z) is near t
    np.testing.assert_allclose(grad, np.array([[1.0], [-1.0], [-np.exp(-30) / (1 + np.exp(-30))]])
                               / 3, rtol=1e-12, atol=1e-16)
    for dtype in (np.float32, np.float64):
        z = fg.Tensor(Z.astype(dtype), requires_grad=True)
        loss = lo.softmax_cross_entropy(z, np.array([0, 1]))
        loss.backward()
        assert loss.dtype == z.grad.dtype == dtype
        assert np.isfinite(loss.item()) and np.all(np.isfinite(z.grad))


def test_targets_in_every_form(fg):
    lo = fg.bk.losses
    Z = np.random.default_rng(2).standard_normal((4, 3))
    labels = np.array([2, 0, 1, 2])
    by_labels = lo.softmax_cross_entropy(Z, labels).item()
    assert lo.softmax_cross_entropy(Z, labels.astype(np.float64)).item() == by_labels
    assert lo.softmax_cross_entropy(Z, fg.Tensor(labels)).item() == by_labels
    assert lo.softmax_cross_entropy(Z, np.eye(3)[labels]).item() == pytest.approx(by_labels)
    assert lo.softmax_cross_entropy(Z, np.eye(3, dtype=int)[labels]).item() == \
        pytest.approx(by_labels)
    s = np.array([[0.5], [-2.0], [0.2]])
    col = lo.hinge_loss(s, np.array([1.0, -1.0, -1.0])).item()
    assert col == pytest.approx(np.mean([0.5, 0.0, 1.2]))
    assert lo.hinge_loss(s, np.array([[1], [-1], [-1]])).item() == col


def test_float32_stays_float32(fg):
    lo = fg.bk.losses
    Z = fg.Tensor(np.ones((3, 2)), dtype=np.float32, requires_grad=True)
    for loss in (lo.softmax_cross_entropy(Z, np.array([0, 1, 1])),
                 lo.binary_cross_entropy_with_logits(Z, np.ones((3, 2))),
                 lo.mse_loss(Z, np.zeros((3, 2))), lo.hinge_loss(Z, np.ones((3, 2)))):
        loss.backward()
        assert loss.dtype == np.float32 and Z.grad.dtype == np.float32
        Z.zero_grad()


def test_bad_input_raises_naming_the_loss(fg):
    lo = fg.bk.losses
    Z = fg.Tensor(np.zeros((3, 4)), requires_grad=True)
    with pytest.raises(ValueError, match=r"softmax_cross_entropy: label 4 is out of range for "
                                         r"4 classes"):
        lo.softmax_cross_entropy(Z, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match="softmax_cross_entropy: label -1"):
        lo.softmax_cross_entropy(Z, np.array([0, -1, 1]))
    with pytest.raises(ValueError, match=r"softmax_cross_entropy: logits of shape \(3, 4\) need "
                                         r"a target of shape \(3,\)"):
        lo.softmax_cross_entropy(Z, np.array([0, 1]))
    with pytest.raises(ValueError, match="non-integer values"):
        lo.softmax_cross_entropy(Z, np.array([0.5, 1.0, 2.0]))
    with pytest.raises(ValueError, match="logits must be 2-D"):
        lo.softmax_cross_entropy(fg.Tensor(np.zeros(4)), np.array([1]))
    with pytest.raises(ValueError, match="the target is not differentiated"):
        lo.softmax_cross_entropy(Z, fg.Tensor(np.eye(4)[:3], requires_grad=True))
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none'"):
        lo.hinge_loss(Z, np.ones((3, 4)), "max")
    with pytest.raises(ValueError, match=r"mse_loss: input of shape \(3, 4\) and target of shape "
                                         r"\(4,\) differ"):
        lo.mse_loss(Z, np.ones(4))
    with pytest.raises(ValueError, match=r"binary_cross_entropy_with_logits: input of shape"):
        lo.binary_cross_entropy_with_logits(Z, np.ones((4, 3)))
    with pytest.raises(TypeError, match="mse_loss: input is float64 but target is float32"):
        lo.mse_loss(Z, fg.Tensor(np.ones((3, 4)), dtype=np.float32))
    with pytest.raises(TypeError, match="hinge_loss: the target has unsupported dtype"):
        lo.hinge_loss(Z, np.array([["a"] * 4] * 3))


LOSS_CALLS = [
    ("ce_labels", "softmax_cross_entropy", (7, 5), lambda r: r.integers(0, 5, 7)),
    ("ce_probs", "softmax_cross_entropy", (7, 5), lambda r: r.dirichlet(np.ones(5), 7)),
    ("bce", "binary_cross_entropy_with_logits", (7, 5), lambda r: r.uniform(0, 1, (7, 5))),
    ("mse", "mse_loss", (7, 5), lambda r: r.standard_normal((7, 5))),
    ("hinge", "hinge_loss", (7, 5), lambda r: r.choice([-1.0, 1.0], (7, 5))),
]


def loss_result(front, name, Z, target, reduction):
    """The loss ``name`` and its gradient on ``front`` (arrays; run on both sides)."""
    return value_and_grad(front, getattr(front.bk.losses, name), Z, target, reduction)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("call", LOSS_CALLS, ids=[c[0] for c in LOSS_CALLS])
def test_compiled_paths_match_twin(both, call, reduction, dtype):
    _, name, shape, make_target = call
    rng = np.random.default_rng(5)
    Z = (rng.standard_normal(shape) * 4).astype(dtype)
    target = make_target(rng)
    twin, cy = both
    results = [twin.call(loss_result, name, Z, target, reduction),
               loss_result(cy, name, Z, target, reduction)]
    tol = {"rtol": 1e-12, "atol": 1e-14} if dtype == np.float64 else {"rtol": 1e-5, "atol": 1e-6}
    (v_py, g_py), (v_cy, g_cy) = results
    assert v_cy.dtype == v_py.dtype == g_cy.dtype == dtype
    np.testing.assert_allclose(v_cy, v_py, **tol)
    np.testing.assert_allclose(g_cy, g_py, **tol)


def test_compiled_kernels_refuse_wrong_buffers(both):
    """The kernels read and write through raw pointers: bad buffers must raise, not crash."""
    lo = both[1].bk.losses
    Z, P, L = np.zeros((3, 4)), np.empty((3, 4)), np.empty(3)
    labels = np.array([0, 1, 2], dtype=np.intp)
    with pytest.raises(ValueError, match="softmax_ce_forward: label 7 is out of range"):
        lo.softmax_ce_forward(Z, np.array([0, 7, 1], dtype=np.intp), None, P, L)
    with pytest.raises(ValueError, match=r"softmax_ce_forward: labels must be a C-contiguous "
                                         r"intp array of shape \(3,\)"):
        lo.softmax_ce_forward(Z, labels.astype(np.int32), None, P, L)
    with pytest.raises(ValueError, match="softmax_ce_forward: give labels or T"):
        lo.softmax_ce_forward(Z, None, None, P, L)
    with pytest.raises(ValueError, match=r"softmax_ce_forward: L must be"):
        lo.softmax_ce_forward(Z, labels, None, P, np.empty(2))
    with pytest.raises(ValueError, match="softmax_ce_backward: scale must be a float or hold 3"):
        lo.softmax_ce_backward(P, labels, None, np.ones(2), np.empty((3, 4)))
    with pytest.raises(ValueError, match=r"bce_logits_forward: E must be a C-contiguous float64 "
                                         r"array of shape \(3, 4\)"):
        lo.bce_logits_forward(Z, Z, np.empty((4, 3)), np.empty((3, 4)))
    with pytest.raises(ValueError, match="mse_forward: T must be"):
        lo.mse_forward(Z, Z.astype(np.float32), np.empty((3, 4)), np.empty((3, 4)))
    with pytest.raises(ValueError, match="hinge_backward: GS must be"):
        lo.hinge_backward(Z, Z, 1.0, np.empty((3, 4))[:, ::2])
    with pytest.raises(ValueError, match="mse_backward: expected a C-contiguous float32/float64"):
        lo.mse_backward(np.zeros((3, 4), dtype=int), 1.0, np.empty((3, 4), dtype=int))
