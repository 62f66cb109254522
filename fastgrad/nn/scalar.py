"""micrograd's models on fastgrad's Value: Neuron, Layer, MLP.

Same constructors, same layout (ReLU hidden layers, linear output), same initialisation (weights
``random.uniform(-1, 1)`` from Python's ``random`` module in micrograd's order, biases 0), so
``random.seed(s)`` builds the model micrograd builds, and calling it gives micrograd's numbers.

One thing differs inside: a neuron's output relu(b + w0*x0 + w1*x1 + ...) is one compiled node
(a fused neuron) instead of micrograd's 3n + 1 nodes. It sums in micrograd's order,
((b + w0*x0) + w1*x1) + ..., so its value is micrograd's bit for bit, and each gradient
contribution it passes on is the number micrograd's nodes pass on. (Where a node has several
consumers, their contributions may be added in another order: micrograd's follows Python's set
order, so the last bits can differ.) The fused neuron is what makes a training step thousands
of times faster. A subclass that overrides ``__call__`` gets its own ``__call__``, unfused.
"""
import random

from .._backend import active
from .module import Module


def check_size(n, what, where):
    """``n`` must be a count >= 1 (micrograd takes any; a negative one made an empty layer)."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"{where}: {what} must be an integer >= 1, got {n!r}")


def check_inputs(x, nin, model):
    """``x`` must hold one input per weight (micrograd's zip drops or ignores the rest)."""
    if hasattr(x, "__len__"):
        n = len(x)
    elif hasattr(x, "__iter__"):
        return  # an iterator: its length is unknown until consumed (micrograd takes them)
    else:
        n = 1   # one Value or number
    if n != nin:
        raise ValueError(f"{type(model).__name__}: expected {nin} input{'s' if nin != 1 else ''} (one per "
                         f"weight), got {n}")


class Neuron(Module):
    """relu(b + w . x) (or b + w . x when ``nonlin`` is false), micrograd's Neuron."""

    engine = active.scalar  # the scalar engine (compiled, or its twin) whose Values it holds

    def __init__(self, nin, nonlin=True):
        check_size(nin, "nin", "Neuron")
        Value = self.engine.Value
        self.w = [Value(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = Value(0)
        self.nonlin = nonlin

    def __call__(self, x):
        check_inputs(x, len(self.w), self)
        return self.engine.neuron_forward(self.w, self.b, x, self.nonlin)

    def parameters(self):
        return self.w + [self.b]

    def __repr__(self):
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):
    """``nout`` neurons on the same inputs; one output is returned as a Value, more as a list."""

    neuron = Neuron  # the class of its neurons

    def __init__(self, nin, nout, **kwargs):
        check_size(nin, "nin", "Layer")
        check_size(nout, "nout", "Layer")
        self.neurons = [self.neuron(nin, **kwargs) for _ in range(nout)]
        self._packs = []  # each neuron's (w..., b), reused by its fused nodes while unchanged

    def __call__(self, x):
        for n in self.neurons:
            check_inputs(x, len(n.w), self)
        out = self.neuron.engine.layer_forward(self.neurons, x, Neuron.__call__, self._packs)
        return out[0] if len(out) == 1 else out

    def parameters(self):
        return [p for n in self.neurons for p in n.parameters()]

    def __repr__(self):
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """Layers of sizes ``nouts`` on ``nin`` inputs: ReLU hidden layers, a linear output layer."""

    layer = Layer  # the class of its layers

    def __init__(self, nin, nouts):
        check_size(nin, "nin", "MLP")
        try:
            nouts = list(nouts)
        except TypeError:
            raise TypeError(f"MLP: nouts must be a list of layer sizes, got {nouts!r}") from None
        if not nouts:
            raise ValueError("MLP: nouts must name at least one layer size, got []")
        for i, n in enumerate(nouts):
            check_size(n, f"the size of layer {i} (nouts[{i}])", "MLP")
        sz = [nin] + nouts
        self.layers = [self.layer(sz[i], sz[i + 1], nonlin=i != len(nouts) - 1)
                       for i in range(len(nouts))]

    def __call__(self, x):
        check_inputs(x, len(self.layers[0].neurons[0].w), self)
        for layer in self.layers:
            x = layer(x)
        return x

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def __repr__(self):
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


def on_engine(engine):
    """(Neuron, Layer, MLP) classes whose Values are ``engine``'s (fastgrad._py.scalar or
    fastgrad._cy.scalar): the tests run both engines in one process."""
    neuron = type("Neuron", (Neuron,), {"engine": engine})
    layer = type("Layer", (Layer,), {"neuron": neuron})
    mlp = type("MLP", (MLP,), {"layer": layer})
    return neuron, layer, mlp
