"""The backward sweep (twin: fastgrad/_py/sweep.py): run each node's VJP, root first."""
cimport numpy as cnp

from fastgrad._cy.node cimport (Node, accumulate, check_unmodified, finite, new_epoch,
                                set_checking, set_sweep_state, vjp_fn, vjp_of)
from fastgrad._cy.opcodes cimport OP_LEAF

from fastgrad._cy.node import describe

cnp.import_array()


def sweep(list order, object seed, bint check=False):
    """Propagate ``seed`` (the root's gradient) through ``order`` (toposort's result, root last).

    Interior gradients are dropped as soon as their node has been processed (unless
    retain_grad() asked to keep them); leaves accumulate. Returns the leaves that received a
    gradient, each followed by the gradient it had before: ``[leaf, old_grad, leaf, ...]``.
    With ``check``, every contribution is tested and the first NaN/Inf raises
    NonFiniteGradient naming the op. If anything raises, every gradient is left as it was.
    """
    cdef list touched = []
    cdef Py_ssize_t i, n = len(order)
    cdef Node node
    cdef vjp_fn vjp
    saved = set_sweep_state(new_epoch(), touched, None)
    try:
        accumulate(<Node>order[n - 1], seed, False)
        for i in range(n - 1, -1, -1):
            node = <Node>order[i]
            if node._op == OP_LEAF:
                continue
            g = node.grad
            if g is None:
                continue
            vjp = vjp_of(node._op)
            if vjp == NULL:
                raise RuntimeError(f"backward: no compiled VJP for {describe(node)}")
            check_unmodified(node)
            if check:
                set_checking(node)
            vjp(node, g)
            if not node._retain:
                node.grad = None
    except BaseException:
        rollback(order, touched)
        raise
    finally:
        set_sweep_state(saved[0], saved[1], saved[2])
    return touched


def rollback(list order, list touched):
    """Undo a sweep: interior gradients dropped, leaves given back their old gradients."""
    cdef Node node
    cdef Py_ssize_t i
    for i in range(len(order)):
        node = <Node>order[i]
        if node._op != OP_LEAF and not node._retain:
            node.grad = None
    for i in range(0, len(touched), 2):
        node = <Node>touched[i]
        node.grad = touched[i + 1]
        node._gown = 0


def free_graph(list order):
    """Drop what backward no longer needs: parents and saved context of every interior node."""
    cdef Node node
    cdef Py_ssize_t i
    for i in range(len(order)):
        node = <Node>order[i]
        if node._op != OP_LEAF:
            node._prev = None
            node._ctx = None


def finite_result(list order, list touched):
    """True when the root's value and every gradient a sweep gave a leaf are free of NaN/Inf."""
    cdef Py_ssize_t i
    if not finite((<Node>order[len(order) - 1]).data):
        return False
    for i in range(0, len(touched), 2):
        if not finite((<Node>touched[i]).grad):
            return False
    return True


def all_finite(cnp.ndarray arr):
    """True when no element of ``arr`` is NaN or +-Inf."""
    return finite(arr)
