"""The op table's entries for numpy.fft: every transform is linear, so its VJP is its
transpose (autograd's convention for complex values: vjp = conj . adjoint . conj, which for a
complex-linear map is the plain transpose) and its JVP is the transform itself.

- fftn / ifftn: y = F(P a), with P the crop or zero-pad to ``s`` along ``axes`` and F the
  (inverse) DFT, a symmetric matrix: vjp(g) = P^T F g (F with the same norm), P^T the
  crop/pad back to a's shape.
- rfftn (real a): y = H F P a, H keeping the first n//2 + 1 entries of the last axis:
  vjp(g) = Re P^T F H^T g, H^T the zero-pad back to n.
- irfftn: y = Re(B a), with B the inverse DFT of the Hermitian extension (weights w = 1 for
  the zero and Nyquist entries, 2 otherwise): vjp(g) = P^T (w * ifftn(g)[..., :n//2 + 1]).
- fftshift / ifftshift: permutations, each the other's transpose.
"""
import numpy as np

from .table import OPS, Op, register


def _resize(a, shape, axes):
    """a cropped or zero-padded to ``shape`` along ``axes`` (the other axes untouched)"""
    out = a
    for ax in axes:
        n, m = out.shape[ax], shape[ax]
        if m < n:
            out = out[(slice(None),) * ax + (slice(0, m),)]
        elif m > n:
            pad = [(0, 0)] * out.ndim
            pad[ax] = (0, m - n)
            out = np.pad(out, pad)
    return np.array(out)


def call(name, args, **params):
    from .complex_ops import call as run
    return run(OPS[name], list(args), params)


def resize(a, shape, axes):
    """Tensor ``a`` cropped or zero-padded to ``shape`` along ``axes``."""
    shape = tuple(int(n) for n in shape)
    if not hasattr(type(a), "_backend"):
        return _resize(np.asarray(a), shape, axes)
    if tuple(a.data.shape) == shape:
        return a
    return call("fft_resize", [a], shape=shape, axes=tuple(axes))


register(Op("fft_resize", _resize,
            (lambda g, y, a, shape, axes: resize(g, a.data.shape, axes),),
            (lambda t, y, a, shape, axes: resize(t, shape, axes),), nargs=1,
            doc="y = a cropped or zero-padded to shape along axes"))


def fftn(a, s, axes, norm):
    return call("fftn", [a], s=s, axes=axes, norm=norm)


def ifftn(a, s, axes, norm):
    return call("ifftn", [a], s=s, axes=axes, norm=norm)


def rfftn(a, s, axes, norm):
    return call("rfftn", [a], s=s, axes=axes, norm=norm)


def irfftn(a, s, axes, norm):
    return call("irfftn", [a], s=s, axes=axes, norm=norm)


def _c2c_vjp(inverse):
    def vjp(g, y, a, s, axes, norm):
        """P^T F g"""
        f = ifftn(g, s, axes, norm) if inverse else fftn(g, s, axes, norm)
        return resize(f, a.data.shape, axes)
    return vjp


def _rfftn_vjp(g, y, a, s, axes, norm):
    """Re P^T F H^T g"""
    full = list(g.data.shape)
    full[axes[-1]] = s[-1]
    from .complex_ops import real
    return real(resize(fftn(resize(g, full, axes[-1:]), s, axes, norm), a.data.shape, axes))


def _hermitian_weights(n, m, ndim, axis):
    """w: 1 for the zero (and, n even, the Nyquist) entry, 2 for the others (m = n//2 + 1)"""
    w = np.full(m, 2.0)
    w[0] = 1.0
    if n % 2 == 0:
        w[-1] = 1.0
    shape = [1] * ndim
    shape[axis] = m
    return w.reshape(shape)


def _irfftn_vjp(g, y, a, s, axes, norm):
    """P^T (w * ifftn(g)[..., :n//2 + 1])"""
    n = s[-1]
    m = n // 2 + 1
    f = ifftn(g, s, axes, norm)
    half = list(f.data.shape)
    half[axes[-1]] = m
    f = resize(f, half, axes[-1:]) * _hermitian_weights(n, m, f.data.ndim, axes[-1])
    return resize(f, a.data.shape, axes)


def _jvp_of(transform):
    """jvp(t) = the transform of t (it is linear)"""
    return lambda t, y, a, s, axes, norm: transform(t, s, axes, norm)


for _name, _forward, _vjp, _jvp in [
        ("fftn", np.fft.fftn, _c2c_vjp(False), fftn),
        ("ifftn", np.fft.ifftn, _c2c_vjp(True), ifftn),
        ("rfftn", np.fft.rfftn, _rfftn_vjp, rfftn),
        ("irfftn", np.fft.irfftn, _irfftn_vjp, irfftn)]:
    register(Op(_name, _forward, (_vjp,),
                (_jvp_of(_jvp),),
                nargs=1, doc=f"y = numpy.fft.{_name}(a, s, axes, norm) (a linear map)"))


def fftshift(a, axes):
    return call("fftshift", [a], axes=axes)


def ifftshift(a, axes):
    return call("ifftshift", [a], axes=axes)


register(Op("fftshift", lambda a, axes: np.fft.fftshift(a, axes),
            (lambda g, y, a, axes: ifftshift(g, axes),),
            (lambda t, y, a, axes: fftshift(t, axes),), nargs=1,
            doc="y = a rolled by half its length along axes"))
register(Op("ifftshift", lambda a, axes: np.fft.ifftshift(a, axes),
            (lambda g, y, a, axes: fftshift(g, axes),),
            (lambda t, y, a, axes: ifftshift(t, axes),), nargs=1,
            doc="y = a rolled back by half its length along axes (fftshift's inverse)"))
