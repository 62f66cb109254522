"""Complex values on the numpy face: autograd's conventions (the gradient of a real f of
z = x + iy is df/dx - i df/dy; holomorphic functions have vjp g f'(z)), the complex entries
(real, imag, conj, angle, abs) and complex Tensor arithmetic against finite differences
(forward and reverse, second order), on both backends; complex values refused where they
cannot go (compiled kernels, a complex result given to grad)."""
import numpy as np
import pytest
from conftest import BACKENDS, IDS

from fastgrad import _backend, autodiff
from fastgrad import numpy as fnp
from fastgrad.ops.complex_ops import as_dtype, holomorphic_grad
from fastgrad.test_util import check_grads

Z = 0.7 - 0.4j
ZS = np.array([[0.3 + 0.8j, -1.1 + 0.2j, 0.5 - 0.6j], [1.4 + 0.1j, -0.2 - 0.9j, 0.8 + 0.3j]])


@pytest.fixture(params=BACKENDS, ids=[IDS[b] for b in BACKENDS])
def bk(request):
    return _backend.load(request.param)


def api(bk):
    """(the autodiff functions by name, fastgrad.numpy): the active backend's"""
    return vars(autodiff), fnp


def checked(bk, f, x, **kwargs):
    check_grads(f, backend=bk.name, **kwargs)(x)


@pytest.mark.parametrize("name", ["real", "imag", "conj", "angle", "abs"])
def test_entries_second_order(bk, name):
    fns, np_ = api(bk)
    f = getattr(np_, name)
    checked(bk, lambda z: f(z), ZS)
    checked(bk, lambda z: f(z), Z)
    checked(bk, lambda z: fns["grad"](lambda w: np_.sum(np_.real(f(w) * f(w))))(z), ZS)


@pytest.mark.parametrize("name", ["real", "imag", "conj", "angle"])
def test_entries_on_real_inputs(bk, name):
    fns, np_ = api(bk)
    f = getattr(np_, name)
    checked(bk, lambda x: f(x) * 1.5, np.array([0.4, 1.3, 2.0]))
    assert np.isrealobj(fns["grad"](lambda x: np_.sum(np_.real(f(x))))(np.array([0.5, 2.0])))


def test_gradient_convention(bk):
    """d/dx - i d/dy: |z|^2 gives 2 conj(z); Re(z^2) = x^2 - y^2 gives 2x + 2iy = 2 z."""
    fns, np_ = api(bk)
    np.testing.assert_allclose(fns["grad"](lambda z: np_.sum(np_.abs(z) ** 2))(ZS),
                               2 * np.conj(ZS), rtol=1e-12)
    np.testing.assert_allclose(fns["grad"](lambda z: np_.sum(np_.real(z * z)))(ZS), 2 * ZS,
                               rtol=1e-12)
    g = fns["grad"](lambda z: np_.angle(z))(Z)
    assert isinstance(g, complex)
    np.testing.assert_allclose(g, -1j * np.conj(Z) / abs(Z) ** 2, rtol=1e-12)


def test_matches_autograd(bk):
    ag = pytest.importorskip("autograd")
    anp = pytest.importorskip("autograd.numpy")
    fns, np_ = api(bk)

    ours = fns["grad"](lambda z: np_.sum(np_.abs(z * z + 2.0 * z) ** 2 + np_.angle(z)
                                         * np_.imag(z) + np_.real(np_.conj(z) / (z + 3.0))))
    theirs = ag.grad(lambda z: anp.sum(anp.abs(z * z + 2.0 * z) ** 2 + anp.angle(z)
                                       * anp.imag(z) + anp.real(anp.conj(z) / (z + 3.0))))
    np.testing.assert_allclose(ours(ZS), theirs(ZS), rtol=1e-12)


