"""Optimizers: SGD, Adam, AdamW, and two learning-rate schedules.

An optimizer holds the parameters and, after ``loss.backward()`` has filled every ``.grad``,
``step()`` moves each parameter a little against its gradient. ``zero_grad()`` clears the
gradients before the next backward (they accumulate otherwise, as in PyTorch).

    opt = optim.Adam(model.named_parameters(), lr=1e-2)
    for step in range(steps):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

``params`` is an iterable of Tensors or of (name, Tensor) pairs; the names appear in traces
(without names, a parameter's own ``.name`` is used). When a trace is recording, every update is
reported to it with the rule, the value before, the gradient and the value after.

Updates work on the parameters' arrays directly, outside the graph: an update is not something
to differentiate.
"""
from __future__ import annotations

import math

from tinygrad_edu import autograd
from tinygrad_edu._checks import integer, number
from tinygrad_edu.tensor import Tensor

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "LRScheduler", "StepLR", "CosineLR", "clip_grad_norm_"]


def _named_params(owner: str, params) -> list[tuple[str, Tensor]]:
    """``params`` as (name, parameter) pairs, each parameter once, every one a leaf that requires grad.

    As in PyTorch, a single tensor is refused (iterating it would give its rows, not the tensor):
    pass a list. PyTorch only warns about a parameter given twice; here it is an error, because the
    parameter would take two steps per ``step()``.
    """
    if isinstance(params, Tensor):
        raise TypeError(f"{owner}: params must be an iterable of Tensors or (name, Tensor) pairs, got a single "
                        f"Tensor of shape {tuple(params.shape)}; pass a list: {owner}([w], ...)")
    if isinstance(params, dict):
        raise TypeError(f"{owner}: params must be an iterable of Tensors or (name, Tensor) pairs, got a dict; "
                        "pass model.named_parameters() or the_dict.items()")
    if hasattr(params, "named_parameters") and callable(params.named_parameters):
        raise TypeError(f"{owner}: params must be an iterable of Tensors or (name, Tensor) pairs, got the module "
                        f"{type(params).__name__} itself; pass model.named_parameters() or model.parameters()")
    if isinstance(params, (str, bytes)) or not hasattr(params, "__iter__"):
        raise TypeError(f"{owner}: params must be an iterable of Tensors or (name, Tensor) pairs, "
                        f"got {type(params).__name__}")
    pairs, first_seen = [], {}
    for i, item in enumerate(params):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Tensor):
            name, param = item
            if not isinstance(name, str):
                raise TypeError(f"{owner}: the name of the parameter at position {i} must be a string, "
                                f"got {type(name).__name__} {name!r}")
        elif isinstance(item, Tensor):
            name, param = (item.name or f"param{i}"), item
        elif isinstance(item, dict):
            raise TypeError(f"{owner}: parameter groups (dicts) are not supported; give Tensors or "
                            f"(name, Tensor) pairs (got a dict at position {i})")
        else:
            raise TypeError(f"{owner}: params must be Tensors or (name, Tensor) pairs, "
                            f"got {type(item).__name__} at position {i}")
        if not param.requires_grad:
            raise ValueError(f"{owner}: parameter {name!r} does not require grad")
        if not param.is_leaf:
            raise ValueError(f"{owner}: parameter {name!r} is not a leaf (an op computed it, so it keeps no "
                             "gradient); optimize the tensor it was computed from")
        if id(param) in first_seen:
            j, first_name = first_seen[id(param)]
            raise ValueError(f"{owner}: the same parameter is given twice, as {first_name!r} (position {j}) and "
                             f"{name!r} (position {i}); it would take two steps per step()")
        first_seen[id(param)] = (i, name)
        pairs.append((str(name), param))
    if not pairs:
        raise ValueError(f"{owner}: got an empty parameter list")
    return pairs


