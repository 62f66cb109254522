"""The recorded reverse sweep's loop (twin: fastgrad/_py/recorded_sweep.py).

The same steps as the twin, compiled: the per-node bookkeeping (which nodes reach an input,
where each contribution goes, whether it needs summing to its parent's shape) runs in C on the
nodes' fields; the VJP rules themselves are the op table's, run as fastgrad ops as in the
twin. A graph holding another backend's nodes is refused (it cannot mix backends).
"""
cimport numpy as cnp
from cpython.long cimport PyLong_FromVoidPtr

from operator import itemgetter

import numpy as np

from fastgrad._cy.node cimport Node
from fastgrad._cy.opcodes cimport OP_CUSTOM, OP_GETITEM, OP_LEAF


cnp.import_array()


# The op table and fastgrad.recorded's helpers, bound on first use: the backend imports this
# module before the op table exists (the table's kernels are this backend's).
BY_CODE = None

_start = itemgetter(0)  # a piece's first row


def _bind():
    global BY_CODE, NO_PARAMS, RULES, NotDifferentiableError, as_dtype, backend_of, \
        constant, describe, k, node_rule, table_rule
    from fastgrad import recorded
    from fastgrad.ops import kernels
    from fastgrad.ops.table import BY_CODE as by_code
    from fastgrad.ops.table import backend_of as backend
    NO_PARAMS = recorded._NO_PARAMS
    RULES = recorded._RULES  # op code -> table_rule's answer, once looked up
    NotDifferentiableError = recorded.NotDifferentiableError
    as_dtype = recorded._astype
    backend_of = backend
    constant = recorded._constant
    describe = recorded._describe
    k = kernels
    node_rule = recorded._rule
    table_rule = recorded._table_rule
    BY_CODE = by_code


cdef inline object key_of(object x):
    """id(x), without calling the builtin."""
    return PyLong_FromVoidPtr(<void*>x)


cdef inline bint fits(Node c, Node parent) noexcept:
    """c is a Tensor of parent's class with parent's shape and dtype: nothing to fit."""
    if type(c) is not type(parent):
        return False
    cdef cnp.ndarray a = <cnp.ndarray>c.data
    cdef cnp.ndarray b = <cnp.ndarray>parent.data
    return (cnp.PyArray_TYPE(a) == cnp.PyArray_TYPE(b) and cnp.PyArray_NDIM(a) == cnp.PyArray_NDIM(b)
            and cnp.PyArray_SAMESHAPE(a, b))


def reaching(list order, wanted):
    """The ids of the nodes of ``order`` (parents first) from which an input (an id in
    ``wanted``) can be reached: the only ones whose gradients are needed."""
    cdef set reach = set()
    cdef Node node
    cdef tuple prev
    cdef object key
    for item in order:
        node = <Node?>item
        key = key_of(node)
        if key in wanted:
            reach.add(key)
            continue
        prev = node._prev
        if prev is not None and node._op != OP_LEAF:
            for p in prev:
                if key_of(p) in reach:
                    reach.add(key)
                    break
    return reach


def fit(c, parent):
    """Contribution ``c`` summed back to parent's shape and cast to its dtype."""
    if BY_CODE is None:
        _bind()
    if type(c) is not type(parent) and not isinstance(c, backend_of(parent).node.Node):
        c = constant(getattr(c, "data", c), parent)
    shape = parent.data.shape
    if c.data.shape != shape:
        c = k.reduced_like(c, shape)
    if c.data.dtype != parent.data.dtype:
        c = as_dtype(c, parent.data.dtype)
    return c


def seed(out, g, where):
    """The cotangent an output starts with: ``g`` checked (a Tensor, or an array made a
    constant of the output's dtype), or ones for a single-element output."""
    if BY_CODE is None:
        _bind()
    if g is None:
        if out.data.size != 1:
            raise ValueError(f"{where}: the output has shape {out.data.shape}; without "
                             f"grad_outputs it must have a single element")
        data = out.data
        if data.dtype.kind == "f":  # ones of the output's own dtype: nothing to convert
            ones = np.empty(data.shape, data.dtype)  # (np.ones runs Python code per call)
            ones.fill(1)
            return type(out)._backend.node.new_node(ones, False)
        return constant(np.ones(data.shape), out)
    if not hasattr(type(g), "_backend"):
        g = np.asarray(g)
        if g.shape != out.data.shape:
            raise ValueError(f"{where}: grad_outputs has shape {g.shape} but the output has "
                             f"shape {out.data.shape}")
        return constant(g, out)
    if g.data.shape != out.data.shape:
        raise ValueError(f"{where}: grad_outputs has shape {g.data.shape} but the output has "
                         f"shape {out.data.shape}")
    return g


def rows_taken(node):
    """(start, stop) when the getitem ``node`` is a[start:stop] (axis 0, step 1) of a real
    parent, else None."""
    index = node._ctx
    s = index[0] if type(index) is tuple and len(index) == 1 else index
    if type(s) is not slice or s.step not in (None, 1):
        return None
    data = node._prev[0].data
    if not data.shape or data.dtype.kind != "f":
        return None
    start, stop, _ = s.indices(data.shape[0])
    return start, max(stop, start)


