"""Optimizers: SGD (momentum, weight decay, Nesterov), Adam and AdamW, with PyTorch's update
rules, applied in place to each parameter's ``.data`` from its ``.grad``.

A learning-rate schedule is a hook: ``schedule(k)`` gives the learning rate of step k
(k = 0, 1, ... counts the calls to ``step()``); it is looked up before each step and stored in
``optimizer.lr``. Setting ``optimizer.lr`` by hand works too.

``state_dict()`` / ``load_state_dict()`` carry what training has accumulated (learning rate,
step counts, momentum or moment buffers) as a flat dict of arrays, so that it can be saved with
``fastgrad.save_parameters`` and training resumed where it stopped; the hyperparameters are the
constructor's arguments and are not part of it.

>>> opt = optim.SGD(model.parameters(), lr=1.0, schedule=lambda k: 1.0 - 0.9 * k / 100)
>>> loss.backward(); opt.step(); opt.zero_grad()
"""
import math
from collections.abc import Mapping

import numpy as np

from . import _recording


def mark_modified(p):
    """Tell p's engine that its data changed: graphs recorded before cannot be differentiated."""
    backend = getattr(type(p), "_backend", None)
    if backend is not None:
        backend.node.mark_modified(p)


class Optimizer:
    """Base class: holds the parameters, the learning rate, the schedule and the step count."""

    # Names of the per-parameter lists that state_dict saves as "<name>.<i>": arrays shaped like
    # parameter i (None until first needed, when OPTIONAL_BUFFERS) and integer counts.
    BUFFERS = ()
    OPTIONAL_BUFFERS = False
    COUNTS = ()

    def __init__(self, params, lr, schedule=None):
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty list of parameters")
        for i, p in enumerate(params):
            if not (isinstance(getattr(p, "data", None), np.ndarray)
                    and getattr(p, "requires_grad", False)):
                raise TypeError(f"{type(self).__name__}: parameter {i} is not a Tensor with "
                                f"requires_grad=True (got {type(p).__name__})")
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{type(self).__name__}: a parameter appears more than once")
        if schedule is not None and not callable(schedule):
            raise TypeError(f"{type(self).__name__}: schedule must be callable (step -> lr)")
        self.params = params
        self.lr = float(lr)
        self.schedule = schedule
        self.steps = 0  # step() calls so far

    def zero_grad(self):
        """Forget every parameter's gradient (``.grad`` becomes None)."""
        recorder = _recording.active()
        if recorder is not None:  # fastgrad.capture: the step clears these gradients
            recorder.zero_grad(self.params)
        for p in self.params:
            p.grad = None

    def step(self):
        """Update every parameter that has a gradient (all gradients are checked first)."""
        self.check_grads()
        recorder = _recording.active()
        if recorder is not None:  # fastgrad.capture records this update before it runs
            recorder.optimizer_step(self)
        if self.schedule is not None:
            self.lr = float(self.schedule(self.steps))
        for i, p in enumerate(self.params):
            if p.grad is not None:
                self.update(i, p.data, p.grad)
                mark_modified(p)
        self.steps += 1

    def check_grads(self):
        """Raise unless every gradient is an array of its parameter's shape and dtype (numpy
        would broadcast a wrong one into the parameter without a word)."""
        where = f"{type(self).__name__}.step"
        for i, p in enumerate(self.params):
            g, data = p.grad, p.data
            if g is None:
                continue
            if not isinstance(g, np.ndarray):
                raise TypeError(f"{where}: parameter {i} ({data.dtype} {data.shape}) has a "
                                f"gradient of type {type(g).__name__}, not a numpy array")
            if g.shape != data.shape:
                raise ValueError(f"{where}: parameter {i} has shape {data.shape} but its "
                                 f"gradient has shape {g.shape}")
            if g.dtype != data.dtype:
                raise TypeError(f"{where}: parameter {i} has dtype {data.dtype} but its "
                                f"gradient has dtype {g.dtype}")

    def update(self, i, data, grad):
        """Change ``data`` (parameter i's array) in place, given its gradient."""
        raise NotImplementedError

    def state_dict(self):
        """What training accumulated, as a flat dict name -> array (copies): "lr", "steps", and
        "<buffer>.<i>" for parameter i's buffers and counts."""
        state = {"lr": np.array(self.lr), "steps": np.array(self.steps)}
        for name in self.BUFFERS + self.COUNTS:
            for i, value in enumerate(getattr(self, name)):
                if value is not None:
                    state[f"{name}.{i}"] = np.array(value)
        return state

    def load_state_dict(self, state):
        """Restore what ``state_dict()`` returned (or ``load_state`` read back from a file), for
        the same parameters in the same order. Everything is checked before anything changes."""
        where = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state, Mapping):
            raise TypeError(f"{where}: expected a dict name -> array, got {type(state).__name__}")
        expected = {"lr", "steps"} | {f"{name}.{i}" for name in self.BUFFERS + self.COUNTS
                                      for i in range(len(self.params))}
        unexpected = sorted(set(state) - expected)
        if unexpected:
            raise KeyError(f"{where}: unexpected entry {unexpected[0]!r} (this optimizer has "
                           f"{len(self.params)} parameters and buffers {list(self.BUFFERS)})")
        required = {"lr", "steps"} | {f"{name}.{i}" for name in self.COUNTS
                                      for i in range(len(self.params))}
        if not self.OPTIONAL_BUFFERS:
            required |= expected
        missing = sorted(required - set(state))
        if missing:
            raise KeyError(f"{where}: missing entry {missing[0]!r}")
        values = {key: np.asarray(getattr(value, "data", value)) for key, value in state.items()}
        for key, value in values.items():
            name, _, index = key.partition(".")
            if name in self.BUFFERS:
                shape = self.params[int(index)].data.shape
                if value.dtype.kind not in "biuf" or value.shape != shape:
                    raise ValueError(f"{where}: {key!r} should be real numbers of shape {shape} "
                                     f"(parameter {index}), got {value.dtype} {value.shape}")
            elif not (value.shape == () and value.dtype.kind in ("iuf" if name == "lr" else "iu")
                      and value >= 0):
                kind = "a number >= 0" if name == "lr" else "an integer count >= 0"
                raise ValueError(f"{where}: {key!r} should be {kind}, got {value.dtype} "
                                 f"{value.shape}")
        self.lr = float(values["lr"])
        self.steps = int(values["steps"])
        for name in self.COUNTS:
            setattr(self, name, [int(values[f"{name}.{i}"]) for i in range(len(self.params))])
        for name in self.BUFFERS:
            buffers = getattr(self, name)
            for i, p in enumerate(self.params):
                value = values.get(f"{name}.{i}")
                if value is None:
                    buffers[i] = None
                elif buffers[i] is None:
                    buffers[i] = value.astype(p.data.dtype)  # a fresh copy
                else:
                    buffers[i][...] = value

    def __repr__(self):
        return f"{type(self).__name__}(lr={self.lr:g}, {len(self.params)} parameters)"


