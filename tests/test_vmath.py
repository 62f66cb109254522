"""fastgrad's vectorised exp, log, log1p, tanh and sigmoid (csrc/vmath.h through the compiled
module fastgrad._cy.vmath; twin fastgrad/_py/vmath.py computes with numpy).

Accuracy is measured in ulp over sweeps that hold 0, ±tiny, subnormals, the overflow and
underflow thresholds, ±inf, NaN, their neighbours and dense random ranges, at every dispatch
level the CPU runs: against a reference rounded from higher precision (float64 results of numpy
for float32; long double for float64, where it is wider) the error must stay within ULP_BOUNDS,
and against numpy itself within ULP_BOUNDS plus numpy's own error allowance.
"""
import warnings

import numpy as np
import pytest
from helpers import NUMPY_ULP, run_python

from fastgrad import _backend
from fastgrad._py import vmath as twin
from fastgrad._py.elementwise import sigmoid_values

FUNCTIONS = ("exp", "log", "log1p", "tanh", "sigmoid")
DTYPES = (np.float64, np.float32)
NUMPY = {"exp": np.exp, "log": np.log, "log1p": np.log1p, "tanh": np.tanh,
         "sigmoid": sigmoid_values}
# where each function's values change: dense uniform sweeps over these ranges
RANGES = {"exp": (-750.0, 712.0), "log": (0.0, 10.0), "log1p": (-1.0, 10.0),
          "tanh": (-25.0, 25.0), "sigmoid": (-750.0, 750.0)}
# the overflow / underflow / saturation thresholds of float64 and float32, and the reduction
# boundaries (√½, √2, ln2/2 multiples) of the kernels
THRESHOLDS = [709.782712893384, 709.78, 709.79, -708.3964185322641, -708.4,
              -745.1332191019412, -745.14, -744.44, 88.72283, 88.7228, -87.33655, -103.97208,
              -103.28, 19.06, 9.01, 22.0, -22.0, 44.0, 0.5493, 0.3466, -0.3466, 0.6931,
              -1 + 1e-16, -1 + 1e-8, -0.5, 0.7071067811865476, 1.4142135623730951, 2.0, 0.5]


def compiled():
    if _backend.extensions_disabled():
        pytest.skip("FASTGRAD_NO_EXTENSIONS: the compiled kernels are not tested")
    try:
        return _backend.load("cython").vmath
    except ImportError:
        pytest.skip("the compiled modules are not available")


@pytest.fixture(params=twin.LEVELS)
def level(request):
    """The compiled module at one dispatch level (restored afterwards)."""
    vm = compiled()
    if request.param not in vm.supported_levels():
        pytest.skip(f"this CPU does not run the {request.param} level")
    old = vm.set_simd_level(request.param)
    yield vm
    vm.set_simd_level(old)


def specials(dtype):
    fi = np.finfo(dtype)
    values = [0.0, -0.0, fi.tiny, -fi.tiny, fi.smallest_subnormal, -fi.smallest_subnormal,
              fi.tiny / 3, -fi.tiny / 7, fi.eps, -fi.eps, 1.0, -1.0, fi.max, -fi.max,
              np.inf, -np.inf, np.nan, -np.nan] + THRESHOLDS
    with np.errstate(over="ignore"):
        x = np.array(values, dtype=dtype)
        return np.concatenate([x, np.nextafter(x, dtype(np.inf)),
                               np.nextafter(x, dtype(-np.inf))])


def sweep(name, dtype, n=60_000, seed=0):
    """specials, a dense uniform sweep of the function's range, [-1, 1], and magnitudes
    log-uniform from the smallest subnormal to the largest finite, of both signs"""
    rng = np.random.default_rng(seed)
    fi = np.finfo(dtype)
    lo, hi = RANGES[name]
    wide = np.exp(rng.uniform(np.log(float(fi.smallest_subnormal)), np.log(float(fi.max)), n))
    return np.concatenate([
        specials(dtype), rng.uniform(lo, hi, n).astype(dtype), rng.uniform(-1, 1, n).astype(dtype),
        (wide * np.sign(rng.standard_normal(n))).astype(dtype)])


