"""Exercise 10 · An optimizer step: SGD with momentum, then Adam; a reference solution."""
from tinygrad_edu import optim


class SGD(optim.Optimizer):
    """b ← μ·b + g (b starts as g);  w ← w − lr·b."""

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.0):
        super().__init__(params, lr)
        self.momentum = momentum

    def update(self, param, w, g, state):
        if self.momentum:
            b = state.get("momentum")
            b = g if b is None else b * self.momentum + g
            state["momentum"] = b
            g = b
        return w - g * self.lr


class Adam(optim.Optimizer):
    """m, v: running averages of g and g², corrected for their start at 0;  w ← w − lr·m̂/(√v̂ + ε)."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8):
        super().__init__(params, lr)
        self.betas, self.eps = betas, eps

    def update(self, param, w, g, state):
        b1, b2 = self.betas
        t = state.get("t", 0) + 1
        m = g * (1 - b1) if t == 1 else state["m"] * b1 + g * (1 - b1)
        v = g * g * (1 - b2) if t == 1 else state["v"] * b2 + g * g * (1 - b2)
        state.update(t=t, m=m, v=v)
        m_hat = m * (1.0 / (1 - b1 ** t))
        v_hat = v * (1.0 / (1 - b2 ** t))
        return w - m_hat * self.lr / (v_hat.sqrt() + self.eps)


if __name__ == "__main__":
    import tinygrad_edu as tg

    for make in (lambda p: SGD(p, lr=0.1, momentum=0.9), lambda p: Adam(p, lr=0.1)):
        w = tg.tensor([3.0, -2.0], requires_grad=True)
        opt = make([w])
        for step in range(100):
            opt.zero_grad()
            ((w - 1.0) * (w - 1.0)).sum().backward()
            opt.step()
        print(type(opt).__name__, w)
