"""The subcommands of ``tinygrad-edu``: one module each, with ``HELP``, ``add_arguments(parser)`` and
``run(args) -> exit code``.

Every command makes its Rich console with ``console(args)``; with the global ``--export FILE`` option those
consoles record, and ``cli.main`` writes what they printed to FILE (.svg, .html or .txt) at the end.
"""
from __future__ import annotations

import argparse

EXPORT_SUFFIXES = (".svg", ".html", ".txt")
recording = []   # the consoles made for --export in this run, in order


def console(args=None, **kwargs):
    """A Rich console for a command: ``--width`` when the command has it; plain text when not a terminal."""
    from rich.console import Console
    width = getattr(args, "width", None) if args is not None else None
    if width:
        kwargs.setdefault("width", width)
    export = getattr(args, "export", None) if args is not None else None
    if export and not kwargs.get("stderr"):
        kwargs["record"] = True
        made = Console(**kwargs)
        recording.append(made)
        return made
    return Console(**kwargs)


def save_export(path: str, title: str) -> None:
    """Write what the recording consoles printed to ``path`` (its suffix picks the format)."""
    from pathlib import Path
    suffix = Path(path).suffix.lower()
    for made in recording:
        if suffix == ".svg":
            made.save_svg(path, title=title)
        elif suffix == ".html":
            made.save_html(path)
        else:
            made.save_text(path)


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (a bad one is a usage error, exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value
