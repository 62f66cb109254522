"""M1: W1 graph memory (measured in a child process) and the graph build time."""

import pytest

from workloads.registry import pytest_params


@pytest.mark.parametrize("case", pytest_params("M1"))
def test_m1(case, run_case):
    run_case(case)
