"""scipy.stats.t (Student's t), differentiable: pdf and logpdf in x, df, loc and scale; cdf and
logcdf in x, loc and scale (df's derivative is not defined, as in autograd)."""
import numpy as np

from .. import special
from ._common import constant_arg, exp, log, log1p, method, passthrough, standardized

SIGNATURE = (("x", None), ("df", None), ("loc", 0.0), ("scale", 1.0))


def _logpdf(x, df, loc, scale):
    """log Gamma((df+1)/2) - log Gamma(df/2) - log(df pi)/2 - log scale
    - (df+1)/2 log(1 + z^2/df)"""
    z, log_scale = standardized(x, loc, scale)
    half = (df + 1.0) * 0.5
    return (special.gammaln(half) - special.gammaln(df * 0.5) - log(df * np.pi) * 0.5
            - log_scale - log1p(z * z / df) * half)


def _pdf(x, df, loc, scale):
    """exp(logpdf)"""
    return exp(_logpdf(x, df, loc, scale))


def _cdf(x, df, loc, scale):
    """stdtr(df, z)"""
    df = constant_arg("t", "cdf", "df", df)
    return special.stdtr(df, standardized(x, loc, scale)[0])


def _logcdf(x, df, loc, scale):
    """log stdtr(df, z)"""
    df = constant_arg("t", "logcdf", "df", df)
    return log(special.stdtr(df, standardized(x, loc, scale)[0]))


logpdf = method("t", "logpdf", _logpdf, SIGNATURE)
pdf = method("t", "pdf", _pdf, SIGNATURE)
cdf = method("t", "cdf", _cdf, SIGNATURE)
logcdf = method("t", "logcdf", _logcdf, SIGNATURE)
__getattr__ = passthrough("t")
