"""Run bad-input cases, each in a process of its own; print one JSON record per case.

    python tests/badinput_run.py [name ...]      (all cases when no name is given)

fastgrad and numpy are imported once, then every case runs in a forked child, so that a case
that crashes (a signal), hangs (killed after TIMEOUT seconds) or leaves state behind cannot
touch another. The backend is the one the environment selects (FASTGRAD_NO_EXTENSIONS=1: the
twins).
"""
import json
import os
import signal
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np
from badinput_cases import Skip, load_all

import fastgrad

TIMEOUT = 60


def run_case(case):
    """The outcome of ``case`` run here (in the child)."""
    try:
        case.fn(fastgrad, np)
    except Skip as e:
        return {"outcome": "skipped", "detail": str(e)}
    except BaseException as e:  # noqa: BLE001 - the outcome is what we report
        return {"outcome": "raised", "type": type(e).__name__,
                "mro": [c.__name__ for c in type(e).__mro__], "message": str(e),
                "trace": traceback.format_exc(limit=-3)}
    return {"outcome": "returned"}


def run_isolated(case):
    """Fork, run the case in the child, collect its record and its exit status."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        signal.alarm(TIMEOUT)  # a hang ends as a SIGALRM "crash"
        record = json.dumps(run_case(case)).encode()
        with os.fdopen(write, "wb") as out:
            out.write(record)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        return {"outcome": "crashed", "detail": f"killed by signal {signal.Signals(sig).name}"}
    if os.WEXITSTATUS(status) or not data:
        return {"outcome": "crashed", "detail": f"exit status {os.WEXITSTATUS(status)}"}
    return json.loads(data)


def main(names):
    cases = load_all()
    for name in names or sorted(cases):
        record = run_isolated(cases[name])
        record["name"] = name
        record["backend"] = fastgrad.BACKEND
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