def joined(pieces, parent):
    """Parent's gradient from the gradients of its row slices, ``pieces`` [(start, stop, g)]:
    one concatenation of them (zeros between) when they do not overlap, which is what the
    sum of their zero-padded gradients (getitem's rule, once per slice) comes to, with one
    node instead of a concatenation and an addition per slice."""
    if BY_CODE is None:
        _bind()
    if len(pieces) > 1:
        pieces.sort(key=_start)
    shape = parent.data.shape
    dtype = parent.data.dtype
    blocks, at = [], 0
    for start, stop, g in pieces:
        if start < at:  # overlapping slices: their rows add up, slice by slice
            total = None
            for start, stop, g in pieces:
                c = fit(BY_CODE[OP_GETITEM].vjp[0](g, None, parent, index=slice(start, stop)),
                        parent)
                total = c if total is None else total + c
            return total
        if start > at:
            blocks.append(np.zeros((start - at,) + shape[1:], dtype))
        if stop > start:
            blocks.append(g)
        at = stop
    if at < shape[0]:
        blocks.append(np.zeros((shape[0] - at,) + shape[1:], dtype))
    if len(blocks) > 1:  # real float Tensors of parent's class, and zeros
        return type(parent)._backend.shape.concatenate(blocks, 0)
    block = blocks[0]
    return block if hasattr(type(block), "_backend") else constant(block, parent)


def settle(key, node, pieces, grads):
    """Add the slices' gradients waiting for ``node`` (see joined) into ``grads``."""
    c = joined(pieces.pop(key), node)
    old = grads.get(key)
    grads[key] = c if old is None else old + c


def reverse(list outputs, list inputs, list grad_outputs, list order, dict fused_rules,
            bint join_rows):
    """The inputs' gradients: ``order`` (the graph, parents first) walked from the outputs
    (seeded with ``grad_outputs``, None for ones) back to the inputs, each node's VJP rule run
    on its gradient; ``fused_rules`` maps an op code to one rule giving every argument's
    contribution (used when all of them are needed); with ``join_rows`` the gradients of a
    parent's row slices are joined into one (see joined) instead of getitem's rule run per
    slice. Zeros for an input no output reaches."""
    if BY_CODE is None:
        _bind()
    for items in (order, inputs):
        for item in items:
            if not isinstance(item, Node):
                raise TypeError(f"gradients: {type(item).__name__} is not a Tensor of the "
                                f"compiled backend (a graph cannot mix backends)")
    cdef set wanted = {key_of(x) for x in inputs}
    cdef set reach = reaching(order, wanted)
    cdef dict grads = {}
    cdef dict pieces = {}  # parent id -> [(start, stop, g)]: gradients of its row slices
    cdef Node node, parent
    cdef tuple prev
    cdef object key, pkey, g, c, old, vjp, params, custom, fused, rows, rule
    cdef int op
    cdef Py_ssize_t i, n, j
    cdef bint many
    for out, g in zip(outputs, grad_outputs):
        if out.requires_grad:
            g = seed(out, g, "gradients")
            if not (isinstance(g, Node) and isinstance(out, Node) and fits(<Node>g, <Node>out)):
                g = fit(g, out)
            key = key_of(out)
            grads[key] = grads[key] + g if key in grads else g
    n = len(order)
    for j in range(n - 1, -1, -1):
        node = <Node>order[j]
        key = key_of(node)
        if key not in reach:
            continue
        if pieces and key in pieces:
            settle(key, node, pieces, grads)
        op = node._op
        if op == OP_LEAF:
            continue
        g = grads.get(key) if key in wanted else grads.pop(key, None)
        if g is None:
            continue
        prev = node._prev
        if prev is None:  # an input whose own graph was freed: nothing behind it is needed
            continue
        if op == OP_GETITEM and join_rows:
            parent = <Node?>prev[0]
            pkey = key_of(parent)
            if not parent.requires_grad or pkey not in reach:
                continue
            rows = rows_taken(node)
            if rows is not None and type(g) is type(parent):
                pieces.setdefault(pkey, []).append((rows[0], rows[1], g))
                continue
        custom = None
        if op != OP_CUSTOM:
            rule = RULES.get(op)
            vjp, params = rule if rule is not None else table_rule(op)
            if vjp is None:
                raise NotDifferentiableError(f"gradients: {describe(node)} has no VJP")
            params = NO_PARAMS if params is None else params(node._ctx)
        else:
            custom, params = node_rule(node)
            if params is not None:  # a table entry without a kernel
                vjp = custom.vjp
                if vjp is None:
                    raise NotDifferentiableError(f"gradients: {describe(node)} has no VJP")
                custom = None
        many = custom is None and type(vjp) is not tuple
        fused = None
        if custom is None and op in fused_rules:
            for item in prev:
                parent = <Node?>item
                if not parent.requires_grad or key_of(parent) not in reach:
                    break
            else:
                fused = fused_rules[op](g, node, *prev, **params)
        for i in range(len(prev)):
            parent = <Node?>prev[i]
            if not parent.requires_grad:
                continue
            pkey = key_of(parent)
            if pkey not in reach:
                continue
            if fused is not None:
                c = fused[i]
            elif custom is not None:
                c = custom.vjp_traced(i, g, node)
            elif many:
                c = vjp(i, g, node, *prev, **params)
            elif params is NO_PARAMS:  # no keyword arguments to copy
                c = vjp[i](g, node, *prev)
            else:
                c = vjp[i](g, node, *prev, **params)
            if c is None:
                continue
            if not (isinstance(c, Node) and fits(<Node>c, parent)):
                c = fit(c, parent)
            old = grads.get(pkey)
            grads[pkey] = c if old is None else old + c
    result = []
    for x in inputs:
        key = key_of(x)
        if pieces and key in pieces:
            settle(key, x, pieces, grads)
        g = grads.get(key)
        result.append(g if g is not None else constant(np.zeros(x.data.shape), x))
    return result
