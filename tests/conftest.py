"""Shared fixtures. fastgrad binds one backend per process, at import: the API-level tests run on
that one (ids ``cy`` or ``py``); the suite run again with ``FASTGRAD_NO_EXTENSIONS=1`` covers the
twins. ``both`` compares the two side by side, for the parity tests."""
import numpy as np
import pytest

from fastgrad import _backend
from fastgrad.tensor import tensor_class


def compiled_available():
    if _backend.extensions_disabled():
        return False
    try:
        _backend.load("cython")
    except ImportError:
        return False
    return True


class Front:
    """One backend seen from Python: its Tensor class and its op functions as attributes
    (``fg.Tensor``, ``fg.tanh``, ``fg.matmul``, ...), like the fastgrad namespace."""

    def __init__(self, name):
        self.name = name
        self.bk = _backend.load(name)
        self.Tensor = tensor_class(self.bk)
        self._modules = (self.bk.elementwise, self.bk.reduce, self.bk.shape, self.bk.linalg)

    def __getattr__(self, name):
        for module in self._modules:
            if hasattr(module, name):
                return getattr(module, name)
        raise AttributeError(name)

    def __repr__(self):
        return f"<Front {self.name}>"


# the backend this process runs (the API is bound to it at import)
BACKENDS = [_backend.active.name]
IDS = {"python": "py", "cython": "cy"}


@pytest.fixture(params=BACKENDS, ids=[IDS[b] for b in BACKENDS])
def fg(request):
    """The Front of the active backend."""
    return Front(request.param)


@pytest.fixture
def both():
    """(python Front, cython Front), for comparing the two; skipped when not compiled."""
    if not compiled_available():
        pytest.skip("the compiled modules are not available")
    return Front("python"), Front("cython")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
