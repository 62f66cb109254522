"""Node messages, checks and helpers both backends share (fastgrad._cy.node and its twin
fastgrad._py.node import them): dtype and shape checks of assigned data and grads, the errors
that name an op, and the registry of each backend's Node class."""
import numpy as np

from fastgrad._shared.opcodes import OP_CUSTOM, OP_LEAF, OP_NAMES

ndarray = np.ndarray


NODE_CLASSES = {}  # backend name -> its Node class (both register themselves at import)


BACKEND_NAMES = {"cython": "compiled", "python": "pure-Python"}


def register_node_class(backend, cls):
    NODE_CLASSES[backend] = cls


def foreign_node_error(x, opname, backend):
    """The error for ``x``, a node of another backend than ``backend`` met by op ``opname``
    (None when x is no node): gradients cannot flow from one engine into the other."""
    for name, cls in NODE_CLASSES.items():
        if name != backend and isinstance(x, cls):
            return TypeError(
                f"{opname}: a Tensor of the {BACKEND_NAMES[name]} backend ({name!r}, "
                f"{x.data.dtype} {tuple(x.data.shape)}) met a Tensor of the "
                f"{BACKEND_NAMES[backend]} backend ({backend!r}) in one graph; gradients "
                f"cannot flow between backends: make every Tensor of a graph with the same "
                f"class (fastgrad.Tensor)")
    return None


def is_node(x):
    """True for a node of either backend."""
    return any(isinstance(x, cls) for cls in NODE_CLASSES.values())


def _shape(a):
    return tuple(a.shape)


tensor_grad_assigned = False  # set once a Tensor was assigned to a .grad (engine.py reads it)


def checked_grad(node, value):
    """``value`` if it may be node's ``.grad`` (None, or an ndarray of data's shape and dtype);
    otherwise raise as PyTorch does ("assigned grad has data of a different size")."""
    if value is None:
        return None
    if is_node(value):
        # backward(create_graph=True) leaves a Tensor gradient that carries a graph: it must be
        # of this tensor's own backend, shape and dtype
        if not isinstance(value, type(node)) and not isinstance(node, type(value)):
            raise TypeError(f"Tensor.grad: assigned grad is a {type(value).__module__} Tensor "
                            f"of another backend than this tensor's")
        array = value.data
        global tensor_grad_assigned
        tensor_grad_assigned = True  # backward then keeps such gradients out of its sweep
    elif type(value) is not ndarray:
        raise TypeError(f"Tensor.grad: assigned grad expected to be a numpy array or None but "
                        f"got grad of type {type(value).__name__}")
    else:
        array = value
    data = node.data
    if array.dtype != data.dtype:
        raise TypeError(f"Tensor.grad: assigned grad has data of a different type: "
                        f"{array.dtype}, but the tensor holds {data.dtype}")
    if array.shape != data.shape:
        raise ValueError(f"Tensor.grad: assigned grad has data of a different size: shape "
                         f"{_shape(array)}, but the tensor has shape {_shape(data)}")
    return value


def checked_data(node, value):
    """``value`` if it may be node's ``.data``: a float32/float64 ndarray, of the shape and
    dtype of the data it replaces (a Tensor's shape and dtype never change)."""
    if is_node(value):
        raise TypeError("Tensor.data: assigned data is a Tensor; .data holds a numpy array "
                        "(assign the other Tensor's .data)")
    if type(value) is not ndarray:
        raise TypeError(f"Tensor.data: assigned data expected to be a numpy array but got "
                        f"data of type {type(value).__name__}")
    if value.dtype not in FLOAT_TYPES:
        raise TypeError(f"Tensor.data: assigned data has dtype {value.dtype}; a Tensor holds "
                        f"float32 or float64")
    old = getattr(node, "data", None)  # (unset while a Tensor is being made)
    if old is not None:
        if value.dtype != old.dtype:
            raise TypeError(f"Tensor.data: assigned data has data of a different type: "
                            f"{value.dtype}, but the tensor holds {old.dtype}; use "
                            f".astype() to make a Tensor of another dtype")
        if value.shape != old.shape:
            raise ValueError(f"Tensor.data: assigned data has data of a different size: shape "
                             f"{_shape(value)}, but the tensor has shape {_shape(old)}; make a "
                             f"new Tensor to change the shape")
    return value


