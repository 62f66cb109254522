"""Run HIPS autograd's own test suite against fastgrad, with only the imports switched.

    python tests/autograd_suite.py [--version 1.9.1] [--keep DIR] [pytest args ...]

Downloads autograd's sdist from the package index (``pip download --no-binary``) into a cache
outside the repository (``$XDG_CACHE_HOME/fastgrad`` or ``~/.cache/fastgrad``), copies its
``tests/`` into a temporary directory, renames the module ``autograd`` to ``fastgrad`` in them
(``import autograd.numpy as np`` becomes ``import fastgrad.numpy as np``, and so on: the word
``autograd`` as a name, nothing else), and runs pytest there against the fastgrad that Python
imports. Prints the passes per test file and the total; the exit status is pytest's.
Not collected by the project's own pytest run (the name does not start with ``test_``); it
downloads, so CI does not run it.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from pathlib import Path

MODULE_NAME = re.compile(r"\bautograd\b")
OUTCOME = re.compile(r"^(PASSED|FAILED|ERROR|XFAIL|XPASS)\s+(\S+?)(::\S*)?(\s|$)")
SKIPPED = re.compile(r"^SKIPPED \[(\d+)\] (\S+?\.py)")


def cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "fastgrad"


def sdist(version):
    """Path of autograd's sdist, downloaded once."""
    where = cache_dir()
    where.mkdir(parents=True, exist_ok=True)
    found = sorted(where.glob(f"autograd-{version}.tar.gz"))
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary",
                        ":all:", f"autograd=={version}", "-d", str(where), "-q"], check=True)
        found = sorted(where.glob(f"autograd-{version}.tar.gz"))
    return found[0]


def switched_tests(archive, into):
    """autograd's tests/ copied into ``into`` with the module renamed; returns that folder."""
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if "/tests/" in m.name and m.isfile()]
        tar.extractall(into, members=members, filter="data")
    tests = next(Path(into).glob("autograd-*/tests"))
    for path in tests.glob("*.py"):
        path.write_text(MODULE_NAME.sub("fastgrad", path.read_text()))
    return tests


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default="1.9.1")
    parser.add_argument("--keep", help="switch the tests into this folder and keep it")
    args, pytest_args = parser.parse_known_args(argv)
    archive = sdist(args.version)
    workdir = args.keep or tempfile.mkdtemp(prefix="autograd-suite-")
    try:
        tests = switched_tests(archive, workdir)
        repo = Path(__file__).resolve().parent.parent
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH")]))
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:cacheprovider",
             "-o", "addopts=", "-o", "required_plugins=", "--continue-on-collection-errors",
             "--rootdir", str(tests.parent), str(tests), *pytest_args],
            check=False, cwd=tests.parent, env=env, capture_output=True, text=True)
        counts = Counter()
        files = set()
        for line in run.stdout.splitlines():
            match = OUTCOME.match(line)
            if match:
                outcome, where = match.group(1), Path(match.group(2)).name
                counts[outcome, where] += 1
                files.add(where)
            match = SKIPPED.match(line)
            if match:
                where = Path(match.group(2)).name
                counts["SKIPPED", where] += int(match.group(1))
                files.add(where)
        print(f"{'file':28} {'passed':>6} {'failed':>6} {'error':>6} {'skipped':>7}")
        for name in sorted(files):
            print(f"{name:28} {counts['PASSED', name]:6} {counts['FAILED', name]:6} "
                  f"{counts['ERROR', name]:6} {counts['SKIPPED', name]:7}")
        print(run.stdout.splitlines()[-1] if run.stdout else run.stderr[-2000:])
        return run.returncode
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
