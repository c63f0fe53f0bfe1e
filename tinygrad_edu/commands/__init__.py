"""The subcommands of ``tinygrad-edu``: one module each, with ``HELP``, ``add_arguments(parser)`` and
``run(args) -> exit code``.

Every command prints through ``args.output`` (see `output.py`): one console per run, and the file
that ``--export FILE`` keeps (``demo`` and ``trace`` also spell it ``--save FILE``, their
``EXPORT_FLAGS``). Argument types shared by several commands live here.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

# Suffixes of what a command prints or draws (--export, demo/trace --save): never a checkpoint's name.
PICTURE_SUFFIXES = (".svg", ".html", ".txt", ".png", ".jpg", ".jpeg", ".pdf")


def output_path_problem(path: str) -> str | None:
    """Why no file can be written at ``path`` (None when one can).

    Checked while the arguments are read, so a long run never ends in "no such file or directory"."""
    target = Path(path).expanduser()
    folder = target.parent
    if target.is_dir():
        return f"{path} is a folder: give a file name"
    if not folder.exists():
        nearest = next(parent for parent in (folder, *folder.parents) if parent.exists())
        if not nearest.is_dir():
            return f"{nearest} is a file, not a folder"
        return f"the folder {folder} does not exist (make it first)"
    if not folder.is_dir():
        return f"{folder} is not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot write into the folder {folder} (permission denied)"
    if target.exists() and not os.access(target, os.W_OK):
        return f"{path} exists and cannot be overwritten (permission denied)"
    return None


def checkpoint_path(text: str) -> str:
    """An argparse type for ``train --save``: a writable file that is not named like a picture."""
    if Path(text).suffix.lower() in PICTURE_SUFFIXES:
        raise argparse.ArgumentTypeError(
            f"{text}: --save writes a checkpoint (JSON text, e.g. model.json), not a picture; "
            f"to keep what the command prints use --export {text}")
    problem = output_path_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


MIN_WIDTH = 40      # narrower than this, no table or formula can be drawn


def terminal_width(text: str) -> int:
    """An argparse type for ``--width``: a whole number of columns, at least 40."""
    try:
        width = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of columns, got {text!r}") from None
    if width < MIN_WIDTH:
        raise argparse.ArgumentTypeError(f"expected at least {MIN_WIDTH} columns, got {width}")
    return width


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (a bad one is a usage error, exit 2)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value
