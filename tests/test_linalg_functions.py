"""fastgrad.numpy.linalg and fastgrad.scipy.linalg: every function's derivatives against finite
differences (check_grads: forward and reverse mode, each differentiated again, float64) on
both backends; plain arrays give exactly numpy's (scipy's) result; bad input raises an error
naming the function and the shapes."""
import numpy as np
import pytest
import scipy.linalg as sla
from conftest import BACKENDS, IDS

import fastgrad
import fastgrad.numpy as fnp
import fastgrad.scipy.linalg as fspla
from fastgrad import autodiff
from fastgrad.ops import kernels
from fastgrad.ops.table import OPS
from fastgrad.test_util import check_grads

la = fnp.linalg
R = np.random.default_rng(7)


def normal(*shape):
    return R.standard_normal(shape)


def well(*shape):
    """square matrices (shape (..., n, n)) far from singular"""
    return R.standard_normal(shape) + shape[-1] * np.eye(shape[-1])


def spd(*shape):
    m = R.standard_normal(shape)
    return m @ np.swapaxes(m, -1, -2) + shape[-1] * np.eye(shape[-1])


def real_eigenvalues(n):
    """a non-symmetric matrix with distinct real eigenvalues"""
    q = R.standard_normal((n, n)) + n * np.eye(n)
    return q @ np.diag(np.arange(1.0, n + 1)) @ np.linalg.inv(q)


def sym(a):
    return 0.5 * (a + la.T(a))


def flat(*parts):
    """the outputs side by side (on the backend of the traced values)"""
    return kernels.concatenate([kernels.reshape(p, (-1,)) for p in parts], 0)


def lower(n):
    return np.tril(np.ones((n, n)))


