import math

import tinygrad_edu as tg
from tinygrad_edu import nn


class Linear(nn.Module):
    def __init__(self, in_features, out_features, seed=0):
        super().__init__()
        bound = 1 / math.sqrt(in_features)
        self.weight = nn.Parameter(tg.uniform(out_features, in_features, low=-bound, high=bound, seed=seed))
        self.bias = nn.Parameter(tg.uniform(out_features, low=-bound, high=bound, seed=seed + 7))

    def forward(self, x):
        return x @ self.weight.T + self.bias


class MLPBlock(nn.Module):
    def __init__(self, d_model, d_hidden, seed=0):
        super().__init__()
        self.up = Linear(d_model, d_hidden, seed)
        self.down = Linear(d_hidden, d_model, seed + 1)

    def forward(self, x):
        return self.down(self.up(x).relu())     # no residual
