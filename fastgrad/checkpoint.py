"""fit()'s checkpoints: the model, the optimizer and where training stood, in one .npz file
written atomically (see serialization.write_atomically), so that ``fit(..., resume=path)``
continues bit for bit; and the Ctrl-C guard that lets fit() stop between two steps.

A checkpoint holds "model.<parameter name>" arrays, "optimizer.<key>" (the optimizer's
state_dict), "fit.order" (the current epoch's sample order, when shuffled) and "fit.meta", a
JSON string: the epoch and step to continue from, the loss summed so far in that epoch, the
history, the random generator's state, and the sample count and batch size it was made for.
"""
import json
import os
import signal
import threading

import numpy as np

from .serialization import assign_parameters, load_state, write_atomically


def save_checkpoint(path, model, optimizer, position):
    """Write ``position`` (a dict: epoch, step, total, history, rng, n, batch_size, order)
    with the model's parameters and the optimizer's state to ``path``."""
    arrays = {f"model.{name}": np.asarray(p.data) for name, p in model.named_parameters()}
    arrays.update({f"optimizer.{key}": value for key, value in optimizer.state_dict().items()})
    position = dict(position)
    order = position.pop("order")
    if order is not None:
        arrays["fit.order"] = np.asarray(order)
    arrays["fit.meta"] = np.array(json.dumps(position))
    write_atomically(os.fspath(path), lambda f: np.savez(f, **arrays))


def load_checkpoint(path, model, optimizer, n, batch_size):
    """Restore the model and the optimizer from ``path``; return the position saved with
    them (its "order" is None when the epoch was not shuffled)."""
    name = os.fspath(path)
    state = load_state(path)
    meta = state.get("fit.meta")
    if meta is None or meta.dtype.kind != "U":
        raise ValueError(f"fit: {name!r} is not a checkpoint written by fit(checkpoint=...)")
    position = json.loads(str(meta))
    if position["n"] != n or position["batch_size"] != batch_size:
        raise ValueError(f"fit: the checkpoint {name!r} was made for {position['n']} samples "
                         f"in batches of {position['batch_size']}; this call has {n} samples "
                         f"in batches of {batch_size}")
    params = {k[len("model."):]: v for k, v in state.items() if k.startswith("model.")}
    opt_state = {k[len("optimizer."):]: v for k, v in state.items()
                 if k.startswith("optimizer.")}
    optimizer.load_state_dict(opt_state)  # checks everything before changing anything
    assign_parameters(model, params, name)
    position["order"] = state.get("fit.order")
    return position


class StopRequest:
    """While active (in the main thread), the first Ctrl-C only asks fit() to stop after the
    step in progress; a second one interrupts at once, as usual."""

    def __init__(self):
        self.requested = False
        self.previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            try:
                self.previous = signal.signal(signal.SIGINT, self._handle)
            except ValueError:  # (an embedding that does not allow it)
                self.previous = None
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
        return False
