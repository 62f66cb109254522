"""fastgrad.nn on Tensors: Linear, activations, Sequential, mlp, initialisers, state dicts."""
import math

import numpy as np
import pytest

from fastgrad import nn
from fastgrad.nn import init


def test_linear_shapes_parameters_and_forward(fg):
    layer = nn.Linear(3, 5, activation="tanh", rng=0, backend=fg.name)
    assert [(name, p.shape) for name, p in layer.named_parameters()] == \
        [("weight", (3, 5)), ("bias", (5,))]
    assert all(p.requires_grad and p.is_leaf for p in layer.parameters())
    assert type(layer.weight) is fg.Tensor
    np.testing.assert_array_equal(layer.bias.data, 0)
    x = np.random.default_rng(1).standard_normal((4, 3))
    y = layer(x)
    assert y.op == "dense" and y.shape == (4, 5)
    np.testing.assert_allclose(y.data, np.tanh(x @ layer.weight.data + layer.bias.data),
                               rtol=1e-13)
    y.sum().backward()
    assert layer.weight.grad.shape == (3, 5) and layer.bias.grad.shape == (5,)
    layer.zero_grad()
    assert layer.weight.grad is None and layer.bias.grad is None


def test_linear_options(fg):
    layer = nn.Linear(4, 2, bias=False, dtype=np.float32, backend=fg.name)
    assert layer.bias is None and [n for n, _ in layer.named_parameters()] == ["weight"]
    assert layer.weight.dtype == np.float32
    assert layer(np.ones((3, 4))).dtype == np.float32
    assert repr(layer) == "Linear(4, 2, bias=False, dtype=float32)"
    with pytest.raises(ValueError, match="Linear: unknown activation 'gelu'"):
        nn.Linear(2, 2, activation="gelu")
    with pytest.raises(ValueError, match="Linear: in_features must be a positive integer"):
        nn.Linear(0, 2)
    with pytest.raises(TypeError, match="Linear: dtype must be float32 or float64"):
        nn.Linear(2, 2, dtype=np.int32)
    with pytest.raises(ValueError, match="Linear: unknown init 'orthogonal'"):
        nn.Linear(2, 2, init="orthogonal")


def test_default_initialisers_and_bounds():
    he = nn.Linear(200, 300, activation="relu", rng=0)
    xavier = nn.Linear(200, 300, activation="tanh", rng=0)
    torchlike = nn.Linear(200, 300, init="uniform", rng=0)
    for layer, bound in ((he, math.sqrt(6 / 200)), (xavier, math.sqrt(6 / 500)),
                         (torchlike, 1 / math.sqrt(200))):
        W = layer.weight.data
        assert np.abs(W).max() <= bound
        assert np.abs(W).max() > 0.98 * bound          # the whole range is used
        assert abs(W.std() - bound / math.sqrt(3)) < 0.02 * bound   # the std of U(-a, a)
    normal = nn.Linear(400, 100, init="he_normal", rng=0).weight.data
    assert abs(normal.std() - math.sqrt(2 / 400)) < 0.02 * math.sqrt(2 / 400)
    glorot = nn.Linear(400, 100, init="xavier_normal", rng=0).weight.data
    assert abs(glorot.std() - math.sqrt(2 / 500)) < 0.02 * math.sqrt(2 / 500)
    custom = nn.Linear(2, 3, init=lambda w, rng: init.uniform_(w, 5.0, 6.0, rng))
    assert custom.weight.data.min() >= 5.0


def test_initialisers_are_seedable():
    a = nn.Linear(8, 8, rng=42).weight.data
    assert np.array_equal(a, nn.Linear(8, 8, rng=42).weight.data)
    assert not np.array_equal(a, nn.Linear(8, 8, rng=43).weight.data)
    init.manual_seed(7)
    b = nn.Linear(8, 8).weight.data.copy()
    init.manual_seed(7)
    assert np.array_equal(b, nn.Linear(8, 8).weight.data)
    assert np.array_equal(nn.mlp([3, 4, 2], seed=1)[1].weight.data,
                          nn.mlp([3, 4, 2], seed=1)[1].weight.data)
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.fans((3, 7)) == (3, 7)


def test_sequential_names_and_fuses_activation_layers(fg):
    x = np.random.default_rng(0).standard_normal((5, 3))
    model = nn.Sequential(nn.Linear(3, 4, rng=0, backend=fg.name), nn.Tanh(),
                          nn.Linear(4, 2, rng=1, backend=fg.name), nn.Sigmoid())
    assert [n for n, _ in model.named_parameters()] == \
        ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(model) == 4 and isinstance(model[1], nn.Tanh)
    out = model(x)
    assert out.op == "dense" and out._prev[0].op == "dense"   # two fused nodes, nothing else
    W0, b0, W2, b2 = (p.data for p in model.parameters())
    np.testing.assert_allclose(out.data, 1 / (1 + np.exp(-(np.tanh(x @ W0 + b0) @ W2 + b2))),
                               rtol=1e-12)
    # an activation on its own (not after a Linear) is its elementwise op
    assert nn.Sequential(nn.ReLU())(fg.Tensor(x, requires_grad=True)).op == "relu"


def test_mlp_factory(fg):
    model = nn.mlp([64, 32, 16, 10], activation="relu", seed=0, backend=fg.name)
    assert isinstance(model, nn.Sequential) and len(model) == 3
    assert [layer.activation for layer in model] == ["relu", "relu", None]
    assert [p.shape for p in model.parameters()] == \
        [(64, 32), (32,), (32, 16), (16,), (16, 10), (10,)]
    out = model(np.ones((7, 64)))
    assert out.shape == (7, 10)
    assert nn.mlp([2, 1], output_activation="sigmoid")[0].activation == "sigmoid"
    with pytest.raises(ValueError, match="mlp: sizes must list at least"):
        nn.mlp([3])
    with pytest.raises(ValueError, match="mlp: unknown activation"):
        nn.mlp([3, 2], activation="swish")


def test_state_dict_round_trip(fg):
    a = nn.mlp([3, 4, 2], seed=0, backend=fg.name)
    b = nn.mlp([3, 4, 2], seed=1, backend=fg.name)
    state = a.state_dict()
    assert set(state) == {"0.weight", "0.bias", "1.weight", "1.bias"}
    b.load_state_dict(state)
    x = np.ones((2, 3))
    np.testing.assert_array_equal(a(x).data, b(x).data)
    state["0.weight"][...] = 0        # a copy: the model is unchanged
    assert np.any(a[0].weight.data != 0)


def test_loss_modules_and_functional(fg):
    z = fg.Tensor(np.random.default_rng(0).standard_normal((4, 3)), requires_grad=True)
    y = np.array([0, 2, 1, 1])
    ce = nn.CrossEntropyLoss()(z, y)
    assert ce.op == "softmax_ce"
    assert ce.item() == nn.functional.cross_entropy(z, y).item()
    assert nn.CrossEntropyLoss(reduction="sum")(z, y).item() == pytest.approx(4 * ce.item())
    assert nn.MSELoss()(z, np.zeros((4, 3))).op == "mse"
    assert nn.HingeLoss()(z, np.ones((4, 3))).op == "hinge"
    assert nn.BCEWithLogitsLoss()(z, np.ones((4, 3))).op == "bce_logits"
    assert nn.functional.dense(z, np.ones((3, 2)), None, "relu").op == "dense"
    with pytest.raises(ValueError, match="CrossEntropyLoss: reduction must be"):
        nn.CrossEntropyLoss(reduction="avg")
