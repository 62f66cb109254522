"""Capture a training step once, replay it in compiled code: ``fastgrad.capture``.

>>> @fastgrad.capture
... def step(xb, yb):
...     loss = F.cross_entropy(model(xb), yb)
...     loss.backward()
...     opt.step()
...     opt.zero_grad()
...     return loss
>>> for xb, yb in batches:
...     loss = step(xb, yb)   # a Python float

Call 1 runs eagerly (the optimizer creates its state). Call 2 runs eagerly too, on the tape's own
input buffers and under a recorder (fastgrad._recording): engine.backward hands it the graph
before the sweep and Optimizer.step hands it the optimizer; the recorder turns them into a
program of kernels (forward, loss, backward with the gradients' accumulation, the updates).
Later calls replay that program: the compiled backend (fastgrad._cy.tape) walks it in C with
the GIL released; the pure-Python backend (fastgrad._py.tape) calls the same kernels the eager
twin calls. The arrays of the recording step (node values, the losses' saved arrays) and a few
new ones (gradients, scratch) are the tape's arena; parameters, their optimizer state and the
optimizer's scratch are the user's arrays, used in place.

What a tape holds: the fused dense layer (any activation), 2-D and stacked matmul,
add/sub/mul/div of tensors of one shape or with a broadcast row, column or single value,
scalar add/mul/div/rsub/rdiv, x ** 2, neg/exp/log/tanh/relu/sigmoid, softmax/log_softmax over
the last axis, sum/mean of all elements, over the last axis or axis 0, reshape (a view);
softmax cross-entropy with class labels or probability rows, binary cross-entropy with
logits, MSE and hinge (mean or sum, as the step's loss); the updates of SGD (momentum,
Nesterov, dampening, weight decay), Adam and AdamW; a DistributedOptimizer's reduction (the
scaled copies into its flat buffers, then one Python call for the Allreduce). A step that uses
another op raises CaptureError naming it when recorded (``fallback=True``: a one-time warning
and the step stays eager from then on). The loss may be any scalar built from these.
``capture_value_and_grad`` captures the HIPS face's loop (value_and_grad, then p -= lr * g).

Guards, before every replay: argument count and kinds; each input's shape and dtype (a
non-contiguous input is copied, which is right); the identity of every parameter's array
(``p.data = ...`` is caught), requires_grad, the gradient's state; each optimizer's parameter
list and state arrays and the hyper-parameters that shape its program; grad mode. A mismatch
raises CaptureError naming it (with ``retrace=k``, a new input signature records a new tape,
up to k of them). Values that change without changing the program (the learning rate and its
schedule, Adam's step count and bias corrections) are refreshed into scalar slots before each
replay. ``verify=N`` checks every N-th replay against an eager step on the same state.
"""
import functools
import math
import warnings
import weakref

import numpy as np

from . import _backend, _recording, engine, optim
from ._py.opcodes import (
    OP_ADD,
    OP_ADD_S,
    OP_BCE_LOGITS,
    OP_DENSE,
    OP_DIV,
    OP_DIV_S,
    OP_EXP,
    OP_HINGE,
    OP_LEAF,
    OP_LOG,
    OP_LOG_SOFTMAX,
    OP_MATMUL,
    OP_MEAN,
    OP_MSE,
    OP_MUL,
    OP_MUL_S,
    OP_NAMES,
    OP_NEG,
    OP_POW_S,
    OP_RDIV_S,
    OP_RELU,
    OP_RESHAPE,
    OP_RSUB_S,
    OP_SIGMOID,
    OP_SOFTMAX,
    OP_SOFTMAX_CE,
    OP_SUB,
    OP_SUM,
    OP_TANH,
)
from ._recording import CaptureError
from ._shared.tape import SGD_DAMPENING, SGD_DECAY, SGD_MOMENTUM, SGD_NESTEROV

__all__ = ["CaptureError", "Captured", "capture", "capture_value_and_grad"]

_LOSS_OPS = (OP_SOFTMAX_CE, OP_MSE, OP_HINGE, OP_BCE_LOGITS)
# element-wise ops a tape holds (generic Tensor code): their names in the tape's instructions
_BINARY = {OP_ADD: "add", OP_SUB: "sub", OP_MUL: "mul", OP_DIV: "div"}
_NORMALISE = {OP_SOFTMAX: "softmax", OP_LOG_SOFTMAX: "log_softmax"}
_SCALAR = {OP_ADD_S: "add", OP_MUL_S: "mul", OP_DIV_S: "div", OP_RSUB_S: "rsub",
           OP_RDIV_S: "rdiv"}
_UNARY = {OP_NEG: "neg", OP_EXP: "exp", OP_LOG: "log", OP_TANH: "tanh", OP_RELU: "relu",
          OP_SIGMOID: "sigmoid"}
_REDUCE = {OP_SUM: "sum", OP_MEAN: "mean"}


def _tape_module(bk):
    return bk.tape


def _span(arr):
    """The bytes [lo, hi) an array's elements occupy."""
    lo = hi = arr.__array_interface__["data"][0]
    for n, s in zip(arr.shape, arr.strides):
        if n == 0:
            return lo, lo
        if s > 0:
            hi += (n - 1) * s
        else:
            lo += (n - 1) * s
    return lo, hi + arr.itemsize


def _same_values(a, b):
    """np.array_equal(a, b) for integer arrays of one shape (their bytes, when of one dtype
    and contiguous: the usual case, without numpy's comparison and reduction)."""
    if a.dtype == b.dtype and a.flags.c_contiguous and b.flags.c_contiguous:
        return a.tobytes() == b.tobytes()
    return np.array_equal(a, b)


def _describe(node):
    return f"{OP_NAMES.get(node._op, node._op)} ({node.data.dtype} {node.data.shape})"


