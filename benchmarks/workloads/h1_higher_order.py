"""H1: higher-order derivatives. Variant "hessian": the Hessian of W2's loss with respect to all
15 weights (one flat vector), one `hessian(loss)(w)` call. Variant "egrad6": autograd's tanh
example, elementwise_grad nested six times on 700 points, one call of the sixth derivative.
Variant "hvp": a Hessian-vector product of W2's loss, one `hessian_tensor_product(loss)(w, v)`
call (the gradient graph recorded, then differentiated: reverse over reverse). Variant
"hvp-reuse": `make_hvp(loss)(w)` made once at w, then one `hvp(v)` per unit of work (what a
Newton-CG solver does: many products at one point).
"""

import numpy as np

from .registry import register
from .w2_tiny_mlp import weights_and_example

POINTS = np.linspace(-7, 7, 700)
VECTOR = np.random.default_rng(1).normal(size=15)   # the direction of the Hessian-vector product


def _flat_example():
    weights, x, t = weights_and_example()
    return np.concatenate([w.reshape(-1) for w in weights]), x, t


def _w2_loss(np_, w, x, t):
    """W2's loss (sigmoid hidden layer, softmax cross-entropy) of the flat weight vector."""
    W0 = np_.reshape(w[:9], (3, 3))
    W1 = np_.reshape(w[9:], (3, 2))
    hidden = 1 / (1 + np_.exp(-np_.dot(x, W0)))
    z = np_.dot(hidden, W1)
    e = np_.exp(z - np_.max(z))
    p = e / np_.sum(e)
    return -np_.sum(t * np_.log(p))


def _tanh(np_):
    def tanh(x):
        y = np_.exp(-2.0 * x)
        return (1.0 - y) / (1.0 + y)
    return tanh


def _nested(egrad, f, depth=6):
    for _ in range(depth):
        f = egrad(f)
    return f


@register("H1", "fastgrad", unit="call", variant="hessian")
def fastgrad_hessian():
    import fastgrad.numpy as fnp
    from fastgrad import hessian
    w, x, t = _flat_example()
    h = hessian(lambda w: _w2_loss(fnp, w, x, t))
    return lambda: h(w)


@register("H1", "autograd", unit="call", variant="hessian", requires=("autograd",))
def autograd_hessian():
    import autograd.numpy as anp
    from autograd import hessian
    w, x, t = _flat_example()
    h = hessian(lambda w: _w2_loss(anp, w, x, t))
    return lambda: h(w)


@register("H1", "jax.jit", unit="call", variant="hessian", requires=("jax",))
def jax_hessian():
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    w, x, t = _flat_example()
    h = jax.jit(jax.hessian(lambda w: _w2_loss(jnp, w, x, t)))
    h(w).block_until_ready()
    return lambda: h(w).block_until_ready()


@register("H1", "fastgrad", unit="call", variant="egrad6")
def fastgrad_egrad6():
    import fastgrad.numpy as fnp
    from fastgrad import elementwise_grad
    f = _nested(elementwise_grad, _tanh(fnp))
    return lambda: f(POINTS)


@register("H1", "autograd", unit="call", variant="egrad6", requires=("autograd",))
def autograd_egrad6():
    import autograd.numpy as anp
    from autograd import elementwise_grad
    f = _nested(elementwise_grad, _tanh(anp))
    return lambda: f(POINTS)


@register("H1", "fastgrad", unit="call", variant="hvp")
def fastgrad_hvp():
    import fastgrad.numpy as fnp
    from fastgrad import hessian_tensor_product
    w, x, t = _flat_example()
    hvp = hessian_tensor_product(lambda w: _w2_loss(fnp, w, x, t))
    return lambda: hvp(w, VECTOR)


@register("H1", "autograd", unit="call", variant="hvp", requires=("autograd",))
def autograd_hvp():
    import autograd.numpy as anp
    from autograd import hessian_tensor_product
    w, x, t = _flat_example()
    hvp = hessian_tensor_product(lambda w: _w2_loss(anp, w, x, t))
    return lambda: hvp(w, VECTOR)


def _jax_hvp():
    import jax
    import jax.numpy as jnp
    jax.config.update("jax_enable_x64", True)
    w, x, t = _flat_example()
    grad = jax.grad(lambda w: _w2_loss(jnp, w, x, t))
    return jax.jit(lambda w, v: jax.jvp(grad, (w,), (v,))[1]), w


@register("H1", "jax.jit", unit="call", variant="hvp", requires=("jax",))
def jax_hvp():
    hvp, w = _jax_hvp()
    hvp(w, VECTOR).block_until_ready()
    return lambda: hvp(w, VECTOR).block_until_ready()


@register("H1", "fastgrad", unit="call", variant="hvp-reuse")
def fastgrad_hvp_reuse():
    import fastgrad.numpy as fnp
    from fastgrad import make_hvp
    w, x, t = _flat_example()
    hvp, _ = make_hvp(lambda w: _w2_loss(fnp, w, x, t))(w)
    return lambda: hvp(VECTOR)


@register("H1", "autograd", unit="call", variant="hvp-reuse", requires=("autograd",))
def autograd_hvp_reuse():
    import autograd.numpy as anp
    from autograd import make_hvp
    w, x, t = _flat_example()
    hvp, _ = make_hvp(lambda w: _w2_loss(anp, w, x, t))(w)
    return lambda: hvp(VECTOR)
