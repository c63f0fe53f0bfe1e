"""The bridge to PyTorch: tensors, weights and whole layers, carried across in both directions.

PyTorch is optional: nothing here imports it until a function that needs it is called, and then a
missing PyTorch is one clear error (``pip install torch``).

Tensors
    to_torch(t)            a torch.Tensor with the same values, shape, dtype and requires_grad
    from_torch(t)          a Tensor on the current backend (or ``backend=``), the same way back

Both make copies: the two tensors share no memory and no graph. The dtypes map one to one
(float64, int64, bool); PyTorch's other floats (float32, float16, bfloat16) come across as float64,
which holds each of their values exactly, and its other integers as int64.

Layers and their weights
    to_torch_module(m)              the equivalent torch.nn module, holding m's weights
    from_torch_module(tm)           the equivalent tinygrad_edu module, holding tm's weights
    torch_state_dict(m)             m's weights as torch tensors, under the torch module's names
    state_dict_from_torch(tm, m)    a torch module's (or state dict's) weights under m's names
    load_into_torch(tm, m)          copy m's weights into the torch module tm
    load_from_torch(m, tm)          copy tm's weights into m

The equivalents, which give the same outputs in float64 (to about 1e-15):

    tinygrad_edu.nn          torch
    Linear                   torch.nn.Linear                 same names: weight, bias
    LayerNorm                torch.nn.LayerNorm              same names: weight, bias
    Embedding                torch.nn.Embedding              same name: weight
    ReLU, Tanh, Identity     torch.nn.ReLU, Tanh, Identity
    GELU                     torch.nn.GELU(approximate="tanh")   (the tanh form, as here)
    Sequential               torch.nn.Sequential             children named 0, 1, 2, ... on both sides
    MLPBlock                 interop.TorchMLPBlock           torch.nn.Linear up and down: same names
    Residual                 interop.TorchResidual
    TransformerBlock         interop.TorchTransformerBlock   a torch.nn.TransformerEncoderLayer

PyTorch has no MLP block of its own, so `TorchMLPBlock` is one built from torch.nn pieces:
``x + down(act(up(x)))``. `TorchTransformerBlock` *is* a ``torch.nn.TransformerEncoderLayer``
(pre-norm, batch first, no dropout) whose forward passes the causal mask when given none. Its weights
have PyTorch's names, so a TransformerBlock's are renamed on the way across:

    TransformerBlock                          torch.nn.TransformerEncoderLayer
    ln1.weight, ln1.bias                      norm1.weight, norm1.bias
    attn.query / key / value .weight          self_attn.in_proj_weight   (the three stacked, in that order)
    attn.query / key / value .bias            self_attn.in_proj_bias
    attn.out.weight, attn.out.bias            self_attn.out_proj.weight, .bias
    ln2.weight, ln2.bias                      norm2.weight, norm2.bias
    mlp.up.weight, mlp.up.bias                linear1.weight, linear1.bias
    mlp.down.weight, mlp.down.bias            linear2.weight, linear2.bias

A model made of these parts (a token embedding, a Sequential of TransformerBlocks, a LayerNorm ...)
converts part by part, so its state dict loads into a torch model of the same parts, and back.

A stock ``torch.nn.TransformerEncoderLayer`` (pre-norm, batch first) converts too, and matches when it is
called with a causal mask. One trap there: built with the module ``GELU(approximate="tanh")``, PyTorch's
fused path (eval mode, no gradients) runs the exact GELU instead, so only its slow path matches;
`TorchTransformerBlock` passes its activation as a function and has no such split.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import tinygrad_edu as tg
from tinygrad_edu import Tensor

__all__ = ["to_torch", "from_torch", "to_torch_module", "from_torch_module", "torch_state_dict",
           "state_dict_from_torch", "load_into_torch", "load_from_torch", "require_torch",
           "TorchMLPBlock", "TorchResidual", "TorchTransformerBlock"]

INSTALL_HINT = 'pip install torch   (or: pip install "tinygrad-edu[torch]")'


def require_torch(what: str):
    """The ``torch`` module, or an ImportError saying that ``what`` needs it and how to install it."""
    try:
        import torch
    except ImportError:
        raise ImportError(f"{what} needs PyTorch, which is not installed: {INSTALL_HINT}") from None
    return torch


# ================================================================================================
# Tensors
# ================================================================================================

def _torch_dtype(torch, dtype: str):
    return {tg.float64: torch.float64, tg.int64: torch.int64, tg.bool_: torch.bool}[dtype]


def to_torch(tensor: Tensor, *, device=None):
    """A new torch.Tensor with ``tensor``'s values, shape and dtype; a leaf that requires grad when
    ``tensor`` does. Works from either backend; the values are copied exactly."""
    torch = require_torch("to_torch")
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_torch: expected a tinygrad_edu Tensor, got {type(tensor).__name__}")
    # Through a flat list, so that a shape with a 0 in it, which nested lists cannot hold, survives.
    flat = tensor.detach().reshape(-1).tolist()
    out = torch.tensor(flat, dtype=_torch_dtype(torch, tensor.dtype), device=device).reshape(tuple(tensor.shape))
    return out.requires_grad_(bool(tensor.requires_grad))


def from_torch(t, *, requires_grad: bool | None = None, backend: str | None = None,
               name: str | None = None) -> Tensor:
    """A new Tensor with the values and shape of the torch tensor ``t`` (detached, copied).

    float64 stays float64 and the other floats become float64 (exactly); integers become int64 and
    bool stays bool. ``requires_grad`` defaults to ``t.requires_grad``; ``backend`` to the current one.
    """
    torch = require_torch("from_torch")
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"from_torch: expected a torch.Tensor, got {type(t).__name__}")
    if t.is_complex():
        raise TypeError(f"from_torch: complex tensors have no equivalent here (dtype {t.dtype})")
    wants_grad = t.requires_grad if requires_grad is None else bool(requires_grad)
    t = t.detach().cpu()
    if t.dtype == torch.bool:
        dtype = tg.bool_
    elif t.is_floating_point():
        dtype, t = tg.float64, t.to(torch.float64)
    else:
        dtype, t = tg.int64, t.to(torch.int64)
    with tg.use_backend(backend or tg.get_backend()) as chosen:
        if chosen.name == "numpy":
            out = Tensor(t.numpy(), dtype=dtype, name=name)
        else:   # through a flat list, so that a shape with a 0 in it survives
            out = Tensor(t.reshape(-1).tolist(), dtype=dtype).reshape(tuple(t.shape)).detach().named(name)
    if wants_grad:
        if dtype != tg.float64:
            raise TypeError(f"from_torch: requires_grad needs a floating-point tensor, got {t.dtype}")
        out.requires_grad_(True)
    return out


# ================================================================================================
# The torch equivalents (classes made on first use, since torch may be missing)
# ================================================================================================

_EQUIVALENTS: dict = {}


def _equivalents(what: str) -> dict:
    if _EQUIVALENTS:
        return _EQUIVALENTS
    torch = require_torch(what)
    nn = torch.nn

    def make_activation(name: str):
        key = str(name).lower()
        made = {"relu": nn.ReLU, "tanh": nn.Tanh, "identity": nn.Identity, "none": nn.Identity,
                "gelu": lambda: nn.GELU(approximate="tanh")}.get(key)
        if made is None:
            raise ValueError(f"no torch activation for {name!r}: choose relu, gelu, tanh or identity")
        return made()

    class TorchMLPBlock(nn.Module):
        """tinygrad_edu's MLPBlock in torch.nn pieces: out = x + down(act(up(x)))."""

        def __init__(self, d_model: int, d_hidden: int, activation: str = "relu", *, dtype=torch.float64,
                     device=None):
            super().__init__()
            self.d_model, self.d_hidden, self.activation_name = int(d_model), int(d_hidden), str(activation).lower()
            self.up = nn.Linear(d_model, d_hidden, dtype=dtype, device=device)
            self.act = make_activation(self.activation_name)
            self.down = nn.Linear(d_hidden, d_model, dtype=dtype, device=device)

        def hidden(self, x):
            return self.act(self.up(x))

        def delta(self, x):
            return self.down(self.hidden(x))

        def forward(self, x):
            return x + self.delta(x)

    class TorchResidual(nn.Module):
        """x + module(x)."""

        def __init__(self, module):
            super().__init__()
            self.module = module

        def forward(self, x):
            return x + self.module(x)

    class TorchTransformerBlock(nn.TransformerEncoderLayer):
        """tinygrad_edu's TransformerBlock as a torch.nn.TransformerEncoderLayer: pre-norm
        (``norm_first``), inputs (B, T, D) or (T, D) (``batch_first``), no dropout, and causal: with no
        ``src_mask`` given, position i attends to positions j <= i only."""

        def __init__(self, d_model: int, n_heads: int = 1, d_hidden: int | None = None, activation: str = "gelu",
                     eps: float = 1e-5, *, dtype=torch.float64, device=None):
            d_hidden = 4 * d_model if d_hidden is None else int(d_hidden)
            name = str(activation).lower()
            # A function rather than a module: PyTorch would otherwise take "a GELU" for its exact
            # (erf) GELU in its fused fast path, and this block's GELU is the tanh form.
            function = {"relu": torch.nn.functional.relu, "tanh": torch.tanh,
                        "gelu": _gelu_tanh, "identity": _identity, "none": _identity}.get(name)
            if function is None:
                raise ValueError(f"TorchTransformerBlock: unknown activation {activation!r}: "
                                 "choose relu, gelu, tanh or identity")
            super().__init__(d_model, n_heads, dim_feedforward=d_hidden, dropout=0.0, activation=function,
                             layer_norm_eps=eps, batch_first=True, norm_first=True, bias=True,
                             dtype=dtype, device=device)
            self.activation_name = name

        def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
            if src_mask is None:
                length = src.shape[-2]
                src_mask = nn.Transformer.generate_square_subsequent_mask(length, dtype=src.dtype,
                                                                          device=src.device)
                is_causal = True
            return super().forward(src, src_mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                                   is_causal=is_causal)

    def _gelu_tanh(x):
        return torch.nn.functional.gelu(x, approximate="tanh")

    def _identity(x):
        return x

    _EQUIVALENTS.update(torch=torch, activation=make_activation, TorchMLPBlock=TorchMLPBlock,
                        TorchResidual=TorchResidual, TorchTransformerBlock=TorchTransformerBlock,
                        gelu_tanh=_gelu_tanh)
    return _EQUIVALENTS