def ulps(a, b):
    """|a - b| in units in the last place, elementwise (the count of representable numbers
    between them); NaN against NaN is 0, NaN against a number is inf."""
    a, b = np.asarray(a), np.asarray(b)
    bits = np.int64 if a.dtype == np.float64 else np.int32
    ia, ib = a.view(bits).astype(np.int64), b.view(bits).astype(np.int64)
    top = np.int64(np.iinfo(bits).min)
    # map the sign-magnitude bit patterns to a monotone integer line (-0 and +0 both to 0)
    ia = np.where(ia < 0, top - ia, ia)
    ib = np.where(ib < 0, top - ib, ib)
    d = np.abs(ia - ib).astype(float)
    d[np.isnan(a) & np.isnan(b)] = 0
    d[np.isnan(a) ^ np.isnan(b)] = np.inf
    return d


def reference(name, x):
    """f(x) rounded to x's dtype from a wider evaluation (None where no wider type exists)."""
    if x.dtype == np.float32:
        wide = x.astype(np.float64)
    elif np.finfo(np.longdouble).nmant > np.finfo(np.float64).nmant:
        wide = x.astype(np.longdouble)
    else:
        return None
    with np.errstate(all="ignore"):
        return NUMPY[name](wide).astype(x.dtype)


def worst(d, x, got, want):
    i = int(np.argmax(d))
    return f"{d[i]:.0f} ulp at x={x[i]!r}: got {got[i]!r}, want {want[i]!r}"


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("name", FUNCTIONS)
def test_error_within_documented_bound(level, name, dtype):
    x = sweep(name, dtype)
    got = getattr(level, name)(x)
    with np.errstate(all="ignore"):
        numpy_value = NUMPY[name](x)
    bound = twin.ULP_BOUNDS[name][np.dtype(dtype).name]
    d = ulps(got, numpy_value)
    assert d.max() <= bound + NUMPY_ULP, worst(d, x, got, numpy_value)
    want = reference(name, x)
    if want is not None:
        d = ulps(got, want)
        assert d.max() <= bound, worst(d, x, got, want)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("name", FUNCTIONS)
def test_bounds_are_tight(name, dtype):
    """The documented bound is what the best level measures, not a loose guess: some input
    reaches it, or one ulp less (so a kernel that gets worse fails, and so does a stale bound)."""
    vm = compiled()
    x = sweep(name, dtype, n=200_000, seed=1)
    want = reference(name, x)
    if want is None:
        pytest.skip("no type wider than float64 here")
    d = ulps(getattr(vm, name)(x), want)
    assert d.max() >= twin.ULP_BOUNDS[name][np.dtype(dtype).name] - 1


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("name", FUNCTIONS)
def test_special_values_are_numpys(level, name, dtype):
    """0, ±tiny, subnormals, ±inf, NaN and the thresholds: NaN where numpy has NaN, inf where it
    has inf, the same signed zeros, and finite values within the bound."""
    x = specials(dtype)
    got = getattr(level, name)(x)
    with np.errstate(all="ignore"):
        want = NUMPY[name](x)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(want))
    finite = np.isfinite(want)
    np.testing.assert_array_equal(got[~finite & ~np.isnan(want)], want[~finite & ~np.isnan(want)])
    zero = want == 0
    np.testing.assert_array_equal(np.signbit(got[zero]), np.signbit(want[zero]))
    assert ulps(got, want).max() <= twin.ULP_BOUNDS[name][np.dtype(dtype).name] + NUMPY_ULP


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
def test_named_special_values(level, dtype):
    inf, nan = dtype(np.inf), dtype(np.nan)
    one = np.ones(1, dtype)
    assert level.tanh(inf * one)[0] == 1 and level.tanh(-inf * one)[0] == -1
    assert level.exp(-inf * one)[0] == 0 and level.exp(dtype(1000) * one)[0] == inf
    assert level.log(0 * one)[0] == -inf and np.isnan(level.log(-one)[0])
    assert level.log1p(-one)[0] == -inf and np.isnan(level.log1p(-2 * one)[0])
    assert level.sigmoid(dtype(-1000) * one)[0] == 0 and level.sigmoid(dtype(1000) * one)[0] == 1
    assert level.sigmoid(-inf * one)[0] == 0 and level.sigmoid(inf * one)[0] == 1
    for name in FUNCTIONS:
        assert np.isnan(getattr(level, name)(nan * one)[0]), name
    for name in ("tanh", "log1p"):
        assert np.signbit(getattr(level, name)(np.array([-0.0], dtype))[0]), name


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("name", FUNCTIONS)
def test_every_level_gives_the_same_answers(name, dtype):
    """AVX2 and AVX-512 run the same operations (with fused multiply-adds): identical results.
    Baseline has no FMA: it may round differently, within the documented bound."""
    vm = compiled()
    levels = vm.supported_levels()
    x = sweep(name, dtype, n=20_000, seed=2)
    results = {}
    old = vm.simd_level()
    try:
        for lv in levels:
            vm.set_simd_level(lv)
            results[lv] = getattr(vm, name)(x)
    finally:
        vm.set_simd_level(old)
    if "avx512" in results:
        np.testing.assert_array_equal(results["avx512"], results["avx2"])
    for lv in levels[1:]:
        d = ulps(results[lv], results["baseline"])
        assert d.max() <= twin.ULP_BOUNDS[name][np.dtype(dtype).name], (lv, worst(
            d, x, results[lv], results["baseline"]))