class Optimizer:
    """Base class: keeps ``(name, parameter)`` pairs, the learning rate ``lr`` and per-parameter state."""

    rule = ""

    def __init__(self, params, lr: float):
        owner = type(self).__name__
        self.named_params = _named_params(owner, params)
        self.lr = number(owner, "lr", lr, low=0.0, low_open=True)
        self.initial_lr = self.lr
        self.state: dict[int, dict] = {}
        self.steps = 0

    @property
    def params(self) -> list[Tensor]:
        return [p for _, p in self.named_params]

    def zero_grad(self) -> None:
        """Clear every parameter's ``.grad`` (set it to None)."""
        for _, p in self.named_params:
            p.grad = None

    def step(self) -> None:
        """Update every parameter that has a gradient."""
        self.steps += 1
        recording = autograd.get_recorder() is not None
        for name, param in self.named_params:
            if param.grad is None:
                continue
            before = param.data
            grad = param.grad.data
            after = self.update(param, before, grad, self.state.setdefault(id(param), {}))
            param.data = after
            if recording:
                autograd.record_update(param, name, self.describe(), before, grad, after)

    def update(self, param: Tensor, w, g, state: dict):
        """The new value of one parameter from its value ``w`` and gradient ``g`` (backend arrays)."""
        raise NotImplementedError

    def describe(self) -> str:
        """The update rule with this optimizer's numbers, for traces."""
        return self.rule

    def state_dict(self) -> dict:
        return {"lr": self.lr, "steps": self.steps}


class SGD(Optimizer):
    """Stochastic gradient descent, with optional momentum and weight decay (PyTorch's form):

        g ← g + λ·w                (weight decay λ)
        b ← μ·b + g                (momentum μ; b starts as g)
        w ← w − lr·b               (w ← w − lr·g without momentum)
    """

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.0, weight_decay: float = 0.0):
        super().__init__(params, lr)
        self.momentum = number("SGD", "momentum", momentum, low=0.0)
        self.weight_decay = number("SGD", "weight_decay", weight_decay, low=0.0)

    def update(self, param, w, g, state):
        if self.weight_decay:
            g = g + w * self.weight_decay
        if self.momentum:
            buf = state.get("momentum")
            buf = g if buf is None else buf * self.momentum + g
            state["momentum"] = buf
            g = buf
        return w - g * self.lr

    def describe(self) -> str:
        parts = []
        if self.weight_decay:
            parts.append(f"g ← g + {self.weight_decay:g}·w")
        if self.momentum:
            parts.append(f"b ← {self.momentum:g}·b + g")
            parts.append(f"w ← w − {self.lr:g}·b")
        else:
            parts.append(f"w ← w − {self.lr:g}·g")
        return ";  ".join(parts)


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015): a step per parameter scaled by running averages of g and g².

        m ← β₁·m + (1 − β₁)·g            v ← β₂·v + (1 − β₂)·g²
        m̂ = m / (1 − β₁ᵗ)                v̂ = v / (1 − β₂ᵗ)          (t = this parameter's step count)
        w ← w − lr · m̂ / (√v̂ + ε)

    ``weight_decay`` λ adds λ·w to g first (L2 regularisation, PyTorch's Adam); AdamW decouples it.
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0):
        super().__init__(params, lr)
        owner = type(self).__name__
        if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
            raise TypeError(f"{owner}: betas must be a pair of numbers in [0, 1) such as (0.9, 0.999), got {betas!r}")
        self.betas = (number(owner, "betas[0]", betas[0], low=0.0, high=1.0, high_open=True),
                      number(owner, "betas[1]", betas[1], low=0.0, high=1.0, high_open=True))
        self.eps = number(owner, "eps", eps, low=0.0)
        self.weight_decay = number(owner, "weight_decay", weight_decay, low=0.0)

    def update(self, param, w, g, state):
        b1, b2 = self.betas
        if self.weight_decay:
            g = g + w * self.weight_decay
        t = state.get("t", 0) + 1
        m = g * (1 - b1) if t == 1 else state["m"] * b1 + g * (1 - b1)
        v = g * g * (1 - b2) if t == 1 else state["v"] * b2 + g * g * (1 - b2)
        state.update(t=t, m=m, v=v)
        m_hat = m * (1.0 / (1 - b1 ** t))
        v_hat = v * (1.0 / (1 - b2 ** t))
        return w - m_hat * self.lr / (v_hat.sqrt() + self.eps)

    def describe(self) -> str:
        b1, b2 = self.betas
        decay = f"g ← g + {self.weight_decay:g}·w;  " if self.weight_decay else ""
        return (f"{decay}m ← {b1:g}·m + {1 - b1:g}·g;  v ← {b2:g}·v + {1 - b2:g}·g²;  "
                f"w ← w − {self.lr:g}·m̂/(√v̂ + {self.eps:g})")


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019):

        w ← w − lr·λ·w,   then the Adam step on the unchanged gradient.
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.01):
        super().__init__(params, lr, betas, eps, weight_decay=0.0)
        self.decoupled_weight_decay = number("AdamW", "weight_decay", weight_decay, low=0.0)

    def update(self, param, w, g, state):
        if self.decoupled_weight_decay:
            w = w * (1 - self.lr * self.decoupled_weight_decay)
        return super().update(param, w, g, state)

    def describe(self) -> str:
        return f"w ← w − {self.lr:g}·{self.decoupled_weight_decay:g}·w;  " + super().describe()


