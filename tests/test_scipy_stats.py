"""fastgrad.scipy.stats: each method's values on traced inputs against scipy's, plain inputs
untouched, derivatives against finite differences (forward and reverse, second order,
float64, both backends), scipy's values outside the support, and clear errors."""
import numpy as np
import pytest
import scipy.stats as sst
from conftest import BACKENDS, IDS

import fastgrad
import fastgrad.scipy.stats.multivariate_normal as mvn
from fastgrad import grad
from fastgrad.ops import kernels as k
from fastgrad.scipy import stats
from fastgrad.test_util import check_grads

rng = np.random.default_rng(7)
X = rng.standard_normal((4, 3))
POS = rng.uniform(0.5, 3.0, (4, 3))
ROW_POS = rng.uniform(1.5, 3.0, (1, 3))
COL_POS = rng.uniform(2.2, 4.0, (4, 1))
LOC = rng.standard_normal((1, 3))
UNIT = rng.uniform(0.05, 0.95, (4, 3))
COUNTS = np.round(rng.uniform(0, 6, (4, 3)))

# (dist, method, args, which arguments are differentiated)
CASES = [
    ("norm", m, (X, LOC, COL_POS), (0, 1, 2))
    for m in ("pdf", "logpdf", "cdf", "logcdf", "sf", "logsf")
] + [
    ("t", "pdf", (X, ROW_POS, LOC, COL_POS), (0, 1, 2, 3)),
    ("t", "logpdf", (X, ROW_POS, LOC, COL_POS), (0, 1, 2, 3)),
    ("t", "cdf", (X, ROW_POS, LOC, COL_POS), (0, 2, 3)),
    ("t", "logcdf", (X, ROW_POS, LOC, COL_POS), (0, 2, 3)),
    ("chi2", "pdf", (POS, ROW_POS), (0, 1)),
    ("chi2", "logpdf", (POS, ROW_POS), (0, 1)),
    ("chi2", "cdf", (POS, ROW_POS), (0,)),
    ("gamma", "pdf", (POS, ROW_POS), (0, 1)),
    ("gamma", "logpdf", (POS, ROW_POS), (0, 1)),
    ("gamma", "cdf", (POS, ROW_POS), (0,)),
    ("beta", "pdf", (UNIT, ROW_POS, COL_POS), (0, 1, 2)),
    ("beta", "logpdf", (UNIT, ROW_POS, COL_POS), (0, 1, 2)),
    ("beta", "cdf", (UNIT, ROW_POS, COL_POS), (0,)),
    ("poisson", "pmf", (COUNTS, COL_POS), (1,)),
    ("poisson", "logpmf", (COUNTS, COL_POS), (1,)),
    ("poisson", "cdf", (COUNTS, COL_POS), (1,)),
]
IDS_ = [f"{d}.{m}" for d, m, _, _ in CASES]


@pytest.fixture(params=BACKENDS, ids=[IDS[b] for b in BACKENDS])
def backend(request):
    return request.param


def traced(backend, x):
    return fastgrad.Tensor(np.asarray(x, dtype=np.float64))


def ours(dist, method):
    return getattr(getattr(stats, dist), method)


def theirs(dist, method):
    return getattr(getattr(sst, dist), method)


@pytest.mark.parametrize("case", CASES, ids=IDS_)
def test_values_match_scipy(case, backend):
    dist, method, args, which = case
    full = [traced(backend, a) if i in which else a for i, a in enumerate(args)]
    np.testing.assert_allclose(ours(dist, method)(*full).data, theirs(dist, method)(*args),
                               rtol=1e-11, atol=1e-300)


@pytest.mark.parametrize("case", CASES, ids=IDS_)
def test_plain_arrays_are_scipys_own(case):
    dist, method, args, _ = case
    np.testing.assert_array_equal(ours(dist, method)(*args), theirs(dist, method)(*args))


@pytest.mark.parametrize("case", CASES, ids=IDS_)
def test_derivatives_second_order(case, backend):
    dist, method, args, which = case
    check_grads(ours(dist, method), which, modes=("fwd", "rev"), order=2,
                backend=backend)(*args)


def test_keyword_loc_and_scale():
    x = traced("python", X)
    np.testing.assert_allclose(stats.norm.logpdf(x, scale=2.0, loc=0.5).data,
                               sst.norm.logpdf(X, scale=2.0, loc=0.5), rtol=1e-13)
    np.testing.assert_allclose(stats.gamma.logpdf(traced("python", POS), 2.0, scale=1.5).data,
                               sst.gamma.logpdf(POS, 2.0, scale=1.5), rtol=1e-13)


