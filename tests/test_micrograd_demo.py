"""micrograd's demo and nn classes, with only the imports changed: micrograd's numbers."""
import random

import numpy as np
import pytest

from value_helpers import (  # noqa: F401  (sv, engines: fixtures)
    demo_loss, demo_model, engines, make_moons, moons, run_demo, sv)

# micrograd's demo.ipynb, printed by micrograd itself
STEP_0_LOSS = 0.8958441028683222
STEP_99_LOSS = 0.010978370135492717


def test_demo_gives_micrograds_losses(sv):
    X, y = moons()
    model = demo_model(sv.MLP)
    history = list(run_demo(sv.Value, model, X, y, steps=100))
    assert abs(history[0][0] - STEP_0_LOSS) <= 1e-9
    assert abs(history[99][0] - STEP_99_LOSS) <= 1e-9
    assert history[99][1] == 1.0
    final_loss, final_acc = demo_loss(sv.Value, model, X, y)
    assert final_acc == 1.0


def test_demo_with_only_the_imports_changed():
    """The demo on the public names: from fastgrad import Value; from fastgrad.nn import MLP."""
    from fastgrad import Value
    from fastgrad.nn import MLP
    X, y = moons()
    history = list(run_demo(Value, demo_model(MLP), X, y, steps=100))
    assert abs(history[0][0] - STEP_0_LOSS) <= 1e-9
    assert abs(history[99][0] - STEP_99_LOSS) <= 1e-9
    assert history[99][1] == 1.0


def test_moons_generator_is_sklearns():
    datasets = pytest.importorskip("sklearn.datasets")
    for seed, n, noise in [(1337, 100, 0.1), (0, 7, 0.3), (5, 64, None)]:
        np.random.seed(seed)
        want_X, want_y = datasets.make_moons(n_samples=n, noise=noise)
        np.random.seed(seed)
        got_X, got_y = make_moons(n_samples=n, noise=noise)
        np.testing.assert_array_equal(got_y, want_y)
        np.testing.assert_array_equal(got_X, want_X)


def test_same_seed_builds_micrograds_model(sv):
    nn = pytest.importorskip("micrograd.nn")
    random.seed(3)
    theirs = nn.MLP(3, [4, 4, 2])
    random.seed(3)
    ours = sv.MLP(3, [4, 4, 2])
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]
    assert repr(ours) == repr(theirs)
    assert len(ours.parameters()) == len(theirs.parameters()) == 4 * 4 + 5 * 4 + 5 * 2


