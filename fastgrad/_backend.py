"""Picks the compiled engine modules or their Python twins, once, at import.

``FASTGRAD_NO_EXTENSIONS=1`` (or compiled modules that are missing or fail to import) selects
the twins in fastgrad/_py; otherwise the Cython modules in fastgrad/_cy are used. The API
(fastgrad.Tensor, the op functions, grad and its family, fastgrad.numpy) is module-level code
bound to ``active`` at import. The kernel modules of both sets stay importable side by side:
``load("python")`` and ``load("cython")`` return either (the parity tests use that).
"""
import importlib
import os
import warnings

# The engine modules; each exists as fastgrad._cy.<name> (compiled) and fastgrad._py.<name>.
MODULES = ("opcodes", "node", "toposort", "sweep", "elementwise", "reduce", "shape", "blas",
           "linalg", "scalar", "dense", "losses", "vmath", "tape", "dispatch",
           "recorded_sweep")

PACKAGES = {"cython": "fastgrad._cy", "python": "fastgrad._py"}


class Backend:
    """One backend's engine modules, as attributes (``bk.node``, ``bk.sweep``, ...)."""

    def __init__(self, name):
        self.name = name
        for module in MODULES:
            setattr(self, module, importlib.import_module(f"{PACKAGES[name]}.{module}"))

    def __repr__(self):
        return f"<fastgrad backend {self.name!r}>"


_loaded = {}


def load(name):
    """The backend called ``name`` ("cython" or "python"), imported once."""
    if name not in _loaded:
        _loaded[name] = Backend(name)
    return _loaded[name]


def loaded():
    """The backends imported so far (grad mode is switched on all of them)."""
    return list(_loaded.values())


def extensions_disabled():
    return os.environ.get("FASTGRAD_NO_EXTENSIONS", "").strip() not in ("", "0")


def _choose():
    if extensions_disabled():
        return load("python")
    try:
        return load("cython")
    except ModuleNotFoundError as e:
        if not (e.name or "").startswith("fastgrad._cy"):
            raise
        # not compiled (the build said so): the twins are the backend
    except ImportError as e:
        warnings.warn(f"fastgrad: the compiled modules failed to import ({e}); "
                      f"using the pure-Python backend", RuntimeWarning, stacklevel=3)
    _loaded.pop("cython", None)
    return load("python")


active = _choose()
