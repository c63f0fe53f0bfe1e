"""Composite functions (``import tinygrad_edu.functional as F``), with ``torch.nn.functional``'s signatures.

Nothing here has backward code: each function is a few primitives from ``ops.py``, so its gradient
follows from theirs by the chain rule.
"""
from __future__ import annotations

import math

from ._checks import probability
from .backend import use_backend
from .errors import ShapeError
from .tensor import Tensor, where


def _on_backend_of(t: Tensor):
    """``with _on_backend_of(t):`` the tensors a helper makes live where its input ``t`` lives,
    whichever backend is current."""
    return use_backend(t.backend)


def relu(input: Tensor) -> Tensor:
    """max(x, 0), elementwise."""
    return input.relu()


def gelu(input: Tensor, approximate: str = "tanh") -> Tensor:
    """GPT-2's GELU, a smooth ReLU (its formula and derivative: ``ops.GELU``). Only the tanh approximation
    is provided."""
    if approximate != "tanh":
        raise ValueError(f"gelu: approximate={approximate!r} is not supported; tinygrad_edu's gelu is the "
                         "tanh approximation (approximate='tanh')")
    return input.gelu()


def sigmoid(input: Tensor) -> Tensor:
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    return input.tanh()


def logsumexp(input: Tensor, dim, keepdim: bool = False) -> Tensor:
    """log Σ exp(x), computed as m + log Σ exp(x − m) with m = max x, so exp never overflows.

    m is detached: the result does not depend on it (it cancels), so no gradient needs to flow through it.
    An infinite m is replaced by 0 (as PyTorch does), since x − m would be ∞ − ∞ = nan: all −∞ then gives
    −∞ and a +∞ gives +∞. The gradient is softmax(x), finite wherever PyTorch's is (0 at a −∞ element)."""
    m = input.max(dim, keepdim=True).detach()
    m = where(m.abs() == math.inf, 0.0, m)
    out = m + (input - m).exp().sum(dim, keepdim=True).log()
    return out if keepdim else out.squeeze(dim)


def softmax(input: Tensor, dim: int = -1) -> Tensor:
    """exp(xᵢ) / Σⱼ exp(xⱼ) along ``dim``: positive, sums to 1. Shifted by the max for stability."""
    shifted = (input - input.max(dim, keepdim=True).detach()).exp()
    return shifted / shifted.sum(dim, keepdim=True)


def log_softmax(input: Tensor, dim: int = -1) -> Tensor:
    """xᵢ − logsumexp(x): the log of softmax without ever taking log of a tiny number."""
    return input - logsumexp(input, dim, keepdim=True)


def one_hot(target: Tensor, num_classes: int) -> Tensor:
    """float64 rows with a 1 at each target index (no gradient)."""
    indices = target.tolist()
    indices = indices if isinstance(indices, list) else [indices]
    for i in indices:
        if not 0 <= i < num_classes:
            raise ValueError(f"one_hot: target {i} is out of range for {num_classes} classes")
    with _on_backend_of(target):
        return Tensor([[1.0 if j == i else 0.0 for j in range(num_classes)] for i in indices])


def cross_entropy(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """−log softmax(logits)[target], averaged over the batch.

    ``input``: logits of shape (N, C) (or (C,) for one example); ``target``: int64 class indices (N,) (or ())."""
    if not isinstance(target, Tensor):
        with _on_backend_of(input):
            target = Tensor(target)
    if target.dtype != "int64":
        raise TypeError(f"cross_entropy: target must hold int64 class indices, got {target.dtype}")
    one_example = input.ndim == 1
    if one_example:
        input, target = input.unsqueeze(0), target.reshape(1)
    if input.ndim != 2 or target.shape != input.shape[:1]:
        raise ShapeError(f"cross_entropy: logits {input.shape} and targets {target.shape} do not match; "
                         "expected logits (N, C) and targets (N,)")
    picked = (log_softmax(input, dim=1) * one_hot(target, input.shape[1])).sum(dim=1)
    losses = -picked.squeeze(0) if one_example else -picked     # one example, one loss: shape (), as PyTorch
    return _reduce(losses, reduction, "cross_entropy")


def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Mean of (input − target)²."""
    if not isinstance(target, Tensor):
        with _on_backend_of(input):
            target = Tensor(target)
    if input.shape != target.shape:
        raise ShapeError(f"mse_loss: input {input.shape} and target {target.shape} must have the same shape")
    diff = input - target
    return _reduce(diff * diff, reduction, "mse_loss")


def _reduce(losses: Tensor, reduction: str, op: str) -> Tensor:
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    if reduction == "none":
        return losses
    raise ValueError(f"{op}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """(x − mean) / √(var + eps) over the last ``len(normalized_shape)`` axes (biased variance), then
    ``* weight + bias``."""
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    if input.shape[input.ndim - len(normalized_shape):] != normalized_shape:
        raise ShapeError(f"layer_norm: normalized_shape {normalized_shape} does not match the end of "
                         f"input shape {input.shape}")
    dims = tuple(range(input.ndim - len(normalized_shape), input.ndim))
    centered = input - input.mean(dims, keepdim=True)
    variance = (centered * centered).mean(dims, keepdim=True)
    out = centered / (variance + eps).sqrt()
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """x Wᵀ + b, with W of shape (out_features, in_features) as in PyTorch."""
    out = input @ weight.T
    return out + bias if bias is not None else out


def dropout(input: Tensor, p: float = 0.5, training: bool = True, generator=None) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1 − p) (only when training).

    p = 1 zeroes everything: the output is input · 0 and so is the gradient (as PyTorch), not the
    1/(1 − p) = ∞ that the general formula would put in the gradient."""
    p = probability("dropout", "p", p)
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0.0
    with _on_backend_of(input):
        keep = Tensor.rand(*input.shape, generator=generator) >= p
    return where(keep, input / (1.0 - p), 0.0)


__all__ = ["relu", "gelu", "sigmoid", "tanh", "logsumexp", "softmax", "log_softmax", "one_hot",
           "cross_entropy", "mse_loss", "layer_norm", "linear", "dropout"]
