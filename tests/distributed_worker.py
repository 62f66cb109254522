"""Run by tests/test_distributed.py under ``mpiexec -n K python distributed_worker.py MODE``.

Every rank holds all the data; rank 0 also computes the one-process answer and prints one JSON
line ``RESULT {...}`` that the test reads. Modes:

- ``train``: fit(distributed=True) with SGD (momentum) and Adam vs plain fit on one process;
  a hand-written loop with DistributedOptimizer (deterministic, checked every step) on uneven
  shards vs one process on the union of the shards; 10 samples on K ranks, full batch;
  the HIPS face's allreduce_gradients vs fastgrad.grad on the union; broadcast_parameters of
  models built from different seeds on each rank.
- ``errors``: mismatched shapes, a dtype mix, diverged parameters (each caught on every rank).
- ``raise``: rank 1 raises in the middle of training while rank 0 waits in the allreduce.
"""
import json
import sys

import numpy as np

import fastgrad
from fastgrad import distributed as dist
from fastgrad import nn, optim

SIZES = [5, 8, 7, 3]


def data(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, SIZES[0])), rng.integers(0, SIZES[-1], n)


def gathered_identical(model):
    """True when every rank's parameters are bitwise rank 0's."""
    mine = [p.data.tobytes() for p in model.parameters()]
    return all(theirs == mine for theirs in dist.communicator().allgather(mine))


def max_diff(model_a, model_b):
    return max(float(np.max(np.abs(a.data - b.data)))
               for a, b in zip(model_a.parameters(), model_b.parameters()))


def make_optimizer(kind, params):
    if kind == "sgd":
        return optim.SGD(params, lr=0.1, momentum=0.9)
    return optim.Adam(params, lr=0.01)


def fit_vs_one_process(kind, results):
    X, y = data(23)
    rank = dist.rank()
    model = nn.mlp(SIZES, seed=100 + rank)          # different weights on every rank
    opt = make_optimizer(kind, model.parameters())
    history = fastgrad.fit(model, X, y, "cross_entropy", opt, epochs=3, batch_size=7, seed=5,
                           progress=False, validation_data=(X[:6], y[:6]), distributed=True)
    histories = dist.communicator().allgather(history)
    results[f"fit_{kind}_identical"] = gathered_identical(model)
    results[f"fit_{kind}_same_history"] = all(h == histories[0] for h in histories)
    if rank == 0:
        reference = nn.mlp(SIZES, seed=100)         # rank 0's weights, which fit broadcast
        ref_opt = make_optimizer(kind, reference.parameters())
        ref_history = fastgrad.fit(reference, X, y, "cross_entropy", ref_opt, epochs=3,
                                   batch_size=7, seed=5, progress=False,
                                   validation_data=(X[:6], y[:6]))
        results[f"fit_{kind}_max_diff"] = max_diff(model, reference)
        results[f"fit_{kind}_bitwise"] = all(
            np.array_equal(a.data, b.data)
            for a, b in zip(model.parameters(), reference.parameters()))
        results[f"fit_{kind}_history_bitwise"] = history == ref_history
        results[f"fit_{kind}_history_diff"] = max(
            abs(a - b) for key in history for a, b in zip(history[key], ref_history[key]))
        results[f"fit_{kind}_steps"] = ref_opt.steps
    results[f"fit_{kind}_wrapped_steps"] = opt.steps   # the wrapped optimizer stepped too


def loop_vs_union(kind, results, n=10, batch_size=4, epochs=2):
    """The public pieces by hand: shard_batches, DistributedOptimizer(step(batch_size=...))."""
    X, y = data(n, seed=1)
    model = nn.mlp(SIZES, seed=7)
    dist.broadcast_parameters(model)
    opt = dist.DistributedOptimizer(make_optimizer(kind, model.parameters()),
                                    deterministic=True, check_every=1)
    loss_fn = nn.CrossEntropyLoss()
    parts = []
    for epoch in range(epochs):
        for index in dist.shard_batches(n, batch_size, epoch=epoch, seed=3):
            parts.append(len(index))
            opt.zero_grad()
            if len(index):
                loss_fn(model(X[index]), y[index]).backward()
            opt.step(batch_size=len(index))
            grads_are_views = all(
                p.grad is not None and np.shares_memory(p.grad, opt.flat.buffers[p.data.dtype])
                for p in model.parameters())
    results[f"loop_{kind}_identical"] = gathered_identical(model)
    results[f"loop_{kind}_parts"] = dist.communicator().allgather(parts)
    results[f"loop_{kind}_grads_are_views"] = grads_are_views
    if dist.rank() == 0:
        reference = nn.mlp(SIZES, seed=7)
        ref_opt = make_optimizer(kind, reference.parameters())
        for epoch in range(epochs):
            order = dist.epoch_order(n, epoch, seed=3)
            for i in range(0, n, batch_size):
                index = order[i:i + batch_size]     # the union of the ranks' parts
                ref_opt.zero_grad()
                loss_fn(reference(X[index]), y[index]).backward()
                ref_opt.step()
        results[f"loop_{kind}_max_diff"] = max_diff(model, reference)


