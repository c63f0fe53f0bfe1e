"""Look inside a model while it runs: an activation cache, ablation and patching, built on forward hooks.

    output, cache = run_with_cache(model, x)            cache["block.act"]: the neurons after ReLU
    with ablate(model, "block.act", [3]):               neuron 3 switched off (set to 0)
        model(x)
    with ablate(model, "block.act", [3], mean_over=xs): neuron 3 held at its mean value over xs
        model(x)
    with patch(model, "block.act", cache["block.act"]): another input, run with x's neurons
        model(x2)

Each helper registers a forward hook (``Module.register_forward_hook``) and returns its handle:
``handle.remove()`` takes it out, and ``with`` does that at the end of the block. The names are the
dotted module paths of ``model.named_modules()``; a module's activation is what it returns.

The names in the lecture's models:

    hand-built block (nn.MLPBlock, models.michael_jordan.hand_built_block)
        up       x W_upᵀ + b_up: each neuron's question, before the ReLU          (d_hidden,)
        act      the neurons: relu(up), the AND gates                             (d_hidden,)
        down     act W_downᵀ + b_down: what the block adds to x                   (d_model,)
    fact store (models.michael_jordan.FactStore; the output is one score per sport)
        block            the residual stream after the block, x + delta(x)        (B, dim)
        block.up, block.act, block.down    as above, for a batch                 (B, d_hidden) ...
    mini transformer (models.mini_transformer.MiniTransformer; the output is the logits)
        tokens, positions                   the two embeddings                    (B, T, d_model)
        blocks.0                            the residual stream after block 0     (B, T, d_model)
        blocks.0.ln1, blocks.0.attn         attention's input and what it adds
        blocks.0.attn.query / key / value / out
        blocks.0.ln2                        the MLP's input
        blocks.0.mlp.up, blocks.0.mlp.act   the MLP neurons before and after GELU (B, T, d_hidden)
        blocks.0.mlp.down                   what the MLP adds to the residual stream
        ln_final, unembed                   the last LayerNorm and the logits     (B, T, vocab)

A hook fires only when its module is *called*. ``TransformerBlock`` calls ``mlp.delta(...)``, a method,
so ``blocks.0.mlp`` itself never fires (its parts do): asking for it is an error that says so.
"""
from __future__ import annotations

from typing import Callable, Iterable

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.nn import Module
from tinygrad_edu.nn.module import RemovableHandle

__all__ = ["run_with_cache", "module_at", "ablate", "patch", "RemovableHandle"]


def module_at(model: Module, name) -> Module:
    """The sub-module of ``model`` at dotted path ``name`` ("" is the model itself); a Module passes through."""
    if isinstance(name, Module):
        return name
    modules = dict(model.named_modules())
    if name not in modules:
        known = ", ".join(repr(n) for n in modules if n) or "(none)"
        raise KeyError(f"{type(model).__name__} has no module {name!r}; its modules are: {known}")
    return modules[name]


def run_with_cache(model: Module, *inputs, names=None, detach: bool = True, **kwargs):
    """Run ``model(*inputs, **kwargs)`` and return ``(output, cache)``: what every sub-module returned.

    ``cache`` maps each module's dotted path (``"block.act"``) to its output, in the order of
    ``model.named_modules()``. ``names`` picks which: None for every sub-module that ran (the model
    itself is the returned output), a list of paths, or a function ``path -> bool``. A path asked
    for by name that never ran is an error. A module called more than once keeps its last output.
    With ``detach`` (the default) the cached tensors are cut from the graph; the output is not.
    The hooks are removed before returning, also when the model raises.
    """
    paths = [path for path, _ in model.named_modules() if path]
    if names is None:
        wanted = paths
    elif callable(names):
        wanted = [path for path in paths if names(path)]
    else:
        if isinstance(names, str):
            names = [names]
        wanted = list(dict.fromkeys(names))
        for path in wanted:
            module_at(model, path)           # a clear error for an unknown path
    modules = dict(model.named_modules())
    seen: dict[str, object] = {}
    handles = []

    def recorder(path: str) -> Callable:
        def record(module, args, output):
            seen[path] = _detached(output) if detach else output
        return record

    try:
        for path in wanted:
            handles.append(modules[path].register_forward_hook(recorder(path)))
        output = model(*inputs, **kwargs)
    finally:
        for handle in handles:
            handle.remove()
    if names is not None and not callable(names):
        missing = [path for path in wanted if path not in seen]
        if missing:
            raise RuntimeError(
                f"run_with_cache: {', '.join(missing)} never ran during {type(model).__name__}'s forward: a hook "
                "fires only when the module itself is called, not when its parent calls one of its methods "
                "(TransformerBlock calls mlp.delta(...), so ask for blocks.N.mlp.act or .down instead)")
    return output, {path: seen[path] for path in wanted if path in seen}


