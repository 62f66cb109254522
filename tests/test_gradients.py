"""Every op's gradient against central finite differences (float64), on both backends."""
import numpy as np
import pytest

from cases import CASES, draw
from helpers import analytic_grads, graph_ops, numeric_grads

from fastgrad._py.opcodes import OP_CUSTOM, OP_LEAF, OpCode


def inputs(case, seed=0):
    rng = np.random.default_rng(seed)
    return [draw(rng, shape, domain) for shape, domain in case[2]]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_gradient_matches_finite_differences(fg, case):
    _, fn, _ = case
    arrays = inputs(case)
    out, grads = analytic_grads(fg, fn, arrays)
    expected = numeric_grads(fg, fn, arrays)
    for k, (got, want) in enumerate(zip(grads, expected)):
        assert got is not None, f"input {k} received no gradient"
        assert got.shape == arrays[k].shape and got.dtype == np.float64
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=f"input {k}")


def test_cases_cover_every_op(fg):
    """Adding an op without a gradient test fails here."""
    covered = set()
    for case in CASES:
        arrays = inputs(case)
        out = case[1](fg, *[fg.Tensor(a, requires_grad=True) for a in arrays])
        covered |= graph_ops(out)
    wanted = {int(op) for op in OpCode if op.name.startswith("OP_")} - {OP_LEAF, OP_CUSTOM}
    assert not wanted - covered, f"ops without a gradient case: {sorted(wanted - covered)}"
