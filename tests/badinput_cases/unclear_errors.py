"""The audit's unclear errors: each now names the op and the values involved."""
from . import case


@case(ValueError, ["softmax_cross_entropy", "0 rows", "(0, 3)"])
def cross_entropy_on_zero_rows(fg, np):
    z = fg.Tensor(np.zeros((0, 3)), requires_grad=True)
    fg.nn.functional.softmax_cross_entropy(z, np.zeros(0, dtype=np.int64))


@case(ValueError, ["softmax_cross_entropy", "label 9223372036854775808 is out of range", "3 classes"])
def cross_entropy_uint64_label_2_63(fg, np):
    z = fg.Tensor(np.zeros((2, 3)), requires_grad=True)
    fg.nn.functional.softmax_cross_entropy(z, np.array([0, 2**63], dtype=np.uint64))


@case(FloatingPointError, ["input", "NaN", "(2, 3)"])
def nan_in_a_constant_input_is_blamed_on_the_input(fg, np):
    W = fg.Tensor(np.ones((3, 2)), requires_grad=True)
    x = np.ones((2, 3))
    x[0, 0] = np.nan
    (fg.Tensor(x) @ W).sum().backward()


@case(ValueError, ["load_parameters", "corrupt"])
def load_parameters_corrupt_member_header(fg, np):
    import os
    import tempfile
    import zipfile
    path = os.path.join(tempfile.mkdtemp(), "bad.npz")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("w.npy", b"\x93NUMPY\x01\x00\x20\x00{'descr': '<f8', 'fortran_order': Fa")
    model = fg.nn.Sequential(fg.nn.Linear(2, 2))
    fg.load_parameters(model, path)


@case(ValueError, ["grad", "argnum 3", "1 positional argument"])
def grad_argnum_out_of_range(fg, np):
    fg.grad(lambda x: (x * x).sum(), argnum=3)(np.ones(2))


@case(ValueError, ["value_and_grad", "argnum -2", "1 positional argument"])
def value_and_grad_negative_argnum_out_of_range(fg, np):
    fg.value_and_grad(lambda x: (x * x).sum(), argnum=-2)(np.ones(2))


@case(TypeError, ["fit", "batch_size", "3.0"])
def fit_batch_size_float(fg, np):
    model = fg.nn.mlp([2, 2], seed=0)
    fg.fit(model, np.ones((4, 2)), np.array([0, 1, 0, 1]), "cross_entropy",
           fg.optim.SGD(model.parameters(), lr=0.1), batch_size=3.0, progress=False)


@case(FloatingPointError, ["my_square", "NaN"])
def custom_vjp_returning_nan_is_named(fg, np):
    @fg.primitive
    def my_square(x):
        return x * x

    fg.defvjp(my_square, lambda ans, x: lambda g: g * np.nan)
    fg.grad(lambda x: fg.sum(my_square(x)))(np.ones(3))


@case(None)
def hinge_loss_on_a_0d_input(fg, np):
    s = fg.Tensor(np.array(0.3), requires_grad=True)
    loss = fg.nn.functional.hinge_loss(s, np.array(1.0))
    loss.backward()
    assert abs(float(loss.data) - 0.7) < 1e-12 and float(s.grad) == -1.0, (loss, s.grad)


@case(None)
def bce_on_a_0d_float32_input(fg, np):
    z = fg.Tensor(np.array(0.5, np.float32), requires_grad=True)
    loss = fg.nn.functional.binary_cross_entropy_with_logits(z, np.array(1.0))
    loss.backward()
    expected = np.log1p(np.exp(-0.5))
    assert abs(float(loss.data) - expected) < 1e-6 and z.grad.shape == ()
    assert abs(float(z.grad) - (1 / (1 + np.exp(-0.5)) - 1)) < 1e-6
