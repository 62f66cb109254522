"""The recorded reverse sweep's compiled module (csrc/recorded_sweep.pyx) against its twin
(fastgrad/_py/recorded_sweep.py): the same gradients, bit for bit, and the same recorded graphs
(their own derivatives agree too), on float64 and float32; and the module recorded.py runs is
the backend's."""
import numpy as np
import pytest
from conftest import compiled_available

import fastgrad
import fastgrad.numpy as fnp
from fastgrad import _backend, recorded
from fastgrad._py import recorded_sweep as twin
from fastgrad.autodiff import grad, hessian, hessian_tensor_product, make_hvp

DTYPES = [np.float64, np.float32]
TOL = {np.float64: 1e-12, np.float32: 1e-5}


def _mlp_loss(w, x, t):
    """W2's loss of a flat weight vector: row slices, matmul, sigmoid, softmax, log."""
    W0 = fnp.reshape(w[:9], (3, 3))
    W1 = fnp.reshape(w[9:], (3, 2))
    hidden = 1 / (1 + fnp.exp(-fnp.dot(x, W0)))
    z = fnp.dot(hidden, W1)
    e = fnp.exp(z - fnp.max(z))
    p = e / fnp.sum(e)
    return -fnp.sum(t * fnp.log(p))


def _graphs(dtype):
    """(output, inputs) pairs covering what the sweep does per node: row slices joined,
    the fused div, reductions broadcast back, several inputs, one input behind another."""
    rng = np.random.default_rng(0)
    T = fastgrad.Tensor
    w = T(rng.normal(size=15).astype(dtype), requires_grad=True)
    x = rng.normal(size=3).astype(dtype)
    t = np.array([0.0, 1.0], dtype)
    yield "mlp", _mlp_loss(w, x, t), [w]
    a = T(rng.uniform(0.5, 2, (3, 4)).astype(dtype), requires_grad=True)
    b = T(rng.uniform(0.5, 2, (4,)).astype(dtype), requires_grad=True)
    yield "div-broadcast", ((a / b).tanh() * a).sum(), [a, b]
    h = a * b
    yield "input-behind-input", (h.exp() * a).sum(), [a, h]
    yield "overlapping-slices", (a[0:2].tanh() * a[1:3]).sum(), [a]


def _run(module, out, inputs, create_graph=True):
    """module.reverse on the graph of ``out`` (recorded when ``create_graph``)."""
    wanted = {id(x) for x in inputs}
    order = recorded._order([out], wanted)
    if len(inputs) > 1:
        order = recorded._sort([out], (), freed_ok=True)
    previous = fastgrad.engine._set_grad_enabled(create_graph)
    try:
        return module.reverse([out], list(inputs), [None], order, recorded.FUSED,
                              recorded.JOIN_ROWS)
    finally:
        fastgrad.engine._set_grad_enabled(previous)


def _second(gs, inputs):
    """d/d(inputs) of sum_k sum(g_k * v_k) (v fixed): the recorded graphs' own derivative."""
    rng = np.random.default_rng(1)
    total = None
    for g in gs:
        v = rng.normal(size=g.data.shape).astype(g.data.dtype)
        term = (g * v).sum()
        total = term if total is None else total + term
    return [g.data for g in recorded.gradients(total, inputs)]


def test_recorded_py_runs_the_backends_module():
    assert _backend.active.recorded_sweep.__name__ == f"{_backend.PACKAGES[_backend.active.name]}" \
                                                     f".recorded_sweep"
    calls = []
    module = _backend.active.recorded_sweep
    real = module.reverse

    class Spy:
        def __getattr__(self, name):
            return getattr(module, name)

        def reverse(self, *args):
            calls.append(1)
            return real(*args)

    bk = _backend.active
    bk.recorded_sweep = Spy()
    try:
        w = fastgrad.Tensor(np.ones(3), requires_grad=True)
        (g,) = recorded.gradients((w * w).sum(), [w])
    finally:
        bk.recorded_sweep = module
    np.testing.assert_array_equal(g.data, 2 * np.ones(3))
    assert calls


@pytest.mark.skipif(not compiled_available() or _backend.active.name != "cython",
                    reason="the compiled module is not in use")