# (id, function of the arguments, arguments): every argument is differentiated
CASES = [
    ("inv", la.inv, [well(3, 3)]),
    ("inv-stacked", la.inv, [well(2, 2, 3, 3)]),
    ("solve-matrix", la.solve, [well(3, 3), normal(3, 2)]),
    ("solve-vector", la.solve, [well(4, 4), normal(4)]),
    ("solve-stacked-broadcast", la.solve, [well(2, 3, 3), normal(3, 2)]),
    ("solve-stacked-vector", la.solve, [well(2, 3, 3), normal(3)]),
    ("det", la.det, [normal(3, 3)]),
    ("det-stacked", la.det, [normal(2, 3, 3)]),
    ("slogdet", lambda a: la.slogdet(a)[1], [normal(3, 3)]),
    ("slogdet-negative", lambda a: la.slogdet(-a)[1], [spd(3, 3)]),
    ("slogdet-stacked", lambda a: la.slogdet(a)[1], [spd(2, 3, 3)]),
    ("pinv-tall", la.pinv, [normal(4, 2)]),
    ("pinv-wide-stacked", la.pinv, [normal(2, 2, 4)]),
    ("pinv-hermitian", lambda a: la.pinv(a, hermitian=True), [spd(3, 3) + np.triu(normal(3, 3),
                                                                                      1)]),
    ("pinv-low-rank", lambda x: la.pinv(la._dot(la.T(x), x)), [normal(2, 4)]),
    ("matrix_power-3", lambda a: la.matrix_power(a, 3), [normal(3, 3)]),
    ("matrix_power-minus-2", lambda a: la.matrix_power(a, -2), [well(3, 3)]),
    ("multi_dot", lambda a, b, c: la.multi_dot([a, b, c]), [normal(2, 3), normal(3, 4),
                                                            normal(4)]),
    ("cholesky", la.cholesky, [spd(3, 3) + np.triu(normal(3, 3), 1)]),
    ("cholesky-upper", lambda a: la.cholesky(a, upper=True), [spd(3, 3) + np.tril(normal(3, 3),
                                                                                   -1)]),
    ("cholesky-stacked-sym", lambda a: la.cholesky(sym(a)), [spd(2, 3, 3)]),
    ("eigh", lambda a: flat(*la.eigh(a)), [normal(4, 4)]),
    ("eigh-upper", lambda a: flat(*la.eigh(a, "U")), [normal(4, 4)]),
    ("eigh-stacked", lambda a: flat(*la.eigh(a)), [normal(2, 3, 3)]),
    ("eigvalsh", la.eigvalsh, [normal(3, 3)]),
    ("eig-real", lambda a: flat(*la.eig(a)), [real_eigenvalues(3)]),
    ("eigvals-real", la.eigvals, [real_eigenvalues(3)]),
    ("svd-tall", lambda a: flat(*la.svd(a, full_matrices=False)), [normal(4, 3)]),
    ("svd-wide-stacked", lambda a: flat(*la.svd(a, full_matrices=False)), [normal(2, 2, 4)]),
    ("svd-square", lambda a: flat(*la.svd(a)), [normal(3, 3)]),
    ("svd-values", lambda a: la.svd(a, compute_uv=False), [normal(2, 4, 3)]),
    ("svdvals", la.svdvals, [normal(3, 4)]),
    ("T-_dot-matmul", lambda a, b: la.matmul(la._dot(la.T(a), b), la.matrix_transpose(b)),
     [normal(2, 3, 2), normal(3, 4)]),
    ("norm-list", lambda x: la.norm([x[0], x[1] + 2.0, x[0] * x[1]]), [normal(2)]),
    ("norm-keepdims", lambda x: la.norm(x, axis=1, keepdims=True), [normal(3, 4)]),
    ("norm-all", lambda x: la.norm(x), [normal(2, 3, 2)]),
    ("vector_norm-axes", lambda x: la.vector_norm(x, axis=(0, 2), ord=3), [normal(2, 3, 2)]),
    ("vector_norm-all", lambda x: la.vector_norm(x, ord=1.5, keepdims=True), [normal(2, 3)]),
    ("matrix_norm-nuc", lambda x: la.matrix_norm(x, ord="nuc"), [normal(2, 3, 4)]),
    ("sqrtm", fspla.sqrtm, [spd(3, 3)]),
    ("sqrtm-sym", lambda a: fspla.sqrtm(sym(a)), [spd(3, 3)]),
    ("solve_sylvester", fspla.solve_sylvester, [normal(3, 3), normal(2, 2), normal(3, 2)]),
    ("solve_triangular-lower", lambda a, b: fspla.solve_triangular(a, b, lower=True),
     [well(3, 3), normal(3, 2)]),
    ("solve_triangular-upper-T-vector", lambda a, b: fspla.solve_triangular(a, b, trans="T"),
     [well(3, 3), normal(3)]),
    ("solve_triangular-unit", lambda a, b: fspla.solve_triangular(a, b, trans=1, lower=True,
                                                                  unit_diagonal=True),
     [normal(3, 3), normal(3, 2)]),
    ("solve_banded", lambda ab, b: fspla.solve_banded((1, 2), ab, b),
     [normal(4, 5) + np.array([0, 0, 5, 0])[:, None], normal(5, 2)]),
    ("solve_banded-vector", lambda ab, b: fspla.solve_banded((1, 1), ab, b),
     [normal(3, 4) + np.array([0, 4, 0])[:, None], normal(4)]),
]



def cnormal(*shape):
    return normal(*shape) + 1j * normal(*shape)


def cflat(*parts):
    """the outputs side by side, complex (fastgrad.numpy: mixes real and complex parts)"""
    return fnp.concatenate([fnp.ravel(p) + 0j for p in parts])


