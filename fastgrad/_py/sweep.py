"""The backward sweep (twin of csrc/sweep.pyx): run each node's VJP, root first, leaves last;
and grad's usual call (box, call, sort, sweep) in one step."""
import numpy as np

from .node import (
    VJP,
    accumulate,
    check_inputs_unmodified,
    is_grad_enabled,
    new_node,
    next_epoch,
    set_grad_enabled,
    state,
)
from .opcodes import OP_LEAF
from .toposort import toposort


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



def leaf_sweep(order, seed, leaves):
    """One sweep from ``seed``: (the leaves' gradients, zeros where none arrived; the sweep's
    touched list; how many of the leaves received a gradient)."""
    touched = sweep(order, seed)
    grads = []
    arrived = 0
    for leaf in leaves:
        g = leaf.grad
        if g is None:
            g = np.zeros_like(leaf.data)
        else:
            arrived += 1
        grads.append(g)
    return grads, touched, arrived

# ---------------------------------------------------------------- grad's common case

UNHANDLED = object()  # ScalarGrad's answer when the call is not its case (nothing was called)
F64, F32 = np.dtype(np.float64), np.dtype(np.float32)


def float_array(x):
    """x is a plain ndarray of float64 or float32 in native byte order."""
    return type(x) is np.ndarray and (x.dtype is F64 or x.dtype is F32)


class ScalarGrad:
    """grad(fun, argnum)'s usual call in one step: positional argument ``argnum`` a float array
    or a list of them, no differentiation around the call, and ``fun`` returning a
    single-element float ``tensor_class``. Boxes the argument, calls ``fun`` (trace level 1,
    grad mode on), sorts, sweeps from the seed ``seeds[0]`` (float64) or ``seeds[1]`` and
    returns the gradients (one array, or a list of them) as grad's Python path does.

    Called with ``(args, kwargs, level)`` (``level``: the thread's [trace level] cell). Returns
    UNHANDLED, having called nothing, when the call is not this case; a result of another kind
    goes to ``finish(one_array, leaves, ans)``, and a sweep that reached a node outside the
    leaves or made a NaN/Inf to ``problem(order, seed, touched, arrived)`` (which raises, or
    returns when the finite check is off)."""

    def __init__(self, fun, argnum, tensor_class, seeds, finish, problem):
        self.fun = fun
        self.argnum = argnum
        self.tensor_class = tensor_class
        self.seed64, self.seed32 = seeds
        self.finish = finish
        self.problem = problem

    def __call__(self, args, kwargs, level):
        n, i = len(args), self.argnum
        if level[0] != 0:
            return UNHANDLED
        if i < 0:
            i += n
        if not 0 <= i < n:
            return UNHANDLED
        x = args[i]
        if float_array(x):
            boxed = new_node(x, True)
            leaves = [boxed]
            one = True
        elif type(x) is list:
            if not all(float_array(v) for v in x):
                return UNHANDLED
            leaves = [new_node(v, True) for v in x]
            boxed = list(leaves)  # a copy: fun may change its list
            one = False
        else:
            return UNHANDLED
        call_args = list(args)
        call_args[i] = boxed
        enabled = is_grad_enabled()
        if not enabled:
            set_grad_enabled(True)  # grad() records even inside no_grad()
        level[0] = 1
        try:
            ans = self.fun(*call_args, **kwargs)
        finally:
            level[0] = 0
            if not enabled:
                set_grad_enabled(False)
        if type(ans) is not self.tensor_class or not ans.requires_grad:
            return self.finish(one, leaves, ans)
        data = ans.data
        if not (type(data) is np.ndarray and data.ndim == 0):
            return self.finish(one, leaves, ans)
        if data.dtype is F64:
            seed = self.seed64
        elif data.dtype is F32:
            seed = self.seed32
        else:
            return self.finish(one, leaves, ans)
        order = toposort(ans)
        grads, touched, arrived = leaf_sweep(order, seed, leaves)
        if len(touched) > 2 * arrived or not finite_result(order, touched):
            self.problem(order, seed, touched, arrived)
        return grads[0] if one else grads
