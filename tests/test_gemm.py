"""fastgrad's matrix product (csrc/gemm.h through fastgrad._cy.gemm) against numpy: shapes around
the tile and block sizes, transposed and strided operands, bias, float32/float64; the same bits
run to run; the choice of kernel (FASTGRAD_GEMM, CPUs without AVX-512); the twin."""
import numpy as np
import pytest
from helpers import run_python

from fastgrad import _backend
from fastgrad.tensor import tensor_class

# Tile and block sizes of csrc/gemm.h (in elements): edges are tested one below and above each.
MR, KC, MC, NC = 8, 256, 96, 2048
NR = {np.float64: 16, np.float32: 32}
DTYPES = [np.float64, np.float32]
# kernel against twin after several products (summation orders differ, values of order 1-10)
TOLERANCE = {np.float64: {"rtol": 1e-11, "atol": 1e-11}, np.float32: {"rtol": 1e-4, "atol": 1e-4}}


@pytest.fixture
def gemm():
    """The compiled module with the AVX-512 kernel switched on (skipped where it cannot run)."""
    if _backend.extensions_disabled():
        pytest.skip("FASTGRAD_NO_EXTENSIONS is set")
    try:
        module = _backend.load("cython").gemm
    except ImportError:
        pytest.skip("the compiled modules are not built")
    if not module.cpu_supported():
        pytest.skip("this CPU cannot run the AVX-512 kernel")
    old = module.set_kernel("avx512")
    yield module
    module.set_kernel(old)


@pytest.fixture
def twin():
    return _backend.load("python").gemm


class runs_kernel:
    """Asserts that the products inside the block ran in the kernel (`times` of them)."""

    def __init__(self, gemm, times=1):
        self.gemm, self.times = gemm, times

    def __enter__(self):
        self.before = self.gemm.kernel_calls()

    def __exit__(self, *exc):
        if exc[0] is None:
            assert self.gemm.kernel_calls() - self.before == self.times


def operand(rng, shape, dtype, layout):
    """A random array of `shape` laid out as `layout`: "c" (C order), "t" (a transposed view of
    a C array), "s" (every other row and column of a larger array), "r" (rows and columns
    reversed: negative strides)."""
    if layout == "t":
        return rng.standard_normal(shape[::-1]).astype(dtype).T
    if layout == "s":
        return rng.standard_normal((2 * shape[0] + 1, 2 * shape[1] + 1)).astype(dtype)[1::2, 1::2]
    data = rng.standard_normal(shape).astype(dtype)
    return data[::-1, ::-1] if layout == "r" else data


def check_product(C, A, B, bias=None):
    """C equals A @ B (+ bias) up to the rounding of a sum of k products in C's dtype: the
    bound |error| <= (2k + 4)·eps·(|A| @ |B| + |bias|) holds for any summation order."""
    dtype = C.dtype
    A64, B64 = A.astype(np.float64), B.astype(np.float64)
    ref = A64 @ B64
    scale = np.abs(A64) @ np.abs(B64)
    if bias is not None:
        ref = ref + bias
        scale = scale + np.abs(bias.astype(np.float64))
    k = A.shape[1]
    bound = (2 * k + 4) * np.finfo(dtype).eps * scale + np.finfo(dtype).tiny
    err = np.abs(C.astype(np.float64) - ref)
    assert np.all(err <= bound), f"max error {err.max()} over bound at {np.argmax(err - bound)}"


