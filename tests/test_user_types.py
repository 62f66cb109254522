"""User-defined types in the tracer (autograd's ``Box.register`` / ``VSpace.register``), both
backends: a function-valued argument differentiated through primitives, checked against finite
differences along random directions of its own vector space."""
import math
import warnings

import numpy as np
import pytest
from autodiff_helpers import PER_BACKEND, face_of

from fastgrad.extend import Box, VSpace, defvjp, primitive, vspace
from fastgrad.test_util import check_grads
from fastgrad.tracer import getval, isbox


def bump(x, c):
    """The Gaussian kernel exp(-(x - c)^2)."""
    return math.exp(-(x - c) ** 2)


class KernelSum:
    """f(x) = sum_c a_c exp(-(x - c)^2): a function given by coefficients at centers."""

    def __init__(self, coefs=None):
        self.coefs = dict(coefs or {})

    @primitive
    def __call__(self, x):
        return np.float64(sum(a * bump(float(x), c) for c, a in self.coefs.items()))

    def __add__(self, other):
        return vspace(self).add(self, other)

    def __mul__(self, a):
        return vspace(self).scalar_mul(self, a)


def _eval_vjp_f(ans, f, x):
    """d f(x) / d f, in the kernel's inner product: the kernel at x."""
    return lambda g: KernelSum({float(x): 1.0}) * g


def _eval_vjp_x(ans, f, x):
    """d f(x) / d x = sum_c a_c (-2 (x - c)) exp(-(x - c)^2)."""
    slope = sum(-2.0 * a * (float(x) - c) * bump(float(x), c) for c, a in f.coefs.items())
    return lambda g: g * slope


defvjp(KernelSum.__call__, _eval_vjp_f, _eval_vjp_x)


class KernelSumBox(Box, KernelSum):
    """A traced KernelSum."""


KernelSumBox.register(KernelSum)


class KernelSumVSpace(VSpace):
    """The span of the kernels, with the kernel's inner product."""

    def __init__(self, value):
        self.size = len(value.coefs)

    def zeros(self):
        return KernelSum()

    def randn(self, rng=None):
        rng = rng or np.random
        centers = rng.standard_normal(3)
        return KernelSum(dict(zip(centers.tolist(), rng.standard_normal(3).tolist())))

    def _add(self, f, g):
        out = dict(f.coefs)
        for c, a in g.coefs.items():
            out[c] = out[c] + a if c in out else a
        return KernelSum(out)

    def _scalar_mul(self, f, a):
        return KernelSum({c: a * v for c, v in f.coefs.items()})

    def _inner_prod(self, f, g):
        return sum(a * b * bump(c, d) for c, a in f.coefs.items() for d, b in g.coefs.items())


KernelSumVSpace.register(KernelSum)

XS = [0.0, 0.7, 1.5, 2.0]
YS = [1.0, -0.5, 2.0, 0.3]
START = KernelSum({0.1: 0.5, 1.2: -0.8, 2.5: 0.3})


@pytest.fixture(**PER_BACKEND)
def ag(request):
    return face_of(request.param)


def squared_error(f):
    return sum((f(x) - y) ** 2 for x, y in zip(XS, YS))


def test_grad_matches_finite_differences(ag):
    check_grads(squared_error, modes=["rev"], order=1, backend=ag.name)(START)


def test_grad_is_the_sum_of_kernels(ag):
    g = ag.grad(squared_error)(START)
    assert type(g) is KernelSum
    want = {x: 2.0 * (START(x) - y) for x, y in zip(XS, YS)}
    assert set(g.coefs) == set(want)
    for c, value in want.items():
        assert np.isclose(float(g.coefs[c]), value, rtol=1e-14, atol=1e-14)


def test_grad_with_respect_to_the_function_and_a_float(ag):
    def loss(f, x):
        return ag.np.sin(f(x)) * x

    check_grads(loss, argnum=(0, 1), modes=["rev"], order=1, backend=ag.name)(START, 0.9)
    gf, gx = ag.grad(loss, argnum=(0, 1))(START, 0.9)
    assert type(gf) is KernelSum and isinstance(gx, float)


