"""The autograd face: grad, value_and_grad, jacobian, make_vjp and fastgrad.numpy."""
from . import case


def fnp():
    import fastgrad.numpy as fnp
    return fnp


@case(TypeError, ["grad", "int64"])
def grad_wrt_integers(fg, np):
    fg.grad(lambda x: (x * x).sum())(np.arange(3))


@case(TypeError, ["grad", "int"])
def grad_wrt_a_python_int(fg, np):
    fg.grad(lambda x: x * x)(3)


@case(TypeError, ["grad", "argnum", "'a'"])
def grad_argnum_string(fg, np):
    fg.grad(lambda x: x, argnum="a")


@case(ValueError, ["grad", "argnum 1", "1 positional argument"])
def grad_argnum_tuple_out_of_range(fg, np):
    fg.grad(lambda x: (x * x).sum(), argnum=(0, 1))(np.ones(2))


@case(TypeError, ["grad", "float or an array", "str"])
def grad_of_a_function_returning_text(fg, np):
    fg.grad(lambda x: "x")(np.ones(2))


@case(TypeError, ["grad", "scalar"])
def grad_of_a_vector_valued_function(fg, np):
    fg.grad(lambda x: x * 2)(np.ones(3))


@case(ValueError, ["vjp", "cotangent has shape (2,)", "(3,)"])
def make_vjp_with_a_wrong_cotangent(fg, np):
    vjp, _ = fg.make_vjp(lambda x: x * 2)(np.ones(3))
    vjp(np.ones(2))


@case(ValueError, ["grad", "argnum 0 is out of range", "0 positional arguments"])
def grad_of_a_function_called_with_no_arguments(fg, np):
    fg.grad(lambda: 1.0)()


@case(ValueError, ["matmul", "(3,)", "(2, 2)"])
def numpy_face_matmul_mismatch(fg, np):
    f = fnp()
    fg.grad(lambda x: f.sum(x @ np.ones((2, 2))))(np.ones(3))


@case(ValueError, ["add", "(3,)", "(2,)"])
def numpy_face_broadcast_mismatch(fg, np):
    f = fnp()
    fg.grad(lambda x: f.sum(x + f.ones(2)))(np.ones(3))


@case(FloatingPointError, ["log", "NaN or Inf"])
def numpy_face_log_of_negative(fg, np):
    f = fnp()
    fg.grad(lambda x: f.sum(f.log(x)))(np.array([-1.0, 1.0]))


@case(None)
def grad_matches_finite_differences(fg, np):
    f = fnp()
    g = fg.grad(lambda x: f.sum(f.tanh(x) ** 2))(np.array([0.1, -0.4]))
    x = np.array([0.1, -0.4])
    fd = [(np.sum(np.tanh(x + e) ** 2) - np.sum(np.tanh(x - e) ** 2)) / 2e-6
          for e in np.eye(2) * 1e-6]
    assert np.allclose(g, fd, atol=1e-8), (g, fd)


@case(None)
def value_and_grad_inside_no_grad_still_records(fg, np):
    f = fnp()
    with fg.no_grad():
        value, g = fg.value_and_grad(lambda x: f.sum(x * x))(np.ones(2))
    assert value == 2.0 and np.array_equal(g, [2.0, 2.0])


@case(None)
def jacobian_of_an_elementwise_function(fg, np):
    f = fnp()
    J = fg.jacobian(lambda x: f.exp(x))(np.array([0.0, 1.0]))
    assert np.allclose(J, np.diag(np.exp([0.0, 1.0])))


@case(NotImplementedError, ["grad", "Tensor with requires_grad=True from outside"])
def grad_through_an_outside_tensor(fg, np):
    w = fg.Tensor(np.ones(2), requires_grad=True)
    fg.grad(lambda x: (x * w).sum())(np.ones(2))


@case(TypeError, ["my_double", "float32 or float64"])
def primitive_returning_integers(fg, np):
    @fg.primitive
    def my_double(x):
        return (x * 2).astype(np.int64)

    fg.defvjp(my_double, lambda ans, x: lambda g: 2 * g)
    fg.grad(lambda x: fg.sum(my_double(x)))(np.ones(2))


@case(ValueError, ["my_sum_vjp", "returned shape (5,)", "(3,)"])
def primitive_vjp_of_a_wrong_shape(fg, np):
    @fg.primitive
    def my_sum_vjp(x):
        return x * 1.0

    fg.defvjp(my_sum_vjp, lambda ans, x: lambda g: np.ones(5))
    fg.grad(lambda x: fg.sum(my_sum_vjp(x)))(np.ones(3))


@case(NotImplementedError, ["my_novjp", "no VJP"])
def primitive_without_a_vjp(fg, np):
    @fg.primitive
    def my_novjp(x):
        return x * 1.0

    fg.grad(lambda x: fg.sum(my_novjp(x)))(np.ones(3))


@case(TypeError, ["defvjp", "not a primitive"])
def defvjp_on_a_plain_function(fg, np):
    fg.defvjp(lambda x: x, lambda ans, x: lambda g: g)


@case(FloatingPointError, ["my_log", "NaN"])
def primitive_forward_producing_nan(fg, np):
    @fg.primitive
    def my_log(x):
        return np.log(x)

    fg.defvjp(my_log, lambda ans, x: lambda g: g / x)
    with np.errstate(all="ignore"):
        fg.grad(lambda x: fg.sum(my_log(x)))(np.array([-1.0, 2.0]))
