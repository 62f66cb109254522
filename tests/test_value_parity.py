"""The compiled scalar engine against its Python twin: the same programs give the same numbers,
bit for bit (both round every operation alike and call the same libm), and the same graph
order."""
import random
import struct

import pytest

from value_helpers import engines  # noqa: F401  (a fixture)

from fastgrad._py import scalar as twin


def test_op_codes_match(engines):
    py, cy = engines
    assert py.module.OPCODES == cy.module.OPCODES
    assert py.module.LABELS == cy.module.LABELS


def test_same_public_names(engines):
    """The twin's public names are the compiled module's (plus its op-code constants, which
    the compiled module keeps in C and lists in OPCODES)."""
    py, cy = engines

    def public(module):
        return {name for name in dir(module) if not name.startswith("_")
                and type(getattr(module, name)).__name__ != "module"}

    assert public(py.module) - set(py.module.OPCODES) - {"LAST_BINARY", "LAST_UNARY"} \
        == public(cy.module)


def make_program(seed, n_leaves=4, n_ops=40):
    """A random straight-line program over Values: (op, operand indices, constant) steps.
    Operands are chosen so that every op stays in its domain (checked on the twin)."""
    rng = random.Random(seed)
    values = [twin.Value(rng.uniform(-2, 2)) for _ in range(n_leaves)]
    steps = []
    while len(steps) < n_ops:
        op = rng.choice(OPS)
        i, j, k = (rng.randrange(len(values)) for _ in range(3))
        c = rng.choice([2, -3, 0.5, 1.5, -0.25, 3.0])
        try:
            out = apply(twin, op, values, i, j, k, c)
        except (ValueError, ZeroDivisionError):
            continue
        if not abs(out.data) < 1e6:
            continue
        values.append(out)
        steps.append((op, i, j, k, c))
    return [v.data for v in values[:n_leaves]], steps


OPS = ["add", "add_c", "radd_c", "sub", "sub_c", "rsub_c", "mul", "mul_c", "rmul_c", "neg",
       "div", "div_c", "rdiv_c", "pow_c", "pow", "rpow_c", "relu", "tanh", "exp", "log",
       "sigmoid", "neuron_relu", "neuron_linear", "sum"]


def apply(engine, op, values, i, j, k, c):
    a, b, d = values[i], values[j], values[k]
    if op == "add":
        return a + b
    if op == "add_c":
        return a + c
    if op == "radd_c":
        return c + a
    if op == "sub":
        return a - b
    if op == "sub_c":
        return a - c
    if op == "rsub_c":
        return c - a
    if op == "mul":
        return a * b
    if op == "mul_c":
        return a * c
    if op == "rmul_c":
        return c * a
    if op == "neg":
        return -a
    if op == "div":
        return a / b
    if op == "div_c":
        return a / c
    if op == "rdiv_c":
        return c / a
    if op == "pow_c":
        return a ** c
    if op == "pow":
        return a ** b
    if op == "rpow_c":
        return abs(c) ** a
    if op == "relu":
        return a.relu()
    if op == "tanh":
        return a.tanh()
    if op == "exp":
        return (a * 0.1).exp()
    if op == "log":
        return a.log()
    if op == "sigmoid":
        return a.sigmoid()
    if op == "sum":
        return sum([a, b, d])
    nonlin = op == "neuron_relu"
    return engine.neuron_forward([a, b], d, [values[-1], values[(i + j) % len(values)]], nonlin)


def run(engine, leaves, steps, backwards):
    values = [engine.Value(x) for x in leaves]
    for op, i, j, k, c in steps:
        values.append(apply(engine, op, values, i, j, k, c))
    root = sum(values[len(leaves):], engine.Value(0.0))
    for _ in range(backwards):
        root.backward()
    return values, root


def bits(numbers):
    """Numbers compared bit for bit (NaN equals NaN; 0.0 is not -0.0)."""
    return [struct.pack("<d", x) if x == x else "nan" for x in numbers]


@pytest.mark.parametrize("backwards", [1, 2])
@pytest.mark.parametrize("seed", range(30))
def test_compiled_matches_twin_bit_for_bit(engines, seed, backwards):
    py, cy = engines
    leaves, steps = make_program(seed)
    py_values, py_root = run(py.module, leaves, steps, backwards)
    cy_values, cy_root = run(cy.module, leaves, steps, backwards)
    assert bits([v.data for v in cy_values]) == bits([v.data for v in py_values])
    assert bits([v.grad for v in cy_values]) == bits([v.grad for v in py_values])
    py_order = py.module.graph_order(py_root)
    cy_order = cy.module.graph_order(cy_root)
    index_py = {id(v): n for n, v in enumerate(py_values)}
    index_cy = {id(v): n for n, v in enumerate(cy_values)}
    assert ([index_py.get(id(v), v.data) for v in py_order]
            == [index_cy.get(id(v), v.data) for v in cy_order])


def test_compiled_mlp_matches_twin_bit_for_bit(engines):
    py, cy = engines
    models = []
    for engine in engines:
        random.seed(7)
        model = engine.MLP(3, [8, 8, 1])
        xs = [[engine.Value(0.1 * i - 0.3 * j) for j in range(3)] for i in range(10)]
        loss = sum(((model(x) - 0.5) ** 2 for x in xs), engine.Value(0.0))
        loss.backward()
        models.append((model, loss))
    (py_model, py_loss), (cy_model, cy_loss) = models
    assert cy_loss.data == py_loss.data
    assert [p.grad for p in cy_model.parameters()] == [p.grad for p in py_model.parameters()]
