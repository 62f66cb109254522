"""Complex values on the numpy face: the complex Tensor class, the table's Python path for
complex operands, and the entries real, imag, conj, angle and complex_abs.

Conventions (HIPS autograd's): the gradient of a real-valued f of z = x + iy is
df/dx - i df/dy; a VJP maps a cotangent g to conj(J* conj(g)) (J* the adjoint for the real
inner product Re<a, b>), so a holomorphic f has vjp(g) = g f'(z), the same rule as for reals.
A contribution that reaches a real input is its real part.

Compiled kernels take float32/float64 only (a complex operand raises, naming the op): complex
values flow through nodes made by the table's entries run on their numpy forwards (OP_CUSTOM),
whose rules run again on complex Tensors. A complex Tensor (fastgrad/complex_tensor.py) is a
Tensor subclass whose operators and methods take that path; ``_backend`` of the class is a
view of the backend whose kernels (``k.*`` in the rules) take it too.
"""
import types

import numpy as np
from numpy.lib.array_utils import normalize_axis_tuple

from .._py.opcodes import OP_CUSTOM
from .table import OPS, Op, TableCall, register

F64 = np.dtype(np.float64)


def is_complex(x):
    """True for a complex array, number or Tensor."""
    return np.asarray(getattr(x, "data", x)).dtype.kind == "c"


# ---------------------------------------------------------------- the Python path

def _backend_of(args):
    for a in args:
        bk = getattr(type(a), "_backend", None)
        if bk is not None:
            return getattr(bk, "real_backend", bk)
        if type(a) in (list, tuple):
            b = _backend_of(a)
            if b is not None:
                return b
    return None


def constant(x, bk):
    """``x`` (array or number) as a constant node: complex stays complex, ints become
    float64."""
    if isinstance(x, bk.node.Node):
        return x
    arr = np.asarray(x)
    if arr.dtype.kind not in "fc":
        if arr.dtype.kind not in "biu":
            raise TypeError(f"complex op: unsupported dtype {arr.dtype}")
        arr = arr.astype(F64)
    return promote(bk.node.new_node(arr, False))


def promote(node):
    """``node`` as an instance of its backend's complex Tensor class when it holds complex
    data (the same object, re-classed)."""
    if node.data.dtype.kind == "c":
        cls = complex_class()
        if type(node) is not cls:
            node.__class__ = cls
            cls._backend.node.note_complex()  # the kernels start checking for complex values
    return node


def call(op, args, params=None, data=None, bk=None):
    """Run table entry ``op`` on ``args`` by its numpy forward (or take ``data``, computed by
    the caller) and record an OP_CUSTOM node whose rules are the entry's: the path for complex
    operands. Complex results are complex Tensors."""
    params = params or {}
    if bk is None:
        bk = _backend_of(args)
    if bk is None:
        return op.forward(*args, **params) if data is None else data
    nodes = [promote(constant(a, bk)) for a in args]
    arrays = [n.data for n in nodes]
    if data is None:
        data = op.forward(*arrays, **params)
    data = np.asarray(data)
    if data.dtype.kind not in "fc":
        data = data.astype(F64)
    ctx = TableCall(op, params, arrays, data, bk)
    return promote(bk.node.make_result(data, OP_CUSTOM, tuple(nodes), ctx))


def as_dtype(x, dtype):
    """Tensor ``x`` in ``dtype``, differentiably: a complex value going to a real dtype keeps
    its real part; a real one going complex gets a zero imaginary part."""
    dtype = np.dtype(dtype)
    if not hasattr(type(x), "_backend"):  # plain values
        x = np.asarray(x)
        return (x.real if dtype.kind != "c" else x).astype(dtype)
    have = x.data.dtype
    if have == dtype:
        return x
    if have.kind == "c" and dtype.kind != "c":
        x = real(x)
        return x if x.data.dtype == dtype else as_dtype(x, dtype)
    return call(OPS["complex_astype"], [x], {"dtype": dtype})


register(Op("complex_astype", lambda a, dtype: a.astype(dtype),
            (lambda g, y, a, dtype: as_dtype(g, a.dtype),),
            (lambda t, y, a, dtype: as_dtype(t, dtype),), nargs=1,
            doc="y = a in another dtype (complex to real keeps the real part)"))


# ---------------------------------------------------------------- real, imag, conj, angle, abs

def _zero_like(x):
    return x * 0.0


def _real_vjp(g, y, a):
    """g (into a complex a: g + 0i)"""
    return as_dtype(g, a.data.dtype) if a.data.dtype.kind == "c" else g


def _imag_vjp(g, y, a):
    """-i g (into a real a: 0)"""
    if a.data.dtype.kind != "c":
        return _zero_like(g)
    return call(OPS["mul"], [g, -1j])


register(Op("real", lambda a: np.array(np.real(a)), (_real_vjp,),
            (lambda t, y, a: real(t),), nargs=1, doc="y = Re a"))
