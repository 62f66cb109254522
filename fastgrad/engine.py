"""backward(root): sort, then sweep; no math in here.

Semantics (the PyTorch ones, which users of arrays expect):

- Leaves (tensors made by the user, with requires_grad=True) accumulate: each backward adds into
  ``.grad`` until ``zero_grad()`` sets it back to None.
- Interior tensors do not keep a gradient unless ``retain_grad()`` was called on them.
- backward frees the graph it went through (parents and saved values), so a second backward
  through it raises; ``retain_graph=True`` keeps it.
- If the result or a leaf's gradient holds NaN or Inf, backward raises FloatingPointError naming
  the first op that produced one, and leaves every gradient as it was before the call.
  ``set_finite_check(False)`` turns the check off.
"""
import contextlib

import numpy as np

from . import _backend, _recording
from ._py.opcodes import OP_LEAF as OP_LEAF_CODE
from ._shared import node as _shared_node

_check_finite = True


def set_finite_check(enabled):
    """Turn the NaN/Inf check of backward() on or off; return the previous setting."""
    global _check_finite
    previous = _check_finite
    _check_finite = bool(enabled)
    return previous


def backward(bk, root, gradient=None, retain_graph=False, create_graph=False):
    """Add d(root)/d(leaf), times ``gradient``, into every leaf that reaches ``root``.

    With ``create_graph`` the gradients are computed by the op table's VJPs as recorded ops
    (fastgrad.recorded): each leaf's ``.grad`` becomes a Tensor that can be differentiated
    again, and the graph is kept. Otherwise the compiled kernels run and record nothing."""
    if not root.requires_grad:
        raise RuntimeError(
            "backward: this tensor does not require grad: none of the tensors it was computed "
            "from has requires_grad=True, or it was computed under no_grad()")
    if create_graph:
        # a gradient that is itself a Tensor keeps its graph (the result is differentiable
        # with respect to it too)
        traced = hasattr(type(gradient), "_backend") and gradient.data.shape == root.data.shape
        _backward_recorded(root, gradient if traced else _seed(root, gradient))
        return
    seed = _seed(root, gradient)
    order = bk.toposort.toposort(root)
    recorder = _recording.active()
    if recorder is not None:  # fastgrad.capture: the graph, before the sweep changes grads
        recorder.backward(bk, root, order, gradient)
    if _graph_grads or _shared_node.tensor_grad_assigned:
        held = _hold_graph_grads(order)
        try:
            touched = bk.sweep.sweep(order, seed)
            if _check_finite:
                _check(bk, order, seed, touched)
        finally:
            _restore_graph_grads(held)
    else:
        touched = bk.sweep.sweep(order, seed)
        if _check_finite:
            _check(bk, order, seed, touched)
    if not retain_graph:
        bk.sweep.free_graph(order)


_graph_grads = False  # set once a backward(create_graph=True) has put a Tensor in a .grad


def _backward_recorded(root, seed):
    """backward(create_graph=True): leaves (and retain_grad() tensors) get Tensor gradients."""
    global _graph_grads
    from . import recorded
    targets = [n for n in recorded._sort([root], ())
               if n._op == OP_LEAF_CODE or n._retain]
    grads = recorded.gradients(root, targets, seed, create_graph=True)
    for node, g in zip(targets, grads):
        node.grad = g if node.grad is None else node.grad + g
    _graph_grads = True


def _hold_graph_grads(order):
    """Take the Tensor gradients (from backward(create_graph=True)) out of the leaves, so that
    the compiled sweep adds into nothing but arrays."""
    held = []
    for node in order:
        g = node.grad
        if g is not None and type(g) is not np.ndarray and hasattr(type(g), "_backend"):
            held.append((node, g))
            node.grad = None
    return held


def _restore_graph_grads(held):
    for node, g in held:
        node.grad = g if node.grad is None else g + node.grad


