"""Shared fixtures. fastgrad binds one backend per process, at import: the API-level tests run on
that one (ids ``cy`` or ``py``); the suite run again with ``FASTGRAD_NO_EXTENSIONS=1`` covers the
twins. ``both`` compares the two side by side, for the parity tests."""
import numpy as np
import pytest

import fastgrad
from fastgrad import _backend


def compiled_available():
    if _backend.extensions_disabled():
        return False
    try:
        _backend.load("cython")
    except ImportError:
        return False
    return True


class Front:
    """The active backend seen from Python: its Tensor class and its op functions as attributes
    (``fg.Tensor``, ``fg.tanh``, ``fg.matmul``, ...), like the fastgrad namespace."""

    def __init__(self, name):
        assert name == _backend.active.name, f"{name}: this process runs {_backend.active.name}"
        self.name = name
        self.bk = _backend.active
        self.Tensor = fastgrad.Tensor
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


@pytest.fixture(scope="session")
def twin_worker():
    """A process running the pure-Python twins (tests/twin.py), started once."""
    from twin import TwinWorker
    worker = TwinWorker()
    yield worker
    worker.close()


@pytest.fixture
def both(request):
    """(the twins' worker, the compiled Front), for comparing the two: ``both[0].call(fn, ...)``
    runs ``fn(front, ...)`` on the twins in their own process (tests/twin.py), ``fn(both[1],
    ...)`` on the compiled backend here. Skipped when this process runs the twins."""
    if _backend.active.name != "cython":
        pytest.skip("the compiled modules are not the active backend")
    return request.getfixturevalue("twin_worker"), Front("cython")


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
