"""fastgrad.numpy's front doors (csrc/dispatch.pyx; twin fastgrad/_py/dispatch.py): the op itself
for a traced value without options, the face's full function, called with exactly the caller's
arguments, for everything else. The twin's factories return the full function itself."""
import numpy as np
import pytest

from fastgrad import _backend

NoValue = np._NoValue


def compiled():
    if _backend.active.name != "cython":  # its nodes need the Tensor type of the active backend
        pytest.skip("the compiled backend is not the active one")
    return _backend.active


class Calls:
    """Stands in for an op or a fallback: records its arguments, returns a marker."""

    def __init__(self, name):
        self.name = name
        self.seen = []

    def __call__(self, *args, **kwargs):
        self.seen.append((args, kwargs))
        return self.name


def doors(factory):
    op, fallback = Calls("op"), Calls("fallback")
    return factory(op, fallback), op, fallback


def traced(bk, shape=(3,)):
    return bk.node.new_node(np.arange(float(np.prod(shape))).reshape(shape), True)


def test_unary_and_binary():
    bk = compiled()
    x, y = traced(bk), traced(bk)
    f, op, fallback = doors(bk.dispatch.unary)
    assert f(x) == "op" and op.seen == [((x,), {})]
    out = np.empty(3)
    assert f(x, out) == "fallback" and fallback.seen[-1] == ((x, out), {})
    assert f(x, where=True) == "fallback" and fallback.seen[-1] == ((x,), {"where": True})
    plain = np.ones(3)
    assert f(plain) == "fallback" and fallback.seen[-1] == ((plain,), {})
    assert f([x, x]) == "fallback"  # a list holding traced values: the face stacks it
    g, op, fallback = doors(bk.dispatch.binary)
    assert g(x, y) == "op" and g(2.0, y) == "op" and g(x, plain) == "op"
    assert op.seen == [((x, y), {}), ((2.0, y), {}), ((x, plain), {})]
    assert g(x, y, out=out) == "fallback" and fallback.seen[-1] == ((x, y, out), {})
    assert g(x, y, dtype=None) == "fallback" and fallback.seen[-1] == ((x, y), {"dtype": None})
    assert g(plain, plain) == "fallback" and fallback.seen[-1] == ((plain, plain), {})


def test_reductions():
    bk = compiled()
    x = traced(bk, (2, 3))
    f, op, fallback = doors(bk.dispatch.summing)
    assert f(x) == "op" and f(x, 1, keepdims=True) == "op" and f(x, keepdims=0) == "op"
    assert op.seen == [((x, None, False), {}), ((x, 1, True), {}), ((x, None, False), {})]
    assert f(x, None, np.float64) == "fallback"
    assert fallback.seen[-1] == ((x, None, np.float64, None, NoValue, NoValue, NoValue), {})
    assert f(x, initial=1.0) == "fallback"
    assert fallback.seen[-1] == ((x, None, None, None, NoValue, 1.0, NoValue), {})
    m, op, fallback = doors(bk.dispatch.averaging)
    assert m(x, 0) == "op" and op.seen == [((x, 0, False), {})]
    assert m(x, where=True) == "fallback"
    assert fallback.seen[-1] == ((x, None, None, None, NoValue), {"where": True})
    e, op, fallback = doors(bk.dispatch.extreme)
    assert e(x, axis=1, keepdims=True) == "op" and op.seen == [((x, 1, True), {})]
    assert e(x, initial=0.0) == "fallback"
    assert fallback.seen[-1] == ((x, None, None, NoValue, 0.0, NoValue), {})
    plain = np.ones((2, 3))
    for door in (f, m, e):
        assert door(plain) == "fallback"


def test_product():
    bk = compiled()
    f, op, fallback = doors(bk.dispatch.product)
    v, W, T = traced(bk, (3,)), traced(bk, (3, 2)), traced(bk, (2, 3, 2))
    assert f(v, W) == "op" and f(np.ones(3), W) == "op" and f(v, np.ones((3, 2))) == "op"
    assert len(op.seen) == 3
    u = v[:2]
    assert f(T, u) == "fallback" and fallback.seen[-1] == ((T, u, None), {})  # N-d: tensordot
    row = [1.0, 2.0, 3.0]
    assert f(row, W) == "fallback" and fallback.seen[-1] == ((row, W, None), {})  # a list
    out = np.empty(2)
    assert f(v, W, out) == "fallback" and fallback.seen[-1] == ((v, W, out), {})
    assert f(np.ones(3), np.ones((3, 2))) == "fallback" and len(fallback.seen) == 4


def test_twin_factories_return_the_full_function():
    twin = _backend.load("python").dispatch
    fallback = Calls("fallback")
    for factory in (twin.unary, twin.binary, twin.summing, twin.averaging, twin.extreme,
                    twin.product):
        assert factory(Calls("op"), fallback) is fallback


def test_face_functions_keep_numpy_names_and_values():
    import fastgrad.numpy as fnp
    from fastgrad import grad

    assert fnp.exp.__name__ == "exp" and fnp.exp.nin == 1 and fnp.add.nargs == 3
    assert fnp.sum.__name__ == "sum" and fnp.dot.__name__ == "dot"
    x, W = np.linspace(-1, 1, 3), np.linspace(0, 1, 6).reshape(3, 2)

    def loss(W):
        h = fnp.exp(fnp.dot(x, W))
        return fnp.sum(h / fnp.max(h)) + fnp.mean(fnp.log(h), keepdims=True)[0]

    h = np.exp(x @ W)
    assert np.isclose(loss(W), np.sum(h / h.max()) + np.mean(np.log(h)))
    eps = 1e-6
    numeric = np.zeros_like(W)
    for i in np.ndindex(W.shape):
        d = np.zeros_like(W)
        d[i] = eps
        numeric[i] = (loss(W + d) - loss(W - d)) / (2 * eps)
    np.testing.assert_allclose(grad(loss)(W), numeric, rtol=1e-6, atol=1e-8)
