"""scipy.stats.multivariate_normal, differentiable: logpdf, pdf (in x, mean and cov) and entropy
(in cov), for ``import fastgrad.scipy.stats.multivariate_normal as mvn``.

With a traced covariance, cov is symmetrised ((cov + cov^T) / 2, so that its gradient is the
symmetric one) and factored by a Cholesky decomposition written in fastgrad ops (column by
column), which differentiates to any order; a covariance that is not positive definite raises.
With a constant covariance, its inverse square root comes from scipy's eigendecomposition as a
constant, and ``allow_singular=True`` is supported (as in autograd, a singular covariance is not
differentiated). Everything else (rvs, cdf, ...) is scipy's, on plain arrays.
"""
import math

import numpy as np

from ...ops import kernels as k
from ...ops.table import backend_of
from ._common import exp, passthrough, scipy_stats, traced, value

LOG_2PI = math.log(2 * math.pi)


def _mean_and_cov(mean, cov):
    """mean as (d,) and cov as (d, d), from scipy's spellings (mean None, cov a number or the
    diagonal)."""
    cov_v = value(cov)
    if mean is None:
        d = 1 if cov_v.ndim == 0 else cov_v.shape[0]
        mean = np.zeros(d)
    mv = value(mean)
    if mv.ndim != 1:
        raise ValueError(f"fastgrad.scipy.stats.multivariate_normal: mean must be "
                         f"one-dimensional, got shape {mv.shape}")
    d = mv.shape[0]
    if cov_v.ndim < 2:
        eye = np.eye(d)
        cov = k.reshape(cov, (-1, 1)) * eye if traced(cov) and cov_v.ndim == 1 else \
            (cov * eye if cov_v.ndim == 0 else np.diag(cov_v))
    elif cov_v.shape != (d, d):
        raise ValueError(f"fastgrad.scipy.stats.multivariate_normal: cov has shape "
                         f"{cov_v.shape}, mean has {d} entries: cov must be ({d}, {d})")
    return mean, cov, d


def _quantiles(x, d):
    """x as (..., d), as scipy reads it (a 1-D x is one point, or d = 1 points)."""
    xv = value(x)
    if xv.ndim == 0 or (xv.ndim == 1 and d == 1):
        shape = (-1, 1)
    elif xv.ndim == 1:
        shape = (1, d)
    else:
        shape = None
    if shape is not None:
        x = k.reshape(x, shape) if traced(x) else np.reshape(xv, shape)
    if value(x).shape[-1] != d:
        raise ValueError(f"fastgrad.scipy.stats.multivariate_normal: x has shape {xv.shape}; "
                         f"its last axis must have the mean's {d} entries")
    return x


def _squeezed(out):
    """scipy's output shape: size-1 axes dropped, a scalar for one point."""
    shape = tuple(n for n in value(out).shape if n != 1)
    if shape == value(out).shape:
        return out
    return k.reshape(out, shape) if traced(out) else np.reshape(out, shape)


def _cholesky_columns(cov, d, where):
    """The columns of cov's lower Cholesky factor L (cov = L L^T), as fastgrad ops, and the
    pivots L_jj^2 (their logs sum to log det cov)."""
    rows = np.arange(d)
    columns, pivots = [], []
    for j in range(d):
        v = k.getitem(cov, (slice(None), j))
        for i in range(j):
            v = v - columns[i] * k.getitem(columns[i], j)
        pivot = k.getitem(v, j)
        if not pivot.data > 0:
            raise np.linalg.LinAlgError(
                f"fastgrad.scipy.stats.multivariate_normal.{where}: cov is not positive "
                f"definite (pass allow_singular=True with a constant cov for a singular one)")
        columns.append(v * (rows >= j) / k.sqrt(pivot))
        pivots.append(pivot)
    return columns, pivots


def _logdet(pivots):
    total = k.log(pivots[0])
    for p in pivots[1:]:
        total = total + k.log(p)
    return total


