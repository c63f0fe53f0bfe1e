"""The lecture's MLP block as a model with named parts, and how big it is in GPT-3.

    out = x + down(act(up(x)))        up: Linear(d_model, d_hidden), down: Linear(d_hidden, d_model)

`build` makes one (`nn.MLPBlock`, whose parameters are named up.weight, up.bias, down.weight,
down.bias). `parameter_count` counts its numbers; `gpt3_figures` gives the lecture's figures for
GPT-3 (d_model = 12,288, d_hidden = 4 · 12,288, 96 layers).

`train` is a first training run: a student block learns to imitate a teacher block with fixed random
weights, on random inputs (mean squared error of the outputs). It shows the whole loop (forward,
loss, backward, Adam step) on the block the rest of the lecture is about.
"""
from __future__ import annotations

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import nn, optim

from . import TrainResult, notify

__all__ = ["build", "parameter_count", "gpt3_figures", "train", "report"]

GPT3_D_MODEL = 12288
GPT3_LAYERS = 96


def build(d_model: int = 16, d_hidden: int = 64, activation: str = "relu", seed: int = 0) -> nn.MLPBlock:
    """An MLP block with parts ``up`` and ``down``, initialised from ``seed``."""
    return nn.MLPBlock(d_model, d_hidden, activation=activation, seed=seed)


def parameter_count(d_model: int, d_hidden: int) -> dict:
    """Weights and biases of one block: W_up and W_down are d_hidden × d_model each."""
    weights = 2 * d_model * d_hidden
    biases = d_hidden + d_model
    return {"weights": weights, "biases": biases, "total": weights + biases}


def gpt3_figures() -> dict:
    """The lecture's GPT-3 numbers, computed rather than typed in."""
    d = GPT3_D_MODEL
    block = parameter_count(d, 4 * d)
    return {"d_model": d, "d_hidden": 4 * d, "layers": GPT3_LAYERS,
            "w_up": 4 * d * d, "weights_per_block": block["weights"], "biases_per_block": block["biases"],
            "mlp_weights_all_layers": block["weights"] * GPT3_LAYERS,
            "attention_weights_all_layers": 4 * d * d * GPT3_LAYERS}


def train(steps: int | None = None, seed: int = 0, on_step=None, d_model: int = 16, d_hidden: int = 64,
          teacher_hidden: int = 8, batch: int = 64, lr: float = 1e-2) -> TrainResult:
    """A student block (d_hidden neurons) learns a teacher block (teacher_hidden neurons) from samples."""
    steps = 500 if steps is None else int(steps)
    teacher = build(d_model, teacher_hidden, seed=seed + 1000)
    teacher.requires_grad_(False)
    student = build(d_model, d_hidden, seed=seed)
    generator = tg.Generator(seed + 1)
    test_x = tg.randn(256, d_model, generator=generator)
    with tg.no_grad():
        test_y = teacher(test_x)
        baseline = F.mse_loss(test_x, test_y).item()      # predicting "no change" (out = x)
    opt = optim.Adam(student.named_parameters(), lr=lr)
    losses = []
    for step in range(1, steps + 1):
        x = tg.randn(batch, d_model, generator=generator)
        with tg.no_grad():
            y = teacher(x)
        opt.zero_grad()
        loss = F.mse_loss(student(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        notify(on_step, step, steps, losses[-1])
    with tg.no_grad():
        test_loss = F.mse_loss(student(test_x), test_y).item()
        delta = test_y - test_x
        delta_var = (delta * delta).mean().item()
    counts = parameter_count(d_model, d_hidden)
    metrics = {"loss": losses[-1] if losses else float("nan"), "test_mse": test_loss,
               "identity_baseline_mse": baseline,
               "explained_fraction": 1 - test_loss / delta_var if delta_var > 0 else float("nan"),
               "parameters": counts["total"]}
    config = {"steps": steps, "seed": seed, "d_model": d_model, "d_hidden": d_hidden,
              "teacher_hidden": teacher_hidden, "batch": batch, "lr": lr, "optimizer": "Adam"}
    return TrainResult("mlp-block", metrics, losses, config,
                       state={"model": student.state_dict(), "config": config},
                       details={"model": student, "counts": counts})


def report(result: TrainResult):
    from rich.table import Table

    g = gpt3_figures()
    table = Table(title="The same block at GPT-3's size", title_justify="left")
    table.add_column("")
    table.add_column("this run", justify="right")
    table.add_column("GPT-3", justify="right")
    c = result.config
    counts = result.details["counts"]
    table.add_row("d_model", f"{c['d_model']:,}", f"{g['d_model']:,}")
    table.add_row("neurons (d_hidden)", f"{c['d_hidden']:,}", f"{g['d_hidden']:,}")
    table.add_row("weights in W_up + W_down", f"{counts['weights']:,}", f"{g['weights_per_block']:,}")
    table.add_row("biases", f"{counts['biases']:,}", f"{g['biases_per_block']:,}")
    table.add_row("MLP weights, all 96 layers", "", f"{g['mlp_weights_all_layers']:,}")
    table.add_row("attention weights, all 96 layers", "", f"{g['attention_weights_all_layers']:,}")
    return [str(result.details["model"]), table]
