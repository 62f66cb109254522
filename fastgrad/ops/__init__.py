"""The op table: every primitive, one entry each, and the public functions made from it.

Each public function (``fastgrad.tanh``, ``fastgrad.tan``, ...) is either the active backend's
compiled kernel (or its Python twin) named by the entry, or, for an entry without a kernel, a
function that runs the entry's numpy forward and records it. ``dot`` is the one composite
(matmul, or multiply for scalars). Each accepts Tensors, arrays and Python scalars, broadcasts
like numpy and returns a Tensor.

``python -m fastgrad.ops`` prints the table: every op with its forward, VJP and JVP, and which
ones have compiled kernels. See fastgrad/ops/table.py for what an entry holds.
"""
import numpy as _np

from .. import _backend
from . import compiled as _compiled  # noqa: F401  (registers the entries with kernels)
from . import complex_ops as _complex_ops  # noqa: F401  (complex values: real, imag, ...)
from . import fft_ops as _fft_ops  # noqa: F401  (numpy.fft's entries)
from . import linalg_ops as _linalg_ops  # noqa: F401  (numpy.linalg's entries)
from . import numpy_ops as _numpy_ops  # noqa: F401  (registers fastgrad.numpy's primitives)
from . import odeint_ops as _odeint_ops  # noqa: F401  (scipy.integrate.odeint's entry)
from . import python as _python
from . import scipy_linalg_ops as _scipy_linalg_ops  # noqa: F401  (scipy.linalg's entries)
from . import special_ops as _special_ops  # noqa: F401  (scipy.special's entries)
from .table import BY_CODE, FUNCTIONS, OPS, Op, register  # noqa: F401


def _public(op, bk):
    if op.kernel is not None:
        module, attr = op.kernel
        return getattr(getattr(bk, module), attr)
    return _python.FUNCTIONS_BY_NAME[op.function]


def functions(bk):
    """name -> public function, on backend ``bk`` (derived from the table)."""
    made = {name: _public(op, bk) for name, op in FUNCTIONS.items()}
    made["dot"] = bk.linalg.dot
    return made


# numpy ufunc name -> entry, for the entries numpy has as a ufunc of the same arity: the numpy
# face and ``np.<ufunc>(tensor)`` route to them
UFUNC_OPS = {op.numpy: op for op in OPS.values()
             if op.numpy is not None and op.function is not None
             and isinstance(getattr(_np, op.numpy, None), _np.ufunc)
             and getattr(_np, op.numpy).nin == op.nargs}


def ufunc_functions(bk):
    """numpy ufunc name -> the public function on backend ``bk`` (from UFUNC_OPS)."""
    made = functions(bk)
    return {name: made[op.function] for name, op in UFUNC_OPS.items()}


globals().update(functions(_backend.active))

__all__ = sorted(functions(_backend.active))  # noqa: PLE0605
