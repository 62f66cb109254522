"""scipy.stats.poisson, differentiable in the mean mu: pmf, logpmf, cdf (k counts, not
differentiated, as in autograd). Where k is not a non-negative integer the values are scipy's
(pmf 0, logpmf -inf) with zero gradient."""
import numpy as np

from .. import special
from ._common import constant_arg, exp, inside, log, method, outside, passthrough, value

SIGNATURE = (("k", None), ("mu", None), ("loc", 0))


def _counts(k, loc, method_name):
    k = constant_arg("poisson", method_name, "k", k)
    loc = constant_arg("poisson", method_name, "loc", loc)
    return np.asarray(k, dtype=np.float64) - loc


def _logpmf(k, mu, loc, method_name="logpmf"):
    """k log mu - mu - log k!"""
    k = _counts(k, loc, method_name)
    mu_v = value(mu)
    support = (k >= 0) & (k == np.floor(k)) & np.broadcast_to(mu_v >= 0, np.broadcast(
        k, mu_v).shape)
    ks = np.where(support, k, 0.0)
    # k log mu with 0 log 0 = 0 (mu = 0 and k = 0)
    log_mu = log(inside(mu_v > 0, mu, 1.0))
    out = log_mu * ks - mu - special.gammaln(ks + 1.0)
    return outside(support, out, -np.inf)


def _pmf(k, mu, loc):
    """exp(logpmf)"""
    return exp(_logpmf(k, mu, loc, "pmf"))


def _cdf(k, mu, loc):
    """Q(floor(k) + 1, mu)"""
    k = np.floor(_counts(k, loc, "cdf"))
    support = k >= 0
    out = special.gammaincc(np.where(support, k, 0.0) + 1.0, mu)
    return outside(np.broadcast_to(support, np.broadcast(k, value(mu)).shape), out, 0.0)


logpmf = method("poisson", "logpmf", _logpmf, SIGNATURE)
pmf = method("poisson", "pmf", _pmf, SIGNATURE)
cdf = method("poisson", "cdf", _cdf, SIGNATURE)
__getattr__ = passthrough("poisson")
