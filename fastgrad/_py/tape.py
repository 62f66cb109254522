"""Replay of a captured step (twin of csrc/tape.pyx: same names, numpy instead of C).

A program is a list of instructions built by fastgrad.capture from the graph of a recorded
step; each names a kernel and the arrays it reads and writes:

- ``("labels", src, out, classes)``: out = src as intp, each in [0, classes) (else ValueError)
- ``("dense_fwd", X, W, B, act, Y)`` / ``("dense_bwd", X, W, Y, G, act, GZ, GX, GW, GB)``
- ``("ce_fwd", Z, labels, T, P, L)`` / ``("ce_bwd", P, labels, T, scale, GZ)``
- ``("mse_fwd", P, T, D, L)`` / ``("mse_bwd", D, scale, GP)``
- ``("hinge_fwd", S, T, M, L)`` / ``("hinge_bwd", T, M, scale, GS)``; ``("hinge_bwd_g", T, M,
  G, mean, GS)`` when the hinge loss is part of a larger loss: its scale from the 0-d gradient G
  it gets (G, or G / M.size for a mean, as the eager VJP's gradient_scale)
- ``("reduce", L, out, mean)``: out = Σ L (/ L.size when mean), as reduce_losses does it
- ``("finite", x, k)``: stop (FloatingPointError, nothing updated) if x holds a NaN/Inf: the
  loss (k = -1), or parameter k's gradient before the update (eager backward checks both)
- ``("add_into", dst, src)``: dst += src (a second contribution to a gradient)
- ``("binary", op, a, b, out)``: out = a op b, op in add/sub/mul/div, b (or a) the same shape,
  a repeated row or one value
- ``("scalar", op, x, c, out)``: out = x + c, x·c, x / c, c - x or c / x (op
  add/mul/div/rsub/rdiv)
- ``("unary", f, x, out)``: out = f(x), f in neg/exp/log/tanh/relu/sigmoid
- ``("unary_grad", f, g, y, out)``: out = g·f'(x) from y = f(x), f in tanh/relu/sigmoid
- ``("reduce_all", "sum" | "mean", x, out)``: out = Σ x (/ x.size)
- ``("fill", out, g, mean)``: every element of out = g (/ out.size when mean)
- ``("reduce_to", out, g)``: g summed to out's shape (the axes broadcasting added)
- ``("copy", out, g)``
- ``("matmul", A, B, out)`` / ``("matmul_vjp", A, B, G, GA, GB)``: out = A·B; GA = G·Bᵀ and
  GB = Aᵀ·G (each if not None), 2-D
- ``("reduce_axes", "sum" | "mean", x, axes, out)``: out = Σ x (/ count) over ``axes``
- ``("expand", "sum" | "mean", g, axes, out)``: out = g (/ count) repeated over ``axes``
- ``("softmax", x, axis, out)`` / ``("log_softmax", x, axis, out)``, and their VJPs
  ``("softmax_vjp", g, y, axis, out)``: out = y·(g - Σ g·y), ``("log_softmax_vjp", g, y,
  axis, out)``: out = g - e^y·Σ g
- ``("bce_fwd", Z, T, E, L)`` / ``("bce_bwd", Z, T, E, scale, GZ)``
- ``("cast", src, out)``: out = src converted to out's dtype (a target the loss converted)
- ``("call", fn)``: fn() in Python, between two runs of kernels (a distributed step's
  allreduce: fastgrad.distributed.DistributedOptimizer.sum_and_divide)
- ``("bmatmul", A, B, out)``: out = A @ B for a stack (s, m, k) @ (k, n) or (s, k, n) (views
  with any strides, as numpy's matmul takes them)
- ``("sgd", data, grad, buf, base, flags)``: optim.SGD.update of one parameter in place
  (buf its momentum buffer or None; the slots base..base+3 hold lr, weight decay, momentum
  and 1 - dampening; flags: fastgrad._shared.tape's SGD_*)
- ``("ufunc", ufunc, operands, out)``: out = ufunc(*operands), an operand being an array or
  an int subclass naming a scalar slot (an optimizer's update, operation by operation)

The twin calls the kernels the eager twin calls (fastgrad._py.dense, .losses), so a replay here
equals an eager step of the twin bit for bit.
"""
import weakref

