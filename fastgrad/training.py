"""fit, predict, evaluate: the training loop of the Tensor face, on numpy arrays.

>>> model = fastgrad.nn.mlp([64, 64, 10], seed=0)
>>> history = fastgrad.fit(model, X, y, "cross_entropy", fastgrad.optim.Adam(
...     model.parameters(), lr=1e-2), epochs=20, batch_size=32, seed=0)
>>> fastgrad.evaluate(model, X_test, y_test, "cross_entropy")
{'loss': 0.08..., 'accuracy': 0.97...}
"""
import sys

import numpy as np

from .checkpoint import StopRequest, load_checkpoint, save_checkpoint
from .engine import no_grad
from .nn.losses import get_loss


def first_parameter(model):
    """The model's first parameter, or None."""
    params = model.parameters() if hasattr(model, "parameters") else []
    return params[0] if params else None


def model_dtype(model):
    """The dtype of the model's first parameter (float64 for a model without any)."""
    param = first_parameter(model)
    return param.data.dtype if param is not None else np.dtype(np.float64)


def as_inputs(X, dtype, where):
    """X as an ndarray of the model's dtype (a Tensor's data is used as is, without its graph)."""
    X = np.asarray(getattr(X, "data", X))
    if X.dtype != dtype:
        if X.dtype.kind not in "biuf":
            raise TypeError(f"{where}: inputs have unsupported dtype {X.dtype}")
        X = X.astype(dtype)
    if X.ndim == 0:
        raise ValueError(f"{where}: inputs must have at least one dimension (a row per sample)")
    return X


def as_targets(y, n, where):
    y = np.asarray(getattr(y, "data", y))
    if y.ndim == 0 or len(y) != n:
        raise ValueError(f"{where}: {n} inputs but {'no' if y.ndim == 0 else len(y)} targets")
    return y


