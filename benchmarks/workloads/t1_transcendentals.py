"""T1: tanh, exp, log, log1p and sigmoid of one 1797 x 64 array (the digits' shape), float64 and
float32.

"fastgrad" is the backend's elementwise function on the array (fastgrad._cy.vmath's vectorised
kernels at the dispatch level in use, FASTGRAD_SIMD lowering it; on the twin, numpy's ufunc);
"fastgrad-avx2" forces the AVX2+FMA level (compiled only; skipped where the CPU lacks AVX2). The
peers are numpy's ufuncs (for sigmoid, which numpy lacks, the twin's numpy formula), torch's and
jax.jit's (XLA). Inputs uniform in [-3, 3]; log and log1p take |x| + 0.1. One call computes one
array into a new one on every system (numpy allocates its result too: no out=).
"""

import numpy as np

from .registry import register

SHAPE = (1797, 64)
FUNCTIONS = ("tanh", "exp", "log", "log1p", "sigmoid")
DTYPES = {"f64": np.float64, "f32": np.float32}


def argument(name, dtype):
    x = np.random.default_rng(0).uniform(-3, 3, SHAPE).astype(dtype)
    return np.abs(x) + dtype(0.1) if name in ("log", "log1p") else x


def kernels():
    import fastgrad
    from fastgrad import _backend
    return _backend.load(fastgrad.BACKEND).vmath


def fastgrad_call(name, dtype, level=None):
    vm = kernels()
    f, x = getattr(vm, name), argument(name, dtype)
    if level is None:
        return lambda: f(x)
    if level not in vm.supported_levels():
        raise ImportError(f"this CPU does not run fastgrad's {level} kernels")
    set_level = vm.set_simd_level

    def call():
        old = set_level(level)
        try:
            return f(x)
        finally:
            set_level(old)

    return call


def numpy_call(name, dtype):
    if name == "sigmoid":
        from fastgrad._shared.elementwise import sigmoid_values as f
    else:
        f = getattr(np, name)
    x = argument(name, dtype)
    return lambda: f(x)


def torch_call(name, dtype):
    import torch
    from onecore import limit_torch

    limit_torch(torch)
    f, x = getattr(torch, name), torch.from_numpy(argument(name, dtype))
    return lambda: f(x)


def jax_call(name, dtype):
    import jax
    import jax.numpy as jnp

    jax.config.update("jax_enable_x64", True)  # float64 arrays stay float64
    f = jax.jit(jax.nn.sigmoid if name == "sigmoid" else getattr(jnp, name))
    x = jax.device_put(argument(name, dtype))

    def call():
        return f(x).block_until_ready()

    return call


def register_all():
    for name in FUNCTIONS:
        for tag, dtype in DTYPES.items():
            options = {"variant": f"{name} {tag}", "unit": "array",
                       "params": {"shape": "x".join(map(str, SHAPE)), "dtype": tag}}
            register("T1", "fastgrad", reference=True, **options)(
                lambda n=name, d=dtype: fastgrad_call(n, d))
            register("T1", "fastgrad-avx2", twin=False, **options)(
                lambda n=name, d=dtype: fastgrad_call(n, d, "avx2"))
            # numpy has no sigmoid: that row runs the twin's numpy formula, from fastgrad
            numpy_requires = ("fastgrad",) if name == "sigmoid" else ()
            register("T1", "numpy", requires=numpy_requires, **options)(
                lambda n=name, d=dtype: numpy_call(n, d))
            register("T1", "torch", requires=("torch",), **options)(
                lambda n=name, d=dtype: torch_call(n, d))
            register("T1", "jax.jit", requires=("jax",), **options)(
                lambda n=name, d=dtype: jax_call(n, d))


register_all()
