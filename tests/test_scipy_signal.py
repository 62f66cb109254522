"""fastgrad.scipy.signal.convolve: scipy's values (modes, shapes, autograd's axes and
dot_axes generalisation against tensordot and sums of scipy convolutions), derivatives
against finite differences (forward and reverse, second order, both backends), clear errors."""
import numpy as np
import pytest
import scipy.signal as ss
from conftest import BACKENDS, IDS

import fastgrad
from fastgrad.scipy.signal import convolve
from fastgrad.test_util import check_grads

rng = np.random.default_rng(3)
R = rng.standard_normal
MODES = ["full", "valid", "same"]


@pytest.fixture(params=BACKENDS, ids=[IDS[b] for b in BACKENDS])
def backend(request):
    return request.param


def traced(backend, x):
    return fastgrad.Tensor(x)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("shapes", [((5,), (3,)), ((3,), (6,)), ((4,), (4,)), ((5, 4), (2, 3)),
                                    ((4, 6), (3, 2)), ((3, 4, 2), (2, 2, 2))])
def test_matches_scipy(shapes, mode, backend):
    a, b = R(shapes[0]), R(shapes[1])
    expected = ss.convolve(a, b, mode=mode)
    np.testing.assert_allclose(convolve(traced(backend, a), b, mode=mode).data, expected,
                               rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(convolve(a, traced(backend, b), mode=mode).data, expected,
                               rtol=1e-12, atol=1e-12)
    plain = convolve(a, b, mode=mode)
    assert type(plain) is np.ndarray
    np.testing.assert_array_equal(plain, expected)


@pytest.mark.parametrize("mode", MODES)
def test_axes_and_dot_axes_generalisation(mode, backend):
    A35, A34, A342 = R((3, 5)), R((3, 4)), R((3, 4, 2))
    A2543, A24232 = R((2, 5, 4, 3)), R((2, 4, 2, 3, 2))
    t = lambda x: traced(backend, x)
    np.testing.assert_allclose(convolve(t(A35), A34, axes=([1], [0]), mode=mode).data[1, 2],
                               ss.convolve(A35[1, :], A34[:, 2], mode), atol=1e-12)
    np.testing.assert_allclose(
        convolve(t(A35), A34, axes=([], []), dot_axes=([0], [0]), mode=mode).data,
        np.tensordot(A35, A34, axes=([0], [0])), atol=1e-12)
    np.testing.assert_allclose(
        convolve(t(A35), A342, axes=([1], [2]), dot_axes=([0], [0]), mode=mode).data[2],
        sum(ss.convolve(A35[i, :], A342[i, 2, :], mode) for i in range(3)), atol=1e-12)
    np.testing.assert_allclose(
        convolve(A2543, t(A24232), axes=([1, 2], [2, 4]), dot_axes=([0, 3], [0, 3]),
                 mode=mode).data[2],
        sum(ss.convolve(A2543[i, :, :, j], A24232[i, 2, :, j, :], mode)
            for i in range(2) for j in range(3)), atol=1e-12)
    # plain arrays with axes= take the same path
    np.testing.assert_allclose(convolve(A35, A34, axes=([1], [0]), mode=mode)[1, 2],
                               ss.convolve(A35[1, :], A34[:, 2], mode), atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kwargs, shapes", [
    ({}, ((5,), (3,))),
    ({}, ((4, 3), (2, 2))),
    ({"axes": ([0], [1])}, ((4, 3), (3, 2))),
    ({"axes": ([1, 0], [1, 0])}, ((4, 3), (3, 2))),
    ({"axes": ([1], [1]), "dot_axes": ([0], [2])}, ((3, 3, 2), (3, 2, 3))),
])
def test_derivatives_second_order(kwargs, shapes, mode, backend):
    check_grads(lambda a, b: convolve(a, b, mode=mode, **kwargs), (0, 1), modes=("fwd", "rev"),
                order=2, backend=backend)(R(shapes[0]), R(shapes[1]))


def test_bad_input():
    a = traced("python", R((4, 3)))
    with pytest.raises(ValueError, match="mode must be one of"):
        convolve(a, R((2, 2)), mode="circular")
    with pytest.raises(ValueError, match="same number of dimensions"):
        convolve(a, R(3))
    with pytest.raises(ValueError, match="dot_axes pair A's axis 0 \\(size 4\\)"):
        convolve(a, R((3, 2)), axes=([1], [1]), dot_axes=([0], [0]))
    with pytest.raises(ValueError, match="out of range"):
        convolve(a, R((3, 2)), axes=([2], [0]))
    with pytest.raises(ValueError, match="overlap"):
        convolve(a, R((4, 2)), axes=([0], [1]), dot_axes=([0], [0]))
