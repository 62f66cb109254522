"""fastgrad.gradcheck: passes correct gradients, and fails (naming the input and element) on a
gradient that is wrong."""
import numpy as np
import pytest

import fastgrad as fg


def test_passes_on_correct_gradients():
    rng = np.random.default_rng(0)
    assert fg.gradcheck(lambda a, b: fg.tanh(a @ b) * 3, [rng.standard_normal((2, 3)),
                                                          rng.standard_normal((3, 4))])
    assert fg.gradcheck(lambda a: (a * a).sum(), [np.float32([1.5, -2.0])])  # checked in f64


def test_fails_on_a_wrong_gradient():
    # x * detach(x) has slope 2x, but backward sees only the first factor: x
    def wrong(x):
        return (x * x.detach()).sum()
    with pytest.raises(fg.GradcheckError, match=r"input 0 \(shape \(3,\)\), element \(\d,\)"):
        fg.gradcheck(wrong, [np.array([1.0, 2.0, 3.0])])


def test_fails_when_a_path_leaves_the_graph():
    def leaks(x):
        return fg.Tensor(np.sin(x.data)) + x  # sin's slope is lost
    with pytest.raises(fg.GradcheckError, match="finite differences give"):
        fg.gradcheck(leaks, [np.array([0.3, 0.7])])


def test_requires_a_tensor_result():
    with pytest.raises(TypeError, match="must return a Tensor"):
        fg.gradcheck(lambda x: 1.0, [np.ones(2)])
