"""D1: data-parallel scaling over MPI, fastgrad (and torch DDP over gloo where installed).

    python benchmarks/distributed.py [--ranks 1 2] [--epochs 5] [--repeats 2] [--quick]
                                     [--markdown PATH]

Launches ``mpiexec -n K python benchmarks/distributed.py --worker ...`` for every row; each
rank is pinned to its own CPU (rank r to the r-th allowed CPU) with one BLAS thread. Rows:

- strong scaling: a fixed global batch split between K ranks; time per epoch (median over
  epochs, taken on rank 0 after a barrier), speedup T1/TK and efficiency T1/(K·TK);
- weak scaling: a fixed batch per rank (the global batch grows with K); time per step and
  efficiency T1/TK;
- the step split into compute (forward + backward), reduce (DistributedOptimizer's copy into
  the flat buffer, Allreduce, division: includes waiting for the slower rank) and update, as
  means over the timed steps (what the rest of the step, mostly gathering the batch, takes is
  the per-step time minus their sum); and
  the Allreduce of a buffer of the model's size alone, after a barrier (pure communication).

Workloads: W5 (MLP 784-256-256-10 tanh, softmax CE, float32, SGD, global batch 1024, an epoch
of 8192 MNIST-shaped samples) and digits (sklearn's 1797 images, MLP 64-64-10 tanh, float64,
Adam, global batch 256). Every configuration runs --repeats times, in alternating order; the
table gives the fastest repeat's median. The launcher reports how busy both CPUs were with
other processes while it ran (/proc/stat busy time minus its children's CPU time).
"""
import argparse
import itertools
import json
import os
import platform
import resource
import subprocess
import sys
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(BENCH_DIR)
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

W5 = {"sizes": (784, 256, 256, 10), "dtype": "float32", "batch": 1024, "samples": 8192,
      "lr": 0.01, "optimizer": "sgd"}
DIGITS = {"sizes": (64, 64, 10), "dtype": "float64", "batch": 256, "samples": 1797,
          "lr": 0.01, "optimizer": "adam"}
WORKLOADS = {"W5": W5, "digits": DIGITS}


# ---------------------------------------------------------------- inside each rank

def pin_this_rank():
    """Pin to one CPU before numpy loads (rank from the MPI launcher's environment)."""
    rank = int(os.environ.get("PMI_RANK", os.environ.get("OMPI_COMM_WORLD_RANK", "0")))
    allowed = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {allowed[rank % len(allowed)]})
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    return rank


