"""The Tensor face's models and losses: nn.Linear, Sequential, mlp, the loss functions."""
from . import case


def F(fg):
    return fg.nn.functional


@case(ValueError, ["Linear", "in_features", "0"])
def linear_of_zero_inputs(fg, np):
    fg.nn.Linear(0, 2)


@case(ValueError, ["Linear", "out_features", "-3"])
def linear_of_negative_outputs(fg, np):
    fg.nn.Linear(2, -3)


@case(ValueError, ["Linear", "activation", "'swish'"])
def linear_unknown_activation(fg, np):
    fg.nn.Linear(2, 3, activation="swish")


@case(TypeError, ["Linear", "dtype", "int32"])
def linear_integer_dtype(fg, np):
    fg.nn.Linear(2, 3, dtype=np.int32)


@case(ValueError, ["dense", "(4, 3)", "(2, 5)"])
def linear_called_on_the_wrong_width(fg, np):
    fg.nn.Linear(2, 5)(fg.Tensor(np.ones((4, 3))))


@case(ValueError, ["mlp", "at least the input and output sizes"])
def mlp_of_one_size(fg, np):
    fg.nn.mlp([3])


@case(TypeError, ["Sequential", "layer 1", "int"])
def sequential_of_a_non_layer(fg, np):
    fg.nn.Sequential(fg.nn.Linear(2, 2), 3)


@case(ValueError, ["softmax_cross_entropy", "2-D", "(3,)"])
def cross_entropy_on_1d_logits(fg, np):
    F(fg).softmax_cross_entropy(fg.Tensor(np.ones(3), requires_grad=True), np.array([0]))


@case(ValueError, ["softmax_cross_entropy", "label 3 is out of range", "3 classes"])
def cross_entropy_label_too_large(fg, np):
    F(fg).softmax_cross_entropy(fg.Tensor(np.ones((2, 3)), requires_grad=True), np.array([0, 3]))


@case(ValueError, ["softmax_cross_entropy", "label -1 is out of range"])
def cross_entropy_negative_label(fg, np):
    F(fg).softmax_cross_entropy(fg.Tensor(np.ones((2, 3)), requires_grad=True),
                                np.array([0, -1]))


@case(ValueError, ["softmax_cross_entropy", "non-integer"])
def cross_entropy_fractional_labels(fg, np):
    F(fg).softmax_cross_entropy(fg.Tensor(np.ones((2, 3)), requires_grad=True),
                                np.array([0.5, 1.0]))


@case(ValueError, ["softmax_cross_entropy", "non-integer"])
def cross_entropy_nan_labels(fg, np):
    F(fg).softmax_cross_entropy(fg.Tensor(np.ones((2, 3)), requires_grad=True),
                                np.array([np.nan, 1.0]))


@case(ValueError, ["softmax_cross_entropy", "(2, 3)", "(3,)"])
def cross_entropy_target_of_another_length(fg, np):
    F(fg).softmax_cross_entropy(fg.Tensor(np.ones((2, 3)), requires_grad=True),
                                np.array([0, 1, 2]))


@case(TypeError, ["softmax_cross_entropy", "<U1"])
def cross_entropy_string_labels(fg, np):
    F(fg).softmax_cross_entropy(fg.Tensor(np.ones((2, 3)), requires_grad=True),
                                np.array(["a", "b"]))


@case(ValueError, ["softmax_cross_entropy", "target is not differentiated"])
def cross_entropy_target_requiring_grad(fg, np):
    F(fg).softmax_cross_entropy(fg.Tensor(np.ones((2, 3)), requires_grad=True),
                                fg.Tensor(np.full((2, 3), 1 / 3), requires_grad=True))


@case(ValueError, ["softmax_cross_entropy", "reduction", "'avg'"])
def cross_entropy_unknown_reduction(fg, np):
    F(fg).softmax_cross_entropy(fg.Tensor(np.ones((2, 3))), np.array([0, 1]), reduction="avg")


