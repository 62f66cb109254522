"""The op table: every entry's VJP and JVP against finite differences to second order
(check_grads), the recorded path against the compiled first-order path, and the surfaces
derived from the table (fastgrad.*, Tensor methods, numpy ufuncs, the numpy face, stubs, op
codes) listing exactly the table's ops."""
import ast
import os
import re

import numpy as np
import pytest
from conftest import BACKENDS, IDS
from optable_cases import CASES, all_cases, make_inputs

import fastgrad
import fastgrad.numpy as fnp
from fastgrad import ops
from fastgrad.ops.table import OPS
from fastgrad.recorded import gradients
from fastgrad.test_util import check_grads

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASE_LIST = list(all_cases())


@pytest.fixture(params=BACKENDS, ids=[IDS[b] for b in BACKENDS])
def backend(request):
    return request.param


def test_every_entry_has_cases():
    assert set(CASES) == set(OPS)


@pytest.mark.parametrize("case", CASE_LIST, ids=[c[0] for c in CASE_LIST])
def test_check_grads_second_order(case, backend):
    """Forward and reverse mode, then both differentiated again, vs finite differences."""
    _, name, fun, specs = case
    F = ops.PUBLIC
    inputs = make_inputs(specs, seed=len(name))
    check_grads(lambda *xs: fun(F, *xs), tuple(range(len(inputs))), modes=("fwd", "rev"),
                order=2, backend=backend)(*inputs)


@pytest.mark.parametrize("case", CASE_LIST, ids=[c[0] for c in CASE_LIST])
def test_recorded_path_matches_compiled_path(case, backend):
    """First-order gradients: the table's VJPs (recorded) and the kernels agree to 1e-12."""
    _, name, fun, specs = case
    F = ops.PUBLIC
    Tensor = fastgrad.Tensor
    inputs = make_inputs(specs, seed=len(name) + 1)
    leaves = [Tensor(x, requires_grad=True) for x in inputs]
    out = fun(F, *leaves)
    assert fastgrad.tensor.op_name(out) == ("_cube" if name == "custom" else name)
    seed = np.random.default_rng(1).standard_normal(out.data.shape)
    recorded = gradients(out, leaves, seed)
    out.backward(seed)
    for leaf, g in zip(leaves, recorded):
        scale = max(1.0, float(np.abs(leaf.grad).max()))
        np.testing.assert_allclose(g.data, leaf.grad, rtol=1e-12, atol=1e-12 * scale)


def test_a_wrong_rule_is_caught(monkeypatch):
    """check_grads fails when a rule is wrong (here tan's derivative off by a factor)."""
    op = OPS["tan"]
    x = np.array([0.1, -0.3, 0.4])
    monkeypatch.setattr(op, "vjp", (lambda g, y, a: g * (1 + y * y) * 1.001,))
    with pytest.raises(AssertionError, match="reverse mode"):
        check_grads(fastgrad.tan, modes=("rev",), order=1)(x)
    monkeypatch.setattr(op, "vjp", (lambda g, y, a: g * (1 + y * y),))
    monkeypatch.setattr(op, "jvp", (lambda t, y, a: t * (1 + y),))
    with pytest.raises(AssertionError, match="forward mode"):
        check_grads(fastgrad.tan, modes=("fwd",), order=1)(x)


# ---------------------------------------------------------------- derived surfaces

def test_public_functions_are_the_table():
    made = set(ops.PUBLIC)
    assert made == {op.function for op in OPS.values() if op.function} | {"dot"}
    assert set(ops.__all__) == made
    assert made <= set(fastgrad.__all__)
    for name in made:
        assert callable(getattr(fastgrad, name))


def test_op_codes_are_the_table():
    """Each entry with a kernel has the code the op-code files give its name (both files)."""
    from fastgrad._py import opcodes
    coded = {op.code: op.name for op in OPS.values() if op.code is not None}
    assert coded == {code: name for code, name in opcodes.OP_NAMES.items()
                     if code != opcodes.OP_LEAF}
    with open(os.path.join(ROOT, "fastgrad", "_cy", "opcodes.pxd")) as f:
        pxd = re.findall(r"^\s+OP_(\w+)", f.read(), re.MULTILINE)
    assert [n.lower() for n in pxd][1:] == [coded[c] for c in sorted(coded)]


def test_tensor_methods_and_ufuncs_are_the_table(backend):
    Tensor = fastgrad.Tensor
    for op in OPS.values():
        if op.method:
            assert callable(getattr(Tensor, op.function)), op.name
    for name, op in ops.UFUNC_OPS.items():
        x = Tensor(np.array([1.2, 1.4] if name == "arccosh" else [0.2, 0.4]),
                   requires_grad=True)
        args = [x] * op.nargs
        out = getattr(np, name)(*args)
        assert fastgrad.tensor.op_name(out) is not None, name
        assert out.requires_grad, name


def test_numpy_face_has_the_table_ops():
    """fastgrad.numpy differentiates every table op numpy has (the same set as fastgrad.*)."""
    for name, op in ops.UFUNC_OPS.items():
        x = fastgrad.Tensor(np.array([1.2, 1.4] if name == "arccosh" else [0.2, 0.4]),
                            requires_grad=True)
        out = getattr(fnp, name)(*[x] * op.nargs)
        assert out.requires_grad, name
        assert getattr(fastgrad, op.function) is not None
    for name in ("sum", "mean", "max", "min", "cumsum", "matmul", "reshape", "transpose",
                 "concatenate", "stack", "broadcast_to", "where", "clip"):
        assert name in fnp.__all__


def test_stubs_declare_every_kernel():
    for op in OPS.values():
        if op.kernel is None:
            continue
        module, attr = op.kernel
        with open(os.path.join(ROOT, "fastgrad", "_cy", f"{module}.pyi")) as f:
            names = {node.name for node in ast.parse(f.read()).body
                     if isinstance(node, ast.FunctionDef)}
        assert attr in names, f"{module}.pyi lacks {attr}"


def test_python_m_fastgrad_ops_prints_every_op():
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-W", "error", "-m", "fastgrad.ops"],
                         capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stderr == ""
    for op in OPS.values():
        assert re.search(rf"^{op.name}\b", out.stdout, re.MULTILINE), op.name