def make_data(spec, n):
    import numpy as np
    sys.path.insert(0, BENCH_DIR)
    from workloads.data import digits, mnist_shaped
    if spec is DIGITS:
        X, y = digits()
        reps = -(-n // len(X))
        return np.tile(X, (reps, 1))[:n], np.tile(y, reps)[:n]
    return mnist_shaped(n, dtype=np.float32)


def fastgrad_worker(spec, scaling, epochs, allreduce_rounds):
    import numpy as np

    import fastgrad
    from fastgrad import distributed as dist
    from fastgrad import nn, optim

    _, size = dist.init()
    comm = dist.communicator()
    dtype = np.dtype(spec["dtype"])
    global_batch = spec["batch"] * (size if scaling == "weak" else 1)
    n = spec["samples"] * (size if scaling == "weak" else 1)
    X, y = make_data(spec, n)
    model = nn.mlp(list(spec["sizes"]), activation="tanh", dtype=dtype, seed=0)
    inner = (optim.SGD(model.parameters(), lr=spec["lr"]) if spec["optimizer"] == "sgd"
             else optim.Adam(model.parameters(), lr=spec["lr"]))
    dist.broadcast_parameters(model)
    opt = dist.DistributedOptimizer(inner)
    loss_fn = nn.CrossEntropyLoss()
    clock = time.perf_counter
    epoch_times, steps = [], []
    for epoch in range(epochs + 1):                  # epoch 0 warms up
        comm.Barrier()
        start = clock()
        for index in dist.shard_batches(n, global_batch, epoch=epoch, seed=0):
            t0 = clock()
            opt.zero_grad()
            loss_fn(model(X[index]), y[index]).backward()
            t1 = clock()
            opt.reduce_gradients(batch_size=len(index))
            t2 = clock()
            inner.step()
            t3 = clock()
            if epoch:
                steps.append((t1 - t0, t2 - t1, t3 - t2))
        if epoch:
            epoch_times.append(clock() - start)
    n_params = sum(p.data.size for p in model.parameters())
    buffer = np.zeros(n_params + 1 + len(model.parameters()), dtype)
    allreduce = []
    for _ in range(allreduce_rounds):
        comm.Barrier()
        t0 = clock()
        dist.allreduce_sum(buffer, comm, False)
        allreduce.append(clock() - t0)
    return {"system": f"fastgrad-{fastgrad.BACKEND}", "size": size, "epoch": epoch_times,
            "steps_per_epoch": len(steps) // max(epochs, 1),
            "compute": [s[0] for s in steps], "reduce": [s[1] for s in steps],
            "update": [s[2] for s in steps], "allreduce_alone": allreduce,
            "params": int(n_params), "bytes": int(buffer.nbytes)}


def torch_worker(spec, scaling, epochs, port):
    import numpy as np
    import torch
    import torch.distributed as tdist
    import torch.nn.functional as F

    torch.set_num_threads(1)
    rank = int(os.environ.get("PMI_RANK", "0"))
    size = int(os.environ.get("PMI_SIZE", "1"))
    tdist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                             world_size=size)
    dtype = getattr(torch, spec["dtype"])
    global_batch = spec["batch"] * (size if scaling == "weak" else 1)
    n = spec["samples"] * (size if scaling == "weak" else 1)
    X, y = make_data(spec, n)
    X, y = torch.from_numpy(np.ascontiguousarray(X)).to(dtype), torch.from_numpy(y)
    torch.manual_seed(0)
    layers = []
    sizes = spec["sizes"]
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers += [torch.nn.Linear(a, b, dtype=dtype)] + \
            ([torch.nn.Tanh()] if i < len(sizes) - 2 else [])
    model = torch.nn.parallel.DistributedDataParallel(torch.nn.Sequential(*layers))
    opt = (torch.optim.SGD(model.parameters(), lr=spec["lr"]) if spec["optimizer"] == "sgd"
           else torch.optim.Adam(model.parameters(), lr=spec["lr"]))
    from fastgrad.distributed import epoch_order, split  # the same shards as fastgrad's
    epoch_times = []
    for epoch in range(epochs + 1):
        tdist.barrier()
        start = time.perf_counter()
        order = epoch_order(n, epoch, seed=0)
        for i in range(0, n, global_batch):
            index = torch.from_numpy(split(order[i:i + global_batch], rank, size))
            opt.zero_grad()
            F.cross_entropy(model(X[index]), y[index]).backward()
            opt.step()
        if epoch:
            epoch_times.append(time.perf_counter() - start)
    tdist.destroy_process_group()
    return {"system": f"torch-ddp-gloo {torch.__version__}", "size": size,
            "epoch": epoch_times, "steps_per_epoch": -(-n // global_batch)}


def worker_main(args):
    rank = pin_this_rank()
    spec = WORKLOADS[args.workload]
    if args.system == "torch":
        result = torch_worker(spec, args.scaling, args.epochs, args.port)
    else:
        result = fastgrad_worker(spec, args.scaling, args.epochs, args.allreduce_rounds)
    if rank == 0:
        print("RESULT " + json.dumps(result), flush=True)


# ---------------------------------------------------------------- the launcher

def median(values):
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else 0.5 * (values[mid - 1] + values[mid])


def busy_seconds():
    """Busy seconds of every CPU since boot (all but idle and iowait), from /proc/stat."""
    total = 0.0
    try:
        with open("/proc/stat") as stat:
            for line in stat:
                fields = line.split()
                if fields[0].startswith("cpu") and fields[0] != "cpu":
                    total += sum(int(fields[1 + i]) for i in (0, 1, 2, 5, 6, 7))
    except OSError:
        return None
    return total / os.sysconf("SC_CLK_TCK")


def children_seconds():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def find_mpiexec():
    beside = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    if os.access(beside, os.X_OK):
        return beside
    from shutil import which
    return which("mpiexec")


def fastgrad_home():
    """Where the ranks import fastgrad from: the installed one if any (compiled), else this
    checkout."""
    try:
        import fastgrad
    except ImportError:
        return REPO_DIR
    return os.path.dirname(os.path.dirname(os.path.abspath(fastgrad.__file__)))


def launch(system, workload, ranks, scaling, epochs, allreduce_rounds, port):
    command = [find_mpiexec(), "-n", str(ranks), sys.executable, os.path.abspath(__file__),
               "--worker", "--system", system, "--workload", workload, "--scaling", scaling,
               "--epochs", str(epochs), "--allreduce-rounds", str(allreduce_rounds),
               "--port", str(port)]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [fastgrad_home(), env.get("PYTHONPATH")]))
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, env=env,
                          check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        return {"error": (done.stderr.strip().splitlines() or ["no output"])[-1]}
    return json.loads(lines[-1][len("RESULT "):])


def torch_available():
    try:
        import torch  # noqa: F401
        import torch.distributed as tdist
    except ImportError:
        return False
    return tdist.is_available() and tdist.is_gloo_available()


