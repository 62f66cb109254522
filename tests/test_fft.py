"""fastgrad.numpy.fft: the 14 transforms against finite differences (forward and reverse
mode, second order, both backends, real and complex inputs, every norm, cropping and padding
with n / s), against HIPS autograd's gradients where installed, and numpy's own values on
plain arrays."""
import numpy as np
import pytest
from conftest import BACKENDS, IDS

from fastgrad import autodiff
from fastgrad.numpy import fft
from fastgrad.test_util import check_grads

RNG = np.random.default_rng(3)
X = RNG.standard_normal((4, 5))
X3 = RNG.standard_normal((3, 4, 4)) / 3
XC = X + 1j * RNG.standard_normal((4, 5))
SPEC = np.fft.rfft(RNG.standard_normal((4, 6)))       # a half spectrum (4, 4)
SPEC_ODD = RNG.standard_normal((3, 3)) + 1j * RNG.standard_normal((3, 3))


@pytest.fixture(params=BACKENDS, ids=[IDS[b] for b in BACKENDS])
def backend(request):
    return request.param


def checked(backend, f, x):
    check_grads(f, modes=("fwd", "rev"), order=2, backend=backend)(x)


# (id, function name, positional arguments after x, keyword arguments, x)
CASES = [
    ("fft", "fft", (), {}, X),
    ("fft-complex-n-axis", "fft", (3,), {"axis": 0, "norm": "ortho"}, XC),
    ("fft-pad", "fft", (7,), {}, X),
    ("ifft", "ifft", (), {"norm": "forward"}, XC),
    ("ifft-crop", "ifft", (3,), {}, X),
    ("fft2-s", "fft2", (), {"s": (5, 3)}, X),
    ("ifft2", "ifft2", (), {}, XC),
    ("fftn-s-axes", "fftn", (), {"s": (6, 3), "axes": (0, 2)}, X3),
    ("ifftn", "ifftn", (), {"norm": "ortho"}, X3),
    ("rfft", "rfft", (), {}, X),
    ("rfft-odd-n", "rfft", (7,), {"axis": 0, "norm": "ortho"}, X),
    ("rfft2", "rfft2", (), {"norm": "forward"}, X),
    ("rfftn-odd", "rfftn", (), {"s": (3, 5), "axes": (0, 2)}, X3),
    ("irfft", "irfft", (), {}, SPEC),
    ("irfft-odd-n", "irfft", (5,), {"norm": "ortho"}, SPEC_ODD),
    ("irfft2-s", "irfft2", (), {"s": (3, 7)}, SPEC),
    ("irfftn", "irfftn", (), {"norm": "forward"}, SPEC),
    ("fftshift", "fftshift", (), {}, X),
    ("fftshift-axes", "fftshift", (), {"axes": 1}, XC),
    ("ifftshift", "ifftshift", (), {}, X3),
]


def _bound(module, name, args, kwargs):
    fn = getattr(module, name)
    return lambda x: fn(x, *args, **kwargs)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_second_order(case, backend):
    _, name, args, kwargs, x = case
    checked(backend, _bound(fft, name, args, kwargs), x)


def test_chained_second_order(backend):
    checked(backend, lambda x: fft.ifftshift(fft.irfft(fft.fftshift(fft.rfft(x), 0) * 2.0, 5)),
            X)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_plain_arrays_are_numpys(case):
    _, name, args, kwargs, x = case
    ours = _bound(fft, name, args, kwargs)(x)
    assert type(ours) is np.ndarray
    np.testing.assert_array_equal(ours, _bound(np.fft, name, args, kwargs)(x))


def test_values_match_numpy_when_traced(backend):
    grad = autodiff.grad
    seen = {}

    def f(x):
        y = fft.rfft2(x, s=(3, 6))
        seen["y"] = y.data.copy()
        return (y.real * 0).sum()
    grad(f)(X)
    np.testing.assert_array_equal(seen["y"], np.fft.rfft2(X, s=(3, 6)))


def test_matches_autograd(backend):
    ag = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    grad = autodiff.grad
    import fastgrad.numpy as fnp
    W = RNG.standard_normal((3, 5))

    def loss(m, F):
        return lambda x: m.sum(m.abs(F.rfft(x, axis=0)) ** 2 * W) + m.sum(
            m.real(F.fft2(x)) * m.imag(F.ifft(x, 5)))
    np.testing.assert_allclose(grad(loss(fnp, fft))(X), ag.grad(loss(anp, anp.fft))(X),
                               rtol=1e-10)
    spec = np.fft.rfft(X[:, :4])
    g_ours = grad(lambda s: fnp.sum(fft.irfft(s) * X[:, :4]))(spec)
    g_theirs = ag.grad(lambda s: anp.sum(anp.fft.irfft(s) * X[:, :4]))(spec)
    np.testing.assert_allclose(g_ours, g_theirs, rtol=1e-10)


def test_bad_input():
    grad = autodiff.grad
    with pytest.raises(ValueError, match="invalid norm"):
        grad(lambda x: fft.fft(x, norm="sideways").real.sum())(X)
    with pytest.raises(NotImplementedError, match="repeated axes"):
        grad(lambda x: fft.fft2(x, axes=(0, 0)).real.sum())(X)
    with pytest.raises(TypeError, match="grad: the function returns complex128"):
        grad(lambda x: fft.fft(x)[0, 0])(X)
