"""The step-through: one page at a time, driven by single keys, redrawn in place.

Three parts, so that the logic is tested without a terminal:

* `Stepper` -- the state and what each key does to it: which page, which view (step, graph,
  summary, help), what has been typed, and how far the page is scrolled. No I/O at all.
* `compose` -- one screenful as rendered lines: the page's header (for an event: its title, step
  and formula) pinned at the top, a window onto the rest of the page under it, the status bar at
  the bottom. Pure: a console is only used to render.
* screens -- `TerminalScreen` draws each screenful on the terminal's alternate screen, in place
  (nothing reaches the scrollback; the terminal is given back as it was on the way out, also after
  an error or Ctrl-C); `PrintedScreen` prints the screenfuls one after another (tests, logs).
  `terminal_keys` reads single keys from a real terminal (no Enter needed).

`run` ties them together. Keys: Enter, n or → next · p, b or ← back · ↓ ↑ or j k scroll a line ·
PgDn PgUp scroll a screen · space scrolls a screen, then goes on to the next step · Home End ·
a number then Enter jumps · g graph · s summary · ? help · q quit. Esc clears a half-typed number.

A page that should keep its header on screen says how many of its first lines that header takes,
with a method ``sticky_lines(console, options) -> int`` (see `render.Page`); any other Rich
renderable scrolls as a whole.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

__all__ = ["Stepper", "KEYS", "normalize_key", "split_keys", "run", "compose", "TerminalScreen", "PrintedScreen",
           "terminal_keys", "line_keys", "status_line"]

KEYS = (
    ("Enter, n, →", "next step"),
    ("p, b, ←", "previous step"),
    ("↓ ↑, j k", "scroll the page by a line"),
    ("PgDn PgUp", "scroll by a screen"),
    ("space", "scroll by a screen; at the bottom, next step"),
    ("Home End", "top or bottom of the page"),
    ("12 Enter", "jump to step 12"),
    ("g", "computation graph (again: back to the step)"),
    ("s", "summary of all steps (again: back)"),
    ("?", "this help (again: back)"),
    ("q", "quit"),
)

_NAMED = {"\r": "enter", "\n": "enter", "\r\n": "enter", "\x1b[C": "n", "\x1bOC": "n", "\x1b[D": "p",
          "\x1bOD": "p", "\x1b[B": "down", "\x1bOB": "down", "\x1b[A": "up", "\x1bOA": "up",
          "\x1b[6~": "pagedown", "\x1b[5~": "pageup", "\x1b[H": "home", "\x1bOH": "home", "\x1b[1~": "home",
          "\x1b[7~": "home", "\x1b[F": "end", "\x1bOF": "end", "\x1b[4~": "end", "\x1b[8~": "end",
          "\x7f": "backspace", "\x08": "backspace", "\x1b": "escape", "\x03": "q", "\x04": "q", " ": "space",
          "j": "down", "k": "up"}

MIN_BODY = 3      # lines of a page's body kept on screen however tall its header


def normalize_key(raw: str) -> str:
    """One key as the stepper understands it: ``enter``, ``n``, ``p``, ``down``, ``pagedown``, a digit, ..."""
    if raw in _NAMED:
        return _NAMED[raw]
    if len(raw) == 1:
        lowered = raw.lower()
        return _NAMED.get(lowered, lowered)
    return raw


def split_keys(chunk: str) -> list[str]:
    """Split what one read from the terminal returned into keys (typing fast sends several at once).

    An escape sequence is one key: ``ESC [ digits/; final`` (arrows, PgUp ``ESC [5~``, Home ...) or
    ``ESC O letter``; a lone ESC is Esc.
    """
    keys, i = [], 0
    while i < len(chunk):
        if chunk[i] == "\x1b" and chunk[i + 1:i + 2] == "[" and i + 2 < len(chunk):
            end = i + 2
            while end < len(chunk) and chunk[end] in "0123456789;":
                end += 1
            keys.append(chunk[i:end + 1])
            i = end + 1
        elif chunk[i] == "\x1b" and chunk[i + 1:i + 2] == "O" and i + 2 < len(chunk):
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
    """Where the student is: page ``index`` (0-based) of ``count``, in ``view``, scrolled to ``offset``.

    ``view`` is ``"step"``, ``"graph"``, ``"summary"`` or ``"help"``; ``typed`` holds the digits of a
    jump not yet confirmed with Enter; ``message`` is a one-line remark for the status bar.
    ``offset`` is the first line of the page's body on screen; ``length`` (the body's lines) and
    ``room`` (how many fit under the header) are told by whoever draws, with `fit`, so the keys can
    stop at the ends. Moving to another page or view starts at its top.
    """

    count: int
    index: int = 0
    view: str = "step"
    typed: str = ""
    message: str = ""
    done: bool = False
    offset: int = 0
    length: int = 0
    room: int = 0

    @property
    def last_offset(self) -> int:
        """The offset that shows the end of the body."""
        return max(0, self.length - self.room)

    def fit(self, length: int, room: int) -> None:
        """The body of what is shown has ``length`` lines and ``room`` of them fit: keep the offset inside."""
        self.length, self.room = max(0, length), max(1, room)
        self.offset = min(max(0, self.offset), self.last_offset)

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
            self._show("step", self.index)
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
        elif key in ("down", "up", "pagedown", "pageup", "home", "end"):
            self._scroll(key)
        elif key == "space":
            if self.offset < self.last_offset:
                self._scroll("pagedown")
            else:
                self._move(+1)
        elif key in ("g", "s", "?"):
            wanted = {"g": "graph", "s": "summary", "?": "help"}[key]
            self._show("step" if self.view == wanted else wanted, self.index)
        else:
            self.message = f"unknown key {raw!r}: press ? for help"

    def _show(self, view: str, index: int) -> None:
        if (view, index) != (self.view, self.index):
            self.offset = 0
        self.view, self.index = view, index

    def _scroll(self, key: str) -> None:
        screen = max(1, self.room - 1)      # a screen less one line: the last line read stays in sight
        target = {"down": self.offset + 1, "up": self.offset - 1, "pagedown": self.offset + screen,
                  "pageup": self.offset - screen, "home": 0, "end": self.last_offset}[key]
        self.offset = min(max(0, target), self.last_offset)

    def _move(self, delta: int) -> None:
        if self.view != "step":
            self._show("step", self.index)  # leaving the graph, summary or help returns to the same step
            return
        target = self.index + delta
        if target >= self.count:
            self.message = "that was the last step: q quits, p goes back"
        elif target < 0:
            self.message = "this is the first step"
        else:
            self._show("step", target)

    def _jump(self, number: int) -> None:
        if 1 <= number <= self.count:
            self._show("step", number - 1)
        else:
            self._show("step", self.index)
            self.message = f"no step {number}: steps are 1 to {self.count}"


# ---- one screenful ----------------------------------------------------------------------------------

_HINTS = (      # the first that fits the width is shown; ? lists every key
    "⏎/n next · p back · ↑↓ PgUp/PgDn scroll · N⏎ jump · g graph · s summary · ? help · q quit",
    "n next · p back · ↑↓ scroll · g graph · s summary · ? help · q quit",
    "n/p · ↑↓ scroll · g graph · s summary · ? help · q quit",
    "n/p · ↑↓ · g graph · s summary · ? help · q quit",
    "? help · q quit",
)


def _where(stepper: Stepper) -> str:
    if stepper.view == "step":
        return f" {stepper.index + 1}/{stepper.count} "
    return f" {stepper.view} "


def _scrolled(stepper: Stepper) -> str:
    """`` 1–14/40 ↓``: the body's lines on screen, of how many, and which way there is more (only
    when the body does not fit)."""
    if stepper.length <= stepper.room:
        return ""
    last = min(stepper.length, stepper.offset + stepper.room)
    arrows = ("↑" if stepper.offset > 0 else "") + ("↓" if last < stepper.length else "")
    return f" lines {stepper.offset + 1}–{last}/{stepper.length} {arrows}"


def status_line(stepper: Stepper, width: int = 80):
    """The bar under every page: where you are, how far down, and the keys (as many as fit in ``width``)."""
    from rich.text import Text

    where, scrolled = _where(stepper), _scrolled(stepper)
    # Room is kept for the longest "lines ... of ..." the page could show, so the bar does not jump.
    longest = f" lines {stepper.length}–{stepper.length}/{stepper.length} ↑↓"
    reserved = len(longest) if stepper.length > stepper.room else 0
    hint = next((h for h in _HINTS if len(where) + reserved + 2 + len(h) <= width), _HINTS[-1])
    text = Text(where, style="reverse bold")
    text.append(scrolled, style="bold")
    text.append("  " + hint, style="dim")
    if stepper.typed:
        text.append(f"\n jump to step {stepper.typed}… (Enter)", style="bold yellow")
    if stepper.message:
        text.append(f"\n {stepper.message}", style="yellow")
    return text


def _sticky(renderable, console, options) -> int:
    measure = getattr(renderable, "sticky_lines", None)
    if not callable(measure):
        return 0
    try:
        return max(0, int(measure(console, options)))
    except Exception:                       # a header that cannot be measured scrolls with the rest
        return 0


def _blank(width: int):
    from rich.segment import Segment

    return [Segment(" " * width)]


def compose(console, renderable, stepper: Stepper, width: int, height: int, rendered=None) -> list:
    """One screenful, exactly ``height`` lines of ``width`` columns (lists of Rich segments).

    The first lines of ``renderable`` that its ``sticky_lines`` names stay at the top; under them a
    window of ``stepper.room`` body lines from ``stepper.offset`` on; the status bar at the bottom.
    ``stepper.fit`` is called, so the stepper knows the body's length and the room. ``rendered``: the
    page already rendered at this width, as ``(lines, sticky)`` (to save rendering it again).
    """
    options = console.options.update_width(width)
    if rendered is None:
        rendered = (console.render_lines(renderable, options, pad=True), _sticky(renderable, console, options))
    lines, sticky = rendered
    sticky = min(sticky, len(lines))
    bar_lines = len(console.render_lines(status_line(stepper, width), options, pad=True))
    room = max(MIN_BODY, height - bar_lines - sticky)
    pinned = max(0, min(sticky, height - bar_lines - room))   # a header taller than the screen is cut
    stepper.fit(len(lines) - sticky, room)
    window = lines[sticky + stepper.offset:sticky + stepper.offset + room]
    bar = console.render_lines(status_line(stepper, width), options, pad=True)
    screen = lines[:pinned] + window
    screen += [_blank(width) for _ in range(max(0, height - len(bar) - len(screen)))]
    return (screen + bar)[-height:] if len(screen) + len(bar) > height else screen + bar


# ---- screens ------------------------------------------------------------------------------------------

class _Lines:
    """Rendered lines as a renderable (to print a screenful)."""

    def __init__(self, lines):
        self.lines = lines

    def __rich_console__(self, console, options):
        from rich.segment import Segment

        for line in self.lines:
            yield from line
            yield Segment.line()


class PrintedScreen:
    """Prints each screenful after the last: for tests, and for consoles that are not terminals."""

    def __init__(self, console, width: int | None = None, height: int | None = None):
        self.console, self._width, self._height = console, width, height

    def size(self) -> tuple[int, int]:
        return self._width or self.console.width, self._height or self.console.height

    def draw(self, lines) -> None:
        self.console.print(_Lines(lines), end="")

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None


class TerminalScreen:
    """Draws each screenful on the terminal's alternate screen, over the last one.

    The scrollback keeps only what was there before: the pages never enter it. On the way out
    (q, an error, Ctrl-C) the cursor is shown again and the normal screen comes back as it was.
    The size is read at every draw, so a resized terminal is followed at the next key.
    """

    def __init__(self, console):
        self.console = console

    def size(self) -> tuple[int, int]:
        width, height = self.console.size
        return width, height

    def draw(self, lines) -> None:
        self.console.update_screen_lines(lines, 0, 0)

    def __enter__(self):
        self.console.set_alt_screen(True)
        self.console.show_cursor(False)
        return self

    def __exit__(self, *exc) -> None:
        self.console.show_cursor(True)
        self.console.set_alt_screen(False)


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
        clear: bool = True, message: str = "", screen=None) -> Stepper:
    """Show ``pages`` (Rich renderables) one screenful at a time, reading keys until q or the keys run out.

    ``clear``: draw in place on the terminal's alternate screen (`TerminalScreen`) when the console is
    a terminal; otherwise (or with ``clear=False``) each screenful is printed after the last
    (`PrintedScreen`). ``screen`` overrides both. ``message`` is shown in the status bar until the
    first key.
    """
    from rich.text import Text

    stepper = Stepper(count=len(pages), message=message)
    if not pages:
        console.print(Text("nothing was recorded", style="dim"))
        return stepper
    if screen is None:
        screen = TerminalScreen(console) if clear and console.is_terminal else PrintedScreen(console)
    help_panel = _help_panel()
    cache: dict = {}     # (view, index, width) -> the page's rendered lines and header height

    def shown():
        if stepper.view == "graph":
            return graph if graph is not None else Text("(no graph)", style="dim")
        if stepper.view == "summary":
            return summary if summary is not None else Text("(no summary)", style="dim")
        if stepper.view == "help":
            return help_panel
        return pages[stepper.index]

    key_iter = iter(keys)
    with screen:
        while not stepper.done:
            width, height = screen.size()
            renderable = shown()
            slot = (stepper.view, stepper.index, width)
            if slot not in cache:
                options = console.options.update_width(width)
                cache[slot] = (console.render_lines(renderable, options, pad=True),
                               _sticky(renderable, console, options))
            screen.draw(compose(console, renderable, stepper, width, height, rendered=cache[slot]))
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
