"""The numpy functions of fastgrad/numpy/_functions.py (and remainder, the ndarray methods, r_ /
c_): on plain arrays exactly numpy's result; on traced values numpy's values, and forward and
reverse derivatives to second order against finite differences (check_grads, float64), with
axes, offsets and broadcasting; both backends."""
import warnings

import numpy as np
import pytest
from autodiff_helpers import PER_BACKEND, face_of

import fastgrad
import fastgrad.numpy as fnp
from fastgrad.test_util import check_grads

R = np.random.default_rng(7)


def normal(*shape):
    return R.standard_normal(shape)


def joined(np_, parts):
    """A list of arrays (split, gradient) as one flat array."""
    return np_.concatenate([np_.ravel(p) for p in parts])


# (id, function(np, *arrays), arrays): function is called with numpy and with fastgrad.numpy
CASES = [
    ("dot-nd", lambda np, a, b: np.dot(a, b), [normal(2, 3, 4), normal(5, 4, 6)]),
    ("dot-1d-nd", lambda np, a, b: np.dot(a, b), [normal(3), normal(2, 3, 4)]),
    ("dot-nd-1d", lambda np, a, b: np.dot(a, b), [normal(2, 3, 4), normal(4)]),
    ("flip", lambda np, x: np.flip(x, 1), [normal(3, 4)]),
    ("flip-all", lambda np, x: np.flip(x), [normal(2, 3, 2)]),
    ("flipud", lambda np, x: np.flipud(x), [normal(3, 4)]),
    ("fliplr", lambda np, x: np.fliplr(x), [normal(3, 4)]),
    ("rot90", lambda np, x: np.rot90(x), [normal(3, 4)]),
    ("rot90-k2", lambda np, x: np.rot90(x, 2, axes=(1, 2)), [normal(2, 3, 4)]),
    ("rot90-k3", lambda np, x: np.rot90(x, -1), [normal(3, 4)]),
    ("roll", lambda np, x: np.roll(x, 2, axis=1), [normal(3, 5)]),
    ("roll-flat", lambda np, x: np.roll(x, -3), [normal(3, 4)]),
    ("roll-axes", lambda np, x: np.roll(x, (1, 2), axis=(0, 1)), [normal(3, 4)]),
    ("rollaxis", lambda np, x: np.rollaxis(x, 2), [normal(2, 3, 4)]),
    ("rollaxis-start", lambda np, x: np.rollaxis(x, 0, 3), [normal(2, 3, 4)]),
    ("atleast_3d-1d", lambda np, x: np.atleast_3d(x), [normal(4)]),
    ("atleast_3d-2d", lambda np, x: np.atleast_3d(x), [normal(2, 4)]),
    ("diagonal", lambda np, x: np.diagonal(x, 1), [normal(4, 5)]),
    ("diagonal-axes", lambda np, x: np.diagonal(x, -1, axis1=-1, axis2=0), [normal(4, 2, 3)]),
    ("trace", lambda np, x: np.trace(x, offset=-1), [normal(4, 5)]),
    ("trace-3d", lambda np, x: np.trace(x), [normal(3, 4, 2)]),
    ("diag-matrix", lambda np, x: np.diag(x, 1), [normal(4, 4)]),
    ("diag-vector", lambda np, x: np.diag(x, -2), [normal(3)]),
    ("tril", lambda np, x: np.tril(x, -1), [normal(4, 4)]),
    ("triu-3d", lambda np, x: np.triu(x, 1), [normal(2, 3, 4)]),
    ("repeat", lambda np, x: np.repeat(x, 2, axis=1), [normal(2, 3)]),
    ("repeat-flat", lambda np, x: np.repeat(x, [1, 0, 2, 1]), [normal(2, 2)]),
    ("tile", lambda np, x: np.tile(x, (2, 1, 3)), [normal(2, 3)]),
    ("tile-int", lambda np, x: np.tile(x, 2), [normal(3)]),
    ("kron", lambda np, a, b: np.kron(a, b), [normal(2, 3), normal(3, 2)]),
    ("kron-ranks", lambda np, a, b: np.kron(a, b), [normal(3), normal(2, 2)]),
    ("split", lambda np, x: joined(np, np.split(x, 2, axis=1)), [normal(3, 4)]),
    ("array_split", lambda np, x: joined(np, np.array_split(x, [1, 4])), [normal(5, 2)]),
    ("hsplit", lambda np, x: joined(np, np.hsplit(x, 2)), [normal(2, 4)]),
    ("vsplit", lambda np, x: joined(np, np.vsplit(x, [1])), [normal(3, 2)]),
    ("dsplit", lambda np, x: joined(np, np.dsplit(x, 2)), [normal(2, 2, 4)]),
    ("append", lambda np, a, b: np.append(a, b), [normal(2, 3), normal(2)]),
    ("append-axis", lambda np, a, b: np.append(a, b, axis=0), [normal(2, 3), normal(1, 3)]),
    ("diff", lambda np, x: np.diff(x), [normal(3, 5)]),
    ("diff-n2-axis0", lambda np, x: np.diff(x, 2, axis=0), [normal(5, 3)]),
    ("diff-prepend", lambda np, x: np.diff(x, prepend=0.5), [normal(4)]),
    ("gradient", lambda np, x: np.gradient(x), [normal(6)]),
    ("gradient-axes", lambda np, x: joined(np, np.gradient(x, 0.5)), [normal(4, 5)]),
    ("gradient-edge2", lambda np, x: np.gradient(x, axis=1, edge_order=2), [normal(3, 5)]),
    ("tensordot", lambda np, a, b: np.tensordot(a, b), [normal(2, 3, 4), normal(3, 4, 2)]),
    ("tensordot-axes", lambda np, a, b: np.tensordot(a, b, axes=([0], [1])),
     [normal(3, 2), normal(4, 3)]),
    ("tensordot-outer", lambda np, a, b: np.tensordot(a, b, 0), [normal(2), normal(3)]),
    ("einsum-matmul", lambda np, a, b: np.einsum("ij,jk->ik", a, b),
     [normal(2, 3), normal(3, 4)]),
    ("einsum-trace", lambda np, a: np.einsum("ii", a), [normal(3, 3)]),
    ("einsum-diag-three", lambda np, a, b, c: np.einsum("ijk,lji,lli->lki", a, b, c),
     [normal(3, 2, 2), normal(2, 2, 3), normal(2, 2, 3)]),
    ("einsum-ellipsis", lambda np, a, b: np.einsum("...ij,...jk->...ik", a, b),
     [normal(2, 3), normal(2, 3, 4)]),
    ("einsum-implicit", lambda np, a, b: np.einsum("ij,k", a, b), [normal(2, 3), normal(2)]),
    ("einsum-sublists", lambda np, a, b: np.einsum(a, [0, 1], b, [1, 2], [0, 2]),
     [normal(2, 3), normal(3, 2)]),
    ("cross", lambda np, a, b: np.cross(a, b), [normal(4, 3), normal(3)]),
    ("cross-axes", lambda np, a, b: np.cross(a, b, axisa=0, axisb=0, axisc=0),
     [normal(3, 2), normal(3, 2)]),
    ("select", lambda np, a, b: np.select([a > 0, b > 0.5], [a, b], default=-1.0),
     [normal(3, 4), normal(3, 4)]),
    ("sort", lambda np, x: np.sort(x, axis=0), [normal(4, 3)]),
    ("take", lambda np, x: np.take(x, [[0, 2], [2, 2]], axis=1), [normal(2, 3)]),
    ("take-flat", lambda np, x: np.take(x, [5, 0, 5]), [normal(2, 3)]),
    ("partition", lambda np, x: np.partition(x, 2), [normal(3, 5)]),
    ("fmax", lambda np, a, b: np.fmax(a, b), [normal(3, 4), normal(4)]),
    ("fmin", lambda np, a, b: np.fmin(a, b), [normal(3, 1), normal(4)]),
    ("nan_to_num", lambda np, x: np.nan_to_num(x + np.array([0.0, np.nan, np.inf])),
     [normal(2, 3)]),
    ("pad-constant", lambda np, x: np.pad(x, ((1, 0), (2, 1)), constant_values=0.5),
     [normal(2, 3)]),
    ("pad-reflect", lambda np, x: np.pad(x, 2, mode="reflect"), [normal(3, 4)]),
    ("pad-edge", lambda np, x: np.pad(x, (1, 2), mode="edge"), [normal(3)]),
    ("linspace", lambda np, a, b: np.linspace(a, b, 5), [normal(), normal()]),
    ("linspace-arrays", lambda np, a, b: np.linspace(a, b, 4, endpoint=False),
     [normal(2), normal(2)]),
    ("full", lambda np, a: np.full((2, 3), a), [normal()]),
    ("sinc", lambda np, x: np.sinc(x), [normal(2, 3)]),
    ("degrees", lambda np, x: np.degrees(x), [normal(3)]),
    ("radians", lambda np, x: np.radians(x), [normal(3)]),
    ("remainder", lambda np, a, b: np.remainder(a, b), [normal(2, 3), normal(3) + 3.0]),
    ("mod", lambda np, a, b: np.mod(a, b), [normal(3), -np.abs(normal(2, 1)) - 0.5]),
    ("real", lambda np, x: np.real(x), [normal(3)]),
    ("conj", lambda np, x: np.conj(x) * np.real_if_close(x), [normal(3)]),
    ("std-ddof", lambda np, x: np.std(x, axis=0, ddof=1), [normal(3, 2)]),
    ("make_diagonal", lambda np, x: np.make_diagonal(x, axis1=-1, axis2=-2)
     if hasattr(np, "make_diagonal") else _make_diagonal(x), [normal(2, 3)]),
]


