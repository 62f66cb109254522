"""grad, value_and_grad, elementwise_grad, jacobian, grad_and_aux, make_vjp: arguments,
structures, dtypes and the rules of the functional API, on both backends."""
import collections

import numpy as np
import pytest
from autodiff_helpers import PER_BACKEND, face_of, numeric_grad

import fastgrad
from fastgrad import autodiff


@pytest.fixture(**PER_BACKEND)
def ag(request):
    """The autograd face of one backend (.np, .grad, ...): the test runs once per backend."""
    return face_of(request.param)


def quadratic(ag):
    """f(x, y) = sum(x**2 * y) + 3 * sum(y): df/dx = 2xy, df/dy = x**2 + 3."""
    def f(x, y):
        return ag.np.sum(x ** 2 * y) + 3.0 * ag.np.sum(y)
    return f


X = np.array([1.0, -2.0, 0.5])
Y = np.array([0.3, 0.7, -1.1])


def test_grad_argnum_int(ag):
    f = quadratic(ag)
    np.testing.assert_allclose(ag.grad(f)(X, Y), 2 * X * Y, rtol=1e-15)
    np.testing.assert_allclose(ag.grad(f, 1)(X, Y), X ** 2 + 3, rtol=1e-15)
    np.testing.assert_allclose(ag.grad(f, -1)(X, Y), X ** 2 + 3, rtol=1e-15)


def test_grad_argnum_tuple(ag):
    gx, gy = ag.grad(quadratic(ag), (0, 1))(X, Y)
    np.testing.assert_allclose(gx, 2 * X * Y, rtol=1e-15)
    np.testing.assert_allclose(gy, X ** 2 + 3, rtol=1e-15)
    gy2, gx2 = ag.grad(quadratic(ag), (1, 0))(X, Y)
    np.testing.assert_array_equal(gx2, gx)
    np.testing.assert_array_equal(gy2, gy)


def test_grad_returns_plain_numpy(ag):
    g = ag.grad(quadratic(ag))(X, Y)
    assert type(g) is np.ndarray and g.dtype == np.float64 and g.shape == X.shape


def test_arguments_are_not_copied_or_modified(ag):
    x, y = X.copy(), Y.copy()
    ag.grad(quadratic(ag))(x, y)
    np.testing.assert_array_equal(x, X)
    np.testing.assert_array_equal(y, Y)


def test_keyword_arguments_pass_through(ag):
    def f(x, scale=1.0):
        return scale * ag.np.sum(ag.np.tanh(x))
    np.testing.assert_allclose(ag.grad(f)(X, scale=2.0), 2 * (1 - np.tanh(X) ** 2),
                               rtol=1e-14)


def test_nested_structures(ag):
    """Lists, tuples, dicts and namedtuples of arrays and floats: same structure back."""
    Pair = collections.namedtuple("Pair", "w b")
    params = {"layers": [Pair(np.ones((2, 2)), np.zeros(2)), (np.arange(3.0), 2.0)],
              "scale": np.float64(1.5)}

    def f(p):
        (l0, (v, c)) = p["layers"]
        h = ag.np.dot(np.array([1.0, 2.0]), l0.w) + l0.b
        return p["scale"] * ag.np.sum(h * h) + c * ag.np.sum(v ** 3)

    g = ag.grad(f)(params)
    assert set(g) == {"layers", "scale"}
    assert type(g["layers"]) is list and isinstance(g["layers"][0], Pair)
    assert type(g["layers"][1]) is tuple
    assert type(g["layers"][1][1]) is float
    assert isinstance(g["scale"], np.float64) and not isinstance(g["scale"], np.ndarray)
    h = np.array([1.0, 2.0]) @ np.ones((2, 2))
    np.testing.assert_allclose(g["layers"][0].w, 1.5 * 2 * np.outer([1.0, 2.0], h))
    np.testing.assert_allclose(g["layers"][0].b, 1.5 * 2 * h)
    np.testing.assert_allclose(g["layers"][1][0], 2.0 * 3 * np.arange(3.0) ** 2)
    assert g["layers"][1][1] == pytest.approx(np.sum(np.arange(3.0) ** 3))
    assert g["scale"] == pytest.approx(np.sum(h * h))


