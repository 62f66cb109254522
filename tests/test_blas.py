"""Matrix products by BLAS (fastgrad._cy.blas) against numpy, on every layout: C- and
Fortran-ordered, transposed by flag, strided and padded views, negative strides, broadcast
(zero-stride) operands, 1-D and zero-size operands, outputs overlapping inputs; and the import
that falls back to numpy's matmul, with a warning, when scipy's BLAS cannot be loaded.

Tolerance: BLAS and numpy sum the k products of each element in different orders (blocking,
FMA), so they agree only to rounding. Any order obeys |fl(A·B) - A·B| <= k·u·(|A|·|B|)
elementwise (u the unit roundoff), and that bound is what these tests allow."""
import itertools
import json

import numpy as np
import pytest
from conftest import BACKENDS
from helpers import run_python

from fastgrad import _backend

DTYPES = [np.float64, np.float32]


@pytest.fixture(params=BACKENDS)
def blas(request):
    return _backend.load(request.param).blas


def within_rounding(C, A, B):
    """C matches op(A)·op(B) (given as 2-D float64 A, B) to the bound above."""
    u = np.finfo(C.dtype).eps / 2
    k = A.shape[1]
    bound = (k + 2) * u * (np.abs(A) @ np.abs(B)) + np.finfo(C.dtype).tiny
    exact = A @ B
    return np.all(np.abs(C.astype(np.float64).reshape(exact.shape) - exact) <= bound)


def layouts(X):
    """X in several memory layouts (same values)."""
    yield "c", np.ascontiguousarray(X)
    yield "f", np.asfortranarray(X)
    big = np.zeros((2 * X.shape[0] + 1, 3 * X.shape[1] + 2), X.dtype)
    view = big[1::2, 2::3][:X.shape[0], :X.shape[1]]
    view[...] = X
    yield "strided", view
    pad = np.zeros((X.shape[0] + 3, X.shape[1] + 5), X.dtype)
    view = pad[:X.shape[0], :X.shape[1]]
    view[...] = X
    yield "padded", view
    yield "negative", X[::-1, ::-1].copy()[::-1, ::-1]
    if X.shape[0]:
        yield "broadcast", np.broadcast_to(X[:1], X.shape)


SHAPES = [(5, 7, 3), (1, 7, 3), (5, 7, 1), (1, 1, 1), (0, 3, 4), (4, 0, 3), (4, 3, 0),
          (33, 64, 17)]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("m,k,n", SHAPES)
def test_every_layout_and_transpose(blas, rng, dtype, m, k, n):
    for ta, tb in itertools.product((False, True), repeat=2):
        A0 = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
        B0 = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
        for (la, A), (lb, B) in itertools.product(list(layouts(A0)), list(layouts(B0))):
            A64 = (A.T if ta else A).astype(np.float64)
            B64 = (B.T if tb else B).astype(np.float64)
            for lc, C in layouts(np.full((m, n), np.nan, dtype)):
                if lc in ("broadcast", "negative"):
                    C = np.full((m, n), np.nan, dtype)[::-1, ::-1] if lc == "negative" else C
                    if lc == "broadcast":
                        continue
                assert blas.matmul_into(A, B, C, ta, tb) is C
                assert within_rounding(C, A64, B64), (ta, tb, la, lb, lc)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_vectors(blas, rng, dtype):
    a = rng.standard_normal(7).astype(dtype)
    B = rng.standard_normal((7, 4)).astype(dtype)
    M = rng.standard_normal((4, 7)).astype(dtype)
    for x, y, out in ((a, B, np.empty(4, dtype)), (M, a, np.empty(4, dtype)),
                      (a, a, np.empty((), dtype)), (a[::-2], B[::-2], np.empty(4, dtype)),
                      (M[:, ::2], a[::2], np.empty(4, dtype)[::-1])):
        blas.matmul_into(x, y, out)
        X = x.astype(np.float64).reshape(1, -1) if x.ndim == 1 else x.astype(np.float64)
        Y = y.astype(np.float64).reshape(-1, 1) if y.ndim == 1 else y.astype(np.float64)
        assert within_rounding(out, X, Y)


def test_output_overlapping_an_input(blas, rng):
    X = rng.standard_normal((8, 8))
    expected = X @ X
    blas.matmul_into(X, X, X)
    np.testing.assert_allclose(X, expected, rtol=1e-12, atol=1e-12)
    Y = rng.standard_normal((8, 9))
    expected = Y[:, :8] @ Y[:, 1:]
    blas.matmul_into(Y[:, :8], Y[:, 1:], Y[:, 1:])
    np.testing.assert_allclose(Y[:, 1:], expected, rtol=1e-12, atol=1e-12)


def test_bad_operands_raise_naming_them(blas):
    a32, a64 = np.ones((2, 3), np.float32), np.ones((3, 2))
    with pytest.raises(ValueError, match="float32/float64"):
        blas.matmul_into(a32, a64, np.empty((2, 2)))
    with pytest.raises(ValueError, match="do not fit"):
        blas.matmul_into(a64, a64, np.empty((3, 3)))
    with pytest.raises(ValueError, match="float32/float64"):
        blas.matmul_into(np.ones((2, 2), int), np.ones((2, 2), int), np.empty((2, 2), int))
    out = np.empty((3, 3))
    out.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        blas.matmul_into(a64, a64.T, out)
    with pytest.raises(TypeError, match="numpy array"):
        blas.matmul_into([[1.0]], a64, out)