def _make_diagonal(x):
    out = np.zeros(x.shape + x.shape[-1:])
    i = np.arange(x.shape[-1])
    out[..., i, i] = x
    return out


@pytest.fixture(**PER_BACKEND)
def ag(request):
    return face_of(request.param)


@pytest.mark.parametrize("name,fun,arrays", CASES, ids=[c[0] for c in CASES])
def test_plain_arrays_give_numpys_result(name, fun, arrays):
    expected = fun(np, *arrays)
    got = fun(fnp, *arrays)
    assert type(got) is type(expected) or isinstance(got, np.ndarray)
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("name,fun,arrays", CASES, ids=[c[0] for c in CASES])
def test_traced_values_and_derivatives(ag, name, fun, arrays):
    expected = fun(np, *arrays)
    leaves = [fastgrad.Tensor(a, requires_grad=True) for a in arrays]
    value = fun(ag.np, *leaves)
    np.testing.assert_allclose(getattr(value, "data", value), expected, rtol=1e-13, atol=1e-13)
    check_grads(lambda *xs: fun(ag.np, *xs), tuple(range(len(arrays))), modes=("fwd", "rev"),
                order=2, backend=ag.name)(*arrays)


def test_make_diagonal_places_the_last_axis_on_a_diagonal():
    D = normal(3, 4)
    A = fnp.make_diagonal(D, axis1=-1, axis2=-2)
    assert A.shape == (3, 4, 4)
    for i in range(3):
        np.testing.assert_array_equal(np.diag(A[i]), D[i])
    np.testing.assert_array_equal(fnp.make_diagonal(D[0]), np.diag(D[0]))


