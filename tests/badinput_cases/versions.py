"""Values changed between forward and backward: the version check names the op and tensor."""
from . import case

MODIFIED = "modified by an inplace operation"


@case(RuntimeError, [MODIFIED, "matmul", "input 1", "(3, 2)"])
def weight_data_replaced_after_matmul(fg, np):
    x = fg.Tensor(np.ones((2, 3)), requires_grad=True)
    W = fg.Tensor(np.ones((3, 2)), requires_grad=True)
    y = (x @ W).sum()
    W.data = np.full((3, 2), 2.0)
    y.backward()


@case(ValueError, ["Tensor.data", "(5, 4)", "(3, 2)"])
def weight_data_replaced_by_another_shape_after_matmul(fg, np):
    x = fg.Tensor(np.ones((2, 3)), requires_grad=True)
    W = fg.Tensor(np.ones((3, 2)), requires_grad=True)
    y = (x @ W).sum()
    W.data = np.ones((5, 4))
    y.backward()


@case(RuntimeError, [MODIFIED, "matmul", "input 1"])
def weight_updated_in_place_with_augmented_assignment(fg, np):
    x = fg.Tensor(np.ones((2, 3)), requires_grad=True)
    W = fg.Tensor(np.ones((3, 2)), requires_grad=True)
    y = (x @ W).sum()
    W.data -= 0.1
    y.backward()


@case(RuntimeError, [MODIFIED, "dense", "input 1"])
def linear_weight_changed_between_forward_and_backward(fg, np):
    layer = fg.nn.Linear(3, 2)
    loss = layer(fg.Tensor(np.ones((4, 3)))).sum()
    layer.weight.data += 1.0
    loss.backward()


@case(RuntimeError, [MODIFIED, "input 0"])
def optimizer_step_between_forward_and_backward(fg, np):
    w = fg.Tensor(np.ones(3), requires_grad=True)
    opt = fg.optim.SGD([w], lr=0.1)
    loss = (w * w).sum()
    (w * 3).sum().backward()
    opt.step()
    loss.backward()


@case(RuntimeError, [MODIFIED, "softmax_ce", "input 0", "(4, 3)"])
def logits_data_replaced_after_the_loss(fg, np):
    W = fg.Tensor(np.ones((2, 3)), requires_grad=True)
    logits = fg.Tensor(np.ones((4, 2))) @ W
    loss = fg.nn.functional.softmax_cross_entropy(logits, np.array([0, 1, 2, 0]))
    logits.data = np.zeros((4, 3))
    loss.backward()


@case(RuntimeError, [MODIFIED, "tanh", "its own value"])
def output_data_replaced_before_backward(fg, np):
    x = fg.Tensor(np.ones(3), requires_grad=True)
    y = x.tanh()
    y.data = np.zeros(3)
    y.sum().backward()


@case(RuntimeError, [MODIFIED, "input"])
def constant_input_replaced_before_backward(fg, np):
    x = fg.Tensor(np.ones(3), requires_grad=True)
    c = fg.Tensor(np.full(3, 2.0))
    y = (x * c).sum()
    c.data = np.full(3, 3.0)
    y.backward()


@case(RuntimeError, [MODIFIED, "input 1"])
def second_backward_after_a_step_with_retain_graph(fg, np):
    x = fg.Tensor(np.ones((2, 3)))
    W = fg.Tensor(np.ones((3, 2)), requires_grad=True)
    opt = fg.optim.Adam([W], lr=0.1)
    y = (x @ W).sum()
    y.backward(retain_graph=True)
    opt.step()
    y.backward()


@case(RuntimeError, [MODIFIED, "input 1"])
def load_parameters_between_forward_and_backward(fg, np):
    import os
    import tempfile
    model = fg.nn.Sequential(fg.nn.Linear(3, 2))
    folder = tempfile.mkdtemp()
    path = fg.save_parameters(model, os.path.join(folder, "m.npz"))
    loss = model(fg.Tensor(np.ones((4, 3)))).sum()
    fg.load_parameters(model, path)
    loss.backward()


@case(None)
def the_version_check_leaves_grads_untouched(fg, np):
    x = fg.Tensor(np.ones(3), requires_grad=True)
    x.grad = np.full(3, 1.0)
    c = fg.Tensor(np.full(3, 2.0))
    y = (x * c).sum()
    c.data = np.full(3, 3.0)
    try:
        y.backward()
    except RuntimeError:
        pass
    else:
        raise AssertionError("no error")
    assert np.array_equal(x.grad, np.ones(3)), x.grad


@case(None)
def a_step_after_backward_then_a_new_forward_is_fine(fg, np):
    W = fg.Tensor(np.ones((3, 2)), requires_grad=True)
    opt = fg.optim.SGD([W], lr=0.1, momentum=0.9)
    x = fg.Tensor(np.ones((2, 3)))
    for _ in range(3):
        opt.zero_grad()
        (x @ W).sum().backward()
        opt.step()
    assert np.allclose(W.data, 1 - 0.1 * 2 * (1 + 1.9 + 2.71)), W.data


@case(RuntimeError, [MODIFIED, "mul"])
def value_and_grad_input_mutated_by_the_function(fg, np):
    def f(x):
        y = x * x
        x.data = x.data + 1.0
        return y.sum()
    fg.grad(f)(np.ones(3))