import numpy as np

from fastgrad._shared.losses import gradient_scale
from fastgrad._shared.tape import (
    SGD_DAMPENING,
    SGD_DECAY,
    SGD_MOMENTUM,
    SGD_NESTEROV,
    _guard_message,
    _not_finite_message,
)

from . import dense, losses
from .elementwise import sigmoid_values
from .node import mark_modified, sum_to_shape
from .reduce import kept_shape, log_softmax_values, reduced_count, softmax_values

_BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide}
_UNARY = {"neg": np.negative, "exp": np.exp, "log": np.log, "tanh": np.tanh}


def _ufunc(ins, slots):
    _, ufunc, operands, out = ins
    ufunc(*[slots[k] if type(k) is not np.ndarray else k for k in operands], out=out)


def _sgd(ins, slots):
    """optim.SGD.update's numpy operations, in its order."""
    _, data, grad, buf, base, flags = ins
    lr, wd, momentum, undamped = slots[base:base + 4]
    d = grad
    if flags & SGD_DECAY:
        d = grad + wd * data
    if flags & SGD_MOMENTUM:
        buf *= momentum
        buf += undamped * d if flags & SGD_DAMPENING else d
        d = d + momentum * buf if flags & SGD_NESTEROV else buf
    np.subtract(data, np.multiply(d, lr), out=data)


def _labels(ins):
    _, src, out, classes = ins
    if src.size and (src.min() < 0 or src.max() >= classes):
        bad = src[(src < 0) | (src >= classes)][0]
        raise ValueError(f"softmax_cross_entropy: label {bad} is out of range for {classes} "
                         f"classes")
    out[...] = src


def _reduce(ins):
    _, L, out, mean = ins
    total = np.add.reduce(L.reshape(-1))
    out[...] = total / L.size if mean else total


class _NotFinite(Exception):
    """A finite check failed at instruction ``ins`` (turned into FloatingPointError)."""


def _finite(ins):
    if not np.isfinite(ins[1]).all():
        raise _NotFinite(ins[2])


def _scalar(ins):
    _, op, x, c, out = ins
    if op == "rsub":
        np.subtract(c, x, out=out)
    elif op == "rdiv":
        np.true_divide(c, x, out=out)
    else:
        _BINARY[op](x, c, out=out)


def _unary(ins):
    _, f, x, out = ins
    if f == "relu":
        np.maximum(x, 0, out=out)
    elif f == "sigmoid":
        out[...] = sigmoid_values(x)
    else:
        _UNARY[f](x, out=out)


def _unary_grad(ins):
    _, f, g, y, out = ins
    if f == "tanh":
        np.multiply(g, 1 - y * y, out=out)
    elif f == "relu":
        np.multiply(g, y > 0, out=out)
    else:
        np.multiply(g * y, 1 - y, out=out)


def _reduce_all(ins):
    _, kind, x, out = ins
    total = np.add.reduce(x, axis=None)
    out[...] = total / x.size if kind == "mean" else total


def _fill(ins):
    _, out, g, mean = ins
    out[...] = g / out.size if mean else g


def _matmul_vjp(ins):
    _, A, B, G, GA, GB = ins
    if GA is not None:
        np.matmul(G, np.swapaxes(B, -1, -2), out=GA)
    if GB is not None:
        np.matmul(np.swapaxes(A, -1, -2), G, out=GB)


def _reduce_axes(ins):
    _, kind, x, axes, out = ins
    total = np.add.reduce(x, axis=axes, keepdims=True)
    np.copyto(out, (total / reduced_count(x.shape, axes) if kind == "mean" else total)
              .reshape(out.shape))


