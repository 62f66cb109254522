"""``python -m fastgrad.ops``: every primitive of the op table with its forward, VJP and JVP,
and whether a compiled kernel runs it on the fast path. The rules are printed as written in
the table (a lambda's expression; a named rule's first docstring line or signature)."""
import ast
import functools
import inspect

from .table import OPS


@functools.cache
def _tree(filename):
    with open(filename) as f:
        source = f.read()
    return source, ast.parse(source)


def _expression(fn):
    """The text of a rule: a lambda's body, with the helper lambdas it closes over spelled out;
    for a named function its first docstring line or its signature."""
    code = fn.__code__
    if fn.__name__ != "<lambda>":
        doc = (fn.__doc__ or "").strip().splitlines()
        return f"{fn.__name__}{inspect.signature(fn)}" + (f": {doc[0]}" if doc else "")
    source, tree = _tree(code.co_filename)
    line, col = next(((pos[0], pos[2]) for pos in code.co_positions() if pos[0] and pos[3]),
                     (0, 0))
    text = "<lambda>"
    for node in ast.walk(tree):
        if isinstance(node, ast.Lambda) and node.body.lineno <= line <= node.body.end_lineno:
            body = node.body
            if (body.lineno, body.col_offset) <= (line, col) <= (body.end_lineno,
                                                                 body.end_col_offset):
                text = " ".join(ast.get_source_segment(source, body).split())
    helpers = []
    for name, cell in zip(code.co_freevars, fn.__closure__ or ()):
        value = cell.cell_contents
        if callable(value) and getattr(value, "__name__", "") == "<lambda>":
            helpers.append(f"{name}(y, ...) = {_expression(value)}")
    return text + (f"   where {'; '.join(helpers)}" if helpers else "")


def _rules(rule):
    if rule is None:
        return ["the user's makers (fastgrad.extend.defvjp / defjvp)"]
    if type(rule) is tuple:
        return [f"arg {i}: {_expression(r)}" for i, r in enumerate(rule)]
    return [_expression(rule)]


def main():
    ops = list(OPS.values())
    compiled = sum(op.compiled for op in ops)
    print(f"fastgrad op table: {len(ops)} primitives, {compiled} with compiled kernels (the "
          f"others run their numpy forward and record an OP_CUSTOM node)\n")
    for op in ops:
        if op.kernel is not None:
            where = f"compiled kernel {op.kernel[0]}.{op.kernel[1]}, op code {op.code}"
        elif op.code is not None:
            where = f"op code {op.code}"
        else:
            where = "no compiled kernel (numpy forward, OP_CUSTOM node)"
        public = f"fastgrad.{op.function}" if op.function else "made by another function"
        print(f"{op.name}: {op.doc}")
        print(f"    {public}; {where}")
        for label, rule in (("forward", None), ("vjp", op.vjp), ("jvp", op.jvp)):
            if label == "forward":
                if op.forward is not None:
                    fn = op.forward
                    numpy_own = isinstance(fn, type(abs)) or "numpy" in (
                        getattr(fn, "__module__", None) or "numpy")
                    text = f"numpy.{fn.__name__}" if numpy_own else _expression(fn)
                    print(f"    forward: {text}")
                continue
            for line in _rules(rule):
                print(f"    {label}: {line}")
        print()


if __name__ == "__main__":
    main()