def corrupt_node_error(node, bad):
    """A node whose data or grad is not an array any more (set around the checks)."""
    return RuntimeError(f"backward: {describe_safely(node)}: the "
                        f"{'tensor' if bad is node else 'input'} holds data of type "
                        f"{type(bad.data).__name__} and grad of type {type(bad.grad).__name__}; "
                        f"only numpy arrays of the tensor's shape and dtype can be used")


def describe_safely(node):
    data = node.data
    if isinstance(data, ndarray):
        return describe(node)
    return f"{OP_NAMES.get(node._op, node._op)}"


def modified_error(node, changed):
    """The error for ``node``, whose VJP would read ``changed`` (node itself, or one of its
    inputs) after its data was replaced or updated in place."""
    if changed is node:
        what = "its own value"
    else:
        index = next(i for i, p in enumerate(node._prev) if p is changed)
        kind = ("a leaf" if changed._op == OP_LEAF
                else f"the result of {OP_NAMES.get(changed._op, changed._op)}")
        what = (f"its input {index} ({kind}, {changed.data.dtype} "
                f"{_shape(changed.data)})")
    return RuntimeError(
        f"backward: one of the variables needed for gradient computation has been modified "
        f"by an inplace operation: {what} was changed (its .data replaced or updated in "
        f"place, e.g. by an optimizer step) after {describe(node)} was computed from it; "
        f"compute the forward pass again after changing it")


def no_sweep_error(node):
    return RuntimeError(f"accumulate: called for {describe_safely(node)} outside a backward "
                        f"sweep")


FLOAT_TYPES = (np.dtype(np.float32), np.dtype(np.float64))


def dtype_error(opname, dtype):
    if np.dtype(dtype).kind == "c":
        return TypeError(
            f"{opname}: unsupported dtype {dtype}: a real Tensor met a complex value; the "
            f"compiled kernels take float32 and float64, and complex values flow on the numpy "
            f"face from complex arguments of grad (make the traced value complex first)")
    return TypeError(
        f"{opname}: unsupported dtype {dtype}; fastgrad differentiates float32 and float64 "
        f"arrays (integers and booleans are converted to float64 when a Tensor is made)")


def complex_kernel_error(op, dtype):
    """The error for a compiled kernel (op code ``op``) that met complex values."""
    name = OP_NAMES.get(op, op)
    return TypeError(
        f"{name}: unsupported dtype {dtype}; {name} has no rule for complex values (the "
        f"compiled kernels and their twins take float32 and float64; ops with a complex "
        f"meaning take complex values through the op table's Python path)")


def as_array(x, opname, backend="python"):
    """``x`` as a float32/float64 ndarray: ints and bools become float64, others are refused
    (a Tensor of another backend than ``backend`` too)."""
    if type(x) is not ndarray:
        foreign = foreign_node_error(x, opname, backend)
        if foreign is not None:
            raise foreign
    arr = np.asarray(x)
    dtype = arr.dtype
    if dtype not in FLOAT_TYPES:
        if dtype.kind in "biu":
            arr = arr.astype(np.float64)
        else:
            raise dtype_error(opname, dtype)
    return arr


class NonFiniteGradient(FloatingPointError):
    """Raised in checking mode by the first VJP whose contribution is NaN or Inf."""

    def __init__(self, node, parent):
        self.node = node
        self.parent = parent
        super().__init__(describe(node))


def op_name(node):
    """The name of node's op; a primitive defined in Python by its function's name."""
    if node._op == OP_CUSTOM:
        name = getattr(node._ctx, "primitive", None)
        name = getattr(name, "__name__", name)  # extend's _Call holds the Primitive itself
        if name is not None:
            return f"primitive {name}"
    return OP_NAMES.get(node._op, node._op)


def describe(node):
    """``tanh (float32 (3, 4))``: an op's name with its output dtype and shape, for messages."""
    data = node.data
    return f"{op_name(node)} ({data.dtype} {tuple(data.shape)})"


def sum_to_shape(g, shape):
    """Sum ``g`` over the axes broadcasting added, so that it has ``shape``."""
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
    if axes:
        g = np.add.reduce(g, axis=axes, keepdims=True)
    return g.reshape(shape)
