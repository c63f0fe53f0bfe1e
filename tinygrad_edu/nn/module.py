"""`Module` and `Parameter`: the bookkeeping that turns tensors into a model.

A `Module` is an object whose attributes may be `Parameter`s (tensors to learn) or other
`Module`s (its children). Setting such an attribute registers it, so

    model.parameters()            every Parameter, depth first, each once
    model.named_parameters()      (dotted name, Parameter) pairs: "block.up.weight"
    model.state_dict()            {dotted name: Tensor}, what a checkpoint stores
    model.load_state_dict(sd)     copies values back, checking names and shapes

all work without the module listing anything by hand. `model(x)` calls `model.forward(x)`.
The names and behaviour follow PyTorch's `torch.nn.Module`, so what is learned here carries over.

Forward hooks let you look inside (or change) a model while it runs, without editing it:

    handle = model.block.act.register_forward_hook(lambda module, args, output: print(output))
    model(x)                      # prints the neurons after ReLU
    handle.remove()               # or: with model.block.act.register_forward_hook(...): ...

A hook fires only when the module is *called* (``module(x)``), not when a parent calls one of its
methods (``module.forward(x)``, ``mlp.delta(x)``). With no hook registered, calling a module costs
one extra test of two empty dicts (``tinygrad-edu bench`` measures it).
"""
from __future__ import annotations

import itertools
import warnings
import weakref
from collections import OrderedDict
from typing import Callable, Iterator

import tinygrad_edu as tg
from tinygrad_edu import Tensor, autograd
from tinygrad_edu.backend import backend_of

__all__ = ["Module", "Parameter", "StateDictError", "RemovableHandle"]


