"""Which systems implement which workload, and how to measure one of them.

A *case* is one system doing one workload (optionally one variant of it, e.g. a dtype or a
depth). Its builder sets up model and data once and returns a zero-argument callable doing ONE
unit of work (one training step, one grad call, ...). Adding a system to a workload is adding one
builder decorated with `@register(...)` in that workload's module.

Systems whose name starts with "fastgrad" are fastgrad's own entries: they get the pytest mark
`fastgrad` (report.py selects them with `-m fastgrad` for the pure-Python run) and are labelled
`fastgrad-<BACKEND>` at run time, so the same code yields "fastgrad-cython" or "fastgrad-python".
"""

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field

# report.py --quick sets this: smaller sizes and fewer rounds, for CI and a first look.
QUICK = os.environ.get("FASTGRAD_BENCH_QUICK", "") not in ("", "0")

# The modules that register cases; a new workload module is added here.
WORKLOAD_MODULES = (
    "w1_micrograd_demo",
    "w2_tiny_mlp",
    "w3_digits",
    "w4_w5_mnist_mlp",
    "w6_scalar_chain",
    "w7_dense_layer",
    "t1_transcendentals",
    "m1_graph_memory",
    "engine_overhead",
    "w8_captured",
    "crossovers",
    "h1_higher_order",
)

_CASES = []


@dataclass(frozen=True)
class Case:
    workload: str                      # "W1" ... "W7", "M1"
    system: str                        # "micrograd", "torch", "fastgrad", "fastgrad-value", ...
    build: Callable[[], Callable[[], object]] = field(repr=False)
    unit: str = "step"                 # what one call of the built callable does
    variant: str = ""                  # row within the workload: "value", "f32", "depth=100000"
    requires: tuple = ()               # modules that must import, else the case is skipped
    may_fail: tuple = ()               # exception types that are a known limit of this system
    flops: float = 0.0                 # FLOPs per unit of work, where that is meaningful
    slow: bool = False                 # seconds per call: fewest rounds, no extra warm-up
    params: dict = field(default_factory=dict)  # sizes etc., recorded in extra_info
    per_item: tuple = ()               # (count, name), e.g. (10**5, "link"): also time per one
    twin: bool = True                  # also timed on the pure-Python twin (False: too big there)
    # Where a workload (variant) has several fastgrad systems, the one whose compiled run is
    # the reference of the group's ratios (else: the first fastgrad system that ran).
    reference: bool = False
    # A FLOP-floor row: the products alone by BLAS. report.py times these rows with the
    # environment's OpenBLAS kernel override (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE) lifted, in a
    # run of their own, so that the floor is BLAS's best kernel on the machine; the kernel that
    # ran is named in the row's note.
    blas_floor: bool = False

    @property
    def id(self):
        return f"{self.variant}-{self.system}" if self.variant else self.system

    @property
    def is_fastgrad(self):
        return self.system.startswith("fastgrad")

    def label(self):
        """The system's name as reported; fastgrad entries carry the backend that ran."""
        if not self.is_fastgrad:
            return self.system
        import fastgrad
        return self.system.replace("fastgrad", f"fastgrad-{fastgrad.BACKEND}", 1)


def register(workload, system, **options):
    """Decorator: register `build` as `system`'s implementation of `workload`."""
    def decorator(build):
        _CASES.append(Case(workload, system, build, **options))
        return build
    return decorator


def _load_workloads():
    for name in WORKLOAD_MODULES:
        importlib.import_module(f"{__package__}.{name}")  # registers on first import only


def cases_for(workload):
    _load_workloads()
    return [case for case in _CASES if case.workload == workload]


# The peers BENCHMARKS.md holds fastgrad's pure-Python twin against ("the twin should not be
# slower than micrograd / HIPS autograd themselves"): report.py also runs them in the twin's
# process, since a comparison across processes also measures the processes (a process that
# has loaded torch and jax keeps freed memory mapped; one that has not faults it in again).
TWIN_PEERS = ("micrograd", "autograd")


def pytest_params(workload):
    """The cases of `workload` as pytest params: id = [variant-]system, mark per kind."""
    import pytest
    params = []
    for case in cases_for(workload):
        marks = [pytest.mark.fastgrad if case.is_fastgrad else pytest.mark.peer]
        if case.system in TWIN_PEERS:
            marks.append(pytest.mark.twin_peer)
        if not case.twin:
            marks.append(pytest.mark.compiled_only)
        if case.blas_floor:
            marks.append(pytest.mark.blas_floor)
        params.append(pytest.param(case, id=case.id, marks=marks))
    return params


def import_requirements(case):
    """Import the case's required modules; raise ImportError naming the first missing one."""
    for name in ("fastgrad",) * case.is_fastgrad + case.requires:
        importlib.import_module(name)
