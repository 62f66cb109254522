"""The Tensor as a user meets it: construction, dtypes, numpy interplay, and the rules of
backward (accumulation, retain_graph, no_grad, detach), on both backends."""
import numpy as np
import pytest

from fastgrad.engine import enable_grad, no_grad, set_grad_enabled


# ---------------------------------------------------------------- construction and dtypes

def test_construction_copies_and_converts(fg):
    source = np.array([1, 2, 3])
    t = fg.Tensor(source)
    source[0] = 99
    assert t.dtype == np.float64 and t.data.tolist() == [1.0, 2.0, 3.0]
    assert fg.Tensor([True, False]).dtype == np.float64
    assert fg.Tensor(np.ones(2, np.float32)).dtype == np.float32
    assert fg.Tensor([1, 2], dtype=np.float32).dtype == np.float32
    assert fg.Tensor(2.5).shape == ()


@pytest.mark.parametrize("bad", [np.array([1 + 2j]), np.array(["a"]), np.ones(2, np.float16)])
def test_unsupported_dtypes_are_refused(fg, bad):
    with pytest.raises(TypeError, match=str(bad.dtype)):
        fg.Tensor(bad)


def test_explicit_integer_dtype_is_refused(fg):
    with pytest.raises(TypeError, match="int64"):
        fg.Tensor([1, 2], dtype=np.int64)


def test_float32_stays_float32(fg):
    x = fg.Tensor(np.ones((2, 3), np.float32), requires_grad=True)
    y = (x * 2.5 + np.float64(1.0)) / 3 - np.ones(3)  # scalars and float64 constants
    y = fg.tanh(y @ np.ones((3, 2))).sum()
    assert y.dtype == np.float32
    y.backward()
    assert x.grad.dtype == np.float32


def test_mixed_tensor_dtypes_promote_and_grads_keep_each_dtype(fg):
    a = fg.Tensor(np.ones(3, np.float32), requires_grad=True)
    b = fg.Tensor(np.full(3, 2.0), requires_grad=True)
    y = (a * b).sum()
    assert y.dtype == np.float64
    y.backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad, [2, 2, 2])


def test_numpy_like_attributes(fg):
    t = fg.Tensor(np.arange(6.0).reshape(2, 3))
    assert (t.shape, t.ndim, t.size, len(t)) == ((2, 3), 2, 6, 2)
    assert np.asarray(t) is t.data
    assert np.array(t, dtype=np.float32).dtype == np.float32
    assert t.T.shape == (3, 2)
    assert t[1, 2].item() == 5.0 and float(t[0, 1]) == 1.0
    assert t.tolist() == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(TypeError):
        len(fg.Tensor(1.0))


def test_repr_shows_values_dtype_and_graph(fg):
    assert repr(fg.Tensor([1.0, 2.0])) == "Tensor([1., 2.])"
    leaf = fg.Tensor([1.0], requires_grad=True)
    assert repr(leaf) == "Tensor([1.], requires_grad=True)"
    assert repr(fg.tanh(leaf)).endswith("op=tanh)")
    assert "dtype=float32" in repr(fg.Tensor(np.ones(2, np.float32)))


def test_comparisons_give_plain_arrays_and_tensors_hash_by_identity(fg):
    a = fg.Tensor([1.0, 2.0])
    b = fg.Tensor([2.0, 2.0])
    assert isinstance(a < b, np.ndarray) and (a == b).tolist() == [False, True]
    assert len({a, b, a}) == 2


def test_operators_take_scalars_and_arrays_on_either_side(fg):
    x = fg.Tensor([1.0, 2.0, 4.0], requires_grad=True)
    y = 2 - x + 2 / x + 2 ** x + x ** 2 + np.ones(3) * x - x @ np.ones(3)
    expected = 2 - x.data + 2 / x.data + 2 ** x.data + x.data ** 2 + x.data - x.data.sum()
    np.testing.assert_allclose(y.data, expected)
    y.sum().backward()
    d = x.data
    np.testing.assert_allclose(x.grad, -1 - 2 / d ** 2 + 2 ** d * np.log(2) + 2 * d + 1 - 3)


def test_numpy_functions_on_tensors_record_or_refuse(fg):
    x = fg.Tensor([0.5, 1.5], requires_grad=True)
    y = np.sum(np.exp(x) * np.array([1.0, 2.0]))
    assert isinstance(y, fg.Tensor)
    y.backward()
    np.testing.assert_allclose(x.grad, np.exp(x.data) * [1, 2])
    with pytest.raises(TypeError, match="floor"):
        np.floor(x)
    with pytest.raises(TypeError, match="unique"):
        np.unique(x)
    z = np.sort(x)  # a numpy function fastgrad.numpy differentiates: it records
    assert isinstance(z, fg.Tensor) and z.requires_grad


