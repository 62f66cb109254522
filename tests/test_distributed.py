"""fastgrad.distributed: N ranks under mpiexec against one process, and the errors.

Each test launches ``mpiexec -n K python tests/distributed_worker.py MODE`` (with a timeout, so a
hang fails instead of blocking) and reads rank 0's JSON line; the worker runs on the backend
this suite runs on (the child inherits FASTGRAD_NO_EXTENSIONS). Skipped when mpi4py or mpiexec
is missing. The in-process tests never start MPI (no init() in the pytest process).
"""
import json
import os
import subprocess
import sys

import pytest
from mpi_helpers import find_mpiexec, mpi_available

import fastgrad
from fastgrad import distributed as dist

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
# the children import the very fastgrad these tests import (installed, or this checkout): its
# home goes first on PYTHONPATH, and is the working directory of ``python -c``
HOME = os.path.dirname(os.path.dirname(os.path.abspath(fastgrad.__file__)))
WORKER = os.path.join(HERE, "distributed_worker.py")
TIMEOUT = 60  # seconds; a run takes about one


needs_mpi = pytest.mark.skipif(not mpi_available(), reason="needs mpi4py and mpiexec "
                               '(pip install "fastgrad[mpi]")')


def child_env(**extra):
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [HOME, env.get("PYTHONPATH")]))
    env["OMP_NUM_THREADS"] = env["OPENBLAS_NUM_THREADS"] = "1"  # ranks share 2 cores
    return env


def run_ranks(k, mode, *args):
    """Run the worker on k ranks; return (completed process, rank 0's result or None)."""
    command = [find_mpiexec(), "-n", str(k), sys.executable, WORKER, mode, *map(str, args)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=TIMEOUT,
                          env=child_env(), cwd=HOME)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    return done, (json.loads(lines[-1][len("RESULT "):]) if lines else None)


@pytest.fixture(scope="module", params=[1, 2, 3], ids=lambda k: f"n{k}")
def trained(request, tmp_path_factory):
    done, result = run_ranks(request.param, "train", tmp_path_factory.mktemp("ranks"))
    assert done.returncode == 0 and result is not None, done.stderr[-3000:]
    assert result["size"] == request.param
    assert result["backend"] == fastgrad.BACKEND
    return request.param, result


@needs_mpi
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_fit_on_n_ranks_equals_one_process(trained, kind):
    k, r = trained
    assert r[f"fit_{kind}_identical"]          # every rank holds the same bits
    assert r[f"fit_{kind}_same_history"]       # and returned the same history
    assert r[f"fit_{kind}_steps"] == r[f"fit_{kind}_wrapped_steps"] == 12
    if k == 1:   # one rank is plain fit, bit for bit
        assert r[f"fit_{kind}_bitwise"] and r[f"fit_{kind}_history_bitwise"]
    else:
        assert r[f"fit_{kind}_max_diff"] <= 1e-12
        assert r[f"fit_{kind}_history_diff"] <= 1e-12


@needs_mpi
@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_loop_on_uneven_shards_equals_one_process_on_their_union(trained, kind):
    k, r = trained
    assert r[f"loop_{kind}_max_diff"] <= 1e-12
    assert r[f"loop_{kind}_identical"]
    parts = r[f"loop_{kind}_parts"]      # 10 samples, batches of 4: 4, 4, 2 per epoch
    assert [sum(column) for column in zip(*parts)] == [4, 4, 2] * 2
    if k == 3:
        assert parts[2] == [1, 1, 0, 1, 1, 0]  # a rank without a sample still takes the step
    if k > 1:   # the gradients the optimizer used are views into the flat reduced buffer
        assert r[f"loop_{kind}_grads_are_views"]


@needs_mpi
def test_ten_samples_full_batch_on_k_ranks(trained):
    k, r = trained
    assert r["uneven_part"] == {1: [10], 2: [5, 5], 3: [4, 3, 3]}[k]
    assert r["uneven_max_diff"] <= 1e-12 and r["uneven_identical"]


@needs_mpi
def test_parameters_of_two_dtypes_reduce_in_one_buffer_each(trained):
    _, r = trained
    assert r["two_dtypes_buffers"] == ["float32", "float64"] and r["two_dtypes_views"]
    assert r["two_dtypes_dtypes"] == ["float32", "float64"]
    f32, f64 = r["two_dtypes_diff"]
    assert f32 <= 1e-5 and f64 <= 1e-12


@needs_mpi
def test_hips_pytree_allreduce_is_the_gradient_on_all_the_data(trained):
    _, r = trained
    assert r["hips_same_structure"]
    assert r["hips_max_diff"] <= 1e-12


@needs_mpi
def test_broadcast_parameters_makes_different_seeds_identical(trained):
    _, r = trained
    assert r["differ_before_broadcast"]
    assert r["identical_after_broadcast"] and r["broadcast_is_rank0s"]


@needs_mpi
def test_optimizer_state_saving_and_progress_bar(trained):
    k, r = trained
    assert r["opt_state_identical"]             # rank 0's Adam moments and counts everywhere
    assert r["saves_by_rank"] == [1] + [0] * (k - 1)
    assert len(set(r["saved_names"])) == 1 and r["saved_names"][0].endswith("weights.npz")
    assert r["progress_by_rank"] == [[True]] + [[False]] * (k - 1)


