"""fastgrad.scipy.special: values against scipy's, plain arrays untouched, derivatives against
finite differences (forward and reverse mode, second order, float64, both backends), nesting
beyond second order, and clear errors."""
import numpy as np
import pytest
import scipy.special as sps
from conftest import BACKENDS, IDS

import fastgrad
from fastgrad import elementwise_grad, grad
from fastgrad.scipy import special
from fastgrad.test_util import check_grads

POS = np.array([[0.6, 1.3, 2.7], [3.1, 0.9, 1.7]])
REAL = np.array([[-1.2, 0.3, 2.1], [0.7, -0.4, 1.5]])
UNIT = np.array([[-0.8, -0.1, 0.5], [0.3, 0.85, -0.55]])
PROB = np.array([[0.1, 0.35, 0.5], [0.7, 0.92, 0.25]])

# name -> (a function of x calling fastgrad.scipy.special, scipy's, the point)
UNARY = {
    "gammaln": (special.gammaln, sps.gammaln, POS),
    "digamma": (special.digamma, sps.digamma, POS),
    "psi": (special.psi, sps.psi, POS),
    "gamma": (special.gamma, sps.gamma, POS),
    "rgamma": (special.rgamma, sps.rgamma, POS),
    "gammasgn": (special.gammasgn, sps.gammasgn, POS - 1.0),
    "erf": (special.erf, sps.erf, REAL),
    "erfc": (special.erfc, sps.erfc, REAL),
    "erfinv": (special.erfinv, sps.erfinv, UNIT),
    "erfcinv": (special.erfcinv, sps.erfcinv, UNIT + 1.0),
    "ndtr": (special.ndtr, sps.ndtr, REAL),
    "log_ndtr": (special.log_ndtr, sps.log_ndtr, REAL * 5.0),
    "logit": (special.logit, sps.logit, PROB),
    "expit": (special.expit, sps.expit, REAL),
    "j0": (special.j0, sps.j0, POS * 3),
    "j1": (special.j1, sps.j1, POS * 3),
    "y0": (special.y0, sps.y0, POS * 3),
    "y1": (special.y1, sps.y1, POS * 3),
    "i0": (special.i0, sps.i0, REAL),
    "i1": (special.i1, sps.i1, REAL),
    "polygamma": (lambda x: special.polygamma(np.array([0, 1, 3]), x),
                  lambda x: sps.polygamma(np.array([0, 1, 3]), x), POS),
    "gammainc": (lambda x: special.gammainc(np.array([0.5, 1.0, 4.0]), x),
                 lambda x: sps.gammainc(np.array([0.5, 1.0, 4.0]), x), POS),
    "gammaincc": (lambda x: special.gammaincc(2.5, x), lambda x: sps.gammaincc(2.5, x), POS),
    "betainc": (lambda x: special.betainc(1.5, np.array([0.7, 2.0, 5.0]), x),
                lambda x: sps.betainc(1.5, np.array([0.7, 2.0, 5.0]), x), PROB),
    "stdtr": (lambda x: special.stdtr(np.array([1.5, 3.0, 40.0]), x),
              lambda x: sps.stdtr(np.array([1.5, 3.0, 40.0]), x), REAL),
    "jn": (lambda x: special.jn(2, x), lambda x: sps.jn(2, x), POS * 3),
    "jv": (lambda x: special.jv(1.5, x), lambda x: sps.jv(1.5, x), POS * 3),
    "yn": (lambda x: special.yn(3, x), lambda x: sps.yn(3, x), POS * 3),
    "yv": (lambda x: special.yv(0.5, x), lambda x: sps.yv(0.5, x), POS * 3),
    "iv": (lambda x: special.iv(np.array([0.0, 2.5, 7.0]), x),
           lambda x: sps.iv(np.array([0.0, 2.5, 7.0]), x), POS * 3),
    "ive": (lambda x: special.ive(np.array([0.0, 1.0, 3.0]), x),
            lambda x: sps.ive(np.array([0.0, 1.0, 3.0]), x), REAL * 4),
    "multigammaln": (lambda x: special.multigammaln(x + 2.0, 3),
                     lambda x: sps.multigammaln(x + 2.0, 3), POS),
}
BINARY = {"beta": (special.beta, sps.beta), "betaln": (special.betaln, sps.betaln)}


@pytest.fixture(params=BACKENDS, ids=[IDS[b] for b in BACKENDS])
def backend(request):
    return request.param