class StateDictError(KeyError, ValueError):
    """`load_state_dict` got missing or unexpected keys, or a tensor of the wrong shape."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0]) if self.args else ""


class RemovableHandle:
    """What ``register_forward_hook`` and ``register_forward_pre_hook`` return (as in PyTorch).

    ``handle.remove()`` takes the hook out (removing twice is harmless); ``with handle: ...`` removes
    it when the block ends, even on an error. ``handle.id`` is unique among all hooks ever registered.
    The handle refers to the module's hook tables weakly, so it does not keep a deleted module alive.
    """

    _ids = itertools.count()

    def __init__(self, hooks: OrderedDict, *, extra: tuple = ()):
        self.id = next(RemovableHandle._ids)
        self._tables = tuple(weakref.ref(table) for table in (hooks, *extra))

    def remove(self) -> None:
        for ref in self._tables:
            table = ref()
            if table is not None:
                table.pop(self.id, None)

    def __enter__(self) -> "RemovableHandle":
        return self

    def __exit__(self, *exc_info) -> None:
        self.remove()

    def __repr__(self) -> str:
        table = self._tables[0]()
        state = "registered" if table is not None and self.id in table else "removed"
        return f"<RemovableHandle id={self.id} {state}>"


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
        # Forward hooks, keyed by handle id in firing order (PyTorch's names). The flag tables say
        # which hooks take kwargs or must run even when forward raises.
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks_with_kwargs", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks_with_kwargs", OrderedDict())
        object.__setattr__(self, "_forward_hooks_always_called", OrderedDict())

    # ------------------------------------------------------------------ registration
    def __setattr__(self, name: str, value) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"{type(self).__name__}: call super().__init__() before setting attribute {name!r}")
        params, modules = self.__dict__["_parameters"], self.__dict__["_modules"]
        # As in PyTorch, a parameter's (or child module's) place takes only another Parameter (Module)
        # or None: a plain tensor there would silently drop out of parameters(), state_dict() and checkpoints.
        if name in params and value is not None and not isinstance(value, Parameter):
            raise TypeError(f"{type(self).__name__}: cannot assign '{type(value).__name__}' as parameter {name!r} "
                            "(Parameter or None expected; nn.Parameter(value) makes a new parameter)")
        if name in modules and value is not None and not isinstance(value, Module):
            raise TypeError(f"{type(self).__name__}: cannot assign '{type(value).__name__}' as child module "
                            f"{name!r} (Module or None expected)")
        if value is not None and (params.get(name) is value or modules.get(name) is value):
            return          # the same object again (m.weight += 1 assigns it back): keep its place and order
        was_parameter = name in params
        # An attribute lives in exactly one place: forget any earlier registration under this name.
        params.pop(name, None)
        modules.pop(name, None)
        self.__dict__.pop(name, None)
        if isinstance(value, Parameter) or (value is None and was_parameter):
            params[name] = value          # None keeps the place, as PyTorch's does (parameters() skips it)
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
        _check_name(f"{type(self).__name__}.register_parameter", "parameter", name)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"{type(self).__name__}.register_parameter: {name!r} must be a Parameter, "
                            f"got {type(param).__name__}")
        setattr(self, name, param)

    def add_module(self, name: str, module: "Module") -> None:
        """Register ``module`` as a child under ``name``."""
        _check_name(f"{type(self).__name__}.add_module", "module", name)
        if not isinstance(module, Module):
            raise TypeError(f"{type(self).__name__}.add_module: {name!r} must be a Module, "
                            f"got {type(module).__name__}")
        setattr(self, name, module)

    # ------------------------------------------------------------------ calling
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        if self._forward_pre_hooks or self._forward_hooks:   # the only cost when nothing is hooked
            return self._call_with_hooks(args, kwargs)
        return self.forward(*args, **kwargs)

    # ------------------------------------------------------------------ forward hooks
    def register_forward_pre_hook(self, hook: Callable, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Call ``hook(module, args)`` every time before ``forward`` runs; returns a `RemovableHandle`.

        ``args`` is the tuple of positional arguments (keyword arguments go to forward only). The hook
        may return None (keep the arguments), a tuple (the new positional arguments) or any other
        single value, which is wrapped into a one-element tuple.

        ``with_kwargs=True``: the hook is ``hook(module, args, kwargs)`` and must return None or a
        pair ``(new_args, new_kwargs)``. Hooks fire in the order they were registered;
        ``prepend=True`` puts this one before all others on the module.
        """
        _check_hook(self, "register_forward_pre_hook", hook)
        handle = RemovableHandle(self._forward_pre_hooks, extra=(self._forward_pre_hooks_with_kwargs,))
        self._forward_pre_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_pre_hooks_with_kwargs[handle.id] = True
        if prepend:
            self._forward_pre_hooks.move_to_end(handle.id, last=False)
        return handle

    def register_forward_hook(self, hook: Callable, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """Call ``hook(module, args, output)`` every time after ``forward`` has run; returns a `RemovableHandle`.

        ``args`` are the positional arguments forward received (after any pre-hook replaced them). A
        hook that returns something other than None replaces the output: later hooks and the caller
        see the new value.

        ``with_kwargs=True``: the hook is ``hook(module, args, kwargs, output)``. ``prepend=True``
        fires it before the hooks already registered (otherwise registration order).
        ``always_call=True``: it also runs when forward (or a pre-hook, or an earlier hook) raises,
        with ``output`` None if there was none yet; an error it raises then becomes a warning and the
        original error propagates.
        """
        _check_hook(self, "register_forward_hook", hook)
        handle = RemovableHandle(self._forward_hooks, extra=(self._forward_hooks_with_kwargs,
                                                             self._forward_hooks_always_called))
        self._forward_hooks[handle.id] = hook
        if with_kwargs:
            self._forward_hooks_with_kwargs[handle.id] = True
        if always_call:
            self._forward_hooks_always_called[handle.id] = True
        if prepend:
            self._forward_hooks.move_to_end(handle.id, last=False)
        return handle

    def _call_with_hooks(self, args: tuple, kwargs: dict):
        """``__call__`` when at least one hook is registered: pre-hooks, forward, hooks (PyTorch's order)."""
        output = None
        called = set()          # the always_call hooks that already ran
        try:
            for hook_id, hook in tuple(self._forward_pre_hooks.items()):
                if hook_id in self._forward_pre_hooks_with_kwargs:
                    result = hook(self, args, kwargs)
                    if result is not None:
                        if not (isinstance(result, tuple) and len(result) == 2):
                            raise RuntimeError(
                                f"{type(self).__name__}: a forward pre-hook registered with with_kwargs=True must "
                                f"return None or a pair (new_args, new_kwargs), got {type(result).__name__}")
                        args, kwargs = result
                else:
                    result = hook(self, args)
                    if result is not None:
                        args = result if isinstance(result, tuple) else (result,)
            output = self.forward(*args, **kwargs)
            for hook_id, hook in tuple(self._forward_hooks.items()):
                if hook_id in self._forward_hooks_always_called:
                    called.add(hook_id)
                if hook_id in self._forward_hooks_with_kwargs:
                    result = hook(self, args, kwargs, output)
                else:
                    result = hook(self, args, output)
                if result is not None:
                    output = result
            return output
        except Exception:
            for hook_id, hook in tuple(self._forward_hooks.items()):
                if hook_id not in self._forward_hooks_always_called or hook_id in called:
                    continue
                try:
                    if hook_id in self._forward_hooks_with_kwargs:
                        result = hook(self, args, kwargs, output)
                    else:
                        result = hook(self, args, output)
                    if result is not None:
                        output = result
                except Exception as error:
                    warnings.warn(f"{type(self).__name__}: a forward hook registered with always_call=True raised "
                                  f"{type(error).__name__}: {error} (silenced: forward had already failed)",
                                  stacklevel=2)
            raise

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
        if not isinstance(mode, bool):
            raise ValueError(f"{type(self).__name__}.train: mode must be True or False, got {mode!r}")
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
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"{type(self).__name__}.load_state_dict: expected a mapping of names to tensors "
                            f"(what state_dict() returns), got {type(state_dict).__name__}")
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


def _check_hook(module: Module, method: str, hook) -> None:
    if not callable(hook):
        raise TypeError(f"{type(module).__name__}.{method}: the hook must be callable "
                        f"(module, args, ...) -> ..., got {type(hook).__name__}")


def _assign(param: Tensor, value: Tensor) -> None:
    """Replace the numbers of ``param`` with those of ``value`` (same shape), outside any graph.

    The parameter stays on its own backend, whichever backend ``value`` lives on."""
    value = value.detach()
    if value.dtype != param.dtype:
        value = value.to(param.dtype)
    if value.backend != param.backend:
        home = backend_of(param.data)
        param.data = home.from_flat(list(value.data.flat()), tuple(value.shape), param.dtype)
    else:
        # Its own storage (changing one model in place leaves the other), copied out of sight of a
        # trace that is recording: loading weights is not a step of the computation.
        previous = autograd.set_recorder(None)
        try:
            param.data = value.clone().data
        finally:
            autograd.set_recorder(previous)
    param.grad = None


def _check_name(where: str, kind: str, name) -> None:
    """A name a module can register: a non-empty string without dots (as PyTorch requires)."""
    if not isinstance(name, str):
        raise TypeError(f"{where}: the {kind} name must be a string, got {type(name).__name__} {name!r}")
    if not name or "." in name:
        raise KeyError(f"{where}: the {kind} name must be non-empty and contain no '.', got {name!r} "
                       "(dots separate the levels of dotted names such as block.up.weight)")
