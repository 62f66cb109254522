"""Value: the scalar face, micrograd's ``Value`` on fastgrad's engine.

Change ``from micrograd.engine import Value`` to ``from fastgrad import Value`` and nothing else:
the numbers are micrograd's (the same operations in the same order: values bit for bit, and
gradients up to the order in which several consumers' contributions are added, which in
micrograd follows Python's set order), computed by a compiled node (fastgrad._cy.scalar; its
Python twin fastgrad._py.scalar when nothing is compiled).

    >>> from fastgrad import Value
    >>> a, b = Value(2.0), Value(-3.0)
    >>> c = (a * b + b ** 2).relu()
    >>> c.backward()
    >>> a.grad, b.grad
    (-3.0, -4.0)

What is micrograd's, and what was chosen where micrograd has nothing to say:

- ``data`` and ``grad`` are floats (micrograd keeps ints as ints: Value(2) ** 3 is 8.0 here).
- backward() sets the root's grad to 1 and adds into the grad of every node it depends on,
  interior nodes included; grads accumulate across backward() calls until zero_grad() (the
  model's, or a Value's own). Build a fresh graph per step, as micrograd does.
- ``a - b`` is a + (b * -1) and ``a / b`` is a * b**-1, as in micrograd (so ``a / 3`` is
  ``a * 0.3333333333333333``, micrograd's bits). Constants are folded into the node that uses
  them (they are not Values), so ``_prev`` lists Values only.
- Division by zero and 0.0 to a negative power raise ZeroDivisionError, as Python floats do
  (and micrograd does). A negative number to a non-integer power raises ValueError (micrograd
  would silently produce a complex number). ``log`` of a number <= 0 raises ValueError.
- tanh, sigmoid and exp never raise: tanh(1000) is 1.0, sigmoid(-1000) is 0.0, exp(1000) and
  ``10.0 ** 400`` are inf, as in IEEE arithmetic (Python's floats raise OverflowError there).
- ``a ** b`` with a Value exponent, ``2 ** a``, ``sigmoid()``, ``log()`` and ``exp()`` go beyond
  micrograd's engine. d(x**y)/dy = log(x) * x**y is taken as 0 at x = 0 (as PyTorch does).
- ``Value + "text"`` (anything that is not a number, a Value or an ndarray) raises TypeError.
  With an ndarray the result is numpy's object array of Values, as with micrograd.
- ``backward(create_graph=True)`` (beyond micrograd) makes each leaf's grad a Value that
  differentiates again (PyTorch's semantics; the README's micrograd section has the rules).
- ``_prev``, ``_op`` and ``_backward()`` are there for graph drawing and manual backprop;
  ``_backward`` cannot be replaced (custom ops need a fastgrad op, not a closure).
"""
from ._backend import active

Value = active.scalar.Value

__all__ = ["Value"]
