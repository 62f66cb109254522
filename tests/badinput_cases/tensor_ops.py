"""The Tensor face: ops on wrong shapes, dtypes and values."""
from . import case


def T(fg, np, shape, rg=True, dtype=None):
    return fg.Tensor(np.ones(shape, dtype=dtype), requires_grad=rg)


@case(ValueError, ["matmul", "(3, 4)", "(5, 2)"])
def matmul_inner_mismatch(fg, np):
    T(fg, np, (3, 4)) @ T(fg, np, (5, 2))


@case(ValueError, ["matmul", "(3, 4)", "()"])
def matmul_with_a_scalar(fg, np):
    fg.matmul(T(fg, np, (3, 4)), 2.0)


@case(ValueError, ["matmul", "(2, 3, 4)", "(3, 4, 2)"])
def matmul_batch_axes_mismatch(fg, np):
    T(fg, np, (2, 3, 4)) @ T(fg, np, (3, 4, 2))


@case(ValueError, ["matmul", "(4,)", "(3,)"])
def matmul_vectors_of_other_lengths(fg, np):
    T(fg, np, 4) @ T(fg, np, 3)


@case(ValueError, ["dot", "(2, 3)", "(2, 3)"])
def dot_of_misaligned_matrices(fg, np):
    fg.dot(T(fg, np, (2, 3)), T(fg, np, (2, 3)))


@case(NotImplementedError, ["dot", "(2, 2, 2)", "(2, 2)"])
def dot_of_3d_arrays(fg, np):
    fg.dot(T(fg, np, (2, 2, 2)), T(fg, np, (2, 2)))


def _binary(name, fn):
    @case(ValueError, [name, "(3, 4)", "(5,)", "broadcast"], name=f"{name}_broadcast_mismatch")
    def broadcast_mismatch(fg, np):
        fn(T(fg, np, (3, 4)), T(fg, np, 5))


for _name, _fn in [("add", lambda a, b: a + b), ("subtract", lambda a, b: a - b),
                   ("multiply", lambda a, b: a * b), ("divide", lambda a, b: a / b),
                   ("power", lambda a, b: a ** b)]:
    _binary(_name, _fn)


@case(ValueError, ["maximum", "(2,)", "(3,)"])
def maximum_broadcast_mismatch(fg, np):
    fg.maximum(T(fg, np, 2), T(fg, np, 3))


@case(ValueError, ["where", "(2,)", "(3,)"])
def where_broadcast_mismatch(fg, np):
    fg.where(np.array([True, False]), T(fg, np, 2), T(fg, np, 3))


@case(TypeError, ["add", "<U1"])
def add_a_string_array(fg, np):
    T(fg, np, 2) + np.array(["a", "b"])


@case(TypeError, ["add"])
def add_a_string(fg, np):
    T(fg, np, 2) + "text"


@case(TypeError, ["add", "complex128"])
def add_a_complex_array(fg, np):
    T(fg, np, 2) + np.ones(2, np.complex128)


@case(TypeError, ["multiply", "complex"])
def multiply_by_a_complex_number(fg, np):
    T(fg, np, 2) * 1j


@case(TypeError, ["Tensor", "complex128"])
def tensor_of_complex_numbers(fg, np):
    fg.Tensor(np.ones(2, np.complex128))


@case(TypeError, ["Tensor", "<U1"])
def tensor_of_strings(fg, np):
    fg.Tensor(np.array(["a"]))


@case(TypeError, ["Tensor", "object"])
def tensor_of_objects(fg, np):
    fg.Tensor(np.array([None, 1.0], dtype=object))


@case(ValueError, ["Tensor"])
def tensor_of_ragged_lists(fg, np):
    fg.Tensor([[1.0, 2.0], [3.0]])


@case(ValueError, ["reshape", "(2, 3)", "(4, 2)"])
def reshape_to_another_size(fg, np):
    T(fg, np, (2, 3)).reshape(4, 2)


@case(ValueError, ["concatenate", "(2, 3)", "(3, 2)"])
def concatenate_mismatched(fg, np):
    fg.concatenate([T(fg, np, (2, 3)), T(fg, np, (3, 2))], axis=0)


@case(ValueError, ["stack", "(2, 3)", "(3, 2)"])
def stack_mismatched(fg, np):
    fg.stack([T(fg, np, (2, 3)), T(fg, np, (3, 2))])


@case(ValueError, ["concatenate"])
def concatenate_nothing(fg, np):
    fg.concatenate([], axis=0)


@case(ValueError, ["sum", "axis 2"])
def sum_axis_out_of_bounds(fg, np):
    T(fg, np, (2, 3)).sum(axis=2)


@case(ValueError, ["mean", "axis"])
def mean_axis_out_of_bounds(fg, np):
    T(fg, np, (2, 3)).mean(axis=-3)


@case(ValueError, ["max", "empty", "(0,)"])
def max_of_an_empty_tensor(fg, np):
    T(fg, np, 0).max()


@case(ValueError, ["min", "empty"])
def min_of_an_empty_tensor(fg, np):
    T(fg, np, (0, 3)).min()


