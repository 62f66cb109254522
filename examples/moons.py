"""micrograd's demo on Tensors: a 2-16-16-1 ReLU MLP separates the two moons.

The same data, model, loss (hinge + 1e-4 L2) and learning-rate schedule as micrograd's
demo.ipynb, but each layer is one fused fastgrad node instead of hundreds of scalar ones.
Writes a decision-boundary plot when matplotlib is installed.

    python examples/moons.py [--steps 100] [--out moons.png]
"""
import argparse
import time

import numpy as np

import fastgrad
from fastgrad import nn, optim


def make_moons(n_samples=100, noise=0.1, seed=1337):
    """micrograd's data (sklearn's make_moons after np.random.seed(1337)); labels in {-1, 1}.
    Without scikit-learn, the same two half circles drawn with numpy."""
    np.random.seed(seed)
    try:
        from sklearn.datasets import make_moons as sk_make_moons
        X, y = sk_make_moons(n_samples=n_samples, noise=noise)
    except ImportError:
        n_out = n_samples // 2
        t_out = np.linspace(0, np.pi, n_out)
        t_in = np.linspace(0, np.pi, n_samples - n_out)
        X = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1),
                            np.stack([1 - np.cos(t_in), 0.5 - np.sin(t_in)], 1)])
        y = np.r_[np.zeros(n_out), np.ones(n_samples - n_out)]
        order = np.random.permutation(n_samples)
        X, y = X[order] + np.random.normal(scale=noise, size=X.shape), y[order]
    return X, y * 2.0 - 1.0


def plot_boundary(model, X, y, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plot written")
        return
    h = 0.25
    xx, yy = np.meshgrid(np.arange(X[:, 0].min() - 1, X[:, 0].max() + 1, h),
                         np.arange(X[:, 1].min() - 1, X[:, 1].max() + 1, h))
    scores = fastgrad.predict(model, np.c_[xx.ravel(), yy.ravel()]).reshape(xx.shape)
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.contourf(xx, yy, scores > 0, cmap=plt.cm.Spectral, alpha=0.8)
    ax.scatter(X[:, 0], X[:, 1], c=y, s=40, cmap=plt.cm.Spectral, edgecolors="k")
    ax.set_title("fastgrad: decision boundary on the moons")
    fig.savefig(path, dpi=100, bbox_inches="tight")
    print(f"wrote {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--out", default="moons.png", help="decision-boundary plot (PNG)")
    args = parser.parse_args()

    X, y = make_moons()
    model = nn.mlp([2, 16, 16, 1], activation="relu", seed=1337)

    def demo_loss(scores, target):  # micrograd's: mean hinge loss + 1e-4 * L2 of all weights
        return nn.functional.hinge_loss(scores, target) + \
            1e-4 * sum((p * p).sum() for p in model.parameters())

    opt = optim.SGD(model.parameters(), lr=1.0, schedule=lambda k: 1.0 - 0.9 * k / 100)
    start = time.perf_counter()
    history = fastgrad.fit(model, X, y, demo_loss, opt, epochs=args.steps, batch_size=None)
    elapsed = time.perf_counter() - start
    accuracy = fastgrad.evaluate(model, X, y, "hinge")["accuracy"]
    print(f"{args.steps} steps in {elapsed * 1e3:.0f} ms ({elapsed / args.steps * 1e6:.0f} us per "
          f"step, backend {fastgrad.BACKEND}); loss {history['loss'][-1]:.4f}, "
          f"accuracy {accuracy:.0%}")
    plot_boundary(model, X, y, args.out)


if __name__ == "__main__":
    main()
