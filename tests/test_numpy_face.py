"""fastgrad.numpy: on plain arrays every function returns exactly what numpy returns; on traced
values its gradient matches finite differences; functions without a gradient refuse traced
values by name. Both backends."""
import numpy as np
import pytest
from autodiff_helpers import PER_BACKEND, face_of, numeric_grad, projection
from cases import draw

import fastgrad.numpy as fnp


@pytest.fixture(**PER_BACKEND)
def ag(request):
    """The autograd face of one backend (.np, .grad, ...): the test runs once per backend."""
    return face_of(request.param)

R = np.random.default_rng(0)
M = R.standard_normal((3, 4))
V = R.standard_normal(4)
W = R.standard_normal((4, 2))
P = R.uniform(0.5, 2.0, (3, 4))
S = R.standard_normal((3, 1, 4))

# (name, args, kwargs): fastgrad.numpy.<name>(*args, **kwargs) must equal numpy's, exactly
PLAIN = [
    ("array", ([[1, 2], [3, 4]],), {}), ("array", ([1.0, 2.0],), {"dtype": np.float32}),
    ("asarray", (M,), {}), ("dot", (M, V), {}), ("dot", (V, V), {}), ("dot", (2.0, M), {}),
    ("matmul", (M, W), {}), ("outer", (V, V[:3]), {}), ("inner", (M, V), {}),
    ("exp", (M,), {}), ("exp", (M,), {"dtype": np.float32}), ("log", (P,), {}),
    ("log1p", (P,), {}), ("tanh", (M,), {}), ("sqrt", (P,), {}), ("square", (M,), {}),
    ("power", (P, 1.5), {}), ("power", (2.0, M), {}), ("abs", (M,), {}),
    ("absolute", (M,), {}), ("negative", (M,), {}), ("reciprocal", (P,), {}),
    ("sin", (M,), {}), ("cos", (M,), {}), ("tan", (M,), {}), ("expm1", (M,), {}),
    ("log2", (P,), {}), ("log10", (P,), {}), ("sinh", (M,), {}), ("arctan", (M,), {}),
    ("add", (M, V), {}), ("subtract", (M, 1.0), {}), ("multiply", (M, V), {}),
    ("divide", (M, P), {}), ("true_divide", (1.0, P), {}), ("logaddexp", (M, V), {}),
    ("sum", (M,), {}), ("sum", (M,), {"axis": 0}), ("sum", (M, 1), {"keepdims": True}),
    ("sum", (M,), {"dtype": np.float32}), ("sum", ([1, 2, 3],), {}),
    ("mean", (M,), {}), ("mean", (M,), {"axis": (0, 1), "keepdims": True}),
    ("max", (M,), {}), ("max", (M,), {"axis": 1}), ("amax", (M, 0), {}),
    ("min", (M,), {"axis": 0, "keepdims": True}), ("amin", (M,), {}),
    ("maximum", (M, 0.0), {}), ("minimum", (M, V), {}), ("var", (M,), {"axis": 0}),
    ("std", (M,), {"ddof": 1}), ("prod", (P,), {"axis": 1}), ("cumsum", (M,), {}),
    ("clip", (M, -0.5, 0.5), {}), ("clip", (M, None, 0.2), {}),
    ("where", (M > 0, M, 0.0), {}), ("where", (M > 0,), {}),
    ("reshape", (M, (4, 3)), {}), ("reshape", (M, -1), {}), ("ravel", (M,), {}),
    ("transpose", (S,), {}), ("transpose", (S, (1, 2, 0)), {}), ("swapaxes", (S, 0, 2), {}),
    ("moveaxis", (S, 0, -1), {}), ("concatenate", ([M, M],), {"axis": 1}),
    ("concatenate", ([M, P],), {"axis": None}), ("stack", ([M, P],), {"axis": 1}),
    ("hstack", ([V, V],), {}), ("vstack", ([V, V],), {}), ("expand_dims", (M, 1), {}),
    ("expand_dims", (V, (0, 2)), {}), ("squeeze", (S,), {}), ("squeeze", (S, 1), {}),
    ("broadcast_to", (V, (3, 4)), {}), ("atleast_2d", (V,), {}),
    ("argmax", (M,), {"axis": 1}), ("sign", (M,), {}), ("zeros_like", (M,), {}),
    ("linspace", (0, 1, 5), {}), ("zeros", ((2, 3),), {}), ("arange", (4,), {}),
]


