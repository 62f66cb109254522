"""Functional forms of the layers and losses (like ``torch.nn.functional``).

Each function runs on the active backend's kernels (the compiled engine, or the Python twins
under ``FASTGRAD_NO_EXTENSIONS=1``).

>>> import fastgrad.nn.functional as F
>>> F.dense(x, W, b, activation="tanh")          # y = tanh(x @ W + b), one graph node
>>> F.cross_entropy(logits, labels)               # mean softmax cross-entropy, one node
"""
from .. import _backend


def resolve_backend(backend=None):
    """The active Backend, from None, its name ("cython" or "python") or itself. fastgrad binds
    one backend per process, at import: naming the other one raises."""
    active = _backend.active
    if backend is None or backend is active:
        return active
    if isinstance(backend, str):
        if backend not in _backend.PACKAGES:
            raise ValueError(f"unknown backend {backend!r}; expected 'cython' or 'python'")
        if backend == active.name:
            return active
    name = getattr(backend, "name", backend)
    raise ValueError(f"backend={name!r}: this process runs the {active.name!r} backend, bound "
                     f"once at import (FASTGRAD_NO_EXTENSIONS=1 selects the Python twins, in "
                     f"a process of their own)")


def backend_of(*values):
    """The backend of the first Tensor among ``values`` (the active one if there is none)."""
    for value in values:
        bk = getattr(type(value), "_backend", None)
        if bk is not None:
            return bk
    return _backend.active


def dense(x, W, b=None, activation=None):
    """y = act(x @ W + b) as one node. W has shape (in, out), b (out,); activation is None,
    "tanh", "relu" or "sigmoid"."""
    return backend_of(W, x).dense.dense(x, W, b, activation)


def relu(x):
    return backend_of(x).elementwise.relu(x)


def tanh(x):
    return backend_of(x).elementwise.tanh(x)


def sigmoid(x):
    return backend_of(x).elementwise.sigmoid(x)


def softmax(x, axis=-1):
    return backend_of(x).reduce.softmax(x, axis)


def log_softmax(x, axis=-1):
    return backend_of(x).reduce.log_softmax(x, axis)


def softmax_cross_entropy(logits, target, reduction="mean"):
    """Cross-entropy of softmax(logits) (N, C) against class indices (N,) or probability /
    one-hot rows (N, C); "mean" (over rows), "sum" or "none"."""
    return backend_of(logits).losses.softmax_cross_entropy(logits, target, reduction)


cross_entropy = softmax_cross_entropy


def binary_cross_entropy_with_logits(logits, target, reduction="mean"):
    """Binary cross-entropy of sigmoid(logits) against targets in [0, 1], computed stably."""
    return backend_of(logits).losses.binary_cross_entropy_with_logits(logits, target, reduction)


def mse_loss(input, target, reduction="mean"):
    """Mean squared error; the target may require grad too."""
    return backend_of(input, target).losses.mse_loss(input, target, reduction)


def hinge_loss(scores, target, reduction="mean"):
    """Binary hinge loss max(0, 1 - target * scores), targets in {-1, +1}."""
    return backend_of(scores).losses.hinge_loss(scores, target, reduction)


__all__ = [
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dense",
    "hinge_loss",
    "log_softmax",
    "mse_loss",
    "relu",
    "sigmoid",
    "softmax",
    "softmax_cross_entropy",
    "tanh",
]