def test_demo_steps_match_micrograd(sv):
    """A few training steps against micrograd itself (installed): every loss and parameter."""
    engine = pytest.importorskip("micrograd.engine")
    nn = pytest.importorskip("micrograd.nn")
    X, y = moons()
    X, y = X[:30], y[:30]
    theirs = demo_model(nn.MLP)
    ours = demo_model(sv.MLP)
    for (their_loss, their_acc), (our_loss, our_acc) in zip(
            run_demo(engine.Value, theirs, X, y, steps=3), run_demo(sv.Value, ours, X, y, 3)):
        assert our_loss == pytest.approx(their_loss, rel=1e-13, abs=1e-15)
        assert our_acc == their_acc
        np.testing.assert_allclose([p.data for p in ours.parameters()],
                                   [p.data for p in theirs.parameters()], rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose([p.grad for p in ours.parameters()],
                                   [p.grad for p in theirs.parameters()], rtol=1e-12, atol=1e-14)


def plain_neuron_class(Neuron):
    """A Neuron running micrograd's own __call__ on Values, unfused (one node per op)."""
    class PlainNeuron(Neuron):
        def __call__(self, x):
            act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
            return act.relu() if self.nonlin else act
    return PlainNeuron


def test_fused_neuron_matches_micrograds_arithmetic(sv):
    """The fused neuron against micrograd's arithmetic on the same Values: the same forward
    numbers bit for bit, the same gradients (summed in another order: to 1e-13)."""
    X, y = moons()
    fused = demo_model(sv.MLP)
    layer = type("PlainLayer", (sv.Layer,), {"neuron": plain_neuron_class(sv.Neuron)})
    plain = demo_model(type("PlainMLP", (sv.MLP,), {"layer": layer}))
    for model in (fused, plain):
        model.loss, _ = demo_loss(sv.Value, model, X, y)
        model.loss.backward()
    assert type(fused.layers[0](X[0].tolist())[0]).__name__ == "NeuronValue"
    assert type(plain.layers[0](X[0].tolist())[0]).__name__ == "Value"
    assert fused.loss.data == plain.loss.data
    np.testing.assert_allclose([p.grad for p in fused.parameters()],
                               [p.grad for p in plain.parameters()], rtol=1e-13, atol=1e-16)


def test_backward_twice_through_mlp_as_micrograd(sv):
    """micrograd lets backward() run twice on one graph: the hidden nodes' grads accumulate
    too, and the fused neuron replays them (micrograd's nodes, to 1e-12)."""
    engine = pytest.importorskip("micrograd.engine")
    nn = pytest.importorskip("micrograd.nn")
    random.seed(11)
    theirs = nn.MLP(3, [5, 4, 1])
    random.seed(11)
    ours = sv.MLP(3, [5, 4, 1])
    rows = [[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]
    for model, Value in ((theirs, engine.Value), (ours, sv.Value)):
        xs = [[Value(v) for v in row] for row in rows]
        out = sum((model(x) ** 2 for x in xs), Value(0.0))
        for _ in range(3):
            out.backward()
        model.xs = xs
    np.testing.assert_allclose([p.grad for p in ours.parameters()],
                               [p.grad for p in theirs.parameters()], rtol=1e-12)
    np.testing.assert_allclose([x.grad for row in ours.xs for x in row],
                               [x.grad for row in theirs.xs for x in row], rtol=1e-12)


@pytest.mark.parametrize("nonlin", [True, False])
def test_neuron_calls_like_micrograd(sv, nonlin):
    """Inputs as Values, numbers, a tuple; fewer or more than nin are refused (micrograd's zip
    stops at the shorter: fastgrad is stricter there, see the README)."""
    mg = pytest.importorskip("micrograd.nn")
    for x in ([2.0], [1.0, 2.0, 3.0, 4.0], []):
        with pytest.raises(ValueError, match=f"Neuron: expected 3 inputs .*got {len(x)}"):
            sv.Neuron(3, nonlin=nonlin)(x)
    for x in ([0.5, -2.0, 3.0], (1.0, 2.0, 3.0)):
        random.seed(5)
        theirs = mg.Neuron(3, nonlin=nonlin)
        random.seed(5)
        ours = sv.Neuron(3, nonlin=nonlin)
        their_out = theirs(x)
        our_out = ours(x if len(x) != 3 else [sv.Value(v) for v in x])
        assert our_out.data == their_out.data
        our_out.backward()
        their_out.backward()
        assert [p.grad for p in ours.parameters()] == [p.grad for p in theirs.parameters()]
    assert repr(ours) == repr(theirs)


def test_layer_returns_a_value_or_a_list(sv):
    random.seed(0)
    one = sv.Layer(2, 1)
    many = sv.Layer(2, 3, nonlin=False)
    assert isinstance(one([1.0, 2.0]), sv.Value)
    out = many([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 3
    assert all(isinstance(v, sv.Value) for v in out)
    assert repr(many) == "Layer of [LinearNeuron(2), LinearNeuron(2), LinearNeuron(2)]"


def test_layer_calls_an_overridden_neuron_call(sv):
    calls = []

    class Counting(sv.Neuron):
        def __call__(self, x):
            calls.append(len(x))
            return super().__call__(x)

    layer = type("CountingLayer", (sv.Layer,), {"neuron": Counting})(3, 4)
    out = layer([1.0, 2.0, 3.0])
    assert calls == [3, 3, 3, 3] and len(out) == 4


def test_layer_with_a_generator_input_follows_micrograd(sv):
    """micrograd's Layer hands the same iterator to each neuron: the first one consumes it."""
    random.seed(2)
    layer = sv.Layer(2, 2, nonlin=False)
    out = layer(v for v in [1.0, 2.0])
    w = layer.neurons[0].w
    assert out[0].data == (0.0 + w[0].data * 1.0) + w[1].data * 2.0
    assert out[1] is layer.neurons[1].b  # sum() over nothing is its start, b itself


def test_module_api(sv):
    random.seed(1)
    model = sv.MLP(2, (3, 1))
    params = model.parameters()
    assert len(params) == 3 * 3 + 4
    out = model([1.0, -1.0])
    out.backward()
    assert any(p.grad != 0.0 for p in params)
    model.zero_grad()
    assert all(p.grad == 0.0 for p in params)
    named = dict(model.named_parameters())
    assert len(named) == len(params) and named["layers.0.neurons.0.b"] is params[2]
    state = model.state_dict()
    for p in params:
        p.data += 1.0
    model.load_state_dict(state)
    assert [p.data for p in params] == [float(v) for v in state.values()]


def test_weights_can_be_replaced_between_calls(sv):
    """A layer re-reads each neuron's w and b at every call (its cache follows them)."""
    random.seed(4)
    layer = sv.Layer(2, 2)
    first = layer([1.0, 1.0])
    neuron = layer.neurons[0]
    assert first[0].data == max(0.0, (0.0 + neuron.w[0].data) + neuron.w[1].data)
    old = neuron.w + [neuron.b]
    neuron.w = [sv.Value(1.0), sv.Value(2.0)]
    neuron.b = sv.Value(0.5)
    assert layer([1.0, 1.0])[0].data == 3.5
    neuron.w[1] = sv.Value(-2.0)
    out = layer([1.0, 1.0])
    assert out[0].data == 0.0
    neuron.w.append(sv.Value(7.0))  # micrograd's zip(w, x) would stop at two inputs
    with pytest.raises(ValueError, match="Layer: expected 3 inputs"):
        layer([1.0, 3.0])
    layer.neurons[1].w.append(sv.Value(0.0))
    out = layer([1.0, 1.0, 1.0])[0]
    assert out.data == 6.5
    out.backward()
    assert [w.grad for w in neuron.w] == [1.0, 1.0, 1.0] and neuron.b.grad == 1.0
    assert set(old) <= first[0]._prev  # the first graph keeps the weights it was built on


def test_models_deepcopy(sv):
    import copy
    random.seed(8)
    model = sv.MLP(2, [4, 1])
    x = [0.3, -0.7]
    want = model(x).data  # fills the layers' caches
    clone = copy.deepcopy(model)
    assert clone(x).data == want
    assert all(p is not q for p, q in zip(clone.parameters(), model.parameters()))
    clone.layers[1].neurons[0].b.data += 1.0  # the clone's own parameter, not the model's
    assert clone(x).data == pytest.approx(want + 1.0) and model(x).data == want


def test_models_pickle():
    import pickle

    from fastgrad.nn import MLP
    random.seed(8)
    model = MLP(2, [4, 1])
    x = [0.3, -0.7]
    want = model(x).data
    clone = pickle.loads(pickle.dumps(model))
    assert type(clone) is MLP and clone(x).data == want
    assert [p.data for p in clone.parameters()] == [p.data for p in model.parameters()]