def full_batch_uneven(results):
    """10 samples on K ranks, one full batch per step."""
    X, y = data(10, seed=2)
    model = nn.mlp(SIZES, seed=3)
    opt = optim.SGD(model.parameters(), lr=0.2)
    fastgrad.fit(model, X, y, "cross_entropy", opt, epochs=4, batch_size=None, progress=False,
                 distributed=True)
    results["uneven_identical"] = gathered_identical(model)
    results["uneven_part"] = dist.communicator().allgather(len(dist.split(10)))
    if dist.rank() == 0:
        reference = nn.mlp(SIZES, seed=3)
        fastgrad.fit(reference, X, y, "cross_entropy", optim.SGD(reference.parameters(), lr=0.2),
                     epochs=4, batch_size=None, progress=False)
        results["uneven_max_diff"] = max_diff(model, reference)


def hips_pytree(results):
    """fastgrad.grad of a loss over a dict/list pytree of weights, averaged over the ranks'
    uneven shards, equals the gradient on all the data."""
    import fastgrad.numpy as fnp

    X, y = data(11, seed=4)
    rng = np.random.default_rng(9)
    weights = {"W": [rng.standard_normal((5, 3)), rng.standard_normal(3)], "scale": 0.7}

    def loss(w, X, y):
        logits = fnp.dot(X, w["W"][0]) * w["scale"] + w["W"][1]
        logits = logits - fnp.max(logits, axis=1, keepdims=True)
        log_p = logits - fnp.log(fnp.sum(fnp.exp(logits), axis=1, keepdims=True))
        return -fnp.mean(log_p[np.arange(len(y)), y])

    index = dist.split(len(X))
    local = fastgrad.grad(loss)(weights, X[index], y[index])
    mean = dist.allreduce_gradients(local, batch_size=len(index))
    whole = fastgrad.grad(loss)(weights, X, y)
    results["hips_same_structure"] = (isinstance(mean, dict) and isinstance(mean["W"], list)
                                      and isinstance(mean["scale"], float))
    results["hips_max_diff"] = max(float(np.max(np.abs(mean["W"][0] - whole["W"][0]))),
                                   float(np.max(np.abs(mean["W"][1] - whole["W"][1]))),
                                   abs(mean["scale"] - whole["scale"]))


def two_dtypes(results):
    """Parameters of two dtypes: one flat buffer (and one Allreduce) per dtype."""
    rng = np.random.default_rng(12)
    X = rng.standard_normal((9, 4))
    start = [rng.standard_normal(4).astype(np.float32), rng.standard_normal(4)]

    def train(params, parts):
        opt = optim.SGD(params, lr=0.05)
        if parts:
            opt = dist.DistributedOptimizer(opt)
        for _ in range(3):
            index = dist.split(len(X)) if parts else np.arange(len(X))
            opt.zero_grad()
            for p in params:
                Xp = fastgrad.Tensor(X[index].astype(p.data.dtype))
                ((Xp @ p) ** 2).mean().backward()
            if parts:
                opt.step(batch_size=len(index))
            else:
                opt.step()
        return opt

    params = [fastgrad.Tensor(a.copy(), requires_grad=True) for a in start]
    opt = train(params, True)
    reference = [fastgrad.Tensor(a.copy(), requires_grad=True) for a in start]
    train(reference, False)
    results["two_dtypes_buffers"] = sorted(str(d) for d in opt.flat.buffers) \
        if dist.size() > 1 else ["float32", "float64"]
    results["two_dtypes_views"] = dist.size() == 1 or all(
        np.shares_memory(p.grad, opt.flat.buffers[p.data.dtype]) for p in params)
    results["two_dtypes_diff"] = [float(np.max(np.abs(p.data - r.data)))
                                  for p, r in zip(params, reference)]
    results["two_dtypes_dtypes"] = [str(p.data.dtype) for p in params]


def broadcast_from_different_seeds(results):
    model = nn.mlp(SIZES, seed=1000 + dist.rank())
    results["differ_before_broadcast"] = not gathered_identical(model) or dist.size() == 1
    dist.broadcast_parameters(model)
    results["identical_after_broadcast"] = gathered_identical(model)
    if dist.rank() == 0:
        results["broadcast_is_rank0s"] = max_diff(model, nn.mlp(SIZES, seed=1000)) == 0.0


