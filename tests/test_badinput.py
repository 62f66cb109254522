"""The bad-input suite (tests/badinput_cases): every case in its own process, on both
backends: no crash, nothing silently wrong, and each message names the op and the values."""
import json
import os

import pytest
from badinput_cases import load_all
from conftest import compiled_available
from helpers import run_python

CASES = load_all()
BACKENDS = ["python"] + (["cython"] if compiled_available() else [])
RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "badinput_run.py")

_outcomes = {}


def outcomes(backend):
    """Every case's record on ``backend`` (one runner process, which forks one per case)."""
    if backend not in _outcomes:
        env = {"FASTGRAD_NO_EXTENSIONS": "1" if backend == "python" else "0"}
        result = run_python([RUNNER], env=env, timeout=600)
        records = {}
        for line in result.stdout.splitlines():
            record = json.loads(line)
            assert record["backend"] == backend
            records[record["name"]] = record
        assert records, f"the runner printed nothing:\n{result.stderr}"
        _outcomes[backend] = records
    return _outcomes[backend]


def test_the_suite_is_large_enough():
    assert len(CASES) >= 150


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", sorted(CASES))
def test_case(name, backend):
    record = outcomes(backend).get(name)
    assert record is not None, f"{name} was not run"
    problem = CASES[name].check(record)
    assert problem is None, f"{name} on {backend}: {problem}\n{record.get('trace', '')}"
