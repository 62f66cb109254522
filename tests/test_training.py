"""fit / predict / evaluate, and the digits accuracy of a 64-64-10 MLP trained by fit()."""
import numpy as np
import pytest

import fastgrad
from fastgrad import nn, optim


def blobs(n=120, seed=0):
    """Three well separated Gaussian blobs in 2-D: (X, labels)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    centers = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    return centers[labels] + 0.5 * rng.standard_normal((n, 2)), labels


def test_fit_trains_and_returns_the_history(fg):
    X, y = blobs()
    model = nn.mlp([2, 16, 3], seed=0, backend=fg.name)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    history = fastgrad.fit(model, X, y, nn.CrossEntropyLoss(), opt, epochs=15, batch_size=16,
                           seed=0, progress=False)
    assert list(history) == ["loss"] and len(history["loss"]) == 15
    assert history["loss"][-1] < 0.2 * history["loss"][0]
    assert opt.steps == 15 * 8                         # ceil(120 / 16) batches per epoch
    # the loss after training is close to the last epoch's mean (taken while it trained)
    scores = fastgrad.evaluate(model, X, y, "cross_entropy")
    assert scores["accuracy"] == 1.0
    assert scores["loss"] == pytest.approx(history["loss"][-1], rel=0.5)


def test_fit_is_reproducible_from_its_seed(fg):
    X, y = blobs()

    def train(seed):
        model = nn.mlp([2, 8, 3], seed=0, backend=fg.name)
        opt = optim.Adam(model.parameters(), lr=0.01)
        history = fastgrad.fit(model, X, y, "cross_entropy", opt, epochs=3, batch_size=10,
                               seed=seed, progress=False)
        return history["loss"], model.state_dict()

    (h1, s1), (h2, s2), (h3, _) = train(5), train(5), train(6)
    assert h1 == h2 and all(np.array_equal(s1[k], s2[k]) for k in s1)
    assert h1 != h3
    # without shuffling the order is the data's: the seed makes no difference
    model_a = nn.mlp([2, 8, 3], seed=0, backend=fg.name)
    model_b = nn.mlp([2, 8, 3], seed=0, backend=fg.name)
    ha = fastgrad.fit(model_a, X, y, "cross_entropy", optim.SGD(model_a.parameters(), lr=0.1),
                      epochs=2, batch_size=10, shuffle=False, seed=1, progress=False)
    hb = fastgrad.fit(model_b, X, y, "cross_entropy", optim.SGD(model_b.parameters(), lr=0.1),
                      epochs=2, batch_size=10, shuffle=False, seed=2, progress=False)
    assert ha == hb


def test_full_batch_and_the_loss_of_each_step(fg):
    """Full batch: one step per epoch, and the history holds exactly each step's loss."""
    X, y = blobs(30)
    model = nn.mlp([2, 4, 3], seed=1, backend=fg.name)
    losses = []
    for _ in range(3):
        losses.append(fastgrad.evaluate(model, X, y, "cross_entropy", metrics=["loss"])["loss"])
        opt = optim.SGD(model.parameters(), lr=0.5)
        fastgrad.fit(model, X, y, "cross_entropy", opt, epochs=1, batch_size=None,
                     progress=False)
    model2 = nn.mlp([2, 4, 3], seed=1, backend=fg.name)
    history = fastgrad.fit(model2, X, y, "cross_entropy", optim.SGD(model2.parameters(), lr=0.5),
                           epochs=3, batch_size=None, progress=False)
    np.testing.assert_allclose(history["loss"], losses, rtol=1e-12)


def test_progress_bar(fg, capsys):
    pytest.importorskip("tqdm")
    X, y = blobs(40)
    model = nn.mlp([2, 4, 3], seed=0, backend=fg.name)
    opt = optim.SGD(model.parameters(), lr=0.1)
    fastgrad.fit(model, X, y, "cross_entropy", opt, epochs=2, batch_size=20, progress=False)
    fastgrad.fit(model, X, y, "cross_entropy", opt, epochs=2, batch_size=20)  # not a terminal
    assert capsys.readouterr().err == ""
    fastgrad.fit(model, X, y, "cross_entropy", opt, epochs=2, batch_size=20, progress=True)
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "loss=" in err and "4/4" in err