@needs_mpi
@pytest.mark.parametrize("k", [2, 3])
def test_mismatched_models_raise_on_every_rank(k):
    done, r = run_ranks(k, "errors")
    assert done.returncode == 0 and r is not None, done.stderr[-3000:]
    ranks = "1" if k == 2 else "1, 2"
    assert r["shape"] == (f"ValueError: broadcast_parameters: parameter 0 '0.weight' is "
                          f"float64 (5, 8) on rank 0 but float64 (5, 9) on rank(s) {ranks}; "
                          f"every rank must build the same model")
    assert "a dtype mix across ranks" in r["dtype"] and "float32 (5, 8)" in r["dtype"]
    assert r["dtype_opt"].startswith("ValueError: DistributedOptimizer: a dtype mix")
    assert r["local_data"].startswith("ValueError: fit(distributed=True): every rank must pass "
                                      "all of (X, y)")
    assert r["same_is_fine"] is None
    assert r["diverged"] == (f"RuntimeError: check_identical: the ranks' parameters have "
                             f"diverged: '0.bias' differs between rank 0 and rank(s) {k - 1}")
    assert r["same_on_every_rank"]


@needs_mpi
@pytest.mark.parametrize("when", ["early", "late"])
def test_a_rank_that_raises_stops_the_whole_job_with_its_error(when):
    done, r = run_ranks(2, "raise", when)   # rank 0 would otherwise wait in fit forever
    output = f"exit code {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    assert done.returncode != 0 and r is None, output
    assert "rank 1 raised" in done.stderr, output
    message = {"early": "rank one failed on purpose\n", "late": "in step 5"}[when]
    assert "ValueError: rank one failed on purpose" in done.stderr, output
    assert message in done.stderr, output


@needs_mpi
def test_init_outside_mpiexec_is_one_rank():
    code = ("from fastgrad import distributed as d; print(d.init(), d.rank(), d.size())")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                          timeout=TIMEOUT, env=child_env(), cwd=HOME)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["(0,", "1)", "0", "1"]


@needs_mpi
def test_a_missing_mpi_library_says_what_to_install():
    code = "from fastgrad import distributed as d; d.init()"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                          timeout=TIMEOUT, cwd=HOME,
                          env=child_env(MPI4PY_LIBMPI="/nonexistent/libmpi.so.12"))
    assert done.returncode != 0
    assert 'pip install "fastgrad[mpi]"' in done.stderr
    assert "could not load an MPI library" in done.stderr


def test_a_missing_mpi4py_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    monkeypatch.setattr(dist, "_comm", None)
    with pytest.raises(ImportError, match=r'pip install "fastgrad\[mpi\]"'):
        dist.init()
    assert not dist.is_initialized()


def test_calls_before_init_raise_a_clear_error(monkeypatch):
    monkeypatch.setattr(dist, "_comm", None)
    for call in (dist.rank, dist.size, lambda: dist.broadcast_parameters([]),
                 lambda: dist.allreduce_gradients([1.0])):
        with pytest.raises(RuntimeError, match=r"call fastgrad.distributed.init\(\) first"):
            call()


def test_importing_fastgrad_does_not_load_mpi():
    code = "import sys, fastgrad; print('mpi4py' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                          timeout=TIMEOUT, env=child_env(), cwd=HOME)
    assert done.stdout.strip() == "False", done.stderr


def test_split_gives_every_index_once_in_near_equal_parts():
    for n in range(12):
        for k in range(1, 5):
            parts = [dist.split(n, r, k) for r in range(k)]
            assert sorted(int(i) for part in parts for i in part) == list(range(n))
            assert max(map(len, parts)) - min(map(len, parts)) <= 1
    order0, order1 = dist.epoch_order(50, 0, seed=1), dist.epoch_order(50, 1, seed=1)
    assert sorted(order0) == list(range(50)) and list(order0) != list(order1)
    assert list(dist.epoch_order(50, 0, seed=1)) == list(order0)


@needs_mpi
@pytest.mark.parametrize("how", ["fit", "loop"])
def test_the_example_trains_on_two_ranks(tmp_path, how):
    pytest.importorskip("sklearn")
    weights = tmp_path / "w.npz"
    command = [find_mpiexec(), "-n", "2", sys.executable, os.path.join(REPO, "examples",
               "ddp_train.py"), "--epochs", "2", "--weights", str(weights)]
    done = subprocess.run(command + (["--loop"] if how == "loop" else []), capture_output=True,
                          text=True, check=False, timeout=TIMEOUT, env=child_env(), cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("test accuracy") == 1     # printed by rank 0 only
    assert "2 rank(s)" in done.stdout and weights.stat().st_size > 0


def test_pytree_flattening_keeps_the_structure():
    import collections

    import numpy as np
    Pair = collections.namedtuple("Pair", "w b")
    tree = {"layers": [Pair(np.ones((2, 3)), np.zeros(3, np.float32))], "scale": 0.5,
            "t": (np.float64(2.0),)}
    leaves, rebuild = dist.flatten_tree(tree, "test")
    assert [a.shape for a in leaves] == [(2, 3), (3,), (), ()]
    again = rebuild([a * 2 for a in leaves])
    assert isinstance(again["layers"][0], Pair) and again["layers"][0].b.dtype == np.float32
    assert again["scale"] == 1.0 and isinstance(again["scale"], float)
    assert isinstance(again["t"], tuple) and again["t"][0] == 4.0
    with pytest.raises(TypeError, match="gradient leaf 1 is int64"):
        dist.flatten_tree([np.ones(2), np.arange(3)], "test")