def __getattr__(name: str):
    # interop.TorchMLPBlock and friends exist once torch is imported; asking for them imports it.
    if name in ("TorchMLPBlock", "TorchResidual", "TorchTransformerBlock"):
        return _equivalents(f"interop.{name}")[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ================================================================================================
# Names: which torch weight is made of which of ours
# ================================================================================================

@dataclass(frozen=True)
class WeightPair:
    """One torch weight and the weights here it is made of: one (renamed at most), or several
    stacked along the first axis (attention's query, key and value in ``in_proj_weight``)."""
    torch_name: str
    names: tuple


def weight_pairs(module) -> list[WeightPair]:
    """Every weight of ``module`` (a tinygrad_edu Module) with the name its torch equivalent uses."""
    from tinygrad_edu import nn
    pairs = []

    def walk(m, prefix: str) -> None:
        if isinstance(m, nn.TransformerBlock):
            pairs.extend(_transformer_block_pairs(prefix))
            return
        for name, param in m._parameters.items():
            if param is not None:
                pairs.append(WeightPair(prefix + name, (prefix + name,)))
        for name, child in m.named_children():
            walk(child, f"{prefix}{name}.")

    walk(module, "")
    return pairs


def _transformer_block_pairs(p: str) -> list[WeightPair]:
    same = [("ln1.weight", "norm1.weight"), ("ln1.bias", "norm1.bias"), ("ln2.weight", "norm2.weight"),
            ("ln2.bias", "norm2.bias"), ("attn.out.weight", "self_attn.out_proj.weight"),
            ("attn.out.bias", "self_attn.out_proj.bias"), ("mlp.up.weight", "linear1.weight"),
            ("mlp.up.bias", "linear1.bias"), ("mlp.down.weight", "linear2.weight"),
            ("mlp.down.bias", "linear2.bias")]
    stacked = [WeightPair(p + "self_attn.in_proj_" + kind, tuple(f"{p}attn.{part}.{kind}"
                                                                 for part in ("query", "key", "value")))
               for kind in ("weight", "bias")]
    return stacked + [WeightPair(p + theirs, (p + ours,)) for ours, theirs in same]


# ================================================================================================
# State dicts, both ways
# ================================================================================================

def torch_state_dict(module) -> "OrderedDict":
    """``module``'s weights as float64 torch tensors, named as in its torch equivalent: what
    ``torch_module.load_state_dict`` takes."""
    torch = require_torch("torch_state_dict")
    own = module.state_dict()
    out = OrderedDict()
    for pair in weight_pairs(module):
        if not all(name in own for name in pair.names):
            continue     # a weight shared with another part is stored once, under its first name
        parts = [to_torch(own[name]) for name in pair.names]
        out[pair.torch_name] = parts[0] if len(parts) == 1 else torch.cat(parts, dim=0)
    return out


def state_dict_from_torch(source, module) -> "OrderedDict":
    """The weights of ``source`` (a torch.nn.Module or its state dict) under ``module``'s names:
    what ``module.load_state_dict`` takes. Missing or unexpected names raise `StateDictError`."""
    from tinygrad_edu.nn import StateDictError
    torch = require_torch("state_dict_from_torch")
    theirs = source.state_dict() if isinstance(source, torch.nn.Module) else dict(source)
    pairs = weight_pairs(module)
    wanted = {pair.torch_name for pair in pairs}
    missing = [pair.torch_name for pair in pairs if pair.torch_name not in theirs]
    unexpected = [name for name in theirs if name not in wanted]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append("missing keys: " + ", ".join(missing))
        if unexpected:
            parts.append("unexpected keys: " + ", ".join(unexpected))
        raise StateDictError(f"state_dict_from_torch: the torch weights do not match {type(module).__name__}'s "
                             f"({'; '.join(parts)})")
    own_shapes = {name: tuple(p.shape) for name, p in module.named_parameters()}
    out = OrderedDict()
    for pair in pairs:
        value = theirs[pair.torch_name]
        if len(pair.names) == 1:
            out[pair.names[0]] = from_torch(value, requires_grad=False)
            continue
        sizes = [own_shapes[name][0] for name in pair.names]
        if value.shape[0] != sum(sizes):
            raise StateDictError(f"state_dict_from_torch: {pair.torch_name} has {value.shape[0]} rows, "
                                 f"expected {sum(sizes)} ({' + '.join(map(str, sizes))} for "
                                 f"{', '.join(pair.names)})")
        for name, piece in zip(pair.names, torch.split(value, sizes, dim=0)):
            out[name] = from_torch(piece, requires_grad=False)
    return OrderedDict((name, out[name]) for name in own_shapes if name in out)     # in the module's order


def load_into_torch(torch_module, module, strict: bool = True):
    """Copy ``module``'s weights into ``torch_module`` (names translated; see the table above)."""
    state = torch_state_dict(module)
    reference = torch_module.state_dict()
    state = OrderedDict((k, v.to(reference[k].dtype) if k in reference else v) for k, v in state.items())
    return torch_module.load_state_dict(state, strict=strict)


def load_from_torch(module, torch_module, strict: bool = True):
    """Copy ``torch_module``'s weights into ``module``; returns ``(missing, unexpected)`` as
    `Module.load_state_dict` does."""
    return module.load_state_dict(state_dict_from_torch(torch_module, module), strict=strict)


# ================================================================================================
# Whole modules, both ways
# ================================================================================================

SUPPORTED = "Linear, LayerNorm, Embedding, ReLU, GELU, Tanh, Identity, Sequential, Residual, MLPBlock, TransformerBlock"


def to_torch_module(module, *, dtype=None, device=None):
    """A new torch.nn module equivalent to ``module`` (see the table above), holding copies of its
    weights, float64 unless ``dtype`` says otherwise."""
    eq = _equivalents("to_torch_module")
    torch = eq["torch"]
    dtype = torch.float64 if dtype is None else dtype
    built = _build_torch(module, eq, dtype, device)
    load_into_torch(built, module)
    return built.train(module.training)


def _build_torch(m, eq, dtype, device):
    from tinygrad_edu import nn
    tnn = eq["torch"].nn
    kind = {"dtype": dtype, "device": device}
    if isinstance(m, nn.Linear):
        return tnn.Linear(m.in_features, m.out_features, bias=m.bias is not None, **kind)
    if isinstance(m, nn.LayerNorm):
        return tnn.LayerNorm(m.normalized_shape, eps=m.eps, elementwise_affine=m.weight is not None, **kind)
    if isinstance(m, nn.Embedding):
        return tnn.Embedding(m.num_embeddings, m.embedding_dim, **kind)
    if isinstance(m, nn.MLPBlock):
        _no_mask(m, "MLPBlock")
        return eq["TorchMLPBlock"](m.d_model, m.d_hidden, m.activation_name, **kind)
    if isinstance(m, nn.TransformerBlock):
        _no_mask(m.mlp, "TransformerBlock's mlp")
        attn = m.attn
        if not attn.causal or attn.query.bias is None:
            raise ValueError("to_torch_module: the torch equivalent of TransformerBlock is causal, with biases")
        return eq["TorchTransformerBlock"](attn.d_model, attn.n_heads, m.mlp.d_hidden, m.mlp.activation_name,
                                           eps=m.ln1.eps, **kind)
    if isinstance(m, nn.Sequential):
        return tnn.Sequential(*[_build_torch(child, eq, dtype, device) for child in m])
    if isinstance(m, nn.Residual):
        return eq["TorchResidual"](_build_torch(m.module, eq, dtype, device))
    for ours, name in ((nn.ReLU, "relu"), (nn.GELU, "gelu"), (nn.Tanh, "tanh"), (nn.Identity, "identity")):
        if type(m) is ours:
            return eq["activation"](name)
    raise TypeError(f"to_torch_module: {type(m).__name__} has no torch equivalent here "
                    f"(supported: {SUPPORTED}); build the torch model by hand and copy the weights "
                    "with load_into_torch")


def _no_mask(mlp, what: str) -> None:
    if getattr(mlp, "neuron_mask", None) is not None:
        raise ValueError(f"to_torch_module: {what} has a neuron_mask set, which the torch equivalent lacks; "
                         "set it to None first")


def from_torch_module(torch_module):
    """A new tinygrad_edu module equivalent to ``torch_module`` (see the table above), holding copies
    of its weights as float64. A plain ``torch.nn.TransformerEncoderLayer`` must be pre-norm, batch
    first, with biases; the result is causal, so it matches the torch layer called with a causal mask."""
    eq = _equivalents("from_torch_module")
    built = _build_ours(torch_module, eq)
    load_from_torch(built, torch_module)
    return built.train(torch_module.training)


def _build_ours(tm, eq):
    from tinygrad_edu import nn
    torch = eq["torch"]
    tnn = torch.nn
    name = type(tm).__name__
    if isinstance(tm, tnn.Linear):
        return nn.Linear(tm.in_features, tm.out_features, bias=tm.bias is not None)
    if isinstance(tm, tnn.LayerNorm):
        if len(tm.normalized_shape) != 1:
            raise ValueError(f"from_torch_module: LayerNorm{tuple(tm.normalized_shape)}: only the last dimension "
                             "is normalised here")
        if tm.weight is not None and tm.bias is None:
            raise ValueError("from_torch_module: LayerNorm(bias=False) has no equivalent here")
        return nn.LayerNorm(tm.normalized_shape[0], eps=tm.eps, elementwise_affine=tm.weight is not None)
    if isinstance(tm, tnn.Embedding):
        if tm.padding_idx is not None or tm.max_norm is not None:
            raise ValueError("from_torch_module: Embedding with padding_idx or max_norm has no equivalent here")
        return nn.Embedding(tm.num_embeddings, tm.embedding_dim)
    if isinstance(tm, eq["TorchMLPBlock"]):
        return nn.MLPBlock(tm.d_model, tm.d_hidden, activation=tm.activation_name)
    if isinstance(tm, tnn.TransformerEncoderLayer):
        return _block_from_encoder_layer(tm, eq)
    if isinstance(tm, tnn.Sequential):
        return nn.Sequential(*[_build_ours(child, eq) for child in tm])
    if isinstance(tm, eq["TorchResidual"]):
        return nn.Residual(_build_ours(tm.module, eq))
    if isinstance(tm, tnn.GELU):
        if tm.approximate != "tanh":
            raise ValueError("from_torch_module: GELU() is the exact (erf) GELU; the GELU here is the tanh form, "
                             "torch.nn.GELU(approximate='tanh')")
        return nn.GELU()
    for theirs, ours in ((tnn.ReLU, nn.ReLU), (tnn.Tanh, nn.Tanh), (tnn.Identity, nn.Identity)):
        if type(tm) is theirs:
            return ours()
    raise TypeError(f"from_torch_module: {name} has no equivalent here (supported: torch.nn.Linear, LayerNorm, "
                    "Embedding, ReLU, GELU(approximate='tanh'), Tanh, Identity, Sequential, "
                    "TransformerEncoderLayer and interop.TorchMLPBlock, TorchResidual)")


def _block_from_encoder_layer(tm, eq):
    from tinygrad_edu import nn
    torch = eq["torch"]
    problems = []
    if not tm.norm_first:
        problems.append("norm_first=False (post-norm); the block here is pre-norm")
    if not getattr(tm.self_attn, "batch_first", False):
        problems.append("batch_first=False; the block here takes (B, T, D)")
    if tm.self_attn.in_proj_bias is None or tm.linear1.bias is None:
        problems.append("bias=False")
    if not getattr(tm.self_attn, "_qkv_same_embed_dim", True):
        problems.append("separate key/value sizes")
    if tm.training and tm.dropout.p > 0:
        problems.append(f"dropout {tm.dropout.p} while training (call .eval() or build it with dropout=0)")
    activation = getattr(tm, "activation_name", None)
    if activation is None:
        act = tm.activation
        if act is torch.nn.functional.relu or isinstance(act, torch.nn.ReLU):
            activation = "relu"
        elif isinstance(act, torch.nn.GELU) and act.approximate == "tanh":
            activation = "gelu"
        else:
            problems.append(f"activation {act!r}; use relu, or interop.TorchTransformerBlock for the tanh GELU")
    if problems:
        raise ValueError("from_torch_module: this TransformerEncoderLayer has no equivalent here: "
                         + "; ".join(problems))
    d_model = tm.self_attn.embed_dim
    block = nn.TransformerBlock(d_model, tm.self_attn.num_heads, tm.linear1.out_features, activation=activation)
    block.ln1.eps, block.ln2.eps = tm.norm1.eps, tm.norm2.eps
    return block
