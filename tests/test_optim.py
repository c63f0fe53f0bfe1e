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
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        optim.Adam([param([1.0])], lr=0)
    with pytest.raises(ValueError, match="does not require grad"):
        optim.SGD([tg.tensor([1.0])], lr=0.1)
    with pytest.raises(TypeError, match="Tensors or \\(name, Tensor\\) pairs"):
        optim.SGD([1.0], lr=0.1)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([param([1.0])], betas=(1.0, 0.9))


# ---- what PyTorch refuses, refused the same way -------------------------------------------------------
OPTIMIZERS = [optim.SGD, optim.Adam, optim.AdamW]


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_a_single_tensor_is_refused_as_in_pytorch(make):
    """Iterating a bare tensor gives its rows: the optimizer would train nothing. PyTorch raises TypeError."""
    w = param([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(TypeError, match=r"got a single Tensor of shape \(2, 2\); pass a list"):
        make(w, lr=0.1)


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_a_parameter_given_twice_is_refused(make):
    w = param([1.0, 2.0])
    with pytest.raises(ValueError, match=r"same parameter is given twice, as 'w' \(position 0\) and 'again'"):
        make([("w", w), ("again", w)], lr=0.1)
    with pytest.raises(ValueError, match="given twice"):
        make([w, param([0.0]), w], lr=0.1)


def test_a_parameter_given_once_takes_exactly_one_step():
    w = param([1.0])
    opt = optim.SGD([w], lr=0.5)
    set_grad(w, [1.0])
    opt.step()
    assert w.tolist() == [0.5]


def test_modules_dicts_and_non_leaves_get_a_hint():
    model = nn.Linear(2, 1)
    with pytest.raises(TypeError, match=r"got the module Linear itself; pass model.named_parameters\(\)"):
        optim.SGD(model, lr=0.1)
    with pytest.raises(TypeError, match=r"got a dict; pass model.named_parameters\(\) or the_dict.items\(\)"):
        optim.Adam(dict(model.named_parameters()))
    with pytest.raises(TypeError, match="parameter groups"):
        optim.SGD([{"params": [model.weight]}], lr=0.1)
    with pytest.raises(TypeError, match="got NoneType"):
        optim.SGD(None, lr=0.1)
    with pytest.raises(TypeError, match="must be a string, got int 1"):
        optim.SGD([(1, model.weight)], lr=0.1)
    with pytest.raises(ValueError, match="'double' is not a leaf"):
        optim.SGD([("double", model.weight * 2)], lr=0.1)


@pytest.mark.parametrize("make, kwargs, error, message", [
    (optim.SGD, dict(lr="0.1"), TypeError, "SGD: lr must be a finite number > 0, got '0.1'"),
    (optim.SGD, dict(lr=None), TypeError, "SGD: lr must be a finite number > 0, got None"),
    (optim.SGD, dict(lr=float("inf")), ValueError, "SGD: lr must be a finite number > 0, got inf"),
    (optim.SGD, dict(lr=-1), ValueError, "SGD: lr must be a finite number > 0, got -1.0"),
    (optim.SGD, dict(momentum=float("nan")), ValueError, "SGD: momentum must be a finite number >= 0, got nan"),
    (optim.SGD, dict(momentum="x"), TypeError, "SGD: momentum must be a finite number >= 0, got 'x'"),
    (optim.SGD, dict(weight_decay=-1), ValueError, "SGD: weight_decay must be a finite number >= 0, got -1.0"),
    (optim.Adam, dict(betas=(0.9,)), TypeError, "Adam: betas must be a pair of numbers in [0, 1) such as "
                                                "(0.9, 0.999), got (0.9,)"),
    (optim.Adam, dict(betas=0.9), TypeError, "Adam: betas must be a pair"),
    (optim.Adam, dict(betas=None), TypeError, "Adam: betas must be a pair"),
    (optim.Adam, dict(betas=(0.9, 0.99, 0.9)), TypeError, "Adam: betas must be a pair"),
    (optim.Adam, dict(betas=("a", 0.9)), TypeError, "Adam: betas[0] must be a number in [0, 1), got 'a'"),
    (optim.Adam, dict(betas=(0.9, 1.0)), ValueError, "Adam: betas[1] must be a number in [0, 1), got 1.0"),
    (optim.Adam, dict(eps=-1.0), ValueError, "Adam: eps must be a finite number >= 0, got -1.0"),
    (optim.Adam, dict(eps=float("nan")), ValueError, "Adam: eps must be a finite number >= 0, got nan"),
    (optim.Adam, dict(eps=None), TypeError, "Adam: eps must be a finite number >= 0, got None"),
    (optim.Adam, dict(weight_decay=-0.1), ValueError, "Adam: weight_decay must be a finite number >= 0, got -0.1"),
    (optim.AdamW, dict(weight_decay=-0.1), ValueError, "AdamW: weight_decay must be a finite number >= 0"),
    (optim.AdamW, dict(weight_decay=float("nan")), ValueError, "AdamW: weight_decay must be a finite number >= 0"),
    (optim.AdamW, dict(betas=(0.9,)), TypeError, "AdamW: betas must be a pair"),
    (optim.AdamW, dict(lr=[1]), TypeError, "AdamW: lr must be a finite number > 0, got list [1]"),
])
def test_bad_settings_name_the_argument_and_what_is_allowed(make, kwargs, error, message):
    with pytest.raises(error) as info:
        make([param([1.0])], **kwargs)
    assert message in str(info.value)


@pytest.mark.parametrize("make, error, message", [
    (lambda o: optim.StepLR(o, 0), ValueError, "StepLR: step_size must be a positive integer, got 0"),
    (lambda o: optim.StepLR(o, 2.5), TypeError, "StepLR: step_size must be a positive integer, got 2.5"),
    (lambda o: optim.StepLR(o, "a"), TypeError, "StepLR: step_size must be a positive integer, got 'a'"),
    (lambda o: optim.StepLR(o, 2, gamma=-1), ValueError, "StepLR: gamma must be a finite number >= 0, got -1.0"),
    (lambda o: optim.CosineLR(o, 10.5), TypeError, "CosineLR: total_steps must be a positive integer, got 10.5"),
    (lambda o: optim.CosineLR(o, 10, 10), ValueError, "need 0 <= warmup_steps < total_steps, got 10, 10"),
    (lambda o: optim.CosineLR(o, 10, min_lr=-1), ValueError, "CosineLR: min_lr must be a finite number >= 0"),
    (lambda o: optim.CosineLR(o, 10, min_lr=5), ValueError, "min_lr must be at most the optimizer's lr 0.1, got 5"),
    (lambda o: optim.StepLR([o], 1), TypeError, "StepLR: optimizer must be an Optimizer (SGD, Adam, AdamW), got list"),
    (lambda o: optim.CosineLR(None, 1), TypeError, "CosineLR: optimizer must be an Optimizer"),
])
def test_bad_schedule_settings_are_clear(make, error, message):
    opt = optim.SGD([param([1.0])], lr=0.1)
    with pytest.raises(error) as info:
        make(opt)
    assert message in str(info.value)
    assert opt.lr == 0.1      # a refused schedule leaves the optimizer alone


def test_clip_grad_norm_takes_one_tensor_as_pytorch_does_and_refuses_bad_norms():
    w = param([0.0, 0.0])
    set_grad(w, [3.0, 4.0])
    assert optim.clip_grad_norm_(w, 1.0) == pytest.approx(5.0)
    assert w.grad.tolist() == pytest.approx([0.6, 0.8])
    for bad, error in [(-1.0, ValueError), (0, ValueError), (float("nan"), ValueError), ("a", TypeError)]:
        with pytest.raises(error, match="clip_grad_norm_: max_norm must be a number > 0"):
            optim.clip_grad_norm_([w], bad)
    with pytest.raises(TypeError, match="params must be Tensors, got int at position 0"):
        optim.clip_grad_norm_([1], 1.0)
    assert optim.clip_grad_norm_([w], float("inf")) == pytest.approx(1.0)   # inf: measure, never clip