register(Op("imag", lambda a: np.array(np.imag(a)), (_imag_vjp,),
            (lambda t, y, a: imag(t),), nargs=1, doc="y = Im a"))
register(Op("conj", np.conj, (lambda g, y, a: conj(g),), (lambda t, y, a: conj(t),),
            nargs=1, doc="y = conj a"))


def _abs2(a):
    """|a|^2 as a real Tensor"""
    return real(a) * real(a) + imag(a) * imag(a)


def _angle_vjp(g, y, a):
    """-i conj(a) g / |a|^2 (0 into a real a, where the angle is piecewise constant)"""
    if a.data.dtype.kind != "c":
        return _zero_like(g)
    return conj(a) * g * (-1j) / _abs2(a)


def _angle_jvp(t, y, a):
    """Im(conj(a) t) / |a|^2"""
    if a.data.dtype.kind != "c" and not is_complex(t):
        return _zero_like(t)
    return imag(conj(a) * t) / _abs2(a)


register(Op("angle", lambda a: np.array(np.angle(a)), (_angle_vjp,), (_angle_jvp,), nargs=1,
            doc="y = arg a"))
register(Op("complex_abs", lambda a: np.array(np.abs(a)),
            (lambda g, y, a: conj(a) * g / y,),
            (lambda t, y, a: real(conj(a) * t) / y,), nargs=1,
            doc="y = |a| for complex a (vjp g conj(a) / |a|)"))


def real(x):
    """Re x (a Tensor for a Tensor)."""
    return call(OPS["real"], [x])


def imag(x):
    """Im x."""
    return call(OPS["imag"], [x])


def conj(x):
    """The complex conjugate of x (x itself when real)."""
    if not is_complex(x):
        return x
    return call(OPS["conj"], [x])


def angle(x):
    """arg x."""
    return call(OPS["angle"], [x])


def absolute(x):
    """|x| (the table's complex_abs for complex x, abs otherwise)."""
    if is_complex(x):
        return call(OPS["complex_abs"], [x])
    bk = _backend_of([x])
    return bk.elementwise.absolute(x)


# ---------------------------------------------------------------- the kernels, for complex Tensors

def _binary(name):
    def f(a, b):
        return call(OPS[name], [a, b])
    f.__name__ = name
    return f


def _unary(name):
    def f(a):
        return call(OPS[name], [a])
    f.__name__ = name
    return f


def _axes(a, axis):
    if axis is None:
        return None
    axis = (axis,) if np.ndim(axis) == 0 else tuple(axis)
    return normalize_axis_tuple(axis, np.ndim(getattr(a, "data", a)))


def _sum(a, axis=None, keepdims=False):
    return call(OPS["sum"], [a], {"axes": _axes(a, axis), "keepdims": bool(keepdims)})


def _mean(a, axis=None, keepdims=False):
    return call(OPS["mean"], [a], {"axes": _axes(a, axis), "keepdims": bool(keepdims)})


def _reshape(a, shape):
    return call(OPS["reshape"], [a], data=np.reshape(a.data, shape))


def _transpose(a, axes=None):
    return call(OPS["transpose"], [a], {"axes": None if axes is None else tuple(axes)})


def _getitem(a, index):
    if hasattr(type(index), "_backend"):
        index = index.data
    return call(OPS["getitem"], [a], {"index": index})


def _broadcast_to(a, shape):
    return call(OPS["broadcast"], [a], data=np.broadcast_to(getattr(a, "data", a), shape))


def _where(condition, a, b):
    condition = np.asarray(getattr(condition, "data", condition), dtype=bool)
    return call(OPS["where"], [a, b], {"condition": condition})


def _concatenate(arrays, axis=0):
    arrays = list(arrays)
    nd = np.ndim(getattr(arrays[0], "data", arrays[0]))  # the rules slice with axis >= 0
    return call(OPS["concat"], arrays, {"axis": normalize_axis_tuple(axis, nd)[0]})


def _stack(arrays, axis=0):
    arrays = list(arrays)
    nd = np.ndim(getattr(arrays[0], "data", arrays[0])) + 1
    return call(OPS["stack"], arrays, {"axis": normalize_axis_tuple(axis, nd)[0]})


def _power(a, b):
    return call(OPS["pow"], [a, b])


def _dot(a, b):
    if np.ndim(getattr(a, "data", a)) == 0 or np.ndim(getattr(b, "data", b)) == 0:
        return call(OPS["mul"], [a, b])
    return call(OPS["matmul"], [a, b])


COMPLEX_KERNELS = {
    "elementwise": {
        "add": _binary("add"), "sub": _binary("sub"), "mul": _binary("mul"),
        "div": _binary("div"), "power": _power, "rsub": lambda a, b: call(OPS["sub"], [b, a]),
        "rdiv": lambda a, b: call(OPS["div"], [b, a]), "rpower": lambda a, b: _power(b, a),
        "neg": _unary("neg"), "exp": _unary("exp"), "log": _unary("log"),
        "sqrt": _unary("sqrt"), "sin": _unary("sin"), "cos": _unary("cos"),
        "tanh": _unary("tanh"), "absolute": absolute, "where": _where},
    "reduce": {"sum": _sum, "mean": _mean},
    "shape": {"reshape": _reshape, "transpose": _transpose, "getitem": _getitem,
              "concatenate": _concatenate, "stack": _stack, "broadcast_to": _broadcast_to,
              "astype": as_dtype},
    "linalg": {"matmul": _binary("matmul"), "dot": _dot},
}


