"""fastgrad.scipy.integrate.odeint: scipy's values, derivatives against an exact solution and
finite differences (reverse and forward mode, second order, both backends), clear errors."""
import numpy as np
import pytest
import scipy.integrate as si
from conftest import BACKENDS, IDS

import fastgrad
from fastgrad import autodiff, elementwise_grad, grad
from fastgrad.scipy.integrate import odeint
from fastgrad.test_util import check_grads

TIMES = np.linspace(0.1, 0.6, 4)
Y0 = np.array([0.4, -0.3, 0.9])
ARGS = (np.array([0.5, 1.2, -0.7]), np.array([0.3, -0.1, 0.2]))
TIGHT = {"rtol": 1e-11, "atol": 1e-11}


def dynamics(y, t, a1, a2):
    """numpy ufuncs on Tensors route to their own backend's ops"""
    return -np.sqrt(t) - y + a1 - np.mean((y + a2) ** 2)


@pytest.fixture(params=BACKENDS, ids=[IDS[b] for b in BACKENDS])
def backend(request):
    return request.param


def test_values_are_scipys(backend):
    expected = si.odeint(dynamics, Y0, TIMES, ARGS)
    plain = odeint(dynamics, Y0, TIMES, ARGS)
    np.testing.assert_array_equal(plain, expected)
    Tensor = fastgrad.Tensor
    np.testing.assert_array_equal(odeint(dynamics, Tensor(Y0), TIMES, ARGS).data, expected)


def test_exponential_decay_exact_derivatives():
    """y' = -k y: y(t) = y0 e^(-k t); d/dk, d/dy0, d/dt and d2/dk2 exact."""
    t = np.array([0.0, 0.5, 1.3])
    y0, k = 1.7, 0.8

    def total(k_, y0_=y0, t_=t):
        return np.sum(odeint(lambda y, s, kk: -kk * y, y0_, t_, (k_,), **TIGHT))

    exact = y0 * np.exp(-k * t)
    np.testing.assert_allclose(grad(total)(k), np.sum(-t * exact), rtol=1e-8)
    np.testing.assert_allclose(grad(grad(total))(k), np.sum(t * t * exact), rtol=1e-7)
    np.testing.assert_allclose(grad(lambda y: total(k, y))(y0), np.sum(np.exp(-k * t)),
                               rtol=1e-8)
    # the start time moves every y(t_i), i >= 1, back; each t_i (i >= 1) moves its own
    np.testing.assert_allclose(elementwise_grad(lambda tt: total(k, y0, tt))(t),
                               [k * np.sum(exact[1:]), -k * exact[1], -k * exact[2]], rtol=1e-7)


@pytest.mark.parametrize("mode", ["rev", "fwd"])
@pytest.mark.parametrize("argnum", [1, 2, 3], ids=["y0", "t", "args"])
def test_derivatives_second_order(argnum, mode, backend):
    check_grads(lambda *a: odeint(dynamics, *a, **TIGHT), argnum - 1, modes=(mode,), order=2,
                backend=backend)(Y0, TIMES, ARGS)


def test_bad_input():
    y0 = fastgrad.Tensor(Y0)
    with pytest.raises(ValueError, match="y0 must be one-dimensional"):
        odeint(dynamics, fastgrad.Tensor(np.ones((2, 2))), TIMES, ARGS)
    with pytest.raises(ValueError, match="t must be a one-dimensional"):
        odeint(dynamics, y0, 0.5, ARGS)
    with pytest.raises(TypeError, match="full_output= is not supported on traced values"):
        odeint(dynamics, y0, TIMES, ARGS, full_output=True)
    with pytest.raises(TypeError, match="tfirst= and Dfun="):
        odeint(dynamics, y0, TIMES, ARGS, tfirst=True)
    with pytest.raises(TypeError, match="args\\[1\\] is str"):
        odeint(dynamics, y0, TIMES, (ARGS[0], "x"))


def test_container_arguments_are_differentiated(backend):
    """args holding a list of (W, b) pairs (autograd's ode_net passes its network so): the
    gradient through the pairs equals the gradient with the same arrays passed flat."""
    rng = np.random.default_rng(3)
    W, b = rng.standard_normal((2, 2)) * 0.5, np.array([0.1, -0.2])
    y0, times = np.array([1.0, 0.5]), np.linspace(0.0, 1.0, 5)

    def nested(y, t, params):
        (W, b), = params
        return np.tanh(np.matmul(y, W) + b)

    def flat(y, t, W, b):
        return np.tanh(np.matmul(y, W) + b)

    grad_on = autodiff.grad
    by_pairs = grad_on(lambda W, b: np.sum(odeint(nested, y0, times, ([(W, b)],), **TIGHT) ** 2),
                       (0, 1))(W, b)
    by_arrays = grad_on(lambda W, b: np.sum(odeint(flat, y0, times, (W, b), **TIGHT) ** 2),
                        (0, 1))(W, b)
    for got, want in zip(by_pairs, by_arrays):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    assert np.abs(by_pairs[0]).max() > 0.1


@pytest.mark.parametrize("given", [{}, {"rtol": 0.01}, {"atol": 1e-9},
                                   {"rtol": 1e-4, "atol": 1e-6}])
def test_backward_segments_run_at_the_callers_tolerances(monkeypatch, given):
    """Given rtol/atol hold for the adjoint's segments too (autograd's rule, so a script asking
    for rtol=0.01 gets autograd's numbers); at scipy's default the segments run at 1e-10."""
    from fastgrad.ops import odeint_ops
    seen = []
    real = odeint_ops.scipy_odeint()

    def spy(*args, **kwargs):
        seen.append((kwargs.get("rtol"), kwargs.get("atol")))
        return real(*args, **kwargs)
    monkeypatch.setattr(odeint_ops, "scipy_odeint", lambda: spy)

    def loss(y0):
        return np.sum(odeint(dynamics, y0, TIMES, ARGS, **given) ** 2)
    grad(loss)(Y0)
    forward, segments = seen[0], seen[1:]
    assert forward == (given.get("rtol"), given.get("atol"))
    assert len(segments) == len(TIMES) - 1
    want = (1e-10, 1e-10) if not given else forward  # the caller's, scipy's default for the other
    assert all(s == want for s in segments)
