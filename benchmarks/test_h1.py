"""H1 benchmarks: one test per registered system (see workloads/ and conftest.run_case)."""

import pytest

from workloads.registry import pytest_params


@pytest.mark.parametrize("case", pytest_params("H1"))
def test_h1(case, run_case):
    run_case(case)
