"""optim: each update rule against its formula, convergence, schedules, trace hook, errors."""
import math

import pytest

import tinygrad_edu as tg
from tinygrad_edu import autograd, nn, optim


def param(values):
    return nn.Parameter(values)


def set_grad(p, values):
    p.grad = tg.tensor(values)


def test_sgd_plain_momentum_and_weight_decay(backend):
    p = param([1.0, -2.0])
    opt = optim.SGD([p], lr=0.1)
    set_grad(p, [0.5, 1.0])
    opt.step()
    assert p.tolist() == pytest.approx([1.0 - 0.05, -2.0 - 0.1])

    q = param([1.0])
    opt = optim.SGD([q], lr=0.1, momentum=0.9, weight_decay=0.5)
    set_grad(q, [2.0])
    opt.step()                              # g = 2 + 0.5*1 = 2.5, b = 2.5, w = 1 - 0.25
    assert q.tolist() == pytest.approx([0.75])
    set_grad(q, [2.0])
    opt.step()                              # g = 2 + 0.375, b = 0.9*2.5 + 2.375 = 4.625
    assert q.tolist() == pytest.approx([0.75 - 0.4625])


def test_adam_matches_the_formula_over_three_steps(backend):
    lr, (b1, b2), eps = 0.05, (0.8, 0.9), 1e-8
    p = param([0.7, -1.3])
    opt = optim.Adam([p], lr=lr, betas=(b1, b2), eps=eps)
    w, m, v = [0.7, -1.3], [0.0, 0.0], [0.0, 0.0]
    for t, g in enumerate([[0.3, -2.0], [0.1, 0.5], [-0.4, 1.5]], start=1):
        set_grad(p, g)
        opt.step()
        for i in range(2):
            m[i] = b1 * m[i] + (1 - b1) * g[i]
            v[i] = b2 * v[i] + (1 - b2) * g[i] ** 2
            w[i] -= lr * (m[i] / (1 - b1 ** t)) / (math.sqrt(v[i] / (1 - b2 ** t)) + eps)
        assert p.tolist() == pytest.approx(w, rel=1e-12)


def test_adamw_decays_weights_even_without_gradient_signal():
    p = param([2.0])
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    set_grad(p, [0.0])
    opt.step()                               # Adam part is 0: only w·(1 − lr·λ)
    assert p.tolist() == pytest.approx([2.0 * (1 - 0.05)])


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.5),
                                  lambda ps: optim.Adam(ps, lr=0.1), lambda ps: optim.AdamW(ps, lr=0.1)])
def test_optimizers_minimise_a_quadratic(make):
    target = tg.tensor([1.5, -0.5, 3.0])
    w = param([0.0, 0.0, 0.0])
    opt = make([w])
    for _ in range(300):
        opt.zero_grad()
        loss = ((w - target) ** 2).sum()
        loss.backward()
        opt.step()
    assert w.tolist() == pytest.approx(target.tolist(), abs=0.05)


def test_zero_grad_and_skipping_parameters_without_gradient():
    a, b = param([1.0]), param([1.0])
    opt = optim.SGD([a, b], lr=1.0)
    set_grad(a, [1.0])
    opt.step()
    assert a.tolist() == [0.0] and b.tolist() == [1.0]
    opt.zero_grad()
    assert a.grad is None


class UpdateLog:
    def __init__(self):
        self.updates = []

    def on_forward(self, *args):
        pass

    def on_backward(self, *args):
        pass

    def on_update(self, param, name, rule, before, grad, after):
        self.updates.append((name, rule, before.tolist(), grad.tolist(), after.tolist()))


def test_updates_are_recorded_with_dotted_names_and_rule(backend):
    model = nn.Linear(2, 1, seed=0)
    opt = optim.SGD(model.named_parameters(), lr=0.5)
    model(tg.ones(1, 2)).sum().backward()
    log = UpdateLog()
    previous = autograd.set_recorder(log)
    try:
        opt.step()
    finally:
        autograd.set_recorder(previous)
    assert [u[0] for u in log.updates] == ["weight", "bias"]
    name, rule, before, grad, after = log.updates[1]
    assert "0.5" in rule
    assert after == pytest.approx([before[0] - 0.5 * grad[0]])


def test_unnamed_params_fall_back_to_tensor_names():
    a = param([1.0]).named("alpha")
    opt = optim.SGD([a, param([2.0])], lr=0.1)
    assert [n for n, _ in opt.named_params] == ["alpha", "param1"]


def test_schedules():
    p = param([0.0])
    opt = optim.SGD([p], lr=1.0)
    sched = optim.StepLR(opt, step_size=2, gamma=0.5)
    assert [opt.lr] + [sched.step() for _ in range(4)] == [1.0, 1.0, 0.5, 0.5, 0.25]
    opt = optim.SGD([p], lr=1.0)
    sched = optim.CosineLR(opt, total_steps=10, warmup_steps=2, min_lr=0.1)
    lrs = [opt.lr] + [sched.step() for _ in range(10)]
    assert lrs[0] == pytest.approx(0.5) and lrs[1] == pytest.approx(1.0)
    assert lrs[2] == pytest.approx(1.0) and lrs[-1] == pytest.approx(0.1)
    assert all(x >= y for x, y in zip(lrs[2:], lrs[3:]))


def test_clip_grad_norm():
    a, b = param([0.0, 0.0]), param([0.0])
    set_grad(a, [3.0, 0.0])
    set_grad(b, [4.0])
    assert optim.clip_grad_norm_([a, b], 1.0) == pytest.approx(5.0)
    assert a.grad.tolist() + b.grad.tolist() == pytest.approx([0.6, 0.0, 0.8])


def test_bad_arguments_are_clear():
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="lr must be > 0"):
        optim.Adam([param([1.0])], lr=0)
    with pytest.raises(ValueError, match="does not require grad"):
        optim.SGD([tg.tensor([1.0])], lr=0.1)
    with pytest.raises(TypeError, match="Tensors or \\(name, Tensor\\) pairs"):
        optim.SGD([1.0], lr=0.1)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([param([1.0])], betas=(1.0, 0.9))
