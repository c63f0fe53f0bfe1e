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


def test_demo_pages_shows_only_the_pages_asked_for(capsys):
    from tinygrad_edu.commands import demo  # noqa: F401  (the command exists)
    assert cli.main(["demo", "--pages", "4", "--width", "100"]) == 0
    out = capsys.readouterr().out
    assert "step 4 of" in out and "h = relu(u)" in out
    assert "step 3 of" not in out and "step 5 of" not in out and "computation graph" not in out


def test_pages_beyond_the_last_is_an_error(capsys):
    assert cli.main(["demo", "--pages", "999"]) == 2
    assert "there are only" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["x", "0", "5-3"])
def test_a_malformed_page_range_is_a_usage_error(capsys, bad):
    with pytest.raises(SystemExit) as stop:
        cli.main(["trace", "--pages", bad])
    assert stop.value.code == 2
    assert "--pages" in capsys.readouterr().err