# complex matrices (autograd's conventions); functions invariant to the vectors' phases
CASES += [
    ("svd-complex-tall", lambda a: cflat(*[fnp.abs(p) for p in la.svd(a, full_matrices=False)]),
     [cnormal(4, 3)]),
    ("svd-complex-wide-stacked",
     lambda a: cflat(*[fnp.abs(p) for p in la.svd(a, full_matrices=False)]), [cnormal(2, 2, 4)]),
    ("svd-complex-product", lambda a: cflat(fnp.matmul(*la.svd(a)[::2])), [cnormal(3, 3)]),
    ("svdvals-complex", la.svdvals, [cnormal(3, 4)]),
    ("norm-nuc-complex", lambda x: la.norm(x, "nuc"), [cnormal(4, 3)]),
    ("norm-2-complex-axes", lambda x: la.norm(x, 2, axis=(2, 0)), [cnormal(3, 2, 4)]),
    ("eigh-complex", lambda a: cflat(la.eigh(a)[0], fnp.abs(la.eigh(a)[1])), [cnormal(4, 4)]),
    ("eigh-complex-upper-stacked", lambda a: cflat(*[fnp.abs(p) for p in la.eigh(a, "U")]),
     [cnormal(2, 3, 3)]),
    ("eigvalsh-complex", la.eigvalsh, [cnormal(3, 3)]),
    ("eig-complex", lambda a: cflat(la.eig(a)[0], fnp.abs(la.eig(a)[1])), [cnormal(3, 3)]),
    ("eig-real-with-complex-eigenvalues", lambda a: cflat(la.eig(a)[0], fnp.abs(la.eig(a)[1])),
     [np.array([[0.5, 2.0, 0.1], [-1.5, 0.3, 0.2], [0.4, -0.2, 2.0]])]),
    ("eigvals-stacked-complex", la.eigvals, [cnormal(2, 3, 3)]),
    ("sqrtm-complex-root", fspla.sqrtm, [np.array([[-2.0, 0.5], [0.3, 1.0]])]),
    ("sqrtm-complex", fspla.sqrtm, [cnormal(3, 3) + 3 * np.eye(3)]),
]

VECTOR_ORDS = [None, 1, 2, 3, 0.5, -1, np.inf, -np.inf, 0]
MATRIX_ORDS = [None, "fro", "nuc", 2, -2, 1, -1, np.inf, -np.inf]
CASES += [(f"norm-vector-{o}", lambda x, o=o: la.norm(x, o), [normal(4)]) for o in VECTOR_ORDS]
CASES += [(f"norm-matrix-{o}", lambda x, o=o: la.norm(x, o), [normal(3, 4)])
          for o in MATRIX_ORDS]
CASES += [(f"norm-axes-{o}", lambda x, o=o: la.norm(x, o, axis=(2, 0)), [normal(3, 2, 4)])
          for o in ("fro", "nuc", 2, 1, -np.inf)]


@pytest.fixture(params=BACKENDS, ids=[IDS[b] for b in BACKENDS])
def backend(request):
    return request.param


@pytest.mark.parametrize("name,fun,args", CASES, ids=[c[0] for c in CASES])
def test_derivatives_to_second_order(name, fun, args, backend):
    check_grads(fun, tuple(range(len(args))), modes=("fwd", "rev"), order=2,
                backend=backend)(*args)


PLAIN = [
    (la.inv, np.linalg.inv, [well(3, 3)]),
    (la.solve, np.linalg.solve, [well(2, 3, 3), normal(3)]),
    (la.det, np.linalg.det, [normal(3, 3)]),
    (la.slogdet, np.linalg.slogdet, [normal(3, 3)]),
    (la.pinv, np.linalg.pinv, [normal(3, 2)]),
    (la.cholesky, np.linalg.cholesky, [spd(3, 3)]),
    (la.eigh, np.linalg.eigh, [normal(3, 3)]),
    (la.eig, np.linalg.eig, [normal(3, 3)]),
    (la.svd, np.linalg.svd, [normal(3, 2)]),
    (la.norm, np.linalg.norm, [normal(3, 2), "nuc"]),
    (la.matrix_power, np.linalg.matrix_power, [normal(3, 3), 3]),
    (fspla.sqrtm, sla.sqrtm, [spd(3, 3)]),
    (fspla.solve_sylvester, sla.solve_sylvester, [normal(2, 2), normal(3, 3), normal(2, 3)]),
    (fspla.solve_triangular, sla.solve_triangular, [well(3, 3), normal(3)]),
    (fspla.solve_banded, sla.solve_banded, [(1, 0), normal(2, 3) + 3, normal(3)]),
]


@pytest.mark.parametrize("ours,theirs,args", PLAIN, ids=[p[1].__name__ for p in PLAIN])
def test_plain_arrays_exactly(ours, theirs, args):
    mine, expected = ours(*args), theirs(*args)
    if isinstance(expected, tuple):
        for m, e in zip(mine, expected):
            np.testing.assert_array_equal(m, e)
    else:
        np.testing.assert_array_equal(mine, expected)


