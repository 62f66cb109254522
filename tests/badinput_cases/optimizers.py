"""Optimizers: bad hyperparameters, parameters, gradients and states."""
from . import case


def force_grad(p, value):
    """Set p.grad around the assignment check (as C code or a bug elsewhere could)."""
    for cls in type(p).__mro__:
        slot = cls.__dict__.get("_grad")  # the twin keeps .grad in a slot behind a property
        if slot is not None:
            return slot.__set__(p, value)
    return type(p).__mro__[1].__dict__["grad"].__set__(p, value)


def param(fg, np, shape=(3, 2), dtype=None):
    return fg.Tensor(np.ones(shape, dtype=dtype), requires_grad=True)


@case(ValueError, ["SGD", "empty list"])
def sgd_of_no_parameters(fg, np):
    fg.optim.SGD([], lr=0.1)


@case(TypeError, ["Adam", "parameter 1", "ndarray"])
def adam_of_an_array(fg, np):
    fg.optim.Adam([param(fg, np), np.ones(3)])


@case(TypeError, ["SGD", "parameter 0", "requires_grad"])
def sgd_of_a_constant(fg, np):
    fg.optim.SGD([fg.Tensor(np.ones(2))], lr=0.1)


@case(ValueError, ["SGD", "more than once"])
def sgd_of_a_repeated_parameter(fg, np):
    p = param(fg, np)
    fg.optim.SGD([p, p], lr=0.1)


@case(ValueError, ["SGD", "lr", "-0.1"])
def sgd_negative_lr(fg, np):
    fg.optim.SGD([param(fg, np)], lr=-0.1)


@case(ValueError, ["Adam", "beta1", "1.0"])
def adam_beta_of_one(fg, np):
    fg.optim.Adam([param(fg, np)], betas=(1.0, 0.999))


@case(ValueError, ["SGD", "Nesterov"])
def nesterov_without_momentum(fg, np):
    fg.optim.SGD([param(fg, np)], lr=0.1, nesterov=True)


@case(ValueError, ["SGD", "lr", "nan"])
def sgd_nan_lr(fg, np):
    fg.optim.SGD([param(fg, np)], lr=float("nan"))


@case(TypeError, ["SGD", "schedule", "callable"])
def sgd_schedule_not_callable(fg, np):
    fg.optim.SGD([param(fg, np)], lr=0.1, schedule=0.5)


def _wrong_grad(opt_name, make):
    @case(ValueError, [f"{opt_name}.step", "parameter 0", "(3, 2)", "(2,)"],
          name=f"{opt_name.lower()}_step_with_a_gradient_of_another_shape")
    def wrong_shape(fg, np):
        p = param(fg, np)
        opt = make(fg, p)
        force_grad(p, np.ones(2))
        opt.step()

    @case(TypeError, [f"{opt_name}.step", "parameter 0", "float64", "float32"],
          name=f"{opt_name.lower()}_step_with_a_gradient_of_another_dtype")
    def wrong_dtype(fg, np):
        p = param(fg, np)
        opt = make(fg, p)
        force_grad(p, np.ones((3, 2), np.float32))
        opt.step()


_wrong_grad("SGD", lambda fg, p: fg.optim.SGD([p], lr=0.1, momentum=0.9))
_wrong_grad("Adam", lambda fg, p: fg.optim.Adam([p]))
_wrong_grad("AdamW", lambda fg, p: fg.optim.AdamW([p]))


@case(None)
def a_rejected_step_changes_nothing(fg, np):
    a, b = param(fg, np), param(fg, np, (2,))
    opt = fg.optim.Adam([a, b])
    a.grad = np.ones((3, 2))
    force_grad(b, np.ones(3))
    try:
        opt.step()
    except ValueError:
        pass
    assert np.array_equal(a.data, np.ones((3, 2))) and opt.steps == 0


@case(KeyError, ["load_state_dict", "missing", "m.0"])
def adam_load_state_missing_moment(fg, np):
    opt = fg.optim.Adam([param(fg, np)])
    state = opt.state_dict()
    del state["m.0"]
    opt.load_state_dict(state)


@case(ValueError, ["load_state_dict", "'v.0'", "(3, 2)", "(2,)"])
def adam_load_state_wrong_shape(fg, np):
    opt = fg.optim.Adam([param(fg, np)])
    state = opt.state_dict()
    state["v.0"] = np.zeros(2)
    opt.load_state_dict(state)


@case(KeyError, ["load_state_dict", "unexpected", "'m.5'"])
def adam_load_state_extra_entry(fg, np):
    opt = fg.optim.Adam([param(fg, np)])
    state = opt.state_dict()
    state["m.5"] = np.zeros((3, 2))
    opt.load_state_dict(state)


@case(ValueError, ["load_state_dict", "'steps'", "integer count"])
def sgd_load_state_negative_steps(fg, np):
    opt = fg.optim.SGD([param(fg, np)], lr=0.1)
    state = opt.state_dict()
    state["steps"] = np.array(-1)
    opt.load_state_dict(state)


@case(TypeError, ["load_state_dict", "dict", "list"])
def sgd_load_state_of_a_list(fg, np):
    fg.optim.SGD([param(fg, np)], lr=0.1).load_state_dict([1, 2])


@case(None)
def float32_parameters_keep_float32(fg, np):
    p = param(fg, np, (2,), np.float32)
    opt = fg.optim.Adam([p], lr=0.1)
    (p * p).sum().backward()
    opt.step()
    assert p.data.dtype == np.float32 and np.all(p.data < 1)
