"""Custom primitives: @primitive and defvjp (autograd's API), on both backends."""
import numpy as np
import pytest
from autodiff_helpers import PER_BACKEND, face_of, numeric_grad

from fastgrad.extend import defvjp, defvjp_argnum, notrace_primitive, primitive


@pytest.fixture(**PER_BACKEND)
def ag(request):
    """The autograd face of one backend (.np, .grad, ...): the test runs once per backend."""
    return face_of(request.param)


@primitive
def logsumexp(x):
    """log(sum(exp(x))) without overflow (autograd's tutorial primitive)."""
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


defvjp(logsumexp, lambda ans, x: lambda g: g * np.exp(x - ans))


@primitive
def scaled_product(x, y, scale=1.0):
    return scale * x * y


defvjp(scaled_product,
       lambda ans, x, y, scale=1.0: lambda g: scale * g * y,   # broadcast: summed back
       lambda ans, x, y, scale=1.0: lambda g: scale * g * x)


@primitive
def only_first(x, y):
    return x + 2 * y


defvjp(only_first, lambda ans, x, y: lambda g: g)


X = np.array([0.5, -1.0, 2.0])


def test_plain_call_is_the_function():
    assert logsumexp(X) == pytest.approx(np.log(np.sum(np.exp(X))), rel=1e-15)
    assert logsumexp.fun(X) == logsumexp(X)
    assert logsumexp.__name__ == "logsumexp" and "overflow" in logsumexp.__doc__


def test_gradient_through_primitive(ag):
    def f(x):
        return logsumexp(x * 2.0) * 3.0
    np.testing.assert_allclose(ag.grad(f)(X), numeric_grad(f, X), rtol=1e-7)


def test_records_one_custom_node(ag):
    from fastgrad._py.opcodes import OP_CUSTOM
    seen = {}

    def f(x):
        out = logsumexp(x)
        seen["op"], seen["type"] = out._op, type(out)
        return out
    ag.grad(f)(X)
    assert seen["op"] == OP_CUSTOM and seen["type"]._backend is ag.bk


def test_two_arguments_broadcast_and_keywords(ag):
    y = np.array([[1.0], [2.0]])

    def f(x, y):
        return ag.np.sum(scaled_product(x, y, scale=0.5) ** 2)
    gx, gy = ag.grad(f, (0, 1))(X, y)
    assert gx.shape == X.shape and gy.shape == y.shape
    np.testing.assert_allclose(gx, numeric_grad(lambda x: f(x, y), X), rtol=1e-6)
    np.testing.assert_allclose(gy, numeric_grad(lambda y_: f(X, y_), y), rtol=1e-6)


def test_same_argument_twice(ag):
    g = ag.grad(lambda x: ag.np.sum(scaled_product(x, x)))(X)
    np.testing.assert_allclose(g, 2 * X)


def test_constant_argument_needs_no_vjp(ag):
    g = ag.grad(lambda x: ag.np.sum(only_first(x, X)))(X)
    np.testing.assert_array_equal(g, np.ones(3))


def test_missing_vjp_raises_at_the_call_naming_it(ag):
    with pytest.raises(NotImplementedError, match=r"only_first: no VJP .* argument 1"):
        ag.grad(lambda y: ag.np.sum(only_first(X, y)))(X)


def test_primitive_without_any_vjp(ag):
    @primitive
    def cube(x):
        return x ** 3
    with pytest.raises(NotImplementedError, match="cube"):
        ag.grad(lambda x: ag.np.sum(cube(x)))(X)
    assert np.array_equal(cube(X), X ** 3)


def test_vjp_of_wrong_shape_is_reported(ag):
    @primitive
    def bad(x):
        return np.sum(x)
    defvjp(bad, lambda ans, x: lambda g: np.ones(7))
    with pytest.raises(ValueError, match=r"bad: the VJP for argument 0 returned shape \(7,\)"):
        ag.grad(bad)(X)


def test_traced_values_in_lists_or_keywords_are_refused(ag):
    with pytest.raises(TypeError, match="list or tuple holding traced"):
        ag.grad(lambda x: logsumexp([x, x]))(X)
    with pytest.raises(TypeError, match="positional"):
        ag.grad(lambda y: ag.np.sum(scaled_product(X, X, scale=y)))(2.0)


def test_non_float_result_on_traced_value_is_refused(ag):
    @primitive
    def count(x):
        return np.int64(3)
    defvjp(count, lambda ans, x: lambda g: g)
    with pytest.raises(TypeError, match="count: returned int64"):
        ag.grad(count)(X)


def test_float32_preserved(ag):
    g = ag.grad(lambda x: logsumexp(x))(X.astype(np.float32))
    assert g.dtype == np.float32


def test_defvjp_argnum(ag):
    @primitive
    def weighted(x, y):
        return np.sum(x * y)

    def maker(argnum, ans, args, kwargs):
        other = args[1 - argnum]
        return lambda g: g * other
    defvjp_argnum(weighted, maker)
    gx, gy = ag.grad(weighted, (0, 1))(X, X[::-1].copy())
    np.testing.assert_array_equal(gx, X[::-1])
    np.testing.assert_array_equal(gy, X)


def test_defvjp_needs_a_primitive():
    with pytest.raises(TypeError, match="not a primitive"):
        defvjp(np.sin, lambda ans, x: lambda g: g)


def test_notrace_primitive(ag):
    argmax = notrace_primitive(np.argmax)

    def f(x):
        return x[int(argmax(x))] * 2.0
    np.testing.assert_array_equal(ag.grad(f)(X), [0.0, 0.0, 2.0])
