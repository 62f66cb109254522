"""HIPS autograd's API names on fastgrad: fastgrad.core, tracer, wrap_util, builtins, vspace,
the differential operators (tensor_jacobian_product, make_jvp_reversemode, deriv,
holomorphic_grad, grad_named, multigrad_dict, checkpoint), fastgrad.extend's additions,
test_util with autograd's meaning, misc.const_graph and misc.fixed_point.

Runs on the active backend; the suite runs once compiled and once with
FASTGRAD_NO_EXTENSIONS=1, which covers both. Derivatives are checked against finite
differences (numeric_grad, or check_grads, which checks forward and reverse mode to second
order against central differences).
"""
import warnings

import numpy as onp
import pytest
from autodiff_helpers import numeric_grad

import fastgrad
import fastgrad.numpy as np
from fastgrad import (
    checkpoint,
    deriv,
    grad,
    grad_named,
    hessian,
    holomorphic_grad,
    jacobian,
    make_jvp_reversemode,
    multigrad_dict,
    tensor_jacobian_product,
)
from fastgrad.core import VSpace, make_jvp, make_vjp, primitive_jvps, primitive_vjps, vspace
from fastgrad.extend import (
    Box,
    SparseObject,
    def_linear,
    defjvp,
    defjvp_argnum,
    defjvp_argnums,
    defvjp,
    defvjp_argnums,
    primitive,
    register_notrace,
)
from fastgrad.misc import const_graph, fixed_point
from fastgrad.test_util import check_equivalent, check_grads, combo_check, scalar_close
from fastgrad.tracer import Node, getval, isbox, trace
from fastgrad.wrap_util import get_name, unary_to_nary

RS = onp.random.default_rng(7)
A = RS.standard_normal((3, 4))
X4 = RS.standard_normal(4)


# ---------------------------------------------------------------- wrap_util, core

@unary_to_nary
def my_grad(fun, x):
    vjp, _ = make_vjp(fun, x)
    return vjp(1.0)


def test_unary_to_nary_picks_the_argument():
    f = lambda x, y: x * np.sin(y)
    assert scalar_close(my_grad(f, 0)(0.7, 1.3), onp.sin(1.3))
    assert scalar_close(my_grad(f, 1)(0.7, 1.3), 0.7 * onp.cos(1.3))
    both = my_grad(f, (0, 1))(0.7, 1.3)
    assert scalar_close(both[0], onp.sin(1.3)) and scalar_close(both[1], 0.7 * onp.cos(1.3))


def test_names_and_docs():
    def foo(x):
        return x
    assert my_grad(foo, 1).__name__ == "my_grad_of_foo_wrt_argnum_1"
    assert grad(foo, 1).__name__ == "grad_of_foo_wrt_argnum_1"
    assert grad(foo).__doc__.startswith("    grad of function foo with")
    assert grad.__name__ == "grad" and grad.__doc__.startswith("\n    Returns a function which")
    assert get_name(lambda: 0) == "<lambda>"


def test_core_make_jvp_against_finite_differences():
    f = lambda x: np.tanh(np.dot(A, x))
    v = RS.standard_normal(4)
    value, tangent = make_jvp(f, X4)(v)
    onp.testing.assert_allclose(value, onp.tanh(A @ X4))
    numeric = (onp.tanh(A @ (X4 + 1e-6 * v)) - onp.tanh(A @ (X4 - 1e-6 * v))) / 2e-6
    onp.testing.assert_allclose(tangent, numeric, rtol=1e-6, atol=1e-8)


def test_core_make_vjp_of_an_independent_value_warns_and_gives_zeros():
    with pytest.warns(UserWarning, match="independent"):
        vjp, _ = make_vjp(lambda x: 3.0, X4)
    onp.testing.assert_array_equal(vjp(1.0), onp.zeros(4))


