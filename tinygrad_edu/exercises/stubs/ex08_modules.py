"""Exercise 8 · Linear and the MLP block as Modules                         lesson 3 · The MLP block

Write two Modules from Tensor ops (no backward: the ops bring their gradients):
    class Linear(nn.Module)      y = x Wᵀ + b
    class MLPBlock(nn.Module)    out = x + down(relu(up(x))), the transformer's MLP block

The math
    Linear(in_features, out_features):
        W, shape (out_features, in_features): row o is the question output o asks of the input
        b, shape (out_features,)
        y = x @ Wᵀ + b        for x of shape (..., in_features): any leading (batch) axes
        start: W and b uniform in (−1/√in_features, 1/√in_features), as PyTorch does
    MLPBlock(d_model, d_hidden):
        up = Linear(d_model, d_hidden)       each row of up.weight asks a question (a dot product)
        down = Linear(d_hidden, d_model)     each column of down.weight is what a neuron adds
        out = x + down(relu(up(x)))          the residual: the block adds to x, it does not replace it

How a Module works
    Call super().__init__() first. Setting an nn.Parameter as an attribute registers it, and setting a
    Module registers it as a child: then parameters(), named_parameters() ("up.weight") and
    load_state_dict() work. The names must be weight, bias, up and down: the check loads the
    framework's numbers into yours by name and compares outputs and gradients.

Hints
    - nn.Parameter(tg.uniform(out_features, in_features, low=-bound, high=bound, seed=seed)).
    - x @ self.weight.T + self.bias; .relu() on a Tensor.
    - a plain Tensor attribute is not a parameter: the optimizer would never see it.

Read    lesson 3 (tinygrad-edu tutorial mlp); tinygrad_edu/nn/layers.py has the framework's versions
Check   tinygrad-edu exercise check 8           (--trace 8 steps through your block)
"""
import math

import tinygrad_edu as tg
from tinygrad_edu import nn


class Linear(nn.Module):
    def __init__(self, in_features: int, out_features: int, seed: int = 0):
        super().__init__()
        raise NotImplementedError("exercise 8: write Linear.__init__ (self.weight and self.bias)")

    def forward(self, x):
        raise NotImplementedError("exercise 8: write Linear.forward")


class MLPBlock(nn.Module):
    def __init__(self, d_model: int, d_hidden: int, seed: int = 0):
        super().__init__()
        raise NotImplementedError("exercise 8: write MLPBlock.__init__ (self.up and self.down)")

    def forward(self, x):
        raise NotImplementedError("exercise 8: write MLPBlock.forward")


if __name__ == "__main__":          # try it: python ex09_modules.py
    block = MLPBlock(3, 4)
    for name, p in block.named_parameters():
        print(name, p.shape)        # expected: up.weight (4, 3), up.bias (4,), down.weight (3, 4), down.bias (3,)
    print(block(tg.tensor([[1.0, -0.5, 2.0]])))