def compiled_blas():
    if "cython" not in BACKENDS:
        pytest.skip("the compiled modules are not available")
    blas = _backend.load("cython").blas
    if blas.library() != "scipy.linalg.cython_blas":
        pytest.skip(f"BLAS is not in use: {blas.why_numpy()}")
    return blas


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_dense_products_take_no_copies(rng, dtype):
    """The dense layer's forward and both backward products (Xᵀ·gz, gz·Wᵀ) at W4's shapes go
    to gemm in place: the transposes are BLAS's flags, not copies."""
    blas = compiled_blas()
    dense = _backend.load("cython").dense
    X = rng.standard_normal((64, 784)).astype(dtype)
    W = rng.standard_normal((784, 256)).astype(dtype)
    b = rng.standard_normal(256).astype(dtype)
    Y = np.empty((64, 256), dtype)
    G = rng.standard_normal((64, 256)).astype(dtype)
    GZ, GX, GW, GB = (np.empty_like(Y), np.empty_like(X), np.empty_like(W), np.empty_like(b))
    before = blas.counts()
    dense.dense_forward(X, W, b, dense.ACTIVATIONS["tanh"], Y)
    dense.dense_backward(X, W, Y, G, dense.ACTIVATIONS["tanh"], GZ, GX, GW, GB)
    after = blas.counts()
    assert after["gemm"] - before["gemm"] == 3
    assert after["copied"] == before["copied"] and after["numpy"] == before["numpy"]
    X64, W64 = X.astype(np.float64), W.astype(np.float64)
    gz = GZ.astype(np.float64)
    assert within_rounding(GW, X64.T, gz) and within_rounding(GX, gz, W64.T)


def matmul_result(front, A, B):
    """matmul's value and its VJP of sum(out^2) on ``front`` (arrays; run on both sides)."""
    a = front.Tensor(A, requires_grad=True)
    b = front.Tensor(B, requires_grad=True)
    out = front.matmul(a, b)
    (out * out).sum().backward()
    return out.data, a.grad, b.grad


def test_matmul_node_all_ranks_agree_with_the_twin(both, rng):
    """matmul and its VJP on 1-D and 2-D operands above the typed-loop crossover (BLAS's
    gemm and gemv) against the twin (numpy)."""
    compiled_blas()
    twin, cy = both
    for shape_a, shape_b in (((40, 50), (50, 30)), ((50,), (50, 30)), ((40, 50), (50,)),
                             ((50,), (50,))):
        A = rng.standard_normal(shape_a)
        B = rng.standard_normal(shape_b)
        results = [twin.call(matmul_result, A, B), matmul_result(cy, A, B)]
        for x, y in zip(*results):
            np.testing.assert_allclose(x, y, rtol=1e-10, atol=1e-10)


def test_without_scipy_blas_import_warns_and_uses_numpy():
    """scipy's BLAS made unimportable: fastgrad still imports (compiled), says why at import,
    and computes products with numpy's matmul."""
    if "cython" not in BACKENDS:
        pytest.skip("the compiled modules are not available")
    out = run_python(["-W", "always", "-c", """
import json, sys, warnings
sys.modules["scipy.linalg.cython_blas"] = None  # import of it raises ImportError
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import fastgrad
import numpy as np
x = fastgrad.Tensor(np.arange(1200.0).reshape(30, 40) / 1000, requires_grad=True)
w = fastgrad.Tensor(np.ones((40, 50)), requires_grad=True)
(x @ w).tanh().sum().backward()
blas = fastgrad._backend.active.blas
print(json.dumps({"backend": fastgrad.BACKEND, "library": blas.library(),
                  "why": blas.why_numpy(), "numpy": blas.counts()["numpy"],
                  "warnings": [str(w.message) for w in caught],
                  "grad": x.grad.tolist()}))
"""], check=True)
    r = json.loads(out.stdout)
    assert r["backend"] == "cython" and r["library"] == "numpy.matmul"
    assert "scipy's BLAS could not be loaded" in r["why"]
    assert any("scipy's BLAS could not be loaded" in w for w in r["warnings"])
    assert r["numpy"] > 0
    X = np.arange(1200.0).reshape(30, 40) / 1000
    expected = (1 - np.tanh(X @ np.ones((40, 50))) ** 2) @ np.ones((50, 40))
    # (1 - tanh²) near tanh = ±1 cancels: the few ulp of fastgrad's tanh show up absolutely
    np.testing.assert_allclose(r["grad"], expected, rtol=1e-12, atol=1e-12)


def test_numpy_can_be_chosen():
    if "cython" not in BACKENDS:
        pytest.skip("the compiled modules are not available")
    code = ("import fastgrad; b = fastgrad._backend.active.blas; "
            "print(b.library(), b.why_numpy())")
    out = run_python(["-c", code],
                     env={"FASTGRAD_BLAS": "numpy"}, check=True)
    assert out.stdout.split() == ["numpy.matmul", "FASTGRAD_BLAS=numpy"]
