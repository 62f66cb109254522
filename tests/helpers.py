"""Finite differences and graph walking for the tests."""
import numpy as np

from fastgrad.engine import no_grad


def projection(shape, seed=7):
    """A fixed random array: tests reduce an output to sum(out * w), a VJP in direction w."""
    return np.random.default_rng(seed).standard_normal(shape)


def analytic_grads(fg, fn, arrays):
    """fn's output and d sum(out * w) / d input, by backward()."""
    leaves = [fg.Tensor(a, requires_grad=True) for a in arrays]
    out = fn(fg, *leaves)
    w = projection(out.shape).astype(out.dtype)
    (out * w).sum().backward()
    return out, [leaf.grad for leaf in leaves]


def numeric_grads(fg, fn, arrays, eps=1e-6):
    """d sum(out * w) / d input by central differences (arrays must be float64)."""
    def value(arrs):
        with no_grad():
            out = fn(fg, *[fg.Tensor(a) for a in arrs])
        return float(np.sum(out.data * projection(out.shape)))

    arrays = [np.array(a, dtype=np.float64) for a in arrays]
    grads = []
    for base in arrays:
        flat = base.reshape(-1)
        grad = np.zeros(base.size)
        for i in range(base.size):
            old = flat[i]
            flat[i] = old + eps
            up = value(arrays)
            flat[i] = old - eps
            down = value(arrays)
            flat[i] = old
            grad[i] = (up - down) / (2 * eps)
        grads.append(grad.reshape(base.shape))
    return grads


def graph_ops(root):
    """The op codes of every node that reaches root (walked iteratively)."""
    seen, stack, ops = set(), [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        ops.add(node._op)
        stack.extend(node._prev or ())
    return ops


def run_python(args, env=None, check=False, **kwargs):
    """Run ``python args...`` in a child process that imports the very fastgrad these tests
    import. ``-c`` and ``-m`` put the working directory first on sys.path, ahead of
    PYTHONPATH, and in a source checkout that is the uncompiled sources: so the child runs in
    this fastgrad's home (unless ``cwd`` is given) with that home first on PYTHONPATH. With
    ``check``, a failing child raises an AssertionError that shows its stderr."""
    import os
    import subprocess
    import sys

    import fastgrad
    home = os.path.dirname(os.path.dirname(os.path.abspath(fastgrad.__file__)))
    paths = [home] + [os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(
        os.pathsep) if p]
    child_env = dict(os.environ, **(env or {}), PYTHONPATH=os.pathsep.join(paths))
    kwargs.setdefault("cwd", home)
    result = subprocess.run([sys.executable, *args], env=child_env, capture_output=True,
                            text=True, **kwargs)
    if check and result.returncode:
        raise AssertionError(f"python {' '.join(args)} failed:\n{result.stderr}")
    return result


# numpy's own transcendentals are not correctly rounded either: its SIMD float32 loops err by up
# to 3 ulp on the CPUs we measured (tests/test_vmath.py), so an allowance of 4 ulp for numpy's side
NUMPY_ULP = 4


def kernel_tolerance(dtype, ops, spread=4):
    """assert_allclose tolerances for a compiled result that differs from its twin's only by the
    vectorised kernels ``ops`` (names in fastgrad/_py/vmath.ULP_BOUNDS): each kernel's bound plus
    numpy's allowance, in ulp, times ``spread`` for the few roundings that carry the difference
    through sums, differences and products of values of order one."""
    from fastgrad._py.vmath import ULP_BOUNDS
    name = np.dtype(dtype).name
    ulps = sum(ULP_BOUNDS[op][name] + NUMPY_ULP for op in ops)
    tol = spread * ulps * float(np.finfo(dtype).eps)
    return {"rtol": tol, "atol": tol}
