"""Exercise 8 · Linear and the MLP block as Modules, built from ops (no backward to write)."""
from __future__ import annotations

import math

import tinygrad_edu as tg
from tinygrad_edu import nn

from ..checking import (CheckFailed, Exercise, Step, assert_close, describe_shape, for_examples, require,
                        student_code)

LAYOUT = ("store the weight as (out_features, in_features), as PyTorch does (each row is one output's "
          "question to the input), and compute y = x @ W.T + b")
NOT_PARAMETER = ("wrap weights and biases in nn.Parameter: a Module registers only Parameters (and "
                 "sub-Modules) set as attributes, so a plain Tensor is invisible to parameters() and the "
                 "optimizer")
NO_TRANSPOSE = "W has shape (out_features, in_features): y = x @ W.T + b (you multiplied by W itself)"
NO_RESIDUAL = ("the block adds to its input: return x + down(relu(up(x))); you returned only what it adds "
               "(the residual stream carries x past the block)")
NO_RELU = "apply the ReLU between the two Linears: down(relu(up(x))); without it the block is linear"
NO_BIAS = "add the bias: y = x @ W.T + b"


def _make(module, cls_name: str, *args):
    cls = require(module, cls_name, f"class {cls_name}(nn.Module)")
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise CheckFailed(f"{cls_name} must be a class that subclasses tinygrad_edu.nn.Module")
    return cls(*args)


def _expect_parameters(layer, expected: dict, what: str) -> None:
    got = {name: tuple(p.shape) for name, p in layer.named_parameters()}
    if got == expected:
        return
    plain = [k for k, v in vars(layer).items() if isinstance(v, tg.Tensor) and not isinstance(v, nn.Parameter)]
    if plain:
        raise CheckFailed(f"{what} has the plain tensor(s) {', '.join(plain)}, which are not registered as "
                          "parameters", NOT_PARAMETER)
    swapped = {k: tuple(reversed(v)) for k, v in expected.items()}
    hint = LAYOUT if any(got.get(k) == swapped[k] != expected[k] for k in expected) else None
    raise CheckFailed(f"{what}'s parameters are {got or 'none'}; expected {expected}", hint)


def linear_parameters(module, ctx):
    with tg.use_backend("python"), student_code(ctx, "Linear(3, 5)"):
        layer = _make(module, "Linear", 3, 5)
    _expect_parameters(layer, {"weight": (5, 3), "bias": (5,)}, "Linear(3, 5)")
    bound = 1 / math.sqrt(3)
    values = [v for _, p in layer.named_parameters() for v in p.reshape(-1).tolist()]
    if any(abs(v) > bound + 1e-12 for v in values):
        raise CheckFailed(f"Linear(3, 5) starts with values up to {max(map(abs, values)):.3g}; draw them "
                          f"uniformly from (−1/√in_features, 1/√in_features) = (−{bound:.3g}, {bound:.3g})")
    if len(set(values)) < len(values) // 2:
        raise CheckFailed("Linear(3, 5) starts with (nearly) all parameters equal: every output would compute "
                          "the same thing and get the same gradient, forever; draw them at random")


def _batches(in_features: int):
    from tinygrad_edu.testing import strategies as tgst
    return tgst.shapes(0, 2, max_side=3).flatmap(
        lambda batch: tgst.tensors(batch + (in_features,), requires_grad=True))