def _detached(value):
    if isinstance(value, Tensor):
        return value.detach()
    if isinstance(value, (tuple, list)):
        return type(value)(_detached(v) for v in value)
    return value


def _chosen(neurons):
    """The neuron indices as a list, read once (a generator would be empty on the second call)."""
    if neurons is None or isinstance(neurons, int):
        return neurons
    return list(neurons)


def _neuron_mask(module_name: str, size: int, neurons) -> list[float] | None:
    """1 for the neurons kept, 0 for those chosen (None: all chosen)."""
    if neurons is None:
        return None
    if isinstance(neurons, int):
        neurons = [neurons]
    chosen = set()
    for j in neurons:
        if isinstance(j, bool) or not isinstance(j, int):
            raise TypeError(f"{module_name}: neuron indices must be integers, got {j!r}")
        if not -size <= j < size:
            raise IndexError(f"{module_name}: neuron {j} out of range for {size} neurons")
        chosen.add(j % size)
    return [0.0 if j in chosen else 1.0 for j in range(size)]


def _replace_neurons(output: Tensor, replacement: Tensor, neurons, where: str) -> Tensor:
    """``output`` with the chosen neurons (along the last axis) taken from ``replacement``."""
    if not isinstance(output, Tensor):
        raise TypeError(f"{where}: the module returned {type(output).__name__}, not a Tensor")
    if output.ndim == 0:
        raise tg.ShapeError(f"{where}: the module returned a scalar; neurons are read along the last axis")
    if not _fits(tuple(replacement.shape), tuple(output.shape)):
        raise tg.ShapeError(f"{where}: the replacement of shape {tuple(replacement.shape)} does not fit the "
                            f"activation of shape {tuple(output.shape)}")
    mask = _neuron_mask(where, output.shape[-1] if output.ndim else 1, neurons)
    if mask is None:                              # every neuron replaced
        return replacement.broadcast_to(*output.shape)
    keep = tg.tensor(mask, dtype=output.dtype)
    return output * keep + replacement * (1.0 - keep)


def _fits(shape: tuple, target: tuple) -> bool:
    """Does ``shape`` broadcast to exactly ``target``?"""
    if len(shape) > len(target):
        return False
    return all(a in (1, b) for a, b in zip(reversed(shape), reversed(target)))


def ablate(model: Module, name, neurons: Iterable[int] | int | None = None, *, mean_over=None) -> RemovableHandle:
    """Switch off neurons of the module at ``name``: its output's chosen entries (last axis) are replaced.

    Zero-ablation (the default) sets them to 0. ``mean_over`` (a batch of model inputs) sets each to
    its mean over that batch instead (mean-ablation: "what this neuron usually says", so the rest of
    the model is not fed a value it never sees). ``neurons`` None ablates all of them.
    Returns the hook's handle: ``with ablate(...): model(x)`` or ``handle.remove()``.
    """
    module = module_at(model, name)
    where = f"ablate({name if isinstance(name, str) else type(module).__name__})"
    neurons = _chosen(neurons)
    if mean_over is None:
        def zero(module, args, output):
            return _replace_neurons(output, output * 0.0, neurons, where)
        return module.register_forward_hook(zero)
    path = name if isinstance(name, str) else next((p for p, m in model.named_modules() if m is module), None)
    if path is None:
        raise ValueError(f"{where}: mean_over runs the model, but this module is not part of "
                         f"{type(model).__name__}")
    with tg.no_grad():
        _, cache = run_with_cache(model, mean_over, names=[path])
    activations = cache[path]
    if activations.ndim < 2:
        raise tg.ShapeError(f"{where}: mean_over must be a batch (its first axis is averaged over); "
                            f"the activation has shape {tuple(activations.shape)}")
    mean = activations.mean(0)

    def to_mean(module, args, output):
        return _replace_neurons(output, mean, neurons, where)
    return module.register_forward_hook(to_mean)


def patch(model: Module, name, source: Tensor, neurons: Iterable[int] | int | None = None) -> RemovableHandle:
    """Activation patching: the module at ``name`` returns ``source``'s values for the chosen neurons.

    ``source`` is an activation of that module from another run (``cache[name]`` of
    ``run_with_cache``), of the same shape as the one it replaces or broadcastable to it.
    ``neurons`` None patches every neuron. Returns the hook's handle (``with patch(...): model(x)``).
    """
    module = module_at(model, name)
    where = f"patch({name if isinstance(name, str) else type(module).__name__})"
    neurons = _chosen(neurons)
    if not isinstance(source, Tensor):
        source = tg.tensor(source)
    source = source.detach()

    def patched(module, args, output):
        return _replace_neurons(output, source, neurons, where)
    return module.register_forward_hook(patched)
