"""scipy.stats.chi2, differentiable: pdf and logpdf in x, df, loc and scale; cdf in x, loc and
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

SIGNATURE = (("x", None), ("df", None), ("loc", 0.0), ("scale", 1.0))
LOG2 = float(np.log(2.0))


def _logpdf(x, df, loc, scale):
    """(df/2 - 1) log z - z/2 - (df/2) log 2 - log Gamma(df/2) - log scale"""
    z, log_scale = standardized(x, loc, scale)
    support = value(z) > 0
    z = inside(support, z, 1.0)
    half = df * 0.5
    out = log(z) * (half - 1.0) - z * 0.5 - half * LOG2 - special.gammaln(half) - log_scale
    return outside(support, out, -np.inf)


def _pdf(x, df, loc, scale):
    """exp(logpdf)"""
    return exp(_logpdf(x, df, loc, scale))


def _cdf(x, df, loc, scale):
    """P(df/2, z/2)"""
    df = constant_arg("chi2", "cdf", "df", df)
    z = standardized(x, loc, scale)[0]
    support = value(z) > 0
    return outside(support, special.gammainc(np.asarray(df) * 0.5, inside(support, z, 1.0) * 0.5),
                   0.0)


logpdf = method("chi2", "logpdf", _logpdf, SIGNATURE)
pdf = method("chi2", "pdf", _pdf, SIGNATURE)
cdf = method("chi2", "cdf", _cdf, SIGNATURE)
__getattr__ = passthrough("chi2")