@pytest.mark.parametrize("name", FUNCTIONS)
def test_layouts_and_sizes(name):
    """Strided, negative-stride, zero-size and 0-d operands: the same values as the contiguous
    computation, in x's shape; other dtypes go to numpy."""
    vm = compiled()
    f = getattr(vm, name)
    rng = np.random.default_rng(4)
    for dtype in DTYPES:
        base = np.abs(rng.standard_normal((6, 10))).astype(dtype)
        whole = f(base)
        np.testing.assert_array_equal(f(base[:, ::3]), whole[:, ::3])
        np.testing.assert_array_equal(f(base[::-1, ::-2]), whole[::-1, ::-2])
        np.testing.assert_array_equal(f(base.T), whole.T)
        assert f(np.empty((0, 3), dtype)).shape == (0, 3)
        scalar = f(np.array(0.5, dtype))
        assert np.ndim(scalar) == 0 and scalar.dtype == dtype
        for n in range(1, 40):  # every tail length of the vector loops
            np.testing.assert_array_equal(f(base.reshape(-1)[:n]), whole.reshape(-1)[:n])
    ints = np.arange(1, 5)
    np.testing.assert_array_equal(f(ints), NUMPY[name](ints))


def test_level_selection():
    vm = compiled()
    assert vm.supported_levels()[0] == "baseline"
    assert vm.simd_level() in vm.supported_levels()
    with pytest.raises(ValueError, match="set_simd_level: 'sse9' is not a dispatch level"):
        vm.set_simd_level("sse9")
    code = ("from fastgrad._cy import vmath; print(vmath.simd_level(), "
            "vmath.supported_levels()[-1])")
    out = run_python(["-c", code], env={"FASTGRAD_SIMD": "baseline"}, check=True).stdout.split()
    assert out[0] == "baseline"
    best = out[1]
    out = run_python(["-c", code], env={"FASTGRAD_SIMD": "avx512"}, check=True).stdout.split()
    assert out[0] == best  # a level above the CPU's means its best
    result = run_python(["-W", "always", "-c", code], env={"FASTGRAD_SIMD": "fastest"},
                        check=True)
    assert result.stdout.split()[0] == best
    assert "FASTGRAD_SIMD='fastest' is not one of" in result.stderr


def test_twin_is_numpy():
    x = np.linspace(0.25, 3, 7)
    for name in FUNCTIONS:
        np.testing.assert_array_equal(getattr(twin, name)(x), NUMPY[name](x))
    assert twin.simd_level() == "numpy" and twin.supported_levels() == ()
    with pytest.raises(ValueError, match="is not a dispatch level"):
        twin.set_simd_level("avx2")


