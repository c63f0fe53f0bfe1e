"""Consoles and exports: where every command prints, and the one file ``--export FILE`` keeps.

`cli.main` gives each run of a command one `Output`, as ``args.output``, and saves it when the command
returns. A command prints through it::

    out = args.output.console()               # the command's console on standard output
    out.print(table)
    err = args.output.console(stderr=True)    # progress and remarks: shown, never exported

``console()`` is the same console however often a command asks for it, so the export holds exactly
what the command printed there, written once. A command whose screen is interactive (``--step``
redraws one page at a time) prints the pages for the file on ``args.output.export_console()``, an
off-screen console of the same width, and that one is saved instead.

`offscreen_console` is a console that prints into a string (for tests and for files), `save_console`
writes what a recording console printed as .svg, .html or .txt.
"""
from __future__ import annotations

import argparse
import io
from pathlib import Path

from . import output_path_problem

__all__ = ["EXPORT_SUFFIXES", "export_file", "add_export_argument", "offscreen_console", "save_console",
           "Output"]

EXPORT_SUFFIXES = (".svg", ".html", ".txt")


def export_file(text: str) -> str:
    """An argparse type: a file name ending in .svg, .html or .txt (anything else is a usage error)."""
    if Path(text).suffix.lower() not in EXPORT_SUFFIXES:
        raise argparse.ArgumentTypeError(f"the file must end in {', '.join(EXPORT_SUFFIXES)}, got {text!r}")
    problem = output_path_problem(text)      # checked before the command runs, not after
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def add_export_argument(parser: argparse.ArgumentParser, flags: tuple[str, ...] = ("--export",)) -> None:
    """The option that keeps what a command printed (``--export``; ``demo`` and ``trace`` also say ``--save``)."""
    parser.add_argument(*flags, dest="export", type=export_file, default=None, metavar="FILE",
                        help="also save what the command prints as FILE (.svg, .html or .txt)")


def offscreen_console(width: int = 100, colour: bool = True):
    """A recording console that prints into a string: for tests, and for files drawn off screen.

    ``colour`` draws as a true-colour terminal would (the styles end up in .svg and .html files);
    without it the text is plain, as when output is piped.
    """
    from rich.console import Console

    return Console(width=width, record=True, file=io.StringIO(), force_terminal=colour,
                   color_system="truecolor" if colour else None, legacy_windows=False, highlight=False,
                   soft_wrap=False)


def save_console(console, path: str | Path, title: str = "tinygrad-edu") -> Path:
    """Write what a recording console printed to ``path``; its suffix picks .svg, .html or .txt."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".svg":
        text = console.export_svg(title=title)
    elif suffix == ".html":
        text = console.export_html()
    elif suffix == ".txt":
        text = console.export_text()
    else:
        raise ValueError(f"save: unknown file type {suffix or '(none)'!r} for {path}; "
                         f"use one of {', '.join(EXPORT_SUFFIXES)}")
    _write_whole(path, text)
    return path


def _write_whole(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``: an interrupted
    write (Ctrl-C, a full disk) never leaves half a file, and never spoils an older one."""
    import os
    import tempfile

    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class Output:
    """What one run of a command prints, and where ``--export`` puts it.

    ``width`` is ``--width`` (None: the terminal's); ``export`` the file to keep (None: keep nothing);
    ``title`` heads an .svg file.
    """

    def __init__(self, width: int | None = None, export: str | None = None, title: str = "tinygrad-edu"):
        self.width, self.export, self.title = width, export, title
        self._screen = None
        self._file = None

    def console(self, stderr: bool = False):
        """The command's console on standard output (recording when exporting), or a fresh one on stderr."""
        from rich.console import Console

        if stderr:
            return Console(width=self.width, stderr=True)
        if self._screen is None:
            self._screen = Console(width=self.width, record=self.export is not None)
        return self._screen

    def export_console(self):
        """An off-screen console whose printout is exported instead of the screen's; None when not exporting."""
        if self.export is None:
            return None
        if self._file is None:
            self._file = offscreen_console(width=self.width or self.console().width)
        return self._file

    def save(self) -> Path | None:
        """Write the export once: the off-screen console if one was used, else the screen's.

        None when nothing is to be kept (no ``--export``, or the command printed nothing on its console).
        """
        kept = self._file or self._screen
        if self.export is None or kept is None:
            return None
        return save_console(kept, self.export, title=self.title)
