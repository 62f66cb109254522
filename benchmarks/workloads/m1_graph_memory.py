"""M1: memory held by the W1 graph, i.e. one forward of micrograd's demo loss, before backward.

Measured in a fresh child process (`python -m workloads.m1_graph_memory SYSTEM`), so nothing the
benchmark run allocated before counts: after model and data are set up and garbage is collected,
the child resets its peak-RSS mark (Linux: `echo 5 > /proc/self/clear_refs`), builds the graph,
and reports peak RSS minus RSS before. Then, as a cross-check, it builds the graph again under
tracemalloc (which sees Python objects and numpy buffers, not other native allocations). Bytes
per node divides by every node reachable from the loss, parameters and inputs included.

The benchmark timed in-process is the graph build itself; the memory figures go to extra_info.
"""

import gc
import json
import os
import subprocess
import sys
import tracemalloc

from .registry import register

# system -> function returning (build, count_nodes): build() returns the loss with its graph
GRAPHS = {}


def graph(system, requires=()):
    """Decorator: `graph_fn` builds `system`'s W1 graph; also registers the M1 case for it."""
    def decorator(graph_fn):
        GRAPHS[system] = graph_fn
        register("M1", system, unit="graph build", requires=requires, slow=True)(
            lambda: build_with_memory_probe(system))
        return graph_fn
    return decorator


@graph("micrograd", requires=("micrograd",))
def micrograd_graph():
    from micrograd.engine import Value

    from .w1_micrograd_demo import demo_loss, micrograd_model_and_data

    model, X, y = micrograd_model_and_data()

    def count_nodes(root):
        # iterative: the graph is deeper than Python's recursion limit allows a recursive walk
        seen, stack = {id(root)}, [root]
        while stack:
            for parent in stack.pop()._prev:
                if id(parent) not in seen:
                    seen.add(id(parent))
                    stack.append(parent)
        return len(seen)

    return (lambda: demo_loss(Value, model, X, y)), count_nodes


def build_with_memory_probe(system):
    """The benchmarked callable (one graph build), carrying the child's memory figures."""
    build, _ = GRAPHS[system]()
    memory = probe_in_child(system)
    build.extra_info = memory
    return build


def probe_in_child(system):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    benchmarks_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run([sys.executable, "-m", __name__, system], cwd=benchmarks_dir, env=env,
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"M1 probe for {system} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _status_bytes(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # reported in kB
    raise KeyError(field)


def _reset_peak_rss():
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def measure(system):
    build, count_nodes = GRAPHS[system]()
    gc.collect()
    rss_before = _status_bytes("VmRSS")
    peak_was_reset = _reset_peak_rss()
    root = build()
    if peak_was_reset:
        graph_bytes, method = _status_bytes("VmHWM") - rss_before, "peak RSS growth"
    else:  # no way to reset the peak here: the graph's resident size is the best we have
        graph_bytes, method = _status_bytes("VmRSS") - rss_before, "RSS growth"
    nodes = count_nodes(root)

    del root
    gc.collect()
    tracemalloc.start()
    root = build()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del root
    return {"bytes": graph_bytes, "method": method, "nodes": nodes,
            "bytes_per_node": graph_bytes / nodes, "tracemalloc_peak_bytes": traced_peak,
            "tracemalloc_bytes_per_node": traced_peak / nodes}


if __name__ == "__main__":
    import onecore

    onecore.configure()
    print(json.dumps(measure(sys.argv[1])))