@pytest.mark.parametrize("dist, method, args", [
    ("chi2", "logpdf", (np.array([-1.0, 0.0, 2.0]), 3.0)),
    ("chi2", "cdf", (np.array([-1.0, 0.0, 2.0]), 3.0)),
    ("gamma", "pdf", (np.array([-1.0, 2.0]), 2.0)),
    ("beta", "logpdf", (np.array([-0.5, 0.5, 1.5]), 2.0, 3.0)),
    ("beta", "cdf", (np.array([-0.5, 0.5, 1.5]), 2.0, 3.0)),
])
def test_outside_the_support_values_are_scipys_and_gradients_zero(dist, method, args):
    x = args[0]
    got = ours(dist, method)(traced("python", x), *args[1:]).data
    np.testing.assert_array_equal(got, theirs(dist, method)(*args))
    g = grad(lambda v: np.sum(np.where(np.isfinite(got), ours(dist, method)(v, *args[1:]),
                                       0.0)))(x)
    assert np.all(np.isfinite(g))
    assert np.all(g[(x <= 0) | (x >= 1 if dist == "beta" else x <= 0)] == 0.0)


def test_poisson_non_integer_and_negative_counts():
    k = np.array([-1.0, 1.5, 2.0])
    mu = np.array([2.0, 2.0, 2.0])
    got = stats.poisson.logpmf(k, traced("python", mu)).data
    np.testing.assert_array_equal(got, sst.poisson.logpmf(k, mu))
    np.testing.assert_allclose(stats.poisson.cdf(k, traced("python", mu)).data,
                               sst.poisson.cdf(k, mu), rtol=1e-13)


@pytest.mark.parametrize("call, what", [
    (lambda df: stats.t.cdf(0.3, df), r"t\.cdf: .*df"),
    (lambda df: stats.chi2.cdf(1.3, df), r"chi2\.cdf: .*df"),
    (lambda a: stats.gamma.cdf(1.3, a), r"gamma\.cdf: .*\ba\b"),
    (lambda a: stats.beta.cdf(0.3, a, 2.0), r"beta\.cdf: .*\ba\b"),
    (lambda k: stats.poisson.pmf(k, 2.0), r"poisson\.pmf: .*\bk\b"),
])
def test_undefined_derivatives_raise_naming_the_method(call, what):
    with pytest.raises(NotImplementedError, match=what):
        grad(call)(2.5)


def test_bad_arguments():
    x = traced("python", X)
    with pytest.raises(TypeError, match=r"norm\.pdf: unexpected argument 'mu'"):
        stats.norm.pdf(x, mu=1.0)
    with pytest.raises(TypeError, match=r"t\.pdf: missing argument 'df'"):
        stats.t.pdf(x)
    with pytest.raises(TypeError, match=r"norm\.cdf: takes at most 3"):
        stats.norm.cdf(x, 0.0, 1.0, 2.0)


def test_scipys_other_methods_pass_through():
    assert stats.norm.rvs(size=3, random_state=0).shape == (3,)
    assert stats.dirichlet.rvs(np.array([1.0, 2.0]), size=2, random_state=0).shape == (2, 2)
    assert stats.norm.ppf(0.5) == 0.0


# ---------------------------------------------------------------- dirichlet

ALPHA = np.array([1.3, 2.2, 0.8, 3.1])
SIMPLEX = np.array([0.2, 0.3, 0.1, 0.4])
SIMPLEX_N = np.array([[0.2, 0.5], [0.3, 0.1], [0.1, 0.15], [0.4, 0.25]])  # components first


def _normalized(f):
    return lambda x, alpha: f(x / np.sum(x, 0), alpha)


@pytest.mark.parametrize("method", ["pdf", "logpdf"])
@pytest.mark.parametrize("x", [SIMPLEX, SIMPLEX_N, SIMPLEX[:3]], ids=["K", "KxN", "K-1"])
def test_dirichlet(method, x, backend):
    f = getattr(stats.dirichlet, method)
    np.testing.assert_allclose(f(traced(backend, x), traced(backend, ALPHA)).data,
                               getattr(sst.dirichlet, method)(x, ALPHA), rtol=1e-12)
    check_grads(f, 1, modes=("fwd", "rev"), order=2, backend=backend)(x, ALPHA)
    if x.shape[0] == ALPHA.shape[0]:
        check_grads(_normalized(f), 0, modes=("fwd", "rev"), order=2, backend=backend)(x, ALPHA)


def test_dirichlet_bad_input():
    a = traced("python", ALPHA)
    with pytest.raises(ValueError, match="sum to 1"):
        stats.dirichlet.logpdf(SIMPLEX * 0.9, a)
    with pytest.raises(ValueError, match="first axis"):
        stats.dirichlet.logpdf(np.ones(7) / 7, a)
    with pytest.raises(ValueError, match="alpha must be > 0"):
        stats.dirichlet.logpdf(SIMPLEX, a - 2.0)


