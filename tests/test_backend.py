"""Backend selection: the compiled modules load when they should, FASTGRAD_NO_EXTENSIONS=1
selects the twins, and the two sets have the same op codes and the same names."""
import os
import pytest
from helpers import run_python

import fastgrad
from fastgrad import _backend
from fastgrad._py.opcodes import OpCode


def test_backend_is_named():
    assert fastgrad.BACKEND in ("cython", "python")
    assert fastgrad.BACKEND == _backend.active.name


def test_compiled_modules_loaded_when_required():
    """CI builds with FASTGRAD_REQUIRE_EXTENSIONS=1 and runs the tests with it set too: then a
    build that silently fell back to the twins must fail here."""
    if os.environ.get("FASTGRAD_REQUIRE_EXTENSIONS", "").strip() in ("", "0"):
        pytest.skip("FASTGRAD_REQUIRE_EXTENSIONS is not set")
    if _backend.extensions_disabled():
        pytest.skip("FASTGRAD_NO_EXTENSIONS selects the twins")
    assert fastgrad.BACKEND == "cython"
    for name in _backend.MODULES:
        module = getattr(_backend.active, name)
        assert module.__name__ == f"fastgrad._cy.{name}"
        assert not module.__file__.endswith(".py"), module.__file__


def test_no_extensions_selects_the_twins():
    out = run_python(["-c", "import fastgrad; print(fastgrad.BACKEND, "
                      "fastgrad._backend.active.node.__name__)"],
                     env={"FASTGRAD_NO_EXTENSIONS": "1"}, check=True)
    assert out.stdout.split() == ["python", "fastgrad._py.node"]


def test_both_backends_importable_side_by_side():
    py = _backend.load("python")
    assert py.node.__name__ == "fastgrad._py.node"
    try:
        cy = _backend.load("cython")
    except ImportError:
        pytest.skip("the compiled modules are not built")
    assert cy.node is not py.node and cy.node.Node is not py.node.Node


@pytest.fixture
def compiled():
    if _backend.extensions_disabled():
        pytest.skip("FASTGRAD_NO_EXTENSIONS is set")
    try:
        return _backend.load("cython")
    except ImportError:
        pytest.skip("the compiled modules are not built")


def test_op_codes_agree(compiled):
    assert {op.name: int(op) for op in compiled.opcodes.OpCode} == \
        {op.name: int(op) for op in OpCode}


def test_every_op_has_a_vjp_in_both(compiled):
    twin = _backend.load("python")
    for op in OpCode:
        if op.name in ("OP_LEAF", "N_OPS"):
            continue
        assert twin.node.has_vjp(int(op)), op.name
        assert compiled.node.has_vjp(int(op)), op.name


def public_functions(module):
    """The module's own public functions, less the VJPs and their table (C-level in the
    compiled modules: the sweep calls them through function pointers)."""
    return {name for name, value in vars(module).items()
            if callable(value) and not name.startswith(("_", "vjp_"))
            and name != "register_vjp" and not isinstance(value, type)
            and getattr(value, "__module__", module.__name__) == module.__name__}


@pytest.mark.parametrize("name", [m for m in _backend.MODULES if m != "opcodes"])
def test_twins_have_the_same_names(compiled, name):
    """Every public function either module defines, the other offers too (compiled modules
    import the pure helpers, messages and numpy fallbacks from their twins)."""
    twin_module, built_module = getattr(_backend.load("python"), name), getattr(compiled, name)
    twin, built = public_functions(twin_module), public_functions(built_module)
    assert not {n for n in twin if not hasattr(built_module, n)}, \
        f"in the twin only: {sorted(n for n in twin if not hasattr(built_module, n))}"
    assert not {n for n in built if not hasattr(twin_module, n)}, \
        f"compiled only: {sorted(n for n in built if not hasattr(twin_module, n))}"