def _expand(ins):
    _, kind, g, axes, out = ins
    kept = g.reshape(kept_shape(out.shape, axes))
    if kind == "mean":
        kept = kept / reduced_count(out.shape, axes)
    np.copyto(out, np.broadcast_to(kept, out.shape))


def _softmax_vjp(ins):
    _, g, y, axis, out = ins
    np.copyto(out, y * (g - np.add.reduce(g * y, axis=axis, keepdims=True)))


def _log_softmax_vjp(ins):
    _, g, y, axis, out = ins
    np.copyto(out, g - np.exp(y) * np.add.reduce(g, axis=axis, keepdims=True))


_RUN = {
    "matmul": lambda ins: np.matmul(ins[1], ins[2], out=ins[3]),
    "bmatmul": lambda ins: np.matmul(ins[1], ins[2], out=ins[3]),
    "matmul_vjp": _matmul_vjp,
    "binary": lambda ins: _BINARY[ins[1]](ins[2], ins[3], out=ins[4]),
    "scalar": _scalar,
    "unary": _unary,
    "unary_grad": _unary_grad,
    "reduce_all": _reduce_all,
    "fill": _fill,
    "reduce_to": lambda ins: ins[1].__setitem__(Ellipsis, sum_to_shape(ins[2], ins[1].shape)),
    "copy": lambda ins: np.copyto(ins[1], ins[2]),
    "labels": _labels,
    "dense_fwd": lambda ins: dense.dense_forward(*ins[1:]),
    "dense_bwd": lambda ins: dense.dense_backward(*ins[1:]),
    "ce_fwd": lambda ins: losses.softmax_ce_forward(*ins[1:]),
    "ce_bwd": lambda ins: losses.softmax_ce_backward(*ins[1:]),
    "mse_fwd": lambda ins: losses.mse_forward(*ins[1:]),
    "mse_bwd": lambda ins: losses.mse_backward(*ins[1:]),
    "hinge_fwd": lambda ins: losses.hinge_forward(*ins[1:]),
    "hinge_bwd": lambda ins: losses.hinge_backward(*ins[1:]),
    "hinge_bwd_g": lambda ins: losses.hinge_backward(
        ins[1], ins[2], gradient_scale(ins[3], "mean" if ins[4] else "sum", ins[2].size), ins[5]),
    "reduce": _reduce,
    "finite": _finite,
    "add_into": lambda ins: np.add(ins[1], ins[2], out=ins[1]),
    "call": lambda ins: ins[1](),
    "reduce_axes": _reduce_axes,
    "expand": _expand,
    "softmax": lambda ins: np.copyto(ins[3], softmax_values(ins[1], ins[2])),
    "log_softmax": lambda ins: np.copyto(ins[3], log_softmax_values(ins[1], ins[2])),
    "softmax_vjp": _softmax_vjp,
    "log_softmax_vjp": _log_softmax_vjp,
    "bce_fwd": lambda ins: losses.bce_logits_forward(*ins[1:]),
    "bce_bwd": lambda ins: losses.bce_logits_backward(*ins[1:]),
    "cast": lambda ins: np.copyto(ins[2], ins[1].reshape(ins[2].shape), casting="unsafe"),
}


def _nbytes(arrays):
    seen, total = set(), 0
    for a in arrays:
        if isinstance(a, np.ndarray) and id(a) not in seen:
            seen.add(id(a))
            total += a.nbytes
    return total


