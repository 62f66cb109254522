"""The compiled kernels against their Python twins: same inputs, same outputs and gradients
(float64 to ~1e-12, float32 to ~1e-5), and float32 stays float32 on both."""
import numpy as np
import pytest

from cases import CASES, draw
from helpers import analytic_grads

TOLERANCE = {np.float64: dict(rtol=1e-12, atol=1e-12), np.float32: dict(rtol=1e-5, atol=1e-6)}


def inputs(case, dtype, seed=1):
    rng = np.random.default_rng(seed)
    return [draw(rng, shape, domain).astype(dtype) for shape, domain in case[2]]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_compiled_matches_twin(both, case, dtype):
    py, cy = both
    arrays = inputs(case, dtype)
    out_py, grads_py = analytic_grads(py, case[1], arrays)
    out_cy, grads_cy = analytic_grads(cy, case[1], arrays)
    assert out_py.dtype == out_cy.dtype == dtype
    np.testing.assert_allclose(out_cy.data, out_py.data, **TOLERANCE[dtype])
    for k, (g_cy, g_py) in enumerate(zip(grads_cy, grads_py)):
        assert g_cy.dtype == g_py.dtype == dtype, f"input {k}"
        np.testing.assert_allclose(g_cy, g_py, **TOLERANCE[dtype], err_msg=f"input {k}")


ARITHMETIC = ["add", "sub_same", "mul_same", "div_same", "add_scalar", "sub_scalar",
              "mul_scalar", "div_scalar", "rdiv_scalar", "neg", "sum_all", "max_all"]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", ARITHMETIC)
def test_arithmetic_is_bit_identical(both, name, dtype):
    """Where only + - * / are involved, the typed loops round exactly like numpy."""
    py, cy = both
    case = next(c for c in CASES if c[0] == name)
    arrays = inputs(case, dtype)
    out_py, grads_py = analytic_grads(py, case[1], arrays)
    out_cy, grads_cy = analytic_grads(cy, case[1], arrays)
    np.testing.assert_array_equal(out_cy.data, out_py.data)
    for g_cy, g_py in zip(grads_cy, grads_py):
        np.testing.assert_array_equal(g_cy, g_py)
