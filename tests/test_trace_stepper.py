"""Stepping through pages in a small terminal: the header stays, the body scrolls, the screen is redrawn
in place on the alternate screen, and the terminal comes back as it was (after q and after Ctrl-C)."""
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from rich.text import Text

from tinygrad_edu.commands import demo
from tinygrad_edu.commands.output import offscreen_console
from tinygrad_edu.trace import stepper
from tinygrad_edu.trace.render import Page, SummaryTable, render_event
from tinygrad_edu.trace.target import run_target

ENTER_ALT, LEAVE_ALT = "\x1b[?1049h", "\x1b[?1049l"


def text_of(lines) -> list[str]:
    return ["".join(segment.text for segment in line) for line in lines]


def tall_page(body_lines=60):
    header = [Text("the heading"), Text("formula z = x + y")]
    body = [Text(f"body line {i}") for i in range(1, body_lines + 1)]
    return Page(header, body, title=" step 4 of 9 · forward · Add ")


# ---- keys ----------------------------------------------------------------------------------------------

def test_scrolling_keys_arrive_as_one_key_each():
    typed = "\x1b[5~\x1b[6~\x1b[A\x1b[Bjk\x1b[H\x1b[F\x1b[1~\x1bOB 12\r"
    keys = stepper.split_keys(typed)
    assert [stepper.normalize_key(k) for k in keys] == [
        "pageup", "pagedown", "up", "down", "down", "up", "home", "end", "home", "down", "space", "1", "2", "enter"]


def test_scrolling_stops_at_both_ends_and_a_new_page_starts_at_its_top():
    s = stepper.Stepper(count=3)
    s.fit(length=50, room=10)
    s.press("\x1b[B")
    s.press("j")
    assert s.offset == 2
    s.press("\x1b[6~")                 # a screen less one line: the last line read stays in sight
    assert s.offset == 11
    s.press("\x1b[F")
    assert s.offset == 40 == s.last_offset
    s.press("j")
    s.press("\x1b[6~")
    assert s.offset == 40
    s.press("\x1b[5~")
    assert s.offset == 31
    s.press("\x1b[H")
    s.press("k")
    assert s.offset == 0
    s.press("\x1b[F")
    s.press("n")                       # the next page starts at its top
    assert (s.index, s.offset) == (1, 0)
    s.fit(length=15, room=10)
    s.press(" ")                       # space scrolls while there is more ...
    assert (s.index, s.offset) == (1, 5)
    s.press(" ")                       # ... and at the bottom goes on to the next step
    assert (s.index, s.offset) == (2, 0)
    s.fit(length=15, room=10)
    s.press("\x1b[F")
    s.press("g")                       # another view starts at its top, and so does the step again
    assert (s.view, s.offset) == ("graph", 0)
    s.press("g")
    assert (s.view, s.index, s.offset) == ("step", 2, 0)


def test_fit_keeps_the_offset_inside_when_the_page_gets_shorter():
    s = stepper.Stepper(count=1)
    s.fit(length=100, room=20)
    s.press("\x1b[F")
    s.fit(length=30, room=20)          # a wider terminal: fewer, longer lines
    assert s.offset == 10
    s.fit(length=5, room=20)
    assert s.offset == 0


# ---- one screenful ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("width, height", [(80, 24), (120, 40)])
def test_a_screenful_pins_the_header_and_windows_the_body(width, height):
    console = offscreen_console(width=width, colour=False)
    page = tall_page()
    s = stepper.Stepper(count=9, index=3)
    first = text_of(stepper.compose(console, page, s, width, height))
    assert len(first) == height and all(len(line) == width for line in first)
    assert "step 4 of 9" in first[0] and "the heading" in first[1] and "formula z = x + y" in first[2]
    assert first[3].strip("│ ") == "" and "body line 1 " in first[4]   # a blank line ends the header
    assert s.room == height - 4 - 1 and s.length == 61    # 60 lines and the bottom border
    assert re.search(rf"4/9 +lines 1–{s.room}/61 ↓", first[-1])
    s.press("\x1b[F")
    last = text_of(stepper.compose(console, page, s, width, height))
    assert last[:4] == first[:4]                           # the header did not move
    assert "body line 60" in last[-3] and last[-2].startswith("╰")
    assert re.search(rf"lines {61 - s.room + 1}–61/61 ↑", last[-1])


