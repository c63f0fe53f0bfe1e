"""Exercise 10 · An optimizer step: SGD with momentum, Adam                lesson 5 · Learning facts

Write the update rules of two optimizers, as subclasses of optim.Optimizer (which keeps the
parameters, calls update once per parameter in step(), and skips those without a gradient):
    SGD.update     stochastic gradient descent with momentum
    Adam.update    Adam

The math (per parameter w with gradient g; all elementwise)
    SGD, momentum μ (PyTorch's form):
        b ← μ·b + g          (b starts as g at the first step)
        w ← w − lr·b         (μ = 0: plain w ← w − lr·g)
    Adam, β₁ = 0.9, β₂ = 0.999, ε = 1e-8, t = this parameter's step count (1, 2, ...):
        m ← β₁·m + (1 − β₁)·g            v ← β₂·v + (1 − β₂)·g²          (m and v start at 0)
        m̂ = m / (1 − β₁ᵗ)                v̂ = v / (1 − β₂ᵗ)               (corrects the start at 0)
        w ← w − lr · m̂ / (√v̂ + ε)

How it is called
    update(self, param, w, g, state) gets the parameter's value w and gradient g as backend arrays and
    returns the new value (an array: w - g * self.lr ...). `state` is a dict of your own for this
    parameter, the same one at every step: keep b, or m, v and t, in it. Arrays have +, -, *, /, and
    .sqrt(); numbers combine with them (g * 0.1).

Hints
    - the check compares your parameters after each of 6 steps with optim.SGD and optim.Adam.
    - state.get("momentum") is None at the first step.
    - Adam's first step with bias correction moves each weight by about lr, whatever the size of g.

Read    lesson 5, "Adam versus SGD" (tinygrad-edu tutorial learning); tinygrad_edu/optim.py has the
        framework's versions
Check   tinygrad-edu exercise check 10          (--trace 10 shows your Adam's updates)
"""
from tinygrad_edu import optim


class SGD(optim.Optimizer):
    def __init__(self, params, lr: float = 0.01, momentum: float = 0.0):
        super().__init__(params, lr)
        self.momentum = momentum

    def update(self, param, w, g, state):
        raise NotImplementedError("exercise 10: write SGD.update")


class Adam(optim.Optimizer):
    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8):
        super().__init__(params, lr)
        self.betas, self.eps = betas, eps

    def update(self, param, w, g, state):
        raise NotImplementedError("exercise 10: write Adam.update")


if __name__ == "__main__":          # try it: python ex11_optimizers.py
    import tinygrad_edu as tg

    for make in (lambda p: SGD(p, lr=0.1, momentum=0.9), lambda p: Adam(p, lr=0.1)):
        w = tg.tensor([3.0, -2.0], requires_grad=True)
        opt = make([w])
        for step in range(100):
            opt.zero_grad()
            ((w - 1.0) * (w - 1.0)).sum().backward()
            opt.step()
        print(type(opt).__name__, w)     # both near tensor([1., 1.])