def batches(n, batch_size, order):
    """Slices (or index arrays, when shuffled) of at most batch_size rows covering 0..n-1."""
    if batch_size is None or batch_size >= n:
        return [order if order is not None else slice(0, n)]
    if order is None:
        return [slice(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def make_progress(progress, total, epochs):
    """A tqdm bar, or None: shown when asked (True), or by default when stderr is a terminal."""
    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        if progress is True:
            raise ImportError("fit(progress=True) needs tqdm (pip install tqdm)") from None
        return None
    return tqdm(total=total, unit="batch", desc=f"epoch 1/{epochs}", leave=True,
                dynamic_ncols=True)


def fit(model, X, y, loss, optimizer, epochs=1, batch_size=32, shuffle=True, seed=None,
        progress=None, validation_data=None, capture=None, distributed=False, checkpoint=None,
        checkpoint_every=None, resume=None):
    """Train ``model`` on (X, y) with mini-batches; return the history.

    Parameters
    ----------
    model : callable Module
        Maps a batch of inputs (an ndarray of the model's dtype) to outputs.
    X, y : array_like
        Inputs, one row per sample, and targets (class indices, or float targets).
    loss : callable or str
        ``loss(output, target)`` returning a scalar Tensor (the mean over the batch), e.g.
        ``nn.CrossEntropyLoss()``, or a name: "cross_entropy", "bce_with_logits", "mse",
        "hinge".
    optimizer : fastgrad.optim.Optimizer
        Its ``zero_grad()`` and ``step()`` are called once per batch.
    epochs : int
    batch_size : int or None
        None (or at least len(X)) trains full-batch.
    shuffle : bool
        Draw a new order of the samples every epoch (from ``seed``).
    seed : None, int or numpy.random.Generator
    progress : None, bool
        A tqdm progress bar showing the loss: None shows it only when stderr is a terminal,
        False never, True always.
    validation_data : (X_val, y_val), optional
        Evaluated after every epoch (loss, and accuracy for classification losses).
    capture : None or bool
        Run the batches through ``fastgrad.capture`` (recorded once, replayed in compiled
        code; bit for bit the eager result). None (the default): capture where the optimizer
        allows it (SGD, Adam, AdamW, or a DistributedOptimizer around one), else train eagerly
        with a one-line notice (a RuntimeWarning); True: the same, without the optimizer check;
        False: eagerly, silently. A step capture cannot take (an op without a tape kernel)
        runs eagerly, with a one-line warning. The progress bar says "(captured)" while steps
        replay; with capture=True, ``history["captured"]`` says whether the last batch was
        replayed.
    distributed : bool
        Data-parallel training over MPI (run under ``mpiexec -n N``; needs mpi4py, see
        ``fastgrad.distributed``): every rank holds all of (X, y) and takes its part of each
        batch (``batch_size`` counts the samples of a step over all ranks), starting from rank
        0's weights and optimizer state; the gradients are averaged over ranks. N ranks take
        the steps one process takes, the progress bar shows on rank 0 only, and every rank
        returns the same history. With ``capture`` the tape holds the allreduce.
    checkpoint : path, optional
        Save the model, the optimizer's state and where training stands to this .npz file
        (written to a temporary file and renamed over it: a crash mid-write keeps the
        previous checkpoint), after every epoch, or every ``checkpoint_every`` steps.
    checkpoint_every : int, optional
        Steps (batches) between checkpoints; by default one per epoch.
    resume : path, optional
        A checkpoint written by an earlier call (same model, optimizer, data, batch_size,
        shuffle and seed): training continues from the step it was saved after, with the same
        results, bit for bit, as if it had never stopped. ``epochs`` counts from the start.

    Returns
    -------
    dict
        ``{"loss": [mean training loss of each epoch], ...}``, plus "val_loss" (and
        "val_accuracy") with validation data.

    Ctrl-C (KeyboardInterrupt) during fit stops it after the step in progress, with every
    parameter updated by whole steps only (and a checkpoint written, if asked): the history
    of the epochs completed so far is returned, with ``history["stopped_at"] = (epoch,
    step)``, the first step not taken. A second Ctrl-C interrupts at once.
    """
    loss_fn = get_loss(loss)
    dtype = model_dtype(model)
    X = as_inputs(X, dtype, "fit")
    n = len(X)
    y = as_targets(y, n, "fit")
    if n == 0:
        raise ValueError("fit: no samples")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)):
        raise TypeError(f"fit: epochs must be a non-negative integer, got {epochs!r} "
                        f"({type(epochs).__name__})")
    if epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative integer, got {epochs!r}")
    if batch_size is not None and (isinstance(batch_size, bool)
                                   or not isinstance(batch_size, (int, np.integer))):
        raise TypeError(f"fit: batch_size must be a positive integer or None, got "
                        f"{batch_size!r} ({type(batch_size).__name__})")
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"fit: batch_size must be a positive integer or None, "
                         f"got {batch_size!r}")
    hook = None
    if distributed:
        from .distributed import FitHook
        hook = FitHook(model, optimizer, seed, n)
        optimizer, seed = hook.optimizer, hook.seed
        progress = progress if hook.root else False
    if checkpoint_every is not None and (isinstance(checkpoint_every, bool) or not isinstance(
            checkpoint_every, (int, np.integer)) or checkpoint_every < 1):
        raise ValueError(f"fit: checkpoint_every must be a positive integer (steps), got "
                         f"{checkpoint_every!r}")
    if checkpoint_every is not None and checkpoint is None:
        raise ValueError("fit: checkpoint_every needs checkpoint= (the file to write)")
    rng = np.random.default_rng(seed)
    full_batch = batch_size is None or batch_size >= n
    n_batches = 1 if full_batch else -(-n // batch_size)
    history = {"loss": []}
    if validation_data is not None:
        history["val_loss"] = []
    start_epoch, start_step, resumed_total, resumed_order = 0, 0, 0.0, None
    if resume is not None:
        position = load_checkpoint(resume, model, optimizer, n, batch_size)
        start_epoch, start_step = position["epoch"], position["step"]
        resumed_total, resumed_order = position["total"], position["order"]
        history = position["history"]
        history.pop("stopped_at", None)
        rng.bit_generator.state = position["rng"]

    def save(epoch, step, total, order):
        if hook is not None and not hook.root:
            return  # every rank holds the same state: rank 0 writes it
        save_checkpoint(checkpoint, model, optimizer, {
            "epoch": epoch, "step": step, "total": total, "history": history,
            "rng": rng.bit_generator.state, "n": n, "batch_size": batch_size, "order": order})

    asked = capture  # history["captured"] is reported when capture was asked for by name
    if capture is None:
        capture = capturable(model, loss_fn, optimizer)
    bar = make_progress(progress, epochs * n_batches, epochs)
    captured = captured_step(model, loss_fn, optimizer, hook is not None) if capture else None
    steps_taken = 0
    try:
        stop = StopRequest().__enter__()
        for epoch in range(start_epoch, epochs):
            if epoch == start_epoch and (start_step or resumed_order is not None):
                order, total, first = resumed_order, resumed_total, start_step
            else:
                order = rng.permutation(n) if shuffle and not full_batch else None
                total, first = 0.0, 0
            for step, index in enumerate(batches(n, batch_size, order)):
                if step < first:
                    continue
                if stop.requested:
                    history["stopped_at"] = (epoch, step)
                    if checkpoint is not None:
                        save(epoch, step, total, order)
                    return history
                if hook is not None:
                    index = hook.local_part(index)
                xb, yb = X[index], y[index]
                if captured is not None and len(xb):
                    batch_loss = captured(xb, yb)
                else:
                    optimizer.zero_grad()
                    batch_loss = 0.0
                    if len(xb):  # a rank may get no sample of a small batch
                        value = loss_fn(model(xb), yb)
                        value.backward()
                        batch_loss = float(value.data)
                    if hook is not None:
                        optimizer.step(batch_size=len(xb))
                    else:
                        optimizer.step()
                total += batch_loss * len(xb)
                if bar is not None:
                    if captured is not None and captured.replays == 1:
                        bar.set_description(f"epoch {epoch + 1}/{epochs} (captured)",
                                            refresh=False)
                    bar.set_postfix(loss=f"{batch_loss:.4g}", refresh=False)
                    bar.update()
                steps_taken += 1
                if checkpoint_every is not None and steps_taken % checkpoint_every == 0:
                    save(epoch, step + 1, total, order)
            if hook is not None:
                total = hook.end_epoch(total)
            history["loss"].append(total / n)
            if validation_data is not None:
                scores = evaluate(model, *validation_data, loss=loss_fn) if hook is None else \
                    hook.from_root(lambda: evaluate(model, *validation_data, loss=loss_fn))
                for key, value in scores.items():
                    history.setdefault("val_" + key, []).append(value)
            if bar is not None:
                replaying = captured is not None and captured.replays and not captured.eager_only
                bar.set_description(f"epoch {min(epoch + 2, epochs)}/{epochs}"
                                    + (" (captured)" if replaying else ""), refresh=False)
                bar.set_postfix(loss=f"{total / n:.4g}", refresh=True)
            if checkpoint is not None and checkpoint_every is None:
                save(epoch + 1, 0, 0.0, None)
        if checkpoint_every is not None and steps_taken % checkpoint_every:
            save(epochs, 0, 0.0, None)  # the end of training
        if stop.requested:
            history["stopped_at"] = (epochs, 0)
    finally:
        stop.__exit__(None, None, None)
        if bar is not None:
            bar.close()
    if captured is not None and asked:
        history["captured"] = captured.tape is not None and not captured.eager_only
    return history


def capturable(model, loss_fn, optimizer):
    """fit's default: capture when the model is built from fastgrad.nn's layers, the loss is
    one of fastgrad.nn's losses and a tape holds the optimizer's update (a replay runs no
    Python: a user's own forward or loss function, which may count or log, would be called
    only while recording). Otherwise False, with a one-line notice."""
    import warnings

    from .capture import updates_taped
    from .nn import layers, losses
    inner = getattr(optimizer, "optimizer", optimizer)
    reason = None
    if not updates_taped(inner):
        reason = f"a captured step takes SGD, Adam or AdamW, not {type(inner).__name__}"
    elif not isinstance(loss_fn, losses.Loss) or type(loss_fn).__module__ != losses.__name__:
        reason = (f"the loss is {type(loss_fn).__name__}, not one of fastgrad.nn's losses "
                  f"(a replay would not call it)")
    else:
        bad = own_module(model, layers)
        if bad is not None:
            reason = (f"the model holds {bad}, not one of fastgrad.nn's layers (a replay "
                      f"would not call its Python)")
    if reason is None:
        return True
    warnings.warn(f"fit: training eagerly: {reason}; capture=True captures it anyway, "
                  f"capture=False silences this", RuntimeWarning, stacklevel=3)
    return False


def own_module(model, layers):
    """The name of the first module in ``model`` that is not one of fastgrad.nn's layers (or
    None)."""
    stack = [model]
    while stack:
        m = stack.pop()
        if type(m).__module__ != layers.__name__:
            return type(m).__name__
        stack.extend(v for k, v in vars(m).items() if not k.startswith("_")
                     and hasattr(v, "forward"))
        stack.extend(getattr(m, "_layers", ()))
    return None


def captured_step(model, loss_fn, optimizer, distributed=False):
    """fit's batch step under fastgrad.capture (a tape for the full batches and one for the
    last, partial batch of an epoch). Distributed: the tape holds the allreduce too (the local
    batch size is fixed by the batch's shape); a rank without a sample steps eagerly."""
    from .capture import capture

    def step(xb, yb):
        optimizer.zero_grad()
        value = loss_fn(model(xb), yb)
        value.backward()
        if distributed:
            optimizer.step(batch_size=len(xb))
        else:
            optimizer.step()
        return value
    return capture(step, retrace=2, fallback=True)


def predict(model, X, batch_size=None):
    """The model's outputs for X, as a numpy array, computed without recording a graph."""
    X = as_inputs(X, model_dtype(model), "predict")
    with no_grad():
        outputs = [np.asarray(model(X[index]).data)
                   for index in batches(len(X), batch_size, None)]
    return outputs[0] if len(outputs) == 1 else np.concatenate(outputs)


def accuracy(outputs, y):
    """The fraction of samples classified right: argmax of rows against class indices (or
    one-hot rows); for one output per sample, its sign against targets in {-1, 1} or {0, 1}."""
    y = np.asarray(y)
    if outputs.ndim == 2 and outputs.shape[1] > 1:
        predicted = np.argmax(outputs, axis=1)
        labels = np.argmax(y, axis=1) if y.ndim == 2 else y
        return float(np.mean(predicted == labels))
    scores = outputs.reshape(-1)
    return float(np.mean((scores > 0) == (y.reshape(-1) > (0 if y.min() < 0 else 0.5))))


def evaluate(model, X, y, loss=None, batch_size=None, metrics=None):
    """Loss and accuracy of the model on (X, y).

    ``metrics`` lists what to report among "loss" (needs ``loss``) and "accuracy"; by default
    the loss when one is given, and the accuracy unless the loss is a regression loss (MSE).
    Returns a dict such as ``{"loss": 0.12, "accuracy": 0.97}``.
    """
    loss_fn = get_loss(loss) if loss is not None else None
    if metrics is None:
        metrics = (["loss"] if loss_fn is not None else []) + \
            (["accuracy"] if getattr(loss_fn, "classification", True) else [])
    unknown = set(metrics) - {"loss", "accuracy"}
    if unknown:
        raise ValueError(f"evaluate: unknown metrics {sorted(unknown)}; expected 'loss' or "
                         f"'accuracy'")
    if "loss" in metrics and loss_fn is None:
        raise ValueError("evaluate: the 'loss' metric needs loss=")
    outputs = predict(model, X, batch_size)
    y = as_targets(y, len(outputs), "evaluate")
    scores = {}
    if "loss" in metrics:
        param = first_parameter(model)  # the loss runs on the model's backend
        with no_grad():
            out = type(param)(outputs) if param is not None else outputs
            scores["loss"] = float(loss_fn(out, y).data)
    if "accuracy" in metrics:
        scores["accuracy"] = accuracy(outputs, y)
    return scores


__all__ = ["evaluate", "fit", "predict"]