def test_a_short_page_fills_the_screen_with_blanks_and_the_bar_stays_at_the_bottom():
    console = offscreen_console(width=80, colour=False)
    s = stepper.Stepper(count=1)
    screen = text_of(stepper.compose(console, tall_page(body_lines=2), s, 80, 24))
    assert len(screen) == 24 and screen[-2].strip() == "" and "1/1" in screen[-1]
    assert "lines" not in screen[-1] and s.last_offset == 0


def test_a_header_taller_than_the_screen_still_leaves_room_for_the_body():
    console = offscreen_console(width=80, colour=False)
    page = Page([Text(f"header {i}") for i in range(30)], [Text("the body")], title=" tall ")
    s = stepper.Stepper(count=1)
    screen = text_of(stepper.compose(console, page, s, 80, 24))
    assert len(screen) == 24 and s.room >= stepper.MIN_BODY
    s.press("\x1b[F")
    assert any("the body" in line for line in text_of(stepper.compose(console, page, s, 80, 24)))


def test_the_summary_keeps_its_title_and_column_headings():
    tape = run_target(demo.michael_jordan).tape
    console = offscreen_console(width=80, colour=False)
    summary = SummaryTable(list(tape), title="the steps")
    s = stepper.Stepper(count=1, view="summary")
    stepper.compose(console, summary, s, 80, 12)
    s.press("\x1b[F")
    screen = text_of(stepper.compose(console, summary, s, 80, 12))
    assert "the steps" in screen[0] and "what happened" in " ".join(screen[:4])
    assert any(f"{len(tape)} " in line for line in screen)  # scrolled to the last row


def demo_pages():
    tape = run_target(demo.michael_jordan).tape
    pages = demo.story(tape)
    x_snapshot = next(s for e in tape for s in e.snapshots() if s.name == "x")
    rendered = [demo._intro(x_snapshot)]
    for position, (event, note) in enumerate(pages, start=2):
        rendered.append(render_event(event, position=position, total=len(pages) + 2,
                                     heading=note.heading() if note else None, note=note.body() if note else None))
    return pages, rendered


@pytest.mark.parametrize("width, height", [(80, 24), (120, 40)])
def test_every_demo_page_keeps_its_title_heading_and_formula_on_screen(width, height):
    story, pages = demo_pages()
    console = offscreen_console(width=width, colour=False)
    overflowing = 0
    for number, page in enumerate(pages, start=1):
        s = stepper.Stepper(count=len(pages), index=number - 1)
        sticky = page.sticky_lines(console, console.options.update_width(width))
        assert sticky >= 2, f"page {number}: no header"
        tops = []
        for key in (None, "\x1b[6~", "\x1b[F"):
            if key:
                s.press(key)
            screen = text_of(stepper.compose(console, page, s, width, height))
            assert len(screen) == height and max(len(line) for line in screen) <= width
            tops.append(screen[:sticky])
        overflowing += s.length > s.room
        assert tops[0] == tops[1] == tops[2], f"page {number}: the header moved"
        head = " ".join(" ".join(line.strip("│ ").split()) for line in tops[0])
        if 1 < number <= len(story) + 1:
            event, note = story[number - 2]
            assert f"step {number} of" in head
            words = " ".join((f"rule {event.rule}" if event.phase == "update"
                              else f"formula {event.plain_formula()}").split())
            assert words in head
            if event.phase != "update" and event.bound_formula():
                assert " ".join(event.bound_formula().split()) in head
            assert note is None or note.title in head
    if (width, height) == (80, 24):
        assert overflowing >= 1     # the point: some pages are taller than an 80 × 24 terminal


def test_run_prints_screenfuls_of_the_screens_height():
    console = offscreen_console(width=80, colour=False)
    pages = [tall_page(), "a short page"]
    final = stepper.run(console, pages, ["j", "n", "q"], screen=stepper.PrintedScreen(console, 80, 24))
    lines = console.export_text().splitlines()
    assert final.done and len(lines) == 3 * 24
    assert "body line 2 " in lines[4 + 24] and "a short page" in lines[2 * 24]