@case(IndexError, ["getitem", "(2, 3)"])
def index_out_of_range(fg, np):
    T(fg, np, (2, 3))[5]


@case(IndexError, ["getitem", "(2, 3)"])
def too_many_indices(fg, np):
    T(fg, np, (2, 3))[0, 1, 2]


@case(ValueError, ["transpose", "(0, 0)"])
def transpose_repeated_axes(fg, np):
    T(fg, np, (2, 3)).transpose(0, 0)


@case(TypeError, ["astype", "int32"])
def astype_integer(fg, np):
    T(fg, np, (2, 3)).astype(np.int32)


@case(ValueError, ["broadcast_to", "(3,)", "(2,)"])
def broadcast_to_a_smaller_shape(fg, np):
    fg.broadcast_to(T(fg, np, 3), (2,))


@case(ValueError, ["backward", "(3,)", "single-element"])
def backward_on_a_vector_without_gradient(fg, np):
    (T(fg, np, 3) * 2).backward()


@case(ValueError, ["backward", "gradient has shape (2,)", "(3,)"])
def backward_with_a_gradient_of_another_shape(fg, np):
    (T(fg, np, 3) * 2).backward(np.ones(2))


@case(TypeError, ["backward", "dtype"])
def backward_with_a_string_gradient(fg, np):
    (T(fg, np, 2) * 2).backward(np.array(["a", "b"]))


@case(RuntimeError, ["backward", "does not require grad"])
def backward_on_a_constant(fg, np):
    (T(fg, np, 3, rg=False) * 2).sum().backward()


@case(RuntimeError, ["backward", "freed", "retain_graph"])
def backward_twice(fg, np):
    y = (T(fg, np, 3).tanh()).sum()
    y.backward()
    y.backward()


@case(FloatingPointError, ["log", "NaN or Inf"])
def log_of_a_negative_value(fg, np):
    x = fg.Tensor([1.0, -1.0], requires_grad=True)
    fg.log(x).sum().backward()


@case(FloatingPointError, ["sqrt", "NaN or Inf"])
def sqrt_at_zero_gradient_is_infinite(fg, np):
    x = fg.Tensor([0.0, 1.0], requires_grad=True)
    fg.sqrt(x).sum().backward()


@case(FloatingPointError, ["input", "NaN"])
def nan_in_a_leaf(fg, np):
    x = fg.Tensor([np.nan, 1.0], requires_grad=True)
    (x * 2).sum().backward()


@case(FloatingPointError, ["div (float64 (2,))", "NaN or Inf"])
def division_by_zero(fg, np):
    x = fg.Tensor([1.0, 2.0], requires_grad=True)
    (x / fg.Tensor([0.0, 1.0])).sum().backward()


@case(None)
def nan_error_leaves_grads_as_they_were(fg, np):
    x = fg.Tensor([1.0, -1.0], requires_grad=True)
    x.grad = np.array([5.0, 5.0])
    try:
        fg.log(x).sum().backward()
    except FloatingPointError:
        pass
    assert np.array_equal(x.grad, [5.0, 5.0]), x.grad


@case(TypeError, ["len()", "0-d"])
def len_of_a_0d_tensor(fg, np):
    len(fg.Tensor(1.0))


@case(TypeError, ["iteration", "0-d"])
def iterate_a_0d_tensor(fg, np):
    iter(fg.Tensor(1.0))


@case(TypeError, ["numpy.unique", "no gradient"])
def numpy_function_without_gradient(fg, np):
    np.unique(T(fg, np, 3))


@case(TypeError, ["numpy.fmod", "no gradient"])
def numpy_ufunc_without_gradient(fg, np):
    np.fmod(T(fg, np, 3), T(fg, np, 3))


@case(TypeError, ["sum", "dtype="])
def numpy_sum_with_dtype(fg, np):
    np.sum(T(fg, np, 3), dtype=np.float32)


@case(ValueError, ["clip"])
def clip_without_bounds(fg, np):
    fg.clip(T(fg, np, 3), None, None)


@case(None)
def float32_and_float64_mix_keeps_both_gradients_right(fg, np):
    a = fg.Tensor(np.ones(3, np.float32), requires_grad=True)
    b = fg.Tensor(np.full(3, 2.0), requires_grad=True)
    (a * b).sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    assert np.array_equal(a.grad, [2, 2, 2]) and np.array_equal(b.grad, [1, 1, 1])


@case(None)
def zero_d_ops_backward(fg, np):
    x = fg.Tensor(np.array(0.5), requires_grad=True)
    y = (x.tanh() * x + fg.exp(x) - fg.log1p(x)).sigmoid()
    y.backward()
    h = 1e-6
    f = lambda v: 1 / (1 + np.exp(-(np.tanh(v) * v + np.exp(v) - np.log1p(v))))
    assert abs(float(x.grad) - (f(0.5 + h) - f(0.5 - h)) / (2 * h)) < 1e-6


@case(None)
def empty_tensors_backward_to_empty_gradients(fg, np):
    x = fg.Tensor(np.ones((0, 3)), requires_grad=True)
    (x * 2).sum().backward()
    assert x.grad.shape == (0, 3)
