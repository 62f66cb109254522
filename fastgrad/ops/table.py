"""The op table's machinery: what an entry holds, the registry, and how an entry runs.

An entry (:class:`Op`) is one primitive: a graph node type. It holds

- ``name``: the node's op name (``tanh``, ``add_s``, ...; what ``Tensor.op`` says);
- ``function``: the public name that makes it (``fastgrad.<function>``), or None for variants
  made by another function (``add_s`` is made by ``add`` with a Python scalar);
- ``forward``: the reference forward, on numpy arrays;
- ``vjp``: its vector-Jacobian product written in fastgrad ops, so that running it records a
  graph (higher-order derivatives come from differentiating that graph again). Either a tuple
  with one function per argument, ``vjp[i](g, ans, *args, **params)``, or one function
  ``vjp(i, g, ans, *args, **params)`` for ops with any number of arguments;
- ``jvp``: its Jacobian-vector product (forward mode), in fastgrad ops: a tuple with one function
  per argument, ``jvp[i](t, ans, *args, **params)`` (the contributions are summed), or one
  function ``jvp(tangents, ans, *args, **params)`` (tangents[i] None where zero);
- ``code``: the op code of its compiled kernel and Python twin (fastgrad/_cy/opcodes.pxd,
  fastgrad/_py/opcodes.py), with ``kernel`` naming the backend function (``("elementwise",
  "tanh")``) and ``params`` reading the node's saved context into keyword arguments. An entry
  without a code runs its numpy ``forward`` and records an OP_CUSTOM node whose first-order VJP
  is the same ``vjp`` run on constants: adding such an op is one entry.

The first-order ``backward()`` never looks at this table: it runs the compiled kernels (or the
twins). The recorded path (``create_graph=True``, nested ``grad``, ``gradients``) and forward
mode (``jvp``, ``make_jvp``) run the table's rules.
"""
import numpy as np

from .. import _backend
from .._py.opcodes import OP_CUSTOM, OP_NAMES


class Op:
    """One primitive (see the module docstring for the fields)."""

    __slots__ = (
        "code",
        "doc",
        "forward",
        "function",
        "jvp",
        "kernel",
        "method",
        "name",
        "nargs",
        "numpy",
        "param_names",
        "params",
        "vjp",
    )

    def __init__(self, name, forward, vjp, jvp, *, function=None, code=None, kernel=None,
                 params=None, numpy=None, method=False, doc="", nargs=None, param_names=()):
        self.name = name
        self.function = function
        self.forward = forward
        self.vjp = vjp
        self.jvp = jvp
        self.code = code
        self.kernel = kernel
        self.params = params
        self.numpy = numpy
        self.method = method
        self.doc = doc
        self.nargs = nargs if nargs is not None or type(vjp) is not tuple else len(vjp)
        self.param_names = param_names

    def __repr__(self):
        where = f"code {self.code}" if self.code is not None else "python"
        return f"<op {self.name} ({where})>"

    @property
    def compiled(self):
        """True when a compiled kernel (forward and backward) runs this op on the fast path."""
        return self.code is not None

    def kwargs(self, ctx):
        """The node's saved context as the keyword arguments of vjp/jvp."""
        return self.params(ctx) if self.params is not None else {}

    def vjp_of(self, i, g, ans, args, params):
        """Argument i's contribution to the gradient (a Tensor, or None for none)."""
        vjp = self.vjp
        if type(vjp) is tuple:
            return vjp[i](g, ans, *args, **params)
        return vjp(i, g, ans, *args, **params)

    def jvp_of(self, tangents, ans, args, params):
        """The output's tangent from the arguments' tangents (None where zero)."""
        jvp = self.jvp
        if type(jvp) is not tuple:
            return jvp(tangents, ans, *args, **params)
        out = None
        for i, t in enumerate(tangents):
            if t is not None:
                c = jvp[i](t, ans, *args, **params)
                out = c if out is None else out + c
        return out


OPS = {}          # op name -> Op, in the order of the table
BY_CODE = {}      # op code -> Op
FUNCTIONS = {}    # public name -> the Op it makes (the ops that have a public function)


def register(op):
    """Add ``op`` to the table (names and codes must be new)."""
    if op.name in OPS:
        raise ValueError(f"op table: {op.name!r} is already registered")
    if op.code is not None:
        if OP_NAMES.get(op.code) != op.name:
            raise ValueError(f"op table: {op.name!r} has code {op.code}, which the op codes "
                             f"call {OP_NAMES.get(op.code)!r}")
        BY_CODE[op.code] = op
    OPS[op.name] = op
    if op.function is not None:
        FUNCTIONS[op.function] = op
    return op


# ---------------------------------------------------------------- backends

def backend_of(*xs):
    """The backend of the first Tensor among ``xs`` (lists searched too), else the active one."""
    for x in xs:
        bk = getattr(type(x), "_backend", None)
        if bk is not None:
            return bk
        if type(x) in (list, tuple):
            for item in x:
                bk = getattr(type(item), "_backend", None)
                if bk is not None:
                    return bk
    return _backend.active