class _Recorder:
    """Collects a step's program while it runs eagerly (see the module docstring)."""

    def __init__(self, bk, inputs):
        self.bk = bk
        self.inputs = inputs            # the tape's input buffers, in argument order
        self.program = []               # instructions, in order (see fastgrad._py.tape)
        self.arena = []                 # arrays the recorder allocated
        self.root = None
        self.grads = {}                 # id(leaf) -> its gradient buffer in the tape
        self.params = []                # (leaf, must be None at the start)
        self.optimizers = []            # (optimizer, its slot block)
        self.scalars = []               # slot values at recording (refreshed per replay)
        self.guards = []                # (obj, attr, index, expected)
        self.loss = None                # the 0-d array holding the loss
        self.labels = {}                # id(loss node) -> its labels buffer in the tape
        self.cleared = set()            # ids of tensors whose grad the step clears before backward
        self.reduced = {}               # id(parameter) -> its view into a distributed flat buffer
        self.weak_objects = []          # the optimizers, held weakly as the parameters (_Tape)
        self.after = []                 # Python calls after each replay (DistributedOptimizer)

    def zero_grad(self, tensors):
        if self.root is None:
            self.cleared.update(id(t) for t in tensors)

    # ------------------------------------------------------------ arrays
    def new(self, shape, dtype):
        arr = np.empty(shape, dtype)
        self.arena.append(arr)
        return arr

    def input_of(self, arr, what):
        """``arr`` if it lies in one of the tape's input buffers, else CaptureError."""
        for buf in self.inputs:  # (the usual case, without reading the bounds: one of them)
            if arr is buf:
                return arr
        lo, hi = _span(arr)
        for buf in self.inputs:
            if isinstance(buf, np.ndarray):
                blo, bhi = _span(buf)
                if blo <= lo and hi <= bhi:
                    return arr
        raise CaptureError(
            f"capture: {what} ({arr.dtype} {arr.shape}) is neither an argument of the captured "
            f"function nor a parameter (a tensor with requires_grad=True): capture cannot tell "
            f"whether it changes between steps. Pass it as an argument")

    def contiguous(self, arr, what):
        if not arr.flags.c_contiguous:
            raise CaptureError(f"capture: {what} ({arr.dtype} {arr.shape}) is not C-contiguous")
        return arr

    # ------------------------------------------------------------ the graph
    def backward(self, bk, root, order, gradient):
        if self.root is not None:
            raise CaptureError("capture: the step calls backward() twice; a captured step "
                               "has one backward")
        if gradient is not None:
            raise CaptureError("capture: backward(gradient) is not captured; call backward() "
                               "on the scalar loss")
        self.root = root
        self.bk = bk  # the tape replays on the backend the graph was built on
        emit = self.program.append
        for node in order:
            op = node._op
            if op == OP_LEAF:
                self.leaf(node)
            elif op == OP_DENSE:
                self.dense_forward(node)
            elif op == OP_SOFTMAX_CE:
                self.ce_forward(node, node is root)
            elif op == OP_MSE:
                self.mse_forward(node, node is root)
            elif op == OP_HINGE:
                self.hinge_forward(node, node is root)
            elif op == OP_BCE_LOGITS:
                self.bce_forward(node, node is root)
            elif op == OP_RESHAPE:
                self.reshape_forward(node)
            elif op in _NORMALISE:
                emit((_NORMALISE[op], node._prev[0].data, node._ctx, node.data))
            elif op in _BINARY:
                self.binary_forward(node)
            elif op in _SCALAR:
                emit(("scalar", _SCALAR[op], node._prev[0].data, float(node._ctx), node.data))
            elif op == OP_POW_S and float(node._ctx) == 2.0:  # numpy squares: x·x
                x = node._prev[0].data
                emit(("binary", "mul", x, x, node.data))
            elif op in _UNARY:
                emit(("unary", _UNARY[op], node._prev[0].data, node.data))
            elif op == OP_MATMUL:
                self.matmul_forward(node)
            elif op in _REDUCE and node._ctx[0] is None:
                emit(("reduce_all", _REDUCE[op], node._prev[0].data, node.data))
            elif op in _REDUCE:
                emit(("reduce_axes", _REDUCE[op], node._prev[0].data, tuple(node._ctx[0]),
                      node.data))
            else:
                raise CaptureError(
                    f"capture: the op {_describe(node)} has no tape kernel yet (a tape holds "
                    f"dense layers, 2-D matmul, softmax_ce, bce_with_logits, mse and hinge, "
                    f"add/sub/mul/div (same shape, a bias row or one value), scalar "
                    f"add/mul/div/rsub, neg/exp/log/tanh/relu/sigmoid, softmax/log_softmax over "
                    f"the last axis, sum/mean of all elements, over the last axis or axis 0); "
                    f"use fastgrad.capture(fn, fallback=True) to run such a step eagerly")
        self.loss = root.data
        if engine._check_finite:  # eager backward raises on a NaN/Inf loss: so does a replay
            self.program.append(("finite", self.loss, -1))
        # the root's gradient is the seed, 1: a fused loss folds it into its scale
        seed = None if root._op in _LOSS_OPS else np.ones(root.data.shape, root.data.dtype)
        if seed is not None:
            self.arena.append(seed)
        contributions = {id(root): seed}
        for node in reversed(order):
            op = node._op
            if op == OP_LEAF or id(node) not in contributions:
                continue
            if op == OP_DENSE:
                self.dense_backward(node, contributions)
            elif op == OP_SOFTMAX_CE:
                self.ce_backward(node, contributions)
            elif op == OP_MSE:
                self.mse_backward(node, contributions)
            elif op == OP_HINGE:
                self.hinge_backward(node, contributions)
            elif op == OP_BCE_LOGITS:
                self.bce_backward(node, contributions)
            elif op == OP_RESHAPE:  # the gradient, reshaped back (a view), copied
                a, G = node._prev[0], contributions[id(node)]
                self.contribute(a, contributions, a.data.shape, lambda out, a=a, G=G:
                                self.program.append(("copy", out, G.reshape(a.data.shape))))
            elif op in _NORMALISE:
                a = node._prev[0]
                name = _NORMALISE[op] + "_vjp"
                G = contributions[id(node)]
                self.contribute(a, contributions, G.shape, lambda out, name=name, G=G, node=node:
                                self.program.append((name, G, node.data, node._ctx, out)))
            elif op == OP_MATMUL:
                self.matmul_backward(node, contributions)
            else:
                self.elementwise_backward(node, contributions)
        if engine._check_finite:  # and on a NaN/Inf gradient, before anything is updated
            for k, p in enumerate(self.params):
                if id(p) in self.grads:
                    self.program.append(("finite", self.grads[id(p)], k))

    def leaf(self, node):
        if node.requires_grad:
            if node.grad is not None:
                raise CaptureError(
                    f"capture: a parameter ({node.data.dtype} {node.data.shape}) already holds "
                    f"a gradient when backward() runs, so gradients accumulate across steps; "
                    f"call zero_grad() in the step (or after it) to capture it")
            self.contiguous(node.data, "a parameter")
            self.params.append(node)
            self.guards.append((node, "data", -1, node.data))
            self.guards.append((node, "requires_grad", -1, True))
        else:
            self.input_of(node.data, "an array the step reads")
            self.guards.append((node, "requires_grad", -1, False))

    def grad_buffer(self, parent, contributions, shape):
        """Where the VJP writes its contribution to ``parent``: the parent's gradient if this is
        the first one (then followed by nothing), else scratch added into it (as accumulate
        does)."""
        if not parent.requires_grad:
            return None, None
        key = id(parent)
        if contributions.get(key) is None:
            buf = self.new(shape, parent.data.dtype)
            contributions[key] = buf
            if parent._op == OP_LEAF:
                self.grads[key] = buf
            return buf, None
        tmp = self.new(shape, parent.data.dtype)
        return tmp, ("add_into", contributions[key], tmp)

    # ------------------------------------------------------------ element-wise ops
    @staticmethod
    def broadcast_kind(shape, out_shape):
        """How an operand of ``shape`` meets a result of ``out_shape``: "full" (the same),
        "row" (a row repeated: (n,) or (1, n) against (m, n)), "col" (a column repeated: (m, 1)
        against (m, n)), "one" (one value), or None."""
        if shape == out_shape:
            return "full"
        if int(np.prod(shape)) == 1 and len(shape) <= len(out_shape):
            return "one"
        if len(out_shape) == 2 and tuple(shape) == (out_shape[0], 1):
            return "col"
        if (len(out_shape) == 2 and len(shape) in (1, 2) and shape[-1] == out_shape[1]
                and int(np.prod(shape)) == out_shape[1]):
            return "row"
        return None

    def binary_forward(self, node):
        a, b = node._prev
        for x in (a, b):
            if self.broadcast_kind(x.data.shape, node.data.shape) is None:
                raise CaptureError(f"capture: {_describe(node)} broadcasts an operand of shape "
                                   f"{x.data.shape}; a tape broadcasts rows, columns and single "
                                   f"values")
            self.contiguous(x.data, f"an operand of {OP_NAMES[node._op]}")
        self.program.append(("binary", _BINARY[node._op], a.data, b.data, node.data))

    @staticmethod
    def batched(a, b):
        """A stack of products (eager: numpy's matmul): (s, m, k) @ (k, n) or (s, k, n)."""
        return a.ndim == 3 and (b.ndim == 2 or (b.ndim == 3 and b.shape[0] == a.shape[0]))

    def matmul_forward(self, node):
        a, b = node._prev
        if self.batched(a.data, b.data):
            self.program.append(("bmatmul", a.data, b.data, node.data))
            return
        for x in (a, b):
            if x.data.ndim != 2:
                raise CaptureError(f"capture: {_describe(node)} has an operand of shape "
                                   f"{x.data.shape}; a tape takes 2-D matrix products and "
                                   f"stacks (s, m, k) @ (k, n) or (s, k, n)")
        self.program.append(("matmul", a.data, b.data, node.data))

    def matmul_backward(self, node, contributions):
        a, b = node._prev
        G = contributions[id(node)]
        if self.batched(a.data, b.data):  # as vjp_matmul: g @ bᵀ, then aᵀ @ g (summed over
            A, B = a.data, b.data         # the stack when b is one matrix)
            emit = self.program.append
            self.contribute(a, contributions, A.shape, lambda out: emit(
                ("bmatmul", G, np.swapaxes(B, -1, -2), out)))
            self.contribute(b, contributions, A.shape[:1] + B.shape[-2:], lambda out: emit(
                ("bmatmul", np.swapaxes(A, -1, -2), G, out)))
            return
        GA, add_a = self.grad_buffer(a, contributions, a.data.shape)
        GB, add_b = self.grad_buffer(b, contributions, b.data.shape)
        self.program.append(("matmul_vjp", a.data, b.data, G, GA, GB))
        for add in (add_a, add_b):  # vjp_matmul's order: a, then b
            if add is not None:
                self.program.append(add)

    def contribute(self, parent, contributions, shape, emit):
        """A contribution of ``shape`` to ``parent``'s gradient, computed by ``emit(out)``; summed
        to the parent's shape first when it was broadcast (as accumulate does)."""
        if not parent.requires_grad:
            return
        target = parent.data.shape
        if tuple(shape) == target:
            buf, add = self.grad_buffer(parent, contributions, target)
            emit(buf)
            if add is not None:
                self.program.append(add)
            return
        kind = self.broadcast_kind(target, tuple(shape))
        if kind not in ("row", "one", "col") and tuple(shape[1:]) != target:
            raise CaptureError(f"capture: a gradient of shape {tuple(shape)} summed to "
                               f"{target} is not captured")
        full = self.new(shape, parent.data.dtype)
        emit(full)
        buf, add = self.grad_buffer(parent, contributions, target)
        self.program.append(("reduce_to", buf, full))
        if add is not None:
            self.program.append(add)

    def pass_through(self, parent, contributions, G):
        """accumulate(parent, G, owned=False): the same values, copied (or added)."""
        self.contribute(parent, contributions, G.shape,
                        lambda out: self.program.append(("copy", out, G)))

    def elementwise_backward(self, node, contributions):
        G = contributions[id(node)]
        op = node._op
        emit = self.program.append
        if op in _BINARY:
            a, b = node._prev
            if op == OP_MUL:
                self.contribute(a, contributions, G.shape,
                                lambda out: emit(("binary", "mul", G, b.data, out)))
                self.contribute(b, contributions, G.shape,
                                lambda out: emit(("binary", "mul", G, a.data, out)))
                return
            if op == OP_DIV:  # ga = g/b, gb = -(g·y)/b (negating after the division: the same
                y = node.data  # bits, IEEE division being symmetric in sign)
                self.contribute(a, contributions, G.shape,
                                lambda out: emit(("binary", "div", G, b.data, out)))
                if b.requires_grad:
                    t = self.new(G.shape, G.dtype)
                    self.contribute(b, contributions, G.shape, lambda out: (
                        emit(("binary", "mul", G, y, t)), emit(("binary", "div", t, b.data, t)),
                        emit(("unary", "neg", t, out))))
                return
            self.pass_through(a, contributions, G)
            if op == OP_SUB:
                self.contribute(b, contributions, G.shape,
                                lambda out: emit(("unary", "neg", G, out)))
            else:
                self.pass_through(b, contributions, G)
        elif op in _SCALAR:
            a, c = node._prev[0], float(node._ctx)
            if op == OP_ADD_S:
                self.pass_through(a, contributions, G)
            elif op == OP_RDIV_S:  # y = c/a: ga = -(g·y)/a
                y = node.data
                t = self.new(G.shape, G.dtype)
                self.contribute(a, contributions, G.shape, lambda out: (
                    emit(("binary", "mul", G, y, t)), emit(("binary", "div", t, a.data, t)),
                    emit(("unary", "neg", t, out))))
            elif op == OP_RSUB_S:
                self.contribute(a, contributions, G.shape,
                                lambda out: emit(("unary", "neg", G, out)))
            else:
                self.contribute(a, contributions, G.shape,
                                lambda out: emit(("scalar", _SCALAR[op], G, c, out)))
        elif op == OP_POW_S:  # c = 2: ga = (g·2)·a (numpy: g * c * a ** 1.0)
            a = node._prev[0]
            t = self.new(G.shape, G.dtype)
            self.contribute(a, contributions, G.shape, lambda out: (
                emit(("scalar", "mul", G, 2.0, t)), emit(("binary", "mul", t, a.data, out))))
        elif op in _UNARY:
            a, y = node._prev[0], node.data
            name = _UNARY[op]
            if name == "exp":
                instruction = ("binary", "mul", G, y)
            elif name == "log":
                instruction = ("binary", "div", G, a.data)
            elif name == "neg":
                instruction = ("unary", "neg", G)
            else:
                instruction = ("unary_grad", name, G, y)
            self.contribute(a, contributions, G.shape,
                            lambda out: emit((*instruction, out)))
        elif node._ctx[0] is None:  # sum or mean of all elements: every element gets g (/count)
            a = node._prev[0]
            mean = op == OP_MEAN
            self.contribute(a, contributions, a.data.shape,
                            lambda out: emit(("fill", out, G, mean)))
        else:  # over some axes: g (/count) repeated over them
            a = node._prev[0]
            axes = tuple(node._ctx[0])
            self.contribute(a, contributions, a.data.shape,
                            lambda out: emit(("expand", _REDUCE[op], G, axes, out)))

    def reshape_forward(self, node):
        """A reshape that eager made as a view needs no op: the tape's arrays alias as eager's
        do (a reshape that copied is refused)."""
        x = node._prev[0].data
        if not (node.data.base is not None and np.shares_memory(node.data, x)
                and x.flags.c_contiguous):
            raise CaptureError(f"capture: {_describe(node)} copied its input (a reshape of a "
                               f"non-contiguous array) and is not captured")

    def dense_forward(self, node):
        x, W = node._prev[0], node._prev[1]
        b = node._prev[2] if len(node._prev) == 3 else None
        if x.data.ndim != 2:
            raise CaptureError(f"capture: a dense layer's input has shape {x.data.shape}; a "
                               f"tape takes 2-D (rows, features) inputs")
        B = None if b is None else self.contiguous(b.data, "a dense layer's bias")
        self.program.append(("dense_fwd", x.data, W.data, B, int(node._ctx), node.data))

    def dense_backward(self, node, contributions):
        x, W = node._prev[0], node._prev[1]
        b = node._prev[2] if len(node._prev) == 3 else None
        act = int(node._ctx)
        G = contributions[id(node)]
        Y = node.data
        GZ = None if act == 0 else self.new(Y.shape, Y.dtype)
        GW, add_w = self.grad_buffer(W, contributions, W.data.shape)
        GB, add_b = (None, None) if b is None else self.grad_buffer(b, contributions,
                                                                      b.data.shape)
        GX, add_x = self.grad_buffer(x, contributions, x.data.shape)
        self.program.append(("dense_bwd", x.data, W.data, Y, G, act, GZ, GX, GW, GB))
        for add in (add_w, add_b, add_x):  # vjp_dense's order: W, b, x
            if add is not None:
                self.program.append(add)

    def loss_is_root(self, node, is_root):
        if not is_root:
            raise CaptureError(f"capture: {_describe(node)} is not the loss backward() starts "
                               f"from; a tape takes a fused loss only as the step's loss")

    def reduction(self, node, L, reduction):
        if reduction == "none":
            raise CaptureError("capture: a loss with reduction='none' is not captured")
        self.program.append(("reduce", L, node.data, reduction == "mean"))

    def ce_forward(self, node, is_root):
        self.loss_is_root(node, is_root)
        P, labels, T, reduction = node._ctx
        Z = self.contiguous(node._prev[0].data, "softmax_ce's logits")
        if labels is not None:
            labels = self.labels[id(node)] = self.labels_source(labels, Z.shape[1])
        else:
            self.input_of(T, "softmax_ce's target")
        L = self.new(Z.shape[0], Z.dtype)
        self.program.append(("ce_fwd", Z, labels, T, P, L))
        self.reduction(node, L, reduction)

    def labels_source(self, labels, classes):
        """The class labels are a fresh intp copy of an argument: find which (by shape and
        values) and convert it in the tape, checking the range as the eager op does."""
        found = [buf for buf in self.inputs if buf.dtype.kind in "iu"
                 and buf.shape == labels.shape and _same_values(buf, labels)]
        if len(found) != 1:
            raise CaptureError(
                "capture: softmax_ce's class labels are not an integer array argument of the "
                "captured function" if not found else
                "capture: two arguments hold the same class labels; capture cannot tell which "
                "one the loss reads")
        out = self.new(labels.shape, np.intp)
        self.program.append(("labels", found[0], out, classes))
        return out

    def mse_forward(self, node, is_root):
        self.loss_is_root(node, is_root)
        D, reduction = node._ctx
        p, t = node._prev
        if t.requires_grad:
            raise CaptureError("capture: mse_loss with a target that requires grad is not "
                               "captured")
        P = self.contiguous(p.data, "mse_loss's input")
        T = t.data if t.data.shape == P.shape else t.data.reshape(P.shape)
        self.contiguous(T, "mse_loss's target")
        if T.dtype != P.dtype:
            raise CaptureError("capture: mse_loss's target has another dtype than its input")
        L = self.new(P.shape, P.dtype)
        self.program.append(("mse_fwd", P, T, D, L))
        self.reduction(node, L, reduction)

    def hinge_forward(self, node, is_root):
        # (the one fused loss a tape also takes inside a larger loss, e.g. hinge + an L2 term:
        # its backward reads the gradient it gets at replay)
        T, M, reduction = node._ctx
        S = self.contiguous(node._prev[0].data, "hinge_loss's scores")
        self.target_source(T, "hinge_loss's target")
        L = self.new(S.shape, S.dtype)
        self.program.append(("hinge_fwd", S, T, M, L))
        self.reduction(node, L, reduction)

    def target_source(self, T, what):
        """``T``, a loss's target array: an argument's buffer as it is, or a converted copy of
        one (then refreshed from it by a cast instruction before the loss)."""
        try:
            return self.input_of(T, what)
        except CaptureError:
            pass
        found = [buf for buf in self.inputs if isinstance(buf, np.ndarray) and buf.size == T.size
                 and np.array_equal(buf.reshape(T.shape), T)]
        if len(found) != 1:
            raise CaptureError(
                f"capture: {what} ({T.dtype} {T.shape}) is not an argument of the captured "
                f"function" if not found else f"capture: two arguments hold the values of "
                f"{what}; capture cannot tell which one the loss reads")
        self.program.append(("cast", found[0], T))
        return T

    def bce_forward(self, node, is_root):
        self.loss_is_root(node, is_root)
        T, E, reduction = node._ctx
        Z = self.contiguous(node._prev[0].data, "binary_cross_entropy_with_logits's logits")
        if not (E.shape == Z.shape and E.flags.c_contiguous):
            raise CaptureError("capture: binary_cross_entropy_with_logits on a non-contiguous "
                               "input is not captured")
        self.target_source(T, "binary_cross_entropy_with_logits's target")
        self.program.append(("bce_fwd", Z, T, E, self.new(Z.shape, Z.dtype)))
        self.reduction(node, self.program[-1][4], reduction)

    def bce_backward(self, node, contributions):
        T, E, _ = node._ctx
        GZ, add = self.grad_buffer(node._prev[0], contributions, E.shape)
        if GZ is None:
            return
        self.program.append(("bce_bwd", node._prev[0].data, T, E, self.scale(node, E.size),
                             GZ))
        if add is not None:
            self.program.append(add)

    def hinge_backward(self, node, contributions):
        T, M, reduction = node._ctx
        GS, add = self.grad_buffer(node._prev[0], contributions, M.shape)
        if GS is None:
            return
        G = contributions[id(node)]
        if G is None:  # the root: the seed, 1, folded into a constant scale
            self.program.append(("hinge_bwd", T, M, self.scale(node, M.size), GS))
        else:  # inside a larger loss: the scale from the gradient G it gets
            self.program.append(("hinge_bwd_g", T, M, G, reduction == "mean", GS))
        if add is not None:
            self.program.append(add)

    def scale(self, node, count):
        """gradient_scale of the seed (1) for the loss's reduction."""
        reduction = node._ctx[-1]
        return 1.0 / count if reduction == "mean" else 1.0

    def ce_backward(self, node, contributions):
        P, _, T, _ = node._ctx
        labels = self.labels.get(id(node))
        z = node._prev[0]
        GZ, add = self.grad_buffer(z, contributions, P.shape)
        if GZ is None:
            return
        self.program.append(("ce_bwd", P, labels, T, self.scale(node, P.shape[0]), GZ))
        if add is not None:
            self.program.append(add)

    def mse_backward(self, node, contributions):
        D = node._ctx[0]
        p = node._prev[0]
        GP, add = self.grad_buffer(p, contributions, D.shape)
        if GP is None:
            return
        self.program.append(("mse_bwd", D, self.scale(node, D.size), GP))
        if add is not None:
            self.program.append(add)

    # ------------------------------------------------------------ distributed training
    def allreduce(self, dopt, local, tail):
        """DistributedOptimizer.reduce_gradients (fastgrad.distributed): the gradients, scaled
        by the local batch size, copied into the flat buffers' views (in the tape), then one
        Python call of ``dopt.sum_and_divide(tail)`` (the Allreduce and the division); the
        update that follows reads the views. ``tail`` None: one rank, nothing reduced."""
        if self.root is None:
            raise CaptureError("capture: DistributedOptimizer.step() runs before backward(); "
                               "a captured step is forward, backward, step")
        if self.reduced and any(id(p) in self.reduced for p in dopt.params):
            raise CaptureError("capture: the gradients are reduced twice in the step")
        if local == 0:
            raise CaptureError("capture: a distributed step without a local sample "
                               "(batch_size=0) is not captured; run it eagerly")
        self.after.append(_WeakCall(dopt, "after_step"))
        if tail is None:
            return
        for i, (p, view) in enumerate(zip(dopt.params, dopt.flat.views)):
            g = self.grads.get(id(p))
            if g is None:
                raise CaptureError(f"capture: DistributedOptimizer's parameter {i} "
                                   f"({p.data.dtype} {p.data.shape}) gets no gradient from the "
                                   f"step's loss; capture needs every optimized parameter in "
                                   f"the graph")
            self.program.append(("scalar", "mul", g, float(local), view))
            self.reduced[id(p)] = view
        tail = np.array(tail)
        self.arena.append(tail)
        self.program.append(("call", _WeakCall(dopt, "sum_and_divide", tail)))
        self.guards.append((dopt, "flat", -1, dopt.flat))
        self.weak_objects.append(dopt)

    # ------------------------------------------------------------ the optimizer
    def optimizer_step(self, opt):
        if self.root is None:
            raise CaptureError(f"capture: {type(opt).__name__}.step() runs before backward(); "
                               f"a captured step is forward, backward, step")
        if any(o is opt for o, _ in self.optimizers):
            raise CaptureError(f"capture: {type(opt).__name__}.step() runs twice in the step")
        program = _UPDATES.get(type(opt))
        if program is None:
            raise CaptureError(f"capture: the optimizer {type(opt).__name__} has no tape "
                               f"program (SGD, Adam and AdamW have)")
        grads = []
        for i, p in enumerate(opt.params):
            g = self.reduced.get(id(p), self.grads.get(id(p)))
            if g is None:
                raise CaptureError(f"capture: {type(opt).__name__}'s parameter {i} "
                                   f"({p.data.dtype} {p.data.shape}) gets no gradient from the "
                                   f"step's loss; capture needs every optimized parameter in "
                                   f"the graph")
            grads.append(g)
        base = len(self.scalars)
        values = _slot_values(opt, opt.steps)
        self.scalars.extend(values)
        self.guards.append((opt, "params", -2, len(opt.params)))
        for i, p in enumerate(opt.params):
            self.guards.append((opt, "params", i, p))
        self.weak_objects.append(opt)
        program(self, opt, grads, base)
        self.optimizers.append((opt, base, _structure(opt)))

    def ufunc(self, ufunc, operands, out):
        self.program.append(("ufunc", ufunc, tuple(operands), out))

    def state(self, opt, name, i):
        """Optimizer state array ``name``[i] (used in place; its identity is guarded)."""
        arr = getattr(opt, name)[i]
        if arr is None:
            raise CaptureError(f"capture: {type(opt).__name__}'s {name}[{i}] does not exist "
                               f"yet (the first step creates it)")
        self.guards.append((opt, name, i, arr))
        return arr


