"""Engine overhead benchmarks (per-op cost, a 10^5-node chain): see workloads/engine_overhead.py."""

import pytest

from workloads.registry import pytest_params


@pytest.mark.parametrize("case", pytest_params("OP"))
def test_op_overhead(case, run_case):
    run_case(case)


@pytest.mark.parametrize("case", pytest_params("CHAIN"))
def test_chain(case, run_case):
    run_case(case)