def test_iteration_yields_differentiable_rows(fg):
    x = fg.Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    total = sum(row.sum() * k for k, row in enumerate(x))
    total.backward()
    np.testing.assert_array_equal(x.grad, [[0, 0], [1, 1], [2, 2]])


def test_indexing_with_repeats_masks_and_tensors(fg):
    x = fg.Tensor(np.arange(5.0), requires_grad=True)
    idx = fg.Tensor([0.0, 0.0])  # a float tensor is refused as an index
    with pytest.raises(IndexError):
        x[idx]
    (x[np.array([1, 1, 3])].sum() + x[x.data > 2.5].sum() + x[-1]).backward()
    np.testing.assert_array_equal(x.grad, [0, 2, 0, 2, 2])


# ---------------------------------------------------------------- backward's rules

def test_leaves_accumulate_until_zero_grad(fg):
    x = fg.Tensor([1.0, 2.0], requires_grad=True)
    for _ in range(2):
        (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, [4, 8])
    x.zero_grad()
    assert x.grad is None


def test_interior_grads_are_dropped_unless_retained(fg):
    x = fg.Tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    k = x * 2
    k.retain_grad()
    (h * k).sum().backward()
    assert h.grad is None
    np.testing.assert_array_equal(k.grad, h.data)
    assert x.is_leaf and not h.is_leaf and h.op == "mul_s"


def test_second_backward_through_a_freed_graph_raises(fg):
    x = fg.Tensor([1.0, 2.0], requires_grad=True)
    y = fg.tanh(x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="sum .*freed"):
        y.backward()
    z = fg.tanh(x).sum()
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(x.grad, 3 * (1 - np.tanh(x.data) ** 2))


def test_backward_needs_a_gradient_for_non_scalars(fg):
    x = fg.Tensor(np.ones((2, 3)), requires_grad=True)
    y = x * 2
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        y.backward()
    with pytest.raises(ValueError, match=r"gradient has shape \(3,\)"):
        y.backward(np.ones(3))
    y.backward(np.full((2, 3), 0.5))
    np.testing.assert_array_equal(x.grad, np.ones((2, 3)))


def test_backward_of_a_constant_raises(fg):
    with pytest.raises(RuntimeError, match="does not require grad"):
        (fg.Tensor([1.0]) * 2).sum().backward()


def test_leaf_grads_never_alias(fg):
    a = fg.Tensor([1.0, 2.0], requires_grad=True)
    b = fg.Tensor([3.0, 4.0], requires_grad=True)
    seed = np.ones(2)
    (a + b).backward(seed)
    assert a.grad is not b.grad and a.grad is not seed
    a.grad[0] = 100.0
    assert b.grad[0] == 1.0 and seed[0] == 1.0


def test_a_leaf_used_many_times_sums_its_contributions(fg):
    x = fg.Tensor([2.0], requires_grad=True)
    y = x * x + x * 3 + x
    y.backward(np.ones(1))
    np.testing.assert_array_equal(x.grad, [2 * 2 + 3 + 1])


def test_backward_on_a_leaf(fg):
    x = fg.Tensor(3.0, requires_grad=True)
    x.backward()
    assert x.grad == 1.0


def test_no_grad_and_enable_grad(fg):
    x = fg.Tensor([1.0], requires_grad=True)
    with no_grad():
        y = x * 2
        with enable_grad():
            z = x * 2
    assert not y.requires_grad and y.is_leaf and z.requires_grad

    @no_grad()
    def f(t):
        return t * 2
    assert not f(x).requires_grad
    previous = set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        previous.__exit__(None, None, None)
    assert (x * 2).requires_grad


def test_detach_shares_data_but_not_the_graph(fg):
    x = fg.Tensor([1.0, 2.0], requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.is_leaf
    y = (d * x).sum()
    y.backward()
    np.testing.assert_array_equal(x.grad, d.data)


def test_freed_graph_keeps_values(fg):
    x = fg.Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.sum().backward()
    np.testing.assert_array_equal(y.data, [2.0, 4.0])


@pytest.mark.parametrize("op", ["tanh", "sigmoid", "exp", "log", "logsumexp", "sqrt"])
def test_zero_dimensional_tensors_differentiate(fg, op):
    x = fg.Tensor(0.7, requires_grad=True)
    y = getattr(fg, op)(x)
    y.backward()
    assert x.grad.shape == () and np.isfinite(x.grad)
