"""Bad input gets a clear exception naming the op and the shapes or dtypes involved; NaN or Inf
in a backward raises naming the op that produced it and leaves every gradient as it was."""
import numpy as np
import pytest

from fastgrad.engine import set_finite_check


def test_matmul_shape_mismatch(fg):
    a = fg.Tensor(np.ones((3, 4)), requires_grad=True)
    with pytest.raises(ValueError, match=r"matmul: shapes \(3, 4\) and \(5, 2\) do not align"):
        a @ np.ones((5, 2))
    with pytest.raises(ValueError, match=r"matmul: .*\(3, 4\) and \(\)"):
        fg.matmul(a, 2.0)
    with pytest.raises(ValueError, match=r"matmul: the batch axes of shapes \(2, 3, 4\) and "
                                         r"\(3, 4, 2\)"):
        fg.Tensor(np.ones((2, 3, 4))) @ fg.Tensor(np.ones((3, 4, 2)))


@pytest.mark.parametrize("op, name", [(lambda a, b: a + b, "add"),
                                      (lambda a, b: a - b, "subtract"),
                                      (lambda a, b: a * b, "multiply"),
                                      (lambda a, b: a / b, "divide"),
                                      (lambda a, b: a ** b, "power")])
def test_broadcast_mismatch_names_the_op(fg, op, name):
    a = fg.Tensor(np.ones((3, 4)))
    with pytest.raises(ValueError, match=rf"{name}: shapes \(3, 4\) and \(5,\) cannot be "
                                         r"broadcast"):
        op(a, fg.Tensor(np.ones(5)))


def test_shape_ops_name_themselves(fg):
    x = fg.Tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"reshape: .*\(2, 3\).*\(4, 2\)"):
        x.reshape(4, 2)
    with pytest.raises(ValueError, match=r"concatenate: shapes \(2, 3\), \(3, 2\)"):
        fg.concatenate([x, fg.Tensor(np.ones((3, 2)))], axis=0)
    with pytest.raises(ValueError, match=r"stack: .*\(2, 3\), \(3, 2\)"):
        fg.stack([x, fg.Tensor(np.ones((3, 2)))])
    with pytest.raises(ValueError, match="sum: axis 2 is out of bounds"):
        x.sum(axis=2)
    with pytest.raises(ValueError, match=r"max: cannot reduce an empty array of shape \(0,\)"):
        fg.Tensor(np.ones(0)).max()
    with pytest.raises(IndexError, match=r"getitem: .*shape \(2, 3\)"):
        x[5]
    with pytest.raises(ValueError, match=r"transpose: axes \(0, 0\)"):
        x.transpose(0, 0)
    with pytest.raises(TypeError, match="astype: .*int32"):
        x.astype(np.int32)


@pytest.mark.parametrize("other", ["text", np.array(["a", "b"]), 1j, np.ones(2, np.complex128)])
def test_unusable_operands_raise_type_errors(fg, other):
    with pytest.raises(TypeError):
        fg.Tensor(np.ones(2)) + other


def test_nan_in_the_forward_names_the_op_and_restores_grads(fg):
    x = fg.Tensor([1.0, -1.0], requires_grad=True)
    x.grad = np.array([5.0, 5.0])
    with np.errstate(invalid="ignore"):
        y = fg.log(x).sum()
    with pytest.raises(FloatingPointError, match=r"forward value of log \(float64 \(2,\)\)"):
        y.backward()
    np.testing.assert_array_equal(x.grad, [5.0, 5.0])


def test_inf_in_a_gradient_names_the_op(fg):
    x = fg.Tensor([0.0, 4.0], requires_grad=True)
    y = fg.sqrt(x).sum()  # finite value, infinite slope at 0
    with np.errstate(divide="ignore"):
        with pytest.raises(FloatingPointError, match=r"gradient that sqrt \(float64 \(2,\)\)"):
            y.backward()
    assert x.grad is None


def test_nan_in_an_input_is_named_as_such(fg):
    x = fg.Tensor([np.nan, 1.0], requires_grad=True)
    with pytest.raises(FloatingPointError, match=r"input tensor \(float64 \(2,\)\)"):
        (x * 2).sum().backward()


def test_the_finite_check_can_be_turned_off(fg):
    x = fg.Tensor([0.0], requires_grad=True)
    previous = set_finite_check(False)
    try:
        with np.errstate(divide="ignore"):
            fg.sqrt(x).sum().backward()
    finally:
        set_finite_check(previous)
    assert np.isinf(x.grad[0])


def test_a_failed_backward_can_be_retried_after_fixing_nothing(fg):
    """After a NaN error the graph is intact (it was not freed) and grads are untouched."""
    x = fg.Tensor([-1.0], requires_grad=True)
    with np.errstate(invalid="ignore"):
        y = fg.sqrt(x).sum()
    for _ in range(2):
        with pytest.raises(FloatingPointError, match="sqrt"):
            y.backward()
    assert x.grad is None