def test_split_gives_pieces_whose_gradients_meet(ag):
    x = normal(4, 6)

    def f(x):
        a, b, c = ag.np.split(x, 3, axis=1)
        return ag.np.sum(a * 2.0 + b * c)
    g = ag.grad(f)(x)
    np.testing.assert_allclose(g, np.concatenate([2 * np.ones((4, 2)), x[:, 4:], x[:, 2:4]], 1))


def test_remainder_operators_and_methods(ag):
    x = normal(3, 2)
    Tensor = fastgrad.Tensor
    t = Tensor(x, requires_grad=True)
    np.testing.assert_allclose((t % 0.7).data, x % 0.7)
    np.testing.assert_allclose((2.5 % (t * t + 1)).data, 2.5 % (x * x + 1))
    check_grads(lambda x: (x % 0.7) + (3.0 % (x * x + 1.0)), backend=ag.name)(x)


METHODS = [
    ("ravel", lambda x: x.ravel()), ("squeeze", lambda x: x.squeeze()),
    ("dot", lambda x: x.dot(np.ones(3))), ("swapaxes", lambda x: x.swapaxes(0, 2)),
    ("cumsum", lambda x: x.cumsum(0)), ("prod", lambda x: x.prod(axis=0)),
    ("var", lambda x: x.var(axis=2, ddof=1)), ("std", lambda x: x.std()),
    ("conj", lambda x: x.conj()), ("real", lambda x: x.real + x.imag),
    ("diagonal", lambda x: x.diagonal(0, 0, 2)), ("trace", lambda x: x.trace(axis1=0, axis2=2)),
    ("repeat", lambda x: x.repeat(2, axis=2)), ("max", lambda x: x.max(axis=(0, 2))),
    ("take", lambda x: x.take([2, 0], axis=2)),
]


@pytest.mark.parametrize("name,fun", METHODS, ids=[m[0] for m in METHODS])
def test_ndarray_methods_on_traced_values(ag, name, fun):
    x = normal(3, 1, 3) + 2.0
    Tensor = fastgrad.Tensor
    np.testing.assert_allclose(fun(Tensor(x)).data, fun(x), rtol=1e-13)
    check_grads(fun, backend=ag.name)(x)


