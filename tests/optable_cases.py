"""One case (or more) per op-table entry: a function of Tensors that makes that entry's node,
and its float64 inputs (random, with broadcasting where the op broadcasts, inside the op's
domain). ``CASES[name]`` lists the cases of entry ``name``; tests/test_optable.py checks that
every entry has at least one."""
import numpy as np
from optable_linalg_cases import LINALG_CASES
from optable_scipy_cases import SCIPY_CASES

from fastgrad.extend import defjvp, defvjp, primitive
from fastgrad.ops import complex_ops as CX
from fastgrad.ops import fft_ops as FFT
from fastgrad.ops.table import OPS

LABELS = np.array([0, 2, 1, 1])


def normal(*shape):
    return ("normal", shape)


def positive(*shape):
    return ("positive", shape)


def unit(*shape):
    """Inside (-1, 1) (arcsin, arctanh, ...)."""
    return ("unit", shape)


def above_one(*shape):
    return ("above_one", shape)


def make_inputs(specs, seed):
    rng = np.random.default_rng(seed)
    out = []
    for kind, shape in specs:
        if kind == "normal":
            out.append(rng.standard_normal(shape))
        elif kind == "positive":
            out.append(rng.uniform(0.5, 2.0, shape))
        elif kind == "unit":
            out.append(rng.uniform(-0.8, 0.8, shape))
        else:
            out.append(rng.uniform(1.2, 2.5, shape))
    return out


@primitive
def _cube(x):
    return x ** 3


defvjp(_cube, lambda ans, x: lambda g: g * 3 * x ** 2)
defjvp(_cube, lambda g, ans, x: g * 3 * x ** 2)