def test_grad_of_a_bool_result_raises():
    with pytest.raises(TypeError, match="bool"):
        grad(lambda x: np.allclose(x, x * 3.0 / 3.0))(X4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vjp, _ = make_vjp(lambda x: x > 1.0, 0.5)  # make_vjp alone: zeros, as autograd
    assert vjp(1.0) == 0.0


def test_primitive_vjps_mapping_reads_and_restores():
    @primitive
    def double(x):
        return 2.0 * x
    defvjp(double, lambda ans, x: lambda g: 2.0 * g)
    assert double in primitive_vjps and 0 in primitive_vjps[double]
    saved = primitive_vjps.pop(double)
    with pytest.raises(NotImplementedError):
        grad(double)(1.0)
    primitive_vjps[double] = saved
    assert grad(double)(1.0) == 2.0
    assert primitive_vjps.pop(np.iscomplex, None) is None  # not a primitive: nothing
    assert double not in primitive_jvps


# ---------------------------------------------------------------- vspace

@pytest.mark.parametrize("value", [
    onp.zeros((3, 2)), 0.0, [1.0, onp.zeros((2, 1))], (1.0, onp.zeros((2, 1))),
    {"a": 1.0, "b": onp.zeros((2, 1))}, {"x": [0.0, onp.zeros((3, 1))], "y": ({"a": 0.0}, [0.0])},
], ids=["array", "float", "list", "tuple", "dict", "mixed"])
def test_vspace_is_a_vector_space(value):
    vs = vspace(value)
    x, y = vs.randn(), vs.randn()
    basis = list(vs.standard_basis())
    assert len(basis) == vs.size
    for i, e in enumerate(basis):
        for j, f in enumerate(basis):
            assert scalar_close(vs.inner_prod(e, f), float(i == j))
    assert vs == vspace(vs.add(x, y)) == vspace(vs.zeros()) == vspace(vs.ones())
    assert scalar_close(vs.inner_prod(x, y), vs.inner_prod(y, x))
    assert scalar_close(vs.inner_prod(vs.scalar_mul(x, 2.5), y), 2.5 * vs.inner_prod(x, y))
    assert vs.inner_prod(x, x) > 0
    # the operations are differentiable, structured values in and out
    check_grads(vs.add)(x, y)
    check_grads(vs.scalar_mul)(x, 1.7)
    check_grads(vs.inner_prod)(x, y)


def test_vspace_of_traced_values_and_registered_types():
    seen = []
    grad(lambda x: seen.append(vspace(x)) or np.sum(x))(onp.ones((2, 3)))
    assert seen[0] == vspace(onp.ones((2, 3)))

    class Pair:
        def __init__(self, a=0.0, b=0.0):
            self.a, self.b = a, b

    class PairSpace(VSpace):  # autograd's hooks: _add, _scalar_mul, _inner_prod
        size = 2

        def __init__(self, value):
            pass

        def zeros(self):
            return Pair()

        def _add(self, x, y):
            return Pair(x.a + y.a, x.b + y.b)

        def _scalar_mul(self, x, c):
            return Pair(c * x.a, c * x.b)

        def _inner_prod(self, x, y):
            return x.a * y.a + x.b * y.b
    with pytest.raises(TypeError, match="Pair"):
        vspace(Pair())
    PairSpace.register(Pair)
    vs = vspace(Pair(1.0, 2.0))
    assert isinstance(vs, PairSpace) and vs.size == 2
    total = vs.add(Pair(1.0, 2.0), vs.scalar_mul(Pair(3.0, 4.0), 2.0))
    assert (total.a, total.b) == (7.0, 10.0)
    assert vs.inner_prod(total, Pair(1.0, 1.0)) == 17.0 and vs.covector(total) is total
    with pytest.raises(NotImplementedError, match="randn"):
        vs.randn()


def test_sparse_object_gradient_is_added_into_zeros():
    @primitive
    def first(x):
        return x[0]

    def vjp(ans, x):
        def add_into(g):
            def mut_add(dense):
                dense[0] += g
                return dense
            return SparseObject(vspace(x), mut_add)
        return add_into
    defvjp(first, vjp)
    onp.testing.assert_array_equal(grad(first)(X4), [1.0, 0.0, 0.0, 0.0])


# ---------------------------------------------------------------- tracer, builtins

def test_isbox_and_getval():
    seen = []

    def f(x):
        seen.append((isbox(x), isinstance(x, Box), getval(x)))
        return np.sum(x * x)
    grad(f)(X4)
    assert seen[0][0] and seen[0][1]
    assert type(seen[0][2]) is onp.ndarray
    onp.testing.assert_array_equal(seen[0][2], X4)
    assert not isbox(X4) and getval(X4) is X4
    Box.register(complex)  # a type traced already: nothing changes (user types: test_user_types)
    assert not isbox(1j) and grad(f)(X4).dtype == X4.dtype


def test_builtins_containers_and_isinstance():
    assert fastgrad.list((1, 2)) == [1, 2] and type(fastgrad.list(())) is list
    assert fastgrad.tuple([1]) == (1,) and fastgrad.dict([("a", 1)], b=2) == {"a": 1, "b": 2}
    for name in ("list", "tuple", "dict", "isinstance"):
        assert name not in fastgrad.__all__  # a star import does not shadow the builtins

    def f(x):
        assert fastgrad.isinstance(x, np.ndarray)
        pair = fastgrad.tuple((x, x))
        assert fastgrad.isinstance(pair, fastgrad.tuple) and fastgrad.isinstance(pair, tuple)
        return np.sum(pair[0] * pair[1])
    onp.testing.assert_allclose(grad(f)(X4), 2 * X4)


@pytest.mark.parametrize("make", [
    lambda x: fastgrad.list((x, np.sin(x))),
    lambda x: fastgrad.dict([("a", x)], b=x * x),
    lambda x: (np.cos(x), [x * 2.0, {"k": np.exp(x)}]),
], ids=["list", "dict", "nested"])
def test_structured_values_are_differentiable(make):
    check_grads(make)(0.7)
    check_grads(make)(onp.array([0.3, -0.4]))


def test_nested_grad_of_a_tuple_of_traced_values():
    def outer(x):
        def inner(y):
            return y[0] * y[1]
        return np.sum(np.sin(np.array(grad(inner)(fastgrad.tuple((x, x))))))
    check_grads(outer)(0.5)
    check_grads(grad(outer))(1.5)


def test_nested_grad_wrt_a_plain_argument_of_the_inner_function():
    # d/dx of (d/dy f(x, y)): the inner grad's own variable is not the outer one's
    f = lambda x, y: np.sin(np.sin(x) + np.sin(y))
    d_dy = grad(f, 1)
    x, y = 0.3, -0.8
    exact = -onp.sin(onp.sin(x) + onp.sin(y)) * onp.cos(x) * onp.cos(y)
    assert scalar_close(grad(d_dy)(x, y), exact)
    check_grads(d_dy)(x, y)


# ---------------------------------------------------------------- differential operators

def test_tensor_jacobian_product_against_jacobian():
    fun = lambda a: np.sin(a) * np.sum(a)
    a = RS.standard_normal((5, 4, 3))
    J = jacobian(fun)(a)
    for v in (RS.standard_normal((5, 4, 3)), RS.standard_normal((5, 4)), RS.standard_normal(5)):
        expected = onp.tensordot(v, J, axes=v.ndim)
        onp.testing.assert_allclose(tensor_jacobian_product(fun)(a, v), expected,
                                    rtol=1e-10, atol=1e-12)


def test_make_jvp_reversemode_against_jacobian():
    fun = lambda x: np.tanh(np.dot(A, x))
    v = RS.standard_normal(4)
    onp.testing.assert_allclose(make_jvp_reversemode(fun)(X4)(v), jacobian(fun)(X4) @ v,
                                rtol=1e-10)


def test_deriv_against_finite_differences():
    fun = lambda x: (x + np.sin(x ** 2)) * x
    assert abs(deriv(fun)(1.3) - 3.190948746871) < 1e-9
    assert scalar_close(deriv(fun)(0.4), numeric_grad(fun, 0.4))

    @primitive
    def no_jvp(x):
        return 2.0 * x
    with pytest.raises(NotImplementedError, match="no_jvp"):
        deriv(no_jvp)(1.0)


def test_holomorphic_grad_on_a_real_input_is_grad():
    fun = lambda x: np.sin(x) * x
    with pytest.warns(UserWarning, match="not complex"):
        g = holomorphic_grad(fun)(0.8)
    assert scalar_close(g, grad(fun)(0.8))


def test_grad_named_and_multigrad_dict():
    def fun(a, b, c=2.0):
        return a * np.sin(b) * c
    assert scalar_close(grad_named(fun, "b")(1.5, 0.3), 1.5 * onp.cos(0.3) * 2.0)
    with pytest.raises(ValueError, match="no argument 'd'"):
        grad_named(fun, "d")
    grads = multigrad_dict(fun)(1.5, 0.3)
    assert list(grads) == ["a", "b", "c"]
    for name, x in zip("abc", (1.5, 0.3, 2.0)):
        kwargs = {"a": 1.5, "b": 0.3, "c": 2.0}

        def only(v, name=name, kwargs=kwargs):
            return fun(**{**kwargs, name: v})
        assert scalar_close(grads[name], numeric_grad(only, x))


def test_checkpoint_recomputes_and_matches():
    calls = []

    def block(a, b):
        calls.append(1)
        for _ in range(3):
            a = np.sin(a * b + 1.0)
        return a
    saved = checkpoint(block)

    def loss(a, b, f):
        return np.sum(f(f(a, b), b))
    a, b = RS.standard_normal(5), RS.standard_normal(5)
    calls.clear()
    plain_grads = grad(lambda a, b: loss(a, b, block), (0, 1))(a, b)
    n_plain = len(calls)
    calls.clear()
    saved_grads = grad(lambda a, b: loss(a, b, saved), (0, 1))(a, b)
    assert len(calls) > n_plain  # the backward pass ran the block again
    for p, s in zip(plain_grads, saved_grads):
        onp.testing.assert_allclose(s, p, rtol=1e-12, atol=1e-14)
    check_grads(lambda a: loss(a, b, saved), modes=["rev"])(a)


def test_hessian_of_a_quadratic():
    H = RS.standard_normal((4, 4))
    check_equivalent(hessian(lambda x: np.dot(np.dot(x, H), x))(X4), H + H.T)


# ---------------------------------------------------------------- extend additions

@primitive
def scaled(x, y):
    return x * y


defvjp(scaled, lambda ans, x, y: lambda g: g * y, lambda ans, x, y: lambda g: g * x)


def test_defjvp_argnum_and_argnums():
    defjvp_argnum(scaled, lambda i, g, ans, args, kwargs: g * args[1 - i])
    try:
        check_grads(scaled, (0, 1), modes=["fwd"], order=1)(X4, X4[::-1].copy())
    finally:
        scaled.jvp_argnum = None

    defjvp_argnums(scaled, lambda argnums, gs, ans, args, kwargs: sum(
        g * args[1 - i] for i, g in zip(argnums, gs)))
    try:
        check_grads(scaled, (0, 1), modes=["fwd", "rev"], order=2)(X4, X4[::-1].copy())
    finally:
        scaled.jvp_argnums = None


def test_defvjp_argnums_runs_once_for_all_arguments():
    calls = []

    @primitive
    def prod(x, y):
        return x * y

    def vjps(argnums, ans, args, kwargs):
        calls.append(argnums)
        x, y = args
        return lambda g: tuple(g * (y if i == 0 else x) for i in argnums)
    defvjp_argnums(prod, vjps)
    gx, gy = grad(lambda x, y: np.sum(prod(x, y)), (0, 1))(X4, 2.0 * X4)
    onp.testing.assert_allclose(gx, 2.0 * X4)
    onp.testing.assert_allclose(gy, X4)
    assert calls == [(0, 1)]
    check_grads(prod, modes=["rev"])(X4, 2.0 * X4)


def test_def_linear_and_same():
    @primitive
    def times3(x):
        return 3.0 * x
    defvjp(times3, lambda ans, x: lambda g: times3(g))
    def_linear(times3)
    check_grads(times3)(X4)

    @primitive
    def twice(x):
        return 2.0 * x
    defvjp(twice, lambda ans, x: lambda g: twice(g))
    defjvp(twice, "same")
    check_grads(twice)(X4)


def test_register_notrace_gives_constants():
    @primitive
    def count_positive(x):
        return onp.sum(x > 0) * 1.0
    register_notrace(None, count_positive)
    assert grad(lambda x: np.sum(x) * count_positive(x))(X4) == pytest.approx(
        onp.full(4, float(onp.sum(X4 > 0))))


def test_deprecated_primitive_methods():
    @primitive
    def mul(x, y):
        return x * y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        mul.defgrad(lambda ans, x, y: lambda g: y * g)
        mul.defvjp(lambda g, ans, vs, gvs, x, y: x * g, argnum=1)
    check_grads(mul, modes=["rev"])(A, A.T.copy().T)

    @primitive
    def zero(x, y):
        return 0.0 * x * y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        zero.defvjp_is_zero([0, 1])
    check_grads(zero, modes=["rev"])(A, A)


# ---------------------------------------------------------------- test_util

def test_check_grads_catches_wrong_rules_with_autograd_messages():
    # check_grads draws its directions from numpy's global generator (as autograd's does); a 0.1%
    # error along a direction near zero can fall under the tolerance, so fix the draws
    onp.random.seed(0)

    @primitive
    def foo(x):
        return x * 2.0
    defvjp(foo, lambda ans, x: lambda g: g * 2.001)
    with pytest.raises(AssertionError, match=r"\(VJP\) check of foo failed"):
        check_grads(foo, modes=["rev"])(1.0)

    @primitive
    def bar(x):
        return x
    defvjp(bar, lambda ans, x: lambda g: g * 1.001)

    @primitive
    def baz(x):
        return x * 2.0
    defvjp(baz, lambda ans, x: lambda g: bar(g) * 2)
    check_grads(baz, modes=["rev"], order=1)(1.0)  # first order is right
    with pytest.raises(AssertionError, match=r"\(VJP\) check of vjp_baz failed"):
        check_grads(baz, modes=["rev"])(1.0)

    defjvp(foo, lambda g, ans, x: g * 2.001)
    with pytest.raises(AssertionError, match=r"\(JVP\) check of foo failed"):
        check_grads(foo, modes=["fwd"])(1.0)


def test_check_equivalent_and_combo_check():
    check_equivalent([1.0, onp.ones(2)], [1.0, onp.ones(2)])
    with pytest.raises(AssertionError):
        check_equivalent(onp.ones(2), onp.ones(3))
    with pytest.raises(AssertionError):
        check_equivalent(onp.ones(2), 1.01 * onp.ones(2))
    combo_check(lambda x, y, k=1.0: np.sin(x) * y * k, [0, 1])([0.3, X4], [1.2], k=[1.0, 2.0])


def test_quick_grad_check():
    from fastgrad.util import quick_grad_check
    with pytest.warns(DeprecationWarning):
        quick_grad_check(lambda x, y: np.sum(x ** 2 + y), X4, (2.0,))


# ---------------------------------------------------------------- misc

def test_const_graph_replays_only_what_depends_on_the_arguments():
    names = []

    @primitive
    def note(v, name):
        names.append(name)
        return v

    def foo(x, y, z):
        return note(x, "x") + 2.0 * np.sin(note(y, "y")) + 3.0 * note(z, "z")
    fast = const_graph(foo, 1.0, z=3.0)
    for y in (2.0, -0.5, 0.25):
        names.clear()
        expected = foo(1.0, y, 3.0)
        first = not hasattr(fast, "_done")
        assert scalar_close(fast(y), expected)
        assert names == ["x", "y", "z"] + (["x", "y", "z"] if first else ["y"])
        fast._done = True


def test_const_graph_of_a_nested_grad():
    calls = []

    def foo(x, y):
        calls.append(1)
        return grad(lambda t: np.sin(t) + t * np.cos(t))(x * y)
    fast = const_graph(foo)
    for x, y in [(0.0, 0.0), (1.0, 0.5), (-2.0, 0.3)]:
        assert scalar_close(fast(x, y), foo(x, y))
    assert len(calls) == 4  # three plain calls, one recording


def newton_sqrt_step(a):
    return lambda x: 0.5 * (x + a / x)


def fixed_sqrt(a):
    return fixed_point(newton_sqrt_step, a, 3.0 * np.ones_like(getval(a)),
                       lambda x, y: np.max(np.abs(x - y)), 1e-12)


def test_fixed_point_gradient_against_finite_differences():
    a = onp.array([2.0, 0.5, 9.0])
    onp.testing.assert_allclose(fixed_sqrt(a), onp.sqrt(a), rtol=1e-12)
    onp.testing.assert_allclose(grad(lambda a: np.sum(fixed_sqrt(a)))(a), 0.5 / onp.sqrt(a),
                                rtol=1e-9)
    check_grads(fixed_sqrt, modes=["rev"], order=1)(a)


# ---------------------------------------------------------------- tracer.Node / trace

class Recorder(Node):
    def __init__(self, value, fun, args, kwargs, parent_argnums, parents):
        self.log = parents[0].log
        self.value = value
        self.parents = dict(zip(parent_argnums, parents))
        self.log.append((fun.__name__, args, parent_argnums, value))

    def initialize_root(self, x):
        self.log = []
        self.value = x


def test_trace_walks_the_ops_that_depend_on_the_input():
    @primitive
    def halve(v, scale=0.5):
        return v * scale
    defvjp(halve, lambda ans, v, scale=0.5: lambda g: g * scale)

    def fun(x):
        y = np.sin(x + x)
        return halve(y * y, scale=0.25) + np.cos(0.3)  # cos(0.3) is a constant
    root = Recorder.new_root(1.23)
    value, end = trace(root, fun, 1.23)
    assert scalar_close(value, fun(1.23))
    names = [entry[0] for entry in root.log]
    assert names[:3] == ["add", "sin", "multiply"] and names[3] == "halve" and len(names) == 5
    assert root.log[3][2] == (0,) and root.log[3][1][1:] == ()  # the primitive's own call
    assert scalar_close(end.value, value)
    assert end.parents[0].parents[0] is not None  # linked back to the root
    node = end
    while node is not root:
        node = node.parents[min(node.parents)]
    assert node is root


def test_trace_through_a_grad_and_of_a_constant():
    root = Recorder.new_root(1.0)
    value, end = trace(root, grad(lambda x: np.sin(x) * x), 1.0)
    assert scalar_close(value, onp.cos(1.0) * 1.0 + onp.sin(1.0))
    assert root.log and scalar_close(end.value, value)
    value, end = trace(Recorder.new_root(1.0), lambda x: 3.0, 1.0)
    assert value == 3.0 and end is None


def _trace_log(trace_fn, node_base, fun, x):
    """[(op name, its plain arguments' numbers, parent argnums, value)] of trace_fn(fun, x)."""
    class Log(node_base):
        def __init__(self, value, f, args, kwargs, parent_argnums, parents):
            self.log = parents[0].log
            consts = [float(a) for i, a in enumerate(args) if i not in parent_argnums
                      and isinstance(a, (float, int, onp.ndarray))]
            self.log.append((f.__name__, consts, tuple(parent_argnums), float(value)))

        def initialize_root(self, x):
            self.log = []
    root = Log.new_root(x)
    trace_fn(root, fun, x)
    return root.log


def test_trace_shows_autograds_ops_through_a_grad():
    """autograd's print_trace example: the function's ops, and through grad(fun) the
    function's evaluation, then its gradient's ops (no node for grad's own copy of x), with
    numpy's names and a reflected scalar op's arguments in order."""
    ag = pytest.importorskip("autograd")
    import autograd.numpy as anp
    from autograd.tracer import Node as AgNode
    from autograd.tracer import trace as ag_trace

    def fun(fnp):
        return lambda x: (fnp.sin(x + x) + fnp.sin(x + x)) / 2.0 + (3.0 - x) * (1.0 / x)
    for x in (1.23, 1.0):
        ours = _trace_log(trace, Node, fun(np), x)
        theirs = _trace_log(ag_trace, AgNode, fun(anp), x)
        assert [e[:3] for e in ours] == [e[:3] for e in theirs]
        onp.testing.assert_allclose([e[3] for e in ours], [e[3] for e in theirs], rtol=1e-15)
    def average(y, z):
        return (y + z) / 2

    def fun2(fnp):
        def f(x):
            y = fnp.sin(x + x)
            return average(y, y)
        return f
    ours = _trace_log(trace, Node, grad(fun2(np)), 1.0)
    theirs = _trace_log(ag_trace, AgNode, ag.grad(fun2(anp)), 1.0)
    assert [e[0] for e in ours] == ["add", "sin", "add", "divide", "cos", "multiply", "add"]
    assert [e[0] for e in ours] == [e[0] for e in theirs]
    onp.testing.assert_allclose([e[3] for e in ours], [e[3] for e in theirs], rtol=1e-15)


def test_fixed_point_second_derivative_and_structured_parameters():
    def root(a):  # sqrt(a) by Newton steps, tight tolerance
        return fixed_point(newton_sqrt_step, a, 3.0, lambda x, y: np.abs(x - y), 1e-13)
    assert scalar_close(grad(root)(2.0), 0.5 / onp.sqrt(2.0))
    assert abs(grad(grad(root))(2.0) - (-0.25 * 2.0 ** -1.5)) < 1e-9

    def step(params):  # x = (p + q / x) / 2 has the fixed point sqrt(q) for p = x
        return lambda x: 0.5 * (params["p"] * 0.0 + x + params["q"] / x)
    g = grad(lambda q: fixed_point(step, {"p": 1.0, "q": q}, 2.0,
                                   lambda x, y: np.abs(x - y), 1e-13))(5.0)
    assert scalar_close(g, 0.5 / onp.sqrt(5.0))


def test_float16_and_longdouble_arguments_give_gradients_in_their_dtype():
    f = lambda x: np.sum(np.sin(x) * x)
    for dtype in (onp.float16, onp.longdouble):
        x = onp.array([0.5, -1.25, 2.0], dtype=dtype)
        g = grad(f)(x)
        assert g.dtype == onp.dtype(dtype)
        exact = onp.sin(x.astype(float)) + x.astype(float) * onp.cos(x.astype(float))
        onp.testing.assert_allclose(g.astype(float), exact, rtol=2e-3 if dtype is onp.float16
                                    else 1e-12)
    assert type(grad(lambda x: x * x)(onp.float16(1.5))) is onp.float16


def test_check_grads_draws_autograds_directions():
    """Unseeded, check_grads draws its directions from numpy's global generator in autograd's
    order, so a test seeded with npr.seed checks at the same points under both (a check near
    its tolerance, e.g. finite differences of scipy's odeint, then passes or fails alike)."""
    ag_util = pytest.importorskip("autograd.test_util")
    import autograd.numpy as anp

    x = onp.array([0.3, -1.2, 0.7])

    def points(check, fnp, modes, order):
        """The plain points the check evaluates the function at (finite differences)."""
        seen = []

        def f(v):
            if type(v) is onp.ndarray and not onp.array_equal(v, x):  # autograd's f(x) too
                seen.append(v.copy())
            return fnp.sin(v[:2]) * v[2]
        onp.random.seed(7)
        check(f, modes=modes, order=order)(x)
        return onp.array(seen), onp.random.randn(2)

    for modes, order in ((["rev"], 1), (["fwd"], 1), (["fwd", "rev"], 2)):
        ours = points(check_grads, np, modes, order)
        theirs = points(ag_util.check_grads, anp, modes, order)
        onp.testing.assert_array_equal(ours[1], theirs[1])  # as many draws
        onp.testing.assert_allclose(ours[0], theirs[0], rtol=0, atol=1e-15)  # the same ones
    state = onp.random.get_state()[1].copy()
    check_grads(lambda v: np.sum(v ** 2), modes=["rev"], order=1, seed=3)(x)
    onp.testing.assert_array_equal(onp.random.get_state()[1], state)  # a seed: its own stream