@pytest.mark.parametrize("name,args,kwargs", PLAIN,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(PLAIN)])
def test_plain_arrays_give_exactly_numpys_result(name, args, kwargs):
    got = getattr(fnp, name)(*args, **kwargs)
    want = getattr(np, name)(*args, **kwargs)
    if isinstance(want, tuple):
        assert type(got) is tuple and len(got) == len(want)
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w, strict=True)
        return
    assert type(got) is type(want)
    np.testing.assert_array_equal(got, want, strict=True)


def test_plain_out_argument_is_numpys():
    out = np.empty_like(M)
    assert fnp.exp(M, out=out) is out
    np.testing.assert_array_equal(out, np.exp(M))
    assert fnp.sum(M, axis=0, out=np.empty(4)).shape == (4,)


def test_ufunc_methods_kept_for_plain_arrays():
    np.testing.assert_array_equal(fnp.add.reduce(M, axis=0), np.add.reduce(M, axis=0))
    np.testing.assert_array_equal(fnp.multiply.outer(V, V), np.multiply.outer(V, V))
    assert fnp.exp.nin == 1


def test_numpy_names_pass_through():
    assert fnp.pi == np.pi and fnp.float32 is np.float32 and fnp.ndarray is np.ndarray
    assert fnp.newaxis is None and fnp.inf == np.inf
    assert fnp.random.RandomState is np.random.RandomState
    import fastgrad.numpy.random as npr
    assert npr.randn is np.random.randn
    with pytest.raises(AttributeError, match="no_such_function"):
        fnp.__getattr__("no_such_function")