# ---------------------------------------------------------------- optimizer programs

class Slot(int):
    """An operand that is scalar slot k (refreshed from the optimizer before each replay)."""


def _structure(opt):
    """What shapes an optimizer's program (a change raises on replay)."""
    if isinstance(opt, optim.SGD):
        return ("SGD", opt.momentum != 0, opt.weight_decay != 0, opt.dampening != 0,
                opt.nesterov)
    return (type(opt).__name__, opt.weight_decay != 0, opt.decoupled)


def _slot_values(opt, steps):
    """The scalar slots of ``opt``'s program for its step number ``steps``, as eager
    Optimizer.step computes them (same Python expressions)."""
    lr = float(opt.schedule(steps)) if opt.schedule is not None else opt.lr
    if isinstance(opt, optim.SGD):
        return [lr, opt.weight_decay, opt.momentum, 1 - opt.dampening]
    beta1, beta2 = opt.betas
    t = opt.t[0] + 1
    return [lr, opt.weight_decay, beta1, 1 - beta1, beta2, 1 - beta2, opt.eps,
            lr / (1 - beta1 ** t), math.sqrt(1 - beta2 ** t), 1 - lr * opt.weight_decay]


def _sgd_program(rec, opt, grads, base):
    """optim.SGD.update as one instruction per parameter (a one-pass kernel with update's
    roundings, element by element; the slots base..base+3 are lr, wd, momentum, 1 -
    dampening)."""
    flags = ((SGD_DECAY if opt.weight_decay else 0) | (SGD_MOMENTUM if opt.momentum else 0)
             | (SGD_DAMPENING if opt.momentum and opt.dampening else 0)
             | (SGD_NESTEROV if opt.momentum and opt.nesterov else 0))
    for i, p in enumerate(opt.params):
        buf = rec.state(opt, "buffers", i) if opt.momentum else None
        rec.program.append(("sgd", p.data, grads[i], buf, base, flags))


