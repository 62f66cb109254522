"""Run the benchmark suite and print one table of medians and ratios (also JSON and a PNG).

    python benchmarks/report.py [--quick] [--json PATH] [--png PATH] [--markdown PATH]

Runs `pytest benchmarks --benchmark-enable` once; then, if fastgrad's compiled entries ran, runs
them again with FASTGRAD_NO_EXTENSIONS=1 and `-m "(fastgrad or twin_peer) and not compiled_only"`,
so that the pure-Python twins appear as "fastgrad-python" beside them, with micrograd and HIPS
autograd timed again in that same process: a twin's note compares it with them within its own run.
Each table row is one system on one workload (variant); "x ref" is its median divided by the
row group's reference (see `pick_reference`): fastgrad's compiled entry, the one registered with
`reference=True` where a workload has several fastgrad systems (W3: fastgrad-nn; W6: fastgrad,
the Value face). A twin's note also gives its ratio to its own compiled entry. The table is also
written as Markdown (with the date, machine and versions) for pasting into the README.
Nothing is asserted: CI runs `--quick` to see that every benchmark still runs.
"""

import argparse
import json
import os
import subprocess
import sys
import time

import cpu_share
import onecore

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(BENCH_DIR)
RESULTS_DIR = os.path.join(BENCH_DIR, "results")  # git-ignored
# A row's note flags it when other processes took at least this share of the pinned CPU while
# it was timed: its median is then slower than the machine can do.
SHARED_NOTE_FROM = 0.10
WORKLOAD_ORDER = ["W1", "W2", "W3", "W4", "W5", "W6", "W7", "W8", "H1", "T1", "M1", "OP", "CHAIN",
                  "XO"]
# One line per workload under the Markdown table (BENCHMARKS.md has the full definitions).
WORKLOAD_TITLES = {
    "W1": "micrograd's demo step: moons n=100, MLP(2,[16,16,1]) ReLU, hinge + 1e-4 L2, SGD",
    "W2": "one grad(loss)(weights) call, 3-3-2 MLP, sigmoid, softmax cross-entropy",
    "W3": "full-batch GD step on sklearn's digits (1797x64), MLP 64-64-10 tanh, float64",
    "W4": "SGD step, MLP 784-256-256-10 tanh, softmax CE, float32, batch 64",
    "W5": "the same at batch 1024",
    "W6": "scalar chain h = tanh(h w + b), forward + backward",
    "W7": "dense layer tanh(x W + b) forward + backward, n x n",
    "W8": "the fastgrad-demo step: 2-32-32-2 tanh MLP, batch 32, momentum SGD (capture)",
    "H1": "higher order: Hessian of W2's loss (15 weights); egrad of tanh six deep, 700 points",
    "T1": "tanh / exp / log of one 1797x64 array (fastgrad: its vectorised kernels)",
    "M1": "memory of one W1 graph (one forward of the demo loss, before backward)",
    "OP": "engine overhead: one op (or a tiny graph) on tiny tensors",
    "CHAIN": "engine overhead: a chain of one-element tensor ops, forward + backward",
    "XO": "typed loops vs BLAS at small m x k x n: sets the crossovers in csrc/blas.pyx",
}


# The environment variables that force OpenBLAS's kernel (lifted for the FLOP-floor rows only).
KERNEL_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

# The twin's run: fastgrad's entries and the peers compared with the twins, except the cases too
# big for the twin (W6's depths of 10^6 and 10^7).
TWIN_RUN_SELECTION = "(fastgrad or twin_peer) and not compiled_only"


