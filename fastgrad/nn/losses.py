"""Losses as objects (PyTorch's names), each one fused graph node; see nn.functional.

``loss = nn.CrossEntropyLoss()(logits, labels)``. :func:`get_loss` also accepts the names
fit() takes: "cross_entropy", "bce_with_logits", "mse", "hinge".
"""
from . import functional as F
from .module import Module


class Loss(Module):
    """A loss function; ``reduction`` is "mean" (default), "sum" or "none"."""

    function = None
    classification = True  # whether evaluate() reports accuracy with this loss by default

    def __init__(self, reduction="mean"):
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"{type(self).__name__}: reduction must be 'mean', 'sum' or "
                             f"'none', got {reduction!r}")
        self.reduction = reduction

    def forward(self, input, target):
        return type(self).function(input, target, self.reduction)

    def __repr__(self):
        extras = "" if self.reduction == "mean" else f"reduction={self.reduction!r}"
        return f"{type(self).__name__}({extras})"


class CrossEntropyLoss(Loss):
    """Softmax cross-entropy from logits (N, C); targets class indices (N,) or rows (N, C)."""

    function = staticmethod(F.softmax_cross_entropy)


class BCEWithLogitsLoss(Loss):
    """Binary cross-entropy from logits; targets in [0, 1] of the logits' shape."""

    function = staticmethod(F.binary_cross_entropy_with_logits)


class MSELoss(Loss):
    """Mean squared error."""

    function = staticmethod(F.mse_loss)
    classification = False


class HingeLoss(Loss):
    """Binary hinge loss max(0, 1 - t·s), targets t in {-1, +1}."""

    function = staticmethod(F.hinge_loss)


LOSSES = {"cross_entropy": CrossEntropyLoss, "softmax_cross_entropy": CrossEntropyLoss,
          "bce_with_logits": BCEWithLogitsLoss,
          "binary_cross_entropy_with_logits": BCEWithLogitsLoss,
          "mse": MSELoss, "mse_loss": MSELoss, "hinge": HingeLoss, "hinge_loss": HingeLoss}


def get_loss(loss):
    """A loss callable from a Loss, any callable (input, target) -> scalar Tensor, or a name."""
    if isinstance(loss, str):
        try:
            return LOSSES[loss]()
        except KeyError:
            raise ValueError(f"unknown loss {loss!r}; expected a callable or one of "
                             f"{sorted(LOSSES)}") from None
    if not callable(loss):
        raise TypeError(f"loss must be callable or a name, got {type(loss).__name__}")
    return loss
