"""Deep and wide Value graphs: no RecursionError, no crash when they are freed, no leak."""
import sys
import tracemalloc

import pytest

from value_helpers import sv  # noqa: F401  (a fixture)


def test_million_deep_chain_sorts_backwards_and_frees(sv):
    x = leaf = sv.Value(0.5)
    for _ in range(10 ** 6):
        x = x + 1.0
    assert len(sv.module.graph_order(x)) == 10 ** 6
    x.backward()
    assert leaf.grad == 1.0 and x.data == 0.5 + 10 ** 6
    del x  # freeing must not recurse in C


def test_million_deep_chain_frees_without_backward(sv):
    x = sv.Value(0.5)
    for _ in range(10 ** 6):
        x = (x * 0.5).relu()
    del x


def test_deep_tanh_chain_gradient(sv):
    """W6's chain h = tanh(h*w + b), deeper than Python's recursion limit."""
    depth = 3 * sys.getrecursionlimit()
    w, b = sv.Value(0.9), sv.Value(0.1)
    h = h0 = sv.Value(0.2)
    hs = [h]
    for _ in range(depth):
        h = (h * w + b).tanh()
        hs.append(h)
    h.backward()
    # the chain rule by hand, from the top down
    g, gw, gb = 1.0, 0.0, 0.0
    for k in range(depth, 0, -1):
        local = (1 - hs[k].data ** 2) * g
        gw += hs[k - 1].data * local
        gb += local
        g = w.data * local
    assert h0.grad == pytest.approx(g, rel=1e-12, abs=1e-300)
    assert w.grad == pytest.approx(gw, rel=1e-12)
    assert b.grad == pytest.approx(gb, rel=1e-12)


def test_deep_chain_of_fused_neurons_frees(sv):
    h = sv.Value(0.5)
    w, b = sv.Value(0.9), sv.Value(0.05)
    for _ in range(2 * 10 ** 5):
        h = sv.module.neuron_forward([w], b, [h], True)
    h.backward()
    assert w.grad > 0
    del h


def test_wide_graph(sv):
    leaves = [sv.Value(float(i)) for i in range(10 ** 5)]
    total = sum(leaves)
    total.backward()
    assert all(v.grad == 1.0 for v in leaves)


def test_freeing_graphs_returns_their_memory(sv):
    """Every node and tuple a graph holds is freed with it (raw parent links leak nothing)."""
    w, b = sv.Value(0.3), sv.Value(0.1)

    def build():
        h = sv.Value(0.2)
        for _ in range(2000):
            h = (h * w + b).tanh() - 1 / (h.exp() + 2) + 2 ** h.sigmoid()
            h = sv.module.neuron_forward([w, b], b, [h, 1.5], False)
            h = sv.Value(h.data, (h, w), "custom") + h
        h.backward()
        h.backward()  # the neurons' hidden gradients too

    tracemalloc.start()
    try:
        build()  # fills CPython's free lists (of tuples, floats): memory that stays, once
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(3):
            build()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # a graph holds ~14 000 objects (~1 MB): leaking one per node would be >= 100 KB a build;
    # what remains is free-list churn (a few KB)
    assert after - before < 30_000


def test_node_with_many_consumers(sv):
    """A node feeding 100 000 others (its visit count is wider than a byte)."""
    a = sv.Value(0.5)
    t = a.tanh()
    total = sum(t * 1.0 for _ in range(10 ** 5))
    total.backward()
    assert t.grad == 10 ** 5
    assert a.grad == pytest.approx((1 - t.data ** 2) * 10 ** 5, rel=1e-12)
    # counts went back to 0: in a new graph through t, t's step runs once its one consumer has
    # (micrograd's semantics: t's grad, and so a's, accumulate)
    (t * 3).backward()
    assert t.grad == 10 ** 5 + 3
    d = 1 - t.data ** 2
    assert a.grad == pytest.approx(d * 10 ** 5 + d * (10 ** 5 + 3), rel=1e-12)


def test_a_failing_step_leaves_the_graph_usable(monkeypatch):
    """If a backward step raises, the sweep still drains (every visit count back to 0), the
    error propagates, and a later backward runs on a clean graph (twin: counts are visible)."""
    from fastgrad._py import scalar as twin
    a = twin.Value(2.0)
    h = (a * 3).tanh()
    out = h * h + h
    real_step = twin._backward_step

    def failing_step(v):
        if v._code == twin.TANH:
            raise MemoryError("injected")
        real_step(v)

    monkeypatch.setattr(twin, "_backward_step", failing_step)
    with pytest.raises(MemoryError, match="injected"):
        out.backward()
    assert [v._mark for v in twin.graph_order(out)] == [0, 0, 0, 0]
    monkeypatch.setattr(twin, "_backward_step", real_step)
    for v in twin.graph_order(out) + [a]:
        v.grad = 0.0
    out.backward()
    assert a.grad == pytest.approx((2 * h.data + 1) * (1 - h.data ** 2) * 3, rel=1e-12)