def _adam_program(rec, opt, grads, base):
    """optim.Adam.update (and AdamW's), operation by operation."""
    if len(set(opt.t)) != 1:
        raise CaptureError(f"capture: {type(opt).__name__}'s parameters have taken different "
                           f"numbers of steps ({sorted(set(opt.t))})")
    (_lr, wd, beta1, one_m_beta1, beta2, one_m_beta2, eps, step_size, bias2,
     decay) = (Slot(base + k) for k in range(10))
    for i, p in enumerate(opt.params):
        data, grad = p.data, grads[i]
        m, v, tmp = (rec.state(opt, name, i) for name in ("m", "v", "scratch"))
        if opt.weight_decay:
            if opt.decoupled:
                rec.ufunc(np.multiply, (data, decay), data)
            else:
                s1 = rec.new(data.shape, data.dtype)
                rec.ufunc(np.multiply, (wd, data), s1)
                rec.ufunc(np.add, (grad, s1), s1)
                grad = s1
        rec.ufunc(np.multiply, (m, beta1), m)
        rec.ufunc(np.multiply, (grad, one_m_beta1), tmp)
        rec.ufunc(np.add, (m, tmp), m)
        rec.ufunc(np.multiply, (v, beta2), v)
        rec.ufunc(np.multiply, (grad, grad), tmp)
        rec.ufunc(np.multiply, (tmp, one_m_beta2), tmp)
        rec.ufunc(np.add, (v, tmp), v)
        rec.ufunc(np.sqrt, (v,), tmp)
        rec.ufunc(np.true_divide, (tmp, bias2), tmp)
        rec.ufunc(np.add, (tmp, eps), tmp)
        rec.ufunc(np.true_divide, (m, tmp), tmp)
        rec.ufunc(np.multiply, (tmp, step_size), tmp)
        rec.ufunc(np.subtract, (data, tmp), data)


