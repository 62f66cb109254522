"""The scalar engine's op codes and labels, and its create_graph backward, for both backends.

The compiled engine (csrc/scalar.pyx) keeps the same codes as a C enum (a test checks them
against OPCODES); the twin (fastgrad/_py/scalar.py) imports them from here.

``backward_with_graph`` is Value.backward(create_graph=True) on either engine: the derivative
rules below are written in Value arithmetic, so each gradient it builds is itself a Value graph
that backward() can differentiate again, to any order. First-order backward() never comes here:
it stays each engine's own sweep over C doubles (or floats).
"""
import math

# Op codes: up to LAST_BINARY two parents (_a, _b), up to LAST_UNARY one (_a).
LEAF = 0
ADD = 1          # a + b
MUL = 2          # a * b
POW = 3          # a ** b
LAST_BINARY = 3
ADDC = 4         # a + c
MULC = 5         # a * c
POWC = 6         # a ** c
RPOWC = 7        # c ** a
RELU = 8
TANH = 9
EXP = 10
LOG = 11
SIGMOID = 12
LAST_UNARY = 12
NEURON_RELU = 13    # relu(b + w0*x0 + ...): _a = (w0, ..., b), _b = (x0, ...)
NEURON_LINEAR = 14  # b + w0*x0 + ...
CUSTOM = 15         # Value(data, _children, _op): _a = children, _b = label; no gradient

OPCODES = {"LEAF": LEAF, "ADD": ADD, "MUL": MUL, "POW": POW, "ADDC": ADDC, "MULC": MULC,
           "POWC": POWC, "RPOWC": RPOWC, "RELU": RELU, "TANH": TANH, "EXP": EXP, "LOG": LOG,
           "SIGMOID": SIGMOID, "NEURON_RELU": NEURON_RELU, "NEURON_LINEAR": NEURON_LINEAR,
           "CUSTOM": CUSTOM}
LABELS = {LEAF: "", ADD: "+", MUL: "*", POW: "**", ADDC: "+", MULC: "*", RELU: "ReLU",
          TANH: "tanh", EXP: "exp", LOG: "log", SIGMOID: "sigmoid",
          NEURON_RELU: "ReLU(b+w*x)", NEURON_LINEAR: "b+w*x"}

WHERE = "Value.backward(create_graph=True)"


def backward_with_graph(root, engine):
    """Value.backward(create_graph=True) on ``root``, for ``engine`` (the scalar module).

    Every leaf of root's graph gets d root/d leaf added to its grad as a Value (a graph over
    the same nodes, so it differentiates again), as PyTorch does. Interior nodes' grads are
    left as they are: the gradient's graph reuses them, and micrograd's first-order rule (each
    node passes on its accumulated grad) would count a number left there again when that
    graph is differentiated; for the same reason what flows here is this call's d root/d node
    only, never an interior node's earlier grad."""
    _refuse_inside_no_grad()
    parts = engine.node_parts
    if parts(root)[0] == LEAF:
        root.grad = engine.Value(1.0)
        return
    pending = {id(root): 1.0}   # d root / d node, summed over the consumers swept so far
    leaves = {}
    for v in engine.graph_order(root):   # every consumer of a node comes before it
        g = pending.pop(id(v))
        code, a, b, c = parts(v)
        for parent, contribution in _contributions(v, code, a, b, c, g):
            key = id(parent)
            if key in pending:
                pending[key] = pending[key] + contribution
            else:
                pending[key] = contribution
            if parts(parent)[0] == LEAF:
                leaves[key] = parent
    for key, leaf in leaves.items():
        g = pending[key]
        if not isinstance(g, engine.Value):
            g = engine.Value(g)   # a constant: its own derivative is 0
        old = leaf.grad
        leaf.grad = g if not isinstance(old, engine.Value) and old == 0 else old + g


def _refuse_inside_no_grad():
    from fastgrad import engine  # the Tensor engine's grad mode (imported late: no cycle)
    if not engine.is_grad_enabled():
        raise RuntimeError(f"{WHERE} inside no_grad(): a gradient with a graph is recorded "
                           f"differentiation, which no_grad() turns off; leave the no_grad() "
                           f"block (or call backward() without create_graph)")


def _mask(v):
    """relu's derivative at v's input, a constant (relu'' is 0 where it exists)."""
    return 1.0 if v.data > 0 else 0.0


def _contributions(v, code, a, b, c, g):
    """(parent, g * d v / d parent) pairs, each in Value arithmetic so that it differentiates
    again; ``a``, ``b``, ``c`` are v's parents and constant as node_parts gives them."""
    if code == ADD:
        return ((a, g), (b, g))
    if code == MUL:
        return ((a, g * b), (b, g * a))
    if code == ADDC:
        return ((a, g),)
    if code == MULC:
        return ((a, g * c),)
    if code == TANH:
        return ((a, g * (1.0 - v * v)),)
    if code == RELU:
        return ((a, g * _mask(v)),)
    if code == EXP:
        return ((a, g * v),)
    if code == LOG:
        return ((a, g * a ** -1.0),)
    if code == SIGMOID:
        return ((a, g * (v * (1.0 - v))),)
    if code == POWC:
        return ((a, g * (c * _power(a, c - 1.0, v))),)
    if code == RPOWC:
        return ((a, g * _exponent_derivative(c, v)),)
    if code == POW:
        return ((a, g * (b * _power(a, b - 1.0, v))), (b, g * _exponent_derivative(a, v)))
    if code == NEURON_RELU or code == NEURON_LINEAR:
        h = g * _mask(v) if code == NEURON_RELU else g
        pairs = [(a[-1], h)]
        for w, x in zip(a[:-1], b):
            pairs.append((w, h * x))
            pairs.append((x, h * w))
        return pairs
    if code == CUSTOM:
        raise NotImplementedError(
            f"{WHERE}: the node {b!r} was made with Value(data, _children, _op) and has no "
            f"derivative rule, so its parents' gradients would be silently 0; build it from "
            f"Value operations instead")
    raise AssertionError(f"{WHERE}: unknown op code {code}")


def _power(x, p, v):
    """x ** p as a Value (p a number or a Value), for a ** p's derivative; v names the op."""
    if type(p) is float and p == 0.0:
        return 1.0   # x ** 0 is 1 everywhere, 0 ** 0 included: no x ** -1 in its derivative
    try:
        return x ** p
    except (ZeroDivisionError, ValueError) as e:
        raise ValueError(f"{WHERE}: the derivative of {v._op!r} at base {x.data!r} is not a "
                         f"finite real number ({e})") from None


def _exponent_derivative(base, power):
    """d(base**y)/dy = log(base) * base**y (``power`` is the node base**y); 0 at base 0 (as
    first-order backward, and PyTorch), NaN for a negative base."""
    x = base if type(base) is float else base.data
    if x == 0.0:
        return 0.0
    if x < 0.0 or math.isnan(x):
        return math.nan
    if type(base) is float:
        return math.log(base) * power
    return base.log() * power
