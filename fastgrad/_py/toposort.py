"""Topological order of a graph (twin of csrc/toposort.pyx).

Iterative depth-first search, so depth is bounded by memory, not by the recursion limit; parents
are visited in the order the op recorded them, so the order (and every sum the sweep makes) is
the same run to run and twin to twin.
"""
from .node import next_epoch
from .opcodes import OP_LEAF
from fastgrad._shared.toposort import (
    freed_graph_error)


def toposort(root):
    """Nodes that require grad and reach ``root``, parents before children, ``root`` last."""
    epoch = next_epoch()
    order = []
    root._mark = epoch
    nodes = [root]      # the DFS path
    positions = [0]     # next parent to look at, per node on the path
    while nodes:
        node = nodes[-1]
        prev = node._prev
        if prev is None:
            if node._op != OP_LEAF:
                raise freed_graph_error(node)
            prev = ()
        i = positions[-1]
        n = len(prev)
        while i < n:
            parent = prev[i]
            i += 1
            if parent.requires_grad and parent._mark != epoch:
                parent._mark = epoch
                positions[-1] = i
                nodes.append(parent)
                positions.append(0)
                break
        else:
            nodes.pop()
            positions.pop()
            order.append(node)
    return order