# (id, function of (np-face, *inputs), input specs as in tests/cases.py)
A = "any"
TRACED = [
    ("exp", lambda f, x: f.exp(x), [((3, 4), A)]),
    ("log", lambda f, x: f.log(x), [((3, 4), "pos")]),
    ("log1p", lambda f, x: f.log1p(x), [((3, 4), "pos")]),
    ("tanh", lambda f, x: f.tanh(x), [((3, 4), A)]),
    ("sqrt", lambda f, x: f.sqrt(x), [((3, 4), "pos")]),
    ("square", lambda f, x: f.square(x), [((3, 4), A)]),
    ("power", lambda f, x, y: f.power(x, y), [((3, 4), "pos"), ((4,), A)]),
    ("power_scalar", lambda f, x: f.power(x, 3.0), [((3,), A)]),
    ("abs", lambda f, x: f.abs(x), [((3, 4), "away0")]),
    ("sin", lambda f, x: f.sin(x), [((3, 4), A)]),
    ("cos", lambda f, x: f.cos(x), [((3, 4), A)]),
    ("negative", lambda f, x: f.negative(x), [((3,), A)]),
    ("reciprocal", lambda f, x: f.reciprocal(x), [((3,), "pos")]),
    ("add", lambda f, x, y: f.add(x, y), [((3, 4), A), ((4,), A)]),
    ("subtract", lambda f, x, y: f.subtract(x, y), [((3, 4), A), ((3, 1), A)]),
    ("multiply", lambda f, x, y: f.multiply(x, y), [((3, 4), A), ((4,), A)]),
    ("divide", lambda f, x, y: f.divide(x, y), [((3, 4), A), ((4,), "pos")]),
    ("true_divide_const", lambda f, x: f.true_divide(M, x), [((3, 4), "pos")]),
    ("maximum", lambda f, x, y: f.maximum(x, y), [((3, 4), "distinct"), ((4,), "distinct")]),
    ("minimum", lambda f, x: f.minimum(x, 0.1), [((3, 4), "away0")]),
    ("matmul", lambda f, x, y: f.matmul(x, y), [((2, 3), A), ((3, 4), A)]),
    ("dot_vec_mat", lambda f, x, y: f.dot(x, y), [((3,), A), ((3, 4), A)]),
    ("dot_const", lambda f, x: f.dot(M, x), [((4, 2), A)]),
    ("outer", lambda f, x, y: f.outer(x, y), [((3,), A), ((4,), A)]),
    ("inner", lambda f, x, y: f.inner(x, y), [((2, 4), A), ((3, 4), A)]),
    ("vdot", lambda f, x, y: f.vdot(x, y), [((2, 3), A), ((2, 3), A)]),
    ("sum", lambda f, x: f.sum(x), [((3, 4), A)]),
    ("sum_axis_keep", lambda f, x: f.sum(x, axis=1, keepdims=True), [((3, 4), A)]),
    ("mean", lambda f, x: f.mean(x, axis=0), [((3, 4), A)]),
    ("max", lambda f, x: f.max(x, axis=1), [((3, 4), "distinct")]),
    ("amin", lambda f, x: f.amin(x), [((3, 4), "distinct")]),
    ("var", lambda f, x: f.var(x, axis=0), [((3, 4), A)]),
    ("std", lambda f, x: f.std(x, ddof=1), [((3, 4), A)]),
    ("prod", lambda f, x: f.prod(x, axis=1), [((3, 4), "pos")]),
    ("prod_all", lambda f, x: f.prod(x), [((2, 3), "pos")]),
    ("cumsum", lambda f, x: f.cumsum(x, axis=0), [((3, 4), A)]),
    ("cumsum_flat", lambda f, x: f.cumsum(x), [((3, 4), A)]),
    ("clip", lambda f, x: f.clip(x, -0.5, 0.5), [((3, 4), "inside")]),
    ("where", lambda f, x, y: f.where(M > 0, x, y), [((3, 4), A), ((4,), A)]),
    ("where_const", lambda f, x: f.where(M > 0, x, 0.0), [((3, 4), A)]),
    ("reshape", lambda f, x: f.reshape(x, (4, 3)), [((3, 4), A)]),
    ("ravel", lambda f, x: f.ravel(x), [((3, 4), A)]),
    ("transpose", lambda f, x: f.transpose(x), [((3, 4), A)]),
    ("swapaxes", lambda f, x: f.swapaxes(x, 0, 2), [((2, 3, 4), A)]),
    ("moveaxis", lambda f, x: f.moveaxis(x, 0, -1), [((2, 3, 4), A)]),
    ("concatenate", lambda f, x, y: f.concatenate([x, y, M], axis=1), [((3, 2), A), ((3, 4), A)]),
    ("concatenate_none", lambda f, x, y: f.concatenate((x, y), axis=None),
     [((3, 2), A), ((4,), A)]),
    ("stack", lambda f, x, y: f.stack([x, y], axis=1), [((3, 4), A), ((3, 4), A)]),
    ("hstack", lambda f, x, y: f.hstack([x, y]), [((3,), A), ((2,), A)]),
    ("vstack", lambda f, x, y: f.vstack([x, y]), [((3,), A), ((2, 3), A)]),
    ("expand_dims", lambda f, x: f.expand_dims(x, (0, 2)), [((3, 4), A)]),
    ("squeeze", lambda f, x: f.squeeze(x, 1), [((3, 1, 4), A)]),
    ("broadcast_to", lambda f, x: f.broadcast_to(x, (3, 4)), [((4,), A)]),
    ("array_of_list", lambda f, x, y: f.array([x, y, 2.0]), [((), A), ((), A)]),
    ("array_nested", lambda f, x, y: f.array([[x, y], [y, 1.0]]), [((), A), ((), A)]),
    ("array_of_rows", lambda f, x: f.array([x, x * 2.0]), [((3,), A)]),
    ("tan", lambda f, x: f.tan(x), [((3,), A)]),
    ("expm1", lambda f, x: f.expm1(x), [((3,), A)]),
    ("log2", lambda f, x: f.log2(x), [((3,), "pos")]),
    ("log10", lambda f, x: f.log10(x), [((3,), "pos")]),
    ("sinh_cosh", lambda f, x: f.sinh(x) * f.cosh(x), [((3,), A)]),
    ("arctan", lambda f, x: f.arctan(x), [((3,), A)]),
    ("arcsin_arccos", lambda f, x: f.arcsin(x * 0.3) + f.arccos(x * 0.2), [((3,), A)]),
    ("logaddexp", lambda f, x, y: f.logaddexp(x, y), [((3, 4), A), ((4,), A)]),
    ("linalg_norm", lambda f, x: f.linalg.norm(x), [((3, 4), A)]),
    ("linalg_norm_axis", lambda f, x: f.linalg.norm(x, axis=1), [((3, 4), A)]),
    ("operators", lambda f, x, y: (2.0 - x) * y / (1.0 + x * x) - y ** 2 + x @ M.T @ y,
     [((3, 4), A), ((3, 4), A)]),
    ("ndarray_on_left", lambda f, x: M * x + M / (x * x + 1.0) - M, [((3, 4), A)]),
    ("getitem", lambda f, x: x[1:, ::2] * x[0, 1], [((3, 4), A)]),
    ("methods", lambda f, x: x.T.reshape(2, 6).sum(axis=0) * x.mean(), [((3, 4), A)]),
]


def inputs(specs, seed=0):
    rng = np.random.default_rng(seed)
    return [draw(rng, shape, domain) for shape, domain in specs]