def run_pytest(raw_json, quick, extra_args=(), extra_env=None, drop_env=()):
    """Run the suite into `raw_json`; return pytest's exit code (its output goes to a log)."""
    env = dict(os.environ, **(extra_env or {}))
    for name in drop_env:
        env.pop(name, None)
    if quick:
        env["FASTGRAD_BENCH_QUICK"] = "1"
    command = [sys.executable, "-m", "pytest", BENCH_DIR, "--benchmark-enable",
               f"--benchmark-json={raw_json}", "-q", "-rfEs", *extra_args]
    log_path = raw_json[:-len(".json")] + ".log"
    with open(log_path, "w") as log:
        # cwd = benchmarks/: `python -m pytest` puts the working directory first on sys.path, and
        # from the repository root that would import the source tree's fastgrad (uncompiled
        # unless built in place) instead of the installed one that the tests use
        code = subprocess.call(command, cwd=BENCH_DIR, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    if code not in (0, 5):  # 5: nothing selected (no fastgrad cases yet)
        with open(log_path) as log:
            tail = log.read()[-3000:]
        print(f"pytest exited with {code}; end of {log_path}:\n{tail}", file=sys.stderr)
    return code


def load_rows(raw_json):
    """One row per case: the timed ones from pytest-benchmark, the others from the outcomes."""
    with open(raw_json) as f:
        raw = json.load(f)
    meta = raw.get("fastgrad_bench", {})
    order = {outcome["nodeid"]: i for i, outcome in enumerate(meta.get("outcomes", []))}
    rows = []
    for bench in raw.get("benchmarks", []):
        info = bench["extra_info"]
        row = {key: info.get(key, "") for key in ("workload", "variant", "system", "unit")}
        row.update(status="ok", median_s=bench["stats"]["median"],
                   rounds=bench["stats"]["rounds"], order=order.get(bench["fullname"], 0))
        for key in ("gflops_per_s", "bytes", "bytes_per_node", "nodes", "method",
                    "micrograd_nodes", "bytes_per_micrograd_node",
                    "tracemalloc_peak_bytes", "tracemalloc_bytes_per_node", "others_share",
                    "per_item_s", "item", "blas_kernel"):
            if key in info:
                row[key] = info[key]
        row["is_reference"] = bool(info.get("reference"))  # registered with reference=True
        rows.append(row)
    for outcome in meta.get("outcomes", []):
        if outcome["outcome"] != "passed":
            row = {key: outcome[key] for key in ("workload", "variant", "system", "unit")}
            row.update(status=outcome["outcome"], reason=outcome["reason"],
                       order=order[outcome["nodeid"]])
            rows.append(row)
    return rows, meta


def measure_of(row):
    """What the ratio compares: bytes for memory (M1), the median time otherwise."""
    return row.get("bytes") if row["workload"] == "M1" else row.get("median_s")


FASTGRAD_BACKENDS = ("fastgrad-cython", "fastgrad-python")


def backend_of(system):
    """"fastgrad-cython" / "fastgrad-python" for fastgrad's rows, None for peers."""
    for backend in FASTGRAD_BACKENDS:
        if system == backend or system.startswith(backend + "-"):
            return backend
    return None


def face_of(system):
    """A fastgrad row's system without its backend ("fastgrad-cython-nn" -> "fastgrad-nn")."""
    backend = backend_of(system)
    return "fastgrad" + system[len(backend):] if backend else system


def pick_reference(measured):
    """The row a group's ratios are taken against: fastgrad's compiled run of the system
    registered as the reference, else of the first fastgrad system; then the same among the
    Python twins (when nothing was compiled); else the group's first row."""
    for backend in FASTGRAD_BACKENDS:
        runs = [row for row in measured if backend_of(row["system"]) == backend]
        flagged = [row for row in runs if row.get("is_reference")]
        if flagged or runs:
            return (flagged or runs)[0]
    return measured[0] if measured else None


def add_ratios(rows):
    """Each row's ratio to its group's reference; a twin's ratio to its compiled entry and to
    the peers timed in its own run (a peer's "twin run" timing is kept for that, and dropped
    from the rows). Returns the rows to show."""
    groups = {}
    for row in rows:
        groups.setdefault((row["workload"], row["variant"]), []).append(row)
    for group in groups.values():
        beside_twins = [row for row in group if row.get("twin_run_peer")
                        and row["status"] == "ok" and measure_of(row)]
        group[:] = [row for row in group if not row.get("twin_run_peer")]
        for row in group:
            if backend_of(row["system"]) == "fastgrad-python" and row["status"] == "ok":
                row["vs_twin_run_peers"] = {peer["system"]: measure_of(row) / measure_of(peer)
                                            for peer in beside_twins}
        measured = [row for row in group if row["status"] == "ok" and measure_of(row)]
        reference = pick_reference(measured)
        compiled = {face_of(row["system"]): row for row in measured
                    if backend_of(row["system"]) == "fastgrad-cython"}
        for row in group:
            row["reference"] = reference["system"] if reference else ""
            if row in measured:
                row["ratio"] = measure_of(row) / measure_of(reference)
                twin_of = compiled.get(face_of(row["system"]))
                if backend_of(row["system"]) == "fastgrad-python" and twin_of:
                    row["vs_compiled"] = measure_of(row) / measure_of(twin_of)
    return [row for group in groups.values() for row in group]


def sort_rows(rows):
    """Workloads in BENCHMARKS.md's order; within a group, fastgrad first (the reference's
    system, then the others in the order they ran, each compiled then twin), then the peers
    in the order they ran."""
    group_order, face_order = {}, {}
    for row in rows:
        key = (row["workload"], row["variant"])
        group_order[key] = min(group_order.get(key, row["order"]), row["order"])
        if backend_of(row["system"]):
            face = face_of(row["system"])
            first = 0 if row["reference"] and face == face_of(row["reference"]) else 1
            rank = (first, row["order"])
            face_order[key + (face,)] = min(face_order.get(key + (face,), rank), rank)

    def key(row):
        workload = row["workload"]
        rank = WORKLOAD_ORDER.index(workload) if workload in WORKLOAD_ORDER else len(WORKLOAD_ORDER)
        group = (workload, row["variant"])
        backend = backend_of(row["system"])
        if backend:
            within = (0, face_order[group + (face_of(row["system"]),)],
                      FASTGRAD_BACKENDS.index(backend), row["order"])
        else:
            within = (1, (0, 0), 0, row["order"])
        return rank, workload, group_order[group], within
    rows.sort(key=key)


def format_seconds(seconds):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def format_ratio(ratio):
    """3 significant digits, without exponents: 0.0123, 0.45, 1.23, 45.6, 2040."""
    if ratio >= 100:
        return f"{ratio:.0f}"
    return f"{ratio:.3g}" if ratio >= 0.001 else f"{ratio:.2g}"


def format_bytes(count):
    return f"{count / 1e6:.3g} MB" if count >= 1e5 else f"{count:.0f} B"


def cells(row):
    """(measure, per, ratio, note) as printed."""
    if row["status"] != "ok":
        return "-", row["unit"], "-", f"{row['status'].upper()}: {row.get('reason', '')}"
    ratio = format_ratio(row["ratio"]) if "ratio" in row else "-"
    notes = []
    if row["workload"] != "M1" and (row.get("others_share") or 0) >= SHARED_NOTE_FROM:
        notes.append(f"CPU shared: other processes took {row['others_share']:.0%} of it")
    if "vs_compiled" in row:
        notes.append(f"{format_ratio(row['vs_compiled'])}x its compiled entry")
    for peer, vs_peer in row.get("vs_twin_run_peers", {}).items():
        notes.append(f"{format_ratio(vs_peer)}x {peer} timed in the same run")
    if row["workload"] == "M1" and "bytes" in row:
        if row.get("micrograd_nodes", row["nodes"]) != row["nodes"]:
            notes.append(f"{row['bytes_per_micrograd_node']:.3g} B per micrograd-equivalent node"
                         f" ({row['micrograd_nodes']})")
        notes += [f"{row['bytes_per_node']:.0f} B/node over its own {row['nodes']} nodes"
                  f" ({row['method']})",
                  f"tracemalloc {format_bytes(row['tracemalloc_peak_bytes'])},"
                  f" {row['tracemalloc_bytes_per_node']:.0f} B/node",
                  f"build {format_seconds(row['median_s'])}"]
        return format_bytes(row["bytes"]), "graph", ratio, "; ".join(notes)
    if "blas_kernel" in row:
        notes.append(f"kernel: {row['blas_kernel']}")
    if "gflops_per_s" in row:
        notes.insert(0, f"{row['gflops_per_s']:.1f} GFLOP/s")
    if "per_item_s" in row:
        notes.insert(0, f"{format_seconds(row['per_item_s'])} per {row['item']}")
    return format_seconds(row["median_s"]), row["unit"], ratio, "; ".join(notes)


def print_table(rows):
    header = ("workload", "variant", "system", "median", "per", "x ref", "ref", "note")
    lines = [header]
    for row in rows:
        measure, per, ratio, note = cells(row)
        lines.append((row["workload"], row["variant"], row["system"], measure, per, ratio,
                      row["reference"], note))
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header) - 1)]
    for line in lines:
        print("  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)), line[-1])


def print_machine(meta, versions):
    print(f"machine: {meta.get('cpu_model', '?')} ({meta.get('simd', '?')}),"
          f" {meta.get('cores', '?')} cores,"
          f" pinned to CPU {meta.get('pinned_cpu', '?')}; BLAS: {meta.get('blas')};"
          f" fastgrad's vectorised kernels: {meta.get('vmath_level', '?')}")
    print(f"date: {meta.get('date', '?')}   mode: {'quick' if meta.get('quick') else 'full'}")
    print("versions: " + ", ".join(f"{name} {version}" for name, version in versions.items()))
    print(sharing_line(meta))


def sharing_line(meta):
    """How much other processes used the pinned CPU, per run."""
    runs = meta.get("sharing", {})
    return "sharing: " + ("; ".join(f"{name}: {cpu_share.describe(share)}"
                                    for name, share in runs.items()) or "not measured")


def markdown_cell(text):
    return str(text).replace("|", "\\|")


def write_markdown(rows, meta, versions, quick, path, note=""):
    """The table as Markdown, headed by the date, the machine and every version measured, for
    pasting into the README."""
    date = (meta.get("date") or "?").replace("T", " ")[:16]
    lines = [f"Measured {date} ({'quick sizes' if quick else 'full sizes'}) on"
             f" {meta.get('cpu_model', '?')} ({meta.get('simd', '?')}),"
             f" {meta.get('cores', '?')} cores, pinned to CPU"
             f" {meta.get('pinned_cpu', '?')}, one thread; BLAS: {meta.get('blas')}.",
             "",
             "Versions: " + ", ".join(f"{name} {version}" for name, version in versions.items())
             + "."]
    lines += ["", sharing_line(meta).replace("sharing: ", "While it ran: ", 1) + "."]
    if note:
        lines += ["", note]
    lines += ["",
              "| workload | variant | system | median | per | x ref | note |",
              "|---|---|---|--:|---|--:|---|"]
    for row in rows:
        measure, per, ratio, cell_note = cells(row)
        system = row["system"]
        if system == row["reference"]:
            system = f"**{system}**"
        lines.append("| " + " | ".join(markdown_cell(cell) for cell in (
            row["workload"], row["variant"], system, measure, per, ratio, cell_note)) + " |")
    workloads = [w for w in WORKLOAD_TITLES if any(row["workload"] == w for row in rows)]
    lines += ["",
              "x ref: the median divided by that of the row group's reference (in bold),"
              " fastgrad's compiled entry; lower is faster (M1: bytes, lower is smaller)."
              " fastgrad-python is fastgrad's pure-Python twin (FASTGRAD_NO_EXTENSIONS=1),"
              " measured in a second run right after the first, which measured everything"
              " else: compare within one run; absolute times vary on a shared machine."
              f" \"CPU shared\" marks a row during whose timing other processes took at least"
              f" {SHARED_NOTE_FROM:.0%} of the pinned CPU: its median is slower than the machine"
              " can do, and so is its ratio if its reference was timed alone.",
              ""]
    lines += [f"- {w}: {WORKLOAD_TITLES[w]}" for w in workloads]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"wrote {path}")


