"""Losses as Modules (the functions themselves live in `tinygrad_edu.functional`)."""
from __future__ import annotations

from tinygrad_edu import functional as F

from .module import Module

__all__ = ["MSELoss", "CrossEntropyLoss"]


class MSELoss(Module):
    """mean((prediction − target)²)."""

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        self.reduction = _reduction(type(self).__name__, reduction)

    def forward(self, prediction, target):
        return F.mse_loss(prediction, target, reduction=self.reduction)


class CrossEntropyLoss(Module):
    """−log softmax(logits)[target], averaged over the batch."""

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        self.reduction = _reduction(type(self).__name__, reduction)

    def forward(self, logits, target):
        return F.cross_entropy(logits, target, reduction=self.reduction)


def _reduction(owner: str, reduction) -> str:
    """Checked when the loss is made, so a typo surfaces before the first forward pass."""
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{owner}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return reduction
