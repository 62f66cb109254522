"""scipy.stats.dirichlet, differentiable in x and alpha: pdf, logpdf (x's components along its
first axis, as scipy takes them; K - 1 components given complete the simplex with 1 - sum).
Everything else (rvs, mean, var, entropy, ...) is scipy's, on plain arrays."""
import numpy as np

from ...ops import kernels as k
from .. import special
from ._common import exp, log, method, passthrough, traced, value

SIGNATURE = (("x", None), ("alpha", None))


def _check(x, alpha):
    xv, av = value(x), value(alpha)
    if av.ndim != 1 or av.shape[0] < 2:
        raise ValueError(f"fastgrad.scipy.stats.dirichlet: alpha must be one-dimensional with "
                         f"at least 2 entries, got shape {av.shape}")
    if np.any(av <= 0):
        raise ValueError("fastgrad.scipy.stats.dirichlet: every alpha must be > 0")
    if xv.ndim == 0 or xv.shape[0] not in (av.shape[0], av.shape[0] - 1):
        raise ValueError(f"fastgrad.scipy.stats.dirichlet: x has shape {xv.shape}; its first "
                         f"axis must have K = {av.shape[0]} (or K - 1) components")


def _complete(x, K):
    """x with the K-th component 1 - sum of the others appended, when only K - 1 are given."""
    xv = value(x)
    if xv.shape[0] == K:
        return x
    if traced(x):
        rest = 1.0 - k.sum(x, 0, True)
        return k.concatenate([x, rest], 0)
    return np.concatenate([xv, 1.0 - np.sum(xv, 0, keepdims=True)], 0)


def _logpdf(x, alpha):
    """sum_i (alpha_i - 1) log x_i + log Gamma(sum alpha) - sum_i log Gamma(alpha_i)"""
    _check(x, alpha)
    K = value(alpha).shape[0]
    x = _complete(x, K)
    xv = value(x)
    if np.any(xv < 0) or np.any(xv > 1):
        raise ValueError("fastgrad.scipy.stats.dirichlet: each entry of x must be in [0, 1]")
    if np.any(np.abs(np.sum(xv, 0) - 1.0) > 10e-10):
        raise ValueError("fastgrad.scipy.stats.dirichlet: x's components must sum to 1")
    column = alpha - 1.0
    if xv.ndim > 1:
        shape = (K,) + (1,) * (xv.ndim - 1)
        column = k.reshape(column, shape) if traced(column) else np.reshape(column, shape)
    terms = log(x) * column if traced(x) else column * log(x)
    total = k.sum(terms, 0, False) if traced(terms) else np.sum(terms, 0)
    alpha_sum = k.sum(alpha, None, False) if traced(alpha) else np.sum(alpha)
    gl = special.gammaln(alpha)
    gl_sum = k.sum(gl, None, False) if traced(gl) else np.sum(gl)
    return total + (special.gammaln(alpha_sum) - gl_sum)


def _pdf(x, alpha):
    """exp(logpdf)"""
    return exp(_logpdf(x, alpha))


logpdf = method("dirichlet", "logpdf", _logpdf, SIGNATURE)
pdf = method("dirichlet", "pdf", _pdf, SIGNATURE)
__getattr__ = passthrough("dirichlet")
