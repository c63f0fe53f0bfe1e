"""Tracing a student's function: ``module:function`` or ``path/to/file.py:function``.

The function is called with no arguments while a tape records. It builds and runs a computation,
and tells the trace what else to do by what it returns:

* nothing (None): whatever it ran is the trace;
* a Tensor: the loss. If the function ran no backward pass itself, the trace calls
  ``loss.backward()`` (so the backward steps are recorded too);
* a `Directions` vocabulary: every vector-valued step shows its projections onto the names;
* a tuple of those, in any order;
* a dict with any of the keys ``"loss"``, ``"directions"``, ``"modules"`` (a Module or
  ``{"prefix": module}``, whose parameters are then named from the module tree, e.g.
  ``block.up.weight``) and ``"optimizer"`` (its ``step()`` runs after the backward pass, so the
  updates are recorded as well).

Example, in ``my_neuron.py``::

    import tinygrad_edu as tg

    def neuron():
        x = tg.tensor([1.0, 2.0]).named("x")
        w = tg.tensor([0.5, -1.0], requires_grad=True).named("w")
        return (x * w).sum().relu().named("loss")

    $ tinygrad-edu trace my_neuron.py:neuron
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .recorder import DEFAULT_MAX_EVENTS, Tape, record

__all__ = ["TargetError", "AfterTargetError", "load_target", "run_target", "TargetResult"]


class TargetError(ValueError):
    """A TARGET that cannot be found or loaded, or a return value the trace cannot use."""


def _looks_like_path(module_part: str) -> bool:
    return module_part.endswith(".py") or "/" in module_part or "\\" in module_part


def load_target(spec: str) -> Callable[[], Any]:
    """The function named by ``module:function`` or ``path/to/file.py:function``."""
    module_part, sep, function_name = spec.rpartition(":")
    if not sep or not module_part or not function_name:
        raise TargetError(f"TARGET must be module:function or path/to/file.py:function, got {spec!r}")
    if _looks_like_path(module_part):
        path = Path(module_part)
        if not path.is_file():
            raise TargetError(f"TARGET {spec!r}: no file {str(path)!r}")
        module_name = f"_traced_{path.stem}_{abs(hash(str(path.resolve())))}"
        loader_spec = importlib.util.spec_from_file_location(module_name, path)
        if loader_spec is None or loader_spec.loader is None:
            raise TargetError(f"TARGET {spec!r}: cannot load {str(path)!r} as Python")
        module = importlib.util.module_from_spec(loader_spec)
        # The file may import its neighbours, as it would when run as a script.
        folder = str(path.resolve().parent)
        added = folder not in sys.path
        if added:
            sys.path.insert(0, folder)
        sys.modules[module_name] = module
        try:
            loader_spec.loader.exec_module(module)
        except Exception:
            sys.modules.pop(module_name, None)
            raise
        finally:
            if added:
                sys.path.remove(folder)
    else:
        try:
            module = importlib.import_module(module_part)
        except ModuleNotFoundError as error:
            if error.name and module_part.startswith(error.name):
                raise TargetError(f"TARGET {spec!r}: no module named {module_part!r}") from None
            raise
    function = getattr(module, function_name, None)
    if not callable(function):
        available = sorted(n for n, v in vars(module).items()
                           if callable(v) and not n.startswith("_") and getattr(v, "__module__", None) == module.__name__)
        hint = f"; functions there: {', '.join(available)}" if available else ""
        raise TargetError(f"TARGET {spec!r}: {module_part} has no function {function_name!r}{hint}")
    return function


@dataclass
class TargetResult:
    """What running a target left behind: the tape, and the loss and vocabulary it returned."""

    tape: Tape
    loss: Any = None
    directions: Any = None


def _unpack(value) -> dict:
    from ..tensor import Tensor

    if value is None:
        return {}
    if isinstance(value, dict):
        unknown = set(value) - {"loss", "directions", "modules", "optimizer"}
        if unknown:
            raise TargetError(f"the traced function returned a dict with unknown keys {sorted(unknown)}; "
                              f"known: loss, directions, modules, optimizer")
        for key, item in value.items():
            problem = None if item is None else _PART_PROBLEMS[key](item)
            if problem:
                raise TargetError(f"the traced function returned {{{key!r}: {_short(item)}}}: {problem}")
        return dict(value)
    items = value if isinstance(value, tuple) else (value,)
    found: dict = {}
    for item in items:
        if isinstance(item, Tensor):
            key = "loss"
        elif hasattr(item, "names") and hasattr(item, "dim"):
            key = "directions"
        else:
            raise TargetError(f"the traced function returned a {type(item).__name__}; expected a loss "
                              f"Tensor, a Directions, a tuple of them or a dict (see `tinygrad-edu trace --help`)")
        if key in found:
            raise TargetError(f"the traced function returned two {key} values")
        found[key] = item
    return found


def _loss_problem(item) -> str | None:
    from ..tensor import Tensor

    if not isinstance(item, Tensor):
        return (f'"loss" must be a Tensor (the loss to backpropagate), got {type(item).__name__}; '
                "compute it from tensors, e.g. ((y - target) ** 2).sum()")
    return None


def _directions_problem(item) -> str | None:
    if isinstance(item, Mapping) or (hasattr(item, "names") and hasattr(item, "dim")):
        return None
    return f'"directions" must be a Directions (or a mapping name -> vector), got {type(item).__name__}'


def _modules_problem(item) -> str | None:
    def is_module(m):
        return hasattr(m, "named_parameters")

    if is_module(item):
        return None
    if isinstance(item, Mapping):
        bad = [name for name, m in item.items() if not is_module(m)]
    elif isinstance(item, (list, tuple)):
        bad = [str(i) for i, m in enumerate(item) if not is_module(m)]
    else:
        return f'"modules" must be a Module or a dict {{"name": module}}, got {type(item).__name__}'
    if bad:
        return f'"modules" must hold Modules, but {", ".join(bad)} is not one'
    return None


def _optimizer_problem(item) -> str | None:
    if callable(getattr(item, "step", None)):
        return None
    return f'"optimizer" must be an optimizer such as optim.SGD(...) (with a step() method), got {type(item).__name__}'


_PART_PROBLEMS = {"loss": _loss_problem, "directions": _directions_problem, "modules": _modules_problem,
                  "optimizer": _optimizer_problem}


def _short(item) -> str:
    text = repr(item)
    return text if len(text) <= 40 else text[:37] + "..."


class AfterTargetError(Exception):
    """What the trace itself ran after the function returned (the backward pass, the optimizer step) failed.

    ``stage`` says which; the original error is the ``__cause__``. The student's function is not to blame.
    """

    def __init__(self, stage: str):
        super().__init__(stage)
        self.stage = stage


def run_target(function: Callable[[], Any], max_events: int | None = DEFAULT_MAX_EVENTS) -> TargetResult:
    """Call ``function`` while recording; then backward (and the optimizer step) as its return asks.

    ``max_events``: how many events the tape keeps (the first ones; see `record`). The variables of
    ``function`` name the tensors they hold when it is a Python function or method (another callable,
    such as a ``functools.partial``, is traced with short names)."""
    names_from = function if inspect.isfunction(function) or inspect.ismethod(function) else None
    with record(names_from=names_from, max_events=max_events) as tape:
        parts = _unpack(function())
        if parts.get("modules") is not None:
            tape.name_modules(parts["modules"])
        loss = parts.get("loss")
        if loss is not None and not tape.backward and getattr(loss, "requires_grad", False):
            if loss.numel() != 1:
                raise TargetError(f"the traced function returned a loss of shape {tuple(loss.shape)}; "
                                  f"backward needs a single number (sum or average it first)")
            try:
                loss.backward()
            except Exception as error:
                raise AfterTargetError("the backward pass of the returned loss") from error
        if parts.get("optimizer") is not None:
            try:
                parts["optimizer"].step()
            except Exception as error:
                raise AfterTargetError("the returned optimizer's step()") from error
        if parts.get("directions") is not None:
            tape.attach(parts["directions"])
    return TargetResult(tape=tape, loss=loss, directions=parts.get("directions"))