ENGINE_OPS = ("exp", "log", "log1p", "tanh", "sigmoid")


def op_values(front, name, x):
    """The element-wise op ``name`` of Tensor(x) on ``front`` (an array; run on both sides)."""
    return getattr(front, name)(front.Tensor(x)).data


def dense_values(front, X, W, b, act):
    """The fused dense op's value on ``front`` (an array; run on both sides)."""
    return front.bk.dense.dense(front.Tensor(X), front.Tensor(W), front.Tensor(b), act).data


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("name", ENGINE_OPS)
def test_engine_ops_use_the_kernels(both, name, dtype):
    """The compiled element-wise ops compute with the kernels at every size and layout (their
    values are the kernels', bit for bit), and the twin's with numpy."""
    twin, cy = both
    vm = compiled()
    rng = np.random.default_rng(6)
    for shape in [(3,), (0, 4), (40, 30), (200, 300)]:
        x = (np.abs(rng.standard_normal(shape)) + 0.1).astype(dtype)
        for view in (x, x[..., ::-2]):
            got = op_values(cy, name, view)
            np.testing.assert_array_equal(got, getattr(vm, name)(view))
            np.testing.assert_array_equal(twin.call(op_values, name, view), NUMPY[name](view))


@pytest.mark.parametrize("act", ["tanh", "sigmoid"])
def test_dense_activation_uses_the_kernels(both, act):
    twin, cy = both
    vm = compiled()
    rng = np.random.default_rng(7)
    X, W, b = rng.standard_normal((33, 20)), rng.standard_normal((20, 17)), rng.standard_normal(17)
    y = dense_values(cy, X, W, b, act)
    z = twin.call(dense_values, X, W, b, None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        want = getattr(vm, act)(z)
    np.testing.assert_allclose(y, want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", FUNCTIONS)
def test_blocks_holding_special_values(level, name):
    """float64 runs blocks of 512 elements through a fast path only when all of a block is in
    its range: a NaN, inf or zero in one block changes that block's path, not its values
    (beyond the bound) nor any other block's."""
    rng = np.random.default_rng(8)
    x = rng.uniform(0.1, 5.0, 3000)
    clean = getattr(level, name)(x)
    y = x.copy()
    y[[700, 1500, 2999]] = [np.nan, np.inf, 0.0]
    got = getattr(level, name)(y)
    with np.errstate(all="ignore"):
        want = NUMPY[name](y)
    special = [700, 1500, 2999]
    np.testing.assert_array_equal(got[special], want[special])
    rest = np.ones(3000, bool)
    rest[special] = False
    assert ulps(got[rest], clean[rest]).max() <= 2 * twin.ULP_BOUNDS[name]["float64"]
    untouched = np.ones(3000, bool)
    for i in special:
        untouched[i // 512 * 512:(i // 512 + 1) * 512] = False
    np.testing.assert_array_equal(got[untouched], clean[untouched])


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize("name", FUNCTIONS)
def test_in_place_gives_the_same_answers(level, name, dtype):
    """o == x (how the losses and reductions call the kernels) gives the values of a separate
    output bit for bit, also in blocks holding special values (the float64 fast loops fall back
    to the full functions there, which need x unchanged) and in every tail length."""
    rng = np.random.default_rng(9)
    x = rng.uniform(0.05, 6.0, 3000).astype(dtype)
    x[[5, 1100, 1101, 2047, 2999]] = [np.nan, np.inf, 0.0, -1.0, np.finfo(dtype).tiny / 4]
    with np.errstate(all="ignore"):
        for n in (3000, 2048, 515, 37, 6, 1):
            np.testing.assert_array_equal(level._in_place(name, x[:n]), getattr(level, name)(x[:n]))
        wide = sweep(name, dtype, n=5_000, seed=3)
        np.testing.assert_array_equal(level._in_place(name, wide), getattr(level, name)(wide))
