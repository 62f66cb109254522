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


# ---------------------------------------------------------------- row slices joined once
# (recorded_sweep.joined: the gradients of a[i:j] slices of one parent, one concatenation)

SLICINGS = {
    "tiling": [slice(None, 4), slice(4, None)],
    "gaps": [slice(1, 3), slice(4, 5)],
    "overlap": [slice(0, 4), slice(2, 6)],
    "whole and empty": [slice(None), slice(3, 3), slice(-2, None)],
}


def _sliced_loss(x, slicings, weights):
    """sum_k sum(w_k * tanh(x[s_k])^2): every slice's gradient depends on x again."""
    total = 0.0
    for s, w in zip(slicings, weights):
        y = x[s].tanh()
        total = total + (y * y * w).sum()
    return total


def _sliced_hvp(fg, slicings, shape, dtype):
    rng = np.random.default_rng(7)
    x = fg.Tensor(rng.normal(size=shape).astype(dtype), requires_grad=True)
    weights = [rng.normal(size=x.data[s].shape).astype(dtype) for s in slicings]
    (gx,) = recorded.gradients(_sliced_loss(x, slicings, weights), [x], create_graph=True)
    v = rng.normal(size=shape).astype(dtype)
    (hv,) = recorded.gradients((gx * v).sum(), [x])
    return gx.data, hv.data


@pytest.mark.parametrize("name", sorted(SLICINGS))
@pytest.mark.parametrize("shape", [(6,), (6, 2)], ids=str)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_joined_slices_equal_getitem_rule(fg, name, shape, dtype, monkeypatch):
    """The joined gradient and its own derivative (an HVP) are getitem's rule's, per slice."""
    joined = _sliced_hvp(fg, SLICINGS[name], shape, dtype)
    monkeypatch.setattr(recorded, "JOIN_ROWS", False)
    table = _sliced_hvp(fg, SLICINGS[name], shape, dtype)
    for got, want in zip(joined, table):
        assert got.shape == want.shape == shape and got.dtype == want.dtype == dtype
        np.testing.assert_allclose(got, want, rtol=TOL[dtype], atol=TOL[dtype])


@pytest.mark.parametrize("name", sorted(SLICINGS))
def test_joined_slices_against_finite_differences(name):
    """Forward and reverse to second order against finite differences, through the numpy
    face (the slices of one argument, as W2's flat weight vector is sliced)."""
    import fastgrad.numpy as fnp
    from fastgrad.test_util import check_grads

    slicings = SLICINGS[name]
    rng = np.random.default_rng(3)
    weights = [rng.normal(size=np.zeros(6)[s].shape) for s in slicings]

    def f(x):
        return sum(fnp.sum(w * fnp.tanh(x[s]) ** 2) for s, w in zip(slicings, weights))

    check_grads(f, modes=["fwd", "rev"], order=2, seed=0)(rng.normal(size=6))