_UPDATES = {optim.SGD: _sgd_program, optim.Adam: _adam_program, optim.AdamW: _adam_program}


def updates_taped(opt):
    """True when a tape holds ``opt``'s update (its exact type has a program here)."""
    return type(opt) in _UPDATES


def _commit(opt, values, base):
    """After a replay: the optimizer's Python state as its eager step() leaves it (its slot
    values start at values[base])."""
    opt.lr = values[base]
    if not isinstance(opt, optim.SGD):
        opt.t = [opt.t[0] + 1] * len(opt.t)
    opt.steps += 1


# ---------------------------------------------------------------- the captured function

def _arg_arrays(args, where):
    """The arrays of the arguments (a Tensor's data)."""
    out = []
    for i, a in enumerate(args):
        data = getattr(a, "data", a) if not isinstance(a, np.ndarray) else a
        if not isinstance(data, np.ndarray):
            raise CaptureError(f"{where}: argument {i} is a {type(a).__name__}; a captured "
                               f"step takes arrays (or Tensors)")
        if getattr(a, "requires_grad", False):
            raise CaptureError(f"{where}: argument {i} is a Tensor that requires grad; pass "
                               f"inputs, and keep parameters in the model")
        out.append(data)
    return out


_GONE = ("capture: the captured step's parameters or optimizer were garbage collected (the "
         "tape holds them weakly, so that a replay never trains a model nobody holds); "
         "capture the step again with the model and optimizer in use")


