"""Run HIPS autograd's examples/ under autograd and under fastgrad, with only the imports switched.

    python tests/autograd_examples.py [--version 1.9.1] [--system both|autograd|fastgrad]
        [--timeout S] [--iter-cap N] [--keep DIR] [--json FILE] [example ...]

Takes autograd's sdist from the cache ``tests/autograd_suite.py`` downloads it into, copies its
``examples/`` twice into a temporary directory (``under-autograd/`` as shipped, ``under-fastgrad/`` with the
module ``autograd`` renamed to ``fastgrad``: the word as a name, nothing else; ``lstm.py`` and
``rnn.py``, which examples read as training text, stay as shipped and run with ``autograd``
switched to fastgrad's modules at import), and runs each
example script in its own folder as ``python example.py`` would, with

- ``MPLBACKEND=Agg`` (figures are drawn, never shown; ``plt.pause`` only sleeps),
- the network switched off (``socket.socket.connect`` raises), so an example that needs a
  download fails on both sides and leaves the baseline,
- one CPU's worth of BLAS threads, and a time limit per run (``--timeout``),
- numpy's global generator seeded (``numpy.random.seed(0)``) before the example starts, so that
  the examples that draw from it without a seed (define_gradient) print comparable numbers.

``--iter-cap N`` caps the iterations of long examples identically on both sides: the bootstrap
that starts each example wraps ``misc.optimizers.adam / sgd / rmsprop`` of the module it runs on
(autograd's or fastgrad's) so that ``num_iters`` is at most N, and ``scipy.optimize.minimize`` so
that ``options["maxiter"]`` is at most N, before the example starts. The examples' text is never
changed beyond the module name.

Prints one row per example: whether it ran to the end under each system, its time, and whether
the numbers it printed agree (every number in stdout, in order, to ``rtol = atol = 1e-8``; the
examples seed their random draws with ``npr.RandomState(0)`` or ``npr.seed``, so equal numbers
are expected; an example whose two autograd runs differ is marked nondeterministic with
``--recheck``). The baseline is the set of examples autograd runs to the end here. Not collected
by the project's pytest run; it needs the sdist, so CI does not run it.
"""
import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from autograd_suite import MODULE_NAME, sdist

# the same number pattern on both sides; ints and floats, signed, with exponents; not the digits
# of a name (float64 in "np.float64(0.5)")
NUMBER = re.compile(r"(?<![\w.])(?:[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf)\b)")
RTOL = ATOL = 1e-8

# run before the example, in its folder, with the example's path as argv[1]
BOOTSTRAP = r"""
import runpy, socket, sys
def _refuse(*args, **kwargs):
    raise OSError("autograd_examples: network access is switched off")
socket.socket.connect = _refuse
socket.create_connection = _refuse
cap, module = int(sys.argv[2]), sys.argv[3]
if sys.argv[4:] == ["alias"]:
    # the example's text is as shipped (other examples read it as data): the module name
    # autograd is switched to fastgrad at import, for every autograd module the folder names
    import glob, importlib, re
    names = set()
    for source in glob.glob("*.py"):
        with open(source) as f:
            names.update(re.findall(r"\bautograd(?:\.\w+)*", f.read()))
    for name in sorted(names, key=len):
        try:
            sys.modules[name] = importlib.import_module("fastgrad" + name[len("autograd"):])
        except ImportError:
            pass  # a dotted name that is not a module (an attribute)
if cap > 0:
    import functools, importlib
    opt = importlib.import_module(module + ".misc.optimizers")
    def _capped(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            kwargs["num_iters"] = min(kwargs.get("num_iters", cap), cap)
            return f(*args, **kwargs)
        return wrapper
    for name in ("adam", "sgd", "rmsprop"):
        setattr(opt, name, _capped(getattr(opt, name)))
    import scipy.optimize
    _minimize = scipy.optimize.minimize
    @functools.wraps(_minimize)
    def minimize(*args, **kwargs):
        options = dict(kwargs.get("options") or {})
        options["maxiter"] = min(options.get("maxiter", cap), cap)
        kwargs["options"] = options
        return _minimize(*args, **kwargs)
    scipy.optimize.minimize = minimize
import numpy
numpy.random.seed(0)  # the examples that draw from the global generator unseeded
path = sys.argv[1]
sys.argv = [path]
runpy.run_path(path, run_name="__main__")
"""


