"""The fused dense layer's activations and input checks, shared by fastgrad._cy.dense and its
twin fastgrad._py.dense."""
import numpy as np

ACT_NONE, ACT_TANH, ACT_RELU, ACT_SIGMOID = range(4)
ACTIVATIONS = {None: ACT_NONE, "none": ACT_NONE, "linear": ACT_NONE, "tanh": ACT_TANH,
               "relu": ACT_RELU, "sigmoid": ACT_SIGMOID}


ACTIVATION_NAMES = ("none", "tanh", "relu", "sigmoid")  # indexed by code


def activation_code(activation):
    """The code of an activation given by name (None means none)."""
    try:
        return ACTIVATIONS[activation]
    except (KeyError, TypeError):
        raise ValueError(f"dense: unknown activation {activation!r}; expected one of "
                         f"None, 'tanh', 'relu', 'sigmoid'") from None


def check_dense(X, W, B):
    """Raise naming the shapes/dtypes unless x (..., in), W (in, out), b (out,) fit together."""
    dtypes = {X.dtype, W.dtype} | ({B.dtype} if B is not None else set())
    if len(dtypes) > 1:
        given = f"x {X.dtype}, W {W.dtype}" + (f", b {B.dtype}" if B is not None else "")
        raise TypeError(f"dense: x, W and b must have one dtype, got {given}; cast with "
                        f".astype()")
    if X.dtype not in (np.float32, np.float64):
        raise TypeError(f"dense: unsupported dtype {X.dtype}; use float32 or float64")
    if W.ndim != 2:
        raise ValueError(f"dense: W must be 2-D (in, out), got shape {W.shape}")
    if X.ndim == 0 or X.shape[-1] != W.shape[0]:
        raise ValueError(f"dense: x of shape {X.shape} does not fit W of shape {W.shape}: "
                         f"x's last axis must be W's first ({W.shape[0]})")
    if B is not None and B.shape != (W.shape[1],):
        raise ValueError(f"dense: b must have shape ({W.shape[1]},) for W of shape {W.shape}, "
                         f"got {B.shape}")