# name -> [(function(F, *tensors), input specs)]; F maps public names to one backend's functions
CASES = {
    "add": [(lambda F, a, b: F["add"](a, b), [normal(3, 1), normal(4)])],
    "sub": [(lambda F, a, b: F["subtract"](a, b), [normal(2, 3), normal(3)])],
    "mul": [(lambda F, a, b: F["multiply"](a, b), [normal(3, 1), normal(1, 4)])],
    "div": [(lambda F, a, b: F["divide"](a, b), [normal(2, 3), positive(3)])],
    "pow": [(lambda F, a, b: F["power"](a, b), [positive(2, 3), normal(3)])],
    "maximum": [(lambda F, a, b: F["maximum"](a, b), [normal(2, 3), normal(3)])],
    "minimum": [(lambda F, a, b: F["minimum"](a, b), [normal(2, 3), normal(2, 1)])],
    "add_s": [(lambda F, a: F["add"](a, 1.5), [normal(2, 3)])],
    "mul_s": [(lambda F, a: F["multiply"](2.5, a), [normal(2, 3)])],
    "div_s": [(lambda F, a: F["divide"](a, 2.5), [normal(2, 3)])],
    "rsub_s": [(lambda F, a: F["subtract"](2.0, a), [normal(2, 3)])],
    "rdiv_s": [(lambda F, a: F["divide"](2.0, a), [positive(2, 3)])],
    "pow_s": [(lambda F, a: F["power"](a, 2.5), [positive(2, 3)]),
              (lambda F, a: F["power"](a, 3.0), [normal(4)])],
    "rpow_s": [(lambda F, a: F["power"](2.0, a), [normal(2, 3)])],
    "neg": [(lambda F, a: F["negative"](a), [normal(2, 3)])],
    "exp": [(lambda F, a: F["exp"](a), [normal(2, 3)])],
    "log": [(lambda F, a: F["log"](a), [positive(2, 3)])],
    "tanh": [(lambda F, a: F["tanh"](a), [normal(2, 3)])],
    "relu": [(lambda F, a: F["relu"](a), [normal(2, 3)])],
    "sigmoid": [(lambda F, a: F["sigmoid"](a), [normal(2, 3)])],
    "sqrt": [(lambda F, a: F["sqrt"](a), [positive(2, 3)])],
    "abs": [(lambda F, a: F["abs"](a), [normal(2, 3)])],
    "log1p": [(lambda F, a: F["log1p"](a), [positive(2, 3)])],
    "sin": [(lambda F, a: F["sin"](a), [normal(2, 3)])],
    "cos": [(lambda F, a: F["cos"](a), [normal(2, 3)])],
    "clip": [(lambda F, a: F["clip"](a, -0.5, 0.7), [normal(3, 4)])],
    "where": [(lambda F, a, b: F["where"](np.array([True, False, True]), a, b),
               [normal(2, 3), normal(2, 1)])],
    "sum": [(lambda F, a: F["sum"](a, 1), [normal(2, 3)]),
            (lambda F, a: F["sum"](a, None, True), [normal(2, 3)])],
    "mean": [(lambda F, a: F["mean"](a, (0, 2), True), [normal(2, 3, 2)])],
    "max": [(lambda F, a: F["max"](a, 1), [normal(3, 4)])],
    "min": [(lambda F, a: F["min"](a, None), [normal(3, 4)])],
    "logsumexp": [(lambda F, a: F["logsumexp"](a, 1), [normal(3, 4)])],
    "softmax": [(lambda F, a: F["softmax"](a, 0), [normal(3, 4)])],
    "log_softmax": [(lambda F, a: F["log_softmax"](a, -1), [normal(3, 4)])],
    "reshape": [(lambda F, a: F["reshape"](a, (3, 2)), [normal(2, 3)])],
    "transpose": [(lambda F, a: F["transpose"](a, (1, 0, 2)), [normal(2, 3, 2)])],
    "getitem": [(lambda F, a: a[np.array([0, 2, 0])], [normal(3, 2)]),
                (lambda F, a: a[1:, ::-1], [normal(3, 2)])],
    "concat": [(lambda F, a, b: F["concatenate"]([a, b], 1), [normal(2, 3), normal(2, 2)])],
    "stack": [(lambda F, a, b: F["stack"]([a, b], 1), [normal(2, 3), normal(2, 3)])],
    "broadcast": [(lambda F, a: F["broadcast_to"](a, (2, 3)), [normal(3)])],
    "astype": [(lambda F, a: F["astype"](a, np.float64), [normal(2, 3)])],
    "matmul": [(lambda F, a, b: F["matmul"](a, b), [normal(2, 3), normal(3, 4)]),
               (lambda F, a, b: F["matmul"](a, b), [normal(3), normal(2, 3, 4)]),
               (lambda F, a, b: F["matmul"](a, b), [normal(2, 2, 3), normal(3)]),
               (lambda F, a, b: F["matmul"](a, b), [normal(3), normal(3)])],
    "custom": [(lambda F, a: _cube(a), [normal(2, 3)])],
    "dense": [(lambda F, x, W, b, act=act: F["dense"](x, W, b, act), [normal(4, 3), normal(3, 2),
                                                             normal(2)])
              for act in (None, "tanh", "relu", "sigmoid")]
    + [(lambda F, x, W: F["dense"](x, W, None, "tanh"), [normal(2, 4, 3), normal(3, 2)])],
    "softmax_ce": [(lambda F, z: F["softmax_cross_entropy"](z, LABELS), [normal(4, 3)]),
                   (lambda F, z: F["softmax_cross_entropy"](z, np.full((4, 3), 1 / 3), "sum"),
                    [normal(4, 3)]),
                   (lambda F, z: F["softmax_cross_entropy"](z, LABELS, "none"), [normal(4, 3)])],
    "bce_logits": [(lambda F, z: F["binary_cross_entropy_with_logits"](
        z, np.array([[0.0, 1.0, 0.3], [1.0, 0.2, 0.0]])), [normal(2, 3)])],
    "mse": [(lambda F, p, t: F["mse_loss"](p, t), [normal(3, 2), normal(3, 2)]),
            (lambda F, p, t: F["mse_loss"](p, t, "none"), [normal(4, 1), normal(4)])],
    "hinge": [(lambda F, s: F["hinge_loss"](s, np.array([[1.0, -1.0, 1.0], [-1.0, -1.0, 1.0]]), "sum"),
               [normal(2, 3)])],
    "cumsum": [(lambda F, a: F["cumsum"](a, 1), [normal(2, 3)]),
               (lambda F, a: F["cumsum"](a), [normal(2, 3)])],
    "untake": [(lambda F, a: F["untake"](a, np.array([0, 2, 0]), (3, 2)), [normal(3, 2)])],
    "logaddexp": [(lambda F, a, b: F["logaddexp"](a, b), [normal(2, 3), normal(3)])],
    "logaddexp2": [(lambda F, a, b: F["logaddexp2"](a, b), [normal(2, 3), normal(3)])],
    "arctan2": [(lambda F, a, b: F["arctan2"](a, b), [normal(2, 3), positive(3)])],
    "hypot": [(lambda F, a, b: F["hypot"](a, b), [normal(2, 3), positive(3)])],
    "remainder": [(lambda F, a, b: F["remainder"](a, b), [normal(2, 3), positive(3)]),
                  (lambda F, a, b: F["remainder"](a, -b), [normal(3), positive(2, 1)])],
}


