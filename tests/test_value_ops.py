"""Value's ops: gradients against finite differences, numerics, errors and micrograd's API,
on both scalar engines."""
import gc
import math
import pickle

import numpy as np
import pytest

from value_helpers import analytic_grads, numeric_grads, sv  # noqa: F401  (sv: a fixture)

# (name, fn of Values, inputs): every op, with numbers on either side
CASES = [
    ("add", lambda a, b: a + b, [0.7, -1.3]),
    ("add_number", lambda a: a + 2.5, [0.7]),
    ("radd_number", lambda a: 2.5 + a, [0.7]),
    ("add_self", lambda a: a + a, [0.7]),
    ("sub", lambda a, b: a - b, [0.7, -1.3]),
    ("sub_number", lambda a: a - 4, [0.7]),
    ("rsub_number", lambda a: 4 - a, [0.7]),
    ("mul", lambda a, b: a * b, [0.7, -1.3]),
    ("mul_number", lambda a: a * -3, [0.7]),
    ("rmul_number", lambda a: -3 * a, [0.7]),
    ("mul_self", lambda a: a * a, [0.7]),
    ("neg", lambda a: -a, [0.7]),
    ("div", lambda a, b: a / b, [0.7, -1.3]),
    ("div_number", lambda a: a / 3, [0.7]),
    ("rdiv_number", lambda a: 3 / a, [0.7]),
    ("pow_int", lambda a: a ** 3, [-0.7]),
    ("pow_float", lambda a: a ** 0.5, [1.7]),
    ("pow_negative", lambda a: a ** -2, [-1.7]),
    ("pow_value", lambda a, b: a ** b, [1.7, -0.6]),
    ("rpow_number", lambda a: 2.5 ** a, [-0.6]),
    ("relu_positive", lambda a: a.relu(), [0.7]),
    ("relu_negative", lambda a: a.relu(), [-0.7]),
    ("tanh", lambda a: a.tanh(), [0.4]),
    ("exp", lambda a: a.exp(), [0.4]),
    ("log", lambda a: a.log(), [0.4]),
    ("sigmoid_positive", lambda a: a.sigmoid(), [0.4]),
    ("sigmoid_negative", lambda a: a.sigmoid(), [-2.4]),
    ("sum", lambda a, b, c: sum([a, b, c]), [0.7, -1.3, 2.0]),
    ("expression", lambda a, b: ((a * b + b ** 2).tanh() - a / (1 + b.exp())).sigmoid() * 3,
     [0.3, -0.8]),
    ("shared_node", lambda a: (lambda t: t * t + t.relu() + 2 * t)(a.tanh() + a), [0.3]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_gradient_matches_finite_differences(sv, case):
    _, fn, xs = case
    out, grads = analytic_grads(sv.Value, fn, xs)
    numeric = numeric_grads(sv.Value, fn, xs)
    assert math.isfinite(out.data)
    np.testing.assert_allclose(grads, numeric, rtol=1e-6, atol=1e-8)


NEURON_INPUTS = [0.5, -0.25, 1.5, 0.75, 2.0, 0.3, 0.1]   # w0, w1, w2, b, x0, x1, x2


@pytest.mark.parametrize("nonlin", [True, False], ids=["relu", "linear"])
def test_fused_neuron_gradient_matches_finite_differences(sv, nonlin):
    def neuron(w0, w1, w2, b, x0, x1, x2):
        return sv.module.neuron_forward([w0, w1, w2], b, [x0, x1, x2], nonlin)
    out, grads = analytic_grads(sv.Value, neuron, NEURON_INPUTS)
    assert type(out).__name__ == "NeuronValue"
    assert out.data == ((0.75 + 0.5 * 2.0) + -0.25 * 0.3) + 1.5 * 0.1  # micrograd's order, > 0
    np.testing.assert_allclose(grads, numeric_grads(sv.Value, neuron, NEURON_INPUTS),
                               rtol=1e-6, atol=1e-8)


def test_numbers_of_any_kind_on_either_side(sv):
    a = sv.Value(2.0)
    for number in (3, 3.0, True, np.float64(3.0), np.float32(3.0), np.int64(3)):
        assert (a + number).data == 2.0 + float(number)
        assert (number + a).data == float(number) + 2.0
        assert (number * a).data == float(number) * 2.0
        assert (number - a).data == float(number) - 2.0
        assert (a / number).data == 2.0 * float(number) ** -1  # micrograd: a * number**-1
    assert type(np.int64(-1) * a) is sv.Value


def test_repr_and_data_are_micrograds(sv):
    a = sv.Value(2)
    assert repr(a) == "Value(data=2.0, grad=0.0)"
    a.data = 3
    a.data -= 0.5
    a.grad = 4
    assert (a.data, a.grad) == (2.5, 4.0)
    a.zero_grad()
    assert a.grad == 0.0


def test_operands_micrograd_would_not_take_raise_clear_errors(sv):
    a = sv.Value(1.0)
    with pytest.raises(TypeError, match="str"):
        a + "text"
    with pytest.raises(TypeError, match="can't multiply sequence"):
        "text" * a
    with pytest.raises(TypeError, match="NoneType"):
        a - None
    with pytest.raises(TypeError, match="data must be a real number"):
        sv.Value("1.0")
    with pytest.raises(TypeError, match="data must be a real number"):
        sv.Value(a)


def test_log_of_a_non_positive_number_raises(sv):
    for x in (0.0, -1.0, -math.inf):
        with pytest.raises(ValueError, match=r"log.*positive"):
            sv.Value(x).log()
    assert sv.Value(math.inf).log().data == math.inf


def test_division_by_zero_raises_zero_division_error(sv):
    a = sv.Value(1.0)
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        a / 0
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        a / sv.Value(0.0)
    with pytest.raises(ZeroDivisionError, match="division by zero"):
        1 / sv.Value(-0.0)
    with pytest.raises(ZeroDivisionError, match="negative power"):
        sv.Value(0.0) ** -0.5


def test_negative_number_to_a_fractional_power_raises(sv):
    with pytest.raises(ValueError, match="non-integer power"):
        sv.Value(-8.0) ** (1 / 3)
    with pytest.raises(ValueError, match="non-integer power"):
        sv.Value(-8.0) ** sv.Value(0.5)
    assert (sv.Value(-2.0) ** 3).data == -8.0


def test_large_arguments_do_not_overflow(sv):
    V = sv.Value
    assert V(1000.0).tanh().data == 1.0
    assert V(-1000.0).tanh().data == -1.0
    assert V(1000.0).sigmoid().data == 1.0
    assert V(-1000.0).sigmoid().data == 0.0
    assert V(-1000.0).exp().data == 0.0
    assert V(1000.0).exp().data == math.inf
    assert (V(10.0) ** 400).data == math.inf
    assert (V(-10.0) ** 401).data == -math.inf
    for make in (lambda x: x.tanh(), lambda x: x.sigmoid()):
        for x in (1000.0, -1000.0):
            leaf = V(x)
            make(leaf).backward()
            assert leaf.grad == 0.0
    assert V(0.0).sigmoid().data == 0.5


def test_grads_accumulate_until_zero_grad(sv):
    a = sv.Value(3.0)
    b = a * a
    b.backward()
    b.backward()  # micrograd: the root is reset to 1, every other node accumulates
    assert a.grad == 12.0
    c = (a * 2).relu()
    c.backward()
    assert a.grad == 14.0
    a.zero_grad()
    c.backward()
    assert a.grad == 4.0  # micrograd's: the interior node a * 2 kept (and doubled) its grad


def test_backward_twice_accumulates_interior_grads_like_micrograd(sv):
    # micrograd: pass 1 gives h.grad = 2, a.grad = 6; pass 2 adds into h.grad (now 4), then
    # a.grad += 3 * 4
    a = sv.Value(2.0)
    h = a * 3
    out = h * 2
    out.backward()
    out.backward()
    assert (h.grad, a.grad) == (4.0, 18.0)


def test_backward_of_a_leaf_sets_its_grad_to_one(sv):
    a = sv.Value(5.0)
    a.backward()
    assert a.grad == 1.0


def test_prev_and_op_for_graph_drawing(sv):
    a, b = sv.Value(2.0), sv.Value(3.0)
    assert a._prev == set() and a._op == ""
    assert (a + b)._prev == {a, b} and (a + b)._op == "+"
    assert (a * b)._op == "*" and (a + 1)._op == "+" and (a * 2)._op == "*"
    assert (a + 1)._prev == {a}
    assert (a ** 2)._op == "**2" and (a ** -1)._op == "**-1" and (a ** 0.5)._op == "**0.5"
    assert a.relu()._op == "ReLU" and a.tanh()._op == "tanh" and a.exp()._op == "exp"
    assert (a * a)._prev == {a}
    diff = a - b
    assert diff._op == "+" and len(diff._prev) == 2 and a in diff._prev  # a + (b * -1)
    custom = sv.Value(5.0, (a, b), "f")
    assert custom._prev == {a, b} and custom._op == "f"
    with pytest.raises(TypeError, match="_children"):
        sv.Value(1.0, (1.0,), "f")


def test_custom_node_passes_no_gradient_like_micrographs_default(sv):
    a = sv.Value(2.0)
    c = sv.Value(5.0, (a,), "f") * 2
    c.backward()
    assert a.grad == 0.0


def test_manual_backward_steps_like_the_micrograd_lecture(sv):
    a, b = sv.Value(2.0), sv.Value(-3.0)
    c = a * b
    d = c.tanh()
    d.grad = 1.0
    d._backward()
    c._backward()
    assert c.grad == 1.0 - d.data ** 2
    assert a.grad == b.data * c.grad and b.grad == a.data * c.grad


def test_values_hash_and_compare_by_identity(sv):
    a, b = sv.Value(1.0), sv.Value(1.0)
    assert a != b and a == a and len({a, b, a}) == 2
    with pytest.raises(TypeError):
        a < b


def test_ndarray_operand_gives_numpys_object_array(sv):
    a = sv.Value(2.0)
    out = np.array([1.0, 2.0]) * a
    assert out.dtype == object and [v.data for v in out] == [2.0, 4.0]
    out = a + np.array([1.0, 2.0])
    assert out.dtype == object and [v.data for v in out] == [3.0, 4.0]
    assert np.tanh(np.array([a], dtype=object))[0].data == math.tanh(2.0)


def test_pickle_keeps_data_and_grad(sv):
    a = sv.Value(2.5)
    a.grad = -1.0
    b = pickle.loads(pickle.dumps(a * 2))
    assert type(b) is sv.Value and (b.data, b.grad) == (5.0, 0.0)
    c = pickle.loads(pickle.dumps(a))
    assert (c.data, c.grad) == (2.5, -1.0)


def test_subclassing_value_works(sv):
    class Named(sv.Value):
        pass
    a = Named(2.0)
    a.label = "a"
    out = (a * a).tanh()
    out.backward()
    assert a.grad == (1 - out.data ** 2) * 4.0 and a.label == "a"
    del a, out
    gc.collect()


def test_compiled_value_is_small_and_outside_the_cyclic_gc():
    cy = pytest.importorskip("fastgrad._cy.scalar")
    a = cy.Value(1.0)
    a.data, a.grad = 3, 4
    assert type(a.data) is float and type(a.grad) is float
    assert cy.Value.__basicsize__ == 64
    assert not gc.is_tracked(a) and not gc.is_tracked(a * 2)