# ---- a real terminal ---------------------------------------------------------------------------------

pty = pytest.importorskip("pty")
termios = pytest.importorskip("termios")


class Terminal:
    """``demo --step`` in a pseudo-terminal of a given size: type keys, interrupt it, read what it wrote."""

    def __init__(self, columns, lines, cwd):
        import fcntl
        import struct

        self.master, self.slave = pty.openpty()
        attrs = termios.tcgetattr(self.slave)
        attrs[3] |= termios.ECHO | termios.ICANON
        termios.tcsetattr(self.slave, termios.TCSANOW, attrs)
        fcntl.ioctl(self.slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        self.before = termios.tcgetattr(self.slave)
        env = dict(os.environ, TERM="xterm-256color")
        for name in ("COLUMNS", "LINES", "NO_COLOR"):
            env.pop(name, None)
        self.process = subprocess.Popen([sys.executable, "-m", "tinygrad_edu", "demo", "--step"], cwd=cwd, env=env,
                                        stdin=self.slave, stdout=self.slave, stderr=self.slave,
                                        start_new_session=True)
        self.output = ""

    def read(self, timeout=0.2):
        import select

        ready, _, _ = select.select([self.master], [], [], timeout)
        if ready:
            try:
                self.output += os.read(self.master, 1 << 16).decode("utf-8", errors="replace")
            except OSError:
                pass

    def wait_for(self, text, count=1, timeout=120.0):
        deadline = time.monotonic() + timeout
        while self.output.count(text) < count:
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise AssertionError(f"{text!r} did not appear; the terminal shows:\n{self.output[-1500:]}")
            self.read()
        time.sleep(0.3)          # the key reader is waiting now
        self.read(0.1)

    def type(self, keys):
        os.write(self.master, keys.encode())

    def finish(self, timeout=60.0):
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            self.read()
        if self.process.poll() is None:
            self.process.kill()
            raise AssertionError(f"demo --step did not end:\n{self.output[-1500:]}")
        self.read(0.3)
        self.after = termios.tcgetattr(self.slave)
        os.close(self.master)
        os.close(self.slave)
        return self.process.returncode


@pytest.mark.parametrize("columns, lines", [(80, 24), (120, 40)])
def test_demo_step_redraws_in_place_and_leaves_nothing_in_the_scrollback(tmp_path, columns, lines):
    term = Terminal(columns, lines, tmp_path)
    term.wait_for("1/22")
    for key, seen in (("n", "2/22"), ("\x1b[B", "2/22"), ("\x1b[6~", "2/22"), ("n", "3/22")):
        count = term.output.count(seen)
        term.type(key)
        term.wait_for(seen, count + 1)
    term.type("q")
    assert term.finish() == 0
    out = term.output
    assert out.count(ENTER_ALT) == 1 and out.count(LEAVE_ALT) == 1
    start, end = out.index(ENTER_ALT), out.index(LEAVE_ALT)
    assert "step 2 of 22" in out[start:end] and "1 · The up projection" in out[start:end]
    assert "step" not in out[end:] and out[:start].strip() == ""          # nothing before or after
    assert "\n" not in out[start:end]       # every screenful is drawn over the last (cursor moves), none scrolls
    assert term.after == term.before


def test_ctrl_c_in_demo_step_says_interrupted_and_gives_the_terminal_back(tmp_path):
    term = Terminal(80, 24, tmp_path)
    term.wait_for("1/22")
    term.type("n")
    term.wait_for("2/22")
    os.killpg(term.process.pid, signal.SIGINT)
    assert term.finish() == 130
    out = term.output
    assert out.count(LEAVE_ALT) == 1 and out.index(LEAVE_ALT) > out.index(ENTER_ALT)
    after = out[out.index(LEAVE_ALT):]
    assert "interrupted" in after and "Traceback" not in out
    assert after.rfind("\x1b[?25h") >= 0 or out.rfind("\x1b[?25h") > out.rfind("\x1b[?25l")   # the cursor is back
    assert term.after == term.before
