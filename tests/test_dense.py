"""The fused dense op: hand formulas, both compiled paths (typed loops and BLAS) against the
twin, float32/float64, every activation, with/without bias, x requiring grad or not, errors.
(Finite-difference checks are the dense_* cases in cases.py.)"""
import numpy as np
import pytest

ACTS = [None, "tanh", "relu", "sigmoid"]
TOLERANCE = {np.float64: {"rtol": 1e-12, "atol": 1e-12}, np.float32: {"rtol": 2e-5, "atol": 2e-5}}


def act_value(z, act):
    if act == "tanh":
        return np.tanh(z)
    if act == "relu":
        return np.maximum(z, 0)
    if act == "sigmoid":
        return 1 / (1 + np.exp(-z))
    return z


def act_derivative(z, act):
    if act == "tanh":
        return 1 - np.tanh(z) ** 2
    if act == "relu":
        return (z > 0).astype(z.dtype)
    if act == "sigmoid":
        s = 1 / (1 + np.exp(-z))
        return s * (1 - s)
    return np.ones_like(z)


def arrays(shape, dtype, seed=0, bias=True):
    m, k, n = shape
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, k)).astype(dtype)
    W = (rng.standard_normal((k, n)) / np.sqrt(k)).astype(dtype)
    b = rng.standard_normal(n).astype(dtype) if bias else None
    G = rng.standard_normal((m, n)).astype(dtype)
    return X, W, b, G


def run(fg, X, W, b, G, act, x_grad=True):
    """Forward, then backward with upstream gradient G; returns y and the leaves' grads."""
    x = fg.Tensor(X, requires_grad=x_grad)
    w = fg.Tensor(W, requires_grad=True)
    bb = fg.Tensor(b, requires_grad=True) if b is not None else None
    y = fg.bk.dense.dense(x, w, bb, act)
    y.backward(G)
    return y, x.grad, w.grad, (bb.grad if bb is not None else None)


def run_arrays(fg, *args):
    """run(), with y's data in place of y (picklable: run on both sides)."""
    y, *grads = run(fg, *args)
    return (y.data, *grads)


