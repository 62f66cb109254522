"""gradcheck: compare backward()'s gradients with central finite differences."""
import numpy as np

from .engine import no_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """The analytic and numeric gradients disagree (the message says where and by how much)."""


def gradcheck(f, inputs, eps=1e-6, atol=1e-6, rtol=1e-4, seed=0):
    """Check the gradients of ``f(*inputs)`` against central differences, in float64.

    Parameters
    ----------
    f : callable
        Takes one Tensor per input and returns a Tensor. A non-scalar result is checked
        through ``sum(f(x) * v)`` for a fixed random ``v`` (a vector-Jacobian product).
    inputs : sequence of array_like
        The points to check at; float32 inputs are checked in float64.
    eps, atol, rtol : float
        Step of the differences; the check passes where
        ``|analytic - numeric| <= atol + rtol * |numeric|`` for every element.

    Returns
    -------
    True, or raises GradcheckError naming the input, the element and both values.
    """
    arrays = [np.array(getattr(x, "data", x), dtype=np.float64) for x in inputs]
    rng = np.random.default_rng(seed)
    weights = None

    def scalar_output(tensors):
        nonlocal weights
        out = f(*tensors)
        if not isinstance(out, Tensor):
            raise TypeError(f"gradcheck: f must return a Tensor, got {type(out).__name__}")
        if out.data.size == 1:
            return out.sum()
        if weights is None:
            weights = rng.standard_normal(out.data.shape)
        return (out * weights).sum()

    leaves = [Tensor(a, requires_grad=True) for a in arrays]
    scalar_output(leaves).backward()
    for k, (leaf, base) in enumerate(zip(leaves, arrays)):
        analytic = leaf.grad if leaf.grad is not None else np.zeros_like(base)
        numeric = np.zeros_like(base)
        flat = base.reshape(-1)  # a view: stepping it steps the input
        with no_grad():
            for i in range(flat.size):
                old = flat[i]
                flat[i] = old + eps
                up = float(scalar_output([Tensor(a) for a in arrays]).data)
                flat[i] = old - eps
                down = float(scalar_output([Tensor(a) for a in arrays]).data)
                flat[i] = old
                numeric.reshape(-1)[i] = (up - down) / (2 * eps)
        error = np.abs(analytic - numeric)
        bad = error > atol + rtol * np.abs(numeric)
        if bad.any():
            i = np.unravel_index(np.argmax(np.where(bad, error, -1)), base.shape)
            raise GradcheckError(
                f"gradcheck: input {k} (shape {base.shape}), element {tuple(map(int, i))}: "
                f"backward gives {analytic[i]!r}, finite differences give {numeric[i]!r} "
                f"({int(bad.sum())} of {base.size} elements off; largest error "
                f"{error.max():.3g})")
    return True
