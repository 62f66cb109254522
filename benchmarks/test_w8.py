"""W8 benchmarks (the demo step, eager and captured): one test per registered system."""

import pytest
from workloads.registry import pytest_params


@pytest.mark.parametrize("case", pytest_params("W8"))
def test_w8(case, run_case):
    run_case(case)
