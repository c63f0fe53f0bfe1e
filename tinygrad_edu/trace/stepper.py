"""The step-through: one page at a time, driven by single keys.

The logic (`Stepper`: which page, which view, what has been typed) knows nothing of terminals, so
tests drive it with a list of keys. `run` draws pages on a Rich console and asks a key source for
the next key; `terminal_keys` is the key source for a real terminal (single keys, no Enter needed,
the terminal's settings restored on the way out, also after an error or Ctrl-C).

Keys: Enter or n next · p or b back · a number then Enter jumps · g graph · s summary · ? help ·
q quit. The arrow keys → and ← work as next and back; Esc clears a half-typed number.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

__all__ = ["Stepper", "KEYS", "normalize_key", "split_keys", "run", "terminal_keys", "line_keys",
           "status_line"]

KEYS = (
    ("Enter, n, →", "next step"),
    ("p, b, ←", "previous step"),
    ("12 Enter", "jump to step 12"),
    ("g", "computation graph (again: back to the step)"),
    ("s", "summary of all steps (again: back)"),
    ("?", "this help (again: back)"),
    ("q", "quit"),
)

_NAMED = {"\r": "enter", "\n": "enter", "\r\n": "enter", "\x1b[C": "n", "\x1bOC": "n", "\x1b[D": "p",
          "\x1bOD": "p", "\x7f": "backspace", "\x08": "backspace", "\x1b": "escape", "\x03": "q",
          "\x04": "q", " ": "n"}


def normalize_key(raw: str) -> str:
    """One key as the stepper understands it: ``enter``, ``n``, ``p``, a digit, ``backspace``, ..."""
    if raw in _NAMED:
        return _NAMED[raw]
    return raw.lower() if len(raw) == 1 else raw


def split_keys(chunk: str) -> list[str]:
    """Split what one read from the terminal returned into keys (typing fast sends several at once)."""
    keys, i = [], 0
    while i < len(chunk):
        if chunk[i] == "\x1b" and chunk[i + 1:i + 2] in ("[", "O") and i + 2 < len(chunk):
            keys.append(chunk[i:i + 3])
            i += 3
        elif chunk.startswith("\r\n", i):
            keys.append("\r")
            i += 2
        else:
            keys.append(chunk[i])
            i += 1
    return keys


@dataclass
class Stepper:
    """Where the student is: page ``index`` (0-based) of ``count``, in ``view``.

    ``view`` is ``"step"``, ``"graph"``, ``"summary"`` or ``"help"``; ``typed`` holds the digits of a
    jump not yet confirmed with Enter; ``message`` is a one-line remark for the status bar.
    """

    count: int
    index: int = 0
    view: str = "step"
    typed: str = ""
    message: str = ""
    done: bool = False

    def press(self, raw: str) -> None:
        """Apply one key."""
        key = normalize_key(raw)
        self.message = ""
        if key.isdigit():
            self.typed += key
            return
        if key == "backspace":
            self.typed = self.typed[:-1]
            return
        if key == "escape":
            self.typed = ""
            self.view = "step"
            return
        if key == "enter" and self.typed:
            self._jump(int(self.typed))
            self.typed = ""
            return
        self.typed = ""
        if key == "q":
            self.done = True
        elif key in ("enter", "n"):
            self._move(+1)
        elif key in ("p", "b"):
            self._move(-1)
        elif key in ("g", "s", "?"):
            wanted = {"g": "graph", "s": "summary", "?": "help"}[key]
            self.view = "step" if self.view == wanted else wanted
        else:
            self.message = f"unknown key {raw!r}: press ? for help"

    def _move(self, delta: int) -> None:
        if self.view != "step":
            self.view = "step"  # leaving the graph, summary or help returns to the same step
            return
        target = self.index + delta
        if target >= self.count:
            self.message = "that was the last step: q quits, p goes back"
        elif target < 0:
            self.message = "this is the first step"
        else:
            self.index = target

    def _jump(self, number: int) -> None:
        self.view = "step"
        if 1 <= number <= self.count:
            self.index = number - 1
        else:
            self.message = f"no step {number}: steps are 1 to {self.count}"


def status_line(stepper: Stepper):
    """The bar under every page: where you are and the keys, short enough for 80 columns."""
    from rich.text import Text

    text = Text(f" {stepper.index + 1}/{stepper.count} ", style="reverse bold")
    text.append("  ⏎/n next · p back · N⏎ jump · g graph · s summary · ? help · q quit", style="dim")
    if stepper.typed:
        text.append(f"\n jump to step {stepper.typed}… (Enter)", style="bold yellow")
    if stepper.message:
        text.append(f"\n {stepper.message}", style="yellow")
    return text


def _help_panel():
    from rich.panel import Panel
    from rich.table import Table

    table = Table.grid(padding=(0, 3))
    table.add_column(style="bold")
    table.add_column()
    for keys, meaning in KEYS:
        table.add_row(keys, meaning)
    return Panel(table, title="keys", title_align="left", border_style="yellow", expand=False)


def run(console, pages: Sequence, keys: Iterable[str], graph=None, summary=None,
        clear: bool = True, message: str = "") -> Stepper:
    """Show ``pages`` (Rich renderables) one at a time, reading keys until q or the keys run out.

    ``message`` is shown in the status bar until the first key."""
    from rich.text import Text

    stepper = Stepper(count=len(pages), message=message)
    if not pages:
        console.print(Text("nothing was recorded", style="dim"))
        return stepper
    key_iter = iter(keys)
    while not stepper.done:
        if clear:
            console.clear()
        if stepper.view == "graph":
            console.print(graph if graph is not None else Text("(no graph)", style="dim"))
        elif stepper.view == "summary":
            console.print(summary if summary is not None else Text("(no summary)", style="dim"))
        elif stepper.view == "help":
            console.print(_help_panel())
        else:
            console.print(pages[stepper.index])
        console.print(status_line(stepper))
        try:
            key = next(key_iter)
        except StopIteration:
            break
        stepper.press(key)
    return stepper


@contextlib.contextmanager
def terminal_keys(stream=None) -> Iterator[Iterator[str]]:
    """Single keys from a real terminal (no Enter needed); the terminal is restored on exit.

    Where ``termios`` is missing (Windows), falls back to `line_keys`.
    """
    stream = stream if stream is not None else sys.stdin
    try:
        import termios
        import tty
    except ImportError:  # pragma: no cover - not on POSIX
        yield line_keys(stream)
        return
    fd = stream.fileno()
    saved = termios.tcgetattr(fd)

    def keys() -> Iterator[str]:
        while True:
            chunk = os.read(fd, 32)
            if not chunk:
                return
            yield from split_keys(chunk.decode("utf-8", errors="replace"))

    try:
        tty.setcbreak(fd)  # keys arrive one by one, not echoed; Ctrl-C still interrupts
        yield keys()
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def line_keys(stream) -> Iterator[str]:
    """Keys from whole lines, for terminals without single-key input.

    An empty line is Enter (next), ``12`` jumps to step 12, ``p`` goes back, and so on.
    """
    for line in stream:
        line = line.strip()
        yield from line
        if not line or line.isdigit():
            yield "\r"
