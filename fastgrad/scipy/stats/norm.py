"""scipy.stats.norm, differentiable in x, loc and scale: pdf, logpdf, cdf, logcdf, sf, logsf
(z = (x - loc) / scale; the distribution functions through ndtr and log_ndtr, which stay
accurate in the tails)."""
import math

from .. import special
from ._common import exp, method, passthrough, standardized

HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
SIGNATURE = (("x", None), ("loc", 0.0), ("scale", 1.0))


def _logpdf(x, loc, scale):
    """log N(x; loc, scale^2) = -z^2/2 - log scale - log(2 pi)/2"""
    z, log_scale = standardized(x, loc, scale)
    return z * z * -0.5 - log_scale - HALF_LOG_2PI


def _pdf(x, loc, scale):
    """exp(logpdf)"""
    return exp(_logpdf(x, loc, scale))


def _cdf(x, loc, scale):
    """Phi(z)"""
    return special.ndtr(standardized(x, loc, scale)[0])


def _logcdf(x, loc, scale):
    """log Phi(z)"""
    return special.log_ndtr(standardized(x, loc, scale)[0])


def _sf(x, loc, scale):
    """Phi(-z)"""
    return special.ndtr(-standardized(x, loc, scale)[0])


def _logsf(x, loc, scale):
    """log Phi(-z)"""
    return special.log_ndtr(-standardized(x, loc, scale)[0])


logpdf = method("norm", "logpdf", _logpdf, SIGNATURE)
pdf = method("norm", "pdf", _pdf, SIGNATURE)
cdf = method("norm", "cdf", _cdf, SIGNATURE)
logcdf = method("norm", "logcdf", _logcdf, SIGNATURE)
sf = method("norm", "sf", _sf, SIGNATURE)
logsf = method("norm", "logsf", _logsf, SIGNATURE)
__getattr__ = passthrough("norm")
