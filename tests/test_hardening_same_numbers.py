"""Same seed, same numbers on either backend: every training task has the same defaults on both, and
with the same settings gives the same metrics (to the last few bits over a short run)."""
import importlib
import importlib.util
import json

import pytest

import tinygrad_edu as tg
from tinygrad_edu.cli import main

pytestmark = pytest.mark.skipif(importlib.util.find_spec("numpy") is None, reason="the NumPy backend needs numpy")

from tinygrad_edu.models import TASKS  # noqa: E402

SMALL = {
    "mlp-block": ["--set", "d_model=4", "--set", "d_hidden=8", "--set", "batch=16"],
    "facts": ["--set", "dim=16", "--set", "d_hidden=8"],
    "facts-sweep": ["--set", "facts=6", "--set", "neurons=[8,4]", "--set", "dim=16"],
    "orthogonal": ["--set", "vectors=12", "--set", "dim=4"],
    "superposition": ["--set", "sparsities=[0.9]", "--set", "n_features=6", "--set", "n_hidden=2"],
    "transformer": ["--set", "d_model=8", "--set", "d_hidden=8"],
    "moons": ["--set", "n=20"],
}


class _Stop(Exception):
    pass


def _first_step(name: str, backend: str) -> dict:
    """Run task ``name`` with all its defaults up to its first step; what its first step reports."""
    module_name, function_name, _ = TASKS[name]
    train = getattr(importlib.import_module(module_name), function_name)
    seen = {}

    def on_step(step, total, loss):
        seen.update(total=total, loss=loss)
        raise _Stop

    with tg.use_backend(backend):
        with pytest.raises(_Stop):
            train(seed=0, on_step=on_step)
    return seen


@pytest.mark.parametrize("name", sorted(TASKS))
def test_defaults_do_not_depend_on_the_backend(name):
    """The number of steps, and the first loss (which depends on every size), agree on both backends."""
    on_python, on_numpy = _first_step(name, "python"), _first_step(name, "numpy")
    assert on_python["total"] == on_numpy["total"]
    assert on_numpy["loss"] == pytest.approx(on_python["loss"], rel=1e-12)


def test_every_task_is_covered_here():
    assert set(SMALL) == set(TASKS)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_same_settings_same_numbers_on_both_backends(capsys, name):
    runs = {}
    previous = tg.get_backend()
    try:
        for backend in ("python", "numpy"):
            code = main(["train", name, "--steps", "20", "--json", "--backend", backend, *SMALL[name]])
            captured = capsys.readouterr()
            assert code == 0, captured.err
            runs[backend] = json.loads(captured.out)
    finally:
        tg.set_backend(previous)
    python, numpy = runs["python"], runs["numpy"]
    assert {k: v for k, v in python["config"].items() if k != "backend"} == \
           {k: v for k, v in numpy["config"].items() if k != "backend"}
    for key, value in python["metrics"].items():
        if isinstance(value, float):
            assert numpy["metrics"][key] == pytest.approx(value, rel=1e-12, abs=1e-300), key
        else:
            assert numpy["metrics"][key] == value, key
