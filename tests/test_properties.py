"""Property tests over random expression graphs (hypothesis): graphs that reuse nodes (diamonds),
broadcast, reduce and reshape give the same values and gradients on both backends, and their
gradients match finite differences."""
import numpy as np
import pytest
from helpers import analytic_grads, numeric_grads
from hypothesis import given, settings
from hypothesis import strategies as st

import fastgrad

# Smooth, bounded ops, so that finite differences are reliable anywhere.
UNARY = {
    "tanh": lambda fg, x: fg.tanh(x),
    "sigmoid": lambda fg, x: fg.sigmoid(x),
    "sin": lambda fg, x: fg.sin(x),
    "square": lambda fg, x: x * x,
    "softplus": lambda fg, x: fg.log(1.0 + fg.exp(fg.tanh(x))),
    "scaled": lambda fg, x: 0.5 * x - 0.25,
    "softmax": lambda fg, x: fg.softmax(x, axis=-1),
    "log_softmax": lambda fg, x: fg.log_softmax(x, axis=0) * 0.1,
    "transpose_back": lambda fg, x: fg.transpose(x.T),
    "reshape_back": lambda fg, x: x.reshape(-1).reshape(x.shape),
    "row_sum": lambda fg, x: fg.sum(x, axis=1, keepdims=True),
    "col_mean": lambda fg, x: fg.mean(x, axis=0),
    "lse_rows": lambda fg, x: fg.logsumexp(x, axis=1, keepdims=True),
    "bce": lambda fg, x: fg.bk.losses.binary_cross_entropy_with_logits(
        x, np.full(x.shape, 0.25), reduction="none"),
    "mse": lambda fg, x: fg.bk.losses.mse_loss(x, np.full(x.shape, 0.5), reduction="none"),
}
BINARY = {
    "add": lambda fg, a, b: a + b,
    "sub": lambda fg, a, b: a - b,
    "mul": lambda fg, a, b: a * b,
    "safe_div": lambda fg, a, b: a / (1.5 + fg.tanh(b)),
    "matmul_t": lambda fg, a, b: (a @ b.T) * 0.1 if a.ndim == 2 and b.ndim == 2 else a * b,
}

# the rank each op needs (the others take any): reductions over axis 0/1, transposes
MIN_RANK = {"softmax": 1, "log_softmax": 1, "col_mean": 1, "row_sum": 2, "lse_rows": 2,
            "transpose_back": 2}

SHAPES = st.sampled_from([(3, 4), (1, 4), (3, 1), (4,), ()])  # 0-d too


@st.composite
def programs(draw):
    """A list of leaf shapes and of steps (op name, operand indexes) over earlier values."""
    n_leaves = draw(st.integers(1, 3))
    leaves = [draw(SHAPES) for _ in range(n_leaves)]
    steps = []
    for k in range(draw(st.integers(1, 7))):
        count = n_leaves + k
        if draw(st.booleans()):
            steps.append((draw(st.sampled_from(sorted(UNARY))), (draw(st.integers(0, count - 1)),)))
        else:
            steps.append((draw(st.sampled_from(sorted(BINARY))),
                          (draw(st.integers(0, count - 1)), draw(st.integers(0, count - 1)))))
    return leaves, steps


def run(fg, steps, *leaves):
    values = list(leaves)
    for name, args in steps:
        if name in UNARY:
            x = values[args[0]]
            if x.ndim < MIN_RANK.get(name, 0):
                values.append(fg.tanh(x))  # too few axes for this op
            else:
                values.append(UNARY[name](fg, x))
        else:
            a, b = values[args[0]], values[args[1]]
            try:
                values.append(BINARY[name](fg, a, b))
            except ValueError:  # shapes that do not broadcast: use one operand
                values.append(fg.sin(a))
    total = values[-1]
    for v in values[len(leaves):-1]:  # every intermediate reaches the root: diamonds galore
        total = total + fg.sum(v) * 0.01
    return total


def draw_inputs(seed, shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in shapes]


def program_result(fg, steps, arrays):
    """The program's output and gradients on Front ``fg`` (arrays; run on both sides)."""
    out, grads = analytic_grads(fg, lambda fg, *xs: run(fg, steps, *xs), arrays)
    return out.data, grads


@pytest.fixture(scope="module")
def twin_and_compiled(request):
    """(the twins' worker process, the compiled Front); skipped when this process runs the
    twins (see conftest.both)."""
    from conftest import Front
    if fastgrad.BACKEND != "cython":
        pytest.skip("the compiled modules are not the active backend")
    return request.getfixturevalue("twin_worker"), Front("cython")


@settings(max_examples=60, deadline=None)
@given(programs(), st.integers(0, 2**31 - 1))
def test_random_graphs_agree_across_backends(twin_and_compiled, program, seed):
    twin, cy = twin_and_compiled
    shapes, steps = program
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 2e-5)):
        arrays = [a.astype(dtype) for a in draw_inputs(seed, shapes)]
        out_py, g_py = twin.call(program_result, steps, arrays)
        out_cy, g_cy = program_result(cy, steps, arrays)
        assert out_cy.dtype == out_py.dtype == dtype
        np.testing.assert_allclose(out_cy, out_py, rtol=tol, atol=tol)
        for a, b, x in zip(g_cy, g_py, arrays):
            assert (a is None) == (b is None)  # an unused leaf gets no gradient on either
            if a is not None:
                assert a.dtype == dtype and a.shape == x.shape
                np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@settings(max_examples=25, deadline=None)
@given(programs(), st.integers(0, 2**31 - 1))
def test_random_graphs_match_finite_differences(program, seed):
    from conftest import BACKENDS, Front
    shapes, steps = program
    arrays = draw_inputs(seed, shapes)
    fn = lambda fg, *xs: run(fg, steps, *xs)
    for name in BACKENDS:
        fg = Front(name)
        _, grads = analytic_grads(fg, fn, arrays)
        for got, want in zip(grads, numeric_grads(fg, fn, arrays)):
            got = np.zeros_like(want) if got is None else got  # unused: no gradient at all
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