class Tape:
    """A recorded program, its guards and its buffers; ``replay(args, slots)`` runs it.

    ``params``: (weak reference to the tensor, gradient buffer, cleared in the step, has a
    gradient after the step, updated by the step's optimizer: a new version after each
    replay); ``guards``: (obj, attribute or None, index, expected): ``getattr(obj, attribute)``
    (index -1), its ``[index]`` (index >= 0) must be ``expected``, or its length (index -2)
    equal it; obj and expected may be weak references (``error(gone)`` once collected);
    ``scalars``: the slots' values at recording."""

    def __init__(self, program, inputs, params, guards, scalars, loss, arena, error, gone):
        self.program = list(program)
        self.inputs = list(inputs)
        self.param_info = list(params)
        self.guards = list(guards)
        self.loss = loss
        self.arena = list(arena)
        self.error = error
        self.gone = gone
        self.slots = [float(v) for v in scalars]
        self.arena_bytes = _nbytes(self.arena + self.inputs + [loss] + [
            a for ins in self.program if ins[0] not in ("ufunc", "sgd") for a in ins[1:]])

    @property
    def params(self):
        """The parameters (error(gone) if one was collected)."""
        return self.live()

    def live(self):
        params = [info[0]() for info in self.param_info]
        if any(p is None for p in params):
            raise self.error(self.gone)
        return params

    def op_kinds(self):
        """The name of each instruction, in order (the compiled tape names its ops' kinds)."""
        return [ins[0] for ins in self.program]

    def check(self, args):
        """Raise ``error`` naming the first guard that fails; the live parameters."""
        error = self.error
        params = self.live()
        if len(args) != len(self.inputs):
            e = error(f"capture: the step was captured with {len(self.inputs)} arguments, "
                      f"called with {len(args)}")
            e.signature = True
            raise e
        for i, (a, buf) in enumerate(zip(args, self.inputs)):
            data = a if isinstance(a, np.ndarray) else getattr(a, "data", None)
            if not isinstance(data, np.ndarray):
                raise error(f"capture: argument {i} is a {type(a).__name__}, captured as an "
                            f"array")
            if data.shape != buf.shape or data.dtype != buf.dtype:
                e = error(f"capture: argument {i} is {data.dtype} {data.shape}, captured as "
                          f"{buf.dtype} {buf.shape}")
                e.signature = True
                raise e
        for obj, attr, index, expected in self.guards:
            if type(obj) is weakref.ref:
                obj = obj()
            if type(expected) is weakref.ref:
                expected = expected()
            if obj is None or expected is None:
                raise error(self.gone)
            value = getattr(obj, attr) if attr is not None else obj
            if index == -2:
                ok = len(value) == expected
            elif index >= 0:
                ok = value[index] is expected
            else:
                ok = value is expected
            if not ok:
                raise error(_guard_message(obj, attr, index, expected, value))
        for p, (_, grad, cleared, _, _) in zip(params, self.param_info):
            if not cleared and p.grad is not None:
                raise error(f"capture: a parameter ({p.data.dtype} {p.data.shape}) holds a "
                            f"gradient before the step, which the captured step does not clear "
                            f"(eager backward would add into it); call zero_grad() first")
        return params

    def replay(self, args, slots):
        """Check the guards, copy the inputs in, run the program; return the loss (a float)."""
        params = self.check(args)
        for a, buf in zip(args, self.inputs):
            np.copyto(buf, a if isinstance(a, np.ndarray) else a.data)
        try:
            for ins in self.program:
                if ins[0] == "ufunc":
                    _ufunc(ins, slots)
                elif ins[0] == "sgd":
                    _sgd(ins, slots)
                else:
                    _RUN[ins[0]](ins)
        except (_NotFinite, ValueError) as e:
            for p, info in zip(params, self.param_info):  # as eager: zero_grad ran, backward
                if info[2]:                                # rolled back
                    p.grad = None
            if isinstance(e, _NotFinite):
                raise FloatingPointError(_not_finite_message(self.loss, params,
                                                             e.args[0])) from None
            raise
        for p, (_, grad, _, keeps, updated) in zip(params, self.param_info):
            p.grad = grad if keeps else None
            if updated:  # its optimizer changed it: a new version, as Optimizer.step gives it
                mark_modified(p)
        return float(self.loss)


