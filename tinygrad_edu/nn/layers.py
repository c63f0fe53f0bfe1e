"""Layers: small Modules, each a few lines of forward built from Tensor ops.

No layer writes a backward: the gradients come from the ops it uses, so every layer gets the
chain rule (and the trace) for free.

Every size (``in_features``, ``d_model``, ``num_embeddings`` ...) must be a positive integer: a bad one
is refused when the layer is made, with an error naming the argument. (PyTorch also accepts 0, which
makes a layer without weights; here that is always a slip, so it is refused.)
"""
from __future__ import annotations

import numbers

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu import functional as F
from tinygrad_edu._checks import boolean, integer, number

from . import init
from .module import Module, Parameter

__all__ = ["Linear", "ReLU", "GELU", "Tanh", "Identity", "Sequential", "Residual", "LayerNorm",
           "Embedding", "MLPBlock", "get_activation"]


class Linear(Module):
    """y = x Wᵀ + b, with W of shape (out_features, in_features) and b of shape (out_features,).

    Init as PyTorch: W and b uniform in (-1/sqrt(in_features), 1/sqrt(in_features)).
    Gradients: ∂L/∂W = (∂L/∂y)ᵀ x,  ∂L/∂b = Σ_rows ∂L/∂y,  ∂L/∂x = (∂L/∂y) W.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 generator=None, seed=None):
        super().__init__()
        self.in_features = integer("Linear", "in_features", in_features)
        self.out_features = integer("Linear", "out_features", out_features)
        generator = init.generator_for(generator, seed)
        bound = init.linear_bound(self.in_features)
        self.weight = Parameter(init.uniform((self.out_features, self.in_features), -bound, bound,
                                             generator=generator))
        self.bias = (Parameter(init.uniform((self.out_features,), -bound, bound, generator=generator))
                     if boolean("Linear", "bias", bias) else None)

    def forward(self, x: Tensor) -> Tensor:
        expect_tensor(f"Linear({self.in_features}, {self.out_features})", x, min_dims=1)
        if x.shape[-1] != self.in_features:
            raise tg.ShapeError(f"Linear({self.in_features}, {self.out_features}): input of shape "
                                f"{tuple(x.shape)} has last size {x.shape[-1]}, expected {self.in_features}")
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class ReLU(Module):
    """relu(x) = max(x, 0); its derivative is 1 for x > 0 and 0 otherwise (0 at x = 0)."""

    def forward(self, x: Tensor) -> Tensor:
        return x.relu()


class GELU(Module):
    """gelu(x) ≈ 0.5 x (1 + tanh(sqrt(2/π) (x + 0.044715 x³))): a smooth ReLU."""

    def forward(self, x: Tensor) -> Tensor:
        return x.gelu()


class Tanh(Module):
    def forward(self, x: Tensor) -> Tensor:
        return x.tanh()


class Identity(Module):
    def forward(self, x: Tensor) -> Tensor:
        return x


_ACTIVATIONS = {"relu": ReLU, "gelu": GELU, "tanh": Tanh, "identity": Identity, "none": Identity}


def get_activation(name: str) -> Module:
    """The activation module called ``name`` ("relu", "gelu", "tanh", "identity")."""
    key = str(name).lower()
    if key not in _ACTIVATIONS:
        raise ValueError(f"get_activation: unknown name {name!r}; choose one of {', '.join(sorted(_ACTIVATIONS))}")
    return _ACTIVATIONS[key]()


class Sequential(Module):
    """Applies its modules in order: Sequential(a, b, c)(x) = c(b(a(x))). Children are named 0, 1, 2, ..."""

    def __init__(self, *modules: Module):
        super().__init__()
        for i, m in enumerate(modules):
            self.add_module(str(i), m)

    def forward(self, x):
        for m in self.children():
            x = m(x)
        return x

    def __len__(self) -> int:
        return len(self._modules)

    def __getitem__(self, i: int) -> Module:
        return list(self._modules.values())[i]

    def __iter__(self):
        return iter(self._modules.values())


class Residual(Module):
    """x + module(x): the module's output is added to the residual stream."""

    def __init__(self, module: Module):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"Residual: module must be a Module, got {type(module).__name__}")
        self.module = module

    def forward(self, x: Tensor) -> Tensor:
        return x + self.module(x)