def check_rate(name, value, where, upper=None):
    if not (value >= 0 and (upper is None or value < upper)):
        bound = f"in [0, {upper:g})" if upper is not None else ">= 0"
        raise ValueError(f"{where}: {name} must be {bound}, got {value!r}")


class SGD(Optimizer):
    """p -= lr·d, with d = g + wd·p, or with momentum μ: b = μ·b + (1 - dampening)·d (b = d on
    the first step) and d = b (d + μ·b with Nesterov)."""

    BUFFERS = ("buffers",)
    OPTIONAL_BUFFERS = True  # no momentum buffer before the first step (or without momentum)

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0, dampening=0.0,
                 nesterov=False, schedule=None):
        super().__init__(params, lr, schedule)
        check_rate("lr", self.lr, "SGD")
        check_rate("momentum", momentum, "SGD")
        check_rate("weight_decay", weight_decay, "SGD")
        if nesterov and (momentum == 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum needs momentum > 0 and dampening 0")
        self.momentum = float(momentum)
        self.weight_decay = float(weight_decay)
        self.dampening = float(dampening)
        self.nesterov = bool(nesterov)
        self.buffers = [None] * len(self.params)   # momentum buffers
        self.scratch = [None] * len(self.params)   # lr·d, so that no step allocates

    def update(self, i, data, grad):
        d = grad
        if self.weight_decay:
            d = grad + self.weight_decay * data
        if self.momentum:
            buf = self.buffers[i]
            if buf is None:
                buf = self.buffers[i] = np.array(d, dtype=data.dtype)
            else:
                buf *= self.momentum
                buf += (1 - self.dampening) * d if self.dampening else d
            d = d + self.momentum * buf if self.nesterov else buf
        tmp = self.scratch[i]
        if tmp is None:
            tmp = self.scratch[i] = np.empty_like(data)
        np.multiply(d, self.lr, out=tmp)
        np.subtract(data, tmp, out=data)


class Adam(Optimizer):
    """Adam (PyTorch's form): m = β1·m + (1-β1)·g, v = β2·v + (1-β2)·g²,
    p -= (lr / (1-β1^t)) · m / (√v / √(1-β2^t) + ε); weight_decay adds wd·p to g (L2)."""

    decoupled = False
    BUFFERS = ("m", "v")
    COUNTS = ("t",)

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 schedule=None):
        super().__init__(params, lr, schedule)
        where = type(self).__name__
        check_rate("lr", self.lr, where)
        check_rate("beta1", betas[0], where, 1.0)
        check_rate("beta2", betas[1], where, 1.0)
        check_rate("eps", eps, where)
        check_rate("weight_decay", weight_decay, where)
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]
        self.t = [0] * len(self.params)  # updates of each parameter (it may lack a gradient)
        self.scratch = [np.empty_like(p.data) for p in self.params]

    def update(self, i, data, grad):
        beta1, beta2 = self.betas
        self.t[i] += 1
        t = self.t[i]
        if self.weight_decay:
            if self.decoupled:
                data *= 1 - self.lr * self.weight_decay
            else:
                grad = grad + self.weight_decay * data
        m, v, tmp = self.m[i], self.v[i], self.scratch[i]
        m *= beta1                                   # m = β1·m + (1-β1)·g
        np.multiply(grad, 1 - beta1, out=tmp)
        m += tmp
        v *= beta2                                   # v = β2·v + (1-β2)·g²
        np.multiply(grad, grad, out=tmp)
        tmp *= 1 - beta2
        v += tmp
        step_size = self.lr / (1 - beta1 ** t)
        np.sqrt(v, out=tmp)                          # denominator √v/√(1-β2^t) + ε
        tmp /= math.sqrt(1 - beta2 ** t)
        tmp += self.eps
        np.divide(m, tmp, out=tmp)
        tmp *= step_size
        data -= tmp


class AdamW(Adam):
    """Adam with decoupled weight decay: p *= 1 - lr·wd before each Adam step (default 0.01)."""

    decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 schedule=None):
        super().__init__(params, lr, betas, eps, weight_decay, schedule)


__all__ = ["SGD", "Adam", "AdamW", "Optimizer"]
