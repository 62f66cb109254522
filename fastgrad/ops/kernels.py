"""The backend functions the table's rules are written with, each run on the backend of its
arguments (so that the rules serve the compiled engine and the Python twin alike).

Operators (``g * y``, ``1 - y``, ``-g``, ``a @ b``) dispatch by themselves; these are the rest.
"""
from .table import kernel

add = kernel("elementwise", "add")
subtract = kernel("elementwise", "sub")
multiply = kernel("elementwise", "mul")
divide = kernel("elementwise", "div")
power = kernel("elementwise", "power")
maximum = kernel("elementwise", "maximum")
minimum = kernel("elementwise", "minimum")
where = kernel("elementwise", "where")
negative = kernel("elementwise", "neg")
exp = kernel("elementwise", "exp")
log = kernel("elementwise", "log")
tanh = kernel("elementwise", "tanh")
relu = kernel("elementwise", "relu")
sigmoid = kernel("elementwise", "sigmoid")
sqrt = kernel("elementwise", "sqrt")
abs = kernel("elementwise", "absolute")
log1p = kernel("elementwise", "log1p")
sin = kernel("elementwise", "sin")
cos = kernel("elementwise", "cos")
clip = kernel("elementwise", "clip")
sum = kernel("reduce", "sum")
mean = kernel("reduce", "mean")
max = kernel("reduce", "max")
min = kernel("reduce", "min")
logsumexp = kernel("reduce", "logsumexp")
softmax = kernel("reduce", "softmax")
log_softmax = kernel("reduce", "log_softmax")
reshape = kernel("shape", "reshape")
transpose = kernel("shape", "transpose")
getitem = kernel("shape", "getitem")
concatenate = kernel("shape", "concatenate")
stack = kernel("shape", "stack")
broadcast_to = kernel("shape", "broadcast_to")
astype = kernel("shape", "astype")
matmul = kernel("linalg", "matmul")
dense = kernel("dense", "dense")


def swap_last(x):
    """x with its last two axes exchanged."""
    n = x.data.ndim
    return transpose(x, tuple(range(n - 2)) + (n - 1, n - 2))


def reduced_like(x, shape):
    """x summed over the axes broadcasting added, so that it has ``shape`` (the adjoint of
    broadcasting)."""
    xs = x.data.shape
    if xs == tuple(shape):
        return x
    shape = tuple(shape)
    if not shape:  # down to one value: the sum of every element (no axes to sort out)
        return sum(x, None, False)
    lead = len(xs) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and xs[lead + i] != 1)
    if lead and len(axes) == lead:  # only the leading axes: one sum gives the shape
        return sum(x, axes, False)
    if axes:
        x = sum(x, axes, True)
    return reshape(x, tuple(shape))
