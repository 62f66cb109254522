"""Code written for HIPS autograd runs on fastgrad by changing only its imports.

Each program below is kept as source text with an ``{imports}`` slot; the tests run it once
with autograd's imports and once with fastgrad's and compare (the autograd runs are skipped
when autograd is not installed), and check the fastgrad run against finite differences. The
public ``fastgrad.numpy``/``fastgrad.grad`` are bound to the active backend; CI runs the suite
on both.
"""
import textwrap

import numpy as np
import pytest
from autodiff_helpers import numeric_grad

# ---------------------------------------------------------------- the article's MLP

ARTICLE_IMPORTS = {
    "autograd": "import autograd.numpy as np\nfrom autograd import grad",
    "fastgrad": "import fastgrad.numpy as np\nfrom fastgrad import grad",
}

ARTICLE = '''
{imports}


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def softmax(z):
    e = np.exp(z - np.max(z))
    return e / np.sum(e)


def predict(weights, x, t):
    """The network's cross-entropy loss on one example: 3 inputs, 3 logistic hidden units,
    2 softmax outputs."""
    hidden = sigmoid(np.dot(x, weights[0]))
    y = softmax(np.dot(hidden, weights[1]))
    return -np.sum(t * np.log(y))


grad_predict = grad(predict)


def train(weights, X, T, learning_rate=0.5):
    """One gradient per example, applied with plain numpy."""
    history = []
    for x, t in zip(X, T):
        gradients = grad_predict(weights, x, t)
        history.append(gradients)
        weights = [w - learning_rate * g for w, g in zip(weights, gradients)]
    return weights, history
'''


def load(source, imports):
    """Run a program's source with the given import lines; its globals as a dict."""
    scope = {"__name__": "program"}
    code = compile(textwrap.dedent(source).format(imports=imports), "<program>", "exec")
    exec(code, scope)  # noqa: S102  (running the program is the test)
    return scope


def article_data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=(3, 3)), rng.normal(size=(3, 2))]
    X = rng.normal(size=(n, 3))
    labels = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int)
    T = np.eye(2)[labels]
    return weights, X, T


def test_article_mlp_gradients_match_finite_differences():
    program = load(ARTICLE, ARTICLE_IMPORTS["fastgrad"])
    weights, X, T = article_data()
    for x, t in zip(X[:5], T[:5]):
        grads = program["grad_predict"](weights, x, t)
        assert [type(g) for g in grads] == [np.ndarray, np.ndarray]
        for k in range(2):
            def loss_k(wk, k=k, x=x, t=t):
                ws = list(weights)
                ws[k] = wk
                return program["predict"](ws, x, t)  # the same predict, on plain arrays
            np.testing.assert_allclose(grads[k], numeric_grad(loss_k, weights[k]),
                                       rtol=1e-6, atol=1e-9)


def test_article_mlp_loss_runs_outside_grad_as_numpy():
    program = load(ARTICLE, ARTICLE_IMPORTS["fastgrad"])
    weights, X, T = article_data()
    loss = program["predict"](weights, X[0], T[0])
    assert type(loss) is np.float64
    h = 1 / (1 + np.exp(-(X[0] @ weights[0])))
    z = h @ weights[1]
    y = np.exp(z - z.max()) / np.exp(z - z.max()).sum()
    assert loss == pytest.approx(-np.sum(T[0] * np.log(y)), rel=1e-15)


def test_article_mlp_training_matches_hips_autograd():
    pytest.importorskip("autograd")
    weights, X, T = article_data()
    ours = load(ARTICLE, ARTICLE_IMPORTS["fastgrad"])["train"](weights, X, T)
    theirs = load(ARTICLE, ARTICLE_IMPORTS["autograd"])["train"](weights, X, T)
    for step, (g_ours, g_theirs) in enumerate(zip(ours[1], theirs[1])):
        for a, b in zip(g_ours, g_theirs):
            np.testing.assert_allclose(a, b, rtol=0, atol=1e-12, err_msg=f"example {step}")
    for a, b in zip(ours[0], theirs[0]):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


