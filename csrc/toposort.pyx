"""Topological order of a graph (twin: fastgrad/_py/toposort.py).

Iterative depth-first search over C arrays (no recursion, so depth is bounded by memory);
parents are visited in the order the op recorded them, so the order, and every sum the sweep
makes, is the same run to run and twin to twin. The scratch stacks are per call.
"""
from cpython.ref cimport PyObject
from libc.stdlib cimport free, malloc, realloc

from fastgrad._cy.node cimport Node, new_epoch
from fastgrad._cy.opcodes cimport OP_LEAF

from fastgrad._shared.toposort import freed_graph_error  # the message lives once


def toposort(Node root):
    """Nodes that require grad and reach ``root``, parents before children, ``root`` last."""
    cdef unsigned long epoch = new_epoch()
    cdef list order = []
    cdef Py_ssize_t capacity = 256, depth = 1, i, n
    cdef PyObject** nodes = <PyObject**>malloc(capacity * sizeof(PyObject*))
    cdef Py_ssize_t* positions = <Py_ssize_t*>malloc(capacity * sizeof(Py_ssize_t))
    cdef PyObject** grown_nodes
    cdef Py_ssize_t* grown_positions
    cdef Node node, parent
    cdef tuple prev
    if nodes == NULL or positions == NULL:
        free(nodes)
        free(positions)
        raise MemoryError()
    try:
        # the path holds borrowed references: every node on it is kept alive by its child
        root._mark = epoch
        nodes[0] = <PyObject*>root
        positions[0] = 0
        while depth:
            node = <Node>nodes[depth - 1]
            prev = node._prev
            if prev is None:
                if node._op != OP_LEAF:
                    raise freed_graph_error(node)
                n = 0
            else:
                n = len(prev)
            i = positions[depth - 1]
            while i < n:
                parent = <Node>prev[i]
                i += 1
                if parent.requires_grad and parent._mark != epoch:
                    parent._mark = epoch
                    positions[depth - 1] = i
                    if depth == capacity:
                        capacity *= 2
                        grown_nodes = <PyObject**>realloc(nodes, capacity * sizeof(PyObject*))
                        if grown_nodes == NULL:
                            raise MemoryError()
                        nodes = grown_nodes
                        grown_positions = <Py_ssize_t*>realloc(
                            positions, capacity * sizeof(Py_ssize_t))
                        if grown_positions == NULL:
                            raise MemoryError()
                        positions = grown_positions
                    nodes[depth] = <PyObject*>parent
                    positions[depth] = 0
                    depth += 1
                    break
            else:
                depth -= 1
                order.append(node)
    finally:
        free(nodes)
        free(positions)
    return order
