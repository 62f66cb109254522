"""The op table's linear-algebra entries (fastgrad/ops/linalg_ops.py): one case or more each,
in tests/optable_cases.py's form. The inputs are drawn as normal; each case turns them into
the op's domain (well-conditioned, symmetric, positive definite) with fastgrad ops, and ends
with the entry's own node."""
import numpy as np

from fastgrad.ops import kernels as k
from fastgrad.ops import linalg_ops as L
from fastgrad.ops import scipy_linalg_ops as S


def normal(*shape):
    return ("normal", shape)


def well(a):
    """a + n I: far from singular"""
    return a + a.data.shape[-1] * np.eye(a.data.shape[-1])


def sym(a):
    return 0.5 * (a + L.mT(a))


def spd(a):
    return L.mm(a, L.mT(a)) + a.data.shape[-1] * np.eye(a.data.shape[-1])


LINALG_CASES = {
    "inv": [(lambda F, a: L.inv(well(a)), [normal(3, 3)]),
            (lambda F, a: L.inv(well(a)), [normal(2, 3, 3)])],
    "solve": [(lambda F, a, b: L.solve(well(a), b), [normal(3, 3), normal(3, 2)]),
              (lambda F, a, b: L.solve(well(a), b), [normal(2, 3, 3), normal(3, 1)])],
    "det": [(lambda F, a: L.det(a), [normal(3, 3)]),
            (lambda F, a: L.det(a), [normal(2, 3, 3)])],
    "logabsdet": [(lambda F, a: L.logabsdet(a), [normal(3, 3)])],
    "pinv": [(lambda F, a: L.pinv(a), [normal(4, 2)]),
             (lambda F, a: L.pinv(a), [normal(2, 2, 3)])],
    "cholesky": [(lambda F, a: L.cholesky(spd(a)), [normal(3, 3)])],
    "eigh": [(lambda F, a: L.eigh(sym(a)), [normal(3, 3)]),
             (lambda F, a: L.eigh(sym(a), UPLO="U"), [normal(2, 3, 3)])],
    "eig": [(lambda F, a: L.eig(0.2 * a + np.diag([0.0, 3.0, 6.0])), [normal(3, 3)])],
    "svd": [(lambda F, a: L.svd(a), [normal(4, 3)]),
            (lambda F, a: L.svd(a), [normal(2, 2, 3)])],
    "solve_sylvester": [(lambda F, a, b, q: S.solve_sylvester(a, b, q),
                         [normal(3, 3), normal(2, 2), normal(3, 2)])],
    "sqrtm": [(lambda F, a: S.sqrtm(spd(a)), [normal(3, 3)])],
    "solve_triangular": [(lambda F, a, b: S.solve_triangular(well(a), b, lower=True),
                          [normal(3, 3), normal(3, 2)]),
                         (lambda F, a, b: S.solve_triangular(a, b, trans=1,
                                                             unit_diagonal=True),
                          [normal(3, 3), normal(3, 1)])],
    "solve_banded": [(lambda F, ab, b: S.solve_banded(k.add(ab, np.array([[0.0], [4.0],
                                                                          [0.0]])),
                                                      b, lu=(1, 1)),
                      [normal(3, 4), normal(4, 2)])],
}
