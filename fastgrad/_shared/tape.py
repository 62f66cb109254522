"""A captured step's guard messages and instruction flags, shared by fastgrad._cy.tape, its
twin fastgrad._py.tape and fastgrad.capture."""

# the flags of an ("sgd", ...) instruction: which terms of optim.SGD.update it has
# (csrc/tape.pyx repeats them in an enum)
SGD_DECAY = 1
SGD_MOMENTUM = 2
SGD_DAMPENING = 4
SGD_NESTEROV = 8


def _guard_message(obj, attr, index, expected, value):
    what = type(obj).__name__ + (f".{attr}" if attr else "")
    if attr == "data":
        return (f"capture: a parameter's array was replaced (p.data = ...): it is "
                f"{value.dtype} {value.shape} now, captured {expected.dtype} {expected.shape}; "
                f"update it in place (p.data[...] = ...) or capture again")
    if attr == "requires_grad":
        return (f"capture: a tensor's requires_grad changed since the step was captured (was "
                f"{expected}); capture again")
    if index == -2:
        return f"capture: {what} has {len(value)} entries, captured with {expected}"
    if index >= 0:
        return f"capture: {what}[{index}] is not the array or tensor captured"
    return f"capture: {what} was replaced since the step was captured"


def _not_finite_message(loss, params, k):
    if k < 0:
        return (f"capture: the replayed step's loss is {float(loss)!r}; the replay stopped "
                f"before backward (nothing was updated)")
    p = params[k]
    return (f"capture: the replayed step's gradient of parameter {k} ({p.data.dtype} "
            f"{p.data.shape}) contains NaN or Inf; the replay stopped before the update "
            f"(nothing was updated)")