@case(None)
def cross_entropy_sum_over_zero_rows_is_zero(fg, np):
    z = fg.Tensor(np.zeros((0, 3)), requires_grad=True)
    loss = F(fg).softmax_cross_entropy(z, np.zeros(0, dtype=np.int64), reduction="sum")
    loss.backward()
    assert float(loss.data) == 0.0 and z.grad.shape == (0, 3)


@case(ValueError, ["mse_loss", "(3, 2)", "(2, 3)"])
def mse_of_mismatched_shapes(fg, np):
    F(fg).mse_loss(fg.Tensor(np.ones((3, 2)), requires_grad=True), np.ones((2, 3)))


@case(ValueError, ["mse_loss", "0 rows"])
def mse_mean_of_nothing(fg, np):
    F(fg).mse_loss(fg.Tensor(np.ones((0, 2)), requires_grad=True), np.ones((0, 2)))


@case(ValueError, ["binary_cross_entropy_with_logits", "(4, 1)", "(3,)"])
def bce_of_mismatched_shapes(fg, np):
    F(fg).binary_cross_entropy_with_logits(fg.Tensor(np.ones((4, 1)), requires_grad=True),
                                           np.ones(3))


@case(ValueError, ["hinge_loss", "0 rows"])
def hinge_mean_of_nothing(fg, np):
    F(fg).hinge_loss(fg.Tensor(np.ones(0), requires_grad=True), np.ones(0))


@case(ValueError, ["unknown loss", "'crossentropy'"])
def unknown_loss_name(fg, np):
    fg.nn.losses.get_loss("crossentropy")


@case(ValueError, ["CrossEntropyLoss", "reduction"])
def loss_module_unknown_reduction(fg, np):
    fg.nn.CrossEntropyLoss(reduction="max")


@case(KeyError, ["load_state_dict", "missing", "0.weight"])
def load_state_dict_missing_parameter(fg, np):
    model = fg.nn.Sequential(fg.nn.Linear(2, 2))
    model.load_state_dict({"0.bias": np.zeros(2)})


@case(ValueError, ["load_state_dict", "'0.weight'", "(3, 3)"])
def load_state_dict_wrong_shape(fg, np):
    model = fg.nn.Sequential(fg.nn.Linear(2, 2))
    state = {name: p.data for name, p in model.named_parameters()}
    state["0.weight"] = np.zeros((3, 3))
    model.load_state_dict(state)


def other_node(fg, data, requires_grad=False):
    """A leaf node of the other backend's kernel modules. fastgrad binds one backend per
    process, so its API makes no Tensor of the other; this node, made as the kernels' new_node
    makes one, stands for such a Tensor reaching this backend's kernels."""
    from badinput_cases import Skip
    from fastgrad import _backend
    try:
        Node = _backend.load("python" if fg.BACKEND == "cython" else "cython").node.Node
    except ImportError:
        raise Skip("one backend only") from None
    node = Node.__new__(Node)
    node.data = data
    node.requires_grad = requires_grad
    for field, value in (("_prev", None), ("_ctx", None), ("_op", 0), ("_retain", False),
                         ("_mark", 0), ("_gown", 0), ("_born", 0), ("_version", 0)):
        setattr(node, field, value)
    node.grad = None
    return node


@case(TypeError, ["Tensor", "met a Tensor", "'python'", "'cython'"])
def mixing_backends_in_one_graph(fg, np):
    a = fg.Tensor(np.ones(3), requires_grad=True)
    b = other_node(fg, np.ones(3), requires_grad=True)
    (a * b).sum().backward()


@case(TypeError, ["matmul", "met a Tensor"])
def mixing_backends_in_a_matmul(fg, np):
    fg.Tensor(np.ones((2, 2)), requires_grad=True) @ other_node(fg, np.ones((2, 2)), True)


@case(TypeError, ["Tensor.grad", "Tensor"])
def grad_set_to_a_tensor_of_the_other_backend(fg, np):
    fg.Tensor(np.ones(3), requires_grad=True).grad = other_node(fg, np.ones(3))