@pytest.mark.parametrize("case", TRACED, ids=[c[0] for c in TRACED])
def test_traced_gradient_matches_finite_differences(ag, case):
    _, fn, specs = case
    arrays = inputs(specs)
    f = ag.np
    out = fn(np, *arrays)
    w = projection(np.shape(out))

    def loss(*xs):
        return f.sum(fn(f, *xs) * w)

    grads = ag.grad(loss, tuple(range(len(arrays))))(*arrays)
    for k, (g, x) in enumerate(zip(grads, arrays)):
        def along(xk, k=k):
            xs = list(arrays)
            xs[k] = xk
            return np.sum(fn(np, *xs) * w)
        np.testing.assert_allclose(g, numeric_grad(along, x), rtol=1e-5, atol=1e-7,
                                   err_msg=f"input {k}")


@pytest.mark.parametrize("case", TRACED, ids=[c[0] for c in TRACED])
def test_traced_value_equals_numpys(ag, case):
    """The forward value inside grad is numpy's (to rounding: compiled loops may differ from
    numpy's SIMD code in the last bit)."""
    _, fn, specs = case
    arrays = inputs(specs, seed=1)
    want = fn(np, *arrays)
    seen = {}

    def loss(*xs):
        out = fn(ag.np, *xs)
        seen["out"] = out.data.copy()
        return ag.np.sum(out)

    ag.grad(loss, tuple(range(len(arrays))))(*arrays)
    assert seen["out"].shape == np.shape(want)
    np.testing.assert_allclose(seen["out"], want, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("name", ["exp", "tanh", "dot_vec_mat", "sum", "concatenate", "expm1",
                                  "outer", "var"])
def test_float32_stays_float32(ag, name):
    case = next(c for c in TRACED if c[0] == name)
    arrays = [a.astype(np.float32) for a in inputs(case[2])]

    def loss(*xs):
        return ag.np.sum(case[1](ag.np, *xs))
    grads = ag.grad(loss, tuple(range(len(arrays))))(*arrays)
    assert all(g.dtype == np.float32 for g in grads)


REFUSED = [
    ("unique", lambda f, x: f.unique(x)),
    ("asarray_chkfinite", lambda f, x: f.asarray_chkfinite(x)),
    ("linalg.qr", lambda f, x: f.linalg.qr(x)[0]), ("median", lambda f, x: f.median(x)),
    ("histogram", lambda f, x: f.histogram(x)[0]),
    ("interp", lambda f, x: f.interp(x, [0.0, 1.0], [1.0, 2.0])),
]


@pytest.mark.parametrize("name,call", REFUSED, ids=[c[0] for c in REFUSED])
def test_function_without_gradient_refuses_traced_values_by_name(ag, name, call):
    x = np.array([[0.5, 0.2], [0.1, 0.3]])
    call(np, x)  # fine on plain arrays
    with pytest.raises(TypeError, match=rf"numpy\.{name}\b.*(no gradient|has no gradient)"):
        ag.grad(lambda x: ag.np.sum(call(ag.np, x)))(x)


def test_traced_options_without_meaning_are_refused(ag):
    x = np.ones(3)
    with pytest.raises(TypeError, match="exp: out="):
        ag.grad(lambda x: ag.np.sum(ag.np.exp(x, out=np.empty(3))))(x)
    with pytest.raises(TypeError, match="sum: out="):
        ag.grad(lambda x: ag.np.sum(x, out=np.empty(())))(x)
    with pytest.raises(TypeError, match="traced bound"):
        ag.grad(lambda x: ag.np.sum(ag.np.clip(x, x, 2.0)))(x)
    # ufunc keywords at their defaults are fine
    g = ag.grad(lambda x: ag.np.sum(ag.np.exp(x, out=None, casting="same_kind")))(x)
    np.testing.assert_allclose(g, np.exp(x))


def test_nograd_functions_look_at_values(ag):
    seen = {}

    def loss(x):
        seen["argmax"] = ag.np.argmax(x)
        seen["shape"] = ag.np.shape(x)
        seen["like"] = ag.np.zeros_like(x)
        seen["sign"] = ag.np.sign(x)
        seen["cmp"] = x > 0.0
        return ag.np.sum(x * ag.np.sign(x))
    g = ag.grad(loss)(np.array([0.5, -2.0, 1.0]))
    assert seen["argmax"] == 2 and seen["shape"] == (3,)
    assert type(seen["like"]) is np.ndarray and type(seen["sign"]) is np.ndarray
    assert seen["cmp"].dtype == bool
    np.testing.assert_array_equal(g, [1.0, -1.0, 1.0])


def test_where_with_traced_condition_only_is_plain(ag):
    def loss(x):
        chosen = ag.np.where(x > 0.0, M[0, :3], 0.0)
        assert type(chosen) is np.ndarray
        return ag.np.sum(x * chosen)
    np.testing.assert_array_equal(ag.grad(loss)(np.array([1.0, -1.0, 2.0])),
                                  np.where([True, False, True], M[0, :3], 0.0))
