"""Derivatives of every order: nested grad, hessian, HVPs, forward mode, trace levels, the
recorded backward (create_graph), and the errors when a derivative cannot be had."""
import threading

import numpy as np
import pytest
from numpy.polynomial import polynomial as P

import fastgrad
import fastgrad.numpy as fnp
from fastgrad import autodiff
from fastgrad.autodiff import (
    elementwise_grad,
    grad,
    hessian,
    hessian_tensor_product,
    jacobian,
    jvp,
    make_ggnvp,
    make_hvp,
    make_jvp,
    make_vjp,
)
from fastgrad.extend import defvjp, primitive
from fastgrad.recorded import gradients


def exact_tanh_derivatives(t, n):
    """d^k tanh / dx^k for k = 0..n at t = tanh(x): P0 = t, P(k+1) = (1 - t^2) Pk'(t)."""
    p = np.array([0.0, 1.0])
    out = []
    for _ in range(n + 1):
        out.append(P.polyval(t, p))
        p = P.polymul([1.0, 0.0, -1.0], P.polyder(p))
    return out


def test_autograd_tanh_example_six_deep():
    """autograd's README example: elementwise_grad nested six times on its own tanh."""
    def tanh(x):
        y = fnp.exp(-2.0 * x)
        return (1.0 - y) / (1.0 + y)
    x = np.linspace(-7, 7, 700)
    exact = exact_tanh_derivatives(np.tanh(x), 6)
    f = tanh
    for order in range(1, 7):
        f = elementwise_grad(f)
        # rtol 1e-10; the atol covers the tails, where the derivatives are ~1e-6 and the
        # example's own formula (1 - e^-2x) / (1 + e^-2x) rounds to ~1e-10 relative
        np.testing.assert_allclose(f(x), exact[order], rtol=1e-10, atol=1e-12)


def test_tanh_primitive_six_deep():
    x = np.linspace(-7, 7, 700)
    exact = exact_tanh_derivatives(np.tanh(x), 6)
    f = fnp.tanh
    for order in range(1, 7):
        f = elementwise_grad(f)
        np.testing.assert_allclose(f(x), exact[order], rtol=1e-10, atol=1e-12)


def test_grad_of_grad_scalars():
    assert grad(grad(lambda x: x ** 3))(2.0) == 12.0
    assert grad(grad(grad(lambda x: 1.0 / x)))(2.0) == pytest.approx(-6 / 16, rel=1e-15)
    assert grad(grad(fnp.sin))(0.5) == pytest.approx(-np.sin(0.5), rel=1e-15)


def test_perturbation_confusion():
    """d/dx [x * d/dy (x + y)] = 1, not 2: each level differentiates its own variable."""
    def f(x):
        return x * grad(lambda y: x + y)(1.0)
    assert grad(f)(2.0) == 1.0
    # the same with the inner variable being the outer value itself
    assert grad(lambda x: x * grad(lambda y: x * y)(x))(3.0) == pytest.approx(6.0)


def test_trace_levels_are_per_thread():
    results, errors = {}, []

    def work(name, x):
        try:
            def inner(y):
                results[name + "-level"] = autodiff.trace_level()
                return y ** 3
            results[name] = grad(grad(inner))(x)
        except Exception as e:  # noqa: BLE001 (any failure in a thread is reported below)
            errors.append(e)
    threads = [threading.Thread(target=work, args=(f"t{i}", float(i + 1))) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    for i in range(4):
        assert results[f"t{i}"] == pytest.approx(6.0 * (i + 1))
        assert results[f"t{i}-level"] == 2
    assert autodiff.trace_level() == 0


def quadratic_form(A):
    return lambda x: 0.5 * fnp.dot(x, fnp.dot(A, x))


def test_hessian_of_a_quadratic_form():
    A = np.random.default_rng(0).standard_normal((5, 5))
    H = hessian(quadratic_form(A))(np.ones(5))
    np.testing.assert_allclose(H, (A + A.T) / 2, rtol=1e-14, atol=1e-15)


MLP_X = np.linspace(-1, 1, 12).reshape(4, 3)
MLP_LABELS = np.array([0, 1, 1, 0])


def mlp_loss(weights):
    x, labels = MLP_X, MLP_LABELS
    W1 = fnp.reshape(weights[:9], (3, 3))
    W2 = fnp.reshape(weights[9:], (3, 2))
    hidden = fnp.tanh(fnp.dot(x, W1))
    scores = fnp.dot(hidden, W2)
    return fastgrad.softmax_cross_entropy(scores, labels) + 0.1 * fnp.sum(weights ** 4)


W0 = np.random.default_rng(1).standard_normal(15) * 0.5


def test_mlp_hessian_is_symmetric_and_matches_differences_of_the_gradient():
    H = hessian(mlp_loss)(W0)
    np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-14)
    g = grad(mlp_loss)
    eps = 1e-6
    columns = [(g(W0 + eps * e) - g(W0 - eps * e)) / (2 * eps) for e in np.eye(W0.size)]
    np.testing.assert_allclose(H, np.array(columns).T, rtol=1e-6, atol=1e-8)