class _WeakCall:
    """``getattr(obj, name)(*args)`` for an object the tape holds weakly (CaptureError once it
    is gone)."""

    def __init__(self, obj, name, *args):
        self.ref = weakref.ref(obj)
        self.name = name
        self.args = args

    def __call__(self):
        obj = self.ref()
        if obj is None:
            raise CaptureError(_GONE)
        return getattr(obj, self.name)(*self.args)


class _Tape:
    """One recorded program with its guards (wraps the backend's Tape).

    The parameters and optimizers are held weakly (the arrays strongly: the ops point into
    them): if the model is dropped or rebound (``model = new_model`` where the step reads a
    global), they are collected and a replay raises CaptureError instead of training them."""

    def __init__(self, bk, rec, signature):
        self.signature = signature
        # engine.is_grad_enabled without its lookups (the active backend is bound at import)
        self.grad_enabled = _backend.active.node.is_grad_enabled
        self.optimizers = [(weakref.ref(opt), base, structure)
                           for opt, base, structure in rec.optimizers]
        self.after = rec.after              # Python calls after each replay
        # (parameter, its gradient buffer, the step clears its grad before backward, the
        # step leaves a gradient in it, an optimizer of the step updates it: a replay gives it
        # a new version as Optimizer.step does)
        updated = {id(p) for opt, _, _ in rec.optimizers for p in opt.params}
        params = []
        for p in rec.params:
            if id(p) not in rec.grads:
                raise CaptureError(f"capture: a parameter ({p.data.dtype} {p.data.shape}) is in "
                                   f"the graph but gets no gradient from its ops")
            # the gradient a step leaves: its buffer, or its view into a reduced flat buffer
            grad = rec.reduced.get(id(p), rec.grads[id(p)])
            params.append((weakref.ref(p), grad, id(p) in rec.cleared, p.grad is not None,
                           id(p) in updated))
        # the weak reference of each object the tape holds weakly, made once (by id)
        refs = {id(p): info[0] for p, info in zip(rec.params, params)}
        for obj in rec.weak_objects:
            refs[id(obj)] = weakref.ref(obj)
        held = refs.get
        guards = [(held(id(obj), obj), attr, index, held(id(expected), expected))
                  for obj, attr, index, expected in rec.guards]
        self.compiled = bk.tape.Tape(rec.program, rec.inputs, params, guards,
                                     np.array(rec.scalars, dtype=np.float64), rec.loss,
                                     rec.arena, CaptureError, _GONE)

    def live_optimizers(self):
        """[(optimizer, slot base, structure)], or CaptureError if one was collected."""
        live = []
        for ref, base, structure in self.optimizers:
            opt = ref()
            if opt is None:
                raise CaptureError(_GONE)
            live.append((opt, base, structure))
        return live

    @property
    def arena_bytes(self):
        return self.compiled.arena_bytes


