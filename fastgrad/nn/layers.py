"""Layers on Tensors: Linear (the fused dense op), activations, Sequential, and mlp(sizes).

Weights are stored (in, out), so that a layer computes ``y = act(x @ weight + bias)``
(PyTorch stores (out, in); transpose when moving weights across). ``nn.MLP`` is micrograd's
scalar MLP; the Tensor MLP is made by the factory :func:`mlp`.

Every layer builds its parameters on the active backend (fastgrad binds one per process, at
import; ``backend=``, if given, must name it) and runs that backend's kernels.
"""
import itertools

import numpy as np

from ..tensor import Tensor
from . import init as _init
from .functional import resolve_backend
from .module import Module

ACTIVATIONS = (None, "tanh", "relu", "sigmoid")


def activation_name(activation, where):
    """None, "tanh", "relu" or "sigmoid" ("none" and "linear" mean None)."""
    if activation in ("none", "linear"):
        return None
    if activation not in ACTIVATIONS:
        raise ValueError(f"{where}: unknown activation {activation!r}; expected one of "
                         f"None, 'tanh', 'relu', 'sigmoid'")
    return activation


def float_dtype(dtype, where):
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise TypeError(f"{where}: dtype must be float32 or float64, got {dtype}")
    return dtype


class Linear(Module):
    """y = act(x @ weight + bias), one fused graph node per call.

    Parameters
    ----------
    in_features, out_features : int
    activation : None, "tanh", "relu" or "sigmoid"
        Applied inside the same node (forward and backward fused).
    bias : bool
        Whether to learn a bias (initialised to zero).
    init : str or callable, optional
        The weight initialiser: "xavier_uniform" (the default, except with relu),
        "he_uniform" (the default with relu), "xavier_normal", "he_normal", "uniform"
        (PyTorch's U(±1/√in)), or a callable ``init(weight, rng)`` filling it in place.
    dtype : float32 or float64 (default float64)
    rng : None, int or numpy.random.Generator
        Where the initial weights come from (None: fastgrad.nn.init's generator, which
        ``fastgrad.nn.init.manual_seed`` reseeds).
    backend : None, "cython" or "python"
        The engine the parameters live on (default: the active one).
    """

    def __init__(self, in_features, out_features, activation=None, bias=True, init=None,
                 dtype=np.float64, rng=None, backend=None):
        for name, n in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(n, (int, np.integer)) or n < 1:
                raise ValueError(f"Linear: {name} must be a positive integer, got {n!r}")
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        self.activation = activation_name(activation, "Linear")
        dtype = float_dtype(dtype, "Linear")
        bk = resolve_backend(backend)
        self._dense = bk.dense.dense
        self.weight = Tensor(np.empty((self.in_features, self.out_features), dtype),
                             requires_grad=True)
        self.bias = Tensor(np.zeros(self.out_features, dtype), requires_grad=True) \
            if bias else None
        if init is None:
            init = "he_uniform" if self.activation == "relu" else "xavier_uniform"
        if isinstance(init, str):
            if init not in _init.INITIALISERS:
                raise ValueError(f"Linear: unknown init {init!r}; expected a callable or one "
                                 f"of {sorted(_init.INITIALISERS)}")
            init = _init.INITIALISERS[init]
        init(self.weight, _init.generator(rng))

    def forward(self, x):
        return self._dense(x, self.weight, self.bias, self.activation)

    def __repr__(self):
        extras = "" if self.bias is not None else ", bias=False"
        if self.activation is not None:
            extras += f", activation={self.activation!r}"
        if self.weight.dtype != np.float64:
            extras += f", dtype={self.weight.dtype}"
        return f"Linear({self.in_features}, {self.out_features}{extras})"


class Activation(Module):
    """An activation as a layer (for Sequential); after a Linear without an activation of its
    own, Sequential fuses the two into one dense node."""

    name = None

    def forward(self, x):
        bk = getattr(type(x), "_backend", None) or resolve_backend()
        return getattr(bk.elementwise, self.name)(x)

    def __repr__(self):
        return f"{type(self).__name__}()"


class Tanh(Activation):
    name = "tanh"


class ReLU(Activation):
    name = "relu"


class Sigmoid(Activation):
    name = "sigmoid"


class Sequential(Module):
    """Layers applied in order; parameters are named by position ("0.weight", "2.bias", ...).

    ``Sequential(Linear(64, 64), Tanh(), Linear(64, 10))`` computes the Linear and the Tanh as
    one fused dense node, like ``Linear(64, 64, activation="tanh")``.
    """

    def __init__(self, *layers):
        if len(layers) == 1 and isinstance(layers[0], (list, tuple)):
            layers = tuple(layers[0])
        for i, layer in enumerate(layers):
            if not callable(layer):
                raise TypeError(f"Sequential: layer {i} ({type(layer).__name__}) is not "
                                f"callable")
            setattr(self, str(i), layer)
        self._layers = tuple(layers)

    def forward(self, x):
        layers = self._layers
        i, n = 0, len(layers)
        while i < n:
            layer = layers[i]
            if (i + 1 < n and type(layer) is Linear and layer.activation is None
                    and isinstance(layers[i + 1], Activation)):
                x = layer._dense(x, layer.weight, layer.bias, layers[i + 1].name)
                i += 2
            else:
                x = layer(x)
                i += 1
        return x

    def __len__(self):
        return len(self._layers)

    def __getitem__(self, i):
        return self._layers[i]

    def __iter__(self):
        return iter(self._layers)

    def __repr__(self):
        inner = "".join(f"\n  ({i}): {layer!r}" for i, layer in enumerate(self._layers))
        return f"Sequential({inner}\n)"


def mlp(sizes, activation="tanh", output_activation=None, bias=True, init=None,
        dtype=np.float64, seed=None, backend=None):
    """A multilayer perceptron on Tensors: ``Sequential`` of ``Linear`` layers.

    ``mlp([64, 64, 10])`` is Linear(64, 64, "tanh") then Linear(64, 10): ``activation`` on
    every hidden layer, ``output_activation`` (default none: logits) on the last. ``seed``
    (an int or a numpy Generator) makes the initial weights reproducible; the other arguments
    are Linear's.
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"mlp: sizes must list at least the input and output sizes, "
                         f"got {sizes}")
    activation_name(activation, "mlp")
    rng = _init.generator(seed)
    last = len(sizes) - 2
    return Sequential(*[
        Linear(n_in, n_out, activation if i < last else output_activation, bias=bias,
               init=init, dtype=dtype, rng=rng, backend=backend)
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes))])
