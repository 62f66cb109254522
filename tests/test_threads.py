"""Threads: grad mode is per thread and every backward keeps its own state, so threads that
train their own models (or evaluate under no_grad beside training) get exactly what they get
alone, bit for bit. The thread switch interval is made tiny so that threads interleave inside
forward and backward passes."""
import sys
import threading

import numpy as np
import pytest

import fastgrad as fg
import fastgrad.numpy as fnp

REPEATS = 50
STEPS = 20


def data(seed):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((16, 4)), rng.integers(0, 3, 16)


def train(seed, start=None):
    """A small MLP trained STEPS steps with Adam; its parameters afterwards."""
    if start is not None:
        start.wait()
    model = fg.nn.mlp([4, 8, 3], seed=seed)
    opt = fg.optim.Adam(model.parameters(), lr=0.05)
    X, y = data(seed)
    for _ in range(STEPS):
        opt.zero_grad()
        fg.nn.functional.softmax_cross_entropy(model(fg.Tensor(X)), y).backward()
        opt.step()
    return [p.data.copy() for p in model.parameters()]


def evaluate(seed, stop):
    """Forward passes under no_grad until ``stop`` is set; each result must record nothing."""
    model = fg.nn.mlp([4, 8, 3], seed=seed)
    X, _ = data(seed)
    count = 0
    while not stop.is_set() or count == 0:
        with fg.no_grad():
            out = model(fg.Tensor(X))
        if out.requires_grad:
            raise AssertionError("no_grad recorded a graph")
        count += 1
    return count


@pytest.fixture
def fast_switching():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(old)


def run_threads(targets):
    """Run each (fn, args) in its own thread; their results, and the errors they raised."""
    results, errors = [None] * len(targets), []

    def runner(i, fn, args):
        try:
            results[i] = fn(*args)
        except BaseException as e:  # noqa: BLE001 - counted and shown below
            errors.append(repr(e))

    threads = [threading.Thread(target=runner, args=(i, fn, args))
               for i, (fn, args) in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results, errors


def same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_two_threads_training_separate_models(fast_switching):
    alone = [train(1), train(2)]
    bad, errors = 0, []
    for _ in range(REPEATS):
        start = threading.Barrier(2)
        results, errs = run_threads([(train, (1, start)), (train, (2, start))])
        errors += errs
        bad += sum(r is None or not same(r, ref) for r, ref in zip(results, alone))
    assert errors == [] and bad == 0, (bad, errors[:3])


def test_training_beside_a_no_grad_evaluation(fast_switching):
    alone = train(3)
    bad, errors = 0, []
    for _ in range(REPEATS):
        stop = threading.Event()

        def training(stop=stop):
            try:
                return train(3)
            finally:
                stop.set()

        results, errs = run_threads([(training, ()), (evaluate, (4, stop))])
        errors += errs
        bad += results[0] is None or not same(results[0], alone)
    assert errors == [] and bad == 0, (bad, errors[:3])
    assert fg.is_grad_enabled()


def test_no_grad_in_one_thread_leaves_the_others_recording():
    inside, outside = threading.Event(), threading.Event()

    def hold_no_grad():
        with fg.no_grad():
            inside.set()
            outside.wait(10)

    t = threading.Thread(target=hold_no_grad)
    t.start()
    inside.wait(10)
    try:
        x = fg.Tensor(np.ones(2), requires_grad=True)
        assert fg.is_grad_enabled() and (x * 2).requires_grad
    finally:
        outside.set()
        t.join()
    assert fg.is_grad_enabled()


def test_a_new_thread_starts_with_grad_enabled():
    seen = []
    with fg.no_grad():
        t = threading.Thread(target=lambda: seen.append(fg.is_grad_enabled()))
        t.start()
        t.join()
    assert seen == [True]


def test_value_and_grad_from_four_threads(fast_switching):
    def loss(w, X):
        return fnp.sum(fnp.tanh(X @ w) ** 2)

    vg = fg.value_and_grad(loss)
    rng = np.random.default_rng(0)
    inputs = [(rng.standard_normal(5), rng.standard_normal((7, 5))) for _ in range(4)]
    alone = [vg(w, X) for w, X in inputs]

    def calls(i):
        bad = 0
        for _ in range(200):
            value, g = vg(*inputs[i])
            bad += not (value == alone[i][0] and np.array_equal(g, alone[i][1]))
        return bad

    results, errors = run_threads([(calls, (i,)) for i in range(4)])
    assert errors == [] and results == [0, 0, 0, 0], (results, errors[:3])