def edge_shapes(dtype):
    """(m, k, n) one below, at and one above the tile and block sizes and the in-place rules,
    and ragged last tiles of every height (1-7 rows: the 1, 2, 4 and 8-row tiles) and width
    (one vector or two)."""
    nr, lanes = NR[dtype], NR[dtype] // 2
    return [(5, 1, lanes // 2 + 1), (9, 2, lanes), (10, 3, lanes + 1), (11, 5, 7 + lanes),
            (12, 9, nr - 1), (13, 16, nr), (14, 17, nr + 1), (15, 31, 2 * nr + 5),
            (MR, 8, nr), (MR + 1, 9, 2 * nr), (2 * MR + 3, 31, 2 * nr + 5), (MC - 1, 40, 33),
            (MC, 41, 47), (MC + 1, 42, 50), (2 * MC + 5, 20, 20), (10, KC - 1, 20),
            (10, KC, 20), (10, KC + 1, 20), (9, 2 * KC + 3, 35), (17, 60, 255), (17, 60, 256),
            (17, 60, 257), (13, 30, 511), (13, 30, 512), (13, 30, 513), (63, 70, 300),
            (64, 70, 300), (65, 70, 300), (9, 3, NC - 1), (9, 3, NC + 1), (64, 784, 10),
            (100, 64, 64)]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_shapes_around_tiles_and_blocks(gemm, dtype):
    rng = np.random.default_rng(0)
    for m, k, n in edge_shapes(dtype):
        A = operand(rng, (m, k), dtype, "c")
        B = operand(rng, (k, n), dtype, "c")
        assert gemm.uses_kernel(m, k, n, dtype)
        with runs_kernel(gemm):
            check_product(gemm.matmul(A, B), A, B)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("layout_a", ["c", "t", "s", "r"])
@pytest.mark.parametrize("layout_b", ["c", "t", "s", "r"])
def test_transposed_and_strided_operands(gemm, dtype, layout_a, layout_b):
    """Xᵀ·G and G·Wᵀ (the dense backward) and any other strides, read in place or packed."""
    rng = np.random.default_rng(1)
    for m, k, n in [(MR + 1, 17, NR[dtype] + 3), (37, KC + 9, 70), (50, 33, 300), (12, 16, 600)]:
        A = operand(rng, (m, k), dtype, layout_a)
        B = operand(rng, (k, n), dtype, layout_b)
        with runs_kernel(gemm):
            check_product(gemm.matmul(A, B), A, B)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_bias_is_added_last(gemm, dtype):
    rng = np.random.default_rng(2)
    for m, k, n in [(9, 5, 12), (20, KC + 1, 40), (70, 64, 64), (8, 600, 17)]:
        A = operand(rng, (m, k), dtype, "c")
        B = operand(rng, (k, n), dtype, "t")
        bias = (100 * rng.standard_normal(n)).astype(dtype)
        with runs_kernel(gemm):
            C = gemm.matmul(A, B, bias)
        check_product(C, A, B, bias)
        if k <= KC:  # one block of the sum: exactly (A·B) + bias, rounded once more
            np.testing.assert_array_equal(C, gemm.matmul(A, B) + bias)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_output_with_padded_rows(gemm, dtype):
    """C may be a view with a row stride larger than its width (and must keep the padding)."""
    rng = np.random.default_rng(3)
    A, B = operand(rng, (21, 30), dtype, "c"), operand(rng, (30, 19), dtype, "c")
    buffer = np.full((21, 25), 7, dtype)
    out = buffer[:, 3:22]
    assert gemm.matmul_into(A, B, out) is out
    check_product(out, A, B)
    assert np.all(buffer[:, :3] == 7) and np.all(buffer[:, 22:] == 7)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_empty_sums_and_empty_outputs(gemm, dtype):
    bias = np.arange(5, dtype=dtype)
    C = gemm.matmul(np.empty((4, 0), dtype), np.empty((0, 5), dtype), bias)
    np.testing.assert_array_equal(C, np.broadcast_to(bias, (4, 5)))
    np.testing.assert_array_equal(gemm.matmul(np.empty((4, 0), dtype), np.empty((0, 5), dtype)),
                                  np.zeros((4, 5), dtype))
    assert gemm.matmul(np.empty((0, 3), dtype), np.ones((3, 5), dtype)).shape == (0, 5)
    assert gemm.matmul(np.ones((4, 3), dtype), np.empty((3, 0), dtype)).shape == (4, 0)


def test_special_values_propagate(gemm):
    A = np.ones((10, 20))
    B = np.ones((20, 18))
    A[3, 4] = np.nan
    B[5, 17] = np.inf
    C = gemm.matmul(A, B)
    expected = A @ B
    np.testing.assert_array_equal(np.isnan(C), np.isnan(expected))
    np.testing.assert_array_equal(np.isinf(C), np.isinf(expected))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_same_bits_run_to_run_and_at_any_alignment(gemm, dtype):
    """The result depends on the shape and strides only: not on the run, nor on where in
    memory the operands start (so not on alignment either)."""
    rng = np.random.default_rng(4)
    for m, k, n in [(1797, 64, 64), (64, 784, 256), (37, KC * 2 + 5, 90), (100, 50, 700)]:
        A = operand(rng, (m, k), dtype, "c")
        B = operand(rng, (k, n), dtype, "c")
        first = gemm.matmul(A, B)
        np.testing.assert_array_equal(gemm.matmul(A, B), first)
        for shift in (1, 3):  # the same values, starting `shift` elements further on
            A2 = np.empty(A.size + shift, dtype)[shift:].reshape(A.shape)
            B2 = np.empty(B.size + shift, dtype)[shift:].reshape(B.shape)
            A2[...], B2[...] = A, B
            np.testing.assert_array_equal(gemm.matmul(A2, B2), first)


def test_numpy_kernel_is_numpys_matmul(gemm):
    rng = np.random.default_rng(5)
    A, B = operand(rng, (40, 30), np.float64, "c"), operand(rng, (30, 50), np.float64, "t")
    gemm.set_kernel("numpy")
    assert gemm.kernel() == "numpy" and not gemm.uses_kernel(40, 30, 50)
    with runs_kernel(gemm, times=0):
        np.testing.assert_array_equal(gemm.matmul(A, B), np.matmul(A, B))
    gemm.set_kernel("avx512")
    assert gemm.kernel() == "avx512" and gemm.uses_kernel(40, 30, 50)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_thin_products_use_numpy(gemm, dtype):
    """A tile pads to 8 rows and to vectors of 8 (float64) or 16 (float32) columns: up to 4 rows
    or half a vector of columns, numpy's BLAS runs (the size rule in csrc/gemm.pyx)."""
    half = NR[dtype] // 4
    for m, n in [(1, 100), (4, 100), (100, 1), (100, half), (4, half)]:
        assert not gemm.uses_kernel(m, 50, n, dtype)
    assert gemm.uses_kernel(5, 50, half + 1, dtype)
    rng = np.random.default_rng(6)
    for m, n in [(1, 50), (4, 50), (30, half)]:
        A, B = operand(rng, (m, 30), dtype, "c"), operand(rng, (30, n), dtype, "c")
        with runs_kernel(gemm, times=0):
            np.testing.assert_array_equal(gemm.matmul(A, B), np.matmul(A, B))


def test_output_overlapping_an_operand_falls_back(gemm):
    rng = np.random.default_rng(7)
    buffer = rng.standard_normal((30, 30))
    A = buffer[:, :20]
    B = rng.standard_normal((20, 10))
    expected = A @ B
    out = buffer[:, 10:20]  # overlaps A's columns 10..19
    with runs_kernel(gemm, times=0):
        gemm.matmul_into(A, B, out)
    np.testing.assert_allclose(out, expected, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("module", ["python", "cython"])
def test_bad_operands_raise(module):
    if module == "cython" and (_backend.extensions_disabled() or "gemm" not in dir(
            _backend.load("cython"))):
        pytest.skip("compiled modules not available")
    gemm = _backend.load(module).gemm
    with pytest.raises(ValueError, match=r"A float64 \(3, 4\), B float64 \(5, 2\)"):
        gemm.matmul(np.ones((3, 4)), np.ones((5, 2)))
    with pytest.raises(ValueError, match="float32"):
        gemm.matmul(np.ones((3, 4)), np.ones((4, 2), np.float32))
    with pytest.raises(ValueError, match="2-D"):
        gemm.matmul_into(np.ones(3), np.ones((3, 2)), np.empty(2))
    with pytest.raises(ValueError, match="int64"):
        gemm.matmul(np.ones((3, 4), np.int64), np.ones((4, 2), np.int64))
    with pytest.raises(ValueError, match="bias"):
        gemm.matmul(np.ones((3, 4)), np.ones((4, 2)), np.ones(3))
    with pytest.raises(ValueError, match="unknown kernel"):
        gemm.set_kernel("blas")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_twin_is_numpy(twin, dtype):
    rng = np.random.default_rng(8)
    A, B = operand(rng, (20, 30), dtype, "t"), operand(rng, (30, 40), dtype, "c")
    bias = rng.standard_normal(40).astype(dtype)
    np.testing.assert_array_equal(twin.matmul(A, B, bias), np.matmul(A, B) + bias)
    assert twin.kernel() == "numpy" and not twin.cpu_supported()
    with pytest.raises(RuntimeError, match="cannot run"):
        twin.set_kernel("avx512")


@pytest.mark.parametrize("module", ["python", "cython"])
def test_kernel_choice(module):
    """What runs where: the CPU's ability and FASTGRAD_GEMM decide (no AVX-512 -> numpy)."""
    if module == "cython" and _backend.extensions_disabled():
        pytest.skip("FASTGRAD_NO_EXTENSIONS is set")
    try:
        choose = _backend.load(module).gemm.choose_kernel
    except ImportError:
        pytest.skip("the compiled modules are not built")
    assert choose(True, None) == "avx512"
    assert choose(True, "auto") == "avx512"
    assert choose(True, " NumPy ") == "numpy"
    assert choose(False, None) == "numpy"
    assert choose(False, "avx512") == "numpy"  # asking cannot make the CPU run it
    with pytest.warns(RuntimeWarning, match="FASTGRAD_GEMM='fast'"):
        assert choose(True, "fast") == "avx512"


def kernel_in_subprocess(**env):
    code = "import fastgrad._cy.gemm as g; print(g.kernel(), g.cpu_supported())"
    out = run_python(["-c", code], env=env, check=True)
    return out.stdout.split()


def test_environment_variable_forces_numpy(gemm):
    assert kernel_in_subprocess(FASTGRAD_GEMM="numpy") == ["numpy", "True"]
    assert kernel_in_subprocess(FASTGRAD_GEMM="auto") == ["avx512", "True"]


@pytest.fixture
def backends(gemm):
    """(python, cython) backends, the compiled one with the kernel on."""
    return _backend.load("python"), _backend.load("cython")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("x_layout", ["c", "t"])
def test_dense_layer_through_the_kernel_matches_the_twin(backends, dtype, x_layout):
    """dense forward (X·W + b) and backward (Xᵀ·gz, gz·Wᵀ) at MLP shapes, x contiguous or a
    transposed view, against the twin (numpy's matmul)."""
    tol = TOLERANCE[dtype]
    rng = np.random.default_rng(9)
    for m, k, n in [(100, 64, 64), (64, 200, 40), (37, 70, 300)]:
        X = operand(rng, (m, k), dtype, x_layout)
        W = (rng.standard_normal((k, n)) / np.sqrt(k)).astype(dtype)
        b = rng.standard_normal(n).astype(dtype)
        G = rng.standard_normal((m, n)).astype(dtype)
        results = []
        for bk, products in zip(backends, (0, 3)):  # forward, Xᵀ·gz, gz·Wᵀ
            Tensor = tensor_class(bk)
            x, w, bb = (Tensor(a, requires_grad=True) for a in (X, W, b))
            with runs_kernel(backends[1].gemm, times=products):
                y = bk.dense.dense(x, w, bb, "tanh")
                y.backward(G)
            results.append((y.data, x.grad, w.grad, bb.grad))
        for got, want in zip(results[1], results[0]):
            assert got.dtype == dtype
            np.testing.assert_allclose(got, want, **tol)
        assert backends[1].gemm.uses_kernel(m, k, n, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_matmul_node_through_the_kernel_matches_the_twin(backends, dtype):
    """2-D @ 2-D forward and VJP, including the zero-stride upstream gradient of a sum."""
    tol = TOLERANCE[dtype]
    rng = np.random.default_rng(10)
    A = rng.standard_normal((30, 50)).astype(dtype)
    B = operand(rng, (50, 40), dtype, "t")
    results = []
    for bk, products in zip(backends, (0, 6)):
        Tensor = tensor_class(bk)
        with runs_kernel(backends[1].gemm, times=products):
            a, b = Tensor(A, requires_grad=True), Tensor(B, requires_grad=True)
            c = bk.linalg.matmul(a, b)
            (c * c).sum().backward()
            a2, b2 = Tensor(A, requires_grad=True), Tensor(B, requires_grad=True)
            bk.linalg.matmul(a2, b2).sum().backward()  # g = ones broadcast: strides (0, 0)
        results.append((c.data, a.grad, b.grad, a2.grad, b2.grad))
    for got, want in zip(results[1], results[0]):
        assert got.dtype == dtype
        np.testing.assert_allclose(got, want, **tol)
