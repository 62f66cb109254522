"""Fixtures and finite differences for the tests of the autograd face (grad, fastgrad.numpy)."""
import types

import numpy as np
from conftest import BACKENDS, IDS

import fastgrad.numpy
from fastgrad import _backend, autodiff


def face_of(name):
    """The active backend's autograd face: ``.np`` (fastgrad.numpy), ``.grad``, ...."""
    bk = _backend.active
    assert name == bk.name, f"{name}: this process runs {bk.name} (see conftest.BACKENDS)"
    return types.SimpleNamespace(name=name, bk=bk, np=fastgrad.numpy, **{
        f: getattr(autodiff, f) for f in ("grad", "value_and_grad", "elementwise_grad",
                                          "jacobian", "grad_and_aux", "make_vjp", "make_jvp")})


# A test module's fixture ``ag`` takes these: one run, on the active backend (id py or cy).
PER_BACKEND = {"params": BACKENDS, "ids": [IDS[b] for b in BACKENDS]}


def numeric_grad(f, x, eps=1e-6):
    """d f / d x by central differences, for a float64 array (or float) x and scalar f."""
    x = np.array(x, dtype=np.float64)
    flat = x.reshape(-1)
    out = np.zeros(x.size)
    for i in range(x.size):
        old = flat[i]
        flat[i] = old + eps
        up = float(f(x.copy() if x.ndim else float(x)))
        flat[i] = old - eps
        down = float(f(x.copy() if x.ndim else float(x)))
        flat[i] = old
        out[i] = (up - down) / (2 * eps)
    return out.reshape(x.shape)


def projection(shape, seed=3):
    """A fixed random array: a non-scalar function is reduced to sum(out * w)."""
    return np.random.default_rng(seed).standard_normal(shape)
