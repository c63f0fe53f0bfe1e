"""The lecture's models, built on tinygrad_edu's public API only.

    mlp_block          the MLP block of a transformer: up projection, ReLU, down projection, residual
    michael_jordan     the fact "Michael Jordan plays basketball", hand-built and learned (a fact store)
    superposition      nearly orthogonal directions, and toy models of superposition
    mini_transformer   a tiny transformer that completes fact sentences; ablating its MLP neurons
    moons              micrograd's demo: an MLP 2-16-16-1 separates two interleaved half-moons

Each trainable model has ``train(steps=None, seed=0, on_step=None, **options) -> TrainResult`` and
``report(result)`` (Rich renderables with its pictures). ``on_step(step, total, loss)`` is called after
every optimisation step, so a caller can show progress.
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["TrainResult", "TASKS"]

# The `tinygrad-edu train NAME` names: (module, training function, what it trains).
TASKS = {
    "mlp-block": ("tinygrad_edu.models.mlp_block", "train", "a student MLP block learns to imitate a teacher block"),
    "facts": ("tinygrad_edu.models.michael_jordan", "train", "an MLP block learns (first, last) -> sport facts"),
    "facts-sweep": ("tinygrad_edu.models.michael_jordan", "train_capacity",
                    "the same facts in fewer and fewer neurons: recall and interference per facts per neuron"),
    "orthogonal": ("tinygrad_edu.models.superposition", "train_orthogonal",
                   "unit vectors spread apart: the largest |cos| pushed towards the Welch bound"),
    "superposition": ("tinygrad_edu.models.superposition", "train_toy_models",
                      "toy models of superposition over a sweep of sparsities"),
    "transformer": ("tinygrad_edu.models.mini_transformer", "train", "a tiny transformer completes fact sentences"),
    "moons": ("tinygrad_edu.models.moons", "train", "micrograd's demo: an MLP separates two interleaved half-moons (hinge loss, SGD)"),
}


@dataclass
class TrainResult:
    """What a training run returns.

    metrics  the final numbers, flat and JSON-serialisable (what ``--json`` prints)
    losses   the loss after each step
    config   the settings used (sizes, steps, learning rate, seed)
    state    what ``--save`` writes: usually ``{"model": state_dict, ...}``
    details  anything else the model's report shows (tables, matrices)
    """

    name: str
    metrics: dict
    losses: list
    config: dict
    state: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)


def notify(on_step, step: int, total: int, loss: float) -> None:
    """Call the progress callback if there is one."""
    if on_step is not None:
        on_step(step, total, loss)