def test_article_mlp_learns():
    program = load(ARTICLE, ARTICLE_IMPORTS["fastgrad"])
    weights, X, T = article_data(n=200, seed=1)
    before = np.mean([program["predict"](weights, x, t) for x, t in zip(X, T)])
    for _ in range(5):
        weights, _ = program["train"](weights, X, T)
    after = np.mean([program["predict"](weights, x, t) for x, t in zip(X, T)])
    assert after < 0.7 * before


# ---------------------------------------------------------------- HIPS's neural_net example

NEURAL_NET_IMPORTS = {
    "autograd": """
import autograd.numpy as np
import autograd.numpy.random as npr
from autograd.scipy.special import logsumexp
from autograd import grad
from autograd.misc.flatten import flatten
from autograd.misc.optimizers import adam
""",
    "fastgrad": """
import fastgrad.numpy as np
import fastgrad.numpy.random as npr
from fastgrad.scipy.special import logsumexp
from fastgrad import grad
from fastgrad.misc.flatten import flatten
from fastgrad.misc.optimizers import adam
""",
}

# autograd's examples/neural_net.py, in outline, on synthetic data instead of MNIST.
NEURAL_NET = '''
{imports}


def init_random_params(scale, layer_sizes, rs=npr.RandomState(0)):
    """A list of (weights, biases) tuples, one for each layer."""
    return [(scale * rs.randn(m, n), scale * rs.randn(n))
            for m, n in zip(layer_sizes[:-1], layer_sizes[1:])]


def neural_net_predict(params, inputs):
    """Class log-probabilities: tanh hidden layers, log-softmax output."""
    for W, b in params:
        outputs = np.dot(inputs, W) + b
        inputs = np.tanh(outputs)
    return outputs - logsumexp(outputs, axis=1, keepdims=True)


def l2_norm(params):
    flattened, _ = flatten(params)
    return np.dot(flattened, flattened)


def log_posterior(params, inputs, targets, L2_reg):
    log_prior = -L2_reg * l2_norm(params)
    log_lik = np.sum(neural_net_predict(params, inputs) * targets)
    return log_prior + log_lik


def accuracy(params, inputs, targets):
    target_class = np.argmax(targets, axis=1)
    predicted_class = np.argmax(neural_net_predict(params, inputs), axis=1)
    return np.mean(predicted_class == target_class)


def run(train_images, train_labels, layer_sizes=(8, 12, 3), L2_reg=1.0, param_scale=0.1,
        batch_size=32, num_epochs=4, step_size=0.01):
    init_params = init_random_params(param_scale, list(layer_sizes), rs=npr.RandomState(0))
    num_batches = int(np.ceil(len(train_images) / batch_size))

    def batch_indices(iter):
        idx = iter % num_batches
        return slice(idx * batch_size, (idx + 1) * batch_size)

    def objective(params, iter):
        idx = batch_indices(iter)
        return -log_posterior(params, train_images[idx], train_labels[idx], L2_reg)

    objective_grad = grad(objective)
    log = []

    def print_perf(params, iter, gradient):
        if iter % num_batches == 0:
            log.append((accuracy(params, train_images, train_labels),
                        objective(params, 0)))

    params = adam(objective_grad, init_params, step_size=step_size,
                  num_iters=num_epochs * num_batches, callback=print_perf)
    return params, log, objective_grad, init_params
'''


def synthetic_classes(n=160, d=8, k=3, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(k, d)) * 1.5
    labels = rng.integers(0, k, n)
    images = centres[labels] + rng.normal(size=(n, d))
    return images, np.eye(k)[labels]


