"""Data-parallel training over MPI: digits (scikit-learn's 8x8 images), MLP 64-64-10, on N ranks.

    pip install "fastgrad[mpi]" scikit-learn
    mpiexec -n 4 python examples/ddp_train.py [--epochs 20] [--batch-size 64] [--loop]
    python examples/ddp_train.py            # without mpiexec: one rank, plain training

Every rank loads the same data and builds the model (with its own seed, on purpose: fit's
broadcast gives every rank rank 0's weights). Each batch of --batch-size samples is split between
the ranks; their gradients are averaged by one allreduce per step, so that N ranks take the steps
one process would. Rank 0 alone prints and saves the weights. --loop trains with the pieces by
hand (shard_batches, DistributedOptimizer) instead of fit(distributed=True).
"""
import argparse
import os
import tempfile
import time

import numpy as np

import fastgrad
from fastgrad import distributed as dist
from fastgrad import nn, optim


def load_data():
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise SystemExit("this example needs scikit-learn (pip install scikit-learn), which "
                         "ships the digits data") from None
    digits = load_digits()
    X, y = digits.data / 16.0, digits.target
    order = np.random.default_rng(0).permutation(len(X))
    return X[order[:1347]], y[order[:1347]], X[order[1347:]], y[order[1347:]]


def train_by_hand(model, opt, X, y, epochs, batch_size):
    """What fit(distributed=True) does, spelled out: the same steps on every rank."""
    dist.broadcast_parameters(model)
    opt = dist.DistributedOptimizer(opt, check_every=50)
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        total = 0.0
        for index in dist.shard_batches(len(X), batch_size, epoch=epoch, seed=0):
            opt.zero_grad()
            if len(index):                       # a rank may get no sample of the last batch
                loss = loss_fn(model(X[index]), y[index])
                loss.backward()
                total += float(loss.data) * len(index)
            opt.step(batch_size=len(index))      # weighted mean over the ranks, then Adam
        mean_loss = dist.sum_in_rank_order(total) / len(X)
        if dist.rank() == 0:
            print(f"epoch {epoch + 1}: loss {mean_loss:.4f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64, help="samples per step, all ranks")
    parser.add_argument("--weights", default=None, help="where rank 0 saves the weights")
    parser.add_argument("--loop", action="store_true", help="train by hand instead of fit")
    args = parser.parse_args()

    rank, size = dist.init()
    X, y, X_test, y_test = load_data()
    model = nn.mlp([64, 64, 10], activation="tanh", seed=rank)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    start = time.perf_counter()
    if args.loop:
        train_by_hand(model, opt, X, y, args.epochs, args.batch_size)
    else:
        history = fastgrad.fit(model, X, y, nn.CrossEntropyLoss(), opt, epochs=args.epochs,
                               batch_size=args.batch_size, seed=0, distributed=True,
                               validation_data=(X_test, y_test))
        if rank == 0:
            print(f"loss by epoch: {', '.join(f'{v:.3f}' for v in history['loss'])}")
    elapsed = time.perf_counter() - start
    dist.check_identical(model)                  # every rank holds the same weights
    scores = fastgrad.evaluate(model, X_test, y_test, "cross_entropy")
    weights = args.weights or os.path.join(tempfile.gettempdir(), "ddp_digits.npz")
    weights = dist.save_parameters(model, weights)  # written by rank 0 only
    if rank == 0:
        print(f"{size} rank(s), backend {fastgrad.BACKEND}: {args.epochs} epochs in "
              f"{elapsed:.2f} s; test accuracy {scores['accuracy']:.1%}; weights in {weights}")


if __name__ == "__main__":
    main()
