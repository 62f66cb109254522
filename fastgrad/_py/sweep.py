"""The backward sweep (twin of csrc/sweep.pyx): run each node's VJP, root first, leaves last."""
import numpy as np

from .node import VJP, accumulate, check_inputs_unmodified, next_epoch, state
from .opcodes import OP_LEAF


def sweep(order, seed, check=False):
    """Propagate ``seed`` (the root's gradient) through ``order`` (toposort's result, root last).

    Interior gradients are dropped as soon as their node has been processed (unless
    retain_grad() asked to keep them); leaves accumulate. Returns the leaves that received a
    gradient, each followed by the gradient it had before: ``[leaf, old_grad, leaf, ...]``.
    With ``check``, every contribution is tested and the first NaN/Inf raises
    NonFiniteGradient naming the op. If anything raises, every gradient is left as it was.
    """
    st = state  # this thread's
    saved = st.sweep_epoch, st.touched, st.checking
    touched = []
    st.sweep_epoch = next_epoch()
    st.touched = touched
    st.checking = None
    root = order[-1]
    try:
        accumulate(root, seed, False)
        for i in range(len(order) - 1, -1, -1):
            node = order[i]
            if node._op == OP_LEAF:
                continue
            g = node._grad
            if g is None:
                continue
            check_inputs_unmodified(node)
            if check:
                st.checking = node
            VJP[node._op](node, g)
            if not node._retain:
                node._grad = None
    except BaseException:
        rollback(order, touched)
        raise
    finally:
        st.sweep_epoch, st.touched, st.checking = saved
    return touched


def rollback(order, touched):
    """Undo a sweep: interior gradients dropped, leaves given back their old gradients."""
    for node in order:
        if node._op != OP_LEAF and not node._retain:
            node._grad = None
    for i in range(0, len(touched), 2):
        leaf = touched[i]
        leaf._grad = touched[i + 1]
        leaf._gown = 0


def free_graph(order):
    """Drop what backward no longer needs: parents and saved context of every interior node."""
    for node in order:
        if node._op != OP_LEAF:
            node._prev = None
            node._ctx = None


def finite_result(order, touched):
    """True when the root's value and every gradient a sweep gave a leaf are free of NaN/Inf."""
    if not np.isfinite(order[-1].data).all():
        return False
    for i in range(0, len(touched), 2):
        if not np.isfinite(touched[i].grad).all():
            return False
    return True


def all_finite(arr):
    """True when no element of ``arr`` is NaN or +-Inf."""
    return bool(np.isfinite(arr).all())
