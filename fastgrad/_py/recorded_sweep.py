"""The recorded reverse sweep's loop (twin of csrc/recorded_sweep.pyx).

fastgrad.recorded.gradients sorts the graph, then ``reverse`` walks it from the outputs back,
running the op table's VJP rules as fastgrad ops (so the gradients it returns are themselves
recorded when grad mode is on) and summing the contributions per node. What lives here is the
per-node work every nested derivative (a Hessian-vector product, a Hessian's rows) pays once
per node: the compiled module runs the same steps without the interpreter's overhead.
"""
from operator import itemgetter

import numpy as np

from fastgrad._py.opcodes import OP_CUSTOM, OP_GETITEM, OP_LEAF

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


def reaching(order, wanted):
    """The ids of the nodes of ``order`` (parents first) from which an input (an id in
    ``wanted``) can be reached: the only ones whose gradients are needed."""
    reach = set()
    add = reach.add
    for node in order:
        key = id(node)
        if key in wanted:
            add(key)
            continue
        prev = node._prev
        if prev is not None and node._op != OP_LEAF:
            for p in prev:
                if id(p) in reach:
                    add(key)
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


def reverse(outputs, inputs, grad_outputs, order, fused_rules, join_rows):
    """The inputs' gradients: ``order`` (the graph, parents first) walked from the outputs
    (seeded with ``grad_outputs``, None for ones) back to the inputs, each node's VJP rule run
    on its gradient; ``fused_rules`` maps an op code to one rule giving every argument's
    contribution (used when all of them are needed); with ``join_rows`` the gradients of a
    parent's row slices are joined into one (see joined) instead of getitem's rule run per
    slice. Zeros for an input no output reaches."""
    if BY_CODE is None:
        _bind()
    wanted = {id(x) for x in inputs}
    reach = reaching(order, wanted)
    grads = {}
    for out, g in zip(outputs, grad_outputs):
        if out.requires_grad:
            g = fit(seed(out, g, "gradients"), out)
            key = id(out)
            grads[key] = grads[key] + g if key in grads else g
    pop = grads.pop
    get = grads.get
    pieces = {}  # parent id -> [(start, stop, g)]: gradients of its row slices, joined once
    for node in reversed(order):
        key = id(node)
        if key not in reach:
            continue
        if pieces and key in pieces:
            settle(key, node, pieces, grads)
        op = node._op
        if op == OP_LEAF:
            continue
        g = get(key) if key in wanted else pop(key, None)
        if g is None:
            continue
        prev = node._prev
        if prev is None:  # an input whose own graph was freed: nothing behind it is needed
            continue
        if op == OP_GETITEM and join_rows:
            parent = prev[0]
            pkey = id(parent)
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
            for parent in prev:
                if not parent.requires_grad or id(parent) not in reach:
                    break
            else:
                fused = fused_rules[op](g, node, *prev, **params)
        for i, parent in enumerate(prev):
            if not parent.requires_grad:
                continue
            pkey = id(parent)
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
            if type(c) is not type(parent) or c.data.shape != parent.data.shape or \
                    c.data.dtype != parent.data.dtype:
                c = fit(c, parent)
            old = get(pkey)
            grads[pkey] = c if old is None else old + c
    result = []
    for x in inputs:
        key = id(x)
        if pieces and key in pieces:
            settle(key, x, pieces, grads)
        g = get(key)
        result.append(g if g is not None else constant(np.zeros(x.data.shape), x))
    return result