def test_same_array_twice_gets_one_gradient_per_position(ag):
    W = np.array([[1.0, 2.0], [3.0, 4.0]])

    def f(ws):
        return ag.np.sum(ws[0] * 2.0) + ag.np.sum(ws[1] * 5.0)
    g0, g1 = ag.grad(f)([W, W])
    np.testing.assert_array_equal(g0, np.full((2, 2), 2.0))
    np.testing.assert_array_equal(g1, np.full((2, 2), 5.0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_preserved(ag, dtype):
    w = [np.ones((3, 2), dtype), np.full(2, 0.5, dtype)]
    x = np.linspace(-1, 1, 3)  # float64 data meeting float32 weights stays float32

    def f(w):
        return ag.np.sum(ag.np.tanh(ag.np.dot(x, w[0]) + w[1]) ** 2)
    g = ag.grad(f)(w)
    assert [gi.dtype for gi in g] == [np.dtype(dtype)] * 2
    value, g2 = ag.value_and_grad(f)(w)
    assert np.asarray(value).dtype == dtype
    assert g2[0].dtype == dtype


def test_float_and_numpy_scalar_arguments(ag):
    g = ag.grad(lambda x: x * x * 3.0)(2.0)
    assert type(g) is float and g == 12.0
    g32 = ag.grad(lambda x: ag.np.exp(x))(np.float32(1.0))
    assert type(g32) is np.float32 and g32 == pytest.approx(np.e, rel=1e-6)
    g0d = ag.grad(lambda x: ag.np.sin(x))(np.array(0.5))
    assert type(g0d) is np.ndarray and g0d.shape == () and g0d == pytest.approx(np.cos(0.5))


def test_integers_are_refused(ag):
    with pytest.raises(TypeError, match="int64"):
        ag.grad(lambda x: ag.np.sum(x * x))(np.arange(3))
    with pytest.raises(TypeError, match="3.0 rather than 3"):
        ag.grad(lambda x: x * x)(3)
    with pytest.raises(TypeError, match="str"):
        ag.grad(lambda x: 1.0)("abc")


def test_non_scalar_output_is_refused_by_grad(ag):
    with pytest.raises(TypeError, match=r"shape \(3,\).*jacobian or elementwise_grad"):
        ag.grad(lambda x: x * 2.0)(X)


def test_single_element_output_is_accepted(ag):
    g = ag.grad(lambda x: ag.np.reshape(ag.np.sum(x * x), (1, 1)))(X)
    np.testing.assert_allclose(g, 2 * X)


def test_output_independent_of_input_gives_zeros(ag):
    with pytest.warns(UserWarning, match="independent"):
        g = ag.grad(lambda x, y: ag.np.sum(y * y))(X, Y)
    np.testing.assert_array_equal(g, np.zeros(3))
    with pytest.warns(UserWarning, match="independent"):
        assert ag.grad(lambda x: 5.0)(2.0) == 0.0


def test_unused_leaf_gets_zeros(ag):
    g = ag.grad(lambda p: ag.np.sum(p[0] ** 2))([X, Y])
    np.testing.assert_allclose(g[0], 2 * X)
    np.testing.assert_array_equal(g[1], np.zeros(3))


def test_non_numeric_output_is_refused(ag):
    with pytest.raises(TypeError, match="list"):
        ag.grad(lambda x: [x])(X)


def test_value_and_grad(ag):
    f = quadratic(ag)
    value, g = ag.value_and_grad(f)(X, Y)
    assert value == pytest.approx(np.sum(X ** 2 * Y) + 3 * np.sum(Y), rel=1e-15)
    assert isinstance(value, np.float64)
    np.testing.assert_allclose(g, 2 * X * Y, rtol=1e-15)
    value2, (gx, gy) = ag.value_and_grad(f, (0, 1))(X, Y)
    assert value2 == value
    np.testing.assert_allclose(gx, 2 * X * Y, rtol=1e-15)
    np.testing.assert_allclose(gy, X ** 2 + 3, rtol=1e-15)


def test_grad_and_aux(ag):
    def f(x):
        h = ag.np.tanh(x)
        return ag.np.sum(h), {"h": h, "n": 3}
    g, aux = ag.grad_and_aux(f)(X)
    np.testing.assert_allclose(g, 1 - np.tanh(X) ** 2, rtol=1e-14)
    assert type(aux["h"]) is np.ndarray and aux["n"] == 3
    np.testing.assert_allclose(aux["h"], np.tanh(X), rtol=1e-15)
    with pytest.raises(TypeError, match="pair"):
        ag.grad_and_aux(lambda x: ag.np.sum(x))(X)


def test_elementwise_grad(ag):
    eg = ag.elementwise_grad(lambda x: ag.np.tanh(x) * 2.0)(X)
    np.testing.assert_allclose(eg, 2 * (1 - np.tanh(X) ** 2), rtol=1e-14)
    # not elementwise: the sums of the Jacobian's columns
    A = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(ag.elementwise_grad(lambda x: ag.np.dot(A, x))(X), A.sum(0))


def test_jacobian(ag):
    A = np.array([[1.0, 2.0, 0.0], [0.5, -1.0, 3.0]])

    def f(x):
        return ag.np.tanh(ag.np.dot(A, x)) * x[0]
    J = ag.jacobian(f)(X)
    assert J.shape == (2, 3)
    for j in range(3):
        def column(xj, j=j):
            x = X.copy()
            x[j] = xj
            return np.tanh(A @ x) * x[0]
        eps = 1e-6
        fd = (column(X[j] + eps) - column(X[j] - eps)) / (2 * eps)
        np.testing.assert_allclose(J[:, j], fd, rtol=1e-6, atol=1e-9)


def test_jacobian_of_matrix_function_and_structures(ag):
    M = np.array([[1.0, 2.0], [3.0, 4.0]])
    J = ag.jacobian(lambda m: m * 2.0)(M)
    assert J.shape == (2, 2, 2, 2)
    np.testing.assert_array_equal(J.reshape(4, 4), 2 * np.eye(4))
    Jx, Jy = ag.jacobian(lambda x, y: x * y, (0, 1))(X, Y)
    np.testing.assert_array_equal(Jx, np.diag(Y))
    np.testing.assert_array_equal(Jy, np.diag(X))


def test_make_vjp(ag):
    A = np.arange(6.0).reshape(2, 3)
    vjp, value = ag.make_vjp(lambda x: ag.np.dot(A, x))(X)
    np.testing.assert_allclose(value, A @ X)
    np.testing.assert_allclose(vjp(np.array([1.0, 0.0])), A[0])
    np.testing.assert_allclose(vjp(np.array([0.0, 2.0])), 2 * A[1])  # reusable
    with pytest.raises(ValueError, match="shape"):
        vjp(np.ones(3))


def test_nested_grad_is_the_second_derivative(ag):
    """sum(grad f) = sum(2xy): its gradient in x is 2y (grad of grad, once refused)."""
    f = quadratic(ag)
    np.testing.assert_allclose(ag.grad(lambda x: ag.np.sum(ag.grad(f)(x, Y)))(X), 2 * Y,
                               rtol=1e-15)


def test_closure_over_outer_traced_value_is_differentiated(ag):
    """A nested grad whose function closes over a value the outer grad traces: the inner
    gradient (w) carries its dependence on w, so the outer gradient is d/dw sum(w) * 3."""
    def outer(w):
        inner = ag.grad(lambda x: ag.np.sum(x * w))(X)
        return ag.np.sum(inner)
    np.testing.assert_allclose(ag.grad(outer)(Y), np.ones(3), rtol=1e-15)


def test_outside_tensor_requiring_grad_is_refused(ag):
    w = fastgrad.Tensor(Y, requires_grad=True)
    with pytest.raises(NotImplementedError, match="requires_grad"):
        ag.grad(lambda x: ag.np.sum(x * w))(X)
    assert w.grad is None  # the refused sweep left it untouched


def test_constant_tensor_argument_is_its_values(ag):
    g = ag.grad(lambda x: ag.np.sum(x * x))(fastgrad.Tensor(X))
    np.testing.assert_allclose(g, 2 * X)


def test_grad_records_inside_no_grad(ag):
    with fastgrad.no_grad():
        g = ag.grad(lambda x: ag.np.sum(x * x))(X)
        assert not ag.bk.node.is_grad_enabled()
    np.testing.assert_allclose(g, 2 * X)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_nan_gradient_raises_naming_the_op(ag):
    with pytest.raises(FloatingPointError, match="log"):
        ag.grad(lambda x: ag.np.sum(ag.np.log(x)))(np.array([1.0, 0.0]))
    previous = fastgrad.set_finite_check(False)
    try:
        g = ag.grad(lambda x: ag.np.sum(ag.np.log(x)))(np.array([1.0, 0.0]))
        assert g[0] == 1.0 and np.isinf(g[1])
    finally:
        fastgrad.set_finite_check(previous)


def test_argnum_validation(ag):
    with pytest.raises(TypeError, match="argnum"):
        ag.grad(lambda x: x, "0")


def test_repeated_calls_are_independent(ag):
    gf = ag.grad(quadratic(ag))
    first = gf(X, Y)
    second = gf(X, Y)
    np.testing.assert_array_equal(first, second)
    assert first is not second


def test_function_names(ag):
    def loss(w):
        return ag.np.sum(w)
    assert ag.grad(loss).__name__ == "grad_of_loss_wrt_argnum_0"


def test_against_finite_differences_on_a_composite(ag):
    np_ = ag.np

    def f(x):
        return np_.sum(np_.log1p(np_.exp(np_.sin(x) * x))) / np_.mean(np_.sqrt(x * x + 1.0))
    x = np.array([0.3, -1.2, 2.0, 0.7])
    np.testing.assert_allclose(ag.grad(f)(x), numeric_grad(f, x), rtol=1e-6, atol=1e-9)


def test_public_grad_is_the_active_backend():
    assert fastgrad.grad is fastgrad.autodiff.grad


def test_usual_call_and_general_path_agree(ag):
    """grad's usual call (float arrays in, a 0-d float Tensor out: one compiled step) gives what
    the general path (here a tuple argument, a (1,)-shaped result) gives, to the bit."""
    def f(ws):
        return ag.np.sum(ag.np.tanh(ws[0]) * ws[1])

    usual = ag.grad(f)([X, Y])
    general = ag.grad(f)((X, Y))
    assert type(usual) is list and type(general) is tuple
    for a, b in zip(usual, general):
        np.testing.assert_array_equal(a, b)
    kept = ag.grad(lambda x: ag.np.sum(x * x, keepdims=True))(X)  # a (1,) result
    np.testing.assert_array_equal(kept, ag.grad(lambda x: ag.np.sum(x * x))(X))
    g32 = ag.grad(lambda x: ag.np.sum(x * x))(X.astype(np.float32))
    assert g32.dtype == np.float32
    np.testing.assert_array_equal(g32, 2 * X.astype(np.float32))
    with pytest.warns(UserWarning, match="independent"):
        assert np.all(ag.grad(lambda x: 1.0)(X) == 0)
    g_unused = ag.grad(lambda ws: ag.np.sum(ws[0]))([X, Y])
    np.testing.assert_array_equal(g_unused[1], np.zeros(3))


def test_usual_call_restores_state_when_the_function_raises(ag):
    def broken(x):
        assert autodiff.trace_level() == 1 and ag.bk.node.is_grad_enabled()
        raise KeyError("broken")
    with fastgrad.no_grad():
        with pytest.raises(KeyError, match="broken"):
            ag.grad(broken)(X)
        assert not ag.bk.node.is_grad_enabled()
    assert autodiff.trace_level() == 0
    np.testing.assert_allclose(ag.grad(lambda x: ag.np.sum(x * x))(X), 2 * X)
