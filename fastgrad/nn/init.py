"""Weight initialisers: seedable, in place on a tensor (PyTorch's names, numpy's generators).

Every function takes ``rng``: None (this module's generator, reseeded by :func:`manual_seed`),
an int seed, or a ``numpy.random.Generator``. Fans follow fastgrad's layout: a weight of shape
(in, out) has fan_in = in and fan_out = out (PyTorch stores the transpose, (out, in)).
"""
import math

import numpy as np

_default_rng = np.random.default_rng()


def manual_seed(seed):
    """Reseed the generator the initialisers use when given no ``rng``."""
    global _default_rng
    _default_rng = np.random.default_rng(seed)


def generator(rng=None):
    """A numpy Generator from None (the module's), an int seed, or a Generator."""
    if rng is None:
        return _default_rng
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def fans(shape):
    """(fan_in, fan_out) of a weight of ``shape``: (in, out) for a matrix, (n, n) for a vector."""
    if len(shape) == 0:
        raise ValueError("init: a 0-d tensor has no fan in or out")
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[2:])
    return shape[0] * receptive, shape[1] * receptive


SQRT2 = math.sqrt(2.0)
GAINS = {None: 1.0, "none": 1.0, "linear": 1.0, "sigmoid": 1.0, "tanh": 5.0 / 3, "relu": SQRT2}


def calculate_gain(activation):
    """The recommended gain for an activation (PyTorch's values): tanh 5/3, relu √2, else 1."""
    try:
        return GAINS[activation]
    except KeyError:
        raise ValueError(f"calculate_gain: unknown activation {activation!r}") from None


def _fill(tensor, values):
    tensor.data[...] = values
    return tensor


def uniform_(tensor, a=0.0, b=1.0, rng=None):
    """Fill with U(a, b)."""
    return _fill(tensor, generator(rng).uniform(a, b, tensor.data.shape))


def normal_(tensor, mean=0.0, std=1.0, rng=None):
    """Fill with N(mean, std²)."""
    return _fill(tensor, generator(rng).normal(mean, std, tensor.data.shape))


def zeros_(tensor):
    tensor.data[...] = 0
    return tensor


def xavier_uniform_(tensor, gain=1.0, rng=None):
    """Glorot: U(-a, a) with a = gain·√(6 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(tensor.data.shape)
    a = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(tensor, -a, a, rng)


def xavier_normal_(tensor, gain=1.0, rng=None):
    """Glorot: N(0, σ²) with σ = gain·√(2 / (fan_in + fan_out))."""
    fan_in, fan_out = fans(tensor.data.shape)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng)


def he_uniform_(tensor, gain=SQRT2, rng=None):
    """He (Kaiming): U(-a, a) with a = gain·√(3 / fan_in) (gain √2 suits ReLU)."""
    fan_in, _ = fans(tensor.data.shape)
    a = gain * math.sqrt(3.0 / fan_in)
    return uniform_(tensor, -a, a, rng)


def he_normal_(tensor, gain=SQRT2, rng=None):
    """He (Kaiming): N(0, σ²) with σ = gain / √fan_in."""
    fan_in, _ = fans(tensor.data.shape)
    return normal_(tensor, 0.0, gain / math.sqrt(fan_in), rng)


kaiming_uniform_ = he_uniform_
kaiming_normal_ = he_normal_


def fan_in_uniform_(tensor, rng=None):
    """U(-a, a) with a = 1/√fan_in: PyTorch's default for nn.Linear."""
    a = 1.0 / math.sqrt(fans(tensor.data.shape)[0])
    return uniform_(tensor, -a, a, rng)


# The weight initialisers Linear(init=...) accepts by name: each takes (tensor, rng).
INITIALISERS = {
    "uniform": fan_in_uniform_,
    "xavier_uniform": lambda t, rng: xavier_uniform_(t, rng=rng),
    "xavier_normal": lambda t, rng: xavier_normal_(t, rng=rng),
    "he_uniform": lambda t, rng: he_uniform_(t, rng=rng),
    "he_normal": lambda t, rng: he_normal_(t, rng=rng),
}
INITIALISERS.update({"glorot_uniform": INITIALISERS["xavier_uniform"],
                     "glorot_normal": INITIALISERS["xavier_normal"],
                     "kaiming_uniform": INITIALISERS["he_uniform"],
                     "kaiming_normal": INITIALISERS["he_normal"]})

__all__ = ["manual_seed", "calculate_gain", "fan_in_uniform_", "uniform_", "normal_", "zeros_",
           "xavier_uniform_", "xavier_normal_", "he_uniform_", "he_normal_", "kaiming_uniform_",
           "kaiming_normal_"]