def test_predict_and_evaluate(fg):
    X, y = blobs(50)
    model = nn.mlp([2, 6, 3], seed=0, backend=fg.name)
    out = fastgrad.predict(model, X)
    assert isinstance(out, np.ndarray) and out.shape == (50, 3)
    np.testing.assert_allclose(fastgrad.predict(model, X, batch_size=7), out, rtol=1e-13)
    assert all(p.grad is None for p in model.parameters())
    scores = fastgrad.evaluate(model, X, y, "cross_entropy")
    assert set(scores) == {"loss", "accuracy"}
    assert scores["accuracy"] == np.mean(out.argmax(axis=1) == y)
    z = out - out.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    assert scores["loss"] == pytest.approx(-log_p[np.arange(50), y].mean(), rel=1e-12)
    assert fastgrad.evaluate(model, X, y) == {"accuracy": scores["accuracy"]}
    assert fastgrad.evaluate(model, X, np.eye(3)[y])["accuracy"] == scores["accuracy"]


def test_binary_accuracy_and_regression(fg):
    X = np.array([[1.0], [-2.0], [3.0], [-0.5]])
    model = nn.Linear(1, 1, bias=False, backend=fg.name)
    model.weight.data[...] = 1.0                     # scores = x
    assert fastgrad.evaluate(model, X, [1, -1, -1, -1], "hinge")["accuracy"] == 0.75
    assert fastgrad.evaluate(model, X, [1, 0, 1, 1], "bce_with_logits")["accuracy"] == 0.75
    assert set(fastgrad.evaluate(model, X, [1.0, -2.0, 3.0, 0.0], "mse")) == {"loss"}


def test_validation_data(fg):
    X, y = blobs(60)
    model = nn.mlp([2, 8, 3], seed=0, backend=fg.name)
    history = fastgrad.fit(model, X[:40], y[:40], "cross_entropy",
                           optim.Adam(model.parameters(), lr=0.05), epochs=4, batch_size=8,
                           seed=0, progress=False, validation_data=(X[40:], y[40:]))
    assert set(history) == {"loss", "val_loss", "val_accuracy"}
    assert len(history["val_loss"]) == 4 and history["val_accuracy"][-1] >= 0.9


def test_float32_model_and_bad_arguments(fg):
    X, y = blobs(20)
    model = nn.mlp([2, 4, 3], dtype=np.float32, seed=0, backend=fg.name)
    opt = optim.SGD(model.parameters(), lr=0.1)
    fastgrad.fit(model, X, y, "cross_entropy", opt, epochs=1, progress=False)
    assert model[0].weight.dtype == np.float32 and fastgrad.predict(model, X).dtype == np.float32
    with pytest.raises(ValueError, match="fit: 20 inputs but 19 targets"):
        fastgrad.fit(model, X, y[:-1], "cross_entropy", opt, progress=False)
    with pytest.raises(ValueError, match="unknown loss 'crossentropy'"):
        fastgrad.fit(model, X, y, "crossentropy", opt, progress=False)
    with pytest.raises(ValueError, match="fit: batch_size must be a positive integer"):
        fastgrad.fit(model, X, y, "cross_entropy", opt, batch_size=0, progress=False)
    with pytest.raises(ValueError, match="evaluate: the 'loss' metric needs loss="):
        fastgrad.evaluate(model, X, y, metrics=["loss"])


def test_digits_reaches_95_percent(fg):
    """The project's promise: sklearn's digits, MLP 64-64-10 tanh, trained by fit()."""
    datasets = pytest.importorskip("sklearn.datasets")
    digits = datasets.load_digits()
    X, y = digits.data / 16.0, digits.target
    order = np.random.default_rng(0).permutation(len(X))
    train, test = order[:1347], order[1347:]
    model = nn.mlp([64, 64, 10], activation="tanh", seed=0, backend=fg.name)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    history = fastgrad.fit(model, X[train], y[train], nn.CrossEntropyLoss(), opt, epochs=20,
                           batch_size=32, seed=0, progress=False)
    assert history["loss"][-1] < history["loss"][0]
    accuracy = fastgrad.evaluate(model, X[test], y[test])["accuracy"]
    assert accuracy >= 0.95, f"test accuracy {accuracy:.3f}"
