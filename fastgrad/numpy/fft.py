"""numpy.fft, differentiable: the 14 functions of ``numpy.fft`` (fft, ifft, fft2, ifft2, fftn,
ifftn, rfft, irfft, rfft2, irfft2, rfftn, irfftn, fftshift, ifftshift) record the graph on
traced values (their rules: fastgrad/ops/fft_ops.py) and are numpy's own on plain arrays.
Everything else numpy.fft has (fftfreq, rfftfreq, ...) is numpy's."""
import numpy as _np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from ..ops import fft_ops as _ops

__all__ = ["fft", "fft2", "fftn", "fftshift", "ifft", "ifft2", "ifftn", "ifftshift", "irfft",
           "irfft2", "irfftn", "rfft", "rfft2", "rfftn"]


def _traced(a):
    return hasattr(type(a), "_backend")


def _check_norm(norm):
    if norm not in (None, "backward", "ortho", "forward"):
        raise ValueError(f'fastgrad.numpy.fft: invalid norm {norm!r}; use None, "backward", '
                         f'"ortho" or "forward"')
    return norm


def _s_axes(a, s, axes, inverse_real):
    """numpy's (s, axes) of an n-dimensional transform of ``a``, made explicit."""
    shape, ndim = a.data.shape, a.data.ndim
    if axes is None:
        axes = tuple(range(ndim)) if s is None else tuple(range(ndim - len(s), ndim))
    axes = tuple(normalize_axis_tuple(axes, ndim, allow_duplicate=True))
    if len(set(axes)) != len(axes):
        raise NotImplementedError("fastgrad.numpy.fft: repeated axes are not supported on "
                                  "traced values")
    if s is None:
        s = [shape[ax] for ax in axes]
        if inverse_real:
            s[-1] = 2 * (shape[axes[-1]] - 1)
    elif len(s) != len(axes):
        raise ValueError(f"fastgrad.numpy.fft: s {tuple(s)} and axes {axes} differ in length")
    return tuple(int(n) for n in s), axes


def _one_axis(a, n, axis, inverse_real):
    axis = normalize_axis_index(axis, a.data.ndim)
    if n is None:
        m = a.data.shape[axis]
        n = 2 * (m - 1) if inverse_real else m
    return (int(n),), (axis,)


def _make_1d(name, rule, inverse_real=False):
    plain = getattr(_np.fft, name)

    def f(a, n=None, axis=-1, norm=None):
        if not _traced(a):
            return plain(a, n, axis, norm)
        s, axes = _one_axis(a, n, axis, inverse_real)
        return rule(a, s, axes, _check_norm(norm))
    f.__name__ = f.__qualname__ = name
    f.__doc__ = plain.__doc__
    return f


def _make_nd(name, rule, inverse_real=False, default_axes=None):
    plain = getattr(_np.fft, name)

    def f(a, s=None, axes=default_axes, norm=None):
        if not _traced(a):
            return plain(a, s, axes, norm)
        s, axes = _s_axes(a, s, axes, inverse_real)
        return rule(a, s, axes, _check_norm(norm))
    f.__name__ = f.__qualname__ = name
    f.__doc__ = plain.__doc__
    return f


fft = _make_1d("fft", _ops.fftn)
ifft = _make_1d("ifft", _ops.ifftn)
rfft = _make_1d("rfft", _ops.rfftn)
irfft = _make_1d("irfft", _ops.irfftn, inverse_real=True)
fft2 = _make_nd("fft2", _ops.fftn, default_axes=(-2, -1))
ifft2 = _make_nd("ifft2", _ops.ifftn, default_axes=(-2, -1))
rfft2 = _make_nd("rfft2", _ops.rfftn, default_axes=(-2, -1))
irfft2 = _make_nd("irfft2", _ops.irfftn, inverse_real=True, default_axes=(-2, -1))
fftn = _make_nd("fftn", _ops.fftn)
ifftn = _make_nd("ifftn", _ops.ifftn)
rfftn = _make_nd("rfftn", _ops.rfftn)
irfftn = _make_nd("irfftn", _ops.irfftn, inverse_real=True)


def _make_shift(name, rule):
    plain = getattr(_np.fft, name)

    def f(x, axes=None):
        if not _traced(x):
            return plain(x, axes)
        ndim = x.data.ndim
        axes = tuple(range(ndim)) if axes is None else \
            tuple(normalize_axis_tuple(axes, ndim))
        return rule(x, axes)
    f.__name__ = f.__qualname__ = name
    f.__doc__ = plain.__doc__
    return f


fftshift = _make_shift("fftshift", _ops.fftshift)
ifftshift = _make_shift("ifftshift", _ops.ifftshift)


def __getattr__(name):
    return getattr(_np.fft, name)
