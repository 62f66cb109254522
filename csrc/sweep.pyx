"""The backward sweep (twin: fastgrad/_py/sweep.py): run each node's VJP, root first; and
grad's usual call (box, call, sort, sweep) in one compiled step."""
cimport numpy as cnp

from fastgrad._cy.node cimport (Node, accumulate, check_unmodified, finite, new_epoch,
                                new_node, set_checking, set_sweep_state, vjp_fn, vjp_of)
from fastgrad._cy.opcodes cimport OP_LEAF

import numpy as np

from fastgrad._cy.node import describe, is_grad_enabled, set_grad_enabled
from fastgrad._cy.toposort import toposort

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



cpdef tuple leaf_sweep(list order, object seed, list leaves):
    """One sweep from ``seed``: (the leaves' gradients, zeros where none arrived; the sweep's
    touched list; how many of the leaves received a gradient)."""
    cdef list touched = sweep(order, seed), grads = []
    cdef Py_ssize_t arrived = 0
    for leaf in leaves:
        g = (<Node>leaf).grad
        if g is None:
            g = np.zeros_like((<Node>leaf).data)
        else:
            arrived += 1
        grads.append(g)
    return grads, touched, arrived

# ---------------------------------------------------------------- grad's common case

UNHANDLED = object()  # ScalarGrad's answer when the call is not its case (nothing was called)
cdef object F64 = np.dtype(np.float64), F32 = np.dtype(np.float32)


cpdef bint float_array(object x) noexcept:
    """x is a plain ndarray of float64 or float32 in native byte order."""
    if not cnp.PyArray_CheckExact(x):
        return False
    descr = <object>cnp.PyArray_DESCR(<cnp.ndarray>x)
    return descr is F64 or descr is F32


cdef class ScalarGrad:
    """grad(fun, argnum)'s usual call in one compiled step: positional argument ``argnum`` a
    float array or a list of them, no differentiation around the call, and ``fun`` returning a
    single-element float ``tensor_class``. Boxes the argument, calls ``fun`` (trace level 1,
    grad mode on), sorts, sweeps from the seed ``seeds[0]`` (float64) or ``seeds[1]`` and
    returns the gradients (one array, or a list of them) as grad's Python path does.

    Called with ``(args, kwargs, level)`` (``level``: the thread's [trace level] cell). Returns
    UNHANDLED, having called nothing, when the call is not this case; a result of another kind
    goes to ``finish(one_array, leaves, ans)``, and a sweep that reached a node outside the
    leaves or made a NaN/Inf to ``problem(order, seed, touched, arrived)`` (which raises, or
    returns when the finite check is off)."""
    cdef object fun, tensor_class, seed64, seed32, finish, problem
    cdef Py_ssize_t argnum

    def __init__(self, fun, Py_ssize_t argnum, tensor_class, seeds, finish, problem):
        self.fun = fun
        self.argnum = argnum
        self.tensor_class = tensor_class
        self.seed64, self.seed32 = seeds
        self.finish = finish
        self.problem = problem

    def __call__(self, tuple args, dict kwargs, list level):
        cdef Py_ssize_t n = len(args), i = self.argnum, arrived
        cdef list leaves, call_args, grads, touched
        cdef bint one
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
            for v in <list>x:
                if not float_array(v):
                    return UNHANDLED
            leaves = [new_node(v, True) for v in <list>x]
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
        if type(ans) is not self.tensor_class or not (<Node>ans).requires_grad:
            return self.finish(one, leaves, ans)
        data = (<Node>ans).data
        if not (cnp.PyArray_Check(data) and cnp.PyArray_NDIM(<cnp.ndarray>data) == 0):
            return self.finish(one, leaves, ans)
        descr = <object>cnp.PyArray_DESCR(<cnp.ndarray>data)
        if descr is F64:
            seed = self.seed64
        elif descr is F32:
            seed = self.seed32
        else:
            return self.finish(one, leaves, ans)
        order = toposort(ans)
        grads, touched, arrived = leaf_sweep(order, seed, leaves)
        if len(touched) > 2 * arrived or not finite_result(order, touched):
            self.problem(order, seed, touched, arrived)
        return grads[0] if one else grads