def _traced_cov_logpdf(r, cov, d):
    """-(d log 2 pi + log det cov + |L^-1 r|^2) / 2, L by the Cholesky columns; the triangular
    solve by forward substitution along the last axis of r."""
    cov = (cov + k.transpose(cov, (1, 0))) * 0.5
    if not traced(r):  # a constant on cov's backend
        r = backend_of(cov).node.as_constant(np.asarray(r), cov.data.dtype, "multivariate_normal")
    columns, pivots = _cholesky_columns(cov, d, "logpdf")
    z = []
    for j in range(d):
        zj = k.getitem(r, (Ellipsis, j))
        for i in range(j):
            zj = zj - z[i] * k.getitem(columns[i], j)
        z.append(zj / k.getitem(columns[j], j))
    maha = z[0] * z[0]
    for zj in z[1:]:
        maha = maha + zj * zj
    return (maha + _logdet(pivots) + d * LOG_2PI) * -0.5


def _constant_cov_logpdf(r, cov, allow_singular):
    """-(rank log 2 pi + log pdet cov + |r U|^2) / 2 with U = V s^-1/2 over the retained
    eigenpairs of cov (scipy's pseudo-inverse and pseudo-determinant; constants)."""
    psd = scipy_stats()._multivariate._PSD(np.asarray(cov, dtype=np.float64),
                                           allow_singular=allow_singular)
    proj = r @ psd.U if traced(r) else np.asarray(r) @ psd.U
    if traced(proj):
        maha = k.sum(proj * proj, -1, False)
    else:
        maha = np.sum(proj * proj, -1)
    out = (maha + (psd.log_pdet + psd.rank * LOG_2PI)) * -0.5
    if psd.rank < value(r).shape[-1]:
        # off the covariance's range the density is 0, as scipy gives it
        support = psd._support_mask(value(r))
        if not np.all(support):
            out = k.where(support, out, -np.inf) if traced(out) else \
                np.where(support, out, -np.inf)
    return out


def _logpdf(x, mean=None, cov=1, allow_singular=False):
    """log N(x; mean, cov)"""
    mean, cov, d = _mean_and_cov(mean, cov)
    x = _quantiles(x, d)
    r = x - mean if traced(x) or traced(mean) else np.asarray(x) - mean
    if traced(cov):
        if allow_singular:
            raise NotImplementedError(
                "fastgrad.scipy.stats.multivariate_normal.logpdf: with allow_singular=True "
                "the derivative with respect to cov is not defined (as in autograd)")
        out = _traced_cov_logpdf(r, cov, d)
    else:
        out = _constant_cov_logpdf(r, cov, allow_singular)
    return _squeezed(out)


def _entropy(mean=None, cov=1):
    """(d log(2 pi e) + log det cov) / 2"""
    mean, cov, d = _mean_and_cov(mean, cov)
    if not traced(cov):
        return scipy_stats().multivariate_normal.entropy(value(mean), cov)
    cov = (cov + k.transpose(cov, (1, 0))) * 0.5
    _, pivots = _cholesky_columns(cov, d, "entropy")
    return (_logdet(pivots) + d * (LOG_2PI + 1.0)) * 0.5


def logpdf(x, mean=None, cov=1, allow_singular=False):
    """scipy.stats.multivariate_normal.logpdf, differentiable in x, mean and cov (see the
    module docstring)."""
    if not (traced(x) or traced(mean) or traced(cov)):
        return scipy_stats().multivariate_normal.logpdf(x, mean, cov,
                                                        allow_singular=allow_singular)
    return _logpdf(x, mean, cov, allow_singular)


def pdf(x, mean=None, cov=1, allow_singular=False):
    """exp(logpdf), differentiable in x, mean and cov."""
    if not (traced(x) or traced(mean) or traced(cov)):
        return scipy_stats().multivariate_normal.pdf(x, mean, cov,
                                                     allow_singular=allow_singular)
    return exp(_logpdf(x, mean, cov, allow_singular))


def entropy(mean=None, cov=1):
    """scipy.stats.multivariate_normal.entropy, differentiable in cov (it does not depend on
    the mean)."""
    if not (traced(mean) or traced(cov)):
        return scipy_stats().multivariate_normal.entropy(mean, cov)
    return _entropy(mean, cov)


__getattr__ = passthrough("multivariate_normal")
