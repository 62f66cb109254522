"""The recorded sweep's fused rules (fastgrad.recorded.FUSED) against the op table's rules they
stand for: the same contributions, and the same derivatives when differentiated again, on both
backends, float64 and float32, with broadcasting."""
import numpy as np
import pytest

from fastgrad import recorded
from fastgrad._py.opcodes import OP_NAMES
from fastgrad.ops.table import BY_CODE

SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((3, 4), (3, 1)), ((4,), (3, 4)), ((), (2, 3))]
TOL = {np.float64: 1e-12, np.float32: 1e-5}


def _operands(fg, rng, shapes, dtype):
    a = fg.Tensor(rng.uniform(0.5, 2.0, shapes[0]).astype(dtype), requires_grad=True)
    b = fg.Tensor(rng.uniform(0.5, 2.0, shapes[1]).astype(dtype), requires_grad=True)
    return a, b


@pytest.mark.parametrize("code", sorted(recorded.FUSED), ids=lambda c: OP_NAMES[c])
@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_fused_rule_equals_table_rules(fg, rng, code, shapes, dtype):
    entry = BY_CODE[code]
    a, b = _operands(fg, rng, shapes, dtype)
    y = entry.forward(a.data, b.data)
    node = {"div": a / b}[entry.name]
    np.testing.assert_array_equal(node.data, y)
    g = fg.Tensor(rng.normal(size=node.data.shape).astype(dtype))
    fused = recorded.FUSED[code](g, node, a, b)
    params = entry.kwargs(node._ctx)
    for i, c in enumerate(fused):
        ref = entry.vjp_of(i, g, node, (a, b), params)
        np.testing.assert_allclose(c.data, ref.data, rtol=TOL[dtype], atol=TOL[dtype])


def _second_order(fg, rng, shapes, dtype):
    """d/d(a, b) of sum(v * d/da sum(w * a / b)) and the same for b: a Hessian-vector product
    through the recorded rules of div, itself recorded and differentiated."""
    a, b = _operands(fg, rng, shapes, dtype)
    w = rng.normal(size=np.broadcast_shapes(shapes[0], shapes[1])).astype(dtype)
    out = ((a / b) * (a / b) * w).sum()
    ga, gb = recorded.gradients(out, [a, b], create_graph=True)
    va = rng.normal(size=shapes[0]).astype(dtype)
    vb = rng.normal(size=shapes[1]).astype(dtype)
    inner = (ga * va).sum() + (gb * vb).sum()
    return [x.data for x in recorded.gradients(inner, [a, b])]


@pytest.mark.parametrize("shapes", SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_fused_rules_nest_like_table_rules(fg, shapes, dtype, monkeypatch):
    fused = _second_order(fg, np.random.default_rng(5), shapes, dtype)
    monkeypatch.setattr(recorded, "FUSED", {})
    table = _second_order(fg, np.random.default_rng(5), shapes, dtype)
    for got, want in zip(fused, table):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_allclose(got, want, rtol=10 * TOL[dtype], atol=10 * TOL[dtype])


def test_fused_rule_only_when_every_argument_needs_it(fg, monkeypatch):
    """With one argument constant, the table's rule of the other runs (the fused one would
    compute a contribution nobody needs)."""
    calls = []

    def spy(*args):
        calls.append(1)
        return recorded._div_vjps(*args)

    monkeypatch.setitem(recorded.FUSED, next(iter(recorded.FUSED)), spy)
    a = fg.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    b = fg.Tensor(np.array([3.0, 4.0]))
    (ga,) = recorded.gradients((a / b).sum(), [a])
    np.testing.assert_allclose(ga.data, 1 / b.data)
    assert not calls
    b.requires_grad = True
    ga, gb = recorded.gradients((a / b).sum(), [a, b])
    np.testing.assert_allclose(gb.data, -a.data / b.data ** 2)
    assert calls