def test_hips_neural_net_example_runs_by_imports():
    images, labels = synthetic_classes()
    program = load(NEURAL_NET, NEURAL_NET_IMPORTS["fastgrad"])
    params, log, objective_grad, init_params = program["run"](images, labels)
    assert [type(p) for p in params] == [tuple, tuple]
    assert [p[0].shape for p in params] == [(8, 12), (12, 3)]
    accuracies = [a for a, _ in log]
    assert accuracies[-1] > accuracies[0] and accuracies[-1] > 0.8
    # its gradient (a list of (W, b) tuples, through flatten and logsumexp) is right
    g = objective_grad(init_params, 1)
    W, b = init_params[1]
    expected = numeric_grad(
        lambda b1: _objective(program, [init_params[0], (W, b1)], images, labels), b)
    np.testing.assert_allclose(g[1][1], expected, rtol=1e-6, atol=1e-8)


def _objective(program, params, images, labels, iter=1, batch_size=32, L2_reg=1.0):
    idx = slice(iter * batch_size, (iter + 1) * batch_size)
    return -program["log_posterior"](params, images[idx], labels[idx], L2_reg)


def test_hips_neural_net_example_matches_hips_autograd():
    pytest.importorskip("autograd")
    images, labels = synthetic_classes()
    ours = load(NEURAL_NET, NEURAL_NET_IMPORTS["fastgrad"])["run"](images, labels)
    theirs = load(NEURAL_NET, NEURAL_NET_IMPORTS["autograd"])["run"](images, labels)
    for (W1, b1), (W2, b2) in zip(ours[0], theirs[0]):
        np.testing.assert_allclose(W1, W2, rtol=0, atol=1e-10)
        np.testing.assert_allclose(b1, b2, rtol=0, atol=1e-10)
    assert [a for a, _ in ours[1]] == [a for a, _ in theirs[1]]
    np.testing.assert_allclose([v for _, v in ours[1]], [v for _, v in theirs[1]], rtol=1e-12)


# ---------------------------------------------------------------- pieces, against autograd

def test_flatten_matches_autograd():
    autograd_flatten = pytest.importorskip("autograd.misc.flatten").flatten
    from fastgrad.misc.flatten import flatten
    value = {"b": [np.ones((2, 2)), 3.0], "a": (np.arange(3.0), np.float32(2.0))}
    ours, unflatten = flatten(value)
    theirs, their_unflatten = autograd_flatten(value)
    np.testing.assert_array_equal(ours, theirs, strict=True)
    back, their_back = unflatten(ours * 2), their_unflatten(theirs * 2)
    assert list(back) == list(their_back) == ["b", "a"]
    for a, b in [(back["b"][0], their_back["b"][0]), (back["b"][1], their_back["b"][1]),
                 (back["a"][0], their_back["a"][0]), (back["a"][1], their_back["a"][1])]:
        np.testing.assert_array_equal(a, b, strict=True)


def test_flatten_round_trip_and_traced_use():
    import fastgrad.numpy as fnp
    from fastgrad import grad
    from fastgrad.misc.flatten import flatten
    params = [(np.ones((2, 3)), np.zeros(3)), {"s": 2.0}]
    flat, unflatten = flatten(params)
    assert flat.shape == (10,)
    back = unflatten(flat)
    np.testing.assert_array_equal(back[0][0], params[0][0])
    assert back[1]["s"].shape == () and back[1]["s"] == 2.0
    g = grad(lambda p: fnp.dot(flatten(p)[0], flatten(p)[0]))(params)
    np.testing.assert_allclose(g[0][0], 2 * params[0][0])
    assert g[1]["s"] == 4.0


@pytest.mark.parametrize("name,steps,step_size", [("sgd", 300, 0.1), ("rmsprop", 300, 0.03),
                                                  ("adam", 300, 0.05)])
def test_optimizers_minimise_a_quadratic(name, steps, step_size):
    import fastgrad.numpy as fnp
    from fastgrad import grad
    from fastgrad.misc import optimizers
    target = {"w": np.array([[1.0, -2.0]]), "b": (np.array(0.5), 3.0)}

    def loss(p, i):
        return (fnp.sum((p["w"] - target["w"]) ** 2) + (p["b"][0] - 0.5) ** 2
                + (p["b"][1] - 3.0) ** 2)
    x0 = {"w": np.zeros((1, 2)), "b": (np.array(0.0), 0.0)}
    seen = []
    out = getattr(optimizers, name)(grad(loss), x0, callback=lambda x, i, g: seen.append(i),
                                    num_iters=steps, step_size=step_size)
    assert seen == list(range(steps))
    assert set(out) == {"w", "b"} and out["w"].shape == (1, 2)
    assert loss(out, 0) < 1e-2 * loss(x0, 0)