# ---------------------------------------------------------------------------------- schedules
class LRScheduler:
    """Sets ``optimizer.lr`` from the step count. Call ``step()`` once per optimizer step."""

    def __init__(self, optimizer: Optimizer):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: optimizer must be an Optimizer (SGD, Adam, AdamW), "
                            f"got {type(optimizer).__name__}")
        self.optimizer = optimizer
        self.base_lr = optimizer.initial_lr
        self.last_step = 0
        optimizer.lr = self.lr_at(0)

    def lr_at(self, step: int) -> float:
        raise NotImplementedError

    def step(self) -> float:
        self.last_step += 1
        self.optimizer.lr = self.lr_at(self.last_step)
        return self.optimizer.lr


class StepLR(LRScheduler):
    """lr = base_lr · gamma^(step // step_size)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        self.step_size = integer("StepLR", "step_size", step_size, minimum=1)
        self.gamma = number("StepLR", "gamma", gamma, low=0.0)
        super().__init__(optimizer)

    def lr_at(self, step: int) -> float:
        return self.base_lr * self.gamma ** (step // self.step_size)


class CosineLR(LRScheduler):
    """Linear warm-up from 0 over ``warmup_steps``, then a half cosine from base_lr down to ``min_lr``:

        lr(t) = min_lr + (base_lr − min_lr) · (1 + cos(π · (t − warmup) / (total − warmup))) / 2
    """

    def __init__(self, optimizer: Optimizer, total_steps: int, warmup_steps: int = 0, min_lr: float = 0.0):
        total_steps = integer("CosineLR", "total_steps", total_steps, minimum=1)
        warmup_steps = integer("CosineLR", "warmup_steps", warmup_steps, minimum=0)
        if warmup_steps >= total_steps:
            raise ValueError(f"CosineLR: need 0 <= warmup_steps < total_steps, got {warmup_steps}, {total_steps}")
        min_lr = number("CosineLR", "min_lr", min_lr, low=0.0)
        base_lr = getattr(optimizer, "initial_lr", None)
        if base_lr is not None and min_lr > base_lr:
            raise ValueError(f"CosineLR: min_lr must be at most the optimizer's lr {base_lr:g}, got {min_lr:g}")
        self.total_steps, self.warmup_steps, self.min_lr = total_steps, warmup_steps, min_lr
        super().__init__(optimizer)

    def lr_at(self, step: int) -> float:
        if step < self.warmup_steps:
            return self.base_lr * (step + 1) / self.warmup_steps
        progress = min(1.0, (step - self.warmup_steps) / (self.total_steps - self.warmup_steps))
        return self.min_lr + (self.base_lr - self.min_lr) * 0.5 * (1 + math.cos(math.pi * progress))


def clip_grad_norm_(params, max_norm: float) -> float:
    """Scale all gradients together so their joint L2 norm is at most ``max_norm``; returns the norm before.

    ``params``: one Tensor (as in PyTorch), or an iterable of Tensors or (name, Tensor) pairs.
    """
    max_norm = number("clip_grad_norm_", "max_norm", max_norm, low=0.0, low_open=True, finite=False)
    if isinstance(params, Tensor):
        params = [params]
    if isinstance(params, (str, bytes, dict)) or not hasattr(params, "__iter__"):
        raise TypeError(f"clip_grad_norm_: params must be a Tensor or an iterable of Tensors, got {type(params).__name__}")
    tensors = [p[1] if isinstance(p, tuple) and len(p) == 2 else p for p in params]
    for i, p in enumerate(tensors):
        if not isinstance(p, Tensor):
            raise TypeError(f"clip_grad_norm_: params must be Tensors, got {type(p).__name__} at position {i}")
    grads = [p.grad for p in tensors if p.grad is not None]
    total = math.sqrt(sum((g * g).sum().item() for g in grads))
    if total > max_norm:
        scale = max_norm / (total + 1e-12)
        for p in tensors:
            if p.grad is not None:
                p.grad = Tensor(p.grad.data * scale)
    return total
