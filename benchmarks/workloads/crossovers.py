"""XO: the benchmark that sets the product crossovers in csrc/blas.pyx (typed loops vs BLAS).

For each small size m x k x n, float32 and float64, the compiled engine's dense layer (forward
and backward kernels, tanh, into preallocated arrays) and a Tensor matmul (forward + backward)
with every product forced onto fastgrad's typed loops ("fastgrad-loops") or onto BLAS
("fastgrad-blas"). The crossover is the size where the two medians meet; DENSE_LOOP_MAX_BLAS
and MATMUL_LOOP_MAX_BLAS are set from it (and the _NUMPY values from a run with
FASTGRAD_BLAS=numpy). Each call sets the thresholds and puts them back, which costs both systems
the same. Compiled only: the twin has no typed loops.
"""

import numpy as np

from .registry import QUICK, register

SIZES = ((4, 4, 4), (8, 8, 8), (16, 16, 16)) if QUICK else (
    (4, 4, 4), (6, 6, 6), (8, 8, 8), (8, 16, 8), (16, 16, 16), (32, 32, 32))
FORCED = {"fastgrad-loops": 10**12, "fastgrad-blas": 0}


def forced(system, work):
    """work() with every product on the path ``system`` names (restored afterwards)."""
    from fastgrad import _backend

    blas = _backend.active.blas
    limit = FORCED[system]

    def step():
        old = blas.set_crossovers(limit, limit)
        work()
        blas.set_crossovers(**old)
    return step


def dense_kernels(m, k, n, dtype):
    from fastgrad import _backend

    dense = _backend.active.dense
    rng = np.random.default_rng(0)
    X = rng.standard_normal((m, k)).astype(dtype)
    W = rng.standard_normal((k, n)).astype(dtype)
    b = rng.standard_normal(n).astype(dtype)
    Y, G = np.empty((m, n), dtype), np.ones((m, n), dtype)
    GZ, GX, GW, GB = np.empty_like(Y), np.empty_like(X), np.empty_like(W), np.empty_like(b)
    tanh = dense.ACTIVATIONS["tanh"]

    def work():
        dense.dense_forward(X, W, b, tanh, Y)
        dense.dense_backward(X, W, Y, G, tanh, GZ, GX, GW, GB)
    return work


def tensor_matmul(m, k, n, dtype):
    import fastgrad as fg

    rng = np.random.default_rng(0)
    a = fg.Tensor(rng.standard_normal((m, k)).astype(dtype), requires_grad=True)
    w = fg.Tensor(rng.standard_normal((k, n)).astype(dtype), requires_grad=True)

    def work():
        a.grad = w.grad = None
        (a @ w).sum().backward()
    return work


def _register(kind, make, m, k, n, dtype):
    variant = f"{kind} {np.dtype(dtype).name} {m}x{k}x{n}"
    for system in FORCED:
        def build(make=make, system=system):
            return forced(system, make(m, k, n, dtype))
        register("XO", system, variant=variant, twin=False, unit="fwd+bwd",
                 params={"mkn": m * k * n}, reference=system == "fastgrad-blas")(build)


for _m, _k, _n in SIZES:
    for _dtype in (np.float32, np.float64):
        _register("dense", dense_kernels, _m, _k, _n, _dtype)
        _register("matmul", tensor_matmul, _m, _k, _n, _dtype)
