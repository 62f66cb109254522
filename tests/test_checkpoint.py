"""No lost checkpoints: atomic saves (a SIGKILL mid-write keeps the previous file whole),
fit(checkpoint=...) / fit(resume=...) continuing bit for bit, and Ctrl-C stopping fit between
two steps with the history so far."""
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from helpers import run_python

import fastgrad as fg

rng = np.random.default_rng(0)
X = rng.standard_normal((50, 4))
Y = rng.integers(0, 3, 50)


def setup(opt="adam"):
    model = fg.nn.mlp([4, 8, 3], seed=1)
    if opt == "adam":
        return model, fg.optim.Adam(model.parameters(), lr=0.01)
    return model, fg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)


def train(model, opt, loss="cross_entropy", **kwargs):
    return fg.fit(model, X, Y, loss, opt, batch_size=8, seed=3, progress=False, **kwargs)


def params(model):
    return [p.data.copy() for p in model.parameters()]


def same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


class InterruptAt:
    """A loss that sends this process SIGINT (Ctrl-C) during its k-th call."""

    def __init__(self, k):
        self.k, self.calls = k, 0
        self.inner = fg.nn.CrossEntropyLoss()

    def __call__(self, out, target):
        self.calls += 1
        if self.calls == self.k:
            os.kill(os.getpid(), signal.SIGINT)
        return self.inner(out, target)


@pytest.mark.parametrize("opt", ["adam", "sgd"])
@pytest.mark.parametrize("stop_at", [3, 7, 10, 20])
def test_interrupt_then_resume_is_bit_identical(tmp_path, opt, stop_at):
    model, o = setup(opt)
    alone = train(model, o, epochs=4)
    expected = params(model)
    path = tmp_path / "ck.npz"
    model, o = setup(opt)
    loss = InterruptAt(stop_at)
    history = train(model, o, loss=loss, epochs=4, checkpoint=path)
    assert loss.calls == stop_at  # the step in progress finished, no other began
    per_epoch = 7  # ceil(50 / 8)
    assert history["stopped_at"] == (stop_at // per_epoch, stop_at % per_epoch)
    assert history["loss"] == alone["loss"][:stop_at // per_epoch]
    saved = fg.load_state(path)
    assert same([saved[f"model.{name}"] for name, _ in model.named_parameters()],
                params(model))
    model, o = setup(opt)
    resumed = train(model, o, epochs=4, resume=path)
    assert resumed == alone
    assert same(params(model), expected)


def test_periodic_checkpoints_resume_from_the_last(tmp_path):
    model, o = setup()
    alone = train(model, o, epochs=3)
    expected = params(model)
    path = tmp_path / "ck.npz"
    model, o = setup()
    train(model, o, epochs=2, checkpoint=path, checkpoint_every=4)
    model, o = setup()
    assert train(model, o, epochs=3, resume=path) == alone
    assert same(params(model), expected)


def test_sigint_handler_is_restored(tmp_path):
    before = signal.getsignal(signal.SIGINT)
    model, o = setup()
    train(model, o, epochs=1)
    assert signal.getsignal(signal.SIGINT) is before


def test_resume_refuses_another_batch_size(tmp_path):
    path = tmp_path / "ck.npz"
    model, o = setup()
    train(model, o, epochs=1, checkpoint=path)
    with pytest.raises(ValueError, match="batches of 8; this call has 50 samples in batches "
                                         "of 16"):
        fg.fit(model, X, Y, "cross_entropy", o, batch_size=16, resume=path, progress=False)


WRITER = r"""
import sys, numpy as np, fastgrad as fg
path = sys.argv[1]
state = {f"w{i}": np.zeros(1 << 20) for i in range(6)}   # 48 MiB a file
k = 0
while True:
    k += 1
    for a in state.values():
        a.fill(k)
    fg.save_parameters(state, path)
    print(k, flush=True)
"""


def test_sigkill_during_save_keeps_the_previous_file(tmp_path):
    path = str(tmp_path / "params.npz")
    child_env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [os.path.dirname(os.path.dirname(os.path.abspath(fg.__file__)))] + sys.path))
    pick = random.Random(12)
    checked = 0
    for _ in range(20):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, path], env=child_env,
                                stdout=subprocess.PIPE, text=True)
        if not os.path.exists(path):
            proc.stdout.readline()  # the very first file is complete
        time.sleep(pick.uniform(0.0, 0.4))
        proc.kill()
        proc.wait()
        state = fg.load_state(path)
        values = {float(a[0]) for a in state.values()}
        assert len(state) == 6 and len(values) == 1
        assert all(np.all(a == a[0]) for a in state.values())
        checked += 1
    assert checked == 20


def test_save_leaves_no_temporary_file(tmp_path):
    fg.save_parameters({"w": np.ones(3)}, tmp_path / "a")
    assert sorted(os.listdir(tmp_path)) == ["a.npz"]


def test_sigint_in_a_child_returns_history():
    code = ("import os, signal, numpy as np, fastgrad as fg\n"
            "X = np.random.default_rng(0).standard_normal((64, 4)); y = (X[:, 0] > 0) * 1\n"
            "m = fg.nn.mlp([4, 3], seed=0); o = fg.optim.SGD(m.parameters(), lr=0.1)\n"
            "calls = [0]\n"
            "def loss(out, t):\n"
            "    calls[0] += 1\n"
            "    if calls[0] == 5: os.kill(os.getpid(), signal.SIGINT)\n"
            "    return fg.nn.functional.softmax_cross_entropy(out, t)\n"
            "h = fg.fit(m, X, y, loss, o, epochs=3, batch_size=16, progress=False)\n"
            "print(h['stopped_at'], len(h['loss']), calls[0])\n")
    result = run_python(["-c", code], check=True)
    assert result.stdout.split() == ["(1,", "1)", "1", "5"]
