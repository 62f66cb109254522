"""Tensor: a numpy array that records the ops applied to it, for reverse-mode differentiation.

The class is built, once at import, on the active backend's Node (the compiled one, or its
Python twin under FASTGRAD_NO_EXTENSIONS=1): its operators are that backend's op functions
themselves, so ``a * b`` runs no Python code of ours on the compiled backend.
"""
import numpy as np

from . import _recording, engine, ops
from ._backend import active
from ._ndarray_methods import add_methods as add_numpy_methods
from ._ndarray_methods import numpy_face_function
from ._py.opcodes import OP_CUSTOM, OP_LEAF, OP_NAMES

FLOAT_TYPES = (np.dtype(np.float32), np.dtype(np.float64))


def as_float_array(data, dtype=None):
    """``data`` copied into a float32/float64 array; ints and bools become float64."""
    try:
        arr = np.array(data, dtype=dtype)
    except ValueError as e:  # ragged lists, unparsable strings
        raise ValueError(f"Tensor: the data is not a rectangular array of numbers: "
                         f"{e}") from None
    if arr.dtype not in FLOAT_TYPES:
        if dtype is None and arr.dtype.kind in "biu":
            return arr.astype(np.float64)
        raise TypeError(f"Tensor: unsupported dtype {arr.dtype}; a Tensor holds float32 or "
                        f"float64 (integers and booleans are converted to float64)")
    return arr


def _shape_args(args):
    """``f(2, 3)`` and ``f((2, 3))`` both mean the tuple (2, 3)."""
    if len(args) == 1 and not isinstance(args[0], (int, np.integer)):
        return tuple(args[0]) if args[0] is not None else None
    return args


# numpy functions that, called on a Tensor, give only facts about it (no graph).
_SHAPE_FUNCTIONS = {np.shape: lambda a: np.shape(a.data), np.ndim: lambda a: a.data.ndim,
                    np.size: lambda a: a.data.size}

_COMPARISONS = {np.less, np.less_equal, np.greater, np.greater_equal, np.equal, np.not_equal,
                np.isfinite, np.isnan, np.isinf, np.sign, np.signbit}


def _refuse_traced(tensor, what):
    """Raise when ``what`` would take the value of a traced tensor inside a differentiated
    function (grad, jacobian, ...): the graph would be cut and the gradient silently zero."""
    if tensor.requires_grad:
        from .autodiff import trace_level
        if trace_level():
            raise TypeError(
                f"{what} of a traced value (inside grad) takes its value and leaves the graph, "
                f"so the gradient through it would be silently zero. Use fastgrad.numpy's "
                f"functions on it (import fastgrad.numpy as np), or take .data on purpose")


def op_name(node):
    """The name of the op that made ``node`` (a table entry's, or a user primitive's), or None
    for a leaf."""
    if node._op == OP_LEAF:
        return None
    if node._op == OP_CUSTOM:
        ctx = node._ctx
        op = getattr(ctx, "op", None)
        if op is not None:
            return op.name
        primitive = getattr(ctx, "primitive", None)
        if primitive is not None:
            return primitive.__name__
    return OP_NAMES[node._op]

# ---------------------------------------------------------------- the active backend's Tensor


ew, rd, sh, la, nd = (active.elementwise, active.reduce, active.shape, active.linalg,
                      active.node)


def data_of(x):
    return x.data if isinstance(x, nd.Node) else x


_UFUNCS = {
    np.add: ew.add, np.subtract: ew.sub, np.multiply: ew.mul, np.true_divide: ew.div,
    np.power: ew.power, np.maximum: ew.maximum, np.minimum: ew.minimum,
    np.matmul: la.matmul, np.negative: ew.neg, np.positive: lambda x: x,
    np.exp: ew.exp, np.log: ew.log, np.tanh: ew.tanh, np.sqrt: ew.sqrt,
    np.absolute: ew.absolute, np.log1p: ew.log1p, np.sin: ew.sin, np.cos: ew.cos,
    np.square: lambda x: ew.power(x, 2.0)}
for name, fn in ops.UFUNC_FUNCTIONS.items():  # every table op numpy has as a ufunc
    _UFUNCS.setdefault(getattr(np, name), fn)


def _reduction(fn):
    def call(a, axis=None, dtype=None, out=None, keepdims=False, **unsupported):
        if dtype is not None or out is not None or unsupported:
            raise TypeError(f"{fn.__name__}: dtype=, out=, initial= and where= are not "
                            f"supported on Tensors")
        return fn(a, axis, keepdims)
    return call


