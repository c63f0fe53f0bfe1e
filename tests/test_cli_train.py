"""`tinygrad-edu train` and `tinygrad-edu show` as a user runs them (small --steps and --set sizes)."""
import json

import pytest

from tinygrad_edu.cli import main
from tinygrad_edu.commands.train import sparkline
from tinygrad_edu.serialization import load

SMALL = {
    "mlp-block": ["--set", "d_model=4", "--set", "d_hidden=8", "--set", "batch=16"],
    "facts": ["--set", "dim=16", "--set", "d_hidden=8"],
    "facts-sweep": ["--set", "facts=6", "--set", "neurons=[8, 2]", "--set", "dim=16"],
    "orthogonal": ["--set", "vectors=12", "--set", "dim=4"],
    "superposition": ["--set", "sparsities=[0.9]", "--set", "n_features=6", "--set", "n_hidden=2"],
    "transformer": ["--set", "d_model=8", "--set", "d_hidden=8"],
}


def run_json(capsys, name, *extra):
    code = main(["train", name, "--steps", "3", "--json", *SMALL[name], *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)  # stdout holds exactly one JSON object and nothing else


@pytest.mark.parametrize("name", list(SMALL))
def test_json_output_is_one_object_with_the_metrics(capsys, name):
    payload = run_json(capsys, name)
    assert payload["model"] == name and payload["seed"] == 0
    assert payload["config"]["steps"] == 3
    assert isinstance(payload["metrics"]["loss"], float)


def test_same_seed_same_numbers_and_another_seed_differs(capsys):
    a = run_json(capsys, "facts", "--seed", "4")["metrics"]
    b = run_json(capsys, "facts", "--seed", "4")["metrics"]
    c = run_json(capsys, "facts", "--seed", "5")["metrics"]
    assert a == b
    assert a["loss"] != c["loss"]


def test_save_writes_a_loadable_checkpoint(capsys, tmp_path):
    path = tmp_path / "block.ckpt"
    payload = run_json(capsys, "mlp-block", "--save", str(path))
    assert payload["saved"] == str(path)
    state = load(path)
    assert list(state["model"]) == ["up.weight", "up.bias", "down.weight", "down.bias"]
    assert state["config"]["d_hidden"] == 8


def test_unwritable_checkpoint_path_is_a_clear_error(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SystemExit) as info:       # refused while the arguments are read, before training
        main(["train", "mlp-block", "--steps", "1", "--json", *SMALL["mlp-block"],
              "--save", str(blocker / "sub" / "c.json")])
    assert info.value.code == 2
    assert f"{blocker} is a file, not a folder" in capsys.readouterr().err


def test_human_output_has_sparkline_table_and_report(capsys):
    assert main(["train", "orthogonal", "--steps", "4", "--width", "100", *SMALL["orthogonal"]]) == 0
    out = capsys.readouterr().out
    assert "loss" in out and any(ch in out for ch in "▁▂▃▄▅▆▇█")
    assert "orthogonal: results" in out
    assert "pairs within 89°–91°" in out and "Welch bound" in out


@pytest.mark.parametrize("argv, message", [
    (["train", "nonsense"], "invalid choice"),
    (["train", "facts", "--steps", "0"], "positive integer"),
    (["train", "facts", "--set", "dim"], "KEY=VALUE"),
    (["show", "nobody"], "invalid choice"),
])
def test_bad_arguments_exit_2_with_usage(capsys, argv, message):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "usage:" in err and message in err


@pytest.mark.parametrize("setting, message", [
    ("colour=3", "no setting 'colour'; its settings are: d_hidden, dim, facts, lr"),
    ("dim=abc", "--set dim=abc: expected an integer"),
    ("dim=2.5", "--set dim=2.5: expected an integer"),
    ("lr=fast", "--set lr=fast: expected a number"),
    ("facts=999", "facts must be between 1 and 116, got 999"),
])
def test_bad_settings_are_usage_errors(capsys, setting, message):
    assert main(["train", "facts", "--steps", "1", "--set", setting]) == 2
    captured = capsys.readouterr()
    assert message in captured.err and "usage:" in captured.err
    assert captured.out == ""


def test_facts_setting_takes_a_count(capsys):
    payload = run_json(capsys, "facts", "--set", "facts=3")
    assert payload["metrics"]["facts"] == 3 and payload["config"]["facts"] == 3


def test_show_michael_jordan_prints_every_dot_product(capsys):
    assert main(["show", "michael-jordan", "--exact-only", "--width", "160"]) == 0
    out = capsys.readouterr().out
    assert "Michael Jordan" in out and "Michael Phelps" in out
    assert "(Michael+Jordan)·x" in out and "basketball" in out


def test_show_json_numbers(capsys):
    assert main(["show", "michael-jordan", "--json", "--dim", "2000", "--seed", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    exact = {c["label"]: c for c in data["orthonormal"]["cases"]}
    assert exact["Michael Jordan"]["output"]["basketball"] == 1.0
    assert exact["Michael"]["output"]["basketball"] == 0.0
    rand = {c["label"]: c for c in data["random"]["cases"]}
    assert data["random"]["dim"] == 2000
    assert rand["Michael Jordan"]["output"]["basketball"] == pytest.approx(1.0, abs=0.15)


def test_sparkline_shape():
    line = sparkline([4.0, 3.0, 2.0, 1.0], width=4)
    assert line == "4 █▆▃▁ 1"
    assert sparkline([1000.0, 1.0], width=2).endswith("(log scale)")
    assert sparkline([]) == "(no steps)"


def test_backends_give_the_same_numbers(capsys):
    import importlib.util

    import tinygrad_edu as tg

    if importlib.util.find_spec("numpy") is None:
        pytest.skip("the NumPy backend needs numpy")
    BACKENDS = ["python", "numpy"]
    previous = tg.get_backend()
    try:
        runs = {b: run_json(capsys, "transformer", "--backend", b)["metrics"] for b in BACKENDS}
    finally:
        tg.set_backend(previous)
    first, *others = runs.values()
    for other in others:
        assert other["loss"] == pytest.approx(first["loss"], rel=1e-9)
        assert other["fact_accuracy"] == first["fact_accuracy"]