class Captured:
    """A captured step (see fastgrad.capture)."""

    def __init__(self, fn, verify=0, retrace=0, fallback=False):
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.verify = int(verify)
        self.retrace = int(retrace)
        self.fallback = bool(fallback)
        self.calls = 0          # calls so far
        self.replays = 0        # replayed calls so far
        self.tape = None        # the tape in use
        self.tapes = {}         # signature -> _Tape (with retrace)
        self.eager_only = False
        self._full_warned = False

    # ------------------------------------------------------------ calls
    def __call__(self, *args, **kwargs):
        if kwargs:
            raise CaptureError(f"capture: {self.__name__} was called with keyword arguments; "
                               f"a captured step takes positional arrays")
        self.calls += 1
        if self.calls == 1 or self.eager_only:
            return self._eager(args)
        if self.tape is None:
            return self._record(args)
        try:
            return self._replay(self.tape, args)
        except CaptureError as e:
            if not (self.retrace and getattr(e, "signature", False)):
                raise
        signature = self._signature(args)
        tape = self.tapes.get(signature)
        if tape is not None:
            self.tape = tape
            return self._replay(tape, args)
        if len(self.tapes) >= self.retrace:
            if not self._full_warned:
                warnings.warn(f"capture: {self.__name__} holds {self.retrace} tapes (retrace="
                              f"{self.retrace}); steps with other input shapes run eagerly",
                              RuntimeWarning, stacklevel=2)
                self._full_warned = True
            return self._eager(args)
        return self._record(args)

    @staticmethod
    def _signature(args):
        return tuple((a.shape, a.dtype.str) for a in _arg_arrays(args, "capture"))

    def _eager(self, args):
        out = self.fn(*args)
        return self._as_result(out, None)

    def _as_result(self, out, root):
        data = getattr(out, "data", None)
        if not isinstance(data, np.ndarray) or not hasattr(out, "requires_grad"):
            raise CaptureError(f"capture: {self.__name__} returned a "
                               f"{type(out).__name__}; a captured step returns its loss tensor")
        if root is not None and out is not root:
            raise CaptureError(f"capture: {self.__name__} returned a tensor that is not the "
                               f"loss backward() ran from")
        return float(data) if data.size == 1 else np.array(data)

    def _record(self, args):
        bk = _backend.active
        where = f"capture({self.__name__})"
        if not engine.is_grad_enabled():
            raise CaptureError(f"{where}: grad mode is off (inside no_grad()); a captured step "
                               f"records a backward")
        arrays = _arg_arrays(args, where)
        inputs, call_args = [], []  # the tape's input buffers; what fn is called with
        for a, arr in zip(args, arrays):
            buf = np.array(arr, order="C")
            if not isinstance(a, np.ndarray):  # a Tensor: one of its class, over its own copy
                a = type(a)(buf)
                buf = a.data
            inputs.append(buf)
            call_args.append(buf if isinstance(a, np.ndarray) else a)
        rec = _Recorder(bk, inputs)
        previous = _recording.set_active(rec)
        try:
            out = self.fn(*call_args)
        except CaptureError as e:
            error = e
        else:
            error = None
        finally:
            _recording.set_active(previous)
        if error is not None:
            for p in rec.params:  # a sweep may have run: leave no gradient behind (they were
                p.grad = None     # None when backward began, as the recorder checked)
            if not self.fallback:
                raise error
            return self._give_up(error, args)
        if rec.root is None:
            raise CaptureError(f"{where}: the function never called backward(); a captured "
                               f"step is forward, loss.backward(), optimizer.step()")
        result = self._as_result(out, rec.root)
        if rec.after and self.verify:  # a verified replay would run the collectives twice
            raise CaptureError(f"{where}: verify= is not available for a distributed step "
                               f"(checking a replay against an eager step runs the allreduce "
                               f"twice on this rank only); use DistributedOptimizer's "
                               f"check_every")
        try:
            tape = _Tape(rec.bk, rec, tuple((a.shape, a.dtype.str) for a in inputs))
        except CaptureError as e:  # an op the tape cannot hold as eager ran it
            if not self.fallback:
                raise
            warnings.warn(f"capture: {self.__name__} runs eagerly: {e}", RuntimeWarning,
                          stacklevel=2)
            self.eager_only = True
            return result  # this call's step ran (eagerly, while recorded)
        self.tape = tape
        if self.retrace:
            self.tapes[tape.signature] = tape
        return result

    def _give_up(self, error, args):
        warnings.warn(f"capture: {self.__name__} runs eagerly: {error}", RuntimeWarning,
                      stacklevel=3)
        self.eager_only = True
        return self._eager(args)

    def _replay(self, tape, args):
        if not tape.grad_enabled():
            raise CaptureError(f"capture({self.__name__}): grad mode is off (inside no_grad()) "
                               f"but the step was captured with it on")
        values = []
        optimizers = []
        for ref, base, structure in tape.optimizers:
            opt = ref()
            if opt is None:
                raise CaptureError(_GONE)
            if _structure(opt) != structure:
                raise CaptureError(f"capture: {type(opt).__name__}'s hyper-parameters changed "
                                   f"what its update does ({structure} -> {_structure(opt)}); "
                                   f"capture a new step")
            values += _slot_values(opt, opt.steps)
            optimizers.append((opt, base))
        if self.verify and (self.replays + 1) % self.verify == 0:
            loss = self._verified(tape, args, values)
        else:
            loss = tape.compiled.replay(args, values)
            for opt, base in optimizers:
                _commit(opt, values, base)
            if tape.after:
                for after in tape.after:
                    after()
        self.replays += 1  # (a replay refused by its guards is not counted)
        return loss

    # ------------------------------------------------------------ verify
    def _verified(self, tape, args, values):
        before = _snapshot(tape)
        loss = tape.compiled.replay(args, values)
        for opt, base, _ in tape.live_optimizers():
            _commit(opt, values, base)
        replayed = _snapshot(tape)
        _restore(tape, before)
        eager_loss = self._eager(args)
        eager = _snapshot(tape)
        for k, (a, b) in enumerate(zip(replayed, eager)):
            if not _same_bits(a, b):
                raise CaptureError(f"capture: verify: replay {self.replays + 1} diverged from an "
                                   f"eager step (state array {k}: {_where_differs(a, b)}); "
                                   f"the parameters hold the eager step's result")
        if not _same_bits(np.float64(loss), np.float64(eager_loss)):
            raise CaptureError(f"capture: verify: replay {self.replays + 1}'s loss {loss!r} != "
                               f"the eager step's {eager_loss!r}")
        return eager_loss