def test_hessian_vector_products_equal_H_v():
    H = hessian(mlp_loss)(W0)
    v = np.random.default_rng(2).standard_normal(W0.size)
    hvp, gradient = make_hvp(mlp_loss)(W0)
    np.testing.assert_allclose(gradient, grad(mlp_loss)(W0), rtol=1e-14)
    np.testing.assert_allclose(hvp(v), H @ v, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(hessian_tensor_product(mlp_loss)(W0, v), H @ v, rtol=1e-12,
                               atol=1e-14)
    _, forward_over_reverse = make_jvp(grad(mlp_loss))(W0)(v)
    np.testing.assert_allclose(forward_over_reverse, H @ v, rtol=1e-12, atol=1e-14)


def test_jacobian_of_jacobian():
    def f(x):
        return fnp.sin(x) * fnp.sum(x ** 2)
    x = np.array([0.3, -0.5, 0.9])
    J2 = jacobian(jacobian(f))(x)
    eps = 1e-6
    J = jacobian(f)
    numeric = np.stack([(J(x + eps * e) - J(x - eps * e)) / (2 * eps) for e in np.eye(3)], -1)
    assert J2.shape == (3, 3, 3)
    np.testing.assert_allclose(J2, numeric, rtol=1e-6, atol=1e-8)


def test_forward_mode_matches_reverse_mode():
    def f(x):
        return fnp.tanh(fnp.dot(np.arange(6.0).reshape(2, 3), x)) ** 2
    x = np.array([0.1, -0.2, 0.3])
    v = np.array([1.0, 0.5, -2.0])
    value, tangent = make_jvp(f)(x)(v)
    np.testing.assert_allclose(value, f(x))
    np.testing.assert_allclose(tangent, jacobian(f)(x) @ v, rtol=1e-13)
    _, tangent2 = jvp(f, (x,), (v,))
    np.testing.assert_allclose(tangent2, tangent, rtol=0)


def test_ggnvp():
    def f(w):
        return fnp.tanh(fnp.dot(np.arange(6.0).reshape(3, 2) / 6, w))
    w = np.array([0.4, -0.7])
    v = np.array([1.0, 2.0])
    J = jacobian(f)(w)
    # default g = 0.5 * sum(y**2): its Hessian is the identity
    np.testing.assert_allclose(make_ggnvp(f)(w)(v), J.T @ J @ v, rtol=1e-13)


def test_fused_ops_differentiate_like_their_composites():
    rng = np.random.default_rng(3)
    x, W, b = rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)
    labels = np.array([1, 0, 1, 1])

    def fused(W):
        return fastgrad.softmax_cross_entropy(fastgrad.dense(x, W, b, "tanh"), labels)

    def composite(W):
        z = fnp.tanh(fnp.dot(x, W) + b)
        return -fnp.mean(fastgrad.log_softmax(z, 1)[np.arange(4), labels])
    np.testing.assert_allclose(hessian(fused)(W), hessian(composite)(W), rtol=1e-12,
                               atol=1e-14)


def test_backward_create_graph_and_gradients():
    x = fastgrad.Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    y = (x ** 3).sum()
    y.backward(create_graph=True)
    assert x.grad.requires_grad
    np.testing.assert_allclose(x.grad.data, 3 * x.data ** 2)
    gx = x.grad
    x.grad = None
    gx.sum().backward()
    np.testing.assert_allclose(x.grad, 6 * x.data)
    z = fastgrad.tanh(x).sum()
    (g,) = gradients(z, [x], create_graph=True)
    (h,) = gradients(g.sum(), [x])
    t = np.tanh(x.data)
    np.testing.assert_allclose(h.data, -2 * t * (1 - t * t), rtol=1e-14)


