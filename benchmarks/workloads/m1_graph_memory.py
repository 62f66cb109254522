"""M1: memory held by the W1 graph, i.e. one forward of micrograd's demo loss, before backward.

Measured in a fresh child process (`python -m workloads.m1_graph_memory SYSTEM`), so nothing the
benchmark run allocated before counts: after model and data are set up and garbage is collected,
the child resets its peak-RSS mark (Linux: `echo 5 > /proc/self/clear_refs`), builds the graph,
and reports peak RSS minus RSS before. Then, as a cross-check, it builds the graph again under
tracemalloc (which sees Python objects and numpy buffers, not other native allocations). Bytes
per node divides by every node reachable from the loss, parameters and inputs included.

What a "node" is differs between systems, so two counts are reported:

- `nodes`: the system's own graph nodes reachable from the loss. For micrograd, every Value
  (65 818). For fastgrad's Value face, every Value too, but a neuron relu(b + w.x) is ONE fused
  node where micrograd has 2n + 1 (n products, n sums, the relu), and a constant operand is
  folded into the node that uses it where micrograd makes it a leaf Value (4 914 nodes).
- `micrograd_nodes`: the nodes micrograd's graph of the same loss has (65 818, computed by
  `micrograd_node_count`, checked against micrograd's own graph whenever micrograd's M1 runs).
  Bytes per micrograd-equivalent node = the graph's bytes / this count: the memory each system
  spends per node of the computation as micrograd writes it, the fair comparison of the two.

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

    return (lambda: demo_loss(Value, model, X, y)), count_prev_nodes


@graph("fastgrad")
def fastgrad_graph():
    """micrograd's loss with fastgrad's Value and nn.MLP (fused neurons)."""
    from fastgrad import Value

    from .w1_micrograd_demo import demo_loss, fastgrad_model_and_data

    model, X, y = fastgrad_model_and_data()
    # fastgrad's Value has micrograd's `_prev` (the set of parent Values), so the same walk
    return (lambda: demo_loss(Value, model, X, y)), count_prev_nodes


def count_prev_nodes(root):
    """Nodes reachable from root through `_prev` (iterative: the graph is deeper than Python's
    recursion limit allows a recursive walk)."""
    seen, stack = {id(root)}, [root]
    while stack:
        for parent in stack.pop()._prev:
            if id(parent) not in seen:
                seen.add(id(parent))
                stack.append(parent)
    return len(seen)


def micrograd_node_count(n_samples, nin, nouts):
    """Nodes of micrograd's graph of W1's loss (demo_loss), parameters and inputs included.

    A neuron with n inputs: n products wi*xi and n sums (b + ...), plus a relu when it is
    nonlinear. Per sample, the hinge (1 + -yi*score).relu() adds 5: two constant leaves (-yi, 1),
    a product, a sum, a relu. sum() starts from a constant 0: a leaf and a sum per term; a
    product by a constant (1/n, the L2 alpha) is a leaf and a product.
    """
    sizes = [nin] + list(nouts)
    parameters = sum((fan_in + 1) * fan_out for fan_in, fan_out in zip(sizes, sizes[1:]))
    neurons = sum((2 * fan_in + (i < len(nouts) - 1)) * fan_out
                  for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])))
    data_loss = n_samples * 5 + (1 + n_samples) + 2        # hinges, their sum, * (1/n)
    reg_loss = parameters + (1 + parameters) + 2             # p*p, their sum, * alpha
    return parameters + n_samples * nin + n_samples * neurons + data_loss + reg_loss + 1


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
    micrograd_nodes = w1_micrograd_node_count()
    if system == "micrograd" and nodes != micrograd_nodes:  # the formula, checked on each run
        raise AssertionError(f"micrograd's W1 graph has {nodes} nodes, micrograd_node_count()"
                             f" says {micrograd_nodes}")

    del root
    gc.collect()
    tracemalloc.start()
    root = build()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del root
    return {"bytes": graph_bytes, "method": method, "nodes": nodes,
            "bytes_per_node": graph_bytes / nodes, "micrograd_nodes": micrograd_nodes,
            "bytes_per_micrograd_node": graph_bytes / micrograd_nodes,
            "tracemalloc_peak_bytes": traced_peak,
            "tracemalloc_bytes_per_node": traced_peak / nodes}


def w1_micrograd_node_count():
    from .w1_micrograd_demo import LAYER_SIZES, N_SAMPLES

    return micrograd_node_count(N_SAMPLES, 2, LAYER_SIZES)


if __name__ == "__main__":
    import onecore

    onecore.configure()
    print(json.dumps(measure(sys.argv[1])))