def cpu_model():
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    flags = next((x for x in info if x.startswith("flags")), "")
                    simd = ("AVX-512" if "avx512f" in flags else "AVX2" if "avx2" in flags
                            else "SSE")
                    return f"{name}, {os.cpu_count()} CPUs, {simd}"
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def table(results, ranks):
    """Markdown rows: per workload, scaling and system, each rank count."""
    rows = [("| workload | scaling | system | ranks | per epoch | per step | speedup | "
             "efficiency | compute / reduce / update per step | allreduce alone |"),
            "|---|---|---|---|---|---|---|---|---|---|"]
    for (workload, scaling, system), by_ranks in results.items():
        base = by_ranks.get(1)
        for k in ranks:
            r = by_ranks.get(k)
            if r is None:
                continue
            if "error" in r:
                rows.append(f"| {workload} | {scaling} | {system} | {k} | failed: "
                            f"{r['error'][:80]} | | | | | |")
                continue
            epoch = r["epoch_median"]
            step = epoch / r["steps_per_epoch"]
            speed = eff = ""
            if base is not None and "error" not in base:
                if scaling == "strong":
                    speed = f"{base['epoch_median'] / epoch:.2f}x"
                    eff = f"{base['epoch_median'] / (k * epoch):.0%}"
                else:
                    base_step = base["epoch_median"] / base["steps_per_epoch"]
                    eff = f"{base_step / step:.0%}"
            phases = alone = ""
            if "compute" in r:
                # means, not medians: a step that waits long for a descheduled rank counts
                c, d, u = (sum(r[key]) / len(r[key]) for key in ("compute", "reduce", "update"))
                phases = (f"{c * 1e3:.2f} / {d * 1e3:.2f} / {u * 1e3:.2f} ms "
                          f"(reduce {d / (c + d + u):.0%})")
                alone = f"{median(r['allreduce_alone']) * 1e6:.0f} µs ({r['bytes'] / 1e6:.2f} MB)"
            rows.append(f"| {workload} | {scaling} | {system} | {k} | {epoch * 1e3:.1f} ms | "
                        f"{step * 1e3:.2f} ms | {speed} | {eff} | {phases} | {alone} |")
    return "\n".join(rows)


def launcher_main(args):
    systems = ["fastgrad"] + (["torch"] if torch_available() and not args.no_torch else [])
    configs = [(workload, scaling, system, k)
               for workload in args.workloads
               for scaling in ("strong", "weak")
               for system in systems
               for k in args.ranks
               if not (scaling == "weak" and workload != "W5")]
    results = {}
    busy0, own0, wall0 = busy_seconds(), children_seconds(), time.time()
    port = 29500 + os.getpid() % 1000
    for repeat in range(args.repeats):
        for i, (workload, scaling, system, k) in enumerate(
                configs if repeat % 2 == 0 else configs[::-1]):
            r = launch(system, workload, k, scaling, args.epochs, args.allreduce_rounds,
                       port + i)
            if "error" not in r:
                r["epoch_median"] = median(r["epoch"])
            best = results.setdefault((workload, scaling, system), {}).get(k)
            if best is None or "error" in best or \
                    ("error" not in r and r["epoch_median"] < best["epoch_median"]):
                results[(workload, scaling, system)][k] = r
    busy1, own1, wall1 = busy_seconds(), children_seconds(), time.time()
    named = {}
    for (workload, scaling, system), by_ranks in results.items():
        label = next((r["system"] for r in by_ranks.values() if "system" in r), system)
        named[(workload, scaling, label)] = by_ranks
    load = ""
    if busy0 is not None:
        others = (busy1 - busy0) - (own1 - own0)
        span = wall1 - wall0
        load = (f"other processes used {max(others, 0) / span:.2f} of the "
                f"{os.cpu_count()} CPUs on average over the {span:.0f} s run")
    import numpy
    title = (f"D1, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: {cpu_model()}; "
             f"Python {platform.python_version()}, numpy {numpy.__version__}; one pinned CPU "
             f"and one BLAS thread per rank; {args.epochs} timed epochs after one warm-up, "
             f"best of {args.repeats} repeats")
    header = [title, load, ""]
    text = "\n".join(header) + table(named, args.ranks)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as out:
            out.write(text + "\n")
    if args.json:
        with open(args.json, "w") as out:
            json.dump({f"{w}|{s}|{sy}": v for (w, s, sy), v in named.items()}, out, indent=1)
    failed = [key for key, by_ranks in named.items() if any("error" in r
                                                             for r in by_ranks.values())]
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--system", default="fastgrad", help=argparse.SUPPRESS)
    parser.add_argument("--workload", default="W5", help=argparse.SUPPRESS)
    parser.add_argument("--scaling", default="strong", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=29500, help=argparse.SUPPRESS)
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--workloads", nargs="+", default=["W5", "digits"])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--allreduce-rounds", type=int, default=50)
    parser.add_argument("--no-torch", action="store_true", help="fastgrad only")
    parser.add_argument("--quick", action="store_true", help="1 epoch, 1 repeat (CI)")
    parser.add_argument("--markdown", help="also write the table here")
    parser.add_argument("--json", help="also write every measurement here")
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.repeats, args.allreduce_rounds = 1, 1, 5
    if args.worker:
        worker_main(args)
    else:
        sys.exit(launcher_main(args))  # a row that failed fails the command (CI)


if __name__ == "__main__":
    main()
