"""Value against micrograd and PyTorch (each skipped when not installed)."""
import math

import numpy as np
import pytest

from value_helpers import sv  # noqa: F401  (a fixture)


def micrograd_expressions(V):
    """Expressions micrograd's engine can compute, built on the Value class V; returns the
    nodes (leaves, intermediates, root) in creation order."""
    a, b, c = V(-4.0), V(2.0), V(0.75)
    nodes = [a, b, c]

    def keep(v):
        nodes.append(v)
        return v

    d = keep(a * b + b ** 3)
    e = keep(c - a / b)
    f = keep((d * e).relu() + (-e) * 2)
    g = keep(3 / (f + 10) - 1)
    h = keep((g * g + d.relu() * 0.5) ** 2)
    i = keep(sum([h, g, f, 1.5 * a]))
    keep(i / 4 - (c ** -2) * b)
    return nodes


def test_expressions_match_micrograd(sv):
    engine = pytest.importorskip("micrograd.engine")
    theirs = micrograd_expressions(engine.Value)
    ours = micrograd_expressions(sv.Value)
    assert [v.data for v in ours] == [v.data for v in theirs]
    for backward in range(2):  # micrograd lets grads (interior ones too) accumulate
        theirs[-1].backward()
        ours[-1].backward()
        np.testing.assert_allclose([v.grad for v in ours], [v.grad for v in theirs],
                                   rtol=1e-13, atol=0)


def test_micrograds_readme_example(sv):
    """micrograd's README example and the numbers it prints."""
    Value = sv.Value
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    assert f"{g.data:.4f}" == "24.7041"
    g.backward()
    assert f"{a.grad:.4f}" == "138.8338"
    assert f"{b.grad:.4f}" == "645.5773"


FUNCTIONS = [
    ("tanh", lambda x: x.tanh(), lambda t: t.tanh(), [0.3, -2.0, 20.0]),
    ("exp", lambda x: x.exp(), lambda t: t.exp(), [0.3, -2.0, 5.0]),
    ("log", lambda x: x.log(), lambda t: t.log(), [0.3, 2.0, 1e-3]),
    ("sigmoid", lambda x: x.sigmoid(), lambda t: t.sigmoid(), [0.3, -30.0, 40.0]),
    ("relu", lambda x: x.relu(), lambda t: t.relu(), [0.3, -2.0]),
    ("pow_c", lambda x: x ** 1.5, lambda t: t ** 1.5, [0.3, 2.0]),
    ("rpow_c", lambda x: 1.7 ** x, lambda t: 1.7 ** t, [0.3, -2.0]),
    ("rdiv", lambda x: 2 / x, lambda t: 2 / t, [0.3, -2.0]),
]


@pytest.mark.parametrize("case", FUNCTIONS, ids=[f[0] for f in FUNCTIONS])
def test_functions_match_pytorch(sv, case):
    torch = pytest.importorskip("torch")
    _, ours, theirs, points = case
    for x in points:
        v = sv.Value(x)
        out = ours(v)
        out.backward()
        t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        ref = theirs(t)
        ref.backward()
        assert out.data == pytest.approx(ref.item(), rel=1e-14, abs=1e-300)
        assert v.grad == pytest.approx(t.grad.item(), rel=1e-13, abs=1e-300)


def test_value_exponent_matches_pytorch(sv):
    torch = pytest.importorskip("torch")
    for base, exponent in [(1.7, -0.6), (0.2, 2.5), (3.0, 0.0), (0.0, 2.0)]:
        a, b = sv.Value(base), sv.Value(exponent)
        (a ** b).backward()
        ta = torch.tensor(base, dtype=torch.float64, requires_grad=True)
        tb = torch.tensor(exponent, dtype=torch.float64, requires_grad=True)
        (ta ** tb).backward()
        assert a.grad == pytest.approx(ta.grad.item(), rel=1e-13)
        assert b.grad == pytest.approx(tb.grad.item(), rel=1e-13)
        assert math.isfinite(b.grad)


def test_mlp_step_matches_pytorch(sv):
    """One micrograd-style MLP loss and its gradient, against the same weights in PyTorch."""
    torch = pytest.importorskip("torch")
    import random
    random.seed(9)
    model = sv.MLP(3, [5, 4, 1])
    rows = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75], [-0.3, 0.8, 0.1]]
    loss = sum(((1 + -model([sv.Value(v) for v in row])).relu() for row in rows), 0)
    loss.backward()
    x = torch.tensor(rows, dtype=torch.float64)
    for layer in model.layers:
        W = torch.tensor([[w.data for w in n.w] for n in layer.neurons], dtype=torch.float64,
                         requires_grad=True)
        b = torch.tensor([n.b.data for n in layer.neurons], dtype=torch.float64,
                         requires_grad=True)
        layer.torch = (W, b)
        x = x @ W.T + b
        if layer.neurons[0].nonlin:
            x = x.relu()
    ref = (1 - x).relu().sum()
    ref.backward()
    assert loss.data == pytest.approx(ref.item(), rel=1e-14)
    for layer in model.layers:
        W, b = layer.torch
        np.testing.assert_allclose([[w.grad for w in n.w] for n in layer.neurons],
                                   W.grad.numpy(), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose([n.b.grad for n in layer.neurons], b.grad.numpy(),
                                   rtol=1e-12, atol=1e-15)
