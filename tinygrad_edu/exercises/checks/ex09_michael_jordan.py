"""Exercise 9 · The Michael Jordan neuron by hand: an AND gate with a margin, checked in high dimension."""
from __future__ import annotations

import functools
import math
import random

import tinygrad_edu as tg
from tinygrad_edu import nn
from tinygrad_edu.directions import Directions

from ..checking import CheckFailed, Exercise, Step, require_callable, student_code

VOCAB = ["Michael", "Jordan", "basketball", "Phelps", "swimming", "LeBron", "tennis"]
CASES = [("Michael Jordan", ["Michael", "Jordan"]), ("Michael", ["Michael"]), ("Jordan", ["Jordan"]),
         ("Michael Phelps", ["Michael", "Phelps"]), ("LeBron Jordan", ["LeBron", "Jordan"]), ("(nothing)", [])]
MARGIN = 0.25                 # a single name must stay this far below the kink, the pair this far above
GPT3_WIDTH = 12_288
SEEDS = (0, 1)

KINK = ("your bias puts a single name right on ReLU's kink: with b = −1, \"Michael\" alone gives (M + J)·M − 1 = "
        "M·J ≈ 0, and in high dimension M·J ≈ ±1/√d leaks through half the time. Put the bias halfway between "
        "one name (1) and both (2): b = −1.5, and double W_down's column (2B) so the pair still writes 1")
ROW_BOTH = ("the row of W_up must ask about both names: (M + J)·x is 2 for the pair and 1 for either name "
            "alone, so a bias between 1 and 2 separates them (with M alone the neuron cannot tell "
            "\"Michael Phelps\" from \"Michael Jordan\")")
SIGN = "the column of W_down is what the neuron adds: +B (scaled), so that the fact adds basketball, not −basketball"
SCALE = ("the pair's pre-activation is 2 + b, and the neuron adds (2 + b)·column; for a score of exactly 1 "
         "along B the column must be B / (2 + b): 2B for b = −1.5")
NO_BIAS = ("without a negative bias a single name already fires ((M + J)·M = 1 > 0): the bias is the "
           "threshold, between 1 (one name) and 2 (both)")


def _neuron(module, ctx, vectors: dict, dim: int):
    fn = require_callable(module, "fact_neuron", "fact_neuron(michael, jordan, basketball)")
    with student_code(ctx, "fact_neuron"):
        answer = fn(vectors["Michael"], vectors["Jordan"], vectors["basketball"])
    if not (isinstance(answer, tuple) and len(answer) == 3):
        raise CheckFailed(f"fact_neuron returned {type(answer).__name__}; expected a tuple "
                          "(up_row, up_bias, down_column)")
    row, bias, column = answer
    for name, value in (("up_row", row), ("down_column", column)):
        if not isinstance(value, tg.Tensor):
            raise CheckFailed(f"fact_neuron's {name} is {type(value).__name__}; expected a Tensor of shape ({dim},)")
        if tuple(value.shape) != (dim,):
            raise CheckFailed(f"fact_neuron's {name} has shape {tuple(value.shape)}; expected ({dim},), "
                              "one number per dimension")
    if isinstance(bias, tg.Tensor):
        if bias.numel() != 1:
            raise CheckFailed(f"fact_neuron's up_bias has shape {tuple(bias.shape)}; expected one number")
        bias = bias.item()
    if not isinstance(bias, (int, float)) or isinstance(bias, bool):
        raise CheckFailed(f"fact_neuron's up_bias is {type(bias).__name__}; expected a number")
    return row, float(bias), column


def _block(dim: int, row, bias: float, column) -> nn.MLPBlock:
    block = nn.MLPBlock(dim, 1, seed=0)
    block.load_state_dict({"up.weight": row.reshape(1, dim), "up.bias": tg.tensor([bias]),
                           "down.weight": column.reshape(dim, 1), "down.bias": tg.zeros(dim)})
    return block