def test_r_and_c_of_traced_values(ag):
    c = normal(3, 2)
    x = normal(3, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "output independent of input" warning
        check_grads(lambda x: ag.np.r_[x, c, x], backend=ag.name)(x)
        check_grads(lambda x: ag.np.c_[x, c], backend=ag.name)(x)
        check_grads(lambda v: ag.np.r_[v, 2.0, 0:3], backend=ag.name)(normal(4))
        check_grads(lambda v: ag.np.c_[v, v * 2], backend=ag.name)(normal(4))
    np.testing.assert_array_equal(fnp.r_[c.ravel(), 1:3], np.r_[c.ravel(), 1:3])
    np.testing.assert_array_equal(fnp.c_[c, c], np.c_[c, c])


def test_std_at_a_constant_has_zero_slope(ag):
    assert ag.grad(lambda x: ag.np.std(x))(1.5) == 0.0
    assert ag.grad(lambda x: ag.np.std(ag.np.array([x, x])))(1.5) == 0.0
    check_grads(lambda x: ag.np.std(x), backend=ag.name)(1.5)


def test_boolean_results_refuse_differentiation(ag):
    with pytest.raises(TypeError, match="boolean"):
        ag.grad(lambda x: ag.np.allclose(x, x * 3.0 / 3.0))(np.ones(3))


def test_taking_a_traced_value_out_of_the_graph_raises(ag):
    with pytest.raises(TypeError, match="float"):
        ag.grad(lambda x: float(x) * 2.0)(1.0)
    with pytest.raises(TypeError, match="numpy.asarray"):
        ag.grad(lambda x: np.sum(np.asarray(x) * 2.0))(np.ones(2))
    # integer values are taken on purpose (indices), and outside grad values are free
    assert ag.grad(lambda x: x[np.int64(x[0])] * 2.0)(np.array([1.0, 3.0])).tolist() == [0, 2]
    Tensor = fastgrad.Tensor
    assert float(Tensor(2.0, requires_grad=True) * 2) == 4.0


def test_plain_numpy_functions_on_traced_values_record(ag):
    x = normal(4)
    for f in (np.prod, np.sort, np.trace, np.var):
        g = ag.grad(lambda x, f=f: ag.np.sum(f(ag.np.reshape(x, (2, 2)))))(x)
        expected = ag.grad(lambda x, f=f: ag.np.sum(getattr(ag.np, f.__name__)(
            ag.np.reshape(x, (2, 2)))))(x)
        np.testing.assert_allclose(g, expected)


def test_traced_options_without_meaning_are_refused(ag):
    x = normal(3, 3)
    with pytest.raises(TypeError, match="pad: mode='mean'"):
        ag.grad(lambda x: ag.np.sum(ag.np.pad(x, 1, mode="mean")))(x)
    with pytest.raises(TypeError, match="trace: dtype"):
        ag.grad(lambda x: ag.np.trace(x, dtype=np.float32))(x)
    with pytest.raises(TypeError, match="r_: a directive"):
        ag.grad(lambda x: ag.np.sum(ag.np.r_["0,2", x]))(x)
    with pytest.raises(ValueError):
        ag.grad(lambda x: ag.np.sum(ag.np.split(x, 2)[0]))(x)


def test_multiple_results_come_in_numpys_containers(ag):
    Tensor = fastgrad.Tensor
    x = Tensor(normal(4, 4), requires_grad=True)
    calls = [(lambda np, x: np.split(x, 2)), (lambda np, x: np.array_split(x, 3)),
             (lambda np, x: np.gradient(x)), (lambda np, x: np.atleast_3d(x, x))]
    for call in calls:
        got, expected = call(ag.np, x), call(np, x.data)
        assert type(got) is type(expected)
        assert len(got) == len(expected)
        for g, e in zip(got, expected):
            np.testing.assert_allclose(g.data, e, rtol=1e-13)


def test_where_between_two_non_arrays_returns_the_chosen_one():
    """autograd's where: a Python bool choosing between scalars or lists returns that object
    (its type kept); with arrays it is numpy's where (dtype promotion)."""
    assert fnp.where(True, 1, 2) == 1 and type(fnp.where(True, 1, 2)) is int
    assert type(fnp.where(False, 1, 2.0)) is float
    assert fnp.where(True, [1, 2], [3, 4]) == [1, 2]
    mixed = fnp.where(False, np.array([1.0]), np.array([2.0], np.float32))
    assert mixed.dtype == np.float64 and mixed[0] == 2.0
    np.testing.assert_array_equal(fnp.where([True, False], [1.0, 2.0], [3.0, 4.0]), [1.0, 4.0])
