"""The command line checks every setting and every file it will write before it starts working."""
import functools
import importlib

import pytest

from tinygrad_edu.cli import main

from tinygrad_edu.models import TASKS  # noqa: E402

TASK_MODULES = {name: (module, function) for name, (module, function, _) in TASKS.items()}


@pytest.fixture
def never_trains(monkeypatch):
    """Every training function fails the test if it is called: a refused setting must stop the run first."""
    for module_name, function_name in TASK_MODULES.values():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        original = getattr(module, function_name, None)
        if original is None:
            continue

        @functools.wraps(original)       # keeps the signature, which train reads for the setting names
        def refuse(*args, _name=function_name, **kwargs):
            raise AssertionError(f"{_name} ran although its settings were refused")
        monkeypatch.setattr(module, function_name, refuse)


def usage_error(capsys, argv, message):
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    assert code == 2, captured.err
    assert "usage:" in captured.err and message in captured.err, captured.err
    assert captured.out == ""
    assert "Traceback" not in captured.err
    return captured.err


@pytest.mark.parametrize("task, setting, message", [
    ("mlp-block", "d_model=0", "--set d_model=0: d_model must be a whole number >= 1, got 0"),
    ("mlp-block", "batch=0", "--set batch=0: batch must be a whole number >= 1, got 0"),
    ("mlp-block", "d_hidden=-3", "d_hidden must be a whole number >= 1, got -3"),
    ("mlp-block", "teacher_hidden=0", "teacher_hidden must be a whole number >= 1"),
    ("mlp-block", "lr=0", "--set lr=0: lr must be > 0, got 0"),
    ("mlp-block", "lr=-1", "lr must be > 0, got -1"),
    ("mlp-block", "lr=NaN", "--set lr=nan: lr must be a finite number"),
    ("mlp-block", "lr=Infinity", "lr must be a finite number"),
    ("superposition", "n_features=0", "--set n_features=0: n_features must be a whole number >= 1, got 0"),
    ("superposition", "n_hidden=0", "n_hidden must be a whole number >= 1"),
    ("superposition", "batch=0", "batch must be a whole number >= 1"),
    ("superposition", "sparsities=[1.5]", "sparsities must be in [0, 1) (the chance that a feature is absent), got 1.5"),
    ("superposition", "sparsities=[0.5,-0.1]", "sparsities must be in [0, 1)"),
    ("superposition", "sparsities=1", "sparsities must be in [0, 1)"),
    ("superposition", "sparsities=[]", "--set sparsities=[]: expected at least one value"),
    ("transformer", "n_heads=0", "--set n_heads=0: n_heads must be a whole number >= 1, got 0"),
    ("transformer", "n_heads=-2", "n_heads must be a whole number >= 1, got -2"),
    ("transformer", "n_heads=3", "--set n_heads=3: n_heads must divide d_model=32"),
    ("transformer", "layers=0", "layers must be a whole number >= 1"),
    ("transformer", "d_model=0", "d_model must be a whole number >= 1"),
    ("transformer", "d_hidden=0", "d_hidden must be a whole number >= 1"),
    ("facts", "d_hidden=0", "--set d_hidden=0: d_hidden must be a whole number >= 1, got 0"),
    ("facts", "dim=-1", "dim must be a whole number >= 1"),
    ("facts", "facts=0", "facts must be a whole number >= 1, got 0"),
    ("orthogonal", "vectors=0", "--set vectors=0: vectors must be a whole number >= 2, got 0"),
    ("orthogonal", "vectors=1", "vectors must be a whole number >= 2, got 1"),
    ("orthogonal", "dim=0", "dim must be a whole number >= 1"),
    ("orthogonal", "power=0", "power must be > 0"),
    ("orthogonal", "power=-1", "power must be > 0"),
])
def test_bad_settings_are_usage_errors_before_training(capsys, never_trains, task, setting, message):
    usage_error(capsys, ["train", task, "--set", setting], message)


def test_settings_of_the_newer_tasks_are_checked_too(capsys, never_trains):
    usage_error(capsys, ["train", "facts-sweep", "--set", "neurons=[4,0]"], "neurons must be a whole number >= 1")
    usage_error(capsys, ["train", "facts-sweep", "--set", "neurons=[2.5]"], "neurons must be a whole number >= 1")
    usage_error(capsys, ["train", "moons", "--set", "noise=-1"], "--set noise=-1: noise must be >= 0")


def test_a_file_a_setting_names_is_checked_before_training(capsys, never_trains, tmp_path):
    missing = tmp_path / "missing" / "boundary.png"
    usage_error(capsys, ["train", "moons", "--set", f"figure={missing}"],
                f"the folder {missing.parent} does not exist")
    assert not missing.parent.exists()


@pytest.mark.parametrize("argv", [
    ["train", "mlp-block", "--export", "{missing}/out.txt"],
    ["train", "mlp-block", "--save", "{missing}/block.json"],
    ["show", "michael-jordan", "--export", "{missing}/show.svg"],
    ["demo", "--save", "{missing}/demo.svg"],
    ["trace", "--save", "{missing}/trace.html"],
    ["bench", "--export", "{missing}/bench.txt"],
])
def test_output_files_are_checked_before_the_run(capsys, never_trains, tmp_path, argv):
    missing = tmp_path / "no" / "such"
    argv = [word.format(missing=missing) for word in argv]
    usage_error(capsys, argv, f"the folder {missing} does not exist (make it first)")
    assert not (tmp_path / "no").exists()


def test_an_existing_folder_is_not_a_file_name(capsys, never_trains, tmp_path):
    usage_error(capsys, ["train", "mlp-block", "--save", str(tmp_path)], f"{tmp_path} is a folder: give a file name")


@pytest.mark.parametrize("name", ["out.svg", "run.HTML", "log.txt", "curve.png"])
def test_train_save_refuses_a_pictures_name_and_points_to_export(capsys, never_trains, tmp_path, name):
    """train --save writes a checkpoint; demo --save and --export write pictures: the names may not blur."""
    target = tmp_path / name
    err = usage_error(capsys, ["train", "mlp-block", "--save", str(target)],
                      "--save writes a checkpoint (JSON text, e.g. model.json), not a picture")
    assert f"use --export {target}" in err
    assert not target.exists()


def test_demo_save_of_a_checkpoint_name_is_refused(capsys):
    usage_error(capsys, ["demo", "--save", "model.json"], "the file must end in .svg, .html, .txt")


@pytest.mark.parametrize("argv", [["train", "mlp-block"], ["show", "michael-jordan"], ["bench"], ["tutorial"]])
@pytest.mark.parametrize("width, message", [("5", "expected at least 40 columns, got 5"),
                                            ("wide", "expected a whole number of columns, got 'wide'")])
def test_a_width_too_narrow_to_draw_anything_is_refused(capsys, never_trains, argv, width, message):
    usage_error(capsys, [*argv, "--width", width], message)


def test_a_file_where_a_folder_should_be_is_named(capsys, never_trains, tmp_path):
    blocker = tmp_path / "notes.txt"
    blocker.write_text("")
    usage_error(capsys, ["train", "mlp-block", "--save", str(blocker / "sub" / "c.json")],
                f"{blocker} is a file, not a folder")