def optimizer_state_and_saving(results, tmp):
    """broadcast_optimizer_state gives every rank rank 0's moments and counts; save_parameters
    writes from rank 0 only; fit's progress bar is made on rank 0 only."""
    from fastgrad import serialization, training

    X, y = data(12, seed=6)
    rank = dist.rank()
    model = nn.mlp(SIZES, seed=11)
    opt = optim.Adam(model.parameters(), lr=0.01)
    for _ in range(rank == 0 and 3):                # only rank 0 has trained: its moments
        opt.zero_grad()
        nn.CrossEntropyLoss()(model(X), y).backward()
        opt.step()
    dist.broadcast_optimizer_state(opt)
    state = {k: v.tobytes() for k, v in sorted(opt.state_dict().items())}
    results["opt_state_identical"] = all(
        s == state for s in dist.communicator().allgather(state)) and opt.steps == 3

    calls = []
    real_save = serialization.save_parameters
    serialization.save_parameters = lambda *a: calls.append(a) or real_save(*a)
    bars = []
    real_progress = training.make_progress
    training.make_progress = lambda progress, *a: bars.append(progress) or None
    try:
        name = dist.save_parameters(model, f"{tmp}/weights")
        fastgrad.fit(model, X, y, "cross_entropy", optim.SGD(model.parameters(), lr=0.1),
                     epochs=1, progress=True, distributed=True)
    finally:
        serialization.save_parameters = real_save
        training.make_progress = real_progress
    results["saves_by_rank"] = dist.communicator().allgather(len(calls))
    results["saved_names"] = dist.communicator().allgather(name)
    results["progress_by_rank"] = dist.communicator().allgather(bars)


def mode_train(tmp):
    results = {"size": dist.size(), "backend": fastgrad.BACKEND}
    broadcast_from_different_seeds(results)
    for kind in ("sgd", "adam"):
        fit_vs_one_process(kind, results)
        loop_vs_union(kind, results)
    full_batch_uneven(results)
    hips_pytree(results)
    two_dtypes(results)
    optimizer_state_and_saving(results, tmp)
    return results


def error_of(call):
    try:
        call()
    except (ValueError, RuntimeError) as e:
        return f"{type(e).__name__}: {e}"
    return None


def mode_errors():
    rank = dist.rank()
    results = {}
    widths = [5, 8 if rank == 0 else 9, 3]
    results["shape"] = error_of(lambda: dist.broadcast_parameters(nn.mlp(widths, seed=0)))
    dtype = np.float64 if rank == 0 else np.float32
    mixed = nn.mlp([5, 8, 3], seed=0, dtype=dtype)
    results["dtype"] = error_of(lambda: dist.broadcast_parameters(mixed))
    results["dtype_opt"] = error_of(
        lambda: dist.DistributedOptimizer(optim.SGD(mixed.parameters(), lr=0.1)))
    X, y = data(10 + rank)
    model = nn.mlp([5, 8, 3], seed=0)
    results["local_data"] = error_of(lambda: fastgrad.fit(
        model, X, y, "cross_entropy", optim.SGD(model.parameters(), lr=0.1), distributed=True))
    dist.broadcast_parameters(model)
    results["same_is_fine"] = error_of(lambda: dist.check_identical(model))
    if rank == dist.size() - 1:
        model.parameters()[1].data[0] += 1e-9      # a rank drifts
    results["diverged"] = error_of(lambda: dist.check_identical(model))
    everyone = dist.communicator().allgather(results)
    results["same_on_every_rank"] = all(r == everyone[0] for r in everyone)
    return results


def mode_raise(when="early"):
    """Rank 1 raises before training (rank 0 waits in fit's first collective) or in its 5th
    step's loss (rank 0 waits in that step's allreduce)."""
    X, y = data(40)
    model = nn.mlp(SIZES, seed=0)
    opt = optim.SGD(model.parameters(), lr=0.1)
    if dist.rank() == 1 and when == "early":
        raise ValueError("rank one failed on purpose")
    calls = []
    cross_entropy = nn.CrossEntropyLoss()

    def loss(out, target):
        calls.append(1)
        if dist.rank() == 1 and len(calls) == 5:
            raise ValueError("rank one failed on purpose in step 5")
        return cross_entropy(out, target)

    fastgrad.fit(model, X, y, loss, opt, epochs=1000, batch_size=4, progress=False,
                 distributed=True)
    return {"finished": True}


def main():
    dist.init()
    mode = {"train": mode_train, "errors": mode_errors, "raise": mode_raise}[sys.argv[1]]
    results = mode(*sys.argv[2:])
    if dist.rank() == 0:
        print("RESULT " + json.dumps(results), flush=True)


if __name__ == "__main__":
    main()