def _cx(a, b):
    """a + i b as a complex Tensor (recorded: the complex entries are checked inside)."""
    return CX.as_dtype(a, np.complex128) + CX.call(OPS["mul"], [b, 1j])


CASES.update({
    "complex_astype": [(lambda F, a: CX.as_dtype(a, np.complex128), [normal(2, 3)])],
    "real": [(lambda F, a, b: CX.real(_cx(a, b)), [normal(2, 3), normal(2, 3)])],
    "imag": [(lambda F, a, b: CX.imag(_cx(a, b)), [normal(2, 3), normal(3)])],
    "conj": [(lambda F, a, b: CX.conj(_cx(a, b)), [normal(2, 3), normal(2, 3)])],
    "angle": [(lambda F, a, b: CX.angle(_cx(a, b)), [normal(2, 3), normal(2, 3)]),
              (lambda F, a: CX.angle(a), [positive(3)])],
    "complex_abs": [(lambda F, a, b: CX.absolute(_cx(a, b)), [normal(2, 3), normal(2, 3)])],
    "fft_resize": [(lambda F, a: FFT.resize(a, (4, 2), (0, 1)), [normal(3, 3)])],
    "fftn": [(lambda F, a: FFT.fftn(a, (4, 3), (0, 1), None), [normal(3, 3)]),
             (lambda F, a, b: FFT.fftn(_cx(a, b), (2,), (1,), "ortho"),
              [normal(2, 3), normal(2, 3)])],
    "ifftn": [(lambda F, a: FFT.ifftn(a, (3, 2), (0, 1), "forward"), [normal(3, 3)]),
              (lambda F, a, b: FFT.ifftn(_cx(a, b), (4,), (0,), None),
               [normal(2, 3), normal(2, 3)])],
    "rfftn": [(lambda F, a: FFT.rfftn(a, (3, 5), (0, 1), None), [normal(3, 4)]),
              (lambda F, a: FFT.rfftn(a, (4,), (0,), "ortho"), [normal(3, 2)])],
    "irfftn": [(lambda F, a, b: FFT.irfftn(_cx(a, b), (3, 4), (0, 1), None),
                [normal(3, 3), normal(3, 3)]),
               (lambda F, a, b: FFT.irfftn(_cx(a, b), (5,), (1,), "ortho"),
                [normal(2, 3), normal(2, 3)])],
    "fftshift": [(lambda F, a: FFT.fftshift(a, (0, 1)), [normal(3, 4)])],
    "ifftshift": [(lambda F, a: FFT.ifftshift(a, (1,)), [normal(3, 5)])],
})

# the python ops of one argument: name -> the domain to draw from
UNARY_DOMAINS = {"expm1": normal, "exp2": normal, "log2": positive, "log10": positive,
                 "tan": unit, "sinh": normal, "cosh": normal, "arcsin": unit, "arccos": unit,
                 "arctan": normal, "arcsinh": normal, "arccosh": above_one, "arctanh": unit,
                 "cbrt": positive, "deg2rad": normal, "rad2deg": normal}
def _unary_case(name):
    return lambda F, a: F[name](a)


for _name, _domain in UNARY_DOMAINS.items():
    CASES[_name] = [(_unary_case(_name), [_domain(2, 3)])]

CASES.update(LINALG_CASES)


CASES.update(SCIPY_CASES)


def all_cases():
    """(id, entry name, function, input specs) for every case."""
    for name, cases in CASES.items():
        for i, (fun, specs) in enumerate(cases):
            yield f"{name}-{i}", name, fun, specs
