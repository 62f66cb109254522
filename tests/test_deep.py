"""Deep graphs: a chain of a million nodes sorts, sweeps and frees without recursion, and
dropping an un-backwarded deep graph does not overflow the C stack."""
import sys

import numpy as np

DEPTH = 1_000_000


def chain(fg, x, depth):
    h = x
    for _ in range(depth):
        h = h * 0.5 + 0.5  # two nodes per step; the value stays 1 and the slope halves
    return h


def test_backward_through_a_million_nodes(fg):
    limit = sys.getrecursionlimit()
    x = fg.Tensor([1.0], requires_grad=True)
    h = chain(fg, x, DEPTH // 2)
    h.sum().backward()
    assert x.grad[0] == 0.5 ** (DEPTH // 2)  # underflows to exactly 0, through 10^6 kernels
    assert h.data[0] == 1.0
    assert sys.getrecursionlimit() == limit


def test_dropping_a_deep_graph_that_was_never_backwarded(fg):
    x = fg.Tensor([1.0], requires_grad=True)
    h = chain(fg, x, DEPTH // 2)
    del h  # must not recurse in C while freeing
    assert x.grad is None


def test_shallow_chain_gradient_is_exact(fg):
    x = fg.Tensor([1.0], requires_grad=True)
    chain(fg, x, 10).sum().backward()
    assert x.grad[0] == 0.5 ** 10


def test_wide_graph_shares_one_input_many_times(fg):
    x = fg.Tensor(np.ones(3), requires_grad=True)
    total = x * 0.0
    for k in range(2000):
        total = total + x * float(k % 3)
    total.sum().backward()
    np.testing.assert_array_equal(x.grad, np.full(3, float(sum(k % 3 for k in range(2000)))))