def test_second_derivatives_match_torch():
    torch = pytest.importorskip("torch")
    data = np.array([0.3, -0.8, 1.1])
    x = fastgrad.Tensor(data, requires_grad=True)
    y = (fastgrad.sigmoid(x) * fastgrad.sin(x)).sum()
    (g,) = gradients(y, [x], create_graph=True)
    (h,) = gradients((g * g).sum(), [x])
    xt = torch.tensor(data, requires_grad=True)
    yt = (torch.sigmoid(xt) * torch.sin(xt)).sum()
    (gt,) = torch.autograd.grad(yt, [xt], create_graph=True)
    (ht,) = torch.autograd.grad((gt * gt).sum(), [xt])
    np.testing.assert_allclose(h.data, ht.numpy(), rtol=1e-13)


# ---------------------------------------------------------------- errors

def test_non_scalar_output_to_grad():
    with pytest.raises(TypeError, match=r"grad only applies .* shape \(3,\)"):
        grad(lambda x: x * 2)(np.ones(3))
    with pytest.raises(TypeError, match=r"shape \(3,\)"):
        grad(lambda x: fnp.sum(grad(lambda y: y * x)(x)))(np.ones(3))


def test_create_graph_inside_no_grad():
    x = fastgrad.Tensor(np.ones(2), requires_grad=True)
    y = (x * x).sum()
    with fastgrad.no_grad():
        with pytest.raises(RuntimeError, match="create_graph=True inside no_grad"):
            gradients(y, [x], create_graph=True)
        with pytest.raises(RuntimeError, match="create_graph=True inside no_grad"):
            y.backward(create_graph=True)


def test_primitive_without_jvp_in_forward_mode():
    @primitive
    def double(x):
        return 2 * x
    defvjp(double, lambda ans, x: lambda g: 2 * g)
    np.testing.assert_allclose(grad(lambda x: fnp.sum(double(x)))(np.ones(2)), [2.0, 2.0])
    with pytest.raises(NotImplementedError, match=r"double: no JVP.*defjvp"):
        make_jvp(double)(np.ones(2))(np.ones(2))


def test_once_differentiable_primitive_names_itself():
    @primitive
    def norm2(x):
        return np.sqrt(np.sum(x * x))
    defvjp(norm2, lambda ans, x: lambda g: g * x / np.linalg.norm(x))  # not on traced values
    x = np.array([3.0, 4.0])
    np.testing.assert_allclose(grad(norm2)(x), x / 5)
    with pytest.raises(NotImplementedError, match="norm2 is once-differentiable"):
        hessian(norm2)(x)


def test_freed_graph_names_the_op():
    x = fastgrad.Tensor(np.ones(2), requires_grad=True)
    y = fastgrad.exp(x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="freed"):
        gradients(y, [x])


def test_make_vjp_nested():
    def f(x):
        vjp, _ = make_vjp(fnp.sin)(x)
        return fnp.sum(vjp(np.ones(3)))   # sum cos(x)
    x = np.array([0.1, 0.2, 0.3])
    np.testing.assert_allclose(grad(f)(x), -np.sin(x), rtol=1e-15)


def test_value_create_graph_and_grad_on_floats_agree():
    a = fastgrad.Value(2.0)
    (a * a * a).backward(create_graph=True)   # more in tests/test_value_create_graph.py
    g = a.grad
    a.zero_grad()
    g.backward()
    assert a.grad == grad(grad(lambda x: x * x * x))(2.0) == 12.0


def test_gradients_flow_through_an_input_to_the_inputs_behind_it():
    """torch.autograd.grad's meaning: an interior input does not stop the flow to a leaf."""
    t = fastgrad.Tensor([1.0, 2.0], requires_grad=True)
    z = t * 3.0
    gz, gt = gradients((z ** 2).sum(), [z, t])
    np.testing.assert_allclose(gz.data, [6.0, 12.0])
    np.testing.assert_allclose(gt.data, [18.0, 36.0])
