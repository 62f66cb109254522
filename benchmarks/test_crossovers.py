"""XO benchmarks: typed loops vs BLAS at small sizes, which set the crossovers in
csrc/blas.pyx (see workloads/crossovers.py)."""

import pytest

from workloads.registry import pytest_params


@pytest.mark.parametrize("case", pytest_params("XO"))
def test_crossovers(case, run_case):
    run_case(case)