def _state_arrays(tape):
    arrays = [p.data for p in tape.compiled.params]
    for opt, _, _ in tape.live_optimizers():
        for name in opt.BUFFERS:
            arrays += [a for a in getattr(opt, name) if a is not None]
    return arrays


def _snapshot(tape):
    state = [np.array(a) for a in _state_arrays(tape)]
    state += [None if p.grad is None else np.array(p.grad) for p in tape.compiled.params]
    for opt, _, _ in tape.live_optimizers():
        state.append((opt.lr, opt.steps, tuple(getattr(opt, "t", ()))))
    return state


def _restore(tape, state):
    arrays = _state_arrays(tape)
    for a, saved in zip(arrays, state):
        a[...] = saved
    k = len(arrays)
    for p in tape.compiled.params:
        p.grad = None if state[k] is None else np.array(state[k])
        k += 1
    for opt, _, _ in tape.live_optimizers():
        opt.lr, opt.steps, t = state[k]
        if t:
            opt.t = list(t)
        k += 1


def _same_bits(a, b):
    if isinstance(a, tuple) or a is None or b is None:
        return a == b
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def _where_differs(a, b):
    try:
        return f"max |difference| {np.max(np.abs(np.asarray(a) - np.asarray(b)))!r}"
    except (TypeError, ValueError):
        return f"{a!r} != {b!r}"


def capture_value_and_grad(loss, params, lr, *, verify=0, retrace=0):
    """The HIPS face's training loop, captured: ``value, g = value_and_grad(loss)(params,
    *data)`` then ``params[k] -= lr * g[k]`` for each array, in place.

    >>> step = fastgrad.capture_value_and_grad(loss, params, lr=0.1)
    >>> for x, y in batches:
    ...     value = step(x, y)          # a float; params updated in place

    ``loss(params, *data)`` is written with ``fastgrad.numpy`` and returns a scalar; ``params``
    is a list of float arrays (C-contiguous: they are updated where they are). The step is
    ``fastgrad.capture`` of the same computation on the Tensor face (the arrays wrapped,
    not copied, as leaves; an SGD update), so the replay is bit for bit the loop above:
    the same forward ops, the same sweep, ``p - lr * g`` as numpy computes it. The learning
    rate may be changed between steps (``step.optimizer.lr = ...``) without a recapture. A loss that uses an op a
    tape does not hold raises CaptureError when recorded (call 2), as capture does.
    """
    params = list(params)
    for i, p in enumerate(params):
        if not (isinstance(p, np.ndarray) and p.dtype in (np.float32, np.float64)
                and p.flags.c_contiguous and p.flags.writeable):
            raise TypeError(f"capture_value_and_grad: params[{i}] must be a writeable "
                            f"C-contiguous float32/float64 numpy array (updated in place), got "
                            f"{getattr(p, 'dtype', type(p).__name__)}")
    from .tensor import Tensor
    leaves = []
    for p in params:
        t = Tensor(p, requires_grad=True)
        t.data = p  # the user's array itself (not the copy): the update lands in it
        leaves.append(t)
    opt = optim.SGD(leaves, lr)

    def step(*data):
        opt.zero_grad()
        value = loss(leaves, *data)
        if not hasattr(value, "backward"):
            raise CaptureError(f"capture_value_and_grad: {getattr(loss, '__name__', 'loss')} "
                               f"returned a {type(value).__name__} that does not depend on "
                               f"params")
        value.backward()
        opt.step()
        return value
    step.__name__ = getattr(loss, "__name__", "loss")
    captured = Captured(step, verify=verify, retrace=retrace)
    captured.optimizer = opt
    captured.params = params
    return captured


def capture(fn=None, *, verify=0, retrace=0, fallback=False):
    """Capture a training step: record it once, replay it in compiled code after that.

    Parameters
    ----------
    fn : callable
        The step: takes arrays (or Tensors that do not require grad), runs the forward pass
        and a fused loss, calls ``loss.backward()`` once and ``optimizer.step()``, and returns
        the loss tensor. Its parameters must get their gradient from this backward only
        (``zero_grad()`` in the step, or after the previous one).
    verify : int
        Every ``verify``-th replay is checked against an eager step from the same state; a
        difference raises CaptureError (the eager result is kept). 0: never.
    retrace : int
        Keep up to this many tapes, one per input signature (shapes and dtypes): a new
        signature records a new tape instead of raising; when the cache is full, a warning,
        and such steps run eagerly. 0: a new signature raises CaptureError.
    fallback : bool
        A step that cannot be captured (an op without a tape kernel, ...) runs eagerly from
        then on, with a warning, instead of raising CaptureError.

    Returns
    -------
    Captured
        Call it like ``fn``; it returns the loss as a Python float. Call 1 runs eagerly,
        call 2 records (eagerly), later calls replay. ``.tape.arena_bytes`` is the arena's size.
    """
    if fn is None:
        return functools.partial(capture, verify=verify, retrace=retrace, fallback=fallback)
    return Captured(fn, verify=verify, retrace=retrace, fallback=fallback)