def test_complex_tensor_arithmetic(bk):
    """Operators, reductions, indexing and matmul on complex Tensors, holomorphic and mixed
    with real Tensors and constants, to second order."""
    _, np_ = api(bk)
    W = np.array([[0.5 - 0.2j, 1.0], [0.3j, -0.7 + 0.1j], [1.2, 0.4 - 0.4j]])
    checked(bk, lambda z: (z * z - 3.0 * z + 1j) / (z + 2.5) + z ** 2, ZS)
    checked(bk, lambda z: (z @ W)[1, ::-1] * z.sum(axis=0)[:2] - z.T[0], ZS)
    checked(bk, lambda z: np_.real(z).sum() * z + z.reshape(3, 2).T, ZS)
    checked(bk, lambda x: np_.real(as_dtype(x, np.complex128) * (1.0 + 0.2j) * x),
            np.array([0.3, -1.2]))


def test_accumulated_complex_gradients(bk):
    """A complex leaf used several times: its contributions add (first order, fast sweep).
    Re(2z) + Re(i z^2) + Re(conj z) = 3x - 2xy, whose d/dx - i d/dy is 3 - 2y + 2ix."""
    fns, np_ = api(bk)
    g = fns["grad"](lambda z: np_.sum(np_.real(z * 2.0 + z * z * 1j + np_.conj(z))))(ZS)
    np.testing.assert_allclose(g, 3.0 - 2 * ZS.imag + 2j * ZS.real, rtol=1e-12)


def test_holomorphic_grad(bk):
    g = holomorphic_grad(lambda z: z * (1.0 + 0.2j) + z * z)(Z)
    np.testing.assert_allclose(g, 1.0 + 0.2j + 2 * Z, rtol=1e-12)


def test_numpy_face_functions_on_complex_values(bk):
    """Kernel ops given complex operands (traced or constant) are redone on the op table's
    Python path: holomorphic rules, to second order."""
    _, np_ = api(bk)
    checked(bk, lambda z: np_.sin(np_.exp(z)) * np_.sum(z, axis=0) + np_.tanh(z) ** 2
            / (z + 3.0) - np_.dot(np_.transpose(z)[:2, :], np_.sqrt(z)), ZS)
    checked(bk, lambda z: np_.mean(z, axis=1) + np_.max(z) + np_.log1p(z)[:, 0]
            - np_.cos(z)[0, 1:], ZS)
    checked(bk, lambda x: np_.real(x * (1.0 + 0.2j) * np_.dot(x, np_.ones(2) * 1j)),
            np.array([0.3, -1.2]))


def test_complex_result_of_grad_is_refused(bk):
    fns, _ = api(bk)
    with pytest.raises(TypeError, match="grad: the function returns complex128"):
        fns["grad"](lambda z: z * (1.0 + 0.2j))(1.0 + 0.5j)
    with pytest.raises(TypeError, match="grad: the function returns complex128"):
        fns["grad"](lambda x: x * (1.0 + 0.2j))(1.0)


@pytest.mark.parametrize("kernel", ["relu", "sigmoid"])
def test_complex_into_a_kernel_without_complex_rule_is_refused(bk, kernel):
    """relu, sigmoid (and clip, the fused layer, the losses) have no complex meaning: a complex
    operand raises naming the op and the dtype, never a silently wrong value."""
    fns, np_ = api(bk)
    fn = getattr(bk.elementwise, kernel)
    with pytest.raises(TypeError, match=rf"{kernel}: unsupported dtype complex128"):
        fns["grad"](lambda z: np_.real(fn(z)).sum())(ZS)
    with pytest.raises(TypeError, match=rf"{kernel}: unsupported dtype complex128"):
        fn(np.array([1j]))


def test_var_and_std_of_complex_values(bk):
    """numpy's variance of complex values is the mean of |a - mean|^2 (real)."""
    fns, np_ = api(bk)
    checked(bk, lambda z: np_.var(z, axis=0) + np_.std(z) * 2.0, ZS)
    _, value = fns["make_vjp"](lambda z: np_.var(z, axis=0))(ZS)
    np.testing.assert_allclose(value, np.var(ZS, axis=0), rtol=1e-12)