@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("shape", [(5, 4, 3), (33, 47, 29)], ids=["small", "large"])
def test_matches_hand_formulas(fg, act, shape):
    X, W, b, G = arrays(shape, np.float64)
    y, gx, gW, gb = run(fg, X, W, b, G, act)
    z = X @ W + b
    gz = G * act_derivative(z, act)
    np.testing.assert_allclose(y.data, act_value(z, act), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(gW, X.T @ gz, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gb, gz.sum(axis=0), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(gx, gz @ W.T, rtol=1e-10, atol=1e-12)
    assert y.op == "dense"


@pytest.fixture(params=["loops", "blas"])
def compiled_path(request, both):
    """The compiled dense kernels forced onto one path (restored afterwards)."""
    cy_dense = both[1].bk.dense
    old = cy_dense._crossovers()
    if request.param == "loops":
        cy_dense._set_crossovers(loop_max=10**12)
    else:
        cy_dense._set_crossovers(loop_max=0)
    yield request.param
    cy_dense._set_crossovers(**old)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("act", ACTS)
@pytest.mark.parametrize("shape", [(1, 1, 1), (7, 5, 3), (6, 9, 2), (40, 30, 20)],
                         ids=["1x1x1", "small", "narrow", "large"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("x_grad", [True, False], ids=["xgrad", "xconst"])
def test_compiled_paths_match_twin(both, compiled_path, dtype, act, shape, bias, x_grad):
    twin, cy = both
    X, W, b, G = arrays(shape, dtype, bias=bias)
    got = run_arrays(cy, X, W, b, G, act, x_grad)
    want = twin.call(run_arrays, X, W, b, G, act, x_grad)
    assert got[0].dtype == want[0].dtype == dtype
    np.testing.assert_allclose(got[0], want[0], **TOLERANCE[dtype])
    for name, g_cy, g_py in zip(["x", "W", "b"], got[1:], want[1:]):
        if g_py is None:
            assert g_cy is None, name
            continue
        assert g_cy.dtype == dtype, name
        np.testing.assert_allclose(g_cy, g_py, **TOLERANCE[dtype], err_msg=name)
    if not x_grad:
        assert got[1] is None and want[1] is None


def test_constant_x_gets_no_gradient(fg):
    X, W, b, G = arrays((4, 3, 2), np.float64)
    y, gx, gW, gb = run(fg, X, W, b, G, "tanh", x_grad=False)
    assert gx is None and gW is not None and gb is not None
    # x given as a plain array takes W's dtype and is a constant
    w = fg.Tensor(W.astype(np.float32), requires_grad=True)
    y = fg.bk.dense.dense(X, w, None, "relu")
    assert y.dtype == np.float32


def test_input_layouts(fg):
    """1-D x, x with batch axes, a non-contiguous x, and a broadcast upstream gradient."""
    rng = np.random.default_rng(3)
    W = rng.standard_normal((4, 3))
    b = rng.standard_normal(3)
    dense = fg.bk.dense.dense
    v = rng.standard_normal(4)
    y = dense(fg.Tensor(v), W, b, "tanh")
    assert y.shape == (3,)
    np.testing.assert_allclose(y.data, np.tanh(v @ W + b), rtol=1e-13)
    X3 = rng.standard_normal((2, 5, 4))
    x3 = fg.Tensor(X3, requires_grad=True)
    y = dense(x3, W, b, None)
    assert y.shape == (2, 5, 3)
    y.sum().backward()                       # a broadcast (zero-stride) upstream gradient
    np.testing.assert_allclose(x3.grad, np.broadcast_to(W.sum(axis=1), (2, 5, 4)), rtol=1e-13)
    XT = rng.standard_normal((4, 6)).T       # not C-contiguous
    w = fg.Tensor(W, requires_grad=True)
    y = dense(XT, w, b, "relu")
    np.testing.assert_allclose(y.data, np.maximum(XT @ W + b, 0), rtol=1e-13)
    (y * y).sum().backward()
    z = XT @ W + b
    np.testing.assert_allclose(w.grad, XT.T @ (2 * np.maximum(z, 0) * (z > 0)), rtol=1e-12)


def test_gradients_accumulate_across_calls(fg):
    X, W, b, G = arrays((3, 4, 2), np.float64)
    w = fg.Tensor(W, requires_grad=True)
    for _ in range(2):
        fg.bk.dense.dense(X, w, b, "sigmoid").backward(G)
    z = X @ W + b
    s = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(w.grad, 2 * X.T @ (G * s * (1 - s)), rtol=1e-12)


def test_saturated_activations_stay_finite(fg):
    X = np.array([[1000.0, -1000.0]])
    W = np.eye(2)
    for act in ACTS[1:]:
        w = fg.Tensor(W, requires_grad=True)
        y = fg.bk.dense.dense(X, w, None, act)
        assert np.all(np.isfinite(y.data)), act
        y.sum().backward()
        assert np.all(np.isfinite(w.grad)), act


def test_bad_input_raises_naming_the_op(fg):
    dense = fg.bk.dense.dense
    x = fg.Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"dense: x of shape \(2, 3\) does not fit W of shape "
                                         r"\(4, 5\)"):
        dense(x, np.ones((4, 5)))
    with pytest.raises(ValueError, match=r"dense: b must have shape \(5,\)"):
        dense(x, np.ones((3, 5)), np.ones(4))
    with pytest.raises(ValueError, match="dense: W must be 2-D"):
        dense(x, np.ones(3))
    with pytest.raises(ValueError, match="dense: unknown activation 'softplus'"):
        dense(x, np.ones((3, 5)), None, "softplus")
    with pytest.raises(TypeError, match="dense: x, W and b must have one dtype, got x float64, "
                                        "W float32"):
        dense(x, fg.Tensor(np.ones((3, 5)), dtype=np.float32))
    with pytest.raises(ValueError, match="dense: x of shape"):
        dense(fg.Tensor(1.0), np.ones((1, 5)))


def test_graph_is_one_node(fg):
    x = fg.Tensor(np.ones((2, 3)), requires_grad=True)
    y = fg.bk.dense.dense(x, np.ones((3, 4)), np.ones(4), "tanh")
    assert y.op == "dense" and len(y._prev) == 3 and y._prev[0] is x


def test_crossovers_are_named_constants(both):
    cy = both[1].bk.dense
    assert set(cy._crossovers()) == {"loop_max"}
    assert cy._crossovers()["loop_max"] > 0


def test_compiled_kernels_refuse_wrong_buffers(both):
    """The kernels write through raw pointers: a wrong shape, dtype or layout must raise."""
    d = both[1].bk.dense
    X, W, Y = np.ones((3, 4)), np.ones((4, 5)), np.empty((3, 5))
    bad_forward = [
        ((X, np.ones((3, 5)), None, 0, Y), "X must be a 2-D"),
        ((X, W.astype(np.float32), None, 0, Y), "X must be a 2-D"),
        ((X, W, np.ones(4), 0, Y), r"B must be a float64 array of shape \(5,\)"),
        ((X, W, None, 1, np.empty((3, 4))), r"Y must be a C-contiguous float64 array of shape"),
        ((X, W, None, 1, np.empty((5, 3)).T), "Y must be a C-contiguous"),
        ((X.astype(int), W.astype(int), None, 0, Y.astype(int)), "X must be a 2-D float32"),
    ]
    for args, message in bad_forward:
        with pytest.raises(ValueError, match="dense_forward: " + message):
            d.dense_forward(*args)
    G, GZ = np.ones((3, 5)), np.empty((3, 5))
    with pytest.raises(ValueError, match="dense_backward: GZ .* is needed"):
        d.dense_backward(X, W, Y, G, 1, None, None, None, None)
    with pytest.raises(ValueError, match=r"dense_backward: GW must be .* shape \(4, 5\)"):
        d.dense_backward(X, W, Y, G, 1, GZ, None, np.empty((5, 4)), None)
    with pytest.raises(ValueError, match=r"dense_backward: GX must be .* shape \(3, 4\)"):
        d.dense_backward(X, W, Y, G, 1, GZ, np.empty((3, 5)), None, None)
    with pytest.raises(ValueError, match=r"dense_backward: G must be a C-contiguous"):
        d.dense_backward(X, W, Y, np.ones((5, 3)).T, 1, GZ, None, None, None)



def two_tanh_layers(fg, X, W1, b1, W2, b2, C):
    """loss = sum(C * tanh(tanh(X W1 + b1) W2 + b2)): two dense nodes whose gz has one shape."""
    leaves = [fg.Tensor(a, requires_grad=True) for a in (X, W1, b1, W2, b2)]
    x, w1, c1, w2, c2 = leaves
    h = fg.bk.dense.dense(fg.bk.dense.dense(x, w1, c1, "tanh"), w2, c2, "tanh")
    (h * fg.Tensor(C)).sum().backward()
    return [t.grad for t in leaves]


def two_tanh_layers_by_hand(X, W1, b1, W2, b2, C):
    h1 = np.tanh(X @ W1 + b1)
    h2 = np.tanh(h1 @ W2 + b2)
    gz2 = C * (1 - h2 ** 2)
    gz1 = (gz2 @ W2.T) * (1 - h1 ** 2)
    return [gz1 @ W1.T, X.T @ gz1, gz1.sum(0), h1.T @ gz2, gz2.sum(0)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_large_activation_gradients_share_no_state(fg, dtype):
    # gz of this size is taken from a per-thread pool in the compiled engine: two layers of one
    # shape in one backward, repeated backwards and threads running backward at once must each
    # see their own gz
    import threading

    rng = np.random.default_rng(5)
    m, n = 700, 64  # gz is 175 KB in float32, 350 KB in float64: above the pool's floor
    X, W1, W2, C = (rng.standard_normal(s).astype(dtype) / 4 for s in [(m, n), (n, n), (n, n), (m, n)])
    b1, b2 = (rng.standard_normal(n).astype(dtype) for _ in range(2))
    tol = TOLERANCE[dtype] if dtype == np.float64 else {"rtol": 2e-4, "atol": 2e-4}
    args = [(X, W1, b1, W2, b2, C), (X[::-1].copy(), W2, b2, W1, b1, -C)]
    expected = [two_tanh_layers_by_hand(*[a.astype(np.float64) for a in case]) for case in args]
    results = {}

    def worker(i):
        for repeat in range(20):
            results[i, repeat] = two_tanh_layers(fg, *args[i % 2])

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 80
    for (i, _), grads in results.items():
        for got, want in zip(grads, expected[i % 2]):
            np.testing.assert_allclose(got, want, **tol)
