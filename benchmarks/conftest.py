"""pytest-benchmark setup for the workloads: one pinned core, one thread, medians.

Everything numeric is imported after `onecore.configure()`, so that BLAS, OpenMP and XLA read
their one-thread settings when they load. Each test calls the `run_case` fixture with one
registered case (see workloads/registry.py). Outcomes that produce no timing (a peer not
installed, micrograd's RecursionError) are recorded too, and written with the machine details
and library versions into the benchmark JSON under "fastgrad_bench", where report.py finds them.
"""

import onecore

PINNED_CPU = onecore.configure()

import datetime  # noqa: E402  (after configure() on purpose)
import gc  # noqa: E402
import importlib.metadata  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import pytest  # noqa: E402

import cpu_share  # noqa: E402
from workloads.registry import QUICK, import_requirements  # noqa: E402

# Per-case measuring budget: rounds = budget / (time of one call), within [min, max].
# (--quick: 64 cases with the twins; 0.25 s each keeps the whole report under a minute)
BUDGET_SECONDS = 0.25 if QUICK else 2.0
MIN_ROUNDS = 3
MIN_ROUNDS_SLOW = 1 if QUICK else 3
MAX_ROUNDS = 200 if QUICK else 1000
DEFAULT_COLUMNS = ["min", "max", "mean", "stddev", "median", "iqr", "outliers", "ops", "rounds",
                   "iterations"]
# import name -> distribution name, where they differ
DISTRIBUTIONS = {"sklearn": "scikit-learn"}

_outcomes = []
_modules_used = {"numpy"}


def pytest_configure(config):
    config.addinivalue_line("markers", "fastgrad: a fastgrad system (selected by report.py)")
    config.addinivalue_line("markers", "peer: a peer system or baseline")
    config.addinivalue_line("markers", "twin_peer: a peer also timed in the twin's run")
    config.addinivalue_line("markers", "compiled_only: a fastgrad case not run on the twin")
    config.addinivalue_line("markers", "blas_floor: a FLOP-floor row (BLAS's best kernel)")
    option = config.option
    if getattr(option, "benchmark_columns", None) == DEFAULT_COLUMNS:
        option.benchmark_columns = ["median", "iqr", "min", "max", "rounds"]
    if getattr(option, "benchmark_sort", None) == "min":
        option.benchmark_sort = "name"


