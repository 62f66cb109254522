"""The compiled modules do not import the Python twins: what both backends need (messages,
checks, constants, op codes) lives in fastgrad/_shared, and the twins are references only."""
import glob
import os
import subprocess
import sys
import textwrap

import pytest

import fastgrad
from fastgrad import _backend

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMPILED = sorted(os.path.splitext(os.path.basename(p))[0]
                  for p in glob.glob(os.path.join(ROOT, "csrc", "*.pyx")))

# the fastgrad in use (installed, or this checkout built in place): where its compiled modules are
PACKAGE = os.path.dirname(os.path.abspath(fastgrad.__file__))

# Every compiled module is imported with fastgrad._py unimportable, and without running
# fastgrad/__init__.py (which binds a backend and the faces: only the modules' own imports count).
PROBE = textwrap.dedent("""
    import importlib, importlib.abc, sys, types

    class NoTwins(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name == "fastgrad._py" or name.startswith("fastgrad._py."):
                raise ImportError(f"{{name}} was imported by a compiled module")
            return None

    sys.meta_path.insert(0, NoTwins())
    package = types.ModuleType("fastgrad")
    package.__path__ = [{package!r}]
    sys.modules["fastgrad"] = package
    for name in {modules!r}:
        importlib.import_module("fastgrad._cy." + name)
    print("imported", len({modules!r}))
""")


def test_the_compiled_module_list_is_the_backends():
    assert set(COMPILED) == set(_backend.MODULES)


@pytest.mark.skipif(_backend.extensions_disabled() or _backend.active.name != "cython",
                    reason="the compiled modules are not in use")
def test_compiled_modules_do_not_import_the_twins():
    done = subprocess.run([sys.executable, "-c", PROBE.format(package=PACKAGE, modules=COMPILED)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == f"imported {len(COMPILED)}"


def test_the_probe_catches_an_import_of_a_twin():
    """The probe itself: a module that imports a twin fails it."""
    probe = PROBE.format(package=PACKAGE, modules=[]) + "\nimport fastgrad._py.opcodes\n"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, check=False)
    assert done.returncode != 0
    assert "fastgrad._py" in done.stderr


def test_shared_modules_import_neither_backend():
    probe = textwrap.dedent(f"""
        import importlib, pkgutil, sys, types
        package = types.ModuleType("fastgrad")
        package.__path__ = [{ROOT!r} + "/fastgrad"]
        sys.modules["fastgrad"] = package
        import fastgrad._shared
        for info in pkgutil.iter_modules(fastgrad._shared.__path__):
            importlib.import_module("fastgrad._shared." + info.name)
        print(sorted(m for m in sys.modules if m.startswith(("fastgrad._py", "fastgrad._cy"))))
    """)
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "[]"