@pytest.mark.parametrize("name", ["sgd", "rmsprop", "adam"])
def test_optimizers_match_autograd(name):
    theirs = getattr(pytest.importorskip("autograd.misc.optimizers"), name)
    from fastgrad.misc import optimizers
    ours = getattr(optimizers, name)
    target = [np.array([1.0, -2.0]), (np.array([[0.5]]), np.array(3.0))]

    def gradient(params, i):
        return [params[0] - target[0] + 0.01 * i,
                (2 * (params[1][0] - target[1][0]), params[1][1] - target[1][1])]
    x0 = [np.zeros(2), (np.zeros((1, 1)), np.array(0.0))]
    seen = []
    a = ours(gradient, x0, callback=lambda x, i, g: seen.append(i), num_iters=30,
             step_size=0.05)
    b = theirs(gradient, x0, num_iters=30, step_size=0.05)
    assert seen == list(range(30))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1][0], b[1][0])
    np.testing.assert_array_equal(a[1][1], b[1][1])


SPECIAL = [
    ("logsumexp_keepdims", lambda sp, x: sp.logsumexp(x, axis=1, keepdims=True)),
    ("logsumexp_all", lambda sp, x: sp.logsumexp(x)),
    ("logsumexp_b", lambda sp, x: sp.logsumexp(x, axis=0, b=np.array([1.0, 2.0, 0.5]))),
    ("softmax", lambda sp, x: sp.softmax(x, axis=1)),
    ("softmax_all", lambda sp, x: sp.softmax(x)),
    ("log_softmax", lambda sp, x: sp.log_softmax(x, axis=0)),
    ("expit", lambda sp, x: sp.expit(x)),
]


@pytest.mark.parametrize("fn", [c[1] for c in SPECIAL], ids=[c[0] for c in SPECIAL])
def test_scipy_special_gradients(fn):
    import fastgrad.numpy as fnp
    import fastgrad.scipy.special as ours
    from fastgrad import grad
    x = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 50.0]])
    w = np.random.default_rng(0).standard_normal(np.shape(fn(ours, x)))

    def loss(x):
        return fnp.sum(fn(ours, x) * w)
    np.testing.assert_allclose(grad(loss)(x), numeric_grad(loss, x), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("fn", [c[1] for c in SPECIAL], ids=[c[0] for c in SPECIAL])
def test_scipy_special_plain_is_scipys(fn):
    import fastgrad.scipy.special as ours
    scipy_special = pytest.importorskip("scipy.special")
    x = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 50.0]])
    np.testing.assert_array_equal(fn(ours, x), fn(scipy_special, x), strict=True)


def test_scipy_special_without_scipy(monkeypatch):
    """Without scipy the plain versions are fastgrad's own numpy code: compared with the
    values the traced versions compute (and with scipy's, when it is installed)."""
    import fastgrad.numpy as fnp
    import fastgrad.scipy.special as ours
    from fastgrad import value_and_grad
    x = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 50.0]])
    monkeypatch.setattr(ours, "_scipy_special", None)
    for name, fn in SPECIAL:
        traced_value, _ = value_and_grad(lambda x, fn=fn: fnp.sum(fn(ours, x)))(x)
        assert np.sum(fn(ours, x)) == pytest.approx(traced_value, rel=1e-13), name
    try:
        import scipy.special as scipy_special
    except ImportError:
        return
    for name, fn in SPECIAL:
        np.testing.assert_allclose(fn(ours, x), fn(scipy_special, x), rtol=1e-14, err_msg=name)
