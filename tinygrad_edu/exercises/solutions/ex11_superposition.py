"""Exercise 11 · A superposition experiment, a reference solution."""
import math

import tinygrad_edu as tg
from tinygrad_edu import optim

N_FEATURES, N_HIDDEN = 2, 1
IMPORTANCE = [1.0, 0.7]


def reconstruct(W, b, x):
    h = x @ W.T                          # (batch, m): compress
    return (h @ W + b).relu()            # (batch, n): read back with Wᵀ


def antipodal_pairs(W) -> list:
    columns = [[row[i] for row in W.tolist()] for i in range(W.shape[1])]
    norms = [math.sqrt(sum(c * c for c in col)) for col in columns]
    represented = [i for i, norm in enumerate(norms) if norm > 0.5]
    pairs = []
    for a, i in enumerate(represented):
        for j in represented[a + 1:]:
            cosine = sum(p * q for p, q in zip(columns[i], columns[j])) / (norms[i] * norms[j])
            if cosine < -0.9:
                pairs.append((i, j))
    return pairs


def train(sparsity, seed=0, steps=300, batch=64, lr=0.03):
    """Fit the toy model at one sparsity (given in the exercise); returns W, shape (N_HIDDEN, N_FEATURES)."""
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
    for sparsity in sorted(sparsities):
        if antipodal_pairs(train(sparsity, seed=seed)):
            return sparsity
    return None


if __name__ == "__main__":
    for s in (0.0, 0.3, 0.6, 0.9):
        W = train(s)
        print(f"sparsity {s}: W = {[round(v, 3) for v in W.tolist()[0]]}, antipodal pairs {antipodal_pairs(W)}")
    print("first antipodal sparsity:", first_antipodal_sparsity([0.0, 0.2, 0.4, 0.6, 0.8]))