def _run(module, ctx, vectors: dict, where: str, tolerance: float) -> None:
    dim = vectors["Michael"].shape[0]
    row, bias, column = _neuron(module, ctx, vectors, dim)
    block = _block(dim, row, bias, column)
    B = vectors["basketball"]
    with tg.no_grad():
        for label, names in CASES:
            x = tg.zeros(dim)
            for name in names:
                x = x + vectors[name]
            pre = block.up(x).item()
            score = ((block(x) - x) * B).sum().item()
            if label == "Michael Jordan":
                if pre < MARGIN:
                    hint = NO_BIAS if pre > 1.5 else (KINK if abs(pre) < 0.05 else None)
                    raise CheckFailed(f"for \"Michael Jordan\" the neuron's pre-activation is {pre:.3f}: it "
                                      f"should fire clearly (at least {MARGIN}) ({where})", hint)
                if abs(score - 1.0) > tolerance:
                    raise CheckFailed(f"for \"Michael Jordan\" the block adds {score:.3f} along basketball; "
                                      f"expected 1 ({where})", SIGN if score < 0 else SCALE)
            else:
                if pre > -MARGIN:
                    if abs(bias + 1.0) < 0.05 and abs(pre) < 0.05 + 3 / dim ** 0.5:
                        hint = KINK
                    elif bias > -0.5:
                        hint = NO_BIAS
                    else:
                        hint = ROW_BOTH
                    raise CheckFailed(f"for \"{label}\" the neuron's pre-activation is {pre:.3f}: it must stay "
                                      f"below the kink with a margin (at most −{MARGIN}), or noise fires it "
                                      f"({where})", hint)
                if abs(score) > tolerance:
                    raise CheckFailed(f"for \"{label}\" the block adds {score:.3f} along basketball; expected 0 "
                                      f"({where})")


def _orthonormal() -> dict:
    names = [n for _, case in CASES for n in case] + ["basketball"]
    names = list(dict.fromkeys(names))
    return {n: tg.tensor([1.0 if i == k else 0.0 for i in range(len(names))]) for k, n in enumerate(names)}


@functools.lru_cache(maxsize=None)
def _random_unit_vectors(seed: int) -> tuple:
    """Random unit vectors u = g / ‖g‖, g ~ N(0, I), as plain numbers: drawn once, put on each backend."""
    rng = random.Random(seed)
    names = list(dict.fromkeys([n for _, case in CASES for n in case] + ["basketball"]))
    vectors = []
    for name in names:
        g = [rng.gauss(0.0, 1.0) for _ in range(GPT3_WIDTH)]
        norm = math.sqrt(math.fsum(v * v for v in g))
        vectors.append((name, [v / norm for v in g]))
    return tuple(vectors)


def first_call(module, ctx):
    with tg.use_backend("python"):
        vectors = _orthonormal()
        _neuron(module, ctx, vectors, vectors["Michael"].shape[0])


def orthonormal(module, ctx):
    for backend in ctx.backends:
        with tg.use_backend(backend):
            _run(module, ctx, _orthonormal(), f"orthonormal directions, {backend} backend", 1e-9)


def high_dimensions(module, ctx):
    for backend in ctx.backends:
        with tg.use_backend(backend):
            for seed in SEEDS:
                vectors = {name: tg.tensor(values) for name, values in _random_unit_vectors(seed)}
                _run(module, ctx, vectors, f"random unit directions in {GPT3_WIDTH:,} dimensions, seed {seed}, "
                                           f"{backend} backend", 0.1)


def trace(module):
    dirs = Directions.orthonormal(VOCAB)
    row, bias, column = module.fact_neuron(dirs["Michael"], dirs["Jordan"], dirs["basketball"])
    block = _block(dirs.dim, row, float(bias.item() if isinstance(bias, tg.Tensor) else bias), column)
    x = dirs.embed(["Michael", "Jordan"]).named("Michael Jordan")
    out = block(x).named("out")
    return {"loss": (out * dirs["basketball"]).sum().named("score"), "directions": dirs,
            "modules": {"block": block}}


EXERCISE = Exercise(
    number=9, slug="michael_jordan", title="The Michael Jordan neuron by hand", lesson=4,
    task="fact_neuron(M, J, B): W_up row, bias with a margin, W_down column",
    steps=[Step("returns a row, a bias and a column", first_call),
           Step("an AND gate on orthonormal directions", orthonormal),
           Step(f"an AND gate on random directions in {GPT3_WIDTH:,} dimensions", high_dimensions)],
    hint="row = M + J, bias −1.5 (halfway between one name and both), column = 2B",
    trace=trace)
