"""scipy.stats.beta, differentiable: pdf and logpdf in x, a, b, loc and scale; cdf in x, loc
and scale (betainc's a and b have no derivative, as in autograd). Outside the support
(0 < z < 1) the values are scipy's (0, -inf) with zero gradient."""
import numpy as np

from .. import special
from ._common import (
    constant_arg,
    exp,
    inside,
    log,
    log1p,
    method,
    outside,
    passthrough,
    standardized,
    value,
)

SIGNATURE = (("x", None), ("a", None), ("b", None), ("loc", 0.0), ("scale", 1.0))


def _logpdf(x, a, b, loc, scale):
    """(a - 1) log z + (b - 1) log(1 - z) - log B(a, b) - log scale"""
    z, log_scale = standardized(x, loc, scale)
    zv = value(z)
    support = (zv > 0) & (zv < 1)
    z = inside(support, z, 0.5)
    out = log(z) * (a - 1.0) + log1p(-z) * (b - 1.0) - special.betaln(a, b) - log_scale
    return outside(support, out, -np.inf)


def _pdf(x, a, b, loc, scale):
    """exp(logpdf)"""
    return exp(_logpdf(x, a, b, loc, scale))


def _cdf(x, a, b, loc, scale):
    """I_z(a, b)"""
    a = constant_arg("beta", "cdf", "a", a)
    b = constant_arg("beta", "cdf", "b", b)
    z = standardized(x, loc, scale)[0]
    zv = value(z)
    support = (zv > 0) & (zv < 1)
    out = special.betainc(a, b, inside(support, z, 0.5))
    return outside(support, out, np.where(zv >= 1, 1.0, 0.0))


logpdf = method("beta", "logpdf", _logpdf, SIGNATURE)
pdf = method("beta", "pdf", _pdf, SIGNATURE)
cdf = method("beta", "cdf", _cdf, SIGNATURE)
__getattr__ = passthrough("beta")
