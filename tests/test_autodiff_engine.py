"""Engine fast paths added for the autograd face: gradients summed back over broadcast axes by
typed loops (compiled) must equal the twin's numpy sums bit for bit."""
import numpy as np
import pytest
from helpers import analytic_grads, numeric_grads

# (shape of the gradient arriving, shape of the operand it is summed back to)
BROADCASTS = [
    ((2,), ()), ((7,), ()), ((9,), ()), ((3, 4), ()), ((33, 5), ()), ((64, 64), ()),
    ((4096,), ()), ((5000,), ()), ((3, 4), (1, 1)), ((9,), (1,)),
    ((3, 4), (4,)), ((3, 4), (1, 4)), ((1797, 10), (10,)), ((1000, 2), (2,)),
    ((5, 1, 3), (1, 1, 3)), ((2, 3, 4), (3, 4)), ((2, 3, 4), (4,)), ((1, 3), (3,)),
    ((3, 4), (3, 1)), ((1797, 10), (1797, 1)), ((3, 4, 5), (3, 1, 1)), ((6, 200), (6, 1)),
    ((3, 4, 5), (1, 4, 1)), ((3, 4, 5), (3, 1, 5)), ((2, 5000), (2, 1)),
    ((0, 3), (3,)), ((0, 3), ()), ((3, 0), (3, 1)), ((2, 0, 3), (1, 0, 3)),
]


def summed_back(front, g, shape, dtype):
    """The gradient that a + b passes to b (of ``shape``) when g arrives at the sum."""
    a = front.Tensor(np.zeros(g.shape, dtype))
    b = front.Tensor(np.zeros(shape, dtype), requires_grad=True)
    (a + b).backward(g)
    return b.grad


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("g_shape,shape", BROADCASTS, ids=[f"{g}->{s}" for g, s in BROADCASTS])
def test_summed_back_bit_for_bit(both, g_shape, shape, dtype):
    twin, cy = both
    g = np.random.default_rng(sum(g_shape)).standard_normal(g_shape).astype(dtype)
    lead = len(g_shape) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and g_shape[lead + i] != 1)
    want = np.add.reduce(g, axis=axes, keepdims=True).reshape(shape)
    got_py = twin.call(summed_back, g, shape, dtype)
    got_cy = summed_back(cy, g, shape, dtype)
    assert got_cy.dtype == got_py.dtype == dtype
    np.testing.assert_array_equal(got_py, want, strict=True)
    np.testing.assert_array_equal(got_cy, want, strict=True)


def test_summed_back_non_contiguous_gradient(both):
    twin, cy = both
    g = np.random.default_rng(0).standard_normal((4, 6))[:, ::2]
    np.testing.assert_array_equal(summed_back(cy, g, (3,), np.float64),
                                  twin.call(summed_back, g, (3,), np.float64))


# Binary ops whose second operand holds one value (a sum, a max, a 0-d weight): the compiled
# VJPs use scalar loops there; + - * / round as numpy's, so the twin's results are matched
# exactly, and finite differences check the formula.
ONE_VALUE = [
    ("div_by_sum", lambda a, b: a / b.sum(), [(5,), (3,)]),
    ("div_by_0d", lambda a, b: a / b, [(2, 3), ()]),
    ("div_by_1x1", lambda a, b: a / b, [(2, 3), (1, 1)]),
    ("mul_by_max", lambda a, b: a * b.max(), [(4,), (6,)]),
    ("mul_by_1", lambda a, b: b * a, [(3, 4), (1,)]),
    ("sub_max", lambda a, b: a - a.max() + b * 0.5, [(6,), ()]),
    ("one_value_left", lambda a, b: (b - a) * (b / a) + (b + a) * 0.5 - b * a, [(2, 3), ()]),
    ("one_value_1d_left", lambda a, b: (b - a) / (b + a), [(3,), (1,)]),
    ("softmax_by_hand", lambda a, b: (a - a.max()).exp() / (a - a.max()).exp().sum() * b,
     [(5,), ()]),
]


def one_value_result(front, name, dtype):
    """Case ``name``'s output and gradients on ``front`` (arrays; run on both sides)."""
    _, fn, shapes = next(c for c in ONE_VALUE if c[0] == name)
    rng = np.random.default_rng(5)
    arrays = [rng.uniform(0.5, 2.0, s).astype(dtype) for s in shapes]
    leaves = [front.Tensor(x, requires_grad=True) for x in arrays]
    out = fn(*leaves)
    w = np.linspace(-1, 1, out.data.size).reshape(out.shape).astype(dtype)
    (out * w).sum().backward()
    return [out.data] + [leaf.grad for leaf in leaves]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", ONE_VALUE, ids=[c[0] for c in ONE_VALUE])
def test_one_value_operand_matches_twin(both, case, dtype):
    twin, cy = both
    results = [twin.call(one_value_result, case[0], dtype), one_value_result(cy, case[0], dtype)]
    for got, want in zip(*results):
        assert got.dtype == want.dtype == dtype
        if "exp" in case[0] or "softmax" in case[0]:  # exp: C library vs numpy's SIMD
            np.testing.assert_allclose(got, want, rtol=1e-6 if dtype == np.float32 else 1e-14)
        else:
            np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("case", ONE_VALUE, ids=[c[0] for c in ONE_VALUE])
def test_one_value_operand_gradient(fg, case):
    _, fn, shapes = case
    rng = np.random.default_rng(6)
    arrays = [rng.uniform(0.5, 2.0, s) for s in shapes]
    _, grads = analytic_grads(fg, lambda fg_, *xs: fn(*xs), arrays)
    expected = numeric_grads(fg, lambda fg_, *xs: fn(*xs), arrays)
    for got, want in zip(grads, expected):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