# examples that some example reads as its training text (lstm and rnn their own source, hmm_em
# lstm's): under-fastgrad keeps them as shipped, so that the data are the same on both sides,
# and runs them with the module name switched at import instead (BOOTSTRAP's "alias")
SOURCE_AS_DATA = ("lstm.py", "rnn.py")


def example_scripts(root):
    """The runnable example scripts under ``root`` (helper modules excluded), sorted."""
    helpers = {"__init__.py", "data.py", "data_mnist.py"}
    found = [p for p in root.rglob("*.py") if p.name not in helpers]
    return sorted(found, key=lambda p: str(p.relative_to(root)))


def extract(archive, into):
    """autograd's examples/ as ``into/under-autograd`` (as shipped) and ``into/under-fastgrad`` (renamed)."""
    with tarfile.open(archive) as tar:
        members = [m for m in tar.getmembers() if "/examples/" in m.name and m.isfile()]
        tar.extractall(into, members=members, filter="data")
    shipped = next(Path(into).glob("autograd-*/examples"))
    roots = {m: Path(into) / f"under-{m}" for m in ("autograd", "fastgrad")}
    shutil.copytree(shipped, roots["autograd"])
    shutil.copytree(shipped, roots["fastgrad"])
    for path in roots["fastgrad"].rglob("*.py"):
        if path.name in SOURCE_AS_DATA:
            continue
        path.write_text(MODULE_NAME.sub("fastgrad", path.read_text()))
    return roots


