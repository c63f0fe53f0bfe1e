"""`Module` and `Parameter`: the bookkeeping that turns tensors into a model.

A `Module` is an object whose attributes may be `Parameter`s (tensors to learn) or other
`Module`s (its children). Setting such an attribute registers it, so

    model.parameters()            every Parameter, depth first, each once
    model.named_parameters()      (dotted name, Parameter) pairs: "block.up.weight"
    model.state_dict()            {dotted name: Tensor}, what a checkpoint stores
    model.load_state_dict(sd)     copies values back, checking names and shapes

all work without the module listing anything by hand. `model(x)` calls `model.forward(x)`.
The names and behaviour follow PyTorch's `torch.nn.Module`, so what is learned here carries over.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Iterator

import tinygrad_edu as tg
from tinygrad_edu import Tensor

__all__ = ["Module", "Parameter", "StateDictError"]


class StateDictError(KeyError, ValueError):
    """`load_state_dict` got missing or unexpected keys, or a tensor of the wrong shape."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0]) if self.args else ""


class Parameter(Tensor):
    """A Tensor that a `Module` registers as learnable; `requires_grad` is True by default.

    ``Parameter(data)`` accepts anything `Tensor` accepts, or an existing Tensor (its values are
    copied into a new leaf, so the parameter never shares a graph with where it came from).
    """

    def __init__(self, data, requires_grad: bool = True, name: str | None = None):
        if isinstance(data, Tensor):
            data = data.detach().data
        super().__init__(data, requires_grad=requires_grad, name=name)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class of every layer and model.

    Subclasses set Parameters and sub-Modules as attributes in ``__init__`` and write
    ``forward``. Everything else (parameters, names, state dicts, train/eval mode, repr)
    comes from here.
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before setting attribute {name!r}")
        params, modules = self.__dict__["_parameters"], self.__dict__["_modules"]
        # An attribute lives in exactly one place: forget any earlier registration under this name.
        params.pop(name, None)
        modules.pop(name, None)
        self.__dict__.pop(name, None)
        if isinstance(value, Parameter):
            params[name] = value
        elif isinstance(value, Module):
            modules[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        # Only called when normal lookup fails: look in the registries.
        d = self.__dict__
        if "_parameters" in d and name in d["_parameters"]:
            return d["_parameters"][name]
        if "_modules" in d and name in d["_modules"]:
            return d["_modules"][name]
        raise AttributeError(f"{type(self).__name__} has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Register ``param`` under ``name`` (same as ``setattr(self, name, param)``)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"{type(self).__name__}.register_parameter: {name!r} must be a Parameter, "
                            f"got {type(param).__name__}")
        setattr(self, name, param)

    def add_module(self, name: str, module: "Module") -> None:
        """Register ``module`` as a child under ``name``."""
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}.add_module: {name!r} must be a Module, "
                            f"got {type(module).__name__}")
        setattr(self, name, module)

    # ------------------------------------------------------------------ calling
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------ traversal
    def children(self) -> Iterator["Module"]:
        """The direct sub-modules, in the order they were set."""
        return iter(self._modules.values())

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        return iter(self._modules.items())

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        """This module and every descendant, depth first, with dotted names ("" for self)."""
        seen = set()
        stack = [(prefix, self)]
        while stack:
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            kids = [(f"{name}.{k}" if name else k, m) for k, m in module._modules.items()]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator["Module"]:
        for _, m in self.named_modules():
            yield m

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """(dotted name, Parameter) pairs, each parameter once (a shared one under its first name).

        A parameter without a ``.name`` gets its dotted name, so a trace shows "block.up.weight".
        """
        seen = set()
        for mod_name, module in self.named_modules(prefix):
            for p_name, param in module._parameters.items():
                if param is None or id(param) in seen:
                    continue
                seen.add(id(param))
                full = f"{mod_name}.{p_name}" if mod_name else p_name
                if getattr(param, "name", None) is None:
                    param.name = full
                yield full, param

    def parameters(self) -> Iterator[Parameter]:
        for _, p in self.named_parameters():
            yield p

    def num_parameters(self) -> int:
        """How many numbers the model learns."""
        return sum(p.numel() for p in self.parameters())

    # ------------------------------------------------------------------ modes and gradients
    def train(self, mode: bool = True) -> "Module":
        """Set training mode on this module and every descendant (returns self)."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def zero_grad(self) -> None:
        """Forget accumulated gradients: every parameter's ``.grad`` becomes None."""
        for p in self.parameters():
            p.grad = None

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    # ------------------------------------------------------------------ state
    def state_dict(self) -> "OrderedDict[str, Tensor]":
        """{dotted name: detached Tensor} for every parameter (the values, not the graph)."""
        return OrderedDict((name, p.detach()) for name, p in self.named_parameters())

    def load_state_dict(self, state_dict, strict: bool = True) -> tuple[list[str], list[str]]:
        """Copy values from ``state_dict`` into the parameters of the same names.

        Checks every shape first, so a failed load changes nothing. With ``strict`` (the default)
        any missing or unexpected key raises `StateDictError`; otherwise the lists are returned as
        ``(missing, unexpected)``.
        """
        own = OrderedDict(self.named_parameters())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append("missing keys: " + ", ".join(missing))
            if unexpected:
                parts.append("unexpected keys: " + ", ".join(unexpected))
            raise StateDictError(f"{type(self).__name__}.load_state_dict: " + "; ".join(parts))
        updates = []
        for name, param in own.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            if not isinstance(value, Tensor):
                value = tg.tensor(value)
            if tuple(value.shape) != tuple(param.shape):
                raise StateDictError(
                    f"{type(self).__name__}.load_state_dict: {name}: checkpoint shape {tuple(value.shape)} "
                    f"differs from the model's {tuple(param.shape)}")
            updates.append((param, value))
        for param, value in updates:
            _assign(param, value)
        return missing, unexpected

    # ------------------------------------------------------------------ repr
    def extra_repr(self) -> str:
        """One line of settings shown inside the parentheses of the repr (override in layers)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        if not self._modules:
            return f"{type(self).__name__}({extra})"
        lines = [f"{type(self).__name__}("]
        if extra:
            lines.append("  " + extra)
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child}")
        lines.append(")")
        return "\n".join(lines)


def _assign(param: Tensor, value: Tensor) -> None:
    """Replace the numbers of ``param`` with those of ``value`` (same shape), outside any graph."""
    value = value.detach()
    if value.dtype != param.dtype:
        value = value.to(param.dtype)
    param.data = value.contiguous().data
    param.grad = None
