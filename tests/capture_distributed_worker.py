"""Run by tests/test_capture_distributed.py under ``mpiexec -n K python
capture_distributed_worker.py``: captured distributed training against eager distributed
training (bit for bit) and against one process on all the data (to 1e-12), on every rank.

Every rank holds all the data; rank 0 prints one JSON line ``RESULT {...}`` that the test reads.
"""
import json
import sys

import numpy as np

import fastgrad
from fastgrad import distributed as dist
from fastgrad import nn, optim
from fastgrad.capture import Captured, capture

SIZES = [5, 8, 7, 3]


def data(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, SIZES[0])), rng.integers(0, SIZES[-1], n)


def make_optimizer(kind, params):
    if kind == "sgd":
        return optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-3)
    if kind == "adamw":
        return optim.AdamW(params, lr=0.01)
    return optim.Adam(params, lr=0.01)


def gathered_identical(model):
    mine = [p.data.tobytes() for p in model.parameters()]
    return all(theirs == mine for theirs in dist.communicator().allgather(mine))


def bitwise(a, b):
    return all(np.array_equal(p.data, q.data) and p.data.dtype == q.data.dtype
               for p, q in zip(a.parameters(), b.parameters()))


def max_diff(a, b):
    return max(float(np.max(np.abs(p.data - q.data)))
               for p, q in zip(a.parameters(), b.parameters()))


class ReplayCounter:
    """Counts replays of every Captured (fit's step is made inside fit)."""

    def __init__(self):
        self.count = 0
        self.original = Captured._replay

    def __enter__(self):
        counter = self

        def counting(captured, tape, args):
            loss = counter.original(captured, tape, args)
            counter.count += 1  # a replay its guards refused (another tape's shape) raised
            return loss
        Captured._replay = counting
        return self

    def __exit__(self, *exc):
        Captured._replay = self.original


def fit_three_ways(kind, results, dtype=np.float64):
    """fit(distributed=True, capture=True) vs fit(distributed=True) vs one process."""
    X, y = data(23)
    X = X.astype(dtype)
    rank = dist.rank()
    kw = {"epochs": 3, "batch_size": 7, "seed": 5, "progress": False}
    eager = nn.mlp(SIZES, seed=100 + rank, dtype=dtype)        # different weights per rank
    eager_history = fastgrad.fit(eager, X, y, "cross_entropy",
                                 make_optimizer(kind, eager.parameters()), distributed=True,
                                 capture=False, **kw)
    captured = nn.mlp(SIZES, seed=100 + rank, dtype=dtype)
    opt = make_optimizer(kind, captured.parameters())
    with ReplayCounter() as replays:
        history = fastgrad.fit(captured, X, y, "cross_entropy", opt, distributed=True,
                               capture=True, **kw)
    name = f"{kind}_{np.dtype(dtype).name}"
    results[f"{name}_replays"] = dist.communicator().allgather(replays.count)
    results[f"{name}_captured_last"] = history.pop("captured")
    results[f"{name}_bitwise_eager"] = all(dist.communicator().allgather(
        bitwise(captured, eager) and history == eager_history))
    results[f"{name}_identical"] = gathered_identical(captured)
    results[f"{name}_steps"] = opt.steps
    if rank == 0:
        reference = nn.mlp(SIZES, seed=100, dtype=dtype)     # rank 0's weights, broadcast by fit
        ref_history = fastgrad.fit(reference, X, y, "cross_entropy",
                                   make_optimizer(kind, reference.parameters()), capture=False,
                                   **kw)
        results[f"{name}_max_diff"] = max_diff(captured, reference)
        results[f"{name}_history_diff"] = max(
            abs(a - b) for a, b in zip(history["loss"], ref_history["loss"]))


def loop_step(model, opt):
    loss_fn = nn.CrossEntropyLoss()

    def step(xb, yb):
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step(batch_size=len(xb))
        return loss
    return step


def hand_loop(results, n=12, batch_size=6, steps=8):
    """fastgrad.capture around a hand-written DistributedOptimizer step (deterministic
    reduction, checked every step) equals the same loop eager, bit for bit; the gradients a
    replay leaves are views into the flat buffer."""
    X, y = data(n, seed=1)
    models, losses, opts = [], [], []
    for captured in (False, True):
        model = nn.mlp(SIZES, seed=7)
        opt = dist.DistributedOptimizer(optim.Adam(model.parameters(), lr=0.02),
                                        deterministic=True, check_every=1)
        step = loop_step(model, opt)
        if captured:
            step = capture(step)
        seen = []
        for k in range(steps):
            index = dist.shard_batches(n, batch_size, epoch=k, seed=3)[0]
            seen.append(step(X[index], y[index]) if captured else float(
                step(X[index], y[index]).data))
        models.append(model)
        losses.append(seen)
        opts.append(opt)
    results["loop_bitwise"] = bitwise(*models) and losses[0] == losses[1]
    results["loop_replays"] = step.replays
    results["loop_steps"] = [o.steps for o in opts]
    flat = opts[1].flat
    results["loop_grads_are_views"] = all(
        p.grad is not None and np.shares_memory(p.grad, flat.buffers[p.data.dtype])
        for p in models[1].parameters())
    results["loop_kinds"] = step.tape.compiled.op_kinds().count("call")


def python_calls(depth, replays=4):
    """Python-level calls of ``replays`` replayed distributed steps of a model ``depth`` deep."""
    sizes = [4] + [8] * depth + [3]
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((12, 4)), rng.integers(0, 3, 12)
    model = nn.mlp(sizes, seed=0)
    dist.broadcast_parameters(model)
    opt = dist.DistributedOptimizer(optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
    step = capture(loop_step(model, opt))
    index = dist.split(12)
    for _ in range(2):
        step(X[index], y[index])
    count = [0]

    def profile(frame, event, arg):
        if event in ("call", "c_call"):
            count[0] += 1
    sys.setprofile(profile)
    try:
        for _ in range(replays):
            step(X[index], y[index])
    finally:
        sys.setprofile(None)
    return count[0], step.replays


def main():
    dist.init()
    results = {"size": dist.size(), "backend": fastgrad.BACKEND}
    for kind in ("sgd", "adam", "adamw"):
        fit_three_ways(kind, results)
    fit_three_ways("adam", results, np.float32)
    hand_loop(results)
    results["calls_shallow"], results["calls_replays"] = python_calls(2)
    results["calls_deep"], _ = python_calls(8)
    if dist.rank() == 0:
        print("RESULT " + json.dumps(results), flush=True)


if __name__ == "__main__":
    main()
