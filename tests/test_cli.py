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
    assert cli.main(["demo", "--pages", "4", "--width", "100"]) == 0
    out = capsys.readouterr().out
    assert "step 4 of" in out and "h = max(u, 0)" in out
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


def test_a_command_has_one_console_and_its_export_is_written_once(tmp_path, capsys):
    from tinygrad_edu.commands.output import Output

    output = Output(width=60, export=str(tmp_path / "out.txt"))
    first, second = output.console(), output.console()
    assert first is second                      # however often a command asks: one console, one recording
    first.print("the first table")
    second.print("the second table")
    output.console(stderr=True).print("a remark on stderr")
    saved = output.save()
    assert saved.read_text(encoding="utf-8").splitlines() == ["the first table", "the second table"]
    assert "the first table" in capsys.readouterr().out


def test_an_interactive_command_exports_its_off_screen_pages_instead(tmp_path, capsys):
    from tinygrad_edu.commands.output import Output

    output = Output(width=60, export=str(tmp_path / "pages.txt"))
    output.console().print("1/3  n next · q quit")          # what the stepper draws on the screen
    output.export_console().print("page one\npage two")     # every page, for the file
    text = output.save().read_text(encoding="utf-8")
    assert "page one" in text and "page two" in text and "q quit" not in text
    assert Output().save() is None and Output().export_console() is None   # no --export: nothing kept


@pytest.mark.parametrize("flag", ["--save", "--export"])
def test_demo_keeps_what_it_printed_under_either_flag(tmp_path, capsys, flag):
    path = tmp_path / "demo.txt"
    assert cli.main(["demo", "--pages", "3", "--width", "90", flag, str(path)]) == 0
    printed, err = capsys.readouterr()
    assert path.read_text(encoding="utf-8").strip() == printed.strip()
    assert "step 3 of" in printed and f"saved to {path}" in err


def test_an_export_that_cannot_be_written_is_one_clear_error_before_the_command_runs(tmp_path, capsys):
    path = tmp_path / "no such folder" / "show.txt"
    with pytest.raises(SystemExit) as stop:
        cli.main(["show", "michael-jordan", "--exact-only", "--export", str(path)])
    out, err = capsys.readouterr()
    assert stop.value.code == 2 and "no such folder" in err and "Traceback" not in err
    assert out == ""                      # refused while reading the arguments: nothing ran


def test_a_write_that_fails_after_the_run_is_one_clear_error(tmp_path, capsys, monkeypatch):
    from tinygrad_edu.commands import output

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(output, "save_console", full_disk)
    path = tmp_path / "show.txt"
    assert cli.main(["show", "michael-jordan", "--exact-only", "--export", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"cannot write {path}: No space left on device" in err and "Traceback" not in err
