"""scipy.stats.gamma, differentiable: pdf and logpdf in x, a, loc and scale; cdf in x, loc and
scale (gammainc's first argument has no derivative, as in autograd). Outside the support
(z <= 0) the values are scipy's (0, -inf) with zero gradient."""
import numpy as np

from .. import special
from ._common import (
    constant_arg,
    exp,
    inside,
    log,
    method,
    outside,
    passthrough,
    standardized,
    value,
)

SIGNATURE = (("x", None), ("a", None), ("loc", 0.0), ("scale", 1.0))


def _logpdf(x, a, loc, scale):
    """(a - 1) log z - z - log Gamma(a) - log scale"""
    z, log_scale = standardized(x, loc, scale)
    support = value(z) > 0
    z = inside(support, z, 1.0)
    out = log(z) * (a - 1.0) - z - special.gammaln(a) - log_scale
    return outside(support, out, -np.inf)


def _pdf(x, a, loc, scale):
    """exp(logpdf)"""
    return exp(_logpdf(x, a, loc, scale))


def _cdf(x, a, loc, scale):
    """P(a, z)"""
    a = constant_arg("gamma", "cdf", "a", a)
    z = standardized(x, loc, scale)[0]
    support = value(z) > 0
    return outside(support, special.gammainc(a, inside(support, z, 1.0)), 0.0)


logpdf = method("gamma", "logpdf", _logpdf, SIGNATURE)
pdf = method("gamma", "pdf", _pdf, SIGNATURE)
cdf = method("gamma", "cdf", _cdf, SIGNATURE)
__getattr__ = passthrough("gamma")