def write_png(rows, path):
    try:
        import matplotlib
    except ImportError:
        print("matplotlib not installed: no PNG written")
        return
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [row for row in rows if "ratio" in row]
    if not shown:
        return
    labels = [f"{r['workload']} {r['variant']} | {r['system']}".replace("  ", " ") for r in shown]
    fig, ax = plt.subplots(figsize=(9, 0.3 * len(shown) + 1.5))
    ax.barh(range(len(shown)), [row["ratio"] for row in shown],
            color=["tab:orange" if r["system"].startswith("fastgrad") else "tab:blue"
                   for r in shown])
    ax.set_yticks(range(len(shown)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.axvline(1.0, color="black", linewidth=0.8)
    ax.set_xlabel("median / reference of its workload (lower is faster; M1: bytes)")
    ax.set_title("fastgrad benchmarks")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    print(f"wrote {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smaller sizes, fewer rounds (under a minute; what CI runs)")
    parser.add_argument("--json", default=os.path.join(RESULTS_DIR, "report.json"),
                        help="where to write the table as JSON (default: %(default)s)")
    parser.add_argument("--png", default=os.path.join(RESULTS_DIR, "report.png"),
                        help="where to write the bar chart (default: %(default)s)")
    parser.add_argument("--markdown", default=os.path.join(RESULTS_DIR, "report.md"),
                        help="where to write the table as Markdown, with date, machine and"
                             " versions, for the README (default: %(default)s)")
    parser.add_argument("--note", default="",
                        help="a line for the Markdown, e.g. what else ran on the machine")
    args = parser.parse_args()
    os.makedirs(RESULTS_DIR, exist_ok=True)
    started = time.perf_counter()

    compiled_json = os.path.join(RESULTS_DIR, "pytest-benchmark.json")
    cpu = onecore.chosen_cpu()  # the CPU the suite will pin itself to
    sharing = {}
    share = cpu_share.CpuShare(cpu)
    # The FLOP floor is BLAS's best kernel: where the environment forces an OpenBLAS kernel, the
    # floor rows run apart, with the override lifted (OpenBLAS reads it when it loads).
    overrides = [name for name in KERNEL_OVERRIDES if name in os.environ]
    code = run_pytest(compiled_json, args.quick, ["-m", "not blas_floor"] if overrides else [])
    sharing["first run"] = share.result()
    if not os.path.exists(compiled_json):
        sys.exit(f"pytest wrote no results (exit code {code})")
    rows, meta = load_rows(compiled_json)
    if overrides:
        floor_json = os.path.join(RESULTS_DIR, "pytest-benchmark-floors.json")
        share = cpu_share.CpuShare(cpu)
        run_pytest(floor_json, args.quick, ["-m", "blas_floor"], drop_env=overrides)
        sharing["floor run"] = share.result()
        if os.path.exists(floor_json):
            floor_rows, _ = load_rows(floor_json)
            for row in floor_rows:
                row["order"] += len(rows)
            rows += floor_rows
    versions = dict(meta.get("versions", {}))
    # The twins get their own run only if the first run had the compiled backend to compare.
    if any(row["system"].startswith("fastgrad-cython") and row["status"] == "ok" for row in rows):
        python_json = os.path.join(RESULTS_DIR, "pytest-benchmark-no-extensions.json")
        share = cpu_share.CpuShare(cpu)
        twin_code = run_pytest(python_json, args.quick, ["-m", TWIN_RUN_SELECTION],
                               {"FASTGRAD_NO_EXTENSIONS": "1"})
        sharing["twin run"] = share.result()
        if twin_code == 0:
            python_rows, python_meta = load_rows(python_json)
            for row in python_rows:  # after the first run's rows of the same group
                row["order"] += len(rows)
                if not row["system"].startswith("fastgrad"):
                    row["twin_run_peer"] = True  # timed beside the twins: not a row of its own
            rows += python_rows
            if "fastgrad" in python_meta.get("versions", {}):
                versions["fastgrad (no extensions)"] = python_meta["versions"]["fastgrad"]

    rows = add_ratios(rows)
    sort_rows(rows)
    meta["sharing"] = sharing
    print_machine(meta, versions)
    print_table(rows)
    report = {"machine": {key: meta.get(key) for key in
                          ("cpu_model", "simd", "cores", "pinned_cpu", "blas",
                           "vmath_level")},
              "date": meta.get("date"), "quick": args.quick, "versions": versions,
              "cpu_sharing": sharing, "rows": rows}
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(report, f, indent=1)
    print(f"wrote {args.json}")
    if args.markdown:
        write_markdown(rows, meta, versions, args.quick, args.markdown, args.note)
    if args.png:
        write_png(rows, args.png)
    print(f"took {time.perf_counter() - started:.0f} s")
    sys.exit(0 if code in (0, 5) else code)


if __name__ == "__main__":
    main()