def traced(backend, x):
    return fastgrad.Tensor(np.asarray(x, dtype=np.float64))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_values_match_scipy(name, backend):
    ours, theirs, x = UNARY[name]
    out = ours(traced(backend, x))
    np.testing.assert_allclose(out.data, theirs(x), rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_plain_arrays_are_scipys_own(name):
    ours, theirs, x = UNARY[name]
    out = ours(x)
    assert type(out) is np.ndarray
    np.testing.assert_array_equal(out, theirs(x))


@pytest.mark.parametrize("name", sorted(UNARY))
def test_derivatives_second_order(name, backend):
    ours, _, x = UNARY[name]
    check_grads(ours, modes=("fwd", "rev"), order=2, backend=backend)(x)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_values_and_derivatives(name, backend):
    ours, theirs = BINARY[name]
    a, b = POS, POS[:, ::-1].copy()[:1] + 0.2  # b broadcasts over a's rows
    np.testing.assert_allclose(ours(traced(backend, a), traced(backend, b)).data, theirs(a, b),
                               rtol=1e-13)
    assert type(ours(a, b)) is np.ndarray
    check_grads(ours, (0, 1), modes=("fwd", "rev"), order=2, backend=backend)(a, b)


def test_third_and_fourth_derivatives_of_gammaln_are_polygammas():
    x = np.array([0.7, 1.9, 4.2])
    d3 = elementwise_grad(elementwise_grad(elementwise_grad(special.gammaln)))(x)
    np.testing.assert_allclose(d3, sps.polygamma(2, x), rtol=1e-12)
    d4 = elementwise_grad(elementwise_grad(elementwise_grad(elementwise_grad(special.gammaln))))(x)
    np.testing.assert_allclose(d4, sps.polygamma(3, x), rtol=1e-12)


def test_bessel_recurrences_nest():
    x = np.array([0.5, 2.0, 7.5])
    # J0'' = -J1' = -(J0 - J2) / 2
    np.testing.assert_allclose(elementwise_grad(elementwise_grad(special.j0))(x),
                               -(sps.j0(x) - sps.jv(2, x)) / 2, rtol=1e-12)


def test_log_ndtr_derivative_in_the_far_tail():
    """d/dx log Phi(x) = phi/Phi, finite where Phi underflows: against Phi's asymptotic
    series phi(x)/|x| (1 - 1/x^2 + 3/x^4 - 15/x^6 + ...)."""
    x = np.array([-60.0, -40.0, -20.0])
    g = elementwise_grad(special.log_ndtr)(x)
    x2 = x * x
    np.testing.assert_allclose(g, -x / (1 - 1 / x2 + 3 / x2**2 - 15 / x2**3), rtol=1e-8)


@pytest.mark.parametrize("call, name, which", [
    (lambda a, x: special.gammainc(a, x), "gammainc", "argument 0"),
    (lambda a, x: special.gammaincc(a, x), "gammaincc", "argument 0"),
    (lambda a, x: special.polygamma(a, x), "polygamma", "argument 0"),
    (lambda a, x: special.betainc(a, 2.0, x), "betainc", "argument 0"),
    (lambda a, x: special.iv(a, x), "iv", "argument 0"),
])
def test_undefined_derivatives_raise_naming_the_function(call, name, which):
    a, x = np.array([1.5, 2.5]), np.array([0.3, 0.6])
    with pytest.raises(NotImplementedError, match=rf"special\.{name}: .*{which}"):
        grad(lambda a: np.sum(call(a, x)))(a)
    # differentiating x alone is fine
    grad(lambda x: special.gammainc(a, x).sum())(x)


def test_bad_input_errors():
    x = traced("python", POS)
    with pytest.raises(TypeError, match="gammaln: out= and ufunc options"):
        special.gammaln(x, out=np.empty(POS.shape))
    with pytest.raises(TypeError, match="gammainc: takes 2 arguments"):
        special.gammainc(x)
    with pytest.raises(ValueError, match="multigammaln: a must be"):
        special.multigammaln(x * 0.0, 3)
    with pytest.raises(ValueError, match="multigammaln: d must be"):
        special.multigammaln(x, 0)


def test_missing_scipy_is_named(monkeypatch):
    import sys

    from fastgrad.ops import odeint_ops, special_ops
    from fastgrad.scipy.stats import _common
    for module in ("scipy.special", "scipy.stats", "scipy.integrate"):
        monkeypatch.setitem(sys.modules, module, None)
    for load in (special_ops.scipy_special, _common.scipy_stats, odeint_ops.scipy_odeint):
        with pytest.raises(ImportError, match="needs scipy: pip install scipy"):
            load()


def test_float32_stays_float32():
    x = fastgrad.Tensor(POS.astype(np.float32))
    for f in (special.gammaln, lambda v: special.gammainc(2.0, v),
              lambda v: special.iv(np.array([0.0, 1.0, 2.0]), v), lambda v: special.beta(v, v)):
        assert f(x).data.dtype == np.float32
