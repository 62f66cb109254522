"""The backend functions the table's rules are written with, each run on the backend of its
arguments (so that the rules serve the compiled engine and the Python twin alike).

Operators (``g * y``, ``1 - y``, ``-g``, ``a @ b``) dispatch by themselves; these are the rest.
Those of one Tensor (``unary=True``) dispatch on the first argument's class alone.
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
negative = kernel("elementwise", "neg", unary=True)
exp = kernel("elementwise", "exp", unary=True)
log = kernel("elementwise", "log", unary=True)
tanh = kernel("elementwise", "tanh", unary=True)
relu = kernel("elementwise", "relu", unary=True)
sigmoid = kernel("elementwise", "sigmoid", unary=True)
sqrt = kernel("elementwise", "sqrt", unary=True)
abs = kernel("elementwise", "absolute", unary=True)
log1p = kernel("elementwise", "log1p", unary=True)
sin = kernel("elementwise", "sin", unary=True)
cos = kernel("elementwise", "cos", unary=True)
clip = kernel("elementwise", "clip")
sum = kernel("reduce", "sum", unary=True)
mean = kernel("reduce", "mean", unary=True)
max = kernel("reduce", "max", unary=True)
min = kernel("reduce", "min", unary=True)
logsumexp = kernel("reduce", "logsumexp", unary=True)
softmax = kernel("reduce", "softmax", unary=True)
log_softmax = kernel("reduce", "log_softmax", unary=True)
reshape = kernel("shape", "reshape", unary=True)
transpose = kernel("shape", "transpose", unary=True)
getitem = kernel("shape", "getitem", unary=True)
concatenate = kernel("shape", "concatenate")
stack = kernel("shape", "stack")
broadcast_to = kernel("shape", "broadcast_to", unary=True)
astype = kernel("shape", "astype", unary=True)
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