def test_user_values_inside_a_list(ag):
    other = KernelSum({0.3: 1.0})

    def loss(fs):
        return fs[0](0.5) * fs[1](1.0) + squared_error(fs[1])

    check_grads(loss, modes=["rev"], order=1, backend=ag.name)([START, other])
    g = ag.grad(loss)([START, other])
    assert [type(v) for v in g] == [KernelSum, KernelSum]


def test_value_and_grad_and_make_vjp(ag):
    value, g = ag.value_and_grad(squared_error)(START)
    assert np.isclose(value, squared_error(START))
    vjp, _ = ag.make_vjp(squared_error)(START)
    once, twice = vjp(1.0), vjp(2.0)  # each call is its own sweep
    for c in once.coefs:
        assert np.isclose(float(twice.coefs[c]), 2 * float(once.coefs[c]))
        assert np.isclose(float(once.coefs[c]), float(g.coefs[c]))


def test_the_box_inside_the_function(ag):
    seen = {}

    def loss(f):
        seen["box"] = f
        seen["isbox"] = isbox(f) and isinstance(f, Box) and isinstance(f, KernelSum)
        seen["value"] = getval(f)
        seen["space"] = type(vspace(f))
        return f(0.4)

    ag.grad(loss)(START)
    assert seen["isbox"] and type(seen["box"]) is KernelSumBox
    assert seen["value"] is START and seen["space"] is KernelSumVSpace


def test_a_value_that_does_not_depend_on_it_gives_zeros(ag):
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        g = ag.grad(lambda f, x: x * 2.0, argnum=(0, 1))(START, 1.0)
    assert type(g[0]) is KernelSum and g[0].coefs == {} and g[1] == 2.0


def test_training_steps_like_autograds_rkhs_example(ag):
    f = KernelSum()
    for _ in range(30):
        f = f + ag.grad(squared_error)(f) * -0.05
    assert squared_error(f) < 0.5 * squared_error(KernelSum())


def test_second_order_raises_naming_the_type(ag):
    with pytest.raises(NotImplementedError, match="KernelSum"):
        ag.grad(lambda f: ag.grad(squared_error)(f)(0.5))(START)
    with pytest.raises(NotImplementedError, match="KernelSum.*first order"):
        check_grads(squared_error, modes=["rev"], order=2, backend=ag.name)(START)


def test_forward_mode_and_jacobian_raise_naming_the_type(ag):
    with pytest.raises(NotImplementedError, match="make_jvp.*KernelSum"):
        ag.make_jvp(squared_error)(START)(KernelSum({0.0: 1.0}))
    with pytest.raises(NotImplementedError, match="jacobian.*KernelSum"):
        ag.jacobian(squared_error)(START)


def test_a_primitive_without_a_vjp_for_it_raises(ag):
    @primitive
    def at_zero(f):
        return np.float64(f(0.0))

    with pytest.raises(NotImplementedError, match="at_zero.*argument 0"):
        ag.grad(at_zero)(START)


def test_registration_errors():
    class Unrelated(Box):
        pass

    with pytest.raises(TypeError, match="must subclass both Box and KernelSum"):
        Unrelated.register(KernelSum)
    with pytest.raises(TypeError, match="expected a type"):
        KernelSumBox.register(3)
    with pytest.raises(TypeError, match="made by grad"):
        KernelSumBox(START)


def test_a_box_type_without_a_space_raises(ag):
    class Spaceless:
        @primitive
        def __call__(self, x):
            return np.float64(x)

    defvjp(Spaceless.__call__, lambda ans, f, x: lambda g: Spaceless())

    class SpacelessBox(Box, Spaceless):
        pass

    SpacelessBox.register(Spaceless)
    with pytest.raises(TypeError, match="vspace: no vector space.*Spaceless"):
        ag.grad(lambda f: f(1.0))(Spaceless())


def test_plain_calls_and_binding():
    assert KernelSum.__call__.__name__ == "__call__"
    assert np.isclose(START(0.3), sum(a * bump(0.3, c) for c, a in START.coefs.items()))