def check_finite_sweep(bk, order, seed, touched):
    """After ``touched = bk.sweep.sweep(order, seed)``: unless the check is off, raise
    FloatingPointError naming the first op that made a NaN/Inf in the result or in a leaf's
    gradient, with every gradient restored as it was before the sweep."""
    if _check_finite:
        _check(bk, order, seed, touched)


_ONE = {}  # read-only scalar ones: the usual seed, never written into (it is not owned)


def _seed(root, gradient):
    data = root.data
    if gradient is None:
        if data.size != 1:
            raise ValueError(
                f"backward: the tensor has shape {data.shape}; backward() without a gradient "
                f"needs a single-element result: reduce it first (e.g. .sum()), or pass "
                f"gradient= an array of shape {data.shape}")
        if data.ndim:
            return np.ones(data.shape, dtype=data.dtype)
        one = _ONE.get(data.dtype)
        if one is None:
            one = _ONE[data.dtype] = np.ones((), dtype=data.dtype)
            one.flags.writeable = False
        return one
    g = np.asarray(getattr(gradient, "data", gradient))
    if g.shape != data.shape:
        raise ValueError(f"backward: gradient has shape {g.shape} but the tensor has shape "
                         f"{data.shape}")
    if g.dtype.kind not in "biuf":
        raise TypeError(f"backward: gradient has dtype {g.dtype}; it must be a real number array")
    return g.astype(data.dtype, copy=False)


def _check(bk, order, seed, touched):
    if bk.sweep.finite_result(order, touched):
        return
    bk.sweep.rollback(order, touched)
    raise FloatingPointError(_diagnose(bk, order, seed))


def _diagnose(bk, order, seed):
    """Name the first op whose value or gradient went NaN/Inf (the graph is still intact)."""
    all_finite = bk.sweep.all_finite
    describe = bk.node.describe
    for node in order:
        if all_finite(node.data):
            continue
        if node._prev is None:
            return (f"backward: an input tensor ({node.data.dtype} {node.data.shape}) "
                    f"contains NaN or Inf")
        bad = [p for p in node._prev if not all_finite(p.data)]
        if not bad:
            return (f"backward: the forward value of {describe(node)} contains NaN or Inf "
                    f"although its inputs are finite")
        for p in bad:  # a constant is in no order: its NaN is first seen in its consumer
            if not p.requires_grad:
                return (f"backward: an input of {describe(node)} that does not require grad "
                        f"({p.data.dtype} {p.data.shape}) contains NaN or Inf")
    try:
        touched = bk.sweep.sweep(order, seed, True)
    except bk.node.NonFiniteGradient as e:
        p = e.parent.data
        return (f"backward: the gradient that {describe(e.node)} passes to its input "
                f"({p.dtype} {p.shape}) contains NaN or Inf")
    bk.sweep.rollback(order, touched)
    return "backward: a gradient contains NaN or Inf"


# ---------------------------------------------------------------- grad mode

def _set_grad_enabled(enabled):
    previous = True
    for bk in _backend.loaded():
        previous = bk.node.set_grad_enabled(enabled)
    return previous


def is_grad_enabled():
    """True unless inside no_grad()."""
    return _backend.active.node.is_grad_enabled()


class _GradMode(contextlib.ContextDecorator):
    def __init__(self, enabled):
        self.enabled = enabled

    def __enter__(self):
        self.previous = _set_grad_enabled(self.enabled)
        return self

    def __exit__(self, *exc):
        _set_grad_enabled(self.previous)
        return False


def no_grad():
    """Context manager (or decorator) in which ops record no graph: results are constants."""
    return _GradMode(False)


def enable_grad():
    """Context manager (or decorator) that turns recording back on inside no_grad()."""
    return _GradMode(True)


def set_grad_enabled(enabled):
    """Turn recording on or off: as a call, or as a context manager that restores it."""
    mode = _GradMode(bool(enabled))
    mode.__enter__()
    return mode


__all__ = [
    "backward",
    "check_finite_sweep",
    "enable_grad",
    "is_grad_enabled",
    "no_grad",
    "set_finite_check",
    "set_grad_enabled",
]
