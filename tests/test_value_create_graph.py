"""Value.backward(create_graph=True): leaves' grads become Values that differentiate again, on
both scalar engines; checked against exact derivatives and finite differences of first-order
gradients; first-order backward() is unchanged."""
import math
import pickle
import random

import pytest
from test_value_parity import apply, make_program
from value_helpers import engines, sv  # noqa: F401  (fixtures)

import fastgrad


def derivatives(Value, fn, x0, order):
    """[f(x0), f'(x0), ..., f^(order)(x0)] by repeated backward(create_graph=True); once a
    derivative does not depend on x, x's grad stays the float 0."""
    x = Value(x0)
    out = fn(x)
    found = [out.data]
    for _ in range(order):
        x.zero_grad()
        if isinstance(out, Value):
            out.backward(create_graph=True)
        out = x.grad
        found.append(out.data if isinstance(out, Value) else out)
    return found


def exact(found, expected, rtol=1e-12):
    assert len(found) == len(expected)
    for f, e in zip(found, expected):
        assert f == pytest.approx(e, rel=rtol, abs=1e-12), (found, expected)


@pytest.mark.parametrize("x0", [-1.3, 0.3, 2.0])
def test_tanh_derivatives(sv, x0):
    t = math.tanh(x0)
    s = 1 - t * t
    exact(derivatives(sv.Value, lambda x: x.tanh(), x0, 4),
          [t, s, -2 * t * s, (6 * t * t - 2) * s, (16 * t - 24 * t ** 3) * s])


def test_exp_log_sigmoid_derivatives(sv):
    e = math.exp(0.7)
    exact(derivatives(sv.Value, lambda x: x.exp(), 0.7, 4), [e] * 5)
    exact(derivatives(sv.Value, lambda x: x.log(), 1.5, 3),
          [math.log(1.5), 1 / 1.5, -1 / 1.5 ** 2, 2 / 1.5 ** 3])
    s = 1 / (1 + math.exp(-0.4))
    exact(derivatives(sv.Value, lambda x: x.sigmoid(), 0.4, 2),
          [s, s * (1 - s), s * (1 - s) * (1 - 2 * s)])


def test_pow_and_division_derivatives(sv):
    exact(derivatives(sv.Value, lambda x: x ** 3, 1.5, 4), [3.375, 6.75, 9.0, 6.0, 0.0])
    exact(derivatives(sv.Value, lambda x: x ** 3, 0.0, 4), [0.0, 0.0, 0.0, 6.0, 0.0])
    exact(derivatives(sv.Value, lambda x: 1 / x, 2.0, 3), [0.5, -0.25, 0.25, -0.375])
    exact(derivatives(sv.Value, lambda x: (x + 1) / (x * x), 2.0, 2),
          [0.75, -1 / 4 - 2 / 8, 2 / 8 + 6 / 16])
    exact(derivatives(sv.Value, lambda x: 2 ** x, 1.0, 3),
          [2.0] + [2.0 * math.log(2) ** k for k in (1, 2, 3)])
    exact(derivatives(sv.Value, lambda x: x ** 0.5, 4.0, 2), [2.0, 0.25, -1 / 32])


def test_relu_derivatives(sv):
    exact(derivatives(sv.Value, lambda x: (x * x).relu(), 1.5, 3), [2.25, 3.0, 2.0, 0.0])
    exact(derivatives(sv.Value, lambda x: (x * x * -1).relu(), 1.5, 2), [0.0, 0.0, 0.0])


def test_mixed_partials_and_value_exponent(sv):
    Value = sv.Value
    x, y = Value(1.5), Value(0.8)
    f = x ** y
    f.backward(create_graph=True)
    gx, gy = x.grad, y.grad
    assert gx.data == pytest.approx(0.8 * 1.5 ** -0.2, rel=1e-14)
    assert gy.data == pytest.approx(math.log(1.5) * 1.5 ** 0.8, rel=1e-14)
    x.zero_grad()
    y.zero_grad()
    gx.backward()   # d/dx (y x^(y-1)) and d/dy (y x^(y-1))
    assert x.grad == pytest.approx(0.8 * -0.2 * 1.5 ** -1.2, rel=1e-13)
    assert y.grad == pytest.approx(1.5 ** -0.2 * (1 + 0.8 * math.log(1.5)), rel=1e-13)
    # d/dx [x * d/dy (x + y)] = 1, not 2: d/dy (x + y) is the constant 1
    x, y = Value(3.0), Value(4.0)
    (x + y).backward(create_graph=True)
    inner = y.grad
    x.zero_grad()
    (x * inner).backward()
    assert x.grad == 1.0


def test_hessians_of_random_programs_match_finite_differences(sv):
    """Every op (the parity test's random programs, fused neurons included): the Hessian by
    create_graph, row by row, against central differences of first-order gradients on fresh
    graphs."""
    Value = sv.Value
    checked = 0
    for seed in range(12):
        leaves0, steps = make_program(seed, n_leaves=3, n_ops=25)

        def build(xs, steps=steps):
            values = [Value(x) for x in xs]
            for op, i, j, k, c in steps:
                values.append(apply(sv.module, op, values, i, j, k, c))
            return values[:len(xs)], values[-1]

        def first_order(xs):
            leaves, out = build(xs)
            out.backward()
            return [leaf.grad for leaf in leaves]

        expected = first_order(leaves0)
        if not all(math.isfinite(g) and abs(g) < 1e6 for g in expected):
            continue   # e.g. d(a**b)/db at a < 0: NaN on both paths
        leaves, out = build(leaves0)
        out.backward(create_graph=True)
        grads = [leaf.grad for leaf in leaves]
        assert [g.data if isinstance(g, Value) else g for g in grads] == \
            pytest.approx(expected, rel=1e-12, abs=1e-12)
        for i, g in enumerate(grads):
            if not isinstance(g, Value):
                continue   # the output does not depend on leaf i
            for leaf in leaves:
                leaf.zero_grad()
            # create_graph=True each time: the rows' graphs share interior nodes, and
            # first-order backward() passes on what they hold (micrograd's rule)
            g.backward(create_graph=True)
            row = [r.data if isinstance(r, Value) else r for r in (x.grad for x in leaves)]
            eps = 1e-5
            for j in range(len(leaves0)):
                up, down = list(leaves0), list(leaves0)
                up[j] += eps
                down[j] -= eps
                fd = (first_order(up)[i] - first_order(down)[i]) / (2 * eps)
                assert row[j] == pytest.approx(fd, rel=1e-5, abs=1e-5), (seed, i, j)
            checked += 1
    assert checked >= 12


