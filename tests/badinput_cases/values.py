"""The Value face (micrograd's): bad numbers, operands and graphs."""
from . import case


@case(ZeroDivisionError, ["Value division by zero"])
def value_divided_by_zero(fg, np):
    fg.Value(1.0) / fg.Value(0.0)


@case(ZeroDivisionError, ["Value division by zero"])
def number_divided_by_a_zero_value(fg, np):
    1.0 / fg.Value(0.0)


@case(ZeroDivisionError, ["negative power"])
def zero_to_a_negative_power(fg, np):
    fg.Value(0.0) ** -1


@case(ValueError, ["non-integer power"])
def negative_to_a_fractional_power(fg, np):
    fg.Value(-2.0) ** 0.5


@case(ValueError, ["Value.log", "positive"])
def log_of_zero(fg, np):
    fg.Value(0.0).log()


@case(TypeError, ["Value", "str"])
def value_of_a_string(fg, np):
    fg.Value("1.0")


@case(TypeError, ["Value", "complex"])
def value_of_a_complex(fg, np):
    fg.Value(1j)


@case(TypeError)
def value_plus_text(fg, np):
    fg.Value(1.0) + "text"


@case(TypeError, ["_children"])
def value_with_bad_children(fg, np):
    fg.Value(1.0, (1.0, 2.0))


@case(OverflowError)
def value_of_a_huge_int(fg, np):
    fg.Value(10 ** 400)


@case(None)
def value_tanh_of_a_huge_number_is_one(fg, np):
    v = fg.Value(1000.0)
    out = v.tanh()
    out.backward()
    assert out.data == 1.0 and v.grad == 0.0


@case(None)
def value_deep_chain_backward_does_not_overflow_the_stack(fg, np):
    x = fg.Value(1.0)
    y = x
    for _ in range(200000):
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0


@case(None)
def value_reused_node_accumulates(fg, np):
    a = fg.Value(3.0)
    b = a + a
    b.backward()
    assert a.grad == 2.0


@case(ValueError, ["MLP", "must be an integer >= 1", "-1"])
def mlp_of_negative_size(fg, np):
    fg.nn.MLP(2, [-1])


@case(ValueError, ["MLP", "nin", "0"])
def mlp_of_zero_inputs(fg, np):
    fg.nn.MLP(0, [2])


@case(ValueError, ["MLP", "at least one layer"])
def mlp_of_no_layers(fg, np):
    fg.nn.MLP(2, [])


@case(ValueError, ["MLP", "2.5"])
def mlp_of_fractional_size(fg, np):
    fg.nn.MLP(2, [2.5])


@case(TypeError, ["MLP", "nouts", "list"])
def mlp_with_an_int_for_nouts(fg, np):
    fg.nn.MLP(2, 3)


@case(ValueError, ["MLP", "expected 2 inputs", "got 1"])
def mlp_called_with_one_input(fg, np):
    fg.nn.MLP(2, [4, 1])([1.0])


@case(ValueError, ["MLP", "expected 2 inputs", "got 3"])
def mlp_called_with_three_inputs(fg, np):
    fg.nn.MLP(2, [4, 1])([1.0, 2.0, 3.0])


@case(ValueError, ["Layer", "expected 3 inputs", "got 2"])
def layer_called_with_too_few_inputs(fg, np):
    fg.nn.Layer(3, 2)([1.0, 2.0])


@case(ValueError, ["Neuron", "expected 2 inputs", "got 0"])
def neuron_called_with_no_inputs(fg, np):
    fg.nn.Neuron(2)([])


@case(ValueError, ["Layer", "nout", "0"])
def layer_with_no_neurons(fg, np):
    fg.nn.Layer(2, 0)


@case(ValueError, ["Neuron", "nin", "True"])
def neuron_with_a_bool_size(fg, np):
    fg.nn.Neuron(True)


@case(None)
def mlp_with_the_right_inputs_trains(fg, np):
    import random
    random.seed(0)
    model = fg.nn.MLP(2, [4, 1])
    out = model([1.0, -1.0])
    out.backward()
    assert any(p.grad != 0.0 for p in model.parameters())