def test_traced_values_match_numpys_values(backend):
    """The forwards on traced values give numpy's numbers (the eigenvector signs included)."""
    a = normal(4, 4)
    seen = {}

    def f(x):
        w, v = la.eigh(x, "U")
        u, s, vh = la.svd(x[:, :3], full_matrices=False)
        seen.update(w=w.data, v=v.data, u=u.data, s=s.data, vh=vh.data, n=la.norm(x, 2).data,
                    c=la.cholesky(x @ x.T + 4 * np.eye(4)).data)
        return fnp.sum(w)

    autodiff.grad(f)(a)
    w, v = np.linalg.eigh(a, "U")
    u, s, vh = np.linalg.svd(a[:, :3], full_matrices=False)
    for got, expected in ((seen["w"], w), (seen["v"], v), (seen["u"], u), (seen["s"], s),
                          (seen["vh"], vh), (seen["n"], np.linalg.norm(a, 2)),
                          (seen["c"], np.linalg.cholesky(a @ a.T + 4 * np.eye(4)))):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- named cases

def test_norm_of_a_list_of_traced_values(backend):
    """d/dx sqrt(x^2 + (x + 2)^2) at 0 is 1 (a list or tuple is stacked, not dropped)."""
    assert autodiff.grad(lambda x: la.norm([x, x + 2]))(0.0) == 1.0
    assert autodiff.grad(lambda x: la.norm((x, x + 2)))(0.0) == 1.0
    assert autodiff.grad(lambda x: la.norm([[x, 1.0], [x * x, 2.0]], "fro"))(1.0) == \
        pytest.approx(3 / np.sqrt(7))


def test_repeated_eigenvalues_for_a_function_of_the_eigenvalues(backend):
    """sum(eigvalsh(a)) = trace: gradient I, even where every eigenvalue is the same; and
    sum(svd(a).s) at I (all singular values 1): gradient U V^T = I."""
    eye = np.eye(3)
    np.testing.assert_allclose(autodiff.grad(lambda a: fnp.sum(la.eigvalsh(a)))(eye), eye,
                               atol=1e-12)
    np.testing.assert_allclose(autodiff.grad(lambda a: fnp.sum(la.eigh(a)[0] ** 2))(2 * eye),
                               4 * eye, atol=1e-12)
    np.testing.assert_allclose(autodiff.grad(lambda a: la.norm(a, "nuc"))(eye), eye, atol=1e-12)


def test_eigh_and_cholesky_read_one_triangle(backend):
    """numpy reads only the lower (upper) triangle; so do the gradients."""
    a = spd(3, 3) + np.triu(normal(3, 3), 1)
    g = autodiff.grad(lambda x: fnp.sum(la.eigh(x)[0] ** 3))(a)
    assert np.all(np.triu(g, 1) == 0)
    g = autodiff.grad(lambda x: fnp.sum(la.cholesky(x, upper=True)))(a.T)
    assert np.all(np.tril(g, -1) == 0)


def test_hessian_of_log_det(backend):
    """d^2 log det A [E, F] = -tr(A^-1 E A^-1 F): the Hessian through slogdet's rule."""
    a = spd(3, 3)
    h = autodiff.jacobian(autodiff.grad(lambda x: la.slogdet(x)[1]))(a)
    ai = np.linalg.inv(a)
    np.testing.assert_allclose(h, -np.einsum("li,jk->ijkl", ai, ai), rtol=1e-9, atol=1e-12)


def test_first_order_backward_matches_recorded_path(backend):
    """Tensor.backward (the numpy VJPs run on constants) equals the recorded path."""
    Tensor = fastgrad.Tensor
    a = Tensor(well(3, 3), requires_grad=True)
    b = Tensor(normal(3, 2), requires_grad=True)
    out = fnp.sum(la.solve(a, b) ** 2) + la.norm(la.inv(a), "nuc") + la.slogdet(a)[1]
    recorded = fastgrad.gradients(out, [a, b])
    out.backward()
    np.testing.assert_allclose(recorded[0].data, a.grad, rtol=1e-12)
    np.testing.assert_allclose(recorded[1].data, b.grad, rtol=1e-12)


