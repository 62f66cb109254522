"""Every system of a workload computes the same thing: compare their first unit of work.

Each builder's callable returns what its first call computed (the loss before the update, or
the gradients); within a (workload, variant) group those must agree, or the timings would
compare different work. Baselines that return nothing (flop-floor, numpy-matmul) are left out.
Not a timing: this runs (quickly) with or without --benchmark-enable.
"""

import numpy as np
import pytest

from workloads.registry import cases_for, import_requirements
from workloads.w6_scalar_chain import SHALLOW_CASE

WORKLOADS = ("W1", "W2", "W3", "W4", "W5", "W6", "T1", "H1")
FLOAT32_WORKLOADS = ("W4", "W5")  # and the variants named "... f32" (T1)
# W1's variants are two faces (scalar, tensor) of one computation: compare them together.
ONE_GROUP_WORKLOADS = ("W1",)
# The deep W6 chain takes seconds and micrograd cannot do it; the shallow one checks the same.
LEFT_OUT_VARIANTS = {("W6", variant) for variant in
                     {case.variant for case in cases_for("W6")} - {SHALLOW_CASE["variant"]}}
# H1 egrad6: autograd's own sixth derivative of (1 - e^-2x) / (1 + e^-2x) loses every digit at
# |x| > 5.5 (off by up to 2e6 from the exact derivatives, which are at most 52 there), so the
# systems cannot agree; tests/test_higher_order.py checks fastgrad's against the exact values.
LEFT_OUT_VARIANTS.add(("H1", "egrad6"))


def groups():
    found = {}
    for workload in WORKLOADS:
        for case in cases_for(workload):
            if (workload, case.variant) in LEFT_OUT_VARIANTS:
                continue
            variant = "" if workload in ONE_GROUP_WORKLOADS else case.variant
            found.setdefault((workload, variant), []).append(case)
    return [pytest.param(cases, id=f"{w}-{v}" if v else w)
            for (w, v), cases in found.items() if len(cases) > 1]


def as_flat_array(result):
    """A loss or a list of gradients, from any system, as one float64 vector."""
    if isinstance(result, (list, tuple)):
        return np.concatenate([as_flat_array(part) for part in result])
    return np.ravel(np.asarray(result, dtype=np.float64))


@pytest.mark.parametrize("cases", groups())
def test_systems_agree(cases):
    results = {}
    for case in cases:
        try:
            import_requirements(case)
            result = case.build()()
        except ImportError:
            continue
        except case.may_fail:
            continue  # reported by the benchmark itself (e.g. micrograd's RecursionError)
        if result is not None:
            results[case.id] = as_flat_array(result)
    if len(results) < 2:
        pytest.skip("fewer than two systems of this group can run here")
    float32 = cases[0].workload in FLOAT32_WORKLOADS or cases[0].variant.endswith("f32")
    rtol = 1e-4 if float32 else 1e-9
    (first_id, expected), *others = results.items()
    for case_id, actual in others:
        np.testing.assert_allclose(actual, expected, rtol=rtol, err_msg=f"{case_id} vs {first_id}")