# numpy functions that, called on a Tensor (``__array_function__``), run the op
_FUNCTIONS = {
    np.sum: _reduction(rd.sum), np.mean: _reduction(rd.mean), np.max: _reduction(rd.max),
    np.min: _reduction(rd.min),
    np.reshape: lambda a, shape=None, **kw: sh.reshape(a, kw.get("newshape", shape)),
    np.transpose: lambda a, axes=None: sh.transpose(a, axes),
    np.concatenate: lambda arrays, axis=0: sh.concatenate(arrays, axis),
    np.stack: lambda arrays, axis=0: sh.stack(arrays, axis),
    np.where: ew.where, np.dot: la.dot, np.matmul: la.matmul,
    np.clip: lambda a, a_min=None, a_max=None: ew.clip(a, a_min, a_max),
    np.broadcast_to: lambda a, shape: sh.broadcast_to(a, shape),
    **_SHAPE_FUNCTIONS}


class Tensor(nd.Node):
    """An n-dimensional float32/float64 array that records the graph of ops applied to it.

    Parameters
    ----------
    data : array_like
        Copied into a new array. Integers and booleans become float64; other dtypes than
        float32/float64 are refused.
    requires_grad : bool
        Make this a leaf whose ``.grad`` backward() fills.
    dtype : numpy dtype, optional
        float32 or float64.
    """

    __slots__ = ("__weakref__",)  # a captured step holds its parameters weakly
    _backend = active

    def __init__(self, data, requires_grad=False, dtype=None):
        self._born = self._version = 0  # (versions: see node.mark_modified)
        self.data = as_float_array(data_of(data), dtype)
        self.grad = None
        self._prev = None
        self._ctx = None
        self._op = OP_LEAF
        self.requires_grad = bool(requires_grad)
        self._retain = False
        self._mark = 0
        self._gown = 0

    # -------------------------------------------------- operators (the backend's ops)
    __add__ = __radd__ = ew.add
    __sub__ = ew.sub
    __rsub__ = ew.rsub
    __mul__ = __rmul__ = ew.mul
    __truediv__ = ew.div
    __rtruediv__ = ew.rdiv
    __pow__ = ew.power
    __rpow__ = ew.rpower
    __matmul__ = la.matmul
    __rmatmul__ = la.rmatmul
    __neg__ = ew.neg
    __abs__ = ew.absolute
    __getitem__ = sh.getitem

    def __pos__(self):
        return self

    # comparisons look at values only: they give plain boolean arrays, not tensors
    def __lt__(self, other):
        _recording.refuse("comparing a tensor (<)")
        return self.data < data_of(other)

    def __le__(self, other):
        _recording.refuse("comparing a tensor (<=)")
        return self.data <= data_of(other)

    def __gt__(self, other):
        _recording.refuse("comparing a tensor (>)")
        return self.data > data_of(other)

    def __ge__(self, other):
        _recording.refuse("comparing a tensor (>=)")
        return self.data >= data_of(other)

    def __eq__(self, other):
        _recording.refuse("comparing a tensor (==)")
        return self.data == data_of(other)

    def __ne__(self, other):
        _recording.refuse("comparing a tensor (!=)")
        return self.data != data_of(other)

    __hash__ = object.__hash__  # identity, so tensors can be dict keys and set members

    # -------------------------------------------------- numpy interoperability
    def __array__(self, dtype=None, copy=None):
        _recording.refuse("np.asarray(tensor)")
        if dtype is None or np.dtype(dtype).kind in "fc":
            _refuse_traced(self, "numpy.asarray (or numpy.array)")
        if copy:
            return np.array(self.data, dtype=dtype)
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    def __array_function__(self, func, types, args, kwargs):
        fn = _FUNCTIONS.get(func)
        if fn is None:
            fn = numpy_face_function(func)  # fastgrad.numpy's, if it has one
        if fn is None:
            raise TypeError(
                f"numpy.{func.__name__} has no gradient in fastgrad; use the fastgrad "
                f"function, or apply numpy to .data to leave the graph")
        return fn(*args, **kwargs)

    # -------------------------------------------------- what it is
    @property
    def shape(self):
        return self.data.shape

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self):
        return self.data.ndim

    @property
    def size(self):
        return self.data.size

    @property
    def is_leaf(self):
        """True for tensors not computed by a recorded op."""
        return self._op == OP_LEAF

    @property
    def op(self):
        """The name of the op that computed this tensor, or None for a leaf."""
        return op_name(self)

    def __len__(self):
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self):
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (sh.getitem(self, i) for i in range(len(self.data)))

    def __float__(self):
        _recording.refuse("float(tensor)")
        _refuse_traced(self, "float()")
        return float(self.data)

    def __int__(self):
        _recording.refuse("int(tensor)")
        return int(self.data)

    def __bool__(self):
        _recording.refuse("bool(tensor) (a Python branch on a tensor)")
        return bool(self.data)

    def __repr__(self):
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        extras = ""
        if self.data.dtype != np.float64:
            extras += f", dtype={self.data.dtype}"
        if self._op != OP_LEAF:
            extras += f", op={op_name(self)}"
        elif self.requires_grad:
            extras += ", requires_grad=True"
        return f"Tensor({body}{extras})"

    def numpy(self):
        """The data (not a copy)."""
        _recording.refuse("tensor.numpy()")
        return self.data

    def item(self):
        _recording.refuse("tensor.item()")
        return self.data.item()

    def tolist(self):
        _recording.refuse("tensor.tolist()")
        return self.data.tolist()

    # -------------------------------------------------- gradients
    def backward(self, gradient=None, retain_graph=False, create_graph=False):
        """Add d(self)/d(leaf) (times ``gradient`` if given) into every leaf's ``.grad``.

        ``gradient`` is required unless the tensor has one element. The graph is freed
        afterwards unless ``retain_graph`` is true. With ``create_graph`` the gradients
        are recorded Tensors (differentiable again) and the graph is kept. See
        fastgrad.engine for the rules.
        """
        engine.backward(active, self, gradient, retain_graph, create_graph)

    def zero_grad(self):
        """Forget the accumulated gradient (``.grad`` becomes None)."""
        recorder = _recording.active()
        if recorder is not None:  # fastgrad.capture: the step clears this gradient
            recorder.zero_grad((self,))
        self.grad = None

    def detach(self):
        """A new leaf sharing this tensor's data, outside any graph."""
        return nd.new_node(self.data, False)

    def retain_grad(self):
        """Keep ``.grad`` on this interior tensor after backward (leaves always keep it)."""
        self._retain = True

    # -------------------------------------------------- ops as methods
    def sum(self, axis=None, keepdims=False):
        return rd.sum(self, axis, keepdims)

    def mean(self, axis=None, keepdims=False):
        return rd.mean(self, axis, keepdims)

    def max(self, axis=None, keepdims=False):
        return rd.max(self, axis, keepdims)

    def min(self, axis=None, keepdims=False):
        return rd.min(self, axis, keepdims)

    def logsumexp(self, axis=None, keepdims=False):
        return rd.logsumexp(self, axis, keepdims)

    def softmax(self, axis=-1):
        return rd.softmax(self, axis)

    def log_softmax(self, axis=-1):
        return rd.log_softmax(self, axis)

    def reshape(self, *shape):
        return sh.reshape(self, _shape_args(shape))

    def flatten(self):
        return sh.reshape(self, (-1,))

    def transpose(self, *axes):
        return sh.transpose(self, _shape_args(axes) if axes else None)

    @property
    def T(self):
        return sh.transpose(self, None)

    def astype(self, dtype):
        return sh.astype(self, dtype)

    tanh = ew.tanh
    relu = ew.relu
    sigmoid = ew.sigmoid
    exp = ew.exp
    log = ew.log
    sqrt = ew.sqrt
    abs = ew.absolute

    def clip(self, lo=None, hi=None):
        return ew.clip(self, lo, hi)


def _other_ufuncs(ufunc, method, inputs, kwargs):
    """numpy ufuncs without a gradient: comparisons give plain arrays, others refuse."""
    if method == "__call__" and not kwargs and ufunc in _COMPARISONS:
        return ufunc(*[data_of(x) for x in inputs])
    raise TypeError(
        f"numpy.{ufunc.__name__}{'' if method == '__call__' else '.' + method} has no "
        f"gradient in fastgrad; use the fastgrad function, or apply numpy to .data "
        f"to leave the graph")


# the table's ops marked as methods, where the class does not define its own
for op in ops.OPS.values():
    if op.method and not hasattr(Tensor, op.function):
        setattr(Tensor, op.function, ops.PUBLIC[op.function])
add_numpy_methods(Tensor)  # ravel, squeeze, dot, var, real, ... (fastgrad.numpy's)
Tensor.__module__ = "fastgrad"
nd.set_tensor_type(Tensor)
nd.set_ufunc_table(_UFUNCS, _other_ufuncs)