@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_compiled_reverse_equals_twin(dtype):
    compiled = _backend.load("cython").recorded_sweep
    for (name, out, inputs), (_, out2, inputs2) in zip(_graphs(dtype), _graphs(dtype)):
        got = _run(compiled, out, inputs)
        want = _run(twin, out2, inputs2)
        for g, h in zip(got, want):
            assert g.data.dtype == h.data.dtype == dtype, name
            np.testing.assert_array_equal(g.data, h.data, err_msg=name)
            assert g.requires_grad and h.requires_grad, name
        for g, h in zip(_second(got, inputs), _second(want, inputs2)):
            np.testing.assert_allclose(g, h, rtol=TOL[dtype], atol=TOL[dtype], err_msg=name)


@pytest.mark.skipif(not compiled_available() or _backend.active.name != "cython",
                    reason="the compiled module is not in use")
def test_compiled_functions_equal_twins():
    compiled = _backend.load("cython").recorded_sweep
    rng = np.random.default_rng(2)
    for dtype in DTYPES:
        w = fastgrad.Tensor(rng.normal(size=(6, 2)).astype(dtype), requires_grad=True)
        y = w[1:3]
        assert compiled.rows_taken(y) == twin.rows_taken(y) == (1, 3)
        assert compiled.rows_taken(w[:, 0]) is twin.rows_taken(w[:, 0]) is None
        order = recorded._order([(y * y).sum()], {id(w)})
        assert compiled.reaching(order, {id(w)}) == twin.reaching(order, {id(w)})
        g = fastgrad.Tensor(np.ones((2, 2), dtype))
        pieces = [(4, 6, g), (1, 3, g)]
        a, b = compiled.joined(list(pieces), w), twin.joined(list(pieces), w)
        np.testing.assert_array_equal(a.data, b.data)
        assert a.data.dtype == dtype
        c = fastgrad.Tensor(np.ones((3, 6, 2)))
        np.testing.assert_array_equal(compiled.fit(c, w).data, twin.fit(c, w).data)
        assert compiled.fit(c, w).data.dtype == dtype
        s = fastgrad.Tensor(np.array(2.0, dtype), requires_grad=True)
        assert compiled.seed(s, None, "x").data == twin.seed(s, None, "x").data == 1
        with pytest.raises(ValueError, match="grad_outputs has shape"):
            compiled.seed(s, np.ones(2), "x")


@pytest.mark.skipif(not compiled_available() or _backend.active.name != "cython",
                    reason="the compiled module is not in use")
def test_compiled_reverse_refuses_another_backends_nodes():
    compiled = _backend.load("cython").recorded_sweep
    py = _backend.load("python")
    x = object.__new__(py.node.Node)  # a twin's node (its Tensor class is not set up here)
    with pytest.raises(TypeError, match="cannot mix backends"):
        compiled.reverse([x], [x], [None], [x], {}, True)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_hvp_hessian_and_reuse_agree(dtype):
    """The H1 benchmark's three ways to the Hessian of W2's loss agree (and with an HVP of the
    full Hessian) on the sweep the backend runs."""
    rng = np.random.default_rng(3)
    w = rng.normal(size=15).astype(dtype)
    x = rng.normal(size=3).astype(dtype)
    t = np.array([1.0, 0.0], dtype)
    v = rng.normal(size=15).astype(dtype)

    def loss(w):
        return _mlp_loss(w, x, t)
    H = hessian(loss)(w)
    hv = hessian_tensor_product(loss)(w, v)
    hvp, g = make_hvp(loss)(w)
    assert H.dtype == hv.dtype == dtype
    np.testing.assert_allclose(hv, H @ v, rtol=100 * TOL[dtype], atol=100 * TOL[dtype])
    np.testing.assert_allclose(hvp(v), hv, rtol=TOL[dtype], atol=TOL[dtype])
    np.testing.assert_allclose(g, grad(loss)(w), rtol=TOL[dtype], atol=TOL[dtype])
    np.testing.assert_allclose(H, H.T, rtol=100 * TOL[dtype], atol=100 * TOL[dtype])


def test_hvp_against_finite_differences():
    """H v of W2's loss against central differences of its gradient (float64)."""
    rng = np.random.default_rng(4)
    w, x, v = rng.normal(size=15), rng.normal(size=3), rng.normal(size=15)
    t = np.array([0.0, 1.0])

    def loss(w):
        return _mlp_loss(w, x, t)
    eps = 1e-6
    g = grad(loss)
    fd = (g(w + eps * v) - g(w - eps * v)) / (2 * eps)
    np.testing.assert_allclose(hessian_tensor_product(loss)(w, v), fd, rtol=1e-6, atol=1e-8)