def run_one(script, module, repo, timeout, cap):
    """Run one example; returns dict(ok, seconds, stdout, stderr tail, reason)."""
    env = dict(os.environ)
    env.update(MPLBACKEND="Agg", OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
               MKL_NUM_THREADS="1", PYTHONHASHSEED="0")
    if module == "fastgrad":
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH")]))
    start = time.perf_counter()
    try:
        alias = ["alias"] if module == "fastgrad" and script.name in SOURCE_AS_DATA else []
        run = subprocess.run([sys.executable, "-c", BOOTSTRAP, script.name, str(cap), module,
                              *alias],
                             cwd=script.parent, env=env, capture_output=True, text=True,
                             timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return {"ok": False, "seconds": time.perf_counter() - start, "stdout": out,
                "reason": f"timeout after {timeout} s"}
    seconds = time.perf_counter() - start
    reason = ""
    if run.returncode:
        lines = [ln for ln in run.stderr.strip().splitlines() if ln.strip()]
        reason = lines[-1][:160] if lines else f"exit status {run.returncode}"
    return {"ok": run.returncode == 0, "seconds": seconds, "stdout": run.stdout,
            "reason": reason, "stderr": run.stderr[-4000:]}


def numbers(text):
    return [float(m) for m in NUMBER.findall(text)]


def compare(a, b):
    """'same' if the printed numbers agree to rtol = atol = 1e-8, else a short description."""
    x, y = numbers(a), numbers(b)
    if len(x) != len(y):
        return f"{len(x)} vs {len(y)} numbers"
    worst, where = 0.0, None
    for i, (u, v) in enumerate(zip(x, y)):
        if u == v or (math.isnan(u) and math.isnan(v)):
            continue
        err = abs(u - v) / (ATOL + RTOL * abs(u))
        if err > worst:
            worst, where = err, i
    if worst <= 1.0:
        return "same"
    return f"differ: #{where} {x[where]!r} vs {y[where]!r} of {len(x)}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default="1.9.1")
    parser.add_argument("--system", choices=("both", "autograd", "fastgrad"), default="both")
    parser.add_argument("--timeout", type=float, default=900.0)
    parser.add_argument("--iter-cap", type=int, default=0,
                        help="at most N iterations of misc.optimizers' adam/sgd/rmsprop and of "
                             "scipy.optimize.minimize (the same on both sides)")
    parser.add_argument("--recheck", action="store_true",
                        help="run autograd again where the numbers differ (nondeterminism)")
    parser.add_argument("--keep", help="extract into this folder and keep it (and the outputs)")
    parser.add_argument("--autograd-from", metavar="DIR",
                        help="take autograd's runs from an earlier --keep DIR (same --iter-cap) "
                             "instead of running them again")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("examples", nargs="*", help="example names (default: all)")
    args = parser.parse_args(argv)
    archive = sdist(args.version)
    if args.autograd_from:
        args.system = "both"
    workdir = args.keep or tempfile.mkdtemp(prefix="autograd-examples-")
    repo = Path(__file__).resolve().parent.parent
    systems = ("autograd", "fastgrad") if args.system == "both" else (args.system,)
    results = {}
    try:
        roots = extract(archive, workdir)
        names = [str(p.relative_to(roots["autograd"])) for p in example_scripts(roots["autograd"])]
        if args.examples:
            wanted = {e.removesuffix(".py") for e in args.examples}
            names = [n for n in names if n.removesuffix(".py") in wanted
                     or Path(n).stem in wanted]
        for name in names:
            row = results[name] = {}
            for system in systems:
                if system == "autograd" and args.autograd_from:
                    row[system] = json.loads(
                        (Path(args.autograd_from) / "under-autograd" / (name + ".json")).read_text())
                    if row[system]["iter_cap"] != args.iter_cap:
                        raise SystemExit(f"{args.autograd_from} ran with --iter-cap "
                                         f"{row[system]['iter_cap']}, not {args.iter_cap}")
                    continue
                row[system] = run_one(roots[system] / name, system, repo, args.timeout,
                                      args.iter_cap)
                if args.keep:
                    (roots[system] / (name + ".json")).write_text(json.dumps(
                        dict(row[system], iter_cap=args.iter_cap)))
            if len(systems) == 2 and row["autograd"]["ok"] and row["fastgrad"]["ok"]:
                row["numbers"] = compare(row["autograd"]["stdout"], row["fastgrad"]["stdout"])
                if row["numbers"] != "same" and args.recheck:
                    again = run_one(roots["autograd"] / name, "autograd", repo, args.timeout,
                                    args.iter_cap)
                    if again["ok"] and compare(row["autograd"]["stdout"],
                                               again["stdout"]) != "same":
                        row["numbers"] += " (autograd nondeterministic)"
            print(format_row(name, row, systems), flush=True)
        summarize(results, systems)
        if args.json:
            Path(args.json).write_text(json.dumps(
                {n: {k: ({kk: vv for kk, vv in v.items() if kk not in ("stdout", "stderr")}
                         if isinstance(v, dict) else v) for k, v in r.items()}
                 for n, r in results.items()}, indent=1))
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def format_row(name, row, systems):
    cells = []
    for system in systems:
        r = row[system]
        cells.append(f"{system}: {'ok' if r['ok'] else 'FAIL'} {r['seconds']:6.1f}s"
                     + ("" if r["ok"] else f" [{r['reason']}]"))
    if "numbers" in row:
        cells.append(f"numbers: {row['numbers']}")
    return f"{name:38} " + " | ".join(cells)


def summarize(results, systems):
    base = [n for n, r in results.items() if r[systems[0]]["ok"]]
    print(f"\n{systems[0]} runs {len(base)} of {len(results)} examples to the end")
    if len(systems) == 2:
        ran = [n for n in base if results[n]["fastgrad"]["ok"]]
        same = [n for n in ran if results[n].get("numbers") == "same"]
        print(f"fastgrad runs {len(ran)} of those {len(base)}; "
              f"{len(same)} print the same numbers (rtol = atol = {RTOL:g})")
        extra = [n for n, r in results.items() if r["fastgrad"]["ok"] and n not in base]
        if extra:
            print("fastgrad also runs:", ", ".join(extra))


if __name__ == "__main__":
    sys.exit(main())
