"""Assigning .grad and .data: type, dtype, shape and backend are checked (PyTorch's messages)."""
from . import case


def leaf(fg, np, shape=(3,), dtype=None):
    return fg.Tensor(np.ones(shape, dtype=dtype), requires_grad=True)


@case(TypeError, ["Tensor.grad", "type float"])
def grad_set_to_float_then_backward(fg, np):
    x = leaf(fg, np)
    x.grad = 0.0
    (x * 2).sum().backward()


@case(TypeError, ["Tensor.grad", "type list"])
def grad_set_to_list_then_backward(fg, np):
    x = leaf(fg, np)
    x.grad = [0.0, 0.0, 0.0]
    (x * 2).sum().backward()


@case(TypeError, ["Tensor.grad", "type int"])
def grad_set_to_int(fg, np):
    leaf(fg, np).grad = 1


@case(ValueError, ["Tensor.grad", "different size", "(4,)", "(3,)"])
def grad_of_another_shape(fg, np):
    leaf(fg, np).grad = np.zeros(4)


@case(ValueError, ["Tensor.grad", "different size", "(1, 3)", "(3,)"])
def grad_of_a_broadcastable_shape(fg, np):
    leaf(fg, np).grad = np.zeros((1, 3))


@case(TypeError, ["Tensor.grad", "different type", "float32", "float64"])
def grad_of_another_dtype(fg, np):
    leaf(fg, np).grad = np.zeros(3, dtype=np.float32)


@case(TypeError, ["Tensor.grad", "different type", "int64"])
def grad_of_integers(fg, np):
    leaf(fg, np).grad = np.zeros(3, dtype=np.int64)


@case(TypeError, ["Tensor.grad", "different type", "float32"])
def grad_set_to_a_tensor_of_another_dtype(fg, np):
    # (a Tensor of the leaf's shape and dtype is a valid .grad: backward(create_graph=True)
    # leaves one there)
    leaf(fg, np).grad = fg.Tensor(np.zeros(3, dtype=np.float32))


@case(TypeError, ["Tensor.grad", "type matrix"])
def grad_set_to_an_ndarray_subclass(fg, np):
    leaf(fg, np, (2, 2)).grad = np.asmatrix(np.zeros((2, 2)))


@case(None)
def grad_set_to_zeros_accumulates(fg, np):
    x = leaf(fg, np)
    x.grad = np.full(3, 5.0)
    (x * 2).sum().backward()
    assert np.array_equal(x.grad, np.full(3, 7.0)), x.grad


@case(None)
def grad_set_to_a_view_is_not_written_into(fg, np):
    x = leaf(fg, np)
    base = np.zeros((2, 3))
    x.grad = base[1]
    (x * 2).sum().backward()
    assert np.array_equal(x.grad, np.full(3, 2.0)) and not base.any()


@case(TypeError, ["Tensor.data", "type float"])
def data_set_to_float(fg, np):
    leaf(fg, np).data = 1.0


@case(TypeError, ["Tensor.data", "type list"])
def data_set_to_list(fg, np):
    leaf(fg, np).data = [1.0, 2.0, 3.0]


@case(TypeError, ["Tensor.data", "int64", "float32 or float64"])
def data_set_to_integers(fg, np):
    leaf(fg, np).data = np.arange(3)


@case(TypeError, ["Tensor.data", "<U1"])
def data_set_to_strings(fg, np):
    leaf(fg, np).data = np.array(["a", "b", "c"])


@case(ValueError, ["Tensor.data", "different size", "(5, 4)", "(3, 2)"])
def data_of_another_shape(fg, np):
    leaf(fg, np, (3, 2)).data = np.ones((5, 4))


@case(TypeError, ["Tensor.data", "different type", "float32", "float64"])
def data_of_another_dtype(fg, np):
    leaf(fg, np).data = np.ones(3, dtype=np.float32)


@case(TypeError, ["Tensor.data", "Tensor"])
def data_set_to_a_tensor(fg, np):
    leaf(fg, np).data = fg.Tensor(np.ones(3))


@case(None)
def data_replaced_before_the_forward_is_used(fg, np):
    x = leaf(fg, np)
    x.data = np.full(3, 2.0)
    (x * x).sum().backward()
    assert np.array_equal(x.grad, np.full(3, 4.0))