# ---------------------------------------------------------------- multivariate normal

def _psd(n, seed):
    m = np.random.default_rng(seed).standard_normal((n, n))
    return m.T @ m + np.eye(n)


COV = _psd(4, 1)
MEAN = rng.standard_normal(4)
POINTS = rng.standard_normal((5, 4))


def _sym(f, i):
    def g(*args):
        args = list(args)
        args[i] = (args[i] + k.transpose(args[i], (1, 0))) * 0.5
        return f(*args)
    return g


@pytest.mark.parametrize("method", ["pdf", "logpdf"])
@pytest.mark.parametrize("x", [POINTS[0], POINTS], ids=["one", "five"])
def test_mvn_density(method, x, backend):
    f = getattr(mvn, method)
    got = f(traced(backend, x), traced(backend, MEAN), traced(backend, COV)).data
    np.testing.assert_allclose(got, getattr(sst.multivariate_normal, method)(x, MEAN, COV),
                               rtol=1e-11)
    check_grads(_sym(f, 2), (0, 1, 2), modes=("fwd", "rev"), order=2, backend=backend)(
        x, MEAN, COV)


def test_mvn_constant_cov_and_defaults(backend):
    x = traced(backend, POINTS)
    np.testing.assert_allclose(mvn.logpdf(x, MEAN, COV).data,
                               sst.multivariate_normal.logpdf(POINTS, MEAN, COV), rtol=1e-11)
    np.testing.assert_allclose(mvn.logpdf(x, None, COV).data,
                               sst.multivariate_normal.logpdf(POINTS, None, COV), rtol=1e-12)
    np.testing.assert_allclose(mvn.logpdf(x, MEAN, 2.5).data,
                               sst.multivariate_normal.logpdf(POINTS, MEAN, 2.5), rtol=1e-12)
    diag = np.array([1.0, 2.0, 0.5, 3.0])
    np.testing.assert_allclose(mvn.logpdf(x, MEAN, traced(backend, diag)).data,
                               sst.multivariate_normal.logpdf(POINTS, MEAN, diag), rtol=1e-12)
    check_grads(lambda d: mvn.logpdf(POINTS, MEAN, d), modes=("fwd", "rev"), order=2,
                backend=backend)(diag)


def test_mvn_entropy(backend):
    got = mvn.entropy(traced(backend, MEAN), traced(backend, COV)).data
    np.testing.assert_allclose(got, sst.multivariate_normal.entropy(MEAN, COV), rtol=1e-12)
    check_grads(_sym(lambda c: mvn.entropy(MEAN, c), 0), modes=("fwd", "rev"), order=2,
                backend=backend)(COV)


def test_mvn_singular_covariance(backend):
    cov = np.diag([1.0, 2.0, 0.0, 0.0])
    x = np.array([0.3, -0.2, 0.0, 0.0])
    mean = np.array([0.1, 0.4, 0.0, 0.0])
    got = mvn.logpdf(traced(backend, x), mean, cov, allow_singular=True).data
    np.testing.assert_allclose(got, sst.multivariate_normal.logpdf(x, mean, cov,
                                                                   allow_singular=True),
                               rtol=1e-12)
    # the mean moves within the covariance's range (elsewhere the density is 0, as in scipy)
    off = mvn.logpdf(traced(backend, x), mean + 0.1, cov, allow_singular=True).data
    assert off == sst.multivariate_normal.logpdf(x, mean + 0.1, cov, allow_singular=True)
    assert off == -np.inf
    check_grads(lambda m: mvn.logpdf(x, k.concatenate([m, np.zeros(2)], 0), cov,
                                     allow_singular=True),
                modes=("fwd", "rev"), order=2, backend=backend)(mean[:2])


def test_mvn_errors():
    cov = traced("python", -COV)
    with pytest.raises(np.linalg.LinAlgError, match="logpdf: cov is not positive definite"):
        mvn.logpdf(POINTS, MEAN, cov)
    with pytest.raises(NotImplementedError, match="allow_singular=True .* cov"):
        grad(lambda c: mvn.logpdf(POINTS[0], MEAN, c, allow_singular=True))(COV)
    with pytest.raises(ValueError, match=r"cov has shape \(3, 3\)"):
        mvn.logpdf(traced("python", POINTS), MEAN, np.eye(3))
    with pytest.raises(ValueError, match="last axis"):
        mvn.logpdf(traced("python", np.ones((2, 3))), MEAN, COV)
