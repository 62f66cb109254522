"""The fused losses' checks and reduction rules, shared by fastgrad._cy.losses and its twin
fastgrad._py.losses."""
import numpy as np

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction, opname):
    if reduction not in REDUCTIONS:
        raise ValueError(f"{opname}: reduction must be 'mean', 'sum' or 'none', "
                         f"got {reduction!r}")


def class_labels(target, Z, opname):
    """(labels, None) for an array of class indices, or (None, T) for probabilities / one-hot
    rows, checked against the logits Z (N, C)."""
    n, c = Z.shape
    if target.shape == (n,):
        if target.dtype.kind == "f" and not np.all(np.floor(target) == target):
            raise ValueError(f"{opname}: a 1-D target holds class indices, but it has "
                             f"non-integer values")
        # range-checked in the target's own dtype: a uint64 2**63 is not -2**63 as intp
        if n and (target.min() < 0 or target.max() >= c):
            bad = target[(target < 0) | (target >= c)][0]
            raise ValueError(f"{opname}: label {int(bad)} is out of range for {c} classes "
                             f"(logits of shape {Z.shape}, target {target.dtype})")
        return target.astype(np.intp), None
    if target.shape == (n, c):
        return None, np.ascontiguousarray(target, dtype=Z.dtype)
    raise ValueError(f"{opname}: logits of shape {Z.shape} need a target of shape ({n},) "
                     f"(class indices) or {Z.shape} (probabilities / one-hot), got "
                     f"{target.shape}")


def fits_shape(shape, P, opname):
    """Whether a target of ``shape`` needs reshaping to P's: (N,) fits P of (N, 1); other
    shapes must equal P's."""
    if shape != P.shape and not (P.ndim == 2 and P.shape[1] == 1 and shape == P.shape[:1]):
        raise ValueError(f"{opname}: input of shape {P.shape} and target of shape {shape} "
                         f"differ (a target of shape {P.shape[:1]} is accepted for an input "
                         f"of shape {P.shape[:1] + (1,)})")
    return shape != P.shape


def empty_mean_error(opname, x):
    return ValueError(f"{opname}: the mean over 0 rows is undefined (input of shape "
                      f"{tuple(x.data.shape)}); use reduction='sum' or 'none' for empty batches")


def gradient_scale(g, reduction, count):
    """The factor each loss element's gradient is multiplied by: a Python float (the output
    gradient, divided by count for a mean), or the array g itself when reduction is none."""
    if reduction == "none":
        return g
    return float(g) / count if reduction == "mean" else float(g)