def _compare(ctx, mine, theirs, make_input, what: str):
    """Same parameters in both; the outputs and every gradient must agree."""
    def test(x, backend):
        ref = theirs()
        with student_code(ctx, f"{what}(...)"):
            layer = mine()
            layer.load_state_dict(ref.state_dict())
        x2 = tg.tensor(x.tolist(), requires_grad=True)
        with student_code(ctx, f"{what}.forward"):
            out = layer(x)
        if not isinstance(out, tg.Tensor):
            raise CheckFailed(f"{what}.forward returned {type(out).__name__}, expected a Tensor")
        expected = ref(x2)
        context = f"x of {describe_shape(x.shape)}, {backend} backend"
        assert_close(out, expected, f"{what}'s output", context=context)
        weights = tg.tensor([[0.5 + i * 0.25 for i in range(out.shape[-1])]])
        with student_code(ctx, f"backward through {what}"):
            (out * out * weights).sum().backward()
        (expected * expected * weights).sum().backward()
        assert_close(x.grad, x2.grad, f"∂L/∂x through {what}", context=context)
        theirs_grads = dict(ref.named_parameters())
        for name, p in layer.named_parameters():
            if p.grad is None:
                raise CheckFailed(f"{what}.{name} got no gradient ({context}): is it used in forward?")
            assert_close(p.grad, theirs_grads[name].grad, f"∂L/∂{name} in {what}", context=context)

    for_examples(ctx, make_input(), test, examples=max(4, ctx.examples // 2))


def linear_forward(module, ctx):
    _compare(ctx, lambda: _make(module, "Linear", 3, 5), lambda: nn.Linear(3, 5, seed=1), lambda: _batches(3),
             "Linear")


def block_parameters(module, ctx):
    with tg.use_backend("python"), student_code(ctx, "MLPBlock(3, 4)"):
        block = _make(module, "MLPBlock", 3, 4)
    _expect_parameters(block, {"up.weight": (4, 3), "up.bias": (4,), "down.weight": (3, 4), "down.bias": (3,)},
                       "MLPBlock(3, 4)")


def block_forward(module, ctx):
    _compare(ctx, lambda: _make(module, "MLPBlock", 3, 4), lambda: nn.MLPBlock(3, 4, seed=2),
             lambda: _batches(3), "MLPBlock")


def diagnose(module, ctx):
    ref = nn.Linear(3, 2, seed=3)
    x = tg.tensor([[1.0, -2.0, 0.5]])
    try:
        layer = module.Linear(3, 2)
        layer.load_state_dict(ref.state_dict())
    except Exception:
        return None
    try:
        out = layer(x).tolist()
    except Exception as error:
        return NO_TRANSPOSE if "matmul" in str(error) else None
    if out == (x @ ref.weight.T).tolist():
        return NO_BIAS
    if out != ref(x).tolist():
        return None
    block_ref = nn.MLPBlock(3, 4, seed=4)
    block = module.MLPBlock(3, 4)
    block.load_state_dict(block_ref.state_dict())
    xb = tg.tensor([[1.0, -2.0, 0.5], [0.3, 0.2, -1.0]])
    got = block(xb).tolist()
    close = lambda a, b: all(abs(u - v) < 1e-9 for ra, rb in zip(a, b) for u, v in zip(ra, rb))  # noqa: E731
    if close(got, block_ref.delta(xb).tolist()):
        return NO_RESIDUAL
    if close(got, (xb + block_ref.down(block_ref.up(xb))).tolist()):
        return NO_RELU
    return None


def trace(module):
    block = module.MLPBlock(3, 4)
    x = tg.tensor([[1.0, -0.5, 2.0]]).named("x")
    return {"loss": block(x).sum().named("L"), "modules": {"block": block}}


EXERCISE = Exercise(
    number=8, slug="modules", title="Linear and the MLP block as Modules", lesson=3,
    task="class Linear(nn.Module) and class MLPBlock(nn.Module): x + down(relu(up(x)))",
    steps=[Step("Linear's parameters: weight (out, in), bias (out,), initialised", linear_parameters),
           Step("Linear's output and gradients equal nn.Linear's", linear_forward),
           Step("MLPBlock's parameters: up and down", block_parameters),
           Step("MLPBlock's output and gradients equal nn.MLPBlock's", block_forward)],
    hint="Linear: weight = nn.Parameter((out, in)), bias = nn.Parameter((out,)), forward x @ W.T + b; "
         "MLPBlock: self.up = Linear(d, h), self.down = Linear(h, d), forward x + down(relu(up(x)))",
    diagnose=diagnose, trace=trace)
