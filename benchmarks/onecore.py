"""Run the benchmarks on one core with one BLAS/OpenMP thread.

BENCHMARKS.md asks for one pinned core and single-threaded BLAS, so that timings of different
systems compare like with like on a shared 2-core machine. Thread counts are read by OpenBLAS,
MKL, OpenMP and XLA when they load, so `configure()` must run before numpy, torch or jax are
imported; conftest.py and the M1 probe call it first thing.
"""

import os
import sys

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# XLA's CPU backend runs Eigen on a thread pool unless told not to.
XLA_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def chosen_cpu():
    """The CPU to pin to: $FASTGRAD_BENCH_CPU, else the last CPU this process may use."""
    allowed = sorted(os.sched_getaffinity(0))
    wanted = os.environ.get("FASTGRAD_BENCH_CPU")
    if wanted is None:
        return allowed[-1]
    cpu = int(wanted)
    if cpu not in allowed:
        raise ValueError(f"FASTGRAD_BENCH_CPU={cpu} is not one of the allowed CPUs {allowed}")
    return cpu


def configure():
    """Pin this process to one CPU and ask every numeric library for one thread.

    Returns the pinned CPU. Children started afterwards inherit both the affinity and the
    environment variables.
    """
    cpu = chosen_cpu()
    # Linux applies this to the calling thread; thread pools started later (BLAS, torch, XLA)
    # inherit it, which is one more reason to run before those libraries load.
    os.sched_setaffinity(0, {cpu})
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    if "--xla_cpu_multi_thread_eigen" not in os.environ.get("XLA_FLAGS", ""):
        os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " " + XLA_ONE_THREAD).strip()
    if "numpy" in sys.modules:
        # Too late for the environment variables to reach OpenBLAS: limit it at run time.
        _limit_loaded_blas()
    if "torch" in sys.modules:
        limit_torch(sys.modules["torch"])
    return cpu


def _limit_loaded_blas():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print("onecore: numpy was imported before configure() and threadpoolctl is not installed;"
              " BLAS may use more than one thread", file=sys.stderr)
        return
    threadpool_limits(1)


def limit_torch(torch):
    """One intra-op and (where still allowed) one inter-op thread for PyTorch."""
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass  # can only be set once, before any inter-op work; the intra-op limit is what counts
