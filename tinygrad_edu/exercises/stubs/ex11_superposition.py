"""Exercise 11 · A superposition experiment                        lesson 7 · High-dimensional space

Two features, one dimension: at which sparsity does the toy model of superposition store both, pointing
in opposite directions (antipodal)? Write the model, the test for an antipodal pair, and the sweep:
    reconstruct(W, b, x)                   the toy model's output x′
    antipodal_pairs(W)                     the pairs of features stored in opposite directions
    first_antipodal_sparsity(sparsities)   the first sparsity at which training finds such a pair
`train` (given, below) fits the model with your `reconstruct`.

The math (Elhage et al., 2022, "Toy Models of Superposition")
    n features xᵢ ∈ [0, 1], each 0 with probability S (the sparsity); feature i matters Iᵢ (1 and 0.7).
    They are compressed to m < n dimensions by W (m × n) and read back:
        h = x Wᵀ            (batch, m)           x′ = relu(h W + b)      (batch, n)
        loss = mean over the batch of Σᵢ Iᵢ (xᵢ − x′ᵢ)²
    Feature i's direction is column i of W, Wᵢ. It is represented when ‖Wᵢ‖ > 0.5. Two represented
    features are antipodal when cos(Wᵢ, Wⱼ) < −0.9. With m = 1 and n = 2: dense features (S = 0) keep
    only the more important one; sparse ones can share the dimension as +1 and −1, because they are
    rarely present together and the ReLU cuts off the negative interference.

What to write
    reconstruct(W, b, x): Tensors W (m, n), b (n,), x (batch, n) -> Tensor (batch, n), from Tensor ops.
    antipodal_pairs(W): a list of pairs (i, j), i < j; W a Tensor (W.tolist() gives its rows).
    first_antipodal_sparsity(sparsities, seed=0): train at each sparsity in increasing order and return
    the first whose W has an antipodal pair (None if none does).

Hints
    - x @ W.T, then @ W, + b, .relu().
    - the norm of a column: √(Σₖ W[k][i]²); its cosine with another: their dot product over both norms.
    - try it: python ex12_superposition.py prints W at a few sparsities.

Read    lesson 7, "The toy model of superposition"     tinygrad-edu tutorial high
Check   tinygrad-edu exercise check 11
"""
import math

import tinygrad_edu as tg
from tinygrad_edu import optim

N_FEATURES, N_HIDDEN = 2, 1
IMPORTANCE = [1.0, 0.7]


def reconstruct(W, b, x):
    raise NotImplementedError("exercise 11: write reconstruct")


def antipodal_pairs(W) -> list:
    raise NotImplementedError("exercise 11: write antipodal_pairs")


def train(sparsity, seed=0, steps=300, batch=64, lr=0.03):
    """Given: fit the toy model at one sparsity with Adam; returns W, shape (N_HIDDEN, N_FEATURES)."""
    generator = tg.Generator(seed)
    std = math.sqrt(2.0 / (N_FEATURES + N_HIDDEN))
    W = (tg.randn(N_HIDDEN, N_FEATURES, generator=generator) * std).requires_grad_()
    b = tg.zeros(N_FEATURES, requires_grad=True)
    importance = tg.tensor(IMPORTANCE)
    data = tg.Generator(seed + 1)
    opt = optim.Adam([("W", W), ("b", b)], lr=lr)
    for _ in range(steps):
        present = (tg.rand(batch, N_FEATURES, generator=data) >= sparsity).float()
        x = tg.rand(batch, N_FEATURES, generator=data) * present
        opt.zero_grad()
        err = x - reconstruct(W, b, x)
        loss = (err * err * importance).sum(1).mean()
        loss.backward()
        opt.step()
    return W.detach()


def first_antipodal_sparsity(sparsities, seed=0):
    raise NotImplementedError("exercise 11: write first_antipodal_sparsity")


if __name__ == "__main__":          # try it: python ex12_superposition.py
    for s in (0.0, 0.3, 0.6, 0.9):
        W = train(s)
        print(f"sparsity {s}: W = {[round(v, 3) for v in W.tolist()[0]]}, antipodal pairs {antipodal_pairs(W)}")
    print("first antipodal sparsity:", first_antipodal_sparsity([0.0, 0.2, 0.4, 0.6, 0.8]))
