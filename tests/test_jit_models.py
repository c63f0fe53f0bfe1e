"""Every model's training step, jitted, gives the eager numbers bit for bit on both backends: the loss, the
parameters and their gradients after every step (small settings, a few steps each)."""
from __future__ import annotations

import importlib.util

import pytest

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import optim
from test_jit import bits


def mlp_block():
    """models.mlp_block: a student block imitates a teacher on fresh random inputs (Adam)."""
    from tinygrad_edu.models import mlp_block as M

    teacher = M.build(8, 4, seed=1000)
    teacher.requires_grad_(False)
    student = M.build(8, 16, seed=0)
    opt = optim.Adam(student.named_parameters(), lr=1e-2)
    generator = tg.Generator(1)

    def step(x, y):
        opt.zero_grad()
        loss = F.mse_loss(student(x), y)
        loss.backward()
        opt.step()
        return loss

    def batch():
        x = tg.randn(8, 8, generator=generator)
        with tg.no_grad():
            return x, teacher(x)

    return step, batch, list(student.parameters())


def facts():
    """models.michael_jordan: the fact store, full batch, MSE on the sport scores (Adam)."""
    from tinygrad_edu.models import michael_jordan as M

    model = M.FactStore(M.choose_facts(6), 16, 8, seed=0)
    inputs, targets, _ = model.examples()
    x = model.embed(inputs)
    opt = optim.Adam(model.named_parameters(), lr=1e-2)

    def step():
        opt.zero_grad()
        loss = F.mse_loss(model(x), targets)
        loss.backward()
        opt.step()
        return loss

    return step, tuple, list(model.parameters())


def orthogonal():
    """models.superposition: unit vectors pushed apart by mean |cos|⁸ (Adam)."""
    from tinygrad_edu.models import superposition as S

    v = tg.randn(10, 4, seed=0).requires_grad_()
    off_diagonal = 1.0 - tg.eye(10)
    opt = optim.Adam([("vectors", v)], lr=0.03)

    def step():
        opt.zero_grad()
        u = S._unit_rows(v)
        cos2 = (u @ u.T) ** 2
        loss = (((cos2 + 1e-8) ** 4.0) * off_diagonal).sum() * (1.0 / 90)
        loss.backward()
        opt.step()
        return loss

    return step, tuple, [v]


def toy_model():
    """models.superposition: a toy model of superposition on sparse random features (Adam)."""
    from tinygrad_edu.models import superposition as S

    model = S.ToyModel(8, 3, seed=0)
    importance = tg.tensor([0.7 ** i for i in range(8)])
    generator = tg.Generator(1)
    opt = optim.Adam(model.named_parameters(), lr=1e-2)

    def step(x):
        opt.zero_grad()
        err = x - model(x)
        loss = (err * err * importance).sum(1).mean()
        loss.backward()
        opt.step()
        return loss

    return step, lambda: (S._batch(16, 8, 0.7, generator),), list(model.parameters())


def transformer():
    """models.mini_transformer: next-token cross-entropy on fact sentences (AdamW)."""
    from tinygrad_edu.models import mini_transformer as T

    facts = T.choose_facts(None, T.FACTS + T.CROSSED_FACTS)[:6]
    vocab, sentences = T.make_corpus(facts)
    model = T.MiniTransformer(len(vocab), context=3, d_model=8, n_heads=2, d_hidden=16, layers=1, seed=0)
    inputs = [s[:3] for s in sentences]
    targets = tg.tensor([t for s in sentences for t in s[1:]])
    opt = optim.AdamW(model.named_parameters(), lr=1e-2, weight_decay=0.01)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(inputs).reshape(-1, len(vocab)), targets)
        loss.backward()
        opt.step()
        return loss

    return step, tuple, list(model.parameters())


def moons():
    """models.moons: micrograd's demo, hinge loss + L2, SGD whose lr falls every step (set outside)."""
    from tinygrad_edu.models import moons as Mo

    points, labels = Mo.make_moons(20, 0.1, 0)
    model = Mo.build(hidden=(8, 8), seed=1)
    x = tg.tensor(points)
    y = tg.tensor([[float(label)] for label in labels])
    opt = optim.SGD(model.named_parameters(), lr=1.0)
    calls = [0]

    def step():
        total, _, _ = Mo.hinge_loss(model(x), y, model, 1e-4)
        opt.zero_grad()
        total.backward()
        opt.step()
        return total

    def before_each_step():
        opt.lr = 1.0 - 0.9 * calls[0] / 10
        calls[0] += 1
        return ()

    return step, before_each_step, list(model.parameters())


MODELS = [mlp_block, facts, orthogonal, toy_model, transformer]
if importlib.util.find_spec("tinygrad_edu.models.moons") is not None:
    MODELS.append(moons)


@pytest.mark.parametrize("make", MODELS, ids=lambda f: f.__name__)
def test_a_models_training_step_replays_bit_for_bit(make, backend):
    eager_step, eager_batch, eager_params = make()
    jit_step, jit_batch, jit_params = make()
    jitted = tg.jit(jit_step)
    for call in range(1, 8):
        eager_loss, jit_loss = eager_step(*eager_batch()), jitted(*jit_batch())
        assert bits(eager_loss) == bits(jit_loss), f"call {call}: loss {eager_loss.item()} != {jit_loss.item()}"
        for p, q in zip(eager_params, jit_params, strict=True):
            assert bits(p) == bits(q), f"call {call}: a parameter differs"
            assert bits(p.grad) == bits(q.grad), f"call {call}: a gradient differs"
    assert jitted.replays >= 3, repr(jitted)
    assert "def replay(" in jitted.explain().program.source