def plan_rounds(seconds_per_call, slow):
    """(rounds, warm-up rounds) that keep one case near BUDGET_SECONDS."""
    lowest = MIN_ROUNDS_SLOW if slow else MIN_ROUNDS
    rounds = int(BUDGET_SECONDS / max(seconds_per_call, 1e-9))
    rounds = max(lowest, min(MAX_ROUNDS, rounds))
    warmup = 0 if slow else min(20, max(1, rounds // 10))
    return rounds, warmup


@pytest.fixture
def run_case(benchmark, request):
    """Build `case` once, check that one unit of work runs, then time it with pedantic rounds."""
    def run(case):
        try:
            import_requirements(case)
        except ImportError as exc:
            pytest.skip(f"{case.system}: not importable ({exc})")
        _modules_used.update(("fastgrad",) * case.is_fastgrad + case.requires)
        label = case.label()
        request.node.user_properties.append(("system", label))
        benchmark.group = f"{case.workload} {case.variant}".strip()
        benchmark.extra_info.update(workload=case.workload, variant=case.variant, system=label,
                                    unit=case.unit, **case.params)
        if case.reference:
            benchmark.extra_info["reference"] = True
        if case.blas_floor:
            benchmark.extra_info["blas_kernel"] = blas_kernels()
        try:
            try:
                work = case.build()
                # The cyclic GC's full collections scan every live object: here pytest, torch,
                # jax and the cases that ran before, which a user's script would not hold.
                # gc.freeze() makes collections skip everything that exists now (the case's
                # model and data too), so a case pays for the objects its calls make, not for
                # the harness's. Frozen before the first call, so that each timed round also
                # collects the garbage the call before it left, as a training loop's steps do.
                gc.freeze()
                started = time.perf_counter()
                work()  # the first call checks that it runs, compiles (jax.jit), warms caches
                seconds = time.perf_counter() - started
                if not case.slow:
                    started = time.perf_counter()
                    work()
                    seconds = time.perf_counter() - started
            except case.may_fail as exc:
                # A known limit of this system (micrograd's recursive sort): report, not crash.
                reason = f"{type(exc).__name__}: {str(exc)[:120]}"
                request.node.user_properties.append(("known_failure", reason))
                pytest.skip(f"{label}: {reason}")
            benchmark.extra_info.update(getattr(work, "extra_info", {}))
            rounds, warmup = plan_rounds(seconds, case.slow)
            share = cpu_share.CpuShare(PINNED_CPU)
            benchmark.pedantic(work, rounds=rounds, warmup_rounds=warmup, iterations=1)
            # how much of the pinned CPU other processes took while this case was timed
            benchmark.extra_info["others_share"] = share.result()["others_share"]
        finally:
            gc.unfreeze()  # (harmless if nothing was frozen)
        if benchmark.stats is None:  # benchmarks disabled: nothing was timed
            return
        median = benchmark.stats.stats.median
        if case.flops:
            benchmark.extra_info["flops"] = case.flops
            benchmark.extra_info["gflops_per_s"] = case.flops / median / 1e9
        if case.per_item:
            count, item = case.per_item
            benchmark.extra_info.update(per_item_s=median / count, item=item)
    return run


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    case = getattr(item, "callspec", None) and item.callspec.params.get("case")
    if case is not None and (report.when == "call" or report.outcome != "passed"):
        properties = dict(report.user_properties)
        outcome, reason = report.outcome, ""
        if "known_failure" in properties:
            outcome, reason = "known failure", properties["known_failure"]
        elif report.skipped and isinstance(report.longrepr, tuple):
            reason = report.longrepr[2].removeprefix("Skipped: ")
        elif report.failed and call.excinfo is not None:
            reason = f"{call.excinfo.typename}: {str(call.excinfo.value)[:200]}"
        _outcomes.append({"workload": case.workload, "variant": case.variant,
                          "system": properties.get("system", case.system), "unit": case.unit,
                          "outcome": outcome, "reason": reason, "nodeid": report.nodeid})
    return report


def _version(module_name):
    module = sys.modules.get(module_name)
    version = getattr(module, "__version__", None)
    if version is None:
        try:
            version = importlib.metadata.version(DISTRIBUTIONS.get(module_name, module_name))
        except importlib.metadata.PackageNotFoundError:
            version = "unknown"
    return str(version)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def simd_level():
    """The widest SIMD the CPU offers, from /proc/cpuinfo's flags: "AVX-512", "AVX2" (with FMA
    or without), "NEON" (ARM's asimd), else "SSE2 or less" / "unknown"."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            flags = set()
            for line in cpuinfo:
                if line.startswith(("flags", "Features")):
                    flags.update(line.split(":", 1)[1].split())
    except OSError:
        return "unknown"
    if "avx512f" in flags:
        return "AVX-512"
    if "avx2" in flags:
        return "AVX2 + FMA" if "fma" in flags else "AVX2"
    if "asimd" in flags or "neon" in flags:
        return "NEON"
    return "SSE2 or less" if flags else "unknown"


def blas_kernels():
    """The kernel each loaded BLAS runs, e.g. "numpy.libs openblas SkylakeX", and whether the
    environment overrides it."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    kernels = [f"{os.path.basename(os.path.dirname(pool.get('filepath', '')))}"
               f" {pool.get('internal_api')} {pool.get('architecture', '?')}"
               for pool in threadpool_info() if pool.get("user_api") == "blas"]
    override = [f"{name}={os.environ[name]}" for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
                if name in os.environ]
    return ", ".join(kernels) + (f" (forced by {' '.join(override)})" if override else
                                 " (native: no override)")


def blas_description():
    """The BLAS libraries loaded and the kernels they picked, e.g. for numpy's:
    "numpy.libs: openblas 0.3.31 (Haswell), 1 thread(s)"."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    found = [f"{os.path.basename(os.path.dirname(pool.get('filepath', '')))}:"
             f" {pool.get('internal_api')} {pool.get('version')} ({pool.get('architecture', '?')}),"
             f" {pool.get('num_threads')} thread(s)"
             for pool in threadpool_info() if pool.get("user_api") == "blas"]
    return "; ".join(found) or "none found"


def vmath_level():
    """The dispatch level of fastgrad's vectorised kernels in this run ("numpy" on the twin)."""
    fastgrad = sys.modules.get("fastgrad")
    if fastgrad is None:
        return "not loaded"
    from fastgrad import _backend
    return _backend.load(fastgrad.BACKEND).vmath.simd_level()


def pytest_benchmark_update_json(config, benchmarks, output_json):
    versions = {"python": platform.python_version()}
    used = sorted(_modules_used | ({"jaxlib"} if "jax" in _modules_used else set()))
    versions.update((name, _version(name)) for name in used if name in sys.modules)
    if "fastgrad" in versions:
        versions["fastgrad"] += f" ({sys.modules['fastgrad'].BACKEND})"
    output_json["fastgrad_bench"] = {
        "quick": QUICK,
        "cpu_model": cpu_model(),
        "simd": simd_level(),
        "cores": os.cpu_count(),
        "pinned_cpu": PINNED_CPU,
        "blas": blas_description(),
        "vmath_level": vmath_level(),
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "no_extensions": os.environ.get("FASTGRAD_NO_EXTENSIONS", "") not in ("", "0"),
        "versions": versions,
        "outcomes": _outcomes,
    }