# ---------------------------------------------------------------- bad input

def traced(x):
    return fastgrad.Tensor(np.asarray(x, float), requires_grad=True)


BAD = [
    (lambda: la.inv(traced(normal(2, 3))), ValueError, r"linalg\.inv.*\(2, 3\)"),
    (lambda: la.inv(traced(np.ones((3, 3)))), np.linalg.LinAlgError,
     r"linalg\.inv: Singular matrix.*\(3, 3\)"),
    (lambda: la.det(traced(normal(3))), ValueError, r"linalg\.det.*\(3,\)"),
    (lambda: la.solve(traced(well(3, 3)), normal(4)), ValueError,
     r"linalg\.solve.*\(3, 3\).*\(4, 1\)"),
    (lambda: la.solve(traced(well(2, 3, 3)), normal(4, 3, 1)), ValueError,
     r"linalg\.solve: shapes \(2, 3, 3\) and \(4, 3, 1\)"),
    (lambda: la.cholesky(traced(-np.eye(3))), np.linalg.LinAlgError,
     r"linalg\.cholesky.*not positive definite.*\(3, 3\)"),
    (lambda: la.eigh(traced(normal(3, 2))), ValueError, r"linalg\.eigh.*\(3, 2\)"),
    (lambda: la.eigh(traced(normal(3, 3)), "X"), ValueError, "UPLO"),
    (lambda: la.svd(traced(normal(3, 2))), NotImplementedError,
     r"linalg\.svd: full_matrices=True.*\(3, 2\)"),
    (lambda: la.pinv(traced(normal(3))), ValueError, r"linalg\.pinv.*\(3,\)"),
    (lambda: la.norm(traced(normal(3)), "fro"), ValueError, "Invalid norm order"),
    (lambda: la.norm(traced(normal(3, 3)), 3), ValueError, "Invalid norm order"),
    (lambda: la.norm(traced(normal(2, 2, 2)), 2), ValueError, "Improper number"),
    (lambda: la.matrix_power(traced(normal(2, 3)), 2), ValueError,
     r"linalg\.matrix_power.*\(2, 3\)"),
    (lambda: la.qr(traced(normal(3, 3))), TypeError, r"linalg\.qr.*no gradient"),
    (lambda: la.lstsq(normal(3, 3), [traced(1.0), 2.0, 3.0]), TypeError, r"linalg\.lstsq"),
    (lambda: fspla.sqrtm(traced(normal(2, 3))), ValueError, r"sqrtm.*\(2, 3\)"),
    (lambda: fspla.solve_sylvester(traced(normal(2, 2)), normal(3, 3), normal(3, 3)),
     ValueError, r"solve_sylvester.*\(2, 2\).*\(3, 3\).*\(2, 3\)"),
    (lambda: fspla.solve_triangular(traced(well(3, 3)), normal(2)), ValueError,
     r"solve_triangular.*\(3, 3\).*\(2, 1\)"),
    (lambda: fspla.solve_triangular(traced(well(2, 2)), normal(2), trans="X"), ValueError,
     "trans"),
    (lambda: fspla.solve_banded((1, 1), traced(normal(2, 4)), normal(4)), ValueError,
     r"solve_banded.*\(1, 1\).*\(3, n\).*\(2, 4\)"),
    (lambda: fspla.expm(traced(normal(2, 2))), TypeError, r"scipy\.linalg\.expm.*no gradient"),
]


@pytest.mark.parametrize("name", ["pinv", "cholesky"])
def test_complex_input_is_refused_where_the_rules_are_real(name):
    """These rules use transposes where complex matrices need conjugate ones: they refuse
    complex input by name (the engine's complex support would otherwise reach them)."""
    a = normal(3, 3) + 1j * normal(3, 3)
    with pytest.raises(NotImplementedError, match=rf"linalg\.{name}: complex input"):
        OPS[name].forward(a @ a.conj().T + 3 * np.eye(3))


@pytest.mark.parametrize("call,error,match", BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_input_names_the_function_and_shapes(call, error, match):
    with pytest.raises(error, match=match):
        call()
