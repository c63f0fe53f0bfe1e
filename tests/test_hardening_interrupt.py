"""Ctrl-C and single keys, as a person at a terminal meets them: each command runs in a pseudo-terminal
(a subprocess), gets SIGINT, and must say "interrupted", exit 130, give the terminal back as it found it,
and leave no file behind. `tutorial --run` moves on or quits with one key, no Enter."""
import os
import re
import select
import signal
import subprocess
import sys
import time

import pytest

pty = pytest.importorskip("pty")
termios = pytest.importorskip("termios")

HIDE_CURSOR, SHOW_CURSOR = "\x1b[?25l", "\x1b[?25h"
_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class Terminal:
    """A command running in a pseudo-terminal: ``wait_for`` text, ``type`` keys, ``interrupt`` it."""

    def __init__(self, args, cwd, env=None):
        self.master, self.slave = pty.openpty()
        termios_attrs = termios.tcgetattr(self.slave)
        termios_attrs[3] |= termios.ECHO | termios.ICANON          # a normal, line-editing terminal
        termios.tcsetattr(self.slave, termios.TCSANOW, termios_attrs)
        self.before = termios.tcgetattr(self.slave)
        environment = dict(os.environ, TERM="xterm-256color", COLUMNS="100", LINES="30", **(env or {}))
        environment.pop("NO_COLOR", None)
        self.process = subprocess.Popen([sys.executable, "-m", "tinygrad_edu", *args], cwd=cwd, env=environment,
                                        stdin=self.slave, stdout=self.slave, stderr=self.slave)
        self.output = ""

    @property
    def text(self) -> str:
        """What the terminal shows, without colours and cursor movements."""
        return _ESCAPES.sub("", self.output)

    def _read(self, timeout: float) -> bool:
        """Read what is waiting (up to ``timeout`` seconds for it); False when nothing came."""
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return False
        try:
            chunk = os.read(self.master, 65536)
        except OSError:              # the other side is closed
            return False
        self.output += chunk.decode("utf-8", errors="replace")
        return bool(chunk)

    def wait_for(self, text: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.text:
            if time.monotonic() > deadline or self.process.poll() is not None:
                self._read(0.5)
                if text in self.text:
                    return
                raise AssertionError(f"{text!r} did not appear; the terminal shows:\n{self.text[-2000:]}")
            self._read(0.2)

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    def interrupt(self) -> None:
        self.process.send_signal(signal.SIGINT)

    def finish(self, timeout: float = 60.0) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self._read(0.2)
        if self.process.poll() is None:
            self.process.kill()
            raise AssertionError(f"the command did not end; the terminal shows:\n{self.text[-2000:]}")
        while self._read(0.5):       # everything the command wrote before it ended
            pass
        self.after = termios.tcgetattr(self.slave)
        os.close(self.master)
        os.close(self.slave)
        return self.process.returncode


def test_ctrl_c_in_train_says_interrupted_exits_130_restores_the_terminal_and_writes_nothing(tmp_path):
    term = Terminal(["train", "mlp-block", "--steps", "100000", "--save", "block.json", "--export", "out.svg"],
                    cwd=tmp_path)
    term.wait_for("train mlp-block")           # the progress bar is up: training runs
    term.interrupt()
    code = term.finish()
    assert code == 130, term.text[-2000:]
    assert "interrupted" in term.text
    assert "Traceback" not in term.text and "KeyboardInterrupt" not in term.text
    assert term.output.rfind(SHOW_CURSOR) > term.output.rfind(HIDE_CURSOR) >= 0   # the cursor is back
    assert term.after == term.before
    assert sorted(p.name for p in tmp_path.iterdir()) == []   # no checkpoint, no export, no temporary file


def _lesson_with_blocks():
    from tinygrad_edu import tutorials
    return next(lesson for lesson in tutorials.lessons() if len(lesson.blocks) >= 3 and lesson.number == 1)


def test_ctrl_c_at_the_tutorials_prompt_restores_the_terminal(tmp_path):
    lesson = _lesson_with_blocks()
    term = Terminal(["tutorial", str(lesson.number), "--run", "--no-pager"], cwd=tmp_path)
    term.wait_for("q: quit")                   # waiting for a key, the terminal in single-key mode
    time.sleep(0.3)
    term.interrupt()
    code = term.finish()
    assert code == 130, term.text[-2000:]
    assert "interrupted" in term.text and "Traceback" not in term.text
    assert term.after == term.before           # echo and line editing are back


def test_q_quits_the_tutorial_without_enter(tmp_path):
    lesson = _lesson_with_blocks()
    term = Terminal(["tutorial", str(lesson.number), "--run"], cwd=tmp_path)
    term.wait_for("q: quit")
    time.sleep(0.3)
    term.type("q")                             # no Enter
    code = term.finish(timeout=30)
    assert code == 0, term.text[-2000:]
    assert f"block 1/{len(lesson.blocks)}" in term.text and f"block 2/{len(lesson.blocks)}" not in term.text
    assert term.after == term.before


def test_one_key_moves_to_the_next_block(tmp_path):
    lesson = _lesson_with_blocks()
    total = len(lesson.blocks)
    term = Terminal(["tutorial", str(lesson.number), "--run"], cwd=tmp_path)
    term.wait_for("q: quit")
    time.sleep(0.3)
    term.type(" ")                             # space (or Enter) goes on
    term.wait_for(f"block 2/{total}")
    deadline = time.monotonic() + 60
    while term.text.count("q: quit") < 2 and time.monotonic() < deadline:   # block 2 ran, a key is awaited
        term._read(0.2)
    time.sleep(0.3)
    term.type("q")
    code = term.finish(timeout=30)
    assert code == 0, term.text[-2000:]
    assert f"block 3/{total}" not in term.text
    assert term.after == term.before


@pytest.mark.parametrize("argv", [
    ["train", "mlp-block", "--steps", "2", "--set", "d_model=4", "--set", "d_hidden=8", "--json"],
    ["show", "michael-jordan"],
])
def test_a_reader_that_stops_early_gets_no_traceback(tmp_path, argv):
    """`tinygrad-edu ... | head -1`: the command stops quietly when the pipe closes."""
    read_end, write_end = os.pipe()
    os.close(read_end)                       # the reader has already gone
    try:
        command = subprocess.Popen([sys.executable, "-m", "tinygrad_edu", *argv], cwd=tmp_path,
                                   stdout=write_end, stderr=subprocess.PIPE)
    finally:
        os.close(write_end)
    _, err = command.communicate(timeout=300)
    assert b"Traceback" not in err and b"BrokenPipeError" not in err, err.decode()
    assert command.returncode == 1
