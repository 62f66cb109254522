"""Handwritten digits (scikit-learn's 8x8 images): a 64-64-10 tanh MLP trained with fit().

Trains with Adam on 75 % of the 1797 images, reports the accuracy on the other 25 %, saves
the weights (.npz) and loads them back into a fresh model, and plots the loss curves when
matplotlib is installed. Needs scikit-learn, which ships the data (nothing is downloaded).

    python examples/digits.py [--epochs 20] [--out digits.png] [--weights digits.npz]
"""
import argparse
import os
import tempfile
import time

import numpy as np

import fastgrad
from fastgrad import nn, optim


def plot_history(history, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        print("matplotlib is not installed: no plot written")
        return
    fig, ax = plt.subplots(figsize=(5, 3.5))
    epochs = np.arange(1, len(history["loss"]) + 1)
    ax.plot(epochs, history["loss"], label="training")
    ax.plot(epochs, history["val_loss"], label="test")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("cross-entropy")
    ax.set_yscale("log")
    ax.set_title("fastgrad: MLP 64-64-10 on digits")
    ax.legend()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    print(f"wrote {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--out", default="digits.png", help="loss-curve plot (PNG)")
    parser.add_argument("--weights", default=None, help="where to save the weights (.npz)")
    args = parser.parse_args()

    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise SystemExit("this example needs scikit-learn (pip install scikit-learn), which "
                         "ships the digits data") from None
    digits = load_digits()
    X, y = digits.data / 16.0, digits.target
    order = np.random.default_rng(0).permutation(len(X))
    train, test = order[:1347], order[1347:]

    model = nn.mlp([64, 64, 10], activation="tanh", seed=0)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    start = time.perf_counter()
    history = fastgrad.fit(model, X[train], y[train], nn.CrossEntropyLoss(), opt,
                           epochs=args.epochs, batch_size=32, seed=0,
                           validation_data=(X[test], y[test]))
    elapsed = time.perf_counter() - start
    print(f"trained {args.epochs} epochs in {elapsed:.2f} s (backend {fastgrad.BACKEND}); "
          f"test accuracy {history['val_accuracy'][-1]:.1%}")

    weights = args.weights or os.path.join(tempfile.mkdtemp(), "digits.npz")
    fastgrad.save_parameters(model, weights)
    restored = fastgrad.load_parameters(nn.mlp([64, 64, 10], activation="tanh"), weights)
    scores = fastgrad.evaluate(restored, X[test], y[test], "cross_entropy")
    print(f"weights saved to {weights} and reloaded: test accuracy {scores['accuracy']:.1%}")
    plot_history(history, args.out)


if __name__ == "__main__":
    main()
