"""The thread-local "a step is being recorded" state that fastgrad.capture sets and the engine,
the optimizers and Tensor read (a neutral module: the hooks below it need no import of capture).

While a recorder is active on this thread, engine.backward hands it the graph before the sweep,
Optimizer.step hands it the optimizer before the update, and Tensor's value readers (item,
float, bool, np.asarray, comparisons) raise CaptureError: a captured step may not branch on
values, because a replay does not run the Python that would branch.
"""
import threading


class CaptureError(RuntimeError):
    """A step cannot be captured, or a replay does not match what was captured."""


_state = threading.local()


def active():
    """The recorder of the step being recorded on this thread, or None."""
    return getattr(_state, "recorder", None)


def set_active(recorder):
    """Install ``recorder`` (or None) on this thread; return the previous one."""
    previous = getattr(_state, "recorder", None)
    _state.recorder = recorder
    return previous


def refuse(what):
    """Raise CaptureError if a step is being recorded: ``what`` reads a tensor's value."""
    if getattr(_state, "recorder", None) is not None:
        raise CaptureError(
            f"capture: {what} reads a tensor's value while the step is being recorded; a "
            f"replayed step runs no Python, so it cannot depend on values. Return the loss "
            f"tensor instead (the captured step returns it as a float), or run this step "
            f"without capture")