class ComplexBackend:
    """A backend's view for complex Tensors: the kernels of COMPLEX_KERNELS in place of the
    compiled ones (what the table's rules call as ``k.*``); everything else is the backend's."""

    def __init__(self, bk):
        self.real_backend = bk
        for module, fns in COMPLEX_KERNELS.items():
            setattr(self, module, types.SimpleNamespace(**fns))

    def __getattr__(self, name):
        return getattr(self.real_backend, name)


_ufuncs = {
    np.add: COMPLEX_KERNELS["elementwise"]["add"],
    np.subtract: COMPLEX_KERNELS["elementwise"]["sub"],
    np.multiply: COMPLEX_KERNELS["elementwise"]["mul"],
    np.divide: COMPLEX_KERNELS["elementwise"]["div"],
    np.power: _power, np.matmul: COMPLEX_KERNELS["linalg"]["matmul"],
    np.negative: COMPLEX_KERNELS["elementwise"]["neg"], np.positive: lambda x: x,
    np.exp: _unary("exp"), np.log: _unary("log"), np.sqrt: _unary("sqrt"),
    np.sin: _unary("sin"), np.cos: _unary("cos"), np.tanh: _unary("tanh"),
    np.absolute: absolute, np.conjugate: conj,
}

def complex_class():
    """The complex Tensor class (fastgrad/complex_tensor.py: imported when first needed, as the
    Tensor class it extends is built on this table)."""
    from ..complex_tensor import ComplexTensor
    return ComplexTensor


# ---------------------------------------------------------------- autograd's holomorphic_grad

def holomorphic_grad(fun, argnum=0):
    """f'(z) of a holomorphic ``fun``: the gradient of Re fun (autograd's convention gives
    d Re f/dx - i d Re f/dy = f')."""
    from .. import autodiff

    def real_fun(*args, **kwargs):
        out = fun(*args, **kwargs)
        return real(out) if is_complex(out) else out
    real_fun.__name__ = getattr(fun, "__name__", "fun")
    return autodiff.grad(real_fun, argnum)


# ---------------------------------------------------------------- kernels that met complex values

# the entries whose rules hold for complex values (holomorphic, linear or shape ops): a kernel
# of one of them that meets complex operands is redone here, on the Python path
COMPLEX_SAFE = {"add", "sub", "mul", "div", "pow", "add_s", "mul_s", "div_s", "rsub_s",
                "rdiv_s", "pow_s", "rpow_s", "neg", "exp", "log", "tanh", "sqrt", "log1p",
                "sin", "cos", "sum", "mean", "max", "min", "transpose", "getitem", "concat",
                "stack", "matmul", "where"}


def kernel_fallback(code, prev, ctx, data):
    """The node of kernel op ``code`` whose operands (or result) are complex, made by its table
    entry on the Python path: the kernel's own result is not used (it computes in float), but
    reshape's and broadcast_to's are numpy's views. Ops without a complex meaning (relu,
    sigmoid, clip, the fused layer and losses, ...) raise naming the op and the dtype."""
    from .._py.node import complex_kernel_error, dtype_error
    from ..autodiff import trace_level
    from .table import BY_CODE
    entry = BY_CODE[code]
    name = entry.name
    bk = _backend_of(prev)
    cls = complex_class()
    if trace_level() == 0 and not any(type(p) is cls for p in prev):
        # a complex constant met a real Tensor outside any differentiation: the Tensor face
        # stays real (inside grad, the numpy face takes complex constants)
        raise dtype_error(entry.function or name, np.complex128)
    prev = [promote(p) for p in prev]
    if name == "abs":
        return call(OPS["complex_abs"], prev, bk=bk)
    if name in ("reshape", "broadcast"):
        return call(entry, prev, {}, data=data, bk=bk)
    if name == "astype":
        return as_dtype(prev[0], np.asarray(data).dtype)
    if name not in COMPLEX_SAFE:
        dtype = next((p.data.dtype for p in prev if p.data.dtype.kind == "c"),
                     np.asarray(data).dtype)
        raise complex_kernel_error(code, dtype)
    return call(entry, prev, entry.kwargs(ctx), bk=bk)


def _install():
    import importlib

    from .. import _backend
    from .._py import node as py_node
    py_node.set_complex_fallback(kernel_fallback)
    if not _backend.extensions_disabled():
        try:
            importlib.import_module("fastgrad._cy.node").set_complex_fallback(kernel_fallback)
        except ImportError:  # not compiled: the twins are the engine
            pass


_install()