def test_fused_neuron_second_derivatives(sv):
    """An MLP made of fused neurons: d^2 loss / d w d x_k by create_graph against finite
    differences of the first-order gradient."""
    random.seed(3)
    model = sv.MLP(2, [4, 1])
    w = model.parameters()[0]

    def loss_and_x(x0):
        x = [sv.Value(x0[0]), sv.Value(x0[1])]
        score = model(x)
        return (score * score + score.tanh()), x

    x0 = [0.7, -0.4]
    loss, x = loss_and_x(x0)
    model.zero_grad()
    loss.backward(create_graph=True)
    gw = w.grad
    for xi in x:
        xi.zero_grad()
    model.zero_grad()
    gw.backward()
    for k in range(2):
        eps = 1e-6
        grads = []
        for sign in (1, -1):
            xs = list(x0)
            xs[k] += sign * eps
            out, _ = loss_and_x(xs)
            model.zero_grad()
            out.backward()
            grads.append(w.grad)
        assert x[k].grad == pytest.approx((grads[0] - grads[1]) / (2 * eps), rel=1e-6)


def test_first_order_backward_is_unchanged(sv):
    x, y = sv.Value(0.5), sv.Value(-1.5)
    out = (x * y).tanh() + x ** 2
    out.backward()
    assert type(x.grad) is float and type(y.grad) is float
    t = math.tanh(-0.75)
    assert x.grad == pytest.approx((1 - t * t) * -1.5 + 1.0, rel=1e-15)


def test_accumulation(sv):
    """A leaf's float grad is added to the graph; a later first-order backward adds into the
    graph, as PyTorch accumulates; zero_grad and assigning a number drop it."""
    Value = sv.Value
    x = Value(2.0)
    x.grad = 1.0
    (x * x * x).backward(create_graph=True)
    g = x.grad
    assert isinstance(g, Value) and g.data == 13.0
    (x * x).backward()
    assert x.grad.data == 17.0
    x.zero_grad()
    assert x.grad == 0.0 and type(x.grad) is float
    (x * x).backward(create_graph=True)
    x.grad = 0
    assert x.grad == 0.0
    (x * 3.0).backward(create_graph=True)
    assert isinstance(x.grad, Value) and x.grad.data == 3.0   # a constant: no graph behind it
    assert pickle.loads(pickle.dumps(x)).grad == 3.0
    x.backward(create_graph=True)   # a leaf's own derivative
    assert x.grad.data == 1.0


def test_create_graph_inside_no_grad_raises(sv):
    x = sv.Value(1.0)
    with fastgrad.no_grad(), pytest.raises(
            RuntimeError, match=r"Value.backward\(create_graph=True\) inside no_grad"):
        (x * x).backward(create_graph=True)
    assert x.grad == 0.0


def test_custom_node_has_no_rule(sv):
    x = sv.Value(1.0)
    custom = sv.Value(2.0, (x,), "myop")
    with pytest.raises(NotImplementedError, match=r"create_graph=True\): the node 'myop' .* "
                                                  r"no derivative rule"):
        (custom * x).backward(create_graph=True)
    custom.backward()   # first order: micrograd's node without a gradient, as before


def test_infinite_derivative_names_the_op(sv):
    x = sv.Value(0.0)
    with pytest.raises(ValueError, match=r"derivative of '\*\*0.5' at base 0.0"):
        (x ** 0.5).backward(create_graph=True)


def test_bad_grad_assignment(sv):
    if sv.name != "cython":
        pytest.skip("the twin's grad is a plain attribute, as micrograd's")
    x = sv.Value(1.0)
    with pytest.raises(TypeError, match="Value.grad"):
        x.grad = "one"
    with pytest.raises(TypeError, match=r"only a leaf's grad can be a Value .* '\*'"):
        (x * x).grad = sv.Value(1.0)


def test_engines_agree_bit_for_bit(engines):
    """The rules are one code (fastgrad/_shared/scalar.py) over Value arithmetic that is
    bit-identical on both engines: so are the gradients and their derivatives."""
    found = []
    for engine in engines:
        numbers = []
        for seed in range(8):
            leaves0, steps = make_program(seed, n_leaves=3, n_ops=25)
            values = [engine.Value(x) for x in leaves0]
            for op, i, j, k, c in steps:
                values.append(apply(engine.module, op, values, i, j, k, c))
            leaves = values[:3]
            values[-1].backward(create_graph=True)
            grads = [leaf.grad for leaf in leaves]
            for g in grads:
                for leaf in leaves:
                    leaf.zero_grad()
                if isinstance(g, engine.Value):
                    numbers.append(g.data)
                    g.backward(create_graph=True)
                numbers += [x.grad.data if isinstance(x.grad, engine.Value) else x.grad
                            for x in leaves]
        found.append([float(x).hex() for x in numbers])
    assert found[0] == found[1]