def kernel(module, attr, unary=False):
    """The backend function ``module.attr`` of the arguments' backend, as one function.
    ``unary``: only the first argument can be a Tensor (the rest are shapes, axes, indices),
    so its class alone picks the function."""
    by_backend = {}  # backend -> its function (looked up once)
    # the first argument's Tensor class -> the function of its backend (the usual call: the
    # rules run this for every op they record, so it skips the search below)
    by_type = {}

    def run_unary(x, *args, **kwargs):
        fn = by_type.get(type(x))
        if fn is not None:
            return fn(x, *args, **kwargs)
        return run(x, *args, **kwargs)

    def run(*args, **kwargs):
        if args:
            fn = by_type.get(type(args[0]))
            if fn is not None:
                for a in args[1:]:
                    if _complex_class(type(a)):
                        break
                else:
                    return fn(*args, **kwargs)
        bk = getattr(type(args[0]), "_backend", None) if args else None
        first = bk
        if bk is None:
            bk = backend_of(*args)
        for a in args[1:]:  # a complex Tensor among the operands: the complex path
            other = getattr(type(a), "_backend", None)
            if other is not None and other is not bk and hasattr(other, "real_backend"):
                bk = other
                break
        fn = by_backend.get(bk)
        if fn is None:
            fn = by_backend[bk] = getattr(getattr(bk, module), attr)
        if bk is first:
            by_type[type(args[0])] = fn
        return fn(*args, **kwargs)
    run.__name__ = run_unary.__name__ = attr
    return run_unary if unary else run


_COMPLEX_CLASSES = {}  # type -> True for a Tensor class of a complex backend


def _complex_class(t):
    """True when ``t`` is the Tensor class of a complex backend (one with ``real_backend``)."""
    known = _COMPLEX_CLASSES.get(t)
    if known is None:
        bk = getattr(t, "_backend", None)
        known = _COMPLEX_CLASSES[t] = bk is not None and hasattr(bk, "real_backend")
    return known


# ---------------------------------------------------------------- ops without a kernel

class TableCall:
    """The saved context of a node made by an entry without a compiled kernel (recorded on
    OP_CUSTOM). Called with ``g`` by the first-order sweep, it runs the entry's VJP on
    constants and gives numpy contributions; the recorded path reads ``op`` and ``params``."""

    __slots__ = ("ans", "args", "bk", "op", "params")

    def __init__(self, op, params, args, ans, bk):
        self.op = op
        self.params = params
        self.args = args   # the arguments' arrays
        self.ans = ans     # the output's array
        self.bk = bk       # the backend the node lives on

    def __call__(self, g):
        from .. import engine
        previous = engine._set_grad_enabled(False)
        try:
            new = self.bk.node.new_node
            args = [new(a, False) for a in self.args]
            ans = new(self.ans, False)
            g = new(np.asarray(g), False)
            if COMPLEX in (g.data.dtype.kind, ans.data.dtype.kind) or any(
                    a.dtype.kind == COMPLEX for a in self.args):
                from .complex_ops import promote  # complex values: their Tensor class
                args, ans, g = [promote(a) for a in args], promote(ans), promote(g)
            out = []
            for i in range(len(args)):
                c = self.op.vjp_of(i, g, ans, args, self.params)
                if c is not None:
                    c = np.asarray(getattr(c, "data", c))
                    if c.dtype.kind == COMPLEX and self.args[i].dtype.kind != COMPLEX:
                        c = c.real  # a real input gets the real part (autograd's convention)
                out.append(c)
            return out
        finally:
            engine._set_grad_enabled(previous)


FLOAT_TYPES = (np.dtype(np.float32), np.dtype(np.float64))
COMPLEX = "c"  # numpy's dtype kind of complex64/complex128


def call_python_op(op, args, params):
    """Run entry ``op`` (no compiled kernel) on ``args``: its numpy forward; an OP_CUSTOM node
    when an argument is a Tensor that requires grad, a constant Tensor when any is a Tensor,
    plain numpy otherwise."""
    bk = None
    for a in args:
        bk = getattr(type(a), "_backend", None)
        if bk is not None:
            break
    if bk is None:
        return op.forward(*args, **params)
    for a in args:
        if np.asarray(getattr(a, "data", a)).dtype.kind == COMPLEX:
            from .complex_ops import call  # complex operands: complex Tensors
            return call(op, args, params, bk=bk)
    nd = bk.node
    nodes = []
    dtype = None
    for a in args:
        if isinstance(a, nd.Node):
            dtype = a.data.dtype
            break
    for a in args:
        if isinstance(a, nd.Node):
            nodes.append(a)
        else:
            nodes.append(nd.as_constant(a, dtype, op.name))
    arrays = [n.data for n in nodes]
    data = np.asarray(op.forward(*arrays, **params))
    if data.dtype.kind == COMPLEX:  # a complex result of real operands (an fft)
        from .complex_ops import call
        return call(op, nodes, params, data=data, bk=bk)
    if data.dtype not in FLOAT_TYPES:
        data = data.astype(dtype)
    ctx = TableCall(op, params, arrays, data, bk)
    return nd.make_result(data, OP_CUSTOM, tuple(nodes), ctx)


def python_function(op):
    """The public function of an entry without a compiled kernel: ``op.nargs`` array
    arguments, then its parameters (``op.param_names``, positional or keyword)."""
    n = op.nargs
    names = op.param_names

    def f(*args, **params):
        if len(args) > n + len(names):
            raise TypeError(f"{op.function}: takes {n} array argument(s) and the parameters "
                            f"{names}, got {len(args)} positional arguments")
        for name, value in zip(names, args[n:]):
            if name in params:
                raise TypeError(f"{op.function}: got two values for {name!r}")
            params[name] = value
        for name in params:
            if name not in names:
                raise TypeError(f"{op.function}: unexpected argument {name!r}")
        return call_python_op(op, args[:n], params)
    f.__name__ = f.__qualname__ = op.function
    f.__doc__ = op.doc
    return f
