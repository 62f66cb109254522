"""Captured distributed steps: the tape holds the allreduce (issue 15's last bullet).

Each test reads rank 0's JSON line of ``mpiexec -n K python tests/capture_distributed_worker.py``
(with a timeout, so a hang fails); the worker runs on this suite's backend (the child inherits
FASTGRAD_NO_EXTENSIONS). Skipped when mpi4py or mpiexec is missing.
"""
import json
import os
import subprocess
import sys

import pytest
from mpi_helpers import find_mpiexec, mpi_available

import fastgrad

HERE = os.path.dirname(os.path.abspath(__file__))
HOME = os.path.dirname(os.path.dirname(os.path.abspath(fastgrad.__file__)))
WORKER = os.path.join(HERE, "capture_distributed_worker.py")
TIMEOUT = 90


pytestmark = pytest.mark.skipif(not mpi_available(), reason="needs mpi4py and mpiexec "
                                '(pip install "fastgrad[mpi]")')


@pytest.fixture(scope="module", params=[1, 2, 3], ids=lambda k: f"n{k}")
def ranks(request):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [HOME, env.get("PYTHONPATH")]))
    env["OMP_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] = "1"
    command = [find_mpiexec(), "-n", str(request.param), sys.executable, WORKER]
    done = subprocess.run(command, capture_output=True, text=True, check=False,
                          timeout=TIMEOUT, env=env, cwd=HOME)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stderr[-3000:]
    result = json.loads(lines[-1][len("RESULT "):])
    assert result["size"] == request.param and result["backend"] == fastgrad.BACKEND
    return request.param, result


# 23 samples, batches of 7 over all ranks, 3 epochs: 12 steps. Each rank's parts of a full
# batch have one shape (one tape) and of the last batch (2 samples) another; call 1 runs
# eagerly, the first step of each shape records, a rank without a sample steps eagerly.
REPLAYS = {1: [9], 2: [9, 9], 3: [9, 9, 7]}


@pytest.mark.parametrize("name", ["sgd_float64", "adam_float64", "adamw_float64",
                                  "adam_float32"])
def test_captured_fit_equals_eager_fit_and_one_process(ranks, name):
    k, r = ranks
    assert r[f"{name}_replays"] == REPLAYS[k]     # the steps really were replayed
    assert r[f"{name}_captured_last"]
    assert r[f"{name}_bitwise_eager"]             # = eager distributed fit, every rank
    assert r[f"{name}_identical"]                 # every rank holds the same bits
    assert r[f"{name}_steps"] == 12
    tolerance = 1e-12 if name.endswith("float64") else 1e-6
    assert r[f"{name}_max_diff"] <= tolerance     # = one process on all the data
    assert r[f"{name}_history_diff"] <= tolerance
    if k == 1:  # one rank: plain fit, bit for bit
        assert r[f"{name}_max_diff"] == 0 and r[f"{name}_history_diff"] == 0


def test_captured_loop_with_a_distributed_optimizer(ranks):
    k, r = ranks
    assert r["loop_bitwise"] and r["loop_replays"] == 6 and r["loop_steps"] == [8, 8]
    if k > 1:  # one Python call in the tape (the allreduce); the gradients are the views
        assert r["loop_kinds"] == 1 and r["loop_grads_are_views"]
    else:      # one rank reduces nothing
        assert r["loop_kinds"] == 0


def test_python_calls_per_distributed_replay_do_not_grow_with_the_graph(ranks):
    _, r = ranks
    if r["backend"] != "cython":
        pytest.skip("the pure-Python twin replays op by op in Python")
    assert r["calls_replays"] == 4
    assert r["calls_shallow"] == r["calls_deep"] <= 4 * 30
