"""Exercise 8 · Linear and the MLP block as Modules, a reference solution."""
import math

import tinygrad_edu as tg
from tinygrad_edu import nn


class Linear(nn.Module):
    """y = x @ Wᵀ + b, W of shape (out_features, in_features)."""

    def __init__(self, in_features: int, out_features: int, seed: int = 0):
        super().__init__()
        bound = 1 / math.sqrt(in_features)
        generator = tg.Generator(seed)
        self.weight = nn.Parameter(tg.uniform(out_features, in_features, low=-bound, high=bound,
                                              generator=generator))
        self.bias = nn.Parameter(tg.uniform(out_features, low=-bound, high=bound, generator=generator))

    def forward(self, x):
        return x @ self.weight.T + self.bias


class MLPBlock(nn.Module):
    """x + down(relu(up(x)))."""

    def __init__(self, d_model: int, d_hidden: int, seed: int = 0):
        super().__init__()
        self.up = Linear(d_model, d_hidden, seed=seed)
        self.down = Linear(d_hidden, d_model, seed=seed + 1)

    def forward(self, x):
        return x + self.down(self.up(x).relu())


if __name__ == "__main__":
    block = MLPBlock(3, 4)
    for name, p in block.named_parameters():
        print(name, p.shape)
    print(block(tg.tensor([[1.0, -0.5, 2.0]])))
