"""The op table: every primitive, one entry each, and the public functions made from it.

Each public function (``fastgrad.tanh``, ``fastgrad.tan``, ...) is either the active backend's
compiled kernel (or its Python twin) named by the entry, bound once at import, or, for an entry
without a kernel, a function that runs the entry's numpy forward and records it. ``dot`` is the one composite
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


def _public(op):
    if op.kernel is not None:
        module, attr = op.kernel
        return getattr(getattr(_backend.active, module), attr)
    return _python.FUNCTIONS_BY_NAME[op.function]


# name -> public function on the active backend (derived from the table)
PUBLIC = {name: _public(op) for name, op in FUNCTIONS.items()}
PUBLIC["dot"] = _backend.active.linalg.dot

# numpy ufunc name -> entry, for the entries numpy has as a ufunc of the same arity: the numpy
# face and ``np.<ufunc>(tensor)`` route to them
UFUNC_OPS = {op.numpy: op for op in OPS.values()
             if op.numpy is not None and op.function is not None
             and isinstance(getattr(_np, op.numpy, None), _np.ufunc)
             and getattr(_np, op.numpy).nin == op.nargs}

# numpy ufunc name -> the public function (from UFUNC_OPS)
UFUNC_FUNCTIONS = {name: PUBLIC[op.function] for name, op in UFUNC_OPS.items()}

globals().update(PUBLIC)

__all__ = sorted(PUBLIC)  # noqa: PLE0605