class LayerNorm(Module):
    """Normalise the last dimension: y = (x − mean) / sqrt(var + eps) · weight + bias.

    mean and var (the biased variance, dividing by D) are taken over the last axis of size D.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True):
        super().__init__()
        if isinstance(normalized_shape, (tuple, list)):
            if len(normalized_shape) != 1:
                raise ValueError(f"LayerNorm: only the last dimension is normalised, got {tuple(normalized_shape)}")
            normalized_shape = normalized_shape[0]
        self.normalized_shape = integer("LayerNorm", "normalized_shape", normalized_shape)
        self.eps = number("LayerNorm", "eps", eps, low=0.0)
        elementwise_affine = boolean("LayerNorm", "elementwise_affine", elementwise_affine)
        self.weight = Parameter(tg.ones(self.normalized_shape)) if elementwise_affine else None
        self.bias = Parameter(tg.zeros(self.normalized_shape)) if elementwise_affine else None

    def forward(self, x: Tensor) -> Tensor:
        expect_tensor(f"LayerNorm({self.normalized_shape})", x, min_dims=1)
        if x.shape[-1] != self.normalized_shape:
            raise tg.ShapeError(f"LayerNorm({self.normalized_shape}): input of shape {tuple(x.shape)} "
                                f"has last size {x.shape[-1]}")
        return F.layer_norm(x, (self.normalized_shape,), self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"({self.normalized_shape},), eps={self.eps}, elementwise_affine={self.weight is not None}"


class Embedding(Module):
    """A lookup table: row i of ``weight`` (num_embeddings × embedding_dim) is the vector of token i.

    ``forward(indices)`` takes integers (a Tensor of int64, a list, or nested lists) of any shape S
    and returns a tensor of shape S + (embedding_dim,). The gradient adds ∂L/∂row into each row used.
    Indices that are not integers (floats, bools) are refused, as in PyTorch: rounding them would
    pick a row silently.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, *, generator=None, seed=None):
        super().__init__()
        self.num_embeddings = integer("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = integer("Embedding", "embedding_dim", embedding_dim)
        self.weight = Parameter(init.normal((self.num_embeddings, self.embedding_dim),
                                            generator=init.generator_for(generator, seed)))

    def forward(self, indices) -> Tensor:
        me = f"Embedding({self.num_embeddings}, {self.embedding_dim})"
        if isinstance(indices, Tensor):
            if indices.dtype != "int64":
                raise TypeError(f"{me}: indices must be integers (an int64 tensor or lists of ints), "
                                f"got a {indices.dtype} tensor")
            shape = tuple(indices.shape)
            flat = [int(i) for i in indices.reshape(-1).tolist()] if shape else [int(indices.item())]
        else:
            flat, shape = _flatten_ints(indices, me)
        for i in flat:
            if not 0 <= i < self.num_embeddings:
                raise IndexError(f"{me}: index {i} out of range: indices must be in 0..{self.num_embeddings - 1}")
        rows = self.weight[flat]
        return rows.reshape(*shape, self.embedding_dim)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}"


def _flatten_ints(values, me: str = "Embedding") -> tuple[list[int], tuple]:
    """Nested lists of ints -> (flat list, shape); anything but whole numbers is refused."""
    if _is_index(values):
        return [int(values)], ()
    if not isinstance(values, (list, tuple, range)):
        raise TypeError(f"{me}: indices must be integers (an int64 tensor or lists of ints), "
                        f"got {type(values).__name__} {values!r}")
    values = list(values)
    if values and isinstance(values[0], (list, tuple)):
        parts = [_flatten_ints(v, me) for v in values]
        inner = parts[0][1]
        if any(p[1] != inner for p in parts):
            raise ValueError(f"{me}: ragged index list: rows of shapes {sorted({p[1] for p in parts})}")
        return [i for p in parts for i in p[0]], (len(values),) + inner
    for v in values:
        if not _is_index(v):
            raise TypeError(f"{me}: indices must be integers (an int64 tensor or lists of ints), "
                            f"got {type(v).__name__} {v!r}")
    return [int(v) for v in values], (len(values),)


def _is_index(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def expect_tensor(me: str, x, min_dims: int = 0) -> None:
    """Refuse an input that is not a Tensor (or has too few dimensions), naming the layer."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{me}: the input must be a Tensor, got {type(x).__name__} (make one with tg.tensor(...))")
    if x.ndim < min_dims:
        raise tg.ShapeError(f"{me}: the input needs at least {min_dims} dimension(s), got shape {tuple(x.shape)}")


class MLPBlock(Module):
    """The lecture's MLP block, applied to every position's vector independently:

        h   = act(x W_upᵀ + b_up)          up projection: each row of W_up asks a question (a dot product)
        out = x + h W_downᵀ + b_down       down projection: each column of W_down is what a neuron adds

    ``up`` is Linear(d_model, d_hidden), ``down`` is Linear(d_hidden, d_model). ``neuron_mask`` (None
    or a length-d_hidden tensor of 0s and 1s) multiplies h, so neurons can be switched off (ablation).
    """

    def __init__(self, d_model: int, d_hidden: int, activation: str = "relu", *, generator=None, seed=None):
        super().__init__()
        generator = init.generator_for(generator, seed)
        self.d_model = integer("MLPBlock", "d_model", d_model)
        self.d_hidden = integer("MLPBlock", "d_hidden", d_hidden)
        self.activation_name = str(activation).lower()
        self.up = Linear(self.d_model, self.d_hidden, generator=generator)
        self.act = get_activation(self.activation_name)
        self.down = Linear(self.d_hidden, self.d_model, generator=generator)
        self.neuron_mask = None

    def hidden(self, x: Tensor) -> Tensor:
        """The neurons' values act(x W_upᵀ + b_up), after the mask if one is set."""
        h = self.act(self.up(x))
        if self.neuron_mask is not None:
            h = h * self.neuron_mask
        return h

    def delta(self, x: Tensor) -> Tensor:
        """What the block adds to the residual stream: act(x W_upᵀ + b_up) W_downᵀ + b_down."""
        return self.down(self.hidden(x))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.delta(x)

    def extra_repr(self) -> str:
        return f"d_model={self.d_model}, d_hidden={self.d_hidden}, activation={self.activation_name!r}"
