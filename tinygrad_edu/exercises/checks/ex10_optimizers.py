"""Exercise 10 · An optimizer step: SGD with momentum, then Adam, as subclasses of optim.Optimizer."""
from __future__ import annotations

import math

import tinygrad_edu as tg
from tinygrad_edu import optim

from ..checking import CheckFailed, Exercise, Step, assert_close, require, student_code

STEPS = 6
SIGN = "a sign error: step AGAINST the gradient, w ← w − lr·g (the gradient points uphill)"
NO_STATE = ("keep the momentum buffer between steps in state (state[\"momentum\"] = b): each call of update "
            "gets the same dict for the same parameter, and without it every step forgets the last")
DAMPENED = "use PyTorch's form b ← μ·b + g (no (1 − μ) in front of g), and start b at g"
NO_BIAS_CORRECTION = ("correct the averages for their start at 0: m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ), with t "
                      "this parameter's step count (kept in state); without it the first steps are too large")
NO_SQRT = "divide by the square root of v̂ (√v̂ + ε): v̂ averages g², so √v̂ is on the scale of g"


def _problem():
    """A small least-squares problem: W (2, 3) and b (2,) fitted to fixed targets."""
    W = tg.tensor([[0.5, -1.0, 0.25], [1.5, 0.0, -0.5]], requires_grad=True)
    b = tg.tensor([0.1, -0.2], requires_grad=True)
    x = tg.tensor([[1.0, 2.0, -1.0], [0.5, -1.5, 2.0], [-2.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
    target = tg.tensor([[1.0, -1.0], [0.0, 2.0], [3.0, 1.0], [-1.0, 0.5]])

    def loss():
        err = x @ W.T + b - target
        return (err * err).mean()

    return {"W": W, "b": b}, loss


def _trajectory(ctx, make, what: str, steps: int = STEPS):
    params, loss = _problem()
    with student_code(ctx, f"{what}(...)"):
        opt = make(list(params.items()))
    values, losses = [], []
    for _ in range(steps):
        opt.zero_grad()
        current = loss()
        current.backward()
        losses.append(current.item())
        with student_code(ctx, f"{what}.step"):
            opt.step()
        values.append({name: p.detach() for name, p in params.items()})
    return values, losses


def _compare(module, ctx, name: str, kwargs: dict, reference):
    cls = require(module, name, f"class {name}(optim.Optimizer)")
    if not (isinstance(cls, type) and issubclass(cls, optim.Optimizer)):
        raise CheckFailed(f"{name} must be a class that subclasses tinygrad_edu.optim.Optimizer")
    settings = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    for backend in ctx.backends:
        with tg.use_backend(backend):
            mine, _ = _trajectory(ctx, lambda p: cls(p, **kwargs), name)
            theirs, _ = _trajectory(ctx, lambda p: reference(p, **kwargs), f"optim.{name}")
            for step, (a, b) in enumerate(zip(mine, theirs), start=1):
                for key in ("W", "b"):
                    assert_close(a[key], b[key], f"{name}({settings}): {key} after step {step}", rtol=1e-9,
                                 atol=1e-12, context=f"a least-squares fit, {backend} backend")


def sgd_plain(module, ctx):
    _compare(module, ctx, "SGD", {"lr": 0.1}, optim.SGD)


def sgd_momentum(module, ctx):
    _compare(module, ctx, "SGD", {"lr": 0.05, "momentum": 0.9}, optim.SGD)


def adam(module, ctx):
    _compare(module, ctx, "Adam", {"lr": 0.05}, optim.Adam)


def outcome(module, ctx):
    with tg.use_backend(ctx.backends[-1]):
        for name, kwargs in (("SGD", {"lr": 0.05, "momentum": 0.9}), ("Adam", {"lr": 0.05})):
            cls = getattr(module, name)
            _, losses = _trajectory(ctx, lambda p: cls(p, **kwargs), name, steps=150)
            if not losses[-1] < 0.5 * losses[0]:
                raise CheckFailed(f"{name}({', '.join(f'{k}={v}' for k, v in kwargs.items())}) does not train: the "
                                  f"loss went from {losses[0]:.4g} to {losses[-1]:.4g} in 150 steps")


# ---- diagnoses: the student's optimizer on one parameter with known gradients -------------------------------
GRADS = [[0.5, -1.0], [0.25, 0.5], [1.0, 1.0]]


def _run_known(cls, **kwargs) -> list[list[float]]:
    w = tg.tensor([1.0, -2.0], requires_grad=True)
    opt = cls([w], **kwargs)
    out = []
    for g in GRADS:
        w.grad = tg.tensor(g)
        opt.step()
        out.append(w.tolist())
    return out


def _sgd_paths(lr, mu):
    paths = {}
    for kind in ("right", "sign", "no_state", "dampened"):
        w, b, path = [1.0, -2.0], None, []
        for g in GRADS:
            if kind == "no_state":
                step = g
            elif kind == "dampened":
                b = list(g) if b is None else [mu * bi + (1 - mu) * gi for bi, gi in zip(b, g)]
                step = b
            else:
                b = list(g) if b is None else [mu * bi + gi for bi, gi in zip(b, g)]
                step = b
            sign = 1.0 if kind == "sign" else -1.0
            w = [wi + sign * lr * si for wi, si in zip(w, step)]
            path.append(w)
        paths[kind] = path
    return paths


def _adam_paths(lr, b1=0.9, b2=0.999, eps=1e-8):
    paths = {}
    for kind in ("right", "sign", "no_bias_correction", "no_sqrt"):
        w, m, v, path = [1.0, -2.0], [0.0, 0.0], [0.0, 0.0], []
        for t, g in enumerate(GRADS, start=1):
            m = [b1 * mi + (1 - b1) * gi for mi, gi in zip(m, g)]
            v = [b2 * vi + (1 - b2) * gi * gi for vi, gi in zip(v, g)]
            mh = m if kind == "no_bias_correction" else [mi / (1 - b1 ** t) for mi in m]
            vh = v if kind == "no_bias_correction" else [vi / (1 - b2 ** t) for vi in v]
            scale = [(vi if kind == "no_sqrt" else math.sqrt(vi)) + eps for vi in vh]
            sign = 1.0 if kind == "sign" else -1.0
            w = [wi + sign * lr * mi / si for wi, mi, si in zip(w, mh, scale)]
            path.append(w)
        paths[kind] = path
    return paths


def _matches(a, b) -> bool:
    return all(abs(x - y) <= 1e-9 * max(1.0, abs(y)) for ra, rb in zip(a, b) for x, y in zip(ra, rb))


def diagnose(module, ctx):
    hints = {"sign": SIGN, "no_state": NO_STATE, "dampened": DAMPENED, "no_bias_correction": NO_BIAS_CORRECTION,
             "no_sqrt": NO_SQRT}
    for cls_name, kwargs, paths in (("SGD", {"lr": 0.1}, _sgd_paths(0.1, 0.0)),
                                    ("SGD", {"lr": 0.1, "momentum": 0.9}, _sgd_paths(0.1, 0.9)),
                                    ("Adam", {"lr": 0.1}, _adam_paths(0.1))):
        try:
            got = _run_known(getattr(module, cls_name), **kwargs)
        except Exception:
            return None
        if _matches(got, paths["right"]):
            continue
        for kind, path in paths.items():
            if kind != "right" and _matches(got, path):
                return hints[kind]
        return None
    return None


def trace(module):
    w = tg.tensor([0.5, -1.0], requires_grad=True).named("w")
    opt = module.Adam([("w", w)], lr=0.1)
    target = tg.tensor([1.0, 1.0]).named("target")
    err = (w - target).named("err")
    return {"loss": (err * err).sum().named("L"), "optimizer": opt}


EXERCISE = Exercise(
    number=10, slug="optimizers", title="An optimizer step: SGD with momentum, Adam", lesson=5,
    task="SGD.update (with momentum) and Adam.update, subclasses of optim.Optimizer",
    steps=[Step("SGD without momentum equals optim.SGD", sgd_plain),
           Step("SGD with momentum 0.9 equals optim.SGD", sgd_momentum),
           Step("Adam equals optim.Adam", adam),
           Step("both bring a least-squares loss down", outcome)],
    hint="SGD: b ← μ·b + g (b starts as g), w ← w − lr·b; Adam: m, v running averages of g and g², "
         "bias-corrected by 1 − βᵗ, w ← w − lr·m̂/(√v̂ + ε); keep b, m, v and t in state",
    diagnose=diagnose, trace=trace)
