"""The ``tinygrad-edu`` dispatcher: usage errors exit 2; --export writes what a command printed."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tinygrad_edu import cli


def test_no_command_prints_usage_and_exits_2(capsys):
    assert cli.main([]) == 2
    assert "usage: tinygrad-edu" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["no-such-command"])
    assert stop.value.code == 2
    assert "invalid choice: 'no-such-command'" in capsys.readouterr().err


def test_unknown_backend_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["show", "michael-jordan", "--backend", "cuda"])
    assert stop.value.code == 2
    assert "invalid choice: 'cuda'" in capsys.readouterr().err


def test_export_with_an_unknown_suffix_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["show", "michael-jordan", "--export", str(tmp_path / "out.png")])
    assert stop.value.code == 2
    assert "--export" in capsys.readouterr().err and not (tmp_path / "out.png").exists()


@pytest.mark.parametrize("suffix, marker", [(".txt", "basketball"), (".svg", "<svg"), (".html", "<html")])
def test_export_writes_what_the_command_printed(tmp_path, capsys, suffix, marker):
    path = tmp_path / f"show{suffix}"
    assert cli.main(["show", "michael-jordan", "--width", "100", "--export", str(path)]) == 0
    printed = capsys.readouterr().out
    saved = path.read_text(encoding="utf-8")
    assert marker in saved
    if suffix == ".txt":
        assert saved.strip() == printed.strip()


def test_the_module_runs_as_python_dash_m():
    done = subprocess.run([sys.executable, "-m", "tinygrad_edu", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "demo" in done.stdout
