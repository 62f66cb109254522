"""Data and initial weights shared by every system, so all systems run the same workload."""

import random

import numpy as np


def moons(n_samples=100, noise=0.1, seed=1337):
    """micrograd's demo data: (X (n, 2) float64, y (n,) float64 in {-1, +1}).

    As in micrograd's demo.ipynb: `np.random.seed(1337)` then sklearn's `make_moons`, which
    draws from numpy's global generator. Without sklearn, `_make_moons` below repeats sklearn's
    algorithm with the same draws.
    """
    np.random.seed(seed)
    try:
        from sklearn.datasets import make_moons
    except ImportError:
        make_moons = _make_moons
    X, y = make_moons(n_samples=n_samples, noise=noise)
    return X, y * 2.0 - 1.0


def _make_moons(n_samples, noise):
    """sklearn.datasets.make_moons(shuffle=True, random_state=None), written out."""
    n_out = n_samples // 2
    n_in = n_samples - n_out
    angle_out = np.linspace(0, np.pi, n_out)
    angle_in = np.linspace(0, np.pi, n_in)
    X = np.vstack([np.append(np.cos(angle_out), 1 - np.cos(angle_in)),
                   np.append(np.sin(angle_out), 1 - np.sin(angle_in) - 0.5)]).T
    y = np.hstack([np.zeros(n_out, dtype=np.intp), np.ones(n_in, dtype=np.intp)])
    order = np.arange(n_samples)
    np.random.shuffle(order)
    X, y = X[order], y[order]
    X += np.random.normal(scale=noise, size=X.shape)
    return X, y


def micrograd_mlp_init(nin, nouts, seed=1337):
    """The weights micrograd's `MLP(nin, nouts)` gets after `random.seed(seed)`, as matrices.

    Returns [(W (fan_in, fan_out), b (fan_out,)), ...]: each neuron draws its fan_in weights
    with random.uniform(-1, 1), neuron after neuron, and starts with bias 0, as micrograd does.
    """
    random.seed(seed)
    sizes = [nin] + list(nouts)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        neurons = [[random.uniform(-1, 1) for _ in range(fan_in)] for _ in range(fan_out)]
        layers.append((np.array(neurons).T.copy(), np.zeros(fan_out)))
    return layers


def digits():
    """sklearn's bundled digits: X (1797, 64) float64 in [0, 1], labels (1797,) int64.

    Raises ImportError without scikit-learn (the data ship inside it; nothing is downloaded).
    """
    from sklearn.datasets import load_digits
    bunch = load_digits()
    return bunch.data / 16.0, bunch.target.astype(np.int64)


def mnist_shaped(batch, dtype=np.float32, seed=0):
    """Random stand-in for an MNIST batch: X (batch, 784) in [0, 1), labels (batch,) in 0..9.

    Timing does not depend on the pixel values, so no data set is downloaded.
    """
    rng = np.random.default_rng(seed)
    X = rng.random((batch, 784), dtype=np.float64).astype(dtype)
    labels = rng.integers(0, 10, size=batch).astype(np.int64)
    return X, labels


def one_hot(labels, n_classes, dtype=np.float64):
    encoded = np.zeros((labels.shape[0], n_classes), dtype=dtype)
    encoded[np.arange(labels.shape[0]), labels] = 1
    return encoded


def mlp_init(sizes, dtype=np.float64, seed=0):
    """Glorot-uniform weights and zero biases: [(W (fan_in, fan_out), b (fan_out,)), ...]."""
    rng = np.random.default_rng(seed)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        W = rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(dtype)
        layers.append((W, np.zeros(fan_out, dtype=dtype)))
    return layers
